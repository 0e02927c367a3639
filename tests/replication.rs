//! Partial replication at the protocol level: office desks get the whole organization in
//! `org:all`; a guide's device gets `org:ref` plus `schedule:D` for the departures they lead,
//! gets a departure's full state when assigned, loses the bucket when unassigned, and may record
//! attendance only on their own departures. Pulls and pushes are raw HTTP (the desk side of this
//! feature is built elsewhere).
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tourdesk_domain::entities::{Booking, CheckIn, Customer, GuideAssignment};
use tourdesk_domain::protocol::{
    ChangeRecord, EntityKind, MutationEnvelope, MutationResult, Op, OutcomeStatus, PullResponse, PushRequest,
    SCHEMA_VERSION, org_bucket, ref_bucket, schedule_bucket,
};
use tourdesk_sync_server::demo_data;
use tourdesk_tests::{Env, push_raw, sign_in};

/// One device: a signed-in staff member with their own client id and mutation counter.
struct Device {
    base_url: String,
    token: String,
    client_id: String,
    next_id: u64,
    cursors: BTreeMap<String, u64>,
}

impl Device {
    async fn new(env: &Env, email: &str) -> Device {
        Device {
            base_url: env.base_url(),
            token: sign_in(env, email).await,
            client_id: uuid::Uuid::new_v4().to_string(),
            next_id: 1,
            cursors: BTreeMap::new(),
        }
    }

    async fn push(&mut self, name: &str, args: Value) -> MutationResult {
        let hlc = format!("{:013}-{:08}-{}", Utc::now().timestamp_millis(), 0, self.client_id);
        let m = MutationEnvelope { id: self.next_id, name: name.into(), args, hlc };
        self.next_id += 1;
        let req = PushRequest { client_id: self.client_id.clone(), schema_version: SCHEMA_VERSION, mutations: vec![m] };
        let mut resp = push_raw(&self.base_url, &self.token, &req).await;
        assert_eq!(resp.results.len(), 1, "{resp:?}");
        resp.results.remove(0)
    }

    async fn applied(&mut self, name: &str, args: Value) {
        let r = self.push(name, args.clone()).await;
        assert_eq!(r.status, OutcomeStatus::Applied, "{name} {args}: {r:?}");
    }

    async fn pull_raw(&self, cursors: &BTreeMap<String, u64>, limit: u32) -> (StatusCode, Value) {
        let body = json!({"client_id": self.client_id, "schema_version": SCHEMA_VERSION, "cursors": cursors,
                          "limit": limit});
        let resp = reqwest::Client::new()
            .post(format!("{}/sync/v1/pull", self.base_url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }

    /// Pulls pages of `limit` until complete, as a desk would: cursors advance per page, removed
    /// buckets are forgotten. Returns the changes per bucket and the buckets removed.
    async fn sync(&mut self, limit: u32) -> (BTreeMap<String, Vec<ChangeRecord>>, Vec<String>) {
        let mut got: BTreeMap<String, Vec<ChangeRecord>> = BTreeMap::new();
        let mut removed = Vec::new();
        for _ in 0..10_000 {
            let (status, body) = self.pull_raw(&self.cursors, limit).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let page: PullResponse = serde_json::from_value(body).unwrap();
            for b in &page.removed_buckets {
                self.cursors.remove(b);
                removed.push(b.clone());
            }
            for p in page.buckets {
                assert!(p.changes.len() <= limit as usize);
                assert!(p.changes.windows(2).all(|w| w[0].seq < w[1].seq), "seqs grow within a bucket");
                if let Some(first) = p.changes.first() {
                    assert!(first.seq > self.cursors.get(&p.bucket).copied().unwrap_or(0), "nothing twice");
                }
                self.cursors.insert(p.bucket.clone(), p.cursor);
                got.entry(p.bucket).or_default().extend(p.changes);
            }
            if page.complete {
                return (got, removed);
            }
        }
        panic!("pull never completed");
    }
}

/// The demo organization's ids the tests look at.
struct Demo {
    org: String,
    guide_id: String,
    /// The two departures the demo guide leads (with bookings in the demo data).
    led: Vec<String>,
    /// A departure with a booking the guide does not lead.
    other: String,
}

async fn demo(env: &Env) -> Demo {
    let pg = env.pg().await;
    let org: String = pg.query_one("SELECT id FROM organizations WHERE slug = 'demo'", &[]).await.unwrap().get(0);
    let guide_id: String = pg.query_one("SELECT id FROM guides", &[]).await.unwrap().get(0);
    let led: Vec<String> = pg
        .query("SELECT departure_id FROM schedule_guide_assignments ORDER BY departure_id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(led.len(), 2, "the demo data assigns the guide to two departures");
    let other: String = pg
        .query_one(
            // The earliest: the morning after the guide's two (later ones are busy afternoons).
            "SELECT b.departure_id FROM bookings b JOIN schedules s ON s.id = b.departure_id
             WHERE b.departure_id NOT IN (SELECT departure_id FROM schedule_guide_assignments)
             ORDER BY s.starts_at LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    Demo { org, guide_id, led, other }
}

fn rows<T: serde::de::DeserializeOwned>(changes: &[ChangeRecord], kind: EntityKind) -> Vec<T> {
    changes
        .iter()
        .filter(|c| c.entity == kind && c.op == Op::Put)
        .map(|c| serde_json::from_value(c.row.clone()).unwrap())
        .collect()
}

fn ids(changes: &[ChangeRecord], kind: EntityKind) -> BTreeSet<String> {
    changes.iter().filter(|c| c.entity == kind).map(|c| c.id.clone()).collect()
}

/// The latest `put` of each row of a kind, as a replica would hold it.
fn latest<T: serde::de::DeserializeOwned>(changes: &[ChangeRecord], kind: EntityKind) -> BTreeMap<String, T> {
    let mut out = BTreeMap::new();
    for c in changes.iter().filter(|c| c.entity == kind) {
        match c.op {
            Op::Put => out.insert(c.id.clone(), serde_json::from_value(c.row.clone()).unwrap()),
            Op::Delete => out.remove(&c.id),
        };
    }
    out
}

async fn bookings_of(env: &Env, departure_id: &str) -> Vec<(String, String)> {
    env.pg()
        .await
        .query("SELECT id, customer_id FROM bookings WHERE departure_id = $1 ORDER BY id", &[&departure_id])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn attendance(kind: &str, booking: &str, departure: &str, participant: u32) -> (String, Value) {
    let name = if kind == "check_in" { "check_in.v1" } else { "mark_no_show.v1" };
    let args = json!({"nonce": uuid::Uuid::new_v4().to_string(), "booking_id": booking, "departure_id": departure,
                      "participant": participant, "at": Utc::now()});
    (name.to_string(), args)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_pull_holds_the_whole_organization() {
    let env = Env::start().await;
    let d = demo(&env).await;
    let mut manager = Device::new(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let (got, removed) = manager.sync(5000).await;
    assert!(removed.is_empty());
    assert_eq!(got.keys().cloned().collect::<Vec<_>>(), [org_bucket(&d.org)], "office desks get org:all only");
    let all = &got[&org_bucket(&d.org)];
    // A booking paid or cancelled after it was made is in the log once per change: its latest.
    let bookings = latest::<Booking>(all, EntityKind::Booking);
    let (seeded_bookings, seeded_customers) = (
        env.scalar("SELECT count(*) FROM bookings", &[]).await,
        env.scalar("SELECT count(*) FROM customers", &[]).await,
    );
    assert!(seeded_bookings >= 4 && seeded_customers >= 4, "the demo data has bookings and customers");
    assert_eq!(i64::try_from(bookings.len()).unwrap(), seeded_bookings, "the demo data's bookings");
    let customers = latest::<Customer>(all, EntityKind::Customer);
    assert_eq!(i64::try_from(customers.len()).unwrap(), seeded_customers);
    assert!(bookings.values().all(|b| customers.contains_key(&b.customer_id)), "every guest's contact is there");
    assert_eq!(ids(all, EntityKind::Tour).len(), 3);
    assert_eq!(ids(all, EntityKind::Guide), BTreeSet::from([d.guide_id.clone()]));
    let assignments: Vec<GuideAssignment> = rows(all, EntityKind::GuideAssignment);
    assert_eq!(
        assignments.iter().map(|a| a.departure_id.clone()).collect::<BTreeSet<_>>(),
        d.led.iter().cloned().collect()
    );
    assert!(ids(all, EntityKind::Departure).contains(&d.other));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guide_pull_holds_reference_data_and_only_the_departures_they_lead() {
    let env = Env::start().await;
    let d = demo(&env).await;
    let mut guide = Device::new(&env, demo_data::DEMO_GUIDE_EMAIL).await;
    let (got, removed) = guide.sync(5000).await;
    assert!(removed.is_empty());
    let expected: BTreeSet<String> =
        [ref_bucket(&d.org)].into_iter().chain(d.led.iter().map(|id| schedule_bucket(id))).collect();
    assert_eq!(got.keys().cloned().collect::<BTreeSet<_>>(), expected);

    // Reference data: the catalogue and the guides, nothing operational.
    let reference = &got[&ref_bucket(&d.org)];
    assert_eq!(ids(reference, EntityKind::Tour).len(), 3);
    assert!(ids(reference, EntityKind::Departure).is_empty(), "departures are no reference data");
    for dep in &d.led {
        assert!(ids(&got[&schedule_bucket(dep)], EntityKind::Departure).contains(dep), "a led departure arrives");
    }
    assert!(got.values().all(|c| !ids(c, EntityKind::Departure).contains(&d.other)), "another's never does");
    assert!(!ids(reference, EntityKind::PricingTier).is_empty());
    assert_eq!(ids(reference, EntityKind::Guide), BTreeSet::from([d.guide_id.clone()]));
    for kind in [EntityKind::Booking, EntityKind::Customer, EntityKind::CheckIn, EntityKind::GuideAssignment] {
        assert!(ids(reference, kind).is_empty(), "{kind:?} in org:ref");
    }

    // Each led departure: exactly its bookings, their guests, its assignment.
    let mut seen_customers = BTreeSet::new();
    for dep in &d.led {
        let changes = &got[&schedule_bucket(dep)];
        let expected = bookings_of(&env, dep).await;
        assert!(!expected.is_empty());
        let bookings = latest::<Booking>(changes, EntityKind::Booking);
        assert_eq!(
            bookings.keys().cloned().collect::<Vec<_>>(),
            expected.iter().map(|b| b.0.clone()).collect::<Vec<_>>()
        );
        assert!(bookings.values().all(|b| &b.departure_id == dep));
        let customers = latest::<Customer>(changes, EntityKind::Customer);
        assert_eq!(
            customers.keys().cloned().collect::<BTreeSet<_>>(),
            expected.iter().map(|b| b.1.clone()).collect::<BTreeSet<_>>(),
            "the guests' contact details, and only theirs"
        );
        assert!(customers.values().all(|c| c.phone.is_some()));
        let assignments = latest::<GuideAssignment>(changes, EntityKind::GuideAssignment);
        assert!(assignments.values().all(|a| &a.departure_id == dep && a.guide_id == d.guide_id));
        seen_customers.extend(customers.into_keys());
    }

    // Nothing of the departure they do not lead, anywhere.
    let all: Vec<&ChangeRecord> = got.values().flatten().collect();
    let (other_booking, other_customer) = bookings_of(&env, &d.other).await.remove(0);
    assert!(all.iter().all(|c| c.id != other_booking && c.id != other_customer));
    assert!(all.iter().all(|c| c.row.get("departure_id").and_then(Value::as_str) != Some(d.other.as_str())
        || c.entity == EntityKind::Departure));
    assert!(!seen_customers.contains(&other_customer));

    // A cursor for a departure of this organization they do not lead is answered as removed;
    // a bucket of another organization or a malformed one is refused.
    let mut cursors = guide.cursors.clone();
    cursors.insert(schedule_bucket(&d.other), 0);
    let (status, body) = guide.pull_raw(&cursors, 100).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: PullResponse = serde_json::from_value(body).unwrap();
    assert_eq!(page.removed_buckets, [schedule_bucket(&d.other)]);
    assert!(page.buckets.iter().all(|b| b.bucket != schedule_bucket(&d.other)));
    for bad in [
        schedule_bucket(&uuid::Uuid::new_v4().to_string()),
        "org:another-org:ref".to_string(),
        "schedule:'; DROP TABLE bookings; --".to_string(),
        org_bucket("another-org"),
    ] {
        let mut cursors = guide.cursors.clone();
        cursors.insert(bad.clone(), 0);
        let (status, body) = guide.pull_raw(&cursors, 100).await;
        assert_eq!((status, body["code"].clone()), (StatusCode::FORBIDDEN, json!("FORBIDDEN")), "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guide_records_attendance_on_their_departures_only() {
    let env = Env::start().await;
    let d = demo(&env).await;
    let mut guide = Device::new(&env, demo_data::DEMO_GUIDE_EMAIL).await;
    guide.sync(5000).await;
    let (booking, _) = bookings_of(&env, &d.led[0]).await.remove(0);

    // Recorded offline and pushed later: applied.
    let (name, args) = attendance("check_in", &booking, &d.led[0], 0);
    guide.applied(&name, args).await;
    let (name, args) = attendance("no_show", &booking, &d.led[0], 1);
    guide.applied(&name, args).await;

    // Not their departure: refused, and nothing written.
    let (other_booking, _) = bookings_of(&env, &d.other).await.remove(0);
    for kind in ["check_in", "no_show"] {
        let (name, args) = attendance(kind, &other_booking, &d.other, 0);
        let r = guide.push(&name, args).await;
        assert_eq!((r.status, r.code.as_deref()), (OutcomeStatus::Rejected, Some("NOT_AUTHORIZED")), "{r:?}");
    }
    // Naming their own departure with another departure's booking does not get around it.
    let (name, args) = attendance("check_in", &other_booking, &d.led[0], 0);
    assert_eq!(guide.push(&name, args).await.status, OutcomeStatus::Rejected);

    // The office sees the facts and the booking's tallies.
    let mut manager = Device::new(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let (got, _) = manager.sync(5000).await;
    let all = &got[&org_bucket(&d.org)];
    let facts: Vec<CheckIn> = rows(all, EntityKind::CheckIn);
    assert_eq!(facts.len(), 2);
    assert!(facts.iter().all(|f| f.booking_id == booking));
    let b = &latest::<Booking>(all, EntityKind::Booking)[&booking];
    assert_eq!((b.checked_in, b.no_shows), (1, 1));
    assert!(latest::<Booking>(all, EntityKind::Booking)[&other_booking].checked_in == 0);

    // And the guide's own next pull brings them back in the departure's bucket.
    let (got, _) = guide.sync(5000).await;
    let changes = &got[&schedule_bucket(&d.led[0])];
    assert_eq!(rows::<CheckIn>(changes, EntityKind::CheckIn).len(), 2);
    assert_eq!(latest::<Booking>(changes, EntityKind::Booking)[&booking].checked_in, 1);
    assert!(got.keys().all(|k| k == &ref_bucket(&d.org) || d.led.iter().any(|l| k == &schedule_bucket(l))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assigning_brings_the_departure_and_unassigning_takes_it_away() {
    let env = Env::start().await;
    let d = demo(&env).await;
    let mut guide = Device::new(&env, demo_data::DEMO_GUIDE_EMAIL).await;
    let mut manager = Device::new(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    guide.sync(5000).await;
    let bucket = schedule_bucket(&d.other);
    assert!(!guide.cursors.contains_key(&bucket));

    manager
        .applied(
            "assign_guide.v1",
            json!({"id": uuid::Uuid::new_v4().to_string(), "departure_id": d.other, "guide_id": d.guide_id}),
        )
        .await;
    let (got, removed) = guide.sync(5000).await;
    assert!(removed.is_empty());
    let changes = &got[&bucket];
    let expected = bookings_of(&env, &d.other).await;
    let bookings = latest::<Booking>(changes, EntityKind::Booking);
    assert_eq!(
        bookings.keys().cloned().collect::<Vec<_>>(),
        expected.iter().map(|b| b.0.clone()).collect::<Vec<_>>(),
        "the departure's bookings written before the assignment arrive with it"
    );
    let customers = latest::<Customer>(changes, EntityKind::Customer);
    assert_eq!(customers.keys().cloned().collect::<BTreeSet<_>>(), expected.iter().map(|b| b.1.clone()).collect());
    let assignments = latest::<GuideAssignment>(changes, EntityKind::GuideAssignment);
    assert!(assignments.values().any(|a| a.guide_id == d.guide_id));
    // A booking never arrives before the guest it names.
    for (i, c) in changes.iter().enumerate().filter(|(_, c)| c.entity == EntityKind::Booking) {
        let customer = c.row["customer_id"].as_str().unwrap();
        assert!(changes[..i].iter().any(|e| e.entity == EntityKind::Customer && e.id == customer));
    }
    // The other buckets only moved by the assignment's own rows (nothing, since it is D's).
    for dep in &d.led {
        assert!(got.get(&schedule_bucket(dep)).is_none_or(|c| c.is_empty()));
    }

    // Now theirs: attendance is accepted.
    let (name, args) = attendance("check_in", &expected[0].0, &d.other, 0);
    guide.applied(&name, args).await;

    manager.applied("unassign_guide.v1", json!({"departure_id": d.other, "guide_id": d.guide_id})).await;
    let (got, removed) = guide.sync(5000).await;
    assert_eq!(removed, std::slice::from_ref(&bucket), "the bucket leaves the device");
    assert!(!got.contains_key(&bucket), "and none of its changes are served");
    assert!(!guide.cursors.contains_key(&bucket));
    let (name, args) = attendance("check_in", &expected[0].0, &d.other, 1);
    let r = guide.push(&name, args).await;
    assert_eq!(r.code.as_deref(), Some("NOT_AUTHORIZED"), "{r:?}");
    // Once forgotten, the bucket is neither served nor listed again.
    let (got, removed) = guide.sync(5000).await;
    assert!(removed.is_empty() && !got.contains_key(&bucket));

    // Assigned again: the departure comes back whole, including the check-in made meanwhile.
    manager
        .applied(
            "assign_guide.v1",
            json!({"id": uuid::Uuid::new_v4().to_string(), "departure_id": d.other, "guide_id": d.guide_id}),
        )
        .await;
    let (got, _) = guide.sync(5000).await;
    let changes = &got[&bucket];
    assert_eq!(latest::<CheckIn>(changes, EntityKind::CheckIn).len(), 1);
    assert_eq!(latest::<Booking>(changes, EntityKind::Booking).len(), expected.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_walks_every_bucket_to_the_end() {
    let env = Env::start().await;
    let d = demo(&env).await;
    // Some churn in a led departure so its bucket spans several pages.
    let mut guide = Device::new(&env, demo_data::DEMO_GUIDE_EMAIL).await;
    let (booking, _) = bookings_of(&env, &d.led[1]).await.remove(0);
    for p in 0..2 {
        let (name, args) = attendance("check_in", &booking, &d.led[1], p);
        guide.applied(&name, args).await;
    }
    for email in [demo_data::DEMO_GUIDE_EMAIL, demo_data::DEMO_MANAGER_EMAIL] {
        let mut whole = Device::new(&env, email).await;
        let (all_at_once, _) = whole.sync(5000).await;
        let mut paged = Device::new(&env, email).await;
        let (in_pages, _) = paged.sync(3).await;
        let key = |m: &BTreeMap<String, Vec<ChangeRecord>>| {
            m.iter()
                .filter(|(_, c)| !c.is_empty())
                .map(|(b, c)| (b.clone(), c.iter().map(|c| (c.seq, c.entity, c.id.clone())).collect::<Vec<_>>()))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(key(&in_pages), key(&all_at_once), "{email}");
        assert_eq!(paged.cursors, whole.cursors, "{email}");
        if email == demo_data::DEMO_GUIDE_EMAIL {
            assert_eq!(in_pages.len(), 3, "org:ref and two departures");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_is_logged_once_per_bucket_that_should_see_it() {
    let env = Env::start().await;
    let d = demo(&env).await;
    let mut manager = Device::new(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let pg = env.pg().await;
    let logged = |id: String| {
        let pg = &pg;
        async move {
            let rows = pg
                .query(
                    "SELECT bucket, count(*) FROM sync_changes WHERE row_id = $1 GROUP BY bucket ORDER BY bucket",
                    &[&id],
                )
                .await
                .unwrap();
            rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1))).collect::<Vec<_>>()
        }
    };

    let customer = uuid::Uuid::new_v4().to_string();
    manager
        .applied(
            "create_customer.v1",
            json!({"id": customer, "email": format!("{customer}@example.com"), "first_name": "Grace",
                   "last_name": "Hopper", "hlc": format!("{:013}-{:08}-t", Utc::now().timestamp_millis(), 0)}),
        )
        .await;
    assert_eq!(logged(customer.clone()).await, [(org_bucket(&d.org), 1)], "no booking yet: the office only");

    let tier: String = pg
        .query_one(
            "SELECT p.id FROM pricing_tiers p JOIN schedules s ON s.tour_id = p.tour_id WHERE s.id = $1
             ORDER BY p.sort_order LIMIT 1",
            &[&d.led[0]],
        )
        .await
        .unwrap()
        .get(0);
    let tour: String = pg.query_one("SELECT tour_id FROM schedules WHERE id = $1", &[&d.led[0]]).await.unwrap().get(0);
    let booking = uuid::Uuid::new_v4().to_string();
    let seq_before: i64 = pg.query_one("SELECT max(seq) FROM sync_changes", &[]).await.unwrap().get(0);
    manager
        .applied(
            "create_booking.v1",
            json!({"id": booking, "tour_id": tour, "departure_id": d.led[0], "customer_id": customer,
                   "lines": [{"tier_id": tier, "quantity": 1}], "reference_year": Utc::now().year(),
                   "reference_entropy": uuid::Uuid::new_v4().as_u64_pair().0}),
        )
        .await;
    let mut both = vec![(org_bucket(&d.org), 1), (schedule_bucket(&d.led[0]), 1)];
    both.sort();
    assert_eq!(logged(booking.clone()).await, both, "one change per relevant bucket");
    // The guest follows their first booking into the departure's bucket, and so does the
    // departure's new seat count: a departure is its own schedule:D, not reference data.
    assert_eq!(logged(customer.clone()).await, both);
    let dep_rows = pg
        .query(
            "SELECT bucket FROM sync_changes WHERE row_id = $1 AND seq > $2 ORDER BY bucket",
            &[&d.led[0], &seq_before],
        )
        .await
        .unwrap();
    let mut expected = vec![org_bucket(&d.org), schedule_bucket(&d.led[0])];
    expected.sort();
    assert_eq!(dep_rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>(), expected);

    // A later change of the customer goes to each of their departures once (the owner edits:
    // managers may not change customers).
    let seq_before: i64 = pg.query_one("SELECT max(seq) FROM sync_changes", &[]).await.unwrap().get(0);
    let mut owner = Device::new(&env, demo_data::DEMO_OWNER_EMAIL).await;
    owner
        .applied(
            "set_customer_field.v1",
            json!({"customer_id": customer, "set": {"field": "phone", "value": "+351 910 000 001"},
                   "hlc": format!("{:013}-{:08}-t", Utc::now().timestamp_millis() + 1, 0)}),
        )
        .await;
    let after = pg
        .query(
            "SELECT bucket FROM sync_changes WHERE row_id = $1 AND seq > $2 ORDER BY bucket",
            &[&customer, &seq_before],
        )
        .await
        .unwrap();
    assert_eq!(
        after.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>(),
        both.iter().map(|b| b.0.clone()).collect::<Vec<_>>()
    );

    // Sequence numbers stay unique across the organization's log, so no bucket cursor can skip.
    let dupes: i64 = pg
        .query_one(
            "SELECT count(*) FROM (SELECT seq FROM sync_changes GROUP BY organization_id, seq HAVING count(*) > 1) d",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(dupes, 0);
}

/// A generated departure's id is no UUID (`v1@2030-01-01T09:00:00`); a guide's device that held
/// its bucket and no longer receives it is told to drop it, not refused (which would stop every
/// pull of that device for good).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_departures_bucket_is_removed_not_refused() {
    let env = Env::start().await;
    let d = demo(&env).await;
    let generated: String = env
        .pg()
        .await
        .query_one(
            "INSERT INTO schedules (id, organization_id, tour_id, variant_id, local_date, local_time, timezone,
                                    starts_at, ends_at, capacity, booked_count, status)
             SELECT variant_id || '@2030-01-01T09:00:00', organization_id, tour_id, variant_id, DATE '2030-01-01',
                    TIME '09:00', timezone, TIMESTAMPTZ '2030-01-01 09:00Z', TIMESTAMPTZ '2030-01-01 11:00Z', 10, 0,
                    'open'
             FROM schedules WHERE id = $1 RETURNING id",
            &[&d.other],
        )
        .await
        .unwrap()
        .get(0);
    let mut guide = Device::new(&env, demo_data::DEMO_GUIDE_EMAIL).await;
    guide.sync(5000).await;
    let mut cursors = guide.cursors.clone();
    cursors.insert(schedule_bucket(&generated), 7);
    let (status, body) = guide.pull_raw(&cursors, 100).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: PullResponse = serde_json::from_value(body).unwrap();
    assert_eq!(page.removed_buckets, [schedule_bucket(&generated)]);
}

//! The sync engine's promises, with real desk stores on SQLite files and the real server on a
//! throwaway PostgreSQL: offline desks never sell the same last seat (the loser's booking
//! leaves its lists and waits in the conflict inbox), a guide's device holds only the
//! departures the guide leads and loses one that is taken away while it is offline, and
//! concurrent edits of one customer converge everywhere.
#![allow(clippy::unwrap_used)]

use chrono::{Datelike, Utc};
use serde_json::json;
use tourdesk_domain::hlc::Hlc;
use tourdesk_domain::mutation::{CustomerField, EditCustomerNotesV1, Mutation, SetCustomerFieldV1};
use tourdesk_local_store::{Store, SyncClient};
use tourdesk_sync_server::demo_data;
use tourdesk_tests::Env;

fn m(name: &str, args: serde_json::Value) -> Mutation {
    Mutation::decode(name, &args).unwrap()
}

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn stamp(node: &str, offset_ms: i64) -> Hlc {
    Hlc::new(u64::try_from(Utc::now().timestamp_millis() + offset_ms).unwrap(), 0, node)
}

/// A customer and a booking of `pax` on `departure`, queued on `desk`; returns the booking id.
fn book(desk: &Store, node: &str, tour_id: &str, departure_id: &str, tier_id: &str, pax: u32) -> String {
    let customer = id();
    desk.mutate(&m(
        "create_customer.v1",
        json!({"id": customer, "email": format!("{customer}@example.com"), "first_name": "Walk", "last_name": node,
               "hlc": stamp(node, 0).to_string()}),
    ))
    .unwrap();
    let booking = id();
    desk.mutate(&m(
        "create_booking.v1",
        json!({"id": booking, "tour_id": tour_id, "departure_id": departure_id, "customer_id": customer,
               "lines": [{"tier_id": tier_id, "quantity": pax}], "reference_year": Utc::now().year(),
               "reference_entropy": uuid::Uuid::new_v4().as_u64_pair().0}),
    ))
    .unwrap();
    booking
}

async fn synced(env: &Env, email: &str, name: &str) -> (Store, SyncClient) {
    let desk = env.desk(name);
    let client = env.client(email);
    client.sync_once(&desk).await.unwrap();
    (desk, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_offline_desks_sell_the_last_seats_once_and_the_loser_sees_why() {
    let mut env = Env::start().await;
    let (a, client_a) = synced(&env, demo_data::DEMO_OWNER_EMAIL, "a").await;
    let (b, client_b) = synced(&env, demo_data::DEMO_MANAGER_EMAIL, "b").await;
    // A departure with two seats left, known to both desks.
    let pg = env.pg().await;
    let row = pg
        .query_one(
            "SELECT s.id, s.tour_id, s.booked_count, p.id FROM schedules s JOIN pricing_tiers p ON p.tour_id = s.tour_id
             WHERE s.status = 'open' AND s.starts_at > now() + interval '1 day' ORDER BY s.starts_at, p.sort_order
             LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (dep, tour, booked, tier): (String, String, i32, String) = (row.get(0), row.get(1), row.get(2), row.get(3));
    let other: String = pg
        .query_one(
            "SELECT id FROM schedules WHERE tour_id = $1 AND id <> $2 AND status = 'open' AND booked_count + 2 <= capacity
             ORDER BY starts_at LIMIT 1",
            &[&tour, &dep],
        )
        .await
        .unwrap()
        .get(0);
    a.mutate(&m("set_departure_capacity.v1", json!({"departure_id": dep, "capacity": booked + 2}))).unwrap();
    client_a.sync_once(&a).await.unwrap();
    client_b.sync_once(&b).await.unwrap();
    assert_eq!(b.departure(&dep).unwrap().unwrap().seats_left, 2);

    // The network goes; both desks sell the same two seats.
    env.stop_server().await;
    let won = book(&a, "a", &tour, &dep, &tier, 2);
    let lost = book(&b, "b", &tour, &dep, &tier, 2);
    for (desk, booking) in [(&a, &won), (&b, &lost)] {
        let list = desk.bookings_of_departure(&dep).unwrap();
        let mine = list.iter().find(|x| &x.id == booking).expect("the offline booking is listed");
        assert!(mine.pending, "shown as pending sync");
        assert_eq!(desk.departure(&dep).unwrap().unwrap().seats_left, 0);
    }

    env.restart_server().await;
    client_a.sync_once(&a).await.unwrap();
    client_b.sync_once(&b).await.unwrap();
    client_a.sync_once(&a).await.unwrap();

    let booked_after: i32 =
        pg.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&dep]).await.unwrap().get(0);
    assert_eq!(booked_after, booked + 2, "exactly capacity was sold");
    let server_bookings: i64 = pg
        .query_one("SELECT count(*) FROM bookings WHERE id = ANY($1)", &[&vec![won.clone(), lost.clone()]])
        .await
        .unwrap()
        .get(0);
    assert_eq!(server_bookings, 1);
    // Both desks agree with the server, and the loser's booking left its lists for the inbox.
    for desk in [&a, &b] {
        let ids: Vec<String> = desk.bookings_of_departure(&dep).unwrap().into_iter().map(|x| x.id).collect();
        assert!(ids.contains(&won) && !ids.contains(&lost), "{ids:?}");
        assert_eq!(desk.departure(&dep).unwrap().unwrap().seats_left, 0);
    }
    let inbox = b.rejected_bookings().unwrap();
    assert_eq!(inbox.len(), 1);
    let r = &inbox[0];
    assert_eq!((r.code.as_deref(), r.pax, r.departure_id.as_str()), (Some("CAPACITY_EXCEEDED"), 2, dep.as_str()));
    assert!(r.customer_name.contains('b'), "the inbox names the customer: {}", r.customer_name);
    assert!(a.rejected_bookings().unwrap().is_empty());

    // One click: the same customer on another departure.
    b.retry_booking_on(r.mutation_id, &other).unwrap();
    client_b.sync_once(&b).await.unwrap();
    assert!(b.rejected_bookings().unwrap().is_empty());
    let moved = b.bookings_of_departure(&other).unwrap();
    assert!(moved.iter().any(|x| x.pax == 2 && !x.pending), "{moved:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guide_holds_only_their_departures_and_loses_one_taken_away_offline() {
    let env = Env::start().await;
    let pg = env.pg().await;
    let rows = pg
        .query(
            "SELECT a.departure_id, a.guide_id FROM schedule_guide_assignments a
             JOIN guides g ON g.id = a.guide_id JOIN staff_users u ON u.id = g.user_id
             WHERE u.email = $1 AND a.status <> 'declined' ORDER BY a.departure_id",
            &[&demo_data::DEMO_GUIDE_EMAIL],
        )
        .await
        .unwrap();
    assert!(rows.len() >= 2, "the demo guide leads at least two departures");
    let (kept, guide_id): (String, String) = (rows[0].get(0), rows[0].get(1));
    let taken: String = rows[1].get(0);
    let booked_elsewhere: String = pg
        .query_one(
            "SELECT b.departure_id FROM bookings b WHERE NOT EXISTS (
                 SELECT 1 FROM schedule_guide_assignments a WHERE a.departure_id = b.departure_id) LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);

    let (guide, guide_client) = synced(&env, demo_data::DEMO_GUIDE_EMAIL, "guide").await;
    assert!(!guide.tours().unwrap().is_empty(), "reference data arrives");
    let manifest = guide.manifest(&kept).unwrap().expect("the guide's own departure is on the device");
    assert!(!manifest.bookings.is_empty(), "with its bookings and guests");
    assert!(guide.manifest(&taken).unwrap().is_some());
    assert!(guide.bookings_of_departure(&booked_elsewhere).unwrap().is_empty(), "nothing of other departures");

    // While the guide is offline, a manager takes one departure away; the guide checks a guest in.
    let (manager, manager_client) = synced(&env, demo_data::DEMO_MANAGER_EMAIL, "office").await;
    manager.mutate(&m("unassign_guide.v1", json!({"departure_id": taken, "guide_id": guide_id}))).unwrap();
    manager_client.sync_once(&manager).await.unwrap();
    assert!(manager.rejections().unwrap().is_empty(), "{:?}", manager.rejections().unwrap());
    let first = &manifest.bookings[0];
    guide
        .mutate(&m(
            "check_in.v1",
            json!({"nonce": id(), "booking_id": first.booking_id, "departure_id": kept, "participant": 0,
                   "at": Utc::now()}),
        ))
        .unwrap();
    assert!(guide.manifest(&kept).unwrap().unwrap().bookings[0].participants[0].attendance_pending);

    guide_client.sync_once(&guide).await.unwrap();
    assert!(guide.manifest(&taken).unwrap().is_none() || guide.bookings_of_departure(&taken).unwrap().is_empty());
    assert!(guide.bookings_of_departure(&taken).unwrap().is_empty(), "the taken departure's guests left the device");
    let kept_after = guide.manifest(&kept).unwrap().unwrap();
    assert!(!kept_after.bookings[0].participants[0].attendance_pending, "the check-in was confirmed");
    let checked: i64 = pg
        .query_one("SELECT count(*) FROM check_ins WHERE booking_id = $1 AND kind = 'checked_in'", &[&first.booking_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(checked, 1);
    assert!(guide.rejections().unwrap().is_empty(), "{:?}", guide.rejections().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_of_one_customer_converge_on_every_device() {
    let mut env = Env::start().await;
    let (a, client_a) = synced(&env, demo_data::DEMO_OWNER_EMAIL, "a").await;
    // Managers may not edit customers (the permission table): two owner desks, e.g. office and laptop.
    let (b, client_b) = synced(&env, demo_data::DEMO_OWNER_EMAIL, "b").await;
    let customer: String = env.pg().await.query_one("SELECT id FROM customers LIMIT 1", &[]).await.unwrap().get(0);
    let version = a.customer_detail(&customer).unwrap().unwrap().customer.notes_version;

    env.stop_server().await;
    // B's phone edit is stamped later than A's, whatever order they arrive in; both edit the
    // notes from the same version.
    let set = |desk: &Store, node: &str, phone: &str, offset: i64| {
        desk.mutate(&Mutation::SetCustomerFieldV1(SetCustomerFieldV1 {
            customer_id: customer.clone(),
            set: CustomerField::Phone(Some(phone.into())),
            hlc: stamp(node, offset),
            default_region: None,
        }))
        .unwrap();
    };
    set(&b, "desk-b", "+351912000002", 500);
    set(&a, "desk-a", "+351912000001", 0);
    for (desk, text) in [(&a, "Prefers mornings"), (&b, "Vegetarian")] {
        desk.mutate(&Mutation::EditCustomerNotesV1(EditCustomerNotesV1 {
            customer_id: customer.clone(),
            base_version: version,
            text: text.into(),
        }))
        .unwrap();
    }
    env.restart_server().await;
    // B arrives first, A second: A's older stamp must not win.
    for _ in 0..2 {
        client_b.sync_once(&b).await.unwrap();
        client_a.sync_once(&a).await.unwrap();
    }
    let server_phone: Option<String> =
        env.pg().await.query_one("SELECT phone FROM customers WHERE id = $1", &[&customer]).await.unwrap().get(0);
    assert_eq!(server_phone.as_deref(), Some("+351912000002"));
    let (ca, cb) = (a.customer_detail(&customer).unwrap().unwrap(), b.customer_detail(&customer).unwrap().unwrap());
    assert_eq!(ca.customer, cb.customer, "both devices hold the same customer");
    assert_eq!(ca.customer.phone.as_deref(), Some("+351912000002"));
    assert!(!ca.pending && !cb.pending);
    // Neither note was lost: one is the text, the other waits as a conflict for a person.
    let mut texts: Vec<String> = ca.customer.notes_conflicts.iter().map(|c| c.text.clone()).collect();
    texts.push(ca.customer.notes.clone());
    texts.sort();
    assert_eq!(texts, vec!["Prefers mornings".to_string(), "Vegetarian".to_string()]);
}

//! Bookings, customers, attendance and partial replication on a real SQLite file.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use rusqlite::params;
use serde_json::{Value, json};
use tourdesk_domain::entities::{Booking, CheckIn, CheckInKind, Customer, Guide, GuideAssignment, Participant};
use tourdesk_domain::guides::{AssignmentStatus, WeeklyAvailability};
use tourdesk_domain::money::{Currency, Money};
use tourdesk_domain::mutation::{Mutation, Rejection};
use tourdesk_domain::payment::PaymentIssue;
use tourdesk_domain::protocol::{
    BucketPage, ChangeRecord, EntityKind, MutationResult, Op, OutcomeStatus, PullResponse,
};
use tourdesk_domain::reference::ReferenceNumber;
use tourdesk_domain::status::{BookingStatus, DepartureStatus, PaymentStatus};
use tourdesk_domain::{Departure, PricingTier, Tour, fixtures};

use super::test_support::{departure_at, session, signed_in};
use super::*;
use crate::rows;

mod cancel;
mod gift_cards;
mod list_indexes;
mod moves;
mod one_off;
mod timeline;
mod waitlist;

const ORG: &str = "org-1";
const ALL: &str = "org:org-1:all";
const TOUR: &str = "t-1";
const ADULT: &str = "tier-adult";
const D1: &str = "d-1";
const D2: &str = "d-2";
const ANA: &str = "00000000-0000-4000-8000-0000000c0001";
const BO: &str = "00000000-0000-4000-8000-0000000c0002";
const B1: &str = "00000000-0000-4000-8000-0000000b0001";
const B2: &str = "00000000-0000-4000-8000-0000000b0002";
const B3: &str = "00000000-0000-4000-8000-0000000b0003";
const NEW_BOOKING: &str = "00000000-0000-4000-8000-0000000b0009";

fn usd(a: i64) -> Money {
    Money::new(a, Currency::USD)
}

fn store(dir: &tempfile::TempDir, role: Role) -> Store {
    signed_in(dir, role, if role == Role::Guide { "u-guide" } else { "u-staff" })
}

fn tour() -> Tour {
    Tour { default_capacity: 4, ..fixtures::tour() }
}

fn adult() -> PricingTier {
    PricingTier { id: ADULT.into(), min_age: None, ..fixtures::adult_tier() }
}

/// Thirty days ahead (plus `days`), so the real clock the store runs mutations with is before it.
fn departure(id: &str, days: i64, capacity: u32, booked: u32) -> Departure {
    let starts: DateTime<Utc> = Utc::now() + Duration::days(30 + days);
    departure_at(id, starts.with_nanosecond(0).unwrap(), capacity, booked)
}

fn customer(id: &str, first: &str, last: &str, email: &str, phone: &str) -> Customer {
    let at = Utc::now().with_nanosecond(0).unwrap();
    Customer {
        id: id.into(),
        email: Some(email.into()),
        phone: Some(phone.into()),
        first_name: first.into(),
        last_name: last.into(),
        preferred_language: "en".into(),
        preferred_currency: Currency::USD,
        field_hlcs: Default::default(),
        tags: ["vip".to_string()].into(),
        notes_version: 2,
        notes_conflicts: vec![tourdesk_domain::entities::NotesConflict {
            base_version: 1,
            text: "Prefers evenings".into(),
            author_id: "u-2".into(),
            at,
        }],
        created_at: at,
        updated_at: at,
        ..fixtures::customer()
    }
}

fn ana() -> Customer {
    customer(ANA, "Ana", "Silva", "ana.silva@example.com", "+351912345678")
}

fn bo() -> Customer {
    customer(BO, "Bo", "Lind", "bo@lind.se", "+46701234567")
}

/// A confirmed, paid booking of `pax` adults (the first two named) made just now.
fn booking(id: &str, departure_id: &str, customer_id: &str, pax: u32, entropy: u64) -> Booking {
    let at = Utc::now().with_nanosecond(0).unwrap();
    let mut b = fixtures::booking(id, pax, BookingStatus::Confirmed, PaymentStatus::Paid, 5000 * i64::from(pax));
    b.pricing.line_items[0].pricing_tier_id = ADULT.into();
    let guest = |first: &str, age| Participant {
        pricing_tier_id: ADULT.into(),
        first_name: first.into(),
        last_name: "Silva".into(),
        age,
    };
    Booking {
        reference_number: ReferenceNumber::generate(at.year(), entropy).unwrap(),
        customer_id: customer_id.into(),
        departure_id: departure_id.into(),
        participants: [guest("Ana", None), guest("Rui", Some(40))].into_iter().take(pax as usize).collect(),
        special_requests: Some("Wheelchair".into()),
        created_at: at,
        confirmed_at: Some(at),
        updated_at: at,
        ..b
    }
}

fn check_in(id: &str, booking_id: &str, participant: u32) -> CheckIn {
    CheckIn {
        id: id.into(),
        organization_id: ORG.into(),
        booking_id: booking_id.into(),
        departure_id: D1.into(),
        participant,
        kind: CheckInKind::CheckedIn,
        at: Utc::now().with_nanosecond(0).unwrap(),
        recorded_by: "u-guide".into(),
    }
}

/// Gil, the signed-in guide ("u-guide"), on UTC and free at any hour.
fn gil() -> Guide {
    Guide {
        last_name: "Guide".into(),
        phone: "+15550000000".into(),
        languages: vec!["en".into()],
        timezone: "UTC".into(),
        weekly_availability: WeeklyAvailability::default(),
        ..fixtures::guide()
    }
}

/// Gil's confirmed assignment to lead D1, made yesterday.
fn gil_on_d1() -> GuideAssignment {
    GuideAssignment {
        id: "a-1".into(),
        organization_id: ORG.into(),
        departure_id: D1.into(),
        guide_id: "g-1".into(),
        status: AssignmentStatus::Confirmed,
        assigned_at: Utc::now().with_nanosecond(0).unwrap() - Duration::days(1),
        confirmed_at: None,
        notes: None,
        role: Default::default(),
        override_reason: None,
    }
}

fn put<T: serde::Serialize>(kind: EntityKind, row: &T) -> (EntityKind, Op, Value) {
    (kind, Op::Put, serde_json::to_value(row).unwrap())
}

fn bucket(name: &str, seq: u64, changes: Vec<(EntityKind, Op, Value)>) -> BucketPage {
    let changes: Vec<ChangeRecord> = changes
        .into_iter()
        .enumerate()
        .map(|(i, (entity, op, row))| ChangeRecord {
            seq: seq + i as u64,
            entity,
            id: row["id"].as_str().unwrap().into(),
            op,
            row,
        })
        .collect();
    let cursor = changes.last().map_or(seq, |c| c.seq);
    BucketPage { bucket: name.into(), changes, cursor, head: cursor }
}

fn pull(buckets: Vec<BucketPage>, last: u64, results: Vec<MutationResult>) -> PullResponse {
    PullResponse { buckets, complete: true, last_mutation_id: last, results, removed_buckets: vec![] }
}

/// Tour, tier, two departures (D1 with `seats` seats and none sold, D2 roomy) and two customers.
fn seed(s: &Store, seats: u32) {
    s.apply_pull(&pull(
        vec![bucket(
            ALL,
            1,
            vec![
                put(EntityKind::Tour, &tour()),
                put(EntityKind::PricingTier, &adult()),
                put(EntityKind::Departure, &departure(D1, 0, seats, 0)),
                put(EntityKind::Departure, &departure(D2, 1, 10, 0)),
                put(EntityKind::Customer, &ana()),
                put(EntityKind::Customer, &bo()),
            ],
        )],
        0,
        vec![],
    ))
    .unwrap();
}

fn create_booking(id: &str, departure_id: &str, pax: u32) -> Mutation {
    Mutation::decode(
        "create_booking.v1",
        &json!({"id": id, "tour_id": TOUR, "departure_id": departure_id, "customer_id": ANA,
                "lines": [{"tier_id": ADULT, "quantity": pax,
                           "participants": [{"first_name": "Ana", "last_name": "Silva"}]}],
                "reference_year": Utc::now().year(), "reference_entropy": 7,
                "expected_total": {"amount": 5000 * i64::from(pax), "currency": "USD"}}),
    )
    .unwrap()
}

fn rejected(id: u64, code: &str, detail: &str) -> MutationResult {
    MutationResult { id, status: OutcomeStatus::Rejected, code: Some(code.into()), detail: Some(detail.into()) }
}

#[test]
fn a_pull_page_brings_bookings_customers_and_check_ins() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    seed(&s, 8);
    let b = booking(B1, D1, ANA, 2, 1);
    s.apply_pull(&pull(
        vec![bucket(ALL, 10, vec![put(EntityKind::Booking, &b), put(EntityKind::CheckIn, &check_in("ci-1", B1, 1))])],
        0,
        vec![],
    ))
    .unwrap();

    // A row reads back exactly as the server sent it.
    let conn = s.conn();
    assert_eq!(rows::get(&conn, ORG, EntityKind::Booking, B1).unwrap(), Some(serde_json::to_value(&b).unwrap()));
    assert_eq!(rows::customer(&conn, ORG, ANA).unwrap(), Some(ana()));
    drop(conn);

    let list = s.bookings_of_departure(D1).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].customer_name.as_str(), list[0].pax, list[0].pending), ("Ana Silva", 2, false));
    assert_eq!((list[0].status, list[0].total), (BookingStatus::Confirmed, usd(10_000)));

    let m = s.manifest(D1).unwrap().unwrap();
    assert_eq!((m.tour_name.as_str(), m.meeting_point.as_str()), ("Old Town Walk", "Fountain"));
    let seats = &m.bookings[0].participants;
    assert_eq!(seats.len(), 2);
    assert_eq!((seats[0].attendance, seats[1].attendance), (None, Some(CheckInKind::CheckedIn)));
    assert_eq!(seats[1].first_name, "Rui");

    let detail = s.customer_detail(ANA).unwrap().unwrap();
    assert_eq!(detail.bookings.len(), 1);
    assert_eq!(detail.customer.notes_conflicts[0].text, "Prefers evenings", "both versions of the notes are shown");
}

#[test]
fn a_removed_bucket_deletes_exactly_its_rows_and_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Guide);
    let reference = bucket(
        "org:org-1:ref",
        1,
        vec![
            put(EntityKind::Tour, &tour()),
            put(EntityKind::Departure, &departure(D1, 0, 8, 2)),
            put(EntityKind::Departure, &departure(D2, 1, 8, 1)),
        ],
    );
    // Ana is booked on both departures, so both schedule buckets carry her.
    let d1 = bucket(
        "schedule:d-1",
        4,
        vec![
            put(EntityKind::Customer, &ana()),
            put(EntityKind::Customer, &bo()),
            put(EntityKind::Booking, &booking(B1, D1, ANA, 1, 1)),
            put(EntityKind::Booking, &booking("b-bo", D1, BO, 1, 3)),
            put(EntityKind::CheckIn, &check_in("ci-1", B1, 0)),
        ],
    );
    let d2 = bucket(
        "schedule:d-2",
        9,
        vec![put(EntityKind::Customer, &ana()), put(EntityKind::Booking, &booking(B2, D2, ANA, 1, 2))],
    );
    s.apply_pull(&pull(vec![reference, d1, d2], 0, vec![])).unwrap();
    assert_eq!(s.cursors().unwrap().len(), 3);

    let mut gone = pull(vec![], 0, vec![]);
    gone.removed_buckets = vec!["schedule:d-1".into()];
    s.apply_pull(&gone).unwrap();

    assert!(s.bookings_of_departure(D1).unwrap().is_empty());
    assert_eq!(s.bookings_of_departure(D2).unwrap().len(), 1);
    assert!(s.customer_detail(ANA).unwrap().is_some(), "still held by schedule:d-2");
    assert!(s.customer_detail(BO).unwrap().is_none());
    assert!(s.search_customers("bo", 10).unwrap().is_empty(), "the search index forgets her too");
    let conn = s.conn();
    assert!(rows::check_ins_of_booking(&conn, ORG, B1).unwrap().is_empty());
    drop(conn);
    assert!(s.departure(D1).unwrap().is_some(), "reference data is another bucket's");
    let cursors = s.cursors().unwrap();
    assert_eq!(cursors.keys().map(String::as_str).collect::<Vec<_>>(), ["org:org-1:ref", "schedule:d-2"]);

    let mut gone = pull(vec![], 0, vec![]);
    gone.removed_buckets = vec!["schedule:d-2".into()];
    s.apply_pull(&gone).unwrap();
    assert!(s.customer_detail(ANA).unwrap().is_none());
    assert!(s.search_customers("ana", 10).unwrap().is_empty());
}

#[test]
fn an_offline_booking_is_pending_and_a_refusal_moves_it_to_the_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    seed(&s, 3);
    s.mutate(&create_booking(NEW_BOOKING, D1, 2)).unwrap();
    let list = s.bookings_of_departure(D1).unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].pending && list[0].pax == 2 && list[0].customer_name == "Ana Silva");
    assert_eq!(s.departure(D1).unwrap().unwrap().seats_left, 1);

    // Meanwhile another desk sold two seats; the server refuses this one.
    s.apply_pull(&pull(
        vec![bucket(ALL, 20, vec![put(EntityKind::Departure, &departure(D1, 0, 3, 2))])],
        1,
        vec![rejected(1, "CAPACITY_EXCEEDED", "only 1 seats left, 2 requested")],
    ))
    .unwrap();
    assert!(s.bookings_of_departure(D1).unwrap().is_empty(), "the refused booking left the list");
    assert_eq!(s.departure(D1).unwrap().unwrap().seats_left, 1, "the server's count, not ours on top");
    assert_eq!(s.pending_count().unwrap(), 0);

    let inbox = s.rejected_bookings().unwrap();
    assert_eq!(inbox.len(), 1);
    let r = &inbox[0];
    assert_eq!((r.mutation_id, r.customer_name.as_str(), r.pax), (1, "Ana Silva", 2));
    assert_eq!((r.code.as_deref(), r.departure_id.as_str()), (Some("CAPACITY_EXCEEDED"), D1));
    assert_eq!(r.detail.as_deref(), Some("only 1 seats left, 2 requested"));
    assert_eq!(r.departure.as_ref().map(|d| d.seats_left), Some(1));
    assert_eq!(r.tour_name.as_deref(), Some("Old Town Walk"));
}

/// A desk whose three offline bookings on D1 were all refused as full.
fn three_refusals(dir: &tempfile::TempDir, role: Role) -> Store {
    let s = store(dir, role);
    seed(&s, 6);
    for (i, id) in [B1, B2, NEW_BOOKING].into_iter().enumerate() {
        assert_eq!(s.mutate(&create_booking(id, D1, 2)).unwrap(), i as u64 + 1);
    }
    let refusals = (1..=3).map(|i| rejected(i, "CAPACITY_EXCEEDED", "full")).collect();
    s.apply_pull(&pull(vec![bucket(ALL, 30, vec![put(EntityKind::Departure, &departure(D1, 0, 6, 6))])], 3, refusals))
        .unwrap();
    assert_eq!(s.rejected_bookings().unwrap().len(), 3);
    s
}

#[test]
fn inbox_actions_enqueue_the_right_mutations() {
    let dir = tempfile::tempdir().unwrap();
    let s = three_refusals(&dir, Role::Owner);

    assert_eq!(s.retry_booking_on(1, D2).unwrap(), 4);
    assert_eq!(s.overbook_booking(2, "regulars, the guide agreed").unwrap(), 5);
    assert_eq!(s.waitlist_booking(3).unwrap(), 6);

    let out = s.outbox(10).unwrap();
    assert_eq!(
        out.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        ["create_booking.v1", "create_booking.v1", "add_to_waitlist.v1"]
    );
    let (retry, over, wait) = (&out[0].args, &out[1].args, &out[2].args);
    assert_eq!(retry["departure_id"], D2);
    assert!(retry["id"] != B1 && retry.get("overbook").is_none());
    assert_eq!(retry["reference_entropy"], 7, "the customer keeps the reference they were given");
    assert_eq!(
        (over["departure_id"].as_str(), over["overbook"]["reason"].as_str()),
        (Some(D1), Some("regulars, the guide agreed"))
    );
    assert!(over["id"] != B2);
    assert_eq!((wait["departure_id"].as_str(), wait["customer_id"].as_str()), (Some(D1), Some(ANA)));
    assert_eq!(wait["lines"], json!([{"tier_id": ADULT, "quantity": 2}]));

    assert!(s.rejected_bookings().unwrap().is_empty(), "each action dismissed its refusal");
    // The retry and the overbooking show at once as pending bookings.
    assert_eq!(s.bookings_of_departure(D2).unwrap().len(), 1);
    assert!(s.bookings_of_departure(D1).unwrap().iter().all(|b| b.pending));
    assert!(
        matches!(s.waitlist_booking(3), Err(StoreError::Rejected(Rejection::NotFound { .. }))),
        "already dealt with"
    );
}

#[test]
fn overbooking_from_the_inbox_needs_the_permission() {
    let dir = tempfile::tempdir().unwrap();
    let s = three_refusals(&dir, Role::Admin);
    let err = s.overbook_booking(1, "please").unwrap_err();
    assert!(matches!(err, StoreError::Rejected(ref r) if r.code() == "NOT_AUTHORIZED"), "{err:?}");
    assert_eq!(s.pending_count().unwrap(), 0, "nothing queued");
    assert_eq!(s.rejected_bookings().unwrap().len(), 3, "the refusal stays in the inbox");
}

#[test]
fn customer_search_matches_prefixes_and_follows_edits() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    seed(&s, 8);
    let jose = customer("00000000-0000-4000-8000-0000000c0003", "José", "Álvarez", "jose@example.com", "+34600000000");
    s.apply_pull(&pull(vec![bucket(ALL, 40, vec![put(EntityKind::Customer, &jose)])], 0, vec![])).unwrap();
    let ids = |q: &str| s.search_customers(q, 10).unwrap().into_iter().map(|h| h.id).collect::<Vec<_>>();

    assert_eq!(ids("an"), [ANA]);
    assert_eq!(ids("SIL"), [ANA]);
    assert_eq!(ids("ana silva"), [ANA]);
    assert_eq!(ids("ana.s"), [ANA], "e-mail prefix");
    assert_eq!(ids("bo@li"), [BO]);
    assert_eq!(ids("+46 70 12"), [BO], "phone digits");
    assert_eq!(ids("jose alv"), [jose.id.as_str()], "accents are ignored");
    assert!(ids("example").len() == 2 && ids("").is_empty() && ids("\" OR *").is_empty());
    assert_eq!(s.search_customers("e", 1).unwrap().len(), 1, "limit");

    // An offline edit re-indexes at once.
    let hlc = format!("{:013}-00000001-desk-a", Utc::now().timestamp_millis());
    let edit = Mutation::decode(
        "set_customer_field.v1",
        &json!({"customer_id": ANA, "set": {"field": "last_name", "value": "Costa"}, "hlc": hlc}),
    )
    .unwrap();
    s.mutate(&edit).unwrap();
    assert_eq!(ids("ana cost"), [ANA]);
    assert!(s.search_customers("cost", 10).unwrap()[0].pending);
    // And a rebase that undoes it re-indexes back.
    s.apply_pull(&pull(vec![], 1, vec![rejected(1, "CLOCK_SKEW", "too far ahead")])).unwrap();
    assert!(ids("cost").is_empty());
    assert_eq!(ids("ana silva"), [ANA]);
}

/// Two shapes skip the full-text ranking: a whole address some customer has gives just the
/// customers with it (not those whose address merely starts so), and a number's start with its
/// `+` gives the numbers starting so in number order, then those holding its digits elsewhere.
/// A merged record is left out of both, as from every search.
#[test]
fn customer_search_answers_a_whole_address_and_a_numbers_start_from_their_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    seed(&s, 8);
    let longer =
        customer("00000000-0000-4000-8000-0000000c0003", "Ana", "Silva", "ana.silva@example.com.br", "+351900000001");
    let twin =
        customer("00000000-0000-4000-8000-0000000c0004", "Ana", "Silva", "ana.silva@example.com", "+351800000000");
    let mut merged =
        customer("00000000-0000-4000-8000-0000000c0005", "Ana", "S", "ana.silva@example.com", "+351900000000");
    merged.merged_into = Some(ANA.into());
    // Its digits "3519" inside the number, not at its start.
    let inside = customer("00000000-0000-4000-8000-0000000c0006", "Cy", "Roe", "cy@roe.ie", "+44735190000");
    let rows = [&longer, &twin, &merged, &inside].map(|c| put(EntityKind::Customer, c)).to_vec();
    s.apply_pull(&pull(vec![bucket(ALL, 40, rows)], 0, vec![])).unwrap();
    let ids = |q: &str| s.search_customers(q, 10).unwrap().into_iter().map(|h| h.id).collect::<Vec<_>>();

    let mut both = vec![ANA, twin.id.as_str()];
    both.sort();
    let mut found = ids(" Ana.Silva@Example.com ");
    found.sort();
    assert_eq!(found, both, "the address, whatever its case, and not the longer one");
    assert_eq!(ids("ana.silva@example.com.br"), [longer.id.as_str()]);
    assert!(ids("nobody@example.com").is_empty(), "an address nobody has finds no one by its words");

    assert_eq!(ids("+3519"), [longer.id.as_str(), ANA, inside.id.as_str()], "number order, then digits inside");
    assert_eq!(ids("+351 (9) 12-34"), [ANA]);
    assert_eq!(ids("+3518"), [twin.id.as_str()]);
    assert_eq!(s.search_customers("+351", 2).unwrap().len(), 2, "limit");
}

#[test]
fn a_v1_database_with_queued_work_migrates_to_v2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.sqlite3");
    {
        let mut conn = Connection::open(&path).unwrap();
        embedded::migrations::runner().set_target(refinery::Target::Version(1)).run(&mut conn).unwrap();
        let session = serde_json::to_string(&session(Role::Owner, "u-staff")).unwrap();
        conn.execute_batch(&format!(
            "INSERT INTO meta (key, value) VALUES ('client_id', 'c-v1'), ('next_mutation_id', '2'),
                 ('session', '{session}');
             INSERT INTO sync_state (bucket, cursor) VALUES ('{ALL}', 5);
             INSERT INTO tours (id, organization_id, name, slug, short_description, duration_minutes,
                 default_capacity, min_participants, category, timezone, meeting_point, status, local_pending)
             VALUES ('t-9', '{ORG}', 'Server Tour', 'server-tour', '', 60, 8, 1, 'food', 'Asia/Tokyo', '', 'draft', 0);"
        ))
        .unwrap();
        let args = json!({"id": "00000000-0000-4000-8000-000000000001", "name": "Ramen Walk",
                          "duration_minutes": 60, "default_capacity": 8, "category": "food",
                          "timezone": "Asia/Tokyo"});
        conn.execute(
            "INSERT INTO outbox (mutation_id, name, args, hlc, created_at) VALUES (1, 'create_tour.v1', ?1, 'h', 'now')",
            [args.to_string()],
        )
        .unwrap();
    }
    let s = Store::open(&path).unwrap();
    assert_eq!(s.client_id(), "c-v1");
    let out = s.outbox(10).unwrap();
    assert_eq!(
        (out.len(), out[0].name.as_str(), out[0].args["name"].as_str()),
        (1, "create_tour.v1", Some("Ramen Walk"))
    );
    assert_eq!(s.cursors().unwrap().get(ALL), Some(&5));
    // The V1 rows are the organization bucket's: a delete in it removes them as before.
    let del = bucket(ALL, 6, vec![(EntityKind::Tour, Op::Delete, json!({"id": "t-9"}))]);
    s.apply_pull(&pull(vec![del], 0, vec![])).unwrap();
    let tours = s.tours().unwrap();
    assert_eq!(tours.len(), 1, "{tours:?}");
    assert!(tours[0].pending && tours[0].tour.name == "Ramen Walk", "the queued tour was replayed");
}

#[test]
fn a_guide_check_in_offline_shows_in_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Guide);
    s.apply_pull(&pull(
        vec![bucket(
            "schedule:d-1",
            1,
            vec![
                put(EntityKind::Tour, &tour()),
                put(EntityKind::Departure, &departure(D1, 0, 8, 2)),
                put(EntityKind::Guide, &gil()),
                put(EntityKind::GuideAssignment, &gil_on_d1()),
                put(EntityKind::Customer, &ana()),
                put(EntityKind::Booking, &booking(B1, D1, ANA, 2, 1)),
            ],
        )],
        0,
        vec![],
    ))
    .unwrap();

    let now = Utc::now().to_rfc3339();
    let fact = |name: &str, nonce: &str, p: u32| {
        Mutation::decode(
            name,
            &json!({"nonce": nonce, "booking_id": B1, "departure_id": D1, "participant": p, "at": now}),
        )
        .unwrap()
    };
    s.mutate(&fact("check_in.v1", "00000000-0000-4000-8000-00000000c101", 0)).unwrap();
    s.mutate(&fact("mark_no_show.v1", "00000000-0000-4000-8000-00000000c102", 1)).unwrap();

    let m = s.manifest(D1).unwrap().unwrap();
    let b = &m.bookings[0];
    assert_eq!((b.checked_in, b.no_shows, b.pending), (1, 1, true));
    let seats: Vec<_> = b.participants.iter().map(|p| (p.attendance, p.attendance_pending)).collect();
    assert_eq!(seats, [(Some(CheckInKind::CheckedIn), true), (Some(CheckInKind::NoShow), true)]);

    // Someone else's departure: refused locally, nothing queued.
    let other = departure(D2, 1, 8, 0);
    s.apply_pull(&pull(vec![bucket("org:org-1:ref", 1, vec![put(EntityKind::Departure, &other)])], 0, vec![])).unwrap();
    let wrong = Mutation::decode(
        "check_in.v1",
        &json!({"nonce": "00000000-0000-4000-8000-00000000c103", "booking_id": B1, "departure_id": D2,
                "participant": 0, "at": now}),
    )
    .unwrap();
    assert!(s.mutate(&wrong).is_err());
    assert_eq!(s.pending_count().unwrap(), 2);
}

fn payment_issue(b: Option<&Booking>) -> PaymentIssue {
    let why = tourdesk_domain::payment::CannotApply::CurrencyMismatch { want: "USD".into(), got: "JPY".into() };
    let id = if b.is_some() { "evt_1" } else { "evt_2" };
    PaymentIssue::new("org-1", b, id, "payment_intent.succeeded", &why, "2026-06-01T10:00:00Z".parse().unwrap())
}

#[test]
fn payment_issues_arrive_with_the_organization_bucket_and_read_back_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    assert!(s.payment_issues().unwrap().is_empty());
    let b = booking(B1, D1, ANA, 2, 1);
    let mut older = payment_issue(None);
    older.created_at -= Duration::hours(1);
    let newer = payment_issue(Some(&b));
    s.apply_pull(&pull(
        vec![bucket(ALL, 1, vec![put(EntityKind::PaymentIssue, &older), put(EntityKind::PaymentIssue, &newer)])],
        0,
        vec![],
    ))
    .unwrap();
    assert_eq!(s.payment_issues().unwrap(), vec![newer, older]);
}

#[test]
fn typed_rows_fill_the_same_columns_as_their_serde_form() {
    let mut b = booking(B1, D1, ANA, 2, 1);
    let mut c = ana();
    let records = |b: &Booking, c: &Customer| {
        vec![
            rows::Record::Booking(Box::new(b.clone())),
            rows::Record::Customer(Box::new(c.clone())),
            rows::Record::CheckIn(check_in("ci-1", B1, 1)),
            rows::Record::PaymentIssue(payment_issue(Some(b))),
            rows::Record::PaymentIssue(payment_issue(None)),
        ]
    };
    let mut all = records(&b, &c);
    // And with every optional part the other way round.
    b.special_requests = None;
    b.dietary_restrictions = Some("Vegan".into());
    b.confirmed_at = None;
    b.cancelled_at = Some(b.created_at);
    c.phone = None;
    c.marketing_consent = true;
    c.marketing_consent_date = Some(c.created_at);
    c.notes_conflicts.clear();
    all.extend(records(&b, &c));
    for r in &all {
        let (typed, by_value) = rows::columns_and_value_form(r);
        assert_eq!(typed, by_value, "{:?}", r.kind());
    }
}

fn shadow_row(s: &Store, kind: EntityKind, id: &str) -> Option<Option<Value>> {
    let conn = s.conn();
    let row: Option<Option<String>> = conn
        .query_row("SELECT row FROM shadow WHERE entity = ?1 AND id = ?2", params![kind.as_str(), id], |r| r.get(0))
        .optional()
        .unwrap();
    row.map(|r| r.map(|t| serde_json::from_str(&t).unwrap()))
}

fn count(s: &Store, sql: &str) -> i64 {
    s.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_page_with_nothing_pending_writes_its_rows_directly() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    let mut first = pull(
        vec![bucket(
            ALL,
            1,
            vec![
                put(EntityKind::Tour, &tour()),
                put(EntityKind::Departure, &departure(D1, 0, 8, 3)),
                put(EntityKind::Customer, &ana()),
            ],
        )],
        0,
        vec![],
    );
    first.complete = false;
    s.apply_pull(&first).unwrap();
    // Not the last page, but nothing is pending: the rows show at once, as the server's.
    let tours = s.tours().unwrap();
    assert_eq!((tours.len(), tours[0].pending), (1, false));
    assert_eq!(s.departure(D1).unwrap().unwrap().seats_left, 5);
    assert_eq!(s.search_customers("ana", 10).unwrap().len(), 1);
    assert_eq!(count(&s, "SELECT count(*) FROM shadow"), 0);
    assert_eq!(count(&s, &format!("SELECT count(*) FROM replica_rows WHERE bucket = '{ALL}'")), 3);
    assert_eq!(s.cursors().unwrap().get(ALL), Some(&3));
}

#[test]
fn a_page_applied_while_work_is_pending_updates_the_shadow_not_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    seed(&s, 4);
    s.mutate(&create_booking(NEW_BOOKING, D1, 2)).unwrap();
    assert_eq!(s.departure(D1).unwrap().unwrap().seats_left, 2);
    let seats_in_shadow = |s: &Store| {
        let row = shadow_row(s, EntityKind::Departure, D1).expect("a shadow").expect("the server's row");
        serde_json::from_value::<Departure>(row).unwrap().booked_count
    };
    assert_eq!(seats_in_shadow(&s), 0);

    // Another desk sold a seat; the server's new count arrives on a page that is not the last.
    let mut page = pull(vec![bucket(ALL, 10, vec![put(EntityKind::Departure, &departure(D1, 0, 4, 1))])], 0, vec![]);
    page.complete = false;
    s.apply_pull(&page).unwrap();
    assert_eq!(s.departure(D1).unwrap().unwrap().seats_left, 2, "the optimistic row stays until the rebase");
    assert_eq!(seats_in_shadow(&s), 1, "the base the rebase restores is the server's new row");
    assert_eq!(count(&s, &format!("SELECT count(*) FROM replica_rows WHERE bucket = '{ALL}' AND id = '{D1}'")), 1);

    // The last page rebases: the server's row, with the booking still pending on top of it.
    s.apply_pull(&pull(vec![bucket(ALL, 11, vec![])], 0, vec![])).unwrap();
    let d = s.departure(D1).unwrap().unwrap();
    assert_eq!((d.departure.booked_count, d.seats_left), (3, 1));
    assert_eq!(s.pending_count().unwrap(), 1);
    assert_eq!(seats_in_shadow(&s), 1);
}

#[test]
fn a_later_put_of_a_row_in_the_same_page_wins_and_ownership_follows_every_op() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    let mut renamed = tour();
    renamed.name = "Old Town at Night".into();
    s.apply_pull(&pull(
        vec![bucket(
            ALL,
            1,
            vec![
                put(EntityKind::Tour, &tour()),
                put(EntityKind::Departure, &departure(D1, 0, 8, 1)),
                put(EntityKind::Departure, &departure(D2, 1, 8, 0)),
                put(EntityKind::Departure, &departure(D1, 0, 8, 2)),
                put(EntityKind::Tour, &renamed),
                // Put, delete, put: the row stays with its last version; put then delete: gone.
                (EntityKind::Departure, Op::Delete, json!({"id": D1})),
                put(EntityKind::Departure, &departure(D1, 0, 8, 3)),
                (EntityKind::Departure, Op::Delete, json!({"id": D2})),
            ],
        )],
        0,
        vec![],
    ))
    .unwrap();
    assert_eq!(s.tours().unwrap()[0].tour.name, "Old Town at Night");
    assert_eq!(s.departure(D1).unwrap().unwrap().departure.booked_count, 3);
    assert!(s.departure(D2).unwrap().is_none());
    let owned = |id: &str| count(&s, &format!("SELECT count(*) FROM replica_rows WHERE id = '{id}'"));
    assert_eq!((owned(TOUR), owned(D1), owned(D2)), (1, 1, 0));

    // A put that a later one supersedes is still checked: another organization's row refuses
    // the page.
    let mut foreign = departure(D2, 1, 8, 0);
    foreign.organization_id = "org-2".into();
    let bad = pull(
        vec![bucket(
            ALL,
            20,
            vec![put(EntityKind::Departure, &foreign), put(EntityKind::Departure, &departure(D2, 1, 8, 0))],
        )],
        0,
        vec![],
    );
    assert!(s.apply_pull(&bad).is_err());
    assert!(s.departure(D2).unwrap().is_none());
    assert_eq!(s.cursors().unwrap().get(ALL), Some(&8));
}

#[test]
fn a_v2_database_keeps_which_bucket_holds_each_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.sqlite3");
    {
        let mut conn = Connection::open(&path).unwrap();
        embedded::migrations::runner().set_target(refinery::Target::Version(2)).run(&mut conn).unwrap();
        let session = serde_json::to_string(&session(Role::Guide, "u-guide")).unwrap();
        conn.execute_batch(&format!(
            "INSERT INTO meta (key, value) VALUES ('client_id', 'c-v2'), ('session', '{session}');
             INSERT INTO sync_state (bucket, cursor) VALUES ('org:org-1:ref', 3), ('schedule:d-1', 5), ('schedule:d-2', 7);
             INSERT INTO tours (id, organization_id, name, slug, short_description, duration_minutes,
                 default_capacity, min_participants, category, timezone, meeting_point, status, local_pending)
             VALUES ('{TOUR}', '{ORG}', 'Old Town Walk', 'old-town-walk', '', 120, 4, 1, 'walking', 'Europe/London',
                 'Fountain', 'active', 0);
             INSERT INTO replica_rows (bucket, entity, id) VALUES
                 ('org:org-1:ref', 'tour', '{TOUR}'), ('schedule:d-1', 'customer', '{ANA}'),
                 ('schedule:d-2', 'customer', '{ANA}'), ('schedule:d-1', 'customer', '{BO}');"
        ))
        .unwrap();
    }
    let s = Store::open(&path).unwrap();
    s.apply_pull(&pull(
        vec![bucket("schedule:d-1", 6, vec![put(EntityKind::Customer, &ana()), put(EntityKind::Customer, &bo())])],
        0,
        vec![],
    ))
    .unwrap();
    // Ana is held by both schedule buckets (one recorded before the migration), Bo by one.
    let mut gone = pull(vec![], 0, vec![]);
    gone.removed_buckets = vec!["schedule:d-1".into()];
    s.apply_pull(&gone).unwrap();
    assert!(s.customer_detail(ANA).unwrap().is_some(), "still held by schedule:d-2");
    assert!(s.customer_detail(BO).unwrap().is_none());
    assert_eq!(s.tours().unwrap().len(), 1, "the reference bucket's tour stays");
    let del = bucket("schedule:d-2", 8, vec![(EntityKind::Customer, Op::Delete, json!({"id": ANA}))]);
    s.apply_pull(&pull(vec![del], 0, vec![])).unwrap();
    assert!(s.customer_detail(ANA).unwrap().is_none());
    assert_eq!(count(&s, "SELECT count(*) FROM replica_rows"), 1);
}

#[test]
fn a_taken_reference_is_found_however_a_person_types_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    seed(&s, 4);
    let b = booking(B1, D1, ANA, 1, 77);
    s.apply_pull(&pull(vec![bucket(ALL, 100, vec![put(EntityKind::Booking, &b)])], 0, vec![])).unwrap();
    let canonical = b.reference_number.as_str();
    // What `ReferenceNumber::parse` accepts: any case, surrounding space, the prefix optional.
    let typed = format!(" {} ", canonical.to_ascii_lowercase().trim_start_matches("bk-"));
    let conn = s.conn();
    assert!(rows::booking_reference_taken(&conn, ORG, canonical).unwrap());
    assert!(rows::booking_reference_taken(&conn, ORG, &typed).unwrap(), "{typed:?} is {canonical}");
    assert!(!rows::booking_reference_taken(&conn, ORG, "not a reference").unwrap());
}

#[test]
fn global_search_finds_bookings_by_reference_customers_and_tours_by_name() {
    use tourdesk_domain::ipc::SearchResults;
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    seed(&s, 8);
    let (b1, b2) = (booking(B1, D1, ANA, 2, 1), booking(B2, D2, BO, 1, 2));
    let second = Tour { id: "t-2".into(), name: "Harbour 100% Cruise".into(), slug: "harbour".into(), ..tour() };
    s.apply_pull(&pull(
        vec![bucket(
            ALL,
            50,
            vec![put(EntityKind::Booking, &b1), put(EntityKind::Booking, &b2), put(EntityKind::Tour, &second)],
        )],
        0,
        vec![],
    ))
    .unwrap();
    let r1 = b1.reference_number.to_string();
    let refs = |q: &str| s.search(q, 10).unwrap().bookings.into_iter().map(|h| h.booking.id).collect::<Vec<_>>();

    // The whole reference, in any case, and a part of it, find the booking with its tour and departure.
    let hit = s.search(&r1.to_lowercase(), 10).unwrap().bookings;
    assert_eq!(hit.len(), 1, "{hit:?}");
    assert_eq!((hit[0].booking.id.as_str(), hit[0].tour_name.as_deref()), (B1, Some("Old Town Walk")));
    assert_eq!(hit[0].departure.as_ref().map(|d| d.departure.id.as_str()), Some(D1));
    assert_eq!(refs(&r1[r1.len() - 4..]), [B1], "the tail of a reference");
    assert_eq!(
        s.booking_by_reference(&format!(" {} ", r1.to_lowercase())).unwrap().map(|h| h.booking.id),
        Some(B1.into())
    );
    assert!(s.booking_by_reference("BK-1999-NOPE").unwrap().is_none());

    // Customers by name, e-mail or phone; tours by part of their name; wildcards are literal.
    let found = s.search("silva", 10).unwrap();
    assert_eq!(found.customers.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [ANA]);
    assert!(found.bookings.is_empty() && found.tours.is_empty(), "{found:?}");
    assert_eq!(s.search("bo@lind", 10).unwrap().customers.len(), 1);
    assert_eq!(s.search("+46 70", 10).unwrap().customers.len(), 1);
    let tours = |q: &str| s.search(q, 10).unwrap().tours.into_iter().map(|t| t.tour.id).collect::<Vec<_>>();
    assert_eq!(tours("town"), [TOUR]);
    assert_eq!(tours("HARBOUR"), ["t-2"]);
    assert_eq!(tours("100%"), ["t-2"]);
    assert_eq!(tours("%"), ["t-2"], "a % is a character, not a wildcard");
    assert!(tours("_").is_empty(), "nor is an underscore");
    assert_eq!(s.search("   ", 10).unwrap(), SearchResults::default());
}

/// Issue 12, item 9: a walk-in taken at the counter with a name and a local number, no e-mail.
#[test]
fn a_walk_in_without_an_e_mail_is_saved_found_and_queued() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    seed(&s, 8);
    let walk_in = "00000000-0000-4000-8000-0000000c0077";
    let hlc = format!("{:013}-00000001-desk-a", Utc::now().timestamp_millis());
    let create = Mutation::decode(
        "create_customer.v1",
        &json!({"id": walk_in, "first_name": "Rui", "last_name": "", "phone": "912 000 999",
                "default_region": "PT", "hlc": hlc}),
    )
    .unwrap();
    s.mutate(&create).unwrap();
    let c = s.customer_detail(walk_in).unwrap().unwrap();
    assert_eq!((c.customer.email.as_deref(), c.customer.phone.as_deref()), (None, Some("+351912000999")));
    assert!(c.pending);
    let hits = s.search_customers("rui", 10).unwrap();
    assert_eq!((hits.len(), hits[0].email.as_deref()), (1, None));
    // Queued for the server with no e-mail in its arguments.
    let queued: String = s.conn().query_row("SELECT args FROM outbox", [], |r| r.get(0)).unwrap();
    let args: Value = serde_json::from_str(&queued).unwrap();
    assert!(args.get("email").is_none(), "{args}");
    // A second walk-in without e-mail does not collide with the first.
    let other = Mutation::decode(
        "create_customer.v1",
        &json!({"id": "00000000-0000-4000-8000-0000000c0078", "first_name": "", "last_name": "Costa",
                "hlc": format!("{:013}-00000002-desk-a", Utc::now().timestamp_millis())}),
    )
    .unwrap();
    s.mutate(&other).unwrap();
    assert_eq!(s.search_customers("costa", 10).unwrap().len(), 1);
}

#[test]
fn customer_search_finds_any_run_of_phone_digits_and_booking_references() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    seed(&s, 8);
    let b2 = booking(B2, D2, BO, 1, 424_242);
    s.apply_pull(&pull(vec![bucket(ALL, 60, vec![put(EntityKind::Booking, &b2)])], 0, vec![])).unwrap();
    let ids = |q: &str| s.search_customers(q, 10).unwrap().into_iter().map(|h| h.id).collect::<Vec<_>>();

    // Ana is +351912345678, Bo +46701234567: a run anywhere in the number, typed any way.
    assert_eq!(ids("912 345"), [ANA]);
    assert_eq!(ids("345 678"), [ANA], "the end of the number");
    assert_eq!(ids("+351-912"), [ANA]);
    assert_eq!(ids("(912) 345-678"), [ANA]);
    assert_eq!(ids("912345678"), [ANA], "the national number, as dialled in Lisbon");
    assert_eq!(ids("070-123 45 67"), [BO], "a trunk 0 is not part of the E.164 number");
    assert_eq!(ids("70123"), [BO]);
    let mut both = ids("234");
    both.sort();
    assert_eq!(both, [ANA, BO], "3 digits in both numbers");
    assert!(ids("99").is_empty() && ids("12").is_empty(), "fewer than 3 digits find nothing by phone");

    // Bo's booking, by its whole reference or a part of it, in any case.
    let r = b2.reference_number.to_string();
    assert_eq!(ids(&r), [BO]);
    assert_eq!(ids(&r.to_lowercase()), [BO]);
    assert_eq!(ids(&r[r.len() - 4..]), [BO], "the tail of the reference: {r}");
    assert_eq!(ids(&r[3..10]), [BO], "the year and the start of the suffix: {r}");
    assert!(ids("BK-1999-").is_empty());
    // A name is not read as a reference, nor a wildcard as anything.
    assert_eq!(ids("ana"), [ANA]);
    assert!(ids("%%%").is_empty());
    // The booking form's picker and the global search use the same search.
    assert_eq!(s.search(&r[r.len() - 5..], 10).unwrap().customers.len(), 1);
}

#[test]
fn a_customers_bookings_carry_their_tour_and_departure() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    seed(&s, 8);
    let b1 = booking(B1, D1, ANA, 2, 5);
    s.apply_pull(&pull(vec![bucket(ALL, 70, vec![put(EntityKind::Booking, &b1)])], 0, vec![])).unwrap();
    let d = s.customer_detail(ANA).unwrap().unwrap();
    assert_eq!(d.bookings.len(), 1);
    let b = &d.bookings[0];
    assert_eq!((b.booking.id.as_str(), b.tour_name.as_deref()), (B1, Some("Old Town Walk")));
    let dep = &b.departure.as_ref().unwrap().departure;
    assert_eq!((dep.id.as_str(), dep.timezone.as_str()), (D1, departure(D1, 0, 8, 0).timezone.as_str()));
}

#[test]
fn a_v4_database_migrates_to_nullable_e_mails_and_keeps_its_search_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("desk.sqlite3");
    {
        let mut conn = Connection::open(&path).unwrap();
        embedded::migrations::runner().set_target(refinery::Target::Version(4)).run(&mut conn).unwrap();
        let session = serde_json::to_string(&session(Role::Owner, "u1")).unwrap();
        conn.execute_batch(&format!(
            "INSERT INTO meta (key, value) VALUES ('client_id', 'c-v4'), ('session', '{session}');
             INSERT INTO customers (id, organization_id, email, phone, first_name, last_name, source,
                 preferred_language, preferred_currency, marketing_consent, field_hlcs, tags, tag_stamps, notes,
                 notes_version, notes_conflicts, created_at, updated_at)
             VALUES ('{BO}', '{ORG}', 'bo@lind.se', '+46701234567', 'Bo', 'Lind', 'direct', 'sv', 'SEK', 0,
                 '{{}}', '[]', '{{}}', '', 0, '[]', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');"
        ))
        .unwrap();
        // Without V5 a customer cannot lack an e-mail.
        let refused = conn.execute("UPDATE customers SET email = NULL", []);
        assert!(refused.is_err(), "{refused:?}");
    }
    let s = Store::open(&path).unwrap();
    assert_eq!(s.search_customers("lind", 10).unwrap().len(), 1, "the index still points at the row");
    s.apply_pull(&pull(vec![bucket(ALL, 2, vec![put(EntityKind::Customer, &ana())])], 0, vec![])).unwrap();
    let walk_in = Customer { email: None, ..bo() };
    s.apply_pull(&pull(vec![bucket(ALL, 3, vec![put(EntityKind::Customer, &walk_in)])], 0, vec![])).unwrap();
    let hits = s.search_customers("bo", 10).unwrap();
    assert_eq!((hits.len(), hits[0].email.as_deref()), (1, None));
    assert!(s.search_customers("bo@lind.se", 10).unwrap().is_empty(), "the old address left the index");
    assert_eq!(s.search_customers("ana silva", 10).unwrap().len(), 1);
}

fn cancel_departure(id: &str, reason: &str) -> Mutation {
    Mutation::decode("cancel_departure.v1", &json!({"departure_id": id, "reason": reason})).unwrap()
}

/// The desk shows a cancelled departure at once: the departure, its bookings and its seats,
/// with the count of what it cancels beforehand; a booking the server then brings in (another
/// desk's) is cancelled by the replay of the still pending intent.
#[test]
fn cancelling_a_departure_shows_at_once_and_sweeps_up_bookings_pulled_later() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s, 8);
    s.apply_pull(&pull(
        vec![bucket(
            ALL,
            10,
            vec![
                put(EntityKind::Departure, &departure(D1, 0, 8, 2)),
                put(EntityKind::Booking, &booking(B1, D1, ANA, 2, 1)),
            ],
        )],
        0,
        vec![],
    ))
    .unwrap();
    let preview = s.departure_cancellation_preview(D1).unwrap().unwrap();
    assert_eq!((preview.bookings, preview.guests, preview.refunds.clone()), (1, 2, vec![usd(10_000)]));
    assert!(s.departure_cancellation_preview("d-404").unwrap().is_none());

    assert_eq!(s.mutate(&cancel_departure(D1, " Storm warning ")).unwrap(), 1);
    let d = s.departure(D1).unwrap().unwrap();
    assert_eq!((d.departure.status, d.departure.booked_count, d.seats_left), (DepartureStatus::Cancelled, 0, 0));
    let list = s.bookings_of_departure(D1).unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0].status == BookingStatus::Cancelled && list[0].pending);
    assert!(s.manifest(D1).unwrap().unwrap().bookings.is_empty(), "the manifest leaves cancelled bookings out");
    assert_eq!(s.departure_cancellation_preview(D1).unwrap().unwrap(), Default::default());

    // Before the push, the server sends another desk's booking on it: the rebase replays the
    // pending cancellation over it.
    s.apply_pull(&pull(
        vec![bucket(
            ALL,
            20,
            vec![
                put(EntityKind::Departure, &departure(D1, 0, 8, 3)),
                put(EntityKind::Booking, &booking(B2, D1, BO, 1, 2)),
            ],
        )],
        0,
        vec![],
    ))
    .unwrap();
    let list = s.bookings_of_departure(D1).unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|b| b.status == BookingStatus::Cancelled), "{list:?}");
    assert_eq!(s.departure(D1).unwrap().unwrap().departure.booked_count, 0);
    assert_eq!(s.pending_count().unwrap(), 1, "still one intent to push");
}

#[test]
fn a_guide_or_a_blank_reason_cancels_nothing_and_queues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Guide);
    seed(&s, 8);
    let e = s.mutate(&cancel_departure(D1, "Storm")).unwrap_err();
    assert!(matches!(e, StoreError::Rejected(Rejection::NotAuthorized { .. })), "{e:?}");
    drop(s);
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s, 8);
    let e = s.mutate(&cancel_departure(D1, "  ")).unwrap_err();
    assert!(matches!(&e, StoreError::Rejected(Rejection::Invalid(f)) if f.field == "reason"), "{e:?}");
    assert_eq!(s.pending_count().unwrap(), 0);
    assert_eq!(s.departure(D1).unwrap().unwrap().departure.status, DepartureStatus::Open);
}

fn record_payment(nonce: &str, booking_id: &str, amount: i64, currency: &str) -> Mutation {
    Mutation::decode(
        "record_payment.v1",
        &json!({"nonce": nonce, "booking_id": booking_id, "method": "cash", "amount": amount,
                "currency": currency, "note": "at the counter", "at": Utc::now().to_rfc3339()}),
    )
    .unwrap()
}

/// B1 on D1 (2 adults), held and not paid yet, as a pull brings it.
fn unpaid(s: &Store) {
    let mut b = booking(B1, D1, ANA, 2, 1);
    (b.status, b.payment_status, b.paid_amount, b.confirmed_at) =
        (BookingStatus::Pending, PaymentStatus::Unpaid, usd(0), None);
    s.apply_pull(&pull(vec![bucket(ALL, 20, vec![put(EntityKind::Booking, &b)])], 0, vec![])).unwrap();
}

/// B1 on D1, paid 100.00 in cash at this desk, then cancelled with 60.00 to give back: all of it
/// by hand, since no card money was taken.
fn cancelled_with_cash_to_give_back(s: &Store) {
    unpaid(s);
    s.mutate(&record_payment("00000000-0000-4000-8000-0000000e0001", B1, 10_000, "USD")).unwrap();
    s.cancel_booking(&tourdesk_domain::ipc::CancelBooking {
        booking_id: B1.into(),
        reason: Some("Customer is ill".into()),
        refund_override: Some("60.00".into()),
        override_reason: Some("Goodwill".into()),
        notify_customer: false,
    })
    .unwrap();
}

/// The field a refusal names; anything else fails the test.
fn field_of<T: std::fmt::Debug>(r: Result<T, StoreError>) -> String {
    match r {
        Err(StoreError::Rejected(Rejection::Invalid(e))) => e.field,
        Err(StoreError::Rejected(Rejection::Conflict { field, .. })) => field,
        other => panic!("expected a refusal naming a field, got {other:?}"),
    }
}

#[test]
fn a_cash_payment_offline_confirms_the_booking_and_lists_in_its_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s, 4);
    let mut unpaid = booking(B1, D1, ANA, 2, 1);
    (unpaid.status, unpaid.payment_status, unpaid.paid_amount, unpaid.confirmed_at) =
        (BookingStatus::Pending, PaymentStatus::Unpaid, usd(0), None);
    s.apply_pull(&pull(vec![bucket(ALL, 20, vec![put(EntityKind::Booking, &unpaid)])], 0, vec![])).unwrap();

    let before = s.booking_money(B1).unwrap().unwrap();
    assert_eq!((before.balance_due, before.can_record_payment), (usd(10_000), true));

    // Above the balance, in another currency: refused here, nothing queued.
    for (amount, currency, field) in [(10_001, "USD", "amount"), (100, "EUR", "currency"), (0, "USD", "amount")] {
        match s.mutate(&record_payment("00000000-0000-4000-8000-0000000e0009", B1, amount, currency)) {
            Err(StoreError::Rejected(Rejection::Invalid(e))) => assert_eq!(e.field, field),
            other => panic!("{amount} {currency}: {other:?}"),
        }
    }
    assert_eq!(s.pending_count().unwrap(), 0);

    s.mutate(&record_payment("00000000-0000-4000-8000-0000000e0001", B1, 4_000, "USD")).unwrap();
    let part = s.booking_money(B1).unwrap().unwrap();
    assert_eq!((part.status, part.payment_status), (BookingStatus::Pending, PaymentStatus::Partial));
    assert_eq!(part.balance_due, usd(6_000));
    s.mutate(&record_payment("00000000-0000-4000-8000-0000000e0002", B1, 6_000, "USD")).unwrap();

    let m = s.booking_money(B1).unwrap().unwrap();
    assert_eq!((m.status, m.payment_status), (BookingStatus::Confirmed, PaymentStatus::Paid));
    assert_eq!((m.paid, m.balance_due, m.can_record_payment), (usd(10_000), usd(0), false));
    let lines: Vec<_> = m.entries.iter().map(|l| (l.entry.amount, l.entry.note.as_deref(), l.pending)).collect();
    assert_eq!(lines, [(4_000, Some("at the counter"), true), (6_000, Some("at the counter"), true)]);
    assert_eq!(s.pending_count().unwrap(), 2);
    assert!(s.bookings_of_departure(D1).unwrap()[0].pending);

    // The server's ledger entry arrives and settles: it reads back exactly as sent.
    let entry = m.entries[0].entry.clone();
    s.apply_pull(&pull(vec![bucket(ALL, 30, vec![put(EntityKind::LedgerEntry, &entry)])], 0, vec![])).unwrap();
    assert_eq!(rows::ledger_of_booking(&s.conn(), ORG, B1).unwrap()[0], entry);

    // A cancelled booking takes no payment.
    let cancelled = Booking { status: BookingStatus::Cancelled, ..booking(B2, D1, BO, 1, 2) };
    s.apply_pull(&pull(vec![bucket(ALL, 40, vec![put(EntityKind::Booking, &cancelled)])], 0, vec![])).unwrap();
    assert!(!s.booking_money(B2).unwrap().unwrap().can_record_payment);
    assert!(matches!(
        s.mutate(&record_payment("00000000-0000-4000-8000-0000000e0003", B2, 100, "USD")),
        Err(StoreError::Rejected(Rejection::Conflict { .. }))
    ));
}

#[test]
fn the_bookings_screen_searches_filters_and_sorts_across_departures() {
    use tourdesk_domain::entities::BookingSource;
    use tourdesk_domain::ipc::{BookingFilter, BookingSort};
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s, 4);
    let b1 = booking(B1, D1, ANA, 2, 1);
    let mut b2 = booking(B2, D2, BO, 1, 2);
    (b2.status, b2.payment_status, b2.paid_amount, b2.source) =
        (BookingStatus::Pending, PaymentStatus::Partial, usd(1_000), BookingSource::Phone);
    s.apply_pull(&pull(
        vec![bucket(ALL, 20, vec![put(EntityKind::Booking, &b1), put(EntityKind::Booking, &b2)])],
        0,
        vec![],
    ))
    .unwrap();
    let ids =
        |f: BookingFilter| s.list_bookings(&f).unwrap().rows.into_iter().map(|r| r.booking.id).collect::<Vec<_>>();

    // Everything, the soonest departure first; then the other way round.
    assert_eq!(ids(BookingFilter::default()), [B1, B2]);
    assert_eq!(ids(BookingFilter { descending: true, ..Default::default() }), [B2, B1]);
    // By customer name, e-mail, phone digits, part of a reference.
    assert_eq!(ids(BookingFilter { query: "lind".into(), ..Default::default() }), [B2]);
    assert_eq!(ids(BookingFilter { query: "bo@lind".into(), ..Default::default() }), [B2]);
    assert_eq!(ids(BookingFilter { query: "701234".into(), ..Default::default() }), [B2]);
    let reference = b1.reference_number.to_string();
    assert_eq!(ids(BookingFilter { query: reference[8..].to_lowercase(), ..Default::default() }), [B1]);
    assert!(ids(BookingFilter { query: "nobody-like-this".into(), ..Default::default() }).is_empty());
    // Filters.
    assert_eq!(ids(BookingFilter { status: Some(BookingStatus::Pending), ..Default::default() }), [B2]);
    assert_eq!(ids(BookingFilter { payment_status: Some(PaymentStatus::Paid), ..Default::default() }), [B1]);
    assert_eq!(ids(BookingFilter { source: Some(BookingSource::Phone), ..Default::default() }), [B2]);
    assert_eq!(ids(BookingFilter { balance_due: true, ..Default::default() }), [B2]);
    assert_eq!(ids(BookingFilter { tour_id: Some(TOUR.into()), ..Default::default() }), [B1, B2]);
    assert!(ids(BookingFilter { tour_id: Some("other".into()), ..Default::default() }).is_empty());
    let d2 = departure(D2, 1, 10, 0).local_date;
    assert_eq!(ids(BookingFilter { from: Some(d2), to: Some(d2), ..Default::default() }), [B2]);
    // Sorted by balance due, largest first; a page of one still counts every match.
    let f = BookingFilter { sort: BookingSort::BalanceDue, descending: true, limit: 1, ..Default::default() };
    let list = s.list_bookings(&f).unwrap();
    assert_eq!((list.rows.len(), list.matches), (1, 2));
    assert_eq!(list.rows[0].booking.id, B2);
    assert_eq!(list.rows[0].balance_due, usd(4_000));
    assert_eq!(list.rows[0].customer_email.as_deref(), Some("bo@lind.se"));
    assert!(list.rows[0].tour_name.is_some() && list.rows[0].local_start.is_some());

    // The filters read indexes, not every booking.
    let plan: Vec<String> = s
        .conn()
        .prepare("EXPLAIN QUERY PLAN SELECT id FROM bookings WHERE organization_id = ?1 AND status = ?2")
        .unwrap()
        .query_map(params![ORG, "pending"], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(plan.iter().any(|p| p.contains("bookings_status_idx")), "{plan:?}");

    // The page, default sort, walks the departures in start order instead of sorting every
    // booking (V15's index)...
    let plan: Vec<String> = s
        .conn()
        .prepare(
            "EXPLAIN QUERY PLAN SELECT b.id FROM schedules s
             CROSS JOIN bookings b ON b.organization_id = s.organization_id AND b.departure_id = s.id
             AND s.organization_id = ?1 WHERE b.organization_id = ?1
             ORDER BY s.starts_at ASC, b.created_at DESC, b.id LIMIT 200",
        )
        .unwrap()
        .query_map(params![ORG], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(plan.iter().any(|p| p.contains("schedules_org_start_idx")), "{plan:?}");
    // ... and a booking whose departure is not on the desk still sorts as having no start:
    // first, and last the other way round; every count and filter still holds it.
    let b3 = booking(B3, "d-not-here", ANA, 1, 3);
    s.apply_pull(&pull(vec![bucket(ALL, 21, vec![put(EntityKind::Booking, &b3)])], 0, vec![])).unwrap();
    assert_eq!(ids(BookingFilter::default()), [B3, B1, B2]);
    assert_eq!(ids(BookingFilter { descending: true, ..Default::default() }), [B2, B1, B3]);
    assert_eq!(s.list_bookings(&BookingFilter::default()).unwrap().matches, 3);
    let row = s.list_bookings(&BookingFilter { query: "silva".into(), ..Default::default() }).unwrap();
    assert_eq!(row.rows.iter().map(|r| r.booking.id.as_str()).collect::<Vec<_>>(), [B3, B1]);
    assert!(row.rows[0].local_start.is_none() && row.rows[0].starts_at.is_none());
    assert_eq!(row.rows[0].booking.customer_name, row.rows[1].booking.customer_name);
    assert_eq!(ids(BookingFilter { from: Some(d2), ..Default::default() }), [B2]);
}

/// Departure D1 led by the signed-in guide ("u-guide"), D2 someone else's.
fn guide_leads_d1(s: &Store) {
    let d1 = vec![
        put(EntityKind::Tour, &tour()),
        put(EntityKind::Departure, &departure(D1, 0, 8, 0)),
        put(EntityKind::Guide, &gil()),
        put(EntityKind::GuideAssignment, &gil_on_d1()),
    ];
    let reference = vec![put(EntityKind::Departure, &departure(D2, 1, 8, 0))];
    s.apply_pull(&pull(vec![bucket("schedule:d-1", 1, d1), bucket("org:org-1:ref", 1, reference)], 0, vec![])).unwrap();
}

#[test]
fn a_guide_writes_a_field_note_offline_on_their_departure_only() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Guide);
    guide_leads_d1(&s);
    let note = |nonce: &str, departure: &str, text: &str| {
        Mutation::decode(
            "record_departure_incident.v1",
            &json!({"nonce": nonce, "departure_id": departure, "at": Utc::now(), "text": text}),
        )
        .unwrap()
    };
    s.mutate(&note("00000000-0000-4000-8000-00000000e101", D1, "Bus 20 minutes late")).unwrap();
    s.mutate(&note("00000000-0000-4000-8000-00000000e102", D1, "Guest Ana felt dizzy, rested")).unwrap();
    let notes = s.departure_incidents(D1).unwrap();
    let got: Vec<_> =
        notes.iter().map(|n| (n.incident.text.as_str(), n.incident.recorded_by.as_str(), n.pending)).collect();
    assert_eq!(got, [("Bus 20 minutes late", "u-guide", true), ("Guest Ana felt dizzy, rested", "u-guide", true)]);
    assert!(s.departure(D1).unwrap().unwrap().departure.notes.is_empty(), "the office's notes are another thing");
    assert_eq!(s.pending_count().unwrap(), 2);

    // Another guide's departure: refused on the device with the reason, nothing queued.
    let e = s.mutate(&note("00000000-0000-4000-8000-00000000e103", D2, "not mine")).unwrap_err();
    assert!(e.to_string().contains("a departure you do not lead"), "{e}");
    let e = s.mutate(&note("00000000-0000-4000-8000-00000000e104", D1, "  ")).unwrap_err();
    assert!(e.to_string().contains("text"), "{e}");
    assert!(s.departure_incidents(D2).unwrap().is_empty());
    assert_eq!(s.pending_count().unwrap(), 2);
}

/// A second record of Ana (a walk-in with her phone and a `+tag` address) is suggested, merged
/// with her bookings and their money, and the merge can be taken back until a push starts.
#[test]
fn duplicates_are_suggested_merged_and_undoable_until_a_push_starts() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    seed(&s, 8);
    let dup_id = "00000000-0000-4000-8000-0000000c0005";
    let mut dup = customer(dup_id, "Ana", "S.", "Ana+tours@example.com", &ana().phone.unwrap());
    dup.email = Some("ana+tours@example.com".into());
    dup.notes = String::new();
    dup.notes_conflicts = vec![];
    let b_dup = booking(B3, D2, dup_id, 2, 77);
    s.apply_pull(&pull(
        vec![bucket(ALL, 40, vec![put(EntityKind::Customer, &dup), put(EntityKind::Booking, &b_dup)])],
        0,
        vec![],
    ))
    .unwrap();
    let d = s.customer_detail(ANA).unwrap().unwrap();
    assert_eq!(d.duplicates.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), [dup_id]);
    assert!(d.undoable_merge.is_none());
    let before = s.customer_detail(ANA).unwrap().unwrap();

    let hlc = format!("{:013}-00000000-desk-a", Utc::now().timestamp_millis());
    let merge =
        Mutation::decode("merge_customers.v1", &json!({"survivor_id": ANA, "duplicate_id": dup_id, "hlc": hlc}))
            .unwrap();
    let id = s.mutate(&merge).unwrap();
    let d = s.customer_detail(ANA).unwrap().unwrap();
    assert!(d.bookings.iter().any(|h| h.booking.id == B3), "the duplicate's booking moved");
    assert_eq!(d.lifetime_value, vec![usd(10_000)], "and its money counts for the survivor");
    assert!(d.duplicates.is_empty(), "the merged record is no longer suggested");
    assert_eq!(d.undoable_merge.as_ref().map(|m| (m.mutation_id, m.duplicate_id.as_str())), Some((id, dup_id)));
    assert!(s.search_customers("ana", 10).unwrap().iter().all(|h| h.id != dup_id), "a tombstone is not found");
    // The GDPR export holds the record and the bookings now theirs, as JSON and as CSV.
    let export = s.customer_export(ANA).unwrap().unwrap();
    assert!(export.bookings.iter().any(|b| b.id == B3));
    let csv = export.to_csv();
    assert!(csv.contains("ana.silva@example.com") && csv.contains(b_dup.reference_number.as_str()), "{csv}");
    assert!(csv.contains("ledger entry id,booking id"), "{csv}");

    // Undo: the queue forgets it and the rows are as the server has them.
    s.discard_pending(id).unwrap();
    assert_eq!(s.pending_count().unwrap(), 0);
    let d = s.customer_detail(ANA).unwrap().unwrap();
    assert_eq!((d.bookings.len(), d.duplicates.len()), (before.bookings.len(), 1));
    assert_eq!(s.customer_detail(dup_id).unwrap().unwrap().bookings.len(), 1);
    assert!(matches!(s.discard_pending(id), Err(StoreError::Rejected(Rejection::NotFound { .. }))));

    // Merged again, and a push starts: no longer undoable.
    let id = s.mutate(&merge).unwrap();
    s.note_push_started(id).unwrap();
    assert!(s.customer_detail(ANA).unwrap().unwrap().undoable_merge.is_none());
    assert!(matches!(s.discard_pending(id), Err(StoreError::Rejected(Rejection::Conflict { .. }))));
    assert_eq!(s.pending_count().unwrap(), 1);
}

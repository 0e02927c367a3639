//! Schedules on a real SQLite file: the generation preview is what a save writes, one-off
//! departures, notes, capacity below what is sold, and the calendar across tours.

use chrono::{NaiveDate, NaiveTime};
use serde_json::{Value, json};
use tourdesk_domain::availability::DstResolution;
use tourdesk_domain::entities::{Tour, TourVariant};
use tourdesk_domain::mutation::{CreateDepartureV1, GenerateDeparturesV1, Mutation, Rejection};
use tourdesk_domain::protocol::{BucketPage, ChangeRecord, EntityKind, Op, PullResponse};
use tourdesk_domain::status::DepartureStatus;
use tourdesk_domain::{Departure, fixtures};

use super::test_support::signed_in;
use super::*;

const ALL: &str = "org:org-1:all";

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn store(dir: &tempfile::TempDir, role: Role) -> Store {
    signed_in(dir, role, "u-staff")
}

fn put<T: serde::Serialize>(kind: EntityKind, seq: u64, row: &T) -> ChangeRecord {
    let row = serde_json::to_value(row).unwrap();
    ChangeRecord { seq, entity: kind, id: row["id"].as_str().unwrap().into(), op: Op::Put, row }
}

fn pull(changes: Vec<ChangeRecord>) -> PullResponse {
    let cursor = changes.last().map_or(0, |c| c.seq);
    PullResponse {
        buckets: vec![BucketPage { bucket: ALL.into(), changes, cursor, head: cursor }],
        complete: true,
        last_mutation_id: 0,
        results: vec![],
        removed_buckets: vec![],
    }
}

/// A Lisbon walking tour (variant v-1, 12 seats) and a London one (variant v-2).
fn seed(s: &Store) {
    let lisbon = Tour { timezone: "Europe/Lisbon".into(), name: "Alfama walk".into(), ..fixtures::tour() };
    let london = Tour { id: "t-2".into(), slug: "thames".into(), name: "Thames walk".into(), ..fixtures::tour() };
    let v1 = TourVariant { capacity: Some(12), name: "Morning".into(), ..fixtures::variant() };
    let v2 = TourVariant { id: "v-2".into(), tour_id: "t-2".into(), name: "Standard".into(), ..fixtures::variant() };
    s.apply_pull(&pull(vec![
        put(EntityKind::Tour, 1, &lisbon),
        put(EntityKind::Tour, 2, &london),
        put(EntityKind::TourVariant, 3, &v1),
        put(EntityKind::TourVariant, 4, &v2),
    ]))
    .unwrap();
}

fn generation(from: &str, until: &str) -> GenerateDeparturesV1 {
    serde_json::from_value(json!({"tour_id": "t-1", "variant_id": "v-1", "from": from, "until": until,
        "pattern": {"type": "recurring", "days_of_week": [0, 3], "start_times": ["01:30:00", "10:00:00"],
                    "valid_from": null, "valid_until": null, "excluded_dates": ["2027-03-31"]}}))
    .unwrap()
}

fn m(name: &str, args: Value) -> Mutation {
    Mutation::decode(name, &args).unwrap()
}

/// Lisbon springs forward on Sunday 2027-03-28: the preview moves 01:30 to 02:00 and marks it;
/// the save writes exactly the previewed rows; the calendar shows them, pending.
#[test]
fn the_generation_preview_is_what_the_save_writes() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s);
    let args = generation("2027-03-21", "2027-04-04");
    let plan = s.preview_generation(&args).unwrap();
    assert_eq!(
        (plan.tour_name.as_str(), plan.variant_name.as_str(), plan.timezone.as_str()),
        ("Alfama walk", "Morning", "Europe/Lisbon")
    );
    // Sun 21, Wed 24, Sun 28, (Wed 31 excluded), Sun 4 April × two starts.
    assert_eq!(plan.departures.len(), 8);
    let gap: Vec<_> = plan.departures.iter().filter(|p| p.dst != DstResolution::Exact).collect();
    let [shifted] = &gap[..] else { panic!("{gap:?}") };
    assert_eq!(shifted.departure.local_date, d("2027-03-28"));
    assert_eq!(shifted.departure.local_time, NaiveTime::from_hms_opt(2, 0, 0).unwrap());
    assert_eq!(shifted.departure.starts_at.to_rfc3339(), "2027-03-28T01:00:00+00:00");
    assert!(plan.departures.iter().all(|p| !p.exists && p.departure.capacity == 12));

    s.mutate(&Mutation::GenerateDeparturesV1(args.clone())).unwrap();
    let month = s.calendar(d("2027-03-01"), d("2027-04-30")).unwrap();
    let saved: Vec<&Departure> = month.iter().map(|c| &c.departure).collect();
    let mut planned: Vec<&Departure> = plan.departures.iter().map(|p| &p.departure).collect();
    planned.sort_by_key(|d| (d.local_date, d.local_time));
    assert_eq!(saved, planned, "saved rows equal the preview's");
    assert!(month.iter().all(|c| c.pending && c.tour_name == "Alfama walk" && c.seats_left == 12));
    // Previewing again: everything exists, a save would write nothing.
    let again = s.preview_generation(&args).unwrap();
    assert!(again.departures.iter().all(|p| p.exists));
    assert_eq!(again.to_create().count(), 0);
}

#[test]
fn generation_refusals_name_their_field() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s);
    let field = |r: Result<_, StoreError>| match r {
        Err(StoreError::Rejected(Rejection::Invalid(f))) => f.field,
        other => panic!("{other:?}"),
    };
    let mut no_times = generation("2027-03-21", "2027-04-04");
    no_times.pattern.start_times.clear();
    assert_eq!(field(s.preview_generation(&no_times)), "pattern.start_times");
    assert_eq!(field(s.preview_generation(&generation("2027-04-04", "2027-03-21"))), "until");
    let mut zero = generation("2027-03-21", "2027-04-04");
    zero.capacity = Some(0);
    assert_eq!(field(s.preview_generation(&zero)), "capacity");
    let too_long = s.calendar(d("2027-01-01"), d("2027-06-01"));
    assert!(matches!(too_long, Err(StoreError::Rejected(Rejection::Invalid(ref f))) if f.field == "until"));
    // A guide may not: the preview says so before any save.
    let guide_dir = tempfile::tempdir().unwrap();
    let g = store(&guide_dir, Role::Guide);
    seed(&g);
    assert!(matches!(
        g.preview_generation(&generation("2027-03-21", "2027-04-04")),
        Err(StoreError::Rejected(Rejection::NotAuthorized { .. }))
    ));
}

#[test]
fn one_off_departures_notes_and_the_calendar_across_tours() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s);
    let one_off = json!({"tour_id": "t-2", "variant_id": "v-2", "local_date": "2027-05-08", "local_time": "18:00:00",
                         "capacity": 6, "notes": "Private group: Lind family"});
    let preview = s.preview_departure(&serde_json::from_value::<CreateDepartureV1>(one_off.clone()).unwrap()).unwrap();
    assert_eq!(preview.departure.starts_at.to_rfc3339(), "2027-05-08T17:00:00+00:00");
    s.mutate(&m("create_departure.v1", one_off.clone())).unwrap();
    let again = s.mutate(&m("create_departure.v1", one_off));
    assert!(
        matches!(again, Err(StoreError::Rejected(Rejection::Conflict { ref field, .. })) if field == "local_time"),
        "{again:?}"
    );
    s.mutate(&m(
        "create_departure.v1",
        json!({"tour_id": "t-1", "variant_id": "v-1", "local_date": "2027-05-08", "local_time": "09:00:00"}),
    ))
    .unwrap();

    let names: Vec<String> = s.schedule_variants("t-2").unwrap().into_iter().map(|v| v.name).collect();
    assert_eq!(names, ["Standard"]);
    let day = s.calendar(d("2027-05-08"), d("2027-05-08")).unwrap();
    let got: Vec<(&str, &str, u32, &str)> = day
        .iter()
        .map(|c| (c.tour_name.as_str(), c.variant_name.as_str(), c.seats_left, c.departure.notes.as_str()))
        .collect();
    assert_eq!(got, [("Alfama walk", "Morning", 12, ""), ("Thames walk", "Standard", 6, "Private group: Lind family")]);

    let id = day[1].departure.id.clone();
    s.mutate(&m("set_departure_notes.v1", json!({"departure_id": id, "notes": "Meet at the north gate"}))).unwrap();
    s.mutate(&m("set_departure_status.v1", json!({"departure_id": id, "status": "closed"}))).unwrap();
    let d2 = s.departure(&id).unwrap().unwrap().departure;
    assert_eq!((d2.notes.as_str(), d2.status), ("Meet at the north gate", DepartureStatus::Closed));
    assert!(s.calendar(d("2027-05-09"), d("2027-05-31")).unwrap().is_empty());
}

/// A departure pulled with notes keeps them (the V8 column), and a capacity below the seats
/// sold is refused with the domain's reason unless a manager gives one.
#[test]
fn capacity_below_sold_needs_a_reason_and_notes_replicate() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s);
    let sold =
        Departure { booked_count: 5, notes: "Guide: Rui".into(), local_date: d("2027-06-02"), ..fixtures::departure() };
    s.apply_pull(&pull(vec![put(EntityKind::Departure, 10, &sold)])).unwrap();
    assert_eq!(s.departure(&sold.id).unwrap().unwrap().departure.notes, "Guide: Rui");

    let set = |c: u32, reason: Option<&str>| {
        m("set_departure_capacity.v1", json!({"departure_id": sold.id, "capacity": c, "override_reason": reason}))
    };
    let refused = s.mutate(&set(3, None));
    assert!(
        matches!(refused, Err(StoreError::Rejected(Rejection::CapacityBelowBooked { capacity: 3, booked: 5 }))),
        "{refused:?}"
    );
    assert_eq!(s.departure(&sold.id).unwrap().unwrap().departure.capacity, 10, "nothing half-saved");
    s.mutate(&set(3, Some("Smaller boat"))).unwrap();
    let d = s.departure(&sold.id).unwrap().unwrap();
    assert_eq!((d.departure.capacity, d.departure.status, d.seats_left), (3, DepartureStatus::Full, 0));
    let args: String =
        s.conn().query_row("SELECT args FROM outbox ORDER BY mutation_id DESC", [], |r| r.get(0)).unwrap();
    assert!(args.contains("\"override_reason\":\"Smaller boat\""), "{args}");
}

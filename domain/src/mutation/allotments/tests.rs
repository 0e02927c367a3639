#![allow(clippy::unwrap_used)]

use chrono::Duration;
use serde_json::{Value, json};

use super::super::testkit::*;
use super::*;
use crate::entities::Departure;
use crate::roles::Role;
use crate::status::DepartureStatus;

pub const ALLOTMENT: &str = "00000000-0000-4000-8000-0000000a1101";
const DEVICE: &str = "dev-1";

/// An active allotment of `seats` on [`DEPARTURE`] for device `dev-1` signed in as `user`.
pub fn allotment(user: &str, seats: u32) -> Allotment {
    Allotment {
        id: ALLOTMENT.into(),
        organization_id: ORG.into(),
        departure_id: DEPARTURE.into(),
        tour_id: TOUR.into(),
        device_id: DEVICE.into(),
        user_id: user.into(),
        seats,
        sold: 0,
        status: AllotmentStatus::Active,
        booking_ids: vec![],
        issued_by: STAFF.into(),
        issued_at: now(),
        released_at: None,
        returned: 0,
    }
}

/// A walk-up of `n` adults on [`ALLOTMENT`], booking `00…b{n}` (`n` < 10).
pub fn walk_up_args(n: u32, payment: &str) -> Value {
    json!({
        "id": format!("00000000-0000-4000-8000-00000000b00{n}"),
        "allotment_id": ALLOTMENT, "tour_id": TOUR, "departure_id": DEPARTURE, "device_id": DEVICE,
        "customer": {"id": format!("00000000-0000-4000-8000-00000000c10{n}"), "first_name": "Rui"},
        "lines": [{"tier_id": ADULT, "quantity": n}],
        "payment": payment, "payment_nonce": format!("00000000-0000-4000-8000-00000000e00{n}"),
        "dietary_restrictions": "vegetarian",
        "reference_year": 2026, "reference_entropy": 7 + n as u64,
        "sold_at": now().to_rfc3339(), "hlc": hlc(0, "desk-a").to_string(),
    })
}

fn with_allotment(user: &str, seats: u32, booked: u32) -> Mem {
    let mem = world();
    mem.put_departure(Departure { booked_count: booked, ..departure() });
    mem.write(Change::PutAllotment(allotment(user, seats)));
    mem
}

fn held(mem: &Mem) -> Allotment {
    mem.state.borrow().allotments[ALLOTMENT].clone()
}

fn dep(mem: &Mem) -> Departure {
    mem.state.borrow().departures[DEPARTURE].clone()
}

fn issue(id: u32, seats: u32, user: &str) -> Value {
    json!({"id": format!("00000000-0000-4000-8000-0000000a20{id:02}"), "departure_id": DEPARTURE,
           "device_id": "dev-9", "user_id": user, "seats": seats})
}

#[test]
fn issuing_takes_the_seats_from_capacity_and_never_more_than_are_free() {
    let mem = world();
    mem.put_departure(Departure { booked_count: 6, ..departure() });
    run_write(&mem, "issue_allotment.v1", issue(1, 3, STAFF), Role::Manager);
    assert_eq!((dep(&mem).booked_count, dep(&mem).status), (9, DepartureStatus::Open));
    let e = run(&mem, "issue_allotment.v1", issue(2, 2, STAFF), Role::Manager).unwrap_err();
    assert_eq!(e.to_string(), "only 1 seats left, 2 requested");
    assert_eq!(run_err(&mem, "issue_allotment.v1", issue(2, 2, STAFF), Role::Manager), "CAPACITY_EXCEEDED");
    run_write(&mem, "issue_allotment.v1", issue(3, 1, STAFF), Role::Manager);
    assert_eq!((dep(&mem).booked_count, dep(&mem).status), (10, DepartureStatus::Full));
    assert_eq!(run_err(&mem, "issue_allotment.v1", issue(4, 0, STAFF), Role::Owner), "INVALID");
}

#[test]
fn a_guide_asks_only_for_their_own_device_on_a_departure_they_lead() {
    let mem = world();
    run_write(&mem, "issue_allotment.v1", issue(1, 2, GUIDE_USER), Role::Guide);
    assert_eq!(dep(&mem).booked_count, 2);
    // For someone else's device, or on a departure they do not lead: refused, the rule named.
    let e = run(&mem, "issue_allotment.v1", issue(2, 2, STAFF), Role::Guide).unwrap_err();
    assert_eq!(e.to_string(), "your role may not issue an allotment on a departure you do not lead");
    mem.state.borrow_mut().departure_guides.clear();
    assert_eq!(run_err(&mem, "issue_allotment.v1", issue(3, 2, GUIDE_USER), Role::Guide), "NOT_AUTHORIZED");
}

#[test]
fn walk_ups_sell_within_the_allotment_even_on_a_full_departure() {
    // 10 seats: 7 booked on the website, 3 held by the allotment: the departure is full.
    let mem = with_allotment(GUIDE_USER, 3, 10);
    mem.put_departure(Departure { booked_count: 10, status: DepartureStatus::Full, ..departure() });
    let changes = run_write(&mem, "sell_walk_up.v1", walk_up_args(2, "cash"), Role::Guide);
    assert!(!changes.iter().any(|c| matches!(c, Change::PutDeparture(_))), "the seats were taken at issue");
    assert!(matches!(changes.first(), Some(Change::PutCustomer(c)) if c.source == CustomerSource::WalkIn));
    let b = mem.get_booking("00000000-0000-4000-8000-00000000b002");
    assert_eq!((b.status, b.payment_status, b.participant_count()), (BookingStatus::Confirmed, PaymentStatus::Paid, 2));
    assert_eq!(b.dietary_restrictions.as_deref(), Some("vegetarian"));
    assert_eq!(mem.state.borrow().ledger.values().map(|e| e.amount).sum::<i64>(), b.pricing.total.amount);
    assert_eq!((held(&mem).sold, held(&mem).booking_ids.len()), (2, 1));
    assert_eq!(dep(&mem).booked_count, 10);

    run_write(&mem, "sell_walk_up.v1", walk_up_args(1, "pay_on_arrival"), Role::Guide);
    let b = mem.get_booking("00000000-0000-4000-8000-00000000b001");
    assert_eq!((b.status, b.payment_status), (BookingStatus::Confirmed, PaymentStatus::Unpaid));
    assert_eq!(held(&mem).sold, 3);
}

#[test]
fn a_walk_up_beyond_the_allotment_is_refused_with_the_rule() {
    let mem = with_allotment(GUIDE_USER, 2, 2);
    run_write(&mem, "sell_walk_up.v1", walk_up_args(2, "cash"), Role::Guide);
    let e = run(&mem, "sell_walk_up.v1", walk_up_args(1, "cash"), Role::Guide).unwrap_err();
    let ApplyError::Rejected(r) = e else { panic!("{e:?}") };
    assert_eq!(r.code(), "ALLOTMENT_EXCEEDED");
    assert_eq!(r.to_string(), "the allotment has 0 of 2 seats left, 1 requested");
    assert_eq!(held(&mem).sold, 2);
}

#[test]
fn only_the_device_and_account_it_was_issued_to_sell_on_it() {
    let mem = with_allotment(GUIDE_USER, 3, 3);
    // Another account (a manager who may book anyway) on the guide's allotment.
    assert_eq!(run_err(&mem, "sell_walk_up.v1", walk_up_args(1, "cash"), Role::Manager), "NOT_AUTHORIZED");
    let other_device = patch(walk_up_args(1, "cash"), &[("device_id", "dev-2".into())]);
    assert_eq!(run_err(&mem, "sell_walk_up.v1", other_device, Role::Guide), "NOT_AUTHORIZED");
}

#[test]
fn release_returns_unsold_seats_and_a_sale_made_before_it_still_counts() {
    let mem = with_allotment(GUIDE_USER, 4, 4);
    run_write(&mem, "sell_walk_up.v1", walk_up_args(1, "cash"), Role::Guide);
    let release = json!({"allotment_id": ALLOTMENT, "departure_id": DEPARTURE});
    // Someone else's allotment: the office may release it, another guide may not.
    let mut stranger = ctx(Role::Guide);
    stranger.user_id = "u-other".into();
    assert!(matches!(run_ctx(&mem, "release_allotment.v1", release.clone(), &stranger), Err(ApplyError::Rejected(_))));
    let changes = run_write(&mem, "release_allotment.v1", release.clone(), Role::Manager);
    assert!(changes.iter().any(|c| matches!(c, Change::Audit(a) if a.action == "allotment.released")));
    assert_eq!((dep(&mem).booked_count, held(&mem).returned), (1, 3));
    assert!(run_ok(&mem, "release_allotment.v1", release, Role::Guide).is_empty(), "released once");

    // Sold at the meeting point before the release, pushed after: within the allotment.
    let mut early = walk_up_args(2, "cash");
    early["sold_at"] = json!((now() - Duration::minutes(5)).to_rfc3339());
    let mut ctx_later = ctx(Role::Guide);
    ctx_later.now = now() + Duration::hours(1);
    for c in run_ctx(&mem, "sell_walk_up.v1", early, &ctx_later).unwrap() {
        mem.write(c);
    }
    assert_eq!((dep(&mem).booked_count, held(&mem).sold), (3, 3));
    // Sold after the release: refused, the rule named at the allotment.
    let mut late = walk_up_args(3, "cash");
    late["sold_at"] = json!((now() + Duration::minutes(30)).to_rfc3339());
    match run_ctx(&mem, "sell_walk_up.v1", late, &ctx_later) {
        Err(ApplyError::Rejected(Rejection::Conflict { field, message })) => {
            assert_eq!(field, "allotment_id");
            assert!(message.contains("released"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

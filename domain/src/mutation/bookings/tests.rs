//! The booking mutations against the test double's world.
#![allow(clippy::unwrap_used)]
use super::super::testkit::*;
use super::*;
use crate::entities::{DepartureGuide, Tour};
use crate::pricing::PromoCode;
use crate::status::{DepartureStatus, TourStatus};
use chrono::Duration;
use serde_json::{Value, json};

const NEW: &str = "00000000-0000-4000-8000-00000000b001";

fn create() -> Value {
    json!({"id": NEW, "tour_id": TOUR, "departure_id": DEPARTURE, "customer_id": CUSTOMER,
           "lines": [{"tier_id": ADULT, "quantity": 2},
                     {"tier_id": CHILD, "quantity": 1, "participants": [{"first_name": "Lia", "last_name": "Silva", "age": 7}]}],
           "reference_year": 2026, "reference_entropy": 123456789})
}

fn put(changes: &[Change]) -> (&Booking, Option<&Departure>) {
    let b = changes.iter().find_map(|c| if let Change::PutBooking(b) = c { Some(b) } else { None }).unwrap();
    let d = changes.iter().find_map(|c| if let Change::PutDeparture(d) = c { Some(d) } else { None });
    (b, d)
}

#[test]
fn create_booking_prices_reserves_and_references() {
    let mem = world();
    let args = patch(
        create(),
        &[("promo_code", " summer10 ".into()), ("expected_total", json!({"amount": 11250, "currency": "USD"}))],
    );
    let changes = run_ok(&mem, "create_booking.v1", args.clone(), Role::Manager);
    let (b, d) = put(&changes);
    assert_eq!(b.reference_number, ReferenceNumber::generate(2026, 123_456_789).unwrap());
    assert_eq!((b.status, b.payment_status, b.participant_count()), (BookingStatus::Pending, PaymentStatus::Unpaid, 3));
    assert_eq!((b.pricing.subtotal, b.pricing.total), (usd(12_500), usd(11_250)));
    assert_eq!(b.participants.len(), 1);
    assert_eq!(b.overbook, None);
    assert_eq!(d.map(|d| d.booked_count), Some(3));
    assert!(changes.contains(&Change::IncrementPromoUses { promo_code_id: "promo-1".into() }));
    assert!(!changes.iter().any(|c| matches!(c, Change::Audit(_))));
    // The same intent against the same rows decides the same way (desk and server agree).
    assert_eq!(run_ok(&mem, "create_booking.v1", args, Role::Manager), changes);

    // A taken reference moves on to the next candidate, deterministically.
    let mut other = booking("b-x", 1, BookingStatus::Confirmed, PaymentStatus::Paid, 5000);
    other.reference_number = ReferenceNumber::generate(2026, 123_456_789).unwrap();
    mem.put_booking(other);
    let changes = run_ok(&mem, "create_booking.v1", create(), Role::Manager);
    assert_eq!(put(&changes).0.reference_number, reference_candidates(2026, 123_456_789)[1]);
    assert_eq!(reference_candidates(2026, 123_456_789).len(), 3);
}

#[test]
fn a_held_booking_holds_its_seats_for_the_clamped_time_and_a_desk_booking_holds_none() {
    let mem = world();
    let held = |seconds: u64| {
        let changes =
            run_ok(&mem, "create_booking.v1", patch(create(), &[("hold_seconds", seconds.into())]), Role::Manager);
        changes.iter().find_map(|c| match c {
            Change::HoldSeats { booking_id, until } if booking_id == NEW => Some(*until),
            _ => None,
        })
    };
    let now = ctx(Role::Manager).now;
    assert_eq!(held(900), Some(now + Duration::seconds(900)));
    assert_eq!(held(30 * 86_400), Some(now + Duration::days(7)), "a week at most");
    let desk = run_ok(&mem, "create_booking.v1", create(), Role::Manager);
    assert!(!desk.iter().any(|c| matches!(c, Change::HoldSeats { .. })));
}

#[test]
fn overbooking_needs_permission_and_an_explicit_reason_and_is_audited() {
    let mem = world();
    mem.put_departure(Departure { booked_count: 9, ..departure() });
    assert_eq!(run_err(&mem, "create_booking.v1", create(), Role::Manager), "CAPACITY_EXCEEDED");
    let over = patch(create(), &[("overbook", json!({"reason": "School group, second guide booked"}))]);
    // Admins may do everything except overbook (the spec's permission table).
    assert_eq!(run_err(&mem, "create_booking.v1", over.clone(), Role::Admin), "NOT_AUTHORIZED");
    let blank = patch(create(), &[("overbook", json!({"reason": "  "}))]);
    assert_eq!(run_err(&mem, "create_booking.v1", blank, Role::Manager), "INVALID");

    let changes = run_ok(&mem, "create_booking.v1", over.clone(), Role::Manager);
    let (b, d) = put(&changes);
    let d = d.unwrap();
    assert_eq!((d.booked_count, d.status), (12, DepartureStatus::Full));
    assert_eq!(
        b.overbook,
        Some(ManagerOverride { manager_id: STAFF.into(), reason: "School group, second guide booked".into() })
    );
    let audit = changes.iter().find_map(|c| if let Change::Audit(a) = c { Some(a) } else { None }).unwrap();
    assert_eq!(
        (audit.action.as_str(), audit.actor_id.as_str(), audit.entity_id.as_str()),
        ("booking.overbooked", STAFF, DEPARTURE)
    );
    assert_eq!(audit.detail["over_by"], 2);

    // A full departure still takes an explicit override; a closed one never.
    mem.put_departure(Departure { booked_count: 10, status: DepartureStatus::Full, ..departure() });
    assert_eq!(run_err(&mem, "create_booking.v1", create(), Role::Owner), "CAPACITY_EXCEEDED");
    assert_eq!(run_ok(&mem, "create_booking.v1", over.clone(), Role::Owner).len(), 3);
    mem.put_departure(Departure { status: DepartureStatus::Closed, ..departure() });
    assert_eq!(run_err(&mem, "create_booking.v1", over, Role::Owner), "DEPARTURE_NOT_BOOKABLE");
}

#[test]
fn create_booking_rejections() {
    let mem = world();
    mem.put_booking(booking(NEW, 1, BookingStatus::Pending, PaymentStatus::Unpaid, 0));
    let fresh = "00000000-0000-4000-8000-00000000b002";
    let base = || patch(create(), &[("id", fresh.into())]);
    let with = |fields: &[(&str, Value)]| patch(base(), fields);
    let mut used_up = promo();
    used_up.current_uses = 5;
    mem.state.borrow_mut().promos.insert("USEDUP".into(), PromoCode { code: "USEDUP".into(), ..used_up });
    mem.put_tour(Tour { id: "t-draft".into(), slug: "draft".into(), status: TourStatus::Draft, ..tour() });
    mem.put_tour(Tour { id: "t-noprice".into(), slug: "noprice".into(), ..tour() });
    mem.put_departure(Departure { id: "d-noprice".into(), tour_id: "t-noprice".into(), ..departure() });

    let cases: Vec<(Value, Role, &str)> = vec![
        (base(), Role::Guide, "NOT_AUTHORIZED"),
        (create(), Role::Owner, "CONFLICT"),
        (with(&[("id", "b-1".into())]), Role::Owner, "INVALID"),
        (with(&[("departure_id", "d-404".into())]), Role::Owner, "NOT_FOUND"),
        (with(&[("customer_id", "c-404".into())]), Role::Owner, "NOT_FOUND"),
        (with(&[("tour_id", "t-404".into())]), Role::Owner, "NOT_FOUND"),
        (with(&[("tour_id", "t-draft".into())]), Role::Owner, "CONFLICT"),
        (with(&[("tour_id", "t-noprice".into())]), Role::Owner, "INVALID"),
        (with(&[("tour_id", "t-noprice".into()), ("departure_id", "d-noprice".into())]), Role::Owner, "CONFLICT"),
        // Request limits hold for every source, not only the website: 1–20 lines of 1–100.
        (with(&[("lines", json!([]))]), Role::Owner, "INVALID"),
        (with(&[("lines", json!(vec![json!({"tier_id": ADULT, "quantity": 1}); 21]))]), Role::Owner, "INVALID"),
        (with(&[("lines", json!([{"tier_id": ADULT, "quantity": 101}]))]), Role::Owner, "INVALID"),
        (with(&[("lines", json!([{"tier_id": ADULT, "quantity": 0}]))]), Role::Owner, "INVALID"),
        (with(&[("lines", json!([{"tier_id": "nope", "quantity": 1}]))]), Role::Owner, "PRICING_ERROR"),
        (
            with(&[(
                "lines",
                json!([{"tier_id": CHILD, "quantity": 1, "participants": [{"first_name": "A", "last_name": "B", "age": 30}]}]),
            )]),
            Role::Owner,
            "PRICING_ERROR",
        ),
        (
            with(&[(
                "lines",
                json!([{"tier_id": ADULT, "quantity": 1, "participants": [
                {"first_name": "A", "last_name": "B"}, {"first_name": "C", "last_name": "D"}]}]),
            )]),
            Role::Owner,
            "INVALID",
        ),
        (with(&[("lines", json!([{"tier_id": ADULT, "quantity": 11}]))]), Role::Owner, "CAPACITY_EXCEEDED"),
        (with(&[("promo_code", "NOPE".into())]), Role::Owner, "PROMO_REFUSED"),
        (with(&[("promo_code", "usedup".into())]), Role::Owner, "PROMO_REFUSED"),
        // No code can hold a NUL: refused before any lookup is declared or made.
        (with(&[("promo_code", "SUMMER\u{0}".into())]), Role::Owner, "INVALID"),
        (with(&[("expected_total", json!({"amount": 12000, "currency": "USD"}))]), Role::Owner, "PRICE_CHANGED"),
        (with(&[("reference_year", 2020.into())]), Role::Owner, "INVALID"),
        (with(&[("reference_entropy", (-1).into())]), Role::Owner, "INVALID"),
        (with(&[("colour", "red".into())]), Role::Owner, "INVALID"),
    ];
    for (a, role, code) in cases {
        assert_eq!(run_err(&mem, "create_booking.v1", a.clone(), role), code, "{a}");
    }
    mem.state.borrow_mut().promo_uses.insert(("SUMMER10".into(), CUSTOMER.into()), 1);
    assert_eq!(
        run_err(&mem, "create_booking.v1", with(&[("promo_code", "summer10".into())]), Role::Owner),
        "PROMO_REFUSED"
    );
}

fn modify(lines: Value) -> Value {
    json!({"booking_id": "b-1", "tour_id": TOUR, "departure_id": DEPARTURE, "lines": lines})
}

#[test]
fn modify_booking_reprices_and_moves_seats() {
    let mem = world();
    mem.put_booking(booking("b-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000));
    mem.put_departure(Departure { booked_count: 8, ..departure() });
    let up = run_ok(&mem, "modify_booking.v1", modify(json!([{"tier_id": ADULT, "quantity": 4}])), Role::Manager);
    let (b, d) = put(&up);
    assert_eq!((b.status, b.pricing.total, b.participant_count()), (BookingStatus::Modified, usd(20_000), 4));
    assert_eq!(d.map(|d| (d.booked_count, d.status)), Some((10, DepartureStatus::Full)));
    let down = run_ok(&mem, "modify_booking.v1", modify(json!([{"tier_id": CHILD, "quantity": 1}])), Role::Manager);
    let (b, d) = put(&down);
    assert_eq!((b.pricing.total, d.map(|d| d.booked_count)), (usd(2_500), Some(7)));
    // Same lines, same price: nothing to write.
    assert!(
        run_ok(&mem, "modify_booking.v1", modify(json!([{"tier_id": ADULT, "quantity": 2}])), Role::Manager).is_empty()
    );
    // A pending booking stays pending.
    mem.put_booking(booking("b-1", 2, BookingStatus::Pending, PaymentStatus::Unpaid, 0));
    let p = run_ok(&mem, "modify_booking.v1", modify(json!([{"tier_id": ADULT, "quantity": 1}])), Role::Manager);
    assert_eq!(put(&p).0.status, BookingStatus::Pending);

    // Keeping the booking's own code is not a new use, even when the code is used up.
    let mut with_code = booking("b-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 9_000);
    with_code.pricing.promotional_code_id = Some("promo-1".into());
    mem.put_booking(with_code);
    mem.state.borrow_mut().promos.get_mut("SUMMER10").unwrap().current_uses = 5;
    let kept = run_ok(
        &mem,
        "modify_booking.v1",
        patch(modify(json!([{"tier_id": ADULT, "quantity": 3}])), &[("promo_code", "SUMMER10".into())]),
        Role::Manager,
    );
    assert_eq!(put(&kept).0.pricing.total, usd(13_500));
    assert!(!kept.iter().any(|c| matches!(c, Change::IncrementPromoUses { .. })));
}

#[test]
fn modify_booking_rejections() {
    let mem = world();
    mem.put_booking(booking("b-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000));
    mem.put_booking(booking("b-gone", 2, BookingStatus::Cancelled, PaymentStatus::Refunded, 10_000));
    mem.put_departure(Departure { booked_count: 9, ..departure() });
    let three = json!([{"tier_id": ADULT, "quantity": 3}]);
    let cases: Vec<(Value, Role, &str)> = vec![
        (modify(three.clone()), Role::Guide, "NOT_AUTHORIZED"),
        (patch(modify(three.clone()), &[("booking_id", "b-404".into())]), Role::Owner, "NOT_FOUND"),
        (patch(modify(three.clone()), &[("booking_id", "b-gone".into())]), Role::Owner, "FORBIDDEN_TRANSITION"),
        (patch(modify(three.clone()), &[("departure_id", "d-2".into())]), Role::Owner, "INVALID"),
        (modify(json!([{"tier_id": ADULT, "quantity": 4}])), Role::Owner, "CAPACITY_EXCEEDED"),
        (modify(json!([{"tier_id": "x", "quantity": 1}])), Role::Owner, "PRICING_ERROR"),
        (patch(modify(three.clone()), &[("promo_code", "SUMMER10".into())]), Role::Owner, "INVALID"),
        (patch(modify(three.clone()), &[("promo_code", "NOPE".into())]), Role::Owner, "PROMO_REFUSED"),
        (
            patch(modify(three.clone()), &[("expected_total", json!({"amount": 1, "currency": "USD"}))]),
            Role::Owner,
            "PRICE_CHANGED",
        ),
        (patch(modify(three.clone()), &[("overbook", json!({"reason": "x"}))]), Role::Admin, "NOT_AUTHORIZED"),
    ];
    for (a, role, code) in cases {
        assert_eq!(run_err(&mem, "modify_booking.v1", a.clone(), role), code, "{a}");
    }
    let over = patch(modify(json!([{"tier_id": ADULT, "quantity": 4}])), &[("overbook", json!({"reason": "family"}))]);
    let ok = run_ok(&mem, "modify_booking.v1", over, Role::Manager);
    assert!(ok.iter().any(|c| matches!(c, Change::Audit(a) if a.action == "booking.overbooked")));
}

fn cancel(by: &str) -> Value {
    json!({"booking_id": "b-1", "tour_id": TOUR, "departure_id": DEPARTURE, "by": by, "reason": "ill"})
}

#[test]
fn cancel_booking_refunds_by_policy_and_releases_seats() {
    let mem = world();
    mem.put_booking(booking("b-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000));
    mem.put_departure(Departure { booked_count: 10, status: DepartureStatus::Full, ..departure() });
    // Five weeks ahead: the 168 h rule, everything back.
    let early = run_ok(&mem, "cancel_booking.v1", cancel("customer"), Role::Manager);
    let (b, d) = put(&early);
    assert_eq!((b.status, b.cancelled_at), (BookingStatus::Cancelled, Some(now())));
    assert_eq!(b.cancellation.as_ref().map(|c| c.decision.refund_percentage), Some(100));
    assert_eq!(d.map(|d| (d.booked_count, d.status)), Some((8, DepartureStatus::Open)));
    assert!(early.iter().any(|c| matches!(c, Change::RequestRefund(r) if r.amount == usd(10_000))));

    // Three days ahead: half back; a day ahead: nothing, unless the operator cancels.
    for (hours, by, refund) in [(72, "customer", Some(5_000)), (24, "customer", None), (24, "operator", Some(10_000))] {
        let starts = now() + Duration::hours(hours);
        mem.put_departure(Departure {
            starts_at: starts,
            ends_at: starts + Duration::hours(2),
            booked_count: 2,
            ..departure()
        });
        let ch = run_ok(&mem, "cancel_booking.v1", cancel(by), Role::Manager);
        let got = ch.iter().find_map(|c| if let Change::RequestRefund(r) = c { Some(r.amount.amount) } else { None });
        assert_eq!(got, refund, "{hours}h {by}");
    }
    // No policy: a customer gets nothing back.
    mem.state.borrow_mut().policies.clear();
    mem.put_departure(departure());
    let none = run_ok(&mem, "cancel_booking.v1", cancel("customer"), Role::Manager);
    assert!(!none.iter().any(|c| matches!(c, Change::RequestRefund(_))));

    mem.put_booking(booking("b-1", 2, BookingStatus::Cancelled, PaymentStatus::Refunded, 10_000));
    assert!(run_ok(&mem, "cancel_booking.v1", cancel("customer"), Role::Manager).is_empty(), "already cancelled");
    mem.put_booking(booking("b-1", 2, BookingStatus::Completed, PaymentStatus::Paid, 10_000));
    assert_eq!(run_err(&mem, "cancel_booking.v1", cancel("customer"), Role::Manager), "FORBIDDEN_TRANSITION");
    assert_eq!(run_err(&mem, "cancel_booking.v1", cancel("customer"), Role::Guide), "NOT_AUTHORIZED");
    assert_eq!(
        run_err(&mem, "cancel_booking.v1", patch(cancel("customer"), &[("booking_id", "b-404".into())]), Role::Owner),
        "NOT_FOUND"
    );
    assert_eq!(
        run_err(&mem, "cancel_booking.v1", patch(cancel("customer"), &[("tour_id", "t-2".into())]), Role::Owner),
        "INVALID"
    );
    assert_eq!(run_err(&mem, "cancel_booking.v1", cancel("nobody"), Role::Owner), "INVALID");
}

fn attend(nonce: u32, participant: u32, at: DateTime<Utc>) -> Value {
    json!({"nonce": format!("00000000-0000-4000-8000-{nonce:012}"), "booking_id": "b-1",
           "departure_id": DEPARTURE, "participant": participant, "at": at})
}

#[test]
fn check_in_authorization_replay_and_rejections() {
    let mem = world();
    mem.put_booking(booking("b-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000));
    let first = run_write(&mem, "check_in.v1", attend(1, 0, now()), Role::Guide);
    assert!(matches!(&first[..], [Change::PutCheckIn(c), Change::PutBooking(b)]
        if c.recorded_by == GUIDE_USER && b.checked_in == 1));
    // The same intent again (a replay) counts once.
    assert!(run_ok(&mem, "check_in.v1", attend(1, 0, now()), Role::Guide).is_empty());
    assert_eq!(mem.get_booking("b-1").checked_in, 1);
    // Staff may record anywhere.
    run_write(&mem, "mark_no_show.v1", attend(2, 1, now()), Role::Manager);
    assert_eq!((mem.get_booking("b-1").checked_in, mem.get_booking("b-1").no_shows), (1, 1));

    // A guide not leading this departure (or who declined it) may not.
    for status in [crate::guides::AssignmentStatus::Declined, crate::guides::AssignmentStatus::Confirmed] {
        let user = if status == crate::guides::AssignmentStatus::Declined { GUIDE_USER } else { "u-other" };
        mem.state.borrow_mut().departure_guides.insert(
            DEPARTURE.into(),
            vec![DepartureGuide {
                guide_id: GUIDE.into(),
                user_id: Some(user.into()),
                status,
                role: Default::default(),
            }],
        );
        assert_eq!(run_err(&mem, "check_in.v1", attend(3, 0, now()), Role::Guide), "NOT_AUTHORIZED");
    }
    // Taken off the departure (no assignment left): what the guide recorded while it was theirs
    // is still accepted, what they recorded after is not.
    mem.state.borrow_mut().departure_guides.clear();
    mem.state.borrow_mut().guide_removals.insert(
        DEPARTURE.into(),
        vec![crate::guides::GuideRemoval {
            guide_id: GUIDE.into(),
            user_id: Some(GUIDE_USER.into()),
            assigned_at: now() - Duration::days(1),
            removed_at: now() - Duration::minutes(5),
        }],
    );
    let late = now() - Duration::minutes(4);
    assert_eq!(run_err(&mem, "check_in.v1", attend(3, 0, late), Role::Guide), "NOT_AUTHORIZED");
    let earlier = now() - Duration::minutes(6);
    let ch = run_write(&mem, "check_in.v1", attend(5, 0, earlier), Role::Guide);
    assert!(matches!(&ch[..], [Change::PutCheckIn(c), ..] if c.recorded_by == GUIDE_USER && c.at == earlier));
    let soon = now() + MAX_CLOCK_SKEW + Duration::seconds(1);
    let cases: Vec<(Value, &str)> = vec![
        (attend(3, 2, now()), "INVALID"),
        (attend(3, 0, soon), "CLOCK_SKEW"),
        (patch(attend(3, 0, now()), &[("nonce", "n-1".into())]), "INVALID"),
        (patch(attend(3, 0, now()), &[("booking_id", "b-404".into())]), "NOT_FOUND"),
        (patch(attend(3, 0, now()), &[("departure_id", "d-2".into())]), "INVALID"),
    ];
    for (a, code) in cases {
        assert_eq!(run_err(&mem, "check_in.v1", a.clone(), Role::Manager), code, "{a}");
    }
    mem.put_booking(booking("b-1", 2, BookingStatus::Cancelled, PaymentStatus::Refunded, 10_000));
    assert_eq!(run_err(&mem, "mark_no_show.v1", attend(4, 0, now()), Role::Manager), "CONFLICT");
}

#[test]
fn attendance_facts_commute() {
    let t = |m: i64| now() - Duration::hours(2) + Duration::minutes(m);
    let ops = [
        ("mark_no_show.v1", attend(1, 0, t(5))),
        ("check_in.v1", attend(2, 0, t(20))),
        ("check_in.v1", attend(3, 1, t(1))),
        ("mark_no_show.v1", attend(4, 1, t(1))),
        ("mark_no_show.v1", attend(5, 2, t(3))),
    ];
    let mut outcomes = std::collections::BTreeSet::new();
    for order in [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [1, 0, 3, 2, 4], [2, 4, 0, 3, 1]] {
        let mem = world();
        mem.put_booking(booking("b-1", 3, BookingStatus::Confirmed, PaymentStatus::Paid, 15_000));
        for i in order {
            let (name, args) = &ops[i];
            run_write(&mem, name, args.clone(), Role::Manager);
            // Replaying an earlier fact changes nothing.
            run_write(&mem, name, args.clone(), Role::Manager);
        }
        let b = mem.get_booking("b-1");
        outcomes.insert((b.checked_in, b.no_shows));
    }
    // Participant 0: the later check-in wins; 1: a tie goes to the check-in; 2: no-show.
    assert_eq!(outcomes.into_iter().collect::<Vec<_>>(), [(2, 1)]);
}

fn cash_entry(booking_id: &str, amount: i64) -> crate::ledger::LedgerEntry {
    ledger_entry(&format!("cash-{booking_id}-{amount}"), booking_id, crate::ledger::EntryKind::Cash, amount)
}

fn staff_cancel(amount: i64, currency: &str, reason: &str) -> Value {
    patch(
        cancel("customer"),
        &[
            ("refund_override", json!({"amount": amount, "currency": currency, "reason": reason})),
            ("notify_customer", json!(true)),
        ],
    )
}

#[test]
fn staff_override_the_policys_refund_with_a_reason_and_it_is_audited() {
    let mem = world();
    mem.put_booking(booking("b-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000));
    // A day ahead the policy gives nothing back; the manager gives 40.00 back as a gesture.
    let starts = now() + Duration::hours(24);
    mem.put_departure(Departure { starts_at: starts, ends_at: starts + Duration::hours(2), ..departure() });
    let ch = run_ok(&mem, "cancel_booking.v1", staff_cancel(4_000, "USD", "flight cancelled"), Role::Manager);
    let (b, _) = put(&ch);
    let record = b.cancellation.clone().unwrap();
    assert_eq!(record.decision.refund, usd(0), "the policy's answer is kept beside the override");
    assert_eq!(record.refund(), usd(4_000));
    assert_eq!(
        record.refund_override.as_ref().map(|o| (o.reason.as_str(), o.by.as_str())),
        Some(("flight cancelled", STAFF))
    );
    // Paid by card (no money taken by hand): all of it goes back through Stripe.
    assert!(ch.iter().any(|c| matches!(c, Change::RequestRefund(r) if r.amount == usd(4_000))));
    assert_eq!(record.refund_by_hand, None);
    let audit = ch.iter().find_map(|c| if let Change::Audit(a) = c { Some(a.clone()) } else { None }).unwrap();
    assert_eq!((audit.action.as_str(), audit.actor_id.as_str()), (REFUND_OVERRIDDEN, STAFF));
    assert_eq!(audit.detail["reason"], "flight cancelled");
    // The booking keeps 60.00: 40.00 is due back until Stripe gives it.
    let balance = crate::ledger::Balance::of_booking(b);
    assert_eq!((balance.refund_due(), balance.balance_due()), (usd(4_000), usd(0)));
}

#[test]
fn a_refund_of_cash_money_is_a_refund_due_not_a_stripe_refund() {
    let mem = world();
    let mut paid = booking("b-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000);
    paid.paid_amount = usd(10_000);
    mem.put_booking(paid);
    // 30.00 came in cash at the desk, the rest by card: the card money goes back first.
    mem.state.borrow_mut().ledger.insert("c".into(), cash_entry("b-1", 3_000));
    let ch = run_ok(&mem, "cancel_booking.v1", cancel("operator"), Role::Manager);
    let (b, _) = put(&ch);
    let refund = ch.iter().find_map(|c| if let Change::RequestRefund(r) = c { Some(r.amount) } else { None });
    assert_eq!(refund, Some(usd(7_000)));
    assert_eq!(b.cancellation.as_ref().and_then(|c| c.refund_by_hand), Some(usd(3_000)));
    assert_eq!(crate::ledger::Balance::of_booking(b).refund_due(), usd(10_000));
    // All in cash: nothing for Stripe, all of it due back by hand.
    let mem = world();
    mem.put_booking(booking("b-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000));
    mem.state.borrow_mut().ledger.insert("c".into(), cash_entry("b-1", 10_000));
    let ch = run_ok(&mem, "cancel_booking.v1", staff_cancel(2_500, "USD", "half the fee waived"), Role::Owner);
    assert!(!ch.iter().any(|c| matches!(c, Change::RequestRefund(_))));
    let (b, _) = put(&ch);
    assert_eq!(b.cancellation.as_ref().and_then(|c| c.refund_by_hand), Some(usd(2_500)));
}

#[test]
fn a_bad_override_is_refused_at_its_field_and_changes_nothing() {
    let mem = world();
    mem.put_booking(booking("b-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000));
    let field = |a: Value, role: Role| match run(&mem, "cancel_booking.v1", a, role) {
        Err(ApplyError::Rejected(Rejection::Invalid(e))) => e.field,
        other => panic!("expected a field error, got {other:?}"),
    };
    assert_eq!(field(staff_cancel(10_001, "USD", "x"), Role::Manager), "refund_override.amount");
    assert_eq!(field(staff_cancel(-1, "USD", "x"), Role::Manager), "refund_override.amount");
    assert_eq!(field(staff_cancel(100, "EUR", "x"), Role::Manager), "refund_override.currency");
    assert_eq!(field(staff_cancel(100, "EURO", "x"), Role::Manager), "refund_override.currency");
    assert_eq!(field(staff_cancel(100, "USD", "  "), Role::Manager), "refund_override.reason");
    assert_eq!(run_err(&mem, "cancel_booking.v1", staff_cancel(100, "USD", "x"), Role::Customer), "NOT_AUTHORIZED");
    assert_eq!(mem.get_booking("b-1").status, BookingStatus::Confirmed);
}

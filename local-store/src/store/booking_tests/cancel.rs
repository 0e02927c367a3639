//! A booking cancelled at the desk, offline: the seats come back at once, money taken by hand
//! becomes a refund due, and a bad override is refused at its field with nothing written.

use super::*;
use tourdesk_domain::ipc::CancelBooking;

fn input(amount: Option<&str>, reason: Option<&str>) -> CancelBooking {
    CancelBooking {
        booking_id: B1.into(),
        reason: Some("Customer is ill".into()),
        refund_override: amount.map(str::to_string),
        override_reason: reason.map(str::to_string),
        notify_customer: true,
    }
}

/// B1 on D1 with two guests, paid 100.00 in cash at this desk (an entry pending sync).
fn paid_in_cash(s: &Store) {
    let mut unpaid = booking(B1, D1, ANA, 2, 1);
    (unpaid.status, unpaid.payment_status, unpaid.paid_amount, unpaid.confirmed_at) =
        (BookingStatus::Pending, PaymentStatus::Unpaid, usd(0), None);
    s.apply_pull(&pull(
        vec![bucket(
            ALL,
            20,
            vec![put(EntityKind::Booking, &unpaid), put(EntityKind::Departure, &departure(D1, 0, 4, 2))],
        )],
        0,
        vec![],
    ))
    .unwrap();
    s.mutate(&record_payment("00000000-0000-4000-8000-0000000e0001", B1, 10_000, "USD")).unwrap();
}

#[test]
fn the_preview_shows_the_policys_refund_and_the_cancel_queues_with_a_refund_due() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s, 4);
    paid_in_cash(&s);
    assert_eq!(s.departure(D1).unwrap().unwrap().seats_left, 2);

    // No policy on this tour: a customer's cancellation gets nothing back; it was all cash.
    let p = s.cancellation_preview(B1).unwrap().unwrap();
    assert_eq!((p.policy_refund, p.refundable, p.seats_released), (usd(0), usd(10_000), 2));
    assert_eq!((p.to_card, p.by_hand), (usd(0), usd(0)));
    assert_eq!(s.pending_count().unwrap(), 1, "a preview queues nothing");

    // The manager gives 60.00 back anyway, with a reason.
    s.cancel_booking(&input(Some("60.00"), Some("Goodwill: hospital note"))).unwrap();
    let m = s.booking_money(B1).unwrap().unwrap();
    assert_eq!(m.status, BookingStatus::Cancelled);
    assert_eq!((m.refund_due, m.balance_due), (usd(6_000), usd(0)), "cash money is due back by hand");
    let b = rows::booking(&s.conn(), ORG, B1).unwrap().unwrap();
    let record = b.cancellation.unwrap();
    assert_eq!(record.refund_by_hand, Some(usd(6_000)));
    assert_eq!(
        record.refund_override.map(|o| (o.amount, o.reason, o.by)),
        Some((usd(6_000), "Goodwill: hospital note".into(), "u-staff".into()))
    );
    assert_eq!(s.departure(D1).unwrap().unwrap().seats_left, 4, "the seats are back at once");
    assert_eq!(s.pending_count().unwrap(), 2);
    let queued: (String, String) = s
        .conn()
        .query_row("SELECT name, args FROM outbox ORDER BY mutation_id DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(queued.0, "cancel_booking.v1");
    let args: Value = serde_json::from_str(&queued.1).unwrap();
    assert_eq!(
        args["refund_override"],
        json!({"amount": 6000, "currency": "USD", "reason": "Goodwill: hospital note"})
    );
    assert_eq!(args["notify_customer"], json!(true));

    // Cancelled once: no second preview, and cancelling again changes nothing.
    assert!(matches!(s.cancellation_preview(B1), Err(StoreError::Rejected(Rejection::Conflict { .. }))));
}

#[test]
fn a_bad_override_is_refused_at_its_field_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s, 4);
    paid_in_cash(&s);
    for (amount, reason, field) in [
        ("100.01", "too much", "refund_override.amount"),
        ("ten", "typo", "refund_override.amount"),
        ("-1", "negative", "refund_override.amount"),
        ("20.00", "", "refund_override.reason"),
    ] {
        match s.cancel_booking(&input(Some(amount), Some(reason))) {
            Err(StoreError::Rejected(Rejection::Invalid(e))) => assert_eq!(e.field, field, "{amount} {reason}"),
            other => panic!("{amount} {reason}: {other:?}"),
        }
    }
    assert_eq!(s.pending_count().unwrap(), 1, "only the payment is queued");
    assert_eq!(rows::booking(&s.conn(), ORG, B1).unwrap().unwrap().status, BookingStatus::Confirmed);
    assert_eq!(s.departure(D1).unwrap().unwrap().seats_left, 2);
    // A guide may not cancel bookings.
    let dir = tempfile::tempdir().unwrap();
    let g = store(&dir, Role::Guide);
    seed(&g, 4);
    g.apply_pull(&pull(vec![bucket(ALL, 20, vec![put(EntityKind::Booking, &booking(B1, D1, ANA, 2, 1))])], 0, vec![]))
        .unwrap();
    assert!(matches!(g.cancel_booking(&input(None, None)), Err(StoreError::Rejected(Rejection::NotAuthorized { .. }))));
}

//! A booking moved to another departure offline: both seat counts follow at once, the intent is
//! queued, and a server refusal puts everything back.

use super::*;

fn move_to(to: &str, expected: Option<i64>) -> Mutation {
    let mut args = json!({"booking_id": B1, "tour_id": TOUR, "from_departure_id": D1, "to_departure_id": to,
                          "reason": "Customer asked"});
    if let Some(a) = expected {
        args["expected_total"] = json!({"amount": a, "currency": "USD"});
    }
    Mutation::decode("move_booking.v1", &args).unwrap()
}

fn on_d1(s: &Store, pax: u32) {
    let b = booking(B1, D1, ANA, pax, 1);
    s.apply_pull(&pull(
        vec![bucket(
            ALL,
            20,
            vec![put(EntityKind::Departure, &departure(D1, 0, 4, pax)), put(EntityKind::Booking, &b)],
        )],
        0,
        vec![],
    ))
    .unwrap();
}

fn row(s: &Store, id: &str) -> Booking {
    rows::booking(&s.conn(), ORG, id).unwrap().unwrap()
}

#[test]
fn a_move_offline_moves_the_seats_and_a_refusal_puts_them_back() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s, 4);
    on_d1(&s, 2);
    s.mutate(&move_to(D2, Some(10_000))).unwrap();
    assert_eq!(row(&s, B1).departure_id, D2);
    assert_eq!(s.departure(D1).unwrap().unwrap().seats_left, 4);
    assert_eq!(s.departure(D2).unwrap().unwrap().seats_left, 8);
    let on_d2 = s.bookings_of_departure(D2).unwrap();
    assert!(on_d2.len() == 1 && on_d2[0].pending);
    assert!(s.bookings_of_departure(D1).unwrap().is_empty());
    assert_eq!(s.pending_count().unwrap(), 1);

    // The server refused it (someone took D2's seats meanwhile): the booking is back on D1.
    s.apply_pull(&pull(
        vec![bucket(ALL, 40, vec![put(EntityKind::Departure, &departure(D2, 1, 10, 10))])],
        1,
        vec![rejected(1, "CONFLICT", "that departure is sold out")],
    ))
    .unwrap();
    assert_eq!(row(&s, B1).departure_id, D1);
    assert_eq!(s.departure(D1).unwrap().unwrap().seats_left, 2);
    assert_eq!(s.departure(D2).unwrap().unwrap().seats_left, 0);
    assert_eq!(s.pending_count().unwrap(), 0);
}

#[test]
fn a_refused_move_changes_and_queues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s, 4);
    on_d1(&s, 2);
    s.apply_pull(&pull(vec![bucket(ALL, 30, vec![put(EntityKind::Departure, &departure(D2, 1, 10, 9))])], 0, vec![]))
        .unwrap();
    match s.mutate(&move_to(D2, None)) {
        Err(StoreError::Rejected(Rejection::Conflict { field, .. })) => assert_eq!(field, "to_departure_id"),
        other => panic!("expected a refusal at to_departure_id, got {other:?}"),
    }
    assert_eq!(row(&s, B1).departure_id, D1);
    assert_eq!(s.departure(D2).unwrap().unwrap().seats_left, 1);
    assert_eq!(s.pending_count().unwrap(), 0);
}

#[test]
fn the_move_dialog_offers_only_departures_with_room_and_moves_at_the_price_shown() {
    use tourdesk_domain::ipc::MoveBooking;
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s, 4);
    on_d1(&s, 2);
    // A third departure of the tour, sold out: not offered.
    let full = "d-3";
    s.apply_pull(&pull(vec![bucket(ALL, 30, vec![put(EntityKind::Departure, &departure(full, 2, 4, 4))])], 0, vec![]))
        .unwrap();
    let options = s.move_options(B1).unwrap();
    let ids: Vec<&str> = options.iter().map(|o| o.departure.departure.id.as_str()).collect();
    assert_eq!(ids, [D2], "the current departure and a full one are left out");
    let o = &options[0];
    assert_eq!((o.money.old_total, o.money.new_total, o.money.difference), (usd(10_000), usd(10_000), usd(0)));
    assert_eq!((o.money.balance_due, o.money.refund_due), (usd(0), usd(0)));
    assert_eq!(s.pending_count().unwrap(), 0, "offering queues nothing");

    // A total the dialog did not show is refused at the desk; nothing moves.
    let shown = |total: i64| MoveBooking {
        booking_id: B1.into(),
        to_departure_id: D2.into(),
        expected_total: usd(total),
        reason: Some("Customer asked".into()),
    };
    assert!(matches!(s.move_booking(&shown(9_000)), Err(StoreError::Rejected(Rejection::PriceChanged { .. }))));
    assert_eq!(row(&s, B1).departure_id, D1);
    s.move_booking(&shown(10_000)).unwrap();
    assert_eq!(row(&s, B1).departure_id, D2);
    assert_eq!(s.pending_count().unwrap(), 1);
    assert!(s.move_options(B1).unwrap().iter().all(|o| o.departure.departure.id != D2));
}

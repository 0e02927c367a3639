//! Moving a booking to another departure of its tour (issues 13 and 15), on a real server and
//! PostgreSQL: the seats leave one departure and arrive on the other in one decision, audited and
//! replicated to both departures' buckets; two desks moving a booking onto the same last seat
//! get one move and one refusal (capacity never exceeded); a refusal writes nothing.
#![allow(clippy::unwrap_used)]

use serde_json::json;
use tourdesk_domain::mutation::Mutation;
use tourdesk_sync_server::demo_data;
use tourdesk_tests::{Env, empty_departure, m, phone_booking};

/// Another open departure of `tour` more than a day out with nothing sold, other than `not`.
async fn other_departure(env: &Env, tour: &str, not: &str) -> String {
    env.pg()
        .await
        .query_one(
            "SELECT id FROM schedules WHERE tour_id = $1 AND id <> $2 AND status = 'open' AND booked_count = 0
               AND starts_at > now() + interval '2 days' ORDER BY starts_at, id LIMIT 1",
            &[&tour, &not],
        )
        .await
        .unwrap()
        .get(0)
}

fn move_to(booking: &str, dep: &(String, String, String), to: &str) -> Mutation {
    m(
        "move_booking.v1",
        json!({"booking_id": booking, "tour_id": dep.1, "from_departure_id": dep.0, "to_departure_id": to,
               "reason": "customer asked"}),
    )
}

async fn booked(env: &Env, dep: &str) -> i64 {
    env.scalar("SELECT booked_count::bigint FROM schedules WHERE id = $1", &[&dep]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_move_shifts_the_seats_audits_and_replicates_to_both_departures() {
    let env = Env::start().await;
    let dep = empty_departure(&env).await;
    let to = other_departure(&env, &dep.1, &dep.0).await;
    let desk = env.desk("front");
    let client = env.client(demo_data::DEMO_MANAGER_EMAIL);
    client.sync_once(&desk).await.unwrap();
    let booking = phone_booking(&desk, &dep, "mover@example.com", 2);
    client.sync_once(&desk).await.unwrap();
    assert_eq!((booked(&env, &dep.0).await, booked(&env, &to).await), (2, 0));

    desk.mutate(&move_to(&booking, &dep, &to)).unwrap();
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    assert_eq!((booked(&env, &dep.0).await, booked(&env, &to).await), (0, 2));
    let pg = env.pg().await;
    let row = pg.query_one("SELECT departure_id, status FROM bookings WHERE id = $1", &[&booking]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), to);
    let audit = pg
        .query_one(
            "SELECT actor_user_id, after FROM audit_logs WHERE action = 'booking.moved' AND entity_id = $1",
            &[&booking],
        )
        .await
        .unwrap();
    let detail: serde_json::Value = audit.get(1);
    assert_eq!((detail["from_departure_id"].as_str(), detail["to_departure_id"].as_str()), (Some(&*dep.0), Some(&*to)));
    assert_eq!(detail["seats"], 2);
    // The booking row is in the change log of both departures' buckets (a guide of the old one
    // sees it leave) and the organization's.
    for bucket in [format!("schedule:{}", dep.0), format!("schedule:{to}")] {
        let n = env
            .scalar(
                "SELECT count(*) FROM sync_changes WHERE bucket = $1 AND row_id = $2 AND row->>'departure_id' = $3",
                &[&bucket, &booking, &to],
            )
            .await;
        assert_eq!(n, 1, "{bucket}");
    }
    // A second desk receives the booking on its new departure; the first ends where the server is.
    let other = env.desk("back-office");
    env.client(demo_data::DEMO_OWNER_EMAIL).sync_once(&other).await.unwrap();
    assert_eq!(other.bookings_of_departure(&to).unwrap().len(), 1);
    assert!(other.bookings_of_departure(&dep.0).unwrap().is_empty());
    client.sync_once(&desk).await.unwrap();
    assert_eq!(desk.pending_count().unwrap(), 0);
    assert_eq!(desk.departure(&to).unwrap().unwrap().departure.booked_count, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_desks_moving_onto_the_last_seat_get_one_move_and_one_refusal_that_writes_nothing() {
    let env = Env::start().await;
    let dep = empty_departure(&env).await;
    let to = other_departure(&env, &dep.1, &dep.0).await;
    let (a, b) = (env.desk("a"), env.desk("b"));
    let (ca, cb) = (env.client(demo_data::DEMO_MANAGER_EMAIL), env.client(demo_data::DEMO_OWNER_EMAIL));
    ca.sync_once(&a).await.unwrap();
    cb.sync_once(&b).await.unwrap();
    let ba = phone_booking(&a, &dep, "ana@example.com", 1);
    let bb = phone_booking(&b, &dep, "bo@example.com", 1);
    ca.sync_once(&a).await.unwrap();
    cb.sync_once(&b).await.unwrap();
    // One seat left on the target (both desks still believe it roomy).
    let pg = env.pg().await;
    pg.execute("UPDATE schedules SET booked_count = capacity - 1 WHERE id = $1", &[&to]).await.unwrap();
    let capacity = env.scalar("SELECT capacity::bigint FROM schedules WHERE id = $1", &[&to]).await;

    a.mutate(&move_to(&ba, &dep, &to)).unwrap();
    b.mutate(&move_to(&bb, &dep, &to)).unwrap();
    let (ra, rb) = tokio::join!(ca.sync_once(&a), cb.sync_once(&b));
    ra.unwrap();
    rb.unwrap();

    assert_eq!(booked(&env, &to).await, capacity, "never past capacity");
    assert_eq!(booked(&env, &dep.0).await, 1, "the loser's seat stayed where it was");
    let moved =
        env.scalar("SELECT count(*) FROM bookings WHERE id IN ($1, $2) AND departure_id = $3", &[&ba, &bb, &to]).await;
    assert_eq!(moved, 1);
    let refusals: Vec<_> = a.rejections().unwrap().into_iter().chain(b.rejections().unwrap()).collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!((refusals[0].name.as_str(), refusals[0].code.as_deref()), ("move_booking.v1", Some("CONFLICT")));
    assert!(refusals[0].detail.as_deref().unwrap_or("").contains("sold out"), "{refusals:?}");
    let loser = if refusals[0].args["booking_id"] == ba { &ba } else { &bb };
    let audited =
        env.scalar("SELECT count(*) FROM audit_logs WHERE action = 'booking.moved' AND entity_id = $1", &[loser]).await;
    assert_eq!(audited, 0, "a refusal writes nothing");
    assert_eq!(env.scalar("SELECT count(*) FROM audit_logs WHERE action = 'booking.moved'", &[]).await, 1);
    let on = pg.query_one("SELECT departure_id FROM bookings WHERE id = $1", &[loser]).await.unwrap();
    assert_eq!(on.get::<_, String>(0), dep.0);
    // The losing desk shows its booking back where the server has it.
    let loser_desk = if loser == &ba { &a } else { &b };
    assert_eq!(loser_desk.bookings_of_departure(&dep.0).unwrap().iter().filter(|s| &s.id == loser).count(), 1);
}

/// The desk's move dialog: the departures it offers, decided by the domain on the desk, and the
/// move at the total it showed, replayed on the server with the same price (a total nobody was
/// shown is refused as `PRICE_CHANGED` at the desk already, queueing nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_dialog_offers_departures_with_room_and_the_server_moves_at_the_price_shown() {
    use tourdesk_domain::ipc::MoveBooking;
    let env = Env::start().await;
    let dep = empty_departure(&env).await;
    let to = other_departure(&env, &dep.1, &dep.0).await;
    let desk = env.desk("front");
    let client = env.client(demo_data::DEMO_MANAGER_EMAIL);
    client.sync_once(&desk).await.unwrap();
    let booking = phone_booking(&desk, &dep, "dialog@example.com", 2);
    client.sync_once(&desk).await.unwrap();

    let options = desk.move_options(&booking).unwrap();
    assert!(options.iter().all(|o| o.departure.departure.id != dep.0 && o.departure.seats_left >= 2));
    assert!(options.iter().all(|o| o.departure.departure.tour_id == dep.1));
    let o = options.iter().find(|o| o.departure.departure.id == to).expect("the other departure is offered");
    // A total nobody was shown: refused at the desk, nothing queued.
    let wrong = tourdesk_domain::Money::new(o.money.new_total.amount + 1, o.money.new_total.currency);
    desk.mutate(&m(
        "move_booking.v1",
        json!({"booking_id": booking, "tour_id": dep.1, "from_departure_id": dep.0, "to_departure_id": to,
               "expected_total": wrong}),
    ))
    .unwrap_err();
    desk.move_booking(&MoveBooking {
        booking_id: booking.clone(),
        to_departure_id: to.clone(),
        expected_total: o.money.new_total,
        reason: Some("Customer asked at the desk".into()),
    })
    .unwrap();
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    assert_eq!((booked(&env, &dep.0).await, booked(&env, &to).await), (0, 2));
    let moved = env
        .scalar("SELECT count(*) FROM audit_logs WHERE action = 'booking.moved' AND entity_id = $1", &[&booking])
        .await;
    assert_eq!(moved, 1);
    let total = env.scalar("SELECT total_minor FROM bookings WHERE id = $1", &[&booking]).await;
    assert_eq!(total, o.money.new_total.amount);
}

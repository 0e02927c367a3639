//! Modifying a booking from a desk (issue 13): new counts per tier decided offline on the desk,
//! then replayed authoritatively on a real server and PostgreSQL under the departure's lock. A
//! dearer booking owes a balance; a cheaper one paid by card is refunded at the (fake) Stripe
//! after commit by the refunds job, one paid in cash keeps a refund due by hand; two desks
//! adding seats offline to the last seats get one change and one refusal in the inbox.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tourdesk_domain::ipc::{ModifyBooking, ModifyLine};
use tourdesk_domain::money::Money;
use tourdesk_domain::status::{BookingStatus, PaymentStatus};
use tourdesk_local_store::Store;
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::stripe::FakeStripe;
use tourdesk_tests::{Env, Fakes, empty_departure, m, nonce, paid_website_booking, phone_booking, refunds_sent};

/// The dialog's change to `seats` of the departure's first tier, at the price `desk` previews.
fn to_seats(desk: &Store, booking: &str, tier: &str, seats: u32) -> ModifyBooking {
    let mut input = ModifyBooking {
        booking_id: booking.into(),
        lines: vec![ModifyLine { tier_id: tier.into(), quantity: seats }],
        promo_code: None,
        manual_discount: None,
        manual_discount_reason: None,
        reason: Some("Customer called".into()),
        expected_total: None,
    };
    input.expected_total = Some(desk.modify_preview(&input).unwrap().money.new_total);
    input
}

async fn audited(env: &Env, booking: &str) -> i64 {
    env.scalar("SELECT count(*) FROM audit_logs WHERE action = 'booking.modified' AND entity_id = $1", &[&booking])
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_booking_modified_up_owes_a_balance_and_down_is_refunded_at_stripe() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let dep = empty_departure(&env).await;
    let (booking, paid) = paid_website_booking(&env, &stripe, &dep.0, &dep.2, "grace@example.com", 2).await;
    let seat = paid / 2;
    let desk = env.desk("front");
    let client = env.client(demo_data::DEMO_MANAGER_EMAIL);
    client.sync_once(&desk).await.unwrap();
    assert_eq!(desk.booking_money(&booking).unwrap().unwrap().status, BookingStatus::Confirmed);

    // Up a seat, offline: the preview and the desk at once show one seat's balance due.
    let up = to_seats(&desk, &booking, &dep.2, 3);
    let preview = desk.modify_preview(&up).unwrap();
    assert_eq!((preview.seats_before, preview.seats_after), (2, 3));
    assert_eq!((preview.money.balance_due.amount, preview.money.refund_due.amount), (seat, 0));
    desk.modify_booking(&up).unwrap();
    let shown = desk.booking_money(&booking).unwrap().unwrap();
    assert_eq!((shown.status, shown.balance_due.amount), (BookingStatus::Modified, seat));
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    let pg = env.pg().await;
    let row = pg
        .query_one(
            "SELECT status, payment_status, total_minor, paid_amount_minor, participant_count FROM bookings WHERE id = $1",
            &[&booking],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            row.get::<_, String>(0),
            row.get::<_, String>(1),
            row.get::<_, i64>(2),
            row.get::<_, i64>(3),
            row.get::<_, i32>(4)
        ),
        ("modified".into(), "partial".into(), paid + seat, paid, 3)
    );
    assert_eq!(env.scalar("SELECT booked_count::bigint FROM schedules WHERE id = $1", &[&dep.0]).await, 3);
    assert_eq!(audited(&env, &booking).await, 1);
    assert!(refunds_sent(&stripe).is_empty());

    // Down to one seat: a seat's worth above the new price goes back to the card at Stripe.
    let down = to_seats(&desk, &booking, &dep.2, 1);
    let preview = desk.modify_preview(&down).unwrap();
    assert_eq!((preview.money.refund_due.amount, preview.to_card.amount, preview.by_hand.amount), (seat, seat, 0));
    desk.modify_booking(&down).unwrap();
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while refunds_sent(&stripe).is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sent = refunds_sent(&stripe);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].0.as_deref().unwrap_or_default().starts_with(&format!("refund-modify-{booking}-")), "{sent:?}");
    assert_eq!(sent[0].1.as_deref(), Some(&*seat.to_string()));
    // Stripe has it before the job's transaction commits the mark (and queues the refund's
    // message): wait for the mark.
    let mut refund_status = String::new();
    while refund_status != "succeeded" && tokio::time::Instant::now() < deadline + Duration::from_secs(5) {
        refund_status =
            pg.query_one("SELECT status FROM refunds WHERE booking_id = $1", &[&booking]).await.unwrap().get(0);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(refund_status, "succeeded");
    assert_eq!(audited(&env, &booking).await, 2);
    assert_eq!(env.scalar("SELECT booked_count::bigint FROM schedules WHERE id = $1", &[&dep.0]).await, 1);
    // Sent to Stripe, it counts as refunded: nothing owed either way, here and on the desk.
    let settled = desk.booking_money(&booking).unwrap().unwrap();
    assert_eq!((settled.balance_due.amount, settled.refund_due.amount), (0, 0));
    assert_eq!((settled.refunded.amount, settled.payment_status), (seat, PaymentStatus::PartiallyRefunded));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cash_booking_modified_down_keeps_a_refund_due_by_hand() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let dep = empty_departure(&env).await;
    let desk = env.desk("front");
    let client = env.client(demo_data::DEMO_MANAGER_EMAIL);
    client.sync_once(&desk).await.unwrap();
    let booking = phone_booking(&desk, &dep, "cash@example.com", 3);
    let total = desk.booking_money(&booking).unwrap().unwrap().total;
    desk.mutate(&m(
        "record_payment.v1",
        json!({"nonce": nonce(), "booking_id": booking, "method": "cash", "amount": total.amount,
               "currency": total.currency.as_str(), "at": Utc::now()}),
    ))
    .unwrap();
    client.sync_once(&desk).await.unwrap();
    let seat = total.amount / 3;

    let down = to_seats(&desk, &booking, &dep.2, 1);
    let preview = desk.modify_preview(&down).unwrap();
    assert_eq!((preview.to_card.amount, preview.by_hand.amount), (0, 2 * seat));
    desk.modify_booking(&down).unwrap();
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    // Nothing for Stripe; the refund is due by hand, on the server's row and on the desk.
    assert_eq!(env.scalar("SELECT count(*) FROM refunds WHERE booking_id = $1", &[&booking]).await, 0);
    let settled = desk.booking_money(&booking).unwrap().unwrap();
    assert_eq!(settled.refund_due, Money::new(2 * seat, total.currency));
    let due = env
        .scalar(
            "SELECT (paid_amount_minor - refunded_amount_minor - total_minor)::bigint FROM bookings WHERE id = $1",
            &[&booking],
        )
        .await;
    assert_eq!(due, 2 * seat);
    let by_hand = env
        .scalar(
            "SELECT (after->>'refund_by_hand')::bigint FROM audit_logs WHERE action = 'booking.modified' AND entity_id = $1",
            &[&booking],
        )
        .await;
    assert_eq!(by_hand, 2 * seat);
    assert!(refunds_sent(&stripe).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_offline_desks_adding_the_last_seat_get_one_change_and_one_refusal_in_the_inbox() {
    let env = Env::start().await;
    let dep = empty_departure(&env).await;
    let (a, b) = (env.desk("front"), env.desk("back"));
    let (ca, cb) = (env.client(demo_data::DEMO_MANAGER_EMAIL), env.client(demo_data::DEMO_OWNER_EMAIL));
    ca.sync_once(&a).await.unwrap();
    let left = a.departure(&dep.0).unwrap().unwrap().seats_left;
    let mine = phone_booking(&a, &dep, "first@example.com", 1);
    let theirs = phone_booking(&a, &dep, "second@example.com", 1);
    // Fill the departure but one seat.
    if left > 3 {
        phone_booking(&a, &dep, "filler@example.com", left - 3);
    }
    ca.sync_once(&a).await.unwrap();
    cb.sync_once(&b).await.unwrap();
    assert_eq!(b.departure(&dep.0).unwrap().unwrap().seats_left, 1);

    // Both offline, each adds a seat to its booking: each desk alone sees room.
    a.modify_booking(&to_seats(&a, &mine, &dep.2, 2)).unwrap();
    b.modify_booking(&to_seats(&b, &theirs, &dep.2, 2)).unwrap();
    ca.sync_once(&a).await.unwrap();
    cb.sync_once(&b).await.unwrap();
    assert!(a.rejections().unwrap().is_empty(), "{:?}", a.rejections().unwrap());
    let refused = b.rejections().unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(
        (refused[0].name.as_str(), refused[0].code.as_deref()),
        ("modify_booking.v1", Some("CAPACITY_EXCEEDED"))
    );
    // The server never sold past capacity; the refused desk is back to what the server holds.
    let capacity = env.scalar("SELECT capacity::bigint FROM schedules WHERE id = $1", &[&dep.0]).await;
    assert_eq!(env.scalar("SELECT booked_count::bigint FROM schedules WHERE id = $1", &[&dep.0]).await, capacity);
    assert_eq!(b.booking_money(&theirs).unwrap().unwrap().pricing.participants(), 1);
    assert_eq!(audited(&env, &theirs).await, 0);
    assert_eq!(audited(&env, &mine).await, 1);
}

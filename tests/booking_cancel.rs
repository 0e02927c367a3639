//! Cancelling a booking from a desk (issue 13): decided offline on the desk with the policy's
//! refund or staff's override, then replayed authoritatively on a real server and PostgreSQL.
//! Card money goes back at the (fake) Stripe after commit through the refunds job, money taken
//! by hand stays a refund due, the override is audited, the customer is mailed, and a bad
//! override is a recorded rejection that writes nothing.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tourdesk_domain::hlc::Hlc;
use tourdesk_domain::ipc::CancelBooking;
use tourdesk_domain::mutation::Mutation;
use tourdesk_domain::protocol::{MutationEnvelope, OutcomeStatus, PushRequest, SCHEMA_VERSION};
use tourdesk_domain::status::BookingStatus;
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_testkit::stripe::FakeStripe;
use tourdesk_tests::{
    Env, Fakes, empty_departure, m, nonce, paid_booking, phone_booking, push_raw, refunds_sent, sign_in,
};

fn decimal(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_cancels_a_card_booking_offline_with_an_override_refunded_at_stripe_audited_and_mailed() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), smtp: Some(&smtp), ..Fakes::default() }).await;
    let dep = empty_departure(&env).await;
    let (booking, paid) = paid_booking(&env, &stripe, &dep, "grace@example.com", 2).await;
    let desk = env.desk("front");
    let client = env.client(demo_data::DEMO_MANAGER_EMAIL);
    client.sync_once(&desk).await.unwrap();
    let preview = desk.cancellation_preview(&booking).unwrap().unwrap();
    assert_eq!(preview.refundable.amount, paid);
    assert_eq!(preview.to_card.amount + preview.by_hand.amount, preview.policy_refund.amount);
    assert_eq!(preview.by_hand.amount, 0, "all of it was card money");

    // Offline, the manager cancels and gives back a third, whatever the policy says.
    let third = paid / 3;
    desk.cancel_booking(&CancelBooking {
        booking_id: booking.clone(),
        reason: Some("Customer is ill".into()),
        refund_override: Some(decimal(third)),
        override_reason: Some("Doctor's note".into()),
        notify_customer: true,
    })
    .unwrap();
    let shown = desk.booking_money(&booking).unwrap().unwrap();
    assert_eq!((shown.status, shown.refund_due.amount), (BookingStatus::Cancelled, third));

    // Back online: the server decides the same, refunds the card once and audits the override.
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    let pg = env.pg().await;
    let status: String = pg.query_one("SELECT status FROM bookings WHERE id = $1", &[&booking]).await.unwrap().get(0);
    assert_eq!(status, "cancelled");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while refunds_sent(&stripe).is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(refunds_sent(&stripe), [(Some(format!("refund-{booking}")), Some(third.to_string()))]);
    let overridden = env
        .scalar(
            "SELECT count(*) FROM audit_logs WHERE action = 'booking.refund_overridden' AND entity_id = $1
               AND after->>'reason' = 'Doctor''s note'",
            &[&booking],
        )
        .await;
    assert_eq!(overridden, 1);
    let cancelled = env
        .scalar(
            "SELECT count(*) FROM audit_logs WHERE action = 'cancel_booking.v1' AND entity = 'booking' AND entity_id = $1",
            &[&booking],
        )
        .await;
    assert_eq!(cancelled, 1);

    // The customer hears of it once, with the refund to the card.
    smtp.wait_for(2, Duration::from_secs(15)).await;
    let mails: Vec<_> = smtp
        .messages()
        .into_iter()
        .filter(|m| m.subject.starts_with("Booking cancelled") && m.to[0] == "grace@example.com")
        .collect();
    assert_eq!(mails.len(), 1, "{:?}", smtp.messages());
    assert!(mails[0].text.contains("goes back to the card"), "{}", mails[0].text);

    // Another round sends nothing again.
    client.sync_once(&desk).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(refunds_sent(&stripe).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cash_is_a_refund_due_and_a_bad_override_is_rejected_writing_nothing() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let dep = empty_departure(&env).await;
    let desk = env.desk("front");
    let client = env.client(demo_data::DEMO_MANAGER_EMAIL);
    client.sync_once(&desk).await.unwrap();
    let cash_booking = phone_booking(&desk, &dep, "cash@example.com", 1);
    let other = phone_booking(&desk, &dep, "other@example.com", 1);
    let total = desk.booking_money(&cash_booking).unwrap().unwrap().total;
    let currency = total.currency.as_str().to_string();
    for b in [&cash_booking, &other] {
        desk.mutate(&m(
            "record_payment.v1",
            json!({"nonce": nonce(), "booking_id": b, "method": "cash", "amount": total.amount,
                   "currency": currency, "at": Utc::now()}),
        ))
        .unwrap();
    }
    desk.mutate(&m(
        "cancel_booking.v1",
        json!({"booking_id": cash_booking, "tour_id": dep.1, "departure_id": dep.0, "by": "operator"}),
    ))
    .unwrap();
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    // All of it was cash: nothing for Stripe; the refund is due by hand, on the server's row too.
    let settled = desk.booking_money(&cash_booking).unwrap().unwrap();
    assert_eq!((settled.status, settled.refund_due), (BookingStatus::Cancelled, total));
    let queued = env.scalar("SELECT count(*) FROM refunds WHERE booking_id = $1", &[&cash_booking]).await;
    assert_eq!(queued, 0);
    let by_hand = env
        .scalar(
            "SELECT (cancellation->'refund_by_hand'->>'amount')::bigint FROM bookings WHERE id = $1",
            &[&cash_booking],
        )
        .await;
    assert_eq!(by_hand, total.amount);

    // A push a desk could not have made (above the money kept, no reason): recorded rejections.
    let token = sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let envelope = |id: u64, m: Mutation| MutationEnvelope {
        id,
        name: m.name().into(),
        args: m.args(),
        hlc: Hlc::at(Utc::now(), id, "raw").to_string(),
    };
    let cancel = |amount: i64, reason: &str| {
        m(
            "cancel_booking.v1",
            json!({"booking_id": other, "tour_id": dep.1, "departure_id": dep.0,
                   "refund_override": {"amount": amount, "currency": currency, "reason": reason}}),
        )
    };
    let req = PushRequest {
        client_id: nonce(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![envelope(1, cancel(total.amount + 1, "too much")), envelope(2, cancel(100, " "))],
    };
    let resp = push_raw(&env.base_url(), &token, &req).await;
    let got: Vec<_> = resp.results.iter().map(|r| (r.status, r.code.as_deref())).collect();
    assert_eq!(got, [(OutcomeStatus::Rejected, Some("INVALID")), (OutcomeStatus::Rejected, Some("INVALID"))]);
    let detail = |i: usize| resp.results[i].detail.clone().unwrap_or_default();
    assert!(detail(0).contains("refund_override.amount"), "{}", detail(0));
    assert!(detail(1).contains("refund_override.reason"), "{}", detail(1));
    let status: String =
        env.pg().await.query_one("SELECT status FROM bookings WHERE id = $1", &[&other]).await.unwrap().get(0);
    assert_eq!(status, "confirmed");
    let overridden =
        env.scalar("SELECT count(*) FROM audit_logs WHERE action = 'booking.refund_overridden'", &[]).await;
    assert_eq!(overridden, 0);
    assert!(refunds_sent(&stripe).is_empty());
}

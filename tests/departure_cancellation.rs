//! Cancelling a departure from a desk (issue 12): pushed against a real server and PostgreSQL,
//! with a fake Stripe at the HTTP boundary and a real SMTP sink. Every booking on the departure
//! is cancelled, including one sold while the cancelling desk was offline; each paid one is
//! refunded at Stripe once, with its idempotency key; each customer is e-mailed the reason and a
//! link to pick another date; seats and audit rows follow. A guide's push is rejected.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::{Datelike, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tourdesk_domain::protocol::{MutationEnvelope, OutcomeStatus, PushRequest, SCHEMA_VERSION};
use tourdesk_domain::status::{BookingStatus, DepartureStatus};
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_testkit::stripe::FakeStripe;
use tourdesk_tests::{Env, Fakes, m, paid_booking, push_raw, refunds_sent, sign_in};

const REASON: &str = "Storm warning: the harbour is closed";

/// An open departure more than three days out with nothing sold, its tour's name and first tier.
async fn empty_departure(env: &Env, skip: &[String]) -> (String, String, String, String) {
    let row = env
        .pg()
        .await
        .query_one(
            "SELECT s.id, s.tour_id, t.name, p.id FROM schedules s
             JOIN tours t ON t.id = s.tour_id
             JOIN pricing_tiers p ON p.tour_id = s.tour_id
             WHERE s.status = 'open' AND s.booked_count = 0 AND s.capacity >= 8
               AND s.starts_at > now() + interval '3 days' AND NOT (s.id = ANY($1))
             ORDER BY s.starts_at, p.sort_order, p.id LIMIT 1",
            &[&skip],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2), row.get(3))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_departure_refunds_and_tells_every_customer() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), smtp: Some(&smtp), ..Fakes::default() }).await;
    let (dep, tour, tour_name, tier) = empty_departure(&env, &[]).await;
    let on = (dep.clone(), tour.clone(), tier.clone());

    // Two paid bookings from the website, known to the cancelling desk.
    let (ada, ada_paid) = paid_booking(&env, &stripe, &on, "ada@example.com", 2).await;
    let (bob, bob_paid) = paid_booking(&env, &stripe, &on, "bob@example.com", 1).await;
    let desk = env.desk("cancelling");
    let client = env.client(demo_data::DEMO_MANAGER_EMAIL);
    client.sync_once(&desk).await.unwrap();
    let preview = desk.departure_cancellation_preview(&dep).unwrap().unwrap();
    assert_eq!((preview.bookings, preview.guests), (2, 3));
    assert_eq!(preview.refunds.iter().map(|m| m.amount).sum::<i64>(), ada_paid + bob_paid);

    // The desk goes offline. Meanwhile another desk sells a seat (unpaid) and the website one more
    // (paid): the cancelling desk never sees either before it cancels.
    let other = env.desk("other");
    let other_client = env.client(demo_data::DEMO_OWNER_EMAIL);
    other_client.sync_once(&other).await.unwrap();
    let customer = uuid::Uuid::new_v4().to_string();
    other
        .mutate(&m(
            "create_customer.v1",
            json!({"id": customer, "email": "dora@example.com", "first_name": "Dora", "last_name": "Desk",
                   "hlc": tourdesk_domain::hlc::Hlc::at(Utc::now(), 0, "other").to_string()}),
        ))
        .unwrap();
    let dora = uuid::Uuid::new_v4().to_string();
    other
        .mutate(&m(
            "create_booking.v1",
            json!({"id": dora, "tour_id": tour, "departure_id": dep, "customer_id": customer,
                   "lines": [{"tier_id": tier, "quantity": 1}], "reference_year": Utc::now().year(),
                   "reference_entropy": uuid::Uuid::new_v4().as_u64_pair().0}),
        ))
        .unwrap();
    other_client.sync_once(&other).await.unwrap();
    assert!(other.rejections().unwrap().is_empty());
    let (cy, cy_paid) = paid_booking(&env, &stripe, &on, "cy@example.com", 2).await;

    // Offline, the desk cancels: it shows at once.
    desk.mutate(&m("cancel_departure.v1", json!({"departure_id": dep, "reason": REASON}))).unwrap();
    let shown = desk.departure(&dep).unwrap().unwrap();
    assert_eq!((shown.departure.status, shown.departure.booked_count), (DepartureStatus::Cancelled, 0));
    assert!(desk.bookings_of_departure(&dep).unwrap().iter().all(|b| b.status == BookingStatus::Cancelled));

    // Back online: the server decides on every booking it holds.
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    let pg = env.pg().await;
    let row = pg.query_one("SELECT status, booked_count FROM schedules WHERE id = $1", &[&dep]).await.unwrap();
    assert_eq!((row.get::<_, String>(0).as_str(), row.get::<_, i32>(1)), ("cancelled", 0));
    let statuses: Vec<(String, String)> = pg
        .query("SELECT id, status FROM bookings WHERE departure_id = $1 ORDER BY id", &[&dep])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(statuses.len(), 4, "{statuses:?}");
    assert!(statuses.iter().all(|(_, s)| s == "cancelled"), "{statuses:?}");

    // The refunds reach Stripe once each, with their idempotency keys; the unpaid seat gets none.
    let paid = [(&ada, ada_paid), (&bob, bob_paid), (&cy, cy_paid)];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while refunds_sent(&stripe).len() < 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A few more passes of the refund job send nothing again.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let mut sent = refunds_sent(&stripe);
    sent.sort();
    let mut expected: Vec<(Option<String>, Option<String>)> =
        paid.iter().map(|(id, amount)| (Some(format!("refund-{id}")), Some(amount.to_string()))).collect();
    expected.sort();
    assert_eq!(sent, expected);
    let queued = env
        .scalar(
            "SELECT count(*) FROM refunds r JOIN bookings b ON b.id = r.booking_id WHERE b.departure_id = $1",
            &[&dep],
        )
        .await;
    assert_eq!(queued, 3, "no refund for the unpaid seat");

    // Every customer is told why, what comes back, and where to pick another date.
    let cancellations =
        || smtp.messages().into_iter().filter(|m| m.subject.starts_with("Cancelled:")).collect::<Vec<_>>();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while cancellations().len() < 4 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mails = smtp.messages();
    let cancelled = cancellations();
    let mut to: Vec<&str> = cancelled.iter().map(|m| m.to[0].as_str()).collect();
    to.sort();
    assert_eq!(to, ["ada@example.com", "bob@example.com", "cy@example.com", "dora@example.com"], "{mails:?}");
    for mail in &cancelled {
        assert!(mail.subject.contains(&tour_name), "{}", mail.subject);
        assert!(mail.text.contains(REASON), "{}", mail.text);
        assert!(mail.text.contains("pick another date"), "{}", mail.text);
        assert!(mail.text.contains("/manage?token="), "{}", mail.text);
    }
    let dora_mail = cancelled.iter().find(|m| m.to[0] == "dora@example.com").unwrap();
    assert!(dora_mail.text.contains("nothing to refund"), "{}", dora_mail.text);
    let ada_mail = cancelled.iter().find(|m| m.to[0] == "ada@example.com").unwrap();
    assert!(ada_mail.text.contains("in full"), "{}", ada_mail.text);

    // The link opens the cancelled booking on the manage API; its token is not stored in clear.
    let token = ada_mail
        .text
        .split("token=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches('.')
        .to_string();
    let stored = env.scalar("SELECT count(*) FROM communications WHERE content LIKE '%' || $1 || '%'", &[&token]).await;
    assert_eq!(stored, 0);
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/manage/booking", env.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let managed: Value = r.json().await.unwrap();
    assert_eq!((managed["id"].as_str(), managed["status"].as_str()), (Some(ada.as_str()), Some("cancelled")));
    let kinds = env
        .scalar("SELECT count(*) FROM communications WHERE type = 'departure_cancelled' AND status = 'sent'", &[])
        .await;
    assert_eq!(kinds, 4);

    // The audit log: the departure's cancellation once, and each booking's change.
    let dep_audits = env
        .scalar("SELECT count(*) FROM audit_logs WHERE action = 'departure.cancelled' AND entity_id = $1", &[&dep])
        .await;
    assert_eq!(dep_audits, 1);
    let booking_audits = env
        .scalar(
            "SELECT count(*) FROM audit_logs WHERE action = 'cancel_departure.v1' AND entity = 'booking'
               AND entity_id IN (SELECT id FROM bookings WHERE departure_id = $1)",
            &[&dep],
        )
        .await;
    assert_eq!(booking_audits, 4);

    // The desk ends where the server is, other desk's booking included.
    client.sync_once(&desk).await.unwrap();
    let list = desk.bookings_of_departure(&dep).unwrap();
    assert_eq!(list.len(), 4);
    assert!(list.iter().all(|b| b.status == BookingStatus::Cancelled && !b.pending), "{list:?}");
    assert!(list.iter().any(|b| b.id == dora));

    // Cancelling it again (another desk that saw it open) changes nothing and refunds nothing.
    other.mutate(&m("cancel_departure.v1", json!({"departure_id": dep, "reason": "again"}))).unwrap();
    other_client.sync_once(&other).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(refunds_sent(&stripe).len(), 3);
    assert_eq!(env.scalar("SELECT count(*) FROM communications WHERE type = 'departure_cancelled'", &[]).await, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guide_may_not_cancel_a_departure() {
    let env = Env::start().await;
    let (dep, ..) = empty_departure(&env, &[]).await;
    let token = sign_in(&env, demo_data::DEMO_GUIDE_EMAIL).await;
    let req = PushRequest {
        client_id: uuid::Uuid::new_v4().to_string(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![MutationEnvelope {
            id: 1,
            name: "cancel_departure.v1".into(),
            args: json!({"departure_id": dep, "reason": "I am ill"}),
            hlc: tourdesk_domain::hlc::Hlc::at(Utc::now(), 1, "guide").to_string(),
        }],
    };
    let resp = push_raw(&env.base_url(), &token, &req).await;
    assert_eq!(resp.results.len(), 1);
    assert_eq!(resp.results[0].status, OutcomeStatus::Rejected);
    assert_eq!(resp.results[0].code.as_deref(), Some("NOT_AUTHORIZED"));
    let status: String =
        env.pg().await.query_one("SELECT status FROM schedules WHERE id = $1", &[&dep]).await.unwrap().get(0);
    assert_eq!(status, "open");
    assert_eq!(env.scalar("SELECT count(*) FROM audit_logs WHERE action = 'departure.cancelled'", &[]).await, 0);
}

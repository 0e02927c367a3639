//! The communications log on the desk (issue 13): a customer's messages replicate to office
//! desks when queued and again on every change of delivery state, so the booking's timeline says
//! whether the confirmation went out; a guide's device holds none of them.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tourdesk_domain::mutation::Mutation;
use tourdesk_local_store::Store;
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_tests::{Env, Fakes, empty_departure, m, nonce, pdf_text, phone_booking};

fn cash(booking_id: &str, amount: i64, currency: &str) -> Mutation {
    m(
        "record_payment.v1",
        json!({"nonce": nonce(), "booking_id": booking_id, "method": "cash", "amount": amount,
               "currency": currency, "at": Utc::now()}),
    )
}

/// A phone booking on `desk`, paid in full in cash and pushed: the server confirms it and queues
/// its confirmation.
async fn paid_booking(env: &Env, desk: &Store, email: &str) -> String {
    let client = env.client(demo_data::DEMO_OWNER_EMAIL);
    client.sync_once(desk).await.unwrap();
    let dep = empty_departure(env).await;
    let booking = phone_booking(desk, &dep, email, 2);
    client.sync_once(desk).await.unwrap();
    let total = desk.booking_money(&booking).unwrap().unwrap().total;
    desk.mutate(&cash(&booking, total.amount, total.currency.as_str())).unwrap();
    client.sync_once(desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    booking
}

/// Syncs `desk` until its copy of the booking's confirmation has `status`.
async fn until_status(env: &Env, desk: &Store, booking: &str, status: &str) -> Vec<String> {
    let client = env.client(demo_data::DEMO_OWNER_EMAIL);
    for _ in 0..40 {
        client.sync_once(desk).await.unwrap();
        let now: Vec<String> = desk.communications_of_booking(booking).unwrap().into_iter().map(|c| c.status).collect();
        if now.iter().any(|s| s == status) {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the desk never saw the confirmation {status}: {:?}", desk.communications_of_booking(booking).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmation_reaches_the_desk_queued_then_sent_and_shows_on_the_timeline() {
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { smtp: Some(&smtp), ..Fakes::default() }).await;
    let desk = env.desk("front");
    let booking = paid_booking(&env, &desk, "pat@example.com").await;

    smtp.wait_for(1, Duration::from_secs(15)).await;
    let statuses = until_status(&env, &desk, &booking, "sent").await;
    assert_eq!(statuses, ["sent"], "one message, its latest state");
    let message = desk.communications_of_booking(&booking).unwrap().remove(0);
    assert_eq!((message.kind.as_str(), message.channel.as_str()), ("booking_confirmation", "email"));
    assert!(message.subject.as_deref().unwrap_or_default().starts_with("Booking confirmed"), "{message:?}");
    assert!(message.sent_at.is_some());
    let customer = message.customer_id.clone();
    assert_eq!(desk.communications_of_customer(&customer).unwrap().len(), 1);

    // The owner's desk holds the audit log too: the timeline has the payment and the message.
    let timeline = desk.booking_timeline(&booking).unwrap().entries;
    let titles: Vec<&str> = timeline.iter().map(|e| e.title.as_str()).collect();
    assert!(titles.contains(&"Booking confirmation by e-mail"), "{titles:?}");
    assert!(titles.contains(&"Payment recorded"), "{titles:?}");
    assert!(titles.contains(&"Booking made"), "{titles:?}");
    let sent = timeline.iter().find(|e| e.title == "Booking confirmation by e-mail").unwrap();
    assert_eq!(sent.status.as_deref(), Some("Sent"));

    // A second office desk gets the message with its state from a first sync; a guide's none.
    let other = env.desk("back-office");
    env.client(demo_data::DEMO_MANAGER_EMAIL).sync_once(&other).await.unwrap();
    let theirs: Vec<String> =
        other.communications_of_booking(&booking).unwrap().into_iter().map(|c| c.status).collect();
    assert_eq!(theirs, ["sent"]);
    let guide = env.desk("guide-phone");
    env.client(demo_data::DEMO_GUIDE_EMAIL).sync_once(&guide).await.unwrap();
    assert!(guide.communications_of_customer(&customer).unwrap().is_empty());
    let pg = env.pg().await;
    let logged_to_schedules = pg
        .query_one(
            "SELECT count(*) FROM sync_changes WHERE entity = 'communication' AND bucket NOT LIKE 'org:%:all'",
            &[],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(logged_to_schedules, 0, "messages go to office desks only");
    let staff_logged = pg
        .query_one(
            "SELECT count(*) FROM sync_changes s JOIN communications c ON c.id = s.row_id
             WHERE s.entity = 'communication' AND c.customer_id IS NULL",
            &[],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(staff_logged, 0, "staff and guides' messages stay on the server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmation_sent_again_from_the_desk_is_a_second_message_audited_and_on_the_timeline() {
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { smtp: Some(&smtp), ..Fakes::default() }).await;
    let desk = env.desk("front");
    let booking = paid_booking(&env, &desk, "sam@example.com").await;
    smtp.wait_for(1, Duration::from_secs(15)).await;
    let reference = desk.booking_money(&booking).unwrap().unwrap().reference_number;
    let confirmations = || {
        smtp.messages()
            .iter()
            .filter(|m| m.subject.starts_with("Booking confirmed") && m.subject.contains(&reference))
            .count()
    };
    assert_eq!(confirmations(), 1);

    // Asked offline: queued like any intent, sent when the desk is back.
    desk.mutate(&m("resend_confirmation.v1", json!({"booking_id": booking}))).unwrap();
    assert_eq!(desk.pending_count().unwrap(), 1);
    env.client(demo_data::DEMO_OWNER_EMAIL).sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    smtp.wait_for(2, Duration::from_secs(15)).await;
    assert_eq!(confirmations(), 2, "{:?}", smtp.messages());
    let audited = env
        .scalar(
            "SELECT count(*) FROM audit_logs WHERE action = 'resend_confirmation.v1' AND entity = 'booking'
               AND entity_id = $1",
            &[&booking],
        )
        .await;
    assert_eq!(audited, 1);

    // Both messages reach the desk as sent, and the timeline says who asked.
    for _ in 0..40 {
        env.client(demo_data::DEMO_OWNER_EMAIL).sync_once(&desk).await.unwrap();
        let sent = desk.communications_of_booking(&booking).unwrap().iter().filter(|c| c.status == "sent").count();
        if sent == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let timeline = desk.booking_timeline(&booking).unwrap().entries;
    let titles: Vec<&str> = timeline.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(titles.iter().filter(|t| **t == "Booking confirmation by e-mail").count(), 2, "{titles:?}");
    let resent = timeline.iter().find(|e| e.title == "Confirmation sent again").expect("audited on the timeline");
    assert!(resent.actor.is_some() && resent.device_id.is_some(), "{resent:?}");

    // A booking with nothing confirmed is refused on the desk at once, with nothing queued.
    let pending = phone_booking(&desk, &empty_departure(&env).await, "kim@example.com", 1);
    let before = desk.pending_count().unwrap();
    assert!(desk.mutate(&m("resend_confirmation.v1", json!({"booking_id": pending}))).is_err());
    assert_eq!(desk.pending_count().unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_pdf_built_on_the_desk_reads_back_with_the_reference_amounts_and_payments() {
    let env = Env::start().await;
    let desk = env.desk("front");
    let booking = paid_booking(&env, &desk, "lee@example.com").await;
    let money = desk.booking_money(&booking).unwrap().unwrap();
    let reference = money.reference_number.clone();

    // Offline is fine: the receipt is the replica's.
    let (name, pdf) = desk.receipt_pdf(&reference.to_lowercase(), Utc::now()).unwrap().expect("the desk holds it");
    assert_eq!(name, format!("receipt-{reference}.pdf"));
    let text = pdf_text(&pdf);
    let total = money.total.display_with_symbol();
    for want in [
        format!("Booking {reference}"),
        "Booking confirmation and receipt".to_string(),
        format!("Total: {total}"),
        format!("Cash: {total}"),
        format!("Paid: {total}"),
        format!("Balance due: {}", tourdesk_domain::money::Money::new(0, money.total.currency).display_with_symbol()),
        "Customer: Pat Phone".to_string(),
    ] {
        assert!(text.contains(&want), "{want:?} not in the receipt:\n{text}");
    }
    for line in &money.pricing.line_items {
        assert!(text.contains(&format!("{} x {}", line.quantity, line.tier_name)), "{text}");
    }
    assert!(desk.receipt_pdf("BK-2000-NOPE00", Utc::now()).unwrap().is_none());
}

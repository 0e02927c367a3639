//! A one-off message from a booking and a refund given back by hand (issue 13, items 2 and 4),
//! against a real server, PostgreSQL and the SMTP sink. Both are written on a desk offline and
//! queued as intents; the server decides them again under the booking's lock. A message is then
//! in the mail (or SMS) outbox of the push's savepoint, arrives once, is in the communications
//! log (and so on the booking's timeline on the desk) and audited; a guide, bad input or a
//! channel that cannot reach the customer is a rejection that writes nothing. A refund given
//! back clears the refund due once synced, and more than is owed is refused at the amount.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tourdesk_domain::ipc::{NewCustomerMessage, NewRefund};
use tourdesk_domain::ledger::PaymentMethod;
use tourdesk_domain::mutation::{MessageChannel, Mutation};
use tourdesk_domain::protocol::{OutcomeStatus, PushRequest, SCHEMA_VERSION};
use tourdesk_local_store::Store;
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_tests::{
    Env, Fakes, empty_departure, m, nonce, phone_booking, push_raw, raw_envelope, sign_in, synced_desk,
};

fn cash(booking_id: &str, amount: i64, currency: &str) -> Mutation {
    m(
        "record_payment.v1",
        json!({"nonce": nonce(), "booking_id": booking_id, "method": "cash", "amount": amount,
               "currency": currency, "at": Utc::now()}),
    )
}

fn message(booking_id: &str, customer_id: &str, channel: &str, subject: &str, body: &str) -> Mutation {
    m(
        "send_customer_message.v1",
        json!({"nonce": nonce(), "booking_id": booking_id, "customer_id": customer_id, "channel": channel,
               "subject": subject, "body": body}),
    )
}

async fn customer_of(env: &Env, booking: &str) -> String {
    env.pg().await.query_one("SELECT customer_id FROM bookings WHERE id = $1", &[&booking]).await.unwrap().get(0)
}

/// Syncs `desk` until it holds `n` staff messages of the booking.
async fn until_messages(env: &Env, desk: &Store, booking: &str, n: usize) {
    let client = env.client(demo_data::DEMO_OWNER_EMAIL);
    for _ in 0..40 {
        client.sync_once(desk).await.unwrap();
        let got = desk.communications_of_booking(booking).unwrap().iter().filter(|c| c.kind == "staff_message").count();
        if got >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the desk never saw the message: {:?}", desk.communications_of_booking(booking).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_written_offline_arrives_once_is_logged_audited_and_on_the_timeline() {
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { smtp: Some(&smtp), ..Fakes::default() }).await;
    let (desk, client) = synced_desk(&env, "front", demo_data::DEMO_OWNER_EMAIL).await;
    let dep = empty_departure(&env).await;
    let booking = phone_booking(&desk, &dep, "mia@example.com", 2);
    client.sync_once(&desk).await.unwrap();

    // Written offline: queued on the desk at once.
    let before = desk.pending_count().unwrap();
    let input = NewCustomerMessage {
        booking_id: booking.clone(),
        channel: MessageChannel::Email,
        subject: "Meeting point moved".into(),
        body: "We meet at the north gate of the park, same time.".into(),
    };
    desk.send_customer_message(&input, nonce()).unwrap();
    assert_eq!(desk.pending_count().unwrap(), before + 1);

    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    smtp.wait_for(1, Duration::from_secs(15)).await;
    // Synced again: the push's verdict is stored, nothing is sent twice.
    client.sync_once(&desk).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let ours: Vec<_> = smtp.messages().into_iter().filter(|m| m.subject == "Meeting point moved").collect();
    assert_eq!(ours.len(), 1, "{:?}", smtp.messages());
    assert_eq!(ours[0].to, ["mia@example.com"]);
    assert!(ours[0].data.contains("north gate"), "{}", ours[0].data);

    let logged = "SELECT count(*) FROM communications WHERE booking_id = $1 AND type = 'staff_message'
                  AND channel = 'email' AND subject = 'Meeting point moved'";
    assert_eq!(env.scalar(logged, &[&booking]).await, 1);
    let audited = "SELECT count(*) FROM audit_logs WHERE action = 'send_customer_message.v1' AND entity = 'booking'
                   AND entity_id = $1";
    assert_eq!(env.scalar(audited, &[&booking]).await, 1);

    // The desk shows it on the booking's timeline, with who wrote it, and in the customer's messages.
    until_messages(&env, &desk, &booking, 1).await;
    let timeline = desk.booking_timeline(&booking).unwrap().entries;
    let titles: Vec<&str> = timeline.iter().map(|e| e.title.as_str()).collect();
    assert!(titles.contains(&"Message from the office by e-mail"), "{titles:?}");
    let written = timeline.iter().find(|e| e.title == "Message written to the customer").expect("audited");
    assert!(written.actor.is_some() && written.device_id.is_some(), "{written:?}");
    let customer = customer_of(&env, &booking).await;
    assert!(desk.communications_of_customer(&customer).unwrap().iter().any(|c| c.kind == "staff_message"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guide_bad_input_or_an_unreachable_channel_is_rejected_and_writes_nothing() {
    let env = Env::start().await;
    // The owner's desk: a manager may write to customers but not edit them (the phone, below).
    let (desk, client) = synced_desk(&env, "front", demo_data::DEMO_OWNER_EMAIL).await;
    let dep = empty_departure(&env).await;
    let booking = phone_booking(&desk, &dep, "noa@example.com", 1);
    client.sync_once(&desk).await.unwrap();
    let customer = customer_of(&env, &booking).await;

    let token = sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let long = "x".repeat(tourdesk_domain::mutation::MESSAGE_BODY_MAX + 1);
    let req = PushRequest {
        client_id: nonce(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![
            raw_envelope(1, message(&booking, &customer, "email", "", "Body")),
            raw_envelope(2, message(&booking, &customer, "email", "Hello", &long)),
            raw_envelope(3, message(&booking, &customer, "sms", "Hello", "No phone, no consent")),
            raw_envelope(4, message(&booking, &nonce(), "email", "Hello", "Someone else")),
        ],
    };
    let resp = push_raw(&env.base_url(), &token, &req).await;
    let got: Vec<(OutcomeStatus, Option<&str>)> = resp.results.iter().map(|r| (r.status, r.code.as_deref())).collect();
    assert_eq!(
        got,
        [
            (OutcomeStatus::Rejected, Some("INVALID")),
            (OutcomeStatus::Rejected, Some("INVALID")),
            (OutcomeStatus::Rejected, Some("CONFLICT")),
            (OutcomeStatus::Rejected, Some("CONFLICT")),
        ]
    );
    let detail = |i: usize| resp.results[i].detail.clone().unwrap_or_default();
    assert!(detail(0).contains("subject"), "{}", detail(0));
    assert!(detail(1).contains("5000"), "{}", detail(1));
    assert!(detail(2).contains("no phone number"), "{}", detail(2));

    let guide = sign_in(&env, demo_data::DEMO_GUIDE_EMAIL).await;
    let req = PushRequest {
        client_id: nonce(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![raw_envelope(1, message(&booking, &customer, "email", "Hello", "From a guide"))],
    };
    let resp = push_raw(&env.base_url(), &guide, &req).await;
    assert_eq!(resp.results[0].code.as_deref(), Some("NOT_AUTHORIZED"));

    let staff_messages = "SELECT count(*) FROM communications WHERE type = 'staff_message'";
    assert_eq!(env.scalar(staff_messages, &[]).await, 0);
    let audited = "SELECT count(*) FROM audit_logs WHERE action = 'send_customer_message.v1'";
    assert_eq!(env.scalar(audited, &[]).await, 0);

    // With a phone and a yes to texts, the text is queued in the SMS outbox, its subject kept
    // for the log.
    let hlc = || tourdesk_domain::hlc::Hlc::at(Utc::now(), 0, "desk").to_string();
    for (field, value) in [("phone", json!("+447911123456")), ("sms_opt_in", json!(true))] {
        desk.mutate(&m(
            "set_customer_field.v1",
            json!({"customer_id": customer, "set": {"field": field, "value": value}, "hlc": hlc()}),
        ))
        .unwrap();
    }
    client.sync_once(&desk).await.unwrap();
    let input = NewCustomerMessage {
        booking_id: booking.clone(),
        channel: MessageChannel::Sms,
        subject: "Running late".into(),
        body: "The bus is 10 minutes late.".into(),
    };
    desk.send_customer_message(&input, nonce()).unwrap();
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    let texted = env
        .pg()
        .await
        .query_one(
            "SELECT recipient, subject, content FROM communications WHERE type = 'staff_message' AND channel = 'sms'
               AND booking_id = $1",
            &[&booking],
        )
        .await
        .unwrap();
    let row: (String, String, String) = (texted.get(0), texted.get(1), texted.get(2));
    assert_eq!(row, ("+447911123456".into(), "Running late".into(), "The bus is 10 minutes late.".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_given_back_by_hand_offline_clears_the_refund_due_once_synced() {
    let env = Env::start().await;
    let (desk, client) = synced_desk(&env, "front", demo_data::DEMO_OWNER_EMAIL).await;
    let dep = empty_departure(&env).await;
    let booking = phone_booking(&desk, &dep, "ren@example.com", 2);
    client.sync_once(&desk).await.unwrap();
    let total = desk.booking_money(&booking).unwrap().unwrap().total;
    desk.mutate(&cash(&booking, total.amount, total.currency.as_str())).unwrap();
    // The operator calls it off: everything back, and it was cash, so by hand.
    desk.mutate(&m(
        "cancel_booking.v1",
        json!({"booking_id": booking, "tour_id": dep.1, "departure_id": dep.0, "by": "operator", "reason": "storm"}),
    ))
    .unwrap();
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    let money = desk.booking_money(&booking).unwrap().unwrap();
    assert_eq!((money.refund_due, money.refund_due_by_hand), (total, total));

    // More than is owed is refused at the amount, with nothing queued.
    // As a person types it: minor units over the currency's exponent, without the code.
    let typed = |minor: i64| {
        let exp = u32::from(total.currency.exponent());
        let div = 10i64.pow(exp);
        if exp == 0 { minor.to_string() } else { format!("{}.{:0w$}", minor / div, minor % div, w = exp as usize) }
    };
    let refund = |amount: String| NewRefund {
        booking_id: booking.clone(),
        method: PaymentMethod::Cash,
        amount,
        note: None,
        reference: Some("till 2".into()),
    };
    let before = desk.pending_count().unwrap();
    match desk.record_refund(&refund(typed(total.amount + 1)), nonce(), Utc::now()) {
        Err(tourdesk_local_store::StoreError::Rejected(tourdesk_domain::mutation::Rejection::Invalid(e))) => {
            assert_eq!(e.field, "amount");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(desk.pending_count().unwrap(), before);

    // Given back offline; the server agrees when the desk syncs.
    desk.record_refund(&refund(typed(total.amount)), nonce(), Utc::now()).unwrap();
    assert!(desk.booking_money(&booking).unwrap().unwrap().refund_due.is_zero());
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    let refunded = env.scalar("SELECT refunded_amount_minor FROM bookings WHERE id = $1", &[&booking]).await;
    assert_eq!(refunded, total.amount);
    let entries = "SELECT count(*) FROM ledger_entries WHERE booking_id = $1 AND kind = 'refund'";
    assert_eq!(env.scalar(entries, &[&booking]).await, 1);
    let audited =
        "SELECT count(*) FROM audit_logs WHERE action = 'record_refund.v1' AND entity = 'booking' AND entity_id = $1";
    assert_eq!(env.scalar(audited, &[&booking]).await, 1);
    // The customer is told, once, that the money was given back.
    let told = "SELECT count(*) FROM communications WHERE booking_id = $1 AND type = 'refund'";
    assert_eq!(env.scalar(told, &[&booking]).await, 1);
    client.sync_once(&desk).await.unwrap();
    let money = desk.booking_money(&booking).unwrap().unwrap();
    assert!(money.refund_due.is_zero() && money.refund_due_by_hand.is_zero(), "{money:?}");
    assert!(money.entries.iter().all(|l| !l.pending), "{:?}", money.entries);

    // A second desk's refund of the same money, pushed behind its back, is refused by the server.
    let token = sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let again = m(
        "record_refund.v1",
        json!({"nonce": nonce(), "booking_id": booking, "method": "cash", "amount": 100,
               "currency": total.currency.as_str(), "at": Utc::now()}),
    );
    let req =
        PushRequest { client_id: nonce(), schema_version: SCHEMA_VERSION, mutations: vec![raw_envelope(1, again)] };
    let resp = push_raw(&env.base_url(), &token, &req).await;
    assert_eq!((resp.results[0].status, resp.results[0].code.as_deref()), (OutcomeStatus::Rejected, Some("INVALID")));
    assert!(
        // Refused at the amount: every bit of the money is back already, so the ledger's own
        // rule answers before the "refund due by hand" one.
        resp.results[0].detail.clone().unwrap_or_default().starts_with("amount:"),
        "{:?}",
        resp.results[0]
    );
    assert_eq!(env.scalar(entries, &[&booking]).await, 1);
    assert_eq!(env.scalar(told, &[&booking]).await, 1);
}

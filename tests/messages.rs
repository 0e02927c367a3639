//! Message templates (issue 13, item 4) against the real server: an owner lists, previews, saves
//! and resets a template from the desk (`SyncClient::staff_call`, the settings' online call); a
//! template with an unknown placeholder is refused at its field and stores nothing; a manager may
//! not edit; and an edited confirmation is what arrives in the SMTP sink when a payment recorded
//! at the desk confirms a booking.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tourdesk_domain::messages::{MessageKind, PreviewRequest, Rendered, TemplateEntry};
use tourdesk_domain::mutation::Mutation;
use tourdesk_local_store::sync::Method;
use tourdesk_local_store::{Store, SyncClient, SyncError};
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_tests::{Env, Fakes, empty_departure, m, nonce, phone_booking};

const NO_BODY: Option<&()> = None;
const CONFIRMATION_EN: &str = "/api/v1/message-templates/booking_confirmation/en";

async fn desk(env: &Env, name: &str, email: &str) -> (Store, SyncClient) {
    let (store, client) = (env.desk(name), env.client(email));
    client.sign_in(&store).await.unwrap();
    (store, client)
}

fn refused(e: SyncError) -> (u16, String, Option<String>) {
    match e {
        SyncError::Refused { status, code, field, .. } => (status, code, field),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn cash(booking_id: &str, amount: i64, currency: &str) -> Mutation {
    m(
        "record_payment.v1",
        json!({"nonce": nonce(), "booking_id": booking_id, "method": "cash", "amount": amount,
               "currency": currency, "note": null, "at": Utc::now()}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_confirmation_template_is_what_the_customer_receives() {
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { smtp: Some(&smtp), ..Fakes::default() }).await;
    let (owner_store, owner) = desk(&env, "owner", demo_data::DEMO_OWNER_EMAIL).await;
    let (manager_store, manager) = desk(&env, "manager", demo_data::DEMO_MANAGER_EMAIL).await;

    // Every kind in every language, all built-in at first.
    let list: Vec<TemplateEntry> =
        owner.staff_call(&owner_store, Method::GET, "/api/v1/message-templates", NO_BODY).await.unwrap();
    assert_eq!(list.len(), MessageKind::ALL.len() * 2);
    assert!(list.iter().all(|t| !t.customized));

    // The preview renders with sample data; an unknown placeholder is refused at its field.
    let preview = PreviewRequest {
        kind: MessageKind::Confirmation,
        language: "en".into(),
        subject: "Hi {customer_name}, {reference}".into(),
        body: "See you on {departure_time}".into(),
    };
    let shown: Rendered = owner
        .staff_call(&owner_store, Method::POST, "/api/v1/message-templates/preview", Some(&preview))
        .await
        .unwrap();
    assert_eq!(shown.subject, "Hi Anna, BK-2026-ABC123");
    let bad = json!({"subject": "Booked {reference}", "body": "Dear {first_name}"});
    let e = owner.staff_call::<TemplateEntry, _>(&owner_store, Method::PUT, CONFIRMATION_EN, Some(&bad)).await;
    assert_eq!(refused(e.unwrap_err()), (422, "INVALID".into(), Some("body".into())));
    let still: TemplateEntry = owner.staff_call(&owner_store, Method::GET, CONFIRMATION_EN, NO_BODY).await.unwrap();
    assert!(!still.customized, "a refused template stores nothing");

    // A manager may not edit; the owner saves.
    let mine = json!({
        "subject": "You're booked, {customer_name}! ({reference})",
        "body": "Dear {customer_name},\n\n{tour} on {departure_time} for {participants}. Paid {amount}.\n\
                 Manage it here: {manage_link}\n"
    });
    let e = manager.staff_call::<TemplateEntry, _>(&manager_store, Method::PUT, CONFIRMATION_EN, Some(&mine)).await;
    assert_eq!(refused(e.unwrap_err()).0, 403);
    let saved: TemplateEntry = owner.staff_call(&owner_store, Method::PUT, CONFIRMATION_EN, Some(&mine)).await.unwrap();
    assert!(saved.customized && saved.subject.starts_with("You're booked"));

    // A booking paid in cash at the desk is confirmed by the server, with the edited text.
    let dep = empty_departure(&env).await;
    owner.sync_once(&owner_store).await.unwrap();
    let booking = phone_booking(&owner_store, &dep, "pat@example.com", 2);
    owner.sync_once(&owner_store).await.unwrap();
    let money = owner_store.booking_money(&booking).unwrap().unwrap();
    owner_store.mutate(&cash(&booking, money.total.amount, money.total.currency.as_str())).unwrap();
    owner.sync_once(&owner_store).await.unwrap();
    assert!(owner_store.rejections().unwrap().is_empty(), "{:?}", owner_store.rejections().unwrap());
    smtp.wait_for(1, Duration::from_secs(15)).await;
    let mails = smtp.messages();
    let mail = mails.iter().find(|m| m.to[0] == "pat@example.com").unwrap();
    assert_eq!(mail.subject, format!("You're booked, Pat! ({})", money.reference_number));
    assert!(mail.text.starts_with("Dear Pat,"), "{}", mail.text);
    assert!(mail.text.contains(" for 2. Paid "), "{}", mail.text);
    // The departure's start in its own zone, and a working link minted when the outbox sent it.
    let zone: String =
        env.pg().await.query_one("SELECT timezone FROM schedules WHERE id = $1", &[&dep.0]).await.unwrap().get(0);
    assert!(mail.text.contains(&format!("({zone})")), "{}", mail.text);
    assert!(mail.text.contains("/manage?token="), "{}", mail.text);
    // The sink has it before the outbox commits the row's mark: wait for the mark.
    let mut logged = 0;
    for _ in 0..50 {
        logged = env
            .scalar(
                "SELECT count(*) FROM communications WHERE booking_id = $1 AND type = 'booking_confirmation'
                   AND status = 'sent' AND subject LIKE 'You''re booked%'",
                &[&booking],
            )
            .await;
        if logged == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(logged, 1, "the log keeps what was sent");

    // Reset: the built-in text is back.
    let reset: TemplateEntry = owner.staff_call(&owner_store, Method::DELETE, CONFIRMATION_EN, NO_BODY).await.unwrap();
    assert!(!reset.customized && reset.subject.starts_with("Booking confirmed"));
    let again: TemplateEntry = owner.staff_call(&owner_store, Method::GET, CONFIRMATION_EN, NO_BODY).await.unwrap();
    assert_eq!(again, reset);
}

//! Message templates (issue 13, item 4) against the real server: an owner lists, previews, saves
//! and resets a template from the desk (`SyncClient::staff_call`, the settings' online call); a
//! template with an unknown placeholder is refused at its field and stores nothing; a manager may
//! not edit; and an edited confirmation is what arrives in the SMTP sink when a payment recorded
//! at the desk confirms a booking.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::{Datelike, Utc};
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

/// Twilio at the HTTP boundary: records each `Messages.json` request (its basic auth and form)
/// and answers a new Message SID, as Twilio does.
/// Each request: its Authorization header and its form.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<(String, String)>)>>>;

struct FakeTwilio {
    url: String,
    requests: Seen,
}

impl FakeTwilio {
    async fn start() -> FakeTwilio {
        use axum::routing::post;
        let requests: Seen = Seen::default();
        let seen = requests.clone();
        let app = axum::Router::new().route(
            "/2010-04-01/Accounts/{sid}/Messages.json",
            post(move |headers: axum::http::HeaderMap, body: String| {
                let seen = seen.clone();
                async move {
                    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                    let form: Vec<(String, String)> = reqwest::Url::parse(&format!("http://x/?{body}"))
                        .unwrap()
                        .query_pairs()
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect();
                    let mut seen = seen.lock().unwrap();
                    seen.push((auth, form));
                    let sid = format!("SM{:032}", seen.len());
                    (axum::http::StatusCode::CREATED, axum::Json(json!({"sid": sid, "status": "queued"})))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeTwilio { url, requests }
    }

    fn requests(&self) -> Vec<(String, Vec<(String, String)>)> {
        self.requests.lock().unwrap().clone()
    }
}

const SID: &str = "AC00000000000000000000000000000001";
const TOKEN: &str = "twilio-test-auth-token";

fn form_value<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmation_is_texted_to_a_customer_who_agreed_and_twilio_reports_its_delivery() {
    let smtp = SmtpSink::start().await.unwrap();
    let twilio = FakeTwilio::start().await;
    let smtp_url = smtp.url();
    let twilio_url = twilio.url.clone();
    let env = Env::start_with(move |c| {
        c.mail.smtp_url = Some(smtp_url);
        c.sms.account_sid = Some(SID.into());
        c.sms.auth_token = TOKEN.into();
        c.sms.from_number = "+15005550006".into();
        c.sms.api_base_url = twilio_url;
    })
    .await;
    let (store, desk) = desk(&env, "front", demo_data::DEMO_OWNER_EMAIL).await;
    let dep = empty_departure(&env).await;
    desk.sync_once(&store).await.unwrap();

    // Three customers: one agreed to texts and has a phone, one has a phone but did not agree,
    // one agreed but has no phone. Only the first is texted.
    let hlc = || tourdesk_domain::hlc::Hlc::at(Utc::now(), 0, "desk").to_string();
    let mut bookings = Vec::new();
    for (email, phone, agrees) in [
        ("sam@example.com", Some("+447911123456"), true),
        ("nat@example.com", Some("+351912000999"), false),
        ("ola@example.com", None, true),
    ] {
        let customer = nonce();
        store
            .mutate(&m(
                "create_customer.v1",
                json!({"id": customer, "email": email, "phone": phone, "first_name": "Sam", "last_name": "Text",
                       "hlc": hlc()}),
            ))
            .unwrap();
        store
            .mutate(&m(
                "set_customer_field.v1",
                json!({"customer_id": customer, "set": {"field": "sms_opt_in", "value": agrees}, "hlc": hlc()}),
            ))
            .unwrap();
        let booking = nonce();
        store
            .mutate(&m(
                "create_booking.v1",
                json!({"id": booking, "tour_id": dep.1, "departure_id": dep.0, "customer_id": customer,
                       "lines": [{"tier_id": dep.2, "quantity": 1}], "reference_year": Utc::now().year(),
                       "reference_entropy": uuid::Uuid::new_v4().as_u64_pair().0}),
            ))
            .unwrap();
        desk.sync_once(&store).await.unwrap();
        let money = store.booking_money(&booking).unwrap().unwrap();
        store.mutate(&cash(&booking, money.total.amount, money.total.currency.as_str())).unwrap();
        bookings.push((booking, money.reference_number));
    }
    desk.sync_once(&store).await.unwrap();
    assert!(store.rejections().unwrap().is_empty(), "{:?}", store.rejections().unwrap());
    smtp.wait_for(3, Duration::from_secs(15)).await;

    // The fake Twilio got exactly one request: basic auth with the account, form-encoded.
    let mut sent = twilio.requests();
    for _ in 0..50 {
        if !sent.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        sent = twilio.requests();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = twilio.requests();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (auth, form) = &sent[0];
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"));
    assert_eq!(auth, &format!("Basic {basic}"));
    assert_eq!(form_value(form, "To"), "+447911123456");
    assert_eq!(form_value(form, "From"), "+15005550006");
    assert!(form_value(form, "Body").contains(&bookings[0].1), "{form:?}");
    let callback = form_value(form, "StatusCallback").to_string();
    assert!(callback.ends_with(&format!("/api/v1/twilio/status/{}", demo_org_id(&env).await)), "{callback}");

    // The row is sent with Twilio's Message SID.
    let sid: String = env
        .pg()
        .await
        .query_one(
            "SELECT external_id FROM communications WHERE booking_id = $1 AND channel = 'sms' AND status = 'sent'",
            &[&bookings[0].0],
        )
        .await
        .unwrap()
        .get(0);
    assert!(sid.starts_with("SM"), "{sid}");
    let texts = env.scalar("SELECT count(*) FROM communications WHERE channel = 'sms'", &[]).await;
    assert_eq!(texts, 1, "no text without a phone or without consent");

    // Status callbacks: a wrong signature is refused and changes nothing; Twilio's marks it delivered.
    let path = callback.split_once("/api/").map(|(_, p)| format!("/api/{p}")).unwrap();
    let target = format!("{}{path}", env.base_url());
    let params = vec![
        ("AccountSid".to_string(), SID.to_string()),
        ("MessageSid".to_string(), sid.clone()),
        ("MessageStatus".to_string(), "delivered".to_string()),
    ];
    let body = reqwest::Url::parse_with_params("http://x/", &params).unwrap().query().unwrap().to_string();
    let post = |signature: String| {
        reqwest::Client::new()
            .post(&target)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("X-Twilio-Signature", signature)
            .body(body.clone())
            .send()
    };
    let forged = tourdesk_sync_server::sms::signature("not the token", &callback, &params);
    assert_eq!(post(forged).await.unwrap().status(), reqwest::StatusCode::FORBIDDEN);
    let status_of = || async {
        env.pg()
            .await
            .query_one("SELECT status FROM communications WHERE external_id = $1", &[&sid])
            .await
            .unwrap()
            .get::<_, String>(0)
    };
    assert_eq!(status_of().await, "sent", "a refused callback changes nothing");
    let good = tourdesk_sync_server::sms::signature(TOKEN, &callback, &params);
    assert_eq!(post(good).await.unwrap().status(), reqwest::StatusCode::NO_CONTENT);
    assert_eq!(status_of().await, "delivered");
}

async fn demo_org_id(env: &Env) -> String {
    env.pg()
        .await
        .query_one("SELECT id FROM organizations WHERE slug = $1", &[&demo_data::DEMO_ORG_SLUG])
        .await
        .unwrap()
        .get(0)
}

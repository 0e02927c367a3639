//! The messages money on a booking owes its customer (issue 13, items 2 and 4), against a real
//! server and PostgreSQL with the SMTP sink and fake Stripe and Twilio: a refund Stripe accepted
//! is mailed once, however often the job or the webhook sees it; a dearer modification asks for
//! the balance with the manage page's pay link; a failed card payment is asked again with backoff
//! through the job runner and the asking stops once the booking is paid; a waitlist offer is
//! logged to the change log like every other message; a customer reachable only by phone is
//! reminded by text. Every one lands in the communications log and the change log desks pull.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use tourdesk_domain::ipc::{ModifyBooking, ModifyLine};
use tourdesk_domain::money::{Currency, Money};
use tourdesk_domain::mutation::Mutation;
use tourdesk_local_store::Store;
use tourdesk_sync_server::demo_data;
use tourdesk_sync_server::jobs::{payment_chase, reminders};
use tourdesk_testkit::smtp::{Message, SmtpSink};
use tourdesk_testkit::stripe::FakeStripe;
use tourdesk_tests::{Env, Fakes, empty_departure, m, nonce, paid_website_booking, refunds_sent};

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

/// Modifies `booking` to `seats` on `desk` and pushes it; the server must apply it.
async fn modify(env: &Env, desk: &Store, booking: &str, tier: &str, seats: u32) {
    desk.modify_booking(&to_seats(desk, booking, tier, seats)).unwrap();
    env.client(demo_data::DEMO_MANAGER_EMAIL).sync_once(desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
}

/// The mails in the sink whose subject starts with `subject`, waiting up to 15 s for `n`.
async fn mails(smtp: &SmtpSink, subject: &str, n: usize) -> Vec<Message> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let got: Vec<Message> = smtp.messages().into_iter().filter(|m| m.subject.starts_with(subject)).collect();
        if got.len() >= n || tokio::time::Instant::now() >= deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many messages of `kind` the server holds for `booking`.
async fn rows_of(env: &Env, booking: &str, kind: &str) -> i64 {
    env.scalar("SELECT count(*) FROM communications WHERE booking_id = $1 AND type = $2", &[&booking, &kind]).await
}

/// Whether every message of `kind` for `booking` is in the change log desks pull.
async fn all_logged(env: &Env, booking: &str, kind: &str) -> bool {
    let unlogged = env
        .scalar(
            "SELECT count(*) FROM communications c WHERE c.booking_id = $1 AND c.type = $2
               AND NOT EXISTS (SELECT FROM sync_changes s WHERE s.entity = 'communication' AND s.row_id = c.id)",
            &[&booking, &kind],
        )
        .await;
    unlogged == 0 && rows_of(env, booking, kind).await > 0
}

async fn currency_of(env: &Env, booking: &str) -> Currency {
    let c: String =
        env.pg().await.query_one("SELECT currency FROM bookings WHERE id = $1", &[&booking]).await.unwrap().get(0);
    Currency::parse(&c).unwrap()
}

async fn intent_of(env: &Env, booking: &str) -> String {
    env.pg()
        .await
        .query_one(
            "SELECT stripe_payment_intent_id FROM payments WHERE booking_id = $1 AND stripe_payment_intent_id IS NOT NULL
             ORDER BY created_at LIMIT 1",
            &[&booking],
        )
        .await
        .unwrap()
        .get(0)
}

/// A paid website booking of two seats and a manager's desk synced with it.
async fn paid_pair(env: &Env, stripe: &FakeStripe, email: &str) -> (String, i64, (String, String, String), Store) {
    let dep = empty_departure(env).await;
    let (booking, paid) = paid_website_booking(env, stripe, &dep.0, &dep.2, email, 2).await;
    let desk = env.desk("front");
    env.client(demo_data::DEMO_MANAGER_EMAIL).sync_once(&desk).await.unwrap();
    (booking, paid, dep, desk)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_refund_accepted_by_stripe_is_mailed_once_with_its_amount() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), smtp: Some(&smtp), ..Fakes::default() }).await;
    let (booking, paid, dep, desk) = paid_pair(&env, &stripe, "rita@example.com").await;
    let seat = paid / 2;

    // Down a seat: a seat's worth goes back to the card; the customer hears so once Stripe has it.
    modify(&env, &desk, &booking, &dep.2, 1).await;
    let got = mails(&smtp, "Refund for booking", 1).await;
    assert_eq!(got.len(), 1, "the refund message: {:?}", smtp.messages());
    assert_eq!(refunds_sent(&stripe).len(), 1);
    let amount = Money::new(seat, currency_of(&env, &booking).await).display_with_symbol();
    assert_eq!(got[0].to[0], "rita@example.com");
    assert!(got[0].text.contains(&format!("refund of {amount}")), "{amount} in {}", got[0].text);
    assert_eq!(rows_of(&env, &booking, "balance_request").await, 0, "a cheaper change asks for nothing");

    // Stripe's charge.refunded, delivered twice, and more passes of the refunds job: no second.
    let event = stripe.refund_event(&intent_of(&env, &booking).await);
    env.deliver_stripe_event(&event).await;
    env.deliver_stripe_event(&event).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(rows_of(&env, &booking, "refund").await, 1);
    assert_eq!(mails(&smtp, "Refund for booking", 2).await.len(), 1, "no duplicate on repeats");
    assert!(all_logged(&env, &booking, "refund").await, "in the change log");

    // And on the desk's timeline of the booking.
    env.client(demo_data::DEMO_MANAGER_EMAIL).sync_once(&desk).await.unwrap();
    let kinds: Vec<String> = desk.communications_of_booking(&booking).unwrap().into_iter().map(|c| c.kind).collect();
    assert!(kinds.iter().any(|k| k == "refund"), "{kinds:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dearer_modification_asks_for_the_balance_with_the_pay_link() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), smtp: Some(&smtp), ..Fakes::default() }).await;
    let (booking, paid, dep, desk) = paid_pair(&env, &stripe, "bea@example.com").await;
    let seat = paid / 2;

    modify(&env, &desk, &booking, &dep.2, 3).await;
    let got = mails(&smtp, "Balance due for", 1).await;
    assert_eq!(got.len(), 1, "the balance request: {:?}", smtp.messages());
    let balance = Money::new(seat, currency_of(&env, &booking).await).display_with_symbol();
    assert_eq!(got[0].to[0], "bea@example.com");
    assert!(got[0].text.contains(&format!("{balance} is still to pay")), "{balance} in {}", got[0].text);
    // The link is the manage page's, minted when sent; its "Pay the balance" takes the payment.
    let token = got[0].text.split("/manage?token=").nth(1).unwrap_or_else(|| panic!("no link: {}", got[0].text));
    let token = token.split_whitespace().next().unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let opened = http.get(format!("{}/manage?token={token}", env.base_url())).send().await.unwrap();
    let cookie = opened.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let page = http.get(format!("{}/manage", env.base_url())).header("cookie", cookie).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("id=\"pay-balance\""), "the manage page offers to pay: {page}");
    assert!(all_logged(&env, &booking, "balance_request").await, "in the change log");
    assert_eq!(rows_of(&env, &booking, "balance_request").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_card_payment_is_asked_again_with_backoff_and_stops_once_paid() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), smtp: Some(&smtp), ..Fakes::default() }).await;
    let (booking, paid, dep, desk) = paid_pair(&env, &stripe, "fay@example.com").await;
    let seat = paid / 2;
    // A dearer booking owes a seat (asked once by the modification itself).
    modify(&env, &desk, &booking, &dep.2, 3).await;
    assert_eq!(rows_of(&env, &booking, "balance_request").await, 1);

    // Stripe reports a failed attempt (twice: a repeated delivery starts nothing more).
    let failed = stripe.fail(&intent_of(&env, &booking).await, "Your card was declined.");
    let t0 = Utc::now();
    env.deliver_stripe_event(&failed).await;
    env.deliver_stripe_event(&failed).await;
    // The runner asks at once.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while rows_of(&env, &booking, "balance_request").await < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rows_of(&env, &booking, "balance_request").await, 2, "asked at once after the failure");
    assert!(mails(&smtp, "Balance due for", 2).await.len() >= 2);

    // Then not before an hour, then once after it; a second pass at the same moment asks nothing.
    let pool = tourdesk_sync_server::db::connect(&env.server_config).unwrap();
    let hours = |h: i64| t0 + chrono::Duration::hours(h) + chrono::Duration::minutes(1);
    assert_eq!(payment_chase::ask_due(&pool, t0 + chrono::Duration::minutes(30)).await.unwrap(), 0);
    assert_eq!(payment_chase::ask_due(&pool, hours(1)).await.unwrap(), 1);
    assert_eq!(payment_chase::ask_due(&pool, hours(1)).await.unwrap(), 0);
    assert_eq!(rows_of(&env, &booking, "balance_request").await, 3);
    assert!(all_logged(&env, &booking, "balance_request").await, "in the change log");

    // Paid at the desk: the next due ask (a day on) is not sent, and the chase says why it ended.
    let currency = currency_of(&env, &booking).await;
    let cash: Mutation = m(
        "record_payment.v1",
        json!({"nonce": nonce(), "booking_id": booking, "method": "cash", "amount": seat,
               "currency": currency.as_str(), "at": Utc::now()}),
    );
    desk.mutate(&cash).unwrap();
    env.client(demo_data::DEMO_MANAGER_EMAIL).sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    assert_eq!(payment_chase::ask_due(&pool, hours(25)).await.unwrap(), 0);
    assert_eq!(payment_chase::ask_due(&pool, hours(80)).await.unwrap(), 0);
    assert_eq!(rows_of(&env, &booking, "balance_request").await, 3, "no ask once paid");
    let row = env
        .pg()
        .await
        .query_one(
            "SELECT asks_sent, stop_reason, next_ask_at IS NULL FROM payment_chases WHERE booking_id = $1",
            &[&booking],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, i32>(0), row.get::<_, Option<String>>(1), row.get::<_, bool>(2)),
        (2, Some("paid".into()), true)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waitlist_offer_is_logged_like_every_other_message() {
    let env = Env::start().await;
    let (departure, tour, tier) = empty_departure(&env).await;
    let pg = env.pg().await;
    pg.execute("UPDATE schedules SET capacity = 1 WHERE id = $1", &[&departure]).await.unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let org = demo_data::DEMO_ORG_SLUG;
    let req = json!({
        "request_id": nonce(),
        "departure_id": departure,
        "customer": {"email": "blocker@example.com", "first_name": "Ada", "last_name": "Blocker"},
        "lines": [{"tier_id": tier, "quantity": 1}],
    });
    let r = http.post(format!("{}/api/v1/orgs/{org}/bookings", env.base_url())).json(&req).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let blocker = r.json::<serde_json::Value>().await.unwrap()["booking"]["id"].as_str().unwrap().to_string();
    let row = pg
        .query_one(
            "SELECT t.slug, s.local_date::text FROM schedules s JOIN tours t ON t.id = s.tour_id WHERE s.id = $1",
            &[&departure],
        )
        .await
        .unwrap();
    let (slug, date): (String, String) = (row.get(0), row.get(1));
    // The form asks a count per tier.
    let qty = format!("qty_{tier}");
    let form = [
        ("tour", slug),
        ("date", date),
        ("departure", departure.clone()),
        ("first_name", "Wendy".to_string()),
        ("last_name", "Waiting".to_string()),
        ("email", "wendy@example.com".to_string()),
        (qty.as_str(), "1".to_string()),
        ("lang", "en".to_string()),
    ];
    let r = http.post(format!("{}/{org}/waitlist", env.base_url())).form(&form).send().await.unwrap();
    assert!(r.status().is_success() || r.status().is_redirection(), "{}", r.status());

    // The seat comes free (a desk cancels the blocker); the job offers it to Wendy.
    let cancel = m(
        "cancel_booking.v1",
        json!({"booking_id": blocker, "tour_id": tour, "departure_id": departure, "by": "operator"}),
    );
    let token = tourdesk_tests::sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let push = tourdesk_domain::protocol::PushRequest {
        client_id: nonce(),
        schema_version: tourdesk_domain::protocol::SCHEMA_VERSION,
        mutations: vec![tourdesk_tests::raw_envelope(1, cancel)],
    };
    let resp = tourdesk_tests::push_raw(&env.base_url(), &token, &push).await;
    assert_eq!(resp.results[0].status, tourdesk_domain::protocol::OutcomeStatus::Applied, "{:?}", resp.results);
    let offered = || async {
        env.pg()
            .await
            .query_opt("SELECT booking_id FROM communications WHERE type = 'waitlist_offer'", &[])
            .await
            .unwrap()
            .map(|r| r.get::<_, String>(0))
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut booking = offered().await;
    while booking.is_none() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        booking = offered().await;
    }
    let booking = booking.expect("an offer was made");
    assert!(all_logged(&env, &booking, "waitlist_offer").await, "the offer is in the change log");
}

/// Twilio at the HTTP boundary: records each `Messages.json` form and answers a Message SID.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<Vec<(String, String)>>>>;

async fn fake_twilio() -> (String, Seen) {
    use axum::routing::post;
    let requests: Seen = Seen::default();
    let seen = requests.clone();
    let app = axum::Router::new().route(
        "/2010-04-01/Accounts/{sid}/Messages.json",
        post(move |body: String| {
            let seen = seen.clone();
            async move {
                let form: Vec<(String, String)> = reqwest::Url::parse(&format!("http://x/?{body}"))
                    .unwrap()
                    .query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                let mut seen = seen.lock().unwrap();
                seen.push(form);
                let sid = format!("SM{:032}", seen.len());
                (axum::http::StatusCode::CREATED, axum::Json(json!({"sid": sid, "status": "queued"})))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, requests)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_with_only_a_phone_who_agreed_is_reminded_by_text_once() {
    let (twilio_url, texts) = fake_twilio().await;
    let env = Env::start_with(move |c| {
        c.sms.account_sid = Some("AC00000000000000000000000000000001".into());
        c.sms.auth_token = "twilio-test-auth-token".into();
        c.sms.from_number = "+15005550006".into();
        c.sms.api_base_url = twilio_url;
    })
    .await;
    let desk = env.desk("front");
    let client = env.client(demo_data::DEMO_OWNER_EMAIL);
    client.sync_once(&desk).await.unwrap();
    let (dep, tour, tier) = empty_departure(&env).await;
    let hlc = || tourdesk_domain::hlc::Hlc::at(Utc::now(), 0, "desk").to_string();
    let customer = nonce();
    desk.mutate(&m(
        "create_customer.v1",
        json!({"id": customer, "phone": "+447911123456", "first_name": "Phil", "last_name": "Phone", "hlc": hlc()}),
    ))
    .unwrap();
    desk.mutate(&m(
        "set_customer_field.v1",
        json!({"customer_id": customer, "set": {"field": "sms_opt_in", "value": true}, "hlc": hlc()}),
    ))
    .unwrap();
    let booking = nonce();
    desk.mutate(&m(
        "create_booking.v1",
        json!({"id": booking, "tour_id": tour, "departure_id": dep, "customer_id": customer,
               "lines": [{"tier_id": tier, "quantity": 1}], "reference_year": 2026,
               "reference_entropy": uuid::Uuid::new_v4().as_u64_pair().0}),
    ))
    .unwrap();
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    let pg = env.pg().await;
    pg.execute("UPDATE bookings SET status = 'confirmed' WHERE id = $1", &[&booking]).await.unwrap();
    let starts: chrono::DateTime<Utc> =
        pg.query_one("SELECT starts_at FROM schedules WHERE id = $1", &[&dep]).await.unwrap().get(0);

    let pool = tourdesk_sync_server::db::connect(&env.server_config).unwrap();
    let lead = chrono::Duration::hours(24);
    let now = starts - chrono::Duration::hours(20);
    assert_eq!(reminders::queue_due(&pool, lead, now).await.unwrap(), 1);
    assert_eq!(reminders::queue_due(&pool, lead, now + chrono::Duration::hours(1)).await.unwrap(), 0, "once");
    let row = pg
        .query_one(
            "SELECT channel, recipient FROM communications WHERE booking_id = $1 AND type = 'booking_reminder'",
            &[&booking],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, String>(0), row.get::<_, String>(1)), ("sms".into(), "+447911123456".into()));
    assert!(all_logged(&env, &booking, "booking_reminder").await, "in the change log");

    // The runner's SMS outbox sends it through Twilio.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while texts.lock().unwrap().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = texts.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let to = sent[0].iter().find(|(k, _)| k == "To").map(|(_, v)| v.clone());
    assert_eq!(to.as_deref(), Some("+447911123456"));
    let body = sent[0].iter().find(|(k, _)| k == "Body").map(|(_, v)| v.clone()).unwrap_or_default();
    assert!(body.starts_with("Reminder:"), "{body}");
}

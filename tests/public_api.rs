//! The public booking API against a real server, a real PostgreSQL, a fake Stripe at the HTTP
//! boundary (the real async-stripe client and real webhook signatures) and a real SMTP sink.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_testkit::stripe::{FakeStripe, sign};
use tourdesk_tests::{Env, Fakes};

const ORG: &str = demo_data::DEMO_ORG_SLUG;

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

async fn get(env: &Env, path: &str) -> (StatusCode, Value) {
    let r = http().get(format!("{}{path}", env.base_url())).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post(env: &Env, path: &str, body: &Value) -> (StatusCode, Value) {
    let r = http().post(format!("{}{path}", env.base_url())).json(body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Delivers a signed event as Stripe would; returns the status.
async fn deliver(env: &Env, payload: &str, secret: &str, at: i64) -> StatusCode {
    http()
        .post(format!("{}/api/v1/stripe/webhook", env.base_url()))
        .header("Stripe-Signature", sign(payload, secret, at))
        .header("Content-Type", "application/json")
        .body(payload.to_string())
        .send()
        .await
        .unwrap()
        .status()
}

/// The first departure of the first tour with room for `seats`, and that tour's first tier.
async fn bookable(env: &Env, seats: u64) -> (Value, Value) {
    let (_, tours) = get(env, &format!("/api/v1/orgs/{ORG}/tours")).await;
    for t in tours.as_array().unwrap() {
        let from = Utc::now().date_naive();
        let to = from + chrono::Duration::days(20);
        let (s, a) = get(
            env,
            &format!("/api/v1/orgs/{ORG}/tours/{}/availability?from={from}&to={to}", t["slug"].as_str().unwrap()),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{a}");
        // Departures more than two days out, so the flexible policy refunds in full.
        if let Some(d) = a["departures"].as_array().unwrap().iter().find(|d| {
            d["seats_left"].as_u64().unwrap() >= seats
                && d["starts_at"].as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap()
                    > Utc::now() + chrono::Duration::days(3)
        }) {
            return (d.clone(), d["prices"][0].clone());
        }
    }
    panic!("no bookable departure in the demo data");
}

fn booking_request(departure: &Value, tier: &Value, email: &str, seats: u64) -> Value {
    json!({
        "request_id": uuid::Uuid::new_v4().to_string(),
        "departure_id": departure["id"],
        "customer": {"email": email, "first_name": "Grace", "last_name": "Hopper"},
        "lines": [{"tier_id": tier["tier_id"], "quantity": seats}],
    })
}

#[tokio::test]
async fn catalog_shows_tours_prices_and_local_times() {
    let env = Env::start().await;
    let (s, tours) = get(&env, &format!("/api/v1/orgs/{ORG}/tours")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(tours.as_array().unwrap().len(), 3, "{tours}");
    let tokyo = tours.as_array().unwrap().iter().find(|t| t["timezone"] == "Asia/Tokyo").unwrap();
    assert_eq!(tokyo["from_price"]["currency"], "JPY");
    assert!(tokyo["from_price"]["formatted"].as_str().unwrap().starts_with('¥'));

    let slug = tokyo["slug"].as_str().unwrap();
    let (s, detail) = get(&env, &format!("/api/v1/orgs/{ORG}/tours/{slug}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(!detail["tiers"].as_array().unwrap().is_empty());
    assert_eq!(detail["cancellation_policy"]["rules"][0]["refund_percentage"], 100);

    let from = Utc::now().date_naive();
    let to = from + chrono::Duration::days(6);
    let (s, a) = get(&env, &format!("/api/v1/orgs/{ORG}/tours/{slug}/availability?from={from}&to={to}")).await;
    assert_eq!(s, StatusCode::OK);
    let d = &a["departures"][0];
    assert_eq!(d["timezone"], "Asia/Tokyo");
    assert_eq!(d["utc_offset"], "+09:00");
    let starts: chrono::DateTime<Utc> = d["starts_at"].as_str().unwrap().parse().unwrap();
    let local = starts.with_timezone(&chrono_tz::Asia::Tokyo).format("%H:%M").to_string();
    assert_eq!(d["start_time"], local, "local time is the UTC instant shown in the tour's zone");
    assert!(d["prices"][0]["price"]["amount_minor"].as_i64().unwrap() > 0);

    // Bad input: a clear 4xx naming the field, never a 500.
    let (s, e) = get(&env, &format!("/api/v1/orgs/{ORG}/tours/{slug}/availability?from={to}&to={from}")).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("to")));
    let (s, e) = get(&env, &format!("/api/v1/orgs/{ORG}/tours/{slug}/availability?to={to}")).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("from")));
    let (s, e) = get(&env, &format!("/api/v1/orgs/{ORG}/tours/{slug}/availability?from=yesterday&to={to}")).await;
    assert_eq!((s, e["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("INVALID")));
    let (s, _) = get(&env, &format!("/api/v1/orgs/{ORG}/tours/no-such-tour")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, e) = get(&env, "/api/v1/orgs/no-such-org/tours").await;
    assert_eq!((s, e["code"].as_str()), (StatusCode::NOT_FOUND, Some("NOT_FOUND")));
}

#[tokio::test]
async fn quotes_apply_promo_codes_and_explain_refusals() {
    let env = Env::start().await;
    let (dep, tier) = bookable(&env, 2).await;
    let line = json!([{"tier_id": tier["tier_id"], "quantity": 2}]);
    let (s, plain) =
        post(&env, &format!("/api/v1/orgs/{ORG}/quotes"), &json!({"departure_id": dep["id"], "lines": line})).await;
    assert_eq!(s, StatusCode::OK, "{plain}");
    let unit = tier["price"]["amount_minor"].as_i64().unwrap();
    assert_eq!(plain["price"]["subtotal"]["amount_minor"].as_i64().unwrap(), 2 * unit);
    let body = json!({"departure_id": dep["id"], "lines": line, "promo_code": "welcome10"});
    let (s, promo) = post(&env, &format!("/api/v1/orgs/{ORG}/quotes"), &body).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(promo["promo"]["status"], "applied");
    assert!(promo["price"]["total"]["amount_minor"].as_i64() < plain["price"]["total"]["amount_minor"].as_i64());
    let body = json!({"departure_id": dep["id"], "lines": line, "promo_code": "NOPE"});
    let (_, refused) = post(&env, &format!("/api/v1/orgs/{ORG}/quotes"), &body).await;
    assert_eq!(refused["promo"]["status"], "refused");
    assert!(refused["promo"]["message"].as_str().is_some());

    let (s, e) = post(
        &env,
        &format!("/api/v1/orgs/{ORG}/quotes"),
        &json!({"departure_id": dep["id"], "lines": [{"tier_id": tier["tier_id"], "quantity": 0}]}),
    )
    .await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("lines[0].quantity")));
    let (s, e) =
        post(&env, &format!("/api/v1/orgs/{ORG}/quotes"), &json!({"departure_id": dep["id"], "lines": "two"})).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("lines")), "{e}");
}

#[tokio::test]
async fn booking_flow_payment_webhooks_magic_link_and_refund() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), smtp: Some(&smtp), ..Fakes::default() }).await;
    let secret = env.webhook_secret();
    let (dep, tier) = bookable(&env, 2).await;
    let seats_before = dep["seats_left"].as_u64().unwrap();
    let req = booking_request(&dep, &tier, "grace@example.com", 2);

    let (s, created) = post(&env, &format!("/api/v1/orgs/{ORG}/bookings"), &req).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let b = &created["booking"];
    assert_eq!((b["status"].as_str(), b["payment_status"].as_str()), (Some("pending"), Some("unpaid")));
    assert!(b["hold_expires_at"].is_string());
    assert!(b["reference"].as_str().unwrap().starts_with("BK-"));
    let intent = created["payment"]["payment_intent_id"].as_str().unwrap().to_string();
    assert!(created["payment"]["client_secret"].as_str().unwrap().starts_with(&intent));
    let total = b["price"]["total"]["amount_minor"].as_i64().unwrap();
    let fake = stripe.intent(&intent).unwrap();
    assert_eq!(fake.amount, total);
    let booking_id = b["id"].as_str().unwrap().to_string();
    assert_eq!(fake.metadata.get("booking_id"), Some(&booking_id));

    // The same request again (a lost answer): the same booking and the same intent, no new seats.
    let (s, again) = post(&env, &format!("/api/v1/orgs/{ORG}/bookings"), &req).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(again["booking"]["id"], b["id"]);
    assert_eq!(again["payment"]["payment_intent_id"].as_str(), Some(intent.as_str()));
    let intents = stripe.requests().iter().filter(|r| r.path == "/v1/payment_intents" && r.method == "POST").count();
    assert_eq!(intents, 2, "both sends reached Stripe ...");
    assert!(
        stripe.requests().iter().all(|r| r.path != "/v1/payment_intents"
            || r.idempotency_key.as_deref() == Some(format!("intent-{booking_id}").as_str())),
        "... with one idempotency key"
    );
    let booked: i32 = env
        .pg()
        .await
        .query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&dep["id"].as_str().unwrap()])
        .await
        .unwrap()
        .get(0);
    let capacity: i32 = env
        .pg()
        .await
        .query_one("SELECT capacity FROM schedules WHERE id = $1", &[&dep["id"].as_str().unwrap()])
        .await
        .unwrap()
        .get(0);
    assert_eq!((capacity - booked) as u64, seats_before - 2);

    // Payment succeeds: Stripe tells us, twice.
    let event = stripe.succeed(&intent);
    let now = Utc::now().timestamp();
    assert_eq!(deliver(&env, &event, &secret, now).await, StatusCode::OK);
    assert_eq!(deliver(&env, &event, &secret, now).await, StatusCode::OK);
    let email = json!({"reference": b["reference"], "email": "GRACE@example.com"});
    let (s, seen) = post(&env, &format!("/api/v1/orgs/{ORG}/bookings/lookup"), &email).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((seen["status"].as_str(), seen["payment_status"].as_str()), (Some("confirmed"), Some("paid")));
    assert_eq!(seen["paid"]["amount_minor"].as_i64(), Some(total));
    assert_eq!(seen["hold_expires_at"], Value::Null);
    let audits = env
        .scalar(
            "SELECT count(*) FROM audit_logs WHERE entity_id = $1 AND action = 'booking.payment_received'",
            &[&booking_id],
        )
        .await;
    assert_eq!(audits, 1, "the duplicate delivery changed nothing");
    let (s, _) = post(
        &env,
        &format!("/api/v1/orgs/{ORG}/bookings/lookup"),
        &json!({"reference": b["reference"], "email": "someone@else.com"}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A manage link by e-mail; the answer does not say whether the booking exists.
    let (s, _) = post(
        &env,
        &format!("/api/v1/orgs/{ORG}/bookings/manage-link"),
        &json!({"reference": "BK-2026-ZZZZZZ", "email": "x@y.com"}),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let (s, _) = post(&env, &format!("/api/v1/orgs/{ORG}/bookings/manage-link"), &email).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let mails = smtp.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 2, "the confirmation, and a link for the real booking only: {mails:?}");
    let confirmation = mails.iter().find(|m| m.subject.starts_with("Booking confirmed")).unwrap();
    assert_eq!(confirmation.to, vec!["grace@example.com".to_string()]);
    let link = mails.iter().find(|m| m.subject.starts_with("Manage your booking")).unwrap();
    let token = link.text.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let stored = env.scalar("SELECT count(*) FROM communications WHERE content LIKE '%' || $1 || '%'", &[&token]).await;
    assert_eq!(stored, 0, "the link's token is not stored in clear");

    let r = http().get(format!("{}/api/v1/manage/booking", env.base_url())).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = http()
        .post(format!("{}/api/v1/manage/booking/cancel", env.base_url()))
        .bearer_auth(&token)
        .json(&json!({"reason": "plans changed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let cancelled: Value = r.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancellation"]["refund_percentage"], 100);
    assert_eq!(cancelled["cancellation"]["refund"]["amount_minor"].as_i64(), Some(total));
    // The refund went to Stripe with its idempotency key, and the seats came back.
    let refund = stripe.requests().into_iter().find(|r| r.path == "/v1/refunds").unwrap();
    assert_eq!(refund.field("amount"), Some(total.to_string().as_str()));
    assert_eq!(refund.idempotency_key.as_deref(), Some(format!("refund-{booking_id}").as_str()));
    let booked_after: i32 = env
        .pg()
        .await
        .query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&dep["id"].as_str().unwrap()])
        .await
        .unwrap()
        .get(0);
    assert_eq!(booked_after, booked - 2);
    // The link cancels once.
    let r = http()
        .post(format!("{}/api/v1/manage/booking/cancel", env.base_url()))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Stripe confirms the refund on the charge.
    assert_eq!(deliver(&env, &stripe.refund_event(&intent), &secret, Utc::now().timestamp()).await, StatusCode::OK);
    let (_, after) = post(&env, &format!("/api/v1/orgs/{ORG}/bookings/lookup"), &email).await;
    assert_eq!(
        (after["payment_status"].as_str(), after["refunded"]["amount_minor"].as_i64()),
        (Some("refunded"), Some(total))
    );
    let status: String = env
        .pg()
        .await
        .query_one("SELECT status FROM refunds WHERE booking_id = $1", &[&booking_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "succeeded");
}

#[tokio::test]
async fn webhook_forgeries_and_stale_replays_are_refused_and_record_nothing() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let secret = env.webhook_secret();
    let (dep, tier) = bookable(&env, 1).await;
    let (_, created) =
        post(&env, &format!("/api/v1/orgs/{ORG}/bookings"), &booking_request(&dep, &tier, "eve@example.com", 1)).await;
    let intent = created["payment"]["payment_intent_id"].as_str().unwrap().to_string();
    let event = stripe.succeed(&intent);
    let now = Utc::now().timestamp();
    assert_eq!(deliver(&env, &event, "whsec_not_ours", now).await, StatusCode::BAD_REQUEST);
    let tampered = event.replace("\"livemode\":false", "\"livemode\":true ");
    let r = http()
        .post(format!("{}/api/v1/stripe/webhook", env.base_url()))
        .header("Stripe-Signature", sign(&event, &secret, now))
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(deliver(&env, &event, &secret, now - 3600).await, StatusCode::BAD_REQUEST, "an hour-old signature");
    let r = http().post(format!("{}/api/v1/stripe/webhook", env.base_url())).body(event.clone()).send().await.unwrap();
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["field"], "Stripe-Signature");
    assert_eq!(env.scalar("SELECT count(*) FROM stripe_events", &[]).await, 0);
    let (_, b) = post(
        &env,
        &format!("/api/v1/orgs/{ORG}/bookings/lookup"),
        &json!({"reference": created["booking"]["reference"], "email": "eve@example.com"}),
    )
    .await;
    assert_eq!(b["status"], "pending", "nothing forged got through");
    // The genuine delivery still works afterwards.
    assert_eq!(deliver(&env, &event, &secret, now).await, StatusCode::OK);
    assert_eq!(env.scalar("SELECT count(*) FROM stripe_events", &[]).await, 1);
}

#[tokio::test]
async fn two_hundred_parallel_requests_for_ten_seats_sell_exactly_ten() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let (dep, tier) = bookable(&env, 1).await;
    let dep_id = dep["id"].as_str().unwrap().to_string();
    // A departure with exactly ten free seats and nothing booked on it.
    env.pg()
        .await
        .execute("UPDATE schedules SET capacity = 10, booked_count = 0, status = 'open' WHERE id = $1", &[&dep_id])
        .await
        .unwrap();
    let url = format!("{}/api/v1/orgs/{ORG}/bookings", env.base_url());
    let mut tasks = Vec::new();
    for i in 0..200 {
        let body = booking_request(&dep, &tier, &format!("racer{i}@example.com"), 1);
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let r = http().post(url).json(&body).send().await.unwrap();
            let status = r.status();
            let v: Value = r.json().await.unwrap();
            (status, v["code"].as_str().map(str::to_string))
        }));
    }
    let mut created = 0;
    let mut full = 0;
    for t in tasks {
        match t.await.unwrap() {
            (StatusCode::CREATED, _) => created += 1,
            (StatusCode::CONFLICT, Some(code)) if code == "CAPACITY_EXCEEDED" || code == "DEPARTURE_NOT_BOOKABLE" => {
                full += 1
            }
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!((created, full), (10, 190));
    let pg = env.pg().await;
    let booked: i32 =
        pg.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&dep_id]).await.unwrap().get(0);
    let rows: i64 = pg
        .query_one("SELECT count(*) FROM bookings WHERE departure_id = $1 AND status <> 'cancelled'", &[&dep_id])
        .await
        .unwrap()
        .get(0);
    let seats: i64 = pg.query_one("SELECT coalesce(sum(participant_count), 0)::bigint FROM bookings WHERE departure_id = $1 AND status <> 'cancelled'", &[&dep_id]).await.unwrap().get(0);
    assert_eq!((booked, rows, seats), (10, 10, 10));
    let customers: i64 =
        pg.query_one("SELECT count(*) FROM customers WHERE email LIKE 'racer%'", &[]).await.unwrap().get(0);
    assert_eq!(customers, 10, "a refused booking leaves no customer behind");
}

/// The retry path of a sale decided without the departure's lock: two bookings both decide two of
/// the last three seats plainly on the same unlocked read (the departure's row lock is held by
/// this test, so neither can take its seats yet), then both queue on the guarded seat update.
/// Whichever gets the row first sells; the other's guard no longer holds, its transaction is
/// rolled back whole and decided again under the lock, which refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_decided_on_a_stale_read_is_decided_again_under_the_lock_and_refused() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let (dep, tier) = bookable(&env, 2).await;
    let dep_id = dep["id"].as_str().unwrap().to_string();
    let mut holder = env.pg().await;
    holder
        .execute("UPDATE schedules SET capacity = 10, booked_count = 7, status = 'open' WHERE id = $1", &[&dep_id])
        .await
        .unwrap();
    let lock = holder.transaction().await.unwrap();
    // The lock a seat update takes: a booking's foreign-key check (KEY SHARE) still passes it.
    lock.execute("SELECT 1 FROM schedules WHERE id = $1 FOR NO KEY UPDATE", &[&dep_id]).await.unwrap();

    let url = format!("{}/api/v1/orgs/{ORG}/bookings", env.base_url());
    let mut tasks = Vec::new();
    for email in ["stale-a@example.com", "stale-b@example.com"] {
        let (url, body) = (url.clone(), booking_request(&dep, &tier, email, 2));
        tasks.push(tokio::spawn(async move {
            let r = http().post(url).json(&body).send().await.unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap())
        }));
    }
    // Both have decided on booked_count 7 and wait for the row in the seat-taking statement.
    let watcher = env.pg().await;
    let waiting = || async {
        watcher
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE wait_event_type = 'Lock' AND query LIKE '%sell_departure_seats%'",
                &[],
            )
            .await
            .unwrap()
            .get::<_, i64>(0)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while waiting().await < 2 {
        assert!(std::time::Instant::now() < deadline, "both bookings should wait for the departure's row");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    lock.commit().await.unwrap();

    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers.sort_by_key(|(s, _)| s.as_u16());
    assert_eq!(answers[0].0, StatusCode::CREATED, "{}", answers[0].1);
    assert_eq!(answers[1].0, StatusCode::CONFLICT, "{}", answers[1].1);
    assert_eq!(answers[1].1["code"], "CAPACITY_EXCEEDED", "{}", answers[1].1);
    assert!(answers[1].1["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", answers[1].1);

    let pg = env.pg().await;
    let booked: i32 =
        pg.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&dep_id]).await.unwrap().get(0);
    let (rows, seats): (i64, i64) = {
        let r = pg
            .query_one(
                "SELECT count(*), coalesce(sum(b.participant_count), 0)::bigint FROM bookings b
                 JOIN customers c ON c.organization_id = b.organization_id AND c.id = b.customer_id
                 WHERE b.departure_id = $1 AND c.email LIKE 'stale-%'",
                &[&dep_id],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((booked, rows, seats), (9, 1, 2), "one sale of two seats, nothing overbooked");
    let customers: i64 =
        pg.query_one("SELECT count(*) FROM customers WHERE email LIKE 'stale-%'", &[]).await.unwrap().get(0);
    assert_eq!(customers, 1, "the refused booking's first attempt left no customer behind");
}

#[tokio::test]
async fn unpaid_holds_expire_and_late_money_goes_back() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), hold_seconds: Some(1), ..Fakes::default() }).await;
    let secret = env.webhook_secret();
    let (dep, tier) = bookable(&env, 3).await;
    let dep_id = dep["id"].as_str().unwrap().to_string();
    let booked_before: i32 =
        env.pg().await.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&dep_id]).await.unwrap().get(0);
    let (s, created) =
        post(&env, &format!("/api/v1/orgs/{ORG}/bookings"), &booking_request(&dep, &tier, "late@example.com", 3)).await;
    assert_eq!(s, StatusCode::CREATED);
    let booking_id = created["booking"]["id"].as_str().unwrap().to_string();
    let intent = created["payment"]["payment_intent_id"].as_str().unwrap().to_string();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let status: String =
            env.pg().await.query_one("SELECT status FROM bookings WHERE id = $1", &[&booking_id]).await.unwrap().get(0);
        if status == "cancelled" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the hold never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let booked: i32 =
        env.pg().await.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&dep_id]).await.unwrap().get(0);
    assert_eq!(booked, booked_before, "the seats came back");
    let who = env
        .scalar("SELECT count(*) FROM audit_logs WHERE entity_id = $1 AND actor = 'system:hold-expiry'", &[&booking_id])
        .await;
    assert!(who >= 1);
    // The intent was cancelled so the customer cannot pay for seats they no longer hold ...
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while stripe.intent(&intent).unwrap().status != "canceled" {
        assert!(tokio::time::Instant::now() < deadline, "the intent was not cancelled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // ... and if money arrives anyway, it goes back in full.
    let total = created["booking"]["price"]["total"]["amount_minor"].as_i64().unwrap();
    assert_eq!(deliver(&env, &stripe.succeed(&intent), &secret, Utc::now().timestamp()).await, StatusCode::OK);
    let refund = stripe.requests().into_iter().find(|r| r.path == "/v1/refunds").expect("a refund was sent");
    assert_eq!(refund.field("amount"), Some(total.to_string().as_str()));
    let status: String =
        env.pg().await.query_one("SELECT status FROM bookings WHERE id = $1", &[&booking_id]).await.unwrap().get(0);
    assert_eq!(status, "cancelled", "late money does not resurrect the booking");
}

#[tokio::test]
async fn stripe_outage_answers_the_booking_with_a_retry_and_a_retry_resumes() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let (dep, tier) = bookable(&env, 1).await;
    let req = booking_request(&dep, &tier, "patient@example.com", 1);
    stripe.fail_next(3, 503);
    let (s, first) = post(&env, &format!("/api/v1/orgs/{ORG}/bookings"), &req).await;
    // The booking is made and the site can tell the customer so: its reference, its hold, and
    // that the payment is to be tried again; no client secret.
    assert_eq!(s, StatusCode::CREATED, "{first}");
    let id = req["request_id"].as_str().unwrap();
    assert_eq!(first["booking"]["id"].as_str(), Some(id));
    assert!(first["booking"]["reference"].as_str().unwrap().starts_with("BK-"), "{first}");
    assert!(first["booking"]["hold_expires_at"].is_string(), "{first}");
    assert_eq!(first["payment"]["status"].as_str(), Some("retry"), "{first}");
    assert!(first["payment"]["retry_after_seconds"].as_u64().unwrap() > 0);
    assert!(first["payment"].get("client_secret").is_none(), "{first}");
    let held = env.scalar("SELECT count(*) FROM bookings WHERE id = $1 AND status = 'pending'", &[&id]).await;
    assert_eq!(held, 1, "the seats stay held while Stripe is away");
    stripe.fail_next(0, 503);
    let (s, ok) = post(&env, &format!("/api/v1/orgs/{ORG}/bookings"), &req).await;
    assert_eq!(s, StatusCode::CREATED, "{ok}");
    assert_eq!(ok["booking"]["id"].as_str(), Some(id));
    assert_eq!(ok["booking"]["reference"], first["booking"]["reference"]);
    assert_eq!(ok["payment"]["status"].as_str(), Some("ready"), "{ok}");
    let intent = ok["payment"]["payment_intent_id"].as_str().unwrap();
    assert!(ok["payment"]["client_secret"].as_str().unwrap().starts_with(intent));
    assert_eq!(env.scalar("SELECT count(*) FROM bookings WHERE id = $1", &[&id]).await, 1);
    // Reusing the request id for someone else is refused.
    let mut other = req.clone();
    other["customer"]["email"] = json!("mallory@example.com");
    let (s, e) = post(&env, &format!("/api/v1/orgs/{ORG}/bookings"), &other).await;
    assert_eq!((s, e["code"].as_str()), (StatusCode::CONFLICT, Some("REQUEST_ID_REUSED")));
}

#[tokio::test]
async fn bad_booking_input_is_a_clear_4xx_and_writes_nothing() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let (dep, tier) = bookable(&env, 1).await;
    // The demo data has customers of its own; none may be added.
    let customers_before = env.scalar("SELECT count(*) FROM customers", &[]).await;
    let url = format!("/api/v1/orgs/{ORG}/bookings");
    let base = booking_request(&dep, &tier, "ok@example.com", 1);
    let cases: Vec<(Value, StatusCode, &str)> = vec![
        (
            {
                let mut b = base.clone();
                b["customer"]["email"] = json!("not-an-email");
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "customer.email",
        ),
        (
            {
                let mut b = base.clone();
                b["customer"]["first_name"] = json!("");
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "customer.first_name",
        ),
        (
            {
                let mut b = base.clone();
                b["customer"]["phone"] = json!("12");
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "customer.phone",
        ),
        (
            {
                let mut b = base.clone();
                b["lines"][0]["quantity"] = json!(-1);
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "lines[0].quantity",
        ),
        (
            {
                let mut b = base.clone();
                b["lines"] = json!([]);
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "lines",
        ),
        (
            {
                let mut b = base.clone();
                b["departure_id"] = json!(uuid::Uuid::new_v4().to_string());
                b
            },
            StatusCode::NOT_FOUND,
            "",
        ),
        (
            {
                let mut b = base.clone();
                b["promo_code"] = json!("NOPE");
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "promo_code",
        ),
        (
            {
                let mut b = base.clone();
                b["expected_total_minor"] = json!(1);
                b
            },
            StatusCode::CONFLICT,
            "expected_total_minor",
        ),
        (
            {
                let mut b = base.clone();
                b["surprise"] = json!(true);
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "surprise",
        ),
        (
            {
                let mut b = base.clone();
                b["request_id"] = json!("not a uuid");
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "request_id",
        ),
    ];
    for (body, status, field) in cases {
        let (s, e) = post(&env, &url, &body).await;
        assert_eq!(s, status, "{body} → {e}");
        if !field.is_empty() {
            assert_eq!(e["field"].as_str(), Some(field), "{body} → {e}");
        }
    }
    let r = http()
        .post(format!("{}{url}", env.base_url()))
        .header("Content-Type", "application/json")
        .body("{\"departure_id\":")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(env.scalar("SELECT count(*) FROM bookings WHERE source = 'website'", &[]).await, 0);
    assert_eq!(env.scalar("SELECT count(*) FROM customers", &[]).await, customers_before, "no half-made customer");
    assert!(stripe.requests().is_empty());
}

#[tokio::test]
async fn public_routes_are_rate_limited_per_address() {
    let env = Env::start_faked(Fakes { rate_limit: Some((1, 3)), ..Fakes::default() }).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(get(&env, &format!("/api/v1/orgs/{ORG}/tours")).await);
    }
    assert!(statuses[..3].iter().all(|(s, _)| *s == StatusCode::OK));
    let (s, e) = &statuses[4];
    assert_eq!((*s, e["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("RATE_LIMITED")));
    // Staff sync and health are not behind the public limit.
    let r = http().get(format!("{}/health", env.base_url())).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_openapi_document_lists_every_public_route() {
    let env = Env::start().await;
    let (s, doc) = get(&env, "/api/v1/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/orgs/{org}/tours",
        "/api/v1/orgs/{org}/tours/{tour}",
        "/api/v1/orgs/{org}/tours/{tour}/availability",
        "/api/v1/orgs/{org}/quotes",
        "/api/v1/orgs/{org}/bookings",
        "/api/v1/orgs/{org}/bookings/lookup",
        "/api/v1/orgs/{org}/bookings/manage-link",
        "/api/v1/manage/booking",
        "/api/v1/manage/booking/cancel",
        "/api/v1/stripe/webhook",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
    assert!(doc["components"]["schemas"].get("CreateBookingRequest").is_some());
}

#[tokio::test]
async fn failed_payments_and_disputes_are_recorded_with_before_and_after() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let secret = env.webhook_secret();
    let (dep, tier) = bookable(&env, 1).await;
    let (_, created) =
        post(&env, &format!("/api/v1/orgs/{ORG}/bookings"), &booking_request(&dep, &tier, "ivy@example.com", 1)).await;
    let booking_id = created["booking"]["id"].as_str().unwrap().to_string();
    let intent = created["payment"]["payment_intent_id"].as_str().unwrap().to_string();
    let now = Utc::now().timestamp();

    // A declined card: recorded, the booking keeps its hold so the customer can try again.
    assert_eq!(deliver(&env, &stripe.fail(&intent, "Your card was declined."), &secret, now).await, StatusCode::OK);
    let pg = env.pg().await;
    let (status, error): (String, Option<String>) = {
        let r = pg
            .query_one(
                "SELECT b.status, p.last_error FROM bookings b JOIN payments p ON p.booking_id = b.id WHERE b.id = $1",
                &[&booking_id],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!((status.as_str(), error.as_deref()), ("pending", Some("Your card was declined.")));
    assert_eq!(
        env.scalar(
            "SELECT count(*) FROM audit_logs WHERE entity_id = $1 AND action = 'payment.failed'",
            &[&booking_id]
        )
        .await,
        1
    );

    // Paid, then disputed.
    assert_eq!(deliver(&env, &stripe.succeed(&intent), &secret, now).await, StatusCode::OK);
    assert_eq!(deliver(&env, &stripe.dispute(&intent), &secret, now).await, StatusCode::OK);
    let r = pg
        .query_one(
            "SELECT b.payment_status, p.stripe_dispute_id FROM bookings b JOIN payments p ON p.booking_id = b.id
             WHERE b.id = $1",
            &[&booking_id],
        )
        .await
        .unwrap();
    let (payment_status, dispute): (String, Option<String>) = (r.get(0), r.get(1));
    assert_eq!(payment_status, "disputed");
    assert!(dispute.is_some());
    // The audit row of the dispute holds the booking before and after.
    let r = pg
        .query_one(
            "SELECT actor, before->>'payment_status', after->>'payment_status' FROM audit_logs
             WHERE entity_id = $1 AND action = 'booking.disputed'",
            &[&booking_id],
        )
        .await
        .unwrap();
    let (actor, before, after): (String, String, String) = (r.get(0), r.get(1), r.get(2));
    assert_eq!((actor.as_str(), before.as_str(), after.as_str()), ("stripe", "paid", "disputed"));
    // The booking's creation was audited by the same path as a desk's, naming the website.
    let r = pg
        .query_one(
            "SELECT actor, actor_user_id, before IS NULL FROM audit_logs
             WHERE entity_id = $1 AND action = 'create_booking.v1'",
            &[&booking_id],
        )
        .await
        .unwrap();
    let (actor, user, no_before): (String, Option<String>, bool) = (r.get(0), r.get(1), r.get(2));
    assert_eq!((actor.as_str(), user, no_before), ("website", None, true));
}

/// A confirmed booking is reminded once, a day before its departure and in the departure's own
/// time; an unpaid booking and a customer who turned reminders off are not reminded. The sweep
/// is run directly, at the moments the test names: what it queues is its answer, no waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmed_bookings_are_reminded_once_before_their_departure() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), smtp: Some(&smtp), ..Fakes::default() }).await;
    let secret = env.webhook_secret();
    let (dep, tier) = bookable(&env, 3).await;
    let mut bookings = Vec::new();
    for email in ["grace@example.com", "ada@example.com", "alan@example.com"] {
        let (s, created) =
            post(&env, &format!("/api/v1/orgs/{ORG}/bookings"), &booking_request(&dep, &tier, email, 1)).await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        bookings.push(created);
    }
    let id = |i: usize| bookings[i]["booking"]["id"].as_str().unwrap().to_string();
    // Grace and Alan pay; Ada does not. Alan has turned reminders off.
    for i in [0, 2] {
        let intent = bookings[i]["payment"]["payment_intent_id"].as_str().unwrap();
        assert_eq!(deliver(&env, &stripe.succeed(intent), &secret, Utc::now().timestamp()).await, StatusCode::OK);
    }
    let pg = env.pg().await;
    pg.execute(
        "INSERT INTO notification_preferences (id, organization_id, customer_id, reminder_emails)
         SELECT 'np-alan', organization_id, customer_id, false FROM bookings WHERE id = $1",
        &[&id(2)],
    )
    .await
    .unwrap();
    let confirmations = smtp.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(confirmations.len(), 2, "{confirmations:?}");
    let starts: chrono::DateTime<Utc> = pg
        .query_one("SELECT starts_at FROM schedules WHERE id = $1", &[&dep["id"].as_str().unwrap()])
        .await
        .unwrap()
        .get(0);
    let pool = tourdesk_sync_server::db::connect(&env.server_config).unwrap();
    let lead = chrono::Duration::hours(24);
    let queued = |now| {
        let pool = pool.clone();
        async move { tourdesk_sync_server::jobs::reminders::queue_due(&pool, lead, now).await.unwrap() }
    };
    let recorded = || async {
        env.scalar(
            "SELECT count(*) FROM communications WHERE type = 'booking_reminder' AND booking_id = ANY($1)",
            &[&vec![id(0), id(1), id(2)]],
        )
        .await
    };

    // Two days ahead, just over a day ahead, and once the departure has begun: nobody is reminded.
    assert_eq!(queued(starts - chrono::Duration::hours(48)).await, 0);
    assert_eq!(queued(starts - lead - chrono::Duration::minutes(1)).await, 0);
    assert_eq!(queued(starts + chrono::Duration::minutes(1)).await, 0);
    assert_eq!(recorded().await, 0);
    // 20 hours ahead: Grace is reminded (not unpaid Ada, not Alan); a later sweep adds nothing.
    assert_eq!(queued(starts - chrono::Duration::hours(20)).await, 1, "Grace only");
    assert_eq!(queued(starts - chrono::Duration::hours(19)).await, 0, "reminded once");
    assert_eq!(recorded().await, 1);

    // The outbox sends it, in the departure's own time.
    let zone: chrono_tz::Tz = dep["timezone"].as_str().unwrap().parse().unwrap();
    let sent: Vec<_> = smtp
        .wait_for(3, Duration::from_secs(10))
        .await
        .into_iter()
        .filter(|m| m.subject.starts_with("Reminder:"))
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to, vec!["grace@example.com".to_string()]);
    let local = starts.with_timezone(&zone).format("%H:%M").to_string();
    assert!(sent[0].subject.contains(&local), "{} shows the local start {local}", sent[0].subject);
    assert!(sent[0].text.contains(bookings[0]["booking"]["reference"].as_str().unwrap()), "{}", sent[0].text);
}

/// A raw request: `(status, content type, JSON body or Null, Allow header)`.
async fn raw(env: &Env, method: &str, path: &str, ctype: Option<&str>, body: Vec<u8>) -> (StatusCode, String, Value) {
    let mut req =
        http().request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), format!("{}{path}", env.base_url()));
    if let Some(c) = ctype {
        req = req.header("Content-Type", c);
    }
    let r = req.body(body).send().await.unwrap();
    let status = r.status();
    let ctype = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (status, ctype, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn bad_bytes_get_json_4xx_naming_the_field_and_never_reach_postgres() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let j = Some("application/json");
    let lookup = format!("/api/v1/orgs/{ORG}/bookings/lookup");
    let manage = format!("/api/v1/orgs/{ORG}/bookings/manage-link");
    let (dep, tier) = bookable(&env, 1).await;
    let with = |mut b: Value, key: &str, v: Value| {
        b[key] = v;
        b.to_string().into_bytes()
    };
    let booking = booking_request(&dep, &tier, "nul@example.com", 1);
    let quote = json!({"departure_id": dep["id"], "lines": [{"tier_id": tier["tier_id"], "quantity": 1}]});
    let from = Utc::now().date_naive();
    let availability = format!("/api/v1/orgs/{ORG}/tours/alfama-old-town-walk/availability");

    // (method, path, content type, body, status, code, field)
    type Case = (&'static str, String, Option<&'static str>, Vec<u8>, StatusCode, &'static str, Option<&'static str>);
    let cases: Vec<Case> = vec![
        // A NUL in a booking reference, in either request that takes one.
        (
            "POST",
            lookup.clone(),
            j,
            br#"{"reference":"BK\u0000","email":"ana@example.com"}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID",
            Some("reference"),
        ),
        (
            "POST",
            manage.clone(),
            j,
            br#"{"reference":"BK\u0000","email":"ana@example.com"}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID",
            Some("reference"),
        ),
        // …and in the e-mail of the manage-link request.
        (
            "POST",
            manage.clone(),
            j,
            br#"{"reference":"BK-2026-222222","email":"ana\u0000@example.com"}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID",
            Some("email"),
        ),
        // A NUL in the organization's slug, or in a tour's: nothing by that name.
        ("GET", format!("/api/v1/orgs/{ORG}%00/tours"), None, vec![], StatusCode::NOT_FOUND, "NOT_FOUND", None),
        (
            "POST",
            format!("/api/v1/orgs/{ORG}%00/bookings/lookup"),
            j,
            br#"{"reference":"BK-2026-222222","email":"ana@example.com"}"#.to_vec(),
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            None,
        ),
        ("GET", format!("/api/v1/orgs/{ORG}/tours/x%00"), None, vec![], StatusCode::NOT_FOUND, "NOT_FOUND", None),
        // A path segment that does not decode to text.
        ("GET", "/api/v1/orgs/%FF/tours".into(), None, vec![], StatusCode::NOT_FOUND, "NOT_FOUND", Some("org")),
        // A NUL in a promo code is refused as the promo code, when quoting and when booking.
        (
            "POST",
            format!("/api/v1/orgs/{ORG}/quotes"),
            j,
            with(quote.clone(), "promo_code", json!("WELCOME\u{0}")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID",
            Some("promo_code"),
        ),
        (
            "POST",
            format!("/api/v1/orgs/{ORG}/bookings"),
            j,
            with(booking.clone(), "promo_code", json!("WELCOME\u{0}")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID",
            Some("promo_code"),
        ),
        // Missing, duplicate and unknown fields are named, with the path of their object.
        (
            "POST",
            lookup.clone(),
            j,
            br#"{"email":"ana@example.com"}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID",
            Some("reference"),
        ),
        (
            "POST",
            lookup.clone(),
            j,
            br#"{"reference":"BK-2026-222222","reference":"x","email":"ana@example.com"}"#.to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID",
            Some("reference"),
        ),
        (
            "POST",
            format!("/api/v1/orgs/{ORG}/bookings"),
            j,
            with(booking.clone(), "customer", json!({"first_name": "A", "last_name": "B"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID",
            Some("customer.email"),
        ),
        (
            "POST",
            format!("/api/v1/orgs/{ORG}/bookings"),
            j,
            with(booking.clone(), "lines", json!([{"quantity": 1}])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID",
            Some("lines[0].tier_id"),
        ),
        (
            "POST",
            format!("/api/v1/orgs/{ORG}/quotes"),
            j,
            with(quote.clone(), "lines", json!([{"tier_id": "t", "quantity": 1, "colour": 1}])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID",
            Some("lines[0].colour"),
        ),
        // Query parameters: missing, and not a date.
        (
            "GET",
            format!("{availability}?to={from}"),
            None,
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID",
            Some("from"),
        ),
        (
            "GET",
            format!("{availability}?from={from}%00&to={from}"),
            None,
            vec![],
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID",
            Some("from"),
        ),
        // Bodies that are not UTF-8: a JSON route and the webhook (which reads text).
        ("POST", lookup.clone(), j, vec![b'{', 0xff, 0xfe, b'}'], StatusCode::BAD_REQUEST, "MALFORMED_JSON", None),
        (
            "POST",
            "/api/v1/stripe/webhook".into(),
            j,
            vec![0xff, 0xfe, 0xfd],
            StatusCode::BAD_REQUEST,
            "MALFORMED_BODY",
            None,
        ),
        // No content type, a method the path does not take, a path nobody serves.
        (
            "POST",
            lookup.clone(),
            None,
            br#"{"reference":"BK-2026-222222","email":"ana@example.com"}"#.to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            None,
        ),
        (
            "DELETE",
            format!("/api/v1/orgs/{ORG}/tours"),
            None,
            vec![],
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            None,
        ),
        ("GET", "/api/v1/nothing/here".into(), None, vec![], StatusCode::NOT_FOUND, "NOT_FOUND", None),
    ];
    for (method, path, ctype, body, status, code, field) in cases {
        let shown = String::from_utf8_lossy(&body).to_string();
        let (s, got_type, e) = raw(&env, method, &path, ctype, body).await;
        assert_eq!(s, status, "{method} {path} {shown} → {e}");
        assert_eq!(got_type, "application/json", "{method} {path} {shown}");
        assert_eq!(e["code"].as_str(), Some(code), "{method} {path} {shown} → {e}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
        assert!(e.as_object().unwrap().contains_key("field"), "{e}");
        if let Some(f) = field {
            assert_eq!(e["field"].as_str(), Some(f), "{method} {path} {shown} → {e}");
        }
    }
    let r = http().delete(format!("{}/api/v1/orgs/{ORG}/tours", env.base_url())).send().await.unwrap();
    assert_eq!(r.headers().get("allow").and_then(|v| v.to_str().ok()), Some("GET,HEAD"));
    assert_eq!(env.scalar("SELECT count(*) FROM bookings WHERE source = 'website'", &[]).await, 0);

    // A lookup accepts a reference as the domain reads it: any case, spaces, prefix optional.
    let (s, made) = post(&env, &format!("/api/v1/orgs/{ORG}/bookings"), &booking).await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    let reference = made["booking"]["reference"].as_str().unwrap().to_string();
    for typed in [reference.to_lowercase(), format!("  {} ", &reference[3..]), reference.clone()] {
        let (s, seen) = post(&env, &lookup, &json!({"reference": typed, "email": "NUL@example.com"})).await;
        assert_eq!((s, seen["reference"].as_str()), (StatusCode::OK, Some(reference.as_str())), "{typed:?}");
    }
}

/// A booking made on the site, with its id, PaymentIntent and total.
async fn paid_for_later(env: &Env, dep: &Value, tier: &Value, email: &str) -> (String, String, i64) {
    let (s, created) = post(env, &format!("/api/v1/orgs/{ORG}/bookings"), &booking_request(dep, tier, email, 1)).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    (
        created["booking"]["id"].as_str().unwrap().to_string(),
        created["payment"]["payment_intent_id"].as_str().unwrap().to_string(),
        created["booking"]["price"]["total"]["amount_minor"].as_i64().unwrap(),
    )
}

/// What a booking and its payment row say about the money, for comparing outcomes.
async fn money_state(env: &Env, booking_id: &str) -> Vec<String> {
    let r = env
        .pg()
        .await
        .query_one(
            "SELECT b.status, b.payment_status, b.paid_amount_minor, b.refunded_amount_minor, p.status,
                    p.amount_received_minor, p.amount_refunded_minor, p.stripe_dispute_id IS NOT NULL, p.last_error
             FROM bookings b JOIN payments p ON p.organization_id = b.organization_id AND p.booking_id = b.id
             WHERE b.id = $1",
            &[&booking_id],
        )
        .await
        .unwrap();
    vec![
        r.get::<_, String>(0),
        r.get::<_, String>(1),
        r.get::<_, i64>(2).to_string(),
        r.get::<_, i64>(3).to_string(),
        r.get::<_, String>(4),
        r.get::<_, i64>(5).to_string(),
        r.get::<_, i64>(6).to_string(),
        r.get::<_, bool>(7).to_string(),
        format!("{:?}", r.get::<_, Option<String>>(8)),
    ]
}

/// The same event signed again with one field of its object changed (Stripe would never send
/// it; it is what a misconfigured account or another integration could).
fn with_object_field(event: &str, field: &str, value: Value) -> String {
    let mut v: Value = serde_json::from_str(event).unwrap();
    v["data"]["object"][field] = value;
    v["id"] = json!(format!("evt_changed_{}", uuid::Uuid::new_v4().simple()));
    v.to_string()
}

#[tokio::test]
async fn a_refund_that_arrives_before_the_payment_is_not_lost() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let secret = env.webhook_secret();
    let (dep, tier) = bookable(&env, 2).await;
    let now = Utc::now().timestamp();

    // Refunded in full in Stripe's dashboard; the refund's event overtakes the success's.
    let (full, intent, total) = paid_for_later(&env, &dep, &tier, "early-full@example.com").await;
    let succeeded = stripe.succeed(&intent);
    let refunded = stripe.refund_in_dashboard(&intent, total);
    assert_eq!(deliver(&env, &refunded, &secret, now).await, StatusCode::OK);
    assert_eq!(deliver(&env, &succeeded, &secret, now).await, StatusCode::OK);
    let state = money_state(&env, &full).await;
    assert_eq!(state[1..4], ["refunded".to_string(), total.to_string(), total.to_string()], "{state:?}");

    // Refunded in part: the part stays refunded once the success arrives.
    let (part, intent, total) = paid_for_later(&env, &dep, &tier, "early-part@example.com").await;
    let succeeded = stripe.succeed(&intent);
    let refunded = stripe.refund_in_dashboard(&intent, total / 4);
    assert_eq!(deliver(&env, &refunded, &secret, now).await, StatusCode::OK);
    assert_eq!(deliver(&env, &succeeded, &secret, now).await, StatusCode::OK);
    let state = money_state(&env, &part).await;
    assert_eq!(
        state[0..4],
        ["confirmed".to_string(), "partially_refunded".into(), total.to_string(), (total / 4).to_string()],
        "{state:?}"
    );
}

#[tokio::test]
async fn payment_events_reordered_and_repeated_end_as_delivered_in_order() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let secret = env.webhook_secret();
    let (dep, tier) = bookable(&env, 3).await;
    let now = Utc::now().timestamp();

    // Three bookings with the same story: a declined card, the payment, a partial refund, the
    // rest refunded, a dispute. Each gets the story's events in another order.
    let mut stories = Vec::new();
    for who in ["in-order", "reversed", "shuffled"] {
        let (booking, intent, total) = paid_for_later(&env, &dep, &tier, &format!("{who}@example.com")).await;
        let events = vec![
            stripe.fail(&intent, "Your card was declined."),
            stripe.succeed(&intent),
            stripe.refund_in_dashboard(&intent, total / 3),
            stripe.refund_in_dashboard(&intent, total - total / 3),
            stripe.dispute(&intent),
        ];
        stories.push((booking, events));
    }
    let orders: [&[usize]; 3] = [&[0, 1, 2, 3, 4], &[4, 4, 3, 2, 2, 1, 0, 1], &[2, 0, 4, 1, 3, 0, 2]];
    for ((_, events), order) in stories.iter().zip(orders) {
        for &i in order {
            assert_eq!(deliver(&env, &events[i], &secret, now).await, StatusCode::OK);
        }
    }
    let in_order = money_state(&env, &stories[0].0).await;
    assert_eq!(in_order[..2], ["confirmed".to_string(), "disputed".into()], "{in_order:?}");
    assert_eq!(in_order[8], "None", "a success after a declined card clears the error");
    for (booking, _) in &stories[1..] {
        assert_eq!(money_state(&env, booking).await, in_order, "{booking}");
    }
    assert_eq!(env.scalar("SELECT count(*) FROM payment_issues", &[]).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_in_another_currency_is_kept_for_people_and_answered_ok() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let secret = env.webhook_secret();
    let (dep, tier) = bookable(&env, 1).await;
    let (booking, intent, _) = paid_for_later(&env, &dep, &tier, "abroad@example.com").await;
    let before = money_state(&env, &booking).await;
    let real = stripe.succeed(&intent);
    let currency = serde_json::from_str::<Value>(&real).unwrap()["data"]["object"]["currency"].clone();
    let other = if currency == "jpy" { "usd" } else { "jpy" };
    let wrong = with_object_field(&real, "currency", json!(other));

    let now = Utc::now().timestamp();
    assert_eq!(deliver(&env, &wrong, &secret, now).await, StatusCode::OK, "Stripe is told to stop sending it");
    assert_eq!(deliver(&env, &wrong, &secret, now).await, StatusCode::OK);
    assert_eq!(money_state(&env, &booking).await, before, "the booking is unchanged");
    let pg = env.pg().await;
    let r = pg
        .query_one(
            "SELECT booking_id, reason, message FROM payment_issues WHERE stripe_event_id = $1",
            &[&serde_json::from_str::<Value>(&wrong).unwrap()["id"].as_str().unwrap()],
        )
        .await
        .unwrap();
    let (issue_booking, reason, message): (Option<String>, String, String) = (r.get(0), r.get(1), r.get(2));
    assert_eq!((issue_booking.as_deref(), reason.as_str()), (Some(booking.as_str()), "currency_mismatch"));
    assert!(message.contains(&other.to_uppercase()), "{message}");
    assert_eq!(env.scalar("SELECT count(*) FROM payment_issues", &[]).await, 1, "recorded once");
    assert_eq!(env.scalar("SELECT count(*) FROM stripe_events WHERE issue = 'currency_mismatch'", &[]).await, 1);

    // Office desks see it in their inbox's data; a guide's phone does not get it.
    let manager = env.desk("office");
    env.client(demo_data::DEMO_MANAGER_EMAIL).sync_once(&manager).await.unwrap();
    let issues = manager.payment_issues().unwrap();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(
        (issues[0].booking_id.as_deref(), issues[0].reason.as_str()),
        (Some(booking.as_str()), "currency_mismatch")
    );
    assert!(issues[0].booking_reference.as_deref().unwrap().starts_with("BK-"));
    let guide = env.desk("guide");
    env.client(demo_data::DEMO_GUIDE_EMAIL).sync_once(&guide).await.unwrap();
    assert!(guide.payment_issues().unwrap().is_empty());

    // The real event still applies.
    assert_eq!(deliver(&env, &real, &secret, now).await, StatusCode::OK);
    assert_eq!(money_state(&env, &booking).await[..2], ["confirmed".to_string(), "paid".into()]);
}

#[tokio::test]
async fn an_event_for_no_payment_of_ours_is_recorded_and_answered_ok() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let secret = env.webhook_secret();
    let (dep, tier) = bookable(&env, 1).await;
    let (booking, intent, _) = paid_for_later(&env, &dep, &tier, "stranger@example.com").await;
    let before = money_state(&env, &booking).await;
    let mut event: Value =
        serde_json::from_str(&with_object_field(&stripe.succeed(&intent), "id", json!("pi_not_ours_000000000000")))
            .unwrap();
    event["data"]["object"]["metadata"] = json!({});
    let event = event.to_string();
    assert_eq!(deliver(&env, &event, &secret, Utc::now().timestamp()).await, StatusCode::OK);
    assert_eq!(
        env.scalar(
            "SELECT count(*) FROM stripe_events WHERE issue = 'unknown_payment' AND processed_at IS NOT NULL",
            &[]
        )
        .await,
        1
    );
    assert_eq!(env.scalar("SELECT count(*) FROM payment_issues", &[]).await, 0, "no organization to show it to");
    assert_eq!(money_state(&env, &booking).await, before);
}

/// A small deterministic shuffler, so a failing order can be replayed from the seed it prints.
struct Shuffler(u64);

impl Shuffler {
    fn from_env_or_clock() -> Shuffler {
        let seed = std::env::var("TOURDESK_SHUFFLE_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| Utc::now().timestamp_micros().unsigned_abs());
        println!("shuffle seed {seed} (TOURDESK_SHUFFLE_SEED={seed} replays it)");
        Shuffler(seed | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % n as u64).unwrap()
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// The same event signed again with its top-level field `field` set (its id unchanged unless
/// that is the field): what a delivery of the same event at another moment looks like.
fn with_event_field(event: &str, field: &str, value: Value) -> String {
    let mut v: Value = serde_json::from_str(event).unwrap();
    v[field] = value;
    v.to_string()
}

/// Several payments with the same story — two declined attempts, the success, a success
/// event in another currency, a partial refund, the rest refunded, a dispute — each delivered
/// in a random order with random repeats, all payments' deliveries at once (up to eight in
/// flight), against one payment whose events arrive one by one in the order they happened.
/// Every delivery is answered 200, and every payment ends as the in-order one: booking,
/// payment row, refunds, one issue each for the foreign currency.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_events_shuffled_repeated_and_concurrent_end_as_delivered_in_order() {
    use futures_util::StreamExt;
    const SHUFFLED: usize = 5;
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let secret = env.webhook_secret();
    let (dep, tier) = bookable(&env, SHUFFLED as u64 + 1).await;
    let now = Utc::now().timestamp();
    let mut rng = Shuffler::from_env_or_clock();

    let mut stories = Vec::new();
    for n in 0..=SHUFFLED {
        let (booking, intent, total) = paid_for_later(&env, &dep, &tier, &format!("story{n}@example.com")).await;
        let declined = stripe.fail(&intent, "Your card was declined.");
        let short = stripe.fail(&intent, "Your card has insufficient funds.");
        let succeeded = stripe.succeed(&intent);
        let currency = serde_json::from_str::<Value>(&succeeded).unwrap()["data"]["object"]["currency"].clone();
        let abroad = with_object_field(&succeeded, "currency", json!(if currency == "jpy" { "usd" } else { "jpy" }));
        let part = stripe.refund_in_dashboard(&intent, total / 4);
        let rest = stripe.refund_in_dashboard(&intent, total - total / 4);
        let dispute = stripe.dispute(&intent);
        stories.push((booking, vec![declined, short, succeeded, abroad, part, rest, dispute]));
    }
    for event in &stories[0].1 {
        assert_eq!(deliver(&env, event, &secret, now).await, StatusCode::OK);
    }
    let mut deliveries = Vec::new();
    for (_, events) in &stories[1..] {
        let mut order: Vec<usize> = (0..events.len()).collect();
        for _ in 0..4 {
            order.push(rng.below(events.len()));
        }
        deliveries.extend(order.into_iter().map(|i| events[i].clone()));
    }
    rng.shuffle(&mut deliveries);
    let answers: Vec<StatusCode> = futures_util::stream::iter(deliveries.iter())
        .map(|event| deliver(&env, event, &secret, now))
        .buffer_unordered(8)
        .collect()
        .await;
    assert!(answers.iter().all(|s| *s == StatusCode::OK), "{answers:?}");

    let in_order = money_state(&env, &stories[0].0).await;
    assert_eq!(in_order[..2], ["confirmed".to_string(), "disputed".into()], "{in_order:?}");
    assert_eq!(in_order[8], "None", "a success after declined cards clears the error");
    const SETTLED: &str = "SELECT count(*) FROM refunds WHERE booking_id = $1 AND status = 'succeeded'";
    assert_eq!(env.scalar(SETTLED, &[&stories[0].0]).await, 2);
    for (booking, _) in &stories[1..] {
        assert_eq!(money_state(&env, booking).await, in_order, "{booking}");
        assert_eq!(env.scalar(SETTLED, &[booking]).await, 2, "{booking}");
    }
    let issues = env.scalar("SELECT count(*) FROM payment_issues WHERE reason = 'currency_mismatch'", &[]).await;
    assert_eq!(
        issues,
        i64::try_from(stories.len()).unwrap(),
        "one issue per foreign-currency event, however often sent"
    );
}

/// Two things an event carries beside amounts do not depend on the order either: the message of
/// a payment's failed attempts is the latest one's by Stripe's clock, and a refund Stripe has
/// settled stays settled when an older event saying "pending" arrives after it.
#[tokio::test]
async fn the_latest_failure_and_a_settled_refund_stand_whatever_order_their_events_arrive_in() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let secret = env.webhook_secret();
    let (dep, tier) = bookable(&env, 5).await;
    let now = Utc::now().timestamp();

    let orders: [&[usize]; 3] = [&[0, 1, 2], &[2, 1, 0, 2], &[1, 2, 0, 0, 1]];
    for (n, order) in orders.iter().enumerate() {
        let (booking, intent, _) = paid_for_later(&env, &dep, &tier, &format!("declined{n}@example.com")).await;
        // Created at Stripe oldest first: "expired", then "declined", then "insufficient funds".
        let failures: Vec<String> =
            [("Your card has expired.", 300), ("Your card was declined.", 200), ("Insufficient funds.", 100)]
                .iter()
                .map(|(message, ago)| with_event_field(&stripe.fail(&intent, message), "created", json!(now - ago)))
                .collect();
        for &i in *order {
            assert_eq!(deliver(&env, &failures[i], &secret, now).await, StatusCode::OK);
        }
        let state = money_state(&env, &booking).await;
        assert_eq!(state[8], format!("{:?}", Some("Insufficient funds.")), "order {order:?}: {state:?}");
        assert_eq!(state[..2], ["pending".to_string(), "unpaid".into()], "a declined card keeps the hold");
    }

    for (n, stale_last) in [true, false].into_iter().enumerate() {
        let (booking, intent, total) = paid_for_later(&env, &dep, &tier, &format!("settled{n}@example.com")).await;
        let succeeded = stripe.succeed(&intent);
        let settled = stripe.refund_in_dashboard(&intent, total / 2);
        // The same refund as an earlier event reported it, before Stripe settled it.
        let mut pending: Value = serde_json::from_str(&settled).unwrap();
        pending["data"]["object"]["refunds"]["data"][0]["status"] = json!("pending");
        pending["id"] = json!(format!("evt_pending_{}", uuid::Uuid::new_v4().simple()));
        pending["created"] = json!(now - 60);
        let pending = pending.to_string();
        let order = if stale_last { [&succeeded, &settled, &pending] } else { [&pending, &succeeded, &settled] };
        for event in order {
            assert_eq!(deliver(&env, event, &secret, now).await, StatusCode::OK);
        }
        let status: String = env
            .pg()
            .await
            .query_one("SELECT status FROM refunds WHERE booking_id = $1", &[&booking])
            .await
            .unwrap()
            .get(0);
        assert_eq!(status, "succeeded", "stale event last: {stale_last}");
        let state = money_state(&env, &booking).await;
        assert_eq!(state[1..4], ["partially_refunded".to_string(), total.to_string(), (total / 2).to_string()]);
    }
}

/// Events that cannot be applied but name one of our organizations reach its office desks: a
/// payment whose booking is gone (the intent's metadata names the organization and a booking it
/// no longer has). A NUL byte anywhere in a well-signed event (a decline message) is stored
/// without it, never a 500. Metadata naming no organization of ours stays an operator's row.
#[tokio::test]
async fn events_that_cannot_be_applied_reach_the_office_desk_and_nul_bytes_are_no_500() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let secret = env.webhook_secret();
    let (dep, tier) = bookable(&env, 1).await;
    let (booking, intent, _) = paid_for_later(&env, &dep, &tier, "nul@example.com").await;
    let now = Utc::now().timestamp();

    let declined = stripe.fail(&intent, "Declined\u{0} by the bank");
    assert!(declined.contains("\\u0000"), "{declined}");
    assert_eq!(deliver(&env, &declined, &secret, now).await, StatusCode::OK);
    assert_eq!(money_state(&env, &booking).await[8], format!("{:?}", Some("Declined\u{FFFD} by the bank")));

    let real = stripe.succeed(&intent);
    let mut gone: Value =
        serde_json::from_str(&with_object_field(&real, "id", json!("pi_forgotten_0000000000"))).unwrap();
    gone["data"]["object"]["metadata"]["booking_id"] = json!("no-such-booking");
    assert_eq!(deliver(&env, &gone.to_string(), &secret, now).await, StatusCode::OK);
    let r = env
        .pg()
        .await
        .query_one("SELECT booking_id, reason FROM payment_issues WHERE stripe_event_id = $1", &[&gone["id"].as_str()])
        .await
        .unwrap();
    assert_eq!((r.get::<_, Option<String>>(0), r.get::<_, String>(1)), (None, "booking_missing".to_string()));
    let manager = env.desk("office");
    env.client(demo_data::DEMO_MANAGER_EMAIL).sync_once(&manager).await.unwrap();
    let issues = manager.payment_issues().unwrap();
    assert_eq!(issues.iter().map(|i| i.reason.as_str()).collect::<Vec<_>>(), ["booking_missing"], "{issues:?}");

    let mut stranger = gone.clone();
    stranger["id"] = json!("evt_stranger_000000000000");
    stranger["data"]["object"]["metadata"]["organization_id"] = json!("org-of-someone-else");
    assert_eq!(deliver(&env, &stranger.to_string(), &secret, now).await, StatusCode::OK);
    assert_eq!(
        env.scalar(
            "SELECT count(*) FROM stripe_events WHERE id = 'evt_stranger_000000000000' AND issue = 'unknown_payment'",
            &[]
        )
        .await,
        1
    );
    assert_eq!(env.scalar("SELECT count(*) FROM payment_issues", &[]).await, 1);
    // The real success still applies.
    assert_eq!(deliver(&env, &real, &secret, now).await, StatusCode::OK);
    assert_eq!(money_state(&env, &booking).await[..2], ["confirmed".to_string(), "paid".into()]);
}

//! Database connections lost under load (a terminated backend, as a PostgreSQL restart or an
//! operator's `pg_terminate_backend` does) are a 503 with `Retry-After` that a client retries,
//! never a 500; the pool drops the broken connections and the server answers again afterwards.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::stripe::{FakeStripe, sign};
use tourdesk_tests::{Env, Fakes, sign_in};

const ORG: &str = demo_data::DEMO_ORG_SLUG;
const TASKS: usize = 8;
const REQUESTS_PER_TASK: usize = 40;

/// One request of the mix: availability, a quote, a booking, a staff pull.
async fn one(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    n: usize,
    tour: &str,
    dep: &Value,
    tier: &Value,
) -> reqwest::Response {
    let from = Utc::now().date_naive();
    let to = from + chrono::Duration::days(20);
    let req = match n % 4 {
        0 => client.get(format!("{base}/api/v1/orgs/{ORG}/tours/{tour}/availability?from={from}&to={to}")),
        1 => client
            .post(format!("{base}/api/v1/orgs/{ORG}/quotes"))
            .json(&json!({"departure_id": dep["id"], "lines": [{"tier_id": tier["tier_id"], "quantity": 1}]})),
        2 => client.post(format!("{base}/api/v1/orgs/{ORG}/bookings")).json(&json!({
            "request_id": uuid::Uuid::new_v4().to_string(),
            "departure_id": dep["id"],
            "customer": {"email": format!("load{n}@example.com"), "first_name": "Load", "last_name": "Test"},
            "lines": [{"tier_id": tier["tier_id"], "quantity": 1}],
        })),
        _ => client.post(format!("{base}/sync/v1/pull")).bearer_auth(token).json(&json!({
            "client_id": uuid::Uuid::new_v4().to_string(), "schema_version": 1, "limit": 50,
        })),
    };
    req.send().await.unwrap()
}

/// Another connection terminates every other backend of the database, again and again, until
/// the flag is set; the task answers how many it terminated.
async fn keep_terminating_backends(env: &Env) -> (Arc<AtomicBool>, tokio::task::JoinHandle<i64>) {
    let done = Arc::new(AtomicBool::new(false));
    let killer = {
        let done = done.clone();
        let pg = env.pg().await;
        tokio::spawn(async move {
            let mut killed = 0i64;
            while !done.load(Ordering::Relaxed) {
                let row = pg
                    .query_one(
                        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                         WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                        &[],
                    )
                    .await
                    .unwrap();
                killed += row.get::<_, i64>(0);
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
            }
            killed
        })
    };
    (done, killer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminated_backends_under_load_answer_503_with_retry_after_then_recover() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let base = env.base_url();
    let token = sign_in(&env, demo_data::DEMO_OWNER_EMAIL).await;
    let client = reqwest::Client::new();
    let tours: Value =
        client.get(format!("{base}/api/v1/orgs/{ORG}/tours")).send().await.unwrap().json().await.unwrap();
    let tour = tours[0]["slug"].as_str().unwrap().to_string();
    let from = Utc::now().date_naive();
    let to = from + chrono::Duration::days(20);
    let a: Value = client
        .get(format!("{base}/api/v1/orgs/{ORG}/tours/{tour}/availability?from={from}&to={to}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dep = a["departures"].as_array().unwrap().iter().max_by_key(|d| d["seats_left"].as_u64()).unwrap().clone();
    let tier = dep["prices"][0].clone();

    let (done, killer) = keep_terminating_backends(&env).await;
    let load: Vec<_> = (0..TASKS)
        .map(|t| {
            let (client, base, token, tour, dep, tier) =
                (client.clone(), base.clone(), token.clone(), tour.clone(), dep.clone(), tier.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                for i in 0..REQUESTS_PER_TASK {
                    let r = one(&client, &base, &token, t * REQUESTS_PER_TASK + i, &tour, &dep, &tier).await;
                    let retry_after = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
                    let status = r.status();
                    let body: Value = r.json().await.unwrap_or(Value::Null);
                    seen.push((status, retry_after, body));
                }
                seen
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in load {
        answers.extend(task.await.unwrap());
    }
    done.store(true, Ordering::Relaxed);
    let killed = killer.await.unwrap();
    assert!(killed > 0, "the load ran without a single backend terminated");

    let unavailable = answers.iter().filter(|(s, _, _)| *s == StatusCode::SERVICE_UNAVAILABLE).count();
    for (status, retry_after, body) in &answers {
        assert!(
            !status.is_server_error() || *status == StatusCode::SERVICE_UNAVAILABLE,
            "{status}: {body} ({unavailable} × 503 of {})",
            answers.len()
        );
        if *status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(
                retry_after.as_deref().is_some_and(|s| s.parse::<u32>().is_ok()),
                "503 without Retry-After: {body}"
            );
            assert_eq!(body["code"].as_str(), Some("UNAVAILABLE"), "{body}");
        }
    }
    let ok = answers.iter().filter(|(s, _, _)| s.is_success()).count();
    println!("{} requests: {ok} × 2xx, {unavailable} × 503; {killed} backends terminated", answers.len());

    // Broken connections were dropped from the pool: the server answers again, on every one
    // of more requests than the pool has connections.
    for n in 0..2 * env.server_config.pool_size {
        let r = one(&client, &base, &token, n * 4, &tour, &dep, &tier).await;
        assert_eq!(r.status(), StatusCode::OK, "request {n} after the terminations");
    }
}

/// A connection lost in the middle of a query answers 503 with `Retry-After` on a route whose
/// query goes through a `db` helper (the lookup's `db::booking_id_by_reference_and_email`), as it
/// does on routes that query directly: the same outage, the same answer everywhere. The query is
/// made to wait on a table lock, so the test terminates exactly that backend, at that moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_inside_a_db_helper_answers_503_with_retry_after() {
    let env = Env::start().await;
    let base = env.base_url();
    let admin = env.pg().await;
    let r = admin
        .query_one(
            "SELECT b.reference_number, c.email FROM bookings b JOIN customers c ON c.id = b.customer_id LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (reference, email): (String, String) = (r.get(0), r.get(1));
    let lookup = {
        let url = format!("{base}/api/v1/orgs/{ORG}/bookings/lookup");
        let body = json!({"reference": reference, "email": email});
        move || reqwest::Client::new().post(url.clone()).json(&body).send()
    };
    assert_eq!(lookup().await.unwrap().status(), StatusCode::OK, "the lookup works before the outage");

    let locker = env.pg().await;
    locker.batch_execute("BEGIN; LOCK TABLE bookings IN ACCESS EXCLUSIVE MODE").await.unwrap();
    let request = tokio::spawn(lookup());
    // The server's backend waiting on the lock inside the helper's query (not a job's sweep).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let terminated = loop {
        let row = admin
            .query_opt(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                 WHERE wait_event_type = 'Lock' AND query LIKE '%lower(cu.email) = lower($3)%' LIMIT 1",
                &[],
            )
            .await
            .unwrap();
        if let Some(row) = row {
            break row.get::<_, bool>(0);
        }
        assert!(tokio::time::Instant::now() < deadline, "the lookup never reached the locked table");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert!(terminated);
    locker.batch_execute("ROLLBACK").await.unwrap();

    let r = request.await.unwrap().unwrap();
    let status = r.status();
    let retry_after = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(retry_after.is_some_and(|s| s.parse::<u32>().is_ok()), "503 without Retry-After: {body}");
    assert_eq!(body["code"], "UNAVAILABLE", "{body}");
    assert_eq!(lookup().await.unwrap().status(), StatusCode::OK, "a retry succeeds");
}

/// Delivers a signed event as Stripe does: again after each 503 (which must carry
/// `Retry-After`), until it is taken. Any other answer fails the test. Returns the 503s seen.
async fn deliver_until_taken(client: &reqwest::Client, base: &str, payload: &str, secret: &str) -> usize {
    let mut unavailable = 0;
    loop {
        let r = client
            .post(format!("{base}/api/v1/stripe/webhook"))
            .header("Stripe-Signature", sign(payload, secret, Utc::now().timestamp()))
            .header("Content-Type", "application/json")
            .body(payload.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status();
        let retry_after = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
        let body: Value = r.json().await.unwrap_or(Value::Null);
        if status == StatusCode::OK {
            return unavailable;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "a signed event answered {status}: {body}");
        assert!(retry_after.is_some_and(|s| s.parse::<u32>().is_ok()), "503 without Retry-After: {body}");
        unavailable += 1;
        assert!(unavailable < 500, "the event was never taken");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// What a booking and its payment say about the money.
async fn money_of(env: &Env, booking_id: &str) -> Vec<String> {
    let r = env
        .pg()
        .await
        .query_one(
            "SELECT b.status, b.payment_status, b.paid_amount_minor::text, b.refunded_amount_minor::text, p.status,
                    p.amount_received_minor::text, p.amount_refunded_minor::text, p.amount_disputed_minor::text,
                    coalesce(p.last_error, '-'),
                    (SELECT count(*) FROM refunds r WHERE r.booking_id = b.id AND r.status = 'succeeded')::text
             FROM bookings b JOIN payments p ON p.organization_id = b.organization_id AND p.booking_id = b.id
             WHERE b.id = $1",
            &[&booking_id],
        )
        .await
        .unwrap();
    (0..10).map(|i| r.get::<_, String>(i)).collect()
}

/// Stripe's events while every backend is terminated again and again: each is answered 200 or
/// 503 with `Retry-After` (never a 500, and a 503 changes nothing, so Stripe's redelivery
/// applies it), and once all are taken each payment ends as one whose events arrived in order
/// with the database up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_events_during_lost_connections_are_503_then_applied_once() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let (base, secret, client) = (env.base_url(), env.webhook_secret(), reqwest::Client::new());
    let tours: Value =
        client.get(format!("{base}/api/v1/orgs/{ORG}/tours")).send().await.unwrap().json().await.unwrap();
    let tour = tours[0]["slug"].as_str().unwrap();
    let from = Utc::now().date_naive();
    let to = from + chrono::Duration::days(20);
    let a: Value = client
        .get(format!("{base}/api/v1/orgs/{ORG}/tours/{tour}/availability?from={from}&to={to}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dep = a["departures"].as_array().unwrap().iter().max_by_key(|d| d["seats_left"].as_u64()).unwrap().clone();
    let tier = dep["prices"][0].clone();

    let mut stories = Vec::new();
    for n in 0..4 {
        let created: Value = client
            .post(format!("{base}/api/v1/orgs/{ORG}/bookings"))
            .json(&json!({
                "request_id": uuid::Uuid::new_v4().to_string(),
                "departure_id": dep["id"],
                "customer": {"email": format!("lost{n}@example.com"), "first_name": "Lost", "last_name": "Line"},
                "lines": [{"tier_id": tier["tier_id"], "quantity": 1}],
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let booking = created["booking"]["id"].as_str().unwrap().to_string();
        let intent = created["payment"]["payment_intent_id"].as_str().unwrap().to_string();
        let total = created["booking"]["price"]["total"]["amount_minor"].as_i64().unwrap();
        let events = vec![
            stripe.fail(&intent, "Your card was declined."),
            stripe.succeed(&intent),
            stripe.refund_in_dashboard(&intent, total / 3),
            stripe.refund_in_dashboard(&intent, total - total / 3),
            stripe.dispute(&intent),
        ];
        stories.push((booking, events));
    }
    // The first payment's events in order, with the database up: what the others must end as.
    for event in &stories[0].1 {
        assert_eq!(deliver_until_taken(&client, &base, event, &secret).await, 0);
    }
    let want = money_of(&env, &stories[0].0).await;
    assert_eq!(want[..2], ["confirmed".to_string(), "disputed".into()], "{want:?}");

    let (done, killer) = keep_terminating_backends(&env).await;
    // The others reversed, each event twice, three payments at once.
    let tasks: Vec<_> = stories[1..]
        .iter()
        .map(|(_, events)| {
            let (client, base, secret) = (client.clone(), base.clone(), secret.clone());
            let events: Vec<String> = events.iter().rev().flat_map(|e| [e.clone(), e.clone()]).collect();
            tokio::spawn(async move {
                let mut unavailable = 0;
                for e in &events {
                    unavailable += deliver_until_taken(&client, &base, e, &secret).await;
                }
                unavailable
            })
        })
        .collect();
    let mut unavailable = 0;
    for t in tasks {
        unavailable += t.await.unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let killed = killer.await.unwrap();
    println!("{unavailable} × 503 before every event was taken; {killed} backends terminated");
    assert!(killed > 0, "no backend was terminated");
    for (booking, _) in &stories[1..] {
        assert_eq!(money_of(&env, booking).await, want, "{booking}");
    }
}

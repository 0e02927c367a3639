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
use tourdesk_testkit::stripe::FakeStripe;
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

    // Another connection terminates every other backend of the database, again and again,
    // until the load is over.
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

//! Booking throughput on one hot departure through the HTTP API, next to the same machine's
//! raw PostgreSQL rate for the bare conditional UPDATE that any seat sale must do; and
//! availability requests per second with latency percentiles.
//!
//! `cargo bench -p tourdesk-tests --bench booking_api` (release). Everything runs in this one
//! process on this one machine — the throwaway PostgreSQL, the server, a fake Stripe on
//! loopback, and the 64 clients — so the figures are comparable with each other (ratios), not
//! with a production deployment. `BENCH_SECONDS` sets each phase's length (default 10).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tourdesk_sync_server::seed;
use tourdesk_testkit::PgCluster;
use tourdesk_testkit::stripe::FakeStripe;
use tourdesk_tests::{Fakes, configured};

const CLIENTS: usize = 64;

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let phase = Duration::from_secs(seconds);
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let stripe = FakeStripe::start().await;
    let fakes = Fakes { stripe: Some(&stripe), ..Fakes::default() };
    let mut config = configured(&db_url, "127.0.0.1:0", &fakes);
    config.pool_size = CLIENTS;
    let server = tourdesk_sync_server::start(config).await.unwrap();
    let base = format!("http://{}", server.addr);
    let http = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build().unwrap();

    let (pg, conn) = tokio_postgres::connect(&db_url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    // Two departures of one tour, each with room for everything the phase can sell.
    let rows = pg
        .query(
            "SELECT s.id, s.organization_id, t.slug, p.id FROM schedules s
             JOIN tours t ON t.id = s.tour_id
             JOIN pricing_tiers p ON p.tour_id = t.id
             WHERE s.starts_at > now() + interval '3 days' ORDER BY s.starts_at, p.sort_order LIMIT 2",
            &[],
        )
        .await
        .unwrap();
    let (api_dep, org, slug, tier): (String, String, String, String) =
        (rows[0].get(0), rows[0].get(1), rows[0].get(2), rows[0].get(3));
    let raw_dep: String = rows[1].get(0);
    pg.execute(
        "UPDATE schedules SET capacity = 100000000, booked_count = 0, status = 'open' WHERE id = ANY($1)",
        &[&vec![api_dep.clone(), raw_dep.clone()]],
    )
    .await
    .unwrap();

    println!("booking_api: {CLIENTS} concurrent clients, {seconds} s per phase, one process on this machine");
    // With TOURDESK_PG_OPTS="-c shared_preload_libraries=pg_stat_statements", the booking phase's
    // heaviest statements are printed after it.
    let pg_stats = pg
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()")
        .await
        .is_ok();

    // 1. Bookings through the public API: validation, customer, domain pricing and capacity under
    //    the departure's row lock, audit and sync-log rows, then a PaymentIntent from (fake) Stripe.
    let url = format!("{base}/api/v1/orgs/{}/bookings", seed::DEMO_ORG_SLUG);
    let sold = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (http, url, dep, tier, sold, refused) =
            (http.clone(), url.clone(), api_dep.clone(), tier.clone(), sold.clone(), refused.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while start.elapsed() < phase {
                i += 1;
                let body = json!({
                    "departure_id": dep,
                    "customer": {"email": format!("bench-{c}-{i}@example.com"), "first_name": "Bench", "last_name": "Client"},
                    "lines": [{"tier_id": tier, "quantity": 1}],
                });
                match http.post(&url).json(&body).send().await {
                    Ok(r) if r.status().as_u16() == 201 => {
                        sold.fetch_add(1, Ordering::Relaxed);
                    }
                    other => {
                        // A refusal on a departure with room is a bug or an overload: say which.
                        if refused.fetch_add(1, Ordering::Relaxed) < 3 {
                            match other {
                                Ok(r) => eprintln!("refused: {} {}", r.status(), r.text().await.unwrap_or_default()),
                                Err(e) => eprintln!("refused: {e}"),
                            }
                        }
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let api_secs = start.elapsed().as_secs_f64();
    let api_rate = sold.load(Ordering::Relaxed) as f64 / api_secs;
    let booked: i32 =
        pg.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&api_dep]).await.unwrap().get(0);
    assert_eq!(i64::from(booked), sold.load(Ordering::Relaxed) as i64, "every 201 is exactly one seat");

    if pg_stats {
        let rows = pg
            .query(
                "SELECT calls, total_exec_time + total_plan_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 110)
                 FROM pg_stat_statements ORDER BY 2 DESC LIMIT 15",
                &[],
            )
            .await
            .unwrap();
        println!("heaviest statements of the booking phase (calls, ms per call, ms per booking):");
        let sold = sold.load(Ordering::Relaxed).max(1) as f64;
        for r in rows {
            let (calls, ms, q): (i64, f64, String) = (r.get(0), r.get(1), r.get(2));
            println!("  {calls:>7} {:>7.3} {:>7.3}  {q}", ms / calls.max(1) as f64, ms / sold);
        }
    }

    // 2. The bare conditional UPDATE, 64 connections on one hot row.
    let updates = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (db_url, org, dep, updates) = (db_url.clone(), org.clone(), raw_dep.clone(), updates.clone());
        tasks.push(tokio::spawn(async move {
            let (c, conn) = tokio_postgres::connect(&db_url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(conn);
            let stmt = c
                .prepare(
                    "UPDATE schedules SET booked_count = booked_count + 1
                     WHERE organization_id = $1 AND id = $2 AND booked_count + 1 <= capacity",
                )
                .await
                .unwrap();
            while start.elapsed() < phase {
                if c.execute(&stmt, &[&org, &dep]).await.unwrap() == 1 {
                    updates.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let raw_rate = updates.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();

    println!(
        "bookings via HTTP API:         {api_rate:>10.1} /s  ({} sold, {} refused)",
        sold.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed)
    );
    println!("raw conditional UPDATE:        {raw_rate:>10.1} /s");
    println!("ratio API / raw:               {:>10.3}  (goal >= 0.5)", api_rate / raw_rate);

    // 3. Availability: 14 days of one tour, 64 clients.
    let url = format!(
        "{base}/api/v1/orgs/{}/tours/{slug}/availability?from={}&to={}",
        seed::DEMO_ORG_SLUG,
        chrono::Utc::now().date_naive(),
        chrono::Utc::now().date_naive() + chrono::Duration::days(13)
    );
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (http, url) = (http.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while start.elapsed() < phase {
                let t = Instant::now();
                let r = http.get(&url).send().await.unwrap();
                assert_eq!(r.status().as_u16(), 200);
                let _: Value = r.json().await.unwrap();
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "availability (14 days):        {:>10.1} req/s  p50 {:.1} ms  p99 {:.1} ms",
        all.len() as f64 / secs,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
    server.shutdown().await.unwrap();
}

//! Booking throughput on one hot departure through the HTTP API, next to the same machine's
//! raw PostgreSQL rate for the bare conditional UPDATE that any seat sale must do; and
//! availability requests per second with latency percentiles.
//!
//! Two more figures say what the ratio is made of: the same bookings spread over one departure
//! per client (what the hot row's lock costs: nothing when the two rates match), and the
//! cheapest request this server answers with a database round trip (`GET /health`), which
//! bounds what any HTTP endpoint can reach on this machine.
//!
//! `cargo bench -p tourdesk-tests --bench booking_api` (release). Everything runs in this one
//! process on this one machine — the throwaway PostgreSQL, the server, a fake Stripe on
//! loopback, and the 64 clients — so the figures are comparable with each other (ratios), not
//! with a production deployment. `BENCH_SECONDS` sets each phase's length (default 10). With
//! `TOURDESK_PG_OPTS="-c shared_preload_libraries=pg_stat_statements"` the hot phase's heaviest
//! statements are printed after it. `BENCH_SQL` runs SQL as the database's owner before the
//! phases (to measure a schema change without rebuilding).
//!
//! What the database alone can do for the same bookings (the rows a booking records, with and
//! without the departure's lock, and the server's transaction replayed) is measured with pgbench,
//! without a release build: `tests/benches/booking_floor/README.md`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::PgCluster;
use tourdesk_testkit::stripe::FakeStripe;
use tourdesk_tests::{Fakes, configured};

const CLIENTS: usize = 64;

/// A departure to sell and the tier to sell it with.
#[derive(Clone)]
struct Target {
    departure: String,
    tier: String,
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let phase = Duration::from_secs(seconds);
    let cluster = bench_cluster();
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
    // The demo has a couple of weeks of departures; the spread phase wants one per client, so
    // the first one is copied onto later days (bench data only: nothing here is synced).
    pg.execute(
        "INSERT INTO schedules (id, organization_id, tour_id, variant_id, local_date, local_time, timezone,
                                starts_at, ends_at, capacity, booked_count, status)
         SELECT gen_random_uuid()::text, organization_id, tour_id, variant_id, local_date + g, local_time, timezone,
                starts_at + g * interval '1 day', ends_at + g * interval '1 day', capacity, 0, 'open'
         FROM (SELECT * FROM schedules WHERE starts_at > now() ORDER BY starts_at LIMIT 1) s,
              generate_series(100, 100 + $1) g",
        &[&(CLIENTS as i32)],
    )
    .await
    .unwrap();
    // Future departures, each with its tour's first tier and room for everything a phase sells:
    // one hot one, one for the raw UPDATE, one per client for the spread phase.
    let rows = pg
        .query(
            "SELECT DISTINCT ON (s.starts_at, s.id) s.id, s.organization_id, t.slug, p.id FROM schedules s
             JOIN tours t ON t.id = s.tour_id
             JOIN pricing_tiers p ON p.tour_id = t.id
             WHERE s.starts_at > now() + interval '1 hour' ORDER BY s.starts_at, s.id, p.sort_order, p.id",
            &[],
        )
        .await
        .unwrap();
    assert!(rows.len() >= CLIENTS + 2, "the demo data has {} future departures", rows.len());
    let target = |i: usize| Target { departure: rows[i].get(0), tier: rows[i].get(3) };
    let (org, slug): (String, String) = (rows[0].get(1), rows[0].get(2));
    let (hot, raw_dep) = (target(0), target(1).departure);
    let spread: Vec<Target> = (2..CLIENTS + 2).map(target).collect();
    let ids: Vec<String> = rows.iter().take(CLIENTS + 2).map(|r| r.get(0)).collect();
    pg.execute("UPDATE schedules SET capacity = 100000000, status = 'open' WHERE id = ANY($1)", &[&ids]).await.unwrap();
    if let Ok(sql) = std::env::var("BENCH_SQL") {
        println!("BENCH_SQL: {sql}");
        pg.batch_execute(&sql).await.unwrap();
    }
    let seats = || async {
        let r = pg.query_one("SELECT sum(booked_count)::bigint FROM schedules", &[]).await.unwrap();
        r.get::<_, i64>(0)
    };

    println!("booking_api: {CLIENTS} concurrent clients, {seconds} s per phase, one process on this machine");
    let pg_stats = pg
        .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()")
        .await
        .is_ok();

    // 1. Bookings through the public API, all on one departure: validation, customer, domain
    //    pricing and capacity under the departure's row lock, audit and sync-log rows, then a
    //    PaymentIntent from (fake) Stripe.
    let before = seats().await;
    let cpu = Cpu::start(&cluster);
    let hot_run = book(&http, &base, vec![hot.clone(); CLIENTS], phase, "hot").await;
    let hot_cpu = cpu.per(&cluster, hot_run.sold);
    assert_eq!(seats().await - before, hot_run.sold as i64, "every 201 is exactly one seat");
    if pg_stats {
        heaviest_statements(&pg, hot_run.sold).await;
    }

    // 2. The same, one departure per client: no row is shared, so only the machine limits it.
    let before = seats().await;
    let cpu = Cpu::start(&cluster);
    let spread_run = book(&http, &base, spread, phase, "spread").await;
    let spread_cpu = cpu.per(&cluster, spread_run.sold);
    assert_eq!(seats().await - before, spread_run.sold as i64, "every 201 is exactly one seat");

    // 3. The bare conditional UPDATE, 64 connections on one hot row.
    let raw_start = Cpu::start(&cluster);
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
            // Kept open until the CPU is read: an exited backend's time is no longer counted.
            c
        }));
    }
    let mut connections = Vec::new();
    for t in tasks {
        connections.push(t.await.unwrap());
    }
    let raw_rate = updates.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    let raw_cpu = cpu_per(&cluster, &raw_start, updates.load(Ordering::Relaxed));
    drop(connections);

    // 4. The floor of any HTTP request here: `GET /health`, one pooled `SELECT 1`.
    let health = format!("{base}/health");
    let (health_rate, _) = requests(&http, &health, phase).await;

    println!(
        "bookings via HTTP API, one departure:    {:>9.1} /s  ({} sold, {} refused)",
        hot_run.rate, hot_run.sold, hot_run.refused
    );
    println!(
        "bookings via HTTP API, {CLIENTS} departures:    {:>9.1} /s  ({} sold, {} refused)",
        spread_run.rate, spread_run.sold, spread_run.refused
    );
    println!("raw conditional UPDATE, one row:         {raw_rate:>9.1} /s");
    println!("GET /health (one SELECT 1 per request):  {health_rate:>9.1} /s");
    println!(
        "CPU per sale, database + this process:  hot {:.2} + {:.2} ms, spread {:.2} + {:.2} ms, raw UPDATE {:.3} + {:.3} ms",
        hot_cpu.0, hot_cpu.1, spread_cpu.0, spread_cpu.1, raw_cpu.0, raw_cpu.1
    );
    println!("ratio hot bookings / raw UPDATE:         {:>9.3}  (goal >= 0.5)", hot_run.rate / raw_rate);
    println!(
        "ratio hot / spread bookings:             {:>9.3}  (1.0 = the hot row costs nothing)",
        hot_run.rate / spread_run.rate
    );
    println!(
        "ratio GET /health / raw UPDATE:          {:>9.3}  (no HTTP endpoint exceeds this here)",
        health_rate / raw_rate
    );

    // 5. Availability: 14 days of one tour.
    let url = format!(
        "{base}/api/v1/orgs/{}/tours/{slug}/availability?from={}&to={}",
        demo_data::DEMO_ORG_SLUG,
        chrono::Utc::now().date_naive(),
        chrono::Utc::now().date_naive() + chrono::Duration::days(13)
    );
    let (rate, mut all) = requests(&http, &url, phase).await;
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "availability (14 days):                  {rate:>9.1} req/s  p50 {:.1} ms  p99 {:.1} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
    server.shutdown().await.unwrap();
}

/// CPU used from a starting point, by the database cluster and by this process (server, fake
/// Stripe and clients): on a machine this small the figures above are CPU-bound, and this says
/// whose CPU.
struct Cpu {
    db: f64,
    here: f64,
}

impl Cpu {
    fn start(cluster: &PgCluster) -> Cpu {
        Cpu { db: cluster.cpu_seconds(), here: own_cpu_seconds() }
    }

    /// Milliseconds per unit of work since `start`: (database, this process).
    fn per(&self, cluster: &PgCluster, units: u64) -> (f64, f64) {
        cpu_per(cluster, self, units)
    }
}

fn own_cpu_seconds() -> f64 {
    tourdesk_testkit::proc_stat(std::process::id()).map(|s| s.cpu_seconds).unwrap_or(0.0)
}

fn cpu_per(cluster: &PgCluster, start: &Cpu, units: u64) -> (f64, f64) {
    let n = units.max(1) as f64;
    ((cluster.cpu_seconds() - start.db) * 1e3 / n, (own_cpu_seconds() - start.here) * 1e3 / n)
}

struct Run {
    sold: u64,
    refused: u64,
    rate: f64,
}

/// Client `c` books `targets[c]` one seat at a time, a new customer each time, for `phase`.
async fn book(http: &reqwest::Client, base: &str, targets: Vec<Target>, phase: Duration, label: &str) -> Run {
    let url = format!("{base}/api/v1/orgs/{}/bookings", demo_data::DEMO_ORG_SLUG);
    let sold = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (c, t) in targets.into_iter().enumerate() {
        let (http, url, sold, refused, label) =
            (http.clone(), url.clone(), sold.clone(), refused.clone(), label.to_string());
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while start.elapsed() < phase {
                i += 1;
                let body = json!({
                    "departure_id": t.departure,
                    "customer": {"email": format!("{label}-{c}-{i}@example.com"), "first_name": "Bench", "last_name": "Client"},
                    "lines": [{"tier_id": t.tier, "quantity": 1}],
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
    let secs = start.elapsed().as_secs_f64();
    let sold = sold.load(Ordering::Relaxed);
    Run { sold, refused: refused.load(Ordering::Relaxed), rate: sold as f64 / secs }
}

/// GETs `url` from every client for `phase`: requests per second and every latency.
async fn requests(http: &reqwest::Client, url: &str, phase: Duration) -> (f64, Vec<Duration>) {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (http, url) = (http.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while start.elapsed() < phase {
                let t = Instant::now();
                let r = http.get(&url).send().await.unwrap();
                assert_eq!(r.status().as_u16(), 200);
                let _ = r.bytes().await.unwrap();
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all.len() as f64 / start.elapsed().as_secs_f64(), all)
}

async fn heaviest_statements(pg: &tokio_postgres::Client, sold: u64) {
    let rows = pg
        .query(
            "SELECT calls, total_exec_time + total_plan_time, left(regexp_replace(query, '\\s+', ' ', 'g'), 110)
             FROM pg_stat_statements ORDER BY 2 DESC LIMIT 15",
            &[],
        )
        .await
        .unwrap();
    println!("heaviest statements of the hot phase (calls, ms per call, ms per booking):");
    for r in rows {
        let (calls, ms, q): (i64, f64, String) = (r.get(0), r.get(1), r.get(2));
        println!("  {calls:>7} {:>7.3} {:>7.3}  {q}", ms / calls.max(1) as f64, ms / sold.max(1) as f64);
    }
}

/// PostgreSQL as a deployment runs it (fsync and synchronous_commit on), unless
/// `BENCH_NON_DURABLE=1` asks for the tests' settings (to compare with older figures).
fn bench_cluster() -> PgCluster {
    let durable = std::env::var("BENCH_NON_DURABLE").map(|v| v != "1").unwrap_or(true);
    println!("PostgreSQL commits: {}", if durable { "durable (fsync, synchronous_commit on)" } else { "non-durable" });
    if durable { PgCluster::start_durable() } else { PgCluster::start() }.unwrap()
}

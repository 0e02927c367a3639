//! The sync engine's figures: draining a long offline queue through push, how soon an edit on
//! one desk shows on another that follows the live stream, and a fresh desk's first full pull of
//! a large organization next to a raw SQLite bulk insert of the same rows.
//!
//! `cargo bench -p tourdesk-tests --bench sync_engine` (release). Everything runs in this one
//! process on this one machine — the throwaway PostgreSQL, the server and the desks on SQLite
//! files — so the figures compare with each other and with their goals, not with production.
//! `BENCH_SCALE` (default 1) multiplies every size, e.g. `BENCH_SCALE=0.05` for a smoke run.
//!
//! Goals: drain ≥ 2,000 mutations/s; edit visible on the other desk p95 ≤ 300 ms on loopback;
//! initial sync ≤ 3× the raw SQLite insert of the same rows.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tourdesk_domain::mutation::Mutation;
use tourdesk_domain::protocol::{PushRequest, SCHEMA_VERSION};
use tourdesk_domain::status::StateMachine;
use tourdesk_local_store::Store;
use tourdesk_sync_server::demo_data;
use tourdesk_tests::harness::{departure_load_with_capacity, mutation, push_all};
use tourdesk_tests::{Env, new_tour, push_raw, sign_in, tour_id};

/// Every desk replica table a full sync fills; the raw baseline inserts all of their rows.
const REPLICATED_TABLES: &[&str] = &[
    "tours",
    "tour_variants",
    "pricing_tiers",
    "schedules",
    "customers",
    "bookings",
    "check_ins",
    "guides",
    "guide_assignments",
];

mod desk_schema {
    refinery::embed_migrations!("../migrations/sqlite");
}

fn scale() -> f64 {
    std::env::var("BENCH_SCALE").ok().and_then(|s| s.parse().ok()).filter(|s: &f64| *s > 0.0).unwrap_or(1.0)
}

fn scaled(n: usize) -> usize {
    ((n as f64 * scale()).round() as usize).max(1)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    // PostgreSQL as a deployment runs it (fsync and synchronous_commit on), unless
    // `BENCH_NON_DURABLE=1` asks for the tests' settings (to compare with older figures).
    let durable = std::env::var("BENCH_NON_DURABLE").map(|v| v != "1").unwrap_or(true);
    let env = if durable { Env::start_durable().await } else { Env::start().await };
    println!("sync_engine: BENCH_SCALE={}, one process on this machine (PostgreSQL, server, desks)", scale());
    println!("PostgreSQL commits: {}", if durable { "durable (fsync, synchronous_commit on)" } else { "non-durable" });
    // First, while the change log holds about one change per row (the other phases add
    // thousands of updates that a fresh desk would pull too).
    initial_sync(&env, scaled(5_000), scaled(500), scaled(50_000), scaled(100_000)).await;
    // BENCH_DRAIN sets the queue's length on its own, to study the drain over a small organization.
    let drain_n = std::env::var("BENCH_DRAIN").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| scaled(10_000));
    drain(&env, drain_n).await;
    live_edits(&env, scaled(200)).await;
}

/// Queues `n` mutations on a desk (tours created, then edited; departures' capacities set),
/// then pushes the outbox in the sync client's batches of 500 and reports mutations per second;
/// the share of that time spent in the push requests themselves (HTTP + server) is printed
/// beside it. The pull that then settles the desk is timed on its own.
async fn drain(env: &Env, n: usize) {
    let desk = env.desk("drain");
    let client = env.client(demo_data::DEMO_OWNER_EMAIL);
    client.sync_once(&desk).await.unwrap();
    let deps: Vec<_> = desk
        .tours()
        .unwrap()
        .iter()
        .flat_map(|t| desk.departures(&t.tour.id).unwrap())
        .map(|d| d.departure)
        .filter(|d| !d.status.is_terminal())
        .collect();

    let started = Instant::now();
    let mut queued = 0usize;
    let mut tour = String::new();
    while queued < n {
        let m: Mutation = match queued % 5 {
            0 => {
                let m = new_tour(&format!("Drain Tour {queued}"));
                tour = tour_id(&m);
                m
            }
            1 => mutation("update_tour.v1", json!({"id": tour, "name": format!("Drain Tour {queued} renamed")})),
            3 => mutation("update_tour.v1", json!({"id": tour, "duration_minutes": 30 + queued % 300})),
            _ => {
                let d = &deps[queued % deps.len()];
                let cap = d.booked_count.max(1) + (queued % 17) as u32;
                mutation("set_departure_capacity.v1", json!({"departure_id": d.id, "capacity": cap}))
            }
        };
        desk.mutate(&m).unwrap();
        queued += 1;
    }
    let queue_time = started.elapsed();

    let token = sign_in(env, demo_data::DEMO_OWNER_EMAIL).await;
    let started = Instant::now();
    let mut in_push = Duration::ZERO;
    let (mut pushed, mut rejected, mut batches) = (0usize, 0usize, 0usize);
    loop {
        let batch = desk.outbox(500).unwrap();
        if batch.is_empty() {
            break;
        }
        let req = PushRequest { client_id: desk.client_id(), schema_version: SCHEMA_VERSION, mutations: batch };
        let t = Instant::now();
        let resp = push_raw(&env.base_url(), &token, &req).await;
        in_push += t.elapsed();
        desk.record_push(resp.last_mutation_id, &resp.results).unwrap();
        pushed += resp.results.len();
        rejected += resp.results.iter().filter(|r| r.code.is_some()).count();
        batches += 1;
    }
    let drain_time = started.elapsed();
    assert_eq!((pushed, rejected), (n, 0), "every queued mutation applies");

    let started = Instant::now();
    let report = client.sync_once(&desk).await.unwrap();
    let pull_time = started.elapsed();
    assert_eq!(desk.pending_count().unwrap(), 0);

    println!(
        "\n[drain] {n} mutations queued offline on one desk ({:.0}/s through Store::mutate)",
        n as f64 / queue_time.as_secs_f64()
    );
    println!(
        "  push drain: {:.2} s in {batches} batches = {:.0} mutations/s (goal >= 2000); {:.0}% of it inside the push \
         requests (HTTP + server), the rest the desk recording verdicts",
        drain_time.as_secs_f64(),
        n as f64 / drain_time.as_secs_f64(),
        100.0 * in_push.as_secs_f64() / drain_time.as_secs_f64()
    );
    println!(
        "  then the pull that settles the desk: {} changes in {:.2} s ({:.0} changes/s)",
        report.pulled,
        pull_time.as_secs_f64(),
        report.pulled as f64 / pull_time.as_secs_f64()
    );
}

/// Desk B follows the live stream; desk A edits a tour `n` times. Each latency runs from the
/// start of A's `sync_once` to B's replica showing the edit (poke → B's pull).
async fn live_edits(env: &Env, n: usize) {
    let a = env.desk("live-a");
    let b = Arc::new(env.desk("live-b"));
    let client_a = env.client(demo_data::DEMO_OWNER_EMAIL);
    let client_b = Arc::new(env.client(demo_data::DEMO_OWNER_EMAIL));
    let create = new_tour("Live Edit Walk");
    let id = tour_id(&create);
    client_a.sync_once(&a).await.unwrap();
    a.mutate(&create).unwrap();
    client_a.sync_once(&a).await.unwrap();
    client_b.sync_once(&b).await.unwrap();

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (bw, cw) = (b.clone(), client_b.clone());
    let watcher = tokio::spawn(async move {
        cw.watch(&bw, |seq| {
            let _ = tx.send((seq, Instant::now()));
        })
        .await
    });
    tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("the stream's greeting").unwrap();

    let shows = |b: &Store, name: &str| b.tours().unwrap().iter().any(|t| t.tour.id == id && t.tour.name == name);
    let (mut total, mut to_poke, mut a_sync) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let name = format!("Live Edit Walk {i}");
        a.mutate(&mutation("update_tour.v1", json!({"id": id, "name": name}))).unwrap();
        while rx.try_recv().is_ok() {}
        let t0 = Instant::now();
        client_a.sync_once(&a).await.unwrap();
        a_sync.push(t0.elapsed());
        let mut poked = None;
        loop {
            let (_, at) = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("a poke").unwrap();
            poked.get_or_insert(at);
            client_b.sync_once(&b).await.unwrap();
            if shows(&b, &name) {
                break;
            }
        }
        total.push(t0.elapsed());
        to_poke.push(poked.unwrap().saturating_duration_since(t0));
    }
    watcher.abort();
    for v in [&mut total, &mut to_poke, &mut a_sync] {
        v.sort();
    }
    println!("\n[live] {n} edits on desk A, desk B on the live stream (SSE poke, then pull)");
    println!(
        "  A edit -> B shows it: p50 {:.1} ms, p95 {:.1} ms (goal <= 300), max {:.1} ms",
        ms(percentile(&total, 0.5)),
        ms(percentile(&total, 0.95)),
        ms(*total.last().unwrap())
    );
    println!(
        "  of which A's sync_once p50 {:.1} ms; poke at B p50 {:.1} ms after A's start",
        ms(percentile(&a_sync, 0.5)),
        ms(percentile(&to_poke, 0.5))
    );
}

/// Seats on every loaded departure: room for the bookings spread over them (1–3 seats each,
/// about 40 seats a departure on average at the full scale).
const LOAD_CAPACITY: u32 = 150;

/// The organization a fresh desk pulls: `departures` more departures (on a few active tours, one
/// price tier each), `tours` more catalogue tours with a variant and a tier each, `customers`
/// customers and `bookings` bookings of theirs spread over those departures — all through the
/// server's own push path, in the order an office would make them (a customer, then their
/// bookings). Returns the load's mutation count.
async fn organization_load(env: &Env, departures: usize, tours: usize, customers: usize, bookings: usize) -> usize {
    let times = ["08:00:00", "11:00:00", "14:00:00", "17:00:00"];
    let tours_with_departures = departures.div_ceil(365 * times.len()).max(1);
    let days = departures.div_ceil(tours_with_departures * times.len()).max(1) as u32;
    let (mut load, _) = departure_load_with_capacity(tours_with_departures, days, &times, LOAD_CAPACITY);
    // Only an active tour sells seats.
    let loaded_tours: Vec<String> = load.iter().filter(|m| m.name() == "create_tour.v1").map(tour_id).collect();
    for id in &loaded_tours {
        load.push(mutation("update_tour.v1", json!({"id": id, "status": "active"})));
    }
    for i in 0..tours {
        let t = new_tour(&format!("Catalogue Tour {i}"));
        let id = tour_id(&t);
        load.push(t);
        load.push(mutation(
            "create_variant.v1",
            json!({"id": uuid::Uuid::new_v4().to_string(), "tour_id": id, "name": "Private"}),
        ));
        load.push(mutation(
            "upsert_pricing_tier.v1",
            json!({"id": uuid::Uuid::new_v4().to_string(), "tour_id": id, "name": "Adult",
                   "base_price": {"amount": 4500 + i, "currency": "EUR"}, "is_default": true}),
        ));
    }
    push_load(env, &load).await;
    let mut pushed = load.len();

    // The departures the server generated, each with its tour's tier.
    let pg = env.pg().await;
    let sellable: Vec<(String, String, String)> = pg
        .query(
            "SELECT s.id, s.tour_id, p.id FROM schedules s JOIN pricing_tiers p ON p.tour_id = s.tour_id
             WHERE s.tour_id = ANY($1) ORDER BY s.starts_at, s.id",
            &[&loaded_tours],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert!(sellable.len() >= departures, "{} departures generated, {departures} asked for", sellable.len());

    let first = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Tony"];
    let last = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton"];
    let year = chrono::Datelike::year(&chrono::Utc::now());
    let mut load = Vec::with_capacity(customers + bookings);
    let mut customer_ids: Vec<String> = Vec::with_capacity(customers);
    let add_customer = |load: &mut Vec<Mutation>, ids: &mut Vec<String>| {
        let i = ids.len();
        let id = uuid::Uuid::new_v4().to_string();
        let mut args = json!({"id": id, "email": format!("guest{i}.{}@example.com", &id[..8]),
                              "first_name": first[i % first.len()], "last_name": last[(i / 7) % last.len()],
                              "hlc": format!("{:013}-{:08}-bench", chrono::Utc::now().timestamp_millis(), i)});
        if !i.is_multiple_of(3) {
            args["phone"] = json!(format!("+4479{:08}", i));
        }
        load.push(mutation("create_customer.v1", args));
        ids.push(id);
    };
    for j in 0..bookings {
        // Booking j is made by customer j·C/B (created just before its first booking), on a
        // departure picked pseudo-randomly, as bookings arrive over a season.
        while customer_ids.len() <= j * customers / bookings {
            add_customer(&mut load, &mut customer_ids);
        }
        let (dep, tour, tier) = &sellable[(mix(j as u64) % sellable.len() as u64) as usize];
        load.push(mutation(
            "create_booking.v1",
            json!({"id": uuid::Uuid::new_v4().to_string(), "tour_id": tour, "departure_id": dep,
                   "customer_id": customer_ids[j * customers / bookings],
                   "lines": [{"tier_id": tier, "quantity": 1 + j % 3}],
                   "reference_year": year, "reference_entropy": mix(!(j as u64))}),
        ));
    }
    while customer_ids.len() < customers {
        add_customer(&mut load, &mut customer_ids);
    }
    push_load(env, &load).await;
    pushed += load.len();
    // A live server's autovacuum would have analysed tables this size by now; the phases after
    // this one should not run on plans made for empty tables.
    pg.batch_execute("VACUUM (ANALYZE)").await.unwrap();
    pushed
}

/// Pushes a load through `push_all`, signing in afresh for every slice: at a few hundred
/// mutations a second, the full load outlasts one access token.
async fn push_load(env: &Env, load: &[Mutation]) {
    for slice in load.chunks(50_000) {
        let token = sign_in(env, demo_data::DEMO_OWNER_EMAIL).await;
        push_all(&env.base_url(), &token, slice).await;
    }
}

/// splitmix64: spreads the load's choices deterministically.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One desk table's column names and rows, as read back from a desk file.
type TableRows = (&'static str, Vec<String>, Vec<Vec<rusqlite::types::Value>>);

/// A fresh desk's first full pull of the organization, against inserting the very rows it ended
/// with into a fresh SQLite file of the same schema and settings, in transactions of the pull's
/// page size. Only the desk's `sync_once` is timed.
async fn initial_sync(env: &Env, departures: usize, tours: usize, customers: usize, bookings: usize) {
    let started = Instant::now();
    let mutations = organization_load(env, departures, tours, customers, bookings).await;
    let load_time = started.elapsed();

    let desk = env.desk("initial");
    let client = env.client(demo_data::DEMO_OWNER_EMAIL);
    client.sign_in(&desk).await.unwrap();
    let started = Instant::now();
    let report = client.sync_once(&desk).await.unwrap();
    let pull_time = started.elapsed();

    // The rows the desk ended with, read back whole, then written raw into a new file.
    let mut rows: Vec<TableRows> = Vec::new();
    {
        let conn = rusqlite::Connection::open(env.desk_path("initial")).unwrap();
        for table in REPLICATED_TABLES {
            let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
            let cols: Vec<String> = stmt.column_names().map(str::to_string).collect();
            let data = stmt
                .query_map([], |r| (0..cols.len()).map(|i| r.get::<_, rusqlite::types::Value>(i)).collect())
                .unwrap()
                .collect::<Result<Vec<Vec<_>>, _>>()
                .unwrap();
            rows.push((table, cols, data));
        }
    }
    let total_rows: usize = rows.iter().map(|(_, _, d)| d.len()).sum();
    let raw_path = env.dir.path().join("raw.sqlite3");
    let mut raw = rusqlite::Connection::open(&raw_path).unwrap();
    tourdesk_local_store::configure(&raw).unwrap();
    desk_schema::migrations::runner().run(&mut raw).unwrap();
    let started = Instant::now();
    let mut in_tx = 0;
    let mut tx = raw.transaction().unwrap();
    for (table, cols, data) in &rows {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            cols.join(", "),
            (1..=cols.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
        );
        for row in data {
            tx.prepare_cached(&sql).unwrap().execute(rusqlite::params_from_iter(row)).unwrap();
            in_tx += 1;
            if in_tx == tourdesk_local_store::PULL_PAGE as usize {
                tx.commit().unwrap();
                tx = raw.transaction().unwrap();
                in_tx = 0;
            }
        }
    }
    tx.commit().unwrap();
    let raw_time = started.elapsed();

    let counts: Vec<String> = rows.iter().map(|(t, _, d)| format!("{t} {}", d.len())).collect();
    println!(
        "\n[initial sync] organization loaded through push: {mutations} mutations in {:.1} s ({:.0}/s)",
        load_time.as_secs_f64(),
        mutations as f64 / load_time.as_secs_f64()
    );
    println!("  the desk ended with {total_rows} rows: {}", counts.join(", "));
    println!(
        "  fresh desk full pull (sync_once): {:.2} s = {:.0} rows/s ({} changes pulled, {:.0} changes/s)",
        pull_time.as_secs_f64(),
        total_rows as f64 / pull_time.as_secs_f64(),
        report.pulled,
        report.pulled as f64 / pull_time.as_secs_f64()
    );
    println!(
        "  raw SQLite insert of the same {total_rows} rows (desk schema and connection settings, {} per transaction): {:.3} s = {:.0} \
         rows/s",
        tourdesk_local_store::PULL_PAGE,
        raw_time.as_secs_f64(),
        total_rows as f64 / raw_time.as_secs_f64()
    );
    println!("  ratio full pull / raw insert: {:.1}x (goal <= 3x)", pull_time.as_secs_f64() / raw_time.as_secs_f64());
}

//! A guide device's first sync (issue 14 item 9): a fresh desk signed in as the demo guide pulls
//! her departures for 30 days with their manifests (bookings, customers, participants) from an
//! organization that holds far more than she may see, on loopback. Goal: < 2 s.
//!
//! `cargo bench -p tourdesk-tests --bench guide_sync` (release), or `--profile dev` for a debug
//! build (slower; if that meets the goal, release does). Everything runs in this one process on
//! this one machine — PostgreSQL (durable: fsync and synchronous_commit on, unless
//! `BENCH_NON_DURABLE=1`), the server and the desk on a SQLite file.
//! `BENCH_SCALE` (default 1) multiplies the rest of the organization's size; `BENCH_RUNS`
//! (default 5) is how many fresh devices sign in and sync.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::json;
use tourdesk_domain::mutation::Mutation;
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::PgCluster;
use tourdesk_tests::harness::{departure_load_with_capacity, mutation, push_all};
use tourdesk_tests::{Env, config, sign_in, tour_id};

/// The guide's days and her departures a day (a morning and an afternoon walk).
const GUIDE_DAYS: u32 = 30;
const GUIDE_TIMES: [&str; 2] = ["09:00:00", "14:00:00"];
/// Bookings on each of her departures (1 to 3 guests each: about 12 guests a departure).
const BOOKINGS_PER_DEPARTURE: usize = 6;

fn scale() -> f64 {
    std::env::var("BENCH_SCALE").ok().and_then(|s| s.parse().ok()).filter(|s: &f64| *s > 0.0).unwrap_or(1.0)
}

fn scaled(n: usize) -> usize {
    ((n as f64 * scale()).round() as usize).max(1)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// PostgreSQL as a deployment runs it, unless `BENCH_NON_DURABLE=1`.
fn bench_cluster() -> PgCluster {
    let durable = std::env::var("BENCH_NON_DURABLE").map(|v| v != "1").unwrap_or(true);
    println!("PostgreSQL commits: {}", if durable { "durable (fsync, synchronous_commit on)" } else { "non-durable" });
    if durable { PgCluster::start_durable() } else { PgCluster::start() }.unwrap()
}

async fn start_env() -> Env {
    let cluster = bench_cluster();
    let db_url = cluster.fresh_database().await.unwrap();
    let server_config = config(&db_url, "127.0.0.1:0");
    let server = tourdesk_sync_server::start(server_config.clone()).await.unwrap();
    let addr = server.addr;
    Env { cluster, db_url, server_config, server: Some(server), addr, dir: tempfile::tempdir().unwrap() }
}

/// splitmix64: spreads the load's choices deterministically.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

async fn push_load(env: &Env, load: &[Mutation]) {
    for slice in load.chunks(20_000) {
        let token = sign_in(env, demo_data::DEMO_OWNER_EMAIL).await;
        push_all(&env.base_url(), &token, slice).await;
    }
}

/// Bookings (each with a new customer) on `departures`, `per` of them on each, or `total`
/// spread pseudo-randomly when `per` is 0.
fn bookings(departures: &[(String, String, String)], per: usize, total: usize, salt: u64) -> Vec<Mutation> {
    let year = chrono::Datelike::year(&chrono::Utc::now());
    let n = if per > 0 { departures.len() * per } else { total };
    let mut out = Vec::with_capacity(n * 2);
    for j in 0..n {
        let (dep, tour, tier) = match j.checked_div(per) {
            Some(k) => &departures[k],
            None => &departures[(mix(j as u64 ^ salt) % departures.len() as u64) as usize],
        };
        let customer = uuid::Uuid::new_v4().to_string();
        let mut args = json!({"id": customer, "email": format!("guest{salt}.{j}@example.com"),
                              "first_name": "Guest", "last_name": format!("No{j}"),
                              "hlc": format!("{:013}-{:08}-bench", chrono::Utc::now().timestamp_millis(), j)});
        if j % 2 == 0 {
            args["phone"] = json!(format!("+35191{:07}", j));
        }
        out.push(mutation("create_customer.v1", args));
        out.push(mutation(
            "create_booking.v1",
            json!({"id": uuid::Uuid::new_v4().to_string(), "tour_id": tour, "departure_id": dep, "customer_id": customer,
                   "lines": [{"tier_id": tier, "quantity": 1 + j % 3}],
                   "reference_year": year, "reference_entropy": mix(!(j as u64) ^ salt)}),
        ));
    }
    out
}

async fn sellable(env: &Env, tours: &[String]) -> Vec<(String, String, String)> {
    env.pg()
        .await
        .query(
            "SELECT s.id, s.tour_id, p.id FROM schedules s JOIN pricing_tiers p ON p.tour_id = s.tour_id
             WHERE s.tour_id = ANY($1) ORDER BY s.starts_at, s.id",
            &[&tours],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[tokio::main]
async fn main() {
    let env = start_env().await;
    let runs = std::env::var("BENCH_RUNS").ok().and_then(|s| s.parse().ok()).filter(|n: &usize| *n > 0).unwrap_or(5);
    println!("guide_sync: BENCH_SCALE={}, {runs} fresh guide devices, one process on this machine", scale());

    // The rest of the organization: tours, departures and bookings the guide never sees.
    let started = Instant::now();
    let other_tours = scaled(10);
    let (mut load, _) =
        departure_load_with_capacity(other_tours, 30, &["08:00:00", "11:00:00", "14:00:00", "17:00:00"], 40);
    let others: Vec<String> = load.iter().filter(|m| m.name() == "create_tour.v1").map(tour_id).collect();
    // Her tour: a morning and an afternoon walk every day for 30 days.
    let (guide_load, guide_departures) = departure_load_with_capacity(1, GUIDE_DAYS, &GUIDE_TIMES, 20);
    let guide_tour: Vec<String> = guide_load.iter().filter(|m| m.name() == "create_tour.v1").map(tour_id).collect();
    load.extend(guide_load);
    for id in others.iter().chain(&guide_tour) {
        load.push(mutation("update_tour.v1", json!({"id": id, "status": "active"})));
    }
    push_load(&env, &load).await;
    let other_sellable = sellable(&env, &others).await;
    let hers = sellable(&env, &guide_tour).await;
    assert_eq!(hers.len(), guide_departures);
    let other_bookings = scaled(10_000);
    let mut load = bookings(&other_sellable, 0, other_bookings, 1);
    load.extend(bookings(&hers, BOOKINGS_PER_DEPARTURE, 0, 2));

    // The office puts the demo guide on every departure of her tour (she is not qualified for a
    // tour made here, so with a manager's reason).
    let pg = env.pg().await;
    let guide: String = pg
        .query_one(
            "SELECT g.id FROM guides g JOIN staff_users u ON u.id = g.user_id WHERE u.email = $1",
            &[&demo_data::DEMO_GUIDE_EMAIL],
        )
        .await
        .unwrap()
        .get(0);
    for (dep, _, _) in &hers {
        load.push(mutation(
            "assign_guide.v2",
            json!({"id": uuid::Uuid::new_v4().to_string(), "departure_id": dep, "guide_id": guide, "role": "lead",
                   "turnaround_minutes": 30, "override_reason": "Benchmark: her tour for the month"}),
        ));
    }
    push_load(&env, &load).await;
    pg.batch_execute("VACUUM (ANALYZE)").await.unwrap();
    let led: i64 = pg
        .query_one("SELECT count(*) FROM schedule_guide_assignments WHERE guide_id = $1", &[&guide])
        .await
        .unwrap()
        .get(0);
    let total_bookings: i64 = pg.query_one("SELECT count(*) FROM bookings", &[]).await.unwrap().get(0);
    let total_departures: i64 = pg.query_one("SELECT count(*) FROM schedules", &[]).await.unwrap().get(0);
    println!(
        "organization loaded in {:.1} s: {} departures and {total_bookings} bookings in all; the guide leads {led} ({} days x {}), \
         {} bookings on them",
        started.elapsed().as_secs_f64(),
        total_departures,
        GUIDE_DAYS,
        GUIDE_TIMES.len(),
        guide_departures * BOOKINGS_PER_DEPARTURE,
    );

    let mut totals = Vec::new();
    for run in 0..runs {
        let name = format!("guide-{run}");
        let desk = env.desk(&name);
        let client = env.client(demo_data::DEMO_GUIDE_EMAIL);
        let started = Instant::now();
        client.sign_in(&desk).await.unwrap();
        let signed_in = started.elapsed();
        let report = client.sync_once(&desk).await.unwrap();
        let synced = started.elapsed();
        // Her screen: the month's departures, each manifest read from the device.
        let from = chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
        let mine = desk.my_departures(from, from + chrono::Days::new(u64::from(GUIDE_DAYS) - 1)).unwrap();
        let mut guests = 0;
        let mut manifests = 0;
        for d in &mine {
            let m = desk.manifest(&d.departure.departure.id).unwrap().expect("the manifest is on the device");
            guests += m.bookings.iter().map(|b| b.participants.len()).sum::<usize>();
            manifests += usize::from(!m.bookings.is_empty());
        }
        let total = started.elapsed();
        assert_eq!(mine.len(), guide_departures, "every departure she leads is on her device");
        assert_eq!(manifests, guide_departures, "with its guests");
        // The file and its write-ahead log (not yet checkpointed into it).
        let path = env.desk_path(&name);
        let wal = path.with_extension("sqlite3-wal");
        let size: u64 = [path, wal].iter().map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)).sum();
        println!(
            "  run {run}: sign-in {:.0} ms, first sync {:.0} ms ({} changes pulled), {} departures and {} manifests ({guests} \
             guests) read {:.0} ms; total {:.0} ms; desk file + WAL {:.1} MB",
            ms(signed_in),
            ms(synced - signed_in),
            report.pulled,
            mine.len(),
            manifests,
            ms(total - synced),
            ms(total),
            size as f64 / 1e6
        );
        totals.push(total);
    }
    totals.sort();
    let median = totals[totals.len() / 2];
    let worst = totals[totals.len() - 1];
    println!(
        "\n[guide first sync] sign-in + first sync + every manifest read: median {:.0} ms, worst {:.0} ms (goal < 2000 ms): {}",
        ms(median),
        ms(worst),
        if worst < Duration::from_secs(2) { "met" } else { "NOT met" }
    );
}

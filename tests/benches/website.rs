//! The public website under load (issue 15 item 10): the tour page and the availability
//! endpoint (a 7-day window) from 64 concurrent clients, requests per second and p50/p99, with
//! the per-instance catalogue cache on and — on a second server over the same database in the
//! same run — off; and the bytes the tour page costs on the wire (compressed page plus its
//! fingerprinted stylesheet and script, no images); and the tour page's largest contentful paint
//! in headless Chromium (Debian's `chromium` and `chromium-driver`, as the browser tests use).
//!
//! `cargo bench -p tourdesk-tests --bench website` (release). PostgreSQL commits durably
//! (fsync, synchronous_commit on) unless `BENCH_NON_DURABLE=1`. Everything runs in this one
//! process on this one machine, so the figures compare with each other, not with production.
//! `BENCH_SECONDS` sets each phase's length (default 10).
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use tourdesk_sync_server::demo_data;
use tourdesk_testkit::PgCluster;
use tourdesk_tests::configured;

const CLIENTS: usize = 64;
/// Page loads for the largest-contentful-paint figure (the first is the cold one).
const LCP_LOADS: usize = 11;
/// Answers the page's largest contentful paint, first contentful paint and time to first byte in
/// ms after navigation start, and the LCP element's tag; LCP entries are observed buffered, after
/// the load WebDriver waited for, and the last one reported is the largest.
const LCP_JS: &str = "const done = arguments[arguments.length - 1]; let last = null; \
    new PerformanceObserver((l) => { const e = l.getEntries(); last = e[e.length - 1]; }) \
      .observe({ type: 'largest-contentful-paint', buffered: true }); \
    setTimeout(() => { const nav = performance.getEntriesByType('navigation')[0]; \
      const fcp = performance.getEntriesByName('first-contentful-paint')[0]; \
      done({ lcp: last ? last.startTime : null, fcp: fcp ? fcp.startTime : null, \
             ttfb: nav ? nav.responseStart : null, element: last && last.element ? last.element.tagName : null }); }, 300);";
const ORG: &str = demo_data::DEMO_ORG_SLUG;

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let phase = Duration::from_secs(seconds);
    let durable = std::env::var("BENCH_NON_DURABLE").map(|v| v != "1").unwrap_or(true);
    println!("PostgreSQL commits: {}", if durable { "durable (fsync, synchronous_commit on)" } else { "non-durable" });
    let cluster = if durable { PgCluster::start_durable() } else { PgCluster::start() }.unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let mut config = configured(&db_url, "127.0.0.1:0", &Default::default());
    config.pool_size = 16;
    let cached = tourdesk_sync_server::start(config.clone()).await.unwrap();
    let mut off = config.clone();
    off.migrate_database_url = None;
    off.demo_data = false;
    off.booking.catalogue_cache = false;
    let uncached = tourdesk_sync_server::start(off).await.unwrap();

    let (pg, conn) = tokio_postgres::connect(&db_url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    // The tour with the most departures in one week from tomorrow, and that week.
    let r = pg
        .query_one(
            "SELECT t.slug, (current_date + 1)::text, (current_date + 7)::text, count(*) FROM schedules s
             JOIN tours t ON t.id = s.tour_id
             WHERE s.local_date BETWEEN current_date + 1 AND current_date + 7 AND t.status = 'active'
             GROUP BY t.slug ORDER BY count(*) DESC, t.slug LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (tour, from, to, n): (String, String, String, i64) = (r.get(0), r.get(1), r.get(2), r.get(3));
    println!("tour {tour}: {n} departures from {from} to {to}; {CLIENTS} clients, {seconds} s per phase");

    let http = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build().unwrap();
    let avail = format!("/api/v1/orgs/{ORG}/tours/{tour}/availability?from={from}&to={to}");
    let page = format!("/{ORG}/tours/{tour}");
    for (what, path) in [("availability", &avail), ("tour page", &page)] {
        let mut rates = Vec::new();
        for (label, server) in [("cache on ", &cached), ("cache off", &uncached)] {
            let url = format!("http://{}{path}", server.addr);
            // Warm: connections, prepared statements, the cache.
            requests(&http, &url, Duration::from_millis(500)).await;
            let (rate, mut lat) = requests(&http, &url, phase).await;
            lat.sort_unstable();
            println!(
                "{what:<12} {label}: {rate:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
                ms(pct(&lat, 50)),
                ms(pct(&lat, 99))
            );
            rates.push(rate);
        }
        println!("{what:<12} cached / uncached: {:.1}×", rates[0] / rates[1]);
    }

    // Bytes on the wire for the tour page as a browser fetches it (compressed), without images.
    let base = format!("http://{}", cached.addr);
    let r = http.get(format!("{base}{page}")).header("accept-encoding", "br, gzip").send().await.unwrap();
    let encoding = r.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let html_bytes = r.bytes().await.unwrap();
    let plain = http.get(format!("{base}{page}")).send().await.unwrap().text().await.unwrap();
    let mut total = html_bytes.len();
    let mut parts = vec![format!("page {} B ({encoding}; {} B uncompressed)", html_bytes.len(), plain.len())];
    for asset in plain.split("\"/assets/").skip(1).filter_map(|s| s.split('"').next()) {
        let r = http.get(format!("{base}/assets/{asset}")).header("accept-encoding", "br, gzip").send().await.unwrap();
        let len = r.bytes().await.unwrap().len();
        total += len;
        parts.push(format!("{asset} {len} B"));
    }
    println!("tour page on the wire: {total} B = {}", parts.join(" + "));

    // Largest contentful paint of the tour page in headless Chromium over loopback, while nothing
    // else runs: the first load (a fresh profile, nothing cached), then loads with the fingerprinted
    // assets cached as a returning visitor has them.
    match tourdesk_testkit::browser::Browser::start().await {
        Ok(Some(b)) => {
            let url = format!("{base}{page}");
            let mut loads = Vec::new();
            for _ in 0..LCP_LOADS {
                b.client.goto(&url).await.unwrap();
                let v = b.client.execute_async(LCP_JS, vec![]).await.unwrap();
                let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
                loads.push((f("lcp"), f("fcp"), f("ttfb"), v["element"].as_str().unwrap_or("?").to_string()));
            }
            b.close().await;
            let (first, rest) = loads.split_first().unwrap();
            let mut lcp: Vec<f64> = rest.iter().map(|l| l.0).collect();
            lcp.sort_by(f64::total_cmp);
            println!(
                "tour page LCP (headless Chromium, loopback): first load {:.0} ms (FCP {:.0} ms, TTFB {:.1} ms, \
                 largest element {}); {} more loads: median {:.0} ms, max {:.0} ms",
                first.0,
                first.1,
                first.2,
                first.3,
                lcp.len(),
                lcp[lcp.len() / 2],
                lcp[lcp.len() - 1]
            );
        }
        Ok(None) => println!("tour page LCP: not measured (no ChromeDriver on this machine)"),
        Err(e) => println!("tour page LCP: not measured: {e:#}"),
    }

    cached.shutdown().await.unwrap();
    uncached.shutdown().await.unwrap();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pct(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
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
                assert_eq!(r.status().as_u16(), 200, "{url}");
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

//! Tools for the sync engine's robustness tests and benchmarks: a TCP proxy that can lose a
//! response after the server has committed (or slow every response down), snapshots of the
//! server's and a desk's replicated rows to compare, and a server-side load of departures.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tourdesk_domain::mutation::Mutation;
use tourdesk_domain::protocol::{MutationEnvelope, PushRequest, SCHEMA_VERSION};
use tourdesk_domain::{Departure, Tour};
use tourdesk_local_store::Store;
use tourdesk_sync_server::db;

use crate::push_raw;

/// What the proxy does with the server's answer to a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ProxyMode {
    /// Every byte is forwarded both ways.
    PassThrough = 0,
    /// The next push is forwarded to the server, but as soon as the server's answer starts to
    /// arrive (so it has committed) both connections are dropped and nothing reaches the desk.
    /// Then back to pass-through.
    LoseNextPushResponse = 1,
}

/// A TCP proxy between a desk's `SyncClient` and the server, on loopback.
pub struct Proxy {
    pub addr: SocketAddr,
    mode: Arc<AtomicU8>,
    /// Responses to pushes that were swallowed.
    lost: Arc<AtomicUsize>,
    /// Push requests seen (whatever became of them).
    pushes: Arc<AtomicUsize>,
    /// Delay before each chunk of a server answer is forwarded, in milliseconds.
    delay_ms: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mode = Arc::new(AtomicU8::new(ProxyMode::PassThrough as u8));
        let lost = Arc::new(AtomicUsize::new(0));
        let pushes = Arc::new(AtomicUsize::new(0));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let (m, l, p, d) = (mode.clone(), lost.clone(), pushes.clone(), delay_ms.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (m, l, p, d) = (m.clone(), l.clone(), p.clone(), d.clone());
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        relay(client, server, m, l, p, d).await;
                    }
                });
            }
        });
        Proxy { addr, mode, lost, pushes, delay_ms, task }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_mode(&self, mode: ProxyMode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
    }

    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms.store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn lost_responses(&self) -> usize {
        self.lost.load(Ordering::SeqCst)
    }

    pub fn pushes(&self) -> usize {
        self.pushes.load(Ordering::SeqCst)
    }
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    mode: Arc<AtomicU8>,
    lost: Arc<AtomicUsize>,
    pushes: Arc<AtomicUsize>,
    delay_ms: Arc<AtomicU64>,
) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    // HTTP/1.1 on one connection is request, answer, request…: whatever the server sends
    // answers the last request whose first line went up.
    let in_push = Arc::new(AtomicBool::new(false));
    let flag = in_push.clone();
    let up = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            if chunk.starts_with(b"POST /sync/v1/push ") {
                flag.store(true, Ordering::SeqCst);
                pushes.fetch_add(1, Ordering::SeqCst);
            } else if [&b"GET "[..], b"POST ", b"PUT ", b"DELETE ", b"PATCH "].iter().any(|m| chunk.starts_with(m)) {
                flag.store(false, Ordering::SeqCst);
            }
            if sw.write_all(chunk).await.is_err() {
                break;
            }
        }
        let _ = sw.shutdown().await;
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match sr.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if in_push.load(Ordering::SeqCst)
            && mode
                .compare_exchange(
                    ProxyMode::LoseNextPushResponse as u8,
                    ProxyMode::PassThrough as u8,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                )
                .is_ok()
        {
            // The server has committed and is answering: the desk never hears of it.
            lost.fetch_add(1, Ordering::SeqCst);
            up.abort();
            return;
        }
        let delay = delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if cw.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    up.abort();
}

/// The replicated rows as one side holds them, sorted by id, to compare desk and server.
#[derive(Debug, Clone, PartialEq)]
pub struct Replica {
    pub tours: Vec<Tour>,
    pub departures: Vec<Departure>,
}

impl Replica {
    pub fn rows(&self) -> usize {
        self.tours.len() + self.departures.len()
    }
}

/// What PostgreSQL holds for the organization (read with the server's own row mappers).
pub async fn server_replica(pg: &tokio_postgres::Client, org: &str) -> Replica {
    let tours = pg
        .query(&format!("SELECT {} FROM tours WHERE organization_id = $1 ORDER BY id", db::TOUR_COLS), &[&org])
        .await
        .unwrap()
        .iter()
        .map(|r| db::tour_from_row(r).unwrap())
        .collect();
    let departures = pg
        .query(&format!("SELECT {} FROM schedules WHERE organization_id = $1 ORDER BY id", db::DEPARTURE_COLS), &[&org])
        .await
        .unwrap()
        .iter()
        .map(|r| db::departure_from_row(r).unwrap())
        .collect();
    Replica { tours, departures }
}

/// What the desk shows, through its public reads.
pub fn desk_replica(desk: &Store) -> Replica {
    let mut tours: Vec<Tour> = desk.tours().unwrap().into_iter().map(|t| t.tour).collect();
    tours.sort_by(|a, b| a.id.cmp(&b.id));
    let mut departures: Vec<Departure> =
        tours.iter().flat_map(|t| desk.departures(&t.id).unwrap().into_iter().map(|d| d.departure)).collect();
    departures.sort_by(|a, b| a.id.cmp(&b.id));
    Replica { tours, departures }
}

/// Asserts that the desk shows exactly what PostgreSQL holds, naming the first difference.
pub async fn assert_desk_matches_server(pg: &tokio_postgres::Client, desk: &Store, who: &str) {
    let org = desk.session().unwrap().expect("signed in").organization_id;
    let server = server_replica(pg, &org).await;
    let local = desk_replica(desk);
    assert_eq!(local.tours.len(), server.tours.len(), "{who}: tour count");
    assert_eq!(local.departures.len(), server.departures.len(), "{who}: departure count");
    for (l, s) in local.tours.iter().zip(&server.tours) {
        assert_eq!(l, s, "{who}: tour differs");
    }
    for (l, s) in local.departures.iter().zip(&server.departures) {
        assert_eq!(l, s, "{who}: departure differs");
    }
}

pub fn mutation(name: &str, args: serde_json::Value) -> Mutation {
    Mutation::decode(name, &args).unwrap()
}

/// Mutations per push in [`push_all`]: the server's maximum, so a large load costs as few
/// round trips and commits as the server allows.
pub const PUSH_ALL_BATCH: usize = 1000;

/// Pushes `mutations` as a fresh client of the token's user and asserts that all applied.
pub async fn push_all(base_url: &str, token: &str, mutations: &[Mutation]) {
    let client_id = uuid::Uuid::new_v4().to_string();
    for (n, chunk) in mutations.chunks(PUSH_ALL_BATCH).enumerate() {
        let req = PushRequest {
            client_id: client_id.clone(),
            schema_version: SCHEMA_VERSION,
            mutations: chunk
                .iter()
                .enumerate()
                .map(|(i, m)| MutationEnvelope {
                    id: (n * PUSH_ALL_BATCH + i + 1) as u64,
                    name: m.name().into(),
                    args: m.args(),
                    hlc: "0".into(),
                })
                .collect(),
        };
        let resp = push_raw(base_url, token, &req).await;
        assert_eq!(resp.results.len(), chunk.len());
        let refused: Vec<_> = resp.results.iter().filter(|r| r.code.is_some()).collect();
        assert!(refused.is_empty(), "{refused:?}");
    }
}

/// Mutations that give the organization `tours` tours with one variant each and departures at
/// `times` on every day of `days` days from 2030-01-01: `tours * days * times.len()` departures.
/// Returns the mutations and the number of departures they make.
pub fn departure_load(tours: usize, days: u32, times: &[&str]) -> (Vec<Mutation>, usize) {
    departure_load_with_capacity(tours, days, times, 20)
}

/// [`departure_load`] with `capacity` seats on every departure (the tours' default capacity).
pub fn departure_load_with_capacity(tours: usize, days: u32, times: &[&str], capacity: u32) -> (Vec<Mutation>, usize) {
    let mut out = Vec::new();
    let from = chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap();
    let until = from + chrono::Days::new(u64::from(days) - 1);
    for t in 0..tours {
        let tour = uuid::Uuid::new_v4().to_string();
        let variant = uuid::Uuid::new_v4().to_string();
        out.push(mutation(
            "create_tour.v1",
            serde_json::json!({"id": tour, "name": format!("Load Tour {t} {}", &tour[..8]), "duration_minutes": 90,
                "default_capacity": capacity, "category": "walking", "timezone": "Europe/Lisbon"}),
        ));
        out.push(mutation(
            "create_variant.v1",
            serde_json::json!({"id": variant, "tour_id": tour, "name": "Standard"}),
        ));
        out.push(mutation(
            "upsert_pricing_tier.v1",
            serde_json::json!({"id": uuid::Uuid::new_v4().to_string(), "tour_id": tour, "name": "Adult",
                "base_price": {"amount": 2500, "currency": "EUR"}, "is_default": true}),
        ));
        out.push(mutation(
            "generate_departures.v1",
            serde_json::json!({"tour_id": tour, "variant_id": variant, "from": from, "until": until,
                "pattern": {"type": "recurring", "days_of_week": [0, 1, 2, 3, 4, 5, 6], "start_times": times}}),
        ));
    }
    (out, tours * days as usize * times.len())
}

/// A read-only look at a desk's SQLite file from outside its `Store` (another process may be
/// writing it).
pub fn peek_cursor(path: &std::path::Path) -> Option<u64> {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
    conn.busy_timeout(Duration::from_secs(5)).ok()?;
    // The `all` bucket's: an owner's desk also holds `audit`, which is short and so reaches the
    // newest numbers in its first page.
    let sql = "SELECT max(cursor) FROM sync_state WHERE bucket LIKE 'org:%:all'";
    conn.query_row(sql, [], |r| r.get::<_, Option<u64>>(0)).ok().flatten()
}

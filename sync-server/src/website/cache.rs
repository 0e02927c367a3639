//! Each server instance keeps the public site's availability, tour details and tour reviews in
//! memory, tagged with the organization's change counter (`org_sync.seq`) they were read at.
//! Every committed change that can alter them — a booking, a hold expiring (a cancellation), a
//! capacity or catalogue edit, a review's moderation, from any instance or desk — moves that
//! counter in its own transaction. Every request reads the counter first (V41's
//! `tourdesk_org_version`, through a lookup that started after the request arrived, shared by the
//! requests arriving meanwhile: [`SharedRead`]) and uses an entry only when it still reads the
//! same, so no answer is older than the last committed change, on whichever instance it was
//! committed. The LISTEN/NOTIFY pokes ([`crate::events`]) only free an
//! organization's stale entries early; correctness never waits for one to arrive.
//!
//! What changes with time alone (a departure starting drops out of the list; early-bird prices
//! depend on the days left) bounds an entry's life too: it is used only before its first listed
//! departure starts and for at most [`MAX_AGE`].

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use tokio::sync::broadcast::error::RecvError;

use crate::db::Prepared;
use crate::events::{Events, Signal};
use crate::reviews::TourReviews;
use crate::{AppError, AppState, db};

use super::types::{Availability, TourDetail};

/// The longest an entry is used, whatever the counter says (time-dependent prices).
pub const MAX_AGE: Duration = Duration::from_secs(30);

/// Entries kept per kind; past this the oldest half is dropped (a crawler walking many date
/// ranges cannot grow memory without bound).
const MAX_ENTRIES: usize = 20_000;

/// An active organization as the website addresses it, with its change counter now.
#[derive(Debug, Clone)]
pub struct OrgVersion {
    pub id: String,
    pub name: String,
    pub seq: i64,
}

/// The active organization with public slug `slug` and its current change counter; `None` for
/// an unknown or suspended one. Runs outside any transaction (one round trip).
pub async fn org_version(c: &impl GenericClient, slug: &str) -> Result<Option<OrgVersion>, AppError> {
    let row = c.row_opt("SELECT organization_id, name, seq FROM tourdesk_org_version($1)", &[&slug]).await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(OrgVersion { id: db::column(&r, 0)?, name: db::column(&r, 1)?, seq: db::column(&r, 2)? }))
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AvailabilityKey {
    pub org: String,
    pub tour: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub variant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TourKey {
    pub org: String,
    pub tour: String,
}

struct Entry<V> {
    seq: i64,
    stored: Instant,
    /// The instant the entry stops being true by time alone (a listed departure starts).
    until: Option<DateTime<Utc>>,
    value: Arc<V>,
}

struct Map<K, V>(Mutex<HashMap<K, Entry<V>>>);

impl<K: Eq + Hash + Clone + OrgOf, V> Map<K, V> {
    fn new() -> Self {
        Map(Mutex::new(HashMap::new()))
    }

    fn get(&self, key: &K, seq: i64) -> Option<Arc<V>> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let e = map.get(key)?;
        let fresh = e.seq == seq && e.stored.elapsed() < MAX_AGE && e.until.is_none_or(|until| Utc::now() < until);
        fresh.then(|| e.value.clone())
    }

    fn put(&self, key: K, seq: i64, until: Option<DateTime<Utc>>, value: Arc<V>) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES && !map.contains_key(&key) {
            let mut ages: Vec<Instant> = map.values().map(|e| e.stored).collect();
            ages.sort_unstable();
            let cut = ages[ages.len() / 2];
            map.retain(|_, e| e.stored > cut);
        }
        // A slower reader must not replace what a reader at a later counter stored.
        if map.get(&key).is_some_and(|e| e.seq > seq) {
            return;
        }
        map.insert(key, Entry { seq, stored: Instant::now(), until, value });
    }

    /// Drops `org`'s entries read before counter `seq`; every entry when `org` is `None`.
    fn evict(&self, org: Option<&str>, seq: i64) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match org {
            Some(org) => map.retain(|k, e| k.org() != org || e.seq >= seq),
            None => map.clear(),
        }
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

trait OrgOf {
    fn org(&self) -> &str;
}

impl OrgOf for AvailabilityKey {
    fn org(&self) -> &str {
        &self.org
    }
}

impl OrgOf for TourKey {
    fn org(&self) -> &str {
        &self.org
    }
}

/// This instance's cached catalogue reads.
pub struct CatalogueCache {
    enabled: bool,
    /// Organizations' display names by slug, as last looked up (headers and titles).
    names: Mutex<HashMap<String, String>>,
    availability: Map<AvailabilityKey, Availability>,
    tours: Map<TourKey, TourDetail>,
    /// A tour page's approved reviews, by the tour's id.
    reviews: Map<TourKey, TourReviews>,
    /// The shared lookups of organizations' counters, by slug.
    counters: Mutex<HashMap<String, Arc<SharedRead<Option<OrgVersion>>>>>,
}

impl CatalogueCache {
    pub fn new(enabled: bool) -> Arc<CatalogueCache> {
        Arc::new(CatalogueCache {
            enabled,
            names: Mutex::default(),
            availability: Map::new(),
            tours: Map::new(),
            reviews: Map::new(),
            counters: Mutex::default(),
        })
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn availability(&self, key: &AvailabilityKey, seq: i64) -> Option<Arc<Availability>> {
        if !self.enabled {
            return None;
        }
        self.availability.get(key, seq)
    }

    pub fn put_availability(&self, key: AvailabilityKey, seq: i64, value: Arc<Availability>) {
        if self.enabled {
            let until = value.departures.iter().map(|d| d.starts_at).min();
            self.availability.put(key, seq, until, value);
        }
    }

    pub fn tour(&self, key: &TourKey, seq: i64) -> Option<Arc<TourDetail>> {
        if !self.enabled {
            return None;
        }
        self.tours.get(key, seq)
    }

    pub fn put_tour(&self, key: TourKey, seq: i64, value: Arc<TourDetail>) {
        if self.enabled {
            self.tours.put(key, seq, None, value);
        }
    }

    pub fn reviews(&self, key: &TourKey, seq: i64) -> Option<Arc<TourReviews>> {
        if !self.enabled {
            return None;
        }
        self.reviews.get(key, seq)
    }

    pub fn put_reviews(&self, key: TourKey, seq: i64, value: Arc<TourReviews>) {
        if self.enabled {
            self.reviews.put(key, seq, None, value);
        }
    }

    /// The shared counter lookup of the organization at `slug`.
    fn counter_of(&self, slug: &str) -> Arc<SharedRead<Option<OrgVersion>>> {
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        if counters.len() >= MAX_ENTRIES && !counters.contains_key(slug) {
            // Requests holding a dropped entry finish on it; later ones start a new one.
            counters.clear();
        }
        counters.entry(slug.to_string()).or_default().clone()
    }

    /// The display name last looked up for `slug`.
    pub fn name_of(&self, slug: &str) -> Option<String> {
        self.names.lock().unwrap_or_else(|p| p.into_inner()).get(slug).cloned()
    }

    fn remember_name(&self, slug: &str, name: &str) {
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        if names.get(slug).is_none_or(|n| n != name) {
            if names.len() >= MAX_ENTRIES {
                names.clear();
            }
            names.insert(slug.to_string(), name.to_string());
        }
    }

    /// How many entries are held (tests, diagnostics).
    pub fn len(&self) -> usize {
        self.availability.len() + self.tours.len() + self.reviews.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn evict(&self, org: Option<&str>, seq: i64) {
        self.availability.evict(org, seq);
        self.tours.evict(org, seq);
        self.reviews.evict(org, seq);
    }

    /// Frees entries as the change pokes of every instance's commits arrive; everything after
    /// the listener reconnects (pokes may have been missed meanwhile).
    pub fn follow(self: &Arc<Self>, events: &Events) {
        if !self.enabled {
            return;
        }
        let mut rx = events.subscribe();
        let cache = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let signal = rx.recv().await;
                let Some(cache) = cache.upgrade() else { return };
                match signal {
                    Ok(Signal::Poke(p)) => cache.evict(Some(&p.organization_id), p.seq),
                    Ok(Signal::Resync) | Err(RecvError::Lagged(_)) => cache.evict(None, 0),
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }
}

/// The organization behind `slug` with its counter, or the 404 an unknown one gets. With the cache
/// on, concurrent requests share one lookup ([`SharedRead`]) that started after each of them arrived.
pub async fn current(state: &AppState, slug: &str) -> Result<OrgVersion, AppError> {
    let slug = super::parse_slug(slug)?;
    let lookup = || async {
        let conn = state.pool.get().await?;
        org_version(&conn, &slug).await
    };
    let v =
        if state.catalogue.enabled { state.catalogue.counter_of(&slug).read(lookup).await? } else { lookup().await? };
    let v = v.ok_or_else(|| AppError::NotFound("organization".into()))?;
    state.catalogue.remember_name(&slug, &v.name);
    Ok(v)
}

/// One value read by many concurrent requests, never older than any of them. A request waits
/// for a read that *started* after it arrived, so it sees every change committed before it
/// arrived, as its own read would; requests arriving while a read runs share the next one. At
/// 64 connections this turns a lookup per request into a lookup per round trip.
pub struct SharedRead<T> {
    /// How many reads have started (each read's number is its place in this count).
    started: AtomicU64,
    /// The last read that finished: its number and its value. Held while a read runs, so reads
    /// of one value run one at a time and waiters queue in arrival order.
    last: tokio::sync::Mutex<(u64, Option<T>)>,
}

impl<T: Clone> Default for SharedRead<T> {
    fn default() -> Self {
        SharedRead { started: AtomicU64::new(0), last: tokio::sync::Mutex::new((0, None)) }
    }
}

impl<T: Clone> SharedRead<T> {
    /// The value as a read started after this call read it: the last finished read's when it
    /// started after this call, else `read`'s own. A failed read is not shared: its waiters
    /// read again.
    pub async fn read<E, F, Fut>(&self, read: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        // Every read numbered `need` or more started after this load, so after this arrival.
        let need = self.started.load(Ordering::SeqCst) + 1;
        let mut last = self.last.lock().await;
        if let (n, Some(v)) = &*last
            && *n >= need
        {
            return Ok(v.clone());
        }
        let n = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let v = read().await?;
        *last = (n, Some(v.clone()));
        Ok(v)
    }
}

/// The display name of the organization at `slug` for a page's header and title: as the request's
/// own lookup just read it, else looked up now; the slug itself if it cannot be found.
pub async fn org_name(state: &AppState, slug: &str) -> String {
    if let Some(name) = state.catalogue.name_of(slug) {
        return name;
    }
    current(state, slug).await.map(|v| v.name).unwrap_or_else(|_| slug.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
    use std::time::Duration;

    use super::SharedRead;

    /// 64 requests in a loop share reads, and each gets a value read after it arrived: a clock
    /// ticks at each arrival and at each read's start, and the read returns its start tick.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_shared_read_started_after_each_request_and_serves_many() {
        let shared = Arc::new(SharedRead::<u64>::default());
        let clock = Arc::new(AtomicU64::new(0));
        let reads = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (shared, clock, reads) = (shared.clone(), clock.clone(), reads.clone());
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    for _ in 0..50 {
                        let arrived = clock.fetch_add(1, SeqCst);
                        let started = shared
                            .read(|| async {
                                reads.fetch_add(1, SeqCst);
                                let started = clock.fetch_add(1, SeqCst);
                                tokio::time::sleep(Duration::from_micros(300)).await;
                                Ok::<_, ()>(started)
                            })
                            .await
                            .unwrap();
                        seen.push((arrived, started));
                    }
                    seen
                })
            })
            .collect();
        for task in tasks {
            for (arrived, started) in task.await.unwrap() {
                assert!(started > arrived, "a request that arrived at {arrived} got a read started at {started}");
            }
        }
        let reads = reads.load(SeqCst);
        assert!(reads <= 64 * 50 / 4, "{reads} reads for {} requests", 64 * 50);
    }

    #[tokio::test]
    async fn a_failed_read_is_not_shared() {
        let shared = SharedRead::<u64>::default();
        assert_eq!(shared.read(|| async { Err::<u64, &str>("connection lost") }).await, Err("connection lost"));
        assert_eq!(shared.read(|| async { Ok::<u64, &str>(7) }).await, Ok(7));
        // A later request never takes an earlier request's value: it reads again.
        assert_eq!(shared.read(|| async { Ok::<u64, &str>(8) }).await, Ok(8));
    }
}

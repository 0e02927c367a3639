//! What the desk benches share: an empty replica signed in as a manager, and rows turned into
//! the change records a pull delivers.

use std::path::Path;
use std::time::{Duration, Instant};

use tourdesk_domain::protocol::{ChangeRecord, EntityKind, Op};
use tourdesk_domain::roles::Role;
use tourdesk_local_store::{Session, Store};

pub const ORG: &str = "org-1";

/// A new replica at `dir/desk.sqlite3`, signed in as a manager of [`ORG`].
pub fn manager_store(dir: &Path, user_id: &str) -> Store {
    let store = Store::open(&dir.join("desk.sqlite3")).unwrap();
    store
        .save_session(&Session {
            user_id: user_id.into(),
            user_name: "Bench".into(),
            role: Role::Manager,
            organization_id: ORG.into(),
            organization_name: "Bench".into(),
            organization_defaults: Default::default(),
        })
        .unwrap();
    store
}

/// `row` as the put of a pull page, at `seq`.
pub fn record<T: serde::Serialize>(kind: EntityKind, seq: u64, row: &T) -> ChangeRecord {
    let row = serde_json::to_value(row).unwrap();
    ChangeRecord { seq, entity: kind, id: row["id"].as_str().unwrap().into(), op: Op::Put, row }
}

/// Runs `f` once to warm up, then `runs` times, and prints p50, p95 and max; answers the p95.
#[allow(dead_code)] // not every bench prints figures this way
pub fn figure(label: &str, runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).saturating_sub(1).min(times.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "  {label}: {runs} runs, p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        ms(at(0.5)),
        ms(at(0.95)),
        ms(*times.last().unwrap())
    );
    at(0.95)
}

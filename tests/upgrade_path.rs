//! The upgrade path of a desk (issue 17): a replica and an outbox written by the previous
//! release's schema (every SQLite migration but the newest) holding work in older mutation
//! versions (`upsert_pricing_tier.v1`, superseded by v2) are opened by the current build, which
//! migrates them at start, before it syncs; the queue is pushed and the server applies each
//! mutation exactly once, also when a copy of the pre-upgrade database (same client id, same
//! queue: a restore from backup, or an answer lost in flight) pushes it again.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use serde_json::json;
use tourdesk_sync_server::demo_data;
use tourdesk_tests::Env;

mod schema_history {
    refinery::embed_migrations!("../migrations/sqlite");
}

/// The newest desk migration (what the current build migrates to) and the previous release's.
fn versions() -> (i32, i32) {
    let mut v: Vec<i32> = schema_history::migrations::runner().get_migrations().iter().map(|m| m.version()).collect();
    v.sort_unstable();
    let newest = *v.last().unwrap();
    let previous = v[v.len() - 2];
    (newest, previous)
}

fn applied_version(path: &Path) -> i32 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("SELECT MAX(version) FROM refinery_schema_history", [], |r| r.get(0)).unwrap()
}

/// Copies every replica table the old schema has from `full` (a desk synced by the current
/// build) with the old table's columns: the replica the previous release would have pulled.
fn copy_replica(old: &rusqlite::Connection, full: &Path) {
    old.execute("ATTACH DATABASE ?1 AS full", [full.to_str().unwrap()]).unwrap();
    let tables: Vec<String> = old
        // Full-text indexes (virtual tables and their own tables) are filled by triggers.
        .prepare(
            "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' AND name NOT LIKE '%\\_fts%' ESCAPE '\\' \
             AND name NOT IN ('refinery_schema_history', 'meta', 'outbox', 'mutation_outcome', 'shadow')",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for t in tables {
        let cols: Vec<String> = old
            .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let cols = cols.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
        old.execute(&format!("INSERT INTO main.\"{t}\" ({cols}) SELECT {cols} FROM full.\"{t}\""), []).unwrap();
    }
    old.execute("DETACH DATABASE full", []).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_of_the_previous_release_upgrades_and_its_queue_is_applied_exactly_once() {
    let (newest, previous) = versions();
    let env = Env::start().await;
    let owner = env.client(demo_data::DEMO_OWNER_EMAIL);

    // A desk of the current build signs in and pulls the organization: the rows the old desk held.
    let full = env.desk("full");
    let session = owner.sign_in(&full).await.unwrap();
    owner.sync_once(&full).await.unwrap();
    let (tour, departure, tier) = full
        .tours()
        .unwrap()
        .into_iter()
        .find_map(|t| {
            let d = full.departures(&t.tour.id).unwrap().into_iter().find(|d| {
                d.seats_left >= 2
                    && d.departure.starts_at > chrono::Utc::now()
                    && d.departure.status == tourdesk_domain::status::DepartureStatus::Open
            })?;
            let tier = full.prices(&t.tour.id).unwrap().into_iter().find(|p| {
                p.variant_id.as_deref().is_none_or(|v| v == d.departure.variant_id)
                    && p.valid_from.is_none()
                    && p.min_age.is_none()
            })?;
            Some((t.tour, d.departure, tier))
        })
        .expect("a demo departure with two seats and an adult tier");
    drop(full);

    // The previous release's database: its schema, its client id and session, the replica it
    // pulled, and three changes queued offline, one in a superseded mutation version.
    let old_path = env.desk_path("old");
    let client_id = uuid::Uuid::new_v4().to_string();
    let new_tier = uuid::Uuid::new_v4().to_string();
    let customer = uuid::Uuid::new_v4().to_string();
    let booking = uuid::Uuid::new_v4().to_string();
    {
        let mut conn = rusqlite::Connection::open(&old_path).unwrap();
        schema_history::migrations::runner().set_target(refinery::Target::Version(previous)).run(&mut conn).unwrap();
        conn.execute("INSERT INTO meta (key, value) VALUES ('client_id', ?1)", [&client_id]).unwrap();
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('session', ?1)",
            [serde_json::to_string(&session).unwrap()],
        )
        .unwrap();
        copy_replica(&conn, &env.desk_path("full"));
        let now = chrono::Utc::now();
        let queued = [
            (
                "upsert_pricing_tier.v1",
                json!({
                    "id": new_tier, "tour_id": tour.id, "name": "Student (queued before the upgrade)",
                    "base_price": serde_json::to_value(tier.base_price).unwrap(), "sort_order": 90
                }),
            ),
            (
                "create_customer.v1",
                json!({
                    "id": customer, "first_name": "Queued", "last_name": "Offline",
                    "hlc": format!("{:013}-{:08}-{}", now.timestamp_millis(), 2, &client_id[..8])
                }),
            ),
            (
                "create_booking.v1",
                json!({
                    "id": booking, "tour_id": tour.id, "departure_id": departure.id, "customer_id": customer,
                    "lines": [{"tier_id": tier.id, "quantity": 2}],
                    "reference_year": 2026, "reference_entropy": 424242u64
                }),
            ),
        ];
        for (i, (name, args)) in queued.iter().enumerate() {
            let id = i as i64 + 1;
            conn.execute(
                "INSERT INTO outbox (mutation_id, name, args, hlc, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![
                    id,
                    name,
                    args.to_string(),
                    format!("{:013}-{id:08}-{}", now.timestamp_millis(), &client_id[..8]),
                    now.to_rfc3339()
                ],
            )
            .unwrap();
        }
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_mutation_id', '4')", []).unwrap();
    }
    assert_eq!(applied_version(&old_path), previous);
    // The same database restored from a backup later (or whose push answer is lost).
    let backup = env.desk_path("backup");
    std::fs::copy(&old_path, &backup).unwrap();

    let pg = env.pg().await;
    let booked_before: i32 =
        pg.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&departure.id]).await.unwrap().get(0);

    // The current build opens it: migrated at open, before any sync; nothing of it lost.
    let desk = env.desk("old");
    assert_eq!(applied_version(&old_path), newest, "migrated to the current schema at start");
    assert_eq!(desk.client_id(), client_id);
    assert_eq!(desk.pending_count().unwrap(), 3);
    assert_eq!(
        desk.outbox(10).unwrap().iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        ["upsert_pricing_tier.v1", "create_customer.v1", "create_booking.v1"]
    );
    assert!(desk.tours().unwrap().iter().any(|t| t.tour.id == tour.id), "the old replica reads in the new build");

    let report = owner.sync_once(&desk).await.unwrap();
    assert_eq!((report.pushed, report.rejected), (3, 0), "{:?}", desk.rejections().unwrap());
    assert_eq!(desk.pending_count().unwrap(), 0);
    assert!(desk.prices(&tour.id).unwrap().iter().any(|p| p.id == new_tier), "the tier is in the replica");

    // The restored copy pushes the same three again: the server answers them as duplicates.
    let restored = env.desk("backup");
    assert_eq!(applied_version(&backup), newest);
    let again = owner.sync_once(&restored).await.unwrap();
    assert_eq!(again.rejected, 0);
    assert_eq!(restored.pending_count().unwrap(), 0);

    // Exactly once: one verdict per mutation, one tier, one customer, one booking, two seats.
    let results: Vec<(i64, String)> = pg
        .query(
            "SELECT mutation_id, status FROM sync_mutation_results WHERE client_id = $1 ORDER BY mutation_id",
            &[&client_id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(results, [(1, "applied".into()), (2, "applied".into()), (3, "applied".into())]);
    for (table, id) in [("pricing_tiers", &new_tier), ("customers", &customer), ("bookings", &booking)] {
        let n: i64 = pg.query_one(&format!("SELECT count(*) FROM {table} WHERE id = $1"), &[id]).await.unwrap().get(0);
        assert_eq!(n, 1, "{table}");
    }
    let booked_after: i32 =
        pg.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&departure.id]).await.unwrap().get(0);
    assert_eq!(booked_after, booked_before + 2, "two seats, sold once");
}

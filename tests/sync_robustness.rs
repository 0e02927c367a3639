//! The sync engine under failure, as the original sync design asked us to prove: a push whose answer
//! is lost after the server committed, a desk process killed in the middle of a large paged
//! pull, a week's worth of queued work draining in order, and mutations or desk databases from
//! other versions of the app.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::json;
use tourdesk_domain::mutation::Mutation;
use tourdesk_domain::protocol::OutcomeStatus;
use tourdesk_domain::status::StateMachine;
use tourdesk_local_store::{Credentials, Store, SyncClient, SyncError};
use tourdesk_sync_server::demo_data;
use tourdesk_tests::harness::{
    Proxy, ProxyMode, assert_desk_matches_server, departure_load, mutation, peek_cursor, push_all,
};
use tourdesk_tests::{Env, new_tour, sign_in, tour_id};

/// A desk's sync client signed in as the demo owner, talking to `base_url` (a proxy, say).
fn client_at(base_url: &str) -> SyncClient {
    SyncClient::new(
        base_url,
        Credentials {
            organization: demo_data::DEMO_ORG_SLUG.into(),
            email: demo_data::DEMO_OWNER_EMAIL.into(),
            password: demo_data::DEMO_PASSWORD.into(),
            device: "robustness desk".into(),
        },
    )
    .unwrap()
}

async fn count(pg: &tokio_postgres::Client, sql: &str, id: &str) -> i64 {
    pg.query_one(sql, &[&id]).await.unwrap().get(0)
}

async fn total(pg: &tokio_postgres::Client, table: &str) -> i64 {
    pg.query_one(&format!("SELECT count(*) FROM {table}"), &[]).await.unwrap().get(0)
}

fn update_tour(args: serde_json::Value) -> Mutation {
    mutation("update_tour.v1", args)
}

fn set_capacity(departure_id: &str, capacity: u32) -> Mutation {
    mutation("set_departure_capacity.v1", json!({"departure_id": departure_id, "capacity": capacity}))
}

/// Demo departures whose capacity a desk may still change.
fn editable_departures(desk: &Store) -> Vec<tourdesk_domain::Departure> {
    desk.tours()
        .unwrap()
        .iter()
        .flat_map(|t| desk.departures(&t.tour.id).unwrap())
        .map(|d| d.departure)
        .filter(|d| !d.status.is_terminal())
        .collect()
}

/// The server commits a push and starts answering, but the answer never reaches the desk (the
/// connection dies, as when the server is killed between commit and reply). The desk sees a
/// transient failure and keeps its outbox; PostgreSQL already has the changes; the next round
/// gets the stored verdicts, and nothing — rows, audit entries, change-log entries — is written
/// twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_committed_but_never_answered_is_not_applied_twice() {
    let env = Env::start().await;
    let proxy = Proxy::start(env.addr).await;
    let desk = env.desk("office");
    let client = client_at(&proxy.base_url());
    client.sync_once(&desk).await.unwrap();
    let pg = env.pg().await;
    let audit_sql = "SELECT count(*) FROM audit_logs WHERE entity_id = $1";

    let create = new_tour("Harbour Ferry Dawn");
    let id = tour_id(&create);
    desk.mutate(&create).unwrap();
    // A status change with the rename (archiving: publishing a tour needs variants and prices).
    desk.mutate(&update_tour(json!({"id": id, "name": "Harbour Ferry at Dawn", "status": "archived"}))).unwrap();
    let dep = editable_departures(&desk).remove(0);
    desk.mutate(&set_capacity(&dep.id, dep.capacity + 3)).unwrap();
    let log_sql = "SELECT count(*) FROM sync_changes WHERE row_id = $1 AND bucket LIKE 'org:%:all'";
    // The demo data logged the departure's creation already.
    let dep_log = count(&pg, log_sql, &dep.id).await;

    proxy.set_mode(ProxyMode::LoseNextPushResponse);
    let err = client.sync_once(&desk).await.unwrap_err();
    assert_eq!(proxy.lost_responses(), 1, "the push answer was swallowed");
    assert!(matches!(err, SyncError::Offline(_)) && err.is_transient(), "{err:?}");
    assert_eq!(desk.pending_count().unwrap(), 3, "the desk never heard back, so it keeps everything");

    // PostgreSQL already holds the work.
    let name: String = pg.query_one("SELECT name FROM tours WHERE id = $1", &[&id]).await.unwrap().get(0);
    assert_eq!(name, "Harbour Ferry at Dawn");
    let cap: i32 = pg.query_one("SELECT capacity FROM schedules WHERE id = $1", &[&dep.id]).await.unwrap().get(0);
    assert_eq!(cap as u32, dep.capacity + 3);
    let client_id = desk.client_id();
    let results_sql = "SELECT count(*) FROM sync_mutation_results WHERE client_id = $1";
    assert_eq!(count(&pg, results_sql, &client_id).await, 3);
    assert_eq!((count(&pg, audit_sql, &id).await, count(&pg, log_sql, &id).await), (2, 2));
    assert_eq!((count(&pg, audit_sql, &dep.id).await, count(&pg, log_sql, &dep.id).await), (1, dep_log + 1));
    let before: Vec<i64> = {
        let mut v = Vec::new();
        for t in ["tours", "schedules", "audit_logs", "sync_changes", "sync_mutation_results"] {
            v.push(total(&pg, t).await);
        }
        v
    };

    // The next round, through the same (now honest) proxy.
    let report = client.sync_once(&desk).await.unwrap();
    assert_eq!((report.pushed, report.rejected), (3, 0), "stored verdicts, not a second run");
    assert_eq!(proxy.lost_responses(), 1);
    assert_eq!(desk.pending_count().unwrap(), 0, "the outbox drained");
    assert!(desk.rejections().unwrap().is_empty());
    let mut after = Vec::new();
    for t in ["tours", "schedules", "audit_logs", "sync_changes", "sync_mutation_results"] {
        after.push(total(&pg, t).await);
    }
    assert_eq!(after, before, "tours, schedules, audit_logs, sync_changes, sync_mutation_results unchanged");
    let shown = desk.tours().unwrap().into_iter().find(|t| t.tour.id == id).unwrap();
    assert!(!shown.pending && shown.tour.name == "Harbour Ferry at Dawn", "{shown:?}");
    assert_desk_matches_server(&pg, &desk, "office").await;
}

/// A desk offline for a week queues 1,000 mutations — new tours created and then edited, and
/// demo departures' capacities set again and again — so applying them out of order would leave
/// a different state (or refuse edits of tours not yet created). When the server is back, one
/// sync round drains them in two batches of 500, every one applied, and the server ends
/// exactly where the desk expected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_week_offline_with_1000_queued_mutations_drains_in_order() {
    let mut env = Env::start().await;
    let proxy = Proxy::start(env.addr).await;
    let desk = env.desk("office");
    let client = client_at(&proxy.base_url());
    client.sync_once(&desk).await.unwrap();
    let deps = editable_departures(&desk);
    assert!(deps.len() >= 10, "{}", deps.len());

    env.stop_server().await;
    let started = Instant::now();
    let mut expected_names = Vec::new();
    let mut expected_caps = std::collections::BTreeMap::new();
    let mut k = 0usize;
    for i in 0..100 {
        let create = new_tour(&format!("Week Tour {i:03}"));
        let id = tour_id(&create);
        desk.mutate(&create).unwrap();
        for rev in 0..4u32 {
            let mut args = json!({"id": id, "name": format!("Week Tour {i:03} rev {rev}"),
                                  "duration_minutes": 60 + rev * 15});
            // A status change among the edits (archiving: publishing needs variants and prices).
            if rev == 2 {
                args["status"] = json!("archived");
            }
            desk.mutate(&update_tour(args)).unwrap();
            // A capacity edit between the tour edits, and the last one of a departure wins.
            let d = &deps[k % deps.len()];
            let cap = d.booked_count.max(1) + (k % 23) as u32;
            desk.mutate(&set_capacity(&d.id, cap)).unwrap();
            expected_caps.insert(d.id.clone(), cap);
            k += 1;
        }
        let d = &deps[k % deps.len()];
        let cap = d.booked_count.max(1) + (k % 23) as u32;
        desk.mutate(&set_capacity(&d.id, cap)).unwrap();
        expected_caps.insert(d.id.clone(), cap);
        k += 1;
        expected_names.push((id, format!("Week Tour {i:03} rev 3")));
    }
    eprintln!("1,000 offline mutations queued in {:?}", started.elapsed());
    assert_eq!(desk.pending_count().unwrap(), 1000);

    // The store stamps each mutation with the wall clock; make the queue look like a week's work
    // (the same HLC format, oldest first), as it would be after seven days offline.
    {
        let mut conn = rusqlite::Connection::open(env.desk_path("office")).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        let tx = conn.transaction().unwrap();
        let week_ago = chrono::Utc::now() - chrono::Duration::days(7);
        let step = chrono::Duration::days(7).num_milliseconds() / 1000;
        for id in 1..=1000i64 {
            let at = week_ago + chrono::Duration::milliseconds(step * (id - 1));
            let hlc = format!("{:013}-{:08}-{}", at.timestamp_millis(), id, desk.client_id());
            let n = tx
                .execute(
                    "UPDATE outbox SET hlc = ?1, created_at = ?2 WHERE mutation_id = ?3",
                    rusqlite::params![hlc, at.to_rfc3339(), id],
                )
                .unwrap();
            assert_eq!(n, 1);
        }
        tx.commit().unwrap();
    }
    let queued = desk.outbox(1000).unwrap();
    assert!(queued.windows(2).all(|w| w[0].id + 1 == w[1].id && w[0].hlc < w[1].hlc));

    env.restart_server().await;
    let pushes_before = proxy.pushes();
    let started = Instant::now();
    let report = client.sync_once(&desk).await.unwrap();
    eprintln!("drained in {:?}: {report:?}", started.elapsed());
    assert_eq!((report.pushed, report.rejected), (1000, 0), "{:?}", desk.rejections().unwrap().first());
    assert_eq!(proxy.pushes() - pushes_before, 2, "two pushes of 500");
    assert_eq!(desk.pending_count().unwrap(), 0);
    assert!(desk.rejections().unwrap().is_empty());

    let pg = env.pg().await;
    let rows = pg
        .query(
            "SELECT mutation_id, status FROM sync_mutation_results WHERE client_id = $1 ORDER BY mutation_id",
            &[&desk.client_id()],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1000);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!((r.get::<_, i64>(0), r.get::<_, String>(1).as_str()), (i as i64 + 1, "applied"));
    }
    // The change log replays the tour edits in the order they were made.
    let (id, _) = &expected_names[0];
    let names: Vec<String> = pg
        .query(
            "SELECT row->>'name' FROM sync_changes WHERE row_id = $1 AND bucket LIKE 'org:%:all' ORDER BY seq",
            &[id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        names,
        ["Week Tour 000", "Week Tour 000 rev 0", "Week Tour 000 rev 1", "Week Tour 000 rev 2", "Week Tour 000 rev 3"]
    );
    for (id, name) in &expected_names {
        let (got, status): (String, String) = {
            let r = pg.query_one("SELECT name, status FROM tours WHERE id = $1", &[id]).await.unwrap();
            (r.get(0), r.get(1))
        };
        assert_eq!((got.as_str(), status.as_str()), (name.as_str(), "archived"));
    }
    for (id, cap) in &expected_caps {
        let got: i32 = pg.query_one("SELECT capacity FROM schedules WHERE id = $1", &[id]).await.unwrap().get(0);
        assert_eq!(got as u32, *cap, "departure {id}: the last capacity set wins");
    }
    assert_desk_matches_server(&pg, &desk, "office").await;
}

const CHILD_DESK: &str = "TOURDESK_TEST_CHILD_DESK";
const CHILD_URL: &str = "TOURDESK_TEST_CHILD_URL";
const CHILD_PAGE: u32 = 25;

/// The desk process of `a_desk_killed_mid_pull_resumes_without_loss`: it syncs the database it is
/// given, in small pages, until that test kills it. Run on its own it does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the desk process of a_desk_killed_mid_pull_resumes_without_loss, which starts and kills it"]
async fn desk_process_pulling_until_killed() {
    let (Ok(path), Ok(url)) = (std::env::var(CHILD_DESK), std::env::var(CHILD_URL)) else { return };
    let desk = Store::open(std::path::Path::new(&path)).unwrap();
    client_at(&url).with_page_limit(CHILD_PAGE).sync_once(&desk).await.unwrap();
    // Getting here means the parent was too slow to kill us; it notices and fails.
}

/// A large first sync, in small pages, is cut short by killing the desk's process (SIGKILL:
/// no destructors, no rollback but SQLite's own). The database opens intact with the cursor of
/// the last page it committed, the work made before and during the pull is still there, and the
/// next round resumes from that cursor — downloading only what is left — and ends equal to
/// PostgreSQL with everything pushed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_killed_mid_pull_resumes_without_loss() {
    let env = Env::start().await;
    let token = sign_in(&env, demo_data::DEMO_OWNER_EMAIL).await;
    let (load, departures) = departure_load(2, 365, &["09:00:00", "15:00:00"]);
    push_all(&env.base_url(), &token, &load).await;
    let pg = env.pg().await;
    let last_seq: i64 =
        pg.query_one("SELECT max(seq) FROM sync_changes WHERE bucket LIKE 'org:%:all'", &[]).await.unwrap().get(0);
    assert!(last_seq as usize > departures, "{last_seq}");

    // The child talks through a proxy that slows every answer, so the pull takes long enough to
    // be interrupted reliably in the middle.
    let proxy = Proxy::start(env.addr).await;
    proxy.set_delay(Duration::from_millis(15));
    let path = env.desk_path("office");
    let desk = env.desk("office");
    env.client(demo_data::DEMO_OWNER_EMAIL).sign_in(&desk).await.unwrap();
    let before = new_tour("Before The Crash");
    let before_id = tour_id(&before);
    desk.mutate(&before).unwrap();
    desk.mutate(&update_tour(json!({"id": before_id, "status": "archived"}))).unwrap();

    let log = env.dir.path().join("child.log");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["desk_process_pulling_until_killed", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env(CHILD_DESK, &path)
        .env(CHILD_URL, proxy.base_url())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();

    let mut seen: Vec<u64> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut during_id = None;
    loop {
        assert!(Instant::now() < deadline, "the pull made no progress: {seen:?}");
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the desk process ended ({status}) before it was killed: {}",
                std::fs::read_to_string(&log).unwrap()
            );
        }
        if let Some(c) = peek_cursor(&path)
            && seen.last() != Some(&c)
        {
            seen.push(c);
        }
        let at = seen.last().copied().unwrap_or(0);
        if during_id.is_none() && at >= last_seq as u64 / 4 {
            // The user keeps working while the first sync runs.
            let during = new_tour("During The Pull");
            during_id = Some(tour_id(&during));
            desk.mutate(&during).unwrap();
        }
        if at >= last_seq as u64 / 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let at_kill = peek_cursor(&path).unwrap();
    assert!(at_kill < last_seq as u64, "killed mid-pull: cursor {at_kill} of {last_seq}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]) && at_kill >= *seen.last().unwrap(), "{seen:?} then {at_kill}");
    assert!(seen.len() >= 3, "several pages committed before the kill: {seen:?}");

    drop(desk);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
    }
    let desk = env.desk("office");
    // An owner's desk holds two buckets, `all` and `audit`, numbered from one counter.
    let cursors = desk.cursors().unwrap();
    assert_eq!(cursors.iter().find(|(b, _)| b.ends_with(":all")).map(|(_, c)| *c), Some(at_kill));
    let during_id = during_id.unwrap();
    // The work made before the pull was pushed (the round pushes first) and is in PostgreSQL;
    // whether the desk shows it before the rest of the pull arrives is
    // `pushed_work_stays_visible_while_a_paged_pull_is_incomplete`'s business.
    let status: String = pg.query_one("SELECT status FROM tours WHERE id = $1", &[&before_id]).await.unwrap().get(0);
    assert_eq!(status, "archived");
    assert!(desk.tours().unwrap().iter().any(|t| t.tour.id == during_id && t.pending));
    assert_eq!(desk.pending_count().unwrap(), 1, "the work made during the pull is still queued");

    let resumed = client_at(&env.base_url()).with_page_limit(CHILD_PAGE);
    let report = resumed.sync_once(&desk).await.unwrap();
    assert_eq!((report.pushed, report.rejected), (1, 0));
    let mut left: i64 = 0;
    for (bucket, cursor) in &cursors {
        let sql = "SELECT count(*) FROM sync_changes WHERE bucket = $1 AND seq > $2";
        left += pg.query_one(sql, &[bucket, &(*cursor as i64)]).await.unwrap().get::<_, i64>(0);
    }
    assert_eq!(report.pulled, left as u64, "resumed from the committed cursor, not from the start");
    let new_last: i64 = pg
        .query_one("SELECT max(seq) FROM sync_changes WHERE bucket LIKE 'org:%:all' OR bucket LIKE 'org:%:audit'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(desk.cursors().unwrap().values().copied().max(), Some(new_last as u64));
    assert_eq!(desk.pending_count().unwrap(), 0);
    assert!(desk.rejections().unwrap().is_empty());
    assert!(desk.tours().unwrap().iter().all(|t| !t.pending));
    assert_desk_matches_server(&pg, &desk, "office").await;
    let audit_sql = "SELECT count(*) FROM audit_logs WHERE entity_id = $1";
    assert_eq!(count(&pg, audit_sql, &before_id).await, 2);
    assert_eq!(count(&pg, audit_sql, &during_id).await, 1);
    let results_sql = "SELECT count(*) FROM sync_mutation_results WHERE client_id = $1";
    assert_eq!(count(&pg, results_sql, &desk.client_id()).await, 3);
}

/// A round pushes, then pulls in pages. Once the push is answered the outbox entries are
/// settled, but the rows they made arrive only on the pull's last pages; in between, the desk
/// must keep showing that work (pending) rather than the server's older state. Here the push
/// step and one incomplete page are done exactly as `SyncClient::sync_once` does them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_work_stays_visible_while_a_paged_pull_is_incomplete() {
    let env = Env::start().await;
    let desk = env.desk("office");
    env.client(demo_data::DEMO_OWNER_EMAIL).sync_once(&desk).await.unwrap();
    let token = sign_in(&env, demo_data::DEMO_OWNER_EMAIL).await;
    // Someone else's work, so the next pull has more than one page.
    push_all(&env.base_url(), &token, &[new_tour("Elsewhere One"), new_tour("Elsewhere Two")]).await;

    let mine = new_tour("Mine, Already Pushed");
    let mine_id = tour_id(&mine);
    desk.mutate(&mine).unwrap();
    let push = tourdesk_domain::protocol::PushRequest {
        client_id: desk.client_id(),
        schema_version: tourdesk_domain::protocol::SCHEMA_VERSION,
        mutations: desk.outbox(500).unwrap(),
    };
    let resp = tourdesk_tests::push_raw(&env.base_url(), &token, &push).await;
    desk.record_push(resp.last_mutation_id, &resp.results).unwrap();
    assert!(desk.tours().unwrap().iter().any(|t| t.tour.id == mine_id), "shown after the push");

    let pull = tourdesk_domain::protocol::PullRequest {
        client_id: desk.client_id(),
        schema_version: tourdesk_domain::protocol::SCHEMA_VERSION,
        cursors: desk.cursors().unwrap(),
        limit: Some(1),
        pending_from: desk.oldest_pending().unwrap(),
    };
    let page: tourdesk_domain::protocol::PullResponse = reqwest::Client::new()
        .post(format!("{}/sync/v1/pull", env.base_url()))
        .bearer_auth(&token)
        .json(&pull)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!page.complete);
    desk.apply_pull(&page).unwrap();
    assert!(
        desk.tours().unwrap().iter().any(|t| t.tour.id == mine_id),
        "a tour the server has accepted vanished from the desk in the middle of a pull"
    );
}

/// Writes mutations into a desk's outbox as another version of the app would have queued them,
/// behind the store's back, and moves its id counter on.
fn queue_raw(path: &std::path::Path, first_id: u64, mutations: &[(&str, serde_json::Value)]) {
    let mut conn = rusqlite::Connection::open(path).unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    let tx = conn.transaction().unwrap();
    let now = chrono::Utc::now();
    for (i, (name, args)) in mutations.iter().enumerate() {
        let id = first_id + i as u64;
        tx.execute(
            "INSERT INTO outbox (mutation_id, name, args, hlc, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![
                id,
                name,
                args.to_string(),
                format!("{:013}-{id:08}-x", now.timestamp_millis()),
                now.to_rfc3339()
            ],
        )
        .unwrap();
    }
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('next_mutation_id', ?1)",
        [(first_id + mutations.len() as u64).to_string()],
    )
    .unwrap();
    tx.commit().unwrap();
}

/// Mutation names carry a version. A name this server has no handler for (one from an older or
/// a newer app) is refused as UNKNOWN_MUTATION, shown in the desk's inbox with what it was, and
/// the mutations queued after it still apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_mutation_versions_are_refused_visibly_and_do_not_block_the_queue() {
    let env = Env::start().await;
    let desk = env.desk("office");
    let client = env.client(demo_data::DEMO_OWNER_EMAIL);
    client.sync_once(&desk).await.unwrap();

    let first = new_tour("Versioned Walk");
    let id = tour_id(&first);
    assert_eq!(desk.mutate(&first).unwrap(), 1);
    let (v9, v0) = (new_tour("From The Future"), new_tour("From The Past"));
    queue_raw(&env.desk_path("office"), 2, &[("create_tour.v9", v9.args()), ("create_tour.v0", v0.args())]);
    assert_eq!(desk.mutate(&update_tour(json!({"id": id, "name": "Versioned Walk Renamed"}))).unwrap(), 4);
    assert_eq!(desk.pending_count().unwrap(), 4);

    let report = client.sync_once(&desk).await.unwrap();
    assert_eq!((report.pushed, report.rejected), (4, 2));
    assert_eq!(desk.pending_count().unwrap(), 0);
    let inbox = desk.rejections().unwrap();
    let seen: Vec<_> = inbox.iter().map(|o| (o.mutation_id, o.name.as_str(), o.code.as_deref())).collect();
    assert_eq!(
        seen,
        [(2, "create_tour.v9", Some("UNKNOWN_MUTATION")), (3, "create_tour.v0", Some("UNKNOWN_MUTATION"))]
    );
    assert_eq!(inbox[0].args["name"], "From The Future");

    let pg = env.pg().await;
    let name: String = pg.query_one("SELECT name FROM tours WHERE id = $1", &[&id]).await.unwrap().get(0);
    assert_eq!(name, "Versioned Walk Renamed", "the mutation queued after the unknown ones applied");
    for m in [&v9, &v0] {
        assert_eq!(count(&pg, "SELECT count(*) FROM tours WHERE id = $1", &tour_id(m)).await, 0);
    }
    let statuses: Vec<(i64, String, Option<String>)> = pg
        .query(
            "SELECT mutation_id, status, code FROM sync_mutation_results WHERE client_id = $1 ORDER BY mutation_id",
            &[&desk.client_id()],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        statuses,
        [
            (1, "applied".to_string(), None),
            (2, "rejected".to_string(), Some("UNKNOWN_MUTATION".to_string())),
            (3, "rejected".to_string(), Some("UNKNOWN_MUTATION".to_string())),
            (4, "applied".to_string(), None),
        ]
    );
    assert_eq!(
        desk.tours().unwrap().iter().find(|t| t.tour.id == id).map(|t| (t.tour.name.as_str(), t.pending)),
        Some(("Versioned Walk Renamed", false))
    );
}

mod first_schema {
    refinery::embed_migrations!("../migrations/sqlite");
}

/// A desk database made by the first released schema (only V1 migrated, whatever later
/// migrations exist now), holding queued work, opens with the current code: migrations run,
/// the client id and the outbox survive, and the queue is pushed as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_database_of_the_first_schema_keeps_its_outbox() {
    let env = Env::start().await;
    // Who the desk was signed in as, in the form the first version stored it.
    let scratch = env.desk("scratch");
    let session = env.client(demo_data::DEMO_OWNER_EMAIL).sign_in(&scratch).await.unwrap();
    drop(scratch);

    let path = env.desk_path("old");
    let client_id = uuid::Uuid::new_v4().to_string();
    let queued = new_tour("Kept Across Versions");
    let id = tour_id(&queued);
    {
        let mut conn = rusqlite::Connection::open(&path).unwrap();
        let report =
            first_schema::migrations::runner().set_target(refinery::Target::Version(1)).run(&mut conn).unwrap();
        assert_eq!(report.applied_migrations().iter().map(|m| m.version()).collect::<Vec<_>>(), [1]);
        conn.execute("INSERT INTO meta (key, value) VALUES ('client_id', ?1)", [&client_id]).unwrap();
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('session', ?1)",
            [serde_json::to_string(&session).unwrap()],
        )
        .unwrap();
    }
    queue_raw(
        &path,
        1,
        &[
            ("create_tour.v1", queued.args()),
            ("update_tour.v1", json!({"id": id, "meeting_point": "Under the clock tower"})),
        ],
    );

    let desk = env.desk("old");
    assert_eq!(desk.client_id(), client_id, "the client id survives the upgrade");
    let outbox = desk.outbox(10).unwrap();
    assert_eq!(
        outbox.iter().map(|m| (m.id, m.name.as_str())).collect::<Vec<_>>(),
        [(1, "create_tour.v1"), (2, "update_tour.v1")]
    );
    assert_eq!(outbox[0].args, queued.args());
    // New work continues the old numbering.
    let more = update_tour(json!({"id": id, "short_description": "Added after the upgrade"}));

    let report = env.client(demo_data::DEMO_OWNER_EMAIL).sync_once(&desk).await.unwrap();
    assert_eq!((report.pushed, report.rejected), (2, 0), "{:?}", desk.rejections().unwrap());
    assert_eq!(desk.mutate(&more).unwrap(), 3);
    env.client(demo_data::DEMO_OWNER_EMAIL).sync_once(&desk).await.unwrap();
    let pg = env.pg().await;
    let row = pg.query_one("SELECT meeting_point, short_description FROM tours WHERE id = $1", &[&id]).await.unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("Under the clock tower".into(), "Added after the upgrade".into())
    );
    let statuses: Vec<String> = pg
        .query("SELECT status FROM sync_mutation_results WHERE client_id = $1 ORDER BY mutation_id", &[&client_id])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(statuses, ["applied", "applied", "applied"]);
    assert_eq!(desk.pending_count().unwrap(), 0);
    assert_eq!(desk.rejections().unwrap().iter().map(|o| o.status).collect::<Vec<OutcomeStatus>>(), []);
}

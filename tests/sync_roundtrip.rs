//! The walking skeleton's slice across every tier but the window: a desk pulls the demo
//! organization, works offline while the server is down, survives a restart, and its work
//! reaches PostgreSQL exactly once — even when a push is retried after a lost response.
#![allow(clippy::unwrap_used)]

use tourdesk_domain::mutation::Mutation;
use tourdesk_domain::protocol::{EntityKind, MutationEnvelope, PushRequest, PushResponse, SCHEMA_VERSION};
use tourdesk_local_store::{Store, SyncError};
use tourdesk_sync_server::demo_data;
use tourdesk_tests::{Env, new_tour, push_raw, sign_in, tour_id};

async fn count(env: &Env, sql: &str, id: &str) -> i64 {
    env.pg().await.query_one(sql, &[&id]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_create_survives_restart_and_reaches_postgres_once() {
    let mut env = Env::start().await;
    let desk = env.desk("office");
    let client = env.client(demo_data::DEMO_OWNER_EMAIL);

    // First contact: the whole demo catalogue arrives.
    let report = client.sync_once(&desk).await.unwrap();
    assert!(report.pulled > 0);
    // What the desk tells its window to reload.
    for kind in [EntityKind::Tour, EntityKind::PricingTier, EntityKind::Departure, EntityKind::Booking] {
        assert!(report.touched.contains(&kind), "{kind:?} not in {:?}", report.touched);
    }
    let tours = desk.tours().unwrap();
    assert_eq!(tours.len(), 3, "{tours:?}");
    assert!(tours.iter().all(|t| !t.pending));
    let kyoto = tours.iter().find(|t| t.tour.slug == "kyoto-temples-at-dawn").unwrap();
    let departures = desk.departures(&kyoto.tour.id).unwrap();
    assert_eq!(departures.len(), 14);
    let d = &departures[0];
    assert_eq!(d.seats_left, d.departure.capacity - d.departure.booked_count);
    assert_eq!(desk.departure(&d.departure.id).unwrap().unwrap(), *d);

    // The server goes away; the desk keeps working.
    env.stop_server().await;
    let m = new_tour("Harbour Lights Walk");
    let tour_id = tour_id(&m);
    desk.mutate(&m).unwrap();
    let shown = desk.tours().unwrap().into_iter().find(|t| t.tour.id == tour_id).unwrap();
    assert!(shown.pending, "a tour made offline is marked pending sync");
    let err = client.sync_once(&desk).await.unwrap_err();
    assert!(matches!(err, SyncError::Offline(_)) && err.is_transient(), "{err:?}");
    assert_eq!(desk.pending_count().unwrap(), 1, "a failed push loses nothing");

    // The desk restarts: everything is still there.
    let client_id = desk.client_id().to_string();
    drop(desk);
    let desk = env.desk("office");
    assert_eq!(desk.client_id(), client_id);
    assert_eq!(desk.pending_count().unwrap(), 1);
    assert!(desk.tours().unwrap().iter().any(|t| t.tour.id == tour_id && t.pending));

    // The server is back: the tour is pushed, lands in PostgreSQL, and comes back settled.
    env.restart_server().await;
    let report = client.sync_once(&desk).await.unwrap();
    assert_eq!((report.pushed, report.rejected), (1, 0));
    assert!(report.touched.contains(&EntityKind::Tour), "the tour came back settled: {:?}", report.touched);
    assert_eq!(desk.pending_count().unwrap(), 0);
    let settled = desk.tours().unwrap().into_iter().find(|t| t.tour.id == tour_id).unwrap();
    assert!(!settled.pending);
    assert_eq!(settled.tour.slug, "harbour-lights-walk");
    assert_eq!(count(&env, "SELECT count(*) FROM tours WHERE id = $1", &tour_id).await, 1);

    // The same push again, as a desk would send it after losing the response: nothing changes.
    let retry = PushRequest {
        client_id: client_id.clone(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![MutationEnvelope { id: 1, name: m.name().into(), args: m.args(), hlc: "0".into() }],
    };
    // The client id is bound to the owner; this token is the owner's too.
    let resp = raw_push(&env, &retry).await;
    assert_eq!(resp.last_mutation_id, 1);
    // Skipped, not re-run: the answer is the stored verdict, and nothing new is written.
    assert_eq!(resp.results.len(), 1, "{resp:?}");
    assert_eq!((resp.results[0].id, resp.results[0].status), (1, tourdesk_domain::protocol::OutcomeStatus::Applied));
    assert_eq!(count(&env, "SELECT count(*) FROM tours WHERE id = $1", &tour_id).await, 1);
    assert_eq!(count(&env, "SELECT count(*) FROM audit_logs WHERE entity_id = $1", &tour_id).await, 1);
    assert_eq!(count(&env, "SELECT count(*) FROM sync_mutation_results WHERE client_id = $1", &client_id).await, 1);
}

/// Pushes behind the desk's back, signed in as the demo owner.
async fn raw_push(env: &Env, req: &PushRequest) -> PushResponse {
    let token = sign_in(env, demo_data::DEMO_OWNER_EMAIL).await;
    push_raw(&env.base_url(), &token, req).await
}

/// A push whose response is lost: the server committed, the desk never heard. The desk pushes
/// the same mutation again on its next round; it must be skipped and the desk must settle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_push_response_is_retried_without_duplication() {
    let env = Env::start().await;
    let desk = env.desk("office");
    let client = env.client(demo_data::DEMO_OWNER_EMAIL);
    client.sync_once(&desk).await.unwrap();

    let m = new_tour("Night Market Crawl");
    let tour_id = tour_id(&m);
    desk.mutate(&m).unwrap();
    // Deliver the outbox behind the desk's back, as if the response had been lost.
    let req = PushRequest {
        client_id: desk.client_id(),
        schema_version: SCHEMA_VERSION,
        mutations: desk.outbox(10).unwrap(),
    };
    let first = raw_push(&env, &req).await;
    assert_eq!(first.results.len(), 1);
    assert_eq!(desk.pending_count().unwrap(), 1, "the desk has not heard back");

    let report = client.sync_once(&desk).await.unwrap();
    assert_eq!((report.pushed, report.rejected), (1, 0), "the stored verdict, not a second run");
    assert_eq!(desk.pending_count().unwrap(), 0, "the pull settled the mutation");
    assert!(desk.tours().unwrap().iter().any(|t| t.tour.id == tour_id && !t.pending));
    assert_eq!(count(&env, "SELECT count(*) FROM tours WHERE id = $1", &tour_id).await, 1);
    assert_eq!(count(&env, "SELECT count(*) FROM audit_logs WHERE entity_id = $1", &tour_id).await, 1);
}

/// Two desks create tours with the same URL name while apart; the server keeps the first and
/// rejects the second, and the loser sees why while its optimistic row disappears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_mutation_is_shown_and_its_row_rolled_back() {
    let env = Env::start().await;
    let (a, b) = (env.desk("a"), env.desk("b"));
    let client_a = env.client(demo_data::DEMO_OWNER_EMAIL);
    let client_b = env.client(demo_data::DEMO_OWNER_EMAIL);
    client_a.sync_once(&a).await.unwrap();
    client_b.sync_once(&b).await.unwrap();

    a.mutate(&new_tour("Sunset Kayak")).unwrap();
    let loser = new_tour("Sunset Kayak");
    let loser_id = tour_id(&loser);
    b.mutate(&loser).unwrap();
    assert!(b.tours().unwrap().iter().any(|t| t.tour.id == loser_id));

    client_a.sync_once(&a).await.unwrap();
    let report = client_b.sync_once(&b).await.unwrap();
    assert_eq!(report.rejected, 1);
    let rejected = b.rejections().unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].code.as_deref(), Some("CONFLICT"));
    assert_eq!(rejected[0].name, "create_tour.v1");
    assert_eq!(rejected[0].args["name"], "Sunset Kayak");
    let tours = b.tours().unwrap();
    assert!(!tours.iter().any(|t| t.tour.id == loser_id), "the rejected row is gone");
    assert_eq!(tours.iter().filter(|t| t.tour.slug == "sunset-kayak").count(), 1, "desk b now has a's tour");
    assert!(b.acknowledge(rejected[0].mutation_id).unwrap());
    assert!(b.rejections().unwrap().is_empty());
    assert_eq!(count(&env, "SELECT count(*) FROM tours WHERE id = $1", &loser_id).await, 0);
}

/// An expired token is replaced by signing in again, without losing the queued work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_signs_in_again() {
    let env = Env::start().await;
    let desk = env.desk("office");
    let client = env.client(demo_data::DEMO_OWNER_EMAIL);
    client.sync_once(&desk).await.unwrap();
    env.pg().await.execute("UPDATE staff_sessions SET expires_at = now() - interval '1 second'", &[]).await.unwrap();
    desk.mutate(&new_tour("Cliff Path Hike")).unwrap();
    client.sync_once(&desk).await.unwrap();
    assert_eq!(desk.pending_count().unwrap(), 0);
}

/// Bad credentials are a clear, permanent error and leave the queue intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_reported_and_loses_nothing() {
    let env = Env::start().await;
    let desk: Store = env.desk("office");
    env.client(demo_data::DEMO_OWNER_EMAIL).sync_once(&desk).await.unwrap();
    desk.mutate(&new_tour("Castle Ghost Walk")).unwrap();
    // The desk's stored refresh token would carry it without any password; revoked, the
    // password is all that is left.
    env.pg().await.execute("UPDATE staff_devices SET revoked_at = now()", &[]).await.unwrap();
    let bad = tourdesk_local_store::SyncClient::new(
        &env.base_url(),
        tourdesk_local_store::Credentials {
            organization: demo_data::DEMO_ORG_SLUG.into(),
            email: demo_data::DEMO_OWNER_EMAIL.into(),
            password: "not the password".into(),
            device: "x".into(),
        },
    )
    .unwrap();
    let err = bad.sync_once(&desk).await.unwrap_err();
    assert!(matches!(err, SyncError::Unauthorized(_)) && !err.is_transient(), "{err:?}");
    assert_eq!(desk.pending_count().unwrap(), 1);
}

/// A rejection whose push response was lost still reaches the desk's inbox: the retried push is
/// skipped as a duplicate, but its stored verdict comes back with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_rejection_still_reaches_the_inbox() {
    let env = Env::start().await;
    let (a, b) = (env.desk("a"), env.desk("b"));
    let (client_a, client_b) = (env.client(demo_data::DEMO_OWNER_EMAIL), env.client(demo_data::DEMO_OWNER_EMAIL));
    client_a.sync_once(&a).await.unwrap();
    client_b.sync_once(&b).await.unwrap();
    a.mutate(&new_tour("Sunset Kayak")).unwrap();
    client_a.sync_once(&a).await.unwrap();
    // B, not yet aware of A's tour, makes the same one; its push is refused but the answer is lost.
    b.mutate(&new_tour("Sunset Kayak")).unwrap();
    let req =
        PushRequest { client_id: b.client_id(), schema_version: SCHEMA_VERSION, mutations: b.outbox(10).unwrap() };
    assert_eq!(raw_push(&env, &req).await.results[0].code.as_deref(), Some("CONFLICT"));
    assert_eq!(b.pending_count().unwrap(), 1);

    let report = client_b.sync_once(&b).await.unwrap();
    assert_eq!(report.rejected, 1, "the duplicate's stored verdict came back");
    let inbox = b.rejections().unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!((inbox[0].code.as_deref(), inbox[0].args["name"].as_str()), (Some("CONFLICT"), Some("Sunset Kayak")));
    assert_eq!(b.pending_count().unwrap(), 0);
}

/// Small pull pages: the first sync arrives in many pages and ends identical.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paged_initial_sync_brings_everything() {
    let env = Env::start().await;
    let desk = env.desk("office");
    let client = env.client(demo_data::DEMO_OWNER_EMAIL).with_page_limit(5);
    let report = client.sync_once(&desk).await.unwrap();
    // An owner's desk receives the organization's `all` and `audit` buckets; changes also fan out
    // to others.
    let total: i64 = env
        .pg()
        .await
        .query_one("SELECT count(*) FROM sync_changes WHERE bucket LIKE 'org:%:all' OR bucket LIKE 'org:%:audit'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(report.pulled, total as u64);
    let tours = desk.tours().unwrap();
    assert_eq!(tours.len(), 3);
    for t in &tours {
        assert_eq!(
            desk.departures(&t.tour.id).unwrap().len(),
            if t.tour.slug == "alfama-old-town-walk" { 28 } else { 14 }
        );
    }
}

/// Edits go through the same mutators: a tour made on the desk is published (draft → active)
/// and a departure's capacity raised; both reach PostgreSQL, with an audit row each. A kind of
/// change this server cannot store yet is refused visibly, and the queue moves on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_replay_on_the_server_and_unknown_mutations_are_refused_visibly() {
    let env = Env::start().await;
    let desk = env.desk("office");
    let client = env.client(demo_data::DEMO_OWNER_EMAIL);
    client.sync_once(&desk).await.unwrap();
    let m = new_tour("Bay Lights Cruise");
    let tour_id = tour_id(&m);
    desk.mutate(&m).unwrap();
    // Publishing needs something to sell: a variant and a price.
    let variant = uuid::Uuid::new_v4().to_string();
    let sellable = [
        ("create_variant.v1", serde_json::json!({"id": variant, "tour_id": tour_id, "name": "Evening"})),
        (
            "upsert_pricing_tier.v2",
            serde_json::json!({"id": uuid::Uuid::new_v4().to_string(), "tour_id": tour_id, "name": "Adult",
                               "base_price": {"amount": 4000, "currency": "EUR"}}),
        ),
    ];
    for (name, args) in sellable {
        desk.mutate(&Mutation::decode(name, &args).unwrap()).unwrap();
    }
    let publish = Mutation::decode("update_tour.v1", &serde_json::json!({"id": tour_id, "status": "active"})).unwrap();
    desk.mutate(&publish).unwrap();
    assert!(desk.tours().unwrap().iter().any(|t| t.tour.id == tour_id && t.tour.status.as_str() == "active"));

    let kyoto = desk.tours().unwrap().into_iter().find(|t| t.tour.slug == "kyoto-temples-at-dawn").unwrap();
    let dep = desk.departures(&kyoto.tour.id).unwrap().remove(0).departure;
    let raise = Mutation::decode(
        "set_departure_capacity.v1",
        &serde_json::json!({"departure_id": dep.id, "capacity": dep.capacity + 4}),
    )
    .unwrap();
    desk.mutate(&raise).unwrap();
    assert_eq!(desk.departure(&dep.id).unwrap().unwrap().departure.capacity, dep.capacity + 4);

    let report = client.sync_once(&desk).await.unwrap();
    assert_eq!((report.pushed, report.rejected), (5, 0), "{:?}", desk.rejections().unwrap());
    let pg = env.pg().await;
    let status: String = pg.query_one("SELECT status FROM tours WHERE id = $1", &[&tour_id]).await.unwrap().get(0);
    assert_eq!(status, "active");
    let cap: i32 = pg.query_one("SELECT capacity FROM schedules WHERE id = $1", &[&dep.id]).await.unwrap().get(0);
    assert_eq!(cap as u32, dep.capacity + 4);
    assert_eq!(count(&env, "SELECT count(*) FROM audit_logs WHERE entity_id = $1", &tour_id).await, 2);
    assert_eq!(count(&env, "SELECT count(*) FROM audit_logs WHERE entity_id = $1", &dep.id).await, 1);

    // A mutation this server does not know (a newer desk's version): refused with a clear code,
    // and the change queued after it still applies.
    let unknown = serde_json::json!({"departure_id": dep.id});
    let later = new_tour("After The Booking");
    let later_id = tourdesk_tests::tour_id(&later);
    let req = PushRequest {
        client_id: uuid::Uuid::new_v4().to_string(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![
            MutationEnvelope { id: 1, name: "reassign_guide.v9".into(), args: unknown, hlc: "0".into() },
            MutationEnvelope { id: 2, name: later.name().into(), args: later.args(), hlc: "0".into() },
        ],
    };
    let resp = raw_push(&env, &req).await;
    assert_eq!(resp.last_mutation_id, 2, "{resp:?}");
    assert_eq!(resp.results[0].status, tourdesk_domain::protocol::OutcomeStatus::Rejected);
    assert_eq!(resp.results[0].code.as_deref(), Some("UNKNOWN_MUTATION"), "{resp:?}");
    assert_eq!(resp.results[1].status, tourdesk_domain::protocol::OutcomeStatus::Applied);
    assert_eq!(count(&env, "SELECT count(*) FROM tours WHERE id = $1", &later_id).await, 1);
}

/// Live updates: desk B follows the server's change stream; when desk A's edit is committed, B
/// is poked within moments and its next pull shows the edit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_pokes_other_desks_live() {
    let mut env = Env::start().await;
    let (a, b) = (env.desk("a"), std::sync::Arc::new(env.desk("b")));
    let (client_a, client_b) =
        (env.client(demo_data::DEMO_OWNER_EMAIL), std::sync::Arc::new(env.client(demo_data::DEMO_OWNER_EMAIL)));
    client_a.sync_once(&a).await.unwrap();
    client_b.sync_once(&b).await.unwrap();

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (bw, cw) = (b.clone(), client_b.clone());
    let watcher = tokio::spawn(async move {
        cw.watch(&bw, |seq| {
            let _ = tx.send(seq);
        })
        .await
    });
    // The server greets a new stream with the current sequence: from then on B is subscribed.
    let greeting =
        tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv()).await.expect("a greeting").unwrap();

    let m = new_tour("Lantern Festival Walk");
    let id = tour_id(&m);
    a.mutate(&m).unwrap();
    let started = std::time::Instant::now();
    client_a.sync_once(&a).await.unwrap();
    let seq = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv()).await.expect("a poke").unwrap();
    assert!(seq > greeting, "{seq} after {greeting}");
    client_b.sync_once(&b).await.unwrap();
    assert!(b.tours().unwrap().iter().any(|t| t.tour.id == id));
    eprintln!("edit on A visible on B after {:?}", started.elapsed());

    // A graceful shutdown ends open streams instead of waiting for them forever.
    tokio::time::timeout(std::time::Duration::from_secs(10), env.stop_server())
        .await
        .expect("shutdown with a live stream");
    let ended = tokio::time::timeout(std::time::Duration::from_secs(10), watcher).await.expect("the stream ended");
    assert!(ended.unwrap().is_ok());
}

/// A push overlaps each mutation's write with the next one's reads. When such a write fails
/// after the next mutation has started (here: a tour id another organization already holds,
/// which the upsert refuses to take over), the push is replayed one write at a time: the
/// failed mutation alone is refused, the ones around it apply, and nothing of the refused one
/// reaches the tables, the audit log or the change log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_that_fails_behind_the_next_mutation_is_refused_alone() {
    let env = Env::start().await;
    let pg = env.pg().await;
    let (other, taken) = (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string());
    pg.execute(
        "INSERT INTO organizations (id, name, slug, business_email) VALUES ($1, 'Other Tours', 'other', 'ops@other.test')",
        &[&other],
    )
    .await
    .unwrap();
    pg.execute(
        "INSERT INTO tours (id, organization_id, name, slug, duration_minutes, default_capacity, category, timezone)
         VALUES ($1, $2, 'Theirs', 'theirs', 60, 10, 'walking', 'UTC')",
        &[&taken, &other],
    )
    .await
    .unwrap();

    let first = new_tour("Harbour Walk");
    let first_id = tour_id(&first);
    let mut grab = new_tour("Not Yours").args();
    grab["id"] = serde_json::json!(taken);
    let rename = serde_json::json!({"id": first_id, "name": "Harbour Walk at Dusk"});
    let envelope = |id, name: &str, args| MutationEnvelope { id, name: name.into(), args, hlc: "0".into() };
    let req = PushRequest {
        client_id: uuid::Uuid::new_v4().to_string(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![
            envelope(1, first.name(), first.args()),
            envelope(2, "create_tour.v1", grab),
            envelope(3, "update_tour.v1", rename),
        ],
    };
    let resp = raw_push(&env, &req).await;
    assert_eq!(resp.last_mutation_id, 3, "{resp:?}");
    let codes: Vec<Option<&str>> = resp.results.iter().map(|r| r.code.as_deref()).collect();
    assert_eq!(codes, [None, Some("CONFLICT"), None], "{resp:?}");

    let name: String = pg.query_one("SELECT name FROM tours WHERE id = $1", &[&first_id]).await.unwrap().get(0);
    assert_eq!(name, "Harbour Walk at Dusk");
    let theirs: (String, String) = pg
        .query_one("SELECT name, organization_id FROM tours WHERE id = $1", &[&taken])
        .await
        .map(|r| (r.get(0), r.get(1)))
        .unwrap();
    assert_eq!(theirs, ("Theirs".to_string(), other));
    // Two changes, each logged for the office bucket and the guides' reference bucket.
    assert_eq!(count(&env, "SELECT count(*) FROM sync_changes WHERE row_id = $1", &first_id).await, 4);
    assert_eq!(count(&env, "SELECT count(*) FROM audit_logs WHERE entity_id = $1", &first_id).await, 2);
    assert_eq!(count(&env, "SELECT count(*) FROM sync_changes WHERE row_id = $1", &taken).await, 0);
    assert_eq!(count(&env, "SELECT count(*) FROM audit_logs WHERE entity_id = $1", &taken).await, 0);

    // The same push again changes nothing and repeats the verdicts.
    let again = raw_push(&env, &req).await;
    assert_eq!(again.results, resp.results);
    assert_eq!(count(&env, "SELECT count(*) FROM sync_changes WHERE row_id = $1", &first_id).await, 4);
}

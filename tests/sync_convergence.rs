//! Convergence, as a property: three desks edit shared tours and departures while apart, in any
//! interleaving, with any desk syncing at any point; once every desk has synced twice, every
//! desk shows exactly what PostgreSQL holds. Shrinking finds the shortest interleaving that
//! breaks it (each case starts from fresh desks, so cases do not leak into each other).
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::json;
use tourdesk_domain::status::StateMachine;
use tourdesk_local_store::{Store, SyncClient};
use tourdesk_sync_server::demo_data;
use tourdesk_tests::harness::{desk_replica, mutation, server_replica};
use tourdesk_tests::{Env, new_tour, tour_id};

const DESKS: usize = 3;

#[derive(Debug, Clone)]
enum Field {
    Name(u8),
    Duration(u16),
    MeetingPoint(u8),
    Publish,
}

#[derive(Debug, Clone)]
enum Step {
    /// A new tour; names come from a small pool so two desks can clash on a URL name.
    Create {
        desk: usize,
        name: u8,
    },
    Update {
        desk: usize,
        tour: usize,
        field: Field,
    },
    Capacity {
        desk: usize,
        departure: usize,
        capacity: u32,
    },
    Sync {
        desk: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let desk = 0..DESKS;
    let field = prop_oneof![
        (0u8..4).prop_map(Field::Name),
        (15u16..600).prop_map(Field::Duration),
        (0u8..3).prop_map(Field::MeetingPoint),
        Just(Field::Publish),
    ];
    prop_oneof![
        1 => (desk.clone(), 0u8..3).prop_map(|(desk, name)| Step::Create { desk, name }),
        3 => (desk.clone(), 0usize..2, field).prop_map(|(desk, tour, field)| Step::Update { desk, tour, field }),
        2 => (desk.clone(), 0usize..3, 1u32..40).prop_map(|(desk, departure, capacity)| Step::Capacity { desk, departure, capacity }),
        3 => desk.prop_map(|desk| Step::Sync { desk }),
    ]
}

/// Three desks that have synced, with the tours and departures they share.
struct Desks {
    desks: Vec<Store>,
    clients: Vec<SyncClient>,
    shared: Vec<String>,
    departures: Vec<String>,
}

impl Desks {
    async fn fresh(env: &Env, set: usize) -> Desks {
        let desks: Vec<Store> = (0..DESKS).map(|i| env.desk(&format!("set{set}-desk{i}"))).collect();
        let clients: Vec<SyncClient> = (0..DESKS).map(|_| env.client(demo_data::DEMO_OWNER_EMAIL)).collect();
        // Two tours every desk knows, and three departures they share.
        clients[0].sync_once(&desks[0]).await.unwrap();
        let shared: Vec<String> = (0..2)
            .map(|i| {
                let m = new_tour(&format!("Shared {set} {i}"));
                desks[0].mutate(&m).unwrap();
                tour_id(&m)
            })
            .collect();
        for (d, c) in desks.iter().zip(&clients) {
            c.sync_once(d).await.unwrap();
        }
        let departures: Vec<String> = {
            let d = &desks[0];
            let mut all: Vec<_> = d
                .tours()
                .unwrap()
                .iter()
                .flat_map(|t| d.departures(&t.tour.id).unwrap())
                .map(|v| v.departure)
                .filter(|dep| !dep.status.is_terminal())
                .collect();
            all.sort_by(|a, b| a.id.cmp(&b.id));
            all.into_iter().take(3).map(|dep| dep.id).collect()
        };
        Desks { desks, clients, shared, departures }
    }
}

/// Runs one interleaving. Desks that converged are reused by the next case (fresh ones cost
/// three first syncs); after a failure the next case starts from fresh desks, so shrinking
/// never inherits a broken state.
async fn run_case(
    env: &Env,
    n: usize,
    kept: &std::sync::Mutex<Option<Desks>>,
    steps: &[Step],
) -> Result<(), TestCaseError> {
    let taken = kept.lock().unwrap().take();
    let set = match taken {
        Some(set) => set,
        None => Desks::fresh(env, n).await,
    };
    let Desks { desks, clients, shared, departures } = &set;
    {
        for s in steps {
            let (desk, m) = match s {
                Step::Sync { desk } => {
                    clients[*desk].sync_once(&desks[*desk]).await.unwrap();
                    continue;
                }
                Step::Create { desk, name } => (*desk, new_tour(&format!("Prop {n} {name}"))),
                Step::Update { desk, tour, field } => {
                    let mut args = json!({"id": shared[*tour]});
                    match field {
                        Field::Name(v) => args["name"] = json!(format!("Shared renamed {n} {v}")),
                        Field::Duration(v) => args["duration_minutes"] = json!(v),
                        Field::MeetingPoint(v) => args["meeting_point"] = json!(format!("Corner {v}")),
                        Field::Publish => args["status"] = json!("active"),
                    }
                    (*desk, mutation("update_tour.v1", args))
                }
                Step::Capacity { desk, departure, capacity } => (
                    *desk,
                    mutation(
                        "set_departure_capacity.v1",
                        json!({"departure_id": departures[departure % departures.len()], "capacity": capacity}),
                    ),
                ),
            };
            // What the desk itself refuses (a clashing name it already knows, a capacity below
            // the seats sold) is never queued; that is the "where valid" of the property.
            let _ = desks[desk].mutate(&m);
        }

        for _ in 0..2 {
            for (d, c) in desks.iter().zip(clients.iter()) {
                c.sync_once(d).await.unwrap();
            }
        }
        let pg = env.pg().await;
        let org = desks[0].session().unwrap().unwrap().organization_id;
        let server = server_replica(&pg, &org).await;
        for (i, d) in desks.iter().enumerate() {
            prop_assert_eq!(d.pending_count().unwrap(), 0, "desk {} still has queued work", i);
            let local = desk_replica(d);
            prop_assert_eq!(local.tours.len(), server.tours.len(), "desk {} tour count", i);
            prop_assert_eq!(local.departures.len(), server.departures.len(), "desk {} departure count", i);
            for (l, s) in local.tours.iter().zip(&server.tours) {
                prop_assert_eq!(l, s, "desk {}", i);
            }
            for (l, s) in local.departures.iter().zip(&server.departures) {
                prop_assert_eq!(l, s, "desk {}", i);
            }
        }
    }
    *kept.lock().unwrap() = Some(set);
    Ok(())
}

#[test]
fn offline_edits_on_three_desks_converge_after_two_rounds() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let env = rt.block_on(Env::start());
    let cases: u32 = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(16);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let n = std::sync::atomic::AtomicUsize::new(0);
    let kept = std::sync::Mutex::new(None);
    let result = runner.run(&proptest::collection::vec(step(), 1..12), |steps| {
        let n = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        rt.block_on(run_case(&env, n, &kept, &steps))
    });
    rt.block_on(async move {
        let mut env = env;
        env.stop_server().await;
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

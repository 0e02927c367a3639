//! The audit trail on the server: every change's audit row is logged to `org:{id}:audit`, which
//! only owners' and admins' devices pull (never a manager's or a guide's, not even by asking for
//! it), and the application's role may append to `audit_logs` but never change or delete a row.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_postgres::error::SqlState;
use tourdesk_domain::audit::AuditRecord;
use tourdesk_domain::protocol::{
    ChangeRecord, EntityKind, MutationEnvelope, PullResponse, PushRequest, SCHEMA_VERSION, audit_bucket, org_bucket,
};
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::{as_app, connect};
use tourdesk_tests::{Env, new_tour, push_raw, sign_in};

async fn pull(env: &Env, token: &str, cursors: &BTreeMap<String, u64>) -> (StatusCode, Value) {
    let body = json!({"client_id": uuid::Uuid::new_v4().to_string(), "schema_version": SCHEMA_VERSION,
                      "cursors": cursors, "limit": 5000});
    let resp = reqwest::Client::new()
        .post(format!("{}/sync/v1/pull", env.base_url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (resp.status(), resp.json().await.unwrap())
}

/// Everything a fresh device of this login pulls, by bucket, and the buckets it was told to drop.
async fn pull_all(
    env: &Env,
    token: &str,
    start: BTreeMap<String, u64>,
) -> (BTreeMap<String, Vec<ChangeRecord>>, Vec<String>) {
    let (mut cursors, mut got, mut removed) = (start, BTreeMap::<String, Vec<ChangeRecord>>::new(), Vec::new());
    loop {
        let (status, body) = pull(env, token, &cursors).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page: PullResponse = serde_json::from_value(body).unwrap();
        for b in page.removed_buckets {
            cursors.remove(&b);
            removed.push(b);
        }
        for p in page.buckets {
            cursors.insert(p.bucket.clone(), p.cursor);
            got.entry(p.bucket).or_default().extend(p.changes);
        }
        if page.complete {
            return (got, removed);
        }
    }
}

fn audit_rows(got: &BTreeMap<String, Vec<ChangeRecord>>) -> Vec<AuditRecord> {
    got.values()
        .flatten()
        .filter(|c| c.entity == EntityKind::AuditLog)
        .map(|c| serde_json::from_value(c.row.clone()).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_rows_reach_owner_desks_and_never_a_managers_or_a_guides() {
    let env = Env::start().await;
    let owner = sign_in(&env, demo_data::DEMO_OWNER_EMAIL).await;
    let tour = new_tour("Audited walk");
    let tour_id = tour.args()["id"].as_str().unwrap().to_string();
    let req = PushRequest {
        client_id: uuid::Uuid::new_v4().to_string(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![MutationEnvelope {
            id: 1,
            name: "create_tour.v1".into(),
            args: tour.args(),
            hlc: format!("{:013}-{:08}-test", chrono::Utc::now().timestamp_millis(), 0),
        }],
    };
    push_raw(&env.base_url(), &owner, &req).await;
    let org: String =
        env.pg().await.query_one("SELECT id FROM organizations WHERE slug = 'demo'", &[]).await.unwrap().get(0);

    let (got, removed) = pull_all(&env, &owner, BTreeMap::new()).await;
    assert!(removed.is_empty());
    assert_eq!(got.keys().cloned().collect::<Vec<_>>(), [org_bucket(&org), audit_bucket(&org)]);
    assert!(
        got[&audit_bucket(&org)].iter().all(|c| c.entity == EntityKind::AuditLog),
        "the audit bucket holds only audit rows"
    );
    assert!(got[&org_bucket(&org)].iter().all(|c| c.entity != EntityKind::AuditLog), "and org:all holds none");
    let audit = audit_rows(&got);
    let logged = env.scalar("SELECT count(*) FROM audit_logs", &[]).await;
    assert_eq!(
        i64::try_from(audit.len()).unwrap(),
        logged,
        "every audit row, the demo data's and account actions' too"
    );
    let created = audit.iter().find(|a| a.action == "create_tour.v1" && a.entity_id == tour_id).unwrap();
    assert_eq!(created.entity, "tour");
    assert_eq!(created.before, None);
    assert_eq!(created.after.as_ref().unwrap()["name"], "Audited walk");
    assert_eq!(created.actor_user_id.as_deref(), Some(created.actor.as_str()), "a staff member acted");
    let device = created.device_id.clone().expect("a pushed change names its device");
    let devices = env.scalar("SELECT count(*) FROM staff_devices WHERE id = $1", &[&device]).await;
    assert_eq!(devices, 1, "the device is the owner's registered device");

    for email in [demo_data::DEMO_MANAGER_EMAIL, demo_data::DEMO_GUIDE_EMAIL] {
        let token = sign_in(&env, email).await;
        let (got, _) = pull_all(&env, &token, BTreeMap::new()).await;
        assert!(!got.contains_key(&audit_bucket(&org)), "{email}: {:?}", got.keys());
        assert!(audit_rows(&got).is_empty(), "{email} received audit rows");
        // Asking for the bucket outright gets it taken away, not served.
        let (got, removed) = pull_all(&env, &token, BTreeMap::from([(audit_bucket(&org), 0)])).await;
        assert_eq!(removed, [audit_bucket(&org)], "{email}");
        assert!(audit_rows(&got).is_empty(), "{email} received audit rows when asking for them");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_role_appends_audit_rows_but_never_changes_or_deletes_one() {
    let env = Env::start().await;
    let owner = env.pg().await;
    let org: String = owner.query_one("SELECT id FROM organizations WHERE slug = 'demo'", &[]).await.unwrap().get(0);
    assert!(env.scalar("SELECT count(*) FROM audit_logs", &[]).await > 0, "the demo data left audit rows");
    let mut app = connect(&as_app(&env.db_url)).await.unwrap();
    let tx = app.transaction().await.unwrap();
    tx.execute("SELECT set_config('app.organization_id', $1, true)", &[&org]).await.unwrap();
    let seen: i64 = tx.query_one("SELECT count(*) FROM audit_logs", &[]).await.unwrap().get(0);
    assert!(seen > 0, "with its tenant the role reads the organization's audit rows");
    tx.execute(
        "INSERT INTO audit_logs (organization_id, actor, action, entity, entity_id, after)
         VALUES ($1, 'system:test', 'test.appended', 'tour', 't-x', '{}'::jsonb)",
        &[&org],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    for sql in [
        "UPDATE audit_logs SET action = 'rewritten'",
        "UPDATE audit_logs SET after = '{}'::jsonb WHERE action = 'test.appended'",
        "DELETE FROM audit_logs",
        "DELETE FROM audit_logs WHERE action = 'test.appended'",
        "TRUNCATE audit_logs",
    ] {
        let tx = app.transaction().await.unwrap();
        tx.execute("SELECT set_config('app.organization_id', $1, true)", &[&org]).await.unwrap();
        let e = tx.batch_execute(sql).await.unwrap_err();
        assert_eq!(e.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{sql}: {e}");
        tx.rollback().await.unwrap();
    }
    let rewritten = env.scalar("SELECT count(*) FROM audit_logs WHERE action = 'rewritten'", &[]).await;
    assert_eq!(rewritten, 0);
    assert_eq!(env.scalar("SELECT count(*) FROM audit_logs WHERE action = 'test.appended'", &[]).await, 1);
}

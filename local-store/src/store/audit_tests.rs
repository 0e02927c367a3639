//! The audit log on a desk: filled by pull from `org:{id}:audit`, read back by the audit
//! screen's filter query, and dropped with its bucket.

use chrono::{DateTime, Utc};
use serde_json::json;
use tourdesk_domain::audit::{AuditFilter, AuditRecord, NamedAudit};
use tourdesk_domain::protocol::{BucketPage, ChangeRecord, EntityKind, Op, PullResponse};

use super::*;
use crate::rows;

const ORG: &str = "org-1";
const AUDIT: &str = "org:org-1:audit";

fn session(role: Role) -> Session {
    test_support::session(role, "u-owner")
}

fn entry(
    id: u32,
    actor: &str,
    device: Option<&str>,
    action: &str,
    entity: &str,
    entity_id: &str,
    at: &str,
) -> AuditRecord {
    AuditRecord {
        id: id.to_string(),
        organization_id: ORG.into(),
        actor: actor.into(),
        actor_user_id: Some(actor.into()).filter(|a: &String| a.starts_with('u')),
        device_id: device.map(Into::into),
        action: action.into(),
        entity: entity.into(),
        entity_id: entity_id.into(),
        before: (id > 1).then(|| json!({"name": "Old town", "status": "draft"})),
        after: Some(json!({"name": "Old town walk", "status": "active"})),
        created_at: at.parse::<DateTime<Utc>>().unwrap(),
    }
}

fn page(entries: &[AuditRecord]) -> PullResponse {
    let changes: Vec<ChangeRecord> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| ChangeRecord {
            seq: i as u64 + 1,
            entity: EntityKind::AuditLog,
            id: e.id.clone(),
            op: Op::Put,
            row: serde_json::to_value(e).unwrap(),
        })
        .collect();
    let cursor = changes.len() as u64;
    PullResponse {
        buckets: vec![BucketPage { bucket: AUDIT.into(), changes, cursor, head: cursor }],
        complete: true,
        last_mutation_id: 0,
        results: vec![],
        removed_buckets: vec![],
    }
}

fn ids(v: Vec<AuditRecord>) -> Vec<String> {
    v.into_iter().map(|e| e.id).collect()
}

#[test]
fn pulled_audit_entries_read_back_through_every_filter_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("desk.sqlite3")).unwrap();
    s.save_session(&session(Role::Owner)).unwrap();
    assert!(s.audit_log(&AuditFilter::default()).unwrap().is_empty(), "nothing pulled yet");
    let all = [
        entry(1, "u-owner", Some("dev-a"), "create_tour.v1", "tour", "t-1", "2026-06-01T09:00:00Z"),
        entry(2, "u-owner", Some("dev-a"), "update_tour.v1", "tour", "t-1", "2026-06-01T23:59:59Z"),
        entry(3, "u-manager", Some("dev-b"), "update_booking.v1", "booking", "b-1", "2026-06-02T08:00:00Z"),
        entry(4, "website", None, "create_booking.v1", "booking", "b-2", "2026-06-03T12:00:00Z"),
    ];
    s.apply_pull(&page(&all)).unwrap();

    let q = |f: AuditFilter| ids(s.audit_log(&f.checked().unwrap()).unwrap());
    assert_eq!(q(AuditFilter::default()), ["4", "3", "2", "1"]);
    assert_eq!(s.audit_log(&AuditFilter::default()).unwrap()[2], all[1], "the row comes back as it was pulled");
    assert_eq!(q(AuditFilter { entity: Some("tour".into()), ..Default::default() }), ["2", "1"]);
    assert_eq!(
        q(AuditFilter { entity: Some("booking".into()), entity_id: Some("b-1".into()), ..Default::default() }),
        ["3"]
    );
    assert_eq!(q(AuditFilter { actor: Some("u-owner".into()), ..Default::default() }), ["2", "1"]);
    assert_eq!(q(AuditFilter { device_id: Some("dev-b".into()), ..Default::default() }), ["3"]);
    assert_eq!(q(AuditFilter { action: Some("create_booking.v1".into()), ..Default::default() }), ["4"]);
    assert_eq!(q(AuditFilter { entity_id: Some("t-1".into()), ..Default::default() }), ["2", "1"]);
    let day = |d: &str| Some(d.parse().unwrap());
    assert_eq!(q(AuditFilter { from: day("2026-06-01"), to: day("2026-06-01"), ..Default::default() }), ["2", "1"]);
    assert_eq!(q(AuditFilter { from: day("2026-06-02"), ..Default::default() }), ["4", "3"]);
    assert_eq!(q(AuditFilter { to: day("2026-06-02"), ..Default::default() }), ["3", "2", "1"]);
    assert_eq!(
        q(AuditFilter { actor: Some("u-owner".into()), action: Some("x".into()), ..Default::default() }),
        [] as [&str; 0]
    );
    assert_eq!(q(AuditFilter { limit: Some(2), ..Default::default() }), ["4", "3"]);

    let facets = s.audit_facets().unwrap();
    assert_eq!(facets.entities, ["booking", "tour"]);
    assert_eq!(facets.actors, ["u-manager", "u-owner", "website"]);
    assert_eq!(facets.devices, ["dev-a", "dev-b"]);
    assert_eq!(facets.actions.len(), 4);

    // Every filter is served by an index, not a scan of the table.
    let conn = s.conn();
    let plan: Vec<String> = conn
        .prepare(&format!(
            "EXPLAIN QUERY PLAN {}",
            rows::audit_log_query(&AuditFilter {
                entity: Some("tour".into()),
                entity_id: Some("t-1".into()),
                ..Default::default()
            })
        ))
        .unwrap()
        .query_map(rusqlite::named_params! {":org": ORG, ":entity": "tour", ":entity_id": "t-1", ":limit": 10}, |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(plan.iter().any(|p| p.contains("audit_log_entity_idx")), "{plan:?}");
    // One entity id alone, one action: each its own index.
    for (f, named, index) in [
        (
            AuditFilter { entity_id: Some("t-1".into()), ..Default::default() },
            (":entity_id", "t-1"),
            "audit_log_entity_id_idx",
        ),
        (
            AuditFilter { action: Some("create_booking.v1".into()), ..Default::default() },
            (":action", "create_booking.v1"),
            "audit_log_action_idx",
        ),
    ] {
        let params: [(&str, &dyn rusqlite::ToSql); 3] = [(":org", &ORG), (named.0, &named.1), (":limit", &10)];
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", rows::audit_log_query(&f)))
            .unwrap()
            .query_map(params.as_slice(), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(plan.iter().any(|p| p.contains(index)), "{plan:?}");
    }
}

#[test]
fn a_desk_that_loses_the_audit_bucket_drops_its_entries() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("desk.sqlite3")).unwrap();
    s.save_session(&session(Role::Admin)).unwrap();
    s.apply_pull(&page(&[entry(1, "u-owner", Some("dev-a"), "create_tour.v1", "tour", "t-1", "2026-06-01T09:00:00Z")]))
        .unwrap();
    assert_eq!(s.audit_log(&AuditFilter::default()).unwrap().len(), 1);
    // Demoted to manager: the server answers the bucket in removed_buckets.
    let mut gone = page(&[]);
    gone.buckets.clear();
    gone.removed_buckets = vec![AUDIT.into()];
    s.apply_pull(&gone).unwrap();
    assert!(s.audit_log(&AuditFilter::default()).unwrap().is_empty());
}

#[test]
fn an_entitys_history_names_its_staff_and_this_desk_and_leaves_out_who_it_cannot_name() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("desk.sqlite3")).unwrap();
    s.save_session(&session(Role::Owner)).unwrap();
    s.save_device_auth("dev-a", "refresh").unwrap();
    let mut by_manager = entry(2, "u-manager", Some("dev-b"), "update_tour.v1", "tour", "t-1", "2026-06-02T08:00:00Z");
    by_manager.after = Some(json!({"name": "Old town walk", "approved_by": "u-temp"}));
    // The manager was invited under their name; the temp has only ever written under their id.
    let mut invited =
        entry(3, "u-owner", Some("dev-a"), "staff.invited", "staff_user", "u-manager", "2026-05-01T08:00:00Z");
    invited.after = Some(json!({"email": "mia@example.com", "name": "Mia Manager", "role": "manager"}));
    let all = [
        entry(1, "u-owner", Some("dev-a"), "create_tour.v1", "tour", "t-1", "2026-06-01T09:00:00Z"),
        by_manager,
        invited,
        entry(4, "u-temp", Some("dev-c"), "update_booking.v1", "booking", "b-1", "2026-06-03T08:00:00Z"),
    ];
    s.apply_pull(&page(&all)).unwrap();

    let f = AuditFilter { entity: Some("tour".into()), entity_id: Some("t-1".into()), ..Default::default() };
    let h = s.named_audit_log(&f).unwrap();
    assert_eq!(ids(h.entries), ["2", "1"], "the tour's entries, newest first");
    let people: Vec<(&str, &str)> = h.people.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(people, [("u-manager", "Mia Manager"), ("u-owner", "Olivia")], "u-temp has no name here, not its id");
    assert_eq!(h.this_device.as_deref(), Some("dev-a"));

    // The invitation's row is found through the entity index, not a scan of the log.
    let conn = s.conn();
    let plan: Vec<String> = conn
        .prepare(
            "EXPLAIN QUERY PLAN SELECT json_extract(after, '$.name') FROM audit_log
              WHERE organization_id = ?1 AND entity = 'staff_user' AND entity_id = ?2 AND action = 'staff.invited'
              ORDER BY created_at DESC LIMIT 1",
        )
        .unwrap()
        .query_map(rusqlite::params![ORG, "u-manager"], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(plan.iter().any(|p| p.contains("audit_log_entity_idx")), "{plan:?}");
    drop(conn);

    // Signed out: no session, nothing to read.
    s.sign_out(false).unwrap();
    assert_eq!(s.named_audit_log(&f).unwrap(), NamedAudit::default());
}

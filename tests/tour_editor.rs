//! The tour editor across the tiers (issue 12, item 3): a tour with every detail, two variants
//! and three price tiers made on an owner's desk, published, replayed by the server with an
//! audit row per change and replicated to another desk; a publish made offline after another
//! desk took the tour's only variant off sale is rejected by the server with the reason; and
//! an older desk's `upsert_pricing_tier.v1` keeps the limits it did not know; two desks that
//! each take one of a published tour's last two variants off sale do not both win.
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use tourdesk_domain::protocol::OutcomeStatus;
use tourdesk_domain::status::TourStatus;
use tourdesk_local_store::{Store, SyncClient};
use tourdesk_sync_server::demo_data::DEMO_OWNER_EMAIL;
use tourdesk_tests::{Env, m};

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn synced(env: &Env, name: &str) -> (Store, SyncClient) {
    let desk = env.desk(name);
    let client = env.client(DEMO_OWNER_EMAIL);
    client.sync_once(&desk).await.unwrap();
    (desk, client)
}

/// A draft with every detail, two variants and three tiers, made on `desk`: `(tour, morning, private)`.
fn build_tour(desk: &Store) -> (String, String, String) {
    let (tour, morning, private) = (id(), id(), id());
    desk.mutate(&m(
        "create_tour.v1",
        json!({"id": tour, "name": format!("Harbour Lights {}", &tour[..8]), "duration_minutes": 90,
               "default_capacity": 12, "min_participants": 2, "category": "walking", "timezone": "Europe/Lisbon",
               "short_description": "The river at dusk", "full_description": "Two hours along the Tagus.",
               "meeting_point": "Cais do Sodré", "meeting_point_address": "Praça Duque da Terceira",
               "meeting_point_lat": 38.7057, "meeting_point_lng": -9.1445,
               "meeting_point_instructions": "Red umbrella", "tags": ["night", "river"], "languages": ["en", "pt"],
               "accessibility_info": "Step-free", "what_to_bring": ["Coat"], "highlights": ["Sunset", "Bridge"]}),
    ))
    .unwrap();
    desk.mutate(&m("create_variant.v1", json!({"id": morning, "tour_id": tour, "name": "Evening"}))).unwrap();
    desk.mutate(&m(
        "create_variant.v1",
        json!({"id": private, "tour_id": tour, "name": "Private", "capacity": 6, "sort_order": 1}),
    ))
    .unwrap();
    let tier = |name: &str, amount: i64, extra: Value| {
        let mut args = json!({"id": id(), "tour_id": tour, "name": name,
                              "base_price": {"amount": amount, "currency": "EUR"}});
        for (k, v) in extra.as_object().unwrap() {
            args[k] = v.clone();
        }
        m("upsert_pricing_tier.v2", args)
    };
    desk.mutate(&tier("Adult", 3500, json!({"is_default": true, "min_age": 13}))).unwrap();
    desk.mutate(&tier("Child", 1800, json!({"min_age": 4, "max_age": 12, "sort_order": 1, "max_per_booking": 4})))
        .unwrap();
    desk.mutate(&tier(
        "Summer family",
        9000,
        json!({"variant_id": private, "sort_order": 2, "valid_from": "2026-06-01", "valid_until": "2026-09-30",
               "min_per_booking": 1, "max_per_booking": 1}),
    ))
    .unwrap();
    (tour, morning, private)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tour_built_on_a_desk_is_published_audited_and_replicated() {
    let env = Env::start().await;
    let (a, client_a) = synced(&env, "a").await;
    let (tour, _, private) = build_tour(&a);
    a.mutate(&m("update_tour.v1", json!({"id": tour, "status": "active"}))).unwrap();
    client_a.sync_once(&a).await.unwrap();
    assert_eq!(a.pending_count().unwrap(), 0);
    assert!(a.rejections().unwrap().is_empty());

    let pg = env.pg().await;
    let row = pg
        .query_one(
            "SELECT status, meeting_point_lat, meeting_point_lng, tags, languages, what_to_bring, highlights,
                    accessibility_info, full_description, min_participants
             FROM tours WHERE id = $1",
            &[&tour],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "active");
    assert_eq!((row.get::<_, Option<f64>>(1), row.get::<_, Option<f64>>(2)), (Some(38.7057), Some(-9.1445)));
    assert_eq!(row.get::<_, Vec<String>>(3), ["night", "river"]);
    assert_eq!(row.get::<_, Vec<String>>(4), ["en", "pt"]);
    assert_eq!(row.get::<_, Vec<String>>(5), ["Coat"]);
    assert_eq!(row.get::<_, Vec<String>>(6), ["Sunset", "Bridge"]);
    assert_eq!(row.get::<_, Option<String>>(7).as_deref(), Some("Step-free"));
    assert_eq!(row.get::<_, String>(8), "Two hours along the Tagus.");
    assert_eq!(row.get::<_, i32>(9), 2);
    let family = pg
        .query_one(
            "SELECT valid_from::text, valid_until::text, min_per_booking, max_per_booking FROM pricing_tiers
             WHERE tour_id = $1 AND variant_id = $2",
            &[&tour, &private],
        )
        .await
        .unwrap();
    assert_eq!(
        (family.get::<_, String>(0), family.get::<_, String>(1), family.get::<_, i32>(2), family.get::<_, i32>(3)),
        ("2026-06-01".into(), "2026-09-30".into(), 1, 1)
    );
    let tier_count = env.scalar("SELECT count(*) FROM pricing_tiers WHERE tour_id = $1", &[&tour]).await;
    assert_eq!(tier_count, 3);
    let variants = env.scalar("SELECT count(*) FROM tour_variants WHERE tour_id = $1", &[&tour]).await;
    assert_eq!(variants, 2);

    // One audit row per change, named by the mutation, with the state before and after.
    let audits = pg
        .query(
            "SELECT action, entity, after->>'status' FROM audit_logs
             WHERE entity_id = $1 OR entity_id IN (SELECT id FROM pricing_tiers WHERE tour_id = $1)
                OR entity_id IN (SELECT id FROM tour_variants WHERE tour_id = $1)
             ORDER BY id",
            &[&tour],
        )
        .await
        .unwrap();
    let actions: Vec<(String, String)> = audits.iter().map(|r| (r.get(0), r.get(1))).collect();
    let count = |action: &str, entity: &str| actions.iter().filter(|(a, e)| a == action && e == entity).count();
    assert_eq!(count("create_tour.v1", "tour"), 1, "{actions:?}");
    assert_eq!(count("create_variant.v1", "tour_variant"), 2, "{actions:?}");
    assert_eq!(count("upsert_pricing_tier.v2", "pricing_tier"), 3, "{actions:?}");
    assert_eq!(count("update_tour.v1", "tour"), 1, "{actions:?}");
    let publish = audits.iter().find(|r| r.get::<_, String>(0) == "update_tour.v1").unwrap();
    assert_eq!(publish.get::<_, Option<String>>(2).as_deref(), Some("active"));

    // Another desk receives all of it.
    let (b, _) = synced(&env, "b").await;
    let t = b.tours().unwrap().into_iter().find(|t| t.tour.id == tour).unwrap().tour;
    assert_eq!((t.status, t.tags.len(), t.meeting_point_lat), (TourStatus::Active, 2, Some(38.7057)));
    assert_eq!(b.variants(&tour).unwrap().len(), 2);
    let tiers = b.prices(&tour).unwrap();
    assert_eq!(tiers.len(), 3);
    assert!(tiers.iter().any(|t| t.max_per_booking == Some(4) && t.name == "Child"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_decided_after_the_last_variant_went_off_sale_is_rejected_with_the_reason() {
    let env = Env::start().await;
    let (a, client_a) = synced(&env, "a").await;
    let (tour, evening, private) = build_tour(&a);
    client_a.sync_once(&a).await.unwrap();
    let (b, client_b) = synced(&env, "b").await;

    // Desk A, offline, publishes: on its replica the tour has variants and prices.
    a.mutate(&m("update_tour.v1", json!({"id": tour, "status": "active"}))).unwrap();
    // Meanwhile desk B takes both variants off sale and syncs first.
    for v in [&evening, &private] {
        b.mutate(&m("update_variant.v1", json!({"id": v, "active": false}))).unwrap();
    }
    client_b.sync_once(&b).await.unwrap();
    let audits_before = env.scalar("SELECT count(*) FROM audit_logs WHERE entity_id = $1", &[&tour]).await;

    client_a.sync_once(&a).await.unwrap();
    let inbox = a.rejections().unwrap();
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!((inbox[0].name.as_str(), inbox[0].status), ("update_tour.v1", OutcomeStatus::Rejected));
    assert_eq!(inbox[0].code.as_deref(), Some("CONFLICT"));
    assert!(inbox[0].detail.as_deref().unwrap_or_default().contains("active variant"), "{inbox:?}");
    // Nothing of it reached the server: still a draft, no audit row; the desk shows the draft again.
    let status: String =
        env.pg().await.query_one("SELECT status FROM tours WHERE id = $1", &[&tour]).await.unwrap().get(0);
    assert_eq!(status, "draft");
    assert_eq!(env.scalar("SELECT count(*) FROM audit_logs WHERE entity_id = $1", &[&tour]).await, audits_before);
    let on_a = a.tours().unwrap().into_iter().find(|t| t.tour.id == tour).unwrap().tour;
    assert_eq!(on_a.status, TourStatus::Draft);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_desks_tier_upsert_keeps_the_limits_it_did_not_know() {
    let env = Env::start().await;
    let (a, client_a) = synced(&env, "a").await;
    let (tour, _, _) = build_tour(&a);
    client_a.sync_once(&a).await.unwrap();
    let child: String = env
        .pg()
        .await
        .query_one("SELECT id FROM pricing_tiers WHERE tour_id = $1 AND name = 'Child'", &[&tour])
        .await
        .unwrap()
        .get(0);
    // What a desk from before the editor queued: v1, no dates, no limits.
    a.mutate(&m(
        "upsert_pricing_tier.v1",
        json!({"id": child, "tour_id": tour, "name": "Kids", "base_price": {"amount": 1900, "currency": "EUR"},
               "min_age": 4, "max_age": 12, "sort_order": 1}),
    ))
    .unwrap();
    client_a.sync_once(&a).await.unwrap();
    let row = env
        .pg()
        .await
        .query_one("SELECT name, base_price_minor, max_per_booking FROM pricing_tiers WHERE id = $1", &[&child])
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, i64>(1), row.get::<_, Option<i32>>(2)),
        ("Kids".into(), 1900, Some(4))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_desks_cannot_take_a_published_tours_last_two_variants_off_sale_between_them() {
    let env = Env::start().await;
    let (a, client_a) = synced(&env, "a").await;
    let (tour, evening, private) = build_tour(&a);
    a.mutate(&m("update_tour.v1", json!({"id": tour, "status": "active"}))).unwrap();
    client_a.sync_once(&a).await.unwrap();
    let (b, client_b) = synced(&env, "b").await;

    // Each desk, seeing the other variant still on sale, takes one off.
    a.mutate(&m("update_variant.v1", json!({"id": evening, "active": false}))).unwrap();
    b.mutate(&m("update_variant.v1", json!({"id": private, "active": false}))).unwrap();
    // On one desk alone, the last one is refused at `active`, in words.
    let last = b.mutate(&m("update_variant.v1", json!({"id": evening, "active": false}))).unwrap_err();
    assert!(last.to_string().contains("last active variant"), "{last}");
    client_b.sync_once(&b).await.unwrap();

    client_a.sync_once(&a).await.unwrap();
    let inbox = a.rejections().unwrap();
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!((inbox[0].name.as_str(), inbox[0].code.as_deref()), ("update_variant.v1", Some("CONFLICT")));
    assert!(inbox[0].detail.as_deref().unwrap_or_default().contains("last active variant"), "{inbox:?}");
    let active: bool =
        env.pg().await.query_one("SELECT active FROM tour_variants WHERE id = $1", &[&evening]).await.unwrap().get(0);
    assert!(active, "the server kept the tour's last variant on sale");
}

//! The tour editor's mutations on a real SQLite file: each one optimistic with its outbox entry,
//! refused whole (no row, no outbox entry) when the domain refuses it, and every new detail
//! surviving the round trip through the replica's columns and a pulled change record.

use serde_json::json;
use tourdesk_domain::money::{Currency, Money};
use tourdesk_domain::mutation::{Mutation, Rejection};
use tourdesk_domain::protocol::{BucketPage, ChangeRecord, EntityKind, Op, PullResponse};
use tourdesk_domain::roles::Role;
use tourdesk_domain::status::TourStatus;
use tourdesk_domain::{PricingTier, Tour};

use super::test_support::signed_in;
use super::*;

const T: &str = "00000000-0000-4000-8000-00000000e001";
const MORNING: &str = "00000000-0000-4000-8000-00000000e011";
const PRIVATE: &str = "00000000-0000-4000-8000-00000000e012";
const ADULT: &str = "00000000-0000-4000-8000-00000000e021";

fn store(dir: &tempfile::TempDir) -> Store {
    signed_in(dir, Role::Owner, "u-1")
}

fn run(s: &Store, name: &str, args: serde_json::Value) -> Result<u64, StoreError> {
    s.mutate(&Mutation::decode(name, &args).unwrap())
}

fn code(r: Result<u64, StoreError>) -> (String, Option<String>) {
    match r {
        Err(StoreError::Rejected(Rejection::Invalid(e))) => ("INVALID".into(), Some(e.field)),
        Err(StoreError::Rejected(Rejection::Conflict { field, .. })) => ("CONFLICT".into(), Some(field)),
        Err(StoreError::Rejected(r)) => (r.code().into(), None),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn create_tour(s: &Store) {
    run(
        s,
        "create_tour.v1",
        json!({"id": T, "name": "Harbour Lights", "duration_minutes": 90, "default_capacity": 12,
               "min_participants": 2, "category": "walking", "timezone": "Europe/Lisbon",
               "meeting_point": "Cais do Sodré", "meeting_point_address": "Praça Duque da Terceira",
               "meeting_point_lat": 38.7057, "meeting_point_lng": -9.1445,
               "meeting_point_instructions": "Red umbrella", "full_description": "Long\ntext",
               "tags": ["Night", "river"], "languages": ["en", "pt"], "accessibility_info": "Step-free",
               "what_to_bring": ["Coat"], "highlights": ["Sunset", "Bridge"]}),
    )
    .unwrap();
}

fn tour(s: &Store) -> Tour {
    s.tours().unwrap().into_iter().find(|t| t.tour.id == T).unwrap().tour
}

#[test]
fn every_detail_of_a_new_tour_lands_in_the_replica() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    create_tour(&s);
    let t = tour(&s);
    assert_eq!((t.meeting_point_lat, t.meeting_point_lng), (Some(38.7057), Some(-9.1445)));
    assert_eq!(t.tags, ["night", "river"]);
    assert_eq!(t.languages, ["en", "pt"]);
    assert_eq!((t.what_to_bring.len(), t.highlights.len()), (1, 2));
    assert_eq!(
        (t.full_description.as_str(), t.meeting_point_address.as_str(), t.meeting_point_instructions.as_str()),
        ("Long\ntext", "Praça Duque da Terceira", "Red umbrella")
    );
    assert_eq!((t.accessibility_info.as_str(), t.min_participants), ("Step-free", 2));
    assert_eq!(s.pending_count().unwrap(), 1);
}

#[test]
fn update_tour_edits_details_and_a_refusal_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    create_tour(&s);
    run(
        &s,
        "update_tour.v1",
        json!({"id": T, "tags": ["quiet"], "meeting_point_lat": null, "meeting_point_lng": null}),
    )
    .unwrap();
    let t = tour(&s);
    assert_eq!((t.tags.as_slice(), t.meeting_point_lat), (&["quiet".to_string()][..], None));
    assert_eq!(s.pending_count().unwrap(), 2);

    // A latitude past the pole, with a valid name change beside it: nothing of it is saved.
    let refused = run(
        &s,
        "update_tour.v1",
        json!({"id": T, "name": "Renamed", "meeting_point_lat": 95.0, "meeting_point_lng": 0.0}),
    );
    assert_eq!(code(refused), ("INVALID".into(), Some("meeting_point_lat".into())));
    assert_eq!(tour(&s).name, "Harbour Lights");
    assert_eq!(s.pending_count().unwrap(), 2, "no outbox entry for a refusal");
}

#[test]
fn publishing_on_the_desk_follows_the_domains_rule() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    create_tour(&s);
    let publish = json!({"id": T, "status": "active"});
    assert_eq!(code(run(&s, "update_tour.v1", publish.clone())), ("CONFLICT".into(), Some("status".into())));

    run(&s, "create_variant.v1", json!({"id": MORNING, "tour_id": T, "name": "Morning"})).unwrap();
    run(&s, "create_variant.v1", json!({"id": PRIVATE, "tour_id": T, "name": "Private", "capacity": 4})).unwrap();
    assert_eq!(s.variants(T).unwrap().len(), 2);
    assert_eq!(code(run(&s, "update_tour.v1", publish.clone())).1.as_deref(), Some("status"), "no price yet");

    run(
        &s,
        "upsert_pricing_tier.v2",
        json!({"id": ADULT, "tour_id": T, "name": "Adult", "base_price": {"amount": 3500, "currency": "EUR"},
               "is_default": true, "valid_from": "2026-06-01", "valid_until": "2026-09-30",
               "min_per_booking": 1, "max_per_booking": 8}),
    )
    .unwrap();
    run(&s, "update_tour.v1", publish).unwrap();
    assert_eq!(tour(&s).status, TourStatus::Active);
    // Unpublish, then archive.
    run(&s, "update_tour.v1", json!({"id": T, "status": "draft"})).unwrap();
    assert_eq!(tour(&s).status, TourStatus::Draft);
    run(&s, "update_tour.v1", json!({"id": T, "status": "archived"})).unwrap();
    assert_eq!(code(run(&s, "update_tour.v1", json!({"id": T, "status": "active"}))).0, "FORBIDDEN_TRANSITION");
}

#[test]
fn variants_are_edited_and_deactivated() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    create_tour(&s);
    run(&s, "create_variant.v1", json!({"id": MORNING, "tour_id": T, "name": "Morning", "sort_order": 1})).unwrap();
    run(
        &s,
        "update_variant.v1",
        json!({"id": MORNING, "name": "Early", "capacity": 6, "duration_minutes": 60, "sort_order": 0}),
    )
    .unwrap();
    run(&s, "update_variant.v1", json!({"id": MORNING, "active": false})).unwrap();
    let v = &s.variants(T).unwrap()[0];
    assert_eq!(
        (v.name.as_str(), v.capacity, v.duration_minutes, v.active, v.sort_order),
        ("Early", Some(6), Some(60), false, 0)
    );
    let before = s.pending_count().unwrap();
    assert_eq!(
        code(run(&s, "update_variant.v1", json!({"id": MORNING, "name": "x", "capacity": 0}))),
        ("INVALID".into(), Some("capacity".into()))
    );
    assert_eq!(s.variants(T).unwrap()[0].name, "Early");
    assert_eq!(s.pending_count().unwrap(), before);
}

#[test]
fn tiers_keep_their_validity_and_limits_and_the_desk_quote_honours_them() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    create_tour(&s);
    run(
        &s,
        "upsert_pricing_tier.v2",
        json!({"id": ADULT, "tour_id": T, "name": "Adult", "base_price": {"amount": 3500, "currency": "EUR"},
               "valid_from": "2026-06-01", "valid_until": "2026-09-30", "min_per_booking": 2, "max_per_booking": 8}),
    )
    .unwrap();
    let tiers = s.prices(T).unwrap();
    assert_eq!(tiers.len(), 1);
    let t: &PricingTier = &tiers[0];
    assert_eq!(t.valid_until.map(|d| d.to_string()).as_deref(), Some("2026-09-30"));
    assert_eq!((t.min_per_booking, t.max_per_booking), (Some(2), Some(8)));
    assert_eq!(t.base_price, Money::new(3500, Currency::EUR));
    // The desk builds its catalog from these rows: the limits and dates are in it.
    let cat = tourdesk_domain::pricing::PricingCatalog::from_tiers(T, &tiers).unwrap();
    assert_eq!(cat.tiers[0].max_per_booking, Some(8));
    assert!(cat.tiers_for(MORNING, "2026-10-01".parse().unwrap()).is_empty());

    // An old desk's v1 upsert keeps them; a bad v2 one is refused at its field and leaves the row.
    run(
        &s,
        "upsert_pricing_tier.v1",
        json!({"id": ADULT, "tour_id": T, "name": "Grown-up", "base_price": {"amount": 3600, "currency": "EUR"}}),
    )
    .unwrap();
    let t = &s.prices(T).unwrap()[0];
    assert_eq!((t.name.as_str(), t.max_per_booking), ("Grown-up", Some(8)));
    let refused = run(
        &s,
        "upsert_pricing_tier.v2",
        json!({"id": ADULT, "tour_id": T, "name": "Adult", "base_price": {"amount": 3600, "currency": "EUR"},
               "valid_from": "2026-10-01", "valid_until": "2026-09-30"}),
    );
    assert_eq!(code(refused), ("INVALID".into(), Some("valid_until".into())));
    assert_eq!(s.prices(T).unwrap()[0].name, "Grown-up");
}

/// A tour as the server sends it now, and as an older server sent it (without the details):
/// both apply, the older one with the defaults.
#[test]
fn pulled_tours_with_and_without_details_apply() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir);
    let full = json!({"id": T, "organization_id": "org-1", "name": "Pulled", "slug": "pulled",
        "short_description": "", "duration_minutes": 60, "default_capacity": 8, "min_participants": 1,
        "category": "food", "timezone": "Asia/Tokyo", "meeting_point": "", "status": "active",
        "full_description": "From the server", "meeting_point_address": "", "meeting_point_lat": 35.0,
        "meeting_point_lng": 139.0, "meeting_point_instructions": "", "tags": ["ramen"], "languages": ["ja"],
        "accessibility_info": "", "what_to_bring": [], "highlights": ["Broth"]});
    let old = json!({"id": "t-old", "organization_id": "org-1", "name": "Old", "slug": "old",
        "short_description": "", "duration_minutes": 60, "default_capacity": 8, "min_participants": 1,
        "category": "food", "timezone": "Asia/Tokyo", "meeting_point": "", "status": "draft"});
    let changes = [full, old]
        .into_iter()
        .enumerate()
        .map(|(i, row)| ChangeRecord {
            seq: i as u64 + 1,
            entity: EntityKind::Tour,
            id: row["id"].as_str().unwrap().into(),
            op: Op::Put,
            row,
        })
        .collect::<Vec<_>>();
    s.apply_pull(&PullResponse {
        buckets: vec![BucketPage { bucket: "org:org-1:all".into(), changes, cursor: 2, head: 2 }],
        complete: true,
        last_mutation_id: 0,
        results: vec![],
        removed_buckets: vec![],
    })
    .unwrap();
    let tours = s.tours().unwrap();
    let pulled = &tours.iter().find(|t| t.tour.id == T).unwrap().tour;
    assert_eq!((pulled.tags.as_slice(), pulled.meeting_point_lat), (&["ramen".to_string()][..], Some(35.0)));
    let old = &tours.iter().find(|t| t.tour.id == "t-old").unwrap().tour;
    assert!(old.tags.is_empty() && old.full_description.is_empty());
}

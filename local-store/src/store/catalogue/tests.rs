//! The pricing catalogue on a real SQLite file: every catalogue mutation made on the desk, the
//! desk's quote with seasons, taxes and promo codes, and a booking priced the same way.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, Timelike, Utc};
use serde_json::{Value, json};
use tourdesk_domain::catalogue::{CatalogueRow, PromotionalCode, QuoteInput, TaxRate};
use tourdesk_domain::money::{Currency, Money};
use tourdesk_domain::mutation::{Mutation, Rejection};
use tourdesk_domain::pricing::{Adjustment, LineRequest, PromoOutcome, PromoRefusal, PromoStatus};
use tourdesk_domain::protocol::{BucketPage, ChangeRecord, EntityKind, Op, PullResponse};
use tourdesk_domain::roles::Role;
use tourdesk_domain::{Departure, PricingTier, Tour, fixtures};

use super::super::test_support::{departure_at, signed_in};
use crate::{Store, StoreError, rows};

const ORG: &str = "org-1";
const ALL: &str = "org:org-1:all";
const TOUR: &str = "t-1";
const ADULT: &str = "tier-adult";
const D1: &str = "d-1";

fn uuid(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn store(dir: &tempfile::TempDir, role: Role) -> Store {
    signed_in(dir, role, "u-staff")
}

fn put<T: serde::Serialize>(kind: EntityKind, row: &T) -> ChangeRecord {
    let row = serde_json::to_value(row).unwrap();
    ChangeRecord { seq: 0, entity: kind, id: row["id"].as_str().unwrap().into(), op: Op::Put, row }
}

fn pull(s: &Store, changes: Vec<ChangeRecord>) {
    let changes: Vec<ChangeRecord> =
        changes.into_iter().enumerate().map(|(i, c)| ChangeRecord { seq: 100 + i as u64, ..c }).collect();
    let cursor = changes.last().map_or(100, |c| c.seq);
    s.apply_pull(&PullResponse {
        buckets: vec![BucketPage { bucket: ALL.into(), changes, cursor, head: cursor }],
        complete: true,
        last_mutation_id: 0,
        results: vec![],
        removed_buckets: vec![],
    })
    .unwrap();
}

/// A tour at 50.00 an adult and an open departure in July, a month or more ahead.
fn seed(s: &Store) -> Departure {
    let starts = (Utc::now() + Duration::days(40)).with_nanosecond(0).unwrap();
    let d = departure_at(D1, starts, 20, 0);
    let tier = PricingTier { id: ADULT.into(), min_age: None, ..fixtures::adult_tier() };
    let customer = fixtures::customer();
    pull(
        s,
        vec![
            put(EntityKind::Tour, &Tour { default_capacity: 20, ..fixtures::tour() }),
            put(EntityKind::PricingTier, &tier),
            put(EntityKind::Departure, &d),
            put(EntityKind::Customer, &customer),
        ],
    );
    d
}

fn m(name: &str, args: Value) -> Mutation {
    Mutation::decode(name, &args).unwrap()
}

fn pending(s: &Store, kind: EntityKind, id: &str) -> bool {
    rows::pending(&s.conn(), ORG, kind, id).unwrap()
}

#[test]
fn every_catalogue_mutation_is_made_on_the_desk_pending_and_queued() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    let d = seed(&s);
    let start = d.local_date - Duration::days(3);
    let end = d.local_date + Duration::days(3);
    let steps = [
        m(
            "upsert_season.v1",
            json!({"id": uuid(1), "tour_id": TOUR, "name": "High", "start_date": start, "end_date": end,
                   "adjustment": {"type": "percentage", "value": 2000}, "priority": 1}),
        ),
        m(
            "upsert_promo_code.v1",
            json!({"id": uuid(2), "code": "spring10", "discount": {"type": "percentage", "value": 1000},
                   "valid_from": Utc::now() - Duration::days(1), "valid_until": Utc::now() + Duration::days(30),
                   "max_uses_per_customer": 1}),
        ),
        m("set_promo_code_status.v1", json!({"id": uuid(2), "status": "inactive"})),
        m("upsert_tax_rate.v1", json!({"id": uuid(3), "name": "VAT", "rate": 2300, "inclusive": true})),
        m(
            "upsert_cancellation_policy.v1",
            json!({"id": uuid(4), "name": "Flexible", "is_default": true,
                   "rules": [{"hours_before_tour": 48, "refund_percentage": 100}]}),
        ),
        m(
            "upsert_cancellation_policy.v1",
            json!({"id": uuid(5), "tour_id": TOUR, "name": "Strict",
                   "rules": [{"hours_before_tour": 168, "refund_percentage": 50}]}),
        ),
        m("upsert_tour_faq.v1", json!({"id": uuid(6), "tour_id": TOUR, "question": "Dogs?", "answer": "On a lead."})),
        m("upsert_tour_inclusion.v1", json!({"id": uuid(7), "tour_id": TOUR, "kind": "inclusion", "text": "Wine"})),
    ];
    for (i, step) in steps.iter().enumerate() {
        s.mutate(step).unwrap_or_else(|e| panic!("{}: {e}", step.name()));
        assert_eq!(s.pending_count().unwrap(), i as u64 + 1, "{} is queued", step.name());
    }
    let view = s.tour_pricing(TOUR).unwrap();
    assert_eq!(view.seasons.len(), 1);
    assert_eq!(view.faqs[0].answer, "On a lead.");
    assert_eq!(view.inclusions[0].text, "Wine");
    assert_eq!(view.own_policy.as_ref().map(|p| p.name.as_str()), Some("Strict"));
    assert_eq!(view.default_policy.as_ref().map(|p| p.name.as_str()), Some("Flexible"));
    assert_eq!(view.taxes.len(), 1);
    let codes = s.promo_codes().unwrap();
    assert_eq!((codes[0].code.as_str(), codes[0].status), ("SPRING10", PromoStatus::Inactive));
    for (kind, id) in [
        (EntityKind::Season, uuid(1)),
        (EntityKind::PromoCode, uuid(2)),
        (EntityKind::TaxRate, uuid(3)),
        (EntityKind::CancellationPolicy, uuid(4)),
        (EntityKind::TourFaq, uuid(6)),
        (EntityKind::TourInclusion, uuid(7)),
    ] {
        assert!(pending(&s, kind, &id), "{kind:?} shows as pending sync");
    }
    // The tour's own policy is what a cancellation on this desk refunds by.
    let conn = s.conn();
    let policy = super::super::write::policy_for_tour_pub(&conn, ORG, TOUR).unwrap().unwrap();
    assert_eq!(policy.name, "Strict");
    drop(conn);

    // The deletes.
    s.mutate(&m("delete_season.v1", json!({"id": uuid(1)}))).unwrap();
    s.mutate(&m("delete_tour_faq.v1", json!({"id": uuid(6)}))).unwrap();
    s.mutate(&m("delete_tour_inclusion.v1", json!({"id": uuid(7)}))).unwrap();
    let view = s.tour_pricing(TOUR).unwrap();
    assert!(view.seasons.is_empty() && view.faqs.is_empty() && view.inclusions.is_empty(), "{view:?}");
    assert_eq!(s.pending_count().unwrap(), 11);

    // The server's verdicts arrive: its rows replace the optimistic ones and nothing is pending.
    let tax = TaxRate { id: uuid(3), ..fixtures::tax_rate() };
    s.apply_pull(&PullResponse {
        buckets: vec![BucketPage {
            bucket: ALL.into(),
            changes: vec![ChangeRecord { seq: 200, ..put(EntityKind::TaxRate, &tax) }],
            cursor: 200,
            head: 200,
        }],
        complete: true,
        last_mutation_id: 11,
        results: vec![],
        removed_buckets: vec![],
    })
    .unwrap();
    assert_eq!(s.pending_count().unwrap(), 0);
    assert!(!pending(&s, EntityKind::TaxRate, &uuid(3)));
}

#[test]
fn a_refused_catalogue_change_names_its_field_and_queues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s);
    let tax = m("upsert_tax_rate.v1", json!({"id": uuid(3), "name": "VAT", "rate": 2300, "inclusive": true}));
    assert!(matches!(s.mutate(&tax), Err(StoreError::Rejected(Rejection::NotAuthorized { .. }))));
    drop(s);
    let s = store(&dir, Role::Owner);
    let bad = m(
        "upsert_season.v1",
        json!({"id": uuid(1), "tour_id": TOUR, "name": "High", "start_date": "2026-08-01", "end_date": "2026-07-01",
               "adjustment": {"type": "percentage", "value": 2000}}),
    );
    match s.mutate(&bad) {
        Err(StoreError::Rejected(Rejection::Invalid(e))) => assert_eq!(e.field, "end_date"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.pending_count().unwrap(), 0);
    assert!(s.tour_pricing(TOUR).unwrap().seasons.is_empty(), "nothing half-saved");
}

fn usd(a: i64) -> Money {
    Money::new(a, Currency::USD)
}

#[test]
fn the_desk_quote_and_booking_use_seasons_taxes_and_promo_codes() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    let d = seed(&s);
    let adult = s.pricing_catalog(TOUR).unwrap().unwrap().tiers[0].base_price;
    assert_eq!(adult, usd(5000));
    let season = json!({"id": uuid(1), "organization_id": ORG, "tour_id": TOUR, "name": "High",
        "start_date": d.local_date - Duration::days(1), "end_date": d.local_date + Duration::days(1),
        "adjustment": {"type": "percentage", "value": 2000}, "priority": 0});
    let tax = json!({"id": uuid(3), "organization_id": ORG, "tour_id": null, "name": "City", "rate": 1000,
        "inclusive": false, "active": true, "sort_order": 0});
    let code = PromotionalCode {
        id: uuid(2),
        organization_id: ORG.into(),
        code: "SPRING10".into(),
        discount: Adjustment::Fixed(usd(1000)),
        min_booking_value: None,
        max_uses: Some(5),
        max_uses_per_customer: Some(1),
        valid_from: Utc::now() - Duration::days(1),
        valid_until: Utc::now() + Duration::days(30),
        applicable_tour_ids: vec![],
        applicable_variant_ids: vec![],
        current_uses: 0,
        status: PromoStatus::Active,
    };
    pull(
        &s,
        vec![
            ChangeRecord { entity: EntityKind::Season, id: uuid(1), op: Op::Put, row: season, seq: 0 },
            ChangeRecord { entity: EntityKind::TaxRate, id: uuid(3), op: Op::Put, row: tax, seq: 0 },
            put(EntityKind::PromoCode, &CatalogueRow::PromoCode(code.clone()).to_value().unwrap()),
        ],
    );
    let lines = vec![LineRequest { tier_id: ADULT.into(), quantity: 2, ages: vec![] }];
    let input = |code: Option<&str>| QuoteInput {
        departure_id: D1.into(),
        lines: lines.clone(),
        promo_code: code.map(Into::into),
        customer_id: Some(fixtures::CUSTOMER.into()),
    };
    // 2 × 60.00 (50.00 + 20 % high season) = 120.00, + 10 % city tax = 132.00.
    let q = s.quote(&input(None), Utc::now()).unwrap();
    assert_eq!((q.snapshot.subtotal, q.snapshot.total), (usd(12_000), usd(13_200)));
    assert_eq!(q.season.as_ref().map(|s| s.name.as_str()), Some("High"));
    // With the code: 120.00 − 10.00 = 110.00, + 11.00 tax.
    let q = s.quote(&input(Some(" spring10 ")), Utc::now()).unwrap();
    assert_eq!(q.snapshot.total, usd(12_100));
    assert_eq!(q.promo, PromoOutcome::Applied { code_id: uuid(2) });
    let unknown = s.quote(&input(Some("NOPE")), Utc::now()).unwrap();
    assert_eq!(unknown.promo, PromoOutcome::Refused { refusal: PromoRefusal::NotFound });
    assert_eq!(unknown.snapshot.total, usd(13_200));

    // Booked on the desk: priced the same, and the code's use counted here at once.
    let book = |id: u32, entropy: u64, total: i64| {
        m(
            "create_booking.v1",
            json!({"id": uuid(id), "tour_id": TOUR, "departure_id": D1, "customer_id": fixtures::CUSTOMER,
                   "lines": [{"tier_id": ADULT, "quantity": 2}], "promo_code": "spring10",
                   "reference_year": 2026, "reference_entropy": entropy,
                   "expected_total": {"amount": total, "currency": "USD"}}),
        )
    };
    s.mutate(&book(50, 11, 12_100)).unwrap();
    assert_eq!(s.promo_codes().unwrap()[0].current_uses, 1);
    assert!(pending(&s, EntityKind::PromoCode, &uuid(2)));
    // Once per customer: the desk refuses the second use as the server would.
    let again = s.quote(&input(Some("SPRING10")), Utc::now()).unwrap();
    assert!(matches!(again.promo, PromoOutcome::Refused { refusal: PromoRefusal::CustomerLimitReached { .. } }));
    assert!(matches!(s.mutate(&book(51, 12, 12_100)), Err(StoreError::Rejected(Rejection::PromoRefused { .. }))));
}

#[test]
fn group_and_early_bird_discounts_price_the_desk_quote_and_a_refusal_queues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    seed(&s);
    let group = m(
        "upsert_group_discount.v1",
        json!({"id": uuid(60), "tour_id": TOUR, "min_participants": 4, "discount": {"type": "percentage", "value": 1000}}),
    );
    let early = m(
        "upsert_early_bird_discount.v1",
        json!({"id": uuid(61), "tour_id": TOUR, "min_days_before": 30,
               "discount": {"type": "fixed", "value": {"amount": 500, "currency": "USD"}}}),
    );
    s.mutate(&group).unwrap();
    s.mutate(&early).unwrap();
    assert!(pending(&s, EntityKind::GroupDiscount, &uuid(60)));
    assert!(pending(&s, EntityKind::EarlyBirdDiscount, &uuid(61)));
    let view = s.tour_pricing(TOUR).unwrap();
    assert_eq!((view.group_discounts.len(), view.early_bird_discounts.len()), (1, 1));
    let quote = |quantity: u32| {
        let lines = vec![LineRequest { tier_id: ADULT.into(), quantity, ages: vec![] }];
        s.quote(&QuoteInput { departure_id: D1.into(), lines, promo_code: None, customer_id: None }, Utc::now())
            .unwrap()
    };
    // 4 × 50.00 = 200.00, −10 % group = 180.00, −5.00 early bird (40 days ahead) = 175.00.
    assert_eq!(quote(4).snapshot.total, usd(17_500));
    // Below the group's size only the early bird applies.
    assert_eq!(quote(3).snapshot.total, usd(14_500));

    // A second rule at the same size is refused on its field, and nothing is queued for it.
    let queued = s.pending_count().unwrap();
    let twin = m(
        "upsert_group_discount.v1",
        json!({"id": uuid(62), "tour_id": TOUR, "min_participants": 4, "discount": {"type": "percentage", "value": 500}}),
    );
    match s.mutate(&twin) {
        Err(StoreError::Rejected(Rejection::Conflict { field, .. })) => assert_eq!(field, "min_participants"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.pending_count().unwrap(), queued);
    s.mutate(&m("delete_group_discount.v1", json!({"id": uuid(60)}))).unwrap();
    assert_eq!(quote(4).snapshot.total, usd(19_500));
}

#[test]
fn a_tour_chooses_a_shared_policy_and_refunds_follow_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    seed(&s);
    let policy = |id: u32, tour: Option<&str>, is_default: bool, refund: u32| {
        json!({"id": uuid(id), "organization_id": ORG, "tour_id": tour, "name": format!("P{id}"), "description": "",
               "rules": [{"hours_before_tour": 1, "refund_percentage": refund}], "is_default": is_default})
    };
    pull(
        &s,
        vec![
            ChangeRecord {
                entity: EntityKind::CancellationPolicy,
                id: uuid(70),
                op: Op::Put,
                row: policy(70, None, true, 100),
                seq: 0,
            },
            ChangeRecord {
                entity: EntityKind::CancellationPolicy,
                id: uuid(71),
                op: Op::Put,
                row: policy(71, None, false, 20),
                seq: 0,
            },
            ChangeRecord {
                entity: EntityKind::CancellationPolicy,
                id: uuid(72),
                op: Op::Put,
                row: policy(72, Some("t-other"), false, 0),
                seq: 0,
            },
        ],
    );
    let chosen = |s: &Store| super::super::write::policy_for_tour_pub(&s.conn(), ORG, TOUR).unwrap().map(|p| p.id);
    assert_eq!(chosen(&s), Some(uuid(70)), "the default before any choice");
    let view = s.tour_pricing(TOUR).unwrap();
    assert_eq!(view.shared_policies.iter().map(|p| p.id.clone()).collect::<Vec<_>>(), vec![uuid(70), uuid(71)]);
    s.mutate(&m("set_tour_cancellation_policy.v1", json!({"tour_id": TOUR, "cancellation_policy_id": uuid(71)})))
        .unwrap();
    assert!(pending(&s, EntityKind::Tour, TOUR));
    assert_eq!(chosen(&s), Some(uuid(71)));
    assert_eq!(s.tour_pricing(TOUR).unwrap().chosen_policy_id, Some(uuid(71)));
    // Another tour's own policy, or none at all, is refused on the field; the choice stays.
    for bad in [uuid(72), uuid(79)] {
        let args = json!({"tour_id": TOUR, "cancellation_policy_id": bad});
        match s.mutate(&m("set_tour_cancellation_policy.v1", args)) {
            Err(StoreError::Rejected(Rejection::Invalid(e))) => assert_eq!(e.field, "cancellation_policy_id"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(chosen(&s), Some(uuid(71)));
    s.mutate(&m("set_tour_cancellation_policy.v1", json!({"tour_id": TOUR, "cancellation_policy_id": null}))).unwrap();
    assert_eq!(chosen(&s), Some(uuid(70)), "back to the default");
}

#![allow(clippy::unwrap_used)]
use serde_json::{Value, json};

use super::super::testkit::*;
use super::*;
use crate::roles::Role;

const ID: &str = "00000000-0000-4000-8000-00000000ca01";
const ID2: &str = "00000000-0000-4000-8000-00000000ca02";

fn table(mem: &Mem, name: &str, cases: Vec<(Value, Role, &str)>) {
    for (a, role, code) in cases {
        assert_eq!(run_err(mem, name, a.clone(), role), code, "{name} {a} as {role:?}");
    }
}

fn one_row(changes: &[Change]) -> CatalogueRow {
    match changes {
        [Change::PutCatalogueRow(r)] => r.clone(),
        other => panic!("one row expected: {other:?}"),
    }
}

fn season_args() -> Value {
    json!({"id": ID, "tour_id": TOUR, "name": " Summer peak ", "start_date": "2026-07-01", "end_date": "2026-08-31",
           "adjustment": {"type": "percentage", "value": 1500}, "priority": 2})
}

#[test]
fn a_season_is_written_whole_and_a_replay_writes_nothing() {
    let mem = world();
    let changes = run_write(&mem, "upsert_season.v1", season_args(), Role::Owner);
    let CatalogueRow::Season(s) = one_row(&changes) else { panic!() };
    assert_eq!((s.name.as_str(), s.priority, s.tour_id.as_str()), ("Summer peak", 2, TOUR));
    assert_eq!(s.adjustment, Adjustment::Percentage(Percent::whole(15)));
    assert!(run_ok(&mem, "upsert_season.v1", season_args(), Role::Owner).is_empty(), "replay");
    // A fixed amount in the tour's currency, and a low season.
    let fixed =
        patch(season_args(), &[("adjustment", json!({"type": "fixed", "value": {"amount": -500, "currency": "USD"}}))]);
    assert_eq!(run_ok(&mem, "upsert_season.v1", fixed, Role::Admin).len(), 1);
    assert_eq!(run_write(&mem, "delete_season.v1", json!({"id": ID}), Role::Owner).len(), 1);
    assert!(run_ok(&mem, "delete_season.v1", json!({"id": ID}), Role::Owner).is_empty(), "already gone");
}

#[test]
fn season_refusals_name_their_field() {
    let mem = world();
    mem.put_tour(Tour { id: "t-2".into(), slug: "t-2".into(), ..tour() });
    mem.put_row(CatalogueRow::Season(Season {
        id: ID2.into(),
        organization_id: ORG.into(),
        tour_id: "t-2".into(),
        name: "x".into(),
        start_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        end_date: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
        adjustment: Adjustment::Percentage(Percent::whole(5)),
        priority: 0,
    }));
    let with = |k: &str, v: Value| patch(season_args(), &[(k, v)]);
    table(
        &mem,
        "upsert_season.v1",
        vec![
            (season_args(), Role::Manager, "NOT_AUTHORIZED"),
            (season_args(), Role::Guide, "NOT_AUTHORIZED"),
            (with("end_date", "2026-06-30".into()), Role::Owner, "INVALID"),
            (with("adjustment", json!({"type": "percentage", "value": -10001})), Role::Owner, "INVALID"),
            (with("adjustment", json!({"type": "percentage", "value": 0})), Role::Owner, "INVALID"),
            (
                with("adjustment", json!({"type": "fixed", "value": {"amount": 500, "currency": "EUR"}})),
                Role::Owner,
                "INVALID",
            ),
            (with("name", " ".into()), Role::Owner, "INVALID"),
            (with("tour_id", "t-404".into()), Role::Owner, "NOT_FOUND"),
            (with("id", ID2.into()), Role::Owner, "CONFLICT"),
            (with("id", "not-a-uuid".into()), Role::Owner, "INVALID"),
        ],
    );
    let Err(ApplyError::Rejected(Rejection::Invalid(e))) =
        run(&mem, "upsert_season.v1", with("end_date", "2026-06-30".into()), Role::Owner)
    else {
        panic!()
    };
    assert_eq!(e.field, "end_date");
    assert_eq!(run_err(&mem, "delete_season.v1", json!({"id": ID2}), Role::Manager), "NOT_AUTHORIZED");
}

fn promo_args() -> Value {
    json!({"id": ID, "code": " spring-25 ", "discount": {"type": "percentage", "value": 2500},
           "min_booking_value": {"amount": 5000, "currency": "USD"}, "max_uses": 100, "max_uses_per_customer": 2,
           "valid_from": "2026-03-01T00:00:00Z", "valid_until": "2026-06-01T00:00:00Z",
           "applicable_tour_ids": [TOUR, TOUR], "applicable_variant_ids": [VARIANT]})
}

#[test]
fn a_promo_code_keeps_its_uses_and_is_stored_as_people_type_it() {
    let mem = world();
    let CatalogueRow::PromoCode(p) = one_row(&run_write(&mem, "upsert_promo_code.v1", promo_args(), Role::Owner))
    else {
        panic!()
    };
    assert_eq!(p.code, "SPRING-25");
    assert_eq!(p.applicable_tour_ids, vec![TOUR], "targets without repeats");
    assert_eq!((p.status, p.current_uses, p.max_uses_per_customer), (PromoStatus::Active, 0, Some(2)));
    // Used meanwhile: an edit keeps the count, and cannot set the limit below it.
    mem.put_row(CatalogueRow::PromoCode(PromotionalCode { current_uses: 7, ..p.clone() }));
    let edited = run_ok(&mem, "upsert_promo_code.v1", patch(promo_args(), &[("max_uses", 50.into())]), Role::Admin);
    assert!(matches!(one_row(&edited), CatalogueRow::PromoCode(q) if q.current_uses == 7 && q.max_uses == Some(50)));
    assert_eq!(
        run_err(&mem, "upsert_promo_code.v1", patch(promo_args(), &[("max_uses", 6.into())]), Role::Owner),
        "INVALID"
    );
    // Status alone.
    let paused = run_write(&mem, "set_promo_code_status.v1", json!({"id": ID, "status": "inactive"}), Role::Owner);
    assert!(
        matches!(one_row(&paused), CatalogueRow::PromoCode(q) if q.status == PromoStatus::Inactive && q.current_uses == 7)
    );
    assert!(run_ok(&mem, "set_promo_code_status.v1", json!({"id": ID, "status": "inactive"}), Role::Owner).is_empty());
}

#[test]
fn promo_code_refusals() {
    let mem = world();
    mem.put_tour(Tour { id: "t-2".into(), slug: "t-2".into(), ..tour() });
    let with = |k: &str, v: Value| patch(promo_args(), &[(k, v)]);
    table(
        &mem,
        "upsert_promo_code.v1",
        vec![
            (promo_args(), Role::Manager, "NOT_AUTHORIZED"),
            (promo_args(), Role::Guide, "NOT_AUTHORIZED"),
            // The world's SUMMER10 belongs to another id.
            (with("code", "summer10".into()), Role::Owner, "CONFLICT"),
            (with("code", "  ".into()), Role::Owner, "INVALID"),
            (with("code", "TEN OFF".into()), Role::Owner, "INVALID"),
            (with("discount", json!({"type": "percentage", "value": 0})), Role::Owner, "INVALID"),
            (with("discount", json!({"type": "percentage", "value": 10001})), Role::Owner, "INVALID"),
            (
                with("discount", json!({"type": "fixed", "value": {"amount": -5, "currency": "USD"}})),
                Role::Owner,
                "INVALID",
            ),
            (
                with("discount", json!({"type": "fixed", "value": {"amount": 500, "currency": "EUR"}})),
                Role::Owner,
                "INVALID",
            ),
            (with("min_booking_value", json!({"amount": -1, "currency": "USD"})), Role::Owner, "INVALID"),
            (with("max_uses", 0.into()), Role::Owner, "INVALID"),
            (with("max_uses_per_customer", 101.into()), Role::Owner, "INVALID"),
            (with("valid_until", "2026-03-01T00:00:00Z".into()), Role::Owner, "INVALID"),
            (with("applicable_tour_ids", json!(["t-404"])), Role::Owner, "INVALID"),
            (with("applicable_variant_ids", json!(["v-404"])), Role::Owner, "INVALID"),
            (with("applicable_tour_ids", json!(["t-2"])), Role::Owner, "INVALID"),
            (with("colour", "red".into()), Role::Owner, "INVALID"),
        ],
    );
    let Err(ApplyError::Rejected(Rejection::Invalid(e))) =
        run(&mem, "upsert_promo_code.v1", with("applicable_variant_ids", json!(["v-404"])), Role::Owner)
    else {
        panic!()
    };
    assert_eq!(e.field, "applicable_variant_ids[0]");
    assert_eq!(
        run_err(&mem, "set_promo_code_status.v1", json!({"id": "p-404", "status": "active"}), Role::Owner),
        "NOT_FOUND"
    );
    assert_eq!(
        run_err(&mem, "set_promo_code_status.v1", json!({"id": ID, "status": "active"}), Role::Manager),
        "NOT_AUTHORIZED"
    );
}

#[test]
fn tax_rates_are_organization_settings() {
    let mem = world();
    let args = json!({"id": ID, "name": "VAT", "rate": 2300, "inclusive": true});
    let CatalogueRow::TaxRate(t) = one_row(&run_write(&mem, "upsert_tax_rate.v1", args.clone(), Role::Admin)) else {
        panic!()
    };
    assert_eq!((t.rate, t.inclusive, t.active, t.tour_id), (Percent::whole(23), true, true, None));
    assert!(run_ok(&mem, "upsert_tax_rate.v1", args.clone(), Role::Owner).is_empty());
    let city = json!({"id": ID2, "tour_id": TOUR, "name": "City tax", "rate": 150, "inclusive": false});
    assert_eq!(run_ok(&mem, "upsert_tax_rate.v1", city.clone(), Role::Owner).len(), 1);
    table(
        &mem,
        "upsert_tax_rate.v1",
        vec![
            (args.clone(), Role::Manager, "NOT_AUTHORIZED"),
            (patch(args.clone(), &[("rate", 10001.into())]), Role::Owner, "INVALID"),
            (patch(args.clone(), &[("rate", (-1).into())]), Role::Owner, "INVALID"),
            (patch(args.clone(), &[("name", "".into())]), Role::Owner, "INVALID"),
            (patch(city, &[("tour_id", "t-404".into())]), Role::Owner, "NOT_FOUND"),
        ],
    );
}

fn policy_args() -> Value {
    json!({"id": ID, "name": "Flexible", "description": "Full refund up to a week before",
           "rules": [{"hours_before_tour": 24, "refund_percentage": 50}, {"hours_before_tour": 168, "refund_percentage": 100}],
           "is_default": true})
}

#[test]
fn a_new_default_policy_replaces_the_old_default_in_one_decision() {
    let mem = world();
    let first = run_write(&mem, "upsert_cancellation_policy.v1", policy_args(), Role::Owner);
    let CatalogueRow::CancellationPolicy(p) = one_row(&first) else { panic!() };
    assert_eq!(p.rules[0].hours_before_tour, 168, "longest notice first");
    assert!(p.is_default && p.tour_id.is_none());
    let second = run_write(
        &mem,
        "upsert_cancellation_policy.v1",
        patch(policy_args(), &[("id", ID2.into()), ("name", "Strict".into())]),
        Role::Admin,
    );
    assert_eq!(second.len(), 2, "{second:?}");
    assert!(
        matches!(&second[0], Change::PutCatalogueRow(CatalogueRow::CancellationPolicy(p)) if p.id == ID && !p.is_default)
    );
    assert!(
        matches!(&second[1], Change::PutCatalogueRow(CatalogueRow::CancellationPolicy(p)) if p.id == ID2 && p.is_default)
    );
    assert!(
        run_ok(
            &mem,
            "upsert_cancellation_policy.v1",
            patch(policy_args(), &[("id", ID2.into()), ("name", "Strict".into())]),
            Role::Admin
        )
        .is_empty()
    );
}

#[test]
fn a_tour_has_one_policy_of_its_own() {
    let mem = world();
    let own = patch(policy_args(), &[("tour_id", TOUR.into()), ("is_default", false.into())]);
    // A manager cannot, an owner can; the tour's own is never the default.
    assert_eq!(run_err(&mem, "upsert_cancellation_policy.v1", own.clone(), Role::Manager), "NOT_AUTHORIZED");
    let CatalogueRow::CancellationPolicy(p) =
        one_row(&run_write(&mem, "upsert_cancellation_policy.v1", own.clone(), Role::Owner))
    else {
        panic!()
    };
    assert_eq!(p.tour_id.as_deref(), Some(TOUR));
    let rule = |h: u32, p: u32| json!({"hours_before_tour": h, "refund_percentage": p});
    table(
        &mem,
        "upsert_cancellation_policy.v1",
        vec![
            (patch(own.clone(), &[("id", ID2.into())]), Role::Owner, "CONFLICT"),
            (patch(own.clone(), &[("is_default", true.into())]), Role::Owner, "INVALID"),
            (patch(own.clone(), &[("tour_id", "t-404".into())]), Role::Owner, "NOT_FOUND"),
            // The tour's policy cannot become an organization-wide one under the same id.
            (patch(own.clone(), &[("tour_id", Value::Null)]), Role::Owner, "CONFLICT"),
            (patch(own.clone(), &[("rules", json!([rule(24, 101)]))]), Role::Owner, "INVALID"),
            (patch(own.clone(), &[("rules", json!([rule(24, 50), rule(24, 20)]))]), Role::Owner, "INVALID"),
            (patch(own.clone(), &[("rules", json!([rule(9000, 50)]))]), Role::Owner, "INVALID"),
            (patch(policy_args(), &[("id", ID2.into())]), Role::Manager, "NOT_AUTHORIZED"),
        ],
    );
    let Err(ApplyError::Rejected(Rejection::Invalid(e))) = run(
        &mem,
        "upsert_cancellation_policy.v1",
        patch(own, &[("rules", json!([rule(48, 100), rule(24, 101)]))]),
        Role::Owner,
    ) else {
        panic!()
    };
    assert_eq!(e.field, "rules[1].refund_percentage");
}

#[test]
fn faqs_and_inclusions_belong_to_a_tour() {
    let mem = world();
    let faq =
        json!({"id": ID, "tour_id": TOUR, "question": "Is it wheelchair accessible?", "answer": "Yes, all of it."});
    let CatalogueRow::TourFaq(f) = one_row(&run_write(&mem, "upsert_tour_faq.v1", faq.clone(), Role::Owner)) else {
        panic!()
    };
    assert!(f.is_published);
    mem.put_tour(Tour { id: "t-2".into(), slug: "t-2".into(), ..tour() });
    table(
        &mem,
        "upsert_tour_faq.v1",
        vec![
            (faq.clone(), Role::Manager, "NOT_AUTHORIZED"),
            (patch(faq.clone(), &[("answer", " ".into())]), Role::Owner, "INVALID"),
            (patch(faq.clone(), &[("question", "".into())]), Role::Owner, "INVALID"),
            (patch(faq.clone(), &[("tour_id", "t-2".into())]), Role::Owner, "CONFLICT"),
            (patch(faq.clone(), &[("tour_id", "t-404".into())]), Role::Owner, "NOT_FOUND"),
        ],
    );
    assert_eq!(run_ok(&mem, "delete_tour_faq.v1", json!({"id": ID}), Role::Admin).len(), 1);
    assert_eq!(run_err(&mem, "delete_tour_faq.v1", json!({"id": ID}), Role::Guide), "NOT_AUTHORIZED");

    let inc = json!({"id": ID2, "tour_id": TOUR, "kind": "exclusion", "text": "Hotel pick-up", "icon": "bus"});
    let CatalogueRow::TourInclusion(i) =
        one_row(&run_write(&mem, "upsert_tour_inclusion.v1", inc.clone(), Role::Owner))
    else {
        panic!()
    };
    assert_eq!((i.kind, i.icon.as_deref()), (InclusionKind::Exclusion, Some("bus")));
    table(
        &mem,
        "upsert_tour_inclusion.v1",
        vec![
            (inc.clone(), Role::Manager, "NOT_AUTHORIZED"),
            (patch(inc.clone(), &[("kind", "maybe".into())]), Role::Owner, "INVALID"),
            (patch(inc.clone(), &[("text", "".into())]), Role::Owner, "INVALID"),
            (patch(inc.clone(), &[("tour_id", "t-2".into())]), Role::Owner, "CONFLICT"),
        ],
    );
    assert_eq!(run_write(&mem, "delete_tour_inclusion.v1", json!({"id": ID2}), Role::Owner).len(), 1);
    assert!(run_ok(&mem, "delete_tour_inclusion.v1", json!({"id": ID2}), Role::Owner).is_empty());
}

#[test]
fn reordering_faqs_writes_each_moved_row_and_refuses_other_tours_rows() {
    let mem = world();
    mem.put_tour(Tour { id: "t-2".into(), slug: "t-2".into(), ..tour() });
    let faq = |id: &str, tour_id: &str, order: i32| {
        CatalogueRow::TourFaq(TourFaq {
            id: id.into(),
            organization_id: ORG.into(),
            tour_id: tour_id.into(),
            question: "Q?".into(),
            answer: "A.".into(),
            sort_order: order,
            is_published: true,
        })
    };
    const ID3: &str = "00000000-0000-4000-8000-00000000ca03";
    mem.put_row(faq(ID, TOUR, 0));
    mem.put_row(faq(ID2, TOUR, 1));
    mem.put_row(faq(ID3, "t-2", 0));
    // Swap the two: both rows change, and a replay writes nothing.
    let args = json!({"tour_id": TOUR, "ids": [ID2, ID]});
    let changes = run_write(&mem, "reorder_tour_faqs.v1", args.clone(), Role::Owner);
    let orders: Vec<(String, i32)> = changes
        .iter()
        .map(|c| match c {
            Change::PutCatalogueRow(CatalogueRow::TourFaq(f)) => (f.id.clone(), f.sort_order),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(orders, vec![(ID2.to_string(), 0), (ID.to_string(), 1)]);
    assert!(run_ok(&mem, "reorder_tour_faqs.v1", args.clone(), Role::Owner).is_empty(), "replay");
    table(
        &mem,
        "reorder_tour_faqs.v1",
        vec![
            (args.clone(), Role::Manager, "NOT_AUTHORIZED"),
            (json!({"tour_id": TOUR, "ids": []}), Role::Owner, "INVALID"),
            (json!({"tour_id": TOUR, "ids": [ID, ID]}), Role::Owner, "INVALID"),
            (json!({"tour_id": TOUR, "ids": [ID, ID3]}), Role::Owner, "INVALID"),
            (json!({"tour_id": "t-404", "ids": [ID]}), Role::Owner, "NOT_FOUND"),
        ],
    );
    // Another tour's row is refused at its place in the list.
    let Err(ApplyError::Rejected(Rejection::Invalid(e))) =
        run(&mem, "reorder_tour_faqs.v1", json!({"tour_id": TOUR, "ids": [ID, ID3]}), Role::Owner)
    else {
        panic!()
    };
    assert_eq!(e.field, "ids[1]");
    // A FAQ is not an inclusion line.
    assert_eq!(
        run_err(&mem, "reorder_tour_inclusions.v1", json!({"tour_id": TOUR, "ids": [ID]}), Role::Owner),
        "INVALID"
    );
}

fn group_args() -> Value {
    json!({"id": ID, "tour_id": TOUR, "min_participants": 6, "discount": {"type": "percentage", "value": 1000}})
}

fn early_args() -> Value {
    json!({"id": ID, "tour_id": TOUR, "min_days_before": 30,
           "discount": {"type": "fixed", "value": {"amount": 500, "currency": "USD"}}})
}

#[test]
fn group_and_early_bird_discounts_are_written_whole_and_a_replay_writes_nothing() {
    let mem = world();
    let CatalogueRow::GroupDiscount(g) =
        one_row(&run_write(&mem, "upsert_group_discount.v1", group_args(), Role::Owner))
    else {
        panic!()
    };
    assert_eq!((g.tour_id.as_str(), g.min_participants), (TOUR, 6));
    assert_eq!(g.discount, Adjustment::Percentage(Percent::whole(10)));
    assert!(run_ok(&mem, "upsert_group_discount.v1", group_args(), Role::Admin).is_empty(), "replay");
    let CatalogueRow::EarlyBirdDiscount(e) =
        one_row(&run_write(&mem, "upsert_early_bird_discount.v1", early_args(), Role::Owner))
    else {
        panic!()
    };
    assert_eq!(
        (e.min_days_before, e.discount),
        (30, Adjustment::Fixed(crate::money::Money::new(500, crate::money::Currency::USD)))
    );
    // Same id, another kind: the two kinds are separate rows.
    assert_eq!(run_write(&mem, "delete_group_discount.v1", json!({"id": ID}), Role::Owner).len(), 1);
    assert!(run_ok(&mem, "delete_group_discount.v1", json!({"id": ID}), Role::Owner).is_empty(), "already gone");
    assert_eq!(run_write(&mem, "delete_early_bird_discount.v1", json!({"id": ID}), Role::Owner).len(), 1);
}

#[test]
fn automatic_discount_refusals_name_their_field() {
    let mem = world();
    mem.put_tour(Tour { id: "t-2".into(), slug: "t-2".into(), ..tour() });
    mem.put_row(CatalogueRow::GroupDiscount(GroupDiscountRule {
        id: ID2.into(),
        organization_id: ORG.into(),
        tour_id: "t-2".into(),
        min_participants: 4,
        discount: Adjustment::Percentage(Percent::whole(5)),
    }));
    // The tour's price list already has a rule at 8 participants and one at 60 days.
    {
        let mut s = mem.state.borrow_mut();
        let cat = s.catalogs.get_mut(TOUR).unwrap();
        cat.group_discounts = vec![crate::pricing::GroupDiscount {
            min_participants: 8,
            discount: Adjustment::Percentage(Percent::whole(5)),
        }];
        cat.early_bird_discounts = vec![crate::pricing::EarlyBirdDiscount {
            min_days_before: 60,
            discount: Adjustment::Percentage(Percent::whole(5)),
        }];
    }
    let field = |name: &str, args: Value| match run(&mem, name, args, Role::Owner) {
        Err(ApplyError::Rejected(Rejection::Invalid(e))) => e.field,
        Err(ApplyError::Rejected(Rejection::Conflict { field, .. })) => field,
        other => panic!("{name}: {other:?}"),
    };
    let g = |k: &str, v: Value| patch(group_args(), &[(k, v)]);
    let e = |k: &str, v: Value| patch(early_args(), &[(k, v)]);
    table(
        &mem,
        "upsert_group_discount.v1",
        vec![
            (group_args(), Role::Manager, "NOT_AUTHORIZED"),
            (group_args(), Role::Guide, "NOT_AUTHORIZED"),
            (g("min_participants", 1.into()), Role::Owner, "INVALID"),
            (g("min_participants", 1001.into()), Role::Owner, "INVALID"),
            (g("min_participants", 8.into()), Role::Owner, "CONFLICT"),
            (g("discount", json!({"type": "percentage", "value": 0})), Role::Owner, "INVALID"),
            (g("discount", json!({"type": "percentage", "value": 10001})), Role::Owner, "INVALID"),
            (
                g("discount", json!({"type": "fixed", "value": {"amount": 500, "currency": "EUR"}})),
                Role::Owner,
                "INVALID",
            ),
            (
                g("discount", json!({"type": "fixed", "value": {"amount": 0, "currency": "USD"}})),
                Role::Owner,
                "INVALID",
            ),
            (g("tour_id", "t-404".into()), Role::Owner, "NOT_FOUND"),
            (g("id", ID2.into()), Role::Owner, "CONFLICT"),
            (g("id", "not-a-uuid".into()), Role::Owner, "INVALID"),
        ],
    );
    assert_eq!(field("upsert_group_discount.v1", g("min_participants", 1.into())), "min_participants");
    assert_eq!(field("upsert_group_discount.v1", g("min_participants", 8.into())), "min_participants");
    assert_eq!(field("upsert_group_discount.v1", g("discount", json!({"type": "percentage", "value": 0}))), "discount");
    table(
        &mem,
        "upsert_early_bird_discount.v1",
        vec![
            (early_args(), Role::Manager, "NOT_AUTHORIZED"),
            (e("min_days_before", 0.into()), Role::Owner, "INVALID"),
            (e("min_days_before", 731.into()), Role::Owner, "INVALID"),
            (e("min_days_before", 60.into()), Role::Owner, "CONFLICT"),
            (
                e("discount", json!({"type": "fixed", "value": {"amount": 500, "currency": "EUR"}})),
                Role::Owner,
                "INVALID",
            ),
        ],
    );
    assert_eq!(field("upsert_early_bird_discount.v1", e("min_days_before", 0.into())), "min_days_before");
    assert_eq!(field("upsert_early_bird_discount.v1", e("min_days_before", 60.into())), "min_days_before");
    assert_eq!(run_err(&mem, "delete_early_bird_discount.v1", json!({"id": ID2}), Role::Manager), "NOT_AUTHORIZED");
    // A rule keeps its own threshold when its discount is edited.
    mem.put_row(CatalogueRow::GroupDiscount(GroupDiscountRule {
        id: ID.into(),
        organization_id: ORG.into(),
        tour_id: TOUR.into(),
        min_participants: 8,
        discount: Adjustment::Percentage(Percent::whole(5)),
    }));
    assert_eq!(run_ok(&mem, "upsert_group_discount.v1", g("min_participants", 8.into()), Role::Owner).len(), 1);
}

fn shared_policy(id: &str, tour: Option<&str>) -> CatalogueRow {
    CatalogueRow::CancellationPolicy(CancellationPolicyRow {
        id: id.into(),
        organization_id: ORG.into(),
        tour_id: tour.map(Into::into),
        name: format!("Policy {id}"),
        description: String::new(),
        rules: vec![],
        is_default: false,
    })
}

#[test]
fn a_tour_chooses_a_shared_policy_and_back() {
    let mem = world();
    mem.put_row(shared_policy(ID, None));
    let args = json!({"tour_id": TOUR, "cancellation_policy_id": ID});
    let changes = run_write(&mem, "set_tour_cancellation_policy.v1", args.clone(), Role::Owner);
    assert!(matches!(&changes[..], [Change::PutTour(t)] if t.cancellation_policy_id.as_deref() == Some(ID)));
    assert!(run_ok(&mem, "set_tour_cancellation_policy.v1", args, Role::Owner).is_empty(), "replay");
    let back = run_ok(
        &mem,
        "set_tour_cancellation_policy.v1",
        json!({"tour_id": TOUR, "cancellation_policy_id": null}),
        Role::Owner,
    );
    assert!(matches!(&back[..], [Change::PutTour(t)] if t.cancellation_policy_id.is_none()));
}

#[test]
fn a_tour_cannot_choose_a_missing_or_another_tours_policy() {
    let mem = world();
    mem.put_tour(Tour { id: "t-2".into(), slug: "t-2".into(), ..tour() });
    mem.put_row(shared_policy(ID2, Some("t-2")));
    let field = |args: Value| match run(&mem, "set_tour_cancellation_policy.v1", args, Role::Owner) {
        Err(ApplyError::Rejected(Rejection::Invalid(e))) => e.field,
        other => panic!("{other:?}"),
    };
    // An id of another organization is not there in this one.
    assert_eq!(field(json!({"tour_id": TOUR, "cancellation_policy_id": ID})), "cancellation_policy_id");
    assert_eq!(field(json!({"tour_id": TOUR, "cancellation_policy_id": ID2})), "cancellation_policy_id");
    assert_eq!(field(json!({"tour_id": TOUR, "cancellation_policy_id": " "})), "cancellation_policy_id");
    // Its own policy is the tour's to choose.
    assert_eq!(
        run_ok(
            &mem,
            "set_tour_cancellation_policy.v1",
            json!({"tour_id": "t-2", "cancellation_policy_id": ID2}),
            Role::Owner
        )
        .len(),
        1
    );
    let args = json!({"tour_id": TOUR, "cancellation_policy_id": null});
    assert_eq!(run_err(&mem, "set_tour_cancellation_policy.v1", args.clone(), Role::Manager), "NOT_AUTHORIZED");
    assert_eq!(run_err(&mem, "set_tour_cancellation_policy.v1", args.clone(), Role::Guide), "NOT_AUTHORIZED");
    assert_eq!(
        run_err(
            &mem,
            "set_tour_cancellation_policy.v1",
            json!({"tour_id": "t-404", "cancellation_policy_id": null}),
            Role::Owner
        ),
        "NOT_FOUND"
    );
}

//! Property tests for the pricing engine's invariants, over random catalogs and requests.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use tourdesk_domain::money::{Currency, Money, Percent};
use tourdesk_domain::pricing::{
    Adjustment, EarlyBirdDiscount, GroupDiscount, LineRequest, ManualDiscount, PricingCatalog, PromoApplication,
    PromoCode, PromoStatus, QuoteRequest, SeasonalAdjustment, TaxRule, Tier, quote,
};

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![Just(Currency::USD), Just(Currency::JPY), Just(Currency::KWD)]
}

/// A discount in `c`: 0–150 % or a fixed amount, possibly larger than any booking.
fn discount(c: Currency) -> impl Strategy<Value = Adjustment> {
    prop_oneof![
        (0i64..15_000).prop_map(|bp| Adjustment::Percentage(Percent::from_basis_points(bp))),
        (0i64..200_000).prop_map(move |a| Adjustment::Fixed(Money::new(a, c))),
    ]
}

/// A seasonal change in `c`: −100 % … +200 % or a fixed ± amount per participant.
fn season_adjustment(c: Currency) -> impl Strategy<Value = Adjustment> {
    prop_oneof![
        (-10_000i64..20_000).prop_map(|bp| Adjustment::Percentage(Percent::from_basis_points(bp))),
        (-50_000i64..50_000).prop_map(move |a| Adjustment::Fixed(Money::new(a, c))),
    ]
}

fn base_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
}

#[derive(Debug)]
struct Case {
    catalog: PricingCatalog,
    lines: Vec<LineRequest>,
    promo: Option<PromoCode>,
    manual: Option<ManualDiscount>,
    departure_offset_days: i64,
    booked_days_ahead: i64,
}

fn case() -> impl Strategy<Value = Case> {
    currency().prop_flat_map(|c| {
        let tiers = prop::collection::vec(0i64..1_000_000, 1..5);
        let seasons = prop::collection::vec((0i64..60, 0i64..60, season_adjustment(c), -3i32..3), 0..4);
        let groups = prop::collection::vec((1u32..30, discount(c)), 0..3);
        let birds = prop::collection::vec((0u32..90, discount(c)), 0..3);
        let taxes = prop::collection::vec((0i64..3_000, any::<bool>()), 0..4);
        let quantities = prop::collection::vec(1u32..40, 1..5);
        let promo = prop::option::of((discount(c), prop::option::of(0i64..2_000_000)));
        let manual = prop::option::of(discount(c));
        (tiers, seasons, groups, birds, taxes, quantities, promo, manual, 0i64..60, 0i64..120).prop_map(
            move |(tiers, seasons, groups, birds, taxes, quantities, promo, manual, dep, ahead)| {
                let catalog = PricingCatalog {
                    tour_id: "tour".into(),
                    currency: c,
                    tiers: tiers
                        .iter()
                        .enumerate()
                        .map(|(i, p)| Tier {
                            id: format!("t{i}"),
                            variant_id: None,
                            name: format!("Tier {i}"),
                            base_price: Money::new(*p, c),
                            min_age: None,
                            max_age: None,
                            valid_from: None,
                            valid_until: None,
                            is_default: i == 0,
                            sort_order: i as i32,
                            min_per_booking: None,
                            max_per_booking: None,
                        })
                        .collect(),
                    seasons: seasons
                        .into_iter()
                        .enumerate()
                        .map(|(i, (start, len, adjustment, priority))| SeasonalAdjustment {
                            id: format!("s{i}"),
                            name: format!("Season {i}"),
                            start_date: base_date() + Duration::days(start),
                            end_date: base_date() + Duration::days(start + len),
                            adjustment,
                            priority,
                        })
                        .collect(),
                    group_discounts: groups
                        .into_iter()
                        .map(|(min_participants, discount)| GroupDiscount { min_participants, discount })
                        .collect(),
                    early_bird_discounts: birds
                        .into_iter()
                        .map(|(min_days_before, discount)| EarlyBirdDiscount { min_days_before, discount })
                        .collect(),
                    taxes: taxes
                        .into_iter()
                        .enumerate()
                        .map(|(i, (bp, inclusive))| TaxRule {
                            name: format!("Tax {i}"),
                            rate: Percent::from_basis_points(bp),
                            inclusive,
                        })
                        .collect(),
                };
                let lines = quantities
                    .iter()
                    .take(catalog.tiers.len())
                    .enumerate()
                    .map(|(i, q)| LineRequest { tier_id: format!("t{i}"), quantity: *q, ages: vec![] })
                    .collect();
                let promo = promo.map(|(discount, min)| PromoCode {
                    id: "promo".into(),
                    code: "CODE".into(),
                    discount,
                    min_booking_value: min.map(|m| Money::new(m, c)),
                    max_uses: None,
                    max_uses_per_customer: None,
                    valid_from: Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap(),
                    valid_until: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
                    applicable_tour_ids: vec![],
                    applicable_variant_ids: vec![],
                    current_uses: 0,
                    status: PromoStatus::Active,
                });
                let manual = manual.map(|discount| ManualDiscount { description: "Manual".into(), discount });
                Case { catalog, lines, promo, manual, departure_offset_days: dep, booked_days_ahead: ahead }
            },
        )
    })
}

fn run(case: &Case, catalog: &PricingCatalog) -> tourdesk_domain::pricing::Quote {
    let date = base_date() + Duration::days(case.departure_offset_days);
    let starts_at: DateTime<Utc> = date.and_hms_opt(9, 0, 0).unwrap().and_utc();
    let req = QuoteRequest {
        variant_id: "v",
        departure_date: date,
        departure_starts_at: starts_at,
        quoted_at: starts_at - Duration::days(case.booked_days_ahead),
        lines: &case.lines,
        promo: case.promo.as_ref().map(|code| PromoApplication { code, customer_uses: 0 }),
        manual_discount: case.manual.as_ref(),
    };
    quote(catalog, &req).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn pricing_invariants(case in case()) {
        let q = run(&case, &case.catalog);
        let s = &q.snapshot;
        let c = case.catalog.currency;

        // Currency preserved everywhere.
        prop_assert!(s.line_items.iter().all(|l| l.unit_price.currency == c && l.total_price.currency == c));
        prop_assert!(s.discounts.iter().all(|d| d.amount.currency == c));
        prop_assert!(s.taxes.iter().all(|t| t.amount.currency == c));
        prop_assert_eq!(s.subtotal.currency, c);
        prop_assert_eq!(s.total.currency, c);

        // Lines: unit × quantity, never negative, and they sum to the subtotal.
        for l in &s.line_items {
            prop_assert!(l.unit_price.amount >= 0);
            prop_assert_eq!(l.total_price.amount, l.unit_price.amount * i64::from(l.quantity));
        }
        let lines: i64 = s.line_items.iter().map(|l| l.total_price.amount).sum();
        prop_assert_eq!(lines, s.subtotal.amount);

        // 0 ≤ each discount, 0 ≤ all discounts ≤ subtotal.
        prop_assert!(s.discounts.iter().all(|d| d.amount.amount >= 0));
        let discounts = s.discount_total().unwrap().amount;
        prop_assert!(0 <= discounts && discounts <= s.subtotal.amount);

        // total = subtotal − discounts + exclusive taxes, never negative.
        let exclusive = s.exclusive_tax_total().unwrap().amount;
        prop_assert_eq!(s.total.amount, s.subtotal.amount - discounts + exclusive);
        prop_assert!(s.total.amount >= 0);
        prop_assert!(s.taxes.iter().all(|t| t.amount.amount >= 0));
        let inclusive: i64 = s.taxes.iter().filter(|t| t.inclusive).map(|t| t.amount.amount).sum();
        prop_assert!(inclusive <= s.subtotal.amount - discounts);

        // Deterministic, whatever order seasons are stored in.
        let mut reordered = case.catalog.clone();
        reordered.seasons.reverse();
        prop_assert_eq!(&run(&case, &reordered), &q);

        // The snapshot survives its wire format.
        let json = serde_json::to_string(s).unwrap();
        prop_assert_eq!(&serde_json::from_str::<tourdesk_domain::pricing::PricingSnapshot>(&json).unwrap(), s);
    }
}

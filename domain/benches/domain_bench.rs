//! `cargo bench -p tourdesk-domain`: quotes per second for a realistic tour, and the time to
//! expand a year of departures for 100 variants. Plain `Instant` timing keeps the dependency
//! list short; the numbers are for spotting regressions, not for publication.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
use tourdesk_domain::availability::{AvailabilityPattern, PatternKind, SlotTemplate, expand, parse_zone};
use tourdesk_domain::money::{Currency, Money, Percent};
use tourdesk_domain::pricing::{
    Adjustment, LineRequest, PricingCatalog, PromoApplication, PromoCode, PromoStatus, QuoteRequest,
    SeasonalAdjustment, TaxRule, Tier, quote,
};

fn tier(id: &str, name: &str, price: i64, ages: (Option<u32>, Option<u32>), sort: i32) -> Tier {
    Tier {
        id: id.into(),
        variant_id: None,
        name: name.into(),
        base_price: Money::new(price, Currency::EUR),
        min_age: ages.0,
        max_age: ages.1,
        valid_from: None,
        valid_until: None,
        is_default: sort == 0,
        sort_order: sort,
        min_per_booking: None,
        max_per_booking: None,
    }
}

fn bench_quotes() {
    let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    let catalog = PricingCatalog {
        tour_id: "old-town".into(),
        currency: Currency::EUR,
        tiers: vec![
            tier("adult", "Adult", 4500, (Some(13), None), 0),
            tier("child", "Child", 2250, (Some(4), Some(12)), 1),
            tier("senior", "Senior", 3800, (Some(65), None), 2),
        ],
        seasons: vec![
            SeasonalAdjustment {
                id: "summer".into(),
                name: "Summer".into(),
                start_date: d(6, 1),
                end_date: d(8, 31),
                adjustment: Adjustment::Percentage(Percent::whole(20)),
                priority: 1,
            },
            SeasonalAdjustment {
                id: "festival".into(),
                name: "Festival week".into(),
                start_date: d(7, 10),
                end_date: d(7, 17),
                adjustment: Adjustment::Fixed(Money::new(1000, Currency::EUR)),
                priority: 2,
            },
        ],
        group_discounts: vec![],
        early_bird_discounts: vec![],
        taxes: vec![
            TaxRule { name: "VAT".into(), rate: Percent::whole(10), inclusive: true },
            TaxRule { name: "City tax".into(), rate: Percent::from_basis_points(350), inclusive: false },
        ],
    };
    let promo = PromoCode {
        id: "p".into(),
        code: "SUMMER15".into(),
        discount: Adjustment::Percentage(Percent::whole(15)),
        min_booking_value: Some(Money::new(5000, Currency::EUR)),
        max_uses: Some(500),
        max_uses_per_customer: Some(1),
        valid_from: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        valid_until: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
        applicable_tour_ids: vec!["old-town".into()],
        applicable_variant_ids: vec![],
        current_uses: 42,
        status: PromoStatus::Active,
    };
    let lines = vec![
        LineRequest { tier_id: "adult".into(), quantity: 2, ages: vec![] },
        LineRequest { tier_id: "child".into(), quantity: 2, ages: vec![6, 9] },
        LineRequest { tier_id: "senior".into(), quantity: 1, ages: vec![] },
    ];
    let starts_at = Utc.with_ymd_and_hms(2026, 7, 12, 8, 0, 0).unwrap();
    let req = QuoteRequest {
        variant_id: "morning",
        departure_date: d(7, 12),
        departure_starts_at: starts_at,
        quoted_at: Utc.with_ymd_and_hms(2026, 6, 1, 10, 0, 0).unwrap(),
        lines: &lines,
        promo: Some(PromoApplication { code: &promo, customer_uses: 0 }),
        manual_discount: None,
    };
    let sample = quote(&catalog, &req).unwrap();
    assert_eq!(sample.snapshot.discounts.len(), 1);

    let mut n: u64 = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(1) {
        for _ in 0..1000 {
            black_box(quote(black_box(&catalog), black_box(&req)).unwrap());
        }
        n += 1000;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "quote (3 tiers, 2 seasons, promo, 2 taxes): {:.0} quotes/s ({:.2} µs/quote); total {}",
        n as f64 / secs,
        secs * 1e6 / n as f64,
        sample.snapshot.total.display_with_symbol()
    );
}

fn bench_expansion() {
    let pattern = AvailabilityPattern {
        kind: PatternKind::Recurring,
        days_of_week: (0..7).collect(),
        specific_dates: vec![],
        start_times: [9, 13, 17].iter().map(|h| NaiveTime::from_hms_opt(*h, 0, 0).unwrap()).collect(),
        valid_from: None,
        valid_until: None,
        excluded_dates: vec![NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()],
    };
    let tz = parse_zone("America/New_York").unwrap();
    let templates: Vec<SlotTemplate> = (0..100)
        .map(|i| SlotTemplate {
            variant_id: format!("variant-{i:03}"),
            timezone: tz,
            duration_minutes: 120,
            capacity: 20,
        })
        .collect();
    let from = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let until = NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
    let mut best = Duration::MAX;
    let mut count = 0;
    for _ in 0..5 {
        let started = Instant::now();
        count = 0;
        for t in &templates {
            count += black_box(expand(black_box(&pattern), t, from, until).unwrap()).len();
        }
        best = best.min(started.elapsed());
    }
    println!(
        "expand 1 year × 3 starts/day × 100 variants: {count} departures in {:.1} ms (best of 5)",
        best.as_secs_f64() * 1e3
    );
}

fn main() {
    bench_quotes();
    bench_expansion();
}

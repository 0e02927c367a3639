//! Demo data for development and demos: one organization, its staff and a small catalogue
//! with two weeks of departures. Idempotent: does nothing if the demo organization exists.

use chrono::{Duration, NaiveTime, TimeZone, Utc};
use deadpool_postgres::Pool;
use tourdesk_domain::money::Money;
use tourdesk_domain::status::{DepartureStatus, TourCategory, TourStatus};
use tourdesk_domain::{Currency, Departure, PricingTier, Tour, TourVariant};

use crate::{auth, db};

pub const DEMO_ORG_SLUG: &str = "demo";
pub const DEMO_OWNER_EMAIL: &str = "owner@demo.tourdesk.test";
pub const DEMO_MANAGER_EMAIL: &str = "manager@demo.tourdesk.test";
pub const DEMO_GUIDE_EMAIL: &str = "guide@demo.tourdesk.test";
/// Demo-only password, printed in the README; real organizations set their own.
pub const DEMO_PASSWORD: &str = "tourdesk-demo";
/// 10 % off, once per customer.
pub const DEMO_PROMO_CODE: &str = "WELCOME10";

struct DemoTour {
    name: &'static str,
    slug: &'static str,
    blurb: &'static str,
    category: TourCategory,
    tz: chrono_tz::Tz,
    currency: &'static str,
    minutes: u32,
    capacity: u32,
    starts: &'static [(u32, u32)],
    tiers: &'static [(&'static str, i64)],
}

const TOURS: &[DemoTour] = &[
    DemoTour {
        name: "Alfama Old Town Walk",
        slug: "alfama-old-town-walk",
        blurb: "Tiled lanes, fado houses and the castle viewpoint.",
        category: TourCategory::Walking,
        tz: chrono_tz::Europe::Lisbon,
        currency: "EUR",
        minutes: 150,
        capacity: 12,
        starts: &[(10, 0), (15, 0)],
        tiers: &[("Adult", 3500), ("Child (5-12)", 1800)],
    },
    DemoTour {
        name: "Brooklyn Bites Food Tour",
        slug: "brooklyn-bites",
        blurb: "Eight tastings across DUMBO and Brooklyn Heights.",
        category: TourCategory::Food,
        tz: chrono_tz::America::New_York,
        currency: "USD",
        minutes: 180,
        capacity: 10,
        starts: &[(11, 30)],
        tiers: &[("Adult", 8900), ("Senior", 7900)],
    },
    DemoTour {
        name: "Kyoto Temples at Dawn",
        slug: "kyoto-temples-at-dawn",
        blurb: "Fushimi Inari before the crowds.",
        category: TourCategory::Cultural,
        tz: chrono_tz::Asia::Tokyo,
        currency: "JPY",
        minutes: 240,
        capacity: 8,
        starts: &[(6, 0)],
        tiers: &[("Adult", 12000), ("Child", 6000)],
    },
];

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub async fn demo(pool: &Pool) -> anyhow::Result<()> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let exists = tx.query_opt("SELECT 1 FROM organizations WHERE slug = $1", &[&DEMO_ORG_SLUG]).await?.is_some();
    if exists {
        return Ok(());
    }
    let org = id();
    tx.execute(
        "INSERT INTO organizations (id, name, slug, business_email, timezone, default_currency)
         VALUES ($1, 'Demo Tours', $2, 'hello@demo.tourdesk.test', 'Europe/Lisbon', 'EUR')",
        &[&org, &DEMO_ORG_SLUG],
    )
    .await?;
    let hash = auth::hash_password(DEMO_PASSWORD)?;
    for (email, name, role) in [
        (DEMO_OWNER_EMAIL, "Olivia Owner", "owner"),
        (DEMO_MANAGER_EMAIL, "Manuel Manager", "manager"),
        (DEMO_GUIDE_EMAIL, "Gina Guide", "guide"),
    ] {
        tx.execute(
            "INSERT INTO staff_users (id, organization_id, email, name, role, password_hash)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&id(), &org, &email, &name, &role, &hash],
        )
        .await?;
    }
    // What a customer cancelling on the website gets back, and a code to try at checkout.
    tx.execute(
        "INSERT INTO cancellation_policies (id, organization_id, name, description, rules, is_default)
         VALUES ($1, $2, 'Flexible', 'Full refund up to 48 hours before; half up to 24 hours before', $3, true)",
        &[
            &id(),
            &org,
            &serde_json::json!([
                {"hours_before_tour": 48, "refund_percentage": 100},
                {"hours_before_tour": 24, "refund_percentage": 50}
            ]),
        ],
    )
    .await?;
    tx.execute(
        "INSERT INTO promotional_codes (id, organization_id, code, discount_type, discount_value, valid_from,
                                        valid_until, max_uses_per_customer)
         VALUES ($1, $2, $3, 'percentage', 1000, now() - interval '1 day', now() + interval '1 year', 1)",
        &[&id(), &org, &DEMO_PROMO_CODE],
    )
    .await?;
    let today = Utc::now().date_naive();
    for t in TOURS {
        let currency = Currency::parse(t.currency)?;
        let tour = Tour {
            id: id(),
            organization_id: org.clone(),
            name: t.name.into(),
            slug: t.slug.into(),
            short_description: t.blurb.into(),
            duration_minutes: t.minutes,
            default_capacity: t.capacity,
            min_participants: 1,
            category: t.category,
            timezone: t.tz.name().into(),
            meeting_point: String::new(),
            status: TourStatus::Active,
        };
        db::put_tour(&tx, &tour).await?;
        let variant = TourVariant {
            id: id(),
            organization_id: org.clone(),
            tour_id: tour.id.clone(),
            name: "Small group".into(),
            capacity: None,
            duration_minutes: None,
            active: true,
            sort_order: 0,
        };
        db::put_variant(&tx, &variant).await?;
        for (i, (name, price)) in t.tiers.iter().enumerate() {
            db::put_tier(
                &tx,
                &PricingTier {
                    id: id(),
                    organization_id: org.clone(),
                    tour_id: tour.id.clone(),
                    variant_id: None,
                    name: (*name).into(),
                    base_price: Money::new(*price, currency),
                    min_age: None,
                    max_age: None,
                    is_default: i == 0,
                    sort_order: i as i32,
                },
            )
            .await?;
        }
        for day in 1..=14 {
            let date = today + Duration::days(day);
            for (h, m) in t.starts {
                let time = NaiveTime::from_hms_opt(*h, *m, 0).ok_or_else(|| anyhow::anyhow!("bad demo time"))?;
                // Demo start times are never inside a DST gap, so `earliest` always exists.
                let start =
                    t.tz.from_local_datetime(&date.and_time(time))
                        .earliest()
                        .ok_or_else(|| anyhow::anyhow!("demo time in a DST gap"))?
                        .with_timezone(&Utc);
                let booked = ((day as u32) * 3 + h) % (t.capacity + 1);
                db::put_departure(
                    &tx,
                    &Departure {
                        id: id(),
                        organization_id: org.clone(),
                        tour_id: tour.id.clone(),
                        variant_id: variant.id.clone(),
                        local_date: date,
                        local_time: time,
                        timezone: t.tz.name().into(),
                        starts_at: start,
                        ends_at: start + Duration::minutes(i64::from(t.minutes)),
                        capacity: t.capacity,
                        booked_count: booked,
                        status: if booked == t.capacity { DepartureStatus::Full } else { DepartureStatus::Open },
                    },
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    tracing::info!("seeded the demo organization");
    Ok(())
}

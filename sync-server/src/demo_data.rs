//! Demo data for development and demos: one organization, its staff and a small catalogue
//! with two weeks of departures, a few customers and bookings, and the demo guide assigned to
//! two departures. Idempotent: does nothing if the demo organization exists.
//!
//! Every seat a departure shows booked is held by a seeded booking: departures are written empty
//! and the bookings, made through `create_booking.v1` like a desk's, count their own seats.

use chrono::{Datelike, Duration, NaiveTime, TimeZone, Utc};
use deadpool_postgres::Pool;
use tourdesk_domain::cancellation::CancellationRule;
use tourdesk_domain::catalogue::{CancellationPolicyRow, CatalogueRow, PromotionalCode};
use tourdesk_domain::entities::{Guide, GuideAssignment};
use tourdesk_domain::guides::{AssignmentStatus, DayTime, GuideStatus, TimeRange, WeeklyAvailability};
use tourdesk_domain::money::{Money, Percent};
use tourdesk_domain::mutation::{Mutation, MutationCtx};
use tourdesk_domain::pricing::{Adjustment, PromoStatus};
use tourdesk_domain::roles::Role;
use tourdesk_domain::status::{DepartureStatus, TourCategory, TourStatus};
use tourdesk_domain::{Currency, Departure, PricingTier, Tour, TourVariant};

use crate::db::WriteTx;
use crate::{apply, auth, db};

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

/// Loads the demo data through `pool`, which may be the owner's (migrations) or the server's: every statement
/// runs in the new organization's tenant, so row-level security binds either the same way.
pub async fn demo(pool: &Pool) -> anyhow::Result<()> {
    let mut client = pool.get().await?;
    let org = id();
    // Bookings go through the mutators, which read under the tenant's row-level security.
    let tx = WriteTx::new(client.transaction().await?, &org).await?;
    // Another organization's row is invisible here, but the unique slug still sees it.
    let created = tx
        .execute(
            "INSERT INTO organizations (id, name, slug, business_email, timezone, default_currency, country_code)
             VALUES ($1, 'Demo Tours', $2, 'hello@demo.tourdesk.test', 'Europe/Lisbon', 'EUR', 'PT')
             ON CONFLICT (slug) DO NOTHING",
            &[&org, &DEMO_ORG_SLUG],
        )
        .await?;
    if created == 0 {
        return Ok(());
    }
    let hash = auth::hash_password(DEMO_PASSWORD)?;
    let mut staff = std::collections::HashMap::new();
    for (email, name, role) in [
        (DEMO_OWNER_EMAIL, "Olivia Owner", "owner"),
        (DEMO_MANAGER_EMAIL, "Manuel Manager", "manager"),
        (DEMO_GUIDE_EMAIL, "Gina Guide", "guide"),
    ] {
        let user_id = id();
        tx.execute(
            "INSERT INTO staff_users (id, organization_id, email, name, role, password_hash)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&user_id, &org, &email, &name, &role, &hash],
        )
        .await?;
        staff.insert(email, user_id);
    }
    // What a customer cancelling on the website gets back, and a code to try at checkout.
    // Through the catalogue's writes, so every desk receives them like any edited row.
    db::put_catalogue_row(
        &tx,
        &CatalogueRow::CancellationPolicy(CancellationPolicyRow {
            id: id(),
            organization_id: org.clone(),
            tour_id: None,
            name: "Flexible".into(),
            description: "Full refund up to 48 hours before; half up to 24 hours before".into(),
            rules: vec![
                CancellationRule { hours_before_tour: 48, refund_percentage: 100 },
                CancellationRule { hours_before_tour: 24, refund_percentage: 50 },
            ],
            is_default: true,
        }),
    )
    .await?;
    db::put_catalogue_row(
        &tx,
        &CatalogueRow::PromoCode(PromotionalCode {
            id: id(),
            organization_id: org.clone(),
            code: DEMO_PROMO_CODE.into(),
            discount: Adjustment::Percentage(Percent::whole(10)),
            min_booking_value: None,
            max_uses: None,
            max_uses_per_customer: Some(1),
            valid_from: Utc::now() - Duration::days(1),
            valid_until: Utc::now() + Duration::days(365),
            applicable_tour_ids: vec![],
            applicable_variant_ids: vec![],
            current_uses: 0,
            status: PromoStatus::Active,
        }),
    )
    .await?;
    let today = Utc::now().date_naive();
    let mut catalogue = Vec::new();
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
            cancellation_policy_id: None,
            full_description: String::new(),
            meeting_point_address: String::new(),
            meeting_point_lat: None,
            meeting_point_lng: None,
            meeting_point_instructions: String::new(),
            tags: vec![],
            languages: vec!["en".into()],
            accessibility_info: String::new(),
            what_to_bring: vec![],
            highlights: vec![],
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
        let mut tiers = Vec::new();
        let mut departures = Vec::new();
        for (i, (name, price)) in t.tiers.iter().enumerate() {
            let tier = PricingTier {
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
                valid_from: None,
                valid_until: None,
                min_per_booking: None,
                max_per_booking: None,
            };
            db::put_tier(&tx, &tier).await?;
            tiers.push(tier);
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
                let departure = Departure {
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
                    // The bookings below fill it, seat by seat.
                    booked_count: 0,
                    status: DepartureStatus::Open,
                    notes: String::new(),
                };
                db::put_departure(&tx, &departure).await?;
                departures.push(departure);
            }
        }
        catalogue.push((tour, tiers, departures));
    }
    let owner = staff.get(DEMO_OWNER_EMAIL).cloned().unwrap_or_default();
    let guide_user = staff.get(DEMO_GUIDE_EMAIL).cloned();
    operations(&tx, &org, &owner, guide_user, &catalogue).await?;
    tx.commit().await?;
    tracing::info!("loaded the demo organization");
    Ok(())
}

/// The demo guide, her two departures, and a handful of customers and bookings, so both an
/// office desk and the guide's device show realistic data. The guide is qualified for every
/// demo tour and available all week, so a manager can assign her more departures in a demo.
async fn operations(
    tx: &WriteTx<'_>,
    org: &str,
    owner: &str,
    guide_user: Option<String>,
    catalogue: &[(Tour, Vec<PricingTier>, Vec<Departure>)],
) -> anyhow::Result<()> {
    let Some((alfama, tiers, departures)) = catalogue.first() else { return Ok(()) };
    let all_day = || -> anyhow::Result<Vec<TimeRange>> {
        let (start, end) = (DayTime::from_hm(0, 0), DayTime::from_hm(24, 0));
        let (Some(start), Some(end)) = (start, end) else { anyhow::bail!("bad demo availability") };
        Ok(vec![TimeRange { start, end }])
    };
    let guide = Guide {
        id: id(),
        organization_id: org.into(),
        user_id: guide_user,
        first_name: "Gina".into(),
        last_name: "Guide".into(),
        email: DEMO_GUIDE_EMAIL.into(),
        phone: "+351 912 345 678".into(),
        languages: vec!["en".into(), "pt".into()],
        timezone: "Europe/Lisbon".into(),
        weekly_availability: WeeklyAvailability((0..7).map(|d| Ok((d, all_day()?))).collect::<anyhow::Result<_>>()?),
        status: GuideStatus::Active,
        qualified_tour_ids: catalogue.iter().map(|(t, _, _)| t.id.clone()).collect(),
        bio: Some("Born in Alfama; leads the morning walks.".into()),
        photo_url: None,
        emergency_contact: Some("Rui Guide +351 912 345 679".into()),
        time_off: Vec::new(),
    };
    db::put_guide(tx, &guide).await?;

    // Alfama's morning walks of days 6, 7 and 8 (two departures a day): the guide leads the first
    // two; the third has a booking she must not see. A week out, so the departures that tests
    // pick as "the next bookable one" stay empty of bookings.
    let morning = |day: usize| departures.get((day - 1) * 2).ok_or_else(|| anyhow::anyhow!("no demo departure"));
    let afternoon = |day: usize| departures.get((day - 1) * 2 + 1).ok_or_else(|| anyhow::anyhow!("no demo departure"));
    let (led, other) = ([morning(6)?, morning(7)?], morning(8)?);
    for d in led {
        // Assigned before the bookings exist, so the bookings reach `schedule:D` as they are
        // written and the assignment's snapshot stays small.
        let assignment = GuideAssignment {
            id: id(),
            organization_id: org.into(),
            departure_id: d.id.clone(),
            guide_id: guide.id.clone(),
            status: AssignmentStatus::Confirmed,
            assigned_at: Utc::now(),
            confirmed_at: Some(Utc::now()),
            notes: None,
            role: Default::default(),
            override_reason: None,
        };
        db::put_guide_assignment(tx, &assignment).await?;
    }

    let ctx = MutationCtx { organization_id: org.into(), role: Role::Owner, now: Utc::now(), user_id: owner.into() };
    let hlc = tourdesk_domain::hlc::Hlc::at(Utc::now(), 0, "demo").to_string();
    let people = [
        (Some("ana.costa"), "Ana", "Costa", "+351 913 000 111"),
        (Some("liam.murphy"), "Liam", "Murphy", "+353 85 000 2222"),
        (Some("yuki.tanaka"), "Yuki", "Tanaka", "+81 90 1234 5678"),
        (Some("sofia.rossi"), "Sofia", "Rossi", "+39 333 123 4567"),
        // A walk-in taken at the Lisbon counter: a name and a local number, no e-mail.
        (None, "Rui", "Santos", "912 000 999"),
    ];
    let mut customers = Vec::new();
    for (handle, first, last, phone) in people {
        let customer_id = id();
        let args = serde_json::json!({
            "id": customer_id, "email": handle.map(|h| format!("{h}@example.com")), "first_name": first,
            "last_name": last, "phone": phone, "default_region": "PT", "hlc": hlc,
        });
        run(tx, &ctx, "create_customer.v1", args).await?;
        customers.push(customer_id);
    }
    let Some(adult) = tiers.first().map(|t| &t.id) else { anyhow::bail!("the demo tour has no prices") };
    let child = tiers.get(1).map_or(adult, |t| &t.id);
    let bookings = [
        (led[0], &customers[0], serde_json::json!([{"tier_id": adult, "quantity": 2}])),
        (
            led[0],
            &customers[1],
            serde_json::json!([{"tier_id": adult, "quantity": 1}, {"tier_id": child, "quantity": 1}]),
        ),
        (led[1], &customers[2], serde_json::json!([{"tier_id": adult, "quantity": 2}])),
        (other, &customers[3], serde_json::json!([{"tier_id": adult, "quantity": 2}])),
        // A busy afternoon (day 9) and a sold-out one (day 10), so lists show both; full by its
        // bookings, not by a number.
        (afternoon(9)?, &customers[4], serde_json::json!([{"tier_id": adult, "quantity": 3}])),
        (afternoon(10)?, &customers[0], serde_json::json!([{"tier_id": adult, "quantity": 4}])),
        (afternoon(10)?, &customers[1], serde_json::json!([{"tier_id": adult, "quantity": 4}])),
        (
            afternoon(10)?,
            &customers[4],
            serde_json::json!([{"tier_id": adult, "quantity": 2}, {"tier_id": child, "quantity": 2}]),
        ),
    ];
    for (d, customer_id, lines) in bookings {
        let args = serde_json::json!({
            "id": id(), "tour_id": alfama.id, "departure_id": d.id, "customer_id": customer_id,
            "lines": lines, "reference_year": Utc::now().year(),
            "reference_entropy": uuid::Uuid::new_v4().as_u64_pair().0,
        });
        run(tx, &ctx, "create_booking.v1", args).await?;
    }
    Ok(())
}

/// Runs a mutation as the owner, through the same path as a desk's push.
async fn run(tx: &WriteTx<'_>, ctx: &MutationCtx, name: &str, args: serde_json::Value) -> anyhow::Result<()> {
    let m = Mutation::decode(name, &args).map_err(|r| anyhow::anyhow!("demo {name}: {r}"))?;
    match apply::run_mutation(tx, &m, ctx, &ctx.user_id).await {
        Ok(_) => Ok(()),
        Err(apply::Failure::Rejected(r)) => Err(anyhow::anyhow!("demo {name} rejected: {r}")),
        Err(apply::Failure::Transient(why)) => Err(anyhow::anyhow!("demo {name}: {why}")),
    }
}

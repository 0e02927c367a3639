//! Demo data for development and demos: one organization, its staff and a small catalogue
//! with two weeks of departures, a few customers and bookings, and the demo guide assigned to
//! two departures. Idempotent: does nothing if the demo organization exists.
//!
//! Every seat a departure shows booked is held by a seeded booking: departures are written empty
//! and the bookings, made through `create_booking.v1` like a desk's, count their own seats.
//!
//! Every amount paid or refunded is a ledger entry made the way real money makes one: cash, a
//! card terminal and a bank transfer through `record_payment.v1`; card money and its refunds
//! through the Stripe webhook's own fold ([`crate::payments::webhooks::apply_seeded`]), so the
//! reports show real money (several currencies, a full and a partial refund) that adds up.

use chrono::{Datelike, Duration, NaiveTime, TimeZone, Utc};
use deadpool_postgres::Pool;
use tourdesk_domain::cancellation::CancellationRule;
use tourdesk_domain::catalogue::{CancellationPolicyRow, CatalogueRow, PromotionalCode};
use tourdesk_domain::entities::{Guide, GuideAssignment};
use tourdesk_domain::guides::{AssignmentStatus, DayTime, GuideStatus, TimeRange, WeeklyAvailability};
use tourdesk_domain::ipc::NewTour;
use tourdesk_domain::money::{Money, Percent};
use tourdesk_domain::mutation::{Mutation, MutationCtx};
use tourdesk_domain::pricing::{Adjustment, PromoStatus};
use tourdesk_domain::roles::Role;
use tourdesk_domain::status::{DepartureStatus, TourCategory, TourStatus};
use tourdesk_domain::{Currency, Departure, PricingTier, Tour, TourVariant};

use crate::db::{Prepared, WriteTx};
use crate::payments::gateway::{EventKind, RefundSeen, WebhookEvent};
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
        let tour = NewTour {
            languages: vec!["en".into()],
            ..NewTour::quick(t.name.into(), t.blurb.into(), t.minutes, t.capacity, t.category, t.tz.name().into())
        }
        .into_tour(id(), org.clone(), t.slug.into(), TourStatus::Active);
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
    let customers = operations(&tx, &org, &owner, guide_user, &catalogue).await?;
    sales_history(&tx, &org, &owner, &catalogue, &customers).await?;
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
) -> anyhow::Result<Vec<String>> {
    let Some((alfama, tiers, departures)) = catalogue.first() else { return Ok(vec![]) };
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
    Ok(customers)
}

/// How a seeded sale's money came in.
#[derive(Debug, Clone, Copy)]
enum Settled {
    /// Paid in full at the desk: `record_payment.v1` with this method.
    Desk(&'static str),
    /// A deposit taken at the desk, the rest still due.
    Deposit(i64),
    /// Paid by card through Stripe.
    Card,
    /// Paid by card, then this much refunded in Stripe's dashboard (the booking stays).
    CardPartlyRefunded(i64),
    /// Paid by card, then cancelled (by the operator when `true`) with a reason; the refund the
    /// cancellation decides is sent and Stripe reports it refunded.
    CardCancelled(bool, &'static str),
}

/// One seeded sale: tour (index into the catalogue), departure (index into its departures), how
/// long ago it was booked, tiers (index, quantity), source, customer (index) and its money.
type Sale = (usize, usize, Duration, &'static [(usize, u32)], &'static str, usize, Settled);

/// A row of [`SALES`]: a [`Sale`] with how long ago it was booked in hours.
type SeededSale = (usize, usize, i64, &'static [(usize, u32)], &'static str, usize, Settled);

/// Sales made over the past six weeks on the last departures of each tour (the first days stay
/// empty for the tests and demos that take "the next bookable departure"), so the dashboard and
/// the reports show revenue in three currencies, discounts, refunds and several sources.
const SALES: &[SeededSale] = &[
    // Alfama (EUR, two departures a day): afternoons of days 12 to 14.
    (0, 23, 38 * 24, &[(0, 2)], "phone", 0, Settled::Desk("cash")),
    (0, 23, 15 * 24 + 3, &[(0, 2), (1, 2)], "partner", 3, Settled::CardPartlyRefunded(1_800)),
    (0, 25, 9 * 24, &[(0, 3)], "admin", 1, Settled::Desk("card_terminal")),
    (0, 27, 3 * 24, &[(0, 1), (1, 1)], "ota", 2, Settled::CardCancelled(false, "Change of travel plans")),
    (0, 27, 5, &[(0, 2)], "phone", 0, Settled::Deposit(2_000)),
    // Brooklyn (USD, one departure a day): days 11 to 14.
    (1, 10, 40 * 24, &[(0, 2)], "phone", 1, Settled::Desk("cash")),
    (1, 10, 20 * 24 + 6, &[(0, 1), (1, 1)], "partner", 2, Settled::Card),
    (1, 11, 9 * 24, &[(0, 3)], "ota", 3, Settled::CardCancelled(true, "Street fair closed the route")),
    (1, 12, 2 * 24, &[(1, 2)], "admin", 0, Settled::Desk("bank_transfer")),
    // Kyoto (JPY, no minor unit): days 12 to 14.
    (2, 11, 30 * 24, &[(0, 2)], "partner", 2, Settled::Card),
    (2, 12, 6 * 24, &[(0, 1), (1, 1)], "phone", 3, Settled::CardCancelled(false, "Illness")),
    // With the demo's welcome code (valid from a day ago), so the promo report has a line.
    (2, 13, 2, &[(0, 2)], "ota", 1, Settled::Desk("cash")),
];

async fn sales_history(
    tx: &WriteTx<'_>,
    org: &str,
    owner: &str,
    catalogue: &[(Tour, Vec<PricingTier>, Vec<Departure>)],
    customers: &[String],
) -> anyhow::Result<()> {
    let now = Utc::now();
    for (n, &(tour, departure, hours_ago, lines, source, customer, settled)) in SALES.iter().enumerate() {
        let sale: Sale = (tour, departure, Duration::hours(hours_ago), lines, source, customer, settled);
        seed_sale(tx, org, owner, catalogue, customers, now, n, sale).await?;
    }
    // These sales are history: their confirmations and refund notices went out when they were
    // made, not to every demo customer each time a demo server starts.
    let sent = tx
        .query(
            "UPDATE communications SET status = 'sent', sent_at = created_at
             WHERE organization_id = $1 AND status = 'pending' RETURNING id",
            &[&org],
        )
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<Vec<String>, _>>()?;
    crate::db::log_communications(tx, &sent).await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn seed_sale(
    tx: &WriteTx<'_>,
    org: &str,
    owner: &str,
    catalogue: &[(Tour, Vec<PricingTier>, Vec<Departure>)],
    customers: &[String],
    now: chrono::DateTime<Utc>,
    n: usize,
    (tour, departure, ago, lines, source, customer, settled): Sale,
) -> anyhow::Result<()> {
    let missing = || anyhow::anyhow!("demo sale {n} names a tour, departure, tier or customer the demo lacks");
    let (tour, tiers, departures) = catalogue.get(tour).ok_or_else(missing)?;
    let d = departures.get(departure).ok_or_else(missing)?;
    let customer_id = customers.get(customer).ok_or_else(missing)?;
    let lines = lines
        .iter()
        .map(|(tier, quantity)| {
            tiers.get(*tier).map(|t| serde_json::json!({"tier_id": t.id, "quantity": quantity})).ok_or_else(missing)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let booked_at = now - ago;
    let ctx = MutationCtx { organization_id: org.into(), role: Role::Owner, now: booked_at, user_id: owner.into() };
    let booking_id = id();
    let args = serde_json::json!({
        "id": booking_id, "tour_id": tour.id, "departure_id": d.id, "customer_id": customer_id,
        "lines": lines, "source": source, "reference_year": booked_at.year(),
        "promo_code": (n + 1 == SALES.len()).then_some(DEMO_PROMO_CODE),
        "reference_entropy": uuid::Uuid::new_v4().as_u64_pair().0,
    });
    run(tx, &ctx, "create_booking.v1", args).await?;
    let b = db::booking_for_update(tx.tx(), org, &booking_id).await?.ok_or_else(missing)?;
    let total = b.pricing.total;
    let paid_at = booked_at + Duration::minutes(20);
    let at_payment = MutationCtx { now: paid_at, ..ctx.clone() };
    let desk_payment = |method: &str, amount: i64| {
        serde_json::json!({
            "nonce": id(), "booking_id": booking_id, "method": method, "amount": amount,
            "currency": total.currency.as_str(), "at": paid_at, "note": "demo sale",
        })
    };
    match settled {
        Settled::Desk(method) => run(tx, &at_payment, "record_payment.v1", desk_payment(method, total.amount)).await?,
        Settled::Deposit(amount) => run(tx, &at_payment, "record_payment.v1", desk_payment("cash", amount)).await?,
        Settled::Card | Settled::CardPartlyRefunded(_) | Settled::CardCancelled(..) => {
            crate::payments::record_intent_row(tx.tx(), org, &b).await?;
            let intent = format!("pi_demo_{}", booking_id.replace('-', ""));
            let charge = format!("ch_demo_{}", booking_id.replace('-', ""));
            let metadata = std::collections::HashMap::from([
                ("organization_id".to_string(), org.to_string()),
                ("booking_id".to_string(), booking_id.clone()),
            ]);
            let paid = EventKind::PaymentSucceeded {
                intent_id: intent.clone(),
                amount_received: total.amount,
                currency: total.currency.as_str().into(),
                latest_charge: Some(charge.clone()),
                metadata,
            };
            card_event(tx, &booking_id, n, "payment_intent.succeeded", paid_at, paid).await?;
            let refund = match settled {
                Settled::CardPartlyRefunded(amount) => Some((amount, None)),
                Settled::CardCancelled(by_operator, reason) => {
                    let cancelled_at = paid_at + Duration::hours(2);
                    let at_cancel = MutationCtx { now: cancelled_at, ..ctx.clone() };
                    let args = serde_json::json!({
                        "booking_id": booking_id, "tour_id": tour.id, "departure_id": d.id,
                        "by": if by_operator { "operator" } else { "customer" }, "reason": reason,
                    });
                    run(tx, &at_cancel, "cancel_booking.v1", args).await?;
                    let queued = tx
                        .row_opt(
                            "SELECT id, amount_minor FROM refunds WHERE organization_id = $1 AND booking_id = $2",
                            &[&org, &booking_id],
                        )
                        .await?;
                    match queued {
                        Some(r) => Some((r.try_get::<_, i64>(1)?, Some(r.try_get::<_, String>(0)?))),
                        None => None,
                    }
                }
                _ => None,
            };
            if let Some((amount, refund_id)) = refund {
                let refunds = vec![RefundSeen {
                    id: format!("re_demo_{}", booking_id.replace('-', "")),
                    amount,
                    status: "succeeded".into(),
                    metadata: refund_id.map(|r| ("refund_id".to_string(), r)).into_iter().collect(),
                }];
                let refunded = EventKind::ChargeRefunded {
                    charge_id: charge,
                    intent_id: Some(intent),
                    amount_refunded: amount,
                    amount_captured: Some(total.amount),
                    currency: total.currency.as_str().into(),
                    refunds,
                };
                card_event(tx, &booking_id, n, "charge.refunded", paid_at + Duration::hours(3), refunded).await?;
            }
        }
    }
    Ok(())
}

/// One Stripe event about a demo booking's card payment, applied as a delivery would be.
async fn card_event(
    tx: &WriteTx<'_>,
    booking_id: &str,
    n: usize,
    event_type: &str,
    created: chrono::DateTime<Utc>,
    kind: EventKind,
) -> anyhow::Result<()> {
    let event = WebhookEvent {
        id: format!("evt_demo_{n}_{}", event_type.replace('.', "_")),
        event_type: event_type.into(),
        created,
        livemode: false,
        payload: serde_json::Value::Null,
        kind,
    };
    crate::payments::webhooks::apply_seeded(tx, &event, booking_id).await
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

//! Named queries for bookings, customers and what prices a booking (V2's tables).
//!
//! Every query filters on `organization_id`. Upserts carry the tenant guard of V1's
//! (`WHERE x.organization_id = excluded.organization_id`) and must touch exactly one row.
//!
//! Bookings and customers are appended to the sync change log where they are written, so every
//! writer (pushes, the public API, webhooks, hold expiry) logs them the same way: a booking to
//! `org:all` and its departure's `schedule:D`; a customer to `org:all` and the `schedule:D` of
//! every departure they have a booking on, so the guide of D has the guest's contact details.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use futures_util::future::join_all;
use tokio_postgres::types::ToSql;
use tourdesk_domain::cancellation::{CancellationPolicy, StoredPolicy, policy_for_tour};
use tourdesk_domain::entities::{Booking, BookingSource, Customer, CustomerSource, RefundRequest};
use tourdesk_domain::hlc::Hlc;
use tourdesk_domain::money::{Currency, Percent};
use tourdesk_domain::offer::{self, ScopedTax};
use tourdesk_domain::pricing::{
    Adjustment, EarlyBirdDiscount, GroupDiscount, PricingCatalog, PromoCode, PromoStatus, SeasonalAdjustment, TaxRule,
    Tier, normalize_promo_code,
};
use tourdesk_domain::reference::ReferenceNumber;
use tourdesk_domain::status::{BookingStatus, PaymentStatus};

use tourdesk_domain::protocol::{EntityKind, Op, schedule_bucket};
use tourdesk_domain::replication::RowScope;

use super::{
    DEPARTURE_COLS, LogRow, Prepared, TIER_COLS, WriteTx, bad_row, departure_buckets, departure_from_row, i32_of,
    money, tier_from_row, written_once,
};
use tourdesk_domain::Departure;

fn u32_of(v: i32) -> anyhow::Result<u32> {
    Ok(u32::try_from(v)?)
}

fn opt_u32(v: Option<i32>) -> anyhow::Result<Option<u32>> {
    v.map(u32_of).transpose()
}

/// `(type, value, currency)` as V2 stores adjustments: basis points or minor units.
fn adjustment(kind: &str, value: i64, currency: Option<&str>) -> anyhow::Result<Adjustment> {
    match (kind, currency) {
        ("percentage", _) => Ok(Adjustment::Percentage(Percent::from_basis_points(value))),
        ("fixed", Some(c)) => Ok(Adjustment::Fixed(money(value, c)?)),
        _ => Err(bad_row("adjustment", kind)),
    }
}

// ---------------------------------------------------------------------------------------------
// Customers.

pub const CUSTOMER_COLS: &str = "id, organization_id, email, phone, first_name, last_name, source, source_detail, \
     preferred_language, preferred_currency, marketing_consent, marketing_consent_date, field_hlcs, tags, tag_stamps, \
     notes, notes_version, notes_conflicts, created_at, updated_at";

pub fn customer_from_row(r: &tokio_postgres::Row) -> anyhow::Result<Customer> {
    let source: String = r.try_get(6)?;
    let currency: String = r.try_get(9)?;
    let field_hlcs: BTreeMap<String, Hlc> = serde_json::from_value(r.try_get(12)?)?;
    let tags: Vec<String> = r.try_get(13)?;
    Ok(Customer {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        email: r.try_get(2)?,
        phone: r.try_get(3)?,
        first_name: r.try_get(4)?,
        last_name: r.try_get(5)?,
        source: CustomerSource::parse(&source).ok_or_else(|| bad_row("customer source", &source))?,
        source_detail: r.try_get(7)?,
        preferred_language: r.try_get(8)?,
        preferred_currency: Currency::parse(&currency)?,
        marketing_consent: r.try_get(10)?,
        marketing_consent_date: r.try_get(11)?,
        field_hlcs,
        tags: tags.into_iter().collect::<BTreeSet<_>>(),
        tag_stamps: serde_json::from_value(r.try_get(14)?)?,
        notes: r.try_get(15)?,
        notes_version: u64::try_from(r.try_get::<_, i64>(16)?)?,
        notes_conflicts: serde_json::from_value(r.try_get(17)?)?,
        created_at: r.try_get(18)?,
        updated_at: r.try_get(19)?,
    })
}

/// Writes a customer and logs it to `org:all` and to each departure they have a booking on.
pub async fn put_customer(w: &WriteTx<'_>, cu: &Customer) -> anyhow::Result<()> {
    let tags: Vec<String> = cu.tags.iter().cloned().collect();
    let (hlcs, stamps) = (serde_json::to_value(&cu.field_hlcs)?, serde_json::to_value(&cu.tag_stamps)?);
    let (conflicts, notes_version) = (serde_json::to_value(&cu.notes_conflicts)?, i64::try_from(cu.notes_version)?);
    let params: [&(dyn ToSql + Sync); 20] = [
        &cu.id,
        &cu.organization_id,
        &cu.email,
        &cu.phone,
        &cu.first_name,
        &cu.last_name,
        &cu.source.as_str(),
        &cu.source_detail,
        &cu.preferred_language,
        &cu.preferred_currency.as_str(),
        &cu.marketing_consent,
        &cu.marketing_consent_date,
        &hlcs,
        &tags,
        &stamps,
        &cu.notes,
        &notes_version,
        &conflicts,
        &cu.created_at,
        &cu.updated_at,
    ];
    // Pipelined: the departures do not depend on the upsert.
    let (n, departures) = tokio::join!(
        w.exec(
            "INSERT INTO customers (id, organization_id, email, phone, first_name, last_name, source, source_detail,
             preferred_language, preferred_currency, marketing_consent, marketing_consent_date, field_hlcs, tags,
             tag_stamps, notes, notes_version, notes_conflicts, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
         ON CONFLICT (id) DO UPDATE SET email = excluded.email, phone = excluded.phone,
             first_name = excluded.first_name, last_name = excluded.last_name, source = excluded.source,
             source_detail = excluded.source_detail, preferred_language = excluded.preferred_language,
             preferred_currency = excluded.preferred_currency, marketing_consent = excluded.marketing_consent,
             marketing_consent_date = excluded.marketing_consent_date, field_hlcs = excluded.field_hlcs,
             tags = excluded.tags, tag_stamps = excluded.tag_stamps, notes = excluded.notes,
             notes_version = excluded.notes_version, notes_conflicts = excluded.notes_conflicts,
             updated_at = excluded.updated_at
         WHERE customers.organization_id = excluded.organization_id",
            &params,
        ),
        customer_departures(w.tx(), &cu.organization_id, &cu.id)
    );
    let (n, departures) = super::all2(n, departures)?;
    written_once(n, &cu.id)?;
    let buckets = RowScope::Customer(&departures).buckets(&cu.organization_id);
    w.log_change(&buckets, EntityKind::Customer, &cu.id, Op::Put, Some(serde_json::to_value(cu)?));
    Ok(())
}

/// The departures a customer has a booking on (any status: the booking stays in the
/// departure's bucket, so its customer must too).
async fn customer_departures(c: &impl GenericClient, org: &str, customer_id: &str) -> anyhow::Result<Vec<String>> {
    let rows = c
        .rows(
            "SELECT DISTINCT departure_id FROM bookings WHERE organization_id = $1 AND customer_id = $2
             ORDER BY departure_id",
            &[&org, &customer_id],
        )
        .await?;
    Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
}

pub async fn customer_by_id(c: &impl GenericClient, org: &str, id: &str) -> anyhow::Result<Option<Customer>> {
    let sql = format!("SELECT {CUSTOMER_COLS} FROM customers WHERE organization_id = $1 AND id = $2");
    c.row_opt(&sql, &[&org, &id]).await?.map(|r| customer_from_row(&r)).transpose()
}

// ---------------------------------------------------------------------------------------------
// Bookings.

pub const BOOKING_COLS: &str = "id, organization_id, reference_number, customer_id, departure_id, tour_id, \
     variant_id, pricing, currency, paid_amount_minor, refunded_amount_minor, participants, status, payment_status, \
     source, special_requests, dietary_restrictions, overbook, cancellation, checked_in, no_shows, created_at, \
     confirmed_at, cancelled_at, updated_at";

pub fn booking_from_row(r: &tokio_postgres::Row) -> anyhow::Result<Booking> {
    let reference: String = r.try_get(2)?;
    let currency: String = r.try_get(8)?;
    let status: String = r.try_get(12)?;
    let payment: String = r.try_get(13)?;
    let source: String = r.try_get(14)?;
    let json_opt = |i: usize| -> anyhow::Result<Option<serde_json::Value>> { Ok(r.try_get(i)?) };
    Ok(Booking {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        reference_number: ReferenceNumber::parse(&reference)?,
        customer_id: r.try_get(3)?,
        departure_id: r.try_get(4)?,
        tour_id: r.try_get(5)?,
        variant_id: r.try_get(6)?,
        pricing: serde_json::from_value(r.try_get(7)?)?,
        paid_amount: money(r.try_get(9)?, &currency)?,
        refunded_amount: money(r.try_get(10)?, &currency)?,
        participants: serde_json::from_value(r.try_get(11)?)?,
        status: BookingStatus::parse(&status).ok_or_else(|| bad_row("booking status", &status))?,
        payment_status: PaymentStatus::parse(&payment).ok_or_else(|| bad_row("payment status", &payment))?,
        source: BookingSource::parse(&source).ok_or_else(|| bad_row("booking source", &source))?,
        special_requests: r.try_get(15)?,
        dietary_restrictions: r.try_get(16)?,
        overbook: json_opt(17)?.map(serde_json::from_value).transpose()?,
        cancellation: json_opt(18)?.map(serde_json::from_value).transpose()?,
        checked_in: u32_of(r.try_get(19)?)?,
        no_shows: u32_of(r.try_get(20)?)?,
        created_at: r.try_get(21)?,
        confirmed_at: r.try_get(22)?,
        cancelled_at: r.try_get(23)?,
        updated_at: r.try_get(24)?,
    })
}

/// The booking row and its relational line items (replaced wholesale: they are a copy of the
/// pricing snapshot), logged to `org:all` and `schedule:D`. A new booking also brings its
/// customer into `schedule:D` when it is the customer's first booking there: the guide of D
/// must see the guest's contact details, and the customer row was logged before the booking
/// existed (so not to D). `hold` is a new booking's seat hold (`Change::HoldSeats`); an update
/// keeps the stored one.
pub async fn put_booking(w: &WriteTx<'_>, b: &Booking, hold: Option<DateTime<Utc>>) -> anyhow::Result<()> {
    let p = &b.pricing;
    let org = &b.organization_id;
    let (pricing, participants) = (serde_json::to_value(p)?, serde_json::to_value(&b.participants)?);
    let overbook = b.overbook.as_ref().map(serde_json::to_value).transpose()?;
    let cancellation = b.cancellation.as_ref().map(serde_json::to_value).transpose()?;
    let (count, checked_in, no_shows) = (i32_of(b.participant_count())?, i32_of(b.checked_in)?, i32_of(b.no_shows)?);
    let upsert: [&(dyn ToSql + Sync); 30] = [
        &b.id,
        org,
        &b.reference_number.as_str(),
        &b.customer_id,
        &b.departure_id,
        &b.tour_id,
        &b.variant_id,
        &pricing,
        &p.total.currency.as_str(),
        &p.subtotal.amount,
        &p.total.amount,
        &b.paid_amount.amount,
        &b.refunded_amount.amount,
        &count,
        &participants,
        &b.status.as_str(),
        &b.payment_status.as_str(),
        &b.source.as_str(),
        &p.promotional_code_id,
        &b.special_requests,
        &b.dietary_restrictions,
        &overbook,
        &cancellation,
        &checked_in,
        &no_shows,
        &b.created_at,
        &b.confirmed_at,
        &b.cancelled_at,
        &b.updated_at,
        &hold,
    ];
    let tiers: Vec<&str> = p.line_items.iter().map(|l| l.pricing_tier_id.as_str()).collect();
    let names: Vec<&str> = p.line_items.iter().map(|l| l.tier_name.as_str()).collect();
    let quantities = p.line_items.iter().map(|l| i32_of(l.quantity)).collect::<anyhow::Result<Vec<i32>>>()?;
    let units: Vec<i64> = p.line_items.iter().map(|l| l.unit_price.amount).collect();
    let totals: Vec<i64> = p.line_items.iter().map(|l| l.total_price.amount).collect();
    let currencies: Vec<&str> = p.line_items.iter().map(|l| l.total_price.currency.as_str()).collect();
    let booking_key: [&(dyn ToSql + Sync); 2] = [org, &b.id];
    let lines: [&(dyn ToSql + Sync); 8] = [org, &b.id, &tiers, &names, &quantities, &units, &totals, &currencies];
    let guest: [&(dyn ToSql + Sync); 4] = [org, &b.customer_id, &b.departure_id, &b.id];
    // Four statements that must run in this order (line items need their booking), pipelined:
    // all prepared first, so none waits on its parse while a later one overtakes it.
    let (upsert_stmt, delete_stmt, lines_stmt, guest_stmt) = super::all4(
        w.prepare_cached(UPSERT_BOOKING).await,
        w.prepare_cached("DELETE FROM booking_line_items WHERE organization_id = $1 AND booking_id = $2").await,
        w.prepare_cached(
            "INSERT INTO booking_line_items (id, organization_id, booking_id, line_no, pricing_tier_id, tier_name,
             quantity, unit_price_minor, total_price_minor, currency)
             SELECT $2 || '#' || (l.n - 1), $1, $2, l.n - 1, l.tier, l.name, l.quantity, l.unit, l.total, l.currency
             FROM unnest($3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[], $8::text[]) WITH ORDINALITY
                  AS l(tier, name, quantity, unit, total, currency, n)",
        )
        .await,
        w.prepare_cached(&GUEST_FIRST_ON_DEPARTURE).await,
    )?;
    let (written, _, _, guest) = {
        let (a, b, c, d) = tokio::join!(
            biased;
            w.query_opt(&upsert_stmt, &upsert),
            w.execute(&delete_stmt, &booking_key),
            w.execute(&lines_stmt, &lines),
            w.query_opt(&guest_stmt, &guest),
        );
        super::all4(a, b, c, d)?
    };
    // `xmax = 0` only on a freshly inserted row version: tells an insert from an update.
    let Some(row) = written else { return Err(super::IdTaken(b.id.clone()).into()) };
    let inserted: bool = row.try_get(0)?;
    // The customer goes first, so a replica never holds a booking whose guest it lacks.
    let mut log = Vec::new();
    if inserted && let Some(r) = guest {
        let cu = customer_from_row(&r)?;
        log.push(LogRow::put(
            schedule_bucket(&b.departure_id),
            EntityKind::Customer,
            &cu.id,
            serde_json::to_value(&cu)?,
        ));
    }
    let row = serde_json::to_value(b)?;
    for bucket in departure_buckets(org, &b.departure_id) {
        log.push(LogRow::put(bucket, EntityKind::Booking, &b.id, row.clone()));
    }
    w.log(log);
    Ok(())
}

const UPSERT_BOOKING: &str =
    "INSERT INTO bookings (id, organization_id, reference_number, customer_id, departure_id, tour_id,
             variant_id, pricing, currency, subtotal_minor, total_minor, paid_amount_minor, refunded_amount_minor,
             participant_count, participants, status, payment_status, source, promotional_code_id, special_requests,
             dietary_restrictions, overbook, cancellation, checked_in, no_shows, created_at, confirmed_at,
             cancelled_at, updated_at, hold_expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
             $22, $23, $24, $25, $26, $27, $28, $29, $30)
         ON CONFLICT (id) DO UPDATE SET pricing = excluded.pricing, currency = excluded.currency,
             subtotal_minor = excluded.subtotal_minor, total_minor = excluded.total_minor,
             paid_amount_minor = excluded.paid_amount_minor, refunded_amount_minor = excluded.refunded_amount_minor,
             participant_count = excluded.participant_count, participants = excluded.participants,
             status = excluded.status, payment_status = excluded.payment_status,
             promotional_code_id = excluded.promotional_code_id, special_requests = excluded.special_requests,
             dietary_restrictions = excluded.dietary_restrictions, overbook = excluded.overbook,
             cancellation = excluded.cancellation, checked_in = excluded.checked_in, no_shows = excluded.no_shows,
             confirmed_at = excluded.confirmed_at, cancelled_at = excluded.cancelled_at,
             updated_at = excluded.updated_at
         WHERE bookings.organization_id = excluded.organization_id
         RETURNING (xmax = 0)";

/// The booking's customer, unless they have another booking on the departure.
static GUEST_FIRST_ON_DEPARTURE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {CUSTOMER_COLS} FROM customers WHERE organization_id = $1 AND id = $2
           AND NOT EXISTS (SELECT 1 FROM bookings WHERE organization_id = $1 AND customer_id = $2
                           AND departure_id = $3 AND id <> $4)"
    )
});

/// Whether a reference is taken in the organization. A concurrent insert of the same reference
/// cannot slip past this: `bookings_reference_org_unique` refuses the second one.
/// A customer's id by e-mail (case-insensitive), unlocked.
pub async fn customer_id_by_email(c: &impl GenericClient, org: &str, email: &str) -> anyhow::Result<Option<String>> {
    let row = c
        .row_opt("SELECT id FROM customers WHERE organization_id = $1 AND lower(email) = lower($2)", &[&org, &email])
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

pub async fn booking_reference_taken(c: &impl GenericClient, org: &str, reference: &str) -> anyhow::Result<bool> {
    // Stored references are canonical: compare what the domain reads the text as.
    let Ok(reference) = ReferenceNumber::parse(reference) else { return Ok(false) };
    let reference = reference.as_str();
    let row = c
        .row(
            "SELECT EXISTS (SELECT 1 FROM bookings WHERE organization_id = $1 AND reference_number = $2)",
            &[&org, &reference],
        )
        .await?;
    Ok(row.try_get(0)?)
}

// ---------------------------------------------------------------------------------------------
// Pricing.

/// Everything that prices a tour, read under share locks. `None` when the tour has no tiers
/// (the currency comes from them).
pub async fn pricing_catalog(
    c: &impl GenericClient,
    org: &str,
    tour_id: &str,
) -> anyhow::Result<Option<PricingCatalog>> {
    load_catalog(c, org, tour_id, Lock::Share).await
}

/// The same catalog without locks, for quotes and availability: nothing is decided on it, and
/// share-locking every price row on each page view would turn reads into writes.
pub async fn pricing_catalog_unlocked(
    c: &impl GenericClient,
    org: &str,
    tour_id: &str,
) -> anyhow::Result<Option<PricingCatalog>> {
    load_catalog(c, org, tour_id, Lock::None).await
}

#[derive(Clone, Copy)]
enum Lock {
    Share,
    None,
}

impl Lock {
    fn sql(self) -> &'static str {
        match self {
            Lock::Share => " FOR SHARE",
            Lock::None => "",
        }
    }
}

async fn load_catalog(
    c: &impl GenericClient,
    org: &str,
    tour_id: &str,
    lock: Lock,
) -> anyhow::Result<Option<PricingCatalog>> {
    let lock = lock.sql();
    let tiers_sql = format!(
        "SELECT id, variant_id, name, base_price_minor, currency, min_age, max_age, valid_from, valid_until,
                is_default, sort_order
         FROM pricing_tiers WHERE organization_id = $1 AND tour_id = $2 ORDER BY sort_order, id{lock}"
    );
    let seasons_sql = format!(
        "SELECT id, name, start_date, end_date, adjustment_type, adjustment_value, adjustment_currency, priority
         FROM seasonal_pricing WHERE organization_id = $1 AND tour_id = $2 ORDER BY id{lock}"
    );
    let group_sql = threshold_sql("group_discounts", "min_participants", lock);
    let early_sql = threshold_sql("early_bird_discounts", "min_days_before", lock);
    // Candidates: the tour's and the organization-wide rules; `offer::taxes_for_tour` decides.
    let taxes_sql = format!(
        "SELECT name, rate_basis_points, inclusive, tour_id, active FROM tax_rules
         WHERE organization_id = $1 AND (tour_id = $2 OR tour_id IS NULL)
         ORDER BY sort_order, name, id{lock}"
    );
    let params: [&(dyn ToSql + Sync); 2] = [&org, &tour_id];
    // Five independent reads, pipelined: one round trip.
    let sqls = [&tiers_sql, &seasons_sql, &group_sql, &early_sql, &taxes_sql];
    let mut results = super::all(join_all(sqls.map(|sql| c.rows(sql, &params))).await)?.into_iter();
    let mut next = || results.next().unwrap_or_default();
    let (tiers, seasons, groups, early, taxes) = (next(), next(), next(), next(), next());
    let tiers = tiers
        .iter()
        .map(|r| {
            let currency: String = r.try_get(4)?;
            Ok(Tier {
                id: r.try_get(0)?,
                variant_id: r.try_get(1)?,
                name: r.try_get(2)?,
                base_price: money(r.try_get(3)?, &currency)?,
                min_age: opt_u32(r.try_get(5)?)?,
                max_age: opt_u32(r.try_get(6)?)?,
                valid_from: r.try_get(7)?,
                valid_until: r.try_get(8)?,
                is_default: r.try_get(9)?,
                sort_order: r.try_get(10)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Mixed currencies are the domain's to refuse (a `CurrencyMismatch` when quoting).
    let Some(currency) = offer::tour_currency(&tiers) else { return Ok(None) };
    let seasons = seasons
        .iter()
        .map(|r| {
            let kind: String = r.try_get(4)?;
            let cur: Option<String> = r.try_get(6)?;
            Ok(SeasonalAdjustment {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                start_date: r.try_get(2)?,
                end_date: r.try_get(3)?,
                adjustment: adjustment(&kind, r.try_get(5)?, cur.as_deref())?,
                priority: r.try_get(7)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let group_discounts = thresholds(&groups)?
        .into_iter()
        .map(|(min_participants, discount)| GroupDiscount { min_participants, discount })
        .collect();
    let early_bird_discounts = thresholds(&early)?
        .into_iter()
        .map(|(min_days_before, discount)| EarlyBirdDiscount { min_days_before, discount })
        .collect();
    let taxes = taxes
        .iter()
        .map(|r| {
            Ok(ScopedTax {
                tour_id: r.try_get(3)?,
                active: r.try_get(4)?,
                rule: TaxRule {
                    name: r.try_get(0)?,
                    rate: Percent::from_basis_points(i64::from(r.try_get::<_, i32>(1)?)),
                    inclusive: r.try_get(2)?,
                },
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let taxes = offer::taxes_for_tour(taxes, tour_id);

    Ok(Some(PricingCatalog {
        tour_id: tour_id.to_string(),
        currency,
        tiers,
        seasons,
        group_discounts,
        early_bird_discounts,
        taxes,
    }))
}

/// The query of a "from this threshold on, this discount" table (group size, days ahead).
/// `table` and `threshold` are fixed names from this module, never input.
fn threshold_sql(table: &str, threshold: &str, lock: &str) -> String {
    format!(
        "SELECT {threshold}, discount_type, discount_value, discount_currency
         FROM {table} WHERE organization_id = $1 AND tour_id = $2 ORDER BY {threshold}{lock}"
    )
}

fn thresholds(rows: &[tokio_postgres::Row]) -> anyhow::Result<Vec<(u32, Adjustment)>> {
    rows.iter()
        .map(|r| {
            let kind: String = r.try_get(1)?;
            let cur: Option<String> = r.try_get(3)?;
            Ok((u32_of(r.try_get(0)?)?, adjustment(&kind, r.try_get(2)?, cur.as_deref())?))
        })
        .collect()
}

/// A promotional code by its normalised text (`pricing::normalize_promo_code`), locked: its use
/// counter is bumped in the same transaction.
pub async fn promo_code(c: &impl GenericClient, org: &str, code: &str) -> anyhow::Result<Option<PromoCode>> {
    load_promo(c, org, code, " FOR UPDATE").await
}

/// The same code unlocked, for a quote.
pub async fn promo_code_unlocked(c: &impl GenericClient, org: &str, code: &str) -> anyhow::Result<Option<PromoCode>> {
    load_promo(c, org, code, "").await
}

/// Whether a stored code is the one asked for (`code`, already normalised): the domain's
/// normaliser decides, on both sides, so a code stored with spaces or in any case matches.
fn is_code(stored: &str, code: &str) -> bool {
    normalize_promo_code("code", stored).ok().flatten().is_some_and(|s| s == code)
}

/// Candidate codes for a normalised `code`: those equal to it ignoring case and surrounding
/// space, a superset of what the domain's normaliser matches, filtered by [`is_code`].
const PROMO_CANDIDATE: &str = "upper(btrim(code, E' \\t\\r\\n')) = upper($2)";

async fn load_promo(c: &impl GenericClient, org: &str, code: &str, lock: &str) -> anyhow::Result<Option<PromoCode>> {
    let rows = c
        .rows(
            &format!(
                "SELECT id, code, discount_type, discount_value, discount_currency, min_booking_minor,
                        min_booking_currency, max_uses, max_uses_per_customer, valid_from, valid_until,
                        applicable_tour_ids, applicable_variant_ids, current_uses, status
                 FROM promotional_codes WHERE organization_id = $1 AND {PROMO_CANDIDATE} ORDER BY id{lock}"
            ),
            &[&org, &code],
        )
        .await?;
    let mut found = None;
    for r in rows {
        if is_code(&r.try_get::<_, String>(1)?, code) {
            found = Some(r);
            break;
        }
    }
    let Some(r) = found else { return Ok(None) };
    let kind: String = r.try_get(2)?;
    let cur: Option<String> = r.try_get(4)?;
    let min_minor: Option<i64> = r.try_get(5)?;
    let min_cur: Option<String> = r.try_get(6)?;
    let status: String = r.try_get(14)?;
    Ok(Some(PromoCode {
        id: r.try_get(0)?,
        code: r.try_get(1)?,
        discount: adjustment(&kind, r.try_get(3)?, cur.as_deref())?,
        min_booking_value: match (min_minor, min_cur) {
            (Some(m), Some(c)) => Some(money(m, &c)?),
            _ => None,
        },
        max_uses: opt_u32(r.try_get(7)?)?,
        max_uses_per_customer: opt_u32(r.try_get(8)?)?,
        valid_from: r.try_get(9)?,
        valid_until: r.try_get(10)?,
        applicable_tour_ids: r.try_get(11)?,
        applicable_variant_ids: r.try_get(12)?,
        current_uses: u32_of(r.try_get(13)?)?,
        status: match status.as_str() {
            "active" => PromoStatus::Active,
            "inactive" => PromoStatus::Inactive,
            "expired" => PromoStatus::Expired,
            other => return Err(bad_row("promo status", other)),
        },
    }))
}

/// How many bookings of a customer used a code (by its normalised text).
pub async fn promo_uses(c: &impl GenericClient, org: &str, code: &str, customer_id: &str) -> anyhow::Result<u32> {
    let rows = c
        .rows(
            &format!(
                "SELECT p.code, count(*) FROM promo_code_uses u
                 JOIN promotional_codes p ON p.organization_id = u.organization_id AND p.id = u.promotional_code_id
                 WHERE u.organization_id = $1 AND {} AND u.customer_id = $3 GROUP BY p.code",
                PROMO_CANDIDATE.replace("code", "p.code")
            ),
            &[&org, &code, &customer_id],
        )
        .await?;
    let mut uses = 0;
    for r in &rows {
        if is_code(&r.try_get::<_, String>(0)?, code) {
            uses += u32::try_from(r.try_get::<_, i64>(1)?)?;
        }
    }
    Ok(uses)
}

/// One more use of a code by a booking. The counter's CHECK is the backstop against spending a
/// limited code past its limit; the domain's promo rules are the decision.
pub async fn use_promo_code(w: &WriteTx<'_>, org: &str, promo_code_id: &str, booking: &Booking) -> anyhow::Result<()> {
    let n = w
        .exec(
            "UPDATE promotional_codes SET current_uses = current_uses + 1, updated_at = now()
             WHERE organization_id = $1 AND id = $2",
            &[&org, &promo_code_id],
        )
        .await?;
    written_once(n, promo_code_id)?;
    w.exec(
        "INSERT INTO promo_code_uses (organization_id, promotional_code_id, booking_id, customer_id)
         VALUES ($1, $2, $3, $4)",
        &[&org, &promo_code_id, &booking.id, &booking.customer_id],
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Cancellation.

/// The tour's cancellation policy, else the organization's default (V2: "a tour without its own
/// policy falls back to the default"); `None` when there is neither.
pub async fn cancellation_policy(
    c: &impl GenericClient,
    org: &str,
    tour_id: &str,
) -> anyhow::Result<Option<CancellationPolicy>> {
    load_policy(c, org, tour_id, Lock::Share).await
}

/// The same policy unlocked, to show it.
pub async fn cancellation_policy_unlocked(
    c: &impl GenericClient,
    org: &str,
    tour_id: &str,
) -> anyhow::Result<Option<CancellationPolicy>> {
    load_policy(c, org, tour_id, Lock::None).await
}

/// Loads the candidates (the tour's own policy id; its policy and the defaults, locked as asked)
/// and lets `cancellation::policy_for_tour` choose.
async fn load_policy(
    c: &impl GenericClient,
    org: &str,
    tour_id: &str,
    lock: Lock,
) -> anyhow::Result<Option<CancellationPolicy>> {
    let candidates_sql = format!(
        "SELECT id, name, rules, is_default FROM cancellation_policies
         WHERE organization_id = $1
           AND (is_default OR id = (SELECT t.cancellation_policy_id FROM tours t
                                    WHERE t.organization_id = $1 AND t.id = $2))
         ORDER BY id{}",
        lock.sql()
    );
    let params: [&(dyn ToSql + Sync); 2] = [&org, &tour_id];
    let (tour, candidates) = tokio::join!(
        c.row_opt("SELECT cancellation_policy_id FROM tours WHERE organization_id = $1 AND id = $2", &params),
        c.rows(&candidates_sql, &params),
    );
    let (tour, candidates) = super::all2(tour, candidates)?;
    let own: Option<String> = tour.map(|r| r.try_get(0)).transpose()?.flatten();
    let candidates = candidates
        .iter()
        .map(|r| {
            Ok(StoredPolicy {
                policy: CancellationPolicy {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    rules: serde_json::from_value(r.try_get(2)?)?,
                },
                is_default: r.try_get(3)?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(policy_for_tour(own.as_deref(), candidates))
}

/// Queues a refund for `payments::refunds` to send to Stripe after commit. A booking is
/// cancelled once, so its refund's id and idempotency key derive from the booking's id.
pub async fn queue_refund(w: &WriteTx<'_>, org: &str, r: &RefundRequest) -> anyhow::Result<String> {
    queue_refund_as(w, org, &format!("refund-{}", r.booking_id), r).await
}

/// Queues a refund under a given id (also its idempotency key), for refunds other than the one
/// a cancellation decides (money that arrived after a booking was cancelled).
pub async fn queue_refund_as(w: &WriteTx<'_>, org: &str, id: &str, r: &RefundRequest) -> anyhow::Result<String> {
    let id = id.to_string();
    w.exec(
        "INSERT INTO refunds (id, organization_id, booking_id, idempotency_key, amount_minor, currency, reason,
         requested_by, requested_at)
         VALUES ($1, $2, $3, $1, $4, $5, $6, $7, $8)",
        &[
            &id,
            &org,
            &r.booking_id,
            &r.amount.amount,
            &r.amount.currency.as_str(),
            &r.reason,
            &r.requested_by,
            &r.requested_at,
        ],
    )
    .await?;
    Ok(id)
}

// ---------------------------------------------------------------------------------------------
// The public booking path.

pub async fn booking_by_id(c: &impl GenericClient, org: &str, id: &str) -> anyhow::Result<Option<Booking>> {
    let sql = format!("SELECT {BOOKING_COLS} FROM bookings WHERE organization_id = $1 AND id = $2");
    c.row_opt(&sql, &[&org, &id]).await?.map(|r| booking_from_row(&r)).transpose()
}

/// The same booking, row-locked for a state change outside the mutators (payments, holds).
pub async fn booking_for_update(c: &impl GenericClient, org: &str, id: &str) -> anyhow::Result<Option<Booking>> {
    let sql = format!("SELECT {BOOKING_COLS} FROM bookings WHERE organization_id = $1 AND id = $2 FOR UPDATE");
    c.row_opt(&sql, &[&org, &id]).await?.map(|r| booking_from_row(&r)).transpose()
}

pub async fn customer_email_is(
    c: &impl GenericClient,
    org: &str,
    customer_id: &str,
    email: &str,
) -> anyhow::Result<bool> {
    let row = c
        .row(
            "SELECT EXISTS (SELECT 1 FROM customers
                            WHERE organization_id = $1 AND id = $2 AND lower(email) = lower($3))",
            &[&org, &customer_id, &email],
        )
        .await?;
    Ok(row.try_get(0)?)
}

pub async fn customer_email(c: &impl GenericClient, org: &str, customer_id: &str) -> anyhow::Result<Option<String>> {
    let row =
        c.row_opt("SELECT email FROM customers WHERE organization_id = $1 AND id = $2", &[&org, &customer_id]).await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// A departure with its tour's name and the currency the tour is priced in (`None` before it has
/// prices; `offer::tour_currency` decides from the tour's tiers), for a website booking: one
/// round trip.
pub async fn departure_for_booking(
    c: &impl GenericClient,
    org: &str,
    id: &str,
) -> anyhow::Result<Option<(Departure, String, Option<Currency>)>> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT {DEPARTURE_COLS}, tour_name FROM (
                 SELECT s.*, t.name AS tour_name
                 FROM schedules s JOIN tours t ON t.organization_id = s.organization_id AND t.id = s.tour_id
                 WHERE s.organization_id = $1 AND s.id = $2) d"
        )
    });
    static TIERS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT {TIER_COLS} FROM pricing_tiers WHERE organization_id = $1
             AND tour_id = (SELECT tour_id FROM schedules WHERE organization_id = $1 AND id = $2)"
        )
    });
    let params: [&(dyn ToSql + Sync); 2] = [&org, &id];
    let (row, tiers) = tokio::join!(c.row_opt(&SQL, &params), c.rows(&TIERS, &params));
    let (row, tiers) = super::all2(row, tiers)?;
    let Some(r) = row else { return Ok(None) };
    let tiers = tiers.iter().map(tier_from_row).collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Some((departure_from_row(&r)?, r.try_get(12)?, offer::tour_currency(&tiers))))
}

pub async fn tour_name(c: &impl GenericClient, org: &str, tour_id: &str) -> anyhow::Result<Option<String>> {
    let row = c.row_opt("SELECT name FROM tours WHERE organization_id = $1 AND id = $2", &[&org, &tour_id]).await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

pub async fn hold_of(c: &impl GenericClient, org: &str, booking_id: &str) -> anyhow::Result<Option<DateTime<Utc>>> {
    let row = c
        .row_opt("SELECT hold_expires_at FROM bookings WHERE organization_id = $1 AND id = $2", &[&org, &booking_id])
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?.flatten())
}

pub async fn booking_id_by_reference_and_email(
    c: &impl GenericClient,
    org: &str,
    reference: &str,
    email: &str,
) -> anyhow::Result<Option<String>> {
    // A reference as a person typed it (any case, the prefix optional) is the one the domain reads.
    let Ok(reference) = ReferenceNumber::parse(reference) else { return Ok(None) };
    let reference = reference.as_str();
    let row = c
        .row_opt(
            "SELECT b.id FROM bookings b
             JOIN customers cu ON cu.organization_id = b.organization_id AND cu.id = b.customer_id
             WHERE b.organization_id = $1 AND b.reference_number = $2 AND lower(cu.email) = lower($3)",
            &[&org, &reference, &email],
        )
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// A waitlist entry from a desk's conflict inbox. Entries are facts made once (a new id each
/// time), so a replayed mutation that finds its id is a conflict the savepoint turns into a
/// recorded rejection, never a second entry.
pub async fn put_waitlist_entry(w: &WriteTx<'_>, e: &tourdesk_domain::entities::WaitlistEntry) -> anyhow::Result<()> {
    w.exec(
        "INSERT INTO waitlist_entries (id, organization_id, tour_id, departure_id, customer_id, lines, party_size,
                                       notes, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &e.id,
            &e.organization_id,
            &e.tour_id,
            &e.departure_id,
            &e.customer_id,
            &serde_json::to_value(&e.lines)?,
            &i32_of(e.party_size)?,
            &e.notes,
            &e.created_by,
            &e.created_at,
        ],
    )
    .await?;
    Ok(())
}

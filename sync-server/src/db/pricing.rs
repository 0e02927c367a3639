//! Named queries for what prices a booking (V2's tables): tiers, seasons, group and early-bird
//! discounts, taxes, and promotional codes with their uses. Rows are loaded as candidates; the
//! domain decides (`offer::tour_currency`, `offer::taxes_for_tour`, the promo normaliser).

use deadpool_postgres::GenericClient;
use futures_util::future::join_all;
use tokio_postgres::types::ToSql;
use tourdesk_domain::entities::Booking;
use tourdesk_domain::money::Percent;
use tourdesk_domain::offer::{self, ScopedTax};
use tourdesk_domain::pricing::{
    Adjustment, EarlyBirdDiscount, GroupDiscount, PricingCatalog, PromoCode, PromoStatus, SeasonalAdjustment, TaxRule,
    Tier, normalize_promo_code,
};

use tourdesk_domain::protocol::{EntityKind, Op};
use tourdesk_domain::replication::RowScope;

use super::bookings::u32_of;
use super::{DbError, Prepared, WriteTx, bad_row, money, written_once};

fn opt_u32(v: Option<i32>) -> Result<Option<u32>, DbError> {
    v.map(u32_of).transpose()
}

/// `(type, value, currency)` as V2 stores adjustments: basis points or minor units.
pub(super) fn adjustment(kind: &str, value: i64, currency: Option<&str>) -> Result<Adjustment, DbError> {
    match (kind, currency) {
        ("percentage", _) => Ok(Adjustment::Percentage(Percent::from_basis_points(value))),
        ("fixed", Some(c)) => Ok(Adjustment::Fixed(money(value, c)?)),
        _ => Err(bad_row("adjustment", kind)),
    }
}

/// Everything that prices a tour, read under share locks. `None` when the tour has no tiers
/// (the currency comes from them).
pub async fn pricing_catalog(
    c: &impl GenericClient,
    org: &str,
    tour_id: &str,
) -> Result<Option<PricingCatalog>, DbError> {
    load_catalog(c, org, tour_id, Lock::Share).await
}

/// The same catalog without locks, for quotes and availability: nothing is decided on it, and
/// share-locking every price row on each page view would turn reads into writes.
pub async fn pricing_catalog_unlocked(
    c: &impl GenericClient,
    org: &str,
    tour_id: &str,
) -> Result<Option<PricingCatalog>, DbError> {
    load_catalog(c, org, tour_id, Lock::None).await
}

#[derive(Clone, Copy)]
pub(super) enum Lock {
    Share,
    None,
}

impl Lock {
    pub(super) fn sql(self) -> &'static str {
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
) -> Result<Option<PricingCatalog>, DbError> {
    let lock = lock.sql();
    let tiers_sql = format!(
        "SELECT id, variant_id, name, base_price_minor, currency, min_age, max_age, valid_from, valid_until,
                is_default, sort_order, min_per_booking, max_per_booking
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
                min_per_booking: opt_u32(r.try_get(11)?)?,
                max_per_booking: opt_u32(r.try_get(12)?)?,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
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
        .collect::<Result<Vec<_>, DbError>>()?;
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
        .collect::<Result<Vec<_>, DbError>>()?;
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

fn thresholds(rows: &[tokio_postgres::Row]) -> Result<Vec<(u32, Adjustment)>, DbError> {
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
pub async fn promo_code(c: &impl GenericClient, org: &str, code: &str) -> Result<Option<PromoCode>, DbError> {
    load_promo(c, org, code, " FOR UPDATE").await
}

/// The same code unlocked, for a quote.
pub async fn promo_code_unlocked(c: &impl GenericClient, org: &str, code: &str) -> Result<Option<PromoCode>, DbError> {
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

async fn load_promo(c: &impl GenericClient, org: &str, code: &str, lock: &str) -> Result<Option<PromoCode>, DbError> {
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
pub async fn promo_uses(c: &impl GenericClient, org: &str, code: &str, customer_id: &str) -> Result<u32, DbError> {
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
pub async fn use_promo_code(w: &WriteTx<'_>, org: &str, promo_code_id: &str, booking: &Booking) -> Result<(), DbError> {
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
    // Office desks hold the code with its count: they check limits offline with it.
    if let Some(row) = super::catalogue_row(w.tx(), org, EntityKind::PromoCode, promo_code_id, false).await? {
        let buckets = RowScope::of_reference(EntityKind::PromoCode).unwrap_or(RowScope::Office).buckets(org);
        w.log_change(&buckets, EntityKind::PromoCode, promo_code_id, Op::Put, Some(row.to_value()?));
    }
    Ok(())
}

//! Named queries for the pricing half of the catalogue (`domain::catalogue`): seasons, promo
//! codes, tax rates, cancellation policies, FAQs and inclusions, as whole rows by id for the
//! mutations that edit them, and their writes. Each write queues its change for the buckets the
//! domain's `replication::RowScope` names (promo codes: office desks only).

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use tourdesk_domain::catalogue::{
    CancellationPolicyRow, CatalogueRow, EarlyBirdRule, GroupDiscountRule, InclusionKind, PromotionalCode, Season,
    TaxRate, TourFaq, TourInclusion,
};
use tourdesk_domain::money::Percent;
use tourdesk_domain::pricing::{Adjustment, PromoStatus};
use tourdesk_domain::protocol::{EntityKind, Op};
use tourdesk_domain::replication::RowScope;

use super::bookings::u32_of;
use super::pricing::adjustment;
use super::{DbError, Prepared, WriteTx, bad_row, i32_of, money, written_once};

const SEASON_COLS: &str = "id, organization_id, tour_id, name, start_date, end_date, adjustment_type, \
     adjustment_value, adjustment_currency, priority";
const PROMO_COLS: &str = "id, organization_id, code, discount_type, discount_value, discount_currency, \
     min_booking_minor, min_booking_currency, max_uses, max_uses_per_customer, valid_from, valid_until, \
     applicable_tour_ids, applicable_variant_ids, current_uses, status";
const TAX_COLS: &str = "id, organization_id, tour_id, name, rate_basis_points, inclusive, active, sort_order";
const POLICY_COLS: &str = "id, organization_id, tour_id, name, description, rules, is_default";
const FAQ_COLS: &str = "id, organization_id, tour_id, question, answer, sort_order, is_published";
const INCLUSION_COLS: &str = "id, organization_id, tour_id, type, text, icon, sort_order";
const GROUP_COLS: &str =
    "id, organization_id, tour_id, min_participants, discount_type, discount_value, discount_currency";
const EARLY_BIRD_COLS: &str =
    "id, organization_id, tour_id, min_days_before, discount_type, discount_value, discount_currency";

fn table(kind: EntityKind) -> Result<(&'static str, &'static str), DbError> {
    Ok(match kind {
        EntityKind::Season => ("seasonal_pricing", SEASON_COLS),
        EntityKind::PromoCode => ("promotional_codes", PROMO_COLS),
        EntityKind::TaxRate => ("tax_rules", TAX_COLS),
        EntityKind::CancellationPolicy => ("cancellation_policies", POLICY_COLS),
        EntityKind::TourFaq => ("tour_faqs", FAQ_COLS),
        EntityKind::TourInclusion => ("tour_inclusions", INCLUSION_COLS),
        EntityKind::GroupDiscount => ("group_discounts", GROUP_COLS),
        EntityKind::EarlyBirdDiscount => ("early_bird_discounts", EARLY_BIRD_COLS),
        other => return Err(DbError::Corrupt(format!("{} is not a catalogue row", other.as_str()))),
    })
}

fn opt_u32(v: Option<i32>) -> Result<Option<u32>, DbError> {
    v.map(u32_of).transpose()
}

fn row_from(kind: EntityKind, r: &Row) -> Result<CatalogueRow, DbError> {
    Ok(match kind {
        EntityKind::Season => {
            let kind: String = r.try_get(6)?;
            let cur: Option<String> = r.try_get(8)?;
            CatalogueRow::Season(Season {
                id: r.try_get(0)?,
                organization_id: r.try_get(1)?,
                tour_id: r.try_get(2)?,
                name: r.try_get(3)?,
                start_date: r.try_get(4)?,
                end_date: r.try_get(5)?,
                adjustment: adjustment(&kind, r.try_get(7)?, cur.as_deref())?,
                priority: r.try_get(9)?,
            })
        }
        EntityKind::PromoCode => {
            let kind: String = r.try_get(3)?;
            let cur: Option<String> = r.try_get(5)?;
            let min_minor: Option<i64> = r.try_get(6)?;
            let min_cur: Option<String> = r.try_get(7)?;
            let status: String = r.try_get(15)?;
            CatalogueRow::PromoCode(PromotionalCode {
                id: r.try_get(0)?,
                organization_id: r.try_get(1)?,
                code: r.try_get(2)?,
                discount: adjustment(&kind, r.try_get(4)?, cur.as_deref())?,
                min_booking_value: match (min_minor, min_cur) {
                    (Some(m), Some(c)) => Some(money(m, &c)?),
                    _ => None,
                },
                max_uses: opt_u32(r.try_get(8)?)?,
                max_uses_per_customer: opt_u32(r.try_get(9)?)?,
                valid_from: r.try_get(10)?,
                valid_until: r.try_get(11)?,
                applicable_tour_ids: r.try_get(12)?,
                applicable_variant_ids: r.try_get(13)?,
                current_uses: u32_of(r.try_get(14)?)?,
                status: promo_status(&status)?,
            })
        }
        EntityKind::TaxRate => CatalogueRow::TaxRate(TaxRate {
            id: r.try_get(0)?,
            organization_id: r.try_get(1)?,
            tour_id: r.try_get(2)?,
            name: r.try_get(3)?,
            rate: Percent::from_basis_points(i64::from(r.try_get::<_, i32>(4)?)),
            inclusive: r.try_get(5)?,
            active: r.try_get(6)?,
            sort_order: r.try_get(7)?,
        }),
        EntityKind::CancellationPolicy => CatalogueRow::CancellationPolicy(CancellationPolicyRow {
            id: r.try_get(0)?,
            organization_id: r.try_get(1)?,
            tour_id: r.try_get(2)?,
            name: r.try_get(3)?,
            description: r.try_get::<_, Option<String>>(4)?.unwrap_or_default(),
            rules: serde_json::from_value(r.try_get(5)?)?,
            is_default: r.try_get(6)?,
        }),
        EntityKind::GroupDiscount | EntityKind::EarlyBirdDiscount => {
            let kind_col: String = r.try_get(4)?;
            let cur: Option<String> = r.try_get(6)?;
            let discount = adjustment(&kind_col, r.try_get(5)?, cur.as_deref())?;
            let (id, organization_id, tour_id) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
            let threshold = u32_of(r.try_get(3)?)?;
            if kind == EntityKind::GroupDiscount {
                CatalogueRow::GroupDiscount(GroupDiscountRule {
                    id,
                    organization_id,
                    tour_id,
                    min_participants: threshold,
                    discount,
                })
            } else {
                CatalogueRow::EarlyBirdDiscount(EarlyBirdRule {
                    id,
                    organization_id,
                    tour_id,
                    min_days_before: threshold,
                    discount,
                })
            }
        }
        EntityKind::TourFaq => CatalogueRow::TourFaq(TourFaq {
            id: r.try_get(0)?,
            organization_id: r.try_get(1)?,
            tour_id: r.try_get(2)?,
            question: r.try_get(3)?,
            answer: r.try_get(4)?,
            sort_order: r.try_get(5)?,
            is_published: r.try_get(6)?,
        }),
        _ => {
            let kind: String = r.try_get(3)?;
            CatalogueRow::TourInclusion(TourInclusion {
                id: r.try_get(0)?,
                organization_id: r.try_get(1)?,
                tour_id: r.try_get(2)?,
                kind: InclusionKind::parse(&kind).ok_or_else(|| bad_row("inclusion type", &kind))?,
                text: r.try_get(4)?,
                icon: r.try_get(5)?,
                sort_order: r.try_get(6)?,
            })
        }
    })
}

fn promo_status(s: &str) -> Result<PromoStatus, DbError> {
    match s {
        "active" => Ok(PromoStatus::Active),
        "inactive" => Ok(PromoStatus::Inactive),
        "expired" => Ok(PromoStatus::Expired),
        other => Err(bad_row("promo status", other)),
    }
}

fn promo_status_str(s: PromoStatus) -> &'static str {
    match s {
        PromoStatus::Active => "active",
        PromoStatus::Inactive => "inactive",
        PromoStatus::Expired => "expired",
    }
}

/// `(type, value, currency)` as V2 stores an adjustment.
fn adjustment_cols(a: &Adjustment) -> (&'static str, i64, Option<String>) {
    match a {
        Adjustment::Percentage(p) => ("percentage", p.basis_points(), None),
        Adjustment::Fixed(m) => ("fixed", m.amount, Some(m.currency.as_str().to_string())),
    }
}

/// One catalogue row of `kind` by id, locked `FOR UPDATE` when `lock`.
pub async fn catalogue_row(
    c: &impl GenericClient,
    org: &str,
    kind: EntityKind,
    id: &str,
    lock: bool,
) -> Result<Option<CatalogueRow>, DbError> {
    row_where(c, kind, "id = $2", &[&org, &id], lock).await
}

/// The organization's default cancellation policy row.
pub async fn default_policy_row(
    c: &impl GenericClient,
    org: &str,
    lock: bool,
) -> Result<Option<CatalogueRow>, DbError> {
    row_where(c, EntityKind::CancellationPolicy, "is_default", &[&org], lock).await
}

/// A tour's own cancellation policy row (V14's `tour_id`).
pub async fn own_policy_row(
    c: &impl GenericClient,
    org: &str,
    tour_id: &str,
    lock: bool,
) -> Result<Option<CatalogueRow>, DbError> {
    row_where(c, EntityKind::CancellationPolicy, "tour_id = $2", &[&org, &tour_id], lock).await
}

/// The one row of `kind` with `organization_id = $1 AND {filter}` (`params` starts with the
/// organization), locked `FOR UPDATE` when `lock`.
async fn row_where(
    c: &impl GenericClient,
    kind: EntityKind,
    filter: &str,
    params: &[&(dyn ToSql + Sync)],
    lock: bool,
) -> Result<Option<CatalogueRow>, DbError> {
    let (table, cols) = table(kind)?;
    let lock = if lock { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT {cols} FROM {table} WHERE organization_id = $1 AND {filter}{lock}");
    c.row_opt(&sql, params).await?.map(|r| row_from(kind, &r)).transpose()
}

/// Every catalogue row of `kind` in the organization, in id order (the demo data's and tests'
/// view; desks receive them through the change log).
pub async fn catalogue_rows(c: &impl GenericClient, org: &str, kind: EntityKind) -> Result<Vec<CatalogueRow>, DbError> {
    let (table, cols) = table(kind)?;
    let sql = format!("SELECT {cols} FROM {table} WHERE organization_id = $1 ORDER BY id");
    c.rows(&sql, &[&org]).await?.iter().map(|r| row_from(kind, r)).collect()
}

/// A tour's FAQs or inclusions (`kind`), in their display order.
pub async fn ordered_rows_of_tour(
    c: &impl GenericClient,
    org: &str,
    kind: EntityKind,
    tour_id: &str,
) -> Result<Vec<CatalogueRow>, DbError> {
    if !matches!(kind, EntityKind::TourFaq | EntityKind::TourInclusion) {
        return Err(DbError::Corrupt(format!("{} rows have no display order", kind.as_str())));
    }
    let (table, cols) = table(kind)?;
    let sql = format!("SELECT {cols} FROM {table} WHERE organization_id = $1 AND tour_id = $2 ORDER BY sort_order, id");
    c.rows(&sql, &[&org, &tour_id]).await?.iter().map(|r| row_from(kind, r)).collect()
}

fn buckets(org: &str, kind: EntityKind) -> Vec<String> {
    RowScope::of_reference(kind).unwrap_or(RowScope::Reference).buckets(org)
}

/// Upserts one catalogue row and queues its change for the buckets of its scope. An id taken in
/// another organization writes nothing (`IdTaken`). A tour's own policy also becomes the tour's
/// `cancellation_policy_id` unless the tour chose another (`set_tour_cancellation_policy.v1`);
/// the policy lookup falls back to the own policy either way, as the desk's does.
pub async fn put_catalogue_row(w: &WriteTx<'_>, row: &CatalogueRow) -> Result<(), DbError> {
    let org = row.organization_id();
    let id = row.id();
    w.log_change(&buckets(org, row.kind()), row.kind(), id, Op::Put, Some(row.to_value()?));
    let n = match row {
        CatalogueRow::Season(s) => {
            let (kind, value, cur) = adjustment_cols(&s.adjustment);
            w.exec(
                "INSERT INTO seasonal_pricing (id, organization_id, tour_id, name, start_date, end_date,
                     adjustment_type, adjustment_value, adjustment_currency, priority)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, start_date = excluded.start_date,
                     end_date = excluded.end_date, adjustment_type = excluded.adjustment_type,
                     adjustment_value = excluded.adjustment_value, adjustment_currency = excluded.adjustment_currency,
                     priority = excluded.priority, updated_at = now()
                 WHERE seasonal_pricing.organization_id = excluded.organization_id
                   AND seasonal_pricing.tour_id = excluded.tour_id",
                &[
                    &s.id,
                    &s.organization_id,
                    &s.tour_id,
                    &s.name,
                    &s.start_date,
                    &s.end_date,
                    &kind,
                    &value,
                    &cur,
                    &s.priority,
                ],
            )
            .await?
        }
        CatalogueRow::PromoCode(p) => {
            let (kind, value, cur) = adjustment_cols(&p.discount);
            let min_minor = p.min_booking_value.map(|m| m.amount);
            let min_cur = p.min_booking_value.map(|m| m.currency.as_str().to_string());
            // The use counter is the bookings' to move (an increment under the row's lock); an
            // edit never writes it back.
            w.exec(
                "INSERT INTO promotional_codes (id, organization_id, code, discount_type, discount_value,
                     discount_currency, min_booking_minor, min_booking_currency, max_uses, max_uses_per_customer,
                     valid_from, valid_until, applicable_tour_ids, applicable_variant_ids, status)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                 ON CONFLICT (id) DO UPDATE SET code = excluded.code, discount_type = excluded.discount_type,
                     discount_value = excluded.discount_value, discount_currency = excluded.discount_currency,
                     min_booking_minor = excluded.min_booking_minor,
                     min_booking_currency = excluded.min_booking_currency, max_uses = excluded.max_uses,
                     max_uses_per_customer = excluded.max_uses_per_customer, valid_from = excluded.valid_from,
                     valid_until = excluded.valid_until, applicable_tour_ids = excluded.applicable_tour_ids,
                     applicable_variant_ids = excluded.applicable_variant_ids, status = excluded.status,
                     updated_at = now()
                 WHERE promotional_codes.organization_id = excluded.organization_id",
                &[
                    &p.id,
                    &p.organization_id,
                    &p.code,
                    &kind,
                    &value,
                    &cur,
                    &min_minor,
                    &min_cur,
                    &p.max_uses.map(i32_of).transpose()?,
                    &p.max_uses_per_customer.map(i32_of).transpose()?,
                    &p.valid_from,
                    &p.valid_until,
                    &p.applicable_tour_ids,
                    &p.applicable_variant_ids,
                    &promo_status_str(p.status),
                ],
            )
            .await?
        }
        CatalogueRow::TaxRate(t) => {
            let rate = i32::try_from(t.rate.basis_points())?;
            w.exec(
                "INSERT INTO tax_rules (id, organization_id, tour_id, name, rate_basis_points, inclusive, active,
                     sort_order)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (id) DO UPDATE SET tour_id = excluded.tour_id, name = excluded.name,
                     rate_basis_points = excluded.rate_basis_points, inclusive = excluded.inclusive,
                     active = excluded.active, sort_order = excluded.sort_order, updated_at = now()
                 WHERE tax_rules.organization_id = excluded.organization_id",
                &[&t.id, &t.organization_id, &t.tour_id, &t.name, &rate, &t.inclusive, &t.active, &t.sort_order],
            )
            .await?
        }
        CatalogueRow::CancellationPolicy(p) => {
            let rules = serde_json::to_value(&p.rules)?;
            let n = w
                .exec(
                    "INSERT INTO cancellation_policies (id, organization_id, tour_id, name, description, rules,
                         is_default)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
                         rules = excluded.rules, is_default = excluded.is_default, updated_at = now()
                     WHERE cancellation_policies.organization_id = excluded.organization_id
                       AND cancellation_policies.tour_id IS NOT DISTINCT FROM excluded.tour_id",
                    &[&p.id, &p.organization_id, &p.tour_id, &p.name, &p.description, &rules, &p.is_default],
                )
                .await?;
            if n == 1
                && let Some(tour_id) = &p.tour_id
            {
                w.exec(
                    "UPDATE tours SET cancellation_policy_id = $3, updated_at = now()
                     WHERE organization_id = $1 AND id = $2 AND cancellation_policy_id IS NULL",
                    &[&p.organization_id, tour_id, &p.id],
                )
                .await?;
            }
            n
        }
        CatalogueRow::TourFaq(f) => {
            w.exec(
                "INSERT INTO tour_faqs (id, organization_id, tour_id, question, answer, sort_order, is_published)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (id) DO UPDATE SET question = excluded.question, answer = excluded.answer,
                     sort_order = excluded.sort_order, is_published = excluded.is_published, updated_at = now()
                 WHERE tour_faqs.organization_id = excluded.organization_id AND tour_faqs.tour_id = excluded.tour_id",
                &[&f.id, &f.organization_id, &f.tour_id, &f.question, &f.answer, &f.sort_order, &f.is_published],
            )
            .await?
        }
        CatalogueRow::TourInclusion(i) => {
            w.exec(
                "INSERT INTO tour_inclusions (id, organization_id, tour_id, type, text, icon, sort_order)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (id) DO UPDATE SET type = excluded.type, text = excluded.text, icon = excluded.icon,
                     sort_order = excluded.sort_order, updated_at = now()
                 WHERE tour_inclusions.organization_id = excluded.organization_id
                   AND tour_inclusions.tour_id = excluded.tour_id",
                &[&i.id, &i.organization_id, &i.tour_id, &i.kind.as_str(), &i.text, &i.icon, &i.sort_order],
            )
            .await?
        }
        CatalogueRow::GroupDiscount(g) => {
            GROUP_DISCOUNTS.put(w, [&g.id, &g.organization_id, &g.tour_id], g.min_participants, &g.discount).await?
        }
        CatalogueRow::EarlyBirdDiscount(e) => {
            EARLY_BIRDS.put(w, [&e.id, &e.organization_id, &e.tour_id], e.min_days_before, &e.discount).await?
        }
    };
    written_once(n, id)
}

/// The group and early-bird discounts: V2's two tables of the same shape, which differ only in the
/// threshold's column.
struct ThresholdTable {
    table: &'static str,
    threshold_col: &'static str,
}

const GROUP_DISCOUNTS: ThresholdTable = ThresholdTable { table: "group_discounts", threshold_col: "min_participants" };
const EARLY_BIRDS: ThresholdTable = ThresholdTable { table: "early_bird_discounts", threshold_col: "min_days_before" };

impl ThresholdTable {
    /// Upserts one discount (`[id, organization_id, tour_id]`); a row of another tour under this
    /// id is not replaced (no row written).
    async fn put(
        &self,
        w: &WriteTx<'_>,
        [id, organization_id, tour_id]: [&str; 3],
        threshold: u32,
        discount: &Adjustment,
    ) -> Result<u64, DbError> {
        let (kind, value, cur) = adjustment_cols(discount);
        let (table, col) = (self.table, self.threshold_col);
        let sql = format!(
            "INSERT INTO {table} (id, organization_id, tour_id, {col}, discount_type, discount_value,
                 discount_currency)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (id) DO UPDATE SET {col} = excluded.{col},
                 discount_type = excluded.discount_type, discount_value = excluded.discount_value,
                 discount_currency = excluded.discount_currency, updated_at = now()
             WHERE {table}.organization_id = excluded.organization_id AND {table}.tour_id = excluded.tour_id"
        );
        let threshold = i32_of(threshold)?;
        Ok(w.exec(&sql, &[&id, &organization_id, &tour_id, &threshold, &kind, &value, &cur]).await?)
    }
}

/// Deletes one catalogue row of the organization and queues the delete for its buckets.
pub async fn delete_catalogue_row(w: &WriteTx<'_>, org: &str, kind: EntityKind, id: &str) -> Result<(), DbError> {
    let (table, _) = table(kind)?;
    w.log_change(&buckets(org, kind), kind, id, Op::Delete, None);
    w.exec(&format!("DELETE FROM {table} WHERE organization_id = $1 AND id = $2"), &[&org, &id]).await?;
    Ok(())
}

//! Row mapping between the replica tables and the domain entities. Change records carry an
//! entity's serde form, so `put`/`get` convert through the typed entity: a malformed row from
//! the wire is refused here instead of landing half-parsed in a table.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;
use tourdesk_domain::money::{Currency, Money};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::status::{DepartureStatus, TourCategory, TourStatus};
use tourdesk_domain::{Departure, PricingTier, Tour, TourVariant};

use crate::StoreError;

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

pub const TOUR_COLS: &str = "id, organization_id, name, slug, short_description, duration_minutes, default_capacity, \
     min_participants, category, timezone, meeting_point, status";

pub fn tour_from_row(r: &Row<'_>) -> Result<Tour, StoreError> {
    let category: String = r.get(8)?;
    let status: String = r.get(11)?;
    Ok(Tour {
        id: r.get(0)?,
        organization_id: r.get(1)?,
        name: r.get(2)?,
        slug: r.get(3)?,
        short_description: r.get(4)?,
        duration_minutes: r.get(5)?,
        default_capacity: r.get(6)?,
        min_participants: r.get(7)?,
        category: TourCategory::parse(&category).ok_or_else(|| corrupt("tour category", &category))?,
        timezone: r.get(9)?,
        meeting_point: r.get(10)?,
        status: TourStatus::parse(&status).ok_or_else(|| corrupt("tour status", &status))?,
    })
}

pub fn put_tour(c: &Connection, t: &Tour, pending: bool) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO tours (id, organization_id, name, slug, short_description, duration_minutes, default_capacity,
             min_participants, category, timezone, meeting_point, status, local_pending)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (id) DO UPDATE SET organization_id = excluded.organization_id, name = excluded.name,
             slug = excluded.slug, short_description = excluded.short_description,
             duration_minutes = excluded.duration_minutes, default_capacity = excluded.default_capacity,
             min_participants = excluded.min_participants, category = excluded.category,
             timezone = excluded.timezone, meeting_point = excluded.meeting_point, status = excluded.status,
             local_pending = excluded.local_pending",
    )?
    .execute(params![
        t.id,
        t.organization_id,
        t.name,
        t.slug,
        t.short_description,
        t.duration_minutes,
        t.default_capacity,
        t.min_participants,
        t.category.as_str(),
        t.timezone,
        t.meeting_point,
        t.status.as_str(),
        pending
    ])?;
    Ok(())
}

pub fn tour(c: &Connection, org: &str, id: &str) -> Result<Option<Tour>, StoreError> {
    let sql = format!("SELECT {TOUR_COLS} FROM tours WHERE organization_id = ?1 AND id = ?2");
    c.prepare_cached(&sql)?.query_row(params![org, id], |r| Ok(tour_from_row(r))).optional()?.transpose()
}

pub fn tour_by_slug(c: &Connection, org: &str, slug: &str) -> Result<Option<Tour>, StoreError> {
    let sql = format!("SELECT {TOUR_COLS} FROM tours WHERE organization_id = ?1 AND slug = ?2");
    c.prepare_cached(&sql)?.query_row(params![org, slug], |r| Ok(tour_from_row(r))).optional()?.transpose()
}

fn put_variant(c: &Connection, v: &TourVariant, pending: bool) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT OR REPLACE INTO tour_variants (id, organization_id, tour_id, name, capacity, duration_minutes,
             active, sort_order, local_pending)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        v.id,
        v.organization_id,
        v.tour_id,
        v.name,
        v.capacity,
        v.duration_minutes,
        v.active,
        v.sort_order,
        pending
    ])?;
    Ok(())
}

pub const TIER_COLS: &str = "id, organization_id, tour_id, variant_id, name, base_price_minor, currency, min_age, \
     max_age, is_default, sort_order";

pub fn tier_from_row(r: &Row<'_>) -> Result<PricingTier, StoreError> {
    let cur: String = r.get(6)?;
    let currency = Currency::parse(&cur).map_err(|_| corrupt("currency", &cur))?;
    Ok(PricingTier {
        id: r.get(0)?,
        organization_id: r.get(1)?,
        tour_id: r.get(2)?,
        variant_id: r.get(3)?,
        name: r.get(4)?,
        base_price: Money::new(r.get(5)?, currency),
        min_age: r.get(7)?,
        max_age: r.get(8)?,
        is_default: r.get(9)?,
        sort_order: r.get(10)?,
    })
}

fn put_tier(c: &Connection, t: &PricingTier, pending: bool) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT OR REPLACE INTO pricing_tiers (id, organization_id, tour_id, variant_id, name, base_price_minor,
             currency, min_age, max_age, is_default, sort_order, local_pending)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        t.id,
        t.organization_id,
        t.tour_id,
        t.variant_id,
        t.name,
        t.base_price.amount,
        t.base_price.currency.as_str(),
        t.min_age,
        t.max_age,
        t.is_default,
        t.sort_order,
        pending
    ])?;
    Ok(())
}

pub const DEPARTURE_COLS: &str = "id, organization_id, tour_id, variant_id, local_date, local_time, timezone, \
     starts_at, ends_at, capacity, booked_count, status";

pub fn departure_from_row(r: &Row<'_>) -> Result<Departure, StoreError> {
    let text = |i: usize| -> Result<String, StoreError> { Ok(r.get::<_, String>(i)?) };
    let date = text(4)?;
    let time = text(5)?;
    let starts = text(7)?;
    let ends = text(8)?;
    let status = text(11)?;
    Ok(Departure {
        id: r.get(0)?,
        organization_id: r.get(1)?,
        tour_id: r.get(2)?,
        variant_id: r.get(3)?,
        local_date: date.parse::<NaiveDate>().map_err(|_| corrupt("departure date", &date))?,
        local_time: time.parse::<NaiveTime>().map_err(|_| corrupt("departure time", &time))?,
        timezone: r.get(6)?,
        starts_at: starts.parse::<DateTime<Utc>>().map_err(|_| corrupt("departure start", &starts))?,
        ends_at: ends.parse::<DateTime<Utc>>().map_err(|_| corrupt("departure end", &ends))?,
        capacity: r.get(9)?,
        booked_count: r.get(10)?,
        status: DepartureStatus::parse(&status).ok_or_else(|| corrupt("departure status", &status))?,
    })
}

fn put_departure(c: &Connection, d: &Departure, pending: bool) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT OR REPLACE INTO schedules (id, organization_id, tour_id, variant_id, local_date, local_time, timezone,
             starts_at, ends_at, capacity, booked_count, status, local_pending)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        d.id,
        d.organization_id,
        d.tour_id,
        d.variant_id,
        d.local_date.to_string(),
        d.local_time.format("%H:%M:%S").to_string(),
        d.timezone,
        d.starts_at.to_rfc3339(),
        d.ends_at.to_rfc3339(),
        d.capacity,
        d.booked_count,
        d.status.as_str(),
        pending
    ])?;
    Ok(())
}

fn table(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Tour => "tours",
        EntityKind::TourVariant => "tour_variants",
        EntityKind::PricingTier => "pricing_tiers",
        EntityKind::Departure => "schedules",
        EntityKind::Booking => "bookings",
        EntityKind::Customer => "customers",
        EntityKind::CheckIn => "check_ins",
        EntityKind::Guide => "guides",
        EntityKind::GuideAssignment => "guide_assignments",
    }
}

/// Kinds this desk version replicates. A server that sends others is newer than this desk.
fn stored(kind: EntityKind) -> Result<(), StoreError> {
    match kind {
        EntityKind::Tour | EntityKind::TourVariant | EntityKind::PricingTier | EntityKind::Departure => Ok(()),
        other => Err(StoreError::Corrupt(format!("this desk version cannot store {} rows; update it", other.as_str()))),
    }
}

/// Writes an entity given in its wire form, checking that it belongs to `org`.
pub fn put(c: &Connection, org: &str, kind: EntityKind, row: &Value, pending: bool) -> Result<(), StoreError> {
    let owner = row.get("organization_id").and_then(Value::as_str);
    if owner != Some(org) {
        return Err(StoreError::Corrupt(format!("{} row for another organization", kind.as_str())));
    }
    match kind {
        EntityKind::Tour => put_tour(c, &serde_json::from_value(row.clone())?, pending),
        EntityKind::TourVariant => put_variant(c, &serde_json::from_value(row.clone())?, pending),
        EntityKind::PricingTier => put_tier(c, &serde_json::from_value(row.clone())?, pending),
        EntityKind::Departure => put_departure(c, &serde_json::from_value(row.clone())?, pending),
        other => stored(other),
    }
}

pub fn delete(c: &Connection, org: &str, kind: EntityKind, id: &str) -> Result<(), StoreError> {
    stored(kind)?;
    let sql = format!("DELETE FROM {} WHERE organization_id = ?1 AND id = ?2", table(kind));
    c.prepare_cached(&sql)?.execute(params![org, id])?;
    Ok(())
}

/// The wire form of a stored row, for shadows.
pub fn get(c: &Connection, org: &str, kind: EntityKind, id: &str) -> Result<Option<Value>, StoreError> {
    let v = match kind {
        EntityKind::Tour => tour(c, org, id)?.map(serde_json::to_value).transpose()?,
        EntityKind::Departure => {
            let sql = format!("SELECT {DEPARTURE_COLS} FROM schedules WHERE organization_id = ?1 AND id = ?2");
            let d = c.prepare_cached(&sql)?.query_row(params![org, id], |r| Ok(departure_from_row(r))).optional()?;
            d.transpose()?.map(serde_json::to_value).transpose()?
        }
        EntityKind::TourVariant => c
            .prepare_cached(
                "SELECT id, organization_id, tour_id, name, capacity, duration_minutes, active, sort_order
                 FROM tour_variants WHERE organization_id = ?1 AND id = ?2",
            )?
            .query_row(params![org, id], |r| {
                Ok(TourVariant {
                    id: r.get(0)?,
                    organization_id: r.get(1)?,
                    tour_id: r.get(2)?,
                    name: r.get(3)?,
                    capacity: r.get(4)?,
                    duration_minutes: r.get(5)?,
                    active: r.get(6)?,
                    sort_order: r.get(7)?,
                })
            })
            .optional()?
            .map(serde_json::to_value)
            .transpose()?,
        EntityKind::PricingTier => {
            let sql = format!("SELECT {TIER_COLS} FROM pricing_tiers WHERE organization_id = ?1 AND id = ?2");
            let t = c.prepare_cached(&sql)?.query_row(params![org, id], |r| Ok(tier_from_row(r))).optional()?;
            t.transpose()?.map(serde_json::to_value).transpose()?
        }
        other => {
            stored(other)?;
            None
        }
    };
    Ok(v)
}

//! Row mapping between the replica tables and the domain entities. Change records carry an
//! entity's serde form, so `put`/`get` convert through the typed entity: a malformed row from
//! the wire is refused here instead of landing half-parsed in a table.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tourdesk_domain::entities::{Booking, CheckIn, Customer, Guide, GuideAssignment};
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

/// How a column holds one field of an entity's serde form.
#[derive(Clone, Copy)]
enum Col {
    Text,
    Int,
    Bool,
    /// A nested part, kept as its JSON text.
    Json,
}

/// The columns of a replica table whose columns are exactly the entity's fields. Rows of these
/// tables are written from and read back into the entity's serde form generically, so a row
/// reads back exactly as it arrived.
struct Spec {
    table: &'static str,
    cols: &'static [(&'static str, Col)],
}

use Col::{Bool, Int, Json, Text};

const BOOKINGS: Spec = Spec {
    table: "bookings",
    cols: &[
        ("id", Text),
        ("organization_id", Text),
        ("reference_number", Text),
        ("customer_id", Text),
        ("departure_id", Text),
        ("tour_id", Text),
        ("variant_id", Text),
        ("pricing", Json),
        ("participants", Json),
        ("status", Text),
        ("payment_status", Text),
        ("paid_amount", Json),
        ("refunded_amount", Json),
        ("source", Text),
        ("special_requests", Text),
        ("dietary_restrictions", Text),
        ("overbook", Json),
        ("cancellation", Json),
        ("checked_in", Int),
        ("no_shows", Int),
        ("created_at", Text),
        ("confirmed_at", Text),
        ("cancelled_at", Text),
        ("updated_at", Text),
    ],
};

const CUSTOMERS: Spec = Spec {
    table: "customers",
    cols: &[
        ("id", Text),
        ("organization_id", Text),
        ("email", Text),
        ("phone", Text),
        ("first_name", Text),
        ("last_name", Text),
        ("source", Text),
        ("source_detail", Text),
        ("preferred_language", Text),
        ("preferred_currency", Text),
        ("marketing_consent", Bool),
        ("marketing_consent_date", Text),
        ("field_hlcs", Json),
        ("tags", Json),
        ("tag_stamps", Json),
        ("notes", Text),
        ("notes_version", Int),
        ("notes_conflicts", Json),
        ("created_at", Text),
        ("updated_at", Text),
    ],
};

const CHECK_INS: Spec = Spec {
    table: "check_ins",
    cols: &[
        ("id", Text),
        ("organization_id", Text),
        ("booking_id", Text),
        ("departure_id", Text),
        ("participant", Int),
        ("kind", Text),
        ("at", Text),
        ("recorded_by", Text),
    ],
};

const GUIDES: Spec = Spec {
    table: "guides",
    cols: &[
        ("id", Text),
        ("organization_id", Text),
        ("user_id", Text),
        ("first_name", Text),
        ("last_name", Text),
        ("email", Text),
        ("phone", Text),
        ("languages", Json),
        ("timezone", Text),
        ("weekly_availability", Json),
        ("status", Text),
        ("qualified_tour_ids", Json),
    ],
};

const GUIDE_ASSIGNMENTS: Spec = Spec {
    table: "guide_assignments",
    cols: &[
        ("id", Text),
        ("organization_id", Text),
        ("departure_id", Text),
        ("guide_id", Text),
        ("status", Text),
        ("assigned_at", Text),
        ("confirmed_at", Text),
        ("notes", Text),
    ],
};

fn spec(kind: EntityKind) -> Option<&'static Spec> {
    match kind {
        EntityKind::Booking => Some(&BOOKINGS),
        EntityKind::Customer => Some(&CUSTOMERS),
        EntityKind::CheckIn => Some(&CHECK_INS),
        EntityKind::Guide => Some(&GUIDES),
        EntityKind::GuideAssignment => Some(&GUIDE_ASSIGNMENTS),
        EntityKind::Tour | EntityKind::TourVariant | EntityKind::PricingTier | EntityKind::Departure => None,
    }
}

fn to_sql(spec: &Spec, name: &str, col: Col, v: &Value) -> Result<SqlValue, StoreError> {
    let bad = || StoreError::Corrupt(format!("{}.{name}: unexpected {v}", spec.table));
    Ok(match (col, v) {
        (_, Value::Null) => SqlValue::Null,
        (Text, Value::String(s)) => SqlValue::Text(s.clone()),
        (Int, Value::Number(n)) => SqlValue::Integer(n.as_i64().ok_or_else(bad)?),
        (Bool, Value::Bool(b)) => SqlValue::Integer(i64::from(*b)),
        (Json, v) => SqlValue::Text(v.to_string()),
        _ => return Err(bad()),
    })
}

fn from_sql(spec: &Spec, r: &Row<'_>) -> Result<Value, StoreError> {
    let mut obj = serde_json::Map::with_capacity(spec.cols.len());
    for (i, (name, col)) in spec.cols.iter().enumerate() {
        let v = match (col, r.get::<_, Option<SqlValue>>(i)?) {
            (_, None | Some(SqlValue::Null)) => Value::Null,
            (Text, Some(SqlValue::Text(s))) => Value::String(s),
            (Int, Some(SqlValue::Integer(n))) => Value::from(n),
            (Bool, Some(SqlValue::Integer(n))) => Value::Bool(n != 0),
            (Json, Some(SqlValue::Text(s))) => serde_json::from_str(&s)?,
            (_, Some(other)) => return Err(StoreError::Corrupt(format!("{}.{name}: {other:?}", spec.table))),
        };
        obj.insert((*name).to_string(), v);
    }
    Ok(Value::Object(obj))
}

/// Upserts the serde form `v` of an entity (already checked by parsing it into its type), plus
/// derived columns. An upsert, not `INSERT OR REPLACE`: REPLACE would delete the row without
/// firing delete triggers, and the customers' search index would keep the old text.
fn put_spec(
    c: &Connection,
    spec: &Spec,
    v: &Value,
    derived: &[(&str, SqlValue)],
    pending: bool,
) -> Result<(), StoreError> {
    let mut names: Vec<&str> = spec.cols.iter().map(|(n, _)| *n).collect();
    names.extend(derived.iter().map(|(n, _)| *n));
    names.push("local_pending");
    let mut values = Vec::with_capacity(names.len());
    for (name, col) in spec.cols {
        values.push(to_sql(spec, name, *col, v.get(*name).unwrap_or(&Value::Null))?);
    }
    values.extend(derived.iter().map(|(_, v)| v.clone()));
    values.push(SqlValue::Integer(i64::from(pending)));
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    let updates: Vec<String> = names.iter().skip(1).map(|n| format!("{n} = excluded.{n}")).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
        spec.table,
        names.join(", "),
        placeholders.join(", "),
        updates.join(", ")
    );
    c.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

/// Rows of `spec` in `org` matching `filter` (SQL over the table's columns, with the
/// organization as `?1` and `args` from `?2`), in the serde form. `filter` is ANDed after the
/// organization without parentheses so it can end in ORDER BY / LIMIT: it must not use OR.
fn select_spec(
    c: &Connection,
    spec: &Spec,
    org: &str,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Value>, StoreError> {
    let cols: Vec<&str> = spec.cols.iter().map(|(n, _)| *n).collect();
    let sql = format!("SELECT {} FROM {} WHERE organization_id = ?1 AND {filter}", cols.join(", "), spec.table);
    let mut stmt = c.prepare_cached(&sql)?;
    let mut all: Vec<&dyn rusqlite::ToSql> = vec![&org];
    all.extend_from_slice(args);
    let mut q = stmt.query(all.as_slice())?;
    let mut out = Vec::new();
    while let Some(r) = q.next()? {
        out.push(from_sql(spec, r)?);
    }
    Ok(out)
}

fn typed<T: DeserializeOwned>(v: Vec<Value>) -> Result<Vec<T>, StoreError> {
    v.into_iter().map(|v| serde_json::from_value(v).map_err(StoreError::from)).collect()
}

pub fn booking(c: &Connection, org: &str, id: &str) -> Result<Option<Booking>, StoreError> {
    Ok(typed(select_spec(c, &BOOKINGS, org, "id = ?2", &[&id])?)?.pop())
}

pub fn booking_reference_taken(c: &Connection, org: &str, reference: &str) -> Result<bool, StoreError> {
    Ok(c.prepare_cached("SELECT 1 FROM bookings WHERE organization_id = ?1 AND reference_number = ?2")?
        .exists(params![org, reference])?)
}

/// A departure's bookings in the order they were made.
pub fn bookings_of_departure(c: &Connection, org: &str, departure_id: &str) -> Result<Vec<Booking>, StoreError> {
    typed(select_spec(c, &BOOKINGS, org, "departure_id = ?2 ORDER BY created_at, id", &[&departure_id])?)
}

pub fn bookings_of_customer(c: &Connection, org: &str, customer_id: &str) -> Result<Vec<Booking>, StoreError> {
    typed(select_spec(c, &BOOKINGS, org, "customer_id = ?2 ORDER BY created_at DESC, id", &[&customer_id])?)
}

pub fn check_ins_of_booking(c: &Connection, org: &str, booking_id: &str) -> Result<Vec<CheckIn>, StoreError> {
    typed(select_spec(c, &CHECK_INS, org, "booking_id = ?2 ORDER BY at, id", &[&booking_id])?)
}

pub fn customer(c: &Connection, org: &str, id: &str) -> Result<Option<Customer>, StoreError> {
    Ok(typed(select_spec(c, &CUSTOMERS, org, "id = ?2", &[&id])?)?.pop())
}

pub fn customer_by_email(c: &Connection, org: &str, email: &str) -> Result<Option<Customer>, StoreError> {
    Ok(typed(select_spec(c, &CUSTOMERS, org, "email = ?2 ORDER BY id LIMIT 1", &[&email])?)?.pop())
}

pub fn guide(c: &Connection, org: &str, id: &str) -> Result<Option<Guide>, StoreError> {
    Ok(typed(select_spec(c, &GUIDES, org, "id = ?2", &[&id])?)?.pop())
}

pub fn guide_assignment(
    c: &Connection,
    org: &str,
    departure_id: &str,
    guide_id: &str,
) -> Result<Option<GuideAssignment>, StoreError> {
    let filter = "departure_id = ?2 AND guide_id = ?3 ORDER BY id LIMIT 1";
    Ok(typed(select_spec(c, &GUIDE_ASSIGNMENTS, org, filter, &[&departure_id, &guide_id])?)?.pop())
}

/// Whether a row is still changed locally (not yet confirmed by the server).
pub fn pending(c: &Connection, org: &str, kind: EntityKind, id: &str) -> Result<bool, StoreError> {
    let sql = format!("SELECT local_pending FROM {} WHERE organization_id = ?1 AND id = ?2", table(kind));
    Ok(c.prepare_cached(&sql)?.query_row(params![org, id], |r| r.get(0)).optional()?.unwrap_or(false))
}

/// Writes an entity given in its wire form, checking that it belongs to `org`.
pub fn put(c: &Connection, org: &str, kind: EntityKind, row: &Value, pending: bool) -> Result<(), StoreError> {
    let owner = row.get("organization_id").and_then(Value::as_str);
    if owner != Some(org) {
        return Err(StoreError::Corrupt(format!("{} row for another organization", kind.as_str())));
    }
    // Parsing into the entity refuses a malformed row; writing its own serde form back keeps
    // the stored text canonical.
    match kind {
        EntityKind::Tour => put_tour(c, &serde_json::from_value(row.clone())?, pending),
        EntityKind::TourVariant => put_variant(c, &serde_json::from_value(row.clone())?, pending),
        EntityKind::PricingTier => put_tier(c, &serde_json::from_value(row.clone())?, pending),
        EntityKind::Departure => put_departure(c, &serde_json::from_value(row.clone())?, pending),
        EntityKind::Booking => {
            let b: Booking = serde_json::from_value(row.clone())?;
            let derived = [
                ("participant_count", SqlValue::Integer(i64::from(b.participant_count()))),
                ("total_minor", SqlValue::Integer(b.pricing.total.amount)),
                ("currency", SqlValue::Text(b.pricing.total.currency.as_str().to_string())),
            ];
            put_spec(c, &BOOKINGS, &serde_json::to_value(&b)?, &derived, pending)
        }
        EntityKind::Customer => {
            let v = serde_json::to_value(serde_json::from_value::<Customer>(row.clone())?)?;
            put_spec(c, &CUSTOMERS, &v, &[], pending)
        }
        EntityKind::CheckIn => {
            let v = serde_json::to_value(serde_json::from_value::<CheckIn>(row.clone())?)?;
            put_spec(c, &CHECK_INS, &v, &[], pending)
        }
        EntityKind::Guide => {
            let v = serde_json::to_value(serde_json::from_value::<Guide>(row.clone())?)?;
            put_spec(c, &GUIDES, &v, &[], pending)
        }
        EntityKind::GuideAssignment => {
            let v = serde_json::to_value(serde_json::from_value::<GuideAssignment>(row.clone())?)?;
            put_spec(c, &GUIDE_ASSIGNMENTS, &v, &[], pending)
        }
    }
}

pub fn delete(c: &Connection, org: &str, kind: EntityKind, id: &str) -> Result<(), StoreError> {
    let sql = format!("DELETE FROM {} WHERE organization_id = ?1 AND id = ?2", table(kind));
    c.prepare_cached(&sql)?.execute(params![org, id])?;
    Ok(())
}

/// The wire form of a stored row, for shadows.
pub fn get(c: &Connection, org: &str, kind: EntityKind, id: &str) -> Result<Option<Value>, StoreError> {
    if let Some(spec) = spec(kind) {
        return Ok(select_spec(c, spec, org, "id = ?2", &[&id])?.pop());
    }
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
        EntityKind::Booking
        | EntityKind::Customer
        | EntityKind::CheckIn
        | EntityKind::Guide
        | EntityKind::GuideAssignment => None,
    };
    Ok(v)
}

/// Records that a server row arrived in `bucket`.
pub fn own(c: &Connection, bucket: &str, kind: EntityKind, id: &str) -> Result<(), StoreError> {
    c.prepare_cached("INSERT OR IGNORE INTO replica_rows (bucket, entity, id) VALUES (?1, ?2, ?3)")?
        .execute(params![bucket, kind.as_str(), id])?;
    Ok(())
}

/// Forgets that `bucket` holds a row, and deletes the row when no other bucket this desk holds
/// has it: the server removed it from this bucket, not necessarily from the desk's view.
pub fn disown(c: &Connection, org: &str, bucket: &str, kind: EntityKind, id: &str) -> Result<(), StoreError> {
    c.prepare_cached("DELETE FROM replica_rows WHERE bucket = ?1 AND entity = ?2 AND id = ?3")?.execute(params![
        bucket,
        kind.as_str(),
        id
    ])?;
    let elsewhere = c
        .prepare_cached("SELECT 1 FROM replica_rows WHERE entity = ?1 AND id = ?2")?
        .exists(params![kind.as_str(), id])?;
    if !elsewhere {
        delete(c, org, kind, id)?;
    }
    Ok(())
}

/// Drops a bucket this desk no longer receives: its rows that no other held bucket has, and
/// its cursor. Returns how many rows were deleted.
pub fn remove_bucket(c: &Connection, org: &str, bucket: &str) -> Result<usize, StoreError> {
    let held: Vec<(String, String)> = {
        let mut stmt = c.prepare_cached("SELECT entity, id FROM replica_rows WHERE bucket = ?1")?;
        stmt.query_map([bucket], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?
    };
    let mut deleted = 0;
    for (entity, id) in held {
        let kind = EntityKind::parse(&entity).ok_or_else(|| corrupt("replica row kind", &entity))?;
        c.prepare_cached("DELETE FROM replica_rows WHERE bucket = ?1 AND entity = ?2 AND id = ?3")?
            .execute(params![bucket, entity, id])?;
        let elsewhere = c
            .prepare_cached("SELECT 1 FROM replica_rows WHERE entity = ?1 AND id = ?2")?
            .exists(params![entity, id])?;
        if !elsewhere {
            delete(c, org, kind, &id)?;
            deleted += 1;
        }
    }
    c.prepare_cached("DELETE FROM sync_state WHERE bucket = ?1")?.execute([bucket])?;
    Ok(deleted)
}

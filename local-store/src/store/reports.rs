//! The rows the reports and the today dashboard read (issue 16). Each query below is named and
//! parameterised and finds rows through an index; the domain (`tourdesk_domain::reports`) does
//! the arithmetic: filtering to the exact days in the organization's zone, bucketing, sums.
//!
//! Timestamps are RFC 3339 text whose fraction varies in length, so a text comparison at an exact
//! instant could put a booking made half a second after midnight before it: the queries read a
//! day more on each side and the domain keeps exactly the days asked for.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Days, Duration, SecondsFormat, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, Row, named_params};
use tourdesk_domain::entities::BookingSource;
use tourdesk_domain::money::{Currency, Money};
use tourdesk_domain::mutation::Rejection;
use tourdesk_domain::reports::{
    self, CustomerFact, DASHBOARD_LIST, Dashboard, DashboardDeparture, DepartureFact, PAYMENTS_DUE_DAYS, PaymentDue,
    ReportFilter, ReportKind, ReportTable, SaleFact, UnpaidHold,
};
use tourdesk_domain::roles::Permission;
use tourdesk_domain::status::{BookingStatus, DepartureStatus};
use tourdesk_domain::validate::FieldError;

use super::{Session, Store};
use crate::StoreError;

/// The organization's zone as the desk knows it: the zone most of its tours run in (the
/// organization's own setting does not travel to desks), UTC for an organization without tours.
const ORG_ZONE: &str = "SELECT timezone FROM tours WHERE organization_id = :org
     GROUP BY timezone ORDER BY count(*) DESC, timezone LIMIT 1";

/// A booking's report columns, `b` joined to its tour `t` and departure `s`. Discounts and
/// exclusive taxes are read from the row's own pricing snapshot.
const SALE_COLUMNS: &str = "b.id, b.customer_id, b.tour_id, coalesce(t.name, b.tour_id), b.source, b.status,
     b.created_at, b.cancelled_at, s.starts_at, b.currency, b.participant_count,
     json_extract(b.pricing, '$.subtotal.amount'),
     (SELECT coalesce(sum(json_extract(d.value, '$.amount.amount')), 0) FROM json_each(b.pricing, '$.discounts') d),
     (SELECT coalesce(sum(json_extract(x.value, '$.amount.amount')), 0) FROM json_each(b.pricing, '$.taxes') x
        WHERE json_extract(x.value, '$.inclusive') = 0),
     b.total_minor, json_extract(b.paid_amount, '$.amount'), json_extract(b.refunded_amount, '$.amount'),
     json_extract(b.pricing, '$.promotional_code_id'), json_extract(b.cancellation, '$.reason'),
     json_extract(b.cancellation, '$.by')";

const SALE_JOINS: &str = "LEFT JOIN tours t ON t.id = b.tour_id
     LEFT JOIN schedules s ON s.id = b.departure_id";

/// Bookings made in `[:from, :to)` (V9's `bookings_created_idx`).
fn sales_made_between() -> String {
    format!(
        "SELECT {SALE_COLUMNS} FROM bookings b {SALE_JOINS}
         WHERE b.organization_id = :org AND b.created_at >= :from AND b.created_at < :to"
    )
}

/// The same rows read in table order: over months of sales most of the table matches, and one
/// pass over it is about twice as fast as an index lookup per booking (measured on the
/// 100k-booking replica of `benches/desk_replica.rs`).
fn sales_made_between_scan() -> String {
    format!(
        "SELECT {SALE_COLUMNS} FROM bookings b NOT INDEXED {SALE_JOINS}
         WHERE b.organization_id = :org AND b.created_at >= :from AND b.created_at < :to"
    )
}

/// Ranges longer than this read the bookings table in order rather than through its index.
const SCAN_FROM_DAYS: i64 = 62;

/// Cancelled bookings cancelled in `[:from, :to)` (V9's `bookings_status_idx`).
fn cancelled_between() -> String {
    format!(
        "SELECT {SALE_COLUMNS} FROM bookings b {SALE_JOINS}
         WHERE b.organization_id = :org AND b.status = 'cancelled'
           AND b.cancelled_at >= :from AND b.cancelled_at < :to"
    )
}

/// Every booking of the customers who booked in `[:from, :to)` (their history: new or returning,
/// lifetime value), through `bookings_created_idx` and `bookings_customer_idx`.
fn customers_history() -> String {
    format!(
        "SELECT {SALE_COLUMNS} FROM bookings b {SALE_JOINS}
         WHERE b.organization_id = :org AND b.customer_id IN (
             SELECT customer_id FROM bookings
             WHERE organization_id = :org AND created_at >= :from AND created_at < :to)
         ORDER BY b.customer_id"
    )
}

/// Departures starting in `[:from, :to)` (V15's `schedules_org_start_idx`) with their tour and
/// the attendance recorded on their bookings (`bookings_departure_idx`).
const DEPARTURES_BETWEEN: &str = "SELECT s.id, s.tour_id, coalesce(t.name, s.tour_id), s.local_date, s.local_time,
     s.status, s.capacity, s.booked_count,
     (SELECT coalesce(sum(b.checked_in), 0) FROM bookings b
        WHERE b.organization_id = s.organization_id AND b.departure_id = s.id),
     (SELECT coalesce(sum(b.no_shows), 0) FROM bookings b
        WHERE b.organization_id = s.organization_id AND b.departure_id = s.id),
     s.timezone, s.starts_at, s.ends_at
     FROM schedules s LEFT JOIN tours t ON t.id = s.tour_id
     WHERE s.organization_id = :org AND s.starts_at >= :from AND s.starts_at < :to
     ORDER BY s.starts_at, s.id";

/// Who leads the departures starting in `[:from, :to)`: assignments not declined, leads first.
const GUIDES_BETWEEN: &str = "SELECT a.departure_id, g.first_name || ' ' || g.last_name
     FROM schedules s
     JOIN guide_assignments a ON a.organization_id = s.organization_id AND a.departure_id = s.id
     JOIN guides g ON g.id = a.guide_id
     WHERE s.organization_id = :org AND s.starts_at >= :from AND s.starts_at < :to
       AND a.status != 'declined'
     ORDER BY a.departure_id, a.role != 'lead', g.last_name, g.first_name";

const PROMO_CODE_NAMES: &str = "SELECT id, code FROM promo_codes WHERE organization_id = :org";

/// Bookings holding seats on departures starting in `[:from, :to)` with money still due: the
/// week's departures (`schedules_org_start_idx`), then each one's bookings
/// (`bookings_departure_idx`). `+b.status` keeps SQLite off the status index, which would read
/// every live booking of the organization once per departure.
const PAYMENTS_DUE: &str = "SELECT b.id, b.reference_number,
     coalesce(c.first_name || ' ' || c.last_name, ''), coalesce(t.name, b.tour_id), s.starts_at,
     b.total_minor - json_extract(b.paid_amount, '$.amount') + json_extract(b.refunded_amount, '$.amount'),
     b.currency
     FROM schedules s
     JOIN bookings b ON b.organization_id = s.organization_id AND b.departure_id = s.id
     LEFT JOIN customers c ON c.id = b.customer_id
     LEFT JOIN tours t ON t.id = b.tour_id
     WHERE s.organization_id = :org AND s.starts_at >= :from AND s.starts_at < :to
       AND s.status != 'cancelled' AND +b.status IN ('pending', 'confirmed', 'modified')
       AND b.total_minor - json_extract(b.paid_amount, '$.amount') + json_extract(b.refunded_amount, '$.amount') > 0
     ORDER BY s.starts_at, b.reference_number";

/// Pending bookings with nothing paid on departures still to come, oldest first
/// (`bookings_status_idx`).
const UNPAID_HOLDS: &str = "SELECT b.id, b.reference_number,
     coalesce(c.first_name || ' ' || c.last_name, ''), coalesce(t.name, b.tour_id), b.created_at, s.starts_at,
     b.total_minor, b.currency
     FROM bookings b
     JOIN schedules s ON s.id = b.departure_id
     LEFT JOIN customers c ON c.id = b.customer_id
     LEFT JOIN tours t ON t.id = b.tour_id
     WHERE b.organization_id = :org AND b.status = 'pending'
       AND json_extract(b.paid_amount, '$.amount') = 0 AND s.starts_at >= :now
     ORDER BY b.created_at, b.id";

const REFUSED_WAITING: &str = "SELECT count(*) FROM mutation_outcome WHERE status = 'rejected' AND acknowledged = 0";

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

fn instant(raw: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(raw).map(|t| t.with_timezone(&Utc)).map_err(|_| corrupt("timestamp", raw))
}

fn currency(raw: &str) -> Result<Currency, StoreError> {
    Currency::parse(raw).map_err(|_| corrupt("currency", raw))
}

fn sale_from_row(r: &Row<'_>) -> Result<SaleFact, StoreError> {
    let source: String = r.get(4)?;
    let status: String = r.get(5)?;
    let created: String = r.get(6)?;
    let cancelled: Option<String> = r.get(7)?;
    let starts: Option<String> = r.get(8)?;
    let cur: String = r.get(9)?;
    let by: Option<String> = r.get(19)?;
    Ok(SaleFact {
        booking_id: r.get(0)?,
        customer_id: r.get(1)?,
        tour_id: r.get(2)?,
        tour_name: r.get(3)?,
        source: BookingSource::parse(&source).ok_or_else(|| corrupt("booking source", &source))?,
        status: BookingStatus::parse(&status).ok_or_else(|| corrupt("booking status", &status))?,
        created_at: instant(&created)?,
        cancelled_at: cancelled.as_deref().map(instant).transpose()?,
        departure_starts_at: starts.as_deref().map(instant).transpose()?,
        currency: currency(&cur)?,
        participants: r.get(10)?,
        subtotal: r.get::<_, Option<i64>>(11)?.unwrap_or(0),
        discounts: r.get(12)?,
        exclusive_taxes: r.get(13)?,
        total: r.get(14)?,
        paid: r.get::<_, Option<i64>>(15)?.unwrap_or(0),
        refunded: r.get::<_, Option<i64>>(16)?.unwrap_or(0),
        promo_code: r.get(17)?,
        cancel_reason: r.get(18)?,
        cancelled_by_operator: by.as_deref() == Some("operator"),
    })
}

fn sales(
    c: &Connection,
    sql: &str,
    org: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<SaleFact>, StoreError> {
    let mut stmt = c.prepare_cached(sql)?;
    let mut q = stmt.query(named_params! {":org": org, ":from": ts(from), ":to": ts(to)})?;
    let mut out = Vec::new();
    while let Some(r) = q.next()? {
        out.push(sale_from_row(r)?);
    }
    Ok(out)
}

/// A departure row with its zone and instants, for the dashboard.
struct DepartureRow {
    fact: DepartureFact,
    timezone: String,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
}

fn departures(
    c: &Connection,
    org: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DepartureRow>, StoreError> {
    let mut guides: HashMap<String, Vec<String>> = HashMap::new();
    {
        let mut stmt = c.prepare_cached(GUIDES_BETWEEN)?;
        let mut q = stmt.query(named_params! {":org": org, ":from": ts(from), ":to": ts(to)})?;
        while let Some(r) = q.next()? {
            guides.entry(r.get(0)?).or_default().push(r.get(1)?);
        }
    }
    let mut stmt = c.prepare_cached(DEPARTURES_BETWEEN)?;
    let mut q = stmt.query(named_params! {":org": org, ":from": ts(from), ":to": ts(to)})?;
    let mut out = Vec::new();
    while let Some(r) = q.next()? {
        let id: String = r.get(0)?;
        let date: String = r.get(3)?;
        let time: String = r.get(4)?;
        let status: String = r.get(5)?;
        let starts: String = r.get(11)?;
        let ends: String = r.get(12)?;
        out.push(DepartureRow {
            fact: DepartureFact {
                guides: guides.remove(&id).unwrap_or_default(),
                departure_id: id,
                tour_id: r.get(1)?,
                tour_name: r.get(2)?,
                local_date: date.parse().map_err(|_| corrupt("departure date", &date))?,
                local_time: time.parse().map_err(|_| corrupt("departure time", &time))?,
                status: DepartureStatus::parse(&status).ok_or_else(|| corrupt("departure status", &status))?,
                capacity: r.get(6)?,
                seats_sold: r.get(7)?,
                checked_in: r.get(8)?,
                no_shows: r.get(9)?,
            },
            timezone: r.get(10)?,
            starts_at: instant(&starts)?,
            ends_at: instant(&ends)?,
        });
    }
    Ok(out)
}

/// The signed-in organization and whether its role reads reports (money figures): owners and
/// admins (`Permission::ReportsRead`).
fn signed_in(c: &Connection) -> Result<Option<(String, bool)>, StoreError> {
    use rusqlite::OptionalExtension;
    let raw: Option<String> =
        c.query_row("SELECT value FROM meta WHERE key = 'session'", [], |r| r.get(0)).optional()?;
    let Some(raw) = raw else { return Ok(None) };
    let s: Session = serde_json::from_str(&raw)?;
    Ok(Some((s.organization_id, s.role.can(Permission::ReportsRead))))
}

fn org_zone(c: &Connection, org: &str) -> Result<Tz, StoreError> {
    let name: Option<String> =
        c.query_row(ORG_ZONE, named_params! {":org": org}, |r| r.get(0)).map(Some).or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    Ok(name.and_then(|n| n.parse().ok()).unwrap_or(Tz::UTC))
}

impl Store {
    /// The zone the reports bucket days in (see [`ORG_ZONE`]).
    pub fn report_zone(&self) -> Result<String, StoreError> {
        let conn = self.conn();
        let Some((org, _)) = signed_in(&conn)? else { return Ok("UTC".into()) };
        Ok(org_zone(&conn, &org)?.name().to_string())
    }

    /// One report over this desk's replica, for owners and admins. A range that ends before it
    /// starts (or spans more than ten years) is refused at its field.
    pub fn report(&self, f: &ReportFilter) -> Result<ReportTable, StoreError> {
        f.validate().map_err(|e| Rejection::Invalid(FieldError::new(e.field(), e.to_string())))?;
        let conn = self.conn();
        let Some((org, reads_reports)) = signed_in(&conn)? else { return Err(StoreError::NotSignedIn) };
        if !reads_reports {
            return Err(Rejection::NotAuthorized { action: "read reports".into() }.into());
        }
        let tz = org_zone(&conn, &org)?;
        let (start, end) = f.utc_bounds(tz);
        let (wide_start, wide_end) = (start - Duration::days(1), end + Duration::days(1));
        let made =
            if (f.to - f.from).num_days() > SCAN_FROM_DAYS { sales_made_between_scan() } else { sales_made_between() };
        Ok(match f.kind {
            ReportKind::Revenue => reports::revenue(&sales(&conn, &made, &org, wide_start, wide_end)?, f, tz),
            ReportKind::Sources => reports::sources(&sales(&conn, &made, &org, wide_start, wide_end)?, f, tz),
            ReportKind::Cancellations => {
                reports::cancellations(&sales(&conn, &cancelled_between(), &org, wide_start, wide_end)?, f, tz)
            }
            ReportKind::Promos => {
                let mut names = BTreeMap::new();
                let mut stmt = conn.prepare_cached(PROMO_CODE_NAMES)?;
                let mut q = stmt.query(named_params! {":org": org})?;
                while let Some(r) = q.next()? {
                    names.insert(r.get::<_, String>(0)?, r.get::<_, String>(1)?);
                }
                reports::promos(&sales(&conn, &made, &org, wide_start, wide_end)?, f, tz, &names)
            }
            ReportKind::Customers => {
                let mut by: Vec<CustomerFact> = Vec::new();
                for s in sales(&conn, &customers_history(), &org, wide_start, wide_end)? {
                    match by.last_mut() {
                        Some(c) if c.customer_id == s.customer_id => c.bookings.push(s),
                        _ => by.push(CustomerFact { customer_id: s.customer_id.clone(), bookings: vec![s] }),
                    }
                }
                reports::customers(&by, f, tz)
            }
            // Departures by their own local date: a day either side covers every zone.
            ReportKind::Utilisation | ReportKind::Guides => {
                let deps: Vec<DepartureFact> =
                    departures(&conn, &org, wide_start - Duration::days(1), wide_end + Duration::days(1))?
                        .into_iter()
                        .map(|d| d.fact)
                        .collect();
                if f.kind == ReportKind::Utilisation {
                    reports::utilisation(&deps, f)
                } else {
                    reports::guides(&deps, f)
                }
            }
        })
    }

    /// The today dashboard at `now`. Revenue only for the roles that read reports.
    pub fn dashboard(&self, now: DateTime<Utc>) -> Result<Dashboard, StoreError> {
        let conn = self.conn();
        let Some((org, reads_reports)) = signed_in(&conn)? else { return Ok(Dashboard::default()) };
        let tz = org_zone(&conn, &org)?;
        let today = reports::local_day(now, tz);
        // Today and tomorrow somewhere on Earth lie within a day and a half either side of now.
        let departures: Vec<DashboardDeparture> =
            departures(&conn, &org, now - Duration::hours(36), now + Duration::hours(72))?
                .into_iter()
                .filter(|d| reports::today_or_tomorrow(d.fact.local_date, &d.timezone, now))
                .map(|d| DashboardDeparture {
                    departure_id: d.fact.departure_id,
                    tour_id: d.fact.tour_id,
                    tour_name: d.fact.tour_name,
                    local_date: d.fact.local_date,
                    local_time: d.fact.local_time,
                    timezone: d.timezone,
                    starts_at: d.starts_at,
                    ends_at: d.ends_at,
                    status: d.fact.status,
                    capacity: d.fact.capacity,
                    seats_sold: d.fact.seats_sold,
                    checked_in: d.fact.checked_in,
                    no_shows: d.fact.no_shows,
                    guides: d.fact.guides,
                })
                .collect();

        let mut payments_due = Vec::new();
        let mut payments_due_count = 0u32;
        {
            let mut stmt = conn.prepare_cached(PAYMENTS_DUE)?;
            let until = now + Duration::days(PAYMENTS_DUE_DAYS as i64);
            let mut q = stmt.query(named_params! {":org": org, ":from": ts(now), ":to": ts(until)})?;
            while let Some(r) = q.next()? {
                payments_due_count += 1;
                if payments_due.len() < DASHBOARD_LIST {
                    let starts: String = r.get(4)?;
                    let cur: String = r.get(6)?;
                    payments_due.push(PaymentDue {
                        booking_id: r.get(0)?,
                        reference_number: r.get(1)?,
                        customer_name: r.get(2)?,
                        tour_name: r.get(3)?,
                        departure_starts_at: instant(&starts)?,
                        balance_due: Money::new(r.get(5)?, currency(&cur)?),
                    });
                }
            }
        }

        let mut holds = Vec::new();
        let mut holds_count = 0u32;
        {
            let mut stmt = conn.prepare_cached(UNPAID_HOLDS)?;
            let mut q = stmt.query(named_params! {":org": org, ":now": ts(now)})?;
            while let Some(r) = q.next()? {
                holds_count += 1;
                if holds.len() < DASHBOARD_LIST {
                    let created: String = r.get(4)?;
                    let starts: String = r.get(5)?;
                    let cur: String = r.get(7)?;
                    holds.push(UnpaidHold {
                        booking_id: r.get(0)?,
                        reference_number: r.get(1)?,
                        customer_name: r.get(2)?,
                        tour_name: r.get(3)?,
                        created_at: instant(&created)?,
                        departure_starts_at: instant(&starts)?,
                        total: Money::new(r.get(6)?, currency(&cur)?),
                    });
                }
            }
        }

        let refused: u32 = conn.query_row(REFUSED_WAITING, [], |r| r.get(0))?;

        // This week so far and the same days 52 weeks before: two short index scans.
        let week = reports::period_start(today, reports::Grouping::Week);
        let mut facts = Vec::new();
        let windows =
            if reads_reports { vec![(week, today), (week - Days::new(364), today - Days::new(364))] } else { vec![] };
        for (from, to) in windows {
            let (start, end) = (reports::day_start(from, tz), reports::day_start(to + Days::new(1), tz));
            facts.extend(sales(
                &conn,
                &sales_made_between(),
                &org,
                start - Duration::days(1),
                end + Duration::days(1),
            )?);
        }
        facts.sort_by(|a, b| a.booking_id.cmp(&b.booking_id));
        facts.dedup_by(|a, b| a.booking_id == b.booking_id);
        let revenue = reports::revenue_comparison(&facts, today, tz);

        Ok(Dashboard {
            today: Some(today),
            timezone: tz.name().to_string(),
            departures,
            payments_due,
            payments_due_count,
            holds,
            holds_count,
            refused,
            revenue,
        })
    }
}

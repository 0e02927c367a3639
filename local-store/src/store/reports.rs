//! The rows the reports and the today dashboard read (issue 16). Each query below is named and
//! parameterised and finds rows through an index; the domain (`tourdesk_domain::reports`) does
//! the arithmetic: filtering to the exact days in the organization's zone, bucketing, sums.
//!
//! Timestamps are RFC 3339 text whose fraction varies in length, so a text comparison at an exact
//! instant could put a booking made half a second after midnight before it: the queries read a
//! day more on each side and the domain keeps exactly the days asked for.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Days, Duration, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Tz;
use rusqlite::{Connection, Row, named_params};
use tourdesk_domain::entities::BookingSource;
use tourdesk_domain::money::{Currency, Money};
use tourdesk_domain::mutation::Rejection;
use tourdesk_domain::reports::{
    self, CustomerSums, DASHBOARD_LIST, Dashboard, DashboardDeparture, DepartureFact, PAYMENTS_DUE_DAYS, PaymentDue,
    PromoSums, ReportFilter, ReportKind, ReportTable, SaleFact, SaleRow, SalesGroup, SourcesSums, UnpaidHold,
};
use tourdesk_domain::roles::Permission;
use tourdesk_domain::status::{BookingStatus, DepartureStatus};
use tourdesk_domain::validate::FieldError;

use super::{Session, Store};
use crate::StoreError;

/// The zone an organization's days are counted in when its session does not carry the
/// organization's own zone (signed in to a server older than `organization_timezone`): the zone
/// most of its tours run in, UTC for an organization without tours.
const ORG_ZONE: &str = "SELECT timezone FROM tours WHERE organization_id = :org
     GROUP BY timezone ORDER BY count(*) DESC, timezone LIMIT 1";

/// A booking's report columns (V21's real columns, all in `bookings_report_idx` and
/// `bookings_customer_report_idx`, so these queries read an index alone). The tour's name and the
/// departure's start come from [`Names`], read once per report.
const SALE_COLUMNS: &str = "b.id, b.customer_id, b.tour_id, b.departure_id, b.source, b.status,
     b.created_at, b.cancelled_at, b.currency, b.participant_count,
     b.subtotal_minor, b.discounts_minor, b.exclusive_taxes_minor, b.total_minor,
     b.paid_minor, b.refunded_minor, b.promo_code_id, b.cancel_reason, b.cancelled_by";

/// Bookings made in `[:from, :to)` (V21's `bookings_report_idx`).
fn sales_made_between() -> String {
    format!(
        "SELECT {SALE_COLUMNS} FROM bookings b INDEXED BY bookings_report_idx
         WHERE b.organization_id = :org AND b.created_at IS NOT NULL
           AND b.created_at >= :from AND b.created_at < :to"
    )
}

/// Cancelled bookings cancelled in `[:from, :to)` (V9's `bookings_status_idx`).
fn cancelled_between() -> String {
    format!(
        "SELECT {SALE_COLUMNS} FROM bookings b INDEXED BY bookings_status_idx
         WHERE b.organization_id = :org AND b.status = 'cancelled'
           AND b.cancelled_at >= :from AND b.cancelled_at < :to"
    )
}

/// Every booking of the customers who booked in `[:from, :to)` (their history: new or returning,
/// lifetime value), by customer (V21's `bookings_customer_report_idx`, the inner query
/// `bookings_report_idx`).
fn customers_history() -> String {
    format!(
        "SELECT {SALE_COLUMNS} FROM bookings b INDEXED BY bookings_customer_report_idx
         WHERE b.organization_id = :org AND b.customer_id IS NOT NULL AND b.customer_id IN (
             SELECT customer_id FROM bookings INDEXED BY bookings_report_idx
             WHERE organization_id = :org AND created_at IS NOT NULL AND created_at >= :from AND created_at < :to)
         ORDER BY b.customer_id"
    )
}

/// Every booking of the organization by customer, in the order of
/// `bookings_customer_report_idx`: over a long range most customers booked in it, and one pass
/// over the index is faster than a lookup per customer. The domain skips the customers who did
/// not book in the range. `:from`/`:to` are bound but unused. `customer_id >= ''` (every id) is
/// what lets SQLite use the partial index: it drops an `IS NOT NULL` on a NOT NULL column.
fn customers_history_all() -> String {
    format!(
        "SELECT {SALE_COLUMNS} FROM bookings b INDEXED BY bookings_customer_report_idx
         WHERE b.organization_id = :org AND b.customer_id >= '' AND :from IS NOT NULL AND :to IS NOT NULL
         ORDER BY b.customer_id"
    )
}

/// The revenue report's bookings (V21's `bookings_report_idx` alone, in its `created_at` order):
/// only the columns the sums need, the report's tour, source and currency filters applied in SQL.
/// `:from`/`:to` are a day wider than the range; [`revenue_groups`] keeps its exact days.
const SALES_TO_GROUP: &str = "SELECT created_at, tour_id, currency, status, paid_minor > 0, participant_count,
     subtotal_minor, discounts_minor, exclusive_taxes_minor, refunded_minor
     FROM bookings INDEXED BY bookings_report_idx
     WHERE organization_id = :org AND created_at IS NOT NULL AND created_at >= :from AND created_at < :to
       AND (:tour IS NULL OR tour_id = :tour) AND (:source IS NULL OR source = :source)
       AND (:currency IS NULL OR currency = :currency)";

/// A revenue group: local day, tour (index), currency, status and whether it was paid.
type GroupKey = (Option<NaiveDate>, Option<usize>, Currency, &'static str, bool);

/// The revenue report's [`SalesGroup`]s over the filter's days in `tz`, summed while the rows
/// stream by: a booking's local day is worked out once per UTC minute (`2026-03-29T01:00`, the
/// text's first 16 characters, since every zone's offset is whole minutes) from the zone's
/// offset over that stretch (`reports::offset_spans`), and nothing is allocated per booking. A
/// year of bookings becomes a few thousand sums instead of a hundred thousand records.
fn revenue_groups(c: &Connection, org: &str, f: &ReportFilter, tz: Tz) -> Result<Vec<SalesGroup>, StoreError> {
    use std::collections::hash_map::Entry;
    let by_tour = reports::revenue_grouping(f.group) == reports::Grouping::Tour;
    let (start, end) = f.utc_bounds(tz);
    let (wide_start, wide_end) = (start - Duration::days(1), end + Duration::days(1));
    let spans = reports::offset_spans(tz, wide_start, wide_end);
    let offset_at = |t: DateTime<Utc>| spans.iter().find(|(a, b, _)| *a <= t && t < *b).map(|(_, _, o)| *o);
    let mut stmt = c.prepare_cached(SALES_TO_GROUP)?;
    let (tour, source, cur) = (f.tour_id.as_deref(), f.source.map(|s| s.as_str()), f.currency.map(|c| c.to_string()));
    let mut q = stmt.query(named_params! {
        ":org": org, ":from": ts(wide_start), ":to": ts(wide_end),
        ":tour": tour, ":source": source, ":currency": cur,
    })?;
    let mut tours: HashMap<String, usize> = HashMap::new();
    let mut tour_ids: Vec<String> = Vec::new();
    let mut currencies: Vec<(String, Currency)> = Vec::new();
    let mut sums: HashMap<GroupKey, (BookingStatus, reports::Revenue)> = HashMap::new();
    // The minute last seen and its local day.
    let mut minute = String::new();
    let mut minute_day: Option<NaiveDate> = None;
    while let Some(r) = q.next()? {
        let created = r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
        let day = match created.get(..16) {
            Some(m) if created.ends_with('Z') && created.len() >= 20 => {
                if m != minute {
                    minute.clear();
                    minute.push_str(m);
                    let utc = chrono::NaiveDateTime::parse_from_str(m, "%Y-%m-%dT%H:%M")
                        .map_err(|_| corrupt("timestamp", created))?
                        .and_utc();
                    minute_day = match offset_at(utc) {
                        Some(o) => Some((utc + Duration::seconds(o)).date_naive()),
                        None => Some(reports::local_day(utc, tz)),
                    };
                }
                minute_day
            }
            // Not UTC text: read exactly, as the other reports do.
            _ => Some(reports::local_day(instant(created)?, tz)),
        };
        let Some(day) = day.filter(|d| f.from <= *d && *d <= f.to) else { continue };
        let tour = if by_tour {
            let id = r.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
            Some(match tours.get(id) {
                Some(i) => *i,
                None => {
                    tour_ids.push(id.to_string());
                    tours.insert(id.to_string(), tour_ids.len() - 1);
                    tour_ids.len() - 1
                }
            })
        } else {
            None
        };
        let code = r.get_ref(2)?.as_str().map_err(rusqlite::Error::from)?;
        let currency = match currencies.iter().find(|(c, _)| c == code) {
            Some((_, c)) => *c,
            None => {
                let parsed = currency(code)?;
                currencies.push((code.to_string(), parsed));
                parsed
            }
        };
        let raw = r.get_ref(3)?.as_str().map_err(rusqlite::Error::from)?;
        let status = BookingStatus::parse(raw).ok_or_else(|| corrupt("booking status", raw))?;
        let any_paid: bool = r.get(4)?;
        let key = ((!by_tour).then_some(day), tour, currency, status.as_str(), any_paid);
        let acc = match sums.entry(key) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert((status, reports::Revenue::default())),
        };
        let s = &mut acc.1;
        s.bookings += 1;
        s.participants += r.get::<_, i64>(5)?;
        s.gross += r.get::<_, i64>(6)?;
        s.discounts += r.get::<_, i64>(7)?;
        s.taxes += r.get::<_, i64>(8)?;
        s.refunds += r.get::<_, i64>(9)?;
    }
    Ok(sums
        .into_iter()
        .map(|((day, tour, currency, _, any_paid), (status, sums))| SalesGroup {
            day,
            tour_id: tour.and_then(|i| tour_ids.get(i).cloned()),
            currency,
            status,
            any_paid,
            sums,
        })
        .collect())
}

/// Ranges longer than this read every booking by customer for the customers report.
const SCAN_FROM_DAYS: i64 = 62;

/// The organization's tour names and departure starts, which every sale carries: read once per
/// report rather than joined per booking (two index lookups per booking cost more than the scan
/// of the bookings itself).
const TOUR_NAMES: &str = "SELECT id, name FROM tours WHERE organization_id = :org";
const DEPARTURE_STARTS: &str = "SELECT id, starts_at FROM schedules WHERE organization_id = :org";

/// Departures starting in `[:from, :to)` (V15's `schedules_org_start_idx`) with their tour and
/// the attendance recorded on their bookings (V21's `bookings_attendance_idx` alone).
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

/// The published review ratings of the bookings on departures starting in `[:from, :to)`
/// (`review_ratings_departure_idx`, office desks; a guide's device holds none).
const RATINGS_BETWEEN: &str = "SELECT r.departure_id, r.rating
     FROM schedules s
     JOIN review_ratings r ON r.organization_id = s.organization_id AND r.departure_id = s.id AND r.published = 1
     WHERE s.organization_id = :org AND s.starts_at >= :from AND s.starts_at < :to";

const PROMO_CODE_NAMES: &str = "SELECT id, code FROM promo_codes WHERE organization_id = :org";

/// The organization's promo codes by id, as the promo report names them.
fn promo_code_names(conn: &rusqlite::Connection, org: &str) -> Result<BTreeMap<String, String>, StoreError> {
    let mut names = BTreeMap::new();
    let mut stmt = conn.prepare_cached(PROMO_CODE_NAMES)?;
    let mut q = stmt.query(named_params! {":org": org})?;
    while let Some(r) = q.next()? {
        names.insert(r.get::<_, String>(0)?, r.get::<_, String>(1)?);
    }
    Ok(names)
}

/// Bookings holding seats on departures starting in `[:from, :to)` with money still due: the
/// week's departures (`schedules_org_start_idx`), then each one's bookings
/// (`bookings_departure_idx`, named: without it SQLite picks V32's `bookings_balance_idx` for the
/// balance condition and reads every booking of the organization with money due once per
/// departure — 11 s over a 100k replica instead of milliseconds). `+b.status` keeps it off the
/// status index for the same reason.
pub(super) const PAYMENTS_DUE: &str = "SELECT b.id, b.reference_number,
     coalesce(c.first_name || ' ' || c.last_name, ''), coalesce(t.name, b.tour_id), s.starts_at,
     b.total_minor - b.paid_minor + b.refunded_minor,
     b.currency
     FROM schedules s
     JOIN bookings b INDEXED BY bookings_departure_idx
       ON b.organization_id = s.organization_id AND b.departure_id = s.id
     LEFT JOIN customers c ON c.id = b.customer_id
     LEFT JOIN tours t ON t.id = b.tour_id
     WHERE s.organization_id = :org AND s.starts_at >= :from AND s.starts_at < :to
       AND s.status != 'cancelled' AND +b.status IN ('pending', 'confirmed', 'modified')
       AND b.total_minor - b.paid_minor + b.refunded_minor > 0
     ORDER BY s.starts_at, b.reference_number";

/// Pending bookings with nothing paid on departures still to come: their ids and creation
/// times, all of them counted (V21's partial `bookings_holds_idx` alone, plus each one's
/// departure start); the oldest few are then read in full by [`HOLD_DETAIL`].
const UNPAID_HOLDS: &str = "SELECT b.id, b.created_at
     FROM bookings b INDEXED BY bookings_holds_idx
     JOIN schedules s ON s.id = b.departure_id
     WHERE b.organization_id = :org AND b.status = 'pending' AND b.paid_minor = 0 AND s.starts_at >= :now";

/// One hold as the dashboard lists it.
const HOLD_DETAIL: &str = "SELECT b.id, b.reference_number,
     coalesce(c.first_name || ' ' || c.last_name, ''), coalesce(t.name, b.tour_id), b.created_at, s.starts_at,
     b.total_minor, b.currency
     FROM bookings b
     JOIN schedules s ON s.id = b.departure_id
     LEFT JOIN customers c ON c.id = b.customer_id
     LEFT JOIN tours t ON t.id = b.tour_id
     WHERE b.id = :id AND b.organization_id = :org";

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

/// Tour names and departure starts by id, for the sales of one report.
struct Names {
    tours: HashMap<String, String>,
    starts: HashMap<String, DateTime<Utc>>,
}

impl Names {
    fn read(c: &Connection, org: &str) -> Result<Names, StoreError> {
        let mut tours = HashMap::new();
        let mut stmt = c.prepare_cached(TOUR_NAMES)?;
        let mut q = stmt.query(named_params! {":org": org})?;
        while let Some(r) = q.next()? {
            tours.insert(r.get(0)?, r.get(1)?);
        }
        Ok(Names { tours, starts: Names::starts(c, org)? })
    }

    /// Departure starts by id (the sources report's lead times need only these).
    fn starts(c: &Connection, org: &str) -> Result<HashMap<String, DateTime<Utc>>, StoreError> {
        let mut starts = HashMap::new();
        let mut stmt = c.prepare_cached(DEPARTURE_STARTS)?;
        let mut q = stmt.query(named_params! {":org": org})?;
        while let Some(r) = q.next()? {
            let raw: String = r.get(1)?;
            starts.insert(r.get(0)?, instant(&raw)?);
        }
        Ok(starts)
    }
}

fn sale_from_row(r: &Row<'_>, names: &Names) -> Result<SaleFact, StoreError> {
    let tour_id: String = r.get(2)?;
    let departure_id: String = r.get(3)?;
    let source: String = r.get(4)?;
    let status: String = r.get(5)?;
    let created: String = r.get(6)?;
    let cancelled: Option<String> = r.get(7)?;
    let cur: String = r.get(8)?;
    let by: Option<String> = r.get(18)?;
    Ok(SaleFact {
        booking_id: r.get(0)?,
        customer_id: r.get(1)?,
        tour_name: names.tours.get(&tour_id).cloned().unwrap_or_else(|| tour_id.clone()),
        tour_id,
        source: BookingSource::parse(&source).ok_or_else(|| corrupt("booking source", &source))?,
        status: BookingStatus::parse(&status).ok_or_else(|| corrupt("booking status", &status))?,
        created_at: instant(&created)?,
        cancelled_at: cancelled.as_deref().map(instant).transpose()?,
        departure_starts_at: names.starts.get(&departure_id).copied(),
        currency: currency(&cur)?,
        participants: r.get(9)?,
        subtotal: r.get(10)?,
        discounts: r.get(11)?,
        exclusive_taxes: r.get(12)?,
        total: r.get(13)?,
        paid: r.get(14)?,
        refunded: r.get(15)?,
        promo_code: r.get(16)?,
        cancel_reason: r.get(17)?,
        cancelled_by_operator: by.as_deref() == Some("operator"),
    })
}

fn sales(
    c: &Connection,
    sql: &str,
    org: &str,
    names: &Names,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<SaleFact>, StoreError> {
    let mut stmt = c.prepare_cached(sql)?;
    let mut q = stmt.query(named_params! {":org": org, ":from": ts(from), ":to": ts(to)})?;
    let mut out = Vec::new();
    while let Some(r) = q.next()? {
        out.push(sale_from_row(r, names)?);
    }
    Ok(out)
}

/// Streams the bookings `sql` finds (columns as [`SALE_COLUMNS`]) to `each` with their customer,
/// borrowed from the row: nothing is allocated per booking (a year's report reads a hundred
/// thousand), and the departure's start is looked up without copying its id.
fn stream_sales(
    c: &Connection,
    sql: &str,
    org: &str,
    starts: &HashMap<String, DateTime<Utc>>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    mut each: impl FnMut(&str, &SaleRow<'_>),
) -> Result<(), StoreError> {
    // A borrowed column: `get_ref` copies nothing, unlike `get::<String>`.
    fn text<'r>(r: &'r Row<'_>, i: usize) -> Result<&'r str, StoreError> {
        Ok(r.get_ref(i)?.as_str().map_err(rusqlite::Error::from)?)
    }
    let mut stmt = c.prepare_cached(sql)?;
    let mut q = stmt.query(named_params! {":org": org, ":from": ts(from), ":to": ts(to)})?;
    // Currencies and sources repeat on every row: each distinct code is parsed once.
    let mut currencies: Vec<(String, Currency)> = Vec::new();
    while let Some(r) = q.next()? {
        let code = text(r, 8)?;
        let currency = match currencies.iter().find(|(c, _)| c == code) {
            Some((_, c)) => *c,
            None => {
                let parsed = currency(code)?;
                currencies.push((code.to_string(), parsed));
                parsed
            }
        };
        let (source, status) = (text(r, 4)?, text(r, 5)?);
        let row = SaleRow {
            tour_id: text(r, 2)?,
            source: BookingSource::parse(source).ok_or_else(|| corrupt("booking source", source))?,
            status: BookingStatus::parse(status).ok_or_else(|| corrupt("booking status", status))?,
            created_at: instant(text(r, 6)?)?,
            departure_starts_at: starts.get(text(r, 3)?).copied(),
            currency,
            participants: r.get(9)?,
            subtotal: r.get(10)?,
            discounts: r.get(11)?,
            exclusive_taxes: r.get(12)?,
            paid: r.get(14)?,
            refunded: r.get(15)?,
            promo_code: r.get_ref(16)?.as_str_or_null().map_err(rusqlite::Error::from)?,
        };
        each(text(r, 1)?, &row);
    }
    Ok(())
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
    let mut ratings: HashMap<String, Vec<u8>> = HashMap::new();
    {
        let mut stmt = c.prepare_cached(RATINGS_BETWEEN)?;
        let mut q = stmt.query(named_params! {":org": org, ":from": ts(from), ":to": ts(to)})?;
        while let Some(r) = q.next()? {
            let rating: i64 = r.get(1)?;
            let rating = u8::try_from(rating).map_err(|_| corrupt("review rating", &rating.to_string()))?;
            ratings.entry(r.get(0)?).or_default().push(rating);
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
                ratings: ratings.remove(&id).unwrap_or_default(),
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

/// The signed-in organization, whether its role reads reports (money figures: owners and admins,
/// `Permission::ReportsRead`), and the organization's zone as its session gives it.
fn signed_in(c: &Connection) -> Result<Option<SignedIn>, StoreError> {
    use rusqlite::OptionalExtension;
    let raw: Option<String> =
        c.query_row("SELECT value FROM meta WHERE key = 'session'", [], |r| r.get(0)).optional()?;
    let Some(raw) = raw else { return Ok(None) };
    let s: Session = serde_json::from_str(&raw)?;
    let zone = s.organization_defaults.timezone.as_deref().and_then(|z| z.parse::<Tz>().ok());
    Ok(Some(SignedIn { reads_reports: s.role.can(Permission::ReportsRead), zone, org: s.organization_id }))
}

struct SignedIn {
    org: String,
    reads_reports: bool,
    zone: Option<Tz>,
}

/// The signed-in organization and its zone, for a role that reads reports (the organization's
/// money); anyone else is refused.
pub(super) fn report_reader(c: &Connection) -> Result<(String, Tz), StoreError> {
    let Some(who) = signed_in(c)? else { return Err(StoreError::NotSignedIn) };
    if !who.reads_reports {
        return Err(Rejection::NotAuthorized { action: "read reports".into() }.into());
    }
    let tz = org_zone(c, &who)?;
    Ok((who.org, tz))
}

/// The organization's zone: its own (sent with the session, replicated on every sign-in and
/// token refresh), else the guess of [`ORG_ZONE`].
fn org_zone(c: &Connection, who: &SignedIn) -> Result<Tz, StoreError> {
    if let Some(zone) = who.zone {
        return Ok(zone);
    }
    let org = who.org.as_str();
    let name: Option<String> =
        c.query_row(ORG_ZONE, named_params! {":org": org}, |r| r.get(0)).map(Some).or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    Ok(name.and_then(|n| n.parse().ok()).unwrap_or(Tz::UTC))
}

impl Store {
    /// The zone the reports bucket days in: the organization's (see [`org_zone`]).
    pub fn report_zone(&self) -> Result<String, StoreError> {
        let conn = self.conn();
        let Some(who) = signed_in(&conn)? else { return Ok("UTC".into()) };
        Ok(org_zone(&conn, &who)?.name().to_string())
    }

    /// One report over this desk's replica, for owners and admins. A range that ends before it
    /// starts (or spans more than ten years) is refused at its field.
    pub fn report(&self, f: &ReportFilter) -> Result<ReportTable, StoreError> {
        f.validate().map_err(|e| Rejection::Invalid(FieldError::new(e.field(), e.to_string())))?;
        let conn = self.conn();
        let (org, tz) = report_reader(&conn)?;
        let (start, end) = f.utc_bounds(tz);
        let (wide_start, wide_end) = (start - Duration::days(1), end + Duration::days(1));
        let made = sales_made_between();
        let sales = |sql: &str| -> Result<Vec<SaleFact>, StoreError> {
            let names = Names::read(&conn, &org)?;
            sales(&conn, sql, &org, &names, wide_start, wide_end)
        };
        Ok(match f.kind {
            ReportKind::Revenue => {
                let mut names = BTreeMap::new();
                let mut stmt = conn.prepare_cached(TOUR_NAMES)?;
                let mut q = stmt.query(named_params! {":org": org})?;
                while let Some(r) = q.next()? {
                    names.insert(r.get::<_, String>(0)?, r.get::<_, String>(1)?);
                }
                reports::revenue_of_groups(&revenue_groups(&conn, &org, f, tz)?, f, &names)
            }
            ReportKind::Sources => {
                let mut sums = SourcesSums::new(f, tz);
                let starts = Names::starts(&conn, &org)?;
                stream_sales(&conn, &made, &org, &starts, wide_start, wide_end, |_, s| sums.add(s))?;
                sums.table()
            }
            ReportKind::Cancellations => reports::cancellations(&sales(&cancelled_between())?, f, tz),
            ReportKind::Promos => {
                let names = promo_code_names(&conn, &org)?;
                let mut sums = PromoSums::new(f, tz);
                let none = HashMap::new();
                stream_sales(&conn, &made, &org, &none, wide_start, wide_end, |_, s| sums.add(s))?;
                sums.table(&names)
            }
            ReportKind::Customers => {
                let history = if (f.to - f.from).num_days() > SCAN_FROM_DAYS {
                    customers_history_all()
                } else {
                    customers_history()
                };
                let mut sums = CustomerSums::new(f, tz);
                let none = HashMap::new();
                stream_sales(&conn, &history, &org, &none, wide_start, wide_end, |c, s| sums.add(c, s))?;
                sums.table()
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
        let Some(who) = signed_in(&conn)? else { return Ok(Dashboard::default()) };
        let tz = org_zone(&conn, &who)?;
        let (org, reads_reports) = (who.org, who.reads_reports);
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

        // Every hold counted from the index; the oldest few read in full.
        let mut candidates: Vec<(DateTime<Utc>, String)> = Vec::new();
        {
            let mut stmt = conn.prepare_cached(UNPAID_HOLDS)?;
            let mut q = stmt.query(named_params! {":org": org, ":now": ts(now)})?;
            while let Some(r) = q.next()? {
                let created: String = r.get(1)?;
                candidates.push((instant(&created)?, r.get(0)?));
            }
        }
        let holds_count = u32::try_from(candidates.len()).unwrap_or(u32::MAX);
        candidates.sort_unstable();
        let mut holds = Vec::new();
        {
            let mut stmt = conn.prepare_cached(HOLD_DETAIL)?;
            for (_, id) in candidates.iter().take(DASHBOARD_LIST) {
                let mut q = stmt.query(named_params! {":id": id, ":org": org})?;
                if let Some(r) = q.next()? {
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
        let names = if reads_reports { Some(Names::read(&conn, &org)?) } else { None };
        let windows =
            if reads_reports { vec![(week, today), (week - Days::new(364), today - Days::new(364))] } else { vec![] };
        for ((from, to), names) in windows.into_iter().zip(std::iter::repeat(names.as_ref()).flatten()) {
            let (start, end) = (reports::day_start(from, tz), reports::day_start(to + Days::new(1), tz));
            facts.extend(sales(
                &conn,
                &sales_made_between(),
                &org,
                names,
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

/// The website funnel's last copy per date range (SQLite V33 `funnel_reports`).
///
/// Why a kept copy and not replication: the funnel is counted from the site's raw events, which
/// only the server holds (thousands of anonymous page views a day, no use to a desk one by one),
/// and a day's counts change with every visitor, so replicating daily aggregates would rewrite
/// the change log all day for a figure the office reads weekly. An office expects what a printed
/// report gives: the figures as of when they were last fetched, saying so, and fresh ones when
/// the desk is connected. So the desk asks the server when online and keeps the answer, with its
/// "as of" time, for the screen and the CSV export offline.
const FUNNEL_SAVE: &str = "INSERT INTO funnel_reports (organization_id, from_date, to_date, as_of, report)
     VALUES (:org, :from, :to, :as_of, :report)
     ON CONFLICT (organization_id, from_date, to_date) DO UPDATE
     SET as_of = excluded.as_of, report = excluded.report WHERE excluded.as_of >= funnel_reports.as_of";

const FUNNEL_LOAD: &str =
    "SELECT report FROM funnel_reports WHERE organization_id = :org AND from_date = :from AND to_date = :to";

impl Store {
    /// Keeps `r` (the server's answer) as the last copy of its date range; an older answer
    /// arriving late does not replace a newer one.
    pub fn save_funnel_report(&self, r: &tourdesk_domain::reports::funnel::FunnelReport) -> Result<(), StoreError> {
        let conn = self.conn();
        let (org, _) = report_reader(&conn)?;
        conn.prepare_cached(FUNNEL_SAVE)?.execute(named_params! {
            ":org": org,
            ":from": r.from.to_string(),
            ":to": r.to.to_string(),
            ":as_of": r.as_of.to_rfc3339_opts(SecondsFormat::Micros, true),
            ":report": serde_json::to_string(r)?,
        })?;
        Ok(())
    }

    /// The last copy of the funnel for `from..=to` this desk fetched, if any.
    pub fn funnel_report(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Option<tourdesk_domain::reports::funnel::FunnelReport>, StoreError> {
        use rusqlite::OptionalExtension;
        reports::validate_range(from, to).map_err(|e| Rejection::Invalid(FieldError::new(e.field(), e.to_string())))?;
        let conn = self.conn();
        let (org, _) = report_reader(&conn)?;
        let raw: Option<String> = conn
            .prepare_cached(FUNNEL_LOAD)?
            .query_row(named_params! {":org": org, ":from": from.to_string(), ":to": to.to_string()}, |r| r.get(0))
            .optional()?;
        Ok(raw.map(|r| serde_json::from_str(&r)).transpose()?)
    }
}

#[cfg(test)]
impl Store {
    /// The sources, promo code and customers reports as they were computed before their sums
    /// were taken while the rows stream by: every booking read into an owned [`SaleFact`], then
    /// the domain's report over them. The tests check the streamed report against it.
    pub(super) fn report_from_facts(&self, f: &ReportFilter) -> Result<ReportTable, StoreError> {
        use tourdesk_domain::reports::CustomerFact;
        let conn = self.conn();
        let (org, tz) = report_reader(&conn)?;
        let (start, end) = f.utc_bounds(tz);
        let (wide_start, wide_end) = (start - Duration::days(1), end + Duration::days(1));
        let names = Names::read(&conn, &org)?;
        let facts = |sql: &str| sales(&conn, sql, &org, &names, wide_start, wide_end);
        Ok(match f.kind {
            ReportKind::Sources => reports::sources(&facts(&sales_made_between())?, f, tz),
            ReportKind::Promos => {
                let codes = promo_code_names(&conn, &org)?;
                reports::promos(&facts(&sales_made_between())?, f, tz, &codes)
            }
            ReportKind::Customers => {
                let mut by: Vec<CustomerFact> = Vec::new();
                for s in facts(&customers_history_all())? {
                    match by.last_mut() {
                        Some(c) if c.customer_id == s.customer_id => c.bookings.push(s),
                        _ => by.push(CustomerFact { customer_id: s.customer_id.clone(), bookings: vec![s] }),
                    }
                }
                reports::customers(&by, f, tz)
            }
            _ => return self.report(f),
        })
    }
}

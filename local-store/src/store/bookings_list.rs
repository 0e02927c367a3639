//! The bookings screen across all departures: search (reference, customer name, e-mail, phone)
//! and filters (departure dates, tour, status, payment status, source, balance due), sorted in
//! SQL. Candidates come from indexes: the customers' full-text index for names, e-mails and
//! phones, the reference index, and V9's per-organization status, payment status and booking
//! date indexes; only the page asked for is turned into rows.

use rusqlite::types::Value as SqlValue;
use tourdesk_domain::entities::Booking;
use tourdesk_domain::ipc::{BookingFilter, BookingList, BookingRow, BookingSort, DepartureView};
use tourdesk_domain::money::Money;
use tourdesk_domain::protocol::EntityKind;

use super::read::summary_of;
use super::search::like_pattern;
use super::{Store, session_org};
use crate::{StoreError, rows};

/// The page the screen shows when it asks for none in particular.
pub const DEFAULT_PAGE: u32 = 200;
/// The most customers a text search turns into booking candidates.
const CUSTOMER_CANDIDATES: u32 = 500;

/// `paid − refunded` and the balance due, from the JSON money the booking row keeps.
const BALANCE_DUE: &str = "(b.total_minor - json_extract(b.paid_amount, '$.amount') \
     + json_extract(b.refunded_amount, '$.amount'))";

impl Store {
    /// The bookings matching `f`, sorted as asked, at most `f.limit` (or [`DEFAULT_PAGE`]) of
    /// them, with how many matched in all.
    pub fn list_bookings(&self, f: &BookingFilter) -> Result<BookingList, StoreError> {
        self.bookings_matching(f, Some(if f.limit == 0 { DEFAULT_PAGE } else { f.limit.min(5_000) }))
    }

    /// [`Store::list_bookings`] with every match when `limit` is `None` (the list's export).
    pub(super) fn bookings_matching(&self, f: &BookingFilter, limit: Option<u32>) -> Result<BookingList, StoreError> {
        let q = f.query.trim();
        let customers: Vec<String> = if q.is_empty() {
            Vec::new()
        } else {
            self.search_customers(q, CUSTOMER_CANDIDATES)?.into_iter().map(|c| c.id).collect()
        };
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(BookingList::default()) };
        let mut args: Vec<SqlValue> = vec![SqlValue::Text(org.clone())];
        let mut arg = |v: SqlValue| {
            args.push(v);
            format!("?{}", args.len())
        };
        let mut wh = vec!["b.organization_id = ?1".to_string()];
        if !q.is_empty() {
            let reference = arg(SqlValue::Text(like_pattern(&q.to_uppercase())));
            let ids = customers.iter().map(|c| arg(SqlValue::Text(c.clone()))).collect::<Vec<_>>().join(", ");
            wh.push(format!("(b.reference_number LIKE {reference} ESCAPE '\\' OR b.customer_id IN ({ids}))"));
        }
        if let Some(from) = f.from {
            wh.push(format!("s.local_date >= {}", arg(SqlValue::Text(from.to_string()))));
        }
        if let Some(to) = f.to {
            wh.push(format!("s.local_date <= {}", arg(SqlValue::Text(to.to_string()))));
        }
        if let Some(t) = &f.tour_id {
            wh.push(format!("b.tour_id = {}", arg(SqlValue::Text(t.clone()))));
        }
        if let Some(st) = f.status {
            wh.push(format!("b.status = {}", arg(SqlValue::Text(st.as_str().into()))));
        }
        if let Some(ps) = f.payment_status {
            wh.push(format!("b.payment_status = {}", arg(SqlValue::Text(ps.as_str().into()))));
        }
        if let Some(src) = f.source {
            wh.push(format!("b.source = {}", arg(SqlValue::Text(src.as_str().into()))));
        }
        if f.balance_due {
            wh.push(format!("b.status != 'cancelled' AND {BALANCE_DUE} > 0"));
        }
        let keys: &[&str] = match f.sort {
            BookingSort::Departure => &["s.starts_at"],
            BookingSort::Booked => &["b.created_at"],
            BookingSort::Reference => &["b.reference_number"],
            BookingSort::Customer => &["c.last_name COLLATE NOCASE", "c.first_name COLLATE NOCASE"],
            BookingSort::Total => &["b.total_minor"],
            BookingSort::BalanceDue => &[BALANCE_DUE],
        };
        let dir = if f.descending { "DESC" } else { "ASC" };
        let order = keys.iter().map(|o| format!("{o} {dir}")).collect::<Vec<_>>().join(", ");
        let wh = wh.join(" AND ");
        let dates = f.from.is_some() || f.to.is_some();
        let bookings_filtered = !q.is_empty()
            || f.tour_id.is_some()
            || f.status.is_some()
            || f.payment_status.is_some()
            || f.source.is_some()
            || f.balance_due;
        // The joins only where a filter or the sort reads them: each joins on its table's key,
        // so it never changes how many bookings match.
        let schedules = "LEFT JOIN schedules s ON s.organization_id = b.organization_id AND s.id = b.departure_id";
        let customers = "LEFT JOIN customers c ON c.organization_id = b.organization_id AND c.id = b.customer_id";
        let count_from = if dates { format!("FROM bookings b {schedules}") } else { "FROM bookings b".to_string() };
        let matches: i64 = conn.query_row(
            &format!("SELECT count(*) {count_from} WHERE {wh}"),
            rusqlite::params_from_iter(args.iter()),
            |r| r.get(0),
        )?;
        let page_from = match f.sort {
            // Walks the departures in start order (V15's index) and their bookings, instead of
            // sorting every booking: the same rows and order as the outer join when every
            // booking's departure is on the desk (a booking without one sorts by NULL).
            // Only unfiltered (or by dates alone): a filter on the bookings reads its own index.
            BookingSort::Departure if !bookings_filtered && !self.orphan_bookings(&conn, &org)? => "FROM schedules s
                 CROSS JOIN bookings b ON b.organization_id = s.organization_id AND b.departure_id = s.id
                 AND s.organization_id = ?1"
                .to_string(),
            BookingSort::Departure => format!("FROM bookings b {schedules}"),
            BookingSort::Customer if dates => format!("FROM bookings b {schedules} {customers}"),
            BookingSort::Customer => format!("FROM bookings b {customers}"),
            _ if dates => format!("FROM bookings b {schedules}"),
            _ => "FROM bookings b".to_string(),
        };
        // SQLite reads `LIMIT -1` as no limit.
        let limit = limit.map_or(-1, i64::from);
        let sql = format!("SELECT b.id {page_from} WHERE {wh} ORDER BY {order}, b.created_at DESC, b.id LIMIT {limit}");
        let all_ids: Vec<String> = conn
            .prepare(&sql)?
            .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(all_ids.len());
        // Read in pages: one query binds at most SQLite's 32,766 parameters.
        for ids in all_ids.chunks(5_000) {
            // The page's rows, their tours, departures and customers read in one query each.
            let bookings = rows::bookings_by_ids(&conn, &org, ids)?;
            let pending = rows::pending_of(&conn, &org, EntityKind::Booking, ids)?;
            let distinct = |key: &dyn Fn(&Booking) -> String| -> Vec<String> {
                let mut v: Vec<String> = bookings.values().map(key).collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            let tours = rows::tours_by_ids(&conn, &org, &distinct(&|b| b.tour_id.clone()))?;
            let departures = rows::departures_by_ids(&conn, &org, &distinct(&|b| b.departure_id.clone()))?;
            let people = rows::customers_by_ids(&conn, &org, &distinct(&|b| b.customer_id.clone()))?;
            for id in ids {
                let Some(b) = bookings.get(id) else { continue };
                let customer = people.get(&b.customer_id);
                let departure = departures.get(&b.departure_id).map(|d| DepartureView {
                    seats_left: tourdesk_domain::offer::seats_for_sale(d),
                    departure: d.clone(),
                });
                let balance = tourdesk_domain::ledger::Balance::of_booking(b);
                let local_start = departure
                    .as_ref()
                    .map(|d| format!("{} {}", d.departure.local_date, d.departure.local_time.format("%H:%M")));
                out.push(BookingRow {
                    booking: summary_of(b, customer, pending.contains(&b.id)),
                    tour_id: b.tour_id.clone(),
                    tour_name: tours.get(&b.tour_id).map(|t| t.name.clone()),
                    starts_at: departure.as_ref().map(|d| d.departure.starts_at),
                    local_start,
                    source: b.source,
                    customer_email: customer.and_then(|c| c.email.clone()),
                    customer_phone: customer.and_then(|c| c.phone.clone()),
                    balance_due: if b.status == tourdesk_domain::status::BookingStatus::Cancelled {
                        Money::zero(balance.currency())
                    } else {
                        balance.balance_due()
                    },
                    created_at: b.created_at,
                });
            }
        }
        Ok(BookingList { rows: out, matches: u64::try_from(matches).unwrap_or(0) })
    }
}

impl Store {
    /// Whether some booking's departure is not on the desk (a booking whose departure did not
    /// replicate here): such a booking has no start to sort by. Read once per state of the
    /// database: any write on this connection (its total changes) or another's commit (`PRAGMA
    /// data_version`) reads it again.
    fn orphan_bookings(&self, conn: &rusqlite::Connection, org: &str) -> Result<bool, StoreError> {
        let version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        let changes = conn.total_changes();
        let mut cached = self.orphan_bookings.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((v, c, o, orphans)) = cached.as_ref()
            && (*v, *c, o.as_str()) == (version, changes, org)
        {
            return Ok(*orphans);
        }
        // Each distinct departure of the bookings once (a skip over their departure index).
        let orphans: bool = conn
            .prepare_cached(
                "WITH RECURSIVE d(id) AS (
                     SELECT min(departure_id) FROM bookings WHERE organization_id = ?1
                     UNION ALL
                     SELECT (SELECT min(departure_id) FROM bookings WHERE organization_id = ?1 AND departure_id > d.id)
                       FROM d WHERE d.id IS NOT NULL
                 )
                 SELECT EXISTS (SELECT 1 FROM d WHERE d.id IS NOT NULL AND NOT EXISTS (
                     SELECT 1 FROM schedules s WHERE s.organization_id = ?1 AND s.id = d.id))",
            )?
            .query_row([org], |r| r.get(0))?;
        *cached = Some((version, changes, org.to_string(), orphans));
        Ok(orphans)
    }
}

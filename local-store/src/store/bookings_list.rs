//! The bookings screen across all departures: search (reference, customer name, e-mail, phone)
//! and filters (departure dates, tour, status, payment status, source, balance due), sorted in
//! SQL. Candidates come from indexes: the customers' full-text index for names, e-mails and
//! phones, the reference index, and V9's per-organization status, payment status and booking
//! date indexes; only the page asked for is turned into rows.

use rusqlite::types::Value as SqlValue;
use tourdesk_domain::ipc::{BookingFilter, BookingList, BookingRow, BookingSort};
use tourdesk_domain::money::Money;

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
        let from = "FROM bookings b
             LEFT JOIN schedules s ON s.organization_id = b.organization_id AND s.id = b.departure_id
             LEFT JOIN customers c ON c.organization_id = b.organization_id AND c.id = b.customer_id";
        let wh = wh.join(" AND ");
        let matches: i64 = conn.query_row(
            &format!("SELECT count(*) {from} WHERE {wh}"),
            rusqlite::params_from_iter(args.iter()),
            |r| r.get(0),
        )?;
        let limit = if f.limit == 0 { DEFAULT_PAGE } else { f.limit.min(5_000) };
        let sql = format!("SELECT b.id {from} WHERE {wh} ORDER BY {order}, b.created_at DESC, b.id LIMIT {limit}");
        let ids: Vec<String> = conn
            .prepare(&sql)?
            .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(b) = rows::booking(&conn, &org, &id)? else { continue };
            let hit = super::search::booking_hit(&conn, &org, &b)?;
            let customer = rows::customer(&conn, &org, &b.customer_id)?;
            let balance = tourdesk_domain::ledger::Balance::of_booking(&b);
            let local_start = hit
                .departure
                .as_ref()
                .map(|d| format!("{} {}", d.departure.local_date, d.departure.local_time.format("%H:%M")));
            out.push(BookingRow {
                booking: hit.booking,
                tour_id: b.tour_id.clone(),
                tour_name: hit.tour_name,
                starts_at: hit.departure.as_ref().map(|d| d.departure.starts_at),
                local_start,
                source: b.source,
                customer_email: customer.as_ref().and_then(|c| c.email.clone()),
                customer_phone: customer.as_ref().and_then(|c| c.phone.clone()),
                balance_due: if b.status == tourdesk_domain::status::BookingStatus::Cancelled {
                    Money::zero(balance.currency())
                } else {
                    balance.balance_due()
                },
                created_at: b.created_at,
            });
        }
        Ok(BookingList { rows: out, matches: u64::try_from(matches).unwrap_or(0) })
    }
}

//! The lists as tables to export (issue 16, export): every booking the bookings screen's filters
//! keep, in its order, and the customers a search finds (or all of them). The tables are the
//! reports' ([`ReportTable`]), so CSV (`ReportTable::to_csv`) and XLSX (`crate::export`) write
//! them the same way: amounts as decimals in their currency's exponent with a currency column.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use rusqlite::named_params;
use tourdesk_domain::ipc::BookingFilter;
use tourdesk_domain::mutation::Rejection;
use tourdesk_domain::reports::payments::{LedgerLine, ledger_table};
use tourdesk_domain::reports::{Cell, ReportTable, range_bounds, validate_range};
use tourdesk_domain::validate::FieldError;

use super::gift_cards::{staff_name, stamp};
use super::reports::report_reader;
use super::{Store, session_org};
use crate::{StoreError, rows};

/// The most customers a search exports (the whole list when nothing is typed).
const CUSTOMER_SEARCH_EXPORT: u32 = 5_000;

/// Every customer of the organization with their bookings' count and first and last booking.
const ALL_CUSTOMERS: &str = "SELECT c.id, c.first_name, c.last_name, c.email, c.phone
     FROM customers c WHERE c.organization_id = :org
     ORDER BY c.last_name COLLATE NOCASE, c.first_name COLLATE NOCASE, c.id";

/// One customer's bookings: how many, the first and the last booking date
/// (`bookings_customer_report_idx`).
const CUSTOMER_BOOKINGS: &str = "SELECT count(*), min(created_at), max(created_at) FROM bookings
     WHERE organization_id = :org AND customer_id = :id";

/// A ledger entry's booking: its reference and its customer's name.
const LEDGER_BOOKING: &str = "SELECT b.reference_number, coalesce(c.first_name || ' ' || c.last_name, '')
     FROM bookings b LEFT JOIN customers c ON c.organization_id = b.organization_id AND c.id = b.customer_id
     WHERE b.organization_id = :org AND b.id = :id";

/// A customer's id, first and last name, e-mail and phone, as the customers list exports them.
type Person = (String, String, String, Option<String>, Option<String>);

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

impl Store {
    /// The bookings list as a table: every booking `f` keeps (its `limit` is ignored), sorted as
    /// the screen sorts them.
    pub fn bookings_table(&self, f: &BookingFilter) -> Result<ReportTable, StoreError> {
        let list = self.bookings_matching(f, None)?;
        let columns = [
            "Reference",
            "Tour",
            "Departure",
            "Customer",
            "E-mail",
            "Phone",
            "Source",
            "Status",
            "Payment",
            "Guests",
            "Currency",
            "Total",
            "Balance due",
            "Booked at",
        ];
        let rows = list
            .rows
            .into_iter()
            .map(|r| {
                let b = r.booking;
                vec![
                    text(b.reference_number),
                    text(r.tour_name.unwrap_or(r.tour_id)),
                    text(r.local_start.unwrap_or_default()),
                    text(b.customer_name),
                    text(r.customer_email.unwrap_or_default()),
                    text(r.customer_phone.unwrap_or_default()),
                    text(r.source.as_str()),
                    text(b.status.as_str()),
                    text(b.payment_status.as_str()),
                    Cell::Count(i64::from(b.pax)),
                    text(b.total.currency.to_string()),
                    Cell::Money(b.total),
                    Cell::Money(r.balance_due),
                    text(r.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                ]
            })
            .collect();
        Ok(ReportTable {
            title: "Bookings".into(),
            columns: columns.map(String::from).to_vec(),
            rows,
            totals: vec![],
            chart_column: 0,
            notes: vec![],
        })
    }

    /// The customers list as a table: those `query` finds, best match first, or every customer
    /// by name when it is blank; with how many bookings each has and their first and last.
    pub fn customers_table(&self, query: &str) -> Result<ReportTable, StoreError> {
        let people: Vec<Person> = if query.trim().is_empty() {
            let conn = self.conn();
            let Some(org) = session_org(&conn)? else { return Err(StoreError::NotSignedIn) };
            let mut stmt = conn.prepare_cached(ALL_CUSTOMERS)?;
            stmt.query_map(named_params! {":org": org}, |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<_, _>>()?
        } else {
            self.search_customers(query, CUSTOMER_SEARCH_EXPORT)?
                .into_iter()
                .map(|h| (h.id, h.first_name, h.last_name, h.email, h.phone))
                .collect()
        };
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Err(StoreError::NotSignedIn) };
        let mut stmt = conn.prepare_cached(CUSTOMER_BOOKINGS)?;
        let mut rows = Vec::with_capacity(people.len());
        for (id, first, last, email, phone) in people {
            let (n, first_booked, last_booked): (i64, Option<String>, Option<String>) =
                stmt.query_row(named_params! {":org": org, ":id": id}, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.push(vec![
                text(last),
                text(first),
                text(email.unwrap_or_default()),
                text(phone.unwrap_or_default()),
                Cell::Count(n),
                text(first_booked.unwrap_or_default()),
                text(last_booked.unwrap_or_default()),
            ]);
        }
        Ok(ReportTable {
            title: "Customers".into(),
            columns: ["Last name", "First name", "E-mail", "Phone", "Bookings", "First booked", "Last booked"]
                .map(String::from)
                .to_vec(),
            rows,
            totals: vec![],
            chart_column: 0,
            notes: vec![],
        })
    }

    /// The payments ledger as a table: every entry recorded on the days `from..=to` in the
    /// organization's zone, oldest first, with its booking's reference and customer and who
    /// recorded it. The organization's money: for roles that read reports.
    pub fn payments_table(&self, from: NaiveDate, to: NaiveDate) -> Result<ReportTable, StoreError> {
        validate_range(from, to).map_err(|e| Rejection::Invalid(FieldError::new(e.field(), e.to_string())))?;
        let me = self.session()?;
        let conn = self.conn();
        let (org, tz) = report_reader(&conn)?;
        let (start, end) = range_bounds(from, to, tz);
        // Stored stamps with fractions of a second sort a little off as text: read a second more
        // on each side and keep exactly `[start, end)`.
        let pad = Duration::seconds(1);
        let entries = rows::ledger_between(&conn, &org, &stamp(start - pad)?, &stamp(end + pad)?)?;
        let recorders: std::collections::BTreeSet<String> = entries.iter().map(|e| e.recorded_by.clone()).collect();
        let names = rows::names_of_users(&conn, &org, &recorders)?;
        let mut bookings: HashMap<String, (String, String)> = HashMap::new();
        let mut stmt = conn.prepare_cached(LEDGER_BOOKING)?;
        let mut lines = Vec::with_capacity(entries.len());
        for entry in entries.into_iter().filter(|e| e.recorded_at >= start && e.recorded_at < end) {
            if !bookings.contains_key(&entry.booking_id) {
                let found = stmt
                    .query_map(named_params! {":org": org, ":id": entry.booking_id}, |r| Ok((r.get(0)?, r.get(1)?)))?
                    .next()
                    .transpose()?
                    .unwrap_or_else(|| (entry.booking_id.clone(), String::new()));
                bookings.insert(entry.booking_id.clone(), found);
            }
            let (booking_reference, customer) = bookings.get(&entry.booking_id).cloned().unwrap_or_default();
            let recorded_by = staff_name(me.as_ref(), &names, &entry.recorded_by);
            lines.push(LedgerLine { entry, booking_reference, customer, recorded_by });
        }
        Ok(ledger_table(lines, tz))
    }
}

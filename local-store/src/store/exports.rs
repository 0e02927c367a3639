//! The lists as tables to export (issue 16, export): every booking the bookings screen's filters
//! keep, in its order, and the customers a search finds (or all of them). The tables are the
//! reports' ([`ReportTable`]), so CSV (`ReportTable::to_csv`) and XLSX (`crate::export`) write
//! them the same way: amounts as decimals in their currency's exponent with a currency column.

use rusqlite::named_params;
use tourdesk_domain::ipc::BookingFilter;
use tourdesk_domain::reports::{Cell, ReportTable};

use super::{Store, session_org};
use crate::StoreError;

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
}

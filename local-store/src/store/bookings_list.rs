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

/// The balance due, total − paid + refunded, from V21's integer columns (the amounts of the
/// money JSON the row keeps, written with it), written as V32's indexes write it so the filter
/// and the sort read them instead of parsing every booking's JSON.
const BALANCE_DUE: &str = "(b.total_minor - b.paid_minor + b.refunded_minor)";

impl Store {
    /// The bookings matching `f`, sorted as asked, at most `f.limit` (or [`DEFAULT_PAGE`]) of
    /// them, with how many matched in all.
    pub fn list_bookings(&self, f: &BookingFilter) -> Result<BookingList, StoreError> {
        self.bookings_matching(f, Some(if f.limit == 0 { DEFAULT_PAGE } else { f.limit.min(5_000) }))
    }

    /// [`Store::list_bookings`] with every match when `limit` is `None` (the list's export).
    pub(super) fn bookings_matching(&self, f: &BookingFilter, limit: Option<u32>) -> Result<BookingList, StoreError> {
        let q = f.query.trim();
        let customers: Vec<String> =
            if q.is_empty() { Vec::new() } else { self.search_customer_ids(q, CUSTOMER_CANDIDATES)? };
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(BookingList::default()) };
        let mut args: Vec<SqlValue> = vec![SqlValue::Text(org.clone())];
        let mut arg = |v: SqlValue| {
            args.push(v);
            format!("?{}", args.len())
        };
        let mut wh = vec!["b.organization_id = ?1".to_string()];
        // The bookings a search can match, found through indexes; the search's own condition
        // (in `wh`) is still tested on each.
        let mut candidates = None;
        if !q.is_empty() {
            let upper = q.to_uppercase();
            let reference = arg(SqlValue::Text(like_pattern(&upper)));
            let ids = customers.iter().map(|c| arg(SqlValue::Text(c.clone()))).collect::<Vec<_>>().join(", ");
            wh.push(format!("(b.reference_number LIKE {reference} ESCAPE '\\' OR b.customer_id IN ({ids}))"));
            let by_reference = match trigram_pattern(&upper) {
                Some(p) => reference_trigram_sql(&arg(SqlValue::Text(p))),
                None => format!(
                    "SELECT rowid FROM bookings WHERE organization_id = ?1 AND reference_number LIKE {reference} ESCAPE '\\'"
                ),
            };
            candidates = Some(format!(
                "b.rowid IN ({by_reference} UNION SELECT rowid FROM bookings WHERE organization_id = ?1 AND customer_id IN ({ids}))"
            ));
        }
        if let Some(from) = f.from {
            wh.push(format!("s.local_date >= {}", arg(SqlValue::Text(from.to_string()))));
        }
        if let Some(to) = f.to {
            wh.push(format!("s.local_date <= {}", arg(SqlValue::Text(to.to_string()))));
        }
        // With dates, the departures in the range (or the tour's bookings, whose index goes on to
        // the departure) drive the read; the status, payment and source are only tested (`+`).
        // Their indexes also start (organization, value), so SQLite could not tell them from the
        // departure's and took one as the inner lookup: every phone booking once per departure.
        let test_only = if f.from.is_some() || f.to.is_some() { "+" } else { "" };
        if let Some(t) = &f.tour_id {
            wh.push(format!("b.tour_id = {}", arg(SqlValue::Text(t.clone()))));
        }
        if let Some(st) = f.status {
            wh.push(format!("{test_only}b.status = {}", arg(SqlValue::Text(st.as_str().into()))));
        }
        if let Some(ps) = f.payment_status {
            wh.push(format!("{test_only}b.payment_status = {}", arg(SqlValue::Text(ps.as_str().into()))));
        }
        if let Some(src) = f.source {
            wh.push(format!("{test_only}b.source = {}", arg(SqlValue::Text(src.as_str().into()))));
        }
        if f.balance_due {
            // With a tour or dates, those drive the read and the balance is only tested (`+`):
            // else SQLite took the index of every booking that owes money (a quarter of them)
            // and looked up each one's tour and departure.
            let test_only = if f.tour_id.is_some() || f.from.is_some() || f.to.is_some() { "+" } else { "" };
            wh.push(format!("{test_only}b.status != 'cancelled' AND {test_only}{BALANCE_DUE} > 0"));
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
        let searched = candidates.is_some();
        wh.extend(candidates);
        let wh_walk = wh.join(" AND ");
        // Where the candidates drive the read, the organization is only tested (`+`), or SQLite
        // would walk every booking of the organization in some index and test each.
        if searched {
            wh[0] = "+b.organization_id = ?1".to_string();
        }
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
        // SQLite reads `LIMIT -1` as no limit.
        let limit = limit.map_or(-1, i64::from);
        if searched {
            // A search's candidates are few next to the bookings (an index found them), and
            // every one is tested and sorted anyway: read them once, sorted, and count what was
            // read, instead of testing them for a count and again for the page.
            let from = match f.sort {
                BookingSort::Departure => format!("FROM bookings b {schedules}"),
                BookingSort::Customer if dates => format!("FROM bookings b {schedules} {customers}"),
                BookingSort::Customer => format!("FROM bookings b {customers}"),
                _ if dates => format!("FROM bookings b {schedules}"),
                _ => "FROM bookings b".to_string(),
            };
            let sql = format!("SELECT b.id {from} WHERE {wh} ORDER BY {order}, b.created_at DESC, b.id");
            let mut all_ids: Vec<String> = conn
                .prepare(&sql)?
                .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let matches = all_ids.len();
            all_ids.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            return Ok(BookingList {
                rows: page_rows(&conn, &org, &all_ids)?,
                matches: u64::try_from(matches).unwrap_or(u64::MAX),
            });
        }
        let count_from = if dates { format!("FROM bookings b {schedules}") } else { "FROM bookings b".to_string() };
        let matches: i64 = conn.query_row(
            &format!("SELECT count(*) {count_from} WHERE {wh}"),
            rusqlite::params_from_iter(args.iter()),
            |r| r.get(0),
        )?;
        // The page walks the bookings in the order asked for, testing the filters on each,
        // instead of sorting every match: by departure the departures in start order (V15's
        // index) and each one's bookings, by customer the customers by name and each one's
        // bookings, otherwise the sort's own index. Unfiltered always; filtered when the walk
        // should meet a page of matches sooner than sorting them all. A booking whose departure
        // or customer is not on the desk sorts by NULL in the outer join; the walk would miss
        // it, so then the page is sorted.
        let filtered = bookings_filtered || dates;
        let walk = match f.sort {
            BookingSort::Departure => {
                (!bookings_filtered || walk_pays(&conn, matches, limit)?)
                    && !self.orphan_bookings(&conn, &org, Joined::Departure)?
            }
            BookingSort::Customer => {
                (!filtered || walk_pays(&conn, matches, limit)?)
                    && !self.orphan_bookings(&conn, &org, Joined::Customer)?
            }
            _ => !filtered || walk_pays(&conn, matches, limit)?,
        };
        // A date filter joins the departures; inner, as the filter drops a booking without one.
        let walk_dates = if dates {
            " CROSS JOIN schedules s ON s.organization_id = b.organization_id AND s.id = b.departure_id"
        } else {
            ""
        };
        let page_from = match f.sort {
            // Each walk names its indexes: the planner would otherwise take a filter's index
            // and sort (or, by reference or total, the booking date's index and sort).
            BookingSort::Departure if walk => "FROM schedules s
                 CROSS JOIN bookings b INDEXED BY bookings_departure_idx
                   ON b.organization_id = s.organization_id AND b.departure_id = s.id
                 AND s.organization_id = ?1"
                .to_string(),
            BookingSort::Customer if walk => format!(
                "FROM customers c INDEXED BY customers_name_idx
                 CROSS JOIN bookings b INDEXED BY bookings_customer_idx
                   ON b.organization_id = c.organization_id AND b.customer_id = c.id
                 AND c.organization_id = ?1{walk_dates}"
            ),
            BookingSort::Departure => format!("FROM bookings b {schedules}"),
            BookingSort::Customer if dates => format!("FROM bookings b {schedules} {customers}"),
            BookingSort::Customer => format!("FROM bookings b {customers}"),
            sort if walk => {
                let index = match sort {
                    BookingSort::Booked => "bookings_created_idx",
                    BookingSort::Reference => "bookings_reference_idx",
                    BookingSort::Total => "bookings_total_idx",
                    // Only the bookings that owe money, when only those are asked for.
                    _ if f.balance_due => "bookings_balance_due_idx",
                    _ => "bookings_balance_idx",
                };
                format!("FROM bookings b INDEXED BY {index}{walk_dates}")
            }
            _ if dates => format!("FROM bookings b {schedules}"),
            _ => "FROM bookings b".to_string(),
        };
        let wh = if walk { wh_walk } else { wh };
        let sql = format!("SELECT b.id {page_from} WHERE {wh} ORDER BY {order}, b.created_at DESC, b.id LIMIT {limit}");
        let all_ids: Vec<String> = conn
            .prepare(&sql)?
            .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(BookingList { rows: page_rows(&conn, &org, &all_ids)?, matches: u64::try_from(matches).unwrap_or(0) })
    }
}

/// The page's bookings as the screen's rows, in the order of `all_ids`.
fn page_rows(conn: &rusqlite::Connection, org: &str, all_ids: &[String]) -> Result<Vec<BookingRow>, StoreError> {
    let mut out = Vec::with_capacity(all_ids.len());
    // Read in pages: one query binds at most SQLite's 32,766 parameters.
    for ids in all_ids.chunks(5_000) {
        // The page's rows, their tours, departures and customers read in one query each.
        let bookings = rows::bookings_by_ids(conn, org, ids)?;
        let pending = rows::pending_of(conn, org, EntityKind::Booking, ids)?;
        let distinct = |key: &dyn Fn(&Booking) -> String| -> Vec<String> {
            let mut v: Vec<String> = bookings.values().map(key).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let tours = rows::tours_by_ids(conn, org, &distinct(&|b| b.tour_id.clone()))?;
        let departures = rows::departures_by_ids(conn, org, &distinct(&|b| b.departure_id.clone()))?;
        let people = rows::customers_by_ids(conn, org, &distinct(&|b| b.customer_id.clone()))?;
        for id in ids {
            let Some(b) = bookings.get(id) else { continue };
            let customer = people.get(&b.customer_id);
            let departure = departures
                .get(&b.departure_id)
                .map(|d| DepartureView { seats_left: tourdesk_domain::offer::seats_for_sale(d), departure: d.clone() });
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
    Ok(out)
}

/// A reference fragment as a phrase the trigram index (V32) answers: 3 characters or more (the
/// index's tokens are every run of three), in FTS5's quotes, a quote doubled, so nothing typed is
/// read as query syntax and `%`, `_` and `\` are plain characters. A phrase of trigrams is the
/// fragment anywhere in the text, as `LIKE '%…%'` is, but the index answers the phrase faster:
/// "2026-7" over 100k references (3 of its 4 trigrams in nearly every one) 2 ms against 10 ms.
/// `None` otherwise: the reference index is read instead.
pub(super) fn trigram_pattern(q: &str) -> Option<String> {
    (q.chars().count() >= 3).then(|| format!("\"{}\"", q.replace('"', "\"\"")))
}

/// The rowids of the bookings whose reference holds the fragment of `phrase`
/// ([`trigram_pattern`]), and perhaps a few more: the index folds case beyond ASCII, so the
/// caller keeps its own `LIKE`.
pub(super) fn reference_trigram_sql(phrase: &str) -> String {
    format!("SELECT rowid FROM bookings_reference_fts WHERE bookings_reference_fts MATCH {phrase}")
}

/// Whether walking the bookings in departure order should meet a page of the `matches` sooner
/// than sorting them all: the walk reads about `limit × bookings / matches` bookings, the sort
/// every match. Only speed depends on it, never the rows. The number of bookings is estimated
/// from the highest rowid (deleted rows leave gaps), which the table's b-tree answers at once.
fn walk_pays(conn: &rusqlite::Connection, matches: i64, limit: i64) -> Result<bool, StoreError> {
    if limit < 0 || matches == 0 {
        return Ok(false);
    }
    let bookings: i64 =
        conn.prepare_cached("SELECT coalesce(max(rowid), 0) FROM bookings")?.query_row([], |r| r.get(0))?;
    Ok(matches.saturating_mul(matches) > limit.saturating_mul(bookings))
}

/// What the bookings screen's sort joins a booking to.
#[derive(Clone, Copy)]
pub(crate) enum Joined {
    Departure,
    Customer,
}

impl Store {
    /// Whether some booking's departure (or customer) is not on the desk (a booking whose
    /// departure did not replicate here): such a booking has no start (name) to sort by. Read
    /// once per state of the database: any write on this connection (its total changes) or
    /// another's commit (`PRAGMA data_version`) reads it again.
    fn orphan_bookings(&self, conn: &rusqlite::Connection, org: &str, joined: Joined) -> Result<bool, StoreError> {
        let version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        let changes = conn.total_changes();
        let mut cached = self.orphan_bookings.lock().unwrap_or_else(|p| p.into_inner());
        if cached.as_ref().is_none_or(|(v, c, o, _)| (*v, *c, o.as_str()) != (version, changes, org)) {
            *cached = Some((version, changes, org.to_string(), [None, None]));
        }
        let Some((_, _, _, known)) = cached.as_mut() else { return Ok(false) };
        if let Some(orphans) = known[joined as usize] {
            return Ok(orphans);
        }
        // Each distinct departure (customer) of the bookings once (a skip over their index).
        let sql = match joined {
            Joined::Departure => {
                "WITH RECURSIVE d(id) AS (
                     SELECT min(departure_id) FROM bookings WHERE organization_id = ?1
                     UNION ALL
                     SELECT (SELECT min(departure_id) FROM bookings WHERE organization_id = ?1 AND departure_id > d.id)
                       FROM d WHERE d.id IS NOT NULL
                 )
                 SELECT EXISTS (SELECT 1 FROM d WHERE d.id IS NOT NULL AND NOT EXISTS (
                     SELECT 1 FROM schedules s WHERE s.organization_id = ?1 AND s.id = d.id))"
            }
            Joined::Customer => {
                "WITH RECURSIVE d(id) AS (
                     SELECT min(customer_id) FROM bookings INDEXED BY bookings_customer_idx WHERE organization_id = ?1
                     UNION ALL
                     SELECT (SELECT min(customer_id) FROM bookings INDEXED BY bookings_customer_idx
                              WHERE organization_id = ?1 AND customer_id > d.id)
                       FROM d WHERE d.id IS NOT NULL
                 )
                 SELECT EXISTS (SELECT 1 FROM d WHERE d.id IS NOT NULL AND NOT EXISTS (
                     SELECT 1 FROM customers c WHERE c.organization_id = ?1 AND c.id = d.id))"
            }
        };
        let orphans: bool = conn.prepare_cached(sql)?.query_row([org], |r| r.get(0))?;
        known[joined as usize] = Some(orphans);
        Ok(orphans)
    }
}

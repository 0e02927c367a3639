//! Read models for the UI: tours, departures and prices, bookings, customers, manifests, and
//! the conflict inbox.

use rusqlite::{Connection, params};
use tourdesk_domain::audit::{AuditFacets, AuditFilter, AuditRecord, NamedAudit};
use tourdesk_domain::entities::{Booking, Customer};
use tourdesk_domain::ipc::{
    BookingSummary, CustomerDetail, CustomerHit, DepartureView, Manifest, ManifestBooking, Outcome, RejectedBooking,
    TourView,
};
use tourdesk_domain::mutation::{
    CreateBookingV1, DepartureCancellationPreview, attendance_by_participant, departure_cancellation_preview,
};
use tourdesk_domain::payment::PaymentIssue;
use tourdesk_domain::protocol::{EntityKind, OutcomeStatus};
use tourdesk_domain::status::BookingStatus;
use tourdesk_domain::{Departure, PricingTier, TourVariant};

use super::{CREATE_BOOKING, Store, session_org};
use crate::{StoreError, rows};

impl Store {
    pub fn tours(&self) -> Result<Vec<TourView>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let sql = format!(
            "SELECT {}, local_pending FROM tours WHERE organization_id = ?1 ORDER BY name COLLATE NOCASE, id",
            rows::TOUR_COLS
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut out = Vec::new();
        let mut q = stmt.query([&org])?;
        while let Some(r) = q.next()? {
            out.push(TourView { tour: rows::tour_from_row(r)?, pending: r.get(rows::TOUR_COL_COUNT)? });
        }
        Ok(out)
    }

    pub fn departures(&self, tour_id: &str) -> Result<Vec<DepartureView>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let sql = format!(
            "SELECT {} FROM schedules WHERE organization_id = ?1 AND tour_id = ?2 ORDER BY starts_at, id",
            rows::DEPARTURE_COLS
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut out = Vec::new();
        let mut q = stmt.query(params![org, tour_id])?;
        while let Some(r) = q.next()? {
            let d = rows::departure_from_row(r)?;
            out.push(DepartureView { seats_left: tourdesk_domain::offer::seats_for_sale(&d), departure: d });
        }
        Ok(out)
    }

    /// The tour's price list, default tier first.
    pub fn prices(&self, tour_id: &str) -> Result<Vec<PricingTier>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        tiers_of(&conn, &org, tour_id)
    }

    /// A tour's variants, active or not, in display order (the tour editor's table).
    pub fn variants(&self, tour_id: &str) -> Result<Vec<TourVariant>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        variants_of(&conn, &org, tour_id)
    }

    pub fn departure(&self, id: &str) -> Result<Option<DepartureView>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(None) };
        let Some(v) = rows::get(&conn, &org, EntityKind::Departure, id)? else { return Ok(None) };
        let d: Departure = serde_json::from_value(v)?;
        Ok(Some(DepartureView { seats_left: tourdesk_domain::offer::seats_for_sale(&d), departure: d }))
    }

    /// Rejections the user has not dismissed yet, oldest first.
    pub fn rejections(&self) -> Result<Vec<Outcome>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT mutation_id, name, args, code, detail FROM mutation_outcome
             WHERE status = ?1 AND acknowledged = 0 ORDER BY mutation_id",
        )?;
        let mut q = stmt.query([OutcomeStatus::Rejected.as_str()])?;
        let mut out = Vec::new();
        while let Some(r) = q.next()? {
            let args: String = r.get(2)?;
            out.push(Outcome {
                mutation_id: r.get(0)?,
                name: r.get(1)?,
                args: serde_json::from_str(&args).unwrap_or(serde_json::Value::Null),
                status: OutcomeStatus::Rejected,
                code: r.get(3)?,
                detail: r.get(4)?,
            });
        }
        Ok(out)
    }
}

/// Bookings, customers and manifests for the UI, and the conflict inbox's rejected bookings.
impl Store {
    /// The audit screen's entries ([`rows::audit_log_query`]); empty on a desk that does not
    /// receive the audit log (managers, guides) or has not signed in.
    pub fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        rows::audit_log(&conn, &org, filter)
    }

    /// [`Store::audit_log`] with the names this desk knows for the staff the entries name and
    /// its own device id ([`NamedAudit`]): an entity's history and the audit screen read people
    /// by name offline, where the server's lists cannot be asked. One indexed lookup per person.
    pub fn named_audit_log(&self, filter: &AuditFilter) -> Result<NamedAudit, StoreError> {
        // Read before the connection is held: both take it.
        let (me, this_device) = (self.session()?, self.device_id()?);
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(NamedAudit::default()) };
        let entries = rows::audit_log(&conn, &org, filter)?;
        let people = super::timeline::staff_names(&conn, &org, &entries, me.as_ref())?;
        Ok(NamedAudit { entries, people, this_device })
    }

    /// What the audit screen's filters offer.
    pub fn audit_facets(&self) -> Result<AuditFacets, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(AuditFacets::default()) };
        rows::audit_facets(&conn, &org)
    }

    /// Payment events the server could not apply (another currency than the booking's, a
    /// booking gone, ...), newest first: the inbox shows them with their reason. Only office
    /// desks receive them (the organization's bucket).
    pub fn payment_issues(&self) -> Result<Vec<PaymentIssue>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        rows::payment_issues(&conn, &org)
    }

    /// A departure's bookings in the order they were made, cancelled ones included (the list
    /// shows their status). A booking the server rejected is gone: the rebase removed it.
    pub fn bookings_of_departure(&self, departure_id: &str) -> Result<Vec<BookingSummary>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        rows::bookings_of_departure(&conn, &org, departure_id)?.iter().map(|b| summary(&conn, &org, b)).collect()
    }

    /// What cancelling the departure would cancel and refund, as far as this desk knows (the
    /// server decides on the bookings it holds then); `None` when the desk does not hold it.
    pub fn departure_cancellation_preview(
        &self,
        departure_id: &str,
    ) -> Result<Option<DepartureCancellationPreview>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(None) };
        let Some(v) = rows::get(&conn, &org, EntityKind::Departure, departure_id)? else { return Ok(None) };
        let d: Departure = serde_json::from_value(v)?;
        let bookings = rows::bookings_of_departure(&conn, &org, departure_id)?;
        Ok(Some(departure_cancellation_preview(&d, &bookings)))
    }

    /// Customers for what was typed, best match first: those whose first or last name, e-mail or
    /// phone starts with the words typed (every word must match a prefix of some word of those
    /// fields), then those whose phone holds the digits typed anywhere (3 or more, spaces, `+`,
    /// dashes, dots and brackets ignored: "000 999" finds +351 912 000 999), then those with a
    /// booking whose reference holds the text typed (see [`reference_fragment`]). Two shapes are
    /// answered otherwise: a whole e-mail address that customers have gives just them, and the
    /// start of a number with its `+` ([`phone_start`]) gives the numbers that start so, in
    /// number order, before those holding its digits elsewhere.
    pub fn search_customers(&self, query: &str, limit: u32) -> Result<Vec<CustomerHit>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let (mut hits, more) = customer_matches(&conn, &org, query, limit)?;
        let mut found = customer_hits_by_ids(&conn, &org, &more)?;
        hits.extend(more.iter().filter_map(|id| found.remove(id)));
        Ok(hits)
    }

    /// The ids of [`Store::search_customers`]'s hits, in its order, without reading the rows of
    /// those found by phone digits or a booking's reference: the bookings screen needs only the
    /// ids of up to 500 of them.
    pub(super) fn search_customer_ids(&self, query: &str, limit: u32) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let (hits, more) = customer_matches(&conn, &org, query, limit)?;
        Ok(hits.into_iter().map(|h| h.id).chain(more).collect())
    }

    /// A customer with their bookings, newest first. The notes' conflicting versions are in
    /// `customer.notes_conflicts`.
    pub fn customer_detail(&self, customer_id: &str) -> Result<Option<CustomerDetail>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(None) };
        let Some(customer) = rows::customer(&conn, &org, customer_id)? else { return Ok(None) };
        let own = rows::bookings_of_customer(&conn, &org, customer_id)?;
        let lifetime_value = super::customers::lifetime_value(&own);
        let bookings = own.iter().map(|b| super::search::booking_hit(&conn, &org, b)).collect::<Result<_, _>>()?;
        let pending = rows::pending(&conn, &org, EntityKind::Customer, customer_id)?;
        let duplicates = super::customers::duplicates_of(&conn, &org, &customer)?;
        let undoable_merge = super::customers::undoable_merge(&conn, &customer.id)?;
        Ok(Some(CustomerDetail { customer, pending, bookings, lifetime_value, duplicates, undoable_merge }))
    }

    /// The guide's manifest: the departure, its bookings that hold seats, and each seat with its
    /// attendance as recorded so far (on this device too, before the server has it).
    pub fn manifest(&self, departure_id: &str) -> Result<Option<Manifest>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(None) };
        let Some(v) = rows::get(&conn, &org, EntityKind::Departure, departure_id)? else { return Ok(None) };
        let d: Departure = serde_json::from_value(v)?;
        let tour = rows::tour(&conn, &org, &d.tour_id)?;
        let mut bookings = Vec::new();
        for b in rows::bookings_of_departure(&conn, &org, departure_id)? {
            if b.status == BookingStatus::Cancelled {
                continue;
            }
            let customer = rows::customer(&conn, &org, &b.customer_id)?;
            let facts = rows::check_ins_of_booking(&conn, &org, &b.id)?;
            let standing = attendance_by_participant(&facts);
            let unconfirmed: Vec<u32> = {
                let mut stmt = conn.prepare_cached(
                    "SELECT participant FROM check_ins
                     WHERE organization_id = ?1 AND booking_id = ?2 AND local_pending = 1",
                )?;
                stmt.query_map(params![org, b.id], |r| r.get(0))?.collect::<Result<_, _>>()?
            };
            let pending = rows::pending(&conn, &org, EntityKind::Booking, &b.id)?;
            bookings.push(ManifestBooking::of(&b, customer, &standing, |i| unconfirmed.contains(&i), pending));
        }
        Ok(Some(Manifest {
            tour_name: tour.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
            meeting_point: tour.map(|t| t.meeting_point).unwrap_or_default(),
            departure: DepartureView { seats_left: tourdesk_domain::offer::seats_for_sale(&d), departure: d },
            bookings,
        }))
    }

    /// Bookings the server rejected that nobody has dealt with yet, oldest first: who, how many,
    /// where and why, from the intent's arguments and the rows this desk holds now.
    pub fn rejected_bookings(&self) -> Result<Vec<RejectedBooking>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let refused: Vec<(u64, String, Option<String>, Option<String>)> = {
            let mut stmt = conn.prepare_cached(
                "SELECT mutation_id, args, code, detail FROM mutation_outcome
                 WHERE status = ?2 AND acknowledged = 0 AND name = ?1 ORDER BY mutation_id",
            )?;
            stmt.query_map([CREATE_BOOKING, OutcomeStatus::Rejected.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(refused.len());
        for (mutation_id, args, code, detail) in refused {
            // The generic inbox still lists an entry whose arguments do not parse.
            let Ok(a) = serde_json::from_str::<CreateBookingV1>(&args) else { continue };
            let customer = rows::customer(&conn, &org, &a.customer_id)?;
            let departure = match rows::get(&conn, &org, EntityKind::Departure, &a.departure_id)? {
                Some(v) => {
                    let d: Departure = serde_json::from_value(v)?;
                    Some(DepartureView { seats_left: tourdesk_domain::offer::seats_for_sale(&d), departure: d })
                }
                None => None,
            };
            out.push(RejectedBooking {
                mutation_id,
                code,
                detail,
                customer_name: customer.map_or_else(|| a.customer_id.clone(), |c| c.full_name()),
                customer_id: a.customer_id,
                pax: a.lines.iter().map(|l| l.quantity).sum(),
                tour_name: rows::tour(&conn, &org, &a.tour_id)?.map(|t| t.name),
                tour_id: a.tour_id,
                departure_id: a.departure_id,
                departure,
            });
        }
        Ok(out)
    }
}

pub(super) fn summary(c: &Connection, org: &str, b: &Booking) -> Result<BookingSummary, StoreError> {
    let customer = rows::customer(c, org, &b.customer_id)?;
    Ok(summary_of(b, customer.as_ref(), rows::pending(c, org, EntityKind::Booking, &b.id)?))
}

/// [`summary`] from a customer and pending flag already read (a page of rows reads them at once).
pub(super) fn summary_of(b: &Booking, customer: Option<&Customer>, pending: bool) -> BookingSummary {
    BookingSummary {
        id: b.id.clone(),
        reference_number: b.reference_number.to_string(),
        departure_id: b.departure_id.clone(),
        customer_id: b.customer_id.clone(),
        customer_name: customer.map_or_else(|| b.customer_id.clone(), |c| c.full_name()),
        pax: b.participant_count(),
        status: b.status,
        payment_status: b.payment_status,
        total: b.pricing.total,
        pending,
    }
}

/// A customer hit from a row of `id, first_name, last_name, email, phone, local_pending`: every
/// customer search and the likely-duplicates list select these columns in this order.
pub(super) fn customer_hit(r: &rusqlite::Row<'_>) -> rusqlite::Result<CustomerHit> {
    Ok(CustomerHit {
        id: r.get(0)?,
        first_name: r.get(1)?,
        last_name: r.get(2)?,
        email: r.get(3)?,
        phone: r.get(4)?,
        pending: r.get(5)?,
    })
}

/// [`Store::search_customers`]'s matching: the hits of the e-mail, number-start or full-text
/// part (rows read), then the ids of those found by phone digits or a booking's reference, by
/// name (rows not read), together at most `limit`.
fn customer_matches(
    conn: &Connection,
    org: &str,
    query: &str,
    limit: u32,
) -> Result<(Vec<CustomerHit>, Vec<String>), StoreError> {
    let q = query.trim();
    let mut hits: Vec<CustomerHit> = Vec::new();
    // A whole e-mail address some customer has: those customers (the same address twice is a
    // duplicate), found in the e-mail index. Stored addresses are the domain's form
    // (`validate::email`), so the query is put in it too. Else the full-text search below,
    // which reads the index's long lists for "example" and "com" of nearly every customer.
    if let Ok(email) = tourdesk_domain::validate::email("email", q) {
        let mut stmt = conn.prepare_cached(
            "SELECT c.id, c.first_name, c.last_name, c.email, c.phone, c.local_pending FROM customers c
             WHERE c.organization_id = ?1 AND c.email = ?2 AND c.merged_into IS NULL
             ORDER BY c.last_name, c.first_name, c.id LIMIT ?3",
        )?;
        hits = stmt.query_map(params![org, email, limit], customer_hit)?.collect::<Result<_, _>>()?;
        if !hits.is_empty() {
            return Ok((hits, Vec::new()));
        }
    }
    if let Some(start) = phone_start(q) {
        // The start of a number as stored (`+3519`): a range of the phone index, in number
        // order. The full-text index would find the same customers but rank every one of
        // them (a country code is most of the customers) before keeping a page.
        let mut stmt = conn.prepare_cached(
            "SELECT c.id, c.first_name, c.last_name, c.email, c.phone, c.local_pending FROM customers c
             WHERE c.organization_id = ?1 AND c.phone >= ?2 AND c.phone < ?3 AND c.merged_into IS NULL
             ORDER BY c.phone, c.id LIMIT ?4",
        )?;
        // ':' follows '9': every number that starts with the digits sorts before it.
        let end = format!("{start}:");
        hits = stmt.query_map(params![org, start, end, limit], customer_hit)?.collect::<Result<_, _>>()?;
    } else if let Some(fts) = fts_query(q) {
        let mut stmt = conn.prepare_cached(
            "SELECT c.id, c.first_name, c.last_name, c.email, c.phone, c.local_pending
             FROM customers_fts JOIN customers c ON c.rowid = customers_fts.rowid
             WHERE customers_fts MATCH ?2 AND c.organization_id = ?1 AND c.merged_into IS NULL
             ORDER BY rank, c.last_name, c.first_name, c.id LIMIT ?3",
        )?;
        hits = stmt.query_map(params![org, fts, limit], customer_hit)?.collect::<Result<_, _>>()?;
    }
    let (digits, national) = phone_digits(q).unzip();
    let national = national.flatten();
    let reference = reference_fragment(q);
    if (digits.is_none() && reference.is_none()) || hits.len() >= limit as usize {
        return Ok((hits, Vec::new()));
    }
    // Each way of matching is a condition and the index that finds its customers: the phone's
    // trigram index (V32) for a run of digits, the references' for a booking's reference. The
    // conditions are still tested on the customers found.
    let mut args: Vec<rusqlite::types::Value> = vec![org.to_string().into()];
    let mut arg = |v: String| {
        args.push(v.into());
        format!("?{}", args.len())
    };
    let (mut conds, mut found) = (Vec::new(), Vec::new());
    for run in digits.iter().chain(national.iter()) {
        conds.push(format!("instr(c.phone, {}) > 0", arg(run.clone())));
        // Digits only: no wildcard in the pattern.
        found.push(format!(
            "SELECT id FROM customers WHERE rowid IN (SELECT rowid FROM customers_phone_fts WHERE phone LIKE {})",
            arg(format!("%{run}%"))
        ));
    }
    let mut with_sql = String::new();
    if let Some(r) = reference {
        let like = arg(super::search::like_pattern(&r));
        let bookings = match super::bookings_list::trigram_pattern(&r) {
            Some(p) => format!(
                "SELECT customer_id FROM bookings WHERE +organization_id = ?1
                    AND reference_number LIKE {like} ESCAPE '\\'
                    AND rowid IN ({})",
                super::bookings_list::reference_trigram_sql(&arg(p))
            ),
            None => format!(
                "SELECT customer_id FROM bookings WHERE organization_id = ?1 AND reference_number LIKE {like} ESCAPE '\\'"
            ),
        };
        // Read once, for the condition and for the candidates (the reference index's lists
        // of a fragment such as "2026-" are long).
        conds.push("c.id IN referenced".to_string());
        found.push("SELECT id FROM referenced".to_string());
        with_sql = format!("WITH referenced (id) AS MATERIALIZED ({bookings}) ");
    }
    // The customers found are looked up by id in V37's index, which holds what is tested and
    // sorted on: only the rows of those kept are read, by the caller that wants them.
    let sql = format!(
        "{with_sql}SELECT c.id FROM customers c INDEXED BY customers_search_idx
         WHERE c.organization_id = ?1 AND c.merged_into IS NULL AND ({})
           AND c.id IN ({})
         ORDER BY c.last_name, c.first_name, c.id LIMIT {limit}",
        conds.join(" OR "),
        found.join(" UNION "),
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut more = Vec::new();
    for id in stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| r.get::<_, String>(0))? {
        let id = id?;
        if hits.len() + more.len() < limit as usize && !hits.iter().any(|x| x.id == id) {
            more.push(id);
        }
    }
    Ok((hits, more))
}

/// The search hits of the customers with these ids that the desk holds, by id.
fn customer_hits_by_ids(
    conn: &Connection,
    org: &str,
    ids: &[String],
) -> Result<std::collections::HashMap<String, CustomerHit>, StoreError> {
    let mut out = std::collections::HashMap::with_capacity(ids.len());
    // Read in pages: one query binds at most SQLite's 32,766 parameters.
    for chunk in ids.chunks(5_000) {
        let marks = (2..chunk.len() + 2).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT c.id, c.first_name, c.last_name, c.email, c.phone, c.local_pending FROM customers c
             WHERE c.organization_id = ?1 AND c.id IN ({marks})"
        );
        let args = std::iter::once(org).chain(chunk.iter().map(String::as_str));
        let mut stmt = conn.prepare(&sql)?;
        for h in stmt.query_map(rusqlite::params_from_iter(args), customer_hit)? {
            let h = h?;
            out.insert(h.id.clone(), h);
        }
    }
    Ok(out)
}

/// The digits of a query that looks like (part of) a phone number — digits, spaces and
/// `+ - . ( )` only, 3 digits or more — to find inside the stored E.164 numbers; and, when it
/// starts with a trunk `0` and is long enough to be a whole national number ("07911 123456"),
/// the same digits without it, as they appear after the country code.
pub(super) fn phone_digits(q: &str) -> Option<(String, Option<String>)> {
    let phone_like = q.chars().all(|c| c.is_ascii_digit() || " +-.()".contains(c));
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    if !phone_like || digits.len() < 3 {
        return None;
    }
    let national = digits.trim_start_matches('0');
    let national = (national.len() != digits.len() && national.len() >= 6).then(|| national.to_string());
    Some((digits, national))
}

/// The start of a phone number as it is stored (E.164, `+351912000999`): a `+` first, then at
/// least one digit, spaces, dashes, dots and brackets ignored ("+351 9" is `+3519`).
pub(super) fn phone_start(q: &str) -> Option<String> {
    let rest = q.trim().strip_prefix('+')?;
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let phone_like = rest.chars().all(|c| c.is_ascii_digit() || " -.()".contains(c));
    (phone_like && !digits.is_empty()).then(|| format!("+{digits}"))
}

/// A query that can be (part of) a booking reference (`BK-2026-7KQ2MX`), upper-cased: 3 or
/// more characters of the references' own (the alphabet, digits and `-`), with a letter or a
/// dash in it ("2026-7K"), and a digit or a dash or at least 4 characters (the tail of a suffix, "HQDE"). A short name
/// such as "ana" is not one (it would match the random suffix of some reference), nor is a run
/// of digits (a phone, or a year that every reference of that year holds). Name matches come
/// first in the results anyway.
pub(super) fn reference_fragment(q: &str) -> Option<String> {
    use tourdesk_domain::reference::ALPHABET;
    let r = q.trim().to_ascii_uppercase();
    let ours = r.len() >= 3 && r.bytes().all(|b| b.is_ascii_digit() || b == b'-' || ALPHABET.contains(&b));
    let letter = r.bytes().any(|b| b.is_ascii_uppercase() || b == b'-');
    let distinct = r.bytes().any(|b| b.is_ascii_digit() || b == b'-') || r.len() >= 4;
    (ours && letter && distinct).then_some(r)
}

/// An FTS5 query matching every typed word as a prefix. Words are cut at anything that is not a
/// letter or digit, as the index's tokenizer does, and each is quoted, so nothing typed is read
/// as FTS syntax. A phone-like query (digits and `+ - ( ) .` and spaces only) becomes one digit
/// run, matching the stored E.164 number's digits.
pub(super) fn fts_query(q: &str) -> Option<String> {
    let phone_like =
        q.chars().any(|c| c.is_ascii_digit()) && q.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let words: Vec<String> = if phone_like {
        vec![q.chars().filter(char::is_ascii_digit).collect()]
    } else {
        q.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
    };
    if words.is_empty() {
        return None;
    }
    Some(words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" "))
}

/// A tour's variants, active or not, in display order.
pub(super) fn variants_of(c: &Connection, org: &str, tour_id: &str) -> Result<Vec<TourVariant>, StoreError> {
    let sql = format!(
        "SELECT {} FROM tour_variants WHERE organization_id = ?1 AND tour_id = ?2
         ORDER BY sort_order, name COLLATE NOCASE, id",
        rows::VARIANT_COLS
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let out = stmt.query_map(params![org, tour_id], rows::variant_from_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(out)
}

/// A tour's price tiers, default first.
pub(super) fn tiers_of(c: &Connection, org: &str, tour_id: &str) -> Result<Vec<PricingTier>, StoreError> {
    let sql = format!(
        "SELECT {} FROM pricing_tiers WHERE organization_id = ?1 AND tour_id = ?2
         ORDER BY is_default DESC, sort_order, name",
        rows::TIER_COLS
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut q = stmt.query(params![org, tour_id])?;
    let mut out = Vec::new();
    while let Some(r) = q.next()? {
        out.push(rows::tier_from_row(r)?);
    }
    Ok(out)
}

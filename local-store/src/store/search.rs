//! The desk's global search (Ctrl+K): a booking by (part of) its reference, a customer by name,
//! e-mail or phone (the customers' full-text index), a tour by (part of) its name.

use rusqlite::{OptionalExtension, params};
use tourdesk_domain::entities::{Booking, Departure};
use tourdesk_domain::ipc::{BookingHit, DepartureView, SearchResults, TourView};
use tourdesk_domain::protocol::EntityKind;

use super::read::summary;
use super::{Store, session_org};
use crate::StoreError;
use crate::rows;

/// A booking with its tour's name and its departure, as far as this desk holds them.
pub(super) fn booking_hit(conn: &rusqlite::Connection, org: &str, b: &Booking) -> Result<BookingHit, StoreError> {
    let tour_name = rows::tour(conn, org, &b.tour_id)?.map(|t| t.name);
    let departure = rows::get(conn, org, EntityKind::Departure, &b.departure_id)?
        .map(serde_json::from_value::<Departure>)
        .transpose()?
        .map(|d| DepartureView { seats_left: tourdesk_domain::offer::seats_for_sale(&d), departure: d });
    Ok(BookingHit { booking: summary(conn, org, b)?, tour_id: b.tour_id.clone(), tour_name, departure })
}

/// `%`, `_` and the escape itself taken literally in a `LIKE … ESCAPE '\'` pattern.
pub(super) fn like_pattern(q: &str) -> String {
    let mut out = String::from("%");
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Store {
    /// Up to `limit` hits of each kind for what was typed; nothing for a blank query.
    pub fn search(&self, query: &str, limit: u32) -> Result<SearchResults, StoreError> {
        let q = query.trim();
        if q.is_empty() {
            return Ok(SearchResults::default());
        }
        let customers = self.search_customers(q, limit)?;
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(SearchResults::default()) };
        // References are stored upper-case (`BK-2026-…`); SQLite's LIKE ignores ASCII case anyway.
        let pattern = like_pattern(&q.to_uppercase());
        // The trigram index (V32) finds the candidates when it can; the LIKE decides.
        let (sql, trigram) = match super::bookings_list::trigram_pattern(&q.to_uppercase()) {
            Some(t) => (
                format!(
                    "SELECT id FROM bookings WHERE +organization_id = ?1 AND reference_number LIKE ?2 ESCAPE '\\'
                       AND rowid IN ({})
                     ORDER BY reference_number = ?3 DESC, created_at DESC, id LIMIT ?4",
                    super::bookings_list::reference_trigram_sql("?5")
                ),
                Some(t),
            ),
            None => (
                "SELECT id FROM bookings WHERE organization_id = ?1 AND reference_number LIKE ?2 ESCAPE '\\'
                 ORDER BY reference_number = ?3 DESC, created_at DESC, id LIMIT ?4"
                    .to_string(),
                None,
            ),
        };
        let mut args: Vec<rusqlite::types::Value> =
            vec![org.clone().into(), pattern.into(), q.to_uppercase().into(), i64::from(limit).into()];
        args.extend(trigram.map(Into::into));
        let ids: Vec<String> = conn
            .prepare_cached(&sql)?
            .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut bookings = Vec::new();
        for id in ids {
            let Some(b) = rows::booking(&conn, &org, &id)? else { continue };
            bookings.push(booking_hit(&conn, &org, &b)?);
        }
        let tour_ids: Vec<String> = conn
            .prepare_cached(
                "SELECT id FROM tours WHERE organization_id = ?1 AND name LIKE ?2 ESCAPE '\\'
                 ORDER BY name COLLATE NOCASE, id LIMIT ?3",
            )?
            .query_map(params![org, like_pattern(q), limit], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut tours = Vec::new();
        for id in tour_ids {
            if let Some(tour) = rows::tour(&conn, &org, &id)? {
                let pending = rows::pending(&conn, &org, EntityKind::Tour, &id)?;
                tours.push(TourView { tour, pending });
            }
        }
        Ok(SearchResults { bookings, customers, tours })
    }

    /// The booking with this reference however it was typed (`ReferenceNumber::parse`), for a
    /// deep link such as `#/bookings/BK-2026-…`.
    pub fn booking_by_reference(&self, reference: &str) -> Result<Option<BookingHit>, StoreError> {
        let Ok(wanted) = tourdesk_domain::reference::ReferenceNumber::parse(reference) else { return Ok(None) };
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(None) };
        // Stored references are canonical, as `parse` gives them: the reference index finds it (named:
        // SQLite would otherwise walk every booking in `created_at` order to skip the sort).
        let id: Option<String> = conn
            .prepare_cached(
                "SELECT id FROM bookings INDEXED BY bookings_reference_idx
                 WHERE organization_id = ?1 AND reference_number = ?2 ORDER BY created_at DESC, id LIMIT 1",
            )?
            .query_row(params![org, wanted.as_str()], |r| r.get(0))
            .optional()?;
        let Some(id) = id else { return Ok(None) };
        let Some(b) = rows::booking(&conn, &org, &id)? else { return Ok(None) };
        Ok(Some(booking_hit(&conn, &org, &b)?))
    }
}

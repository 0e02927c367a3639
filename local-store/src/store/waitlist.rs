//! The waitlist on the desk: every entry across departures (the `#/waitlist` screen) and one
//! departure's queue (its page's waitlist panel), each with its place in the queue and where it
//! stands in words, both from the domain (`waitlist::places_in_queue`, `status_in_words`).

use std::collections::HashMap;

use rusqlite::Connection;
use tourdesk_domain::entities::{Customer, Departure, WaitlistEntry};
use tourdesk_domain::ipc::{WaitlistFilter, WaitlistRow};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::waitlist::{self, Candidate};

use super::{Store, session_org};
use crate::{StoreError, rows};

impl Store {
    /// The waitlist screen: entries across departures, soonest departure first and each
    /// departure's queue in order, filtered by tour and status.
    pub fn waitlist(&self, filter: &WaitlistFilter) -> Result<Vec<WaitlistRow>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        // Places are counted over the whole queue, so the status filter applies after them; a
        // tour's departures hold whole queues, so that filter may go first.
        let entries = rows::waitlist_entries(&conn, &org, filter.tour_id.as_deref())?;
        let mut out = rows_of(&conn, &org, entries)?;
        if let Some(status) = filter.status {
            out.retain(|r| r.entry.status == status);
        }
        Ok(out)
    }

    /// One departure's waitlist, in queue order (waiting entries first, then the rest as made).
    pub fn departure_waitlist(&self, departure_id: &str) -> Result<Vec<WaitlistRow>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let entries = rows::waitlist_of_departure(&conn, &org, departure_id)?;
        rows_of(&conn, &org, entries)
    }
}

fn rows_of(c: &Connection, org: &str, entries: Vec<WaitlistEntry>) -> Result<Vec<WaitlistRow>, StoreError> {
    let candidates: Vec<Candidate> = entries
        .iter()
        .map(|e| Candidate { id: e.id.clone(), party_size: e.party_size, status: e.status, created_at: e.created_at })
        .collect();
    let paired: Vec<(&str, &Candidate)> =
        entries.iter().zip(&candidates).map(|(e, c)| (e.departure_id.as_str(), c)).collect();
    let places = waitlist::places_in_queue(&paired);

    let mut departures: HashMap<String, Option<Departure>> = HashMap::new();
    let mut tours: HashMap<String, String> = HashMap::new();
    let mut customers: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(entries.len());
    for (entry, place) in entries.into_iter().zip(places) {
        if !departures.contains_key(&entry.departure_id) {
            let d = rows::get(c, org, EntityKind::Departure, &entry.departure_id)?
                .map(serde_json::from_value::<Departure>)
                .transpose()?;
            departures.insert(entry.departure_id.clone(), d);
        }
        // An entry whose departure this desk does not hold (yet) cannot be placed in time.
        let Some(Some(dep)) = departures.get(&entry.departure_id) else { continue };
        if !tours.contains_key(&entry.tour_id) {
            let name = rows::tour(c, org, &entry.tour_id)?.map(|t| t.name).unwrap_or_else(|| "Unknown tour".into());
            tours.insert(entry.tour_id.clone(), name);
        }
        if !customers.contains_key(&entry.customer_id) {
            let name = rows::customer(c, org, &entry.customer_id)?
                .map(|c: Customer| format!("{} {}", c.first_name, c.last_name).trim().to_string())
                .unwrap_or_else(|| "Unknown customer".into());
            customers.insert(entry.customer_id.clone(), name);
        }
        let pending = rows::pending(c, org, EntityKind::WaitlistEntry, &entry.id)?;
        out.push(WaitlistRow {
            tour_name: tours[&entry.tour_id].clone(),
            local_date: dep.local_date,
            local_time: dep.local_time,
            timezone: dep.timezone.clone(),
            customer_name: customers[&entry.customer_id].clone(),
            place,
            status_words: waitlist::status_in_words(entry.status, entry.offer_expires_at, &dep.timezone),
            removable: waitlist::removal_refused(entry.status).is_none(),
            pending,
            entry,
        });
    }
    // Soonest departure first; within one, its queue in order, then the entries no longer waiting.
    let starts: HashMap<&str, chrono::DateTime<chrono::Utc>> =
        departures.iter().filter_map(|(id, d)| d.as_ref().map(|d| (id.as_str(), d.starts_at))).collect();
    let mut keyed: Vec<_> = out
        .into_iter()
        .map(|r| {
            let key =
                (starts.get(r.entry.departure_id.as_str()).copied(), r.entry.departure_id.clone(), r.place.is_none());
            (key, r)
        })
        .collect();
    keyed.sort_by(|(a, x), (b, y)| {
        a.cmp(b).then(x.place.cmp(&y.place)).then(x.entry.created_at.cmp(&y.entry.created_at))
    });
    Ok(keyed.into_iter().map(|(_, r)| r).collect())
}

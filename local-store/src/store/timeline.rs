//! A booking's timeline and the communications log as this replica holds them: the audit log
//! (owners' and admins' desks) and customers' messages (office desks), merged and worded by the
//! domain (`tourdesk_domain::timeline`), times in the departure's zone.

use std::collections::BTreeMap;

use tourdesk_domain::communication::Communication;
use tourdesk_domain::timeline::{NamedTimeline, booking_timeline};

use super::{Store, session_org};
use crate::{StoreError, rows};

impl Store {
    /// Everything this desk knows happened to a booking, newest first, with the names this desk
    /// knows for whoever it names and its own device id. A desk that holds neither log (a
    /// guide's) shows an empty timeline.
    pub fn booking_timeline(&self, booking_id: &str) -> Result<NamedTimeline, StoreError> {
        // Read before the connection is held: both take it.
        let (me, this_device) = (self.session()?, self.device_id()?);
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(NamedTimeline::default()) };
        let audit = rows::audit_of_booking(&conn, &org, booking_id)?;
        let messages = rows::communications_of_booking(&conn, &org, booking_id)?;
        let zone = rows::booking_zone(&conn, &org, booking_id)?.and_then(|z| z.parse().ok());
        let people = people_names(&conn, &org, booking_id, &audit, me.as_ref())?;
        let entries = booking_timeline(&audit, &messages, zone, &people);
        Ok(NamedTimeline { entries, people, this_device })
    }

    /// A booking's messages, newest first.
    pub fn communications_of_booking(&self, booking_id: &str) -> Result<Vec<Communication>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        rows::communications_of_booking(&conn, &org, booking_id)
    }

    /// A customer's messages, newest first.
    pub fn communications_of_customer(&self, customer_id: &str) -> Result<Vec<Communication>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        rows::communications_of_customer(&conn, &org, customer_id)
    }
}

/// The names this desk knows for the staff `audit` names (its writers and person fields): the
/// signed-in person's own, guides with a login, whoever the log names ([`rows::names_of_users`]).
/// Whoever is not here is missing, never shown as their id.
pub(super) fn staff_names(
    conn: &rusqlite::Connection,
    org: &str,
    audit: &[tourdesk_domain::audit::AuditRecord],
    me: Option<&crate::store::Session>,
) -> Result<BTreeMap<String, String>, StoreError> {
    let mut people: BTreeMap<String, String> =
        rows::names_of_users(conn, org, &tourdesk_domain::audit::person_ids(audit))?.into_iter().collect();
    if let Some(me) = me.filter(|m| !m.user_name.trim().is_empty()) {
        people.insert(me.user_id.clone(), me.user_name.clone());
    }
    Ok(people)
}

/// The names this desk knows for the people a booking's history names (`audit`): staff (the
/// signed-in person, guides with a login, whoever wrote audit rows) and the booking's customer.
/// Whoever is not here is left out of the timeline rather than shown as an id.
fn people_names(
    conn: &rusqlite::Connection,
    org: &str,
    booking_id: &str,
    audit: &[tourdesk_domain::audit::AuditRecord],
    me: Option<&crate::store::Session>,
) -> Result<BTreeMap<String, String>, StoreError> {
    let mut people = staff_names(conn, org, audit, me)?;
    let booking = rows::bookings_by_ids(conn, org, &[booking_id.to_string()])?;
    let customer_ids: Vec<String> = booking.values().map(|b| b.customer_id.clone()).collect();
    for (id, c) in rows::customers_by_ids(conn, org, &customer_ids)? {
        let name = c.full_name();
        if !name.trim().is_empty() {
            people.insert(id, name);
        }
    }
    Ok(people)
}

impl Store {
    /// A booking's confirmation and receipt as a PDF, from this replica (the domain's `receipt`,
    /// written with the manifests' PDF writer), with the file name to save it as; `None` when this
    /// desk holds no booking with that reference.
    pub fn receipt_pdf(
        &self,
        reference: &str,
        issued: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let Some(hit) = self.booking_by_reference(reference)? else { return Ok(None) };
        let Some(money) = self.booking_money(&hit.booking.id)? else { return Ok(None) };
        let org = self.session()?.map(|s| s.organization_name).unwrap_or_default();
        let name = tourdesk_domain::receipt::file_name(&money.reference_number);
        Ok(Some((name, tourdesk_domain::receipt::to_pdf(&org, &hit, &money, issued))))
    }
}

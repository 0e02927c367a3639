//! A booking's timeline and the communications log as this replica holds them: the audit log
//! (owners' and admins' desks) and customers' messages (office desks), merged and worded by the
//! domain (`tourdesk_domain::timeline`), times in the departure's zone.

use tourdesk_domain::communication::Communication;
use tourdesk_domain::timeline::{TimelineEntry, booking_timeline};

use super::{Store, session_org};
use crate::{StoreError, rows};

impl Store {
    /// Everything this desk knows happened to a booking, newest first. A desk that holds neither
    /// log (a guide's) shows an empty timeline.
    pub fn booking_timeline(&self, booking_id: &str) -> Result<Vec<TimelineEntry>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let audit = rows::audit_of_booking(&conn, &org, booking_id)?;
        let messages = rows::communications_of_booking(&conn, &org, booking_id)?;
        let zone = rows::booking_zone(&conn, &org, booking_id)?.and_then(|z| z.parse().ok());
        Ok(booking_timeline(&audit, &messages, zone))
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

//! A guide's field notes on a departure (`tourdesk_domain::incident`) as this replica holds
//! them: the guide's device has those of the departures it leads, an office desk all of them.

use tourdesk_domain::incident::DepartureIncidentView;
use tourdesk_domain::protocol::EntityKind;

use super::{Store, session_org};
use crate::{StoreError, rows};

impl Store {
    /// A departure's field notes, oldest first, each with whether it is still unsent.
    pub fn departure_incidents(&self, departure_id: &str) -> Result<Vec<DepartureIncidentView>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        rows::incidents_of_departure(&conn, &org, departure_id)?
            .into_iter()
            .map(|incident| {
                let pending = rows::pending(&conn, &org, EntityKind::DepartureIncident, &incident.id)?;
                Ok(DepartureIncidentView { incident, pending })
            })
            .collect()
    }
}

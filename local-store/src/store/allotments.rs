//! Allotments on the desk (`tourdesk_domain::allotment`): what this replica holds, and the one
//! this device may sell walk-ups on.

use tourdesk_domain::allotment::{Allotment, AllotmentStatus};

use super::{Store, session_org};
use crate::{StoreError, rows};

impl Store {
    /// A departure's allotments as this desk knows them (every device's on an office desk; a
    /// guide's device holds those of the departures it leads).
    pub fn allotments_of_departure(&self, departure_id: &str) -> Result<Vec<Allotment>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        rows::allotments_of_departure(&conn, &org, departure_id)
    }

    /// The active allotment this device (signed in as this account) sells on for a departure.
    pub fn my_allotment(&self, departure_id: &str) -> Result<Option<Allotment>, StoreError> {
        let (Some(device), Some(session)) = (self.device_id()?, self.session()?) else { return Ok(None) };
        Ok(self
            .allotments_of_departure(departure_id)?
            .into_iter()
            .find(|a| a.device_id == device && a.user_id == session.user_id && a.status == AllotmentStatus::Active))
    }
}

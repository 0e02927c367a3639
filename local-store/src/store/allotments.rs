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
        // (`allotments_of_departure` takes the connection itself.)
        Ok(self
            .allotments_of_departure(departure_id)?
            .into_iter()
            .find(|a| a.device_id == device && a.user_id == session.user_id && a.status == AllotmentStatus::Active))
    }
}

impl Store {
    /// A guide's day on this desk: the manifests of the departures `guide_id` leads on `date`
    /// (their local date), by time. Without a guide id: the signed-in account's own guide.
    pub fn guide_day_manifests(
        &self,
        guide_id: Option<&str>,
        date: chrono::NaiveDate,
    ) -> Result<Vec<tourdesk_domain::ipc::Manifest>, StoreError> {
        let user = self.session()?.map(|s| s.user_id);
        let ids: Vec<String> = {
            let conn = self.conn();
            let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
            let mut stmt = conn.prepare(
                "SELECT s.id FROM schedules s
                   JOIN guide_assignments a ON a.organization_id = s.organization_id AND a.departure_id = s.id
                   JOIN guides g ON g.organization_id = a.organization_id AND g.id = a.guide_id
                 WHERE s.organization_id = ?1 AND s.local_date = ?2 AND a.status <> 'declined'
                   AND (g.id = ?3 OR (?3 IS NULL AND g.user_id = ?4))
                 ORDER BY s.local_time, s.id",
            )?;
            stmt.query_map(rusqlite::params![org, date.to_string(), guide_id, user], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.manifest(&id)?);
        }
        Ok(out)
    }
}

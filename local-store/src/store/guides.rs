//! Guides on the desk: the guides page's list, the week board (departures × guides) and guide
//! mode's "my departures". Read from the replica; a guide's device holds only the departures
//! they are assigned to (replication), and guide mode filters on the signed-in login as well.

use chrono::NaiveDate;
use rusqlite::params;
use tourdesk_domain::entities::Guide;
use tourdesk_domain::ipc::{BoardAssignment, BoardDeparture, GuideBoard, GuideView};
use tourdesk_domain::mutation::Rejection;
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::validate::FieldError;

use super::{Store, session_org};
use crate::{StoreError, rows};

/// The longest span the board asks for at once.
pub const BOARD_MAX_DAYS: i64 = 31;

impl Store {
    /// Every guide of the organization, by name.
    pub fn guides(&self) -> Result<Vec<GuideView>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for g in rows::guides(&conn, &org)? {
            let pending = rows::pending(&conn, &org, EntityKind::Guide, &g.id)?;
            out.push(GuideView { guide: g, pending });
        }
        out.sort_by(|a, b| {
            let key = |g: &Guide| (g.first_name.to_lowercase(), g.last_name.to_lowercase(), g.id.clone());
            key(&a.guide).cmp(&key(&b.guide))
        });
        Ok(out)
    }

    /// Departures with a local date in `[from, until]` and the guides on each, with every guide.
    pub fn guide_board(&self, from: NaiveDate, until: NaiveDate) -> Result<GuideBoard, StoreError> {
        let guides = self.guides()?;
        let departures = self.board_departures(from, until, &guides, None)?;
        Ok(GuideBoard { from, until, guides, departures })
    }

    /// Guide mode: the departures in `[from, until]` the signed-in login is assigned to (not
    /// declined), with their guides.
    pub fn my_departures(&self, from: NaiveDate, until: NaiveDate) -> Result<Vec<BoardDeparture>, StoreError> {
        let user = match self.session()? {
            Some(s) => s.user_id,
            None => return Ok(Vec::new()),
        };
        let guides = self.guides()?;
        let mine: Vec<String> =
            guides.iter().filter(|g| g.guide.user_id.as_deref() == Some(&user)).map(|g| g.guide.id.clone()).collect();
        if mine.is_empty() {
            return Ok(Vec::new());
        }
        self.board_departures(from, until, &guides, Some(&mine))
    }

    fn board_departures(
        &self,
        from: NaiveDate,
        until: NaiveDate,
        guides: &[GuideView],
        only_guides: Option<&[String]>,
    ) -> Result<Vec<BoardDeparture>, StoreError> {
        if until < from || (until - from).num_days() > BOARD_MAX_DAYS {
            let why = format!("the board shows at most {BOARD_MAX_DAYS} days, from {from} forward");
            return Err(StoreError::Rejected(Rejection::Invalid(FieldError::new("until", why))));
        }
        let departures = self.calendar(from, until)?;
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let name_of =
            |id: &str| guides.iter().find(|g| g.guide.id == id).map_or_else(|| id.to_string(), |g| g.guide.full_name());
        let mut stmt = conn.prepare_cached(
            "SELECT id, guide_id, role, status, override_reason, local_pending FROM guide_assignments
             WHERE organization_id = ?1 AND departure_id = ?2 ORDER BY role = 'assistant', guide_id",
        )?;
        let mut out = Vec::with_capacity(departures.len());
        for d in departures {
            let mut assignments = Vec::new();
            let mut q = stmt.query(params![org, d.departure.id])?;
            while let Some(r) = q.next()? {
                let (role, status): (String, String) = (r.get(2)?, r.get(3)?);
                let guide_id: String = r.get(1)?;
                assignments.push(BoardAssignment {
                    assignment_id: r.get(0)?,
                    guide_name: name_of(&guide_id),
                    guide_id,
                    role: serde_json::from_value(serde_json::Value::String(role))?,
                    status: serde_json::from_value(serde_json::Value::String(status))?,
                    override_reason: r.get(4)?,
                    pending: r.get(5)?,
                });
            }
            let keep = only_guides.is_none_or(|mine| {
                assignments.iter().any(|a| {
                    mine.contains(&a.guide_id) && a.status != tourdesk_domain::guides::AssignmentStatus::Declined
                })
            });
            if keep {
                out.push(BoardDeparture { departure: d, assignments });
            }
        }
        Ok(out)
    }
}

//! Departures across tours for the calendar, and the previews of generating departures and of
//! a one-off departure: the domain's plan, read from the replica exactly as the mutation reads
//! it, so what the preview shows is what a save writes.

use chrono::NaiveDate;
use rusqlite::params;
use tourdesk_domain::entities::TourVariant;
use tourdesk_domain::ipc::CalendarDeparture;
use tourdesk_domain::mutation::{
    ApplyError, CreateDepartureV1, GenerateDeparturesV1, GenerationPlan, PlannedDeparture, Rejection,
};
use tourdesk_domain::validate::FieldError;

use super::write::Replica;
use super::{Store, session_org};
use crate::{StoreError, rows};

/// The longest span the calendar asks for at once (a month view shows six weeks).
pub const CALENDAR_MAX_DAYS: i64 = 62;

impl Store {
    /// Every departure with a local date in `[from, until]`, across tours, in start order, with
    /// its tour's and variant's names and the seats left for sale.
    pub fn calendar(&self, from: NaiveDate, until: NaiveDate) -> Result<Vec<CalendarDeparture>, StoreError> {
        if until < from || (until - from).num_days() > CALENDAR_MAX_DAYS {
            let why = format!("a calendar shows at most {CALENDAR_MAX_DAYS} days, from {from} forward");
            return Err(StoreError::Rejected(Rejection::Invalid(FieldError::new("until", why))));
        }
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let sql = format!(
            "SELECT {}, COALESCE(t.name, ''), COALESCE(v.name, ''), s.local_pending
             FROM schedules s
             LEFT JOIN tours t ON t.organization_id = s.organization_id AND t.id = s.tour_id
             LEFT JOIN tour_variants v ON v.organization_id = s.organization_id AND v.id = s.variant_id
             WHERE s.organization_id = ?1 AND s.local_date BETWEEN ?2 AND ?3
             ORDER BY s.local_date, s.local_time, t.name COLLATE NOCASE, s.id",
            rows::DEPARTURE_COLS.split(", ").map(|c| format!("s.{}", c.trim())).collect::<Vec<_>>().join(", ")
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut q = stmt.query(params![org, from.to_string(), until.to_string()])?;
        let mut out = Vec::new();
        while let Some(r) = q.next()? {
            let d = rows::departure_from_row(r)?;
            out.push(CalendarDeparture {
                seats_left: tourdesk_domain::offer::seats_for_sale(&d),
                tour_name: r.get(13)?,
                variant_name: r.get(14)?,
                pending: r.get(15)?,
                departure: d,
            });
        }
        Ok(out)
    }

    /// A tour's variants that take departures (active ones), in their order: the choices of the
    /// generate and one-off forms.
    pub fn schedule_variants(&self, tour_id: &str) -> Result<Vec<TourVariant>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let mut stmt = conn.prepare_cached(
            "SELECT id, organization_id, tour_id, name, capacity, duration_minutes, active, sort_order
             FROM tour_variants WHERE organization_id = ?1 AND tour_id = ?2 AND active = 1
             ORDER BY sort_order, name COLLATE NOCASE, id",
        )?;
        let rows = stmt.query_map(params![org, tour_id], crate::rows::variant_from_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// What `generate_departures.v1` with `args` would write now: every departure of the
    /// pattern with its local time, UTC instant and DST marks, and which exist already.
    pub fn preview_generation(&self, args: &GenerateDeparturesV1) -> Result<GenerationPlan, StoreError> {
        let conn = self.conn();
        let ctx = self.ctx(&conn)?;
        args.preview(&Replica { c: &conn, org: &ctx.organization_id }, &ctx).map_err(decided)
    }

    /// What `create_departure.v1` with `args` would write now, or why it is refused.
    pub fn preview_departure(&self, args: &CreateDepartureV1) -> Result<PlannedDeparture, StoreError> {
        let conn = self.conn();
        let ctx = self.ctx(&conn)?;
        args.preview(&Replica { c: &conn, org: &ctx.organization_id }, &ctx).map_err(decided)
    }
}

pub(super) fn decided(e: ApplyError) -> StoreError {
    match e {
        ApplyError::Rejected(r) => StoreError::Rejected(r),
        ApplyError::Store(f) => StoreError::Corrupt(f.0),
    }
}

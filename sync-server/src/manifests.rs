//! Manifests for staff (issue 14 item 5): per departure and per guide per day, as CSV or PDF
//! (`tourdesk_domain::manifest_export`), built from the server's rows. A guide reads only the
//! departures they lead; office roles any.

use chrono::NaiveDate;
use tourdesk_domain::ipc::{DepartureView, Manifest, ManifestBooking};
use tourdesk_domain::mutation::attendance_by_participant;
use tourdesk_domain::roles::{Permission, Role};
use tourdesk_domain::status::BookingStatus;
use tourdesk_domain::validate;

use crate::auth::Staff;
use crate::db::{self, Prepared};
use crate::{AppError, AppState};

/// A manifest file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Pdf,
}

impl Format {
    /// `csv` or `pdf`; anything else is refused at `format`.
    pub fn parse(s: &str) -> Result<Format, AppError> {
        match s {
            "csv" => Ok(Format::Csv),
            "pdf" => Ok(Format::Pdf),
            _ => Err(AppError::invalid("format", "a manifest is csv or pdf")),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Pdf => "application/pdf",
        }
    }

    pub fn render(self, manifests: &[Manifest]) -> Vec<u8> {
        match self {
            Format::Csv => tourdesk_domain::manifest_export::to_csv(manifests).into_bytes(),
            Format::Pdf => tourdesk_domain::manifest_export::to_pdf(manifests),
        }
    }
}

fn may_read(staff: &Staff) -> Result<(), AppError> {
    if staff.role.can(Permission::BookingsRead) && staff.role != Role::Customer {
        Ok(())
    } else {
        Err(AppError::Forbidden("your role may not read manifests".into()))
    }
}

/// One departure's manifest.
pub async fn of_departure(state: &AppState, staff: &Staff, departure_id: &str) -> Result<Manifest, AppError> {
    may_read(staff)?;
    let departure_id =
        validate::row_ref("departure_id", departure_id).map_err(|_| AppError::NotFound("departure".into()))?;
    let org = &staff.organization_id;
    let mut c = state.pool.get().await?;
    let tx = db::write_in(&mut c, org).await?;
    if staff.role == Role::Guide && !leads(&tx, org, &departure_id, &staff.user_id).await? {
        return Err(AppError::Forbidden("a guide reads the manifests of the departures they lead only".into()));
    }
    let m = build(&tx, org, &departure_id).await?.ok_or_else(|| AppError::NotFound("departure".into()))?;
    tx.commit().await?;
    Ok(m)
}

/// A guide's day: the manifests of the departures they lead on `date` (local date), by time.
pub async fn of_guide_day(
    state: &AppState,
    staff: &Staff,
    guide_id: &str,
    date: &str,
) -> Result<Vec<Manifest>, AppError> {
    may_read(staff)?;
    let guide_id = validate::row_ref("guide_id", guide_id).map_err(|_| AppError::NotFound("guide".into()))?;
    let date =
        NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| AppError::invalid("date", "a date is YYYY-MM-DD"))?;
    let org = &staff.organization_id;
    let mut c = state.pool.get().await?;
    let tx = db::write_in(&mut c, org).await?;
    let guide = tx
        .row_opt("SELECT user_id FROM guides WHERE organization_id = $1 AND id = $2", &[org, &guide_id])
        .await?
        .ok_or_else(|| AppError::NotFound("guide".into()))?;
    let user: Option<String> = guide.try_get(0).map_err(anyhow::Error::from)?;
    if staff.role == Role::Guide && user.as_deref() != Some(staff.user_id.as_str()) {
        return Err(AppError::Forbidden("a guide reads their own day's manifests only".into()));
    }
    let rows = tx
        .rows(
            "SELECT s.id FROM schedules s JOIN schedule_guide_assignments a
               ON a.organization_id = s.organization_id AND a.departure_id = s.id
             WHERE s.organization_id = $1 AND a.guide_id = $2 AND a.status <> 'declined' AND s.local_date = $3
             ORDER BY s.local_time, s.id",
            &[org, &guide_id, &date],
        )
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        let id: String = r.try_get(0).map_err(anyhow::Error::from)?;
        if let Some(m) = build(&tx, org, &id).await? {
            out.push(m);
        }
    }
    tx.commit().await?;
    Ok(out)
}

async fn leads(c: &impl Prepared, org: &str, departure_id: &str, user_id: &str) -> Result<bool, AppError> {
    let row = c
        .row_opt(
            "SELECT 1 FROM schedule_guide_assignments a JOIN guides g
               ON g.organization_id = a.organization_id AND g.id = a.guide_id
             WHERE a.organization_id = $1 AND a.departure_id = $2 AND g.user_id = $3 AND a.status <> 'declined'",
            &[&org, &departure_id, &user_id],
        )
        .await?;
    Ok(row.is_some())
}

async fn build(
    tx: &deadpool_postgres::Transaction<'_>,
    org: &str,
    departure_id: &str,
) -> Result<Option<Manifest>, AppError> {
    let sql = format!("SELECT {} FROM schedules WHERE organization_id = $1 AND id = $2", db::DEPARTURE_COLS);
    let Some(row) = tx.row_opt(&sql, &[&org, &departure_id]).await? else { return Ok(None) };
    let d = db::departure_from_row(&row)?;
    let tour = tx
        .row_opt("SELECT name, meeting_point FROM tours WHERE organization_id = $1 AND id = $2", &[&org, &d.tour_id])
        .await?;
    let (tour_name, meeting_point): (String, Option<String>) = match tour {
        Some(r) => (r.try_get(0).map_err(anyhow::Error::from)?, r.try_get(1).map_err(anyhow::Error::from)?),
        None => (d.tour_id.clone(), None),
    };
    let mut bookings = Vec::new();
    for b in db::bookings_of_departure(tx, org, departure_id, "").await? {
        if b.status == BookingStatus::Cancelled {
            continue;
        }
        let customer = db::customer_by_id(tx, org, &b.customer_id).await?;
        let standing = attendance_by_participant(&db::check_ins_of_booking(tx, org, &b.id).await?);
        bookings.push(ManifestBooking::of(&b, customer, &standing, |_| false, false));
    }
    bookings.sort_by(|a, b| a.reference_number.cmp(&b.reference_number));
    let seats_left = d.seats_left();
    Ok(Some(Manifest {
        departure: DepartureView { departure: d, seats_left },
        tour_name,
        meeting_point: meeting_point.unwrap_or_default(),
        bookings,
    }))
}

//! Staff routes for scheduled report e-mails (issue 16, V44): list, create, change and delete an
//! organization's schedules (the desk's "Scheduled e-mails" screen). Owners and admins (the reports permission); bad input is a 422 at
//! its field. The job that sends them is `jobs::report_mail`.

use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use tourdesk_domain::reports::schedule::{CheckedSchedule, ReportSchedule, ScheduleInput};
use tourdesk_domain::roles::Permission;

use super::{ApiJson, ApiPath};
use crate::auth::Staff;
use crate::db::{self, Prepared};
use crate::{AppError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/report-schedules", get(list).post(create))
        .route("/api/v1/report-schedules/{id}", axum::routing::put(update).delete(remove))
}

fn allowed(staff: &Staff) -> Result<(), AppError> {
    if staff.role.can(Permission::ReportsRead) {
        Ok(())
    } else {
        Err(AppError::Forbidden("scheduling report e-mails needs the reports permission".into()))
    }
}

async fn list(
    axum::extract::State(state): axum::extract::State<AppState>,
    staff: Staff,
) -> Result<Json<Vec<ReportSchedule>>, AppError> {
    allowed(&staff)?;
    let mut conn = state.pool.get().await?;
    let tx = db::read_in(&mut conn, &staff.organization_id).await?;
    let rows = tx
        .rows(
            "SELECT id, kind, recipient_user_ids, recipient_roles, send_hour, last_sent_for, created_by, created_at
             FROM report_schedules WHERE organization_id = $1 ORDER BY created_at, id",
            &[&staff.organization_id],
        )
        .await?;
    tx.commit().await?;
    let out = rows
        .iter()
        .map(|r| {
            Ok(ReportSchedule {
                id: db::column(r, 0)?,
                kind: db::column(r, 1)?,
                recipient_user_ids: db::column(r, 2)?,
                recipient_roles: db::column(r, 3)?,
                send_hour: db::column(r, 4)?,
                last_sent_for: db::column(r, 5)?,
                created_by: db::column(r, 6)?,
                created_at: db::column(r, 7)?,
            })
        })
        .collect::<Result<Vec<_>, db::DbError>>()?;
    Ok(Json(out))
}

/// The checked schedule, its named recipients known as active staff of the organization.
async fn checked(
    tx: &deadpool_postgres::Transaction<'_>,
    org: &str,
    body: &ScheduleInput,
) -> Result<CheckedSchedule, AppError> {
    let s = body.check()?;
    let known = tx
        .rows(
            "SELECT id FROM staff_users WHERE organization_id = $1 AND active AND id = ANY($2)",
            &[&org, &s.recipient_user_ids],
        )
        .await?;
    if known.len() != s.recipient_user_ids.len() {
        return Err(AppError::invalid("recipient_user_ids", "not an active member of this organization's staff"));
    }
    Ok(s)
}

async fn create(
    axum::extract::State(state): axum::extract::State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<ScheduleInput>,
) -> Result<(StatusCode, Json<ReportSchedule>), AppError> {
    allowed(&staff)?;
    let mut conn = state.pool.get().await?;
    let tx = db::write_in(&mut conn, &staff.organization_id).await?;
    let s = checked(&tx, &staff.organization_id, &body).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let row = tx
        .query_one(
            "INSERT INTO report_schedules (organization_id, id, kind, recipient_user_ids, recipient_roles, send_hour,
                 created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING created_at",
            &[
                &staff.organization_id,
                &id,
                &s.kind.as_str(),
                &s.recipient_user_ids,
                &s.recipient_roles,
                &s.send_hour,
                &staff.user_id,
            ],
        )
        .await?;
    let created_at = db::column(&row, 0)?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(ReportSchedule {
            id,
            kind: s.kind.as_str().to_string(),
            recipient_user_ids: s.recipient_user_ids,
            recipient_roles: s.recipient_roles,
            send_hour: s.send_hour,
            last_sent_for: None,
            created_by: staff.user_id,
            created_at,
        }),
    ))
}

/// Changes a schedule's report, recipients and hour. A schedule that keeps its report keeps the
/// period it last mailed (it is not sent twice); another report starts afresh.
async fn update(
    axum::extract::State(state): axum::extract::State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ScheduleInput>,
) -> Result<Json<ReportSchedule>, AppError> {
    allowed(&staff)?;
    let mut conn = state.pool.get().await?;
    let tx = db::write_in(&mut conn, &staff.organization_id).await?;
    let s = checked(&tx, &staff.organization_id, &body).await?;
    let rows = tx
        .rows(
            "UPDATE report_schedules
             SET kind = $3, recipient_user_ids = $4, recipient_roles = $5, send_hour = $6,
                 last_sent_for = CASE WHEN kind = $3 THEN last_sent_for END, updated_at = now()
             WHERE organization_id = $1 AND id = $2
             RETURNING last_sent_for, created_by, created_at",
            &[&staff.organization_id, &id, &s.kind.as_str(), &s.recipient_user_ids, &s.recipient_roles, &s.send_hour],
        )
        .await?;
    let Some(row) = rows.first() else { return Err(AppError::NotFound("report schedule".into())) };
    let out = ReportSchedule {
        id,
        kind: s.kind.as_str().to_string(),
        recipient_user_ids: s.recipient_user_ids,
        recipient_roles: s.recipient_roles,
        send_hour: s.send_hour,
        last_sent_for: db::column(row, 0)?,
        created_by: db::column(row, 1)?,
        created_at: db::column(row, 2)?,
    };
    tx.commit().await?;
    Ok(Json(out))
}

async fn remove(
    axum::extract::State(state): axum::extract::State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    allowed(&staff)?;
    let mut conn = state.pool.get().await?;
    let tx = db::write_in(&mut conn, &staff.organization_id).await?;
    let n = tx
        .exec("DELETE FROM report_schedules WHERE organization_id = $1 AND id = $2", &[&staff.organization_id, &id])
        .await?;
    tx.commit().await?;
    if n == 0 {
        return Err(AppError::NotFound("report schedule".into()));
    }
    Ok(StatusCode::NO_CONTENT)
}

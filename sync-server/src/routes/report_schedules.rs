//! Staff routes for scheduled report e-mails (issue 16, V44): list, create and delete an
//! organization's schedules. Owners and admins (the reports permission); bad input is a 422 at
//! its field. The job that sends them is `jobs::report_mail`.

use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tourdesk_domain::reports::schedule::ScheduleKind;
use tourdesk_domain::roles::{Permission, Role};

use super::{ApiJson, ApiPath};
use crate::auth::Staff;
use crate::db::{self, Prepared};
use crate::{AppError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/report-schedules", get(list).post(create))
        .route("/api/v1/report-schedules/{id}", delete(remove))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSchedule {
    pub kind: String,
    #[serde(default)]
    pub recipient_user_ids: Vec<String>,
    #[serde(default)]
    pub recipient_roles: Vec<String>,
    /// The hour of the organization's local day from which it is sent, 0–23.
    pub send_hour: i64,
}

#[derive(Debug, Serialize)]
pub struct ReportSchedule {
    pub id: String,
    pub kind: String,
    pub recipient_user_ids: Vec<String>,
    pub recipient_roles: Vec<String>,
    pub send_hour: i16,
    pub last_sent_for: Option<chrono::NaiveDate>,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
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
    let tx = conn.build_transaction().read_only(true).start().await?;
    db::set_tenant(&tx, &staff.organization_id).await?;
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

async fn create(
    axum::extract::State(state): axum::extract::State<AppState>,
    staff: Staff,
    ApiJson(body): ApiJson<NewSchedule>,
) -> Result<(StatusCode, Json<ReportSchedule>), AppError> {
    allowed(&staff)?;
    let kind = ScheduleKind::parse(body.kind.trim())
        .ok_or_else(|| AppError::invalid("kind", "one of daily_sales, weekly_sales"))?;
    let send_hour = i16::try_from(body.send_hour)
        .ok()
        .filter(|h| (0..=23).contains(h))
        .ok_or_else(|| AppError::invalid("send_hour", "an hour of the day, 0 to 23"))?;
    let mut roles: Vec<String> = Vec::new();
    for r in &body.recipient_roles {
        match Role::parse(r.trim()) {
            Some(role) if role != Role::Customer => roles.push(role.as_str().to_string()),
            _ => return Err(AppError::invalid("recipient_roles", format!("{r:?} is not a staff role"))),
        }
    }
    roles.sort();
    roles.dedup();
    let mut users: Vec<String> = body.recipient_user_ids.iter().map(|u| u.trim().to_string()).collect();
    users.sort();
    users.dedup();
    if users.len() > 200 || users.iter().any(|u| u.is_empty() || u.len() > 200) {
        return Err(AppError::invalid("recipient_user_ids", "staff user ids, at most 200"));
    }
    if users.is_empty() && roles.is_empty() {
        return Err(AppError::invalid("recipient_user_ids", "choose at least one recipient or role"));
    }
    let mut conn = state.pool.get().await?;
    let tx = conn.transaction().await?;
    db::set_tenant(&tx, &staff.organization_id).await?;
    let known = tx
        .rows(
            "SELECT id FROM staff_users WHERE organization_id = $1 AND active AND id = ANY($2)",
            &[&staff.organization_id, &users],
        )
        .await?;
    if known.len() != users.len() {
        return Err(AppError::invalid("recipient_user_ids", "not an active member of this organization's staff"));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let row = tx
        .query_one(
            "INSERT INTO report_schedules (organization_id, id, kind, recipient_user_ids, recipient_roles, send_hour,
                 created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING created_at",
            &[&staff.organization_id, &id, &kind.as_str(), &users, &roles, &send_hour, &staff.user_id],
        )
        .await?;
    let created_at = db::column(&row, 0)?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(ReportSchedule {
            id,
            kind: kind.as_str().to_string(),
            recipient_user_ids: users,
            recipient_roles: roles,
            send_hour,
            last_sent_for: None,
            created_by: staff.user_id,
            created_at,
        }),
    ))
}

async fn remove(
    axum::extract::State(state): axum::extract::State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, AppError> {
    allowed(&staff)?;
    let mut conn = state.pool.get().await?;
    let tx = conn.transaction().await?;
    db::set_tenant(&tx, &staff.organization_id).await?;
    let n = tx
        .exec("DELETE FROM report_schedules WHERE organization_id = $1 AND id = $2", &[&staff.organization_id, &id])
        .await?;
    tx.commit().await?;
    if n == 0 {
        return Err(AppError::NotFound("report schedule".into()));
    }
    Ok(StatusCode::NO_CONTENT)
}

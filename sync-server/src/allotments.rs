//! Allotments on the server (`tourdesk_domain::allotment`): issuing seats to a device, releasing
//! them, and the job that releases what is left when a departure starts. Each runs the domain's
//! mutation through `apply::run_mutation`, under the departure's row lock like a booking.

use chrono::Utc;
use tourdesk_domain::allotment::{Allotment, IssueAllotmentRequest};
use tourdesk_domain::mutation::{Change, IssueAllotmentV1, Mutation, MutationCtx, ReleaseAllotmentV1};
use tourdesk_domain::roles::Role;
use tourdesk_domain::validate;

use crate::apply::{self, Failure};
use crate::auth::Staff;
use crate::db::{Prepared, WriteTx};
use crate::{AppError, AppState, db};

/// Who the audit log names for the release at departure start.
pub const RELEASE_ACTOR: &str = "system:allotment-release";

/// Most allotments released per organization per pass.
const BATCH: i64 = 200;

fn ctx(staff: &Staff) -> MutationCtx {
    MutationCtx {
        organization_id: staff.organization_id.clone(),
        role: staff.role,
        now: Utc::now(),
        user_id: staff.user_id.clone(),
    }
}

fn allotment_of(changes: &[Change]) -> Option<Allotment> {
    changes.iter().find_map(|c| match c {
        Change::PutAllotment(a) => Some(a.clone()),
        _ => None,
    })
}

/// Issues `req.seats` on a departure to a device of the organization (the asking one by
/// default), identified by its `staff_devices` row like every pushing device; the account it is
/// signed in as comes from that row. A retried request with the same `id` answers the allotment
/// it made.
pub async fn issue(state: &AppState, staff: &Staff, req: IssueAllotmentRequest) -> Result<Allotment, AppError> {
    let id = match &req.id {
        Some(id) => validate::id("id", id)?,
        None => uuid::Uuid::new_v4().to_string(),
    };
    let departure_id = validate::row_ref("departure_id", &req.departure_id)?;
    let device_id = match &req.device_id {
        Some(d) => validate::row_ref("device_id", d)?,
        None => staff.device_id.clone(),
    };
    let mut conn = state.pool.get().await?;
    let mut w = WriteTx::new(conn.transaction().await?, &staff.organization_id).await?;
    w.set_device(&staff.device_id);
    if let Some(found) = db::allotment(w.tx(), &staff.organization_id, &id, false).await? {
        if found.departure_id == departure_id && found.device_id == device_id && found.seats == req.seats {
            return Ok(found);
        }
        return Err(AppError::BadRequest {
            status: axum::http::StatusCode::CONFLICT,
            code: "CONFLICT",
            message: format!("allotment {id} already exists with other details"),
            field: Some("id".into()),
        });
    }
    let row = w
        .row_opt(
            "SELECT user_id, revoked_at IS NOT NULL FROM staff_devices WHERE organization_id = $1 AND id = $2",
            &[&staff.organization_id, &device_id],
        )
        .await?;
    let Some(row) = row else {
        return Err(AppError::invalid("device_id", format!("no device {device_id} in this organization")));
    };
    let (user_id, revoked): (String, bool) = (row.try_get(0)?, row.try_get(1)?);
    if revoked {
        return Err(AppError::invalid("device_id", "that device was signed out for good (revoked)"));
    }
    let m = Mutation::IssueAllotmentV1(IssueAllotmentV1 { id, departure_id, device_id, user_id, seats: req.seats });
    let changes = decided(apply::run_mutation(&w, &m, &ctx(staff), &staff.user_id).await)?;
    w.commit().await?;
    allotment_of(&changes).ok_or_else(|| AppError::Internal(anyhow::anyhow!("an issued allotment wrote no row")))
}

/// Releases an allotment now: its holder or the office. Releasing a released one answers it.
pub async fn release(state: &AppState, staff: &Staff, id: &str) -> Result<Allotment, AppError> {
    let id = validate::row_ref("id", id).map_err(|_| AppError::NotFound("allotment".into()))?;
    let mut conn = state.pool.get().await?;
    let mut w = WriteTx::new(conn.transaction().await?, &staff.organization_id).await?;
    w.set_device(&staff.device_id);
    let found = db::allotment(w.tx(), &staff.organization_id, &id, false)
        .await?
        .ok_or_else(|| AppError::NotFound("allotment".into()))?;
    let m = Mutation::ReleaseAllotmentV1(ReleaseAllotmentV1 {
        allotment_id: id.clone(),
        departure_id: found.departure_id.clone(),
    });
    let changes = decided(apply::run_mutation(&w, &m, &ctx(staff), &staff.user_id).await)?;
    w.commit().await?;
    // Nothing changed: it was released already, as read.
    Ok(allotment_of(&changes).unwrap_or(found))
}

/// A departure's allotments (the office's view): who holds seats, and what each device sold.
pub async fn of_departure(state: &AppState, staff: &Staff, departure_id: &str) -> Result<Vec<Allotment>, AppError> {
    if !staff.role.can(tourdesk_domain::roles::Permission::SchedulesRead) {
        return Err(AppError::Forbidden("your role may not see allotments".into()));
    }
    let departure_id = validate::row_ref("departure_id", departure_id)?;
    let mut c = state.pool.get().await?;
    let tx = db::read_in(&mut c, &staff.organization_id).await?;
    let all = db::allotments_of_departure(&tx, &staff.organization_id, &departure_id).await?;
    tx.commit().await?;
    // A guide sees only the allotments of their own devices.
    Ok(if staff.role == Role::Guide { all.into_iter().filter(|a| a.user_id == staff.user_id).collect() } else { all })
}

fn decided(outcome: Result<Vec<Change>, Failure>) -> Result<Vec<Change>, AppError> {
    outcome.map_err(|f| AppError::from_failure(f, ""))
}

/// Releases the allotments of departures that have started, in every organization that has any
/// (V22's lookup); returns how many.
pub async fn release_due(state: &AppState) -> anyhow::Result<usize> {
    let orgs = db::orgs_with(&state.pool.get().await?, "tourdesk_orgs_with_due_allotments", &[]).await?;
    let mut released = 0;
    for org in orgs {
        released += release_due_in(state, &org).await?;
    }
    Ok(released)
}

async fn release_due_in(state: &AppState, org: &str) -> anyhow::Result<usize> {
    let mut conn = state.pool.get().await?;
    let tx = WriteTx::new(conn.transaction().await?, org).await?;
    let due = db::due_allotments(tx.tx(), org, BATCH).await?;
    let ctx = MutationCtx {
        organization_id: org.to_string(),
        role: Role::Owner,
        now: Utc::now(),
        user_id: RELEASE_ACTOR.into(),
    };
    let mut released = 0;
    for (allotment_id, departure_id) in due {
        let m = Mutation::ReleaseAllotmentV1(ReleaseAllotmentV1 { allotment_id: allotment_id.clone(), departure_id });
        let (mark, outcome) = tx.in_savepoint(apply::run_mutation(&tx, &m, &ctx, RELEASE_ACTOR)).await?;
        match outcome {
            Ok(_) => {
                tx.release(mark);
                released += 1;
            }
            Err(Failure::Rejected(r)) => {
                tx.rollback_to(mark).await?;
                tracing::warn!(org, allotment = %allotment_id, "allotment not released: {r}");
            }
            Err(Failure::Transient(why)) => {
                tx.rollback_to(mark).await?;
                anyhow::bail!("allotment release interrupted: {why}");
            }
        }
    }
    tx.commit().await?;
    if released > 0 {
        tracing::info!(org, released, "allotments released at departure start");
    }
    Ok(released)
}

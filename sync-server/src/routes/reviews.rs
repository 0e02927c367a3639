//! Staff routes for review moderation (issue 15 item 5): the organization's reviews, waiting ones
//! first, and a decision on one. Reading needs access to the tours; deciding what the public tour
//! page shows needs the right to edit them (the domain's `reviews::moderate`). The use cases are
//! `crate::reviews`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use tourdesk_domain::reviews::{ModerationRequest, ReviewItem, ReviewStatus};

use super::{ApiJson, ApiPath, ApiQuery};
use crate::auth::Staff;
use crate::{AppError, AppState, reviews};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/reviews", get(list)).route("/api/v1/reviews/{id}/moderation", post(moderate))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// pending, approved or rejected; every status when absent.
    pub status: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    staff: Staff,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<ReviewItem>>, AppError> {
    let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            ReviewStatus::parse(s).ok_or_else(|| AppError::invalid("status", "one of pending, approved, rejected"))?,
        ),
    };
    Ok(Json(reviews::list(&state, &staff, status).await?))
}

async fn moderate(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ModerationRequest>,
) -> Result<Json<ReviewItem>, AppError> {
    Ok(Json(reviews::moderate(&state, &staff, id.trim(), body.decision).await?))
}

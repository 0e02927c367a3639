//! Staff routes for the field (issue 14): allotments of seats to devices. Bearer token of a
//! staff device, like `/sync/v1/*`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use tourdesk_domain::allotment::{Allotment, IssueAllotmentRequest};

use super::{ApiJson, ApiPath};
use crate::auth::Staff;
use crate::{AppError, AppState, allotments};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/allotments", post(issue_allotment))
        .route("/api/v1/allotments/{id}/release", post(release_allotment))
        .route("/api/v1/departures/{id}/allotments", get(departure_allotments))
}

async fn issue_allotment(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(req): ApiJson<IssueAllotmentRequest>,
) -> Result<(StatusCode, Json<Allotment>), AppError> {
    allotments::issue(&state, &staff, req).await.map(|a| (StatusCode::CREATED, Json(a)))
}

async fn release_allotment(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Allotment>, AppError> {
    allotments::release(&state, &staff, &id).await.map(Json)
}

async fn departure_allotments(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<Allotment>>, AppError> {
    allotments::of_departure(&state, &staff, &id).await.map(Json)
}

//! HTTP shells. A handler parses its input, calls one use-case function and lets [`AppError`]
//! map the outcome; no business rule lives here.

mod extract;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use tourdesk_domain::protocol::{PullRequest, PullResponse, PushRequest, PushResponse, SignInRequest, SignInResponse};

use crate::auth::{self, Staff};
use crate::{AppError, AppState, sync};
pub use extract::ApiJson;

pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit_bytes;
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/auth/sign-in", post(sign_in))
        .route("/sync/v1/push", post(push))
        .route("/sync/v1/pull", post(pull))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

async fn health(State(state): State<AppState>) -> Result<&'static str, AppError> {
    state.pool.get().await?.query_one("SELECT 1", &[]).await?;
    Ok("ok")
}

async fn not_found() -> AppError {
    AppError::NotFound("route".into())
}

async fn sign_in(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SignInRequest>,
) -> Result<Json<SignInResponse>, AppError> {
    auth::sign_in(&state, req).await.map(Json)
}

async fn push(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(req): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, AppError> {
    sync::push(&state, &staff, req).await.map(Json)
}

async fn pull(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(req): ApiJson<PullRequest>,
) -> Result<Json<PullResponse>, AppError> {
    sync::pull(&state, &staff, req).await.map(Json)
}

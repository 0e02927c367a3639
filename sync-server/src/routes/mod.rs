//! HTTP shells. A handler parses its input, calls one use-case function and lets [`AppError`]
//! map the outcome; no business rule lives here.

mod accounts;
mod extract;
mod field;
mod messages;
mod report_schedules;
mod reviews;
mod sms;
pub mod website_api;

use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use tourdesk_domain::protocol::{
    DeviceInfo, DeviceList, PullRequest, PullResponse, PushRequest, PushResponse, RefreshRequest, SignInRequest,
    SignInResponse,
};
use tourdesk_domain::validate;

use crate::auth::{self, Staff};
use crate::db::Prepared;
use crate::{AppError, AppState, sync};
pub use extract::{ApiJson, ApiPath, ApiQuery, ApiText};

pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit_bytes;
    let customer_facing = rate_limited(website_api::routes(), &state.config.booking, state.shutting_down.clone());
    let staff_links = rate_limited(accounts::link_routes(), &state.config.booking, state.shutting_down.clone());
    let website = rate_limited(crate::web::routes(), &state.config.booking, state.shutting_down.clone());
    Router::new()
        .merge(customer_facing)
        .merge(staff_links)
        .merge(website)
        .merge(accounts::staff_routes())
        .merge(field::routes())
        .merge(report_schedules::routes())
        .merge(reviews::routes())
        .merge(messages::routes())
        .merge(sms::routes())
        .merge(website_api::webhook_routes())
        .route("/api/v1/openapi.json", get(website_api::openapi))
        .route("/health", get(health))
        .merge(crate::updates::router(
            state.config.updates_dir.clone().map(std::path::PathBuf::from),
            &state.config.mail.public_base_url,
        ))
        .route("/api/v1/auth/sign-in", post(sign_in))
        .route("/api/v1/auth/refresh", post(refresh))
        .route("/api/v1/auth/sign-out", post(sign_out))
        .route("/api/v1/auth/devices", get(devices))
        .route("/api/v1/analytics/funnel", get(crate::analytics::funnel_route))
        .route("/api/v1/analytics/funnel-report", get(crate::analytics::funnel_report_route))
        .route("/api/v1/auth/devices/{id}/revoke", post(revoke_device))
        .route("/sync/v1/push", post(push))
        .route("/sync/v1/pull", post(pull))
        .route("/sync/v1/events", get(crate::events::stream))
        .fallback(extract::no_route)
        .method_not_allowed_fallback(extract::no_method)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::map_response(extract::json_errors))
        .with_state(state)
}

/// Per-address limits on the customer-facing routes (`per_second` sustained, `burst` at once).
/// Keyed by the peer address: behind a reverse proxy that would be the proxy, so a deployment
/// there limits at the proxy instead (forwarded headers are not trusted here; they are forgeable).
fn rate_limited(
    routes: Router<AppState>,
    cfg: &crate::config::BookingConfig,
    mut shutting_down: tokio::sync::watch::Receiver<bool>,
) -> Router<AppState> {
    if cfg.rate_limit_per_second == 0 {
        return routes;
    }
    let period = std::time::Duration::from_nanos(1_000_000_000 / u64::from(cfg.rate_limit_per_second));
    let config = tower_governor::governor::GovernorConfigBuilder::default()
        .period(period)
        .burst_size(cfg.rate_limit_burst.max(1))
        .finish();
    let Some(config) = config else {
        tracing::warn!("rate limit settings rejected; public routes are not rate-limited");
        return routes;
    };
    let config = std::sync::Arc::new(config);
    // Forget addresses that have been quiet, or the table grows with every client ever seen;
    // the sweeper ends with the server instead of outliving it.
    let limiter = config.limiter().clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => limiter.retain_recent(),
                _ = shutting_down.wait_for(|d| *d) => return,
            }
        }
    });
    routes.layer(tower_governor::GovernorLayer::new(config).error_handler(|e| {
        let (status, message) = match e {
            tower_governor::GovernorError::TooManyRequests { wait_time, .. } => {
                (axum::http::StatusCode::TOO_MANY_REQUESTS, format!("too many requests; retry in {wait_time} s"))
            }
            other => (axum::http::StatusCode::BAD_REQUEST, other.to_string()),
        };
        let body = tourdesk_domain::protocol::ApiError { code: "RATE_LIMITED".into(), message, field: None };
        axum::response::IntoResponse::into_response((status, Json(body)))
    }))
}

async fn health(State(state): State<AppState>) -> Result<&'static str, AppError> {
    state.pool.get().await?.row("SELECT 1", &[]).await?;
    Ok("ok")
}

async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    ApiJson(mut req): ApiJson<SignInRequest>,
) -> Result<Json<SignInResponse>, AppError> {
    // What reaches a query is text the domain accepts; the rest of the checks are auth's.
    // A slug no organization can have is refused like an unknown one.
    req.organization = validate::org_slug("organization", &req.organization)
        .map_err(|_| AppError::Unauthorized("wrong organization, email or password".into()))?;
    req.email = validate::text("email", &req.email, 254)?;
    validate::text("device", &req.device, 200)?;
    if let Some(id) = req.device_id.as_deref().filter(|id| !id.trim().is_empty()) {
        validate::row_ref("device_id", id)?;
    }
    crate::throttle::sign_in(&state, peer.ip(), req).await.map(Json)
}

async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<SignInResponse>, AppError> {
    auth::refresh(&state, req).await.map(Json)
}

async fn sign_out(State(state): State<AppState>, staff: Staff) -> Result<StatusCode, AppError> {
    auth::sign_out(&state, &staff).await.map(|()| StatusCode::NO_CONTENT)
}

async fn devices(State(state): State<AppState>, staff: Staff) -> Result<Json<DeviceList>, AppError> {
    auth::devices(&state, &staff).await.map(Json)
}

async fn revoke_device(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DeviceInfo>, AppError> {
    // Text no device id can be is the 404 an unknown id is, without a query.
    let id = validate::row_ref("id", &id).map_err(|_| AppError::NotFound("device".into()))?;
    auth::revoke(&state, &staff, &id).await.map(Json)
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

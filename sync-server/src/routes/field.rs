//! Staff routes for the field (issue 14): allotments of seats to devices. Bearer token of a
//! staff device, like `/sync/v1/*`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tourdesk_domain::allotment::{Allotment, IssueAllotmentRequest};
use tourdesk_domain::ipc::Manifest;

use super::{ApiJson, ApiPath, ApiQuery};
use crate::auth::Staff;
use crate::{AppError, AppState, allotments, calendar_feeds, manifests};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/allotments", post(issue_allotment))
        .route("/api/v1/allotments/{id}/release", post(release_allotment))
        .route("/api/v1/departures/{id}/allotments", get(departure_allotments))
        .route("/api/v1/departures/{id}/manifest", get(departure_manifest))
        .route("/api/v1/guides/{id}/manifest", get(guide_day_manifest))
        .route("/api/v1/calendar-feeds", post(issue_feed))
        .route("/ical/{token}", get(calendar_feed))
}

async fn issue_feed(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(req): ApiJson<calendar_feeds::FeedRequest>,
) -> Result<(StatusCode, Json<calendar_feeds::FeedCreated>), AppError> {
    calendar_feeds::issue(&state, &staff, req).await.map(|f| (StatusCode::CREATED, Json(f)))
}

/// No sign-in: the token in the path is the credential.
async fn calendar_feed(State(state): State<AppState>, ApiPath(token): ApiPath<String>) -> Result<Response, AppError> {
    let body = calendar_feeds::feed(&state, &token).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8"), (header::CACHE_CONTROL, "private, max-age=300")],
        body,
    )
        .into_response())
}

#[derive(serde::Deserialize)]
struct ManifestQuery {
    /// `csv` (default) or `pdf`.
    #[serde(default)]
    format: Option<String>,
    /// The guide's day, `YYYY-MM-DD` (local date of the departures).
    #[serde(default)]
    date: Option<String>,
}

impl ManifestQuery {
    fn format(&self) -> Result<manifests::Format, AppError> {
        manifests::Format::parse(self.format.as_deref().unwrap_or("csv"))
    }
}

fn file(format: manifests::Format, manifests: &[Manifest], name: &str) -> Response {
    let ext = match format {
        manifests::Format::Csv => "csv",
        manifests::Format::Pdf => "pdf",
    };
    (
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"manifest-{name}.{ext}\"")),
        ],
        format.render(manifests),
    )
        .into_response()
}

fn safe_name(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}

async fn departure_manifest(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ManifestQuery>,
) -> Result<Response, AppError> {
    let format = q.format()?;
    let m = manifests::of_departure(&state, &staff, &id).await?;
    Ok(file(format, &[m], &safe_name(&id)))
}

// Alike `departure_manifest` only in axum's extractor list; what it loads and names differs.
async fn guide_day_manifest(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ManifestQuery>,
) -> Result<Response, AppError> {
    let format = q.format()?;
    let date = q.date.ok_or_else(|| AppError::invalid("date", "which day: date=YYYY-MM-DD"))?;
    let all = manifests::of_guide_day(&state, &staff, &id, &date).await?;
    Ok(file(format, &all, &format!("{}-{}", safe_name(&id), safe_name(&date))))
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

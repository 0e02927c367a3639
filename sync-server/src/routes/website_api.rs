//! The public booking API (`/api/v1`): shells over `crate::website` and the Stripe webhook.
//! Each handler is annotated for the OpenAPI document served at `/api/v1/openapi.json`.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::{ApiJson, ApiPath, ApiQuery, ApiText};
use crate::website::types::*;
use crate::website::{bookings, catalog};
use crate::{AppError, AppState, payments};

/// The routes customers and booking sites call; the caller adds rate limiting.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orgs/{org}/tours", get(list_tours))
        .route("/api/v1/orgs/{org}/tours/{tour}", get(tour_detail))
        .route("/api/v1/orgs/{org}/tours/{tour}/availability", get(availability))
        .route("/api/v1/orgs/{org}/quotes", post(quote))
        .route("/api/v1/orgs/{org}/bookings", post(create_booking))
        .route("/api/v1/orgs/{org}/bookings/lookup", post(lookup_booking))
        .route("/api/v1/orgs/{org}/bookings/manage-link", post(manage_link))
        .route("/api/v1/manage/booking", get(managed_booking))
        .route("/api/v1/manage/booking/cancel", post(cancel_booking))
}

/// Stripe's webhook. Not rate-limited per address: Stripe sends from a few addresses in bursts,
/// and forgeries cost one HMAC each.
pub fn webhook_routes() -> Router<AppState> {
    Router::new().route("/api/v1/stripe/webhook", post(stripe_webhook))
}

/// The magic-link token, sent as `Authorization: Bearer <token>` (never in a URL, which ends up
/// in logs and browser history).
pub struct ManageToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ManageToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 100)
            .ok_or_else(|| AppError::Unauthorized("send the link's token as `Authorization: Bearer <token>`".into()))?;
        Ok(ManageToken(token.to_string()))
    }
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}/tours", tag = "catalog",
    params(("org" = String, Path, description = "The organization's slug", example = "demo")),
    responses((status = 200, body = [TourSummary])))]
pub async fn list_tours(
    State(s): State<AppState>,
    ApiPath(org): ApiPath<String>,
) -> Result<Json<Vec<TourSummary>>, AppError> {
    catalog::tours(&s, &org).await.map(Json)
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}/tours/{tour}", tag = "catalog",
    params(("org" = String, Path, example = "demo"), ("tour" = String, Path, description = "Slug or id")),
    responses((status = 200, body = TourDetail)))]
pub async fn tour_detail(
    State(s): State<AppState>,
    ApiPath((org, tour)): ApiPath<(String, String)>,
) -> Result<Json<TourDetail>, AppError> {
    catalog::tour(&s, &org, &tour).await.map(|t| Json(std::sync::Arc::unwrap_or_clone(t)))
}

#[utoipa::path(get, path = "/api/v1/orgs/{org}/tours/{tour}/availability", tag = "catalog",
    params(("org" = String, Path, example = "demo"), ("tour" = String, Path), AvailabilityQuery),
    responses((status = 200, body = Availability)))]
pub async fn availability(
    State(s): State<AppState>,
    ApiPath((org, tour)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<AvailabilityQuery>,
) -> Result<Json<Availability>, AppError> {
    catalog::availability(&s, &org, &tour, &q).await.map(|a| Json(std::sync::Arc::unwrap_or_clone(a)))
}

#[utoipa::path(post, path = "/api/v1/orgs/{org}/quotes", tag = "catalog",
    params(("org" = String, Path, example = "demo")), request_body = QuoteRequest,
    responses((status = 200, body = QuoteDto),
              (status = 409, body = ApiErrorDoc, description = "NOT_BOOKABLE: the tour has no prices yet")))]
pub async fn quote(
    State(s): State<AppState>,
    ApiPath(org): ApiPath<String>,
    ApiJson(req): ApiJson<QuoteRequest>,
) -> Result<Json<QuoteDto>, AppError> {
    catalog::quote(&s, &org, &req).await.map(Json)
}

#[utoipa::path(post, path = "/api/v1/orgs/{org}/bookings", tag = "bookings",
    params(("org" = String, Path)), request_body = CreateBookingRequest,
    responses((status = 201, body = BookingCreated, description = "Seats held. `payment.status` `ready`: pay with the client secret; `retry`: the payment provider is away, send the same request (same `request_id`) again after `retry_after_seconds`"),
              (status = 409, body = ApiErrorDoc, description = "CAPACITY_EXCEEDED, PRICE_CHANGED, …"),
              (status = 422, body = ApiErrorDoc), (status = 503, body = ApiErrorDoc)))]
pub async fn create_booking(
    State(s): State<AppState>,
    ApiPath(org): ApiPath<String>,
    ApiJson(req): ApiJson<CreateBookingRequest>,
) -> Result<(StatusCode, Json<BookingCreated>), AppError> {
    bookings::create(&s, &org, req).await.map(|b| (StatusCode::CREATED, Json(b)))
}

#[utoipa::path(post, path = "/api/v1/orgs/{org}/bookings/lookup", tag = "bookings",
    params(("org" = String, Path, example = "demo")), request_body = LookupRequest,
    responses((status = 200, body = BookingDto)))]
pub async fn lookup_booking(
    State(s): State<AppState>,
    ApiPath(org): ApiPath<String>,
    ApiJson(req): ApiJson<LookupRequest>,
) -> Result<Json<BookingDto>, AppError> {
    bookings::lookup(&s, &org, &req).await.map(Json)
}

#[utoipa::path(post, path = "/api/v1/orgs/{org}/bookings/manage-link", tag = "bookings",
    params(("org" = String, Path, example = "demo")), request_body = LookupRequest,
    responses((status = 202, body = Accepted, description = "The same answer whether or not the booking exists")))]
pub async fn manage_link(
    State(s): State<AppState>,
    ApiPath(org): ApiPath<String>,
    ApiJson(req): ApiJson<LookupRequest>,
) -> Result<(StatusCode, Json<Accepted>), AppError> {
    bookings::request_magic_link(&s, &org, &req).await.map(|a| (StatusCode::ACCEPTED, Json(a)))
}

#[utoipa::path(get, path = "/api/v1/manage/booking", tag = "bookings",
    security(("magic_link" = [])),
    responses((status = 200, body = BookingDto),
              (status = 401, body = ApiErrorDoc, description = "The link's token is missing, expired or used")))]
pub async fn managed_booking(
    State(s): State<AppState>,
    ManageToken(t): ManageToken,
) -> Result<Json<BookingDto>, AppError> {
    bookings::managed(&s, &t).await.map(Json)
}

#[utoipa::path(post, path = "/api/v1/manage/booking/cancel", tag = "bookings",
    security(("magic_link" = [])), request_body = CancelRequest,
    responses((status = 200, body = BookingDto, description = "Cancelled; `cancellation.refund` is what goes back"),
              (status = 401, body = ApiErrorDoc, description = "The link's token is missing, expired or used"),
              (status = 409, body = ApiErrorDoc, description = "The booking can no longer be cancelled")))]
pub async fn cancel_booking(
    State(s): State<AppState>,
    ManageToken(t): ManageToken,
    ApiJson(req): ApiJson<CancelRequest>,
) -> Result<Json<BookingDto>, AppError> {
    bookings::cancel(&s, &t, &req).await.map(Json)
}

#[utoipa::path(post, path = "/api/v1/stripe/webhook", tag = "payments",
    request_body(content = String, description = "The event exactly as Stripe sent it", content_type = "application/json"),
    params(("Stripe-Signature" = String, Header)),
    responses((status = 200, description = "Recorded (or already recorded): applied, or kept with the reason it could not be (another currency, an unknown payment) for people to see"),
              (status = 400, body = ApiErrorDoc, description = "Not signed by Stripe"),
              (status = 503, body = ApiErrorDoc, description = "The database is away; nothing was recorded, Stripe's retry applies it")))]
pub async fn stripe_webhook(
    State(s): State<AppState>,
    headers: HeaderMap,
    ApiText(body): ApiText,
) -> Result<StatusCode, AppError> {
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok()).unwrap_or_default();
    payments::webhooks::handle(&s, &body, signature).await.map(|()| StatusCode::OK)
}

/// The error body every 4xx/5xx carries (`protocol::ApiError`), as documented.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ApiErrorDoc {
    /// Stable machine code: INVALID, NOT_FOUND, CAPACITY_EXCEEDED, RATE_LIMITED, …
    code: String,
    message: String,
    /// The request field at fault, e.g. `customer.email` or `lines[0].quantity`.
    field: Option<String>,
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Tourdesk public API", version = "1", description = "Tours, availability, quotes and bookings of a tour operator. Money is integer minor units with its ISO 4217 currency; times are UTC instants plus the departure's local date, time and IANA zone."),
    paths(list_tours, tour_detail, availability, quote, create_booking, lookup_booking, manage_link, managed_booking,
          cancel_booking, stripe_webhook),
    components(schemas(ApiErrorDoc)),
    modifiers(&MagicLinkAuth, &ErrorAnswers),
)]
pub struct ApiDoc;

/// Adds to every operation the error answers its kind of route can give, so the document lists
/// each status a client (or a schema-driven fuzzer) can see: a body can be malformed (400), too
/// large (413), of another media type (415) or invalid (422); a query can be invalid (422); a
/// customer-facing route can name no organization or thing (404) and be rate-limited (429);
/// any route can find the database away (503, with `Retry-After`). Statuses a route's own rules
/// give (401, 409, …) are in its annotation.
struct ErrorAnswers;

impl utoipa::Modify for ErrorAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{RefOr, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new().description(description).content(
                "application/json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("ApiErrorDoc")))
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let webhook = path.as_str() == "/api/v1/stripe/webhook";
            for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                let body = op.request_body.is_some();
                let query = op
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == ParameterIn::Query));
                let mut answers: Vec<(&str, &str)> = Vec::new();
                if body {
                    answers.push(("400", "MALFORMED_JSON: the body is not JSON (or not UTF-8)"));
                    answers.push(("413", "BODY_TOO_LARGE"));
                    if !webhook {
                        answers.push(("415", "UNSUPPORTED_MEDIA_TYPE: send `Content-Type: application/json`"));
                        answers.push(("422", "INVALID: `field` names the request field at fault"));
                    }
                }
                if query {
                    answers.push(("422", "INVALID: `field` names the query parameter at fault"));
                }
                if !webhook {
                    answers.push(("404", "NOT_FOUND: no such organization, or no such thing in it"));
                    answers.push(("429", "RATE_LIMITED: too many requests from this address"));
                }
                for (status, description) in answers {
                    op.responses.responses.entry(status.into()).or_insert_with(|| error(description).build().into());
                }
                op.responses.responses.entry("503".into()).or_insert_with(|| {
                    let retry_after = utoipa::openapi::HeaderBuilder::new()
                        .schema(Some(
                            utoipa::openapi::ObjectBuilder::new()
                                .schema_type(utoipa::openapi::schema::Type::Integer)
                                .minimum(Some(0)),
                        ))
                        .description(Some("Seconds to wait before retrying"))
                        .build();
                    error("UNAVAILABLE: the database is away for a moment; retry after `Retry-After` seconds")
                        .header("Retry-After", retry_after)
                        .build()
                        .into()
                });
            }
        }
    }
}

struct MagicLinkAuth;

impl utoipa::Modify for MagicLinkAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "magic_link",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The token of a manage-booking link"))
                    .build(),
            ),
        );
    }
}

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(<ApiDoc as utoipa::OpenApi>::openapi())
}

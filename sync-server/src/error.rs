//! The server's one error type, mapped once to an HTTP status and an [`ApiError`] body.
//! 4xx answers say what was wrong and where; 5xx answers are logged in full and say nothing
//! of the internals.
//!
//! Every failure that is not the caller's becomes an answer in one place: the `db` helpers'
//! [`DbError`] (which carries the PostgreSQL or pool error inside) through `From<DbError>`, and
//! anything else through [`AppError::fault`]: a 503 with `Retry-After` when a retry can fix it
//! ([`DbError::is_transient`], [`is_transient`] for an `anyhow` chain), else a 500. So one outage
//! is one answer on every route, whatever code it went through.
//!
//! Words: a mutation the domain decides against is *rejected* ([`Rejection`], mapped here by
//! [`AppError::from_rejection`]); a request turned away before any mutation (a bad token, a
//! payment the provider declines, input that cannot be read) is *refused*.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tourdesk_domain::mutation::Rejection;
use tourdesk_domain::protocol::ApiError;

use crate::apply::Failure;
use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    BadRequest { status: StatusCode, code: &'static str, message: String, field: Option<String> },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Too many attempts (failed sign-ins): 429 with `Retry-After` in whole seconds.
    #[error("{message}")]
    RateLimited { retry_after: std::time::Duration, message: String },
    #[error(transparent)]
    Internal(anyhow::Error),
}

/// How long a client is told to wait before retrying a 503 (`Retry-After`, seconds): a lost
/// connection is replaced, a deadlock resolved or a restarted database back within about that.
pub const RETRY_AFTER_SECONDS: u32 = 2;

/// Whether a failure is one a retry can fix: a lost or refused connection (SQLSTATE class 08, a
/// closed client, an I/O error underneath), operator intervention (57: a terminated backend, a
/// shutting-down server), a rolled-back transaction (40: serialization failure, deadlock),
/// insufficient resources (53), a system error (58), or a pool that could not hand out a
/// connection. The one rule for both edges: the push loop (`apply::classify`) stops a batch on
/// these instead of rejecting a mutation, and HTTP answers 503 with `Retry-After`.
pub fn is_transient(e: &anyhow::Error) -> bool {
    e.chain().any(transient_cause)
}

/// [`is_transient`] for one error of the chain.
fn transient_cause(e: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(db) = e.downcast_ref::<DbError>() {
        return db.is_transient();
    }
    if let Some(pg) = e.downcast_ref::<tokio_postgres::Error>() {
        return pg_is_transient(pg);
    }
    e.is::<deadpool_postgres::PoolError>() || e.is::<std::io::Error>()
}

/// [`is_transient`] for a PostgreSQL client error.
pub fn pg_is_transient(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => matches!(code.code().get(..2), Some("08" | "40" | "53" | "57" | "58")),
        // No SQLSTATE: the socket failed (transient), or a value did not convert (a bug).
        None => std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()),
    }
}

/// The database layer's failures, mapped once: what a retry can fix ([`DbError::is_transient`]:
/// a lost connection, a rolled-back transaction, an exhausted pool) is a 503 with
/// `Retry-After`; a corrupt row, an id collision or a failed statement is a 500, logged in full.
impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        if e.is_transient() { AppError::Unavailable(e.detail()) } else { AppError::Internal(e.into()) }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::fault(e)
    }
}

impl AppError {
    /// The one mapping of a failure that is not the caller's: 503 when a retry can succeed
    /// (nothing was committed), else 500.
    pub fn fault(e: anyhow::Error) -> Self {
        if is_transient(&e) { AppError::Unavailable(format!("{e:#}")) } else { AppError::Internal(e) }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "INVALID",
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// A 401 whose code tells the client what to do next: refresh (`TOKEN_EXPIRED`), or sign in
    /// with the password (`TOKEN_REVOKED`, `TOKEN_REUSED`, `UNAUTHORIZED`).
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        AppError::BadRequest { status: StatusCode::UNAUTHORIZED, code, message: message.into(), field: None }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::BadRequest { status: StatusCode::CONFLICT, code, message: message.into(), field: None }
    }
}

impl AppError {
    /// A mutation that did not apply, as an HTTP answer: a rejection says what the domain
    /// decided ([`AppError::from_rejection`]); a transient failure is a 503, retried as is.
    pub fn from_failure(f: Failure, prefix: &str) -> Self {
        match f {
            Failure::Rejected(r) => AppError::from_rejection(r, prefix),
            Failure::Transient(why) => AppError::Unavailable(why),
        }
    }

    /// A rejected mutation as the HTTP APIs report it: the domain's code, a sentence, and the
    /// request field at fault (`prefix`ed where the domain's field lives inside a request object).
    pub fn from_rejection(r: Rejection, prefix: &str) -> Self {
        let code = r.code();
        let message = r.to_string();
        let (status, field) = match &r {
            Rejection::Invalid(f) => (StatusCode::UNPROCESSABLE_ENTITY, Some(format!("{prefix}{}", f.field))),
            Rejection::Conflict { field, .. } => (StatusCode::CONFLICT, Some(format!("{prefix}{field}"))),
            Rejection::NotFound { entity, .. } => return AppError::NotFound(entity.clone()),
            Rejection::NotAuthorized { .. } => return AppError::Forbidden(message),
            Rejection::PromoRefused { .. } => (StatusCode::UNPROCESSABLE_ENTITY, Some("promo_code".into())),
            Rejection::PricingError { .. } => (StatusCode::UNPROCESSABLE_ENTITY, Some("lines".into())),
            Rejection::PriceChanged { .. } => (StatusCode::CONFLICT, Some("expected_total_minor".into())),
            Rejection::CapacityExceeded { .. } | Rejection::DepartureNotBookable { .. } => {
                (StatusCode::CONFLICT, Some("departure_id".into()))
            }
            _ => (StatusCode::CONFLICT, None),
        };
        AppError::BadRequest { status, code, message, field }
    }
}

impl From<tourdesk_domain::validate::FieldError> for AppError {
    fn from(e: tourdesk_domain::validate::FieldError) -> Self {
        AppError::invalid(e.field, e.message)
    }
}

impl From<tokio_postgres::Error> for AppError {
    fn from(e: tokio_postgres::Error) -> Self {
        DbError::from(e).into()
    }
}

impl From<deadpool_postgres::PoolError> for AppError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        DbError::from(e).into()
    }
}

/// A wait in whole seconds, rounded up, as `Retry-After` and messages state it.
pub fn whole_seconds(d: std::time::Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            AppError::BadRequest { status, code, message, field } => {
                (status, ApiError { code: code.into(), message, field })
            }
            AppError::Unauthorized(message) => {
                (StatusCode::UNAUTHORIZED, ApiError { code: "UNAUTHORIZED".into(), message, field: None })
            }
            AppError::Forbidden(message) => {
                (StatusCode::FORBIDDEN, ApiError { code: "FORBIDDEN".into(), message, field: None })
            }
            AppError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                ApiError { code: "NOT_FOUND".into(), message: format!("{what} not found"), field: None },
            ),
            AppError::Unavailable(detail) => {
                tracing::warn!("database unavailable: {detail}");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    ApiError {
                        code: "UNAVAILABLE".into(),
                        message: "the service is temporarily unavailable; retry shortly".into(),
                        field: None,
                    },
                )
            }
            AppError::RateLimited { retry_after, message } => {
                let secs = whole_seconds(retry_after);
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(ApiError { code: "RATE_LIMITED".into(), message, field: None }),
                )
                    .into_response();
                response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
                return response;
            }
            AppError::Internal(e) => {
                tracing::error!("internal error: {e:#}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ApiError { code: "INTERNAL".into(), message: "internal error".into(), field: None },
                )
            }
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, RETRY_AFTER_SECONDS.into());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tourdesk_domain::validate::FieldError;

    fn status(e: AppError) -> StatusCode {
        e.into_response().status()
    }

    #[test]
    fn a_fault_is_503_when_a_retry_can_fix_it_whatever_wrapped_it_else_500() {
        let pool = deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Wait);
        assert!(matches!(AppError::from(pool), AppError::Unavailable(_)));
        let io = anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset)).context("a db helper");
        assert!(matches!(AppError::from(io), AppError::Unavailable(_)));
        let bug = anyhow::anyhow!("stored status \"teleported\" is not valid");
        assert!(matches!(AppError::from(bug), AppError::Internal(_)));
        let unavailable =
            AppError::fault(anyhow::Error::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe))).into_response();
        assert_eq!(unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(unavailable.headers().contains_key(axum::http::header::RETRY_AFTER));
    }

    /// The status and `code` of an answer, as a client reads them.
    async fn answer(e: AppError) -> (StatusCode, String, bool) {
        let response = e.into_response();
        let retry = response.headers().contains_key(axum::http::header::RETRY_AFTER);
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        let body: ApiError = serde_json::from_slice(&body).unwrap();
        (status, body.code, retry)
    }

    #[tokio::test]
    async fn db_errors_map_once_a_lost_pool_to_503_a_corrupt_row_or_taken_id_to_500() {
        let pool = DbError::Pool(deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Wait));
        assert_eq!(answer(pool.into()).await, (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE".into(), true));
        let corrupt = DbError::bad_value("booking status", "teleported");
        assert!(matches!(AppError::from(corrupt), AppError::Internal(_)), "a corrupt row is logged as a fault");
        let corrupt = DbError::bad_value("booking status", "teleported");
        assert_eq!(answer(corrupt.into()).await, (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL".into(), false));
        let taken = DbError::IdTaken("t-1".into());
        assert_eq!(answer(taken.into()).await, (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL".into(), false));
        // Carried through `anyhow` (a job, a helper that mixes in other errors): the same answer.
        let wrapped = anyhow::Error::from(DbError::Pool(deadpool_postgres::PoolError::Closed)).context("a job");
        assert_eq!(
            answer(AppError::fault(wrapped)).await,
            (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE".into(), true)
        );
        let wrapped = anyhow::Error::from(DbError::Corrupt("bad".into())).context("a job");
        assert!(matches!(AppError::fault(wrapped), AppError::Internal(_)));
    }

    #[test]
    fn rejections_map_to_a_status_and_the_request_field_at_fault() {
        let invalid = Rejection::Invalid(FieldError::new("email", "not an e-mail address"));
        match AppError::from_rejection(invalid, "customer.") {
            AppError::BadRequest { status, code, field, .. } => {
                assert_eq!(
                    (status, code, field.as_deref()),
                    (StatusCode::UNPROCESSABLE_ENTITY, "INVALID", Some("customer.email"))
                );
            }
            other => panic!("{other:?}"),
        }
        let full = Rejection::CapacityExceeded { requested: 3, seats_left: 1 };
        match AppError::from_failure(Failure::Rejected(full), "") {
            AppError::BadRequest { status, field, .. } => {
                assert_eq!((status, field.as_deref()), (StatusCode::CONFLICT, Some("departure_id")));
            }
            other => panic!("{other:?}"),
        }
        let gone = Rejection::NotFound { entity: "booking".into(), id: "b-1".into() };
        assert_eq!(status(AppError::from_rejection(gone, "")), StatusCode::NOT_FOUND);
        assert_eq!(
            status(AppError::from_failure(Failure::Transient("deadlock".into()), "")),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}

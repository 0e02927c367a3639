//! The server's one error type, mapped once to an HTTP status and an [`ApiError`] body.
//! 4xx answers say what was wrong and where; 5xx answers are logged in full and say nothing
//! of the internals.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tourdesk_domain::protocol::ApiError;

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
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
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

impl From<tourdesk_domain::validate::FieldError> for AppError {
    fn from(e: tourdesk_domain::validate::FieldError) -> Self {
        AppError::invalid(e.field, e.message)
    }
}

impl From<tokio_postgres::Error> for AppError {
    fn from(e: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        let retryable = e
            .code()
            .is_some_and(|c| *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED);
        if e.is_closed() || e.as_db_error().is_none() || retryable {
            // 503: the client retries; nothing was committed.
            AppError::Unavailable(e.to_string())
        } else {
            AppError::Internal(e.into())
        }
    }
}

impl From<deadpool_postgres::PoolError> for AppError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        AppError::Unavailable(e.to_string())
    }
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
            AppError::Internal(e) => {
                tracing::error!("internal error: {e:#}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ApiError { code: "INTERNAL".into(), message: "internal error".into(), field: None },
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

//! Extractors whose rejections speak our error format — a stable code, a readable message and,
//! for a wrong field, the request's own path to it — and the net that turns any other error
//! answer (one axum makes itself: a 405, a body it could not read) into the same JSON.

use axum::body::Body;
use axum::extract::rejection::{JsonRejection, PathRejection, StringRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use tourdesk_domain::protocol::ApiError;

use crate::AppError;

/// `axum::Json`, with its rejections as [`AppError`]s.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> AppError {
    let status = r.status();
    let text = r.body_text();
    let (code, field) = match &r {
        JsonRejection::JsonDataError(_) => ("INVALID", field_of(&text)),
        JsonRejection::JsonSyntaxError(_) => ("MALFORMED_JSON", None),
        JsonRejection::MissingJsonContentType(_) => ("UNSUPPORTED_MEDIA_TYPE", None),
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => ("BODY_TOO_LARGE", None),
        _ => ("BAD_REQUEST", None),
    };
    AppError::BadRequest { status, code, message: text, field }
}

/// Query strings, with their errors mapped like bodies' (422 with the parameter at fault).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(e) => {
                let message = e.body_text();
                let field = field_of(&message).or_else(|| Some("query".into()));
                Err(AppError::BadRequest { status: StatusCode::UNPROCESSABLE_ENTITY, code: "INVALID", message, field })
            }
        }
    }
}

/// Path parameters. Ours are all names of things (an organization's slug, a tour, a device): a
/// segment that does not even decode (percent-encoded bytes that are not UTF-8) names nothing,
/// so it is the 404 an unknown name is.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let field = match e.kind() {
                    axum::extract::path::ErrorKind::InvalidUtf8InPathParam { key } => Some(key.clone()),
                    axum::extract::path::ErrorKind::ParseErrorAtKey { key, .. }
                    | axum::extract::path::ErrorKind::DeserializeError { key, .. } => Some(key.clone()),
                    _ => None,
                };
                Err(AppError::BadRequest {
                    status: StatusCode::NOT_FOUND,
                    code: "NOT_FOUND",
                    message: e.body_text(),
                    field,
                })
            }
            // A route declared without the parameters its handler takes: our bug.
            Err(other) => Err(AppError::Internal(anyhow::anyhow!("path parameters: {}", other.body_text()))),
        }
    }
}

/// A body taken as text (the Stripe webhook's, whose signature covers the exact bytes).
pub struct ApiText(pub String);

impl<S: Send + Sync> FromRequest<S> for ApiText {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match String::from_request(req, state).await {
            Ok(s) => Ok(ApiText(s)),
            Err(r) => {
                let status = r.status();
                let code = match &r {
                    StringRejection::InvalidUtf8(_) => "MALFORMED_BODY",
                    _ if status == StatusCode::PAYLOAD_TOO_LARGE => "BODY_TOO_LARGE",
                    _ => "BAD_REQUEST",
                };
                Err(AppError::BadRequest { status, code, message: r.body_text(), field: None })
            }
        }
    }
}

/// Answers no route has: 404 for an unknown path (the router's fallback).
pub async fn no_route() -> AppError {
    AppError::NotFound("route".into())
}

/// 405 for a method a known path does not take (axum adds the `Allow` header).
pub async fn no_method() -> AppError {
    AppError::BadRequest {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "METHOD_NOT_ALLOWED",
        message: "this path does not take that method; `Allow` lists the ones it does".into(),
        field: None,
    }
}

/// The net under every route: an error answer that is not already our JSON (one a layer or axum
/// itself made) becomes `{code, message, field}` with the same status and headers. 5xx texts are
/// not passed on; they may hold internals.
pub async fn json_errors(res: Response) -> Response {
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    // The website's pages (`crate::web`) are HTML, errors included: they pass as they are.
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let code = match status {
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::PAYLOAD_TOO_LARGE => "BODY_TOO_LARGE",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
        StatusCode::TOO_MANY_REQUESTS => "RATE_LIMITED",
        StatusCode::UNAUTHORIZED => "UNAUTHORIZED",
        StatusCode::FORBIDDEN => "FORBIDDEN",
        StatusCode::SERVICE_UNAVAILABLE => "UNAVAILABLE",
        s if s.is_server_error() => "INTERNAL",
        _ => "BAD_REQUEST",
    };
    if status.is_server_error() && !text.is_empty() {
        tracing::error!(%status, "error answer from below the handlers: {text}");
    }
    let message = if status.is_server_error() || text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    let body = serde_json::to_vec(&ApiError { code: code.into(), message, field: None }).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body)).into_response()
}

/// The request field an axum rejection is about. serde (through `serde_path_to_error`) reports
/// "<what failed>: <path>: <message>" or, at the top level, "<what failed>: <message>"; a field
/// that is missing, repeated or unknown is named only in the message ("missing field `email`"),
/// qualified here by the path of the object it belongs in.
fn field_of(text: &str) -> Option<String> {
    let after = text.split_once(": ")?.1;
    let (path, message) = match after.split_once(": ") {
        Some((path, message)) if !path.contains(' ') && path != "." => (Some(path), message),
        _ => (None, after),
    };
    let named = ["missing field `", "duplicate field `", "unknown field `"]
        .iter()
        .find_map(|p| message.split_once(p))
        .and_then(|(_, rest)| rest.split_once('`'))
        .map(|(name, _)| name);
    match (path, named) {
        (Some(path), Some(name)) if path != name && !path.ends_with(&format!(".{name}")) => {
            Some(format!("{path}.{name}"))
        }
        (Some(path), _) => Some(path.to_string()),
        (None, Some(name)) => Some(name.to_string()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_are_extracted() {
        let data = "Failed to deserialize the JSON body into the target type";
        for (text, want) in [
            (
                format!("{data}: mutations[0].id: invalid type: string \"x\", expected u64 at line 1 column 9"),
                Some("mutations[0].id"),
            ),
            (format!("{data}: missing field `reference` at line 1 column 20"), Some("reference")),
            (format!("{data}: customer: missing field `email` at line 1 column 90"), Some("customer.email")),
            (format!("{data}: lines[0]: missing field `tier_id` at line 1 column 40"), Some("lines[0].tier_id")),
            (format!("{data}: duplicate field `email` at line 1 column 60"), Some("email")),
            (format!("{data}: email: duplicate field `email` at line 1 column 60"), Some("email")),
            (format!("{data}: customer.email: duplicate field `email` at line 1 column 60"), Some("customer.email")),
            (
                format!("{data}: surprise: unknown field `surprise`, expected one of `a`, `b` at line 1 column 9"),
                Some("surprise"),
            ),
            (format!("{data}: invalid type: sequence, expected struct LookupRequest at line 1 column 1"), None),
            ("Failed to deserialize query string: missing field `from`".to_string(), Some("from")),
            ("Failed to deserialize query string: to: input contains invalid characters".to_string(), Some("to")),
            ("Failed to parse the request body as JSON: EOF while parsing at line 1 column 0".to_string(), None),
        ] {
            assert_eq!(field_of(&text).as_deref(), want, "{text}");
        }
    }
}

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::AppError;

/// `axum::Json`, but its rejections speak our error format: a stable code, a readable message
/// and, for a wrong field, the path to it.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(map_rejection(rejection)),
        }
    }
}

fn map_rejection(r: JsonRejection) -> AppError {
    let status = r.status();
    let (code, field) = match &r {
        JsonRejection::JsonDataError(_) => ("INVALID", field_of(&r.body_text())),
        JsonRejection::JsonSyntaxError(_) => ("MALFORMED_JSON", None),
        JsonRejection::MissingJsonContentType(_) => ("UNSUPPORTED_MEDIA_TYPE", None),
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => ("BODY_TOO_LARGE", None),
        _ => ("BAD_REQUEST", None),
    };
    AppError::BadRequest { status, code, message: r.body_text(), field }
}

/// serde_json reports "…: mutations[0].id: invalid type …"; pull out the path.
fn field_of(text: &str) -> Option<String> {
    let after = text.split_once(": ")?.1;
    let (path, _) = after.split_once(": ")?;
    (!path.contains(' ')).then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_are_extracted() {
        assert_eq!(
            field_of(
                "Failed to deserialize the JSON body into the target type: mutations[0].id: invalid type: string \"x\", expected u64 at line 1 column 9"
            ),
            Some("mutations[0].id".into())
        );
        assert_eq!(field_of("Failed to parse the request body as JSON: EOF"), None);
    }
}

//! Twilio's status callback for booking texts: `POST /api/v1/twilio/status/{org}`, form-encoded,
//! signed with `X-Twilio-Signature` (`sms::verify`, over the URL Twilio was given and every
//! parameter). A bad or missing signature is a 403 that changes nothing; a good one marks the
//! text named by `MessageSid` delivered, or failed with Twilio's error code.

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

use super::ApiPath;
use crate::db::{self, Prepared};
use crate::{AppError, AppState, sms};

pub fn routes() -> Router<AppState> {
    Router::new().route(&format!("{}/{{org}}", sms::STATUS_PATH), post(status))
}

async fn status(
    axum::extract::State(state): axum::extract::State<AppState>,
    ApiPath(org): ApiPath<String>,
    headers: HeaderMap,
    body: String,
) -> Result<StatusCode, AppError> {
    let params: Vec<(String, String)> =
        form_urlencoded::parse(body.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let url = sms::status_callback_url(&state.config.mail.public_base_url, &org);
    let given = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !sms::verify(&state.config.sms.auth_token, &url, &params, given) {
        return Err(AppError::Forbidden("the request is not signed by Twilio".into()));
    }
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let (Some(sid), Some(message_status)) = (get("MessageSid"), get("MessageStatus")) else {
        return Err(AppError::invalid("MessageSid", "a status callback names the message and its status"));
    };
    let (new_status, reason) = match message_status {
        "delivered" => ("delivered", None),
        "failed" | "undelivered" => {
            ("failed", Some(format!("Twilio: {message_status} (error {})", get("ErrorCode").unwrap_or("none"))))
        }
        // queued, sending, sent: nothing the log does not already say.
        _ => return Ok(StatusCode::NO_CONTENT),
    };
    let mut conn = state.pool.get().await?;
    let tx = db::write_in(&mut conn, &org).await?;
    let changed = tx
        .rows(
            "UPDATE communications SET status = $3,
                 delivered_at = CASE WHEN $3 = 'delivered' THEN now() ELSE delivered_at END,
                 failure_reason = coalesce($4, failure_reason)
             WHERE organization_id = $1 AND channel = 'sms' AND external_id = $2 AND status <> 'delivered'
             RETURNING id",
            &[&org, &sid, &new_status, &reason],
        )
        .await?;
    let ids = changed.iter().map(|r| r.try_get(0)).collect::<Result<Vec<String>, _>>()?;
    // Desks show the text's delivery on the booking's timeline.
    db::append_communications(&tx, &org, &ids).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

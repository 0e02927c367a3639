//! HTTP shells of the account API (`crate::accounts`), and the one small page a staff link
//! opens in a browser to set a password.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use tourdesk_domain::accounts::{
    InviteRequest, MfaEnrolment, MfaRequest, OrganizationChange, OrganizationSettings, PasswordResetRequest,
    RecoveryCodes, SetPasswordRequest, StaffChange, StaffList, StaffMember,
};
use tourdesk_domain::validate;

use super::{ApiJson, ApiPath, ApiQuery};
use crate::auth::Staff;
use crate::{AppError, AppState, accounts};

/// Routes a signed-in member uses.
pub fn staff_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/organization", get(organization).patch(update_organization))
        .route("/api/v1/staff", get(list))
        .route("/api/v1/staff/invites", post(invite))
        .route("/api/v1/staff/{id}", patch(update))
        .route("/api/v1/staff/{id}/invite", post(reinvite))
        .route("/api/v1/auth/mfa/enrol", post(mfa_enrol))
        .route("/api/v1/auth/mfa/confirm", post(mfa_confirm))
        .route("/api/v1/auth/mfa/disable", post(mfa_disable))
}

/// Routes anyone can call (rate-limited per address by the caller).
pub fn link_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/password-reset", post(password_reset))
        .route("/api/v1/auth/set-password", post(set_password))
        .route("/staff/set-password", get(set_password_page).post(set_password_form))
}

fn member_id(id: &str) -> Result<String, AppError> {
    // Text no member id can be is the 404 an unknown id is, without a query.
    validate::row_ref("id", id).map_err(|_| AppError::NotFound("staff member".into()))
}

async fn organization(State(state): State<AppState>, staff: Staff) -> Result<Json<OrganizationSettings>, AppError> {
    accounts::organization(&state, &staff).await.map(Json)
}

async fn update_organization(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(change): ApiJson<OrganizationChange>,
) -> Result<Json<OrganizationSettings>, AppError> {
    accounts::update_organization(&state, &staff, &change).await.map(Json)
}

async fn list(State(state): State<AppState>, staff: Staff) -> Result<Json<StaffList>, AppError> {
    accounts::list(&state, &staff).await.map(Json)
}

async fn invite(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(req): ApiJson<InviteRequest>,
) -> Result<(StatusCode, Json<StaffMember>), AppError> {
    accounts::invite(&state, &staff, &req).await.map(|m| (StatusCode::CREATED, Json(m)))
}

async fn reinvite(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<StaffMember>), AppError> {
    accounts::reinvite(&state, &staff, &member_id(&id)?).await.map(|m| (StatusCode::ACCEPTED, Json(m)))
}

async fn update(
    State(state): State<AppState>,
    staff: Staff,
    ApiPath(id): ApiPath<String>,
    ApiJson(change): ApiJson<StaffChange>,
) -> Result<Json<StaffMember>, AppError> {
    accounts::update(&state, &staff, &member_id(&id)?, &change).await.map(Json)
}

async fn mfa_enrol(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(req): ApiJson<MfaRequest>,
) -> Result<Json<MfaEnrolment>, AppError> {
    accounts::mfa_enrol(&state, &staff, &req).await.map(Json)
}

async fn mfa_confirm(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(req): ApiJson<MfaRequest>,
) -> Result<Json<RecoveryCodes>, AppError> {
    accounts::mfa_confirm(&state, &staff, &req).await.map(Json)
}

async fn mfa_disable(
    State(state): State<AppState>,
    staff: Staff,
    ApiJson(req): ApiJson<MfaRequest>,
) -> Result<StatusCode, AppError> {
    accounts::mfa_disable(&state, &staff, &req).await.map(|()| StatusCode::NO_CONTENT)
}

async fn password_reset(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<PasswordResetRequest>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    accounts::request_password_reset(&state, &req).await?;
    let message = "if the account exists, a link to choose a new password is on its way";
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "message": message }))))
}

async fn set_password(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SetPasswordRequest>,
) -> Result<StatusCode, AppError> {
    accounts::set_password(&state, &req).await.map(|()| StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

async fn set_password_page(ApiQuery(q): ApiQuery<TokenQuery>) -> Html<String> {
    Html(page(&q.token, None))
}

#[derive(Deserialize)]
struct SetPasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// The form's answer is a page, never a JSON error: a person is looking at it.
async fn set_password_form(
    State(state): State<AppState>,
    form: Result<Form<SetPasswordForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return (StatusCode::BAD_REQUEST, Html(page("", Some("The form could not be read; open the link again."))))
            .into_response();
    };
    if f.password != f.confirm {
        return (StatusCode::UNPROCESSABLE_ENTITY, Html(page(&f.token, Some("The two passwords are not the same."))))
            .into_response();
    }
    let req = SetPasswordRequest { token: f.token.clone(), password: f.password };
    match accounts::set_password(&state, &req).await {
        Ok(()) => Html(done_page()).into_response(),
        Err(e) => {
            let text = e.to_string();
            // The JSON answer is dropped, but making it logs a server-side failure as usual.
            let status = e.into_response().status();
            let message = if status.is_server_error() {
                "Something went wrong on our side; try again in a minute.".to_string()
            } else {
                sentence(&text)
            };
            // A used or unknown link cannot be retried with the same form.
            let token = if status == StatusCode::UNAUTHORIZED { "" } else { f.token.as_str() };
            (status, Html(page(token, Some(&message)))).into_response()
        }
    }
}

fn sentence(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), c.as_str().trim_end_matches('.')),
        None => String::new(),
    }
}

/// Escapes text for HTML element content and double-quoted attributes.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem;color:#1f2933}\
h1{font-size:1.4rem}label{display:block;margin-top:1rem;font-weight:600}input{width:100%;padding:.5rem;font:inherit;\
box-sizing:border-box;border:1px solid #9aa5b1;border-radius:4px}button{margin-top:1.5rem;padding:.6rem 1.2rem;font:inherit;\
background:#1d4ed8;color:#fff;border:0;border-radius:4px}.error{background:#fde8e8;color:#7f1d1d;padding:.75rem;border-radius:4px}";

fn page(token: &str, error: Option<&str>) -> String {
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e))).unwrap_or_default();
    let form = if token.is_empty() {
        "<p>This link cannot be used. Ask your organization's owner or admin for a new invitation, or ask \
         for a new password-reset e-mail from the Tourdesk app.</p>"
            .to_string()
    } else {
        format!(
            "<form method=\"post\" action=\"/staff/set-password\">\
             <input type=\"hidden\" name=\"token\" value=\"{}\">\
             <label for=\"password\">New password (at least 10 characters)</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"10\" required autofocus>\
             <label for=\"confirm\">The same password again</label>\
             <input id=\"confirm\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" minlength=\"10\" required>\
             <button type=\"submit\">Set password</button></form>",
            esc(token)
        )
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><meta name=\"referrer\" content=\"no-referrer\">\
         <title>Choose your password · Tourdesk</title><style>{STYLE}</style></head><body>\
         <h1>Choose your Tourdesk password</h1>{error}{form}</body></html>"
    )
}

fn done_page() -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>Password set · Tourdesk</title><style>{STYLE}</style>\
         </head><body><h1>Your password is set</h1><p>Open the Tourdesk app and sign in with your e-mail \
         address and the new password.</p></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_what_they_echo() {
        let p = page("a\"><script>x</script>", Some("<b>bad</b>"));
        assert!(!p.contains("<script>x"), "{p}");
        assert!(p.contains("&lt;b&gt;bad&lt;/b&gt;"));
        assert!(p.contains("value=\"a&quot;&gt;&lt;script&gt;"));
        assert!(page("", None).contains("cannot be used"));
        assert_eq!(sentence("that is not right"), "That is not right.");
    }
}

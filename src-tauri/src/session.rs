//! Signing in and out through the window. The password goes to the server in one request and
//! is kept nowhere; what the server issues (device, refresh token) is the store's.

use tourdesk_domain::ipc::{SignInInput, SignedInAs, SignedOut};
use tourdesk_domain::validate;
use tourdesk_local_store::{SignIn, SyncError};

use crate::Desk;
use crate::error::{DeskError, DeskResult};

/// Checks the form, signs in at its server, and lets the sync loop take it from there.
pub async fn sign_in(desk: &Desk, input: SignInInput) -> DeskResult<SignedInAs> {
    let server_url = check_form(&input)?;
    let form = SignIn {
        organization: input.organization.trim().to_ascii_lowercase(),
        email: input.email.trim().to_string(),
        password: input.password,
        otp: input.otp.map(|o| o.trim().to_string()).filter(|o| !o.is_empty()),
    };
    let session = desk.sync.sign_in(&desk.store, &server_url, &form).await.map_err(|e| refused(e, &server_url))?;
    Ok(SignedInAs { name: session.user_name, role: session.role, organization_name: session.organization_name })
}

/// Signs out (see `SyncLoop::sign_out`).
pub async fn sign_out(desk: &Desk, discard_pending: bool, local_only: bool) -> DeskResult<SignedOut> {
    desk.sync.sign_out(&desk.store, discard_pending, local_only).await
}

fn at(field: &'static str, code: &str, message: impl Into<String>) -> DeskError {
    DeskError::SignIn { code: code.into(), message: message.into(), field: Some(field) }
}

/// What can be told without the server, each at its field; returns the server's address.
fn check_form(input: &SignInInput) -> DeskResult<String> {
    let url = input.server_url.trim().trim_end_matches('/');
    let host = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    if !host.is_some_and(|h| !h.is_empty() && !h.contains(char::is_whitespace)) {
        return Err(at("server_url", "INVALID", "enter the server's address, like https://tours.example.com"));
    }
    if input.organization.trim().is_empty() {
        return Err(at("organization", "INVALID", "enter your organization's short name, like demo"));
    }
    if validate::org_slug("organization", &input.organization.trim().to_ascii_lowercase()).is_err() {
        return Err(at(
            "organization",
            "INVALID",
            "an organization's short name is lowercase letters, digits and dashes, like harbour-walks",
        ));
    }
    let email = input.email.trim();
    if email.is_empty() {
        return Err(at("email", "INVALID", "enter the e-mail address you sign in with"));
    }
    if !email.contains('@') {
        return Err(at("email", "INVALID", "an e-mail address has an @, like name@example.com"));
    }
    if input.password.is_empty() {
        return Err(at("password", "INVALID", "enter your password"));
    }
    Ok(url.to_string())
}

/// A failed sign-in in words, at the field it is about.
fn refused(e: SyncError, server_url: &str) -> DeskError {
    match e {
        SyncError::Offline(why) => at(
            "server_url",
            "OFFLINE",
            format!("no answer from {server_url} ({why}); check the address and this computer's network"),
        ),
        SyncError::SecondFactor { code, message } => DeskError::SignIn { code, message, field: Some("otp") },
        // The server does not say which of the three was wrong, so nobody can probe for
        // organizations or e-mail addresses.
        SyncError::Unauthorized(_) => at(
            "password",
            "UNAUTHORIZED",
            "the organization, e-mail or password is wrong (the organization is its short name, like demo)",
        ),
        SyncError::Protocol(_) | SyncError::Server { code: _, status: 404 | 405, .. } => at(
            "server_url",
            "NOT_A_SERVER",
            format!("{server_url} answers, but it is not a Tourdesk server; check the address"),
        ),
        SyncError::Server { code, message, .. } | SyncError::Refused { code, message, .. } => {
            DeskError::SignIn { code, message, field: None }
        }
        SyncError::Store(e) => DeskError::Store(e),
        e @ SyncError::PushIncomplete { .. } => {
            DeskError::SignIn { code: "SYNC".into(), message: e.to_string(), field: None }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn input(url: &str, org: &str, email: &str, password: &str) -> SignInInput {
        SignInInput {
            server_url: url.into(),
            organization: org.into(),
            email: email.into(),
            password: password.into(),
            otp: None,
        }
    }

    fn field(r: DeskResult<String>) -> Option<String> {
        r.err().and_then(|e| e.to_command_error().field)
    }

    #[test]
    fn the_form_is_checked_field_by_field_before_the_server_is_asked() {
        let ok = input(" http://127.0.0.1:8787/ ", "demo", "owner@demo.tourdesk.test", "pw");
        assert_eq!(check_form(&ok).unwrap(), "http://127.0.0.1:8787");
        assert_eq!(field(check_form(&input("tours.example", "demo", "a@b", "pw"))).as_deref(), Some("server_url"));
        assert_eq!(field(check_form(&input("https://", "demo", "a@b", "pw"))).as_deref(), Some("server_url"));
        assert_eq!(field(check_form(&input("https://t", " ", "a@b", "pw"))).as_deref(), Some("organization"));
        assert_eq!(
            field(check_form(&input("https://t", "Harbour Walks!", "a@b", "pw"))).as_deref(),
            Some("organization")
        );
        assert_eq!(field(check_form(&input("https://t", "demo", "nobody", "pw"))).as_deref(), Some("email"));
        assert_eq!(field(check_form(&input("https://t", "demo", "a@b", ""))).as_deref(), Some("password"));
    }

    #[test]
    fn server_refusals_keep_their_codes_and_land_at_their_fields() {
        let e = |err| refused(err, "http://s").to_command_error();
        let wrong = e(SyncError::Unauthorized("wrong organization, email or password".into()));
        assert_eq!((wrong.code.as_str(), wrong.field.as_deref()), ("UNAUTHORIZED", Some("password")));
        let mfa = e(SyncError::SecondFactor { code: "MFA_REQUIRED".into(), message: "enter the code".into() });
        assert_eq!((mfa.code.as_str(), mfa.field.as_deref()), ("MFA_REQUIRED", Some("otp")));
        let off = e(SyncError::Offline("connection refused".into()));
        assert_eq!((off.code.as_str(), off.field.as_deref()), ("OFFLINE", Some("server_url")));
        assert!(off.message.contains("http://s") && off.message.contains("connection refused"), "{off:?}");
        let busy = e(SyncError::Server { status: 429, code: "RATE_LIMITED".into(), message: "wait".into() });
        assert_eq!((busy.code.as_str(), busy.field), ("RATE_LIMITED", None));
        let html = e(SyncError::Server { status: 404, code: "HTTP".into(), message: "404 Not Found".into() });
        assert_eq!((html.code.as_str(), html.field.as_deref()), ("NOT_A_SERVER", Some("server_url")));
    }
}

//! The desk's one error type, and the one place it becomes what the window receives
//! (`CommandError`: a code the UI maps to words, a message, and the field it belongs to).

use serde::{Serialize, Serializer};
use tourdesk_domain::ipc::CommandError;
use tourdesk_domain::mutation::Rejection;
use tourdesk_local_store::{StoreError, SyncError};

#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The desk does not hold what was asked for (a partial replica, or a stale link).
    #[error("{0}")]
    NotFound(&'static str),
    /// An online account call (settings, staff, two-step sign-in, devices) did not succeed.
    #[error(transparent)]
    Server(#[from] SyncError),
    /// Saved, but something around it failed (reading it back, the OS random generator).
    #[error("{0}")]
    Internal(&'static str),
    /// A sign-in that did not succeed, with the server's code (`UNAUTHORIZED`, `MFA_REQUIRED`,
    /// `MFA_INVALID`, `RATE_LIMITED`, …) or the desk's (`OFFLINE`, `NOT_A_SERVER`, `INVALID`),
    /// and the form field it is about.
    #[error("{message}")]
    SignIn { code: String, message: String, field: Option<&'static str> },
    /// The server did not revoke this device at sign-out (unreachable, or an error).
    #[error("{0}")]
    SignOut(SyncError),
    /// A file the desk was asked to save was not written (no such folder, the write failed): the
    /// words name what was being saved and why (`files`).
    #[error("{0}")]
    NotSaved(String),
    /// An update check or install that did not succeed (unreachable, refused signature), in words.
    #[error("{0}")]
    Update(String),
}

pub type DeskResult<T> = Result<T, DeskError>;

impl DeskError {
    /// The one mapping: what the window receives for this error. Faults of this machine are
    /// logged here, once.
    pub fn to_command_error(&self) -> CommandError {
        let plain = |code: &str, message: String| CommandError { code: code.into(), message, field: None };
        match self {
            DeskError::Store(StoreError::Rejected(Rejection::Invalid(f))) => {
                CommandError { code: "INVALID".into(), message: f.message.clone(), field: Some(f.field.clone()) }
            }
            DeskError::Store(StoreError::Rejected(Rejection::Conflict { field, message })) => {
                CommandError { code: "CONFLICT".into(), message: message.clone(), field: Some(field.clone()) }
            }
            // Shown beside the code's box, in the domain's words.
            DeskError::Store(StoreError::Rejected(r @ Rejection::PromoRefused { .. })) => {
                CommandError { code: r.code().into(), message: r.to_string(), field: Some("promo_code".into()) }
            }
            DeskError::Store(StoreError::Rejected(r)) => plain(r.code(), r.to_string()),
            DeskError::Store(e @ StoreError::NotSignedIn) => plain("NOT_SIGNED_IN", e.to_string()),
            DeskError::Store(e @ StoreError::IdentityChange(_)) => plain("IDENTITY_CHANGE", e.to_string()),
            DeskError::Store(e @ StoreError::PendingChanges(_)) => plain("PENDING_CHANGES", e.to_string()),
            DeskError::Store(other) => {
                tracing::error!("local store error: {other}");
                plain("STORE", other.to_string())
            }
            DeskError::Server(e) => server_error(e),
            DeskError::NotFound(m) => plain("NOT_FOUND", (*m).into()),
            DeskError::Internal(m) => {
                tracing::error!("desk error: {m}");
                plain("STORE", (*m).into())
            }
            DeskError::SignIn { code, message, field } => {
                CommandError { code: code.clone(), message: message.clone(), field: field.map(str::to_string) }
            }
            DeskError::SignOut(SyncError::Offline(why)) => {
                plain("OFFLINE", format!("the server cannot be reached ({why}), so it cannot revoke this desk now"))
            }
            DeskError::SignOut(SyncError::Store(e)) => {
                tracing::error!("local store error at sign-out: {e}");
                plain("STORE", e.to_string())
            }
            DeskError::SignOut(e) => plain("SIGN_OUT_FAILED", format!("the server did not revoke this desk: {e}")),
            DeskError::Update(m) => plain("UPDATE_FAILED", m.clone()),
            // Logged where it happened (`files`), with the OS's reason.
            DeskError::NotSaved(m) => plain("NOT_SAVED", m.clone()),
        }
    }
}

/// An account call's failure: the server's own code, words and field when it refused; "needs a
/// connection" when it could not be reached.
fn server_error(e: &SyncError) -> CommandError {
    let plain = |code: &str, message: String| CommandError { code: code.into(), message, field: None };
    match e {
        SyncError::Refused { code, message, field, .. } => {
            CommandError { code: code.clone(), message: message.clone(), field: field.clone() }
        }
        SyncError::Offline(why) => plain(
            "OFFLINE",
            format!(
                "this needs a connection to the server, which cannot be reached now ({why}); try again when it is back"
            ),
        ),
        SyncError::Unauthorized(why) => {
            plain("SESSION_ENDED", format!("the server no longer accepts this desk's sign-in ({why}); sign in again"))
        }
        SyncError::Store(StoreError::NotSignedIn) => plain("NOT_SIGNED_IN", StoreError::NotSignedIn.to_string()),
        SyncError::Server { code, message, .. } => plain(code, message.clone()),
        other => {
            tracing::error!("account call failed: {other}");
            plain("SERVER", other.to_string())
        }
    }
}

/// Tauri sends a command's error as its serde form: always the `CommandError` shape.
impl Serialize for DeskError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_command_error().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tourdesk_domain::validate::FieldError;

    #[test]
    fn every_error_reaches_the_window_in_the_command_error_shape() {
        let invalid = DeskError::Store(StoreError::Rejected(Rejection::Invalid(FieldError {
            field: "default_capacity".into(),
            message: "must be between 1 and 10000".into(),
        })));
        assert_eq!(
            serde_json::to_value(&invalid).ok(),
            Some(
                serde_json::json!({"code": "INVALID", "message": "must be between 1 and 10000", "field": "default_capacity"})
            )
        );
        let e = DeskError::Store(StoreError::NotSignedIn).to_command_error();
        assert_eq!((e.code.as_str(), e.field), ("NOT_SIGNED_IN", None));
        assert_eq!(DeskError::NotFound("no such booking here").to_command_error().code, "NOT_FOUND");
        assert_eq!(DeskError::Internal("read back failed").to_command_error().code, "STORE");
        let refused = DeskError::Server(SyncError::Refused {
            status: 422,
            code: "INVALID".into(),
            message: "that is not your password".into(),
            field: Some("password".into()),
        });
        let e = refused.to_command_error();
        assert_eq!(
            (e.code.as_str(), e.field.as_deref()),
            ("INVALID", Some("password")),
            "the server's field reaches the form"
        );
        let e = DeskError::Server(SyncError::Offline("connection refused".into())).to_command_error();
        assert!(e.code == "OFFLINE" && e.message.contains("needs a connection"), "{e:?}");
    }
}

//! The UI's one error type. Every `invoke` failure becomes a `UiError` in `services::call`, and
//! every screen shows it through `components::states::ErrorNote` or beside its field.

use tourdesk_domain::ipc::CommandError;

use crate::words;

#[derive(Debug, Clone, PartialEq)]
pub struct UiError {
    /// The shell's stable code (`INVALID`, `CAPACITY_EXCEEDED`, …), for decisions, never shown.
    pub code: String,
    /// What the person reads: the code's words, then the detail.
    pub message: String,
    /// The input it belongs to, when it belongs to one.
    pub field: Option<String>,
}

impl UiError {
    /// A failure on the UI's side of the bridge (an unreadable reply, a bad number typed).
    pub fn local(message: impl Into<String>) -> UiError {
        UiError { code: "UI".into(), message: message.into(), field: None }
    }

    pub fn at_field(field: &str, message: impl Into<String>) -> UiError {
        UiError { code: "INVALID".into(), message: message.into(), field: Some(field.into()) }
    }

    pub fn is_field(&self, field: &str) -> bool {
        self.field.as_deref() == Some(field)
    }
}

impl From<CommandError> for UiError {
    fn from(e: CommandError) -> UiError {
        let detail = words::sentence(e.message.trim());
        let message = match words::code(&e.code) {
            // A field error says its own words beside its field: a bad value, or one another row
            // already has or the row's state forbids (a URL name in use, publishing too early).
            _ if e.field.is_some() && matches!(e.code.as_str(), "INVALID" | "CONFLICT") => detail,
            Some(head) if detail.is_empty() => head.to_string(),
            Some(head) => format!("{head}: {detail}"),
            None => detail,
        };
        UiError { code: e.code, message, field: e.field }
    }
}

/// A refusal recorded by the server (the conflict inbox), in words: `(headline, detail)`.
pub fn refusal(code: Option<&str>, detail: Option<&str>) -> (String, String) {
    let head = code.and_then(words::code).map(str::to_string).or_else(|| code.map(words::sentence)).unwrap_or_default();
    (head, detail.map(words::sentence).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(code: &str, message: &str, field: Option<&str>) -> CommandError {
        CommandError { code: code.into(), message: message.into(), field: field.map(str::to_string) }
    }

    #[test]
    fn codes_become_words_and_field_errors_stay_at_their_field() {
        let e = UiError::from(command("CAPACITY_EXCEEDED", "only 0 seats left, 2 requested", None));
        assert_eq!(e.message, "Not enough seats left: Only 0 seats left, 2 requested");
        assert!(!e.message.contains("CAPACITY_EXCEEDED"));
        let e = UiError::from(command("INVALID", "must be between 1 and 10000", Some("default_capacity")));
        assert_eq!((e.message.as_str(), e.is_field("default_capacity")), ("Must be between 1 and 10000", true));
        let e = UiError::from(command(
            "CONFLICT",
            "a tour needs at least one active variant before it can be published",
            Some("status"),
        ));
        assert_eq!(e.message, "A tour needs at least one active variant before it can be published");
        let e = UiError::from(command("SOMETHING_NEW", "it broke", None));
        assert_eq!(e.message, "It broke");
        assert_eq!(
            refusal(Some("CAPACITY_EXCEEDED"), Some("only 0 seats left, 2 requested")),
            ("Not enough seats left".to_string(), "Only 0 seats left, 2 requested".to_string())
        );
    }
}

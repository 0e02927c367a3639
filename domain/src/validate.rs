//! Field validation shared by every entry point. Errors name the field path so the UI and the
//! HTTP API can point at the exact input that was wrong.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), message: message.into() }
    }
}

/// A trimmed, non-empty text of at most `max` characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if v.chars().count() > max {
        return Err(FieldError::new(field, format!("must be at most {max} characters")));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    Ok(v.to_string())
}

pub fn range_u32(field: &str, value: u32, min: u32, max: u32) -> Result<u32, FieldError> {
    if value < min || value > max {
        return Err(FieldError::new(field, format!("must be between {min} and {max}")));
    }
    Ok(value)
}

/// An IANA zone name chrono-tz knows, e.g. `Europe/London`.
pub fn timezone(field: &str, value: &str) -> Result<chrono_tz::Tz, FieldError> {
    value
        .trim()
        .parse::<chrono_tz::Tz>()
        .map_err(|_| FieldError::new(field, format!("{value:?} is not an IANA time zone (e.g. Europe/London)")))
}

/// URL slug: lowercase ASCII letters, digits and single dashes.
pub fn slug(field: &str, value: &str) -> Result<String, FieldError> {
    let ok = !value.is_empty()
        && value.len() <= 80
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
        && !value.contains("--");
    if ok {
        Ok(value.to_string())
    } else {
        Err(FieldError::new(field, "must be lowercase letters, digits and single dashes (e.g. old-town-walk)"))
    }
}

/// Derives a slug from a display name: `"Old Town — Walk!"` → `old-town-walk`.
pub fn slugify(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out.truncate(80);
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() { "tour".to_string() } else { out }
}

/// Client-made ids are UUIDs in text form; anything else is refused before it reaches a store.
pub fn id(field: &str, value: &str) -> Result<String, FieldError> {
    let v = value.trim();
    let b = v.as_bytes();
    let ok = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    if ok { Ok(v.to_ascii_lowercase()) } else { Err(FieldError::new(field, "must be a UUID")) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn slugify_table() {
        for (name, want) in [
            ("Old Town Walk", "old-town-walk"),
            ("  Café & Bites!! ", "caf-bites"),
            ("---", "tour"),
            ("Tapas 2.0", "tapas-2-0"),
        ] {
            assert_eq!(slugify(name), want, "{name}");
            assert!(slug("s", &slugify(name)).is_ok());
        }
    }

    #[test]
    fn text_rules() {
        assert_eq!(text("name", "  x ", 5), Ok("x".into()));
        assert_eq!(text("name", "   ", 5).unwrap_err().message, "is required");
        assert!(text("name", "abcdef", 5).is_err());
        assert!(text("name", "a\u{0}b", 5).is_err());
    }

    #[test]
    fn timezones_and_ids() {
        assert!(timezone("tz", "Europe/London").is_ok());
        assert_eq!(timezone("tz", "Mars/Olympus").unwrap_err().field, "tz");
        assert!(id("id", "7f0c1a52-1f7e-4c4b-9d1e-0c7a1b2c3d4e").is_ok());
        assert!(id("id", "not-a-uuid").is_err());
    }
}

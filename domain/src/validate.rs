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

/// What a field left blank is told: a page that words its errors in the customer's language
/// knows a blank field by it.
pub const REQUIRED: &str = "is required";

/// A trimmed, non-empty text of at most `max` characters.
pub fn text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, REQUIRED));
    }
    if v.chars().count() > max {
        return Err(FieldError::new(field, format!("must be at most {max} characters")));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    Ok(v.to_string())
}

/// Optional free text (descriptions, directions): may be empty and span lines, but holds no
/// other control characters — PostgreSQL refuses NUL, and a refusal there must not be the
/// first one a desk hears of.
pub fn free_text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(FieldError::new(field, format!("must be at most {max} characters")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
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

/// The most lines one booking request may have, from any source (desk, website, partner).
pub const MAX_BOOKING_LINES: usize = 20;
/// The most participants one line of a booking request may ask for.
pub const MAX_LINE_QUANTITY: u32 = 100;

/// A booking request's size, given each line's quantity: 1 to [`MAX_BOOKING_LINES`] lines of 1 to
/// [`MAX_LINE_QUANTITY`] participants. Bounds the work one request can cause wherever it comes from.
pub fn booking_lines(quantities: &[u32]) -> Result<(), FieldError> {
    if quantities.is_empty() {
        return Err(FieldError::new("lines", "at least one line is needed"));
    }
    if quantities.len() > MAX_BOOKING_LINES {
        return Err(FieldError::new("lines", format!("at most {MAX_BOOKING_LINES} lines")));
    }
    for (i, q) in quantities.iter().enumerate() {
        range_u32(&format!("lines[{i}].quantity"), *q, 1, MAX_LINE_QUANTITY)?;
    }
    Ok(())
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

/// An organization's public slug as a URL names it (`demo`): what [`slug`] accepts, surrounding
/// spaces dropped. Text that fails here names no organization, so it never reaches a query.
pub fn org_slug(field: &str, value: &str) -> Result<String, FieldError> {
    let slug = slug(field, value.trim())?;
    if RESERVED_ORG_SLUGS.contains(&slug.as_str()) {
        return Err(FieldError::new(field, format!("\"{slug}\" is a path of the server itself; choose another name")));
    }
    Ok(slug)
}

/// The server's own first path segments: the website serves organizations at `/{org}/…`, so an
/// organization named like one of these could never be reached.
pub const RESERVED_ORG_SLUGS: &[&str] =
    &["api", "assets", "health", "ical", "manage", "staff", "sync", "updates", "static", "admin", "www"];

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

/// Any stored row's id as a reference: non-empty, short, printable. Rows made by generation
/// (`v1@2026-03-08T09:00:00`) or imported from elsewhere are not UUIDs, so a reference to an
/// existing row is checked less strictly than an id a client is minting.
pub fn row_ref(field: &str, value: &str) -> Result<String, FieldError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, REQUIRED));
    }
    if v.chars().count() > 200 || v.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(FieldError::new(field, "is not a valid id"));
    }
    Ok(v.to_string())
}

/// An optional free text: `None` or blank becomes `None`, otherwise [`text`] rules apply.
pub fn opt_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, max).map(Some),
    }
}

/// An e-mail address, lowercased: the spec keeps customers unique per organization by the
/// lowercased address. Deliberately pragmatic — one `@`, a plausible local part, a dotted
/// domain of letters, digits and inner dashes — because the only real check is a delivered mail.
pub fn email(field: &str, value: &str) -> Result<String, FieldError> {
    let v = value.trim().to_lowercase();
    let bad = || FieldError::new(field, format!("{value:?} is not an e-mail address (e.g. ana@example.com)"));
    if v.len() > 254 {
        return Err(bad());
    }
    let (local, domain) = v.split_once('@').ok_or_else(bad)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic));
    if local_ok && domain_ok { Ok(v) } else { Err(bad()) }
}

/// A phone number as people type it, stored in E.164 (`+351912000999`). A number written with
/// `+` and its country code reads the same anywhere; one written without is read as it is
/// dialled in `default_region` (ISO 3166-1 alpha-2, the organization's country), so "912 000 999"
/// typed in a Lisbon office is `+351912000999`. Parsed and checked against libphonenumber's
/// numbering plans (the `phonenumber` crate), so a number no plan allows is refused too.
pub fn phone(field: &str, value: &str, default_region: Option<&str>) -> Result<String, FieldError> {
    use phonenumber::{Mode, country};
    let v = value.trim();
    if v.is_empty() {
        return Err(FieldError::new(field, REQUIRED));
    }
    let region = match default_region.map(str::trim).filter(|r| !r.is_empty()) {
        None => None,
        Some(r) => Some(r.to_ascii_uppercase().parse::<country::Id>().map_err(|_| {
            FieldError::new("default_region", format!("{r:?} is not a country phone numbers are known for (e.g. PT)"))
        })?),
    };
    if region.is_none() && !v.starts_with('+') {
        return Err(FieldError::new(
            field,
            format!(
                "{value:?} has no country code: write it with + and the country code (e.g. +351 912 000 999), \
                 or set the organization's country so local numbers can be read"
            ),
        ));
    }
    parsed(field, v, region).map(|n| n.format().mode(Mode::E164).to_string())
}

fn parsed(
    field: &str,
    value: &str,
    region: Option<phonenumber::country::Id>,
) -> Result<phonenumber::PhoneNumber, FieldError> {
    let bad = || {
        // Only a number without its country code was read in the region.
        let hint = match region {
            Some(r) if !value.trim_start().starts_with('+') => format!(" (read as a number of {})", r.as_ref()),
            _ => String::new(),
        };
        FieldError::new(field, format!("{value:?} is not a valid phone number{hint}, e.g. +44 7911 123456"))
    };
    // Letters are refused outright: the parser would read them as a keypad's digits ("1-800-FLOWERS").
    if value.chars().any(char::is_alphabetic) {
        return Err(bad());
    }
    let n = phonenumber::parse(region, value).map_err(|_| bad())?;
    if phonenumber::is_valid(&n) { Ok(n) } else { Err(bad()) }
}

/// ISO 639-1 two-letter language codes.
const ISO_639_1: &[&str] = &[
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh", "bi", "bm", "bn",
    "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de", "dv", "dz", "ee", "el", "en",
    "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he",
    "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv",
    "ka", "kg", "ki", "kj", "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li",
    "ln", "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb", "nd", "ne",
    "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi", "pl", "ps", "pt", "qu", "rm",
    "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk", "sl", "sm", "sn", "so", "sq", "sr", "ss", "st",
    "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk",
    "ur", "uz", "ve", "vi", "vo", "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// An ISO 639-1 language, optionally with a region (`en`, `pt-BR`, `es-419`), normalised to
/// `xx` / `xx-YY`. Guide matching compares the primary code only.
pub fn language(field: &str, value: &str) -> Result<String, FieldError> {
    let v = value.trim().replace('_', "-");
    let bad = || FieldError::new(field, format!("{value:?} is not an ISO 639-1 language code (e.g. en, pt-BR)"));
    let (primary, region) = match v.split_once('-') {
        Some((p, r)) => (p.to_ascii_lowercase(), Some(r)),
        None => (v.to_ascii_lowercase(), None),
    };
    if !ISO_639_1.contains(&primary.as_str()) {
        return Err(bad());
    }
    match region {
        None => Ok(primary),
        Some(r) if r.len() == 2 && r.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Ok(format!("{primary}-{}", r.to_ascii_uppercase()))
        }
        Some(r) if r.len() == 3 && r.bytes().all(|b| b.is_ascii_digit()) => Ok(format!("{primary}-{r}")),
        Some(_) => Err(bad()),
    }
}

/// An ISO 4217 currency Tourdesk can price in (the table in [`crate::money`]).
pub fn currency(field: &str, value: &str) -> Result<crate::money::Currency, FieldError> {
    crate::money::Currency::parse(value).map_err(|e| FieldError::new(field, e.to_string()))
}

/// A customer tag: trimmed, lowercased so `VIP` and `vip` are one tag, at most 50 characters.
pub fn tag(field: &str, value: &str) -> Result<String, FieldError> {
    text(field, value, 50).map(|t| t.to_lowercase())
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
    fn org_slugs() {
        assert_eq!(org_slug("org", " demo "), Ok("demo".into()));
        for bad in ["demo\u{0}", "", "De mo", "demo/x", "-demo", "api", " manage ", "updates"] {
            assert_eq!(org_slug("org", bad).unwrap_err().field, "org", "{bad:?}");
        }
    }

    #[test]
    fn free_text_rules() {
        assert_eq!(free_text("d", "", 10), Ok(String::new()));
        assert_eq!(free_text("d", " two\nlines ", 10), Ok("two\nlines".into()));
        assert!(free_text("d", "nul\u{0}", 10).is_err());
        assert!(free_text("d", "abcdefghijk", 10).is_err());
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

    #[test]
    fn email_table() {
        for (input, want) in [
            (" Ana.Silva@Example.COM ", Some("ana.silva@example.com")),
            ("o'brien+tours@mail.co.uk", Some("o'brien+tours@mail.co.uk")),
            ("ana@example", None),
            ("ana@@example.com", None),
            ("@example.com", None),
            ("ana@-example.com", None),
            ("ana@example.c0m", None),
            ("a..b@example.com", None),
            ("ana silva@example.com", None),
        ] {
            assert_eq!(email("email", input).ok().as_deref(), want, "{input}");
        }
    }

    #[test]
    fn phone_table() {
        for (input, region, want) in [
            ("+44 7911 123456", None, Ok("+447911123456")),
            ("+1 (212) 555-0100", None, Ok("+12125550100")),
            // A Lisbon office types a local mobile number as it is dialled there.
            ("912 000 999", Some("PT"), Ok("+351912000999")),
            ("912-000-999", Some("pt"), Ok("+351912000999")),
            ("00351 912 000 999", Some("PT"), Ok("+351912000999")),
            // A number with its country code stays in its country, whatever the office's.
            ("+44 20 7946 0958", Some("PT"), Ok("+442079460958")),
            ("07911 123456", Some("GB"), Ok("+447911123456")),
            // Without a country to read it in, a local number cannot be placed.
            ("912 000 999", None, Err(("phone", "has no country code"))),
            ("07911 123456", None, Err(("phone", "has no country code"))),
            ("+0 7911 123456", None, Err(("phone", "is not a valid phone number"))),
            ("+1234567890123456", None, Err(("phone", "is not a valid phone number"))),
            ("+12x4567890", None, Err(("phone", "is not a valid phone number"))),
            ("+123456", None, Err(("phone", "is not a valid phone number"))),
            ("call me", Some("PT"), Err(("phone", "is not a valid phone number"))),
            ("12", Some("PT"), Err(("phone", "is not a valid phone number"))),
            ("912 000 999", Some("XX"), Err(("default_region", "is not a country"))),
        ] {
            match (phone("phone", input, region), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{input} in {region:?}"),
                (Err(e), Err((field, words))) => {
                    assert_eq!(e.field, field, "{input} in {region:?}");
                    assert!(e.message.contains(words), "{input} in {region:?}: {}", e.message);
                }
                (got, want) => panic!("{input} in {region:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn language_and_currency_table() {
        for (input, want) in [
            ("en", Some("en")),
            ("EN", Some("en")),
            ("pt_br", Some("pt-BR")),
            ("es-419", Some("es-419")),
            ("xx", None),
            ("eng", None),
            ("en-GBR", None),
            ("", None),
        ] {
            assert_eq!(language("lang", input).ok().as_deref(), want, "{input}");
        }
        assert_eq!(ISO_639_1.len(), 184);
        assert!(ISO_639_1.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(currency("c", "eur").unwrap().as_str(), "EUR");
        assert_eq!(currency("c", "XYZ").unwrap_err().field, "c");
        assert_eq!(tag("t", " VIP ").unwrap(), "vip");
        assert!(row_ref("r", "v1@2026-03-08T09:00:00").is_ok());
        assert!(row_ref("r", "a b").is_err());
        assert_eq!(opt_text("n", Some("  "), 5), Ok(None));
    }
}

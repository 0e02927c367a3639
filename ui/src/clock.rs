//! This computer's local time, for moments that belong to no departure: when the desk last
//! synced, when a message went out, when a device was last seen, when an audit entry was made.
//! (A departure's times are shown in its own zone, by the domain.) The webview knows the local
//! zone; chrono's `Local` does not here: built for wasm32 without JavaScript bindings it reads
//! UTC, so every local time goes through this module.

use chrono::{DateTime, FixedOffset, Offset, Utc};

/// This computer's UTC offset at `at`, in minutes east (the webview knows the local zone, its
/// clock changes included; the host, where the component tests run, says UTC).
pub fn local_offset_minutes(at: DateTime<Utc>) -> i32 {
    #[cfg(target_arch = "wasm32")]
    {
        let js = web_sys::js_sys::Date::new(&web_sys::wasm_bindgen::JsValue::from_f64(at.timestamp_millis() as f64));
        // JavaScript gives minutes *west* of UTC.
        -(js.get_timezone_offset() as i32)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = at;
        0
    }
}

/// `at` at the offset `offset_minutes` gives for it (UTC if that is no offset at all).
pub fn local_with(at: DateTime<Utc>, offset_minutes: impl Fn(DateTime<Utc>) -> i32) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(offset_minutes(at) * 60).unwrap_or_else(|| Utc.fix());
    at.with_timezone(&offset)
}

/// `at` in this computer's local time.
pub fn local(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    local_with(at, local_offset_minutes)
}

/// `at` in this computer's local time as a table shows it: `Sat 05 Dec 2026, 14:05`.
pub fn local_words(at: DateTime<Utc>) -> String {
    local(at).format("%a %d %b %Y, %H:%M").to_string()
}

/// `HH:MM` in the local zone, and the full local date and time for the tooltip.
pub fn local_time(rfc3339: &str, offset_minutes: impl Fn(DateTime<Utc>) -> i32) -> (String, String) {
    let Ok(t) = DateTime::parse_from_rfc3339(rfc3339) else { return (rfc3339.to_string(), rfc3339.to_string()) };
    let local = local_with(t.with_timezone(&Utc), offset_minutes);
    (local.format("%H:%M").to_string(), local.format("%a %d %b %Y, %H:%M:%S (UTC%:z)").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_moment_reads_at_the_offset_of_its_own_instant() {
        // Lisbon: the offset moves with the clock change, so each moment takes its own.
        let lisbon = |t: DateTime<Utc>| if t < Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap() { 0 } else { 60 };
        let before = Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap();
        assert_eq!(local_with(before, lisbon).format("%H:%M").to_string(), "00:30");
        assert_eq!(local_with(after, lisbon).format("%H:%M").to_string(), "02:30");
        // West of UTC across midnight: the local date is the day before.
        let late = Utc.with_ymd_and_hms(2026, 12, 5, 2, 46, 0).unwrap();
        assert_eq!(local_with(late, |_| -300).format("%a %d %b %Y, %H:%M").to_string(), "Fri 04 Dec 2026, 21:46");
        // An offset no zone has falls back to UTC rather than failing.
        assert_eq!(local_with(late, |_| 100_000).format("%H:%M").to_string(), "02:46");
    }

    #[test]
    fn last_synced_is_local_time() {
        // Lisbon in summer is UTC+1; a desk in New York in June, UTC-4.
        assert_eq!(local_time("2026-06-01T10:05:09Z", |_| 60).0, "11:05");
        assert_eq!(local_time("2026-06-01T10:05:09Z", |_| -240).0, "06:05");
        assert!(local_time("2026-06-01T10:05:09Z", |_| 60).1.contains("UTC+01:00"));
        assert_eq!(local_time("not a time", |_| 0).0, "not a time");
    }
}

//! Calendar feeds (RFC 5545): a guide's assignments or a tour's departures as an iCalendar
//! stream. Times are UTC (`DTSTART:20260710T080000Z`), so no VTIMEZONE is needed; the
//! departure's IANA zone travels in `X-WR-TIMEZONE` and each event's description. Text values
//! are escaped (`\\`, `;`, `,`, newlines) and lines folded at 75 octets, as the RFC requires.

use chrono::{DateTime, Utc};

/// One event of a feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    /// Globally unique and stable across fetches (`{departure id}@{org}.tourdesk`).
    pub uid: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub summary: String,
    pub location: String,
    pub description: String,
    pub cancelled: bool,
    /// When the departure last changed (or was generated): `DTSTAMP` must be stable for the same content.
    pub stamp: DateTime<Utc>,
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// RFC 5545 §3.3.11 TEXT escaping.
pub fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A content line folded at 75 octets (never inside a UTF-8 character), CRLF-terminated.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// The whole feed: a VCALENDAR named `name` holding `events`.
pub fn render(name: &str, timezone: &str, events: &[FeedEvent]) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//Tourdesk//Calendar feed//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", escape(name)));
    line(&mut out, &format!("X-WR-TIMEZONE:{}", escape(timezone)));
    for e in events {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", escape(&e.uid)));
        line(&mut out, &format!("DTSTAMP:{}", utc(e.stamp)));
        line(&mut out, &format!("DTSTART:{}", utc(e.starts_at)));
        line(&mut out, &format!("DTEND:{}", utc(e.ends_at)));
        line(&mut out, &format!("SUMMARY:{}", escape(&e.summary)));
        if !e.location.is_empty() {
            line(&mut out, &format!("LOCATION:{}", escape(&e.location)));
        }
        if !e.description.is_empty() {
            line(&mut out, &format!("DESCRIPTION:{}", escape(&e.description)));
        }
        line(&mut out, if e.cancelled { "STATUS:CANCELLED" } else { "STATUS:CONFIRMED" });
        line(&mut out, "TRANSP:OPAQUE");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::TimeZone;

    use super::*;

    #[test]
    fn lines_fold_at_75_octets_and_text_is_escaped() {
        let e = FeedEvent {
            uid: "d-1@o.tourdesk".into(),
            starts_at: Utc.with_ymd_and_hms(2026, 7, 10, 8, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2026, 7, 10, 10, 0, 0).unwrap(),
            summary: "Old Town; by night, with ção".repeat(4),
            location: "Praça do Comércio\nGate 2".into(),
            description: String::new(),
            cancelled: false,
            stamp: Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap(),
        };
        let feed = render("Gina's tours", "Europe/Lisbon", &[e]);
        assert!(feed.ends_with("END:VCALENDAR\r\n"));
        assert!(feed.split("\r\n").all(|l| l.len() <= 75), "{feed}");
        assert!(feed.contains("DTSTART:20260710T080000Z\r\n"));
        assert!(feed.contains("LOCATION:Praça do Comércio\\nGate 2\r\n"));
        assert!(feed.contains("SUMMARY:Old Town\\; by night\\, with"));
        assert!(!feed.contains('\n') || feed.matches('\n').count() == feed.matches("\r\n").count());
    }
}

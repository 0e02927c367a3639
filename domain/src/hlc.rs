//! Hybrid logical clock stamps, as the desk writes them into its outbox:
//! `{wall ms:013}-{counter:08}-{client_id}`.
//!
//! Ordering is (wall time, counter, client id). The client id is last, so two edits made in the
//! same millisecond on two desks are still ordered the same way everywhere: that is the
//! `(hlc, client_id)` tie-break of per-field last-writer-wins.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How far ahead of the deciding clock an edit's stamp may be. A desk with a clock a day fast
/// would otherwise win every last-writer-wins race for a day.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(5);

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Hlc {
    pub wall_ms: u64,
    pub counter: u64,
    pub node: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HlcError {
    #[error("{0:?} is not a clock stamp like 1767225600000-00000001-<client id>")]
    Malformed(String),
}

impl Hlc {
    pub fn new(wall_ms: u64, counter: u64, node: impl Into<String>) -> Self {
        Hlc { wall_ms, counter, node: node.into() }
    }

    /// The stamp of an event at `at`, ordered among that instant's events of `node` by
    /// `counter`: a desk stamps an outbox entry with its mutation id and its client id. An
    /// instant before 1970 counts as 1970.
    pub fn at(at: DateTime<Utc>, counter: u64, node: impl Into<String>) -> Self {
        Hlc::new(u64::try_from(at.timestamp_millis()).unwrap_or(0), counter, node)
    }

    pub fn parse(s: &str) -> Result<Hlc, HlcError> {
        let bad = || HlcError::Malformed(s.to_string());
        let mut parts = s.trim().splitn(3, '-');
        let wall = parts.next().ok_or_else(bad)?;
        let counter = parts.next().ok_or_else(bad)?;
        let node = parts.next().ok_or_else(bad)?;
        let digits = |p: &str| !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(wall) || !digits(counter) || node.is_empty() || node.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        Ok(Hlc {
            wall_ms: wall.parse().map_err(|_| bad())?,
            counter: counter.parse().map_err(|_| bad())?,
            node: node.to_string(),
        })
    }

    /// The wall-clock part as an instant.
    pub fn wall_time(&self) -> DateTime<Utc> {
        let ms = i64::try_from(self.wall_ms).unwrap_or(i64::MAX);
        DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// Whether the stamp is more than [`MAX_CLOCK_SKEW`] ahead of `now`.
    pub fn is_too_far_ahead(&self, now: DateTime<Utc>) -> bool {
        self.wall_time() > now + MAX_CLOCK_SKEW
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:013}-{:08}-{}", self.wall_ms, self.counter, self.node)
    }
}

impl TryFrom<String> for Hlc {
    type Error = HlcError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Hlc::parse(&s)
    }
}

impl From<Hlc> for String {
    fn from(h: Hlc) -> String {
        h.to_string()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_the_desk_format_and_orders_with_the_client_tie_break() {
        let node = "7f0c1a52-1f7e-4c4b-9d1e-0c7a1b2c3d4e";
        let a = Hlc::parse(&format!("1767225600000-00000007-{node}")).unwrap();
        assert_eq!((a.wall_ms, a.counter, a.node.as_str()), (1_767_225_600_000, 7, node));
        assert_eq!(Hlc::parse(&a.to_string()).unwrap(), a);
        let b = Hlc::new(1_767_225_600_000, 7, "zzz");
        assert!(a < b, "same instant and counter: the client id decides");
        assert!(Hlc::new(1, 9, "zzz") < Hlc::new(2, 0, "aaa"));
        for bad in ["", "12-34", "x-1-n", "1-2- ", "1-2-a b"] {
            assert!(Hlc::parse(bad).is_err(), "{bad}");
        }
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<Hlc>(&json).unwrap(), a);
    }

    /// The desk's outbox stamp: wall clock, then its mutation id, then its client id, padded so
    /// that text order is stamp order.
    #[test]
    fn a_desk_stamp_at_an_instant() {
        let t = DateTime::<Utc>::from_timestamp_millis(1_767_225_600_123).unwrap();
        let h = Hlc::at(t, 42, "client-1");
        assert_eq!(h.to_string(), "1767225600123-00000042-client-1");
        assert_eq!(Hlc::parse(&h.to_string()).unwrap(), h);
        assert_eq!(h.wall_time(), t);
        assert!(Hlc::at(t, 9, "c").to_string() < Hlc::at(t, 10, "c").to_string());
        let before_1970 = DateTime::<Utc>::from_timestamp_millis(-5).unwrap();
        assert_eq!(Hlc::at(before_1970, 1, "c").wall_ms, 0);
    }

    #[test]
    fn skew() {
        let now = DateTime::<Utc>::from_timestamp_millis(1_767_225_600_000).unwrap();
        let at = |ms: i64| Hlc::new(u64::try_from(now.timestamp_millis() + ms).unwrap(), 0, "n");
        assert!(!at(5 * 60 * 1000).is_too_far_ahead(now));
        assert!(at(5 * 60 * 1000 + 1).is_too_far_ahead(now));
        assert!(!at(-86_400_000).is_too_far_ahead(now));
    }
}

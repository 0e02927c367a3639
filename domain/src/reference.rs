//! Booking reference numbers, `BK-YYYY-XXXXXX`, read aloud over the phone and typed from
//! confirmation e-mails. The suffix uses an alphabet without look-alikes (no 0/O, 1/I/L, and
//! no U so no accidental words), 30 symbols, so 6 of them give 729 million references a year.
//!
//! The crate never draws randomness itself: the caller passes 64 bits of entropy (from the OS
//! on the desk or server), which keeps generation pure and reproducible in tests. On the rare
//! collision within an organization the caller retries with fresh entropy.

use std::fmt;

use serde::{Deserialize, Serialize};

pub const ALPHABET: &[u8; 30] = b"23456789ABCDEFGHJKMNPQRSTVWXYZ";
pub const SUFFIX_LEN: usize = 6;
const PREFIX: &str = "BK-";

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReferenceNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReferenceError {
    #[error("a booking reference looks like BK-2026-7KQ2MX")]
    Malformed,
    #[error("the year {0} is not a four-digit year")]
    InvalidYear(i32),
    #[error("{0:?} cannot appear in a booking reference")]
    InvalidSymbol(char),
}

impl ReferenceNumber {
    /// The reference for a booking made in `year`, from caller-supplied `entropy`.
    pub fn generate(year: i32, entropy: u64) -> Result<Self, ReferenceError> {
        if !(1000..=9999).contains(&year) {
            return Err(ReferenceError::InvalidYear(year));
        }
        // 2^64 is not a multiple of 30^6; the resulting bias is below one part in 10^10.
        let mut n = entropy;
        let mut suffix = [0u8; SUFFIX_LEN];
        for slot in suffix.iter_mut().rev() {
            *slot = ALPHABET[(n % 30) as usize];
            n /= 30;
        }
        let suffix: String = suffix.iter().map(|&b| char::from(b)).collect();
        Ok(ReferenceNumber(format!("{PREFIX}{year}-{suffix}")))
    }

    /// Accepts what a person typed: any case, surrounding spaces, and the prefix optional.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let upper = input.trim().to_ascii_uppercase();
        let body = upper.strip_prefix(PREFIX).unwrap_or(&upper);
        let (year, suffix) = body.split_once('-').ok_or(ReferenceError::Malformed)?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ReferenceError::Malformed);
        }
        if suffix.chars().count() != SUFFIX_LEN {
            return Err(ReferenceError::Malformed);
        }
        if let Some(c) = suffix.chars().find(|c| !c.is_ascii() || !ALPHABET.contains(&(*c as u8))) {
            return Err(ReferenceError::InvalidSymbol(c));
        }
        Ok(ReferenceNumber(format!("{PREFIX}{year}-{suffix}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn year(&self) -> i32 {
        self.0.get(3..7).and_then(|y| y.parse().ok()).unwrap_or_default()
    }
}

impl fmt::Display for ReferenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ReferenceNumber {
    type Error = ReferenceError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ReferenceNumber::parse(&s)
    }
}

impl From<ReferenceNumber> for String {
    fn from(r: ReferenceNumber) -> String {
        r.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn generation_is_deterministic_and_well_formed() {
        let cases = [
            (2026, 0, "BK-2026-222222"),
            (2026, 1, "BK-2026-222223"),
            (2026, 29, "BK-2026-22222Z"),
            (2026, 30, "BK-2026-222232"),
            (2031, 30u64.pow(6) - 1, "BK-2031-ZZZZZZ"),
            (2026, 30u64.pow(6), "BK-2026-222222"),
        ];
        for (year, entropy, want) in cases {
            let r = ReferenceNumber::generate(year, entropy).unwrap();
            assert_eq!(r.as_str(), want);
            assert_eq!(ReferenceNumber::parse(want), Ok(r.clone()));
            assert_eq!(r.year(), year);
        }
        assert_eq!(ReferenceNumber::generate(99, 1), Err(ReferenceError::InvalidYear(99)));
        // Spread over a sequence of entropy values: no collisions among neighbours.
        let refs: BTreeSet<_> = (0..10_000u64)
            .map(|i| ReferenceNumber::generate(2026, i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).unwrap())
            .collect();
        assert_eq!(refs.len(), 10_000);
    }

    #[test]
    fn alphabet_has_no_look_alikes() {
        for c in b"01ILOU" {
            assert!(!ALPHABET.contains(c), "{}", char::from(*c));
        }
        let unique: BTreeSet<_> = ALPHABET.iter().collect();
        assert_eq!(unique.len(), 30);
    }

    #[test]
    fn parse_table() {
        let cases = [
            ("BK-2026-7KQ2MX", Ok("BK-2026-7KQ2MX")),
            ("  bk-2026-7kq2mx ", Ok("BK-2026-7KQ2MX")),
            ("2026-7KQ2MX", Ok("BK-2026-7KQ2MX")),
            ("BK-2026-7KQ2M", Err(ReferenceError::Malformed)),
            ("BK-26-7KQ2MX", Err(ReferenceError::Malformed)),
            ("BK2026-7KQ2MX", Err(ReferenceError::Malformed)),
            ("BK-2026-7KQ0MX", Err(ReferenceError::InvalidSymbol('0'))),
            ("BK-2026-7KQOMX", Err(ReferenceError::InvalidSymbol('O'))),
            ("BK-2026-7KQéMX", Err(ReferenceError::InvalidSymbol('é'))),
        ];
        for (input, want) in cases {
            let got = ReferenceNumber::parse(input);
            assert_eq!(got.as_ref().map(|r| r.as_str()), want.as_ref().map(|s| *s), "{input}");
        }
        let json = serde_json::to_string(&ReferenceNumber::generate(2026, 5).unwrap()).unwrap();
        assert_eq!(json, "\"BK-2026-222227\"");
        assert!(serde_json::from_str::<ReferenceNumber>("\"BK-2026-IIIIII\"").is_err());
    }
}

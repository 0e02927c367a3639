//! TOTP (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, as every authenticator app speaks it)
//! and recovery codes for staff accounts. The arithmetic is `totp-rs`; what is this server's own
//! is the step bookkeeping (a code is accepted once, and only one step either side of now) and
//! how secrets and recovery codes are made. Times are arguments, so tests need no clock.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Secret, TOTP};
use tourdesk_domain::accounts::{RECOVERY_ALPHABET, RECOVERY_CODE_LEN, RECOVERY_CODES, format_recovery_code};

const STEP_SECONDS: u64 = 30;
const DIGITS: usize = 6;
/// 160 bits, RFC 4226's recommended secret length.
const SECRET_BYTES: usize = 20;

/// A new random secret, base32 (what the database keeps and the person types if they cannot scan).
pub fn new_secret() -> String {
    let mut raw = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut raw);
    TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 0, STEP_SECONDS, raw.to_vec()).get_secret_base32()
}

fn totp(secret_b32: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_string()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, DIGITS, 0, STEP_SECONDS, bytes).ok()
}

/// The `otpauth://` URI an authenticator app scans: issuer and account are shown in the app.
pub fn otpauth_uri(secret_b32: &str, issuer: &str, account: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    let issuer = issuer.replace(':', " ");
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        enc(&issuer),
        enc(account),
        enc(&issuer)
    )
}

/// The step `code` was made for, when it is one of the steps around `unix_seconds` (one either
/// side, for a phone's clock that is a little off) and later than `last_step`, the last one this
/// account used: a code works once.
pub fn accepted_step(secret_b32: &str, code: &str, unix_seconds: u64, last_step: Option<i64>) -> Option<i64> {
    let totp = totp(secret_b32)?;
    let now = unix_seconds / STEP_SECONDS;
    let mut found = None;
    // Every candidate is computed and compared, so the time taken does not say which matched.
    for step in now.saturating_sub(1)..=now + 1 {
        let candidate = totp.generate(step * STEP_SECONDS);
        let fresh = last_step.is_none_or(|last| i64::try_from(step).is_ok_and(|s| s > last));
        if constant_time_eq(candidate.as_bytes(), code.as_bytes()) && fresh && found.is_none() {
            found = i64::try_from(step).ok();
        }
    }
    found
}

/// The code an authenticator shows at `unix_seconds` (tests and the demo use it).
pub fn code_at(secret_b32: &str, unix_seconds: u64) -> Option<String> {
    Some(totp(secret_b32)?.generate(unix_seconds))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh set of recovery codes: what to show once (`ABCDE-FGHJK`) and the digests to keep.
pub fn new_recovery_codes() -> (Vec<String>, Vec<Vec<u8>>) {
    let mut rng = rand::rng();
    let mut shown = Vec::with_capacity(RECOVERY_CODES);
    let mut digests = Vec::with_capacity(RECOVERY_CODES);
    while shown.len() < RECOVERY_CODES {
        let mut raw = [0u8; RECOVERY_CODE_LEN];
        rng.fill_bytes(&mut raw);
        // 256 is a multiple of the 32-letter alphabet: every letter equally likely.
        let code: String = raw.iter().map(|b| char::from(RECOVERY_ALPHABET[usize::from(*b) % 32])).collect();
        let digest = recovery_digest(&code);
        if !digests.contains(&digest) {
            shown.push(format_recovery_code(&code));
            digests.push(digest);
        }
    }
    (shown, digests)
}

/// What the database keeps of a recovery code (as [`tourdesk_domain::accounts::SecondFactor`]
/// reads it: no dash, upper case).
pub fn recovery_digest(code: &str) -> Vec<u8> {
    Sha256::digest(code.as_bytes()).to_vec()
}

/// A single-use link token for staff (invitation, password reset) and its digest.
pub fn new_link_token() -> (String, Vec<u8>) {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let digest = link_digest(&token);
    (token, digest)
}

pub fn link_digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.trim().as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tourdesk_domain::accounts::SecondFactor;

    // RFC 6238 appendix B's SHA-1 seed, "12345678901234567890", in base32.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn rfc_6238_test_vectors() {
        // The RFC's 8-digit values, last six digits.
        for (t, want) in [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")] {
            assert_eq!(code_at(RFC_SECRET, t).unwrap(), want, "t = {t}");
        }
    }

    #[test]
    fn a_code_works_near_its_time_and_only_once() {
        let t = 1_234_567_890;
        let code = code_at(RFC_SECRET, t).unwrap();
        let step = i64::try_from(t / 30).unwrap();
        assert_eq!(accepted_step(RFC_SECRET, &code, t, None), Some(step));
        assert_eq!(accepted_step(RFC_SECRET, &code, t + 30, None), Some(step), "one step late is fine");
        assert_eq!(accepted_step(RFC_SECRET, &code, t - 30, None), Some(step), "one step early is fine");
        assert_eq!(accepted_step(RFC_SECRET, &code, t + 90, None), None, "three steps late is not");
        assert_eq!(accepted_step(RFC_SECRET, &code, t, Some(step)), None, "a used code is refused");
        assert_eq!(accepted_step(RFC_SECRET, &code, t, Some(step - 1)), Some(step));
        assert_eq!(accepted_step(RFC_SECRET, "000000", t, None), None);
        assert_eq!(accepted_step("not base32!", &code, t, None), None);
    }

    #[test]
    fn new_secrets_make_working_uris() {
        let s = new_secret();
        assert_eq!(s.len(), 32, "160 bits in base32");
        let code = code_at(&s, 1_000_000).unwrap();
        assert!(accepted_step(&s, &code, 1_000_000, None).is_some());
        let uri = otpauth_uri(&s, "Lisbon Walks: Tours", "ana@example.com");
        assert!(uri.starts_with("otpauth://totp/Lisbon%20Walks%20%20Tours:ana%40example.com?secret="), "{uri}");
        assert!(uri.contains(&format!("secret={s}&")));
    }

    #[test]
    fn recovery_codes_read_back_as_the_domain_parses_them() {
        let (shown, digests) = new_recovery_codes();
        assert_eq!(shown.len(), 10);
        for (code, digest) in shown.iter().zip(&digests) {
            let SecondFactor::Recovery(typed) = SecondFactor::parse("otp", &code.to_lowercase()).unwrap() else {
                panic!("{code} does not read as a recovery code")
            };
            assert_eq!(&recovery_digest(&typed), digest);
        }
    }
}

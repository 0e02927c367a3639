//! Sign-in throttling: password guessing is slowed per account (organization + e-mail) and per
//! client address, with a delay that doubles with each failure past a free allowance and is
//! capped, and is forgotten after a quiet quarter of an hour.
//!
//! The two limits differ on purpose. Per address the cap is long (15 minutes): one address
//! guessing is an attacker, and a real user there only ever pays for their own typos. Per account
//! it is short (one minute), because anyone can fail on someone else's account: the cap bounds
//! how long a stranger can keep the real user out, and a device that has signed in to the account
//! before (its `device_id`) is not held by the account's limit at all, only by its address's.
//! A success clears the account's failures, not the address's, so signing in to one's own account
//! does not buy more guesses at another.
//!
//! Past the allowance attempts go one at a time: a burst of parallel guesses cannot slip through
//! before the first of them has failed.
//!
//! The state is in memory, per server instance: with N instances behind a balancer a guesser
//! gets up to N times the attempts (the delays still grow), and a restart forgets it.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tourdesk_domain::protocol::{SignInRequest, SignInResponse};

use crate::{AppError, AppState, auth};

/// How one kind of key is throttled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Consecutive failures before any delay.
    pub free: u32,
    /// The delay after the first failure past the allowance; it doubles with each further one.
    pub first: Duration,
    /// The longest delay.
    pub cap: Duration,
}

pub const PER_ADDRESS: Policy = Policy { free: 10, first: Duration::from_secs(1), cap: Duration::from_secs(15 * 60) };
pub const PER_ACCOUNT: Policy = Policy { free: 5, first: Duration::from_secs(1), cap: Duration::from_secs(60) };
/// Failures are forgotten this long after the last one (and after its delay has run out).
const FORGET: Duration = Duration::from_secs(15 * 60);
/// Above this many tracked keys, forgotten ones are swept out before a new key is added.
const SWEEP_ABOVE: usize = 10_000;

impl Policy {
    /// The delay after `failures` consecutive failures.
    pub fn delay_after(&self, failures: u32) -> Duration {
        if failures < self.free {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free).min(30);
        self.first.saturating_mul(1 << doublings).min(self.cap)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Address(IpAddr),
    Account(String),
}

impl Key {
    fn policy(&self) -> Policy {
        match self {
            Key::Address(_) => PER_ADDRESS,
            Key::Account(_) => PER_ACCOUNT,
        }
    }
}

#[derive(Debug)]
struct Record {
    failures: u32,
    in_flight: u32,
    blocked_until: Instant,
    last_failure: Instant,
    /// Devices that signed in to this account (accounts only).
    known_devices: HashSet<String>,
}

impl Record {
    fn new(now: Instant) -> Record {
        Record { failures: 0, in_flight: 0, blocked_until: now, last_failure: now, known_devices: HashSet::new() }
    }

    /// Its failures are old enough to forget.
    fn quiet(&self, now: Instant) -> bool {
        now >= self.blocked_until.max(self.last_failure) + FORGET
    }

    /// Nothing in it is worth keeping.
    fn forgotten(&self, now: Instant) -> bool {
        self.in_flight == 0 && self.known_devices.is_empty() && self.quiet(now)
    }
}

/// The throttle's state; one per server instance.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    records: Mutex<HashMap<Key, Record>>,
}

/// A sign-in let through. Report its end with [`Attempt::failed`] or [`Attempt::succeeded`];
/// dropped unreported (an error that says nothing of the password), it only stops counting as
/// in flight.
pub struct Attempt {
    throttle: Arc<SignInThrottle>,
    keys: Vec<Key>,
}

/// The account key: organization and e-mail as sign-in matches them.
pub fn account_key(organization: &str, email: &str) -> String {
    format!("{}\u{0}{}", organization.trim().to_lowercase(), email.trim().to_lowercase())
}

impl SignInThrottle {
    /// Lets an attempt through, or says how long to wait. `address` is `None` when addresses are
    /// not to be trusted (behind a proxy); `device_id` is what the client says it is.
    pub fn begin(
        self: &Arc<Self>,
        address: Option<IpAddr>,
        account: &str,
        device_id: Option<&str>,
        now: Instant,
    ) -> Result<Attempt, Duration> {
        let mut records = self.records.lock().unwrap_or_else(|p| p.into_inner());
        if records.len() > SWEEP_ABOVE {
            records.retain(|_, r| !r.forgotten(now));
        }
        let account = Key::Account(account.to_string());
        let known_device = device_id
            .filter(|d| !d.is_empty())
            .is_some_and(|d| records.get(&account).is_some_and(|r| r.known_devices.contains(d)));
        let mut keys: Vec<Key> = address.map(Key::Address).into_iter().collect();
        if !known_device {
            keys.push(account);
        }
        let mut wait = Duration::ZERO;
        for key in &keys {
            let Some(r) = records.get_mut(key) else { continue };
            if r.quiet(now) {
                r.failures = 0;
            }
            wait = wait.max(r.blocked_until.saturating_duration_since(now));
            // Past the allowance, one attempt at a time.
            if r.in_flight > 0 && r.failures + r.in_flight >= key.policy().free {
                wait = wait.max(key.policy().first);
            }
        }
        if !wait.is_zero() {
            return Err(wait);
        }
        for key in &keys {
            records.entry(key.clone()).or_insert_with(|| Record::new(now)).in_flight += 1;
        }
        Ok(Attempt { throttle: self.clone(), keys })
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<Key, Record>) -> T) -> T {
        f(&mut self.records.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Attempt {
    /// Wrong organization, e-mail or password: every key's delay grows.
    pub fn failed(self, now: Instant) {
        self.throttle.with(|records| {
            for key in &self.keys {
                if let Some(r) = records.get_mut(key) {
                    r.failures = r.failures.saturating_add(1);
                    r.last_failure = now;
                    r.blocked_until = now + key.policy().delay_after(r.failures);
                }
            }
        });
    }

    /// Signed in: the account's failures are cleared and the device remembered.
    pub fn succeeded(self, device_id: &str) {
        self.throttle.with(|records| {
            for key in &self.keys {
                if let (Key::Account(_), Some(r)) = (key, records.get_mut(key)) {
                    r.failures = 0;
                    r.blocked_until = r.last_failure;
                }
            }
            let account = self.keys.iter().find(|k| matches!(k, Key::Account(_)));
            if let Some(r) = account.and_then(|k| records.get_mut(k)) {
                r.known_devices.insert(device_id.to_string());
            }
        });
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        self.throttle.with(|records| {
            for key in &self.keys {
                if let Some(r) = records.get_mut(key) {
                    r.in_flight = r.in_flight.saturating_sub(1);
                }
            }
        });
    }
}

/// [`auth::sign_in`] behind the throttle. `peer` is the client's address, counted only when
/// the per-address limit is on.
pub async fn sign_in(state: &AppState, peer: IpAddr, req: SignInRequest) -> Result<SignInResponse, AppError> {
    let address = state.config.sign_in_address_limit.then_some(peer);
    let account = account_key(&req.organization, &req.email);
    let attempt = state
        .sign_in_throttle
        .begin(address, &account, req.device_id.as_deref().map(str::trim), Instant::now())
        .map_err(|wait| {
            tracing::warn!(%peer, "sign-in refused for {} s: too many failures", wait.as_secs());
            let secs = crate::error::whole_seconds(wait);
            AppError::RateLimited {
                retry_after: wait,
                message: format!("too many failed sign-in attempts; retry in {secs} s"),
            }
        })?;
    match auth::sign_in(state, req).await {
        Ok(resp) => {
            attempt.succeeded(&resp.device_id);
            Ok(resp)
        }
        // A wrong second factor counts like a wrong password: six digits must not be guessable.
        Err(e @ (AppError::Unauthorized(_) | AppError::BadRequest { code: "MFA_INVALID", .. })) => {
            attempt.failed(Instant::now());
            Err(e)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const ADDR: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 7)));
    const OTHER_ADDR: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 1)));

    fn fail(t: &Arc<SignInThrottle>, addr: Option<IpAddr>, account: &str, now: Instant) -> Result<(), Duration> {
        t.begin(addr, account, None, now).map(|a| a.failed(now))
    }

    #[test]
    fn delays_double_past_the_allowance_up_to_the_cap() {
        let secs = |p: Policy| (0..20).map(|n| p.delay_after(n).as_secs()).collect::<Vec<_>>();
        assert_eq!(secs(PER_ACCOUNT), [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60, 60, 60, 60]);
        assert_eq!(&secs(PER_ADDRESS)[9..], [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
        assert_eq!(PER_ADDRESS.delay_after(u32::MAX), PER_ADDRESS.cap);
    }

    #[test]
    fn failures_on_an_account_block_it_briefly_and_a_success_clears_them() {
        let t = Arc::new(SignInThrottle::default());
        let t0 = Instant::now();
        let acc = account_key(" Demo ", "Owner@Demo.test");
        assert_eq!(acc, account_key("demo", "owner@demo.test"));
        for _ in 0..PER_ACCOUNT.free {
            fail(&t, ADDR, &acc, t0).unwrap();
        }
        // The sixth failure in a row: blocked for a second, from any address.
        assert_eq!(fail(&t, OTHER_ADDR, &acc, t0), Err(Duration::from_secs(1)));
        let t1 = t0 + Duration::from_secs(1);
        t.begin(OTHER_ADDR, &acc, None, t1).unwrap().succeeded("dev-1");
        for _ in 0..PER_ACCOUNT.free {
            fail(&t, OTHER_ADDR, &acc, t1).unwrap();
        }
        assert!(t.begin(OTHER_ADDR, &acc, None, t1).is_err(), "the account's own limit again");
    }

    #[test]
    fn an_attacker_cannot_hold_an_account_for_long_nor_against_a_known_device() {
        let t = Arc::new(SignInThrottle::default());
        let mut now = Instant::now();
        let acc = account_key("demo", "owner@demo.test");
        t.begin(ADDR, &acc, Some("desk-1"), now).unwrap().succeeded("desk-1");
        // Guessing from ever new addresses, as fast as the throttle allows.
        for i in 0..200u8 {
            let addr = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, i)));
            match t.begin(addr, &acc, None, now) {
                Ok(a) => a.failed(now),
                Err(wait) => {
                    assert!(wait <= PER_ACCOUNT.cap, "{wait:?}");
                    now += wait;
                }
            }
        }
        if let Ok(a) = t.begin(Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 1, 1))), &acc, None, now) {
            a.failed(now);
        }
        assert!(t.begin(OTHER_ADDR, &acc, None, now).is_err(), "unknown devices wait");
        assert!(t.begin(ADDR, &acc, Some("desk-1"), now).is_ok(), "the desk that signed in before does not");
        assert!(t.begin(ADDR, &acc, Some("forged"), now).is_err(), "an unknown device id is no key");
    }

    #[test]
    fn an_address_guessing_many_accounts_is_held_for_longer() {
        let t = Arc::new(SignInThrottle::default());
        let now = Instant::now();
        for i in 0..PER_ADDRESS.free {
            fail(&t, ADDR, &account_key("demo", &format!("u{i}@x.test")), now).unwrap();
        }
        let fresh = account_key("demo", "fresh@x.test");
        assert_eq!(fail(&t, ADDR, &fresh, now), Err(Duration::from_secs(1)));
        assert!(t.begin(OTHER_ADDR, &fresh, None, now).is_ok(), "other addresses are not held");
        // A success does not clear the address: the next failure there doubles the delay.
        let later = now + Duration::from_secs(1);
        t.begin(ADDR, &fresh, None, later).unwrap().succeeded("d");
        fail(&t, ADDR, &account_key("demo", "again@x.test"), later).unwrap();
        assert_eq!(t.begin(ADDR, &fresh, None, later).err(), Some(Duration::from_secs(2)));
        // A quiet quarter of an hour forgets it all.
        let much_later = later + Duration::from_secs(2) + FORGET;
        assert!(t.begin(ADDR, &fresh, None, much_later).is_ok());
        fail(&t, ADDR, &fresh, much_later).unwrap();
        assert!(t.begin(ADDR, &fresh, None, much_later).is_ok(), "one failure after the pause is a first one");
    }

    #[test]
    fn past_the_allowance_parallel_attempts_go_one_at_a_time() {
        let t = Arc::new(SignInThrottle::default());
        let now = Instant::now();
        let acc = account_key("demo", "owner@demo.test");
        // Below the allowance several may be under way at once (an office signing in at nine)...
        let first: Vec<Attempt> = (0..PER_ACCOUNT.free).map(|_| t.begin(None, &acc, None, now).unwrap()).collect();
        // ...but not more than it leaves.
        assert!(t.begin(None, &acc, None, now).is_err());
        drop(first);
        assert!(t.begin(None, &acc, None, now).is_ok(), "dropped attempts stop counting");
    }
}

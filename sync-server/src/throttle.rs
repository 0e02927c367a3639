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
//! does not buy more guesses at another. An IPv6 address counts by its /64, which one machine
//! usually has whole.
//!
//! Past the allowance attempts go one at a time: a burst of parallel guesses cannot slip through
//! before the first of them has failed.
//!
//! The state is in PostgreSQL (`sign_in_throttle`, `sign_in_known_devices`, V29), shared by every
//! instance on the database: behind a balancer a guesser gets no more attempts than against one
//! instance, and a restart forgets nothing. Times are the deciding instance's clock. The rows are
//! global (a sign-in is throttled before any tenant is known) and name no one: an account is the
//! SHA-256 of its key, a device the SHA-256 of its id. An attempt under way counts for at most
//! [`LEASE`], so an instance dying mid-attempt cannot hold a key.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use deadpool_postgres::Pool;
use sha2::{Digest, Sha256};
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
pub const FORGET: Duration = Duration::from_secs(15 * 60);
/// How long an attempt under way counts (far longer than a sign-in takes).
pub const LEASE: Duration = Duration::from_secs(60);
/// A device that has not signed in for this long is no longer exempt from its account's limit.
const KNOWN_DEVICE_DAYS: i64 = 180;
/// One `begin` in this many also sweeps out forgotten rows.
const SWEEP_ONE_IN: u32 = 64;

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

/// The throttle's policies; its state is in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInThrottle {
    pub per_address: Policy,
    pub per_account: Policy,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        SignInThrottle { per_address: PER_ADDRESS, per_account: PER_ACCOUNT }
    }
}

/// A sign-in let through. Report its end with [`Attempt::failed`] or [`Attempt::succeeded`];
/// dropped unreported (an error that says nothing of the password), it only stops counting as
/// under way.
pub struct Attempt {
    pool: Pool,
    /// The rows it counts on, with their policies.
    keys: Vec<(String, Policy)>,
    /// The account's digest (also when a known device left the account's row out).
    account: String,
    reported: bool,
}

/// The account key: organization and e-mail as sign-in matches them.
pub fn account_key(organization: &str, email: &str) -> String {
    format!("{}\u{0}{}", organization.trim().to_lowercase(), email.trim().to_lowercase())
}

fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The row of an address: an IPv4 address, or an IPv6 address's /64.
fn address_row(address: IpAddr) -> String {
    match address {
        IpAddr::V4(a) => format!("address:{a}"),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => format!("address:{v4}"),
            None => {
                let s = a.segments();
                format!("address:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn to_chrono(d: Duration) -> chrono::Duration {
    // Every duration here is minutes at most; a day stands for anything absurd.
    chrono::Duration::from_std(d).unwrap_or_else(|_| chrono::Duration::days(1))
}

/// Whether a key's failures are old enough to forget.
fn quiet(blocked_until: DateTime<Utc>, last_failure: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now >= blocked_until.max(last_failure) + to_chrono(FORGET)
}

impl SignInThrottle {
    /// Lets an attempt through (`Ok(Ok)`), or says how long to wait (`Ok(Err)`). `address` is
    /// `None` when addresses are not to be trusted (behind a proxy); `device_id` is what the
    /// client says it is; `account` is [`account_key`]'s.
    pub async fn begin(
        &self,
        pool: &Pool,
        address: Option<IpAddr>,
        account: &str,
        device_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Result<Attempt, Duration>, AppError> {
        // PostgreSQL keeps microseconds: compare in its precision.
        let now = now.trunc_subsecs(6);
        let account = digest(account);
        let mut client = pool.get().await?;
        if rand::random_ratio(1, SWEEP_ONE_IN) {
            sweep(&client, now).await?;
        }
        let tx = client.transaction().await?;
        let known_device = match device_id.filter(|d| !d.is_empty()) {
            Some(d) => tx
                .query_opt(
                    "SELECT 1 FROM sign_in_known_devices WHERE account = $1 AND device = $2 AND seen_at > $3",
                    &[&account, &digest(d), &(now - chrono::Duration::days(KNOWN_DEVICE_DAYS))],
                )
                .await?
                .is_some(),
            None => false,
        };
        let mut keys: Vec<(String, Policy)> = address.map(|a| (address_row(a), self.per_address)).into_iter().collect();
        if !known_device {
            keys.push((format!("account:{account}"), self.per_account));
        }
        // Rows are created and locked in key order, so two sign-ins never wait on each other crosswise.
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
        tx.execute(
            "INSERT INTO sign_in_throttle (key, pending_until, blocked_until, last_failure)
             SELECT k, $2, $2, $2 FROM unnest($1::text[]) AS k ORDER BY k
             ON CONFLICT (key) DO NOTHING",
            &[&names, &now],
        )
        .await?;
        let rows = tx
            .query(
                "SELECT key, failures, pending, pending_until, blocked_until, last_failure
                 FROM sign_in_throttle WHERE key = ANY($1) ORDER BY key FOR UPDATE",
                &[&names],
            )
            .await?;
        let mut wait = Duration::ZERO;
        let mut counts: Vec<(String, i32, i32)> = Vec::new();
        for row in &rows {
            let key: String = row.get(0);
            let Some((_, policy)) = keys.iter().find(|(k, _)| *k == key) else { continue };
            let mut failures: i32 = row.get(1);
            let mut pending: i32 = row.get(2);
            let pending_until: DateTime<Utc> = row.get(3);
            let blocked_until: DateTime<Utc> = row.get(4);
            let last_failure: DateTime<Utc> = row.get(5);
            if pending_until <= now {
                pending = 0;
            }
            if quiet(blocked_until, last_failure, now) {
                failures = 0;
            }
            wait = wait.max((blocked_until - now).to_std().unwrap_or_default());
            // Past the allowance, one attempt at a time.
            let used = u32::try_from(failures.saturating_add(pending)).unwrap_or(0);
            if pending > 0 && used >= policy.free {
                wait = wait.max(policy.first);
            }
            counts.push((key, failures, pending));
        }
        if !wait.is_zero() {
            tx.rollback().await?;
            return Ok(Err(wait));
        }
        let lease = now + to_chrono(LEASE);
        for (key, failures, pending) in &counts {
            tx.execute(
                "UPDATE sign_in_throttle SET failures = $2, pending = $3, pending_until = $4 WHERE key = $1",
                &[key, failures, &(pending + 1), &lease],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Ok(Attempt { pool: pool.clone(), keys, account, reported: false }))
    }
}

/// Deletes what is forgotten: keys quiet for [`FORGET`] with nothing under way, and devices that
/// have not signed in for [`KNOWN_DEVICE_DAYS`].
async fn sweep(client: &deadpool_postgres::Client, now: DateTime<Utc>) -> Result<(), AppError> {
    client
        .execute(
            "DELETE FROM sign_in_throttle
             WHERE greatest(blocked_until, last_failure) <= $1 AND (pending = 0 OR pending_until <= $2)",
            &[&(now - to_chrono(FORGET)), &now],
        )
        .await?;
    client
        .execute(
            "DELETE FROM sign_in_known_devices WHERE seen_at <= $1",
            &[&(now - chrono::Duration::days(KNOWN_DEVICE_DAYS))],
        )
        .await?;
    Ok(())
}

/// Ends `pending` on each of `keys`; what this attempt learnt is written by the caller's statement.
const END_PENDING: &str = "pending = greatest(pending - 1, 0)";

impl Attempt {
    /// Wrong organization, e-mail or password: every key's delay grows.
    pub async fn failed(mut self, now: DateTime<Utc>) -> Result<(), AppError> {
        self.reported = true;
        let now = now.trunc_subsecs(6);
        let client = self.pool.get().await?;
        for (key, policy) in &self.keys {
            let row = client
                .query_opt(
                    &format!(
                        "UPDATE sign_in_throttle SET failures = failures + 1, last_failure = $2, {END_PENDING}
                         WHERE key = $1 RETURNING failures"
                    ),
                    &[key, &now],
                )
                .await?;
            let Some(row) = row else { continue };
            let failures = u32::try_from(row.get::<_, i32>(0)).unwrap_or(0);
            let delay = policy.delay_after(failures);
            if !delay.is_zero() {
                client
                    .execute(
                        "UPDATE sign_in_throttle SET blocked_until = greatest(blocked_until, $2) WHERE key = $1",
                        &[key, &(now + to_chrono(delay))],
                    )
                    .await?;
            }
        }
        Ok(())
    }

    /// Signed in: the account's failures are cleared and the device remembered.
    pub async fn succeeded(mut self, device_id: &str, now: DateTime<Utc>) -> Result<(), AppError> {
        self.reported = true;
        let client = self.pool.get().await?;
        for (key, _) in &self.keys {
            let clear = if key.starts_with("account:") {
                "failures = 0, blocked_until = least(blocked_until, last_failure), "
            } else {
                ""
            };
            client.execute(&format!("UPDATE sign_in_throttle SET {clear}{END_PENDING} WHERE key = $1"), &[key]).await?;
        }
        client
            .execute(
                "INSERT INTO sign_in_known_devices (account, device, seen_at) VALUES ($1, $2, $3)
                 ON CONFLICT (account, device) DO UPDATE SET seen_at = excluded.seen_at",
                &[&self.account, &digest(device_id), &now],
            )
            .await?;
        Ok(())
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if self.reported {
            return;
        }
        // An attempt that ended without a verdict (the database went away, say) stops counting
        // as under way; should this fail too, its lease runs out.
        let (pool, keys) = (self.pool.clone(), std::mem::take(&mut self.keys));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let names: Vec<String> = keys.into_iter().map(|(k, _)| k).collect();
                if let Ok(client) = pool.get().await {
                    let _ = client
                        .execute(&format!("UPDATE sign_in_throttle SET {END_PENDING} WHERE key = ANY($1)"), &[&names])
                        .await;
                }
            });
        }
    }
}

/// [`auth::sign_in`] behind the throttle. `peer` is the client's address, counted only when
/// the per-address limit is on.
pub async fn sign_in(state: &AppState, peer: IpAddr, req: SignInRequest) -> Result<SignInResponse, AppError> {
    let address = state.config.sign_in_address_limit.then_some(peer);
    let account = account_key(&req.organization, &req.email);
    let device = req.device_id.as_deref().map(str::trim);
    let attempt = match state.sign_in_throttle.begin(&state.pool, address, &account, device, Utc::now()).await? {
        Ok(attempt) => attempt,
        Err(wait) => {
            tracing::warn!(%peer, "sign-in refused for {} s: too many failures", wait.as_secs());
            let secs = crate::error::whole_seconds(wait);
            return Err(AppError::RateLimited {
                retry_after: wait,
                message: format!("too many failed sign-in attempts; retry in {secs} s"),
            });
        }
    };
    match auth::sign_in(state, req).await {
        Ok(resp) => {
            // Signed in is signed in: a record that could not be written only costs the device
            // its exemption, and the account's failures are forgotten in a quarter of an hour.
            if let Err(e) = attempt.succeeded(&resp.device_id, Utc::now()).await {
                tracing::warn!("sign-in throttle: could not record a success: {e}");
            }
            Ok(resp)
        }
        // A wrong second factor counts like a wrong password: six digits must not be guessable.
        Err(e @ (AppError::Unauthorized(_) | AppError::BadRequest { code: "MFA_INVALID", .. })) => {
            attempt.failed(Utc::now()).await?;
            Err(e)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tourdesk_testkit::PgCluster;

    const ADDR: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 7)));
    const OTHER_ADDR: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 1)));

    /// A throttle on a migrated throwaway database, as one server instance sees it.
    struct T {
        cluster: std::sync::Arc<PgCluster>,
        url: String,
        pool: Pool,
        throttle: SignInThrottle,
    }

    fn pool(url: &str) -> Pool {
        crate::db::connect(&crate::Config { database_url: url.into(), ..Default::default() }).unwrap()
    }

    impl T {
        async fn new() -> T {
            let cluster = PgCluster::start().unwrap();
            let url = cluster.fresh_database().await.unwrap();
            let pool = pool(&url);
            crate::db::migrate(&pool).await.unwrap();
            T { cluster: std::sync::Arc::new(cluster), url, pool, throttle: SignInThrottle::default() }
        }

        /// Another instance on the same database: its own pool, nothing else shared.
        fn other_instance(&self) -> T {
            T { cluster: self.cluster.clone(), url: self.url.clone(), pool: pool(&self.url), throttle: self.throttle }
        }

        async fn begin(
            &self,
            addr: Option<IpAddr>,
            account: &str,
            device: Option<&str>,
            now: DateTime<Utc>,
        ) -> Result<Attempt, Duration> {
            self.throttle.begin(&self.pool, addr, account, device, now).await.unwrap()
        }

        async fn fail(&self, addr: Option<IpAddr>, account: &str, now: DateTime<Utc>) -> Result<(), Duration> {
            match self.begin(addr, account, None, now).await {
                Ok(a) => {
                    a.failed(now).await.unwrap();
                    Ok(())
                }
                Err(wait) => Err(wait),
            }
        }

        async fn succeed(&self, addr: Option<IpAddr>, account: &str, device: &str, now: DateTime<Utc>) {
            self.begin(addr, account, Some(device), now).await.unwrap().succeeded(device, now).await.unwrap();
        }
    }

    fn secs(n: u64) -> chrono::Duration {
        to_chrono(Duration::from_secs(n))
    }

    #[test]
    fn delays_double_past_the_allowance_up_to_the_cap() {
        let secs = |p: Policy| (0..20).map(|n| p.delay_after(n).as_secs()).collect::<Vec<_>>();
        assert_eq!(secs(PER_ACCOUNT), [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60, 60, 60, 60, 60, 60, 60]);
        assert_eq!(&secs(PER_ADDRESS)[9..], [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
        assert_eq!(PER_ADDRESS.delay_after(u32::MAX), PER_ADDRESS.cap);
    }

    #[test]
    fn an_ipv6_address_counts_by_its_64_and_a_mapped_ipv4_as_itself() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(address_row(a), address_row(b));
        assert_eq!(address_row(a), "address:2001:db8:1:2::/64");
        assert_ne!(address_row(a), address_row("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(address_row("::ffff:203.0.113.7".parse().unwrap()), address_row(ADDR.unwrap()));
    }

    #[tokio::test]
    async fn failures_on_an_account_block_it_briefly_and_a_success_clears_them() {
        let t = T::new().await;
        let t0 = Utc::now();
        let acc = account_key(" Demo ", "Owner@Demo.test");
        assert_eq!(acc, account_key("demo", "owner@demo.test"));
        for _ in 0..PER_ACCOUNT.free {
            t.fail(ADDR, &acc, t0).await.unwrap();
        }
        // The sixth failure in a row: blocked for a second, from any address, on any instance.
        assert_eq!(t.other_instance().fail(OTHER_ADDR, &acc, t0).await, Err(Duration::from_secs(1)));
        let t1 = t0 + secs(1);
        t.succeed(OTHER_ADDR, &acc, "dev-1", t1).await;
        for _ in 0..PER_ACCOUNT.free {
            t.fail(OTHER_ADDR, &acc, t1).await.unwrap();
        }
        assert!(t.begin(OTHER_ADDR, &acc, None, t1).await.is_err(), "the account's own limit again");
        // Nothing names the account or the device in clear.
        let c = t.pool.get().await.unwrap();
        let keys: Vec<String> =
            c.query("SELECT key FROM sign_in_throttle", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
        assert!(keys.iter().all(|k| !k.contains("demo")), "{keys:?}");
        let n: i64 =
            c.query_one("SELECT count(*) FROM sign_in_known_devices WHERE device = 'dev-1'", &[]).await.unwrap().get(0);
        assert_eq!(n, 0);
    }

    #[tokio::test]
    async fn an_attacker_cannot_hold_an_account_for_long_nor_against_a_known_device() {
        let t = T::new().await;
        let mut now = Utc::now();
        let acc = account_key("demo", "owner@demo.test");
        t.succeed(ADDR, &acc, "desk-1", now).await;
        // Guessing from ever new addresses, as fast as the throttle allows.
        for i in 0..40u8 {
            let addr = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, i)));
            match t.begin(addr, &acc, None, now).await {
                Ok(a) => a.failed(now).await.unwrap(),
                Err(wait) => {
                    assert!(wait <= PER_ACCOUNT.cap, "{wait:?}");
                    now += to_chrono(wait);
                }
            }
        }
        if let Ok(a) = t.begin(Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 1, 1))), &acc, None, now).await {
            a.failed(now).await.unwrap();
        }
        assert!(t.begin(OTHER_ADDR, &acc, None, now).await.is_err(), "unknown devices wait");
        assert!(t.begin(ADDR, &acc, Some("desk-1"), now).await.is_ok(), "the desk that signed in before does not");
        assert!(t.begin(ADDR, &acc, Some("forged"), now).await.is_err(), "an unknown device id is no key");
    }

    #[tokio::test]
    async fn an_address_guessing_many_accounts_is_held_for_longer() {
        let t = T::new().await;
        let now = Utc::now();
        for i in 0..PER_ADDRESS.free {
            t.fail(ADDR, &account_key("demo", &format!("u{i}@x.test")), now).await.unwrap();
        }
        let fresh = account_key("demo", "fresh@x.test");
        assert_eq!(t.fail(ADDR, &fresh, now).await, Err(Duration::from_secs(1)));
        assert!(t.begin(OTHER_ADDR, &fresh, None, now).await.is_ok(), "other addresses are not held");
        // A success does not clear the address: the next failure there doubles the delay.
        let later = now + secs(1);
        t.succeed(ADDR, &fresh, "d", later).await;
        t.fail(ADDR, &account_key("demo", "again@x.test"), later).await.unwrap();
        assert_eq!(t.begin(ADDR, &fresh, None, later).await.err(), Some(Duration::from_secs(2)));
        // A quiet quarter of an hour forgets it all.
        let much_later = later + secs(2) + to_chrono(FORGET);
        assert!(t.begin(ADDR, &fresh, None, much_later).await.is_ok());
        t.fail(ADDR, &fresh, much_later).await.unwrap();
        assert!(t.begin(ADDR, &fresh, None, much_later).await.is_ok(), "one failure after the pause is a first one");
        // The sweep deletes what is forgotten, and only that.
        let c = t.pool.get().await.unwrap();
        sweep(&c, much_later + to_chrono(FORGET) + to_chrono(LEASE)).await.unwrap();
        let left: i64 = c.query_one("SELECT count(*) FROM sign_in_throttle", &[]).await.unwrap().get(0);
        assert_eq!(left, 0);
    }

    #[tokio::test]
    async fn past_the_allowance_parallel_attempts_go_one_at_a_time_even_on_other_instances() {
        let t = T::new().await;
        let other = t.other_instance();
        let now = Utc::now();
        let acc = account_key("demo", "owner@demo.test");
        // Below the allowance several may be under way at once (an office signing in at nine)...
        let mut first = Vec::new();
        for i in 0..PER_ACCOUNT.free {
            let on = if i % 2 == 0 { &t } else { &other };
            first.push(on.begin(None, &acc, None, now).await.unwrap());
        }
        // ...but not more than it leaves.
        assert!(other.begin(None, &acc, None, now).await.is_err());
        drop(first);
        // Dropped attempts stop counting (a task of their own ends them).
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while t.begin(None, &acc, None, now).await.is_err() {
            assert!(std::time::Instant::now() < deadline, "dropped attempts still count");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // An attempt whose instance died counts only until its lease runs out.
        let acc = account_key("demo", "manager@demo.test");
        for _ in 0..PER_ACCOUNT.free {
            let mut a = other.begin(None, &acc, None, now).await.unwrap();
            a.reported = true; // as if its process had died
        }
        assert!(t.begin(None, &acc, None, now).await.is_err());
        assert!(t.begin(None, &acc, None, now + to_chrono(LEASE)).await.is_ok(), "the lease ran out");
    }
}

//! Configuration: built-in defaults, then `TOURDESK_*` environment variables, then a TOML file
//! named by `TOURDESK_CONFIG` (the most specific source wins). Secrets are masked in `Debug`.

use std::fmt;

use serde::Deserialize;

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Development mode: the server then starts with the settings that are unsafe anywhere else
    /// (placeholder Stripe keys, the public development webhook secret, demo data) and warns
    /// about each. Off by default, so a production server refuses them.
    pub dev_mode: bool,
    /// libpq-style connection string or URL of the role the server runs as, e.g.
    /// `postgres://tourdesk_server:secret@db.internal:5432/tourdesk`: a member of `tourdesk_app`
    /// that is no superuser, has no BYPASSRLS and owns no table (the server refuses to start
    /// otherwise), so row-level security binds every query.
    pub database_url: String,
    /// The schema owner, for migrations and the demo data only. Set, the server migrates (and
    /// loads the demo data) through it before serving, on a connection of its own; unset, the schema is left
    /// to `tourdesk-sync-server migrate` run with it.
    pub migrate_database_url: Option<String>,
    pub listen: String,
    /// Load the demo organization ([`crate::demo_data`]) on start (development and demos only).
    /// `TOURDESK_DEMO_DATA`; the file and environment names it had before, `demo_data` and
    /// `TOURDESK_SEED_DEMO`, are still read.
    #[serde(alias = "demo_data")]
    pub demo_data: bool,
    /// Lifetime of a staff access token. Short, because a stolen one is only cut off by
    /// revoking its device; desks renew it silently with their refresh token.
    pub access_token_ttl_seconds: u64,
    /// Lifetime of a refresh token from its issue. Each refresh issues a new one, so a device
    /// used at least this often never needs the password again.
    pub refresh_token_ttl_seconds: u64,
    /// Throttle failed sign-ins per client address too (always per account). Behind a reverse
    /// proxy every client has the proxy's address: turn this off there and limit at the proxy.
    pub sign_in_address_limit: bool,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    pub pool_size: usize,
    /// The `[stripe]` table.
    pub stripe: StripeConfig,
    /// Outgoing e-mail (`[mail]`).
    pub mail: crate::mail::MailConfig,
    /// Booking texts through Twilio (`[sms]`).
    pub sms: crate::sms::SmsConfig,
    /// The `[booking]` table: the public booking path's holds, jobs and limits.
    pub booking: BookingConfig,
    /// The directory of signed desk updates that `cargo xtask release` fills
    /// (`<dir>/<channel>/latest.json` and the artifacts beside it), served under
    /// `/updates/v1/`. Unset: desks asking for updates are told there is none.
    pub updates_dir: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BookingConfig {
    /// How long an unpaid website booking keeps its seats.
    pub hold_seconds: u64,
    /// How often the background jobs (hold expiry, refund sending, reminders) run.
    pub jobs_interval_ms: u64,
    /// How long before a departure its confirmed bookings are reminded by e-mail; 0 turns
    /// reminders off.
    pub reminder_hours: u32,
    /// Sustained requests per second per client address on the public API; 0 turns limiting off.
    pub rate_limit_per_second: u32,
    /// Requests a client address may make at once before the sustained rate applies.
    pub rate_limit_burst: u32,
    /// Keep each server instance's availability and tour details in memory, checked against the
    /// organization's change counter on every request (one lookup instead of the full reads).
    /// Off only to measure what it saves (the website bench) or to rule it out.
    pub catalogue_cache: bool,
    /// How long seats offered to a waitlist entry stay held for it (`domain::waitlist`), clamped
    /// to the longest seat hold and never past the departure's start.
    pub waitlist_offer_seconds: u64,
}

impl Default for BookingConfig {
    fn default() -> Self {
        BookingConfig {
            hold_seconds: 15 * 60,
            jobs_interval_ms: 10_000,
            reminder_hours: 24,
            rate_limit_per_second: 10,
            rate_limit_burst: 40,
            catalogue_cache: true,
            waitlist_offer_seconds: 24 * 3600,
        }
    }
}

/// Stripe credentials and endpoint. The defaults are placeholders that no Stripe account accepts,
/// so a development server never reaches a real account by accident.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StripeConfig {
    /// `sk_test_…` / `sk_live_…` (or a restricted `rk_…` key).
    pub secret_key: String,
    /// The endpoint's signing secret, `whsec_…`. Several, separated by commas, while a secret is
    /// being rolled: Stripe signs with the new one and events signed with the old one still arrive.
    pub webhook_secret: String,
    /// Where the API lives, e.g. `http://127.0.0.1:PORT` for the test fake; `None` = api.stripe.com.
    pub api_base: Option<String>,
    /// `pk_…`, handed to browsers; not a secret.
    pub publishable_key: String,
    /// Where the website's payment page loads Stripe.js from (tests point it at a fake).
    pub js_url: String,
}

/// Stripe.js, as Stripe serves it (it must be loaded from Stripe, never bundled).
pub const STRIPE_JS_URL: &str = "https://js.stripe.com/v3/";

/// The development placeholders. The webhook secret is public (it is in this source), so anyone
/// can sign a "payment succeeded" with it: a server outside development mode refuses all three.
pub const DEV_STRIPE_SECRET_KEY: &str = "sk_test_tourdesk_dev";
pub const DEV_STRIPE_WEBHOOK_SECRET: &str = "whsec_tourdesk_dev";
pub const DEV_STRIPE_PUBLISHABLE_KEY: &str = "pk_test_tourdesk_dev";

impl Default for StripeConfig {
    fn default() -> Self {
        StripeConfig {
            secret_key: DEV_STRIPE_SECRET_KEY.into(),
            webhook_secret: DEV_STRIPE_WEBHOOK_SECRET.into(),
            api_base: None,
            publishable_key: DEV_STRIPE_PUBLISHABLE_KEY.into(),
            js_url: STRIPE_JS_URL.into(),
        }
    }
}

impl fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeConfig")
            .field("secret_key", &mask_secret(&self.secret_key))
            .field("webhook_secret", &mask_secret(&self.webhook_secret))
            .field("api_base", &self.api_base)
            .field("publishable_key", &self.publishable_key)
            .field("js_url", &self.js_url)
            .finish()
    }
}

/// Keeps the kind and mode of a Stripe secret (`sk_live_***`, `whsec_***`), which is what one
/// needs when reading logs, and hides the rest. Each comma-separated secret is masked on its own.
pub fn mask_secret(secret: &str) -> String {
    secret
        .split(',')
        .map(|one| {
            let prefix: Vec<&str> = one
                .trim()
                .split('_')
                .take_while(|part| matches!(*part, "sk" | "rk" | "whsec" | "test" | "live"))
                .collect();
            if prefix.is_empty() { "***".to_string() } else { format!("{}_***", prefix.join("_")) }
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Default for Config {
    fn default() -> Self {
        Config {
            // The project-local dev cluster that `cargo xtask run` starts.
            database_url: "postgres://tourdesk_server@127.0.0.1:5433/tourdesk".into(),
            migrate_database_url: None,
            listen: "127.0.0.1:8787".into(),
            dev_mode: false,
            demo_data: false,
            access_token_ttl_seconds: 900,
            refresh_token_ttl_seconds: 30 * 24 * 3600,
            sign_in_address_limit: true,
            body_limit_bytes: 2 * 1024 * 1024,
            pool_size: 16,
            stripe: StripeConfig::default(),
            mail: crate::mail::MailConfig::default(),
            sms: crate::sms::SmsConfig::default(),
            booking: BookingConfig::default(),
            updates_dir: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &mask_url(&self.database_url))
            .field("migrate_database_url", &self.migrate_database_url.as_deref().map(mask_url))
            .field("listen", &self.listen)
            .field("dev_mode", &self.dev_mode)
            .field("demo_data", &self.demo_data)
            .field("access_token_ttl_seconds", &self.access_token_ttl_seconds)
            .field("refresh_token_ttl_seconds", &self.refresh_token_ttl_seconds)
            .field("sign_in_address_limit", &self.sign_in_address_limit)
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("pool_size", &self.pool_size)
            .field("stripe", &self.stripe)
            .field("mail", &self.mail)
            .field("sms", &self.sms)
            .field("booking", &self.booking)
            .field("updates_dir", &self.updates_dir)
            .finish()
    }
}

/// Hides the password of a `scheme://user:password@host` URL and of a `password=` keyword.
pub fn mask_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((creds, host)) = rest.split_once('@')
    {
        let user = creds.split(':').next().unwrap_or("");
        return format!("{scheme}://{user}:***@{host}");
    }
    url.split_whitespace()
        .map(|kv| if kv.starts_with("password=") { "password=***" } else { kv })
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
    #[error("config file {path}: {message}")]
    File { path: String, message: String },
    #[error("{name}: {message}")]
    Invalid { name: &'static str, message: String },
    #[error(
        "refusing to start with settings that are unsafe outside development: {}; configure them, or set \
         TOURDESK_DEV_MODE=true on a development machine",
        .0.join("; ")
    )]
    Unsafe(Vec<String>),
}

impl Config {
    /// Defaults → environment → file.
    pub fn load() -> Result<Config, ConfigError> {
        let mut c = Config::default();
        c.apply_env(|k| std::env::var(k).ok())?;
        if let Ok(path) = std::env::var("TOURDESK_CONFIG") {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| ConfigError::File { path: path.clone(), message: e.to_string() })?;
            c = c.apply_file(&text).map_err(|message| ConfigError::File { path, message })?;
        }
        c.validate()?;
        Ok(c)
    }

    /// The settings that are only acceptable on a development machine, one phrase each (secrets
    /// are never quoted). Online payments are part of the product, so there is no "payments off":
    /// a production server needs real Stripe keys.
    pub fn unsafe_settings(&self) -> Vec<String> {
        let mut found = Vec::new();
        let key = self.stripe.secret_key.trim();
        if key.is_empty() || key == DEV_STRIPE_SECRET_KEY || !(key.starts_with("sk_") || key.starts_with("rk_")) {
            found.push("the Stripe secret key (TOURDESK_STRIPE_SECRET_KEY) is a placeholder or missing".to_string());
        }
        let pk = self.stripe.publishable_key.trim();
        if pk.is_empty() || pk == DEV_STRIPE_PUBLISHABLE_KEY || !pk.starts_with("pk_") {
            found.push(
                "the Stripe publishable key (TOURDESK_STRIPE_PUBLISHABLE_KEY) is a placeholder or missing".to_string(),
            );
        }
        let secrets: Vec<&str> =
            self.stripe.webhook_secret.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        if secrets.is_empty() || secrets.contains(&DEV_STRIPE_WEBHOOK_SECRET) {
            found.push(
                "the Stripe webhook secret (TOURDESK_STRIPE_WEBHOOK_SECRET) is unset or the public development one, \
                 so anyone could forge a payment"
                    .to_string(),
            );
        } else if secrets.iter().any(|s| !s.starts_with("whsec_")) {
            found.push(
                "a Stripe webhook secret (TOURDESK_STRIPE_WEBHOOK_SECRET) is not a whsec_… signing secret".into(),
            );
        }
        if self.demo_data {
            found.push("demo data (TOURDESK_DEMO_DATA) creates accounts with a published password".to_string());
        }
        found
    }

    /// Outside development mode, refuses every [`Config::unsafe_settings`] at once (one line,
    /// naming each). In development mode they are allowed, and returned for the caller to shout.
    pub fn check_safe(&self) -> Result<Vec<String>, ConfigError> {
        let found = self.unsafe_settings();
        if self.dev_mode || found.is_empty() { Ok(found) } else { Err(ConfigError::Unsafe(found)) }
    }

    /// Every `TOURDESK_*` name this server reads from its environment.
    pub fn server_env_names() -> Vec<String> {
        let names = std::cell::RefCell::new(vec!["TOURDESK_CONFIG".to_string()]);
        // Reading the environment through a recorder lists exactly the names `apply_env` asks
        // for, so a new setting cannot be forgotten here.
        let _ = Config::default().apply_env(|k| {
            names.borrow_mut().push(k.to_string());
            None
        });
        names.into_inner()
    }

    /// The `TOURDESK_*` variables among `vars` that nothing of Tourdesk reads, each with the
    /// known name it most likely misspells. The desk's and the tools' names are known too (one
    /// shell often configures both), so only a real typo or a stale name is reported.
    pub fn unknown_env(vars: impl IntoIterator<Item = String>) -> Vec<(String, Option<String>)> {
        let mut known = Config::server_env_names();
        known.extend(OTHER_ENV_NAMES.iter().map(|s| s.to_string()));
        vars.into_iter()
            .filter(|v| v.starts_with("TOURDESK_") && !known.contains(v))
            .map(|v| {
                let guess = known
                    .iter()
                    .map(|k| (edit_distance(&v, k), k))
                    .filter(|(d, _)| *d <= 3)
                    .min()
                    .map(|(_, k)| k.clone());
                (v, guess)
            })
            .collect()
    }

    /// Refuses lifetimes that would make every token dead on arrival (the database refuses a
    /// refresh token that expires when it is issued).
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, v) in [
            ("access_token_ttl_seconds", self.access_token_ttl_seconds),
            ("refresh_token_ttl_seconds", self.refresh_token_ttl_seconds),
        ] {
            if v == 0 {
                return Err(ConfigError::Invalid { name, message: "must be at least 1".into() });
            }
        }
        Ok(())
    }

    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parse<T: std::str::FromStr>(name: &str, v: String) -> Result<T, ConfigError> {
            v.parse().map_err(|_| ConfigError::Env { name: name.into(), message: format!("cannot parse {v:?}") })
        }
        if let Some(v) = get("TOURDESK_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = get("TOURDESK_MIGRATE_DATABASE_URL") {
            // Empty means "do not migrate", so an inherited value can be switched off.
            self.migrate_database_url = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = get("TOURDESK_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = get("TOURDESK_DEV_MODE") {
            self.dev_mode = parse("TOURDESK_DEV_MODE", v)?;
        }
        let (old, new) = (get("TOURDESK_SEED_DEMO"), get("TOURDESK_DEMO_DATA"));
        if let Some(v) = new {
            self.demo_data = parse("TOURDESK_DEMO_DATA", v)?;
        } else if let Some(v) = old {
            self.demo_data = parse("TOURDESK_SEED_DEMO", v)?;
        }
        if get("TOURDESK_TOKEN_TTL_SECONDS").is_some() {
            // It meant an 8-hour session; silently ignoring it would change what an operator
            // configured, so name the replacement instead.
            return Err(ConfigError::Env {
                name: "TOURDESK_TOKEN_TTL_SECONDS".into(),
                message: "renamed: set TOURDESK_ACCESS_TOKEN_TTL_SECONDS (and TOURDESK_REFRESH_TOKEN_TTL_SECONDS)"
                    .into(),
            });
        }
        if let Some(v) = get("TOURDESK_ACCESS_TOKEN_TTL_SECONDS") {
            self.access_token_ttl_seconds = parse("TOURDESK_ACCESS_TOKEN_TTL_SECONDS", v)?;
        }
        if let Some(v) = get("TOURDESK_REFRESH_TOKEN_TTL_SECONDS") {
            self.refresh_token_ttl_seconds = parse("TOURDESK_REFRESH_TOKEN_TTL_SECONDS", v)?;
        }
        if let Some(v) = get("TOURDESK_SIGN_IN_ADDRESS_LIMIT") {
            self.sign_in_address_limit = parse("TOURDESK_SIGN_IN_ADDRESS_LIMIT", v)?;
        }
        if let Some(v) = get("TOURDESK_BODY_LIMIT_BYTES") {
            self.body_limit_bytes = parse("TOURDESK_BODY_LIMIT_BYTES", v)?;
        }
        if let Some(v) = get("TOURDESK_POOL_SIZE") {
            self.pool_size = parse("TOURDESK_POOL_SIZE", v)?;
        }
        if let Some(v) = get("TOURDESK_STRIPE_SECRET_KEY") {
            self.stripe.secret_key = v;
        }
        if let Some(v) = get("TOURDESK_STRIPE_WEBHOOK_SECRET") {
            self.stripe.webhook_secret = v;
        }
        if let Some(v) = get("TOURDESK_STRIPE_API_BASE") {
            // Empty means "back to api.stripe.com", so an inherited value can be switched off.
            self.stripe.api_base = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = get("TOURDESK_STRIPE_PUBLISHABLE_KEY") {
            self.stripe.publishable_key = v;
        }
        if let Some(v) = get("TOURDESK_STRIPE_JS_URL") {
            self.stripe.js_url = if v.trim().is_empty() { STRIPE_JS_URL.into() } else { v };
        }
        self.mail.apply_env(&get);
        self.sms.apply_env(&get);
        if let Some(v) = get("TOURDESK_HOLD_SECONDS") {
            self.booking.hold_seconds = parse("TOURDESK_HOLD_SECONDS", v)?;
        }
        if let Some(v) = get("TOURDESK_WAITLIST_OFFER_SECONDS") {
            self.booking.waitlist_offer_seconds = parse("TOURDESK_WAITLIST_OFFER_SECONDS", v)?;
        }
        if let Some(v) = get("TOURDESK_JOBS_INTERVAL_MS") {
            self.booking.jobs_interval_ms = parse("TOURDESK_JOBS_INTERVAL_MS", v)?;
        }
        if let Some(v) = get("TOURDESK_REMINDER_HOURS") {
            self.booking.reminder_hours = parse("TOURDESK_REMINDER_HOURS", v)?;
        }
        if let Some(v) = get("TOURDESK_RATE_LIMIT_PER_SECOND") {
            self.booking.rate_limit_per_second = parse("TOURDESK_RATE_LIMIT_PER_SECOND", v)?;
        }
        if let Some(v) = get("TOURDESK_RATE_LIMIT_BURST") {
            self.booking.rate_limit_burst = parse("TOURDESK_RATE_LIMIT_BURST", v)?;
        }
        if let Some(v) = get("TOURDESK_CATALOGUE_CACHE") {
            self.booking.catalogue_cache = parse("TOURDESK_CATALOGUE_CACHE", v)?;
        }
        if let Some(v) = get("TOURDESK_UPDATES_DIR") {
            self.updates_dir = Some(v).filter(|v| !v.trim().is_empty());
        }
        Ok(())
    }

    /// Overlays the keys present in a TOML document. Tables (`[stripe]`) are overlaid key by
    /// key too, so a file naming only `stripe.secret_key` keeps the webhook secret from the env.
    pub fn apply_file(&self, toml_text: &str) -> Result<Config, String> {
        let mut overlay: toml::Table = toml_text.parse().map_err(|e: toml::de::Error| e.to_string())?;
        // The key's name before the demo module was renamed; the base names it `demo_data`.
        if let Some(v) = overlay.remove("seed_demo") {
            overlay.entry("demo_data").or_insert(v);
        }
        let mut base = toml::Table::try_from(self.clone_plain()).map_err(|e| e.to_string())?;
        merge(&mut base, overlay);
        toml::Value::Table(base).try_into().map_err(|e: toml::de::Error| e.to_string())
    }

    fn clone_plain(&self) -> PlainConfig {
        PlainConfig {
            database_url: self.database_url.clone(),
            migrate_database_url: self.migrate_database_url.clone(),
            listen: self.listen.clone(),
            dev_mode: self.dev_mode,
            demo_data: self.demo_data,
            access_token_ttl_seconds: self.access_token_ttl_seconds,
            refresh_token_ttl_seconds: self.refresh_token_ttl_seconds,
            sign_in_address_limit: self.sign_in_address_limit,
            body_limit_bytes: self.body_limit_bytes as u64,
            pool_size: self.pool_size as u64,
            stripe: PlainStripeConfig {
                secret_key: self.stripe.secret_key.clone(),
                webhook_secret: self.stripe.webhook_secret.clone(),
                api_base: self.stripe.api_base.clone(),
                publishable_key: self.stripe.publishable_key.clone(),
                js_url: self.stripe.js_url.clone(),
            },
            mail: self.mail.clone(),
            booking: self.booking.clone(),
            updates_dir: self.updates_dir.clone(),
        }
    }
}

/// `TOURDESK_*` names read by the desk (`src-tauri/src/config.rs`) and by the test and dev
/// tooling, which may share the server's environment.
const OTHER_ENV_NAMES: &[&str] = &[
    "TOURDESK_SERVER_URL",
    "TOURDESK_ORG",
    "TOURDESK_EMAIL",
    "TOURDESK_PASSWORD",
    "TOURDESK_DEVICE",
    "TOURDESK_DESK_DB",
    "TOURDESK_SYNC_INTERVAL_SECS",
    "TOURDESK_PG_BIN",
    "TOURDESK_PG_OPTS",
    "TOURDESK_TEST_CHILD_URL",
    "TOURDESK_TEST_CHILD_DESK",
    "TOURDESK_UPDATE_CHANNEL",
    "TOURDESK_UPDATE_KEY",
    "TOURDESK_UPDATE_KEY_FILE",
    "TOURDESK_UPDATE_KEY_PASSWORD",
    "TOURDESK_LOG_DIR",
    "TOURDESK_BUNDLE_SMOKE",
];

/// Levenshtein distance, to suggest the name a misspelt variable meant.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// A section present in the file (`[mail]`) overlays the keys it names, rather than replacing the
/// whole section: a file that sets only `from` must not drop an SMTP URL set in the environment.
fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (k, v) in overlay {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[derive(serde::Serialize)]
struct PlainConfig {
    database_url: String,
    // TOML has no null: an absent key deserialises back to `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    migrate_database_url: Option<String>,
    listen: String,
    dev_mode: bool,
    demo_data: bool,
    access_token_ttl_seconds: u64,
    refresh_token_ttl_seconds: u64,
    sign_in_address_limit: bool,
    body_limit_bytes: u64,
    pool_size: u64,
    stripe: PlainStripeConfig,
    mail: crate::mail::MailConfig,
    booking: BookingConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    updates_dir: Option<String>,
}

#[derive(serde::Serialize)]
struct PlainStripeConfig {
    secret_key: String,
    webhook_secret: String,
    // TOML has no null: an absent key deserialises back to `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    api_base: Option<String>,
    publishable_key: String,
    js_url: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn env_then_file_override_defaults() {
        let mut c = Config::default();
        c.apply_env(|k| match k {
            "TOURDESK_LISTEN" => Some("127.0.0.1:9000".into()),
            "TOURDESK_DEMO_DATA" => Some("true".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:9000");
        assert!(c.demo_data);
        let c = c.apply_file("listen = \"127.0.0.1:9100\"\npool_size = 4\n").unwrap();
        assert_eq!(c.listen, "127.0.0.1:9100");
        assert_eq!(c.pool_size, 4);
        assert!(c.demo_data, "keys absent from the file keep their earlier value");
        // The names from before the demo module was renamed still work.
        let mut old = Config::default();
        old.apply_env(|k| (k == "TOURDESK_SEED_DEMO").then(|| "true".to_string())).unwrap();
        assert!(old.demo_data);
        assert!(Config::default().apply_file("seed_demo = true\n").unwrap().demo_data);
    }

    #[test]
    fn bad_values_are_named() {
        let err = Config::default().apply_env(|k| (k == "TOURDESK_POOL_SIZE").then(|| "many".into())).unwrap_err();
        assert!(err.to_string().contains("TOURDESK_POOL_SIZE"));
        assert!(Config::default().apply_file("no_such_key = 1").is_err());
        let err =
            Config::default().apply_env(|k| (k == "TOURDESK_TOKEN_TTL_SECONDS").then(|| "60".into())).unwrap_err();
        assert!(err.to_string().contains("TOURDESK_ACCESS_TOKEN_TTL_SECONDS"), "{err}");
        let zero = Config::default().apply_file("refresh_token_ttl_seconds = 0").unwrap();
        assert!(zero.validate().unwrap_err().to_string().contains("refresh_token_ttl_seconds"));
    }

    #[test]
    fn token_lifetimes_come_from_env_and_file() {
        let d = Config::default();
        assert_eq!((d.access_token_ttl_seconds, d.refresh_token_ttl_seconds), (900, 30 * 24 * 3600));
        let mut c = Config::default();
        c.apply_env(|k| (k == "TOURDESK_ACCESS_TOKEN_TTL_SECONDS").then(|| "60".into())).unwrap();
        let c = c.apply_file("refresh_token_ttl_seconds = 3600").unwrap();
        assert_eq!((c.access_token_ttl_seconds, c.refresh_token_ttl_seconds), (60, 3600));
        assert!(c.validate().is_ok());
    }

    #[test]
    fn mail_comes_from_env_then_the_mail_section() {
        let c = Config::default();
        assert_eq!(c.mail.smtp_url, None, "mail is off until an SMTP URL is configured");
        assert_eq!(c.mail.public_base_url, "http://127.0.0.1:8787");
        let mut c = c;
        c.apply_env(|k| match k {
            "TOURDESK_SMTP_URL" => Some("smtp://127.0.0.1:2525".into()),
            "TOURDESK_MAIL_FROM" => Some("Desk <desk@example.test>".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.mail.smtp_url.as_deref(), Some("smtp://127.0.0.1:2525"));
        let c = c.apply_file("[mail]\npublic_base_url = \"https://book.example.test\"\n").unwrap();
        assert_eq!(c.mail.public_base_url, "https://book.example.test");
        assert_eq!(c.mail.smtp_url.as_deref(), Some("smtp://127.0.0.1:2525"), "keys absent from [mail] are kept");
        assert_eq!(c.mail.from, "Desk <desk@example.test>");
        let mut off = c.clone();
        off.apply_env(|k| (k == "TOURDESK_SMTP_URL").then(String::new)).unwrap();
        assert_eq!(off.mail.smtp_url, None, "an empty URL turns mail off");
        assert!(c.apply_file("[mail]\nsmtp = \"x\"\n").is_err(), "unknown mail keys are refused");
    }

    #[test]
    fn the_migration_url_comes_from_env_then_file() {
        let mut c = Config::default();
        assert_eq!(c.migrate_database_url, None, "the server does not migrate unless told how");
        c.apply_env(|k| (k == "TOURDESK_MIGRATE_DATABASE_URL").then(|| "postgres://owner@db/x".into())).unwrap();
        assert_eq!(c.migrate_database_url.as_deref(), Some("postgres://owner@db/x"));
        let c = c.apply_file("pool_size = 3\n").unwrap();
        assert_eq!(c.migrate_database_url.as_deref(), Some("postgres://owner@db/x"), "kept by a file without it");
        let mut c = c.apply_file("migrate_database_url = \"postgres://o2@db/x\"\n").unwrap();
        assert_eq!(c.migrate_database_url.as_deref(), Some("postgres://o2@db/x"));
        c.apply_env(|k| (k == "TOURDESK_MIGRATE_DATABASE_URL").then(String::new)).unwrap();
        assert_eq!(c.migrate_database_url, None, "an empty URL turns migrating off");
    }

    #[test]
    fn secrets_are_masked() {
        let c = Config {
            database_url: "postgres://app:s3cret@db:5432/x".into(),
            migrate_database_url: Some("postgres://owner:0wnerpw@db:5432/x".into()),
            ..Config::default()
        };
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cret") && !dbg.contains("0wnerpw"), "{dbg}");
        let mut c = Config::default();
        c.mail.smtp_url = Some("smtp://mailer:relaypw@relay.example.test:587?tls=required".into());
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("relaypw"), "{dbg}");
        assert_eq!(mask_url("host=db password=hunter2 user=x"), "host=db password=*** user=x");
        let c = Config {
            stripe: StripeConfig {
                secret_key: "sk_live_51abcSECRET".into(),
                webhook_secret: "whsec_NEWSECRET, whsec_OLDSECRET".into(),
                api_base: None,
                publishable_key: "pk_live_visible".into(),
                ..StripeConfig::default()
            },
            ..Config::default()
        };
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("SECRET"), "{dbg}");
        assert!(dbg.contains("sk_live_***") && dbg.contains("whsec_***,whsec_***") && dbg.contains("pk_live_visible"));
        assert_eq!(mask_secret("rk_test_abc"), "rk_test_***");
        assert_eq!(mask_secret("hunter2"), "***");
    }

    #[test]
    fn booking_settings_env_then_file() {
        let mut c = Config::default();
        assert_eq!(c.booking, BookingConfig::default());
        c.apply_env(|k| (k == "TOURDESK_HOLD_SECONDS").then(|| "60".into())).unwrap();
        let c = c.apply_file("[booking]\nrate_limit_per_second = 0\n").unwrap();
        assert_eq!((c.booking.hold_seconds, c.booking.rate_limit_per_second), (60, 0));
        assert_eq!(c.booking.rate_limit_burst, BookingConfig::default().rate_limit_burst);
        assert_eq!(c.booking.reminder_hours, 24);
        let mut c = c.apply_file("[booking]\nreminder_hours = 48\n").unwrap();
        assert_eq!(c.booking.reminder_hours, 48);
        c.apply_env(|k| (k == "TOURDESK_REMINDER_HOURS").then(|| "0".into())).unwrap();
        assert_eq!(c.booking.reminder_hours, 0);
        assert!(c.apply_env(|k| (k == "TOURDESK_REMINDER_HOURS").then(|| "soon".into())).is_err());
        assert_eq!(c.booking.waitlist_offer_seconds, 24 * 3600, "a day to claim waitlist seats by default");
        c.apply_env(|k| (k == "TOURDESK_WAITLIST_OFFER_SECONDS").then(|| "3600".into())).unwrap();
        assert_eq!(c.booking.waitlist_offer_seconds, 3600);
    }

    #[test]
    fn stripe_defaults_env_then_file() {
        let mut c = Config::default();
        assert_eq!(c.stripe.secret_key, "sk_test_tourdesk_dev");
        assert_eq!(c.stripe.webhook_secret, "whsec_tourdesk_dev");
        assert_eq!(c.stripe.publishable_key, "pk_test_tourdesk_dev");
        assert_eq!(c.stripe.api_base, None);
        c.apply_env(|k| match k {
            "TOURDESK_STRIPE_SECRET_KEY" => Some("sk_test_env".into()),
            "TOURDESK_STRIPE_WEBHOOK_SECRET" => Some("whsec_env".into()),
            "TOURDESK_STRIPE_API_BASE" => Some("http://127.0.0.1:9999".into()),
            "TOURDESK_STRIPE_PUBLISHABLE_KEY" => Some("pk_test_env".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.stripe.secret_key, "sk_test_env");
        assert_eq!(c.stripe.webhook_secret, "whsec_env");
        assert_eq!(c.stripe.api_base.as_deref(), Some("http://127.0.0.1:9999"));
        assert_eq!(c.stripe.publishable_key, "pk_test_env");

        let c = c.apply_file("[stripe]\nsecret_key = \"sk_test_file\"\n").unwrap();
        assert_eq!(c.stripe.secret_key, "sk_test_file");
        assert_eq!(c.stripe.webhook_secret, "whsec_env", "keys absent from [stripe] keep their earlier value");
        assert_eq!(c.stripe.api_base.as_deref(), Some("http://127.0.0.1:9999"));

        let mut c = Config::default();
        c.apply_env(|k| (k == "TOURDESK_STRIPE_API_BASE").then(String::new)).unwrap();
        assert_eq!(c.stripe.api_base, None, "an empty API base means api.stripe.com");
        let c = c.apply_file("[stripe]\napi_base = \"http://fake\"\n").unwrap();
        assert_eq!(c.stripe.api_base.as_deref(), Some("http://fake"));
        assert_eq!(c.stripe.secret_key, "sk_test_tourdesk_dev");
        assert!(Config::default().apply_file("[stripe]\nsecret = \"x\"\n").is_err(), "unknown stripe keys are refused");
    }

    fn production_like() -> Config {
        let mut c = Config::default();
        c.stripe.secret_key = "sk_live_51realkey".into();
        c.stripe.publishable_key = "pk_live_51realkey".into();
        c.stripe.webhook_secret = "whsec_realsecret".into();
        c
    }

    #[test]
    fn outside_dev_mode_unsafe_settings_refuse_the_start_in_one_line() {
        let err = Config::default().check_safe().unwrap_err();
        let line = err.to_string();
        assert!(!line.contains('\n'), "{line}");
        for name in ["TOURDESK_STRIPE_SECRET_KEY", "TOURDESK_STRIPE_PUBLISHABLE_KEY", "TOURDESK_STRIPE_WEBHOOK_SECRET"]
        {
            assert!(line.contains(name), "{name} missing from {line}");
        }
        assert!(!line.contains(DEV_STRIPE_WEBHOOK_SECRET), "secrets are named, not quoted: {line}");
        assert!(line.contains("TOURDESK_DEV_MODE"), "the way out is named: {line}");

        assert_eq!(production_like().check_safe().unwrap(), Vec::<String>::new());
        let demo = Config { demo_data: true, ..production_like() };
        assert!(demo.check_safe().unwrap_err().to_string().contains("TOURDESK_DEMO_DATA"));
        let mut forged = production_like();
        forged.stripe.webhook_secret = format!("whsec_realsecret,{DEV_STRIPE_WEBHOOK_SECRET}");
        assert!(forged.check_safe().is_err(), "the development secret is refused even beside a real one");
        forged.stripe.webhook_secret = " , ".into();
        assert!(forged.check_safe().is_err(), "no webhook secret at all");
        let mut placeholder = production_like();
        placeholder.stripe.secret_key = "changeme".into();
        assert!(placeholder.check_safe().is_err());
    }

    #[test]
    fn dev_mode_allows_the_unsafe_settings_and_lists_each() {
        let mut c = Config::default();
        c.apply_env(|k| match k {
            "TOURDESK_DEV_MODE" => Some("true".into()),
            "TOURDESK_DEMO_DATA" => Some("true".into()),
            _ => None,
        })
        .unwrap();
        assert!(c.dev_mode);
        assert_eq!(c.check_safe().unwrap().len(), 4, "secret key, publishable key, webhook secret, demo data");
        let c = Config::default().apply_file("dev_mode = true\n").unwrap();
        assert!(c.dev_mode && c.check_safe().is_ok());
        assert!(Config::default().apply_env(|k| (k == "TOURDESK_DEV_MODE").then(|| "yes".into())).is_err());
    }

    #[test]
    fn unknown_tourdesk_variables_are_reported_with_a_guess() {
        let vars = [
            "TOURDESK_HOLD_SECOND",
            "TOURDESK_HOLD_SECONDS",
            "TOURDESK_SERVER_URL",
            "TOURDESK_DEV_MODE",
            "TOURDESK_CONFIG",
            "TOURDESK_SMTP_URL",
            "TOURDESK_WHATEVER_ELSE_ENTIRELY",
            "PATH",
        ]
        .map(String::from);
        assert_eq!(
            Config::unknown_env(vars),
            [
                ("TOURDESK_HOLD_SECOND".to_string(), Some("TOURDESK_HOLD_SECONDS".to_string())),
                ("TOURDESK_WHATEVER_ELSE_ENTIRELY".to_string(), None),
            ]
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}

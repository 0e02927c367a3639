//! Configuration: built-in defaults, then `TOURDESK_*` environment variables, then a TOML file
//! named by `TOURDESK_CONFIG` (the most specific source wins). Secrets are masked in `Debug`.

use std::fmt;

use serde::Deserialize;

#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// libpq-style connection string or URL, e.g. `postgres://app:secret@db.internal:5432/tourdesk`.
    pub database_url: String,
    pub listen: String,
    /// Seed the demo organization on start (development and demos only).
    pub seed_demo: bool,
    /// Lifetime of a staff access token. Short, because a stolen one is only cut off by
    /// revoking its device; desks renew it silently with their refresh token.
    pub access_token_ttl_seconds: u64,
    /// Lifetime of a refresh token from its issue. Each refresh issues a new one, so a device
    /// used at least this often never needs the password again.
    pub refresh_token_ttl_seconds: u64,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    pub pool_size: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            // The project-local dev cluster that `cargo xtask run` starts.
            database_url: "postgres://postgres@127.0.0.1:5433/tourdesk".into(),
            listen: "127.0.0.1:8787".into(),
            seed_demo: false,
            access_token_ttl_seconds: 900,
            refresh_token_ttl_seconds: 30 * 24 * 3600,
            body_limit_bytes: 2 * 1024 * 1024,
            pool_size: 16,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &mask_url(&self.database_url))
            .field("listen", &self.listen)
            .field("seed_demo", &self.seed_demo)
            .field("access_token_ttl_seconds", &self.access_token_ttl_seconds)
            .field("refresh_token_ttl_seconds", &self.refresh_token_ttl_seconds)
            .field("body_limit_bytes", &self.body_limit_bytes)
            .field("pool_size", &self.pool_size)
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
        if let Some(v) = get("TOURDESK_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = get("TOURDESK_SEED_DEMO") {
            self.seed_demo = parse("TOURDESK_SEED_DEMO", v)?;
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
        if let Some(v) = get("TOURDESK_BODY_LIMIT_BYTES") {
            self.body_limit_bytes = parse("TOURDESK_BODY_LIMIT_BYTES", v)?;
        }
        if let Some(v) = get("TOURDESK_POOL_SIZE") {
            self.pool_size = parse("TOURDESK_POOL_SIZE", v)?;
        }
        Ok(())
    }

    /// Overlays the keys present in a TOML document.
    pub fn apply_file(&self, toml_text: &str) -> Result<Config, String> {
        let overlay: toml::Table = toml_text.parse().map_err(|e: toml::de::Error| e.to_string())?;
        let mut base = toml::Table::try_from(self.clone_plain()).map_err(|e| e.to_string())?;
        for (k, v) in overlay {
            base.insert(k, v);
        }
        toml::Value::Table(base).try_into().map_err(|e: toml::de::Error| e.to_string())
    }

    fn clone_plain(&self) -> PlainConfig {
        PlainConfig {
            database_url: self.database_url.clone(),
            listen: self.listen.clone(),
            seed_demo: self.seed_demo,
            access_token_ttl_seconds: self.access_token_ttl_seconds,
            refresh_token_ttl_seconds: self.refresh_token_ttl_seconds,
            body_limit_bytes: self.body_limit_bytes as u64,
            pool_size: self.pool_size as u64,
        }
    }
}

#[derive(serde::Serialize)]
struct PlainConfig {
    database_url: String,
    listen: String,
    seed_demo: bool,
    access_token_ttl_seconds: u64,
    refresh_token_ttl_seconds: u64,
    body_limit_bytes: u64,
    pool_size: u64,
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
            "TOURDESK_SEED_DEMO" => Some("true".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:9000");
        assert!(c.seed_demo);
        let c = c.apply_file("listen = \"127.0.0.1:9100\"\npool_size = 4\n").unwrap();
        assert_eq!(c.listen, "127.0.0.1:9100");
        assert_eq!(c.pool_size, 4);
        assert!(c.seed_demo, "keys absent from the file keep their earlier value");
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
    fn secrets_are_masked() {
        let c = Config { database_url: "postgres://app:s3cret@db:5432/x".into(), ..Config::default() };
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("s3cret"), "{dbg}");
        assert_eq!(mask_url("host=db password=hunter2 user=x"), "host=db password=*** user=x");
    }
}

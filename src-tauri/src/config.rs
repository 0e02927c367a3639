//! Desk configuration: defaults, overridden by `TOURDESK_*` environment variables. The desk
//! holds no password: a person signs in through the window. Only a debug build fills the
//! sign-in form with the demo owner (so `cargo xtask run` is a one-command demo); a release
//! build carries no credentials at all.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use tourdesk_domain::ipc::SignInDefaults;

/// Where a desk looks for its server when neither its configuration nor a sign-in said.
pub const DEFAULT_SERVER_URL: &str = "http://127.0.0.1:8787";

#[derive(Clone)]
pub struct DeskConfig {
    /// `TOURDESK_SERVER_URL`: wins over the server of the last sign-in.
    pub server_url: Option<String>,
    /// `TOURDESK_ORG` and `TOURDESK_EMAIL`: what the sign-in form starts with.
    pub organization: Option<String>,
    pub email: Option<String>,
    /// `TOURDESK_PASSWORD`, read by debug builds only, to fill the form.
    #[cfg(debug_assertions)]
    password: Option<String>,
    pub device: String,
    pub database: PathBuf,
    pub sync_interval: Duration,
    /// `TOURDESK_UPDATE_CHANNEL`: `stable` (default) or `beta`.
    pub update_channel: tourdesk_updates::Channel,
}

impl fmt::Debug for DeskConfig {
    /// Never prints the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeskConfig")
            .field("server_url", &self.server_url)
            .field("organization", &self.organization)
            .field("email", &self.email)
            .field("device", &self.device)
            .field("database", &self.database)
            .field("sync_interval", &self.sync_interval)
            .field("update_channel", &self.update_channel)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

/// The demo organization, owner and password, which a debug build fills the sign-in form with.
#[cfg(debug_assertions)]
pub fn demo_sign_in() -> Option<(&'static str, &'static str, &'static str)> {
    Some(("demo", "owner@demo.tourdesk.test", "tourdesk-demo"))
}

/// A release build knows no credentials.
#[cfg(not(debug_assertions))]
pub fn demo_sign_in() -> Option<(&'static str, &'static str, &'static str)> {
    None
}

impl DeskConfig {
    pub fn load(app_data_dir: Option<PathBuf>) -> Result<DeskConfig, ConfigError> {
        Self::from_lookup(app_data_dir, |k| std::env::var(k).ok())
    }

    pub fn from_lookup(
        app_data_dir: Option<PathBuf>,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<DeskConfig, ConfigError> {
        let database = match get("TOURDESK_DESK_DB") {
            Some(p) => PathBuf::from(p),
            None => app_data_dir
                .ok_or_else(|| ConfigError("no app data directory; set TOURDESK_DESK_DB".into()))?
                .join("tourdesk.sqlite3"),
        };
        let secs = match get("TOURDESK_SYNC_INTERVAL_SECS") {
            Some(s) => s
                .parse::<u64>()
                .map_err(|_| ConfigError(format!("TOURDESK_SYNC_INTERVAL_SECS: {s:?} is not a number")))?,
            None => 15,
        };
        // The server lists devices by this name when an admin revokes one, so it must stay the
        // same across restarts: the machine's name, not anything random. HOSTNAME is often not
        // exported to GUI apps on Linux, and Windows calls it COMPUTERNAME.
        let host = get("HOSTNAME")
            .or_else(|| get("COMPUTERNAME"))
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "desk".into());
        let set = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let update_channel = match set("TOURDESK_UPDATE_CHANNEL") {
            Some(c) => c.parse().map_err(|e| ConfigError(format!("TOURDESK_UPDATE_CHANNEL: {e}")))?,
            None => tourdesk_updates::Channel::Stable,
        };
        Ok(DeskConfig {
            server_url: set("TOURDESK_SERVER_URL"),
            organization: set("TOURDESK_ORG"),
            email: set("TOURDESK_EMAIL"),
            #[cfg(debug_assertions)]
            password: get("TOURDESK_PASSWORD").filter(|p| !p.is_empty()),
            device: get("TOURDESK_DEVICE").unwrap_or_else(|| format!("Tourdesk desk on {host}")),
            database,
            sync_interval: Duration::from_secs(secs.max(1)),
            update_channel,
        })
    }

    /// The server to sync with: the configured one, else the one this desk last signed in to
    /// (`stored`), else the local default.
    pub fn server_url_or(&self, stored: Option<String>) -> String {
        self.server_url.clone().or(stored).unwrap_or_else(|| DEFAULT_SERVER_URL.into())
    }

    /// What the sign-in form starts with from the configuration (the server address is the
    /// sync loop's). A password only in a debug build (`TOURDESK_PASSWORD`).
    pub fn form_defaults(&self) -> SignInDefaults {
        SignInDefaults {
            server_url: String::new(),
            organization: self.organization.clone().unwrap_or_default(),
            email: self.email.clone().unwrap_or_default(),
            password: self.password(),
        }
    }

    #[cfg(debug_assertions)]
    fn password(&self) -> Option<String> {
        self.password.clone()
    }

    #[cfg(not(debug_assertions))]
    fn password(&self) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn env_overrides_defaults() {
        let c = DeskConfig::from_lookup(Some("/data".into()), |k| match k {
            "TOURDESK_SYNC_INTERVAL_SECS" => Some("3".into()),
            "TOURDESK_EMAIL" => Some(" guide@demo.tourdesk.test ".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.database, PathBuf::from("/data/tourdesk.sqlite3"));
        assert_eq!(c.sync_interval, Duration::from_secs(3));
        assert_eq!(c.form_defaults().email, "guide@demo.tourdesk.test");
        assert_eq!(c.server_url_or(None), DEFAULT_SERVER_URL);
        assert_eq!(c.server_url_or(Some("https://tours.example".into())), "https://tours.example");
        let set =
            DeskConfig::from_lookup(Some("/d".into()), |k| (k == "TOURDESK_SERVER_URL").then(|| "http://s".into()));
        assert_eq!(set.unwrap().server_url_or(Some("https://old".into())), "http://s", "the configured server wins");
        assert!(DeskConfig::from_lookup(None, |_| None).is_err());
        let named = DeskConfig::from_lookup(Some("/d".into()), |k| (k == "COMPUTERNAME").then(|| "FRONT-1\n".into()));
        assert_eq!(named.unwrap().device, "Tourdesk desk on FRONT-1");
        let beta =
            DeskConfig::from_lookup(Some("/d".into()), |k| (k == "TOURDESK_UPDATE_CHANNEL").then(|| "beta".into()));
        assert_eq!(beta.unwrap().update_channel, tourdesk_updates::Channel::Beta);
        assert!(
            DeskConfig::from_lookup(Some("/d".into()), |k| (k == "TOURDESK_UPDATE_CHANNEL").then(|| "x".into()))
                .is_err()
        );
        assert!(
            DeskConfig::from_lookup(Some("/d".into()), |k| (k == "TOURDESK_SYNC_INTERVAL_SECS").then(|| "soon".into()))
                .is_err()
        );
    }

    /// Only a debug build fills in a password; a release build has none to give, whatever the
    /// environment says.
    #[test]
    fn only_debug_builds_know_a_password() {
        let c = DeskConfig::from_lookup(Some("/d".into()), |k| (k == "TOURDESK_PASSWORD").then(|| "hunter2".into()))
            .unwrap();
        if cfg!(debug_assertions) {
            assert_eq!(c.form_defaults().password.as_deref(), Some("hunter2"));
            assert!(!format!("{c:?}").contains("hunter2"), "{c:?}");
            assert!(demo_sign_in().is_some());
        } else {
            assert_eq!(c.form_defaults().password, None);
            assert!(demo_sign_in().is_none());
        }
    }
}

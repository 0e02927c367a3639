//! Desk configuration: defaults (the local demo server and its demo owner), overridden by
//! `TOURDESK_*` environment variables. The password is never printed.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use tourdesk_local_store::Credentials;

#[derive(Clone)]
pub struct DeskConfig {
    pub server_url: String,
    pub organization: String,
    pub email: String,
    password: String,
    pub device: String,
    pub database: PathBuf,
    pub sync_interval: Duration,
}

impl fmt::Debug for DeskConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeskConfig")
            .field("server_url", &self.server_url)
            .field("organization", &self.organization)
            .field("email", &self.email)
            .field("password", &"***")
            .field("device", &self.device)
            .field("database", &self.database)
            .field("sync_interval", &self.sync_interval)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

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
        Ok(DeskConfig {
            server_url: get("TOURDESK_SERVER_URL").unwrap_or_else(|| "http://127.0.0.1:8787".into()),
            organization: get("TOURDESK_ORG").unwrap_or_else(|| "demo".into()),
            email: get("TOURDESK_EMAIL").unwrap_or_else(|| "owner@demo.tourdesk.test".into()),
            password: get("TOURDESK_PASSWORD").unwrap_or_else(|| "tourdesk-demo".into()),
            device: get("TOURDESK_DEVICE").unwrap_or_else(|| format!("Tourdesk desk on {host}")),
            database,
            sync_interval: Duration::from_secs(secs.max(1)),
        })
    }

    pub fn credentials(&self) -> Credentials {
        Credentials {
            organization: self.organization.clone(),
            email: self.email.clone(),
            password: self.password.clone(),
            device: self.device.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn env_overrides_defaults_and_password_is_masked() {
        let c = DeskConfig::from_lookup(Some("/data".into()), |k| match k {
            "TOURDESK_PASSWORD" => Some("hunter2".into()),
            "TOURDESK_SYNC_INTERVAL_SECS" => Some("3".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(c.database, PathBuf::from("/data/tourdesk.sqlite3"));
        assert_eq!(c.sync_interval, Duration::from_secs(3));
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.credentials().password, "hunter2");
        assert!(DeskConfig::from_lookup(None, |_| None).is_err());
        let named = DeskConfig::from_lookup(Some("/d".into()), |k| (k == "COMPUTERNAME").then(|| "FRONT-1\n".into()));
        assert_eq!(named.unwrap().device, "Tourdesk desk on FRONT-1");
        assert!(
            DeskConfig::from_lookup(Some("/d".into()), |k| (k == "TOURDESK_SYNC_INTERVAL_SECS").then(|| "soon".into()))
                .is_err()
        );
    }
}

//! Signed auto-update. The desk asks its sync-server (`/updates/v1/…`, see
//! `sync-server/src/updates.rs`) at start and daily whether its channel has something newer,
//! shows what is new, and installs when a person accepts: `tauri-plugin-updater` downloads the
//! artifact and verifies its minisign signature against the public key compiled in
//! ([`tourdesk_updates::PROJECT_PUBLIC_KEY`]) and that it was signed for the version announced,
//! so a tampered artifact or one signed with another key is never installed.
//!
//! An update never runs ahead of unsent work: while the outbox holds changes, the desk pushes
//! them first, and if it cannot (offline, nobody signed in) it says why it waits
//! ([`install_decision`]). The replica and the outbox stay in the same SQLite file across
//! versions; the new version migrates it at start, before it syncs.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use tauri::{AppHandle, Emitter, Runtime, Url};
use tauri_plugin_updater::{Update, UpdaterExt};
use tourdesk_domain::ipc::{AvailableUpdate, Connection, DeskStatus, InstallOutcome, UpdateStatus, events};
use tourdesk_updates::Channel;

use crate::error::{DeskError, DeskResult};

/// How often a running desk asks again.
pub const CHECK_EVERY: Duration = Duration::from_secs(24 * 3600);
/// How long an install waits for the push of this desk's unsent changes before it says why it waits.
const PUSH_WAIT: Duration = Duration::from_secs(60);

/// What to do when a person presses "Install", from the desk's sync state alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallDecision {
    /// Nothing unsent: install now.
    Install,
    /// Unsent changes and a way to send them: push first, then decide again.
    PushFirst { pending: u64 },
    /// Unsent changes that cannot be sent now: install nothing, and tell the person why.
    Wait { reason: String },
}

fn changes(n: u64) -> String {
    if n == 1 { "1 change".into() } else { format!("{n} changes") }
}

/// The rule: an update never installs while this desk's outbox holds work the server has not
/// received. The new version would replay it (mutations are versioned), but a person deciding to
/// update must not be the moment days of offline work are put at risk.
pub fn install_decision(pending: u64, needs_sign_in: bool, connection: Connection) -> InstallDecision {
    if pending == 0 {
        return InstallDecision::Install;
    }
    let n = changes(pending);
    if needs_sign_in {
        return InstallDecision::Wait {
            reason: format!(
                "{n} made on this desk {} not been sent to the server, and nobody is signed in to send them. \
                 Sign in; the update can be installed once they are sent.",
                if pending == 1 { "has" } else { "have" }
            ),
        };
    }
    match connection {
        Connection::Offline | Connection::Error => InstallDecision::Wait {
            reason: format!(
                "{n} made on this desk {} not been sent yet and the server cannot be reached now. \
                 The update can be installed once they are sent.",
                if pending == 1 { "has" } else { "have" }
            ),
        },
        Connection::Starting | Connection::Syncing | Connection::Online => InstallDecision::PushFirst { pending },
    }
}

/// The decision from what the sync loop reports.
pub fn decide(status: &DeskStatus) -> InstallDecision {
    install_decision(status.pending, status.needs_sign_in, status.connection)
}

/// The update endpoint of a sync-server, with the updater's placeholders.
pub fn endpoint(server_url: &str, channel: Channel) -> DeskResult<Url> {
    let url = format!(
        "{}/updates/v1/{channel}/{{{{target}}}}/{{{{arch}}}}/{{{{current_version}}}}?bundle={{{{bundle_type}}}}",
        server_url.trim().trim_end_matches('/')
    );
    url.parse().map_err(|_| DeskError::Update(format!("the server address {server_url:?} is not a URL")))
}

/// The update plugin with the given public key (the project's in the app, a throwaway one in tests).
pub fn plugin<R: Runtime>(pubkey: &str) -> tauri::plugin::TauriPlugin<R, tauri_plugin_updater::Config> {
    tauri_plugin_updater::Builder::new().pubkey(pubkey.trim()).build()
}

/// Asks the server at `server_url` for a newer version on `channel`.
pub async fn check<R: Runtime>(app: &AppHandle<R>, server_url: &str, channel: Channel) -> DeskResult<Option<Update>> {
    check_installing_over(app, server_url, channel, None).await
}

/// [`check`], with the offered update installing over `executable` instead of the running
/// executable when given (see [`Updates::installing_over`]).
async fn check_installing_over<R: Runtime>(
    app: &AppHandle<R>,
    server_url: &str,
    channel: Channel,
    executable: Option<&Path>,
) -> DeskResult<Option<Update>> {
    let mut builder = app.updater_builder();
    if let Some(path) = executable {
        builder = builder.executable_path(path);
    }
    let updater = builder
        .endpoints(vec![endpoint(server_url, channel)?])
        .and_then(|b| b.timeout(Duration::from_secs(60)).build())
        .map_err(|e| DeskError::Update(format!("the updater could not start: {e}")))?;
    updater.check().await.map_err(|e| DeskError::Update(format!("could not check for updates: {e}")))
}

/// The update state the window shows (managed by the app; absent in command tests that do not
/// need it).
pub struct Updates {
    pub channel: Channel,
    /// Where an update installs; `None` (always, in the app) is the running executable.
    install_over: Option<PathBuf>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    update: Option<Update>,
    last_checked_at: Option<String>,
    last_error: Option<String>,
    waiting: Option<String>,
    installing: bool,
}

impl Updates {
    pub fn new(channel: Channel) -> Updates {
        Updates { channel, install_over: None, state: Mutex::new(State::default()) }
    }

    /// Installs updates over the file at `executable` instead of the running executable: the
    /// install path is exercised for real in tests (an AppImage replaced in a temporary
    /// directory) without replacing the test binary. Only Rust code can set it (no setting or
    /// environment variable reaches it), and the signature is verified all the same.
    pub fn installing_over(mut self, executable: impl Into<PathBuf>) -> Updates {
        self.install_over = Some(executable.into());
        self
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn status(&self, current_version: &str) -> UpdateStatus {
        let s = self.state();
        UpdateStatus {
            current_version: current_version.to_string(),
            channel: self.channel.to_string(),
            available: s.update.as_ref().map(|u| AvailableUpdate {
                version: u.version.clone(),
                notes: u.body.clone().unwrap_or_default(),
                pub_date: u.raw_json.get("pub_date").and_then(|d| d.as_str()).map(str::to_string),
            }),
            last_checked_at: s.last_checked_at.clone(),
            last_error: s.last_error.clone(),
            waiting: s.waiting.clone(),
            installing: s.installing,
        }
    }

    /// Checks now and remembers the answer; tells the window when something is offered.
    pub async fn check_now<R: Runtime>(&self, app: &AppHandle<R>, server_url: &str) -> UpdateStatus {
        let result = check_installing_over(app, server_url, self.channel, self.install_over.as_deref()).await;
        {
            let mut s = self.state();
            s.last_checked_at = Some(chrono::Utc::now().to_rfc3339());
            match result {
                Ok(u) => {
                    if let Some(u) = &u {
                        tracing::info!(version = %u.version, "a desk update is available");
                    }
                    s.update = u;
                    s.last_error = None;
                }
                Err(e) => {
                    tracing::warn!("{e}");
                    s.last_error = Some(e.to_string());
                }
            }
        }
        let status = self.status(&app.package_info().version.to_string());
        if let Err(e) = app.emit(events::UPDATE, &status) {
            tracing::warn!("could not tell the window about the update: {e}");
        }
        status
    }

    /// "Install": push what is unsent first (or say why it waits), then download, verify and
    /// install the offered version. The caller restarts the app on `Installed`.
    pub async fn install(&self, desk_status: impl Fn() -> DeskStatus, push: impl Fn()) -> DeskResult<InstallOutcome> {
        let Some(update) = self.state().update.clone() else { return Ok(InstallOutcome::UpToDate) };
        let mut decision = decide(&desk_status());
        if let InstallDecision::PushFirst { pending } = decision {
            tracing::info!(pending, "sending this desk's changes before the update");
            push();
            let started = std::time::Instant::now();
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                decision = decide(&desk_status());
                match decision {
                    InstallDecision::PushFirst { .. } if started.elapsed() < PUSH_WAIT => continue,
                    InstallDecision::PushFirst { pending } => {
                        decision = InstallDecision::Wait {
                            reason: format!(
                                "{} made on this desk could not be sent within a minute; the update waits for them. \
                                 Try again once the status bar shows nothing pending.",
                                changes(pending)
                            ),
                        };
                        break;
                    }
                    _ => break,
                }
            }
        }
        if let InstallDecision::Wait { reason } = decision {
            self.state().waiting = Some(reason.clone());
            return Ok(InstallOutcome::Waiting { reason });
        }
        {
            let mut s = self.state();
            s.waiting = None;
            s.installing = true;
        }
        tracing::info!(version = %update.version, "installing a desk update");
        let result = update.download_and_install(|_, _| {}, || {}).await;
        let mut s = self.state();
        s.installing = false;
        match result {
            Ok(()) => Ok(InstallOutcome::Installed { version: update.version.clone() }),
            Err(e) => {
                let message = format!("the update to {} was not installed: {e}", update.version);
                tracing::error!("{message}");
                s.last_error = Some(message.clone());
                Err(DeskError::Update(message))
            }
        }
    }
}

/// Checks at start (once the first sync round had a moment) and then every day.
pub fn spawn_checks<R: Runtime>(app: AppHandle<R>, server_url: impl Fn() -> String + Send + 'static) {
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        loop {
            if let Some(updates) = tauri::Manager::try_state::<Updates>(&app) {
                updates.check_now(&app, &server_url()).await;
            }
            tokio::time::sleep(CHECK_EVERY).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_unsent_installs() {
        for c in [Connection::Online, Connection::Offline, Connection::Error, Connection::Starting] {
            assert_eq!(install_decision(0, false, c), InstallDecision::Install);
            assert_eq!(install_decision(0, true, c), InstallDecision::Install, "no sign-in needed for nothing");
        }
    }

    #[test]
    fn unsent_changes_are_pushed_first_when_they_can_be() {
        for c in [Connection::Online, Connection::Syncing, Connection::Starting] {
            assert_eq!(install_decision(3, false, c), InstallDecision::PushFirst { pending: 3 });
        }
    }

    #[test]
    fn unsent_changes_that_cannot_be_sent_make_it_wait_and_say_why() {
        let InstallDecision::Wait { reason } = install_decision(1, false, Connection::Offline) else {
            panic!("offline with a pending change must wait")
        };
        assert!(reason.contains("1 change made on this desk has not been sent"), "{reason}");
        assert!(reason.contains("cannot be reached"), "{reason}");
        assert!(matches!(install_decision(2, false, Connection::Error), InstallDecision::Wait { .. }));
        let InstallDecision::Wait { reason } = install_decision(5, true, Connection::Online) else {
            panic!("signed out with pending changes must wait")
        };
        assert!(reason.contains("5 changes") && reason.contains("Sign in"), "{reason}");
    }

    #[test]
    fn the_endpoint_keeps_the_updaters_placeholders() {
        let url = endpoint("http://10.0.0.5:8787/", Channel::Beta).expect("url").to_string();
        assert!(url.starts_with("http://10.0.0.5:8787/updates/v1/beta/"), "{url}");
        for p in ["target", "arch", "current_version", "bundle_type"] {
            assert!(url.contains(&format!("%7B%7B{p}%7D%7D")) || url.contains(&format!("{{{{{p}}}}}")), "{url}");
        }
        assert!(endpoint("not a url", Channel::Stable).is_err());
    }
}

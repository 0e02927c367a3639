//! This desk itself: its updates and its diagnostics for support.

use tauri::{AppHandle, Manager, Runtime, State};
use tourdesk_domain::ipc::{DeskStatus, InstallOutcome, UpdateStatus};

use crate::Desk;
use crate::error::{DeskError, DeskResult};
use crate::updates::Updates;

fn updates<R: Runtime>(app: &AppHandle<R>) -> DeskResult<State<'_, Updates>> {
    app.try_state::<Updates>().ok_or(DeskError::NotFound("updates are not set up on this desk"))
}

#[tauri::command]
pub async fn update_status<R: Runtime>(app: AppHandle<R>) -> DeskResult<UpdateStatus> {
    Ok(updates(&app)?.status(&app.package_info().version.to_string()))
}

#[tauri::command]
pub async fn check_for_update<R: Runtime>(app: AppHandle<R>, desk: State<'_, Desk>) -> DeskResult<UpdateStatus> {
    let server = desk.sync.client().base_url().to_string();
    Ok(updates(&app)?.check_now(&app, &server).await)
}

/// Installs the offered version once this desk's changes are sent (or says why it waits); on
/// success the desk restarts into it a moment later, after the window has the answer.
#[tauri::command]
pub async fn install_update<R: Runtime>(app: AppHandle<R>, desk: State<'_, Desk>) -> DeskResult<InstallOutcome> {
    let outcome = updates(&app)?.install(|| desk.sync.status(&desk.store), || desk.sync.poke()).await?;
    if matches!(outcome, InstallOutcome::Installed { .. }) {
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            app.restart();
        });
    }
    Ok(outcome)
}

/// What support needs to know about this desk, as text to paste into a ticket: version, OS,
/// sync state, the last problems. Redacted like the logs; no names, e-mails or tokens.
#[tauri::command]
pub async fn diagnostics<R: Runtime>(app: AppHandle<R>, desk: State<'_, Desk>) -> DeskResult<String> {
    let status = desk.sync.status(&desk.store);
    let update = app.try_state::<Updates>().map(|u| u.status(&app.package_info().version.to_string()));
    Ok(diagnostics_text(&app.package_info().version.to_string(), &status, update.as_ref()))
}

/// The diagnostics text (pure, so it is tested for what it must not contain).
pub fn diagnostics_text(version: &str, status: &DeskStatus, update: Option<&UpdateStatus>) -> String {
    let mut lines = vec![
        format!("Tourdesk desk {version} ({} build)", if cfg!(debug_assertions) { "debug" } else { "release" }),
        format!(
            "OS: {} {}{}",
            std::env::consts::OS,
            std::env::consts::ARCH,
            os_release().map(|n| format!(" ({n})")).unwrap_or_default()
        ),
        format!("Server: {}", status.server_url),
        format!("Connection: {:?}", status.connection).to_lowercase(),
        format!("Unsent changes: {}; refused changes in the inbox: {}", status.pending, status.rejections),
        format!("Last sync: {}", status.last_synced_at.as_deref().unwrap_or("never")),
        format!("Last sync error: {}", status.last_error.as_deref().unwrap_or("none")),
        format!(
            "Signed in: {}",
            match (&status.signed_in_as, status.needs_sign_in) {
                (Some(s), false) => format!("yes, as {:?}", s.role).to_lowercase(),
                (Some(s), true) => format!("needs to sign in again (was {:?})", s.role).to_lowercase(),
                (None, _) => "no".into(),
            }
        ),
    ];
    if let Some(u) = update {
        lines.push(format!(
            "Updates: channel {}, last checked {}, {}{}",
            u.channel,
            u.last_checked_at.as_deref().unwrap_or("never"),
            u.available.as_ref().map(|a| format!("{} available", a.version)).unwrap_or_else(|| "up to date".into()),
            u.last_error.as_ref().map(|e| format!(", last error: {e}")).unwrap_or_default()
        ));
    }
    lines.push(format!(
        "Log file: {}",
        crate::logs::log_file().map(|p| p.display().to_string()).unwrap_or_else(|| "none (stderr only)".into())
    ));
    let problems = crate::logs::recent_problems();
    if problems.is_empty() {
        lines.push("Recent warnings and errors: none".into());
    } else {
        lines.push("Recent warnings and errors:".into());
        lines.extend(problems.into_iter().map(|p| format!("  {p}")));
    }
    crate::logs::redact(&lines.join("\n"))
}

fn os_release() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=")).map(|v| v.trim_matches('"').to_string())
}

#[cfg(test)]
mod tests {
    use tourdesk_domain::ipc::{Connection, SignedInAs};
    use tourdesk_domain::roles::Role;

    use super::*;

    #[test]
    fn diagnostics_say_what_support_needs_and_nothing_personal() {
        tracing::warn!("refresh failed for owner@demo.tourdesk.test with token=abc123");
        let status = DeskStatus {
            connection: Connection::Offline,
            server_url: "http://sync.example:8787".into(),
            pending: 4,
            rejections: 1,
            last_synced_at: Some("2026-12-03T10:00:00Z".into()),
            last_error: Some("could not reach the server as anna@example.com".into()),
            signed_in_as: Some(SignedInAs {
                name: "Anna Berg".into(),
                role: Role::Manager,
                organization_name: "Demo Tours".into(),
            }),
            data_version: 7,
            sync_progress: None,
            needs_sign_in: false,
        };
        let text = diagnostics_text("0.1.0", &status, None);
        for want in [
            "Tourdesk desk 0.1.0",
            "OS: linux",
            "Server: http://sync.example:8787",
            "connection: offline",
            "Unsent changes: 4",
            "yes, as manager",
        ] {
            assert!(text.contains(want), "{want:?} missing from\n{text}");
        }
        for never in ["Anna", "anna@example.com", "Demo Tours"] {
            assert!(!text.contains(never), "{never:?} leaked into\n{text}");
        }
    }
}

/// The UI's own stages of this start (its script, the wasm started, the first reply painted):
/// they join the shell's and the whole start is logged in one line (`crate::startup`).
#[tauri::command]
pub async fn report_startup(marks: Vec<crate::startup::Mark>) -> DeskResult<()> {
    crate::startup::report_from_ui(marks);
    Ok(())
}

/// Every stage of this start so far, shell's and UI's, in wall-clock milliseconds (the window bench).
#[tauri::command]
pub async fn startup_timeline() -> DeskResult<Vec<crate::startup::Mark>> {
    Ok(crate::startup::timeline())
}

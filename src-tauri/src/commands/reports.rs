//! The today dashboard and the reports (issue 16): computed by the store and the domain from this
//! desk's replica, so they answer offline. CSV export writes a report's table to a file.

use chrono::Utc;
use tauri::{Manager, Runtime, State};
use tourdesk_domain::reports::{Dashboard, ReportFilter, ReportTable};

use crate::Desk;
use crate::error::{DeskError, DeskResult};

#[tauri::command]
pub async fn dashboard(desk: State<'_, Desk>) -> DeskResult<Dashboard> {
    Ok(desk.store.dashboard(Utc::now())?)
}

#[tauri::command]
pub async fn run_report(desk: State<'_, Desk>, filter: ReportFilter) -> DeskResult<ReportTable> {
    Ok(desk.store.report(&filter)?)
}

/// The zone the reports count days in.
#[tauri::command]
pub async fn report_zone(desk: State<'_, Desk>) -> DeskResult<String> {
    Ok(desk.store.report_zone()?)
}

/// `tourdesk-revenue-2026-01-01-to-2026-12-31.csv`.
pub fn report_file_name(f: &ReportFilter) -> String {
    format!("tourdesk-{}-{}-to-{}.csv", f.kind.slug(), f.from, f.to)
}

/// Saves a report's table as CSV at `path`, or in the downloads folder when no path is given;
/// answers the path written.
#[tauri::command]
pub async fn save_report_csv<R: Runtime>(
    app: tauri::AppHandle<R>,
    desk: State<'_, Desk>,
    filter: ReportFilter,
    path: Option<String>,
) -> DeskResult<String> {
    let csv = desk.store.report(&filter)?.to_csv();
    let path = match path.map(|p| p.trim().to_string()).filter(|p| !p.is_empty()) {
        Some(p) => std::path::PathBuf::from(p),
        None => app
            .path()
            .download_dir()
            .or_else(|_| app.path().home_dir())
            .map_err(|_| DeskError::NotFound("this computer has no downloads folder: choose a file to save to"))?
            .join(report_file_name(&filter)),
    };
    if path.is_dir() {
        return Err(DeskError::NotFound("choose a file to save the report to, not a folder"));
    }
    std::fs::write(&path, csv.as_bytes()).map_err(|e| {
        tracing::warn!("could not save a report to {}: {e}", path.display());
        DeskError::Internal("could not write the report file there")
    })?;
    Ok(path.display().to_string())
}

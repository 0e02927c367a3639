//! The today dashboard and the reports (issue 16): computed by the store and the domain from this
//! desk's replica, so they answer offline. CSV export writes a report's table to a file. The
//! scheduled report e-mails live on the server (it sends them): their commands are online calls
//! as the signed-in member, like the settings area's.

use chrono::{NaiveDate, Utc};
use tauri::{Runtime, State};
use tourdesk_domain::reports::funnel::{self, FunnelAnswer, FunnelGrouping};
use tourdesk_domain::reports::schedule::{ReportSchedule, ScheduleInput};
use tourdesk_domain::reports::{Dashboard, ExportFormat, ListExport, ReportFilter, ReportTable};
use tourdesk_local_store::sync::Method;

use super::{account_call, id_segment, json};
use crate::Desk;
use crate::error::{DeskError, DeskResult};
use crate::files::{self, Saving};

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

/// Saves a report's table as CSV at `path` (a file, a folder, or nothing for the downloads
/// folder); answers the path written.
#[tauri::command]
pub async fn save_report_csv<R: Runtime>(
    app: tauri::AppHandle<R>,
    desk: State<'_, Desk>,
    filter: ReportFilter,
    path: Option<String>,
) -> DeskResult<String> {
    save_report(&app, &desk, &filter, ExportFormat::Csv, path)
}

/// Saves a report as CSV or XLSX (see [`save_report_csv`] for where); answers the path written.
#[tauri::command]
pub async fn save_report_file<R: Runtime>(
    app: tauri::AppHandle<R>,
    desk: State<'_, Desk>,
    filter: ReportFilter,
    format: ExportFormat,
    path: Option<String>,
) -> DeskResult<String> {
    save_report(&app, &desk, &filter, format, path)
}

fn save_report<R: Runtime>(
    app: &tauri::AppHandle<R>,
    desk: &Desk,
    filter: &ReportFilter,
    format: ExportFormat,
    path: Option<String>,
) -> DeskResult<String> {
    let table = desk.store.report(filter)?;
    let name = report_file_name(filter).replace(".csv", &format!(".{}", format.extension()));
    write_table(app, &table, format, name, path, Saving::Report)
}

/// `tourdesk-bookings-2026-12-03.xlsx`: the list and the day it was exported; the payments
/// ledger names its days instead (`tourdesk-payments-2026-11-01-to-2026-11-30.csv`).
pub fn list_file_name(list: &ListExport, format: ExportFormat, today: chrono::NaiveDate) -> String {
    match list {
        ListExport::Payments { from, to } => format!("tourdesk-payments-{from}-to-{to}.{}", format.extension()),
        _ => format!("tourdesk-{}-{today}.{}", list.slug(), format.extension()),
    }
}

/// Saves a list (bookings with the screen's filters, customers, or the payments ledger) as CSV or XLSX; answers the
/// path written.
#[tauri::command]
pub async fn save_list_file<R: Runtime>(
    app: tauri::AppHandle<R>,
    desk: State<'_, Desk>,
    list: ListExport,
    format: ExportFormat,
    path: Option<String>,
) -> DeskResult<String> {
    let table = match &list {
        ListExport::Bookings { filter } => desk.store.bookings_table(filter)?,
        ListExport::Customers { query } => desk.store.customers_table(query)?,
        ListExport::Payments { from, to } => desk.store.payments_table(*from, *to)?,
    };
    let name = list_file_name(&list, format, Utc::now().date_naive());
    write_table(&app, &table, format, name, path, Saving::List)
}

/// Writes `table` at `path` (a file, a folder, or nothing for the downloads folder; see
/// `files::target`), named `name` unless a file is typed.
fn write_table<R: Runtime>(
    app: &tauri::AppHandle<R>,
    table: &ReportTable,
    format: ExportFormat,
    name: String,
    path: Option<String>,
    what: Saving,
) -> DeskResult<String> {
    let bytes = match format {
        ExportFormat::Csv => table.to_csv().into_bytes(),
        ExportFormat::Xlsx => tourdesk_local_store::export::report_xlsx(table)?,
    };
    files::save(app, path.as_deref(), &name, &bytes, what)
}

/// The website funnel for `from..=to`: fetched from the server when it can be reached (and kept
/// on this desk), else the copy kept from the last time, with why (`offline_reason`).
#[tauri::command]
pub async fn funnel_report(desk: State<'_, Desk>, from: NaiveDate, to: NaiveDate) -> DeskResult<FunnelAnswer> {
    super::signed_in(&desk)?;
    Ok(desk.sync.client().funnel_or_kept(&desk.store, from, to).await?)
}

/// `tourdesk-funnel-by-source-2026-01-01-to-2026-01-31.csv`.
pub fn funnel_file_name(from: NaiveDate, to: NaiveDate, by: FunnelGrouping) -> String {
    format!("tourdesk-funnel-by-{}-{from}-to-{to}.csv", by.as_str())
}

/// Saves the kept funnel of `from..=to` grouped `by` as CSV (see [`save_report_csv`] for where);
/// it works offline, from the copy the funnel tab shows.
#[tauri::command]
pub async fn save_funnel_csv<R: Runtime>(
    app: tauri::AppHandle<R>,
    desk: State<'_, Desk>,
    from: NaiveDate,
    to: NaiveDate,
    by: FunnelGrouping,
    path: Option<String>,
) -> DeskResult<String> {
    let report = desk
        .store
        .funnel_report(from, to)?
        .ok_or(DeskError::NotFound("the funnel for these dates has not been fetched yet: connect once to fetch it"))?;
    let table = funnel::table(&report, by);
    write_table(&app, &table, ExportFormat::Csv, funnel_file_name(from, to, by), path, Saving::Funnel)
}

/// The organization's scheduled report e-mails, oldest first.
#[tauri::command]
pub async fn list_report_schedules(desk: State<'_, Desk>) -> DeskResult<Vec<ReportSchedule>> {
    account_call(&desk, Method::GET, "/api/v1/report-schedules", None).await
}

/// Creates a schedule (no `id`) or changes the one named; answers it as the server keeps it.
#[tauri::command]
pub async fn save_report_schedule(
    desk: State<'_, Desk>,
    id: Option<String>,
    input: ScheduleInput,
) -> DeskResult<ReportSchedule> {
    let body = json(&input)?;
    match id.as_deref().map(str::trim).filter(|id| !id.is_empty()) {
        Some(id) => {
            let path = format!("/api/v1/report-schedules/{}", id_segment(id)?);
            account_call(&desk, Method::PUT, &path, Some(&body)).await
        }
        None => account_call(&desk, Method::POST, "/api/v1/report-schedules", Some(&body)).await,
    }
}

/// Stops a scheduled e-mail.
#[tauri::command]
pub async fn delete_report_schedule(desk: State<'_, Desk>, id: String) -> DeskResult<()> {
    let path = format!("/api/v1/report-schedules/{}", id_segment(&id)?);
    account_call(&desk, Method::DELETE, &path, None).await
}

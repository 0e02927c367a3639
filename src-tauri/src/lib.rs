//! The desk's Tauri shell. It owns the window, the app-data path and the background sync loop;
//! everything else is the local store's job. Only this crate knows Tauri.

mod commands;
mod config;
mod error;
mod files;
pub mod logs;
mod session;
pub mod startup;
mod sync_loop;
pub mod updates;

use std::sync::Arc;

use tauri::{Emitter, Manager, Runtime};
use tourdesk_domain::ipc::events;
use tourdesk_local_store::{Store, SyncClient};

pub use config::DeskConfig;
pub use error::DeskError;
pub use sync_loop::{DeskEvent, Notifier, SyncLoop};

/// What every command can reach.
pub struct Desk {
    pub store: Arc<Store>,
    pub sync: Arc<SyncLoop>,
}

/// The desk's commands on a builder: the app's own (`run`) or a test's (`tauri::test::mock_builder`).
pub fn with_commands<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::desk_status,
        commands::list_tours,
        commands::list_departures,
        commands::list_prices,
        commands::create_tour,
        commands::update_tour,
        commands::list_variants,
        commands::create_variant,
        commands::update_variant,
        commands::save_price_tier,
        commands::sync_now,
        commands::list_rejections,
        commands::dismiss_rejection,
        commands::list_payment_issues,
        commands::list_audit_log,
        commands::named_audit_log,
        commands::audit_facets,
        commands::list_bookings,
        commands::search_customers,
        commands::customer_detail,
        commands::create_customer,
        commands::create_booking,
        commands::manifest,
        commands::departure_cancellation_preview,
        commands::cancel_departure,
        commands::check_in,
        commands::mark_no_show,
        commands::edit_customer_notes,
        commands::customers::set_customer_field,
        commands::customers::set_customer_tag,
        commands::customers::merge_customers,
        commands::customers::discard_pending,
        commands::customers::erase_customer,
        commands::customers::export_customer,
        commands::list_rejected_bookings,
        commands::retry_booking_on,
        commands::overbook_booking,
        commands::waitlist_booking,
        commands::search,
        commands::find_booking,
        commands::booking_money,
        commands::booking_record::booking_timeline,
        commands::booking_record::customer_communications,
        commands::booking_record::resend_confirmation,
        commands::booking_record::message_options,
        commands::booking_record::send_customer_message,
        commands::booking_record::record_refund,
        commands::booking_record::save_receipt,
        commands::record_payment,
        commands::cancellation_preview,
        commands::cancel_booking,
        commands::move_options,
        commands::move_booking,
        commands::modify_preview,
        commands::modify_booking,
        commands::list_all_bookings,
        commands::sign_in_defaults,
        commands::sign_in,
        commands::sign_out,
        commands::get_organization,
        commands::update_organization,
        commands::my_account,
        commands::list_staff,
        commands::invite_staff,
        commands::update_staff,
        commands::reinvite_staff,
        commands::mfa_enrol,
        commands::mfa_confirm,
        commands::mfa_disable,
        commands::list_devices,
        commands::revoke_device,
        commands::reviews::list_reviews,
        commands::reviews::moderate_review,
        commands::messages::list_message_templates,
        commands::messages::save_message_template,
        commands::messages::reset_message_template,
        commands::catalogue::tour_pricing,
        commands::gift_cards::list_gift_cards,
        commands::gift_cards::gift_card,
        commands::gift_cards::issue_gift_card,
        commands::gift_cards::redeem_gift_card,
        commands::gift_cards::cash_drawer,
        commands::waitlist::list_waitlist,
        commands::waitlist::departure_waitlist,
        commands::waitlist::add_to_waitlist,
        commands::waitlist::remove_from_waitlist,
        commands::field::list_allotments,
        commands::field::my_allotment,
        commands::field::request_allotment,
        commands::field::release_allotment,
        commands::field::sell_walk_up,
        commands::field::save_manifest,
        commands::field::save_guide_day_manifest,
        commands::field::departure_incidents,
        commands::field::record_departure_incident,
        commands::field::calendar_feed_link,
        commands::catalogue::list_promo_codes,
        commands::catalogue::list_tax_rates,
        commands::catalogue::list_cancellation_policies,
        commands::catalogue::quote_booking,
        commands::catalogue::save_season,
        commands::catalogue::delete_season,
        commands::catalogue::save_promo_code,
        commands::catalogue::set_promo_code_status,
        commands::catalogue::save_tax_rate,
        commands::catalogue::save_cancellation_policy,
        commands::catalogue::save_tour_faq,
        commands::catalogue::delete_tour_faq,
        commands::catalogue::reorder_tour_faqs,
        commands::catalogue::reorder_tour_inclusions,
        commands::catalogue::save_tour_inclusion,
        commands::catalogue::delete_tour_inclusion,
        commands::catalogue::save_group_discount,
        commands::catalogue::delete_group_discount,
        commands::catalogue::save_early_bird_discount,
        commands::catalogue::delete_early_bird_discount,
        commands::catalogue::set_tour_cancellation_policy,
        commands::calendar,
        commands::guides::list_guides,
        commands::guides::save_guide,
        commands::guides::guide_board,
        commands::guides::assign_guide,
        commands::guides::unassign_guide,
        commands::guides::my_departures,
        commands::list_schedule_variants,
        commands::preview_departures,
        commands::generate_departures,
        commands::preview_one_off,
        commands::create_departure,
        commands::set_departure_capacity,
        commands::set_departure_status,
        commands::set_departure_notes,
        commands::desk::update_status,
        commands::desk::check_for_update,
        commands::desk::install_update,
        commands::desk::diagnostics,
        commands::desk::report_startup,
        commands::desk::startup_timeline,
        commands::reports::dashboard,
        commands::reports::run_report,
        commands::reports::report_zone,
        commands::reports::save_report_csv,
        commands::reports::save_report_file,
        commands::reports::save_list_file,
        commands::reports::funnel_report,
        commands::reports::save_funnel_csv,
        commands::reports::list_report_schedules,
        commands::reports::save_report_schedule,
        commands::reports::delete_report_schedule,
    ])
}

/// Sends the desk's events to every window of the app.
pub fn window_notifier<R: Runtime>(app: tauri::AppHandle<R>) -> Notifier {
    Arc::new(move |e: DeskEvent| {
        let sent = match &e {
            DeskEvent::Changed(c) => app.emit(events::DATA_CHANGED, c),
            DeskEvent::Status(s) => app.emit(events::STATUS, s),
        };
        if let Err(err) = sent {
            tracing::warn!("could not tell the window about {e:?}: {err}");
        }
    })
}

/// Set, the desk opens a blank window and nothing else (`blank_window`): the window bench's floor.
pub const BLANK_WINDOW_ENV: &str = "TOURDESK_BENCH_BLANK_WINDOW";

pub fn run() {
    startup::mark("main");
    logs::init();
    let context = tauri::generate_context!();
    if std::env::var_os(BLANK_WINDOW_ENV).is_some() {
        return blank_window(context);
    }
    let result = with_commands(tauri::Builder::default())
        .plugin(updates::plugin(tourdesk_updates::PROJECT_PUBLIC_KEY))
        .on_page_load(|webview, payload| match payload.event() {
            tauri::webview::PageLoadEvent::Started => startup::mark("page load started"),
            tauri::webview::PageLoadEvent::Finished => {
                startup::mark("page load finished");
                show_window(&webview.window());
            }
        })
        .setup(|app| {
            startup::mark("setup");
            show_window_anyway(app.handle().clone());
            // The platform's log directory (TOURDESK_LOG_DIR instead, when set).
            let log_dir =
                std::env::var_os("TOURDESK_LOG_DIR").map(std::path::PathBuf::from).or(app.path().app_log_dir().ok());
            if let Some(dir) = log_dir {
                match logs::open_dir(&dir) {
                    Ok(file) => tracing::info!("logging to {}", file.display()),
                    Err(e) => tracing::warn!("no log file in {}: {e}", dir.display()),
                }
            }
            tracing::info!(version = %app.package_info().version, os = std::env::consts::OS, "desk starting");
            let config = DeskConfig::load(app.path().app_data_dir().ok())?;
            tracing::info!(?config, "starting desk");
            if let Some(dir) = config.database.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let store = Arc::new(Store::open(&config.database)?);
            startup::mark("store opened");
            // No password here: the desk renews its access with the refresh token of the last
            // sign-in, or waits for a person to sign in through the window.
            let client = SyncClient::for_desk(&config.server_url_or(store.server_url()?), &config.device)?;
            startup::mark("sync client made");
            let sync = SyncLoop::new(client, window_notifier(app.handle().clone()));
            sync.set_form_defaults(config.form_defaults());
            sync.start(store.clone(), config.sync_interval);
            startup::mark("sync started");
            app.manage(updates::Updates::new(config.update_channel));
            let for_checks = sync.clone();
            updates::spawn_checks(app.handle().clone(), move || for_checks.client().base_url().to_string());
            app.manage(Desk { store, sync });
            startup::mark("setup done");
            Ok(())
        })
        .run(context);
    if let Err(e) = result {
        eprintln!("tourdesk could not start: {e}");
        std::process::exit(1);
    }
}

/// Whether the window has been shown: it is shown once, by whichever comes first.
static WINDOW_SHOWN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The window starts hidden (`tauri.conf.json`) and is shown once its page has loaded. Shown at
/// once, GTK draws the web view before WebKit's web process has started, and WebKit then holds
/// the main thread for up to half a second waiting for the web process's first frame (seen in
/// about a third of the window bench's cold starts, in a backtrace of the stalled main thread);
/// the page's load waits behind it. Only the first call shows it: a version that could show it
/// again lost a sign-in's typing in two window tests under load (likeliest cause: the window
/// presented anew), and nothing needs a second show.
fn show_window<R: Runtime>(window: &tauri::Window<R>) {
    if !WINDOW_SHOWN.swap(true, std::sync::atomic::Ordering::SeqCst)
        && let Err(e) = window.show()
    {
        tracing::warn!("could not show the window: {e}");
    }
}

/// Shows the window after a few seconds whatever its page did, so that a page that never
/// finishes loading still shows (WebKit's own error, at worst) rather than nothing.
fn show_window_anyway<R: Runtime>(app: tauri::AppHandle<R>) {
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(3));
        if let Some(window) = app.webview_windows().values().next() {
            show_window(&window.as_ref().window());
        }
    });
}

/// WebKitGTK's own floor, measured by the window bench beside the desk in the same run: this
/// binary with the same window showing a blank page, and nothing of the desk (no store, no sync,
/// no updater, no UI). Whatever the desk takes above it is the desk's; below it nothing can go.
fn blank_window(mut context: tauri::Context) {
    if let (Some(w), Ok(blank)) = (context.config_mut().app.windows.first_mut(), "about:blank".parse()) {
        w.url = tauri::WebviewUrl::External(blank);
    }
    // Its start is logged as the desk's is (`startup: main +0 ms, … page load finished +… ms`).
    let blank = tauri::Builder::default()
        .setup(|app| {
            startup::mark("setup");
            show_window_anyway(app.handle().clone());
            Ok(())
        })
        .on_page_load(|webview, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                startup::mark("page load finished");
                show_window(&webview.window());
                tracing::info!("startup: {}", startup::describe(&startup::timeline()));
            }
        });
    if let Err(e) = blank.run(context) {
        eprintln!("tourdesk could not start a blank window: {e}");
        std::process::exit(1);
    }
}

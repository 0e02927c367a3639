//! The desk's Tauri shell. It owns the window, the app-data path and the background sync loop;
//! everything else is the local store's job. Only this crate knows Tauri.

mod commands;
mod config;
mod sync_loop;

use std::sync::Arc;

use tauri::Manager;
use tourdesk_local_store::{Store, SyncClient};

pub use config::DeskConfig;
pub use sync_loop::SyncLoop;

/// What every command can reach.
pub struct Desk {
    pub store: Arc<Store>,
    pub sync: Arc<SyncLoop>,
}

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tao=warn,wry=warn".into()),
        )
        .init();
    let result = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![
            commands::desk_status,
            commands::list_tours,
            commands::list_departures,
            commands::list_prices,
            commands::create_tour,
            commands::sync_now,
            commands::list_rejections,
            commands::dismiss_rejection,
            commands::list_payment_issues,
            commands::list_bookings,
            commands::search_customers,
            commands::customer_detail,
            commands::create_customer,
            commands::create_booking,
            commands::manifest,
            commands::check_in,
            commands::mark_no_show,
            commands::edit_customer_notes,
            commands::list_rejected_bookings,
            commands::retry_booking_on,
            commands::overbook_booking,
            commands::waitlist_booking,
        ])
        .setup(|app| {
            let config = DeskConfig::load(app.path().app_data_dir().ok())?;
            tracing::info!(?config, "starting desk");
            if let Some(dir) = config.database.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let store = Arc::new(Store::open(&config.database)?);
            let client = SyncClient::new(&config.server_url, config.credentials())?;
            let sync = SyncLoop::start(store.clone(), client, config.sync_interval);
            app.manage(Desk { store, sync });
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("tourdesk could not start: {e}");
        std::process::exit(1);
    }
}

//! WebKitGTK settings that cost the desk memory and start time for features it never uses
//! (issue 12 item 8, issue 17 item 6; the window bench measures them):
//!
//! - the cache model "document viewer": one local page, nothing fetched from the web, so no
//!   memory cache of resources and pages beyond what the page holds itself;
//! - hardware acceleration "never": the desk draws tables and forms, and a GL compositor (with
//!   its contexts and buffers in both processes) costs memory and start time that no screen
//!   needs; under a display without a GPU it is software GL anyway;
//! - no WebGL, WebAudio, media, page cache or HTML5 databases: the UI uses none of them.
//!
//! `TOURDESK_WEBKIT_DEFAULTS=1` keeps WebKit's own settings (a display driver that draws badly
//! without the compositor; the bench's comparison).

use tauri::{Manager, Runtime};

pub const DEFAULTS_ENV: &str = "TOURDESK_WEBKIT_DEFAULTS";

pub fn tune<R: Runtime>(app: &tauri::App<R>) {
    if std::env::var_os(DEFAULTS_ENV).is_some() {
        tracing::info!("webview: WebKit's default settings ({DEFAULTS_ENV})");
        return;
    }
    for (label, w) in app.webview_windows() {
        let applied = w.with_webview(|wv| apply(&wv));
        if let Err(e) = applied {
            tracing::warn!("webview {label}: settings not applied: {e}");
        }
    }
}

#[cfg(target_os = "linux")]
fn apply(wv: &tauri::webview::PlatformWebview) {
    use webkit2gtk::{CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt};
    let view = wv.inner();
    if let Some(context) = view.context() {
        context.set_cache_model(CacheModel::DocumentViewer);
    }
    if let Some(settings) = WebViewExt::settings(&view) {
        settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        settings.set_enable_webgl(false);
        settings.set_enable_webaudio(false);
        settings.set_enable_media(false);
        settings.set_enable_page_cache(false);
        settings.set_enable_html5_database(false);
        settings.set_enable_offline_web_application_cache(false);
    }
}

#[cfg(not(target_os = "linux"))]
fn apply(_: &tauri::webview::PlatformWebview) {}

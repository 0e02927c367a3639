//! The header: who is signed in, the connection, pending work, when the desk last synced (in
//! this computer's local time), the last sync error (one line, full text on hover), search,
//! "Sync now" and "Sign out" — or "Sign in again" once the server refused this desk's session.

use chrono::{DateTime, FixedOffset, Utc};
use tourdesk_domain::ipc::{Connection, DeskStatus};
use yew::prelude::*;

use crate::words;

#[derive(Properties, PartialEq)]
pub struct StatusBarProps {
    pub status: Option<DeskStatus>,
    pub on_sync: Callback<()>,
    #[prop_or_default]
    pub on_search: Callback<()>,
    #[prop_or_default]
    pub on_sign_out: Callback<()>,
}

/// This computer's UTC offset at `at`, in minutes east (the webview knows the local zone; the
/// host, where the component tests run, says UTC).
pub fn local_offset_minutes(at: DateTime<Utc>) -> i32 {
    #[cfg(target_arch = "wasm32")]
    {
        let js = web_sys::js_sys::Date::new(&web_sys::wasm_bindgen::JsValue::from_f64(at.timestamp_millis() as f64));
        // JavaScript gives minutes *west* of UTC.
        -(js.get_timezone_offset() as i32)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = at;
        0
    }
}

/// `HH:MM` in the local zone, and the full local date and time for the tooltip.
pub fn local_time(rfc3339: &str, offset_minutes: impl Fn(DateTime<Utc>) -> i32) -> (String, String) {
    let Ok(t) = DateTime::parse_from_rfc3339(rfc3339) else { return (rfc3339.to_string(), rfc3339.to_string()) };
    let utc = t.with_timezone(&Utc);
    let offset = FixedOffset::east_opt(offset_minutes(utc) * 60)
        .unwrap_or_else(|| FixedOffset::east_opt(0).unwrap_or(t.offset().to_owned()));
    let local = utc.with_timezone(&offset);
    (local.format("%H:%M").to_string(), local.format("%a %d %b %Y, %H:%M:%S (UTC%:z)").to_string())
}

#[component]
pub fn StatusBar(props: &StatusBarProps) -> Html {
    let on_search = props.on_search.reform(|_: MouseEvent| ());
    let Some(s) = &props.status else {
        return html! {
            <header class="status">
                <strong class="brand">{ "Tourdesk" }</strong>
                <span id="status-connection" class="pill">{ "Starting…" }</span>
            </header>
        };
    };
    let (label, class) = match s.connection {
        _ if s.needs_sign_in => ("Signed out — working locally", "pill error"),
        Connection::Starting => ("Starting…", "pill"),
        Connection::Syncing => ("Syncing…", "pill syncing"),
        Connection::Online => ("Online", "pill online"),
        Connection::Offline => ("Offline — working locally", "pill offline"),
        Connection::Error => ("Sync needs attention", "pill error"),
    };
    let who = s
        .signed_in_as
        .as_ref()
        .map(|u| format!("{} · {} ({})", u.organization_name, u.name, words::sentence(u.role.as_str())))
        .unwrap_or_else(|| "Not signed in yet".into());
    let on_sync = props.on_sync.reform(|_: MouseEvent| ());
    html! {
        <header class="status">
            <strong class="brand">{ "Tourdesk" }</strong>
            <span class="who" title={who.clone()}>{ who }</span>
            <span id="status-connection" class={class}>{ label }</span>
            if let Some(p) = &s.sync_progress {
                <span id="status-progress" class="muted">{ format!("receiving data… {} %", p.percent()) }</span>
            }
            <span id="status-pending" class="muted">{ format!("{} pending", s.pending) }</span>
            if let Some(at) = &s.last_synced_at {
                {{
                    let (short, full) = local_time(at, local_offset_minutes);
                    html! { <span id="status-synced" class="muted" title={full}>{ format!("last synced {short}") }</span> }
                }}
            }
            if let Some(err) = &s.last_error {
                <span id="status-error" class="status-error" title={err.clone()}>{ words::sentence(err) }</span>
            }
            <span class="status-actions">
                if s.needs_sign_in {
                    // The server refused this desk's session (revoked, expired): only a person
                    // signing in lets it sync again.
                    <a id="sign-in-again" class="button" href={crate::router::Route::SignIn.to_hash()}>{ "Sign in again" }</a>
                }
                <button id="open-search" title="Search (Ctrl+K)" onclick={on_search}>{ "Search" }<kbd>{ "Ctrl K" }</kbd></button>
                <button id="sync-now" onclick={on_sync}>{ "Sync now" }</button>
                if s.signed_in_as.is_some() {
                    <button id="sign-out" onclick={props.on_sign_out.reform(|_: MouseEvent| ())}>{ "Sign out" }</button>
                }
            </span>
        </header>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn render(props: StatusBarProps) -> String {
        yew::LocalServerRenderer::<StatusBar>::with_props(props).render().await
    }

    fn status(connection: Connection) -> DeskStatus {
        DeskStatus {
            connection,
            server_url: "http://x".into(),
            pending: 2,
            rejections: 0,
            last_synced_at: Some("2026-06-01T10:05:09Z".into()),
            last_error: Some("the server is unreachable".into()),
            signed_in_as: None,
            data_version: 1,
            sync_progress: None,
            needs_sign_in: false,
        }
    }

    #[tokio::test]
    async fn offline_status_is_explicit() {
        let props = |s| StatusBarProps {
            status: Some(s),
            on_sync: Callback::noop(),
            on_search: Callback::noop(),
            on_sign_out: Callback::noop(),
        };
        let html = render(props(status(Connection::Offline))).await;
        assert!(!html.contains("receiving data"), "{html}");
        assert!(html.contains("Offline"), "{html}");
        assert!(html.contains("2 pending"));
        assert!(html.contains("The server is unreachable"));
        assert!(!html.contains("sign-in-again"), "signing in again is offered only when sign-in failed");
        let syncing = DeskStatus {
            sync_progress: Some(tourdesk_domain::ipc::SyncProgress { done: 420, total: 1000 }),
            ..status(Connection::Syncing)
        };
        let busy = render(props(syncing)).await;
        assert!(busy.contains("receiving data… 42 %"), "{busy}");
        let error = render(props(status(Connection::Error))).await;
        assert!(!error.contains("sign-in-again"), "a sync error is not a refused session: {error}");
        let who = tourdesk_domain::ipc::SignedInAs {
            name: "Olivia".into(),
            role: tourdesk_domain::roles::Role::Owner,
            organization_name: "Demo Tours".into(),
        };
        let refused = DeskStatus { needs_sign_in: true, signed_in_as: Some(who.clone()), ..status(Connection::Error) };
        let refused = render(props(refused)).await;
        assert!(refused.contains("id=\"sign-in-again\"") && refused.contains("href=\"#/sign-in\""), "{refused}");
        assert!(refused.contains("Signed out — working locally"), "{refused}");
        let signed_in = render(props(DeskStatus { signed_in_as: Some(who), ..status(Connection::Online) })).await;
        assert!(signed_in.contains("id=\"sign-out\""), "{signed_in}");
        assert!(!html.contains("id=\"sign-out\""), "nobody to sign out: {html}");
    }

    #[test]
    fn last_synced_is_local_time() {
        // Lisbon in summer is UTC+1; a desk in New York in June, UTC-4.
        assert_eq!(local_time("2026-06-01T10:05:09Z", |_| 60).0, "11:05");
        assert_eq!(local_time("2026-06-01T10:05:09Z", |_| -240).0, "06:05");
        assert!(local_time("2026-06-01T10:05:09Z", |_| 60).1.contains("UTC+01:00"));
        assert_eq!(local_time("not a time", |_| 0).0, "not a time");
    }
}

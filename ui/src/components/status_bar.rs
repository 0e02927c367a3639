//! The header: who is signed in, the connection, pending work, when the desk last synced (in
//! this computer's local time), the last sync error (one line, full text on hover), search,
//! "Sync now" and "Sign out" — or "Sign in again" once the server refused this desk's session.

use tourdesk_domain::ipc::{Connection, DeskStatus};
use yew::prelude::*;

use crate::clock::{local_offset_minutes, local_time};
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
}

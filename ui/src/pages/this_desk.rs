//! Settings › This desk (`#/settings/this-desk`): the version this desk runs, the update its
//! server offers with what is new, "Install" (which waits, and says why, while changes are
//! unsent), and "Copy diagnostics" for a support ticket.

use tourdesk_domain::ipc::{InstallOutcome, UpdateStatus};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::states::{ErrorNote, Loading};
use crate::error::UiError;
use crate::services;

#[component]
pub fn ThisDeskTab() -> Html {
    let status = use_state(|| None::<Result<UpdateStatus, UiError>>);
    let busy = use_state(|| false);
    let note = use_state(|| None::<String>);
    let diagnostics = use_state(|| None::<String>);
    {
        let status = status.clone();
        use_effect_with((), move |_| {
            spawn_local(async move { status.set(Some(services::update_status().await)) });
        });
    }
    let on_check = {
        let (status, busy, note) = (status.clone(), busy.clone(), note.clone());
        Callback::from(move |_: MouseEvent| {
            let (status, busy, note) = (status.clone(), busy.clone(), note.clone());
            busy.set(true);
            note.set(None);
            spawn_local(async move {
                status.set(Some(services::check_for_update().await));
                busy.set(false);
            });
        })
    };
    let on_install = {
        let (status, busy, note) = (status.clone(), busy.clone(), note.clone());
        Callback::from(move |_: MouseEvent| {
            let (status, busy, note) = (status.clone(), busy.clone(), note.clone());
            busy.set(true);
            note.set(Some("Sending this desk's changes first, then installing…".into()));
            spawn_local(async move {
                let said = match services::install_update().await {
                    Ok(InstallOutcome::Installed { version }) => {
                        format!("Tourdesk {version} is installed; the desk restarts now.")
                    }
                    Ok(InstallOutcome::Waiting { reason }) => reason,
                    Ok(InstallOutcome::UpToDate) => "This desk is up to date.".into(),
                    Err(e) => e.message,
                };
                note.set(Some(said));
                status.set(Some(services::update_status().await));
                busy.set(false);
            });
        })
    };
    let on_copy = {
        let (diagnostics, note) = (diagnostics.clone(), note.clone());
        Callback::from(move |_: MouseEvent| {
            let (diagnostics, note) = (diagnostics.clone(), note.clone());
            spawn_local(async move {
                match services::diagnostics().await {
                    Ok(text) => {
                        let copied = services::copy_to_clipboard(&text).await;
                        note.set(Some(match copied {
                            Ok(()) => "Diagnostics copied: paste them into your support ticket.".into(),
                            Err(_) => "Select the diagnostics below and copy them into your support ticket.".into(),
                        }));
                        diagnostics.set(Some(text));
                    }
                    Err(e) => note.set(Some(e.message)),
                }
            });
        })
    };
    let body = match &*status {
        None => html! { <Loading what="this desk's version" /> },
        Some(Err(e)) => html! { <ErrorNote error={e.clone()} /> },
        Some(Ok(s)) => html! {
            <UpdateView status={s.clone()} busy={*busy} on_check={on_check} on_install={on_install} />
        },
    };
    html! {
        <div class="this-desk">
            { body }
            if let Some(n) = &*note { <p class="note" role="status">{ n }</p> }
            <section class="diagnostics">
                <h2>{ "Support" }</h2>
                <p class="hint">{ "Version, system, sync state and the last problems, without names, e-mail addresses or passwords." }</p>
                <button id="copy-diagnostics" onclick={on_copy}>{ "Copy diagnostics" }</button>
                if let Some(d) = &*diagnostics {
                    <textarea class="diagnostics-text" readonly=true rows="12" value={d.clone()} />
                }
            </section>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct UpdateViewProps {
    pub status: UpdateStatus,
    pub busy: bool,
    pub on_check: Callback<MouseEvent>,
    pub on_install: Callback<MouseEvent>,
}

/// The version, the offered update with its notes, and why an install waits.
#[component]
pub fn UpdateView(props: &UpdateViewProps) -> Html {
    let s = &props.status;
    let checked = s.last_checked_at.as_deref().map(short_time).unwrap_or_else(|| "not yet".into());
    html! {
        <section class="updates">
            <h2>{ "Updates" }</h2>
            <p>{ format!("This desk runs Tourdesk {} ({} channel). Last checked: {checked}.", s.current_version, s.channel) }</p>
            if let Some(a) = &s.available {
                <div class="update-available">
                    <h3>{ format!("Tourdesk {} is available", a.version) }</h3>
                    if let Some(d) = &a.pub_date { <p class="hint">{ format!("Published {}", short_time(d)) }</p> }
                    if !a.notes.is_empty() { <p class="notes">{ a.notes.clone() }</p> }
                    <p class="hint">{ "Changes made on this desk are sent to the server before the update installs; the desk restarts afterwards." }</p>
                    <button id="install-update" class="primary" disabled={props.busy || s.installing} onclick={props.on_install.clone()}>
                        { if s.installing { "Installing…".to_string() } else { format!("Install {}", a.version) } }
                    </button>
                </div>
            } else {
                <p>{ "This desk is up to date." }</p>
            }
            if let Some(w) = &s.waiting { <p class="warning" role="status">{ w }</p> }
            if let Some(e) = &s.last_error { <p class="error">{ e }</p> }
            <button id="check-update" disabled={props.busy} onclick={props.on_check.clone()}>{ "Check now" }</button>
        </section>
    }
}

/// `2026-12-03T14:05:47.123+00:00` → `Thu 03 Dec 2026, 14:05` in this computer's local time;
/// what is not a time as it came.
fn short_time(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => crate::clock::local_words(t.with_timezone(&chrono::Utc)),
        Err(_) => rfc3339.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use tourdesk_domain::ipc::AvailableUpdate;

    use super::*;

    async fn render(props: UpdateViewProps) -> String {
        yew::LocalServerRenderer::<UpdateView>::with_props(props).render().await
    }

    fn status(available: bool, waiting: Option<&str>) -> UpdateStatus {
        UpdateStatus {
            current_version: "0.1.0".into(),
            channel: "stable".into(),
            available: available.then(|| AvailableUpdate {
                version: "0.2.0".into(),
                notes: "Faster calendar".into(),
                pub_date: Some("2026-12-01T09:00:00Z".into()),
            }),
            last_checked_at: Some("2026-12-03T14:05:47.123+00:00".into()),
            last_error: None,
            waiting: waiting.map(str::to_string),
            installing: false,
        }
    }

    #[tokio::test]
    async fn an_offered_update_shows_what_is_new_and_why_it_waits() {
        let props =
            |s| UpdateViewProps { status: s, busy: false, on_check: Callback::noop(), on_install: Callback::noop() };
        let html = render(props(status(true, Some("3 changes made on this desk have not been sent yet")))).await;
        for want in [
            "Tourdesk 0.2.0 is available",
            "Faster calendar",
            "Install 0.2.0",
            "3 changes made on this desk",
            "Thu 03 Dec 2026, 14:05",
        ] {
            assert!(html.contains(want), "{want:?} missing: {html}");
        }
        let html = render(props(status(false, None))).await;
        assert!(html.contains("This desk is up to date") && !html.contains("install-update"), "{html}");
    }
}

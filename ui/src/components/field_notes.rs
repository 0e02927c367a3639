//! Guide mode's field tools beside a manifest (issue 14): the guides' notes on a departure
//! (incidents; written by the guide leading it, offline, read by the office on the departure),
//! and printing or saving the manifest.

use tourdesk_domain::incident::{DepartureIncidentView, INCIDENT_TEXT_MAX};
use tourdesk_domain::protocol::EntityKind;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::states::{ErrorNote, Loading};
use crate::error::UiError;
use crate::hooks::{Depends, Load, use_invoke};
use crate::services::call;
use crate::state::{Action, use_app};

const NOTE_KINDS: Depends = Depends::on(&[EntityKind::DepartureIncident]);

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct DepartureArg<'a> {
    departure_id: &'a str,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct NoteArgs<'a> {
    departure_id: &'a str,
    text: &'a str,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SaveArgs<'a> {
    departure_id: &'a str,
    format: &'a str,
    path: &'a str,
}

pub async fn departure_incidents(departure_id: &str) -> Result<Vec<DepartureIncidentView>, UiError> {
    call("departure_incidents", &DepartureArg { departure_id }).await
}

pub async fn record_departure_incident(departure_id: &str, text: &str) -> Result<(), UiError> {
    call("record_departure_incident", &NoteArgs { departure_id, text }).await
}

pub async fn save_manifest(departure_id: &str, format: &str, path: &str) -> Result<String, UiError> {
    call("save_manifest", &SaveArgs { departure_id, format, path }).await
}

#[derive(Properties, PartialEq)]
pub struct FieldNotesProps {
    pub departure_id: String,
    /// Guide mode: the guide may add a note (the domain still decides).
    pub can_write: bool,
}

/// The guides' notes on a departure, oldest first, with a form to add one in guide mode.
#[component]
pub fn FieldNotes(props: &FieldNotesProps) -> Html {
    let id = props.departure_id.clone();
    let refresh = use_state(|| 0u32);
    let notes = use_invoke(NOTE_KINDS, (id.clone(), *refresh), |(id, _)| async move { departure_incidents(&id).await });
    let text = use_state(String::new);
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let on_submit = {
        let (text, error, busy, refresh, id) = (text.clone(), error.clone(), busy.clone(), refresh.clone(), id.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (text, error, busy, refresh, id) =
                (text.clone(), error.clone(), busy.clone(), refresh.clone(), id.clone());
            busy.set(true);
            spawn_local(async move {
                match record_departure_incident(&id, &text).await {
                    Ok(()) => {
                        text.set(String::new());
                        error.set(None);
                        refresh.set(*refresh + 1);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let list = match notes {
        Load::Loading => html! { <Loading what="the field notes" /> },
        Load::Failed(e) => html! { <ErrorNote error={e} on_retry={None::<Callback<()>>} /> },
        Load::Ready(list) if list.is_empty() => html! { <p class="muted">{ "No field notes." }</p> },
        Load::Ready(list) => html! {
            <ul class="field-notes">
            { for list.iter().map(|n| html! {
                <li data-id={n.incident.id.clone()}>
                    <span class="muted">{ n.incident.at.format("%a %d %b %H:%M UTC").to_string() }</span>
                    { " " }<span class="note-text">{ &n.incident.text }</span>
                    if n.pending { { " " }<span class="badge pending">{ "Pending sync" }</span> }
                </li>
            }) }
            </ul>
        },
    };
    let message = (*error).as_ref().map(|e| e.message.clone());
    html! {
        <section class="panel field-notes-panel" aria-label="Field notes">
            <h3>{ "Field notes from the guides" }</h3>
            { list }
            if props.can_write {
                <form class="form wide field-note-form" onsubmit={on_submit}>
                    <label>{ "Add a note (incident, delay, anything the office should know)" }
                        <textarea class="field-note-text" rows="2" maxlength={INCIDENT_TEXT_MAX.to_string()} value={(*text).clone()}
                            oninput={{ let t = text.clone(); Callback::from(move |e: InputEvent| t.set(e.target_unchecked_into::<HtmlTextAreaElement>().value())) }} />
                        if let Some(m) = message { <span class="field-error" data-field="text">{ m }</span> }
                    </label>
                    <div class="actions"><button class="add-field-note" type="submit" disabled={*busy || text.trim().is_empty()}>{ "Add note" }</button></div>
                </form>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct ManifestActionsProps {
    pub departure_id: String,
    /// The file name offered, without extension.
    pub file_stem: String,
}

/// Print (the print stylesheet keeps only the manifest), and Save PDF / Save CSV to a path.
#[component]
pub fn ManifestActions(props: &ManifestActionsProps) -> Html {
    let app = use_app();
    let dir = use_state(|| "~/Documents".to_string());
    let print = Callback::from(|_: MouseEvent| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    });
    let save = |format: &'static str| {
        let (app, dir, id, stem) = (app.clone(), dir.clone(), props.departure_id.clone(), props.file_stem.clone());
        Callback::from(move |_: MouseEvent| {
            let (app, id) = (app.clone(), id.clone());
            let path = format!("{}/{stem}.{format}", dir.trim().trim_end_matches('/'));
            spawn_local(async move {
                match save_manifest(&id, format, &path).await {
                    Ok(written) => app.dispatch(Action::Toast(format!("Manifest saved to {written}"))),
                    Err(e) => app.dispatch(Action::Toast(e.message)),
                }
            });
        })
    };
    html! {
        <div class="actions manifest-actions no-print">
            <button class="print-manifest" type="button" onclick={print}>{ "Print" }</button>
            <label>{ "Folder " }
                <input class="manifest-folder" type="text" value={(*dir).clone()}
                    oninput={{ let d = dir.clone(); Callback::from(move |e: InputEvent| d.set(e.target_unchecked_into::<HtmlInputElement>().value())) }} />
            </label>
            <button class="save-manifest-pdf" type="button" onclick={save("pdf")}>{ "Save PDF" }</button>
            <button class="save-manifest-csv" type="button" onclick={save("csv")}>{ "Save CSV" }</button>
        </div>
    }
}

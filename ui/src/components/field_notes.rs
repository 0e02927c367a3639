//! Guide mode's field tools beside a manifest (issue 14): the guides' notes on a departure
//! (incidents; written by the guide leading it, offline, read by the office on the departure),
//! and printing or saving the manifest (guide mode's and the office's departure panel).

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

/// The notes, oldest first, each with its time and whether it still waits to be sent.
pub fn notes_list(list: &[DepartureIncidentView]) -> Html {
    html! {
        <ul class="field-notes">
        { for list.iter().map(|n| html! {
            <li data-id={n.incident.id.clone()}>
                <span class="muted">{ n.incident.at.format("%a %d %b %H:%M UTC").to_string() }</span>
                { " " }<span class="note-text">{ &n.incident.text }</span>
                if n.pending { { " " }<span class="badge pending">{ "Pending sync" }</span> }
            </li>
        }) }
        </ul>
    }
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
        Load::Ready(list) => notes_list(&list),
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

/// Print (the print stylesheet keeps only the manifest), and Save PDF / Save CSV: into the
/// downloads folder unless another folder is typed; the toast says where the file went.
#[component]
pub fn ManifestActions(props: &ManifestActionsProps) -> Html {
    let app = use_app();
    // Empty: the computer's downloads folder (the desk picks it, as the reports' CSV does).
    let dir = use_state(String::new);
    let print = Callback::from(|_: MouseEvent| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    });
    let save = |format: &'static str| {
        let (app, dir, id, stem) = (app.clone(), dir.clone(), props.departure_id.clone(), props.file_stem.clone());
        Callback::from(move |_: MouseEvent| {
            let (app, id) = (app.clone(), id.clone());
            let folder = dir.trim().trim_end_matches('/');
            let path = if folder.is_empty() { String::new() } else { format!("{folder}/{stem}.{format}") };
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
            <label>{ "Save in " }
                <input class="manifest-folder" type="text" placeholder="Downloads folder" value={(*dir).clone()}
                    oninput={{ let d = dir.clone(); Callback::from(move |e: InputEvent| d.set(e.target_unchecked_into::<HtmlInputElement>().value())) }} />
            </label>
            <button class="save-manifest-pdf" type="button" onclick={save("pdf")}>{ "Save PDF" }</button>
            <button class="save-manifest-csv" type="button" onclick={save("csv")}>{ "Save CSV" }</button>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ManifestWithActionsProps {
    pub manifest: tourdesk_domain::ipc::Manifest,
    /// `(booking id, participant index)`.
    pub on_check_in: Callback<(String, u32)>,
    pub on_no_show: Callback<(String, u32)>,
}

/// A departure's manifest with its Print / Save PDF / Save CSV buttons, named after the
/// departure's local day and time (`manifest-2026-06-08-0900.csv`): the office's departure panel
/// and guide mode show the same one.
#[component]
pub fn ManifestWithActions(props: &ManifestWithActionsProps) -> Html {
    let dep = &props.manifest.departure.departure;
    let stem = format!("manifest-{}-{}", dep.local_date, dep.local_time.format("%H%M"));
    html! {
        <>
            <ManifestActions departure_id={dep.id.clone()} file_stem={stem} />
            <crate::components::bookings::ManifestView manifest={props.manifest.clone()}
                on_check_in={props.on_check_in.clone()} on_no_show={props.on_no_show.clone()} />
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tourdesk_domain::incident::DepartureIncident;

    #[derive(Properties, PartialEq)]
    struct ListProps {
        list: Vec<DepartureIncidentView>,
    }

    #[component]
    fn List(p: &ListProps) -> Html {
        notes_list(&p.list)
    }

    fn note(id: &str, at: &str, text: &str, pending: bool) -> DepartureIncidentView {
        DepartureIncidentView {
            incident: DepartureIncident {
                id: id.into(),
                organization_id: "o".into(),
                departure_id: "d".into(),
                at: at.parse().unwrap(),
                text: text.into(),
                recorded_by: "u".into(),
            },
            pending,
        }
    }

    #[tokio::test]
    async fn field_notes_show_time_text_and_what_waits_to_be_sent() {
        let list = vec![
            note("n1", "2026-06-08T08:05:00Z", "Started 5 minutes late: tram strike", false),
            note("n2", "2026-06-08T09:40:00Z", "Guest <Rui> twisted an ankle; walked him to a taxi", true),
        ];
        let html = yew::LocalServerRenderer::<List>::with_props(ListProps { list }).render().await;
        assert!(html.contains("Mon 08 Jun 08:05 UTC") && html.contains("tram strike"), "{html}");
        assert!(html.contains("Guest &lt;Rui&gt; twisted"), "the text is escaped: {html}");
        assert_eq!(html.matches("Pending sync").count(), 1, "only the unsent note: {html}");
        assert!(html.find("data-id=\"n1\"") < html.find("data-id=\"n2\""), "oldest first: {html}");
    }

    #[tokio::test]
    async fn only_guide_mode_offers_the_note_form() {
        let props = |can_write| FieldNotesProps { departure_id: "d".into(), can_write };
        let html = yew::LocalServerRenderer::<FieldNotes>::with_props(props(true)).render().await;
        assert!(html.contains("Field notes from the guides") && html.contains("field-note-form"), "{html}");
        assert!(html.contains(&format!("maxlength=\"{INCIDENT_TEXT_MAX}\"")), "{html}");
        assert!(html.contains("add-field-note") && html.contains("disabled"), "an empty note cannot be sent: {html}");
        let html = yew::LocalServerRenderer::<FieldNotes>::with_props(props(false)).render().await;
        assert!(html.contains("Field notes from the guides") && !html.contains("field-note-form"), "{html}");
    }

    #[tokio::test]
    async fn a_manifest_comes_with_its_print_and_save_buttons_named_after_the_departure() {
        let d = crate::fixtures::departure("d-9", "2026-06-08T08:00:00Z", "Europe/Lisbon", 0);
        let manifest = tourdesk_domain::ipc::Manifest {
            departure: crate::fixtures::view(d),
            tour_name: "Old Town".into(),
            meeting_point: "Praça".into(),
            bookings: vec![],
        };
        let props = ManifestWithActionsProps { manifest, on_check_in: Callback::noop(), on_no_show: Callback::noop() };
        let html = yew::LocalServerRenderer::<ManifestWithActions>::with_props(props).render().await;
        for button in ["print-manifest", "save-manifest-pdf", "save-manifest-csv"] {
            assert!(html.contains(button), "{button}: {html}");
        }
        assert!(html.contains("Nobody is booked on this departure yet."), "the manifest itself: {html}");
    }

    #[tokio::test]
    async fn the_printable_manifest_prints_only_the_guest_list() {
        let props = ManifestActionsProps { departure_id: "d".into(), file_stem: "manifest-2026-06-08-0900".into() };
        let html = yew::LocalServerRenderer::<ManifestActions>::with_props(props).render().await;
        assert!(html.contains("no-print"), "the buttons stay off paper: {html}");
        for button in ["print-manifest", "save-manifest-pdf", "save-manifest-csv"] {
            assert!(html.contains(button), "{button}: {html}");
        }
        assert!(html.contains("placeholder=\"Downloads folder\""), "saved to the downloads folder by default: {html}");
        // The print stylesheet: only the manifest is visible, its buttons hidden, a booking
        // never split across pages.
        let css = include_str!("../../style.css");
        let print = &css[css.find("@media print").expect("a print stylesheet")..];
        let print = &print[..print.find("\n}").unwrap_or(print.len())];
        for rule in [
            "body * { visibility: hidden; }",
            "#manifest, #manifest * { visibility: visible; }",
            "#manifest button, .no-print { display: none !important; }",
            "break-inside: avoid",
        ] {
            assert!(print.contains(rule), "{rule} in {print}");
        }
    }
}

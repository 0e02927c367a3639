//! `#/calendar`: departures across tours by week or month, seats left at a glance. A day opens
//! its departures; a departure opens its panel (capacity, sales, notes, cancelling). "Generate
//! departures" previews a pattern — local time, UTC, DST marks — before anything is saved, and
//! "One-off departure" adds a single one.

use chrono::{Datelike, NaiveDate, NaiveTime};
use tourdesk_domain::availability::{AvailabilityPattern, PatternKind};
use tourdesk_domain::entities::TourVariant;
use tourdesk_domain::ipc::{CalendarDeparture, DepartureView, TourView};
use tourdesk_domain::mutation::{
    CreateDepartureV1, DEPARTURE_NOTES_MAX, DepartureCancellationPreview, GenerateDeparturesV1, GenerationPlan,
    PlannedDeparture,
};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::roles::Permission;
use tourdesk_domain::status::DepartureStatus;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::calendar::{
    CalendarGrid, CalendarMode, DayList, PreviewTable, day_id, dst_note, field_error, general_error, seats_words,
    title, utc_offset, visible_range,
};
use crate::components::cancel_departure::CancelDepartureDialog;
use crate::components::dialog::FormDialog;
use crate::components::field_notes::FieldNotes;
use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::components::tours::local_start;
use crate::error::UiError;
use crate::hooks::{Depends, Load, spawn_save, use_invoke};
use crate::services;
use crate::state::{Action, use_app};
use crate::words;

const CALENDAR: Depends = Depends::on(&[EntityKind::Departure, EntityKind::Tour, EntityKind::TourVariant]);
const TOURS: Depends = Depends::on(&[EntityKind::Tour]);

/// Today on the desk's own clock and zone (`Utc::now` panics in the webview: no `SystemTime`).
pub(crate) fn today() -> NaiveDate {
    #[cfg(target_arch = "wasm32")]
    {
        let now = web_sys::js_sys::Date::new_0();
        if let Some(d) = NaiveDate::from_ymd_opt(now.get_full_year() as i32, now.get_month() + 1, now.get_date()) {
            return d;
        }
    }
    chrono::Utc::now().date_naive()
}

fn input_value(e: &Event) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

fn select_value(e: &Event) -> String {
    e.target_unchecked_into::<HtmlSelectElement>().value()
}

#[derive(Debug, Clone, PartialEq)]
enum Dialog {
    None,
    Generate,
    OneOff,
}

#[component]
pub fn CalendarPage() -> Html {
    let app = use_app();
    let now = today();
    let mode = use_state(|| CalendarMode::Month);
    let anchor = use_state(|| now);
    let focused = use_state(|| now);
    let selected = use_state(|| None::<NaiveDate>);
    let open = use_state(|| None::<String>);
    let dialog = use_state(|| Dialog::None);
    let keyboard = use_mut_ref(|| false);
    let retry = use_state(|| 0u32);
    let range = visible_range(*mode, *anchor);
    let data = use_invoke(CALENDAR, (range, *retry), |((from, until), _)| services::calendar(from, until));
    // The tour list (every tour, with its texts) is needed only by the dialogs and to tell an
    // empty month of a desk without tours: a month that shows departures has tours. Loading it
    // on every visit cost the month view a second full read and parse.
    let want_tours = *dialog != Dialog::None || data.ready().is_some_and(|l| l.is_empty());
    let tours = use_invoke(TOURS, want_tours, |want| async move {
        if want { services::list_tours().await.map(Some) } else { Ok(None) }
    });
    let tours: Load<Vec<TourView>> = match tours {
        Load::Ready(Some(t)) => Load::Ready(t),
        Load::Ready(None) | Load::Loading => Load::Loading,
        Load::Failed(e) => Load::Failed(e),
    };
    let role = app.status.as_ref().and_then(|s| s.signed_in_as.as_ref()).map(|u| u.role);
    let can_override = role.is_some_and(|r| r.can(Permission::Overbook));

    // Arrow keys move the focus to the new day's button once it is drawn.
    {
        let keyboard = keyboard.clone();
        use_effect_with((*focused, data.ready().is_some()), move |(day, _)| {
            if *keyboard.borrow() {
                #[cfg(target_arch = "wasm32")]
                if let Some(el) =
                    web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(&day_id(*day)))
                {
                    use web_sys::wasm_bindgen::JsCast;
                    if let Ok(h) = el.dyn_into::<web_sys::HtmlElement>() {
                        let _ = h.focus();
                    }
                }
                #[cfg(not(target_arch = "wasm32"))]
                let _ = day_id(*day);
            }
        });
    }

    let on_focus = {
        let (focused, anchor, mode, keyboard) = (focused.clone(), anchor.clone(), mode.clone(), keyboard.clone());
        Callback::from(move |day: NaiveDate| {
            *keyboard.borrow_mut() = true;
            let (start, end) = visible_range(*mode, *anchor);
            if day < start || day > end || (*mode == CalendarMode::Month && day.month() != anchor.month()) {
                anchor.set(day);
            }
            focused.set(day);
        })
    };
    let on_open_day = {
        let (selected, focused, open) = (selected.clone(), focused.clone(), open.clone());
        Callback::from(move |day: NaiveDate| {
            selected.set(Some(day));
            focused.set(day);
            open.set(None);
        })
    };
    let on_open_departure = {
        let open = open.clone();
        Callback::from(move |id: String| open.set(Some(id)))
    };
    let step = |forward: bool| {
        let (anchor, focused, mode) = (anchor.clone(), focused.clone(), mode.clone());
        Callback::from(move |_: MouseEvent| {
            let a = *anchor;
            let next = match (*mode, forward) {
                (CalendarMode::Month, true) => a.checked_add_months(chrono::Months::new(1)),
                (CalendarMode::Month, false) => a.checked_sub_months(chrono::Months::new(1)),
                (CalendarMode::Week, true) => a.checked_add_days(chrono::Days::new(7)),
                (CalendarMode::Week, false) => a.checked_sub_days(chrono::Days::new(7)),
            }
            .unwrap_or(a);
            anchor.set(next);
            focused.set(next);
        })
    };
    let go_today = {
        let (anchor, focused) = (anchor.clone(), focused.clone());
        Callback::from(move |_: MouseEvent| {
            anchor.set(today());
            focused.set(today());
        })
    };
    let set_mode = |m: CalendarMode| {
        let (mode, anchor, focused) = (mode.clone(), anchor.clone(), focused.clone());
        Callback::from(move |_: MouseEvent| {
            mode.set(m);
            anchor.set(*focused);
        })
    };
    let open_dialog = |d: Dialog| {
        let dialog = dialog.clone();
        Callback::from(move |_: MouseEvent| dialog.set(d.clone()))
    };
    let close_dialog = {
        let dialog = dialog.clone();
        Callback::from(move |_: ()| dialog.set(Dialog::None))
    };
    let on_generated = {
        let (dialog, app) = (dialog.clone(), app.clone());
        Callback::from(move |n: usize| {
            dialog.set(Dialog::None);
            app.dispatch(Action::Toast(match n {
                0 => "Nothing new to save: those departures exist already".into(),
                1 => "1 departure saved".into(),
                n => format!("{n} departures saved"),
            }));
        })
    };
    let on_created = {
        let (dialog, app, anchor, focused, selected, open) =
            (dialog.clone(), app.clone(), anchor.clone(), focused.clone(), selected.clone(), open.clone());
        Callback::from(move |p: PlannedDeparture| {
            dialog.set(Dialog::None);
            anchor.set(p.departure.local_date);
            focused.set(p.departure.local_date);
            selected.set(Some(p.departure.local_date));
            open.set(Some(p.departure.id.clone()));
            app.dispatch(Action::Toast("Departure added".into()));
        })
    };
    let on_done = {
        let app = app.clone();
        Callback::from(move |what: String| app.dispatch(Action::Toast(what)))
    };
    let close_panel = {
        let open = open.clone();
        Callback::from(move |_: ()| open.set(None))
    };

    let no_tours = tours.ready().is_some_and(|t: &Vec<TourView>| t.is_empty());
    let body = match &data {
        Load::Loading => html! { <Loading what="departures" /> },
        Load::Failed(e) => {
            let retry = retry.clone();
            html! { <ErrorNote error={e.clone()} on_retry={Callback::from(move |_| retry.set(*retry + 1))} /> }
        }
        Load::Ready(list) => {
            let opened = open.as_ref().and_then(|id| list.iter().find(|c| &c.departure.id == id));
            let opened: Option<CalendarDeparture> = opened.cloned();
            html! {
                <>
                    if no_tours {
                        <EmptyState title="No tours yet" hint="Departures belong to a tour: create one first, then generate its departures here.">
                            <a href="#/tours">{ "Go to tours" }</a>
                        </EmptyState>
                    } else if list.is_empty() {
                        <p id="calendar-empty" class="muted">{ "No departures in these dates. Generate them from a pattern or add a one-off departure." }</p>
                    }
                    <CalendarGrid mode={*mode} anchor={*anchor} focused={*focused} selected={*selected}
                        departures={list.clone()} today={now} on_focus={on_focus}
                        on_open_day={on_open_day} on_open_departure={on_open_departure.clone()} />
                    if let Some(c) = opened {
                        <DeparturePanel key={format!("{}|{}|{}", c.departure.id, c.departure.capacity, c.departure.status)}
                            departure={c.clone()} can_override={can_override}
                            on_close={close_panel} on_done={on_done} />
                    } else if let Some(day) = *selected {
                        <DayList day={day} departures={list.clone()} on_open_departure={on_open_departure} />
                    }
                </>
            }
        }
    };
    let tour_list: Vec<TourView> = tours.ready().cloned().unwrap_or_default();
    html! {
        <section class="page calendar-page">
            <header class="page-head calendar-toolbar">
                <h1 id="calendar-title">{ title(*mode, *anchor) }</h1>
                <div class="actions">
                    <button id="calendar-prev" type="button" onclick={step(false)} aria-label="Previous">{ "‹ Previous" }</button>
                    <button id="calendar-today" type="button" onclick={go_today}>{ "Today" }</button>
                    <button id="calendar-next" type="button" onclick={step(true)} aria-label="Next">{ "Next ›" }</button>
                </div>
                <div class="actions" role="group" aria-label="View">
                    <button id="view-week" type="button" aria-pressed={(*mode == CalendarMode::Week).to_string()} onclick={set_mode(CalendarMode::Week)}>{ "Week" }</button>
                    <button id="view-month" type="button" aria-pressed={(*mode == CalendarMode::Month).to_string()} onclick={set_mode(CalendarMode::Month)}>{ "Month" }</button>
                </div>
                <div class="actions">
                    <button id="open-generate" type="button" class="primary" disabled={no_tours} onclick={open_dialog(Dialog::Generate)}>{ "Generate departures" }</button>
                    <button id="open-one-off" type="button" disabled={no_tours} onclick={open_dialog(Dialog::OneOff)}>{ "One-off departure" }</button>
                </div>
            </header>
            <p class="muted keys-hint">{ "Arrow keys move between days, Page Up/Down by month, Enter opens a day." }</p>
            { body }
            // A dialog starts once the tours are there: it picks its first tour when it opens.
            if *dialog != Dialog::None {
                { match &tours {
                    Load::Loading => html! { <Loading what="tours" /> },
                    Load::Failed(e) => html! { <ErrorNote error={e.clone()} /> },
                    Load::Ready(_) => html! {},
                } }
            }
            if *dialog == Dialog::Generate && tours.ready().is_some() {
                <GenerateDialog tours={tour_list.clone()} on_close={close_dialog.clone()} on_saved={on_generated} />
            }
            if *dialog == Dialog::OneOff && tours.ready().is_some() {
                <OneOffDialog tours={tour_list} default_date={(*selected).unwrap_or(*focused)} on_close={close_dialog} on_created={on_created} />
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct DeparturePanelProps {
    pub departure: CalendarDeparture,
    /// The signed-in role may set a capacity below the seats sold, with a reason.
    pub can_override: bool,
    pub on_close: Callback<()>,
    /// A change was saved; the words say which.
    pub on_done: Callback<String>,
}

/// One departure: capacity, sales (open or closed), notes, and cancelling through the
/// cancellation dialog. Errors show beside their field.
#[component]
pub fn DeparturePanel(props: &DeparturePanelProps) -> Html {
    let d = &props.departure.departure;
    let capacity = use_state(|| d.capacity.to_string());
    let reason = use_state(String::new);
    let notes = use_state(|| d.notes.clone());
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let cancel_preview = use_state(|| None::<DepartureCancellationPreview>);
    let id = d.id.clone();
    let terminal = matches!(d.status, DepartureStatus::Cancelled | DepartureStatus::Completed);
    // Below what is sold: the domain refuses unless a manager gives a reason.
    let below_sold = capacity.trim().parse::<u32>().is_ok_and(|c| c < d.booked_count);

    let run = {
        let (error, busy, on_done) = (error.clone(), busy.clone(), props.on_done.clone());
        move |what: &'static str, job: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), UiError>>>>| {
            spawn_save(&busy, &error, &on_done, async move { job.await.map(|_| what.to_string()) });
        }
    };
    let on_capacity = {
        let (capacity, reason, error, id, run) =
            (capacity.clone(), reason.clone(), error.clone(), id.clone(), run.clone());
        let can_override = props.can_override;
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Ok(cap) = capacity.trim().parse::<u32>() else {
                error.set(Some(UiError::at_field("capacity", "Enter a number of seats, such as 12")));
                return;
            };
            let why = reason.trim().to_string();
            let id = id.clone();
            let override_reason = (can_override && !why.is_empty()).then_some(why);
            run(
                "Capacity saved",
                Box::pin(async move { services::set_departure_capacity(&id, cap, override_reason.as_deref()).await }),
            );
        })
    };
    let on_status = |status: DepartureStatus, what: &'static str| {
        let (id, run) = (id.clone(), run.clone());
        Callback::from(move |_: MouseEvent| {
            let id = id.clone();
            run(what, Box::pin(async move { services::set_departure_status(&id, status).await }));
        })
    };
    let on_notes = {
        let (notes, id, run) = (notes.clone(), id.clone(), run.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (text, id) = ((*notes).clone(), id.clone());
            run("Notes saved", Box::pin(async move { services::set_departure_notes(&id, &text).await }));
        })
    };
    let on_cancel = {
        let (id, cancel_preview, error) = (id.clone(), cancel_preview.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            let (id, cancel_preview, error) = (id.clone(), cancel_preview.clone(), error.clone());
            spawn_local(async move {
                match services::departure_cancellation_preview(&id).await {
                    Ok(p) => cancel_preview.set(Some(p)),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let on_cancelled = {
        let (cancel_preview, on_done) = (cancel_preview.clone(), props.on_done.clone());
        Callback::from(move |_| {
            cancel_preview.set(None);
            on_done.emit("Departure cancelled".into());
        })
    };
    let close_cancel = {
        let cancel_preview = cancel_preview.clone();
        Callback::from(move |_: ()| cancel_preview.set(None))
    };
    // The domain's capacity refusal belongs beside the capacity field.
    let shown = match &*error {
        Some(e) if e.code == "CAPACITY_BELOW_BOOKED" => Some(UiError { field: Some("capacity".into()), ..e.clone() }),
        other => other.clone(),
    };
    let view = DepartureView { departure: d.clone(), seats_left: props.departure.seats_left };
    let close = props.on_close.reform(|_: MouseEvent| ());
    html! {
        <section id="departure-panel" class="panel" aria-label="Departure">
            <div class="panel-head">
                <h2>{ format!("{} · {}", props.departure.tour_name, props.departure.variant_name) }</h2>
                <span class="badge">{ words::departure_status(d.status) }</span>
                if props.departure.pending { <span class="badge pending">{ "Pending sync" }</span> }
                <button id="close-departure" type="button" onclick={close}>{ "Close" }</button>
            </div>
            <p id="departure-when">{ local_start(&view) }{ " · " }<span class="muted">{ d.starts_at.format("%H:%M UTC").to_string() }</span></p>
            <p id="departure-seats">{ format!("{} of {} seats booked · {}", d.booked_count, d.capacity, seats_words(&props.departure)) }</p>
            <form id="capacity-form" class="form" onsubmit={on_capacity}>
                <label>{ "Capacity (seats)" }
                    <input id="departure-capacity" type="number" min="1" max="10000" value={(*capacity).clone()} disabled={terminal}
                        oninput={{ let c = capacity.clone(); Callback::from(move |e: InputEvent| c.set(input_value(&e))) }} />
                    { field_error(&shown, "capacity") }
                </label>
                if below_sold && props.can_override {
                    <label>{ format!("Reason for going below the {} seats sold (recorded in the audit log)", d.booked_count) }
                        <input id="capacity-override-reason" type="text" maxlength="500" value={(*reason).clone()}
                            placeholder="e.g. Smaller boat after the storm"
                            oninput={{ let r = reason.clone(); Callback::from(move |e: InputEvent| r.set(input_value(&e))) }} />
                        { field_error(&shown, "override_reason") }
                    </label>
                } else if below_sold {
                    <p class="muted">{ "Only a manager can set a capacity below the seats already sold." }</p>
                }
                <div class="actions"><button id="save-capacity" type="submit" disabled={*busy || terminal}>{ "Save capacity" }</button></div>
            </form>
            <div class="actions sales-actions">
                if matches!(d.status, DepartureStatus::Open | DepartureStatus::Full) {
                    <button id="close-sales" type="button" disabled={*busy} onclick={on_status(DepartureStatus::Closed, "Closed to sales")}>{ "Close to sales" }</button>
                }
                if d.status == DepartureStatus::Closed {
                    <button id="reopen-sales" type="button" disabled={*busy} onclick={on_status(DepartureStatus::Open, "Open for sales again")}>{ "Reopen for sales" }</button>
                }
                if !terminal {
                    <button id="cancel-departure" type="button" class="danger" onclick={on_cancel}>{ "Cancel departure…" }</button>
                }
            </div>
            <form id="notes-form" class="form wide" onsubmit={on_notes}>
                <label>{ "Notes for staff" }
                    <textarea id="departure-notes" rows="3" maxlength={DEPARTURE_NOTES_MAX.to_string()} value={(*notes).clone()}
                        placeholder="e.g. Meeting point moved to the north gate"
                        oninput={{ let n = notes.clone(); Callback::from(move |e: InputEvent| n.set(e.target_unchecked_into::<HtmlTextAreaElement>().value())) }} />
                    { field_error(&shown, "notes") }
                </label>
                <div class="actions"><button id="save-notes" type="submit" disabled={*busy}>{ "Save notes" }</button></div>
            </form>
            { general_error(&shown, &["capacity", "override_reason", "notes"]) }
            <FieldNotes departure_id={id.clone()} can_write={false} />
            if let Some(p) = (*cancel_preview).clone() {
                <CancelDepartureDialog departure={view.clone()} tour_name={props.departure.tour_name.clone()} preview={p}
                    on_cancelled={on_cancelled} on_close={close_cancel} />
            }
        </section>
    }
}

/// The variants of the chosen tour, loaded when it changes.
#[hook]
fn use_variants(tour_id: String) -> Load<Vec<TourVariant>> {
    use_invoke(Depends::on(&[EntityKind::TourVariant]), tour_id, |t: String| async move {
        if t.is_empty() { Ok(Vec::new()) } else { services::list_schedule_variants(&t).await }
    })
}

fn parse_date(field: &str, s: &str) -> Result<NaiveDate, UiError> {
    s.trim().parse::<NaiveDate>().map_err(|_| UiError::at_field(field, "Enter a date, such as 2027-03-01"))
}

/// "09:00, 14:30" → times; refused at `pattern.start_times` when one does not read.
pub fn parse_times(s: &str) -> Result<Vec<NaiveTime>, UiError> {
    let mut out = Vec::new();
    for part in s.split([',', ' ', ';']).filter(|p| !p.trim().is_empty()) {
        let t = NaiveTime::parse_from_str(part.trim(), "%H:%M").map_err(|_| {
            UiError::at_field("pattern.start_times", format!("“{}” is not a time such as 09:30", part.trim()))
        })?;
        out.push(t);
    }
    if out.is_empty() {
        return Err(UiError::at_field("pattern.start_times", "Enter at least one start time, such as 09:00"));
    }
    Ok(out)
}

/// "2027-04-25, 2027-05-01" → dates; refused at `pattern.excluded_dates` when one does not read.
pub fn parse_dates(s: &str) -> Result<Vec<NaiveDate>, UiError> {
    s.split([',', ' ', ';'])
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.trim().parse::<NaiveDate>().map_err(|_| {
                UiError::at_field("pattern.excluded_dates", format!("“{}” is not a date such as 2027-04-25", p.trim()))
            })
        })
        .collect()
}

fn parse_capacity(s: &str) -> Result<Option<u32>, UiError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<u32>().map(Some).map_err(|_| UiError::at_field("capacity", "Enter a number of seats, or leave it empty"))
}

/// The generation form's fields as typed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatternDraft {
    pub tour_id: String,
    pub variant_id: String,
    pub from: String,
    pub until: String,
    /// Monday first.
    pub weekdays: [bool; 7],
    pub times: String,
    pub excluded: String,
    pub capacity: String,
}

impl PatternDraft {
    /// The intent, or the first field that does not read.
    pub fn args(&self) -> Result<GenerateDeparturesV1, UiError> {
        if self.tour_id.is_empty() {
            return Err(UiError::at_field("tour_id", "Choose a tour"));
        }
        if self.variant_id.is_empty() {
            return Err(UiError::at_field("variant_id", "Choose a variant"));
        }
        let from = parse_date("from", &self.from)?;
        let until = parse_date("until", &self.until)?;
        // The spec's numbering: 0 = Sunday … 6 = Saturday.
        let days: Vec<u8> = (0u8..7).filter(|i| self.weekdays[usize::from(*i)]).map(|i| (i + 1) % 7).collect();
        if days.is_empty() {
            return Err(UiError::at_field("pattern.days_of_week", "Pick at least one weekday"));
        }
        Ok(GenerateDeparturesV1 {
            tour_id: self.tour_id.clone(),
            variant_id: self.variant_id.clone(),
            from,
            until,
            pattern: AvailabilityPattern {
                kind: PatternKind::Recurring,
                days_of_week: days,
                specific_dates: vec![],
                start_times: parse_times(&self.times)?,
                valid_from: None,
                valid_until: None,
                excluded_dates: parse_dates(&self.excluded)?,
            },
            capacity: parse_capacity(&self.capacity)?,
        })
    }
}

const GENERATE_FIELDS: &[&str] = &[
    "tour_id",
    "variant_id",
    "from",
    "until",
    "pattern.days_of_week",
    "pattern.start_times",
    "pattern.excluded_dates",
    "capacity",
];

#[derive(Properties, PartialEq)]
pub struct GenerateDialogProps {
    pub tours: Vec<TourView>,
    pub on_close: Callback<()>,
    /// Saved; how many departures are new.
    pub on_saved: Callback<usize>,
}

/// Weekdays × start times over a date range, with excluded dates and a capacity. "Preview"
/// shows what a save would write; changing any field clears the preview, so what is saved is
/// always what was last shown.
#[component]
pub fn GenerateDialog(props: &GenerateDialogProps) -> Html {
    let today = today();
    let draft = use_state(|| PatternDraft {
        tour_id: props.tours.first().map(|t| t.tour.id.clone()).unwrap_or_default(),
        from: today.to_string(),
        until: (today + chrono::Days::new(27)).to_string(),
        times: "09:00".into(),
        ..PatternDraft::default()
    });
    let plan = use_state(|| None::<GenerationPlan>);
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let variants = use_variants(draft.tour_id.clone());
    // The first variant is chosen when the tour's variants arrive.
    {
        let draft = draft.clone();
        let first = variants.ready().and_then(|v| v.first()).map(|v| v.id.clone());
        use_effect_with(first, move |first| {
            if let Some(v) = first
                && !draft.variant_id.eq(v)
            {
                draft.set(PatternDraft { variant_id: v.clone(), ..(*draft).clone() });
            }
        });
    }
    let edit = |f: fn(&mut PatternDraft, String)| {
        let (draft, plan) = (draft.clone(), plan.clone());
        Callback::from(move |v: String| {
            let mut d = (*draft).clone();
            f(&mut d, v);
            draft.set(d);
            plan.set(None);
        })
    };
    let on_preview = {
        let (draft, plan, error, busy) = (draft.clone(), plan.clone(), error.clone(), busy.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let args = match draft.args() {
                Ok(a) => a,
                Err(e) => return error.set(Some(e)),
            };
            let (plan, error, busy) = (plan.clone(), error.clone(), busy.clone());
            busy.set(true);
            spawn_local(async move {
                match services::preview_departures(&args).await {
                    Ok(p) => {
                        error.set(None);
                        plan.set(Some(p));
                    }
                    Err(e) => {
                        plan.set(None);
                        error.set(Some(e));
                    }
                }
                busy.set(false);
            });
        })
    };
    let on_save = {
        let (draft, error, busy, on_saved) = (draft.clone(), error.clone(), busy.clone(), props.on_saved.clone());
        Callback::from(move |_: MouseEvent| {
            let Ok(args) = draft.args() else { return };
            spawn_save(&busy, &error, &on_saved, async move { services::generate_departures(&args).await });
        })
    };
    let weekday_names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let to_create = plan.as_ref().map_or(0, |p| p.to_create().count());
    let variant_options = match &variants {
        Load::Ready(v) if v.is_empty() => html! { <option value="">{ "This tour has no active variant" }</option> },
        Load::Ready(v) => v
            .iter()
            .map(|v| {
                html! {
                    <option value={v.id.clone()} selected={v.id == draft.variant_id}>
                        { format!("{}{}", v.name, v.capacity.map(|c| format!(" ({c} seats)")).unwrap_or_default()) }
                    </option>
                }
            })
            .collect::<Html>(),
        Load::Loading => html! { <option value="">{ "Loading variants…" }</option> },
        Load::Failed(e) => html! { <option value="">{ e.message.clone() }</option> },
    };
    html! {
        <FormDialog name="generate" title="Generate departures" class="wide-dialog" onsubmit={on_preview} on_close={props.on_close.clone()}>
            <div class="form-row">
                <label>{ "Tour" }
                    <select id="generate-tour" onchange={edit(|d, v| { d.tour_id = v; d.variant_id.clear(); }).reform(|e: Event| select_value(&e))}>
                        { for props.tours.iter().map(|t| html! {
                            <option value={t.tour.id.clone()} selected={t.tour.id == draft.tour_id}>{ format!("{} ({})", t.tour.name, t.tour.timezone) }</option>
                        }) }
                    </select>
                    { field_error(&error, "tour_id") }
                </label>
                <label>{ "Variant" }
                    <select id="generate-variant" onchange={edit(|d, v| d.variant_id = v).reform(|e: Event| select_value(&e))}>
                        { variant_options }
                    </select>
                    { field_error(&error, "variant_id") }
                </label>
            </div>
            <div class="form-row">
                <label>{ "From" }
                    <input id="generate-from" type="date" value={draft.from.clone()} onchange={edit(|d, v| d.from = v).reform(|e: Event| input_value(&e))} />
                    { field_error(&error, "from") }
                </label>
                <label>{ "Until" }
                    <input id="generate-until" type="date" value={draft.until.clone()} onchange={edit(|d, v| d.until = v).reform(|e: Event| input_value(&e))} />
                    { field_error(&error, "until") }
                </label>
            </div>
            <fieldset id="generate-weekdays">
                <legend>{ "Weekdays" }</legend>
                <div class="weekday-picks">
                { for weekday_names.iter().enumerate().map(|(i, name)| {
                    let checked = draft.weekdays[i];
                    let (draft, plan) = (draft.clone(), plan.clone());
                    let toggle = Callback::from(move |_: Event| {
                        let mut d = (*draft).clone();
                        d.weekdays[i] = !d.weekdays[i];
                        draft.set(d);
                        plan.set(None);
                    });
                    html! {
                        <label class="check"><input type="checkbox" id={format!("weekday-{}", name.to_lowercase())}
                            checked={checked} onchange={toggle} />{ *name }</label>
                    }
                }) }
                </div>
                { field_error(&error, "pattern.days_of_week") }
            </fieldset>
            <label>{ "Start times (local, comma-separated)" }
                <input id="generate-times" type="text" value={draft.times.clone()} placeholder="09:00, 14:30"
                    onchange={edit(|d, v| d.times = v).reform(|e: Event| input_value(&e))} />
                { field_error(&error, "pattern.start_times") }
            </label>
            <div class="form-row">
                <label>{ "Excluded dates (optional)" }
                    <input id="generate-excluded" type="text" value={draft.excluded.clone()} placeholder="2027-04-25, 2027-05-01"
                        onchange={edit(|d, v| d.excluded = v).reform(|e: Event| input_value(&e))} />
                    { field_error(&error, "pattern.excluded_dates") }
                </label>
                <label>{ "Seats per departure" }
                    <input id="generate-capacity" type="number" min="1" max="10000" value={draft.capacity.clone()} placeholder="the variant's"
                        onchange={edit(|d, v| d.capacity = v).reform(|e: Event| input_value(&e))} />
                    { field_error(&error, "capacity") }
                </label>
            </div>
            { general_error(&error, GENERATE_FIELDS) }
            if let Some(p) = (*plan).clone() {
                <PreviewTable plan={p} />
            }
            <div class="actions">
                <button id="preview-departures" type="submit" disabled={*busy}>{ "Preview" }</button>
                <button id="save-departures" type="button" class="primary" disabled={*busy || to_create == 0} onclick={on_save}>
                    { match (plan.is_some(), to_create) {
                        (false, _) => "Save (preview first)".to_string(),
                        (true, 1) => "Save 1 departure".to_string(),
                        (true, n) => format!("Save {n} departures"),
                    } }
                </button>
                <button id="close-generate" type="button" onclick={props.on_close.reform(|_: MouseEvent| ())}>{ "Close" }</button>
            </div>
        </FormDialog>
    }
}

const ONE_OFF_FIELDS: &[&str] = &["tour_id", "variant_id", "local_date", "local_time", "capacity", "notes"];

#[derive(Properties, PartialEq)]
pub struct OneOffDialogProps {
    pub tours: Vec<TourView>,
    pub default_date: NaiveDate,
    pub on_close: Callback<()>,
    pub on_created: Callback<PlannedDeparture>,
}

/// One departure outside any pattern; it shows its UTC start (and a DST note) before saving.
#[component]
pub fn OneOffDialog(props: &OneOffDialogProps) -> Html {
    let tour_id = use_state(|| props.tours.first().map(|t| t.tour.id.clone()).unwrap_or_default());
    let variant_id = use_state(String::new);
    let date = use_state(|| props.default_date.to_string());
    let time = use_state(|| "09:00".to_string());
    let capacity = use_state(String::new);
    let notes = use_state(String::new);
    let error = use_state(|| None::<UiError>);
    let preview = use_state(|| None::<PlannedDeparture>);
    let busy = use_state(|| false);
    let variants = use_variants((*tour_id).clone());
    {
        let variant_id = variant_id.clone();
        let first = variants.ready().and_then(|v| v.first()).map(|v| v.id.clone());
        use_effect_with(first, move |first| {
            if let Some(v) = first {
                variant_id.set(v.clone());
            }
        });
    }
    let args = {
        let (tour_id, variant_id, date, time, capacity, notes) =
            (tour_id.clone(), variant_id.clone(), date.clone(), time.clone(), capacity.clone(), notes.clone());
        move || -> Result<CreateDepartureV1, UiError> {
            if tour_id.is_empty() {
                return Err(UiError::at_field("tour_id", "Choose a tour"));
            }
            if variant_id.is_empty() {
                return Err(UiError::at_field("variant_id", "Choose a variant"));
            }
            Ok(CreateDepartureV1 {
                tour_id: (*tour_id).clone(),
                variant_id: (*variant_id).clone(),
                local_date: parse_date("local_date", &date)?,
                local_time: NaiveTime::parse_from_str(time.trim(), "%H:%M")
                    .map_err(|_| UiError::at_field("local_time", "Enter a time, such as 09:30"))?,
                capacity: parse_capacity(&capacity)?,
                notes: (*notes).clone(),
            })
        }
    };
    let on_preview = {
        let (args, error, preview) = (args.clone(), error.clone(), preview.clone());
        Callback::from(move |_: MouseEvent| {
            let a = match args() {
                Ok(a) => a,
                Err(e) => return error.set(Some(e)),
            };
            let (error, preview) = (error.clone(), preview.clone());
            spawn_local(async move {
                match services::preview_one_off(&a).await {
                    Ok(p) => {
                        error.set(None);
                        preview.set(Some(p));
                    }
                    Err(e) => {
                        preview.set(None);
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    let on_submit = {
        let (args, error, busy, on_created) = (args.clone(), error.clone(), busy.clone(), props.on_created.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let a = match args() {
                Ok(a) => a,
                Err(e) => return error.set(Some(e)),
            };
            spawn_save(&busy, &error, &on_created, async move { services::create_departure(&a).await });
        })
    };
    let set = |s: &UseStateHandle<String>| {
        let (s, preview) = (s.clone(), preview.clone());
        Callback::from(move |e: Event| {
            s.set(input_value(&e));
            preview.set(None);
        })
    };
    let variant_options = match &variants {
        Load::Ready(v) if v.is_empty() => html! { <option value="">{ "This tour has no active variant" }</option> },
        Load::Ready(v) => v
            .iter()
            .map(|v| html! { <option value={v.id.clone()} selected={v.id == *variant_id}>{ &v.name }</option> })
            .collect::<Html>(),
        Load::Loading => html! { <option value="">{ "Loading variants…" }</option> },
        Load::Failed(e) => html! { <option value="">{ e.message.clone() }</option> },
    };
    html! {
        <FormDialog name="one-off" title="One-off departure" onsubmit={on_submit} on_close={props.on_close.clone()}>
            <label>{ "Tour" }
                <select id="one-off-tour" onchange={{ let (t, v, p) = (tour_id.clone(), variant_id.clone(), preview.clone());
                    Callback::from(move |e: Event| { t.set(select_value(&e)); v.set(String::new()); p.set(None); }) }}>
                    { for props.tours.iter().map(|t| html! {
                        <option value={t.tour.id.clone()} selected={t.tour.id == *tour_id}>{ format!("{} ({})", t.tour.name, t.tour.timezone) }</option>
                    }) }
                </select>
                { field_error(&error, "tour_id") }
            </label>
            <label>{ "Variant" }
                <select id="one-off-variant" onchange={{ let (v, p) = (variant_id.clone(), preview.clone());
                    Callback::from(move |e: Event| { v.set(select_value(&e)); p.set(None); }) }}>
                    { variant_options }
                </select>
                { field_error(&error, "variant_id") }
            </label>
            <div class="form-row">
                <label>{ "Date" }
                    <input id="one-off-date" type="date" value={(*date).clone()} onchange={set(&date)} />
                    { field_error(&error, "local_date") }
                </label>
                <label>{ "Start (local time)" }
                    <input id="one-off-time" type="time" value={(*time).clone()} onchange={set(&time)} />
                    { field_error(&error, "local_time") }
                </label>
                <label>{ "Seats" }
                    <input id="one-off-capacity" type="number" min="1" max="10000" placeholder="the variant's" value={(*capacity).clone()} onchange={set(&capacity)} />
                    { field_error(&error, "capacity") }
                </label>
            </div>
            <label>{ "Notes for staff (optional)" }
                <textarea id="one-off-notes" rows="2" maxlength={DEPARTURE_NOTES_MAX.to_string()} value={(*notes).clone()}
                    oninput={{ let n = notes.clone(); Callback::from(move |e: InputEvent| n.set(e.target_unchecked_into::<HtmlTextAreaElement>().value())) }} />
                { field_error(&error, "notes") }
            </label>
            if let Some(p) = &*preview {
                <p id="one-off-preview">
                    { format!("Starts {} local ({}) = {}", p.departure.local_time.format("%H:%M"), utc_offset(p.utc_offset_minutes),
                        p.departure.starts_at.format("%Y-%m-%d %H:%M UTC")) }
                    if let Some(n) = dst_note(p) { <br /><span class="badge dst-gap">{ "DST" }</span>{ " " }{ n } }
                </p>
            }
            { general_error(&error, ONE_OFF_FIELDS) }
            <div class="actions">
                <button id="preview-one-off" type="button" onclick={on_preview}>{ "Check time" }</button>
                <button id="save-one-off" type="submit" class="primary" disabled={*busy}>{ "Add departure" }</button>
                <button id="close-one-off" type="button" onclick={props.on_close.reform(|_: MouseEvent| ())}>{ "Close" }</button>
            </div>
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::pages::test_support::render_page;
    use crate::router::Route;

    #[tokio::test]
    async fn the_calendar_page_starts_loading_with_its_tools() {
        let html = render_page(Route::Calendar).await;
        assert!(html.contains("Loading departures…"), "{html}");
        assert!(html.contains("id=\"open-generate\"") && html.contains("Generate departures"), "{html}");
        assert!(html.contains("One-off departure") && html.contains("aria-pressed=\"true\""), "{html}");
    }

    fn calendar_departure(booked: u32, status: DepartureStatus) -> CalendarDeparture {
        let departure = tourdesk_domain::Departure {
            booked_count: booked,
            status,
            notes: "Meet at the north gate".into(),
            ..tourdesk_domain::fixtures::departure()
        };
        CalendarDeparture {
            seats_left: departure.capacity.saturating_sub(booked),
            departure,
            tour_name: "Old Town Walk".into(),
            variant_name: "Standard".into(),
            pending: true,
        }
    }

    #[tokio::test]
    async fn the_departure_panel_edits_capacity_sales_and_notes_in_words() {
        let html = yew::LocalServerRenderer::<DeparturePanel>::with_props(DeparturePanelProps {
            departure: calendar_departure(6, DepartureStatus::Open),
            can_override: true,
            on_close: Callback::noop(),
            on_done: Callback::noop(),
        })
        .render()
        .await;
        assert!(html.contains("Old Town Walk · Standard") && html.contains("Fri 10 Jul 2026, 09:00 BST"), "{html}");
        assert!(html.contains("08:00 UTC") && html.contains("6 of 10 seats booked · 4 left"), "{html}");
        assert!(html.contains("id=\"departure-capacity\"") && html.contains("Close to sales"), "{html}");
        assert!(html.contains("Cancel departure…") && html.contains("Meet at the north gate"), "{html}");
        assert!(html.contains("Pending sync") && html.contains(">Open<"), "{html}");
        let html = yew::LocalServerRenderer::<DeparturePanel>::with_props(DeparturePanelProps {
            departure: calendar_departure(0, DepartureStatus::Cancelled),
            can_override: false,
            on_close: Callback::noop(),
            on_done: Callback::noop(),
        })
        .render()
        .await;
        assert!(html.contains(">Cancelled<") && !html.contains("Cancel departure…"), "{html}");
    }

    #[tokio::test]
    async fn the_generate_dialog_asks_for_a_pattern_and_saves_only_after_a_preview() {
        let tours = vec![TourView { tour: tourdesk_domain::fixtures::tour(), pending: false }];
        let html = yew::LocalServerRenderer::<GenerateDialog>::with_props(GenerateDialogProps {
            tours,
            on_close: Callback::noop(),
            on_saved: Callback::noop(),
        })
        .render()
        .await;
        assert!(html.contains("role=\"dialog\"") && html.contains("Generate departures"), "{html}");
        for id in [
            "generate-tour",
            "generate-variant",
            "generate-from",
            "generate-until",
            "weekday-mon",
            "generate-times",
            "generate-excluded",
            "generate-capacity",
        ] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}: {html}");
        }
        assert!(html.contains("Save (preview first)") && html.contains("disabled"), "{html}");
    }

    #[test]
    fn the_pattern_form_reads_into_the_intent_or_names_the_field() {
        let mut d = PatternDraft {
            tour_id: "t-1".into(),
            variant_id: "v-1".into(),
            from: "2027-03-01".into(),
            until: "2027-03-31".into(),
            weekdays: [true, false, false, false, false, false, true],
            times: "09:00, 14:30".into(),
            excluded: "2027-03-15".into(),
            capacity: "".into(),
        };
        let a = d.args().unwrap();
        assert_eq!(a.pattern.days_of_week, [1, 0], "Monday and Sunday in the spec's numbering");
        assert_eq!(a.pattern.start_times.len(), 2);
        assert_eq!((a.capacity, a.pattern.excluded_dates.len()), (None, 1));
        d.times = "9h".into();
        assert!(d.args().unwrap_err().is_field("pattern.start_times"));
        d.times = "09:00".into();
        d.weekdays = [false; 7];
        assert!(d.args().unwrap_err().is_field("pattern.days_of_week"));
        d.weekdays[0] = true;
        d.until = "soon".into();
        assert!(d.args().unwrap_err().is_field("until"));
        d.until = "2027-03-31".into();
        d.capacity = "lots".into();
        assert!(d.args().unwrap_err().is_field("capacity"));
        d.capacity = "8".into();
        d.excluded = "2027-02-30".into();
        assert!(d.args().unwrap_err().is_field("pattern.excluded_dates"));
    }
}

//! The tour editor's sections: the tour's details, its variants and its price tiers. Each form
//! keeps what was typed as text, turns it into the command's input only on save (a number that
//! is not one is refused beside its field before anything is sent), and shows the domain's
//! field error beside the field it names. A save is one mutation: it is stored whole or not at
//! all, so a refused form leaves nothing half-saved and keeps what was typed.

use std::rc::Rc;

use chrono::NaiveDate;
use tourdesk_domain::ipc::{NewTour, NewVariant, PriceTierInput, TourView};
use tourdesk_domain::money::{Currency, Money};
use tourdesk_domain::mutation::{UpdateTourV1, UpdateVariantV1};
use tourdesk_domain::status::TourCategory;
use tourdesk_domain::{PricingTier, Tour, TourVariant};
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::keyboard::on_row_keys;
use crate::components::states::EmptyState;
use crate::error::UiError;
use crate::services;
use crate::words;

/// Whether `error` belongs beside the input for `field`: the field itself or one of its items
/// (`tags[2]` belongs to `tags`).
pub fn error_for(error: &Option<UiError>, field: &str) -> Option<String> {
    let e = error.as_ref()?;
    let f = e.field.as_deref()?;
    let item = f.strip_prefix(field).is_some_and(|rest| rest.starts_with('['));
    (f == field || item).then(|| match f.strip_prefix(field).filter(|r| !r.is_empty()) {
        // Which entry of a list, counted from 1 as a person counts.
        Some(rest) => {
            let n = rest.trim_matches(|c| c == '[' || c == ']').parse::<usize>().map(|i| i + 1).unwrap_or(0);
            format!("Entry {n}: {}", e.message)
        }
        None => e.message.clone(),
    })
}

fn field_error(error: &Option<UiError>, field: &str) -> Html {
    match error_for(error, field) {
        Some(m) => html! { <span class="field-error" data-field={field.to_string()}>{ m }</span> },
        None => html! {},
    }
}

/// The error when no input of `fields` shows it.
fn general_error(error: &Option<UiError>, fields: &[&str], id: &str) -> Html {
    match error {
        Some(e) if !fields.iter().any(|f| error_for(error, f).is_some()) => {
            html! { <p id={id.to_string()} class="error-text" role="alert">{ e.message.clone() }</p> }
        }
        _ => html! {},
    }
}

fn number(field: &str, v: &str) -> Result<u32, UiError> {
    v.trim().parse::<u32>().map_err(|_| UiError::at_field(field, "Must be a whole number"))
}

/// Blank is none.
fn opt_number(field: &str, v: &str) -> Result<Option<u32>, UiError> {
    if v.trim().is_empty() { Ok(None) } else { number(field, v).map(Some) }
}

fn opt_degrees(field: &str, v: &str) -> Result<Option<f64>, UiError> {
    let v = v.trim().replace(',', ".");
    if v.is_empty() {
        return Ok(None);
    }
    v.parse::<f64>().map(Some).map_err(|_| UiError::at_field(field, "Must be a number of degrees, e.g. 51.5055"))
}

fn opt_date(field: &str, v: &str) -> Result<Option<NaiveDate>, UiError> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    v.trim().parse::<NaiveDate>().map(Some).map_err(|_| UiError::at_field(field, "Must be a date"))
}

/// "a, b ,, c" → ["a", "b", "c"].
pub fn split_commas(v: &str) -> Vec<String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// One entry per line, blank lines dropped.
pub fn split_lines(v: &str) -> Vec<String> {
    v.lines().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn opt_text(n: Option<u32>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// The amount as typed in major units ("12.50"), without the currency.
pub fn decimal(m: &Money) -> String {
    let shown = m.display();
    shown.split_once(' ').map(|(_, a)| a.to_string()).unwrap_or(shown)
}

fn input_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

fn area_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlTextAreaElement>().value()
}

// ---------------------------------------------------------------------------------------------
// Details

/// Every text input of the details form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailField {
    Name,
    Slug,
    Short,
    Full,
    Duration,
    MinParticipants,
    MaxParticipants,
    Timezone,
    MeetingPoint,
    Address,
    Lat,
    Lng,
    Instructions,
    Tags,
    Languages,
    Accessibility,
    Bring,
    Highlights,
}

/// What the details form holds: text as typed.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailsDraft {
    pub name: String,
    pub slug: String,
    pub short: String,
    pub full: String,
    pub duration: String,
    pub min_participants: String,
    pub max_participants: String,
    pub category: TourCategory,
    pub timezone: String,
    pub meeting_point: String,
    pub address: String,
    pub lat: String,
    pub lng: String,
    pub instructions: String,
    pub tags: String,
    pub languages: String,
    pub accessibility: String,
    pub bring: String,
    pub highlights: String,
}

pub enum DraftChange {
    Text(DetailField, String),
    Category(TourCategory),
}

impl Reducible for DetailsDraft {
    type Action = DraftChange;

    fn reduce(self: Rc<Self>, action: DraftChange) -> Rc<Self> {
        let mut d = (*self).clone();
        match action {
            DraftChange::Category(c) => d.category = c,
            DraftChange::Text(f, v) => {
                let slot = match f {
                    DetailField::Name => &mut d.name,
                    DetailField::Slug => &mut d.slug,
                    DetailField::Short => &mut d.short,
                    DetailField::Full => &mut d.full,
                    DetailField::Duration => &mut d.duration,
                    DetailField::MinParticipants => &mut d.min_participants,
                    DetailField::MaxParticipants => &mut d.max_participants,
                    DetailField::Timezone => &mut d.timezone,
                    DetailField::MeetingPoint => &mut d.meeting_point,
                    DetailField::Address => &mut d.address,
                    DetailField::Lat => &mut d.lat,
                    DetailField::Lng => &mut d.lng,
                    DetailField::Instructions => &mut d.instructions,
                    DetailField::Tags => &mut d.tags,
                    DetailField::Languages => &mut d.languages,
                    DetailField::Accessibility => &mut d.accessibility,
                    DetailField::Bring => &mut d.bring,
                    DetailField::Highlights => &mut d.highlights,
                };
                *slot = v;
            }
        }
        Rc::new(d)
    }
}

impl DetailsDraft {
    pub fn blank() -> DetailsDraft {
        DetailsDraft {
            name: String::new(),
            slug: String::new(),
            short: String::new(),
            full: String::new(),
            duration: "120".into(),
            min_participants: "1".into(),
            max_participants: "12".into(),
            category: TourCategory::Walking,
            timezone: "Europe/London".into(),
            meeting_point: String::new(),
            address: String::new(),
            lat: String::new(),
            lng: String::new(),
            instructions: String::new(),
            tags: String::new(),
            languages: "en".into(),
            accessibility: String::new(),
            bring: String::new(),
            highlights: String::new(),
        }
    }

    pub fn of(t: &Tour) -> DetailsDraft {
        DetailsDraft {
            name: t.name.clone(),
            slug: t.slug.clone(),
            short: t.short_description.clone(),
            full: t.full_description.clone(),
            duration: t.duration_minutes.to_string(),
            min_participants: t.min_participants.to_string(),
            max_participants: t.default_capacity.to_string(),
            category: t.category,
            timezone: t.timezone.clone(),
            meeting_point: t.meeting_point.clone(),
            address: t.meeting_point_address.clone(),
            lat: t.meeting_point_lat.map(|v| v.to_string()).unwrap_or_default(),
            lng: t.meeting_point_lng.map(|v| v.to_string()).unwrap_or_default(),
            instructions: t.meeting_point_instructions.clone(),
            tags: t.tags.join(", "),
            languages: t.languages.join(", "),
            accessibility: t.accessibility_info.clone(),
            bring: t.what_to_bring.join("\n"),
            highlights: t.highlights.join("\n"),
        }
    }

    fn numbers(&self) -> Result<Numbers, UiError> {
        Ok(Numbers {
            duration: number("duration_minutes", &self.duration)?,
            min: number("min_participants", &self.min_participants)?,
            max: number("default_capacity", &self.max_participants)?,
            lat: opt_degrees("meeting_point_lat", &self.lat)?,
            lng: opt_degrees("meeting_point_lng", &self.lng)?,
        })
    }

    /// A new tour from the form.
    pub fn to_new(&self) -> Result<NewTour, UiError> {
        let Numbers { duration, min, max, lat, lng } = self.numbers()?;
        Ok(NewTour {
            name: self.name.clone(),
            short_description: self.short.clone(),
            duration_minutes: duration,
            default_capacity: max,
            category: self.category,
            timezone: self.timezone.clone(),
            meeting_point: self.meeting_point.clone(),
            slug: Some(self.slug.trim().to_string()).filter(|s| !s.is_empty()),
            min_participants: Some(min),
            full_description: self.full.clone(),
            meeting_point_address: self.address.clone(),
            meeting_point_lat: lat,
            meeting_point_lng: lng,
            meeting_point_instructions: self.instructions.clone(),
            tags: split_commas(&self.tags),
            languages: split_commas(&self.languages),
            accessibility_info: self.accessibility.clone(),
            what_to_bring: split_lines(&self.bring),
            highlights: split_lines(&self.highlights),
        })
    }

    /// The whole form as one edit of tour `id` (the domain writes nothing when nothing changed).
    pub fn to_update(&self, id: &str) -> Result<UpdateTourV1, UiError> {
        let Numbers { duration, min, max, lat, lng } = self.numbers()?;
        Ok(UpdateTourV1 {
            id: id.to_string(),
            name: Some(self.name.clone()),
            slug: Some(self.slug.trim().to_string()),
            short_description: Some(self.short.clone()),
            duration_minutes: Some(duration),
            default_capacity: Some(max),
            min_participants: Some(min),
            category: Some(self.category),
            timezone: Some(self.timezone.clone()),
            meeting_point: Some(self.meeting_point.clone()),
            status: None,
            full_description: Some(self.full.clone()),
            meeting_point_address: Some(self.address.clone()),
            meeting_point_lat: Some(lat),
            meeting_point_lng: Some(lng),
            meeting_point_instructions: Some(self.instructions.clone()),
            tags: Some(split_commas(&self.tags)),
            languages: Some(split_commas(&self.languages)),
            accessibility_info: Some(self.accessibility.clone()),
            what_to_bring: Some(split_lines(&self.bring)),
            highlights: Some(split_lines(&self.highlights)),
        })
    }
}

/// The numbers of the details form, parsed.
struct Numbers {
    duration: u32,
    min: u32,
    max: u32,
    lat: Option<f64>,
    lng: Option<f64>,
}

const DETAIL_FIELDS: &[&str] = &[
    "name",
    "slug",
    "short_description",
    "full_description",
    "duration_minutes",
    "min_participants",
    "default_capacity",
    "timezone",
    "meeting_point",
    "meeting_point_address",
    "meeting_point_lat",
    "meeting_point_lng",
    "meeting_point_instructions",
    "tags",
    "languages",
    "accessibility_info",
    "what_to_bring",
    "highlights",
];

#[derive(Properties, PartialEq)]
pub struct TourDetailsFormProps {
    /// The tour edited; `None` makes a new one.
    #[prop_or_default]
    pub tour: Option<Tour>,
    pub on_saved: Callback<TourView>,
}

/// A tour's details: what its page says, where it meets, who it suits.
#[component]
pub fn TourDetailsForm(props: &TourDetailsFormProps) -> Html {
    let initial = props.tour.as_ref().map(DetailsDraft::of).unwrap_or_else(DetailsDraft::blank);
    let draft = use_reducer(move || initial);
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    {
        // Another tour (or the same tour changed elsewhere and saved here): start from it.
        let draft = draft.clone();
        use_effect_with(props.tour.clone(), move |t| {
            if let Some(t) = t {
                let fresh = DetailsDraft::of(t);
                for (f, v) in fresh.fields() {
                    draft.dispatch(DraftChange::Text(f, v));
                }
                draft.dispatch(DraftChange::Category(fresh.category));
            }
        });
    }
    let text = |f: DetailField| {
        let draft = draft.dispatcher();
        Callback::from(move |e: InputEvent| draft.dispatch(DraftChange::Text(f, input_value(&e))))
    };
    let area = |f: DetailField| {
        let draft = draft.dispatcher();
        Callback::from(move |e: InputEvent| draft.dispatch(DraftChange::Text(f, area_value(&e))))
    };
    let on_category = {
        let draft = draft.dispatcher();
        Callback::from(move |e: Event| {
            if let Some(c) = TourCategory::parse(&e.target_unchecked_into::<HtmlSelectElement>().value()) {
                draft.dispatch(DraftChange::Category(c));
            }
        })
    };
    let on_submit = {
        let (draft, error, busy, on_saved) = (draft.clone(), error.clone(), busy.clone(), props.on_saved.clone());
        let id = props.tour.as_ref().map(|t| t.id.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (error, busy, on_saved) = (error.clone(), busy.clone(), on_saved.clone());
            let request = match &id {
                Some(id) => draft.to_update(id).map(Ok),
                None => draft.to_new().map(Err),
            };
            let request = match request {
                Ok(r) => r,
                Err(e) => {
                    error.set(Some(e));
                    return;
                }
            };
            busy.set(true);
            spawn_local(async move {
                let saved = match request {
                    Ok(update) => services::update_tour(&update).await,
                    Err(new) => services::create_tour(&new).await,
                };
                match saved {
                    Ok(t) => {
                        error.set(None);
                        on_saved.emit(t);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let err = &*error;
    let d = &*draft;
    html! {
        <form id="tour-details-form" class="form editor-section" onsubmit={on_submit}>
            <h3>{ "Details" }</h3>
            <div class="form-grid">
                <label>{ "Name" }<input id="tour-name" value={d.name.clone()} oninput={text(DetailField::Name)} />{ field_error(err, "name") }</label>
                <label>{ "Web address name" }<input id="tour-slug" placeholder="made from the name" value={d.slug.clone()} oninput={text(DetailField::Slug)} />{ field_error(err, "slug") }</label>
                <label>{ "Category" }
                    <select id="tour-category" onchange={on_category}>
                    { for TourCategory::ALL.iter().map(|c| html! { <option value={c.as_str()} selected={*c == d.category}>{ words::category(*c) }</option> }) }
                    </select>
                </label>
                <label>{ "Time zone" }<input id="tour-timezone" value={d.timezone.clone()} oninput={text(DetailField::Timezone)} />{ field_error(err, "timezone") }</label>
                <label>{ "Duration (minutes)" }<input id="tour-duration" inputmode="numeric" value={d.duration.clone()} oninput={text(DetailField::Duration)} />{ field_error(err, "duration_minutes") }</label>
                <label>{ "Minimum participants" }<input id="tour-min" inputmode="numeric" value={d.min_participants.clone()} oninput={text(DetailField::MinParticipants)} />{ field_error(err, "min_participants") }</label>
                <label>{ "Maximum participants" }<input id="tour-max" inputmode="numeric" value={d.max_participants.clone()} oninput={text(DetailField::MaxParticipants)} />{ field_error(err, "default_capacity") }</label>
            </div>
            <label>{ "Short description" }<input id="tour-short" value={d.short.clone()} oninput={text(DetailField::Short)} />{ field_error(err, "short_description") }</label>
            <label>{ "Full description" }<textarea id="tour-full" rows="5" value={d.full.clone()} oninput={area(DetailField::Full)} />{ field_error(err, "full_description") }</label>
            <fieldset>
                <legend>{ "Meeting point" }</legend>
                <div class="form-grid">
                    <label>{ "Name" }<input id="tour-meeting-point" value={d.meeting_point.clone()} oninput={text(DetailField::MeetingPoint)} />{ field_error(err, "meeting_point") }</label>
                    <label>{ "Address" }<input id="tour-address" value={d.address.clone()} oninput={text(DetailField::Address)} />{ field_error(err, "meeting_point_address") }</label>
                    <label>{ "Latitude" }<input id="tour-lat" inputmode="decimal" placeholder="e.g. 51.5055" value={d.lat.clone()} oninput={text(DetailField::Lat)} />{ field_error(err, "meeting_point_lat") }</label>
                    <label>{ "Longitude" }<input id="tour-lng" inputmode="decimal" placeholder="e.g. -0.0754" value={d.lng.clone()} oninput={text(DetailField::Lng)} />{ field_error(err, "meeting_point_lng") }</label>
                </div>
                <label>{ "How to find the guide" }<input id="tour-instructions" value={d.instructions.clone()} oninput={text(DetailField::Instructions)} />{ field_error(err, "meeting_point_instructions") }</label>
            </fieldset>
            <div class="form-grid">
                <label>{ "Tags (comma-separated)" }<input id="tour-tags" value={d.tags.clone()} oninput={text(DetailField::Tags)} />{ field_error(err, "tags") }</label>
                <label>{ "Languages (codes, comma-separated)" }<input id="tour-languages" placeholder="en, pt-BR" value={d.languages.clone()} oninput={text(DetailField::Languages)} />{ field_error(err, "languages") }</label>
            </div>
            <label>{ "Highlights (one per line)" }<textarea id="tour-highlights" rows="3" value={d.highlights.clone()} oninput={area(DetailField::Highlights)} />{ field_error(err, "highlights") }</label>
            <label>{ "What to bring (one per line)" }<textarea id="tour-bring" rows="3" value={d.bring.clone()} oninput={area(DetailField::Bring)} />{ field_error(err, "what_to_bring") }</label>
            <label>{ "Accessibility" }<textarea id="tour-accessibility" rows="2" value={d.accessibility.clone()} oninput={area(DetailField::Accessibility)} />{ field_error(err, "accessibility_info") }</label>
            { general_error(err, DETAIL_FIELDS, "details-error") }
            <div class="actions">
                <button id="save-details" type="submit" disabled={*busy}>{ if props.tour.is_some() { "Save details" } else { "Create tour" } }</button>
            </div>
        </form>
    }
}

impl DetailsDraft {
    fn fields(&self) -> Vec<(DetailField, String)> {
        use DetailField::*;
        vec![
            (Name, self.name.clone()),
            (Slug, self.slug.clone()),
            (Short, self.short.clone()),
            (Full, self.full.clone()),
            (Duration, self.duration.clone()),
            (MinParticipants, self.min_participants.clone()),
            (MaxParticipants, self.max_participants.clone()),
            (Timezone, self.timezone.clone()),
            (MeetingPoint, self.meeting_point.clone()),
            (Address, self.address.clone()),
            (Lat, self.lat.clone()),
            (Lng, self.lng.clone()),
            (Instructions, self.instructions.clone()),
            (Tags, self.tags.clone()),
            (Languages, self.languages.clone()),
            (Accessibility, self.accessibility.clone()),
            (Bring, self.bring.clone()),
            (Highlights, self.highlights.clone()),
        ]
    }
}

// ---------------------------------------------------------------------------------------------
// Variants

#[derive(Properties, PartialEq)]
pub struct VariantsSectionProps {
    pub tour: Tour,
    pub variants: Vec<TourVariant>,
    /// Tells the page what happened, for its confirmation toast.
    pub on_done: Callback<String>,
}

/// A section's one form for a new row or the row being edited: `editing` is `None` while the
/// form is closed, `Some(None)` for a new row, `Some(Some(row))` for that row.
struct RowEditing<T: 'static> {
    editing: UseStateHandle<Option<Option<T>>>,
    open_new: Callback<MouseEvent>,
    close: Callback<()>,
    /// Closes the form and passes the form's confirmation on to the page.
    saved: Callback<String>,
}

impl<T: Clone + 'static> RowEditing<T> {
    fn edit(&self, row: &T) -> Callback<MouseEvent> {
        let (row, editing) = (row.clone(), self.editing.clone());
        Callback::from(move |_: MouseEvent| editing.set(Some(Some(row.clone()))))
    }
}

#[hook]
fn use_row_editing<T: Clone + 'static>(on_done: &Callback<String>) -> RowEditing<T> {
    let editing = use_state(|| None::<Option<T>>);
    let (e1, e2, e3, on_done) = (editing.clone(), editing.clone(), editing.clone(), on_done.clone());
    RowEditing {
        editing,
        open_new: Callback::from(move |_: MouseEvent| e1.set(Some(None))),
        close: Callback::from(move |()| e2.set(None)),
        saved: Callback::from(move |what: String| {
            e3.set(None);
            on_done.emit(what);
        }),
    }
}

/// A tour's variants: a table (arrow keys move, Enter edits) and one form for a new variant
/// or the one being edited.
#[component]
pub fn VariantsSection(props: &VariantsSectionProps) -> Html {
    let rows = use_row_editing::<TourVariant>(&props.on_done);
    let error = use_state(|| None::<UiError>);
    let toggle = |v: &TourVariant| {
        let (v, error, on_done) = (v.clone(), error.clone(), props.on_done.clone());
        Callback::from(move |_: MouseEvent| {
            let (v, error, on_done) = (v.clone(), error.clone(), on_done.clone());
            spawn_local(async move {
                let change = UpdateVariantV1 { id: v.id.clone(), active: Some(!v.active), ..Default::default() };
                match services::update_variant(&change).await {
                    Ok(()) => {
                        error.set(None);
                        on_done.emit(format!(
                            "Variant “{}” {}",
                            v.name,
                            if v.active { "deactivated" } else { "reactivated" }
                        ));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let t = &props.tour;
    let table = if props.variants.is_empty() {
        html! { <EmptyState title="No variants yet" hint="A tour is sold through its variants (“Morning”, “Private”): add at least one." /> }
    } else {
        html! {
            <div class="table-scroll">
            <table id="variant-table">
                <thead><tr><th>{ "Name" }</th><th class="num">{ "Capacity" }</th><th class="num">{ "Duration" }</th><th class="num">{ "Order" }</th><th>{ "Status" }</th><th></th></tr></thead>
                <tbody onkeydown={Callback::from(on_row_keys)}>
                { for props.variants.iter().map(|v| html! {
                    <tr class={classes!("variant-row", (!v.active).then_some("inactive"))} data-id={v.id.clone()} data-row="" tabindex="0">
                        <td class="name">{ &v.name }</td>
                        <td class="num">{ match v.capacity { Some(c) => c.to_string(), None => format!("{} (tour)", t.default_capacity) } }</td>
                        <td class="num">{ match v.duration_minutes { Some(d) => format!("{d} min"), None => format!("{} min (tour)", t.duration_minutes) } }</td>
                        <td class="num">{ v.sort_order }</td>
                        <td class="status-word">{ if v.active { "Active" } else { "Inactive" } }</td>
                        <td class="row-actions">
                            <button class="edit-variant" onclick={rows.edit(v)}>{ "Edit" }</button>
                            <button class="toggle-variant" onclick={toggle(v)}>{ if v.active { "Deactivate" } else { "Reactivate" } }</button>
                        </td>
                    </tr>
                }) }
                </tbody>
            </table>
            </div>
        }
    };
    html! {
        <section id="variants-section" class="editor-section">
            <div class="section-head">
                <h3>{ "Variants" }</h3>
                <button id="add-variant" onclick={rows.open_new.clone()}>{ "Add variant" }</button>
            </div>
            { table }
            { general_error(&error, &[], "variants-error") }
            if let Some(v) = &*rows.editing {
                <VariantForm key={v.as_ref().map(|v| v.id.clone()).unwrap_or_default()} tour_id={t.id.clone()} variant={v.clone()}
                    next_order={props.variants.iter().map(|v| v.sort_order + 1).max().unwrap_or(0)} on_saved={rows.saved.clone()} on_cancel={rows.close.clone()} />
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct VariantFormProps {
    pub tour_id: String,
    /// `None`: a new variant.
    pub variant: Option<TourVariant>,
    #[prop_or_default]
    pub next_order: i32,
    pub on_saved: Callback<String>,
    pub on_cancel: Callback<()>,
}

#[component]
pub fn VariantForm(props: &VariantFormProps) -> Html {
    let v = props.variant.as_ref();
    let name = use_state(|| v.map(|v| v.name.clone()).unwrap_or_default());
    let capacity = use_state(|| opt_text(v.and_then(|v| v.capacity)));
    let duration = use_state(|| opt_text(v.and_then(|v| v.duration_minutes)));
    let order = use_state(|| v.map(|v| v.sort_order).unwrap_or(props.next_order).to_string());
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let bind = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |e: InputEvent| s.set(input_value(&e)))
    };
    let on_submit = {
        let (name, capacity, duration, order, error, busy) =
            (name.clone(), capacity.clone(), duration.clone(), order.clone(), error.clone(), busy.clone());
        let (tour_id, existing, on_saved) = (props.tour_id.clone(), props.variant.clone(), props.on_saved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let parsed = (|| -> Result<(Option<u32>, Option<u32>, i32), UiError> {
                let order = order
                    .trim()
                    .parse::<i32>()
                    .map_err(|_| UiError::at_field("sort_order", "Must be a whole number"))?;
                Ok((opt_number("capacity", &capacity)?, opt_number("duration_minutes", &duration)?, order))
            })();
            let (cap, dur, order) = match parsed {
                Ok(p) => p,
                Err(e) => {
                    error.set(Some(e));
                    return;
                }
            };
            let (error, busy, on_saved, name) = (error.clone(), busy.clone(), on_saved.clone(), (*name).clone());
            let (tour_id, existing) = (tour_id.clone(), existing.clone());
            busy.set(true);
            spawn_local(async move {
                let r = match &existing {
                    Some(v) => services::update_variant(&UpdateVariantV1 {
                        id: v.id.clone(),
                        name: Some(name.clone()),
                        capacity: Some(cap),
                        duration_minutes: Some(dur),
                        active: None,
                        sort_order: Some(order),
                    })
                    .await
                    .map(|()| format!("Variant “{}” saved", name.trim())),
                    None => services::create_variant(&NewVariant {
                        tour_id,
                        name: name.clone(),
                        capacity: cap,
                        duration_minutes: dur,
                        sort_order: order,
                    })
                    .await
                    .map(|_| format!("Variant “{}” added", name.trim())),
                };
                busy.set(false);
                match r {
                    Ok(what) => on_saved.emit(what),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let err = &*error;
    let on_cancel = props.on_cancel.reform(|_: MouseEvent| ());
    html! {
        <form id="variant-form" class="form inline-form" onsubmit={on_submit}>
            <h4>{ if props.variant.is_some() { "Edit variant" } else { "New variant" } }</h4>
            <div class="form-grid">
                <label>{ "Name" }<input id="variant-name" value={(*name).clone()} oninput={bind(&name)} />{ field_error(err, "name") }</label>
                <label>{ "Capacity" }<input id="variant-capacity" inputmode="numeric" placeholder="the tour's" value={(*capacity).clone()} oninput={bind(&capacity)} />{ field_error(err, "capacity") }</label>
                <label>{ "Duration (minutes)" }<input id="variant-duration" inputmode="numeric" placeholder="the tour's" value={(*duration).clone()} oninput={bind(&duration)} />{ field_error(err, "duration_minutes") }</label>
                <label>{ "Order" }<input id="variant-order" inputmode="numeric" value={(*order).clone()} oninput={bind(&order)} />{ field_error(err, "sort_order") }</label>
            </div>
            { general_error(err, &["name", "capacity", "duration_minutes", "sort_order"], "variant-form-error") }
            <div class="actions">
                <button id="save-variant" type="submit" disabled={*busy}>{ "Save variant" }</button>
                <button type="button" onclick={on_cancel}>{ "Cancel" }</button>
            </div>
        </form>
    }
}

// ---------------------------------------------------------------------------------------------
// Price tiers

fn ages(t: &PricingTier) -> String {
    match (t.min_age, t.max_age) {
        (None, None) => "Any age".into(),
        (Some(lo), None) => format!("{lo} and over"),
        (None, Some(hi)) => format!("up to {hi}"),
        (Some(lo), Some(hi)) => format!("{lo}–{hi}"),
    }
}

fn validity(t: &PricingTier) -> String {
    let d = |d: NaiveDate| d.format("%d %b %Y").to_string();
    match (t.valid_from, t.valid_until) {
        (None, None) => "Always".into(),
        (Some(f), None) => format!("from {}", d(f)),
        (None, Some(u)) => format!("until {}", d(u)),
        (Some(f), Some(u)) => format!("{} – {}", d(f), d(u)),
    }
}

fn per_booking(t: &PricingTier) -> String {
    match (t.min_per_booking, t.max_per_booking) {
        (None, None) => "Any".into(),
        (Some(lo), None) => format!("at least {lo}"),
        (None, Some(hi)) => format!("up to {hi}"),
        (Some(lo), Some(hi)) if lo == hi => format!("exactly {lo}"),
        (Some(lo), Some(hi)) => format!("{lo}–{hi}"),
    }
}

#[derive(Properties, PartialEq)]
pub struct TiersSectionProps {
    pub tour: Tour,
    pub variants: Vec<TourVariant>,
    pub tiers: Vec<PricingTier>,
    pub on_done: Callback<String>,
}

/// A tour's price tiers in display order: a table (arrow keys move, Enter edits) and one form.
#[component]
pub fn TiersSection(props: &TiersSectionProps) -> Html {
    let rows = use_row_editing::<PricingTier>(&props.on_done);
    let mut tiers = props.tiers.clone();
    tiers.sort_by(|a, b| a.sort_order.cmp(&b.sort_order).then_with(|| a.name.cmp(&b.name)));
    let variant_name = |id: &Option<String>| match id {
        None => "All variants".to_string(),
        Some(id) => props
            .variants
            .iter()
            .find(|v| &v.id == id)
            .map(|v| v.name.clone())
            .unwrap_or_else(|| "A removed variant".into()),
    };
    let table = if tiers.is_empty() {
        html! { <EmptyState title="No prices yet" hint="Add a price tier (“Adult”, “Child 5–12”) before publishing." /> }
    } else {
        html! {
            <div class="table-scroll">
            <table id="tier-table">
                <thead><tr><th>{ "Name" }</th><th class="num">{ "Price" }</th><th>{ "For" }</th><th>{ "Ages" }</th><th>{ "Valid" }</th><th>{ "Per booking" }</th><th class="num">{ "Order" }</th><th></th></tr></thead>
                <tbody onkeydown={Callback::from(on_row_keys)}>
                { for tiers.iter().map(|t| html! {
                    <tr class="tier-row" data-id={t.id.clone()} data-row="" tabindex="0">
                        <td class="name">{ &t.name }if t.is_default { <span class="badge">{ "Default" }</span> }</td>
                        <td class="num price">{ t.base_price.display_with_symbol() }</td>
                        <td>{ variant_name(&t.variant_id) }</td>
                        <td>{ ages(t) }</td>
                        <td class="when">{ validity(t) }</td>
                        <td>{ per_booking(t) }</td>
                        <td class="num">{ t.sort_order }</td>
                        <td class="row-actions"><button class="edit-tier" onclick={rows.edit(t)}>{ "Edit" }</button></td>
                    </tr>
                }) }
                </tbody>
            </table>
            </div>
        }
    };
    let currency = props.tiers.first().map(|t| t.base_price.currency);
    html! {
        <section id="tiers-section" class="editor-section">
            <div class="section-head">
                <h3>{ "Price tiers" }</h3>
                <button id="add-tier" onclick={rows.open_new.clone()}>{ "Add price tier" }</button>
            </div>
            { table }
            if let Some(t) = &*rows.editing {
                <TierForm key={t.as_ref().map(|t| t.id.clone()).unwrap_or_default()} tour_id={props.tour.id.clone()} tier={t.clone()}
                    variants={props.variants.clone()} currency={currency}
                    next_order={props.tiers.iter().map(|t| t.sort_order + 1).max().unwrap_or(0)} on_saved={rows.saved.clone()} on_cancel={rows.close.clone()} />
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct TierFormProps {
    pub tour_id: String,
    pub tier: Option<PricingTier>,
    pub variants: Vec<TourVariant>,
    /// The tour's currency, when it has prices already.
    #[prop_or_default]
    pub currency: Option<Currency>,
    #[prop_or_default]
    pub next_order: i32,
    pub on_saved: Callback<String>,
    pub on_cancel: Callback<()>,
}

const TIER_FIELDS: &[&str] = &[
    "name",
    "base_price",
    "variant_id",
    "min_age",
    "max_age",
    "valid_from",
    "valid_until",
    "min_per_booking",
    "max_per_booking",
    "sort_order",
];

#[component]
pub fn TierForm(props: &TierFormProps) -> Html {
    let t = props.tier.as_ref();
    let name = use_state(|| t.map(|t| t.name.clone()).unwrap_or_default());
    let price = use_state(|| t.map(|t| decimal(&t.base_price)).unwrap_or_default());
    let currency = use_state(|| {
        t.map(|t| t.base_price.currency).or(props.currency).map(|c| c.to_string()).unwrap_or_else(|| "USD".into())
    });
    let variant = use_state(|| t.and_then(|t| t.variant_id.clone()).unwrap_or_default());
    let min_age = use_state(|| opt_text(t.and_then(|t| t.min_age)));
    let max_age = use_state(|| opt_text(t.and_then(|t| t.max_age)));
    let from = use_state(|| t.and_then(|t| t.valid_from).map(|d| d.to_string()).unwrap_or_default());
    let until = use_state(|| t.and_then(|t| t.valid_until).map(|d| d.to_string()).unwrap_or_default());
    let min_n = use_state(|| opt_text(t.and_then(|t| t.min_per_booking)));
    let max_n = use_state(|| opt_text(t.and_then(|t| t.max_per_booking)));
    let order = use_state(|| t.map(|t| t.sort_order).unwrap_or(props.next_order).to_string());
    let is_default = use_state(|| t.is_some_and(|t| t.is_default));
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let bind = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |e: InputEvent| s.set(input_value(&e)))
    };
    let on_variant = {
        let variant = variant.clone();
        Callback::from(move |e: Event| variant.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_default = {
        let is_default = is_default.clone();
        Callback::from(move |e: Event| is_default.set(e.target_unchecked_into::<HtmlInputElement>().checked()))
    };
    let on_submit = {
        let states = (
            name.clone(),
            price.clone(),
            currency.clone(),
            variant.clone(),
            min_age.clone(),
            max_age.clone(),
            from.clone(),
            until.clone(),
            min_n.clone(),
            max_n.clone(),
            order.clone(),
            is_default.clone(),
        );
        let (error, busy, on_saved) = (error.clone(), busy.clone(), props.on_saved.clone());
        let (tour_id, id) = (props.tour_id.clone(), props.tier.as_ref().map(|t| t.id.clone()));
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (name, price, currency, variant, min_age, max_age, from, until, min_n, max_n, order, is_default) =
                &states;
            let input = (|| -> Result<PriceTierInput, UiError> {
                let cur = Currency::parse(currency.trim().to_uppercase().as_str())
                    .map_err(|_| UiError::at_field("base_price", "Choose a currency code such as EUR or USD"))?;
                let amount = Money::from_decimal_str(price.trim(), cur).map_err(|_| {
                    UiError::at_field(
                        "base_price",
                        format!("Must be an amount in {cur} with at most {} decimals", cur.exponent()),
                    )
                })?;
                Ok(PriceTierInput {
                    id: id.clone(),
                    tour_id: tour_id.clone(),
                    variant_id: Some(variant.to_string()).filter(|v| !v.is_empty()),
                    name: name.to_string(),
                    base_price: amount,
                    min_age: opt_number("min_age", min_age)?,
                    max_age: opt_number("max_age", max_age)?,
                    valid_from: opt_date("valid_from", from)?,
                    valid_until: opt_date("valid_until", until)?,
                    min_per_booking: opt_number("min_per_booking", min_n)?,
                    max_per_booking: opt_number("max_per_booking", max_n)?,
                    is_default: **is_default,
                    sort_order: order
                        .trim()
                        .parse::<i32>()
                        .map_err(|_| UiError::at_field("sort_order", "Must be a whole number"))?,
                })
            })();
            let input = match input {
                Ok(i) => i,
                Err(e) => {
                    error.set(Some(e));
                    return;
                }
            };
            let (error, busy, on_saved) = (error.clone(), busy.clone(), on_saved.clone());
            busy.set(true);
            spawn_local(async move {
                let r = services::save_price_tier(&input).await;
                busy.set(false);
                match r {
                    Ok(_) => on_saved.emit(format!("Price “{}” saved", input.name.trim())),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let err = &*error;
    let on_cancel = props.on_cancel.reform(|_: MouseEvent| ());
    html! {
        <form id="tier-form" class="form inline-form" onsubmit={on_submit}>
            <h4>{ if props.tier.is_some() { "Edit price tier" } else { "New price tier" } }</h4>
            <div class="form-grid">
                <label>{ "Name" }<input id="tier-name" placeholder="Adult" value={(*name).clone()} oninput={bind(&name)} />{ field_error(err, "name") }</label>
                <label>{ "Price" }
                    <span class="money-input">
                        <input id="tier-price" inputmode="decimal" value={(*price).clone()} oninput={bind(&price)} />
                        <input id="tier-currency" class="currency" maxlength="3" aria-label="Currency" value={(*currency).clone()} oninput={bind(&currency)} />
                    </span>
                    { field_error(err, "base_price") }
                </label>
                <label>{ "For" }
                    <select id="tier-variant" onchange={on_variant}>
                        <option value="" selected={variant.is_empty()}>{ "All variants" }</option>
                        { for props.variants.iter().map(|v| html! { <option value={v.id.clone()} selected={*variant == v.id}>{ &v.name }</option> }) }
                    </select>
                    { field_error(err, "variant_id") }
                </label>
                <label>{ "Youngest age" }<input id="tier-min-age" inputmode="numeric" value={(*min_age).clone()} oninput={bind(&min_age)} />{ field_error(err, "min_age") }</label>
                <label>{ "Oldest age" }<input id="tier-max-age" inputmode="numeric" value={(*max_age).clone()} oninput={bind(&max_age)} />{ field_error(err, "max_age") }</label>
                <label>{ "Valid from" }<input id="tier-valid-from" type="date" value={(*from).clone()} oninput={bind(&from)} />{ field_error(err, "valid_from") }</label>
                <label>{ "Valid until" }<input id="tier-valid-until" type="date" value={(*until).clone()} oninput={bind(&until)} />{ field_error(err, "valid_until") }</label>
                <label>{ "At least per booking" }<input id="tier-min-n" inputmode="numeric" value={(*min_n).clone()} oninput={bind(&min_n)} />{ field_error(err, "min_per_booking") }</label>
                <label>{ "At most per booking" }<input id="tier-max-n" inputmode="numeric" value={(*max_n).clone()} oninput={bind(&max_n)} />{ field_error(err, "max_per_booking") }</label>
                <label>{ "Order" }<input id="tier-order" inputmode="numeric" value={(*order).clone()} oninput={bind(&order)} />{ field_error(err, "sort_order") }</label>
                <label class="check"><input id="tier-default" type="checkbox" checked={*is_default} onchange={on_default} />{ "Pre-selected in the booking form" }</label>
            </div>
            { general_error(err, TIER_FIELDS, "tier-form-error") }
            <div class="actions">
                <button id="save-tier" type="submit" disabled={*busy}>{ "Save price" }</button>
                <button type="button" onclick={on_cancel}>{ "Cancel" }</button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tourdesk_domain::fixtures;

    async fn render<C: BaseComponent>(props: C::Properties) -> String {
        yew::LocalServerRenderer::<C>::with_props(props).render().await
    }

    #[test]
    fn errors_find_their_field_and_list_entries_count_from_one() {
        let e = Some(UiError::at_field("tags[1]", "Is required"));
        assert_eq!(error_for(&e, "tags").as_deref(), Some("Entry 2: Is required"));
        assert_eq!(error_for(&e, "tag"), None);
        let e = Some(UiError::at_field("meeting_point_lat", "Must be between -90 and 90 degrees"));
        assert!(error_for(&e, "meeting_point").is_none(), "a longer field name is another field");
        assert!(error_for(&e, "meeting_point_lat").is_some());
    }

    #[test]
    fn the_draft_round_trips_a_tour_and_refuses_bad_numbers_at_their_field() {
        let t = Tour {
            tags: vec!["night".into(), "river".into()],
            highlights: vec!["Bridge".into(), "Lights".into()],
            meeting_point_lat: Some(51.5),
            meeting_point_lng: Some(-0.07),
            ..fixtures::tour()
        };
        let d = DetailsDraft::of(&t);
        let u = d.to_update(&t.id).unwrap();
        assert_eq!(u.tags.as_deref(), Some(&t.tags[..]));
        assert_eq!(u.highlights.as_deref(), Some(&t.highlights[..]));
        assert_eq!((u.meeting_point_lat, u.meeting_point_lng), (Some(Some(51.5)), Some(Some(-0.07))));
        let blank = DetailsDraft { lat: String::new(), lng: " ".into(), ..d.clone() };
        assert_eq!(blank.to_update("t").unwrap().meeting_point_lat, Some(None), "blank clears the position");
        let bad = DetailsDraft { max_participants: "ten".into(), ..d.clone() };
        assert!(bad.to_new().unwrap_err().is_field("default_capacity"));
        let bad = DetailsDraft { lat: "north".into(), ..d };
        assert!(bad.to_update("t").unwrap_err().is_field("meeting_point_lat"));
        assert_eq!(split_lines(" a \n\n b"), ["a", "b"]);
        assert_eq!(split_commas("en, ,pt-BR"), ["en", "pt-BR"]);
    }

    #[tokio::test]
    async fn the_details_form_shows_every_field_of_the_tour() {
        let t = Tour {
            full_description: "Long text".into(),
            what_to_bring: vec!["Coat".into()],
            accessibility_info: "Step-free".into(),
            ..fixtures::tour()
        };
        let html = render::<TourDetailsForm>(TourDetailsFormProps { tour: Some(t), on_saved: Callback::noop() }).await;
        for needle in [
            "id=\"tour-name\"",
            "Old Town Walk",
            "old-town-walk",
            "Long text",
            "Coat",
            "Step-free",
            "id=\"tour-lat\"",
            "id=\"tour-lng\"",
            "Maximum participants",
            "Save details",
        ] {
            assert!(html.contains(needle), "{needle}: {html}");
        }
    }

    #[tokio::test]
    async fn empty_variants_and_tiers_say_what_to_do() {
        let v = render::<VariantsSection>(VariantsSectionProps {
            tour: fixtures::tour(),
            variants: vec![],
            on_done: Callback::noop(),
        })
        .await;
        assert!(v.contains("No variants yet") && v.contains("id=\"add-variant\""), "{v}");
        let t = render::<TiersSection>(TiersSectionProps {
            tour: fixtures::tour(),
            variants: vec![],
            tiers: vec![],
            on_done: Callback::noop(),
        })
        .await;
        assert!(t.contains("No prices yet") && t.contains("id=\"add-tier\""), "{t}");
    }

    #[tokio::test]
    async fn tables_read_in_words_and_rows_take_the_keyboard() {
        let off = TourVariant {
            id: "v-2".into(),
            name: "Private".into(),
            active: false,
            capacity: Some(4),
            ..fixtures::variant()
        };
        let v = render::<VariantsSection>(VariantsSectionProps {
            tour: fixtures::tour(),
            variants: vec![fixtures::variant(), off],
            on_done: Callback::noop(),
        })
        .await;
        assert!(v.contains("10 (tour)") && v.contains("Inactive") && v.contains(">Reactivate<"), "{v}");
        assert_eq!(v.matches("tabindex=\"0\"").count(), 2, "{v}");
        let family = PricingTier {
            id: "f".into(),
            name: "Family".into(),
            variant_id: Some(fixtures::VARIANT.into()),
            min_age: None,
            is_default: false,
            valid_from: NaiveDate::from_ymd_opt(2026, 7, 1),
            valid_until: NaiveDate::from_ymd_opt(2026, 8, 31),
            min_per_booking: Some(2),
            max_per_booking: Some(4),
            sort_order: 3,
            ..fixtures::adult_tier()
        };
        let t = render::<TiersSection>(TiersSectionProps {
            tour: fixtures::tour(),
            variants: vec![fixtures::variant()],
            tiers: vec![fixtures::adult_tier(), family],
            on_done: Callback::noop(),
        })
        .await;
        for needle in
            ["13 and over", "All variants", "Morning", "01 Jul 2026 – 31 Aug 2026", "2–4", "Default", "$50.00"]
        {
            assert!(t.contains(needle), "{needle}: {t}");
        }
    }

    #[tokio::test]
    async fn the_tier_form_starts_in_the_tours_currency() {
        let html = render::<TierForm>(TierFormProps {
            tour_id: "t".into(),
            tier: None,
            variants: vec![fixtures::variant()],
            currency: Some(Currency::EUR),
            next_order: 2,
            on_saved: Callback::noop(),
            on_cancel: Callback::noop(),
        })
        .await;
        assert!(html.contains("value=\"EUR\"") && html.contains("All variants") && html.contains("Morning"), "{html}");
        assert!(html.contains("type=\"date\""), "{html}");
    }
}

//! Guides (issue 14). `#/guides`: every guide with languages, status, qualified tours and
//! whether they can sign in, and a form for a profile (contact, languages, bio, photo,
//! emergency contact, weekly availability and days off in the guide's zone, qualified tours).
//! `#/guides/board`: a week of departures × guides; departures without a lead are marked, and
//! Enter on a row opens its assignment (guide, role, and, when the domain names conflicts, a
//! reason to override them). `#/my-departures`: guide mode, the signed-in guide's departures
//! today and this week, each opening its manifest with one-tap check-in and no-show.
//! Everything reads the desk's replica and writes through the outbox, so it works offline.

use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;
use tourdesk_domain::accounts::InviteRequest;
use tourdesk_domain::guides::WeeklyAvailability;
use tourdesk_domain::guides::{AssignmentRole, AssignmentStatus, DayTime, GuideStatus, TimeOff, TimeRange};
use tourdesk_domain::ipc::{BoardDeparture, GuideBoard, GuideView, TourView};
use tourdesk_domain::mutation::{AssignGuideV2, UpsertGuideV1};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::roles::Role;
use web_sys::HtmlSelectElement;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::pricing_common::{bind, field_error, form_error};
use crate::components::allotments::AllotmentsSection;
use crate::components::calendar_feeds::{CalendarFeeds, FeedSubject};
use crate::components::field_notes::{FieldNotes, ManifestWithActions};
use crate::components::keyboard::on_row_keys;
use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::error::UiError;
use crate::hooks::{Depends, Load, use_invoke};
use crate::router::Route;
use crate::services::{self, CreateArgs, NoArgs, call};
use crate::state::{Action, use_app};

const GUIDE_KINDS: Depends = Depends::on(&[EntityKind::Guide, EntityKind::Tour]);
const BOARD_KINDS: Depends =
    Depends::on(&[EntityKind::Guide, EntityKind::GuideAssignment, EntityKind::Departure, EntityKind::Tour]);
const MINE_KINDS: Depends = Depends::on(&[
    EntityKind::Guide,
    EntityKind::GuideAssignment,
    EntityKind::Departure,
    EntityKind::Booking,
    EntityKind::CheckIn,
]);

const FIELDS: [&str; 13] = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "languages",
    "timezone",
    "weekly_availability",
    "status",
    "qualified_tour_ids",
    "bio",
    "photo_url",
    "emergency_contact",
    "time_off",
];

const WEEKDAYS: [(u8, &str); 7] = [(1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (0, "Sun")];

#[derive(Serialize)]
struct Span {
    from: NaiveDate,
    until: NaiveDate,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Unassign<'a> {
    departure_id: &'a str,
    guide_id: &'a str,
}

pub async fn list_guides() -> Result<Vec<GuideView>, UiError> {
    call("list_guides", &NoArgs {}).await
}
pub async fn save_guide(input: &UpsertGuideV1) -> Result<String, UiError> {
    call("save_guide", &CreateArgs { input }).await
}
pub async fn guide_board(from: NaiveDate, until: NaiveDate) -> Result<GuideBoard, UiError> {
    call("guide_board", &Span { from, until }).await
}
pub async fn assign_guide(input: &AssignGuideV2) -> Result<(), UiError> {
    call("assign_guide", &CreateArgs { input }).await
}
pub async fn unassign_guide(departure_id: &str, guide_id: &str) -> Result<(), UiError> {
    call("unassign_guide", &Unassign { departure_id, guide_id }).await
}
pub async fn my_departures(from: NaiveDate, until: NaiveDate) -> Result<Vec<BoardDeparture>, UiError> {
    call("my_departures", &Span { from, until }).await
}

pub fn status_word(s: GuideStatus) -> &'static str {
    match s {
        GuideStatus::Active => "Active",
        GuideStatus::Inactive => "Inactive",
        GuideStatus::OnLeave => "On leave",
    }
}

fn role_word(r: AssignmentRole) -> &'static str {
    match r {
        AssignmentRole::Lead => "Lead",
        AssignmentRole::Assistant => "Assistant",
    }
}

/// `09:00-12:00, 13:00-17:00` → ranges; empty → none.
pub fn parse_ranges(field: &str, typed: &str) -> Result<Vec<TimeRange>, UiError> {
    let mut out = Vec::new();
    for part in typed.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || UiError::at_field(field, format!("{part:?} is not a range like 09:00-17:00"));
        let (a, b) = part.split_once(['-', '–']).ok_or_else(bad)?;
        let start = DayTime::try_from(a.trim().to_string()).map_err(|_| bad())?;
        let end = DayTime::try_from(b.trim().to_string()).map_err(|_| bad())?;
        out.push(TimeRange { start, end });
    }
    Ok(out)
}

fn ranges_text(r: &[TimeRange]) -> String {
    r.iter().map(|r| format!("{}-{}", r.start, r.end)).collect::<Vec<_>>().join(", ")
}

/// One period a line: `2026-08-10 2026-08-14 Holiday` (the end and the reason optional).
pub fn parse_time_off(typed: &str) -> Result<Vec<TimeOff>, UiError> {
    let mut out = Vec::new();
    for (i, line) in typed.lines().map(str::trim).filter(|l| !l.is_empty()).enumerate() {
        let field = format!("time_off[{i}]");
        let mut words = line.split_whitespace();
        let date = |w: Option<&str>| w.and_then(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").ok());
        let start = date(words.next())
            .ok_or_else(|| UiError::at_field(&field, format!("{line:?} does not start with a date like 2026-08-10")))?;
        let rest: Vec<&str> = words.collect();
        let (end, reason) = match rest.first().and_then(|w| date(Some(w))) {
            Some(end) => (end, rest[1..].join(" ")),
            None => (start, rest.join(" ")),
        };
        out.push(TimeOff { start, end, reason: Some(reason).filter(|r| !r.is_empty()) });
    }
    Ok(out)
}

fn time_off_text(t: &[TimeOff]) -> String {
    t.iter()
        .map(|t| {
            let mut s = if t.start == t.end { t.start.to_string() } else { format!("{} {}", t.start, t.end) };
            if let Some(r) = &t.reason {
                s.push(' ');
                s.push_str(r);
            }
            s
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The guide form as typed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GuideDraft {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub languages: String,
    pub timezone: String,
    pub status: String,
    pub qualified: Vec<String>,
    pub bio: String,
    pub photo_url: String,
    pub emergency_contact: String,
    /// Ranges per weekday in [`WEEKDAYS`] order.
    pub weekly: Vec<String>,
    pub time_off: String,
}

impl GuideDraft {
    pub fn blank() -> GuideDraft {
        GuideDraft {
            status: "active".into(),
            timezone: "Europe/Lisbon".into(),
            languages: "en".into(),
            weekly: WEEKDAYS.iter().map(|(d, _)| if *d == 0 { String::new() } else { "09:00-18:00".into() }).collect(),
            ..GuideDraft::default()
        }
    }

    pub fn of(g: &GuideView) -> GuideDraft {
        let g = &g.guide;
        GuideDraft {
            id: g.id.clone(),
            first_name: g.first_name.clone(),
            last_name: g.last_name.clone(),
            email: g.email.clone(),
            phone: g.phone.clone(),
            languages: g.languages.join(", "),
            timezone: g.timezone.clone(),
            status: serde_json::to_value(g.status).ok().and_then(|v| v.as_str().map(Into::into)).unwrap_or_default(),
            qualified: g.qualified_tour_ids.clone(),
            bio: g.bio.clone().unwrap_or_default(),
            photo_url: g.photo_url.clone().unwrap_or_default(),
            emergency_contact: g.emergency_contact.clone().unwrap_or_default(),
            weekly: WEEKDAYS
                .iter()
                .map(|(d, _)| g.weekly_availability.0.get(d).map(|r| ranges_text(r)).unwrap_or_default())
                .collect(),
            time_off: time_off_text(&g.time_off),
        }
    }

    /// The mutation's arguments, or the first field that does not read; the domain checks the
    /// rest and names its field the same way. `user_id` is left as it is unless given.
    pub fn to_args(&self, user_id: Option<Option<String>>) -> Result<UpsertGuideV1, UiError> {
        let mut weekly = WeeklyAvailability::default();
        for ((day, _), typed) in WEEKDAYS.iter().zip(&self.weekly) {
            let ranges = parse_ranges(&format!("weekly_availability.{day}"), typed)?;
            if !ranges.is_empty() {
                weekly.0.insert(*day, ranges);
            }
        }
        let status: GuideStatus = serde_json::from_value(serde_json::Value::String(self.status.clone()))
            .map_err(|_| UiError::at_field("status", "Pick a status"))?;
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(UpsertGuideV1 {
            id: self.id.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            languages: self
                .languages
                .split([',', ' '])
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(Into::into)
                .collect(),
            timezone: self.timezone.clone(),
            weekly_availability: weekly,
            status,
            qualified_tour_ids: self.qualified.clone(),
            bio: opt(&self.bio),
            photo_url: opt(&self.photo_url),
            emergency_contact: opt(&self.emergency_contact),
            time_off: parse_time_off(&self.time_off)?,
            user_id,
        })
    }
}

#[component]
pub fn GuidesPage() -> Html {
    let app = use_app();
    let retry = use_state(|| 0u32);
    let guides = use_invoke(GUIDE_KINDS, *retry, |_| list_guides());
    let tours = use_invoke(GUIDE_KINDS, *retry, |_| services::list_tours());
    let editing = use_state(|| None::<Option<GuideView>>);
    let on_new = {
        let editing = editing.clone();
        Callback::from(move |_: MouseEvent| editing.set(Some(None)))
    };
    let on_edit = {
        let editing = editing.clone();
        Callback::from(move |g: GuideView| editing.set(Some(Some(g))))
    };
    let close = {
        let editing = editing.clone();
        Callback::from(move |()| editing.set(None))
    };
    let saved = {
        let (app, editing) = (app.clone(), editing.clone());
        Callback::from(move |msg: String| {
            editing.set(None);
            app.dispatch(Action::Toast(msg));
        })
    };
    let tour_list = tours.ready().cloned().unwrap_or_default();
    let body = match &guides {
        Load::Loading => html! { <Loading what="guides" /> },
        Load::Failed(e) => {
            let retry = retry.clone();
            html! { <ErrorNote error={e.clone()} on_retry={Some(Callback::from(move |()| retry.set(*retry + 1)))} /> }
        }
        Load::Ready(list) if list.is_empty() => html! {
            <EmptyState title="No guides yet" hint="Add your guides with the tours they lead, the languages they speak and when they work; then put them on departures from the week board.">
                <button class="primary" onclick={on_new.clone()}>{ "New guide" }</button>
            </EmptyState>
        },
        Load::Ready(list) => html! {
            <>
                <div class="toolbar">
                    <button class="primary" id="new-guide" onclick={on_new.clone()}>{ "New guide" }</button>
                    <a href="#/guides/board">{ "Week board" }</a>
                </div>
                <GuideTable guides={list.clone()} tours={tour_list.clone()} on_edit={on_edit} />
                <CalendarFeeds subjects={feed_subjects(list, &tour_list)} />
            </>
        },
    };
    html! {
        <section class="page single guides-page">
            <h1>{ "Guides" }</h1>
            if let Some(target) = &*editing {
                <GuideForm guide={target.clone()} tours={tour_list} on_saved={saved} on_cancel={close} />
            }
            { body }
        </section>
    }
}

/// Every guide's and every tour's calendar feed, for the office.
fn feed_subjects(guides: &[GuideView], tours: &[TourView]) -> Vec<FeedSubject> {
    let guides =
        guides.iter().map(|g| FeedSubject { kind: "guide", id: g.guide.id.clone(), name: g.guide.full_name() });
    let tours = tours.iter().map(|t| FeedSubject { kind: "tour", id: t.tour.id.clone(), name: t.tour.name.clone() });
    guides.chain(tours).collect()
}

#[derive(Properties, PartialEq)]
pub struct GuideTableProps {
    pub guides: Vec<GuideView>,
    pub tours: Vec<TourView>,
    pub on_edit: Callback<GuideView>,
}

/// One row per guide; ArrowUp/Down move between rows, Enter edits.
#[component]
pub fn GuideTable(props: &GuideTableProps) -> Html {
    let tour_name =
        |id: &str| props.tours.iter().find(|t| t.tour.id == id).map_or(id.to_string(), |t| t.tour.name.clone());
    html! {
        <div class="table-scroll">
        <table id="guide-table">
            <thead><tr>
                <th>{ "Guide" }</th><th>{ "Contact" }</th><th>{ "Languages" }</th><th>{ "Leads" }</th>
                <th>{ "Status" }</th><th>{ "Sign-in" }</th><th><span class="sr-only">{ "Actions" }</span></th>
            </tr></thead>
            <tbody onkeydown={Callback::from(on_row_keys)}>
                { for props.guides.iter().map(|g| {
                    let edit = { let (cb, g) = (props.on_edit.clone(), g.clone()); Callback::from(move |_: MouseEvent| cb.emit(g.clone())) };
                    let v = &g.guide;
                    let leads = v.qualified_tour_ids.iter().map(|t| tour_name(t)).collect::<Vec<_>>().join(", ");
                    html! {
                        <tr class="guide-row" data-id={v.id.clone()} data-row="" tabindex="0">
                            <td>
                                <button class="link" onclick={edit}>{ v.full_name() }</button>
                                if g.pending { <span class="badge pending">{ "Pending sync" }</span> }
                            </td>
                            <td>{ &v.email }<br /><span class="muted">{ &v.phone }</span></td>
                            <td>{ v.languages.join(", ") }</td>
                            <td>{ if leads.is_empty() { "No tours yet".to_string() } else { leads } }</td>
                            <td>{ status_word(v.status) }</td>
                            <td>{ if v.user_id.is_some() { "Can sign in" } else { "No login" } }</td>
                            <td class="row-actions"></td>
                        </tr>
                    }
                }) }
            </tbody>
        </table>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct GuideFormProps {
    pub guide: Option<GuideView>,
    pub tours: Vec<TourView>,
    pub on_saved: Callback<String>,
    pub on_cancel: Callback<()>,
    #[prop_or_default]
    pub error: Option<UiError>,
}

#[component]
pub fn GuideForm(props: &GuideFormProps) -> Html {
    let start = props.guide.as_ref().map(GuideDraft::of).unwrap_or_else(GuideDraft::blank);
    let first = use_state(|| start.first_name.clone());
    let last = use_state(|| start.last_name.clone());
    let email = use_state(|| start.email.clone());
    let phone = use_state(|| start.phone.clone());
    let languages = use_state(|| start.languages.clone());
    let timezone = use_state(|| start.timezone.clone());
    let status = use_state(|| start.status.clone());
    let qualified = use_state(|| start.qualified.clone());
    let bio = use_state(|| start.bio.clone());
    let photo = use_state(|| start.photo_url.clone());
    let emergency = use_state(|| start.emergency_contact.clone());
    let weekly: Vec<UseStateHandle<String>> = {
        let w0 = use_state(|| start.weekly.first().cloned().unwrap_or_default());
        let w1 = use_state(|| start.weekly.get(1).cloned().unwrap_or_default());
        let w2 = use_state(|| start.weekly.get(2).cloned().unwrap_or_default());
        let w3 = use_state(|| start.weekly.get(3).cloned().unwrap_or_default());
        let w4 = use_state(|| start.weekly.get(4).cloned().unwrap_or_default());
        let w5 = use_state(|| start.weekly.get(5).cloned().unwrap_or_default());
        let w6 = use_state(|| start.weekly.get(6).cloned().unwrap_or_default());
        vec![w0, w1, w2, w3, w4, w5, w6]
    };
    let time_off = use_state(|| start.time_off.clone());
    let error = use_state(|| props.error.clone());
    let busy = use_state(|| false);
    let app = use_app();
    let role = app.status.as_ref().and_then(|s| s.signed_in_as.as_ref()).map(|u| u.role);
    let can_invite = role.is_some_and(|r| matches!(r, Role::Owner | Role::Admin));
    let draft = GuideDraft {
        id: start.id.clone(),
        first_name: (*first).clone(),
        last_name: (*last).clone(),
        email: (*email).clone(),
        phone: (*phone).clone(),
        languages: (*languages).clone(),
        timezone: (*timezone).clone(),
        status: (*status).clone(),
        qualified: (*qualified).clone(),
        bio: (*bio).clone(),
        photo_url: (*photo).clone(),
        emergency_contact: (*emergency).clone(),
        weekly: weekly.iter().map(|w| (**w).clone()).collect(),
        time_off: (*time_off).clone(),
    };
    // Saves the profile; with `invite`, first invites the guide to sign in (owners and admins:
    // the staff invitation e-mail) and links the new login.
    let submit = {
        let (error, busy, on_saved) = (error.clone(), busy.clone(), props.on_saved.clone());
        move |draft: GuideDraft, invite: bool| {
            let (error, busy, on_saved) = (error.clone(), busy.clone(), on_saved.clone());
            let mut args = match draft.to_args(None) {
                Ok(a) => a,
                Err(e) => return error.set(Some(e)),
            };
            busy.set(true);
            spawn_local(async move {
                let mut msg = "Guide saved".to_string();
                if invite {
                    let req = InviteRequest {
                        email: args.email.clone(),
                        name: format!("{} {}", args.first_name.trim(), args.last_name.trim()).trim().to_string(),
                        role: Role::Guide,
                    };
                    match services::invite_staff(&req).await {
                        Ok(member) => {
                            args.user_id = Some(Some(member.id));
                            msg = format!("Guide saved; an invitation to sign in went to {}", member.email);
                        }
                        Err(e) => {
                            error.set(Some(e));
                            busy.set(false);
                            return;
                        }
                    }
                }
                match save_guide(&args).await {
                    Ok(_) => {
                        error.set(None);
                        on_saved.emit(msg);
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        }
    };
    let on_submit = {
        let (submit, draft) = (submit.clone(), draft.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            submit(draft.clone(), false);
        })
    };
    let on_invite = {
        let draft = draft.clone();
        Callback::from(move |_: MouseEvent| submit(draft.clone(), true))
    };
    let on_status = {
        let s = status.clone();
        Callback::from(move |e: Event| s.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let err = &*error;
    let linked = props.guide.as_ref().is_some_and(|g| g.guide.user_id.is_some());
    html! {
        <form class="panel guide-form" onsubmit={on_submit} aria-label="Guide">
            <h2>{ if props.guide.is_some() { "Edit guide" } else { "New guide" } }</h2>
            <fieldset class="row">
                <label>{ "First name" }<input id="guide-first" value={(*first).clone()} oninput={bind(&first)} autofocus=true />{ field_error(err, "first_name") }</label>
                <label>{ "Last name" }<input id="guide-last" value={(*last).clone()} oninput={bind(&last)} />{ field_error(err, "last_name") }</label>
            </fieldset>
            <fieldset class="row">
                <label>{ "E-mail" }<input id="guide-email" type="email" value={(*email).clone()} oninput={bind(&email)} />{ field_error(err, "email") }</label>
                <label>{ "Phone" }<input id="guide-phone" value={(*phone).clone()} oninput={bind(&phone)} placeholder="+351 912 000 999" />{ field_error(err, "phone") }</label>
            </fieldset>
            <fieldset class="row">
                <label>{ "Languages" }<input id="guide-languages" value={(*languages).clone()} oninput={bind(&languages)} placeholder="en, pt" />{ field_error(err, "languages") }</label>
                <label>{ "Time zone" }<input id="guide-timezone" value={(*timezone).clone()} oninput={bind(&timezone)} placeholder="Europe/Lisbon" />{ field_error(err, "timezone") }</label>
                <label>{ "Status" }
                    <select id="guide-status" onchange={on_status}>
                        <option value="active" selected={*status == "active"}>{ "Active" }</option>
                        <option value="on_leave" selected={*status == "on_leave"}>{ "On leave" }</option>
                        <option value="inactive" selected={*status == "inactive"}>{ "Inactive" }</option>
                    </select>
                    { field_error(err, "status") }
                </label>
            </fieldset>
            <fieldset class="qualified" aria-label="Tours the guide may lead">
                <legend>{ "Leads these tours" }</legend>
                if props.tours.is_empty() { <p class="muted">{ "No tours yet." }</p> }
                { for props.tours.iter().map(|t| {
                    let id = t.tour.id.clone();
                    let checked = qualified.contains(&id);
                    let toggle = {
                        let (q, id) = (qualified.clone(), id.clone());
                        Callback::from(move |_: Event| {
                            let mut v = (*q).clone();
                            if let Some(i) = v.iter().position(|x| *x == id) { v.remove(i); } else { v.push(id.clone()); }
                            q.set(v);
                        })
                    };
                    html! { <label class="check"><input type="checkbox" class="guide-tour" data-id={id} checked={checked} onchange={toggle} />{ &t.tour.name }</label> }
                }) }
                { field_error(err, "qualified_tour_ids") }
            </fieldset>
            <fieldset class="weekly" aria-label="Weekly availability">
                <legend>{ format!("Works (in {})", *timezone) }</legend>
                { for WEEKDAYS.iter().zip(weekly.iter()).map(|((day, name), w)| html! {
                    <label class="weekday">{ *name }
                        <input id={format!("guide-day-{day}")} value={(**w).clone()} oninput={bind(w)} placeholder="09:00-17:00" />
                        { field_error(err, &format!("weekly_availability.{day}")) }
                    </label>
                }) }
            </fieldset>
            <label>{ "Days off (one period a line: 2026-08-10 2026-08-14 Holiday)" }
                <textarea id="guide-time-off" value={(*time_off).clone()} oninput={bind_area(&time_off)} rows="3" />
                { field_error(err, "time_off") }
            </label>
            <label>{ "Emergency contact" }<input id="guide-emergency" value={(*emergency).clone()} oninput={bind(&emergency)} placeholder="Name and phone" />{ field_error(err, "emergency_contact") }</label>
            <label>{ "Photo address" }<input id="guide-photo" value={(*photo).clone()} oninput={bind(&photo)} placeholder="https://…" />{ field_error(err, "photo_url") }</label>
            <label>{ "Bio" }<textarea id="guide-bio" value={(*bio).clone()} oninput={bind_area(&bio)} rows="3" />{ field_error(err, "bio") }</label>
            { form_error(err, &FIELDS) }
            <div class="actions">
                <button type="submit" class="primary" disabled={*busy}>{ "Save guide" }</button>
                if !linked && can_invite {
                    <button type="button" id="guide-invite" onclick={on_invite} disabled={*busy}>{ "Save and invite to sign in" }</button>
                }
                <button type="button" onclick={props.on_cancel.reform(|_: MouseEvent| ())}>{ "Cancel" }</button>
            </div>
            if !linked && !can_invite {
                <p class="muted">{ "An owner or admin can invite this guide to sign in to their own device." }</p>
            }
        </form>
    }
}

fn bind_area(s: &UseStateHandle<String>) -> Callback<InputEvent> {
    let s = s.clone();
    Callback::from(move |e: InputEvent| s.set(e.target_unchecked_into::<web_sys::HtmlTextAreaElement>().value()))
}

/// The Monday of `day`'s week.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

#[component]
pub fn GuideBoardPage() -> Html {
    let monday = use_state(|| week_start(super::calendar::today()));
    let retry = use_state(|| 0u32);
    let from = *monday;
    let board = use_invoke(BOARD_KINDS, (from, *retry), move |(from, _)| guide_board(from, from + Days::new(6)));
    let open = use_state(|| None::<String>);
    let shift = |days: i64| {
        let monday = monday.clone();
        Callback::from(move |_: MouseEvent| {
            let d = if days < 0 { *monday - Days::new(days.unsigned_abs()) } else { *monday + Days::new(days as u64) };
            monday.set(d);
        })
    };
    let body = match &board {
        Load::Loading => html! { <Loading what="the week's departures" /> },
        Load::Failed(e) => {
            let retry = retry.clone();
            html! { <ErrorNote error={e.clone()} on_retry={Some(Callback::from(move |()| retry.set(*retry + 1)))} /> }
        }
        Load::Ready(b) if b.departures.is_empty() => html! {
            <EmptyState title="No departures this week" hint="Departures you schedule on a tour appear here to be given a guide.">
                <a href="#/calendar">{ "Open the calendar" }</a>
            </EmptyState>
        },
        Load::Ready(b) => {
            let unassigned = b.departures.iter().filter(|d| d.unassigned()).count();
            let on_open = {
                let open = open.clone();
                Callback::from(move |id: String| open.set(if open.as_deref() == Some(&id) { None } else { Some(id) }))
            };
            html! {
                <>
                    <p class="muted" id="board-summary">{ format!("{} departures, {} without a lead guide", b.departures.len(), unassigned) }</p>
                    <BoardTable board={b.clone()} open={(*open).clone()} on_open={on_open} />
                </>
            }
        }
    };
    html! {
        <section class="page single guide-board-page">
            <h1>{ "Week board" }</h1>
            <div class="toolbar">
                <button id="board-prev" onclick={shift(-7)}>{ "← Previous week" }</button>
                <strong>{ format!("{} – {}", from.format("%a %d %b"), (from + Days::new(6)).format("%a %d %b %Y")) }</strong>
                <button id="board-next" onclick={shift(7)}>{ "Next week →" }</button>
                <a href="#/guides">{ "Guides" }</a>
            </div>
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct BoardTableProps {
    pub board: GuideBoard,
    /// The departure whose assignment panel is open.
    pub open: Option<String>,
    pub on_open: Callback<String>,
}

/// Departures in start order, each with its guides; a departure without a lead is marked.
/// ArrowUp/Down move between rows; Enter opens the row's assignment panel.
#[component]
pub fn BoardTable(props: &BoardTableProps) -> Html {
    html! {
        <div class="table-scroll">
        <table id="board-table">
            <thead><tr>
                <th>{ "When" }</th><th>{ "Tour" }</th><th>{ "Booked" }</th><th>{ "Guides" }</th>
            </tr></thead>
            <tbody onkeydown={Callback::from(on_row_keys)}>
                { for props.board.departures.iter().map(|d| {
                    let dep = &d.departure.departure;
                    let id = dep.id.clone();
                    let toggle = { let (cb, id) = (props.on_open.clone(), id.clone()); Callback::from(move |_: MouseEvent| cb.emit(id.clone())) };
                    let is_open = props.open.as_deref() == Some(dep.id.as_str());
                    html! {
                        <>
                        <tr class={classes!("board-row", d.unassigned().then_some("unassigned"))} data-id={id.clone()} data-row="" tabindex="0">
                            <td class="nowrap">
                                <button class="link" onclick={toggle}>{ format!("{} {}", dep.local_date.format("%a %d"), dep.local_time.format("%H:%M")) }</button>
                            </td>
                            <td>{ &d.departure.tour_name }<span class="muted">{ format!(" · {}", d.departure.variant_name) }</span></td>
                            <td>{ format!("{} / {}", dep.booked_count, dep.capacity) }</td>
                            <td>
                                if d.unassigned() { <span class="badge warning">{ "No lead guide" }</span> }
                                { for d.assignments.iter().filter(|a| a.status != AssignmentStatus::Declined).map(|a| html! {
                                    <span class={classes!("chip", "assigned", (a.role == AssignmentRole::Lead).then_some("lead"))} data-guide={a.guide_id.clone()}>
                                        { format!("{} ({})", a.guide_name, role_word(a.role)) }
                                        if a.pending { <span class="badge pending">{ "Pending sync" }</span> }
                                        if a.override_reason.is_some() { <span class="badge" title={a.override_reason.clone().unwrap_or_default()}>{ "Override" }</span> }
                                    </span>
                                }) }
                            </td>
                        </tr>
                        if is_open {
                            <tr class="assign-row"><td colspan="4">
                                <AssignPanel departure={d.clone()} guides={props.board.guides.clone()} />
                            </td></tr>
                        }
                        </>
                    }
                }) }
            </tbody>
        </table>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct AssignPanelProps {
    pub departure: BoardDeparture,
    pub guides: Vec<GuideView>,
}

/// Pick a guide and a role; Assign. A refusal lists every conflict the domain found; a manager
/// may then give a reason and assign anyway (audited).
#[component]
pub fn AssignPanel(props: &AssignPanelProps) -> Html {
    let app = use_app();
    let guide = use_state(|| {
        props
            .guides
            .iter()
            .find(|g| g.guide.status == GuideStatus::Active)
            .map(|g| g.guide.id.clone())
            .unwrap_or_default()
    });
    let role = use_state(|| if props.departure.unassigned() { "lead".to_string() } else { "assistant".to_string() });
    let turnaround = use_state(|| "30".to_string());
    let reason = use_state(String::new);
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let dep_id = props.departure.departure.departure.id.clone();
    let select = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |e: Event| s.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_assign = {
        let (guide, role, turnaround, reason, error, busy, app, dep_id) = (
            guide.clone(),
            role.clone(),
            turnaround.clone(),
            reason.clone(),
            error.clone(),
            busy.clone(),
            app.clone(),
            dep_id.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Ok(turnaround_minutes) = turnaround.trim().parse::<u32>() else {
                return error.set(Some(UiError::at_field("turnaround_minutes", "Minutes between departures, like 30")));
            };
            let args = AssignGuideV2 {
                id: String::new(),
                departure_id: dep_id.clone(),
                guide_id: (*guide).clone(),
                role: if *role == "lead" { AssignmentRole::Lead } else { AssignmentRole::Assistant },
                required_language: None,
                turnaround_minutes,
                notes: None,
                override_reason: Some(reason.trim().to_string()).filter(|r| !r.is_empty()),
            };
            let (error, busy, app) = (error.clone(), busy.clone(), app.clone());
            busy.set(true);
            spawn_local(async move {
                match assign_guide(&args).await {
                    Ok(()) => {
                        error.set(None);
                        app.dispatch(Action::Toast("Guide assigned".into()));
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let conflicted = error.as_ref().is_some_and(|e| e.code == "GUIDE_CONFLICT");
    html! {
        <form class="assign-panel" onsubmit={on_assign} aria-label="Assign a guide">
            <label>{ "Guide" }
                <select id="assign-guide" onchange={select(&guide)} autofocus=true>
                    { for props.guides.iter().map(|g| html! {
                        <option value={g.guide.id.clone()} selected={*guide == g.guide.id}>
                            { format!("{} · {}{}", g.guide.full_name(), g.guide.languages.join("/"), if g.guide.status == GuideStatus::Active { String::new() } else { format!(" · {}", status_word(g.guide.status)) }) }
                        </option>
                    }) }
                </select>
            </label>
            <label>{ "Role" }
                <select id="assign-role" onchange={select(&role)}>
                    <option value="lead" selected={*role == "lead"}>{ "Lead" }</option>
                    <option value="assistant" selected={*role == "assistant"}>{ "Assistant" }</option>
                </select>
            </label>
            <label>{ "Minutes between departures" }<input id="assign-turnaround" inputmode="numeric" value={(*turnaround).clone()} oninput={bind(&turnaround)} />{ field_error(&error, "turnaround_minutes") }</label>
            if let Some(e) = &*error {
                <div class="form-error conflicts" role="alert" id="assign-error">{ e.message.clone() }</div>
            }
            if conflicted {
                <label>{ "Assign anyway, because (managers; recorded in the audit log)" }
                    <input id="assign-reason" value={(*reason).clone()} oninput={bind(&reason)} />
                </label>
            }
            <div class="actions">
                <button type="submit" class="primary" id="assign-submit" disabled={*busy || guide.is_empty()}>{ if conflicted && !reason.trim().is_empty() { "Assign anyway" } else { "Assign" } }</button>
                { for props.departure.assignments.iter().filter(|a| a.status != AssignmentStatus::Declined).map(|a| {
                    let (dep, gid, app) = (dep_id.clone(), a.guide_id.clone(), app.clone());
                    let remove = Callback::from(move |_: MouseEvent| {
                        let (dep, gid, app) = (dep.clone(), gid.clone(), app.clone());
                        spawn_local(async move {
                            match unassign_guide(&dep, &gid).await {
                                Ok(()) => app.dispatch(Action::Toast("Guide taken off the departure".into())),
                                Err(e) => app.dispatch(Action::Toast(e.message)),
                            }
                        });
                    });
                    html! { <button type="button" class="unassign" onclick={remove}>{ format!("Take {} off", a.guide_name) }</button> }
                }) }
            </div>
        </form>
    }
}

/// Guide mode: my departures today and this week, each opening its manifest.
#[component]
pub fn MyDeparturesPage() -> Html {
    let app = use_app();
    let retry = use_state(|| 0u32);
    // The desk's own day (`Utc::now` panics in the webview).
    let today = super::calendar::today();
    let mine = use_invoke(MINE_KINDS, *retry, move |_| my_departures(today, today + Days::new(6)));
    let open = use_state(|| None::<String>);
    let pending = app.status.as_ref().map_or(0, |s| s.pending);
    let body = match &mine {
        Load::Loading => html! { <Loading what="your departures" /> },
        Load::Failed(e) => {
            let retry = retry.clone();
            html! { <ErrorNote error={e.clone()} on_retry={Some(Callback::from(move |()| retry.set(*retry + 1)))} /> }
        }
        Load::Ready(list) if list.is_empty() => html! {
            <EmptyState title="No departures for you this week" hint="When the office puts you on a departure it appears here at the next sync, with its guest list." />
        },
        Load::Ready(list) => {
            let (todays, later): (Vec<&BoardDeparture>, Vec<&BoardDeparture>) =
                list.iter().partition(|d| d.departure.departure.local_date == today);
            let row = |d: &BoardDeparture| {
                let dep = &d.departure.departure;
                let id = dep.id.clone();
                let toggle = {
                    let open = open.clone();
                    let id = id.clone();
                    Callback::from(move |_: MouseEvent| {
                        open.set(if open.as_deref() == Some(&id) { None } else { Some(id.clone()) })
                    })
                };
                let me = my_role(d);
                html! {
                    <>
                    <tr class="my-departure" data-id={id.clone()} data-row="" tabindex="0">
                        <td class="nowrap"><button class="link" onclick={toggle}>{ when(d) }</button></td>
                        <td>{ &d.departure.tour_name }</td>
                        <td>{ format!("{} guests", dep.booked_count) }</td>
                        <td>{ me }</td>
                    </tr>
                    if open.as_deref() == Some(id.as_str()) {
                        <tr><td colspan="4"><GuideManifest departure_id={id} /></td></tr>
                    }
                    </>
                }
            };
            html! {
                <>
                    <h2>{ "Today" }</h2>
                    if todays.is_empty() { { no_departure_today(&later) } }
                    else { <table class="my-departures"><tbody onkeydown={Callback::from(on_row_keys)}>{ for todays.into_iter().map(row) }</tbody></table> }
                    <h2>{ "This week" }</h2>
                    if later.is_empty() { <p class="muted">{ "Nothing else this week." }</p> }
                    else { <table class="my-departures"><tbody onkeydown={Callback::from(on_row_keys)}>{ for later.into_iter().map(row) }</tbody></table> }
                </>
            }
        }
    };
    html! {
        <section class="page single my-departures-page">
            <h1>{ "My departures" }</h1>
            <p class="muted" id="pending-count">{
                if pending == 0 { "Everything is sent.".to_string() } else { format!("{pending} changes waiting to be sent") }
            }</p>
            { body }
            // Her own feed: the desk finds her guide profile (an empty id).
            <CalendarFeeds subjects={vec![FeedSubject { kind: "guide", id: String::new(), name: "My assignments".into() }]} />
        </section>
    }
}

/// Her role on a departure, as her rows show it.
fn my_role(d: &BoardDeparture) -> &'static str {
    d.assignments.iter().find(|a| a.status != AssignmentStatus::Declined).map(|a| role_word(a.role)).unwrap_or("")
}

/// `Wed 09 Dec 10:00`, in the departure's own zone.
fn when(d: &BoardDeparture) -> String {
    let dep = &d.departure.departure;
    format!("{} {}", dep.local_date.format("%a %d %b"), dep.local_time.format("%H:%M"))
}

/// The designed state of a day without departures for her: her next one this week, if any.
fn no_departure_today(later: &[&BoardDeparture]) -> Html {
    let hint = match later.first() {
        Some(next) => format!(
            "Your next departure is {} on {}. The rest of your week is below.",
            next.departure.tour_name,
            when(next)
        ),
        None => "Nothing else this week either. When the office puts you on a departure it appears here at the \
                 next sync, with its guest list."
            .to_string(),
    };
    html! { <div id="no-departure-today"><EmptyState title="No departures for you today" hint={hint} /></div> }
}

/// Guide mode's home screen (`#/today` on a guide's desk): her departures today, or a designed
/// empty state naming her next one, then the rest of her week; each opens in My departures.
#[component]
pub fn GuideToday() -> Html {
    let retry = use_state(|| 0u32);
    // The desk's own day (`Utc::now` panics in the webview).
    let today = super::calendar::today();
    let mine = use_invoke(MINE_KINDS, *retry, move |_| my_departures(today, today + Days::new(6)));
    match mine {
        Load::Loading => html! { <Loading what="your departures" /> },
        Load::Failed(e) => {
            let retry = retry.clone();
            html! { <ErrorNote error={e} on_retry={Some(Callback::from(move |()| retry.set(*retry + 1)))} /> }
        }
        Load::Ready(departures) => html! { <GuideTodayView {today} {departures} /> },
    }
}

#[derive(Properties, PartialEq)]
pub struct GuideTodayViewProps {
    pub today: NaiveDate,
    /// Her departures from today to six days on, in order.
    pub departures: Vec<BoardDeparture>,
}

#[component]
pub fn GuideTodayView(p: &GuideTodayViewProps) -> Html {
    let (todays, later): (Vec<&BoardDeparture>, Vec<&BoardDeparture>) =
        p.departures.iter().partition(|d| d.departure.departure.local_date == p.today);
    let table = |id: &'static str, rows: &[&BoardDeparture]| {
        html! {
            <table {id} class="my-departures">
                <tbody onkeydown={Callback::from(on_row_keys)}>
                { for rows.iter().map(|d| {
                    let dep = &d.departure.departure;
                    html! {
                        <tr class="guide-today-departure" data-id={dep.id.clone()} data-row="" tabindex="0">
                            <td class="nowrap">{ when(d) }<span class="muted">{ format!(" {}", dep.timezone) }</span></td>
                            <td><a href={Route::MyDepartures.to_hash()}>{ &d.departure.tour_name }</a></td>
                            <td>{ format!("{} guests", dep.booked_count) }</td>
                            <td>{ my_role(d) }</td>
                        </tr>
                    }
                }) }
                </tbody>
            </table>
        }
    };
    html! {
        <div class="guide-today">
            <h3>{ "Your departures today" }</h3>
            if todays.is_empty() { { no_departure_today(&later) } } else { { table("guide-today", &todays) } }
            <h3>{ "Coming up this week" }</h3>
            if later.is_empty() { <p class="muted" id="guide-week-empty">{ "Nothing else this week." }</p> }
            else { { table("guide-week", &later) } }
            <p><a href={Route::MyDepartures.to_hash()}>{ "Open My departures for guest lists, check-in and walk-ups" }</a></p>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct GuideManifestProps {
    pub departure_id: String,
}

#[component]
fn GuideManifest(props: &GuideManifestProps) -> Html {
    let app = use_app();
    let id = props.departure_id.clone();
    // The manifest, and the tour's prices for selling walk-ups on this device's allotment.
    let manifest = use_invoke(MINE_KINDS, id.clone(), |id| async move {
        let m = services::manifest(&id).await?;
        let prices = services::list_prices(&m.departure.departure.tour_id).await?;
        Ok((m, prices))
    });
    let attendance = |check_in: bool| {
        let (app, dep) = (app.clone(), id.clone());
        Callback::from(move |(booking, participant): (String, u32)| {
            let (app, dep) = (app.clone(), dep.clone());
            spawn_local(async move {
                let r = if check_in {
                    services::check_in(&booking, &dep, participant).await
                } else {
                    services::mark_no_show(&booking, &dep, participant).await
                };
                if let Err(e) = r {
                    app.dispatch(Action::Toast(e.message));
                }
            });
        })
    };
    match manifest {
        Load::Loading => html! { <Loading what="the guest list" /> },
        Load::Failed(e) => html! { <ErrorNote error={e} on_retry={None::<Callback<()>>} /> },
        Load::Ready((m, prices)) => html! {
            <>
                <ManifestWithActions manifest={m} on_check_in={attendance(true)} on_no_show={attendance(false)} />
                <AllotmentsSection departure_id={id.clone()} prices={prices} />
                <FieldNotes departure_id={id.clone()} can_write={true} />
            </>
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::test_support::render_page;
    use crate::router::Route;

    #[tokio::test]
    async fn the_pages_start_loading() {
        let html = render_page(Route::Guides).await;
        assert!(html.contains("Guides") && html.contains("Loading guides"), "{html}");
        let html = render_page(Route::GuideBoard).await;
        assert!(html.contains("Week board") && html.contains("Loading the week"), "{html}");
        let html = render_page(Route::MyDepartures).await;
        assert!(html.contains("My departures") && html.contains("Loading your departures"), "{html}");
    }

    #[test]
    fn availability_and_days_off_read_back_or_name_their_field() {
        let mut d = GuideDraft::blank();
        d.first_name = "Rui".into();
        d.email = "rui@example.com".into();
        d.languages = "pt, en".into();
        d.weekly[0] = "08:00-12:00, 13:00-17:00".into();
        d.time_off = "2026-08-10 2026-08-14 Holiday\n2026-09-01".into();
        let args = d.to_args(None).unwrap();
        assert_eq!(args.languages, ["pt", "en"]);
        assert_eq!(args.weekly_availability.0.get(&1).map(Vec::len), Some(2));
        assert!(!args.weekly_availability.0.contains_key(&0), "Sunday left empty is a day off");
        assert_eq!(args.time_off.len(), 2);
        assert_eq!(args.time_off[0].reason.as_deref(), Some("Holiday"));
        assert_eq!(args.time_off[1].start, args.time_off[1].end);
        let back = GuideDraft::of(&GuideView {
            guide: tourdesk_domain::entities::Guide {
                id: "g".into(),
                organization_id: "o".into(),
                user_id: None,
                first_name: args.first_name.clone(),
                last_name: String::new(),
                email: args.email.clone(),
                phone: String::new(),
                languages: args.languages.clone(),
                timezone: args.timezone.clone(),
                weekly_availability: args.weekly_availability.clone(),
                status: args.status,
                qualified_tour_ids: vec![],
                bio: None,
                photo_url: None,
                emergency_contact: None,
                time_off: args.time_off.clone(),
            },
            pending: false,
        });
        assert_eq!(back.weekly[0], "08:00-12:00, 13:00-17:00");
        assert_eq!(back.time_off, "2026-08-10 2026-08-14 Holiday\n2026-09-01");
        let bad = GuideDraft { weekly: vec!["9 to 5".into(); 7], ..d.clone() };
        assert_eq!(bad.to_args(None).unwrap_err().field.as_deref(), Some("weekly_availability.1"));
        let bad = GuideDraft { time_off: "next week".into(), ..d };
        assert_eq!(bad.to_args(None).unwrap_err().field.as_deref(), Some("time_off[0]"));
    }

    fn board_departure(id: &str, lead: bool) -> BoardDeparture {
        use tourdesk_domain::ipc::{BoardAssignment, CalendarDeparture};
        let departure: tourdesk_domain::entities::Departure = serde_json::from_value(serde_json::json!({
            "id": id, "organization_id": "o", "tour_id": "t", "variant_id": "v",
            "starts_at": "2026-06-08T08:00:00Z", "ends_at": "2026-06-08T10:00:00Z",
            "timezone": "Europe/Lisbon", "local_date": "2026-06-08", "local_time": "09:00:00",
            "capacity": 12, "booked_count": 3, "status": "open", "notes": ""
        }))
        .unwrap();
        BoardDeparture {
            departure: CalendarDeparture {
                departure,
                tour_name: "Alfama walk".into(),
                variant_name: "Morning".into(),
                seats_left: 9,
                pending: false,
            },
            assignments: if lead {
                vec![BoardAssignment {
                    assignment_id: "a".into(),
                    guide_id: "g".into(),
                    guide_name: "Gina Guide".into(),
                    role: AssignmentRole::Lead,
                    status: AssignmentStatus::Pending,
                    override_reason: None,
                    pending: true,
                }]
            } else {
                vec![]
            },
        }
    }

    #[tokio::test]
    async fn a_guide_without_departures_today_sees_her_next_one_and_her_week() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 6, d).unwrap();
        let render = |today: NaiveDate, departures: Vec<BoardDeparture>| async move {
            yew::LocalServerRenderer::<GuideTodayView>::with_props(GuideTodayViewProps { today, departures })
                .render()
                .await
        };
        // Her only departure of the week is on the 8th; today is the 6th.
        let html = render(day(6), vec![board_departure("d1", true)]).await;
        assert!(html.contains("No departures for you today"), "{html}");
        assert!(html.contains("Your next departure is Alfama walk on Mon 08 Jun 09:00"), "{html}");
        assert!(html.contains("id=\"guide-week\"") && html.contains("data-id=\"d1\""), "{html}");
        assert!(
            html.contains("Lead") && html.contains("3 guests") && html.contains("href=\"#/my-departures\""),
            "{html}"
        );
        assert!(!html.contains("id=\"guide-today\""), "{html}");
        // On the 8th it is today's, and nothing else is left this week.
        let html = render(day(8), vec![board_departure("d1", true)]).await;
        assert!(html.contains("id=\"guide-today\"") && !html.contains("No departures for you today"), "{html}");
        assert!(html.contains("Nothing else this week."), "{html}");
        // A free week says so, and when new work will show up.
        let html = render(day(6), vec![]).await;
        assert!(html.contains("No departures for you today") && html.contains("at the next sync"), "{html}");
    }

    #[tokio::test]
    async fn a_guide_desk_opens_on_her_own_day() {
        let html = crate::fixtures::render_as(Role::Guide, html! { <crate::pages::dashboard::DashboardPage /> }).await;
        assert!(html.contains("Loading your departures") && !html.contains("Loading today"), "{html}");
        let html = crate::fixtures::render_as(Role::Owner, html! { <crate::pages::dashboard::DashboardPage /> }).await;
        assert!(html.contains("Loading today"), "{html}");
    }

    #[tokio::test]
    async fn the_board_marks_departures_without_a_lead() {
        let props = BoardTableProps {
            board: GuideBoard {
                from: NaiveDate::from_ymd_opt(2026, 6, 8).unwrap(),
                until: NaiveDate::from_ymd_opt(2026, 6, 14).unwrap(),
                guides: vec![],
                departures: vec![board_departure("d1", true), board_departure("d2", false)],
            },
            open: None,
            on_open: Callback::noop(),
        };
        let html = yew::LocalServerRenderer::<BoardTable>::with_props(props).render().await;
        assert!(html.contains("Gina Guide (Lead)") && html.contains("Pending sync"), "{html}");
        assert_eq!(html.matches("No lead guide").count(), 1, "{html}");
        assert!(html.contains("unassigned") && html.contains("tabindex=\"0\""), "{html}");
    }
}

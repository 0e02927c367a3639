//! The calendar's presentational parts: the week and month grids with seats left at a glance,
//! a day's departures, and the generation preview table with its DST marks. Props in, HTML out;
//! the page (`pages::calendar`) keeps the state.

use chrono::{Datelike, Days, Months, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use tourdesk_domain::availability::DstResolution;
use tourdesk_domain::ipc::CalendarDeparture;
use tourdesk_domain::mutation::{GenerationPlan, PlannedDeparture};
use tourdesk_domain::status::DepartureStatus;
use yew::prelude::*;

use crate::components::keyboard::on_row_keys;
use crate::error::UiError;
use crate::words;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalendarMode {
    Week,
    Month,
}

/// The first and last day a view shows: a week from Monday, or the whole weeks (Monday to
/// Sunday) that hold the month of `anchor`.
pub fn visible_range(mode: CalendarMode, anchor: NaiveDate) -> (NaiveDate, NaiveDate) {
    let monday = |d: NaiveDate| d - Days::new(u64::from(d.weekday().num_days_from_monday()));
    match mode {
        CalendarMode::Week => {
            let start = monday(anchor);
            (start, start + Days::new(6))
        }
        CalendarMode::Month => {
            let first = anchor.with_day(1).unwrap_or(anchor);
            let last = (first + Months::new(1)).pred_opt().unwrap_or(first);
            let end = last + Days::new(u64::from(6 - last.weekday().num_days_from_monday()));
            (monday(first), end)
        }
    }
}

/// Where a key moves the focused day: arrows by a day or a week, Page Up/Down by a month (a
/// week in the week view), Home/End to the week's ends. `None` for other keys.
pub fn move_focus(key: &str, focused: NaiveDate, mode: CalendarMode) -> Option<NaiveDate> {
    let by_days = |n: i64| {
        if n >= 0 {
            focused.checked_add_days(Days::new(n as u64))
        } else {
            focused.checked_sub_days(Days::new((-n) as u64))
        }
    };
    let weekday = i64::from(focused.weekday().num_days_from_monday());
    match (key, mode) {
        ("ArrowLeft", _) => by_days(-1),
        ("ArrowRight", _) => by_days(1),
        ("ArrowUp", _) => by_days(-7),
        ("ArrowDown", _) => by_days(7),
        ("Home", _) => by_days(-weekday),
        ("End", _) => by_days(6 - weekday),
        ("PageUp", CalendarMode::Month) => focused.checked_sub_months(Months::new(1)),
        ("PageDown", CalendarMode::Month) => focused.checked_add_months(Months::new(1)),
        ("PageUp", CalendarMode::Week) => by_days(-7),
        ("PageDown", CalendarMode::Week) => by_days(7),
        _ => None,
    }
}

/// The view's heading: "March 2027" or "Week of Mon 22 Mar 2027".
pub fn title(mode: CalendarMode, anchor: NaiveDate) -> String {
    match mode {
        CalendarMode::Month => anchor.format("%B %Y").to_string(),
        CalendarMode::Week => format!("Week of {}", visible_range(mode, anchor).0.format("%a %-d %b %Y")),
    }
}

pub fn day_id(d: NaiveDate) -> String {
    format!("day-{d}")
}

/// How full a departure is, for its colour: nothing left to sell, a few, plenty.
fn fill_class(c: &CalendarDeparture) -> &'static str {
    match c.departure.status {
        DepartureStatus::Cancelled => "seats-cancelled",
        DepartureStatus::Closed | DepartureStatus::Completed => "seats-closed",
        _ if c.seats_left == 0 => "seats-none",
        _ if c.seats_left <= 3 => "seats-low",
        _ => "seats-ok",
    }
}

/// "8 left", "Full", "Closed to sales", "Cancelled".
pub fn seats_words(c: &CalendarDeparture) -> String {
    match c.departure.status {
        DepartureStatus::Cancelled | DepartureStatus::Closed | DepartureStatus::Completed => {
            words::departure_status(c.departure.status).to_string()
        }
        _ if c.seats_left == 0 => "Full".into(),
        _ => format!("{} left", c.seats_left),
    }
}

fn hm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

#[derive(Properties, PartialEq)]
pub struct CalendarGridProps {
    pub mode: CalendarMode,
    pub anchor: NaiveDate,
    /// The day that has the keyboard focus (one tab stop for the whole grid).
    pub focused: NaiveDate,
    pub selected: Option<NaiveDate>,
    pub departures: Vec<CalendarDeparture>,
    pub today: NaiveDate,
    /// A key moved the focus to this day.
    pub on_focus: Callback<NaiveDate>,
    /// Enter or a click on a day.
    pub on_open_day: Callback<NaiveDate>,
    /// A click on a departure.
    pub on_open_departure: Callback<String>,
}

/// The week or month grid. Arrow keys move between days, Enter opens the day's departures.
#[component]
pub fn CalendarGrid(props: &CalendarGridProps) -> Html {
    let (start, end) = visible_range(props.mode, props.anchor);
    let days: Vec<NaiveDate> = start.iter_days().take_while(|d| *d <= end).collect();
    let on_key = {
        let (focused, mode, on_focus, on_open) =
            (props.focused, props.mode, props.on_focus.clone(), props.on_open_day.clone());
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" || e.key() == " " {
                e.prevent_default();
                on_open.emit(focused);
            } else if let Some(next) = move_focus(&e.key(), focused, mode) {
                e.prevent_default();
                on_focus.emit(next);
            }
        })
    };
    let per_cell = if props.mode == CalendarMode::Month { 4 } else { usize::MAX };
    let weeks = days.chunks(7).map(|week| {
        html! {
            <div role="row" class="calendar-week">
            { for week.iter().map(|&day| {
                let mine: Vec<&CalendarDeparture> = props.departures.iter().filter(|c| c.departure.local_date == day).collect();
                let outside = props.mode == CalendarMode::Month && day.month() != props.anchor.month();
                let open_day = props.on_open_day.reform(move |_: MouseEvent| day);
                let label = format!("{}, {}", day.format("%A %-d %B %Y"), match mine.len() {
                    0 => "no departures".to_string(),
                    1 => "1 departure".to_string(),
                    n => format!("{n} departures"),
                });
                let more = mine.len().saturating_sub(per_cell);
                html! {
                    <div role="gridcell" class={classes!("calendar-day", outside.then_some("outside"),
                            (day == props.today).then_some("today"), (Some(day) == props.selected).then_some("selected"))}>
                        <button id={day_id(day)} class="day-number" type="button" aria-label={label}
                                tabindex={if day == props.focused { "0" } else { "-1" }}
                                aria-selected={(Some(day) == props.selected).to_string()} onclick={open_day}>
                            { day.day() }
                        </button>
                        <ul class="day-departures">
                        { for mine.iter().take(per_cell).map(|c| {
                            let id = c.departure.id.clone();
                            let open = props.on_open_departure.reform(move |_: MouseEvent| id.clone());
                            html! {
                                <li>
                                    <button type="button" tabindex="-1" class={classes!("departure-chip", fill_class(c))}
                                            data-departure={c.departure.id.clone()} onclick={open}
                                            title={format!("{} · {} · {}", c.tour_name, c.variant_name, seats_words(c))}>
                                        <span class="chip-time">{ hm(c.departure.local_time) }</span>
                                        // Seats before the name: a narrow cell cuts the name, never the seats.
                                        <span class="chip-seats">{ seats_words(c) }</span>
                                        <span class="chip-tour">{ &c.tour_name }</span>
                                    </button>
                                </li>
                            }
                        }) }
                        if more > 0 { <li class="muted more">{ format!("+{more} more") }</li> }
                        </ul>
                    </div>
                }
            }) }
            </div>
        }
    });
    let heads = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];
    html! {
        <div id="calendar-grid" role="grid" class={classes!("calendar-grid", match props.mode {
                CalendarMode::Week => "week", CalendarMode::Month => "month" })}
             aria-label={title(props.mode, props.anchor)} onkeydown={on_key}>
            <div role="row" class="calendar-head">
                { for heads.iter().map(|w| html! { <div role="columnheader">{ format!("{w}") }</div> }) }
            </div>
            { for weeks }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct DayListProps {
    pub day: NaiveDate,
    pub departures: Vec<CalendarDeparture>,
    pub on_open_departure: Callback<String>,
}

/// One day's departures as keyboard rows (arrows move, Enter opens the departure).
#[component]
pub fn DayList(props: &DayListProps) -> Html {
    let mine: Vec<&CalendarDeparture> =
        props.departures.iter().filter(|c| c.departure.local_date == props.day).collect();
    let heading = props.day.format("%A %-d %B %Y").to_string();
    if mine.is_empty() {
        return html! {
            <section id="day-panel" class="panel" aria-label={heading.clone()}>
                <h2>{ heading }</h2>
                <p class="muted">{ "No departures on this day. Add one with “One-off departure”, or generate them from a pattern." }</p>
            </section>
        };
    }
    html! {
        <section id="day-panel" class="panel" aria-label={heading.clone()}>
            <h2>{ heading }</h2>
            <ul class="day-rows" onkeydown={Callback::from(on_row_keys)}>
            { for mine.iter().map(|c| {
                let id = c.departure.id.clone();
                let open = props.on_open_departure.reform(move |_: MouseEvent| id.clone());
                html! {
                    <li class="day-row" data-row="" tabindex="0" data-departure={c.departure.id.clone()}>
                        <button type="button" class="link" onclick={open}>
                            <strong>{ hm(c.departure.local_time) }</strong>{ " " }{ &c.tour_name }
                            <span class="muted">{ format!(" · {}", c.variant_name) }</span>
                        </button>
                        <span class={classes!("badge", fill_class(c))}>{ seats_words(c) }</span>
                        <span class="muted">{ format!("{} of {} booked", c.departure.booked_count, c.departure.capacity) }</span>
                        if c.pending { <span class="badge pending">{ "Pending sync" }</span> }
                    </li>
                }
            }) }
            </ul>
        </section>
    }
}

/// "UTC+1", "UTC−4", "UTC+5:30".
pub fn utc_offset(minutes: i32) -> String {
    let sign = if minutes < 0 { '−' } else { '+' };
    let m = minutes.unsigned_abs();
    if m.is_multiple_of(60) { format!("UTC{sign}{}", m / 60) } else { format!("UTC{sign}{}:{:02}", m / 60, m % 60) }
}

/// What the preview says about a departure's DST resolution, or `None` when nothing happened.
pub fn dst_note(p: &PlannedDeparture) -> Option<String> {
    match p.dst {
        DstResolution::Exact => None,
        DstResolution::ShiftedForward { requested } => Some(format!(
            "{} does not exist that day (clocks go forward): moved to {}",
            hm(requested),
            hm(p.departure.local_time)
        )),
        DstResolution::AmbiguousEarlier => Some(format!(
            "{} happens twice (clocks go back): the first, at {}, is used{}",
            hm(p.departure.local_time),
            utc_offset(p.utc_offset_minutes),
            p.not_chosen.map(|t| format!(", not {} UTC", t.format("%H:%M"))).unwrap_or_default()
        )),
    }
}

/// The zone's abbreviation at the departure's start ("WEST"), or the offset when the zone is
/// unknown here.
fn zone_abbrev(p: &PlannedDeparture) -> String {
    match p.departure.timezone.parse::<Tz>() {
        Ok(tz) => p.departure.starts_at.with_timezone(&tz).format("%Z").to_string(),
        Err(_) => utc_offset(p.utc_offset_minutes),
    }
}

/// One line summing up a plan: how many, where, and what DST did.
pub fn plan_summary(plan: &GenerationPlan) -> String {
    let new = plan.to_create().count();
    let exist = plan.departures.len() - new;
    let gaps = plan.departures.iter().filter(|p| matches!(p.dst, DstResolution::ShiftedForward { .. })).count();
    let overlaps = plan.departures.iter().filter(|p| p.dst == DstResolution::AmbiguousEarlier).count();
    if plan.departures.is_empty() {
        return "The pattern gives no departures in these dates.".into();
    }
    let mut parts = vec![format!(
        "{new} new departure{} of {} · {} ({})",
        if new == 1 { "" } else { "s" },
        plan.tour_name,
        plan.variant_name,
        plan.timezone
    )];
    if exist > 0 {
        parts.push(format!("{exist} already exist and are skipped"));
    }
    if gaps > 0 {
        parts.push(format!("{gaps} moved out of a DST gap"));
    }
    if overlaps > 0 {
        parts.push(format!("{overlaps} on a time that happens twice"));
    }
    parts.join("; ") + "."
}

#[derive(Properties, PartialEq)]
pub struct PreviewTableProps {
    pub plan: GenerationPlan,
}

/// The preview: every departure's local time and UTC instant before anything is saved, DST
/// gaps and overlaps marked in words.
#[component]
pub fn PreviewTable(props: &PreviewTableProps) -> Html {
    html! {
        <div class="preview">
            <p id="preview-summary">{ plan_summary(&props.plan) }</p>
            if !props.plan.departures.is_empty() {
                <div class="preview-scroll">
                <table id="preview-table" class="table">
                    <thead><tr><th>{ "Date" }</th><th>{ "Local time" }</th><th>{ "UTC" }</th><th>{ "Note" }</th></tr></thead>
                    <tbody>
                    { for props.plan.departures.iter().map(|p| {
                        let mark = match p.dst {
                            DstResolution::Exact => None,
                            DstResolution::ShiftedForward { .. } => Some(("dst-gap", "DST gap")),
                            DstResolution::AmbiguousEarlier => Some(("dst-overlap", "DST overlap")),
                        };
                        let mut notes: Vec<String> = dst_note(p).into_iter().collect();
                        if p.exists {
                            notes.push("Already exists: skipped".into());
                        }
                        html! {
                            <tr class={classes!(mark.map(|m| m.0), p.exists.then_some("exists"))}
                                data-departure={p.departure.id.clone()}>
                                <td>{ p.departure.local_date.format("%a %-d %b %Y").to_string() }</td>
                                <td>{ format!("{} {}", hm(p.departure.local_time), zone_abbrev(p)) }</td>
                                <td>{ p.departure.starts_at.format("%Y-%m-%d %H:%M UTC").to_string() }</td>
                                <td>
                                    if let Some((class, label)) = mark { <span class={classes!("badge", class)}>{ label }</span>{ " " } }
                                    { notes.join(". ") }
                                </td>
                            </tr>
                        }
                    }) }
                    </tbody>
                </table>
                </div>
            }
        </div>
    }
}

/// The error beside `field`, if the error is about it.
pub fn field_error(error: &Option<UiError>, field: &str) -> Html {
    match error {
        Some(e) if e.is_field(field) => {
            html! { <span class="field-error" id={format!("error-{}", field.replace('.', "-"))}>{ e.message.clone() }</span> }
        }
        _ => html! {},
    }
}

/// The error no field of the form shows (`fields` are the form's).
pub fn general_error(error: &Option<UiError>, fields: &[&str]) -> Html {
    match error {
        Some(e) if !e.field.as_deref().is_some_and(|f| fields.contains(&f)) => {
            html! { <p class="error-text" role="alert">{ e.message.clone() }</p> }
        }
        _ => html! {},
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::{TimeZone, Utc};
    use tourdesk_domain::Departure;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn cal(
        id: &str,
        date: &str,
        time: &str,
        tour: &str,
        cap: u32,
        booked: u32,
        status: DepartureStatus,
    ) -> CalendarDeparture {
        let departure = Departure {
            id: id.into(),
            local_date: d(date),
            local_time: time.parse().unwrap(),
            capacity: cap,
            booked_count: booked,
            status,
            ..tourdesk_domain::fixtures::departure()
        };
        CalendarDeparture {
            seats_left: cap.saturating_sub(booked),
            departure,
            tour_name: tour.into(),
            variant_name: "Standard".into(),
            pending: false,
        }
    }

    #[test]
    fn views_cover_whole_weeks_and_keys_move_by_day_week_and_month() {
        assert_eq!(visible_range(CalendarMode::Month, d("2027-03-17")), (d("2027-03-01"), d("2027-04-04")));
        assert_eq!(visible_range(CalendarMode::Month, d("2027-02-01")), (d("2027-02-01"), d("2027-02-28")));
        assert_eq!(visible_range(CalendarMode::Week, d("2027-03-28")), (d("2027-03-22"), d("2027-03-28")));
        let f = d("2027-03-17");
        assert_eq!(move_focus("ArrowRight", f, CalendarMode::Month), Some(d("2027-03-18")));
        assert_eq!(move_focus("ArrowLeft", f, CalendarMode::Month), Some(d("2027-03-16")));
        assert_eq!(move_focus("ArrowDown", f, CalendarMode::Month), Some(d("2027-03-24")));
        assert_eq!(move_focus("ArrowUp", f, CalendarMode::Week), Some(d("2027-03-10")));
        assert_eq!(move_focus("PageDown", f, CalendarMode::Month), Some(d("2027-04-17")));
        assert_eq!(move_focus("Home", f, CalendarMode::Month), Some(d("2027-03-15")));
        assert_eq!(move_focus("End", f, CalendarMode::Month), Some(d("2027-03-21")));
        assert_eq!(move_focus("x", f, CalendarMode::Month), None);
        assert_eq!(title(CalendarMode::Week, f), "Week of Mon 15 Mar 2027");
        assert_eq!(utc_offset(60), "UTC+1");
        assert_eq!(utc_offset(-240), "UTC−4");
        assert_eq!(utc_offset(330), "UTC+5:30");
    }

    #[tokio::test]
    async fn the_month_shows_seats_left_at_a_glance_in_words() {
        let departures = vec![
            cal("a", "2027-03-28", "09:00:00", "Alfama walk", 12, 4, DepartureStatus::Open),
            cal("b", "2027-03-28", "14:00:00", "Thames walk", 10, 10, DepartureStatus::Full),
            cal("c", "2027-03-29", "09:00:00", "Alfama walk", 12, 0, DepartureStatus::Cancelled),
            cal("e", "2027-03-30", "09:00:00", "Alfama walk", 12, 0, DepartureStatus::Closed),
        ];
        let html = yew::LocalServerRenderer::<CalendarGrid>::with_props(CalendarGridProps {
            mode: CalendarMode::Month,
            anchor: d("2027-03-01"),
            focused: d("2027-03-28"),
            selected: None,
            departures,
            today: d("2027-03-02"),
            on_focus: Callback::noop(),
            on_open_day: Callback::noop(),
            on_open_departure: Callback::noop(),
        })
        .render()
        .await;
        assert!(html.contains("role=\"grid\"") && html.contains("aria-label=\"March 2027\""), "{html}");
        assert!(html.contains("8 left") && html.contains("Full") && html.contains("Cancelled"), "{html}");
        assert!(html.contains("Closed to sales") && !html.contains(">closed<") && !html.contains(">open<"), "{html}");
        assert!(html.contains("Sunday 28 March 2027, 2 departures"), "{html}");
        // One tab stop: the focused day.
        assert_eq!(html.matches("tabindex=\"0\"").count(), 1, "{html}");
        assert!(
            html.contains("id=\"day-2027-03-28\" class=\"day-number\" type=\"button\"")
                || html.contains("id=\"day-2027-03-28\"")
        );
        assert_eq!(html.matches("role=\"gridcell\"").count(), 35, "five whole weeks");
    }

    #[tokio::test]
    async fn a_day_lists_its_departures_or_says_there_are_none() {
        let departures = vec![cal("a", "2027-03-28", "09:00:00", "Alfama walk", 12, 4, DepartureStatus::Open)];
        let render = |day: &str| {
            yew::LocalServerRenderer::<DayList>::with_props(DayListProps {
                day: d(day),
                departures: departures.clone(),
                on_open_departure: Callback::noop(),
            })
            .render()
        };
        let html = render("2027-03-28").await;
        assert!(
            html.contains("Sunday 28 March 2027") && html.contains("4 of 12 booked") && html.contains("data-row"),
            "{html}"
        );
        let html = render("2027-03-29").await;
        assert!(html.contains("No departures on this day"), "{html}");
    }

    fn planned(
        date: &str,
        local: &str,
        utc: (u32, u32, u32),
        dst: DstResolution,
        offset: i32,
        exists: bool,
    ) -> PlannedDeparture {
        let (day, h, m) = utc;
        PlannedDeparture {
            departure: Departure {
                id: format!("v-1@{date}T{local}"),
                local_date: d(date),
                local_time: local.parse().unwrap(),
                timezone: "Europe/Lisbon".into(),
                starts_at: Utc.with_ymd_and_hms(2027, 3, day, h, m, 0).unwrap(),
                ..tourdesk_domain::fixtures::departure()
            },
            requested_time: "01:30:00".parse().unwrap(),
            dst,
            utc_offset_minutes: offset,
            not_chosen: None,
            exists,
        }
    }

    #[tokio::test]
    async fn the_preview_shows_local_time_utc_and_marks_dst_in_words() {
        let gap = DstResolution::ShiftedForward { requested: "01:30:00".parse().unwrap() };
        let mut overlap = planned("2027-03-21", "01:30:00", (21, 1, 30), DstResolution::AmbiguousEarlier, 0, false);
        overlap.not_chosen = Some(Utc.with_ymd_and_hms(2027, 3, 21, 2, 30, 0).unwrap());
        let plan = GenerationPlan {
            tour_id: "t-1".into(),
            tour_name: "Alfama walk".into(),
            variant_id: "v-1".into(),
            variant_name: "Morning".into(),
            timezone: "Europe/Lisbon".into(),
            departures: vec![
                overlap,
                planned("2027-03-28", "02:00:00", (28, 1, 0), gap, 60, false),
                planned("2027-03-14", "01:30:00", (14, 1, 30), DstResolution::Exact, 0, true),
            ],
        };
        let html = yew::LocalServerRenderer::<PreviewTable>::with_props(PreviewTableProps { plan }).render().await;
        assert!(
            html.contains(
                "2 new departures of Alfama walk · Morning (Europe/Lisbon); 1 already exist and are skipped; 1 moved out of a DST gap; 1 on a time that happens twice."
            ),
            "{html}"
        );
        assert!(
            html.contains("Sun 28 Mar 2027") && html.contains("02:00 WEST") && html.contains("2027-03-28 01:00 UTC"),
            "{html}"
        );
        assert!(
            html.contains("DST gap")
                && html.contains("01:30 does not exist that day (clocks go forward): moved to 02:00"),
            "{html}"
        );
        assert!(
            html.contains("DST overlap")
                && html.contains("happens twice (clocks go back): the first, at UTC+0, is used, not 02:30 UTC"),
            "{html}"
        );
        assert!(html.contains("Already exists: skipped"), "{html}");
    }
}

//! Tours and their departures: props in, HTML out. They render on the host too (Yew SSR), which
//! is how their tests run without a browser.

use std::rc::Rc;

use chrono_tz::Tz;
use tourdesk_domain::PricingTier;
use tourdesk_domain::ipc::{DepartureView, TourView};
use tourdesk_domain::money::Money;
use tourdesk_domain::status::TourStatus;
use yew::prelude::*;

use crate::components::keyboard::on_row_keys;
use crate::components::states::EmptyState;
use crate::components::virtual_rows::use_virtual_rows;
use crate::words;

#[derive(Properties, PartialEq)]
pub struct TourListProps {
    /// Shared with the page that loaded them (a render of the page copies no tour).
    pub tours: Rc<Vec<TourView>>,
    pub selected: Option<String>,
    pub on_select: Callback<String>,
}

/// Roughly how tall a tour row is (name over category and zone), until one has been measured.
const TOUR_ROW_PX: f64 = 62.0;

/// The tour list: a click, or Enter on a focused row (arrow keys and Page Up/Down move, Home and
/// End go to the ends), opens a tour. A long list draws only the rows in view
/// (`components::virtual_rows`), so opening the screen costs about the same for 5 tours or 500.
#[component]
pub fn TourList(props: &TourListProps) -> Html {
    let selected_at = props.selected.as_ref().and_then(|id| props.tours.iter().position(|t| &t.tour.id == id));
    let rows = use_virtual_rows(props.tours.len(), TOUR_ROW_PX, selected_at);
    if props.tours.is_empty() {
        return html! {
            <EmptyState title="No tours yet" hint="They appear here after the first sync, or create one with “New tour”." />
        };
    }
    let (above, below) = rows.spacers(None);
    let count = rows.count.to_string();
    html! {
        <ul id="tour-list" class="tour-list" ref={rows.body.clone()} aria-label="Tours" onkeydown={rows.on_keydown.clone()}>
        { above }
        { for props.tours[rows.range.clone()].iter().zip(rows.range.clone()).map(|(t, i)| {
            let id = t.tour.id.clone();
            let on_select = props.on_select.reform(move |_: MouseEvent| id.clone());
            let selected = props.selected.as_deref() == Some(t.tour.id.as_str());
            html! {
                <li key={t.tour.id.clone()} class={classes!("tour-row", selected.then_some("selected"))} data-slug={t.tour.slug.clone()}
                    data-row="" data-index={i.to_string()} aria-posinset={(i + 1).to_string()} aria-setsize={count.clone()}
                    tabindex="0" onclick={on_select}>
                    <span class="tour-name">{ &t.tour.name }</span>
                    <span class="muted">{ format!("{} · {}", words::category(t.tour.category), t.tour.timezone) }</span>
                    if t.pending { <span class="badge pending">{ "Pending sync" }</span> }
                    if t.tour.status != TourStatus::Active { <span class="badge">{ words::tour_status(t.tour.status) }</span> }
                </li>
            }
        }) }
        { below }
        </ul>
    }
}

/// What opens under the departure table for one departure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelKind {
    Bookings,
    Manifest,
}

#[derive(Properties, PartialEq)]
pub struct DeparturesProps {
    pub tour: TourView,
    pub prices: Vec<PricingTier>,
    pub departures: Vec<DepartureView>,
    /// The departure whose panel is open, and which panel.
    #[prop_or_default]
    pub open: Option<(String, PanelKind)>,
    #[prop_or_default]
    pub on_open: Callback<(String, PanelKind)>,
    /// The open panel, shown under the table.
    #[prop_or_default]
    pub children: Html,
}

/// The local wall-clock time of a departure, computed from its UTC instant in its own zone
/// (so what the guide sees is what the customer was sold), with the zone's abbreviation.
pub fn local_start(d: &DepartureView) -> String {
    match d.departure.timezone.parse::<Tz>() {
        Ok(tz) => d.departure.starts_at.with_timezone(&tz).format("%a %d %b %Y, %H:%M %Z").to_string(),
        Err(_) => format!("{} {} ({})", d.departure.local_date, d.departure.local_time, d.departure.timezone),
    }
}

/// A tour's facts, prices and departures. Arrow keys move along the rows; Enter opens the
/// departure's bookings.
#[component]
pub fn Departures(props: &DeparturesProps) -> Html {
    let t = &props.tour.tour;
    html! {
        <section class="departures">
            <h2 id="tour-title">{ &t.name }</h2>
            <p class="muted">{ format!("{} · {} min · up to {} guests · {}", words::category(t.category), t.duration_minutes, t.default_capacity, t.timezone) }</p>
            if !t.short_description.is_empty() { <p>{ &t.short_description }</p> }
            if !props.prices.is_empty() {
                <p id="price-list" class="prices">
                { for props.prices.iter().map(|p| html! {
                    <span class="price">{ format!("{} {}", p.name, price(&p.base_price)) }</span>
                }) }
                </p>
            }
            if props.departures.is_empty() {
                <EmptyState title="No departures scheduled" hint="Departures made on the server arrive with the next sync." />
            } else {
                <div class="table-scroll">
                <table id="departure-table">
                    <thead><tr><th>{ "Starts (local)" }</th><th class="num">{ "Booked" }</th><th class="num">{ "Seats left" }</th><th>{ "Status" }</th><th></th></tr></thead>
                    <tbody onkeydown={Callback::from(on_row_keys)}>
                    { for props.departures.iter().map(|d| {
                        let open = |kind: PanelKind| {
                            let id = d.departure.id.clone();
                            props.on_open.reform(move |_: MouseEvent| (id.clone(), kind))
                        };
                        let is_open = props.open.as_ref().is_some_and(|(id, _)| *id == d.departure.id);
                        html! {
                            <tr class={classes!("departure-row", is_open.then_some("selected"))} data-id={d.departure.id.clone()} data-row="" tabindex="0">
                                <td class="when">{ local_start(d) }</td>
                                <td class="num booked">{ format!("{} of {}", d.departure.booked_count, d.departure.capacity) }</td>
                                <td class={classes!("num", "seats-left", (d.seats_left == 0).then_some("sold-out"))}>{ d.seats_left }</td>
                                <td class="status-word">{ words::departure_status(d.departure.status) }</td>
                                <td class="row-actions">
                                    <button class="open-bookings" onclick={open(PanelKind::Bookings)}>{ "Bookings" }</button>
                                    <button class="open-manifest" onclick={open(PanelKind::Manifest)}>{ "Manifest" }</button>
                                </td>
                            </tr>
                        }
                    }) }
                    </tbody>
                </table>
                </div>
            }
            { props.children.clone() }
        </section>
    }
}

/// Prices are shown with the currency's own number of decimals (JPY 0, KWD 3).
pub fn price(m: &Money) -> String {
    m.display_with_symbol()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::{self, render};
    use tourdesk_domain::Tour;
    use tourdesk_domain::status::{TourCategory, TourStatus};

    fn tour(pending: bool) -> TourView {
        TourView {
            tour: Tour {
                id: "t1".into(),
                organization_id: "o".into(),
                name: "Brooklyn Bites".into(),
                slug: "brooklyn-bites".into(),
                short_description: String::new(),
                duration_minutes: 180,
                default_capacity: 10,
                min_participants: 1,
                category: TourCategory::Food,
                timezone: "America/New_York".into(),
                meeting_point: String::new(),
                status: TourStatus::Draft,
                ..tourdesk_domain::fixtures::tour()
            },
            pending,
        }
    }

    fn tier(name: &str, amount: i64, currency: &str) -> PricingTier {
        fixtures::tier(name, amount, currency, None)
    }

    fn departure(utc: &str, booked: u32) -> DepartureView {
        fixtures::view(fixtures::departure("d1", utc, "America/New_York", booked))
    }

    #[tokio::test]
    async fn tour_list_marks_pending_and_draft() {
        let html = render::<TourList>(TourListProps {
            tours: Rc::new(vec![tour(true)]),
            selected: None,
            on_select: Callback::noop(),
        })
        .await;
        assert!(html.contains("Brooklyn Bites"), "{html}");
        assert!(html.contains("Pending sync"), "{html}");
        assert!(html.contains("Draft"));
        assert!(html.contains("Food tour"), "the category in words: {html}");
        assert!(html.contains("tabindex=\"0\""), "rows are reachable with the keyboard: {html}");
        let html =
            render::<TourList>(TourListProps { tours: Rc::new(vec![]), selected: None, on_select: Callback::noop() })
                .await;
        assert!(html.contains("No tours yet"), "a designed empty state: {html}");
        let html = render::<TourList>(TourListProps {
            tours: Rc::new(vec![tour(false)]),
            selected: None,
            on_select: Callback::noop(),
        })
        .await;
        assert!(!html.contains("Pending sync"));
    }

    #[tokio::test]
    async fn five_hundred_tours_draw_a_window_of_rows_and_say_where_each_is() {
        let tours: Vec<TourView> = (0..500)
            .map(|i| {
                let mut t = tour(false);
                t.tour.id = format!("t{i}");
                t.tour.name = format!("Tour {i:03}");
                t
            })
            .collect();
        let html =
            render::<TourList>(TourListProps { tours: Rc::new(tours), selected: None, on_select: Callback::noop() })
                .await;
        let drawn = html.matches("class=\"tour-row").count();
        assert!((10..=60).contains(&drawn), "only the rows in view are drawn, not {drawn}");
        assert!(html.contains("Tour 000") && !html.contains("Tour 499"), "{html}");
        assert!(html.contains("data-index=\"0\"") && html.contains("aria-posinset=\"1\""), "{html}");
        assert_eq!(html.matches("aria-setsize=\"500\"").count(), drawn, "each row says how many there are");
        // The rows not drawn are one spacer as tall as they are, so the scrollbar is the whole list's.
        let below = format!("height: {}px", (500 - drawn) as f64 * TOUR_ROW_PX);
        assert!(html.contains(&below), "{below}: {html}");
        // A short list draws every row and no spacer: its layout is what it always was.
        let few: Vec<TourView> = (0..5)
            .map(|i| {
                let mut t = tour(false);
                t.tour.id = format!("f{i}");
                t
            })
            .collect();
        let html =
            render::<TourList>(TourListProps { tours: Rc::new(few), selected: None, on_select: Callback::noop() })
                .await;
        assert_eq!(html.matches("class=\"tour-row").count(), 5);
        assert!(!html.contains("virtual-spacer"), "{html}");
    }

    #[tokio::test]
    async fn a_daily_tours_departures_are_all_drawn() {
        // Not virtual: the window tests open panels under rows far down a daily tour's table.
        let departures: Vec<DepartureView> = (0..120)
            .map(|i| {
                let mut d = departure("2026-03-07T14:00:00Z", 0);
                d.departure.id = format!("d{i}");
                d
            })
            .collect();
        let html = render::<Departures>(DeparturesProps {
            tour: tour(false),
            prices: vec![],
            departures,
            open: None,
            on_open: Callback::noop(),
            children: Html::default(),
        })
        .await;
        assert_eq!(html.matches("class=\"departure-row").count(), 120, "{html}");
        assert!(!html.contains("virtual-spacer"));
    }

    #[tokio::test]
    async fn departures_show_local_time_across_dst() {
        // 2026-03-08 is the US spring-forward day: 14:00 UTC is 10:00 EDT; the day before, 09:00 EST.
        let html = render::<Departures>(DeparturesProps {
            tour: tour(false),
            prices: vec![tier("Adult", 8900, "USD"), tier("Child", 1200, "JPY")],
            departures: vec![departure("2026-03-07T14:00:00Z", 3), departure("2026-03-08T14:00:00Z", 10)],
            open: None,
            on_open: Callback::noop(),
            children: Html::default(),
        })
        .await;
        assert!(html.contains("Sat 07 Mar 2026, 09:00 EST"), "{html}");
        assert!(html.contains("Sun 08 Mar 2026, 10:00 EDT"), "{html}");
        assert!(html.contains("sold-out"), "a full departure is flagged: {html}");
        assert!(html.contains("Adult $89.00"), "{html}");
        assert!(html.contains("Child ¥1,200"), "a zero-decimal currency shows no decimals: {html}");
        assert_eq!(html.matches("open-bookings").count(), 2, "each departure opens its bookings: {html}");
        assert_eq!(html.matches("open-manifest").count(), 2, "and its manifest: {html}");
        assert!(html.contains(">Open<") && !html.contains(">open<"), "statuses in words: {html}");
        assert!(html.contains(">3 of 10<"), "booked of capacity: {html}");
    }
}

//! The today dashboard (`#/today`, the desk's home screen): today's and tomorrow's departures on
//! a timeline in each departure's own zone, seats sold against capacity, who leads, check-in
//! progress; payments due, unpaid holds, refused changes waiting in the inbox; revenue today and
//! this week against the same days a year before. All of it from this desk's replica, offline.
//! A guide's desk shows her own day instead (`guides::GuideToday`): today's departures, or a
//! designed empty state naming her next one, and the rest of her week.

use chrono::{NaiveDate, Timelike};
use tourdesk_domain::money::Money;
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::reports::{Dashboard, DashboardDeparture, RevenueComparison};
use tourdesk_domain::roles::Role;
use yew::prelude::*;

use crate::components::keyboard::on_row_keys;
use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::hooks::{Depends, Load, use_invoke};
use crate::pages::guides::GuideToday;
use crate::router::Route;
use crate::services;
use crate::state::use_app;

// The kinds the dashboard reads, a chosen subset of `EntityKind::ALL` (changes to the others must not reload it).
const DASHBOARD: Depends = Depends {
    kinds: &[
        EntityKind::Tour,
        EntityKind::Departure,
        EntityKind::Booking,
        EntityKind::Customer,
        EntityKind::CheckIn,
        EntityKind::Guide,
        EntityKind::GuideAssignment,
        EntityKind::LedgerEntry,
    ],
    outcomes: true,
};

/// The timeline's span, in local hours of each departure's own day.
const FIRST_HOUR: u32 = 6;
const LAST_HOUR: u32 = 23;

/// The home screen: the office's dashboard, or on a guide's desk her own day and week.
#[component]
pub fn DashboardPage() -> Html {
    let app = use_app();
    let guide = app.status.as_ref().and_then(|s| s.signed_in_as.as_ref()).is_some_and(|u| u.role == Role::Guide);
    html! {
        <section id="today" class="page single dashboard">
            <h2>{ "Today" }</h2>
            if guide { <GuideToday /> } else { <OfficeToday /> }
        </section>
    }
}

#[component]
fn OfficeToday() -> Html {
    let load = use_invoke(DASHBOARD, (), |_| services::dashboard());
    match load {
        Load::Loading => html! { <Loading what="today's figures" /> },
        Load::Failed(e) => html! { <ErrorNote error={e} /> },
        Load::Ready(d) => html! { <DashboardView dashboard={d} /> },
    }
}

#[derive(Properties, PartialEq)]
pub struct DashboardViewProps {
    pub dashboard: Dashboard,
}

fn change(now: &Money, before: &Money) -> Html {
    let (a, b) = (now.amount, before.amount);
    let (class, words) = if b == 0 {
        ("flat", if a == 0 { "no sales either year".to_string() } else { "none a year ago".to_string() })
    } else {
        let pct = (a - b) * 1000 / b.abs();
        let sign = if pct >= 0 { "+" } else { "−" };
        (
            if pct >= 0 { "up" } else { "down" },
            format!("{sign}{}.{} % on a year ago ({})", pct.abs() / 10, pct.abs() % 10, before.display()),
        )
    };
    html! { <span class={classes!("change", class)}>{ words }</span> }
}

fn revenue_tile(r: &RevenueComparison) -> Html {
    html! {
        <div class="tile revenue" data-currency={r.currency.to_string()}>
            <h3>{ format!("Revenue ({})", r.currency) }</h3>
            <p><span class="label">{ "Today" }</span> <strong class="today">{ r.today.display() }</strong> { change(&r.today, &r.today_last_year) }</p>
            <p><span class="label">{ "This week" }</span> <strong class="week">{ r.week.display() }</strong> { change(&r.week, &r.week_last_year) }</p>
        </div>
    }
}

/// Where on the timeline a local time sits, in percent of its width.
fn position(d: &DashboardDeparture) -> f64 {
    let minutes = f64::from(d.local_time.hour() * 60 + d.local_time.minute());
    let span = f64::from((LAST_HOUR - FIRST_HOUR) * 60);
    ((minutes - f64::from(FIRST_HOUR * 60)) / span * 100.0).clamp(0.0, 97.0)
}

fn width(d: &DashboardDeparture) -> f64 {
    let minutes = (d.ends_at - d.starts_at).num_minutes().max(30) as f64;
    (minutes / f64::from((LAST_HOUR - FIRST_HOUR) * 60) * 100.0).clamp(2.0, 100.0)
}

fn seats(d: &DashboardDeparture) -> String {
    format!("{} / {} seats", d.seats_sold, d.capacity)
}

fn check_in(d: &DashboardDeparture) -> String {
    if d.checked_in + d.no_shows == 0 {
        "not started".into()
    } else {
        format!(
            "{} of {} checked in{}",
            d.checked_in,
            d.seats_sold.max(d.checked_in),
            if d.no_shows > 0 { format!(", {} no-show", d.no_shows) } else { String::new() }
        )
    }
}

fn leads(d: &DashboardDeparture) -> Html {
    if d.guides.is_empty() {
        html! { <span class="no-guide">{ "No guide yet" }</span> }
    } else {
        html! { <span class="guides">{ d.guides.join(", ") }</span> }
    }
}

fn day_label(day: NaiveDate, today: Option<NaiveDate>) -> String {
    let name = day.format("%A %d %B").to_string();
    match today {
        Some(t) if t == day => format!("Today, {name}"),
        Some(t) if t.succ_opt() == Some(day) => format!("Tomorrow, {name}"),
        _ => name,
    }
}

fn timeline(d: &Dashboard) -> Html {
    let mut days: Vec<NaiveDate> = d.departures.iter().map(|x| x.local_date).collect();
    days.sort();
    days.dedup();
    let hours = (FIRST_HOUR..=LAST_HOUR).step_by(3).map(|h| {
        let left = f64::from((h - FIRST_HOUR) * 60) / f64::from((LAST_HOUR - FIRST_HOUR) * 60) * 100.0;
        html! { <span class="hour" style={format!("left: {left:.2}%")}>{ format!("{h:02}:00") }</span> }
    });
    html! {
        <div id="timeline" class="timeline" aria-label="Departures on a timeline, in each departure's local time">
            <div class="hours">{ for hours }</div>
            { for days.into_iter().map(|day| html! {
                <div class="timeline-day">
                    <h3>{ day_label(day, d.today) }</h3>
                    <div class="lane">
                        { for d.departures.iter().filter(|x| x.local_date == day).map(|x| {
                            let full = x.capacity > 0 && x.seats_sold >= x.capacity;
                            html! {
                                <a class={classes!("slot", full.then_some("full"), (x.status.as_str() == "cancelled").then_some("cancelled"))}
                                   href={Route::Tours(Some(x.tour_id.clone())).to_hash()}
                                   style={format!("left: {:.2}%; width: {:.2}%", position(x), width(x))}
                                   title={format!("{} {} ({}) · {} · {}", x.tour_name, x.local_time.format("%H:%M"), x.timezone, seats(x), check_in(x))}>
                                    <strong>{ x.local_time.format("%H:%M").to_string() }</strong>{ " " }{ x.tour_name.clone() }
                                </a>
                            }
                        }) }
                    </div>
                </div>
            }) }
        </div>
    }
}

#[component]
pub fn DashboardView(p: &DashboardViewProps) -> Html {
    let d = &p.dashboard;
    let refused = html! {
        <a class="tile refused" id="dash-refused" href={Route::Inbox.to_hash()}>
            <h3>{ "Refused changes" }</h3>
            <strong>{ d.refused }</strong>
            <span class="muted">{ if d.refused == 0 { "nothing waiting in the inbox" } else { "waiting in the inbox" } }</span>
        </a>
    };
    let departures = if d.departures.is_empty() {
        html! { <EmptyState title="No departures today or tomorrow" hint="Departures of every tour appear here on their day, in their own time zone." /> }
    } else {
        html! {
            <>
                { timeline(d) }
                <table id="dash-departures" class="dash-departures">
                    <thead><tr>
                        <th>{ "When (local)" }</th><th>{ "Tour" }</th><th>{ "Seats sold" }</th><th>{ "Leads" }</th><th>{ "Check-in" }</th>
                    </tr></thead>
                    <tbody onkeydown={Callback::from(on_row_keys)}>
                        { for d.departures.iter().map(|x| {
                            let pct = if x.capacity > 0 { u64::from(x.seats_sold) * 100 / u64::from(x.capacity) } else { 0 };
                            html! {
                                <tr class="dash-departure" data-id={x.departure_id.clone()} data-row="" tabindex="0">
                                    <td><time datetime={x.starts_at.to_rfc3339()}>{ format!("{} {}", day_label(x.local_date, d.today), x.local_time.format("%H:%M")) }</time>
                                        <span class="muted">{ format!(" {}", x.timezone) }</span></td>
                                    <td><a href={Route::Tours(Some(x.tour_id.clone())).to_hash()}>{ x.tour_name.clone() }</a>
                                        if x.status.as_str() != "open" { <span class="muted">{ format!(" ({})", x.status.as_str()) }</span> }</td>
                                    <td class="seats">
                                        <meter min="0" max={x.capacity.to_string()} value={x.seats_sold.to_string()}>{ format!("{pct} %") }</meter>
                                        { format!(" {}", seats(x)) }
                                    </td>
                                    <td>{ leads(x) }</td>
                                    <td class="check-in">{ check_in(x) }</td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            </>
        }
    };
    let due = if d.payments_due.is_empty() {
        html! { <p class="muted">{ "Nothing due on the coming week's departures." }</p> }
    } else {
        html! {
            <table id="dash-due">
                <thead><tr><th>{ "Booking" }</th><th>{ "Customer" }</th><th>{ "Departure" }</th><th class="num">{ "Due" }</th></tr></thead>
                <tbody onkeydown={Callback::from(on_row_keys)}>
                    { for d.payments_due.iter().map(|x| html! {
                        <tr data-row="" tabindex="0">
                            <td><a href={Route::Booking(x.reference_number.clone()).to_hash()}>{ x.reference_number.clone() }</a></td>
                            <td>{ x.customer_name.clone() }</td>
                            <td>{ format!("{} · {}", x.tour_name, crate::clock::local(x.departure_starts_at).format("%a %d %b %H:%M")) }</td>
                            <td class="num">{ x.balance_due.display() }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        }
    };
    let holds = if d.holds.is_empty() {
        html! { <p class="muted">{ "No unpaid holds." }</p> }
    } else {
        html! {
            <table id="dash-holds">
                <thead><tr><th>{ "Booking" }</th><th>{ "Customer" }</th><th>{ "Held since" }</th><th class="num">{ "Total" }</th></tr></thead>
                <tbody onkeydown={Callback::from(on_row_keys)}>
                    { for d.holds.iter().map(|x| html! {
                        <tr data-row="" tabindex="0">
                            <td><a href={Route::Booking(x.reference_number.clone()).to_hash()}>{ x.reference_number.clone() }</a></td>
                            <td>{ x.customer_name.clone() }</td>
                            <td>{ crate::clock::local(x.created_at).format("%a %d %b %H:%M").to_string() }</td>
                            <td class="num">{ x.total.display() }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        }
    };
    let more = |shown: usize, all: u32| {
        (all as usize > shown).then(|| html! { <p class="muted">{ format!("and {} more", all as usize - shown) }</p> })
    };
    html! {
        <div class="dashboard-body">
            <div class="tiles">
                { for d.revenue.iter().map(revenue_tile) }
                <div class="tile" id="dash-due-count"><h3>{ "Payments due" }</h3><strong>{ d.payments_due_count }</strong><span class="muted">{ "on the next 7 days' departures" }</span></div>
                <div class="tile" id="dash-holds-count"><h3>{ "Unpaid holds" }</h3><strong>{ d.holds_count }</strong><span class="muted">{ "released by the server when they run out" }</span></div>
                { refused }
            </div>
            <h3>{ "Departures today and tomorrow" }</h3>
            { departures }
            <div class="columns">
                <div><h3>{ "Payments due" }</h3>{ due }{ more(d.payments_due.len(), d.payments_due_count).unwrap_or_default() }</div>
                <div><h3>{ "Unpaid holds" }</h3>{ holds }{ more(d.holds.len(), d.holds_count).unwrap_or_default() }</div>
            </div>
            <p class="muted">{ format!("Days counted in {}.", d.timezone) }</p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use tourdesk_domain::money::Currency;
    use tourdesk_domain::reports::{PaymentDue, RevenueComparison};
    use tourdesk_domain::status::DepartureStatus;

    use super::*;
    use crate::pages::test_support::render_page;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn the_home_screen_is_the_dashboard_and_starts_loading() {
        let html = render_page(Route::default()).await;
        assert!(html.contains("id=\"today\"") && html.contains("Loading today"), "{html}");
    }

    fn sample() -> Dashboard {
        let eur = |a| Money::new(a, Currency::EUR);
        Dashboard {
            today: Some("2026-03-31".parse().unwrap()),
            timezone: "Europe/Lisbon".into(),
            departures: vec![DashboardDeparture {
                departure_id: "d-1".into(),
                tour_id: "t-1".into(),
                tour_name: "City Walk".into(),
                local_date: "2026-03-31".parse().unwrap(),
                local_time: "14:00:00".parse().unwrap(),
                timezone: "Europe/Lisbon".into(),
                starts_at: at("2026-03-31T13:00:00Z"),
                ends_at: at("2026-03-31T15:00:00Z"),
                status: DepartureStatus::Open,
                capacity: 20,
                seats_sold: 4,
                checked_in: 3,
                no_shows: 1,
                guides: vec![],
            }],
            payments_due: vec![PaymentDue {
                booking_id: "b-1".into(),
                reference_number: "BK-2026-ABCDEF".into(),
                customer_name: "Hugo Costa".into(),
                tour_name: "City Walk".into(),
                departure_starts_at: at("2026-03-31T13:00:00Z"),
                balance_due: eur(3_500),
            }],
            payments_due_count: 9,
            holds: vec![],
            holds_count: 0,
            refused: 2,
            revenue: vec![RevenueComparison {
                currency: Currency::EUR,
                today: eur(0),
                today_last_year: eur(800),
                week: eur(2_500),
                week_last_year: eur(2_000),
            }],
        }
    }

    #[tokio::test]
    async fn the_dashboard_shows_departures_money_due_holds_and_revenue_against_last_year() {
        let html = yew::LocalServerRenderer::<DashboardView>::with_props(DashboardViewProps { dashboard: sample() })
            .render()
            .await;
        for want in [
            "Today, Tuesday 31 March 14:00",
            "Europe/Lisbon",
            "4 / 20 seats",
            "No guide yet",
            "3 of 4 checked in, 1 no-show",
            "EUR 35.00",
            "and 8 more",
            "No unpaid holds.",
            "EUR 25.00",
            "+25.0 % on a year ago (EUR 20.00)",
            "−100.0 % on a year ago (EUR 8.00)",
            "href=\"#/inbox\"",
            "href=\"#/bookings/BK-2026-ABCDEF\"",
            "id=\"timeline\"",
        ] {
            assert!(html.contains(want), "{want}: {html}");
        }
        assert!(html.contains("data-row=\"\"") && html.contains("tabindex=\"0\""), "rows take the keyboard: {html}");
    }

    #[tokio::test]
    async fn a_quiet_day_says_so() {
        let d = Dashboard { departures: vec![], payments_due: vec![], payments_due_count: 0, ..sample() };
        let html =
            yew::LocalServerRenderer::<DashboardView>::with_props(DashboardViewProps { dashboard: d }).render().await;
        assert!(html.contains("No departures today or tomorrow"), "{html}");
        assert!(html.contains("Nothing due on the coming week"), "{html}");
    }
}

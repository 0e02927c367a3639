//! The waitlist (`#/waitlist`): every entry across departures this desk holds — tour, departure
//! (its own local date and time), customer, party, place in the queue, where it stands — with
//! filters by tour and status and "Remove" on the entries that may go. The entries come from the
//! replica (office desks only), so the screen works offline; a departure's own queue, with "Add to
//! waitlist…", is on its panel under Tours.

use tourdesk_domain::ipc::{WaitlistFilter, WaitlistRow};
use tourdesk_domain::waitlist::WaitlistStatus;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::booking_form::value_of;
use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::components::waitlist::{WAITLIST_KINDS, WaitlistTable, status_label};
use crate::error::UiError;
use crate::hooks::{Depends, Load, use_invoke, use_invoke_refreshing};
use crate::router::Route;
use crate::services;
use crate::state::{Action, use_app};

#[derive(Properties, PartialEq)]
pub struct WaitlistListProps {
    pub rows: Vec<WaitlistRow>,
    /// Whether a filter is set (an empty list then says so, not "nobody waits").
    pub filtered: bool,
    #[prop_or_default]
    pub on_remove: Option<Callback<String>>,
}

/// The list, or what its emptiness means.
#[component]
pub fn WaitlistList(props: &WaitlistListProps) -> Html {
    if props.rows.is_empty() && props.filtered {
        return html! { <EmptyState title="No entries match" hint="Clear the filters to see the whole waitlist." /> };
    }
    if props.rows.is_empty() {
        return html! {
            <EmptyState title="Nobody is on a waitlist" hint="When a departure is full, add a caller from the departure's panel under Tours, or from a refused booking in the inbox; customers can also join on the website.">
                <a href={Route::Tours(None).to_hash()}>{ "Go to tours" }</a>
            </EmptyState>
        };
    }
    html! { <WaitlistTable rows={props.rows.clone()} show_departure={true} on_remove={props.on_remove.clone()} /> }
}

#[component]
pub fn WaitlistPage() -> Html {
    let app = use_app();
    let retry = use_state(|| 0u32);
    let filter = use_state(WaitlistFilter::default);
    let rows = use_invoke_refreshing(WAITLIST_KINDS, (*filter).clone(), *retry, |f| async move {
        services::list_waitlist(&f).await
    });
    let tours = use_invoke(Depends::on(&[tourdesk_domain::protocol::EntityKind::Tour]), (), |_| services::list_tours());
    let error = use_state(|| None::<UiError>);
    let on_tour = {
        let filter = filter.clone();
        Callback::from(move |e: Event| {
            let v = value_of(&e);
            filter.set(WaitlistFilter { tour_id: (!v.is_empty()).then_some(v), ..(*filter).clone() });
        })
    };
    let on_status = {
        let filter = filter.clone();
        Callback::from(move |e: Event| {
            filter.set(WaitlistFilter { status: WaitlistStatus::parse(&value_of(&e)), ..(*filter).clone() })
        })
    };
    let on_remove = {
        let (error, app) = (error.clone(), app.clone());
        Callback::from(move |id: String| {
            let (error, app) = (error.clone(), app.clone());
            spawn_local(async move {
                match services::remove_from_waitlist(&id).await {
                    Ok(()) => {
                        error.set(None);
                        app.dispatch(Action::Toast("Taken off the waitlist".into()));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let tour_options = match &tours {
        Load::Ready(list) => list.iter().map(|t| (t.tour.id.clone(), t.tour.name.clone())).collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    let filtered = filter.tour_id.is_some() || filter.status.is_some();
    let body = match &rows {
        Load::Loading => html! { <Loading what="the waitlist" /> },
        Load::Failed(e) => {
            let retry = retry.clone();
            html! { <ErrorNote error={e.clone()} on_retry={Some(Callback::from(move |()| retry.set(*retry + 1)))} /> }
        }
        Load::Ready(list) => {
            html! { <WaitlistList rows={list.clone()} filtered={filtered} on_remove={Some(on_remove)} /> }
        }
    };
    html! {
        <section class="page single waitlist-page">
            <h1>{ "Waitlist" }</h1>
            <div class="toolbar filters" role="search">
                <label>{ "Tour" }
                    <select id="waitlist-tour" onchange={on_tour}>
                        <option value="" selected={filter.tour_id.is_none()}>{ "All tours" }</option>
                        { for tour_options.into_iter().map(|(id, name)| {
                            let selected = filter.tour_id.as_deref() == Some(id.as_str());
                            html! { <option value={id} selected={selected}>{ name }</option> }
                        }) }
                    </select>
                </label>
                <label>{ "Status" }
                    <select id="waitlist-status" onchange={on_status}>
                        <option value="" selected={filter.status.is_none()}>{ "Any status" }</option>
                        { for WaitlistStatus::ALL.iter().map(|s| html! {
                            <option value={s.as_str()} selected={filter.status == Some(*s)}>{ status_label(*s) }</option>
                        }) }
                    </select>
                </label>
            </div>
            if let Some(e) = &*error { <ErrorNote error={e.clone()} /> }
            { body }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveTime, TimeZone, Utc};
    use tourdesk_domain::entities::{WaitlistEntry, WaitlistLine};

    use super::*;
    use crate::pages::test_support::render_page;

    #[tokio::test]
    async fn the_screen_starts_loading_in_words() {
        let html = render_page(Route::Waitlist).await;
        assert!(html.contains("Waitlist") && html.contains("Loading the waitlist…"), "{html}");
        assert!(html.contains("id=\"waitlist-status\"") && html.contains("Offered seats"), "{html}");
    }

    fn row(id: &str, status: WaitlistStatus, place: Option<u32>, words: &str) -> WaitlistRow {
        WaitlistRow {
            entry: WaitlistEntry {
                id: id.into(),
                organization_id: "o".into(),
                tour_id: "t".into(),
                departure_id: "d".into(),
                customer_id: "c".into(),
                lines: vec![WaitlistLine { tier_id: "adult".into(), quantity: 3 }],
                party_size: 3,
                notes: None,
                created_by: "u".into(),
                created_at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
                status,
                offered_at: None,
                offer_expires_at: None,
                offer_booking_id: None,
            },
            tour_name: "Old Town Walk".into(),
            local_date: NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(),
            local_time: NaiveTime::from_hms_opt(9, 30, 0).unwrap(),
            timezone: "Europe/Lisbon".into(),
            customer_name: "Ana Silva".into(),
            place,
            status_words: words.into(),
            removable: tourdesk_domain::waitlist::removal_refused(status).is_none(),
            pending: false,
        }
    }

    async fn render(props: WaitlistListProps) -> String {
        yew::LocalServerRenderer::<WaitlistList>::with_props(props).render().await
    }

    #[tokio::test]
    async fn an_empty_waitlist_says_how_people_get_on_it() {
        let html = render(WaitlistListProps { rows: vec![], filtered: false, on_remove: None }).await;
        assert!(html.contains("Nobody is on a waitlist") && html.contains("href=\"#/tours\""), "{html}");
        let html = render(WaitlistListProps { rows: vec![], filtered: true, on_remove: None }).await;
        assert!(html.contains("No entries match"), "{html}");
    }

    #[tokio::test]
    async fn rows_show_departure_party_place_and_status_in_words() {
        let rows = vec![
            row("w1", WaitlistStatus::Waiting, Some(1), "Waiting"),
            row("w2", WaitlistStatus::Offered, None, "Offered until Sat 5 Dec, 14:00"),
            row("w3", WaitlistStatus::Booked, None, "Booked"),
        ];
        let html = render(WaitlistListProps { rows, filtered: false, on_remove: Some(Callback::noop()) }).await;
        assert!(html.contains("Old Town Walk") && html.contains("Sat 5 Dec 2026, 09:30 (Europe/Lisbon)"), "{html}");
        assert!(html.contains("Ana Silva") && html.contains("3 people"), "{html}");
        assert!(html.contains("Offered until Sat 5 Dec, 14:00") && html.contains(">Booked<"), "{html}");
        assert_eq!(html.matches("class=\"remove-from-waitlist\"").count(), 1, "only the waiting entry may go: {html}");
        assert_eq!(html.matches("tabindex=\"0\"").count(), 3, "every row takes the keyboard");
        assert!(!html.contains("offered\"") || html.contains("data-status=\"offered\""));
    }
}

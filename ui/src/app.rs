//! The app: state, the polling loop that follows the shell's status, navigation between tours
//! and customers, the refused-bookings inbox's actions, and the new-tour form.

use std::collections::BTreeMap;
use std::time::Duration;

use tourdesk_domain::PricingTier;
use tourdesk_domain::ipc::{CommandError, DepartureView, DeskStatus, NewTour, Outcome, RejectedBooking, TourView};
use tourdesk_domain::payment::PaymentIssue;
use tourdesk_domain::status::TourCategory;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::booking_views::RejectedBookings;
use crate::screens::{CustomersScreen, DeparturePanel};
use crate::services;
use crate::views::{Departures, PanelKind, PaymentIssues, Rejections, StatusBar, TourList};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Screen {
    Tours,
    Customers,
}

#[component]
pub fn App() -> Html {
    let status = use_state(|| None::<DeskStatus>);
    let tours = use_state(Vec::<TourView>::new);
    let selected = use_state(|| None::<String>);
    // Keyed by tour id, so a newly selected tour never shows the previous tour's rows.
    let detail = use_state(|| None::<(String, Vec<PricingTier>, Vec<DepartureView>)>);
    let rejections = use_state(Vec::<Outcome>::new);
    let payment_issues = use_state(Vec::<PaymentIssue>::new);
    let refused = use_state(Vec::<RejectedBooking>::new);
    // The departures of each refused booking's tour, for "Move to…".
    let refused_departures = use_state(BTreeMap::<String, Vec<DepartureView>>::new);
    let screen = use_state(|| Screen::Tours);
    let open_panel = use_state(|| None::<(String, PanelKind)>);
    let error = use_state(|| None::<String>);
    let creating = use_state(|| false);
    // Bumped to force a reload (after a local create or dismiss).
    let reload = use_state(|| 0u64);
    // Which run of the loading effect is the latest: an older one (say, for the tour selected
    // before a click) may finish last and must not overwrite what the newer one shows.
    let loads = use_mut_ref(|| 0u64);

    // Follow the shell: poll its status; reload lists whenever its data version moves.
    {
        let status = status.clone();
        let reload = reload.clone();
        use_effect_with((), move |_| {
            spawn_local(async move {
                let mut seen = u64::MAX;
                loop {
                    if let Ok(s) = services::desk_status().await {
                        if s.data_version != seen {
                            seen = s.data_version;
                            reload.set(s.data_version.wrapping_add(1 << 32));
                        }
                        status.set(Some(s));
                    }
                    yew::platform::time::sleep(Duration::from_millis(700)).await;
                }
            });
        });
    }

    {
        let (tours, detail, rejections, error, selected) =
            (tours.clone(), detail.clone(), rejections.clone(), error.clone(), selected.clone());
        let (refused, refused_departures) = (refused.clone(), refused_departures.clone());
        let payment_issues = payment_issues.clone();
        let loads = loads.clone();
        use_effect_with((*reload, (*selected).clone()), move |(_, sel)| {
            let sel = sel.clone();
            let run = {
                let mut n = loads.borrow_mut();
                *n += 1;
                *n
            };
            let current = move || *loads.borrow() == run;
            spawn_local(async move {
                let tour_list = services::list_tours().await;
                if !current() {
                    return;
                }
                match tour_list {
                    Ok(t) => {
                        if sel.is_none()
                            && let Some(first) = t.first()
                        {
                            selected.set(Some(first.tour.id.clone()));
                        }
                        tours.set(t);
                    }
                    Err(e) => error.set(Some(e.message)),
                }
                if let Ok(r) = services::list_rejections().await
                    && current()
                {
                    rejections.set(r);
                }
                if let Ok(r) = services::list_payment_issues().await
                    && current()
                {
                    payment_issues.set(r);
                }
                if let Ok(r) = services::list_rejected_bookings().await {
                    let mut by_tour = BTreeMap::new();
                    for b in &r {
                        if !by_tour.contains_key(&b.tour_id)
                            && let Ok(ds) = services::list_departures(&b.tour_id).await
                        {
                            by_tour.insert(b.tour_id.clone(), ds);
                        }
                    }
                    if !current() {
                        return;
                    }
                    refused_departures.set(by_tour);
                    refused.set(r);
                }
                if let Some(id) = sel {
                    let loaded = (services::list_prices(&id).await, services::list_departures(&id).await);
                    if !current() {
                        return;
                    }
                    match loaded {
                        (Ok(p), Ok(d)) => detail.set(Some((id, p, d))),
                        (Err(e), _) | (_, Err(e)) => error.set(Some(e.message)),
                    }
                }
            });
        });
    }

    let on_select = {
        let (selected, open_panel) = (selected.clone(), open_panel.clone());
        Callback::from(move |id: String| {
            open_panel.set(None);
            selected.set(Some(id));
        })
    };
    let on_open_panel = {
        let open_panel = open_panel.clone();
        Callback::from(move |(id, kind): (String, PanelKind)| {
            // The same button again closes the panel.
            if open_panel.as_ref() == Some(&(id.clone(), kind)) {
                open_panel.set(None);
            } else {
                open_panel.set(Some((id, kind)));
            }
        })
    };
    // Every inbox action ends here: show a local refusal (say, the other departure is full
    // too), and reload so the handled entry leaves the inbox.
    let inbox_done = {
        let (reload, error) = (reload.clone(), error.clone());
        Callback::from(move |r: Result<(), CommandError>| {
            error.set(r.err().map(|e| e.message));
            reload.set(*reload + 1);
        })
    };
    let on_move = {
        let done = inbox_done.clone();
        Callback::from(move |(id, dep): (u64, String)| {
            let done = done.clone();
            spawn_local(async move { done.emit(services::retry_booking_on(id, &dep).await) });
        })
    };
    let on_waitlist = {
        let done = inbox_done.clone();
        Callback::from(move |id: u64| {
            let done = done.clone();
            spawn_local(async move { done.emit(services::waitlist_booking(id).await) });
        })
    };
    let on_overbook = {
        let done = inbox_done.clone();
        Callback::from(move |(id, reason): (u64, String)| {
            let done = done.clone();
            spawn_local(async move { done.emit(services::overbook_booking(id, &reason).await) });
        })
    };
    let show_tours = {
        let screen = screen.clone();
        Callback::from(move |_: MouseEvent| screen.set(Screen::Tours))
    };
    let show_customers = {
        let screen = screen.clone();
        Callback::from(move |_: MouseEvent| screen.set(Screen::Customers))
    };
    let on_sync = Callback::from(|_| {
        spawn_local(async {
            let _ = services::sync_now().await;
        })
    });
    let on_dismiss = {
        let reload = reload.clone();
        Callback::from(move |id: u64| {
            let reload = reload.clone();
            spawn_local(async move {
                let _ = services::dismiss_rejection(id).await;
                reload.set(*reload + 1);
            });
        })
    };
    let on_created = {
        let (reload, creating, selected) = (reload.clone(), creating.clone(), selected.clone());
        Callback::from(move |t: TourView| {
            creating.set(false);
            selected.set(Some(t.tour.id));
            reload.set(*reload + 1);
        })
    };
    let open_form = {
        let creating = creating.clone();
        Callback::from(move |_: MouseEvent| creating.set(true))
    };
    let close_form = {
        let creating = creating.clone();
        Callback::from(move |_| creating.set(false))
    };
    let current = selected.as_ref().and_then(|id| tours.iter().find(|t| &t.tour.id == id).cloned());
    let (prices, departures) = match (&*detail, &current) {
        (Some((id, p, d)), Some(t)) if *id == t.tour.id => (p.clone(), d.clone()),
        _ => (Vec::new(), Vec::new()),
    };
    let role = status.as_ref().and_then(|s| s.signed_in_as.as_ref()).map(|u| u.role);
    // Refused bookings have their own inbox with actions; the generic one shows the rest.
    let other_rejections: Vec<Outcome> =
        rejections.iter().filter(|o| !refused.iter().any(|r| r.mutation_id == o.mutation_id)).cloned().collect();
    let panel = match (&*open_panel, &current) {
        (Some((id, kind)), Some(t)) => departures.iter().find(|d| d.departure.id == *id).map(|d| {
            // Keyed by departure, so another departure's panel starts with a fresh form.
            html! {
                <DeparturePanel key={id.clone()} tour_id={t.tour.id.clone()} departure={d.clone()} prices={prices.clone()} kind={*kind} reload={*reload} />
            }
        }),
        _ => None,
    };

    html! {
        <div class="app">
            <StatusBar status={(*status).clone()} on_sync={on_sync} />
            if let Some(e) = &*error { <div class="banner error-text">{ e.clone() }</div> }
            <nav class="tabs">
                <button id="tab-tours" class={classes!((*screen == Screen::Tours).then_some("active"))} onclick={show_tours}>{ "Tours" }</button>
                <button id="tab-customers" class={classes!((*screen == Screen::Customers).then_some("active"))} onclick={show_customers}>{ "Customers" }</button>
            </nav>
            <RejectedBookings
                items={(*refused).clone()}
                departures={(*refused_departures).clone()}
                role={role}
                on_move={on_move}
                on_waitlist={on_waitlist}
                on_overbook={on_overbook}
                on_dismiss={on_dismiss.clone()}
            />
            <Rejections items={other_rejections} on_dismiss={on_dismiss} />
            <PaymentIssues items={(*payment_issues).clone()} />
            if *screen == Screen::Customers {
                <main class="single"><CustomersScreen reload={*reload} /></main>
            } else {
                <main>
                    <aside>
                        <div class="aside-head">
                            <h2>{ "Tours" }</h2>
                            <button id="new-tour" onclick={open_form}>{ "New tour" }</button>
                        </div>
                        <TourList tours={(*tours).clone()} selected={(*selected).clone()} on_select={on_select} />
                    </aside>
                    <section class="detail">
                        if *creating {
                            <NewTourForm on_created={on_created} on_cancel={close_form} />
                        } else if let Some(t) = current {
                            <Departures tour={t} prices={prices.clone()} departures={departures.clone()} open={(*open_panel).clone()} on_open={on_open_panel}>
                                { panel.unwrap_or_default() }
                            </Departures>
                        } else {
                            <p class="empty">{ "Select a tour." }</p>
                        }
                    </section>
                </main>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct NewTourFormProps {
    pub on_created: Callback<TourView>,
    pub on_cancel: Callback<()>,
}

fn input_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

/// Creating a tour works offline: the shell saves it locally and queues it for the server.
#[component]
pub fn NewTourForm(props: &NewTourFormProps) -> Html {
    let name = use_state(String::new);
    let blurb = use_state(String::new);
    let duration = use_state(|| "120".to_string());
    let capacity = use_state(|| "12".to_string());
    let category = use_state(|| TourCategory::Walking);
    let timezone = use_state(|| "Europe/London".to_string());
    let error = use_state(|| None::<CommandError>);
    let busy = use_state(|| false);

    let bind = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |e: InputEvent| s.set(input_value(&e)))
    };
    let on_category = {
        let category = category.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            if let Some(c) = TourCategory::parse(&v) {
                category.set(c);
            }
        })
    };
    let on_submit = {
        let (name, blurb, duration, capacity, category, timezone, error, busy) = (
            name.clone(),
            blurb.clone(),
            duration.clone(),
            capacity.clone(),
            category.clone(),
            timezone.clone(),
            error.clone(),
            busy.clone(),
        );
        let on_created = props.on_created.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let number = |field: &str, v: &str| {
                v.trim().parse::<u32>().map_err(|_| CommandError {
                    code: "INVALID".into(),
                    message: "must be a whole number".into(),
                    field: Some(field.into()),
                })
            };
            let input = match (number("duration_minutes", &duration), number("default_capacity", &capacity)) {
                (Ok(d), Ok(c)) => NewTour {
                    name: (*name).clone(),
                    short_description: (*blurb).clone(),
                    duration_minutes: d,
                    default_capacity: c,
                    category: *category,
                    timezone: (*timezone).clone(),
                    meeting_point: String::new(),
                },
                (Err(e), _) | (_, Err(e)) => {
                    error.set(Some(e));
                    return;
                }
            };
            let (error, busy, on_created) = (error.clone(), busy.clone(), on_created.clone());
            busy.set(true);
            spawn_local(async move {
                match services::create_tour(&input).await {
                    Ok(t) => on_created.emit(t),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let field_error = |field: &str| -> Html {
        match &*error {
            Some(e) if e.field.as_deref() == Some(field) => {
                html! { <span class="field-error">{ e.message.clone() }</span> }
            }
            _ => html! {},
        }
    };
    let general_error = match &*error {
        Some(e)
            if !matches!(e.field.as_deref(), Some("name" | "duration_minutes" | "default_capacity" | "timezone")) =>
        {
            html! { <p id="form-error" class="error-text">{ e.message.clone() }</p> }
        }
        _ => html! {},
    };
    let on_cancel = props.on_cancel.reform(|_: MouseEvent| ());
    html! {
        <form id="new-tour-form" class="form" onsubmit={on_submit}>
            <h2>{ "New tour" }</h2>
            <label>{ "Name" }<input id="new-tour-name" value={(*name).clone()} oninput={bind(&name)} />{ field_error("name") }</label>
            <label>{ "Short description" }<input id="new-tour-blurb" value={(*blurb).clone()} oninput={bind(&blurb)} /></label>
            <label>{ "Duration (minutes)" }<input id="new-tour-duration" inputmode="numeric" value={(*duration).clone()} oninput={bind(&duration)} />{ field_error("duration_minutes") }</label>
            <label>{ "Capacity" }<input id="new-tour-capacity" inputmode="numeric" value={(*capacity).clone()} oninput={bind(&capacity)} />{ field_error("default_capacity") }</label>
            <label>{ "Category" }
                <select id="new-tour-category" onchange={on_category}>
                { for TourCategory::ALL.iter().map(|c| html! { <option value={c.as_str()} selected={*c == *category}>{ c.as_str() }</option> }) }
                </select>
            </label>
            <label>{ "Time zone (IANA)" }<input id="new-tour-timezone" value={(*timezone).clone()} oninput={bind(&timezone)} />{ field_error("timezone") }</label>
            { general_error }
            <div class="actions">
                <button id="new-tour-submit" type="submit" disabled={*busy}>{ "Create tour" }</button>
                <button type="button" onclick={on_cancel}>{ "Cancel" }</button>
            </div>
        </form>
    }
}

//! The global search (Ctrl+K): a booking by reference, a customer by name, e-mail or phone, a
//! tour by name. Typing searches after a pause; ArrowDown walks into the hits, Enter opens one,
//! Escape closes.

use tourdesk_domain::ipc::SearchResults;
use web_sys::HtmlInputElement;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::keyboard::on_row_keys;
use crate::components::tours::local_start;
use crate::error::UiError;
use crate::forms::SEARCH_DEBOUNCE_MS;
use crate::hooks::{close_on_escape, use_debounce};
use crate::router::Route;
use crate::services;
use crate::words;

#[derive(Properties, PartialEq)]
pub struct SearchHitsProps {
    pub results: SearchResults,
    pub query: String,
    pub on_pick: Callback<Route>,
}

/// The hits, grouped by kind; each is a keyboard row that opens its screen.
#[component]
pub fn SearchHits(props: &SearchHitsProps) -> Html {
    let r = &props.results;
    if r.bookings.is_empty() && r.customers.is_empty() && r.tours.is_empty() {
        return html! { <p class="state empty">{ format!("Nothing matches “{}”.", props.query) }</p> };
    }
    let hit = |route: Route, kind: &'static str, title: String, detail: String| {
        let on_pick = props.on_pick.clone();
        let go = route.clone();
        html! {
            <li class="search-hit" data-kind={kind} data-route={route.to_hash()} data-row="" tabindex="0"
                onclick={Callback::from(move |_: MouseEvent| on_pick.emit(go.clone()))}>
                <strong>{ title }</strong>
                <span class="muted">{ detail }</span>
            </li>
        }
    };
    html! {
        <ul id="search-hits" class="search-hits" onkeydown={Callback::from(on_row_keys)}>
            if !r.bookings.is_empty() { <li class="search-group" aria-hidden="true">{ "Bookings" }</li> }
            { for r.bookings.iter().map(|b| {
                let when = b.departure.as_ref().map(local_start).unwrap_or_default();
                let tour = b.tour_name.clone().unwrap_or_default();
                hit(
                    Route::Booking(b.booking.reference_number.clone()),
                    "booking",
                    format!("{} · {}", b.booking.reference_number, b.booking.customer_name),
                    format!("{tour} · {when} · {}", words::booking_status(b.booking.status)),
                )
            }) }
            if !r.customers.is_empty() { <li class="search-group" aria-hidden="true">{ "Customers" }</li> }
            { for r.customers.iter().map(|c| hit(
                Route::Customers(Some(c.id.clone())),
                "customer",
                tourdesk_domain::entities::full_name(&c.first_name, &c.last_name),
                [c.email.clone(), c.phone.clone()].into_iter().flatten().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · "),
            )) }
            if !r.tours.is_empty() { <li class="search-group" aria-hidden="true">{ "Tours" }</li> }
            { for r.tours.iter().map(|t| hit(
                Route::Tours(Some(t.tour.id.clone())),
                "tour",
                t.tour.name.clone(),
                format!("{} · {}", words::category(t.tour.category), words::tour_status(t.tour.status)),
            )) }
        </ul>
    }
}

#[derive(Properties, PartialEq)]
pub struct SearchPaletteProps {
    pub on_pick: Callback<Route>,
    pub on_close: Callback<()>,
}

#[component]
pub fn SearchPalette(props: &SearchPaletteProps) -> Html {
    let input = use_node_ref();
    let typed = use_state(String::new);
    // The answer and the query it answers.
    let answer = use_state(|| None::<(String, Result<SearchResults, UiError>)>);
    let debounce = use_debounce(SEARCH_DEBOUNCE_MS);
    {
        let input = input.clone();
        use_effect_with((), move |_| {
            if let Some(i) = input.cast::<HtmlInputElement>() {
                let _ = i.focus();
            }
        });
    }
    let on_input = {
        let (typed, answer) = (typed.clone(), answer.clone());
        Callback::from(move |e: InputEvent| {
            let text = e.target_unchecked_into::<HtmlInputElement>().value();
            typed.set(text.clone());
            let q = text.trim().to_string();
            if q.is_empty() {
                answer.set(None);
                return;
            }
            let answer = answer.clone();
            debounce.emit(Box::new(move || {
                spawn_local(async move {
                    let r = services::search(&q).await;
                    answer.set(Some((q, r)));
                })
            }));
        })
    };
    let on_keys = {
        let on_close = props.on_close.clone();
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Escape" => on_close.emit(()),
            "ArrowDown" => {
                e.prevent_default();
                if let Some(first) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.query_selector("#search-hits .search-hit").ok().flatten())
                    .and_then(|el| web_sys::wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el).ok())
                {
                    let _ = first.focus();
                }
            }
            _ => {}
        })
    };
    let on_backdrop = props.on_close.reform(|_: MouseEvent| ());
    let on_escape = close_on_escape(&props.on_close);
    html! {
        <div class="palette-backdrop" onclick={on_backdrop}>
            <div id="search-palette" class="palette" role="dialog" aria-label="Search" onkeydown={on_escape}
                 onclick={Callback::from(|e: MouseEvent| e.stop_propagation())}>
                <input id="search-input" ref={input} type="search" placeholder="Booking reference, customer name, e-mail or phone, tour name"
                       autocomplete="off" value={(*typed).clone()} oninput={on_input} onkeydown={on_keys} />
                {
                    match &*answer {
                        Some((q, Ok(r))) => html! { <SearchHits results={r.clone()} query={q.clone()} on_pick={props.on_pick.clone()} /> },
                        Some((_, Err(e))) => html! { <p class="error-text">{ e.message.clone() }</p> },
                        None => html! { <p class="muted palette-hint">{ "↑ ↓ to move, Enter to open, Esc to close" }</p> },
                    }
                }
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures;
    use tourdesk_domain::ipc::CustomerHit;
    use tourdesk_domain::status::PaymentStatus;

    #[tokio::test]
    async fn hits_link_to_their_screens_and_nothing_found_says_so() {
        let results = SearchResults {
            bookings: vec![fixtures::booking_hit(PaymentStatus::Paid, fixtures::money(100, "EUR"), false)],
            customers: vec![CustomerHit {
                id: "c1".into(),
                first_name: "Ana".into(),
                last_name: "Silva".into(),
                email: Some("ana@example.com".into()),
                phone: Some("+351912000999".into()),
                pending: false,
            }],
            tours: vec![],
        };
        let html = yew::LocalServerRenderer::<SearchHits>::with_props(SearchHitsProps {
            results,
            query: "ana".into(),
            on_pick: Callback::noop(),
        })
        .render()
        .await;
        assert!(html.contains("data-route=\"#/bookings/BK-2026-ABC123\""), "{html}");
        assert!(html.contains("data-route=\"#/customers/c1\""), "{html}");
        assert!(html.contains("Old Town Walk") && html.contains("Confirmed"), "{html}");
        assert_eq!(html.matches("tabindex=\"0\"").count(), 2, "every hit is reachable by keyboard: {html}");
        let html = yew::LocalServerRenderer::<SearchHits>::with_props(SearchHitsProps {
            results: SearchResults::default(),
            query: "zzz".into(),
            on_pick: Callback::noop(),
        })
        .render()
        .await;
        assert!(html.contains("Nothing matches “zzz”."), "{html}");
    }

    #[tokio::test]
    async fn the_palette_opens_with_its_hint() {
        let html = yew::LocalServerRenderer::<SearchPalette>::with_props(SearchPaletteProps {
            on_pick: Callback::noop(),
            on_close: Callback::noop(),
        })
        .render()
        .await;
        assert!(html.contains("search-input") && html.contains("Esc to close"), "{html}");
    }
}

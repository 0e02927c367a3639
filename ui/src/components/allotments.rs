//! A departure's allotments (issue 14): each device's seats and what it sold, asking for seats
//! for this device, releasing them, and selling a walk-up on this device's allotment (offline
//! too). A walk-up beyond the allotment is refused by the desk with the rule, shown here.

use tourdesk_domain::PricingTier;
use tourdesk_domain::allotment::{Allotment, AllotmentStatus, WalkUpInput};
use tourdesk_domain::mutation::{LineArgs, WalkUpPayment};
use tourdesk_domain::protocol::EntityKind;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::states::ErrorNote;
use crate::error::UiError;
use crate::hooks::{Depends, Load, use_invoke_refreshing};
use crate::services;
use crate::state::{Action, use_app};

const KINDS: Depends = Depends::on(&[EntityKind::Allotment, EntityKind::Booking, EntityKind::Departure]);

#[derive(Properties, PartialEq)]
pub struct AllotmentsProps {
    pub departure_id: String,
    pub prices: Vec<PricingTier>,
}

/// The rows of the allotments table, for a departure's allotments.
pub fn allotment_rows(list: &[Allotment]) -> Html {
    list.iter()
        .map(|a| {
            let status = match a.status {
                AllotmentStatus::Active => "active".to_string(),
                AllotmentStatus::Released => format!("released ({} returned)", a.returned),
            };
            html! {
                <tr class="allotment-row" data-id={a.id.clone()}>
                    <td>{ a.device_id.chars().take(8).collect::<String>() }</td>
                    <td class="num">{ a.seats }</td>
                    <td class="num allotment-sold">{ a.sold }</td>
                    <td>{ status }</td>
                </tr>
            }
        })
        .collect()
}

#[component]
pub fn AllotmentsSection(props: &AllotmentsProps) -> Html {
    let app = use_app();
    let refresh = use_state(|| 0u32);
    let error = use_state(|| None::<UiError>);
    let seats = use_state(|| 2u32);
    let guest = use_state(String::new);
    let phone = use_state(String::new);
    let dietary = use_state(String::new);
    let pax = use_state(|| 1u32);
    let payment = use_state(|| WalkUpPayment::Cash);
    let id = props.departure_id.clone();
    let loaded = use_invoke_refreshing(KINDS, id.clone(), *refresh, |id| async move {
        let all = services::list_allotments(&id).await?;
        let mine = services::my_allotment(&id).await?;
        Ok((all, mine))
    });
    let bump = {
        let refresh = refresh.clone();
        move || refresh.set(*refresh + 1)
    };
    let ask = {
        let (error, seats, id, app, bump) = (error.clone(), seats.clone(), id.clone(), app.clone(), bump.clone());
        Callback::from(move |_: MouseEvent| {
            let (error, n, id, app, bump) = (error.clone(), *seats, id.clone(), app.clone(), bump.clone());
            spawn_local(async move {
                match services::request_allotment(&id, n, None).await {
                    Ok(a) => {
                        error.set(None);
                        app.dispatch(Action::Toast(format!("{} seats set aside for this device", a.seats)));
                        bump();
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let release = |allotment_id: String| {
        let (error, app, bump) = (error.clone(), app.clone(), bump.clone());
        Callback::from(move |_: MouseEvent| {
            let (error, app, bump, allotment_id) = (error.clone(), app.clone(), bump.clone(), allotment_id.clone());
            spawn_local(async move {
                match services::release_allotment(&allotment_id).await {
                    Ok(a) => {
                        error.set(None);
                        app.dispatch(Action::Toast(format!("{} unsold seats back on general sale", a.returned)));
                        bump();
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let tier = props.prices.first().map(|t| t.id.clone());
    let sell = {
        let (error, app, bump, id) = (error.clone(), app.clone(), bump.clone(), id.clone());
        let (guest, phone, dietary, pax, payment) =
            (guest.clone(), phone.clone(), dietary.clone(), pax.clone(), payment.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(tier) = tier.clone() else { return };
            let input = WalkUpInput {
                departure_id: id.clone(),
                first_name: (*guest).clone(),
                last_name: String::new(),
                phone: Some((*phone).clone()),
                lines: vec![LineArgs { tier_id: tier, quantity: *pax, participants: vec![] }],
                payment: *payment,
                special_requests: None,
                dietary_restrictions: Some((*dietary).clone()),
                expected_total: None,
            };
            let (error, app, bump, guest) = (error.clone(), app.clone(), bump.clone(), guest.clone());
            spawn_local(async move {
                match services::sell_walk_up(&input).await {
                    Ok(b) => {
                        error.set(None);
                        guest.set(String::new());
                        app.dispatch(Action::Toast(format!("Walk-up {} sold", b.reference_number)));
                        bump();
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let text = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |e: InputEvent| s.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let number = |s: &UseStateHandle<u32>| {
        let s = s.clone();
        Callback::from(move |e: InputEvent| {
            s.set(e.target_unchecked_into::<HtmlInputElement>().value().parse().unwrap_or(0));
        })
    };
    let on_payment = {
        let payment = payment.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            payment.set(if v == "pay_on_arrival" { WalkUpPayment::PayOnArrival } else { WalkUpPayment::Cash });
        })
    };
    let body = match loaded {
        Load::Loading => html! { <p class="muted">{ "Loading allotments…" }</p> },
        Load::Failed(e) => html! { <ErrorNote error={e} /> },
        Load::Ready((all, mine)) => html! {
            <>
                if all.is_empty() {
                    <p class="muted">{ "No device holds seats on this departure." }</p>
                } else {
                    <table class="allotments">
                        <thead><tr><th>{ "Device" }</th><th>{ "Seats" }</th><th>{ "Sold" }</th><th>{ "Status" }</th></tr></thead>
                        <tbody>{ allotment_rows(&all) }</tbody>
                    </table>
                }
                if let Some(a) = mine {
                    <p id="my-allotment">{ format!("This device: {} of {} seats left", a.seats - a.sold, a.seats) }
                        { " " }<button id="release-allotment" onclick={release(a.id.clone())}>{ "Release unsold seats" }</button>
                    </p>
                    <form id="walk-up-form" class="inline-form" onsubmit={sell}>
                        <input id="walk-up-name" placeholder="Guest name" value={(*guest).clone()} oninput={text(&guest)} />
                        <input id="walk-up-phone" placeholder="Phone" value={(*phone).clone()} oninput={text(&phone)} />
                        <input id="walk-up-pax" type="number" min="1" value={pax.to_string()} oninput={number(&pax)} />
                        <input id="walk-up-dietary" placeholder="Dietary notes" value={(*dietary).clone()} oninput={text(&dietary)} />
                        <select id="walk-up-payment" onchange={on_payment}>
                            <option value="cash" selected={*payment == WalkUpPayment::Cash}>{ "Cash" }</option>
                            <option value="pay_on_arrival" selected={*payment == WalkUpPayment::PayOnArrival}>{ "Pay on arrival" }</option>
                        </select>
                        <button id="sell-walk-up" type="submit">{ "Sell walk-up" }</button>
                    </form>
                } else {
                    <p>
                        <input id="allotment-seats" type="number" min="1" value={seats.to_string()} oninput={number(&seats)} />
                        { " " }<button id="request-allotment" onclick={ask}>{ "Set seats aside for this device" }</button>
                    </p>
                }
            </>
        },
    };
    html! {
        <section class="allotments-section">
            <h3>{ "Allotments" }</h3>
            if let Some(e) = &*error {
                <p id="allotment-error" class="error-text" role="alert">{ e.message.clone() }</p>
            }
            { body }
        </section>
    }
}

//! A departure's allotments (issue 14): each device's seats and what it sold, asking for seats
//! for this device or (the office) pushing them to another device picked by name, releasing
//! them, and selling a walk-up on this device's allotment (offline too). A walk-up beyond the
//! allotment is refused by the desk with the rule, shown here.

use tourdesk_domain::PricingTier;
use tourdesk_domain::allotment::{Allotment, AllotmentStatus, WalkUpInput};
use tourdesk_domain::mutation::{LineArgs, WalkUpPayment};
use tourdesk_domain::protocol::{DeviceInfo, EntityKind};
use tourdesk_domain::roles::Role;
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

/// What a device is called: "Gina's phone (Gina Guide)" when the device list is known (online),
/// otherwise the start of its id.
pub fn device_label(device_id: &str, devices: &[DeviceInfo]) -> String {
    match devices.iter().find(|d| d.id == device_id) {
        Some(d) => format!("{} ({})", d.name, d.user_name),
        None => device_id.chars().take(8).collect(),
    }
}

/// The rows of the allotments table, for a departure's allotments.
pub fn allotment_rows(list: &[Allotment], devices: &[DeviceInfo]) -> Html {
    list.iter()
        .map(|a| {
            let status = match a.status {
                AllotmentStatus::Active => "active".to_string(),
                AllotmentStatus::Released => format!("released ({} returned)", a.returned),
            };
            html! {
                <tr class="allotment-row" data-id={a.id.clone()} data-device={a.device_id.clone()}>
                    <td class="allotment-device">{ device_label(&a.device_id, devices) }</td>
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
    // The device the office pushes seats to; empty: this one.
    let target = use_state(String::new);
    let office = app.status.as_ref().and_then(|s| s.signed_in_as.as_ref()).is_some_and(|s| s.role != Role::Guide);
    // Names for the devices (online only; offline the table shows ids and the picker is hidden).
    let devices = use_invoke_refreshing(KINDS, office, *refresh, |office| async move {
        if office { Ok(services::list_devices().await.map(|l| l.devices).unwrap_or_default()) } else { Ok(Vec::new()) }
    });
    // Every device names its rows, a signed-out one too (a guide's allotment outlives her
    // session); only devices still signed in can be offered seats.
    let devices: Vec<DeviceInfo> = match devices {
        Load::Ready(d) => d,
        _ => Vec::new(),
    };
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
        let (target, devices) = (target.clone(), devices.clone());
        Callback::from(move |_: MouseEvent| {
            let (error, n, id, app, bump) = (error.clone(), *seats, id.clone(), app.clone(), bump.clone());
            let device = Some((*target).clone()).filter(|d| !d.is_empty());
            let whom = device.as_deref().map_or_else(|| "this device".to_string(), |d| device_label(d, &devices));
            spawn_local(async move {
                match services::request_allotment(&id, n, device.as_deref()).await {
                    Ok(a) => {
                        error.set(None);
                        app.dispatch(Action::Toast(format!("{} seats set aside for {whom}", a.seats)));
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
    let on_target = {
        let target = target.clone();
        Callback::from(move |e: Event| target.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    // Other devices the office can push seats to (the server refuses one that already holds some).
    let others: Vec<DeviceInfo> = devices.iter().filter(|d| !d.current && d.revoked_at.is_none()).cloned().collect();
    let pushable = office && !others.is_empty();
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
                        <tbody>{ allotment_rows(&all, &devices) }</tbody>
                    </table>
                }
                if let Some(a) = &mine {
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
                }
                if mine.is_none() || pushable {
                    <p class="inline-form">
                        <input id="allotment-seats" type="number" min="1" aria-label="Seats" value={seats.to_string()} oninput={number(&seats)} />
                        if pushable {
                            <select id="allotment-device" aria-label="For device" onchange={on_target}>
                                <option value="" selected={target.is_empty()}>{ "This device" }</option>
                                { for others.iter().map(|d| html! {
                                    <option value={d.id.clone()} selected={*target == d.id}>{ format!("{} ({})", d.name, d.user_name) }</option>
                                }) }
                            </select>
                        }
                        { " " }<button id="request-allotment" onclick={ask}>{ "Set seats aside" }</button>
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

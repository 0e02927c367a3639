//! The waitlist: the table of entries (the `#/waitlist` screen across departures, a departure's
//! panel for its own queue), the "Add to waitlist…" dialog and "Remove". Adding and removing are
//! saved on this desk at once, offline too; the server decides them again, and a refusal shows
//! in the inbox. Places in the queue and statuses in words come from the domain, through the store.

use std::collections::BTreeMap;

use tourdesk_domain::PricingTier;
use tourdesk_domain::entities::{WaitlistLine, full_name};
use tourdesk_domain::ipc::{CustomerHit, DepartureView, NewWaitlistEntry, WaitlistRow};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::waitlist::WaitlistStatus;
use web_sys::HtmlInputElement;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::booking_form::{field_error, use_customer_search};
use crate::components::bookings::{CustomerHits, NO_EMAIL};
use crate::components::dialog::{DialogFooter, FormDialog};
use crate::components::keyboard::on_row_keys;
use crate::components::states::{ErrorNote, Loading};
use crate::error::UiError;
use crate::forms::{self, CustomerDraft};
use crate::hooks::{Depends, Load, use_invoke_refreshing};
use crate::services;
use crate::state::{Action, use_app};

/// What the waitlist shows depends on: its entries, and the names and times it joins.
pub const WAITLIST_KINDS: Depends =
    Depends::on(&[EntityKind::WaitlistEntry, EntityKind::Customer, EntityKind::Departure, EntityKind::Tour]);

/// A status as the filter offers it.
pub fn status_label(s: WaitlistStatus) -> &'static str {
    match s {
        WaitlistStatus::Waiting => "Waiting",
        WaitlistStatus::Offered => "Offered seats",
        WaitlistStatus::Booked => "Booked",
        WaitlistStatus::Lapsed => "Lapsed",
        WaitlistStatus::Removed => "Removed",
    }
}

/// "Sat 5 Dec 2026, 09:00 (Europe/Lisbon)": the departure's own local date and time.
pub fn departure_words(r: &WaitlistRow) -> String {
    format!("{}, {} ({})", r.local_date.format("%a %-d %b %Y"), r.local_time.format("%H:%M"), r.timezone)
}

fn party_words(n: u32) -> String {
    if n == 1 { "1 person".into() } else { format!("{n} people") }
}

#[derive(Properties, PartialEq)]
pub struct WaitlistTableProps {
    pub rows: Vec<WaitlistRow>,
    /// Whether each row names its tour and departure (the screen across departures does).
    #[prop_or_default]
    pub show_departure: bool,
    /// "Remove" on the rows that may go; none: no actions.
    #[prop_or_default]
    pub on_remove: Option<Callback<String>>,
}

/// One row per entry. ArrowUp/Down move between rows; Delete on a row removes it when it may go.
#[component]
pub fn WaitlistTable(props: &WaitlistTableProps) -> Html {
    html! {
        <div class="table-scroll">
        <table id="waitlist-table" class="data">
            <thead><tr>
                if props.show_departure { <th>{ "Tour" }</th><th>{ "Departure" }</th> }
                <th>{ "Customer" }</th><th class="num">{ "Party" }</th><th class="num">{ "Place" }</th>
                <th>{ "Status" }</th>
                if props.on_remove.is_some() { <th><span class="visually-hidden">{ "Actions" }</span></th> }
            </tr></thead>
            <tbody onkeydown={Callback::from(on_row_keys)}>
                { for props.rows.iter().map(|r| {
                    let id = r.entry.id.clone();
                    let remove = props.on_remove.clone().filter(|_| r.removable);
                    let on_key = {
                        let (remove, id) = (remove.clone(), id.clone());
                        Callback::from(move |e: KeyboardEvent| {
                            if e.key() == "Delete"
                                && let Some(cb) = &remove
                            {
                                cb.emit(id.clone())
                            }
                        })
                    };
                    html! {
                        <tr class="waitlist-row" data-id={id.clone()} data-status={r.entry.status.as_str()} data-row="" tabindex="0" onkeydown={on_key}>
                            if props.show_departure {
                                <td>{ r.tour_name.clone() }</td>
                                <td class="nowrap">{ departure_words(r) }</td>
                            }
                            <td>{ r.customer_name.clone() }
                                if r.pending { <span class="badge pending">{ "Pending sync" }</span> }
                            </td>
                            <td class="num">{ party_words(r.entry.party_size) }</td>
                            <td class="num">{ r.place.map_or("—".to_string(), |p| p.to_string()) }</td>
                            <td>{ r.status_words.clone() }</td>
                            if props.on_remove.is_some() {
                                <td>
                                    if let Some(cb) = remove {
                                        <button class="remove-from-waitlist" onclick={{ let id = id.clone(); Callback::from(move |_: MouseEvent| cb.emit(id.clone())) }}>{ "Remove" }</button>
                                    }
                                </td>
                            }
                        </tr>
                    }
                }) }
            </tbody>
        </table>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct WaitlistSectionProps {
    pub departure: DepartureView,
    /// The tour's price list: the dialog offers the tiers sold on this departure.
    pub prices: Vec<PricingTier>,
}

/// A departure's waitlist on its panel: the queue with "Remove", and "Add to waitlist…".
#[component]
pub fn WaitlistSection(props: &WaitlistSectionProps) -> Html {
    let app = use_app();
    let id = props.departure.departure.id.clone();
    let retry = use_state(|| 0u32);
    let rows = use_invoke_refreshing(WAITLIST_KINDS, id.clone(), *retry, |id| async move {
        services::departure_waitlist(&id).await
    });
    let adding = use_state(|| false);
    let error = use_state(|| None::<UiError>);
    let on_remove = {
        let (error, app) = (error.clone(), app.clone());
        Callback::from(move |entry: String| {
            let (error, app) = (error.clone(), app.clone());
            spawn_local(async move {
                match services::remove_from_waitlist(&entry).await {
                    Ok(()) => {
                        error.set(None);
                        app.dispatch(Action::Toast("Taken off the waitlist".into()));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let open = {
        let adding = adding.clone();
        Callback::from(move |_: MouseEvent| adding.set(true))
    };
    let close = {
        let adding = adding.clone();
        Callback::from(move |()| adding.set(false))
    };
    let added = {
        let (adding, app) = (adding.clone(), app.clone());
        Callback::from(move |_: String| {
            adding.set(false);
            app.dispatch(Action::Toast("Added to the waitlist".into()));
        })
    };
    let body = match &rows {
        Load::Loading => html! { <Loading what="the waitlist" /> },
        Load::Failed(e) => {
            let retry = retry.clone();
            html! { <ErrorNote error={e.clone()} on_retry={Some(Callback::from(move |()| retry.set(*retry + 1)))} /> }
        }
        Load::Ready(list) if list.is_empty() => {
            html! { <p class="empty" id="waitlist-empty">{ "Nobody is waiting for this departure." }</p> }
        }
        Load::Ready(list) => html! { <WaitlistTable rows={list.clone()} on_remove={Some(on_remove)} /> },
    };
    html! {
        <section id="departure-waitlist" class="panel" aria-labelledby="departure-waitlist-title">
            <div class="panel-actions">
                <h3 id="departure-waitlist-title">{ "Waitlist" }</h3>
                <button id="add-to-waitlist" onclick={open}>{ "Add to waitlist…" }</button>
            </div>
            if let Some(e) = &*error { <ErrorNote error={e.clone()} /> }
            { body }
            if *adding {
                <AddToWaitlistDialog departure={props.departure.clone()} prices={props.prices.clone()} on_added={added} on_close={close} />
            }
        </section>
    }
}

const ADD_FIELDS: &[&str] = &["first_name", "last_name", "email", "phone", "customer_id", "lines", "notes"];

#[derive(Properties, PartialEq)]
pub struct AddToWaitlistDialogProps {
    pub departure: DepartureView,
    pub prices: Vec<PricingTier>,
    /// With the new entry's id.
    pub on_added: Callback<String>,
    pub on_close: Callback<()>,
}

/// The party as typed: quantities per tier, blank or zero left out.
pub fn party_lines(quantities: &BTreeMap<String, String>) -> Result<Vec<WaitlistLine>, UiError> {
    let mut lines = Vec::new();
    for (tier_id, typed) in quantities {
        let typed = typed.trim();
        if typed.is_empty() {
            continue;
        }
        let quantity: u32 = typed
            .parse()
            .map_err(|_| UiError::at_field(&forms::quantity_field(tier_id), "Enter a number of people"))?;
        if quantity > 0 {
            lines.push(WaitlistLine { tier_id: tier_id.clone(), quantity });
        }
    }
    if lines.is_empty() {
        return Err(UiError::at_field("lines", "Enter how many people are waiting"));
    }
    Ok(lines)
}

/// "Add to waitlist…": a customer picked (or created first) and the party per tier.
#[component]
pub fn AddToWaitlistDialog(props: &AddToWaitlistDialogProps) -> Html {
    let tiers = forms::offered_tiers(&props.prices, &props.departure.departure);
    let quantities = use_state(BTreeMap::<String, String>::new);
    let picked = use_state(|| None::<CustomerHit>);
    let creating = use_state(|| false);
    let customer = use_state(CustomerDraft::default);
    let notes = use_state(String::new);
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let (typed, hits, answered, on_search) = use_customer_search();
    let input_value = |e: &InputEvent| e.target_unchecked_into::<HtmlInputElement>().value();

    let on_pick = {
        let (picked, creating) = (picked.clone(), creating.clone());
        Callback::from(move |h: CustomerHit| {
            picked.set(Some(h));
            creating.set(false);
        })
    };
    let toggle = {
        let (creating, picked) = (creating.clone(), picked.clone());
        Callback::from(move |_: MouseEvent| {
            picked.set(None);
            creating.set(!*creating);
        })
    };
    let bind_customer = |set: fn(&mut CustomerDraft, String)| {
        let customer = customer.clone();
        Callback::from(move |e: InputEvent| {
            let mut c = (*customer).clone();
            set(&mut c, e.target_unchecked_into::<HtmlInputElement>().value());
            customer.set(c);
        })
    };
    let on_notes = {
        let notes = notes.clone();
        Callback::from(move |e: InputEvent| notes.set(input_value(&e)))
    };
    let onsubmit = {
        let (picked, creating, customer, quantities, notes, error, busy) = (
            picked.clone(),
            creating.clone(),
            customer.clone(),
            quantities.clone(),
            notes.clone(),
            error.clone(),
            busy.clone(),
        );
        let (departure_id, on_added) = (props.departure.departure.id.clone(), props.on_added.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            // The party first, so a typo there creates no customer.
            let lines = match party_lines(&quantities) {
                Ok(l) => l,
                Err(e) => return error.set(Some(e)),
            };
            let new_customer = (*creating).then(|| customer.to_input());
            let known = picked.as_ref().map(|c| c.id.clone());
            if new_customer.is_none() && known.is_none() {
                return error.set(Some(UiError::at_field("customer_id", "Pick a customer, or enter a new one")));
            }
            let (picked, creating, error, busy, on_added, departure_id, notes) = (
                picked.clone(),
                creating.clone(),
                error.clone(),
                busy.clone(),
                on_added.clone(),
                departure_id.clone(),
                (*notes).clone(),
            );
            busy.set(true);
            spawn_local(async move {
                let customer_id = match (new_customer, known) {
                    (Some(input), _) => match services::create_customer(&input).await {
                        Ok(hit) => {
                            // Picked from now on: a retry must not create the customer twice.
                            let id = hit.id.clone();
                            picked.set(Some(hit));
                            creating.set(false);
                            id
                        }
                        Err(e) => {
                            error.set(Some(e));
                            busy.set(false);
                            return;
                        }
                    },
                    (None, Some(id)) => id,
                    (None, None) => return,
                };
                let notes = (!notes.trim().is_empty()).then(|| notes.trim().to_string());
                let input = NewWaitlistEntry { departure_id, customer_id, lines, notes };
                match services::add_to_waitlist(&input).await {
                    Ok(id) => on_added.emit(id),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    html! {
        <FormDialog name="add-to-waitlist" title="Add to waitlist" onsubmit={onsubmit} on_close={props.on_close.clone()}>
            <fieldset>
                <legend>{ "Customer" }</legend>
                if let Some(c) = &*picked {
                    <p id="waitlist-picked-customer">{ format!("{} · {}", full_name(&c.first_name, &c.last_name), c.email.as_deref().or(c.phone.as_deref()).unwrap_or(NO_EMAIL)) }</p>
                }
                if *creating {
                    <label>{ "First name" }<input id="waitlist-customer-first" value={customer.first_name.clone()} oninput={bind_customer(|c, v| c.first_name = v)} />{ field_error(&error, "first_name") }</label>
                    <label>{ "Last name" }<input id="waitlist-customer-last" value={customer.last_name.clone()} oninput={bind_customer(|c, v| c.last_name = v)} />{ field_error(&error, "last_name") }</label>
                    <label>{ "E-mail (for the offer of seats)" }<input id="waitlist-customer-email" value={customer.email.clone()} oninput={bind_customer(|c, v| c.email = v)} />{ field_error(&error, "email") }</label>
                    <label>{ "Phone" }<input id="waitlist-customer-phone" value={customer.phone.clone()} oninput={bind_customer(|c, v| c.phone = v)} />{ field_error(&error, "phone") }</label>
                } else {
                    <label>{ "Find a customer" }<input id="waitlist-customer-search" placeholder="Name, e-mail, phone or booking reference" value={(*typed).clone()} oninput={on_search} /></label>
                    <CustomerHits hits={(*hits).clone()} query={answered} selected={picked.as_ref().map(|c| c.id.clone())} on_pick={on_pick} />
                    { field_error(&error, "customer_id") }
                }
                <button type="button" id="waitlist-toggle-new-customer" onclick={toggle}>
                    { if *creating { "Search existing customers" } else { "New customer" } }
                </button>
            </fieldset>
            <fieldset>
                <legend>{ "Party" }</legend>
                if tiers.is_empty() {
                    <p class="empty">{ "This tour has no prices for this departure yet." }</p>
                }
                { for tiers.iter().map(|t| {
                    let id = t.id.clone();
                    let on_qty = {
                        let (quantities, id) = (quantities.clone(), id.clone());
                        Callback::from(move |e: InputEvent| {
                            let mut q = (*quantities).clone();
                            q.insert(id.clone(), e.target_unchecked_into::<HtmlInputElement>().value());
                            quantities.set(q);
                        })
                    };
                    html! {
                        <label class="tier-qty">{ t.name.clone() }
                            <input class="qty" data-tier={id.clone()} inputmode="numeric" value={quantities.get(&id).cloned().unwrap_or_default()} oninput={on_qty} />
                            { field_error(&error, &forms::quantity_field(&id)) }
                        </label>
                    }
                }) }
                { field_error(&error, "lines") }
            </fieldset>
            <label>{ "Notes" }<input id="waitlist-notes" value={(*notes).clone()} oninput={on_notes} />{ field_error(&error, "notes") }</label>
            <DialogFooter name="add-to-waitlist" error={(*error).clone()} fields={ADD_FIELDS}
                confirm_id="add-to-waitlist-submit" confirm_label="Add to waitlist" disabled={*busy}
                keep_id="add-to-waitlist-cancel" keep_label="Cancel" on_keep={props.on_close.clone()} />
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_party_reads_per_tier_and_needs_someone() {
        let q = |v: &[(&str, &str)]| v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(
            party_lines(&q(&[("adult", " 2 "), ("child", ""), ("senior", "0")])).unwrap(),
            [WaitlistLine { tier_id: "adult".into(), quantity: 2 }]
        );
        assert!(party_lines(&q(&[("adult", "")])).unwrap_err().is_field("lines"));
        assert!(party_lines(&q(&[("adult", "two")])).unwrap_err().is_field("qty:adult"));
    }
}

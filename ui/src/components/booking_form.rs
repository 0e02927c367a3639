//! The new-booking form and the debounced customer search it (and the customers page) use. They
//! keep form state and call `services`; they render on the host too (effects and callbacks, the
//! only places that `invoke`, do not run in SSR).

use std::collections::BTreeMap;

use tourdesk_domain::PricingTier;
use tourdesk_domain::entities::full_name;
use tourdesk_domain::ipc::{BookingSummary, CustomerHit, DepartureView};
use web_sys::HtmlInputElement;
use web_sys::wasm_bindgen::JsCast;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::bookings::{CustomerHits, NO_EMAIL};
use crate::components::tours::price;
use crate::error::UiError;
use crate::forms::{self, BookingDraft, CustomerDraft, Debounce, SEARCH_DEBOUNCE_MS};
use crate::hooks::{Depends, Load, use_invoke};
use crate::pages::pricing_common::quote_booking;
use tourdesk_domain::catalogue::QuoteInput;
use tourdesk_domain::pricing::{LineRequest, PromoOutcome, Quote};
use tourdesk_domain::protocol::EntityKind;

/// What the desk's quote depends on besides the request.
const QUOTE_KINDS: Depends = Depends::on(&[EntityKind::PricingTier, EntityKind::Season, EntityKind::TaxRate]);
use crate::services;

fn input_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

/// A debounced customer search: `(typed text, hits, the query they answer, on input)`. A search
/// goes out once typing pauses for [`SEARCH_DEBOUNCE_MS`]; late answers to older text are dropped.
#[hook]
pub fn use_customer_search()
-> (UseStateHandle<String>, UseStateHandle<Vec<CustomerHit>>, Option<String>, Callback<InputEvent>) {
    let typed = use_state(String::new);
    let hits = use_state(Vec::<CustomerHit>::new);
    let answered = use_state(|| None::<String>);
    let debounce = use_mut_ref(Debounce::default);
    let on_input = {
        let (typed, hits, answered, debounce) = (typed.clone(), hits.clone(), answered.clone(), debounce.clone());
        Callback::from(move |e: InputEvent| {
            let text = input_value(&e);
            typed.set(text.clone());
            let ticket = debounce.borrow_mut().ticket();
            let Some(query) = forms::search_query(&text) else {
                hits.set(Vec::new());
                answered.set(None);
                return;
            };
            let (hits, answered, debounce) = (hits.clone(), answered.clone(), debounce.clone());
            spawn_local(async move {
                yew::platform::time::sleep(std::time::Duration::from_millis(u64::from(SEARCH_DEBOUNCE_MS))).await;
                if !debounce.borrow().is_current(ticket) {
                    return;
                }
                let result = services::search_customers(&query).await;
                if debounce.borrow().is_current(ticket) {
                    hits.set(result.unwrap_or_default());
                    answered.set(Some(query));
                }
            });
        })
    };
    let answered_now = (*answered).clone();
    (typed, hits, answered_now, on_input)
}

pub fn field_error(error: &Option<UiError>, field: &str) -> Html {
    match error {
        Some(e) if e.is_field(field) => {
            html! { <span class="field-error">{ e.message.clone() }</span> }
        }
        _ => html! {},
    }
}

/// The value of the `<input>` or `<select>` an event came from (empty for any other target):
/// the filter bars of the reports and audit pages read both kinds through one callback.
pub fn value_of(e: &Event) -> String {
    e.target()
        .and_then(|t| {
            t.clone()
                .dyn_into::<HtmlInputElement>()
                .map(|i| i.value())
                .ok()
                .or_else(|| t.dyn_into::<web_sys::HtmlSelectElement>().ok().map(|s| s.value()))
        })
        .unwrap_or_default()
}

#[derive(Properties, PartialEq)]
pub struct NewBookingFormProps {
    pub tour_id: String,
    pub departure: DepartureView,
    /// The tour's price list; the form offers the tiers the domain sells on this departure.
    pub prices: Vec<PricingTier>,
    pub on_saved: Callback<BookingSummary>,
    pub on_cancel: Callback<()>,
}

/// Booking works offline: the shell saves it locally (seats taken at once) and queues it; the
/// server may still refuse it, which then shows in the refused-bookings inbox.
#[component]
pub fn NewBookingForm(props: &NewBookingFormProps) -> Html {
    let tiers = forms::offered_tiers(&props.prices, &props.departure.departure);
    let quantities = use_state(BTreeMap::<String, String>::new);
    let picked = use_state(|| None::<CustomerHit>);
    let creating_customer = use_state(|| false);
    let customer = use_state(CustomerDraft::default);
    let requests = use_state(String::new);
    // The code as typed, and the one the quote prices with: it follows the typing once it pauses.
    let promo = use_state(String::new);
    let quoted_code = use_state(|| None::<String>);
    let promo_debounce = use_mut_ref(Debounce::default);
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let (typed, hits, answered, on_search) = use_customer_search();

    let draft = BookingDraft {
        tour_id: props.tour_id.clone(),
        departure_id: props.departure.departure.id.clone(),
        customer_id: picked.as_ref().map(|c| c.id.clone()),
        quantities: (*quantities).clone(),
        special_requests: (*requests).clone(),
        promo_code: (*promo).clone(),
    };
    // The desk's own quote (its replica's tiers, seasons, taxes: what its store will charge);
    // the tiers alone until it answers.
    let by_tiers = draft
        .lines()
        .ok()
        .and_then(|lines| forms::quote_total(&props.prices, &props.departure.departure, &lines, forms::now()));
    let wanted: Option<Vec<LineRequest>> = draft.lines().ok().map(|lines| {
        lines.iter().map(|l| LineRequest { tier_id: l.tier_id.clone(), quantity: l.quantity, ages: vec![] }).collect()
    });
    let quoted = use_invoke(
        QUOTE_KINDS,
        (props.departure.departure.id.clone(), wanted, (*quoted_code).clone(), draft.customer_id.clone()),
        |(departure_id, lines, promo_code, customer_id)| async move {
            match lines {
                Some(lines) if !lines.is_empty() => {
                    quote_booking(&QuoteInput { departure_id, lines, promo_code, customer_id }).await.map(Some)
                }
                _ => Ok(None),
            }
        },
    );
    let quote = match &quoted {
        Load::Ready(Some(q)) => Some(q.clone()),
        _ => None,
    };
    let total = match &quoted {
        Load::Ready(Some(q)) => Some(q.snapshot.total),
        Load::Ready(None) => None,
        // The tiers alone know nothing of a code: no total rather than one without the discount.
        Load::Loading | Load::Failed(_) => by_tiers.filter(|_| draft.promo().is_none()),
    };
    // The total shown is the code's only once the quote has caught up with the typing.
    let expected_total = total.filter(|_| draft.promo() == *quoted_code);
    let on_promo = {
        let (promo, quoted_code, promo_debounce) = (promo.clone(), quoted_code.clone(), promo_debounce.clone());
        Callback::from(move |e: InputEvent| {
            let text = input_value(&e);
            promo.set(text.clone());
            let ticket = promo_debounce.borrow_mut().ticket();
            let (quoted_code, promo_debounce) = (quoted_code.clone(), promo_debounce.clone());
            spawn_local(async move {
                yew::platform::time::sleep(std::time::Duration::from_millis(u64::from(SEARCH_DEBOUNCE_MS))).await;
                if promo_debounce.borrow().is_current(ticket) {
                    let c = text.trim();
                    quoted_code.set((!c.is_empty()).then(|| c.to_string()));
                }
            });
        })
    };

    let on_pick = {
        let (picked, creating_customer) = (picked.clone(), creating_customer.clone());
        Callback::from(move |h: CustomerHit| {
            picked.set(Some(h));
            creating_customer.set(false);
        })
    };
    let toggle_new_customer = {
        let (creating_customer, picked) = (creating_customer.clone(), picked.clone());
        Callback::from(move |_: MouseEvent| {
            picked.set(None);
            creating_customer.set(!*creating_customer);
        })
    };
    let bind_customer = |set: fn(&mut CustomerDraft, String)| {
        let customer = customer.clone();
        Callback::from(move |e: InputEvent| {
            let mut c = (*customer).clone();
            set(&mut c, input_value(&e));
            customer.set(c);
        })
    };
    let on_requests = {
        let requests = requests.clone();
        Callback::from(move |e: InputEvent| requests.set(input_value(&e)))
    };
    let on_submit = {
        let (picked, creating_customer, customer, error, busy) =
            (picked.clone(), creating_customer.clone(), customer.clone(), error.clone(), busy.clone());
        let (draft, on_saved) = (draft.clone(), props.on_saved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            // Check the seats before creating a customer, so a typo there leaves nothing behind.
            if let Err(e) = draft.lines() {
                error.set(Some(e.into()));
                return;
            }
            let new_customer = (*creating_customer).then(|| customer.to_input());
            let (mut draft, picked, creating_customer, error, busy, on_saved) = (
                draft.clone(),
                picked.clone(),
                creating_customer.clone(),
                error.clone(),
                busy.clone(),
                on_saved.clone(),
            );
            busy.set(true);
            spawn_local(async move {
                if let Some(input) = new_customer {
                    match services::create_customer(&input).await {
                        Ok(hit) => {
                            // Picked from now on: a retry after a booking error must not create
                            // the customer twice.
                            draft.customer_id = Some(hit.id.clone());
                            picked.set(Some(hit));
                            creating_customer.set(false);
                        }
                        Err(e) => {
                            error.set(Some(e));
                            busy.set(false);
                            return;
                        }
                    }
                }
                // The total on screen is what the customer agreed to; the server refuses another.
                match draft.to_input(expected_total) {
                    Ok(input) => match services::create_booking(&input).await {
                        Ok(b) => on_saved.emit(b),
                        Err(e) => error.set(Some(e)),
                    },
                    Err(e) => error.set(Some(e.into())),
                }
                busy.set(false);
            });
        })
    };
    let on_cancel = props.on_cancel.reform(|_: MouseEvent| ());
    let general_error = match &*error {
        Some(e)
            if !e
                .field
                .as_deref()
                .is_some_and(|f| f.starts_with("qty:") || f == PROMO_FIELD || CUSTOMER_FIELDS.contains(&f)) =>
        {
            html! { <p class="error-text form-error">{ e.message.clone() }</p> }
        }
        _ => html! {},
    };
    html! {
        <form id="new-booking-form" class="form wide" onsubmit={on_submit}>
            <h4>{ "New booking" }</h4>
            <fieldset>
                <legend>{ "Customer" }</legend>
                if let Some(c) = &*picked {
                    <p id="picked-customer">{ format!("{} · {}", full_name(&c.first_name, &c.last_name), c.email.as_deref().or(c.phone.as_deref()).unwrap_or(NO_EMAIL)) }</p>
                }
                if *creating_customer {
                    <label>{ "First name" }
                        <input id="new-customer-first" value={customer.first_name.clone()} oninput={bind_customer(|c, v| c.first_name = v)} />
                        { field_error(&error, "first_name") }
                    </label>
                    <label>{ "Last name" }
                        <input id="new-customer-last" value={customer.last_name.clone()} oninput={bind_customer(|c, v| c.last_name = v)} />
                        { field_error(&error, "last_name") }
                    </label>
                    <label>{ "E-mail (optional for a walk-in)" }
                        <input id="new-customer-email" value={customer.email.clone()} oninput={bind_customer(|c, v| c.email = v)} />
                        { field_error(&error, "email") }
                    </label>
                    <label>{ "Phone" }
                        <input id="new-customer-phone" placeholder="912 000 999 or +44 20 7946 0958" value={customer.phone.clone()} oninput={bind_customer(|c, v| c.phone = v)} />
                        { field_error(&error, "phone") }
                    </label>
                } else {
                    <label>{ "Find a customer" }<input id="customer-search" placeholder="Name, e-mail, phone or booking reference" value={(*typed).clone()} oninput={on_search} /></label>
                    <CustomerHits hits={(*hits).clone()} query={answered} selected={picked.as_ref().map(|c| c.id.clone())} on_pick={on_pick} />
                    { field_error(&error, "customer_id") }
                }
                <button type="button" id="toggle-new-customer" onclick={toggle_new_customer}>
                    { if *creating_customer { "Search existing customers" } else { "New customer" } }
                </button>
            </fieldset>
            <fieldset>
                <legend>{ "Seats" }</legend>
                if tiers.is_empty() {
                    <p class="empty">{ "This tour has no prices for this departure yet." }</p>
                }
                { for tiers.iter().map(|t| {
                    let id = t.id.clone();
                    let on_qty = {
                        let quantities = quantities.clone();
                        let id = id.clone();
                        Callback::from(move |e: InputEvent| {
                            let mut q = (*quantities).clone();
                            q.insert(id.clone(), input_value(&e));
                            quantities.set(q);
                        })
                    };
                    html! {
                        <label class="tier-qty">{ format!("{} ({})", t.name, price(&t.base_price)) }
                            <input class="qty" data-tier={id.clone()} inputmode="numeric" value={quantities.get(&id).cloned().unwrap_or_default()} oninput={on_qty} />
                            { field_error(&error, &forms::quantity_field(&id)) }
                        </label>
                    }
                }) }
                <QuoteDiscounts quote={quote.clone()} />
                <p id="booking-total" class="total">{ format!("Total: {}", total.as_ref().map(price).unwrap_or_else(|| "—".into())) }</p>
            </fieldset>
            <PromoCodeField value={(*promo).clone()} on_input={on_promo} quote={quote} error={(*error).clone()} />
            <label>{ "Special requests" }<input id="booking-requests" value={(*requests).clone()} oninput={on_requests} /></label>
            { general_error }
            <div class="actions">
                <button id="new-booking-submit" type="submit" disabled={*busy}>{ "Book" }</button>
                <button type="button" onclick={on_cancel}>{ "Cancel" }</button>
            </div>
        </form>
    }
}

const CUSTOMER_FIELDS: &[&str] = &["first_name", "last_name", "email", "phone", "customer_id"];
const PROMO_FIELD: &str = "promo_code";

#[derive(Properties, PartialEq)]
pub struct QuoteDiscountsProps {
    pub quote: Option<Quote>,
}

/// The quote's discounts (a promo code's among them), each as a line above the total.
#[component]
pub fn QuoteDiscounts(props: &QuoteDiscountsProps) -> Html {
    let Some(q) = &props.quote else { return html! {} };
    html! {
        { for q.snapshot.discounts.iter().map(|d| html! {
            <p class="discount">{ format!("{}: −{}", d.description, price(&d.amount)) }</p>
        }) }
    }
}

#[derive(Properties, PartialEq)]
pub struct PromoCodeFieldProps {
    pub value: String,
    pub on_input: Callback<InputEvent>,
    /// The quote for the code as typed, once it has one.
    pub quote: Option<Quote>,
    /// The form's last error: a refusal at `promo_code` (the booking's own) shows here too.
    pub error: Option<UiError>,
}

/// The promo code's box, with why the quote did not apply the code beside it (the domain's
/// sentence), or that it did.
#[component]
pub fn PromoCodeField(props: &PromoCodeFieldProps) -> Html {
    let note = match props.quote.as_ref().map(|q| &q.promo) {
        _ if props.error.as_ref().is_some_and(|e| e.is_field(PROMO_FIELD)) => field_error(&props.error, PROMO_FIELD),
        Some(PromoOutcome::Refused { refusal }) => {
            html! { <span id="promo-refused" class="field-error">{ refusal.to_string() }</span> }
        }
        Some(PromoOutcome::Applied { .. }) if !props.value.trim().is_empty() => {
            html! { <span id="promo-applied" class="field-note">{ "Code applied" }</span> }
        }
        _ => html! {},
    };
    html! {
        <label>{ "Promo code" }
            <input id="booking-promo" autocomplete="off" value={props.value.clone()} oninput={props.on_input.clone()} />
            { note }
        </label>
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::{self, render};
    use tourdesk_domain::Departure;
    use tourdesk_domain::pricing::{AppliedDiscount, DiscountKind, PricingSnapshot, PromoRefusal};

    fn tier(id: &str, amount: i64, variant: Option<&str>) -> PricingTier {
        fixtures::tier(id, amount, "JPY", variant)
    }

    fn departure() -> DepartureView {
        fixtures::view(Departure { capacity: 8, ..fixtures::departure("d1", "2026-04-02T21:00:00Z", "Asia/Tokyo", 0) })
    }

    #[tokio::test]
    async fn new_booking_form_offers_the_departures_tiers_and_a_customer_search() {
        let html = render::<NewBookingForm>(NewBookingFormProps {
            tour_id: "t1".into(),
            departure: departure(),
            prices: vec![
                tier("Adult", 6000, None),
                tier("Child", 3000, Some("v1")),
                tier("Private", 90000, Some("v9")),
            ],
            on_saved: Callback::noop(),
            on_cancel: Callback::noop(),
        })
        .await;
        assert!(html.contains("Adult (¥6,000)") && html.contains("Child (¥3,000)"), "{html}");
        assert!(!html.contains("Private"), "another variant's tier is not sold here: {html}");
        assert!(html.contains("Total: —"), "nothing requested yet, nothing priced: {html}");
        assert!(html.contains("customer-search") && html.contains("New customer"), "{html}");
        let html = render::<NewBookingForm>(NewBookingFormProps {
            tour_id: "t1".into(),
            departure: departure(),
            prices: vec![],
            on_saved: Callback::noop(),
            on_cancel: Callback::noop(),
        })
        .await;
        assert!(html.contains("This tour has no prices for this departure yet."), "{html}");
    }

    fn quote(discounts: Vec<AppliedDiscount>, promo: PromoOutcome) -> Quote {
        let total = fixtures::money(12_000 - discounts.iter().map(|d| d.amount.amount).sum::<i64>(), "JPY");
        Quote {
            snapshot: PricingSnapshot {
                line_items: vec![],
                subtotal: fixtures::money(12_000, "JPY"),
                discounts,
                taxes: vec![],
                total,
                promotional_code_id: None,
            },
            season: None,
            promo,
        }
    }

    #[tokio::test]
    async fn the_form_has_a_promo_code_box_and_shows_the_codes_discount_or_why_it_was_refused() {
        let html = render::<NewBookingForm>(NewBookingFormProps {
            tour_id: "t1".into(),
            departure: departure(),
            prices: vec![tier("Adult", 6000, None)],
            on_saved: Callback::noop(),
            on_cancel: Callback::noop(),
        })
        .await;
        assert!(html.contains("Promo code") && html.contains("booking-promo"), "{html}");

        // Applied: the discount is a line of the quote, above the total.
        let spring = AppliedDiscount {
            kind: DiscountKind::PromotionalCode,
            description: "SPRING10".into(),
            amount: fixtures::money(1_200, "JPY"),
            code_id: Some("p1".into()),
        };
        let applied = quote(vec![spring], PromoOutcome::Applied { code_id: "p1".into() });
        let html = render::<QuoteDiscounts>(QuoteDiscountsProps { quote: Some(applied.clone()) }).await;
        assert!(html.contains("SPRING10: −¥1,200"), "{html}");
        let html = render::<PromoCodeField>(PromoCodeFieldProps {
            value: "spring10".into(),
            on_input: Callback::noop(),
            quote: Some(applied),
            error: None,
        })
        .await;
        assert!(html.contains("Code applied") && html.contains("spring10"), "{html}");

        // Refused: no discount line, and the domain's reason beside the box, in words.
        let refused = quote(vec![], PromoOutcome::Refused { refusal: PromoRefusal::NotFound });
        let html = render::<QuoteDiscounts>(QuoteDiscountsProps { quote: Some(refused.clone()) }).await;
        assert!(!html.contains("−"), "{html}");
        let html = render::<PromoCodeField>(PromoCodeFieldProps {
            value: "NOPE".into(),
            on_input: Callback::noop(),
            quote: Some(refused),
            error: None,
        })
        .await;
        assert!(html.contains("promo-refused") && html.contains("recognise this code"), "{html}");
        assert!(!html.contains("NotFound") && !html.contains("not_found"), "in words: {html}");

        // A booking the store refused for its code says so at the box too.
        let html = render::<PromoCodeField>(PromoCodeFieldProps {
            value: "OLD".into(),
            on_input: Callback::noop(),
            quote: None,
            error: Some(UiError {
                code: "PROMO_REFUSED".into(),
                message: "This code has reached its usage limit".into(),
                field: Some("promo_code".into()),
            }),
        })
        .await;
        assert!(html.contains("This code has reached its usage limit"), "{html}");
    }
}

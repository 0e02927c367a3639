//! What the pricing screens share: the typed calls to the desk's catalogue commands, reading a
//! typed amount or percentage (the first bad field named, as the domain names it), and a field's
//! error shown beside it.

use serde::Serialize;
use tourdesk_domain::catalogue::{CancellationPolicyRow, PromotionalCode, QuoteInput, TaxRate, TourPricingView};
use tourdesk_domain::money::{Currency, Money, Percent};
use tourdesk_domain::mutation::{
    UpsertCancellationPolicyV1, UpsertPromoCodeV1, UpsertSeasonV1, UpsertTaxRateV1, UpsertTourFaqV1,
    UpsertTourInclusionV1,
};
use tourdesk_domain::pricing::{Adjustment, PromoStatus, Quote};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::error::UiError;
use crate::services::{CreateArgs, NoArgs, call};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TourArg<'a> {
    tour_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReorderArg<'a> {
    tour_id: &'a str,
    ids: &'a [String],
}

#[derive(Serialize)]
struct IdArg<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct StatusArg<'a> {
    id: &'a str,
    status: PromoStatus,
}

/// The desk's quote of a booking request: what its store will charge.
pub async fn quote_booking(input: &QuoteInput) -> Result<Quote, UiError> {
    call("quote_booking", &CreateArgs { input }).await
}

pub async fn tour_pricing(tour_id: String) -> Result<TourPricingView, UiError> {
    call("tour_pricing", &TourArg { tour_id: &tour_id }).await
}
pub async fn list_promo_codes() -> Result<Vec<PromotionalCode>, UiError> {
    call("list_promo_codes", &NoArgs {}).await
}
pub async fn list_tax_rates() -> Result<Vec<TaxRate>, UiError> {
    call("list_tax_rates", &NoArgs {}).await
}
pub async fn list_cancellation_policies() -> Result<Vec<CancellationPolicyRow>, UiError> {
    call("list_cancellation_policies", &NoArgs {}).await
}
pub async fn save_promo_code(input: &UpsertPromoCodeV1) -> Result<String, UiError> {
    call("save_promo_code", &CreateArgs { input }).await
}
pub async fn set_promo_code_status(id: &str, status: PromoStatus) -> Result<(), UiError> {
    call("set_promo_code_status", &StatusArg { id, status }).await
}
pub async fn save_tax_rate(input: &UpsertTaxRateV1) -> Result<String, UiError> {
    call("save_tax_rate", &CreateArgs { input }).await
}
pub async fn save_cancellation_policy(input: &UpsertCancellationPolicyV1) -> Result<String, UiError> {
    call("save_cancellation_policy", &CreateArgs { input }).await
}
pub async fn save_season(input: &UpsertSeasonV1) -> Result<String, UiError> {
    call("save_season", &CreateArgs { input }).await
}
pub async fn delete_season(id: &str) -> Result<(), UiError> {
    call("delete_season", &IdArg { id }).await
}
pub async fn save_tour_faq(input: &UpsertTourFaqV1) -> Result<String, UiError> {
    call("save_tour_faq", &CreateArgs { input }).await
}
pub async fn delete_tour_faq(id: &str) -> Result<(), UiError> {
    call("delete_tour_faq", &IdArg { id }).await
}
pub async fn save_tour_inclusion(input: &UpsertTourInclusionV1) -> Result<String, UiError> {
    call("save_tour_inclusion", &CreateArgs { input }).await
}
pub async fn delete_tour_inclusion(id: &str) -> Result<(), UiError> {
    call("delete_tour_inclusion", &IdArg { id }).await
}

pub async fn reorder_tour_faqs(tour_id: &str, ids: &[String]) -> Result<(), UiError> {
    call("reorder_tour_faqs", &ReorderArg { tour_id, ids }).await
}
pub async fn reorder_tour_inclusions(tour_id: &str, ids: &[String]) -> Result<(), UiError> {
    call("reorder_tour_inclusions", &ReorderArg { tour_id, ids }).await
}

/// The ids in their new order after the one at `at` moves one place up (`up`) or down; `None`
/// when it is already first (or last) and there is nothing to move.
pub fn moved(ids: &[String], at: usize, up: bool) -> Option<Vec<String>> {
    let to = if up { at.checked_sub(1)? } else { at + 1 };
    if to >= ids.len() || at >= ids.len() {
        return None;
    }
    let mut out = ids.to_vec();
    out.swap(at, to);
    Some(out)
}

pub fn input_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

/// An `oninput` that keeps a text state.
pub fn bind(s: &UseStateHandle<String>) -> Callback<InputEvent> {
    let s = s.clone();
    Callback::from(move |e: InputEvent| s.set(input_value(&e)))
}

/// The error of `field`, beside it; nothing when the error is another field's.
pub fn field_error(error: &Option<UiError>, field: &str) -> Html {
    match error {
        Some(e) if e.is_field(field) || e.field.as_deref().is_some_and(|f| f.starts_with(&format!("{field}["))) => {
            html! { <span class="field-error" data-field={field.to_string()}>{ e.message.clone() }</span> }
        }
        _ => html! {},
    }
}

/// An error no field of the form shows (a refused role, a conflict on a row).
pub fn form_error(error: &Option<UiError>, fields: &[&str]) -> Html {
    let shown = |f: &str| fields.iter().any(|x| f == *x || f.starts_with(&format!("{x}[")));
    match error {
        Some(e) if !e.field.as_deref().is_some_and(shown) => {
            html! { <p class="error-text form-error" role="alert">{ e.message.clone() }</p> }
        }
        _ => html! {},
    }
}

/// `"12.5"` as a percentage, or the field's error.
pub fn percent(field: &str, typed: &str) -> Result<Percent, UiError> {
    Percent::parse(typed.trim().trim_end_matches('%').trim())
        .map_err(|_| UiError::at_field(field, "Type a percentage such as 10 or 12.5"))
}

pub fn currency(field: &str, typed: &str) -> Result<Currency, UiError> {
    Currency::parse(typed.trim().to_ascii_uppercase().as_str())
        .map_err(|_| UiError::at_field(field, "Type a currency code such as EUR"))
}

/// `"5.00"` in `currency`, or the field's error.
pub fn amount(field: &str, typed: &str, currency: Currency) -> Result<Money, UiError> {
    Money::from_decimal_str(typed.trim(), currency)
        .map_err(|_| UiError::at_field(field, format!("Type an amount in {currency}, such as 5.00")))
}

/// A whole number of at least 1, blank for none.
pub fn opt_count(field: &str, typed: &str) -> Result<Option<u32>, UiError> {
    let t = typed.trim();
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<u32>().map(Some).map_err(|_| UiError::at_field(field, "Type a whole number, or leave it blank"))
}

/// A percentage or an amount, as a discount or a season adjusts a price.
pub fn adjustment(field: &str, kind: &str, typed: &str, currency_typed: &str) -> Result<Adjustment, UiError> {
    if kind == "fixed" {
        let c = currency("currency", currency_typed)?;
        Ok(Adjustment::Fixed(amount(field, typed, c)?))
    } else {
        Ok(Adjustment::Percentage(percent(field, typed)?))
    }
}

/// How an adjustment reads: "10%", "€5.00".
pub fn adjustment_text(a: &Adjustment) -> String {
    match a {
        Adjustment::Percentage(p) => p.to_string(),
        Adjustment::Fixed(m) => m.display_with_symbol(),
    }
}

/// What a typed amount or percentage starts as when a row is edited.
pub fn adjustment_fields(a: &Adjustment) -> (String, String, String) {
    match a {
        Adjustment::Percentage(p) => {
            ("percentage".into(), p.to_string().trim_end_matches('%').to_string(), String::new())
        }
        Adjustment::Fixed(m) => ("fixed".into(), plain_amount(m), m.currency.to_string()),
    }
}

/// `12.50` for 1250 cents: what a person types back.
pub fn plain_amount(m: &Money) -> String {
    let shown = m.display();
    shown.split_once(' ').map_or(shown.clone(), |(_, n)| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::moved;

    #[test]
    fn moving_a_line_swaps_it_with_its_neighbour_and_stops_at_the_ends() {
        let ids: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(moved(&ids, 1, true), Some(vec!["b".into(), "a".into(), "c".into()]));
        assert_eq!(moved(&ids, 1, false), Some(vec!["a".into(), "c".into(), "b".into()]));
        assert_eq!(moved(&ids, 0, true), None);
        assert_eq!(moved(&ids, 2, false), None);
        assert_eq!(moved(&ids, 5, true), None);
    }
}

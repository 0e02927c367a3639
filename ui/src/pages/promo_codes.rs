//! Promo codes (`#/promo-codes`): every code of the organization with its discount, validity
//! and uses, a form to add or edit one, and pause / resume. The codes come from the desk's
//! replica (office desks only: a guide's device holds none), so the screen works offline; a
//! change is checked by the domain on the desk and again by the server.

use chrono::{DateTime, NaiveDate, Utc};
use tourdesk_domain::catalogue::PromotionalCode;
use tourdesk_domain::mutation::UpsertPromoCodeV1;
use tourdesk_domain::pricing::{Adjustment, PromoStatus};
use tourdesk_domain::protocol::EntityKind;
use web_sys::HtmlSelectElement;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::pricing_common::{
    self as common, adjustment, adjustment_fields, adjustment_text, amount, bind, currency, field_error, form_error,
    opt_count, plain_amount,
};
use crate::components::keyboard::KeyTable;
use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::error::UiError;
use crate::hooks::{Depends, Load, spawn_save, use_invoke};
use crate::state::{Action, use_app};

const KINDS: Depends = Depends::on(&[EntityKind::PromoCode]);

const FIELDS: [&str; 10] = [
    "code",
    "discount",
    "currency",
    "min_booking_value",
    "max_uses",
    "max_uses_per_customer",
    "valid_from",
    "valid_until",
    "applicable_tour_ids",
    "status",
];

pub fn status_word(s: PromoStatus) -> &'static str {
    match s {
        PromoStatus::Active => "Active",
        PromoStatus::Inactive => "Paused",
        PromoStatus::Expired => "Retired",
    }
}

/// The form as typed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PromoDraft {
    pub id: String,
    pub code: String,
    /// `percentage` or `fixed`.
    pub kind: String,
    pub value: String,
    pub currency: String,
    pub min_value: String,
    pub max_uses: String,
    pub per_customer: String,
    pub valid_from: String,
    pub valid_until: String,
    pub status: String,
}

fn date(field: &str, typed: &str) -> Result<DateTime<Utc>, UiError> {
    NaiveDate::parse_from_str(typed.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| UiError::at_field(field, "Pick a date"))
}

impl PromoDraft {
    pub fn blank() -> PromoDraft {
        PromoDraft { kind: "percentage".into(), status: "active".into(), ..PromoDraft::default() }
    }

    pub fn of(p: &PromotionalCode) -> PromoDraft {
        let (kind, value, cur) = adjustment_fields(&p.discount);
        PromoDraft {
            id: p.id.clone(),
            code: p.code.clone(),
            kind,
            value,
            currency: p.min_booking_value.map(|m| m.currency.to_string()).unwrap_or(cur),
            min_value: p.min_booking_value.map(|m| plain_amount(&m)).unwrap_or_default(),
            max_uses: p.max_uses.map(|n| n.to_string()).unwrap_or_default(),
            per_customer: p.max_uses_per_customer.map(|n| n.to_string()).unwrap_or_default(),
            valid_from: p.valid_from.format("%Y-%m-%d").to_string(),
            valid_until: p.valid_until.format("%Y-%m-%d").to_string(),
            status: serde_json::to_value(p.status).ok().and_then(|v| v.as_str().map(Into::into)).unwrap_or_default(),
        }
    }

    /// The mutation's arguments, or the first field that does not read. The domain checks the
    /// rest (limits, dates in order, a code already taken) and names its field the same way.
    pub fn to_args(&self, keep: Option<&PromotionalCode>) -> Result<UpsertPromoCodeV1, UiError> {
        let discount = adjustment("discount", &self.kind, &self.value, &self.currency)?;
        let min_booking_value = match self.min_value.trim() {
            "" => None,
            typed => {
                let c = match discount {
                    Adjustment::Fixed(m) => m.currency,
                    Adjustment::Percentage(_) => currency("currency", &self.currency)?,
                };
                Some(amount("min_booking_value", typed, c)?)
            }
        };
        let status: PromoStatus = serde_json::from_value(serde_json::Value::String(self.status.clone()))
            .map_err(|_| UiError::at_field("status", "Pick a status"))?;
        Ok(UpsertPromoCodeV1 {
            id: self.id.clone(),
            code: self.code.clone(),
            discount,
            min_booking_value,
            max_uses: opt_count("max_uses", &self.max_uses)?,
            max_uses_per_customer: opt_count("max_uses_per_customer", &self.per_customer)?,
            valid_from: date("valid_from", &self.valid_from)?,
            valid_until: date("valid_until", &self.valid_until)?,
            // Targeting is kept as it is: the form edits the rest of the code.
            applicable_tour_ids: keep.map(|p| p.applicable_tour_ids.clone()).unwrap_or_default(),
            applicable_variant_ids: keep.map(|p| p.applicable_variant_ids.clone()).unwrap_or_default(),
            status,
        })
    }
}

#[component]
pub fn PromoCodesPage() -> Html {
    let app = use_app();
    let retry = use_state(|| 0u32);
    let codes = use_invoke(KINDS, *retry, |_| common::list_promo_codes());
    let editing = use_state(|| None::<Option<PromotionalCode>>);
    let on_new = {
        let editing = editing.clone();
        Callback::from(move |_: MouseEvent| editing.set(Some(None)))
    };
    let on_edit = {
        let editing = editing.clone();
        Callback::from(move |p: PromotionalCode| editing.set(Some(Some(p))))
    };
    let on_status = {
        let app = app.clone();
        Callback::from(move |(id, status): (String, PromoStatus)| {
            let app = app.clone();
            spawn_local(async move {
                match common::set_promo_code_status(&id, status).await {
                    Ok(()) => app.dispatch(Action::Toast(format!("Code {}", status_word(status).to_lowercase()))),
                    Err(e) => app.dispatch(Action::Toast(e.message)),
                }
            });
        })
    };
    let close = {
        let editing = editing.clone();
        Callback::from(move |()| editing.set(None))
    };
    let saved = {
        let (app, editing) = (app.clone(), editing.clone());
        Callback::from(move |()| {
            editing.set(None);
            app.dispatch(Action::Toast("Promo code saved".into()));
        })
    };
    let body = match &codes {
        Load::Loading => html! { <Loading what="promo codes" /> },
        Load::Failed(e) => {
            let retry = retry.clone();
            html! { <ErrorNote error={e.clone()} on_retry={Some(Callback::from(move |()| retry.set(*retry + 1)))} /> }
        }
        Load::Ready(list) if list.is_empty() => html! {
            <EmptyState title="No promo codes yet" hint="A code gives customers a discount at checkout; you decide for how long and how often.">
                <button class="primary" onclick={on_new.clone()}>{ "New promo code" }</button>
            </EmptyState>
        },
        Load::Ready(list) => html! {
            <>
                <div class="toolbar"><button class="primary" onclick={on_new.clone()}>{ "New promo code" }</button></div>
                <PromoTable codes={list.clone()} on_edit={on_edit} on_status={on_status} />
            </>
        },
    };
    html! {
        <section class="page single promo-codes-page">
            <h1>{ "Promo codes" }</h1>
            if let Some(target) = &*editing {
                <PromoForm code={target.clone()} on_saved={saved} on_cancel={close} />
            }
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct PromoTableProps {
    pub codes: Vec<PromotionalCode>,
    pub on_edit: Callback<PromotionalCode>,
    pub on_status: Callback<(String, PromoStatus)>,
}

/// One row per code; ArrowUp/Down move between rows, Enter edits.
#[component]
pub fn PromoTable(props: &PromoTableProps) -> Html {
    html! {
        <KeyTable id="promo-table" head={html! { <tr>
                <th>{ "Code" }</th><th>{ "Discount" }</th><th>{ "Valid" }</th><th>{ "Uses" }</th>
                <th>{ "Per customer" }</th><th>{ "Status" }</th><th><span class="sr-only">{ "Actions" }</span></th>
            </tr> }}>
                { for props.codes.iter().map(|p| {
                    let edit = { let (cb, p) = (props.on_edit.clone(), p.clone()); Callback::from(move |_: MouseEvent| cb.emit(p.clone())) };
                    let next = if p.status == PromoStatus::Active { PromoStatus::Inactive } else { PromoStatus::Active };
                    let toggle = { let (cb, id) = (props.on_status.clone(), p.id.clone()); Callback::from(move |_: MouseEvent| cb.emit((id.clone(), next))) };
                    html! {
                        <tr class="promo-row" data-id={p.id.clone()} data-row="" tabindex="0">
                            <td class="code">{ p.code.clone() }</td>
                            <td>{ adjustment_text(&p.discount) }
                                if let Some(m) = p.min_booking_value { <span class="muted">{ format!(" on {} or more", m.display_with_symbol()) }</span> }
                            </td>
                            <td class="nowrap">{ format!("{} – {}", p.valid_from.format("%Y-%m-%d"), p.valid_until.format("%Y-%m-%d")) }</td>
                            <td>{ match p.max_uses { Some(m) => format!("{} of {m}", p.current_uses), None => p.current_uses.to_string() } }</td>
                            <td>{ p.max_uses_per_customer.map_or("No limit".to_string(), |n| n.to_string()) }</td>
                            <td>{ status_word(p.status) }</td>
                            <td class="row-actions">
                                <button onclick={edit}>{ "Edit" }</button>
                                <button onclick={toggle}>{ if next == PromoStatus::Active { "Resume" } else { "Pause" } }</button>
                            </td>
                        </tr>
                    }
                }) }
        </KeyTable>
    }
}

#[derive(Properties, PartialEq)]
pub struct PromoFormProps {
    /// The code being edited; `None` for a new one.
    pub code: Option<PromotionalCode>,
    pub on_saved: Callback<()>,
    pub on_cancel: Callback<()>,
    /// An error to start with (tests).
    #[prop_or_default]
    pub error: Option<UiError>,
}

#[component]
pub fn PromoForm(props: &PromoFormProps) -> Html {
    let start = props.code.as_ref().map(PromoDraft::of).unwrap_or_else(PromoDraft::blank);
    let code = use_state(|| start.code.clone());
    let kind = use_state(|| start.kind.clone());
    let value = use_state(|| start.value.clone());
    let cur = use_state(|| start.currency.clone());
    let min_value = use_state(|| start.min_value.clone());
    let max_uses = use_state(|| start.max_uses.clone());
    let per_customer = use_state(|| start.per_customer.clone());
    let from = use_state(|| start.valid_from.clone());
    let until = use_state(|| start.valid_until.clone());
    let status = use_state(|| start.status.clone());
    let error = use_state(|| props.error.clone());
    let busy = use_state(|| false);
    let select = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |e: Event| s.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_submit = {
        let draft = PromoDraft {
            id: start.id.clone(),
            code: (*code).clone(),
            kind: (*kind).clone(),
            value: (*value).clone(),
            currency: (*cur).clone(),
            min_value: (*min_value).clone(),
            max_uses: (*max_uses).clone(),
            per_customer: (*per_customer).clone(),
            valid_from: (*from).clone(),
            valid_until: (*until).clone(),
            status: (*status).clone(),
        };
        let (keep, error, busy, on_saved) = (props.code.clone(), error.clone(), busy.clone(), props.on_saved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let args = match draft.to_args(keep.as_ref()) {
                Ok(a) => a,
                Err(e) => return error.set(Some(e)),
            };
            spawn_save(&busy, &error, &on_saved, async move { common::save_promo_code(&args).await.map(|_| ()) });
        })
    };
    let err = &*error;
    html! {
        <form class="panel promo-form" onsubmit={on_submit} aria-label="Promo code">
            <h2>{ if props.code.is_some() { "Edit promo code" } else { "New promo code" } }</h2>
            <label>{ "Code" }<input id="promo-code" value={(*code).clone()} oninput={bind(&code)} autofocus=true />{ field_error(err, "code") }</label>
            <fieldset class="row">
                <label>{ "Discount" }
                    <select id="promo-kind" onchange={select(&kind)}>
                        <option value="percentage" selected={*kind == "percentage"}>{ "Percentage" }</option>
                        <option value="fixed" selected={*kind == "fixed"}>{ "Amount" }</option>
                    </select>
                </label>
                <label>{ if *kind == "fixed" { "Amount off" } else { "Percent off" } }<input id="promo-value" value={(*value).clone()} oninput={bind(&value)} />{ field_error(err, "discount") }</label>
                <label>{ "Currency" }<input id="promo-currency" value={(*cur).clone()} oninput={bind(&cur)} placeholder="EUR" />{ field_error(err, "currency") }</label>
            </fieldset>
            <label>{ "Minimum booking (optional)" }<input id="promo-min" value={(*min_value).clone()} oninput={bind(&min_value)} />{ field_error(err, "min_booking_value") }</label>
            <fieldset class="row">
                <label>{ "Uses in all (optional)" }<input id="promo-max" inputmode="numeric" value={(*max_uses).clone()} oninput={bind(&max_uses)} />{ field_error(err, "max_uses") }</label>
                <label>{ "Uses per customer (optional)" }<input id="promo-per-customer" inputmode="numeric" value={(*per_customer).clone()} oninput={bind(&per_customer)} />{ field_error(err, "max_uses_per_customer") }</label>
            </fieldset>
            <fieldset class="row">
                <label>{ "Valid from" }<input id="promo-from" type="date" value={(*from).clone()} oninput={bind(&from)} />{ field_error(err, "valid_from") }</label>
                <label>{ "Valid until (not included)" }<input id="promo-until" type="date" value={(*until).clone()} oninput={bind(&until)} />{ field_error(err, "valid_until") }</label>
            </fieldset>
            <label>{ "Status" }
                <select id="promo-status" onchange={select(&status)}>
                    <option value="active" selected={*status == "active"}>{ "Active" }</option>
                    <option value="inactive" selected={*status == "inactive"}>{ "Paused" }</option>
                    <option value="expired" selected={*status == "expired"}>{ "Retired" }</option>
                </select>
                { field_error(err, "status") }
            </label>
            { form_error(err, &FIELDS) }
            <div class="actions">
                <button type="submit" class="primary" disabled={*busy}>{ "Save code" }</button>
                <button type="button" onclick={props.on_cancel.reform(|_: MouseEvent| ())}>{ "Cancel" }</button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use tourdesk_domain::money::{Currency, Money, Percent};

    use super::*;
    use crate::pages::test_support::render_page;
    use crate::router::Route;

    fn code() -> PromotionalCode {
        PromotionalCode {
            id: "p-1".into(),
            organization_id: "o".into(),
            code: "SPRING10".into(),
            discount: Adjustment::Percentage(Percent::whole(10)),
            min_booking_value: Some(Money::new(5000, Currency::parse("EUR").unwrap())),
            max_uses: Some(100),
            max_uses_per_customer: Some(1),
            valid_from: Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap(),
            valid_until: Utc.with_ymd_and_hms(2027, 6, 1, 0, 0, 0).unwrap(),
            applicable_tour_ids: vec!["t-1".into()],
            applicable_variant_ids: vec![],
            current_uses: 7,
            status: PromoStatus::Active,
        }
    }

    #[tokio::test]
    async fn the_page_starts_loading() {
        let html = render_page(Route::PromoCodes).await;
        assert!(html.contains("Promo codes") && html.contains("Loading promo codes"), "{html}");
    }

    #[tokio::test]
    async fn the_table_is_usable_from_the_keyboard() {
        #[component]
        fn T() -> Html {
            html! { <PromoTable codes={vec![code()]} on_edit={Callback::noop()} on_status={Callback::noop()} /> }
        }
        let html = yew::LocalServerRenderer::<T>::new().render().await;
        assert!(html.contains("SPRING10") && html.contains("7 of 100") && html.contains("Pause"), "{html}");
        assert!(html.contains("data-row") && html.contains("tabindex=\"0\""), "{html}");
        assert!(html.contains("on €50.00 or more"), "{html}");
    }

    #[tokio::test]
    async fn a_field_error_shows_beside_its_field() {
        #[component]
        fn F() -> Html {
            let error = Some(UiError::at_field("max_uses", "The code was already used 7 times"));
            html! { <PromoForm code={Some(code())} on_saved={Callback::noop()} on_cancel={Callback::noop()} error={error} /> }
        }
        let html = yew::LocalServerRenderer::<F>::new().render().await;
        assert!(html.contains("data-field=\"max_uses\""), "{html}");
        assert!(html.contains("already used 7 times") && !html.contains("form-error"), "{html}");
        assert!(html.contains("value=\"SPRING10\"") && html.contains("Edit promo code"), "{html}");
    }

    #[test]
    fn a_draft_reads_back_into_the_mutation_or_names_its_field() {
        let d = PromoDraft::of(&code());
        let args = d.to_args(Some(&code())).unwrap();
        assert_eq!(args.discount, code().discount);
        assert_eq!(args.min_booking_value, code().min_booking_value);
        assert_eq!((args.max_uses, args.valid_from), (Some(100), code().valid_from));
        assert_eq!(args.applicable_tour_ids, vec!["t-1".to_string()], "targeting is kept");
        let bad = PromoDraft { max_uses: "lots".into(), ..d.clone() };
        assert_eq!(bad.to_args(None).unwrap_err().field.as_deref(), Some("max_uses"));
        let bad = PromoDraft { kind: "fixed".into(), value: "5.00".into(), currency: "".into(), ..d };
        assert_eq!(bad.to_args(None).unwrap_err().field.as_deref(), Some("currency"));
    }
}

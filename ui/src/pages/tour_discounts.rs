//! The tour editor's automatic discounts and its choice of cancellation policy: group
//! discounts (bookings of at least N participants), early-bird discounts (bookings made at least
//! N days before the departure), and a picker over the organization's shared policies. Each
//! save is one domain mutation through its desk command; a refusal is shown at its field.

use serde::Serialize;
use tourdesk_domain::catalogue::{CancellationPolicyRow, EarlyBirdRule, GroupDiscountRule};
use tourdesk_domain::mutation::{UpsertEarlyBirdDiscountV1, UpsertGroupDiscountV1};
use tourdesk_domain::pricing::Adjustment;
use web_sys::HtmlSelectElement;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::pricing_common::{adjustment, adjustment_fields, adjustment_text, bind, field_error, form_error};
use super::taxes_policies::PolicySummary;
use crate::components::keyboard::on_row_keys;
use crate::error::UiError;
use crate::router::{Route, SettingsTab};
use crate::services::{CreateArgs, call};
use crate::state::{Action, use_app};

#[derive(Serialize)]
struct IdArg<'a> {
    id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PolicyChoiceArg<'a> {
    tour_id: &'a str,
    cancellation_policy_id: Option<&'a str>,
}

pub async fn save_group_discount(input: &UpsertGroupDiscountV1) -> Result<String, UiError> {
    call("save_group_discount", &CreateArgs { input }).await
}
pub async fn delete_group_discount(id: &str) -> Result<(), UiError> {
    call("delete_group_discount", &IdArg { id }).await
}
pub async fn save_early_bird_discount(input: &UpsertEarlyBirdDiscountV1) -> Result<String, UiError> {
    call("save_early_bird_discount", &CreateArgs { input }).await
}
pub async fn delete_early_bird_discount(id: &str) -> Result<(), UiError> {
    call("delete_early_bird_discount", &IdArg { id }).await
}
pub async fn set_tour_cancellation_policy(tour_id: &str, policy_id: Option<&str>) -> Result<(), UiError> {
    call("set_tour_cancellation_policy", &PolicyChoiceArg { tour_id, cancellation_policy_id: policy_id }).await
}

/// Which automatic discount a section edits: both are a threshold and a discount on one tour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoKind {
    Group,
    EarlyBird,
}

impl AutoKind {
    /// The threshold's field, as the domain names it in its errors.
    fn field(self) -> &'static str {
        match self {
            AutoKind::Group => "min_participants",
            AutoKind::EarlyBird => "min_days_before",
        }
    }

    /// The prefix of the section's element ids (`group-…`, `early-bird-…`).
    fn slug(self) -> &'static str {
        match self {
            AutoKind::Group => "group",
            AutoKind::EarlyBird => "early-bird",
        }
    }

    fn title(self) -> &'static str {
        match self {
            AutoKind::Group => "Group discounts",
            AutoKind::EarlyBird => "Early-bird discounts",
        }
    }

    fn what(self) -> &'static str {
        match self {
            AutoKind::Group => "Group discount",
            AutoKind::EarlyBird => "Early-bird discount",
        }
    }

    fn threshold_label(self) -> &'static str {
        match self {
            AutoKind::Group => "From how many participants",
            AutoKind::EarlyBird => "Booked at least this many days before",
        }
    }

    fn threshold_text(self, n: u32) -> String {
        match self {
            AutoKind::Group => format!("{n} or more participants"),
            AutoKind::EarlyBird if n == 1 => "Booked at least 1 day before".to_string(),
            AutoKind::EarlyBird => format!("Booked at least {n} days before"),
        }
    }

    fn empty(self) -> &'static str {
        match self {
            AutoKind::Group => "No group discounts: a group pays the same per person as anyone.",
            AutoKind::EarlyBird => "No early-bird discounts: booking early costs the same as booking late.",
        }
    }
}

/// One rule of either kind, as the section lists and edits it.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscountRow {
    pub id: String,
    pub threshold: u32,
    pub discount: Adjustment,
}

impl From<&GroupDiscountRule> for DiscountRow {
    fn from(g: &GroupDiscountRule) -> Self {
        DiscountRow { id: g.id.clone(), threshold: g.min_participants, discount: g.discount }
    }
}

impl From<&EarlyBirdRule> for DiscountRow {
    fn from(e: &EarlyBirdRule) -> Self {
        DiscountRow { id: e.id.clone(), threshold: e.min_days_before, discount: e.discount }
    }
}

async fn save_rule(kind: AutoKind, tour_id: String, rule: DiscountRow) -> Result<String, UiError> {
    match kind {
        AutoKind::Group => {
            save_group_discount(&UpsertGroupDiscountV1 {
                id: rule.id,
                tour_id,
                min_participants: rule.threshold,
                discount: rule.discount,
            })
            .await
        }
        AutoKind::EarlyBird => {
            save_early_bird_discount(&UpsertEarlyBirdDiscountV1 {
                id: rule.id,
                tour_id,
                min_days_before: rule.threshold,
                discount: rule.discount,
            })
            .await
        }
    }
}

async fn delete_rule(kind: AutoKind, id: String) -> Result<(), UiError> {
    match kind {
        AutoKind::Group => delete_group_discount(&id).await,
        AutoKind::EarlyBird => delete_early_bird_discount(&id).await,
    }
}

#[derive(Properties, PartialEq)]
pub struct DiscountsProps {
    pub tour_id: String,
    pub kind: AutoKind,
    pub rules: Vec<DiscountRow>,
    /// The tour's currency, offered for a fixed amount (blank when the tour has no prices yet).
    #[prop_or_default]
    pub currency: AttrValue,
}

/// A section of the tour editor: the tour's rules of one kind, smallest threshold first, with
/// a form to add or edit one and a button to remove one.
#[component]
pub fn AutoDiscounts(props: &DiscountsProps) -> Html {
    let app = use_app();
    // None: no form; Some(None): a new rule; Some(Some(r)): editing r.
    let form = use_state(|| None::<Option<DiscountRow>>);
    let kind = props.kind;
    let slug = kind.slug();
    let close = {
        let (form, app) = (form.clone(), app.clone());
        Callback::from(move |saved: bool| {
            form.set(None);
            if saved {
                app.dispatch(Action::Toast(format!("{} saved", kind.what())));
            }
        })
    };
    let open_new = {
        let form = form.clone();
        Callback::from(move |_: MouseEvent| form.set(Some(None)))
    };
    let title_id = format!("{slug}-discounts-title");
    html! {
        <section class={classes!("auto-discounts", format!("{slug}-discounts"))} aria-labelledby={title_id.clone()}>
            <h3 id={title_id}>{ kind.title() }</h3>
            <button type="button" id={format!("new-{slug}-discount")} onclick={open_new} disabled={form.is_some()}>
                { format!("New {}", kind.what().to_lowercase()) }
            </button>
            if let Some(rule) = &*form {
                <DiscountForm tour_id={props.tour_id.clone()} {kind} rule={rule.clone()} currency={props.currency.clone()} on_done={close} />
            }
            if props.rules.is_empty() {
                <p class="state empty muted">{ kind.empty() }</p>
            } else {
                <div class="table-scroll"><table id={format!("{slug}-discount-table")}>
                    <thead><tr><th>{ "Applies to" }</th><th>{ "Discount" }</th><th><span class="sr-only">{ "Actions" }</span></th></tr></thead>
                    <tbody onkeydown={Callback::from(on_row_keys)}>
                        { for props.rules.iter().map(|r| {
                            let edit = { let (f, r) = (form.clone(), r.clone()); Callback::from(move |_: MouseEvent| f.set(Some(Some(r.clone())))) };
                            let remove = {
                                let (app, id) = (app.clone(), r.id.clone());
                                Callback::from(move |_: MouseEvent| {
                                    let (app, id) = (app.clone(), id.clone());
                                    spawn_local(async move {
                                        match delete_rule(kind, id).await {
                                            Ok(()) => app.dispatch(Action::Toast(format!("{} removed", kind.what()))),
                                            Err(e) => app.dispatch(Action::Toast(e.message)),
                                        }
                                    });
                                })
                            };
                            let label = kind.threshold_text(r.threshold);
                            html! {
                                <tr data-row="" tabindex="0" data-id={r.id.clone()}>
                                    <td>{ label.clone() }</td>
                                    <td>{ adjustment_text(&r.discount) }</td>
                                    <td class="row-actions">
                                        <button type="button" aria-label={format!("Edit: {label}")} onclick={edit}>{ "Edit" }</button>
                                        <button type="button" aria-label={format!("Remove: {label}")} onclick={remove}>{ "Remove" }</button>
                                    </td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table></div>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct DiscountFormProps {
    pub tour_id: String,
    pub kind: AutoKind,
    pub rule: Option<DiscountRow>,
    #[prop_or_default]
    pub currency: AttrValue,
    pub on_done: Callback<bool>,
    #[prop_or_default]
    pub error: Option<UiError>,
}

/// Adds or edits one rule. What the desk can tell without asking (a threshold that is not a
/// number, a malformed amount) is said at its field at once; the domain's refusals (a group of
/// one, a threshold another rule has, more than 100 %) come back at their field too.
#[component]
pub fn DiscountForm(props: &DiscountFormProps) -> Html {
    let kind = props.kind;
    let slug = kind.slug();
    let field = kind.field();
    let rule = props.rule.clone();
    let (k, val, cur) = rule
        .as_ref()
        .map(|r| adjustment_fields(&r.discount))
        .unwrap_or_else(|| ("percentage".into(), String::new(), props.currency.to_string()));
    let threshold = use_state(|| rule.as_ref().map(|r| r.threshold.to_string()).unwrap_or_default());
    let adj_kind = use_state(|| k);
    let value = use_state(|| val);
    let currency = use_state(|| if cur.is_empty() { props.currency.to_string() } else { cur });
    let error = use_state(|| props.error.clone());
    let saving = use_state(|| false);
    let on_kind = {
        let adj_kind = adj_kind.clone();
        Callback::from(move |e: Event| adj_kind.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_submit = {
        let typed = ((*threshold).clone(), (*adj_kind).clone(), (*value).clone(), (*currency).clone());
        let (error, saving, on_done, tour_id) =
            (error.clone(), saving.clone(), props.on_done.clone(), props.tour_id.clone());
        let id = rule.as_ref().map(|r| r.id.clone()).unwrap_or_default();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *saving {
                return;
            }
            let (threshold, adj_kind, value, currency) = typed.clone();
            let parsed = (|| -> Result<DiscountRow, UiError> {
                let threshold =
                    threshold.trim().parse().map_err(|_| UiError::at_field(field, "Type a whole number"))?;
                let discount = adjustment("discount", &adj_kind, &value, &currency)?;
                Ok(DiscountRow { id: id.clone(), threshold, discount })
            })();
            let rule = match parsed {
                Ok(r) => r,
                Err(e) => return error.set(Some(e)),
            };
            let (error, saving, on_done, tour_id) = (error.clone(), saving.clone(), on_done.clone(), tour_id.clone());
            saving.set(true);
            spawn_local(async move {
                let result = save_rule(kind, tour_id, rule).await;
                saving.set(false);
                match result {
                    Ok(_) => on_done.emit(true),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let on_cancel = props.on_done.reform(|_: MouseEvent| false);
    let on_keys = {
        let on_done = props.on_done.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                on_done.emit(false);
            }
        })
    };
    let err = &*error;
    let title = if rule.is_some() {
        format!("Edit {}", kind.what().to_lowercase())
    } else {
        format!("New {}", kind.what().to_lowercase())
    };
    html! {
        <form class={classes!("panel", "discount-form", format!("{slug}-form"))} onsubmit={on_submit} onkeydown={on_keys} aria-label={title}>
            <fieldset class="row">
                <label>{ kind.threshold_label() }
                    <input id={format!("{slug}-threshold")} inputmode="numeric" autofocus=true value={(*threshold).clone()} oninput={bind(&threshold)}
                        aria-invalid={err.as_ref().is_some_and(|e| e.is_field(field)).to_string()} />
                    { field_error(err, field) }
                </label>
                <label>{ "Discount" }
                    <select id={format!("{slug}-kind")} onchange={on_kind}>
                        <option value="percentage" selected={*adj_kind == "percentage"}>{ "Percentage" }</option>
                        <option value="fixed" selected={*adj_kind == "fixed"}>{ "Amount off the booking" }</option>
                    </select>
                </label>
                <label>{ if *adj_kind == "fixed" { "Amount" } else { "Percent off" } }
                    <input id={format!("{slug}-value")} inputmode="decimal" value={(*value).clone()} oninput={bind(&value)}
                        aria-invalid={err.as_ref().is_some_and(|e| e.is_field("discount")).to_string()} />
                    { field_error(err, "discount") }
                </label>
                if *adj_kind == "fixed" {
                    <label>{ "Currency" }<input id={format!("{slug}-currency")} value={(*currency).clone()} oninput={bind(&currency)} />{ field_error(err, "currency") }</label>
                }
            </fieldset>
            { form_error(err, &[field, "discount", "currency"]) }
            <div class="actions">
                <button type="submit" class="primary" disabled={*saving}>{ if *saving { "Saving…" } else { "Save discount" } }</button>
                <button type="button" onclick={on_cancel}>{ "Cancel" }</button>
            </div>
        </form>
    }
}

#[derive(Properties, PartialEq)]
pub struct PolicyChoiceProps {
    pub tour_id: String,
    pub shared: Vec<CancellationPolicyRow>,
    pub chosen: Option<String>,
    pub own: Option<CancellationPolicyRow>,
    pub default: Option<CancellationPolicyRow>,
    #[prop_or_default]
    pub error: Option<UiError>,
}

/// Which of the organization's shared policies the tour's bookings are cancelled under, or
/// none (the tour's own policy, else the organization's default). Saved as soon as it changes.
#[component]
pub fn PolicyChoice(props: &PolicyChoiceProps) -> Html {
    let app = use_app();
    let error = use_state(|| props.error.clone());
    let saving = use_state(|| false);
    // A choice that is the tour's own policy (saving it links it) reads as "no shared policy".
    let chosen = props.chosen.clone().filter(|c| props.shared.iter().any(|p| &p.id == c));
    let fallback = match (&props.own, &props.default) {
        (Some(_), _) => "This tour's own policy".to_string(),
        (None, Some(d)) => format!("The organization's default ({})", d.name),
        (None, None) => "No policy (nothing back on cancelling)".to_string(),
    };
    let on_change = {
        let (error, saving, app, tour_id) = (error.clone(), saving.clone(), app.clone(), props.tour_id.clone());
        Callback::from(move |e: Event| {
            let picked = e.target_unchecked_into::<HtmlSelectElement>().value();
            let (error, saving, app, tour_id) = (error.clone(), saving.clone(), app.clone(), tour_id.clone());
            saving.set(true);
            spawn_local(async move {
                let id = (!picked.is_empty()).then_some(picked);
                let result = set_tour_cancellation_policy(&tour_id, id.as_deref()).await;
                saving.set(false);
                match result {
                    Ok(()) => {
                        error.set(None);
                        app.dispatch(Action::Toast("Cancellation policy chosen".into()));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let err = &*error;
    // The policy in force, as `catalogue::policy_for_tour` picks it: the shared choice, else
    // the tour's own, else the organization's default.
    let shared_pick = chosen.as_ref().and_then(|c| props.shared.iter().find(|p| &p.id == c));
    let (in_force, in_force_text) = match (shared_pick, &props.own, &props.default) {
        (Some(p), _, _) => (Some(p), "This tour uses the shared policy:"),
        (None, Some(p), _) => (Some(p), "This tour uses its own policy:"),
        (None, None, Some(p)) => (Some(p), "This tour uses the organization's default:"),
        (None, None, None) => (None, "No policy: customers who cancel get nothing back."),
    };
    html! {
        <div class="policy-choice">
            if props.shared.is_empty() {
                <p class="state empty muted" id="no-shared-policies">
                    { "The organization has no shared policies to choose from yet. " }
                    <a href={Route::Settings(SettingsTab::TaxesPolicies).to_hash()}>{ "Make one in Settings → Taxes and policies" }</a>
                </p>
            } else {
                <label>{ "Bookings of this tour are cancelled under" }
                    <select id="tour-policy-choice" onchange={on_change} disabled={*saving}
                        aria-invalid={err.as_ref().is_some_and(|e| e.is_field("cancellation_policy_id")).to_string()}>
                        <option value="" selected={chosen.is_none()}>{ fallback }</option>
                        { for props.shared.iter().map(|p| {
                            let name = if p.is_default { format!("{} (the default)", p.name) } else { p.name.clone() };
                            html! { <option value={p.id.clone()} selected={chosen.as_deref() == Some(p.id.as_str())}>{ name }</option> }
                        }) }
                    </select>
                    if *saving { <span class="muted" aria-live="polite">{ " Saving…" }</span> }
                    { field_error(err, "cancellation_policy_id") }
                </label>
                { form_error(err, &["cancellation_policy_id"]) }
            }
            if chosen.is_some() && props.own.is_some() {
                <p class="muted">{ "The shared policy is used instead of this tour's own policy." }</p>
            }
            <p class="muted" id="policy-in-force">{ in_force_text }</p>
            if let Some(p) = in_force { <PolicySummary policy={p.clone()} /> }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use tourdesk_domain::money::{Currency, Money, Percent};

    use super::*;

    fn policy(id: &str, name: &str, default: bool) -> CancellationPolicyRow {
        CancellationPolicyRow {
            id: id.into(),
            organization_id: "o".into(),
            tour_id: None,
            name: name.into(),
            description: String::new(),
            rules: vec![],
            is_default: default,
        }
    }

    #[tokio::test]
    async fn rules_are_listed_in_words_and_reachable_by_keyboard() {
        #[component]
        fn V() -> Html {
            let rules = vec![
                DiscountRow { id: "g".into(), threshold: 8, discount: Adjustment::Percentage(Percent::whole(10)) },
                DiscountRow {
                    id: "h".into(),
                    threshold: 20,
                    discount: Adjustment::Fixed(Money::new(2500, Currency::EUR)),
                },
            ];
            html! { <AutoDiscounts tour_id="t" kind={AutoKind::Group} rules={rules} /> }
        }
        let html = yew::LocalServerRenderer::<V>::new().render().await;
        assert!(html.contains("Group discounts") && html.contains("8 or more participants"), "{html}");
        assert!(html.contains("10%") && html.contains("20 or more participants"), "{html}");
        assert!(html.contains("data-row") && html.contains("tabindex=\"0\""), "{html}");
        assert!(html.contains("aria-label=\"Remove: 8 or more participants\""), "{html}");
    }

    #[tokio::test]
    async fn no_rules_says_what_that_means() {
        #[component]
        fn V() -> Html {
            html! { <AutoDiscounts tour_id="t" kind={AutoKind::EarlyBird} rules={vec![]} /> }
        }
        let html = yew::LocalServerRenderer::<V>::new().render().await;
        assert!(html.contains("Early-bird discounts") && html.contains("booking early costs the same"), "{html}");
        assert!(!html.contains("<table"), "{html}");
    }

    #[tokio::test]
    async fn a_refused_threshold_shows_beside_its_field() {
        #[component]
        fn F() -> Html {
            let error = Some(UiError::at_field("min_days_before", "must be between 1 and 730"));
            html! { <DiscountForm tour_id="t" kind={AutoKind::EarlyBird} rule={None} currency="EUR" on_done={Callback::noop()} error={error} /> }
        }
        let html = yew::LocalServerRenderer::<F>::new().render().await;
        assert!(html.contains("data-field=\"min_days_before\"") && !html.contains("form-error"), "{html}");
        assert!(html.contains("Booked at least this many days before"), "{html}");
    }

    #[tokio::test]
    async fn the_policy_picker_offers_the_shared_policies_and_marks_the_chosen_one() {
        #[component]
        fn P() -> Html {
            let shared = vec![policy("a", "Flexible", true), policy("b", "Strict", false)];
            html! { <PolicyChoice tour_id="t" shared={shared.clone()} chosen={Some("b".to_string())} own={None} default={shared.first().cloned()} /> }
        }
        let html = yew::LocalServerRenderer::<P>::new().render().await;
        assert!(html.contains("id=\"tour-policy-choice\"") && html.contains("Flexible (the default)"), "{html}");
        assert!(html.contains("value=\"b\" selected"), "{html}");
        assert!(
            html.contains("The organization&#x27;s default (Flexible)")
                || html.contains("The organization's default (Flexible)"),
            "{html}"
        );
    }

    #[tokio::test]
    async fn no_shared_policies_points_to_where_they_are_made() {
        #[component]
        fn P() -> Html {
            html! { <PolicyChoice tour_id="t" shared={vec![]} chosen={None} own={None} default={None} /> }
        }
        let html = yew::LocalServerRenderer::<P>::new().render().await;
        assert!(html.contains("no-shared-policies") && html.contains("#/settings/"), "{html}");
    }
}

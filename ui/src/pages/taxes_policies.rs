//! Settings › Taxes & policies: the organization's tax rates and its default cancellation
//! policy (editable refund tiers). Both are replicated rows, so the tab works offline; owners
//! and admins may change them (the domain refuses others, in words, beside the form).

use tourdesk_domain::cancellation::CancellationRule;
use tourdesk_domain::catalogue::{CancellationPolicyRow, TaxRate};
use tourdesk_domain::mutation::{UpsertCancellationPolicyV1, UpsertTaxRateV1};
use tourdesk_domain::protocol::EntityKind;
use web_sys::HtmlInputElement;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::pricing_common::{self as common, bind, field_error, form_error, percent};
use crate::components::keyboard::KeyTable;
use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::error::UiError;
use crate::hooks::{Depends, Load, use_invoke};
use crate::state::{Action, use_app};

const TAX_KINDS: Depends = Depends::on(&[EntityKind::TaxRate]);
const POLICY_KINDS: Depends = Depends::on(&[EntityKind::CancellationPolicy]);

#[component]
pub fn TaxesPoliciesTab() -> Html {
    html! {
        <div class="taxes-policies">
            <TaxRatesSection />
            <DefaultPolicySection />
        </div>
    }
}

#[component]
fn TaxRatesSection() -> Html {
    let app = use_app();
    let retry = use_state(|| 0u32);
    let taxes = use_invoke(TAX_KINDS, *retry, |_| common::list_tax_rates());
    let editing = use_state(|| None::<Option<TaxRate>>);
    let on_new = {
        let editing = editing.clone();
        Callback::from(move |_: MouseEvent| editing.set(Some(None)))
    };
    let on_edit = {
        let editing = editing.clone();
        Callback::from(move |t: TaxRate| editing.set(Some(Some(t))))
    };
    let done = {
        let (app, editing) = (app.clone(), editing.clone());
        Callback::from(move |saved: bool| {
            editing.set(None);
            if saved {
                app.dispatch(Action::Toast("Tax rate saved".into()));
            }
        })
    };
    let body = match &taxes {
        Load::Loading => html! { <Loading what="tax rates" /> },
        Load::Failed(e) => {
            let retry = retry.clone();
            html! { <ErrorNote error={e.clone()} on_retry={Some(Callback::from(move |()| retry.set(*retry + 1)))} /> }
        }
        Load::Ready(list) if list.is_empty() => html! {
            <EmptyState title="No tax rates" hint="Prices are charged as they are. Add VAT or a city tax to have quotes show and add it." />
        },
        Load::Ready(list) => html! { <TaxTable taxes={list.clone()} on_edit={on_edit} /> },
    };
    html! {
        <section class="settings-section" aria-labelledby="taxes-title">
            <h2 id="taxes-title">{ "Tax rates" }</h2>
            <div class="toolbar"><button onclick={on_new}>{ "New tax rate" }</button></div>
            if let Some(t) = &*editing { <TaxForm tax={t.clone()} on_done={done} /> }
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct TaxTableProps {
    pub taxes: Vec<TaxRate>,
    pub on_edit: Callback<TaxRate>,
}

#[component]
pub fn TaxTable(props: &TaxTableProps) -> Html {
    html! {
        <KeyTable id="tax-table" head={html! { <tr><th>{ "Name" }</th><th>{ "Rate" }</th><th>{ "In prices" }</th><th>{ "Applies to" }</th><th>{ "Status" }</th><th><span class="sr-only">{ "Actions" }</span></th></tr> }}>
                { for props.taxes.iter().map(|t| {
                    let edit = { let (cb, t) = (props.on_edit.clone(), t.clone()); Callback::from(move |_: MouseEvent| cb.emit(t.clone())) };
                    html! {
                        <tr class="tax-row" data-id={t.id.clone()} data-row="" tabindex="0">
                            <td>{ t.name.clone() }</td>
                            <td>{ t.rate.to_string() }</td>
                            <td>{ if t.inclusive { "Included" } else { "Added on top" } }</td>
                            <td>{ if t.tour_id.is_some() { "One tour" } else { "Every tour" } }</td>
                            <td>{ if t.active { "In use" } else { "Not in use" } }</td>
                            <td class="row-actions"><button onclick={edit}>{ "Edit" }</button></td>
                        </tr>
                    }
                }) }
        </KeyTable>
    }
}

#[derive(Properties, PartialEq)]
pub struct TaxFormProps {
    pub tax: Option<TaxRate>,
    /// `true` when saved, `false` when cancelled.
    pub on_done: Callback<bool>,
    #[prop_or_default]
    pub error: Option<UiError>,
}

fn checked(e: &Event) -> bool {
    e.target_unchecked_into::<HtmlInputElement>().checked()
}

#[component]
pub fn TaxForm(props: &TaxFormProps) -> Html {
    let t = props.tax.clone();
    let name = use_state(|| t.as_ref().map(|t| t.name.clone()).unwrap_or_default());
    let rate =
        use_state(|| t.as_ref().map(|t| t.rate.to_string().trim_end_matches('%').to_string()).unwrap_or_default());
    let inclusive = use_state(|| t.as_ref().is_some_and(|t| t.inclusive));
    let active = use_state(|| t.as_ref().is_none_or(|t| t.active));
    let error = use_state(|| props.error.clone());
    let toggle = |s: &UseStateHandle<bool>| {
        let s = s.clone();
        Callback::from(move |e: Event| s.set(checked(&e)))
    };
    let on_submit = {
        let (name, rate, inclusive, active, error, on_done) =
            ((*name).clone(), (*rate).clone(), *inclusive, *active, error.clone(), props.on_done.clone());
        let keep = t.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let rate = match percent("rate", &rate) {
                Ok(r) => r,
                Err(e) => return error.set(Some(e)),
            };
            let args = UpsertTaxRateV1 {
                id: keep.as_ref().map(|t| t.id.clone()).unwrap_or_default(),
                tour_id: keep.as_ref().and_then(|t| t.tour_id.clone()),
                name: name.clone(),
                rate,
                inclusive,
                active,
                sort_order: keep.as_ref().map_or(0, |t| t.sort_order),
            };
            let (error, on_done) = (error.clone(), on_done.clone());
            spawn_local(async move {
                match common::save_tax_rate(&args).await {
                    Ok(_) => on_done.emit(true),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let err = &*error;
    html! {
        <form class="panel tax-form" onsubmit={on_submit} aria-label="Tax rate">
            <label>{ "Name" }<input id="tax-name" value={(*name).clone()} oninput={bind(&name)} autofocus=true />{ field_error(err, "name") }</label>
            <label>{ "Rate (%)" }<input id="tax-rate" value={(*rate).clone()} oninput={bind(&rate)} inputmode="decimal" />{ field_error(err, "rate") }</label>
            <label class="check"><input type="checkbox" id="tax-inclusive" checked={*inclusive} onchange={toggle(&inclusive)} />{ "Already included in prices (as VAT usually is)" }</label>
            <label class="check"><input type="checkbox" id="tax-active" checked={*active} onchange={toggle(&active)} />{ "In use" }</label>
            { form_error(err, &["name", "rate"]) }
            <div class="actions">
                <button type="submit" class="primary">{ "Save tax rate" }</button>
                <button type="button" onclick={props.on_done.reform(|_: MouseEvent| false)}>{ "Cancel" }</button>
            </div>
        </form>
    }
}

#[component]
fn DefaultPolicySection() -> Html {
    let app = use_app();
    let retry = use_state(|| 0u32);
    let policies = use_invoke(POLICY_KINDS, *retry, |_| common::list_cancellation_policies());
    let editing = use_state(|| false);
    let done = {
        let (app, editing) = (app.clone(), editing.clone());
        Callback::from(move |saved: bool| {
            editing.set(false);
            if saved {
                app.dispatch(Action::Toast("Cancellation policy saved".into()));
            }
        })
    };
    let open = {
        let editing = editing.clone();
        Callback::from(move |_: MouseEvent| editing.set(true))
    };
    let body = match &policies {
        Load::Loading => html! { <Loading what="cancellation policies" /> },
        Load::Failed(e) => {
            let retry = retry.clone();
            html! { <ErrorNote error={e.clone()} on_retry={Some(Callback::from(move |()| retry.set(*retry + 1)))} /> }
        }
        Load::Ready(list) => {
            let default = list.iter().find(|p| p.is_default).cloned();
            if *editing {
                html! { <PolicyForm policy={default} tour_id={None::<String>} on_done={done} /> }
            } else {
                match default {
                    Some(p) => {
                        html! { <><PolicySummary policy={p} /><button onclick={open}>{ "Edit default policy" }</button></> }
                    }
                    None => html! {
                        <EmptyState title="No default cancellation policy" hint="Without one, customers who cancel get nothing back unless their tour has its own policy.">
                            <button class="primary" onclick={open}>{ "Set a default policy" }</button>
                        </EmptyState>
                    },
                }
            }
        }
    };
    html! {
        <section class="settings-section" aria-labelledby="policy-title">
            <h2 id="policy-title">{ "Default cancellation policy" }</h2>
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct PolicySummaryProps {
    pub policy: CancellationPolicyRow,
}

/// A policy in words: one line per refund tier, longest notice first.
#[component]
pub fn PolicySummary(props: &PolicySummaryProps) -> Html {
    let p = &props.policy;
    html! {
        <div class="policy-summary">
            <p><strong>{ p.name.clone() }</strong>
                if !p.description.is_empty() { <span class="muted">{ format!(" — {}", p.description) }</span> }
            </p>
            if p.rules.is_empty() {
                <p class="muted">{ "No refund whenever a customer cancels." }</p>
            } else {
                <ul>{ for p.rules.iter().map(|r| html! {
                    <li>{ format!("{}% back when cancelled at least {} hours before", r.refund_percentage, r.hours_before_tour) }</li>
                }) }</ul>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct PolicyFormProps {
    pub policy: Option<CancellationPolicyRow>,
    /// A tour's own policy; `None` for the organization's default.
    pub tour_id: Option<String>,
    pub on_done: Callback<bool>,
    #[prop_or_default]
    pub error: Option<UiError>,
}

/// Refund tiers as typed: hours and percent per row.
fn read_rules(rows: &[(String, String)]) -> Result<Vec<CancellationRule>, UiError> {
    rows.iter()
        .enumerate()
        .map(|(i, (h, p))| {
            let hours = h.trim().parse::<u32>().map_err(|_| {
                UiError::at_field(&format!("rules[{i}].hours_before_tour"), "Type a whole number of hours")
            })?;
            let pct = p.trim().trim_end_matches('%').parse::<u8>().map_err(|_| {
                UiError::at_field(&format!("rules[{i}].refund_percentage"), "Type a whole percentage, 0 to 100")
            })?;
            Ok(CancellationRule { hours_before_tour: hours, refund_percentage: pct })
        })
        .collect()
}

/// Name, description and refund tiers (add and remove rows). Saves the tour's own policy when
/// `tour_id` is given, else the organization's default.
#[component]
pub fn PolicyForm(props: &PolicyFormProps) -> Html {
    let p = props.policy.clone();
    let name = use_state(|| p.as_ref().map(|p| p.name.clone()).unwrap_or_default());
    let description = use_state(|| p.as_ref().map(|p| p.description.clone()).unwrap_or_default());
    let rows = use_state(|| {
        p.as_ref()
            .map(|p| {
                p.rules.iter().map(|r| (r.hours_before_tour.to_string(), r.refund_percentage.to_string())).collect()
            })
            .unwrap_or_else(|| vec![("48".to_string(), "100".to_string())])
    });
    let error = use_state(|| props.error.clone());
    let set_cell = |i: usize, hours: bool| {
        let rows = rows.clone();
        Callback::from(move |e: InputEvent| {
            let mut next: Vec<(String, String)> = (*rows).clone();
            if let Some(r) = next.get_mut(i) {
                let v = common::input_value(&e);
                if hours { r.0 = v } else { r.1 = v }
            }
            rows.set(next);
        })
    };
    let add = {
        let rows = rows.clone();
        Callback::from(move |_: MouseEvent| {
            let mut next = (*rows).clone();
            next.push((String::new(), String::new()));
            rows.set(next);
        })
    };
    let on_submit = {
        let (name, description, typed, error, on_done, tour_id) = (
            (*name).clone(),
            (*description).clone(),
            (*rows).clone(),
            error.clone(),
            props.on_done.clone(),
            props.tour_id.clone(),
        );
        let id = p.as_ref().map(|p| p.id.clone()).unwrap_or_default();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let rules = match read_rules(&typed) {
                Ok(r) => r,
                Err(e) => return error.set(Some(e)),
            };
            let args = UpsertCancellationPolicyV1 {
                id: id.clone(),
                is_default: tour_id.is_none(),
                tour_id: tour_id.clone(),
                name: name.clone(),
                description: description.clone(),
                rules,
            };
            let (error, on_done) = (error.clone(), on_done.clone());
            spawn_local(async move {
                match common::save_cancellation_policy(&args).await {
                    Ok(_) => on_done.emit(true),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let err = &*error;
    html! {
        <form class="panel policy-form" onsubmit={on_submit} aria-label="Cancellation policy">
            <label>{ "Name" }<input id="policy-name" value={(*name).clone()} oninput={bind(&name)} />{ field_error(err, "name") }</label>
            <label>{ "Description" }<input id="policy-description" value={(*description).clone()} oninput={bind(&description)} />{ field_error(err, "description") }</label>
            <table class="rules">
                <thead><tr><th>{ "Cancelled at least (hours before)" }</th><th>{ "Refund (%)" }</th><th><span class="sr-only">{ "Remove" }</span></th></tr></thead>
                <tbody>
                    { for rows.iter().enumerate().map(|(i, (h, pct))| {
                        let remove = { let rows = rows.clone(); Callback::from(move |_: MouseEvent| { let mut n = (*rows).clone(); n.remove(i); rows.set(n); }) };
                        html! {
                            <tr>
                                <td><input aria-label={format!("Tier {} hours", i + 1)} inputmode="numeric" value={h.clone()} oninput={set_cell(i, true)} />{ field_error(err, &format!("rules[{i}].hours_before_tour")) }</td>
                                <td><input aria-label={format!("Tier {} refund", i + 1)} inputmode="numeric" value={pct.clone()} oninput={set_cell(i, false)} />{ field_error(err, &format!("rules[{i}].refund_percentage")) }</td>
                                <td><button type="button" onclick={remove}>{ "Remove" }</button></td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
            { field_error(err, "rules") }
            <button type="button" onclick={add}>{ "Add a refund tier" }</button>
            { form_error(err, &["name", "description", "rules", "is_default", "tour_id"]) }
            { field_error(err, "is_default") }
            <div class="actions">
                <button type="submit" class="primary">{ "Save policy" }</button>
                <button type="button" onclick={props.on_done.reform(|_: MouseEvent| false)}>{ "Cancel" }</button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::test_support::render_page;
    use crate::router::{Route, SettingsTab};

    fn policy() -> CancellationPolicyRow {
        tourdesk_domain::fixtures::policy_row()
    }

    #[tokio::test]
    async fn the_tab_is_in_settings_and_starts_loading() {
        let html = render_page(Route::Settings(SettingsTab::TaxesPolicies)).await;
        assert!(html.contains("Taxes &amp; policies"), "the tab is listed: {html}");
        assert!(html.contains("Loading tax rates") && html.contains("Loading cancellation policies"), "{html}");
        assert_eq!(Route::parse("#/settings/taxes-policies"), Route::Settings(SettingsTab::TaxesPolicies));
    }

    #[tokio::test]
    async fn tax_rows_are_keyboard_rows_and_a_policy_reads_as_words() {
        #[component]
        fn T() -> Html {
            let tax = TaxRate { id: "t".into(), ..tourdesk_domain::fixtures::tax_rate() };
            html! { <><TaxTable taxes={vec![tax]} on_edit={Callback::noop()} /><PolicySummary policy={policy()} /></> }
        }
        let html = yew::LocalServerRenderer::<T>::new().render().await;
        assert!(html.contains("VAT") && html.contains("23%") && html.contains("Included"), "{html}");
        assert!(html.contains("data-row") && html.contains("tabindex=\"0\""), "{html}");
        assert!(html.contains("50% back when cancelled at least 48 hours before"), "{html}");
    }

    #[tokio::test]
    async fn a_refund_tiers_error_shows_beside_its_cell() {
        #[component]
        fn F() -> Html {
            let error = Some(UiError::at_field("rules[1].refund_percentage", "Must be between 0 and 100"));
            html! { <PolicyForm policy={Some(policy())} tour_id={None::<String>} on_done={Callback::noop()} error={error} /> }
        }
        let html = yew::LocalServerRenderer::<F>::new().render().await;
        assert!(html.contains("data-field=\"rules[1].refund_percentage\""), "{html}");
        assert!(!html.contains("form-error"), "{html}");
        #[component]
        fn G() -> Html {
            let error = Some(UiError::at_field("rate", "Must be between 0% and 100%"));
            html! { <TaxForm tax={None::<TaxRate>} on_done={Callback::noop()} error={error} /> }
        }
        let html = yew::LocalServerRenderer::<G>::new().render().await;
        assert!(html.contains("data-field=\"rate\"") && html.contains("between 0% and 100%"), "{html}");
    }

    #[test]
    fn typed_tiers_name_the_bad_cell() {
        let rows = vec![("48".to_string(), "100".to_string()), ("x".to_string(), "50".to_string())];
        assert_eq!(read_rules(&rows).unwrap_err().field.as_deref(), Some("rules[1].hours_before_tour"));
        assert_eq!(read_rules(&rows[..1]).unwrap()[0].refund_percentage, 100);
    }
}

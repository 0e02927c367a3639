//! A tour's pricing catalogue, shown with the tour: its seasons (date ranges that raise or
//! lower prices), FAQs, what is and is not included, and its own cancellation policy (or the
//! organization's default it falls back to). One component, [`TourPricing`], for the tour page.

use chrono::NaiveDate;
use tourdesk_domain::catalogue::{InclusionKind, Season, TourPricingView};
use tourdesk_domain::mutation::{UpsertSeasonV1, UpsertTourFaqV1, UpsertTourInclusionV1};
use tourdesk_domain::protocol::EntityKind;
use web_sys::HtmlSelectElement;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::pricing_common::{
    self as common, adjustment, adjustment_fields, adjustment_text, bind, field_error, form_error,
};
use super::taxes_policies::PolicyForm;
use super::tour_discounts::{AutoKind, DiscountRow, PolicyChoice};
use crate::components::keyboard::on_row_keys;
use crate::components::states::{ErrorNote, Loading};
use crate::error::UiError;
use crate::hooks::{Depends, Load, use_invoke};
use crate::state::{Action, use_app};

const KINDS: Depends = Depends::on(&[
    EntityKind::Season,
    EntityKind::TourFaq,
    EntityKind::TourInclusion,
    EntityKind::CancellationPolicy,
    EntityKind::TaxRate,
    EntityKind::GroupDiscount,
    EntityKind::EarlyBirdDiscount,
    // The tour's choice of a shared cancellation policy is stored on the tour.
    EntityKind::Tour,
]);

#[derive(Properties, PartialEq)]
pub struct TourPricingProps {
    pub tour_id: String,
    /// The tour's currency, offered when a discount is a fixed amount.
    #[prop_or_default]
    pub currency: AttrValue,
}

/// Runs a delete and says how it went.
/// A save of a new order, started by a move button.
type Saving = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), UiError>>>>;

/// The "Move up" / "Move down" buttons of one line of an ordered list: plain buttons, so Tab
/// reaches them and Enter or Space presses them; the first line has no "up", the last no "down".
fn move_buttons(
    app: &crate::state::AppContext,
    what: &'static str,
    label: &str,
    ids: &[String],
    at: usize,
    save: fn(String, Vec<String>) -> Saving,
    tour_id: &str,
) -> Html {
    let button = |up: bool| {
        let order = common::moved(ids, at, up);
        let disabled = order.is_none();
        let (app, tour_id) = (app.clone(), tour_id.to_string());
        let onclick = Callback::from(move |_: MouseEvent| {
            let Some(order) = order.clone() else { return };
            let (app, tour_id) = (app.clone(), tour_id.clone());
            spawn_local(async move {
                match save(tour_id, order).await {
                    Ok(()) => app.dispatch(Action::Toast(format!("{what} moved"))),
                    Err(e) => app.dispatch(Action::Toast(e.message)),
                }
            });
        });
        let (text, aria) =
            if up { ("Move up", format!("Move up: {label}")) } else { ("Move down", format!("Move down: {label}")) };
        html! { <button type="button" class="move" aria-label={aria} {disabled} {onclick}>{ text }</button> }
    };
    html! { <span class="move-buttons">{ button(true) }{ button(false) }</span> }
}

fn save_faq_order(tour_id: String, ids: Vec<String>) -> Saving {
    Box::pin(async move { common::reorder_tour_faqs(&tour_id, &ids).await })
}

fn save_inclusion_order(tour_id: String, ids: Vec<String>) -> Saving {
    Box::pin(async move { common::reorder_tour_inclusions(&tour_id, &ids).await })
}

fn delete(
    app: &crate::state::AppContext,
    what: &'static str,
    f: impl std::future::Future<Output = Result<(), UiError>> + 'static,
) {
    let app = app.clone();
    spawn_local(async move {
        match f.await {
            Ok(()) => app.dispatch(Action::Toast(format!("{what} removed"))),
            Err(e) => app.dispatch(Action::Toast(e.message)),
        }
    });
}

#[component]
pub fn TourPricing(props: &TourPricingProps) -> Html {
    let retry = use_state(|| 0u32);
    let view = use_invoke(KINDS, (props.tour_id.clone(), *retry), |(id, _)| common::tour_pricing(id));
    match view {
        Load::Loading => html! { <Loading what="the tour's pricing" /> },
        Load::Failed(e) => {
            let retry = retry.clone();
            html! { <ErrorNote error={e} on_retry={Some(Callback::from(move |()| retry.set(*retry + 1)))} /> }
        }
        Load::Ready(v) => {
            html! { <TourPricingView_ tour_id={props.tour_id.clone()} view={v} currency={props.currency.clone()} /> }
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct ViewProps {
    pub tour_id: String,
    pub view: TourPricingView,
    #[prop_or_default]
    pub currency: AttrValue,
}

#[allow(non_camel_case_types)]
#[component]
pub fn TourPricingView_(props: &ViewProps) -> Html {
    let app = use_app();
    let season_form = use_state(|| None::<Option<Season>>);
    let policy_form = use_state(|| false);
    let v = &props.view;
    let tour_id = props.tour_id.clone();
    let faq_ids: Vec<String> = v.faqs.iter().map(|f| f.id.clone()).collect();
    let inclusion_ids: Vec<String> = v.inclusions.iter().map(|i| i.id.clone()).collect();
    let close_season = {
        let (s, app) = (season_form.clone(), app.clone());
        Callback::from(move |saved: bool| {
            s.set(None);
            if saved {
                app.dispatch(Action::Toast("Season saved".into()));
            }
        })
    };
    let close_policy = {
        let (p, app) = (policy_form.clone(), app.clone());
        Callback::from(move |saved: bool| {
            p.set(false);
            if saved {
                app.dispatch(Action::Toast("Cancellation policy saved".into()));
            }
        })
    };
    let new_season = {
        let s = season_form.clone();
        Callback::from(move |_: MouseEvent| s.set(Some(None)))
    };
    let edit_policy = {
        let p = policy_form.clone();
        Callback::from(move |_: MouseEvent| p.set(true))
    };
    html! {
        <div class="tour-pricing">
            <section aria-labelledby="seasons-title">
                <h3 id="seasons-title">{ "Seasons" }</h3>
                <button type="button" id="new-season" onclick={new_season}>{ "New season" }</button>
                if let Some(s) = &*season_form { <SeasonForm tour_id={tour_id.clone()} season={s.clone()} on_done={close_season} /> }
                if v.seasons.is_empty() {
                    <p class="state empty muted">{ "No seasons: every date sells at the tier prices." }</p>
                } else {
                    <div class="table-scroll"><table id="season-table">
                        <thead><tr><th>{ "Season" }</th><th>{ "Dates" }</th><th>{ "Change" }</th><th>{ "Priority" }</th><th><span class="sr-only">{ "Actions" }</span></th></tr></thead>
                        <tbody onkeydown={Callback::from(on_row_keys)}>
                            { for v.seasons.iter().map(|s| {
                                let edit = { let (f, s) = (season_form.clone(), s.clone()); Callback::from(move |_: MouseEvent| f.set(Some(Some(s.clone())))) };
                                let remove = { let (app, id) = (app.clone(), s.id.clone()); Callback::from(move |_: MouseEvent| { let id = id.clone(); delete(&app, "Season", async move { common::delete_season(&id).await }) }) };
                                html! {
                                    <tr data-row="" tabindex="0" data-id={s.id.clone()}>
                                        <td>{ s.name.clone() }</td>
                                        <td class="nowrap">{ format!("{} – {}", s.start_date, s.end_date) }</td>
                                        <td>{ adjustment_text(&s.adjustment) }</td>
                                        <td>{ s.priority }</td>
                                        <td class="row-actions"><button onclick={edit}>{ "Edit" }</button><button onclick={remove}>{ "Remove" }</button></td>
                                    </tr>
                                }
                            }) }
                        </tbody>
                    </table></div>
                }
            </section>
            <section aria-labelledby="inclusions-title">
                <h3 id="inclusions-title">{ "Included and not included" }</h3>
                <ul class="inclusions">
                    { for v.inclusions.iter().enumerate().map(|(at, i)| {
                        let moves = move_buttons(&app, "Line", &i.text, &inclusion_ids, at, save_inclusion_order, &tour_id);
                        let remove = { let (app, id) = (app.clone(), i.id.clone()); Callback::from(move |_: MouseEvent| { let id = id.clone(); delete(&app, "Line", async move { common::delete_tour_inclusion(&id).await }) }) };
                        html! { <li class={i.kind.as_str()}>{ if i.kind == InclusionKind::Inclusion { "✓ " } else { "✗ " } }{ i.text.clone() } { moves } <button onclick={remove}>{ "Remove" }</button></li> }
                    }) }
                </ul>
                <InclusionForm tour_id={tour_id.clone()} />
            </section>
            <section aria-labelledby="faq-title">
                <h3 id="faq-title">{ "Questions and answers" }</h3>
                <dl class="faqs">
                    { for v.faqs.iter().enumerate().map(|(at, f)| {
                        let moves = move_buttons(&app, "Question", &f.question, &faq_ids, at, save_faq_order, &tour_id);
                        let remove = { let (app, id) = (app.clone(), f.id.clone()); Callback::from(move |_: MouseEvent| { let id = id.clone(); delete(&app, "Question", async move { common::delete_tour_faq(&id).await }) }) };
                        html! { <><dt>{ f.question.clone() } if !f.is_published { <span class="muted">{ " (not shown)" }</span> }</dt><dd>{ f.answer.clone() } { moves } <button onclick={remove}>{ "Remove" }</button></dd></> }
                    }) }
                </dl>
                <FaqForm tour_id={tour_id.clone()} />
            </section>
            <super::tour_discounts::AutoDiscounts tour_id={tour_id.clone()} kind={AutoKind::Group}
                rules={v.group_discounts.iter().map(DiscountRow::from).collect::<Vec<_>>()} currency={props.currency.clone()} />
            <super::tour_discounts::AutoDiscounts tour_id={tour_id.clone()} kind={AutoKind::EarlyBird}
                rules={v.early_bird_discounts.iter().map(DiscountRow::from).collect::<Vec<_>>()} currency={props.currency.clone()} />
            <section aria-labelledby="tour-policy-title">
                <h3 id="tour-policy-title">{ "Cancellation policy" }</h3>
                if *policy_form {
                    <PolicyForm policy={v.own_policy.clone()} tour_id={Some(tour_id.clone())} on_done={close_policy} />
                } else {
                    <PolicyChoice tour_id={tour_id.clone()} shared={v.shared_policies.clone()} chosen={v.chosen_policy_id.clone()}
                        own={v.own_policy.clone()} default={v.default_policy.clone()} />
                    <button onclick={edit_policy}>{ if v.own_policy.is_some() { "Edit this tour's own policy" } else { "Give this tour its own policy" } }</button>
                }
            </section>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct SeasonFormProps {
    pub tour_id: String,
    pub season: Option<Season>,
    pub on_done: Callback<bool>,
    #[prop_or_default]
    pub error: Option<UiError>,
}

fn date(field: &str, typed: &str) -> Result<NaiveDate, UiError> {
    NaiveDate::parse_from_str(typed.trim(), "%Y-%m-%d").map_err(|_| UiError::at_field(field, "Pick a date"))
}

#[component]
pub fn SeasonForm(props: &SeasonFormProps) -> Html {
    let s = props.season.clone();
    let (k, val, cur) = s
        .as_ref()
        .map(|s| adjustment_fields(&s.adjustment))
        .unwrap_or_else(|| ("percentage".into(), String::new(), String::new()));
    let name = use_state(|| s.as_ref().map(|s| s.name.clone()).unwrap_or_default());
    let start = use_state(|| s.as_ref().map(|s| s.start_date.to_string()).unwrap_or_default());
    let end = use_state(|| s.as_ref().map(|s| s.end_date.to_string()).unwrap_or_default());
    let kind = use_state(|| k);
    let value = use_state(|| val);
    let currency = use_state(|| cur);
    let priority = use_state(|| s.as_ref().map(|s| s.priority.to_string()).unwrap_or_else(|| "0".into()));
    let error = use_state(|| props.error.clone());
    let on_kind = {
        let kind = kind.clone();
        Callback::from(move |e: Event| kind.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_submit = {
        let typed = (
            (*name).clone(),
            (*start).clone(),
            (*end).clone(),
            (*kind).clone(),
            (*value).clone(),
            (*currency).clone(),
            (*priority).clone(),
        );
        let (error, on_done, tour_id, id) = (
            error.clone(),
            props.on_done.clone(),
            props.tour_id.clone(),
            s.as_ref().map(|s| s.id.clone()).unwrap_or_default(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (name, start, end, kind, value, currency, priority) = typed.clone();
            let args = (|| -> Result<UpsertSeasonV1, UiError> {
                Ok(UpsertSeasonV1 {
                    id: id.clone(),
                    tour_id: tour_id.clone(),
                    name,
                    start_date: date("start_date", &start)?,
                    end_date: date("end_date", &end)?,
                    adjustment: adjustment("adjustment", &kind, &value, &currency)?,
                    priority: priority
                        .trim()
                        .parse()
                        .map_err(|_| UiError::at_field("priority", "Type a whole number"))?,
                })
            })();
            let args = match args {
                Ok(a) => a,
                Err(e) => return error.set(Some(e)),
            };
            let (error, on_done) = (error.clone(), on_done.clone());
            spawn_local(async move {
                match common::save_season(&args).await {
                    Ok(_) => on_done.emit(true),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let err = &*error;
    html! {
        <form class="panel season-form" onsubmit={on_submit} aria-label="Season">
            <label>{ "Name" }<input id="season-name" value={(*name).clone()} oninput={bind(&name)} />{ field_error(err, "name") }</label>
            <fieldset class="row">
                <label>{ "From" }<input id="season-start" type="date" value={(*start).clone()} oninput={bind(&start)} />{ field_error(err, "start_date") }</label>
                <label>{ "Until (included)" }<input id="season-end" type="date" value={(*end).clone()} oninput={bind(&end)} />{ field_error(err, "end_date") }</label>
            </fieldset>
            <fieldset class="row">
                <label>{ "Change" }
                    <select id="season-kind" onchange={on_kind}>
                        <option value="percentage" selected={*kind == "percentage"}>{ "Percentage" }</option>
                        <option value="fixed" selected={*kind == "fixed"}>{ "Amount per person" }</option>
                    </select>
                </label>
                <label>{ "By (negative lowers)" }<input id="season-value" value={(*value).clone()} oninput={bind(&value)} />{ field_error(err, "adjustment") }</label>
                if *kind == "fixed" { <label>{ "Currency" }<input id="season-currency" value={(*currency).clone()} oninput={bind(&currency)} />{ field_error(err, "currency") }</label> }
                <label>{ "Priority" }<input id="season-priority" inputmode="numeric" value={(*priority).clone()} oninput={bind(&priority)} />{ field_error(err, "priority") }</label>
            </fieldset>
            { form_error(err, &["name", "start_date", "end_date", "adjustment", "currency", "priority"]) }
            <div class="actions">
                <button type="submit" class="primary">{ "Save season" }</button>
                <button type="button" onclick={props.on_done.reform(|_: MouseEvent| false)}>{ "Cancel" }</button>
            </div>
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct AddProps {
    tour_id: String,
}

#[component]
fn FaqForm(props: &AddProps) -> Html {
    let question = use_state(String::new);
    let answer = use_state(String::new);
    let error = use_state(|| None::<UiError>);
    let on_submit = {
        let (q, a, error, tour_id) = (question.clone(), answer.clone(), error.clone(), props.tour_id.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let args = UpsertTourFaqV1 {
                id: String::new(),
                tour_id: tour_id.clone(),
                question: (*q).clone(),
                answer: (*a).clone(),
                sort_order: 0,
                is_published: true,
            };
            let (q, a, error) = (q.clone(), a.clone(), error.clone());
            spawn_local(async move {
                match common::save_tour_faq(&args).await {
                    Ok(_) => {
                        q.set(String::new());
                        a.set(String::new());
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let err = &*error;
    html! {
        <form class="inline-form faq-form" onsubmit={on_submit} aria-label="New question">
            <label>{ "Question" }<input id="faq-question" value={(*question).clone()} oninput={bind(&question)} />{ field_error(err, "question") }</label>
            <label>{ "Answer" }<input id="faq-answer" value={(*answer).clone()} oninput={bind(&answer)} />{ field_error(err, "answer") }</label>
            { form_error(err, &["question", "answer"]) }
            <button type="submit">{ "Add question" }</button>
        </form>
    }
}

#[component]
fn InclusionForm(props: &AddProps) -> Html {
    let text = use_state(String::new);
    let kind = use_state(|| "inclusion".to_string());
    let error = use_state(|| None::<UiError>);
    let on_kind = {
        let kind = kind.clone();
        Callback::from(move |e: Event| kind.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_submit = {
        let (text, kind, error, tour_id) = (text.clone(), kind.clone(), error.clone(), props.tour_id.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let args = UpsertTourInclusionV1 {
                id: String::new(),
                tour_id: tour_id.clone(),
                kind: InclusionKind::parse(&kind).unwrap_or(InclusionKind::Inclusion),
                text: (*text).clone(),
                icon: None,
                sort_order: 0,
            };
            let (text, error) = (text.clone(), error.clone());
            spawn_local(async move {
                match common::save_tour_inclusion(&args).await {
                    Ok(_) => {
                        text.set(String::new());
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let err = &*error;
    html! {
        <form class="inline-form inclusion-form" onsubmit={on_submit} aria-label="New line">
            <select id="inclusion-kind" aria-label="Included or not" onchange={on_kind}>
                <option value="inclusion" selected={*kind == "inclusion"}>{ "Included" }</option>
                <option value="exclusion" selected={*kind == "exclusion"}>{ "Not included" }</option>
            </select>
            <label>{ "Line" }<input id="inclusion-text" value={(*text).clone()} oninput={bind(&text)} />{ field_error(err, "text") }</label>
            { form_error(err, &["text"]) }
            <button type="submit">{ "Add line" }</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use tourdesk_domain::catalogue::{CancellationPolicyRow, TourFaq, TourInclusion};
    use tourdesk_domain::money::Percent;
    use tourdesk_domain::pricing::Adjustment;

    use super::*;

    fn view() -> TourPricingView {
        TourPricingView {
            seasons: vec![Season {
                id: "s".into(),
                organization_id: "o".into(),
                tour_id: "t".into(),
                name: "High summer".into(),
                start_date: NaiveDate::from_ymd_opt(2027, 7, 1).unwrap(),
                end_date: NaiveDate::from_ymd_opt(2027, 8, 31).unwrap(),
                adjustment: Adjustment::Percentage(Percent::whole(20)),
                priority: 1,
            }],
            faqs: vec![TourFaq {
                id: "f".into(),
                organization_id: "o".into(),
                tour_id: "t".into(),
                question: "Dogs?".into(),
                answer: "On a lead.".into(),
                sort_order: 0,
                is_published: true,
            }],
            inclusions: vec![TourInclusion {
                id: "i".into(),
                organization_id: "o".into(),
                tour_id: "t".into(),
                kind: InclusionKind::Exclusion,
                text: "Lunch".into(),
                icon: None,
                sort_order: 0,
            }],
            own_policy: None,
            default_policy: Some(CancellationPolicyRow {
                id: "p".into(),
                organization_id: "o".into(),
                tour_id: None,
                name: "Flexible".into(),
                description: String::new(),
                rules: vec![],
                is_default: true,
            }),
            taxes: vec![],
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn the_component_starts_loading() {
        #[component]
        fn L() -> Html {
            html! { <TourPricing tour_id="t" /> }
        }
        let html = yew::LocalServerRenderer::<L>::new().render().await;
        assert!(
            html.contains("Loading the tour&#x27;s pricing") || html.contains("Loading the tour's pricing"),
            "{html}"
        );
    }

    #[tokio::test]
    async fn seasons_faqs_inclusions_and_the_fallback_policy_are_shown() {
        #[component]
        fn V() -> Html {
            html! { <TourPricingView_ tour_id="t" view={view()} /> }
        }
        let html = yew::LocalServerRenderer::<V>::new().render().await;
        assert!(html.contains("High summer") && html.contains("20%") && html.contains("2027-07-01"), "{html}");
        assert!(html.contains("data-row") && html.contains("tabindex=\"0\""), "{html}");
        assert!(html.contains("Dogs?") && html.contains("Lunch"), "{html}");
        // Each line can be moved with the keyboard: real buttons, named after their line.
        assert!(
            html.contains("aria-label=\"Move up: Dogs?\"") && html.contains("aria-label=\"Move down: Lunch\""),
            "{html}"
        );
        assert!(html.contains("uses the organization") && html.contains("Flexible"), "{html}");
        assert!(html.contains("Give this tour its own policy"), "{html}");
    }

    #[tokio::test]
    async fn a_season_error_shows_beside_its_field() {
        #[component]
        fn F() -> Html {
            let error = Some(UiError::at_field("end_date", "Must not be before the start date"));
            html! { <SeasonForm tour_id="t" season={view().seasons.first().cloned()} on_done={Callback::noop()} error={error} /> }
        }
        let html = yew::LocalServerRenderer::<F>::new().render().await;
        assert!(html.contains("data-field=\"end_date\"") && !html.contains("form-error"), "{html}");
    }
}

//! Tours and departures: the tour list, one tour's prices and departures, a departure's
//! bookings (with the new-booking form) or manifest, the new-tour form, and the tour editor
//! (`#/tours/<id>/edit`: details, variants, price tiers, publishing).

use std::rc::Rc;

use tourdesk_domain::PricingTier;
use tourdesk_domain::ipc::{BookingSummary, DepartureView, NewTour, TourView};
use tourdesk_domain::mutation::DepartureCancellationPreview;
use tourdesk_domain::mutation::{UpdateTourV1, publish_refusal};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::roles::Permission;
use tourdesk_domain::status::{DepartureStatus, TourCategory, TourStatus};
use tourdesk_domain::{Tour, TourVariant};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::booking_form::NewBookingForm;
use crate::components::bookings::BookingsPanel;
use crate::components::cancel_departure::CancelDepartureDialog;
use crate::components::field_notes::ManifestWithActions;
use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::components::tour_editor::{TiersSection, TourDetailsForm, VariantsSection};
use crate::components::tours::{Departures, PanelKind, TourList};
use crate::error::UiError;
use crate::hooks::{Depends, Load, spawn_save, use_invoke};
use crate::router::{Route, navigate};
use crate::services;
use crate::state::{Action, use_app};
use crate::words;

const TOUR_KINDS: Depends = Depends::on(&[EntityKind::Tour]);
const DETAIL_KINDS: Depends = Depends::on(&[EntityKind::Tour, EntityKind::PricingTier, EntityKind::Departure]);
const EDITOR_KINDS: Depends = Depends::on(&[EntityKind::Tour, EntityKind::TourVariant, EntityKind::PricingTier]);
const PANEL_KINDS: Depends =
    Depends::on(&[EntityKind::Booking, EntityKind::CheckIn, EntityKind::Customer, EntityKind::Departure]);

#[derive(Properties, PartialEq)]
pub struct ToursPageProps {
    /// The tour in the route; without one, the first tour is shown.
    pub selected: Option<String>,
}

#[component]
pub fn ToursPage(props: &ToursPageProps) -> Html {
    let app = use_app();
    // Shared, not copied: every render of the page (a detail arriving, a panel opening) would
    // otherwise clone and compare all tours, and hand the list new props.
    let tours = use_invoke(TOUR_KINDS, (), |_| async { services::list_tours().await.map(Rc::new) });
    let creating = use_state(|| false);
    let open_panel = use_state(|| None::<(String, PanelKind)>);
    let current: Option<TourView> = tours.ready().and_then(|ts| match &props.selected {
        Some(id) => ts.iter().find(|t| &t.tour.id == id).cloned(),
        None => ts.first().cloned(),
    });
    let detail = use_invoke(DETAIL_KINDS, current.as_ref().map(|t| t.tour.id.clone()), |id| async move {
        match id {
            // Both asked at once: two round trips to the desk in the time of one.
            Some(id) => futures_util::future::try_join(services::list_prices(&id), services::list_departures(&id))
                .await
                .map(Some),
            None => Ok(None),
        }
    });
    {
        // Another tour, another panel.
        let open_panel = open_panel.clone();
        use_effect_with(props.selected.clone(), move |_| open_panel.set(None));
    }
    // The same callback on every render, so the list re-renders only when its tours or the
    // selection change.
    let on_select = {
        let creating = creating.clone();
        use_callback((), move |id: String, _| {
            creating.set(false);
            navigate(&Route::Tours(Some(id)));
        })
    };
    let on_open_panel = {
        let open_panel = open_panel.clone();
        Callback::from(move |(id, kind): (String, PanelKind)| {
            // The same button again closes the panel.
            if open_panel.as_ref() == Some(&(id.clone(), kind)) {
                open_panel.set(None);
            } else {
                open_panel.set(Some((id, kind)));
            }
        })
    };
    let on_created = {
        let (creating, app) = (creating.clone(), app.clone());
        Callback::from(move |t: TourView| {
            creating.set(false);
            app.dispatch(Action::Toast(format!(
                "Tour “{}” created — it syncs when the server is reachable",
                t.tour.name
            )));
            navigate(&Route::Tours(Some(t.tour.id)));
        })
    };
    let open_form = {
        let creating = creating.clone();
        Callback::from(move |_: MouseEvent| creating.set(true))
    };
    let close_form = {
        let creating = creating.clone();
        Callback::from(move |_| creating.set(false))
    };
    let list = match &tours {
        Load::Loading => html! { <Loading what="tours" /> },
        Load::Failed(e) => html! { <ErrorNote error={e.clone()} /> },
        Load::Ready(ts) => html! {
            <TourList tours={Rc::clone(ts)} selected={current.as_ref().map(|t| t.tour.id.clone())} on_select={on_select} />
        },
    };
    let body = if *creating {
        html! { <NewTourForm on_created={on_created} on_cancel={close_form} /> }
    } else {
        match (&current, &detail) {
            (Some(t), Load::Ready(Some((prices, departures)))) => {
                let panel = open_panel.as_ref().and_then(|(id, kind)| {
                    departures.iter().find(|d| d.departure.id == *id).map(|d| html! {
                        // Keyed by departure, so another departure's panel starts with a fresh form.
                        <DeparturePanel key={id.clone()} tour_id={t.tour.id.clone()} tour_name={t.tour.name.clone()} departure={d.clone()} prices={prices.clone()} kind={*kind} />
                    })
                });
                html! {
                    <>
                    <div class="detail-actions">
                        <a id="edit-tour" class="button edit-link" href={Route::TourEditor(t.tour.id.clone()).to_hash()}>{ "Edit tour" }</a>
                    </div>
                    <Departures tour={t.clone()} prices={prices.clone()} departures={departures.clone()} open={(*open_panel).clone()} on_open={on_open_panel}>
                        { panel.unwrap_or_default() }
                    </Departures>
                    <crate::components::history::EntityHistory entity="tour" entity_id={t.tour.id.clone()} />
                    </>
                }
            }
            (Some(_), Load::Failed(e)) => html! { <ErrorNote error={e.clone()} /> },
            (Some(_), _) => html! { <Loading what="departures" /> },
            (None, _) => match (&tours, &props.selected) {
                (Load::Ready(_), Some(_)) => {
                    html! { <p class="state empty">{ "This desk does not hold that tour." }</p> }
                }
                _ => html! {},
            },
        }
    };
    html! {
        <div class="page tours-page">
            <aside class="list-pane">
                <div class="pane-head">
                    <h2>{ "Tours" }</h2>
                    <button id="new-tour" onclick={open_form}>{ "New tour" }</button>
                </div>
                { list }
            </aside>
            <section class="detail">{ body }</section>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct TourEditorPageProps {
    pub tour_id: String,
}

/// What the editor loads for one tour: the tour (with its sync state), its variants and prices.
#[derive(Debug, Clone, PartialEq)]
struct Editing {
    tour: Option<TourView>,
    variants: Vec<TourVariant>,
    tiers: Vec<PricingTier>,
}

/// One tour's editor. Every section saves on its own, through one domain mutation each, so a
/// refused save changes nothing and leaves its form as typed.
#[component]
pub fn TourEditorPage(props: &TourEditorPageProps) -> Html {
    let app = use_app();
    let loaded = use_invoke(EDITOR_KINDS, props.tour_id.clone(), |id| async move {
        let tours = services::list_tours().await?;
        Ok(Editing {
            tour: tours.into_iter().find(|t| t.tour.id == id),
            variants: services::list_variants(&id).await?,
            tiers: services::list_prices(&id).await?,
        })
    });
    let toast = {
        let app = app.clone();
        Callback::from(move |what: String| app.dispatch(Action::Toast(what)))
    };
    let back = html! { <a id="back-to-tour" href={Route::Tours(Some(props.tour_id.clone())).to_hash()}>{ "← Back to the tour" }</a> };
    let body = match &loaded {
        Load::Loading => html! { <Loading what="the tour" /> },
        Load::Failed(e) => html! { <ErrorNote error={e.clone()} /> },
        Load::Ready(Editing { tour: None, .. }) => html! {
            <EmptyState title="This desk does not hold that tour" hint="It may have been made on another desk that has not synced yet.">
                <a href={Route::Tours(None).to_hash()}>{ "Go to tours" }</a>
            </EmptyState>
        },
        Load::Ready(Editing { tour: Some(t), variants, tiers }) => {
            let saved = {
                let toast = toast.clone();
                Callback::from(move |t: TourView| toast.emit(format!("Details of “{}” saved", t.tour.name)))
            };
            html! {
                <>
                <EditorHeader tour={t.clone()} variants={variants.clone()} tiers={tiers.clone()} on_done={toast.clone()} />
                <TourDetailsForm tour={Some(t.tour.clone())} on_saved={saved} />
                <VariantsSection tour={t.tour.clone()} variants={variants.clone()} on_done={toast.clone()} />
                <TiersSection tour={t.tour.clone()} variants={variants.clone()} tiers={tiers.clone()} on_done={toast.clone()} />
                <super::tour_pricing::TourPricing tour_id={t.tour.id.clone()}
                    currency={tiers.first().map(|x| AttrValue::from(x.base_price.currency.to_string())).unwrap_or_default()} />
                </>
            }
        }
    };
    html! {
        <div class="page tour-editor">
            <nav class="crumbs">{ back }</nav>
            { body }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct EditorHeaderProps {
    pub tour: TourView,
    pub variants: Vec<TourVariant>,
    pub tiers: Vec<PricingTier>,
    pub on_done: Callback<String>,
}

/// The tour's name and state, and what can happen to it next: publish (with what is still
/// missing said before the button is pressed), unpublish, archive (asked twice: it is final).
#[component]
pub fn EditorHeader(props: &EditorHeaderProps) -> Html {
    let error = use_state(|| None::<UiError>);
    let confirming_archive = use_state(|| false);
    let t: &Tour = &props.tour.tour;
    let move_to = |to: TourStatus, done: &'static str| {
        let (id, name, error, on_done, confirming) =
            (t.id.clone(), t.name.clone(), error.clone(), props.on_done.clone(), confirming_archive.clone());
        Callback::from(move |_: MouseEvent| {
            let (id, name, error, on_done, confirming) =
                (id.clone(), name.clone(), error.clone(), on_done.clone(), confirming.clone());
            spawn_local(async move {
                match services::update_tour(&UpdateTourV1 { id, status: Some(to), ..Default::default() }).await {
                    Ok(_) => {
                        error.set(None);
                        confirming.set(false);
                        on_done.emit(format!("“{name}” {done}"));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let ask_archive = {
        let confirming = confirming_archive.clone();
        Callback::from(move |_: MouseEvent| confirming.set(true))
    };
    let keep = {
        let confirming = confirming_archive.clone();
        Callback::from(move |_: MouseEvent| confirming.set(false))
    };
    // What publishing still needs, said before the button is pressed (once refused, the
    // refusal says it instead).
    let missing = (t.status == TourStatus::Draft && error.is_none())
        .then(|| publish_refusal(&props.variants, &props.tiers))
        .flatten();
    html! {
        <header class="editor-head">
            <div>
                <h2 id="editor-title">{ &t.name }</h2>
                <span id="tour-status" class={classes!("badge", format!("status-{}", t.status.as_str()))}>{ words::tour_status(t.status) }</span>
                if props.tour.pending { <span class="badge pending">{ "Pending sync" }</span> }
            </div>
            <div class="actions">
                if t.status == TourStatus::Draft {
                    <button id="publish-tour" class="primary" onclick={move_to(TourStatus::Active, "is published")}>{ "Publish" }</button>
                }
                if t.status == TourStatus::Active {
                    <button id="unpublish-tour" onclick={move_to(TourStatus::Draft, "is unpublished: back to draft")}>{ "Unpublish" }</button>
                }
                if t.status != TourStatus::Archived {
                    if *confirming_archive {
                        <span class="confirm">
                            { "Archive for good? It cannot be sold again. " }
                            <button id="archive-confirm" class="danger" onclick={move_to(TourStatus::Archived, "is archived")}>{ "Archive" }</button>
                            <button id="archive-keep" onclick={keep}>{ "Keep it" }</button>
                        </span>
                    } else {
                        <button id="archive-tour" class="danger" onclick={ask_archive}>{ "Archive…" }</button>
                    }
                }
            </div>
            if let Some(why) = missing {
                <p id="publish-hint" class="muted">{ format!("Before publishing: {why}.") }</p>
            }
            if let Some(e) = &*error {
                <p id="status-error" class="error-text" role="alert">{ e.message.clone() }</p>
            }
        </header>
    }
}

#[derive(Properties, PartialEq)]
pub struct DeparturePanelProps {
    pub tour_id: String,
    pub tour_name: String,
    pub departure: DepartureView,
    pub prices: Vec<PricingTier>,
    pub kind: PanelKind,
}

/// A departure's bookings (with the new-booking form) or its manifest. It scrolls itself into
/// view when it opens, so a panel under a long table is never off-screen.
#[component]
pub fn DeparturePanel(props: &DeparturePanelProps) -> Html {
    let app = use_app();
    let id = props.departure.departure.id.clone();
    let booking_open = use_state(|| false);
    let action_error = use_state(|| None::<UiError>);
    let cancelling = use_state(|| None::<DepartureCancellationPreview>);
    let here = use_node_ref();
    {
        let here = here.clone();
        use_effect_with((id.clone(), props.kind), move |_| {
            if let Some(el) = here.cast::<web_sys::Element>() {
                el.scroll_into_view();
            }
        });
    }
    let bookings = use_invoke(PANEL_KINDS, (id.clone(), props.kind), |(id, kind)| async move {
        match kind {
            PanelKind::Bookings => services::list_bookings(&id).await.map(Panel::Bookings),
            PanelKind::Manifest => services::manifest(&id).await.map(|m| Panel::Manifest(Box::new(m))),
        }
    });
    let attendance = |check_in: bool| {
        let (error, departure_id, app) = (action_error.clone(), id.clone(), app.clone());
        Callback::from(move |(booking, participant): (String, u32)| {
            let (error, departure_id, app) = (error.clone(), departure_id.clone(), app.clone());
            spawn_local(async move {
                let r = if check_in {
                    services::check_in(&booking, &departure_id, participant).await
                } else {
                    services::mark_no_show(&booking, &departure_id, participant).await
                };
                match r {
                    Ok(()) => {
                        error.set(None);
                        app.dispatch(Action::Toast(if check_in {
                            "Checked in".into()
                        } else {
                            "Marked as no-show".into()
                        }));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    // Calling the departure off: for roles that write schedules, while it can still be cancelled.
    let role = app.status.as_ref().and_then(|s| s.signed_in_as.as_ref()).map(|u| u.role);
    let status = props.departure.departure.status;
    let may_cancel = role.is_some_and(|r| r.can(Permission::SchedulesWrite))
        && !matches!(status, DepartureStatus::Cancelled | DepartureStatus::Completed);
    let open_cancel = {
        let (cancelling, error, id) = (cancelling.clone(), action_error.clone(), id.clone());
        Callback::from(move |_: MouseEvent| {
            let (cancelling, error, id) = (cancelling.clone(), error.clone(), id.clone());
            spawn_local(async move {
                match services::departure_cancellation_preview(&id).await {
                    Ok(p) => {
                        error.set(None);
                        cancelling.set(Some(p));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let dialog = match &*cancelling {
        Some(preview) => {
            let on_close = {
                let cancelling = cancelling.clone();
                Callback::from(move |_| cancelling.set(None))
            };
            let on_cancelled = {
                let (cancelling, app) = (cancelling.clone(), app.clone());
                Callback::from(move |p: DepartureCancellationPreview| {
                    cancelling.set(None);
                    app.dispatch(Action::Toast(format!(
                        "Departure cancelled{} — refunds and e-mails go out when it syncs",
                        match p.bookings {
                            0 => String::new(),
                            1 => " with its 1 booking".into(),
                            n => format!(" with its {n} bookings"),
                        }
                    )));
                })
            };
            html! {
                <CancelDepartureDialog departure={props.departure.clone()} tour_name={props.tour_name.clone()}
                    preview={preview.clone()} on_cancelled={on_cancelled} on_close={on_close} />
            }
        }
        None => html! {},
    };
    let toolbar = html! {
        <div class="panel-actions">
            if status == DepartureStatus::Cancelled {
                <span id="departure-cancelled" class="badge cancelled">{ "Cancelled" }</span>
            }
            if may_cancel {
                <button id="cancel-departure" class="danger" onclick={open_cancel}>{ "Cancel departure…" }</button>
            }
        </div>
    };
    let banner = match &*action_error {
        Some(e) => html! { <ErrorNote error={e.clone()} /> },
        None => html! {},
    };
    let content = match bookings {
        Load::Loading => {
            html! { <Loading what={if props.kind == PanelKind::Manifest { "the manifest" } else { "bookings" }} /> }
        }
        Load::Failed(e) => html! { <ErrorNote error={e} /> },
        Load::Ready(Panel::Manifest(m)) => html! {
            <ManifestWithActions manifest={*m} on_check_in={attendance(true)} on_no_show={attendance(false)} />
        },
        Load::Ready(Panel::Bookings(list)) => {
            let on_new = {
                let booking_open = booking_open.clone();
                Callback::from(move |_| booking_open.set(true))
            };
            let on_saved = {
                let (booking_open, app) = (booking_open.clone(), app.clone());
                Callback::from(move |b: BookingSummary| {
                    booking_open.set(false);
                    app.dispatch(Action::Toast(format!(
                        "Booking {} saved for {}",
                        b.reference_number, b.customer_name
                    )));
                })
            };
            let on_cancel = {
                let booking_open = booking_open.clone();
                Callback::from(move |_| booking_open.set(false))
            };
            html! {
                <BookingsPanel departure={props.departure.clone()} bookings={list} on_new={on_new}>
                    if *booking_open {
                        <NewBookingForm tour_id={props.tour_id.clone()} departure={props.departure.clone()} prices={props.prices.clone()} on_saved={on_saved} on_cancel={on_cancel} />
                    }
                </BookingsPanel>
            }
        }
    };
    html! {
        <div class="departure-panel" ref={here}>
            { toolbar }
            { banner }
            { content }
            <crate::components::allotments::AllotmentsSection departure_id={id.clone()} prices={props.prices.clone()} />
            <crate::components::waitlist::WaitlistSection departure={props.departure.clone()} prices={props.prices.clone()} />
            <crate::components::history::EntityHistory entity="departure" entity_id={id.clone()} />
            { dialog }
        </div>
    }
}

/// What a departure panel loaded.
#[derive(Debug, Clone, PartialEq)]
enum Panel {
    Bookings(Vec<BookingSummary>),
    Manifest(Box<tourdesk_domain::ipc::Manifest>),
}

#[derive(Properties, PartialEq)]
pub struct NewTourFormProps {
    pub on_created: Callback<TourView>,
    pub on_cancel: Callback<()>,
}

fn input_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

/// Creating a tour works offline: the shell saves it locally and queues it for the server.
#[component]
pub fn NewTourForm(props: &NewTourFormProps) -> Html {
    let name = use_state(String::new);
    let blurb = use_state(String::new);
    let duration = use_state(|| "120".to_string());
    let capacity = use_state(|| "12".to_string());
    let category = use_state(|| TourCategory::Walking);
    let timezone = use_state(|| "Europe/London".to_string());
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);

    let bind = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |e: InputEvent| s.set(input_value(&e)))
    };
    let on_category = {
        let category = category.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            if let Some(c) = TourCategory::parse(&v) {
                category.set(c);
            }
        })
    };
    let on_submit = {
        let (name, blurb, duration, capacity, category, timezone, error, busy) = (
            name.clone(),
            blurb.clone(),
            duration.clone(),
            capacity.clone(),
            category.clone(),
            timezone.clone(),
            error.clone(),
            busy.clone(),
        );
        let on_created = props.on_created.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let number = |field: &str, v: &str| {
                v.trim().parse::<u32>().map_err(|_| UiError::at_field(field, "Must be a whole number"))
            };
            let input = match (number("duration_minutes", &duration), number("default_capacity", &capacity)) {
                (Ok(d), Ok(c)) => {
                    NewTour::quick((*name).clone(), (*blurb).clone(), d, c, *category, (*timezone).clone())
                }
                (Err(e), _) | (_, Err(e)) => {
                    error.set(Some(e));
                    return;
                }
            };
            spawn_save(&busy, &error, &on_created, async move { services::create_tour(&input).await });
        })
    };
    let field_error = |field: &str| -> Html {
        match &*error {
            Some(e) if e.is_field(field) => {
                html! { <span class="field-error">{ e.message.clone() }</span> }
            }
            _ => html! {},
        }
    };
    let general_error = match &*error {
        Some(e)
            if !matches!(e.field.as_deref(), Some("name" | "duration_minutes" | "default_capacity" | "timezone")) =>
        {
            html! { <p id="form-error" class="error-text">{ e.message.clone() }</p> }
        }
        _ => html! {},
    };
    let on_cancel = props.on_cancel.reform(|_: MouseEvent| ());
    html! {
        <form id="new-tour-form" class="form" onsubmit={on_submit}>
            <h2>{ "New tour" }</h2>
            <label>{ "Name" }<input id="new-tour-name" value={(*name).clone()} oninput={bind(&name)} />{ field_error("name") }</label>
            <label>{ "Short description" }<input id="new-tour-blurb" value={(*blurb).clone()} oninput={bind(&blurb)} /></label>
            <label>{ "Duration (minutes)" }<input id="new-tour-duration" inputmode="numeric" value={(*duration).clone()} oninput={bind(&duration)} />{ field_error("duration_minutes") }</label>
            <label>{ "Capacity" }<input id="new-tour-capacity" inputmode="numeric" value={(*capacity).clone()} oninput={bind(&capacity)} />{ field_error("default_capacity") }</label>
            <label>{ "Category" }
                <select id="new-tour-category" onchange={on_category}>
                { for TourCategory::ALL.iter().map(|c| html! { <option value={c.as_str()} selected={*c == *category}>{ words::category(*c) }</option> }) }
                </select>
            </label>
            <label>{ "Time zone (IANA)" }<input id="new-tour-timezone" value={(*timezone).clone()} oninput={bind(&timezone)} />{ field_error("timezone") }</label>
            { general_error }
            <div class="actions">
                <button id="new-tour-submit" type="submit" disabled={*busy}>{ "Create tour" }</button>
                <button type="button" onclick={on_cancel}>{ "Cancel" }</button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::test_support::render_page;

    #[tokio::test]
    async fn the_tours_page_starts_loading_with_its_new_tour_button() {
        let html = render_page(Route::Tours(None)).await;
        assert!(html.contains("Loading tours…") && html.contains("id=\"new-tour\""), "{html}");
    }

    #[tokio::test]
    async fn the_tour_editor_starts_loading_and_offers_the_way_back() {
        let html = render_page(Route::TourEditor("t-1".into())).await;
        assert!(html.contains("Loading the tour…") && html.contains("id=\"back-to-tour\""), "{html}");
        assert!(html.contains("#/tours/t-1"), "{html}");
    }

    async fn header(tour: Tour, variants: Vec<TourVariant>, tiers: Vec<PricingTier>) -> String {
        yew::LocalServerRenderer::<EditorHeader>::with_props(EditorHeaderProps {
            tour: TourView { tour, pending: false },
            variants,
            tiers,
            on_done: Callback::noop(),
        })
        .render()
        .await
    }

    #[tokio::test]
    async fn a_draft_says_what_it_lacks_before_publishing() {
        use tourdesk_domain::fixtures;
        let draft = Tour { status: TourStatus::Draft, ..fixtures::tour() };
        let html = header(draft.clone(), vec![], vec![]).await;
        assert!(html.contains("id=\"publish-tour\"") && html.contains(">Draft<"), "{html}");
        assert!(html.contains("active variant"), "{html}");
        let ready = header(draft, vec![fixtures::variant()], vec![fixtures::adult_tier()]).await;
        assert!(!ready.contains("publish-hint"), "{ready}");
        let live = header(fixtures::tour(), vec![], vec![]).await;
        assert!(
            live.contains(">Published<")
                && live.contains("id=\"unpublish-tour\"")
                && !live.contains("id=\"publish-tour\""),
            "{live}"
        );
        let gone = header(Tour { status: TourStatus::Archived, ..fixtures::tour() }, vec![], vec![]).await;
        assert!(!gone.contains("archive-tour") && !gone.contains("unpublish-tour"), "{gone}");
    }

    #[tokio::test]
    async fn the_new_tour_form_offers_categories_in_words() {
        let html = yew::LocalServerRenderer::<NewTourForm>::with_props(NewTourFormProps {
            on_created: Callback::noop(),
            on_cancel: Callback::noop(),
        })
        .render()
        .await;
        assert!(html.contains(">Walking tour<") && html.contains("new-tour-submit"), "{html}");
    }
}

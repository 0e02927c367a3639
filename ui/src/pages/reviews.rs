//! Reviews (`#/reviews`): what customers wrote on the public site after their tour, waiting ones
//! first, for owners and admins to approve (shown on the tour page) or reject. Reviews live on the
//! server, not in the desk's replica, so the list loads online; offline it says it needs a
//! connection and loads again once the desk is back, as the settings do.

use tourdesk_domain::reviews::{Decision, MAX_RATING, ReviewItem, ReviewStatus, may_moderate};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::settings::load_failed;
use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::error::UiError;
use crate::hooks::{Depends, Load, use_invoke_refreshing};
use crate::router::Route;
use crate::services;
use crate::state::{Action, use_app};

/// Nothing in the replica: the list depends on no row kind, only on its filter and reloads.
const ONLINE: Depends = Depends::on(&[]);

/// The filters offered, in order: `None` is every review.
const FILTERS: [(Option<ReviewStatus>, &str); 4] = [
    (Some(ReviewStatus::Pending), "Waiting"),
    (Some(ReviewStatus::Approved), "Approved"),
    (Some(ReviewStatus::Rejected), "Rejected"),
    (None, "All"),
];

fn status_words(s: ReviewStatus) -> &'static str {
    match s {
        ReviewStatus::Pending => "Waiting for a decision",
        ReviewStatus::Approved => "Approved: on the tour page",
        ReviewStatus::Rejected => "Rejected: not shown",
    }
}

/// A rating as five stars, filled then empty.
fn stars(rating: u8) -> String {
    (1..=MAX_RATING).map(|i| if i <= rating { '★' } else { '☆' }).collect()
}

#[component]
pub fn ReviewsPage() -> Html {
    let app = use_app();
    let role = app.status.as_ref().and_then(|s| s.signed_in_as.as_ref()).map(|s| s.role);
    let filter = use_state(|| Some(ReviewStatus::Pending));
    let generation = use_state(|| 0u32);
    let reconnects = super::settings::use_reconnects();
    let list = use_invoke_refreshing(ONLINE, *filter, generation.wrapping_add(reconnects), services::list_reviews);
    let busy = use_state(|| None::<String>);
    let action_error = use_state(|| None::<UiError>);
    let reload = {
        let generation = generation.clone();
        Callback::from(move |()| generation.set(generation.wrapping_add(1)))
    };
    let on_decide = {
        let (app, busy, action_error, reload) = (app.clone(), busy.clone(), action_error.clone(), reload.clone());
        Callback::from(move |(id, decision): (String, Decision)| {
            let (app, busy, action_error, reload) = (app.clone(), busy.clone(), action_error.clone(), reload.clone());
            busy.set(Some(id.clone()));
            spawn_local(async move {
                match services::moderate_review(&id, decision).await {
                    Ok(r) => {
                        action_error.set(None);
                        let done = if decision == Decision::Approve { "approved" } else { "rejected" };
                        app.dispatch(Action::Toast(format!("Review by {} {done}", r.display_name)));
                        reload.emit(());
                    }
                    Err(e) => action_error.set(Some(e)),
                }
                busy.set(None);
            });
        })
    };
    let body = match &list {
        Load::Loading => html! { <Loading what="reviews" /> },
        Load::Failed(e) => load_failed("Reviews", e, reload.clone()),
        Load::Ready(items) if items.is_empty() => {
            let (title, hint) = match *filter {
                Some(ReviewStatus::Pending) => (
                    "No reviews waiting",
                    "After a tour ends, guests who were checked in are asked for a review; what they write waits here.",
                ),
                Some(ReviewStatus::Approved) => ("No approved reviews", "Approved reviews show on their tour's page."),
                Some(ReviewStatus::Rejected) => ("No rejected reviews", "Rejected reviews are kept here, not shown."),
                None => ("No reviews yet", "Guests who took part in a tour are asked for one after it ends."),
            };
            html! { <EmptyState title={title} hint={hint} /> }
        }
        Load::Ready(items) => html! {
            <ReviewList items={items.clone()} may_decide={role.is_some_and(may_moderate)}
                        busy={(*busy).clone()} on_decide={on_decide} />
        },
    };
    html! {
        <section class="page single reviews-page">
            <h1>{ "Reviews" }</h1>
            <div class="toolbar" role="group" aria-label="Show reviews">
                { for FILTERS.iter().map(|(f, label)| {
                    let on = *f == *filter;
                    let (filter, f) = (filter.clone(), *f);
                    html! {
                        <button class={classes!("filter", on.then_some("active"))} aria-pressed={on.to_string()}
                                onclick={Callback::from(move |_: MouseEvent| filter.set(f))}>{ *label }</button>
                    }
                }) }
            </div>
            if let Some(e) = &*action_error {
                <ErrorNote error={e.clone()} />
            }
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct ReviewListProps {
    pub items: Vec<ReviewItem>,
    /// Whether the signed-in member may approve and reject (owners and admins).
    pub may_decide: bool,
    /// The review whose decision is on its way, if any: its buttons wait.
    #[prop_or_default]
    pub busy: Option<String>,
    pub on_decide: Callback<(String, Decision)>,
}

/// The reviews, each with its rating, text, who wrote it about what, where it stands and, for
/// those who decide, Approve and Reject buttons (plain buttons: Tab reaches them, Enter or Space
/// presses them, and each names the review it acts on).
#[component]
pub fn ReviewList(props: &ReviewListProps) -> Html {
    html! {
        <>
            if !props.may_decide {
                <p class="muted">{ "Owners and admins approve or reject reviews; you can read them here." }</p>
            }
            <ul class="review-list" aria-label="Reviews">
                { for props.items.iter().map(|r| {
                    let waiting = props.busy.as_deref() == Some(r.id.as_str());
                    let decide = |d: Decision| {
                        let (on, id) = (props.on_decide.clone(), r.id.clone());
                        Callback::from(move |_: MouseEvent| on.emit((id.clone(), d)))
                    };
                    html! {
                        <li class="review-item" id={format!("review-{}", r.id)}>
                            <p class="stars" aria-label={format!("{} of {MAX_RATING} stars", r.rating)}>{ stars(r.rating) }</p>
                            if !r.title.is_empty() {
                                <h2 class="review-title">{ r.title.clone() }</h2>
                            }
                            <p class="review-body">{ r.body.clone() }</p>
                            <p class="muted">
                                { byline(r) }
                                if let Some(reference) = &r.booking_reference {
                                    { " · " }<a href={Route::Booking(reference.clone()).to_hash()}>{ reference.clone() }</a>
                                }
                            </p>
                            <p class={classes!("review-status", r.status.as_str())}>{ status_words(r.status) }</p>
                            if props.may_decide {
                                <div class="actions">
                                    if r.status != ReviewStatus::Approved {
                                        <button class="primary" disabled={waiting} onclick={decide(Decision::Approve)}
                                                aria-label={format!("Approve the review by {}", author(r))}>{ "Approve" }</button>
                                    }
                                    if r.status != ReviewStatus::Rejected {
                                        <button disabled={waiting} onclick={decide(Decision::Reject)}
                                                aria-label={format!("Reject the review by {}", author(r))}>{ "Reject" }</button>
                                    }
                                </div>
                            }
                        </li>
                    }
                }) }
            </ul>
        </>
    }
}

/// Who, on which tour, when: the parts that are there, so a review without a name does not
/// start with a separator.
fn byline(r: &ReviewItem) -> String {
    [r.display_name.trim().to_string(), r.tour_name.trim().to_string(), r.created_at.format("%-d %b %Y").to_string()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The author as the buttons name them; a guest who left no name is "a guest".
fn author(r: &ReviewItem) -> &str {
    match r.display_name.trim() {
        "" => "a guest",
        name => name,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::pages::test_support::render_page;

    fn item(id: &str, rating: u8, status: ReviewStatus) -> ReviewItem {
        ReviewItem {
            id: id.into(),
            tour_id: "t1".into(),
            tour_name: "Old Town at Dawn".into(),
            booking_reference: Some("BK-2026-7KQ3XM".into()),
            display_name: "Ana S.".into(),
            rating,
            title: "Lovely morning".into(),
            body: "A great guide and a lovely walk.".into(),
            status,
            language: "en".into(),
            created_at: "2026-05-01T12:00:00Z".parse().unwrap(),
            moderated_at: None,
        }
    }

    async fn list(items: Vec<ReviewItem>, may_decide: bool, busy: Option<&str>) -> String {
        yew::LocalServerRenderer::<ReviewList>::with_props(ReviewListProps {
            items,
            may_decide,
            busy: busy.map(str::to_string),
            on_decide: Callback::noop(),
        })
        .render()
        .await
    }

    #[tokio::test]
    async fn the_screen_starts_loading_in_words_with_the_waiting_filter_on() {
        let html = render_page(Route::Reviews).await;
        assert!(html.contains("<h1>Reviews</h1>") && html.contains("Loading reviews…"), "{html}");
        assert!(html.contains("aria-pressed=\"true\" class=\"filter active\">Waiting</button>"), "{html}");
    }

    #[tokio::test]
    async fn a_waiting_review_reads_in_words_with_buttons_that_name_it() {
        let html = list(vec![item("r1", 4, ReviewStatus::Pending)], true, None).await;
        assert!(html.contains("★★★★☆") && html.contains("aria-label=\"4 of 5 stars\""), "{html}");
        assert!(html.contains("Lovely morning") && html.contains("Old Town at Dawn"), "{html}");
        assert!(html.contains("href=\"#/bookings/BK-2026-7KQ3XM\""), "{html}");
        assert!(html.contains("Waiting for a decision"), "{html}");
        assert!(html.contains("aria-label=\"Approve the review by Ana S.\""), "{html}");
        assert!(html.contains("aria-label=\"Reject the review by Ana S.\""), "{html}");
        assert!(!html.contains("disabled"), "{html}");
    }

    #[tokio::test]
    async fn a_decided_review_offers_only_the_other_decision_and_a_busy_one_waits() {
        let html = list(vec![item("r1", 5, ReviewStatus::Approved)], true, None).await;
        assert!(html.contains("Approved: on the tour page") && html.contains(">Reject</button>"), "{html}");
        assert!(!html.contains(">Approve</button>"), "{html}");
        let html = list(vec![item("r1", 2, ReviewStatus::Rejected)], true, Some("r1")).await;
        assert!(html.contains(">Approve</button>") && !html.contains(">Reject</button>"), "{html}");
        assert!(html.contains("disabled"), "{html}");
    }

    #[tokio::test]
    async fn members_who_may_not_decide_read_without_buttons() {
        let html = list(vec![item("r1", 3, ReviewStatus::Pending)], false, None).await;
        assert!(html.contains("Owners and admins approve or reject reviews"), "{html}");
        assert!(!html.contains("<button"), "{html}");
    }

    #[tokio::test]
    async fn a_review_without_a_name_starts_with_its_tour_not_a_separator() {
        let mut r = item("r1", 4, ReviewStatus::Pending);
        r.display_name = " ".into();
        let html = list(vec![r], true, None).await;
        assert!(html.contains("<p class=\"muted\">Old Town at Dawn · 1 May 2026"), "{html}");
        assert!(!html.contains(">· ") && !html.contains("> · "), "{html}");
        assert!(html.contains("aria-label=\"Approve the review by a guest\""), "{html}");
    }
}

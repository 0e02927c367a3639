//! The inbox: bookings the server refused (with Move / Waitlist / Overbook / Dismiss), other
//! refused work, and payments that need a look. It reloads when verdicts arrive.

use std::collections::BTreeMap;

use tourdesk_domain::ipc::{DepartureView, Outcome, RejectedBooking};
use tourdesk_domain::payment::PaymentIssue;
use tourdesk_domain::protocol::EntityKind;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::bookings::RejectedBookings;
use crate::components::inbox::{PaymentIssues, Rejections};
use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::error::UiError;
use crate::hooks::{Depends, Load, use_invoke};
use crate::services;
use crate::state::{Action, use_app};

const INBOX: Depends = Depends {
    kinds: &[EntityKind::Departure, EntityKind::Booking, EntityKind::Tour, EntityKind::PaymentIssue],
    outcomes: true,
};

#[derive(Debug, Clone, PartialEq)]
pub struct InboxData {
    pub refused: Vec<RejectedBooking>,
    /// The departures of each refused booking's tour, for "Move to…".
    pub departures: BTreeMap<String, Vec<DepartureView>>,
    /// Refused work other than bookings.
    pub others: Vec<Outcome>,
    pub payments: Vec<PaymentIssue>,
}

impl InboxData {
    pub fn is_empty(&self) -> bool {
        self.refused.is_empty() && self.others.is_empty() && self.payments.is_empty()
    }
}

async fn load() -> Result<InboxData, UiError> {
    let refused = services::list_rejected_bookings().await?;
    let mut departures = BTreeMap::new();
    for b in &refused {
        if !departures.contains_key(&b.tour_id) {
            departures.insert(b.tour_id.clone(), services::list_departures(&b.tour_id).await?);
        }
    }
    // Refused bookings have their own list with actions; the generic one shows the rest.
    let others = services::list_rejections()
        .await?
        .into_iter()
        .filter(|o| !refused.iter().any(|r| r.mutation_id == o.mutation_id))
        .collect();
    Ok(InboxData { refused, departures, others, payments: services::list_payment_issues().await? })
}

#[component]
pub fn InboxPage() -> Html {
    let app = use_app();
    let data = use_invoke(INBOX, (), |_| load());
    let error = use_state(|| None::<UiError>);
    let role = app.status.as_ref().and_then(|s| s.signed_in_as.as_ref()).map(|u| u.role);
    // Every action ends here: a local refusal (the other departure is full too) shows; success
    // says what happened, and the desk's event reloads the inbox.
    let done = {
        let (error, app) = (error.clone(), app.clone());
        Callback::from(move |(r, what): (Result<(), UiError>, String)| match r {
            Ok(()) => {
                error.set(None);
                app.dispatch(Action::Toast(what));
            }
            Err(e) => error.set(Some(e)),
        })
    };
    let on_move = {
        let done = done.clone();
        Callback::from(move |(id, dep): (u64, String)| {
            let done = done.clone();
            spawn_local(async move {
                done.emit((services::retry_booking_on(id, &dep).await, "Booking moved — it syncs next".into()))
            });
        })
    };
    let on_waitlist = {
        let done = done.clone();
        Callback::from(move |id: u64| {
            let done = done.clone();
            spawn_local(
                async move { done.emit((services::waitlist_booking(id).await, "Added to the waitlist".into())) },
            );
        })
    };
    let on_overbook = {
        let done = done.clone();
        Callback::from(move |(id, reason): (u64, String)| {
            let done = done.clone();
            spawn_local(async move {
                done.emit((services::overbook_booking(id, &reason).await, "Booked past capacity".into()))
            });
        })
    };
    let on_dismiss = {
        let done = done.clone();
        Callback::from(move |id: u64| {
            let done = done.clone();
            spawn_local(async move { done.emit((services::dismiss_rejection(id).await, "Dismissed".into())) });
        })
    };
    let body = match data {
        Load::Loading => html! { <Loading what="the inbox" /> },
        Load::Failed(e) => html! { <ErrorNote error={e} /> },
        Load::Ready(d) if d.is_empty() => html! {
            <EmptyState title="Nothing waiting" hint="Work the server refuses, and payments it could not apply, land here." />
        },
        Load::Ready(d) => html! {
            <>
                <RejectedBookings items={d.refused} departures={d.departures} role={role} on_move={on_move}
                    on_waitlist={on_waitlist} on_overbook={on_overbook} on_dismiss={on_dismiss.clone()} />
                <Rejections items={d.others} on_dismiss={on_dismiss} />
                <PaymentIssues items={d.payments} />
            </>
        },
    };
    html! {
        <section id="inbox" class="page single">
            <h2>{ "Inbox" }</h2>
            if let Some(e) = &*error { <ErrorNote error={e.clone()} /> }
            { body }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use crate::pages::test_support::render_page;
    use crate::router::Route;

    #[tokio::test]
    async fn the_inbox_starts_loading() {
        let html = render_page(Route::Inbox).await;
        assert!(html.contains("Loading the inbox…") && html.contains("id=\"inbox\""), "{html}");
    }
}

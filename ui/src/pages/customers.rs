//! Customers: search (debounced) and open one — contact, tags, notes and bookings. The open
//! customer is in the route (`#/customers/<id>`), so the global search can open one too.

use tourdesk_domain::ipc::CustomerHit;
use tourdesk_domain::protocol::EntityKind;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::booking_form::use_customer_search;
use crate::components::bookings::{CustomerHits, CustomerPane};
use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::error::UiError;
use crate::hooks::{Depends, Load, use_invoke};
use crate::router::{Route, navigate};
use crate::services;
use crate::state::{Action, use_app};

const CUSTOMER_KINDS: Depends = Depends::on(&[EntityKind::Customer, EntityKind::Booking]);

#[derive(Properties, PartialEq)]
pub struct CustomersPageProps {
    pub selected: Option<String>,
}

#[component]
pub fn CustomersPage(props: &CustomersPageProps) -> Html {
    let app = use_app();
    let (typed, hits, answered, on_search) = use_customer_search();
    let action_error = use_state(|| None::<UiError>);
    let detail = use_invoke(CUSTOMER_KINDS, props.selected.clone(), |id| async move {
        match id {
            Some(id) => services::customer_detail(&id).await.map(Some),
            None => Ok(None),
        }
    });
    let on_pick = Callback::from(move |h: CustomerHit| navigate(&Route::Customers(Some(h.id))));
    let on_keep_notes = {
        // Saved against the version on screen: if the notes moved on meanwhile, the domain keeps
        // this choice as one more conflicting version instead of overwriting what it has not seen.
        let (error, shown, app) = (action_error.clone(), detail.ready().cloned().flatten(), app.clone());
        Callback::from(move |text: String| {
            let Some(d) = shown.clone() else { return };
            let (error, app) = (error.clone(), app.clone());
            spawn_local(async move {
                match services::edit_customer_notes(&d.customer.id, d.customer.notes_version, &text).await {
                    Ok(()) => {
                        error.set(None);
                        app.dispatch(Action::Toast("Notes saved".into()));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let pane = match (&detail, &props.selected) {
        (_, None) => {
            html! { <EmptyState title="No customer open" hint="Search by name, e-mail or phone, and pick one." /> }
        }
        (Load::Loading, Some(_)) => html! { <Loading what="the customer" /> },
        (Load::Failed(e), Some(_)) => html! { <ErrorNote error={e.clone()} /> },
        (Load::Ready(None), Some(_)) => html! {},
        (Load::Ready(Some(d)), Some(_)) => html! {
            <>
                <CustomerPane detail={d.clone()} on_keep_notes={on_keep_notes} />
                <crate::components::history::EntityHistory entity="customer" entity_id={d.customer.id.clone()} />
            </>
        },
    };
    html! {
        <section id="customers" class="page customers">
            <div class="customer-search">
                <h2>{ "Customers" }</h2>
                <crate::components::list_export::ListExportButtons
                    list={tourdesk_domain::reports::ListExport::Customers { query: (*typed).clone() }} />
                <input id="customers-search" placeholder="Name, e-mail or phone" value={(*typed).clone()} oninput={on_search} />
                <CustomerHits hits={(*hits).clone()} query={answered} selected={props.selected.clone()} on_pick={on_pick} />
            </div>
            <div class="customer-detail">
                if let Some(e) = &*action_error { <ErrorNote error={e.clone()} /> }
                { pane }
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use crate::pages::test_support::render_page;
    use crate::router::Route;

    #[tokio::test]
    async fn customers_page_starts_with_an_invitation_to_search() {
        let html = render_page(Route::Customers(None)).await;
        assert!(html.contains("customers-search"), "{html}");
        assert!(html.contains("Search by name, e-mail or phone, and pick one."), "{html}");
        assert!(
            html.contains("id=\"customers-export-csv\"") && html.contains("id=\"customers-export-xlsx\""),
            "{html}"
        );
        let html = render_page(Route::Customers(Some("c1".into()))).await;
        assert!(html.contains("Loading the customer…"), "a deep link loads the customer: {html}");
    }
}

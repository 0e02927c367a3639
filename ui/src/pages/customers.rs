//! Customers: search (debounced) and open one — contact, tags, notes and bookings. The open
//! customer is in the route (`#/customers/<id>`), so the global search can open one too.

use tourdesk_domain::ipc::{CustomerDetail, CustomerHit};
use tourdesk_domain::mutation::CustomerField;
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
                <CustomerEditor detail={d.clone()} />
                <crate::components::timeline::CustomerMessages customer_id={d.customer.id.clone()} />
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

/// Runs one customer action and reports its outcome: a toast when it worked, the error at the
/// top of the editor when it did not (the domain names the field).
fn act<F>(app: &crate::state::AppContext, error: &UseStateHandle<Option<UiError>>, done: &'static str, f: F)
where
    F: std::future::Future<Output = Result<(), UiError>> + 'static,
{
    let (app, error) = (app.clone(), error.clone());
    spawn_local(async move {
        match f.await {
            Ok(()) => {
                error.set(None);
                app.dispatch(Action::Toast(done.into()));
            }
            Err(e) => error.set(Some(e)),
        }
    });
}

#[derive(Properties, PartialEq)]
pub struct CustomerEditorProps {
    pub detail: CustomerDetail,
}

/// Every field of the open customer, saved one field at a time when it is left (each save is a
/// `set_customer_field.v1`, merged per field with edits made on other desks); tags; the
/// marketing and reminder choices; lifetime value; likely duplicates to merge (undoable until
/// sent); GDPR export and erasure.
#[component]
pub fn CustomerEditor(props: &CustomerEditorProps) -> Html {
    let app = use_app();
    let error = use_state(|| None::<UiError>);
    let new_tag = use_state(String::new);
    let confirm_erase = use_state(String::new);
    let d = &props.detail;
    let c = &d.customer;
    let id = c.id.clone();
    if c.erased_at.is_some() {
        return html! {
            <section id="customer-editor" class="panel">
                <p class="muted">{ "This customer's personal data was erased. Their bookings and payments are kept." }</p>
            </section>
        };
    }
    if let Some(into) = &c.merged_into {
        let into = into.clone();
        return html! {
            <section id="customer-editor" class="panel">
                <p class="muted">{ "This record was merged into another customer. " }
                    <a href={format!("#/customers/{into}")}>{ "Open the customer it was merged into" }</a></p>
            </section>
        };
    }
    let text_field = |name: &'static str, label: &'static str, value: String, make: fn(String) -> CustomerField| {
        let (app, error, id) = (app.clone(), error.clone(), id.clone());
        let onchange = Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let set = make(input.value());
            act(&app, &error, "Customer saved", {
                let id = id.clone();
                async move { services::set_customer_field(&id, &set).await }
            });
        });
        html! {
            <label class="field">{ label }
                <input name={name} class={format!("customer-{name}")} value={value} onchange={onchange} />
            </label>
        }
    };
    let check_field = |name: &'static str, label: &'static str, value: bool, make: fn(bool) -> CustomerField| {
        let (app, error, id) = (app.clone(), error.clone(), id.clone());
        let onchange = Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let set = make(input.checked());
            act(&app, &error, "Customer saved", {
                let id = id.clone();
                async move { services::set_customer_field(&id, &set).await }
            });
        });
        html! {
            <label class="check">
                <input type="checkbox" name={name} class={format!("customer-{name}")} checked={value} onchange={onchange} />
                { label }
            </label>
        }
    };
    let remove_tag = |t: String| {
        let (app, error, id) = (app.clone(), error.clone(), id.clone());
        Callback::from(move |_: MouseEvent| {
            let (id, t) = (id.clone(), t.clone());
            act(&app, &error, "Tag removed", async move { services::set_customer_tag(&id, &t, false).await });
        })
    };
    let on_tag_input = {
        let new_tag = new_tag.clone();
        Callback::from(move |e: InputEvent| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            new_tag.set(input.value());
        })
    };
    let on_add_tag = {
        let (app, error, id, new_tag) = (app.clone(), error.clone(), id.clone(), new_tag.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (id, t) = (id.clone(), (*new_tag).clone());
            new_tag.set(String::new());
            act(&app, &error, "Tag added", async move { services::set_customer_tag(&id, &t, true).await });
        })
    };
    let merge = |dup: String| {
        let (app, error, id) = (app.clone(), error.clone(), id.clone());
        Callback::from(move |_: MouseEvent| {
            let (id, dup) = (id.clone(), dup.clone());
            act(&app, &error, "Merged: undo until it is sent", async move {
                services::merge_customers(&id, &dup).await.map(|_| ())
            });
        })
    };
    let undo = d.undoable_merge.clone().map(|p| {
        let (app, error) = (app.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            let mid = p.mutation_id;
            act(&app, &error, "Merge undone", async move { services::discard_pending(mid).await });
        })
    });
    let on_export = {
        let (app, error, id) = (app.clone(), error.clone(), id.clone());
        Callback::from(move |_: MouseEvent| {
            let (app2, error, id) = (app.clone(), error.clone(), id.clone());
            spawn_local(async move {
                match services::export_customer(&id).await {
                    Ok(paths) => {
                        error.set(None);
                        app2.dispatch(Action::Toast(format!("Saved {}", paths.join(" and "))));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let on_confirm_input = {
        let confirm_erase = confirm_erase.clone();
        Callback::from(move |e: InputEvent| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            confirm_erase.set(input.value());
        })
    };
    let erase_ready = confirm_erase.trim() == "ERASE";
    let on_erase = {
        let (app, error, id, confirm_erase) = (app.clone(), error.clone(), id.clone(), confirm_erase.clone());
        Callback::from(move |_: MouseEvent| {
            if confirm_erase.trim() != "ERASE" {
                return;
            }
            let id = id.clone();
            confirm_erase.set(String::new());
            act(&app, &error, "Personal data erased", async move { services::erase_customer(&id).await });
        })
    };
    html! {
        <section id="customer-editor" class="panel">
            <h4>{ "Edit customer" }</h4>
            if let Some(e) = &*error { <ErrorNote error={e.clone()} /> }
            <div class="form-grid">
                { text_field("first_name", "First name", c.first_name.clone(), CustomerField::FirstName) }
                { text_field("last_name", "Last name", c.last_name.clone(), CustomerField::LastName) }
                { text_field("email", "E-mail", c.email.clone().unwrap_or_default(), |v| CustomerField::Email(Some(v))) }
                { text_field("phone", "Phone", c.phone.clone().unwrap_or_default(), |v| CustomerField::Phone(Some(v))) }
                { text_field("preferred_language", "Language", c.preferred_language.clone(), CustomerField::PreferredLanguage) }
                { text_field("preferred_currency", "Currency", c.preferred_currency.to_string(), CustomerField::PreferredCurrency) }
                { text_field("source_detail", "Source detail", c.source_detail.clone().unwrap_or_default(), |v| CustomerField::SourceDetail(Some(v))) }
            </div>
            <div class="choices">
                { check_field("marketing_consent", "Agrees to marketing e-mails", c.marketing_consent, CustomerField::MarketingConsent) }
                { check_field("reminders_opt_out", "No departure reminders", c.reminders_opt_out, CustomerField::RemindersOptOut) }
                { check_field("sms_opt_in", "Agrees to booking texts (SMS)", c.sms_opt_in, CustomerField::SmsOptIn) }
            </div>
            <div class="tags-edit">
                { for c.tags.iter().map(|t| html! {
                    <span class="badge tag">{ t }<button class="remove-tag" aria-label={format!("Remove tag {t}")} onclick={remove_tag(t.clone())}>{ "×" }</button></span>
                }) }
                <form class="add-tag" onsubmit={on_add_tag}>
                    <input id="customer-new-tag" placeholder="Add a tag" value={(*new_tag).clone()} oninput={on_tag_input} />
                    <button type="submit">{ "Add tag" }</button>
                </form>
            </div>
            <div id="customer-value">
                <h4>{ "History" }</h4>
                <p>{ format!("{} booking{}", d.bookings.len(), if d.bookings.len() == 1 { "" } else { "s" }) }
                    { " · lifetime value: " }
                    if d.lifetime_value.is_empty() { { "nothing paid yet" } }
                    else { { d.lifetime_value.iter().map(|m| m.display_with_symbol()).collect::<Vec<_>>().join(" + ") } }
                </p>
            </div>
            if let Some(undo) = undo {
                <p id="merge-undo" class="notice">{ "A merge into this customer is waiting to be sent. " }
                    <button class="undo-merge" onclick={undo}>{ "Undo merge" }</button></p>
            }
            if !d.duplicates.is_empty() {
                <div id="customer-duplicates">
                    <h4>{ "Possible duplicates" }</h4>
                    <ul>
                    { for d.duplicates.iter().map(|h| html! {
                        <li data-id={h.id.clone()}>
                            { tourdesk_domain::entities::full_name(&h.first_name, &h.last_name) }
                            <span class="muted">{ format!(" {} {}", h.email.clone().unwrap_or_default(), h.phone.clone().unwrap_or_default()) }</span>
                            <button class="merge-duplicate" onclick={merge(h.id.clone())}>{ "Merge into this customer" }</button>
                        </li>
                    }) }
                    </ul>
                </div>
            }
            <div id="customer-gdpr">
                <h4>{ "Personal data" }</h4>
                <button class="export-customer" onclick={on_export}>{ "Export (JSON and CSV)" }</button>
                <label class="field">{ "Type ERASE to erase this customer's personal data (bookings and payments are kept)" }
                    <input id="customer-erase-confirm" value={(*confirm_erase).clone()} oninput={on_confirm_input} />
                </label>
                <button class="erase-customer danger" disabled={!erase_ready} onclick={on_erase}>{ "Erase personal data" }</button>
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

    fn detail() -> tourdesk_domain::ipc::CustomerDetail {
        use tourdesk_domain::ipc::{CustomerHit, PendingMerge};
        tourdesk_domain::ipc::CustomerDetail {
            customer: tourdesk_domain::entities::Customer {
                tags: ["vip".to_string()].into_iter().collect(),
                reminders_opt_out: true,
                sms_opt_in: false,
                ..tourdesk_domain::fixtures::customer()
            },
            pending: false,
            bookings: vec![],
            lifetime_value: vec![crate::fixtures::money(12_500, "EUR")],
            duplicates: vec![CustomerHit {
                id: "c-dup".into(),
                first_name: "Ana".into(),
                last_name: "S.".into(),
                email: Some("ana+trip@example.com".into()),
                phone: None,
                pending: false,
            }],
            undoable_merge: Some(PendingMerge { mutation_id: 7, duplicate_id: "c-old".into() }),
        }
    }

    #[tokio::test]
    async fn the_editor_shows_every_field_value_duplicates_and_gdpr_actions() {
        use super::{CustomerEditor, CustomerEditorProps};
        let html = crate::fixtures::render::<CustomerEditor>(CustomerEditorProps { detail: detail() }).await;
        for name in ["first_name", "last_name", "email", "phone", "preferred_language", "preferred_currency"] {
            assert!(html.contains(&format!("name=\"{name}\"")), "{name}: {html}");
        }
        assert!(html.contains("ana@example.com") && html.contains("No departure reminders"), "{html}");
        assert!(html.contains("lifetime value: €125.00") || html.contains("lifetime value: 125.00"), "{html}");
        assert!(html.contains("Possible duplicates") && html.contains("ana+trip@example.com"), "{html}");
        assert!(html.contains("Merge into this customer") && html.contains("Undo merge"), "{html}");
        assert!(html.contains("Export (JSON and CSV)") && html.contains("Erase personal data"), "{html}");
        assert!(html.contains("Remove tag vip"), "{html}");

        let mut erased = detail();
        erased.customer.erased_at = Some(tourdesk_domain::fixtures::now());
        let html = crate::fixtures::render::<CustomerEditor>(CustomerEditorProps { detail: erased }).await;
        assert!(html.contains("personal data was erased") && !html.contains("Edit customer"), "{html}");
    }
}

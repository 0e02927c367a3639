//! The audit log (`#/audit`, owners and admins): who changed what, when and from which device,
//! filtered by entity, person, device, action and dates, read from the desk's own replica (so it
//! works offline). People's and devices' names come from the server when it can be asked, and
//! from the desk's replica otherwise (staff it can name, "This desk"): words, never ids.

use std::collections::BTreeMap;

use tourdesk_domain::audit::{AuditFacets, AuditFilter, action_words};
use tourdesk_domain::protocol::EntityKind;
use yew::prelude::*;

use crate::components::audit::{AuditNames, AuditTable, entity_words};
use crate::components::booking_form::{field_error, value_of};
use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::error::UiError;
use crate::hooks::{Depends, Load, use_invoke};
use crate::services;
use crate::state::use_app;

const AUDIT: Depends = Depends::on(&[EntityKind::AuditLog]);

/// The server's names for people and devices, best effort: offline (or for a role the server
/// does not answer) they are empty and the desk's own fill in ([`AuditNames::with_desk`]).
pub(crate) async fn names() -> Result<AuditNames, UiError> {
    let mut n = AuditNames::default();
    if let Ok(dir) = services::list_staff().await {
        n.people = dir.staff.into_iter().map(|m| (m.id, m.name)).collect();
    }
    if let Ok(list) = services::list_devices().await {
        n.devices = list.devices.into_iter().map(|d| (d.id, format!("{} ({})", d.name, d.user_name))).collect();
    }
    Ok(n)
}

#[derive(Properties, PartialEq)]
struct PickProps {
    id: AttrValue,
    label: AttrValue,
    all: AttrValue,
    options: Vec<(String, String)>,
    value: Option<String>,
    on_change: Callback<Option<String>>,
}

/// One filter's select: "All …" and what the log holds.
#[component]
fn Pick(p: &PickProps) -> Html {
    let on_change = p.on_change.reform(|e: Event| Some(value_of(&e)).filter(|v| !v.is_empty()));
    html! {
        <label>{ p.label.clone() }
            <select id={p.id.clone()} onchange={on_change}>
                <option value="" selected={p.value.is_none()}>{ p.all.clone() }</option>
                { for p.options.iter().map(|(v, words)| html! {
                    <option value={v.clone()} selected={p.value.as_deref() == Some(v.as_str())}>{ words }</option>
                }) }
            </select>
        </label>
    }
}

#[component]
pub fn AuditPage() -> Html {
    let app = use_app();
    let role = app.status.as_ref().and_then(|s| s.signed_in_as.as_ref()).map(|u| u.role);
    let filter = use_state(AuditFilter::default);
    let entries =
        use_invoke(AUDIT, (*filter).clone(), |f: AuditFilter| async move { services::named_audit_log(&f).await });
    let facets = use_invoke(AUDIT, (), |_| services::audit_facets());
    let names = use_invoke(Depends::on(&[]), (), |_| names());
    if role.is_some_and(|r| !tourdesk_domain::replication::role_receives_audit(r)) {
        return html! {
            <section id="audit" class="page single">
                <h2>{ "Audit log" }</h2>
                <EmptyState title="Only owners and admins see the audit log" hint="It is not kept on this desk." />
            </section>
        };
    }
    // The server's names first; the desk's own (staff it can name, this desk) fill the gaps.
    let names = match &entries {
        Load::Ready(v) => names.ready().cloned().unwrap_or_default().with_desk(v),
        _ => names.ready().cloned().unwrap_or_default(),
    };
    let facets: AuditFacets = facets.ready().cloned().unwrap_or_default();
    let set = |f: fn(&mut AuditFilter, Option<String>)| {
        let filter = filter.clone();
        Callback::from(move |v: Option<String>| {
            let mut next = (*filter).clone();
            f(&mut next, v);
            filter.set(next);
        })
    };
    let set_date = |f: fn(&mut AuditFilter, Option<chrono::NaiveDate>)| {
        let filter = filter.clone();
        Callback::from(move |e: Event| {
            let mut next = (*filter).clone();
            f(&mut next, value_of(&e).parse().ok());
            filter.set(next);
        })
    };
    let on_clear = {
        let filter = filter.clone();
        Callback::from(move |_: MouseEvent| filter.set(AuditFilter::default()))
    };
    let filtered = *filter != AuditFilter::default();
    let people: Vec<(String, String)> = facets.actors.iter().map(|a| (a.clone(), names.person_choice(a))).collect();
    let devices: Vec<(String, String)> = facets.devices.iter().map(|d| (d.clone(), names.device_choice(d))).collect();
    let entities: Vec<(String, String)> = facets.entities.iter().map(|e| (e.clone(), entity_words(e))).collect();
    let actions: BTreeMap<String, String> = facets.actions.iter().map(|a| (a.clone(), action_words(a))).collect();
    let error = match &entries {
        Load::Failed(e) => Some(e.clone()),
        _ => None,
    };
    let body = match entries {
        Load::Loading => html! { <Loading what="the audit log" /> },
        Load::Failed(e) if e.field.is_some() => html! {},
        Load::Failed(e) => html! { <ErrorNote error={e} /> },
        Load::Ready(v) if v.entries.is_empty() && filtered => html! {
            <EmptyState title="No entry matches these filters" hint="Widen the dates or clear a filter." />
        },
        Load::Ready(v) if v.entries.is_empty() => html! {
            <EmptyState title="Nothing audited yet" hint="Every change made on any desk, the website or by Tourdesk itself appears here once it reaches this desk." />
        },
        Load::Ready(v) => {
            let more = v.entries.len() >= AuditFilter::MAX_LIMIT as usize;
            html! {
                <>
                    <AuditTable entries={v.entries} names={names.clone()} />
                    if more {
                        <p class="muted">{ format!("Showing the newest {}; narrow the filters to see older ones.", AuditFilter::MAX_LIMIT) }</p>
                    }
                </>
            }
        }
    };
    let f = (*filter).clone();
    html! {
        <section id="audit" class="page single">
            <h2>{ "Audit log" }</h2>
            <form class="audit-filters" aria-label="Filter the audit log" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
                <Pick id="audit-entity" label="Entity" all="All entities" options={entities} value={f.entity.clone()}
                    on_change={set(|f, v| { f.entity = v; f.entity_id = None; })} />
                <Pick id="audit-actor" label="Who" all="Everyone" options={people} value={f.actor.clone()}
                    on_change={set(|f, v| f.actor = v)} />
                <Pick id="audit-device" label="Device" all="All devices" options={devices} value={f.device_id.clone()}
                    on_change={set(|f, v| f.device_id = v)} />
                <Pick id="audit-action" label="Action" all="All actions" options={actions.into_iter().collect::<Vec<_>>()}
                    value={f.action.clone()} on_change={set(|f, v| f.action = v)} />
                <label>{ "From" }
                    <input id="audit-from" type="date" value={f.from.map(|d| d.to_string()).unwrap_or_default()}
                        onchange={set_date(|f, d| f.from = d)} />
                </label>
                <label>{ "To" }
                    <input id="audit-to" type="date" value={f.to.map(|d| d.to_string()).unwrap_or_default()}
                        onchange={set_date(|f, d| f.to = d)} />
                    { field_error(&error, "to") }
                </label>
                if filtered {
                    <button type="button" id="audit-clear" onclick={on_clear}>{ "Clear filters" }</button>
                }
            </form>
            { body }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use crate::pages::test_support::render_page;
    use crate::router::Route;

    #[tokio::test]
    async fn the_audit_log_starts_loading_with_its_filters() {
        let html = render_page(Route::Audit).await;
        assert!(html.contains("Loading the audit log…") && html.contains("id=\"audit\""), "{html}");
        for id in ["audit-entity", "audit-actor", "audit-device", "audit-action", "audit-from", "audit-to"] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}: {html}");
        }
        assert!(!html.contains("audit-clear"), "nothing to clear yet: {html}");
    }
}

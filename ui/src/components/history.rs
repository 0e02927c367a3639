//! An entity page's own history (issue 16): the audit log's entries for one booking, customer,
//! tour or departure, newest first, read from this desk's replica, with people and devices in
//! words (the server's names online, the replica's offline; never ids). Only owners' and admins'
//! desks hold the audit log (`replication::role_receives_audit`); elsewhere nothing is shown.

use tourdesk_domain::audit::AuditFilter;
use tourdesk_domain::protocol::EntityKind;
use yew::prelude::*;

use crate::components::audit::AuditTable;
use crate::components::states::{ErrorNote, Loading};
use crate::hooks::{Depends, Load, use_invoke};
use crate::services;
use crate::state::use_app;

/// The newest entries an entity page shows; the audit screen has the rest.
pub const HISTORY_LIMIT: u32 = 50;

#[derive(Properties, PartialEq)]
pub struct EntityHistoryProps {
    /// The audit log's entity name (`booking`, `customer`, `tour`, `departure`).
    pub entity: AttrValue,
    pub entity_id: String,
}

#[component]
pub fn EntityHistory(p: &EntityHistoryProps) -> Html {
    let app = use_app();
    let role = app.status.as_ref().and_then(|s| s.signed_in_as.as_ref()).map(|u| u.role);
    let filter = AuditFilter {
        entity: Some(p.entity.to_string()),
        entity_id: Some(p.entity_id.clone()),
        limit: Some(HISTORY_LIMIT),
        ..Default::default()
    };
    let entries = use_invoke(Depends::on(&[EntityKind::AuditLog]), filter, |f: AuditFilter| async move {
        services::named_audit_log(&f).await
    });
    // The server's staff and device lists when it can be asked; the desk's own names otherwise.
    let server_names = use_invoke(Depends::on(&[]), (), |_| crate::pages::audit::names());
    if !role.is_some_and(tourdesk_domain::replication::role_receives_audit) {
        return html! {};
    }
    let body = match entries {
        Load::Loading => html! { <Loading what="its history" /> },
        Load::Failed(e) => html! { <ErrorNote error={e} /> },
        Load::Ready(v) if v.entries.is_empty() => html! {
            <p class="muted">{ "No change recorded yet: changes appear once the server has them." }</p>
        },
        Load::Ready(v) => {
            let more = v.entries.len() >= HISTORY_LIMIT as usize;
            let names = server_names.ready().cloned().unwrap_or_default().with_desk(&v);
            html! {
                <>
                    <AuditTable entries={v.entries} names={names} entity_column={false} />
                    if more {
                        <p class="muted">{ format!("The newest {HISTORY_LIMIT}; the audit log has all of them.") }</p>
                    }
                </>
            }
        }
    };
    html! {
        <section class="entity-history" aria-label="History">
            <h3>{ "History" }</h3>
            { body }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::render_as;

    #[tokio::test]
    async fn owners_see_an_entitys_history_and_guides_do_not() {
        use tourdesk_domain::roles::Role;
        let page = || html! { <EntityHistory entity="booking" entity_id="b-1" /> };
        let html = render_as(Role::Owner, page()).await;
        assert!(html.contains("class=\"entity-history\"") && html.contains("Loading its history"), "{html}");
        let html = render_as(Role::Guide, page()).await;
        assert!(!html.contains("class=\"entity-history\""), "{html}");
    }
}

//! The navigation sidebar: one link per screen that exists, the inbox with its count.

use yew::prelude::*;

use crate::router::{Route, Section};

#[derive(Properties, PartialEq)]
pub struct SidebarProps {
    pub route: Route,
    /// Items waiting in the inbox (refused work, payments to look at).
    #[prop_or_default]
    pub inbox: u64,
}

#[component]
pub fn Sidebar(props: &SidebarProps) -> Html {
    let current = props.route.section();
    let app = crate::state::use_app();
    let role = app.status.as_ref().and_then(|s| s.signed_in_as.as_ref()).map(|u| u.role);
    html! {
        <nav class="sidebar" aria-label="Sections">
            { for Section::ALL.iter().filter(|s| s.shown_to(role)).map(|s| {
                let active = *s == current;
                html! {
                    <a id={s.id()} href={s.route().to_hash()} class={classes!("nav-link", active.then_some("active"))}
                       aria-current={active.then_some("page")}>
                        <span>{ s.label() }</span>
                        if *s == Section::Inbox && props.inbox > 0 {
                            <span id="inbox-count" class="count">{ props.inbox }</span>
                        }
                    </a>
                }
            }) }
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn links_every_screen_and_marks_the_current_one() {
        let html = yew::LocalServerRenderer::<Sidebar>::with_props(SidebarProps { route: Route::Inbox, inbox: 2 })
            .render()
            .await;
        for href in ["#/tours", "#/calendar", "#/customers", "#/inbox", "#/settings/organization"] {
            assert!(html.contains(&format!("href=\"{href}\"")), "{href}: {html}");
        }
        assert!(html.contains("aria-current=\"page\""), "{html}");
        assert!(html.contains("id=\"inbox-count\""), "{html}");
        let html =
            yew::LocalServerRenderer::<Sidebar>::with_props(SidebarProps { route: Route::Tours(None), inbox: 0 })
                .render()
                .await;
        assert!(!html.contains("inbox-count"), "no count when nothing waits: {html}");
        assert!(!html.contains("nav-audit"), "no audit log before the role is known: {html}");
    }

    #[tokio::test]
    async fn only_owners_and_admins_are_offered_the_audit_log() {
        use tourdesk_domain::roles::Role;
        for (role, shown) in [(Role::Owner, true), (Role::Admin, true), (Role::Manager, false), (Role::Guide, false)] {
            let html = crate::fixtures::render_as(role, html! { <Sidebar route={Route::Inbox} /> }).await;
            assert_eq!(html.contains("href=\"#/audit\""), shown, "{role}: {html}");
        }
    }

    #[tokio::test]
    async fn the_office_is_offered_review_moderation_and_a_guide_is_not() {
        use tourdesk_domain::roles::Role;
        for (role, shown) in [(Role::Owner, true), (Role::Admin, true), (Role::Manager, true), (Role::Guide, false)] {
            let html = crate::fixtures::render_as(role, html! { <Sidebar route={Route::Reviews} /> }).await;
            assert_eq!(html.contains("href=\"#/reviews\""), shown, "{role}: {html}");
        }
    }
}

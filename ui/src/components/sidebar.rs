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
    html! {
        <nav class="sidebar" aria-label="Sections">
            { for Section::ALL.iter().map(|s| {
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
    }
}

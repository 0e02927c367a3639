//! The designed states every screen shows the same way: nothing there yet, loading, failed.

use yew::prelude::*;

use crate::error::UiError;

#[derive(Properties, PartialEq)]
pub struct EmptyStateProps {
    pub title: AttrValue,
    #[prop_or_default]
    pub hint: Option<AttrValue>,
    /// An action that fills the emptiness (a "New tour" button).
    #[prop_or_default]
    pub children: Html,
}

#[component]
pub fn EmptyState(props: &EmptyStateProps) -> Html {
    html! {
        <div class="state empty">
            <p class="state-title">{ props.title.clone() }</p>
            if let Some(h) = &props.hint { <p class="muted">{ h.clone() }</p> }
            { props.children.clone() }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct LoadingProps {
    /// What is loading, in a few words ("tours").
    pub what: AttrValue,
}

/// A quiet placeholder: the desk reads its local database, so this shows only for moments.
#[component]
pub fn Loading(props: &LoadingProps) -> Html {
    html! {
        <div class="state loading" role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            <span class="muted">{ format!("Loading {}…", props.what) }</span>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ErrorNoteProps {
    pub error: UiError,
    /// Offered when trying again can help.
    #[prop_or_default]
    pub on_retry: Option<Callback<()>>,
}

#[component]
pub fn ErrorNote(props: &ErrorNoteProps) -> Html {
    html! {
        <div class="state failed" role="alert">
            <p class="error-text">{ props.error.message.clone() }</p>
            if let Some(retry) = &props.on_retry {
                <button class="retry" onclick={retry.reform(|_: MouseEvent| ())}>{ "Try again" }</button>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn render<C: BaseComponent>(props: C::Properties) -> String {
        yew::LocalServerRenderer::<C>::with_props(props).render().await
    }

    #[tokio::test]
    async fn the_three_states_read_as_sentences() {
        let html = render::<EmptyState>(EmptyStateProps {
            title: "No bookings".into(),
            hint: None,
            children: Html::default(),
        })
        .await;
        assert!(html.contains("No bookings"), "{html}");
        let html = render::<Loading>(LoadingProps { what: "tours".into() }).await;
        assert!(html.contains("Loading tours…") && html.contains("role=\"status\""), "{html}");
        let html =
            render::<ErrorNote>(ErrorNoteProps { error: UiError::local("The desk is busy"), on_retry: None }).await;
        assert!(html.contains("The desk is busy") && !html.contains("Try again"), "{html}");
        let html = render::<ErrorNote>(ErrorNoteProps {
            error: UiError::local("The desk is busy"),
            on_retry: Some(Callback::noop()),
        })
        .await;
        assert!(html.contains("Try again"), "{html}");
    }
}

//! Confirmations: each action that saves says so ("Booking saved — pending sync"), for a few
//! seconds, without taking the focus.

use yew::prelude::*;

use crate::state::Toast;

#[derive(Properties, PartialEq)]
pub struct ToastsProps {
    pub toasts: Vec<Toast>,
    pub on_dismiss: Callback<u64>,
}

#[component]
pub fn Toasts(props: &ToastsProps) -> Html {
    html! {
        <div id="toasts" class="toasts" role="status" aria-live="polite">
            { for props.toasts.iter().map(|t| {
                let id = t.id;
                html! {
                    <div class="toast" key={t.id.to_string()}>
                        <span>{ &t.text }</span>
                        <button class="toast-close" aria-label="Dismiss" onclick={props.on_dismiss.reform(move |_: MouseEvent| id)}>{ "×" }</button>
                    </div>
                }
            }) }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shows_each_confirmation_politely() {
        let html = yew::LocalServerRenderer::<Toasts>::with_props(ToastsProps {
            toasts: vec![Toast { id: 1, text: "Tour created".into() }],
            on_dismiss: Callback::noop(),
        })
        .render()
        .await;
        assert!(html.contains("Tour created") && html.contains("aria-live=\"polite\""), "{html}");
    }
}

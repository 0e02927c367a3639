//! Confirmations: each action that saves says so ("Booking saved"), for a few seconds, without
//! taking the focus. Each toast times itself out, so a burst of them all leave.

use yew::platform::spawn_local;
use yew::prelude::*;

use crate::state::Toast;

/// How long a confirmation stays on screen.
pub const TOAST_MS: u64 = 4000;

#[derive(Properties, PartialEq)]
pub struct ToastsProps {
    pub toasts: Vec<Toast>,
    pub on_dismiss: Callback<u64>,
}

#[component]
pub fn Toasts(props: &ToastsProps) -> Html {
    html! {
        <div id="toasts" class="toasts" role="status" aria-live="polite">
            { for props.toasts.iter().map(|t| html! {
                <ToastItem key={t.id.to_string()} id={t.id} text={t.text.clone()} on_dismiss={props.on_dismiss.clone()} />
            }) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct ToastItemProps {
    id: u64,
    text: String,
    on_dismiss: Callback<u64>,
}

#[component]
fn ToastItem(props: &ToastItemProps) -> Html {
    {
        let (id, on_dismiss) = (props.id, props.on_dismiss.clone());
        use_effect_with(id, move |_| {
            spawn_local(async move {
                yew::platform::time::sleep(std::time::Duration::from_millis(TOAST_MS)).await;
                on_dismiss.emit(id);
            });
        });
    }
    let id = props.id;
    html! {
        <div class="toast">
            <span>{ &props.text }</span>
            <button class="toast-close" aria-label="Dismiss" onclick={props.on_dismiss.reform(move |_: MouseEvent| id)}>{ "×" }</button>
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

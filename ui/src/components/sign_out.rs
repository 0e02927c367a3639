//! Signing out, as a dialog: the server revokes this desk, and the desk forgets the session and
//! its data. Unsent changes are named and discarded only when the person says so; an
//! unreachable server is said, and the person may sign out of this desk only.

use yew::platform::spawn_local;
use yew::prelude::*;

use crate::error::UiError;
use crate::hooks::close_on_escape;
use crate::router::{self, Route};
use crate::services;
use crate::state::{Action, use_app};

/// Where the dialog is.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Asking; with `pending` > 0 the question is whether to discard them.
    Confirm,
    Busy,
    /// The server did not revoke this desk (unreachable or an error): sign out here only?
    ServerFailed(UiError),
    Failed(UiError),
}

#[derive(Properties, PartialEq)]
pub struct SignOutViewProps {
    pub step: Step,
    /// Changes made on this desk that the server has not received.
    pub pending: u64,
    #[prop_or_default]
    pub on_confirm: Callback<()>,
    #[prop_or_default]
    pub on_local_only: Callback<()>,
    #[prop_or_default]
    pub on_close: Callback<()>,
}

#[component]
pub fn SignOutView(props: &SignOutViewProps) -> Html {
    let on_escape = close_on_escape(&props.on_close);
    let cancel = html! {
        <button id="sign-out-cancel" onclick={props.on_close.reform(|_: MouseEvent| ())}>{ "Cancel" }</button>
    };
    let body = match &props.step {
        Step::Confirm | Step::Busy => {
            let busy = props.step == Step::Busy;
            let (text, label) = if props.pending > 0 {
                (
                    format!(
                        "{} {} made on this desk {} not reached the server yet. Signing out discards {} for good.",
                        props.pending,
                        if props.pending == 1 { "change" } else { "changes" },
                        if props.pending == 1 { "has" } else { "have" },
                        if props.pending == 1 { "it" } else { "them" },
                    ),
                    format!("Discard {} and sign out", if props.pending == 1 { "it" } else { "them" }),
                )
            } else {
                (
                    "The server will revoke this desk, and the desk forgets your organization's data. Signing in \
                     again fetches it anew."
                        .to_string(),
                    "Sign out".to_string(),
                )
            };
            html! {
                <>
                    <p id="sign-out-text" class={if props.pending > 0 { "warning" } else { "" }}>{ text }</p>
                    <div class="actions">
                        <button id="sign-out-confirm" class={if props.pending > 0 { "danger" } else { "primary" }}
                            disabled={busy} onclick={props.on_confirm.reform(|_: MouseEvent| ())}>
                            if busy { <span class="spinner" aria-hidden="true"></span>{ "Signing out…" } } else { { label } }
                        </button>
                        { cancel }
                    </div>
                </>
            }
        }
        Step::ServerFailed(e) => html! {
            <>
                <p id="sign-out-text" class="warning" role="alert">{ e.message.clone() }</p>
                <p class="muted">{ "Signed out of this desk only, the desk forgets your sign-in and cannot sync as you again, but the server keeps listing it until an owner or admin revokes it." }</p>
                <div class="actions">
                    <button id="sign-out-local" class="danger" onclick={props.on_local_only.reform(|_: MouseEvent| ())}>{ "Sign out of this desk only" }</button>
                    { cancel }
                </div>
            </>
        },
        Step::Failed(e) => html! {
            <>
                <p id="sign-out-text" class="error-text" role="alert">{ e.message.clone() }</p>
                <div class="actions">{ cancel }</div>
            </>
        },
    };
    html! {
        <div class="palette-backdrop">
            <div id="sign-out-dialog" class="palette dialog" role="dialog" aria-modal="true" aria-labelledby="sign-out-title" onkeydown={on_escape}>
                <h2 id="sign-out-title">{ "Sign out?" }</h2>
                { body }
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct SignOutDialogProps {
    pub on_close: Callback<()>,
}

/// The dialog with its calls; the focus starts on the safe choice when something would be lost.
#[component]
pub fn SignOutDialog(props: &SignOutDialogProps) -> Html {
    let app = use_app();
    let step = use_state(|| Step::Confirm);
    // The count the person agreed to discard: more arriving meanwhile asks again.
    let pending = app.status.as_ref().map_or(0, |s| s.pending);
    {
        let first = if pending > 0 { "sign-out-cancel" } else { "sign-out-confirm" };
        use_effect_with((), move |_| focus(first));
    }
    let run = {
        let (step, app, on_close) = (step.clone(), app.clone(), props.on_close.clone());
        Callback::from(move |local_only: bool| {
            let (step, app, on_close) = (step.clone(), app.clone(), on_close.clone());
            step.set(Step::Busy);
            spawn_local(async move {
                match services::sign_out(pending > 0, local_only).await {
                    Ok(out) => {
                        on_close.emit(());
                        let text = match (out.revoked, out.discarded) {
                            (true, 0) => "Signed out; the server has revoked this desk".to_string(),
                            (true, n) => format!("Signed out; {n} unsent changes discarded"),
                            (false, _) => "Signed out of this desk only; the server still lists it".to_string(),
                        };
                        app.dispatch(Action::Toast(text));
                        if let Ok(s) = services::desk_status().await {
                            app.dispatch(Action::Status(s));
                        }
                        router::navigate(&Route::SignIn);
                    }
                    // Changes were made meanwhile: ask again, with the new count.
                    Err(e) if e.code == "PENDING_CHANGES" => {
                        if let Ok(s) = services::desk_status().await {
                            app.dispatch(Action::Status(s));
                        }
                        step.set(Step::Confirm);
                    }
                    Err(e) if matches!(e.code.as_str(), "OFFLINE" | "SIGN_OUT_FAILED") => {
                        step.set(Step::ServerFailed(e));
                        focus("sign-out-cancel");
                    }
                    Err(e) => step.set(Step::Failed(e)),
                }
            });
        })
    };
    html! {
        <SignOutView step={(*step).clone()} pending={pending}
            on_confirm={run.reform(|()| false)} on_local_only={run.reform(|()| true)} on_close={props.on_close.clone()} />
    }
}

fn focus(id: &'static str) {
    #[cfg(target_arch = "wasm32")]
    {
        use web_sys::wasm_bindgen::JsCast;
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(id))
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = id;
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn render(step: Step, pending: u64) -> String {
        let props = SignOutViewProps {
            step,
            pending,
            on_confirm: Callback::noop(),
            on_local_only: Callback::noop(),
            on_close: Callback::noop(),
        };
        yew::LocalServerRenderer::<SignOutView>::with_props(props).render().await
    }

    #[tokio::test]
    async fn unsent_changes_are_counted_and_discarded_only_when_asked() {
        let plain = render(Step::Confirm, 0).await;
        assert!(plain.contains(">Sign out<") && plain.contains("revoke this desk"), "{plain}");
        let queued = render(Step::Confirm, 3).await;
        assert!(queued.contains("3 changes made on this desk have not reached the server"), "{queued}");
        assert!(queued.contains("Discard them and sign out"), "{queued}");
        let busy = render(Step::Busy, 0).await;
        assert!(busy.contains("Signing out…") && busy.contains("disabled"), "{busy}");
    }

    #[tokio::test]
    async fn an_unreachable_server_offers_signing_out_of_this_desk_only() {
        let e = UiError { code: "OFFLINE".into(), message: "The server cannot be reached".into(), field: None };
        let html = render(Step::ServerFailed(e), 0).await;
        assert!(html.contains("The server cannot be reached") && html.contains("id=\"sign-out-local\""), "{html}");
        assert!(html.contains("Sign out of this desk only"), "{html}");
    }
}

//! Settings › Messages: what the system sends customers (confirmation, reminder, cancellation,
//! refund, balance request, cancelled departure), one template per kind and language. The list
//! says which are the organization's own; the editor shows a live preview rendered by the domain
//! with sample data, and a placeholder it does not know beside the field that holds it. Templates
//! live on the server: the list loads online, and saving needs the connection.

use tourdesk_domain::messages::{self, MessageKind, Template, TemplateEntry, language_label};
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::platform::spawn_local;
use yew::prelude::*;

use super::settings::{use_generation, use_reconnects};
use crate::components::settings::load_failed;
use crate::components::states::Loading;
use crate::error::UiError;
use crate::hooks::{Depends, Load, use_invoke_refreshing};
use crate::services;
use crate::state::{Action, use_app};

const ONLINE: Depends = Depends::on(&[]);

#[component]
pub fn MessagesTab() -> Html {
    let app = use_app();
    let (generation, reload) = use_generation();
    let reconnects = use_reconnects();
    let list = use_invoke_refreshing(ONLINE, (), generation + reconnects, |_| services::list_message_templates());
    let on_saved = {
        let (app, reload) = (app.clone(), reload.clone());
        Callback::from(move |words: String| {
            app.dispatch(Action::Toast(words));
            reload.emit(());
        })
    };
    match list {
        Load::Loading => html! { <Loading what="the messages" /> },
        Load::Failed(e) => load_failed("The messages", &e, reload),
        Load::Ready(templates) => html! { <MessagesEditor templates={templates} on_saved={on_saved} /> },
    }
}

#[derive(Properties, PartialEq)]
pub struct MessagesEditorProps {
    pub templates: Vec<TemplateEntry>,
    /// After a save or a reset, with the words to show.
    pub on_saved: Callback<String>,
}

/// The list of kinds × languages and the editor of the one chosen (the first at the start).
#[component]
pub fn MessagesEditor(props: &MessagesEditorProps) -> Html {
    let first = props.templates.first().map(|t| (t.kind, t.language.clone()));
    let selected = use_state(|| first);
    let chosen = (*selected)
        .as_ref()
        .and_then(|(k, l)| props.templates.iter().find(|t| t.kind == *k && t.language == *l))
        .or(props.templates.first())
        .cloned();
    let rows = MessageKind::ALL.iter().flat_map(|kind| {
        props.templates.iter().filter(move |t| t.kind == *kind).map(|t| {
            let active = chosen.as_ref().is_some_and(|c| c.kind == t.kind && c.language == t.language);
            let onclick = {
                let (selected, key) = (selected.clone(), (t.kind, t.language.clone()));
                Callback::from(move |_: MouseEvent| selected.set(Some(key.clone())))
            };
            html! {
                <tr class={classes!("template-row", active.then_some("selected"))}
                    id={format!("template-{}-{}", t.kind.as_str(), t.language)}>
                    <td><button class="link" onclick={onclick} aria-pressed={active.to_string()}>{ t.kind.label() }</button></td>
                    <td>{ language_label(&t.language) }</td>
                    <td>{ if t.customized { "Your own" } else { "Built-in" } }</td>
                </tr>
            }
        })
    });
    html! {
        <div class="messages-settings">
            <section class="settings-section" aria-labelledby="messages-title">
                <h2 id="messages-title">{ "Messages to customers" }</h2>
                <p class="hint">{ "Each message is sent by e-mail in the customer's language. Edit the words; the preview shows them with a sample booking." }</p>
                <table class="templates">
                    <thead><tr><th>{ "Message" }</th><th>{ "Language" }</th><th>{ "Text" }</th></tr></thead>
                    <tbody>{ for rows }</tbody>
                </table>
            </section>
            if let Some(t) = chosen {
                // Keyed by what the server holds, so a save or a reset starts the form again from it.
                <TemplateForm key={format!("{}-{}-{}-{}", t.kind.as_str(), t.language, t.customized, t.subject.len() + t.body.len())}
                    entry={t.clone()} on_saved={props.on_saved.clone()} />
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct TemplateFormProps {
    pub entry: TemplateEntry,
    pub on_saved: Callback<String>,
}

/// One template's subject and text, the placeholders it may use, and its live preview.
#[component]
pub fn TemplateForm(props: &TemplateFormProps) -> Html {
    let e = &props.entry;
    let subject = use_state(|| e.subject.clone());
    let body = use_state(|| e.body.clone());
    let busy = use_state(|| false);
    let error = use_state(|| None::<UiError>);
    let template = Template { subject: (*subject).clone(), body: (*body).clone() };
    // The same check and render the server makes, so what is shown is what is sent.
    let preview = messages::preview(&template, &e.language);
    let on_subject = {
        let subject = subject.clone();
        Callback::from(move |ev: InputEvent| subject.set(ev.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let on_body = {
        let body = body.clone();
        Callback::from(move |ev: InputEvent| body.set(ev.target_unchecked_into::<HtmlTextAreaElement>().value()))
    };
    let on_save = {
        let (kind, language, on_saved) = (e.kind, e.language.clone(), props.on_saved.clone());
        let (subject, body, busy, error) = (subject.clone(), body.clone(), busy.clone(), error.clone());
        Callback::from(move |ev: SubmitEvent| {
            ev.prevent_default();
            let (language, on_saved, busy, error) = (language.clone(), on_saved.clone(), busy.clone(), error.clone());
            let (s, b) = ((*subject).clone(), (*body).clone());
            busy.set(true);
            spawn_local(async move {
                let r = services::save_message_template(kind, &language, &s, &b).await;
                busy.set(false);
                match r {
                    Ok(_) => {
                        error.set(None);
                        on_saved.emit(format!("{} saved", kind.label()));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let on_reset = {
        let (kind, language, on_saved) = (e.kind, e.language.clone(), props.on_saved.clone());
        let (busy, error) = (busy.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            let (language, on_saved, busy, error) = (language.clone(), on_saved.clone(), busy.clone(), error.clone());
            busy.set(true);
            spawn_local(async move {
                let r = services::reset_message_template(kind, &language).await;
                busy.set(false);
                match r {
                    Ok(_) => on_saved.emit(format!("{} is the built-in text again", kind.label())),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    // A problem the preview found, else the server's answer to the last save.
    let problem = match &preview {
        Err(p) => Some(UiError::at_field(p.field, p.message.clone())),
        Ok(_) => (*error).clone(),
    };
    let note = |field: &str| match &problem {
        Some(p) if p.is_field(field) => {
            html! { <span class="field-error" data-field={field.to_string()} role="alert">{ p.message.clone() }</span> }
        }
        _ => html! {},
    };
    let other = match &problem {
        Some(p) if !p.is_field("subject") && !p.is_field("body") => {
            html! { <p class="error-text" role="alert">{ p.message.clone() }</p> }
        }
        _ => html! {},
    };
    html! {
        <section class="settings-section template-editor" aria-labelledby="template-title">
            <h2 id="template-title">{ format!("{} ({})", e.kind.label(), language_label(&e.language)) }</h2>
            <form onsubmit={on_save}>
                <label for="template-subject">{ "Subject" }</label>
                <input id="template-subject" value={(*subject).clone()} oninput={on_subject} maxlength={messages::MAX_SUBJECT.to_string()} />
                { note("subject") }
                <label for="template-body">{ "Text" }</label>
                <textarea id="template-body" rows="12" value={(*body).clone()} oninput={on_body} />
                { note("body") }
                { other }
                <details class="placeholders">
                    <summary>{ "Placeholders you can use" }</summary>
                    <dl>
                        { for messages::PLACEHOLDERS.iter().map(|(name, what)| html! {
                            <><dt><code>{ format!("{{{name}}}") }</code></dt><dd>{ *what }</dd></>
                        }) }
                    </dl>
                </details>
                <div class="actions">
                    <button type="submit" id="template-save" disabled={*busy || preview.is_err()}>{ "Save" }</button>
                    if e.customized {
                        <button type="button" id="template-reset" onclick={on_reset} disabled={*busy}>{ "Use the built-in text" }</button>
                    }
                </div>
            </form>
            <div class="template-preview" aria-live="polite">
                <h3>{ "Preview" }</h3>
                { match &preview {
                    Ok(r) => html! {
                        <>
                            <p class="preview-subject"><strong>{ r.subject.clone() }</strong></p>
                            <pre class="preview-body">{ r.body.clone() }</pre>
                        </>
                    },
                    Err(_) => html! { <p class="hint">{ "The preview shows once the placeholders are right." }</p> },
                } }
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: MessageKind, language: &str, customized: bool) -> TemplateEntry {
        let t = messages::default_template(kind, language);
        TemplateEntry { kind, language: language.into(), subject: t.subject, body: t.body, customized }
    }

    async fn render(templates: Vec<TemplateEntry>) -> String {
        yew::LocalServerRenderer::<MessagesEditor>::with_props(MessagesEditorProps {
            templates,
            on_saved: Callback::noop(),
        })
        .render()
        .await
    }

    #[tokio::test]
    async fn the_list_says_which_texts_are_our_own_and_the_first_is_previewed_with_sample_data() {
        let html = render(vec![
            entry(MessageKind::Confirmation, "en", true),
            entry(MessageKind::Confirmation, "de", false),
            entry(MessageKind::Reminder, "en", false),
        ])
        .await;
        for want in [
            "Booking confirmation",
            "Reminder before the departure",
            "German",
            "Your own",
            "Built-in",
            "Booking confirmed: Old Town Walk — BK-2026-ABC123",
            "Paid: £90.00",
            "{customer_name}",
            "Use the built-in text",
        ] {
            assert!(html.contains(want), "{want:?} missing: {html}");
        }
    }

    #[tokio::test]
    async fn an_unknown_placeholder_is_named_beside_its_field_and_nothing_is_previewed() {
        let mut bad = entry(MessageKind::Reminder, "en", false);
        bad.body = "Hello {first_name}".into();
        let html = render(vec![bad]).await;
        assert!(html.contains(r#"data-field="body""#), "{html}");
        assert!(html.contains("{first_name} is not a placeholder"), "{html}");
        assert!(html.contains("The preview shows once the placeholders are right"), "{html}");
        assert!(!html.contains("Use the built-in text"), "a built-in text has nothing to reset: {html}");
    }
}

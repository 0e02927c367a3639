//! A one-off message from a booking (issue 13): staff write to its customer by e-mail or, when
//! the customer has a phone and agreed to texts, by SMS. The channels the customer cannot be
//! reached by are shown greyed out with the reason (the domain's, asked by the desk). The desk
//! queues the message at once, offline too; the server sends it, and it then shows on the
//! booking's timeline and the customer's messages.

use tourdesk_domain::ipc::{MessageOptions, NewCustomerMessage};
use tourdesk_domain::mutation::{MESSAGE_SUBJECT_MAX, MessageChannel};
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::components::dialog::{DialogFooter, FormDialog, field_error};
use crate::error::UiError;
use crate::hooks::spawn_save;
use crate::services;

#[derive(Properties, PartialEq)]
pub struct SendMessageDialogProps {
    pub options: MessageOptions,
    /// After the desk queued it, with the channel it goes by.
    pub on_sent: Callback<MessageChannel>,
    pub on_close: Callback<()>,
}

const FIELDS: [&str; 3] = ["channel", "subject", "body"];

/// The first channel that reaches the customer (e-mail before SMS), if any does.
pub fn first_usable(o: &MessageOptions) -> Option<MessageChannel> {
    o.channels.iter().find(|c| c.unavailable.is_none()).map(|c| c.channel)
}

/// The dialog: the channel, a subject and the message. Errors stand beside their fields; Escape or
/// "Cancel" closes it.
#[component]
pub fn SendMessageDialog(props: &SendMessageDialogProps) -> Html {
    let channel = {
        let start = first_usable(&props.options);
        use_state(move || start)
    };
    let subject = use_state(String::new);
    let body = use_state(String::new);
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let on_subject = {
        let subject = subject.clone();
        Callback::from(move |e: InputEvent| subject.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let on_body = {
        let body = body.clone();
        Callback::from(move |e: InputEvent| body.set(e.target_unchecked_into::<HtmlTextAreaElement>().value()))
    };
    let on_submit = {
        let (channel, subject, body, error, busy) =
            (channel.clone(), subject.clone(), body.clone(), error.clone(), busy.clone());
        let (booking_id, on_sent) = (props.options.booking_id.clone(), props.on_sent.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(ch) = *channel else {
                error.set(Some(UiError::at_field("channel", "The customer cannot be reached by e-mail or text")));
                return;
            };
            if subject.trim().is_empty() {
                error.set(Some(UiError::at_field("subject", "Enter a subject")));
                return;
            }
            if body.trim().is_empty() {
                error.set(Some(UiError::at_field("body", "Write the message")));
                return;
            }
            let input = NewCustomerMessage {
                booking_id: booking_id.clone(),
                channel: ch,
                subject: subject.trim().to_string(),
                body: body.trim().to_string(),
            };
            let sent = on_sent.reform(move |()| ch);
            spawn_save(&busy, &error, &sent, async move { services::send_customer_message(&input).await });
        })
    };
    let err = (*error).clone();
    let beside = |field: &str| field_error(&err, "message", field);
    let o = &props.options;
    let max_body = (*channel).unwrap_or(MessageChannel::Email).body_max();
    html! {
        <FormDialog name="send-message" title="Send a message" onsubmit={on_submit} on_close={props.on_close.clone()}>
            <p class="dialog-subject"><strong>{ format!("Booking {}", o.reference_number) }</strong>
                { format!(" · to {}", o.customer_name) }</p>
            <fieldset id="message-channel">
                <legend>{ "Send by" }</legend>
                { for o.channels.iter().map(|c| {
                    let ch = c.channel;
                    let pick = {
                        let channel = channel.clone();
                        Callback::from(move |_: Event| channel.set(Some(ch)))
                    };
                    let id = format!("message-channel-{}", ch.as_str());
                    html! {
                        <label class={classes!("check", c.unavailable.is_some().then_some("muted"))}>
                            <input id={id} type="radio" name="message-channel" value={ch.as_str()}
                                   checked={*channel == Some(ch)} disabled={c.unavailable.is_some()} onchange={pick} />
                            { ch.label() }
                            if let Some(to) = &c.to { { format!(" ({to})") } }
                            if let Some(why) = &c.unavailable {
                                <span class="muted" id={format!("message-channel-{}-why", ch.as_str())}>{ format!(": not possible, {why}") }</span>
                            }
                        </label>
                    }
                }) }
                { beside("channel") }
            </fieldset>
            <label>{ "Subject" }
                <input id="message-subject" maxlength={MESSAGE_SUBJECT_MAX.to_string()} autocomplete="off" value={(*subject).clone()} oninput={on_subject} />
                { beside("subject") }
            </label>
            <label>{ format!("Message (at most {max_body} characters)") }
                <textarea id="message-body" rows="6" maxlength={max_body.to_string()} value={(*body).clone()} oninput={on_body} />
                { beside("body") }
            </label>
            <p class="muted">{ "Queued on this desk at once, offline too; it goes out when the desk syncs and then shows on the booking's timeline." }</p>
            <DialogFooter name="send-message" error={err.clone()} fields={&FIELDS[..]} confirm_id="confirm-send-message"
                          confirm_label="Send message" disabled={*busy || channel.is_none()} keep_id="cancel-send-message"
                          keep_label="Cancel" on_keep={props.on_close.clone()} />
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tourdesk_domain::ipc::ChannelOption;

    pub fn options(sms: Option<&str>, email: Option<&str>) -> MessageOptions {
        MessageOptions {
            booking_id: "b-1".into(),
            reference_number: "BK-2026-ABC123".into(),
            customer_id: "c-1".into(),
            customer_name: "Ana Silva".into(),
            channels: vec![
                ChannelOption {
                    channel: MessageChannel::Email,
                    to: Some("ana@example.com".into()),
                    unavailable: email.map(str::to_string),
                },
                ChannelOption {
                    channel: MessageChannel::Sms,
                    to: Some("+351912345678".into()),
                    unavailable: sms.map(str::to_string),
                },
            ],
        }
    }

    async fn render(o: MessageOptions) -> String {
        yew::LocalServerRenderer::<SendMessageDialog>::with_props(SendMessageDialogProps {
            options: o,
            on_sent: Callback::noop(),
            on_close: Callback::noop(),
        })
        .render()
        .await
    }

    #[tokio::test]
    async fn the_dialog_offers_the_channels_that_reach_the_customer_and_says_why_not_the_others() {
        let html = render(options(Some("the customer has not agreed to text messages"), None)).await;
        assert!(html.contains("role=\"dialog\"") && html.contains("Send a message"), "{html}");
        assert!(html.contains("Booking BK-2026-ABC123") && html.contains("to Ana Silva"), "{html}");
        assert!(html.contains("(ana@example.com)"), "{html}");
        assert!(html.contains("id=\"message-channel-sms-why\""), "{html}");
        assert!(html.contains("not possible, the customer has not agreed to text messages"), "{html}");
        assert!(html.contains("id=\"message-subject\"") && html.contains("id=\"message-body\""), "{html}");
        assert!(html.contains("id=\"confirm-send-message\"") && html.contains("id=\"cancel-send-message\""), "{html}");
        assert!(html.contains("at most 5000 characters"), "{html}");
        // The text message cannot be picked (which one is, `checked`, is a property SSR leaves out).
        let email = html.split("id=\"message-channel-email\"").nth(1).unwrap().split('>').next().unwrap();
        assert!(!email.contains("disabled"), "{email}");
        let sms = html.split("id=\"message-channel-sms\"").nth(1).unwrap().split('>').next().unwrap();
        assert!(sms.contains("disabled"), "{sms}");
    }

    #[tokio::test]
    async fn with_no_channel_the_dialog_cannot_send_and_a_text_only_customer_gets_a_text() {
        let none = options(Some("the customer has no phone number"), Some("the customer has no e-mail address"));
        assert_eq!(first_usable(&none), None);
        let html = render(none).await;
        let confirm = html.split("id=\"confirm-send-message\"").nth(1).unwrap().split('>').next().unwrap();
        assert!(confirm.contains("disabled"), "{confirm}");
        let texts = options(None, Some("the customer has no e-mail address"));
        assert_eq!(first_usable(&texts), Some(MessageChannel::Sms));
        let html = render(texts).await;
        assert!(html.contains("at most 1600 characters"), "{html}");
    }
}

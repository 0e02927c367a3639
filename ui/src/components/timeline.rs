//! A booking's timeline (issue 13): everything that happened to it, newest first, in its
//! departure's zone, from the audit log (who, from which device, what changed, in words) and the
//! communications log (which message, how, and whether it went out); and a customer's messages.
//! The domain merges and words the entries (`tourdesk_domain::timeline`); this only shows them.

use tourdesk_domain::communication::{Communication, channel_words, kind_words, status_words};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::timeline::{EntrySource, NamedTimeline, TimelineEntry};
use yew::prelude::*;

use crate::components::audit::AuditNames;
use crate::components::states::{ErrorNote, Loading};
use crate::error::UiError;
use crate::hooks::{Depends, Load, use_invoke};
use crate::services::call;

const TIMELINE_KINDS: Depends = Depends::on(&[
    EntityKind::AuditLog,
    EntityKind::Communication,
    EntityKind::Booking,
    EntityKind::LedgerEntry,
    EntityKind::Departure,
]);
const MESSAGE_KINDS: Depends = Depends::on(&[EntityKind::Communication]);

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct BookingArg<'a> {
    booking_id: &'a str,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomerArg<'a> {
    customer_id: &'a str,
}

pub async fn booking_timeline(booking_id: &str) -> Result<NamedTimeline, UiError> {
    call("booking_timeline", &BookingArg { booking_id }).await
}

pub async fn resend_confirmation(booking_id: &str) -> Result<(), UiError> {
    call("resend_confirmation", &BookingArg { booking_id }).await
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ReceiptArgs<'a> {
    reference: &'a str,
    path: &'a str,
}

/// Saves the booking's receipt PDF in the downloads folder; answers where.
pub async fn save_receipt(reference: &str) -> Result<String, UiError> {
    call("save_receipt", &ReceiptArgs { reference, path: "" }).await
}

pub async fn customer_communications(customer_id: &str) -> Result<Vec<Communication>, UiError> {
    call("customer_communications", &CustomerArg { customer_id }).await
}

#[derive(Properties, PartialEq)]
pub struct TimelineListProps {
    pub entries: Vec<TimelineEntry>,
    #[prop_or_default]
    pub names: AuditNames,
}

/// The entries as a list, newest first (as given).
#[component]
pub fn TimelineList(p: &TimelineListProps) -> Html {
    html! {
        <ol class="timeline">
            { for p.entries.iter().map(|e| {
                let class = classes!(
                    "timeline-entry",
                    match e.source { EntrySource::Change => "change", EntrySource::Message => "message" },
                    e.problem.then_some("problem"),
                );
                let who = e.actor.as_deref().map(|a| {
                    let device = e.device_id.as_deref().map(|d| format!(" · {}", p.names.device_words(Some(d)))).unwrap_or_default();
                    format!("{}{device}", p.names.person_words(a))
                });
                html! {
                    <li class={class}>
                        <time datetime={e.at.to_rfc3339()}>{ e.when.clone() }</time>
                        <strong class="what">{ e.title.clone() }</strong>
                        if let Some(who) = who { <span class="who">{ who }</span> }
                        if let Some(s) = &e.status { <span class={classes!("badge", e.problem.then_some("danger"))}>{ s.clone() }</span> }
                        if !e.details.is_empty() {
                            <ul class="details">{ for e.details.iter().map(|d| html! { <li>{ d.clone() }</li> }) }</ul>
                        }
                    </li>
                }
            }) }
        </ol>
    }
}

#[derive(Properties, PartialEq)]
pub struct BookingTimelineProps {
    pub booking_id: String,
}

/// The booking page's timeline section.
#[component]
pub fn BookingTimeline(p: &BookingTimelineProps) -> Html {
    let entries = use_invoke(TIMELINE_KINDS, p.booking_id.clone(), |id| async move { booking_timeline(&id).await });
    let names = use_invoke(Depends::on(&[]), (), |_| crate::pages::audit::names());
    let names = names.ready().cloned().unwrap_or_default();
    let body = match entries {
        Load::Loading => html! { <Loading what="its timeline" /> },
        Load::Failed(e) => html! { <ErrorNote error={e} /> },
        Load::Ready(v) if v.entries.is_empty() => html! {
            <p class="muted">{ "Nothing recorded yet: changes and messages appear once the server has them." }</p>
        },
        // The server's names first; offline they are empty and the desk's own are all there is.
        Load::Ready(v) => {
            let names = names.with_desk_names(&v.people, v.this_device.as_deref());
            html! { <TimelineList entries={v.entries} names={names} /> }
        }
    };
    html! {
        <section id="booking-timeline" class="panel timeline-section" aria-label="Timeline">
            <h3>{ "Timeline" }</h3>
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct CustomerMessagesProps {
    pub customer_id: String,
}

/// The customer page's messages: what was sent, how, when and whether it went out.
#[component]
pub fn CustomerMessages(p: &CustomerMessagesProps) -> Html {
    let messages =
        use_invoke(MESSAGE_KINDS, p.customer_id.clone(), |id| async move { customer_communications(&id).await });
    let body = match messages {
        Load::Loading => html! { <Loading what="their messages" /> },
        Load::Failed(e) => html! { <ErrorNote error={e} /> },
        Load::Ready(v) if v.is_empty() => html! { <p class="muted">{ "No message sent to this customer yet." }</p> },
        Load::Ready(v) => html! {
            <table class="messages">
                <thead><tr><th>{ "Queued" }</th><th>{ "Message" }</th><th>{ "By" }</th><th>{ "State" }</th></tr></thead>
                <tbody>
                    { for v.iter().map(|m| html! {
                        <tr class={classes!(matches!(m.status.as_str(), "failed" | "bounced").then_some("problem"))}>
                            <td>{ crate::clock::local_words(m.created_at) }</td>
                            <td>{ m.subject.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| kind_words(&m.kind)) }</td>
                            <td>{ channel_words(&m.channel) }</td>
                            <td>
                                { status_words(&m.status) }
                                if let Some(r) = &m.failure_reason { <span class="muted">{ format!(" — {r}") }</span> }
                            </td>
                        </tr>
                    }) }
                </tbody>
            </table>
        },
    };
    html! {
        <section id="customer-messages" class="panel" aria-label="Messages">
            <h3>{ "Messages" }</h3>
            { body }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use chrono::{TimeZone, Utc};

    #[tokio::test]
    async fn entries_read_in_words_with_who_and_a_failed_message_stands_out() {
        let at = Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap();
        let entries = vec![
            TimelineEntry {
                at,
                when: "Fri 1 May 2026, 10:00 WEST".into(),
                source: EntrySource::Message,
                title: "Booking reminder by e-mail".into(),
                actor: None,
                device_id: None,
                details: vec!["Why: no address".into()],
                status: Some("Not sent".into()),
                problem: true,
            },
            TimelineEntry {
                at,
                when: "Fri 1 May 2026, 10:00 WEST".into(),
                source: EntrySource::Change,
                title: "Payment recorded".into(),
                actor: Some("u-1".into()),
                device_id: Some("dev-1".into()),
                details: vec!["Paid amount: €0.00 → €90.00".into()],
                status: None,
                problem: false,
            },
            TimelineEntry {
                at,
                when: "Fri 1 May 2026, 10:00 WEST".into(),
                source: EntrySource::Change,
                title: "Booking modified".into(),
                actor: Some("u-9f3c".into()),
                device_id: Some("dev-7a1e".into()),
                details: vec![],
                status: None,
                problem: false,
            },
            // Made on this desk by someone only the desk can name (offline, say).
            TimelineEntry {
                at,
                when: "Fri 1 May 2026, 10:00 WEST".into(),
                source: EntrySource::Change,
                title: "Booking moved".into(),
                actor: Some("u-mia".into()),
                device_id: Some("dev-here".into()),
                details: vec![],
                status: None,
                problem: false,
            },
        ];
        let mut names = AuditNames::default();
        names.people.insert("u-1".into(), "Olivia Owner".into());
        names.devices.insert("dev-1".into(), "Front desk".into());
        // What the desk's own timeline carries (offline, all there is): its names yield to the
        // server's for whoever both know.
        let desk =
            BTreeMap::from([("u-1".to_string(), "Old name".to_string()), ("u-mia".into(), "Mia Manager".into())]);
        let names = names.with_desk_names(&desk, Some("dev-here"));
        let html =
            yew::LocalServerRenderer::<TimelineList>::with_props(TimelineListProps { entries, names }).render().await;
        assert!(html.contains("Olivia Owner · Front desk") && html.contains("Paid amount: €0.00 → €90.00"), "{html}");
        assert!(html.contains("Mia Manager · This desk") && !html.contains("Old name"), "{html}");
        assert!(html.contains("timeline-entry message problem") && html.contains("Not sent"), "{html}");
        assert!(!html.contains("u-1"), "a person, not an id: {html}");
        // Someone neither the server's lists nor this desk can name (offline, say) reads in words
        // as the audit screen's tables do, never as ids.
        assert!(html.contains("Staff member · Another device"), "{html}");
        assert!(!html.contains("u-9f3c") && !html.contains("dev-7a1e"), "{html}");
    }
}

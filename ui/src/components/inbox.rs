//! The inbox's lists: work the server refused (other than bookings, which have their own list
//! with actions in `bookings::RejectedBookings`) and payments that need a look.

use tourdesk_domain::ipc::Outcome;
use tourdesk_domain::payment::PaymentIssue;
use yew::prelude::*;

use crate::components::keyboard::on_row_keys;
use crate::error::refusal;
use crate::router::Route;
use crate::words::sentence;

#[derive(Properties, PartialEq)]
pub struct RejectionsProps {
    pub items: Vec<Outcome>,
    pub on_dismiss: Callback<u64>,
}

/// Work the server refused. It never disappears silently: a person dismisses it.
#[component]
pub fn Rejections(props: &RejectionsProps) -> Html {
    if props.items.is_empty() {
        return html! {};
    }
    html! {
        <section id="rejections" class="rejections">
            <h3>{ format!("Refused by the server ({})", props.items.len()) }</h3>
            <ul onkeydown={Callback::from(on_row_keys)}>
            { for props.items.iter().map(|o| {
                let id = o.mutation_id;
                let action = action_words(&o.name);
                let what = o.args.get("name").and_then(|v| v.as_str()).map(|n| format!("{action} “{n}”")).unwrap_or(action);
                let on_dismiss = props.on_dismiss.reform(move |_: MouseEvent| id);
                let (head, detail) = refusal(o.code.as_deref(), o.detail.as_deref());
                html! {
                    <li class="rejection" data-row="" tabindex="0">
                        <strong>{ what }</strong>
                        <span class="code" title={o.code.clone().unwrap_or_default()}>{ head }</span>
                        <span>{ detail }</span>
                        <button onclick={on_dismiss}>{ "Dismiss" }</button>
                    </li>
                }
            }) }
            </ul>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct PaymentIssuesProps {
    pub items: Vec<PaymentIssue>,
}

/// Payment events the server received but could not apply (another currency than the
/// booking's, a booking gone, ...). The money side of them is for a person to sort out in
/// Stripe; nothing was changed on the booking.
#[component]
pub fn PaymentIssues(props: &PaymentIssuesProps) -> Html {
    if props.items.is_empty() {
        return html! {};
    }
    html! {
        <section id="payment-issues" class="rejections">
            <h3>{ format!("Payments that need a look ({})", props.items.len()) }</h3>
            <ul>
            { for props.items.iter().map(|i| {
                let booking = match &i.booking_reference {
                    Some(r) => html! { <a href={Route::Booking(r.clone()).to_hash()}>{ format!("Booking {r}") }</a> },
                    None => html! { { "No booking" } },
                };
                html! {
                    <li class="rejection payment-issue">
                        <strong>{ booking }</strong>
                        <span class="code" title={i.reason.clone()}>{ sentence(&i.reason.replace('_', " ")) }</span>
                        <span>{ format!("{} — {}", sentence(&i.message), i.event_type) }</span>
                        <span class="muted">{ crate::clock::local_words(i.created_at) }</span>
                    </li>
                }
            }) }
            </ul>
        </section>
    }
}

/// A mutation's wire name (`create_tour.v1`) as what a person did.
pub fn action_words(name: &str) -> String {
    let base = name.split('.').next().unwrap_or(name);
    match base {
        "create_tour" => "New tour".into(),
        "create_customer" => "New customer".into(),
        "create_booking" => "New booking".into(),
        "edit_customer_notes" => "Customer notes".into(),
        "set_customer_field" => "Customer change".into(),
        "check_in" => "Check-in".into(),
        "mark_no_show" => "No-show".into(),
        "set_departure_capacity" => "Departure capacity".into(),
        "issue_gift_card" => "Gift card sale".into(),
        "redeem_gift_card" => "Gift card payment".into(),
        other => sentence(&other.replace('_', " ")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tourdesk_domain::protocol::OutcomeStatus;

    async fn render<C: BaseComponent>(props: C::Properties) -> String {
        yew::LocalServerRenderer::<C>::with_props(props).render().await
    }

    #[tokio::test]
    async fn refused_work_reads_in_words() {
        let o = Outcome {
            mutation_id: 4,
            name: "create_tour.v1".into(),
            args: serde_json::json!({"name": "Lighthouse at Dusk"}),
            status: OutcomeStatus::Rejected,
            code: Some("NOT_AUTHORIZED".into()),
            detail: Some("your role may not create tours".into()),
        };
        let html = render::<Rejections>(RejectionsProps { items: vec![o], on_dismiss: Callback::noop() }).await;
        assert!(html.contains("New tour “Lighthouse at Dusk”"), "{html}");
        assert!(
            html.contains("Your role may not do this") && html.contains("Your role may not create tours"),
            "{html}"
        );
        assert!(!html.contains(">NOT_AUTHORIZED<"), "no raw code on screen: {html}");
    }

    #[tokio::test]
    async fn payment_issues_show_the_booking_and_a_readable_reason() {
        let html = render::<PaymentIssues>(PaymentIssuesProps { items: vec![] }).await;
        assert!(!html.contains("payment-issues"), "nothing to show, nothing shown: {html}");
        let issue = PaymentIssue {
            id: "issue-evt_1".into(),
            organization_id: "o".into(),
            booking_id: Some("b1".into()),
            booking_reference: Some("BK-2026-ABC123".into()),
            event_id: "evt_1".into(),
            event_type: "payment_intent.succeeded".into(),
            reason: "currency_mismatch".into(),
            message: "the payment is in USD but the booking is priced in EUR; nothing was applied".into(),
            created_at: "2026-06-01T10:00:00Z".parse().unwrap(),
        };
        let html = render::<PaymentIssues>(PaymentIssuesProps { items: vec![issue] }).await;
        assert!(html.contains("Payments that need a look (1)"), "{html}");
        assert!(html.contains("Booking BK-2026-ABC123"), "{html}");
        assert!(html.contains("href=\"#/bookings/BK-2026-ABC123\""), "the booking is one click away: {html}");
        assert!(html.contains("Currency mismatch") && !html.contains(">currency_mismatch<"), "{html}");
        assert!(html.contains("The payment is in USD but the booking is priced in EUR"), "{html}");
    }
}

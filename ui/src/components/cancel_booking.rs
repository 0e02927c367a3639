//! Cancelling one booking from its page: the dialog shows what the tour's cancellation policy
//! gives back (to the card, and by hand for money taken at the desk) before staff confirm, and
//! lets them give another amount with a reason (audited). The desk decides it at once, offline
//! too; the server decides it again, refunds card money at Stripe and mails the customer.

use tourdesk_domain::ipc::{BookingMoney, CancelBooking, CancellationPreview};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::dialog::{DialogFooter, FormDialog, ReasonField, field_error};
use crate::components::payment::decimal;
use crate::components::tours::price;
use crate::error::UiError;
use crate::hooks::spawn_save;
use crate::services;

/// What the policy gives back, in words.
pub fn policy_words(p: &CancellationPreview) -> String {
    if p.refundable.is_zero() {
        return "Nothing was paid, so nothing is refunded.".into();
    }
    let when = if p.hours_before < 0 {
        "after the departure started".to_string()
    } else {
        format!("{} h before the departure", p.hours_before)
    };
    if p.policy_refund.is_zero() {
        return format!("Cancelled now ({when}) the policy refunds nothing of the {} paid.", price(&p.refundable));
    }
    let mut s = format!(
        "Cancelled now ({when}) the policy refunds {} % of what was paid: {}",
        p.refund_percentage,
        price(&p.policy_refund)
    );
    match (p.to_card.is_zero(), p.by_hand.is_zero()) {
        (false, true) => s.push_str(", back to the customer's card."),
        (true, false) => s.push_str(", to give back by hand (it was paid at the desk)."),
        _ => s.push_str(&format!(
            ": {} back to the card and {} to give back by hand.",
            price(&p.to_card),
            price(&p.by_hand)
        )),
    }
    s
}

#[derive(Properties, PartialEq)]
pub struct CancelBookingDialogProps {
    pub money: BookingMoney,
    pub preview: CancellationPreview,
    /// After the desk saved it, with the booking's money as it now stands.
    pub on_cancelled: Callback<BookingMoney>,
    pub on_close: Callback<()>,
}

const FIELDS: [&str; 4] = ["reason", "refund_override.amount", "refund_override.reason", "refund_override.currency"];

/// The dialog. Escape or "Keep booking" closes it.
#[component]
pub fn CancelBookingDialog(props: &CancelBookingDialogProps) -> Html {
    let reason = use_state(String::new);
    let overriding = use_state(|| false);
    let amount = {
        let start = decimal(&props.preview.policy_refund);
        use_state(move || start)
    };
    let override_reason = use_state(String::new);
    let notify = use_state(|| true);
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let area = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |text: String| s.set(text))
    };
    let on_reason = area(&reason);
    let on_override_reason = area(&override_reason);
    let on_amount = {
        let amount = amount.clone();
        Callback::from(move |e: InputEvent| amount.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let toggle = |s: &UseStateHandle<bool>| {
        let s = s.clone();
        Callback::from(move |e: Event| s.set(e.target_unchecked_into::<HtmlInputElement>().checked()))
    };
    let on_overriding = toggle(&overriding);
    let on_notify = toggle(&notify);
    let on_submit = {
        let (reason, overriding, amount, override_reason, notify, error, busy) = (
            reason.clone(),
            overriding.clone(),
            amount.clone(),
            override_reason.clone(),
            notify.clone(),
            error.clone(),
            busy.clone(),
        );
        let (booking_id, on_cancelled) = (props.money.booking_id.clone(), props.on_cancelled.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
            if *overriding && amount.trim().is_empty() {
                error.set(Some(UiError::at_field("refund_override.amount", "Enter the amount to give back")));
                return;
            }
            if *overriding && override_reason.trim().is_empty() {
                error.set(Some(UiError::at_field("refund_override.reason", "Say why the policy is overridden")));
                return;
            }
            let input = CancelBooking {
                booking_id: booking_id.clone(),
                reason: opt(&reason),
                refund_override: if *overriding { opt(&amount) } else { None },
                override_reason: if *overriding { opt(&override_reason) } else { None },
                notify_customer: *notify,
            };
            spawn_save(&busy, &error, &on_cancelled, async move { services::cancel_booking(&input).await });
        })
    };
    let err = (*error).clone();
    let beside = |field: &str| field_error(&err, "cancel", field);
    let p = &props.preview;
    html! {
        <FormDialog name="cancel-booking" title="Cancel this booking?" onsubmit={on_submit} on_close={props.on_close.clone()}>
            <p class="dialog-subject"><strong>{ format!("Booking {}", p.reference_number) }</strong>
                { format!(" · {} paid and not refunded", price(&p.refundable)) }</p>
            <p id="cancel-booking-policy">{ policy_words(p) }</p>
            <ReasonField id="cancel-booking-reason" label="Reason (kept on the booking)" value={(*reason).clone()}
                         on_input={on_reason} error={beside("reason")} />
            if !p.refundable.is_zero() {
                <label class="check">
                    <input id="cancel-booking-override" type="checkbox" checked={*overriding} onchange={on_overriding} />
                    { "Give back another amount than the policy" }
                </label>
            }
            if *overriding {
                <label>{ format!("Refund ({}, at most {})", p.refundable.currency, price(&p.refundable)) }
                    <input id="cancel-booking-amount" inputmode="decimal" autocomplete="off" value={(*amount).clone()} oninput={on_amount} />
                    { beside("refund_override.amount") }
                    { beside("refund_override.currency") }
                </label>
                <ReasonField id="cancel-booking-override-reason" label="Why (audited)" value={(*override_reason).clone()}
                             on_input={on_override_reason} error={beside("refund_override.reason")} />
            }
            <label class="check">
                <input id="cancel-booking-notify" type="checkbox" checked={*notify} onchange={on_notify} />
                { "E-mail the customer that the booking is cancelled" }
            </label>
            <p class="muted">{ format!("{} seats go back on sale at once. Card money is refunded at Stripe when the desk syncs; money paid at the desk stays a refund due until it is given back.", p.seats_released) }</p>
            <DialogFooter name="cancel-booking" error={err.clone()} fields={&FIELDS[..]} confirm_id="confirm-cancel-booking"
                          confirm_label="Cancel booking" danger={true} disabled={*busy} keep_id="keep-booking"
                          keep_label="Keep booking" on_keep={props.on_close.clone()} />
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::usd;

    fn preview(policy: i64, to_card: i64) -> CancellationPreview {
        CancellationPreview {
            booking_id: "b-1".into(),
            reference_number: "BK-2026-ABC123".into(),
            hours_before: 72,
            refund_percentage: 50,
            policy_refund: usd(policy),
            refundable: usd(10_000),
            to_card: usd(to_card),
            by_hand: usd(policy - to_card),
            seats_released: 2,
        }
    }

    #[tokio::test]
    async fn the_dialog_shows_the_policys_refund_before_confirming() {
        let html = yew::LocalServerRenderer::<CancelBookingDialog>::with_props(CancelBookingDialogProps {
            money: crate::components::payment::tests::money(10_000),
            preview: preview(5_000, 5_000),
            on_cancelled: Callback::noop(),
            on_close: Callback::noop(),
        })
        .render()
        .await;
        assert!(html.contains("role=\"dialog\"") && html.contains("Cancel this booking?"), "{html}");
        assert!(html.contains("Booking BK-2026-ABC123"), "{html}");
        assert!(
            html.contains("Cancelled now (72 h before the departure) the policy refunds 50 % of what was paid: $50.00, back to the customer&#x27;s card.")
                || html.contains("the policy refunds 50 % of what was paid: $50.00, back to the customer's card."),
            "{html}"
        );
        assert!(
            html.contains("id=\"cancel-booking-override\"") && html.contains("id=\"cancel-booking-notify\""),
            "{html}"
        );
        assert!(html.contains("id=\"confirm-cancel-booking\"") && html.contains("Keep booking"), "{html}");
        assert!(html.contains("2 seats go back on sale"), "{html}");
    }

    #[test]
    fn the_policy_in_words() {
        assert!(
            policy_words(&preview(5_000, 2_000))
                .ends_with(": $20.00 back to the card and $30.00 to give back by hand.")
        );
        assert!(policy_words(&preview(5_000, 0)).ends_with("to give back by hand (it was paid at the desk)."));
        assert_eq!(
            policy_words(&preview(0, 0)),
            "Cancelled now (72 h before the departure) the policy refunds nothing of the $100.00 paid."
        );
        let unpaid = CancellationPreview { refundable: usd(0), ..preview(0, 0) };
        assert_eq!(policy_words(&unpaid), "Nothing was paid, so nothing is refunded.");
    }
}

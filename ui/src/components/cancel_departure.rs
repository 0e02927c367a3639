//! Calling a departure off (weather, a sick guide): a dialog that asks why, says what it will
//! cancel and refund, and asks to confirm. The desk decides it at once; the server decides it
//! again on the bookings it holds, refunds what was paid and e-mails every customer.

use tourdesk_domain::ipc::DepartureView;
use tourdesk_domain::mutation::{CANCEL_REASON_MAX, DepartureCancellationPreview};
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::components::dialog::FormDialog;
use crate::components::tours::{local_start, price};
use crate::error::UiError;
use crate::hooks::spawn_save;
use crate::services;

#[derive(Properties, PartialEq)]
pub struct CancelDepartureDialogProps {
    pub departure: DepartureView,
    pub tour_name: String,
    /// What cancelling would do, as this desk knows it.
    pub preview: DepartureCancellationPreview,
    /// After the desk saved it, with the preview it showed.
    pub on_cancelled: Callback<DepartureCancellationPreview>,
    pub on_close: Callback<()>,
}

fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// What the dialog says the cancellation does, in words.
pub fn consequences(p: &DepartureCancellationPreview) -> String {
    if p.bookings == 0 {
        return "Nobody is booked on it: no one is refunded or e-mailed.".into();
    }
    let cancelled = format!(
        "{} ({}) will be cancelled",
        plural(p.bookings, "booking", "bookings"),
        plural(p.guests, "guest", "guests")
    );
    let refunds = if p.refunds.is_empty() {
        "nothing was paid, so nothing is refunded".to_string()
    } else {
        let amounts: Vec<String> = p.refunds.iter().map(price).collect();
        format!("{} refunded in full to {}", amounts.join(" and "), plural(p.paid_bookings, "customer", "customers"))
    };
    format!("{cancelled}; {refunds}. Each customer is e-mailed the reason and a link to pick another date.")
}

/// The dialog. Escape or "Keep departure" closes it; the reason is required.
#[component]
pub fn CancelDepartureDialog(props: &CancelDepartureDialogProps) -> Html {
    let reason = use_state(String::new);
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let on_input = {
        let reason = reason.clone();
        Callback::from(move |e: InputEvent| reason.set(e.target_unchecked_into::<HtmlTextAreaElement>().value()))
    };
    let on_submit = {
        let (reason, error, busy) = (reason.clone(), error.clone(), busy.clone());
        let (id, preview, on_cancelled) =
            (props.departure.departure.id.clone(), props.preview.clone(), props.on_cancelled.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if reason.trim().is_empty() {
                error.set(Some(UiError::at_field("reason", "Say why: the customers are told")));
                return;
            }
            let (text, id, preview) = ((*reason).clone(), id.clone(), preview.clone());
            spawn_save(&busy, &error, &on_cancelled, async move {
                services::cancel_departure(&id, &text).await.map(|_| preview)
            });
        })
    };
    let on_keep = props.on_close.reform(|_: MouseEvent| ());
    let (field_error, general_error) = match &*error {
        Some(e) if e.is_field("reason") => (html! { <span class="field-error">{ e.message.clone() }</span> }, html! {}),
        Some(e) => (html! {}, html! { <p id="cancel-departure-error" class="error-text">{ e.message.clone() }</p> }),
        None => (html! {}, html! {}),
    };
    let when = local_start(&props.departure);
    html! {
        <FormDialog name="cancel-departure" title="Cancel this departure?" onsubmit={on_submit} on_close={props.on_close.clone()}>
            <p class="dialog-subject"><strong>{ &props.tour_name }</strong>{ " · " }{ when }</p>
            <p id="cancel-departure-summary">{ consequences(&props.preview) }</p>
            <label>{ "Reason (sent to the customers)" }
                <textarea id="cancel-departure-reason" maxlength={CANCEL_REASON_MAX.to_string()} rows="3"
                          placeholder="e.g. Storm warning: the harbour is closed"
                          value={(*reason).clone()} oninput={on_input} />
                { field_error }
            </label>
            <p class="muted">{ "This cannot be undone. Made offline, it is sent when the desk syncs; bookings sold elsewhere meanwhile are cancelled too." }</p>
            { general_error }
            <div class="actions">
                <button id="confirm-cancel-departure" class="danger" type="submit" disabled={*busy}>{ "Cancel departure" }</button>
                <button id="keep-departure" type="button" onclick={on_keep}>{ "Keep departure" }</button>
            </div>
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tourdesk_domain::Departure;
    use tourdesk_domain::money::{Currency, Money};

    fn departure() -> DepartureView {
        crate::fixtures::view(Departure { booked_count: 5, ..tourdesk_domain::fixtures::departure() })
    }

    async fn render(preview: DepartureCancellationPreview) -> String {
        yew::LocalServerRenderer::<CancelDepartureDialog>::with_props(CancelDepartureDialogProps {
            departure: departure(),
            tour_name: "Old Town Walk".into(),
            preview,
            on_cancelled: Callback::noop(),
            on_close: Callback::noop(),
        })
        .render()
        .await
    }

    #[tokio::test]
    async fn the_dialog_says_what_it_cancels_and_refunds_and_asks_why() {
        let html = render(DepartureCancellationPreview {
            bookings: 3,
            guests: 5,
            paid_bookings: 2,
            refunds: vec![Money::new(18_000, Currency::parse("GBP").unwrap())],
        })
        .await;
        assert!(html.contains("role=\"dialog\"") && html.contains("Cancel this departure?"), "{html}");
        assert!(html.contains("Old Town Walk") && html.contains("Fri 10 Jul 2026, 09:00 BST"), "{html}");
        assert!(
            html.contains("3 bookings (5 guests) will be cancelled; £180.00 refunded in full to 2 customers."),
            "{html}"
        );
        assert!(html.contains("id=\"cancel-departure-reason\"") && html.contains("maxlength=\"500\""), "{html}");
        assert!(html.contains("id=\"confirm-cancel-departure\"") && html.contains("Keep departure"), "{html}");
    }

    #[test]
    fn the_consequences_in_words() {
        let one = DepartureCancellationPreview { bookings: 1, guests: 1, paid_bookings: 0, refunds: vec![] };
        assert_eq!(
            consequences(&one),
            "1 booking (1 guest) will be cancelled; nothing was paid, so nothing is refunded. Each customer is \
             e-mailed the reason and a link to pick another date."
        );
        assert_eq!(
            consequences(&DepartureCancellationPreview::default()),
            "Nobody is booked on it: no one is refunded or e-mailed."
        );
    }
}

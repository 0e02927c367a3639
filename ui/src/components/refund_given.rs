//! "Record refund given back": money owed back by hand on a booking (a refund due on cash,
//! terminal or transfer money, which Stripe cannot send back) that staff handed over. The amount
//! starts at the refund due by hand; the desk records it at once, offline too, and refuses more
//! than is owed at the amount field; the server decides it again under the booking's lock.

use tourdesk_domain::ipc::{BookingMoney, NewRefund};
use tourdesk_domain::ledger::PaymentMethod;
use tourdesk_domain::mutation::given_back_words;
use yew::prelude::*;

use crate::components::dialog::{DialogFooter, FormDialog, field_error};
use crate::components::payment::{MoneyForm, decimal, use_money_form};
use crate::components::tours::price;
use crate::error::UiError;
use crate::hooks::spawn_save;
use crate::services;

#[derive(Properties, PartialEq)]
pub struct RecordRefundDialogProps {
    pub money: BookingMoney,
    /// After the desk saved it, with the booking's money as it now stands.
    pub on_recorded: Callback<BookingMoney>,
    pub on_close: Callback<()>,
}

const FIELDS: [&str; 5] = ["amount", "currency", "method", "note", "reference"];

/// The dialog: how the money went back, the amount (the refund due by hand to start with), a
/// reference and a note.
#[component]
pub fn RecordRefundDialog(props: &RecordRefundDialogProps) -> Html {
    let MoneyForm { method, amount, reference, note, error, busy, on_method, on_amount, on_reference, on_note } =
        use_money_form(decimal(&props.money.refund_due_by_hand));
    let on_submit = {
        let (method, amount, reference, note, error, busy) =
            (method.clone(), amount.clone(), reference.clone(), note.clone(), error.clone(), busy.clone());
        let (booking_id, on_recorded) = (props.money.booking_id.clone(), props.on_recorded.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if amount.trim().is_empty() {
                error.set(Some(UiError::at_field("amount", "Enter the amount given back")));
                return;
            }
            let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
            let input = NewRefund {
                booking_id: booking_id.clone(),
                method: *method,
                amount: amount.trim().to_string(),
                note: opt(&note),
                reference: opt(&reference),
            };
            spawn_save(&busy, &error, &on_recorded, async move { services::record_refund(&input).await });
        })
    };
    let err = (*error).clone();
    let beside = |field: &str| field_error(&err, "refund", field);
    let m = &props.money;
    html! {
        <FormDialog name="record-refund" title="Record refund given back" onsubmit={on_submit} on_close={props.on_close.clone()}>
            <p class="dialog-subject"><strong>{ format!("Booking {}", m.reference_number) }</strong>
                { format!(" · {} to give back by hand", price(&m.refund_due_by_hand)) }</p>
            <label>{ "How it was given back" }
                <select id="refund-method" onchange={on_method}>
                    { for PaymentMethod::ALL.iter().map(|pm| html! {
                        <option value={pm.as_str()} selected={*pm == *method}>{ given_back_words(*pm) }</option>
                    }) }
                </select>
                { beside("method") }
            </label>
            <label>{ format!("Amount ({}, at most {})", m.total.currency, price(&m.refund_due_by_hand)) }
                <input id="refund-amount" inputmode="decimal" autocomplete="off" value={(*amount).clone()} oninput={on_amount} />
                { beside("amount") }
                { beside("currency") }
            </label>
            <label>{ "Reference (receipt or bank reference)" }
                <input id="refund-reference" maxlength="100" value={(*reference).clone()} oninput={on_reference} />
                { beside("reference") }
            </label>
            <label>{ "Note" }
                <textarea id="refund-note" rows="2" maxlength="500" value={(*note).clone()} oninput={on_note} />
                { beside("note") }
            </label>
            <p class="muted">{ "Recorded on this desk at once, offline too; the refund due clears when the desk syncs." }</p>
            <DialogFooter name="record-refund" error={err.clone()} fields={&FIELDS[..]} confirm_id="confirm-record-refund"
                          confirm_label="Record refund" disabled={*busy} keep_id="cancel-record-refund"
                          keep_label="Cancel" on_keep={props.on_close.clone()} />
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tourdesk_domain::money::{Currency, Money};

    /// A booking paid $100.00 in cash whose price fell to $70.00: $30.00 owed back by hand.
    fn owed_back() -> BookingMoney {
        let usd = |a| Money::new(a, Currency::USD);
        BookingMoney {
            refund_due: usd(3_000),
            refund_due_by_hand: usd(3_000),
            balance_due: usd(0),
            can_record_payment: false,
            ..crate::components::payment::tests::money(10_000)
        }
    }

    #[tokio::test]
    async fn the_dialog_starts_with_the_refund_due_by_hand_and_offers_the_ways_to_give_it_back() {
        let html = yew::LocalServerRenderer::<RecordRefundDialog>::with_props(RecordRefundDialogProps {
            money: owed_back(),
            on_recorded: Callback::noop(),
            on_close: Callback::noop(),
        })
        .render()
        .await;
        assert!(html.contains("role=\"dialog\"") && html.contains("Record refund given back"), "{html}");
        assert!(html.contains("$30.00 to give back by hand"), "{html}");
        assert!(html.contains("value=\"30.00\""), "{html}");
        assert!(html.contains("Amount (USD, at most $30.00)"), "{html}");
        for (code, words) in [
            ("cash", "Given back in cash"),
            ("card_terminal", "Given back on the card terminal"),
            ("bank_transfer", "Given back by bank transfer"),
        ] {
            assert!(html.contains(&format!("value=\"{code}\"")) && html.contains(words), "{code}: {html}");
        }
        assert!(
            html.contains("id=\"confirm-record-refund\"") && html.contains("id=\"cancel-record-refund\""),
            "{html}"
        );
    }
}

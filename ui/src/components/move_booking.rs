//! "Move to another departure" on a booking's page: the departures of the same tour the domain
//! lets it move to (with room, not started, open), each with its new price and what the move
//! leaves owed or to refund; staff pick one and confirm. The desk moves it at once, offline too;
//! the server decides it again under both departures' locks (`move_booking.v1`).

use tourdesk_domain::ipc::{BookingMoney, MoveBooking, MoveOption};
use tourdesk_domain::money::Money;
use tourdesk_domain::mutation::MoveMoney;
use yew::prelude::*;

use crate::components::dialog::{DialogFooter, FormDialog, ReasonField, field_error};
use crate::components::tours::{local_start, price};
use crate::error::UiError;
use crate::hooks::spawn_save;
use crate::services;

/// What a move does to the booking's money, in words.
pub fn money_words(m: &MoveMoney) -> String {
    let price_part = if m.difference.is_zero() {
        format!("Same price ({})", price(&m.new_total))
    } else if m.difference.is_negative() {
        format!(
            "{} cheaper ({})",
            price(&Money::new(m.difference.amount.saturating_neg(), m.difference.currency)),
            price(&m.new_total)
        )
    } else {
        format!("{} more ({})", price(&m.difference), price(&m.new_total))
    };
    let effect = if !m.refund_due.is_zero() {
        format!("{} to refund", price(&m.refund_due))
    } else if !m.balance_due.is_zero() {
        format!("{} due", price(&m.balance_due))
    } else {
        "nothing due".to_string()
    };
    format!("{price_part} · {effect}")
}

#[derive(Properties, PartialEq)]
pub struct MoveBookingDialogProps {
    pub money: BookingMoney,
    pub options: Vec<MoveOption>,
    /// After the desk saved it, with the booking's money as it now stands.
    pub on_moved: Callback<BookingMoney>,
    pub on_close: Callback<()>,
}

/// The dialog. Escape or "Keep departure" closes it.
#[component]
pub fn MoveBookingDialog(props: &MoveBookingDialogProps) -> Html {
    let chosen = use_state(|| None::<usize>);
    let reason = use_state(String::new);
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let on_reason = {
        let reason = reason.clone();
        Callback::from(move |text: String| reason.set(text))
    };
    let on_submit = {
        let (chosen, reason, error, busy) = (chosen.clone(), reason.clone(), error.clone(), busy.clone());
        let (options, booking_id, on_moved) =
            (props.options.clone(), props.money.booking_id.clone(), props.on_moved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(o) = chosen.and_then(|i| options.get(i)) else {
                error.set(Some(UiError::at_field("to_departure_id", "Pick the departure to move to")));
                return;
            };
            let input = MoveBooking {
                booking_id: booking_id.clone(),
                to_departure_id: o.departure.departure.id.clone(),
                expected_total: o.money.new_total,
                reason: (!reason.trim().is_empty()).then(|| reason.trim().to_string()),
            };
            spawn_save(&busy, &error, &on_moved, async move { services::move_booking(&input).await });
        })
    };
    let err = (*error).clone();
    let beside = |field: &str| field_error(&err, "move", field);
    html! {
        <FormDialog name="move-booking" title="Move to another departure" onsubmit={on_submit} on_close={props.on_close.clone()}>
            <p class="dialog-subject"><strong>{ format!("Booking {}", props.money.reference_number) }</strong>
                { format!(" · {} guests · {}", props.money.pricing.participants(), price(&props.money.total)) }</p>
            if props.options.is_empty() {
                <p id="move-booking-none">{ "No other departure of this tour has room for this booking." }</p>
            } else {
                <fieldset id="move-booking-options">
                    <legend>{ "Departures of the same tour with room" }</legend>
                    { for props.options.iter().enumerate().map(|(i, o)| {
                        let pick = {
                            let chosen = chosen.clone();
                            Callback::from(move |_: Event| chosen.set(Some(i)))
                        };
                        let id = format!("move-to-{}", o.departure.departure.id);
                        html! {
                            <label class="check move-option" for={id.clone()}>
                                <input type="radio" name="move-to" id={id} value={o.departure.departure.id.clone()}
                                       checked={*chosen == Some(i)} onchange={pick} />
                                <span class="when">{ local_start(&o.departure) }</span>
                                <span class="seats">{ format!(" · {} seats left · ", o.departure.seats_left) }</span>
                                <span class="money">{ money_words(&o.money) }</span>
                            </label>
                        }
                    }) }
                    { beside("to_departure_id") }
                </fieldset>
            }
            <ReasonField id="move-booking-reason" label="Reason (kept on the booking's history)" value={(*reason).clone()}
                         on_input={on_reason} error={beside("reason")} />
            <p class="muted">{ "Moved on this desk at once, offline too; the server decides again when the desk syncs, and a departure that filled up meanwhile lands in the inbox." }</p>
            <DialogFooter name="move-booking" error={err.clone()} fields={&["to_departure_id", "reason"][..]}
                          confirm_id="confirm-move-booking" confirm_label="Move booking"
                          disabled={*busy || props.options.is_empty()} keep_id="keep-departure-of-booking"
                          keep_label="Keep departure" on_keep={props.on_close.clone()} />
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::usd;
    use tourdesk_domain::Departure;

    fn money(old: i64, new: i64, balance: i64, refund: i64) -> MoveMoney {
        MoveMoney {
            old_total: usd(old),
            new_total: usd(new),
            difference: usd(new - old),
            balance_due: usd(balance),
            refund_due: usd(refund),
        }
    }

    #[test]
    fn the_money_side_in_words() {
        assert_eq!(money_words(&money(10_000, 10_000, 0, 0)), "Same price ($100.00) · nothing due");
        assert_eq!(money_words(&money(10_000, 12_000, 2_000, 0)), "$20.00 more ($120.00) · $20.00 due");
        assert_eq!(money_words(&money(10_000, 8_000, 0, 2_000)), "$20.00 cheaper ($80.00) · $20.00 to refund");
    }

    #[tokio::test]
    async fn the_dialog_lists_departures_with_room_and_the_balance_effect() {
        let d = crate::fixtures::view(Departure { id: "d-2".into(), ..tourdesk_domain::fixtures::departure() });
        let html = yew::LocalServerRenderer::<MoveBookingDialog>::with_props(MoveBookingDialogProps {
            money: crate::components::payment::tests::money(10_000),
            options: vec![MoveOption { departure: d, money: money(10_000, 12_000, 2_000, 0) }],
            on_moved: Callback::noop(),
            on_close: Callback::noop(),
        })
        .render()
        .await;
        assert!(html.contains("role=\"dialog\"") && html.contains("Move to another departure"), "{html}");
        assert!(html.contains("id=\"move-to-d-2\"") && html.contains("$20.00 more ($120.00) · $20.00 due"), "{html}");
        assert!(html.contains("id=\"confirm-move-booking\""), "{html}");
        let none = yew::LocalServerRenderer::<MoveBookingDialog>::with_props(MoveBookingDialogProps {
            money: crate::components::payment::tests::money(10_000),
            options: vec![],
            on_moved: Callback::noop(),
            on_close: Callback::noop(),
        })
        .render()
        .await;
        assert!(none.contains("No other departure of this tour has room"), "{none}");
    }
}

//! "Change booking" on a booking's page: new counts per tier, a promo code, a manual discount
//! with its reason. Every change is previewed by the domain on this desk's rows: the new price
//! and what it leaves owed (payable by the customer's payment link) or to refund (to the card at
//! Stripe, or by hand for money taken at the desk), before staff confirm. The desk changes it at
//! once, offline too; the server decides it again under the departure's lock
//! (`modify_booking.v1`), and a refusal (no seats left, a code that does not apply) lands in the
//! inbox with its reason.

use tourdesk_domain::ipc::{BookingMoney, ModifyBooking, ModifyLine, ModifyPreview};
use web_sys::HtmlInputElement;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::dialog::{DialogFooter, FormDialog, ReasonField, field_error};
use crate::components::move_booking::money_words;
use crate::components::payment::decimal;
use crate::components::tours::price;
use crate::error::UiError;
use crate::hooks::spawn_save;
use crate::services;

const FIELDS: [&str; 6] =
    ["lines", "promo_code", "manual_discount.amount", "manual_discount.description", "reason", "customer_id"];

/// What the refund of a preview goes back through, in words (empty when none is due).
pub fn refund_words(p: &ModifyPreview) -> String {
    match (p.to_card.is_zero(), p.by_hand.is_zero()) {
        (true, true) => String::new(),
        (false, true) => format!("{} back to the customer's card at Stripe.", price(&p.to_card)),
        (true, false) => format!("{} to give back by hand (it was paid at the desk).", price(&p.by_hand)),
        _ => format!("{} back to the card and {} to give back by hand.", price(&p.to_card), price(&p.by_hand)),
    }
}

/// "1 guest", "3 guests": a count a person reads.
fn guests(n: u32) -> String {
    if n == 1 { "1 guest".into() } else { format!("{n} guests") }
}

/// What the dialog's fields say, as the intent's input.
#[derive(Clone, PartialEq)]
struct Form {
    counts: Vec<(String, u32)>,
    promo: String,
    discount: String,
    discount_reason: String,
    reason: String,
}

impl Form {
    fn of(p: &ModifyPreview) -> Form {
        Form {
            counts: p.tiers.iter().map(|t| (t.tier_id.clone(), t.quantity)).collect(),
            promo: p.promo_code.clone().unwrap_or_default(),
            discount: p.manual_discount.as_ref().map(decimal).unwrap_or_default(),
            discount_reason: p.manual_discount_reason.clone().unwrap_or_default(),
            reason: String::new(),
        }
    }

    fn input(&self, booking_id: &str, expected: Option<tourdesk_domain::money::Money>) -> ModifyBooking {
        ModifyBooking {
            booking_id: booking_id.to_string(),
            lines: self.counts.iter().map(|(t, q)| ModifyLine { tier_id: t.clone(), quantity: *q }).collect(),
            promo_code: Some(self.promo.trim().to_string()),
            manual_discount: Some(self.discount.trim().to_string()),
            manual_discount_reason: Some(self.discount_reason.trim().to_string()),
            reason: Some(self.reason.trim().to_string()),
            expected_total: expected,
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct ModifyBookingDialogProps {
    pub money: BookingMoney,
    /// The preview of the booking as it is (its tiers, code and discount).
    pub preview: ModifyPreview,
    /// After the desk saved it, with the booking's money as it now stands.
    pub on_modified: Callback<BookingMoney>,
    pub on_close: Callback<()>,
}

/// The dialog. Escape or "Keep booking as it is" closes it.
#[component]
pub fn ModifyBookingDialog(props: &ModifyBookingDialogProps) -> Html {
    let form = {
        let start = Form::of(&props.preview);
        use_state(move || start)
    };
    let preview = {
        let start = props.preview.clone();
        use_state(move || start)
    };
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let booking_id = props.money.booking_id.clone();
    // Every change of the form is previewed again by the domain.
    let change = {
        let (form, preview, error, booking_id) = (form.clone(), preview.clone(), error.clone(), booking_id.clone());
        Callback::from(move |next: Form| {
            form.set(next.clone());
            let (preview, error) = (preview.clone(), error.clone());
            let input = next.input(&booking_id, None);
            spawn_local(async move {
                match services::modify_preview(&input).await {
                    Ok(p) => {
                        error.set(None);
                        preview.set(p);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let text = |edit: fn(&mut Form, String)| {
        let (form, change) = (form.clone(), change.clone());
        Callback::from(move |e: InputEvent| {
            let mut next = (*form).clone();
            edit(&mut next, e.target_unchecked_into::<HtmlInputElement>().value());
            change.emit(next);
        })
    };
    let on_promo = text(|f, v| f.promo = v);
    let on_discount = text(|f, v| f.discount = v);
    let on_discount_reason = text(|f, v| f.discount_reason = v);
    let on_reason = {
        let form = form.clone();
        Callback::from(move |text: String| {
            let mut next = (*form).clone();
            next.reason = text;
            form.set(next);
        })
    };
    let on_submit = {
        let (form, preview, error, busy, on_modified) =
            (form.clone(), preview.clone(), error.clone(), busy.clone(), props.on_modified.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let input = form.input(&booking_id, Some(preview.money.new_total));
            spawn_save(&busy, &error, &on_modified, async move { services::modify_booking(&input).await });
        })
    };
    let err = (*error).clone();
    let beside = |field: &str| field_error(&err, "modify", field);
    let p = &*preview;
    let refund = refund_words(p);
    html! {
        <FormDialog name="modify-booking" title="Change booking" onsubmit={on_submit} on_close={props.on_close.clone()}>
            <p class="dialog-subject"><strong>{ format!("Booking {}", props.money.reference_number) }</strong>
                { format!(" · {} · {}", guests(p.seats_before), price(&props.money.total)) }</p>
            <fieldset id="modify-booking-tiers">
                <legend>{ "Guests per tier" }</legend>
                { for p.tiers.iter().enumerate().map(|(i, t)| {
                    let value = form.counts.get(i).map_or(0, |c| c.1).to_string();
                    let (form, change) = (form.clone(), change.clone());
                    let on_count = Callback::from(move |e: InputEvent| {
                        let typed = e.target_unchecked_into::<HtmlInputElement>().value();
                        let mut next = (*form).clone();
                        if let Some(c) = next.counts.get_mut(i) {
                            c.1 = typed.trim().parse().unwrap_or(0);
                        }
                        change.emit(next);
                    });
                    let id = format!("modify-count-{}", t.tier_id);
                    html! {
                        <label for={id.clone()}>{ format!("{} ({} each)", t.name, price(&t.unit_price)) }
                            <input id={id} type="number" min="0" max="99" inputmode="numeric" value={value} oninput={on_count} />
                        </label>
                    }
                }) }
                { beside("lines") }
            </fieldset>
            <label>{ "Promo code" }
                <input id="modify-promo-code" autocomplete="off" value={form.promo.clone()} oninput={on_promo} />
                { beside("promo_code") }
            </label>
            <label>{ format!("Manual discount ({})", props.money.total.currency) }
                <input id="modify-discount" inputmode="decimal" autocomplete="off" value={form.discount.clone()} oninput={on_discount} />
                { beside("manual_discount.amount") }
            </label>
            <label>{ "Why the discount (audited)" }
                <input id="modify-discount-reason" autocomplete="off" maxlength="200" value={form.discount_reason.clone()} oninput={on_discount_reason} />
                { beside("manual_discount.description") }
            </label>
            <ReasonField id="modify-booking-reason" label="Reason (kept on the booking's history)" value={form.reason.clone()}
                         on_input={on_reason} error={beside("reason")} />
            <p id="modify-booking-summary" class="summary" role="status">
                { format!("{} · {}", guests(p.seats_after), money_words(&p.money)) }
            </p>
            if !refund.is_empty() {
                <p id="modify-booking-refund">{ refund }</p>
            } else if !p.money.balance_due.is_zero() {
                <p id="modify-booking-balance">{ "The customer can pay the balance with the payment link on their booking page." }</p>
            }
            <p class="muted">{ "Changed on this desk at once, offline too; the server decides again when the desk syncs, and a change it refuses (no seats left, a code that does not apply) lands in the inbox." }</p>
            <DialogFooter name="modify-booking" error={err.clone()} fields={&FIELDS[..]} confirm_id="confirm-modify-booking"
                          confirm_label="Save change" disabled={*busy || p.money.difference.is_zero() && p.seats_after == p.seats_before && p.pricing == props.money.pricing}
                          keep_id="keep-booking-as-is" keep_label="Keep booking as it is" on_keep={props.on_close.clone()} />
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::usd;
    use tourdesk_domain::ipc::ModifyTier;
    use tourdesk_domain::mutation::MoveMoney;

    fn preview(new_total: i64, to_card: i64, by_hand: i64) -> ModifyPreview {
        let money = crate::components::payment::tests::money(10_000);
        ModifyPreview {
            booking_id: money.booking_id.clone(),
            reference_number: money.reference_number.clone(),
            tiers: vec![ModifyTier {
                tier_id: "adult".into(),
                name: "Adult".into(),
                unit_price: usd(5_000),
                quantity: 2,
            }],
            promo_code: None,
            manual_discount: None,
            manual_discount_reason: None,
            pricing: money.pricing.clone(),
            money: MoveMoney {
                old_total: usd(10_000),
                new_total: usd(new_total),
                difference: usd(new_total - 10_000),
                balance_due: usd((new_total - 10_000).max(0)),
                refund_due: usd(to_card + by_hand),
            },
            to_card: usd(to_card),
            by_hand: usd(by_hand),
            seats_before: 2,
            seats_after: u32::try_from(new_total / 5_000).unwrap(),
        }
    }

    async fn render(p: ModifyPreview) -> String {
        yew::LocalServerRenderer::<ModifyBookingDialog>::with_props(ModifyBookingDialogProps {
            money: crate::components::payment::tests::money(10_000),
            preview: p,
            on_modified: Callback::noop(),
            on_close: Callback::noop(),
        })
        .render()
        .await
    }

    #[tokio::test]
    async fn the_dialog_shows_the_new_price_and_the_refund_or_balance_before_confirming() {
        let html = render(preview(5_000, 5_000, 0)).await;
        assert!(html.contains("role=\"dialog\"") && html.contains("Change booking"), "{html}");
        assert!(html.contains("id=\"modify-count-adult\"") && html.contains("Adult ($50.00 each)"), "{html}");
        assert!(html.contains("1 guest · $50.00 cheaper ($50.00) · $50.00 to refund"), "{html}");
        assert!(html.contains("$50.00 back to the customer"), "{html}");
        assert!(html.contains("id=\"confirm-modify-booking\"") && html.contains("Keep booking as it is"), "{html}");
        let up = render(preview(15_000, 0, 0)).await;
        assert!(up.contains("$50.00 more ($150.00) · $50.00 due"), "{up}");
        assert!(up.contains("id=\"modify-booking-balance\"") && up.contains("payment link"), "{up}");
    }

    #[test]
    fn the_refund_in_words() {
        assert_eq!(refund_words(&preview(5_000, 0, 0)), "");
        assert_eq!(refund_words(&preview(5_000, 0, 5_000)), "$50.00 to give back by hand (it was paid at the desk).");
        assert_eq!(
            refund_words(&preview(5_000, 2_000, 3_000)),
            "$20.00 back to the card and $30.00 to give back by hand."
        );
    }
}

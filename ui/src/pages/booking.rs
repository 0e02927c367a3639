//! One booking, by reference (`#/bookings/BK-2026-…`): who, which tour and departure, seats,
//! status and money, with links to the customer and the tour; then its participants per tier
//! and price snapshot, its ledger with the balance due, and "Record payment"; then its timeline
//! (the audit log and the messages sent, newest first).

use tourdesk_domain::ipc::BookingHit;
use tourdesk_domain::protocol::EntityKind;
use yew::prelude::*;

use crate::components::cancel_booking::CancelBookingDialog;
use crate::components::customer_message::SendMessageDialog;
use crate::components::gift_cards::RedeemGiftCardDialog;
use crate::components::modify_booking::ModifyBookingDialog;
use crate::components::move_booking::MoveBookingDialog;
use crate::components::payment::{Ledger, PriceSnapshot, RecordPaymentDialog};
use crate::components::refund_given::RecordRefundDialog;
use crate::components::states::{ErrorNote, Loading};
use crate::components::tours::{local_start, price};
use crate::hooks::{Depends, Load, use_invoke};
use crate::router::Route;
use crate::services;
use crate::words;

const MONEY_KINDS: Depends = Depends::on(&[EntityKind::Booking, EntityKind::LedgerEntry, EntityKind::GiftCard]);

const BOOKING_KINDS: Depends =
    Depends::on(&[EntityKind::Booking, EntityKind::Customer, EntityKind::Departure, EntityKind::Tour]);

#[derive(Properties, PartialEq)]
pub struct BookingPageProps {
    pub reference: String,
}

#[component]
pub fn BookingPage(props: &BookingPageProps) -> Html {
    let hit = use_invoke(BOOKING_KINDS, props.reference.clone(), |r| async move { services::find_booking(&r).await });
    html! {
        <section id="booking-page" class="page single">
            {
                match hit {
                    Load::Loading => html! { <Loading what={format!("booking {}", props.reference)} /> },
                    Load::Failed(e) => html! { <ErrorNote error={e} /> },
                    Load::Ready(b) => {
                        let id = b.booking.id.clone();
                        let zone = b.departure.as_ref().and_then(|d| d.departure.timezone.parse().ok());
                        html! {
                            <>
                                <BookingCard hit={b} />
                                <BookingMoneySection booking_id={id.clone()} zone={zone} />
                                <crate::components::timeline::BookingTimeline booking_id={id} />
                            </>
                        }
                    }
                }
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct BookingCardProps {
    pub hit: BookingHit,
}

#[component]
pub fn BookingCard(props: &BookingCardProps) -> Html {
    let h = &props.hit;
    let b = &h.booking;
    html! {
        <article class="panel booking-card" data-reference={b.reference_number.clone()}>
            <h2 id="booking-reference">{ format!("Booking {}", b.reference_number) }</h2>
            if b.pending { <span class="badge pending">{ "Pending sync" }</span> }
            <dl class="facts">
                <dt>{ "Customer" }</dt>
                <dd><a href={Route::Customers(Some(b.customer_id.clone())).to_hash()}>{ &b.customer_name }</a></dd>
                <dt>{ "Tour" }</dt>
                <dd><a href={Route::Tours(Some(h.tour_id.clone())).to_hash()}>{ h.tour_name.clone().unwrap_or_else(|| "A tour this desk does not hold".into()) }</a></dd>
                <dt>{ "Departure" }</dt>
                <dd class="when">{ h.departure.as_ref().map(local_start).unwrap_or_else(|| "Not on this desk".into()) }</dd>
                <dt>{ "Guests" }</dt>
                <dd>{ b.pax }</dd>
                <dt>{ "Status" }</dt>
                <dd>{ words::booking_status(b.status) }</dd>
                <dt>{ "Payment" }</dt>
                <dd>{ format!("{} · {}", words::payment_status(b.payment_status), price(&b.total)) }</dd>
            </dl>
        </article>
    }
}

#[derive(Properties, PartialEq)]
pub struct BookingMoneySectionProps {
    pub booking_id: String,
    /// The departure's zone, for the ledger's times.
    #[prop_or_default]
    pub zone: Option<chrono_tz::Tz>,
}

/// The price snapshot and the ledger, with the "Record payment" dialog.
#[component]
pub fn BookingMoneySection(props: &BookingMoneySectionProps) -> Html {
    let money =
        use_invoke(MONEY_KINDS, props.booking_id.clone(), |id| async move { services::booking_money(&id).await });
    let dialog = use_state(|| false);
    let gift_dialog = use_state(|| false);
    let recorded = use_state(|| None::<String>);
    // The cancel dialog opens with the policy's answer, asked of the desk when the button is pressed.
    let cancel_preview = use_state(|| None::<tourdesk_domain::ipc::CancellationPreview>);
    let cancel_error = use_state(|| None::<crate::error::UiError>);
    let move_options = use_state(|| None::<Vec<tourdesk_domain::ipc::MoveOption>>);
    let modify_preview = use_state(|| None::<tourdesk_domain::ipc::ModifyPreview>);
    let refund_dialog = use_state(|| false);
    let message_options = use_state(|| None::<tourdesk_domain::ipc::MessageOptions>);
    match money {
        Load::Loading => html! { <Loading what="the booking's payments" /> },
        Load::Failed(e) => html! { <ErrorNote error={e} /> },
        Load::Ready(m) => {
            let open = {
                let (dialog, recorded) = (dialog.clone(), recorded.clone());
                Callback::from(move |()| {
                    recorded.set(None);
                    dialog.set(true);
                })
            };
            let close = {
                let dialog = dialog.clone();
                Callback::from(move |()| dialog.set(false))
            };
            let open_gift = {
                let (gift_dialog, recorded) = (gift_dialog.clone(), recorded.clone());
                Callback::from(move |()| {
                    recorded.set(None);
                    gift_dialog.set(true);
                })
            };
            let close_gift = {
                let gift_dialog = gift_dialog.clone();
                Callback::from(move |()| gift_dialog.set(false))
            };
            let on_redeemed = {
                let (gift_dialog, recorded) = (gift_dialog.clone(), recorded.clone());
                Callback::from(move |m: tourdesk_domain::ipc::BookingMoney| {
                    gift_dialog.set(false);
                    let confirmed = m.status == tourdesk_domain::status::BookingStatus::Confirmed;
                    recorded.set(Some(if m.balance_due.is_zero() && confirmed {
                        "Gift card used: the booking is paid and confirmed.".into()
                    } else {
                        format!("Gift card used: {} still due.", price(&m.balance_due))
                    }));
                })
            };
            let on_recorded = {
                let (dialog, recorded) = (dialog.clone(), recorded.clone());
                Callback::from(move |m: tourdesk_domain::ipc::BookingMoney| {
                    dialog.set(false);
                    let confirmed = m.status == tourdesk_domain::status::BookingStatus::Confirmed;
                    recorded.set(Some(if confirmed {
                        "Payment recorded: the booking is confirmed.".into()
                    } else {
                        format!("Payment recorded: {} still due.", price(&m.balance_due))
                    }));
                })
            };
            let open_cancel = {
                let (cancel_preview, cancel_error, recorded) =
                    (cancel_preview.clone(), cancel_error.clone(), recorded.clone());
                let id = m.booking_id.clone();
                Callback::from(move |_: MouseEvent| {
                    recorded.set(None);
                    let (cancel_preview, cancel_error, id) = (cancel_preview.clone(), cancel_error.clone(), id.clone());
                    yew::platform::spawn_local(async move {
                        match services::cancellation_preview(&id).await {
                            Ok(p) => {
                                cancel_error.set(None);
                                cancel_preview.set(Some(p));
                            }
                            Err(e) => cancel_error.set(Some(e)),
                        }
                    });
                })
            };
            let close_cancel = {
                let cancel_preview = cancel_preview.clone();
                Callback::from(move |()| cancel_preview.set(None))
            };
            let on_cancelled = {
                let (cancel_preview, recorded) = (cancel_preview.clone(), recorded.clone());
                Callback::from(move |m: tourdesk_domain::ipc::BookingMoney| {
                    cancel_preview.set(None);
                    recorded.set(Some(if m.refund_due.is_zero() {
                        "Booking cancelled.".into()
                    } else {
                        format!("Booking cancelled: {} to refund.", price(&m.refund_due))
                    }));
                })
            };
            let open_move = {
                let (move_options, cancel_error, recorded) =
                    (move_options.clone(), cancel_error.clone(), recorded.clone());
                let id = m.booking_id.clone();
                Callback::from(move |_: MouseEvent| {
                    recorded.set(None);
                    let (move_options, cancel_error, id) = (move_options.clone(), cancel_error.clone(), id.clone());
                    yew::platform::spawn_local(async move {
                        match services::move_options(&id).await {
                            Ok(o) => {
                                cancel_error.set(None);
                                move_options.set(Some(o));
                            }
                            Err(e) => cancel_error.set(Some(e)),
                        }
                    });
                })
            };
            let close_move = {
                let move_options = move_options.clone();
                Callback::from(move |()| move_options.set(None))
            };
            let on_moved = {
                let (move_options, recorded) = (move_options.clone(), recorded.clone());
                Callback::from(move |m: tourdesk_domain::ipc::BookingMoney| {
                    move_options.set(None);
                    recorded.set(Some(if !m.refund_due.is_zero() {
                        format!("Booking moved: {} to refund.", price(&m.refund_due))
                    } else if !m.balance_due.is_zero() {
                        format!("Booking moved: {} due.", price(&m.balance_due))
                    } else {
                        "Booking moved.".into()
                    }));
                })
            };
            let resend = {
                let (recorded, cancel_error) = (recorded.clone(), cancel_error.clone());
                let id = m.booking_id.clone();
                Callback::from(move |_: MouseEvent| {
                    let (recorded, cancel_error, id) = (recorded.clone(), cancel_error.clone(), id.clone());
                    yew::platform::spawn_local(async move {
                        match crate::components::timeline::resend_confirmation(&id).await {
                            Ok(()) => {
                                cancel_error.set(None);
                                recorded.set(Some(
                                    "The confirmation will be sent again; the timeline shows it once it has gone out."
                                        .into(),
                                ));
                            }
                            Err(e) => cancel_error.set(Some(e)),
                        }
                    });
                })
            };
            let open_modify = {
                let (modify_preview, cancel_error, recorded) =
                    (modify_preview.clone(), cancel_error.clone(), recorded.clone());
                // The booking as it is: its lines, its code and discount kept.
                let input = tourdesk_domain::ipc::ModifyBooking {
                    booking_id: m.booking_id.clone(),
                    lines: m
                        .pricing
                        .line_items
                        .iter()
                        .map(|l| tourdesk_domain::ipc::ModifyLine {
                            tier_id: l.pricing_tier_id.clone(),
                            quantity: l.quantity,
                        })
                        .collect(),
                    promo_code: None,
                    manual_discount: None,
                    manual_discount_reason: None,
                    reason: None,
                    expected_total: None,
                };
                Callback::from(move |_: MouseEvent| {
                    recorded.set(None);
                    let (modify_preview, cancel_error, input) =
                        (modify_preview.clone(), cancel_error.clone(), input.clone());
                    yew::platform::spawn_local(async move {
                        match services::modify_preview(&input).await {
                            Ok(p) => {
                                cancel_error.set(None);
                                modify_preview.set(Some(p));
                            }
                            Err(e) => cancel_error.set(Some(e)),
                        }
                    });
                })
            };
            let save_receipt = {
                let (recorded, cancel_error) = (recorded.clone(), cancel_error.clone());
                let reference = m.reference_number.clone();
                Callback::from(move |_: MouseEvent| {
                    let (recorded, cancel_error, reference) =
                        (recorded.clone(), cancel_error.clone(), reference.clone());
                    yew::platform::spawn_local(async move {
                        match crate::components::timeline::save_receipt(&reference).await {
                            Ok(path) => {
                                cancel_error.set(None);
                                recorded.set(Some(format!("Receipt saved to {path}")));
                            }
                            Err(e) => cancel_error.set(Some(e)),
                        }
                    });
                })
            };
            let open_refund = {
                let (refund_dialog, recorded) = (refund_dialog.clone(), recorded.clone());
                Callback::from(move |()| {
                    recorded.set(None);
                    refund_dialog.set(true);
                })
            };
            let close_refund = {
                let refund_dialog = refund_dialog.clone();
                Callback::from(move |()| refund_dialog.set(false))
            };
            let on_refunded = {
                let (refund_dialog, recorded) = (refund_dialog.clone(), recorded.clone());
                Callback::from(move |m: tourdesk_domain::ipc::BookingMoney| {
                    refund_dialog.set(false);
                    recorded.set(Some(if m.refund_due_by_hand.is_zero() {
                        "Refund recorded: nothing more is owed back by hand.".into()
                    } else {
                        format!("Refund recorded: {} still to give back by hand.", price(&m.refund_due_by_hand))
                    }));
                })
            };
            let open_message = {
                let (message_options, cancel_error, recorded) =
                    (message_options.clone(), cancel_error.clone(), recorded.clone());
                let id = m.booking_id.clone();
                Callback::from(move |_: MouseEvent| {
                    recorded.set(None);
                    let (message_options, cancel_error, id) =
                        (message_options.clone(), cancel_error.clone(), id.clone());
                    yew::platform::spawn_local(async move {
                        match services::message_options(&id).await {
                            Ok(o) => {
                                cancel_error.set(None);
                                message_options.set(Some(o));
                            }
                            Err(e) => cancel_error.set(Some(e)),
                        }
                    });
                })
            };
            let close_message = {
                let message_options = message_options.clone();
                Callback::from(move |()| message_options.set(None))
            };
            let on_message_sent = {
                let (message_options, recorded) = (message_options.clone(), recorded.clone());
                Callback::from(move |channel: tourdesk_domain::mutation::MessageChannel| {
                    message_options.set(None);
                    let how = match channel {
                        tourdesk_domain::mutation::MessageChannel::Email => "e-mail",
                        tourdesk_domain::mutation::MessageChannel::Sms => "text message",
                    };
                    recorded.set(Some(format!("Message queued by {how}; the timeline shows it once it has gone out.")));
                })
            };
            let confirmed = tourdesk_domain::mutation::has_confirmation(m.status);
            let close_modify = {
                let modify_preview = modify_preview.clone();
                Callback::from(move |()| modify_preview.set(None))
            };
            let on_modified = {
                let (modify_preview, recorded) = (modify_preview.clone(), recorded.clone());
                Callback::from(move |m: tourdesk_domain::ipc::BookingMoney| {
                    modify_preview.set(None);
                    recorded.set(Some(if !m.refund_due.is_zero() {
                        format!("Booking changed: {} to refund.", price(&m.refund_due))
                    } else if !m.balance_due.is_zero() {
                        format!("Booking changed: {} due.", price(&m.balance_due))
                    } else {
                        "Booking changed.".into()
                    }));
                })
            };
            let cancellable = m.status != tourdesk_domain::status::BookingStatus::Cancelled
                && m.status != tourdesk_domain::status::BookingStatus::Completed;
            html! {
                <>
                    <div class="actions booking-actions">
                            <button id="save-receipt" type="button" onclick={save_receipt}>{ "Save receipt (PDF)" }</button>
                            <button id="send-message" type="button" onclick={open_message}>{ "Send a message…" }</button>
                            if confirmed {
                                <button id="resend-confirmation" type="button" onclick={resend}>{ "Send confirmation again" }</button>
                            }
                            if cancellable {
                                <button id="modify-booking" type="button" onclick={open_modify}>{ "Change booking…" }</button>
                                <button id="move-booking" type="button" onclick={open_move}>{ "Move to another departure…" }</button>
                                <button id="cancel-booking" type="button" class="danger" onclick={open_cancel}>{ "Cancel booking…" }</button>
                            }
                    </div>
                    if let Some(e) = &*cancel_error {
                        <p id="cancel-booking-refused" class="error-text">{ e.message.clone() }</p>
                    }
                    <PriceSnapshot money={m.clone()} />
                    <Ledger money={m.clone()} on_record={Some(open)} on_redeem={Some(open_gift)} on_refund={Some(open_refund)} zone={props.zone} />
                    if let Some(note) = &*recorded {
                        <p id="payment-recorded" class="notice" role="status">{ note.clone() }</p>
                    }
                    if *refund_dialog {
                        <RecordRefundDialog money={m.clone()} on_recorded={on_refunded} on_close={close_refund} />
                    }
                    if let Some(o) = &*message_options {
                        <SendMessageDialog options={o.clone()} on_sent={on_message_sent} on_close={close_message} />
                    }
                    if *dialog {
                        <RecordPaymentDialog money={m.clone()} on_recorded={on_recorded} on_close={close} />
                    }
                    if let Some(o) = &*move_options {
                        <MoveBookingDialog money={m.clone()} options={o.clone()} on_moved={on_moved} on_close={close_move} />
                    }
                    if let Some(p) = &*modify_preview {
                        <ModifyBookingDialog money={m.clone()} preview={p.clone()} on_modified={on_modified} on_close={close_modify} />
                    }
                    if let Some(p) = &*cancel_preview {
                        <CancelBookingDialog money={m.clone()} preview={p.clone()} on_cancelled={on_cancelled} on_close={close_cancel} />
                    }
                    if *gift_dialog {
                        <RedeemGiftCardDialog money={m} on_redeemed={on_redeemed} on_close={close_gift} />
                    }
                </>
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures;
    use crate::pages::test_support::render_page;
    use tourdesk_domain::status::PaymentStatus;

    #[tokio::test]
    async fn a_deep_link_loads_the_booking_and_the_card_reads_in_words() {
        let html = render_page(Route::Booking("BK-2026-ABC123".into())).await;
        assert!(html.contains("Loading booking BK-2026-ABC123…"), "{html}");
        let hit = fixtures::booking_hit(PaymentStatus::Unpaid, fixtures::money(9000, "EUR"), true);
        let html = yew::LocalServerRenderer::<BookingCard>::with_props(BookingCardProps { hit }).render().await;
        assert!(html.contains("href=\"#/customers/c1\"") && html.contains("href=\"#/tours/t1\""), "{html}");
        assert!(html.contains("Not paid") && html.contains("Confirmed") && html.contains("Pending sync"), "{html}");
    }
}

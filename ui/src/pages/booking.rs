//! One booking, by reference (`#/bookings/BK-2026-…`): who, which tour and departure, seats,
//! status and money, with links to the customer and the tour; then its participants per tier
//! and price snapshot, its ledger with the balance due, and "Record payment".

use tourdesk_domain::ipc::BookingHit;
use tourdesk_domain::protocol::EntityKind;
use yew::prelude::*;

use crate::components::gift_cards::RedeemGiftCardDialog;
use crate::components::payment::{Ledger, PriceSnapshot, RecordPaymentDialog};
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
                        html! {
                            <>
                                <BookingCard hit={b} />
                                <BookingMoneySection booking_id={id.clone()} />
                                <crate::components::history::EntityHistory entity="booking" entity_id={id} />
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
}

/// The price snapshot and the ledger, with the "Record payment" dialog.
#[component]
pub fn BookingMoneySection(props: &BookingMoneySectionProps) -> Html {
    let money =
        use_invoke(MONEY_KINDS, props.booking_id.clone(), |id| async move { services::booking_money(&id).await });
    let dialog = use_state(|| false);
    let gift_dialog = use_state(|| false);
    let recorded = use_state(|| None::<String>);
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
            html! {
                <>
                    <PriceSnapshot money={m.clone()} />
                    <Ledger money={m.clone()} on_record={Some(open)} on_redeem={Some(open_gift)} />
                    if let Some(note) = &*recorded {
                        <p id="payment-recorded" class="notice" role="status">{ note.clone() }</p>
                    }
                    if *dialog {
                        <RecordPaymentDialog money={m.clone()} on_recorded={on_recorded} on_close={close} />
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

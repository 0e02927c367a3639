//! Gift cards (`#/gift-cards`): every card this desk holds with what is left, "Sell a gift card",
//! and one card's movements. The cards come from the replica (office desks only), so the screen
//! works offline.

use tourdesk_domain::ipc::GiftCardDetail;
use tourdesk_domain::protocol::EntityKind;
use yew::prelude::*;

use crate::components::gift_cards::{GiftCardMovements, GiftCardTable, SellGiftCardDialog};
use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::hooks::{Depends, Load, use_invoke, use_invoke_refreshing};
use crate::services;
use crate::state::{Action, use_app};

const KINDS: Depends = Depends::on(&[EntityKind::GiftCard, EntityKind::GiftCardMovement, EntityKind::Booking]);

#[component]
pub fn GiftCardsPage() -> Html {
    let app = use_app();
    let retry = use_state(|| 0u32);
    let cards = use_invoke_refreshing(KINDS, (), *retry, |_| services::list_gift_cards());
    let selected = use_state(|| None::<String>);
    let selling = use_state(|| false);
    let on_sell = {
        let selling = selling.clone();
        Callback::from(move |_: MouseEvent| selling.set(true))
    };
    let close = {
        let selling = selling.clone();
        Callback::from(move |()| selling.set(false))
    };
    let sold = {
        let (app, selling, selected) = (app.clone(), selling.clone(), selected.clone());
        Callback::from(move |d: GiftCardDetail| {
            selling.set(false);
            app.dispatch(Action::Toast(format!("Gift card {} sold", d.line.display_code)));
            selected.set(Some(d.line.card.id));
        })
    };
    let on_open = {
        let selected = selected.clone();
        Callback::from(move |id: String| selected.set(Some(id)))
    };
    let currency = cards
        .ready()
        .and_then(|l| l.first())
        .map(|l| l.card.currency.as_str().to_string())
        .unwrap_or_else(|| "EUR".into());
    let body = match &cards {
        Load::Loading => html! { <Loading what="gift cards" /> },
        Load::Failed(e) => {
            let retry = retry.clone();
            html! { <ErrorNote error={e.clone()} on_retry={Some(Callback::from(move |()| retry.set(*retry + 1)))} /> }
        }
        Load::Ready(list) if list.is_empty() => html! {
            <EmptyState title="No gift cards yet" hint="Sell one here: the customer gets a code worth the amount, to spend on any booking in parts until it runs out or expires.">
                <button id="sell-gift-card" class="primary" onclick={on_sell.clone()}>{ "Sell a gift card" }</button>
            </EmptyState>
        },
        Load::Ready(list) => html! {
            <>
                <div class="toolbar"><button id="sell-gift-card" class="primary" onclick={on_sell.clone()}>{ "Sell a gift card" }</button></div>
                <GiftCardTable cards={list.clone()} selected={(*selected).clone()} on_open={on_open} />
            </>
        },
    };
    html! {
        <section class="page single gift-cards-page">
            <h1>{ "Gift cards" }</h1>
            if *selling {
                <SellGiftCardDialog currency={currency} on_sold={sold} on_close={close} />
            }
            { body }
            if let Some(id) = &*selected {
                <GiftCardPanel id={id.clone()} />
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct GiftCardPanelProps {
    pub id: String,
}

/// One card's movements, reloaded when the desk's rows change.
#[component]
pub fn GiftCardPanel(props: &GiftCardPanelProps) -> Html {
    let detail = use_invoke(KINDS, props.id.clone(), |id| async move { services::gift_card(&id).await });
    match detail {
        Load::Loading => html! { <Loading what="the gift card's movements" /> },
        Load::Failed(e) => html! { <ErrorNote error={e} /> },
        Load::Ready(d) => html! { <GiftCardMovements detail={d} /> },
    }
}

#[cfg(test)]
mod tests {
    use crate::pages::test_support::render_page;
    use crate::router::Route;

    #[tokio::test]
    async fn the_screen_starts_loading_in_words() {
        let html = render_page(Route::GiftCards).await;
        assert!(html.contains("Gift cards") && html.contains("Loading gift cards…"), "{html}");
    }
}

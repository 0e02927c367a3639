//! Gift cards: the list, one card's movements, the "Sell a gift card" dialog, and the "Redeem
//! gift card" dialog of a booking's payments. Sales and redemptions are saved on this desk at
//! once, offline too; the server decides them again.

use chrono::NaiveDate;
use tourdesk_domain::gift_card::{CardState, MovementKind};
use tourdesk_domain::ipc::{BookingMoney, GiftCardDetail, GiftCardLine, GiftCardRedemption, NewGiftCard};
use tourdesk_domain::ledger::PaymentMethod;
use tourdesk_domain::money::Money;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::components::dialog::FormDialog;
use crate::components::keyboard::on_row_keys;
use crate::components::payment::{decimal, method_label};
use crate::components::tours::price;
use crate::error::UiError;
use crate::hooks::spawn_save;
use crate::router::Route;
use crate::services;

fn bind(s: &UseStateHandle<String>) -> Callback<InputEvent> {
    let s = s.clone();
    Callback::from(move |e: InputEvent| s.set(e.target_unchecked_into::<HtmlInputElement>().value()))
}

fn beside(err: &Option<UiError>, prefix: &str, field: &str) -> Html {
    match err {
        Some(e) if e.is_field(field) => {
            html! { <span class="field-error" id={format!("{prefix}-{field}-error")}>{ e.message.clone() }</span> }
        }
        _ => html! {},
    }
}

fn general(err: &Option<UiError>, id: &str, fields: &[&str]) -> Html {
    match err {
        Some(e) if !fields.iter().any(|f| e.is_field(f)) => {
            html! { <p id={id.to_string()} class="error-text" role="alert">{ e.message.clone() }</p> }
        }
        _ => html! {},
    }
}

pub fn state_word(s: CardState) -> &'static str {
    s.label()
}

#[derive(Properties, PartialEq)]
pub struct GiftCardTableProps {
    pub cards: Vec<GiftCardLine>,
    pub selected: Option<String>,
    pub on_open: Callback<String>,
}

/// One row per card: code, for whom, what is left of what was sold, expiry, state. ArrowUp/Down
/// move between rows; Enter or a click opens the card's movements.
#[component]
pub fn GiftCardTable(props: &GiftCardTableProps) -> Html {
    html! {
        <div class="table-scroll">
        <table id="gift-card-table" class="data">
            <thead><tr>
                <th>{ "Code" }</th><th>{ "For" }</th><th class="num">{ "Left" }</th><th class="num">{ "Sold for" }</th>
                <th>{ "Expires" }</th><th>{ "State" }</th>
            </tr></thead>
            <tbody onkeydown={Callback::from(on_row_keys)}>
                { for props.cards.iter().map(|l| {
                    let c = &l.card;
                    let open = { let (cb, id) = (props.on_open.clone(), c.id.clone()); Callback::from(move |_: MouseEvent| cb.emit(id.clone())) };
                    let on_key = {
                        let (cb, id) = (props.on_open.clone(), c.id.clone());
                        Callback::from(move |e: KeyboardEvent| if e.key() == "Enter" { cb.emit(id.clone()) })
                    };
                    let selected = props.selected.as_deref() == Some(c.id.as_str());
                    html! {
                        <tr class={classes!("gift-card-row", selected.then_some("selected"))} data-id={c.id.clone()} data-row="" tabindex="0"
                            onclick={open} onkeydown={on_key} aria-selected={selected.to_string()}>
                            <td class="code">{ l.display_code.clone() }
                                if l.pending { <span class="badge pending">{ "Pending sync" }</span> }
                            </td>
                            <td>{ c.recipient_name.clone().or_else(|| c.purchaser_name.clone()).unwrap_or_else(|| "—".into()) }</td>
                            <td class="num">{ price(&c.balance_money()) }</td>
                            <td class="num">{ price(&Money::new(c.issued_amount, c.currency)) }</td>
                            <td class="nowrap">{ c.expires_at.map_or("Never".to_string(), |e| e.format("%d %b %Y").to_string()) }</td>
                            <td>{ state_word(l.state) }</td>
                        </tr>
                    }
                }) }
            </tbody>
        </table>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct GiftCardMovementsProps {
    pub detail: GiftCardDetail,
}

/// A card's story: sold, then each booking it paid, with the balance after each.
#[component]
pub fn GiftCardMovements(props: &GiftCardMovementsProps) -> Html {
    let d = &props.detail;
    let c = &d.line.card;
    html! {
        <section id="gift-card-detail" class="panel" aria-labelledby="gift-card-title">
            <h2 id="gift-card-title">{ format!("Gift card {}", d.line.display_code) }</h2>
            <dl class="facts">
                <dt>{ "Left" }</dt><dd id="gift-card-balance">{ price(&c.balance_money()) }</dd>
                <dt>{ "State" }</dt><dd>{ state_word(d.line.state) }</dd>
                if let Some(p) = &c.purchaser_name { <dt>{ "Bought by" }</dt><dd>{ p.clone() }</dd> }
                if let Some(r) = &c.recipient_name { <dt>{ "For" }</dt><dd>{ r.clone() }</dd> }
                <dt>{ "Expires" }</dt><dd>{ c.expires_at.map_or("Never".to_string(), |e| e.format("%d %b %Y %H:%M").to_string()) }</dd>
                if let Some(n) = &c.note { <dt>{ "Note" }</dt><dd>{ n.clone() }</dd> }
            </dl>
            <table class="data" id="gift-card-movements">
                <thead><tr><th>{ "When" }</th><th>{ "What" }</th><th class="num">{ "Amount" }</th><th class="num">{ "Left after" }</th></tr></thead>
                <tbody>
                    { for d.movements.iter().map(|l| {
                        let m = &l.movement;
                        let what = match (m.kind, &l.booking_reference, m.payment_method) {
                            (MovementKind::Redemption, Some(r), _) => html! {
                                <>{ "Paid booking " }<a href={Route::Booking(r.clone()).to_hash()}>{ r.clone() }</a></>
                            },
                            (MovementKind::Refund, Some(r), _) => html! {
                                <>{ "Given back from booking " }<a href={Route::Booking(r.clone()).to_hash()}>{ r.clone() }</a></>
                            },
                            (MovementKind::Issue, _, Some(pm)) => html! { { format!("{} · paid by {}", m.kind.label(), method_label(pm).to_lowercase()) } },
                            _ => html! { { m.kind.label() } },
                        };
                        let sign = if m.kind == MovementKind::Redemption { "−" } else { "+" };
                        html! {
                            <tr class="gift-card-movement" data-kind={m.kind.as_str()}>
                                <td>{ m.recorded_at.format("%d %b %Y %H:%M").to_string() }</td>
                                <td>{ what }
                                    if l.pending { <span class="badge pending">{ "Pending sync" }</span> }
                                </td>
                                <td class="num">{ format!("{sign}{}", price(&Money::new(m.amount, m.currency))) }</td>
                                <td class="num">{ price(&Money::new(m.balance_after, m.currency)) }</td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
        </section>
    }
}

/// The "Sell a gift card" form as typed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SaleDraft {
    pub amount: String,
    pub currency: String,
    pub method: String,
    pub expires_on: String,
    pub purchaser: String,
    pub recipient: String,
    pub note: String,
    pub code: String,
}

impl SaleDraft {
    /// What the shell is sent, or the first field that does not read (the domain checks the rest
    /// and names its field the same way).
    pub fn to_input(&self) -> Result<NewGiftCard, UiError> {
        if self.amount.trim().is_empty() {
            return Err(UiError::at_field("amount", "Enter what the card is worth"));
        }
        let payment_method = PaymentMethod::parse(&self.method)
            .ok_or_else(|| UiError::at_field("payment_method", "Pick how it was paid"))?;
        let expires_on = match self.expires_on.trim() {
            "" => None,
            typed => Some(
                NaiveDate::parse_from_str(typed, "%Y-%m-%d")
                    .map_err(|_| UiError::at_field("expires_at", "Pick a date, or leave it empty for no expiry"))?,
            ),
        };
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        Ok(NewGiftCard {
            amount: self.amount.trim().to_string(),
            currency: self.currency.trim().to_uppercase(),
            payment_method,
            expires_on,
            purchaser_name: opt(&self.purchaser),
            recipient_name: opt(&self.recipient),
            note: opt(&self.note),
            code: opt(&self.code),
        })
    }
}

const SALE_FIELDS: [&str; 8] =
    ["amount", "currency", "payment_method", "expires_at", "purchaser_name", "recipient_name", "note", "code"];

#[derive(Properties, PartialEq)]
pub struct SellGiftCardDialogProps {
    /// The currency the form starts with.
    pub currency: AttrValue,
    pub on_sold: Callback<GiftCardDetail>,
    pub on_close: Callback<()>,
}

/// Amount and currency, how the buyer paid, an optional expiry, names and a note; a code is
/// minted unless a printed voucher's is typed. Errors stand beside their fields.
#[component]
pub fn SellGiftCardDialog(props: &SellGiftCardDialogProps) -> Html {
    let amount = use_state(String::new);
    let currency = {
        let c = props.currency.to_string();
        use_state(move || c)
    };
    let method = use_state(|| PaymentMethod::Cash.as_str().to_string());
    let expires_on = use_state(String::new);
    let purchaser = use_state(String::new);
    let recipient = use_state(String::new);
    let note = use_state(String::new);
    let code = use_state(String::new);
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let on_method = {
        let method = method.clone();
        Callback::from(move |e: Event| method.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_submit = {
        let draft = SaleDraft {
            amount: (*amount).clone(),
            currency: (*currency).clone(),
            method: (*method).clone(),
            expires_on: (*expires_on).clone(),
            purchaser: (*purchaser).clone(),
            recipient: (*recipient).clone(),
            note: (*note).clone(),
            code: (*code).clone(),
        };
        let (error, busy, on_sold) = (error.clone(), busy.clone(), props.on_sold.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let input = match draft.to_input() {
                Ok(i) => i,
                Err(e) => return error.set(Some(e)),
            };
            spawn_save(&busy, &error, &on_sold, async move { services::issue_gift_card(&input).await });
        })
    };
    let err = (*error).clone();
    html! {
        <FormDialog name="sell-gift-card" title="Sell a gift card" onsubmit={on_submit} on_close={props.on_close.clone()}>
            <fieldset class="row">
                <label>{ "Amount" }
                    <input id="gift-amount" inputmode="decimal" autocomplete="off" value={(*amount).clone()} oninput={bind(&amount)} autofocus=true />
                    { beside(&err, "gift", "amount") }
                </label>
                <label>{ "Currency" }
                    <input id="gift-currency" maxlength="3" size="4" value={(*currency).clone()} oninput={bind(&currency)} />
                    { beside(&err, "gift", "currency") }
                </label>
            </fieldset>
            <label>{ "Paid by" }
                <select id="gift-method" onchange={on_method}>
                    { for PaymentMethod::ALL.iter().map(|pm| html! {
                        <option value={pm.as_str()} selected={pm.as_str() == method.as_str()}>{ method_label(*pm) }</option>
                    }) }
                </select>
                { beside(&err, "gift", "payment_method") }
            </label>
            <label>{ "Last day it can be used (leave empty for no expiry)" }
                <input id="gift-expires" type="date" value={(*expires_on).clone()} oninput={bind(&expires_on)} />
                { beside(&err, "gift", "expires_at") }
            </label>
            <label>{ "Bought by" }
                <input id="gift-purchaser" maxlength="200" value={(*purchaser).clone()} oninput={bind(&purchaser)} />
                { beside(&err, "gift", "purchaser_name") }
            </label>
            <label>{ "For" }
                <input id="gift-recipient" maxlength="200" value={(*recipient).clone()} oninput={bind(&recipient)} />
                { beside(&err, "gift", "recipient_name") }
            </label>
            <label>{ "Note" }
                <input id="gift-note" maxlength="500" value={(*note).clone()} oninput={bind(&note)} />
                { beside(&err, "gift", "note") }
            </label>
            <label>{ "Code of a printed voucher (leave empty: the desk makes one)" }
                <input id="gift-code" maxlength="40" autocomplete="off" value={(*code).clone()} oninput={bind(&code)} />
                { beside(&err, "gift", "code") }
            </label>
            <p class="muted">{ "Saved on this desk at once, offline too. Give the customer the code shown next." }</p>
            { general(&err, "sell-gift-card-error", &SALE_FIELDS) }
            <div class="actions">
                <button id="confirm-sell-gift-card" class="primary" type="submit" disabled={*busy}>{ "Sell gift card" }</button>
                <button id="cancel-sell-gift-card" type="button" onclick={props.on_close.reform(|_: MouseEvent| ())}>{ "Cancel" }</button>
            </div>
        </FormDialog>
    }
}

#[derive(Properties, PartialEq)]
pub struct RedeemGiftCardDialogProps {
    pub money: BookingMoney,
    pub on_redeemed: Callback<BookingMoney>,
    pub on_close: Callback<()>,
}

/// The card's code and how much of it to spend (the balance due to start with; a card with less
/// left is refused with what it has).
#[component]
pub fn RedeemGiftCardDialog(props: &RedeemGiftCardDialogProps) -> Html {
    let code = use_state(String::new);
    let amount = {
        let start = decimal(&props.money.balance_due);
        use_state(move || start)
    };
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let on_submit = {
        let (code, amount, error, busy) = (code.clone(), amount.clone(), error.clone(), busy.clone());
        let (booking_id, currency, done) = (
            props.money.booking_id.clone(),
            props.money.total.currency.as_str().to_string(),
            props.on_redeemed.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if code.trim().is_empty() {
                return error.set(Some(UiError::at_field("code", "Enter the gift card's code")));
            }
            if amount.trim().is_empty() {
                return error.set(Some(UiError::at_field("amount", "Enter how much of the card to use")));
            }
            let input = GiftCardRedemption {
                booking_id: booking_id.clone(),
                code: code.trim().to_string(),
                amount: amount.trim().to_string(),
                currency: currency.clone(),
            };
            spawn_save(&busy, &error, &done, async move { services::redeem_gift_card(&input).await });
        })
    };
    let err = (*error).clone();
    let m = &props.money;
    html! {
        <FormDialog name="redeem-gift-card" title="Redeem gift card" onsubmit={on_submit} on_close={props.on_close.clone()}>
            <p class="dialog-subject"><strong>{ format!("Booking {}", m.reference_number) }</strong>
                { format!(" · balance due {}", price(&m.balance_due)) }</p>
            <label>{ "Gift card code" }
                <input id="redeem-code" autocomplete="off" placeholder="ABCD-EFGH-JKMN-PQRS" value={(*code).clone()} oninput={bind(&code)} autofocus=true />
                { beside(&err, "redeem", "code") }
            </label>
            <label>{ format!("Amount to use ({})", m.total.currency) }
                <input id="redeem-amount" inputmode="decimal" autocomplete="off" value={(*amount).clone()} oninput={bind(&amount)} />
                { beside(&err, "redeem", "amount") }
                { beside(&err, "redeem", "currency") }
            </label>
            <p class="muted">{ "Taken from the card on this desk at once, offline too; if another desk used the card meanwhile, the server says so in the inbox." }</p>
            { general(&err, "redeem-gift-card-error", &["code", "amount", "currency"]) }
            <div class="actions">
                <button id="confirm-redeem-gift-card" class="primary" type="submit" disabled={*busy}>{ "Use gift card" }</button>
                <button id="cancel-redeem-gift-card" type="button" onclick={props.on_close.reform(|_: MouseEvent| ())}>{ "Cancel" }</button>
            </div>
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tourdesk_domain::gift_card::{GiftCard, GiftCardMovement};
    use tourdesk_domain::ipc::GiftCardMovementLine;
    use tourdesk_domain::money::Currency;

    pub fn line(balance: i64, state: CardState, pending: bool) -> GiftCardLine {
        let now = tourdesk_domain::fixtures::now();
        GiftCardLine {
            card: GiftCard {
                id: "g-1".into(),
                organization_id: "o".into(),
                code: "ABCDEFGHJKMNPQRS".into(),
                currency: Currency::EUR,
                issued_amount: 5_000,
                balance,
                expires_at: None,
                purchaser_name: Some("Ines".into()),
                recipient_name: Some("Rui".into()),
                note: None,
                issued_by: "u".into(),
                issued_at: now,
                updated_at: now,
            },
            display_code: "ABCD-EFGH-JKMN-PQRS".into(),
            state,
            pending,
        }
    }

    #[test]
    fn a_sale_draft_reads_its_fields_or_names_the_first_wrong_one() {
        let d =
            SaleDraft { amount: "50".into(), currency: "eur".into(), method: "cash".into(), ..SaleDraft::default() };
        let i = d.to_input().unwrap();
        assert_eq!((i.currency.as_str(), i.expires_on, i.code), ("EUR", None, None));
        assert!(SaleDraft { amount: " ".into(), ..d.clone() }.to_input().unwrap_err().is_field("amount"));
        assert!(SaleDraft { expires_on: "soon".into(), ..d.clone() }.to_input().unwrap_err().is_field("expires_at"));
        assert!(SaleDraft { method: "card_payment".into(), ..d }.to_input().unwrap_err().is_field("payment_method"));
    }

    #[tokio::test]
    async fn the_list_reads_in_words_and_the_movements_link_their_bookings() {
        let html = yew::LocalServerRenderer::<GiftCardTable>::with_props(GiftCardTableProps {
            cards: vec![line(2_000, CardState::Active, true)],
            selected: None,
            on_open: Callback::noop(),
        })
        .render()
        .await;
        assert!(
            html.contains("ABCD-EFGH-JKMN-PQRS") && html.contains("Rui") && html.contains("Pending sync"),
            "{html}"
        );
        assert!(
            html.contains("€20.00") && html.contains("€50.00") && html.contains("Never") && html.contains("Active"),
            "{html}"
        );

        let now = tourdesk_domain::fixtures::now();
        let mv = |kind, amount, after, booking: Option<&str>| GiftCardMovementLine {
            movement: GiftCardMovement {
                id: format!("{kind}"),
                organization_id: "o".into(),
                gift_card_id: "g-1".into(),
                kind,
                amount,
                currency: Currency::EUR,
                balance_after: after,
                booking_id: booking.map(Into::into),
                payment_method: (kind == MovementKind::Issue).then_some(PaymentMethod::Cash),
                recorded_by: "u".into(),
                recorded_at: now,
            },
            booking_reference: booking.map(|_| "BK-2026-ABC123".into()),
            pending: false,
        };
        let detail = GiftCardDetail {
            line: line(2_000, CardState::Active, false),
            movements: vec![
                mv(MovementKind::Issue, 5_000, 5_000, None),
                mv(MovementKind::Redemption, 3_000, 2_000, Some("b-1")),
            ],
        };
        let html =
            yew::LocalServerRenderer::<GiftCardMovements>::with_props(GiftCardMovementsProps { detail }).render().await;
        assert!(html.contains("Sold and issued · paid by cash"), "{html}");
        assert!(html.contains("href=\"#/bookings/BK-2026-ABC123\""), "{html}");
        assert!(html.contains("−€30.00") && html.contains("id=\"gift-card-balance\">€20.00"), "{html}");
    }
}

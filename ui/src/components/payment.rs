//! A booking's money: its price snapshot, its ledger with the balance due, and the "Record
//! payment" dialog (cash, card terminal, bank transfer). The desk records a payment at once,
//! offline too; the server decides it again under the booking's lock.

use tourdesk_domain::ipc::{BookingMoney, NewPayment};
use tourdesk_domain::ledger::{EntryKind, PaymentMethod};
use tourdesk_domain::money::Money;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::components::dialog::FormDialog;
use crate::components::tours::price;
use crate::error::UiError;
use crate::hooks::spawn_save;
use crate::services;

/// An amount as a person types it, without the currency (`12.50`, `1500` for yen).
pub fn decimal(m: &Money) -> String {
    let exp = u32::from(m.currency.exponent());
    if exp == 0 {
        return m.amount.to_string();
    }
    let div = 10u64.pow(exp);
    let sign = if m.amount < 0 { "-" } else { "" };
    let abs = m.amount.unsigned_abs();
    format!("{sign}{}.{:0width$}", abs / div, abs % div, width = exp as usize)
}

pub fn method_label(m: PaymentMethod) -> &'static str {
    EntryKind::from(m).label()
}

#[derive(Properties, PartialEq)]
pub struct PriceSnapshotProps {
    pub money: BookingMoney,
}

/// Participants per tier and the price as it was quoted: lines, discounts, taxes, total.
#[component]
pub fn PriceSnapshot(props: &PriceSnapshotProps) -> Html {
    let p = &props.money.pricing;
    let named = |tier: &str| {
        props
            .money
            .participants
            .iter()
            .filter(|x| x.pricing_tier_id == tier)
            .map(|x| format!("{} {}", x.first_name, x.last_name))
            .collect::<Vec<_>>()
    };
    html! {
        <section id="price-snapshot" class="panel" aria-labelledby="price-title">
            <h3 id="price-title">{ "Participants and price" }</h3>
            <table class="data">
                <thead><tr><th>{ "Tier" }</th><th class="num">{ "Guests" }</th><th class="num">{ "Each" }</th><th class="num">{ "Amount" }</th></tr></thead>
                <tbody>
                    { for p.line_items.iter().map(|l| {
                        let names = named(&l.pricing_tier_id);
                        html! {
                            <tr class="price-line">
                                <td>{ &l.tier_name }
                                    if !names.is_empty() { <div class="muted">{ names.join(", ") }</div> }
                                </td>
                                <td class="num">{ l.quantity }</td>
                                <td class="num">{ price(&l.unit_price) }</td>
                                <td class="num">{ price(&l.total_price) }</td>
                            </tr>
                        }
                    }) }
                    if p.subtotal != p.total {
                        <tr><td colspan="3">{ "Subtotal" }</td><td class="num">{ price(&p.subtotal) }</td></tr>
                    }
                    { for p.discounts.iter().map(|d| html! {
                        <tr class="discount"><td colspan="3">{ d.description.clone() }</td><td class="num">{ format!("−{}", price(&d.amount)) }</td></tr>
                    }) }
                    { for p.taxes.iter().map(|t| html! {
                        <tr class="tax"><td colspan="3">{ format!("{} {}{}", t.name, t.rate, if t.inclusive { " (included)" } else { "" }) }</td><td class="num">{ price(&t.amount) }</td></tr>
                    }) }
                    <tr class="total"><th colspan="3">{ "Total" }</th><th class="num" id="price-total">{ price(&p.total) }</th></tr>
                </tbody>
            </table>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct LedgerProps {
    pub money: BookingMoney,
    /// Opens the "Record payment" dialog; `None` hides the button.
    #[prop_or_default]
    pub on_record: Option<Callback<()>>,
    /// Opens the "Redeem gift card" dialog; `None` hides the button.
    #[prop_or_default]
    pub on_redeem: Option<Callback<()>>,
    /// Opens the "Record refund given back" dialog; shown only while money is owed back by hand.
    #[prop_or_default]
    pub on_refund: Option<Callback<()>>,
    /// The departure's zone: the ledger's times read like the rest of the booking's page.
    #[prop_or_default]
    pub zone: Option<chrono_tz::Tz>,
}

/// The ledger: every entry, then paid, refunded and the balance due.
#[component]
pub fn Ledger(props: &LedgerProps) -> Html {
    let m = &props.money;
    let on_record = props.on_record.clone().map(|cb| cb.reform(|_: MouseEvent| ()));
    let on_redeem = props.on_redeem.clone().map(|cb| cb.reform(|_: MouseEvent| ()));
    let on_refund =
        props.on_refund.clone().filter(|_| !m.refund_due_by_hand.is_zero()).map(|cb| cb.reform(|_: MouseEvent| ()));
    html! {
        <section id="ledger" class="panel" aria-labelledby="ledger-title">
            <h3 id="ledger-title">{ "Payments and refunds" }</h3>
            if m.entries.is_empty() {
                <p class="muted" id="ledger-empty">{ "No money has moved on this booking yet." }</p>
            } else {
                <table class="data">
                    <thead><tr><th>{ "When" }</th><th>{ "What" }</th><th>{ "Note" }</th><th class="num">{ "Amount" }</th></tr></thead>
                    <tbody>
                        { for m.entries.iter().map(|l| {
                            let e = &l.entry;
                            let sign = if e.kind == EntryKind::Refund { "−" } else { "" };
                            let note = [e.reference.clone(), e.note.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
                            html! {
                                <tr class="ledger-entry" data-kind={e.kind.as_str()}>
                                    <td>{ tourdesk_domain::audit::time_words(e.recorded_at, props.zone) }</td>
                                    <td>{ e.kind.label() }
                                        if l.pending { <span class="badge pending">{ "Pending sync" }</span> }
                                    </td>
                                    <td>{ note }</td>
                                    <td class="num">{ format!("{sign}{}", price(&e.money())) }</td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            }
            <dl class="facts ledger-sums">
                <dt>{ "Paid" }</dt><dd id="ledger-paid">{ price(&m.paid) }</dd>
                <dt>{ "Refunded" }</dt><dd id="ledger-refunded">{ price(&m.refunded) }</dd>
                <dt>{ "Balance due" }</dt><dd id="balance-due">{ price(&m.balance_due) }</dd>
                if !m.refund_due.is_zero() {
                    <dt>{ "Refund due" }</dt><dd id="refund-due">{ price(&m.refund_due) }</dd>
                }
                if !m.refund_due_by_hand.is_zero() && m.refund_due_by_hand != m.refund_due {
                    <dt>{ "Of which by hand" }</dt><dd id="refund-due-by-hand">{ price(&m.refund_due_by_hand) }</dd>
                }
            </dl>
            if let Some(cb) = on_refund {
                <div class="actions">
                    <button id="record-refund" type="button" onclick={cb}>{ "Record refund given back…" }</button>
                    <span class="muted">{ format!("{} was paid by hand and is owed back by hand.", price(&m.refund_due_by_hand)) }</span>
                </div>
            }
            if m.can_record_payment && (on_record.is_some() || on_redeem.is_some()) {
                <div class="actions">
                    if let Some(cb) = on_record {
                        <button id="record-payment" type="button" onclick={cb}>{ "Record payment" }</button>
                    }
                    if let Some(cb) = on_redeem {
                        <button id="redeem-gift-card" type="button" onclick={cb}>{ "Redeem gift card" }</button>
                    }
                </div>
            }
        </section>
    }
}

/// What the "Record payment" and "Record refund given back" dialogs both ask: how, how much
/// (starting at `start`), a reference and a note, with the dialog's error and busy state.
pub(crate) struct MoneyForm {
    pub method: UseStateHandle<PaymentMethod>,
    pub amount: UseStateHandle<String>,
    pub reference: UseStateHandle<String>,
    pub note: UseStateHandle<String>,
    pub error: UseStateHandle<Option<UiError>>,
    pub busy: UseStateHandle<bool>,
    pub on_method: Callback<Event>,
    pub on_amount: Callback<InputEvent>,
    pub on_reference: Callback<InputEvent>,
    pub on_note: Callback<InputEvent>,
}

#[hook]
pub(crate) fn use_money_form(start: String) -> MoneyForm {
    let method = use_state(|| PaymentMethod::Cash);
    let amount = use_state(move || start);
    let reference = use_state(String::new);
    let note = use_state(String::new);
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let on_method = {
        let method = method.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlSelectElement>().value();
            method.set(PaymentMethod::parse(&v).unwrap_or(PaymentMethod::Cash));
        })
    };
    let text_input = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |e: InputEvent| s.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let on_amount = text_input(&amount);
    let on_reference = text_input(&reference);
    let on_note = {
        let note = note.clone();
        Callback::from(move |e: InputEvent| note.set(e.target_unchecked_into::<HtmlTextAreaElement>().value()))
    };
    MoneyForm { method, amount, reference, note, error, busy, on_method, on_amount, on_reference, on_note }
}

#[derive(Properties, PartialEq)]
pub struct RecordPaymentDialogProps {
    pub money: BookingMoney,
    /// After the desk saved it, with the booking's money as it now stands.
    pub on_recorded: Callback<BookingMoney>,
    pub on_close: Callback<()>,
}

/// The dialog: method, amount (the balance due to start with), a reference and a note. Errors
/// stand beside their fields; Escape or "Cancel" closes it.
#[component]
pub fn RecordPaymentDialog(props: &RecordPaymentDialogProps) -> Html {
    let MoneyForm { method, amount, reference, note, error, busy, on_method, on_amount, on_reference, on_note } =
        use_money_form(decimal(&props.money.balance_due));
    let on_submit = {
        let (method, amount, reference, note, error, busy) =
            (method.clone(), amount.clone(), reference.clone(), note.clone(), error.clone(), busy.clone());
        let (booking_id, currency, on_recorded) = (
            props.money.booking_id.clone(),
            props.money.total.currency.as_str().to_string(),
            props.on_recorded.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if amount.trim().is_empty() {
                error.set(Some(UiError::at_field("amount", "Enter the amount received")));
                return;
            }
            let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
            let input = NewPayment {
                booking_id: booking_id.clone(),
                method: *method,
                amount: amount.trim().to_string(),
                currency: currency.clone(),
                note: opt(&note),
                reference: opt(&reference),
            };
            spawn_save(&busy, &error, &on_recorded, async move { services::record_payment(&input).await });
        })
    };
    let on_cancel = props.on_close.reform(|_: MouseEvent| ());
    let err = (*error).clone();
    let beside = |field: &str| match &err {
        Some(e) if e.is_field(field) => {
            html! { <span class="field-error" id={format!("payment-{field}-error")}>{ e.message.clone() }</span> }
        }
        _ => html! {},
    };
    let general = match &err {
        Some(e) if !["amount", "currency", "method", "note", "reference"].iter().any(|f| e.is_field(f)) => {
            html! { <p id="record-payment-error" class="error-text">{ e.message.clone() }</p> }
        }
        _ => html! {},
    };
    let m = &props.money;
    html! {
        <FormDialog name="record-payment" title="Record payment" onsubmit={on_submit} on_close={props.on_close.clone()}>
            <p class="dialog-subject"><strong>{ format!("Booking {}", m.reference_number) }</strong>
                { format!(" · balance due {}", price(&m.balance_due)) }</p>
            <label>{ "Method" }
                <select id="payment-method" onchange={on_method}>
                    { for PaymentMethod::ALL.iter().map(|pm| html! {
                        <option value={pm.as_str()} selected={*pm == *method}>{ method_label(*pm) }</option>
                    }) }
                </select>
                { beside("method") }
            </label>
            <label>{ format!("Amount ({})", m.total.currency) }
                <input id="payment-amount" inputmode="decimal" autocomplete="off" value={(*amount).clone()} oninput={on_amount} />
                { beside("amount") }
                { beside("currency") }
            </label>
            <label>{ "Reference (receipt, terminal or bank reference)" }
                <input id="payment-reference" maxlength="100" value={(*reference).clone()} oninput={on_reference} />
                { beside("reference") }
            </label>
            <label>{ "Note" }
                <textarea id="payment-note" rows="2" maxlength="500" value={(*note).clone()} oninput={on_note} />
                { beside("note") }
            </label>
            <p class="muted">{ "Recorded on this desk at once, offline too; the booking is confirmed when the payment covers it." }</p>
            { general }
            <div class="actions">
                <button id="confirm-record-payment" type="submit" disabled={*busy}>{ "Record payment" }</button>
                <button id="cancel-record-payment" type="button" onclick={on_cancel}>{ "Cancel" }</button>
            </div>
        </FormDialog>
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tourdesk_domain::ipc::LedgerLine;
    use tourdesk_domain::ledger::LedgerEntry;
    use tourdesk_domain::money::Currency;
    use tourdesk_domain::status::{BookingStatus, PaymentStatus};

    pub fn money(paid: i64) -> BookingMoney {
        let b = tourdesk_domain::fixtures::booking("b-1", 2, BookingStatus::Pending, PaymentStatus::Partial, paid);
        let usd = |a| Money::new(a, Currency::USD);
        let entry = LedgerEntry {
            id: "e-1".into(),
            organization_id: b.organization_id.clone(),
            booking_id: b.id.clone(),
            departure_id: b.departure_id.clone(),
            kind: EntryKind::Cash,
            amount: paid,
            currency: Currency::USD,
            note: Some("at the counter".into()),
            reference: Some("R-7".into()),
            recorded_by: "u-staff".into(),
            recorded_at: tourdesk_domain::fixtures::now(),
            method: None,
        };
        BookingMoney {
            booking_id: b.id.clone(),
            reference_number: b.reference_number.to_string(),
            status: b.status,
            payment_status: b.payment_status,
            pricing: b.pricing.clone(),
            participants: vec![],
            entries: vec![LedgerLine { entry, pending: true }],
            total: b.pricing.total,
            paid: usd(paid),
            refunded: usd(0),
            balance_due: usd(b.pricing.total.amount - paid),
            refund_due: usd(0),
            refund_due_by_hand: usd(0),
            can_record_payment: true,
        }
    }

    #[test]
    fn amounts_are_typed_without_their_currency() {
        assert_eq!(decimal(&Money::new(1_250, Currency::USD)), "12.50");
        assert_eq!(decimal(&Money::new(1_500, Currency::JPY)), "1500");
        assert_eq!(decimal(&Money::new(5, Currency::EUR)), "0.05");
    }

    #[tokio::test]
    async fn the_ledger_lists_entries_and_the_balance_with_the_action() {
        #[derive(Properties, PartialEq)]
        struct P {
            money: BookingMoney,
        }
        #[component]
        fn Wrap(p: &P) -> Html {
            let zone = "Asia/Tokyo".parse().ok();
            html! { <Ledger money={p.money.clone()} on_record={Some(Callback::noop())} zone={zone} /> }
        }
        let html = yew::LocalServerRenderer::<Wrap>::with_props(P { money: money(4_000) }).render().await;
        let recorded = money(4_000).entries[0].entry.recorded_at;
        let tokyo = recorded.with_timezone(&chrono_tz::Asia::Tokyo).format("%d %b %Y, %H:%M JST").to_string();
        assert!(html.contains(&format!("<td>{tokyo}</td>")), "times in the departure's zone: {tokyo} in {html}");
        assert!(html.contains("Cash") && html.contains("R-7 · at the counter"), "{html}");
        assert!(html.contains("Pending sync"), "{html}");
        assert!(html.contains("id=\"balance-due\">$60.00"), "{html}");
        assert!(html.contains("id=\"record-payment\""), "{html}");
    }

    #[tokio::test]
    async fn a_refund_due_by_hand_offers_to_record_it_given_back() {
        #[derive(Properties, PartialEq)]
        struct P {
            money: BookingMoney,
        }
        #[component]
        fn Wrap(p: &P) -> Html {
            html! { <Ledger money={p.money.clone()} on_record={Some(Callback::noop())} on_refund={Some(Callback::noop())} /> }
        }
        let usd = |a| Money::new(a, Currency::USD);
        let owed = BookingMoney {
            refund_due: usd(3_000),
            refund_due_by_hand: usd(3_000),
            balance_due: usd(0),
            can_record_payment: false,
            ..money(10_000)
        };
        let html = yew::LocalServerRenderer::<Wrap>::with_props(P { money: owed.clone() }).render().await;
        assert!(html.contains("id=\"refund-due\">$30.00"), "{html}");
        assert!(html.contains("id=\"record-refund\"") && html.contains("Record refund given back…"), "{html}");
        assert!(!html.contains("id=\"record-payment\""), "{html}");
        // Card money Stripe gives back is no business of the desk's.
        let card = BookingMoney { refund_due_by_hand: usd(0), ..owed };
        let html = yew::LocalServerRenderer::<Wrap>::with_props(P { money: card }).render().await;
        assert!(html.contains("id=\"refund-due\"") && !html.contains("id=\"record-refund\""), "{html}");
    }

    #[tokio::test]
    async fn the_dialog_starts_with_the_balance_due() {
        let html = yew::LocalServerRenderer::<RecordPaymentDialog>::with_props(RecordPaymentDialogProps {
            money: money(4_000),
            on_recorded: Callback::noop(),
            on_close: Callback::noop(),
        })
        .render()
        .await;
        assert!(html.contains("role=\"dialog\"") && html.contains("Record payment"), "{html}");
        assert!(html.contains("value=\"60.00\""), "{html}");
        assert!(html.contains("Amount (USD)"), "{html}");
        for m in ["cash", "card_terminal", "bank_transfer"] {
            assert!(html.contains(&format!("value=\"{m}\"")), "{m}: {html}");
        }
    }
}

//! Money on a booking: its ledger.
//!
//! Every movement of money on a booking is one [`LedgerEntry`]: a card payment at Stripe, cash
//! or a card terminal at the desk, a bank transfer, a deposit, a gift-card redemption, a refund,
//! or an adjustment of the amount owed. Amounts are integer minor units of the booking's
//! currency, never negative except an adjustment (which lowers or raises what is owed).
//!
//! The figures of a booking follow from its entries ([`Balance`]):
//!
//! * `paid` is the sum of the payments, `refunded` the sum of the refunds;
//! * `due = total + adjustments − paid + refunded`, the *balance due*. It is never negative
//!   unless a refund is due ([`Balance::refund_due`]): only an adjustment that lowers the price
//!   below what was kept can take it below zero, since a payment above the balance and a refund
//!   above what was kept are refused ([`Balance::record`]).
//!
//! **Confirmation** ([`confirmation_met`]): a pending booking is confirmed once the money it
//! received meets its deposit rule, or, without one, its full price. The Stripe webhook
//! (`payment::reconcile`) and a payment recorded at the desk (`record_payment.v1`) ask the same
//! function.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::entities::Booking;
use crate::money::{Currency, Money};
use crate::status::{BookingStatus, string_enum};
use crate::validate::FieldError;

string_enum!(
    /// What moved money on a booking.
    EntryKind {
        CardPayment => "card_payment",
        Cash => "cash",
        CardTerminal => "card_terminal",
        BankTransfer => "bank_transfer",
        Refund => "refund",
        Deposit => "deposit",
        GiftCardRedemption => "gift_card_redemption",
        Adjustment => "adjustment",
    }
);

impl EntryKind {
    /// Money received from the customer (every kind but a refund and an adjustment).
    pub fn is_payment(self) -> bool {
        !matches!(self, EntryKind::Refund | EntryKind::Adjustment)
    }

    /// The words a person reads.
    pub fn label(self) -> &'static str {
        match self {
            EntryKind::CardPayment => "Card payment (Stripe)",
            EntryKind::Cash => "Cash",
            EntryKind::CardTerminal => "Card terminal",
            EntryKind::BankTransfer => "Bank transfer",
            EntryKind::Refund => "Refund",
            EntryKind::Deposit => "Deposit",
            EntryKind::GiftCardRedemption => "Gift card",
            EntryKind::Adjustment => "Adjustment",
        }
    }
}

string_enum!(
    /// How staff took a payment by hand (`record_payment.v1`): the kinds that work offline.
    PaymentMethod { Cash => "cash", CardTerminal => "card_terminal", BankTransfer => "bank_transfer" }
);

impl From<PaymentMethod> for EntryKind {
    fn from(m: PaymentMethod) -> EntryKind {
        match m {
            PaymentMethod::Cash => EntryKind::Cash,
            PaymentMethod::CardTerminal => EntryKind::CardTerminal,
            PaymentMethod::BankTransfer => EntryKind::BankTransfer,
        }
    }
}

/// One movement of money on a booking. Entries are facts: written once, never changed, except
/// the Stripe entries the server keeps per booking (`card-{booking}`, `card-refund-{booking}`),
/// whose amounts are the processor's cumulative figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The recording device's nonce (or the server's derived id for Stripe money).
    pub id: String,
    pub organization_id: String,
    pub booking_id: String,
    /// The booking's departure: entries replicate with the departure's rows.
    pub departure_id: String,
    pub kind: EntryKind,
    /// Minor units of `currency`; positive, except an adjustment, which may lower what is owed.
    pub amount: i64,
    pub currency: Currency,
    pub note: Option<String>,
    /// The bank's or terminal's reference, a receipt number.
    pub reference: Option<String>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    /// How a refund went back by hand (`record_refund.v1`): cash, the card terminal or a bank
    /// transfer. `None` on every other entry: a payment's kind already says how it came in, and
    /// a refund without one went back through Stripe or to a gift card. Kept as a field (PG V63,
    /// SQLite V34) because the cash drawer must tell cash handed back from a transfer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<PaymentMethod>,
}

impl LedgerEntry {
    pub fn money(&self) -> Money {
        Money::new(self.amount, self.currency)
    }

    /// How this entry's money moved by hand, in or out: a cash, terminal or transfer payment by
    /// its kind, a refund by its method. `None` for Stripe's money, deposits, gift cards and
    /// adjustments.
    pub fn by_hand(&self) -> Option<PaymentMethod> {
        match self.kind {
            EntryKind::Cash => Some(PaymentMethod::Cash),
            EntryKind::CardTerminal => Some(PaymentMethod::CardTerminal),
            EntryKind::BankTransfer => Some(PaymentMethod::BankTransfer),
            EntryKind::Refund => self.method,
            _ => None,
        }
    }
}

/// A booking's figures: what it costs, what came in and what went back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// The booking's price (its pricing snapshot's total).
    pub total: Money,
    /// The sum of adjustments (negative when the price was lowered).
    pub adjusted: i64,
    pub paid: i64,
    pub refunded: i64,
}

impl Balance {
    /// Nothing paid yet on a price of `total`.
    pub fn new(total: Money) -> Balance {
        Balance { total, adjusted: 0, paid: 0, refunded: 0 }
    }

    /// A booking's figures as its row keeps them (the server's running totals, Stripe's money
    /// included).
    ///
    /// A cancelled booking costs what it keeps ([`crate::entities::CancellationRecord::kept`]):
    /// the refund it was granted and not yet given back is its refund due.
    pub fn of_booking(b: &Booking) -> Balance {
        let total = match (&b.status, &b.cancellation) {
            (BookingStatus::Cancelled, Some(c)) => {
                c.kept().filter(|k| k.currency == b.pricing.total.currency).unwrap_or(b.pricing.total)
            }
            _ => b.pricing.total,
        };
        Balance { total, adjusted: 0, paid: b.paid_amount.amount, refunded: b.refunded_amount.amount }
    }

    pub fn currency(&self) -> Currency {
        self.total.currency
    }

    /// What the customer owes now: `total + adjustments − paid + refunded`. Negative when a
    /// refund is due.
    pub fn due(&self) -> i64 {
        self.total.amount.saturating_add(self.adjusted).saturating_sub(self.paid).saturating_add(self.refunded)
    }

    /// What is owed, never below zero: the amount a payment form starts with.
    pub fn balance_due(&self) -> Money {
        Money::new(self.due().max(0), self.currency())
    }

    /// What the customer is owed back: the part of the money kept above the (adjusted) price.
    pub fn refund_due(&self) -> Money {
        Money::new(self.due().min(0).saturating_neg(), self.currency())
    }

    /// Money received and not given back.
    pub fn net_paid(&self) -> i64 {
        self.paid.saturating_sub(self.refunded)
    }

    /// The figures after one more entry of `kind` over `amount`, or why it is refused (the
    /// field named: `currency` or `amount`). A refused entry changes nothing.
    pub fn record(&self, kind: EntryKind, amount: Money) -> Result<Balance, FieldError> {
        let currency = self.currency();
        if amount.currency != currency {
            return Err(FieldError::new(
                "currency",
                format!("the booking is priced in {currency}; a payment in {} cannot be recorded", amount.currency),
            ));
        }
        let a = amount.amount;
        let mut next = *self;
        match kind {
            EntryKind::Adjustment => {
                if a == 0 {
                    return Err(FieldError::new("amount", "an adjustment must change the amount owed"));
                }
                let adjusted = self.adjusted.checked_add(a).ok_or_else(too_large)?;
                if self.total.amount.checked_add(adjusted).is_none_or(|t| t < 0) {
                    return Err(FieldError::new("amount", "would make the price less than zero"));
                }
                next.adjusted = adjusted;
            }
            EntryKind::Refund => {
                if a <= 0 {
                    return Err(FieldError::new("amount", "must be more than zero"));
                }
                if a > self.net_paid() {
                    return Err(FieldError::new(
                        "amount",
                        format!(
                            "is more than the {} paid and not refunded",
                            Money::new(self.net_paid(), currency).display()
                        ),
                    ));
                }
                next.refunded = self.refunded.checked_add(a).ok_or_else(too_large)?;
            }
            _ => {
                if a <= 0 {
                    return Err(FieldError::new("amount", "must be more than zero"));
                }
                if a > self.due() {
                    return Err(FieldError::new(
                        "amount",
                        format!("is more than the balance due ({})", self.balance_due().display()),
                    ));
                }
                next.paid = self.paid.checked_add(a).ok_or_else(too_large)?;
            }
        }
        Ok(next)
    }

    /// The figures a ledger adds up to on a price of `total`. Entries are taken as recorded
    /// (the server decided them), so none is refused here; an entry in another currency, which
    /// no store accepts, is left out.
    pub fn of_entries<'a>(total: Money, entries: impl IntoIterator<Item = &'a LedgerEntry>) -> Balance {
        let mut b = Balance::new(total);
        for e in entries.into_iter().filter(|e| e.currency == total.currency) {
            match e.kind {
                EntryKind::Adjustment => b.adjusted = b.adjusted.saturating_add(e.amount),
                EntryKind::Refund => b.refunded = b.refunded.saturating_add(e.amount),
                _ => b.paid = b.paid.saturating_add(e.amount),
            }
        }
        b
    }
}

fn too_large() -> FieldError {
    FieldError::new("amount", "is too large")
}

/// The id prefix of the ledger entry that carries Stripe's refunds of a booking's card payment
/// (`card-refund-{booking}`, written by the server from Stripe's figures).
pub const CARD_REFUND_ENTRY_PREFIX: &str = "card-refund-";

/// Card money Stripe can still give back on a booking that holds `net_paid` (received and not
/// given back): all of it but the money taken by hand (cash, terminal, transfer, gift card) and
/// not given back by hand. Money a booking received before its ledger was kept counts as card
/// money, as it could only have come through Stripe. Within `[0, net_paid]`.
pub fn card_refundable<'a>(net_paid: i64, entries: impl IntoIterator<Item = &'a LedgerEntry>) -> i64 {
    let mut by_hand = 0i64;
    for e in entries {
        match e.kind {
            EntryKind::CardPayment | EntryKind::Adjustment => {}
            EntryKind::Refund if e.id.starts_with(CARD_REFUND_ENTRY_PREFIX) => {}
            EntryKind::Refund => by_hand = by_hand.saturating_sub(e.amount),
            _ => by_hand = by_hand.saturating_add(e.amount),
        }
    }
    net_paid.max(0).saturating_sub(by_hand.max(0)).max(0)
}

/// The part of a booking's refund due that is owed back by hand (cash, terminal, transfer): what
/// Stripe cannot give back of it, as [`split_refund`] splits it. A cancellation's card part waits
/// for Stripe and a modification's already counts as refunded, so in both cases this is what
/// staff still have to hand over; recording it (`record_refund.v1`) clears it.
pub fn refund_due_by_hand(b: &Booking, entries: &[LedgerEntry]) -> Money {
    let refund_due = Balance::of_booking(b).refund_due();
    let net_paid = b.paid_amount.amount.saturating_sub(b.refunded_amount.amount);
    split_refund(refund_due, card_refundable(net_paid, entries)).by_hand
}

/// How a refund goes back: through Stripe, up to the card money it can still refund, and the
/// rest by hand (cash, terminal, bank transfer), which stays a refund due until staff record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundSplit {
    pub card: Money,
    pub by_hand: Money,
}

/// Splits `refund` given `card_refundable` minor units of card money Stripe can still refund.
pub fn split_refund(refund: Money, card_refundable: i64) -> RefundSplit {
    let card = refund.amount.clamp(0, card_refundable.max(0));
    RefundSplit {
        card: Money::new(card, refund.currency),
        by_hand: Money::new(refund.amount.max(0).saturating_sub(card), refund.currency),
    }
}

/// How much of a booking's price confirms it before the rest is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DepositRule {
    /// This share of the price, in whole percent (rounded up to the minor unit).
    Percent { percent: u8 },
    /// A fixed amount in minor units (never more than the price).
    Fixed { amount: i64 },
}

impl DepositRule {
    /// The deposit a price of `total` asks for: at least one minor unit of a price above zero,
    /// at most the price.
    pub fn required(&self, total: i64) -> i64 {
        let total = total.max(0);
        let want = match *self {
            DepositRule::Percent { percent } => {
                let p = i128::from(percent.min(100));
                i64::try_from((i128::from(total) * p + 99) / 100).unwrap_or(total)
            }
            DepositRule::Fixed { amount } => amount,
        };
        want.clamp(total.min(1), total)
    }
}

/// The confirmation rule: money received (`paid`, all of it, whatever was refunded since, so
/// events in any order end the same) meets the deposit rule or, without one, the full price. A
/// free booking is not confirmed by money (there is none).
pub fn confirmation_met(total: i64, paid: i64, deposit: Option<DepositRule>) -> bool {
    if paid <= 0 {
        return false;
    }
    let needed = deposit.map_or(total, |d| d.required(total));
    paid >= needed
}

/// Whether `b`, having received `paid` in all, is confirmed now: it is pending and the rule is met.
pub fn confirms(b: &Booking, paid: i64, deposit: Option<DepositRule>) -> bool {
    b.status == BookingStatus::Pending && confirmation_met(b.pricing.total.amount, paid, deposit)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;

    use super::*;

    fn eur(a: i64) -> Money {
        Money::new(a, Currency::EUR)
    }

    #[test]
    fn balance_due_is_total_minus_payments_plus_refunds() {
        let b = Balance::new(eur(10_000));
        let b = b.record(EntryKind::Cash, eur(4_000)).unwrap();
        let b = b.record(EntryKind::CardPayment, eur(6_000)).unwrap();
        assert_eq!(b.due(), 0);
        let b = b.record(EntryKind::Refund, eur(2_500)).unwrap();
        assert_eq!((b.paid, b.refunded, b.due()), (10_000, 2_500, 2_500));
        assert_eq!(b.balance_due(), eur(2_500));
        assert_eq!(b.refund_due(), eur(0));
    }

    #[test]
    fn a_payment_in_another_currency_or_above_the_balance_names_its_field() {
        let b = Balance::new(eur(5_000)).record(EntryKind::Deposit, eur(1_000)).unwrap();
        let e = b.record(EntryKind::Cash, Money::new(100, Currency::USD)).unwrap_err();
        assert_eq!(e.field, "currency");
        assert!(e.message.contains("EUR"), "{e:?}");
        let e = b.record(EntryKind::BankTransfer, eur(4_001)).unwrap_err();
        assert_eq!(e.field, "amount");
        assert!(e.message.contains("EUR 40.00"), "{}", e.message);
        assert_eq!(b.record(EntryKind::Cash, eur(0)).unwrap_err().field, "amount");
        assert_eq!(b.record(EntryKind::Cash, eur(-5)).unwrap_err().field, "amount");
        assert_eq!(b.record(EntryKind::Refund, eur(1_001)).unwrap_err().field, "amount");
    }

    #[test]
    fn lowering_the_price_below_what_was_paid_makes_a_refund_due() {
        let b = Balance::new(eur(10_000)).record(EntryKind::Cash, eur(10_000)).unwrap();
        let b = b.record(EntryKind::Adjustment, eur(-3_000)).unwrap();
        assert_eq!(b.due(), -3_000);
        assert_eq!(b.refund_due(), eur(3_000));
        assert_eq!(b.balance_due(), eur(0));
        let b = b.record(EntryKind::Refund, eur(3_000)).unwrap();
        assert_eq!(b.due(), 0);
        assert_eq!(b.record(EntryKind::Adjustment, eur(-7_001)).unwrap_err().field, "amount");
    }

    #[test]
    fn a_ledger_adds_up_its_entries() {
        let entry = |kind, amount| LedgerEntry {
            currency: Currency::EUR,
            ..crate::fixtures::ledger_entry(&format!("{kind}-{amount}"), "b", kind, amount)
        };
        let entries = [
            entry(EntryKind::Deposit, 2_000),
            entry(EntryKind::Cash, 3_000),
            entry(EntryKind::Refund, 500),
            entry(EntryKind::Adjustment, -1_000),
        ];
        let b = Balance::of_entries(eur(10_000), &entries);
        assert_eq!((b.paid, b.refunded, b.adjusted, b.due()), (5_000, 500, -1_000, 4_500));
    }

    #[test]
    fn the_deposit_rule_or_the_full_price_confirms() {
        assert!(confirmation_met(10_000, 10_000, None));
        assert!(!confirmation_met(10_000, 9_999, None));
        assert!(!confirmation_met(0, 0, None), "a free booking is not confirmed by money");
        let thirty = Some(DepositRule::Percent { percent: 30 });
        assert!(confirmation_met(10_000, 3_000, thirty));
        assert!(!confirmation_met(10_000, 2_999, thirty));
        assert_eq!(DepositRule::Percent { percent: 30 }.required(1_001), 301, "rounded up");
        assert_eq!(DepositRule::Fixed { amount: 50_000 }.required(10_000), 10_000, "never above the price");
        assert_eq!(DepositRule::Percent { percent: 0 }.required(10_000), 1);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Pay(EntryKind, i64, bool),
        Refund(i64),
        Adjust(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        let payment = prop::sample::select(vec![
            EntryKind::CardPayment,
            EntryKind::Cash,
            EntryKind::CardTerminal,
            EntryKind::BankTransfer,
            EntryKind::Deposit,
            EntryKind::GiftCardRedemption,
        ]);
        prop_oneof![
            4 => (payment, -100i64..20_000, prop::bool::weighted(0.1)).prop_map(|(k, a, usd)| Op::Pay(k, a, usd)),
            2 => (-100i64..20_000).prop_map(Op::Refund),
            1 => (-15_000i64..15_000).prop_map(Op::Adjust),
        ]
    }

    proptest! {
        /// Any sequence of payments, refunds and adjustments keeps
        /// `due = total + adjustments − paid + refunded`; the balance is negative only while a
        /// refund is due, and only a lowered price makes one due; refused entries change nothing
        /// and name the field at fault.
        #[test]
        fn the_balance_always_adds_up(total in 0i64..50_000, ops in prop::collection::vec(op(), 0..40)) {
            let mut b = Balance::new(eur(total));
            let mut entries = Vec::new();
            for op in ops {
                let (kind, amount) = match op {
                    Op::Pay(k, a, true) => (k, Money::new(a, Currency::USD)),
                    Op::Pay(k, a, false) => (k, eur(a)),
                    Op::Refund(a) => (EntryKind::Refund, eur(a)),
                    Op::Adjust(a) => (EntryKind::Adjustment, eur(a)),
                };
                match b.record(kind, amount) {
                    Ok(next) => {
                        prop_assert_eq!(amount.currency, Currency::EUR);
                        if kind.is_payment() {
                            prop_assert!(next.due() >= 0, "a payment never overpays");
                            prop_assert!(amount.amount <= b.due());
                        }
                        if next.due() < 0 {
                            prop_assert!(kind == EntryKind::Adjustment || b.due() < 0, "only a lower price makes a refund due");
                        }
                        entries.push((kind, amount.amount));
                        b = next;
                    }
                    Err(e) => {
                        if amount.currency != Currency::EUR {
                            prop_assert_eq!(e.field.as_str(), "currency");
                        } else {
                            prop_assert_eq!(e.field.as_str(), "amount");
                        }
                    }
                }
                let paid: i64 = entries.iter().filter(|(k, _)| k.is_payment()).map(|(_, a)| a).sum();
                let refunded: i64 = entries.iter().filter(|(k, _)| *k == EntryKind::Refund).map(|(_, a)| a).sum();
                let adjusted: i64 = entries.iter().filter(|(k, _)| *k == EntryKind::Adjustment).map(|(_, a)| a).sum();
                prop_assert_eq!((b.paid, b.refunded, b.adjusted), (paid, refunded, adjusted));
                prop_assert_eq!(b.due(), total + adjusted - paid + refunded);
                prop_assert!(b.refunded <= b.paid, "never more back than came in");
                prop_assert!(b.total.amount + b.adjusted >= 0, "the price never goes below zero");
                prop_assert_eq!(b.due() < 0, !b.refund_due().is_zero());
                prop_assert_eq!(b.balance_due().amount - b.refund_due().amount, b.due());
            }
        }

        /// The confirmation rule is monotone in the money received.
        #[test]
        fn more_money_never_unconfirms(total in 0i64..50_000, paid in 0i64..60_000, more in 0i64..10_000, pct in 0u8..=100) {
            for rule in [None, Some(DepositRule::Percent { percent: pct }), Some(DepositRule::Fixed { amount: total / 3 })] {
                if confirmation_met(total, paid, rule) {
                    prop_assert!(confirmation_met(total, paid + more, rule));
                }
                if paid >= total && paid > 0 {
                    prop_assert!(confirmation_met(total, paid, rule), "full payment always confirms");
                }
            }
        }
    }
}

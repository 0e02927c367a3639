//! The cash drawer: an end-of-day summary, per desk user, of the money they took and gave back
//! by hand.
//!
//! Pure aggregation over what the ledgers already hold: the booking ledger's cash and
//! card-terminal entries (`record_payment.v1`), the refunds handed back in cash or on the
//! terminal (`record_refund.v1`, whose entries say how: [`LedgerEntry::by_hand`]) and the gift
//! cards sold for cash or on the terminal (`issue_gift_card.v1`'s issue movements), recorded in
//! `[from, until)` — the caller turns "today" in the desk's time zone into that window. Money
//! given back leaves the drawer of whoever handed it over, so it is counted against their
//! takings: the drawer should hold what was taken less what was given back (the net, which is
//! negative for someone who only gave money back). Bank transfers and Stripe's card money never
//! pass through a drawer, in either direction, and a gift-card redemption moves no money, so none
//! of them is counted. Figures are kept per currency (a drawer may hold two); nothing is
//! converted.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::gift_card::{GiftCardMovement, MovementKind};
use crate::ledger::{EntryKind, LedgerEntry, PaymentMethod};
use crate::money::Currency;

/// One person's takings in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawerLine {
    pub user_id: String,
    pub currency: Currency,
    /// Cash taken on bookings.
    pub cash_payments: i64,
    /// Card-terminal payments on bookings.
    pub terminal_payments: i64,
    /// Gift cards sold for cash.
    pub gift_cards_cash: i64,
    /// Gift cards sold on the card terminal.
    pub gift_cards_terminal: i64,
    /// Refunds given back in cash, out of this person's drawer.
    #[serde(default)]
    pub cash_refunds: i64,
    /// Refunds given back on the card terminal.
    #[serde(default)]
    pub terminal_refunds: i64,
    /// How many entries and sales make up the line.
    pub count: u32,
}

impl DrawerLine {
    /// Cash that came in: on bookings and for gift cards.
    pub fn cash_taken(&self) -> i64 {
        self.cash_payments.saturating_add(self.gift_cards_cash)
    }

    /// What should be in the drawer in notes and coins: the cash taken less the cash given back.
    pub fn cash_total(&self) -> i64 {
        self.cash_taken().saturating_sub(self.cash_refunds)
    }

    /// Card-terminal money that came in: on bookings and for gift cards.
    pub fn terminal_taken(&self) -> i64 {
        self.terminal_payments.saturating_add(self.gift_cards_terminal)
    }

    /// What the terminal's end-of-day report should show: its takings less its refunds.
    pub fn terminal_total(&self) -> i64 {
        self.terminal_taken().saturating_sub(self.terminal_refunds)
    }
}

/// The drawer lines of `[from, until)`, sorted by user, then currency; a user who neither took
/// nor gave back money by hand has no line.
pub fn summarise<'a>(
    entries: impl IntoIterator<Item = &'a LedgerEntry>,
    sales: impl IntoIterator<Item = &'a GiftCardMovement>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<DrawerLine> {
    let within = |at: DateTime<Utc>| from <= at && at < until;
    let mut lines: BTreeMap<(String, Currency), DrawerLine> = BTreeMap::new();
    for e in entries.into_iter().filter(|e| within(e.recorded_at)) {
        let Some(method) = e.by_hand() else { continue };
        let refund = e.kind == EntryKind::Refund;
        if method == PaymentMethod::BankTransfer {
            continue;
        }
        let l = line(&mut lines, &e.recorded_by, e.currency);
        let sum = match (method, refund) {
            (PaymentMethod::Cash, false) => &mut l.cash_payments,
            (PaymentMethod::Cash, true) => &mut l.cash_refunds,
            (_, false) => &mut l.terminal_payments,
            (_, true) => &mut l.terminal_refunds,
        };
        *sum = sum.saturating_add(e.amount);
        l.count += 1;
    }
    for m in sales.into_iter().filter(|m| m.kind == MovementKind::Issue && within(m.recorded_at)) {
        match m.payment_method {
            Some(PaymentMethod::Cash) => {
                let l = line(&mut lines, &m.recorded_by, m.currency);
                l.gift_cards_cash = l.gift_cards_cash.saturating_add(m.amount);
                l.count += 1;
            }
            Some(PaymentMethod::CardTerminal) => {
                let l = line(&mut lines, &m.recorded_by, m.currency);
                l.gift_cards_terminal = l.gift_cards_terminal.saturating_add(m.amount);
                l.count += 1;
            }
            Some(PaymentMethod::BankTransfer) | None => {}
        }
    }
    lines.into_values().collect()
}

fn line<'l>(
    lines: &'l mut BTreeMap<(String, Currency), DrawerLine>,
    user: &str,
    currency: Currency,
) -> &'l mut DrawerLine {
    lines.entry((user.to_string(), currency)).or_insert_with(|| DrawerLine {
        user_id: user.to_string(),
        currency,
        cash_payments: 0,
        terminal_payments: 0,
        gift_cards_cash: 0,
        gift_cards_terminal: 0,
        cash_refunds: 0,
        terminal_refunds: 0,
        count: 0,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::TimeZone;

    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, h, 0, 0).unwrap()
    }

    fn entry(user: &str, kind: EntryKind, amount: i64, currency: Currency, h: u32) -> LedgerEntry {
        LedgerEntry {
            currency,
            recorded_by: user.into(),
            recorded_at: at(h),
            ..crate::fixtures::ledger_entry(&format!("{user}-{kind}-{amount}-{h}"), "b", kind, amount)
        }
    }

    fn sale(user: &str, method: Option<PaymentMethod>, kind: MovementKind, amount: i64, h: u32) -> GiftCardMovement {
        GiftCardMovement {
            id: format!("{user}-{amount}-{h}"),
            organization_id: "o".into(),
            gift_card_id: "g".into(),
            kind,
            amount,
            currency: Currency::EUR,
            balance_after: amount,
            booking_id: None,
            payment_method: method,
            recorded_by: user.into(),
            recorded_at: at(h),
        }
    }

    #[test]
    fn takings_are_summed_per_user_and_currency_within_the_day() {
        let entries = vec![
            entry("ana", EntryKind::Cash, 2_000, Currency::EUR, 9),
            entry("ana", EntryKind::Cash, 500, Currency::EUR, 17),
            entry("ana", EntryKind::CardTerminal, 4_000, Currency::EUR, 10),
            entry("ana", EntryKind::Cash, 1_000, Currency::USD, 11),
            entry("ben", EntryKind::CardTerminal, 3_000, Currency::EUR, 12),
            // Not drawer money, or not today.
            entry("ben", EntryKind::BankTransfer, 9_000, Currency::EUR, 12),
            entry("ben", EntryKind::CardPayment, 9_000, Currency::EUR, 12),
            entry("ben", EntryKind::GiftCardRedemption, 9_000, Currency::EUR, 12),
            entry("ana", EntryKind::Cash, 7_000, Currency::EUR, 23),
            entry("ana", EntryKind::Cash, 7_000, Currency::EUR, 7),
        ];
        let sales = vec![
            sale("ben", Some(PaymentMethod::Cash), MovementKind::Issue, 5_000, 13),
            sale("ben", Some(PaymentMethod::CardTerminal), MovementKind::Issue, 2_500, 14),
            sale("ben", Some(PaymentMethod::BankTransfer), MovementKind::Issue, 10_000, 14),
            sale("ben", None, MovementKind::Redemption, 1_000, 15),
        ];
        let lines = summarise(&entries, &sales, at(8), at(20));
        assert_eq!(lines.len(), 3);
        let ana = &lines[0];
        assert_eq!((ana.user_id.as_str(), ana.currency), ("ana", Currency::EUR));
        assert_eq!((ana.cash_payments, ana.terminal_payments, ana.count), (2_500, 4_000, 3));
        assert_eq!((lines[1].currency, lines[1].cash_total()), (Currency::USD, 1_000));
        let ben = &lines[2];
        assert_eq!((ben.terminal_payments, ben.gift_cards_cash, ben.gift_cards_terminal), (3_000, 5_000, 2_500));
        assert_eq!((ben.cash_total(), ben.terminal_total(), ben.count), (5_000, 5_500, 3));
        assert!(summarise(&entries, &sales, at(21), at(22)).is_empty());
    }

    fn given_back(user: &str, method: Option<PaymentMethod>, amount: i64, h: u32) -> LedgerEntry {
        LedgerEntry { method, ..entry(user, EntryKind::Refund, amount, Currency::EUR, h) }
    }

    #[test]
    fn refunds_given_back_by_hand_come_out_of_the_drawer_of_who_gave_them() {
        let entries = vec![
            entry("ana", EntryKind::Cash, 10_000, Currency::EUR, 9),
            entry("ana", EntryKind::CardTerminal, 4_000, Currency::EUR, 10),
            given_back("ana", Some(PaymentMethod::Cash), 3_000, 11),
            given_back("ana", Some(PaymentMethod::CardTerminal), 1_500, 12),
            // Not drawer money: a transfer back, Stripe's refund, a refund to a gift card, and a
            // refund on another day.
            given_back("ana", Some(PaymentMethod::BankTransfer), 2_000, 12),
            given_back("ana", None, 2_500, 13),
            given_back("ana", Some(PaymentMethod::Cash), 700, 21),
            // Someone who only gave money back today: their drawer is short by it.
            given_back("ben", Some(PaymentMethod::Cash), 1_200, 14),
        ];
        let sales = vec![sale("ana", Some(PaymentMethod::Cash), MovementKind::Issue, 500, 15)];
        let lines = summarise(&entries, &sales, at(8), at(20));
        assert_eq!(lines.len(), 2);
        let ana = &lines[0];
        assert_eq!((ana.cash_taken(), ana.cash_refunds, ana.cash_total()), (10_500, 3_000, 7_500));
        assert_eq!((ana.terminal_taken(), ana.terminal_refunds, ana.terminal_total()), (4_000, 1_500, 2_500));
        assert_eq!(ana.count, 5);
        let ben = &lines[1];
        assert_eq!(
            (ben.user_id.as_str(), ben.cash_taken(), ben.cash_refunds, ben.cash_total()),
            ("ben", 0, 1_200, -1_200)
        );
    }
}

//! The payments ledger export (issue 16, export): every ledger entry recorded on a range of days,
//! one row each, oldest first. The store finds the entries and looks up each booking's reference,
//! its customer and who recorded it; this module decides what the file says.
//!
//! - **Date** and **Time** are when the entry was recorded, in the organization's zone.
//! - **Kind** is which way the money moved: `payment` (money received), `refund` (money given
//!   back) or `adjustment` (what is owed changed); **Method** is how a payment came in (cash, card
//!   terminal, bank transfer, Stripe, a gift card, a deposit), blank for the other kinds.
//! - **Amount** is the entry's amount as stored (positive; an adjustment may be negative), a
//!   decimal in its currency's exponent, with the currency in its own column.

use chrono_tz::Tz;

use super::{Cell, ReportTable};
use crate::ledger::{EntryKind, LedgerEntry};

/// One ledger entry with what the export shows beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerLine {
    pub entry: LedgerEntry,
    /// The booking's reference (`BK-2026-…`), or its id when the desk no longer holds it.
    pub booking_reference: String,
    pub customer: String,
    /// The name of the staff member who recorded it, as far as the desk knows it.
    pub recorded_by: String,
}

pub const COLUMNS: [&str; 10] =
    ["Date", "Time", "Booking", "Customer", "Kind", "Method", "Amount", "Currency", "Reference", "Recorded by"];

/// Which way the money moved: `payment`, `refund` or `adjustment`.
pub fn direction(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Refund => "refund",
        EntryKind::Adjustment => "adjustment",
        _ => "payment",
    }
}

/// How a payment came in, in words; blank for a refund or an adjustment.
pub fn method(kind: EntryKind) -> &'static str {
    if kind.is_payment() { kind.label() } else { "" }
}

/// The ledger as a table, in the order given (the store reads it oldest first).
pub fn ledger_table(lines: Vec<LedgerLine>, tz: Tz) -> ReportTable {
    let text = |s: &str| Cell::Text(s.to_string());
    let rows = lines
        .into_iter()
        .map(|l| {
            let local = l.entry.recorded_at.with_timezone(&tz);
            vec![
                text(&local.format("%Y-%m-%d").to_string()),
                text(&local.format("%H:%M").to_string()),
                Cell::Text(l.booking_reference),
                Cell::Text(l.customer),
                text(direction(l.entry.kind)),
                text(method(l.entry.kind)),
                Cell::Money(l.entry.money()),
                text(l.entry.currency.as_str()),
                Cell::Text(l.entry.reference.unwrap_or_default()),
                Cell::Text(l.recorded_by),
            ]
        })
        .collect();
    ReportTable {
        title: "Payments ledger".into(),
        columns: COLUMNS.map(String::from).to_vec(),
        rows,
        totals: vec![],
        chart_column: 6,
        notes: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn line(kind: EntryKind, amount: i64, currency: Currency, at: &str) -> LedgerLine {
        LedgerLine {
            entry: LedgerEntry {
                id: "e1".into(),
                organization_id: "o".into(),
                booking_id: "b1".into(),
                departure_id: "d1".into(),
                kind,
                amount,
                currency,
                note: None,
                reference: Some("=RCPT 7".into()),
                recorded_by: "u1".into(),
                recorded_at: at.parse().expect("an instant"),
                method: None,
            },
            booking_reference: "BK-2026-ABC123".into(),
            customer: "Ana Silva".into(),
            recorded_by: "Olivia Owner".into(),
        }
    }

    #[test]
    fn entries_read_in_the_zone_with_direction_method_and_exponent() {
        let tz: Tz = "America/New_York".parse().expect("zone");
        let t = ledger_table(
            vec![
                line(EntryKind::Cash, 12_550, Currency::EUR, "2026-03-08T03:30:00Z"),
                line(EntryKind::Refund, 1_500, Currency::JPY, "2026-03-08T12:00:00Z"),
                line(EntryKind::Adjustment, -250, Currency::EUR, "2026-03-09T12:00:00Z"),
            ],
            tz,
        );
        let csv = t.to_csv();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "Date,Time,Booking,Customer,Kind,Method,Amount,Currency,Reference,Recorded by");
        // 03:30 UTC is still the 7th in New York (EST, -5); DST starts later that day.
        assert_eq!(lines[1], "2026-03-07,22:30,BK-2026-ABC123,Ana Silva,payment,Cash,125.50,EUR,'=RCPT 7,Olivia Owner");
        assert_eq!(lines[2], "2026-03-08,08:00,BK-2026-ABC123,Ana Silva,refund,,1500,JPY,'=RCPT 7,Olivia Owner");
        assert!(lines[3].contains(",adjustment,,-2.50,EUR,"), "{}", lines[3]);
    }

    #[test]
    fn every_payment_kind_has_a_method_and_only_payments_do() {
        for k in EntryKind::ALL {
            assert_eq!(method(*k).is_empty(), !k.is_payment(), "{k:?}");
            assert_eq!(direction(*k) == "payment", k.is_payment(), "{k:?}");
        }
    }
}

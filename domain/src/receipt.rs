//! A booking's confirmation and receipt as a printable PDF (issue 13): who, which tour and
//! departure in its zone, the price as it was agreed (line items, discounts, taxes, total), every
//! payment and refund of its ledger, and what is still due or owed back. Built on the desk from
//! its replica, with the manifests' PDF writer (`manifest_export::text_pdf`); pure: the caller
//! gives the issue time and writes the bytes where it wants.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::ipc::{BookingHit, BookingMoney};
use crate::ledger::EntryKind;
use crate::manifest_export::text_pdf;
use crate::money::Money;

fn money(m: &Money) -> String {
    m.display_with_symbol()
}

fn status_words(code: &str) -> String {
    crate::audit::humanise(code)
}

/// The receipt's lines: `(font size, text)`.
pub fn lines(org_name: &str, hit: &BookingHit, m: &BookingMoney, issued: DateTime<Utc>) -> Vec<(f32, String)> {
    let b = &hit.booking;
    let zone: Option<Tz> = hit.departure.as_ref().and_then(|d| d.departure.timezone.parse().ok());
    let title =
        if crate::mutation::has_confirmation(m.status) { "Booking confirmation and receipt" } else { "Receipt" };
    let mut out = vec![
        (16.0, format!("{org_name} - {title}")),
        (12.0, format!("Booking {}", m.reference_number)),
        (10.0, String::new()),
        (10.0, format!("Customer: {}", b.customer_name)),
        (10.0, format!("Tour: {}", hit.tour_name.clone().unwrap_or_else(|| "-".into()))),
    ];
    if let Some(d) = &hit.departure {
        let d = &d.departure;
        out.push((10.0, format!("Departure: {} {} ({})", d.local_date, d.local_time.format("%H:%M"), d.timezone)));
    }
    out.push((10.0, format!("Guests: {}", b.pax)));
    out.push((
        10.0,
        format!("Status: {}, {}", status_words(m.status.as_str()), status_words(m.payment_status.as_str())),
    ));
    out.push((10.0, String::new()));
    out.push((12.0, "Price".into()));
    for l in &m.pricing.line_items {
        out.push((
            10.0,
            format!("    {} x {} at {} = {}", l.quantity, l.tier_name, money(&l.unit_price), money(&l.total_price)),
        ));
    }
    out.push((10.0, format!("    Subtotal: {}", money(&m.pricing.subtotal))));
    for d in &m.pricing.discounts {
        out.push((10.0, format!("    Discount, {}: -{}", d.description, money(&d.amount))));
    }
    for t in &m.pricing.taxes {
        let how = if t.inclusive { " (included)" } else { "" };
        out.push((10.0, format!("    {}{how}: {}", t.name, money(&t.amount))));
    }
    out.push((11.0, format!("    Total: {}", money(&m.total))));
    out.push((10.0, String::new()));
    out.push((12.0, "Payments and refunds".into()));
    if m.entries.is_empty() {
        out.push((10.0, "    None yet.".into()));
    }
    for e in &m.entries {
        let e = &e.entry;
        let amount = Money::new(e.amount, e.currency);
        let sign = if e.kind == EntryKind::Refund { "-" } else { "" };
        let when = crate::timeline::when(e.recorded_at, zone);
        let reference = e.reference.as_deref().map(|r| format!(", ref. {r}")).unwrap_or_default();
        out.push((10.0, format!("    {when}  {}{reference}: {sign}{}", e.kind.label(), money(&amount))));
    }
    out.push((10.0, format!("    Paid: {}", money(&m.paid))));
    if !m.refunded.is_zero() {
        out.push((10.0, format!("    Refunded: {}", money(&m.refunded))));
    }
    out.push((11.0, format!("    Balance due: {}", money(&m.balance_due))));
    if !m.refund_due.is_zero() {
        out.push((11.0, format!("    To refund: {}", money(&m.refund_due))));
    }
    out.push((10.0, String::new()));
    out.push((9.0, format!("Issued {}", crate::timeline::when(issued, zone))));
    out
}

/// The receipt as an A4 PDF.
pub fn to_pdf(org_name: &str, hit: &BookingHit, m: &BookingMoney, issued: DateTime<Utc>) -> Vec<u8> {
    text_pdf(&[lines(org_name, hit, m, issued)], "Empty receipt.")
}

/// The file a receipt is saved as: `receipt-BK-2026-ABC123.pdf`.
pub fn file_name(reference: &str) -> String {
    let safe: String = reference.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    format!("receipt-{safe}.pdf")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipc::{BookingSummary, DepartureView, LedgerLine};
    use crate::ledger::LedgerEntry;
    use crate::money::Currency;
    use crate::pricing::{AppliedTax, LineItem, PricingSnapshot};
    use crate::status::{BookingStatus, PaymentStatus};
    use chrono::TimeZone;

    fn eur(n: i64) -> Money {
        Money::new(n, Currency::EUR)
    }

    fn sample() -> (BookingHit, BookingMoney) {
        let departure = crate::fixtures::departure();
        let summary = BookingSummary {
            id: "b1".into(),
            reference_number: "BK-2026-ABC123".into(),
            departure_id: departure.id.clone(),
            customer_id: "c1".into(),
            customer_name: "Ana Silva".into(),
            pax: 2,
            status: BookingStatus::Confirmed,
            payment_status: PaymentStatus::Partial,
            total: eur(9000),
            pending: false,
        };
        let hit = BookingHit {
            booking: summary,
            tour_id: "t1".into(),
            tour_name: Some("Old town walk".into()),
            departure: Some(DepartureView { departure, seats_left: 3 }),
        };
        let entry = |id: &str, kind, amount| LedgerLine {
            entry: LedgerEntry {
                currency: Currency::EUR,
                recorded_at: Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0).unwrap(),
                ..crate::fixtures::ledger_entry(id, "b1", kind, amount)
            },
            pending: false,
        };
        let money = BookingMoney {
            booking_id: "b1".into(),
            reference_number: "BK-2026-ABC123".into(),
            status: BookingStatus::Confirmed,
            payment_status: PaymentStatus::Partial,
            pricing: PricingSnapshot {
                line_items: vec![LineItem {
                    pricing_tier_id: "adult".into(),
                    tier_name: "Adult".into(),
                    quantity: 2,
                    unit_price: eur(4500),
                    total_price: eur(9000),
                }],
                subtotal: eur(9000),
                discounts: vec![],
                taxes: vec![AppliedTax {
                    name: "VAT".into(),
                    rate: crate::money::Percent::from_basis_points(2300),
                    inclusive: true,
                    amount: eur(1683),
                }],
                total: eur(9000),
                promotional_code_id: None,
            },
            participants: vec![],
            entries: vec![entry("e1", EntryKind::Cash, 5000), entry("e2", EntryKind::Refund, 1000)],
            total: eur(9000),
            paid: eur(5000),
            refunded: eur(1000),
            balance_due: eur(5000),
            refund_due: eur(0),
            refund_due_by_hand: eur(0),
            can_record_payment: true,
        };
        (hit, money)
    }

    #[test]
    fn a_receipt_says_who_what_when_the_price_and_every_payment() {
        let (hit, money) = sample();
        let text: Vec<String> = lines("Demo Tours", &hit, &money, Utc.with_ymd_and_hms(2026, 5, 2, 10, 0, 0).unwrap())
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        let all = text.join("\n");
        for want in [
            "Demo Tours - Booking confirmation and receipt",
            "Booking BK-2026-ABC123",
            "Customer: Ana Silva",
            "Tour: Old town walk",
            "2 x Adult at €45.00 = €90.00",
            "VAT (included): €16.83",
            "Total: €90.00",
            "Cash: €50.00",
            "Refund: -€10.00",
            "Balance due: €50.00",
        ] {
            assert!(all.contains(want), "{want:?} missing from:\n{all}");
        }
        let pdf = to_pdf("Demo Tours", &hit, &money, Utc::now());
        assert!(pdf.starts_with(b"%PDF-"));
        assert_eq!(file_name("BK-2026-ABC123"), "receipt-BK-2026-ABC123.pdf");
        assert_eq!(file_name("../x"), "receipt-___x.pdf");
    }
}

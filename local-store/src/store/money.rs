//! A booking's money on the desk: its ledger and what it adds up to, for the booking page.

use tourdesk_domain::ipc::{BookingMoney, LedgerLine};
use tourdesk_domain::ledger::Balance;
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::status::BookingStatus;

use super::{Store, session_org};
use crate::{StoreError, rows};

impl Store {
    /// The booking's price snapshot, participants and ledger with its balance; `None` when this
    /// desk does not hold the booking. The figures are the booking's running totals (Stripe's
    /// money included), so they stand even for money recorded before the ledger existed.
    pub fn booking_money(&self, booking_id: &str) -> Result<Option<BookingMoney>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(None) };
        let Some(b) = rows::booking(&conn, &org, booking_id)? else { return Ok(None) };
        let ledger = rows::ledger_of_booking(&conn, &org, &b.id)?;
        // The entries' pending flags in one query (not one per entry).
        let ids: Vec<String> = ledger.iter().map(|e| e.id.clone()).collect();
        let pending = rows::pending_of(&conn, &org, EntityKind::LedgerEntry, &ids)?;
        let entries = ledger
            .into_iter()
            .map(|entry| LedgerLine { pending: pending.contains(&entry.id), entry })
            .collect::<Vec<_>>();
        let balance = Balance::of_booking(&b);
        let currency = balance.currency();
        Ok(Some(BookingMoney {
            booking_id: b.id.clone(),
            reference_number: b.reference_number.to_string(),
            status: b.status,
            payment_status: b.payment_status,
            pricing: b.pricing.clone(),
            participants: b.participants.clone(),
            entries,
            total: b.pricing.total,
            paid: tourdesk_domain::Money::new(balance.paid, currency),
            refunded: tourdesk_domain::Money::new(balance.refunded, currency),
            balance_due: balance.balance_due(),
            refund_due: balance.refund_due(),
            can_record_payment: b.status != BookingStatus::Cancelled && balance.due() > 0,
        }))
    }
}

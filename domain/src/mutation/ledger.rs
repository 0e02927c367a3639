//! `record_payment.v1`: money staff took by hand — cash, a card terminal, a bank transfer.
//!
//! It is an intent like any other: the desk records it offline on its replica and queues it;
//! the server decides it again under the booking's row lock. The balance is the booking's own
//! running figures (`paid_amount`, `refunded_amount`, which Stripe's money also moves), so a
//! payment is checked against everything received, wherever it came in; see [`crate::ledger`]
//! for the figures and the confirmation rule. A payment that meets the rule confirms a pending
//! booking (`booking.confirmed` audited; the server mails the confirmation once, in the same
//! savepoint).

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{ApplyError, AuditEntry, Change, MutationCtx, Mutator, ReadKey, ReadView, Rejection, norm_ref, require};
use crate::entities::Booking;
use crate::hlc::MAX_CLOCK_SKEW;
use crate::ledger::{self, Balance, EntryKind, LedgerEntry, PaymentMethod};
use crate::money::Money;
use crate::roles::{Permission, Role};
use crate::status::{BookingStatus, PaymentStatus, StateMachine};
use crate::validate::{self, FieldError};

/// The audit action of a booking a payment confirmed; the server mails the confirmation when it
/// sees it.
pub const BOOKING_CONFIRMED: &str = "booking.confirmed";

/// Arguments of `record_payment.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordPaymentV1 {
    /// A UUID made by the recording device; it becomes the ledger entry's id.
    pub nonce: String,
    pub booking_id: String,
    pub method: PaymentMethod,
    /// Minor units of `currency`.
    pub amount: i64,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// When the money was taken (the recording device's clock).
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Mutator for RecordPaymentV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::Booking(norm_ref(&self.booking_id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::BookingsWrite, "record a payment")?;
        if ctx.role == Role::Customer {
            return Err(Rejection::NotAuthorized { action: "record a payment".into() }.into());
        }
        let nonce = validate::id("nonce", &self.nonce)?;
        let booking_id = validate::row_ref("booking_id", &self.booking_id)?;
        let currency = validate::currency("currency", &self.currency)?;
        let note = opt_free_text("note", self.note.as_deref(), 500)?;
        let reference = validate::opt_text("reference", self.reference.as_deref(), 100)?;
        if self.at > ctx.now + MAX_CLOCK_SKEW {
            return Err(Rejection::ClockSkew { field: "at".into(), stamp: self.at.to_rfc3339() }.into());
        }
        let b = view.booking(&booking_id)?.ok_or_else(|| Rejection::not_found("booking", &booking_id))?;
        let kind = EntryKind::from(self.method);
        let Paid { booking: next, balance: after, confirmed } =
            take_payment(&b, kind, Money::new(self.amount, currency), ctx)?;
        let entry = LedgerEntry {
            id: nonce,
            organization_id: ctx.organization_id.clone(),
            booking_id: b.id.clone(),
            departure_id: b.departure_id.clone(),
            kind,
            amount: self.amount,
            currency,
            note,
            reference,
            recorded_by: ctx.user_id.clone(),
            recorded_at: self.at,
            method: None,
        };
        let mut changes = vec![Change::PutLedgerEntry(entry.clone()), Change::PutBooking(next)];
        if confirmed {
            changes.push(confirmed_audit(ctx, &b, "record_payment.v1", &entry.id, &after));
        }
        Ok(changes)
    }
}

/// The mutation (and so the audit action of its rows) of a refund staff gave back by hand.
pub const REFUND_GIVEN_BACK: &str = "record_refund.v1";

/// Arguments of `record_refund.v1`: money owed back by hand (a refund due on cash, terminal or
/// transfer money, which Stripe cannot send back) that staff handed over. Queued offline like a
/// payment and decided again on the server under the booking's lock; it is refused above the
/// refund due by hand (`ledger::refund_due_by_hand`), so two desks cannot give the same money back
/// twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRefundV1 {
    /// A UUID made by the recording device; it becomes the ledger entry's id.
    pub nonce: String,
    pub booking_id: String,
    /// How the money went back.
    pub method: PaymentMethod,
    /// Minor units of `currency`.
    pub amount: i64,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// When the money was handed over (the recording device's clock).
    pub at: chrono::DateTime<chrono::Utc>,
}

/// How a refund by hand went back, in the words its ledger entry's note starts with (the
/// timeline and receipts show the note; the entry's `method` says the same for the drawer).
pub fn given_back_words(m: PaymentMethod) -> &'static str {
    match m {
        PaymentMethod::Cash => "Given back in cash",
        PaymentMethod::CardTerminal => "Given back on the card terminal",
        PaymentMethod::BankTransfer => "Given back by bank transfer",
    }
}

impl Mutator for RecordRefundV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let id = norm_ref(&self.booking_id);
        vec![ReadKey::Booking(id.clone()), ReadKey::LedgerOfBooking(id)]
    }

    /// The ledger is read under the booking's lock: every entry is written with its booking.
    fn locks(&self, key: &ReadKey) -> bool {
        !matches!(key, ReadKey::LedgerOfBooking(_))
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        const ACTION: &str = "record a refund given back";
        require(ctx, Permission::BookingsWrite, ACTION)?;
        if ctx.role == Role::Customer {
            return Err(Rejection::NotAuthorized { action: ACTION.into() }.into());
        }
        let nonce = validate::id("nonce", &self.nonce)?;
        let booking_id = validate::row_ref("booking_id", &self.booking_id)?;
        let currency = validate::currency("currency", &self.currency)?;
        let note = opt_free_text("note", self.note.as_deref(), 500)?;
        let reference = validate::opt_text("reference", self.reference.as_deref(), 100)?;
        if self.at > ctx.now + MAX_CLOCK_SKEW {
            return Err(Rejection::ClockSkew { field: "at".into(), stamp: self.at.to_rfc3339() }.into());
        }
        let b = view.booking(&booking_id)?.ok_or_else(|| Rejection::not_found("booking", &booking_id))?;
        let entries = view.ledger_of_booking(&b.id)?;
        // Replayed after it was written (the desk replays its queue on every rebase): done already.
        if entries.iter().any(|e| e.id == nonce) {
            return Ok(vec![]);
        }
        let amount = Money::new(self.amount, currency);
        let after = Balance::of_booking(&b).record(EntryKind::Refund, amount)?;
        let owed = ledger::refund_due_by_hand(&b, &entries);
        if self.amount > owed.amount {
            let message = if owed.is_zero() {
                "nothing is owed back by hand on this booking".to_string()
            } else {
                format!("is more than the refund due by hand ({})", owed.display())
            };
            return Err(FieldError::new("amount", message).into());
        }
        let mut next = b.clone();
        next.refunded_amount = Money::new(after.refunded, currency);
        if b.payment_status != PaymentStatus::Disputed {
            next.payment_status = PaymentStatus::from_amounts(b.pricing.total.amount, after.paid, after.refunded);
        }
        next.updated_at = ctx.now;
        let said = given_back_words(self.method);
        let entry = LedgerEntry {
            id: nonce,
            organization_id: ctx.organization_id.clone(),
            booking_id: b.id.clone(),
            departure_id: b.departure_id.clone(),
            kind: EntryKind::Refund,
            amount: self.amount,
            currency,
            note: Some(match note {
                Some(n) => format!("{said} · {n}"),
                None => said.to_string(),
            }),
            reference,
            recorded_by: ctx.user_id.clone(),
            recorded_at: self.at,
            // The cash drawer counts cash and terminal money given back against the day's takings.
            method: Some(self.method),
        };
        // No audit entry of its own: the store audits both rows under this mutation's name, with
        // the entry's note saying how the money went back.
        Ok(vec![Change::PutLedgerEntry(entry), Change::PutBooking(next)])
    }
}

/// A booking after a payment of `kind` over `amount`, with its figures and whether the payment
/// confirmed it.
pub(super) struct Paid {
    pub booking: Booking,
    pub balance: Balance,
    pub confirmed: bool,
}

/// The audit entry of a payment (`by`, ledger entry `ledger_entry_id`) that confirmed `b`,
/// with the figures after it; the server mails the confirmation when it sees one.
pub(super) fn confirmed_audit(
    ctx: &MutationCtx,
    b: &Booking,
    by: &str,
    ledger_entry_id: &str,
    after: &Balance,
) -> Change {
    Change::Audit(AuditEntry::of_booking(
        ctx,
        BOOKING_CONFIRMED,
        b,
        json!({
            "reference": b.reference_number.to_string(),
            "by": by,
            "ledger_entry_id": ledger_entry_id,
            "paid": after.paid,
            "total": b.pricing.total.amount,
        }),
    ))
}

/// Takes a payment on `b`: refused on a cancelled booking (`booking_id`), in another currency
/// (`currency`) or above the balance (`amount`); otherwise the booking's running figures and
/// payment status move, and a payment that meets the confirmation rule confirms it.
pub(super) fn take_payment(b: &Booking, kind: EntryKind, amount: Money, ctx: &MutationCtx) -> Result<Paid, ApplyError> {
    if b.status == BookingStatus::Cancelled {
        return Err(Rejection::conflict(
            "booking_id",
            format!("booking {} is cancelled; a payment cannot be recorded on it", b.reference_number),
        )
        .into());
    }
    let after = Balance::of_booking(b).record(kind, amount)?;
    let mut next = b.clone();
    next.paid_amount = Money::new(after.paid, amount.currency);
    if b.payment_status != PaymentStatus::Disputed {
        next.payment_status = PaymentStatus::from_amounts(b.pricing.total.amount, after.paid, after.refunded);
    }
    let confirmed = ledger::confirms(b, after.paid, None);
    if confirmed {
        next.status = b.status.transition(BookingStatus::Confirmed)?;
        next.confirmed_at = Some(ctx.now);
    }
    next.updated_at = ctx.now;
    Ok(Paid { booking: next, balance: after, confirmed })
}

pub(super) fn opt_free_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    Ok(value.map(|v| validate::free_text(field, v, max)).transpose()?.filter(|v| !v.is_empty()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde_json::{Value, json};

    use super::super::testkit::*;
    use super::*;

    const B: &str = "b-pay";

    fn world_with(total: i64, status: BookingStatus, paid: i64) -> Mem {
        let mem = world();
        let mut b = booking(B, 2, status, if paid > 0 { PaymentStatus::Partial } else { PaymentStatus::Unpaid }, paid);
        b.pricing.total = usd(total);
        b.pricing.subtotal = usd(total);
        b.paid_amount = usd(paid);
        b.refunded_amount = usd(0);
        mem.put_booking(b);
        mem
    }

    fn args(amount: i64) -> Value {
        json!({
            "nonce": "00000000-0000-4000-8000-0000000000e1",
            "booking_id": B,
            "method": "cash",
            "amount": amount,
            "currency": "USD",
            "note": "paid at the desk",
            "at": now(),
        })
    }

    fn field_of(r: Result<Vec<Change>, ApplyError>) -> String {
        match r {
            Err(ApplyError::Rejected(Rejection::Invalid(e))) => e.field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_full_cash_payment_confirms_the_booking_and_writes_its_entry() {
        let mem = world_with(10_000, BookingStatus::Pending, 0);
        let changes = run_write(&mem, "record_payment.v1", args(10_000), Role::Manager);
        let b = mem.get_booking(B);
        assert_eq!(b.status, BookingStatus::Confirmed);
        assert_eq!(b.payment_status, PaymentStatus::Paid);
        assert_eq!(b.paid_amount, usd(10_000));
        assert_eq!(b.confirmed_at, Some(now()));
        let entry = changes
            .iter()
            .find_map(|c| match c {
                Change::PutLedgerEntry(e) => Some(e.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!((entry.kind, entry.amount, entry.recorded_by.as_str()), (EntryKind::Cash, 10_000, STAFF));
        assert_eq!(entry.departure_id, b.departure_id);
        assert_eq!(entry.note.as_deref(), Some("paid at the desk"));
        let audit = mem.state.borrow().audit.clone();
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].action, BOOKING_CONFIRMED);
    }

    #[test]
    fn a_part_payment_leaves_the_booking_pending_with_a_balance() {
        let mem = world_with(10_000, BookingStatus::Pending, 0);
        let changes = run_write(&mem, "record_payment.v1", args(4_000), Role::Owner);
        let b = mem.get_booking(B);
        assert_eq!((b.status, b.payment_status), (BookingStatus::Pending, PaymentStatus::Partial));
        assert_eq!(Balance::of_booking(&b).balance_due(), usd(6_000));
        assert!(!changes.iter().any(|c| matches!(c, Change::Audit(_))));
        // The rest confirms it.
        let rest = patch(args(6_000), &[("nonce", json!("00000000-0000-4000-8000-0000000000e2"))]);
        run_write(&mem, "record_payment.v1", rest, Role::Owner);
        assert_eq!(mem.get_booking(B).status, BookingStatus::Confirmed);
    }

    #[test]
    fn a_confirmed_booking_takes_its_balance_without_a_second_confirmation() {
        let mem = world_with(10_000, BookingStatus::Confirmed, 3_000);
        let changes = run_write(&mem, "record_payment.v1", args(7_000), Role::Manager);
        assert_eq!(mem.get_booking(B).payment_status, PaymentStatus::Paid);
        assert!(!changes.iter().any(|c| matches!(c, Change::Audit(_))));
    }

    #[test]
    fn refusals_name_their_field() {
        let mem = world_with(10_000, BookingStatus::Pending, 2_000);
        let run1 = |a: Value| run(&mem, "record_payment.v1", a, Role::Manager);
        assert_eq!(field_of(run1(patch(args(100), &[("currency", json!("EUR"))]))), "currency");
        assert_eq!(field_of(run1(patch(args(100), &[("currency", json!("XX"))]))), "currency");
        assert_eq!(field_of(run1(args(8_001))), "amount", "above the balance");
        assert_eq!(field_of(run1(args(0))), "amount");
        assert_eq!(field_of(run1(args(-1))), "amount");
        assert_eq!(field_of(run1(patch(args(100), &[("nonce", json!(""))]))), "nonce");
        assert_eq!(field_of(run1(patch(args(100), &[("note", json!("a\u{0}b"))]))), "note");
        assert_eq!(
            run_err(&mem, "record_payment.v1", patch(args(100), &[("method", json!("card_payment"))]), Role::Manager),
            "INVALID",
            "Stripe's card payments are not recorded by hand"
        );
        let ahead = patch(args(100), &[("at", json!(now() + chrono::Duration::days(1)))]);
        assert_eq!(run_err(&mem, "record_payment.v1", ahead, Role::Manager), "CLOCK_SKEW");
        let missing = patch(args(100), &[("booking_id", json!("b-none"))]);
        assert_eq!(run_err(&mem, "record_payment.v1", missing, Role::Manager), "NOT_FOUND");
    }

    #[test]
    fn a_cancelled_booking_or_a_role_without_the_right_is_refused() {
        let mem = world_with(10_000, BookingStatus::Cancelled, 0);
        assert_eq!(run_err(&mem, "record_payment.v1", args(100), Role::Owner), "CONFLICT");
        let mem = world_with(10_000, BookingStatus::Pending, 0);
        assert_eq!(run_err(&mem, "record_payment.v1", args(100), Role::Guide), "NOT_AUTHORIZED");
        assert_eq!(run_err(&mem, "record_payment.v1", args(100), Role::Customer), "NOT_AUTHORIZED");
    }

    fn ledger_of(mem: &Mem) -> Vec<LedgerEntry> {
        mem.state.borrow().ledger.values().filter(|e| e.booking_id == B).cloned().collect()
    }

    fn refund_args(amount: i64, method: &str) -> Value {
        json!({
            "nonce": "00000000-0000-4000-8000-0000000000f1",
            "booking_id": B,
            "method": method,
            "amount": amount,
            "currency": "USD",
            "note": "counted twice",
            "at": now(),
        })
    }

    /// A booking paid `cash` at the desk whose price then fell to `total`: the difference is owed
    /// back by hand.
    fn overpaid_in_cash(cash: i64, total: i64) -> Mem {
        let mem = world_with(cash, BookingStatus::Confirmed, 0);
        run_write(&mem, "record_payment.v1", args(cash), Role::Manager);
        let mut b = mem.get_booking(B);
        b.pricing.total = usd(total);
        mem.put_booking(b);
        mem
    }

    #[test]
    fn a_refund_given_back_in_cash_clears_the_refund_due_by_hand() {
        let mem = overpaid_in_cash(10_000, 7_000);
        let b = mem.get_booking(B);
        assert_eq!(ledger::refund_due_by_hand(&b, &ledger_of(&mem)), usd(3_000));
        let changes = run_write(&mem, REFUND_GIVEN_BACK, refund_args(3_000, "cash"), Role::Manager);
        let b = mem.get_booking(B);
        assert_eq!(b.refunded_amount, usd(3_000));
        assert_eq!(Balance::of_booking(&b).refund_due(), usd(0));
        assert_eq!(b.payment_status, PaymentStatus::PartiallyRefunded);
        assert_eq!(ledger::refund_due_by_hand(&b, &ledger_of(&mem)), usd(0));
        let entry = changes
            .iter()
            .find_map(|c| match c {
                Change::PutLedgerEntry(e) => Some(e.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!((entry.kind, entry.amount), (EntryKind::Refund, 3_000));
        assert_eq!(entry.note.as_deref(), Some("Given back in cash · counted twice"));
        assert_eq!(changes.len(), 2, "the entry and the booking; the store audits both");
        // Replayed once written: nothing more.
        assert!(run(&mem, REFUND_GIVEN_BACK, refund_args(3_000, "cash"), Role::Manager).unwrap().is_empty());
    }

    #[test]
    fn a_refund_above_the_refund_due_by_hand_or_with_none_due_is_refused_at_the_amount() {
        let mem = overpaid_in_cash(10_000, 7_000);
        let run1 = |a: Value| run(&mem, REFUND_GIVEN_BACK, a, Role::Manager);
        assert_eq!(field_of(run1(refund_args(3_001, "card_terminal"))), "amount");
        assert_eq!(field_of(run1(refund_args(0, "cash"))), "amount");
        assert_eq!(field_of(run1(patch(refund_args(100, "cash"), &[("currency", json!("EUR"))]))), "currency");
        assert_eq!(field_of(run1(patch(refund_args(100, "cash"), &[("nonce", json!("x"))]))), "nonce");
        assert_eq!(run_err(&mem, REFUND_GIVEN_BACK, refund_args(100, "card_payment"), Role::Manager), "INVALID");
        // Part of it, then the rest; then nothing is owed.
        run_write(&mem, REFUND_GIVEN_BACK, refund_args(1_000, "bank_transfer"), Role::Manager);
        let rest = patch(refund_args(2_000, "cash"), &[("nonce", json!("00000000-0000-4000-8000-0000000000f2"))]);
        run_write(&mem, REFUND_GIVEN_BACK, rest, Role::Manager);
        let more = patch(refund_args(1, "cash"), &[("nonce", json!("00000000-0000-4000-8000-0000000000f3"))]);
        match run(&mem, REFUND_GIVEN_BACK, more, Role::Manager) {
            Err(ApplyError::Rejected(Rejection::Invalid(e))) => {
                assert_eq!(e.field, "amount");
                assert!(e.message.contains("nothing is owed back"), "{e:?}");
            }
            other => panic!("{other:?}"),
        }
        for role in [Role::Guide, Role::Customer] {
            assert_eq!(run_err(&mem, REFUND_GIVEN_BACK, refund_args(1, "cash"), role), "NOT_AUTHORIZED");
        }
    }

    #[test]
    fn card_money_is_not_owed_back_by_hand() {
        // Paid before the ledger was kept (so by card), then the price fell: Stripe gives it back.
        let mem = world_with(10_000, BookingStatus::Confirmed, 10_000);
        let mut b = mem.get_booking(B);
        b.pricing.total = usd(7_000);
        mem.put_booking(b.clone());
        assert_eq!(Balance::of_booking(&b).refund_due(), usd(3_000));
        assert_eq!(ledger::refund_due_by_hand(&b, &[]), usd(0));
        assert_eq!(field_of(run(&mem, REFUND_GIVEN_BACK, refund_args(100, "cash"), Role::Owner)), "amount");
    }
}

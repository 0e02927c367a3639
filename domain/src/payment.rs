//! What money moving at the payment processor does to a booking.
//!
//! Processor events arrive late, twice and out of order. So a payment's state is a fold over
//! its events that does not care about either: [`ProcessorState`] keeps, per payment, the
//! largest figure each kind of event has reported (captured so far, refunded so far — the
//! processor's figures are cumulative), whether a dispute was opened and whether an attempt
//! failed. Recording an event is a join (maximum, or): commutative, associative and idempotent,
//! so any order and any repetition of the same events ends in the same state, and a refund seen
//! before the payment's success is kept, not lost. The booking's amounts and statuses are then
//! *derived* from that state by [`reconcile`] (which only ever moves a booking forward), never
//! adjusted by deltas.
//!
//! An event the fold cannot take (another currency than the booking's, a negative amount) is a
//! typed [`CannotApply`]: the caller records it for a person ([`PaymentIssue`]) and applies
//! nothing.
//!
//! Holds: a booking made on the public site takes its seats at once but keeps them only while it
//! is unpaid and its hold has not expired ([`hold_expired`]). Money that arrives for a booking
//! whose hold already ended is not kept: [`reconcile`] asks for it to go back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::entities::{Booking, RefundRequest};
use crate::money::{Currency, Money};
use crate::status::{BookingStatus, PaymentStatus, StateMachine};

/// One thing the payment processor reported about a payment, as it reported it: amounts in
/// minor units of `currency` (the processor's code, not yet checked against the booking's).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProcessorEvent {
    /// The payment succeeded; `received` is the amount captured so far.
    Succeeded { received: i64, currency: String },
    /// A payment attempt failed (the customer may try again).
    Failed,
    /// The charge was refunded; `refunded` is the amount refunded so far, `captured` the
    /// charge's captured amount when the event carries it.
    Refunded { refunded: i64, captured: Option<i64>, currency: String },
    /// A chargeback was opened over `amount`.
    Disputed { amount: i64, currency: String },
}

/// Why an event (or a webhook delivery) could not be applied to a booking. Stored with the
/// event for a person to look at; the processor is told it was received, since sending it again
/// would not change the answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CannotApply {
    #[error("the payment is in {got} but the booking is priced in {want}; nothing was applied")]
    CurrencyMismatch { want: String, got: String },
    #[error("the processor reported a negative amount; nothing was applied")]
    NegativeAmount,
    #[error("the event is about a payment that no booking here knows")]
    UnknownPayment,
    #[error("the payment's booking no longer exists")]
    BookingMissing,
    #[error("the event could not be applied: {detail}")]
    Unprocessable { detail: String },
}

impl CannotApply {
    /// A stable code for the reason (stored, and shown next to the sentence).
    pub fn code(&self) -> &'static str {
        match self {
            CannotApply::CurrencyMismatch { .. } => "currency_mismatch",
            CannotApply::NegativeAmount => "negative_amount",
            CannotApply::UnknownPayment => "unknown_payment",
            CannotApply::BookingMissing => "booking_missing",
            CannotApply::Unprocessable { .. } => "unprocessable",
        }
    }
}

/// What the processor has reported about one payment so far: the join of its events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProcessorState {
    /// The largest captured amount reported (by a success, or by a refunded charge).
    pub captured: i64,
    /// The largest cumulative refunded amount reported.
    pub refunded: i64,
    /// The largest disputed amount reported; a dispute is evidence of a capture.
    pub disputed: i64,
    pub dispute_opened: bool,
    /// An attempt failed. It counts only while nothing was captured ([`Self::failure_stands`]).
    pub failed: bool,
}

fn checked(amount: i64, got: &str, want: Currency) -> Result<i64, CannotApply> {
    if !got.trim().eq_ignore_ascii_case(want.as_str()) {
        return Err(CannotApply::CurrencyMismatch { want: want.to_string(), got: got.trim().to_ascii_uppercase() });
    }
    if amount < 0 {
        return Err(CannotApply::NegativeAmount);
    }
    Ok(amount)
}

impl ProcessorState {
    /// Joins `event` into the state of a payment in `currency` (the booking's). A refused event
    /// leaves the state as it was.
    pub fn record(self, currency: Currency, event: &ProcessorEvent) -> Result<ProcessorState, CannotApply> {
        let mut s = self;
        match event {
            ProcessorEvent::Succeeded { received, currency: got } => {
                s.captured = s.captured.max(checked(*received, got, currency)?);
            }
            ProcessorEvent::Failed => s.failed = true,
            ProcessorEvent::Refunded { refunded, captured, currency: got } => {
                let refunded = checked(*refunded, got, currency)?;
                let captured = checked(captured.unwrap_or(0), got, currency)?;
                s.refunded = s.refunded.max(refunded);
                s.captured = s.captured.max(captured);
            }
            ProcessorEvent::Disputed { amount, currency: got } => {
                s.disputed = s.disputed.max(checked(*amount, got, currency)?);
                s.dispute_opened = true;
            }
        }
        Ok(s)
    }

    /// Money the processor took for the payment, at least: a refund or a dispute proves a
    /// capture of that much even before the success event arrives.
    pub fn paid(&self) -> i64 {
        self.captured.max(self.refunded).max(self.disputed)
    }

    /// Refunded so far; never more than was paid.
    pub fn refunded(&self) -> i64 {
        self.refunded.min(self.paid())
    }

    /// Whether a failed attempt is still the news: a later (or earlier-arriving) success wins.
    pub fn failure_stands(&self) -> bool {
        self.failed && self.paid() == 0
    }

    /// The booking's payment status for a price of `total`. A dispute is not visible in
    /// amounts; it stands until a person settles it.
    pub fn payment_status(&self, total: i64) -> PaymentStatus {
        if self.dispute_opened {
            PaymentStatus::Disputed
        } else {
            PaymentStatus::from_amounts(total, self.paid(), self.refunded())
        }
    }
}

/// A failed payment attempt as the processor reported it: when (the event's creation time on
/// the processor's clock) and under which event id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FailureAt<'a> {
    pub at: DateTime<Utc>,
    pub event_id: &'a str,
}

/// Whether the failed attempt `reported` is the one whose message a payment shows, over the one
/// it shows now (`shown`, none yet): the latest by the processor's clock, ties broken by event
/// id. A join like [`ProcessorState::record`]'s, so the message kept does not depend on the order
/// the failures arrive in (or repeat), only on which failures there were.
pub fn failure_supersedes(reported: FailureAt<'_>, shown: Option<FailureAt<'_>>) -> bool {
    shown.is_none_or(|s| reported > s)
}

/// A refund's status at the processor, as stored: `queued` (not sent yet), `pending`,
/// `requires_action`, and the ends `succeeded`, `failed`, `canceled`.
fn refund_status_rank(status: &str) -> u8 {
    match status {
        "queued" => 0,
        "pending" => 1,
        "requires_action" => 2,
        "succeeded" => 3,
        "failed" | "canceled" => 4,
        _ => 1,
    }
}

/// The refund status to keep when an event reports `reported` for a refund stored as `current`:
/// a status only moves forward (pending → requires action → succeeded → failed or canceled),
/// so an older event delivered after a newer one cannot take a settled refund back to pending.
/// An unknown status counts as `pending`.
pub fn refund_status_after<'a>(current: &'a str, reported: &'a str) -> &'a str {
    if refund_status_rank(reported) >= refund_status_rank(current) { reported } else { current }
}

/// What the processor's state does to a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentEffect {
    /// Already reflected (a duplicate or stale event): write nothing.
    Unchanged,
    /// The booking with its new amounts and statuses.
    Updated(Booking),
    /// The booking no longer holds seats (its hold expired, or it was cancelled) when the money
    /// arrived: the amount not yet refunded is recorded and must go back.
    RefundLateCapture { booking: Booking, refund: RefundRequest },
}

/// The booking as the processor's state `s` says it stands. Amounts only grow (the booking's
/// own figures are a floor, so nothing recorded earlier is lost); a pending booking whose price
/// was captured in full is confirmed, whatever happened to the money since (the same booking the
/// events would have made in the order they happened); a cancelled one gets its new money back.
///
/// `reconcile(reconcile(b, s1), s2) == reconcile(b, s2)` for `s1 ≤ s2`, which is what makes the
/// final booking independent of the order the events arrived in.
pub fn reconcile(b: &Booking, s: &ProcessorState, at: DateTime<Utc>, actor: &str) -> PaymentEffect {
    reconcile_with(b, s, 0, at, actor)
}

/// [`reconcile`] for a booking that also received `recorded` outside the processor (cash, a
/// card terminal, a bank transfer: the booking's ledger entries staff recorded), which adds to
/// the processor's figures instead of hiding behind them.
pub fn reconcile_with(b: &Booking, s: &ProcessorState, recorded: i64, at: DateTime<Utc>, actor: &str) -> PaymentEffect {
    let currency = b.pricing.total.currency;
    let total = b.pricing.total.amount;
    let paid = b.paid_amount.amount.max(s.paid().saturating_add(recorded.max(0)));
    let refunded = b.refunded_amount.amount.max(s.refunded()).min(paid);
    let mut next = b.clone();
    next.paid_amount = Money::new(paid, currency);
    next.refunded_amount = Money::new(refunded, currency);
    next.payment_status = if s.dispute_opened || b.payment_status == PaymentStatus::Disputed {
        PaymentStatus::Disputed
    } else {
        PaymentStatus::from_amounts(total, paid, refunded)
    };
    // The same confirmation rule as a payment recorded at the desk (`ledger::confirms`); no
    // deposit rule is configured anywhere yet, so the full price confirms.
    if crate::ledger::confirms(b, paid, None) {
        // The transition table allows it; the rule that payment is captured first holds, since
        // money was.
        if let Ok(st) = b.status.transition(BookingStatus::Confirmed) {
            next.status = st;
            next.confirmed_at = Some(at);
        }
    }
    if next == *b {
        return PaymentEffect::Unchanged;
    }
    next.updated_at = at;
    // Only the processor's money goes back through it; money taken at the desk is for a person
    // to hand back.
    let back = (paid - refunded).min(s.paid() - s.refunded());
    if b.status == BookingStatus::Cancelled && paid > b.paid_amount.amount && back > 0 {
        let refund = RefundRequest {
            booking_id: b.id.clone(),
            amount: Money::new(back, currency),
            reason: "payment arrived after the booking was cancelled or its hold expired".into(),
            requested_by: actor.to_string(),
            requested_at: at,
        };
        return PaymentEffect::RefundLateCapture { booking: next, refund };
    }
    PaymentEffect::Updated(next)
}

/// A processor event that could not be applied, kept for the organization's office staff (it
/// replicates to owner, admin and manager desks and shows in their inbox).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentIssue {
    pub id: String,
    pub organization_id: String,
    /// The booking the event was about, when it is known.
    pub booking_id: Option<String>,
    /// Its reference, for people.
    pub booking_reference: Option<String>,
    /// The processor's event id and type.
    pub event_id: String,
    pub event_type: String,
    /// [`CannotApply::code`].
    pub reason: String,
    /// A sentence for people.
    pub message: String,
    pub created_at: DateTime<Utc>,
}

impl PaymentIssue {
    /// The issue an event leaves; its id is derived from the event's, so a redelivery (which is
    /// not applied again anyway) cannot record it twice.
    pub fn new(
        organization_id: &str,
        booking: Option<&Booking>,
        event_id: &str,
        event_type: &str,
        why: &CannotApply,
        at: DateTime<Utc>,
    ) -> PaymentIssue {
        PaymentIssue {
            id: format!("issue-{event_id}"),
            organization_id: organization_id.to_string(),
            booking_id: booking.map(|b| b.id.clone()),
            booking_reference: booking.map(|b| b.reference_number.to_string()),
            event_id: event_id.to_string(),
            event_type: event_type.to_string(),
            reason: why.code().to_string(),
            message: why.to_string(),
            created_at: at,
        }
    }
}

/// The longest a website booking holds its seats unpaid: anything longer is a misconfiguration,
/// not a hold.
pub const MAX_HOLD_SECONDS: u64 = 7 * 86_400;

/// Until when a booking made at `now` holds its seats unpaid, for a configured hold of
/// `seconds` (clamped to [`MAX_HOLD_SECONDS`]).
pub fn hold_until(now: DateTime<Utc>, seconds: u64) -> DateTime<Utc> {
    let seconds = i64::try_from(seconds.min(MAX_HOLD_SECONDS)).unwrap_or(0);
    now + chrono::Duration::seconds(seconds)
}

/// Whether a booking asks for a payment at all: a free booking (a full discount, a zero price)
/// or one already paid in full (a gift card at checkout) has nothing to pay and no intent is made.
pub fn payable(b: &Booking) -> bool {
    amount_due(b).amount > 0
}

/// What is left for the customer to pay online: the total less what was paid (a gift card taken
/// at checkout), never below zero. A new booking's PaymentIntent is for this amount.
pub fn amount_due(b: &Booking) -> Money {
    let total = b.pricing.total;
    Money::new((total.amount - b.paid_amount.amount + b.refunded_amount.amount).max(0), total.currency)
}

/// The seat hold a customer is shown: only while the booking holds seats and no money came in.
pub fn hold_in_force(b: &Booking, hold_expires_at: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    (b.status.holds_seats() && b.paid_amount.is_zero()).then_some(hold_expires_at).flatten()
}

/// Whether an unpaid booking's seat hold has run out at `now`. Only pending bookings with no
/// money received expire; anything paid, even in part, is for a person to sort out.
pub fn hold_expired(b: &Booking, hold_expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    b.status == BookingStatus::Pending
        && b.payment_status == PaymentStatus::Unpaid
        && b.paid_amount.is_zero()
        && hold_expires_at.is_some_and(|at| at <= now)
}

/// What the end of a website booking's seat hold does to it ([`hold_release`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRelease {
    /// The gift-card redemptions of its checkout (the ledger entries), each to go back to its
    /// card in full; empty for a booking nothing was paid on.
    pub give_back: Vec<crate::ledger::LedgerEntry>,
}

impl HoldRelease {
    /// What goes back to gift cards in all.
    pub fn given_back(&self) -> i64 {
        self.give_back.iter().map(|e| e.amount).sum()
    }
}

/// Whether the seat hold of booking `b` (with its ledger `entries`) has run out at `now`, and
/// what goes back when it has: the booking is cancelled and its seats released when it is still
/// pending, nothing came back from it and the only money on it is gift-card redemptions (none:
/// an unpaid hold, [`hold_expired`]). Those redemptions go back to their cards: the customer
/// never completed the checkout they were part of, so the booking keeps nothing of them. Any
/// other money (a card payment, cash, a refund, an adjustment, a dispute) is for a person.
pub fn hold_release(
    b: &Booking,
    hold_expires_at: Option<DateTime<Utc>>,
    entries: &[crate::ledger::LedgerEntry],
    now: DateTime<Utc>,
) -> Option<HoldRelease> {
    use crate::ledger::EntryKind;
    if b.paid_amount.is_zero() {
        return hold_expired(b, hold_expires_at, now).then(|| HoldRelease { give_back: vec![] });
    }
    let ran_out = b.status == BookingStatus::Pending && hold_expires_at.is_some_and(|at| at <= now);
    if !ran_out || !b.refunded_amount.is_zero() || b.payment_status == PaymentStatus::Disputed {
        return None;
    }
    let ours: Vec<_> = entries.iter().filter(|e| e.booking_id == b.id).collect();
    if ours.iter().any(|e| e.kind != EntryKind::GiftCardRedemption || e.currency != b.paid_amount.currency) {
        return None;
    }
    let give_back: Vec<_> = ours.into_iter().cloned().collect();
    let redeemed: i64 = give_back.iter().map(|e| e.amount).sum();
    // The booking's figure and its ledger must agree; if not, money moved that this rule does
    // not see (a processor figure not yet in the ledger), and a person looks.
    (redeemed == b.paid_amount.amount).then_some(HoldRelease { give_back })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;

    use super::*;
    use crate::entities::BookingSource;

    /// A pending, unpaid website booking of two adults for `total`.
    fn sample_booking(total: Money) -> Booking {
        let mut b = crate::fixtures::booking("b1", 2, BookingStatus::Pending, PaymentStatus::Unpaid, 0);
        b.pricing.line_items[0].unit_price = Money::new(total.amount / 2, total.currency);
        b.pricing.line_items[0].total_price = total;
        (b.pricing.subtotal, b.pricing.total) = (total, total);
        (b.paid_amount, b.refunded_amount) = (Money::zero(total.currency), Money::zero(total.currency));
        Booking { source: BookingSource::Website, ..b }
    }

    fn eur(a: i64) -> Money {
        Money::new(a, Currency::EUR)
    }

    fn now() -> DateTime<Utc> {
        "2026-06-01T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_hold_lasts_the_configured_time_but_never_past_a_week() {
        assert_eq!(hold_until(now(), 900), now() + chrono::Duration::minutes(15));
        assert_eq!(hold_until(now(), u64::MAX), now() + chrono::Duration::days(7));
    }

    #[test]
    fn only_a_booking_with_something_to_pay_is_payable() {
        assert!(payable(&sample_booking(eur(100))));
        assert!(!payable(&sample_booking(eur(0))));
        let mut part = sample_booking(eur(100));
        part.paid_amount = eur(40);
        assert!(payable(&part));
        assert_eq!(amount_due(&part), eur(60));
        part.paid_amount = eur(100);
        assert!(!payable(&part));
        assert_eq!(amount_due(&part), eur(0));
    }

    #[test]
    fn a_hold_is_shown_while_the_booking_holds_seats_unpaid() {
        let at = Some(now());
        let b = sample_booking(eur(100));
        assert_eq!(hold_in_force(&b, at), at);
        assert_eq!(hold_in_force(&Booking { paid_amount: eur(10), ..b.clone() }, at), None, "money came in");
        assert_eq!(hold_in_force(&Booking { status: BookingStatus::Cancelled, ..b }, at), None);
    }

    fn succeeded(received: i64) -> ProcessorEvent {
        ProcessorEvent::Succeeded { received, currency: "eur".into() }
    }

    fn refunded(refunded: i64) -> ProcessorEvent {
        ProcessorEvent::Refunded { refunded, captured: None, currency: "eur".into() }
    }

    fn disputed(amount: i64) -> ProcessorEvent {
        ProcessorEvent::Disputed { amount, currency: "eur".into() }
    }

    /// The booking and payment state after `events`, applied one at a time as the webhook does
    /// (each event joined into the stored state, the booking reconciled with it), and the
    /// refunds asked for on the way.
    #[test]
    fn cash_taken_at_the_desk_adds_to_the_card_money_and_is_never_sent_back_through_stripe() {
        // 40.00 in cash at the desk, then the card pays the rest: confirmed, paid in full.
        let b = Booking { paid_amount: eur(4_000), ..sample_booking(eur(10_000)) };
        let s = ProcessorState::default().record(Currency::EUR, &succeeded(6_000)).unwrap();
        let PaymentEffect::Updated(next) = reconcile_with(&b, &s, 4_000, now(), "stripe") else { panic!() };
        assert_eq!((next.paid_amount, next.status), (eur(10_000), BookingStatus::Confirmed));
        assert_eq!(next.payment_status, PaymentStatus::Paid);
        // Without the desk's cash the card money alone would not have confirmed it.
        let alone = reconcile(&Booking { paid_amount: eur(0), ..b.clone() }, &s, now(), "stripe");
        assert!(matches!(alone, PaymentEffect::Updated(n) if n.status == BookingStatus::Pending));
        // On a cancelled booking only the card money goes back through the processor.
        let cancelled = Booking { status: BookingStatus::Cancelled, ..b };
        let PaymentEffect::RefundLateCapture { refund, .. } = reconcile_with(&cancelled, &s, 4_000, now(), "stripe")
        else {
            panic!()
        };
        assert_eq!(refund.amount, eur(6_000));
    }

    fn replay(b: &Booking, events: &[ProcessorEvent]) -> (Booking, ProcessorState, Vec<i64>) {
        let mut booking = b.clone();
        let mut state = ProcessorState::default();
        let mut refunds = vec![];
        for e in events {
            state = state.record(Currency::EUR, e).unwrap();
            match reconcile(&booking, &state, now(), "stripe") {
                PaymentEffect::Unchanged => {}
                PaymentEffect::Updated(next) => booking = next,
                PaymentEffect::RefundLateCapture { booking: next, refund } => {
                    refunds.push(refund.amount.amount);
                    booking = next;
                }
            }
        }
        (booking, state, refunds)
    }

    #[test]
    fn full_payment_confirms_once() {
        let b = sample_booking(eur(10_000));
        let (paid, _, _) = replay(&b, &[succeeded(10_000)]);
        assert_eq!(paid.status, BookingStatus::Confirmed);
        assert_eq!(paid.payment_status, PaymentStatus::Paid);
        assert_eq!(paid.confirmed_at, Some(now()));
        // The same event again, or an older smaller figure, changes nothing.
        let s = ProcessorState { captured: 10_000, ..ProcessorState::default() };
        for e in [succeeded(10_000), succeeded(4_000)] {
            let again = s.record(Currency::EUR, &e).unwrap();
            assert_eq!(again, s);
            assert_eq!(reconcile(&paid, &again, now(), "stripe"), PaymentEffect::Unchanged);
        }
    }

    #[test]
    fn partial_payment_stays_pending() {
        let (p, _, _) = replay(&sample_booking(eur(10_000)), &[succeeded(3_000)]);
        assert_eq!((p.status, p.payment_status), (BookingStatus::Pending, PaymentStatus::Partial));
    }

    #[test]
    fn another_currency_cannot_be_applied() {
        let s = ProcessorState::default();
        let usd = ProcessorEvent::Succeeded { received: 10_000, currency: "usd".into() };
        assert_eq!(
            s.record(Currency::EUR, &usd),
            Err(CannotApply::CurrencyMismatch { want: "EUR".into(), got: "USD".into() })
        );
        let refund = ProcessorEvent::Refunded { refunded: 1, captured: Some(1), currency: "USD".into() };
        assert!(matches!(s.record(Currency::EUR, &refund), Err(CannotApply::CurrencyMismatch { .. })));
        let dispute = ProcessorEvent::Disputed { amount: 1, currency: "xyz".into() };
        assert!(matches!(s.record(Currency::EUR, &dispute), Err(CannotApply::CurrencyMismatch { .. })));
        let err = s.record(Currency::EUR, &usd).unwrap_err();
        assert_eq!(err.code(), "currency_mismatch");
        assert_eq!(err.to_string(), "the payment is in USD but the booking is priced in EUR; nothing was applied");
        // Stripe's lowercase code of the same currency is the same currency.
        assert!(s.record(Currency::EUR, &succeeded(1)).is_ok());
    }

    #[test]
    fn negative_amounts_cannot_be_applied() {
        let s = ProcessorState::default();
        assert_eq!(s.record(Currency::EUR, &succeeded(-1)), Err(CannotApply::NegativeAmount));
        assert_eq!(s.record(Currency::EUR, &refunded(-5)), Err(CannotApply::NegativeAmount));
    }

    #[test]
    fn a_refund_seen_before_the_success_is_kept() {
        let b = sample_booking(eur(10_000));
        let (early, _, _) = replay(&b, &[refunded(10_000), succeeded(10_000)]);
        let (in_order, _, _) = replay(&b, &[succeeded(10_000), refunded(10_000)]);
        assert_eq!(early, in_order);
        assert_eq!((early.payment_status, early.refunded_amount), (PaymentStatus::Refunded, eur(10_000)));
        let (part, _, _) = replay(&b, &[refunded(2_500), succeeded(10_000)]);
        assert_eq!((part.payment_status, part.refunded_amount), (PaymentStatus::PartiallyRefunded, eur(2_500)));
    }

    #[test]
    fn a_failure_counts_only_while_nothing_was_captured() {
        let s = ProcessorState::default().record(Currency::EUR, &ProcessorEvent::Failed).unwrap();
        assert!(s.failure_stands());
        let paid = s.record(Currency::EUR, &succeeded(10_000)).unwrap();
        assert!(!paid.failure_stands());
        let b = sample_booking(eur(10_000));
        let (failed, _, _) = replay(&b, &[ProcessorEvent::Failed]);
        assert_eq!(failed, b, "a failed attempt keeps the booking and its hold as they were");
    }

    #[test]
    fn money_for_a_cancelled_booking_goes_back_once() {
        let mut b = sample_booking(eur(10_000));
        b.status = BookingStatus::Cancelled;
        let (after, _, refunds) = replay(&b, &[succeeded(10_000), succeeded(10_000)]);
        assert_eq!(after.status, BookingStatus::Cancelled);
        assert_eq!(after.paid_amount, eur(10_000));
        assert_eq!(refunds, vec![10_000]);
        // Money already on its way back is not asked for twice.
        let (_, _, refunds) = replay(&b, &[refunded(2_500), succeeded(10_000)]);
        assert_eq!(refunds, vec![7_500]);
    }

    #[test]
    fn refunds_are_cumulative_and_capped() {
        let b = sample_booking(eur(10_000));
        let (part, s, _) = replay(&b, &[succeeded(10_000), refunded(2_500)]);
        assert_eq!((part.refunded_amount, part.payment_status), (eur(2_500), PaymentStatus::PartiallyRefunded));
        for stale in [refunded(2_500), refunded(1_000)] {
            assert_eq!(
                reconcile(&part, &s.record(Currency::EUR, &stale).unwrap(), now(), "x"),
                PaymentEffect::Unchanged
            );
        }
        let (all, _, _) = replay(&part, &[succeeded(10_000), refunded(2_500), refunded(10_000)]);
        assert_eq!((all.refunded_amount, all.payment_status), (eur(10_000), PaymentStatus::Refunded));
    }

    #[test]
    fn disputes_mark_the_booking_and_stand() {
        let b = sample_booking(eur(10_000));
        let (d, _, _) = replay(&b, &[succeeded(10_000), disputed(10_000)]);
        assert_eq!((d.status, d.payment_status), (BookingStatus::Confirmed, PaymentStatus::Disputed));
        let (d2, _, _) = replay(&b, &[succeeded(10_000), disputed(10_000), refunded(4_000)]);
        assert_eq!((d2.payment_status, d2.refunded_amount), (PaymentStatus::Disputed, eur(4_000)));
    }

    #[test]
    fn issues_name_the_event_and_say_why() {
        let b = sample_booking(eur(10_000));
        let why = CannotApply::CurrencyMismatch { want: "EUR".into(), got: "USD".into() };
        let i = PaymentIssue::new("org", Some(&b), "evt_1", "payment_intent.succeeded", &why, now());
        assert_eq!((i.id.as_str(), i.reason.as_str()), ("issue-evt_1", "currency_mismatch"));
        assert_eq!(i.booking_reference, Some(b.reference_number.to_string()));
        assert!(i.message.contains("USD"), "{}", i.message);
        let back: PaymentIssue = serde_json::from_value(serde_json::to_value(&i).unwrap()).unwrap();
        assert_eq!(back, i);
    }

    #[test]
    fn only_unpaid_pending_holds_expire() {
        let b = sample_booking(eur(10_000));
        let before = now() - chrono::Duration::minutes(1);
        let after = now() + chrono::Duration::minutes(1);
        assert!(hold_expired(&b, Some(before), now()));
        assert!(!hold_expired(&b, Some(after), now()));
        assert!(!hold_expired(&b, None, now()), "desk bookings have no hold");
        let (partly, _, _) = replay(&b, &[succeeded(1)]);
        assert!(!hold_expired(&partly, Some(before), now()));
    }

    fn entry(b: &Booking, id: &str, kind: crate::ledger::EntryKind, amount: i64) -> crate::ledger::LedgerEntry {
        crate::ledger::LedgerEntry {
            id: id.into(),
            organization_id: b.organization_id.clone(),
            booking_id: b.id.clone(),
            departure_id: b.departure_id.clone(),
            kind,
            amount,
            currency: Currency::EUR,
            note: None,
            reference: None,
            recorded_by: "u".into(),
            recorded_at: now(),
            method: None,
        }
    }

    #[test]
    fn a_hold_paid_only_by_gift_cards_runs_out_and_gives_them_back() {
        use crate::ledger::EntryKind;
        let before = Some(now() - chrono::Duration::minutes(1));
        let after = Some(now() + chrono::Duration::minutes(1));
        let unpaid = sample_booking(eur(10_000));
        // Nothing paid: released, nothing to give back (the same as `hold_expired`).
        assert_eq!(hold_release(&unpaid, before, &[], now()), Some(HoldRelease { give_back: vec![] }));
        assert_eq!(hold_release(&unpaid, after, &[], now()), None);
        assert_eq!(hold_release(&unpaid, None, &[], now()), None, "desk bookings have no hold");

        let mut part = unpaid.clone();
        part.paid_amount = eur(3_000);
        part.payment_status = PaymentStatus::Partial;
        let card = entry(&part, "g1", EntryKind::GiftCardRedemption, 3_000);
        let r = hold_release(&part, before, std::slice::from_ref(&card), now()).unwrap();
        assert_eq!((r.given_back(), r.give_back), (3_000, vec![card.clone()]));
        assert_eq!(hold_release(&part, after, std::slice::from_ref(&card), now()), None);

        // Two cards: both go back.
        let mut two = part.clone();
        two.paid_amount = eur(5_000);
        let second = entry(&two, "g2", EntryKind::GiftCardRedemption, 2_000);
        assert_eq!(hold_release(&two, before, &[card.clone(), second.clone()], now()).unwrap().given_back(), 5_000);

        // Any other money on it is a person's to sort out.
        for other in [EntryKind::CardPayment, EntryKind::Cash, EntryKind::Refund, EntryKind::Adjustment] {
            let mut b = part.clone();
            b.paid_amount = eur(3_500);
            let entries = [card.clone(), entry(&b, "x", other, 500)];
            assert_eq!(hold_release(&b, before, &entries, now()), None, "{other:?}");
        }
        // A figure the ledger does not explain (Stripe money not yet written) keeps it too.
        let (mut stripe, _, _) = replay(&part, &[succeeded(1_000)]);
        stripe.paid_amount = eur(4_000);
        assert_eq!(hold_release(&stripe, before, std::slice::from_ref(&card), now()), None);
        // Already released (cancelled), or money already came back: nothing more.
        let mut gone = part.clone();
        gone.status = BookingStatus::Cancelled;
        assert_eq!(hold_release(&gone, before, std::slice::from_ref(&card), now()), None);
        let mut back = part.clone();
        back.refunded_amount = eur(3_000);
        assert_eq!(hold_release(&back, before, std::slice::from_ref(&card), now()), None);
    }

    /// Card money for a part-paid booking whose hold ran out (its gift card given back) goes back
    /// in full through Stripe, as for an unpaid one; the gift card's part is not asked twice.
    #[test]
    fn a_late_card_payment_after_a_gift_card_hold_ran_out_goes_back_in_full() {
        let mut b = sample_booking(eur(10_000));
        b.status = BookingStatus::Cancelled;
        b.paid_amount = eur(3_000);
        b.refunded_amount = eur(3_000);
        let s = ProcessorState::default().record(Currency::EUR, &succeeded(7_000)).unwrap();
        // The webhook counts the gift card's redemption as money recorded beside Stripe's.
        match reconcile_with(&b, &s, 3_000, now(), "stripe") {
            PaymentEffect::RefundLateCapture { booking, refund } => {
                assert_eq!(refund.amount, eur(7_000));
                assert_eq!(booking.status, BookingStatus::Cancelled);
                assert_eq!((booking.paid_amount, booking.refunded_amount), (eur(10_000), eur(3_000)));
            }
            other => panic!("expected the late money back, got {other:?}"),
        }
    }

    /// Every ordering of `items`.
    fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
        if items.len() <= 1 {
            return vec![items.to_vec()];
        }
        let mut all = vec![];
        for (i, first) in items.iter().enumerate() {
            let mut rest = items.to_vec();
            rest.remove(i);
            for mut tail in permutations(&rest) {
                tail.insert(0, first.clone());
                all.push(tail);
            }
        }
        all
    }

    /// Every delivery of a whole story, exhaustively: each ordering of its events, and each
    /// ordering with any one event delivered a second time at any position, end in the booking,
    /// the processor state and the refunds the events make in the order they happened. Stories:
    /// a pending and a cancelled booking, paid in full and in part, with a failed attempt, a
    /// partial and then a full refund, and a dispute.
    #[test]
    fn every_permutation_and_duplication_ends_as_the_events_in_order() {
        let mut checked = 0usize;
        for (cancelled, partial) in [(false, false), (false, true), (true, false), (true, true)] {
            let total = 10_000;
            let received = if partial { 6_000 } else { total };
            let story =
                [ProcessorEvent::Failed, succeeded(received), refunded(received / 4), refunded(received), disputed(0)];
            let mut b = sample_booking(eur(total));
            if cancelled {
                b.status = BookingStatus::Cancelled;
            }
            let (want, want_state, want_refunds) = replay(&b, &story);
            let asked: i64 = want_refunds.iter().sum();
            assert!(asked <= received, "in order, more asked back ({asked}) than was paid ({received})");
            for order in permutations(&story) {
                let mut deliveries = vec![order.clone()];
                for (twice, pos) in (0..order.len()).flat_map(|e| (0..=order.len()).map(move |p| (e, p))) {
                    let mut again = order.clone();
                    again.insert(pos, order[twice].clone());
                    deliveries.push(again);
                }
                for delivered in deliveries {
                    let (got, got_state, got_refunds) = replay(&b, &delivered);
                    assert_eq!(got_state, want_state, "{delivered:?}");
                    assert_eq!(got, want, "{delivered:?}");
                    // Money asked back through the processor is never more than what it took.
                    let asked: i64 = got_refunds.iter().sum();
                    assert!(asked <= received, "{delivered:?}: asked back {asked} of {received}");
                    checked += 1;
                }
            }
            assert_eq!(want.paid_amount, eur(received));
            assert_eq!((want.refunded_amount, want.payment_status), (eur(received), PaymentStatus::Disputed));
            let confirmed = !cancelled && !partial;
            assert_eq!(want.status == BookingStatus::Confirmed, confirmed, "{want:?}");
        }
        // 5! orderings, each also with one of its 5 events repeated at one of 6 places.
        assert_eq!(checked, 4 * 120 * (1 + 5 * 6));
    }

    #[test]
    fn the_latest_failure_is_shown_whatever_order_failures_arrive_in() {
        let t = |s: i64| DateTime::<Utc>::from_timestamp(1_800_000_000 + s, 0).unwrap();
        let failures = [
            FailureAt { at: t(0), event_id: "evt_a" },
            FailureAt { at: t(5), event_id: "evt_b" },
            FailureAt { at: t(5), event_id: "evt_c" },
            FailureAt { at: t(2), event_id: "evt_d" },
        ];
        let latest = FailureAt { at: t(5), event_id: "evt_c" };
        for order in permutations(&failures) {
            let mut shown: Option<FailureAt> = None;
            // Each failure twice, in this order.
            for &f in order.iter().chain(order.iter()) {
                if failure_supersedes(f, shown) {
                    shown = Some(f);
                }
            }
            assert_eq!(shown, Some(latest));
        }
    }

    #[test]
    fn a_refund_status_only_moves_forward() {
        let statuses = ["queued", "pending", "requires_action", "succeeded", "failed", "canceled"];
        // Reported in any order, the furthest status stands.
        for a in statuses {
            for b in statuses {
                let ab = refund_status_after(refund_status_after("queued", a), b);
                let ba = refund_status_after(refund_status_after("queued", b), a);
                let (ra, rb) = (refund_status_rank(a), refund_status_rank(b));
                if ra != rb {
                    assert_eq!(ab, ba, "{a} then {b}");
                    assert_eq!(ab, if ra > rb { a } else { b });
                }
            }
        }
        assert_eq!(refund_status_after("succeeded", "pending"), "succeeded", "an old event is stale");
        assert_eq!(refund_status_after("pending", "succeeded"), "succeeded");
        assert_eq!(refund_status_after("succeeded", "failed"), "failed", "Stripe can fail a refund later");
        assert_eq!(refund_status_after("succeeded", "whatever"), "succeeded");
    }

    /// A payment's history as it happened: failed attempts, the success, refunds growing to at
    /// most what was captured, maybe a dispute — in that order.
    fn history() -> impl Strategy<Value = (i64, bool, Vec<ProcessorEvent>)> {
        let shape = (0u8..3, any::<bool>(), prop::collection::vec(1i64..100, 0..3), any::<bool>(), any::<bool>());
        (1i64..50_000, shape, any::<bool>()).prop_map(
            |(total, (failures, partial, refund_steps, full_refund, dispute), cancelled)| {
                let received = if partial { (total / 2).max(1) } else { total };
                let mut events = vec![ProcessorEvent::Failed; usize::from(failures)];
                events.push(succeeded(received));
                let mut so_far = 0;
                for pct in refund_steps {
                    so_far = (so_far + received * pct / 100).min(received);
                    events.push(refunded(so_far));
                }
                if full_refund {
                    events.push(refunded(received));
                }
                if dispute {
                    events.push(disputed(received - so_far.min(received)));
                }
                (total, cancelled, events)
            },
        )
    }

    /// Every event at least once, some twice or more, in any order.
    fn deliveries() -> impl Strategy<Value = (i64, bool, Vec<ProcessorEvent>, Vec<ProcessorEvent>)> {
        history()
            .prop_flat_map(|(total, cancelled, events)| {
                let n = events.len();
                (Just(total), Just(cancelled), Just(events), prop::collection::vec(0..n, 0..n * 2))
            })
            .prop_flat_map(|(total, cancelled, events, extra)| {
                let mut order: Vec<usize> = (0..events.len()).collect();
                order.extend(extra);
                (Just(total), Just(cancelled), Just(events), Just(order).prop_shuffle())
            })
            .prop_map(|(total, cancelled, events, order)| {
                let delivered = order.iter().map(|&i| events[i].clone()).collect();
                (total, cancelled, events, delivered)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_order_and_repetition_ends_as_the_events_in_order((total, cancelled, events, delivered) in deliveries()) {
            let mut b = sample_booking(eur(total));
            if cancelled {
                // A booking whose hold ran out before its money arrived.
                b.status = BookingStatus::Cancelled;
            }
            let (in_order, in_order_state, _) = replay(&b, &events);
            let (shuffled, shuffled_state, _) = replay(&b, &delivered);
            prop_assert_eq!(in_order_state, shuffled_state);
            prop_assert_eq!(&in_order, &shuffled);
            // The in-order result is the truth: what was captured and refunded, and a pending
            // booking confirmed once its price was paid.
            let captured = events.iter().find_map(|e| match e {
                ProcessorEvent::Succeeded { received, .. } => Some(*received),
                _ => None,
            }).unwrap();
            prop_assert_eq!(in_order.paid_amount.amount, captured);
            prop_assert!(in_order.refunded_amount.amount <= captured);
            if !cancelled {
                prop_assert_eq!(in_order.status == BookingStatus::Confirmed, captured >= total);
            }
        }
    }
}

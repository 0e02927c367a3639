//! What money moving at the payment processor does to a booking.
//!
//! Processor events arrive late, twice and out of order, so every rule here takes the
//! processor's *cumulative* figure (amount received so far, amount refunded so far) and never
//! adds a delta: applying the same event twice, or an older one after a newer one, changes
//! nothing. Amounts only ever grow; a figure below what the booking already records is stale.
//!
//! Holds: a booking made on the public site takes its seats at once but keeps them only while it
//! is unpaid and its hold has not expired ([`hold_expired`]). Money that arrives for a booking
//! whose hold already ended is not kept: [`payment_received`] asks for it to go back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::entities::{Booking, RefundRequest};
use crate::money::{Money, MoneyError};
use crate::status::{BookingStatus, PaymentStatus, StateMachine};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PaymentRuleError {
    #[error("the payment is in {got} but the booking is priced in {want}")]
    CurrencyMismatch { want: String, got: String },
    #[error("amounts must not be negative")]
    Negative,
}

impl From<MoneyError> for PaymentRuleError {
    fn from(_: MoneyError) -> Self {
        PaymentRuleError::Negative
    }
}

/// The outcome of recording money received for a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentEffect {
    /// Already recorded (a duplicate or stale event): write nothing.
    Unchanged,
    /// The booking with its new amounts and statuses.
    Updated(Booking),
    /// The booking no longer holds seats (its hold expired, or it was cancelled) when the money
    /// arrived: the amount is recorded and must be refunded in full.
    RefundLateCapture { booking: Booking, refund: RefundRequest },
}

fn same_currency(b: &Booking, m: Money) -> Result<(), PaymentRuleError> {
    if m.currency != b.pricing.total.currency {
        return Err(PaymentRuleError::CurrencyMismatch {
            want: b.pricing.total.currency.to_string(),
            got: m.currency.to_string(),
        });
    }
    if m.amount < 0 {
        return Err(PaymentRuleError::Negative);
    }
    Ok(())
}

/// Money received so far for the booking (`received_total`, cumulative). A pending booking paid
/// in full is confirmed; a partial payment is recorded and leaves it pending.
pub fn payment_received(
    b: &Booking,
    received_total: Money,
    at: DateTime<Utc>,
    actor: &str,
) -> Result<PaymentEffect, PaymentRuleError> {
    same_currency(b, received_total)?;
    if received_total.amount <= b.paid_amount.amount {
        return Ok(PaymentEffect::Unchanged);
    }
    let mut next = b.clone();
    next.paid_amount = received_total;
    let amounts =
        PaymentStatus::from_amounts(next.pricing.total.amount, next.paid_amount.amount, next.refunded_amount.amount);
    // A disputed payment stays disputed until the dispute is decided.
    if next.payment_status != PaymentStatus::Disputed {
        next.payment_status = amounts;
    }
    next.updated_at = at;
    if b.status == BookingStatus::Cancelled {
        let owed = Money::new(next.paid_amount.amount - next.refunded_amount.amount, next.paid_amount.currency);
        let refund = RefundRequest {
            booking_id: b.id.clone(),
            amount: owed,
            reason: "payment arrived after the booking was cancelled or its hold expired".into(),
            requested_by: actor.to_string(),
            requested_at: at,
        };
        return Ok(PaymentEffect::RefundLateCapture { booking: next, refund });
    }
    if b.status == BookingStatus::Pending && next.payment_status == PaymentStatus::Paid {
        // The transition table allows it; `transition_booking`'s payment rule holds by construction.
        if let Ok(s) = b.status.transition(BookingStatus::Confirmed) {
            next.status = s;
            next.confirmed_at = Some(at);
        }
    }
    Ok(PaymentEffect::Updated(next))
}

/// Refunded so far for the booking (`refunded_total`, cumulative, as the processor reports it on
/// the charge). Never more than was paid. `None`: nothing new.
pub fn refund_recorded(
    b: &Booking,
    refunded_total: Money,
    at: DateTime<Utc>,
) -> Result<Option<Booking>, PaymentRuleError> {
    same_currency(b, refunded_total)?;
    let refunded = refunded_total.amount.min(b.paid_amount.amount);
    if refunded <= b.refunded_amount.amount {
        return Ok(None);
    }
    let mut next = b.clone();
    next.refunded_amount = Money::new(refunded, refunded_total.currency);
    next.payment_status = PaymentStatus::from_amounts(next.pricing.total.amount, next.paid_amount.amount, refunded);
    next.updated_at = at;
    Ok(Some(next))
}

/// A chargeback was opened. `None` when the booking is already marked or there is no money to
/// dispute.
pub fn dispute_opened(b: &Booking, at: DateTime<Utc>) -> Option<Booking> {
    if b.payment_status == PaymentStatus::Disputed || !b.payment_status.can_transition_to(PaymentStatus::Disputed) {
        return None;
    }
    let mut next = b.clone();
    next.payment_status = PaymentStatus::Disputed;
    next.updated_at = at;
    Some(next)
}

/// Whether an unpaid booking's seat hold has run out at `now`. Only pending bookings with no
/// money received expire; anything paid, even in part, is for a person to sort out.
pub fn hold_expired(b: &Booking, hold_expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    b.status == BookingStatus::Pending
        && b.payment_status == PaymentStatus::Unpaid
        && b.paid_amount.is_zero()
        && hold_expires_at.is_some_and(|at| at <= now)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::entities::BookingSource;
    use crate::money::Currency;
    use crate::pricing::{LineItem, PricingSnapshot};
    use crate::reference::ReferenceNumber;

    fn sample_booking(total: Money) -> Booking {
        let zero = Money::zero(total.currency);
        Booking {
            id: "b1".into(),
            organization_id: "org".into(),
            reference_number: ReferenceNumber::generate(2026, 7).unwrap(),
            customer_id: "c1".into(),
            departure_id: "d1".into(),
            tour_id: "t1".into(),
            variant_id: "v1".into(),
            pricing: PricingSnapshot {
                line_items: vec![LineItem {
                    pricing_tier_id: "tier".into(),
                    tier_name: "Adult".into(),
                    quantity: 2,
                    unit_price: Money::new(total.amount / 2, total.currency),
                    total_price: total,
                }],
                subtotal: total,
                discounts: vec![],
                taxes: vec![],
                total,
                promotional_code_id: None,
            },
            participants: vec![],
            status: BookingStatus::Pending,
            payment_status: PaymentStatus::Unpaid,
            paid_amount: zero,
            refunded_amount: zero,
            source: BookingSource::Website,
            special_requests: None,
            dietary_restrictions: None,
            overbook: None,
            cancellation: None,
            checked_in: 0,
            no_shows: 0,
            created_at: now(),
            confirmed_at: None,
            cancelled_at: None,
            updated_at: now(),
        }
    }

    fn eur(a: i64) -> Money {
        Money::new(a, Currency::parse("EUR").unwrap())
    }

    fn now() -> DateTime<Utc> {
        "2026-06-01T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn full_payment_confirms_once() {
        let b = sample_booking(eur(10_000));
        let PaymentEffect::Updated(paid) = payment_received(&b, eur(10_000), now(), "stripe").unwrap() else {
            panic!("expected an update")
        };
        assert_eq!(paid.status, BookingStatus::Confirmed);
        assert_eq!(paid.payment_status, PaymentStatus::Paid);
        assert_eq!(paid.confirmed_at, Some(now()));
        // The same event again, or an older smaller figure, changes nothing.
        assert_eq!(payment_received(&paid, eur(10_000), now(), "stripe").unwrap(), PaymentEffect::Unchanged);
        assert_eq!(payment_received(&paid, eur(4_000), now(), "stripe").unwrap(), PaymentEffect::Unchanged);
    }

    #[test]
    fn partial_payment_stays_pending() {
        let b = sample_booking(eur(10_000));
        let PaymentEffect::Updated(p) = payment_received(&b, eur(3_000), now(), "stripe").unwrap() else {
            panic!("expected an update")
        };
        assert_eq!((p.status, p.payment_status), (BookingStatus::Pending, PaymentStatus::Partial));
    }

    #[test]
    fn wrong_currency_is_refused() {
        let b = sample_booking(eur(10_000));
        let usd = Money::new(10_000, Currency::parse("USD").unwrap());
        assert!(matches!(payment_received(&b, usd, now(), "stripe"), Err(PaymentRuleError::CurrencyMismatch { .. })));
    }

    #[test]
    fn money_for_a_cancelled_booking_goes_back() {
        let mut b = sample_booking(eur(10_000));
        b.status = BookingStatus::Cancelled;
        let PaymentEffect::RefundLateCapture { booking, refund } =
            payment_received(&b, eur(10_000), now(), "stripe").unwrap()
        else {
            panic!("expected a refund")
        };
        assert_eq!(booking.status, BookingStatus::Cancelled);
        assert_eq!(booking.paid_amount, eur(10_000));
        assert_eq!(refund.amount, eur(10_000));
    }

    #[test]
    fn refunds_are_cumulative_and_capped() {
        let mut b = sample_booking(eur(10_000));
        b.paid_amount = eur(10_000);
        b.payment_status = PaymentStatus::Paid;
        let part = refund_recorded(&b, eur(2_500), now()).unwrap().unwrap();
        assert_eq!((part.refunded_amount, part.payment_status), (eur(2_500), PaymentStatus::PartiallyRefunded));
        assert_eq!(refund_recorded(&part, eur(2_500), now()).unwrap(), None, "a replayed event");
        assert_eq!(refund_recorded(&part, eur(1_000), now()).unwrap(), None, "a stale event");
        let all = refund_recorded(&part, eur(99_999), now()).unwrap().unwrap();
        assert_eq!((all.refunded_amount, all.payment_status), (eur(10_000), PaymentStatus::Refunded));
    }

    #[test]
    fn disputes_mark_paid_bookings_once() {
        let mut b = sample_booking(eur(10_000));
        assert_eq!(dispute_opened(&b, now()), None, "nothing paid, nothing to dispute");
        b.paid_amount = eur(10_000);
        b.payment_status = PaymentStatus::Paid;
        let d = dispute_opened(&b, now()).unwrap();
        assert_eq!(d.payment_status, PaymentStatus::Disputed);
        assert_eq!(dispute_opened(&d, now()), None);
    }

    #[test]
    fn only_unpaid_pending_holds_expire() {
        let b = sample_booking(eur(10_000));
        let before = now() - chrono::Duration::minutes(1);
        let after = now() + chrono::Duration::minutes(1);
        assert!(hold_expired(&b, Some(before), now()));
        assert!(!hold_expired(&b, Some(after), now()));
        assert!(!hold_expired(&b, None, now()), "desk bookings have no hold");
        let PaymentEffect::Updated(partly) = payment_received(&b, eur(1), now(), "stripe").unwrap() else {
            panic!("expected an update")
        };
        assert!(!hold_expired(&partly, Some(before), now()));
    }
}

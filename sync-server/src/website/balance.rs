//! Paying an outstanding balance from the manage page (issue 15): a booking moved to a dearer
//! date, or booked at the desk to pay later, owes `total − (paid − refunded)`. Each time there is
//! a balance to pay, one `payments` row is written for it, then one PaymentIntent for that row,
//! with an idempotency key derived from the booking's figures: pressing "Pay" twice, or coming
//! back to the page, makes the same intent while the balance is the same. The webhook settles
//! each PaymentIntent on its own row (`payments::webhooks`), and the booking is paid what its
//! rows took together.

use tourdesk_domain::entities::Booking;
use tourdesk_domain::money::Money;
use tourdesk_domain::payment;

use super::bookings::{redeem, view};
use super::types::{BookingDto, MoneyDto, PaymentDto};
use crate::db::Prepared;
use crate::payments::gateway::{IntentRequest, PaymentError};
use crate::{AppError, AppState, db, payments};

/// What a booking still owes; zero when nothing (or when it can no longer be paid: cancelled,
/// done, or a website booking still inside its checkout hold, which pays through its checkout).
pub fn balance_due(b: &Booking, hold: Option<chrono::DateTime<chrono::Utc>>) -> Money {
    let currency = b.pricing.total.currency;
    let owed = b.pricing.total.amount.saturating_sub(b.paid_amount.amount.saturating_sub(b.refunded_amount.amount));
    if !b.status.holds_seats() || payment::hold_in_force(b, hold).is_some() || owed <= 0 {
        return Money::new(0, currency);
    }
    Money::new(owed, currency)
}

/// The payment step for a balance.
pub struct BalancePayment {
    pub booking: BookingDto,
    pub amount: MoneyDto,
    pub payment: PaymentDto,
}

/// The idempotency key (and row id suffix) of a balance: the booking and the figures it is owed
/// from, so the same balance is one intent and a new balance (after a further change) another.
fn balance_key(b: &Booking) -> String {
    format!("balance-{}-{}-{}-{}", b.id, b.pricing.total.amount, b.paid_amount.amount, b.refunded_amount.amount)
}

/// Records the balance's payment row and creates (or finds again) its PaymentIntent. Refused
/// with `NOTHING_DUE` when the booking owes nothing (paid meanwhile, cancelled).
pub async fn pay_balance(state: &AppState, session: &str) -> Result<BalancePayment, AppError> {
    let (org, b, email, tour_name, key, pay_id) = {
        let mut conn = state.pool.get().await?;
        let tx = conn.transaction().await?;
        let (org, booking_id) = redeem(&tx, session, false).await?;
        let b = db::booking_by_id(&tx, &org, &booking_id).await?.ok_or_else(|| AppError::NotFound("booking".into()))?;
        let hold = db::hold_of(&tx, &org, &booking_id).await?;
        let due = balance_due(&b, hold);
        if due.amount <= 0 {
            return Err(AppError::conflict("NOTHING_DUE", "this booking has no balance to pay"));
        }
        let email = db::customer_email(&tx, &org, &b.customer_id).await?.unwrap_or_default();
        let tour_name = db::tour_name(&tx, &org, &b.tour_id).await?.unwrap_or_default();
        let key = balance_key(&b);
        let pay_id = format!("pay-{key}");
        tx.exec(
            "INSERT INTO payments (id, organization_id, booking_id, idempotency_key, amount_minor, currency)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (organization_id, idempotency_key) DO NOTHING",
            &[&pay_id, &org, &b.id, &key, &due.amount, &due.currency.as_str()],
        )
        .await?;
        tx.commit().await?;
        (org, b, email, tour_name, key, pay_id)
    };
    let due = balance_due(&b, None);
    let reference = b.reference_number.to_string();
    let description = format!("{tour_name} — {reference} (balance)");
    let intent = state
        .stripe
        .create_payment_intent(&IntentRequest {
            amount: due,
            idempotency_key: &key,
            booking_id: &b.id,
            organization_id: &org,
            reference: &reference,
            receipt_email: (!email.is_empty()).then_some(email.as_str()),
            description: &description,
            payment_id: Some(&pay_id),
        })
        .await;
    let payment = match intent {
        Ok(intent) => {
            let mut conn = state.pool.get().await?;
            let tx = db::write_in(&mut conn, &org).await?;
            tx.exec(
                "UPDATE payments SET stripe_payment_intent_id = $3, updated_at = now()
                 WHERE organization_id = $1 AND id = $2 AND stripe_payment_intent_id IS NULL",
                &[&org, &pay_id, &intent.id],
            )
            .await?;
            tx.commit().await?;
            PaymentDto::Ready {
                provider: "stripe".into(),
                payment_intent_id: intent.id,
                client_secret: intent.client_secret,
                publishable_key: state.config.stripe.publishable_key.clone(),
            }
        }
        Err(PaymentError::Transient(why)) => {
            tracing::warn!(booking = %b.id, "payment provider unavailable for a balance: {why}");
            PaymentDto::Retry {
                provider: "stripe".into(),
                retry_after_seconds: 5,
                message: "the payment provider is unavailable; try again shortly".into(),
            }
        }
        Err(e) => return Err(payments::intents::payment_error(e)),
    };
    let booking = {
        let mut conn = state.pool.get().await?;
        let tx = db::read_in(&mut conn, &org).await?;
        let v = view(&tx, &org, &b.id).await?;
        tx.commit().await?;
        v
    };
    Ok(BalancePayment { booking, amount: due.into(), payment })
}

/// The balance the managed booking owes now (zero: nothing to pay online).
pub async fn managed_balance(state: &AppState, session: &str) -> Result<Money, AppError> {
    let mut conn = state.pool.get().await?;
    let tx = db::read_only(&mut conn).await?;
    let (org, booking_id) = redeem(&tx, session, false).await?;
    let b = db::booking_by_id(&tx, &org, &booking_id).await?.ok_or_else(|| AppError::NotFound("booking".into()))?;
    let hold = db::hold_of(&tx, &org, &booking_id).await?;
    tx.commit().await?;
    Ok(balance_due(&b, hold))
}

//! PaymentIntents for bookings. The `payments` row is written in the booking's transaction; the
//! intent is created after commit with an idempotency key derived from the booking, so any
//! number of retries (a lost answer, a customer pressing "pay" twice) make one intent.

use axum::http::StatusCode;
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;
use tourdesk_domain::entities::Booking;
use tourdesk_domain::money::Money;
use tourdesk_domain::payment;
use tourdesk_domain::status::BookingStatus;

use super::gateway::{IntentRequest, PaymentError};
use crate::db::Prepared;
use crate::website::types::PaymentDto;
use crate::{AppError, AppState, db};

/// Stripe's PaymentIntent statuses that `payments.status` stores.
const INTENT_STATUSES: &[&str] = &[
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "processing",
    "requires_capture",
    "canceled",
    "succeeded",
];

/// How long a website booking is told to wait before asking for its payment again.
const RETRY_AFTER_SECONDS: u32 = 5;

pub fn payment_id(booking_id: &str) -> String {
    format!("pay-{booking_id}")
}

pub fn intent_key(booking_id: &str) -> String {
    format!("intent-{booking_id}")
}

/// Records the payment a booking expects, in the booking's transaction: what is due on it
/// (`payment::amount_due`; less than the total when a gift card paid part at checkout).
pub async fn record_intent_row(c: &impl GenericClient, org: &str, b: &Booking) -> Result<(), crate::db::DbError> {
    let due = payment::amount_due(b);
    c.exec(
        "INSERT INTO payments (id, organization_id, booking_id, idempotency_key, amount_minor, currency)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (organization_id, idempotency_key) DO NOTHING",
        &[&payment_id(&b.id), &org, &b.id, &intent_key(&b.id), &due.amount, &due.currency.as_str()],
    )
    .await?;
    Ok(())
}

pub fn payment_error(e: PaymentError) -> AppError {
    match e {
        PaymentError::Transient(why) => {
            tracing::warn!("payment provider unavailable: {why}");
            AppError::BadRequest {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "PAYMENT_PROVIDER_UNAVAILABLE",
                message: "the payment provider is unavailable; send the same request (same request_id) again shortly"
                    .into(),
                field: None,
            }
        }
        PaymentError::Refused { code, message } => AppError::BadRequest {
            status: StatusCode::BAD_GATEWAY,
            code: "PAYMENT_REFUSED",
            message: format!("the payment provider refused: {message} ({})", code.unwrap_or_default()),
            field: None,
        },
        PaymentError::Config(why) => AppError::Internal(anyhow::anyhow!("payment configuration: {why}")),
    }
}

/// The PaymentIntent of a booking, created now if it does not exist yet. `None` when the
/// booking has nothing to pay.
pub async fn ensure_intent(
    state: &AppState,
    org: &str,
    booking_id: &str,
    email: &str,
) -> Result<Option<PaymentDto>, AppError> {
    let (booking, tour_name, amount) = {
        let mut conn = state.pool.get().await?;
        let tx = db::read_in(&mut conn, org).await?;
        let b = db::booking_by_id(&tx, org, booking_id).await?.ok_or_else(|| AppError::NotFound("booking".into()))?;
        // The amount the row recorded when the booking was made: the same request to Stripe
        // every time, however much has been paid since.
        let amount: Option<i64> = match tx
            .row_opt(
                "SELECT amount_minor FROM payments WHERE organization_id = $1 AND idempotency_key = $2",
                &[&org, &intent_key(booking_id)],
            )
            .await?
        {
            Some(row) => Some(db::column(&row, 0)?),
            None => None,
        };
        let name = db::tour_name(&tx, org, &b.tour_id).await?.unwrap_or_default();
        tx.commit().await?;
        let Some(amount) = amount else {
            return Ok(None);
        };
        let amount = Money::new(amount, b.pricing.total.currency);
        (b, name, amount)
    };
    create_intent(state, org, &booking, amount, &tour_name, email).await.map(Some)
}

/// Creates (or, under the same idempotency key, finds again) the booking's PaymentIntent and
/// records its id on the payment row the booking's transaction wrote. Stripe being unreachable
/// is not an error here: the booking exists, so the answer is [`PaymentDto::Retry`].
pub async fn create_intent(
    state: &AppState,
    org: &str,
    booking: &Booking,
    amount: Money,
    tour_name: &str,
    email: &str,
) -> Result<PaymentDto, AppError> {
    let booking_id = booking.id.as_str();
    if booking.status == BookingStatus::Cancelled {
        return Err(AppError::conflict("BOOKING_CANCELLED", "this booking was cancelled (its hold may have expired)"));
    }
    let key = intent_key(booking_id);
    let reference = booking.reference_number.to_string();
    let description = format!("{tour_name} — {reference}");
    let intent = state
        .stripe
        .create_payment_intent(&IntentRequest {
            amount,
            idempotency_key: &key,
            booking_id,
            organization_id: org,
            reference: &reference,
            receipt_email: Some(email),
            description: &description,
            payment_id: None,
        })
        .await;
    let intent = match intent {
        Ok(intent) => intent,
        // The booking is made and holds its seats: the customer is told so, and to try the
        // payment again (the same request resumes here, with the same idempotency key).
        Err(PaymentError::Transient(why)) => {
            tracing::warn!(booking = booking_id, "payment provider unavailable: {why}");
            return Ok(PaymentDto::Retry {
                provider: "stripe".into(),
                retry_after_seconds: RETRY_AFTER_SECONDS,
                message: "the payment provider is unavailable; the seats are held: send the same request \
                          (same request_id) again shortly to pay"
                    .into(),
            });
        }
        Err(e) => return Err(payment_error(e)),
    };
    let status = INTENT_STATUSES.iter().find(|s| **s == intent.status).copied();
    let mut conn = state.pool.get().await?;
    let tx = conn.transaction().await?;
    let params: [&(dyn ToSql + Sync); 4] = [&org, &key, &intent.id, &status];
    // Not pipelined with the update: a statement-cache miss could send the update first, and
    // without its tenant it would silently match no row.
    db::set_tenant(&tx, org).await?;
    // The webhook may already have moved the status on; only fill in what is missing.
    tx.exec(
        "UPDATE payments SET stripe_payment_intent_id = $3,
                status = CASE WHEN status = 'requires_payment_method' THEN coalesce($4, status) ELSE status END,
                updated_at = now()
         WHERE organization_id = $1 AND idempotency_key = $2
           AND (stripe_payment_intent_id IS NULL OR stripe_payment_intent_id = $3)",
        &params,
    )
    .await?;
    tx.commit().await?;
    Ok(PaymentDto::Ready {
        provider: "stripe".into(),
        payment_intent_id: intent.id,
        client_secret: intent.client_secret,
        publishable_key: state.config.stripe.publishable_key.clone(),
    })
}

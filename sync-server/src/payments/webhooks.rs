//! Stripe webhook events: verified, stored, and applied exactly once.
//!
//! Stripe delivers at least once and in any order. The event id is inserted into
//! `stripe_events` in the same transaction that applies it, so a second delivery (even a
//! concurrent one, which waits on the primary key) finds it and does nothing; a failure rolls
//! the insert back with everything else and Stripe's retry applies it later. What an event does
//! to a booking is the domain's (`tourdesk_domain::payment`), fed cumulative amounts, so stale
//! or reordered events change nothing.

use axum::http::StatusCode;
use chrono::Utc;
use deadpool_postgres::Transaction;
use tourdesk_domain::entities::Booking;
use tourdesk_domain::payment::{self, PaymentEffect};

use super::gateway::{EventKind, WebhookError, WebhookEvent};
use crate::db::Prepared;
use crate::db::WriteTx;
use crate::{AppError, AppState, db};

const ACTOR: &str = "stripe";

fn signature_error(e: WebhookError) -> AppError {
    let (code, message) = match e {
        WebhookError::BadSignature(_) => ("BAD_SIGNATURE", "the Stripe-Signature header does not verify".to_string()),
        WebhookError::Stale => ("STALE_SIGNATURE", "the signature timestamp is outside the tolerance".to_string()),
        WebhookError::Malformed(why) => ("MALFORMED_EVENT", format!("malformed event: {why}")),
    };
    AppError::BadRequest { status: StatusCode::BAD_REQUEST, code, message, field: Some("Stripe-Signature".into()) }
}

/// Where an event's booking lives: found by the PaymentIntent id we stored, else by the
/// metadata we put on the intent (the intent id is written after commit and may be missing).
struct Target {
    org: String,
    booking_id: String,
}

async fn target(
    tx: &Transaction<'_>,
    intent_id: Option<&str>,
    metadata: Option<&std::collections::HashMap<String, String>>,
) -> anyhow::Result<Option<Target>> {
    // No tenant yet: the intent's organization is found through V10's narrow lookup.
    if let Some(intent) = intent_id
        && let Some((org, booking_id)) = db::payment_of_intent(tx, intent).await?
    {
        return Ok(Some(Target { org, booking_id }));
    }
    let Some(md) = metadata else { return Ok(None) };
    let (Some(org), Some(booking_id)) = (md.get("organization_id"), md.get("booking_id")) else { return Ok(None) };
    // The metadata names the tenant; its payment row must be there to be believed.
    db::set_tenant(tx, org).await?;
    let known = tx
        .row_opt(
            "SELECT 1 FROM payments WHERE organization_id = $1 AND booking_id = $2",
            &[&org.as_str(), &booking_id.as_str()],
        )
        .await?;
    Ok(known.map(|_| Target { org: org.clone(), booking_id: booking_id.clone() }))
}

/// Verifies, records and applies one delivery. `Ok` means "Stripe may stop sending it".
pub async fn handle(state: &AppState, payload: &str, signature: &str) -> Result<(), AppError> {
    let event = state.stripe.verify_event(payload, signature).map_err(signature_error)?;
    let refunds_for = record_and_apply(state, &event).await?;
    if let Some(org) = refunds_for {
        super::send_queued_refunds(state, &org).await;
    }
    Ok(())
}

/// One transaction: the event's id and its effects commit together or not at all. The
/// connection is released before any refund is sent.
async fn record_and_apply(state: &AppState, event: &WebhookEvent) -> Result<Option<String>, AppError> {
    let mut conn = state.pool.get().await?;
    let tx = conn.transaction().await?;
    let fresh = tx
        .exec(
            "INSERT INTO stripe_events (id, type, livemode, stripe_created_at, payload) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO NOTHING",
            &[&event.id, &event.event_type, &event.livemode, &event.created, &event.payload],
        )
        .await?;
    if fresh == 0 {
        tracing::info!(event = %event.id, "duplicate Stripe delivery ignored");
        tx.commit().await?;
        return Ok(None);
    }
    let Some(t) = target_of(&tx, event).await? else {
        tx.exec("UPDATE stripe_events SET processed_at = now() WHERE id = $1", &[&event.id]).await?;
        tx.commit().await?;
        return Ok(None);
    };
    let w = WriteTx::new(tx, &t.org).await?;
    let refunds_for = apply(&w, event, t).await?;
    w.exec("UPDATE stripe_events SET processed_at = now() WHERE id = $1", &[&event.id]).await?;
    w.commit().await?;
    Ok(refunds_for)
}

/// The booking an event is about, when it is one of ours.
async fn target_of(tx: &Transaction<'_>, event: &WebhookEvent) -> anyhow::Result<Option<Target>> {
    let (intent, metadata) = match &event.kind {
        EventKind::PaymentSucceeded { intent_id, metadata, .. }
        | EventKind::PaymentFailed { intent_id, metadata, .. } => (Some(intent_id.as_str()), Some(metadata)),
        EventKind::ChargeRefunded { intent_id, .. } | EventKind::DisputeCreated { intent_id, .. } => {
            (intent_id.as_deref(), None)
        }
        EventKind::Other => return Ok(None),
    };
    let found = target(tx, intent, metadata).await?;
    if found.is_none() {
        // Not ours (another integration on the same account) or not yet known: recorded, done.
        tracing::warn!(event = %event.id, kind = %event.event_type, "Stripe event for no known booking");
    }
    Ok(found)
}

/// Applies the event to its booking; returns the organization with a refund to send, if one
/// was queued.
async fn apply(tx: &WriteTx<'_>, event: &WebhookEvent, t: Target) -> Result<Option<String>, AppError> {
    let b = db::booking_for_update(tx.tx(), &t.org, &t.booking_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("payment row without booking {}", t.booking_id))?;
    let now = Utc::now();
    let mut refund_queued = false;
    match &event.kind {
        EventKind::PaymentSucceeded { intent_id, amount_received, currency, latest_charge, .. } => {
            tx.exec(
                "UPDATE payments SET status = 'succeeded', amount_received_minor = greatest(amount_received_minor, $3),
                        stripe_charge_id = coalesce($4, stripe_charge_id), succeeded_at = coalesce(succeeded_at, now()),
                        stripe_payment_intent_id = coalesce(stripe_payment_intent_id, $5), updated_at = now()
                 WHERE organization_id = $1 AND booking_id = $2",
                &[&t.org, &t.booking_id, amount_received, latest_charge, intent_id],
            )
            .await?;
            let received = db::money(*amount_received, currency)?;
            match payment::payment_received(&b, received, now, ACTOR).map_err(|e| anyhow::anyhow!(e))? {
                PaymentEffect::Unchanged => {}
                PaymentEffect::Updated(next) => {
                    save(tx, "booking.payment_received", &b, &next).await?;
                    if next.confirmed_at.is_some() && b.confirmed_at.is_none() {
                        queue_confirmation(tx, &t.org, &next).await?;
                    }
                }
                PaymentEffect::RefundLateCapture { booking, refund } => {
                    save(tx, "booking.late_payment_refunded", &b, &booking).await?;
                    db::queue_refund_as(tx, &t.org, &format!("late-{}", booking.id), &refund).await?;
                    refund_queued = true;
                }
            }
        }
        EventKind::PaymentFailed { message, .. } => {
            tx.exec(
                "UPDATE payments SET last_error = $3, updated_at = now() WHERE organization_id = $1 AND booking_id = $2",
                &[&t.org, &t.booking_id, message],
            )
            .await?;
            let detail = serde_json::json!({ "event": event.id, "message": message });
            db::audit(tx, ACTOR, "payment.failed", "booking", &t.booking_id, &detail);
        }
        EventKind::ChargeRefunded { charge_id, amount_refunded, currency, refunds, .. } => {
            for r in refunds {
                let status = match r.status.as_str() {
                    "succeeded" | "pending" | "failed" | "canceled" | "requires_action" => r.status.as_str(),
                    _ => "pending",
                };
                let updated = tx
                    .exec(
                        "UPDATE refunds SET stripe_refund_id = $2, status = $3, updated_at = now()
                         WHERE organization_id = $1 AND (stripe_refund_id = $2 OR id = $4)",
                        &[&t.org, &r.id, &status, &r.metadata.get("refund_id").cloned().unwrap_or_default()],
                    )
                    .await?;
                if updated == 0 && r.amount > 0 {
                    // Made in Stripe's dashboard: recorded so the booking's refunds add up.
                    tx.exec(
                        "INSERT INTO refunds (id, organization_id, booking_id, stripe_refund_id, amount_minor, currency,
                                              reason, requested_by, status, processed_at)
                         VALUES ($1, $2, $3, $4, $5, $6, 'refunded in Stripe', 'stripe', $7, now())
                         ON CONFLICT (id) DO NOTHING",
                        &[&format!("stripe-{}", r.id), &t.org, &t.booking_id, &r.id, &r.amount, currency, &status],
                    )
                    .await?;
                }
            }
            tx.exec(
                "UPDATE payments SET stripe_charge_id = coalesce(stripe_charge_id, $3), updated_at = now()
                 WHERE organization_id = $1 AND booking_id = $2",
                &[&t.org, &t.booking_id, charge_id],
            )
            .await?;
            let total = db::money(*amount_refunded, currency)?;
            if let Some(next) = payment::refund_recorded(&b, total, now).map_err(|e| anyhow::anyhow!(e))? {
                save(tx, "booking.refunded", &b, &next).await?;
            }
        }
        EventKind::DisputeCreated { dispute_id, status, reason, .. } => {
            tx.exec(
                "UPDATE payments SET stripe_dispute_id = $3, dispute_status = $4, disputed_at = now(), updated_at = now()
                 WHERE organization_id = $1 AND booking_id = $2",
                &[&t.org, &t.booking_id, dispute_id, status],
            )
            .await?;
            if let Some(next) = payment::dispute_opened(&b, now) {
                save(tx, "booking.disputed", &b, &next).await?;
            }
            let detail = serde_json::json!({ "dispute": dispute_id, "status": status, "reason": reason });
            db::audit(tx, ACTOR, "payment.disputed", "booking", &t.booking_id, &detail);
        }
        EventKind::Other => {}
    }
    Ok(refund_queued.then_some(t.org))
}

/// The confirmation e-mail, queued in the transaction that confirms: sent iff the booking is.
async fn queue_confirmation(tx: &WriteTx<'_>, org: &str, b: &Booking) -> anyhow::Result<()> {
    let tx = tx.tx();
    let Some(to) = db::customer_email(tx, org, &b.customer_id).await? else { return Ok(()) };
    let dep = db::departure(tx, org, &b.departure_id).await?;
    let tour = db::tour_name(tx, org, &b.tour_id).await?.unwrap_or_default();
    let when =
        dep.map(|d| format!("{} {} ({})", d.local_date, d.local_time.format("%H:%M"), d.timezone)).unwrap_or_default();
    let reference = b.reference_number.to_string();
    let email = crate::mail::Email {
        to,
        subject: format!("Booking confirmed: {tour} — {reference}"),
        text: format!(
            "Thank you! Your booking {reference} is confirmed.\n\n{tour}\n{when}\nParticipants: {}\nPaid: {}\n",
            b.participant_count(),
            b.paid_amount.display_with_symbol()
        ),
    };
    crate::mail::queue(tx, org, &b.customer_id, Some(&b.id), "booking_confirmation", &email).await?;
    Ok(())
}

async fn save(w: &WriteTx<'_>, action: &str, before: &Booking, after: &Booking) -> anyhow::Result<()> {
    db::put_booking(w, after).await?;
    let (before, after_row) = (serde_json::to_value(before)?, serde_json::to_value(after)?);
    db::audit_change(w, ACTOR, action, "booking", &after.id, Some(&before), &after_row);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_errors_are_400_with_the_header_named() {
        for e in [WebhookError::BadSignature("x".into()), WebhookError::Stale, WebhookError::Malformed("y".into())] {
            match signature_error(e) {
                AppError::BadRequest { status, field, .. } => {
                    assert_eq!(status, StatusCode::BAD_REQUEST);
                    assert_eq!(field.as_deref(), Some("Stripe-Signature"));
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

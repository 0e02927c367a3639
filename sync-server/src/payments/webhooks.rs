//! Stripe webhook events: verified, stored, and applied exactly once.
//!
//! Stripe delivers at least once and in any order. The event id is inserted into
//! `stripe_events` in the same transaction that applies it, so a second delivery (even a
//! concurrent one, which waits on the primary key) finds it and does nothing; a failure rolls
//! the insert back with everything else and Stripe's retry applies it later. What an event does
//! to a booking is the domain's (`tourdesk_domain::payment`): the event is joined into its
//! payment's stored processor state (cumulative maxima and flags) and the booking is derived
//! from the result, so stale, repeated or reordered events end in the same booking. An event
//! that cannot be applied is kept with its reason (`issues`) and still answered 2xx.

use axum::http::StatusCode;
use chrono::Utc;
use deadpool_postgres::Transaction;
use tourdesk_domain::entities::Booking;
use tourdesk_domain::ledger::{EntryKind, LedgerEntry};
use tourdesk_domain::payment::{self, CannotApply, FailureAt, PaymentEffect, ProcessorEvent, ProcessorState};

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
    // The metadata names the tenant (the intent id is written after its booking commits). The
    // organization must be one of ours; the booking and its payment are checked under its lock
    // by `apply`, which applies nothing without both and records the event for the
    // organization's office staff instead (a booking gone, a payment it does not know).
    db::set_tenant(tx, org).await?;
    let known = tx.row_opt("SELECT 1 FROM organizations WHERE id = $1", &[&org.as_str()]).await?;
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
///
/// An event that cannot be applied (about no payment of ours, another currency than the
/// booking's, a booking gone, or anything else a redelivery would fail on again) is recorded
/// with its reason and answered 2xx, so Stripe stops sending it; only a transient database
/// failure is an error (503, and Stripe's retry applies it later).
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
    let found = if matches!(event.kind, EventKind::Other) {
        Ok(None)
    } else {
        target_of(&tx, event).await.map_err(AppError::from)
    };
    let t = match found {
        Ok(Some(t)) => t,
        Ok(None) => {
            // No organization: an operator's row, not a tenant's (see V11).
            let issue = (!matches!(event.kind, EventKind::Other)).then(|| CannotApply::UnknownPayment.code());
            mark_processed(&tx, &event.id, issue).await?;
            tx.commit().await?;
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let w = WriteTx::new(tx, &t.org).await?;
    let mark = w.savepoint().await?;
    let (refunds_for, rejected) = match apply(&w, event, &t).await {
        Ok(Applied::Done { refund_queued }) => (refund_queued.then(|| t.org.clone()), None),
        Ok(Applied::Rejected { booking, why }) => {
            w.rollback_to(mark).await?;
            (None, Some((booking, why)))
        }
        Err(e) => match e {
            AppError::Unavailable(why) => return Err(AppError::Unavailable(why)),
            other => {
                // Deterministic: a redelivery would fail the same way. Kept for a person; the
                // full error goes to the log only.
                tracing::error!(event = %event.id, kind = %event.event_type, "Stripe event not applied: {other:?}");
                w.rollback_to(mark).await?;
                let why = CannotApply::Unprocessable { detail: "the server could not apply it (see its log)".into() };
                (None, Some((None, why)))
            }
        },
    };
    let issue = match &rejected {
        Some((booking, why)) => {
            super::issues::record(&w, event, booking.as_deref(), why).await?;
            Some(why.code())
        }
        None => None,
    };
    mark_processed(w.tx(), &event.id, issue).await?;
    w.commit().await?;
    Ok(refunds_for)
}

/// Applies a card payment's event to `booking_id` inside `tx`, as a delivery would after its
/// verification: the demo data's card money and refunds go through the same fold, ledger
/// entries and booking figures as Stripe's. Refuses an event the payment rules refuse.
pub(crate) async fn apply_seeded(tx: &WriteTx<'_>, event: &WebhookEvent, booking_id: &str) -> anyhow::Result<()> {
    let t = Target { org: tx.org().to_string(), booking_id: booking_id.to_string() };
    match apply(tx, event, &t).await.map_err(|e| anyhow::anyhow!("seeded Stripe event {}: {e:?}", event.id))? {
        Applied::Done { .. } => Ok(()),
        Applied::Rejected { why, .. } => {
            Err(anyhow::anyhow!("seeded Stripe event {} refused: {}", event.id, why.code()))
        }
    }
}

async fn mark_processed(tx: &Transaction<'_>, event_id: &str, issue: Option<&str>) -> Result<(), AppError> {
    tx.exec("UPDATE stripe_events SET processed_at = now(), issue = $2 WHERE id = $1", &[&event_id, &issue]).await?;
    Ok(())
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

/// What applying an event came to.
enum Applied {
    /// Applied (or already reflected); a refund was queued and is to be sent after commit.
    Done { refund_queued: bool },
    /// Rejected by the payment rules: nothing of it is to be kept but the reason.
    Rejected { booking: Option<Box<Booking>>, why: CannotApply },
}

/// What the processor reported, as the domain's payment fold takes it.
fn processor_event(kind: &EventKind) -> Option<ProcessorEvent> {
    Some(match kind {
        EventKind::PaymentSucceeded { amount_received, currency, .. } => {
            ProcessorEvent::Succeeded { received: *amount_received, currency: currency.clone() }
        }
        EventKind::PaymentFailed { .. } => ProcessorEvent::Failed,
        EventKind::ChargeRefunded { amount_refunded, amount_captured, currency, .. } => ProcessorEvent::Refunded {
            refunded: *amount_refunded,
            captured: *amount_captured,
            currency: currency.clone(),
        },
        EventKind::DisputeCreated { amount, currency, .. } => {
            ProcessorEvent::Disputed { amount: *amount, currency: currency.clone() }
        }
        EventKind::Other => return None,
    })
}

/// The payment as stored, locked for this event: its processor state (V11) and the failed
/// attempt whose message it shows (V28), if any.
struct Stored {
    /// The payment row (one per PaymentIntent) the event settles.
    id: String,
    state: ProcessorState,
    failure_shown: Option<(chrono::DateTime<Utc>, String)>,
}

/// The PaymentIntent an event names and the payment row our metadata on it names, if any.
fn intent_and_payment(kind: &EventKind) -> (Option<&str>, Option<&str>) {
    match kind {
        EventKind::PaymentSucceeded { intent_id, metadata, .. }
        | EventKind::PaymentFailed { intent_id, metadata, .. } => {
            (Some(intent_id.as_str()), metadata.get("payment_id").map(String::as_str))
        }
        EventKind::ChargeRefunded { intent_id, .. } | EventKind::DisputeCreated { intent_id, .. } => {
            (intent_id.as_deref(), None)
        }
        EventKind::Other => (None, None),
    }
}

/// The payment row an event is about, locked: the one holding its PaymentIntent id, else the one
/// the intent's metadata names (the intent id is written after commit and may be missing), else
/// the booking's own payment (the intent made with the booking, whose metadata names no row).
async fn processor_state(tx: &WriteTx<'_>, t: &Target, kind: &EventKind) -> Result<Option<Stored>, AppError> {
    let (intent, payment) = intent_and_payment(kind);
    let row = tx
        .row_opt(
            "SELECT id, amount_received_minor, amount_refunded_minor, amount_disputed_minor,
                    stripe_dispute_id IS NOT NULL, last_error IS NOT NULL OR last_error_event_id IS NOT NULL,
                    last_error_event_at, last_error_event_id
             FROM payments WHERE organization_id = $1 AND booking_id = $2
               AND (stripe_payment_intent_id = $3::text OR id = $4::text OR idempotency_key = $5)
             ORDER BY coalesce(stripe_payment_intent_id = $3::text, false) DESC, coalesce(id = $4::text, false) DESC, id
             LIMIT 1 FOR UPDATE",
            &[&t.org, &t.booking_id, &intent, &payment, &super::intents::intent_key(&t.booking_id)],
        )
        .await?;
    let Some(r) = row else { return Ok(None) };
    let state = ProcessorState {
        captured: r.try_get(1)?,
        refunded: r.try_get(2)?,
        disputed: r.try_get(3)?,
        dispute_opened: r.try_get(4)?,
        failed: r.try_get(5)?,
    };
    let at: Option<chrono::DateTime<Utc>> = r.try_get(6)?;
    let id: Option<String> = r.try_get(7)?;
    Ok(Some(Stored { id: r.try_get(0)?, state, failure_shown: at.zip(id) }))
}

/// The booking's money at the processor: `this` payment's state (just joined) added to the
/// booking's other payments as stored. Each payment is its own PaymentIntent; the booking was
/// paid what they took together.
async fn booking_state(
    tx: &WriteTx<'_>,
    t: &Target,
    pay_id: &str,
    this: &ProcessorState,
) -> Result<ProcessorState, AppError> {
    let rows = tx
        .rows(
            "SELECT amount_received_minor, amount_refunded_minor, amount_disputed_minor, stripe_dispute_id IS NOT NULL
             FROM payments WHERE organization_id = $1 AND booking_id = $2 AND id <> $3",
            &[&t.org, &t.booking_id, &pay_id],
        )
        .await?;
    let mut sum = ProcessorState {
        captured: this.paid(),
        refunded: this.refunded(),
        disputed: this.disputed,
        dispute_opened: this.dispute_opened,
        failed: this.failed,
    };
    for r in &rows {
        let other = ProcessorState {
            captured: r.try_get(0)?,
            refunded: r.try_get(1)?,
            disputed: r.try_get(2)?,
            dispute_opened: r.try_get(3)?,
            failed: false,
        };
        sum.captured = sum.captured.saturating_add(other.paid());
        sum.refunded = sum.refunded.saturating_add(other.refunded());
        sum.disputed = sum.disputed.saturating_add(other.disputed);
        sum.dispute_opened |= other.dispute_opened;
    }
    Ok(sum)
}

/// Joins the event into its payment's state and brings the booking in line with the result
/// (`payment::reconcile`): the same booking whatever order the payment's events arrive in.
async fn apply(tx: &WriteTx<'_>, event: &WebhookEvent, t: &Target) -> Result<Applied, AppError> {
    let Some(pe) = processor_event(&event.kind) else { return Ok(Applied::Done { refund_queued: false }) };
    // Lock order: the booking, then its payment, then (at commit) the change counter.
    let Some(b) = db::booking_for_update(tx.tx(), &t.org, &t.booking_id).await? else {
        return Ok(Applied::Rejected { booking: None, why: CannotApply::BookingMissing });
    };
    let Some(Stored { id: pay_id, state: before, failure_shown }) = processor_state(tx, t, &event.kind).await? else {
        return Ok(Applied::Rejected { booking: Some(Box::new(b)), why: CannotApply::UnknownPayment });
    };
    let after = match before.record(b.pricing.total.currency, &pe) {
        Ok(s) => s,
        Err(why) => return Ok(Applied::Rejected { booking: Some(Box::new(b)), why }),
    };
    let currency = b.pricing.total.currency.as_str().to_string();
    let mut failure: Option<&str> = None;
    match &event.kind {
        EventKind::PaymentSucceeded { intent_id, latest_charge, .. } => {
            tx.exec(
                "UPDATE payments SET stripe_charge_id = coalesce(stripe_charge_id, $3),
                        stripe_payment_intent_id = coalesce(stripe_payment_intent_id, $4)
                 WHERE organization_id = $1 AND id = $2",
                &[&t.org, &pay_id, latest_charge, intent_id],
            )
            .await?;
        }
        EventKind::PaymentFailed { message, .. } => {
            // The latest failure by Stripe's clock is the one shown, whatever order they arrive in.
            let this = FailureAt { at: event.created, event_id: &event.id };
            let shown = failure_shown.as_ref().map(|(at, id)| FailureAt { at: *at, event_id: id });
            if payment::failure_supersedes(this, shown) {
                failure = message.as_deref().or(Some("the payment attempt failed"));
                tx.exec(
                    "UPDATE payments SET last_error_event_at = $3, last_error_event_id = $4
                     WHERE organization_id = $1 AND id = $2",
                    &[&t.org, &pay_id, &event.created, &event.id],
                )
                .await?;
            }
            let detail = serde_json::json!({ "event": event.id, "message": message });
            db::audit(tx, ACTOR, "payment.failed", "booking", &t.booking_id, &detail);
            // The customer is asked to pay with a link, again with backoff, by the chase job.
            crate::jobs::payment_chase::start(tx, &t.booking_id, event.created, &event.id).await?;
        }
        EventKind::ChargeRefunded { charge_id, refunds, .. } => {
            for r in refunds {
                let status = match r.status.as_str() {
                    "succeeded" | "pending" | "failed" | "canceled" | "requires_action" => r.status.as_str(),
                    _ => "pending",
                };
                let ours = refund_rows(tx, &t.org, &r.id, r.metadata.get("refund_id").map(String::as_str)).await?;
                for (id, current, in_parts) in &ours {
                    // A refund sent in parts (one per PaymentIntent, `jobs::refunds`): this
                    // PaymentIntent's part moves on, and the refund follows its parts.
                    if *in_parts && settle_part(tx, id, &pay_id, &r.id, status).await? {
                        crate::jobs::refunds::settle_from_parts(tx, id, current).await?;
                        continue;
                    }
                    // An older event delivered late does not take a settled refund back.
                    let status = payment::refund_status_after(current, status);
                    tx.exec(
                        "UPDATE refunds SET stripe_refund_id = $3, status = $4, updated_at = now()
                         WHERE organization_id = $1 AND id = $2",
                        &[&t.org, id, &r.id, &status],
                    )
                    .await?;
                    // Announced once per refund: a repeated event finds it announced already.
                    crate::notices::refund_on_its_way(tx, id).await?;
                }
                if ours.is_empty() && r.amount > 0 {
                    // Made in Stripe's dashboard: recorded, on the PaymentIntent it came from, so
                    // the booking's refunds add up.
                    tx.exec(
                        "INSERT INTO refunds (id, organization_id, booking_id, payment_id, stripe_refund_id, amount_minor,
                                              currency, reason, requested_by, status, processed_at)
                         VALUES ($1, $2, $3, $8, $4, $5, $6, 'refunded in Stripe', 'stripe', $7, now())
                         ON CONFLICT (id) DO NOTHING",
                        &[
                            &format!("stripe-{}", r.id),
                            &t.org,
                            &t.booking_id,
                            &r.id,
                            &r.amount,
                            &currency,
                            &status,
                            &pay_id,
                        ],
                    )
                    .await?;
                    crate::notices::refund_on_its_way(tx, &format!("stripe-{}", r.id)).await?;
                }
            }
            tx.exec(
                "UPDATE payments SET stripe_charge_id = coalesce(stripe_charge_id, $3)
                 WHERE organization_id = $1 AND id = $2",
                &[&t.org, &pay_id, charge_id],
            )
            .await?;
        }
        EventKind::DisputeCreated { dispute_id, status, reason, .. } => {
            tx.exec(
                "UPDATE payments SET stripe_dispute_id = $3, dispute_status = $4, disputed_at = coalesce(disputed_at, now())
                 WHERE organization_id = $1 AND id = $2",
                &[&t.org, &pay_id, dispute_id, status],
            )
            .await?;
            let detail = serde_json::json!({ "dispute": dispute_id, "status": status, "reason": reason });
            db::audit(tx, ACTOR, "payment.disputed", "booking", &t.booking_id, &detail);
        }
        EventKind::Other => {}
    }
    if after != before || failure.is_some() {
        tx.exec(
            "UPDATE payments SET amount_received_minor = $3, amount_refunded_minor = $4, amount_disputed_minor = $5,
                    status = CASE WHEN $6 THEN 'succeeded' ELSE status END,
                    succeeded_at = CASE WHEN $6 THEN coalesce(succeeded_at, now()) ELSE succeeded_at END,
                    last_error = CASE WHEN $7 THEN coalesce($8, last_error) ELSE NULL END,
                    updated_at = now()
             WHERE organization_id = $1 AND id = $2",
            &[
                &t.org,
                &pay_id,
                &after.captured,
                &after.refunded,
                &after.disputed,
                &(after.paid() > 0),
                &after.failure_stands(),
                &failure,
            ],
        )
        .await?;
    }
    let action = match &event.kind {
        EventKind::ChargeRefunded { .. } => "booking.refunded",
        EventKind::DisputeCreated { .. } => "booking.disputed",
        _ => "booking.payment_received",
    };
    let now = Utc::now();
    if after != before {
        keep_in_ledger(tx, &b, &pay_id, &after, now).await?;
    }
    let paid_in_all = booking_state(tx, t, &pay_id, &after).await?;
    // Money staff took at the desk adds to Stripe's; it does not hide behind it.
    let recorded: i64 = db::ledger_of_booking(tx.tx(), &t.org, &b.id)
        .await?
        .iter()
        .filter(|e| e.kind.is_payment() && e.kind != EntryKind::CardPayment && e.currency == b.pricing.total.currency)
        .map(|e| e.amount)
        .sum();
    let mut refund_queued = false;
    match payment::reconcile_with(&b, &paid_in_all, recorded, now, ACTOR) {
        PaymentEffect::Unchanged => {}
        PaymentEffect::Updated(next) => {
            save(tx, action, &b, &next).await?;
            if next.confirmed_at.is_some() && b.confirmed_at.is_none() {
                crate::notices::booking_confirmed(tx, &next).await?;
                crate::analytics::booking_completed(tx.tx(), &t.org, &next).await?;
            }
        }
        PaymentEffect::RefundLateCapture { booking, refund } => {
            save(tx, "booking.late_payment_refunded", &b, &booking).await?;
            db::queue_refund_as(tx, &t.org, &format!("late-{}", booking.id), &refund).await?;
            refund_queued = true;
        }
    }
    Ok(Applied::Done { refund_queued })
}

/// Our refunds a Stripe refund is about, locked, with their stored status and whether they were
/// sent in parts: the one holding its Stripe id (on the refund, or on one of its parts), else the
/// one our metadata on it names. Locked before their parts, as the refunds job locks them.
async fn refund_rows(
    tx: &WriteTx<'_>,
    org: &str,
    stripe_refund_id: &str,
    named: Option<&str>,
) -> Result<Vec<(String, String, bool)>, AppError> {
    let rows = tx
        .rows(
            "SELECT r.id, r.status,
                    EXISTS (SELECT FROM refund_parts x WHERE x.organization_id = $1 AND x.refund_id = r.id)
             FROM refunds r
             WHERE r.organization_id = $1
               AND (r.stripe_refund_id = $2 OR r.id = $3::text
                    OR r.id IN (SELECT refund_id FROM refund_parts WHERE organization_id = $1 AND stripe_refund_id = $2))
             ORDER BY r.id FOR UPDATE OF r",
            &[&org, &stripe_refund_id, &named],
        )
        .await?;
    rows.iter().map(|r| Ok((db::column(r, 0)?, db::column(r, 1)?, db::column(r, 2)?))).collect()
}

/// Moves the part of refund `refund_id` that Stripe refund `stripe_refund_id` is to `reported`
/// (never back: `refund_status_after`): the part holding that Stripe id, else the refund's part on
/// this PaymentIntent (`payment_id`) not answered yet (the webhook can beat the job's commit of
/// Stripe's answer). False when the refund has no part for it.
async fn settle_part(
    tx: &WriteTx<'_>,
    refund_id: &str,
    payment_id: &str,
    stripe_refund_id: &str,
    reported: &str,
) -> Result<bool, AppError> {
    let row = tx
        .row_opt(
            "SELECT id, status FROM refund_parts
             WHERE organization_id = $1 AND refund_id = $2
               AND (stripe_refund_id = $3
                    OR (stripe_refund_id IS NULL AND payment_id = $4 AND status NOT IN ('refused', 'failed', 'canceled')))
             ORDER BY (stripe_refund_id = $3) IS TRUE DESC, seq
             LIMIT 1 FOR UPDATE",
            &[&tx.org(), &refund_id, &stripe_refund_id, &payment_id],
        )
        .await?;
    let Some(row) = row else { return Ok(false) };
    let (id, current): (String, String) = (db::column(&row, 0)?, db::column(&row, 1)?);
    // A part still queued here was accepted by Stripe: the job's answer is on its way.
    let status = payment::refund_status_after(&current, reported);
    tx.exec(
        "UPDATE refund_parts SET stripe_refund_id = $3, status = $4, updated_at = now()
         WHERE organization_id = $1 AND id = $2",
        &[&tx.org(), &id, &stripe_refund_id, &status],
    )
    .await?;
    Ok(true)
}

/// Stripe's figures for one card payment as two ledger entries, the money captured and the money
/// refunded, each the processor's cumulative figure for that PaymentIntent, so the ledger shows
/// the card money beside what staff recorded and sums the booking's payments. The booking's own
/// payment keeps the ids `card-{booking}` / `card-refund-{booking}`; a later one (a balance paid
/// online) is `card-{payment}` / `card-refund-{payment}`.
async fn keep_in_ledger(
    tx: &WriteTx<'_>,
    b: &Booking,
    pay_id: &str,
    s: &ProcessorState,
    at: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    let of = if pay_id == super::intents::payment_id(&b.id) { b.id.as_str() } else { pay_id };
    for (id, kind, amount) in [
        (format!("card-{of}"), EntryKind::CardPayment, s.paid()),
        (format!("card-refund-{of}"), EntryKind::Refund, s.refunded()),
    ] {
        let entry = LedgerEntry {
            id,
            organization_id: b.organization_id.clone(),
            booking_id: b.id.clone(),
            departure_id: b.departure_id.clone(),
            kind,
            amount,
            currency: b.pricing.total.currency,
            note: None,
            reference: None,
            recorded_by: ACTOR.to_string(),
            recorded_at: at,
            method: None,
        };
        db::keep_stripe_entry(tx, &entry).await?;
    }
    Ok(())
}

async fn save(w: &WriteTx<'_>, action: &str, before: &Booking, after: &Booking) -> anyhow::Result<()> {
    db::put_booking(w, after, None, false).await?;
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

//! Seat holds of unpaid bookings. A booking made on the public site takes its seats at once (so
//! two customers cannot both pay for the last one) but keeps them only until its hold expires;
//! this job then cancels it through `cancel_booking.v1` — the same rule and lock path as any
//! cancellation — which gives the seats back, and cancels the PaymentIntent so a late payment
//! cannot go through. Should one still arrive, the webhook refunds it (`payment::reconcile`).

use chrono::Utc;
use tourdesk_domain::cancellation::CancelledBy;
use tourdesk_domain::mutation::{CancelBookingV1, Mutation, MutationCtx};
use tourdesk_domain::payment;
use tourdesk_domain::roles::Role;

use crate::apply::{self, Failure};
use crate::db::Prepared;
use crate::db::WriteTx;
use crate::payments::intents::intent_key;
use crate::{AppState, db};

pub const ACTOR: &str = "system:hold-expiry";

/// Most holds released per organization per sweep; the rest wait for the next sweep.
const BATCH: i64 = 200;

/// Releases every expired hold of every active organization. Returns how many were released.
pub async fn release_expired(state: &AppState) -> anyhow::Result<usize> {
    // Which organizations have expired holds (V10's lookup, ids only); each is then worked in its tenant.
    let orgs = db::orgs_with(&state.pool.get().await?, "tourdesk_orgs_with_expired_holds", &[]).await?;
    let mut released = 0;
    for org in orgs {
        released += release_in(state, &org).await?;
    }
    Ok(released)
}

async fn release_in(state: &AppState, org: &str) -> anyhow::Result<usize> {
    let cancelled = cancel_expired(state, org).await?;
    for booking_id in &cancelled {
        let intent: Option<String> = {
            let mut c = state.pool.get().await?;
            let tx = c.build_transaction().read_only(true).start().await?;
            db::set_tenant(&tx, org).await?;
            let row = tx
                .row_opt(
                    "SELECT stripe_payment_intent_id FROM payments
                     WHERE organization_id = $1 AND booking_id = $2 AND idempotency_key = $3",
                    &[&org, booking_id, &intent_key(booking_id)],
                )
                .await?;
            tx.commit().await?;
            row.and_then(|r| r.try_get(0).ok()).flatten()
        };
        if let Some(intent) = intent {
            let key = format!("cancel-{}", intent_key(booking_id));
            if let Err(e) = state.stripe.cancel_payment_intent(&intent, &key).await {
                tracing::warn!(org, booking = %booking_id, "could not cancel PaymentIntent {intent}: {e}");
            }
        }
    }
    if !cancelled.is_empty() {
        tracing::info!(org, released = cancelled.len(), "expired seat holds released");
    }
    Ok(cancelled.len())
}

/// Cancels the organization's expired holds in one transaction; returns the bookings cancelled.
async fn cancel_expired(state: &AppState, org: &str) -> anyhow::Result<Vec<String>> {
    let mut conn = state.pool.get().await?;
    let tx = WriteTx::new(conn.transaction().await?, org).await?;
    // Cheap check first: most ticks find nothing.
    let any = tx
        .row_opt(
            "SELECT 1 FROM bookings WHERE organization_id = $1 AND status = 'pending' AND hold_expires_at <= now()
             LIMIT 1",
            &[&org],
        )
        .await?;
    if any.is_none() {
        return Ok(vec![]);
    }
    let rows = tx
        .rows(
            "SELECT id, hold_expires_at FROM bookings
             WHERE organization_id = $1 AND status = 'pending' AND hold_expires_at <= now()
             ORDER BY hold_expires_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
            &[&org, &BATCH],
        )
        .await?;
    let now = Utc::now();
    let ctx = MutationCtx { organization_id: org.to_string(), role: Role::Owner, now, user_id: ACTOR.into() };
    let mut cancelled = Vec::new();
    for r in &rows {
        let id: String = r.try_get(0)?;
        let hold = r.try_get(1)?;
        let Some(b) = db::booking_by_id(tx.tx(), org, &id).await? else { continue };
        // The SQL found candidates; the domain decides (a partly paid booking does not expire).
        if !payment::hold_expired(&b, hold, now) {
            continue;
        }
        let m = Mutation::CancelBookingV1(CancelBookingV1 {
            booking_id: b.id.clone(),
            tour_id: b.tour_id.clone(),
            departure_id: b.departure_id.clone(),
            by: CancelledBy::Operator,
            reason: Some("payment was not received before the seat hold expired".into()),
            refund_override: None,
            notify_customer: false,
        });
        let (mark, outcome) = tx.in_savepoint(apply::run_mutation(&tx, &m, &ctx, ACTOR)).await?;
        match outcome {
            Ok(_) => {
                tx.release(mark);
                cancelled.push(b.id);
            }
            Err(Failure::Rejected(r)) => {
                tx.rollback_to(mark).await?;
                tracing::warn!(org, booking = %b.id, "hold not released: {r}");
            }
            Err(Failure::Transient(why)) => {
                tx.rollback_to(mark).await?;
                anyhow::bail!("hold expiry interrupted: {why}");
            }
        }
    }
    tx.commit().await?;
    Ok(cancelled)
}

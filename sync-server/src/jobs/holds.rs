//! Seat holds of unpaid bookings. A booking made on the public site takes its seats at once (so
//! two customers cannot both pay for the last one) but keeps them only until its hold expires;
//! this job then cancels it through `cancel_booking.v1` — the same rule and lock path as any
//! cancellation — which gives the seats back, and cancels the PaymentIntent so a late payment
//! cannot go through. Should one still arrive, the webhook refunds it (`payment::reconcile`).
//!
//! A checkout part-paid by a gift card is released the same way when the rest never came
//! (`payment::hold_release` decides): `expire_hold.v1` cancels it, releases its seats and gives
//! each redemption back to its card. Its intent (for the rest) is cancelled likewise, and card
//! money that still arrives goes back in full, as for an unpaid hold (the webhook counts the
//! card's redemption beside Stripe's money, so only Stripe's part is asked back).

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use tourdesk_domain::cancellation::CancelledBy;
use tourdesk_domain::mutation::{CancelBookingV1, ExpireHoldV1, Mutation, MutationCtx, RedemptionArgs};
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

/// Releases every hold expired at `now` of every active organization. Returns how many were released.
pub async fn release_expired(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut released = 0;
    for (org, cancelled) in expire(&state.pool, now).await? {
        released += cancel_intents(state, &org, &cancelled).await?;
    }
    Ok(released)
}

/// The database half of [`release_expired`]: cancels the holds expired at `now`, organization by
/// organization, and answers the bookings released per organization. Safe to run on several
/// instances at once and again: a booking is released under its row lock, once.
pub async fn expire(pool: &Pool, now: DateTime<Utc>) -> anyhow::Result<Vec<(String, Vec<String>)>> {
    // Which organizations have expired holds (V10's lookup, ids only); each is then worked in its tenant.
    let orgs = db::orgs_with(&pool.get().await?, "tourdesk_orgs_with_expired_holds", &[]).await?;
    let mut out = Vec::new();
    for org in orgs {
        let cancelled = cancel_expired(pool, &org, now).await?;
        out.push((org, cancelled));
    }
    Ok(out)
}

async fn cancel_intents(state: &AppState, org: &str, cancelled: &[String]) -> anyhow::Result<usize> {
    for booking_id in cancelled {
        let intent: Option<String> = {
            let mut c = state.pool.get().await?;
            let tx = db::read_in(&mut c, org).await?;
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
async fn cancel_expired(pool: &Pool, org: &str, now: DateTime<Utc>) -> anyhow::Result<Vec<String>> {
    let mut conn = pool.get().await?;
    let tx = WriteTx::new(conn.transaction().await?, org).await?;
    // Cheap check first: most ticks find nothing.
    let any = tx
        .row_opt(
            "SELECT 1 FROM bookings WHERE organization_id = $1 AND status = 'pending' AND hold_expires_at <= $2
             LIMIT 1",
            &[&org, &now],
        )
        .await?;
    if any.is_none() {
        return Ok(vec![]);
    }
    let rows = tx
        .rows(
            "SELECT id, hold_expires_at FROM bookings
             WHERE organization_id = $1 AND status = 'pending' AND hold_expires_at <= $2
             ORDER BY hold_expires_at, id LIMIT $3 FOR UPDATE SKIP LOCKED",
            &[&org, &now, &BATCH],
        )
        .await?;
    let ctx = MutationCtx { organization_id: org.to_string(), role: Role::Owner, now, user_id: ACTOR.into() };
    let mut cancelled = Vec::new();
    for r in &rows {
        let id: String = r.try_get(0)?;
        let hold: Option<DateTime<Utc>> = r.try_get(1)?;
        let Some(b) = db::booking_by_id(tx.tx(), org, &id).await? else { continue };
        // The SQL found candidates; the domain decides (money other than a gift card's keeps it).
        let entries = db::ledger_of_booking(tx.tx(), org, &id).await?;
        let Some(release) = payment::hold_release(&b, hold, &entries, now) else { continue };
        let m = if release.give_back.is_empty() {
            Mutation::CancelBookingV1(CancelBookingV1 {
                booking_id: b.id.clone(),
                tour_id: b.tour_id.clone(),
                departure_id: b.departure_id.clone(),
                by: CancelledBy::Operator,
                reason: Some("payment was not received before the seat hold expired".into()),
                refund_override: None,
                notify_customer: false,
            })
        } else if let Some(hold_expires_at) = hold {
            // Paid only by gift cards at checkout: cancelled, and the cards get their money back.
            Mutation::ExpireHoldV1(ExpireHoldV1 {
                booking_id: b.id.clone(),
                tour_id: b.tour_id.clone(),
                departure_id: b.departure_id.clone(),
                hold_expires_at,
                redemptions: redemptions_of(&tx, org, &b.id).await?,
            })
        } else {
            continue;
        };
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

/// The cards a booking's gift-card redemptions came from: each redemption's card movement has
/// the ledger entry's id and names the card.
async fn redemptions_of(tx: &WriteTx<'_>, org: &str, booking_id: &str) -> anyhow::Result<Vec<RedemptionArgs>> {
    let rows = tx
        .rows(
            "SELECT id, gift_card_id FROM gift_card_movements
             WHERE organization_id = $1 AND booking_id = $2 AND kind = 'redemption' ORDER BY id",
            &[&org, &booking_id],
        )
        .await?;
    rows.iter().map(|r| Ok(RedemptionArgs { entry_id: r.try_get(0)?, gift_card_id: r.try_get(1)? })).collect()
}

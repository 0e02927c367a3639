//! Sending queued refunds to Stripe. A refund is decided (and queued) in the transaction that
//! cancels a booking; sending it happens after commit, here, with the refund's own idempotency
//! key, so a send retried after a lost answer refunds once. A transient failure leaves it queued
//! with a backoff; a refusal marks it failed for a person to look at (the audit log says why).
//! A refund Stripe accepted is announced to the customer in the same transaction
//! (`notices::refund_on_its_way`, once per refund).

use chrono::{Duration, Utc};
use tourdesk_domain::money::Currency;

use crate::db::Prepared;
use crate::db::WriteTx;
use crate::payments::gateway::{PaymentError, RefundRequest};
use crate::{AppState, db};

/// After this many transient failures a refund is marked failed instead of retried.
const MAX_ATTEMPTS: i32 = 10;

struct Due {
    id: String,
    booking_id: String,
    key: String,
    amount: i64,
    currency: String,
    intent: Option<String>,
    attempts: i32,
}

/// Sends the due refunds of every active organization (the runner's pass).
pub async fn send_all(state: &AppState) -> anyhow::Result<()> {
    // Which organizations have refunds due (V10's lookup, ids only); each is sent in its tenant.
    let orgs = db::orgs_with(&state.pool.get().await?, "tourdesk_orgs_with_due_refunds", &[]).await?;
    for org in orgs {
        send_queued_refunds(state, &org).await;
    }
    Ok(())
}

/// Sends an organization's due refunds; errors are logged, never returned: the caller has
/// already committed what the customer asked for, and the worker will try again.
pub async fn send_queued_refunds(state: &AppState, org: &str) {
    if let Err(e) = send_due(state, org).await {
        tracing::warn!(org, "sending refunds failed, will retry: {e:#}");
    }
}

async fn send_due(state: &AppState, org: &str) -> anyhow::Result<usize> {
    let mut sent = 0;
    loop {
        let mut conn = state.pool.get().await?;
        let tx = WriteTx::new(conn.transaction().await?, org).await?;
        // One at a time, locked and skipped by other senders, so two server instances never send
        // the same refund concurrently (Stripe's idempotency would catch it, but not its log).
        let row = tx
            .row_opt(
                "SELECT r.id, r.booking_id, r.idempotency_key, r.amount_minor, r.currency,
                        p.stripe_payment_intent_id, r.attempts
                 FROM refunds r
                 LEFT JOIN LATERAL (
                     -- A booking may have several PaymentIntents (a balance paid later): the
                     -- refund goes back through the one holding the most money not yet refunded.
                     SELECT stripe_payment_intent_id FROM payments p
                     WHERE p.organization_id = r.organization_id AND p.booking_id = r.booking_id
                       AND p.stripe_payment_intent_id IS NOT NULL
                     ORDER BY (p.amount_received_minor - p.amount_refunded_minor) DESC, p.id
                     LIMIT 1) p ON true
                 WHERE r.organization_id = $1 AND r.status = 'queued' AND r.idempotency_key IS NOT NULL
                   AND (r.next_attempt_at IS NULL OR r.next_attempt_at <= now())
                 ORDER BY r.requested_at, r.id
                 LIMIT 1
                 FOR UPDATE OF r SKIP LOCKED",
                &[&org],
            )
            .await?;
        let Some(r) = row else { return Ok(sent) };
        let due = Due {
            id: r.try_get(0)?,
            booking_id: r.try_get(1)?,
            key: r.try_get(2)?,
            amount: r.try_get(3)?,
            currency: r.try_get(4)?,
            intent: r.try_get(5)?,
            attempts: r.try_get(6)?,
        };
        let Some(intent) = due.intent.clone() else {
            // Money that never reached Stripe cannot go back through it.
            mark(&tx, org, &due, "failed", None, Some("no Stripe payment to refund")).await?;
            tx.commit().await?;
            continue;
        };
        let amount = tourdesk_domain::money::Money::new(due.amount, Currency::parse(&due.currency)?);
        let outcome = state
            .stripe
            .refund(&RefundRequest {
                payment_intent_id: &intent,
                amount,
                idempotency_key: &due.key,
                refund_id: &due.id,
                organization_id: org,
                booking_id: &due.booking_id,
            })
            .await;
        match outcome {
            Ok(created) => {
                let status = match created.status.as_str() {
                    "succeeded" => "succeeded",
                    "failed" => "failed",
                    "canceled" => "canceled",
                    "requires_action" => "requires_action",
                    _ => "pending",
                };
                mark(&tx, org, &due, status, Some(&created.id), None).await?;
                // Accepted by Stripe: the money is on its way, and the customer hears so, once.
                if matches!(status, "succeeded" | "pending") {
                    crate::notices::refund_on_its_way(&tx, &due.id).await?;
                }
                sent += 1;
            }
            Err(PaymentError::Transient(why)) if due.attempts + 1 < MAX_ATTEMPTS => {
                let backoff = Duration::seconds(15 * 2i64.pow(u32::try_from(due.attempts.clamp(0, 10)).unwrap_or(0)));
                tx.exec(
                    "UPDATE refunds SET attempts = attempts + 1, next_attempt_at = $3, failure_reason = $4,
                            updated_at = now()
                     WHERE organization_id = $1 AND id = $2",
                    &[&org, &due.id, &(Utc::now() + backoff), &why],
                )
                .await?;
                tx.commit().await?;
                return Ok(sent);
            }
            Err(e) => {
                mark(&tx, org, &due, "failed", None, Some(&e.to_string())).await?;
            }
        }
        tx.commit().await?;
    }
}

async fn mark(
    tx: &WriteTx<'_>,
    org: &str,
    due: &Due,
    status: &str,
    stripe_id: Option<&str>,
    failure: Option<&str>,
) -> anyhow::Result<()> {
    tx.exec(
        "UPDATE refunds SET status = $3, stripe_refund_id = coalesce($4, stripe_refund_id), failure_reason = $5,
                attempts = attempts + 1, processed_at = now(), updated_at = now()
         WHERE organization_id = $1 AND id = $2",
        &[&org, &due.id, &status, &stripe_id, &failure],
    )
    .await?;
    let detail = serde_json::json!({ "status": status, "stripe_refund_id": stripe_id, "failure": failure });
    db::audit(tx, "stripe", "refund.sent", "refund", &due.id, &detail);
    Ok(())
}

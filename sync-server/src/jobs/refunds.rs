//! Sending queued refunds to Stripe. A refund is decided (and queued) in the transaction that
//! cancels, modifies or moves a booking; sending it happens after commit, here.
//!
//! A booking may have been paid through several PaymentIntents (the checkout's, then a balance),
//! and Stripe refunds one PaymentIntent at a time, never more than it took less what it gave back
//! already. So a refund is sent in parts (PG V64 `refund_parts`), split by the domain
//! (`refund_split::plan`: newest payment first, each within its remainder), in two steps:
//!
//! 1. **Plan**, in its own transaction: the refund's parts still to be asked are written, each
//!    with its idempotency key, and committed before Stripe hears of any. A job retried after a
//!    lost answer or a crash finds the same parts and asks under the same keys, so Stripe
//!    refunds each part once.
//! 2. **Send**, holding the refund's row lock: each part not yet asked is asked. Accepted, it
//!    keeps Stripe's id and status. A transient failure leaves it queued (same key, backoff),
//!    and the parts after it wait too, since Stripe is away. A refusal refunded nothing: the part
//!    stays `refused` with Stripe's reason, the other parts are still asked, and the refund stays
//!    queued with a backoff; its next attempt plans the refused amount again, under a new key
//!    (Stripe keeps a refusal under its key, so the same key would only replay it). After
//!    [`MAX_ATTEMPTS`] the refund is marked failed for a person, as is one Stripe answers with
//!    an idempotency error (a different request already under a key: Stripe may have acted, so
//!    nothing is asked again by the job).
//!
//! The refund's status follows its parts (`refund_split::refund_status`): queued until every
//! part was accepted, then pending or succeeded. Its first part is asked under the refund's own
//! key, so a refund that fits one PaymentIntent is the same request it always was (and one sent
//! before parts existed is answered by Stripe from that key); the others under
//! `{refund key}/{PaymentIntent}` (with `/{n}` when a refused part's PaymentIntent is asked
//! again). A refund Stripe accepted in full is announced to the customer in the same
//! transaction (`notices::refund_on_its_way`, once per refund).

use chrono::{DateTime, Duration, Utc};
use tourdesk_domain::money::{Currency, Money};
use tourdesk_domain::refund_split::{self, CardPayment, PartState};

use crate::db::Prepared;
use crate::db::WriteTx;
use crate::payments::gateway::{PaymentError, RefundRequest};
use crate::{AppState, db};

/// After this many attempts (transient failures and refusals together) a refund is marked
/// failed instead of retried.
const MAX_ATTEMPTS: i32 = 10;

/// The Stripe error type of a request whose key already holds a different request.
const IDEMPOTENCY_ERROR: &str = "idempotency_error";

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

/// A refund due, as the job reads it.
struct Due {
    id: String,
    booking_id: String,
    key: String,
    amount: i64,
    currency: String,
    attempts: i32,
}

/// A part of a refund, as stored.
struct Part {
    id: String,
    intent: String,
    seq: i32,
    amount: i64,
    key: String,
    status: String,
    stripe_id: Option<String>,
}

impl Part {
    fn state(&self) -> PartState<'_> {
        PartState { status: &self.status, amount: self.amount }
    }
}

/// What a send step came to.
enum Sent {
    /// Done with this refund for now; `n` parts were accepted.
    Done(usize),
    /// Stripe is away: stop this pass.
    Away(usize),
}

async fn send_due(state: &AppState, org: &str) -> anyhow::Result<usize> {
    let mut sent = 0;
    loop {
        let Some(refund_id) = plan_next(state, org).await? else { return Ok(sent) };
        match send_parts(state, org, &refund_id).await? {
            Sent::Done(n) => sent += n,
            Sent::Away(n) => return Ok(sent + n),
        }
    }
}

const DUE_COLUMNS: &str = "id, booking_id, idempotency_key, amount_minor, currency, attempts";

fn due_of(r: &tokio_postgres::Row) -> Result<Due, db::DbError> {
    Ok(Due {
        id: db::column(r, 0)?,
        booking_id: db::column(r, 1)?,
        key: db::column(r, 2)?,
        amount: db::column(r, 3)?,
        currency: db::column(r, 4)?,
        attempts: db::column(r, 5)?,
    })
}

async fn parts_of(tx: &WriteTx<'_>, org: &str, refund_id: &str) -> anyhow::Result<Vec<Part>> {
    let rows = tx
        .rows(
            "SELECT id, payment_intent_id, seq, amount_minor, idempotency_key, status, stripe_refund_id
             FROM refund_parts WHERE organization_id = $1 AND refund_id = $2 ORDER BY seq",
            &[&org, &refund_id],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Part {
                id: db::column(r, 0)?,
                intent: db::column(r, 1)?,
                seq: db::column(r, 2)?,
                amount: db::column(r, 3)?,
                key: db::column(r, 4)?,
                status: db::column(r, 5)?,
                stripe_id: db::column(r, 6)?,
            })
        })
        .collect()
}

/// Step 1: takes the next due refund (locked, skipped by other senders, so two server instances
/// never plan or send one refund at once), writes the parts still to be asked and commits them.
/// Returns the refund to send, `None` when nothing is due.
async fn plan_next(state: &AppState, org: &str) -> anyhow::Result<Option<String>> {
    loop {
        let mut conn = state.pool.get().await?;
        let tx = WriteTx::new(conn.transaction().await?, org).await?;
        let row = tx
            .row_opt(
                &format!(
                    "SELECT {DUE_COLUMNS} FROM refunds
                     WHERE organization_id = $1 AND status = 'queued' AND idempotency_key IS NOT NULL
                       AND (next_attempt_at IS NULL OR next_attempt_at <= now())
                     ORDER BY requested_at, id
                     LIMIT 1
                     FOR UPDATE SKIP LOCKED"
                ),
                &[&org],
            )
            .await?;
        let Some(r) = row else { return Ok(None) };
        let due = due_of(&r)?;
        let parts = parts_of(&tx, org, &due.id).await?;
        let states: Vec<PartState<'_>> = parts.iter().map(Part::state).collect();
        let left = refund_split::still_to_plan(due.amount, &states);
        if left == 0 {
            // Everything is planned (perhaps by a run that stopped before sending): send it.
            tx.commit().await?;
            return Ok(Some(due.id));
        }
        let currency = Currency::parse(&due.currency)?;
        let payments = card_payments(&tx, org, &due.booking_id).await?;
        let plan = refund_split::plan(
            Money::new(left, currency),
            &payments.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
        );
        if !plan.not_placed.is_zero() {
            // Money that never reached Stripe (or went back already) cannot go back through it:
            // nothing of this refund is asked; a person decides.
            let why = if payments.is_empty() {
                "no Stripe payment to refund".to_string()
            } else {
                format!(
                    "only {} of the {} still to refund is card money Stripe can give back",
                    Money::new(left - plan.not_placed.amount, currency).display(),
                    Money::new(left, currency).display()
                )
            };
            tx.exec(
                "UPDATE refunds SET status = 'failed', failure_reason = $3, attempts = attempts + 1,
                        processed_at = now(), updated_at = now()
                 WHERE organization_id = $1 AND id = $2",
                &[&org, &due.id, &why],
            )
            .await?;
            let detail =
                serde_json::json!({ "status": "failed", "failure": why, "not_placed": plan.not_placed.amount });
            db::audit(&tx, "stripe", "refund.sent", "refund", &due.id, &detail);
            tx.commit().await?;
            continue;
        }
        let mut seq = parts.iter().map(|p| p.seq).max().unwrap_or(0);
        let mut planned: Vec<(String, String)> = parts.iter().map(|p| (p.intent.clone(), p.key.clone())).collect();
        for part in &plan.parts {
            let Some((_, intent)) = payments.iter().find(|(p, _)| p.payment_id == part.payment_id) else { continue };
            seq += 1;
            let key = part_key(&due.key, seq, intent, &planned);
            tx.exec(
                "INSERT INTO refund_parts (id, organization_id, refund_id, payment_id, payment_intent_id, seq,
                                           amount_minor, currency, idempotency_key)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &format!("{}/{seq}", due.id),
                    &org,
                    &due.id,
                    &part.payment_id,
                    intent,
                    &seq,
                    &part.amount.amount,
                    &part.amount.currency.as_str(),
                    &key,
                ],
            )
            .await?;
            planned.push((intent.clone(), key));
        }
        let detail = serde_json::json!({
            "parts": plan.parts.iter().map(|p| serde_json::json!({"payment_id": p.payment_id, "amount": p.amount.amount})).collect::<Vec<_>>(),
        });
        db::audit(&tx, "stripe", "refund.planned", "refund", &due.id, &detail);
        tx.commit().await?;
        return Ok(Some(due.id));
    }
}

/// The idempotency key of part `seq` of the refund keyed `refund_key`, to PaymentIntent `intent`,
/// given the parts planned before it (`(intent, key)`): the refund's own key for its first part,
/// `{refund key}/{intent}` for the first part on another PaymentIntent, and `/{seq}` after that
/// when a PaymentIntent is asked again (a refused part planned anew).
fn part_key(refund_key: &str, seq: i32, intent: &str, planned: &[(String, String)]) -> String {
    if seq == 1 {
        return refund_key.to_string();
    }
    let plain = format!("{refund_key}/{intent}");
    if planned.iter().any(|(_, k)| *k == plain) || planned.first().is_some_and(|(i, _)| i == intent) {
        format!("{plain}/{seq}")
    } else {
        plain
    }
}

/// The booking's card payments with their PaymentIntents, as a refund plan needs them: what each
/// took, what it gave back already (Stripe's figure, or the parts it accepted if larger), its
/// dispute and when it was paid. Read without locks: the webhook locks payments before refunds,
/// and Stripe itself refuses a part beyond a payment's remainder.
async fn card_payments(tx: &WriteTx<'_>, org: &str, booking_id: &str) -> anyhow::Result<Vec<(CardPayment, String)>> {
    let rows = tx
        .rows(
            "SELECT p.id, p.stripe_payment_intent_id, p.amount_received_minor, p.amount_refunded_minor, p.currency,
                    p.stripe_dispute_id IS NOT NULL, coalesce(p.succeeded_at, p.created_at),
                    coalesce((SELECT sum(x.amount_minor) FROM refund_parts x
                              WHERE x.organization_id = p.organization_id AND x.payment_id = p.id
                                AND x.status IN ('pending', 'requires_action', 'succeeded')), 0)::bigint
             FROM payments p
             WHERE p.organization_id = $1 AND p.booking_id = $2 AND p.stripe_payment_intent_id IS NOT NULL",
            &[&org, &booking_id],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let currency: String = db::column(r, 4)?;
            let (reported, accepted): (i64, i64) = (db::column(r, 3)?, db::column(r, 7)?);
            let paid_at: DateTime<Utc> = db::column(r, 6)?;
            Ok((
                CardPayment {
                    payment_id: db::column(r, 0)?,
                    taken: Money::new(db::column(r, 2)?, Currency::parse(&currency)?),
                    refunded: refund_split::refunded_from(reported, accepted),
                    disputed: db::column(r, 5)?,
                    paid_at,
                },
                db::column::<String>(r, 1)?,
            ))
        })
        .collect()
}

/// Step 2: asks Stripe for each part of the refund not asked yet and settles the refund from its
/// parts, all under the refund's row lock.
async fn send_parts(state: &AppState, org: &str, refund_id: &str) -> anyhow::Result<Sent> {
    let mut conn = state.pool.get().await?;
    let tx = WriteTx::new(conn.transaction().await?, org).await?;
    let row = tx
        .row_opt(
            &format!(
                "SELECT {DUE_COLUMNS} FROM refunds
                 WHERE organization_id = $1 AND id = $2 AND status = 'queued'
                 FOR UPDATE SKIP LOCKED"
            ),
            &[&org, &refund_id],
        )
        .await?;
    // Another sender has it, or it settled meanwhile.
    let Some(r) = row else { return Ok(Sent::Done(0)) };
    let due = due_of(&r)?;
    let mut parts = parts_of(&tx, org, &due.id).await?;
    let currency = Currency::parse(&due.currency)?;
    let (mut accepted, mut away, mut refused, mut give_up) = (0usize, false, Vec::new(), false);
    let mut transient: Option<String> = None;
    for part in parts.iter_mut().filter(|p| p.status == "queued") {
        if away {
            break;
        }
        let outcome = state
            .stripe
            .refund(&RefundRequest {
                payment_intent_id: &part.intent,
                amount: Money::new(part.amount, currency),
                idempotency_key: &part.key,
                refund_id: &due.id,
                organization_id: org,
                booking_id: &due.booking_id,
            })
            .await;
        let failure = match outcome {
            Ok(created) => {
                part.status = match created.status.as_str() {
                    s @ ("succeeded" | "failed" | "canceled" | "requires_action") => s,
                    _ => "pending",
                }
                .to_string();
                part.stripe_id = Some(created.id);
                accepted += 1;
                None
            }
            Err(PaymentError::Transient(why)) => {
                // Unknown whether Stripe acted: the part stays queued under its key.
                away = true;
                transient = Some(why.clone());
                Some(why)
            }
            Err(PaymentError::Refused { code, message }) => {
                // Nothing was refunded. Under a key Stripe holds for another request it may have
                // acted, though: that is for a person, never asked again under a new key.
                if code.as_deref() == Some(IDEMPOTENCY_ERROR) {
                    give_up = true;
                }
                part.status = "refused".into();
                let why = format!("{message} ({})", code.unwrap_or_default());
                refused.push(why.clone());
                Some(why)
            }
            Err(e @ PaymentError::Config(_)) => {
                // Not the payment's fault, but nothing to retry either until someone fixes it.
                give_up = true;
                away = true;
                Some(e.to_string())
            }
        };
        tx.exec(
            "UPDATE refund_parts SET status = $3, stripe_refund_id = coalesce($4, stripe_refund_id),
                    failure_reason = $5, attempts = attempts + 1, sent_at = coalesce(sent_at, now()), updated_at = now()
             WHERE organization_id = $1 AND id = $2",
            &[&org, &part.id, &part.status, &part.stripe_id, &failure],
        )
        .await?;
        let detail = serde_json::json!({
            "part": part.id, "payment_intent": part.intent, "amount": part.amount, "status": part.status,
            "stripe_refund_id": part.stripe_id, "failure": failure,
        });
        db::audit(&tx, "stripe", "refund.sent", "refund", &due.id, &detail);
    }
    let asked = accepted > 0 || transient.is_some() || !refused.is_empty() || give_up;
    let attempts = if asked { due.attempts + 1 } else { due.attempts };
    let retry = transient.is_some() || !refused.is_empty();
    give_up |= retry && attempts >= MAX_ATTEMPTS;
    let states: Vec<PartState<'_>> = parts.iter().map(Part::state).collect();
    let status = refund_split::refund_status(due.amount, &states, give_up);
    let failure = match (&transient, refused.as_slice()) {
        (Some(why), _) => Some(format!("Stripe is unavailable: {why}")),
        (None, []) => None,
        (None, whys) => Some(format!("Stripe refused {} part(s): {}", whys.len(), whys.join("; "))),
    };
    let next_attempt = (status == "queued" && retry).then(|| {
        let exp = u32::try_from(due.attempts.clamp(0, 10)).unwrap_or(0);
        Utc::now() + Duration::seconds(15 * 2i64.pow(exp))
    });
    let first_stripe_id = parts.iter().find_map(|p| p.stripe_id.clone());
    tx.exec(
        "UPDATE refunds SET status = $3, failure_reason = $4, attempts = $5, next_attempt_at = $6,
                stripe_refund_id = coalesce(stripe_refund_id, $7),
                processed_at = CASE WHEN $3 = 'queued' THEN processed_at ELSE now() END, updated_at = now()
         WHERE organization_id = $1 AND id = $2",
        &[&org, &due.id, &status, &failure, &attempts, &next_attempt, &first_stripe_id],
    )
    .await?;
    // Accepted in full: the money is on its way, and the customer hears so, once.
    if matches!(status, "succeeded" | "pending") {
        crate::notices::refund_on_its_way(&tx, &due.id).await?;
    }
    tx.commit().await?;
    Ok(if transient.is_some() { Sent::Away(accepted) } else { Sent::Done(accepted) })
}

/// Settles a refund's status from its parts after Stripe's webhook moved one on (`refunds` row
/// locked by the caller). A refund without parts (sent before they existed, or made in Stripe's
/// dashboard) is the caller's to settle. Returns whether it has parts.
pub(crate) async fn settle_from_parts(tx: &WriteTx<'_>, refund_id: &str, current: &str) -> anyhow::Result<bool> {
    let org = tx.org().to_string();
    let row = tx
        .row_opt("SELECT amount_minor FROM refunds WHERE organization_id = $1 AND id = $2", &[&org, &refund_id])
        .await?;
    let Some(row) = row else { return Ok(false) };
    let amount: i64 = db::column(&row, 0)?;
    let parts = parts_of(tx, &org, refund_id).await?;
    if parts.is_empty() {
        return Ok(false);
    }
    let states: Vec<PartState<'_>> = parts.iter().map(Part::state).collect();
    // A refund the job gave up on stays given up; one waiting for its next attempt stays queued.
    let status = refund_split::refund_status(amount, &states, current == "failed");
    if status != current {
        tx.exec(
            "UPDATE refunds SET status = $3,
                    processed_at = CASE WHEN $3 = 'queued' THEN processed_at ELSE coalesce(processed_at, now()) END,
                    updated_at = now()
             WHERE organization_id = $1 AND id = $2",
            &[&org, &refund_id, &status],
        )
        .await?;
    }
    crate::notices::refund_on_its_way(tx, refund_id).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_part_keeps_the_refunds_key_and_each_other_part_has_its_own() {
        let mut planned: Vec<(String, String)> = vec![];
        let first = part_key("refund-b", 1, "pi_new", &planned);
        assert_eq!(first, "refund-b", "a refund on one intent asks as it always did");
        planned.push(("pi_new".into(), first));
        let second = part_key("refund-b", 2, "pi_old", &planned);
        assert_eq!(second, "refund-b/pi_old");
        planned.push(("pi_old".into(), second));
        // pi_old refused: asked again under a new key, as is pi_new should it be asked again.
        assert_eq!(part_key("refund-b", 3, "pi_old", &planned), "refund-b/pi_old/3");
        assert_eq!(part_key("refund-b", 4, "pi_new", &planned), "refund-b/pi_new/4");
        // However the intents repeat, no two parts of a refund share a key.
        let mut planned: Vec<(String, String)> = vec![];
        for (seq, intent) in (1..).zip(["pi_a", "pi_b", "pi_a", "pi_b", "pi_c", "pi_b"]) {
            let key = part_key("refund-b", seq, intent, &planned);
            assert!(planned.iter().all(|(_, k)| *k != key), "{key} twice in {planned:?}");
            planned.push((intent.to_string(), key));
        }
    }
}

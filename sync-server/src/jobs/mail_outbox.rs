//! The mail outbox job: sends the e-mail queued in `communications` ([`crate::mail::queue`]),
//! with retries and backoff.
//!
//! Delivery is at least once: a crash between the relay's acceptance and the commit that marks
//! the row sent sends that one message again. Row locks make two drains never send one row twice.

use std::time::Duration;

use deadpool_postgres::{GenericClient, Pool};

use crate::db::Prepared;
use crate::db::set_tenant;
use crate::mail::{Email, MANAGE_LINK, MANAGE_LINK_DAYS, MailError, Mailer, REVIEW_LINK, WAITLIST_CLAIM_LINK};

/// A row that failed this many times in a row is given up on (about an hour of retries).
pub const MAX_ATTEMPTS: i32 = 8;
/// Delay before the first retry; each further retry waits twice as long.
const FIRST_RETRY: Duration = Duration::from_secs(30);
/// Rows one pass of the runner takes per call of [`drain_outbox`]; a full pass is followed at once
/// by another, so a backlog does not wait an interval per batch.
pub const BATCH: i64 = 50;

/// Sends up to `batch` due outbox rows and returns how many it settled (sent, failed, or put
/// back with a later retry time).
///
/// Each row is claimed `FOR UPDATE SKIP LOCKED` and marked in its own transaction, held while
/// the relay is talking: a second drain (another server instance) skips the row instead of
/// sending it again, and a crash loses at most the mark of the one message in flight.
///
/// Which organizations have mail due comes from V10's lookup (ids only); each organization's
/// rows are then claimed in its tenant.
pub async fn drain_outbox(pool: &Pool, mailer: &Mailer, batch: i64) -> anyhow::Result<usize> {
    let mut client = pool.get().await?;
    let orgs = crate::db::orgs_with(&client, "tourdesk_orgs_with_due_mail", &[]).await?;
    let limit = usize::try_from(batch.max(0))?;
    let mut settled = 0;
    for org in &orgs {
        while settled < limit {
            let tx = client.transaction().await?;
            set_tenant(&tx, org).await?;
            let Some(row) = tx
                .row_opt(
                    "SELECT id, recipient, subject, content, attempts, customer_id, booking_id FROM communications
                     WHERE organization_id = $1 AND status = 'pending' AND channel = 'email'
                       AND direction = 'outbound' AND recipient IS NOT NULL AND next_attempt_at <= now()
                     ORDER BY next_attempt_at
                     LIMIT 1
                     FOR UPDATE SKIP LOCKED",
                    &[org],
                )
                .await?
            else {
                break;
            };
            let id: String = row.try_get(0)?;
            let email = Email {
                to: row.try_get(1)?,
                subject: row.try_get::<_, Option<String>>(2)?.unwrap_or_default(),
                text: row.try_get(3)?,
            };
            let attempts = row.try_get::<_, i32>(4)? + 1;
            let (email, token) = fill_link(&tx, org, mailer, email, row.try_get(5)?, row.try_get(6)?).await?;
            let result = mailer.send(&email).await;
            // A relay that echoes the message must not leave the token in the failure reason.
            let result = match (result, token) {
                (Err(e), Some(t)) => Err(e.withhold(&t)),
                (r, _) => r,
            };
            record_attempt(&tx, org, &id, attempts, result).await?;
            // Sent, failed or retried later: desks see the message's state as it now is.
            crate::db::append_communications(&tx, org, std::slice::from_ref(&id)).await?;
            tx.commit().await?;
            settled += 1;
        }
    }
    Ok(settled)
}

/// Puts a fresh magic link to the row's booking in place of [`MANAGE_LINK`] (or a review link in
/// place of [`REVIEW_LINK`], or a waitlist offer's claim link in place of [`WAITLIST_CLAIM_LINK`]),
/// minted in the claiming transaction (it exists iff the attempt is recorded); the stored row keeps
/// the placeholder. Returns what to send and the token, if one was minted.
async fn fill_link(
    tx: &impl GenericClient,
    org: &str,
    mailer: &Mailer,
    mut email: Email,
    customer_id: Option<String>,
    booking_id: Option<String>,
) -> anyhow::Result<(Email, Option<String>)> {
    let (Some(customer_id), Some(booking_id)) = (customer_id, booking_id) else { return Ok((email, None)) };
    if !mailer.is_enabled() {
        return Ok((email, None));
    }
    if email.text.contains(REVIEW_LINK) {
        let token = crate::reviews::mint_link(tx, org, &customer_id, &booking_id).await?;
        let link = crate::reviews::review_url(mailer.public_base_url(), &token);
        email.text = email.text.replace(REVIEW_LINK, &link);
        return Ok((email, Some(token)));
    }
    if email.text.contains(WAITLIST_CLAIM_LINK) {
        let base = mailer.public_base_url();
        // An offer that lapsed before its mail went out keeps the placeholder: no link to claim.
        if let Some((link, token)) = crate::website::waitlist::mint_claim_link(tx, org, base, &booking_id).await? {
            email.text = email.text.replace(WAITLIST_CLAIM_LINK, &link);
            return Ok((email, Some(token)));
        }
    }
    if !email.text.contains(MANAGE_LINK) {
        return Ok((email, None));
    }
    let hours = MANAGE_LINK_DAYS * 24;
    let token = crate::website::bookings::mint_magic_link(tx, org, &customer_id, &booking_id, hours).await?;
    let link = crate::website::bookings::manage_url(mailer.public_base_url(), &token);
    email.text = email.text.replace(MANAGE_LINK, &link);
    Ok((email, Some(token)))
}

async fn record_attempt(
    tx: &impl GenericClient,
    org: &str,
    id: &str,
    attempts: i32,
    result: Result<(), MailError>,
) -> anyhow::Result<()> {
    let outcome = match result {
        Ok(()) => Attempt::Sent(None),
        Err(MailError::Transient(reason)) if attempts < MAX_ATTEMPTS => Attempt::Retry(reason),
        Err(MailError::Transient(r)) => Attempt::Failed(format!("gave up after {attempts} attempts: {r}")),
        Err(e) => Attempt::Failed(e.to_string()),
    };
    record(tx, org, id, attempts, outcome).await
}

/// How one attempt to send an outbox row (e-mail or text) ended.
pub(crate) enum Attempt {
    /// Sent, with the provider's message id when it gives one (Twilio's Message SID).
    Sent(Option<String>),
    /// Not sent, for a reason a later attempt may not meet.
    Retry(String),
    /// Given up on.
    Failed(String),
}

/// Marks outbox row `id` with attempt number `attempts` and its outcome: sent, put back with a
/// later retry time (the last reason stays on the pending row, so a stuck message says why), or
/// failed.
pub(crate) async fn record(
    tx: &impl GenericClient,
    org: &str,
    id: &str,
    attempts: i32,
    outcome: Attempt,
) -> anyhow::Result<()> {
    match outcome {
        Attempt::Sent(external_id) => {
            tx.exec(
                "UPDATE communications SET status = 'sent', sent_at = now(), attempts = $3, failure_reason = NULL,
                     external_id = coalesce($4, external_id)
                 WHERE organization_id = $1 AND id = $2",
                &[&org, &id, &attempts, &external_id],
            )
            .await?;
        }
        Attempt::Retry(reason) => {
            tracing::warn!(%org, %id, attempts, "message not sent, will retry: {reason}");
            tx.exec(
                "UPDATE communications SET attempts = $3, failure_reason = $4,
                     next_attempt_at = now() + make_interval(secs => $5)
                 WHERE organization_id = $1 AND id = $2",
                &[&org, &id, &attempts, &reason, &retry_delay(attempts).as_secs_f64()],
            )
            .await?;
        }
        Attempt::Failed(reason) => {
            tracing::warn!(%org, %id, attempts, "message failed: {reason}");
            tx.exec(
                "UPDATE communications SET status = 'failed', attempts = $3, failure_reason = $4
                 WHERE organization_id = $1 AND id = $2",
                &[&org, &id, &attempts, &reason],
            )
            .await?;
        }
    }
    Ok(())
}

/// Wait before retry number `attempts` (1-based): 30 s, 1 min, 2 min, … doubling.
fn retry_delay(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(16);
    FIRST_RETRY.saturating_mul(1 << doublings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially() {
        let secs: Vec<u64> = (1..MAX_ATTEMPTS).map(|a| retry_delay(a).as_secs()).collect();
        assert_eq!(secs, [30, 60, 120, 240, 480, 960, 1920]);
        assert_eq!(retry_delay(0).as_secs(), 30);
        assert_eq!(retry_delay(i32::MAX), retry_delay(17));
    }
}

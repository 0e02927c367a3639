//! What the e-mail and SMS outboxes (`mail_outbox`, `sms_outbox`) share: claiming the next due
//! row of a channel, and settling an attempt to send it — sent, retried later with backoff, or
//! given up on — in the claiming transaction, which desks then see.
//!
//! Each row is claimed `FOR UPDATE SKIP LOCKED` in a transaction of its own, held while the
//! provider is talking: a second drain (another server instance) skips the row instead of sending
//! it again, and a crash loses at most the mark of the one message in flight.

use std::time::Duration;

use deadpool_postgres::{GenericClient, Object, Transaction};

use crate::db::{self, Prepared};
use crate::mail::MailError;
use crate::sms::SmsError;

/// A row that failed this many times in a row is given up on (about an hour of retries).
pub const MAX_ATTEMPTS: i32 = 8;
/// Delay before the first retry; each further retry waits twice as long.
const FIRST_RETRY: Duration = Duration::from_secs(30);

/// An outbox's channel (`communications.channel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    Email,
    Sms,
}

/// The claim of the next due row of one channel. The channel is written in the statement, not
/// bound, so the planner always uses the channel's partial index (V5's for e-mail, V53's for texts).
macro_rules! claim_sql {
    ($channel:literal) => {
        concat!(
            "SELECT id, recipient, subject, content, attempts, customer_id, booking_id FROM communications
             WHERE organization_id = $1 AND status = 'pending' AND channel = '",
            $channel,
            "' AND direction = 'outbound' AND recipient IS NOT NULL AND next_attempt_at <= now()
             ORDER BY next_attempt_at
             LIMIT 1
             FOR UPDATE SKIP LOCKED"
        )
    };
}

impl Channel {
    fn claim_sql(self) -> &'static str {
        match self {
            Channel::Email => claim_sql!("email"),
            Channel::Sms => claim_sql!("sms"),
        }
    }
}

/// A due outbox row, claimed.
#[derive(Debug)]
pub(crate) struct Claimed {
    pub id: String,
    pub to: String,
    pub subject: Option<String>,
    pub content: String,
    /// The number of this attempt, 1 for the first.
    pub attempt: i32,
    pub customer_id: Option<String>,
    pub booking_id: Option<String>,
}

/// Claims the next due row of `channel` in `org`, in a new transaction in the organization's
/// tenant, which [`settle`] ends; `None` when nothing of the channel is due there.
pub(crate) async fn claim<'c>(
    client: &'c mut Object,
    org: &str,
    channel: Channel,
) -> anyhow::Result<Option<(Transaction<'c>, Claimed)>> {
    let tx = db::write_in(client, org).await?;
    let Some(row) = tx.row_opt(channel.claim_sql(), &[&org]).await? else { return Ok(None) };
    let claimed = Claimed {
        id: row.try_get(0)?,
        to: row.try_get(1)?,
        subject: row.try_get(2)?,
        content: row.try_get(3)?,
        attempt: row.try_get::<_, i32>(4)? + 1,
        customer_id: row.try_get(5)?,
        booking_id: row.try_get(6)?,
    };
    Ok(Some((tx, claimed)))
}

/// Records how the attempt to send `row` ended, marks the row for the desks (which see the
/// message's state as it now is: sent, failed or retried later) and commits the claim.
pub(crate) async fn settle(tx: Transaction<'_>, org: &str, row: &Claimed, outcome: Attempt) -> anyhow::Result<()> {
    record(&tx, org, &row.id, row.attempt, outcome).await?;
    db::append_communications(&tx, org, std::slice::from_ref(&row.id)).await?;
    tx.commit().await?;
    Ok(())
}

/// How a provider's refusal reads to the outbox.
pub(crate) enum Failure {
    /// Worth retrying (the provider was unreachable, slow or busy): the reason.
    Transient(String),
    /// Retrying cannot help: the whole error, as it reads.
    Permanent(String),
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

/// Both providers' errors say one of three things: off, worth retrying (with the reason), or not.
macro_rules! failure_from {
    ($($error:ident),*) => {$(
        impl From<$error> for Failure {
            fn from(e: $error) -> Failure {
                match e {
                    $error::Transient(reason) => Failure::Transient(reason),
                    e => Failure::Permanent(e.to_string()),
                }
            }
        }
    )*};
}

failure_from!(MailError, SmsError);

impl Attempt {
    /// How attempt number `attempt` went, in the outbox's terms: a transient failure is retried
    /// until the last attempt.
    pub(crate) fn after(attempt: i32, result: Result<Option<String>, Failure>) -> Attempt {
        match result {
            Ok(external_id) => Attempt::Sent(external_id),
            Err(Failure::Transient(reason)) if attempt < MAX_ATTEMPTS => Attempt::Retry(reason),
            Err(Failure::Transient(r)) => Attempt::Failed(format!("gave up after {attempt} attempts: {r}")),
            Err(Failure::Permanent(e)) => Attempt::Failed(e),
        }
    }
}

/// Marks outbox row `id` with attempt number `attempts` and its outcome: sent, put back with a
/// later retry time (the last reason stays on the pending row, so a stuck message says why), or
/// failed.
async fn record(tx: &impl GenericClient, org: &str, id: &str, attempts: i32, outcome: Attempt) -> anyhow::Result<()> {
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

    #[test]
    fn a_transient_failure_is_retried_until_the_last_attempt() {
        let t = || Err(Failure::Transient("busy".into()));
        assert!(matches!(Attempt::after(1, t()), Attempt::Retry(r) if r == "busy"));
        assert!(matches!(Attempt::after(MAX_ATTEMPTS - 1, t()), Attempt::Retry(_)));
        assert!(
            matches!(Attempt::after(MAX_ATTEMPTS, t()), Attempt::Failed(r) if r == "gave up after 8 attempts: busy")
        );
        let refused = Attempt::after(1, Err(Failure::Permanent("SMS refused: no".into())));
        assert!(matches!(refused, Attempt::Failed(r) if r == "SMS refused: no"));
        assert!(matches!(Attempt::after(3, Ok(Some("SM1".into()))), Attempt::Sent(Some(s)) if s == "SM1"));
    }
}

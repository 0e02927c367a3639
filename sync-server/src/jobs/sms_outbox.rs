//! The SMS outbox job: sends the texts queued in `communications` (channel `sms`,
//! [`crate::sms::queue`]) through Twilio, with the mail outbox's retries and backoff, and keeps
//! Twilio's Message SID in `external_id` for its status callbacks. Each row is claimed
//! `FOR UPDATE SKIP LOCKED` in its own transaction, so two instances never send one twice.

use super::mail_outbox::{Attempt, MAX_ATTEMPTS, record};
use crate::AppState;
use crate::db::{self, Prepared};
use crate::sms::{self, SmsError};

/// Sends up to `batch` due texts; answers how many it settled.
pub async fn drain(state: &AppState, batch: i64) -> anyhow::Result<usize> {
    let mut client = state.pool.get().await?;
    let orgs = db::orgs_with(&client, "tourdesk_orgs_with_due_sms", &[]).await?;
    if orgs.is_empty() {
        return Ok(0);
    }
    let cfg = &state.config.sms;
    let http = reqwest::Client::new();
    let limit = usize::try_from(batch.max(0))?;
    let mut settled = 0;
    for org in &orgs {
        let callback = sms::status_callback_url(&state.config.mail.public_base_url, org);
        while settled < limit {
            let tx = client.transaction().await?;
            db::set_tenant(&tx, org).await?;
            let Some(row) = tx
                .row_opt(
                    "SELECT id, recipient, content, attempts FROM communications
                     WHERE organization_id = $1 AND status = 'pending' AND channel = 'sms'
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
            let (to, text): (String, String) = (row.try_get(1)?, row.try_get(2)?);
            let attempts = row.try_get::<_, i32>(3)? + 1;
            let result = sms::send(&http, cfg, &to, &text, &callback).await;
            record(&tx, org, &id, attempts, outcome(attempts, result)).await?;
            // Sent, failed or retried later: desks see the text's state as it now is.
            db::append_communications(&tx, org, std::slice::from_ref(&id)).await?;
            tx.commit().await?;
            settled += 1;
        }
    }
    Ok(settled)
}

/// How a send went, in the outbox's terms: a transient failure is retried until the last attempt.
fn outcome(attempts: i32, result: Result<String, SmsError>) -> Attempt {
    match result {
        Ok(sid) => Attempt::Sent(Some(sid)),
        Err(SmsError::Transient(reason)) if attempts < MAX_ATTEMPTS => Attempt::Retry(reason),
        Err(SmsError::Transient(r)) => Attempt::Failed(format!("gave up after {attempts} attempts: {r}")),
        Err(e) => Attempt::Failed(e.to_string()),
    }
}

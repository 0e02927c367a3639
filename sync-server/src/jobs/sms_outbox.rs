//! The SMS outbox job: sends the texts queued in `communications` (channel `sms`,
//! [`crate::sms::queue`]) through Twilio, with the mail outbox's retries and backoff
//! (`jobs::outbox`), and keeps Twilio's Message SID in `external_id` for its status callbacks. Each row is claimed `FOR UPDATE SKIP LOCKED` in
//! its own transaction, so two instances never send one twice.

use super::outbox::{self, Attempt, Channel};
use crate::AppState;
use crate::db;
use crate::sms;

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
            let Some((tx, row)) = outbox::claim(&mut client, org, Channel::Sms).await? else { break };
            let result = sms::send(&http, cfg, &row.to, &row.content, &callback).await;
            let outcome = Attempt::after(row.attempt, result.map(Some).map_err(Into::into));
            outbox::settle(tx, org, &row, outcome).await?;
            settled += 1;
        }
    }
    Ok(settled)
}

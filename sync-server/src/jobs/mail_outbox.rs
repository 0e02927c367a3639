//! The mail outbox job: sends the e-mail queued in `communications` ([`crate::mail::queue`]),
//! with retries and backoff.
//!
//! Delivery is at least once: a crash between the relay's acceptance and the commit that marks
//! the row sent sends that one message again. Row locks make two drains never send one row twice.

use deadpool_postgres::{GenericClient, Pool};

use super::outbox::{self, Attempt, Channel};
use crate::mail::{Email, MANAGE_LINK, MANAGE_LINK_DAYS, Mailer, REVIEW_LINK, WAITLIST_CLAIM_LINK};

/// A row that failed this many times in a row is given up on (about an hour of retries).
pub use super::outbox::MAX_ATTEMPTS;
/// Rows one pass of the runner takes per call of [`drain_outbox`]; a full pass is followed at once
/// by another, so a backlog does not wait an interval per batch.
pub const BATCH: i64 = 50;

/// Sends up to `batch` due outbox rows and returns how many it settled (sent, failed, or put
/// back with a later retry time), each claimed and marked in its own transaction
/// ([`outbox::claim`]).
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
            let Some((tx, row)) = outbox::claim(&mut client, org, Channel::Email).await? else { break };
            let email = Email {
                to: row.to.clone(),
                subject: row.subject.clone().unwrap_or_default(),
                text: row.content.clone(),
            };
            let (customer_id, booking_id) = (row.customer_id.clone(), row.booking_id.clone());
            let (email, token) = fill_link(&tx, org, mailer, email, customer_id, booking_id).await?;
            let result = mailer.send(&email).await;
            // A relay that echoes the message must not leave the token in the failure reason.
            let result = match (result, token) {
                (Err(e), Some(t)) => Err(e.withhold(&t)),
                (r, _) => r,
            };
            let outcome = Attempt::after(row.attempt, result.map(|()| None).map_err(Into::into));
            outbox::settle(tx, org, &row, outcome).await?;
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

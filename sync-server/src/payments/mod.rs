//! Payments. `gateway` is the only code that talks to the payment processor (Stripe): callers
//! see Tourdesk's types ([`tourdesk_domain::money::Money`], booking and organization ids) and
//! three kinds of failure (retry later, refused, misconfigured). `intents`, `webhooks` and
//! `refunds` decide with the domain's payment rules and write PostgreSQL.

pub mod gateway;
pub mod intents;
pub mod issues;
pub mod webhooks;

pub use crate::jobs::refunds::send_queued_refunds;
pub use intents::{create_intent, ensure_intent, record_intent_row};

use crate::{AppState, db};

/// Sends the due refunds of every active organization (the worker's tick).
pub async fn send_all_refunds(state: &AppState) -> anyhow::Result<()> {
    // Which organizations have refunds due (V10's lookup, ids only); each is sent in its tenant.
    let orgs = db::orgs_with(&state.pool.get().await?, "tourdesk_orgs_with_due_refunds", &[]).await?;
    for org in orgs {
        send_queued_refunds(state, &org).await;
    }
    Ok(())
}

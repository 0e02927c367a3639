//! Payments. `gateway` is the only code that talks to the payment processor (Stripe): callers
//! see Tourdesk's types ([`tourdesk_domain::money::Money`], booking and organization ids) and
//! three kinds of failure (retry later, refused, misconfigured). `intents` and `webhooks` (and
//! the refund sender, [`crate::jobs::refunds`]) decide with the domain's payment rules and write
//! PostgreSQL.

pub mod gateway;
pub mod intents;
pub mod issues;
pub mod webhooks;

pub use crate::jobs::refunds::send_queued_refunds;
pub use intents::{create_intent, ensure_intent, record_intent_row};

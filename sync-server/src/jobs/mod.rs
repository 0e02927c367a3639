//! Background jobs, run by one runner on every server instance: seat-hold expiry (`holds`),
//! waitlist offers of the seats freed (`waitlist`), the refund sender (`refunds`), departure
//! reminders (`reminders`), review requests after a departure (`review_requests`), asking again
//! for a failed card payment (`payment_chase`) and the mail outbox (`mail_outbox`). Each claims its work with `FOR UPDATE SKIP LOCKED` or a unique index, so
//! instances running them side by side never do one piece of work twice.
//!
//! The reminder sweep takes the time it runs at (`now`) from its caller, so a test can run it at
//! the moment it needs instead of waiting for the clock. Hold expiry and the refund and mail
//! retries go by the database's clock, which their tenant lookups (V10) read.

pub mod holds;
pub mod mail_outbox;
mod outbox;
pub mod payment_chase;
pub mod refunds;
pub mod reminders;
pub mod report_mail;
pub mod review_requests;
pub mod sms_outbox;
mod sweep;
pub mod waitlist;

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use crate::AppState;
use crate::config::BookingConfig;

/// Runs [`run_once`] every `every` until the server shuts down. A pass that fails is logged and
/// the next tick tries again; the runner itself never ends early.
pub fn spawn(state: AppState, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut down = state.shutting_down.clone();
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = down.wait_for(|d| *d) => return,
            }
            // Its own task, so even a panic in a job is only a logged failed pass.
            if let Err(e) = tokio::spawn(run_once(state.clone(), Utc::now())).await {
                tracing::error!("background jobs panicked: {e}");
            }
        }
    })
}

/// One pass of every job at `now`, in the order their work feeds each other: expired holds are
/// cancelled (which may queue refunds), refunds are sent, due reminders and review requests are
/// queued, and the mail outbox (reminders included) is drained. A job that fails is logged and does not stop the others.
pub async fn run_once(state: AppState, now: DateTime<Utc>) {
    if let Err(e) = holds::release_expired(&state, now).await {
        tracing::warn!("hold expiry failed, will retry: {e:#}");
    }
    // After hold expiry, so seats a lapsed offer or an unpaid checkout gave back are offered now.
    if let Err(e) = waitlist::offer_freed_seats(&state, now).await {
        tracing::warn!("waitlist offers failed, will retry: {e:#}");
    }
    if let Err(e) = crate::allotments::release_due(&state).await {
        tracing::warn!("allotment release failed, will retry: {e:#}");
    }
    if let Err(e) = refunds::send_all(&state).await {
        tracing::warn!("refund sending failed, will retry: {e:#}");
    }
    if let Some(lead) = reminder_lead(&state.config.booking)
        && let Err(e) = reminders::queue_due(&state.pool, lead, now).await
    {
        tracing::warn!("queueing reminders failed, will retry: {e:#}");
    }
    if let Err(e) = report_mail::queue_due(&state.pool, now).await {
        tracing::warn!("queueing scheduled reports failed, will retry: {e:#}");
    }
    if let Err(e) = review_requests::queue_due(&state.pool, now).await {
        tracing::warn!("queueing review requests failed, will retry: {e:#}");
    }
    // Before the outboxes drain, so an ask queued now goes out in this pass.
    if let Err(e) = payment_chase::ask_due(&state.pool, now).await {
        tracing::warn!("asking again for failed payments failed, will retry: {e:#}");
    }
    if let Err(e) = sms_outbox::drain(&state, mail_outbox::BATCH).await {
        tracing::error!("SMS outbox pass failed: {e:#}");
    }
    loop {
        match mail_outbox::drain_outbox(&state.pool, &state.mailer, mail_outbox::BATCH).await {
            // A full batch: more may be waiting; send them now rather than an interval later.
            Ok(n) if i64::try_from(n).is_ok_and(|n| n >= mail_outbox::BATCH) && !*state.shutting_down.borrow() => {}
            Ok(_) => break,
            Err(e) => {
                tracing::error!("mail outbox pass failed: {e:#}");
                break;
            }
        }
    }
}

/// How long before a departure its bookings are reminded; `None` when reminders are off.
pub fn reminder_lead(cfg: &BookingConfig) -> Option<chrono::Duration> {
    (cfg.reminder_hours > 0).then(|| chrono::Duration::hours(i64::from(cfg.reminder_hours)))
}

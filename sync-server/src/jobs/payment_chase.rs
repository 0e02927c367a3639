//! Asking again for a card payment that failed. Stripe's `payment_intent.payment_failed` starts a
//! chase for its booking ([`start`], in the webhook's transaction); each pass of the runner takes
//! the chases whose next ask is due, asks the domain what to do (`domain::payment_chase`), and
//! either queues the balance request (the organization's template, with the link to the manage
//! page that pays the balance) through the mail outbox, waits, or stops: paid, cancelled,
//! departed, or every ask sent. Rows are claimed `FOR UPDATE SKIP LOCKED` and moved on in the
//! transaction that queues the message, so two instances never ask twice for one step.

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use tourdesk_domain::ledger::Balance;
use tourdesk_domain::payment;
use tourdesk_domain::payment_chase::{Chase, ChaseStep, StopReason, ask_due_at, next_step};

use crate::db::{self, DbError, Prepared, WriteTx};

/// Most chases looked at per organization per pass; the rest wait for the next pass.
const BATCH: i64 = 200;

/// Starts the chase of `booking_id` after a failed attempt reported at `failed_at` (Stripe's
/// clock). A chase already running keeps its schedule (a customer who tries again and fails is
/// not asked more often); one that stopped starts again from this failure, unless the failure is
/// older than the one it answered (a late delivery).
pub async fn start(w: &WriteTx<'_>, booking_id: &str, failed_at: DateTime<Utc>, event_id: &str) -> Result<(), DbError> {
    w.tx()
        .exec(
            "INSERT INTO payment_chases (organization_id, booking_id, failed_at, failure_event_id, next_ask_at)
             VALUES ($1, $2, $3, $4, $3)
             ON CONFLICT (organization_id, booking_id) DO UPDATE
                 SET failed_at = EXCLUDED.failed_at, failure_event_id = EXCLUDED.failure_event_id, asks_sent = 0,
                     next_ask_at = EXCLUDED.failed_at, stopped_at = NULL, stop_reason = NULL, updated_at = now()
                 WHERE payment_chases.stopped_at IS NOT NULL AND payment_chases.failed_at < EXCLUDED.failed_at",
            &[&w.org(), &booking_id, &failed_at, &event_id],
        )
        .await?;
    Ok(())
}

/// Works the chases of every organization that has one due at `now`; returns how many asks were
/// queued.
pub async fn ask_due(pool: &Pool, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let orgs = db::orgs_with(&pool.get().await?, "tourdesk_orgs_with_due_payment_chases", &[&now]).await?;
    let mut asked = 0;
    for org in orgs {
        asked += ask_in(pool, &org, now).await?;
    }
    Ok(asked)
}

async fn ask_in(pool: &Pool, org: &str, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut conn = pool.get().await?;
    let w = WriteTx::new(conn.transaction().await?, org).await?;
    let rows = w
        .rows(
            "SELECT booking_id, failed_at, asks_sent FROM payment_chases
             WHERE organization_id = $1 AND next_ask_at <= $2
             ORDER BY next_ask_at, booking_id
             LIMIT $3
             FOR UPDATE SKIP LOCKED",
            &[&org, &now, &BATCH],
        )
        .await?;
    let mut asked = 0;
    for r in &rows {
        let (booking_id, failed_at, asks_sent): (String, DateTime<Utc>, i32) =
            (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
        let Some(b) = db::booking_by_id(w.tx(), org, &booking_id).await? else {
            stop(&w, &booking_id, StopReason::Cancelled, now).await?;
            continue;
        };
        let Some(dep) = db::departure(w.tx(), org, &b.departure_id).await? else {
            stop(&w, &booking_id, StopReason::Cancelled, now).await?;
            continue;
        };
        let hold = db::hold_of(w.tx(), org, &booking_id).await?;
        let owed = Balance::of_booking(&b).balance_due();
        let chase = Chase {
            status: b.status,
            owed: owed.amount,
            departure_starts_at: dep.starts_at,
            failed_at,
            asks_sent: u32::try_from(asks_sent).unwrap_or(u32::MAX),
            hold_until: payment::hold_in_force(&b, hold),
        };
        match next_step(&chase, now) {
            ChaseStep::Ask => {
                crate::notices::balance_request(&w, &b, owed).await?;
                let sent = chase.asks_sent.saturating_add(1);
                match ask_due_at(failed_at, sent) {
                    Some(next) => {
                        w.exec(
                            "UPDATE payment_chases SET asks_sent = $3, last_asked_at = $4, next_ask_at = $5,
                                 updated_at = now()
                             WHERE organization_id = $1 AND booking_id = $2",
                            &[&org, &booking_id, &i32::try_from(sent)?, &now, &next],
                        )
                        .await?;
                    }
                    None => {
                        w.exec(
                            "UPDATE payment_chases SET asks_sent = $3, last_asked_at = $4, next_ask_at = NULL,
                                 stopped_at = $4, stop_reason = 'exhausted', updated_at = now()
                             WHERE organization_id = $1 AND booking_id = $2",
                            &[&org, &booking_id, &i32::try_from(sent)?, &now],
                        )
                        .await?;
                    }
                }
                asked += 1;
            }
            ChaseStep::WaitUntil(at) => {
                w.exec(
                    "UPDATE payment_chases SET next_ask_at = $3, updated_at = now()
                     WHERE organization_id = $1 AND booking_id = $2",
                    &[&org, &booking_id, &at],
                )
                .await?;
            }
            ChaseStep::Stop(why) => stop(&w, &booking_id, why, now).await?,
        }
    }
    w.commit().await?;
    if asked > 0 {
        tracing::info!(org, asked, "customers asked again to pay");
    }
    Ok(asked)
}

async fn stop(w: &WriteTx<'_>, booking_id: &str, why: StopReason, now: DateTime<Utc>) -> Result<(), DbError> {
    w.exec(
        "UPDATE payment_chases SET next_ask_at = NULL, stopped_at = $3, stop_reason = $4, updated_at = now()
         WHERE organization_id = $1 AND booking_id = $2",
        &[&w.org(), &booking_id, &now, &why.as_str()],
    )
    .await?;
    Ok(())
}

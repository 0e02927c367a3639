//! Scheduled report e-mails (issue 16, V44). A pass finds every organization with schedules,
//! asks the domain which period each is due to mail at `now` in the organization's zone
//! (`reports::schedule::due_period`), claims the period with
//! `UPDATE ... WHERE last_sent_for IS DISTINCT FROM $due RETURNING`, computes the sales summary
//! from PostgreSQL and queues one e-mail per recipient in the mail outbox, all in one
//! transaction: a period is mailed once, however many passes or server instances run (the second
//! claimant's UPDATE waits on the row lock and then matches nothing).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use deadpool_postgres::Pool;
use tourdesk_domain::reports::schedule::{Period, SalesLine, ScheduleKind, due_period, render_sales};

use crate::db;
use crate::db::Prepared;

/// The communications `type` of these mails.
pub const MAIL_TYPE: &str = "scheduled_report";

/// Queues the due reports of every organization at `now`; returns how many e-mails were queued.
pub async fn queue_due(pool: &Pool, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let orgs = db::orgs_with(&pool.get().await?, "tourdesk_orgs_with_report_schedules", &[]).await?;
    let mut queued = 0;
    for org in orgs {
        match queue_in(pool, &org, now).await {
            Ok(n) => queued += n,
            // One organization's bad row does not hold up the others.
            Err(e) => tracing::warn!(org, "scheduled reports failed, will retry: {e:#}"),
        }
    }
    Ok(queued)
}

async fn queue_in(pool: &Pool, org: &str, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut conn = pool.get().await?;
    let tx = db::write_in(&mut conn, org).await?;
    let o = tx.query_one("SELECT name, timezone FROM organizations WHERE id = $1", &[&org]).await?;
    let (org_name, zone): (String, String) = (o.try_get(0)?, o.try_get(1)?);
    let tz: Tz = zone.parse().map_err(|_| anyhow::anyhow!("stored zone {zone:?}"))?;
    let schedules = tx
        .rows(
            "SELECT id, kind, send_hour, last_sent_for FROM report_schedules WHERE organization_id = $1 ORDER BY id",
            &[&org],
        )
        .await?;
    let mut queued = 0;
    for s in &schedules {
        let (id, kind): (String, String) = (s.try_get(0)?, s.try_get(1)?);
        let kind = ScheduleKind::parse(&kind).ok_or_else(|| anyhow::anyhow!("stored report kind {kind:?}"))?;
        let hour: i16 = s.try_get(2)?;
        let Some(period) = due_period(kind, u32::try_from(hour)?, tz, now) else { continue };
        if s.try_get::<_, Option<NaiveDate>>(3)? == Some(period.first) {
            continue;
        }
        // The claim: only one pass, on one instance, moves it to this period.
        let claimed = tx
            .rows(
                "UPDATE report_schedules SET last_sent_for = $3, updated_at = now()
                 WHERE organization_id = $1 AND id = $2 AND last_sent_for IS DISTINCT FROM $3
                 RETURNING recipient_user_ids, recipient_roles",
                &[&org, &id, &period.first],
            )
            .await?;
        let Some(c) = claimed.first() else { continue };
        let (user_ids, roles): (Vec<String>, Vec<String>) = (c.try_get(0)?, c.try_get(1)?);
        let lines = sales(&tx, org, period).await?;
        let (subject, text) = render_sales(&org_name, kind, period, &zone, &lines);
        let recipients = tx
            .rows(
                "SELECT id, email FROM staff_users WHERE organization_id = $1 AND active
                   AND (id = ANY($2) OR role = ANY($3)) ORDER BY id",
                &[&org, &user_ids, &roles],
            )
            .await?;
        for r in &recipients {
            let (user_id, email): (String, String) = (r.try_get(0)?, r.try_get(1)?);
            tx.exec(
                "INSERT INTO communications (id, organization_id, staff_user_id, channel, direction, type,
                     subject, content, status, recipient, attempts, next_attempt_at)
                 VALUES ($1, $2, $3, 'email', 'outbound', $4, $5, $6, 'pending', $7, 0, now())",
                &[&uuid::Uuid::new_v4().to_string(), &org, &user_id, &MAIL_TYPE, &subject, &text, &email],
            )
            .await?;
            queued += 1;
        }
    }
    tx.commit().await?;
    if queued > 0 {
        tracing::info!(org, queued, "scheduled reports queued");
    }
    Ok(queued)
}

/// The period's figures per currency, from PostgreSQL: bookings made in it (as the desk's
/// revenue report counts them: not pending holds, not cancelled unpaid ones) with their seats and
/// subtotal less discounts; refunds paid out in it (ledger); bookings cancelled in it. Days are
/// the organization's local days.
pub async fn sales(tx: &impl Prepared, org: &str, period: Period) -> anyhow::Result<Vec<SalesLine>> {
    let rows = tx
        .rows(
            "WITH o AS (SELECT timezone FROM organizations WHERE id = $1),
             made AS (
                 SELECT b.currency, count(*) AS n, sum(b.participant_count)::bigint AS seats,
                        sum(b.subtotal_minor - coalesce((SELECT sum((d->'amount'->>'amount')::bigint)
                              FROM jsonb_array_elements(b.pricing->'discounts') d), 0))::bigint AS revenue
                 FROM bookings b, o
                 WHERE b.organization_id = $1 AND b.status <> 'pending'
                   AND NOT (b.status = 'cancelled' AND b.paid_amount_minor = 0)
                   AND (b.created_at AT TIME ZONE o.timezone)::date BETWEEN $2 AND $3
                 GROUP BY 1),
             refunded AS (
                 SELECT l.currency, sum(l.amount_minor)::bigint AS amount
                 FROM ledger_entries l, o
                 WHERE l.organization_id = $1 AND l.kind = 'refund'
                   AND (l.recorded_at AT TIME ZONE o.timezone)::date BETWEEN $2 AND $3
                 GROUP BY 1),
             cancelled AS (
                 SELECT b.currency, count(*) AS n
                 FROM bookings b, o
                 WHERE b.organization_id = $1 AND b.status = 'cancelled' AND b.cancelled_at IS NOT NULL
                   AND (b.cancelled_at AT TIME ZONE o.timezone)::date BETWEEN $2 AND $3
                 GROUP BY 1),
             cur AS (SELECT currency FROM made UNION SELECT currency FROM refunded UNION SELECT currency FROM cancelled)
             SELECT cur.currency, coalesce(made.n, 0), coalesce(made.seats, 0), coalesce(made.revenue, 0),
                    coalesce(refunded.amount, 0), coalesce(cancelled.n, 0)
             FROM cur LEFT JOIN made USING (currency) LEFT JOIN refunded USING (currency)
                      LEFT JOIN cancelled USING (currency)
             ORDER BY cur.currency",
            &[&org, &period.first, &period.last],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(SalesLine {
                currency: r.try_get(0)?,
                bookings: r.try_get(1)?,
                seats: r.try_get(2)?,
                revenue_minor: r.try_get(3)?,
                refunds_minor: r.try_get(4)?,
                cancellations: r.try_get(5)?,
            })
        })
        .collect()
}

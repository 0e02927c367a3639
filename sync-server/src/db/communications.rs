//! The communications log on the change log: every row of `communications` that is a customer's
//! (`tourdesk_domain::communication::replicates`) is logged to the buckets the domain gives it
//! (`RowScope::Office`: office desks) when it is written and each time its delivery state changes,
//! so a desk's booking and customer pages show what was sent and whether it arrived.
//!
//! Writers name the rows they touched: in a [`WriteTx`] (a push, a webhook) with
//! [`log_communications`], queued for its commit like every other change; in a job's plain
//! transaction (the mail outbox, reminders, a link sent at once) with [`append_communications`],
//! the last statement before its COMMIT, so the counter is locked last as everywhere else.

use deadpool_postgres::GenericClient;
use tourdesk_domain::communication::{Communication, replicates};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::replication::RowScope;

use super::{DbError, LogRow, Prepared, WriteTx};

pub const COMMUNICATION_COLS: &str = "id, organization_id, customer_id, booking_id, channel, direction, type, subject, \
     status, sent_at, delivered_at, failure_reason, created_at";

pub fn communication_from_row(r: &tokio_postgres::Row) -> Result<Communication, DbError> {
    Ok(Communication {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        customer_id: r.try_get::<_, Option<String>>(2)?.unwrap_or_default(),
        booking_id: r.try_get(3)?,
        channel: r.try_get(4)?,
        direction: r.try_get(5)?,
        kind: r.try_get(6)?,
        subject: r.try_get(7)?,
        status: r.try_get(8)?,
        sent_at: r.try_get(9)?,
        delivered_at: r.try_get(10)?,
        failure_reason: r.try_get(11)?,
        created_at: r.try_get(12)?,
    })
}

/// The customer communications among `ids`, as they now are.
pub async fn communications_by_id(
    c: &impl GenericClient,
    org: &str,
    ids: &[String],
) -> Result<Vec<Communication>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COMMUNICATION_COLS} FROM communications
         WHERE organization_id = $1 AND id = ANY($2) AND customer_id IS NOT NULL ORDER BY created_at, id"
    );
    c.rows(&sql, &[&org, &ids]).await?.iter().map(communication_from_row).collect()
}

/// The change-log rows of `ids` (only customers' rows replicate).
async fn log_rows(c: &impl GenericClient, org: &str, ids: &[String]) -> Result<Vec<LogRow>, DbError> {
    let buckets = RowScope::of_reference(EntityKind::Communication)
        .ok_or_else(|| DbError::Corrupt("communications have no replication scope".into()))?
        .buckets(org);
    let mut rows = Vec::new();
    for m in communications_by_id(c, org, ids).await? {
        if !replicates(Some(&m.customer_id)) {
            continue;
        }
        let value = serde_json::to_value(&m)?;
        rows.extend(buckets.iter().map(|b| LogRow::put(b.clone(), EntityKind::Communication, &m.id, value.clone())));
    }
    Ok(rows)
}

/// Queues the rows `ids` as they now are for `w`'s change log.
pub async fn log_communications(w: &WriteTx<'_>, ids: &[String]) -> Result<(), DbError> {
    let rows = log_rows(w.tx(), w.org(), ids).await?;
    w.log(rows);
    Ok(())
}

/// Appends the rows `ids` as they now are to the change log in a transaction that is no
/// [`WriteTx`] (a job's): the caller commits right after.
pub async fn append_communications(c: &impl GenericClient, org: &str, ids: &[String]) -> Result<(), DbError> {
    let rows = log_rows(c, org, ids).await?;
    super::write::append(c, org, None, &rows, &[]).await
}

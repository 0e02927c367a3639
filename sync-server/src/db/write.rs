//! A writer's transaction. Every change to replicated rows goes through a [`WriteTx`]: the
//! `put_*` queries write their rows at once and leave what the change log and the audit log
//! must say about them here; [`WriteTx::commit`] appends both just before COMMIT.
//!
//! Why at the end: change sequence numbers come from the organization's counter row, whose lock
//! is held to commit so that seq order is commit order (a pull can then never skip a row that
//! commits late). Taken at the start, that lock would queue every writer of an organization for
//! its whole transaction; taken last, it is held for one statement and the commit. Lock order is
//! therefore: the client row (pushes), the rows a mutation declared (sorted), the counter — the
//! counter always last, so it is never part of a wait cycle.

use std::sync::{Mutex, MutexGuard, PoisonError};

use deadpool_postgres::{GenericClient, Transaction};
use serde_json::Value;
use tourdesk_domain::protocol::{EntityKind, Op};

use super::{DbError, LogRow};

/// One audit row waiting for commit. `actor` is a staff user's id or a named non-staff actor
/// (`website`, `stripe`, `system:…`); only the former fills the foreign key.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<Value>,
    pub after: Value,
}

impl AuditRow {
    /// `actor` did `action` to the row `entity_id` of `entity`, which was `before` and is `after`.
    pub fn new(
        actor: &str,
        action: &str,
        (entity, entity_id): (&str, &str),
        before: Option<&Value>,
        after: &Value,
    ) -> Self {
        let (actor, action, entity, entity_id) = (actor.into(), action.into(), entity.into(), entity_id.into());
        AuditRow { actor, action, entity, entity_id, before: before.cloned(), after: after.clone() }
    }
}

#[derive(Default)]
struct Pending {
    log: Vec<LogRow>,
    audit: Vec<AuditRow>,
    /// A savepoint is open (kept or rolled back to), to be released by the next one.
    open_savepoint: bool,
}

/// Where a savepoint started, so rolling back to it also forgets what was logged since.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    log: usize,
    audit: usize,
}

pub struct WriteTx<'a> {
    tx: Transaction<'a>,
    org: String,
    /// The device a push came from, recorded with its audit rows (`None`: the website, Stripe,
    /// a job).
    device: Option<String>,
    // Touched only between awaits, never held across one; a Mutex keeps the futures Send.
    pending: Mutex<Pending>,
}

impl<'a> WriteTx<'a> {
    /// Makes `tx` a writer in `org`'s tenant (row-level security follows the setting).
    pub async fn new(tx: Transaction<'a>, org: &str) -> Result<WriteTx<'a>, DbError> {
        super::set_tenant(&tx, org).await?;
        Ok(WriteTx { tx, org: org.to_string(), device: None, pending: Mutex::new(Pending::default()) })
    }

    /// Makes `tx` a writer in the active organization with public `slug`, looked up and made
    /// the tenant in one statement; `None` when there is none.
    pub async fn by_slug(tx: Transaction<'a>, slug: &str) -> Result<Option<WriteTx<'a>>, DbError> {
        let Some(org) = super::enter_org_by_slug(&tx, slug).await? else { return Ok(None) };
        Ok(Some(WriteTx { tx, org, device: None, pending: Mutex::new(Pending::default()) }))
    }

    /// Records `device` with this transaction's audit rows (a push names the device it came from).
    pub fn set_device(&mut self, device: &str) {
        self.device = Some(device.to_string());
    }

    pub fn org(&self) -> &str {
        &self.org
    }

    /// The transaction, for reads and for writes that are not replicated.
    pub fn tx(&self) -> &Transaction<'a> {
        &self.tx
    }

    fn pending(&self) -> MutexGuard<'_, Pending> {
        // A panic elsewhere cannot leave these vectors half-updated: each change is one push.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues rows for the change log of this organization.
    pub fn log(&self, rows: impl IntoIterator<Item = LogRow>) {
        self.pending().log.extend(rows);
    }

    /// Queues one change for each of `buckets`.
    pub fn log_change(
        &self,
        buckets: &[String],
        entity: tourdesk_domain::protocol::EntityKind,
        id: &str,
        op: Op,
        row: Option<Value>,
    ) {
        self.log(buckets.iter().map(|b| LogRow {
            bucket: b.clone(),
            entity,
            id: id.to_string(),
            op,
            row: row.clone(),
        }));
    }

    pub fn audit(&self, row: AuditRow) {
        self.pending().audit.push(row);
    }

    /// Starts a savepoint. The one before it, if any, is released in the same round trip: a
    /// push runs one savepoint per mutation, and a separate RELEASE would cost a round trip each.
    pub async fn savepoint(&self) -> Result<Mark, DbError> {
        // The mark is taken before the first await, so that a body pipelined behind this
        // statement (see `in_savepoint`) can only queue rows after it.
        let (open, mark) = {
            let mut p = self.pending();
            (std::mem::replace(&mut p.open_savepoint, true), Mark { log: p.log.len(), audit: p.audit.len() })
        };
        self.tx.batch_execute(if open { "RELEASE SAVEPOINT w; SAVEPOINT w" } else { "SAVEPOINT w" }).await?;
        Ok(mark)
    }

    /// Runs `body` inside a new savepoint whose statements travel in the same round trip as the
    /// body's first queries. Should the savepoint fail, the body's queries fail behind it as
    /// "transaction aborted" and the savepoint's own error is returned.
    pub async fn in_savepoint<T>(&self, body: impl Future<Output = T>) -> Result<(Mark, T), DbError> {
        // join! polls in order: the savepoint is sent before anything of the body.
        let (mark, out) = tokio::join!(self.savepoint(), body);
        Ok((mark?, out))
    }

    /// Keeps what was done since `mark`. The savepoint itself is released by the next one, or by
    /// COMMIT.
    pub fn release(&self, _mark: Mark) {}

    /// Undoes everything since `mark`, in the database and in what waits for commit.
    pub async fn rollback_to(&self, mark: Mark) -> Result<(), DbError> {
        self.tx.batch_execute("ROLLBACK TO SAVEPOINT w").await?;
        let mut p = self.pending();
        p.log.truncate(mark.log);
        p.audit.truncate(mark.audit);
        Ok(())
    }

    /// Runs `last`, the transaction's final statements, with the audit rows and the change log
    /// pipelined behind them: one round trip for all. Commit right after: the change log's
    /// counter is now locked.
    pub async fn finish<T>(&self, last: impl Future<Output = Result<T, DbError>>) -> Result<T, DbError> {
        let (log, audit) = {
            let mut p = self.pending();
            (std::mem::take(&mut p.log), std::mem::take(&mut p.audit))
        };
        let (out, l) = tokio::join!(last, append(&self.tx, &self.org, self.device.as_deref(), &log, &audit));
        l?;
        out
    }

    /// Undoes the whole transaction (nothing of it was logged or announced).
    pub async fn rollback(self) -> Result<(), DbError> {
        Ok(self.tx.rollback().await?)
    }

    /// Appends the audit rows and the change log (numbered from the counter, which stays locked
    /// to commit, and announced to listeners on commit), then commits.
    pub async fn commit(self) -> Result<(), DbError> {
        self.finish(async { Ok(()) }).await?;
        Ok(self.tx.commit().await?)
    }
}

impl<'a> std::ops::Deref for WriteTx<'a> {
    type Target = Transaction<'a>;
    fn deref(&self) -> &Transaction<'a> {
        &self.tx
    }
}

/// One statement: insert the audit rows (append-only, V18), take numbers from the organization's
/// counter (locking it to commit) for the change-log rows and one per audit row, insert them
/// in queue order with the audit rows last (each logged to `org:{id}:audit`, which only owners'
/// and admins' devices receive), and NOTIFY (delivered only if this commits).
pub async fn append(
    c: &impl GenericClient,
    org: &str,
    device: Option<&str>,
    rows: &[LogRow],
    audit: &[AuditRow],
) -> Result<(), DbError> {
    if rows.is_empty() && audit.is_empty() {
        return Ok(());
    }
    let n_log = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let n = n_log.saturating_add(i64::try_from(audit.len()).unwrap_or(i64::MAX));
    let buckets: Vec<&str> = rows.iter().map(|r| r.bucket.as_str()).collect();
    let entities: Vec<&str> = rows.iter().map(|r| r.entity.as_str()).collect();
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let ops: Vec<&str> = rows
        .iter()
        .map(|r| match r.op {
            Op::Put => "put",
            Op::Delete => "delete",
        })
        .collect();
    let values: Vec<Option<&Value>> = rows.iter().map(|r| r.row.as_ref()).collect();
    let col = |f: fn(&AuditRow) -> &str| audit.iter().map(f).collect::<Vec<&str>>();
    let (actors, actions, audit_entities, entity_ids) =
        (col(|r| &r.actor), col(|r| &r.action), col(|r| &r.entity), col(|r| &r.entity_id));
    let befores: Vec<Option<&Value>> = audit.iter().map(|r| r.before.as_ref()).collect();
    let afters: Vec<&Value> = audit.iter().map(|r| &r.after).collect();
    let audit_bucket = tourdesk_domain::protocol::audit_bucket(org);
    let audit_kind = EntityKind::AuditLog.as_str();
    // The audit row's change-log form is `tourdesk_domain::audit::AuditRecord`'s serde form.
    let stmt = c
        .prepare_cached(
            "WITH audited AS (
                 INSERT INTO audit_logs (organization_id, actor_user_id, actor, device_id, action, entity, entity_id, before, after)
                 SELECT $1, s.id, a.actor, $9, a.action, a.entity, a.entity_id, a.before, a.after
                 FROM unnest($10::text[], $11::text[], $12::text[], $13::text[], $14::jsonb[], $15::jsonb[]) WITH ORDINALITY
                      AS a(actor, action, entity, entity_id, before, after, n)
                 LEFT JOIN staff_users s ON s.organization_id = $1 AND s.id = a.actor
                 ORDER BY a.n
                 RETURNING id, actor_user_id, actor, device_id, action, entity, entity_id, before, after, created_at
             ), counter AS (
                 INSERT INTO org_sync (organization_id, seq) VALUES ($1, $2)
                 ON CONFLICT (organization_id) DO UPDATE SET seq = org_sync.seq + $2
                 RETURNING seq
             ), logged AS (
                 INSERT INTO sync_changes (organization_id, seq, bucket, entity, row_id, op, row)
                 SELECT $1, counter.seq - $2 + t.n, t.b, t.e, t.i, t.o, t.r
                 FROM counter, (
                     SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[]) WITH ORDINALITY
                          AS l(b, e, i, o, r, n)
                     UNION ALL
                     SELECT $16, $17, a.id::text, 'put',
                            jsonb_build_object('id', a.id::text, 'organization_id', $1::text, 'actor', a.actor,
                                'actor_user_id', a.actor_user_id, 'device_id', a.device_id, 'action', a.action,
                                'entity', a.entity, 'entity_id', a.entity_id, 'before', a.before, 'after', a.after,
                                'created_at', a.created_at),
                            $18 + row_number() OVER (ORDER BY a.id)
                     FROM audited a
                 ) AS t(b, e, i, o, r, n)
                 RETURNING seq
             )
             SELECT pg_notify($8, $1 || ':' || (SELECT seq FROM counter)) WHERE EXISTS (SELECT 1 FROM logged)",
        )
        .await?;
    c.execute(
        &stmt,
        &[
            &org,
            &n,
            &buckets,
            &entities,
            &ids,
            &ops,
            &values,
            &crate::events::CHANNEL,
            &device,
            &actors,
            &actions,
            &audit_entities,
            &entity_ids,
            &befores,
            &afters,
            &audit_bucket,
            &audit_kind,
            &n_log,
        ],
    )
    .await?;
    Ok(())
}

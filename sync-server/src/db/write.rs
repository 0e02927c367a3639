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
use tokio_postgres::types::ToSql;
use tourdesk_domain::Departure;
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
    /// Seats to take by the statement that ends the transaction (see [`WriteTx::sell_seats`]).
    sale: Option<QueuedSale>,
}

/// Seats decided on a departure read without its row lock (`apply::run_mutation_late_seats`),
/// taken by V34's guarded `sell_departure_seats` in the statement that appends the change log.
#[derive(Debug, Clone)]
pub struct SeatSale {
    /// The departure as the decision left it: as read, with `seats` more booked.
    pub departure: Departure,
    pub seats: u32,
    /// The highest booked count on which the decision holds (`capacity::plain_sale_ceiling`).
    pub ceiling: u32,
}

#[derive(Debug)]
struct QueuedSale {
    sale: SeatSale,
    /// Where the departure's change-log rows and audit row are in the queues: their
    /// `booked_count` becomes the one the guarded update returns.
    log_rows: Vec<i64>,
    audit_row: i64,
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

    /// Queues a seat sale decided on an unlocked read of its departure, with the departure's
    /// change-log rows and its audit row (`before` as read, after as decided): the sale is made
    /// by the statement that ends the transaction, under the departure's row lock for only that
    /// statement and the commit. Should the departure have changed in a way the decision did not
    /// allow for, that statement fails as a serialization failure (SQLSTATE 40001) and nothing of
    /// the transaction stays; the caller decides again under the lock.
    pub fn sell_seats(&self, sale: SeatSale, actor: &str, action: &str, before: Option<&Value>) -> Result<(), DbError> {
        let d = &sale.departure;
        let after = serde_json::to_value(d)?;
        let buckets = super::departure_buckets(&self.org, &d.id);
        let audit = AuditRow::new(actor, action, ("departure", &d.id), before, &after);
        let mut p = self.pending();
        if p.sale.is_some() {
            return Err(DbError::Corrupt("a second seat sale in one transaction".into()));
        }
        // Positions are 1-based, as `WITH ORDINALITY` counts.
        let first = i64::try_from(p.log.len())?.saturating_add(1);
        let log_rows = (first..).take(buckets.len()).collect();
        for bucket in buckets {
            p.log.push(LogRow::put(bucket, EntityKind::Departure, &d.id, after.clone()));
        }
        p.audit.push(audit);
        let audit_row = i64::try_from(p.audit.len())?;
        p.sale = Some(QueuedSale { sale, log_rows, audit_row });
        Ok(())
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
        if p.sale.as_ref().is_some_and(|s| s.audit_row > i64::try_from(mark.audit).unwrap_or(i64::MAX)) {
            p.sale = None;
        }
        Ok(())
    }

    /// Runs `last`, the transaction's final statements, with the audit rows and the change log
    /// pipelined behind them: one round trip for all. Commit right after: the change log's
    /// counter is now locked.
    pub async fn finish<T>(&self, last: impl Future<Output = Result<T, DbError>>) -> Result<T, DbError> {
        let (log, audit, sale) = self.take_pending();
        let (out, l) =
            tokio::join!(last, append_with(&self.tx, &self.org, self.device.as_deref(), &log, &audit, sale.as_ref()));
        l?;
        out
    }

    fn take_pending(&self) -> (Vec<LogRow>, Vec<AuditRow>, Option<QueuedSale>) {
        let mut p = self.pending();
        (std::mem::take(&mut p.log), std::mem::take(&mut p.audit), p.sale.take())
    }

    /// Undoes the whole transaction (nothing of it was logged or announced).
    pub async fn rollback(self) -> Result<(), DbError> {
        Ok(self.tx.rollback().await?)
    }

    /// Appends the audit rows and the change log (numbered from the counter, which stays locked
    /// to commit, and announced to listeners on commit), takes a queued seat sale's seats, then
    /// commits.
    ///
    /// The appending statement and COMMIT travel in one round trip: the counter's (and a sale's
    /// departure's) row lock is held for that statement and the WAL flush, not also for a reply
    /// and a wake-up of this task. COMMIT is sent as `COMMIT; BEGIN` from inside the transaction
    /// object, which then ends the empty transaction BEGIN opened (no write, no flush). Should the
    /// statement fail, the pipelined COMMIT finds the transaction aborted and rolls it back, and
    /// the statement's error is returned.
    pub async fn commit(self) -> Result<(), DbError> {
        let (log, audit, sale) = self.take_pending();
        if log.is_empty() && audit.is_empty() {
            return Ok(self.tx.commit().await?);
        }
        let (stmt, params) = AppendParams::new(&self.org, self.device.as_deref(), &log, &audit, sale.as_ref());
        // Prepared first: a statement-cache miss would send its parse and wait, letting COMMIT
        // overtake the statement.
        let stmt = self.tx.prepare_cached(stmt).await?;
        let params = params.refs();
        let (appended, committed) =
            tokio::join!(biased; self.tx.execute(&stmt, &params), self.tx.batch_execute("COMMIT; BEGIN"));
        appended?;
        committed?;
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
    append_with(c, org, device, rows, audit, None).await
}

async fn append_with(
    c: &impl GenericClient,
    org: &str,
    device: Option<&str>,
    rows: &[LogRow],
    audit: &[AuditRow],
    sale: Option<&QueuedSale>,
) -> Result<(), DbError> {
    if rows.is_empty() && audit.is_empty() {
        return Ok(());
    }
    let (sql, params) = AppendParams::new(org, device, rows, audit, sale);
    let stmt = c.prepare_cached(sql).await?;
    c.execute(&stmt, &params.refs()).await?;
    Ok(())
}

/// The audit rows, the counter and the change log (see [`append`]). With a seat sale, the
/// departure's row is updated first (V34's `sell_departure_seats`, which fails the statement when
/// its guard does not hold): the counter row is only reached through its result, so the two
/// hot rows are locked in the writers' order (departure, then counter), and the departure's
/// change-log and audit rows carry the `booked_count` the update made.
fn append_sql(sale: bool) -> String {
    let (seats, counter_from, audit_before, audit_after, logged_row) = if sale {
        (
            "seats AS (
                 SELECT sell_departure_seats($1, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29) AS booked
             ), ",
            " FROM seats",
            "CASE WHEN a.n = $31 THEN jsonb_set(a.before, '{booked_count}', to_jsonb((SELECT booked FROM seats) - $20))
                   ELSE a.before END",
            "CASE WHEN a.n = $31 THEN jsonb_set(a.after, '{booked_count}', to_jsonb((SELECT booked FROM seats)))
                   ELSE a.after END",
            "CASE WHEN l.n = ANY($30::bigint[]) THEN jsonb_set(l.r, '{booked_count}', to_jsonb((SELECT booked FROM seats)))
                   ELSE l.r END",
        )
    } else {
        ("", "", "a.before", "a.after", "l.r")
    };
    let counter_values = if sale { "SELECT $1, $2" } else { "VALUES ($1, $2)" };
    format!(
        "WITH {seats}audited AS (
             INSERT INTO audit_logs (organization_id, actor_user_id, actor, device_id, action, entity, entity_id, before, after)
             SELECT $1, s.id, a.actor, $9, a.action, a.entity, a.entity_id, {audit_before}, {audit_after}
             FROM unnest($10::text[], $11::text[], $12::text[], $13::text[], $14::jsonb[], $15::jsonb[]) WITH ORDINALITY
                  AS a(actor, action, entity, entity_id, before, after, n)
             LEFT JOIN staff_users s ON s.organization_id = $1 AND s.id = a.actor
             ORDER BY a.n
             RETURNING id, actor_user_id, actor, device_id, action, entity, entity_id, before, after, created_at
         ), counter AS (
             INSERT INTO org_sync (organization_id, seq) {counter_values}{counter_from}
             ON CONFLICT (organization_id) DO UPDATE SET seq = org_sync.seq + $2
             RETURNING seq
         ), logged AS (
             INSERT INTO sync_changes (organization_id, seq, bucket, entity, row_id, op, row)
             SELECT $1, counter.seq - $2 + t.n, t.b, t.e, t.i, t.o, t.r
             FROM counter, (
                 SELECT l.b, l.e, l.i, l.o, {logged_row}, l.n
                 FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[]) WITH ORDINALITY
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
         SELECT pg_notify($8, $1 || ':' || (SELECT seq FROM counter)) WHERE EXISTS (SELECT 1 FROM logged)"
    )
}

static APPEND: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| append_sql(false));
static APPEND_WITH_SALE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| append_sql(true));

/// The parameters of [`append_sql`], owned so that a caller can hold them across the round trip
/// it shares with COMMIT.
struct AppendParams<'r> {
    org: &'r str,
    n: i64,
    buckets: Vec<&'r str>,
    entities: Vec<&'r str>,
    ids: Vec<&'r str>,
    ops: Vec<&'static str>,
    values: Vec<Option<&'r Value>>,
    device: Option<&'r str>,
    actors: Vec<&'r str>,
    actions: Vec<&'r str>,
    audit_entities: Vec<&'r str>,
    entity_ids: Vec<&'r str>,
    befores: Vec<Option<&'r Value>>,
    afters: Vec<&'r Value>,
    audit_bucket: String,
    audit_kind: &'static str,
    n_log: i64,
    sale: Option<SaleParams<'r>>,
}

struct SaleParams<'r> {
    d: &'r Departure,
    seats: i32,
    ceiling: i32,
    capacity: i32,
    status: &'static str,
    log_rows: &'r [i64],
    audit_row: i64,
}

impl<'r> AppendParams<'r> {
    fn new(
        org: &'r str,
        device: Option<&'r str>,
        rows: &'r [LogRow],
        audit: &'r [AuditRow],
        sale: Option<&'r QueuedSale>,
    ) -> (&'static str, AppendParams<'r>) {
        let n_log = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        let n = n_log.saturating_add(i64::try_from(audit.len()).unwrap_or(i64::MAX));
        let col = |f: fn(&AuditRow) -> &str| audit.iter().map(f).collect::<Vec<&str>>();
        // Counts beyond i32 cannot be in a row of `schedules`: the guard then refuses the sale.
        let int = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        let sale = sale.map(|q| SaleParams {
            d: &q.sale.departure,
            seats: int(q.sale.seats),
            ceiling: int(q.sale.ceiling),
            capacity: int(q.sale.departure.capacity),
            status: q.sale.departure.status.as_str(),
            log_rows: &q.log_rows,
            audit_row: q.audit_row,
        });
        let params = AppendParams {
            org,
            n,
            buckets: rows.iter().map(|r| r.bucket.as_str()).collect(),
            entities: rows.iter().map(|r| r.entity.as_str()).collect(),
            ids: rows.iter().map(|r| r.id.as_str()).collect(),
            ops: rows
                .iter()
                .map(|r| match r.op {
                    Op::Put => "put",
                    Op::Delete => "delete",
                })
                .collect(),
            values: rows.iter().map(|r| r.row.as_ref()).collect(),
            device,
            actors: col(|r| &r.actor),
            actions: col(|r| &r.action),
            audit_entities: col(|r| &r.entity),
            entity_ids: col(|r| &r.entity_id),
            befores: audit.iter().map(|r| r.before.as_ref()).collect(),
            afters: audit.iter().map(|r| &r.after).collect(),
            audit_bucket: tourdesk_domain::protocol::audit_bucket(org),
            // The audit row's change-log form is `tourdesk_domain::audit::AuditRecord`'s serde form.
            audit_kind: EntityKind::AuditLog.as_str(),
            n_log,
            sale,
        };
        let sql = if params.sale.is_some() { APPEND_WITH_SALE.as_str() } else { APPEND.as_str() };
        (sql, params)
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        let mut p: Vec<&(dyn ToSql + Sync)> = vec![
            &self.org,
            &self.n,
            &self.buckets,
            &self.entities,
            &self.ids,
            &self.ops,
            &self.values,
            &crate::events::CHANNEL,
            &self.device,
            &self.actors,
            &self.actions,
            &self.audit_entities,
            &self.entity_ids,
            &self.befores,
            &self.afters,
            &self.audit_bucket,
            &self.audit_kind,
            &self.n_log,
        ];
        if let Some(s) = &self.sale {
            p.extend([
                &s.d.id as &(dyn ToSql + Sync),
                &s.seats,
                &s.ceiling,
                &s.d.local_date,
                &s.d.local_time,
                &s.d.timezone,
                &s.d.starts_at,
                &s.d.ends_at,
                &s.capacity,
                &s.status,
                &s.d.notes,
                &s.log_rows,
                &s.audit_row,
            ]);
        }
        p
    }
}

//! The authoritative side of sync: replay desks' intent mutations against PostgreSQL, and serve
//! the change log back.

use deadpool_postgres::Transaction;
use tokio_postgres::IsolationLevel;
use tourdesk_domain::mutation::{Mutation, MutationCtx};
use tourdesk_domain::protocol::{
    BucketPage, ChangeRecord, EntityKind, MutationEnvelope, MutationResult, Op, OutcomeStatus, PullRequest,
    PullResponse, PushRequest, PushResponse, SCHEMA_VERSION,
};
use tourdesk_domain::replication::{self, Bucket};
use tourdesk_domain::validate;

use crate::auth::Staff;
use crate::db::{Prepared, WriteTx};
use crate::{AppError, AppState, apply, db};

const DEFAULT_PAGE: u32 = 1000;
const MAX_PAGE: u32 = 5000;
const MAX_PUSH: usize = 1000;

fn check_version(v: u32) -> Result<(), AppError> {
    if v == SCHEMA_VERSION {
        return Ok(());
    }
    let (code, message) = if v < SCHEMA_VERSION {
        (
            "CLIENT_TOO_OLD",
            format!("this desk speaks sync version {v}; the server needs {SCHEMA_VERSION}. Update the app."),
        )
    } else {
        ("SERVER_TOO_OLD", format!("this desk speaks sync version {v}; the server only knows {SCHEMA_VERSION}."))
    };
    Err(AppError::BadRequest {
        status: axum::http::StatusCode::CONFLICT,
        code,
        message,
        field: Some("schema_version".into()),
    })
}

/// Locks (registering on first contact) the client's row and returns its watermark. A client id
/// belongs to one user of one organization for life; anyone else presenting it is refused.
async fn lock_client(tx: &Transaction<'_>, staff: &Staff, client_id: &str) -> Result<u64, AppError> {
    tx.exec(
        "INSERT INTO sync_clients (client_id, organization_id, user_id) VALUES ($1, $2, $3)
         ON CONFLICT (client_id) DO NOTHING",
        &[&client_id, &staff.organization_id, &staff.user_id],
    )
    .await?;
    // Client ids are global but the row of another organization's client is invisible in this
    // tenant: the insert above did nothing and nothing is found, which is the same refusal.
    let registered_elsewhere = || AppError::Forbidden("this client id is registered to another user".into());
    let row = tx
        .row_opt(
            "SELECT organization_id, user_id, last_mutation_id FROM sync_clients
             WHERE organization_id = $1 AND client_id = $2 FOR UPDATE",
            &[&staff.organization_id, &client_id],
        )
        .await?
        .ok_or_else(registered_elsewhere)?;
    let (org, user): (String, String) =
        (row.try_get(0).map_err(anyhow::Error::from)?, row.try_get(1).map_err(anyhow::Error::from)?);
    if org != staff.organization_id || user != staff.user_id {
        return Err(registered_elsewhere());
    }
    let last: i64 = row.try_get(2).map_err(anyhow::Error::from)?;
    Ok(u64::try_from(last).unwrap_or(0))
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Runs a batch of mutations in order, in one transaction, each inside a savepoint: a business
/// rejection rolls back that mutation only and is recorded; anything else stops the batch at
/// that mutation so order is kept and the client retries. Replaying a batch is harmless: ids
/// at or below the watermark are skipped.
///
/// A long queue drains one mutation after another, so round trips are the cost: a mutation's
/// write travels with the next one's savepoint and reads (`Pace::Overlapped`). Should such a
/// write fail, the next mutation has already started on top of it, so the whole batch is rolled
/// back and replayed one write at a time (`Pace::OneByOne`), where a failed write is rolled
/// back on its own and recorded like any rejection.
pub async fn push(state: &AppState, staff: &Staff, req: PushRequest) -> Result<PushResponse, AppError> {
    check_version(req.schema_version)?;
    let client_id = validate::id("client_id", &req.client_id).map_err(|e| AppError::invalid(e.field, e.message))?;
    if req.mutations.len() > MAX_PUSH {
        return Err(AppError::invalid("mutations", format!("at most {MAX_PUSH} mutations per push")));
    }
    let mut conn = state.pool.get().await?;
    let done = match push_batch(&mut conn, staff, &client_id, &req.mutations, Pace::Overlapped).await? {
        Some(done) => done,
        None => {
            tracing::debug!(client = %client_id, "an overlapped write failed; replaying the push one write at a time");
            push_batch(&mut conn, staff, &client_id, &req.mutations, Pace::OneByOne)
                .await?
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a push replayed one by one gave up")))?
        }
    };
    drop(conn);
    send_refunds_after(state, staff, &req.mutations, &done);
    Ok(done)
}

/// Mutations whose decision may queue a refund.
const REFUNDING: &[&str] = &["cancel_booking.v1", "cancel_departure.v1", "set_departure_status.v1"];

/// Refunds a committed push queued go to Stripe now, in the background, rather than at the next
/// pass of the refund job (which still retries whatever fails here): the desk's answer does not
/// wait for Stripe. The refund's own idempotency key makes a send that races the job harmless.
fn send_refunds_after(state: &AppState, staff: &Staff, sent: &[MutationEnvelope], done: &PushResponse) {
    let applied = |r: &MutationResult| {
        r.status == OutcomeStatus::Applied && sent.iter().any(|m| m.id == r.id && REFUNDING.contains(&m.name.as_str()))
    };
    if done.results.iter().any(applied) {
        let (state, org) = (state.clone(), staff.organization_id.clone());
        tokio::spawn(async move { crate::payments::send_queued_refunds(&state, &org).await });
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pace {
    Overlapped,
    OneByOne,
}

type WriteBehind<'w> = std::pin::Pin<Box<dyn Future<Output = Result<(), apply::Failure>> + Send + 'w>>;

/// One attempt at a push in its own transaction. `None` (only when overlapped): a write failed,
/// nothing was committed, replay one by one.
async fn push_batch(
    conn: &mut deadpool_postgres::Object,
    staff: &Staff,
    client_id: &str,
    mutations: &[MutationEnvelope],
    pace: Pace,
) -> Result<Option<PushResponse>, AppError> {
    let mut w = WriteTx::new(conn.transaction().await?, &staff.organization_id).await?;
    w.set_device(&staff.device_id);
    let last = lock_client(&w, staff, client_id).await?;
    let mut results = Vec::new();
    // Duplicates get their stored verdict again: the response that carried it may have been lost.
    let dup_ids: Vec<i64> = mutations.iter().filter(|m| m.id <= last).map(|m| i64_of(m.id)).collect();
    if !dup_ids.is_empty() {
        let rows = w
            .rows(
                "SELECT mutation_id, status, code, detail FROM sync_mutation_results
                 WHERE client_id = $1 AND mutation_id = ANY($2) ORDER BY mutation_id",
                &[&client_id, &dup_ids],
            )
            .await?;
        for r in &rows {
            results.push(result_record(r).map_err(AppError::Internal)?);
        }
    }
    let Some((last, recorded)) = run_in_order(&w, staff, client_id, mutations, pace, last, &mut results).await? else {
        w.rollback().await?;
        return Ok(None);
    };
    // One round trip for both: the verdicts and the watermark commit together.
    let last_id = i64_of(last);
    let watermark: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&client_id, &last_id];
    let (a, b) = tokio::join!(
        recorded.insert(w.tx(), client_id),
        w.exec("UPDATE sync_clients SET last_mutation_id = $2, last_seen_at = now() WHERE client_id = $1", &watermark)
    );
    db::all2(a, b)?;
    w.commit().await?;
    Ok(Some(PushResponse { last_mutation_id: last, results }))
}

/// Runs the mutations after the watermark `last`, in order, adding their verdicts to `results`.
/// Returns the new watermark and the verdicts to store; `None` when an overlapped write failed.
async fn run_in_order(
    w: &WriteTx<'_>,
    staff: &Staff,
    client_id: &str,
    mutations: &[MutationEnvelope],
    pace: Pace,
    mut last: u64,
    results: &mut Vec<MutationResult>,
) -> Result<Option<(u64, Recorded)>, AppError> {
    let mut recorded = Recorded::default();
    // The previous mutation's write, sent with (ahead of) this one's savepoint and reads.
    let mut behind: Option<WriteBehind<'_>> = None;
    for m in mutations {
        if m.id <= last {
            continue;
        }
        if m.id != last + 1 {
            tracing::warn!(client = %client_id, expected = last + 1, got = m.id, "out-of-order push stopped");
            break;
        }
        let ctx = MutationCtx {
            organization_id: staff.organization_id.clone(),
            role: staff.role,
            now: chrono::Utc::now(),
            user_id: staff.user_id.clone(),
        };
        let decide = async {
            let mutation = Mutation::decode(&m.name, &m.args).map_err(apply::Failure::Rejected)?;
            let decided = apply::decide(w, &mutation, &ctx).await?;
            Ok((mutation, decided))
        };
        // join! polls in order: the write behind is sent first, then the savepoint and reads.
        let write_before = behind.take();
        let (written, started) = tokio::join!(
            async {
                match write_before {
                    Some(write) => write.await,
                    None => Ok(()),
                }
            },
            w.in_savepoint(decide)
        );
        if written.is_err() {
            return Ok(None);
        }
        let (mark, decided) = started?;
        let outcome = match decided {
            Ok((mutation, decided)) => {
                if pace == Pace::Overlapped && decided.ready_in_one_go(w).await.is_ok_and(|ready| ready) {
                    let (w, org, actor) = (w, staff.organization_id.clone(), staff.user_id.clone());
                    behind =
                        Some(Box::pin(async move { apply::write_all(w, &mutation, &decided, &org, &actor).await }));
                    Ok(())
                } else {
                    // Waited for before anything else is sent: a failure rolls back to this
                    // mutation's own savepoint below, whatever the pace.
                    apply::write_all(w, &mutation, &decided, &staff.organization_id, &staff.user_id).await
                }
            }
            Err(failure) => Err(failure),
        };
        let result = match outcome {
            Ok(()) => {
                w.release(mark);
                MutationResult { id: m.id, status: OutcomeStatus::Applied, code: None, detail: None }
            }
            Err(apply::Failure::Rejected(r)) => {
                w.rollback_to(mark).await?;
                MutationResult {
                    id: m.id,
                    status: OutcomeStatus::Rejected,
                    code: Some(r.code().into()),
                    detail: Some(r.to_string()),
                }
            }
            Err(apply::Failure::Transient(why)) => {
                // Order is kept: this mutation and everything after it wait for the next push.
                tracing::warn!(client = %client_id, mutation = m.id, "push stopped on a transient failure: {why}");
                w.rollback_to(mark).await?;
                break;
            }
        };
        recorded.push(m, &result);
        results.push(result);
        last = m.id;
    }
    let last_write = match behind {
        Some(write) => write.await,
        None => Ok(()),
    };
    Ok(last_write.is_ok().then_some((last, recorded)))
}

/// The verdicts of one push, stored in one statement at its end.
#[derive(Default)]
struct Recorded {
    ids: Vec<i64>,
    names: Vec<String>,
    statuses: Vec<&'static str>,
    codes: Vec<Option<String>>,
    details: Vec<Option<String>>,
}

impl Recorded {
    fn push(&mut self, m: &MutationEnvelope, r: &MutationResult) {
        self.ids.push(i64_of(m.id));
        self.names.push(m.name.clone());
        self.statuses.push(r.status.as_str());
        self.codes.push(r.code.clone());
        self.details.push(r.detail.clone());
    }

    async fn insert(&self, c: &impl Prepared, client_id: &str) -> Result<(), tokio_postgres::Error> {
        if self.ids.is_empty() {
            return Ok(());
        }
        c.exec(
            "INSERT INTO sync_mutation_results (client_id, mutation_id, name, status, code, detail)
             SELECT $1, t.id, t.name, t.status, t.code, t.detail
             FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t(id, name, status, code, detail)",
            &[&client_id, &self.ids, &self.names, &self.statuses, &self.codes, &self.details],
        )
        .await?;
        Ok(())
    }
}

/// The buckets a staff member's devices receive (the domain's `replication` rules), read in the
/// pull's snapshot so that the set and the changes served for it agree.
async fn buckets_for(tx: &Transaction<'_>, staff: &Staff) -> Result<Vec<String>, AppError> {
    let led = if replication::role_leads_departures(staff.role) {
        let candidates = db::assignments_of_user(tx, &staff.organization_id, &staff.user_id).await?;
        replication::departures_led_by(&staff.user_id, candidates.iter().map(db::UserAssignment::as_led))
    } else {
        Vec::new()
    };
    Ok(replication::buckets_for(&staff.organization_id, staff.role, &led))
}

/// Whether a bucket the client holds but no longer receives is one of this organization's
/// (then it is answered in `removed_buckets`, and the client deletes its rows); anything else
/// (another organization's bucket, a malformed name) is refused.
async fn is_own_bucket(tx: &Transaction<'_>, org: &str, bucket: &str) -> Result<bool, AppError> {
    Ok(match replication::parse_bucket(org, bucket) {
        None => false,
        Some(Bucket::Organization) => true,
        Some(Bucket::Schedule(departure_id)) => db::departure_exists(tx, org, &departure_id).await?,
    })
}

/// One page of changes per bucket after the client's cursors, read in one snapshot together
/// with the client's watermark, so that "processed up to N" and the rows it produced arrive together.
pub async fn pull(state: &AppState, staff: &Staff, req: PullRequest) -> Result<PullResponse, AppError> {
    check_version(req.schema_version)?;
    let client_id = validate::id("client_id", &req.client_id).map_err(|e| AppError::invalid(e.field, e.message))?;
    let limit = req.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let mut conn = state.pool.get().await?;
    let tx = conn.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(false).start().await?;
    db::set_tenant(&tx, &staff.organization_id).await?;
    let last = lock_client(&tx, staff, &client_id).await?;
    let allowed = buckets_for(&tx, staff).await?;
    let mut removed_buckets = Vec::new();
    for bucket in req.cursors.keys().filter(|b| !allowed.contains(b)) {
        if !is_own_bucket(&tx, &staff.organization_id, bucket).await? {
            return Err(AppError::Forbidden(format!("bucket {bucket} is not yours")));
        }
        removed_buckets.push(bucket.clone());
    }
    let mut complete = true;
    let mut pages = Vec::new();
    for bucket in allowed {
        let cursor = req.cursors.get(&bucket).copied().unwrap_or(0);
        let rows = tx
            .rows(
                "SELECT seq, entity, row_id, op, row FROM sync_changes
                 WHERE organization_id = $1 AND bucket = $2 AND seq > $3 ORDER BY seq LIMIT $4",
                &[&staff.organization_id, &bucket, &i64_of(cursor), &(i64::from(limit) + 1)],
            )
            .await?;
        if rows.len() > limit as usize {
            complete = false;
        }
        let mut changes = Vec::with_capacity(rows.len().min(limit as usize));
        for r in rows.iter().take(limit as usize) {
            changes.push(change_record(r).map_err(AppError::Internal)?);
        }
        let cursor = changes.last().map(|c| c.seq).unwrap_or(cursor);
        // A bucket this page finished ends at its cursor; only a bucket with more to come costs a
        // look at its newest row.
        let head = if rows.len() <= limit as usize {
            cursor
        } else {
            let row = tx
                .row(
                    "SELECT coalesce(max(seq), 0) FROM sync_changes WHERE organization_id = $1 AND bucket = $2",
                    &[&staff.organization_id, &bucket],
                )
                .await?;
            u64::try_from(row.try_get::<_, i64>(0).map_err(anyhow::Error::from)?).unwrap_or(0)
        };
        pages.push(BucketPage { bucket, changes, cursor, head });
    }
    let results = match req.pending_from {
        None => Vec::new(),
        Some(from) => {
            let rows = tx
                .rows(
                    "SELECT mutation_id, status, code, detail FROM sync_mutation_results
                     WHERE client_id = $1 AND mutation_id >= $2 ORDER BY mutation_id LIMIT 10000",
                    &[&client_id, &i64_of(from)],
                )
                .await?;
            rows.iter().map(result_record).collect::<anyhow::Result<_>>()?
        }
    };
    tx.commit().await?;
    Ok(PullResponse { buckets: pages, complete, last_mutation_id: last, results, removed_buckets })
}

fn change_record(r: &tokio_postgres::Row) -> anyhow::Result<ChangeRecord> {
    let entity: String = r.try_get(1)?;
    let op: String = r.try_get(3)?;
    Ok(ChangeRecord {
        seq: u64::try_from(r.try_get::<_, i64>(0)?)?,
        entity: EntityKind::parse(&entity).ok_or_else(|| anyhow::anyhow!("unknown entity {entity}"))?,
        id: r.try_get(2)?,
        op: if op == "delete" { Op::Delete } else { Op::Put },
        row: r.try_get::<_, Option<serde_json::Value>>(4)?.unwrap_or(serde_json::Value::Null),
    })
}

fn result_record(r: &tokio_postgres::Row) -> anyhow::Result<MutationResult> {
    let status: String = r.try_get(1)?;
    Ok(MutationResult {
        id: u64::try_from(r.try_get::<_, i64>(0)?)?,
        status: OutcomeStatus::parse(&status).unwrap_or(OutcomeStatus::Applied),
        code: r.try_get(2)?,
        detail: r.try_get(3)?,
    })
}

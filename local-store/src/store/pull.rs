//! Towards the server: the outbox the sync client pushes, the verdicts it brings back, and each
//! pulled page applied with the rebase of pending work on top.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use tourdesk_domain::mutation::{ApplyError, Mutation};
use tourdesk_domain::protocol::{EntityKind, MutationEnvelope, MutationResult, Op, PullResponse};

use super::Store;
use super::write::{Replica, write_optimistic};
use crate::{StoreError, rows, wire};

impl Store {
    pub fn pending_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn().query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?)
    }

    /// The oldest `limit` queued mutations, in order.
    pub fn outbox(&self, limit: u32) -> Result<Vec<MutationEnvelope>, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT mutation_id, name, args, hlc FROM outbox ORDER BY mutation_id LIMIT ?1")?;
        let mut q = stmt.query([limit])?;
        let mut out = Vec::new();
        while let Some(r) = q.next()? {
            let args: String = r.get(2)?;
            out.push(MutationEnvelope {
                id: r.get(0)?,
                name: r.get(1)?,
                args: serde_json::from_str(&args)?,
                hlc: r.get(3)?,
            });
        }
        Ok(out)
    }

    /// Stores the server's verdicts and drops settled mutations from the outbox. Their
    /// optimistic rows stay (still marked pending) until the next pull brings the server's rows.
    pub fn record_push(&self, last_mutation_id: u64, results: &[MutationResult]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let next: Option<String> =
            tx.query_row("SELECT value FROM meta WHERE key = 'next_mutation_id'", [], |r| r.get(0)).optional()?;
        let next = next.and_then(|n| n.parse::<u64>().ok()).unwrap_or(1);
        if last_mutation_id >= next {
            // The server has processed ids this database never issued: it is an older copy
            // (restored from a backup, or copied to another machine). Settling would silently
            // drop new work as "duplicates", so stop and say so.
            return Err(StoreError::Forked { server_last: last_mutation_id, local_next: next });
        }
        record_results(&tx, last_mutation_id, results)?;
        tx.commit()?;
        Ok(())
    }

    pub fn cursors(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT bucket, cursor FROM sync_state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn oldest_pending(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.conn().query_row("SELECT min(mutation_id) FROM outbox", [], |r| r.get(0))?)
    }

    /// Applies one page of server changes and rebases pending work on top, in one transaction:
    /// put back the server version of every row a pending mutation touched, apply the server's
    /// changes, settle what the server has processed (on the final page), then replay what is
    /// still pending. The
    /// cursors move in the same transaction, so a crash mid-pull loses nothing and applies
    /// nothing twice.
    pub fn apply_pull(&self, resp: &PullResponse) -> Result<(), StoreError> {
        self.apply_page(&wire::Pull::from_response(resp)?)
    }

    /// [`Store::apply_pull`] for a response whose rows are already parsed (as the sync client
    /// reads them off the wire).
    pub(crate) fn apply_page(&self, resp: &wire::Pull) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ctx = self.ctx(&tx)?;
        let org = ctx.organization_id.clone();

        // Rebase only on the last page of a pull. Before it, the optimistic rows stay as they are
        // (work already pushed must not vanish while its rows are still pages away), and a page's
        // row that a pending change covers updates that change's shadow — the base the rebase
        // will restore — instead of the row the user sees.
        let rebase = resp.complete;
        if rebase {
            restore_shadows(&tx, &org)?;
        }
        // The rows pending changes cover, read once per page: as many as the pending work
        // touched, and none at all on a desk with nothing pending (a first sync).
        let shadows = if rebase { Shadows::default() } else { Shadows::load(&tx)? };
        for page in &resp.buckets {
            let superseded = superseded_puts(&page.changes);
            for (ch, superseded) in page.changes.iter().zip(superseded) {
                let shadowed = shadows.contains(ch.entity, &ch.id);
                match (ch.op, &ch.row) {
                    (Op::Put, None) => {
                        return Err(StoreError::Corrupt(format!(
                            "put of {} {} without a row",
                            ch.entity.as_str(),
                            ch.id
                        )));
                    }
                    (Op::Put, Some(row)) if row.organization_id() != org => {
                        return Err(StoreError::Corrupt(format!(
                            "{} row for another organization",
                            ch.entity.as_str()
                        )));
                    }
                    // A later put of the same row in this bucket's page overwrites whatever this
                    // one would write (the row or its shadow) and records the same ownership.
                    (Op::Put, Some(_)) if superseded => {}
                    (Op::Put, Some(row)) if shadowed => {
                        tx.prepare_cached("UPDATE shadow SET row = ?3 WHERE entity = ?1 AND id = ?2")?
                            .execute(params![ch.entity.as_str(), ch.id, row.to_json()?])?;
                        rows::own(&tx, &page.bucket, ch.entity, &ch.id)?;
                    }
                    (Op::Put, Some(row)) => {
                        rows::put_record(&tx, &org, row, false)?;
                        rows::own(&tx, &page.bucket, ch.entity, &ch.id)?;
                    }
                    // A delete in one bucket can be a row moving to another (a booking moved to
                    // another departure); the row goes only when no held bucket has it.
                    (Op::Delete, _) => {
                        rows::disown(&tx, &org, &page.bucket, ch.entity, &ch.id)?;
                        if shadowed && rows::get(&tx, &org, ch.entity, &ch.id)?.is_none() {
                            tx.prepare_cached("UPDATE shadow SET row = NULL WHERE entity = ?1 AND id = ?2")?
                                .execute(params![ch.entity.as_str(), ch.id])?;
                        }
                    }
                }
            }
            tx.prepare_cached(
                "INSERT INTO sync_state (bucket, cursor) VALUES (?1, ?2)
                 ON CONFLICT (bucket) DO UPDATE SET cursor = excluded.cursor",
            )?
            .execute(params![page.bucket, page.cursor])?;
        }
        // After the pages, so a row that moved into a held bucket in this very response stays, and
        // a removed bucket's cursor is not written back by a page.
        for bucket in &resp.removed_buckets {
            let deleted = rows::remove_bucket(&tx, &org, bucket)?;
            tracing::info!(bucket = %bucket, deleted, "bucket no longer replicated to this desk");
        }
        // Settle only on the last page: the rows that settled mutations produced may still be on
        // a later page, and until they arrive the optimistic rows must stay.
        if resp.complete {
            record_results(&tx, resp.last_mutation_id, &resp.results)?;
        }

        if !rebase {
            tx.commit()?;
            return Ok(());
        }
        replay_outbox(&tx, &ctx)?;
        tx.commit()?;
        Ok(())
    }
}

fn record_results(tx: &Transaction<'_>, last_mutation_id: u64, results: &[MutationResult]) -> Result<(), StoreError> {
    for r in results {
        let status = r.status.as_str();
        // The name and arguments come from the outbox, so the inbox can show what was rejected.
        tx.execute(
            "INSERT OR IGNORE INTO mutation_outcome (mutation_id, name, args, status, code, detail)
             SELECT ?1, coalesce(o.name, ''), coalesce(o.args, 'null'), ?2, ?3, ?4
             FROM (SELECT 1) LEFT JOIN outbox o ON o.mutation_id = ?1",
            params![r.id, status, r.code, r.detail],
        )?;
    }
    tx.execute("DELETE FROM outbox WHERE mutation_id <= ?1", [last_mutation_id])?;
    Ok(())
}

/// Which puts of one bucket's page a later put of the same row in that page supersedes. Writing
/// only the last one leaves the same rows, shadows and ownership as writing each in turn, delete
/// or not in between: a put writes the whole row (or its shadow) and records the page's bucket,
/// which the last put does again, and a delete in between finds the same ownership either way
/// (the superseded put recorded the bucket the delete then forgets). Bookings make this common:
/// each one also logs its departure's new seat count.
fn superseded_puts(changes: &[wire::Change]) -> Vec<bool> {
    let mut later: HashSet<(&str, &str)> = HashSet::with_capacity(changes.len());
    let mut out = vec![false; changes.len()];
    for (i, ch) in changes.iter().enumerate().rev() {
        if ch.op == Op::Put {
            out[i] = !later.insert((ch.entity.as_str(), ch.id.as_str()));
        }
    }
    out
}

/// The `(entity, id)` keys of the shadow table, looked up without a query per row.
#[derive(Default)]
struct Shadows(HashMap<&'static str, HashSet<String>>);

impl Shadows {
    fn load(tx: &Connection) -> Result<Shadows, StoreError> {
        let mut out: HashMap<&'static str, HashSet<String>> = HashMap::new();
        let mut stmt = tx.prepare_cached("SELECT entity, id FROM shadow")?;
        let mut q = stmt.query([])?;
        while let Some(r) = q.next()? {
            let entity: String = r.get(0)?;
            let kind = EntityKind::parse(&entity).ok_or_else(|| StoreError::Corrupt(format!("shadow of {entity}")))?;
            out.entry(kind.as_str()).or_default().insert(r.get(1)?);
        }
        Ok(Shadows(out))
    }

    fn contains(&self, kind: EntityKind, id: &str) -> bool {
        self.0.get(kind.as_str()).is_some_and(|ids| ids.contains(id))
    }
}

pub(super) fn restore_shadows(tx: &Connection, org: &str) -> Result<(), StoreError> {
    let shadows: Vec<(String, String, Option<String>)> = {
        let mut stmt = tx.prepare_cached("SELECT entity, id, row FROM shadow")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?
    };
    for (entity, id, row) in shadows {
        let kind = EntityKind::parse(&entity).ok_or_else(|| StoreError::Corrupt(format!("shadow of {entity}")))?;
        match row {
            Some(row) => rows::put(tx, org, kind, &serde_json::from_str(&row)?, false)?,
            None => rows::delete(tx, org, kind, &id)?,
        }
    }
    tx.execute("DELETE FROM shadow", [])?;
    Ok(())
}

/// Replays what the server has not seen yet on top of the rows as they are (after a rebase
/// restored the server's versions). A mutation that no longer applies locally (say its slug is
/// now taken) stays queued: the server decides, and its verdict will arrive like any other.
pub(super) fn replay_outbox(tx: &Connection, ctx: &tourdesk_domain::mutation::MutationCtx) -> Result<(), StoreError> {
    let org = &ctx.organization_id;
    let pending: Vec<(u64, String, String)> = {
        let mut stmt = tx.prepare_cached("SELECT mutation_id, name, args FROM outbox ORDER BY mutation_id")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?
    };
    for (id, name, args) in pending {
        let args: serde_json::Value = serde_json::from_str(&args)?;
        let Ok(m) = Mutation::decode(&name, &args) else { continue };
        match m.run(&Replica { c: tx, org }, ctx) {
            Ok(changes) => match write_optimistic(tx, org, &changes) {
                Err(StoreError::Rejected(e)) => {
                    tracing::info!(mutation_id = id, "pending mutation not shown locally: {e}")
                }
                other => other?,
            },
            Err(ApplyError::Rejected(e)) => {
                tracing::info!(mutation_id = id, "pending mutation no longer applies locally: {e}")
            }
            Err(ApplyError::Store(f)) => return Err(StoreError::Corrupt(f.0)),
        }
    }
    Ok(())
}

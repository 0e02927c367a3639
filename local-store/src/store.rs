use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use tourdesk_domain::ipc::{DepartureView, Outcome, TourView};
use tourdesk_domain::mutation::{ApplyError, Change, Mutation, MutationCtx, ReadView, Rejection, StoreFault};
use tourdesk_domain::protocol::{EntityKind, MutationEnvelope, MutationResult, Op, OutcomeStatus, PullResponse};
use tourdesk_domain::roles::Role;
use tourdesk_domain::{Departure, PricingTier, Tour, TourVariant};

use crate::StoreError;
use crate::rows;

mod embedded {
    refinery::embed_migrations!("../migrations/sqlite");
}

/// Who this desk is signed in as. Kept in the database so the desk works offline after a restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: String,
    pub user_name: String,
    pub role: Role,
    pub organization_id: String,
    pub organization_name: String,
}

pub struct Store {
    conn: Mutex<Connection>,
    client_id: Mutex<String>,
}

impl Store {
    /// Opens (creating if needed) and migrates the desk database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL lets the UI read while the sync loop writes. FULL, not NORMAL: a commit that a power
        // cut rolls back could already have been pushed, and the desk would then reuse its
        // mutation id for new work, which the server would skip as a duplicate. Desk writes happen
        // at human speed, so the extra fsync costs nothing noticeable.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Data of a guide's removed departures must really leave the disk.
        conn.pragma_update(None, "secure_delete", "ON")?;
        embedded::migrations::runner().run(&mut conn)?;
        // A new database gets a new client id: the server's dedupe of (client_id, mutation_id)
        // must never match the mutations of a previous, deleted database.
        let existing: Option<String> =
            conn.query_row("SELECT value FROM meta WHERE key = 'client_id'", [], |r| r.get(0)).optional()?;
        let client_id = match existing {
            Some(id) => id,
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                conn.execute("INSERT INTO meta (key, value) VALUES ('client_id', ?1)", [&id])?;
                id
            }
        };
        Ok(Store { conn: Mutex::new(conn), client_id: Mutex::new(client_id) })
    }

    /// This database's identity towards the server (changes when another user signs in).
    pub fn client_id(&self) -> String {
        self.client_id.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions roll
        // back on drop), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn session(&self) -> Result<Option<Session>, StoreError> {
        let raw: Option<String> =
            self.conn().query_row("SELECT value FROM meta WHERE key = 'session'", [], |r| r.get(0)).optional()?;
        raw.map(|s| serde_json::from_str(&s).map_err(StoreError::from)).transpose()
    }

    /// Records a sign-in. The same user signing in again keeps everything. Anyone else — another
    /// user, another organization, or the same user with another role (and so other buckets) —
    /// starts afresh: a new client id (the server binds a client id to one user), an empty
    /// replica, cursors and inbox. That is refused while unsent work of the previous identity
    /// is queued, so nothing is lost.
    pub fn save_session(&self, s: &Session) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let previous: Option<String> =
            tx.query_row("SELECT value FROM meta WHERE key = 'session'", [], |r| r.get(0)).optional()?;
        let mut new_client = None;
        if let Some(prev) = previous {
            let prev: Session = serde_json::from_str(&prev)?;
            let same = prev.user_id == s.user_id && prev.organization_id == s.organization_id && prev.role == s.role;
            if !same {
                let pending: i64 = tx.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
                if pending > 0 {
                    return Err(StoreError::IdentityChange(format!(
                        "this desk holds {pending} unsent changes made by {} ({}); sign in as them and sync \
                         before another user or organization uses this desk",
                        prev.user_name, prev.organization_name
                    )));
                }
                for t in
                    ["tours", "tour_variants", "pricing_tiers", "schedules", "shadow", "sync_state", "mutation_outcome"]
                {
                    tx.execute(&format!("DELETE FROM {t}"), [])?;
                }
                let id = uuid::Uuid::new_v4().to_string();
                tx.execute("UPDATE meta SET value = ?1 WHERE key = 'client_id'", [&id])?;
                tx.execute("DELETE FROM meta WHERE key = 'next_mutation_id'", [])?;
                new_client = Some(id);
            }
        }
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('session', ?1)", [serde_json::to_string(s)?])?;
        tx.commit()?;
        if let Some(id) = new_client {
            *self.client_id.lock().unwrap_or_else(|p| p.into_inner()) = id;
        }
        Ok(())
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.conn().query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// The device id the server registered for this desk, sent back at sign-in so the desk
    /// stays one device in the organization's list instead of a new one per password sign-in.
    pub fn device_id(&self) -> Result<Option<String>, StoreError> {
        self.meta("device_id")
    }

    /// The refresh token that renews this desk's access without the password. A secret: it
    /// never leaves this crate except towards the server.
    pub fn refresh_token(&self) -> Result<Option<String>, StoreError> {
        self.meta("refresh_token")
    }

    /// Keeps what the server just issued. Kept apart from [`Store::save_session`] and saved
    /// first, because the server has already spent the previous refresh token: losing the new
    /// one (say, the session is refused as an identity change) would make the desk present the
    /// spent one, which the server takes for theft.
    pub fn save_device_auth(&self, device_id: &str, refresh_token: &str) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('device_id', ?1)", [device_id])?;
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('refresh_token', ?1)", [refresh_token])?;
        tx.commit()?;
        Ok(())
    }

    /// Drops a refresh token the server refused; the device id stays, so a password sign-in
    /// can ask to keep the same device.
    pub fn forget_refresh_token(&self) -> Result<(), StoreError> {
        self.conn().execute("DELETE FROM meta WHERE key = 'refresh_token'", [])?;
        Ok(())
    }

    fn ctx(&self, tx: &Connection) -> Result<MutationCtx, StoreError> {
        let raw: Option<String> =
            tx.query_row("SELECT value FROM meta WHERE key = 'session'", [], |r| r.get(0)).optional()?;
        let s: Session = serde_json::from_str(&raw.ok_or(StoreError::NotSignedIn)?)?;
        Ok(MutationCtx { organization_id: s.organization_id, role: s.role, now: Utc::now(), user_id: s.user_id })
    }

    /// Runs a mutation optimistically: its changes and its outbox entry are written in one
    /// transaction, so the local view and the queue of work to push can never disagree.
    pub fn mutate(&self, m: &Mutation) -> Result<u64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ctx = self.ctx(&tx)?;
        let changes = m.apply(&View { c: &tx, org: &ctx.organization_id }, &ctx).map_err(|e| match e {
            ApplyError::Rejected(r) => StoreError::Rejected(r),
            ApplyError::Store(f) => StoreError::Corrupt(f.0),
        })?;
        write_optimistic(&tx, &ctx.organization_id, &changes)?;
        let next: Option<String> =
            tx.query_row("SELECT value FROM meta WHERE key = 'next_mutation_id'", [], |r| r.get(0)).optional()?;
        let id: u64 =
            next.map(|s| s.parse::<u64>()).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?.unwrap_or(1);
        let now = Utc::now();
        // A first-cut HLC: wall clock, then mutation id, then client id as the tie-break.
        let hlc = format!("{:013}-{:08}-{}", now.timestamp_millis(), id, self.client_id());
        tx.execute(
            "INSERT INTO outbox (mutation_id, name, args, hlc, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, m.name(), m.args().to_string(), hlc, now.to_rfc3339()],
        )?;
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_mutation_id', ?1)", [(id + 1).to_string()])?;
        tx.commit()?;
        Ok(id)
    }

    pub fn tours(&self) -> Result<Vec<TourView>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let sql = format!(
            "SELECT {}, local_pending FROM tours WHERE organization_id = ?1 ORDER BY name COLLATE NOCASE, id",
            rows::TOUR_COLS
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut out = Vec::new();
        let mut q = stmt.query([&org])?;
        while let Some(r) = q.next()? {
            out.push(TourView { tour: rows::tour_from_row(r)?, pending: r.get(12)? });
        }
        Ok(out)
    }

    pub fn departures(&self, tour_id: &str) -> Result<Vec<DepartureView>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let sql = format!(
            "SELECT {} FROM schedules WHERE organization_id = ?1 AND tour_id = ?2 ORDER BY starts_at, id",
            rows::DEPARTURE_COLS
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut out = Vec::new();
        let mut q = stmt.query(params![org, tour_id])?;
        while let Some(r) = q.next()? {
            let d = rows::departure_from_row(r)?;
            out.push(DepartureView { seats_left: d.seats_left(), departure: d });
        }
        Ok(out)
    }

    /// The tour's price list, default tier first.
    pub fn prices(&self, tour_id: &str) -> Result<Vec<PricingTier>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let sql = format!(
            "SELECT {} FROM pricing_tiers WHERE organization_id = ?1 AND tour_id = ?2
             ORDER BY is_default DESC, sort_order, name",
            rows::TIER_COLS
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut q = stmt.query(params![org, tour_id])?;
        let mut out = Vec::new();
        while let Some(r) = q.next()? {
            out.push(rows::tier_from_row(r)?);
        }
        Ok(out)
    }

    pub fn departure(&self, id: &str) -> Result<Option<DepartureView>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(None) };
        let Some(v) = rows::get(&conn, &org, EntityKind::Departure, id)? else { return Ok(None) };
        let d: Departure = serde_json::from_value(v)?;
        Ok(Some(DepartureView { seats_left: d.seats_left(), departure: d }))
    }

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
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ctx = self.ctx(&tx)?;
        let org = ctx.organization_id.clone();

        restore_shadows(&tx, &org)?;
        for page in &resp.buckets {
            for ch in &page.changes {
                match ch.op {
                    Op::Put => rows::put(&tx, &org, ch.entity, &ch.row, false)?,
                    Op::Delete => rows::delete(&tx, &org, ch.entity, &ch.id)?,
                }
            }
            tx.execute(
                "INSERT INTO sync_state (bucket, cursor) VALUES (?1, ?2)
                 ON CONFLICT (bucket) DO UPDATE SET cursor = excluded.cursor",
                params![page.bucket, page.cursor],
            )?;
        }
        // Settle only on the last page: the rows that settled mutations produced may still be on
        // a later page, and until they arrive the optimistic rows must stay.
        if resp.complete {
            record_results(&tx, resp.last_mutation_id, &resp.results)?;
        }

        // Replay what the server has not seen yet on top of its state. A mutation that no longer
        // applies locally (say its slug is now taken) stays queued: the server decides, and its
        // verdict will arrive like any other.
        let pending: Vec<(u64, String, String)> = {
            let mut stmt = tx.prepare_cached("SELECT mutation_id, name, args FROM outbox ORDER BY mutation_id")?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<_, _>>()?
        };
        for (id, name, args) in pending {
            let args: serde_json::Value = serde_json::from_str(&args)?;
            let Ok(m) = Mutation::decode(&name, &args) else { continue };
            match m.apply(&View { c: &tx, org: &org }, &ctx) {
                Ok(changes) => match write_optimistic(&tx, &org, &changes) {
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
        tx.commit()?;
        Ok(())
    }

    /// Rejections the user has not dismissed yet, oldest first.
    pub fn rejections(&self) -> Result<Vec<Outcome>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT mutation_id, name, args, code, detail FROM mutation_outcome
             WHERE status = 'rejected' AND acknowledged = 0 ORDER BY mutation_id",
        )?;
        let mut q = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(r) = q.next()? {
            let args: String = r.get(2)?;
            out.push(Outcome {
                mutation_id: r.get(0)?,
                name: r.get(1)?,
                args: serde_json::from_str(&args).unwrap_or(serde_json::Value::Null),
                status: OutcomeStatus::Rejected,
                code: r.get(3)?,
                detail: r.get(4)?,
            });
        }
        Ok(out)
    }

    pub fn acknowledge(&self, mutation_id: u64) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute("UPDATE mutation_outcome SET acknowledged = 1 WHERE mutation_id = ?1", [mutation_id])?;
        Ok(n == 1)
    }
}

fn session_org(c: &Connection) -> Result<Option<String>, StoreError> {
    let raw: Option<String> =
        c.query_row("SELECT value FROM meta WHERE key = 'session'", [], |r| r.get(0)).optional()?;
    Ok(raw.map(|s| serde_json::from_str::<Session>(&s)).transpose()?.map(|s| s.organization_id))
}

fn record_results(tx: &Transaction<'_>, last_mutation_id: u64, results: &[MutationResult]) -> Result<(), StoreError> {
    for r in results {
        let status = match r.status {
            OutcomeStatus::Applied => "applied",
            OutcomeStatus::Rejected => "rejected",
        };
        // The name and arguments come from the outbox, so the inbox can show what was refused.
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

/// Writes a mutation's changes as pending rows, first saving the server version of each row
/// (or its absence) so a rebase can restore it.
fn write_optimistic(tx: &Connection, org: &str, changes: &[Change]) -> Result<(), StoreError> {
    // Decide every row first, so a change this desk cannot store refuses the whole mutation
    // before anything of it is written.
    let mut rows_to_write = Vec::with_capacity(changes.len());
    for ch in changes {
        let (kind, id, row) = match ch {
            Change::PutTour(t) => (EntityKind::Tour, &t.id, serde_json::to_value(t)?),
            Change::PutVariant(v) => (EntityKind::TourVariant, &v.id, serde_json::to_value(v)?),
            Change::PutPricingTier(t) => (EntityKind::PricingTier, &t.id, serde_json::to_value(t)?),
            Change::PutDeparture(d) => (EntityKind::Departure, &d.id, serde_json::to_value(d)?),
            // The server's business: it keeps the audit trail, counts promo uses and talks to
            // the payment provider. The desk shows their effects when they sync back.
            Change::Audit(_) | Change::IncrementPromoUses { .. } | Change::RequestRefund(_) => continue,
            Change::PutBooking(_)
            | Change::PutCustomer(_)
            | Change::PutGuideAssignment(_)
            | Change::DeleteGuideAssignment { .. }
            | Change::PutCheckIn(_) => {
                return Err(StoreError::Rejected(Rejection::Unsupported { what: change_name(ch).into() }));
            }
        };
        rows_to_write.push((kind, id, row));
    }
    for (kind, id, row) in rows_to_write {
        let shadowed: bool = tx
            .prepare_cached("SELECT 1 FROM shadow WHERE entity = ?1 AND id = ?2")?
            .exists(params![kind.as_str(), id])?;
        if !shadowed {
            let server_row = rows::get(tx, org, kind, id)?;
            tx.execute(
                "INSERT INTO shadow (entity, id, row) VALUES (?1, ?2, ?3)",
                params![kind.as_str(), id, server_row.map(|v| v.to_string())],
            )?;
        }
        rows::put(tx, org, kind, &row, true)?;
    }
    Ok(())
}

fn change_name(ch: &Change) -> &'static str {
    match ch {
        Change::PutBooking(_) => "bookings on the desk",
        Change::PutCustomer(_) => "customers on the desk",
        Change::PutGuideAssignment(_) | Change::DeleteGuideAssignment { .. } => "guide assignments on the desk",
        Change::PutCheckIn(_) => "check-ins on the desk",
        _ => "this change on the desk",
    }
}

fn restore_shadows(tx: &Connection, org: &str) -> Result<(), StoreError> {
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

struct View<'a> {
    c: &'a Connection,
    org: &'a str,
}

impl View<'_> {
    fn entity<T: serde::de::DeserializeOwned>(&self, kind: EntityKind, id: &str) -> Result<Option<T>, StoreFault> {
        let v = rows::get(self.c, self.org, kind, id).map_err(|e| StoreFault(e.to_string()))?;
        v.map(serde_json::from_value).transpose().map_err(|e| StoreFault(e.to_string()))
    }
}

impl ReadView for View<'_> {
    fn tour(&self, id: &str) -> Result<Option<Tour>, StoreFault> {
        rows::tour(self.c, self.org, id).map_err(|e| StoreFault(e.to_string()))
    }
    fn tour_by_slug(&self, slug: &str) -> Result<Option<Tour>, StoreFault> {
        rows::tour_by_slug(self.c, self.org, slug).map_err(|e| StoreFault(e.to_string()))
    }
    fn variant(&self, id: &str) -> Result<Option<TourVariant>, StoreFault> {
        self.entity(EntityKind::TourVariant, id)
    }
    fn pricing_tier(&self, id: &str) -> Result<Option<PricingTier>, StoreFault> {
        self.entity(EntityKind::PricingTier, id)
    }
    fn departure(&self, id: &str) -> Result<Option<Departure>, StoreFault> {
        self.entity(EntityKind::Departure, id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tourdesk_domain::protocol::{BucketPage, ChangeRecord};

    fn session(org: &str) -> Session {
        Session {
            user_id: "u1".into(),
            user_name: "Olivia".into(),
            role: Role::Owner,
            organization_id: org.into(),
            organization_name: format!("Org {org}"),
        }
    }

    fn signed_in(dir: &tempfile::TempDir) -> Store {
        let s = Store::open(&dir.path().join("desk.sqlite3")).unwrap();
        s.save_session(&session("org-1")).unwrap();
        s
    }

    fn create(id: &str, name: &str) -> Mutation {
        Mutation::decode(
            "create_tour.v1",
            &json!({"id": id, "name": name, "duration_minutes": 60, "default_capacity": 8,
                    "category": "food", "timezone": "Asia/Tokyo"}),
        )
        .unwrap()
    }

    const T1: &str = "00000000-0000-4000-8000-000000000001";
    const T2: &str = "00000000-0000-4000-8000-000000000002";

    fn server_tour(id: &str, name: &str, org: &str) -> serde_json::Value {
        json!({"id": id, "organization_id": org, "name": name, "slug": tourdesk_domain::validate::slugify(name),
               "short_description": "", "duration_minutes": 60, "default_capacity": 8, "min_participants": 1,
               "category": "food", "timezone": "Asia/Tokyo", "meeting_point": "", "status": "draft"})
    }

    fn page(seq: u64, rows: Vec<serde_json::Value>, last: u64, results: Vec<MutationResult>) -> PullResponse {
        let changes = rows
            .into_iter()
            .enumerate()
            .map(|(i, row)| ChangeRecord {
                seq: seq + i as u64,
                entity: EntityKind::Tour,
                id: row["id"].as_str().unwrap().into(),
                op: Op::Put,
                row,
            })
            .collect::<Vec<_>>();
        let cursor = changes.last().map(|c| c.seq).unwrap_or(seq);
        PullResponse {
            buckets: vec![BucketPage { bucket: "org:org-1:all".into(), changes, cursor }],
            complete: true,
            last_mutation_id: last,
            results,
            removed_buckets: vec![],
        }
    }

    #[test]
    fn a_database_keeps_its_client_id_and_a_new_one_gets_another() {
        let dir = tempfile::tempdir().unwrap();
        let a = Store::open(&dir.path().join("a.sqlite3")).unwrap().client_id().to_string();
        let again = Store::open(&dir.path().join("a.sqlite3")).unwrap().client_id().to_string();
        let b = Store::open(&dir.path().join("b.sqlite3")).unwrap().client_id().to_string();
        assert_eq!(a, again);
        assert_ne!(a, b);
    }

    #[test]
    fn mutations_need_a_session_and_a_refusal_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("desk.sqlite3")).unwrap();
        assert!(matches!(s.mutate(&create(T1, "Ramen Walk")), Err(StoreError::NotSignedIn)));
        s.save_session(&session("org-1")).unwrap();
        assert_eq!(s.mutate(&create(T1, "Ramen Walk")).unwrap(), 1);
        // Same slug: refused locally, and neither a row nor an outbox entry is left behind.
        let err = s.mutate(&create(T2, "Ramen Walk")).unwrap_err();
        assert!(matches!(err, StoreError::Rejected(ref r) if r.code() == "CONFLICT"), "{err:?}");
        assert_eq!(s.pending_count().unwrap(), 1);
        assert_eq!(s.tours().unwrap().len(), 1);
        // Ids keep growing even after the outbox drains.
        s.record_push(1, &[]).unwrap();
        assert_eq!(s.mutate(&create(T2, "Sushi Walk")).unwrap(), 2);
    }

    #[test]
    fn a_pull_settles_pending_work_and_moves_the_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let s = signed_in(&dir);
        s.mutate(&create(T1, "Ramen Walk")).unwrap();
        assert!(s.tours().unwrap()[0].pending);
        let applied = MutationResult { id: 1, status: OutcomeStatus::Applied, code: None, detail: None };
        s.apply_pull(&page(7, vec![server_tour(T1, "Ramen Walk", "org-1")], 1, vec![applied])).unwrap();
        let tours = s.tours().unwrap();
        assert_eq!(tours.len(), 1);
        assert!(!tours[0].pending);
        assert_eq!(s.pending_count().unwrap(), 0);
        assert_eq!(s.cursors().unwrap().get("org:org-1:all"), Some(&7));
        assert!(s.rejections().unwrap().is_empty());
    }

    #[test]
    fn pending_work_is_replayed_on_top_of_a_pull() {
        let dir = tempfile::tempdir().unwrap();
        let s = signed_in(&dir);
        s.mutate(&create(T1, "Ramen Walk")).unwrap();
        // The server has not seen mutation 1 yet, but sends someone else's tour.
        s.apply_pull(&page(3, vec![server_tour(T2, "Sake Tasting", "org-1")], 0, vec![])).unwrap();
        let tours = s.tours().unwrap();
        assert_eq!(tours.len(), 2);
        assert!(tours.iter().any(|t| t.tour.id == T1 && t.pending));
        assert_eq!(s.pending_count().unwrap(), 1);
    }

    #[test]
    fn a_rejected_mutation_leaves_the_lists_and_waits_in_the_inbox() {
        let dir = tempfile::tempdir().unwrap();
        let s = signed_in(&dir);
        s.mutate(&create(T1, "Ramen Walk")).unwrap();
        let rejected = MutationResult {
            id: 1,
            status: OutcomeStatus::Rejected,
            code: Some("CONFLICT".into()),
            detail: Some("that URL name is already taken".into()),
        };
        s.apply_pull(&page(1, vec![], 1, vec![rejected])).unwrap();
        assert!(s.tours().unwrap().is_empty());
        let inbox = s.rejections().unwrap();
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox[0].args["name"], "Ramen Walk");
        assert!(s.acknowledge(1).unwrap());
        assert!(s.rejections().unwrap().is_empty());
    }

    #[test]
    fn a_bad_page_is_refused_whole() {
        let dir = tempfile::tempdir().unwrap();
        let s = signed_in(&dir);
        s.mutate(&create(T1, "Ramen Walk")).unwrap();
        let bad =
            page(5, vec![server_tour(T2, "Sake Tasting", "org-1"), server_tour(T1, "Stolen", "org-2")], 1, vec![]);
        assert!(s.apply_pull(&bad).is_err());
        // Nothing of the page landed: no cursor, no settled outbox, the pending row intact.
        assert!(s.cursors().unwrap().is_empty());
        assert_eq!(s.pending_count().unwrap(), 1);
        let tours = s.tours().unwrap();
        assert_eq!(tours.len(), 1);
        assert!(tours[0].pending && tours[0].tour.name == "Ramen Walk");
    }

    #[test]
    fn switching_organization_with_unsent_work_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = signed_in(&dir);
        s.mutate(&create(T1, "Ramen Walk")).unwrap();
        assert!(s.save_session(&session("org-2")).is_err());
        assert_eq!(s.session().unwrap().unwrap().organization_id, "org-1");
        s.record_push(1, &[]).unwrap();
        let before = s.client_id();
        s.save_session(&session("org-2")).unwrap();
        assert!(s.tours().unwrap().is_empty(), "another organization starts from an empty replica");
        assert_ne!(s.client_id(), before, "the server binds a client id to one user");
        assert_eq!(s.mutate(&create(T2, "Sushi Walk")).unwrap(), 1, "numbering restarts for the new client id");
    }

    #[test]
    fn the_same_user_signing_in_again_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let s = signed_in(&dir);
        s.mutate(&create(T1, "Ramen Walk")).unwrap();
        let id = s.client_id();
        s.save_session(&session("org-1")).unwrap();
        assert_eq!(s.client_id(), id);
        assert_eq!(s.pending_count().unwrap(), 1);
        let mut guide = session("org-1");
        guide.role = Role::Guide;
        assert!(matches!(s.save_session(&guide), Err(StoreError::IdentityChange(_))), "a new role means new buckets");
    }

    #[test]
    fn device_auth_is_kept_apart_from_the_session() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("desk.sqlite3");
        let s = signed_in(&dir);
        assert_eq!((s.device_id().unwrap(), s.refresh_token().unwrap()), (None, None));
        s.mutate(&create(T1, "Ramen Walk")).unwrap();
        // Another user's sign-in is refused while work is queued, but the tokens it was issued stay.
        s.save_device_auth("dev-1", "rt-1").unwrap();
        assert!(s.save_session(&session("org-2")).is_err());
        drop(s);
        let s = Store::open(&path).unwrap();
        assert_eq!(s.device_id().unwrap().as_deref(), Some("dev-1"));
        assert_eq!(s.refresh_token().unwrap().as_deref(), Some("rt-1"));
        s.forget_refresh_token().unwrap();
        assert_eq!((s.device_id().unwrap().as_deref(), s.refresh_token().unwrap()), (Some("dev-1"), None));
    }

    #[test]
    fn an_incomplete_page_does_not_settle_the_outbox() {
        let dir = tempfile::tempdir().unwrap();
        let s = signed_in(&dir);
        s.mutate(&create(T1, "Ramen Walk")).unwrap();
        let mut first = page(1, vec![server_tour(T2, "Sake Tasting", "org-1")], 1, vec![]);
        first.complete = false;
        s.apply_pull(&first).unwrap();
        assert_eq!(s.pending_count().unwrap(), 1, "mutation 1's rows may be on the next page");
        assert!(s.tours().unwrap().iter().any(|t| t.tour.id == T1 && t.pending));
        let applied = MutationResult { id: 1, status: OutcomeStatus::Applied, code: None, detail: None };
        s.apply_pull(&page(2, vec![server_tour(T1, "Ramen Walk", "org-1")], 1, vec![applied])).unwrap();
        assert_eq!(s.pending_count().unwrap(), 0);
        assert!(s.tours().unwrap().iter().all(|t| !t.pending));
    }

    #[test]
    fn a_server_ahead_of_this_database_is_reported_not_settled() {
        let dir = tempfile::tempdir().unwrap();
        let s = signed_in(&dir);
        s.mutate(&create(T1, "Ramen Walk")).unwrap();
        let err = s.record_push(5, &[]).unwrap_err();
        assert!(matches!(err, StoreError::Forked { server_last: 5, local_next: 2 }), "{err:?}");
        assert_eq!(s.pending_count().unwrap(), 1, "nothing was dropped");
    }
}

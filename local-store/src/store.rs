use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use chrono::{NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use tourdesk_domain::cancellation::CancellationPolicy;
use tourdesk_domain::entities::WaitlistLine;
use tourdesk_domain::entities::{Booking, CheckIn, Customer, DepartureGuide, Guide, GuideAssignment};
use tourdesk_domain::guides::ExistingAssignment;
use tourdesk_domain::ipc::{
    BookingSummary, CustomerDetail, CustomerHit, DepartureView, Manifest, ManifestBooking, ManifestParticipant,
    Outcome, RejectedBooking, TourView,
};
use tourdesk_domain::mutation::{
    AddToWaitlistV1, ApplyError, Change, CreateBookingV1, Mutation, MutationCtx, OverbookArgs, ReadView, Rejection,
    StoreFault, attendance_by_participant,
};
use tourdesk_domain::payment::PaymentIssue;
use tourdesk_domain::pricing::{PricingCatalog, PromoCode, Tier};
use tourdesk_domain::protocol::{EntityKind, MutationEnvelope, MutationResult, Op, OutcomeStatus, PullResponse};
use tourdesk_domain::roles::Role;
use tourdesk_domain::status::BookingStatus;
use tourdesk_domain::{Departure, PricingTier, Tour, TourVariant};

use crate::StoreError;
use crate::{rows, wire};

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

/// The settings of every desk connection (also what the sync benchmark's raw-insert baseline
/// uses, so the two compare like with like).
pub fn configure(conn: &Connection) -> Result<(), StoreError> {
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
    // Up to 64 MiB of page cache (SQLite's default is 2 MiB). A replica of a large organization
    // is far bigger than 2 MiB and its ids are random, so with the default nearly every row a
    // first sync writes lands on an uncached page of each of its table's indexes: at a tenth of
    // a 100k-booking organization, applying the pull took about three times as long. The cache
    // grows only as pages are used.
    conn.pragma_update(None, "cache_size", -64 * 1024)?;
    // Every statement of a pull page (an upsert per table, bucket ownership, shadows) and of
    // the replay after it stays prepared; the default of 16 would evict some on every page.
    conn.set_prepared_statement_cache_capacity(128);
    Ok(())
}

impl Store {
    /// Opens (creating if needed) and migrates the desk database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
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
                for t in [
                    "tours",
                    "tour_variants",
                    "pricing_tiers",
                    "schedules",
                    "bookings",
                    "customers",
                    "check_ins",
                    "guides",
                    "guide_assignments",
                    "replica_rows",
                    "shadow",
                    "sync_state",
                    "mutation_outcome",
                ] {
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
        let id = self.enqueue(&tx, m)?;
        tx.commit()?;
        Ok(id)
    }

    /// Applies `m` to the local rows and appends it to the outbox, inside the caller's
    /// transaction. Returns its mutation id.
    fn enqueue(&self, tx: &Connection, m: &Mutation) -> Result<u64, StoreError> {
        let ctx = self.ctx(tx)?;
        let changes = m.apply(&View { c: tx, org: &ctx.organization_id }, &ctx).map_err(|e| match e {
            ApplyError::Rejected(r) => StoreError::Rejected(r),
            ApplyError::Store(f) => StoreError::Corrupt(f.0),
        })?;
        write_optimistic(tx, &ctx.organization_id, &changes)?;
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
        tiers_of(&conn, &org, tour_id)
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

/// Bookings, customers and manifests for the UI, and the conflict inbox's booking actions.
impl Store {
    /// Payment events the server could not apply (another currency than the booking's, a
    /// booking gone, ...), newest first: the inbox shows them with their reason. Only office
    /// desks receive them (the organization's bucket).
    pub fn payment_issues(&self) -> Result<Vec<PaymentIssue>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        rows::payment_issues(&conn, &org)
    }

    /// A departure's bookings in the order they were made, cancelled ones included (the list
    /// shows their status). A booking refused by the server is gone: the rebase removed it.
    pub fn bookings_of_departure(&self, departure_id: &str) -> Result<Vec<BookingSummary>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        rows::bookings_of_departure(&conn, &org, departure_id)?.iter().map(|b| summary(&conn, &org, b)).collect()
    }

    /// Customers whose first or last name, e-mail or phone starts with the words typed, best
    /// match first. Every word must match (as a prefix of some word of those fields); a query
    /// that looks like a phone number is matched on its digits.
    pub fn search_customers(&self, query: &str, limit: u32) -> Result<Vec<CustomerHit>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let Some(fts) = fts_query(query) else { return Ok(Vec::new()) };
        let mut stmt = conn.prepare_cached(
            "SELECT c.id, c.first_name, c.last_name, c.email, c.phone, c.local_pending
             FROM customers_fts JOIN customers c ON c.rowid = customers_fts.rowid
             WHERE customers_fts MATCH ?2 AND c.organization_id = ?1
             ORDER BY rank, c.last_name, c.first_name, c.id LIMIT ?3",
        )?;
        let hits = stmt.query_map(params![org, fts, limit], |r| {
            Ok(CustomerHit {
                id: r.get(0)?,
                first_name: r.get(1)?,
                last_name: r.get(2)?,
                email: r.get(3)?,
                phone: r.get(4)?,
                pending: r.get(5)?,
            })
        })?;
        Ok(hits.collect::<Result<_, _>>()?)
    }

    /// A customer with their bookings, newest first. The notes' conflicting versions are in
    /// `customer.notes_conflicts`.
    pub fn customer_detail(&self, customer_id: &str) -> Result<Option<CustomerDetail>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(None) };
        let Some(customer) = rows::customer(&conn, &org, customer_id)? else { return Ok(None) };
        let bookings = rows::bookings_of_customer(&conn, &org, customer_id)?
            .iter()
            .map(|b| summary(&conn, &org, b))
            .collect::<Result<_, _>>()?;
        let pending = rows::pending(&conn, &org, EntityKind::Customer, customer_id)?;
        Ok(Some(CustomerDetail { customer, pending, bookings }))
    }

    /// The guide's manifest: the departure, its bookings that hold seats, and each seat with its
    /// attendance as recorded so far (on this device too, before the server has it).
    pub fn manifest(&self, departure_id: &str) -> Result<Option<Manifest>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(None) };
        let Some(v) = rows::get(&conn, &org, EntityKind::Departure, departure_id)? else { return Ok(None) };
        let d: Departure = serde_json::from_value(v)?;
        let tour = rows::tour(&conn, &org, &d.tour_id)?;
        let mut bookings = Vec::new();
        for b in rows::bookings_of_departure(&conn, &org, departure_id)? {
            if b.status == BookingStatus::Cancelled {
                continue;
            }
            let customer = rows::customer(&conn, &org, &b.customer_id)?;
            let facts = rows::check_ins_of_booking(&conn, &org, &b.id)?;
            let standing = attendance_by_participant(&facts);
            let unconfirmed: Vec<u32> = {
                let mut stmt = conn.prepare_cached(
                    "SELECT participant FROM check_ins
                     WHERE organization_id = ?1 AND booking_id = ?2 AND local_pending = 1",
                )?;
                stmt.query_map(params![org, b.id], |r| r.get(0))?.collect::<Result<_, _>>()?
            };
            let pax = b.participant_count();
            let participants = (0..pax)
                .map(|i| {
                    let named = b.participants.get(i as usize);
                    ManifestParticipant {
                        index: i,
                        first_name: named.map(|p| p.first_name.clone()).unwrap_or_default(),
                        last_name: named.map(|p| p.last_name.clone()).unwrap_or_default(),
                        attendance: standing.get(&i).copied(),
                        attendance_pending: unconfirmed.contains(&i),
                    }
                })
                .collect();
            bookings.push(ManifestBooking {
                booking_id: b.id.clone(),
                reference_number: b.reference_number.to_string(),
                customer_name: customer
                    .as_ref()
                    .map_or_else(|| b.customer_id.clone(), |c| format!("{} {}", c.first_name, c.last_name)),
                customer_phone: customer.and_then(|c| c.phone),
                pax,
                status: b.status,
                special_requests: b.special_requests.clone(),
                dietary_restrictions: b.dietary_restrictions.clone(),
                checked_in: b.checked_in,
                no_shows: b.no_shows,
                pending: rows::pending(&conn, &org, EntityKind::Booking, &b.id)?,
                participants,
            });
        }
        Ok(Some(Manifest {
            tour_name: tour.as_ref().map(|t| t.name.clone()).unwrap_or_default(),
            meeting_point: tour.map(|t| t.meeting_point).unwrap_or_default(),
            departure: DepartureView { seats_left: d.seats_left(), departure: d },
            bookings,
        }))
    }

    /// Bookings the server refused that nobody has dealt with yet, oldest first: who, how many,
    /// where and why, from the intent's arguments and the rows this desk holds now.
    pub fn rejected_bookings(&self) -> Result<Vec<RejectedBooking>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let refused: Vec<(u64, String, Option<String>, Option<String>)> = {
            let mut stmt = conn.prepare_cached(
                "SELECT mutation_id, args, code, detail FROM mutation_outcome
                 WHERE status = 'rejected' AND acknowledged = 0 AND name = ?1 ORDER BY mutation_id",
            )?;
            stmt.query_map([CREATE_BOOKING], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<Result<_, _>>()?
        };
        let mut out = Vec::with_capacity(refused.len());
        for (mutation_id, args, code, detail) in refused {
            // The generic inbox still lists an entry whose arguments do not parse.
            let Ok(a) = serde_json::from_str::<CreateBookingV1>(&args) else { continue };
            let customer = rows::customer(&conn, &org, &a.customer_id)?;
            let departure = match rows::get(&conn, &org, EntityKind::Departure, &a.departure_id)? {
                Some(v) => {
                    let d: Departure = serde_json::from_value(v)?;
                    Some(DepartureView { seats_left: d.seats_left(), departure: d })
                }
                None => None,
            };
            out.push(RejectedBooking {
                mutation_id,
                code,
                detail,
                customer_name: customer
                    .map_or_else(|| a.customer_id.clone(), |c| format!("{} {}", c.first_name, c.last_name)),
                customer_id: a.customer_id,
                pax: a.lines.iter().map(|l| l.quantity).sum(),
                tour_name: rows::tour(&conn, &org, &a.tour_id)?.map(|t| t.name),
                tour_id: a.tour_id,
                departure_id: a.departure_id,
                departure,
            });
        }
        Ok(out)
    }

    /// Books the refused booking again on another departure of the same tour, as a new booking
    /// (a new id; the same reference, which the refused one never took), and dismisses the
    /// refusal in the same transaction. An override of the original is not carried over.
    pub fn retry_booking_on(&self, mutation_id: u64, departure_id: &str) -> Result<u64, StoreError> {
        self.act_on_rejected_booking(mutation_id, |mut a| {
            a.id = uuid::Uuid::new_v4().to_string();
            a.departure_id = departure_id.to_string();
            a.overbook = None;
            Mutation::CreateBookingV1(a)
        })
    }

    /// Books the refused booking on the same departure past its capacity. The domain refuses
    /// this for roles without `Permission::Overbook`, here and on the server, which audits it.
    pub fn overbook_booking(&self, mutation_id: u64, reason: &str) -> Result<u64, StoreError> {
        self.act_on_rejected_booking(mutation_id, |mut a| {
            a.id = uuid::Uuid::new_v4().to_string();
            a.overbook = Some(OverbookArgs { reason: reason.to_string() });
            Mutation::CreateBookingV1(a)
        })
    }

    /// Puts the refused booking's customer and seats on the departure's waitlist.
    pub fn waitlist_booking(&self, mutation_id: u64) -> Result<u64, StoreError> {
        self.act_on_rejected_booking(mutation_id, |a| {
            Mutation::AddToWaitlistV1(AddToWaitlistV1 {
                id: uuid::Uuid::new_v4().to_string(),
                tour_id: a.tour_id,
                departure_id: a.departure_id,
                customer_id: a.customer_id,
                lines: a.lines.into_iter().map(|l| WaitlistLine { tier_id: l.tier_id, quantity: l.quantity }).collect(),
                notes: a.special_requests,
            })
        })
    }

    /// Enqueues the mutation `make` builds from a refused `create_booking.v1` and acknowledges
    /// the refusal, in one transaction: the follow-up is queued exactly when the refusal leaves
    /// the inbox. A follow-up the domain refuses locally leaves both as they were.
    fn act_on_rejected_booking(
        &self,
        mutation_id: u64,
        make: impl FnOnce(CreateBookingV1) -> Mutation,
    ) -> Result<u64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let args: Option<String> = tx
            .query_row(
                "SELECT args FROM mutation_outcome
                 WHERE mutation_id = ?1 AND status = 'rejected' AND acknowledged = 0 AND name = ?2",
                params![mutation_id, CREATE_BOOKING],
                |r| r.get(0),
            )
            .optional()?;
        let args = args.ok_or_else(|| {
            StoreError::Rejected(Rejection::NotFound { entity: "refused booking".into(), id: mutation_id.to_string() })
        })?;
        let m = make(serde_json::from_str(&args)?);
        let id = self.enqueue(&tx, &m)?;
        tx.execute("UPDATE mutation_outcome SET acknowledged = 1 WHERE mutation_id = ?1", [mutation_id])?;
        tx.commit()?;
        Ok(id)
    }
}

const CREATE_BOOKING: &str = "create_booking.v1";

fn summary(c: &Connection, org: &str, b: &Booking) -> Result<BookingSummary, StoreError> {
    let name = rows::customer(c, org, &b.customer_id)?
        .map_or_else(|| b.customer_id.clone(), |c| format!("{} {}", c.first_name, c.last_name));
    Ok(BookingSummary {
        id: b.id.clone(),
        reference_number: b.reference_number.to_string(),
        departure_id: b.departure_id.clone(),
        customer_id: b.customer_id.clone(),
        customer_name: name,
        pax: b.participant_count(),
        status: b.status,
        payment_status: b.payment_status,
        total: b.pricing.total,
        pending: rows::pending(c, org, EntityKind::Booking, &b.id)?,
    })
}

/// An FTS5 query matching every typed word as a prefix. Words are cut at anything that is not a
/// letter or digit, as the index's tokenizer does, and each is quoted, so nothing typed is read
/// as FTS syntax. A phone-like query (digits and `+ - ( ) .` and spaces only) becomes one digit
/// run, matching the stored E.164 number's digits.
fn fts_query(q: &str) -> Option<String> {
    let phone_like =
        q.chars().any(|c| c.is_ascii_digit()) && q.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let words: Vec<String> = if phone_like {
        vec![q.chars().filter(char::is_ascii_digit).collect()]
    } else {
        q.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
    };
    if words.is_empty() {
        return None;
    }
    Some(words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" "))
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
    // `None` deletes the row.
    let mut rows_to_write: Vec<(EntityKind, &str, Option<serde_json::Value>)> = Vec::with_capacity(changes.len());
    for ch in changes {
        let (kind, id, row) = match ch {
            Change::PutTour(t) => (EntityKind::Tour, &t.id, Some(serde_json::to_value(t)?)),
            Change::PutVariant(v) => (EntityKind::TourVariant, &v.id, Some(serde_json::to_value(v)?)),
            Change::PutPricingTier(t) => (EntityKind::PricingTier, &t.id, Some(serde_json::to_value(t)?)),
            Change::PutDeparture(d) => (EntityKind::Departure, &d.id, Some(serde_json::to_value(d)?)),
            Change::PutBooking(b) => (EntityKind::Booking, &b.id, Some(serde_json::to_value(b)?)),
            Change::PutCustomer(c) => (EntityKind::Customer, &c.id, Some(serde_json::to_value(c)?)),
            Change::PutCheckIn(c) => (EntityKind::CheckIn, &c.id, Some(serde_json::to_value(c)?)),
            Change::PutGuideAssignment(a) => (EntityKind::GuideAssignment, &a.id, Some(serde_json::to_value(a)?)),
            Change::DeleteGuideAssignment { id } => (EntityKind::GuideAssignment, id, None),
            // The server's business: it keeps the audit trail, counts promo uses and talks to
            // the payment provider. The desk shows their effects when they sync back.
            Change::Audit(_) | Change::IncrementPromoUses { .. } | Change::RequestRefund(_) => continue,
            // No replica kind carries waitlist entries yet; the queued intent is the desk's
            // record of it until the server replicates the waitlist.
            Change::PutWaitlistEntry(_) => continue,
        };
        rows_to_write.push((kind, id.as_str(), row));
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
        match row {
            Some(row) => rows::put(tx, org, kind, &row, true)?,
            None => rows::delete(tx, org, kind, id)?,
        }
    }
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

fn fault(e: StoreError) -> StoreFault {
    StoreFault(e.to_string())
}

impl ReadView for View<'_> {
    fn tour(&self, id: &str) -> Result<Option<Tour>, StoreFault> {
        rows::tour(self.c, self.org, id).map_err(fault)
    }
    fn tour_by_slug(&self, slug: &str) -> Result<Option<Tour>, StoreFault> {
        rows::tour_by_slug(self.c, self.org, slug).map_err(fault)
    }
    fn variant(&self, id: &str) -> Result<Option<TourVariant>, StoreFault> {
        self.entity(EntityKind::TourVariant, id)
    }
    fn pricing_tier(&self, id: &str) -> Result<Option<PricingTier>, StoreFault> {
        self.entity(EntityKind::PricingTier, id)
    }
    /// The desk replicates tiers only. Seasons, group and early-bird discounts and taxes are not
    /// replicated yet, so a desk quote can differ from the server's; `expected_total` then turns
    /// that into a visible PRICE_CHANGED rather than a silently different charge.
    fn pricing_catalog(&self, tour_id: &str) -> Result<Option<PricingCatalog>, StoreFault> {
        let tiers = tiers_of(self.c, self.org, tour_id).map_err(fault)?;
        let Some(currency) = tiers.first().map(|t| t.base_price.currency) else { return Ok(None) };
        Ok(Some(PricingCatalog {
            tour_id: tour_id.to_string(),
            currency,
            tiers: tiers
                .into_iter()
                .map(|t| Tier {
                    id: t.id,
                    variant_id: t.variant_id,
                    name: t.name,
                    base_price: t.base_price,
                    min_age: t.min_age,
                    max_age: t.max_age,
                    valid_from: None,
                    valid_until: None,
                    is_default: t.is_default,
                    sort_order: t.sort_order,
                })
                .collect(),
            seasons: vec![],
            group_discounts: vec![],
            early_bird_discounts: vec![],
            taxes: vec![],
        }))
    }
    /// Not replicated: a desk cancellation shows no refund until the server's decision syncs.
    fn cancellation_policy(&self, _tour_id: &str) -> Result<Option<CancellationPolicy>, StoreFault> {
        Ok(None)
    }
    /// Promotional codes are not replicated (their use counts only mean something on the
    /// server), so a code is refused offline rather than guessed.
    fn promo_code(&self, _code: &str) -> Result<Option<PromoCode>, StoreFault> {
        Ok(None)
    }
    fn promo_uses(&self, _code: &str, _customer_id: &str) -> Result<u32, StoreFault> {
        Ok(0)
    }
    fn departure(&self, id: &str) -> Result<Option<Departure>, StoreFault> {
        self.entity(EntityKind::Departure, id)
    }
    fn departures_in_range(
        &self,
        variant_id: &str,
        from: NaiveDate,
        until: NaiveDate,
    ) -> Result<Vec<Departure>, StoreFault> {
        let run = || -> Result<Vec<Departure>, StoreError> {
            // local_date is ISO text, so text order is date order.
            let sql = format!(
                "SELECT {} FROM schedules WHERE organization_id = ?1 AND variant_id = ?2
                 AND local_date >= ?3 AND local_date <= ?4 ORDER BY starts_at, id",
                rows::DEPARTURE_COLS
            );
            let mut stmt = self.c.prepare_cached(&sql)?;
            let mut q = stmt.query(params![self.org, variant_id, from.to_string(), until.to_string()])?;
            let mut out = Vec::new();
            while let Some(r) = q.next()? {
                out.push(rows::departure_from_row(r)?);
            }
            Ok(out)
        };
        run().map_err(fault)
    }
    fn departure_guides(&self, departure_id: &str) -> Result<Vec<DepartureGuide>, StoreFault> {
        let run = || -> Result<Vec<DepartureGuide>, StoreError> {
            // A guide row the desk does not hold leaves the login unknown: the domain then treats
            // the assignment as someone else's, which refuses rather than allows.
            let mut stmt = self.c.prepare_cached(
                "SELECT a.guide_id, g.user_id, a.status FROM guide_assignments a
                 LEFT JOIN guides g ON g.organization_id = a.organization_id AND g.id = a.guide_id
                 WHERE a.organization_id = ?1 AND a.departure_id = ?2 ORDER BY a.guide_id",
            )?;
            let mut q = stmt.query(params![self.org, departure_id])?;
            let mut out = Vec::new();
            while let Some(r) = q.next()? {
                let status: String = r.get(2)?;
                out.push(DepartureGuide {
                    guide_id: r.get(0)?,
                    user_id: r.get(1)?,
                    status: serde_json::from_value(serde_json::Value::String(status))?,
                });
            }
            Ok(out)
        };
        run().map_err(fault)
    }
    fn booking(&self, id: &str) -> Result<Option<Booking>, StoreFault> {
        rows::booking(self.c, self.org, id).map_err(fault)
    }
    fn booking_reference_taken(&self, reference: &str) -> Result<bool, StoreFault> {
        rows::booking_reference_taken(self.c, self.org, reference).map_err(fault)
    }
    fn bookings_of_departure(&self, departure_id: &str) -> Result<Vec<Booking>, StoreFault> {
        rows::bookings_of_departure(self.c, self.org, departure_id).map_err(fault)
    }
    fn check_ins_of_booking(&self, booking_id: &str) -> Result<Vec<CheckIn>, StoreFault> {
        rows::check_ins_of_booking(self.c, self.org, booking_id).map_err(fault)
    }
    fn customer(&self, id: &str) -> Result<Option<Customer>, StoreFault> {
        rows::customer(self.c, self.org, id).map_err(fault)
    }
    fn customer_by_email(&self, email: &str) -> Result<Option<Customer>, StoreFault> {
        rows::customer_by_email(self.c, self.org, email).map_err(fault)
    }
    fn guide(&self, id: &str) -> Result<Option<Guide>, StoreFault> {
        rows::guide(self.c, self.org, id).map_err(fault)
    }
    fn guide_schedule(&self, guide_id: &str) -> Result<Vec<ExistingAssignment>, StoreFault> {
        let run = || -> Result<Vec<ExistingAssignment>, StoreError> {
            let mut stmt = self.c.prepare_cached(
                "SELECT a.departure_id, d.starts_at, d.ends_at, a.status FROM guide_assignments a
                 JOIN schedules d ON d.organization_id = a.organization_id AND d.id = a.departure_id
                 WHERE a.organization_id = ?1 AND a.guide_id = ?2 ORDER BY d.starts_at, a.departure_id",
            )?;
            let mut q = stmt.query(params![self.org, guide_id])?;
            let mut out = Vec::new();
            while let Some(r) = q.next()? {
                let (starts, ends, status): (String, String, String) = (r.get(1)?, r.get(2)?, r.get(3)?);
                let at = |s: &str| {
                    s.parse::<chrono::DateTime<Utc>>().map_err(|_| StoreError::Corrupt(format!("departure time {s:?}")))
                };
                out.push(ExistingAssignment {
                    departure_id: r.get(0)?,
                    starts_at: at(&starts)?,
                    ends_at: at(&ends)?,
                    status: serde_json::from_value(serde_json::Value::String(status))?,
                });
            }
            Ok(out)
        };
        run().map_err(fault)
    }
    fn guide_assignment(&self, departure_id: &str, guide_id: &str) -> Result<Option<GuideAssignment>, StoreFault> {
        rows::guide_assignment(self.c, self.org, departure_id, guide_id).map_err(fault)
    }
}

/// A tour's price tiers, default first.
fn tiers_of(c: &Connection, org: &str, tour_id: &str) -> Result<Vec<PricingTier>, StoreError> {
    let sql = format!(
        "SELECT {} FROM pricing_tiers WHERE organization_id = ?1 AND tour_id = ?2
         ORDER BY is_default DESC, sort_order, name",
        rows::TIER_COLS
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut q = stmt.query(params![org, tour_id])?;
    let mut out = Vec::new();
    while let Some(r) = q.next()? {
        out.push(rows::tier_from_row(r)?);
    }
    Ok(out)
}

mod search;

#[cfg(test)]
mod booking_tests;

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
            buckets: vec![BucketPage { bucket: "org:org-1:all".into(), changes, cursor, head: cursor }],
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

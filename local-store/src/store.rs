//! The desk's SQLite store: opening and migrating it, the session and device auth (here); the
//! write path (`write`: a mutation applied to the replica with its outbox entry, the conflict
//! inbox's actions); the outbox, push verdicts and pull with rebase (`pull`); the UI's read
//! models (`read`).

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use tourdesk_domain::mutation::MutationCtx;
use tourdesk_domain::roles::Role;

use crate::StoreError;

mod allotments;
mod bookings_list;
mod catalogue;
mod customers;
mod exports;
mod gift_cards;
mod guides;
mod incidents;
mod modify;
mod money;
mod pull;
mod read;
mod reports;
mod schedules;
mod search;
mod timeline;
mod waitlist;
mod write;

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
    /// As the server last sent them; stored under the same keys as on the wire.
    #[serde(flatten)]
    pub organization_defaults: tourdesk_domain::protocol::OrganizationDefaults,
}

/// Where the sign-in form starts: the organization and e-mail of the last sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInHint {
    pub organization: String,
    pub email: String,
}

pub struct Store {
    conn: Mutex<Connection>,
    client_id: Mutex<String>,
    /// Whether some booking's departure (customer) is not on the desk, and the database state
    /// it was read in (`PRAGMA data_version`, the connection's total changes, the organization): the
    /// bookings screen's default sort reads it (`bookings_list`).
    orphan_bookings: Mutex<OrphanBookings>,
}

/// `PRAGMA data_version`, the connection's total changes and the organization, with whether
/// some booking's departure and some booking's customer is missing, once each is read.
type OrphanBookings = Option<(i64, u64, String, [Option<bool>; 2])>;

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
        Ok(Store { conn: Mutex::new(conn), client_id: Mutex::new(client_id), orphan_bookings: Mutex::new(None) })
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
        let new_client = if identity_changes(&tx, s)? { Some(start_afresh(&tx)?) } else { None };
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('session', ?1)", [serde_json::to_string(s)?])?;
        tx.commit()?;
        if let Some(id) = new_client {
            *self.client_id.lock().unwrap_or_else(|p| p.into_inner()) = id;
        }
        Ok(())
    }

    /// Whether [`Store::save_session`] would accept `s`, without saving anything: a sign-in
    /// asks before it keeps the server's tokens, so a refused one leaves this desk as it was.
    pub fn check_session(&self, s: &Session) -> Result<(), StoreError> {
        let conn = self.conn();
        identity_changes(&conn, s).map(|_| ())
    }

    /// Signs this desk out: the session, the refresh token and the device are forgotten, and so
    /// is everything the previous user's session brought (the replica, cursors, inbox), with a
    /// new client id, as for a change of user. Refused while changes are queued unless
    /// `discard_pending`, which drops them. Returns how many queued changes were dropped.
    pub fn sign_out(&self, discard_pending: bool) -> Result<u64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let pending: i64 = tx.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
        if pending > 0 && !discard_pending {
            return Err(StoreError::PendingChanges(u64::try_from(pending).unwrap_or(0)));
        }
        tx.execute("DELETE FROM outbox", [])?;
        let id = start_afresh(&tx)?;
        for key in ["session", "refresh_token", "device_id"] {
            tx.execute("DELETE FROM meta WHERE key = ?1", [key])?;
        }
        tx.commit()?;
        *self.client_id.lock().unwrap_or_else(|p| p.into_inner()) = id;
        Ok(u64::try_from(pending).unwrap_or(0))
    }

    /// The server this desk last signed in to, which its refresh token belongs to.
    pub fn server_url(&self) -> Result<Option<String>, StoreError> {
        self.meta("server_url")
    }

    /// The organization and e-mail of the last sign-in, to fill the sign-in form with (never the
    /// password, which this desk does not keep).
    pub fn sign_in_hint(&self) -> Result<Option<SignInHint>, StoreError> {
        self.meta("sign_in_hint")?.map(|s| serde_json::from_str(&s).map_err(StoreError::from)).transpose()
    }

    /// Keeps where and as whom this desk signed in (kept across a sign-out, to fill the form).
    pub fn save_sign_in(&self, server_url: &str, hint: &SignInHint) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('server_url', ?1)", [server_url])?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('sign_in_hint', ?1)",
            [serde_json::to_string(hint)?],
        )?;
        tx.commit()?;
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
}

const CREATE_BOOKING: &str = "create_booking.v1";

fn session_org(c: &Connection) -> Result<Option<String>, StoreError> {
    let raw: Option<String> =
        c.query_row("SELECT value FROM meta WHERE key = 'session'", [], |r| r.get(0)).optional()?;
    Ok(raw.map(|s| serde_json::from_str::<Session>(&s)).transpose()?.map(|s| s.organization_id))
}

/// What a session carries: another user, another organization or another role (and so other
/// buckets) is another identity. Refused while unsent work of the previous identity is queued.
fn identity_changes(c: &Connection, s: &Session) -> Result<bool, StoreError> {
    let previous: Option<String> =
        c.query_row("SELECT value FROM meta WHERE key = 'session'", [], |r| r.get(0)).optional()?;
    let Some(prev) = previous else { return Ok(false) };
    let prev: Session = serde_json::from_str(&prev)?;
    if prev.user_id == s.user_id && prev.organization_id == s.organization_id && prev.role == s.role {
        return Ok(false);
    }
    let pending: i64 = c.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))?;
    if pending > 0 {
        return Err(StoreError::IdentityChange(format!(
            "this desk holds {pending} unsent changes made by {} ({}); sign in as them and sync \
             before another user or organization uses this desk",
            prev.user_name, prev.organization_name
        )));
    }
    Ok(true)
}

/// Empties the replica, cursors and inbox and draws a new client id (the server binds a client
/// id to one user); returns the id. The outbox is the caller's business.
fn start_afresh(tx: &Connection) -> Result<String, StoreError> {
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
        "payment_issues",
        "ledger_entries",
        "gift_cards",
        "gift_card_movements",
        "waitlist_entries",
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
    Ok(id)
}

#[cfg(test)]
mod booking_tests;

#[cfg(test)]
mod tour_editor_tests;

#[cfg(test)]
mod schedule_tests;

#[cfg(test)]
mod audit_tests;

#[cfg(test)]
mod reports_tests;

#[cfg(test)]
mod test_support;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use tourdesk_domain::mutation::Mutation;
    use tourdesk_domain::protocol::{
        BucketPage, ChangeRecord, EntityKind, MutationResult, Op, OutcomeStatus, PullResponse,
    };

    fn session(org: &str) -> Session {
        Session {
            user_id: "u1".into(),
            user_name: "Olivia".into(),
            role: Role::Owner,
            organization_id: org.into(),
            organization_name: format!("Org {org}"),
            organization_defaults: Default::default(),
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
    fn a_sign_in_is_checked_before_anything_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let s = signed_in(&dir);
        s.mutate(&create(T1, "Ramen Walk")).unwrap();
        let e = s.check_session(&session("org-2")).unwrap_err();
        assert!(matches!(e, StoreError::IdentityChange(_)) && e.to_string().contains("1 unsent changes"), "{e}");
        s.check_session(&session("org-1")).unwrap();
        assert_eq!(s.session().unwrap().unwrap().organization_id, "org-1", "checking saves nothing");
        assert_eq!(s.pending_count().unwrap(), 1);
    }

    #[test]
    fn signing_out_forgets_the_session_and_the_data_and_refuses_to_lose_queued_work_unasked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("desk.sqlite3");
        let s = signed_in(&dir);
        s.save_device_auth("dev-1", "rt-1").unwrap();
        s.save_sign_in("http://127.0.0.1:8787", &SignInHint { organization: "demo".into(), email: "o@d.test".into() })
            .unwrap();
        s.apply_pull(&page(1, vec![server_tour(T2, "Sushi Walk", "org-1")], 0, vec![])).unwrap();
        s.mutate(&create(T1, "Ramen Walk")).unwrap();
        assert!(matches!(s.sign_out(false), Err(StoreError::PendingChanges(1))));
        assert!(s.session().unwrap().is_some() && s.refresh_token().unwrap().is_some(), "nothing forgotten");
        let before = s.client_id();
        assert_eq!(s.sign_out(true).unwrap(), 1, "one queued change discarded, as asked");
        drop(s);
        let s = Store::open(&path).unwrap();
        assert_eq!((s.session().unwrap(), s.refresh_token().unwrap(), s.device_id().unwrap()), (None, None, None));
        assert_eq!((s.pending_count().unwrap(), s.tours().unwrap().len()), (0, 0), "the replica is gone");
        assert!(s.cursors().unwrap().is_empty());
        assert_ne!(s.client_id(), before);
        assert_eq!(s.server_url().unwrap().as_deref(), Some("http://127.0.0.1:8787"), "kept to fill the form");
        assert_eq!(s.sign_in_hint().unwrap().map(|h| h.email).as_deref(), Some("o@d.test"));
        assert_eq!(s.sign_out(false).unwrap(), 0, "signing out twice is harmless");
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

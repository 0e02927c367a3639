//! The background sync loop: a round on start, on every local change, and on a timer; with
//! backoff while the server is unreachable, and never stalled by a failed round. While nobody is
//! signed in (no session, or the server refused the refresh token) it idles until a person signs
//! in through the window; sign-in and sign-out happen between rounds, never during one.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tourdesk_domain::ipc::{Connection, DataChanged, DeskStatus, SignInDefaults, SignedInAs, SignedOut};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_local_store::{Session, SignIn, SignInHint, Store, SyncClient, SyncError};

/// What the desk tells its window, instead of the window asking every few hundred milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub enum DeskEvent {
    /// Rows changed (a local write, a pulled page); the window reloads what shows them.
    Changed(DataChanged),
    /// The connection, the pending count or the last sync moved.
    Status(DeskStatus),
}

/// Where events go: the Tauri app handle in the app, a list in tests.
pub type Notifier = Arc<dyn Fn(DeskEvent) + Send + Sync>;

pub struct SyncLoop {
    wake: Notify,
    /// Ends the live stream, so it reconnects as whoever is signed in now (or waits).
    reconnect: Notify,
    /// Held for a whole round, and by a sign-in or sign-out: a page of the previous user's data
    /// is never applied after they signed out.
    round: tokio::sync::Mutex<()>,
    state: Mutex<LoopState>,
    /// Replaced when someone signs in to another server.
    client: Mutex<Arc<SyncClient>>,
    /// What the sign-in form starts with (the configuration's, in `lib.rs`).
    form: Mutex<SignInDefaults>,
    notify: Notifier,
}

struct LoopState {
    connection: Connection,
    last_synced_at: Option<String>,
    last_error: Option<String>,
    data_version: u64,
}

impl SyncLoop {
    /// A loop that does not run yet: commands can already report their writes through it.
    pub fn new(client: SyncClient, notify: Notifier) -> Arc<SyncLoop> {
        let form = SignInDefaults { server_url: client.base_url().to_string(), ..SignInDefaults::default() };
        Arc::new(SyncLoop {
            wake: Notify::new(),
            reconnect: Notify::new(),
            round: tokio::sync::Mutex::new(()),
            state: Mutex::new(LoopState {
                connection: Connection::Starting,
                last_synced_at: None,
                last_error: None,
                data_version: 0,
            }),
            client: Mutex::new(Arc::new(client)),
            form: Mutex::new(form),
            notify,
        })
    }

    /// What the sign-in form starts with when this desk has signed in nowhere yet.
    pub fn set_form_defaults(&self, defaults: SignInDefaults) {
        *self.form.lock().unwrap_or_else(|p| p.into_inner()) = defaults;
    }

    /// The sign-in form's first values: the server this desk syncs with, the organization and
    /// e-mail of the last sign-in (else the configuration's); a password only in debug builds.
    pub fn sign_in_defaults(&self, store: &Store) -> SignInDefaults {
        let mut d = self.form.lock().unwrap_or_else(|p| p.into_inner()).clone();
        d.server_url = self.client().base_url().to_string();
        // Configured (TOURDESK_ORG, TOURDESK_EMAIL) first, then the last sign-in, then (debug
        // builds only) the demo owner; a password only in a debug build.
        let hint = store.sign_in_hint().ok().flatten();
        let demo = crate::config::demo_sign_in();
        if d.organization.is_empty() {
            d.organization =
                hint.as_ref().map(|h| h.organization.clone()).or(demo.as_ref().map(|x| x.0.into())).unwrap_or_default();
        }
        if d.email.is_empty() {
            d.email = hint.as_ref().map(|h| h.email.clone()).or(demo.as_ref().map(|x| x.1.into())).unwrap_or_default();
        }
        if d.password.is_none() {
            d.password = demo.map(|x| x.2.into());
        }
        d
    }

    /// The client of the server this desk syncs with now.
    pub fn client(&self) -> Arc<SyncClient> {
        self.client.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Starts the rounds and the live stream in the background.
    pub fn start(self: &Arc<Self>, store: Arc<Store>, interval: Duration) {
        let this = self.clone();
        let s = store.clone();
        tauri::async_runtime::spawn(async move { this.run(s, interval).await });
        let this = self.clone();
        tauri::async_runtime::spawn(async move { this.follow(store).await });
    }

    /// A person signs in (through the window) to the server at `server_url`: on success this
    /// desk syncs as them from there on, and the window reloads everything (another user's
    /// desk starts a fresh replica). Nothing changes on a refusal.
    pub async fn sign_in(&self, store: &Store, server_url: &str, form: &SignIn) -> Result<Session, SyncError> {
        let _round = self.round.lock().await;
        let current = self.client();
        let client = if current.base_url() == server_url.trim().trim_end_matches('/') {
            current
        } else {
            Arc::new(SyncClient::for_desk(server_url, current.device())?)
        };
        let session = client.sign_in_with(store, form).await?;
        let hint = SignInHint { organization: form.organization.trim().into(), email: form.email.trim().into() };
        store.save_sign_in(client.base_url(), &hint)?;
        *self.client.lock().unwrap_or_else(|p| p.into_inner()) = client;
        {
            let mut s = self.state();
            s.connection = Connection::Syncing;
            s.last_error = None;
            s.data_version += 1;
        }
        self.reconnect.notify_waiters();
        self.changed(EntityKind::ALL, true);
        self.publish_status(store);
        self.poke();
        Ok(session)
    }

    /// Signs this desk out: the server revokes the device, then the desk forgets the session,
    /// the refresh token and what the user's session brought. Unsent changes are refused unless
    /// `discard_pending`; an unreachable server is refused unless `local_only` (the refresh
    /// token is deleted either way, so this desk cannot sync as that user again).
    pub async fn sign_out(
        &self,
        store: &Store,
        discard_pending: bool,
        local_only: bool,
    ) -> Result<SignedOut, crate::DeskError> {
        let _round = self.round.lock().await;
        let pending = store.pending_count()?;
        if pending > 0 && !discard_pending {
            return Err(tourdesk_local_store::StoreError::PendingChanges(pending).into());
        }
        let client = self.client();
        let revoked = if store.refresh_token()?.is_some() {
            match client.sign_out(store).await {
                Ok(()) => true,
                Err(e) if local_only => {
                    tracing::warn!("signing out of this desk only; the server did not revoke it: {e}");
                    false
                }
                Err(e) => return Err(crate::DeskError::SignOut(e)),
            }
        } else {
            // The server already refused this device's refresh token: nothing left to revoke.
            true
        };
        let discarded = store.sign_out(discard_pending)?;
        client.forget_token().await;
        {
            let mut s = self.state();
            s.connection = Connection::Starting;
            s.last_error = None;
            s.last_synced_at = None;
            s.data_version += 1;
        }
        self.reconnect.notify_waiters();
        self.changed(EntityKind::ALL, true);
        self.publish_status(store);
        Ok(SignedOut { revoked, discarded })
    }

    fn changed(&self, kinds: impl IntoIterator<Item = EntityKind>, outcomes: bool) {
        (self.notify)(DeskEvent::Changed(DataChanged { kinds: kinds.into_iter().collect(), outcomes }));
    }

    fn publish_status(&self, store: &Store) {
        (self.notify)(DeskEvent::Status(self.status(store)));
    }

    fn state(&self) -> std::sync::MutexGuard<'_, LoopState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks for a round now (after a local edit, or from the UI's "Sync now").
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// A local write changed rows of these kinds (and, with `outcomes`, the conflict inbox): the
    /// window reloads what shows them, and a sync round starts.
    pub fn touched(&self, store: &Store, kinds: &[EntityKind], outcomes: bool) {
        self.state().data_version += 1;
        self.changed(kinds.iter().copied(), outcomes);
        self.publish_status(store);
        self.poke();
    }

    /// Keeps the server's live stream open and turns each poke into a sync round, so an edit on
    /// another desk shows here within moments, not at the next timer tick.
    async fn follow(self: Arc<Self>, store: Arc<Store>) {
        loop {
            if !needs_sign_in(&store) {
                let client = self.client();
                tokio::select! {
                    r = client.watch(&store, |_| self.poke()) => if let Err(e) = r {
                        tracing::debug!("live updates unavailable: {e}");
                    },
                    _ = self.reconnect.notified() => continue,
                }
            }
            let _ = tokio::time::timeout(Duration::from_secs(3), self.reconnect.notified()).await;
        }
    }

    async fn run(self: Arc<Self>, store: Arc<Store>, interval: Duration) {
        let mut backoff = Duration::from_secs(1);
        loop {
            let turn = self.round.lock().await;
            if needs_sign_in(&store) {
                // Nobody to sync as: wait for a sign-in (which pokes), without asking the server.
                drop(turn);
                self.publish_status(&store);
                let _ = tokio::time::timeout(interval, self.wake.notified()).await;
                continue;
            }
            self.state().connection = Connection::Syncing;
            self.publish_status(&store);
            let cursors = store.cursors().ok();
            let client = self.client();
            let round = client.sync_once(&store);
            tokio::pin!(round);
            // A first sync of a large organization takes many pages: its progress is published
            // while it runs (only then, so an idle desk sends nothing).
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            let result = loop {
                tokio::select! {
                    r = &mut round => break r,
                    _ = tick.tick() => if client.progress().is_some() { self.publish_status(&store) },
                }
            };
            drop(turn);
            let wait = match result {
                Ok(report) => {
                    {
                        let mut s = self.state();
                        s.connection = Connection::Online;
                        s.last_error = None;
                        s.last_synced_at = Some(chrono::Utc::now().to_rfc3339());
                        if report.pulled > 0 || report.pushed > 0 {
                            s.data_version += 1;
                        }
                    }
                    if report.pushed > 0 {
                        // Verdicts on this desk's own work: a refusal rolls its optimistic rows
                        // back (of any kind), and the inbox and pending badges change.
                        self.changed(EntityKind::ALL, true);
                    } else if !report.touched.is_empty() {
                        self.changed(report.touched, false);
                    }
                    backoff = Duration::from_secs(1);
                    interval
                }
                Err(e) => {
                    tracing::warn!("sync failed: {e}");
                    let applied_pages = store.cursors().ok() != cursors;
                    {
                        let mut s = self.state();
                        s.connection = if e.is_transient() { Connection::Offline } else { Connection::Error };
                        s.last_error = Some(e.to_string());
                        if applied_pages {
                            s.data_version += 1;
                        }
                    }
                    // A pull may have applied some pages before failing (which kinds is lost
                    // with the report); an offline round that changed nothing must not make the
                    // window reload every list.
                    if applied_pages {
                        self.changed(EntityKind::ALL, true);
                    }
                    let wait = backoff.min(interval);
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                    wait
                }
            };
            self.publish_status(&store);
            // Whichever comes first: the timer, or a poke from a local change.
            let _ = tokio::time::timeout(wait, self.wake.notified()).await;
        }
    }

    pub fn status(&self, store: &Store) -> DeskStatus {
        let session = store.session().ok().flatten();
        let pending = store.pending_count().unwrap_or(0);
        let rejections = store.rejections().map(|r| r.len() as u64).unwrap_or(0);
        let needs_sign_in = needs_sign_in(store);
        let client = self.client();
        let s = self.state();
        DeskStatus {
            connection: s.connection,
            server_url: client.base_url().to_string(),
            pending,
            rejections,
            last_synced_at: s.last_synced_at.clone(),
            last_error: s.last_error.clone(),
            signed_in_as: session.map(|u| SignedInAs {
                name: u.user_name,
                role: u.role,
                organization_name: u.organization_name,
            }),
            data_version: s.data_version,
            sync_progress: client.progress(),
            needs_sign_in,
        }
    }
}

/// No session, or no refresh token to renew access with (never issued, or refused by the
/// server): only a person signing in can let this desk sync again.
fn needs_sign_in(store: &Store) -> bool {
    !matches!((store.session(), store.refresh_token()), (Ok(Some(_)), Ok(Some(_))))
}

//! The background sync loop: a round on start, on every local change, and on a timer; with
//! backoff while the server is unreachable, and never stalled by a failed round.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tourdesk_domain::ipc::{Connection, DataChanged, DeskStatus, SignedInAs};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_local_store::{Store, SyncClient};

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
    state: Mutex<LoopState>,
    server_url: String,
    client: Arc<SyncClient>,
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
        let client = Arc::new(client);
        Arc::new(SyncLoop {
            wake: Notify::new(),
            state: Mutex::new(LoopState {
                connection: Connection::Starting,
                last_synced_at: None,
                last_error: None,
                data_version: 0,
            }),
            server_url: client.base_url().to_string(),
            client,
            notify,
        })
    }

    /// Starts the rounds and the live stream in the background.
    pub fn start(self: &Arc<Self>, store: Arc<Store>, interval: Duration) {
        let this = self.clone();
        let (s, c) = (store.clone(), self.client.clone());
        tauri::async_runtime::spawn(async move { this.run(s, c, interval).await });
        let this = self.clone();
        let client = self.client.clone();
        tauri::async_runtime::spawn(async move { this.follow(store, client).await });
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

    /// The client, for the online account calls (`SyncClient::staff_call`).
    pub fn client(&self) -> &SyncClient {
        &self.client
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
    async fn follow(self: Arc<Self>, store: Arc<Store>, client: Arc<SyncClient>) {
        loop {
            if let Err(e) = client.watch(&store, |_| self.poke()).await {
                tracing::debug!("live updates unavailable: {e}");
            }
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
    }

    async fn run(self: Arc<Self>, store: Arc<Store>, client: Arc<SyncClient>, interval: Duration) {
        let mut backoff = Duration::from_secs(1);
        loop {
            self.state().connection = Connection::Syncing;
            self.publish_status(&store);
            let cursors = store.cursors().ok();
            let round = client.sync_once(&store);
            tokio::pin!(round);
            // A first sync of a large organization takes many pages: its progress is published
            // while it runs (only then, so an idle desk sends nothing).
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            let result = loop {
                tokio::select! {
                    r = &mut round => break r,
                    _ = tick.tick() => if self.client.progress().is_some() { self.publish_status(&store) },
                }
            };
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
        let s = self.state();
        DeskStatus {
            connection: s.connection,
            server_url: self.server_url.clone(),
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
            sync_progress: self.client.progress(),
        }
    }
}

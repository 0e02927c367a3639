//! Live change notifications ("pokes"). A commit that adds to an organization's change log
//! sends `NOTIFY tourdesk_changes, '<org>:<seq>'` in its transaction; PostgreSQL delivers it only
//! after commit, to every server instance. Each instance keeps one LISTEN connection and fans the
//! pokes out to its connected desks over SSE ([`stream`], `GET /sync/v1/events`), each desk
//! getting only its own organization's. A poke carries only an organization id and the new
//! sequence number (never row data): desks then pull, through row-level security, so a lost poke
//! costs latency, never data (they also pull on a timer).
//!
//! The LISTEN connection is checked every [`PING_EVERY`] and reconnected with backoff when it is
//! lost (a PostgreSQL restart, a terminated backend, a dead network path). Notifications sent
//! while it was away are not replayed by PostgreSQL, so after every (re)connection each open
//! stream re-reads its organization's sequence and pokes its desk ([`Signal::Resync`]).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::StreamExt;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio_postgres::{AsyncMessage, NoTls};

use crate::auth::Staff;
use crate::db::Prepared;
use crate::{AppError, AppState};

pub const CHANNEL: &str = "tourdesk_changes";

/// The LISTEN connection's `application_name`, so operators (and tests) can find it in
/// `pg_stat_activity`.
pub const LISTENER_NAME: &str = "tourdesk-listener";

/// How often the LISTEN connection proves it is alive, and how long the proof may take.
pub const PING_EVERY: Duration = Duration::from_secs(10);
const PING_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poke {
    pub organization_id: String,
    pub seq: i64,
}

/// What the listener tells this instance's streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// An organization's change log moved.
    Poke(Poke),
    /// The listener has just (re)connected: notifications may have been missed meanwhile.
    Resync,
}

#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<Signal>,
}

impl Events {
    /// Starts the LISTEN connection (reconnecting with backoff if it drops).
    pub async fn listen(database_url: &str) -> anyhow::Result<Events> {
        let (tx, _) = broadcast::channel(1024);
        let events = Events { tx };
        let mut pg: tokio_postgres::Config = database_url.parse()?;
        pg.application_name(LISTENER_NAME);
        pg.connect_timeout(Duration::from_secs(10));
        // Connect once up front so a misconfiguration fails the start, not silently later.
        let first = pg.connect(NoTls).await?;
        let sender = events.tx.clone();
        tokio::spawn(async move {
            let mut conn = Some(first);
            let mut backoff = Duration::from_millis(200);
            loop {
                let pair = match conn.take() {
                    Some(p) => Ok(p),
                    None => pg.connect(NoTls).await,
                };
                match pair {
                    Ok((client, connection)) => {
                        if run(client, connection, &sender).await {
                            backoff = Duration::from_millis(200);
                        }
                        tracing::warn!("change listener disconnected; reconnecting");
                    }
                    Err(e) => tracing::warn!("change listener cannot connect: {e}"),
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        });
        Ok(events)
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Signal> {
        self.tx.subscribe()
    }
}

type Ping<'a> = Pin<Box<dyn Future<Output = Result<(), tokio_postgres::Error>> + Send + 'a>>;

/// Listens until the connection is lost; answers whether LISTEN had succeeded (so the caller
/// resets its backoff only for a connection that worked).
async fn run(
    client: tokio_postgres::Client,
    mut connection: tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>,
    sender: &broadcast::Sender<Signal>,
) -> bool {
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    let sql = format!("LISTEN {CHANNEL}");
    let listen = client.batch_execute(&sql);
    tokio::pin!(listen);
    let mut listening = false;
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    let mut ping: Option<Ping<'_>> = None;
    loop {
        tokio::select! {
            r = &mut listen, if !listening => {
                if let Err(e) = r {
                    tracing::warn!("LISTEN failed: {e}");
                    return false;
                }
                listening = true;
                // Whatever was committed while no listener was connected gets a poke now.
                let _ = sender.send(Signal::Resync);
            }
            _ = ticks.tick(), if ping.is_none() => {
                let c = &client;
                ping = Some(Box::pin(async move { c.batch_execute("SELECT 1").await }));
            }
            r = async {
                match ping.as_mut() {
                    Some(p) => tokio::time::timeout(PING_TIMEOUT, p).await,
                    None => std::future::pending().await,
                }
            }, if ping.is_some() => {
                ping = None;
                match r {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        tracing::warn!("change listener ping failed: {e}");
                        return listening;
                    }
                    Err(_) => {
                        tracing::warn!("change listener did not answer within {PING_TIMEOUT:?}");
                        return listening;
                    }
                }
            }
            msg = messages.next() => match msg {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    if let Some(p) = parse(n.payload()) {
                        // No receivers is fine: no desk is connected.
                        let _ = sender.send(Signal::Poke(p));
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::warn!("change listener error: {e}");
                    return listening;
                }
                None => return listening,
            }
        }
    }
}

/// The organization's latest change sequence (0 before its first change).
async fn current_seq(state: &AppState, org: &str) -> Result<i64, AppError> {
    let mut conn = state.pool.get().await?;
    let tx = crate::db::read_in(&mut conn, org).await?;
    let row = tx.row_opt("SELECT seq FROM org_sync WHERE organization_id = $1", &[&org]).await?;
    tx.commit().await?;
    Ok(row.map(|r| r.try_get(0)).transpose().map_err(anyhow::Error::from)?.unwrap_or(0))
}

/// Server-sent events: a `poke` with the organization's latest change sequence whenever it moves,
/// and one at once on connect (so a desk that reconnects catches up, and knows it is connected).
/// Bursts are coalesced into one poke; a desk whose stream fell behind, or whose instance's
/// listener has just reconnected, gets a poke with the sequence read afresh, and pulls.
pub async fn stream(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>>, AppError> {
    // Subscribe before reading the current sequence, so no commit falls in between.
    let rx = state.events.subscribe();
    let org = staff.organization_id;
    let current = current_seq(&state, &org).await?;
    let first = futures_util::stream::once(async move { Ok(Event::default().event("poke").data(current.to_string())) });
    let updates = futures_util::stream::unfold((rx, org, state.clone()), |(mut rx, org, state)| async move {
        loop {
            // `None`: not this desk's; `Some(None)`: read the sequence afresh.
            let latest = match rx.recv().await {
                Ok(Signal::Poke(p)) if p.organization_id == org => Some(Some(p.seq)),
                Ok(Signal::Poke(_)) => None,
                Ok(Signal::Resync) | Err(RecvError::Lagged(_)) => Some(None),
                Err(RecvError::Closed) => return None,
            };
            let Some(mut seq) = latest else { continue };
            while let Ok(signal) = rx.try_recv() {
                match signal {
                    Signal::Poke(p) if p.organization_id == org => seq = seq.map(|s| s.max(p.seq)),
                    Signal::Poke(_) => {}
                    Signal::Resync => seq = None,
                }
            }
            let seq = match seq {
                Some(s) => s,
                // A desk that cannot be told the sequence is poked anyway: it pulls either way.
                None => current_seq(&state, &org).await.unwrap_or(-1),
            };
            let event = Event::default().event("poke").data(seq.to_string());
            return Some((Ok(event), (rx, org, state)));
        }
    });
    let mut down = state.shutting_down.clone();
    let until_shutdown = async move {
        let _ = down.wait_for(|d| *d).await;
    };
    let stream = first.chain(updates).take_until(until_shutdown);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15))))
}

fn parse(payload: &str) -> Option<Poke> {
    let (org, seq) = payload.rsplit_once(':')?;
    Some(Poke { organization_id: org.to_string(), seq: seq.parse().ok()? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_parse_or_are_ignored() {
        assert_eq!(parse("org-1:42"), Some(Poke { organization_id: "org-1".into(), seq: 42 }));
        assert_eq!(parse("a:b:7"), Some(Poke { organization_id: "a:b".into(), seq: 7 }));
        assert_eq!(parse("nonsense"), None);
        assert_eq!(parse("org:x"), None);
    }
}

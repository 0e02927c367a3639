//! Live change notifications ("pokes"). A commit that adds to an organization's change log
//! sends `NOTIFY tourdesk_changes, '<org>:<seq>'` in its transaction; PostgreSQL delivers it only
//! after commit, to every server instance. Each instance keeps one LISTEN connection and fans the
//! pokes out to its connected desks over SSE ([`stream`], `GET /sync/v1/events`). A poke carries only the new sequence number: desks
//! then pull, so a lost poke costs latency, never data (they also pull on a timer).

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poke {
    pub organization_id: String,
    pub seq: i64,
}

#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<Poke>,
}

impl Events {
    /// Starts the LISTEN connection (reconnecting with backoff if it drops).
    pub async fn listen(database_url: &str) -> anyhow::Result<Events> {
        let (tx, _) = broadcast::channel(1024);
        let events = Events { tx };
        let pg: tokio_postgres::Config = database_url.parse()?;
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
                        backoff = Duration::from_millis(200);
                        run(client, connection, &sender).await;
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

    pub fn subscribe(&self) -> broadcast::Receiver<Poke> {
        self.tx.subscribe()
    }
}

async fn run(
    client: tokio_postgres::Client,
    mut connection: tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>,
    sender: &broadcast::Sender<Poke>,
) {
    let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
    let sql = format!("LISTEN {CHANNEL}");
    let listen = client.batch_execute(&sql);
    tokio::pin!(listen);
    let mut listening = false;
    loop {
        tokio::select! {
            r = &mut listen, if !listening => {
                if let Err(e) = r {
                    tracing::warn!("LISTEN failed: {e}");
                    return;
                }
                listening = true;
            }
            msg = messages.next() => match msg {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    if let Some(p) = parse(n.payload()) {
                        // No receivers is fine: no desk is connected.
                        let _ = sender.send(p);
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::warn!("change listener error: {e}");
                    return;
                }
                None => return,
            }
        }
    }
}

/// Server-sent events: a `poke` with the organization's latest change sequence whenever it moves,
/// and one at once on connect (so a desk that reconnects catches up, and knows it is connected).
/// Bursts are coalesced into one poke; a desk that falls behind gets a poke anyway and pulls.
pub async fn stream(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, std::convert::Infallible>>>, AppError> {
    // Subscribe before reading the current sequence, so no commit falls in between.
    let rx = state.events.subscribe();
    let org = staff.organization_id;
    let current: i64 = {
        let mut conn = state.pool.get().await?;
        let tx = conn.build_transaction().read_only(true).start().await?;
        crate::db::set_tenant(&tx, &org).await?;
        let row = tx.row_opt("SELECT seq FROM org_sync WHERE organization_id = $1", &[&org]).await?;
        tx.commit().await?;
        row.map(|r| r.try_get(0)).transpose().map_err(anyhow::Error::from)?.unwrap_or(0)
    };
    let first = futures_util::stream::once(async move { Ok(Event::default().event("poke").data(current.to_string())) });
    let updates = futures_util::stream::unfold((rx, org), |(mut rx, org)| async move {
        loop {
            let latest = match rx.recv().await {
                Ok(p) if p.organization_id == org => Some(p.seq),
                Ok(_) => None,
                Err(RecvError::Lagged(_)) => Some(-1),
                Err(RecvError::Closed) => return None,
            };
            let Some(mut seq) = latest else { continue };
            while let Ok(p) = rx.try_recv() {
                if p.organization_id == org {
                    seq = seq.max(p.seq);
                }
            }
            let event = Event::default().event("poke").data(seq.to_string());
            return Some((Ok(event), (rx, org)));
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

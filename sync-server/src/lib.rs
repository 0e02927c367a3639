//! Tourdesk's sync-server: the one place that owns PostgreSQL and decides what is true.
//!
//! Layers, outside in: `routes` (axum handlers: parse, call one function, map the error) →
//! `sync` / `auth` (the server's use cases) → `db` (pool, migrations, named queries) →
//! `tourdesk_domain` (the rules, shared with the desk). Only this crate knows PostgreSQL.

pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod routes;
pub mod seed;
pub mod sync;

use std::net::SocketAddr;

pub use config::Config;
pub use error::AppError;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub pool: deadpool_postgres::Pool,
    pub config: std::sync::Arc<Config>,
}

/// A server bound and serving in the background; dropping the handle does not stop it,
/// `shutdown` does (gracefully, finishing requests in flight).
pub struct RunningServer {
    pub addr: SocketAddr,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(());
        self.task.await.map_err(std::io::Error::other)?
    }
}

/// Connects, migrates, seeds the demo data when configured, and starts serving.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    let pool = db::connect(&config)?;
    db::migrate(&pool).await?;
    if config.seed_demo {
        seed::demo(&pool).await?;
    }
    let listener = tokio::net::TcpListener::bind(&config.listen).await?;
    let addr = listener.local_addr()?;
    let state = AppState { pool, config: std::sync::Arc::new(config) };
    let app = routes::router(state);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
    });
    tracing::info!(%addr, "tourdesk sync-server listening");
    Ok(RunningServer { addr, shutdown: tx, task })
}

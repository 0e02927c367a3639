//! Tourdesk's sync-server: the one place that owns PostgreSQL and decides what is true.
//!
//! Layers, outside in: `routes` (axum handlers: parse, call one function, map the error) →
//! `sync` / `auth` (the server's use cases) → `db` (pool, migrations, named queries) →
//! `tourdesk_domain` (the rules, shared with the desk). Only this crate knows PostgreSQL.

pub mod accounts;
pub mod allotments;
pub mod analytics;
pub mod apply;
pub mod auth;
pub mod calendar_feeds;
pub mod config;
pub mod db;
pub mod demo_data;
pub mod error;
pub mod events;
pub mod jobs;
pub mod mail;
pub mod manifests;
pub mod messages;
pub mod mfa;
pub mod notices;
pub mod payments;
pub mod reviews;
pub mod routes;
pub mod sms;
pub mod sync;
pub mod throttle;
pub mod updates;
pub mod web;
pub mod website;

use std::net::SocketAddr;

use anyhow::Context;

pub use config::Config;
pub use error::AppError;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub pool: deadpool_postgres::Pool,
    pub config: std::sync::Arc<Config>,
    /// Change notifications of every organization, fed by PostgreSQL LISTEN (so a write through
    /// any server instance reaches desks connected to this one).
    pub events: events::Events,
    /// Turns true when the server is shutting down: endless responses (the SSE stream) end then,
    /// or a graceful shutdown would wait for them forever.
    pub shutting_down: tokio::sync::watch::Receiver<bool>,
    pub stripe: payments::gateway::StripeGateway,
    pub mailer: mail::Mailer,
    /// Failed sign-ins per account and address (in memory, per instance).
    pub sign_in_throttle: std::sync::Arc<throttle::SignInThrottle>,
    /// The public site's availability and tour details, checked against each organization's
    /// change counter on every request (`website::cache`).
    pub catalogue: std::sync::Arc<website::cache::CatalogueCache>,
    /// The public site's first-party analytics, written in batches off the request path.
    pub analytics: analytics::Analytics,
}

/// A server bound and serving in the background; dropping the handle does not stop it,
/// `shutdown` does (gracefully, finishing requests in flight).
pub struct RunningServer {
    pub addr: SocketAddr,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        self.task.await.map_err(std::io::Error::other)?
    }
}

/// Migrates and, when configured, loads the demo data, as the schema owner
/// (`migrate_database_url`) on connections of its own: `tourdesk-sync-server migrate`, and the
/// server's start when that URL is set.
pub async fn prepare_database(config: &Config) -> anyhow::Result<()> {
    let owner = db::connect_owner(config)?;
    let database = config.migrate_database_url.as_deref().map(db::describe_target).unwrap_or_default();
    db::migrate(&owner).await.with_context(|| format!("PostgreSQL at {database}"))?;
    if config.demo_data {
        demo_data::demo(&owner).await?;
    }
    owner.close();
    Ok(())
}

/// Migrates (and loads the demo data) when given the owner's URL, checks that row-level security binds the
/// runtime role, and starts serving as that role. Outside development mode, settings that are
/// unsafe in production refuse the start ([`Config::check_safe`]); in development mode each is
/// logged as a warning.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    for what in config.check_safe()? {
        tracing::warn!("DEVELOPMENT MODE, unsafe for production: {what}");
    }
    if config.migrate_database_url.is_some() {
        prepare_database(&config).await?;
    } else if config.demo_data {
        anyhow::bail!("demo_data needs migrate_database_url: the demo data is loaded as the schema owner");
    }
    let database = db::describe_target(&config.database_url);
    let pool = db::connect(&config)?;
    db::check_runtime_role(&pool).await.with_context(|| format!("PostgreSQL at {database}"))?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let events =
        events::Events::listen(&config.database_url).await.with_context(|| format!("PostgreSQL at {database}"))?;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let stripe = payments::gateway::StripeGateway::new(&config.stripe)?;
    let jobs_every = std::time::Duration::from_millis(config.booking.jobs_interval_ms.max(50));
    let mailer = mail::Mailer::new(&config.mail)?;
    let catalogue = website::cache::CatalogueCache::new(config.booking.catalogue_cache);
    catalogue.follow(&events);
    let analytics = analytics::Analytics::start(pool.clone());
    let state = AppState {
        pool,
        analytics,
        config: std::sync::Arc::new(config),
        events,
        shutting_down: rx.clone(),
        stripe,
        mailer,
        sign_in_throttle: Default::default(),
        catalogue,
    };
    jobs::spawn(state.clone(), jobs_every);
    let app = routes::router(state);
    let task = tokio::spawn(async move {
        let mut rx = rx;
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|down| *down).await;
            })
            .await
    });
    tracing::info!(%addr, "tourdesk sync-server listening");
    Ok(RunningServer { addr, shutdown: tx, task })
}

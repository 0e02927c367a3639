//! `tourdesk-sync-server`: reads its configuration, migrates and optionally seeds demo data when
//! given the owner's URL, serves until Ctrl-C or SIGTERM.
//! `tourdesk-sync-server migrate` only migrates (and seeds, if configured) as the owner, then exits.

use anyhow::Context;
use tourdesk_sync_server::{Config, prepare_database, start};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tokio_postgres=warn,refinery_core=warn".into()),
        )
        .init();
    let config = Config::load().context("loading configuration")?;
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("migrate") => {
            tracing::info!(?config, "migrating");
            prepare_database(&config).await.context("migrating")?;
            println!("tourdesk database migrated");
            return Ok(());
        }
        Some(other) => anyhow::bail!("unknown command {other:?}; usage: tourdesk-sync-server [migrate]"),
    }
    tracing::info!(?config, "starting");
    let server = start(config).await.context("starting the server")?;
    println!("tourdesk sync-server listening on http://{}", server.addr);
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

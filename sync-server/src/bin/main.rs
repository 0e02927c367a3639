//! `tourdesk-sync-server`: reads its configuration, migrates, optionally seeds demo data, serves
//! until Ctrl-C or SIGTERM.

use anyhow::Context;
use tourdesk_sync_server::{Config, start};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tokio_postgres=warn,refinery_core=warn".into()),
        )
        .init();
    let config = Config::load().context("loading configuration")?;
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

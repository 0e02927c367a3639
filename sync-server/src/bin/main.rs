//! `tourdesk-sync-server`: reads its configuration, migrates and optionally loads the demo data when
//! given the owner's URL, serves until Ctrl-C or SIGTERM.
//! `tourdesk-sync-server migrate` only migrates (and loads the demo data, if configured) as the owner, then exits.
//! A failure to start is one line on stderr and exit code 1, whatever `RUST_BACKTRACE` says: an
//! operator needs the cause, not the stack.

use tourdesk_sync_server::{Config, prepare_database, start};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tokio_postgres=warn,refinery_core=warn".into()),
        )
        .init();
    if let Err(e) = serve().await {
        // `{:#}` is the cause chain on one line; `{:?}` would append a backtrace.
        eprintln!("tourdesk-sync-server: {e:#}");
        std::process::exit(1);
    }
}

async fn serve() -> anyhow::Result<()> {
    let config = Config::load().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    for (name, guess) in Config::unknown_env(std::env::vars_os().filter_map(|(k, _)| k.into_string().ok())) {
        match guess {
            Some(meant) => tracing::warn!("unknown environment variable {name} is ignored; did you mean {meant}?"),
            None => tracing::warn!("unknown environment variable {name} is ignored"),
        }
    }
    config.check_safe().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("migrate") => {
            tracing::info!(?config, "migrating");
            prepare_database(&config).await?;
            println!("tourdesk database migrated");
            return Ok(());
        }
        Some(other) => anyhow::bail!("unknown command {other:?}; usage: tourdesk-sync-server [migrate]"),
    }
    tracing::info!(?config, "starting");
    let server = start(config).await?;
    println!("tourdesk sync-server listening on http://{} (pid {})", server.addr, std::process::id());
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

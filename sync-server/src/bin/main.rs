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
        Some("create-org") => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            let new = create_org_args(&args)?;
            let pool = tourdesk_sync_server::db::connect(&config)?;
            let mailer = tourdesk_sync_server::mail::Mailer::new(&config.mail).map_err(|e| anyhow::anyhow!("{e}"))?;
            let created = tourdesk_sync_server::accounts::create_organization(&pool, &config.mail, &mailer, &new)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("organization {} created (id {})", new.slug.trim(), created.organization_id);
            println!("the owner chooses a password at: {}", created.invitation_url);
            return Ok(());
        }
        Some(other) => anyhow::bail!("unknown command {other:?}; usage: tourdesk-sync-server [migrate | create-org …]"),
    }
    tracing::info!(?config, "starting");
    let server = start(config).await?;
    println!("tourdesk sync-server listening on http://{} (pid {})", server.addr, std::process::id());
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await?;
    Ok(())
}

const CREATE_ORG_USAGE: &str = "usage: tourdesk-sync-server create-org --slug <slug> --name <name> \
--owner-email <e-mail> --owner-name <name> --currency <ISO 4217> --timezone <IANA zone> [--locale <en>] [--country <PT>]";

/// `create-org`'s flags, each `--flag value`; unknown or missing ones are refused with the usage.
fn create_org_args(args: &[String]) -> anyhow::Result<tourdesk_domain::accounts::NewOrganization> {
    let mut flags = std::collections::HashMap::new();
    let known =
        ["--slug", "--name", "--owner-email", "--owner-name", "--currency", "--timezone", "--locale", "--country"];
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if !known.contains(&flag.as_str()) {
            anyhow::bail!("unknown flag {flag:?}; {CREATE_ORG_USAGE}");
        }
        let value = it.next().ok_or_else(|| anyhow::anyhow!("{flag} needs a value; {CREATE_ORG_USAGE}"))?;
        flags.insert(flag.trim_start_matches('-').to_string(), value.clone());
    }
    let need =
        |name: &str| flags.get(name).cloned().ok_or_else(|| anyhow::anyhow!("--{name} is missing; {CREATE_ORG_USAGE}"));
    Ok(tourdesk_domain::accounts::NewOrganization {
        slug: need("slug")?,
        name: need("name")?,
        owner_email: need("owner-email")?,
        owner_name: need("owner-name")?,
        currency: need("currency")?,
        timezone: need("timezone")?,
        locale: flags.get("locale").cloned().unwrap_or_else(|| "en".into()),
        country_code: flags.get("country").cloned(),
    })
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

//! `tourdesk-scratch`: a throwaway PostgreSQL cluster with one fresh database, and the fake
//! Stripe API, for running the real server against outside tests (`cargo xtask test` points
//! schemathesis at such a server). Prints `TOURDESK_DATABASE_URL=…` (the
//! application role), `TOURDESK_MIGRATE_DATABASE_URL=…` (the owner) and `TOURDESK_STRIPE_API_BASE=…`, one a line, then keeps both until its stdin closes; the cluster
//! is then stopped and deleted.

use std::io::{Read, Write};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cluster = tourdesk_testkit::PgCluster::start()?;
    let db = cluster.fresh_database().await?;
    let stripe = tourdesk_testkit::stripe::FakeStripe::start().await;
    let mut out = std::io::stdout().lock();
    // The server runs as the role row-level security binds; the owner migrates and loads the demo data.
    writeln!(out, "TOURDESK_DATABASE_URL={}", tourdesk_testkit::as_app(&db))?;
    writeln!(out, "TOURDESK_MIGRATE_DATABASE_URL={db}")?;
    writeln!(out, "TOURDESK_STRIPE_API_BASE={}", stripe.uri())?;
    out.flush()?;
    drop(out);
    // Until whoever started us closes our stdin (or exits): then the cluster goes with `cluster`.
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await??;
    drop(stripe);
    drop(cluster);
    Ok(())
}

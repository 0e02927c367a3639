//! A real, throwaway PostgreSQL for tests: `initdb` into a temp dir, `pg_ctl start` on a free
//! loopback port, one fresh database per test, `pg_ctl stop -m immediate` on drop.
//! No system service and no Docker: this is what runs on a fresh CI machine.
//!
//! [`smtp`] is a real SMTP server for tests that send mail; [`stripe`] is a fake Stripe API (what
//! is across the internet is faked at the HTTP boundary, with real signatures, and a stand-in
//! Stripe.js for browsers); [`browser`] is headless Chromium for the website's tests.

pub mod browser;
pub mod smtp;
pub mod stripe;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, bail};

pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
    counter: AtomicU32,
}

/// Finds the newest installed PostgreSQL's binaries (Debian puts them outside PATH).
fn pg_bin() -> anyhow::Result<PathBuf> {
    if let Ok(dir) = std::env::var("TOURDESK_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL is not installed (run `cargo xtask setup`)")?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().context("no PostgreSQL server binaries under /usr/lib/postgresql (run `cargo xtask setup`)")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn is_root() -> bool {
    std::env::var("USER").map(|u| u == "root").unwrap_or(false)
        || Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

impl PgCluster {
    /// Starts a new cluster for tests: fsync and synchronous_commit off, since a test's data
    /// need not survive a power cut. About a second on a 2-core machine.
    pub fn start() -> anyhow::Result<PgCluster> {
        Self::start_with(false)
    }

    /// Starts a new cluster that commits durably (fsync and synchronous_commit on, as in
    /// production): what benchmarks measure, so their figures hold for a real deployment.
    pub fn start_durable() -> anyhow::Result<PgCluster> {
        Self::start_with(true)
    }

    fn start_with(durable: bool) -> anyhow::Result<PgCluster> {
        let bin = pg_bin()?;
        let as_postgres = is_root();
        // initdb refuses to run as root, and the postgres user must reach the data dir.
        let dir = tempfile::Builder::new().prefix("tourdesk-pg-").tempdir_in("/tmp")?;
        if as_postgres {
            run(Command::new("chown").arg("postgres:postgres").arg(dir.path()))?;
        }
        let data = dir.path().join("data");
        let mut cluster = PgCluster { dir, bin, port: 0, as_postgres, counter: AtomicU32::new(0) };
        cluster.pg(
            "initdb",
            &["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "-D"],
            Some(&data),
        )?;
        let log = cluster.dir.path().join("server.log").to_string_lossy().to_string();
        // A free port can be taken by someone else between asking and binding: try a few.
        let mut last_err = None;
        for _ in 0..5 {
            cluster.port = free_port()?;
            // TOURDESK_PG_OPTS adds server options, e.g. `-c shared_preload_libraries=pg_stat_statements`
            // to see where a benchmark's database time goes.
            let opts = format!(
                "-k {} -p {} -c listen_addresses=127.0.0.1 {} -c max_connections=300 {}",
                cluster.dir.path().display(),
                cluster.port,
                if durable { "-c fsync=on -c synchronous_commit=on" } else { "-F -c synchronous_commit=off" },
                std::env::var("TOURDESK_PG_OPTS").unwrap_or_default()
            );
            match cluster.pg("pg_ctl", &["-w", "-l", &log, "-o", &opts, "start", "-D"], Some(&data)) {
                Ok(()) => return Ok(cluster),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("PostgreSQL did not start")))
    }

    fn pg(&self, tool: &str, args: &[&str], data: Option<&Path>) -> anyhow::Result<()> {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        cmd.args(args);
        if let Some(d) = data {
            cmd.arg(d);
        }
        run(&mut cmd)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// CPU time (user + system) that the cluster's processes have used so far: the postmaster's
    /// children, read from /proc. Benchmarks use it to say how much of a figure is the
    /// database's work. Processes that have exited are not counted; Linux only (else zero).
    pub fn cpu_seconds(&self) -> f64 {
        let pid_file = self.dir.path().join("data").join("postmaster.pid");
        let Some(postmaster) = std::fs::read_to_string(pid_file)
            .ok()
            .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<u32>().ok()))
        else {
            return 0.0;
        };
        let Ok(procs) = std::fs::read_dir("/proc") else { return 0.0 };
        procs
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter_map(proc_stat)
            .filter(|s| s.pid == postmaster || s.ppid == postmaster)
            .map(|s| s.cpu_seconds)
            .sum()
    }

    /// A connection URL for database `db` as the superuser, which owns the schema and migrates.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates a fresh, empty database and returns its URL as the superuser (the owner). The
    /// server under test connects to it as [`APP_ROLE`] instead: see [`as_app`].
    pub async fn fresh_database(&self) -> anyhow::Result<String> {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        let name = format!("t_{}_{n}", std::process::id());
        let (client, conn) = tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls).await?;
        let task = tokio::spawn(conn);
        // Roles belong to the cluster; databases made at once race to create them, and the
        // loser's error is success. V3 would create tourdesk_app too; the login role needs it first.
        client
            .batch_execute(&format!(
                "DO $$ BEGIN
                     IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tourdesk_app') THEN
                         CREATE ROLE tourdesk_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
                     END IF;
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                 END $$;
                 DO $$ BEGIN
                     IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                         CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
                             IN ROLE tourdesk_app;
                     END IF;
                 EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                 END $$;"
            ))
            .await?;
        client.batch_execute(&format!("CREATE DATABASE {name}")).await?;
        drop(client);
        let _ = task.await;
        Ok(self.url(&name))
    }
}

/// The login role a server under test runs as: a member of `tourdesk_app` (V3), no superuser,
/// no BYPASSRLS, owning nothing, so row-level security binds it as it binds production.
pub const APP_ROLE: &str = "tourdesk_server";

/// The same database as `url` (one of [`PgCluster::fresh_database`]'s), as [`APP_ROLE`].
pub fn as_app(url: &str) -> String {
    as_role(url, APP_ROLE)
}

/// The same database as `url` (one of [`PgCluster::fresh_database`]'s), as another role.
pub fn as_role(url: &str, role: &str) -> String {
    url.replacen("postgres://postgres@", &format!("postgres://{role}@"), 1)
}

/// A client on `url`; its connection runs on a task of its own and ends with the client.
pub async fn connect(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    Ok(client)
}

/// The one integer `sql` selects (a count, say).
pub async fn scalar(
    c: &tokio_postgres::Client,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> anyhow::Result<i64> {
    Ok(c.query_one(sql, params).await?.try_get(0)?)
}

/// A hybrid logical clock stamp of now on `node`, as the sync protocol writes it
/// (`<ms since the epoch, 13 digits>-<counter, 8 digits>-<node>`), for mutations pushed by hand.
pub fn hlc_now(node: &str) -> String {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    format!("{ms:013}-{:08}-{node}", 0)
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self.pg("pg_ctl", &["-m", "immediate", "stop", "-D"], Some(&data));
    }
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// What a benchmark needs from `/proc/<pid>/stat`.
pub struct ProcStat {
    pub pid: u32,
    pub ppid: u32,
    pub cpu_seconds: f64,
}

/// `/proc/<pid>/stat`: the parent and the CPU time used (user + system), in seconds.
pub fn proc_stat(pid: u32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is parenthesised and may hold spaces: fields start after the last ')'.
    let fields: Vec<&str> = text.get(text.rfind(')')? + 2..)?.split_whitespace().collect();
    let ppid = fields.get(1)?.parse().ok()?;
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // Linux reports in clock ticks of 1/100 s (USER_HZ) on every platform it runs on.
    Some(ProcStat { pid, ppid, cpu_seconds: ticks / 100.0 })
}

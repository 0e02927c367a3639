//! `cargo xtask <command>`: the two commands a newcomer needs, and the steps they are made of.
//!
//! - `run`   — set up what is missing, start a project-local PostgreSQL (in `.dev/`), the
//!   sync-server with demo data, and the desktop app pointed at it; closing the window (or
//!   Ctrl+C) stops the server and the PostgreSQL it started.
//! - `server` — the same PostgreSQL and sync-server with demo data, without the desk or a display.
//! - `test`  — set up what is missing, then fmt, clippy, unit and integration tests, the wasm
//!   builds, the end-to-end test of the real desktop window under Xvfb, and schemathesis
//!   against the public API (`api-fuzz` runs only that); with `TOURDESK_BUNDLE_SMOKE=1` also the
//!   release bundle and its installed-package smoke test.
//! - `bundle` — release bundles of the desk for this machine, with their sizes (`bundle.rs`).
//! - `release` — signs bundles and publishes them for the desks' auto-update (`release.rs`).
//!
//! Every step says what it is doing, and is idempotent: a warm machine skips installs.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

mod bundle;
mod release;

const WASM_BINDGEN_VERSION: &str = "0.2.130";
const TAURI_DRIVER_VERSION: &str = "2.1.0";
/// Installs with Python 3.11, the oldest Python CI machines here have.
const SCHEMATHESIS_VERSION: &str = "4.32.5";
/// Test cases per operation and phase: enough to find a hole, small enough for ~3 minutes.
const SCHEMATHESIS_MAX_EXAMPLES: &str = "150";
const DEV_PG_PORT: u16 = 5433;
const SERVER_ADDR: &str = "127.0.0.1:8787";
/// The dev cluster's login role for the server (a member of tourdesk_app).
const DEV_APP_ROLE: &str = "tourdesk_server";

const APT_PRODUCT: &[&str] = &[
    "build-essential",
    "pkg-config",
    "curl",
    "file",
    "libwebkit2gtk-4.1-dev",
    "libssl-dev",
    "librsvg2-dev",
    "libsoup-3.0-dev",
    "postgresql",
];
// poppler-utils: `pdftotext`, which the manifest tests read generated PDFs with.
// chromium + chromium-driver: the booking website's tests in a real browser (tests/website_browser.rs);
// npm: installs axe-core for them under the target dir.
// unzip: the desk's window test opens the XLSX files it saves (a spreadsheet reader crate as a
// dev-dependency changed the desk's features so that its embedded UI no longer loaded).
const APT_TEST: &[&str] =
    &["xvfb", "xauth", "webkit2gtk-driver", "poppler-utils", "chromium", "chromium-driver", "unzip"];
/// What the sync-server alone needs (no WebKit, no display).
const APT_SERVER: &[&str] = &["build-essential", "pkg-config", "curl", "libssl-dev", "postgresql"];

/// The one cargo selection every build of the product uses, `run`'s and `test`'s alike: a
/// different package or feature selection unifies dependency features differently and
/// recompiles about 150 crates. (`e2e` only enables the real-window test target; it changes
/// nothing in the desk's code.)
const WORKSPACE_BUILD: &[&str] = &["--workspace", "--all-features"];

/// How `run` builds: exactly `test`'s build without running it. Even `cargo build` with the same
/// selection recompiles dozens of crates (syn, serde, tokio, the GTK bindings…), because a test
/// build also unifies the dev-dependencies' features; this way a `run` after a `test` compiles
/// nothing, and a `test` after a `run` only runs. The binaries land in the target directory's
/// `debug/` as with `cargo build`.
fn build_like_test() -> Command {
    let mut c = cargo();
    c.arg("test").args(WORKSPACE_BUILD).arg("--no-run");
    c
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup(true),
        Some("ui") => build_ui(),
        Some("run") => run_product(),
        // Only `test`'s (and `run`'s) build, for whoever wants the binaries without running them.
        Some("build") => run(&mut build_like_test()),
        Some("server") => run_server_only(),
        Some("test") => test_all(),
        Some("e2e") => setup(true).and_then(|_| build_ui()).and_then(|_| e2e()),
        Some("api-fuzz") => api_fuzz(),
        Some("release") => release::release(&args[1..]),
        Some("bundle") => bundle::bundle(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <setup|ui|build|run|server|test|e2e|api-fuzz|bundle|release>");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("\nxtask failed: {e:#}");
        std::process::exit(1);
    }
}

/// The checkout `cargo xtask` was run in. `cargo run` sets CARGO_MANIFEST_DIR when it starts the
/// binary, and that one is read first: checkouts sharing a target dir share this binary, and the
/// path compiled into it is the checkout that last built it.
fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let manifest = manifest.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// Honours CARGO_TARGET_DIR, which CI points at a cache that outlives the clone.
fn target_dir() -> PathBuf {
    std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"))
}

fn say(msg: &str) {
    println!("\n==> {msg}");
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd.status().with_context(|| format!("could not start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().map(|s| s.success()).unwrap_or(false)
}

fn output(cmd: &mut Command) -> String {
    cmd.output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default()
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")) == "0"
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Installs what is missing: Debian packages, the wasm target, the wasm-bindgen CLI matching the
/// lockfile, and (for tests) tauri-driver.
fn setup(for_tests: bool) -> anyhow::Result<()> {
    let mut wanted: Vec<&str> = APT_PRODUCT.to_vec();
    if for_tests {
        wanted.extend_from_slice(APT_TEST);
        // npm installs axe-core for the browser tests. Machines whose Node.js comes from
        // NodeSource have npm inside the `nodejs` package, which conflicts with Debian's `npm`:
        // ask for the package only where there is no npm at all.
        if !succeeds(Command::new("npm").arg("--version")) {
            wanted.push("npm");
        }
    }
    install_packages(wanted)?;
    setup_tools(for_tests)
}

fn install_packages(wanted: Vec<&str>) -> anyhow::Result<()> {
    let missing: Vec<&str> = wanted.into_iter().filter(|p| !succeeds(Command::new("dpkg").args(["-s", p]))).collect();
    if missing.is_empty() {
        say("system packages: all present");
    } else {
        say(&format!("installing system packages: {}", missing.join(" ")));
        let sudo = if is_root() { vec![] } else { vec!["sudo"] };
        let apt = |args: &[&str]| {
            let mut c = Command::new(if sudo.is_empty() { "apt-get" } else { "sudo" });
            if !sudo.is_empty() {
                c.arg("apt-get");
            }
            c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
            c
        };
        run(&mut apt(&["update", "-q"]))?;
        let mut install = apt(&["-o", "DPkg::Lock::Timeout=300", "install", "-y", "-q", "--no-install-recommends"]);
        install.args(&missing);
        run(&mut install)?;
    }
    Ok(())
}

fn setup_tools(for_tests: bool) -> anyhow::Result<()> {
    let targets = output(Command::new("rustup").args(["target", "list", "--installed"]));
    if targets.lines().any(|l| l == "wasm32-unknown-unknown") {
        say("wasm32 target: present");
    } else {
        say("adding the wasm32-unknown-unknown target");
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }

    let have = output(Command::new("wasm-bindgen").arg("--version"));
    if have.ends_with(WASM_BINDGEN_VERSION) {
        say(&format!("wasm-bindgen CLI {WASM_BINDGEN_VERSION}: present"));
    } else {
        say(&format!("installing wasm-bindgen CLI {WASM_BINDGEN_VERSION} (one-off, a few minutes)"));
        // Not --locked: its lockfile names a crate version the registry mirror lacks.
        run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", WASM_BINDGEN_VERSION]))?;
    }

    if for_tests {
        let have = output(Command::new("tauri-driver").arg("--version"));
        if have.contains(TAURI_DRIVER_VERSION) || which("tauri-driver") {
            say("tauri-driver: present");
        } else {
            say(&format!("installing tauri-driver {TAURI_DRIVER_VERSION}"));
            run(Command::new("cargo").args([
                "install",
                "--locked",
                "tauri-driver",
                "--version",
                TAURI_DRIVER_VERSION,
            ]))?;
        }
    }
    Ok(())
}

fn which(bin: &str) -> bool {
    succeeds(Command::new("sh").args(["-c", &format!("command -v {bin}")]))
}

/// Builds the Yew UI to wasm and lays out `ui/dist`, which the desk embeds at compile time.
///
/// The desk embeds each file of `ui/dist` with `include_bytes!`, so cargo rebuilds the desk (its
/// library, binary and every test linking it) when a file's modification time changes, even to
/// the same bytes. wasm-bindgen therefore writes into a staging directory, and only files whose
/// bytes differ are copied into `ui/dist`: a `run` after a `test` (both build the UI first)
/// leaves the desk's build fresh.
fn build_ui() -> anyhow::Result<()> {
    say("building the UI (Yew → wasm)");
    run(cargo().args(["build", "-p", "tourdesk-ui", "--lib", "--target", "wasm32-unknown-unknown"]))?;
    let root = root();
    let wasm = target_dir().join("wasm32-unknown-unknown/debug/tourdesk_ui.wasm");
    let dist = root.join("ui/dist");
    // One staging folder per checkout: worktrees sharing a target dir must not mix their files.
    let staging = target_dir().join("ui-dist-staging").join(checkout_key(&root));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    std::fs::create_dir_all(&dist)?;
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&staging)
        .arg(&wasm))?;
    for f in ["index.html", "main.js", "style.css"] {
        std::fs::copy(root.join("ui").join(f), staging.join(f))?;
    }
    let mut changed = 0;
    for entry in std::fs::read_dir(&staging)? {
        let from = entry?.path();
        let Some(name) = from.file_name() else { continue };
        if copy_if_different(&from, &dist.join(name))? {
            changed += 1;
        }
    }
    println!("ui/dist: {changed} file(s) changed");
    Ok(())
}

/// A short stable name for a checkout's path (a hash; std's SipHash with fixed keys).
fn checkout_key(root: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    root.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Copies `from` over `to` unless `to` already holds the same bytes (its modification time is then
/// left alone). Whether it copied.
fn copy_if_different(from: &Path, to: &Path) -> anyhow::Result<bool> {
    let new = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    if std::fs::read(to).is_ok_and(|old| old == new) {
        return Ok(false);
    }
    std::fs::write(to, new).with_context(|| format!("writing {}", to.display()))?;
    Ok(true)
}

struct DevPg {
    data: PathBuf,
    bin: PathBuf,
    /// Whether this run started it (then it stops it too); a cluster found running is left be.
    started_here: bool,
}

impl DevPg {
    /// The postmaster's PID, from the first line of `postmaster.pid`.
    fn pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.data.join("postmaster.pid")).ok()?.lines().next()?.trim().parse().ok()
    }

    fn stop_command(&self) -> String {
        let as_pg = if is_root() { "runuser -u postgres -- " } else { "" };
        format!("{as_pg}{}/pg_ctl -D {} stop", self.bin.display(), self.data.display())
    }

    fn stop(&self) {
        say(&format!("stopping the PostgreSQL this run started (pid {})", self.pid().unwrap_or_default()));
        let stopped = as_pg_user(is_root(), self.bin.join("pg_ctl"))
            .args(["-w", "-m", "fast", "stop", "-D"])
            .arg(&self.data)
            .stdout(Stdio::null())
            .status();
        if !stopped.is_ok_and(|s| s.success()) {
            eprintln!("could not stop PostgreSQL; stop it with: {}", self.stop_command());
        }
    }
}

fn pg_bin() -> anyhow::Result<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL is not installed")?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    v.sort();
    v.pop().context("no PostgreSQL server binaries under /usr/lib/postgresql")
}

fn as_pg_user(root_user: bool, exe: PathBuf) -> Command {
    if root_user {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

/// The dev cluster's directory. Normally `.dev/pg` in the repo (ignored by git). As root it
/// must be somewhere the `postgres` user can reach (initdb refuses root, and a clone under
/// /root is not traversable), so it goes under /var/tmp, named after the repo's path.
fn dev_pg_dir(root_user: bool) -> PathBuf {
    if !root_user {
        return root().join(".dev");
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in root().to_string_lossy().bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    PathBuf::from(format!("/var/tmp/tourdesk-dev-{:08x}", h as u32))
}

/// A project-local cluster on port 5433, so it never collides with a system PostgreSQL.
/// It survives between runs; delete its directory (printed) to reset the demo.
fn start_dev_pg() -> anyhow::Result<DevPg> {
    let root_user = is_root();
    let dev = dev_pg_dir(root_user);
    let data = dev.join("pg");
    let bin = pg_bin()?;
    std::fs::create_dir_all(&dev)?;
    if root_user {
        run(Command::new("chown").arg("postgres:postgres").arg(&dev))?;
    }
    if !data.join("PG_VERSION").exists() {
        say(&format!("creating the project-local PostgreSQL cluster in {}", data.display()));
        run(as_pg_user(root_user, bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "-D"])
            .arg(&data))?;
    }
    let running = succeeds(as_pg_user(root_user, bin.join("pg_ctl")).arg("status").arg("-D").arg(&data));
    let pg = DevPg { data: data.clone(), bin: bin.clone(), started_here: !running };
    if running {
        say(&format!(
            "PostgreSQL already running on 127.0.0.1:{DEV_PG_PORT} (pid {}); leaving it be",
            pg.pid().unwrap_or_default()
        ));
    } else {
        say(&format!("starting PostgreSQL on 127.0.0.1:{DEV_PG_PORT}"));
        let opts = format!("-k {} -p {DEV_PG_PORT} -c listen_addresses=127.0.0.1", dev.display());
        run(as_pg_user(root_user, bin.join("pg_ctl"))
            .args(["-w", "-l"])
            .arg(dev.join("pg.log"))
            .args(["-o", &opts, "start", "-D"])
            .arg(&data))?;
        println!("PostgreSQL pid {} (this run stops it on the way out)", pg.pid().unwrap_or_default());
    }
    let psql = |sql: &str| {
        let mut c = Command::new(bin.join("psql"));
        c.args(["-h", "127.0.0.1", "-p", &DEV_PG_PORT.to_string(), "-U", "postgres", "-tAc", sql]);
        c
    };
    if output(&mut psql("SELECT 1 FROM pg_database WHERE datname = 'tourdesk'")) != "1" {
        run(&mut psql("CREATE DATABASE tourdesk"))?;
    }
    // The server runs as DEV_APP_ROLE, which row-level security binds as in production; the
    // superuser `postgres` owns the schema and migrates. tourdesk_app is V3's; it is made here
    // first because the login role is a member of it.
    for (role, attrs) in [("tourdesk_app", "NOLOGIN"), (DEV_APP_ROLE, "LOGIN IN ROLE tourdesk_app")] {
        if output(&mut psql(&format!("SELECT 1 FROM pg_roles WHERE rolname = '{role}'"))) != "1" {
            run(&mut psql(&format!("CREATE ROLE {role} {attrs} NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")))?;
        }
    }
    Ok(pg)
}

fn run_product() -> anyhow::Result<()> {
    let t = Instant::now();
    setup(false)?;
    build_ui()?;
    say("building the sync-server and the desktop app (the same build as `cargo xtask test`'s)");
    run(&mut build_like_test())?;
    let interrupted = on_interrupt()?;
    let pg = start_dev_pg()?;
    let _pg = StopOnDrop(&pg);
    let server = start_dev_server()?;
    println!(
        "\nReady in {:.0?}. The desk opens on its sign-in screen, filled in with the demo owner (organization \
         `demo`, owner@demo.tourdesk.test / tourdesk-demo): press Enter.\n\
         Stop the server (`kill {}`) to see the desk work offline; close the window or press Ctrl+C to stop everything.",
        t.elapsed(),
        server.0.id()
    );
    say("launching the desktop app");
    std::fs::create_dir_all(root().join(".dev"))?;
    let db = root().join(".dev/desk.sqlite3");
    let mut desk = Command::new(target_dir().join("debug/tourdesk-desk"))
        .env("TOURDESK_SERVER_URL", format!("http://{SERVER_ADDR}"))
        .env("TOURDESK_DESK_DB", &db)
        .spawn()
        .context("launching the desktop app (it needs a display: run inside a desktop session or under xvfb-run)")?;
    let status = wait_until_exit_or_interrupt(&mut desk, &interrupted)?;
    match status {
        Some(status) => println!("desk exited with {status}"),
        None => {
            println!("interrupted; closing the desk");
            let _ = desk.kill();
            let _ = desk.wait();
        }
    }
    if !pg.started_here {
        println!("PostgreSQL was running before; it keeps running (stop: {})", pg.stop_command());
    }
    Ok(())
}

/// PostgreSQL and the sync-server with demo data, for a machine without a display or a desk.
/// Ctrl+C stops both (PostgreSQL only if this started it).
fn run_server_only() -> anyhow::Result<()> {
    install_packages(APT_SERVER.to_vec())?;
    build_server(&[])?;
    let interrupted = on_interrupt()?;
    let pg = start_dev_pg()?;
    let _pg = StopOnDrop(&pg);
    let mut server = start_dev_server()?;
    println!("\nServing http://{SERVER_ADDR} with demo data; press Ctrl+C to stop.");
    match wait_until_exit_or_interrupt(&mut server.0, &interrupted)? {
        // The terminal's Ctrl+C reaches the server too; it may end before this notices.
        Some(status) if !status.success() && !interrupted.load(Ordering::SeqCst) => {
            bail!("the sync-server exited with {status}")
        }
        Some(_) => println!("the sync-server has stopped"),
        None => {}
    }
    if !pg.started_here {
        println!("PostgreSQL was running before; it keeps running (stop: {})", pg.stop_command());
    }
    Ok(())
}

/// Builds `target/debug/tourdesk-sync-server` (and the binaries of the `extra` packages, named as
/// `-p <package>`). Where the
/// desk's build dependencies are installed, through `test`'s build ([`build_like_test`]), so that
/// after a `cargo xtask test` nothing is compiled again; on a machine without them (a server has
/// no WebKit) only the server's packages are built, with their own feature selection.
fn build_server(extra: &[&str]) -> anyhow::Result<()> {
    if succeeds(Command::new("dpkg").args(["-s", "libwebkit2gtk-4.1-dev"])) {
        say("building the sync-server (the same build as `cargo xtask test`'s)");
        // Every package with integration tests (testkit's `tourdesk-scratch` included) gets its
        // binaries built by it.
        run(&mut build_like_test())
    } else {
        say("building the sync-server alone (the desk's WebKit packages are not installed)");
        run(cargo().args(["build", "-p", "tourdesk-sync-server"]).args(extra).arg("--bins"))
    }
}

/// Starts the dev server on the dev cluster, in development mode (placeholder Stripe keys, demo
/// data), and waits until it listens. Dropping the handle stops it.
fn start_dev_server() -> anyhow::Result<KillOnDrop> {
    say(&format!("starting the sync-server with demo data on http://{SERVER_ADDR}"));
    let server = Command::new(target_dir().join("debug/tourdesk-sync-server"))
        .env("TOURDESK_DATABASE_URL", format!("postgres://{DEV_APP_ROLE}@127.0.0.1:{DEV_PG_PORT}/tourdesk"))
        .env("TOURDESK_MIGRATE_DATABASE_URL", format!("postgres://postgres@127.0.0.1:{DEV_PG_PORT}/tourdesk"))
        .env("TOURDESK_LISTEN", SERVER_ADDR)
        .env("TOURDESK_DEMO_DATA", "true")
        .env("TOURDESK_DEV_MODE", "true")
        .spawn()
        .context("starting the sync-server")?;
    let mut server = KillOnDrop(server);
    println!("sync-server pid {} (stop it alone with `kill {}`)", server.0.id(), server.0.id());
    wait_for_port(SERVER_ADDR, Duration::from_secs(60), &mut server.0)?;
    Ok(server)
}

/// A flag that Ctrl+C (SIGINT) or SIGTERM sets instead of killing this process, so it can stop
/// what it started. The children get the terminal's SIGINT too, and end on their own.
fn on_interrupt() -> anyhow::Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, flag.clone()).context("installing the Ctrl+C handler")?;
    }
    Ok(flag)
}

/// Waits for `child` to exit (its status) or for an interrupt (`None`).
fn wait_until_exit_or_interrupt(child: &mut Child, interrupted: &AtomicBool) -> anyhow::Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if interrupted.load(Ordering::SeqCst) {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Stops the dev cluster on the way out, if this run started it.
struct StopOnDrop<'a>(&'a DevPg);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        if self.0.started_here {
            self.0.stop();
        }
    }
}

/// A child stopped (by its PID) when the handle is dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.0.try_wait() {
            return;
        }
        // SIGTERM lets the server finish in-flight requests.
        say(&format!("stopping the sync-server (pid {})", self.0.id()));
        let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
        let _ = self.0.wait();
    }
}

fn wait_for_port(addr: &str, limit: Duration, child: &mut Child) -> anyhow::Result<()> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("the sync-server exited with {status} before listening on {addr}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!("nothing listened on {addr} within {limit:?}")
}

struct Stages(Vec<(String, Duration)>);

impl Stages {
    fn stage(&mut self, name: &str, f: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<()> {
        say(name);
        let t = Instant::now();
        let r = f();
        let took = t.elapsed();
        println!("--- {name}: {:.1}s{}", took.as_secs_f64(), if r.is_err() { " (FAILED)" } else { "" });
        self.0.push((name.to_string(), took));
        r
    }

    fn report(&self) {
        println!("\nStage timings:");
        for (name, d) in &self.0 {
            println!("  {:>7.1}s  {name}", d.as_secs_f64());
        }
    }
}

fn test_all() -> anyhow::Result<()> {
    let mut s = Stages(Vec::new());
    let r = (|| {
        s.stage("setup (system packages, wasm target, tools)", || setup(true))?;
        s.stage("cargo fmt --check", || run(cargo().args(["fmt", "--all", "--check"])))?;
        s.stage("build the UI (wasm)", build_ui)?;
        s.stage("cargo clippy (all targets, all features, warnings are errors)", || {
            run(cargo().args(["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"]))
        })?;
        s.stage("domain crate builds for wasm32", || {
            run(cargo().args(["build", "-p", "tourdesk-domain", "--target", "wasm32-unknown-unknown"]))
        })?;
        // One cargo invocation for every test, the real-window one included (under Xvfb): the
        // same package selection and features everywhere means every crate compiles once. A
        // failing test binary does not hide the verdicts of the ones after it (--no-fail-fast).
        s.stage("all tests: unit, integration (real PostgreSQL, SQLite), end-to-end (real window)", || {
            run_tests_retrying_window_flakes()
        })?;
        s.stage("schemathesis against the public API's OpenAPI document", api_fuzz)?;
        // A release build and bundle take longer than the rest together on a small machine:
        // only when asked (CI sets it on a schedule-like condition; see README).
        if std::env::var("TOURDESK_BUNDLE_SMOKE").is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "yes")) {
            s.stage("release bundle, installed from the .deb and started under Xvfb", || bundle::bundle(&[]))
        } else {
            say("release bundle smoke test skipped (TOURDESK_BUNDLE_SMOKE=1 runs it)");
            Ok(())
        }
    })();
    s.report();
    r
}

/// The test files that drive the real desk window: timing on a shared 2-core machine makes them
/// the only tests that may fail once for reasons outside the code (a slow WebKit paint, a
/// loaded WebDriver), so a test of these that fails is run once more on its own.
const WINDOW_TEST_FILES: &[&str] =
    &["desk_window", "guide_window", "tour_editor_window", "calendar_window", "booking_window"];

/// Runs every test (under Xvfb, two at a time). Tests that failed are named from cargo's
/// `test <name> ... FAILED` lines; if every one of them is a real-window test and each passes
/// when run again alone, the stage passes and says loudly which were flaky. Any other failure,
/// or a window test that fails twice, fails the stage: a broken behaviour fails both runs.
fn run_tests_retrying_window_flakes() -> anyhow::Result<()> {
    use std::io::{BufRead, BufReader, Write};
    let mut cmd = xvfb(&[&["test"], WORKSPACE_BUILD, &["--no-fail-fast", "--", "--test-threads=2"]].concat());
    let mut child = cmd.stdout(Stdio::piped()).spawn().with_context(|| format!("could not start {cmd:?}"))?;
    let mut failed = Vec::new();
    if let Some(out) = child.stdout.take() {
        let mut stdout = std::io::stdout();
        for line in BufReader::new(out).lines() {
            let line = line.context("reading the tests' output")?;
            let _ = writeln!(stdout, "{line}");
            if let Some(name) = line.strip_prefix("test ").and_then(|l| l.strip_suffix(" ... FAILED")) {
                failed.push(name.trim().to_string());
            }
        }
    }
    let status = child.wait().context("waiting for the tests")?;
    if status.success() {
        return Ok(());
    }
    if failed.is_empty() {
        bail!("the tests failed with {status} (a build error or a crashed test binary: see above)");
    }
    let mut retries = Vec::new();
    for name in &failed {
        match window_test_file_of(name) {
            Some(file) => retries.push((file, name.clone())),
            None => bail!("{} test(s) failed: {}", failed.len(), failed.join(", ")),
        }
    }
    for (file, name) in &retries {
        say(&format!("FLAKY? window test {file}::{name} failed; running it once more alone"));
        run(&mut xvfb(&[&["test"], WORKSPACE_BUILD, &["--test", file, "--", name.as_str(), "--exact"]].concat()))
            .with_context(|| format!("window test {file}::{name} failed twice"))?;
    }
    println!(
        "\nFLAKY (passed when run again alone): {}",
        retries.iter().map(|(f, n)| format!("{f}::{n}")).collect::<Vec<_>>().join(", ")
    );
    Ok(())
}

/// Which real-window test file defines the test function `name`, if any.
fn window_test_file_of(name: &str) -> Option<&'static str> {
    let needle = format!("fn {name}(");
    WINDOW_TEST_FILES.iter().copied().find(|file| {
        std::fs::read_to_string(root().join("src-tauri/tests").join(format!("{file}.rs")))
            .is_ok_and(|text| text.contains(&needle))
    })
}

/// `cargo <args>` under a virtual display.
fn xvfb(args: &[&str]) -> Command {
    let mut c = Command::new("xvfb-run");
    c.args(["-a", "--server-args=-screen 0 1280x900x24"])
        .arg(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(root());
    c
}

/// Drives the desk's real window through tauri-driver (cargo builds the desk, embedding `ui/dist`).
fn e2e() -> anyhow::Result<()> {
    run(&mut xvfb(
        &[
            &["test"],
            WORKSPACE_BUILD,
            &[
                "--test",
                "desk_window",
                "--test",
                "tour_editor_window",
                "--test",
                "calendar_window",
                "--test",
                "guide_window",
                "--test",
                "booking_window",
            ],
        ]
        .concat(),
    ))
}

/// Schemathesis (from PyPI, in a venv under the target dir) against the real sync-server, a debug
/// build with demo data on a throwaway PostgreSQL (`tourdesk-scratch` from testkit, which also
/// runs the fake Stripe) on a free loopback port, with every check: any 5xx, an undocumented
/// status, header or content type, or a body off its schema fails the step. The Stripe webhook
/// is left out: schemathesis cannot sign its bodies, so all it would see is the 400 for a bad
/// signature (tested in `tests/public_api.rs`).
fn api_fuzz() -> anyhow::Result<()> {
    let venv = target_dir().join("schemathesis-venv");
    let st = venv.join("bin/schemathesis");
    if output(Command::new(&st).arg("--version")).ends_with(SCHEMATHESIS_VERSION) {
        say(&format!("schemathesis {SCHEMATHESIS_VERSION}: present"));
    } else {
        say(&format!("installing schemathesis {SCHEMATHESIS_VERSION} into {}", venv.display()));
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        run(Command::new(venv.join("bin/pip")).args([
            "install",
            "-q",
            "--disable-pip-version-check",
            &format!("schemathesis=={SCHEMATHESIS_VERSION}"),
        ]))?;
    }
    build_server(&["-p", "tourdesk-testkit"])?;
    let scratch = Scratch::start()?;
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.to_string()
    };
    say(&format!("starting the sync-server with demo data on http://{addr}"));
    let server = Command::new(target_dir().join("debug/tourdesk-sync-server"))
        .envs(scratch.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("TOURDESK_LISTEN", &addr)
        .env("TOURDESK_DEMO_DATA", "true")
        .env("TOURDESK_DEV_MODE", "true")
        // The fuzzer is one address sending as fast as it can: limiting it is not what is tested.
        .env("TOURDESK_RATE_LIMIT_PER_SECOND", "0")
        .env("TOURDESK_SIGN_IN_ADDRESS_LIMIT", "false")
        .env("RUST_LOG", "warn")
        .spawn()
        .context("starting the sync-server")?;
    let mut guard = KillOnDrop(server);
    wait_for_port(&addr, Duration::from_secs(60), &mut guard.0)?;
    let result = run(Command::new(&st)
        .arg("--config-file")
        .arg(root().join("xtask/schemathesis.toml"))
        .arg("run")
        .arg(format!("http://{addr}/api/v1/openapi.json"))
        .args(["--url", &format!("http://{addr}")])
        .args(["--checks", "all"])
        .args(["--max-examples", SCHEMATHESIS_MAX_EXAMPLES])
        .args(["--exclude-path", "/api/v1/stripe/webhook"])
        .args(["--seed", "18"])
        .args(["--workers", "2"])
        .args(["--request-timeout", "30"])
        .arg("--report-dir")
        .arg(target_dir().join("schemathesis-report"))
        // Its cache (`.schemathesis/`) goes there too, not into the repository.
        .current_dir(target_dir()));
    drop(guard);
    drop(scratch);
    result
}

/// A running `tourdesk-scratch`: the environment it printed; it stops when dropped.
struct Scratch {
    child: Child,
    env: Vec<(String, String)>,
}

impl Scratch {
    fn start() -> anyhow::Result<Scratch> {
        use std::io::BufRead;
        say("starting a throwaway PostgreSQL and the fake Stripe (tourdesk-scratch)");
        let mut child = Command::new(target_dir().join("debug/tourdesk-scratch"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting tourdesk-scratch")?;
        let stdout = child.stdout.take().context("tourdesk-scratch has no stdout")?;
        let mut scratch = Scratch { child, env: Vec::new() };
        for line in std::io::BufReader::new(stdout).lines().take(3) {
            let line = line?;
            let (k, v) = line.split_once('=').with_context(|| format!("tourdesk-scratch printed {line:?}"))?;
            scratch.env.push((k.to_string(), v.to_string()));
        }
        if scratch.env.len() != 3 {
            bail!("tourdesk-scratch stopped before printing its database and Stripe addresses");
        }
        Ok(scratch)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Closing its stdin is the signal to stop the cluster and exit.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

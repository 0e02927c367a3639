//! The installed desk, signed in and synced, and its figures: the smoke test and the release
//! benchmarks of `cargo xtask bundle --smoke` (issue 17 items 4 and 6). Not part of `cargo test`
//! (`test = false`): the xtask step installs the `.deb` into a throwaway root and runs this with
//!
//! - `TOURDESK_INSTALLED_DESK`: the installed binary (`<root>/usr/bin/tourdesk-desk`);
//! - `TOURDESK_SMOKE_DIR`: where the desk's database, logs, screenshots and `figures.txt` go.
//!
//! It starts a real sync-server with demo data on a throwaway PostgreSQL, then the installed
//! binary through tauri-driver (which turns on WebView automation, release builds included) on an
//! empty database, signs in through the window and waits until the synced tours are painted
//! (`signed-in.png`). Then the benchmarks, on the replica that first start wrote:
//!
//! - cold start to first painted data, second start: from asking tauri-driver for the window to
//!   the frame in which the home screen shows its figures from the replica (`SMOKE_STARTS`,
//!   default 3, starts; the median against the goal, < 1 s); the WebDriver session, i.e. the
//!   window with its page loaded, is most of it;
//! - idle RSS of the desk process, read from `/proc` after `SMOKE_IDLE_SECS` (default 20) on the
//!   home screen, signed in and online (goal < 150 MB).
//!
//! Each figure is printed with its goal and `met` / `MISSED`, and appended to `figures.txt` for
//! the xtask step's summary. A figure that misses its goal does not fail the run; a desk that does
//! not sign in, sync or paint does.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use support::{click, demo_server, eventually, retype, texts};
use tourdesk_sync_server::{Config, demo_data};
use tourdesk_testkit::PgCluster;

/// Resolves with true in the frame after every `[selector, min]` of arguments[0] matches at
/// least `min` elements (false after 60 s). The desk's CSP allows no `eval`: the condition is data.
const WAIT: &str = r#"
const [want, done] = [arguments[0], arguments[arguments.length - 1]];
const ready = () => want.every(([sel, min]) => document.querySelectorAll(sel).length >= min);
const t0 = performance.now();
const check = () => {
  if (ready()) { requestAnimationFrame(() => done(true)); }
  else if (performance.now() - t0 > 60000) { done(false); }
  else { requestAnimationFrame(check); }
};
check();
"#;

/// The home screen (today dashboard) with its figures, read from the replica.
fn home_ready() -> Value {
    json!([["#today .dashboard-body", 1], ["#dash-due-count", 1]])
}

const DEMO_TOURS: usize = 3;

fn env_path(name: &str) -> PathBuf {
    std::env::var_os(name).map(PathBuf::from).unwrap_or_else(|| {
        eprintln!("installed_desk: set {name}; `cargo xtask bundle --smoke` runs this on the installed .deb");
        std::process::exit(2)
    })
}

/// A free loopback port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// tauri-driver on ports of its own (the window tests' fixed 4444 may be taken by another run on
/// the machine), stopped with SIGTERM on drop so that WebKitWebDriver stops with it.
struct Driver {
    child: std::process::Child,
    port: u16,
}

impl Driver {
    fn start(env: &[(&str, String)]) -> Driver {
        let (port, native) = (free_port(), free_port());
        let mut cmd = std::process::Command::new("tauri-driver");
        cmd.args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .stdout(std::process::Stdio::null())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        let mut child = cmd.spawn().expect("tauri-driver is installed (cargo xtask setup)");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("tauri-driver exited with {status} before listening on {port}");
            }
            assert!(start.elapsed() < Duration::from_secs(20), "tauri-driver did not listen on {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Driver { child, port }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

async fn open(driver: &Driver, desk: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "wry".into());
    caps.insert("tauri:options".into(), json!({ "application": desk.to_string_lossy() }));
    ClientBuilder::native()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("a WebDriver session with the installed desk through tauri-driver")
}

async fn save_screenshot(c: &Client, dir: &Path, name: &str) {
    // A frame after what was found in the DOM (WebKit can hand back the previous one).
    let _ = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(null)));",
            vec![],
        )
        .await;
    let png = c.screenshot().await.unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    println!("  screenshot: {}", path.display());
}

/// Appends one figure to `figures.txt` and prints it.
fn figure(dir: &Path, line: &str) {
    println!("  {line}");
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("figures.txt")).unwrap();
    writeln!(f, "{line}").unwrap();
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// `field:` of a `/proc/<pid>/status`, in KiB.
fn kib(status: &str, field: &str) -> Option<u64> {
    status.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()
}

/// The RSS (KiB) of every process below `root`: the desk's WebKit web and network processes.
fn rss_below(root: u32) -> u64 {
    let mut parents = vec![root];
    let mut total = 0;
    while !parents.is_empty() {
        let mut next = Vec::new();
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
            let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { continue };
            if kib(&status, "PPid:").is_some_and(|pp| parents.contains(&(pp as u32))) {
                total += kib(&status, "VmRSS:").unwrap_or(0);
                next.push(pid);
            }
        }
        parents = next;
    }
    total
}

/// The desk's process: below tauri-driver (this process's child), the one running `desk`.
fn desk_pid(desk: &Path) -> Option<u32> {
    let me = std::process::id();
    let mut parents = vec![me];
    let mut seen = Vec::new();
    // Breadth-first below this process, a few levels (driver → WebKitWebDriver → desk).
    for _ in 0..4 {
        let mut next = Vec::new();
        for e in std::fs::read_dir("/proc").ok()?.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
            let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else { continue };
            if kib(&status, "PPid:").is_some_and(|pp| parents.contains(&(pp as u32))) && !seen.contains(&pid) {
                if std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == desk) {
                    return Some(pid);
                }
                seen.push(pid);
                next.push(pid);
            }
        }
        parents = next;
    }
    None
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let desk = env_path("TOURDESK_INSTALLED_DESK").canonicalize().expect("the installed desk binary exists");
    let out = env_path("TOURDESK_SMOKE_DIR");
    std::fs::create_dir_all(&out).unwrap();
    let _ = std::fs::remove_file(out.join("figures.txt"));
    let starts: usize = std::env::var("SMOKE_STARTS").ok().and_then(|v| v.parse().ok()).unwrap_or(3).max(1);
    let idle: u64 = std::env::var("SMOKE_IDLE_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);

    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let server = tourdesk_sync_server::start(demo_server(&db_url)).await.unwrap();
    let url = format!("http://{}", server.addr);
    println!("installed_desk: {} against the sync-server with demo data at {url}", desk.display());
    let driver = Driver::start(&[
        ("TOURDESK_SERVER_URL", url.clone()),
        ("TOURDESK_DESK_DB", out.join("desk.sqlite3").to_string_lossy().into_owned()),
        ("TOURDESK_LOG_DIR", out.join("logs").to_string_lossy().into_owned()),
        ("TOURDESK_SYNC_INTERVAL_SECS", "5".into()),
    ]);

    // First start, on an empty database: sign in through the window, as a new office would.
    println!("\n[smoke] first start: sign in through the window, wait for the synced tours");
    let c = open(&driver, &desk).await;
    // The desk fills the form in (server, last organization) a moment after it shows it.
    eventually("the sign-in screen, filled in by the desk", Duration::from_secs(60), || {
        let c = c.clone();
        async move {
            let el = c.find(Locator::Css("#sign-in-server")).await.ok()?;
            el.prop("value").await.ok()?.filter(|v| !v.is_empty()).map(|_| ())
        }
    })
    .await;
    for (css, text) in [
        ("#sign-in-server", url.as_str()),
        ("#sign-in-org", demo_data::DEMO_ORG_SLUG),
        ("#sign-in-email", demo_data::DEMO_OWNER_EMAIL),
        ("#sign-in-password", demo_data::DEMO_PASSWORD),
    ] {
        retype(&c, css, text).await;
    }
    c.find(Locator::Css("#sign-in-password")).await.unwrap().send_keys(&Key::Enter.to_string()).await.unwrap();
    click(&c, "#nav-tours").await;
    let names = eventually("the synced demo tours to be listed", Duration::from_secs(90), || {
        let c = c.clone();
        async move {
            let names = texts(&c, ".tour-row .tour-name").await;
            (names.len() == DEMO_TOURS).then_some(names)
        }
    })
    .await;
    assert!(names.iter().any(|n| n == "Kyoto Temples at Dawn"), "{names:?}");
    eventually("the desk to report it is online", Duration::from_secs(30), || {
        let c = c.clone();
        async move { texts(&c, "#status-connection").await.iter().any(|s| s == "Online").then_some(()) }
    })
    .await;
    let painted = c.execute_async(WAIT, vec![json!([[".tour-row", DEMO_TOURS], [".departure-row", 1]])]).await.unwrap();
    assert_eq!(painted, Value::Bool(true), "the tours and the first tour's departures were never painted");
    save_screenshot(&c, &out, "signed-in").await;
    println!("  signed in as the demo owner; {DEMO_TOURS} tours synced and painted: {names:?}");
    c.close().await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Second starts: the replica is there, so the home screen paints from it.
    println!("\n[cold start] second start (replica present) to first painted data (home screen figures)");
    let mut times = Vec::new();
    let mut last = None;
    for i in 0..starts {
        let t0 = Instant::now();
        let c = open(&driver, &desk).await;
        let window = t0.elapsed();
        let ready = c.execute_async(WAIT, vec![home_ready()]).await.unwrap();
        let took = t0.elapsed();
        assert_eq!(ready, Value::Bool(true), "the home screen never showed its figures on start {}", i + 1);
        println!(
            "  start {}: {:.0} ms (of which the WebDriver session, the window with its page loaded: {:.0} ms)",
            i + 1,
            took.as_secs_f64() * 1e3,
            window.as_secs_f64() * 1e3
        );
        times.push(took);
        if i + 1 < starts {
            c.close().await.unwrap();
            tokio::time::sleep(Duration::from_secs(1)).await;
        } else {
            last = Some(c);
        }
    }
    times.sort();
    let median = times[times.len() / 2];
    let c = last.unwrap();
    save_screenshot(&c, &out, "second-start").await;
    figure(
        &out,
        &format!(
            "cold start to first painted data (installed desk, second start, median of {starts}): {:.0} ms (goal < 1000 ms: {})",
            median.as_secs_f64() * 1e3,
            met(median < Duration::from_secs(1))
        ),
    );

    println!("\n[memory] after {idle} s idle on the home screen, signed in and online");
    tokio::time::sleep(Duration::from_secs(idle)).await;
    let Some(pid) = desk_pid(&desk) else {
        let ps = std::process::Command::new("ps").args(["-eo", "pid,ppid,args"]).output().unwrap();
        panic!(
            "no process below this one ({}) runs {}:\n{}",
            std::process::id(),
            desk.display(),
            String::from_utf8_lossy(&ps.stdout)
        );
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let rss_mb = kib(&status, "VmRSS:").unwrap() as f64 * 1024.0 / 1e6;
    let webkit_mb = rss_below(pid) as f64 * 1024.0 / 1e6;
    figure(
        &out,
        &format!(
            "idle RSS of the desk process (pid {pid}): {rss_mb:.0} MB (goal < 150 MB: {}); its WebKit processes add {webkit_mb:.0} MB",
            met(rss_mb < 150.0)
        ),
    );
    c.close().await.unwrap();
    drop(driver);
    server.shutdown().await.unwrap();
}

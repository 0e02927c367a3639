//! Drives the real desk binary through tauri-driver. Needs a display (`xvfb-run`), the
//! `tauri-driver` and `WebKitWebDriver` binaries, and `ui/dist` built before the desk (it is
//! embedded at compile time) — `cargo xtask e2e` arranges all three.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use tokio::sync::{Mutex, MutexGuard};

/// tauri-driver's WebDriver port is fixed, so E2E tests run one at a time.
const DRIVER: &str = "127.0.0.1:4444";

/// The tests of one binary run on parallel threads (`cargo xtask test` runs two at a time), but
/// there is one WebDriver port: a test holds this from starting its driver until the driver has
/// stopped. A tokio mutex, so a test that panicked does not poison it for the next one.
static ONE_DRIVER: Mutex<()> = Mutex::const_new(());

/// The window of the test that holds the driver (one at a time), so a wait that times out can
/// say what the window showed and save a picture of it.
static WINDOW: std::sync::Mutex<Option<Client>> = std::sync::Mutex::new(None);

/// Cargo builds the package's binary for its integration tests, with the same features.
pub fn desk_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tourdesk-desk"))
}

/// tauri-driver, stopped with SIGTERM on drop: SIGKILL would orphan WebKitWebDriver, which
/// keeps the test's stdout open and hangs the run. Holds the driver port's turn until then.
pub struct Driver {
    child: Child,
    /// Set when the test is done with the driver; until then the watchdog may stop it.
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    _turn: MutexGuard<'static, ()>,
}

/// How long one test may hold the driver. A WebDriver command can wait forever on a webview that
/// stopped answering (seen once: a test sat 18 minutes in one call with the desk idle); stopping
/// the driver then makes the call fail, so the test fails with a message instead of holding the
/// whole run until CI's limit.
const DRIVER_WATCHDOG: Duration = Duration::from_secs(8 * 60);

impl Driver {
    /// Waits for any other test's driver to stop first.
    pub async fn start(env: &[(&str, String)]) -> Driver {
        let turn = ONE_DRIVER.lock().await;
        // A tauri-driver left over from an aborted run would answer instead of ours, with the
        // old run's environment: refuse to start rather than test the wrong desk.
        assert!(
            std::net::TcpStream::connect(DRIVER).is_err(),
            "something already listens on {DRIVER}; stop the stale tauri-driver first"
        );
        let mut cmd = Command::new("tauri-driver");
        cmd.stdout(Stdio::null()).stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("tauri-driver is installed (cargo xtask setup)");
        let start = Instant::now();
        while std::net::TcpStream::connect(DRIVER).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("tauri-driver exited with {status} before listening on {DRIVER}");
            }
            assert!(start.elapsed() < Duration::from_secs(20), "tauri-driver did not listen on {DRIVER}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (watched, pid) = (done.clone(), child.id());
        std::thread::spawn(move || {
            let start = Instant::now();
            while start.elapsed() < DRIVER_WATCHDOG {
                if watched.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
            if !watched.load(std::sync::atomic::Ordering::SeqCst) {
                eprintln!("a window test held the driver for {DRIVER_WATCHDOG:?}: stopping tauri-driver so it fails");
                let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
            }
        });
        Driver { child, done, _turn: turn }
    }
}

impl Drop for Driver {
    // The turn is a field, so it is released after this has stopped the driver.
    fn drop(&mut self) {
        self.done.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

pub async fn open_desk() -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "wry".into());
    caps.insert("tauri:options".into(), serde_json::json!({ "application": desk_binary().to_string_lossy() }));
    let client = ClientBuilder::native()
        .capabilities(caps)
        .connect(&format!("http://{DRIVER}"))
        .await
        .expect("a WebDriver session with the desk through tauri-driver");
    *WINDOW.lock().unwrap_or_else(|e| e.into_inner()) = Some(client.clone());
    // The desk shows its window once its page has loaded; a person cannot type into it before.
    eventually("the desk's window to be shown", Duration::from_secs(15), || {
        let c = client.clone();
        async move {
            let state = c.execute("return document.visibilityState", vec![]).await.ok()?;
            (state.as_str() == Some("visible")).then_some(())
        }
    })
    .await;
    client
}

/// Where the window is, what it threw and the start of what it shows, for a failure message.
pub async fn page_state(c: &Client) -> String {
    let v = c
        .execute(
            "return [location.hash, (window.__errors || []).join(' | ').slice(0, 2000), document.body.innerText.slice(0, 1500)];",
            vec![],
        )
        .await
        .unwrap_or_default();
    v.to_string()
}

/// Polls `check` until it returns `Some`, or fails the test with `what` after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if start.elapsed() >= limit {
            timed_out(what, limit).await;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Fails the test for a wait that ran out, saying what the window showed then and saving a
/// picture of it as `e2e-screens/failed-<what>.png` (a failure in CI is otherwise a bare line).
async fn timed_out(what: &str, limit: Duration) -> ! {
    let window = WINDOW.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut shown = String::from("(no window)");
    if let Some(c) = window {
        shown = page_state(&c).await;
        let name: String = what.chars().map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' }).take(60).collect();
        let dir = desk_binary().parent().and_then(|p| p.parent()).map(|t| t.join("e2e-screens"));
        if let (Ok(png), Some(dir)) = (c.screenshot().await, dir) {
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join(format!("failed-{name}.png")), png);
        }
    }
    panic!("timed out after {limit:?} waiting for: {what}; the window showed: {shown}");
}

/// Clicks the first element matching `css`, once the window shows it (a screen just navigated
/// to loads its rows a moment later).
pub async fn click(c: &Client, css: &str) {
    eventually(&format!("{css} to be clickable"), Duration::from_secs(10), || async move {
        c.find(Locator::Css(css)).await.ok()?.click().await.ok()
    })
    .await;
}

/// Types into the first element matching `css`, once the window shows it (a tab that loads from
/// the server renders its form a moment after the click that opened it).
pub async fn type_into(c: &Client, css: &str, text: &str) {
    let field = eventually(&format!("{css} to take typing"), Duration::from_secs(10), || async move {
        c.find(Locator::Css(css)).await.ok()
    })
    .await;
    field.send_keys(text).await.unwrap_or_else(|e| panic!("{css}: {e}"));
}

pub async fn texts(c: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(els) = c.find_all(Locator::Css(css)).await {
        for e in els {
            out.push(e.text().await.unwrap_or_default());
        }
    }
    out
}

/// The `attr` of the first element matching `css` whose text passes `wanted`; `None` while the
/// window shows none (or re-renders under the driver), so callers wait for it with `eventually`.
pub async fn attr_of_element_whose_text(
    c: &Client,
    css: &str,
    wanted: impl Fn(&str) -> bool,
    attr: &str,
) -> Option<String> {
    for el in c.find_all(Locator::Css(css)).await.ok()? {
        if wanted(&el.text().await.ok()?) {
            return el.attr(attr).await.ok()?;
        }
    }
    None
}

/// Saves what the window shows now as `<target dir>/e2e-screens/<name>.png`, for a person to
/// look at after the run (the tests assert on the DOM, never on these).
pub async fn screenshot(c: &Client, name: &str) {
    // The desk binary is `<target dir>/debug/tourdesk-desk`.
    let Some(target) = desk_binary().parent().and_then(|p| p.parent()).map(|t| t.join("e2e-screens")) else { return };
    std::fs::create_dir_all(&target).unwrap();
    // WebKit can hand back the last painted frame, without what the test has just found in the
    // DOM: wait for two animation frames so the picture shows it. A failure here only means an
    // older frame, so it is not the test's concern.
    let _ = c
        .execute_async(
            "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(null)));",
            vec![],
        )
        .await;
    let png = c.screenshot().await.unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
    std::fs::write(target.join(format!("{name}.png")), png).unwrap();
}

/// Presses `keys` (text, or `fantoccini::key::Key`s as chars) on the first element matching `css`.
pub async fn press(c: &Client, css: &str, keys: &str) {
    c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).send_keys(keys).await.unwrap();
}

/// Presses `keys` on whatever has the focus, and returns its `data-slug` / `data-route` /
/// `data-id` (whichever it has), so a test can say what the keys were pressed on.
pub async fn press_focused(c: &Client, keys: &str) -> Option<String> {
    let el = c.active_element().await.expect("something has the focus");
    let mut what = None;
    for attr in ["data-slug", "data-route", "data-id"] {
        if let Ok(Some(v)) = el.attr(attr).await {
            what = Some(v);
            break;
        }
    }
    el.send_keys(keys).await.unwrap();
    what
}

/// The demo organization's server on a throwaway database, as every window test runs it: the
/// application role for requests, the owner for migrations.
pub fn demo_server(db_url: &str) -> tourdesk_sync_server::Config {
    tourdesk_sync_server::Config {
        database_url: tourdesk_testkit::as_app(db_url),
        migrate_database_url: Some(db_url.to_string()),
        listen: "127.0.0.1:0".into(),
        demo_data: true,
        dev_mode: true,
        ..tourdesk_sync_server::Config::default()
    }
}

/// Empties an input and types `text` into it (the typing is what the form listens to).
pub async fn retype(c: &Client, css: &str, text: &str) {
    let el = c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
    el.clear().await.unwrap_or_else(|e| panic!("{css}: {e}"));
    el.send_keys(text).await.unwrap_or_else(|e| panic!("{css}: {e}"));
}

/// As [`retype`], again until the input holds exactly `text`: WebDriver's clear sends no input
/// event, so a render between the clear and the typing can put the form's old value back and
/// the typing lands after it ("12" then "0" made "120").
pub async fn retype_until_held(c: &Client, css: &str, text: &str) {
    eventually(&format!("{css} to hold {text:?}"), Duration::from_secs(10), || async move {
        let el = c.find(Locator::Css(css)).await.ok()?;
        el.clear().await.ok()?;
        el.send_keys(text).await.ok()?;
        (el.prop("value").await.ok()?.as_deref() == Some(text)).then_some(())
    })
    .await;
}

/// Waits for the sign-in screen (and for the desk to fill in its server), then types every
/// field of the demo organization's sign-in anew; the caller presses Enter.
pub async fn fill_sign_in(c: &Client, url: &str, email: &str, password: &str) {
    eventually("the sign-in screen, filled in by the desk", Duration::from_secs(60), || async move {
        let el = c.find(Locator::Css("#sign-in-server")).await.ok()?;
        el.prop("value").await.ok()?.filter(|v| !v.is_empty()).map(|_| ())
    })
    .await;
    for (css, text) in [
        ("#sign-in-server", url),
        ("#sign-in-org", tourdesk_sync_server::demo_data::DEMO_ORG_SLUG),
        ("#sign-in-email", email),
        ("#sign-in-password", password),
    ] {
        retype(c, css, text).await;
    }
}

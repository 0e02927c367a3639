//! A real browser for the website's tests: Debian's Chromium, headless, driven over WebDriver by
//! its ChromeDriver (fantoccini, as the desk's window tests). Each [`Browser`] has a fresh
//! profile, takes screenshots into `<target dir>/web-screens/`, and runs axe-core (from the npm
//! registry, installed under the target dir on first use) in the page it is on.
//!
//! Without `chromedriver` the start fails with what to install, unless
//! `TOURDESK_BROWSER_TESTS=optional`: then [`Browser::start`] returns `None` and says why, and
//! the test skips.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// The axe-core release the accessibility checks run (from the npm registry).
pub const AXE_CORE_VERSION: &str = "4.11.0";

/// Set to `optional` to let browser tests skip on a machine without ChromeDriver.
pub const OPTIONAL_ENV: &str = "TOURDESK_BROWSER_TESTS";

fn chromedriver() -> PathBuf {
    std::env::var_os("TOURDESK_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"))
}

fn chromium() -> PathBuf {
    std::env::var_os("TOURDESK_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// The cargo target dir the running test binary was built in (`<target>/debug/deps/<test>`).
pub fn target_dir() -> PathBuf {
    if let Ok(exe) = std::env::current_exe()
        && exe.parent().and_then(Path::file_name).is_some_and(|d| d == "deps")
        && let Some(t) = exe.ancestors().nth(3)
    {
        return t.to_path_buf();
    }
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("target"))
}

/// axe-core's browser build, installed with the machine's npm under `<target dir>/axe-core` the
/// first time (never into the repository).
pub fn axe_source() -> anyhow::Result<String> {
    let prefix = target_dir().join("axe-core");
    let pkg = prefix.join("node_modules/axe-core");
    // Browser tests start at once on a fresh machine: one installs while the others wait (two
    // npm installs into one prefix fail).
    std::fs::create_dir_all(&prefix)?;
    let lock = std::fs::File::create(prefix.with_extension("lock"))?;
    lock.lock().context("locking the axe-core install")?;
    let installed = std::fs::read_to_string(pkg.join("package.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .is_some_and(|p| p["version"] == AXE_CORE_VERSION);
    if !installed {
        eprintln!("installing axe-core {AXE_CORE_VERSION} from the npm registry into {}", prefix.display());
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
            .arg(&prefix)
            .arg(format!("axe-core@{AXE_CORE_VERSION}"))
            .stdout(Stdio::null())
            .status()
            .context("running npm (install Debian's `npm` package: cargo xtask setup)")?;
        if !status.success() {
            bail!("npm install axe-core@{AXE_CORE_VERSION} failed with {status}");
        }
    }
    std::fs::read_to_string(pkg.join("axe.min.js")).with_context(|| format!("reading {}", pkg.display()))
}

/// Headless Chromium under its ChromeDriver, with one WebDriver session.
pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: tempfile::TempDir,
    axe: String,
    screens: PathBuf,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Browser {
    /// Starts ChromeDriver and Chromium (headless, fresh profile, English first in
    /// Accept-Language). `None` only when ChromeDriver is missing and browser tests are optional.
    pub async fn start() -> anyhow::Result<Option<Browser>> {
        let driver_bin = chromedriver();
        if !driver_bin.exists() {
            let why = format!(
                "{} is missing (Debian packages `chromium` and `chromium-driver`; `cargo xtask setup` installs them)",
                driver_bin.display()
            );
            if std::env::var(OPTIONAL_ENV).is_ok_and(|v| v == "optional") {
                eprintln!("SKIPPED: browser test not run: {why}; {OPTIONAL_ENV}=optional");
                return Ok(None);
            }
            bail!("{why}. Set {OPTIONAL_ENV}=optional to skip browser tests on this machine.");
        }
        let axe = axe_source()?;
        let port = free_port()?;
        let mut driver = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", driver_bin.display()))?;
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = driver.try_wait()? {
                bail!("chromedriver exited with {status} before listening");
            }
            if started.elapsed() > Duration::from_secs(20) {
                let _ = driver.kill();
                bail!("chromedriver did not listen on port {port} within 20 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::Builder::new().prefix("tourdesk-chromium-").tempdir()?;
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--lang=en-US".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "chrome".into());
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium().to_string_lossy(),
                "args": args,
                "prefs": { "intl.accept_languages": "en-US,en" },
            }),
        );
        let client = match ClientBuilder::native().capabilities(caps).connect(&format!("http://127.0.0.1:{port}")).await
        {
            Ok(c) => c,
            Err(e) => {
                let _ = driver.kill();
                let _ = driver.wait();
                bail!("no WebDriver session with Chromium: {e}");
            }
        };
        let screens = target_dir().join("web-screens");
        std::fs::create_dir_all(&screens)?;
        let b = Browser { client, driver, profile, axe, screens };
        b.client.set_window_size(1280, 900).await.ok();
        Ok(Some(b))
    }

    /// Where [`Browser::screenshot`] writes.
    pub fn screens(&self) -> &Path {
        &self.screens
    }

    /// Saves the whole viewport as `<target dir>/web-screens/<name>.png` for people to look at.
    /// The window grows to the page's height for the picture, so it shows the whole page.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<()> {
        let height = self
            .client
            .execute(
                "window.scrollTo(0, 0); \
                 return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight;",
                vec![],
            )
            .await?
            .as_u64()
            .unwrap_or(900)
            .clamp(900, 6000);
        self.client.set_window_size(1280, height as u32).await?;
        // Two animation frames: the picture shows what the test has just found in the DOM.
        let _ = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(null)));",
                vec![],
            )
            .await;
        let png = self.client.screenshot().await.with_context(|| format!("screenshot {name}"));
        self.client.set_window_size(1280, 900).await?;
        std::fs::write(self.screens.join(format!("{name}.png")), png?)?;
        Ok(())
    }

    /// Runs axe-core in the current page and returns its serious and critical violations, one
    /// line each (rule, impact, help, the first offending elements).
    pub async fn axe(&self) -> anyhow::Result<Vec<String>> {
        let loaded = self.client.execute("return typeof window.axe === 'object';", vec![]).await?;
        if loaded != Value::Bool(true) {
            self.client.execute(&format!("{}\nreturn true;", self.axe), vec![]).await.context("loading axe-core")?;
        }
        let found = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, { resultTypes: ["violations"] }).then(function (r) {
                  done(r.violations.filter(function (v) { return v.impact === "serious" || v.impact === "critical"; })
                    .map(function (v) {
                      return v.id + " (" + v.impact + "): " + v.help + " at " +
                        v.nodes.slice(0, 4).map(function (n) { return n.target.join(" ") + " [" + (n.failureSummary || "").replace(/\s+/g, " ") + "]"; }).join("; ");
                    }));
                }).catch(function (e) { done(["axe-core failed: " + e]); });"#,
                vec![],
            )
            .await
            .context("running axe-core")?;
        Ok(found
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default())
    }

    /// Presses `keys` (characters or `fantoccini::key::Key`s as chars) on whatever has the focus,
    /// as a person at the keyboard does.
    pub async fn keys(&self, keys: &str) -> anyhow::Result<()> {
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let mut seq = KeyActions::new("keyboard".into());
        for k in keys.chars() {
            seq = seq.then(KeyAction::Down { value: k }).then(KeyAction::Up { value: k });
        }
        self.client.perform_actions(seq).await?;
        Ok(())
    }

    /// The first element matching `css`, waiting up to 10 s for it.
    pub async fn find(&self, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
        let started = Instant::now();
        loop {
            match self.client.find(Locator::Css(css)).await {
                Ok(e) => return Ok(e),
                Err(e) if started.elapsed() > Duration::from_secs(10) => bail!("{css} not found: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// The text of the page's `<body>`.
    pub async fn body_text(&self) -> anyhow::Result<String> {
        Ok(self.client.find(Locator::Css("body")).await?.text().await?)
    }

    /// Waits up to `limit` until the page's text contains `text` (a page that refreshes itself,
    /// a script that fills in); returns that text.
    pub async fn wait_for_text(&self, text: &str, limit: Duration) -> anyhow::Result<String> {
        let started = Instant::now();
        loop {
            let body = self.body_text().await.unwrap_or_default();
            if body.contains(text) {
                return Ok(body);
            }
            if started.elapsed() > limit {
                bail!("{text:?} did not appear within {limit:?}; the page says:\n{body}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Ends the session (Chromium quits) and stops ChromeDriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.stop_driver();
    }

    fn stop_driver(&mut self) {
        if let Ok(None) = self.driver.try_wait() {
            let _ = Command::new("kill").arg("-TERM").arg(self.driver.id().to_string()).status();
            let _ = self.driver.wait();
        }
        // A Chromium left by a test that panicked before `close`: found by its own profile
        // directory, stopped by its process id.
        let marker = format!("--user-data-dir={}", self.profile.path().display());
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for pid in dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()) {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                if String::from_utf8_lossy(&cmdline).split('\0').any(|a| a == marker) {
                    let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
                }
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.stop_driver();
    }
}

//! `cargo xtask bundle`: release bundles of the desk for the machine it runs on, with their sizes;
//! with `TOURDESK_BUNDLE_SMOKE=1` (or `cargo xtask bundle --smoke`) also the installed-package
//! smoke test to a signed-in, synced window, and the release figures (cold start, idle RSS, size).
//!
//! - Linux: the `.deb`. The `.AppImage` is configured too, but tauri's AppImage step downloads
//!   linuxdeploy and its plugins from GitHub, which this workplace cannot reach: set
//!   `TOURDESK_BUNDLE_APPIMAGE=1` where it can (the CI workflow for other runners does).
//! - Windows (`.msi`, NSIS `-setup.exe`) and macOS (`.app`, `.dmg`): the same command on those
//!   machines; `.github/workflows/bundles.yml` runs it there. It cannot run here.
//!
//! The Tauri CLI is the npm package `@tauri-apps/cli` of the same version as the `tauri` crate,
//! installed once under the target directory (a prebuilt binary from the registry; compiling
//! `tauri-cli` would take longer than the bundle itself).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

use crate::release::{desk_version, human_size};
use crate::{cargo, root, run, say, setup, target_dir, which, xvfb};

/// Matches the `tauri` crate in Cargo.lock.
const TAURI_CLI_VERSION: &str = "2.12.5";
/// The goal the issue sets for the `.deb`.
const DEB_GOAL_BYTES: u64 = 15 * 1024 * 1024;

pub fn bundle(args: &[String]) -> anyhow::Result<()> {
    let smoke = args.iter().any(|a| a == "--smoke") || env_on("TOURDESK_BUNDLE_SMOKE");
    setup(smoke)?;
    build_ui_release()?;
    let cli = tauri_cli()?;
    let mut bundles: Vec<&str> = Vec::new();
    if cfg!(target_os = "linux") {
        bundles.push("deb");
        if env_on("TOURDESK_BUNDLE_APPIMAGE") {
            bundles.push("appimage");
        }
    } else if cfg!(target_os = "windows") {
        bundles.extend(["msi", "nsis"]);
    } else if cfg!(target_os = "macos") {
        bundles.extend(["app", "dmg"]);
    }
    say(&format!("building the release desk and bundling {} (slow: a release build)", bundles.join(", ")));
    let started = Instant::now();
    let mut c = Command::new(&cli);
    c.args(["build", "--ci", "--bundles", &bundles.join(",")])
        .current_dir(root().join("src-tauri"))
        .env("CARGO_TARGET_DIR", target_dir());
    run(&mut c)?;
    say(&format!("bundled in {:.0} s", started.elapsed().as_secs_f64()));
    if cfg!(target_os = "macos") {
        // The updater installs a macOS app from a tarball of the .app.
        let dir = crate::release::bundle_dir().join("macos");
        run(Command::new("tar").current_dir(&dir).args(["czf", "Tourdesk.app.tar.gz", "Tourdesk.app"]))?;
    }
    report_sizes()?;
    if smoke {
        smoke_test()?;
    } else {
        say("installed-package smoke test skipped (set TOURDESK_BUNDLE_SMOKE=1 or pass --smoke)");
    }
    Ok(())
}

fn env_on(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "yes"))
}

/// The UI optimised (a debug wasm is several times larger), into `ui/dist`.
fn build_ui_release() -> anyhow::Result<()> {
    say("building the UI for release (Yew → wasm, optimised)");
    run(cargo().args(["build", "-p", "tourdesk-ui", "--lib", "--target", "wasm32-unknown-unknown", "--release"]))?;
    let wasm = target_dir().join("wasm32-unknown-unknown/release/tourdesk_ui.wasm");
    let dist = root().join("ui/dist");
    std::fs::create_dir_all(&dist)?;
    run(Command::new("wasm-bindgen").args(["--target", "web", "--no-typescript", "--out-dir"]).arg(&dist).arg(&wasm))?;
    for f in ["index.html", "main.js", "style.css"] {
        std::fs::copy(root().join("ui").join(f), dist.join(f))?;
    }
    Ok(())
}

/// `cargo tauri` when installed, else the npm package under the target directory.
fn tauri_cli() -> anyhow::Result<PathBuf> {
    let dir = target_dir().join("tauri-cli");
    let bin = dir.join("node_modules/.bin/tauri");
    let have =
        Command::new(&bin).arg("--version").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if have.as_deref().is_ok_and(|v| v.ends_with(TAURI_CLI_VERSION)) {
        say(&format!("tauri CLI {TAURI_CLI_VERSION}: present"));
        return Ok(bin);
    }
    if !which("npm") {
        crate::install_packages(vec!["npm"])?;
    }
    say(&format!("installing the tauri CLI {TAURI_CLI_VERSION} (npm package, prebuilt) into {}", dir.display()));
    std::fs::create_dir_all(&dir)?;
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .arg(format!("@tauri-apps/cli@{TAURI_CLI_VERSION}")))?;
    Ok(bin)
}

fn bundle_files() -> Vec<PathBuf> {
    let version = desk_version().unwrap_or_default();
    crate::release::built_bundles(&version)
}

/// Prints each bundle's size (and the release binary's), and whether the `.deb` meets its goal.
fn report_sizes() -> anyhow::Result<()> {
    let files = bundle_files();
    if files.is_empty() {
        bail!("no bundle under {}", crate::release::bundle_dir().display());
    }
    say("bundle sizes");
    for f in &files {
        let len = std::fs::metadata(f)?.len();
        let goal = if f.extension().is_some_and(|e| e == "deb") {
            format!(
                "  (goal < {}: {})",
                human_size(DEB_GOAL_BYTES),
                if len < DEB_GOAL_BYTES { "met" } else { "MISSED" }
            )
        } else {
            String::new()
        };
        println!("    {:>10}  {}{goal}", human_size(len), f.display());
    }
    let bin = target_dir().join("release").join(exe("tourdesk-desk"));
    if let Ok(m) = std::fs::metadata(&bin) {
        println!("    {:>10}  {} (the desk binary)", human_size(m.len()), bin.display());
    }
    Ok(())
}

fn exe(name: &str) -> String {
    if cfg!(windows) { format!("{name}.exe") } else { name.to_string() }
}

/// Installs the `.deb` into a throwaway root (`dpkg -x`) and runs `src-tauri/tests/installed_desk.rs`
/// on the installed binary, under Xvfb: a real sync-server with demo data on a throwaway
/// PostgreSQL, the installed desk started through tauri-driver on an empty database, signed in
/// through its window until the synced tours are painted (a screenshot under the target dir), then
/// the release figures (cold start to first painted data on a second start, idle RSS). Checks the
/// desk's log (written, with the version, nothing at ERROR) and prints every figure with its goal.
fn smoke_test() -> anyhow::Result<()> {
    if !cfg!(target_os = "linux") {
        say("smoke test: Linux only (it installs the .deb)");
        return Ok(());
    }
    let deb = bundle_files()
        .into_iter()
        .find(|f| f.extension().is_some_and(|e| e == "deb"))
        .context("no .deb to smoke-test")?;
    let deb_len = std::fs::metadata(&deb)?.len();
    let scratch = target_dir().join("bundle-smoke");
    let _ = std::fs::remove_dir_all(&scratch);
    let rootfs = scratch.join("root");
    std::fs::create_dir_all(&rootfs)?;
    say(&format!("smoke test: dpkg -x {} {}", deb.display(), rootfs.display()));
    run(Command::new("dpkg").arg("-x").arg(&deb).arg(&rootfs))?;
    let bin = std::fs::read_dir(rootfs.join("usr/bin"))?
        .flatten()
        .map(|e| e.path())
        .next()
        .context("the .deb installs no binary under /usr/bin")?;
    for f in ["usr/share/applications", "usr/share/icons"] {
        if !rootfs.join(f).exists() {
            bail!("the .deb installs nothing under /{f}");
        }
    }
    let out = scratch.join("run");
    say(&format!("smoke test: {} signed in and synced, then its figures (tests/installed_desk.rs)", bin.display()));
    let started = Instant::now();
    run(xvfb(&["test", "-p", "tourdesk-desk", "--features", "e2e", "--test", "installed_desk"])
        .env("TOURDESK_INSTALLED_DESK", &bin)
        .env("TOURDESK_SMOKE_DIR", &out))?;
    let log = out.join("logs/desk.log");
    let seen = read(&log);
    if !seen.contains("desk starting") {
        bail!("the installed desk wrote no start to {}:\n{seen}", log.display());
    }
    if seen.contains(" ERROR ") {
        bail!("the installed desk logged errors:\n{seen}");
    }
    say(&format!(
        "smoke test passed in {:.0} s: {} installed from the .deb, signed in, synced and painted; screenshots and log \
         under {}",
        started.elapsed().as_secs_f64(),
        bin.display(),
        out.display()
    ));
    say("release figures");
    for line in read(&out.join("figures.txt")).lines() {
        println!("    {line}");
    }
    println!(
        "    .deb size: {} (goal < {}: {})",
        human_size(deb_len),
        human_size(DEB_GOAL_BYTES),
        if deb_len < DEB_GOAL_BYTES { "met" } else { "MISSED" }
    );
    Ok(())
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

//! The desk's signed auto-update against a local update server (the sync-server's update routes
//! over a directory that `tourdesk_updates::publish` fills, as `cargo xtask release` does), with
//! a throwaway key pair made here: a valid signed update is offered and verified; a tampered
//! artifact, a manifest signed with another key and a version the signature was not made for
//! are refused; no update when the versions are equal; an install waits while changes are unsent;
//! and the desk's own install path replaces an installed AppImage with the verified bytes, while a
//! tampered or non-AppImage artifact leaves it untouched.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use serde_json::json;
use tauri::test::{MockRuntime, mock_builder, mock_context, noop_assets};
use tourdesk_desk::updates::{self, Updates};
use tourdesk_domain::ipc::{Connection, DeskStatus, InstallOutcome};
use tourdesk_updates::{Channel, Release, SigningKey, generate_keys};

/// The sync-server's update routes alone, on a free port: the base URL.
async fn serve(dir: &Path) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app: axum::Router = tourdesk_sync_server::updates::router(Some(dir.to_path_buf()), "http://unused");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// A desk (mock runtime, version 0.1.0) whose compiled-in update key is `pubkey`.
fn desk(pubkey: &str) -> tauri::App<MockRuntime> {
    let mut ctx = mock_context(noop_assets());
    ctx.config_mut().plugins.0.insert(
        "updater".into(),
        json!({ "pubkey": pubkey, "dangerousInsecureTransportProtocol": true, "requireSignedVersion": true }),
    );
    mock_builder().plugin(updates::plugin(pubkey)).build(ctx).unwrap()
}

fn artifact(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn publish(out: &Path, key: &SigningKey, channel: Channel, version: &str, file: &Path) {
    tourdesk_updates::publish(
        out,
        &Release {
            channel,
            version,
            notes: "Faster calendar; guides see their manifests",
            platform: &platform(),
            artifact: file,
        },
        key,
    )
    .unwrap();
}

fn platform() -> String {
    format!("linux-{}", std::env::consts::ARCH)
}

fn status(pending: u64, connection: Connection, needs_sign_in: bool) -> DeskStatus {
    DeskStatus {
        connection,
        server_url: "http://x".into(),
        pending,
        rejections: 0,
        last_synced_at: None,
        last_error: None,
        signed_in_as: None,
        data_version: 0,
        sync_progress: None,
        needs_sign_in,
    }
}

#[tokio::test]
async fn a_signed_update_is_offered_and_verified_and_a_tampered_one_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = generate_keys(None).unwrap();
    let key = SigningKey::from_base64(&keys.secret_b64, None).unwrap();
    let out = tmp.path().join("updates");
    let bytes = b"the 0.2.0 AppImage".repeat(1000);
    let file = artifact(tmp.path(), "Tourdesk_0.2.0_amd64.AppImage", &bytes);
    publish(&out, &key, Channel::Stable, "0.2.0", &file);
    let base = serve(&out).await;
    let app = desk(&keys.public_b64);

    let update = updates::check(app.handle(), &base, Channel::Stable).await.unwrap().expect("0.2.0 is offered");
    assert_eq!(update.version, "0.2.0");
    assert_eq!(update.current_version, "0.1.0");
    assert_eq!(update.body.as_deref(), Some("Faster calendar; guides see their manifests"));
    let downloaded = update.download(|_, _| {}, || {}).await.expect("a valid signature verifies");
    assert_eq!(downloaded, bytes);

    // What the window shows, through the desk's own state.
    let state = Updates::new(Channel::Stable);
    let shown = state.check_now(app.handle(), &base).await;
    let available = shown.available.expect("offered");
    assert_eq!(available.version, "0.2.0");
    assert!(available.pub_date.is_some());
    assert_eq!(shown.last_error, None);

    // The beta channel has nothing.
    assert!(updates::check(app.handle(), &base, Channel::Beta).await.unwrap().is_none());

    // The artifact changed on the server after signing: refused.
    let served = out.join("stable/0.2.0/Tourdesk_0.2.0_amd64.AppImage");
    let mut tampered = bytes.clone();
    tampered[10] ^= 1;
    std::fs::write(&served, &tampered).unwrap();
    let update = updates::check(app.handle(), &base, Channel::Stable).await.unwrap().expect("still offered");
    let err = update.download(|_, _| {}, || {}).await.expect_err("a tampered artifact is refused");
    assert!(err.to_string().to_lowercase().contains("signature"), "{err}");
    assert!(update.verify(&tampered).is_err());
    update.verify(&bytes).expect("the genuine bytes still verify");
}

#[tokio::test]
async fn a_manifest_signed_with_another_key_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let desk_keys = generate_keys(None).unwrap();
    let other = generate_keys(None).unwrap();
    let other_key = SigningKey::from_base64(&other.secret_b64, None).unwrap();
    let out = tmp.path().join("updates");
    let file = artifact(tmp.path(), "Tourdesk_0.2.0_amd64.AppImage", b"made by someone else");
    publish(&out, &other_key, Channel::Stable, "0.2.0", &file);
    let base = serve(&out).await;
    let app = desk(&desk_keys.public_b64);
    let update = updates::check(app.handle(), &base, Channel::Stable).await.unwrap().expect("offered");
    let err = update.download(|_, _| {}, || {}).await.expect_err("another key's signature is refused");
    assert!(err.to_string().to_lowercase().contains("signature") || err.to_string().contains("key"), "{err}");
}

#[tokio::test]
async fn an_old_signed_artifact_announced_as_a_new_version_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = generate_keys(None).unwrap();
    let key = SigningKey::from_base64(&keys.secret_b64, None).unwrap();
    let out = tmp.path().join("updates");
    let file = artifact(tmp.path(), "Tourdesk_0.2.0_amd64.AppImage", b"0.2.0");
    publish(&out, &key, Channel::Stable, "0.2.0", &file);
    // Someone edits the manifest to announce 0.9.0 with 0.2.0's genuine artifact and signature.
    let manifest = out.join("stable/latest.json");
    let text = std::fs::read_to_string(&manifest).unwrap().replace("\"version\": \"0.2.0\"", "\"version\": \"0.9.0\"");
    std::fs::write(&manifest, text).unwrap();
    let base = serve(&out).await;
    let app = desk(&keys.public_b64);
    let update = updates::check(app.handle(), &base, Channel::Stable).await.unwrap().expect("offered");
    assert_eq!(update.version, "0.9.0");
    assert!(update.download(|_, _| {}, || {}).await.is_err(), "signed for 0.2.0, announced as 0.9.0");
}

#[tokio::test]
async fn no_update_when_the_versions_are_equal() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = generate_keys(None).unwrap();
    let key = SigningKey::from_base64(&keys.secret_b64, None).unwrap();
    let out = tmp.path().join("updates");
    let file = artifact(tmp.path(), "Tourdesk_0.1.0_amd64.AppImage", b"0.1.0");
    publish(&out, &key, Channel::Stable, "0.1.0", &file);
    let base = serve(&out).await;
    let app = desk(&keys.public_b64);
    assert!(updates::check(app.handle(), &base, Channel::Stable).await.unwrap().is_none());
    // The server itself answers 204 for the running version, 200 for an older one.
    let ask = |v: &str| format!("{base}/updates/v1/stable/linux/{}/{v}", std::env::consts::ARCH);
    assert_eq!(reqwest::get(ask("0.1.0")).await.unwrap().status(), 204);
    assert_eq!(reqwest::get(ask("0.0.9")).await.unwrap().status(), 200);
    let bad = reqwest::get(format!("{base}/updates/v1/nightly/linux/x86_64/0.1.0")).await.unwrap();
    assert_eq!(bad.status(), 422);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(body["field"], "channel");
    let escape = reqwest::get(format!("{base}/updates/v1/files/stable/..%2F..%2Fetc/passwd")).await.unwrap();
    assert_eq!(escape.status(), 404);
    // No updates directory configured: nothing to offer.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let none: axum::Router = tourdesk_sync_server::updates::router(None, "http://unused");
    tokio::spawn(async move { axum::serve(listener, none).await });
    assert!(updates::check(app.handle(), &format!("http://{addr}"), Channel::Stable).await.unwrap().is_none());
}

#[tokio::test]
async fn an_install_waits_while_changes_are_unsent_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = generate_keys(None).unwrap();
    let key = SigningKey::from_base64(&keys.secret_b64, None).unwrap();
    let out = tmp.path().join("updates");
    let file = artifact(tmp.path(), "Tourdesk_0.2.0_amd64.AppImage", b"0.2.0");
    publish(&out, &key, Channel::Stable, "0.2.0", &file);
    let base = serve(&out).await;
    let app = desk(&keys.public_b64);
    let state = Updates::new(Channel::Stable);
    state.check_now(app.handle(), &base).await;

    let pokes = std::sync::atomic::AtomicUsize::new(0);
    let outcome = state
        .install(
            || status(3, Connection::Offline, false),
            || {
                pokes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            },
        )
        .await
        .unwrap();
    let InstallOutcome::Waiting { reason } = outcome else { panic!("offline with 3 unsent changes: {outcome:?}") };
    assert!(reason.contains("3 changes") && reason.contains("cannot be reached"), "{reason}");
    assert_eq!(pokes.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing to push through while offline");
    assert_eq!(state.status("0.1.0").waiting.as_deref(), Some(reason.as_str()));

    // Signed out: nobody can send them.
    let outcome = state.install(|| status(2, Connection::Online, true), || {}).await.unwrap();
    assert!(matches!(outcome, InstallOutcome::Waiting { ref reason } if reason.contains("Sign in")), "{outcome:?}");

    // Online: it pushes first, then decides again on what the push left: one change sent, then
    // the connection dropped, so it still waits for the last one.
    let outcome = state
        .install(
            || {
                if pokes.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                    status(2, Connection::Online, false)
                } else {
                    status(1, Connection::Offline, false)
                }
            },
            || {
                pokes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            },
        )
        .await
        .unwrap();
    assert_eq!(pokes.load(std::sync::atomic::Ordering::SeqCst), 1, "pushed once");
    assert!(
        matches!(outcome, InstallOutcome::Waiting { ref reason } if reason.contains("1 change made on this desk has not been sent")),
        "{outcome:?}"
    );
}

/// An AppImage is an ELF executable: the updater refuses anything else. These bytes start like
/// one (the updater's own tests do the same).
fn appimage(version: &str) -> Vec<u8> {
    let mut bytes = vec![0x7F, b'E', b'L', b'F', 2, 1, 1, 0];
    bytes.resize(64, 0);
    bytes.extend(format!("Tourdesk {version} AppImage payload\n").repeat(500).into_bytes());
    bytes
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Outside a .deb/.rpm, the Linux desk updates as an AppImage: the updater replaces the file at
/// its executable path. Here that path is an "installed" AppImage in a temporary directory, and
/// the install goes through the desk's own `Updates::install` (check, sync-state decision,
/// download, signature check, install).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn an_install_replaces_the_appimage_with_the_signed_bytes_and_a_tampered_one_leaves_it() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let keys = generate_keys(None).unwrap();
    let key = SigningKey::from_base64(&keys.secret_b64, None).unwrap();
    let out = tmp.path().join("updates");
    let new = appimage("0.2.0");
    let file = artifact(tmp.path(), "Tourdesk_0.2.0_amd64.AppImage", &new);
    publish(&out, &key, Channel::Stable, "0.2.0", &file);
    let base = serve(&out).await;
    let app = desk(&keys.public_b64);

    let opt = tmp.path().join("opt");
    std::fs::create_dir_all(&opt).unwrap();
    let installed = opt.join("Tourdesk.AppImage");
    let old = appimage("0.1.0");
    std::fs::write(&installed, &old).unwrap();
    std::fs::set_permissions(&installed, std::fs::Permissions::from_mode(0o750)).unwrap();
    let nothing_unsent = || status(0, Connection::Online, false);

    // The artifact on the server was changed after signing: nothing is installed.
    let served = out.join("stable/0.2.0/Tourdesk_0.2.0_amd64.AppImage");
    let mut tampered = new.clone();
    tampered[200] ^= 1;
    std::fs::write(&served, &tampered).unwrap();
    let state = Updates::new(Channel::Stable).installing_over(&installed);
    assert_eq!(state.check_now(app.handle(), &base).await.available.expect("offered").version, "0.2.0");
    let err = state.install(nothing_unsent, || {}).await.expect_err("a tampered artifact is not installed");
    assert!(err.to_string().to_lowercase().contains("signature"), "{err}");
    assert_eq!(std::fs::read(&installed).unwrap(), old, "the installed AppImage is untouched");
    assert_eq!(mode(&installed), 0o750);
    assert!(state.status("0.1.0").last_error.is_some_and(|e| e.contains("was not installed")));
    assert_eq!(std::fs::read_dir(&opt).unwrap().count(), 1, "no stray file beside the AppImage");

    // The genuine artifact: installed over the old file, which keeps its permissions.
    std::fs::write(&served, &new).unwrap();
    let outcome = state.install(nothing_unsent, || {}).await.expect("the signed AppImage installs");
    assert_eq!(outcome, InstallOutcome::Installed { version: "0.2.0".into() });
    assert_eq!(std::fs::read(&installed).unwrap(), new, "the file now holds the signed 0.2.0 bytes");
    assert_eq!(mode(&installed), 0o750, "its permissions are kept");
    assert_eq!(std::fs::read_dir(&opt).unwrap().count(), 1, "no backup or temporary file left beside it");

    // A correctly signed artifact that is not an AppImage is refused too, and 0.2.0 stays.
    let not_appimage = artifact(tmp.path(), "Tourdesk_0.3.0_amd64.AppImage", &b"#!/bin/sh\necho hi\n".repeat(10));
    publish(&out, &key, Channel::Stable, "0.3.0", &not_appimage);
    assert_eq!(state.check_now(app.handle(), &base).await.available.expect("offered").version, "0.3.0");
    assert!(state.install(nothing_unsent, || {}).await.is_err(), "not an ELF executable");
    assert_eq!(std::fs::read(&installed).unwrap(), new);
    assert_eq!(mode(&installed), 0o750);
}

//! Signing in and out through the desk's commands (`tauri::test::mock_builder`, no window)
//! against the real sync-server and PostgreSQL: a password sign-in, an account with two-step
//! sign-in, a refused change of user, and a sign-out the server sees. The password never
//! reaches the desk's database.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow};
use tourdesk_desk::{Desk, SyncLoop, with_commands};
use tourdesk_domain::ipc::{CommandError, DeskStatus, SignedInAs, SignedOut, TourView};
use tourdesk_local_store::{Store, SyncClient};
use tourdesk_sync_server::{Config, RunningServer, demo_data, mfa};
use tourdesk_testkit::PgCluster;

struct World {
    _cluster: PgCluster,
    db_url: String,
    _server: RunningServer,
    url: String,
    dir: tempfile::TempDir,
}

async fn world() -> World {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let server = tourdesk_sync_server::start(Config {
        database_url: tourdesk_testkit::as_app(&db_url),
        migrate_database_url: Some(db_url.clone()),
        listen: "127.0.0.1:0".into(),
        demo_data: true,
        dev_mode: true,
        ..Config::default()
    })
    .await
    .unwrap();
    let url = format!("http://{}", server.addr);
    World { _cluster: cluster, db_url, _server: server, url, dir: tempfile::tempdir().unwrap() }
}

impl World {
    async fn scalar(&self, sql: &str) -> i64 {
        let pg = tourdesk_testkit::connect(&self.db_url).await.unwrap();
        pg.query_one(sql, &[]).await.unwrap().get(0)
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut req = reqwest::Client::new().post(format!("{}{path}", self.url)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

struct DeskApp {
    _app: tauri::App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    store: Arc<Store>,
    path: std::path::PathBuf,
}

/// A desk on its own SQLite file that knows `server_url` from its configuration; with
/// `syncing`, its sync loop runs (every second).
fn desk(w: &World, name: &str, syncing: bool) -> DeskApp {
    let path = w.dir.path().join(format!("{name}.sqlite3"));
    let store = Arc::new(Store::open(&path).unwrap());
    let client = SyncClient::for_desk(&w.url, &format!("{name} desk")).unwrap();
    let sync = SyncLoop::new(client, Arc::new(|_| {}));
    if syncing {
        sync.start(store.clone(), Duration::from_secs(1));
    }
    let app = with_commands(mock_builder()).build(mock_context(noop_assets())).unwrap();
    app.manage(Desk { store: store.clone(), sync });
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    DeskApp { _app: app, window, store, path }
}

impl DeskApp {
    /// A command, as the window sends it (off the async workers: the IPC call blocks).
    async fn call<T: DeserializeOwned>(&self, cmd: &str, args: Value) -> Result<T, CommandError> {
        let (window, cmd) = (self.window.clone(), cmd.to_string());
        let answer = tokio::task::spawn_blocking(move || {
            let request = InvokeRequest {
                cmd,
                callback: tauri::ipc::CallbackFn(0),
                error: tauri::ipc::CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: tauri::ipc::InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            };
            get_ipc_response(&window, request)
        })
        .await
        .unwrap();
        match answer {
            Ok(body) => Ok(body.deserialize().unwrap()),
            Err(e) => Err(serde_json::from_value(e.clone()).unwrap_or_else(|_| panic!("not a CommandError: {e}"))),
        }
    }

    async fn sign_in(
        &self,
        url: &str,
        email: &str,
        password: &str,
        otp: Option<&str>,
    ) -> Result<SignedInAs, CommandError> {
        let input = json!({"server_url": url, "organization": demo_data::DEMO_ORG_SLUG, "email": email,
                           "password": password, "otp": otp});
        self.call("sign_in", json!({ "input": input })).await
    }

    /// Every byte SQLite keeps for this desk: the database and its write-ahead log.
    fn files_contain(&self, needle: &str) -> bool {
        let dir = self.path.parent().unwrap();
        let stem = self.path.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::read_dir(dir).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().starts_with(&stem)).any(
            |e| {
                let bytes = std::fs::read(e.path()).unwrap();
                bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            },
        )
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_sign_in_brings_the_data_and_a_sign_out_revokes_the_device() {
    let w = world().await;
    let d = desk(&w, "front", true);
    let password = demo_data::DEMO_PASSWORD;

    // A wrong password is said at the password field; the right one then works.
    let e = d.sign_in(&w.url, demo_data::DEMO_MANAGER_EMAIL, "not the password", None).await.unwrap_err();
    assert_eq!((e.code.as_str(), e.field.as_deref()), ("UNAUTHORIZED", Some("password")), "{e:?}");
    assert!(d.store.session().unwrap().is_none());
    let who = d.sign_in(&format!("{}/", w.url), demo_data::DEMO_MANAGER_EMAIL, password, None).await.unwrap();
    assert_eq!(who.name, "Manuel Manager");

    // The loop syncs from the refresh token it was given: the demo tours arrive.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let tours: Vec<TourView> = d.call("list_tours", json!({})).await.unwrap();
        if tours.len() == 3 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the demo tours did not arrive: {tours:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status: DeskStatus = d.call("desk_status", json!({})).await.unwrap();
    assert!(!status.needs_sign_in && status.server_url == w.url, "{status:?}");
    assert_eq!(d.store.server_url().unwrap().as_deref(), Some(w.url.as_str()), "kept for the next start");
    assert!(!d.files_contain(password), "the password is nowhere in the desk's database");

    // Sign-out: the server revokes the device, so its refresh token no longer works anywhere.
    let refresh_token = d.store.refresh_token().unwrap().unwrap();
    let device = d.store.device_id().unwrap().unwrap();
    let out: SignedOut = d.call("sign_out", json!({"discardPending": false, "localOnly": false})).await.unwrap();
    assert_eq!(out, SignedOut { revoked: true, discarded: 0 });
    let revoked = format!("SELECT count(*) FROM staff_devices WHERE id = '{device}' AND revoked_at IS NOT NULL");
    assert_eq!(w.scalar(&revoked).await, 1);
    let (status, body) = w.post("/api/v1/auth/refresh", None, json!({"refresh_token": refresh_token})).await;
    assert_eq!(status, 401, "{body}");
    assert!(d.store.session().unwrap().is_none() && d.store.refresh_token().unwrap().is_none());
    let tours: Vec<TourView> = d.call("list_tours", json!({})).await.unwrap();
    assert!(tours.is_empty(), "the signed-out user's data left the desk");
    let status: DeskStatus = d.call("desk_status", json!({})).await.unwrap();
    assert!(status.needs_sign_in && status.signed_in_as.is_none(), "{status:?}");
    // Signed out, the loop asks the server nothing and the desk stays signed out.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(d.store.session().unwrap().is_none() && d.store.refresh_token().unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_with_two_step_sign_in_needs_its_code_and_a_wrong_one_is_refused() {
    let w = world().await;
    let (owner, password) = (demo_data::DEMO_OWNER_EMAIL, demo_data::DEMO_PASSWORD);
    // The owner turns two-step sign-in on (through the server's API, as from another device).
    let (_, v) = w
        .post(
            "/api/v1/auth/sign-in",
            None,
            json!({"organization": demo_data::DEMO_ORG_SLUG, "email": owner, "password": password, "device": "phone"}),
        )
        .await;
    let token = v["access_token"].as_str().unwrap().to_string();
    let (status, enrolment) = w.post("/api/v1/auth/mfa/enrol", Some(&token), json!({"password": password})).await;
    assert_eq!(status, 200, "{enrolment}");
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    let code = mfa::code_at(&secret, unix_now()).unwrap();
    assert_eq!(w.post("/api/v1/auth/mfa/confirm", Some(&token), json!({"code": code})).await.0, 200);

    let d = desk(&w, "office", false);
    let e = d.sign_in(&w.url, owner, password, None).await.unwrap_err();
    assert_eq!((e.code.as_str(), e.field.as_deref()), ("MFA_REQUIRED", Some("otp")), "{e:?}");
    let e = d.sign_in(&w.url, owner, password, Some("123")).await.unwrap_err();
    assert_eq!((e.code.as_str(), e.field.as_deref()), ("MFA_INVALID", Some("otp")), "{e:?}");
    assert!(d.store.session().unwrap().is_none() && d.store.refresh_token().unwrap().is_none());
    let next = mfa::code_at(&secret, unix_now() + 30).unwrap();
    let who = d.sign_in(&w.url, owner, password, Some(&next)).await.unwrap();
    assert_eq!(who.name, "Olivia Owner");
    assert!(d.store.refresh_token().unwrap().is_some());
    assert!(!d.files_contain(password), "the password is nowhere in the desk's database");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_user_is_refused_while_unsent_work_is_queued_and_leaves_no_device_behind() {
    let w = world().await;
    // Not syncing: what the owner does stays queued.
    let d = desk(&w, "shared", false);
    d.sign_in(&w.url, demo_data::DEMO_OWNER_EMAIL, demo_data::DEMO_PASSWORD, None).await.unwrap();
    let token = d.store.refresh_token().unwrap();
    let tour = json!({"input": {"name": "Harbour Lights", "duration_minutes": 90, "default_capacity": 12,
                                "category": "walking", "timezone": "Europe/Lisbon"}});
    d.call::<TourView>("create_tour", tour).await.unwrap();
    let e = d.sign_in(&w.url, demo_data::DEMO_MANAGER_EMAIL, demo_data::DEMO_PASSWORD, None).await.unwrap_err();
    assert_eq!(e.code, "IDENTITY_CHANGE", "{e:?}");
    assert!(e.message.contains("1 unsent changes") && e.message.contains("Olivia Owner"), "{e:?}");
    assert_eq!(d.store.session().unwrap().unwrap().user_name, "Olivia Owner", "nothing of the refused sign-in kept");
    assert_eq!(d.store.refresh_token().unwrap(), token);
    assert_eq!(d.store.pending_count().unwrap(), 1);
    let live = w.scalar(
        "SELECT count(*) FROM staff_devices d JOIN staff_users u ON u.id = d.user_id
         WHERE u.email = 'manager@demo.tourdesk.test' AND d.revoked_at IS NULL",
    );
    assert_eq!(live.await, 0, "the session the server opened for the refused sign-in was closed");
    // Signing out asks about the queued change first.
    let e = d.call::<SignedOut>("sign_out", json!({"discardPending": false, "localOnly": false})).await.unwrap_err();
    assert_eq!(e.code, "PENDING_CHANGES", "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_whose_device_was_revoked_waits_for_a_person_to_sign_in_again() {
    let w = world().await;
    let d = desk(&w, "revoked", true);
    d.sign_in(&w.url, demo_data::DEMO_MANAGER_EMAIL, demo_data::DEMO_PASSWORD, None).await.unwrap();
    let pg = tourdesk_testkit::connect(&w.db_url).await.unwrap();
    pg.execute("UPDATE staff_devices SET revoked_at = now()", &[]).await.unwrap();
    pg.execute("UPDATE staff_sessions SET revoked_at = now()", &[]).await.unwrap();
    d.call::<()>("sync_now", json!({})).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        let status: DeskStatus = d.call("desk_status", json!({})).await.unwrap();
        if status.needs_sign_in {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "the desk never asked for a sign-in: {status:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(status.signed_in_as.is_some(), "the session stays, so the desk keeps working locally: {status:?}");
    assert!(status.last_error.is_some_and(|e| e.contains("sign in again")));
    d.sign_in(&w.url, demo_data::DEMO_MANAGER_EMAIL, demo_data::DEMO_PASSWORD, None).await.unwrap();
    let status: DeskStatus = d.call("desk_status", json!({})).await.unwrap();
    assert!(!status.needs_sign_in, "{status:?}");
}

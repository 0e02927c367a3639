//! Devices, short-lived access tokens and rotating refresh tokens, against the real server and a
//! real PostgreSQL: what is stored, what rotation and reuse do, who may revoke what, and a desk
//! that keeps syncing on its refresh token alone.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tourdesk_local_store::{Credentials, SyncClient, SyncError};
use tourdesk_sync_server::demo_data;
use tourdesk_tests::{Env, new_tour};

async fn call(env: &Env, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
    tourdesk_tests::call(&env.base_url(), method, path, token, body).await
}

/// Signs in (optionally asking to keep `device_id`) and returns the whole answer.
async fn sign_in_at(env: &Env, org: &str, email: &str, device: &str, device_id: Option<&str>) -> Value {
    let mut body = json!({"organization": org, "email": email, "password": demo_data::DEMO_PASSWORD, "device": device});
    if let Some(id) = device_id {
        body["device_id"] = json!(id);
    }
    let (status, resp) = call(env, "POST", "/api/v1/auth/sign-in", None, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    resp
}

async fn sign_in(env: &Env, email: &str, device: &str) -> Value {
    sign_in_at(env, demo_data::DEMO_ORG_SLUG, email, device, None).await
}

fn s(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}")).to_string()
}

async fn refresh(env: &Env, refresh_token: &str) -> (StatusCode, Value) {
    call(env, "POST", "/api/v1/auth/refresh", None, Some(json!({"refresh_token": refresh_token}))).await
}

/// A cheap authenticated request: the status says whether the access token is accepted.
async fn devices(env: &Env, access_token: &str) -> (StatusCode, Value) {
    call(env, "GET", "/api/v1/auth/devices", Some(access_token), None).await
}

async fn revoke(env: &Env, access_token: &str, device_id: &str) -> (StatusCode, Value) {
    call(env, "POST", &format!("/api/v1/auth/devices/{device_id}/revoke"), Some(access_token), None).await
}

fn sha256(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_registers_a_device_and_stores_tokens_only_hashed() {
    let env = Env::start().await;
    let first = sign_in(&env, demo_data::DEMO_OWNER_EMAIL, "Front desk").await;
    assert_eq!(first["expires_in_seconds"], 900);
    assert_eq!(first["refresh_expires_in_seconds"], 30 * 24 * 3600);
    let (access, refresh_token, device) =
        (s(&first, "access_token"), s(&first, "refresh_token"), s(&first, "device_id"));
    assert_eq!(URL_SAFE_LEN, refresh_token.len(), "32 random bytes, base64url");

    let pg = env.pg().await;
    let row = pg
        .query_one("SELECT kind, name, revoked_at IS NULL FROM staff_devices WHERE id = $1", &[&device])
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1), row.get::<_, bool>(2)),
        ("desk".into(), "Front desk".into(), true)
    );
    let stored: Vec<u8> = pg
        .query_one("SELECT token_hash FROM staff_refresh_tokens WHERE device_id = $1", &[&device])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, sha256(&refresh_token));
    let session_device: String = pg
        .query_one("SELECT device_id FROM staff_sessions WHERE token_hash = $1", &[&sha256(&access)])
        .await
        .unwrap()
        .get(0);
    assert_eq!(session_device, device);
    // Neither token appears anywhere in the auth tables, in any column, in any encoding we store.
    for table in ["staff_sessions", "staff_refresh_tokens", "staff_devices"] {
        for token in [&access, &refresh_token] {
            let sql =
                format!("SELECT count(*) FROM {table} t WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0");
            let hex = token.as_bytes().iter().map(|b| format!("{b:02x}")).collect::<String>();
            assert_eq!(env.scalar(&sql, &[token, &hex]).await, 0, "{table} holds a raw token");
        }
    }

    // Naming the device again keeps it, and abandons its earlier refresh token.
    let again =
        sign_in_at(&env, demo_data::DEMO_ORG_SLUG, demo_data::DEMO_OWNER_EMAIL, "Front desk (renamed)", Some(&device))
            .await;
    assert_eq!(s(&again, "device_id"), device);
    assert_eq!(refresh(&env, &refresh_token).await.1["code"], "TOKEN_REVOKED");
    assert_eq!(refresh(&env, &s(&again, "refresh_token")).await.0, StatusCode::OK);
    let n = env.scalar("SELECT count(*) FROM staff_devices WHERE name = 'Front desk (renamed)'", &[]).await;
    assert_eq!(n, 1);
    // Someone else's device id is not theirs to take: the manager gets a device of their own.
    let manager =
        sign_in_at(&env, demo_data::DEMO_ORG_SLUG, demo_data::DEMO_MANAGER_EMAIL, "Phone", Some(&device)).await;
    assert_ne!(s(&manager, "device_id"), device);
    assert_eq!(env.scalar("SELECT count(*) FROM staff_devices", &[]).await, 2);
}

const URL_SAFE_LEN: usize = 43;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_and_a_reused_token_revokes_the_device() {
    let env = Env::start().await;
    let first = sign_in(&env, demo_data::DEMO_OWNER_EMAIL, "Front desk").await;
    let (r1, device) = (s(&first, "refresh_token"), s(&first, "device_id"));

    let (status, second) = refresh(&env, &r1).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(s(&second, "device_id"), device);
    assert_eq!(second["user"]["email"], demo_data::DEMO_OWNER_EMAIL);
    let (a2, r2) = (s(&second, "access_token"), s(&second, "refresh_token"));
    assert_ne!(r2, r1);
    assert_eq!(devices(&env, &a2).await.0, StatusCode::OK);
    let replaced: Option<Vec<u8>> = env
        .pg()
        .await
        .query_one("SELECT replaced_by FROM staff_refresh_tokens WHERE token_hash = $1", &[&sha256(&r1)])
        .await
        .unwrap()
        .get(0);
    assert_eq!(replaced, Some(sha256(&r2)));

    // The spent token again: someone holds a copy, so the device goes, and everything with it.
    let (status, body) = refresh(&env, &r1).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("TOKEN_REUSED")), "{body}");
    let sql = "SELECT count(*) FROM staff_devices WHERE id = $1 AND revoked_at IS NOT NULL";
    assert_eq!(env.scalar(sql, &[&device]).await, 1);
    let (status, body) = devices(&env, &a2).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("TOKEN_REVOKED")));
    assert_eq!(devices(&env, &s(&first, "access_token")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&env, &r2).await.1["code"], "TOKEN_REVOKED");
    let (status, body) = refresh(&env, "no-such-token").await;
    assert_eq!((status, body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("UNAUTHORIZED")));
    let (status, body) = call(&env, "POST", "/api/v1/auth/refresh", None, Some(json!({}))).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("INVALID")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_with_one_token_let_exactly_one_through() {
    let env = Env::start().await;
    let first = sign_in(&env, demo_data::DEMO_OWNER_EMAIL, "Front desk").await;
    let r1 = s(&first, "refresh_token");
    let url = format!("{}/api/v1/auth/refresh", env.base_url());
    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let (url, body) = (url.clone(), json!({"refresh_token": r1}));
        racers.spawn(async move {
            let r = reqwest::Client::new().post(url).json(&body).send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        });
    }
    let answers = racers.join_all().await;
    let ok = answers.iter().filter(|(st, _)| *st == StatusCode::OK).count();
    assert_eq!(ok, 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(st, _)| *st != StatusCode::OK) {
        assert_eq!(*status, StatusCode::UNAUTHORIZED);
        // The first loser finds the token rotated and revokes; later ones may find it revoked.
        assert!(["TOKEN_REUSED", "TOKEN_REVOKED"].contains(&body["code"].as_str().unwrap()), "{body}");
    }
    let sql = "SELECT count(*) FROM staff_refresh_tokens WHERE token_hash = $1 AND replaced_by IS NOT NULL";
    assert_eq!(env.scalar(sql, &[&sha256(&r1)]).await, 1);
    assert_eq!(env.scalar("SELECT count(*) FROM staff_refresh_tokens", &[]).await, 2, "one rotation, no more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_device_cuts_its_access_token_at_once_and_spares_the_others() {
    let env = Env::start().await;
    let laptop = sign_in(&env, demo_data::DEMO_OWNER_EMAIL, "Laptop").await;
    let office = sign_in(&env, demo_data::DEMO_OWNER_EMAIL, "Office desk").await;
    let (laptop_token, office_token) = (s(&laptop, "access_token"), s(&office, "access_token"));

    let (status, list) = devices(&env, &office_token).await;
    assert_eq!(status, StatusCode::OK);
    let list = list["devices"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    let current: Vec<_> = list.iter().filter(|d| d["current"] == true).map(|d| d["name"].clone()).collect();
    assert_eq!(current, [json!("Office desk")]);

    let (status, info) = revoke(&env, &office_token, &s(&laptop, "device_id")).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert!(info["revoked_at"].is_string(), "{info}");
    let (status, body) = devices(&env, &laptop_token).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("TOKEN_REVOKED")));
    assert_eq!(refresh(&env, &s(&laptop, "refresh_token")).await.1["code"], "TOKEN_REVOKED");
    assert_eq!(devices(&env, &office_token).await.0, StatusCode::OK, "the user's other device keeps working");
    // Revoking again changes nothing and is not an error.
    assert_eq!(revoke(&env, &office_token, &s(&laptop, "device_id")).await.0, StatusCode::OK);

    // Signing out is revoking the device one is on.
    let (status, _) = call(&env, "POST", "/api/v1/auth/sign-out", Some(&office_token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(devices(&env, &office_token).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&env, &s(&office, "refresh_token")).await.0, StatusCode::UNAUTHORIZED);
    // A revoked device id is not reused by a password sign-in.
    let office_device = s(&office, "device_id");
    let back =
        sign_in_at(&env, demo_data::DEMO_ORG_SLUG, demo_data::DEMO_OWNER_EMAIL, "Office desk", Some(&office_device))
            .await;
    assert_ne!(s(&back, "device_id"), office_device);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_owners_and_admins_revoke_other_peoples_devices() {
    let env = Env::start().await;
    let owner = sign_in(&env, demo_data::DEMO_OWNER_EMAIL, "Owner desk").await;
    let manager = sign_in(&env, demo_data::DEMO_MANAGER_EMAIL, "Manager desk").await;
    let manager_phone = sign_in(&env, demo_data::DEMO_MANAGER_EMAIL, "Manager phone").await;
    let (owner_token, manager_token) = (s(&owner, "access_token"), s(&manager, "access_token"));

    let (status, body) = revoke(&env, &manager_token, &s(&owner, "device_id")).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::FORBIDDEN, json!("FORBIDDEN")), "{body}");
    assert_eq!(devices(&env, &owner_token).await.0, StatusCode::OK, "untouched");
    // A manager sees and manages their own devices only; the owner sees everyone's.
    let (_, mine) = devices(&env, &manager_token).await;
    assert!(mine["devices"].as_array().unwrap().iter().all(|d| d["user_id"] == manager["user"]["id"]), "{mine}");
    assert_eq!(mine["devices"].as_array().unwrap().len(), 2);
    assert_eq!(devices(&env, &owner_token).await.1["devices"].as_array().unwrap().len(), 3);
    assert_eq!(revoke(&env, &manager_token, &s(&manager_phone, "device_id")).await.0, StatusCode::OK);

    let (status, body) = revoke(&env, &owner_token, &s(&manager, "device_id")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user_name"], "Manuel Manager");
    assert_eq!(devices(&env, &manager_token).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organizations_device_is_not_found() {
    let env = Env::start().await;
    let pg = env.pg().await;
    let org_b = uuid::Uuid::new_v4().to_string();
    pg.execute(
        "INSERT INTO organizations (id, name, slug, business_email) VALUES ($1, 'Other Tours', 'other', 'ops@other.test')",
        &[&org_b],
    )
    .await
    .unwrap();
    let hash = tourdesk_sync_server::auth::hash_password(demo_data::DEMO_PASSWORD).unwrap();
    pg.execute(
        "INSERT INTO staff_users (id, organization_id, email, name, role, password_hash)
         VALUES ($1, $2, 'owner@other.test', 'Otto Other', 'owner', $3)",
        &[&uuid::Uuid::new_v4().to_string(), &org_b, &hash],
    )
    .await
    .unwrap();
    let a = sign_in(&env, demo_data::DEMO_OWNER_EMAIL, "A's desk").await;
    let b = sign_in_at(&env, "other", "owner@other.test", "B's desk", Some(&s(&a, "device_id"))).await;
    assert_ne!(s(&b, "device_id"), s(&a, "device_id"), "a device id never crosses organizations");
    let b_token = s(&b, "access_token");

    let (status, cross) = revoke(&env, &b_token, &s(&a, "device_id")).await;
    let (_, unknown) = revoke(&env, &b_token, "no-such-device").await;
    assert_eq!((status, cross["code"].clone()), (StatusCode::NOT_FOUND, json!("NOT_FOUND")), "{cross}");
    assert_eq!(cross, unknown, "indistinguishable from an id that does not exist");
    assert_eq!(devices(&env, &s(&a, "access_token")).await.0, StatusCode::OK);
    let (_, listed) = devices(&env, &b_token).await;
    assert_eq!(listed["devices"].as_array().unwrap().len(), 1, "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_access_token_is_refused_and_a_refresh_restores_access() {
    let env = Env::start_with(|c| c.access_token_ttl_seconds = 1).await;
    let first = sign_in(&env, demo_data::DEMO_OWNER_EMAIL, "Front desk").await;
    assert_eq!(first["expires_in_seconds"], 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, body) = devices(&env, &s(&first, "access_token")).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("TOKEN_EXPIRED")), "{body}");
    let (status, renewed) = refresh(&env, &s(&first, "refresh_token")).await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    assert_eq!(devices(&env, &s(&renewed, "access_token")).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_refresh_token_is_refused_with_its_own_code() {
    let env = Env::start().await;
    let first = sign_in(&env, demo_data::DEMO_OWNER_EMAIL, "Front desk").await;
    env.pg()
        .await
        .execute("UPDATE staff_refresh_tokens SET issued_at = now() - interval '2 days', expires_at = now() - interval '1 day'", &[])
        .await
        .unwrap();
    let (status, body) = refresh(&env, &s(&first, "refresh_token")).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("TOKEN_EXPIRED")), "{body}");
}

fn desk_client(env: &Env, password: &str) -> SyncClient {
    SyncClient::new(
        &env.base_url(),
        Credentials {
            organization: demo_data::DEMO_ORG_SLUG.into(),
            email: demo_data::DEMO_OWNER_EMAIL.into(),
            password: password.into(),
            device: "Front desk".into(),
        },
    )
    .unwrap()
}

/// The desk's access token expires every second here; it renews with its refresh token (the
/// password no longer works) across a restart too, and falls back to the password only once
/// the refresh token is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_renews_an_expired_access_token_without_the_password() {
    let env = Env::start_with(|c| c.access_token_ttl_seconds = 1).await;
    let desk = env.desk("office");
    let client = desk_client(&env, demo_data::DEMO_PASSWORD);
    client.sync_once(&desk).await.unwrap();
    let device = desk.device_id().unwrap().unwrap();
    assert!(desk.refresh_token().unwrap().is_some());

    // From now on a password sign-in would fail: only the refresh token can keep this desk going.
    let new_hash = tourdesk_sync_server::auth::hash_password("a new password").unwrap();
    env.pg()
        .await
        .execute(
            "UPDATE staff_users SET password_hash = $1 WHERE email = $2",
            &[&new_hash, &demo_data::DEMO_OWNER_EMAIL],
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    desk.mutate(&new_tour("Harbour Lights Walk")).unwrap();
    client.sync_once(&desk).await.unwrap();
    assert_eq!(desk.pending_count().unwrap(), 0);

    // A restarted desk has no access token in memory, only what its database kept.
    drop(client);
    drop(desk);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let desk = env.desk("office");
    let client = desk_client(&env, "the old password, now wrong");
    desk.mutate(&new_tour("Old Docks Walk")).unwrap();
    client.sync_once(&desk).await.unwrap();
    assert_eq!(desk.pending_count().unwrap(), 0);
    assert_eq!(desk.device_id().unwrap().as_deref(), Some(device.as_str()), "still one device");
    assert_eq!(env.scalar("SELECT count(*) FROM staff_devices", &[]).await, 1);
    let rotations = env.scalar("SELECT count(*) FROM staff_refresh_tokens WHERE replaced_by IS NOT NULL", &[]);
    assert!(rotations.await >= 2);
    let n = env.scalar("SELECT count(*) FROM tours WHERE name IN ('Harbour Lights Walk', 'Old Docks Walk')", &[]);
    assert_eq!(n.await, 2);

    // Revoked: the refresh is refused, so the desk tries the password; the wrong one is a clear,
    // permanent error that loses nothing, and the right one brings it back on a new device.
    env.pg().await.execute("UPDATE staff_devices SET revoked_at = now()", &[]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    desk.mutate(&new_tour("Lighthouse Climb")).unwrap();
    let err = client.sync_once(&desk).await.unwrap_err();
    assert!(matches!(err, SyncError::Unauthorized(_)) && !err.is_transient(), "{err:?}");
    assert_eq!(desk.pending_count().unwrap(), 1);
    assert!(desk.refresh_token().unwrap().is_none(), "a refused refresh token is dropped");
    let client = desk_client(&env, "a new password");
    client.sync_once(&desk).await.unwrap();
    assert_eq!(desk.pending_count().unwrap(), 0);
    assert_ne!(desk.device_id().unwrap().unwrap(), device);
}

/// A sign-in with `password`, keeping `device_id` when given: the status, the body and the
/// Retry-After header.
async fn attempt(env: &Env, email: &str, password: &str, device_id: Option<&str>) -> (StatusCode, Value, Option<u64>) {
    let mut body =
        json!({"organization": demo_data::DEMO_ORG_SLUG, "email": email, "password": password, "device": "t"});
    if let Some(id) = device_id {
        body["device_id"] = json!(id);
    }
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/sign-in", env.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
    (status, r.json().await.unwrap_or(Value::Null), retry)
}

/// Retries a correct sign-in until the throttle lets it through (within a generous deadline: the
/// block being waited out is one second).
async fn sign_in_once_allowed(env: &Env, email: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body, retry) = attempt(env, email, demo_data::DEMO_PASSWORD, None).await;
        if status == StatusCode::OK {
            return body;
        }
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert!(std::time::Instant::now() < deadline, "still throttled");
        tokio::time::sleep(Duration::from_secs(retry.unwrap())).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_are_throttled_per_account_and_a_known_desk_is_not_locked_out() {
    let env = Env::start().await;
    let owner = demo_data::DEMO_OWNER_EMAIL;
    let desk = sign_in(&env, owner, "office desk").await;
    let desk_id = s(&desk, "device_id");
    for _ in 0..5 {
        let (status, body, _) = attempt(&env, owner, "guess", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    // The account is held, whatever the password: no answer tells a guess right from wrong.
    for password in ["guess", demo_data::DEMO_PASSWORD] {
        let (status, body, retry) = attempt(&env, owner, password, None).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["code"], "RATE_LIMITED");
        assert_eq!(retry, Some(1));
    }
    // The desk that signed in before is not held by the account's limit.
    let (status, body, _) = attempt(&env, owner, demo_data::DEMO_PASSWORD, Some(&desk_id)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Other accounts are not held either.
    sign_in(&env, demo_data::DEMO_MANAGER_EMAIL, "other desk").await;
    // The block is short, and a success clears the account's failures.
    sign_in_once_allowed(&env, owner).await;
    let (status, _, _) = attempt(&env, owner, "guess", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "one failure after a success is a first one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_guessing_many_accounts_is_throttled_unless_addresses_are_not_trusted() {
    let env = Env::start().await;
    for i in 0..10 {
        let (status, body, _) = attempt(&env, &format!("nobody{i}@demo.tourdesk.test"), "guess", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    let (status, body, retry) = attempt(&env, demo_data::DEMO_OWNER_EMAIL, demo_data::DEMO_PASSWORD, None).await;
    assert_eq!((status, body["code"].as_str(), retry), (StatusCode::TOO_MANY_REQUESTS, Some("RATE_LIMITED"), Some(1)));

    // Behind a proxy every client shares one address: the operator turns the address limit off.
    let env = Env::start_with(|c| c.sign_in_address_limit = false).await;
    for i in 0..12 {
        let (status, body, _) = attempt(&env, &format!("nobody{i}@demo.tourdesk.test"), "guess", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    sign_in(&env, demo_data::DEMO_OWNER_EMAIL, "desk").await;
}

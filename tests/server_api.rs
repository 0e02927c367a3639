//! Bad input at the server's edge gets a clear 4xx with a stable code, never a 500, and writes
//! nothing.
#![allow(clippy::unwrap_used)]

use reqwest::StatusCode;
use serde_json::{Value, json};
use tourdesk_sync_server::demo_data;
use tourdesk_tests::{Env, sign_in};

async fn post(env: &Env, path: &str, token: Option<&str>, body: reqwest::Body, ctype: &str) -> (StatusCode, Value) {
    let mut req =
        reqwest::Client::new().post(format!("{}{path}", env.base_url())).header("content-type", ctype).body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_errors() {
    let env = Env::start().await;
    let token = sign_in(&env, demo_data::DEMO_OWNER_EMAIL).await;
    let client_id = uuid::Uuid::new_v4().to_string();
    let j = "application/json";

    // (path, bearer token, body, content type, expected status, expected code)
    type Case<'a> = (&'a str, Option<&'a str>, String, &'a str, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        ("/sync/v1/push", Some(&token), "{not json".into(), j, StatusCode::BAD_REQUEST, "MALFORMED_JSON"),
        (
            "/sync/v1/push",
            Some(&token),
            json!({"client_id": client_id, "schema_version": 1, "mutations": [{"id": "one", "name": "x", "args": {}, "hlc": "0"}]}).to_string(),
            j,
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID",
        ),
        ("/sync/v1/push", Some(&token), "{}".into(), "text/plain", StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE"),
        ("/sync/v1/pull", None, json!({"client_id": client_id, "schema_version": 1}).to_string(), j, StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
        ("/sync/v1/pull", Some("forged-token"), json!({"client_id": client_id, "schema_version": 1}).to_string(), j, StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
        ("/sync/v1/pull", Some(&token), json!({"client_id": "desk-1", "schema_version": 1}).to_string(), j, StatusCode::UNPROCESSABLE_ENTITY, "INVALID"),
        ("/sync/v1/pull", Some(&token), json!({"client_id": client_id, "schema_version": 0}).to_string(), j, StatusCode::CONFLICT, "CLIENT_TOO_OLD"),
        ("/sync/v1/pull", Some(&token), json!({"client_id": client_id, "schema_version": 1, "cursors": {"org:other:all": 0}}).to_string(), j, StatusCode::FORBIDDEN, "FORBIDDEN"),
        ("/api/v1/auth/sign-in", None, json!({"organization": "demo", "email": demo_data::DEMO_OWNER_EMAIL, "password": "nope", "device": "d"}).to_string(), j, StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
        ("/api/v1/auth/sign-in", None, json!({"organization": "nope", "email": "a@b.c", "password": "x", "device": "d"}).to_string(), j, StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
        // NUL bytes in what sign-in looks up: refused before a query, never a 500.
        ("/api/v1/auth/sign-in", None, json!({"organization": "demo\u{0}", "email": demo_data::DEMO_OWNER_EMAIL, "password": "x", "device": "d"}).to_string(), j, StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
        ("/api/v1/auth/sign-in", None, json!({"organization": "demo", "email": "owner\u{0}@demo.tourdesk.test", "password": "x", "device": "d"}).to_string(), j, StatusCode::UNPROCESSABLE_ENTITY, "INVALID"),
        ("/api/v1/auth/sign-in", None, json!({"organization": "demo", "email": demo_data::DEMO_OWNER_EMAIL, "password": demo_data::DEMO_PASSWORD, "device": "d\u{0}"}).to_string(), j, StatusCode::UNPROCESSABLE_ENTITY, "INVALID"),
        ("/api/v1/auth/devices/x%00/revoke", Some(&token), "{}".into(), j, StatusCode::NOT_FOUND, "NOT_FOUND"),
        ("/no/such/route", None, "{}".into(), j, StatusCode::NOT_FOUND, "NOT_FOUND"),
        ("/sync/v1/push", Some(&token), "x".repeat(3 * 1024 * 1024), j, StatusCode::PAYLOAD_TOO_LARGE, "BODY_TOO_LARGE"),
    ];
    for (path, tok, body, ctype, status, code) in cases {
        let (got, body_json) = post(&env, path, tok, body.clone().into(), ctype).await;
        assert_eq!(got, status, "{path} {}: {body_json}", &body[..body.len().min(80)]);
        assert_eq!(body_json["code"], code, "{path}: {body_json}");
        assert!(body_json["message"].as_str().is_some_and(|m| !m.is_empty()), "{body_json}");
    }
    // The wrong-type case names the field.
    let (_, body) = post(
        &env,
        "/sync/v1/push",
        Some(&token),
        json!({"client_id": client_id, "schema_version": 1, "mutations": [{"id": "one", "name": "x", "args": {}, "hlc": "0"}]}).to_string().into(),
        j,
    )
    .await;
    assert_eq!(body["field"], "mutations[0].id", "{body}");

    // Nothing above wrote a sync client or a change.
    let pg = env.pg().await;
    let n: i64 = pg.query_one("SELECT count(*) FROM sync_clients", &[]).await.unwrap().get(0);
    assert_eq!(n, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_client_ownership_are_enforced() {
    let env = Env::start().await;
    let owner = sign_in(&env, demo_data::DEMO_OWNER_EMAIL).await;
    let manager = sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let j = "application/json";
    let owner_client = uuid::Uuid::new_v4().to_string();
    let tour = json!({"id": uuid::Uuid::new_v4().to_string(), "name": "Manager Tour", "duration_minutes": 60,
                      "default_capacity": 5, "category": "food", "timezone": "Europe/Paris"});
    let push = |client: &str| {
        json!({"client_id": client, "schema_version": 1,
               "mutations": [{"id": 1, "name": "create_tour.v1", "args": tour, "hlc": "0"}]})
        .to_string()
    };

    // A manager may not create tours: the mutation is rejected, not applied, and the batch moves on.
    let manager_client = uuid::Uuid::new_v4().to_string();
    let (status, body) = post(&env, "/sync/v1/push", Some(&manager), push(&manager_client).into(), j).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["last_mutation_id"], 1);
    assert_eq!(body["results"][0]["status"], "rejected");
    assert_eq!(body["results"][0]["code"], "NOT_AUTHORIZED");

    // The owner's client id cannot be used by someone else.
    let (status, _) = post(
        &env,
        "/sync/v1/pull",
        Some(&owner),
        json!({"client_id": owner_client, "schema_version": 1}).to_string().into(),
        j,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = post(&env, "/sync/v1/push", Some(&manager), push(&owner_client).into(), j).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::FORBIDDEN, json!("FORBIDDEN")));

    // An unknown mutation name is a recorded rejection; an out-of-order id is not processed.
    let odd = json!({"client_id": owner_client, "schema_version": 1, "mutations": [
        {"id": 1, "name": "teleport_guests.v9", "args": {}, "hlc": "0"},
        {"id": 3, "name": "create_tour.v1", "args": tour, "hlc": "0"}]});
    let (status, body) = post(&env, "/sync/v1/push", Some(&owner), odd.to_string().into(), j).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["last_mutation_id"], 1, "{body}");
    assert_eq!(body["results"][0]["code"], "UNKNOWN_MUTATION");
    assert_eq!(body["results"].as_array().unwrap().len(), 1);

    let pg = env.pg().await;
    let n: i64 = pg.query_one("SELECT count(*) FROM tours WHERE name = 'Manager Tour'", &[]).await.unwrap().get(0);
    assert_eq!(n, 0);
}

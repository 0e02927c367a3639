//! Staff accounts against the real server, PostgreSQL and an SMTP sink: an organization made at
//! the command line, invitations, roles and suspension, password resets and TOTP sign-in with
//! recovery codes. Every link is read out of the e-mail that carried it.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tourdesk_domain::accounts::NewOrganization;
use tourdesk_sync_server::{accounts, demo_data, mfa};
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_tests::{Env, Fakes};

struct Api {
    base: String,
}

impl Api {
    fn new(env: &Env) -> Api {
        Api { base: env.base_url() }
    }

    async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        tourdesk_tests::call(&self.base, method, path, token, body).await
    }

    async fn sign_in_as(&self, org: &str, email: &str, password: &str, otp: Option<&str>) -> (StatusCode, Value) {
        let mut body = json!({"organization": org, "email": email, "password": password, "device": "test"});
        if let Some(code) = otp {
            body["otp"] = json!(code);
        }
        self.call("POST", "/api/v1/auth/sign-in", None, Some(body)).await
    }

    /// A demo member's access token.
    async fn demo(&self, email: &str) -> String {
        let (status, v) = self.sign_in_as(demo_data::DEMO_ORG_SLUG, email, demo_data::DEMO_PASSWORD, None).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v["access_token"].as_str().unwrap().to_string()
    }
}

/// The token of the last link mailed to `to`.
async fn link_mailed_to(smtp: &SmtpSink, to: &str, nth: usize) -> String {
    let mails = smtp.wait_for(nth, Duration::from_secs(10)).await;
    let mail = mails.iter().rev().find(|m| m.to.iter().any(|t| t == to)).unwrap_or_else(|| panic!("no mail to {to}"));
    let at = mail.text.find("/staff/set-password?token=").unwrap_or_else(|| panic!("no link in {}", mail.text));
    let rest = &mail.text[at + "/staff/set-password?token=".len()..];
    rest.split_whitespace().next().unwrap().to_string()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

async fn started() -> (SmtpSink, Env) {
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { smtp: Some(&smtp), ..Fakes::default() }).await;
    (smtp, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_member_sets_a_password_with_the_mailed_link_once() {
    let (smtp, env) = started().await;
    let api = Api::new(&env);
    let owner = api.demo(demo_data::DEMO_OWNER_EMAIL).await;

    let invite = json!({"email": " Nina@Example.com ", "name": "Nina Novak", "role": "manager"});
    let (status, member) = api.call("POST", "/api/v1/staff/invites", Some(&owner), Some(invite.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{member}");
    assert_eq!((member["status"].as_str(), member["email"].as_str()), (Some("invited"), Some("nina@example.com")));
    let (status, again) = api.call("POST", "/api/v1/staff/invites", Some(&owner), Some(invite)).await;
    assert_eq!((status, again["code"].as_str()), (StatusCode::CONFLICT, Some("ALREADY_STAFF")));

    let token = link_mailed_to(&smtp, "nina@example.com", 1).await;
    // The stored copy of the e-mail withholds the link, and only the token's digest is kept.
    let pg = env.pg().await;
    let stored: String = pg
        .query_one(
            "SELECT content FROM communications WHERE type = 'staff_invitation' AND staff_user_id IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!stored.contains(&token) && stored.contains("[link withheld]"), "{stored}");
    let kept: i64 =
        pg.query_one("SELECT count(*) FROM staff_tokens WHERE purpose = 'invite'", &[]).await.unwrap().get(0);
    assert_eq!(kept, 1);

    // No password yet: sign-in is refused like a wrong one.
    let (status, _) = api.sign_in_as(demo_data::DEMO_ORG_SLUG, "nina@example.com", "", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The page the link opens, then the form it posts.
    let page = reqwest::get(format!("{}/staff/set-password?token={token}", env.base_url())).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("name=\"password\""));
    let form = |password: &str, confirm: &str| {
        let (password, confirm, token) = (password.to_string(), confirm.to_string(), token.clone());
        let url = format!("{}/staff/set-password", env.base_url());
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .form(&[("token", token), ("password", password), ("confirm", confirm)])
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        }
    };
    let (status, body) = form("a long passphrase", "another passphrase").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("not the same"), "{body}");
    let (status, body) = form("short", "short").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("at least 10 characters"), "{body}");
    let (status, body) = form("a long passphrase", "a long passphrase").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Your password is set"));
    // A link works once.
    let (status, body) = form("another passphrase", "another passphrase").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, v) = api
        .call("POST", "/api/v1/auth/set-password", None, Some(json!({"token": token, "password": "x".repeat(12)})))
        .await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("LINK_INVALID")));

    let (status, session) =
        api.sign_in_as(demo_data::DEMO_ORG_SLUG, "nina@example.com", "a long passphrase", None).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["user"]["role"], "manager");
    let audited: Vec<String> = pg
        .query("SELECT action FROM audit_logs WHERE entity = 'staff_user' ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(audited, ["staff.invited", "staff.invitation_accepted"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_and_admins_manage_staff_and_a_suspension_signs_out_at_once() {
    let (_smtp, env) = started().await;
    let api = Api::new(&env);
    let owner = api.demo(demo_data::DEMO_OWNER_EMAIL).await;
    let manager = api.demo(demo_data::DEMO_MANAGER_EMAIL).await;

    let (status, v) = api.call("GET", "/api/v1/staff", Some(&manager), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let invite = json!({"email": "x@example.com", "name": "X", "role": "guide"});
    let (status, _) = api.call("POST", "/api/v1/staff/invites", Some(&manager), Some(invite)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, list) = api.call("GET", "/api/v1/staff", Some(&owner), None).await;
    assert_eq!(status, StatusCode::OK);
    let id_of = |email: &str| {
        list["staff"].as_array().unwrap().iter().find(|m| m["email"] == email).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (owner_id, manager_id) = (id_of(demo_data::DEMO_OWNER_EMAIL), id_of(demo_data::DEMO_MANAGER_EMAIL));

    // Nobody changes their own role; an unknown id is a 404.
    let path = |id: &str| format!("/api/v1/staff/{id}");
    let (status, v) = api.call("PATCH", &path(&owner_id), Some(&owner), Some(json!({"role": "admin"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let (status, _) = api.call("PATCH", &path("no-such-member"), Some(&owner), Some(json!({"role": "admin"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Promoted to admin, the manager may now invite, but not an owner, nor touch the owner.
    let (status, v) = api.call("PATCH", &path(&manager_id), Some(&owner), Some(json!({"role": "admin"}))).await;
    assert_eq!((status, v["role"].as_str()), (StatusCode::OK, Some("admin")), "{v}");
    let as_owner = json!({"email": "o2@example.com", "name": "O2", "role": "owner"});
    let (status, v) = api.call("POST", "/api/v1/staff/invites", Some(&manager), Some(as_owner)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    let (status, _) = api.call("PATCH", &path(&owner_id), Some(&manager), Some(json!({"suspended": true}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Suspended: the session dies at once and the password no longer works; reinstated, it does.
    let (status, v) = api.call("PATCH", &path(&manager_id), Some(&owner), Some(json!({"suspended": true}))).await;
    assert_eq!((status, v["status"].as_str()), (StatusCode::OK, Some("suspended")), "{v}");
    let (status, _) = api.call("GET", "/api/v1/auth/devices", Some(&manager), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) =
        api.sign_in_as(demo_data::DEMO_ORG_SLUG, demo_data::DEMO_MANAGER_EMAIL, demo_data::DEMO_PASSWORD, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = api.call("PATCH", &path(&manager_id), Some(&owner), Some(json!({"suspended": false}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) =
        api.sign_in_as(demo_data::DEMO_ORG_SLUG, demo_data::DEMO_MANAGER_EMAIL, demo_data::DEMO_PASSWORD, None).await;
    assert_eq!(status, StatusCode::OK);

    let pg = env.pg().await;
    let row = pg
        .query_one(
            "SELECT before, after FROM audit_logs WHERE action = 'staff.updated' AND entity_id = $1 ORDER BY id LIMIT 1",
            &[&manager_id],
        )
        .await
        .unwrap();
    let (before, after): (Value, Value) = (row.get(0), row.get(1));
    assert_eq!((before["role"].as_str(), after["role"].as_str()), (Some("manager"), Some("admin")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forgotten_password_is_reset_by_email_and_old_sessions_end() {
    let (smtp, env) = started().await;
    let api = Api::new(&env);
    let old_session = api.demo(demo_data::DEMO_MANAGER_EMAIL).await;

    // Unknown accounts get the same answer, and no mail.
    let ask = |email: &str| json!({"organization": demo_data::DEMO_ORG_SLUG, "email": email});
    let (status, unknown) =
        api.call("POST", "/api/v1/auth/password-reset", None, Some(ask("nobody@example.com"))).await;
    let (status2, known) =
        api.call("POST", "/api/v1/auth/password-reset", None, Some(ask(demo_data::DEMO_MANAGER_EMAIL))).await;
    assert_eq!((status, status2), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    assert_eq!(unknown, known);
    let token = link_mailed_to(&smtp, demo_data::DEMO_MANAGER_EMAIL, 1).await;
    assert_eq!(smtp.messages().len(), 1, "nothing was mailed for the unknown address");

    let (status, v) = api
        .call("POST", "/api/v1/auth/set-password", None, Some(json!({"token": token, "password": "new password 2026"})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{v}");
    let (status, _) = api.call("GET", "/api/v1/auth/devices", Some(&old_session), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a reset signs out every device");
    let (status, _) =
        api.sign_in_as(demo_data::DEMO_ORG_SLUG, demo_data::DEMO_MANAGER_EMAIL, demo_data::DEMO_PASSWORD, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) =
        api.sign_in_as(demo_data::DEMO_ORG_SLUG, demo_data::DEMO_MANAGER_EMAIL, "new password 2026", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_guards_sign_in_and_recovery_codes_work_once() {
    let (_smtp, env) = started().await;
    let api = Api::new(&env);
    let token = api.demo(demo_data::DEMO_OWNER_EMAIL).await;
    let org = demo_data::DEMO_ORG_SLUG;
    let (owner, password) = (demo_data::DEMO_OWNER_EMAIL, demo_data::DEMO_PASSWORD);

    let (status, v) =
        api.call("POST", "/api/v1/auth/mfa/enrol", Some(&token), Some(json!({"password": "not it at all"}))).await;
    assert_eq!((status, v["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("password")));
    let (status, enrolment) =
        api.call("POST", "/api/v1/auth/mfa/enrol", Some(&token), Some(json!({"password": password}))).await;
    assert_eq!(status, StatusCode::OK, "{enrolment}");
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    assert!(enrolment["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/Tourdesk%20Demo%20Tours:"));
    // Not on until confirmed: signing in still needs no code.
    assert_eq!(api.sign_in_as(org, owner, password, None).await.0, StatusCode::OK);

    let (status, v) = api.call("POST", "/api/v1/auth/mfa/confirm", Some(&token), Some(json!({"code": "000000"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let code = mfa::code_at(&secret, unix_now()).unwrap();
    let (status, codes) = api.call("POST", "/api/v1/auth/mfa/confirm", Some(&token), Some(json!({"code": code}))).await;
    assert_eq!(status, StatusCode::OK, "{codes}");
    let codes: Vec<String> = serde_json::from_value(codes["codes"].clone()).unwrap();
    assert_eq!(codes.len(), 10);

    let (status, v) = api.sign_in_as(org, owner, password, None).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("MFA_REQUIRED")));
    let (status, v) = api.sign_in_as(org, owner, password, Some("123")).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("MFA_INVALID")));
    // The code that confirmed enrolment has been used.
    let (status, v) = api.sign_in_as(org, owner, password, Some(&code)).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("MFA_INVALID")), "a code works once");
    // A wrong password with a right code is still a wrong password.
    let next = mfa::code_at(&secret, unix_now() + 30).unwrap();
    let (status, v) = api.sign_in_as(org, owner, "wrong password", Some(&next)).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("UNAUTHORIZED")));
    let (status, v) = api.sign_in_as(org, owner, password, Some(&next)).await;
    assert_eq!(status, StatusCode::OK, "{v}");

    let (status, _) = api.sign_in_as(org, owner, password, Some(&codes[0].to_lowercase())).await;
    assert_eq!(status, StatusCode::OK, "a recovery code, typed in lower case");
    let (status, v) = api.sign_in_as(org, owner, password, Some(&codes[0])).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("MFA_INVALID")), "once only");

    let off = json!({"password": password, "code": codes[1]});
    assert_eq!(api.call("POST", "/api/v1/auth/mfa/disable", Some(&token), Some(off)).await.0, StatusCode::NO_CONTENT);
    assert_eq!(api.sign_in_as(org, owner, password, None).await.0, StatusCode::OK);
    let pg = env.pg().await;
    let left: i64 = pg.query_one("SELECT count(*) FROM staff_recovery_codes", &[]).await.unwrap().get(0);
    assert_eq!(left, 0, "turning MFA off drops the recovery codes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_creates_an_organization_whose_owner_signs_in() {
    let (smtp, env) = started().await;
    let api = Api::new(&env);
    let config = &env.server_config;
    // As the server runs: the application role, bound by row-level security.
    let pool = tourdesk_sync_server::db::connect(config).unwrap();
    let mailer = tourdesk_sync_server::mail::Mailer::new(&config.mail).unwrap();
    let new = NewOrganization {
        slug: "lisbon-walks".into(),
        name: "Lisbon Walks".into(),
        owner_email: "ana@lisbonwalks.example".into(),
        owner_name: "Ana".into(),
        currency: "EUR".into(),
        timezone: "Europe/Lisbon".into(),
        locale: "pt-PT".into(),
        country_code: Some("PT".into()),
    };
    let created = accounts::create_organization(&pool, &config.mail, &mailer, &new).await.unwrap();
    let token = link_mailed_to(&smtp, "ana@lisbonwalks.example", 1).await;
    assert!(created.invitation_url.ends_with(&token));

    let again = accounts::create_organization(&pool, &config.mail, &mailer, &new).await.unwrap_err();
    assert!(again.to_string().contains("exists already"), "{again}");
    let bad = NewOrganization { timezone: "Lisbon".into(), slug: "other".into(), ..new.clone() };
    let e = accounts::create_organization(&pool, &config.mail, &mailer, &bad).await.unwrap_err();
    assert!(matches!(&e, tourdesk_sync_server::AppError::BadRequest { field: Some(f), .. } if f == "timezone"), "{e}");

    let body = json!({"token": token, "password": "olá lisboa 2026"});
    assert_eq!(api.call("POST", "/api/v1/auth/set-password", None, Some(body)).await.0, StatusCode::NO_CONTENT);
    let (status, session) = api.sign_in_as("lisbon-walks", "ana@lisbonwalks.example", "olá lisboa 2026", None).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(
        (session["user"]["role"].as_str(), session["user"]["organization_name"].as_str()),
        (Some("owner"), Some("Lisbon Walks"))
    );
    // The desk gives customers it creates the organization's language and currency.
    assert_eq!(
        (session["user"]["organization_language"].as_str(), session["user"]["organization_currency"].as_str()),
        (Some("pt-PT"), Some("EUR"))
    );
    let row = env
        .pg()
        .await
        .query_one("SELECT default_currency, locale, country_code FROM organizations WHERE slug = 'lisbon-walks'", &[])
        .await
        .unwrap();
    let got: (String, String, Option<String>) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(got, ("EUR".into(), "pt-PT".into(), Some("PT".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organization_settings_are_read_by_staff_changed_by_owners_and_admins_and_reach_the_session() {
    let (_smtp, env) = started().await;
    let api = Api::new(&env);
    let owner = api.demo(demo_data::DEMO_OWNER_EMAIL).await;
    let manager = api.demo(demo_data::DEMO_MANAGER_EMAIL).await;

    let (status, before) = api.call("GET", "/api/v1/organization", Some(&manager), None).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    assert_eq!(before["slug"], demo_data::DEMO_ORG_SLUG);
    let change = json!({"currency": "eur", "locale": "pt_PT", "country_code": "pt", "timezone": "Europe/Lisbon"});
    let (status, v) = api.call("PATCH", "/api/v1/organization", Some(&manager), Some(change.clone())).await;
    assert_eq!((status, v["code"].as_str()), (StatusCode::FORBIDDEN, Some("FORBIDDEN")), "{v}");

    // A bad field is refused at its name and nothing is saved, not even the good fields beside it.
    let bad = json!({"currency": "EUR", "timezone": "Lisbon"});
    let (status, v) = api.call("PATCH", "/api/v1/organization", Some(&owner), Some(bad)).await;
    assert_eq!((status, v["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("timezone")), "{v}");
    let (_, unchanged) = api.call("GET", "/api/v1/organization", Some(&owner), None).await;
    assert_eq!(unchanged, before);
    let (status, v) = api.call("PATCH", "/api/v1/organization", Some(&owner), Some(json!({"slug": "x"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the slug is not a setting: {v}");

    let (status, after) = api.call("PATCH", "/api/v1/organization", Some(&owner), Some(change)).await;
    assert_eq!(status, StatusCode::OK, "{after}");
    assert_eq!(
        (&after["currency"], &after["locale"], &after["country_code"], &after["timezone"]),
        (&json!("EUR"), &json!("pt-PT"), &json!("PT"), &json!("Europe/Lisbon"))
    );
    assert_eq!(after["name"], before["name"]);
    let audited: Vec<(String, Value)> = env
        .pg()
        .await
        .query("SELECT action, after FROM audit_logs WHERE entity = 'organization' ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(audited, [("organization.updated".to_string(), after.clone())]);

    // Desks learn the new defaults with their next session.
    let (_, session) =
        api.sign_in_as(demo_data::DEMO_ORG_SLUG, demo_data::DEMO_MANAGER_EMAIL, demo_data::DEMO_PASSWORD, None).await;
    assert_eq!(
        (session["user"]["organization_language"].as_str(), session["user"]["organization_currency"].as_str()),
        (Some("pt-PT"), Some("EUR"))
    );
}

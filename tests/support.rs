//! Shared set-up for the cross-tier tests: a server with demo data on a fresh database of a
//! throwaway cluster, and desks on their own SQLite files.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

pub mod harness;
pub mod web;

use tourdesk_local_store::{Credentials, Store, SyncClient};
use tourdesk_sync_server::{Config, RunningServer, demo_data};
use tourdesk_testkit::PgCluster;

pub struct Env {
    pub cluster: PgCluster,
    /// The database as its owner (a superuser): for tests that look at or arrange rows directly.
    pub db_url: String,
    /// What the server was started with (a restart reuses it, on the same address).
    pub server_config: Config,
    pub server: Option<RunningServer>,
    pub addr: std::net::SocketAddr,
    pub dir: tempfile::TempDir,
}

/// The webhook signing secret the test servers are configured with.
pub const WEBHOOK_SECRET: &str = "whsec_tourdesk_tests";

/// What a test server talks to instead of the internet, and the knobs tests turn.
#[derive(Default)]
pub struct Fakes<'a> {
    pub stripe: Option<&'a tourdesk_testkit::stripe::FakeStripe>,
    pub smtp: Option<&'a tourdesk_testkit::smtp::SmtpSink>,
    pub hold_seconds: Option<u64>,
    /// `(per second, burst)`; tests run without a limit unless they ask for one.
    pub rate_limit: Option<(u32, u32)>,
}

pub fn config(db_url: &str, listen: &str) -> Config {
    configured(db_url, listen, &Fakes::default())
}

/// `db_url` is the owner's (the superuser's): migrations and the demo data use it, the server
/// itself runs as the testkit's application role, bound by row-level security as in production.
pub fn configured(db_url: &str, listen: &str, fakes: &Fakes<'_>) -> Config {
    let mut c = Config {
        database_url: tourdesk_testkit::as_app(db_url),
        migrate_database_url: Some(db_url.into()),
        listen: listen.into(),
        // Demo data and the fakes' keys are development settings.
        dev_mode: true,
        demo_data: true,
        pool_size: 8,
        ..Config::default()
    };
    c.stripe.webhook_secret = WEBHOOK_SECRET.into();
    if let Some(s) = fakes.stripe {
        c.stripe.api_base = Some(s.uri());
    }
    if let Some(m) = fakes.smtp {
        c.mail.smtp_url = Some(m.url());
    }
    c.booking.jobs_interval_ms = 200;
    if let Some(h) = fakes.hold_seconds {
        c.booking.hold_seconds = h;
    }
    let (per_second, burst) = fakes.rate_limit.unwrap_or((0, 0));
    c.booking.rate_limit_per_second = per_second;
    c.booking.rate_limit_burst = burst;
    c
}

impl Env {
    pub async fn start() -> Env {
        Env::start_faked(Fakes::default()).await
    }

    /// Starts with the test configuration changed by `tweak` (say, a one-second access token).
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Env {
        Env::boot(|db_url| {
            let mut c = config(db_url, "127.0.0.1:0");
            tweak(&mut c);
            c
        })
        .await
    }

    /// Starts talking to the given fakes (Stripe, SMTP) with the given knobs.
    pub async fn start_faked(fakes: Fakes<'_>) -> Env {
        Env::boot(|db_url| configured(db_url, "127.0.0.1:0", &fakes)).await
    }

    /// Like [`Env::start`], on a PostgreSQL that commits durably (fsync and synchronous_commit
    /// on, as a deployment runs it): what the benches measure.
    pub async fn start_durable() -> Env {
        Env::boot_on(PgCluster::start_durable().unwrap(), |db_url| configured(db_url, "127.0.0.1:0", &Fakes::default()))
            .await
    }

    async fn boot(make: impl FnOnce(&str) -> Config) -> Env {
        Env::boot_on(PgCluster::start().unwrap(), make).await
    }

    async fn boot_on(cluster: PgCluster, make: impl FnOnce(&str) -> Config) -> Env {
        let db_url = cluster.fresh_database().await.unwrap();
        let server_config = make(&db_url);
        let server = tourdesk_sync_server::start(server_config.clone()).await.unwrap();
        let addr = server.addr;
        Env { cluster, db_url, server_config, server: Some(server), addr, dir: tempfile::tempdir().unwrap() }
    }

    pub fn webhook_secret(&self) -> String {
        WEBHOOK_SECRET.into()
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Delivers a Stripe event to this server's webhook, signed now with the test secret, as
    /// Stripe would; the server must accept it (200), else the test stops with its answer.
    pub async fn deliver_stripe_event(&self, event: &str) {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/stripe/webhook", self.base_url()))
            .header(
                "Stripe-Signature",
                tourdesk_testkit::stripe::sign(event, WEBHOOK_SECRET, chrono::Utc::now().timestamp()),
            )
            .header("Content-Type", "application/json")
            .body(event.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status();
        assert_eq!(
            status,
            reqwest::StatusCode::OK,
            "the webhook refused the event: {}",
            r.text().await.unwrap_or_default()
        );
    }

    pub async fn stop_server(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await.unwrap();
        }
    }

    /// Restarts on the same address, as a real server coming back would.
    pub async fn restart_server(&mut self) {
        self.stop_server().await;
        let c = Config { listen: self.addr.to_string(), ..self.server_config.clone() };
        let s = tourdesk_sync_server::start(c).await.unwrap();
        self.server = Some(s);
    }

    pub fn desk_path(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.sqlite3"))
    }

    pub fn desk(&self, name: &str) -> Store {
        Store::open(&self.desk_path(name)).unwrap()
    }

    pub fn client(&self, email: &str) -> SyncClient {
        SyncClient::new(
            &self.base_url(),
            Credentials {
                organization: demo_data::DEMO_ORG_SLUG.into(),
                email: email.into(),
                password: demo_data::DEMO_PASSWORD.into(),
                device: "test desk".into(),
            },
        )
        .unwrap()
    }

    pub async fn pg(&self) -> tokio_postgres::Client {
        tourdesk_testkit::connect(&self.db_url).await.unwrap()
    }

    /// Two departures of one active tour on different local dates, more than five days out, each
    /// with room for two: `(from, to, tour, to's local date)`, for tests that move a booking.
    pub async fn two_later_dates(&self) -> (String, String, String, String) {
        let rows = self
            .pg()
            .await
            .query(
                "SELECT s.id, s.tour_id, s.local_date::text FROM schedules s JOIN tours t ON t.id = s.tour_id
                 WHERE t.status = 'active' AND s.status = 'open' AND s.capacity - s.booked_count >= 2
                   AND s.starts_at > now() + interval '5 days'
                 ORDER BY s.tour_id, s.starts_at, s.id",
                &[],
            )
            .await
            .unwrap();
        let pair = rows
            .windows(2)
            .find(|w| {
                w[0].get::<_, String>(1) == w[1].get::<_, String>(1)
                    && w[0].get::<_, String>(2) != w[1].get::<_, String>(2)
            })
            .expect("a tour with two later dates");
        (pair[0].get(0), pair[1].get(0), pair[0].get(1), pair[1].get(2))
    }

    /// The one integer `sql` selects, as the owner (a count, say).
    pub async fn scalar(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> i64 {
        tourdesk_testkit::scalar(&self.pg().await, sql, params).await.unwrap()
    }
}

/// The id a `create_tour.v1` mutation creates.
pub fn tour_id(m: &tourdesk_domain::mutation::Mutation) -> String {
    m.args()["id"].as_str().unwrap().to_string()
}

/// Arguments of a `create_tour.v1` mutation with a fresh id.
pub fn new_tour(name: &str) -> tourdesk_domain::mutation::Mutation {
    let args = serde_json::json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "name": name,
        "duration_minutes": 120,
        "default_capacity": 14,
        "category": "walking",
        "timezone": "Europe/London",
    });
    tourdesk_domain::mutation::Mutation::decode("create_tour.v1", &args).unwrap()
}

/// Signs in over HTTP as a demo staff member and returns the bearer token.
pub async fn sign_in(env: &Env, email: &str) -> String {
    sign_in_to(env, demo_data::DEMO_ORG_SLUG, email).await
}

/// Signs in to organization `org` with the demo password and returns the bearer token.
pub async fn sign_in_to(env: &Env, org: &str, email: &str) -> String {
    let body = serde_json::json!({
        "organization": org,
        "email": email,
        "password": demo_data::DEMO_PASSWORD,
        "device": "integration test",
    });
    let (status, resp) = call(&env.base_url(), "POST", "/api/v1/auth/sign-in", None, Some(body)).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{resp}");
    resp["access_token"].as_str().unwrap().to_string()
}

/// One JSON call to the server at `base`: the status and the body (`null` when it is not JSON).
pub async fn call(
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (reqwest::StatusCode, serde_json::Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = reqwest::Client::new().request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// Sends a push request behind any desk's back and returns the server's answer.
pub async fn push_raw(
    base_url: &str,
    token: &str,
    req: &tourdesk_domain::protocol::PushRequest,
) -> tourdesk_domain::protocol::PushResponse {
    let resp = reqwest::Client::new()
        .post(format!("{base_url}/sync/v1/push"))
        .bearer_auth(token)
        .json(req)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.json().await.unwrap()
}

/// A mutation from its name and JSON arguments (a test's own literals: a bad one is a test bug).
pub fn m(name: &str, args: serde_json::Value) -> tourdesk_domain::mutation::Mutation {
    tourdesk_domain::mutation::Mutation::decode(name, &args).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A fresh UUID, as desks make ids and nonces.
pub fn nonce() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An open departure more than a day out with nothing sold: (departure, tour, first tier).
pub async fn empty_departure(env: &Env) -> (String, String, String) {
    let row = env
        .pg()
        .await
        .query_one(
            "SELECT s.id, s.tour_id, p.id FROM schedules s
             JOIN pricing_tiers p ON p.tour_id = s.tour_id
             WHERE s.status = 'open' AND s.booked_count = 0 AND s.capacity >= 4
               AND s.starts_at > now() + interval '1 day'
               -- Callers write amounts with two decimals. The demo's Kyoto tour is in yen, which has
               -- none, and which tour starts first depends on the hour the test runs.
               AND p.currency <> 'JPY'
             ORDER BY s.starts_at, p.sort_order, p.id LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

/// A phone booking of `seats` made on `desk` for a new customer with `email` on `dep`
/// (from [`empty_departure`]): pending and unpaid.
pub fn phone_booking(desk: &Store, dep: &(String, String, String), email: &str, seats: u32) -> String {
    use chrono::{Datelike, Utc};
    let customer = nonce();
    desk.mutate(&m(
        "create_customer.v1",
        serde_json::json!({"id": customer, "email": email, "first_name": "Pat", "last_name": "Phone",
               "hlc": tourdesk_domain::hlc::Hlc::at(Utc::now(), 0, "desk").to_string()}),
    ))
    .unwrap();
    let id = nonce();
    desk.mutate(&m(
        "create_booking.v1",
        serde_json::json!({"id": id, "tour_id": dep.1, "departure_id": dep.0, "customer_id": customer,
               "lines": [{"tier_id": dep.2, "quantity": seats}], "reference_year": Utc::now().year(),
               "reference_entropy": uuid::Uuid::new_v4().as_u64_pair().0}),
    ))
    .unwrap();
    id
}

/// A website booking of `seats` on `departure` at `tier`, paid through the fake Stripe (the
/// webhook delivered): (booking id, total paid in minor units).
pub async fn paid_website_booking(
    env: &Env,
    stripe: &tourdesk_testkit::stripe::FakeStripe,
    departure: &str,
    tier: &str,
    email: &str,
    seats: u32,
) -> (String, i64) {
    let req = serde_json::json!({
        "request_id": nonce(),
        "departure_id": departure,
        "customer": {"email": email, "first_name": "Grace", "last_name": "Hopper"},
        "lines": [{"tier_id": tier, "quantity": seats}],
    });
    let url = format!("{}/api/v1/orgs/{}/bookings", env.base_url(), demo_data::DEMO_ORG_SLUG);
    let r = reqwest::Client::new().post(url).json(&req).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let created: serde_json::Value = r.json().await.unwrap();
    let intent = created["payment"]["payment_intent_id"].as_str().unwrap().to_string();
    env.deliver_stripe_event(&stripe.succeed(&intent)).await;
    let b = &created["booking"];
    (b["id"].as_str().unwrap().to_string(), b["price"]["total"]["amount_minor"].as_i64().unwrap())
}

/// The refunds asked of the fake Stripe: (idempotency key, amount), in order.
pub fn refunds_sent(stripe: &tourdesk_testkit::stripe::FakeStripe) -> Vec<(Option<String>, Option<String>)> {
    stripe
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/refunds" && r.method == "POST")
        .map(|r| (r.idempotency_key.clone(), r.field("amount").map(str::to_string)))
        .collect()
}

/// Mutation `id` of a push made behind any desk's back ([`push_raw`]), stamped now.
pub fn raw_envelope(id: u64, m: tourdesk_domain::mutation::Mutation) -> tourdesk_domain::protocol::MutationEnvelope {
    tourdesk_domain::protocol::MutationEnvelope {
        id,
        name: m.name().into(),
        args: m.args(),
        hlc: tourdesk_domain::hlc::Hlc::at(chrono::Utc::now(), id, "raw").to_string(),
    }
}

/// A desk called `name` signed in as `email`, synced once: (its store, its client).
pub async fn synced_desk(env: &Env, name: &str, email: &str) -> (Store, SyncClient) {
    let (desk, client) = (env.desk(name), env.client(email));
    client.sync_once(&desk).await.unwrap();
    (desk, client)
}

/// `pdftotext` of a PDF, as text (poppler-utils; `cargo xtask` installs it for tests).
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", path.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(out.status.success(), "pdftotext could not read the PDF: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

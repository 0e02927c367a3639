//! Row-level security binds the server. Every other suite runs the server as the testkit's
//! application role (a `tourdesk_app` member: no superuser, no BYPASSRLS, no table of its own), so
//! a statement that forgets its tenant fails there; this one shows that the role is bound (no
//! tenant: no row, no write), that the server refuses a role that would not be, and that a
//! schema owner who is no superuser can migrate and load the demo data for it.
#![allow(clippy::unwrap_used)]

use tokio_postgres::error::SqlState;
use tourdesk_sync_server::{Config, demo_data};
use tourdesk_testkit::stripe::{FakeStripe, sign};
use tourdesk_testkit::{APP_ROLE, PgCluster, as_app, as_role, connect};
use tourdesk_tests::{Env, Fakes, WEBHOOK_SECRET, call, config, new_tour, push_raw, sign_in};

/// Every table that carries tenant rows: those with `organization_id`, the organizations
/// themselves, and the mutation outcomes keyed by client.
async fn tenant_tables(pg: &tokio_postgres::Client) -> Vec<String> {
    let rows = pg
        .query(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relkind = 'r'
               AND (c.relname IN ('organizations', 'sync_mutation_results')
                    OR EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'organization_id'
                               AND NOT a.attisdropped))
             ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

async fn count(pg: &impl tokio_postgres::GenericClient, table: &str) -> i64 {
    pg.query_one(&format!("SELECT count(*) FROM {table}"), &[]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_its_tenant_the_server_role_sees_no_row_and_writes_none() {
    let env = Env::start().await;
    // Rows in the sign-in, device and sync tables too, not only the demo data's.
    let token = sign_in(&env, demo_data::DEMO_OWNER_EMAIL).await;
    let req = tourdesk_domain::protocol::PushRequest {
        client_id: uuid::Uuid::new_v4().to_string(),
        schema_version: tourdesk_domain::protocol::SCHEMA_VERSION,
        mutations: vec![tourdesk_domain::protocol::MutationEnvelope {
            id: 1,
            name: "create_tour.v1".into(),
            args: new_tour("Row-level tour").args(),
            hlc: format!("{:013}-{:08}-test", chrono::Utc::now().timestamp_millis(), 0),
        }],
    };
    push_raw(&env.base_url(), &token, &req).await;

    let owner = env.pg().await;
    let mut app = connect(&as_app(&env.db_url)).await.unwrap();
    let who: String = app.query_one("SELECT current_user::text", &[]).await.unwrap().get(0);
    assert_eq!(who, APP_ROLE);
    let tables = tenant_tables(&owner).await;
    assert!(tables.len() >= 30, "{tables:?}");
    let mut filled = Vec::new();
    for t in &tables {
        let (all, seen) = (count(&owner, t).await, count(&app, t).await);
        assert_eq!(seen, 0, "{t}: {seen} of {all} rows visible without a tenant");
        if all > 0 {
            filled.push(t.as_str());
        }
    }
    for t in [
        "organizations",
        "staff_users",
        "staff_devices",
        "staff_sessions",
        "staff_refresh_tokens",
        "tours",
        "schedules",
        "bookings",
        "sync_clients",
        "sync_mutation_results",
        "sync_changes",
        "audit_logs",
    ] {
        assert!(filled.contains(&t), "{t} has rows for the owner, so seeing none proves something: {filled:?}");
    }

    // The same role with its tenant set sees that organization's rows: it is the policy, not a grant.
    let org: String = owner
        .query_one("SELECT id FROM organizations WHERE slug = $1", &[&demo_data::DEMO_ORG_SLUG])
        .await
        .unwrap()
        .get(0);
    let tx = app.transaction().await.unwrap();
    tx.execute("SELECT set_config('app.organization_id', $1, true)", &[&org]).await.unwrap();
    assert_eq!(count(&tx, "tours").await, count(&owner, "tours").await);
    tx.commit().await.unwrap();

    // Writing without a tenant is refused, not silently dropped.
    let e = app
        .execute(
            "INSERT INTO tours (id, organization_id, name, slug, duration_minutes, default_capacity, category, timezone)
             VALUES ('t-x', $1, 'Stray', 'stray', 60, 10, 'walking', 'UTC')",
            &[&org],
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE), "{e}");
    let n = app.execute("UPDATE tours SET name = 'x' WHERE organization_id = $1", &[&org]).await.unwrap();
    assert_eq!(n, 0, "an update without a tenant touches nothing");
    // Neither the migration history nor the lookups' owner's rights are the application's.
    assert!(app.query("SELECT * FROM refinery_schema_history", &[]).await.is_err());
    assert!(app.batch_execute("SET ROLE tourdesk_lookup").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_refuses_a_role_that_row_level_security_does_not_bind() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let owner = connect(&db_url).await.unwrap();
    let start_as = |url: String| {
        let mut c = config(&db_url, "127.0.0.1:0");
        c.database_url = url;
        c
    };

    // The owner migrates and loads the demo data before the check; the runtime role is what is refused.
    let e = tourdesk_sync_server::start(start_as(db_url.clone())).await.err().expect("a superuser is refused");
    assert!(format!("{e:#}").contains("is a superuser"), "{e:#}");

    owner.batch_execute("CREATE ROLE rls_bypasser LOGIN BYPASSRLS IN ROLE tourdesk_app").await.unwrap();
    let e = tourdesk_sync_server::start(start_as(as_role(&db_url, "rls_bypasser"))).await.err().expect("BYPASSRLS");
    assert!(format!("{e:#}").contains("has BYPASSRLS"), "{e:#}");

    owner
        .batch_execute("CREATE ROLE rls_owner LOGIN IN ROLE tourdesk_app; ALTER TABLE tours OWNER TO rls_owner")
        .await
        .unwrap();
    let e = tourdesk_sync_server::start(start_as(as_role(&db_url, "rls_owner"))).await.err().expect("an owner");
    assert!(format!("{e:#}").contains("owns tables (tours)"), "{e:#}");
    owner.batch_execute("ALTER TABLE tours OWNER TO postgres").await.unwrap();

    // A member of a superuser role could SET ROLE to it.
    owner.batch_execute("CREATE ROLE rls_climber LOGIN IN ROLE tourdesk_app, postgres").await.unwrap();
    let e = tourdesk_sync_server::start(start_as(as_role(&db_url, "rls_climber"))).await.err().expect("a member");
    assert!(format!("{e:#}").contains("is a superuser"), "{e:#}");

    // The owner of the schema can drop any table in it, policies and all.
    owner
        .batch_execute(
            "CREATE ROLE rls_schema_owner LOGIN IN ROLE tourdesk_app; ALTER SCHEMA public OWNER TO rls_schema_owner",
        )
        .await
        .unwrap();
    let e = tourdesk_sync_server::start(start_as(as_role(&db_url, "rls_schema_owner"))).await.err().expect("schema");
    assert!(format!("{e:#}").contains("owns the schema"), "{e:#}");
    owner.batch_execute("ALTER SCHEMA public OWNER TO pg_database_owner").await.unwrap();

    // A member of the lookups' owner could SET ROLE to it and read every organization's rows.
    owner.batch_execute("CREATE ROLE rls_looker LOGIN IN ROLE tourdesk_app, tourdesk_lookup").await.unwrap();
    let e = tourdesk_sync_server::start(start_as(as_role(&db_url, "rls_looker"))).await.err().expect("a lookup member");
    assert!(format!("{e:#}").contains("member of tourdesk_lookup"), "{e:#}");

    let server = tourdesk_sync_server::start(start_as(as_app(&db_url))).await.unwrap();
    server.shutdown().await.unwrap();

    // Production: migrated beforehand by the owner (`tourdesk-sync-server migrate`), the server
    // starts as the application role alone, with no owner URL at all.
    let mut c = start_as(as_app(&db_url));
    (c.migrate_database_url, c.demo_data) = (None, false);
    let server = tourdesk_sync_server::start(c).await.unwrap();
    let (status, _) = call(&format!("http://{}", server.addr), "GET", "/api/v1/orgs/demo/tours", None, None).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    server.shutdown().await.unwrap();

    // Loading the demo data is the owner's: without its URL the server says so instead of loading it as itself.
    let mut c = start_as(as_app(&db_url));
    c.migrate_database_url = None;
    let e = tourdesk_sync_server::start(c).await.err().expect("demo_data without the owner");
    assert!(format!("{e:#}").contains("migrate_database_url"), "{e:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_owner_that_is_no_superuser_migrates_and_loads_demo_data_for_the_server() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let db = db_url.rsplit('/').next().unwrap().to_string();
    let root = connect(&db_url).await.unwrap();
    root.batch_execute(&format!(
        "CREATE ROLE td_owner LOGIN CREATEROLE; ALTER DATABASE {db} OWNER TO td_owner;
         ALTER SCHEMA public OWNER TO td_owner"
    ))
    .await
    .unwrap();
    let owner_url = as_role(&db_url, "td_owner");
    let c = Config { migrate_database_url: Some(owner_url.clone()), ..config(&db_url, "127.0.0.1:0") };
    let server = tourdesk_sync_server::start(c).await.unwrap();
    let env_like = format!("http://{}", server.addr);
    let resp = reqwest::Client::new()
        .post(format!("{env_like}/api/v1/auth/sign-in"))
        .json(&serde_json::json!({
            "organization": demo_data::DEMO_ORG_SLUG,
            "email": demo_data::DEMO_OWNER_EMAIL,
            "password": demo_data::DEMO_PASSWORD,
            "device": "owner test",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), reqwest::StatusCode::OK, "{}", resp.text().await.unwrap());
    server.shutdown().await.unwrap();

    // FORCE'd tables bind the owner as well: without a tenant it sees none of what it loaded.
    let owner = connect(&owner_url).await.unwrap();
    assert_eq!(count(&owner, "organizations").await, 0);
    assert_eq!(count(&root, "organizations").await, 1);
    // The lookups' role was lent to the owner only while it handed over the functions.
    let member: bool =
        owner.query_one("SELECT pg_has_role(current_user, 'tourdesk_lookup', 'MEMBER')", &[]).await.unwrap().get(0);
    assert!(!member);
}

/// What issue 18 saw fail once the server ran as a role row-level security binds, each through
/// the server as that role: sign-in (the device was inserted before the tenant was set: 500),
/// refresh, and a signed `payment_intent.succeeded` (looked up before any tenant, it found no
/// payment, was recorded as processed and left the booking unpaid for good). The server started
/// with the owner's URL, so it migrated; afterwards every connection it holds is the
/// application role's: the owner's were for the migration only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_refresh_and_a_webhook_payment_work_as_the_app_role_which_is_all_the_server_connects_as() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let base = env.base_url();
    let admin = env.pg().await;

    let body = serde_json::json!({
        "organization": demo_data::DEMO_ORG_SLUG,
        "email": demo_data::DEMO_OWNER_EMAIL,
        "password": demo_data::DEMO_PASSWORD,
        "device": "row-level security test",
    });
    let (status, signed_in) = call(&base, "POST", "/api/v1/auth/sign-in", None, Some(body)).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{signed_in}");
    let device = signed_in["device_id"].as_str().unwrap();
    let devices: i64 = admin
        .query_one("SELECT count(*) FROM staff_devices WHERE id = $1 AND name = 'row-level security test'", &[&device])
        .await
        .unwrap()
        .get(0);
    assert_eq!(devices, 1, "the device is stored in its organization");
    let refresh = serde_json::json!({"refresh_token": signed_in["refresh_token"]});
    let (status, refreshed) = call(&base, "POST", "/api/v1/auth/refresh", None, Some(refresh)).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{refreshed}");
    let (status, _) = call(&base, "GET", "/api/v1/auth/devices", refreshed["access_token"].as_str(), None).await;
    assert_eq!(status, reqwest::StatusCode::OK, "the refreshed token works");

    // A website booking, paid through a signed webhook event.
    let org = demo_data::DEMO_ORG_SLUG;
    let (_, tours) = call(&base, "GET", &format!("/api/v1/orgs/{org}/tours"), None, None).await;
    let (from, to) = (chrono::Utc::now().date_naive(), chrono::Utc::now().date_naive() + chrono::Duration::days(20));
    let mut offer = None;
    for t in tours.as_array().unwrap() {
        let slug = t["slug"].as_str().unwrap();
        let path = format!("/api/v1/orgs/{org}/tours/{slug}/availability?from={from}&to={to}");
        let (_, a) = call(&base, "GET", &path, None, None).await;
        offer = a["departures"].as_array().unwrap().iter().find(|d| d["seats_left"].as_u64() >= Some(1)).cloned();
        if offer.is_some() {
            break;
        }
    }
    let departure = offer.expect("a departure with a free seat in the demo data");
    let request = serde_json::json!({
        "request_id": uuid::Uuid::new_v4().to_string(),
        "departure_id": departure["id"],
        "customer": {"email": "rls@example.com", "first_name": "Row", "last_name": "Level"},
        "lines": [{"tier_id": departure["prices"][0]["tier_id"], "quantity": 1}],
    });
    let (status, created) = call(&base, "POST", &format!("/api/v1/orgs/{org}/bookings"), None, Some(request)).await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{created}");
    let booking = created["booking"]["id"].as_str().unwrap();
    let intent = created["payment"]["payment_intent_id"].as_str().unwrap();
    let event = stripe.succeed(intent);
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/stripe/webhook"))
        .header("Stripe-Signature", sign(&event, WEBHOOK_SECRET, chrono::Utc::now().timestamp()))
        .header("Content-Type", "application/json")
        .body(event)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let paid = admin
        .query_one(
            "SELECT b.status, b.payment_status, e.issue FROM bookings b, stripe_events e
             WHERE b.id = $1 AND e.type = 'payment_intent.succeeded'",
            &[&booking],
        )
        .await
        .unwrap();
    let paid: (String, String, Option<String>) = (paid.get(0), paid.get(1), paid.get(2));
    assert_eq!(paid, ("confirmed".into(), "paid".into(), None));

    // Every connection of the server (its pool, its LISTEN, its jobs) is the application role's.
    let roles = admin
        .query(
            "SELECT DISTINCT usename::text FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
            &[],
        )
        .await
        .unwrap();
    let roles: Vec<String> = roles.iter().map(|r| r.get(0)).collect();
    assert_eq!(roles, [APP_ROLE]);
}

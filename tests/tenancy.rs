//! Tenant isolation and roles across every door of the server: a signed-in member of
//! organization B reaches nothing of organization A (sync push and pull, devices, the public
//! API under B's name), and each role does only what the permission table (`tourdesk_domain::roles`) allows.
#![allow(clippy::unwrap_used)]

use chrono::{Datelike, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tourdesk_domain::protocol::{MutationEnvelope, OutcomeStatus, PushRequest, SCHEMA_VERSION, org_bucket};
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::stripe::FakeStripe;
use tourdesk_tests::{Env, Fakes, push_raw, sign_in};

const OTHER_OWNER: &str = "owner@other.test";

/// A second organization, `other`, with an owner who uses the demo password.
async fn other_org(env: &Env) -> String {
    let pg = env.pg().await;
    let org = uuid::Uuid::new_v4().to_string();
    pg.execute(
        "INSERT INTO organizations (id, name, slug, business_email) VALUES ($1, 'Other Tours', 'other', 'ops@other.test')",
        &[&org],
    )
    .await
    .unwrap();
    let hash = tourdesk_sync_server::auth::hash_password(demo_data::DEMO_PASSWORD).unwrap();
    pg.execute(
        "INSERT INTO staff_users (id, organization_id, email, name, role, password_hash)
         VALUES ($1, $2, $3, 'Otto Other', 'owner', $4)",
        &[&uuid::Uuid::new_v4().to_string(), &org, &OTHER_OWNER, &hash],
    )
    .await
    .unwrap();
    org
}

async fn sign_in_other(env: &Env) -> String {
    tourdesk_tests::sign_in_to(env, "other", OTHER_OWNER).await
}

/// Pushes one mutation as a new client; returns its verdict code (None when applied).
async fn push_one(env: &Env, token: &str, name: &str, args: Value) -> Option<String> {
    let req = PushRequest {
        client_id: uuid::Uuid::new_v4().to_string(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![MutationEnvelope { id: 1, name: name.into(), args, hlc: hlc() }],
    };
    let resp = push_raw(&env.base_url(), token, &req).await;
    let r = &resp.results[0];
    match r.status {
        OutcomeStatus::Applied => None,
        OutcomeStatus::Rejected => r.code.clone(),
    }
}

fn hlc() -> String {
    tourdesk_testkit::hlc_now("test")
}

/// An org-A tour, one of its departures and tiers, and a website booking on it.
struct OrgA {
    tour_id: String,
    departure_id: String,
    tier_id: String,
    booking_id: String,
    reference: String,
}

async fn org_a_data(env: &Env) -> OrgA {
    let pg = env.pg().await;
    let row = pg
        .query_one(
            "SELECT s.tour_id, s.id, p.id FROM schedules s JOIN pricing_tiers p ON p.tour_id = s.tour_id
             WHERE s.status = 'open' AND s.booked_count < s.capacity AND s.starts_at > now() + interval '3 days'
             ORDER BY s.starts_at LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (tour_id, departure_id, tier_id): (String, String, String) = (row.get(0), row.get(1), row.get(2));
    let r: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/orgs/{}/bookings", env.base_url(), demo_data::DEMO_ORG_SLUG))
        .json(&json!({
            "departure_id": departure_id,
            "customer": {"email": "alice@a.test", "first_name": "Alice", "last_name": "A"},
            "lines": [{"tier_id": tier_id, "quantity": 1}],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let booking_id = r["booking"]["id"].as_str().unwrap_or_else(|| panic!("{r}")).to_string();
    let reference = r["booking"]["reference"].as_str().unwrap().to_string();
    OrgA { tour_id, departure_id, tier_id, booking_id, reference }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organizations_token_reaches_nothing() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let a = org_a_data(&env).await;
    let org_b = other_org(&env).await;
    let b = sign_in_other(&env).await;
    let org_a: String =
        env.pg().await.query_one("SELECT id FROM organizations WHERE slug = 'demo'", &[]).await.unwrap().get(0);

    // Pulling A's bucket.
    let r = reqwest::Client::new()
        .post(format!("{}/sync/v1/pull", env.base_url()))
        .bearer_auth(&b)
        .json(&json!({"client_id": uuid::Uuid::new_v4().to_string(), "schema_version": SCHEMA_VERSION,
                      "cursors": {org_bucket(&org_a): 0}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // B's own pull carries nothing of A.
    let r: Value = reqwest::Client::new()
        .post(format!("{}/sync/v1/pull", env.base_url()))
        .bearer_auth(&b)
        .json(&json!({"client_id": uuid::Uuid::new_v4().to_string(), "schema_version": SCHEMA_VERSION}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!r.to_string().contains(&a.tour_id), "B's pull leaks A's tour");
    let own = [org_bucket(&org_b), tourdesk_domain::protocol::audit_bucket(&org_b)];
    assert!(r["buckets"].as_array().unwrap().iter().all(|b| own.iter().any(|o| b["bucket"] == *o)), "{r}");

    // Writing A's rows through mutations: each is "not found" in B, and nothing changes in A.
    let edits = [
        ("update_tour.v1", json!({"id": a.tour_id, "name": "Hijacked"})),
        ("set_departure_capacity.v1", json!({"departure_id": a.departure_id, "capacity": 99})),
        (
            "create_booking.v1",
            json!({"id": uuid::Uuid::new_v4().to_string(), "tour_id": a.tour_id, "departure_id": a.departure_id,
                   "customer_id": uuid::Uuid::new_v4().to_string(), "lines": [{"tier_id": a.tier_id, "quantity": 1}],
                   "reference_year": Utc::now().year(), "reference_entropy": 7}),
        ),
        (
            "cancel_booking.v1",
            json!({"booking_id": a.booking_id, "tour_id": a.tour_id, "departure_id": a.departure_id}),
        ),
    ];
    for (name, args) in edits {
        let code = push_one(&env, &b, name, args).await;
        assert_eq!(code.as_deref(), Some("NOT_FOUND"), "{name}");
    }
    // Unassigning A's guide from A's departure (the demo data's assignment): refused like the rest,
    // not "applied" with nothing changed.
    let pg = env.pg().await;
    let assignment = "SELECT departure_id, guide_id FROM schedule_guide_assignments ORDER BY id LIMIT 1";
    let (dep, guide): (String, String) = {
        let r = pg.query_one(assignment, &[]).await.unwrap();
        (r.get(0), r.get(1))
    };
    let code = push_one(&env, &b, "unassign_guide.v1", json!({"departure_id": dep, "guide_id": guide})).await;
    assert_eq!(code.as_deref(), Some("NOT_FOUND"), "unassign_guide.v1");
    let still: i64 = pg
        .query_one(
            "SELECT count(*) FROM schedule_guide_assignments WHERE departure_id = $1 AND guide_id = $2",
            &[&dep, &guide],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(still, 1, "A's assignment is untouched");
    let (name, capacity, status): (String, i32, String) = {
        let r = pg
            .query_one(
                "SELECT t.name, s.capacity, b.status FROM tours t JOIN schedules s ON s.tour_id = t.id
                 JOIN bookings b ON b.departure_id = s.id WHERE b.id = $1",
                &[&a.booking_id],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    assert_ne!(name, "Hijacked");
    assert_ne!(capacity, 99);
    assert_eq!(status, "pending");
    // A creating an id that A already uses, from B: refused, not overwritten.
    let code = push_one(
        &env,
        &b,
        "create_tour.v1",
        json!({"id": a.tour_id, "name": "Twin", "duration_minutes": 60,
        "default_capacity": 5, "category": "walking", "timezone": "Europe/Lisbon"}),
    )
    .await;
    assert_eq!(code.as_deref(), Some("CONFLICT"));

    // The public API under B's name does not open A's rows either.
    let c = reqwest::Client::new();
    let quote = c
        .post(format!("{}/api/v1/orgs/other/quotes", env.base_url()))
        .json(&json!({"departure_id": a.departure_id, "lines": [{"tier_id": a.tier_id, "quantity": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(quote.status(), StatusCode::NOT_FOUND);
    let lookup = c
        .post(format!("{}/api/v1/orgs/other/bookings/lookup", env.base_url()))
        .json(&json!({"reference": a.reference, "email": "alice@a.test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(lookup.status(), StatusCode::NOT_FOUND);
    let tour = c.get(format!("{}/api/v1/orgs/other/tours/{}", env.base_url(), a.tour_id)).send().await.unwrap();
    assert_eq!(tour.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_do_what_the_permission_table_says() {
    let env = Env::start().await;
    let pg = env.pg().await;
    let row = pg
        .query_one(
            "SELECT s.id, s.capacity FROM schedules s WHERE s.booked_count = 0 ORDER BY s.starts_at LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (departure_id, capacity): (String, i32) = (row.get(0), row.get(1));
    let tour = |name: &str| {
        json!({"id": uuid::Uuid::new_v4().to_string(), "name": name, "duration_minutes": 60, "default_capacity": 5,
               "category": "walking", "timezone": "Europe/Lisbon"})
    };
    let owner = sign_in(&env, demo_data::DEMO_OWNER_EMAIL).await;
    let manager = sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let guide = sign_in(&env, demo_data::DEMO_GUIDE_EMAIL).await;

    assert_eq!(push_one(&env, &owner, "create_tour.v1", tour("Owner's")).await, None);
    assert_eq!(push_one(&env, &manager, "create_tour.v1", tour("Manager's")).await.as_deref(), Some("NOT_AUTHORIZED"));
    assert_eq!(push_one(&env, &guide, "create_tour.v1", tour("Guide's")).await.as_deref(), Some("NOT_AUTHORIZED"));
    let cap = json!({"departure_id": departure_id, "capacity": capacity + 1});
    assert_eq!(push_one(&env, &manager, "set_departure_capacity.v1", cap.clone()).await, None);
    assert_eq!(push_one(&env, &guide, "set_departure_capacity.v1", cap).await.as_deref(), Some("NOT_AUTHORIZED"));
    // Guides see the device list of themselves only; managers cannot revoke others' devices.
    let r: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/auth/devices", env.base_url()))
        .bearer_auth(&guide)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let devices = r["devices"].as_array().unwrap();
    assert!(!devices.is_empty() && devices.iter().all(|d| d["current"] == true), "{r}");
}

//! Schedules (issue 12 item 4) pushed from a desk to a real server and PostgreSQL: a pattern
//! generated across New York's spring-forward is stored exactly as the desk previewed it; a
//! one-off departure and notes replicate; a capacity below the seats sold is rejected with the
//! domain's reason, and accepted with a manager's reason that lands in the audit row.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tourdesk_domain::availability::DstResolution;
use tourdesk_domain::mutation::{GenerateDeparturesV1, Mutation};
use tourdesk_domain::protocol::{MutationEnvelope, OutcomeStatus, PushRequest, SCHEMA_VERSION};
use tourdesk_sync_server::demo_data;
use tourdesk_tests::{Env, m, push_raw, sign_in};

fn push(name: &str, args: Value) -> PushRequest {
    PushRequest {
        client_id: uuid::Uuid::new_v4().to_string(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![MutationEnvelope {
            id: 1,
            name: name.into(),
            args,
            hlc: tourdesk_domain::hlc::Hlc::at(Utc::now(), 1, "raw").to_string(),
        }],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_pattern_across_dst_is_saved_as_previewed_and_one_offs_and_notes_replicate() {
    let env = Env::start().await;
    let desk = env.desk("scheduling");
    let client = env.client(demo_data::DEMO_OWNER_EMAIL);
    client.sync_once(&desk).await.unwrap();

    let (tour, variant) = (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string());
    desk.mutate(&m(
        "create_tour.v1",
        json!({"id": tour, "name": "Harbor lights", "duration_minutes": 90, "default_capacity": 14,
               "category": "walking", "timezone": "America/New_York"}),
    ))
    .unwrap();
    desk.mutate(&m("create_variant.v1", json!({"id": variant, "tour_id": tour, "name": "Night"}))).unwrap();
    // Sundays at 02:30 over New York's 2027 spring-forward (14 March): that day 02:30 does not
    // exist and the departure moves to 03:00 EDT.
    let args: GenerateDeparturesV1 = serde_json::from_value(json!({
        "tour_id": tour, "variant_id": variant, "from": "2027-03-07", "until": "2027-03-21", "capacity": 9,
        "pattern": {"type": "recurring", "days_of_week": [0], "start_times": ["02:30:00"],
                    "valid_from": null, "valid_until": null, "excluded_dates": []}}))
    .unwrap();
    let plan = desk.preview_generation(&args).unwrap();
    let marks: Vec<(String, DstResolution)> =
        plan.departures.iter().map(|p| (p.departure.starts_at.to_rfc3339(), p.dst)).collect();
    let shifted = DstResolution::ShiftedForward { requested: chrono::NaiveTime::from_hms_opt(2, 30, 0).unwrap() };
    assert_eq!(
        marks,
        [
            ("2027-03-07T07:30:00+00:00".to_string(), DstResolution::Exact),
            ("2027-03-14T07:00:00+00:00".to_string(), shifted),
            ("2027-03-21T06:30:00+00:00".to_string(), DstResolution::Exact),
        ]
    );
    desk.mutate(&Mutation::GenerateDeparturesV1(args)).unwrap();

    let one_off = json!({"tour_id": tour, "variant_id": variant, "local_date": "2027-03-27", "local_time": "20:00:00",
                         "notes": "Private group"});
    desk.mutate(&m("create_departure.v1", one_off.clone())).unwrap();
    let first = &plan.departures[0].departure.id;
    desk.mutate(&m("set_departure_notes.v1", json!({"departure_id": first, "notes": "Meet at pier 17"}))).unwrap();
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections());

    let rows = env
        .pg()
        .await
        .query(
            "SELECT id, local_time::text, starts_at, capacity, notes FROM schedules WHERE tour_id = $1
             ORDER BY starts_at",
            &[&tour],
        )
        .await
        .unwrap();
    let got: Vec<(String, String, DateTime<Utc>, i32, String)> =
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))).collect();
    assert_eq!(got.len(), 4, "{got:?}");
    for (p, row) in plan.departures.iter().zip(&got) {
        assert_eq!((&p.departure.id, p.departure.starts_at, 9), (&row.0, row.2, row.3), "stored as previewed");
    }
    assert_eq!(got[1].1, "03:00:00", "the gap's start is stored at the time it moved to");
    assert_eq!(got[0].4, "Meet at pier 17");
    assert_eq!((got[3].1.as_str(), got[3].3, got[3].4.as_str()), ("20:00:00", 14, "Private group"));

    // Another desk receives the notes; the same one-off pushed again is rejected at its field.
    let other = env.desk("other");
    let other_client = env.client(demo_data::DEMO_MANAGER_EMAIL);
    other_client.sync_once(&other).await.unwrap();
    let cal = other.calendar("2027-03-01".parse().unwrap(), "2027-03-31".parse().unwrap()).unwrap();
    let mine: Vec<_> = cal.iter().filter(|c| c.departure.tour_id == tour).collect();
    assert_eq!(mine.len(), 4);
    assert_eq!((mine[0].departure.notes.as_str(), mine[0].tour_name.as_str()), ("Meet at pier 17", "Harbor lights"));
    let token = sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let resp = push_raw(&env.base_url(), &token, &push("create_departure.v1", one_off)).await;
    assert_eq!(resp.results[0].status, OutcomeStatus::Rejected);
    assert_eq!(resp.results[0].code.as_deref(), Some("CONFLICT"));
}

/// A departure of the demo data with seats sold by its seeded bookings.
async fn sold_departure(env: &Env) -> (String, i32, i32) {
    let r = env
        .pg()
        .await
        .query_one(
            "SELECT id, booked_count, capacity FROM schedules
             WHERE booked_count >= 2 AND status IN ('open', 'full') AND starts_at > now()
             ORDER BY starts_at, id LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    (r.get(0), r.get(1), r.get(2))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_below_seats_sold_is_refused_unless_a_manager_gives_a_reason() {
    let env = Env::start().await;
    let (dep, booked, capacity) = sold_departure(&env).await;
    let below = u32::try_from(booked - 1).unwrap();
    let manager = sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;

    // No reason: the domain's reason, nothing written.
    let resp = push_raw(
        &env.base_url(),
        &manager,
        &push("set_departure_capacity.v1", json!({"departure_id": dep, "capacity": below})),
    )
    .await;
    assert_eq!(resp.results[0].status, OutcomeStatus::Rejected);
    assert_eq!(resp.results[0].code.as_deref(), Some("CAPACITY_BELOW_BOOKED"));
    let cap: i32 =
        env.pg().await.query_one("SELECT capacity FROM schedules WHERE id = $1", &[&dep]).await.unwrap().get(0);
    assert_eq!(cap, capacity);

    // A manager's reason: applied, the departure full, the reason in the audit row.
    let resp = push_raw(
        &env.base_url(),
        &manager,
        &push(
            "set_departure_capacity.v1",
            json!({"departure_id": dep, "capacity": below, "override_reason": "Smaller boat after the storm"}),
        ),
    )
    .await;
    assert_eq!(resp.results[0].status, OutcomeStatus::Applied, "{:?}", resp.results[0]);
    let r = env
        .pg()
        .await
        .query_one("SELECT capacity, booked_count, status FROM schedules WHERE id = $1", &[&dep])
        .await
        .unwrap();
    assert_eq!((r.get::<_, i32>(0), r.get::<_, i32>(1), r.get::<_, String>(2)), (booked - 1, booked, "full".into()));
    let audit = env
        .pg()
        .await
        .query_one(
            "SELECT a.after, u.email FROM audit_logs a JOIN staff_users u ON u.id = a.actor_user_id
             WHERE a.action = 'departure.capacity_below_booked' AND a.entity_id = $1",
            &[&dep],
        )
        .await
        .unwrap();
    let (detail, actor): (Value, String) = (audit.get(0), audit.get(1));
    assert_eq!(detail["reason"], "Smaller boat after the storm");
    assert_eq!(
        (detail["capacity"].as_i64(), detail["booked"].as_i64()),
        (Some(i64::from(booked - 1)), Some(i64::from(booked)))
    );
    assert_eq!(actor, demo_data::DEMO_MANAGER_EMAIL);

    // A guide is refused outright.
    let guide = sign_in(&env, demo_data::DEMO_GUIDE_EMAIL).await;
    let resp = push_raw(
        &env.base_url(),
        &guide,
        &push("set_departure_notes.v1", json!({"departure_id": dep, "notes": "I changed it"})),
    )
    .await;
    assert_eq!(resp.results[0].code.as_deref(), Some("NOT_AUTHORIZED"));
}

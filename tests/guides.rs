//! Guides across the tiers (issue 14): a guide created on one desk reaches the server and every
//! office desk with all of their profile; two desks assigning the same guide offline to
//! overlapping departures end with one assignment, the other desk's in its conflict inbox with
//! every conflict named; the guide is told by e-mail exactly once.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::json;
use tourdesk_domain::guides::AssignmentRole;
use tourdesk_domain::mutation::Mutation;
use tourdesk_local_store::{Store, SyncClient};
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_tests::{Env, Fakes};

fn m(name: &str, args: serde_json::Value) -> Mutation {
    Mutation::decode(name, &args).unwrap()
}

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn synced(env: &Env, email: &str, name: &str) -> (Store, SyncClient) {
    let desk = env.desk(name);
    let client = env.client(email);
    client.sync_once(&desk).await.unwrap();
    (desk, client)
}

/// Two open departures starting within a few hours of each other, a day or more out, that no
/// guide leads yet.
async fn two_close_departures(pg: &tokio_postgres::Client) -> (String, String) {
    let row = pg
        .query_one(
            "SELECT a.id, b.id FROM schedules a JOIN schedules b
               ON b.organization_id = a.organization_id AND b.id > a.id
              AND b.starts_at BETWEEN a.starts_at - interval '6 hours' AND a.starts_at + interval '6 hours'
             WHERE a.status = 'open' AND b.status = 'open' AND a.starts_at > now() + interval '1 day'
               AND NOT EXISTS (SELECT 1 FROM schedule_guide_assignments x WHERE x.departure_id IN (a.id, b.id))
             ORDER BY a.starts_at LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_offline_desks_assign_one_guide_to_overlapping_departures_and_one_wins() {
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { smtp: Some(&smtp), ..Fakes::default() }).await;
    let pg = env.pg().await;
    let (a, client_a) = synced(&env, demo_data::DEMO_OWNER_EMAIL, "a").await;
    let (b, client_b) = synced(&env, demo_data::DEMO_MANAGER_EMAIL, "b").await;

    // A manager's desk creates a guide with every part of a profile.
    let tours: Vec<String> = pg.query("SELECT id FROM tours", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
    let all_day: serde_json::Value =
        (0..7).map(|d| (d.to_string(), json!([{"start": "00:00", "end": "24:00"}]))).collect();
    let guide = id();
    b.mutate(&m(
        "upsert_guide.v1",
        json!({"id": guide, "first_name": "Rui", "last_name": "Costa", "email": "rui@example.com",
               "phone": "+351 912 000 999", "languages": ["pt", "en"], "timezone": "Europe/Lisbon",
               "weekly_availability": all_day, "status": "active", "qualified_tour_ids": tours,
               "bio": "Born in Alfama.", "photo_url": "https://example.com/rui.jpg",
               "emergency_contact": "Ana Costa +351 912 000 998",
               "time_off": [{"start": "2030-01-01", "end": "2030-01-07", "reason": "Holiday"}]}),
    ))
    .unwrap();
    assert!(b.guides().unwrap().iter().any(|g| g.guide.id == guide && g.pending), "pending on the desk at once");
    client_b.sync_once(&b).await.unwrap();
    assert!(b.rejections().unwrap().is_empty(), "{:?}", b.rejections().unwrap());
    let row = pg
        .query_one("SELECT emergency_contact, time_off::text, photo, bio FROM guides WHERE id = $1", &[&guide])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<String>>(0).as_deref(), Some("Ana Costa +351 912 000 998"));
    assert!(row.get::<_, String>(1).contains("2030-01-07"));
    assert_eq!(row.get::<_, Option<String>>(2).as_deref(), Some("https://example.com/rui.jpg"));
    let qualified: i64 = pg
        .query_one("SELECT count(*) FROM tour_guide_assignments WHERE guide_id = $1", &[&guide])
        .await
        .unwrap()
        .get(0);
    assert_eq!(qualified, tours.len() as i64);
    client_a.sync_once(&a).await.unwrap();
    let on_a = a.guides().unwrap().into_iter().find(|g| g.guide.id == guide).expect("the other desk has the guide");
    assert!(!on_a.pending);
    assert_eq!(on_a.guide.time_off.len(), 1);
    assert_eq!(on_a.guide.emergency_contact.as_deref(), Some("Ana Costa +351 912 000 998"));

    // Both desks offline: each puts the guide on one of two departures close together, with
    // a turnaround that makes them overlap. Each desk alone sees no conflict.
    let (dep1, dep2) = two_close_departures(&pg).await;
    let assign = |dep: &str| {
        m(
            "assign_guide.v2",
            json!({"id": id(), "departure_id": dep, "guide_id": guide, "role": "lead", "turnaround_minutes": 720}),
        )
    };
    a.mutate(&assign(&dep1)).unwrap();
    b.mutate(&assign(&dep2)).unwrap();
    let from = chrono::Utc::now().date_naive();
    let board = b.guide_board(from, from + chrono::Days::new(30)).unwrap();
    let on_board = board.departures.iter().find(|d| d.departure.departure.id == dep2).unwrap();
    assert!(on_board.assignments.iter().any(|x| x.guide_id == guide && x.pending && x.role == AssignmentRole::Lead));
    assert!(!on_board.unassigned());

    client_a.sync_once(&a).await.unwrap();
    client_b.sync_once(&b).await.unwrap();
    client_a.sync_once(&a).await.unwrap();

    let on_server: Vec<String> = pg
        .query("SELECT departure_id FROM schedule_guide_assignments WHERE guide_id = $1", &[&guide])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(on_server, std::slice::from_ref(&dep1), "the server accepted exactly the first desk's");
    assert!(a.rejections().unwrap().is_empty());
    let inbox = b.rejections().unwrap();
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!((inbox[0].name.as_str(), inbox[0].code.as_deref()), ("assign_guide.v2", Some("GUIDE_CONFLICT")));
    assert!(inbox[0].detail.as_deref().unwrap_or_default().contains(&dep1), "names the overlap: {:?}", inbox[0]);
    // Both desks agree with the server: the losing assignment left the board.
    for desk in [&a, &b] {
        let board = desk.guide_board(from, from + chrono::Days::new(30)).unwrap();
        let led: Vec<&str> = board
            .departures
            .iter()
            .filter(|d| d.assignments.iter().any(|x| x.guide_id == guide))
            .map(|d| d.departure.departure.id.as_str())
            .collect();
        assert_eq!(led, [dep1.as_str()]);
    }

    // The guide heard of the assignment that stood, once.
    let mails = smtp.wait_for(1, Duration::from_secs(15)).await;
    let to_guide: Vec<_> = mails.iter().filter(|x| x.to == ["rui@example.com"]).collect();
    assert_eq!(to_guide.len(), 1, "{mails:?}");
    assert!(to_guide[0].subject.starts_with("New assignment:"), "{}", to_guide[0].subject);
    assert!(to_guide[0].text.contains("lead guide"), "{}", to_guide[0].text);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(smtp.messages().iter().filter(|x| x.to == ["rui@example.com"]).count(), 1, "and only once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_overrides_a_conflict_with_a_reason_and_it_is_audited() {
    let env = Env::start().await;
    let pg = env.pg().await;
    let (desk, client) = synced(&env, demo_data::DEMO_MANAGER_EMAIL, "m").await;
    let guide = id();
    // Qualified for nothing and never available: every assignment conflicts.
    desk.mutate(&m(
        "upsert_guide.v1",
        json!({"id": guide, "first_name": "Eva", "email": "eva@example.com", "languages": ["en"],
               "timezone": "Europe/Lisbon", "status": "active"}),
    ))
    .unwrap();
    let (dep, _) = two_close_departures(&pg).await;
    let args = json!({"id": id(), "departure_id": dep, "guide_id": guide, "role": "assistant"});
    // Refused on the desk at once, every conflict named, nothing queued.
    let err = desk.mutate(&m("assign_guide.v2", args.clone())).unwrap_err().to_string();
    assert!(err.contains("not qualified") && err.contains("not available"), "{err}");
    let mut forced = args;
    forced["override_reason"] = json!("Shadowing Gina on her first week");
    desk.mutate(&m("assign_guide.v2", forced)).unwrap();
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    let row = pg
        .query_one(
            "SELECT role, override_reason FROM schedule_guide_assignments WHERE guide_id = $1 AND departure_id = $2",
            &[&guide, &dep],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "assistant");
    assert_eq!(row.get::<_, Option<String>>(1).as_deref(), Some("Shadowing Gina on her first week"));
    let audited = pg
        .query_one(
            "SELECT count(*) FROM audit_logs WHERE action = 'guide_assignment.overridden'
               AND after::text LIKE '%Shadowing Gina%' AND after::text LIKE '%not_qualified%'",
            &[],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(audited, 1);
}

/// Signs in as the demo guide; answers their token, their guide id, a departure they lead with
/// a booking, and one with a booking that another guide leads.
async fn guide_and_another_guides_departure(env: &Env) -> (String, String, String, String, String) {
    let pg = env.pg().await;
    let token = tourdesk_tests::sign_in(env, demo_data::DEMO_GUIDE_EMAIL).await;
    let mine = pg
        .query_one(
            "SELECT a.guide_id, a.departure_id FROM schedule_guide_assignments a JOIN guides g ON g.id = a.guide_id
             JOIN staff_users u ON u.id = g.user_id WHERE u.email = $1 ORDER BY a.departure_id LIMIT 1",
            &[&demo_data::DEMO_GUIDE_EMAIL],
        )
        .await
        .unwrap();
    let (guide_id, my_dep): (String, String) = (mine.get(0), mine.get(1));
    // Another guide, who leads a departure with a booking on it.
    let other_guide = id();
    pg.execute(
        "INSERT INTO guides (id, organization_id, first_name, last_name, email)
         SELECT $1, organization_id, 'Olga', 'Other', 'olga@example.com' FROM guides WHERE id = $2",
        &[&other_guide, &guide_id],
    )
    .await
    .unwrap();
    let row = pg
        .query_one(
            "SELECT b.departure_id, b.id FROM bookings b WHERE NOT EXISTS (
                 SELECT 1 FROM schedule_guide_assignments a WHERE a.departure_id = b.departure_id) LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (other_dep, other_booking): (String, String) = (row.get(0), row.get(1));
    pg.execute(
        "INSERT INTO schedule_guide_assignments (id, organization_id, departure_id, guide_id, status)
         SELECT $1, organization_id, $2, $3, 'confirmed' FROM guides WHERE id = $3",
        &[&id(), &other_dep, &other_guide],
    )
    .await
    .unwrap();
    (token, guide_id, my_dep, other_dep, other_booking)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guides_token_is_refused_on_another_guides_departure_for_every_mutation_and_the_pull() {
    use tourdesk_domain::protocol::{MutationEnvelope, OutcomeStatus, PushRequest, SCHEMA_VERSION, schedule_bucket};
    let env = Env::start().await;
    let (token, guide_id, _mine, dep, booking) = guide_and_another_guides_departure(&env).await;
    let pg = env.pg().await;
    let before: i64 = pg
        .query_one(
            "SELECT (SELECT count(*) FROM check_ins) + (SELECT count(*) FROM schedule_guide_assignments)
                  + (SELECT count(*) FROM bookings) + (SELECT count(*) FROM audit_logs)
                  + (SELECT count(*) FROM departure_incidents)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let schedule: (String, i32, String) = {
        let r = pg.query_one("SELECT notes, capacity, status FROM schedules WHERE id = $1", &[&dep]).await.unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    let now = chrono::Utc::now();
    // Every mutation that names a departure, aimed at the other guide's.
    let attempts = [
        (
            "check_in.v1",
            json!({"nonce": id(), "booking_id": booking, "departure_id": dep, "participant": 0, "at": now}),
        ),
        (
            "mark_no_show.v1",
            json!({"nonce": id(), "booking_id": booking, "departure_id": dep, "participant": 0, "at": now}),
        ),
        ("set_departure_notes.v1", json!({"departure_id": dep, "notes": "mine now"})),
        ("record_departure_incident.v1", json!({"nonce": id(), "departure_id": dep, "at": now, "text": "mine now"})),
        ("set_departure_status.v1", json!({"departure_id": dep, "status": "closed"})),
        ("set_departure_capacity.v1", json!({"departure_id": dep, "capacity": 1})),
        ("cancel_departure.v1", json!({"departure_id": dep, "reason": "Storm"})),
        ("assign_guide.v1", json!({"id": id(), "departure_id": dep, "guide_id": guide_id})),
        ("assign_guide.v2", json!({"id": id(), "departure_id": dep, "guide_id": guide_id, "role": "assistant"})),
        ("unassign_guide.v1", json!({"departure_id": dep, "guide_id": guide_id})),
        ("cancel_booking.v1", json!({"booking_id": booking, "reason": "customer"})),
        (
            "upsert_guide.v1",
            json!({"id": guide_id, "first_name": "Gina", "email": "gina@example.com",
                                   "languages": ["en"], "timezone": "Europe/Lisbon", "status": "active"}),
        ),
    ];
    let mutations: Vec<MutationEnvelope> = attempts
        .iter()
        .enumerate()
        .map(|(i, (name, args))| MutationEnvelope {
            id: i as u64 + 1,
            name: (*name).into(),
            args: args.clone(),
            hlc: format!("{:013}-{:08}-test", now.timestamp_millis(), i),
        })
        .collect();
    let req = PushRequest { client_id: id(), schema_version: SCHEMA_VERSION, mutations };
    let resp = tourdesk_tests::push_raw(&env.base_url(), &token, &req).await;
    assert_eq!(resp.results.len(), attempts.len());
    for (r, (name, _)) in resp.results.iter().zip(&attempts) {
        assert_eq!(r.status, OutcomeStatus::Rejected, "{name}: {r:?}");
    }
    let after: i64 = pg
        .query_one(
            "SELECT (SELECT count(*) FROM check_ins) + (SELECT count(*) FROM schedule_guide_assignments)
                  + (SELECT count(*) FROM bookings) + (SELECT count(*) FROM audit_logs)
                  + (SELECT count(*) FROM departure_incidents)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(after, before, "nothing written");
    let r = pg.query_one("SELECT notes, capacity, status FROM schedules WHERE id = $1", &[&dep]).await.unwrap();
    assert_eq!((r.get::<_, String>(0), r.get::<_, i32>(1), r.get::<_, String>(2)), schedule);

    // The field's HTTP routes on the other guide's departure: seats for her device and its
    // manifest are refused with a reason, and nothing is set aside.
    let base = env.base_url();
    let held: i32 = pg.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&dep]).await.unwrap().get(0);
    let routes = [
        ("POST", "/api/v1/allotments".to_string(), Some(json!({"departure_id": dep, "seats": 1}))),
        ("GET", format!("/api/v1/departures/{dep}/manifest?format=csv"), None),
        ("GET", format!("/api/v1/departures/{dep}/manifest?format=pdf"), None),
    ];
    for (method, path, body) in routes {
        let (status, answer) = tourdesk_tests::call(&base, method, &path, Some(&token), body).await;
        assert!(status == 403 || status == 404, "{method} {path}: {status} {answer}");
        assert!(answer["code"].is_string() && answer["message"].is_string(), "{method} {path} says why: {answer}");
    }
    // The list of a departure's allotments shows a guide only her own device's: none here.
    let (status, list) =
        tourdesk_tests::call(&base, "GET", &format!("/api/v1/departures/{dep}/allotments"), Some(&token), None).await;
    assert_eq!((status.as_u16(), list), (200, json!([])));
    let allotments: i64 =
        pg.query_one("SELECT count(*) FROM allotments WHERE departure_id = $1", &[&dep]).await.unwrap().get(0);
    let still: i32 = pg.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&dep]).await.unwrap().get(0);
    assert_eq!((allotments, still), (0, held), "no seats set aside on another guide's departure");

    // Pulling the other guide's departure: answered as removed, nothing of it served.
    let body = json!({"client_id": id(), "schema_version": SCHEMA_VERSION,
                      "cursors": {schedule_bucket(&dep): 0}, "limit": 5000});
    let (status, page) = tourdesk_tests::call(&env.base_url(), "POST", "/sync/v1/pull", Some(&token), Some(body)).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{page}");
    assert_eq!(page["removed_buckets"], json!([schedule_bucket(&dep)]));
    let served = page["buckets"].as_array().unwrap();
    assert!(served.iter().all(|b| b["bucket"] != json!(schedule_bucket(&dep))), "{page}");
    let text = page.to_string();
    assert!(!text.contains(&booking) && !text.contains(&format!("\"id\":\"{dep}\"")), "nothing of it: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guide_mode_shows_only_my_departures_and_a_check_in_made_offline_arrives() {
    let mut env = Env::start().await;
    let (_token, _guide_id, mine, other, _) = guide_and_another_guides_departure(&env).await;
    let (guide, client) = synced(&env, demo_data::DEMO_GUIDE_EMAIL, "guide").await;
    let pg = env.pg().await;
    let local_date: chrono::NaiveDate =
        pg.query_one("SELECT local_date FROM schedules WHERE id = $1", &[&mine]).await.unwrap().get(0);
    let shown = guide.my_departures(local_date, local_date + chrono::Days::new(6)).unwrap();
    assert!(shown.iter().any(|d| d.departure.departure.id == mine), "{shown:?}");
    assert!(guide.departure(&other).unwrap().is_none(), "another guide's departure is not on the device at all");
    // Every departure on the device is one the guide leads.
    let week = guide.calendar(local_date, local_date + chrono::Days::new(30)).unwrap();
    let led: Vec<String> = pg
        .query(
            "SELECT departure_id FROM schedule_guide_assignments a JOIN guides g ON g.id = a.guide_id
                JOIN staff_users u ON u.id = g.user_id WHERE u.email = $1",
            &[&demo_data::DEMO_GUIDE_EMAIL],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(week.iter().all(|d| led.contains(&d.departure.id)), "{week:?}");

    // Offline: one tap checks a guest in; it shows as pending and is sent when the server is back.
    env.stop_server().await;
    let manifest = guide.manifest(&mine).unwrap().unwrap();
    let b = &manifest.bookings[0];
    guide
        .mutate(&m(
            "check_in.v1",
            json!({"nonce": id(), "booking_id": b.booking_id, "departure_id": mine, "participant": 0,
                   "at": chrono::Utc::now()}),
        ))
        .unwrap();
    assert!(guide.manifest(&mine).unwrap().unwrap().bookings[0].participants[0].attendance_pending);
    assert!(client.sync_once(&guide).await.is_err(), "no server");
    env.restart_server().await;
    client.sync_once(&guide).await.unwrap();
    assert!(guide.rejections().unwrap().is_empty(), "{:?}", guide.rejections().unwrap());
    let checked: i64 = pg
        .query_one("SELECT count(*) FROM check_ins WHERE booking_id = $1 AND kind = 'checked_in'", &[&b.booking_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(checked, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_in_made_offline_arrives_after_the_office_took_the_departure_away() {
    use tourdesk_domain::protocol::{MutationEnvelope, OutcomeStatus, PushRequest, SCHEMA_VERSION};
    let mut env = Env::start().await;
    let (_token, guide_id, mine, other, other_booking) = guide_and_another_guides_departure(&env).await;
    let (guide, client) = synced(&env, demo_data::DEMO_GUIDE_EMAIL, "guide").await;
    let (office, office_client) = synced(&env, demo_data::DEMO_MANAGER_EMAIL, "office").await;
    let pg = env.pg().await;

    // The guide is offline and checks a guest in on their departure.
    env.stop_server().await;
    let manifest = guide.manifest(&mine).unwrap().unwrap();
    let b = manifest.bookings[0].clone();
    guide
        .mutate(&m(
            "check_in.v1",
            json!({"nonce": id(), "booking_id": b.booking_id, "departure_id": mine, "participant": 0,
                   "at": chrono::Utc::now()}),
        ))
        .unwrap();
    assert!(client.sync_once(&guide).await.is_err(), "no server");

    // Meanwhile the office takes the departure away from the guide.
    env.restart_server().await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    office.mutate(&m("unassign_guide.v1", json!({"departure_id": mine, "guide_id": guide_id}))).unwrap();
    office_client.sync_once(&office).await.unwrap();
    assert!(office.rejections().unwrap().is_empty(), "{:?}", office.rejections().unwrap());
    let assigned: i64 = pg
        .query_one(
            "SELECT count(*) FROM schedule_guide_assignments WHERE departure_id = $1 AND guide_id = $2",
            &[&mine, &guide_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(assigned, 0, "unassigned on the server");

    // The guide reconnects: the check-in is applied and the departure leaves their device.
    client.sync_once(&guide).await.unwrap();
    client.sync_once(&guide).await.unwrap();
    assert!(guide.rejections().unwrap().is_empty(), "{:?}", guide.rejections().unwrap());
    let checked: i64 = pg
        .query_one(
            "SELECT count(*) FROM check_ins WHERE booking_id = $1 AND kind = 'checked_in' AND participant = 0",
            &[&b.booking_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(checked, 1, "the check-in made while the guide led the departure is delivered");
    assert!(guide.departure(&mine).unwrap().is_none(), "the departure disappeared from the guide's device");

    // Recorded after the removal, or on a departure the guide never led: still refused.
    let token = tourdesk_tests::sign_in(&env, demo_data::DEMO_GUIDE_EMAIL).await;
    let now = chrono::Utc::now();
    let attempts = [
        json!({"nonce": id(), "booking_id": b.booking_id, "departure_id": mine, "participant": 0, "at": now}),
        json!({"nonce": id(), "booking_id": other_booking, "departure_id": other, "participant": 0, "at": now}),
    ];
    let mutations = attempts
        .iter()
        .enumerate()
        .map(|(i, args)| MutationEnvelope {
            id: i as u64 + 1,
            name: "check_in.v1".into(),
            args: args.clone(),
            hlc: format!("{:013}-{:08}-test", now.timestamp_millis(), i),
        })
        .collect();
    let req = PushRequest { client_id: id(), schema_version: SCHEMA_VERSION, mutations };
    let resp = tourdesk_tests::push_raw(&env.base_url(), &token, &req).await;
    assert_eq!(resp.results.len(), attempts.len());
    for r in &resp.results {
        assert_eq!(r.status, OutcomeStatus::Rejected, "{r:?}");
    }
    let total: i64 = pg
        .query_one("SELECT count(*) FROM check_ins WHERE booking_id IN ($1, $2)", &[&b.booking_id, &other_booking])
        .await
        .unwrap()
        .get(0);
    assert_eq!(total, 1, "nothing more written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guides_field_note_written_offline_reaches_the_office_and_another_guide_is_refused() {
    let mut env = Env::start().await;
    let (_token, _guide_id, mine, other, _) = guide_and_another_guides_departure(&env).await;
    let (guide, client) = synced(&env, demo_data::DEMO_GUIDE_EMAIL, "guide").await;
    let (office, office_client) = synced(&env, demo_data::DEMO_MANAGER_EMAIL, "office").await;
    let pg = env.pg().await;

    // Offline, the guide writes two notes on their departure; both wait as pending.
    env.stop_server().await;
    let note = |text: &str| {
        m(
            "record_departure_incident.v1",
            json!({"nonce": id(), "departure_id": mine, "at": chrono::Utc::now(), "text": text}),
        )
    };
    guide.mutate(&note("Bus 20 minutes late, started 09:25")).unwrap();
    guide.mutate(&note("Guest felt dizzy at the viewpoint, rested, continued")).unwrap();
    assert!(guide.departure_incidents(&mine).unwrap().iter().all(|n| n.pending));
    // The other guide's departure is not on the device: refused there, nothing queued.
    let refused = m(
        "record_departure_incident.v1",
        json!({"nonce": id(), "departure_id": other, "at": chrono::Utc::now(), "text": "x"}),
    );
    assert!(guide.mutate(&refused).is_err());
    assert!(client.sync_once(&guide).await.is_err(), "no server");

    env.restart_server().await;
    client.sync_once(&guide).await.unwrap();
    assert!(guide.rejections().unwrap().is_empty(), "{:?}", guide.rejections().unwrap());
    let rows = pg
        .query(
            "SELECT i.text, u.email FROM departure_incidents i JOIN staff_users u ON u.id = i.recorded_by
             WHERE i.departure_id = $1 ORDER BY i.at",
            &[&mine],
        )
        .await
        .unwrap();
    let got: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, "Bus 20 minutes late, started 09:25");
    assert!(got.iter().all(|(_, email)| email == demo_data::DEMO_GUIDE_EMAIL));
    let untouched: bool =
        pg.query_one("SELECT notes = '' FROM schedules WHERE id = $1", &[&mine]).await.unwrap().get(0);
    assert!(untouched, "the office's own notes are another thing");

    // The office desk receives them with the departure; the guide's copies are no longer pending.
    office_client.sync_once(&office).await.unwrap();
    let seen = office.departure_incidents(&mine).unwrap();
    assert_eq!(
        seen.iter().map(|n| n.incident.text.as_str()).collect::<Vec<_>>(),
        [got[0].0.as_str(), got[1].0.as_str()]
    );
    client.sync_once(&guide).await.unwrap();
    assert!(guide.departure_incidents(&mine).unwrap().iter().all(|n| !n.pending));

    // An office account cannot write a guide's note (it has the departure's notes).
    office.mutate(&note("office typing here")).unwrap_err();
}

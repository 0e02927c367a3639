//! The field, end to end (issue 14). Allotments (item 4): the server sets seats aside for a device under the
//! departure's lock; the device sells walk-ups within them offline (a sale beyond them is refused
//! on the device, with the rule named); on sync those walk-ups become bookings the server cannot
//! refuse for seats, while website bookings race for the remaining ones — and the departure never
//! holds more than its capacity. Unused seats go back when the departure starts (the job) or when
//! released. Manifests (item 5) as CSV and PDF; calendar feeds (item 6) read back by a real
//! iCalendar parser.
#![allow(clippy::unwrap_used)]

use chrono::{Datelike, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use tourdesk_domain::allotment::{Allotment, AllotmentStatus, IssueAllotmentRequest};
use tourdesk_domain::hlc::Hlc;
use tourdesk_domain::mutation::Mutation;
use tourdesk_local_store::{Store, StoreError, SyncClient};
use tourdesk_sync_server::demo_data;
use tourdesk_tests::{Env, call, pdf_text};

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn walk_up(desk: &Store, allotment: &Allotment, tier: &str, pax: u32, payment: &str) -> Result<String, StoreError> {
    let booking = id();
    let args = json!({
        "id": booking, "allotment_id": allotment.id, "tour_id": allotment.tour_id,
        "departure_id": allotment.departure_id, "device_id": desk.device_id().unwrap().unwrap(),
        "customer": {"id": id(), "first_name": "Walk", "last_name": "Up", "phone": "+351 912 000 999"},
        "lines": [{"tier_id": tier, "quantity": pax}], "payment": payment, "payment_nonce": id(),
        "special_requests": "front row", "dietary_restrictions": "no nuts",
        "reference_year": Utc::now().year(), "reference_entropy": uuid::Uuid::new_v4().as_u64_pair().0,
        "sold_at": Utc::now().to_rfc3339(),
        "hlc": Hlc::new(u64::try_from(Utc::now().timestamp_millis()).unwrap(), 0, "walk-up").to_string(),
    });
    desk.mutate(&Mutation::decode("sell_walk_up.v1", &args).unwrap())?;
    Ok(booking)
}

async fn request_allotment(client: &SyncClient, desk: &Store, departure_id: &str, seats: u32) -> Allotment {
    let req = IssueAllotmentRequest { id: Some(id()), departure_id: departure_id.into(), device_id: None, seats };
    client.staff_call(desk, Method::POST, "/api/v1/allotments", Some(&req)).await.unwrap()
}

fn website_booking(departure_id: &str, tier: &str) -> Value {
    json!({
        "request_id": id(),
        "departure_id": departure_id,
        "customer": {"email": format!("{}@example.com", id()), "first_name": "Web", "last_name": "Guest"},
        "lines": [{"tier_id": tier, "quantity": 1}],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_walk_ups_and_website_bookings_never_exceed_capacity() {
    let mut env = Env::start().await;
    let pg = env.pg().await;
    // A future departure the demo guide leads, of a published tour, with its first tier.
    let row = pg
        .query_one(
            "SELECT s.id, s.booked_count, p.id FROM schedules s
               JOIN schedule_guide_assignments a ON a.departure_id = s.id AND a.status <> 'declined'
               JOIN guides g ON g.id = a.guide_id JOIN staff_users u ON u.id = g.user_id
               JOIN pricing_tiers p ON p.tour_id = s.tour_id
             WHERE u.email = $1 AND s.status = 'open' AND s.starts_at > now() + interval '1 day'
             ORDER BY s.starts_at, p.sort_order LIMIT 1",
            &[&demo_data::DEMO_GUIDE_EMAIL],
        )
        .await
        .unwrap();
    let (dep, booked, tier): (String, i32, String) = (row.get(0), row.get(1), row.get(2));
    // Six free seats: two for each device's allotment, two for general sale.
    let capacity = booked + 6;
    pg.execute("UPDATE schedules SET capacity = $2 WHERE id = $1", &[&dep, &capacity]).await.unwrap();

    let guide = env.desk("guide");
    let guide_client = env.client(demo_data::DEMO_GUIDE_EMAIL);
    guide_client.sync_once(&guide).await.unwrap();
    let office = env.desk("office");
    let office_client = env.client(demo_data::DEMO_MANAGER_EMAIL);
    office_client.sync_once(&office).await.unwrap();

    // The guide asks for two seats for her device; the manager's desk for two for its own.
    let mine = request_allotment(&guide_client, &guide, &dep, 2).await;
    let theirs = request_allotment(&office_client, &office, &dep, 2).await;
    assert_eq!((mine.seats, mine.sold, mine.status), (2, 0, AllotmentStatus::Active));
    // Taken from capacity under the departure's lock, like a booking.
    let held: i32 = pg.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&dep]).await.unwrap().get(0);
    assert_eq!(held, booked + 4);
    // More than is free: refused with the rule named, never a 5xx.
    let token = tourdesk_tests::sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let (s, body) = call(
        &env.base_url(),
        "POST",
        "/api/v1/allotments",
        Some(&token),
        Some(json!({"departure_id": dep, "seats": 3})),
    )
    .await;
    assert_eq!((s.as_u16(), body["code"].as_str()), (409, Some("CAPACITY_EXCEEDED")), "{body}");
    assert_eq!(body["message"], "only 2 seats left, 3 requested");

    guide_client.sync_once(&guide).await.unwrap();
    office_client.sync_once(&office).await.unwrap();
    let on_guide = guide.my_allotment(&dep).unwrap().expect("the allotment reached the guide's device");
    assert_eq!(on_guide.id, mine.id);
    let on_office = office.my_allotment(&dep).unwrap().expect("the allotment reached the office desk");
    assert_eq!(on_office.id, theirs.id);
    assert_eq!(office.allotments_of_departure(&dep).unwrap().len(), 2, "the office sees every device's");

    // The network goes. Each device sells its two seats as walk-ups; a third is refused on the
    // device, with the rule, and nothing is queued for it.
    env.stop_server().await;
    let mut walk_ups = vec![
        walk_up(&guide, &on_guide, &tier, 1, "cash").unwrap(),
        walk_up(&guide, &on_guide, &tier, 1, "pay_on_arrival").unwrap(),
        walk_up(&office, &on_office, &tier, 2, "cash").unwrap(),
    ];
    match walk_up(&guide, &on_guide, &tier, 1, "cash") {
        Err(StoreError::Rejected(r)) => {
            assert_eq!(r.code(), "ALLOTMENT_EXCEEDED");
            assert_eq!(r.to_string(), "the allotment has 0 of 2 seats left, 1 requested");
        }
        other => panic!("a walk-up beyond the allotment must be refused on the device: {other:?}"),
    }
    assert!(walk_up(&office, &on_office, &tier, 1, "cash").is_err());
    assert_eq!(guide.my_allotment(&dep).unwrap().unwrap().sold, 2);

    // Back online: both devices push while the website races for the last seats.
    env.restart_server().await;
    let base = env.base_url();
    let web = (0..4).map(|_| {
        let (base, body) = (base.clone(), website_booking(&dep, &tier));
        async move { call(&base, "POST", "/api/v1/orgs/demo/bookings", None, Some(body)).await }
    });
    let (g, o, answers) = tokio::join!(
        guide_client.sync_once(&guide),
        office_client.sync_once(&office),
        futures_util::future::join_all(web)
    );
    g.unwrap();
    o.unwrap();
    let created = answers.iter().filter(|(s, _)| s.as_u16() == 201).count();
    for (s, body) in &answers {
        assert!(matches!(s.as_u16(), 201 | 409), "{s} {body}");
        if s.as_u16() == 409 {
            assert_eq!(body["code"], "CAPACITY_EXCEEDED", "{body}");
        }
    }
    assert_eq!(created, 2, "exactly the two seats outside the allotments were sold on the website");
    let after: i32 = pg.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&dep]).await.unwrap().get(0);
    assert_eq!(after, capacity, "full, never more");
    // Every walk-up became a confirmed booking; none was refused.
    walk_ups.sort();
    let rows = pg
        .query("SELECT id, status, payment_status FROM bookings WHERE id = ANY($1) ORDER BY id", &[&walk_ups])
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.get::<_, String>(1) == "confirmed"));
    let rejected: i64 =
        pg.query_one("SELECT count(*) FROM sync_mutation_results WHERE status = 'rejected'", &[]).await.unwrap().get(0);
    assert_eq!(rejected, 0);
    let sold: Vec<i32> = pg
        .query("SELECT sold FROM allotments WHERE departure_id = $1 ORDER BY id", &[&dep])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(sold, vec![2, 2]);
    assert!(guide.rejected_bookings().unwrap().is_empty() && office.rejected_bookings().unwrap().is_empty());

    // The office sees each device's allotment and what it sold.
    let (s, list) = call(&base, "GET", &format!("/api/v1/departures/{dep}/allotments"), Some(&token), None).await;
    assert_eq!(s.as_u16(), 200, "{list}");
    let list: Vec<Allotment> = serde_json::from_value(list).unwrap();
    assert_eq!(list.iter().map(|a| a.booking_ids.len()).sum::<usize>(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unused_seats_return_on_release_and_when_the_departure_starts() {
    let env = Env::start().await;
    let pg = env.pg().await;
    let rows = pg
        .query(
            "SELECT id, booked_count, capacity FROM schedules
             WHERE status = 'open' AND capacity - booked_count >= 3 AND starts_at > now() + interval '1 day'
             ORDER BY starts_at LIMIT 2",
            &[],
        )
        .await
        .unwrap();
    let token = tourdesk_tests::sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let base = env.base_url();
    let booked = |r: usize| rows[r].get::<_, i32>(1);
    let issue = |dep: String| {
        let (base, token) = (base.clone(), token.clone());
        async move {
            let (s, a) =
                call(&base, "POST", "/api/v1/allotments", Some(&token), Some(json!({"departure_id": dep, "seats": 3})))
                    .await;
            assert_eq!(s.as_u16(), 201, "{a}");
            serde_json::from_value::<Allotment>(a).unwrap()
        }
    };
    let count = |dep: String| {
        let pg = &pg;
        async move {
            pg.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&dep]).await.unwrap().get::<_, i32>(0)
        }
    };

    // Released by hand: the three seats go back; a second release changes nothing.
    let dep0: String = rows[0].get(0);
    let a = issue(dep0.clone()).await;
    assert_eq!(count(dep0.clone()).await, booked(0) + 3);
    let (s, released) = call(&base, "POST", &format!("/api/v1/allotments/{}/release", a.id), Some(&token), None).await;
    assert_eq!(
        (s.as_u16(), released["status"].as_str(), released["returned"].as_u64()),
        (200, Some("released"), Some(3))
    );
    assert_eq!(count(dep0.clone()).await, booked(0));
    let (s, _) = call(&base, "POST", &format!("/api/v1/allotments/{}/release", a.id), Some(&token), None).await;
    assert_eq!(s.as_u16(), 200);
    assert_eq!(count(dep0.clone()).await, booked(0));
    // A guide may not release another device's allotment; an unknown one is a 404.
    let b = issue(dep0.clone()).await;
    let guide_token = tourdesk_tests::sign_in(&env, demo_data::DEMO_GUIDE_EMAIL).await;
    let (s, body) =
        call(&base, "POST", &format!("/api/v1/allotments/{}/release", b.id), Some(&guide_token), None).await;
    assert_eq!((s.as_u16(), body["code"].as_str()), (403, Some("FORBIDDEN")), "{body}");
    let (s, _) = call(&base, "POST", "/api/v1/allotments/nope/release", Some(&token), None).await;
    assert_eq!(s.as_u16(), 404);

    // The departure starts: the job gives the unsold seats back.
    let dep1: String = rows[1].get(0);
    issue(dep1.clone()).await;
    assert_eq!(count(dep1.clone()).await, booked(1) + 3);
    pg.execute(
        "UPDATE schedules SET starts_at = now() - interval '1 minute', ends_at = now() + interval '2 hours' WHERE id = $1",
        &[&dep1],
    )
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while count(dep1.clone()).await != booked(1) {
        assert!(std::time::Instant::now() < deadline, "the job did not release the allotment");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let status: String =
        pg.query_one("SELECT status FROM allotments WHERE departure_id = $1", &[&dep1]).await.unwrap().get(0);
    assert_eq!(status, "released");
    let audited: i64 =
        pg.query_one("SELECT count(*) FROM audit_logs WHERE action = 'allotment.released'", &[]).await.unwrap().get(0);
    assert_eq!(audited, 2);
}

async fn get_bytes(base: &str, path: &str, token: &str) -> (u16, String, Vec<u8>) {
    let r = reqwest::Client::new().get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, ct, r.bytes().await.unwrap().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_per_departure_and_per_guide_day_as_csv_and_pdf() {
    let env = Env::start().await;
    let pg = env.pg().await;
    let row = pg
        .query_one(
            "SELECT s.id, s.local_date::text, g.id, p.id FROM schedules s
               JOIN schedule_guide_assignments a ON a.departure_id = s.id AND a.status <> 'declined'
               JOIN guides g ON g.id = a.guide_id JOIN staff_users u ON u.id = g.user_id
               JOIN pricing_tiers p ON p.tour_id = s.tour_id
             WHERE u.email = $1 AND s.status = 'open' AND s.capacity - s.booked_count >= 2
             ORDER BY s.starts_at, p.sort_order LIMIT 1",
            &[&demo_data::DEMO_GUIDE_EMAIL],
        )
        .await
        .unwrap();
    let (dep, date, guide_id, tier): (String, String, String, String) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let not_led: String = pg
        .query_one(
            "SELECT s.id FROM schedules s WHERE NOT EXISTS (
                 SELECT 1 FROM schedule_guide_assignments a WHERE a.departure_id = s.id) LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);

    // The guide sells a walk-up with dietary notes and checks its guest in, then syncs.
    let guide = env.desk("guide");
    let client = env.client(demo_data::DEMO_GUIDE_EMAIL);
    client.sync_once(&guide).await.unwrap();
    request_allotment(&client, &guide, &dep, 1).await;
    client.sync_once(&guide).await.unwrap();
    let a = guide.my_allotment(&dep).unwrap().expect("the allotment reached the guide's device");
    let booking = walk_up(&guide, &a, &tier, 1, "cash").unwrap();
    let check_in = json!({"nonce": id(), "booking_id": booking, "departure_id": dep, "participant": 0,
                          "at": Utc::now().to_rfc3339()});
    guide.mutate(&Mutation::decode("check_in.v1", &check_in).unwrap()).unwrap();
    client.sync_once(&guide).await.unwrap();
    let reference: String =
        pg.query_one("SELECT reference_number FROM bookings WHERE id = $1", &[&booking]).await.unwrap().get(0);

    let base = env.base_url();
    let token = tourdesk_tests::sign_in(&env, demo_data::DEMO_GUIDE_EMAIL).await;
    // CSV: parsed back, one row per seat, the walk-up checked in with its notes.
    let (s, ct, body) = get_bytes(&base, &format!("/api/v1/departures/{dep}/manifest?format=csv"), &token).await;
    assert_eq!((s, ct.as_str()), (200, "text/csv; charset=utf-8"));
    let csv = String::from_utf8(body).unwrap();
    let rows = parse_csv(&csv);
    let header = &rows[0];
    assert_eq!(header, &tourdesk_domain::manifest_export::CSV_HEADER.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mine: Vec<&Vec<String>> = rows[1..].iter().filter(|r| r[col("reference")] == reference).collect();
    assert_eq!(mine.len(), 1, "{csv}");
    assert_eq!(mine[0][col("check_in")], "checked in");
    assert_eq!(mine[0][col("dietary_restrictions")], "no nuts");
    assert_eq!(mine[0][col("special_requests")], "front row");
    assert_eq!(mine[0][col("customer")], "Walk Up");
    assert!(rows[1..].iter().all(|r| r.len() == header.len() && r[col("departure_id")] == dep));

    // PDF: a real PDF whose text holds the same.
    let (s, ct, pdf) = get_bytes(&base, &format!("/api/v1/departures/{dep}/manifest?format=pdf"), &token).await;
    assert_eq!((s, ct.as_str()), (200, "application/pdf"));
    let text = pdf_text(&pdf);
    for needle in [reference.as_str(), "Walk Up", "[checked in]", "Dietary: no nuts", "Special requests: front row"] {
        assert!(text.contains(needle), "{needle:?} missing from the PDF:\n{text}");
    }
    // The guide's day holds this departure.
    let (s, _, day) =
        get_bytes(&base, &format!("/api/v1/guides/{guide_id}/manifest?date={date}&format=csv"), &token).await;
    assert_eq!(s, 200);
    assert!(String::from_utf8(day).unwrap().contains(&reference));
    // Refusals name their rule, never a 5xx: another departure, a bad format, a bad date.
    let (s, _, body) = get_bytes(&base, &format!("/api/v1/departures/{not_led}/manifest"), &token).await;
    assert_eq!(s, 403, "{}", String::from_utf8_lossy(&body));
    let (s, _, body) = get_bytes(&base, &format!("/api/v1/departures/{dep}/manifest?format=xls"), &token).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((s, body["field"].as_str()), (422, Some("format")));
    let (s, _, body) = get_bytes(&base, &format!("/api/v1/guides/{guide_id}/manifest?date=tomorrow"), &token).await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((s, body["field"].as_str()), (422, Some("date")));
    // The office reads any departure's.
    let office = tourdesk_tests::sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let (s, _, _) = get_bytes(&base, &format!("/api/v1/departures/{not_led}/manifest?format=pdf"), &office).await;
    assert_eq!(s, 200);

    // On the guide's device: the day's manifests, as the desk saves them.
    let day = guide.guide_day_manifests(None, date.parse().unwrap()).unwrap();
    assert!(day.iter().any(|m| m.departure.departure.id == dep));
    let text = pdf_text(&tourdesk_domain::manifest_export::to_pdf(&day));
    assert!(text.contains(&reference) && text.contains("Dietary: no nuts"), "{text}");
}

/// A small RFC 4180 reader: quoted fields, doubled quotes, CRLF rows.
fn parse_csv(s: &str) -> Vec<Vec<String>> {
    let mut rows = vec![];
    let (mut row, mut cell, mut quoted) = (vec![], String::new(), false);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_feeds_parse_as_icalendar_and_a_rotated_token_stops_working() {
    use ical::parser::ical::component::IcalCalendar;
    let env = Env::start().await;
    let pg = env.pg().await;
    let row = pg
        .query_one(
            "SELECT g.id, s.tour_id, count(*) OVER (PARTITION BY g.id) FROM schedule_guide_assignments a
               JOIN guides g ON g.id = a.guide_id JOIN staff_users u ON u.id = g.user_id
               JOIN schedules s ON s.id = a.departure_id
             WHERE u.email = $1 AND a.status <> 'declined' AND s.ends_at >= now() - interval '30 days' LIMIT 1",
            &[&demo_data::DEMO_GUIDE_EMAIL],
        )
        .await
        .unwrap();
    let (guide_id, tour_id, led): (String, String, i64) = (row.get(0), row.get(1), row.get(2));
    let base = env.base_url();
    let guide = tourdesk_tests::sign_in(&env, demo_data::DEMO_GUIDE_EMAIL).await;
    let office = tourdesk_tests::sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let parse = |text: &str| -> Vec<IcalCalendar> {
        ical::IcalParser::new(std::io::BufReader::new(text.as_bytes())).map(|c| c.unwrap()).collect()
    };
    let fetch = |url: String| async move {
        let r = reqwest::get(url).await.unwrap();
        let status = r.status().as_u16();
        let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
        (status, ct, r.text().await.unwrap())
    };
    let path_of = |url: &str| url.split_once("/ical/").map(|(_, t)| format!("{base}/ical/{t}")).unwrap();

    // The guide makes her own feed; she may not make another guide's or a tour's.
    let (s, feed) = call(
        &base,
        "POST",
        "/api/v1/calendar-feeds",
        Some(&guide),
        Some(json!({"kind": "guide", "subject_id": guide_id})),
    )
    .await;
    assert_eq!(s.as_u16(), 201, "{feed}");
    let url = feed["url"].as_str().unwrap().to_string();
    assert!(feed["token"].as_str().unwrap().len() >= 43, "256 random bits");
    let (s, body) = call(
        &base,
        "POST",
        "/api/v1/calendar-feeds",
        Some(&guide),
        Some(json!({"kind": "tour", "subject_id": tour_id})),
    )
    .await;
    assert_eq!((s.as_u16(), body["code"].as_str()), (403, Some("FORBIDDEN")), "{body}");
    let (s, body) = call(
        &base,
        "POST",
        "/api/v1/calendar-feeds",
        Some(&office),
        Some(json!({"kind": "boat", "subject_id": tour_id})),
    )
    .await;
    assert_eq!((s.as_u16(), body["field"].as_str()), (422, Some("kind")), "{body}");
    // Only a digest is stored.
    let stored: Vec<u8> = pg
        .query_one("SELECT token_digest FROM calendar_feeds WHERE subject_id = $1", &[&guide_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(feed["token"].as_str().unwrap()));

    let (s, ct, text) = fetch(path_of(&url)).await;
    assert_eq!((s, ct.as_deref()), (200, Some("text/calendar; charset=utf-8")));
    let cals = parse(&text);
    assert_eq!(cals.len(), 1);
    let events = &cals[0].events;
    assert_eq!(events.len() as i64, led, "one event per departure she leads:\n{text}");
    for e in events {
        let prop = |name: &str| e.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone());
        let start = prop("DTSTART").unwrap();
        assert!(start.ends_with('Z') && start.len() == 16, "UTC times: {start}");
        chrono::NaiveDateTime::parse_from_str(&start, "%Y%m%dT%H%M%SZ").unwrap();
        assert!(prop("UID").unwrap().ends_with(".tourdesk"));
        assert!(prop("DTSTAMP").is_some() && prop("SUMMARY").is_some() && prop("DTEND").is_some());
    }

    // The office's tour feed: every departure of the tour from 30 days back.
    let (s, tour_feed) = call(
        &base,
        "POST",
        "/api/v1/calendar-feeds",
        Some(&office),
        Some(json!({"kind": "tour", "subject_id": tour_id})),
    )
    .await;
    assert_eq!(s.as_u16(), 201, "{tour_feed}");
    let (_, _, text) = fetch(path_of(tour_feed["url"].as_str().unwrap())).await;
    let expected: i64 = pg
        .query_one(
            "SELECT count(*) FROM schedules WHERE tour_id = $1 AND ends_at >= now() - interval '30 days'",
            &[&tour_id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(parse(&text)[0].events.len() as i64, expected.min(5000));

    // Rotating: the new URL works, the old one is a 404 at once; a made-up token too.
    let (s, rotated) = call(
        &base,
        "POST",
        "/api/v1/calendar-feeds",
        Some(&guide),
        Some(json!({"kind": "guide", "subject_id": guide_id})),
    )
    .await;
    assert_eq!(s.as_u16(), 201);
    assert_ne!(rotated["url"], feed["url"]);
    assert_eq!(fetch(path_of(rotated["url"].as_str().unwrap())).await.0, 200);
    assert_eq!(fetch(path_of(&url)).await.0, 404);
    assert_eq!(fetch(format!("{base}/ical/not-a-token.ics")).await.0, 404);
}

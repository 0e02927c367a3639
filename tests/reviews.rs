//! Customer reviews (issue 15 item 5) against the real server, PostgreSQL and an SMTP sink: after
//! a departure ends, each booking someone was checked in on gets one review request in the
//! customer's language (a no-show gets none, a second sweep or instance sends nothing more); the
//! mailed single-use link opens a form that names each bad field in the customer's language and
//! stores a pending review once; staff moderate it through the API (audited, owners and admins
//! only); approved reviews and their average show on the tour page and in its JSON-LD.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tourdesk_sync_server::demo_data;
use tourdesk_sync_server::jobs::review_requests;
use tourdesk_testkit::smtp::{Message, SmtpSink};
use tourdesk_tests::Env;
use tourdesk_tests::web::{Page, http, send};

const ORG: &str = demo_data::DEMO_ORG_SLUG;
const BASE: &str = "https://tours.example.test";

/// A past departure of a demo tour (ended two hours ago) with three bookings: Ana (English) and
/// Jonas (German) checked in, Nora marked a no-show. Answers the tour's id and slug and the
/// bookings' ids in that order.
async fn ended_departure(env: &Env) -> (String, String, [String; 3]) {
    let pg = env.pg().await;
    let t = pg
        .query_one(
            "SELECT t.organization_id, t.id, t.slug, v.id FROM tours t
             JOIN organizations o ON o.id = t.organization_id
             JOIN tour_variants v ON v.organization_id = t.organization_id AND v.tour_id = t.id
             WHERE o.slug = $1 AND t.status = 'active' ORDER BY t.id, v.id LIMIT 1",
            &[&ORG],
        )
        .await
        .unwrap();
    let (org, tour, slug, variant): (String, String, String, String) = (t.get(0), t.get(1), t.get(2), t.get(3));
    pg.execute(
        "INSERT INTO schedules (id, organization_id, tour_id, variant_id, local_date, local_time, timezone,
                                starts_at, ends_at, capacity, booked_count, status)
         VALUES ('rv-dep', $1, $2, $3, (now() - interval '5 hours')::date, '08:00', 'UTC',
                 now() - interval '5 hours', now() - interval '2 hours', 12, 5, 'completed')",
        &[&org, &tour, &variant],
    )
    .await
    .unwrap();
    let people = [
        ("rv-ana", "ana@example.test", "Ana", "Silva", "en", "BK-2026-AAAAA2", 2, 0, "confirmed"),
        ("rv-jonas", "jonas@example.test", "Jonas", "Weber", "de", "BK-2026-AAAAA3", 1, 0, "completed"),
        ("rv-nora", "nora@example.test", "Nora", "Berg", "en", "BK-2026-AAAAA4", 0, 2, "no_show"),
    ];
    let mut ids = Vec::new();
    for (id, email, first, last, lang, reference, checked_in, no_shows, status) in people {
        pg.execute(
            "INSERT INTO customers (id, organization_id, email, first_name, last_name, preferred_language)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&id, &org, &email, &first, &last, &lang],
        )
        .await
        .unwrap();
        let booking = format!("{id}-booking");
        pg.execute(
            "INSERT INTO bookings (id, organization_id, reference_number, customer_id, departure_id, tour_id,
                                   variant_id, pricing, currency, subtotal_minor, total_minor, participant_count,
                                   status, checked_in, no_shows)
             VALUES ($1, $2, $3, $4, 'rv-dep', $5, $6, '{}', 'EUR', 5000, 5000, 2, $7, $8, $9)",
            &[&booking, &org, &reference, &id, &tour, &variant, &status, &checked_in, &no_shows],
        )
        .await
        .unwrap();
        ids.push(booking);
    }
    (tour, slug, ids.try_into().unwrap())
}

fn link_of(m: &Message) -> String {
    let from = m.text.find(&format!("{BASE}/review?token=")).unwrap_or_else(|| panic!("no link in {}", m.text));
    m.text[from..].split_whitespace().next().unwrap().to_string()
}

/// Opens a mailed link as a browser does: the token becomes a cookie, the address a clean one.
async fn open(env: &Env, link: &str) -> String {
    let path = link.strip_prefix(BASE).unwrap();
    let opened = send(http().get(format!("{}{path}", env.base_url()))).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.body);
    assert_eq!(opened.header("location"), "/review");
    assert_eq!(opened.header("referrer-policy"), "no-referrer");
    let set_cookie = opened.header("set-cookie");
    for part in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/review"] {
        assert!(set_cookie.contains(part), "{part} in {set_cookie}");
    }
    set_cookie.split(';').next().unwrap().to_string()
}

async fn form_page(env: &Env, cookie: &str) -> Page {
    send(http().get(format!("{}/review", env.base_url())).header("cookie", cookie)).await
}

async fn post(env: &Env, cookie: &str, fields: &[(&str, &str)]) -> Page {
    send(http().post(format!("{}/review", env.base_url())).header("cookie", cookie).form(fields)).await
}

async fn staff_token(env: &Env, email: &str) -> String {
    tourdesk_tests::sign_in(env, email).await
}

async fn api(env: &Env, method: &str, path: &str, token: &str, body: Option<Value>) -> (StatusCode, Value) {
    tourdesk_tests::call(&env.base_url(), method, path, Some(token), body).await
}

fn json_ld(p: &Page) -> Value {
    serde_json::from_str(&p.between("<script type=\"application/ld+json\">", "</script>")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attended_customers_are_asked_once_review_through_a_single_use_link_and_approved_reviews_show() {
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_with(|c| {
        c.mail.smtp_url = Some(smtp.url());
        c.mail.public_base_url = BASE.into();
    })
    .await;
    let (tour_id, slug, [ana, jonas, nora]) = ended_departure(&env).await;

    // Before any review the tour page has no rating, in its text or its JSON-LD.
    let tour_path = format!("{}/{ORG}/tours/{slug}", env.base_url());
    let before = send(http().get(&tour_path)).await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(json_ld(&before).get("aggregateRating").is_none());
    assert!(!before.body.contains("class=\"reviews\""));

    // Two instances sweep at once beside the server's own runner: each attended booking is asked
    // once, the no-show never, and later sweeps ask nobody again.
    let pool_a = tourdesk_sync_server::db::connect(&env.server_config).unwrap();
    let pool_b = tourdesk_sync_server::db::connect(&env.server_config).unwrap();
    let now = chrono::Utc::now();
    let (a, b) = tokio::join!(review_requests::queue_due(&pool_a, now), review_requests::queue_due(&pool_b, now));
    assert!(a.unwrap() + b.unwrap() <= 2);
    let mails = smtp.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(review_requests::queue_due(&pool_a, chrono::Utc::now()).await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let requests: Vec<Message> = smtp
        .messages()
        .into_iter()
        .filter(|m| m.subject.starts_with("How was") || m.subject.starts_with("Wie war"))
        .collect();
    assert_eq!(requests.len(), 2, "{:?}", mails.iter().map(|m| &m.subject).collect::<Vec<_>>());
    let counted = |b: &str| {
        let b = b.to_string();
        let env = &env;
        async move {
            env.scalar("SELECT count(*) FROM communications WHERE booking_id = $1 AND type = 'review_request'", &[&b])
                .await
        }
    };
    assert_eq!((counted(&ana).await, counted(&jonas).await, counted(&nora).await), (1, 1, 0));
    let to_ana = requests.iter().find(|m| m.to == ["ana@example.test"]).unwrap();
    let to_jonas = requests.iter().find(|m| m.to == ["jonas@example.test"]).unwrap();
    assert!(to_ana.subject.starts_with("How was") && to_ana.text.contains("Hello Ana"), "{}", to_ana.text);
    assert!(to_jonas.subject.starts_with("Wie war") && to_jonas.text.contains("Hallo Jonas"), "{}", to_jonas.text);
    // The stored message keeps the placeholder; only the digest of the token is in the database.
    let (ana_link, jonas_link) = (link_of(to_ana), link_of(to_jonas));
    let token = ana_link.split("token=").nth(1).unwrap();
    assert_eq!(
        env.scalar("SELECT count(*) FROM communications WHERE content LIKE '%' || $1 || '%'", &[&token]).await,
        0
    );
    assert_eq!(env.scalar("SELECT count(*) FROM review_links WHERE booking_id = $1", &[&ana]).await, 1);

    // The form, in the customer's language, with the name it would show.
    let ana_cookie = open(&env, &ana_link).await;
    let form = form_page(&env, &ana_cookie).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.header("cache-control").contains("no-store"));
    assert!(form.body.contains("Your review") && form.body.contains("value=\"Ana S.\""), "{}", form.body);
    let jonas_cookie = open(&env, &jonas_link).await;
    let de = form_page(&env, &jonas_cookie).await;
    assert!(de.body.contains("Ihre Bewertung") && de.body.contains("lang=\"de\""), "{}", de.body);

    // Bad input: every field named beside itself, in the customer's language; nothing stored and
    // the link still good.
    let bad = post(&env, &ana_cookie, &[("lang", "en"), ("rating", "7"), ("body", "meh"), ("display_name", "")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    for (id, words) in [
        ("rating-error", "Choose from 1 to 5 stars."),
        ("body-error", "Please write at least 10 characters."),
        ("display_name-error", "Please fill this in."),
    ] {
        assert_eq!(bad.between(&format!("id=\"{id}\">"), "</p>"), words, "{}", bad.body);
    }
    assert!(bad.body.contains("value=\"7\"") || bad.body.contains("meh"), "the answers are kept");
    let bad_de =
        post(&env, &jonas_cookie, &[("lang", "de"), ("rating", ""), ("body", "Toll!"), ("display_name", "J")]).await;
    assert_eq!(bad_de.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_de.between("id=\"rating-error\">", "</p>"), "Bitte ausfüllen.");
    assert_eq!(bad_de.between("id=\"body-error\">", "</p>"), "Bitte schreiben Sie mindestens 10 Zeichen.");
    assert_eq!(env.scalar("SELECT count(*) FROM reviews WHERE tour_id = $1", &[&tour_id]).await, 0);

    // A good review is stored pending and spends the link: neither the cookie nor the mailed link
    // writes a second one.
    let good = [
        ("lang", "en"),
        ("rating", "4"),
        ("title", "Lovely morning"),
        ("body", "A great guide & a lovely walk."),
        ("display_name", "Ana S."),
    ];
    let done = post(&env, &ana_cookie, &good).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("Thank you! Your review is in"));
    assert!(done.header("set-cookie").contains("Max-Age=0"));
    let again = post(&env, &ana_cookie, &good).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert!(again.body.contains("This link has expired or was already used."));
    let reopened = open(&env, &ana_link).await;
    assert_eq!(form_page(&env, &reopened).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(form_page(&env, "tourdesk_review=not-a-token").await.status, StatusCode::UNAUTHORIZED);
    let good_de =
        [("lang", "de"), ("rating", "5"), ("body", "Sehr schön, gerne wieder."), ("display_name", "Jonas W.")];
    assert_eq!(post(&env, &jonas_cookie, &good_de).await.status, StatusCode::OK);
    let pg = env.pg().await;
    let stored: Vec<(String, i32, String, String, String)> = pg
        .query(
            "SELECT booking_id, rating, status, display_name, language FROM reviews WHERE tour_id = $1 ORDER BY rating",
            &[&tour_id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert_eq!(
        stored,
        [
            (ana.clone(), 4, "pending".into(), "Ana S.".into(), "en".into()),
            (jonas.clone(), 5, "pending".into(), "Jonas W.".into(), "de".into())
        ]
    );

    // Pending reviews are not public.
    let pending_page = send(http().get(&tour_path)).await;
    assert!(json_ld(&pending_page).get("aggregateRating").is_none());
    assert!(!pending_page.body.contains("A great guide"));

    // Moderation: the list starts with what waits; a manager may read but not decide; the owner's
    // decisions are audited.
    let owner = staff_token(&env, demo_data::DEMO_OWNER_EMAIL).await;
    let manager = staff_token(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let (status, list) = api(&env, "GET", "/api/v1/reviews?status=pending", &manager, None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let ana_review = list.iter().find(|r| r["display_name"] == "Ana S.").unwrap()["id"].as_str().unwrap().to_string();
    let jonas_review =
        list.iter().find(|r| r["display_name"] == "Jonas W.").unwrap()["id"].as_str().unwrap().to_string();
    assert_eq!(list[0]["booking_reference"], "BK-2026-AAAAA2");
    let approve = json!({"decision": "approve"});
    let path = |id: &str| format!("/api/v1/reviews/{id}/moderation");
    let (status, _) = api(&env, "POST", &path(&ana_review), &manager, Some(approve.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = api(&env, "GET", "/api/v1/reviews?status=maybe", &owner, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = api(&env, "POST", &path(&ana_review), &owner, Some(json!({"decision": "delete"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = api(&env, "POST", &path("no-such-review"), &owner, Some(approve.clone())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for id in [&ana_review, &jonas_review] {
        let (status, item) = api(&env, "POST", &path(id), &owner, Some(approve.clone())).await;
        assert_eq!((status, item["status"].as_str()), (StatusCode::OK, Some("approved")), "{item}");
    }
    assert_eq!(
        env.scalar(
            "SELECT count(*) FROM audit_logs WHERE action = 'review.approve' AND entity_id = $1",
            &[&ana_review]
        )
        .await,
        1
    );

    // Approved: on the tour page with the average, and in its JSON-LD as an AggregateRating.
    let shown = send(http().get(&tour_path)).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.body.contains("A great guide &#38; a lovely walk."), "{}", shown.body);
    assert_eq!(shown.between("<strong class=\"rating-average\">", "</strong>"), "4.5");
    let ld = json_ld(&shown);
    assert_eq!(ld["aggregateRating"]["@type"], "AggregateRating");
    assert_eq!(ld["aggregateRating"]["ratingValue"], "4.5");
    assert_eq!(ld["aggregateRating"]["reviewCount"], 2);
    assert_eq!(ld["review"].as_array().unwrap().len(), 2);
    let de_page = send(http().get(format!("{tour_path}?lang=de"))).await;
    assert_eq!(de_page.between("<strong class=\"rating-average\">", "</strong>"), "4,5");

    // Unchanged reviews are served from the cache: text edited behind the server's back (plain
    // SQL, not logged) is not seen until a logged change moves the organization's counter.
    env.pg()
        .await
        .execute("UPDATE reviews SET content = 'Edited behind the back of the server.' WHERE id = $1", &[&ana_review])
        .await
        .unwrap();
    let cached = send(http().get(&tour_path)).await;
    assert!(cached.body.contains("A great guide &#38; a lovely walk."), "{}", cached.body);
    assert!(!cached.body.contains("Edited behind"), "{}", cached.body);

    // Withdrawn again: off the page at once (the decision moves the caches' counter).
    let (status, _) = api(&env, "POST", &path(&jonas_review), &owner, Some(json!({"decision": "reject"}))).await;
    assert_eq!(status, StatusCode::OK);
    let ld = json_ld(&send(http().get(&tour_path)).await);
    assert_eq!(
        (ld["aggregateRating"]["ratingValue"].as_str(), ld["aggregateRating"]["reviewCount"].as_u64()),
        (Some("4.0"), Some(1))
    );
    let fresh = send(http().get(&tour_path)).await;
    assert!(fresh.body.contains("Edited behind the back of the server."), "{}", fresh.body);
}

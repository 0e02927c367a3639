//! The waitlist (issue 13 item 5, issue 15 item 2): customers join a sold-out departure's
//! waitlist on the website; when seats free up the server's job offers them to the first entry
//! whose party fits, holding them for the configured time and mailing a claim link; the link
//! pays for the held seats through the checkout's payment path; an offer that lapses goes to the
//! next entry. Against a real server, PostgreSQL, the fake Stripe and the SMTP sink.
//!
//! The desk's side: entries replicate to office desks (never a guide's device) when added, offered,
//! booked, lapsed or removed; staff add and remove them offline, the server decides again.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tourdesk_domain::hlc::Hlc;
use tourdesk_domain::ipc::WaitlistFilter;
use tourdesk_domain::mutation::Mutation;
use tourdesk_domain::protocol::{MutationEnvelope, OutcomeStatus, PushRequest, SCHEMA_VERSION};
use tourdesk_domain::waitlist::WaitlistStatus;
use tourdesk_local_store::Store;
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::smtp::{Message, SmtpSink};
use tourdesk_testkit::stripe::FakeStripe;
use tourdesk_tests::{Env, empty_departure, m, nonce, push_raw, sign_in, synced_desk};

const ORG: &str = demo_data::DEMO_ORG_SLUG;
const OFFER_SUBJECT: &str = "Seats are free for you";

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A departure made sold out for the test: capacity 3, all three held by one website booking.
struct SoldOut {
    departure: String,
    tour: String,
    slug: String,
    date: String,
    blocker: String,
    tier: String,
    /// The tour's tiers in its order (the form asks a count for each).
    tiers: Vec<String>,
}

async fn tiers_of(env: &Env, tour: &str) -> Vec<String> {
    env.pg()
        .await
        .query("SELECT p.id FROM pricing_tiers p JOIN schedules s ON s.tour_id = p.tour_id WHERE s.id = $1 ORDER BY p.sort_order, p.id", &[&tour])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

async fn sold_out(env: &Env) -> SoldOut {
    let (departure, tour, tier) = empty_departure(env).await;
    let pg = env.pg().await;
    pg.execute("UPDATE schedules SET capacity = 3 WHERE id = $1", &[&departure]).await.unwrap();
    let req = json!({
        "request_id": nonce(),
        "departure_id": departure,
        "customer": {"email": "blocker@example.com", "first_name": "Ada", "last_name": "Blocker"},
        "lines": [{"tier_id": tier, "quantity": 3}],
    });
    let r = http().post(format!("{}/api/v1/orgs/{ORG}/bookings", env.base_url())).json(&req).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let row = pg
        .query_one(
            "SELECT t.slug, s.local_date::text, s.status, s.booked_count FROM schedules s
             JOIN tours t ON t.id = s.tour_id WHERE s.id = $1",
            &[&departure],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, String>(2), row.get::<_, i32>(3)), ("full".to_string(), 3));
    let tiers = tiers_of(env, &departure).await;
    SoldOut {
        tiers,
        departure,
        tour,
        slug: row.get(0),
        date: row.get(1),
        blocker: created["booking"]["id"].as_str().unwrap().to_string(),
        tier,
    }
}

/// Joins the waitlist through the website's form, the whole party in the first tier; returns
/// the page.
async fn join(env: &Env, d: &SoldOut, who: &str, party: u32, lang: &str) -> (StatusCode, String) {
    join_tiers(env, d, who, &[party], lang).await
}

/// Joins with `counts[i]` people of the tour's `i`th tier.
async fn join_tiers(env: &Env, d: &SoldOut, who: &str, counts: &[u32], lang: &str) -> (StatusCode, String) {
    let mut form = vec![
        ("tour".to_string(), d.slug.clone()),
        ("date".to_string(), d.date.clone()),
        ("departure".to_string(), d.departure.clone()),
        ("first_name".to_string(), who.to_string()),
        ("last_name".to_string(), "Waiting".to_string()),
        ("email".to_string(), format!("{}@example.com", who.to_lowercase())),
        ("lang".to_string(), lang.to_string()),
    ];
    for (tier, n) in d.tiers.iter().zip(counts) {
        form.push((format!("qty_{tier}"), n.to_string()));
    }
    let r = http().post(format!("{}/{ORG}/waitlist", env.base_url())).form(&form).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// Cancels a booking as a desk does: `cancel_booking.v1` pushed by a manager.
async fn cancel(env: &Env, d: &SoldOut, booking: &str) {
    let token = sign_in(env, demo_data::DEMO_MANAGER_EMAIL).await;
    let cancel: Mutation = m(
        "cancel_booking.v1",
        json!({"booking_id": booking, "tour_id": d.tour, "departure_id": d.departure, "by": "operator"}),
    );
    let req = PushRequest {
        client_id: nonce(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![MutationEnvelope {
            id: 1,
            name: cancel.name().into(),
            args: cancel.args(),
            hlc: Hlc::at(Utc::now(), 1, "desk").to_string(),
        }],
    };
    let resp = push_raw(&env.base_url(), &token, &req).await;
    assert_eq!(resp.results[0].status, OutcomeStatus::Applied, "{:?}", resp.results);
}

/// Each entry's status by the customer's first name.
async fn statuses(env: &Env, d: &SoldOut) -> Vec<(String, String)> {
    env.pg()
        .await
        .query(
            "SELECT c.first_name, w.status FROM waitlist_entries w JOIN customers c ON c.id = w.customer_id
             WHERE w.departure_id = $1 ORDER BY w.created_at, w.id",
            &[&d.departure],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn st(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

async fn wait_for_statuses(env: &Env, d: &SoldOut, want: &[(&str, &str)]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got = statuses(env, d).await;
        if got == st(want) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "waitlist stayed at {got:?}, wanted {want:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn offers(smtp: &SmtpSink, n: usize) -> Vec<Message> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got: Vec<Message> = smtp.messages().into_iter().filter(|m| m.subject.starts_with(OFFER_SUBJECT)).collect();
        if got.len() >= n {
            return got;
        }
        assert!(tokio::time::Instant::now() < deadline, "{} offer mails, wanted {n}", got.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Follows a claim link as a browser does: the token is exchanged for an HttpOnly, SameSite=Lax
/// cookie (Secure on HTTPS) and a redirect to the clean claim page, which is then asked with the
/// cookie. Returns the final answer and the cookie.
async fn follow_claim(env: &Env, path: &str, secure: bool) -> (reqwest::Response, String) {
    let first = http().get(format!("{}{path}", env.base_url())).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let to = first.headers()["location"].to_str().unwrap().to_string();
    assert!(!to.contains("token") && to.starts_with(&format!("/{ORG}/waitlist/claim")), "{to}");
    assert_eq!(first.headers()["cache-control"], "no-store");
    assert_eq!(first.headers()["referrer-policy"], "no-referrer");
    let set = first.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set.starts_with("tourdesk_claim="), "{set}");
    for flag in ["HttpOnly", "SameSite=Lax", &format!("Path=/{ORG}/waitlist/claim")] {
        assert!(set.contains(flag), "{set}");
    }
    assert_eq!(set.contains("; Secure"), secure, "{set}");
    let cookie = set.split(';').next().unwrap().to_string();
    let r = http().get(format!("{}{to}", env.base_url())).header("cookie", &cookie).send().await.unwrap();
    (r, cookie)
}

/// The claim link's path in an offer mail.
fn claim_path(mail: &Message) -> String {
    let start = mail.text.find(&format!("/{ORG}/waitlist/claim?token=")).unwrap_or_else(|| panic!("{}", mail.text));
    mail.text[start..].split_whitespace().next().unwrap().to_string()
}

async fn booked_count(env: &Env, d: &SoldOut) -> i32 {
    env.pg().await.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&d.departure]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_offers_the_seats_to_the_first_party_that_fits_and_the_claim_books() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_with(|c| {
        c.stripe.api_base = Some(stripe.uri());
        c.mail.smtp_url = Some(smtp.url());
        // On HTTPS: the claim's cookie is Secure.
        c.mail.public_base_url = "https://tours.example.test".into();
    })
    .await;
    let d = sold_out(&env).await;
    for (who, party) in [("Ann", 4), ("Bob", 2), ("Cy", 1), ("Dee", 2)] {
        let (status, body) = join(&env, &d, who, party, "en").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("You are on the waitlist"), "{body}");
    }
    // Nothing is free: everyone waits, however many passes of the job run.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        statuses(&env, &d).await,
        st(&[("Ann", "waiting"), ("Bob", "waiting"), ("Cy", "waiting"), ("Dee", "waiting")])
    );

    // Three seats come free: Ann's four do not fit and she keeps her place; Bob (2) and Cy (1) are
    // offered them; Dee is next in line.
    cancel(&env, &d, &d.blocker).await;
    wait_for_statuses(&env, &d, &[("Ann", "waiting"), ("Bob", "offered"), ("Cy", "offered"), ("Dee", "waiting")]).await;
    assert_eq!(booked_count(&env, &d).await, 3, "the offers hold the freed seats, and no more");
    let mails = offers(&smtp, 2).await;
    let to: Vec<&str> = mails.iter().map(|m| m.to[0].as_str()).collect();
    assert_eq!(to.len(), 2);
    assert!(to.contains(&"bob@example.com") && to.contains(&"cy@example.com"), "{to:?}");
    let bob = mails.iter().find(|m| m.to[0] == "bob@example.com").unwrap();
    assert!(bob.text.contains("2 seat(s)"), "{}", bob.text);

    // Bob follows his link: the payment of the held seats; paid, the booking is confirmed and his
    // entry booked.
    let path = claim_path(bob);
    let (r, _) = follow_claim(&env, &path, true).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["referrer-policy"], "no-referrer");
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"payment-element\""), "{body}");
    let secret = body.split("data-client-secret=\"").nth(1).unwrap().split('"').next().unwrap();
    let intent = secret.split("_secret").next().unwrap();
    env.deliver_stripe_event(&stripe.succeed(intent)).await;
    wait_for_statuses(&env, &d, &[("Ann", "waiting"), ("Bob", "booked"), ("Cy", "offered"), ("Dee", "waiting")]).await;
    let confirmed = env
        .scalar(
            "SELECT count(*) FROM bookings b JOIN waitlist_entries w ON w.offer_booking_id = b.id
             WHERE w.departure_id = $1 AND b.status = 'confirmed' AND b.participant_count = 2",
            &[&d.departure],
        )
        .await;
    assert_eq!(confirmed, 1);
    // Both offers are recorded in the communications log (marked sent by now), without the token.
    let logged = env
        .scalar(
            "SELECT count(*) FROM communications WHERE type = 'waitlist_offer' AND status = 'sent'
               AND content LIKE '%[link to claim your seats]%'",
            &[],
        )
        .await;
    assert_eq!(logged, 2);
    // The link again: the confirmation.
    let (again, _) = follow_claim(&env, &path, true).await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert!(again.headers()["location"].to_str().unwrap().starts_with(&format!("/{ORG}/bookings/")));
    // A made-up token finds nothing.
    let (none, _) = follow_claim(&env, &format!("/{ORG}/waitlist/claim?token=nothing"), true).await;
    assert_eq!(none.status(), StatusCode::NOT_FOUND);
    let no_cookie = http().get(format!("{}/{ORG}/waitlist/claim", env.base_url())).send().await.unwrap();
    assert_eq!(no_cookie.status(), StatusCode::NOT_FOUND);
    assert!(booked_count(&env, &d).await <= 3, "never oversold");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_that_lapses_goes_to_the_next_entry() {
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_with(|c| {
        c.mail.smtp_url = Some(smtp.url());
        c.booking.waitlist_offer_seconds = 2;
    })
    .await;
    let d = sold_out(&env).await;
    for (who, party) in [("Bob", 2), ("Dee", 3)] {
        assert_eq!(join(&env, &d, who, party, "en").await.0, StatusCode::OK);
    }
    cancel(&env, &d, &d.blocker).await;
    // Bob is offered two of the three seats; Dee's three do not fit beside them.
    wait_for_statuses(&env, &d, &[("Bob", "offered"), ("Dee", "waiting")]).await;
    let first = offers(&smtp, 1).await;
    let bob_link = claim_path(&first[0]);
    // Bob lets it lapse: his hold is released and the three seats go to Dee.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got = statuses(&env, &d).await;
        if got[0].1 == "lapsed" && got[1].1 != "waiting" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no second offer: {got:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mails = offers(&smtp, 2).await;
    assert_eq!(mails[1].to, ["dee@example.com"]);
    assert!(mails[1].text.contains("3 seat(s)"), "{}", mails[1].text);
    assert!(booked_count(&env, &d).await <= 3, "never oversold");
    // Bob's link now says the offer has gone, in his language.
    let (lapsed, _) = follow_claim(&env, &format!("{bob_link}&lang=de"), false).await;
    assert_eq!(lapsed.status(), StatusCode::CONFLICT);
    assert!(lapsed.text().await.unwrap().contains("Dieses Angebot ist abgelaufen"));
}

/// The offer e-mail is written in the customer's language, as their other e-mails are: a
/// customer met first on the German waitlist form is kept as German-speaking and offered the seats
/// in German (the hold's end and the departure in its zone, the claim link working as in English);
/// one who joined on the English form gets English.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offer_mail_is_in_the_customers_language() {
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_with(|c| c.mail.smtp_url = Some(smtp.url())).await;
    let d = sold_out(&env).await;
    assert_eq!(join(&env, &d, "Jonas", 2, "de").await.0, StatusCode::OK);
    assert_eq!(join(&env, &d, "Emma", 1, "en").await.0, StatusCode::OK);
    let pg = env.pg().await;
    for (email, language) in [("jonas@example.com", "de"), ("emma@example.com", "en")] {
        let r = pg.query_one("SELECT preferred_language FROM customers WHERE email = $1", &[&email]).await.unwrap();
        assert_eq!(r.get::<_, String>(0), language, "{email}");
    }
    cancel(&env, &d, &d.blocker).await;
    wait_for_statuses(&env, &d, &[("Jonas", "offered"), ("Emma", "offered")]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mails = loop {
        let got: Vec<Message> =
            smtp.messages().into_iter().filter(|m| m.text.contains("/waitlist/claim?token=")).collect();
        if got.len() >= 2 {
            break got;
        }
        assert!(tokio::time::Instant::now() < deadline, "{} offer mails, wanted 2", got.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let tour: String = pg
        .query_one("SELECT t.name FROM tours t JOIN schedules s ON s.tour_id = t.id WHERE s.id = $1", &[&d.departure])
        .await
        .unwrap()
        .get(0);
    let jonas = mails.iter().find(|m| m.to[0] == "jonas@example.com").unwrap();
    assert_eq!(jonas.subject, format!("Plätze für Sie frei: {tour}"));
    for words in ["Hallo,", "2 Plätze für", "sind frei geworden und bis", "für Sie reserviert", " um ", "Warteliste"]
    {
        assert!(jonas.text.contains(words), "{words:?} not in {}", jonas.text);
    }
    assert!(!jonas.text.contains("seat(s)") && !jonas.text.contains("Good news"), "{}", jonas.text);
    let emma = mails.iter().find(|m| m.to[0] == "emma@example.com").unwrap();
    assert_eq!(emma.subject, format!("{OFFER_SUBJECT}: {tour}"));
    assert!(emma.text.contains("1 seat(s)") && emma.text.contains("held for you until"), "{}", emma.text);
    // The German link leads to the held seats' payment as the English one does.
    let (r, _) = follow_claim(&env, &claim_path(jonas), false).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dates_page_offers_the_waitlist_on_a_sold_out_departure_in_two_languages() {
    let env = Env::start().await;
    let d = sold_out(&env).await;
    let dates = http()
        .get(format!("{}/{ORG}/tours/{}/dates?day={}", env.base_url(), d.slug, d.date))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let link = format!("/{ORG}/waitlist?tour={}&#38;date={}&#38;departure={}", d.slug, d.date, d.departure);
    assert!(dates.contains(&link), "{dates}");
    assert!(dates.contains(">Join the waitlist<"));

    let form = http()
        .get(format!(
            "{}/{ORG}/waitlist?tour={}&date={}&departure={}&lang=de",
            env.base_url(),
            d.slug,
            d.date,
            d.departure
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let form = form.text().await.unwrap();
    assert!(form.contains("Anzahl Personen"), "{form}");
    for t in &d.tiers {
        assert!(form.contains(&format!("<label for=\"qty_{t}\">")), "a count per tier: {form}");
    }

    // Errors beside their fields, in the customer's language; nothing written.
    let (status, body) = join(&env, &d, "", 0, "de").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"first_name-error\"") && body.contains("Bitte ausfüllen."), "{body}");
    let (status, body) = join(&env, &d, "Eve", 51, "en").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"participants-error\""), "{body}");
    let (status, body) = join_tiers(&env, &d, "Eve", &[0, 0], "de").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("id=\"participants-error\"") && body.contains("Wählen Sie mindestens einen Teilnehmer."),
        "{body}"
    );
    assert!(statuses(&env, &d).await.is_empty());

    let (status, body) = join(&env, &d, "Eve", 2, "de").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Sie stehen auf der Warteliste"), "{body}");
    assert_eq!(statuses(&env, &d).await, st(&[("Eve", "waiting")]));
    let (lines, actor): (Value, String) = {
        let r = env
            .pg()
            .await
            .query_one("SELECT lines, created_by FROM waitlist_entries WHERE departure_id = $1", &[&d.departure])
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(lines[0]["quantity"], 2);
    assert_eq!(actor, "website");

    // A departure with the seats asked for is booked, not waited for.
    let (open, _, _) = empty_departure(&env).await;
    let row = env
        .pg()
        .await
        .query_one(
            "SELECT t.slug, s.local_date::text FROM schedules s JOIN tours t ON t.id = s.tour_id WHERE s.id = $1",
            &[&open],
        )
        .await
        .unwrap();
    let tiers = tiers_of(&env, &open).await;
    let free = SoldOut {
        departure: open,
        tour: String::new(),
        slug: row.get(0),
        date: row.get(1),
        blocker: String::new(),
        tier: String::new(),
        tiers,
    };
    let (status, body) = join(&env, &free, "Fay", 1, "en").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("please book on the dates page"), "{body}");
}

/// Pushes one mutation as `email`, behind any desk's back; returns the verdict's code.
async fn push_as(env: &Env, email: &str, mutation: Mutation) -> (OutcomeStatus, Option<String>) {
    let token = sign_in(env, email).await;
    let req = PushRequest {
        client_id: nonce(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![MutationEnvelope {
            id: 1,
            name: mutation.name().into(),
            args: mutation.args(),
            hlc: Hlc::at(Utc::now(), 1, "desk").to_string(),
        }],
    };
    let resp = push_raw(&env.base_url(), &token, &req).await;
    (resp.results[0].status, resp.results[0].code.clone())
}

fn add_entry(id: &str, d: &SoldOut, customer: &str, party: u32) -> Mutation {
    m(
        "add_to_waitlist.v1",
        json!({"id": id, "tour_id": d.tour, "departure_id": d.departure, "customer_id": customer,
               "lines": [{"tier_id": d.tier, "quantity": party}], "notes": "phoned in"}),
    )
}

/// A desk's entries of the departure: (customer, status in words, place, pending).
fn desk_rows(desk: &Store, d: &SoldOut) -> Vec<(String, WaitlistStatus, Option<u32>, bool)> {
    desk.departure_waitlist(&d.departure)
        .unwrap()
        .into_iter()
        .map(|r| (r.customer_name, r.entry.status, r.place, r.pending))
        .collect()
}

/// Syncs `desk` until `id`'s entry has `status` there.
async fn until_desk_sees(client: &tourdesk_local_store::SyncClient, desk: &Store, id: &str, status: WaitlistStatus) {
    for _ in 0..80 {
        client.sync_once(desk).await.unwrap();
        let rows = desk.waitlist(&WaitlistFilter::default()).unwrap();
        if rows.iter().any(|r| r.entry.id == id && r.entry.status == status && !r.pending) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the desk never saw {id} {status}: {:?}", desk.waitlist(&WaitlistFilter::default()).unwrap());
}

async fn entry_status(env: &Env, id: &str) -> String {
    env.pg().await.query_one("SELECT status FROM waitlist_entries WHERE id = $1", &[&id]).await.unwrap().get(0)
}

async fn logged_rows(env: &Env, id: &str) -> i64 {
    env.scalar("SELECT count(*) FROM sync_changes WHERE entity = 'waitlist_entry' AND row_id = $1", &[&id]).await
}

async fn audit_rows(env: &Env, id: &str) -> i64 {
    env.scalar("SELECT count(*) FROM audit_logs WHERE entity = 'waitlist_entry' AND entity_id = $1", &[&id]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waitlist_is_kept_and_managed_on_office_desks() {
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_with(|c| c.mail.smtp_url = Some(smtp.url())).await;
    let d = sold_out(&env).await;
    let (front, front_client) = synced_desk(&env, "front", demo_data::DEMO_OWNER_EMAIL).await;
    let (back, back_client) = synced_desk(&env, "back", demo_data::DEMO_MANAGER_EMAIL).await;

    // The front desk, offline, creates a caller as a customer and puts two parties on the list.
    let (first, second) = (nonce(), nonce());
    let customer = nonce();
    front
        .mutate(&m(
            "create_customer.v1",
            json!({"id": customer, "email": "gil@example.com", "first_name": "Gil", "last_name": "Caller",
                   "hlc": Hlc::at(Utc::now(), 0, "front").to_string()}),
        ))
        .unwrap();
    front.mutate(&add_entry(&first, &d, &customer, 2)).unwrap();
    front.mutate(&add_entry(&second, &d, &customer, 2)).unwrap();
    let mine = desk_rows(&front, &d);
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().all(|r| r.1 == WaitlistStatus::Waiting && r.3), "shown at once, pending: {mine:?}");

    // Pushed, they reach the second office desk with their places.
    front_client.sync_once(&front).await.unwrap();
    assert!(front.rejections().unwrap().is_empty(), "{:?}", front.rejections().unwrap());
    back_client.sync_once(&back).await.unwrap();
    assert_eq!(
        desk_rows(&back, &d),
        [
            ("Gil Caller".to_string(), WaitlistStatus::Waiting, Some(1), false),
            ("Gil Caller".to_string(), WaitlistStatus::Waiting, Some(2), false)
        ]
    );
    assert_eq!(audit_rows(&env, &first).await, 1, "the addition is audited");

    // The back desk takes the second party off: decided again on the server, audited, and seen
    // by the front desk.
    back.mutate(&m("remove_from_waitlist.v1", json!({"id": second}))).unwrap();
    back_client.sync_once(&back).await.unwrap();
    assert!(back.rejections().unwrap().is_empty(), "{:?}", back.rejections().unwrap());
    assert_eq!(entry_status(&env, &second).await, "removed");
    assert_eq!(audit_rows(&env, &second).await, 2);
    until_desk_sees(&front_client, &front, &second, WaitlistStatus::Removed).await;

    // Three seats come free: the offers job holds two for the first party; the desks see it offered.
    cancel(&env, &d, &d.blocker).await;
    until_desk_sees(&back_client, &back, &first, WaitlistStatus::Offered).await;
    let row = back.waitlist(&WaitlistFilter::default()).unwrap().into_iter().find(|r| r.entry.id == first).unwrap();
    assert!(row.status_words.starts_with("Offered until "), "{}", row.status_words);
    assert!(!row.removable && row.entry.offer_booking_id.is_some());
    until_desk_sees(&front_client, &front, &first, WaitlistStatus::Offered).await;

    // An offered entry is not removed (the desk refuses it itself, queueing nothing) …
    assert!(front.mutate(&m("remove_from_waitlist.v1", json!({"id": first}))).is_err());
    assert_eq!(front.pending_count().unwrap(), 0);
    // … nor a booked one by the server, which writes nothing for the refusal.
    env.pg().await.execute("UPDATE waitlist_entries SET status = 'booked' WHERE id = $1", &[&first]).await.unwrap();
    let (logged, audited) = (logged_rows(&env, &first).await, audit_rows(&env, &first).await);
    let verdict = push_as(&env, demo_data::DEMO_OWNER_EMAIL, m("remove_from_waitlist.v1", json!({"id": first}))).await;
    assert_eq!(verdict, (OutcomeStatus::Rejected, Some("CONFLICT".to_string())));
    assert_eq!(entry_status(&env, &first).await, "booked");
    assert_eq!((logged_rows(&env, &first).await, audit_rows(&env, &first).await), (logged, audited), "nothing written");

    // A guide may not add anyone, and their device holds no waitlist.
    let third = nonce();
    let verdict = push_as(&env, demo_data::DEMO_GUIDE_EMAIL, add_entry(&third, &d, &customer, 1)).await;
    assert_eq!(verdict, (OutcomeStatus::Rejected, Some("NOT_AUTHORIZED".to_string())));
    assert_eq!(env.scalar("SELECT count(*) FROM waitlist_entries WHERE id = $1", &[&third]).await, 0);
    let (guide, _) = synced_desk(&env, "guide-phone", demo_data::DEMO_GUIDE_EMAIL).await;
    assert!(guide.waitlist(&WaitlistFilter::default()).unwrap().is_empty());
    let outside_office = env
        .scalar(
            "SELECT count(*) FROM sync_changes WHERE entity = 'waitlist_entry' AND bucket NOT LIKE 'org:%:all'",
            &[],
        )
        .await;
    assert_eq!(outside_office, 0, "entries go to office desks only");
}

/// Issue 15: the waitlist form asks a count per tier; the entry keeps the party as those lines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waitlist_form_takes_a_count_per_tier() {
    let env = Env::start().await;
    let d = sold_out(&env).await;
    assert!(d.tiers.len() >= 2, "the demo tours have two tiers");
    let (status, body) = join_tiers(&env, &d, "Gus", &[1, 2], "en").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (lines, party): (Value, i32) = {
        let r = env
            .pg()
            .await
            .query_one("SELECT lines, party_size FROM waitlist_entries WHERE departure_id = $1", &[&d.departure])
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(party, 3);
    assert_eq!(lines, json!([{"tier_id": d.tiers[0], "quantity": 1}, {"tier_id": d.tiers[1], "quantity": 2}]));
    // A count that is no number is refused beside that tier's field.
    let (status, body) = join_tiers(&env, &d, "Hal", &[1], "en").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = format!("qty_{}", d.tiers[1]);
    let form = [
        ("tour", d.slug.clone()),
        ("date", d.date.clone()),
        ("departure", d.departure.clone()),
        ("first_name", "Ivy".to_string()),
        ("last_name", "Waiting".to_string()),
        ("email", "ivy@example.com".to_string()),
        (second.as_str(), "two".to_string()),
    ];
    let r = http().post(format!("{}/{ORG}/waitlist", env.base_url())).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains(&format!("id=\"qty_{}-error\"", d.tiers[1])), "{body}");
    assert_eq!(env.scalar("SELECT count(*) FROM waitlist_entries WHERE departure_id = $1", &[&d.departure]).await, 2);
}

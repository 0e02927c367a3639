//! Two sync-server instances on one PostgreSQL, as behind a load balancer: a desk connected to
//! one is poked by a booking made through the other; the last seats sold through both go once;
//! the background jobs of both run, yet each expired hold is released once and each e-mail sent
//! once.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tourdesk_sync_server::{Config, RunningServer, demo_data};
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_testkit::stripe::{FakeStripe, sign};
use tourdesk_tests::{Env, Fakes};

const ORG: &str = demo_data::DEMO_ORG_SLUG;

/// A second instance beside `env`'s: same database, same settings, its own address.
async fn second_instance(env: &Env) -> (RunningServer, String) {
    let b = tourdesk_sync_server::start(Config { listen: "127.0.0.1:0".into(), ..env.server_config.clone() })
        .await
        .unwrap();
    let url = format!("http://{}", b.addr);
    (b, url)
}

async fn post(base: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    let r = reqwest::Client::new().post(format!("{base}{path}")).json(body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A departure more than three days out with `seats` free, set to exactly that many, and the
/// first tier of its tour.
async fn departure_with(env: &Env, seats: i32) -> (String, String) {
    let pg = env.pg().await;
    let r = pg
        .query_one(
            "SELECT s.id, p.id FROM schedules s JOIN pricing_tiers p ON p.tour_id = s.tour_id
             WHERE s.status = 'open' AND s.starts_at > now() + interval '3 days'
             ORDER BY s.starts_at, s.id, p.id LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (dep, tier): (String, String) = (r.get(0), r.get(1));
    let booked: i32 = pg.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&dep]).await.unwrap().get(0);
    pg.execute("UPDATE schedules SET capacity = $2 WHERE id = $1", &[&dep, &(booked + seats)]).await.unwrap();
    (dep, tier)
}

fn booking(dep: &str, tier: &str, email: &str) -> Value {
    json!({
        "request_id": uuid::Uuid::new_v4().to_string(),
        "departure_id": dep,
        "customer": {"email": email, "first_name": "Ada", "last_name": "Lovelace"},
        "lines": [{"tier_id": tier, "quantity": 1}],
    })
}

async fn book(base: &str, dep: &str, tier: &str, email: &str) -> Value {
    let (s, b) = post(base, &format!("/api/v1/orgs/{ORG}/bookings"), &booking(dep, tier, email)).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    b
}

/// A desk that talks to `env`'s instance (A) only and follows A's live pokes, synced once; the
/// pokes arrive on the receiver, the greeting (the sequence at connect) already taken.
struct Watching {
    desk: std::sync::Arc<tourdesk_local_store::Store>,
    client: std::sync::Arc<tourdesk_local_store::SyncClient>,
    pokes: tokio::sync::mpsc::UnboundedReceiver<i64>,
    greeting: i64,
    watcher: tokio::task::JoinHandle<Result<(), tourdesk_local_store::SyncError>>,
}

async fn watching_a(env: &Env) -> Watching {
    let desk = std::sync::Arc::new(env.desk("office"));
    let client = std::sync::Arc::new(env.client(demo_data::DEMO_OWNER_EMAIL));
    client.sync_once(&desk).await.unwrap();
    let (tx, mut pokes) = tokio::sync::mpsc::unbounded_channel();
    let (d, c) = (desk.clone(), client.clone());
    let watcher = tokio::spawn(async move {
        c.watch(&d, |seq| {
            let _ = tx.send(seq);
        })
        .await
    });
    let greeting = tokio::time::timeout(Duration::from_secs(10), pokes.recv()).await.expect("a greeting").unwrap();
    Watching { desk, client, pokes, greeting, watcher }
}

impl Watching {
    /// The first poke past the greeting, within `limit`.
    async fn next_change(&mut self, limit: Duration) -> i64 {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let seq = tokio::time::timeout_at(deadline, self.pokes.recv())
                .await
                .unwrap_or_else(|_| panic!("no poke through A within {limit:?}"))
                .unwrap();
            if seq > self.greeting {
                return seq;
            }
        }
    }

    async fn booked(&self, dep: &str) -> u32 {
        self.client.sync_once(&self.desk).await.unwrap();
        self.desk.departure(dep).unwrap().unwrap().departure.booked_count
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_on_one_instance_sees_a_website_booking_made_through_the_other_within_a_second() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let (b, b_url) = second_instance(&env).await;
    let (dep, tier) = departure_with(&env, 5).await;
    let mut a = watching_a(&env).await;
    let before = a.booked(&dep).await;

    // A customer books through B.
    book(&b_url, &dep, &tier, "web@example.com").await;
    let started = std::time::Instant::now();

    // B's commit reaches A through PostgreSQL's NOTIFY; A pokes the desk, which pulls.
    a.next_change(Duration::from_secs(1)).await;
    let poked = started.elapsed();
    assert_eq!(a.booked(&dep).await, before + 1, "the desk shows the seat sold through the other instance");
    let seen = started.elapsed();
    eprintln!("booking through B: poke on a desk of A after {poked:?}, seat count pulled after {seen:?}");
    assert!(seen < Duration::from_secs(1), "the seat count took {seen:?}");

    a.watcher.abort();
    b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_change_listener_reconnects_and_its_desks_miss_no_booking() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let (b, b_url) = second_instance(&env).await;
    let (dep, tier) = departure_with(&env, 5).await;
    let mut a = watching_a(&env).await;
    let before = a.booked(&dep).await;

    // Both instances' LISTEN connections are cut, as by a failover or a dropped network path.
    let listeners = "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1";
    let name = tourdesk_sync_server::events::LISTENER_NAME;
    assert_eq!(env.scalar(listeners, &[&name]).await, 2, "one listener per instance");
    let cut = env
        .scalar(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
             FROM (SELECT pid FROM pg_stat_activity WHERE application_name = $1) l",
            &[&name],
        )
        .await;
    assert_eq!(cut, 2);

    // Booked at once, most likely before A listens again: its NOTIFY then reaches no listener
    // of A's, and A's catch-up after reconnecting is what pokes the desk.
    book(&b_url, &dep, &tier, "cut@example.com").await;
    a.greeting = a.next_change(Duration::from_secs(5)).await;
    assert_eq!(a.booked(&dep).await, before + 1, "the desk shows the seat sold while A was not listening");

    // Both listen again, and live pokes flow as before.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while env.scalar(listeners, &[&name]).await != 2 {
        assert!(std::time::Instant::now() < deadline, "the listeners did not reconnect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    while let Ok(seq) = a.pokes.try_recv() {
        a.greeting = a.greeting.max(seq);
    }
    book(&b_url, &dep, &tier, "after@example.com").await;
    a.next_change(Duration::from_secs(1)).await;
    assert_eq!(a.booked(&dep).await, before + 2);

    a.watcher.abort();
    b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_seats_sold_through_two_instances_go_exactly_once() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let (b, b_url) = second_instance(&env).await;
    let seats = 6;
    let (dep, tier) = departure_with(&env, seats).await;
    let booked_before = env.scalar("SELECT booked_count::bigint FROM schedules WHERE id = $1", &[&dep]).await;

    let urls = [env.base_url(), b_url];
    let mut tasks = Vec::new();
    for i in 0..80 {
        let (base, dep, tier) = (urls[i % 2].clone(), dep.clone(), tier.clone());
        tasks.push(tokio::spawn(async move {
            let (s, v) = post(
                &base,
                &format!("/api/v1/orgs/{ORG}/bookings"),
                &booking(&dep, &tier, &format!("racer{i}@example.com")),
            )
            .await;
            (s, v["code"].as_str().map(str::to_string))
        }));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            (StatusCode::CREATED, _) => created += 1,
            (StatusCode::CONFLICT, Some(code)) if code == "CAPACITY_EXCEEDED" || code == "DEPARTURE_NOT_BOOKABLE" => {}
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(created, seats, "exactly the free seats were sold");
    let booked = env.scalar("SELECT booked_count::bigint FROM schedules WHERE id = $1", &[&dep]).await;
    let rows = env
        .scalar(
            "SELECT count(*) FROM bookings b JOIN customers c ON c.id = b.customer_id
         WHERE b.departure_id = $1 AND b.status <> 'cancelled' AND c.email LIKE 'racer%'",
            &[&dep],
        )
        .await;
    assert_eq!((booked - booked_before, rows), (i64::from(seats), i64::from(seats)));
    b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_two_instances_each_expired_hold_is_released_once() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), hold_seconds: Some(1), ..Fakes::default() }).await;
    let (b, b_url) = second_instance(&env).await;
    let n = 16;
    let (dep, tier) = departure_with(&env, n).await;
    let urls = [env.base_url(), b_url];
    let mut holds = Vec::new();
    for i in 0..n as usize {
        let created = book(&urls[i % 2], &dep, &tier, &format!("late{i}@example.com")).await;
        let id = created["booking"]["id"].as_str().unwrap().to_string();
        let intent = created["payment"]["payment_intent_id"].as_str().unwrap().to_string();
        holds.push((id, intent));
    }

    // Both instances' job loops sweep every 200 ms; wait until every hold is released and its
    // intent cancelled.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let open =
            env.scalar("SELECT count(*) FROM bookings WHERE departure_id = $1 AND status = 'pending'", &[&dep]).await;
        let cancelled = holds.iter().filter(|(_, i)| stripe.intent(i).unwrap().status == "canceled").count();
        if open == 0 && cancelled == holds.len() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{open} holds still open, {cancelled} intents cancelled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (id, intent) in &holds {
        let released = env
            .scalar(
                "SELECT count(*) FROM audit_logs WHERE entity_id = $1 AND actor = 'system:hold-expiry'
               AND entity = 'booking'",
                &[id],
            )
            .await;
        assert_eq!(released, 1, "booking {id} released once");
        let cancels = stripe
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path == format!("/v1/payment_intents/{intent}/cancel"))
            .count();
        assert_eq!(cancels, 1, "intent {intent} cancelled once");
    }
    b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_two_instances_each_queued_email_is_sent_once() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), smtp: Some(&smtp), ..Fakes::default() }).await;
    let (b, b_url) = second_instance(&env).await;
    let n = 12;
    let (dep, tier) = departure_with(&env, n).await;
    let urls = [env.base_url(), b_url];
    let mut bookings = Vec::new();
    for i in 0..n as usize {
        let email = format!("paid{i}@example.com");
        let created = book(&urls[i % 2], &dep, &tier, &email).await;
        bookings.push((created["booking"]["id"].as_str().unwrap().to_string(), email));
        // Paid: Stripe's webhook reaches the other instance, which queues the confirmation.
        let event = stripe.succeed(created["payment"]["payment_intent_id"].as_str().unwrap());
        let status = reqwest::Client::new()
            .post(format!("{}/api/v1/stripe/webhook", urls[(i + 1) % 2]))
            .header("Stripe-Signature", sign(&event, &env.webhook_secret(), Utc::now().timestamp()))
            .header("Content-Type", "application/json")
            .body(event)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::OK);
    }

    // Both job runners drain the outbox every 200 ms. Once every row is marked sent no drain can send it
    // again, so the sink's count is then final.
    let ids: Vec<String> = bookings.iter().map(|(id, _)| id.clone()).collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let unsent = env
            .scalar("SELECT count(*) FROM communications WHERE booking_id = ANY($1) AND status <> 'sent'", &[&ids])
            .await;
        let queued = env.scalar("SELECT count(*) FROM communications WHERE booking_id = ANY($1)", &[&ids]).await;
        if queued >= i64::from(n) && unsent == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{unsent} of {queued} e-mails unsent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut received: HashMap<String, usize> = HashMap::new();
    for m in smtp.messages() {
        for to in m.to {
            *received.entry(to).or_default() += 1;
        }
    }
    for (id, email) in &bookings {
        let rows =
            env.scalar("SELECT count(*) FROM communications WHERE booking_id = $1 AND attempts = 1", &[id]).await;
        let sent = received.get(email).copied().unwrap_or(0);
        assert_eq!(sent as i64, rows, "{email}: one message per queued e-mail");
        assert!(rows >= 1, "{email}: its confirmation was queued");
    }
    b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_through_one_instance_hold_the_account_on_the_other() {
    let env = Env::start().await;
    let (b, b_url) = second_instance(&env).await;
    let body = |password: &str| json!({"organization": ORG, "email": demo_data::DEMO_OWNER_EMAIL, "password": password, "device": "t"});
    for _ in 0..5 {
        let (status, e) = post(&env.base_url(), "/api/v1/auth/sign-in", &body("guess")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{e}");
    }
    // The throttle's state is in the database: B knows what A saw.
    let (status, e) = post(&b_url, "/api/v1/auth/sign-in", &body(demo_data::DEMO_PASSWORD)).await;
    assert_eq!((status, e["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("RATE_LIMITED")), "{e}");
    b.shutdown().await.unwrap();
}

/// What instance `base`'s public API says is left on `dep` (its tour and local date from the
/// database), and the day page's seat line for it.
async fn seats_shown(env: &Env, base: &str, dep: &str) -> (u64, String) {
    let pg = env.pg().await;
    let r = pg
        .query_one(
            "SELECT t.slug, s.local_date::text FROM schedules s JOIN tours t ON t.id = s.tour_id WHERE s.id = $1",
            &[&dep],
        )
        .await
        .unwrap();
    let (tour, date): (String, String) = (r.get(0), r.get(1));
    let a: Value = reqwest::get(format!("{base}/api/v1/orgs/{ORG}/tours/{tour}/availability?from={date}&to={date}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let seats =
        a["departures"].as_array().unwrap().iter().find(|d| d["id"] == dep).unwrap()["seats_left"].as_u64().unwrap();
    let page = reqwest::get(format!("{base}/{ORG}/tours/{tour}/dates?day={date}")).await.unwrap().text().await.unwrap();
    (seats, page)
}

async fn seats_left_in_db(env: &Env, dep: &str) -> u64 {
    let left = env.scalar("SELECT (capacity - booked_count)::bigint FROM schedules WHERE id = $1", &[&dep]).await;
    u64::try_from(left).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_sold_through_one_instance_shows_at_once_on_the_others_cached_availability() {
    let env = Env::start().await;
    let (b, b_url) = second_instance(&env).await;
    let a_url = env.base_url();
    let (dep, tier) = departure_with(&env, 12).await;
    // B has read (and cached) the day before anything is sold; so has A.
    assert_eq!(seats_shown(&env, &b_url, &dep).await.0, 12);
    assert_eq!(seats_shown(&env, &a_url, &dep).await.0, 12);
    for i in 0..10u64 {
        book(&a_url, &dep, &tier, &format!("cache{i}@example.com")).await;
        // Read at once through the other instance, no waiting for its change listener; then
        // through the one that sold, whose cache held the old count too.
        let (on_b, page_b) = seats_shown(&env, &b_url, &dep).await;
        assert_eq!(on_b, 11 - i, "instance B after booking {i}");
        assert_eq!(on_b, seats_left_in_db(&env, &dep).await);
        let left = format!("<p class=\"seats\">{} seats left</p>", 11 - i);
        assert!(page_b.contains(&left), "B's day page after booking {i} lacks {left:?}");
        assert_eq!(seats_shown(&env, &a_url, &dep).await.0, 11 - i, "instance A after booking {i}");
    }
    // Unchanged data is served from the cache: an edit made behind the server's back (plain
    // SQL, not logged, so no desk would see it either) is not seen until a logged change.
    env.pg().await.execute("UPDATE schedules SET capacity = capacity + 5 WHERE id = $1", &[&dep]).await.unwrap();
    for _ in 0..3 {
        assert_eq!(seats_shown(&env, &b_url, &dep).await.0, 2);
    }
    book(&a_url, &dep, &tier, "after-edit@example.com").await;
    assert_eq!(seats_shown(&env, &b_url, &dep).await.0, 6);
    b.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_hold_gives_its_seat_back_on_every_instances_cached_availability() {
    let env = Env::start_faked(Fakes { hold_seconds: Some(1), ..Fakes::default() }).await;
    let (b, b_url) = second_instance(&env).await;
    let (dep, tier) = departure_with(&env, 3).await;
    assert_eq!(seats_shown(&env, &b_url, &dep).await.0, 3);
    let booked = book(&env.base_url(), &dep, &tier, "expiring@example.com").await;
    assert_eq!(seats_shown(&env, &b_url, &dep).await.0, 2);
    let id = booked["booking"]["id"].as_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let cancelled =
            env.scalar("SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled'", &[&id]).await;
        if cancelled == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the hold was not released");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The release is committed: both instances show the seat again at once.
    assert_eq!(seats_shown(&env, &b_url, &dep).await.0, 3);
    assert_eq!(seats_shown(&env, &env.base_url(), &dep).await.0, 3);
    b.shutdown().await.unwrap();
}

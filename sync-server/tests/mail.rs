//! Outgoing mail end to end: lettre talking SMTP to the testkit's sink, and the outbox on a real,
//! migrated PostgreSQL.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use deadpool_postgres::Pool;
use tourdesk_sync_server::jobs::{self, mail_outbox};
use tourdesk_sync_server::mail::{self, Email, MailConfig, MailError, Mailer};
use tourdesk_sync_server::payments::gateway::StripeGateway;
use tourdesk_sync_server::{AppState, Config, db, demo_data, events};
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_testkit::{PgCluster, as_app};

const WAIT: Duration = Duration::from_secs(10);

struct Env {
    _cluster: PgCluster,
    /// As the server runs: the testkit's application role, bound by row-level security.
    pool: Pool,
    app_url: String,
    /// As the schema owner (a superuser): to arrange and inspect rows behind the mail code's back.
    owner: Pool,
    org: String,
    customer: String,
}

async fn env() -> Env {
    let cluster = PgCluster::start().unwrap();
    let url = cluster.fresh_database().await.unwrap();
    let owner = db::connect(&Config { database_url: url.clone(), pool_size: 4, ..Config::default() }).unwrap();
    db::migrate(&owner).await.unwrap();
    demo_data::demo(&owner).await.unwrap();
    let app_url = as_app(&url);
    let pool = db::connect(&Config { database_url: app_url.clone(), pool_size: 6, ..Config::default() }).unwrap();
    db::check_runtime_role(&pool).await.unwrap();
    let c = owner.get().await.unwrap();
    let org: String =
        c.query_one("SELECT id FROM organizations WHERE slug = $1", &[&demo_data::DEMO_ORG_SLUG]).await.unwrap().get(0);
    let customer = insert_customer(&c, &org, "ana@example.test").await;
    // The demo's sales come with the messages they sent then; these tests read the log from empty.
    c.execute("DELETE FROM communications WHERE organization_id = $1", &[&org]).await.unwrap();
    drop(c);
    Env { _cluster: cluster, pool, app_url, owner, org, customer }
}

async fn insert_customer(c: &deadpool_postgres::Client, org: &str, email: &str) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    c.execute(
        "INSERT INTO customers (id, organization_id, email, first_name, last_name) VALUES ($1, $2, $3, 'Ana', 'Silva')",
        &[&id, &org, &email],
    )
    .await
    .unwrap();
    id
}

fn mailer(sink: &SmtpSink) -> Mailer {
    Mailer::new(&MailConfig { smtp_url: Some(sink.url()), ..MailConfig::default() }).unwrap()
}

fn confirmation(to: &str) -> Email {
    Email {
        to: to.into(),
        subject: "Booking TD-1042 confirmed — Lisbon by tram".into(),
        text: "Olá Ana,\n\nyour seats are booked.\nSee you at 09:00.\n".into(),
    }
}

impl Env {
    async fn queue(&self, email: &Email) -> String {
        let mut c = self.pool.get().await.unwrap();
        let tx = c.transaction().await.unwrap();
        mail::set_tenant(&tx, &self.org).await.unwrap();
        let id = mail::queue(&tx, &self.org, &self.customer, None, "booking_confirmation", email).await.unwrap();
        tx.commit().await.unwrap();
        id
    }

    /// status, attempts, failure_reason, whether next_attempt_at is in the future, sent_at is set.
    async fn row(&self, id: &str) -> (String, i32, Option<String>, bool, bool) {
        let c = self.owner.get().await.unwrap();
        let r = c
            .query_one(
                "SELECT status, attempts, failure_reason, next_attempt_at > now(), sent_at IS NOT NULL
                 FROM communications WHERE organization_id = $1 AND id = $2",
                &[&self.org, &id],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1), r.get(2), r.get::<_, Option<bool>>(3).unwrap_or(false), r.get(4))
    }

    /// Stands in for the backoff elapsing.
    async fn make_due(&self, id: &str) {
        let c = self.owner.get().await.unwrap();
        c.execute(
            "UPDATE communications SET next_attempt_at = now() WHERE organization_id = $1 AND id = $2",
            &[&self.org, &id],
        )
        .await
        .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mailer_delivers_to_a_real_smtp_server() {
    let sink = SmtpSink::start().await.unwrap();
    let email = confirmation("ana@example.test");
    mailer(&sink).send(&email).await.unwrap();
    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, ["ana@example.test"]);
    assert_eq!(got[0].from, "bookings@tourdesk.test");
    assert_eq!(got[0].subject, email.subject, "non-ASCII subjects survive encoding");
    assert_eq!(got[0].text.trim_end(), email.text.trim_end());
    assert!(got[0].data.contains("From: Tourdesk <bookings@tourdesk.test>"), "{}", got[0].data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mailer_sorts_failures_into_transient_and_permanent() {
    let sink = SmtpSink::start().await.unwrap();
    let m = mailer(&sink);
    sink.reject_next(1, 451);
    assert!(matches!(m.send(&confirmation("ana@example.test")).await, Err(MailError::Transient(_))));
    sink.reject_next(1, 550);
    assert!(matches!(m.send(&confirmation("ana@example.test")).await, Err(MailError::Permanent(_))));
    assert!(matches!(m.send(&confirmation("not an address")).await, Err(MailError::Permanent(_))));
    // A port nobody listens on: the relay is down, which a retry can fix.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let down =
        Mailer::new(&MailConfig { smtp_url: Some(format!("smtp://{closed}")), ..MailConfig::default() }).unwrap();
    assert!(matches!(down.send(&confirmation("ana@example.test")).await, Err(MailError::Transient(_))));
    assert!(sink.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_message_exists_only_if_its_transaction_commits() {
    let env = env().await;
    let mut c = env.pool.get().await.unwrap();
    let tx = c.transaction().await.unwrap();
    mail::set_tenant(&tx, &env.org).await.unwrap();
    mail::queue(&tx, &env.org, &env.customer, None, "booking_confirmation", &confirmation("ana@example.test"))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let n: i64 = env
        .owner
        .get()
        .await
        .unwrap()
        .query_one("SELECT count(*) FROM communications WHERE organization_id = $1", &[&env.org])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    let sink = SmtpSink::start().await.unwrap();
    assert_eq!(mail_outbox::drain_outbox(&env.pool, &mailer(&sink), 10).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_racing_drains_send_each_message_exactly_once() {
    let env = env().await;
    let sink = SmtpSink::start().await.unwrap();
    let m = mailer(&sink);
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(env.queue(&confirmation(&format!("guest{i}@example.test"))).await);
    }
    let (a, b) =
        tokio::join!(mail_outbox::drain_outbox(&env.pool, &m, 10), mail_outbox::drain_outbox(&env.pool, &m, 10));
    assert_eq!(a.unwrap() + b.unwrap(), 6, "every row settled by exactly one drain");
    let got = sink.wait_for(6, WAIT).await;
    let mut to: Vec<_> = got.iter().map(|m| m.to[0].clone()).collect();
    to.sort();
    to.dedup();
    assert_eq!((got.len(), to.len()), (6, 6), "no message sent twice: {to:?}");
    for id in &ids {
        let (status, attempts, reason, _, sent_at) = env.row(id).await;
        assert_eq!((status.as_str(), attempts, reason, sent_at), ("sent", 1, None, true));
    }
    assert_eq!(mail_outbox::drain_outbox(&env.pool, &m, 10).await.unwrap(), 0, "nothing left to send");
    assert_eq!(sink.messages().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferral_keeps_the_message_pending_and_a_later_drain_sends_it() {
    let env = env().await;
    let sink = SmtpSink::start().await.unwrap();
    let m = mailer(&sink);
    let id = env.queue(&confirmation("ana@example.test")).await;
    sink.reject_next(1, 451);
    assert_eq!(mail_outbox::drain_outbox(&env.pool, &m, 10).await.unwrap(), 1);
    let (status, attempts, reason, later, _) = env.row(&id).await;
    assert_eq!((status.as_str(), attempts, later), ("pending", 1, true));
    assert!(reason.unwrap().contains("451"), "the pending row says why it waits");
    assert_eq!(mail_outbox::drain_outbox(&env.pool, &m, 10).await.unwrap(), 0, "not due before its backoff");
    env.make_due(&id).await;
    assert_eq!(mail_outbox::drain_outbox(&env.pool, &m, 10).await.unwrap(), 1);
    assert_eq!(sink.wait_for(1, WAIT).await.len(), 1);
    let (status, attempts, reason, _, sent_at) = env.row(&id).await;
    assert_eq!((status.as_str(), attempts, reason, sent_at), ("sent", 2, None, true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bounce_or_too_many_deferrals_mark_the_message_failed() {
    let env = env().await;
    let sink = SmtpSink::start().await.unwrap();
    let m = mailer(&sink);
    let bounced = env.queue(&confirmation("gone@example.test")).await;
    sink.reject_next(1, 550);
    assert_eq!(mail_outbox::drain_outbox(&env.pool, &m, 10).await.unwrap(), 1);
    let (status, attempts, reason, _, sent_at) = env.row(&bounced).await;
    assert_eq!((status.as_str(), attempts, sent_at), ("failed", 1, false));
    assert!(reason.unwrap().contains("550"));

    let tired = env.queue(&confirmation("slow@example.test")).await;
    let c = env.owner.get().await.unwrap();
    c.execute(
        "UPDATE communications SET attempts = $3 WHERE organization_id = $1 AND id = $2",
        &[&env.org, &tired, &(mail_outbox::MAX_ATTEMPTS - 1)],
    )
    .await
    .unwrap();
    sink.reject_next(1, 451);
    assert_eq!(mail_outbox::drain_outbox(&env.pool, &m, 10).await.unwrap(), 1);
    let (status, attempts, reason, _, _) = env.row(&tired).await;
    assert_eq!((status.as_str(), attempts), ("failed", mail_outbox::MAX_ATTEMPTS));
    assert!(reason.unwrap().starts_with("gave up after 8 attempts"));
    assert!(sink.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_mail_disabled_queued_messages_fail_with_a_reason() {
    let env = env().await;
    let id = env.queue(&confirmation("ana@example.test")).await;
    let off = Mailer::new(&MailConfig::default()).unwrap();
    assert_eq!(mail_outbox::drain_outbox(&env.pool, &off, 10).await.unwrap(), 1);
    let (status, _, reason, _, _) = env.row(&id).await;
    assert_eq!(status, "failed");
    assert!(reason.unwrap().contains("disabled"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drain_visits_every_organization() {
    let env = env().await;
    let other = uuid::Uuid::new_v4().to_string();
    let c = env.owner.get().await.unwrap();
    c.execute(
        "INSERT INTO organizations (id, name, slug, business_email) VALUES ($1, 'Other', 'other', 'x@other.test')",
        &[&other],
    )
    .await
    .unwrap();
    let other_customer = insert_customer(&c, &other, "bo@other.test").await;
    let mut c = env.pool.get().await.unwrap();
    let tx = c.transaction().await.unwrap();
    mail::set_tenant(&tx, &other).await.unwrap();
    mail::queue(&tx, &other, &other_customer, None, "booking_confirmation", &confirmation("bo@other.test"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    env.queue(&confirmation("ana@example.test")).await;
    let sink = SmtpSink::start().await.unwrap();
    assert_eq!(mail_outbox::drain_outbox(&env.pool, &mailer(&sink), 10).await.unwrap(), 2);
    let mut to: Vec<_> = sink.wait_for(2, WAIT).await.iter().map(|m| m.to[0].clone()).collect();
    to.sort();
    assert_eq!(to, ["ana@example.test", "bo@other.test"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_now_records_the_message_without_its_secret() {
    let env = env().await;
    let sink = SmtpSink::start().await.unwrap();
    let token = "mlk_9f8e7d6c5b4a39281706f5e4d3c2b1a0";
    let link = format!("http://127.0.0.1:8787/my-booking?token={token}");
    let email = Email {
        to: "ana@example.test".into(),
        subject: "Your booking link".into(),
        text: format!("Open your booking: {link}\nThe link works for 24 hours.\n"),
    };
    let d = mail::send_now(
        &env.pool,
        &mailer(&sink),
        &env.org,
        mail::Recipient::Customer(&env.customer),
        None,
        "magic_link",
        &email,
        &link,
    )
    .await
    .unwrap();
    assert_eq!(d.result, Ok(()));
    let got = sink.wait_for(1, WAIT).await;
    assert!(got[0].text.contains(token), "the customer gets the real link");

    sink.reject_next(1, 550);
    let failed = mail::send_now(
        &env.pool,
        &mailer(&sink),
        &env.org,
        mail::Recipient::Customer(&env.customer),
        None,
        "magic_link",
        &email,
        &link,
    )
    .await
    .unwrap();
    assert!(matches!(failed.result, Err(MailError::Permanent(_))));

    let c = env.owner.get().await.unwrap();
    let rows = c
        .query(
            "SELECT id, status, content, coalesce(subject, ''), coalesce(failure_reason, ''), recipient
             FROM communications WHERE organization_id = $1 ORDER BY status DESC",
            &[&env.org],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        let (content, subject, reason): (String, String, String) = (r.get(2), r.get(3), r.get(4));
        assert!(!format!("{content}{subject}{reason}").contains(token), "the secret is stored nowhere");
        assert!(content.contains("Open your booking: [link withheld]"), "{content}");
        assert_eq!(r.get::<_, String>(5), "ana@example.test");
    }
    assert_eq!((rows[0].get::<_, String>(0), rows[0].get::<_, String>(1)), (d.id, "sent".to_string()));
    assert_eq!((rows[1].get::<_, String>(0), rows[1].get::<_, String>(1)), (failed.id, "failed".to_string()));
    let sink_after = SmtpSink::start().await.unwrap();
    assert_eq!(mail_outbox::drain_outbox(&env.pool, &mailer(&sink_after), 10).await.unwrap(), 0, "never resent");
}

/// What the job runner needs of a server, on `env`'s database, and the switch that shuts it down.
async fn app_state(env: &Env, mailer: Mailer) -> (AppState, tokio::sync::watch::Sender<bool>) {
    let config = Config { database_url: env.app_url.clone(), ..Config::default() };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let state = AppState {
        pool: env.pool.clone(),
        events: events::Events::listen(&config.database_url).await.unwrap(),
        stripe: StripeGateway::new(&config.stripe).unwrap(),
        config: std::sync::Arc::new(config),
        shutting_down: stopped,
        mailer,
        sign_in_throttle: Default::default(),
        catalogue: tourdesk_sync_server::website::cache::CatalogueCache::new(true),
        analytics: tourdesk_sync_server::analytics::Analytics::start(env.pool.clone()),
    };
    (state, stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_runner_sends_queued_mail_and_stops_on_shutdown() {
    let env = env().await;
    let sink = SmtpSink::start().await.unwrap();
    let (state, stop) = app_state(&env, mailer(&sink)).await;
    let runner = jobs::spawn(state, Duration::from_millis(50));
    env.queue(&confirmation("ana@example.test")).await;
    assert_eq!(sink.wait_for(1, WAIT).await.len(), 1);
    stop.send(true).unwrap();
    tokio::time::timeout(WAIT, runner).await.expect("the runner stops when told").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mail_code_runs_as_a_role_bound_by_row_level_security() {
    let env = env().await;
    let sink = SmtpSink::start().await.unwrap();
    // Every test here runs the mail code as the application role; this one shows that it binds.
    let mut c = env.pool.get().await.unwrap();
    let who: String = c.query_one("SELECT current_user::text", &[]).await.unwrap().get(0);
    assert_eq!(who, tourdesk_testkit::APP_ROLE);
    let tx = c.transaction().await.unwrap();
    let refused = mail::queue(&tx, &env.org, &env.customer, None, "booking_confirmation", &confirmation("a@b.test"))
        .await
        .expect_err("no tenant set: the insert is refused");
    assert!(format!("{refused:#}").contains("row-level security"), "{refused:#}");
    tx.rollback().await.unwrap();

    let email = Email { to: "ana@example.test".into(), subject: "Link".into(), text: "go to s3cr3t".into() };
    let d = mail::send_now(
        &env.pool,
        &mailer(&sink),
        &env.org,
        mail::Recipient::Customer(&env.customer),
        None,
        "magic_link",
        &email,
        "s3cr3t",
    )
    .await
    .unwrap();
    assert_eq!(d.result, Ok(()));
    env.queue(&confirmation("ana@example.test")).await;
    assert_eq!(mail_outbox::drain_outbox(&env.pool, &mailer(&sink), 10).await.unwrap(), 1);
    assert_eq!(sink.wait_for(2, WAIT).await.len(), 2);
}

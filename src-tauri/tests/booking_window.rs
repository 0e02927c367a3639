//! A booking's life in the real desktop window (issue 13), each test on an empty SQLite file that
//! signs in, through the sign-in screen, to a real sync-server on a throwaway PostgreSQL with the
//! fake Stripe and the SMTP sink behind it:
//! - a card booking made on the website is found with Ctrl+K by its reference (the hit picked
//!   with the arrow keys and Enter), its timeline and receipt PDF are there, and "Change
//!   booking…" down a seat refunds that seat's price at the fake Stripe once the desk has synced,
//!   and the booking page then shows the refund;
//! - the office screens no window test had visited: Settings → Messages (a template and its live
//!   preview), the reviews (one waiting, approved from the window) and the scheduled report
//!   e-mails (one scheduled from the window).
//!
//! (A cash payment recorded offline, confirmed on reconnecting with the confirmation in the SMTP
//! sink, is `desk_window.rs`'s `a_cash_payment_recorded_offline_confirms_the_booking_and_mails_the_customer`.)
//!
//! Each screen visited is saved as `<target dir>/e2e-screens/booking-*.png`.
//!
//! Runs only with the `e2e` feature, under a display: `cargo xtask e2e` or `cargo xtask test`.
//! The tests take turns with the one WebDriver port (`support::Driver`).
// Helpers outside #[test] functions are test code too: a failed step should panic with its place.
#![allow(clippy::unwrap_used)]

// The shared window helpers; this test needs only some of them.
#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use support::{
    Driver, click, demo_server, eventually, fill_sign_in, open_desk, press, press_focused, retype, screenshot, texts,
    type_into,
};
use tourdesk_sync_server::{Config, demo_data};
use tourdesk_testkit::PgCluster;
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_testkit::stripe::{FakeStripe, sign};

/// The Stripe webhook secret the tests' server checks signatures with.
const WEBHOOK_SECRET: &str = "whsec_tourdesk_booking_e2e";

/// The demo organization's server taking card payments at the fake Stripe and mailing through
/// the SMTP sink.
fn paying_server(db_url: &str, stripe: &FakeStripe, smtp: &SmtpSink) -> Config {
    let mut config = demo_server(db_url);
    config.stripe.api_base = Some(stripe.uri());
    config.stripe.webhook_secret = WEBHOOK_SECRET.into();
    config.mail.smtp_url = Some(smtp.url());
    config
}

/// A home folder of the desk's own, whose downloads folder a saved receipt goes to.
struct Home {
    dir: tempfile::TempDir,
    downloads: PathBuf,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let downloads = dir.path().join("Downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        std::fs::create_dir_all(dir.path().join(".config")).unwrap();
        std::fs::write(dir.path().join(".config/user-dirs.dirs"), "XDG_DOWNLOAD_DIR=\"$HOME/Downloads\"\n").unwrap();
        Home { dir, downloads }
    }

    /// The desk's environment: its server, its SQLite file and this home.
    fn env(&self, url: &str) -> Vec<(&'static str, String)> {
        let home = self.dir.path().to_string_lossy().into_owned();
        vec![
            ("TOURDESK_SERVER_URL", url.to_string()),
            ("TOURDESK_DESK_DB", self.dir.path().join("desk.sqlite3").to_string_lossy().into_owned()),
            ("TOURDESK_SYNC_INTERVAL_SECS", "2".into()),
            ("XDG_CONFIG_HOME", format!("{home}/.config")),
            ("XDG_DOWNLOAD_DIR", self.downloads.to_string_lossy().into_owned()),
            ("HOME", home),
        ]
    }
}

/// Signs in through the screen as the demo owner and waits until the desk says it is online.
async fn sign_in(c: &Client, url: &str) {
    fill_sign_in(c, url, demo_data::DEMO_OWNER_EMAIL, demo_data::DEMO_PASSWORD).await;
    press(c, "#sign-in-password", &Key::Enter.to_string()).await;
    eventually("the desk to report it is online", Duration::from_secs(60), || async move {
        texts(c, "#status-connection").await.iter().any(|s| s == "Online").then_some(())
    })
    .await;
}

/// Clicks a sidebar entry and waits for `settled` to show, and for no error state.
async fn open_screen(c: &Client, nav: &str, settled: &str) {
    click(c, nav).await;
    eventually(&format!("{nav} to show {settled}"), Duration::from_secs(30), || async move {
        (!texts(c, settled).await.is_empty()).then_some(())
    })
    .await;
}

/// Lets WebKit paint what the DOM already shows before a screenshot: the helper waits for two
/// animation frames, but a dialog's layout can settle a frame later.
async fn painted() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

/// The first file in `dir` whose name ends in `.ext`.
fn saved_file(dir: &Path, ext: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == ext))
}

/// The refunds asked of the fake Stripe: (idempotency key, amount in minor units).
fn refunds_sent(stripe: &FakeStripe) -> Vec<(String, String)> {
    stripe
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/refunds" && r.method == "POST")
        .map(|r| (r.idempotency_key.clone().unwrap_or_default(), r.field("amount").unwrap_or_default().to_string()))
        .collect()
}

/// Issue 13's real-window tests 1 and 3: Ctrl+K finds a paid card booking by its reference and
/// the keyboard opens it; its timeline and receipt are shown and saved; changed down a seat, the
/// seat's price goes back to the card at the fake Stripe and the page shows the refund.
/// Screens: `booking-1-*.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_booking_found_with_ctrl_k_and_changed_down_is_refunded_at_stripe() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let server = tourdesk_sync_server::start(paying_server(&db_url, &stripe, &smtp)).await.unwrap();
    let url = format!("http://{}", server.addr);
    let pg = tourdesk_testkit::connect(&db_url).await.unwrap();

    // Two seats on an open departure a few days out, bought on the website and paid by card
    // (the fake Stripe's success delivered as a signed webhook).
    let row = pg
        .query_one(
            "SELECT s.id, p.id FROM schedules s JOIN pricing_tiers p ON p.tour_id = s.tour_id
             WHERE s.status = 'open' AND s.starts_at > now() + interval '3 days' AND s.booked_count + 2 < s.capacity
             ORDER BY s.starts_at, p.sort_order, p.id LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (dep, tier): (String, String) = (row.get(0), row.get(1));
    let http = reqwest::Client::new();
    let answer = http
        .post(format!("{url}/api/v1/orgs/{}/bookings", demo_data::DEMO_ORG_SLUG))
        .json(&json!({
            "request_id": uuid::Uuid::new_v4().to_string(),
            "departure_id": dep,
            "customer": {"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper"},
            "lines": [{"tier_id": tier, "quantity": 2}],
        }))
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let sold: Value = answer.json().await.unwrap();
    assert_eq!(status, 201, "{sold}");
    let booking = sold["booking"]["id"].as_str().unwrap().to_string();
    let reference = sold["booking"]["reference"].as_str().unwrap().to_string();
    let paid = sold["booking"]["price"]["total"]["amount_minor"].as_i64().unwrap();
    let event = stripe.succeed(sold["payment"]["payment_intent_id"].as_str().unwrap());
    let delivered = http
        .post(format!("{url}/api/v1/stripe/webhook"))
        .header("Stripe-Signature", sign(&event, WEBHOOK_SECRET, chrono::Utc::now().timestamp()))
        .header("Content-Type", "application/json")
        .body(event)
        .send()
        .await
        .unwrap();
    assert_eq!(delivered.status().as_u16(), 200);
    let confirmed: String =
        pg.query_one("SELECT status FROM bookings WHERE id = $1", &[&booking]).await.unwrap().get(0);
    assert_eq!(confirmed, "confirmed");

    let home = Home::new();
    let _driver = Driver::start(&home.env(&url).iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()).await;
    let c = open_desk().await;
    sign_in(&c, &url).await;

    // The search answers from the desk's replica, once: wait until the booking has been pulled
    // (the Bookings screen lists it), so the palette is asked when there is something to find.
    open_screen(&c, "#nav-bookings", "#bookings-search").await;
    type_into(&c, "#bookings-search", &reference).await;
    let row = format!(".booking-row[data-id='{booking}']");
    eventually("the paid booking on this desk", Duration::from_secs(60), || {
        let (c, row) = (c.clone(), row.clone());
        async move { (!texts(&c, &row).await.is_empty()).then_some(()) }
    })
    .await;
    click(&c, "#nav-today").await;

    // Ctrl+K, the reference, ArrowDown to the hit, Enter: the booking's page.
    press_focused(&c, &format!("{}k{}", Key::Control, Key::Null)).await;
    type_into(&c, "#search-input", &reference).await;
    let route = format!("#/bookings/{reference}");
    let hit = format!("#search-hits .search-hit[data-route='{route}']");
    eventually("the booking among the hits", Duration::from_secs(20), || {
        let (c, hit) = (c.clone(), hit.clone());
        async move { (!texts(&c, &hit).await.is_empty()).then_some(()) }
    })
    .await;
    painted().await;
    screenshot(&c, "booking-1-ctrl-k").await;
    press(&c, "#search-input", &Key::Down.to_string()).await;
    let picked = press_focused(&c, &Key::Enter.to_string()).await;
    assert_eq!(picked.as_deref(), Some(route.as_str()), "ArrowDown moved to the booking's hit");
    let card = eventually("the booking's page", Duration::from_secs(20), || {
        let c = c.clone();
        async move {
            let gone = texts(&c, "#search-palette").await.is_empty();
            texts(&c, "#booking-page .booking-card").await.into_iter().next().filter(|_| gone)
        }
    })
    .await;
    assert!(card.contains(&format!("Booking {reference}")) && card.contains("Grace Hopper"), "{card}");
    assert!(card.contains("Confirmed"), "{card}");
    let hash: Value = c.execute("return location.hash;", vec![]).await.unwrap();
    assert_eq!(hash.as_str(), Some(route.as_str()));

    // Its timeline: the booking made on the website and its payment, in words.
    let timeline = eventually("the booking's timeline", Duration::from_secs(30), || {
        let c = c.clone();
        async move {
            let entries = texts(&c, "#booking-timeline .timeline-entry").await;
            entries.iter().any(|t| t.contains("Booking made")).then_some(entries)
        }
    })
    .await;
    assert!(!timeline.iter().any(|t| t.contains("create_booking") || t.contains("_id")), "no codes: {timeline:?}");
    c.execute("document.querySelector('#booking-timeline').scrollIntoView();", vec![]).await.unwrap();
    painted().await;
    screenshot(&c, "booking-1-timeline").await;
    c.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
    screenshot(&c, "booking-1-page").await;

    // The receipt, saved as a PDF into the downloads folder; it names the booking.
    click(&c, "#save-receipt").await;
    let said = eventually("the receipt saved", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, "#payment-recorded").await.into_iter().find(|t| t.contains("Receipt saved to")) }
    })
    .await;
    let pdf = eventually("the PDF in the downloads folder", Duration::from_secs(15), || {
        let downloads = home.downloads.clone();
        async move { saved_file(&downloads, "pdf") }
    })
    .await;
    assert!(said.contains(&pdf.display().to_string()), "the page says where: {said}");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-") && bytes.len() > 500, "a PDF of {} bytes", bytes.len());
    // poppler-utils' pdftotext, which `cargo xtask setup` installs for the tests.
    let out = std::process::Command::new("pdftotext").arg("-layout").arg(&pdf).arg("-").output().unwrap();
    assert!(out.status.success(), "pdftotext could not read the receipt: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&reference), "the receipt names the booking: {text}");
    painted().await;
    screenshot(&c, "booking-1-receipt-saved").await;

    // "Change booking…" down to one seat: the dialog says the seat goes back to the card.
    click(&c, "#modify-booking").await;
    let count = format!("#modify-count-{tier}");
    eventually("the change dialog with the booking's count", Duration::from_secs(20), || {
        let (c, count) = (c.clone(), count.clone());
        async move {
            let v = c.find(Locator::Css(&count)).await.ok()?.prop("value").await.ok()??;
            (v == "2").then_some(())
        }
    })
    .await;
    retype(&c, &count, "1").await;
    let refund_words = eventually("the refund to the card previewed", Duration::from_secs(20), || {
        let c = c.clone();
        async move {
            texts(&c, "#modify-booking-refund").await.into_iter().find(|t| t.contains("back to the customer's card"))
        }
    })
    .await;
    // "€45.00 back to the customer's card at Stripe.": the seat's price, as the page will say it.
    let seat_price = refund_words.split(" back to").next().unwrap().to_string();
    type_into(&c, "#modify-booking-reason", "One guest cannot come").await;
    painted().await;
    screenshot(&c, "booking-1-change-dialog").await;
    // Enter in a field of the form saves it, as "Save change" does.
    press(&c, "#modify-promo-code", &Key::Enter.to_string()).await;
    eventually("the change saved on the desk", Duration::from_secs(30), || {
        let c = c.clone();
        async move { texts(&c, "#payment-recorded").await.iter().any(|t| t.starts_with("Booking changed")).then_some(()) }
    })
    .await;

    // Synced and decided on the server, the refund goes to the fake Stripe: one seat, once.
    let seat = paid / 2;
    let sent = eventually("the refund at the fake Stripe", Duration::from_secs(90), || {
        let stripe = &stripe;
        async move {
            let sent = refunds_sent(stripe);
            (!sent.is_empty()).then_some(sent)
        }
    })
    .await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].0.starts_with(&format!("refund-modify-{booking}-")), "{sent:?}");
    assert_eq!(sent[0].1, seat.to_string(), "{sent:?}");
    let row = pg
        .query_one("SELECT participant_count, payment_status FROM bookings WHERE id = $1", &[&booking])
        .await
        .unwrap();
    assert_eq!((row.get::<_, i32>(0), row.get::<_, String>(1).as_str()), (1, "partially_refunded"));

    // The page shows the refund: the refunded sum is the seat's price, nothing is owed either way.
    eventually("the refund on the booking's page", Duration::from_secs(60), || {
        let (c, seat_price) = (c.clone(), seat_price.clone());
        async move {
            let refunded = texts(&c, "#ledger-refunded").await.into_iter().next()?;
            let nothing_due = texts(&c, "#refund-due").await.is_empty();
            (refunded == seat_price && nothing_due).then_some(())
        }
    })
    .await;
    let card = texts(&c, "#booking-page .booking-card").await.join(" ");
    assert!(card.contains("Part refunded"), "{card}");
    let timeline = eventually("the change on the timeline", Duration::from_secs(30), || {
        let c = c.clone();
        async move {
            let entries = texts(&c, "#booking-timeline .timeline-entry").await;
            entries.iter().any(|t| t.contains("Booking changed")).then_some(entries)
        }
    })
    .await;
    eprintln!("the timeline after the change: {timeline:#?}");
    painted().await;
    screenshot(&c, "booking-1-refunded").await;
    c.execute("document.querySelector('#booking-timeline').scrollIntoView();", vec![]).await.unwrap();
    painted().await;
    screenshot(&c, "booking-1-refunded-timeline").await;

    c.close().await.unwrap();
    server.shutdown().await.unwrap();
}

/// The office screens no window test had visited, each asserted on what a person reads there:
/// Settings → Messages with a template's live preview, a waiting review approved, a report
/// e-mail scheduled. Screens: `booking-2-*.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_reviews_and_scheduled_reports_show_in_the_window() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let server = tourdesk_sync_server::start(paying_server(&db_url, &stripe, &smtp)).await.unwrap();
    let url = format!("http://{}", server.addr);
    let pg = tourdesk_testkit::connect(&db_url).await.unwrap();

    // A guest's review waiting for a decision. Reviews are written on the public site, after the
    // tour; here it is put straight into PostgreSQL against one of the demo's bookings.
    let row = pg
        .query_one(
            "SELECT b.organization_id, s.tour_id, b.id, b.customer_id FROM bookings b JOIN schedules s ON s.id = b.departure_id
             ORDER BY b.id LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (org, tour, booking, customer): (String, String, String, String) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let review = uuid::Uuid::new_v4().to_string();
    pg.execute(
        "INSERT INTO reviews (id, organization_id, tour_id, booking_id, customer_id, rating, title, content, is_verified_purchase, display_name)
         VALUES ($1, $2, $3, $4, $5, 4, 'Worth the early start', 'The temple at sunrise was quiet and the guide knew every story.', true, 'Grace H.')",
        &[&review, &org, &tour, &booking, &customer],
    )
    .await
    .unwrap();

    let home = Home::new();
    let _driver = Driver::start(&home.env(&url).iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()).await;
    let c = open_desk().await;
    sign_in(&c, &url).await;

    // Settings → Messages: every message kind, built in; one opened shows its text and a preview
    // with a sample booking, which follows the typing.
    open_screen(&c, "#nav-settings", "a[href='#/settings/messages']").await;
    click(&c, "a[href='#/settings/messages']").await;
    let rows = eventually("the message templates", Duration::from_secs(30), || {
        let c = c.clone();
        async move {
            let rows = texts(&c, ".templates .template-row").await;
            (!rows.is_empty()).then_some(rows)
        }
    })
    .await;
    assert!(rows.iter().any(|r| r.contains("Built-in")), "{rows:?}");
    painted().await;
    screenshot(&c, "booking-2-messages").await;
    click(&c, ".templates .template-row button.link").await;
    let preview = eventually("the template's preview", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, ".template-preview .preview-subject").await.into_iter().next().filter(|t| !t.is_empty()) }
    })
    .await;
    assert!(!preview.contains('{'), "the preview fills the placeholders in: {preview}");
    type_into(&c, "#template-subject", " (see you soon)").await;
    eventually("the preview following the typing", Duration::from_secs(20), || {
        let c = c.clone();
        async move {
            texts(&c, ".template-preview .preview-subject")
                .await
                .iter()
                .any(|t| t.ends_with("(see you soon)"))
                .then_some(())
        }
    })
    .await;
    let body = texts(&c, ".template-preview .preview-body").await.join("\n");
    assert!(!body.trim().is_empty() && !body.contains("{booking"), "a sample booking's words: {body}");
    painted().await;
    screenshot(&c, "booking-2-message-template").await;

    // The reviews: the waiting one with its stars and words, approved from the window.
    open_screen(&c, "#nav-reviews", ".reviews-page").await;
    let item = format!("#review-{review}");
    let shown = eventually("the waiting review", Duration::from_secs(30), || {
        let (c, item) = (c.clone(), item.clone());
        async move { texts(&c, &item).await.into_iter().next() }
    })
    .await;
    assert!(
        shown.contains("Worth the early start")
            && shown.contains("Grace H.")
            && shown.contains("Waiting for a decision"),
        "{shown}"
    );
    let stars = c.find(Locator::Css(&format!("{item} .stars"))).await.unwrap().attr("aria-label").await.unwrap();
    assert_eq!(stars.as_deref(), Some("4 of 5 stars"));
    painted().await;
    screenshot(&c, "booking-2-reviews").await;
    click(&c, &format!("{item} button.primary")).await;
    eventually("the review approved on the server", Duration::from_secs(30), || {
        let (pg, review) = (&pg, review.clone());
        async move {
            let row = pg.query_one("SELECT status FROM reviews WHERE id = $1", &[&review]).await.unwrap();
            (row.get::<_, String>(0) == "approved").then_some(())
        }
    })
    .await;
    // Decided, it leaves the waiting list; the Approved filter shows it with its new standing.
    c.find(Locator::XPath("//button[contains(@class, 'filter') and normalize-space() = 'Approved']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    eventually("the review among the approved", Duration::from_secs(30), || {
        let (c, item) = (c.clone(), item.clone());
        async move { texts(&c, &item).await.iter().any(|t| t.contains("Approved: on the tour page")).then_some(()) }
    })
    .await;
    painted().await;
    screenshot(&c, "booking-2-review-approved").await;

    // The scheduled report e-mails: none yet, then one for every owner, listed in words.
    open_screen(&c, "#nav-reports", "#report-scheduled").await;
    click(&c, "#report-scheduled").await;
    eventually("no scheduled e-mail yet", Duration::from_secs(30), || {
        let c = c.clone();
        async move {
            texts(&c, "#report-schedules").await.iter().any(|t| t.contains("No report is e-mailed yet")).then_some(())
        }
    })
    .await;
    painted().await;
    screenshot(&c, "booking-2-scheduled-reports-empty").await;
    click(&c, "#new-report-schedule").await;
    click(&c, "#schedule-roles .schedule-role[value='owner']").await;
    painted().await;
    screenshot(&c, "booking-2-scheduled-report-form").await;
    click(&c, "#save-report-schedule").await;
    let scheduled = eventually("the scheduled e-mail listed", Duration::from_secs(30), || {
        let c = c.clone();
        async move { texts(&c, "#report-schedule-table .report-schedule").await.into_iter().next() }
    })
    .await;
    assert!(scheduled.contains("every owner") && scheduled.contains("Not yet"), "{scheduled}");
    let stored: i64 = pg.query_one("SELECT count(*) FROM report_schedules", &[]).await.unwrap().get(0);
    assert_eq!(stored, 1);
    painted().await;
    screenshot(&c, "booking-2-scheduled-reports").await;

    c.close().await.unwrap();
    server.shutdown().await.unwrap();
}

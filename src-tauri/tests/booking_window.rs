//! A booking's life in the real desktop window (issue 13), each test on an empty SQLite file that
//! signs in, through the sign-in screen, to a real sync-server on a throwaway PostgreSQL with the
//! fake Stripe and the SMTP sink behind it:
//! - a card booking made on the website is found with Ctrl+K by its reference (the hit picked
//!   with the arrow keys and Enter), its timeline and receipt PDF are there, and "Change
//!   booking…" down a seat refunds that seat's price at the fake Stripe once the desk has synced,
//!   and the booking page then shows the refund;
//! - the office screens no window test had visited: Settings → Messages (a template and its live
//!   preview), the reviews (one waiting, approved from the window) and the scheduled report
//!   e-mails (one scheduled from the window);
//! - the website funnel (issue 16 item 3): a campaign visitor browses, books and pays on the
//!   public site, a direct visitor browses; the funnel tab shows the server's figures by tour,
//!   source and campaign, and saves them as CSV;
//! - the exports (issue 16 item 4): the bookings list and the revenue report saved as CSV and
//!   XLSX into the downloads folder (the buttons ask for no path: the desk saves there), each
//!   file read back (parsed as RFC 4180; the spreadsheet's XML) against the screen.
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

    funnel_and_exports(&c, &url, &stripe, &home).await;

    c.close().await.unwrap();
    server.shutdown().await.unwrap();
}

/// The UTM parameters of the campaign visitor, as an address carries them.
const CAMPAIGN: &str = "utm_source=Newsletter&utm_medium=email&utm_campaign=Winter+Walks";

/// `application/x-www-form-urlencoded`, as a browser sends a form.
fn form_body(pairs: &[(String, String)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// The text of `html` between `start` and the next `end`.
fn between(html: &str, start: &str, end: &str) -> String {
    let from = html.find(start).unwrap_or_else(|| panic!("{start:?} not in {html}")) + start.len();
    let to = html[from..].find(end).unwrap() + from;
    html[from..to].to_string()
}

/// A public page of the site, asserted served.
async fn site_page(http: &reqwest::Client, url: &str, path: &str) -> String {
    let r = http.get(format!("{url}{path}")).send().await.unwrap();
    let status = r.status();
    let body = r.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

/// A departure more than three days out with two free seats (as the website tests book): (tour slug, tour name, departure id,
/// its day, a tier id), from the site's own API.
async fn bookable(http: &reqwest::Client, url: &str) -> (String, String, String, String, String) {
    let org = demo_data::DEMO_ORG_SLUG;
    let get = |path: String| async move {
        http.get(format!("{url}{path}")).send().await.unwrap().json::<Value>().await.unwrap()
    };
    let tours = get(format!("/api/v1/orgs/{org}/tours")).await;
    let from = chrono::Utc::now().date_naive();
    let to = from + chrono::Days::new(20);
    for t in tours.as_array().unwrap() {
        let slug = t["slug"].as_str().unwrap().to_string();
        let a = get(format!("/api/v1/orgs/{org}/tours/{slug}/availability?from={from}&to={to}")).await;
        if let Some(d) = a["departures"].as_array().unwrap().iter().find(|d| {
            d["seats_left"].as_u64().unwrap() >= 2
                && d["starts_at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap()
                    > chrono::Utc::now() + chrono::Duration::days(3)
        }) {
            let s = |v: &Value| v.as_str().unwrap().to_string();
            return (slug, s(&t["name"]), s(&d["id"]), s(&d["date"]), s(&d["prices"][0]["tier_id"]));
        }
    }
    panic!("no bookable departure in the demo data");
}

/// The report table on screen: its header, its rows and its total rows, each cell as shown.
async fn screen_table(c: &Client) -> (Vec<String>, Vec<Vec<String>>, Vec<Vec<String>>) {
    let v = c
        .execute(
            "const cells = sel => [...document.querySelectorAll(sel)].map(r => [...r.cells].map(c => c.innerText.trim()));
             return [cells('#report-table thead tr')[0] || [], cells('#report-table tbody tr'), cells('#report-table tfoot tr')];",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

/// A report table's cells as the screen shows them (the domain's `Cell::display`).
fn shown(rows: &[Vec<tourdesk_domain::reports::Cell>]) -> Vec<Vec<String>> {
    rows.iter().map(|r| r.iter().map(tourdesk_domain::reports::Cell::display).collect()).collect()
}

/// The path a "Saved to …" line names, once it names a file ending in `.ext`.
async fn saved_path(c: &Client, css: &str, ext: &str) -> PathBuf {
    let said = eventually(&format!("{css} to say where the {ext} went"), Duration::from_secs(20), || async move {
        texts(c, css).await.into_iter().next().filter(|t| t.ends_with(&format!(".{ext}")))
    })
    .await;
    PathBuf::from(said.strip_prefix("Saved to ").unwrap_or_else(|| panic!("{said}")))
}

/// A CSV file parsed as RFC 4180 reads it (quoted fields, doubled quotes, CRLF line ends): its
/// header row and its records. (No CSV crate: a dev-dependency changes the features the desk is
/// built with, and with one the desk's embedded UI no longer loaded.)
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.ends_with("\r\n"), "RFC 4180 lines end in CRLF: {text:?}");
    let (mut rows, mut row, mut field, mut quoted) = (Vec::new(), Vec::new(), String::new(), false);
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, ch) => field.push(ch),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, ch) => field.push(ch),
        }
    }
    assert!(!quoted && row.is_empty() && field.is_empty(), "{text:?}");
    let mut rows = rows.into_iter();
    let header: Vec<String> = rows.next().unwrap();
    let records: Vec<Vec<String>> = rows.collect();
    assert!(records.iter().all(|r| r.len() == header.len()), "every record as wide as the header: {records:?}");
    (header, records)
}

/// A member of a zip file (an XLSX), by the `unzip` tool (`cargo xtask setup` installs it).
fn unzip(path: &Path, member: &str) -> String {
    let out = std::process::Command::new("unzip").arg("-p").arg(path).arg(member).output().unwrap();
    assert!(out.status.success(), "{member} in {}: {}", path.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn xml_text(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// `attr(r#"r="B3" s="1" t="s""#, "t")` is `Some("s")`.
fn attr(attrs: &str, name: &str) -> Option<String> {
    let from = format!(" {attrs}").find(&format!(" {name}=\""))? + name.len() + 2;
    Some(attrs[from..from + attrs[from..].find('"')?].to_string())
}

/// The one sheet of an XLSX file, read from its XML (the shared strings and the sheet's cells),
/// each cell as the CSV writes it: numbers printed with as many decimals as `like` (the CSV's
/// field in the same place) has (below it, as stored), text as stored, a missing cell empty.
fn read_xlsx(path: &Path, like: &[Vec<String>]) -> Vec<Vec<String>> {
    assert_eq!(unzip(path, "xl/workbook.xml").matches("<sheet ").count(), 1, "one sheet");
    let strings: Vec<String> = unzip(path, "xl/sharedStrings.xml")
        .split("<si>")
        .skip(1)
        .map(|si| {
            let si = &si[..si.find("</si>").unwrap()];
            si.split("<t").skip(1).map(|t| xml_text(&t[t.find('>').unwrap() + 1..t.find("</t>").unwrap()])).collect()
        })
        .collect();
    let sheet = unzip(path, "xl/worksheets/sheet1.xml");
    let mut grid: Vec<Vec<String>> = Vec::new();
    for c in sheet.split("<c ").skip(1) {
        let head = &c[..c.find('>').unwrap()];
        let at = attr(head, "r").unwrap();
        let letters = at.chars().take_while(char::is_ascii_uppercase).collect::<String>();
        let col = letters.bytes().fold(0usize, |n, b| n * 26 + usize::from(b - b'A' + 1)) - 1;
        let row = at[letters.len()..].parse::<usize>().unwrap() - 1;
        let value = match c.find("<v>") {
            Some(i) if !head.ends_with('/') => xml_text(&c[i + 3..i + 3 + c[i + 3..].find("</v>").unwrap()]),
            _ => String::new(),
        };
        let text = match attr(head, "t").as_deref() {
            Some("s") => strings[value.parse::<usize>().unwrap()].clone(),
            Some(_) => value,
            None if value.is_empty() => value,
            // Below the CSV's rows (the totals), as the number reads.
            None => match like.get(row).and_then(|r| r.get(col)) {
                Some(field) => {
                    let decimals = field.split_once('.').map_or(0, |(_, d)| d.len());
                    format!("{:.decimals$}", value.parse::<f64>().unwrap())
                }
                None => value,
            },
        };
        if grid.len() <= row {
            grid.resize(row + 1, Vec::new());
        }
        if grid[row].len() <= col {
            grid[row].resize(col + 1, String::new());
        }
        grid[row][col] = text;
    }
    let width = grid.iter().map(Vec::len).max().unwrap_or(0);
    for r in &mut grid {
        r.resize(width, String::new());
    }
    grid
}

/// An amount as the files write it: a decimal string with the currency's exponent of decimals
/// (`12.50` in EUR, `3000` in JPY).
fn in_exponent(amount: &str, currency: &str) -> bool {
    let exponent = usize::from(tourdesk_domain::money::Currency::parse(currency).unwrap().exponent());
    let digits = amount.strip_prefix('-').unwrap_or(amount);
    let (whole, decimals) = digits.split_once('.').unwrap_or((digits, ""));
    !whole.is_empty()
        && whole.bytes().chain(decimals.bytes()).all(|c| c.is_ascii_digit())
        && decimals.len() == exponent
        && (exponent == 0) != digits.contains('.')
}

/// A cell as the screen shows it and the same cell in the CSV: the same words and counts;
/// an amount shown with its currency ("EUR 1,234.50", "€60.00") as its decimal string; a ratio
/// without its "%"; "—" for nothing.
fn same_figure(screen: &str, csv: &str) -> bool {
    let amount: String = screen.chars().filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-').collect();
    // A currency's code or symbol beside the number.
    let money = screen.chars().any(|c| c.is_ascii_uppercase() || !c.is_ascii());
    screen == csv
        || (screen == "—" && (csv.is_empty() || csv.trim_start_matches(['-', '0', '.']).is_empty()))
        || screen.strip_suffix(" %") == Some(csv)
        || (money && !amount.is_empty() && amount == csv)
}

fn assert_same_figures(screen: &[Vec<String>], file: &[Vec<String>], what: &str) {
    assert_eq!(screen.len(), file.len(), "{what}: rows on screen {screen:?}, in the file {file:?}");
    for (s, f) in screen.iter().zip(file) {
        assert_eq!(s.len(), f.len(), "{what}: {s:?} against {f:?}");
        assert!(s.iter().zip(f).all(|(s, f)| same_figure(s, f)), "{what}: the screen's {s:?} against the file's {f:?}");
    }
}

/// Issue 16 items 3 and 4 through the real window: the website funnel against the server's, its
/// CSV, and the bookings list and the revenue report saved as CSV and XLSX and read back.
/// Screens: `booking-2-funnel-*.png`, `booking-2-*-export*.png`.
async fn funnel_and_exports(c: &Client, url: &str, stripe: &FakeStripe, home: &Home) {
    let org = demo_data::DEMO_ORG_SLUG;
    let http = reqwest::Client::new();
    // A visitor from the newsletter's campaign: listing, tour, calendar, checkout, through the
    // site's real pages; books two seats and pays by card. Another comes straight to the site.
    let (slug, tour_name, dep, day, tier) = bookable(&http, url).await;
    site_page(&http, url, &format!("/{org}?{CAMPAIGN}")).await;
    site_page(&http, url, &format!("/{org}/tours/{slug}?{CAMPAIGN}")).await;
    site_page(&http, url, &format!("/{org}/tours/{slug}/dates?day={day}&{CAMPAIGN}")).await;
    let checkout =
        site_page(&http, url, &format!("/{org}/checkout?tour={slug}&date={day}&departure={dep}&{CAMPAIGN}")).await;
    let mut form: Vec<(String, String)> =
        ["tour", "date", "departure", "request_id", "utm_source", "utm_medium", "utm_campaign"]
            .iter()
            .map(|k| (k.to_string(), between(&checkout, &format!("name=\"{k}\" value=\""), "\"")))
            .collect();
    assert_eq!(form[4..].iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>(), ["newsletter", "email", "winter walks"]);
    for (k, v) in [
        (format!("qty_{tier}").as_str(), "2"),
        ("first_name", "Ada"),
        ("last_name", "Exportwell"),
        ("email", "ada.exportwell@example.com"),
        ("action", "book"),
    ] {
        form.push((k.to_string(), v.to_string()));
    }
    let paying = http
        .post(format!("{url}/{org}/checkout"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form_body(&form))
        .send()
        .await
        .unwrap();
    assert!(paying.status().is_success(), "{}", paying.status());
    let paying = paying.text().await.unwrap();
    let secret = between(&paying, "data-client-secret=\"", "\"");
    let event = stripe.succeed(secret.split("_secret_").next().unwrap());
    let delivered = http
        .post(format!("{url}/api/v1/stripe/webhook"))
        .header("Stripe-Signature", sign(&event, WEBHOOK_SECRET, chrono::Utc::now().timestamp()))
        .header("Content-Type", "application/json")
        .body(event)
        .send()
        .await
        .unwrap();
    assert_eq!(delivered.status().as_u16(), 200);
    site_page(&http, url, &format!("/{org}")).await;
    site_page(&http, url, &format!("/{org}/tours/{slug}")).await;

    // The bookings list, narrowed to her booking once the desk has pulled it, saved as CSV and
    // XLSX: every row the filter keeps, amounts as decimal strings.
    open_screen(c, "#nav-bookings", "#bookings-search").await;
    type_into(c, "#bookings-search", "Exportwell").await;
    // The search is debounced: wait for the list it keeps, her paid booking alone.
    let row = eventually("her booking alone on the list, paid", Duration::from_secs(60), || async move {
        if texts(c, "#bookings-count").await != ["1 booking"] {
            return None;
        }
        let v = c
            .execute(
                "return [...document.querySelectorAll('.booking-row')].map(r => [...r.cells].map(c => c.innerText.trim()));",
                vec![],
            )
            .await
            .unwrap();
        let rows: Vec<Vec<String>> = serde_json::from_value(v).unwrap();
        rows.into_iter().next().filter(|r| r[1].contains("Ada Exportwell") && r.iter().any(|t| t == "Paid"))
    })
    .await;
    // Reference, customer (with e-mail), departure, booked, total, balance due, tour, guests, …
    let (reference, total, guests) = (row[0].clone(), row[4].clone(), row[7].clone());
    assert_eq!((row[6].as_str(), guests.as_str()), (tour_name.as_str(), "2"), "{row:?}");
    click(c, "#bookings-export-csv").await;
    let csv_path = saved_path(c, "#bookings-export-saved", "csv").await;
    assert_eq!(csv_path.parent(), Some(home.downloads.as_path()), "saved to the downloads folder");
    painted().await;
    screenshot(c, "booking-2-bookings-exported").await;
    let (header, records) = read_csv(&csv_path);
    assert_eq!(
        header,
        [
            "Reference",
            "Tour",
            "Departure",
            "Customer",
            "E-mail",
            "Phone",
            "Source",
            "Status",
            "Payment",
            "Guests",
            "Currency",
            "Total",
            "Balance due",
            "Booked at"
        ]
    );
    assert_eq!(records.len(), 1, "the one booking the search keeps: {records:?}");
    let r = &records[0];
    assert_eq!(
        (r[0].as_str(), r[1].as_str(), r[3].as_str()),
        (reference.as_str(), tour_name.as_str(), "Ada Exportwell")
    );
    assert_eq!(r[9], "2", "{r:?}");
    assert!(in_exponent(&r[11], &r[10]) && in_exponent(&r[12], &r[10]), "amounts as decimal strings: {r:?}");
    assert!(same_figure(&total, &r[11]), "the screen's total {total} against the file's {}", r[11]);
    assert!(same_figure(&row[5], &r[12]), "nothing due: the screen's {} against the file's {}", row[5], r[12]);
    click(c, "#bookings-export-xlsx").await;
    let xlsx_path = saved_path(c, "#bookings-export-saved", "xlsx").await;
    let mut like = vec![header.clone()];
    like.extend(records.iter().cloned());
    let sheet = read_xlsx(&xlsx_path, &like);
    assert_eq!(sheet[0], header);
    assert_eq!(sheet[1], records[0], "the spreadsheet's row against the CSV's");

    // The revenue report of the last 30 days, by day: the CSV and the XLSX hold what the screen shows.
    open_screen(c, "#nav-reports", "#report-revenue").await;
    click(c, "#report-revenue").await;
    let (columns, rows, totals) =
        eventually("the revenue report with today's sale", Duration::from_secs(30), || async move {
            let t = screen_table(c).await;
            (!t.1.is_empty()).then_some(t)
        })
        .await;
    assert_eq!(columns, ["Period", "Currency", "Bookings", "Guests", "Gross", "Discounts", "Taxes", "Refunds", "Net"]);
    click(c, "#report-export").await;
    let csv_path = saved_path(c, "#report-saved", "csv").await;
    assert_eq!(csv_path.parent(), Some(home.downloads.as_path()));
    painted().await;
    screenshot(c, "booking-2-revenue-export-csv").await;
    let (header, records) = read_csv(&csv_path);
    assert_eq!(header, columns);
    assert_same_figures(&rows, &records, "the revenue CSV");
    assert!(
        records.iter().all(|r| r[4..].iter().all(|a| in_exponent(a, &r[1]))),
        "amounts as decimal strings: {records:?}"
    );
    click(c, "#report-export-xlsx").await;
    let xlsx_path = saved_path(c, "#report-saved", "xlsx").await;
    painted().await;
    screenshot(c, "booking-2-revenue-export-xlsx").await;
    let mut like = vec![header.clone()];
    like.extend(records.iter().cloned());
    let sheet = read_xlsx(&xlsx_path, &like);
    assert_eq!(sheet[0], columns);
    assert_eq!(&sheet[1..=records.len()], records.as_slice(), "the spreadsheet's rows against the CSV's");
    // Then one empty row and the totals, as the screen's foot shows them.
    assert!(sheet[records.len() + 1].iter().all(String::is_empty), "{sheet:?}");
    let foot = &sheet[records.len() + 2..];
    assert_eq!(foot.len(), totals.len(), "the spreadsheet's totals {foot:?} against the screen's {totals:?}");
    for (s, f) in totals.iter().zip(foot) {
        // Per currency, so compared as numbers ("JPY 42000" is 42000).
        let number = |t: &str| t.chars().filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-').collect::<String>();
        let same = |s: &String, f: &String| {
            same_figure(s, f) || (!number(s).is_empty() && number(s).parse::<f64>().ok() == f.parse::<f64>().ok())
        };
        assert!(s.iter().zip(f).all(|(s, f)| same(s, f)), "the screen's totals {s:?} against the spreadsheet's {f:?}");
    }

    // The funnel: once the server has written the visits (its recorder is asynchronous), the tab
    // shows the server's own figures for the tab's dates, by tour, then by source and campaign.
    let token = owner_token(&http, url).await;
    click(c, "#report-funnel").await;
    let (from, to) = eventually("the funnel's dates", Duration::from_secs(20), || async move {
        let v = c
            .execute(
                "return [document.querySelector('#funnel-from')?.value, document.querySelector('#funnel-to')?.value];",
                vec![],
            )
            .await
            .unwrap();
        let [from, to]: [Option<String>; 2] = serde_json::from_value(v).ok()?;
        Some((from?, to?))
    })
    .await;
    let server = eventually("the server to count the booking and its payment", Duration::from_secs(30), || {
        let (http, token, from, to) = (http.clone(), token.clone(), from.clone(), to.clone());
        async move {
            let r: tourdesk_domain::reports::funnel::FunnelReport = http
                .get(format!("{url}/api/v1/analytics/funnel-report?from={from}&to={to}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let t = tourdesk_domain::reports::funnel::totals(&r);
            (t[0] >= 5 && t[4] >= 1 && t[5] >= 1).then_some(r)
        }
    })
    .await;
    // Opened before the server had it all: fetched again.
    click(c, "#funnel-refresh").await;
    use tourdesk_domain::reports::funnel::{FunnelGrouping, table};
    for by in [FunnelGrouping::Tour, FunnelGrouping::Source, FunnelGrouping::Campaign] {
        if by != FunnelGrouping::Tour {
            c.find(Locator::Css(&format!("#funnel-group option[value='{}']", by.as_str())))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
        }
        let want = table(&server, by);
        let want = (want.columns.clone(), shown(&want.rows), shown(&want.totals));
        eventually(&format!("the funnel by {} as the server counts it", by.as_str()), Duration::from_secs(30), || {
            let want = want.clone();
            async move { (screen_table(c).await == want).then_some(()) }
        })
        .await;
        painted().await;
        screenshot(c, &format!("booking-2-funnel-by-{}", by.as_str())).await;
    }
    // And by hand, so a mistake shared by the server and the desk cannot pass: the campaign's
    // visitor saw three pages, started a checkout, booked and paid.
    let (_, rows, _) = screen_table(c).await;
    assert!(
        rows.contains(
            &["newsletter", "winter walks", "3", "1", "1", "1", "1", "1", "100.0 %"].map(String::from).to_vec()
        ),
        "{rows:?}"
    );
    let direct = rows.iter().find(|r| r[0] == "Direct or unknown").unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(direct[2..5], ["2", "1", "0"], "{direct:?}");

    // Its CSV, grouped as shown: the same rows as the server's, counts as numbers.
    click(c, "#funnel-export").await;
    let csv_path = saved_path(c, "#funnel-saved", "csv").await;
    assert_eq!(
        csv_path,
        home.downloads.join(format!("tourdesk-funnel-by-campaign-{from}-to-{to}.csv")),
        "named for its grouping and dates"
    );
    painted().await;
    screenshot(c, "booking-2-funnel-saved").await;
    let (header, records) = read_csv(&csv_path);
    let want = table(&server, FunnelGrouping::Campaign);
    assert_eq!(header, want.columns);
    let want_rows: Vec<Vec<String>> =
        want.rows.iter().map(|r| r.iter().map(tourdesk_domain::reports::Cell::csv).collect()).collect();
    assert_eq!(records, want_rows);
    assert_same_figures(&rows, &records, "the funnel CSV");
}

/// An owner's access token, for asking the server what it counts.
async fn owner_token(http: &reqwest::Client, url: &str) -> String {
    let r = http
        .post(format!("{url}/api/v1/auth/sign-in"))
        .json(&json!({"organization": demo_data::DEMO_ORG_SLUG, "email": demo_data::DEMO_OWNER_EMAIL,
                      "password": demo_data::DEMO_PASSWORD, "device": "phone"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

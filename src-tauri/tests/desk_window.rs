//! The real desktop window, end to end, each test on an empty SQLite file that signs in, through
//! the sign-in screen, to a real sync-server on a throwaway PostgreSQL:
//! - signing in: a wrong password is said beside the field, then the account's two-step code is
//!   asked for and a wrong code refused, and the right ones sign in; signing out at the end
//!   brings the sign-in screen back;
//! - the desk lists the synced tours and a departure's seats, refuses bad input with a clear
//!   message, and a tour created in the window (online, then offline) reaches PostgreSQL;
//! - the last seats of a departure, sold offline in the window and meanwhile on the website,
//!   are sold once: the server refuses the desk's booking, the window moves it from the
//!   departure's list to the refused-bookings inbox, and from there to another departure.
//!
//! - a departure called off from its panel: the dialog asks why and says what it cancels, the
//!   window confirms and shows the departure cancelled, and PostgreSQL has it cancelled;
//! - a cash payment recorded offline on a booking found on the Bookings screen confirms it once
//!   back online, with one confirmation e-mail;
//! - the shell: the sidebar's screens, rows and search hits driven from the keyboard, Ctrl+K,
//!   a booking opened by its reference.
//!
//! Each screen visited is saved as a PNG under `<target dir>/e2e-screens/`.
//!
//! Runs only with the `e2e` feature, under a display: `cargo xtask e2e` or `cargo xtask test`.
//! The tests take turns with the one WebDriver port (`support::Driver`).
// Helpers outside #[test] functions are test code too: a failed step should panic with its place.
#![allow(clippy::unwrap_used)]

// The shared window helpers; this test needs only some of them.
#[allow(dead_code)]
mod support;

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};
use support::{
    Driver, attr_of_element_whose_text, click, demo_server, eventually, fill_sign_in, open_desk, press, press_focused,
    retype, retype_until_held, screenshot, texts, type_into,
};
use tourdesk_domain::mutation::Mutation;
use tourdesk_local_store::{Credentials, Store, SyncClient};
use tourdesk_sync_server::{Config, demo_data, mfa};
use tourdesk_testkit::PgCluster;
use tourdesk_testkit::stripe::{FakeStripe, sign};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synced_tours_show_and_a_new_tour_reaches_postgres() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let server = tourdesk_sync_server::start(demo_server(&db_url)).await.unwrap();
    // The owner has two-step sign-in on (turned on from another device, through the API).
    let url = format!("http://{}", server.addr);
    let secret = enrol_totp(&url, demo_data::DEMO_OWNER_EMAIL).await;
    let dir = tempfile::tempdir().unwrap();
    let _driver = Driver::start(&[
        ("TOURDESK_SERVER_URL", url.clone()),
        ("TOURDESK_DESK_DB", dir.path().join("desk.sqlite3").to_string_lossy().into_owned()),
        ("TOURDESK_SYNC_INTERVAL_SECS", "2".into()),
    ])
    .await;
    let c = open_desk().await;

    // A new desk opens on the sign-in screen. A wrong password is said beside the password; the
    // form stays usable, and the right one leads to the code step.
    fill_sign_in(&c, &url, demo_data::DEMO_OWNER_EMAIL, "not the password").await;
    screenshot(&c, "0-sign-in").await;
    press(&c, "#sign-in-password", &Key::Enter.to_string()).await;
    let said = eventually("the wrong password said at its field", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, "#sign-in-error-password").await.into_iter().next() }
    })
    .await;
    assert!(said.contains("wrong"), "{said}");
    painted().await;
    screenshot(&c, "0-sign-in-wrong-password").await;
    retype(&c, "#sign-in-password", demo_data::DEMO_PASSWORD).await;
    press(&c, "#sign-in-password", &Key::Enter.to_string()).await;
    eventually("the code step", Duration::from_secs(20), || {
        let c = c.clone();
        async move { (!texts(&c, "#sign-in-code-step").await.is_empty()).then_some(()) }
    })
    .await;
    assert!(texts(&c, "#sign-in-error-password").await.is_empty(), "the password error is gone");
    let code = mfa::code_at(&secret, unix_now() + 30).unwrap();
    // Another code than the right one: its first digit moved on by one.
    let wrong: String = code
        .chars()
        .enumerate()
        .map(|(i, ch)| if i == 0 { char::from_digit((ch.to_digit(10).unwrap() + 1) % 10, 10).unwrap() } else { ch })
        .collect();
    type_into(&c, "#sign-in-otp", &wrong).await;
    screenshot(&c, "0-sign-in-code").await;
    press(&c, "#sign-in-otp", &Key::Enter.to_string()).await;
    let said = eventually("the wrong code said at its field", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, "#sign-in-error-otp").await.into_iter().next() }
    })
    .await;
    assert!(said.contains("not right"), "{said}");
    painted().await;
    screenshot(&c, "0-sign-in-wrong-code").await;
    retype(&c, "#sign-in-otp", &code).await;
    press(&c, "#sign-in-otp", &Key::Enter.to_string()).await;
    // A fresh desk starts on the today dashboard; the tours are one click away.
    click(&c, "#nav-tours").await;

    // The three demo tours arrive from the server and are listed.
    let names = eventually("the demo tours to be listed", Duration::from_secs(60), || {
        let c = c.clone();
        async move {
            let names = texts(&c, ".tour-row .tour-name").await;
            (names.len() == 3).then_some(names)
        }
    })
    .await;
    assert!(names.iter().any(|n| n == "Kyoto Temples at Dawn"), "{names:?}");
    eventually("the desk to report it is online", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, "#status-connection").await.iter().any(|s| s == "Online").then_some(()) }
    })
    .await;

    // A departure view shows seats left in the departure's own zone.
    c.find(Locator::Css(".tour-row[data-slug='kyoto-temples-at-dawn']")).await.unwrap().click().await.unwrap();
    let rows = eventually("Kyoto departures", Duration::from_secs(20), || {
        let c = c.clone();
        async move {
            let title = texts(&c, "#tour-title").await;
            let rows = texts(&c, ".departure-row").await;
            (title.first().map(String::as_str) == Some("Kyoto Temples at Dawn") && rows.len() == 14).then_some(rows)
        }
    })
    .await;
    assert!(rows[0].contains("06:00 JST"), "{}", rows[0]);
    let prices = texts(&c, "#price-list .price").await;
    assert!(prices.iter().any(|p| p == "Adult ¥12,000"), "{prices:?}");
    assert!(!texts(&c, ".seats-left").await.is_empty());
    assert!(texts(&c, "#departure-table .status-word").await.iter().all(|s| s != "open"), "statuses in words");
    screenshot(&c, "1-tours-kyoto").await;

    // The keyboard: arrows move along the tour list, Enter opens; Ctrl+K searches, ArrowDown
    // walks into the hits, Enter opens one.
    let kyoto = ".tour-row[data-slug='kyoto-temples-at-dawn']";
    press(&c, kyoto, &Key::Up.to_string()).await;
    let focused = press_focused(&c, &Key::Enter.to_string()).await;
    assert_eq!(focused.as_deref(), Some("brooklyn-bites"), "ArrowUp moved to the row above");
    eventually("another tour opened from the keyboard", Duration::from_secs(10), || {
        let c = c.clone();
        async move {
            let title = texts(&c, "#tour-title").await;
            (!title.is_empty() && title[0] != "Kyoto Temples at Dawn").then_some(())
        }
    })
    .await;
    press_focused(&c, &format!("{}k{}", Key::Control, Key::Null)).await;
    eventually("the search palette", Duration::from_secs(10), || {
        let c = c.clone();
        async move { (!texts(&c, "#search-palette").await.is_empty()).then_some(()) }
    })
    .await;
    type_into(&c, "#search-input", "temples").await;
    eventually("the tour among the hits", Duration::from_secs(10), || {
        let c = c.clone();
        async move {
            texts(&c, "#search-hits .search-hit[data-kind='tour']")
                .await
                .iter()
                .any(|t| t.contains("Kyoto"))
                .then_some(())
        }
    })
    .await;
    screenshot(&c, "1-search").await;
    press(&c, "#search-input", &Key::Down.to_string()).await;
    let focused = press_focused(&c, &Key::Enter.to_string()).await;
    assert!(focused.is_some_and(|r| r.starts_with("#/tours/")), "ArrowDown moved into the hits");
    eventually("Kyoto opened from the search", Duration::from_secs(10), || {
        let c = c.clone();
        async move {
            let gone = texts(&c, "#search-palette").await.is_empty();
            (gone && texts(&c, "#tour-title").await.first().map(String::as_str) == Some("Kyoto Temples at Dawn"))
                .then_some(())
        }
    })
    .await;

    // The other screens of the sidebar.
    click(&c, "#nav-customers").await;
    eventually("the customers screen", Duration::from_secs(10), || {
        let c = c.clone();
        async move { (!texts(&c, "#customers-search").await.is_empty()).then_some(()) }
    })
    .await;
    screenshot(&c, "1-customers").await;
    click(&c, "#nav-inbox").await;
    eventually("the inbox, empty", Duration::from_secs(10), || {
        let c = c.clone();
        async move { texts(&c, "#inbox").await.iter().any(|t| t.contains("Nothing waiting")).then_some(()) }
    })
    .await;
    screenshot(&c, "1-inbox-empty").await;
    click(&c, "#nav-tours").await;
    click(&c, kyoto).await;

    // Bad input is refused with the domain's message at the field, and nothing is created.
    c.find(Locator::Css("#new-tour")).await.unwrap().click().await.unwrap();
    let name = c.find(Locator::Css("#new-tour-name")).await.unwrap();
    name.send_keys("Lighthouse at Dusk").await.unwrap();
    retype_until_held(&c, "#new-tour-capacity", "0").await;
    c.find(Locator::Css("#new-tour-submit")).await.unwrap().click().await.unwrap();
    let err = eventually("a capacity error", Duration::from_secs(10), || {
        let c = c.clone();
        async move { texts(&c, ".field-error").await.into_iter().next() }
    })
    .await;
    assert!(err.contains("between 1 and 10000"), "{err}");
    screenshot(&c, "1-new-tour-refused").await;
    // The webview's own right-click menu (Reload, Inspect…) is suppressed, except in text inputs.
    let menus = c
        .execute(
            "const open = (el) => { const e = new MouseEvent('contextmenu', {bubbles: true, cancelable: true});
                                    el.dispatchEvent(e); return e.defaultPrevented; };
             return [open(document.querySelector('.tour-row')), open(document.querySelector('#new-tour-name'))];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(menus, json!([true, false]), "suppressed on a row, kept in a text input");

    // Fixed, it is created: listed at once, then confirmed by the server.
    retype_until_held(&c, "#new-tour-capacity", "16").await;
    c.find(Locator::Css("#new-tour-submit")).await.unwrap().click().await.unwrap();
    eventually("the new tour in the list", Duration::from_secs(10), || {
        let c = c.clone();
        async move { texts(&c, ".tour-row .tour-name").await.iter().any(|n| n == "Lighthouse at Dusk").then_some(()) }
    })
    .await;

    let pg = tourdesk_testkit::connect(&db_url).await.unwrap();
    let (slug, capacity, status): (String, i32, String) =
        eventually("the tour in PostgreSQL", Duration::from_secs(30), || {
            let pg = &pg;
            async move {
                let row = pg
                    .query_opt(
                        "SELECT slug, default_capacity, status FROM tours WHERE name = 'Lighthouse at Dusk'",
                        &[],
                    )
                    .await
                    .unwrap()?;
                Some((row.get(0), row.get(1), row.get(2)))
            }
        })
        .await;
    assert_eq!((slug.as_str(), capacity, status.as_str()), ("lighthouse-at-dusk", 16, "draft"));

    // And the desk learns the server's verdict: no longer pending.
    eventually("the pending badge to clear", Duration::from_secs(30), || {
        let c = c.clone();
        async move {
            let row = c.find(Locator::Css(".tour-row[data-slug='lighthouse-at-dusk']")).await.ok()?;
            let text = row.text().await.ok()?;
            (!text.contains("Pending sync")).then_some(())
        }
    })
    .await;

    // The server goes away: the desk says so, keeps working, and marks new work as pending.
    let addr = server.addr;
    server.shutdown().await.unwrap();
    c.find(Locator::Css("#sync-now")).await.unwrap().click().await.unwrap();
    eventually("the desk to notice it is offline", Duration::from_secs(30), || {
        let c = c.clone();
        async move { texts(&c, "#status-connection").await.iter().any(|s| s.starts_with("Offline")).then_some(()) }
    })
    .await;
    create_tour(&c, "Tidepool Ramble", "10").await;
    eventually("the offline tour listed as pending", Duration::from_secs(10), || {
        let c = c.clone();
        async move {
            let row = c.find(Locator::Css(".tour-row[data-slug='tidepool-ramble']")).await.ok()?;
            row.text().await.ok()?.contains("Pending sync").then_some(())
        }
    })
    .await;
    eventually("the status bar to count one pending change", Duration::from_secs(10), || {
        let c = c.clone();
        async move { texts(&c, "#status-pending").await.iter().any(|s| s == "1 pending").then_some(()) }
    })
    .await;
    let toasts = texts(&c, "#toasts .toast").await;
    assert!(toasts.iter().any(|t| t.contains("Tidepool Ramble")), "creating says so: {toasts:?}");
    screenshot(&c, "1-offline").await;
    eventually("the confirmations to leave by themselves", Duration::from_secs(15), || {
        let c = c.clone();
        async move { texts(&c, "#toasts .toast").await.is_empty().then_some(()) }
    })
    .await;

    // It comes back on the same address: the queued tour is pushed and confirmed.
    let server = tourdesk_sync_server::start(Config {
        database_url: tourdesk_testkit::as_app(&db_url),
        migrate_database_url: Some(db_url.clone()),
        listen: addr.to_string(),
        demo_data: true,
        dev_mode: true,
        ..Config::default()
    })
    .await
    .unwrap();
    eventually("the offline tour in PostgreSQL", Duration::from_secs(60), || {
        let pg = &pg;
        async move {
            pg.query_opt("SELECT 1 FROM tours WHERE slug = 'tidepool-ramble'", &[]).await.unwrap().map(|_| ())
        }
    })
    .await;
    eventually("the desk to settle", Duration::from_secs(30), || {
        let c = c.clone();
        async move {
            let pending = texts(&c, "#status-pending").await;
            let row = c.find(Locator::Css(".tour-row[data-slug='tidepool-ramble']")).await.ok()?;
            let text = row.text().await.ok()?;
            (pending.first().map(String::as_str) == Some("0 pending") && !text.contains("Pending sync")).then_some(())
        }
    })
    .await;

    // Signing out: the server revokes this desk, and the sign-in screen is back.
    click(&c, "#sign-out").await;
    eventually("the sign-out dialog", Duration::from_secs(10), || {
        let c = c.clone();
        async move { texts(&c, "#sign-out-text").await.into_iter().next().filter(|t| t.contains("revoke")) }
    })
    .await;
    painted().await;
    screenshot(&c, "1-sign-out-dialog").await;
    press_focused(&c, &Key::Enter.to_string()).await;
    eventually("the sign-in screen after signing out", Duration::from_secs(20), || {
        let c = c.clone();
        async move { (!texts(&c, "#sign-in-form").await.is_empty()).then_some(()) }
    })
    .await;
    let revoked = pg
        .query_one(
            "SELECT count(*) FROM staff_devices WHERE name LIKE 'Tourdesk desk%' AND revoked_at IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(revoked, 1, "the server revoked the desk");
    screenshot(&c, "1-signed-out").await;

    c.close().await.unwrap();
    server.shutdown().await.unwrap();
}

/// The DOM is ahead of the paint: a screenshot right after a check can show the frame before.
async fn painted() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Turns two-step sign-in on for a demo member through the API; returns the TOTP secret.
async fn enrol_totp(url: &str, email: &str) -> String {
    let http = reqwest::Client::new();
    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut req = http.post(format!("{url}{path}")).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let r = req.send().await.unwrap();
            assert!(r.status().is_success(), "{}", r.status());
            r.json::<Value>().await.unwrap()
        }
    };
    let password = demo_data::DEMO_PASSWORD;
    let signed_in = post(
        "/api/v1/auth/sign-in",
        None,
        json!({"organization": demo_data::DEMO_ORG_SLUG, "email": email, "password": password, "device": "phone"}),
    )
    .await;
    let token = signed_in["access_token"].as_str().unwrap().to_string();
    let enrolment = post("/api/v1/auth/mfa/enrol", Some(&token), json!({"password": password})).await;
    let secret = enrolment["secret"].as_str().unwrap().to_string();
    post("/api/v1/auth/mfa/confirm", Some(&token), json!({"code": mfa::code_at(&secret, unix_now()).unwrap()})).await;
    secret
}

/// Signs in through the screen, pressing Enter in the password field.
/// Signs in, then opens the tours list from the sidebar (a fresh desk starts on the today
/// dashboard).
async fn sign_in_through_the_screen(c: &Client, url: &str, email: &str, password: &str) {
    fill_sign_in(c, url, email, password).await;
    press(c, "#sign-in-password", &Key::Enter.to_string()).await;
    click(c, "#nav-tours").await;
}

/// Fills and submits the new-tour form.
async fn create_tour(c: &fantoccini::Client, name: &str, capacity: &str) {
    c.find(Locator::Css("#new-tour")).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("#new-tour-name")).await.unwrap().send_keys(name).await.unwrap();
    let cap = c.find(Locator::Css("#new-tour-capacity")).await.unwrap();
    cap.clear().await.unwrap();
    cap.send_keys(capacity).await.unwrap();
    c.find(Locator::Css("#new-tour-submit")).await.unwrap().click().await.unwrap();
}

/// The Stripe webhook secret the booking test's server checks signatures with.
const WEBHOOK_SECRET: &str = "whsec_tourdesk_e2e";

/// Issue 5 in the real window: two sellers, offline from each other, can never sell the same
/// last seat, and the one refused sees who, how many and why, and moves the booking on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_seats_sold_offline_and_on_the_website_go_once_and_the_refused_booking_moves() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let stripe = FakeStripe::start().await;
    let config = paying_demo_server(&db_url, &stripe);
    let server = tourdesk_sync_server::start(config.clone()).await.unwrap();
    let addr = server.addr;
    let pg = tourdesk_testkit::connect(&db_url).await.unwrap();

    // A Kyoto departure a few days out with more than two seats left, another one with room for
    // two more, and the tour's adult price.
    let row = pg
        .query_one(
            "SELECT s.id, s.tour_id, s.booked_count, s.capacity FROM schedules s JOIN tours t ON t.id = s.tour_id
             WHERE t.slug = 'kyoto-temples-at-dawn' AND s.status = 'open'
               AND s.starts_at > now() + interval '3 days' AND s.booked_count + 2 < s.capacity
             ORDER BY s.starts_at LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (dep, tour, booked, seeded_capacity): (String, String, i32, i32) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let row = pg
        .query_one(
            "SELECT id, booked_count, capacity FROM schedules
             WHERE tour_id = $1 AND id <> $2 AND status = 'open'
               AND starts_at > now() + interval '3 days' AND booked_count + 2 <= capacity
             ORDER BY starts_at LIMIT 1",
            &[&tour, &dep],
        )
        .await
        .unwrap();
    let (other, other_booked, other_capacity): (String, i32, i32) = (row.get(0), row.get(1), row.get(2));
    let adult: String = pg
        .query_one("SELECT id FROM pricing_tiers WHERE tour_id = $1 AND name = 'Adult'", &[&tour])
        .await
        .unwrap()
        .get(0);

    let dir = tempfile::tempdir().unwrap();
    let _driver = Driver::start(&[
        ("TOURDESK_SERVER_URL", format!("http://{addr}")),
        ("TOURDESK_DESK_DB", dir.path().join("desk.sqlite3").to_string_lossy().into_owned()),
        ("TOURDESK_SYNC_INTERVAL_SECS", "2".into()),
    ])
    .await;
    let c = open_desk().await;
    // This whole story runs in a narrow window (860 px): every button it clicks must be there.
    c.set_window_size(860, 760).await.unwrap();
    sign_in_through_the_screen(&c, &format!("http://{addr}"), demo_data::DEMO_OWNER_EMAIL, demo_data::DEMO_PASSWORD)
        .await;
    eventually("the desk to sign in and sync", Duration::from_secs(60), || {
        let c = c.clone();
        async move {
            let online = texts(&c, "#status-connection").await.iter().any(|s| s == "Online");
            (online && texts(&c, ".tour-row").await.len() == 3).then_some(())
        }
    })
    .await;
    click(&c, ".tour-row[data-slug='kyoto-temples-at-dawn']").await;
    let seeded_left = (seeded_capacity - booked).to_string();
    seats_shown(&c, &dep, &seeded_left, "the departure's seats as seeded").await;
    // At 860 px a departure's date stays on one line: its cell is as tall as a number's.
    let heights = c
        .execute(
            "const r = document.querySelector('.departure-row');
             const h = (css) => r.querySelector(css).getBoundingClientRect().height;
             const b = r.querySelector('.open-manifest').getBoundingClientRect();
             return [h('td.when'), h('td.seats-left'), b.right, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&c, "2-narrow-tours").await;
    let n = |i: usize| heights[i].as_f64().unwrap();
    assert!(n(0) <= n(1) + 0.5, "the date wraps: {heights}");
    assert!(n(2) <= n(3), "the row's last button is cut off: {heights}");

    // Another office desk (the manager's, headless) leaves exactly two seats, through the server;
    // the window follows.
    let capacity = booked + 2;
    let back_office = Store::open(&dir.path().join("back-office.sqlite3")).unwrap();
    let back_client = SyncClient::new(
        &format!("http://{addr}"),
        Credentials {
            organization: demo_data::DEMO_ORG_SLUG.into(),
            email: demo_data::DEMO_MANAGER_EMAIL.into(),
            password: demo_data::DEMO_PASSWORD.into(),
            device: "back office".into(),
        },
    )
    .unwrap();
    back_client.sync_once(&back_office).await.unwrap();
    let set = json!({"departure_id": dep, "capacity": capacity});
    back_office.mutate(&Mutation::decode("set_departure_capacity.v1", &set).unwrap()).unwrap();
    back_client.sync_once(&back_office).await.unwrap();
    assert!(back_office.rejections().unwrap().is_empty(), "{:?}", back_office.rejections().unwrap());
    seats_shown(&c, &dep, "2", "the window to show two seats left").await;

    // The network goes. In the window: the departure's bookings, a new booking for a customer
    // found by name, two adults.
    server.shutdown().await.unwrap();
    click(&c, "#sync-now").await;
    eventually("the desk to notice it is offline", Duration::from_secs(30), || {
        let c = c.clone();
        async move { texts(&c, "#status-connection").await.iter().any(|s| s.starts_with("Offline")).then_some(()) }
    })
    .await;
    click(&c, &format!(".departure-row[data-id='{dep}'] .open-bookings")).await;
    let panel = format!("#bookings-panel[data-departure='{dep}']");
    eventually("the departure's bookings panel", Duration::from_secs(10), || {
        let c = c.clone();
        let css = format!("{panel} #new-booking");
        async move { (!texts(&c, &css).await.is_empty()).then_some(()) }
    })
    .await;
    click(&c, &format!("{panel} #new-booking")).await;
    type_into(&c, "#new-booking-form #customer-search", "Yuki").await;
    let yuki = eventually("the demo customer found by name", Duration::from_secs(10), || {
        let c = c.clone();
        async move {
            attr_of_element_whose_text(&c, "#new-booking-form .customer-hit", |t| t.contains("Yuki Tanaka"), "data-id")
                .await
        }
    })
    .await;
    click(&c, &format!("#new-booking-form .customer-hit[data-id='{yuki}']")).await;
    eventually("the customer picked", Duration::from_secs(10), || {
        let c = c.clone();
        async move { texts(&c, "#picked-customer").await.iter().any(|t| t.starts_with("Yuki Tanaka")).then_some(()) }
    })
    .await;
    type_into(&c, &format!("#new-booking-form .qty[data-tier='{adult}']"), "2").await;
    eventually("the live total", Duration::from_secs(10), || {
        let c = c.clone();
        async move { texts(&c, "#booking-total").await.iter().any(|t| t == "Total: ¥24,000").then_some(()) }
    })
    .await;
    click(&c, "#new-booking-submit").await;

    // Listed at once as pending sync, and the seats are taken locally.
    let reference = eventually("the offline booking listed as pending", Duration::from_secs(10), || {
        let (c, dep) = (c.clone(), dep.clone());
        async move {
            let rows = booking_rows(&c, &dep).await?;
            rows.into_iter().find(|r| r.customer == "Yuki Tanaka" && r.pax == "2" && r.pending).map(|r| r.reference)
        }
    })
    .await;
    seats_shown(&c, &dep, "0", "the seats taken locally").await;
    eventually("the form to close after booking", Duration::from_secs(10), || {
        let c = c.clone();
        async move { texts(&c, "#new-booking-form").await.is_empty().then_some(()) }
    })
    .await;
    eventually("the status bar to count the queued booking", Duration::from_secs(10), || {
        let c = c.clone();
        async move { texts(&c, "#status-pending").await.iter().any(|s| s == "1 pending").then_some(()) }
    })
    .await;

    // Meanwhile the website, which still reaches the server (its own instance on the same
    // database), sells the same two seats and they are paid. The desk's address stays dark, so
    // this happens before the desk can push, every run.
    let website = tourdesk_sync_server::start(config.clone()).await.unwrap();
    let http = reqwest::Client::new();
    let request = json!({
        "request_id": uuid::Uuid::new_v4().to_string(),
        "departure_id": dep,
        "customer": {"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper"},
        "lines": [{"tier_id": adult, "quantity": 2}],
    });
    let answer = http
        .post(format!("http://{}/api/v1/orgs/{}/bookings", website.addr, demo_data::DEMO_ORG_SLUG))
        .json(&request)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let sold: Value = answer.json().await.unwrap();
    assert_eq!(status, 201, "{sold}");
    let web_reference = sold["booking"]["reference"].as_str().unwrap().to_string();
    let event = stripe.succeed(sold["payment"]["payment_intent_id"].as_str().unwrap());
    let paid = http
        .post(format!("http://{}/api/v1/stripe/webhook", website.addr))
        .header("Stripe-Signature", sign(&event, WEBHOOK_SECRET, chrono::Utc::now().timestamp()))
        .header("Content-Type", "application/json")
        .body(event)
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status().as_u16(), 200);
    let row = pg
        .query_one(
            "SELECT b.status, s.booked_count FROM bookings b JOIN schedules s ON s.id = b.departure_id
             WHERE b.reference_number = $1",
            &[&web_reference],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, String>(0).as_str(), row.get::<_, i32>(1)), ("confirmed", capacity));
    website.shutdown().await.unwrap();
    eventually("the booking still only on the desk, pending", Duration::from_secs(10), || {
        let (c, dep, reference) = (c.clone(), dep.clone(), reference.clone());
        async move { booking_rows(&c, &dep).await?.iter().any(|r| r.reference == reference && r.pending).then_some(()) }
    })
    .await;

    // The server comes back; the desk pushes and is refused. The booking leaves the departure's
    // list (which now shows the website's) and waits in the inbox: who, how many, why.
    let server = tourdesk_sync_server::start(Config { listen: addr.to_string(), ..config.clone() }).await.unwrap();
    click(&c, "#sync-now").await;
    click(&c, "#nav-inbox").await;
    let refused = format!("#rejected-bookings .rejected-booking[data-departure='{dep}']");
    let (customer, pax, code, reason) = eventually("the refused booking in the inbox", Duration::from_secs(60), || {
        let c = c.clone();
        let refused = refused.clone();
        async move {
            let one = |part: &str| {
                let (c, css) = (c.clone(), format!("{refused} {part}"));
                async move { texts(&c, &css).await.into_iter().next() }
            };
            Some((one(".customer").await?, one(".pax").await?, one(".code").await?, one(".reason").await?))
        }
    })
    .await;
    assert_eq!(
        (customer.as_str(), pax.as_str(), code.as_str(), reason.as_str()),
        ("Yuki Tanaka", "2 pax", "Not enough seats left", "Only 0 seats left, 2 requested")
    );
    for action in [".move-target", ".move", ".waitlist", ".overbook"] {
        assert_eq!(texts(&c, &format!("{refused} {action}")).await.len(), 1, "the inbox offers {action}");
    }
    screenshot(&c, "2-inbox-refused").await;
    let kyoto = ".tour-row[data-slug='kyoto-temples-at-dawn']";
    click(&c, "#nav-tours").await;
    click(&c, kyoto).await;
    click(&c, &format!(".departure-row[data-id='{dep}'] .open-bookings")).await;
    eventually("the refused booking off the departure's list", Duration::from_secs(20), || {
        let c = c.clone();
        let (dep, reference, web_reference) = (dep.clone(), reference.clone(), web_reference.clone());
        async move {
            let rows = booking_rows(&c, &dep).await?;
            let refs: Vec<&str> = rows.iter().map(|r| r.reference.as_str()).collect();
            (!refs.contains(&reference.as_str()) && refs.contains(&web_reference.as_str())).then_some(())
        }
    })
    .await;
    seats_shown(&c, &dep, "0", "the departure full, as the server says").await;
    click(&c, "#nav-inbox").await;
    eventually("the inbox again", Duration::from_secs(10), || {
        let c = c.clone();
        let refused = refused.clone();
        async move { (!texts(&c, &refused).await.is_empty()).then_some(()) }
    })
    .await;
    assert!(texts(&c, "#rejections .rejection").await.is_empty(), "a refused booking shows only in its own inbox");

    // Moved, in one action, to another departure with room: listed there, confirmed by the server.
    c.find(Locator::Css(&format!("{refused} .move-target option[value='{other}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let move_button = c.find(Locator::Css(&format!("{refused} .move"))).await.unwrap();
    eventually("the move button to arm", Duration::from_secs(10), || {
        let b = move_button.clone();
        async move { b.is_enabled().await.ok()?.then_some(()) }
    })
    .await;
    move_button.click().await.unwrap();
    eventually("the inbox to let go of the moved booking", Duration::from_secs(20), || {
        let c = c.clone();
        let refused = refused.clone();
        async move { texts(&c, &refused).await.is_empty().then_some(()) }
    })
    .await;
    click(&c, "#nav-tours").await;
    click(&c, kyoto).await;
    click(&c, &format!(".departure-row[data-id='{other}'] .open-bookings")).await;
    eventually("the moved booking on the other departure, confirmed", Duration::from_secs(60), || {
        let c = c.clone();
        let (other, reference) = (other.clone(), reference.clone());
        async move {
            let rows = booking_rows(&c, &other).await?;
            rows.iter()
                .any(|r| r.reference == reference && r.customer == "Yuki Tanaka" && r.pax == "2" && !r.pending)
                .then_some(())
        }
    })
    .await;
    let other_left = (other_capacity - other_booked - 2).to_string();
    seats_shown(&c, &other, &other_left, "the other departure's seats, two fewer").await;
    eventually("the desk to settle", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, "#status-pending").await.iter().any(|s| s == "0 pending").then_some(()) }
    })
    .await;
    screenshot(&c, "2-moved-booking").await;

    // Found by its reference from the header's search, and opened on its own screen.
    click(&c, "#open-search").await;
    type_into(&c, "#search-input", &reference).await;
    let hit = format!("#search-hits .search-hit[data-route='#/bookings/{reference}']");
    eventually("the booking among the hits", Duration::from_secs(10), || {
        let (c, hit) = (c.clone(), hit.clone());
        async move { (!texts(&c, &hit).await.is_empty()).then_some(()) }
    })
    .await;
    click(&c, &hit).await;
    let card = eventually("the booking's screen", Duration::from_secs(10), || {
        let c = c.clone();
        async move { texts(&c, "#booking-page .booking-card").await.into_iter().next() }
    })
    .await;
    assert!(
        card.contains(&reference) && card.contains("Yuki Tanaka") && card.contains("Kyoto Temples at Dawn"),
        "{card}"
    );
    screenshot(&c, "2-booking").await;

    // PostgreSQL has the booking once, on the new departure; the first one is full, not over.
    let rows = pg
        .query(
            "SELECT departure_id, customer_id, participant_count, source FROM bookings WHERE reference_number = $1",
            &[&reference],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "the booking is stored once");
    let r = &rows[0];
    assert_eq!(
        (r.get::<_, String>(0), r.get::<_, String>(1), r.get::<_, i32>(2), r.get::<_, String>(3)),
        (other.clone(), yuki.clone(), 2, "admin".to_string())
    );
    let counts = |id: &str| {
        let (pg, id) = (&pg, id.to_string());
        async move {
            let row = pg.query_one("SELECT booked_count, capacity FROM schedules WHERE id = $1", &[&id]).await.unwrap();
            (row.get::<_, i32>(0), row.get::<_, i32>(1))
        }
    };
    assert_eq!(counts(&other).await, (other_booked + 2, other_capacity), "the new departure, two seats more");
    assert_eq!(counts(&dep).await, (capacity, capacity), "the first departure at capacity, not over it");
    let on_first: i64 = pg
        .query_one("SELECT count(*) FROM bookings WHERE departure_id = $1 AND customer_id = $2", &[&dep, &yuki])
        .await
        .unwrap()
        .get(0);
    assert_eq!(on_first, 0, "nothing of the refused booking reached the full departure");

    c.close().await.unwrap();
    server.shutdown().await.unwrap();
}

/// A row of a departure's bookings panel as the window shows it.
#[derive(Debug, Clone, Default)]
struct BookingRow {
    reference: String,
    customer: String,
    pax: String,
    pending: bool,
}

/// The rows of the open bookings panel of `departure`; `None` while that panel is not shown or
/// the window re-renders under the driver.
async fn booking_rows(c: &Client, departure: &str) -> Option<Vec<BookingRow>> {
    let panel = c.find(Locator::Css(&format!("#bookings-panel[data-departure='{departure}']"))).await.ok()?;
    let mut out = Vec::new();
    for row in panel.find_all(Locator::Css(".booking-row")).await.ok()? {
        out.push(BookingRow {
            reference: row.find(Locator::Css(".reference")).await.ok()?.text().await.ok()?,
            customer: row.find(Locator::Css(".customer")).await.ok()?.text().await.ok()?,
            pax: row.find(Locator::Css(".pax")).await.ok()?.text().await.ok()?,
            pending: row.attr("data-pending").await.ok()?.as_deref() == Some("true"),
        });
    }
    Some(out)
}

/// Waits until the departure table shows `seats` left on `departure`.
async fn seats_shown(c: &Client, departure: &str, seats: &str, what: &str) {
    let css = format!(".departure-row[data-id='{departure}'] .seats-left");
    eventually(what, Duration::from_secs(30), || {
        let (c, css) = (c.clone(), css.clone());
        async move { texts(&c, &css).await.iter().any(|s| s == seats).then_some(()) }
    })
    .await;
}

/// Issue 12: the operator calls a departure off from its panel, with a reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_departure_is_called_off_from_its_panel() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let stripe = FakeStripe::start().await;
    let config = paying_demo_server(&db_url, &stripe);
    let server = tourdesk_sync_server::start(config).await.unwrap();
    let pg = tourdesk_testkit::connect(&db_url).await.unwrap();
    // A Kyoto departure a few days out with room, and the tour's first price.
    let row = pg
        .query_one(
            "SELECT s.id, p.id FROM schedules s JOIN tours t ON t.id = s.tour_id
             JOIN pricing_tiers p ON p.tour_id = s.tour_id
             WHERE t.slug = 'kyoto-temples-at-dawn' AND s.status = 'open'
               AND s.starts_at > now() + interval '3 days' AND s.booked_count + 2 < s.capacity
             ORDER BY s.starts_at, p.sort_order, p.id LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (dep, tier): (String, String) = (row.get(0), row.get(1));
    // Two guests booked and paid on the website.
    let http = reqwest::Client::new();
    let request = json!({
        "request_id": uuid::Uuid::new_v4().to_string(),
        "departure_id": dep,
        "customer": {"email": "grace@example.com", "first_name": "Grace", "last_name": "Hopper"},
        "lines": [{"tier_id": tier, "quantity": 2}],
    });
    let answer = http
        .post(format!("http://{}/api/v1/orgs/{}/bookings", server.addr, demo_data::DEMO_ORG_SLUG))
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    let sold: Value = answer.json().await.unwrap();
    let event = stripe.succeed(sold["payment"]["payment_intent_id"].as_str().unwrap());
    let paid = http
        .post(format!("http://{}/api/v1/stripe/webhook", server.addr))
        .header("Stripe-Signature", sign(&event, WEBHOOK_SECRET, chrono::Utc::now().timestamp()))
        .header("Content-Type", "application/json")
        .body(event)
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status().as_u16(), 200);
    let total = sold["booking"]["price"]["total"]["formatted"].as_str().map(str::to_string);
    let dir = tempfile::tempdir().unwrap();
    let _driver = Driver::start(&[
        ("TOURDESK_SERVER_URL", format!("http://{}", server.addr)),
        ("TOURDESK_DESK_DB", dir.path().join("desk.sqlite3").to_string_lossy().into_owned()),
        ("TOURDESK_SYNC_INTERVAL_SECS", "2".into()),
    ])
    .await;
    let c = open_desk().await;
    let url = format!("http://{}", server.addr);
    sign_in_through_the_screen(&c, &url, demo_data::DEMO_OWNER_EMAIL, demo_data::DEMO_PASSWORD).await;
    eventually("the demo tours to be listed", Duration::from_secs(60), || {
        let c = c.clone();
        async move { (texts(&c, ".tour-row .tour-name").await.len() == 3).then_some(()) }
    })
    .await;
    click(&c, ".tour-row[data-slug='kyoto-temples-at-dawn']").await;
    let row = format!(".departure-row[data-id='{dep}']");
    eventually("the departure's row", Duration::from_secs(20), || {
        let c = c.clone();
        let row = row.clone();
        async move { (!texts(&c, &row).await.is_empty()).then_some(()) }
    })
    .await;
    click(&c, &format!("{row} .open-manifest")).await;
    eventually("the cancel action", Duration::from_secs(20), || {
        let c = c.clone();
        async move { (!texts(&c, "#cancel-departure").await.is_empty()).then_some(()) }
    })
    .await;
    click(&c, "#cancel-departure").await;
    let summary = eventually("the dialog", Duration::from_secs(10), || {
        let c = c.clone();
        async move { texts(&c, "#cancel-departure-summary").await.into_iter().next() }
    })
    .await;
    assert!(summary.starts_with("1 booking (2 guests) will be cancelled;"), "{summary}");
    assert!(summary.contains("refunded in full to 1 customer"), "{summary}");
    if let Some(total) = total {
        assert!(summary.contains(&total), "{summary} names {total}");
    }
    assert!(summary.contains("a link to pick another date"), "{summary}");
    screenshot(&c, "3-cancel-departure-dialog").await;

    // Without a reason it is refused at the field; with one, it is done.
    click(&c, "#confirm-cancel-departure").await;
    eventually("the reason to be asked for", Duration::from_secs(10), || {
        let c = c.clone();
        async move {
            texts(&c, "#cancel-departure-dialog .field-error").await.iter().any(|t| t.contains("Say why")).then_some(())
        }
    })
    .await;
    type_into(&c, "#cancel-departure-reason", "Typhoon warning: the temples are closed").await;
    click(&c, "#confirm-cancel-departure").await;
    eventually("the confirmation and the departure shown cancelled", Duration::from_secs(15), || {
        let c = c.clone();
        let row = row.clone();
        async move {
            let toast = texts(&c, "#toasts .toast").await.iter().any(|t| t.starts_with("Departure cancelled"));
            let status = texts(&c, &format!("{row} .status-word")).await;
            (toast && status.first().map(String::as_str) == Some("Cancelled")).then_some(())
        }
    })
    .await;
    assert!(texts(&c, "#cancel-departure-dialog").await.is_empty(), "the dialog closed");
    assert!(texts(&c, "#cancel-departure").await.is_empty(), "nothing left to cancel");
    screenshot(&c, "3-departure-cancelled").await;

    let (status, left): (String, i32) = eventually("the cancellation in PostgreSQL", Duration::from_secs(30), || {
        let (pg, dep) = (&pg, dep.clone());
        async move {
            let row = pg.query_one("SELECT status, booked_count FROM schedules WHERE id = $1", &[&dep]).await.unwrap();
            let status: String = row.get(0);
            (status == "cancelled").then(|| (status, row.get(1)))
        }
    })
    .await;
    assert_eq!((status.as_str(), left), ("cancelled", 0));
    let held = pg
        .query_one(
            "SELECT count(*) FROM bookings WHERE departure_id = $1 AND status IN ('pending', 'confirmed', 'modified')",
            &[&dep],
        )
        .await
        .unwrap()
        .get::<_, i64>(0);
    assert_eq!(held, 0);
    let booking = sold["booking"]["id"].as_str().unwrap().to_string();
    eventually("the refund at Stripe", Duration::from_secs(30), || {
        let key = format!("refund-{booking}");
        let sent =
            stripe.requests().iter().any(|r| r.path == "/v1/refunds" && r.idempotency_key.as_deref() == Some(&key));
        async move { sent.then_some(()) }
    })
    .await;

    c.close().await.unwrap();
    server.shutdown().await.unwrap();
}

/// The settings area, online: the organization form refuses a bad time zone beside its field
/// and saves a good one; the staff table lists the demo staff and an invitation joins it; the
/// two-step set-up shows its secret; the devices list marks this desk. Each tab is saved as a
/// screenshot (`settings-*.png`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_area_changes_the_organization_invites_staff_and_shows_devices() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let server = tourdesk_sync_server::start(demo_server(&db_url)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let _driver = Driver::start(&[
        ("TOURDESK_SERVER_URL", format!("http://{}", server.addr)),
        ("TOURDESK_DESK_DB", dir.path().join("desk.sqlite3").to_string_lossy().into_owned()),
        ("TOURDESK_SYNC_INTERVAL_SECS", "2".into()),
    ])
    .await;
    let c = open_desk().await;
    let url = format!("http://{}", server.addr);
    sign_in_through_the_screen(&c, &url, demo_data::DEMO_OWNER_EMAIL, demo_data::DEMO_PASSWORD).await;
    eventually("the desk to report it is online", Duration::from_secs(60), || {
        let c = c.clone();
        async move { texts(&c, "#status-connection").await.iter().any(|s| s == "Online").then_some(()) }
    })
    .await;

    click(&c, "#nav-settings").await;
    let field = |css: &'static str| {
        let c = c.clone();
        async move { c.find(Locator::Css(css)).await.unwrap() }
    };
    eventually("the organization form", Duration::from_secs(20), || {
        let c = c.clone();
        async move { (!texts(&c, "#organization-form").await.is_empty()).then_some(()) }
    })
    .await;
    field("#org-timezone").await.clear().await.unwrap();
    type_into(&c, "#org-timezone", "Lisbon").await;
    click(&c, "#organization-save").await;
    let said =
        eventually("the time zone refused beside its field", Duration::from_secs(10), || {
            let c = c.clone();
            async move {
                texts(&c, ".field-error[data-field='timezone']").await.into_iter().next().filter(|t| !t.is_empty())
            }
        })
        .await;
    assert!(!said.contains("INVALID"), "words, not codes: {said}");
    screenshot(&c, "settings-organization-error").await;
    field("#org-timezone").await.clear().await.unwrap();
    type_into(&c, "#org-timezone", "Europe/Madrid").await;
    click(&c, "#organization-save").await;
    eventually("the saved confirmation", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, ".toast").await.iter().any(|t| t.contains("Organization settings saved")).then_some(()) }
    })
    .await;
    let pg = tourdesk_testkit::connect(&db_url).await.unwrap();
    let tz: String = pg.query_one("SELECT timezone FROM organizations WHERE slug = 'demo'", &[]).await.unwrap().get(0);
    assert_eq!(tz, "Europe/Madrid");

    click(&c, "#settings-staff").await;
    eventually("the demo staff", Duration::from_secs(20), || {
        let c = c.clone();
        async move { (texts(&c, "#staff-table .staff-row").await.len() >= 3).then_some(()) }
    })
    .await;
    click(&c, "#invite-open").await;
    type_into(&c, "#invite-name", "Nina Novak").await;
    type_into(&c, "#invite-email", "nina@example.com").await;
    click(&c, "#invite-submit").await;
    eventually("the invited member listed", Duration::from_secs(20), || {
        let c = c.clone();
        async move {
            texts(&c, "#staff-table .staff-row")
                .await
                .iter()
                .any(|r| r.contains("nina@example.com") && r.contains("Invited, no password yet"))
                .then_some(())
        }
    })
    .await;
    screenshot(&c, "settings-staff").await;

    click(&c, "#settings-security").await;
    type_into(&c, "#mfa-enrol-password", demo_data::DEMO_PASSWORD).await;
    click(&c, "#mfa-enrol-submit").await;
    let secret = eventually("the secret to type into an app", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, "#mfa-secret").await.into_iter().next().filter(|t| !t.is_empty()) }
    })
    .await;
    assert!(secret.len() >= 16, "{secret}");
    screenshot(&c, "settings-security").await;

    click(&c, "#settings-devices").await;
    eventually("this desk among the devices", Duration::from_secs(20), || {
        let c = c.clone();
        async move {
            texts(&c, "#device-table .device-row.current").await.iter().any(|r| r.contains("This desk")).then_some(())
        }
    })
    .await;
    screenshot(&c, "settings-devices").await;
}

/// Issue 13 in the real window: a phone booking is found on the Bookings screen, opened, and
/// paid in cash while the server is away; the window shows it confirmed at once with the entry
/// pending; when the server is back the booking is confirmed in PostgreSQL, its ledger holds the
/// cash, and the customer's confirmation is in the SMTP sink, once. Screens: `13-*.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cash_payment_recorded_offline_confirms_the_booking_and_mails_the_customer() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let smtp = tourdesk_testkit::smtp::SmtpSink::start().await.unwrap();
    let mut config = demo_server(&db_url);
    config.mail.smtp_url = Some(smtp.url());
    let server = tourdesk_sync_server::start(config.clone()).await.unwrap();
    let addr = server.addr;
    let pg = tourdesk_testkit::connect(&db_url).await.unwrap();
    // A booking from the website, unpaid (the payment step waits for Stripe): pending, with a
    // customer who has an e-mail address.
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
    let request = json!({
        "request_id": uuid::Uuid::new_v4().to_string(),
        "departure_id": dep,
        "customer": {"email": "paula@example.com", "first_name": "Paula", "last_name": "Payer"},
        "lines": [{"tier_id": tier, "quantity": 2}],
    });
    let answer = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/orgs/{}/bookings", demo_data::DEMO_ORG_SLUG))
        .json(&request)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 201);
    let sold: Value = answer.json().await.unwrap();
    let booking = sold["booking"]["id"].as_str().unwrap().to_string();
    let reference = sold["booking"]["reference"].as_str().unwrap().to_string();

    let dir = tempfile::tempdir().unwrap();
    let _driver = Driver::start(&[
        ("TOURDESK_SERVER_URL", format!("http://{addr}")),
        ("TOURDESK_DESK_DB", dir.path().join("desk.sqlite3").to_string_lossy().into_owned()),
        ("TOURDESK_SYNC_INTERVAL_SECS", "2".into()),
    ])
    .await;
    let c = open_desk().await;
    let url = format!("http://{addr}");
    sign_in_through_the_screen(&c, &url, demo_data::DEMO_OWNER_EMAIL, demo_data::DEMO_PASSWORD).await;

    // The Bookings screen finds it by part of its reference; its row opens it.
    click(&c, "#nav-bookings").await;
    let row = format!(".booking-row[data-id='{booking}']");
    let part = reference.rsplit('-').next().unwrap().to_lowercase();
    eventually("the bookings screen's search box", Duration::from_secs(60), || {
        let c = c.clone();
        async move { c.find(Locator::Css("#bookings-search")).await.ok().map(|_| ()) }
    })
    .await;
    type_into(&c, "#bookings-search", &part).await;
    eventually("the booking found by its reference", Duration::from_secs(60), || {
        let (c, row) = (c.clone(), row.clone());
        async move { (texts(&c, ".booking-row").await.len() == 1 && !texts(&c, &row).await.is_empty()).then_some(()) }
    })
    .await;
    screenshot(&c, "13-bookings-screen").await;
    click(&c, &format!("{row} td.reference")).await;
    eventually("the booking page with its balance", Duration::from_secs(45), || {
        let c = c.clone();
        async move { texts(&c, "#balance-due").await.into_iter().next().filter(|t| !t.is_empty()) }
    })
    .await;

    // The server goes away; the desk takes the cash anyway.
    server.shutdown().await.unwrap();
    c.find(Locator::Css("#sync-now")).await.unwrap().click().await.unwrap();
    eventually("the desk to notice it is offline", Duration::from_secs(30), || {
        let c = c.clone();
        async move { texts(&c, "#status-connection").await.iter().any(|s| s.starts_with("Offline")).then_some(()) }
    })
    .await;
    click(&c, "#record-payment").await;
    let amount = eventually("the dialog with the balance filled in", Duration::from_secs(45), || {
        let c = c.clone();
        async move {
            c.find(Locator::Css("#payment-amount")).await.ok()?.prop("value").await.ok()?.filter(|v| !v.is_empty())
        }
    })
    .await;
    let total = sold["booking"]["price"]["total"]["amount_minor"].as_i64().unwrap();
    assert_eq!(amount.replace('.', "").trim_start_matches('0'), total.to_string(), "{amount} is the balance");
    // Too much is refused beside the amount; the balance itself is taken.
    let field = c.find(Locator::Css("#payment-amount")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys("999999").await.unwrap();
    click(&c, "#confirm-record-payment").await;
    eventually("the amount refused at its field", Duration::from_secs(45), || {
        let c = c.clone();
        async move { texts(&c, "#payment-amount-error").await.iter().any(|t| t.contains("balance due")).then_some(()) }
    })
    .await;
    screenshot(&c, "13-record-payment-refused").await;
    let field = c.find(Locator::Css("#payment-amount")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(&amount).await.unwrap();
    type_into(&c, "#payment-note", "Paid at the counter").await;
    click(&c, "#confirm-record-payment").await;
    eventually("the booking confirmed on the desk, its entry pending", Duration::from_secs(45), || {
        let c = c.clone();
        async move {
            let said = texts(&c, "#payment-recorded").await.iter().any(|t| t.contains("confirmed"));
            let pending = texts(&c, "#ledger .ledger-entry").await.iter().any(|t| t.contains("Pending sync"));
            (said && pending).then_some(())
        }
    })
    .await;
    screenshot(&c, "13-paid-offline").await;

    // The server comes back on the same address: the payment is pushed and decided.
    let server = tourdesk_sync_server::start(Config { listen: addr.to_string(), ..config }).await.unwrap();
    eventually("the booking confirmed in PostgreSQL", Duration::from_secs(60), || {
        let (pg, booking) = (&pg, booking.clone());
        async move {
            let row = pg.query_one("SELECT status FROM bookings WHERE id = $1", &[&booking]).await.unwrap();
            (row.get::<_, String>(0) == "confirmed").then_some(())
        }
    })
    .await;
    let cash: i64 = pg
        .query_one(
            "SELECT coalesce(sum(amount_minor), 0)::bigint FROM ledger_entries WHERE booking_id = $1 AND kind = 'cash'",
            &[&booking],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(cash, total);
    let mails = smtp.wait_for(1, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let confirmations: Vec<_> = smtp
        .messages()
        .into_iter()
        .filter(|m| m.subject.starts_with("Booking confirmed") && m.to[0] == "paula@example.com")
        .collect();
    assert_eq!(confirmations.len(), 1, "{mails:?}");
    assert!(confirmations[0].subject.contains(&reference), "{}", confirmations[0].subject);
    eventually("the entry settled on the desk", Duration::from_secs(30), || {
        let c = c.clone();
        async move {
            let entries = texts(&c, "#ledger .ledger-entry").await;
            (!entries.is_empty() && entries.iter().all(|t| !t.contains("Pending sync"))).then_some(())
        }
    })
    .await;
    screenshot(&c, "13-confirmed-after-sync").await;

    c.close().await.unwrap();
    server.shutdown().await.unwrap();
}

/// [`demo_server`] taking payments at the fake Stripe, its webhooks signed with [`WEBHOOK_SECRET`].
fn paying_demo_server(db_url: &str, stripe: &FakeStripe) -> Config {
    let mut config = demo_server(db_url);
    config.stripe.api_base = Some(stripe.uri());
    config.stripe.webhook_secret = WEBHOOK_SECRET.into();
    config
}

/// The audit log, for an owner: the sidebar offers it, its table shows the demo data's changes
/// and one made in the window with their before/after in words, the entity filter narrows it,
/// and the rows are walked with the keyboard (`audit-*.png`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_reads_the_audit_log_in_words_and_filters_it() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let server = tourdesk_sync_server::start(demo_server(&db_url)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let _driver = Driver::start(&[
        ("TOURDESK_SERVER_URL", format!("http://{}", server.addr)),
        ("TOURDESK_DESK_DB", dir.path().join("desk.sqlite3").to_string_lossy().into_owned()),
        ("TOURDESK_SYNC_INTERVAL_SECS", "2".into()),
    ])
    .await;
    let c = open_desk().await;
    let url = format!("http://{}", server.addr);
    sign_in_through_the_screen(&c, &url, demo_data::DEMO_OWNER_EMAIL, demo_data::DEMO_PASSWORD).await;
    eventually("the desk to report it is online", Duration::from_secs(60), || {
        let c = c.clone();
        async move { texts(&c, "#status-connection").await.iter().any(|s| s == "Online").then_some(()) }
    })
    .await;
    create_tour(&c, "Audited harbour walk", "12").await;

    click(&c, "#nav-audit").await;
    // Who is a name once the staff list has come from the server.
    let created = eventually("the new tour's entry in the audit log", Duration::from_secs(60), || {
        let c = c.clone();
        async move {
            texts(&c, ".audit-row")
                .await
                .into_iter()
                .find(|t| t.contains("Audited harbour walk") && t.contains("Create tour") && t.contains("Olivia"))
        }
    })
    .await;
    let rows = texts(&c, ".audit-row").await;
    assert!(created.contains("—"), "a new tour's fields come from nothing: {created}");
    assert!(!rows.iter().any(|t| t.contains("create_tour.v1") || t.contains("organization_id")), "no codes: {rows:?}");
    painted().await;
    screenshot(&c, "audit-log").await;

    c.find(Locator::Css("#audit-entity option[value='tour']")).await.unwrap().click().await.unwrap();
    eventually("only tours listed", Duration::from_secs(20), || {
        let c = c.clone();
        async move {
            let rows = texts(&c, ".audit-row .entity").await;
            (!rows.is_empty() && rows.iter().all(|t| t.starts_with("Tour "))).then_some(())
        }
    })
    .await;
    assert!(!texts(&c, "#audit-clear").await.is_empty(), "a filtered list can be cleared");
    painted().await;
    screenshot(&c, "audit-log-tours").await;

    // The tour's own history reads who made it and on which device in words, as the audit log
    // does: it showed both ids.
    click(&c, "#nav-tours").await;
    click(&c, ".tour-row[data-slug='audited-harbour-walk']").await;
    let history = eventually("the new tour's history", Duration::from_secs(30), || {
        let c = c.clone();
        async move {
            let rows = texts(&c, ".entity-history .audit-row").await;
            rows.iter().any(|t| t.contains("Create tour")).then_some(rows)
        }
    })
    .await;
    let who = texts(&c, ".entity-history .audit-row .who").await;
    let device = texts(&c, ".entity-history .audit-row .device").await;
    assert!(who.iter().all(|w| w.contains("Olivia")), "{who:?} in {history:?}");
    let looks_like_id = |t: &String| t.len() >= 32 && t.chars().filter(|c| *c == '-').count() == 4;
    assert!(!device.iter().any(looks_like_id) && !device.is_empty(), "{device:?}");
    painted().await;
    // The history fits its pane: its Changes column was cut off, behind sideways scrolling.
    let widths = c
        .execute(
            "const s = document.querySelector('.entity-history'); \
             return [s.querySelector('table').scrollWidth, s.clientWidth];",
            vec![],
        )
        .await
        .unwrap();
    let (table, pane) = (widths[0].as_f64().unwrap(), widths[1].as_f64().unwrap());
    assert!(table <= pane + 1.0, "the history table is {table} px wide in a {pane} px pane");
    screenshot(&c, "tour-history").await;

    // The office's other screens, as the owner sees them: each settles on its content (or its
    // designed empty state), never on an error.
    for (nav, settled, shot) in [
        ("#nav-today", "#dash-due-count strong", "office-today"),
        ("#nav-reports", "#report-table, #reports .state.empty", "office-reports"),
        ("#nav-gift-cards", "#sell-gift-card", "office-gift-cards"),
        ("#nav-cash-drawer", "#drawer-date", "office-cash-drawer"),
    ] {
        click(&c, nav).await;
        eventually(&format!("{nav} to show its screen"), Duration::from_secs(20), || {
            let c = c.clone();
            async move { (!texts(&c, settled).await.is_empty()).then_some(()) }
        })
        .await;
        assert!(texts(&c, ".state.failed").await.is_empty(), "{nav} shows an error");
        painted().await;
        screenshot(&c, shot).await;
    }

    c.close().await.unwrap();
    server.shutdown().await.unwrap();
}

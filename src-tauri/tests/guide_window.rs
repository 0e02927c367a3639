//! Guide mode in the real desktop window (issue 14 item 7), on an empty SQLite file signed in
//! through the sign-in screen to a real sync-server on a throwaway PostgreSQL: the demo guide
//! sees only the departures she leads; with seats set aside for her device she goes offline (the
//! server stopped), checks a guest in and sells two walk-ups within the allotment, a third is
//! refused on the device with the rule; back online everything is sent, and the office — the
//! same window signed in as the owner — sees the walk-ups, the check-in and the device's
//! allotment with what it sold.
//!
//! Each screen is saved as a PNG under `<target dir>/e2e-screens/guide-*.png`.
//! Runs only with the `e2e` feature, under a display (`cargo xtask e2e`).
#![allow(clippy::unwrap_used)]

// The shared window helpers; this test needs only some of them.
#[allow(dead_code)]
mod support;

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use support::{
    Driver, click, demo_server, eventually, fill_sign_in, open_desk, page_state, press, press_focused, screenshot,
    texts,
};
use tourdesk_sync_server::{Config, demo_data};
use tourdesk_testkit::PgCluster;

/// Waits for the sign-in screen (and for the desk to fill it in), types every field anew and
/// presses Enter.
async fn sign_in(c: &Client, url: &str, email: &str) {
    fill_sign_in(c, url, email, demo_data::DEMO_PASSWORD).await;
    // Anything the page throws (a panic in the UI) is kept for the failure message.
    let _ = c
        .execute(
            "window.__errors = window.__errors || [];
             window.addEventListener('error', (e) => window.__errors.push(String(e.message)));
             const log = console.error; console.error = (...a) => { window.__errors.push(a.join(' ')); log(...a); };
             return null;",
            vec![],
        )
        .await;
    press(c, "#sign-in-password", &Key::Enter.to_string()).await;
}

/// The DOM is ahead of the paint: a screenshot right after a check can show the frame before.
async fn painted() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

/// Waits up to a minute for the status bar to read `starts` (a freshly signed-in desk's first
/// sync can take a while on a loaded machine); a timeout says what the window showed instead.
async fn status_is(c: &Client, what: &str, starts: &'static str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if texts(c, "#status-connection").await.iter().any(|s| s.starts_with(starts)) {
            return;
        }
        if std::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}; the window showed: {}", page_state(c).await);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn toast(c: &Client, what: &str, starts: &'static str) {
    eventually(what, Duration::from_secs(15), || {
        let c = c.clone();
        async move { texts(&c, "#toasts .toast").await.iter().any(|t| t.starts_with(starts)).then_some(()) }
    })
    .await;
}

/// Opens a screen from the sidebar, clicking again until it shows (a click made while the
/// desk is still finishing its sign-in can be overtaken by its move to the today dashboard).
async fn open_screen(c: &Client, nav: &'static str, page: &'static str) {
    eventually(&format!("{page} opened from {nav}"), Duration::from_secs(30), || {
        let c = c.clone();
        async move {
            if texts(&c, page).await.is_empty() {
                c.find(Locator::Css(nav)).await.ok()?.click().await.ok()?;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            let shown = !texts(&c, page).await.is_empty();
            if !shown {
                eprintln!("after clicking {nav}: {}", page_state(&c).await);
            }
            shown.then_some(())
        }
    })
    .await;
}

/// Sells a walk-up of one guest in the open manifest's walk-up form.
async fn sell_walk_up(c: &Client, name: &str) {
    let field = c.find(Locator::Css("#walk-up-name")).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(name).await.unwrap();
    let pax = c.find(Locator::Css("#walk-up-pax")).await.unwrap();
    pax.clear().await.unwrap();
    pax.send_keys("1").await.unwrap();
    click(c, "#sell-walk-up").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guide_works_offline_within_her_allotment_and_the_office_sees_it_all() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let config = demo_server(&db_url);
    let server = tourdesk_sync_server::start(config.clone()).await.unwrap();
    let addr = server.addr;
    let url = format!("http://{addr}");
    let pg = tourdesk_testkit::connect(&db_url).await.unwrap();

    // What she leads this week (today and six days on, as her screen shows), and the week's
    // departures she does not lead.
    let guide_departures = |only_hers: bool| {
        let pg = &pg;
        async move {
            let sql = if only_hers {
                "SELECT s.id FROM schedules s
                   JOIN schedule_guide_assignments a ON a.departure_id = s.id AND a.status <> 'declined'
                   JOIN guides g ON g.id = a.guide_id JOIN staff_users u ON u.id = g.user_id
                 WHERE u.email = $1 AND s.local_date BETWEEN current_date AND current_date + 6
                 ORDER BY s.starts_at"
            } else {
                "SELECT s.id FROM schedules s WHERE s.local_date BETWEEN current_date AND current_date + 6
                   AND NOT EXISTS (SELECT 1 FROM schedule_guide_assignments a JOIN guides g ON g.id = a.guide_id
                                   JOIN staff_users u ON u.id = g.user_id WHERE a.departure_id = s.id AND u.email = $1)"
            };
            let rows = pg.query(sql, &[&demo_data::DEMO_GUIDE_EMAIL]).await.unwrap();
            rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<String>>()
        }
    };
    let hers = guide_departures(true).await;
    let others = guide_departures(false).await;
    assert!(!hers.is_empty() && !others.is_empty(), "the demo guide leads a departure this week: {hers:?}");
    let dep = hers[0].clone();
    let row = pg.query_one("SELECT booked_count, capacity FROM schedules WHERE id = $1", &[&dep]).await.unwrap();
    let (booked, capacity): (i32, i32) = (row.get(0), row.get(1));
    assert!(booked > 0 && capacity - booked >= 2, "a guest to check in and two free seats: {booked}/{capacity}");

    let dir = tempfile::tempdir().unwrap();
    let _driver = Driver::start(&[
        ("TOURDESK_SERVER_URL", url.clone()),
        ("TOURDESK_DESK_DB", dir.path().join("desk.sqlite3").to_string_lossy().into_owned()),
        ("TOURDESK_SYNC_INTERVAL_SECS", "2".into()),
    ])
    .await;
    let c = open_desk().await;
    sign_in(&c, &url, demo_data::DEMO_GUIDE_EMAIL).await;

    // Guide mode: the sidebar offers her departures and no office screens.
    status_is(&c, "the guide's desk signed in and online", "Online").await;
    open_screen(&c, "#nav-my-departures", ".my-departures-page").await;
    let shown = eventually("her departures", Duration::from_secs(60), || {
        let c = c.clone();
        async move {
            let mut ids = Vec::new();
            for el in c.find_all(Locator::Css(".my-departure")).await.ok()? {
                ids.push(el.attr("data-id").await.ok()??);
            }
            (!ids.is_empty()).then_some(ids)
        }
    })
    .await;
    let mut sorted = shown.clone();
    sorted.sort();
    let mut expected = hers.clone();
    expected.sort();
    assert_eq!(sorted, expected, "exactly the departures she leads");
    assert!(others.iter().all(|o| !shown.contains(o)), "departures she does not lead stay off her screen");
    assert!(texts(&c, "#nav-gift-cards").await.is_empty() && texts(&c, "#nav-cash-drawer").await.is_empty());
    status_is(&c, "the guide's desk online", "Online").await;
    painted().await;
    screenshot(&c, "guide-0-my-departures").await;

    // Her departure's manifest; seats for her device, asked for while online.
    click(&c, &format!(".my-departure[data-id='{dep}'] button.link")).await;
    eventually("the guest list", Duration::from_secs(20), || {
        let c = c.clone();
        async move { (!texts(&c, "#manifest .participant").await.is_empty()).then_some(()) }
    })
    .await;
    let seats = eventually("the allotment form", Duration::from_secs(20), || {
        let c = c.clone();
        async move { c.find(Locator::Css("#allotment-seats")).await.ok() }
    })
    .await;
    seats.clear().await.unwrap();
    seats.send_keys("2").await.unwrap();
    click(&c, "#request-allotment").await;
    toast(&c, "the seats set aside", "2 seats set aside for this device").await;
    eventually("the allotment on the device", Duration::from_secs(30), || {
        let c = c.clone();
        async move { texts(&c, "#my-allotment").await.iter().any(|t| t.contains("2 of 2 seats left")).then_some(()) }
    })
    .await;
    let held: i32 = pg.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&dep]).await.unwrap().get(0);
    assert_eq!(held, booked + 2, "the allotment is taken from capacity");
    painted().await;
    screenshot(&c, "guide-1-manifest-with-allotment").await;

    // The network goes.
    server.shutdown().await.unwrap();
    click(&c, "#sync-now").await;
    status_is(&c, "the guide's desk to notice it is offline", "Offline").await;

    // One tap checks the first guest in.
    let first = c.find(Locator::Css("#manifest .manifest-booking")).await.unwrap();
    let booking = first.attr("data-id").await.unwrap().unwrap();
    click(&c, &format!("#manifest .manifest-booking[data-id='{booking}'] .participant[data-index='0'] .check-in"))
        .await;
    eventually("the check-in, pending", Duration::from_secs(15), || {
        let c = c.clone();
        let css = format!("#manifest .manifest-booking[data-id='{booking}'] .participant[data-index='0']");
        async move {
            let t = texts(&c, &css).await.join("");
            (t.contains("Checked in") && t.contains("Pending sync")).then_some(())
        }
    })
    .await;

    // Two walk-ups within the allotment, cash and pay on arrival.
    sell_walk_up(&c, "Walker One").await;
    eventually("one seat left", Duration::from_secs(15), || {
        let c = c.clone();
        async move { texts(&c, "#my-allotment").await.iter().any(|t| t.contains("1 of 2 seats left")).then_some(()) }
    })
    .await;
    let pay = c.find(Locator::Css("#walk-up-payment")).await.unwrap();
    pay.select_by_value("pay_on_arrival").await.unwrap();
    sell_walk_up(&c, "Walker Two").await;
    eventually("no seat left", Duration::from_secs(15), || {
        let c = c.clone();
        async move { texts(&c, "#my-allotment").await.iter().any(|t| t.contains("0 of 2 seats left")).then_some(()) }
    })
    .await;
    eventually("both walk-ups on the guest list", Duration::from_secs(15), || {
        let c = c.clone();
        async move {
            let list = texts(&c, "#manifest").await.join("");
            (list.contains("Walker One") && list.contains("Walker Two")).then_some(())
        }
    })
    .await;
    painted().await;
    screenshot(&c, "guide-2-offline-two-walk-ups").await;

    // A third is refused here, on the device, with the rule.
    sell_walk_up(&c, "Walker Three").await;
    let said = eventually("the refusal", Duration::from_secs(15), || {
        let c = c.clone();
        async move { texts(&c, "#allotment-error").await.into_iter().next().filter(|t| !t.is_empty()) }
    })
    .await;
    assert_eq!(said, "The allotment has 0 of 2 seats left, 1 requested");
    assert!(!texts(&c, "#manifest").await.join("").contains("Walker Three"));
    let pending = texts(&c, "#pending-count").await.join("");
    assert!(pending.ends_with("changes waiting to be sent") && !pending.starts_with('0'), "{pending}");
    painted().await;
    screenshot(&c, "guide-3-offline-third-refused").await;
    // Nothing reached the server while it was down.
    let sold: i32 = pg.query_one("SELECT sold FROM allotments WHERE departure_id = $1", &[&dep]).await.unwrap().get(0);
    assert_eq!(sold, 0);

    // The network comes back: everything is sent.
    let server = tourdesk_sync_server::start(Config { listen: addr.to_string(), ..config.clone() }).await.unwrap();
    click(&c, "#sync-now").await;
    status_is(&c, "the guide's desk back online", "Online").await;
    eventually("everything sent", Duration::from_secs(60), || {
        let c = c.clone();
        async move { texts(&c, "#pending-count").await.iter().any(|t| t == "Everything is sent.").then_some(()) }
    })
    .await;
    painted().await;
    screenshot(&c, "guide-4-back-online-sent").await;
    let walk_ups = pg
        .query(
            "SELECT c.first_name, b.status, b.payment_status FROM bookings b JOIN customers c ON c.id = b.customer_id
             WHERE b.departure_id = $1 AND c.first_name LIKE 'Walker%' ORDER BY c.first_name",
            &[&dep],
        )
        .await
        .unwrap();
    let walk_ups: Vec<(String, String)> = walk_ups.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        walk_ups,
        [("Walker One".to_string(), "confirmed".to_string()), ("Walker Two".to_string(), "confirmed".to_string())]
    );
    let row = pg
        .query_one(
            "SELECT a.sold, s.booked_count FROM allotments a JOIN schedules s ON s.id = a.departure_id WHERE s.id = $1",
            &[&dep],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, i32>(0), row.get::<_, i32>(1)),
        (2, booked + 2),
        "the walk-ups sold the allotment's seats"
    );

    // The office: the same window, signed in as the owner (who sees every device by name).
    click(&c, "#sign-out").await;
    eventually("the sign-out dialog", Duration::from_secs(10), || {
        let c = c.clone();
        async move { (!texts(&c, "#sign-out-text").await.is_empty()).then_some(()) }
    })
    .await;
    press_focused(&c, &Key::Enter.to_string()).await;
    sign_in(&c, &url, demo_data::DEMO_OWNER_EMAIL).await;
    status_is(&c, "the office desk signed in and online", "Online").await;
    open_screen(&c, "#nav-tours", ".tour-row").await;
    click(&c, ".tour-row[data-slug='alfama-old-town-walk']").await;
    click(&c, &format!(".departure-row[data-id='{dep}'] .open-manifest")).await;
    eventually("the walk-ups and the check-in on the office's manifest", Duration::from_secs(60), || {
        let c = c.clone();
        let css = format!("#manifest .manifest-booking[data-id='{booking}'] .participant[data-index='0']");
        async move {
            let list = texts(&c, "#manifest").await.join("");
            let seat = texts(&c, &css).await.join("");
            (list.contains("Walker One") && list.contains("Walker Two") && seat.contains("Checked in")).then_some(())
        }
    })
    .await;
    let row = eventually("the guide's allotment and what it sold", Duration::from_secs(30), || {
        let c = c.clone();
        async move { texts(&c, ".allotments .allotment-row").await.into_iter().next() }
    })
    .await;
    assert!(row.contains("Gina Guide") && row.contains("active"), "{row}");
    assert_eq!(texts(&c, ".allotments .allotment-row .allotment-sold").await, ["2"]);
    painted().await;
    screenshot(&c, "guide-5-office-sees-it-all").await;

    c.close().await.unwrap();
    server.shutdown().await.unwrap();
}

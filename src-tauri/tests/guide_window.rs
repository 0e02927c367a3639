//! Guide mode in the real desktop window (issue 14 item 7), on an empty SQLite file signed in
//! through the sign-in screen to a real sync-server on a throwaway PostgreSQL: the demo guide
//! sees only the departures she leads; with seats set aside for her device she goes offline (the
//! server stopped), checks a guest in and sells two walk-ups within the allotment, a third is
//! refused on the device with the rule; back online everything is sent, and the office — the
//! same window signed in as the owner — sees the walk-ups, the check-in and the device's
//! allotment with what it sold.
//!
//! A second test drives the calendar-feeds screen and a guide's saved manifest: the owner makes
//! the demo guide's feed link on the Guides screen, the server serves it as iCalendar, a new
//! link stops the old one (404) and serves a calendar again, and a tour's link works too; the
//! guide then signs in, lands on her own day, saves her departure's manifest as CSV and PDF
//! into the downloads folder (a throwaway home folder's), and makes her own feed link, which
//! stops the office's.
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
    sign_out(&c).await;
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

/// Signs out through the header's dialog (nothing is left unsent).
async fn sign_out(c: &Client) {
    click(c, "#sign-out").await;
    eventually("the sign-out dialog", Duration::from_secs(10), || {
        let c = c.clone();
        async move { (!texts(&c, "#sign-out-text").await.is_empty()).then_some(()) }
    })
    .await;
    press_focused(c, &Key::Enter.to_string()).await;
}

/// Fetches a feed the way a calendar app would: its status and body.
async fn fetch_feed(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    if status == 200 {
        let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        assert!(ct.starts_with("text/calendar"), "a calendar's content type: {ct}");
    }
    (status, r.text().await.unwrap())
}

/// Parses a feed with a real iCalendar parser: one calendar, and its events' summaries (each
/// event has the properties RFC 5545 requires of it).
fn ical_events(text: &str) -> Vec<String> {
    let cals: Vec<_> = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()))
        .map(|c| c.unwrap_or_else(|e| panic!("not iCalendar: {e}\n{text}")))
        .collect();
    assert_eq!(cals.len(), 1, "{text}");
    cals[0]
        .events
        .iter()
        .map(|e| {
            let prop = |name: &str| e.properties.iter().find(|p| p.name == name).and_then(|p| p.value.clone());
            for required in ["UID", "DTSTAMP", "DTSTART", "DTEND"] {
                assert!(prop(required).is_some(), "{required} in every event:\n{text}");
            }
            prop("SUMMARY").unwrap_or_default()
        })
        .collect()
}

/// The link shown in a feed row, once it differs from `before`.
async fn feed_url(c: &Client, row: &str, before: Option<&str>) -> String {
    let css = format!("{row} .feed-url");
    eventually(&format!("a link in {row}"), Duration::from_secs(60), || {
        let (c, css) = (c.clone(), css.clone());
        async move {
            let v = c.find(Locator::Css(&css)).await.ok()?.prop("value").await.ok()??;
            (!v.is_empty() && Some(v.as_str()) != before).then_some(v)
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_feeds_rotate_from_the_window_and_a_guide_saves_her_manifest_to_downloads() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let server = tourdesk_sync_server::start(demo_server(&db_url)).await.unwrap();
    let url = format!("http://{}", server.addr);
    let pg = tourdesk_testkit::connect(&db_url).await.unwrap();
    // The shown link carries the server's public address; a calendar app here reaches this one.
    let here = |shown: &str| {
        let (_, token) = shown.split_once("/ical/").unwrap_or_else(|| panic!("a feed link: {shown}"));
        format!("{url}/ical/{token}")
    };

    let guide_id: String = pg
        .query_one(
            "SELECT g.id FROM guides g JOIN staff_users u ON u.id = g.user_id WHERE u.email = $1",
            &[&demo_data::DEMO_GUIDE_EMAIL],
        )
        .await
        .unwrap()
        .get(0);
    // What her feed holds: the departures she leads, from 30 days back.
    let led: i64 = pg
        .query_one(
            "SELECT count(*) FROM schedule_guide_assignments a JOIN schedules s ON s.id = a.departure_id
             WHERE a.guide_id = $1 AND a.status <> 'declined' AND s.ends_at >= now() - interval '30 days'",
            &[&guide_id],
        )
        .await
        .unwrap()
        .get(0);
    // Her week, as her Today screen shows it, and one departure with guests to save.
    let week = pg
        .query(
            "SELECT s.id, s.local_date = current_date, s.booked_count FROM schedules s
               JOIN schedule_guide_assignments a ON a.departure_id = s.id AND a.status <> 'declined'
             WHERE a.guide_id = $1 AND s.local_date BETWEEN current_date AND current_date + 6
             ORDER BY s.starts_at",
            &[&guide_id],
        )
        .await
        .unwrap();
    let week: Vec<(String, bool, i32)> = week.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    let dep = week.iter().find(|w| w.2 > 0).map(|w| w.0.clone()).expect("a departure of hers with guests this week");
    let guests = pg
        .query(
            "SELECT b.reference_number, c.first_name FROM bookings b JOIN customers c ON c.id = b.customer_id
             WHERE b.departure_id = $1 AND b.status <> 'cancelled'",
            &[&dep],
        )
        .await
        .unwrap();
    let guests: Vec<(String, String)> = guests.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert!(!guests.is_empty());
    let tour_id: String =
        pg.query_one("SELECT id FROM tours WHERE slug = 'alfama-old-town-walk'", &[]).await.unwrap().get(0);

    // A home folder of its own, whose downloads folder the desk saves into.
    let home = tempfile::tempdir().unwrap();
    let downloads = home.path().join("Downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    std::fs::create_dir_all(home.path().join(".config")).unwrap();
    std::fs::write(home.path().join(".config/user-dirs.dirs"), "XDG_DOWNLOAD_DIR=\"$HOME/Downloads\"\n").unwrap();
    let home_str = home.path().to_string_lossy().into_owned();
    let _driver = Driver::start(&[
        ("TOURDESK_SERVER_URL", url.clone()),
        ("TOURDESK_DESK_DB", home.path().join("desk.sqlite3").to_string_lossy().into_owned()),
        ("TOURDESK_SYNC_INTERVAL_SECS", "2".into()),
        ("HOME", home_str.clone()),
        ("XDG_CONFIG_HOME", format!("{home_str}/.config")),
        ("XDG_DOWNLOAD_DIR", downloads.to_string_lossy().into_owned()),
    ])
    .await;
    let c = open_desk().await;

    // The office: every guide's and tour's feed on the Guides screen.
    sign_in(&c, &url, demo_data::DEMO_OWNER_EMAIL).await;
    status_is(&c, "the office desk signed in and online", "Online").await;
    let guide_row = format!(".feed-row[data-kind='guide'][data-id='{guide_id}']");
    let tour_row = format!(".feed-row[data-kind='tour'][data-id='{tour_id}']");
    open_screen(&c, "#nav-guides", ".guides-page .calendar-feeds").await;
    eventually("the guide's and the tour's feed rows", Duration::from_secs(60), || {
        let (c, g, t) = (c.clone(), guide_row.clone(), tour_row.clone());
        async move { (!texts(&c, &g).await.is_empty() && !texts(&c, &t).await.is_empty()).then_some(()) }
    })
    .await;
    assert!(texts(&c, &guide_row).await[0].contains("Gina Guide"));
    painted().await;
    screenshot(&c, "guide-feeds-0-guides-screen").await;

    // Her feed's link: a calendar app reads every departure she leads from it.
    click(&c, &format!("{guide_row} .make-feed")).await;
    toast(&c, "the link made", "Calendar link made").await;
    let first = feed_url(&c, &guide_row, None).await;
    let (status, text) = fetch_feed(&here(&first)).await;
    assert_eq!(status, 200, "{text}");
    let events = ical_events(&text);
    assert_eq!(events.len() as i64, led, "one event per departure she leads:\n{text}");
    assert!(events.iter().all(|e| !e.is_empty()), "{events:?}");
    painted().await;
    screenshot(&c, "guide-feeds-1-link-made").await;

    // A new link: the old one is refused at once, the new one is a calendar.
    let button = texts(&c, &format!("{guide_row} .make-feed")).await.join("");
    assert_eq!(button, "New link (stops this one)");
    click(&c, &format!("{guide_row} .make-feed")).await;
    toast(&c, "the rotation", "New link made: the earlier one no longer works").await;
    let second = feed_url(&c, &guide_row, Some(&first)).await;
    let (status, _) = fetch_feed(&here(&first)).await;
    assert!(status == 404 || status == 410, "the rotated link is refused: {status}");
    let (status, text) = fetch_feed(&here(&second)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(ical_events(&text).len() as i64, led);
    // The tour's feed, made on the same screen.
    click(&c, &format!("{tour_row} .make-feed")).await;
    let tour_link = feed_url(&c, &tour_row, None).await;
    let (status, text) = fetch_feed(&here(&tour_link)).await;
    assert_eq!(status, 200, "{text}");
    let events = ical_events(&text);
    assert!(!events.is_empty() && events.iter().all(|e| e.contains("Alfama")), "{events:?}");
    painted().await;
    screenshot(&c, "guide-feeds-2-rotated").await;

    // The guide: her desk opens on her own day and week.
    sign_out(&c).await;
    sign_in(&c, &url, demo_data::DEMO_GUIDE_EMAIL).await;
    status_is(&c, "the guide's desk signed in and online", "Online").await;
    open_screen(&c, "#nav-today", ".guide-today").await;
    let shown = eventually("her week on the Today screen", Duration::from_secs(60), || {
        let c = c.clone();
        async move {
            let mut ids = Vec::new();
            for el in c.find_all(Locator::Css(".guide-today-departure")).await.ok()? {
                ids.push(el.attr("data-id").await.ok()??);
            }
            (!ids.is_empty()).then_some(ids)
        }
    })
    .await;
    let expected: Vec<String> = week.iter().map(|w| w.0.clone()).collect();
    assert_eq!(shown, expected, "her departures of the week, in order");
    let today: Vec<String> = week.iter().filter(|w| w.1).map(|w| w.0.clone()).collect();
    if today.is_empty() {
        let said = texts(&c, "#no-departure-today").await.join("");
        assert!(said.contains("No departures for you today") && said.contains("Your next departure is"), "{said}");
    } else {
        assert!(texts(&c, "#no-departure-today").await.is_empty());
    }
    painted().await;
    screenshot(&c, "guide-feeds-3-her-today").await;

    // Her manifest, saved as CSV and PDF into the downloads folder.
    open_screen(&c, "#nav-my-departures", ".my-departures-page").await;
    click(&c, &format!(".my-departure[data-id='{dep}'] button.link")).await;
    eventually("the guest list", Duration::from_secs(30), || {
        let c = c.clone();
        async move { (!texts(&c, "#manifest .participant").await.is_empty()).then_some(()) }
    })
    .await;
    click(&c, ".save-manifest-csv").await;
    toast(&c, "the CSV saved", "Manifest saved to").await;
    let saved = |ext: &'static str| {
        let downloads = downloads.clone();
        move || {
            let downloads = downloads.clone();
            async move {
                std::fs::read_dir(&downloads)
                    .ok()?
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .find(|p| p.extension().is_some_and(|x| x == ext))
            }
        }
    };
    let csv = eventually("the CSV in the downloads folder", Duration::from_secs(15), saved("csv")).await;
    let said = texts(&c, "#toasts .toast").await.join(" ");
    assert!(said.contains(&csv.display().to_string()), "the toast says where: {said}");
    let text = std::fs::read_to_string(&csv).unwrap();
    for (reference, first_name) in &guests {
        assert!(text.contains(reference.as_str()) && text.contains(first_name.as_str()), "{reference}: {text}");
    }
    assert!(text.contains(&dep), "{text}");
    click(&c, ".save-manifest-pdf").await;
    // The toast comes once the file is written.
    eventually("the PDF saved", Duration::from_secs(15), || {
        let c = c.clone();
        async move { texts(&c, "#toasts .toast").await.iter().any(|t| t.contains(".pdf")).then_some(()) }
    })
    .await;
    let pdf = eventually("the PDF in the downloads folder", Duration::from_secs(15), saved("pdf")).await;
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-") && bytes.len() > 500, "a PDF of {} bytes", bytes.len());
    painted().await;
    screenshot(&c, "guide-feeds-4-manifest-saved").await;

    // Her own feed link, from My departures: it stops the one the office made for her.
    let mine = ".feed-row[data-kind='guide'][data-id='']";
    click(&c, &format!("{mine} .make-feed")).await;
    let own = feed_url(&c, mine, None).await;
    let (status, text) = fetch_feed(&here(&own)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(ical_events(&text).len() as i64, led);
    assert_eq!(fetch_feed(&here(&second)).await.0, 404, "the office's link for her stopped");
    painted().await;
    screenshot(&c, "guide-feeds-5-her-own-link").await;

    c.close().await.unwrap();
    server.shutdown().await.unwrap();
}

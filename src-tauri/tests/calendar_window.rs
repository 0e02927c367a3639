//! The calendar in the real desktop window (issue 12 item 4), on an empty SQLite file signed in
//! through the sign-in screen to a real sync-server on a throwaway PostgreSQL: a pattern is
//! generated across New York's spring-forward, the preview marks the start that falls in the DST
//! gap before anything is saved, the save lands in the month calendar, the keyboard moves
//! between days and opens one, and PostgreSQL ends with exactly what was previewed.
//!
//! Each screen is saved as a PNG under `<target dir>/e2e-screens/calendar-*.png`.
//! Runs only with the `e2e` feature, under a display (`cargo xtask e2e`).
#![allow(clippy::unwrap_used)]

// The shared window helpers; this test needs only some of them.
#[allow(dead_code)]
mod support;

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use support::{
    Driver, click, demo_server, eventually, fill_sign_in, open_desk, press, press_focused, screenshot, texts, type_into,
};
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::PgCluster;

/// Sets a form control's value as typing would, and fires its `change`.
async fn set_value(c: &Client, css: &str, value: &str) {
    let found = c
        .execute(
            "const el = document.querySelector(arguments[0]);
             if (!el) { return false; }
             el.value = arguments[1];
             el.dispatchEvent(new Event('input', { bubbles: true }));
             el.dispatchEvent(new Event('change', { bubbles: true }));
             return true;",
            vec![css.into(), value.into()],
        )
        .await
        .unwrap();
    assert_eq!(found, serde_json::Value::Bool(true), "{css}");
}

async fn sign_in(c: &Client, url: &str) {
    fill_sign_in(c, url, demo_data::DEMO_OWNER_EMAIL, demo_data::DEMO_PASSWORD).await;
    press(c, "#sign-in-password", &Key::Enter.to_string()).await;
    // A fresh desk starts on the today dashboard.
    click(c, "#nav-tours").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pattern_across_a_dst_change_is_previewed_saved_and_shown_in_the_month() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let server = tourdesk_sync_server::start(demo_server(&db_url)).await.unwrap();
    let pg = tourdesk_testkit::connect(&db_url).await.unwrap();
    let tour: String = pg.query_one("SELECT id FROM tours WHERE slug = 'brooklyn-bites'", &[]).await.unwrap().get(0);
    let url = format!("http://{}", server.addr);
    let dir = tempfile::tempdir().unwrap();
    let _driver = Driver::start(&[
        ("TOURDESK_SERVER_URL", url.clone()),
        ("TOURDESK_DESK_DB", dir.path().join("desk.sqlite3").to_string_lossy().into_owned()),
        ("TOURDESK_SYNC_INTERVAL_SECS", "2".into()),
    ])
    .await;
    let c = open_desk().await;
    sign_in(&c, &url).await;
    eventually("the demo tours to be listed", Duration::from_secs(60), || {
        let c = c.clone();
        async move { (texts(&c, ".tour-row .tour-name").await.len() == 3).then_some(()) }
    })
    .await;

    // The calendar, from the sidebar.
    click(&c, "#nav-calendar").await;
    eventually("the month grid", Duration::from_secs(20), || {
        let c = c.clone();
        async move { (!texts(&c, "#calendar-grid").await.is_empty()).then_some(()) }
    })
    .await;
    screenshot(&c, "calendar-0-month").await;

    // Sundays at 02:30 and 09:00 in New York, 7 to 21 March 2027: on the 14th the clocks jump
    // from 02:00 to 03:00, so 02:30 does not exist that day.
    click(&c, "#open-generate").await;
    eventually("the generate dialog", Duration::from_secs(10), || {
        let c = c.clone();
        async move { (!texts(&c, "#generate-dialog").await.is_empty()).then_some(()) }
    })
    .await;
    set_value(&c, "#generate-tour", &tour).await;
    eventually("the tour's variant", Duration::from_secs(10), || {
        let c = c.clone();
        async move { texts(&c, "#generate-variant option").await.iter().any(|t| t.contains("Small group")).then_some(()) }
    })
    .await;
    set_value(&c, "#generate-from", "2027-03-07").await;
    set_value(&c, "#generate-until", "2027-03-21").await;
    set_value(&c, "#generate-times", "02:30, 09:00").await;
    set_value(&c, "#generate-capacity", "9").await;
    // Saving before a preview is not offered; a preview without a weekday is refused at its field.
    click(&c, "#preview-departures").await;
    let said = eventually("the weekday refusal beside the weekdays", Duration::from_secs(10), || {
        let c = c.clone();
        async move { texts(&c, "#error-pattern-days_of_week").await.into_iter().next() }
    })
    .await;
    assert!(said.contains("weekday"), "{said}");
    click(&c, "#weekday-sun").await;
    click(&c, "#preview-departures").await;
    let rows = eventually("the preview table", Duration::from_secs(15), || {
        let c = c.clone();
        async move {
            let rows = texts(&c, "#preview-table tbody tr").await;
            (rows.len() == 6).then_some(rows)
        }
    })
    .await;
    let gap = texts(&c, "#preview-table tr.dst-gap").await;
    assert_eq!(gap.len(), 1, "{rows:?}");
    assert!(gap[0].contains("Sun 14 Mar 2027") && gap[0].contains("03:00 EDT"), "{}", gap[0]);
    assert!(gap[0].contains("2027-03-14 07:00 UTC"), "{}", gap[0]);
    assert!(gap[0].contains("02:30 does not exist that day (clocks go forward): moved to 03:00"), "{}", gap[0]);
    assert!(rows.iter().any(|r| r.contains("Sun 7 Mar 2027") && r.contains("02:30 EST") && r.contains("07:30 UTC")));
    let summary = texts(&c, "#preview-summary").await.join("");
    assert!(
        summary.starts_with("6 new departures of Brooklyn Bites Food Tour")
            && summary.contains("1 moved out of a DST gap"),
        "{summary}"
    );
    assert_eq!(
        pg.query_one(
            "SELECT count(*) FROM schedules WHERE tour_id = $1 AND local_date BETWEEN '2027-03-01' AND '2027-03-31'",
            &[&tour]
        )
        .await
        .unwrap()
        .get::<_, i64>(0),
        0,
        "nothing is saved by a preview"
    );
    screenshot(&c, "calendar-1-preview").await;

    click(&c, "#save-departures").await;
    eventually("the confirmation", Duration::from_secs(15), || {
        let c = c.clone();
        async move { texts(&c, "#toasts .toast").await.iter().any(|t| t.starts_with("6 departures saved")).then_some(()) }
    })
    .await;

    // Forward to March 2027 in the month view: the gap's departure shows at 03:00.
    for _ in 0..36 {
        if texts(&c, "#calendar-title").await.first().map(String::as_str) == Some("March 2027") {
            break;
        }
        click(&c, "#calendar-next").await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    screenshot(&c, "calendar-2-month-march-2027").await;
    let chips = eventually("the departures in the month", Duration::from_secs(20), || {
        let c = c.clone();
        async move {
            let title = texts(&c, "#calendar-title").await.join("");
            let chips = texts(&c, ".departure-chip[data-departure*='@2027-03-']").await;
            (title == "March 2027" && chips.len() == 6).then_some(chips)
        }
    })
    .await;
    let shifted = c.find(Locator::Css(".departure-chip[data-departure$='@2027-03-14T03:00:00']")).await.unwrap();
    let text = shifted.text().await.unwrap();
    assert!(text.contains("03:00") && text.contains("9 left"), "{text} in {chips:?}");

    // The keyboard: on Saturday the 13th, the right arrow moves to Sunday the 14th, Enter opens it.
    click(&c, "#day-2027-03-13").await;
    press_focused(&c, &Key::Right.to_string()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let focused = c.active_element().await.unwrap().attr("id").await.unwrap();
    assert_eq!(focused.as_deref(), Some("day-2027-03-14"));
    press_focused(&c, &Key::Enter.to_string()).await;
    let day = eventually("the day's departures", Duration::from_secs(10), || {
        let c = c.clone();
        async move {
            let rows = texts(&c, "#day-panel .day-row").await;
            (rows.len() == 2 && texts(&c, "#day-panel h2").await.join("").contains("Sunday 14 March 2027"))
                .then_some(rows)
        }
    })
    .await;
    assert!(day[0].contains("03:00") && day[0].contains("Brooklyn Bites Food Tour"), "{day:?}");
    screenshot(&c, "calendar-3-day").await;

    // A departure's panel: notes saved, and the server has what the preview showed.
    click(&c, "#day-panel .day-row button").await;
    eventually("the departure panel", Duration::from_secs(10), || {
        let c = c.clone();
        async move { (!texts(&c, "#departure-panel").await.is_empty()).then_some(()) }
    })
    .await;
    type_into(&c, "#departure-notes", "Clocks go forward tonight: remind the guests").await;
    click(&c, "#save-notes").await;
    eventually("the notes saved", Duration::from_secs(10), || {
        let c = c.clone();
        async move { texts(&c, "#toasts .toast").await.iter().any(|t| t.starts_with("Notes saved")).then_some(()) }
    })
    .await;
    screenshot(&c, "calendar-4-departure-panel").await;
    let stored = eventually("the departures and the notes in PostgreSQL", Duration::from_secs(30), || {
        let pg = &pg;
        let tour = tour.clone();
        async move {
            let rows = pg
                .query(
                    "SELECT local_date::text, local_time::text, starts_at, capacity, notes FROM schedules
                     WHERE tour_id = $1 AND local_date BETWEEN '2027-03-01' AND '2027-03-31' ORDER BY starts_at",
                    &[&tour],
                )
                .await
                .ok()?;
            let rows: Vec<(String, String, chrono::DateTime<chrono::Utc>, i32, String)> =
                rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))).collect();
            (rows.len() == 6 && rows.iter().any(|r| !r.4.is_empty())).then_some(rows)
        }
    })
    .await;
    let shifted = stored.iter().find(|r| r.0 == "2027-03-14" && r.1 == "03:00:00").unwrap();
    assert_eq!(shifted.2.to_rfc3339(), "2027-03-14T07:00:00+00:00");
    assert_eq!(shifted.4, "Clocks go forward tonight: remind the guests");
    assert!(stored.iter().all(|r| r.3 == 9));
    c.close().await.unwrap();
}

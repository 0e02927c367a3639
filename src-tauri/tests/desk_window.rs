//! The real desktop window, end to end: the desk starts on an empty SQLite file, signs in to a
//! real sync-server on a throwaway PostgreSQL, lists the synced tours and a departure's seats,
//! refuses bad input with a clear message, and a tour created in the window reaches PostgreSQL.
//!
//! Runs only with the `e2e` feature, under a display: `cargo xtask e2e` or `cargo xtask test`.
// Helpers outside #[test] functions are test code too: a failed step should panic with its place.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use fantoccini::Locator;
use support::{Driver, eventually, open_desk, texts};
use tourdesk_sync_server::Config;
use tourdesk_testkit::PgCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synced_tours_show_and_a_new_tour_reaches_postgres() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let server = tourdesk_sync_server::start(Config {
        database_url: db_url.clone(),
        listen: "127.0.0.1:0".into(),
        seed_demo: true,
        ..Config::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let _driver = Driver::start(&[
        ("TOURDESK_SERVER_URL", format!("http://{}", server.addr)),
        ("TOURDESK_DESK_DB", dir.path().join("desk.sqlite3").to_string_lossy().into_owned()),
        ("TOURDESK_SYNC_INTERVAL_SECS", "2".into()),
    ])
    .await;
    let c = open_desk().await;

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

    // Bad input is refused with the domain's message at the field, and nothing is created.
    c.find(Locator::Css("#new-tour")).await.unwrap().click().await.unwrap();
    let name = c.find(Locator::Css("#new-tour-name")).await.unwrap();
    name.send_keys("Lighthouse at Dusk").await.unwrap();
    let capacity = c.find(Locator::Css("#new-tour-capacity")).await.unwrap();
    capacity.clear().await.unwrap();
    capacity.send_keys("0").await.unwrap();
    c.find(Locator::Css("#new-tour-submit")).await.unwrap().click().await.unwrap();
    let err = eventually("a capacity error", Duration::from_secs(10), || {
        let c = c.clone();
        async move { texts(&c, ".field-error").await.into_iter().next() }
    })
    .await;
    assert!(err.contains("between 1 and 10000"), "{err}");

    // Fixed, it is created: listed at once, then confirmed by the server.
    capacity.clear().await.unwrap();
    capacity.send_keys("16").await.unwrap();
    c.find(Locator::Css("#new-tour-submit")).await.unwrap().click().await.unwrap();
    eventually("the new tour in the list", Duration::from_secs(10), || {
        let c = c.clone();
        async move { texts(&c, ".tour-row .tour-name").await.iter().any(|n| n == "Lighthouse at Dusk").then_some(()) }
    })
    .await;

    let (pg, conn) = tokio_postgres::connect(&db_url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
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

    // It comes back on the same address: the queued tour is pushed and confirmed.
    let server = tourdesk_sync_server::start(Config {
        database_url: db_url.clone(),
        listen: addr.to_string(),
        seed_demo: true,
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

    c.close().await.unwrap();
    server.shutdown().await.unwrap();
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

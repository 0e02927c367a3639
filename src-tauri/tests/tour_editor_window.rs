//! The tour editor in the real desktop window (issue 12, item 3), against a real sync-server on
//! a throwaway PostgreSQL: a tour made with the quick form is opened in the editor; a latitude
//! past the pole is refused beside its field and nothing is saved; its details are saved; two
//! variants and three price tiers (one for a variant only, with validity dates and a per-booking
//! limit) are added; publishing before there is a price is refused with the reason, and after
//! it the tour reads Published, in the window and in PostgreSQL.
//!
//! Each screen is saved as a PNG under `<target dir>/e2e-screens/editor-*.png`.
//!
//! Runs only with the `e2e` feature, under a display (`cargo xtask e2e`, `cargo xtask test`).
#![allow(clippy::unwrap_used)]

// The shared window helpers; this test needs only some of them.
#[allow(dead_code)]
mod support;

use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use support::{
    Driver, attr_of_element_whose_text, click, demo_server, eventually, fill_sign_in, open_desk, press, retype,
    screenshot, texts, type_into,
};
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::PgCluster;

/// Sets a date input the way a date picker does (WebKit's picker takes no typed text).
async fn set_date(c: &Client, css: &str, date: &str) {
    let js = "const e = document.querySelector(arguments[0]); e.value = arguments[1];
              e.dispatchEvent(new Event('input', { bubbles: true }));";
    c.execute(js, vec![css.into(), date.into()]).await.unwrap();
}

async fn painted() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

async fn rows(c: &Client, css: &str, n: usize, what: &str) {
    eventually(what, Duration::from_secs(20), || async move { (texts(c, css).await.len() == n).then_some(()) }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tour_with_two_variants_and_three_prices_is_built_and_published_in_the_editor() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let server = tourdesk_sync_server::start(demo_server(&db_url)).await.unwrap();
    let url = format!("http://{}", server.addr);
    let pg = tourdesk_testkit::connect(&db_url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let _driver = Driver::start(&[
        ("TOURDESK_SERVER_URL", url.clone()),
        ("TOURDESK_DESK_DB", dir.path().join("desk.sqlite3").to_string_lossy().into_owned()),
        ("TOURDESK_SYNC_INTERVAL_SECS", "2".into()),
    ])
    .await;
    let c = open_desk().await;

    // Sign in as the owner (who may edit the catalogue).
    eventually("the sign-in screen", Duration::from_secs(60), || {
        let c = c.clone();
        async move { c.find(Locator::Css("#sign-in-server")).await.ok().map(|_| ()) }
    })
    .await;
    for (css, text) in [
        ("#sign-in-server", url.as_str()),
        ("#sign-in-org", demo_data::DEMO_ORG_SLUG),
        ("#sign-in-email", demo_data::DEMO_OWNER_EMAIL),
        ("#sign-in-password", demo_data::DEMO_PASSWORD),
    ] {
        retype(&c, css, text).await;
    }
    press(&c, "#sign-in-password", &Key::Enter.to_string()).await;
    // A fresh desk starts on the today dashboard.
    click(&c, "#nav-tours").await;
    eventually("the demo tours", Duration::from_secs(60), || {
        let c = c.clone();
        async move { (texts(&c, ".tour-row .tour-name").await.len() == 3).then_some(()) }
    })
    .await;

    // A new tour from the quick form, then its editor.
    let name = "Lisbon by Night";
    click(&c, "#new-tour").await;
    retype(&c, "#new-tour-name", name).await;
    click(&c, "#new-tour-submit").await;
    eventually("the new tour opened", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, "#tour-title").await.iter().any(|t| t == name).then_some(()) }
    })
    .await;
    click(&c, "#edit-tour").await;
    eventually("the editor", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, "#editor-title").await.iter().any(|t| t == name).then_some(()) }
    })
    .await;
    assert_eq!(texts(&c, "#tour-status").await, ["Draft"]);
    let hint = texts(&c, "#publish-hint").await.join(" ");
    assert!(hint.contains("active variant"), "the editor says what publishing needs: {hint}");
    painted().await;
    screenshot(&c, "editor-1-draft").await;

    // Details, with a latitude past the pole: refused beside the field, nothing saved.
    retype(&c, "#tour-short", "The river and the old town after dark").await;
    retype(&c, "#tour-full", "Two hours from Cais do Sodré up to the Alfama viewpoints.").await;
    retype(&c, "#tour-meeting-point", "Cais do Sodré").await;
    retype(&c, "#tour-address", "Praça Duque da Terceira, Lisboa").await;
    retype(&c, "#tour-lat", "95").await;
    retype(&c, "#tour-lng", "-9.1445").await;
    retype(&c, "#tour-instructions", "Look for the red umbrella").await;
    retype(&c, "#tour-tags", "night, river").await;
    retype(&c, "#tour-languages", "en, pt").await;
    retype(&c, "#tour-highlights", &format!("Sunset over the Tagus{}Fado from the street", Key::Enter)).await;
    retype(&c, "#tour-bring", "Comfortable shoes").await;
    retype(&c, "#tour-accessibility", "Steep streets and steps").await;
    click(&c, "#save-details").await;
    let said = eventually("the latitude refused at its field", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, ".field-error[data-field='meeting_point_lat']").await.into_iter().next() }
    })
    .await;
    assert!(said.contains("-90 and 90"), "{said}");
    let saved: String = pg
        .query_one("SELECT short_description FROM tours WHERE name = $1", &[&name])
        .await
        .map(|r| r.get(0))
        .unwrap_or_default();
    assert_eq!(saved, "", "nothing of the refused save reached anywhere");
    painted().await;
    screenshot(&c, "editor-2-details-refused").await;
    retype(&c, "#tour-lat", "38.7057").await;
    click(&c, "#save-details").await;
    eventually("the details saved", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, ".field-error").await.is_empty().then_some(()) }
    })
    .await;

    // Two variants.
    click(&c, "#add-variant").await;
    retype(&c, "#variant-name", "Evening").await;
    click(&c, "#save-variant").await;
    rows(&c, "#variant-table .variant-row", 1, "the first variant").await;
    click(&c, "#add-variant").await;
    retype(&c, "#variant-name", "Private").await;
    retype(&c, "#variant-capacity", "6").await;
    click(&c, "#save-variant").await;
    rows(&c, "#variant-table .variant-row", 2, "the second variant").await;
    painted().await;
    screenshot(&c, "editor-3-variants").await;

    // Publishing without a price is refused, with the reason.
    click(&c, "#publish-tour").await;
    let why = eventually("the publish refused", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, "#status-error").await.into_iter().next() }
    })
    .await;
    assert!(why.contains("price tier"), "{why}");
    assert_eq!(texts(&c, "#tour-status").await, ["Draft"]);
    painted().await;
    screenshot(&c, "editor-4-publish-refused").await;

    // Three price tiers: adults (the default), children with an age range and a limit, and a
    // summer family ticket for the private variant only.
    click(&c, "#add-tier").await;
    retype(&c, "#tier-name", "Adult").await;
    retype(&c, "#tier-price", "35.00").await;
    retype(&c, "#tier-min-age", "13").await;
    click(&c, "#tier-default").await;
    click(&c, "#save-tier").await;
    rows(&c, "#tier-table .tier-row", 1, "the first tier").await;

    click(&c, "#add-tier").await;
    retype(&c, "#tier-name", "Child").await;
    retype(&c, "#tier-price", "18").await;
    retype(&c, "#tier-min-age", "4").await;
    retype(&c, "#tier-max-age", "12").await;
    retype(&c, "#tier-max-n", "4").await;
    click(&c, "#save-tier").await;
    rows(&c, "#tier-table .tier-row", 2, "the second tier").await;

    click(&c, "#add-tier").await;
    retype(&c, "#tier-name", "Summer family").await;
    retype(&c, "#tier-price", "90").await;
    c.find(Locator::Css("#tier-variant")).await.unwrap().select_by_label("Private").await.unwrap();
    set_date(&c, "#tier-valid-from", "2026-06-01").await;
    set_date(&c, "#tier-valid-until", "2026-09-30").await;
    retype(&c, "#tier-min-n", "1").await;
    retype(&c, "#tier-max-n", "1").await;
    click(&c, "#save-tier").await;
    rows(&c, "#tier-table .tier-row", 3, "the third tier").await;
    let table = texts(&c, "#tier-table").await.join(" ");
    assert!(table.contains("exactly 1") && table.contains("Private") && table.contains("4–12"), "{table}");
    painted().await;
    screenshot(&c, "editor-5-tiers").await;

    // Now it publishes.
    assert!(texts(&c, "#publish-hint").await.is_empty(), "nothing is missing any more");
    click(&c, "#publish-tour").await;
    eventually("the tour published", Duration::from_secs(20), || {
        let c = c.clone();
        async move { (texts(&c, "#tour-status").await == ["Published"]).then_some(()) }
    })
    .await;
    painted().await;
    screenshot(&c, "editor-6-published").await;

    // The server has all of it once the desk has synced.
    let (status, lat, tags, variants, tiers) = eventually("the tour in PostgreSQL", Duration::from_secs(60), || {
        let pg = &pg;
        async move {
            let r = pg
                .query_opt(
                    "SELECT t.status, t.meeting_point_lat, t.tags || t.highlights,
                            (SELECT count(*) FROM tour_variants v WHERE v.tour_id = t.id),
                            (SELECT count(*) FROM pricing_tiers p WHERE p.tour_id = t.id)
                     FROM tours t WHERE t.name = $1",
                    &[&name],
                )
                .await
                .ok()??;
            let status: String = r.get(0);
            (status == "active").then(|| {
                (status, r.get::<_, Option<f64>>(1), r.get::<_, Vec<String>>(2), r.get::<_, i64>(3), r.get::<_, i64>(4))
            })
        }
    })
    .await;
    // Two tags and two highlights (one per line).
    assert_eq!((status.as_str(), lat, tags.len(), variants, tiers), ("active", Some(38.7057), 4, 2, 3), "{tags:?}");
    let limits: (Option<i32>, Option<String>) = {
        let r = pg
            .query_one("SELECT max_per_booking, valid_until::text FROM pricing_tiers WHERE name = 'Summer family'", &[])
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert_eq!(limits, (Some(1), Some("2026-09-30".into())));

    // Back in the list, the tour no longer reads Draft.
    click(&c, "#back-to-tour").await;
    eventually("the tour page again", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, "#tour-title").await.iter().any(|t| t == name).then_some(()) }
    })
    .await;
    let row = texts(&c, ".tour-row.selected").await.join(" ");
    assert!(!row.contains("Draft"), "{row}");
    painted().await;
    screenshot(&c, "editor-7-list").await;
}

/// Scrolls `css` to the middle of the window, so a screenshot shows it.
async fn show(c: &Client, css: &str) {
    let js = "const e = document.querySelector(arguments[0]); if (e) e.scrollIntoView({block: 'center'});";
    c.execute(js, vec![css.into()]).await.unwrap();
    painted().await;
}

/// Signs the owner in through the screen and opens the tours list.
async fn sign_in_as_owner(c: &Client, url: &str) {
    fill_sign_in(c, url, demo_data::DEMO_OWNER_EMAIL, demo_data::DEMO_PASSWORD).await;
    press(c, "#sign-in-password", &Key::Enter.to_string()).await;
    click(c, "#nav-tours").await;
    eventually("the demo tours", Duration::from_secs(60), || {
        let c = c.clone();
        async move { (texts(&c, ".tour-row .tour-name").await.len() == 3).then_some(()) }
    })
    .await;
}

/// The tour editor's pricing (issue 12's leftovers): a season, a group discount (first refused
/// at its field), an early-bird discount and a shared cancellation policy are set in the editor,
/// a promo code on the promo codes screen; the booking form's promo box then applies the code
/// and its total is the tier price with every rule applied; the booking is charged that total by
/// the server, and the rules reached PostgreSQL.
///
/// Screens: `<target dir>/e2e-screens/pricing-*.png`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seasons_discounts_and_a_promo_code_set_in_the_editor_price_the_booking_form() {
    let cluster = PgCluster::start().unwrap();
    let db_url = cluster.fresh_database().await.unwrap();
    let server = tourdesk_sync_server::start(demo_server(&db_url)).await.unwrap();
    let url = format!("http://{}", server.addr);
    let pg = tourdesk_testkit::connect(&db_url).await.unwrap();
    // An Alfama departure (EUR, adults 35.00) at least three days out with four seats free.
    let row = pg
        .query_one(
            "SELECT s.id, s.tour_id FROM schedules s JOIN tours t ON t.id = s.tour_id
             WHERE t.slug = 'alfama-old-town-walk' AND s.status = 'open'
               AND s.starts_at > now() + interval '3 days' AND s.booked_count + 4 <= s.capacity
             ORDER BY s.starts_at LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (dep, tour): (String, String) = (row.get(0), row.get(1));
    let adult: String = pg
        .query_one("SELECT id FROM pricing_tiers WHERE tour_id = $1 AND name = 'Adult'", &[&tour])
        .await
        .unwrap()
        .get(0);
    let dir = tempfile::tempdir().unwrap();
    let _driver = Driver::start(&[
        ("TOURDESK_SERVER_URL", url.clone()),
        ("TOURDESK_DESK_DB", dir.path().join("desk.sqlite3").to_string_lossy().into_owned()),
        ("TOURDESK_SYNC_INTERVAL_SECS", "2".into()),
    ])
    .await;
    let c = open_desk().await;
    sign_in_as_owner(&c, &url).await;

    // The editor of the demo walk: no seasons, no discounts yet, each said in words.
    click(&c, ".tour-row[data-slug='alfama-old-town-walk']").await;
    click(&c, "#edit-tour").await;
    eventually("the editor's pricing", Duration::from_secs(20), || {
        let c = c.clone();
        async move { c.find(Locator::Css("#new-group-discount")).await.ok().map(|_| ()) }
    })
    .await;
    let empty = texts(&c, ".group-discounts .state.empty").await.join(" ");
    assert!(empty.contains("No group discounts"), "{empty}");
    show(&c, "#seasons-title").await;
    screenshot(&c, "pricing-1-empty").await;

    // A season over the coming month: 10 % up.
    let today = chrono::Utc::now().date_naive();
    click(&c, "#new-season").await;
    retype(&c, "#season-name", "Festas de Lisboa").await;
    set_date(&c, "#season-start", &today.to_string()).await;
    set_date(&c, "#season-end", &(today + chrono::Duration::days(30)).to_string()).await;
    retype(&c, "#season-value", "10").await;
    click(&c, ".season-form button[type='submit']").await;
    rows(&c, "#season-table tr[data-row]", 1, "the season listed").await;

    // A group of one is refused beside its field, and nothing is listed; then four or more.
    click(&c, "#new-group-discount").await;
    retype(&c, "#group-threshold", "1").await;
    retype(&c, "#group-value", "10").await;
    click(&c, ".group-form button[type='submit']").await;
    let said = eventually("the group size refused at its field", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, ".group-form .field-error[data-field='min_participants']").await.into_iter().next() }
    })
    .await;
    assert!(!said.is_empty(), "the refusal is in words");
    assert!(texts(&c, "#group-discount-table tr[data-row]").await.is_empty(), "nothing saved");
    show(&c, ".group-form").await;
    screenshot(&c, "pricing-2-group-refused").await;
    retype(&c, "#group-threshold", "4").await;
    click(&c, ".group-form button[type='submit']").await;
    rows(&c, "#group-discount-table tr[data-row]", 1, "the group discount listed").await;

    // Booked two days ahead or more: 5 % off.
    click(&c, "#new-early-bird-discount").await;
    retype(&c, "#early-bird-threshold", "2").await;
    retype(&c, "#early-bird-value", "5").await;
    click(&c, ".early-bird-form button[type='submit']").await;
    rows(&c, "#early-bird-discount-table tr[data-row]", 1, "the early-bird discount listed").await;
    let listed = texts(&c, "#early-bird-discount-table").await.join(" ");
    assert!(listed.contains("Booked at least 2 days before") && listed.contains("5%"), "{listed}");
    show(&c, "#group-discounts-title").await;
    screenshot(&c, "pricing-3-rules").await;

    // The organization's shared policy, chosen from the picker.
    let flexible = eventually("the shared policies offered", Duration::from_secs(20), || {
        let c = c.clone();
        async move {
            attr_of_element_whose_text(&c, "#tour-policy-choice option", |t| t.starts_with("Flexible"), "value").await
        }
    })
    .await;
    c.find(Locator::Css("#tour-policy-choice")).await.unwrap().select_by_value(&flexible).await.unwrap();
    eventually("the shared policy in force", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, "#policy-in-force").await.iter().any(|t| t.contains("shared policy")).then_some(()) }
    })
    .await;
    show(&c, "#tour-policy-title").await;
    screenshot(&c, "pricing-4-policy").await;

    // A promo code on its own screen: 15 % off for the coming year.
    let code = "FADO15";
    click(&c, "#nav-promo-codes").await;
    click(&c, ".promo-codes-page button.primary").await;
    retype(&c, "#promo-code", code).await;
    retype(&c, "#promo-value", "15").await;
    set_date(&c, "#promo-from", &(today - chrono::Duration::days(1)).to_string()).await;
    set_date(&c, "#promo-until", &(today + chrono::Duration::days(365)).to_string()).await;
    click(&c, ".promo-codes-page form button[type='submit']").await;
    eventually("the code listed", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, "#promo-table .promo-row").await.iter().any(|t| t.contains(code)).then_some(()) }
    })
    .await;
    painted().await;
    screenshot(&c, "pricing-5-promo-code").await;

    // The booking form: four adults at 35.00, 10 % season = 154.00; less 10 % for the group
    // (15.40) = 138.60; less 5 % early bird (6.93) = 131.67. The code takes 15 % of that (19.75):
    // 111.92.
    click(&c, "#nav-tours").await;
    click(&c, ".tour-row[data-slug='alfama-old-town-walk']").await;
    click(&c, &format!(".departure-row[data-id='{dep}'] .open-bookings")).await;
    click(&c, &format!("#bookings-panel[data-departure='{dep}'] #new-booking")).await;
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
    type_into(&c, &format!("#new-booking-form .qty[data-tier='{adult}']"), "4").await;
    let total = |want: &'static str| {
        let c = c.clone();
        async move {
            eventually(&format!("the total to read {want}"), Duration::from_secs(20), || {
                let c = c.clone();
                async move { texts(&c, "#booking-total").await.iter().any(|t| t.contains(want)).then_some(()) }
            })
            .await
        }
    };
    total("131.67").await;
    type_into(&c, "#booking-promo", code).await;
    eventually("the code applied", Duration::from_secs(20), || {
        let c = c.clone();
        async move { (!texts(&c, "#promo-applied").await.is_empty()).then_some(()) }
    })
    .await;
    total("111.92").await;
    show(&c, "#booking-total").await;
    screenshot(&c, "pricing-6-booking-promo").await;
    click(&c, "#new-booking-submit").await;
    eventually("the form to close after booking", Duration::from_secs(20), || {
        let c = c.clone();
        async move { texts(&c, "#new-booking-form").await.is_empty().then_some(()) }
    })
    .await;

    // The server charged what the desk showed, and holds the editor's rules and choice.
    let charged: i64 = eventually("the booking in PostgreSQL", Duration::from_secs(60), || {
        let (pg, dep) = (&pg, dep.clone());
        async move {
            let r = pg
                .query_opt(
                    "SELECT b.total_minor FROM bookings b JOIN customers c ON c.id = b.customer_id
                     WHERE b.departure_id = $1 AND c.first_name = 'Yuki'",
                    &[&dep],
                )
                .await
                .ok()??;
            Some(r.get(0))
        }
    })
    .await;
    assert_eq!(charged, 11_192);
    let r = pg
        .query_one(
            "SELECT (SELECT count(*) FROM seasonal_pricing WHERE tour_id = $1),
                    (SELECT count(*) FROM group_discounts WHERE tour_id = $1),
                    (SELECT count(*) FROM early_bird_discounts WHERE tour_id = $1),
                    (SELECT cancellation_policy_id IS NOT NULL FROM tours WHERE id = $1)",
            &[&tour],
        )
        .await
        .unwrap();
    assert_eq!((r.get::<_, i64>(0), r.get::<_, i64>(1), r.get::<_, i64>(2), r.get::<_, bool>(3)), (1, 1, 1, true));
}

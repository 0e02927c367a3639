//! The booking website in a real browser (issue 15): headless Chromium driven over WebDriver,
//! against a real server, a real PostgreSQL, the fake Stripe (its stand-in Stripe.js mounts the
//! Payment Element and confirms against the fake API, which sends the signed webhook) and a real
//! SMTP sink. A customer browses, picks a day with the keyboard, checks out with a promo code,
//! pays, gets the e-mail, then manages the booking from the mailed link and cancels it; the
//! German pages; two browsers racing for a day's last seat. axe-core runs in every page visited (no serious or critical violation), and
//! every page is saved as `<target dir>/web-screens/<step>.png`.
//!
//! Runs by default; skips only when ChromeDriver is absent and `TOURDESK_BROWSER_TESTS=optional`.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::{Datelike, NaiveDate, Utc};
use fantoccini::key::Key;
use serde_json::Value;
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::browser::Browser;
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_testkit::stripe::{DECLINED_CARD, FakeStripe};
use tourdesk_tests::{Env, WEBHOOK_SECRET};

const ORG: &str = demo_data::DEMO_ORG_SLUG;
const EMAIL: &str = "ada.browser@example.com";

/// The pages visited, with what axe-core found wrong in each.
#[derive(Default)]
struct Visits {
    violations: Vec<String>,
    names: Vec<String>,
}

impl Visits {
    /// Saves the page as `<name>.png` and runs axe-core in it.
    async fn page(&mut self, b: &Browser, name: &str) {
        b.screenshot(name).await.unwrap();
        let found = b.axe().await.unwrap();
        for v in &found {
            eprintln!("axe-core, {name}: {v}");
        }
        self.violations.extend(found.into_iter().map(|v| format!("{name}: {v}")));
        self.names.push(name.to_string());
    }
}

async fn api(env: &Env, path: &str) -> Value {
    reqwest::get(format!("{}{path}", env.base_url())).await.unwrap().json().await.unwrap()
}

/// A departure more than four days out (a full refund under the demo policy) with room for two,
/// the earliest of this month if there is one (the calendar opens on this month): its tour's
/// slug, the departure, a tier.
async fn bookable(env: &Env) -> (String, Value, Value) {
    let today = Utc::now().date_naive();
    let tours = api(env, &format!("/api/v1/orgs/{ORG}/tours")).await;
    let mut candidates: Vec<(NaiveDate, String, Value)> = Vec::new();
    for t in tours.as_array().unwrap() {
        let slug = t["slug"].as_str().unwrap();
        let to = today + chrono::Duration::days(30);
        let a = api(env, &format!("/api/v1/orgs/{ORG}/tours/{slug}/availability?from={today}&to={to}")).await;
        for d in a["departures"].as_array().unwrap() {
            let starts: chrono::DateTime<Utc> = d["starts_at"].as_str().unwrap().parse().unwrap();
            if d["seats_left"].as_u64().unwrap() >= 2 && starts > Utc::now() + chrono::Duration::days(4) {
                candidates.push((d["date"].as_str().unwrap().parse().unwrap(), slug.to_string(), d.clone()));
            }
        }
    }
    candidates.sort_by_key(|(date, _, _)| (date.month() != today.month(), *date));
    let (_, slug, dep) = candidates.into_iter().next().expect("a bookable departure in the demo data");
    let tier = dep["prices"][0].clone();
    (slug, dep, tier)
}

/// Waits until the browser's address has `path` (a link followed, a form posted, a redirect).
/// Returns the whole address.
async fn wait_path(b: &Browser, path: &str) -> String {
    let started = std::time::Instant::now();
    loop {
        let u = b.client.current_url().await.unwrap();
        if u.path() == path {
            return u.to_string();
        }
        assert!(started.elapsed() < Duration::from_secs(20), "still at {u}, expected {path}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text_of(b: &Browser, css: &str) -> String {
    b.find(css).await.unwrap().text().await.unwrap()
}

/// Empties a field and types `text` into it, as a person would.
async fn type_into(b: &Browser, css: &str, text: &str) {
    let e = b.find(css).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

/// Focuses `css` and presses Enter on it: links and buttons used from the keyboard.
async fn enter_on(b: &Browser, css: &str) {
    b.find(css).await.unwrap().send_keys(&char::from(Key::Enter).to_string()).await.unwrap();
}

/// Moves the calendar's focus from its first bookable day to `date` with the arrow keys, and
/// opens that day with Enter.
async fn pick_day_with_keys(b: &Browser, date: NaiveDate) {
    let first = b.find("table.cal td.day a").await.unwrap();
    let td = b.find("table.cal td.day:has(a)").await.unwrap();
    let start: NaiveDate = td.attr("data-date").await.unwrap().unwrap().parse().unwrap();
    assert!(start <= date, "the first bookable day {start} is after {date}");
    b.client.execute("arguments[0].focus();", vec![serde_json::to_value(&first).unwrap()]).await.unwrap();
    let days = (date - start).num_days();
    let mut keys = String::new();
    for _ in 0..days / 7 {
        keys.push(char::from(Key::Down));
    }
    for _ in 0..days % 7 {
        keys.push(char::from(Key::Right));
    }
    b.keys(&keys).await.unwrap();
    let focused = b.client.active_element().await.unwrap();
    let on: String = b
        .client
        .execute("return arguments[0].closest('td').dataset.date;", vec![serde_json::to_value(&focused).unwrap()])
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(on, date.to_string(), "the arrow keys moved the focus day by day");
    b.keys(&char::from(Key::Enter).to_string()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_books_pays_manages_and_cancels_in_a_real_browser() {
    let Some(b) = Browser::start().await.unwrap() else { return };
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    // The site's own address is its public base URL: the return URL after paying and the mailed
    // link point back at it.
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let site = format!("http://{addr}");
    let env = Env::start_with(|c| {
        c.listen = addr.to_string();
        c.mail.public_base_url = site.clone();
        c.stripe.api_base = Some(stripe.uri());
        c.stripe.js_url = format!("{}/v3/", stripe.uri());
        c.mail.smtp_url = Some(smtp.url());
    })
    .await;
    stripe.deliver_webhooks_to(&format!("{site}/api/v1/stripe/webhook"), WEBHOOK_SECRET);
    let (slug, dep, tier) = bookable(&env).await;
    let dep_id = dep["id"].as_str().unwrap().to_string();
    let date: NaiveDate = dep["date"].as_str().unwrap().parse().unwrap();
    let tier_id = tier["tier_id"].as_str().unwrap().to_string();
    let mut visits = Visits::default();

    // The listing, and a tour from it.
    b.client.goto(&format!("{site}/{ORG}")).await.unwrap();
    assert_eq!(text_of(&b, "h1").await, "Tours");
    visits.page(&b, "01-listing").await;
    b.find(&format!("ul.cards a[href='/{ORG}/tours/{slug}']")).await.unwrap().click().await.unwrap();
    wait_path(&b, &format!("/{ORG}/tours/{slug}")).await;
    assert!(b.body_text().await.unwrap().contains("Check availability"));
    visits.page(&b, "02-tour").await;

    // The calendar, used from the keyboard.
    enter_on(&b, &format!("a.button[href='/{ORG}/tours/{slug}/dates']")).await;
    wait_path(&b, &format!("/{ORG}/tours/{slug}/dates")).await;
    visits.page(&b, "03-calendar").await;
    if date.month() != Utc::now().date_naive().month() {
        enter_on(&b, "a[rel=next]").await;
        b.find(&format!("td[data-date='{date}']")).await.unwrap();
    }
    pick_day_with_keys(&b, date).await;
    b.find("td.selected a[aria-current=date]").await.unwrap();
    let selected = b.find("td.selected").await.unwrap().attr("data-date").await.unwrap();
    assert_eq!(selected.as_deref(), Some(date.to_string().as_str()));
    assert!(text_of(&b, "#departures").await.contains("seats left"));
    visits.page(&b, "04-calendar-day").await;

    // Checkout: two participants, a promo code refused beside its field, then a good one.
    enter_on(&b, &format!("ul.departures a.button[href*='departure={dep_id}']")).await;
    wait_path(&b, &format!("/{ORG}/checkout")).await;
    visits.page(&b, "05-checkout").await;
    let qty = format!("#qty_{tier_id}");
    type_into(&b, &qty, "2").await;
    type_into(&b, "#first_name", "Ada").await;
    type_into(&b, "#last_name", "Lovelace").await;
    type_into(&b, "#email", EMAIL).await;
    type_into(&b, "#promo_code", "NOPE").await;
    b.find("button[value=quote]").await.unwrap().click().await.unwrap();
    let refusal = text_of(&b, "#promo_code-error").await;
    assert!(!refusal.is_empty());
    assert_eq!(
        b.find("#promo_code").await.unwrap().attr("aria-describedby").await.unwrap().as_deref(),
        Some("promo_code-error"),
        "the refusal is tied to its field for screen readers"
    );
    assert_eq!(
        b.find(&qty).await.unwrap().prop("value").await.unwrap().as_deref(),
        Some("2"),
        "the form kept its values"
    );
    visits.page(&b, "06-checkout-promo-refused").await;
    let full: i64 =
        b.find("[data-total-minor]").await.unwrap().attr("data-total-minor").await.unwrap().unwrap().parse().unwrap();
    // The price follows the form as it is typed (the page's script asks the server).
    type_into(&b, "#promo_code", demo_data::DEMO_PROMO_CODE).await;
    b.wait_for_text("Promo code applied", Duration::from_secs(10)).await.unwrap();
    assert!(b.client.find(fantoccini::Locator::Css("#promo_code-error")).await.is_err(), "the refusal is gone");
    let discounted: i64 =
        b.find("[data-total-minor]").await.unwrap().attr("data-total-minor").await.unwrap().unwrap().parse().unwrap();
    assert!(discounted < full, "the promo lowered the total: {discounted} < {full}");
    b.find("tr.discount").await.unwrap();
    visits.page(&b, "07-checkout-promo-applied").await;

    // Payment through the (fake) Payment Element: a declined card first, then a good one.
    b.find("button[value=book]").await.unwrap().click().await.unwrap();
    b.find("#stripe-card-number").await.unwrap();
    let reference = text_of(&b, "strong.reference").await;
    assert!(reference.starts_with("BK-"), "{reference}");
    let booking_id: String = env
        .pg()
        .await
        .query_one("SELECT id FROM bookings WHERE reference_number = $1", &[&reference])
        .await
        .unwrap()
        .get(0);
    visits.page(&b, "08-payment").await;
    type_into(&b, "#stripe-card-number", DECLINED_CARD).await;
    type_into(&b, "#stripe-card-expiry", "12 / 34").await;
    type_into(&b, "#stripe-card-cvc", "123").await;
    b.find("#pay").await.unwrap().click().await.unwrap();
    b.wait_for_text("Your card was declined.", Duration::from_secs(10)).await.unwrap();
    assert!(b.find("#payment-error").await.unwrap().is_displayed().await.unwrap());
    visits.page(&b, "09-payment-declined").await;
    type_into(&b, "#stripe-card-number", "4242 4242 4242 4242").await;
    b.find("#pay").await.unwrap().click().await.unwrap();
    let back = wait_path(&b, &format!("/{ORG}/bookings/{booking_id}")).await;
    assert!(back.contains("redirect_status=succeeded"), "{back}");
    // The fake Stripe sends the signed webhook; the page shows the booking once it is confirmed.
    let page = b.wait_for_text("Your booking is confirmed", Duration::from_secs(20)).await.unwrap();
    assert!(page.contains(&reference));
    visits.page(&b, "10-confirmation").await;
    assert!(stripe.webhook_deliveries().iter().all(|s| *s == 200), "{:?}", stripe.webhook_deliveries());
    let (status, paid): (String, i64) = {
        let row = env
            .pg()
            .await
            .query_one("SELECT status, paid_amount_minor FROM bookings WHERE id = $1", &[&booking_id])
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!((status.as_str(), paid), ("confirmed", discounted));
    let mails = smtp.wait_for(1, Duration::from_secs(15)).await;
    let confirmation =
        mails.iter().find(|m| m.subject.starts_with("Booking confirmed")).expect("the confirmation e-mail");
    assert_eq!(confirmation.to, vec![EMAIL.to_string()]);
    assert!(confirmation.subject.contains(&reference) && confirmation.text.contains("Participants: 2"));

    // Manage my booking: ask for the link on the site, follow it from the e-mail, cancel.
    enter_on(&b, &format!("header a[href='/{ORG}/manage']")).await;
    wait_path(&b, &format!("/{ORG}/manage")).await;
    visits.page(&b, "11-manage-lookup").await;
    type_into(&b, "#reference", &reference).await;
    type_into(&b, "#email", EMAIL).await;
    b.find("form button[type=submit]").await.unwrap().click().await.unwrap();
    b.wait_for_text("a link to manage it is on its way", Duration::from_secs(10)).await.unwrap();
    let mails = smtp.wait_for(2, Duration::from_secs(15)).await;
    let link_mail = mails.iter().find(|m| m.subject.starts_with("Manage your booking")).expect("the magic link");
    let link = link_mail.text.split_whitespace().find(|w| w.starts_with(&format!("{site}/manage?token="))).unwrap();
    b.client.goto(link).await.unwrap();
    let clean = wait_path(&b, "/manage").await;
    assert_eq!(clean, format!("{site}/manage"), "the token left the address bar");
    assert!(text_of(&b, "dd.reference").await.contains(&reference));
    let preview = text_of(&b, "p.refund-preview strong").await;
    visits.page(&b, "12-manage").await;
    let confirm = b.find("#confirm").await.unwrap();
    confirm.send_keys(" ").await.unwrap();
    assert!(confirm.is_selected().await.unwrap(), "the confirmation ticks from the keyboard");
    b.find("button.danger").await.unwrap().click().await.unwrap();
    b.wait_for_text("The booking is cancelled.", Duration::from_secs(10)).await.unwrap();
    assert_eq!(text_of(&b, "dd.refund").await, preview, "the refund given is the one shown");
    visits.page(&b, "13-manage-cancelled").await;
    let refunded = env
        .scalar("SELECT coalesce(sum(amount_minor), 0)::bigint FROM refunds WHERE booking_id = $1", &[&booking_id])
        .await;
    assert_eq!(refunded, discounted, "a full refund, more than four days ahead");
    assert!(stripe.requests().iter().any(|r| r.path == "/v1/refunds"), "the refund went to Stripe");

    // The German pages, reached through the language switcher.
    b.client.goto(&format!("{site}/{ORG}")).await.unwrap();
    b.find("nav.langs a[hreflang=de]").await.unwrap().click().await.unwrap();
    b.wait_for_text("Touren", Duration::from_secs(10)).await.unwrap();
    assert_eq!(b.find("html").await.unwrap().attr("lang").await.unwrap().as_deref(), Some("de"));
    visits.page(&b, "14-de-listing").await;
    b.find(&format!("ul.cards a[href='/{ORG}/tours/{slug}?lang=de']")).await.unwrap().click().await.unwrap();
    b.wait_for_text("Verfügbarkeit prüfen", Duration::from_secs(10)).await.unwrap();
    visits.page(&b, "15-de-tour").await;
    b.client.goto(&format!("{site}/{ORG}/tours/{slug}/dates?day={date}&lang=de")).await.unwrap();
    b.wait_for_text("Plätze frei", Duration::from_secs(10)).await.unwrap();
    visits.page(&b, "16-de-calendar").await;
    enter_on(&b, &format!("ul.departures a.button[href*='departure={dep_id}']")).await;
    wait_path(&b, &format!("/{ORG}/checkout")).await;
    type_into(&b, "#promo_code", "NOPE").await;
    b.find("button[value=quote]").await.unwrap().click().await.unwrap();
    assert_eq!(text_of(&b, "#promo_code-error").await, "Diesen Code kennen wir nicht.");
    visits.page(&b, "17-de-checkout").await;
    b.client.goto(&format!("{site}/{ORG}/manage?lang=de")).await.unwrap();
    b.wait_for_text("Meine Buchung verwalten", Duration::from_secs(10)).await.unwrap();
    visits.page(&b, "18-de-manage-lookup").await;

    // Two customers race for the last seat of a day: one is asked to pay, the other is told it is
    // sold out, and the calendar shows the day sold out straight away.
    let (day2, last) = {
        let today = Utc::now().date_naive();
        let to = today + chrono::Duration::days(30);
        let a = api(&env, &format!("/api/v1/orgs/{ORG}/tours/{slug}/availability?from={today}&to={to}")).await;
        let d = a["departures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["date"] != dep["date"] && d["seats_left"].as_u64().unwrap() > 0)
            .expect("another day with seats")
            .clone();
        (d["date"].as_str().unwrap().to_string(), d["id"].as_str().unwrap().to_string())
    };
    let pg = env.pg().await;
    pg.execute(
        "UPDATE schedules SET booked_count = CASE WHEN id = $2 THEN capacity - 1 ELSE capacity END
          WHERE tour_id = (SELECT tour_id FROM schedules WHERE id = $2) AND local_date = $1::text::date",
        &[&day2, &last],
    )
    .await
    .unwrap();
    let b2 = Browser::start().await.unwrap().expect("a second browser");
    let checkout = format!("{site}/{ORG}/checkout?tour={slug}&date={day2}&departure={last}");
    for (who, browser) in [("grace", &b), ("alan", &b2)] {
        browser.client.goto(&checkout).await.unwrap();
        type_into(browser, "#first_name", who).await;
        type_into(browser, "#last_name", "Racer").await;
        type_into(browser, "#email", &format!("{who}@example.com")).await;
    }
    let (one, two) = tokio::join!(async { b.find("button[value=book]").await.unwrap().click().await }, async {
        b2.find("button[value=book]").await.unwrap().click().await
    },);
    one.unwrap();
    two.unwrap();
    let mut outcomes = Vec::new();
    for browser in [&b, &b2] {
        let paying = browser.find("#payment-form, #form-error").await.unwrap().attr("id").await.unwrap().unwrap();
        outcomes.push(paying);
    }
    outcomes.sort();
    assert_eq!(outcomes, ["form-error", "payment-form"], "one customer pays, the other is told");
    let loser = if b.client.find(fantoccini::Locator::Css("#form-error")).await.is_ok() { &b } else { &b2 };
    let told = loser.body_text().await.unwrap();
    assert!(told.contains("Not enough seats left on this departure"), "{told}");
    visits.page(loser, "19-race-lost").await;
    loser.client.goto(&format!("{site}/{ORG}/tours/{slug}/dates?day={day2}")).await.unwrap();
    let cell = loser.find(&format!("td[data-date='{day2}']")).await.unwrap();
    assert_eq!(cell.attr("data-status").await.unwrap().as_deref(), Some("soldout"));
    assert!(text_of(loser, "#departures").await.contains("Sold out"));
    visits.page(loser, "20-sold-out-day").await;
    b2.close().await;

    // The checker itself is live: a page with an unlabelled image and field is refused.
    b.client
        .goto("data:text/html,<!doctype html><html lang=en><title>t</title><main><img src=x.png><input></main></html>")
        .await
        .unwrap();
    let bad = b.axe().await.unwrap();
    assert!(bad.iter().any(|v| v.starts_with("image-alt")) && bad.iter().any(|v| v.starts_with("label")), "{bad:?}");

    b.close().await;
    assert!(
        visits.violations.is_empty(),
        "axe-core found serious or critical accessibility violations:\n{}",
        visits.violations.join("\n")
    );
    eprintln!("pages checked with axe-core and saved under web-screens/: {}", visits.names.join(", "));
}

/// The manage page in a real browser for a booking already paid: the date changed to a dearer
/// one (the price shown first, then the move), and the balance it leaves paid through the fake
/// Payment Element; Stripe's webhook settles it as the booking's second payment and the page
/// says it is paid. Screenshots `21-…` to `26-…`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_changes_the_date_and_pays_the_balance_in_a_real_browser() {
    let Some(b) = Browser::start().await.unwrap() else { return };
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let site = format!("http://{addr}");
    let env = Env::start_with(|c| {
        c.listen = addr.to_string();
        c.mail.public_base_url = site.clone();
        c.stripe.api_base = Some(stripe.uri());
        c.stripe.js_url = format!("{}/v3/", stripe.uri());
        c.mail.smtp_url = Some(smtp.url());
    })
    .await;
    stripe.deliver_webhooks_to(&format!("{site}/api/v1/stripe/webhook"), WEBHOOK_SECRET);
    let mut visits = Visits::default();
    // Two dates of one tour more than five days out with room for two.
    let pg = env.pg().await;
    let (from, to, tour, to_date) = env.two_later_dates().await;
    let tier: String = pg
        .query_one(
            "SELECT id FROM pricing_tiers WHERE tour_id = $1 ORDER BY is_default DESC, sort_order, id LIMIT 1",
            &[&tour],
        )
        .await
        .unwrap()
        .get(0);
    // Booked and paid on the site's API.
    let created: Value = reqwest::Client::new()
        .post(format!("{site}/api/v1/orgs/{ORG}/bookings"))
        .json(&serde_json::json!({
            "request_id": uuid::Uuid::new_v4().to_string(),
            "departure_id": from,
            "customer": {"email": EMAIL, "first_name": "Ada", "last_name": "Balance"},
            "lines": [{"tier_id": tier, "quantity": 2}],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let booking_id = created["booking"]["id"].as_str().unwrap_or_else(|| panic!("{created}")).to_string();
    let reference = created["booking"]["reference"].as_str().unwrap().to_string();
    env.deliver_stripe_event(&stripe.succeed(created["payment"]["payment_intent_id"].as_str().unwrap())).await;
    let paid_first = env.scalar("SELECT paid_amount_minor FROM bookings WHERE id = $1", &[&booking_id]).await;
    // The later date is in a dearer season.
    pg.execute(
        "INSERT INTO seasonal_pricing (id, organization_id, tour_id, name, start_date, end_date, adjustment_type,
                                       adjustment_value)
         SELECT 'season-peak', organization_id, id, 'Peak', $2::text::date, $2::text::date, 'percentage', 5000
         FROM tours WHERE id = $1",
        &[&tour, &to_date],
    )
    .await
    .unwrap();

    // The manage link, asked for on the site and followed from the e-mail.
    b.client.goto(&format!("{site}/{ORG}/manage")).await.unwrap();
    type_into(&b, "#reference", &reference).await;
    type_into(&b, "#email", EMAIL).await;
    b.find("form button[type=submit]").await.unwrap().click().await.unwrap();
    b.wait_for_text("a link to manage it is on its way", Duration::from_secs(10)).await.unwrap();
    let mails = smtp.wait_for(2, Duration::from_secs(15)).await;
    let link_mail = mails.iter().find(|m| m.subject.starts_with("Manage your booking")).expect("the magic link");
    let link = link_mail.text.split_whitespace().find(|w| w.starts_with(&format!("{site}/manage?token="))).unwrap();
    b.client.goto(link).await.unwrap();
    wait_path(&b, "/manage").await;
    assert!(b.client.find(fantoccini::Locator::Css("#pay-balance")).await.is_err(), "nothing owed yet");
    visits.page(&b, "21-manage-change-date").await;

    // Change the date: the price of the dearer date first, then the move.
    b.find("#move-to").await.unwrap().select_by_value(&to).await.unwrap();
    b.find("#move-see-price").await.unwrap().click().await.unwrap();
    b.find("p.move-preview").await.unwrap();
    assert!(text_of(&b, "span.move-difference").await.contains("You pay the difference"));
    visits.page(&b, "22-manage-change-date-price").await;
    b.find("#move-confirm").await.unwrap().click().await.unwrap();
    b.wait_for_text("Your booking is moved to the new date.", Duration::from_secs(10)).await.unwrap();
    let total = env.scalar("SELECT total_minor FROM bookings WHERE id = $1", &[&booking_id]).await;
    assert!(total > paid_first, "{total} after {paid_first}");
    b.find("strong.balance-due").await.unwrap();
    visits.page(&b, "23-manage-moved-balance-due").await;

    // Pay the balance through the (fake) Payment Element.
    b.find("#pay-balance").await.unwrap().click().await.unwrap();
    wait_path(&b, "/manage/pay").await;
    b.find("#stripe-card-number").await.unwrap();
    assert!(text_of(&b, "strong.reference").await.contains(&reference));
    visits.page(&b, "24-balance-payment").await;
    type_into(&b, "#stripe-card-number", "4242 4242 4242 4242").await;
    type_into(&b, "#stripe-card-expiry", "12 / 34").await;
    type_into(&b, "#stripe-card-cvc", "123").await;
    b.find("#pay").await.unwrap().click().await.unwrap();
    // Back on the manage page (the address cleaned of the intent's secret); the webhook settles
    // the balance and the page says so.
    let page = b.wait_for_text("your booking is paid in full", Duration::from_secs(20)).await.unwrap();
    assert!(page.contains(&reference));
    let back = b.client.current_url().await.unwrap();
    assert_eq!((back.path(), back.query()), ("/manage", Some("paid=1")), "{back}");
    assert!(b.client.find(fantoccini::Locator::Css("#pay-balance")).await.is_err(), "nothing owed any more");
    visits.page(&b, "25-balance-paid").await;
    assert!(stripe.webhook_deliveries().iter().all(|s| *s == 200), "{:?}", stripe.webhook_deliveries());
    let row = pg
        .query_one("SELECT paid_amount_minor, payment_status FROM bookings WHERE id = $1", &[&booking_id])
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, String>(1)), (total, "paid".to_string()));
    assert_eq!(
        env.scalar("SELECT count(*) FROM payments WHERE booking_id = $1 AND status = 'succeeded'", &[&booking_id])
            .await,
        2,
        "one payment per PaymentIntent"
    );

    b.close().await;
    assert!(
        visits.violations.is_empty(),
        "axe-core found serious or critical accessibility violations:\n{}",
        visits.violations.join("\n")
    );
}

/// The gift-card step of a checkout in a real browser: a wrong code refused beside its field as
/// it is typed, a good one covering part of the price shown in the live quote (paid by the card,
/// left to pay), the Payment Element for the rest, then the confirmation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gift_card_pays_part_of_a_checkout_in_a_real_browser() {
    let Some(b) = Browser::start().await.unwrap() else { return };
    let stripe = FakeStripe::start().await;
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let site = format!("http://{addr}");
    let env = Env::start_with(|c| {
        c.listen = addr.to_string();
        c.mail.public_base_url = site.clone();
        c.stripe.api_base = Some(stripe.uri());
        c.stripe.js_url = format!("{}/v3/", stripe.uri());
    })
    .await;
    stripe.deliver_webhooks_to(&format!("{site}/api/v1/stripe/webhook"), WEBHOOK_SECRET);
    let mut visits = Visits::default();
    let (slug, dep, tier) = bookable(&env).await;
    let dep_id = dep["id"].as_str().unwrap().to_string();
    let tier_id = tier["tier_id"].as_str().unwrap().to_string();
    let unit = tier["price"]["amount_minor"].as_i64().unwrap();
    let currency = tier["price"]["currency"].as_str().unwrap().to_string();
    let part = unit / 2;
    let pg = env.pg().await;
    let org: String = pg.query_one("SELECT id FROM organizations WHERE slug = $1", &[&ORG]).await.unwrap().get(0);
    pg.execute(
        "INSERT INTO gift_cards (id, organization_id, code, currency, issued_amount, balance, issued_by, issued_at,
                                 updated_at)
         VALUES ($1, $2, 'BROWSERCARD1', $3, $4, $4, 'test', now(), now())",
        &[&uuid::Uuid::new_v4().to_string(), &org, &currency, &part],
    )
    .await
    .unwrap();

    b.client
        .goto(&format!("{site}/{ORG}/checkout?tour={slug}&date={}&departure={dep_id}", dep["date"].as_str().unwrap()))
        .await
        .unwrap();
    wait_path(&b, &format!("/{ORG}/checkout")).await;
    type_into(&b, &format!("#qty_{tier_id}"), "2").await;
    // One row of name fields per participant, following the count as it is typed.
    b.find(&format!("#pf_{tier_id}_1")).await.unwrap();
    type_into(&b, &format!("#pf_{tier_id}_0"), "Ada").await;
    type_into(&b, &format!("#pl_{tier_id}_0"), "Lovelace").await;
    type_into(&b, "#first_name", "Ada").await;
    type_into(&b, "#last_name", "Lovelace").await;
    type_into(&b, "#email", "gift.browser@example.com").await;
    type_into(&b, "#gift_card_code", "NOSUCHCARD01").await;
    b.wait_for_text("We do not know this gift card code.", Duration::from_secs(10)).await.unwrap();
    assert_eq!(
        b.find("#gift_card_code").await.unwrap().attr("aria-describedby").await.unwrap().as_deref(),
        Some("gift_card_code-error"),
        "the refusal is tied to its field for screen readers"
    );
    visits.page(&b, "26-checkout-gift-card-refused").await;
    type_into(&b, "#gift_card_code", "browser-card-1").await;
    b.wait_for_text("Left to pay by card", Duration::from_secs(10)).await.unwrap();
    assert!(b.client.find(fantoccini::Locator::Css("#gift_card_code-error")).await.is_err(), "the refusal is gone");
    let covered: i64 = b
        .find("[data-covered-minor]")
        .await
        .unwrap()
        .attr("data-covered-minor")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    let remaining: i64 = b
        .find("[data-remaining-minor]")
        .await
        .unwrap()
        .attr("data-remaining-minor")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!((covered, remaining), (part, 2 * unit - part));
    visits.page(&b, "27-checkout-gift-card-applied").await;

    b.find("button[value=book]").await.unwrap().click().await.unwrap();
    b.find("#stripe-card-number").await.unwrap();
    let reference = text_of(&b, "strong.reference").await;
    visits.page(&b, "28-payment-after-gift-card").await;
    let booking_id: String =
        pg.query_one("SELECT id FROM bookings WHERE reference_number = $1", &[&reference]).await.unwrap().get(0);
    type_into(&b, "#stripe-card-number", "4242 4242 4242 4242").await;
    type_into(&b, "#stripe-card-expiry", "12 / 34").await;
    type_into(&b, "#stripe-card-cvc", "123").await;
    b.find("#pay").await.unwrap().click().await.unwrap();
    wait_path(&b, &format!("/{ORG}/bookings/{booking_id}")).await;
    b.wait_for_text("Your booking is confirmed", Duration::from_secs(20)).await.unwrap();
    visits.page(&b, "29-confirmation-gift-card").await;
    let row = pg
        .query_one("SELECT status, paid_amount_minor, participants FROM bookings WHERE id = $1", &[&booking_id])
        .await
        .unwrap();
    assert_eq!((row.get::<_, String>(0), row.get::<_, i64>(1)), ("confirmed".to_string(), 2 * unit));
    assert_eq!(row.get::<_, Value>(2)[0]["first_name"], "Ada");
    let card_payment = env
        .scalar(
            "SELECT amount_minor FROM ledger_entries WHERE booking_id = $1 AND kind = 'card_payment'",
            &[&booking_id],
        )
        .await;
    assert_eq!(card_payment, 2 * unit - part, "Stripe took only what the card left");

    b.close().await;
    assert!(
        visits.violations.is_empty(),
        "axe-core found serious or critical accessibility violations:\n{}",
        visits.violations.join("\n")
    );
}

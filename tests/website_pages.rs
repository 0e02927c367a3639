//! The public booking website (issue 15): server-rendered pages over the public API's own
//! functions, against a real server, a real PostgreSQL, the fake Stripe and a real SMTP sink.
//! Pages are read as a browser without JavaScript would: every form posts and every link works.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::Value;
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_testkit::stripe::FakeStripe;
use tourdesk_tests::Env;
use tourdesk_tests::web::{Page, http, send};

const ORG: &str = demo_data::DEMO_ORG_SLUG;
const BASE: &str = "https://tours.example.test";

async fn page(env: &Env, path: &str) -> Page {
    send(http().get(format!("{}{path}", env.base_url()))).await
}

async fn post_form(env: &Env, path: &str, form: &[(String, String)]) -> Page {
    send(http().post(format!("{}{path}", env.base_url())).form(form)).await
}

async fn api(env: &Env, path: &str) -> Value {
    reqwest::get(format!("{}{path}", env.base_url())).await.unwrap().json().await.unwrap()
}

fn assert_html(p: &Page, status: StatusCode) {
    assert_eq!(p.status, status, "{}", p.body);
    assert!(p.header("content-type").starts_with("text/html"), "{}", p.header("content-type"));
}

/// A departure more than three days out with room for `seats`, its tour's slug and a tier.
async fn bookable(env: &Env, seats: u64) -> (String, Value, Value) {
    let tours = api(env, &format!("/api/v1/orgs/{ORG}/tours")).await;
    for t in tours.as_array().unwrap() {
        let slug = t["slug"].as_str().unwrap();
        let from = Utc::now().date_naive();
        let to = from + chrono::Duration::days(20);
        let a = api(env, &format!("/api/v1/orgs/{ORG}/tours/{slug}/availability?from={from}&to={to}")).await;
        if let Some(d) = a["departures"].as_array().unwrap().iter().find(|d| {
            d["seats_left"].as_u64().unwrap() >= seats
                && d["starts_at"].as_str().unwrap().parse::<chrono::DateTime<Utc>>().unwrap()
                    > Utc::now() + chrono::Duration::days(3)
        }) {
            return (slug.to_string(), d.clone(), d["prices"][0].clone());
        }
    }
    panic!("no bookable departure in the demo data");
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::test]
async fn listing_tour_page_and_calendar_are_served_in_two_languages() {
    let env = Env::start().await;
    let tours = api(&env, &format!("/api/v1/orgs/{ORG}/tours")).await;
    let tours = tours.as_array().unwrap();
    let tokyo = tours.iter().find(|t| t["timezone"] == "Asia/Tokyo").unwrap();
    let slug = tokyo["slug"].as_str().unwrap();
    let tour_id = tokyo["id"].as_str().unwrap();
    let pg = env.pg().await;
    let org: String =
        pg.query_one("SELECT organization_id FROM tours WHERE id = $1", &[&tour_id]).await.unwrap().get(0);
    pg.execute(
        "UPDATE tours SET highlights = ARRAY['Senso-ji at dawn'], full_description = 'Old Tokyo on foot.',
                meeting_point = 'Kaminarimon gate', meeting_point_address = '2-3-1 Asakusa'
         WHERE id = $1",
        &[&tour_id],
    )
    .await
    .unwrap();
    pg.execute(
        "INSERT INTO tour_faqs (id, organization_id, tour_id, question, answer, sort_order, is_published)
         VALUES ('faq-1', $1, $2, 'Rain or shine?', 'We walk in any weather.', 0, true),
                ('faq-2', $1, $2, 'Draft question?', 'Not public.', 1, false)",
        &[&org, &tour_id],
    )
    .await
    .unwrap();
    pg.execute(
        "INSERT INTO tour_inclusions (id, organization_id, tour_id, type, text, sort_order)
         VALUES ('inc-1', $1, $2, 'inclusion', 'Green tea tasting', 0), ('exc-1', $1, $2, 'exclusion', 'Hotel pickup', 1)",
        &[&org, &tour_id],
    )
    .await
    .unwrap();

    // The listing: every tour on sale, with canonical, alternates and a title of its own.
    let listing = page(&env, &format!("/{ORG}")).await;
    assert_html(&listing, StatusCode::OK);
    for t in tours {
        assert!(listing.body.contains(t["name"].as_str().unwrap()), "{}", t["name"]);
    }
    assert!(listing.body.contains(&format!("<link rel=\"canonical\" href=\"http://127.0.0.1:8787/{ORG}\">")));
    assert!(listing.body.contains(&format!("hreflang=\"de\" href=\"http://127.0.0.1:8787/{ORG}?lang=de\"")));
    assert!(listing.body.contains("<meta name=\"description\""));
    assert!(listing.body.contains("<meta property=\"og:title\""));
    // The header and title name the organization as its people wrote it, not its URL slug.
    let org_name: String = pg.query_one("SELECT name FROM organizations WHERE id = $1", &[&org]).await.unwrap().get(0);
    assert_ne!(org_name, ORG);
    assert!(listing.body.contains(&format!("<a class=\"brand\" href=\"/{ORG}\">{org_name}</a>")), "{}", listing.body);
    assert!(listing.body.contains(&format!(" · {org_name}</title>")));
    // Filters: by category, by a date the tour runs, and a date that is not one.
    let category = tokyo["category"].as_str().unwrap();
    let filtered = page(&env, &format!("/{ORG}?category={category}")).await;
    assert!(filtered.body.contains(tokyo["name"].as_str().unwrap()));
    for other in tours.iter().filter(|t| t["category"] != category) {
        assert!(!filtered.body.contains(other["name"].as_str().unwrap()), "{} is filtered out", other["name"]);
    }
    let from = Utc::now().date_naive();
    let avail = api(
        &env,
        &format!("/api/v1/orgs/{ORG}/tours/{slug}/availability?from={from}&to={}", from + chrono::Duration::days(20)),
    )
    .await;
    let first = avail["departures"][0].clone();
    let day = first["date"].as_str().unwrap();
    let on_day = page(&env, &format!("/{ORG}?date={day}")).await;
    assert!(on_day.body.contains(tokyo["name"].as_str().unwrap()));
    let bad = page(&env, &format!("/{ORG}?date=tomorrow")).await;
    assert_html(&bad, StatusCode::OK);
    assert!(bad.body.contains("id=\"date-error\""), "the bad date is explained beside its field");

    // The tour page: what the desk wrote about it, and JSON-LD that parses.
    let tour = page(&env, &format!("/{ORG}/tours/{slug}")).await;
    assert_html(&tour, StatusCode::OK);
    for text in [
        "Senso-ji at dawn",
        "Old Tokyo on foot.",
        "Rain or shine?",
        "We walk in any weather.",
        "Green tea tasting",
        "Hotel pickup",
        "Kaminarimon gate",
        "2-3-1 Asakusa",
    ] {
        assert!(tour.body.contains(text), "{text} on the tour page");
    }
    assert!(!tour.body.contains("Draft question?"), "unpublished FAQs stay private");
    assert!(tour.body.contains("from <strong>¥"), "price from, in yen");
    let ld: Value = serde_json::from_str(&tour.between("<script type=\"application/ld+json\">", "</script>")).unwrap();
    assert_eq!(ld["@context"], "https://schema.org");
    assert!(ld["@type"].as_array().unwrap().contains(&Value::from("TouristTrip")));
    assert_eq!(ld["offers"]["@type"], "AggregateOffer");
    assert_eq!(ld["offers"]["priceCurrency"], "JPY");
    let offer = &ld["offers"]["offers"][0];
    assert_eq!(offer["@type"], "Offer");
    assert!(offer["price"].as_str().unwrap().parse::<f64>().unwrap() > 0.0);
    assert_eq!(ld["url"], format!("http://127.0.0.1:8787/{ORG}/tours/{slug}"));
    assert!(tour.body.contains(&format!("<link rel=\"canonical\" href=\"http://127.0.0.1:8787/{ORG}/tours/{slug}\">")));

    // The calendar: the day marked, its departures with local times, seats and prices.
    let dates = page(&env, &format!("/{ORG}/tours/{slug}/dates?day={day}")).await;
    assert_html(&dates, StatusCode::OK);
    let cell = dates.between(&format!("data-date=\"{day}\" data-status=\""), "\"");
    assert!(cell == "available" || cell == "limited", "{cell}");
    assert!(dates.body.contains("Asia/Tokyo"));
    assert!(dates.body.contains(&format!(
        "{}–{} (UTC+09:00)",
        first["start_time"].as_str().unwrap(),
        first["end_time"].as_str().unwrap()
    )));
    assert!(dates.body.contains(&format!("{} seats left", first["seats_left"])));
    let unit = first["prices"][0]["price"]["formatted"].as_str().unwrap();
    assert!(dates.body.contains(unit), "the tier's price after seasonal pricing: {unit}");
    assert!(dates.body.contains(&format!(
        "/{ORG}/checkout?tour={slug}&#38;date={day}&#38;departure={}",
        first["id"].as_str().unwrap()
    )));
    assert!(dates.body.contains("aria-current=\"date\""), "the chosen day is marked for screen readers");
    let next_month = (Utc::now().date_naive() + chrono::Duration::days(40)).format("%Y-%m").to_string();
    assert_html(&page(&env, &format!("/{ORG}/tours/{slug}/dates?month={next_month}")).await, StatusCode::OK);

    // Titles are unique per page.
    let titles = [listing.title(), tour.title(), dates.title(), filtered.title()];
    for (i, a) in titles.iter().enumerate() {
        for b in &titles[i + 1..] {
            assert_ne!(a, b);
        }
    }

    // German: from the URL, and from Accept-Language; money written the German way.
    let de = page(&env, &format!("/{ORG}/tours/{slug}?lang=de")).await;
    assert!(de.body.contains("<html lang=\"de\">"));
    assert!(de.body.contains("Höhepunkte") && de.body.contains("Verfügbarkeit prüfen"));
    assert!(
        de.body
            .contains(&format!("<link rel=\"canonical\" href=\"http://127.0.0.1:8787/{ORG}/tours/{slug}?lang=de\">"))
    );
    assert!(de.body.contains("\u{a0}¥</strong>"), "yen after the amount in German");
    let by_header =
        send(http().get(format!("{}/{ORG}", env.base_url())).header("accept-language", "de-DE,de;q=0.9,en;q=0.5"))
            .await;
    assert!(by_header.body.contains("<h1>Touren</h1>"));
    assert!(by_header.header("vary").contains("Accept-Language"));
    let de_dates = page(&env, &format!("/{ORG}/tours/{slug}/dates?day={day}&lang=de")).await;
    assert!(de_dates.body.contains("Plätze frei"));

    // Unknown things are 404 pages, not JSON.
    let missing = page(&env, &format!("/{ORG}/tours/no-such-tour")).await;
    assert_html(&missing, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("Page not found"));
    assert_html(&page(&env, "/no-such-org").await, StatusCode::NOT_FOUND);

    // Static assets: fingerprinted, cached for a year; pages compressed on request.
    let css = tour.between("<link rel=\"stylesheet\" href=\"", "\"");
    assert!(css.starts_with("/assets/site.") && css.ends_with(".css") && css.len() > "/assets/site..css".len() + 8);
    let asset = page(&env, &css).await;
    assert_eq!(asset.status, StatusCode::OK);
    assert!(
        asset.header("cache-control").contains("max-age=31536000")
            && asset.header("cache-control").contains("immutable")
    );
    assert!(asset.header("content-type").starts_with("text/css"));
    assert_eq!(page(&env, "/assets/site.0000000000000000.css").await.status, StatusCode::NOT_FOUND);
    let r = http()
        .get(format!("{}/{ORG}/tours/{slug}", env.base_url()))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("gzip"));
}

#[tokio::test]
async fn a_day_whose_departures_are_full_shows_sold_out() {
    let env = Env::start().await;
    let (slug, dep, tier) = bookable(&env, 1).await;
    let day = dep["date"].as_str().unwrap().to_string();
    env.pg()
        .await
        .execute(
            "UPDATE schedules SET booked_count = capacity WHERE tour_id = (SELECT tour_id FROM schedules WHERE id = $1)
               AND local_date = $2::text::date",
            &[&dep["id"].as_str().unwrap(), &day],
        )
        .await
        .unwrap();
    let dates = page(&env, &format!("/{ORG}/tours/{slug}/dates?day={day}")).await;
    assert_html(&dates, StatusCode::OK);
    assert_eq!(dates.between(&format!("data-date=\"{day}\" data-status=\""), "\""), "soldout");
    assert!(dates.body.contains("Sold out"));
    // No link to book it; the waitlist is offered instead.
    let links: Vec<&str> = dates.body.split("href=\"").skip(1).filter_map(|h| h.split('"').next()).collect();
    let to_it = format!("departure={}", dep["id"].as_str().unwrap());
    assert!(!links.iter().any(|h| h.contains("/checkout?") && h.contains(&to_it)), "no booking link: {links:?}");
    assert!(links.iter().any(|h| h.contains("/waitlist?") && h.contains(&to_it)), "a waitlist link: {links:?}");

    // A checkout still open in another tab: a clear "sold out", no booking.
    let request_id = uuid::Uuid::new_v4().to_string();
    let qty = format!("qty_{}", tier["tier_id"].as_str().unwrap());
    let late = post_form(
        &env,
        &format!("/{ORG}/checkout"),
        &form(&[
            ("action", "book"),
            ("tour", &slug),
            ("date", &day),
            ("departure", dep["id"].as_str().unwrap()),
            ("request_id", &request_id),
            (&qty, "1"),
            ("first_name", "Late"),
            ("last_name", "Comer"),
            ("email", "late@example.com"),
        ]),
    )
    .await;
    assert_html(&late, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(late.body.contains("Not enough seats left on this departure"), "{}", late.body);
    assert_eq!(env.scalar("SELECT count(*) FROM bookings WHERE id = $1", &[&request_id]).await, 0);
}

#[tokio::test]
async fn sitemap_and_robots_use_the_public_base_url() {
    let env = Env::start_with(|c| c.mail.public_base_url = BASE.into()).await;
    let robots = page(&env, "/robots.txt").await;
    assert_eq!(robots.status, StatusCode::OK);
    assert!(robots.body.contains(&format!("Sitemap: {BASE}/sitemap.xml")), "{}", robots.body);
    let index = page(&env, "/sitemap.xml").await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(index.header("content-type").starts_with("application/xml"));
    assert!(index.body.contains(&format!("<loc>{BASE}/{ORG}/sitemap.xml</loc>")), "{}", index.body);

    let tours = api(&env, &format!("/api/v1/orgs/{ORG}/tours")).await;
    let archived = tours[0]["slug"].as_str().unwrap().to_string();
    env.pg().await.execute("UPDATE tours SET status = 'archived' WHERE slug = $1", &[&archived]).await.unwrap();
    let sitemap = page(&env, &format!("/{ORG}/sitemap.xml")).await;
    assert_eq!(sitemap.status, StatusCode::OK);
    for t in tours.as_array().unwrap().iter().skip(1) {
        let slug = t["slug"].as_str().unwrap();
        assert!(sitemap.body.contains(&format!("<loc>{BASE}/{ORG}/tours/{slug}</loc>")), "{}", sitemap.body);
        assert!(sitemap.body.contains(&format!("hreflang=\"de\" href=\"{BASE}/{ORG}/tours/{slug}?lang=de\"")));
    }
    assert!(!sitemap.body.contains(&format!("/tours/{archived}<")), "an archived tour is not listed");
    assert!(sitemap.body.contains("<lastmod>"));
    assert_eq!(page(&env, &format!("/{ORG}/tours/{archived}")).await.status, StatusCode::NOT_FOUND);
    let tour = page(&env, &format!("/{ORG}/tours/{}", tours[1]["slug"].as_str().unwrap())).await;
    assert!(tour.body.contains(&format!("href=\"{BASE}/{ORG}/tours/")), "absolute canonical from the base URL");
}

/// Checkout without JavaScript: quote, promo refusal beside its field, errors beside fields, one
/// booking for a double submit, a stale total shown rather than charged, the Payment Element page,
/// the webhook, the confirmation page.
#[tokio::test]
async fn checkout_books_once_pays_and_confirms() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let js = format!("{}/v3/", stripe.uri());
    let env = Env::start_with(|c| {
        c.stripe.api_base = Some(stripe.uri());
        c.stripe.js_url = js.clone();
        c.mail.smtp_url = Some(smtp.url());
    })
    .await;
    let (slug, dep, tier) = bookable(&env, 2).await;
    let dep_id = dep["id"].as_str().unwrap().to_string();
    let day = dep["date"].as_str().unwrap().to_string();
    let tier_id = tier["tier_id"].as_str().unwrap().to_string();
    let qty = format!("qty_{tier_id}");

    let checkout = page(&env, &format!("/{ORG}/checkout?tour={slug}&date={day}&departure={dep_id}")).await;
    assert_html(&checkout, StatusCode::OK);
    assert!(checkout.header("cache-control").contains("no-store"));
    let request_id = checkout.input("request_id");
    assert!(uuid::Uuid::parse_str(&request_id).is_ok());
    assert!(checkout.body.contains(&format!("id=\"{qty}\"")));
    assert!(checkout.body.contains("id=\"quote\""), "a quote from the start");

    let base = |extra: &[(&str, &str)]| {
        let mut f = form(&[
            ("tour", &slug),
            ("date", &day),
            ("departure", &dep_id),
            ("request_id", &request_id),
            (&qty, "2"),
            ("first_name", "Grace"),
            ("last_name", "Hopper"),
            ("email", "grace@example.com"),
        ]);
        for (k, v) in extra {
            f.retain(|(name, _)| name != k);
            f.push((k.to_string(), v.to_string()));
        }
        f
    };
    let path = format!("/{ORG}/checkout");
    let refused = post_form(&env, &path, &base(&[("action", "quote"), ("promo_code", "NOPE")])).await;
    assert_html(&refused, StatusCode::OK);
    assert!(refused.body.contains("id=\"promo_code-error\""), "the refusal beside the promo field");
    assert!(refused.body.contains("aria-describedby=\"promo_code-error\""));
    let refused_de =
        post_form(&env, &path, &base(&[("action", "quote"), ("promo_code", "NOPE"), ("lang", "de")])).await;
    assert!(refused_de.body.contains("Diesen Code kennen wir nicht."), "the refusal in German");
    let quoted = post_form(&env, &path, &base(&[("action", "quote"), ("promo_code", "welcome10")])).await;
    assert!(quoted.body.contains("Promo code applied"), "{}", quoted.body);
    assert!(quoted.body.contains("class=\"discount\""));
    let total: i64 = quoted.input("expected_total").parse().unwrap();
    let unit = tier["price"]["amount_minor"].as_i64().unwrap();
    assert!(total < 2 * unit, "the promo lowered the total");

    // Errors beside their fields, nothing booked.
    let missing = post_form(&env, &path, &base(&[("action", "book"), ("email", ""), ("first_name", "")])).await;
    assert_html(&missing, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("id=\"email-error\"") && missing.body.contains("id=\"first_name-error\""));
    let bad_email = post_form(&env, &path, &base(&[("action", "book"), ("email", "not-an-email")])).await;
    assert_html(&bad_email, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_email.body.contains("id=\"email-error\""), "{}", bad_email.body);
    let none = env.scalar("SELECT count(*) FROM bookings WHERE id = $1", &[&request_id]).await;
    assert_eq!(none, 0);

    // A total that is no longer the price: shown, not charged.
    let stale_id = uuid::Uuid::new_v4().to_string();
    let stale = post_form(
        &env,
        &path,
        &base(&[("action", "book"), ("request_id", &stale_id), ("expected_total", &(2 * unit + 1).to_string())]),
    )
    .await;
    assert_html(&stale, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(stale.body.contains("The price changed"), "{}", stale.body);
    assert_eq!(env.scalar("SELECT count(*) FROM bookings WHERE id = $1", &[&stale_id]).await, 0);

    // Book, twice (a double submit): one booking, the payment page both times.
    let book = base(&[("action", "book"), ("promo_code", "WELCOME10"), ("expected_total", &total.to_string())]);
    let pay = post_form(&env, &path, &book).await;
    assert_html(&pay, StatusCode::OK);
    assert!(pay.body.contains("id=\"payment-element\""));
    assert!(pay.body.contains(&format!("<script src=\"{js}\"></script>")), "stripe.js from the configured URL");
    let secret = pay.between("data-client-secret=\"", "\"");
    let intent = secret.split("_secret").next().unwrap().to_string();
    assert!(intent.starts_with("pi_"));
    let reference = pay.between("<strong class=\"reference\">", "<");
    assert!(reference.starts_with("BK-"));
    assert!(pay.body.contains(&format!("data-return-url=\"http://127.0.0.1:8787/{ORG}/bookings/{request_id}\"")));
    let again = post_form(&env, &path, &book).await;
    assert_html(&again, StatusCode::OK);
    assert_eq!(again.between("<strong class=\"reference\">", "<"), reference);
    assert_eq!(env.scalar("SELECT count(*) FROM bookings WHERE id = $1", &[&request_id]).await, 1);
    assert_eq!(
        env.scalar(
            "SELECT count(*) FROM bookings b JOIN customers c ON c.id = b.customer_id WHERE c.email = 'grace@example.com'",
            &[]
        )
        .await,
        1,
        "a double submit makes one booking"
    );
    assert_eq!(stripe.intent(&intent).unwrap().amount, total);

    // Before the payment: waiting. Stripe confirms through the signed webhook; then confirmed.
    let waiting = page(&env, &format!("/{ORG}/bookings/{request_id}")).await;
    assert_html(&waiting, StatusCode::OK);
    assert!(waiting.body.contains("http-equiv=\"refresh\""));
    let event = stripe.succeed(&intent);
    env.deliver_stripe_event(&event).await;
    let done = page(&env, &format!("/{ORG}/bookings/{request_id}")).await;
    assert_html(&done, StatusCode::OK);
    assert!(done.body.contains(&reference));
    assert!(done.body.contains("Your booking is confirmed"), "{}", done.body);
    assert!(!done.body.contains("http-equiv=\"refresh\""));
    assert_eq!(done.header("referrer-policy"), "no-referrer");
    assert!(done.body.contains("<meta name=\"robots\" content=\"noindex\">"));
    let de = page(&env, &format!("/{ORG}/bookings/{request_id}?lang=de")).await;
    assert!(de.body.contains("Ihre Buchung ist bestätigt"));
    assert_html(&page(&env, &format!("/{ORG}/bookings/{}", uuid::Uuid::new_v4())).await, StatusCode::NOT_FOUND);
    let mails = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert!(mails.iter().any(|m| m.subject.starts_with("Booking confirmed")), "{mails:?}");
}

/// The link in the e-mail: exchanged for a cookie and a clean URL; the booking, the refund a
/// cancellation would give, the cancellation.
#[tokio::test]
async fn manage_my_booking_from_the_mailed_link() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_with(|c| {
        c.stripe.api_base = Some(stripe.uri());
        c.mail.smtp_url = Some(smtp.url());
        c.mail.public_base_url = BASE.into();
    })
    .await;
    let (_, dep, tier) = bookable(&env, 1).await;
    let created: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/orgs/{ORG}/bookings", env.base_url()))
        .json(&serde_json::json!({
            "request_id": uuid::Uuid::new_v4().to_string(),
            "departure_id": dep["id"],
            "customer": {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
            "lines": [{"tier_id": tier["tier_id"], "quantity": 1}],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let booking_id = created["booking"]["id"].as_str().unwrap().to_string();
    let reference = created["booking"]["reference"].as_str().unwrap().to_string();
    let total = created["booking"]["price"]["total"]["amount_minor"].as_i64().unwrap();
    let intent = created["payment"]["payment_intent_id"].as_str().unwrap();
    let event = stripe.succeed(intent);
    env.deliver_stripe_event(&event).await;

    // Asking for a link on the site; a malformed reference is refused beside its field.
    let path = format!("/{ORG}/manage");
    assert_html(&page(&env, &path).await, StatusCode::OK);
    let bad = post_form(&env, &path, &form(&[("reference", "nonsense"), ("email", "ada@example.com")])).await;
    assert_html(&bad, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"reference-error\""));
    let sent = post_form(&env, &path, &form(&[("reference", &reference), ("email", "ada@example.com")])).await;
    assert_html(&sent, StatusCode::OK);
    assert!(sent.body.contains("a link to manage it is on its way"));
    let mails = smtp.wait_for(2, Duration::from_secs(10)).await;
    let link = mails.iter().find(|m| m.subject.starts_with("Manage your booking")).unwrap();
    assert!(link.text.contains(&format!("{BASE}/manage?token=")));
    let token = link.text.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_string();

    // The token becomes a cookie and leaves the URL.
    let opened = page(&env, &format!("/manage?token={token}")).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER);
    assert_eq!(opened.header("location"), "/manage");
    assert_eq!(opened.header("referrer-policy"), "no-referrer");
    let set_cookie = opened.header("set-cookie");
    for part in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/manage", "Max-Age=3600"] {
        assert!(set_cookie.contains(part), "{part} in {set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    assert!(!cookie.contains(&token), "the session is a new token, not the mailed one");

    let managed = send(http().get(format!("{}/manage", env.base_url())).header("cookie", &cookie)).await;
    assert_html(&managed, StatusCode::OK);
    assert!(managed.body.contains(&reference));
    assert!(managed.header("cache-control").contains("no-store"));
    let preview = managed.between("<p class=\"refund-preview\">", "</p>");
    assert!(preview.contains("If you cancel now, you get back"), "{preview}");
    let status: String =
        env.pg().await.query_one("SELECT status FROM bookings WHERE id = $1", &[&booking_id]).await.unwrap().get(0);
    assert_eq!(status, "confirmed", "showing the refund changes nothing");
    assert_eq!(env.scalar("SELECT count(*) FROM refunds WHERE booking_id = $1", &[&booking_id]).await, 0);

    // Cancelling asks for a confirmation, then cancels with the refund shown.
    let unconfirmed = send(
        http()
            .post(format!("{}/manage/cancel", env.base_url()))
            .header("cookie", &cookie)
            .form(&form(&[("reason", "")])),
    )
    .await;
    assert_html(&unconfirmed, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unconfirmed.body.contains("id=\"confirm-error\""));
    let cancelled = send(
        http()
            .post(format!("{}/manage/cancel", env.base_url()))
            .header("cookie", &cookie)
            .form(&form(&[("confirm", "yes"), ("reason", "plans changed")])),
    )
    .await;
    assert_html(&cancelled, StatusCode::OK);
    assert!(cancelled.body.contains("The booking is cancelled."));
    assert!(cancelled.header("set-cookie").contains("Max-Age=0"));
    let refund = cancelled.between("<dd class=\"refund\">", "</dd>");
    assert!(!refund.is_empty() && preview.contains(&refund), "the refund given is the one shown: {refund} / {preview}");
    let (status, refunded): (String, i64) = {
        let row = env
            .pg()
            .await
            .query_one(
                "SELECT b.status, r.amount_minor FROM bookings b JOIN refunds r ON r.booking_id = b.id WHERE b.id = $1",
                &[&booking_id],
            )
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    assert_eq!((status.as_str(), refunded), ("cancelled", total));

    // A bad or spent link, and no session at all: a page that says so.
    let bogus = page(&env, "/manage?token=not-a-real-token").await;
    assert_html(&bogus, StatusCode::UNAUTHORIZED);
    assert!(bogus.body.contains("This link has expired or was already used"));
    assert_html(&page(&env, "/manage").await, StatusCode::UNAUTHORIZED);
    let de = send(http().get(format!("{}/manage?lang=de", env.base_url()))).await;
    assert!(de.body.contains("Meine Buchung verwalten"));
}

/// The site's funnel as the staff API reads it for today, once the recorder has written
/// `checkouts` started checkouts (it writes off the request path).
async fn funnel_when(env: &Env, token: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let today = Utc::now().date_naive();
    let started = std::time::Instant::now();
    loop {
        let (status, f) = tourdesk_tests::call(
            &env.base_url(),
            "GET",
            &format!("/api/v1/analytics/funnel?from={today}&to={today}"),
            Some(token),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{f}");
        if ready(&f) {
            return f;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the funnel never read as expected: {f}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn site_analytics_record_the_funnel_server_side_without_cookies() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_with(|c| c.stripe.api_base = Some(stripe.uri())).await;
    let owner = tourdesk_tests::sign_in(&env, "owner@demo.tourdesk.test").await;
    let (slug, dep, tier) = bookable(&env, 2).await;
    let dep_id = dep["id"].as_str().unwrap().to_string();
    let day = dep["date"].as_str().unwrap().to_string();
    let qty = format!("qty_{}", tier["tier_id"].as_str().unwrap());

    // Nothing yet.
    let empty = funnel_when(&env, &owner, |_| true).await;
    assert_eq!(empty["page_views"], 0, "{empty}");

    // A visitor browses: listing, tour, calendar; no page sets a cookie or loads a foreign script.
    for path in [format!("/{ORG}"), format!("/{ORG}/tours/{slug}"), format!("/{ORG}/tours/{slug}/dates?day={day}")] {
        let p = page(&env, &path).await;
        assert_html(&p, StatusCode::OK);
        assert!(p.header("set-cookie").is_empty(), "{path} set a cookie");
        assert!(!p.body.contains("<script src=\"http"), "{path} loads a third-party script");
    }
    // Two checkouts start; one books and is paid (its webhook delivered twice), one is left.
    let checkout = format!("/{ORG}/checkout?tour={slug}&date={day}&departure={dep_id}");
    let left = page(&env, &checkout).await;
    assert_html(&left, StatusCode::OK);
    let first = page(&env, &checkout).await;
    let request_id = first.input("request_id");
    assert_ne!(request_id, left.input("request_id"));
    let f = form(&[
        ("tour", &slug),
        ("date", &day),
        ("departure", &dep_id),
        ("request_id", &request_id),
        (&qty, "2"),
        ("first_name", "Ada"),
        ("last_name", "Funnel"),
        ("email", "ada.funnel@example.com"),
        ("action", "book"),
    ]);
    let paying = post_form(&env, &format!("/{ORG}/checkout"), &f).await;
    assert_html(&paying, StatusCode::OK);
    // The same form sent twice is the same booking: one booking made.
    let again = post_form(&env, &format!("/{ORG}/checkout"), &f).await;
    assert_html(&again, StatusCode::OK);
    let secret = paying.between("data-client-secret=\"", "\"");
    let event = stripe.succeed(secret.split("_secret_").next().unwrap());
    env.deliver_stripe_event(&event).await;
    env.deliver_stripe_event(&event).await;

    let funnel = funnel_when(&env, &owner, |f| f["checkouts_started"] == 2 && f["page_views"] == 3).await;
    assert_eq!(funnel["page_views"], 3, "{funnel}");
    assert_eq!(funnel["tour_views"], 1, "{funnel}");
    assert_eq!(funnel["availability_views"], 1, "{funnel}");
    assert_eq!(funnel["checkouts_started"], 2, "{funnel}");
    assert_eq!(funnel["checkouts_booked"], 1, "{funnel}");
    assert_eq!(funnel["checkouts_completed"], 1, "{funnel}");
    assert_eq!(funnel["bookings_completed"], 1, "{funnel}");
    // What is stored names no person.
    let personal = env
        .scalar(
            "SELECT count(*) FROM analytics_events
             WHERE properties::text LIKE '%@%' OR properties::text LIKE '%token%' OR customer_id IS NOT NULL",
            &[],
        )
        .await;
    assert_eq!(personal, 0);

    // Another day's funnel is empty; a backwards period is refused at its field; a guide may not read it.
    let (status, past) = tourdesk_tests::call(
        &env.base_url(),
        "GET",
        "/api/v1/analytics/funnel?from=2020-01-01&to=2020-01-31",
        Some(&owner),
        None,
    )
    .await;
    assert_eq!((status, past["checkouts_started"].clone()), (StatusCode::OK, Value::from(0)));
    let (status, backwards) = tourdesk_tests::call(
        &env.base_url(),
        "GET",
        "/api/v1/analytics/funnel?from=2026-02-01&to=2026-01-01",
        Some(&owner),
        None,
    )
    .await;
    assert_eq!((status, backwards["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("to")), "{backwards}");
    let (status, bad) =
        tourdesk_tests::call(&env.base_url(), "GET", "/api/v1/analytics/funnel?from=soon&to=later", Some(&owner), None)
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let guide = tourdesk_tests::sign_in(&env, "guide@demo.tourdesk.test").await;
    let (status, _) = tourdesk_tests::call(
        &env.base_url(),
        "GET",
        "/api/v1/analytics/funnel?from=2026-01-01&to=2026-01-02",
        Some(&guide),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// The first link in `p` whose address starts with `prefix`, as a browser follows it (`&#38;`
/// read as `&`, no fragment).
fn link(p: &Page, prefix: &str) -> String {
    let href = p.between(&format!("href=\"{}", prefix.replace('&', "&#38;")), "\"");
    let href = format!("{prefix}{href}").replace("&#38;", "&");
    href.split('#').next().unwrap().to_string()
}

/// Issue 15 item 5 with issue 16's attribution: a visitor who lands from a campaign
/// (`utm_source`, `utm_medium`, `utm_campaign`) keeps it through the site's own links — listing,
/// tour, calendar, day, checkout — and its form, without any cookie, so the funnel report credits
/// the checkout, its booking and its payment to that source and campaign, not to "direct or
/// unknown". A value that is no campaign name is dropped: never repeated in a page, never recorded.
#[tokio::test]
async fn a_campaign_landing_is_carried_to_checkout_and_the_funnel_credits_the_booking_to_it() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_with(|c| c.stripe.api_base = Some(stripe.uri())).await;
    let owner = tourdesk_tests::sign_in(&env, "owner@demo.tourdesk.test").await;
    let (slug, dep, tier) = bookable(&env, 2).await;
    let dep_id = dep["id"].as_str().unwrap().to_string();
    let day = dep["date"].as_str().unwrap().to_string();
    let tour_id: String =
        env.pg().await.query_one("SELECT tour_id FROM schedules WHERE id = $1", &[&dep_id]).await.unwrap().get(0);

    // A hostile or overlong value is dropped; the valid ones are carried, normalised.
    // `<script>alert(1)</script>`, as an address carries it.
    let evil = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let landing = page(
        &env,
        &format!(
            "/{ORG}?utm_source=Newsletter&utm_medium=email&utm_campaign=Spring+Sale&utm_content={}&utm_term=x",
            evil
        ),
    )
    .await;
    assert_html(&landing, StatusCode::OK);
    let carried = "utm_source=newsletter&#38;utm_medium=email&#38;utm_campaign=spring+sale";
    assert!(landing.body.contains(&format!("/{ORG}/tours/{slug}?{carried}\"")), "{}", landing.body);
    assert!(landing.body.contains(&format!("href=\"/{ORG}?lang=de&#38;{carried}\"")), "the language switch keeps it");
    assert!(!landing.body.contains("utm_content") && !landing.body.contains("alert(1)"), "{}", landing.body);
    assert!(
        landing.body.contains("<input type=\"hidden\" name=\"utm_campaign\" value=\"spring sale\">"),
        "the filter form"
    );
    let canonical = landing.between("<link rel=\"canonical\" href=\"", "\"");
    assert!(!canonical.contains("utm_"), "{canonical}");
    for bad in [format!("/{ORG}?utm_source={}", evil), format!("/{ORG}?utm_source={}", "x".repeat(101))] {
        let p = page(&env, &bad).await;
        assert_html(&p, StatusCode::OK);
        assert!(!p.body.contains("utm_source") && !p.body.contains("alert(1)"), "{bad}: {}", p.body);
    }

    // Listing → tour → calendar → day → checkout, by the pages' own links; no page sets a cookie.
    let tour = page(&env, &link(&landing, &format!("/{ORG}/tours/{slug}?"))).await;
    assert_html(&tour, StatusCode::OK);
    let mut calendar = page(&env, &link(&tour, &format!("/{ORG}/tours/{slug}/dates?"))).await;
    assert_html(&calendar, StatusCode::OK);
    let mut calendars = 2;
    let day_link = format!("/{ORG}/tours/{slug}/dates?month={}&day={day}", &day[..7]);
    if !calendar.body.contains(&day_link.replace('&', "&#38;")) {
        // The departure is next month: "Next month" first.
        calendar = page(&env, &link(&calendar, &format!("/{ORG}/tours/{slug}/dates?month={}&", &day[..7]))).await;
        assert_html(&calendar, StatusCode::OK);
        calendars += 1;
    }
    let on_day = page(&env, &link(&calendar, &day_link)).await;
    assert_html(&on_day, StatusCode::OK);
    let to_checkout = link(&on_day, &format!("/{ORG}/checkout?tour={slug}&date={day}&departure={dep_id}"));
    assert!(to_checkout.ends_with(&carried.replace("&#38;", "&")), "{to_checkout}");
    let checkout = page(&env, &to_checkout).await;
    assert_html(&checkout, StatusCode::OK);
    for p in [&landing, &tour, &calendar, &on_day, &checkout] {
        assert!(p.header("set-cookie").is_empty(), "a page set a cookie");
    }
    // The form carries it on, as hidden fields a browser sends with the rest.
    let mut f = Vec::new();
    for k in ["tour", "date", "departure", "request_id", "utm_source", "utm_medium", "utm_campaign"] {
        f.push((k.to_string(), checkout.input(k)));
    }
    assert_eq!(f[4..].iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>(), ["newsletter", "email", "spring sale"]);
    let request_id = checkout.input("request_id");
    f.extend(form(&[
        (&format!("qty_{}", tier["tier_id"].as_str().unwrap()), "2"),
        ("first_name", "Ada"),
        ("last_name", "Campaign"),
        ("email", "ada.campaign@example.com"),
        ("action", "book"),
    ]));
    let paying = post_form(&env, &format!("/{ORG}/checkout"), &f).await;
    assert_html(&paying, StatusCode::OK);
    let secret = paying.between("data-client-secret=\"", "\"");
    env.deliver_stripe_event(&stripe.succeed(secret.split("_secret_").next().unwrap())).await;

    // The funnel report: the checkout, its booking and its payment under the campaign.
    let today = Utc::now().date_naive();
    let (from, to) = (today - chrono::Duration::days(1), today + chrono::Duration::days(1));
    let path = format!("/api/v1/analytics/funnel-report?from={from}&to={to}");
    let started = std::time::Instant::now();
    let cells = loop {
        let (status, r) = tourdesk_tests::call(&env.base_url(), "GET", &path, Some(&owner), None).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        let cells = r["cells"].as_array().unwrap().clone();
        let step = |i: usize| cells.iter().map(|c| c["steps"][i].as_i64().unwrap()).sum::<i64>();
        // Three listings (the landing, two with bad values), the tour, the calendars; all written.
        if step(0) == 4 + calendars && step(4) == 1 && step(5) == 1 {
            break cells;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the funnel report never counted the booking: {r}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let cell = |tour: Option<&str>, source: &str| {
        cells
            .iter()
            .find(|c| c["tour_id"].as_str() == tour && c["source"] == source)
            .map(|c| (c["campaign"].as_str().unwrap().to_string(), c["steps"].clone()))
    };
    // On the tour: its page, the calendars; the checkout started, booked and paid.
    assert_eq!(
        cell(Some(&tour_id), "newsletter"),
        Some(("spring sale".to_string(), serde_json::json!([1 + calendars, 1, calendars, 1, 1, 1]))),
        "{cells:?}"
    );
    assert_eq!(cell(None, "newsletter"), Some(("spring sale".to_string(), serde_json::json!([1, 0, 0, 0, 0, 0]))));
    let direct_checkouts: i64 =
        cells.iter().filter(|c| c["source"] == "").map(|c| c["steps"][3].as_i64().unwrap()).sum();
    assert_eq!(direct_checkouts, 0, "{cells:?}");
    // The medium is recorded with the checkout's start and its booking.
    let media = env
        .scalar(
            "SELECT count(*) FROM analytics_events WHERE session_id = $1 AND utm_medium = 'email'
               AND utm_source = 'newsletter' AND utm_campaign = 'spring sale'",
            &[&request_id],
        )
        .await;
    assert_eq!(media, 2, "booking.started and booking.created");
}

/// A gift card issued for the test straight into PostgreSQL (the desk's sale is tested in
/// tests/gift_cards.rs): `balance` left of `issued`, expiring at `expires_at`.
async fn gift_card(
    env: &Env,
    code: &str,
    currency: &str,
    issued: i64,
    balance: i64,
    expires_at: Option<chrono::DateTime<Utc>>,
) {
    let pg = env.pg().await;
    let org: String = pg.query_one("SELECT id FROM organizations WHERE slug = $1", &[&ORG]).await.unwrap().get(0);
    pg.execute(
        "INSERT INTO gift_cards (id, organization_id, code, currency, issued_amount, balance, expires_at,
                                 issued_by, issued_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'test', now() - interval '10 days', now() - interval '10 days')",
        &[&uuid::Uuid::new_v4().to_string(), &org, &code, &currency, &issued, &balance, &expires_at],
    )
    .await
    .unwrap();
}

async fn card_balance(env: &Env, code: &str) -> i64 {
    env.pg().await.query_one("SELECT balance FROM gift_cards WHERE code = $1", &[&code]).await.unwrap().get(0)
}

/// What a checkout needs to post: the departure's fields and the first tier's count.
struct Checkout {
    slug: String,
    day: String,
    dep_id: String,
    tier_id: String,
    unit: i64,
    currency: String,
}

impl Checkout {
    async fn new(env: &Env, seats: u64) -> Checkout {
        let (slug, dep, tier) = bookable(env, seats).await;
        Checkout {
            slug,
            day: dep["date"].as_str().unwrap().to_string(),
            dep_id: dep["id"].as_str().unwrap().to_string(),
            tier_id: tier["tier_id"].as_str().unwrap().to_string(),
            unit: tier["price"]["amount_minor"].as_i64().unwrap(),
            currency: tier["price"]["currency"].as_str().unwrap().to_string(),
        }
    }

    /// The form for `qty` of the first tier, booked by `email`, with `extra` fields.
    fn form(&self, request_id: &str, qty: u32, email: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut f = form(&[
            ("tour", &self.slug),
            ("date", &self.day),
            ("departure", &self.dep_id),
            ("request_id", request_id),
            (&format!("qty_{}", self.tier_id), &qty.to_string()),
            ("first_name", "Grace"),
            ("last_name", "Hopper"),
            ("email", email),
        ]);
        for (k, v) in extra {
            f.retain(|(name, _)| name != k);
            f.push((k.to_string(), v.to_string()));
        }
        f
    }
}

fn intents_made(stripe: &FakeStripe) -> usize {
    stripe.requests().iter().filter(|r| r.method == "POST" && r.path == "/v1/payment_intents").count()
}

/// Issue 15 item 1: a gift card at checkout. The live quote shows what the card covers and what
/// is left to pay by card; a card that covers everything confirms the booking with no Stripe
/// payment; one that covers part leaves a PaymentIntent for the rest; a wrong, expired or used-up
/// card is refused beside its field, in German too, and books nothing.
#[tokio::test]
async fn a_gift_card_pays_all_or_part_of_a_checkout_and_a_bad_one_is_refused_beside_its_field() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_with(|c| {
        c.stripe.api_base = Some(stripe.uri());
        c.mail.smtp_url = Some(smtp.url());
    })
    .await;
    let c = Checkout::new(&env, 4).await;
    let total = 2 * c.unit;
    let part = total / 3;
    assert!(part > 0, "{total}");
    gift_card(&env, "FULLCARD0001", &c.currency, total * 2, total * 2, None).await;
    gift_card(&env, "PARTCARD0001", &c.currency, part, part, None).await;
    gift_card(&env, "OLDCARD00001", &c.currency, total, total, Some(Utc::now() - chrono::Duration::days(1))).await;
    gift_card(&env, "SPENTCARD001", &c.currency, total, 0, None).await;
    let path = format!("/{ORG}/checkout");

    // The live quote: what the card covers and what is left to pay by card.
    let rid = uuid::Uuid::new_v4().to_string();
    let quoted = post_form(
        &env,
        &path,
        &c.form(&rid, 2, "gc@example.com", &[("action", "quote"), ("gift_card_code", "part-card-0001")]),
    )
    .await;
    assert_html(&quoted, StatusCode::OK);
    assert!(quoted.body.contains(&format!("data-covered-minor=\"{part}\"")), "{}", quoted.body);
    assert!(quoted.body.contains(&format!("data-remaining-minor=\"{}\"", total - part)), "{}", quoted.body);
    assert!(quoted.body.contains("Left to pay by card"));
    let all = post_form(
        &env,
        &path,
        &c.form(&rid, 2, "gc@example.com", &[("action", "quote"), ("gift_card_code", "FULLCARD0001")]),
    )
    .await;
    assert!(all.body.contains(&format!("data-covered-minor=\"{total}\"")), "{}", all.body);
    assert!(all.body.contains("data-remaining-minor=\"0\""), "{}", all.body);

    // Refusals beside the field, in the customer's language; nothing booked.
    for (code, en, de) in [
        ("NOSUCHCARD01", "We do not know this gift card code.", "Diesen Geschenkkartencode kennen wir nicht."),
        ("OLDCARD00001", "This gift card has expired.", "Diese Geschenkkarte ist abgelaufen."),
        ("SPENTCARD001", "This gift card has been used up.", "Diese Geschenkkarte ist aufgebraucht."),
        (
            "ab",
            "A gift card code has 8 to 24 letters and digits.",
            "Ein Geschenkkartencode hat 8 bis 24 Buchstaben und Ziffern.",
        ),
    ] {
        let q = post_form(
            &env,
            &path,
            &c.form(&rid, 2, "gc@example.com", &[("action", "quote"), ("gift_card_code", code)]),
        )
        .await;
        assert_html(&q, StatusCode::OK);
        assert!(q.body.contains("id=\"gift_card_code-error\"") && q.body.contains(en), "{code}: {}", q.body);
        assert!(q.body.contains("aria-describedby=\"gift_card_code-error\""));
        let de_page = post_form(
            &env,
            &path,
            &c.form(&rid, 2, "gc@example.com", &[("action", "book"), ("gift_card_code", code), ("lang", "de")]),
        )
        .await;
        assert_html(&de_page, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            de_page.body.contains("id=\"gift_card_code-error\"") && de_page.body.contains(de),
            "{code}: {}",
            de_page.body
        );
    }
    assert_eq!(
        env.scalar("SELECT count(*) FROM bookings WHERE id = $1", &[&rid]).await,
        0,
        "a refused card books nothing"
    );
    assert_eq!(card_balance(&env, "SPENTCARD001").await, 0);
    let intents_before = intents_made(&stripe);

    // The whole price on the card: confirmed at once, no PaymentIntent, the redemption in the
    // booking's ledger and the card's balance down by the total.
    let full_id = uuid::Uuid::new_v4().to_string();
    let done = post_form(
        &env,
        &path,
        &c.form(
            &full_id,
            2,
            "full@example.com",
            &[("action", "book"), ("gift_card_code", "full card 0001"), ("expected_total", &total.to_string())],
        ),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.header("location"), format!("/{ORG}/bookings/{full_id}"));
    assert_eq!(intents_made(&stripe), intents_before, "nothing left to pay: no PaymentIntent");
    let pg = env.pg().await;
    let row = pg
        .query_one("SELECT status, payment_status, paid_amount_minor FROM bookings WHERE id = $1", &[&full_id])
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1), row.get::<_, i64>(2)),
        ("confirmed".into(), "paid".into(), total)
    );
    let ledger = pg
        .query("SELECT kind, amount_minor FROM ledger_entries WHERE booking_id = $1 ORDER BY recorded_at", &[&full_id])
        .await
        .unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!((ledger[0].get::<_, String>(0), ledger[0].get::<_, i64>(1)), ("gift_card_redemption".into(), total));
    assert_eq!(card_balance(&env, "FULLCARD0001").await, total);
    assert_eq!(env.scalar("SELECT count(*) FROM payments WHERE booking_id = $1", &[&full_id]).await, 0);
    let confirmed = page(&env, &format!("/{ORG}/bookings/{full_id}")).await;
    assert!(confirmed.body.contains("Your booking is confirmed"), "{}", confirmed.body);
    let mails = smtp.wait_for(1, Duration::from_secs(10)).await;
    assert!(
        mails.iter().any(|m| m.subject.starts_with("Booking confirmed") && m.to[0] == "full@example.com"),
        "{mails:?}"
    );

    // Part of the price on the card: a PaymentIntent for the rest; Stripe's payment confirms.
    let part_id = uuid::Uuid::new_v4().to_string();
    let pay = post_form(
        &env,
        &path,
        &c.form(
            &part_id,
            2,
            "part@example.com",
            &[("action", "book"), ("gift_card_code", "PARTCARD0001"), ("expected_total", &total.to_string())],
        ),
    )
    .await;
    assert_html(&pay, StatusCode::OK);
    let secret = pay.between("data-client-secret=\"", "\"");
    let intent = secret.split("_secret").next().unwrap().to_string();
    assert_eq!(stripe.intent(&intent).unwrap().amount, total - part, "the intent is for what the card left");
    assert_eq!(card_balance(&env, "PARTCARD0001").await, 0);
    let row = pg.query_one("SELECT status, paid_amount_minor FROM bookings WHERE id = $1", &[&part_id]).await.unwrap();
    assert_eq!((row.get::<_, String>(0), row.get::<_, i64>(1)), ("pending".into(), part));
    let waiting = page(&env, &format!("/{ORG}/bookings/{part_id}")).await;
    assert!(waiting.body.contains("http-equiv=\"refresh\""), "the page waits for the card payment: {}", waiting.body);
    env.deliver_stripe_event(&stripe.succeed(&intent)).await;
    let row = pg
        .query_one("SELECT status, payment_status, paid_amount_minor FROM bookings WHERE id = $1", &[&part_id])
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1), row.get::<_, i64>(2)),
        ("confirmed".into(), "paid".into(), total)
    );
    let kinds: Vec<(String, i64)> = pg
        .query("SELECT kind, amount_minor FROM ledger_entries WHERE booking_id = $1 ORDER BY kind", &[&part_id])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert!(
        kinds.contains(&("gift_card_redemption".into(), part))
            && kinds.contains(&("card_payment".into(), total - part)),
        "{kinds:?}"
    );
}

/// Two checkouts racing for the last balance of one card: decided one after the other under the
/// card's lock; one books, the other is refused beside the field and books nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_checkouts_racing_for_a_cards_last_balance_one_is_refused() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_with(|c| c.stripe.api_base = Some(stripe.uri())).await;
    let c = Checkout::new(&env, 4).await;
    let total = 2 * c.unit;
    gift_card(&env, "RACECARD0001", &c.currency, total, total, None).await;
    let path = format!("/{ORG}/checkout");
    let (a, b) = (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string());
    let fa = c.form(&a, 2, "racer-a@example.com", &[("action", "book"), ("gift_card_code", "RACECARD0001")]);
    let fb = c.form(&b, 2, "racer-b@example.com", &[("action", "book"), ("gift_card_code", "RACECARD0001")]);
    let (ra, rb) = tokio::join!(post_form(&env, &path, &fa), post_form(&env, &path, &fb));
    let won: Vec<&Page> = [&ra, &rb].into_iter().filter(|p| p.status == StatusCode::SEE_OTHER).collect();
    let lost: Vec<&Page> = [&ra, &rb].into_iter().filter(|p| p.status == StatusCode::UNPROCESSABLE_ENTITY).collect();
    assert_eq!((won.len(), lost.len()), (1, 1), "{} / {}", ra.body, rb.body);
    assert!(
        lost[0].body.contains("id=\"gift_card_code-error\"") && lost[0].body.contains("used up"),
        "{}",
        lost[0].body
    );
    assert_eq!(card_balance(&env, "RACECARD0001").await, 0);
    assert_eq!(
        env.scalar("SELECT count(*) FROM bookings WHERE id = $1 OR id = $2", &[&a, &b]).await,
        1,
        "the refused checkout books nothing"
    );
    assert_eq!(env.scalar("SELECT count(*) FROM gift_card_movements WHERE kind = 'redemption'", &[]).await, 1);
    assert_eq!(env.scalar("SELECT count(*) FROM ledger_entries WHERE kind = 'gift_card_redemption'", &[]).await, 1);
}

/// Issue 15, participant names: one row of name fields per participant; names are stored on the
/// booking and show on the departure's manifest; a half-filled row is refused beside its field.
#[tokio::test]
async fn participant_names_at_checkout_are_stored_and_on_the_manifest() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_with(|c| c.stripe.api_base = Some(stripe.uri())).await;
    let c = Checkout::new(&env, 3).await;
    let path = format!("/{ORG}/checkout");
    let pf = |n: u32| (format!("pf_{}_{n}", c.tier_id), format!("pl_{}_{n}", c.tier_id));
    let rid = uuid::Uuid::new_v4().to_string();
    let shown = post_form(&env, &path, &c.form(&rid, 3, "names@example.com", &[("action", "quote")])).await;
    assert_html(&shown, StatusCode::OK);
    for n in 0..3 {
        let (f, l) = pf(n);
        assert!(
            shown.body.contains(&format!("id=\"{f}\"")) && shown.body.contains(&format!("id=\"{l}\"")),
            "{}",
            shown.body
        );
    }
    assert!(!shown.body.contains(&format!("id=\"{}\"", pf(3).0)), "one row per participant");
    let de =
        post_form(&env, &path, &c.form(&rid, 1, "names@example.com", &[("action", "quote"), ("lang", "de")])).await;
    assert!(de.body.contains("Namen der Teilnehmer"), "{}", de.body);

    // A first name without its last name: refused beside the blank field, nothing booked.
    let (f0, l0) = pf(0);
    let (f1, l1) = pf(1);
    let half = post_form(
        &env,
        &path,
        &c.form(&rid, 3, "names@example.com", &[("action", "book"), (&f0, "Ada"), (&l0, "Lovelace"), (&f1, "Alan")]),
    )
    .await;
    assert_html(&half, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(half.body.contains(&format!("id=\"{l1}-error\"")), "{}", half.body);
    assert!(half.body.contains("value=\"Ada\"") && half.body.contains("value=\"Alan\""), "what was typed stays");
    // Said in words beside the blank field, not as the API's field path; in German on German pages.
    let said = |p: &Page, field: &str, words: &str| {
        assert!(p.body.contains(&format!("id=\"{field}-error\">{words}</p>")), "{words} beside {field}: {}", p.body);
        assert!(!p.body.contains("participants[") && !p.body.contains("is required"), "{}", p.body);
    };
    said(&half, &l1, "Last name missing.");
    for (typed, blank, words) in [((&f0, "Ada"), &l0, "Nachname fehlt."), ((&l0, "Lovelace"), &f0, "Vorname fehlt.")] {
        let de =
            c.form(&rid, 3, "names@example.com", &[("action", "book"), ("lang", "de"), (typed.0.as_str(), typed.1)]);
        let halb = post_form(&env, &path, &de).await;
        assert_html(&halb, StatusCode::UNPROCESSABLE_ENTITY);
        said(&halb, blank, words);
    }
    assert_eq!(env.scalar("SELECT count(*) FROM bookings WHERE id = $1", &[&rid]).await, 0);

    // Two of three named (names are optional): stored on the booking.
    let booked = post_form(
        &env,
        &path,
        &c.form(
            &rid,
            3,
            "names@example.com",
            &[("action", "book"), (&f0, "Ada"), (&l0, "Lovelace"), (&f1, "Alan"), (&l1, "Turing")],
        ),
    )
    .await;
    assert_html(&booked, StatusCode::OK);
    let pg = env.pg().await;
    let (participants, reference): (Value, String) = {
        let r =
            pg.query_one("SELECT participants, reference_number FROM bookings WHERE id = $1", &[&rid]).await.unwrap();
        (r.get(0), r.get(1))
    };
    let names: Vec<String> = participants
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{} {}", p["first_name"].as_str().unwrap(), p["last_name"].as_str().unwrap()))
        .collect();
    assert_eq!(names, ["Ada Lovelace", "Alan Turing"]);

    let token = tourdesk_tests::sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let csv = http()
        .get(format!("{}/api/v1/departures/{}/manifest?format=csv", env.base_url(), c.dep_id))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.unwrap();
    let mine: Vec<&str> = csv.lines().filter(|l| l.contains(&reference)).collect();
    assert_eq!(mine.len(), 3, "{csv}");
    assert!(mine.iter().any(|l| l.contains("Ada Lovelace")) && mine.iter().any(|l| l.contains("Alan Turing")), "{csv}");
}

/// A checkout part-paid by a gift card whose customer never pays the rest: when its hold runs
/// out, the hold job (driven here with its clock, on two pools at once as two instances would)
/// releases the seats, cancels the booking and gives the card its money back in one movement,
/// with a refund entry on the booking, so both balances add up. A second run changes nothing,
/// and card money that still arrives goes back in full through Stripe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_paid_gift_card_hold_that_runs_out_frees_the_seats_and_gives_the_card_back_once() {
    use tourdesk_sync_server::jobs::holds;
    let stripe = FakeStripe::start().await;
    let env = Env::start_with(|c| {
        c.stripe.api_base = Some(stripe.uri());
        // The test drives the hold job itself; the server's own runner stays out of the way.
        c.booking.jobs_interval_ms = 3_600_000;
    })
    .await;
    let pg = env.pg().await;
    let c = Checkout::new(&env, 2).await;
    let total = 2 * c.unit;
    let part = c.unit;
    gift_card(&env, "HOLDCARD0001", &c.currency, part, part, None).await;
    let seats_before = seats(&pg, &c.dep_id).await;

    let id = uuid::Uuid::new_v4().to_string();
    let pay = post_form(
        &env,
        &format!("/{ORG}/checkout"),
        &c.form(
            &id,
            2,
            "unpaid-rest@example.com",
            &[("action", "book"), ("gift_card_code", "HOLDCARD0001"), ("expected_total", &total.to_string())],
        ),
    )
    .await;
    assert_html(&pay, StatusCode::OK);
    let secret = pay.between("data-client-secret=\"", "\"");
    let intent = secret.split("_secret").next().unwrap().to_string();
    assert_eq!(card_balance(&env, "HOLDCARD0001").await, 0);
    assert_eq!(seats(&pg, &c.dep_id).await, seats_before + 2);

    // The hold runs out a minute ago.
    let hold: chrono::DateTime<Utc> = pg
        .query_one(
            "UPDATE bookings SET hold_expires_at = now() - interval '1 minute' WHERE id = $1 RETURNING hold_expires_at",
            &[&id],
        )
        .await
        .unwrap()
        .get(0);
    let pool_a = tourdesk_sync_server::db::connect(&env.server_config).unwrap();
    let pool_b = tourdesk_sync_server::db::connect(&env.server_config).unwrap();
    let released =
        |runs: Vec<(String, Vec<String>)>| runs.into_iter().flat_map(|(_, b)| b).filter(|b| *b == id).count();
    // Before the hold's end by the job's clock: nothing.
    let early = holds::expire(&pool_a, hold - chrono::Duration::seconds(1)).await.unwrap();
    assert_eq!(released(early), 0);
    assert_eq!(card_balance(&env, "HOLDCARD0001").await, 0);

    // After it, two instances at once: released once.
    let now = Utc::now();
    let (a, b) = tokio::join!(holds::expire(&pool_a, now), holds::expire(&pool_b, now));
    assert_eq!(released(a.unwrap()) + released(b.unwrap()), 1);
    let row = pg
        .query_one(
            "SELECT status, payment_status, paid_amount_minor, refunded_amount_minor FROM bookings WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1), row.get::<_, i64>(2), row.get::<_, i64>(3)),
        ("cancelled".into(), "refunded".into(), part, part)
    );
    assert_eq!(seats(&pg, &c.dep_id).await, seats_before, "the seats are free again");
    assert_eq!(card_balance(&env, "HOLDCARD0001").await, part, "the card has its balance back");
    let after = moves(&pg).await;
    assert_eq!(
        after,
        [("redemption".to_string(), part, 0, Some(id.clone())), ("refund".to_string(), part, part, Some(id.clone()))]
    );
    assert_eq!(ledger_of(&pg, &id).await, [("gift_card_redemption".to_string(), part), ("refund".to_string(), part)]);

    // Again: nothing moves.
    let again = holds::expire(&pool_a, Utc::now()).await.unwrap();
    assert_eq!(released(again), 0);
    assert_eq!(card_balance(&env, "HOLDCARD0001").await, part);
    assert_eq!(moves(&pg).await, after);
    assert_eq!(seats(&pg, &c.dep_id).await, seats_before);

    // The card payment arrives anyway: the booking stays cancelled, Stripe's money goes back in
    // full, and the card keeps what it got back.
    env.deliver_stripe_event(&stripe.succeed(&intent)).await;
    let refund = stripe.requests().into_iter().find(|r| r.path == "/v1/refunds");
    let refunded_by_stripe = match refund {
        Some(r) => r.field("amount").map(str::to_string),
        // The refund is queued in the webhook's transaction and sent by the refunds job.
        None => pg
            .query_one("SELECT amount_minor FROM refunds WHERE booking_id = $1", &[&id])
            .await
            .map(|r| r.get::<_, i64>(0).to_string())
            .ok(),
    };
    assert_eq!(refunded_by_stripe, Some((total - part).to_string()));
    let status: String = pg.query_one("SELECT status FROM bookings WHERE id = $1", &[&id]).await.unwrap().get(0);
    assert_eq!(status, "cancelled", "late money does not bring the booking back");
    assert_eq!(card_balance(&env, "HOLDCARD0001").await, part);
}

async fn seats(pg: &tokio_postgres::Client, dep: &str) -> i32 {
    pg.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&dep]).await.unwrap().get(0)
}

/// The movements of card HOLDCARD0001: kind, amount, balance after, booking.
async fn moves(pg: &tokio_postgres::Client) -> Vec<(String, i64, i64, Option<String>)> {
    pg.query(
        "SELECT m.kind, m.amount_minor, m.balance_after, m.booking_id FROM gift_card_movements m
         JOIN gift_cards g ON g.id = m.gift_card_id WHERE g.code = 'HOLDCARD0001' ORDER BY m.recorded_at, m.kind",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect()
}

async fn ledger_of(pg: &tokio_postgres::Client, booking: &str) -> Vec<(String, i64)> {
    pg.query("SELECT kind, amount_minor FROM ledger_entries WHERE booking_id = $1 ORDER BY kind", &[&booking])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

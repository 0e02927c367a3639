//! Rescheduling from the manage page (issue 15), as a browser without JavaScript would: the
//! dates offered, the price of the chosen one (decided and rolled back), the move confirmed,
//! audited and the seats moved; a date sold out meanwhile is refused beside the choice and
//! nothing changes.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_testkit::stripe::FakeStripe;
use tourdesk_tests::Env;

const ORG: &str = demo_data::DEMO_ORG_SLUG;

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn body(r: reqwest::RequestBuilder) -> (StatusCode, String) {
    let r = r.send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

fn options(html: &str) -> Vec<String> {
    html.split("<option value=\"").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect()
}

async fn booked(env: &Env, dep: &str) -> i64 {
    env.scalar("SELECT booked_count::bigint FROM schedules WHERE id = $1", &[&dep]).await
}

#[tokio::test]
async fn a_customer_reschedules_from_the_manage_page_and_a_sold_out_date_is_refused() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_with(|c| {
        c.stripe.api_base = Some(stripe.uri());
        c.mail.smtp_url = Some(smtp.url());
    })
    .await;
    // A departure three days out or more with a free seat.
    let from: String = env
        .pg()
        .await
        .query_one(
            "SELECT s.id FROM schedules s JOIN tours t ON t.id = s.tour_id
             WHERE t.status = 'active' AND s.status = 'open' AND s.booked_count < s.capacity
               AND s.starts_at > now() + interval '3 days' AND s.starts_at < now() + interval '20 days'
             ORDER BY s.starts_at, s.id LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let tier: String = env
        .pg()
        .await
        .query_one(
            "SELECT p.id FROM pricing_tiers p JOIN schedules s ON s.tour_id = p.tour_id WHERE s.id = $1
             ORDER BY p.is_default DESC, p.sort_order, p.id LIMIT 1",
            &[&from],
        )
        .await
        .unwrap()
        .get(0);
    let created: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/orgs/{ORG}/bookings", env.base_url()))
        .json(&json!({
            "request_id": uuid::Uuid::new_v4().to_string(),
            "departure_id": from,
            "customer": {"email": "rey@example.com", "first_name": "Rey", "last_name": "Later"},
            "lines": [{"tier_id": tier, "quantity": 1}],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let booking_id = created["booking"]["id"].as_str().unwrap_or_else(|| panic!("{created}")).to_string();
    let reference = created["booking"]["reference"].as_str().unwrap().to_string();
    let event = stripe.succeed(created["payment"]["payment_intent_id"].as_str().unwrap());
    env.deliver_stripe_event(&event).await;

    // The manage link, exchanged for the session cookie.
    let (status, _) = body(
        http()
            .post(format!("{}/{ORG}/manage", env.base_url()))
            .form(&[("reference", reference.as_str()), ("email", "rey@example.com")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mails = smtp.wait_for(2, Duration::from_secs(10)).await;
    let link = mails.iter().find(|m| m.subject.starts_with("Manage your booking")).unwrap();
    let token = link.text.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let opened = http().get(format!("{}/manage?token={token}", env.base_url())).send().await.unwrap();
    let cookie = opened.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let get = || http().get(format!("{}/manage", env.base_url())).header("cookie", &cookie);
    let post = |form: Vec<(&'static str, String)>| {
        http().post(format!("{}/manage/move", env.base_url())).header("cookie", &cookie).form(&form)
    };

    // The dates offered: the tour's other departures with room, never the booking's own.
    let (status, managed) = body(get()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(managed.contains("Change the date") && managed.contains("id=\"move-to\""), "{managed}");
    let offered = options(&managed);
    assert!(offered.len() >= 2 && !offered.contains(&from), "{offered:?}");
    // Two dates more than four days out, so that moving on from the first is still within the
    // policy's free-change window.
    let mut later = Vec::new();
    for id in &offered {
        let far = env
            .scalar("SELECT count(*) FROM schedules WHERE id = $1 AND starts_at > now() + interval '4 days'", &[id])
            .await;
        if far == 1 {
            later.push(id.clone());
        }
    }
    assert!(later.len() >= 2, "{offered:?}");
    let (to, sold_out) = (later[0].clone(), later[1].clone());

    // The price first: shown, nothing written.
    let (status, preview) = body(post(vec![("to", to.clone())])).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert!(preview.contains("class=\"move-preview\""), "{preview}");
    assert!(
        preview.contains("The price stays the same.")
            || preview.contains("You pay the difference:")
            || preview.contains("You get back:")
    );
    assert_eq!(env.scalar("SELECT count(*) FROM audit_logs WHERE action = 'booking.moved'", &[]).await, 0);
    let before = (booked(&env, &from).await, booked(&env, &to).await);

    // Confirmed: moved, seats with it, audited as the website's.
    let (status, moved) = body(post(vec![("to", to.clone()), ("confirm", "yes".into())])).await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert!(moved.contains("Your booking is moved to the new date."), "{moved}");
    let on: String = env
        .pg()
        .await
        .query_one("SELECT departure_id FROM bookings WHERE id = $1", &[&booking_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(on, to);
    assert_eq!((booked(&env, &from).await, booked(&env, &to).await), (before.0 - 1, before.1 + 1));
    assert_eq!(
        env.scalar("SELECT count(*) FROM audit_logs WHERE action = 'booking.moved' AND entity_id = $1", &[&booking_id])
            .await,
        1
    );

    // A date that sold out since the page was shown: refused beside the choice, nothing changes.
    env.pg().await.execute("UPDATE schedules SET booked_count = capacity WHERE id = $1", &[&sold_out]).await.unwrap();
    let (status, refused) = body(post(vec![("to", sold_out.clone()), ("confirm", "yes".into())])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.contains("id=\"move-error\""), "{refused}");
    assert!(refused.to_lowercase().contains("sold out"), "{refused}");
    let on: String = env
        .pg()
        .await
        .query_one("SELECT departure_id FROM bookings WHERE id = $1", &[&booking_id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(on, to);
    assert_eq!(env.scalar("SELECT count(*) FROM audit_logs WHERE action = 'booking.moved'", &[]).await, 1);

    // In German too.
    let (_, de) = body(http().get(format!("{}/manage?lang=de", env.base_url())).header("cookie", &cookie)).await;
    assert!(de.contains("Datum ändern"), "{de}");
}

/// A manage session for a booking made and paid on the public API: `(booking id, cookie)`.
async fn paid_booking_session(
    env: &Env,
    stripe: &FakeStripe,
    smtp: &SmtpSink,
    dep: &str,
    email: &str,
) -> (String, String) {
    let tier: String = env
        .pg()
        .await
        .query_one(
            "SELECT p.id FROM pricing_tiers p JOIN schedules s ON s.tour_id = p.tour_id WHERE s.id = $1
             ORDER BY p.is_default DESC, p.sort_order, p.id LIMIT 1",
            &[&dep],
        )
        .await
        .unwrap()
        .get(0);
    let created: Value = reqwest::Client::new()
        .post(format!("{}/api/v1/orgs/{ORG}/bookings", env.base_url()))
        .json(&json!({
            "request_id": uuid::Uuid::new_v4().to_string(),
            "departure_id": dep,
            "customer": {"email": email, "first_name": "Bal", "last_name": "Ance"},
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
    let before = smtp.messages().len();
    let (status, _) = body(
        http()
            .post(format!("{}/{ORG}/manage", env.base_url()))
            .form(&[("reference", reference.as_str()), ("email", email)]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let mails = smtp.wait_for(before + 1, Duration::from_secs(10)).await;
    let link = mails.iter().rev().find(|m| m.subject.starts_with("Manage your booking")).unwrap();
    let token = link.text.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let opened = http().get(format!("{}/manage?token={token}", env.base_url())).send().await.unwrap();
    let cookie = opened.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    (booking_id, cookie)
}

fn client_secret(html: &str) -> String {
    html.split("data-client-secret=\"")
        .nth(1)
        .unwrap_or_else(|| panic!("{html}"))
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_balance_left_by_a_dearer_date_is_paid_online_as_its_own_payment() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_with(|c| {
        c.stripe.api_base = Some(stripe.uri());
        c.mail.smtp_url = Some(smtp.url());
    })
    .await;
    // Two departures of one tour more than four days out with room for two.
    let (from, to, tour, to_date) = env.two_later_dates().await;
    let (booking_id, cookie) = paid_booking_session(&env, &stripe, &smtp, &from, "bal@example.com").await;
    let paid_first = env.scalar("SELECT paid_amount_minor FROM bookings WHERE id = $1", &[&booking_id]).await;
    assert!(paid_first > 0);
    // The later date is in a dearer season: half as much again.
    env.pg()
        .await
        .execute(
            "INSERT INTO seasonal_pricing (id, organization_id, tour_id, name, start_date, end_date, adjustment_type,
                                           adjustment_value)
             SELECT 'season-peak', organization_id, id, 'Peak', $2::text::date, $2::text::date, 'percentage', 5000
             FROM tours WHERE id = $1",
            &[&tour, &to_date],
        )
        .await
        .unwrap();
    let get = |q: &str| http().get(format!("{}/manage{q}", env.base_url())).header("cookie", &cookie);
    let pay =
        || http().post(format!("{}/manage/pay", env.base_url())).header("cookie", &cookie).form(&[("lang", "en")]);

    // Nothing owed yet: no balance section, and paying is refused in words, not a 5xx.
    let (_, managed) = body(get("")).await;
    assert!(!managed.contains("id=\"pay-balance\""), "{managed}");
    let (status, refused) = body(pay()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.contains("This booking has nothing left to pay."), "{refused}");

    // Moved to the dearer date: the difference is the balance due.
    let (status, moved) = body(
        http()
            .post(format!("{}/manage/move", env.base_url()))
            .header("cookie", &cookie)
            .form(&[("to", to.as_str()), ("confirm", "yes")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let total = env.scalar("SELECT total_minor FROM bookings WHERE id = $1", &[&booking_id]).await;
    assert!(total > paid_first, "the season's price: {total} after {paid_first}");
    assert!(moved.contains("id=\"pay-balance\"") && moved.contains("class=\"balance-due\""), "{moved}");

    // Paying: one payment row and one PaymentIntent for the balance, however often it is asked.
    let (status, page) = body(pay()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let secret = client_secret(&page);
    let (_, again) = body(pay()).await;
    assert_eq!(client_secret(&again), secret, "the same intent while the balance is the same");
    let intent = secret.split("_secret_").next().unwrap().to_string();
    assert_eq!(stripe.intent(&intent).unwrap().amount, total - paid_first);
    assert_eq!(env.scalar("SELECT count(*) FROM payments WHERE booking_id = $1", &[&booking_id]).await, 2);

    // Stripe's event, delivered twice: the balance row is settled once, the first row untouched.
    let event = stripe.succeed(&intent);
    env.deliver_stripe_event(&event).await;
    env.deliver_stripe_event(&event).await;
    let rows = env
        .pg()
        .await
        .query(
            "SELECT amount_received_minor, status FROM payments WHERE booking_id = $1 ORDER BY created_at, id",
            &[&booking_id],
        )
        .await
        .unwrap();
    let settled: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(settled, vec![(paid_first, "succeeded".to_string()), (total - paid_first, "succeeded".to_string())]);
    // The ledger has one card entry per PaymentIntent; they add up to the price.
    let card = env
        .scalar(
            "SELECT coalesce(sum(amount_minor), 0)::bigint FROM ledger_entries WHERE booking_id = $1 AND kind = 'card_payment'",
            &[&booking_id],
        )
        .await;
    let entries = env
        .scalar("SELECT count(*) FROM ledger_entries WHERE booking_id = $1 AND kind = 'card_payment'", &[&booking_id])
        .await;
    assert_eq!((card, entries), (total, 2));
    let row = env
        .pg()
        .await
        .query_one("SELECT paid_amount_minor, payment_status, status FROM bookings WHERE id = $1", &[&booking_id])
        .await
        .unwrap();
    let (paid, payment_status, status): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
    // Still the moved booking it was (`modified`), now paid in full.
    assert_eq!((paid, payment_status.as_str(), status.as_str()), (total, "paid", "modified"));

    // Back from Stripe: the address is cleaned, and the page says it is paid.
    let back =
        get(&format!("?payment_intent={intent}&payment_intent_client_secret={secret}&redirect_status=succeeded"))
            .send()
            .await
            .unwrap();
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(back.headers()["location"], "/manage?paid=1");
    let (_, done) = body(get("?paid=1")).await;
    assert!(done.contains("Thank you: your booking is paid in full."), "{done}");
    assert!(!done.contains("id=\"pay-balance\"") && !done.contains("http-equiv=\"refresh\""), "{done}");
    let (status, _) = body(pay()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

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

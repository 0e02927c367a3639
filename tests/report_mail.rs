//! Scheduled report e-mails (issue 16) against the real server, PostgreSQL and an SMTP sink: a
//! daily sales summary goes once to each recipient with the figures PostgreSQL gives for the
//! organization's local yesterday, not again on a later pass or from a second server instance;
//! the routes refuse bad input at its field and anyone without the reports permission.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tourdesk_domain::money::{Currency, Money};
use tourdesk_domain::reports;
use tourdesk_sync_server::demo_data;
use tourdesk_sync_server::jobs::report_mail;
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_tests::{Env, Fakes};

async fn token(env: &Env, email: &str) -> String {
    let body = json!({"organization": demo_data::DEMO_ORG_SLUG, "email": email, "password": demo_data::DEMO_PASSWORD,
                      "device": "test"});
    let (status, v) = tourdesk_tests::call(&env.base_url(), "POST", "/api/v1/auth/sign-in", None, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["access_token"].as_str().unwrap().to_string()
}

async fn call(env: &Env, method: &str, path: &str, token: &str, body: Option<Value>) -> (StatusCode, Value) {
    tourdesk_tests::call(&env.base_url(), method, path, Some(token), body).await
}

/// A zone whose date differs from UTC's right now (UTC+14 from 10:00 UTC, UTC-11 before 11:00), so
/// the organization's yesterday is not UTC's whenever the test runs.
fn zone_off_utc_date() -> &'static str {
    use chrono::Timelike;
    if chrono::Utc::now().hour() >= 10 { "Pacific/Kiritimati" } else { "Pacific/Pago_Pago" }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daily_summary_goes_once_to_each_recipient_with_postgres_figures_for_the_local_yesterday() {
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { smtp: Some(&smtp), ..Fakes::default() }).await;
    let pg = env.pg().await;
    let zone = zone_off_utc_date();
    pg.execute("UPDATE organizations SET timezone = $1 WHERE slug = $2", &[&zone, &demo_data::DEMO_ORG_SLUG])
        .await
        .unwrap();
    // Three demo sales moved to noon of the zone's yesterday: the
    // period has figures whatever day the test runs.
    let day: chrono::NaiveDate =
        pg.query_one("SELECT ((now() AT TIME ZONE $1)::date - 1)", &[&zone]).await.unwrap().get(0);
    let utc_yesterday: chrono::NaiveDate =
        pg.query_one("SELECT ((now() AT TIME ZONE 'UTC')::date - 1)", &[]).await.unwrap().get(0);
    assert_ne!(day, utc_yesterday, "the zone's yesterday is another day than UTC's");
    pg.execute(
        "UPDATE bookings SET created_at = ($1::date + time '12:00') AT TIME ZONE $2
         WHERE id IN (SELECT id FROM bookings WHERE status IN ('confirmed', 'modified') ORDER BY id LIMIT 3)",
        &[&day, &zone],
    )
    .await
    .unwrap();
    let manager: String = pg
        .query_one("SELECT id FROM staff_users WHERE email = $1", &[&demo_data::DEMO_MANAGER_EMAIL])
        .await
        .unwrap()
        .get(0);

    let owner = token(&env, demo_data::DEMO_OWNER_EMAIL).await;
    let (status, v) = call(&env, "POST", "/api/v1/report-schedules", &owner,
        Some(json!({"kind": "daily_sales", "recipient_roles": ["owner"], "recipient_user_ids": [manager], "send_hour": 0})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");

    // Two instances' passes at once (plus the server's own runner): one claim wins.
    let pool_a = tourdesk_sync_server::db::connect(&env.server_config).unwrap();
    let pool_b = tourdesk_sync_server::db::connect(&env.server_config).unwrap();
    let now = chrono::Utc::now();
    let (a, b) = tokio::join!(report_mail::queue_due(&pool_a, now), report_mail::queue_due(&pool_b, now));
    assert!(a.unwrap() + b.unwrap() <= 2);
    let mails = smtp.wait_for(2, Duration::from_secs(20)).await;
    // A later pass (this or another instance) sends nothing more.
    assert_eq!(report_mail::queue_due(&pool_a, chrono::Utc::now()).await.unwrap(), 0);
    assert_eq!(report_mail::queue_due(&pool_b, chrono::Utc::now()).await.unwrap(), 0);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mails_now = smtp.messages();
    assert_eq!(mails_now.len(), 2, "{mails_now:#?}");
    let mut to: Vec<String> = mails.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(to, [demo_data::DEMO_MANAGER_EMAIL, demo_data::DEMO_OWNER_EMAIL]);
    let rows = env.scalar("SELECT count(*) FROM communications WHERE type = 'scheduled_report'", &[]).await;
    assert_eq!(rows, 2);
    let staff_rows = env
        .scalar(
            "SELECT count(*) FROM communications WHERE type = 'scheduled_report' AND staff_user_id IS NOT NULL",
            &[],
        )
        .await;
    assert_eq!(staff_rows, 2);
    let sent_for: Option<chrono::NaiveDate> =
        pg.query_one("SELECT last_sent_for FROM report_schedules", &[]).await.unwrap().get(0);
    assert_eq!(sent_for, Some(day), "the organization's yesterday, not UTC's");

    // The figures, by independent SQL: the zone's day as two instants, discounts summed here.
    let expected = pg
        .query(
            "SELECT b.currency, count(*), sum(b.participant_count)::bigint,
                    sum(b.subtotal_minor)::bigint - coalesce(sum((SELECT sum((d->'amount'->>'amount')::bigint)
                        FROM jsonb_array_elements(b.pricing->'discounts') d)), 0)::bigint
             FROM bookings b JOIN organizations o ON o.id = b.organization_id
             WHERE o.slug = $1 AND b.status <> 'pending' AND NOT (b.status = 'cancelled' AND b.paid_amount_minor = 0)
               AND b.created_at >= ($2::date + time '00:00') AT TIME ZONE $3
               AND b.created_at < ($2::date + 1 + time '00:00') AT TIME ZONE $3
             GROUP BY 1 ORDER BY 1",
            &[&demo_data::DEMO_ORG_SLUG, &day, &zone],
        )
        .await
        .unwrap();
    assert!(!expected.is_empty());
    let text = &mails[0].text;
    assert_eq!(text, &mails[1].text);
    assert!(mails[0].subject.starts_with("Daily sales summary"), "{}", mails[0].subject);
    let mut seen = 0;
    for r in &expected {
        let (currency, n, seats, revenue): (String, i64, i64, i64) = (r.get(0), r.get(1), r.get(2), r.get(3));
        seen += n;
        let amount = reports::decimal(&Money::new(revenue, Currency::parse(&currency).unwrap()));
        let block = format!("{currency}\n  Bookings made: {n}\n  Seats: {seats}\n  Revenue: {amount} {currency}\n");
        assert!(text.contains(&block), "{block:?} not in {text}");
    }
    assert!(seen >= 3, "the three sales moved to yesterday are counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_schedules_are_refused_at_their_field_and_only_owners_and_admins_may_schedule() {
    let env = Env::start().await;
    let owner = token(&env, demo_data::DEMO_OWNER_EMAIL).await;
    let path = "/api/v1/report-schedules";
    let cases = [
        (json!({"kind": "hourly", "recipient_roles": ["owner"], "send_hour": 7}), "kind"),
        (json!({"kind": "daily_sales", "recipient_roles": ["owner"], "send_hour": 24}), "send_hour"),
        (json!({"kind": "daily_sales", "recipient_roles": ["owner"], "send_hour": -1}), "send_hour"),
        (json!({"kind": "daily_sales", "recipient_roles": ["customer"], "send_hour": 7}), "recipient_roles"),
        (json!({"kind": "daily_sales", "recipient_user_ids": ["nobody"], "send_hour": 7}), "recipient_user_ids"),
        (json!({"kind": "daily_sales", "send_hour": 7}), "recipient_user_ids"),
    ];
    for (body, field) in cases {
        let (status, v) = call(&env, "POST", path, &owner, Some(body.clone())).await;
        assert_eq!((status, v["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some(field)), "{body} → {v}");
        assert!(v["code"].is_string() && v["message"].is_string(), "{v}");
    }
    assert_eq!(env.scalar("SELECT count(*) FROM report_schedules", &[]).await, 0, "nothing half-saved");

    for who in [demo_data::DEMO_GUIDE_EMAIL, demo_data::DEMO_MANAGER_EMAIL] {
        let t = token(&env, who).await;
        let body = json!({"kind": "weekly_sales", "recipient_roles": ["owner"], "send_hour": 7});
        let (status, v) = call(&env, "POST", path, &t, Some(body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {v}");
        let (status, _) = call(&env, "GET", path, &t, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
    }

    let (status, v) = call(
        &env,
        "POST",
        path,
        &owner,
        Some(json!({"kind": "weekly_sales", "recipient_roles": ["admin", "owner", "owner"], "send_hour": 7})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["recipient_roles"], json!(["admin", "owner"]));
    let id = v["id"].as_str().unwrap().to_string();
    let (status, list) = call(&env, "GET", path, &owner, None).await;
    assert_eq!((status, list.as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{list}");
    let (status, _) = call(&env, "DELETE", &format!("{path}/{id}"), &owner, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&env, "DELETE", &format!("{path}/{id}"), &owner, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

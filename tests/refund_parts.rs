//! Refunds of a booking paid through two PaymentIntents (issue 15): the checkout's, then the
//! manage page's "pay the balance" after a change raised the price. Against a real server,
//! PostgreSQL and the fake Stripe: the refunds job asks one refund per PaymentIntent, newest
//! first, each within what that intent took, under a key per (refund, intent); a retried job
//! refunds nothing twice; a part Stripe refuses is asked again under a new key and the booking
//! ends refunded in full, its money adding up (balance = total − paid + refunded).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tourdesk_domain::ipc::{ModifyBooking, ModifyLine};
use tourdesk_local_store::Store;
use tourdesk_local_store::sync::SyncClient;
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_testkit::stripe::FakeStripe;
use tourdesk_tests::{Env, Fakes, empty_departure, m, paid_website_booking, synced_desk};

const ORG: &str = demo_data::DEMO_ORG_SLUG;

/// A booking paid through two PaymentIntents, with a desk that knows it.
struct TwoIntents {
    booking: String,
    departure: String,
    tier: String,
    /// The checkout's intent: two seats.
    checkout: String,
    /// The balance's intent: the third seat, added at the desk and paid on the manage page.
    balance: String,
    seat: i64,
    desk: Store,
    client: SyncClient,
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The refunds asked of the fake Stripe, in order: (idempotency key, PaymentIntent, amount).
fn refunds_asked(stripe: &FakeStripe) -> Vec<(String, String, i64)> {
    stripe
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/refunds" && r.method == "POST")
        .map(|r| {
            (
                r.idempotency_key.clone().unwrap_or_default(),
                r.field("payment_intent").unwrap_or_default().to_string(),
                r.field("amount").unwrap().parse().unwrap(),
            )
        })
        .collect()
}

/// What Stripe holds as refunded on an intent's charge: (cumulative amount, number of refunds).
fn refunded_at_stripe(stripe: &FakeStripe, intent: &str) -> (i64, usize) {
    let event: Value = serde_json::from_str(&stripe.refund_event(intent)).unwrap();
    let charge = &event["data"]["object"];
    (charge["amount_refunded"].as_i64().unwrap(), charge["refunds"]["data"].as_array().unwrap().len())
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn text(env: &Env, sql: &str, booking: &str) -> String {
    env.pg().await.query_one(sql, &[&booking]).await.unwrap().get(0)
}

async fn two_intent_booking(env: &Env, stripe: &FakeStripe, smtp: &SmtpSink, email: &str) -> TwoIntents {
    let (departure, _tour, tier) = empty_departure(env).await;
    let (booking, paid) = paid_website_booking(env, stripe, &departure, &tier, email, 2).await;
    let seat = paid / 2;
    let checkout: String =
        text(env, "SELECT stripe_payment_intent_id FROM payments WHERE booking_id = $1", &booking).await;

    // A third seat added at the desk: a seat's balance due.
    let (desk, client) = synced_desk(env, "front", demo_data::DEMO_MANAGER_EMAIL).await;
    let mut up = ModifyBooking {
        booking_id: booking.clone(),
        lines: vec![ModifyLine { tier_id: tier.clone(), quantity: 3 }],
        promo_code: None,
        manual_discount: None,
        manual_discount_reason: None,
        reason: Some("One more joins".into()),
        expected_total: None,
    };
    up.expected_total = Some(desk.modify_preview(&up).unwrap().money.new_total);
    desk.modify_booking(&up).unwrap();
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());

    // The customer pays it from the manage page: a second PaymentIntent.
    let reference = text(env, "SELECT reference_number FROM bookings WHERE id = $1", &booking).await;
    let before = smtp.messages().len();
    let r = http()
        .post(format!("{}/{ORG}/manage", env.base_url()))
        .form(&[("reference", reference.as_str()), ("email", email)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mails = smtp.wait_for(before + 1, Duration::from_secs(10)).await;
    let link = mails.iter().rev().find(|m| m.subject.starts_with("Manage your booking")).unwrap();
    let token = link.text.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    let opened = http().get(format!("{}/manage?token={token}", env.base_url())).send().await.unwrap();
    let cookie = opened.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let page = http()
        .post(format!("{}/manage/pay", env.base_url()))
        .header("cookie", &cookie)
        .form(&[("lang", "en")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let secret = page.split("data-client-secret=\"").nth(1).unwrap_or_else(|| panic!("{page}")).split('"').next();
    let balance = secret.unwrap().split("_secret_").next().unwrap().to_string();
    assert_ne!(balance, checkout);
    assert_eq!(stripe.intent(&balance).unwrap().amount, seat);
    env.deliver_stripe_event(&stripe.succeed(&balance)).await;
    let paid_now = env.scalar("SELECT paid_amount_minor FROM bookings WHERE id = $1", &[&booking]).await;
    assert_eq!(paid_now, 3 * seat, "paid through two intents");
    client.sync_once(&desk).await.unwrap();
    TwoIntents { booking, departure, tier, checkout, balance, seat, desk, client }
}

/// Calls the departure off from the desk: every booking on it gets back all it paid.
async fn cancel_departure(b: &TwoIntents) {
    b.desk.mutate(&m("cancel_departure.v1", json!({"departure_id": b.departure, "reason": "Storm warning"}))).unwrap();
    b.client.sync_once(&b.desk).await.unwrap();
    assert!(b.desk.rejections().unwrap().is_empty(), "{:?}", b.desk.rejections().unwrap());
}

/// The booking's money on the server: (total, paid, refunded, payment status) and each payment's
/// (received, refunded), oldest first.
async fn money(env: &Env, booking: &str) -> ((i64, i64, i64, String), Vec<(i64, i64)>) {
    let pg = env.pg().await;
    let b = pg
        .query_one(
            "SELECT total_minor, paid_amount_minor, refunded_amount_minor, payment_status FROM bookings WHERE id = $1",
            &[&booking],
        )
        .await
        .unwrap();
    let payments = pg
        .query(
            "SELECT amount_received_minor, amount_refunded_minor FROM payments WHERE booking_id = $1
             ORDER BY created_at, id",
            &[&booking],
        )
        .await
        .unwrap();
    ((b.get(0), b.get(1), b.get(2), b.get(3)), payments.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Stripe's `charge.refunded` for both intents, as Stripe would send them.
async fn stripe_reports_the_refunds(env: &Env, stripe: &FakeStripe, b: &TwoIntents) {
    for intent in [&b.balance, &b.checkout] {
        env.deliver_stripe_event(&stripe.refund_event(intent)).await;
    }
}

async fn refund_status(env: &Env, booking: &str) -> String {
    text(env, "SELECT status FROM refunds WHERE booking_id = $1", booking).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_paid_through_two_intents_is_refunded_through_both_once() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), smtp: Some(&smtp), ..Fakes::default() }).await;
    let b = two_intent_booking(&env, &stripe, &smtp, "two@example.com").await;
    let seat = b.seat;

    cancel_departure(&b).await;
    wait_until("the refund settled", async || refund_status(&env, &b.booking).await == "succeeded").await;
    // One refund per intent, the newest first, each what that intent took: the first under the
    // refund's own key, the second under its key and the intent's.
    let key = format!("refund-{}", b.booking);
    let expected =
        vec![(key.clone(), b.balance.clone(), seat), (format!("{key}/{}", b.checkout), b.checkout.clone(), 2 * seat)];
    assert_eq!(refunds_asked(&stripe), expected);
    assert_eq!(refunded_at_stripe(&stripe, &b.balance), (seat, 1));
    assert_eq!(refunded_at_stripe(&stripe, &b.checkout), (2 * seat, 1));

    // More passes of the job ask nothing more.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(refunds_asked(&stripe).len(), 2);

    // A job that died after Stripe answered but before its commit asks again: the same parts
    // under the same keys, so Stripe answers from its keys and refunds nothing a third time.
    let pg = env.pg().await;
    pg.execute(
        "UPDATE refund_parts SET status = 'queued', stripe_refund_id = NULL
         WHERE refund_id = (SELECT id FROM refunds WHERE booking_id = $1)",
        &[&b.booking],
    )
    .await
    .unwrap();
    pg.execute("UPDATE refunds SET status = 'queued', stripe_refund_id = NULL WHERE booking_id = $1", &[&b.booking])
        .await
        .unwrap();
    wait_until("the refund settled again", async || refund_status(&env, &b.booking).await == "succeeded").await;
    let asked = refunds_asked(&stripe);
    assert_eq!(asked.len(), 4, "{asked:?}");
    assert_eq!(asked[2..], expected[..], "the same requests, under the same keys");
    assert_eq!(refunded_at_stripe(&stripe, &b.balance), (seat, 1), "no third refund");
    assert_eq!(refunded_at_stripe(&stripe, &b.checkout), (2 * seat, 1), "no third refund");

    // Stripe's webhook accounts for each intent on its own row; the booking adds up.
    stripe_reports_the_refunds(&env, &stripe, &b).await;
    let ((total, paid, refunded, status), payments) = money(&env, &b.booking).await;
    assert_eq!(payments, vec![(2 * seat, 2 * seat), (seat, seat)]);
    assert_eq!((paid, refunded, status.as_str()), (3 * seat, 3 * seat, "refunded"));
    assert_eq!(total - paid + refunded, total, "nothing kept: the balance is the price again");
    let parts = env
        .scalar(
            "SELECT count(*) FROM refund_parts p JOIN refunds r ON r.id = p.refund_id
             WHERE r.booking_id = $1 AND p.status = 'succeeded' AND p.stripe_refund_id IS NOT NULL",
            &[&b.booking],
        )
        .await;
    assert_eq!(parts, 2);
    let card_refunds = env
        .scalar(
            "SELECT coalesce(sum(amount_minor), 0)::bigint FROM ledger_entries WHERE booking_id = $1 AND kind = 'refund'",
            &[&b.booking],
        )
        .await;
    assert_eq!(card_refunds, 3 * seat, "the ledger's refunds, one entry per intent, add up");
    // The customer heard of the refund once, however often it was asked.
    let told = env
        .scalar("SELECT count(*) FROM communications WHERE booking_id = $1 AND type = 'refund'", &[&b.booking])
        .await;
    assert_eq!(told, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_stripe_refuses_is_asked_again_under_a_new_key_and_the_booking_ends_refunded() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), smtp: Some(&smtp), ..Fakes::default() }).await;
    let b = two_intent_booking(&env, &stripe, &smtp, "refused@example.com").await;
    let seat = b.seat;
    // Stripe refuses the older intent's refund once (the account cannot cover it just now).
    stripe.refuse_refunds_of(&b.checkout, 1);

    cancel_departure(&b).await;
    let refused = || async {
        env.scalar(
            "SELECT count(*) FROM refund_parts p JOIN refunds r ON r.id = p.refund_id
             WHERE r.booking_id = $1 AND p.status = 'refused'",
            &[&b.booking],
        )
        .await
    };
    wait_until("the refusal recorded", async || refused().await == 1).await;
    // A clear state: the balance's part went back, the checkout's was refused with Stripe's
    // words, and the refund waits for its next attempt, queued, the customer not told yet.
    let key = format!("refund-{}", b.booking);
    assert_eq!(
        refunds_asked(&stripe),
        vec![(key.clone(), b.balance.clone(), seat), (format!("{key}/{}", b.checkout), b.checkout.clone(), 2 * seat)]
    );
    let row = env
        .pg()
        .await
        .query_one(
            "SELECT status, failure_reason, next_attempt_at > now(), customer_notified_at IS NULL
             FROM refunds WHERE booking_id = $1",
            &[&b.booking],
        )
        .await
        .unwrap();
    let (status, why, later, untold): (String, Option<String>, bool, bool) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!((status.as_str(), later, untold), ("queued", true, true));
    assert!(why.as_deref().unwrap_or_default().contains("insufficient funds"), "{why:?}");
    assert_eq!(refunded_at_stripe(&stripe, &b.balance), (seat, 1));
    assert_eq!(refunded_at_stripe(&stripe, &b.checkout), (0, 0));
    // Stripe reports the part it made meanwhile: still queued, the balance's intent accounted.
    env.deliver_stripe_event(&stripe.refund_event(&b.balance)).await;
    assert_eq!(refund_status(&env, &b.booking).await, "queued");
    assert_eq!(money(&env, &b.booking).await.1, vec![(2 * seat, 0), (seat, seat)]);

    // The backoff passes: only the refused amount is asked again, of the same intent, under a
    // new key (Stripe keeps a refusal under its key).
    env.pg()
        .await
        .execute("UPDATE refunds SET next_attempt_at = now() WHERE booking_id = $1", &[&b.booking])
        .await
        .unwrap();
    wait_until("the refund settled", async || refund_status(&env, &b.booking).await == "succeeded").await;
    let asked = refunds_asked(&stripe);
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert_eq!(asked[2], (format!("{key}/{}/3", b.checkout), b.checkout.clone(), 2 * seat));
    assert_eq!(refunded_at_stripe(&stripe, &b.balance), (seat, 1));
    assert_eq!(refunded_at_stripe(&stripe, &b.checkout), (2 * seat, 1));
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(refunds_asked(&stripe).len(), 3, "nothing more once settled");

    stripe_reports_the_refunds(&env, &stripe, &b).await;
    let ((total, paid, refunded, status), payments) = money(&env, &b.booking).await;
    assert_eq!(payments, vec![(2 * seat, 2 * seat), (seat, seat)]);
    assert_eq!((paid, refunded, status.as_str()), (3 * seat, 3 * seat, "refunded"));
    assert_eq!(total - paid + refunded, total);
    assert_eq!(refund_status(&env, &b.booking).await, "succeeded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cheaper_change_goes_back_through_the_balance_and_a_cancellation_then_through_the_checkout() {
    let stripe = FakeStripe::start().await;
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), smtp: Some(&smtp), ..Fakes::default() }).await;
    let b = two_intent_booking(&env, &stripe, &smtp, "down@example.com").await;
    let seat = b.seat;

    // Back to two seats: the seat added goes back the way it came, through the balance's intent.
    let mut down = ModifyBooking {
        booking_id: b.booking.clone(),
        lines: vec![ModifyLine { tier_id: b.tier.clone(), quantity: 2 }],
        promo_code: None,
        manual_discount: None,
        manual_discount_reason: None,
        reason: Some("One cannot come".into()),
        expected_total: None,
    };
    down.expected_total = Some(b.desk.modify_preview(&down).unwrap().money.new_total);
    b.desk.modify_booking(&down).unwrap();
    b.client.sync_once(&b.desk).await.unwrap();
    assert!(b.desk.rejections().unwrap().is_empty(), "{:?}", b.desk.rejections().unwrap());
    wait_until("the change's refund", async || refunds_asked(&stripe).len() == 1).await;
    let first = refunds_asked(&stripe);
    assert_eq!((first[0].1.as_str(), first[0].2), (b.balance.as_str(), seat), "{first:?}");

    // Then the departure is called off, before Stripe's webhook for the first refund: the rest
    // goes back through the checkout's intent, and the balance's is not asked again.
    cancel_departure(&b).await;
    wait_until("the cancellation's refund", async || refunds_asked(&stripe).len() == 2).await;
    let asked = refunds_asked(&stripe);
    assert_eq!(
        (asked[1].0.as_str(), asked[1].1.as_str(), asked[1].2),
        (&*format!("refund-{}", b.booking), b.checkout.as_str(), 2 * seat)
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(refunds_asked(&stripe).len(), 2);

    stripe_reports_the_refunds(&env, &stripe, &b).await;
    let ((total, paid, refunded, status), payments) = money(&env, &b.booking).await;
    assert_eq!(payments, vec![(2 * seat, 2 * seat), (seat, seat)]);
    assert_eq!((paid, refunded, status.as_str()), (3 * seat, 3 * seat, "refunded"));
    assert_eq!(total - paid + refunded, total);
    let settled =
        env.scalar("SELECT count(*) FROM refunds WHERE booking_id = $1 AND status = 'succeeded'", &[&b.booking]).await;
    assert_eq!(settled, 2);
}

//! Money on a booking (issue 13): a payment recorded at a desk offline — cash, here — pushed to a
//! real server and PostgreSQL, decided under the booking's lock, audited, and, when it meets the
//! confirmation rule, confirming the booking with exactly one confirmation e-mail in the SMTP
//! sink. Refusals (another currency, above the balance, a cancelled booking) are recorded
//! rejections that write nothing. Stripe's card money lands in the same ledger.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tourdesk_domain::ledger::EntryKind;
use tourdesk_domain::mutation::Mutation;
use tourdesk_domain::protocol::{OutcomeStatus, PushRequest, SCHEMA_VERSION};
use tourdesk_domain::status::{BookingStatus, PaymentStatus};
use tourdesk_sync_server::demo_data;
use tourdesk_testkit::smtp::SmtpSink;
use tourdesk_testkit::stripe::FakeStripe;
use tourdesk_tests::{
    Env, Fakes, empty_departure, m, nonce, phone_booking, push_raw, raw_envelope, sign_in, synced_desk,
};

const ORG: &str = demo_data::DEMO_ORG_SLUG;

fn cash(booking_id: &str, amount: i64, currency: &str) -> Mutation {
    m(
        "record_payment.v1",
        json!({"nonce": nonce(), "booking_id": booking_id, "method": "cash", "amount": amount,
               "currency": currency, "note": "paid at the counter", "at": Utc::now()}),
    )
}

async fn confirmations(smtp: &SmtpSink, to: &str) -> usize {
    smtp.messages().iter().filter(|m| m.subject.starts_with("Booking confirmed") && m.to[0] == to).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cash_recorded_offline_confirms_the_booking_once_with_one_email() {
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { smtp: Some(&smtp), ..Fakes::default() }).await;
    let dep = empty_departure(&env).await;
    let (desk, client) = synced_desk(&env, "front", demo_data::DEMO_MANAGER_EMAIL).await;

    let booking = phone_booking(&desk, &dep, "pat@example.com", 2);
    client.sync_once(&desk).await.unwrap();
    let money = desk.booking_money(&booking).unwrap().unwrap();
    assert_eq!((money.status, money.payment_status), (BookingStatus::Pending, PaymentStatus::Unpaid));
    let total = money.total;
    assert!(total.amount > 1, "{total:?}");

    // Offline: a part in cash, then the rest. The desk shows it confirmed at once.
    let part = total.amount / 2;
    desk.mutate(&cash(&booking, part, total.currency.as_str())).unwrap();
    desk.mutate(&cash(&booking, total.amount - part, total.currency.as_str())).unwrap();
    let shown = desk.booking_money(&booking).unwrap().unwrap();
    assert_eq!((shown.status, shown.balance_due.amount), (BookingStatus::Confirmed, 0));
    assert!(shown.entries.iter().all(|l| l.pending));

    // Back online: the server decides the same, audits it and mails the confirmation once.
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    let pg = env.pg().await;
    let row = pg
        .query_one("SELECT status, payment_status, paid_amount_minor FROM bookings WHERE id = $1", &[&booking])
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0).as_str(), row.get::<_, String>(1).as_str(), row.get::<_, i64>(2)),
        ("confirmed", "paid", total.amount)
    );
    let entries = pg
        .query(
            "SELECT kind, amount_minor, recorded_by, note FROM ledger_entries WHERE booking_id = $1 ORDER BY amount_minor",
            &[&booking],
        )
        .await
        .unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|r| r.get::<_, String>(0) == "cash"));
    assert_eq!(entries.iter().map(|r| r.get::<_, i64>(1)).sum::<i64>(), total.amount);
    assert_eq!(entries[0].get::<_, Option<String>>(3).as_deref(), Some("paid at the counter"));
    let audited = env
        .scalar(
            "SELECT count(*) FROM audit_logs WHERE action = 'record_payment.v1' AND entity = 'ledger_entry'
               AND entity_id IN (SELECT id FROM ledger_entries WHERE booking_id = $1)",
            &[&booking],
        )
        .await;
    assert_eq!(audited, 2);
    let confirmed = env
        .scalar("SELECT count(*) FROM audit_logs WHERE action = 'booking.confirmed' AND entity_id = $1", &[&booking])
        .await;
    assert_eq!(confirmed, 1);

    smtp.wait_for(1, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(confirmations(&smtp, "pat@example.com").await, 1, "{:?}", smtp.messages());
    let mail = smtp.messages().into_iter().find(|m| m.subject.starts_with("Booking confirmed")).unwrap();
    let reference = desk.booking_money(&booking).unwrap().unwrap().reference_number;
    assert!(mail.subject.contains(&reference), "{}", mail.subject);

    // The desk ends where the server is: its entries settled, nothing pending.
    client.sync_once(&desk).await.unwrap();
    let settled = desk.booking_money(&booking).unwrap().unwrap();
    assert_eq!((settled.status, settled.payment_status), (BookingStatus::Confirmed, PaymentStatus::Paid));
    assert_eq!(settled.entries.len(), 2);
    assert!(settled.entries.iter().all(|l| !l.pending && l.entry.kind == EntryKind::Cash));
    assert_eq!(desk.pending_count().unwrap(), 0);

    // A second desk receives the ledger with the booking.
    let other = env.desk("back-office");
    env.client(demo_data::DEMO_OWNER_EMAIL).sync_once(&other).await.unwrap();
    assert_eq!(other.booking_money(&booking).unwrap().unwrap().entries.len(), 2);

    // Nothing more is mailed on later rounds.
    client.sync_once(&desk).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(confirmations(&smtp, "pat@example.com").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_the_server_refuses_is_a_rejection_with_its_reason_and_writes_nothing() {
    let env = Env::start().await;
    let dep = empty_departure(&env).await;
    let (desk, client) = synced_desk(&env, "front", demo_data::DEMO_MANAGER_EMAIL).await;
    let open = phone_booking(&desk, &dep, "open@example.com", 1);
    let gone = phone_booking(&desk, &dep, "gone@example.com", 1);
    desk.mutate(&m(
        "cancel_booking.v1",
        json!({"booking_id": gone, "tour_id": dep.1, "departure_id": dep.0, "by": "operator", "reason": "changed plans"}),
    ))
    .unwrap();
    client.sync_once(&desk).await.unwrap();
    assert!(desk.rejections().unwrap().is_empty(), "{:?}", desk.rejections().unwrap());
    let money = desk.booking_money(&open).unwrap().unwrap();
    let (total, currency) = (money.total.amount, money.total.currency.as_str().to_string());
    let other_currency = if currency == "EUR" { "USD" } else { "EUR" };

    let token = sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let req = PushRequest {
        client_id: nonce(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![
            raw_envelope(1, cash(&open, 100, other_currency)),
            raw_envelope(2, cash(&open, total + 1, &currency)),
            raw_envelope(3, cash(&gone, 100, &currency)),
        ],
    };
    let resp = push_raw(&env.base_url(), &token, &req).await;
    let got: Vec<(OutcomeStatus, Option<&str>)> = resp.results.iter().map(|r| (r.status, r.code.as_deref())).collect();
    assert_eq!(
        got,
        [
            (OutcomeStatus::Rejected, Some("INVALID")),
            (OutcomeStatus::Rejected, Some("INVALID")),
            (OutcomeStatus::Rejected, Some("CONFLICT")),
        ]
    );
    let detail = |i: usize| resp.results[i].detail.clone().unwrap_or_default();
    assert!(detail(0).contains("currency"), "{}", detail(0));
    assert!(detail(1).contains("balance due"), "{}", detail(1));
    assert!(detail(2).contains("cancelled"), "{}", detail(2));
    // The demo's own sales have entries; these two bookings have none.
    let entries = "SELECT count(*) FROM ledger_entries WHERE booking_id IN ($1, $2)";
    assert_eq!(env.scalar(entries, &[&open, &gone]).await, 0);
    let paid = env.scalar("SELECT paid_amount_minor FROM bookings WHERE id = $1", &[&open]).await;
    assert_eq!(paid, 0);

    // A guide may not take money.
    let guide = sign_in(&env, demo_data::DEMO_GUIDE_EMAIL).await;
    let req = PushRequest {
        client_id: nonce(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![raw_envelope(1, cash(&open, 100, &currency))],
    };
    let resp = push_raw(&env.base_url(), &guide, &req).await;
    assert_eq!(resp.results[0].code.as_deref(), Some("NOT_AUTHORIZED"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_card_money_lands_in_the_ledger_once_however_often_it_is_reported() {
    let stripe = FakeStripe::start().await;
    let env = Env::start_faked(Fakes { stripe: Some(&stripe), ..Fakes::default() }).await;
    let dep = empty_departure(&env).await;
    let http = reqwest::Client::new();
    let req = json!({
        "request_id": nonce(),
        "departure_id": dep.0,
        "customer": {"email": "card@example.com", "first_name": "Cara", "last_name": "Card"},
        "lines": [{"tier_id": dep.2, "quantity": 1}],
    });
    let r = http.post(format!("{}/api/v1/orgs/{ORG}/bookings", env.base_url())).json(&req).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let intent = created["payment"]["payment_intent_id"].as_str().unwrap().to_string();
    let booking = created["booking"]["id"].as_str().unwrap().to_string();
    let total = created["booking"]["price"]["total"]["amount_minor"].as_i64().unwrap();
    let event = stripe.succeed(&intent);
    for _ in 0..2 {
        env.deliver_stripe_event(&event).await;
    }
    let pg = env.pg().await;
    let rows =
        pg.query("SELECT id, kind, amount_minor FROM ledger_entries WHERE booking_id = $1", &[&booking]).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(0), format!("card-{booking}"));
    assert_eq!((rows[0].get::<_, String>(1).as_str(), rows[0].get::<_, i64>(2)), ("card_payment", total));

    // It reaches the desk with the booking: fully paid, nothing due.
    let desk = env.desk("front");
    env.client(demo_data::DEMO_MANAGER_EMAIL).sync_once(&desk).await.unwrap();
    let money = desk.booking_money(&booking).unwrap().unwrap();
    assert_eq!(money.status, BookingStatus::Confirmed);
    assert_eq!((money.balance_due.amount, money.can_record_payment), (0, false));
    assert_eq!(money.entries.len(), 1);
    assert_eq!(money.entries[0].entry.kind, EntryKind::CardPayment);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_desks_taking_the_same_balance_offline_are_decided_once_and_the_second_lands_in_its_inbox() {
    let smtp = SmtpSink::start().await.unwrap();
    let env = Env::start_faked(Fakes { smtp: Some(&smtp), ..Fakes::default() }).await;
    let dep = empty_departure(&env).await;
    let (front, back) = (env.desk("front"), env.desk("back"));
    let (front_client, back_client) =
        (env.client(demo_data::DEMO_MANAGER_EMAIL), env.client(demo_data::DEMO_OWNER_EMAIL));
    front_client.sync_once(&front).await.unwrap();
    let booking = phone_booking(&front, &dep, "twice@example.com", 1);
    front_client.sync_once(&front).await.unwrap();
    back_client.sync_once(&back).await.unwrap();
    let total = back.booking_money(&booking).unwrap().unwrap().total;

    // Both take the whole balance while neither can reach the other.
    front.mutate(&cash(&booking, total.amount, total.currency.as_str())).unwrap();
    back.mutate(&cash(&booking, total.amount, total.currency.as_str())).unwrap();
    front_client.sync_once(&front).await.unwrap();
    back_client.sync_once(&back).await.unwrap();

    assert!(front.rejections().unwrap().is_empty());
    let refused = back.rejections().unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!((refused[0].name.as_str(), refused[0].code.as_deref()), ("record_payment.v1", Some("INVALID")));
    assert!(refused[0].detail.as_deref().unwrap_or_default().contains("balance due"), "{refused:?}");
    // The second desk ends where the server is: one entry, paid once, confirmed.
    let money = back.booking_money(&booking).unwrap().unwrap();
    assert_eq!((money.status, money.paid), (BookingStatus::Confirmed, total));
    assert_eq!(money.entries.len(), 1);
    assert!(!money.entries[0].pending);
    assert_eq!(env.scalar("SELECT count(*) FROM ledger_entries WHERE booking_id = $1", &[&booking]).await, 1);
    smtp.wait_for(1, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(confirmations(&smtp, "twice@example.com").await, 1);
}

/// A day's drawer on `desk` in `currency`, summed over its people: (cash taken on bookings, cash
/// given back, what should be in the drawer, what the terminal should show).
fn drawer(desk: &tourdesk_local_store::Store, currency: &str) -> (i64, i64, i64, i64) {
    let now = Utc::now();
    let day =
        desk.cash_drawer(now.date_naive(), now - chrono::Duration::hours(2), now + chrono::Duration::hours(2)).unwrap();
    day.lines.iter().filter(|l| l.line.currency.as_str() == currency).fold((0, 0, 0, 0), |s, l| {
        (s.0 + l.line.cash_payments, s.1 + l.line.cash_refunds, s.2 + l.cash_total, s.3 + l.terminal_total)
    })
}

/// Issue 13: a refund given back by hand travels with how it went back (the entry's `method`, PG
/// V63 / SQLite V34), so the cash drawer on every desk — the one that gave it back and another
/// that only pulled it — takes the cash handed back out of the day's takings, and money sent back
/// by bank transfer, which never was in the drawer, stays out of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cash_given_back_leaves_the_drawer_on_every_desk_and_a_transfer_back_does_not() {
    let env = Env::start().await;
    let dep = empty_departure(&env).await;
    let (front, front_client) = synced_desk(&env, "front", demo_data::DEMO_OWNER_EMAIL).await;
    let (back, back_client) = synced_desk(&env, "back", demo_data::DEMO_MANAGER_EMAIL).await;
    let booking = phone_booking(&front, &dep, "drawer@example.com", 2);
    front_client.sync_once(&front).await.unwrap();
    let total = front.booking_money(&booking).unwrap().unwrap().total;
    let currency = total.currency.as_str();
    assert!(total.amount >= 2, "{total:?}");
    // Paid in cash, then called off by the operator: all of it is owed back by hand.
    front.mutate(&cash(&booking, total.amount, currency)).unwrap();
    front
        .mutate(&m(
            "cancel_booking.v1",
            json!({"booking_id": booking, "tour_id": dep.1, "departure_id": dep.0, "by": "operator", "reason": "storm"}),
        ))
        .unwrap();
    front_client.sync_once(&front).await.unwrap();
    back_client.sync_once(&back).await.unwrap();
    let before = (drawer(&front, currency), drawer(&back, currency));
    assert_eq!(before.0, before.1, "both desks hold the same ledger");

    // Half handed back from the drawer, the rest by bank transfer.
    let (in_cash, by_transfer) = (total.amount / 2, total.amount - total.amount / 2);
    for (method, amount) in [("cash", in_cash), ("bank_transfer", by_transfer)] {
        front
            .mutate(&m(
                "record_refund.v1",
                json!({"nonce": nonce(), "booking_id": booking, "method": method, "amount": amount,
                       "currency": currency, "at": Utc::now()}),
            ))
            .unwrap();
    }
    // Offline, the desk that gave it back shows it at once.
    let (cash_in, back_out, net, terminal) = drawer(&front, currency);
    assert_eq!((cash_in, back_out), (before.0.0, before.0.1 + in_cash));
    assert_eq!((net, terminal), (before.0.2 - in_cash, before.0.3), "the transfer is not drawer money");

    front_client.sync_once(&front).await.unwrap();
    assert!(front.rejections().unwrap().is_empty(), "{:?}", front.rejections().unwrap());
    let pg = env.pg().await;
    let methods: Vec<(String, i64)> = pg
        .query(
            "SELECT method, amount_minor FROM ledger_entries WHERE booking_id = $1 AND kind = 'refund' ORDER BY method",
            &[&booking],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(methods, [("bank_transfer".to_string(), by_transfer), ("cash".to_string(), in_cash)]);

    // Another desk learns it through sync and counts it the same.
    back_client.sync_once(&back).await.unwrap();
    let on_back = drawer(&back, currency);
    assert_eq!(on_back, (before.1.0, before.1.1 + in_cash, before.1.2 - in_cash, before.1.3));
    assert_eq!(on_back, drawer(&front, currency), "every desk counts the same drawer");
    let c = rusqlite::Connection::open(env.desk_path("back")).unwrap();
    let stored: Vec<String> = c
        .prepare("SELECT method FROM ledger_entries WHERE booking_id = ?1 AND kind = 'refund' ORDER BY method")
        .unwrap()
        .query_map([&booking], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(stored, ["bank_transfer", "cash"]);
}

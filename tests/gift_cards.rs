//! Gift cards (issue 13): sold on a desk offline, pushed to a real server and PostgreSQL, spent on
//! bookings in parts; two desks spending the same card offline are decided one after the other
//! under the card's lock, the second refused beyond the balance with its reason in its inbox and
//! nothing of it written; refusals name their field.
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use serde_json::json;
use tourdesk_domain::mutation::Mutation;
use tourdesk_domain::protocol::{OutcomeStatus, PushRequest, SCHEMA_VERSION};
use tourdesk_domain::status::{BookingStatus, PaymentStatus};
use tourdesk_sync_server::demo_data;
use tourdesk_tests::{Env, empty_departure, m, nonce, phone_booking, push_raw, raw_envelope, sign_in, synced_desk};

fn issue(id: &str, code: &str, amount: i64, currency: &str) -> Mutation {
    m(
        "issue_gift_card.v1",
        json!({"id": id, "code": code, "amount": amount, "currency": currency, "payment_method": "cash",
               "purchaser_name": "Ines", "at": Utc::now()}),
    )
}

fn redeem(booking_id: &str, code: &str, amount: i64, currency: &str) -> Mutation {
    m(
        "redeem_gift_card.v1",
        json!({"nonce": nonce(), "booking_id": booking_id, "code": code, "amount": amount, "currency": currency,
               "at": Utc::now()}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_sold_offline_is_spent_in_parts_across_bookings_and_every_movement_is_kept() {
    let env = Env::start().await;
    let dep = empty_departure(&env).await;
    let (front, back) = (env.desk("front"), env.desk("back"));
    let (front_client, back_client) =
        (env.client(demo_data::DEMO_MANAGER_EMAIL), env.client(demo_data::DEMO_OWNER_EMAIL));
    front_client.sync_once(&front).await.unwrap();
    let first = phone_booking(&front, &dep, "first@example.com", 1);
    let second = phone_booking(&front, &dep, "second@example.com", 1);
    front_client.sync_once(&front).await.unwrap();
    let total = front.booking_money(&first).unwrap().unwrap().total;
    let cur = total.currency.as_str().to_string();
    assert!(total.amount >= 2, "{total:?}");

    // Sold offline for the whole first booking plus half a unit more.
    let card = nonce();
    let amount = total.amount + total.amount / 2;
    front.mutate(&issue(&card, "GIFT-TEST-0001-AAAA", amount, &cur)).unwrap();
    front.mutate(&redeem(&first, "gift test 0001 aaaa", total.amount, &cur)).unwrap();
    front_client.sync_once(&front).await.unwrap();
    assert!(front.rejections().unwrap().is_empty(), "{:?}", front.rejections().unwrap());
    let first_money = front.booking_money(&first).unwrap().unwrap();
    assert_eq!((first_money.status, first_money.payment_status), (BookingStatus::Confirmed, PaymentStatus::Paid));
    assert!(first_money.entries.iter().all(|l| !l.pending));

    // The other desk receives the card and spends the rest on the second booking.
    back_client.sync_once(&back).await.unwrap();
    let on_back = back.gift_cards(Utc::now()).unwrap();
    assert_eq!(on_back.len(), 1);
    assert_eq!(on_back[0].card.balance, total.amount / 2);
    back.mutate(&redeem(&second, "GIFTTEST0001AAAA", total.amount / 2, &cur)).unwrap();
    back_client.sync_once(&back).await.unwrap();
    assert!(back.rejections().unwrap().is_empty(), "{:?}", back.rejections().unwrap());

    let pg = env.pg().await;
    let row =
        pg.query_one("SELECT balance, issued_amount, code FROM gift_cards WHERE id = $1", &[&card]).await.unwrap();
    assert_eq!(
        (row.get::<_, i64>(0), row.get::<_, i64>(1), row.get::<_, String>(2)),
        (0, amount, "GIFTTEST0001AAAA".into())
    );
    let moves = pg
        .query(
            "SELECT kind, amount_minor, balance_after, booking_id FROM gift_card_movements WHERE gift_card_id = $1
             ORDER BY recorded_at, kind",
            &[&card],
        )
        .await
        .unwrap();
    let moves: Vec<(String, i64, i64, Option<String>)> =
        moves.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))).collect();
    assert_eq!(
        moves,
        [
            ("issue".into(), amount, amount, None),
            ("redemption".into(), total.amount, total.amount / 2, Some(first.clone())),
            ("redemption".into(), total.amount / 2, 0, Some(second.clone())),
        ]
    );
    assert_eq!(env.scalar("SELECT count(*) FROM ledger_entries WHERE kind = 'gift_card_redemption'", &[]).await, 2);
    assert_eq!(env.scalar("SELECT count(*) FROM audit_logs WHERE action = 'gift_card.issued'", &[]).await, 1);
    assert_eq!(env.scalar("SELECT count(*) FROM audit_logs WHERE action = 'gift_card.redeemed'", &[]).await, 2);
    // The front desk ends where the server is.
    front_client.sync_once(&front).await.unwrap();
    let detail = front.gift_card(&card, Utc::now()).unwrap().unwrap();
    assert_eq!((detail.line.card.balance, detail.movements.len(), detail.line.pending), (0, 3, false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_desks_spending_the_same_card_offline_the_second_beyond_the_balance_lands_in_its_inbox() {
    let env = Env::start().await;
    let dep = empty_departure(&env).await;
    let (front, back) = (env.desk("front"), env.desk("back"));
    let (front_client, back_client) =
        (env.client(demo_data::DEMO_MANAGER_EMAIL), env.client(demo_data::DEMO_OWNER_EMAIL));
    front_client.sync_once(&front).await.unwrap();
    let a = phone_booking(&front, &dep, "a@example.com", 1);
    let b = phone_booking(&front, &dep, "b@example.com", 1);
    let total = front.booking_money(&a).unwrap().unwrap().total;
    let cur = total.currency.as_str().to_string();
    let card = nonce();
    front.mutate(&issue(&card, "RACE-RACE-RACE-RACE", total.amount, &cur)).unwrap();
    front_client.sync_once(&front).await.unwrap();
    back_client.sync_once(&back).await.unwrap();

    // Offline, each desk spends the whole card on its own booking.
    front.mutate(&redeem(&a, "RACE-RACE-RACE-RACE", total.amount, &cur)).unwrap();
    back.mutate(&redeem(&b, "RACE-RACE-RACE-RACE", total.amount, &cur)).unwrap();
    front_client.sync_once(&front).await.unwrap();
    back_client.sync_once(&back).await.unwrap();

    assert!(front.rejections().unwrap().is_empty());
    let refused = back.rejections().unwrap();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!((refused[0].name.as_str(), refused[0].code.as_deref()), ("redeem_gift_card.v1", Some("INVALID")));
    let detail = refused[0].detail.as_deref().unwrap_or_default();
    assert!(detail.contains("used up") || detail.contains("left on this gift card"), "{detail}");

    // Nothing of the second was written; the back desk ends where the server is.
    assert_eq!(env.scalar("SELECT balance FROM gift_cards WHERE id = $1", &[&card]).await, 0);
    assert_eq!(env.scalar("SELECT count(*) FROM gift_card_movements WHERE kind = 'redemption'", &[]).await, 1);
    assert_eq!(env.scalar("SELECT count(*) FROM ledger_entries WHERE booking_id = $1", &[&b]).await, 0);
    assert_eq!(env.scalar("SELECT paid_amount_minor FROM bookings WHERE id = $1", &[&b]).await, 0);
    let b_money = back.booking_money(&b).unwrap().unwrap();
    assert_eq!((b_money.status, b_money.paid.amount, b_money.entries.len()), (BookingStatus::Pending, 0, 0));
    assert_eq!(back.gift_card(&card, Utc::now()).unwrap().unwrap().line.card.balance, 0);
    assert_eq!(back.pending_count().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_name_their_field_and_write_nothing() {
    let env = Env::start().await;
    let dep = empty_departure(&env).await;
    let (desk, client) = synced_desk(&env, "front", demo_data::DEMO_MANAGER_EMAIL).await;
    let open = phone_booking(&desk, &dep, "open@example.com", 1);
    let card = nonce();
    client.sync_once(&desk).await.unwrap();
    let total = desk.booking_money(&open).unwrap().unwrap().total;
    let cur = total.currency.as_str().to_string();
    let other = if cur == "EUR" { "USD" } else { "EUR" };
    desk.mutate(&issue(&card, "FIELD-TEST-0001", total.amount * 3, &cur)).unwrap();
    client.sync_once(&desk).await.unwrap();

    let token = sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let req = PushRequest {
        client_id: nonce(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![
            raw_envelope(1, redeem(&open, "FIELD-TEST-0001", 100, other)),
            raw_envelope(2, redeem(&open, "FIELD-TEST-0001", total.amount + 1, &cur)),
            raw_envelope(3, redeem(&open, "NOPE-NOPE-NOPE", 100, &cur)),
            raw_envelope(4, issue(&nonce(), "FIELD-TEST-0001", 500, &cur)),
            raw_envelope(5, issue(&nonce(), "ANOTHER-CODE-01", 0, &cur)),
        ],
    };
    let resp = push_raw(&env.base_url(), &token, &req).await;
    let got: Vec<(OutcomeStatus, Option<&str>)> = resp.results.iter().map(|r| (r.status, r.code.as_deref())).collect();
    assert_eq!(
        got,
        [
            (OutcomeStatus::Rejected, Some("INVALID")),
            (OutcomeStatus::Rejected, Some("INVALID")),
            (OutcomeStatus::Rejected, Some("INVALID")),
            (OutcomeStatus::Rejected, Some("CONFLICT")),
            (OutcomeStatus::Rejected, Some("INVALID")),
        ]
    );
    let detail = |i: usize| resp.results[i].detail.clone().unwrap_or_default();
    assert!(detail(0).contains(&format!("this gift card is in {cur}")), "{}", detail(0));
    assert!(detail(1).contains("balance due"), "{}", detail(1));
    assert!(detail(2).contains("no gift card has this code"), "{}", detail(2));
    assert!(detail(3).contains("already has this code"), "{}", detail(3));
    assert!(detail(4).contains("more than zero"), "{}", detail(4));
    assert_eq!(env.scalar("SELECT count(*) FROM gift_cards", &[]).await, 1);
    assert_eq!(env.scalar("SELECT balance FROM gift_cards WHERE id = $1", &[&card]).await, total.amount * 3);
    assert_eq!(env.scalar("SELECT count(*) FROM gift_card_movements", &[]).await, 1);
    // The demo's own sales have entries; the booking the redemptions aimed at has none.
    assert_eq!(env.scalar("SELECT count(*) FROM ledger_entries WHERE booking_id = $1", &[&open]).await, 0);

    // A guide may not sell or take gift cards.
    let guide = sign_in(&env, demo_data::DEMO_GUIDE_EMAIL).await;
    let req = PushRequest {
        client_id: nonce(),
        schema_version: SCHEMA_VERSION,
        mutations: vec![raw_envelope(1, redeem(&open, "FIELD-TEST-0001", 100, &cur))],
    };
    let resp = push_raw(&env.base_url(), &guide, &req).await;
    assert_eq!(resp.results[0].code.as_deref(), Some("NOT_AUTHORIZED"));
}

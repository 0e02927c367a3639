//! Bookings made on desks are decided by the server: `create_booking.v1` and `cancel_booking.v1`
//! pushed through `/sync/v1/push` run the domain's mutators under the departure's row lock, so
//! seats are never oversold, and a retried push changes nothing.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use chrono::{Datelike, Utc};
use serde_json::{Value, json};
use tourdesk_domain::mutation::reference_candidates;
use tourdesk_domain::protocol::{MutationEnvelope, OutcomeStatus, PushRequest, PushResponse, SCHEMA_VERSION};
use tourdesk_sync_server::{db, demo_data};
use tourdesk_tests::{Env, push_raw, sign_in};

/// Pushes `(name, args)` as mutations 1, 2, … of `client_id`, behind any desk's back.
async fn push(base_url: &str, token: &str, client_id: &str, mutations: &[(&str, Value)]) -> PushResponse {
    let req = PushRequest {
        client_id: client_id.into(),
        schema_version: SCHEMA_VERSION,
        mutations: mutations
            .iter()
            .zip(1u64..)
            .map(|((name, args), id)| MutationEnvelope { id, name: (*name).into(), args: args.clone(), hlc: hlc() })
            .collect(),
    };
    push_raw(base_url, token, &req).await
}

fn hlc() -> String {
    tourdesk_testkit::hlc_now("test")
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn create_customer(id: &str) -> (&'static str, Value) {
    (
        "create_customer.v1",
        json!({
            "id": id,
            "email": format!("{id}@example.com"),
            "first_name": "Ada",
            "last_name": "Lovelace",
            "hlc": hlc(),
        }),
    )
}

/// A booking of `seats` on the first tier; returns the mutation and its reference entropy.
fn create_booking(d: &Departure, id: &str, customer_id: &str, seats: u32) -> ((&'static str, Value), u64) {
    let entropy = uuid::Uuid::new_v4().as_u64_pair().0;
    let args = json!({
        "id": id,
        "tour_id": d.tour_id,
        "departure_id": d.id,
        "customer_id": customer_id,
        "lines": [{"tier_id": d.tier_id, "quantity": seats}],
        "reference_year": Utc::now().year(),
        "reference_entropy": entropy,
    });
    (("create_booking.v1", args), entropy)
}

struct Departure {
    id: String,
    tour_id: String,
    tier_id: String,
    tier_price: i64,
}

/// A future departure of a demo tour, its first (tour-wide) tier and that tier's price. Demo
/// tours have no seasons, discounts or taxes, so a booking costs `seats × tier_price`.
async fn departure(env: &Env, capacity: i32, booked: i32) -> Departure {
    let pg = env.pg().await;
    let row = pg
        .query_one(
            "SELECT s.id, s.tour_id, p.id, p.base_price_minor FROM schedules s
             JOIN pricing_tiers p ON p.organization_id = s.organization_id AND p.tour_id = s.tour_id
             WHERE s.starts_at > now() + interval '1 day'
             ORDER BY s.starts_at, s.id, p.sort_order LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let d = Departure { id: row.get(0), tour_id: row.get(1), tier_id: row.get(2), tier_price: row.get(3) };
    pg.execute(
        "UPDATE schedules SET capacity = $2, booked_count = $3, status = 'open' WHERE id = $1",
        &[&d.id, &capacity, &booked],
    )
    .await
    .unwrap();
    d
}

async fn count(env: &Env, sql: &str, id: &str) -> i64 {
    env.scalar(sql, &[&id]).await
}

async fn booked_count(env: &Env, departure_id: &str) -> i32 {
    env.pg().await.query_one("SELECT booked_count FROM schedules WHERE id = $1", &[&departure_id]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_booking_is_applied_with_the_domains_price_and_reference() {
    let env = Env::start().await;
    let d = departure(&env, 10, 3).await;
    let token = sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let (customer_id, booking_id, client_id) = (new_id(), new_id(), new_id());
    let (booking, entropy) = create_booking(&d, &booking_id, &customer_id, 2);
    let seq_before = count(&env, "SELECT coalesce(max(seq), 0) FROM sync_changes WHERE $1 <> ''", "x").await;

    let resp = push(&env.base_url(), &token, &client_id, &[create_customer(&customer_id), booking]).await;
    assert_eq!(resp.last_mutation_id, 2);
    assert!(resp.results.iter().all(|r| r.status == OutcomeStatus::Applied), "{resp:?}");

    let pg = env.pg().await;
    let row = pg
        .query_one(
            "SELECT reference_number, total_minor, subtotal_minor, participant_count, status, customer_id,
                    (pricing->'total'->>'amount')::bigint, currency
             FROM bookings WHERE id = $1",
            &[&booking_id],
        )
        .await
        .unwrap();
    let expected_ref = reference_candidates(Utc::now().year(), entropy)[0].to_string();
    assert_eq!(row.get::<_, String>(0), expected_ref);
    assert_eq!(row.get::<_, i64>(1), 2 * d.tier_price);
    assert_eq!(row.get::<_, i64>(2), 2 * d.tier_price);
    assert_eq!(row.get::<_, i32>(3), 2);
    assert_eq!(row.get::<_, String>(4), "pending");
    assert_eq!(row.get::<_, String>(5), customer_id);
    assert_eq!(row.get::<_, i64>(6), 2 * d.tier_price, "the snapshot and the copied total agree");
    assert_eq!(booked_count(&env, &d.id).await, 5);
    assert_eq!(
        count(&env, "SELECT count(*) FROM booking_line_items WHERE booking_id = $1 AND quantity = 2", &booking_id)
            .await,
        1
    );
    assert_eq!(
        count(&env, "SELECT count(*) FROM audit_logs WHERE entity = 'booking' AND entity_id = $1", &booking_id).await,
        1
    );
    assert_eq!(
        count(&env, "SELECT count(*) FROM audit_logs WHERE entity = 'customer' AND entity_id = $1", &customer_id).await,
        1
    );
    // Each row is logged once to every bucket that should see it: the office's `org:all`; the
    // departure's `schedule:D` for the booking and its guest; `org:ref` for the seats left.
    let mut logged: Vec<(String, String, String)> = pg
        .query("SELECT entity, row_id, bucket FROM sync_changes WHERE seq > $1", &[&seq_before])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    logged.sort();
    let org: String =
        pg.query_one("SELECT organization_id FROM schedules WHERE id = $1", &[&d.id]).await.unwrap().get(0);
    let (all, schedule) = (format!("org:{org}:all"), format!("schedule:{}", d.id));
    let row = |entity: &str, id: &str, bucket: &str| (entity.to_string(), id.to_string(), bucket.to_string());
    let mut expected = vec![
        row("booking", &booking_id, &all),
        row("booking", &booking_id, &schedule),
        row("customer", &customer_id, &all),
        row("customer", &customer_id, &schedule),
        row("departure", &d.id, &all),
        // Its seat count goes to the office and to the departure's own bucket (its guides), not
        // to every device of the organization.
        row("departure", &d.id, &schedule),
    ];
    expected.sort();
    // Their audit rows go to the organization's audit bucket alone (owners' and admins' desks).
    let audited: Vec<_> = logged.iter().filter(|(e, _, _)| e == "audit_log").cloned().collect();
    logged.retain(|(e, _, _)| e != "audit_log");
    assert_eq!(logged, expected);
    assert!(!audited.is_empty() && audited.iter().all(|(_, _, b)| *b == format!("org:{org}:audit")), "{audited:?}");

    // More seats than are left: the domain's capacity refusal, and nothing written.
    let (too_many, _) = create_booking(&d, &new_id(), &customer_id, 6);
    let resp = push(&env.base_url(), &token, &new_id(), &[too_many]).await;
    assert_eq!(resp.results[0].code.as_deref(), Some("CAPACITY_EXCEEDED"), "{resp:?}");
    assert_eq!(resp.results[0].detail.as_deref(), Some("only 5 seats left, 6 requested"));
    assert_eq!(booked_count(&env, &d.id).await, 5);
    assert_eq!(count(&env, "SELECT count(*) FROM bookings WHERE departure_id = $1", &d.id).await, 1);

    // A desk still syncs cleanly and sees the seats taken.
    let desk = env.desk("office");
    env.client(demo_data::DEMO_MANAGER_EMAIL).sync_once(&desk).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_desks_racing_for_ten_seats_sell_exactly_ten() {
    let env = Env::start().await;
    let d = Arc::new(departure(&env, 10, 0).await);
    let tokens = [sign_in(&env, demo_data::DEMO_OWNER_EMAIL).await, sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await];
    let start = Arc::new(tokio::sync::Barrier::new(40));
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (d, start, base) = (d.clone(), start.clone(), env.base_url());
        let token = tokens[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            let (customer_id, booking_id, client_id) = (new_id(), new_id(), new_id());
            let (booking, _) = create_booking(&d, &booking_id, &customer_id, 1);
            start.wait().await;
            let resp = push(&base, &token, &client_id, &[create_customer(&customer_id), booking]).await;
            assert_eq!(resp.last_mutation_id, 2, "{resp:?}");
            assert_eq!(resp.results[0].status, OutcomeStatus::Applied, "{resp:?}");
            resp.results[1].clone()
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let applied = results.iter().filter(|r| r.status == OutcomeStatus::Applied).count();
    // Every loser hears "no seats left", whether it arrived before or after the departure was
    // marked full.
    let refused = results
        .iter()
        .filter(|r| r.status == OutcomeStatus::Rejected && r.code.as_deref() == Some("CAPACITY_EXCEEDED"))
        .count();
    assert_eq!((applied, refused), (10, 30), "{results:?}");
    assert_eq!(booked_count(&env, &d.id).await, 10);
    assert_eq!(count(&env, "SELECT count(*) FROM bookings WHERE departure_id = $1", &d.id).await, 10);
    assert_eq!(
        count(&env, "SELECT coalesce(sum(participant_count), 0) FROM bookings WHERE departure_id = $1", &d.id).await,
        10
    );
    assert_eq!(count(&env, "SELECT count(*) FROM schedules WHERE id = $1 AND status = 'full'", &d.id).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_booking_push_changes_nothing() {
    let env = Env::start().await;
    let d = departure(&env, 10, 0).await;
    let token = sign_in(&env, demo_data::DEMO_OWNER_EMAIL).await;
    let (customer_id, booking_id, client_id) = (new_id(), new_id(), new_id());
    let (booking, _) = create_booking(&d, &booking_id, &customer_id, 3);
    let batch = [create_customer(&customer_id), booking];

    let first = push(&env.base_url(), &token, &client_id, &batch).await;
    assert!(first.results.iter().all(|r| r.status == OutcomeStatus::Applied), "{first:?}");
    let audits = count(&env, "SELECT count(*) FROM audit_logs WHERE $1 <> ''", "x").await;
    let changes = count(&env, "SELECT count(*) FROM sync_changes WHERE $1 <> ''", "x").await;

    // The same push again (its response was lost): the stored verdicts, nothing re-run.
    let retry = push(&env.base_url(), &token, &client_id, &batch).await;
    assert_eq!(retry.last_mutation_id, 2);
    assert_eq!(retry.results.len(), 2, "{retry:?}");
    assert!(retry.results.iter().all(|r| r.status == OutcomeStatus::Applied), "{retry:?}");
    assert_eq!(booked_count(&env, &d.id).await, 3);
    assert_eq!(count(&env, "SELECT count(*) FROM bookings WHERE departure_id = $1", &d.id).await, 1);
    assert_eq!(count(&env, "SELECT count(*) FROM audit_logs WHERE $1 <> ''", "x").await, audits);
    assert_eq!(count(&env, "SELECT count(*) FROM sync_changes WHERE $1 <> ''", "x").await, changes);

    // The same booking from another desk is refused, not booked twice.
    let other = push(&env.base_url(), &token, &new_id(), &batch[1..]).await;
    assert_eq!(other.results[0].code.as_deref(), Some("CONFLICT"), "{other:?}");
    assert_eq!(booked_count(&env, &d.id).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_desk_booking_gives_its_seats_back() {
    let env = Env::start().await;
    let d = departure(&env, 10, 0).await;
    let token = sign_in(&env, demo_data::DEMO_OWNER_EMAIL).await;
    let (customer_id, booking_id, client_id) = (new_id(), new_id(), new_id());
    let (booking, _) = create_booking(&d, &booking_id, &customer_id, 4);
    let cancel = (
        "cancel_booking.v1",
        json!({"booking_id": booking_id, "tour_id": d.tour_id, "departure_id": d.id, "reason": "changed plans"}),
    );
    let resp = push(&env.base_url(), &token, &client_id, &[create_customer(&customer_id), booking, cancel]).await;
    assert!(resp.results.iter().all(|r| r.status == OutcomeStatus::Applied), "{resp:?}");
    assert_eq!(booked_count(&env, &d.id).await, 0);
    assert_eq!(
        count(&env, "SELECT count(*) FROM bookings WHERE id = $1 AND status = 'cancelled'", &booking_id).await,
        1
    );
    // Nothing was paid, so the policy (none here) refunds nothing and no refund is queued.
    assert_eq!(count(&env, "SELECT count(*) FROM refunds WHERE booking_id = $1", &booking_id).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promo_code_is_priced_by_the_domain_and_its_use_counted_once() {
    let env = Env::start().await;
    let d = departure(&env, 10, 0).await;
    let pg = env.pg().await;
    let code_id = new_id();
    pg.execute(
        "INSERT INTO promotional_codes (id, organization_id, code, discount_type, discount_value, max_uses,
                                        valid_from, valid_until)
         SELECT $1, organization_id, 'Summer10', 'percentage', 1000, 1, now() - interval '1 day',
                now() + interval '30 days'
         FROM schedules WHERE id = $2",
        &[&code_id, &d.id],
    )
    .await
    .unwrap();
    let token = sign_in(&env, demo_data::DEMO_OWNER_EMAIL).await;
    let (customer_id, booking_id) = (new_id(), new_id());
    let (mut booking, _) = create_booking(&d, &booking_id, &customer_id, 2);
    booking.1["promo_code"] = json!(" summer10 ");
    let resp = push(&env.base_url(), &token, &new_id(), &[create_customer(&customer_id), booking]).await;
    assert!(resp.results.iter().all(|r| r.status == OutcomeStatus::Applied), "{resp:?}");
    let row = pg
        .query_one("SELECT total_minor, promotional_code_id FROM bookings WHERE id = $1", &[&booking_id])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 2 * d.tier_price * 9 / 10);
    assert_eq!(row.get::<_, Option<String>>(1).as_deref(), Some(code_id.as_str()));
    assert_eq!(count(&env, "SELECT current_uses::bigint FROM promotional_codes WHERE id = $1", &code_id).await, 1);
    assert_eq!(count(&env, "SELECT count(*) FROM promo_code_uses WHERE booking_id = $1", &booking_id).await, 1);

    // The code's one use is spent: the next booking with it is refused, not charged more.
    let other = new_id();
    let (mut second, _) = create_booking(&d, &new_id(), &other, 1);
    second.1["promo_code"] = json!("SUMMER10");
    let resp = push(&env.base_url(), &token, &new_id(), &[create_customer(&other), second]).await;
    assert_eq!(resp.results[1].code.as_deref(), Some("PROMO_REFUSED"), "{resp:?}");
    assert_eq!(count(&env, "SELECT current_uses::bigint FROM promotional_codes WHERE id = $1", &code_id).await, 1);
    assert_eq!(booked_count(&env, &d.id).await, 2);
}

/// A code is found by the domain's normaliser on both sides: one stored with surrounding space
/// (typed in by hand) is the code a customer types, and its uses per customer are counted too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promo_code_stored_as_typed_is_found_by_the_domains_normaliser() {
    let env = Env::start().await;
    let d = departure(&env, 10, 0).await;
    let pg = env.pg().await;
    let code_id = new_id();
    pg.execute(
        "INSERT INTO promotional_codes (id, organization_id, code, discount_type, discount_value,
                                        max_uses_per_customer, valid_from, valid_until)
         SELECT $1, organization_id, ' Autumn5 ', 'percentage', 500, 1, now() - interval '1 day',
                now() + interval '30 days'
         FROM schedules WHERE id = $2",
        &[&code_id, &d.id],
    )
    .await
    .unwrap();
    let token = sign_in(&env, demo_data::DEMO_OWNER_EMAIL).await;
    let (customer_id, booking_id) = (new_id(), new_id());
    let (mut booking, _) = create_booking(&d, &booking_id, &customer_id, 1);
    booking.1["promo_code"] = json!("autumn5");
    let resp = push(&env.base_url(), &token, &new_id(), &[create_customer(&customer_id), booking]).await;
    assert!(resp.results.iter().all(|r| r.status == OutcomeStatus::Applied), "{resp:?}");
    assert_eq!(count(&env, "SELECT count(*) FROM promo_code_uses WHERE booking_id = $1", &booking_id).await, 1);

    // Once per customer: the same customer's second use is counted through the same rule.
    let (mut again, _) = create_booking(&d, &new_id(), &customer_id, 1);
    again.1["promo_code"] = json!("AUTUMN5");
    let resp = push(&env.base_url(), &token, &new_id(), &[again]).await;
    assert_eq!(resp.results[0].code.as_deref(), Some("PROMO_REFUSED"), "{resp:?}");
}

/// Every lookup by reference reads the text as `ReferenceNumber::parse` does (any case,
/// surrounding space, the `BK-` prefix optional): the stored reference is canonical, so a
/// lookup that compared the raw text missed a reference the domain accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_by_reference_accept_what_the_domain_accepts() {
    let env = Env::start().await;
    let d = departure(&env, 10, 0).await;
    let token = sign_in(&env, demo_data::DEMO_MANAGER_EMAIL).await;
    let (customer_id, booking_id) = (new_id(), new_id());
    let (booking, _) = create_booking(&d, &booking_id, &customer_id, 1);
    let resp = push(&env.base_url(), &token, &new_id(), &[create_customer(&customer_id), booking]).await;
    assert!(resp.results.iter().all(|r| r.status == OutcomeStatus::Applied), "{resp:?}");
    let row = env
        .pg()
        .await
        .query_one("SELECT organization_id, reference_number FROM bookings WHERE id = $1", &[&booking_id])
        .await
        .unwrap();
    let (org, reference): (String, String) = (row.get(0), row.get(1));
    let typed = format!(" {} ", reference.to_ascii_lowercase().trim_start_matches("bk-"));
    // As the server runs them: its runtime role, in the organization's tenant.
    let pool = db::connect(&env.server_config).unwrap();
    let mut conn = pool.get().await.unwrap();
    let tx = conn.transaction().await.unwrap();
    db::set_tenant(&tx, &org).await.unwrap();
    let email = format!("{customer_id}@example.com");
    for text in [reference.as_str(), typed.as_str()] {
        assert!(db::booking_reference_taken(&tx, &org, text).await.unwrap(), "{text:?}");
        let found = db::booking_id_by_reference_and_email(&tx, &org, text, &email).await.unwrap();
        assert_eq!(found.as_deref(), Some(booking_id.as_str()), "{text:?}");
    }
    assert!(!db::booking_reference_taken(&tx, &org, "not a reference").await.unwrap());
}

//! Reports (issue 16) against the server's data: the demo organization's money is made of real
//! ledger entries (payments at the desk, card payments and refunds through Stripe's fold), and the
//! revenue and cancellations reports a desk computes from its replica (SQLite) agree to the minor
//! unit with independent SQL over PostgreSQL, bucketed into days in the organization's own zone.
#![allow(clippy::unwrap_used)]

use chrono::{Days, Utc};
use tourdesk_domain::money::{Currency, Money};
use tourdesk_domain::reports::{self, Grouping, ReportFilter, ReportKind, ReportTable};
use tourdesk_sync_server::demo_data;
use tourdesk_tests::Env;

/// Every booking's paid and refunded figures are the sums of its ledger entries.
const OFF_LEDGER: &str = "SELECT count(*) FROM bookings b
     WHERE b.paid_amount_minor <> coalesce((SELECT sum(l.amount_minor) FROM ledger_entries l
             WHERE l.organization_id = b.organization_id AND l.booking_id = b.id
               AND l.kind NOT IN ('refund', 'adjustment')), 0)
        OR b.refunded_amount_minor <> coalesce((SELECT sum(l.amount_minor) FROM ledger_entries l
             WHERE l.organization_id = b.organization_id AND l.booking_id = b.id AND l.kind = 'refund'), 0)";

/// The demo organization's sold bookings (not a pending hold, not cancelled without money) with
/// their booking day in the organization's zone and the snapshot's discounts and exclusive taxes,
/// read from the stored pricing JSON rather than the desk's report columns.
const SOLD: &str = "WITH sold AS (
     SELECT b.*, (b.created_at AT TIME ZONE o.timezone)::date AS day, t.name AS tour_name,
            coalesce((SELECT sum((d->'amount'->>'amount')::bigint)
                      FROM jsonb_array_elements(b.pricing->'discounts') d), 0) AS discounts,
            coalesce((SELECT sum((x->'amount'->>'amount')::bigint)
                      FROM jsonb_array_elements(b.pricing->'taxes') x WHERE NOT (x->>'inclusive')::boolean), 0) AS taxes
     FROM bookings b JOIN organizations o ON o.id = b.organization_id JOIN tours t ON t.id = b.tour_id
     WHERE o.slug = $1 AND b.status <> 'pending' AND NOT (b.status = 'cancelled' AND b.paid_amount_minor = 0))";

fn revenue_sql(group: Grouping) -> String {
    let key = match group {
        Grouping::Week => "to_char(date_trunc('week', day), 'YYYY-MM-DD')",
        Grouping::Month => "to_char(day, 'YYYY-MM')",
        Grouping::Tour => "tour_name",
        _ => "to_char(day, 'YYYY-MM-DD')",
    };
    format!(
        "{SOLD} SELECT {key}, currency, count(*), sum(participant_count)::bigint, sum(subtotal_minor)::bigint,
                sum(discounts)::bigint, sum(taxes)::bigint, sum(refunded_amount_minor)::bigint,
                sum(subtotal_minor - discounts - refunded_amount_minor)::bigint
         FROM sold WHERE day BETWEEN $2 AND $3 GROUP BY 1, 2"
    )
}

/// Cancellations by the cancellation's day in the zone, by who cancelled and why.
const CANCELLATIONS_SQL: &str = "SELECT b.cancellation->>'by', coalesce(nullif(trim(b.cancellation->>'reason'), ''),
            '(no reason given)'), b.currency, count(*), sum(b.total_minor)::bigint, sum(b.refunded_amount_minor)::bigint
     FROM bookings b JOIN organizations o ON o.id = b.organization_id
     WHERE o.slug = $1 AND b.status = 'cancelled'
       AND (b.cancelled_at AT TIME ZONE o.timezone)::date BETWEEN $2 AND $3
     GROUP BY 1, 2, 3";

fn money(amount: i64, currency: &str) -> String {
    reports::decimal(&Money::new(amount, Currency::parse(currency).unwrap()))
}

/// A table's rows as the CSV writes them, sorted (PostgreSQL's collation orders text its own way).
fn desk_rows(t: &ReportTable) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = t.rows.iter().map(|r| r.iter().map(|c| c.csv()).collect()).collect();
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_money_is_ledger_entries_and_desk_reports_match_postgres_to_the_minor_unit() {
    let env = Env::start().await;
    let pg = env.pg().await;

    // The demo's money: every figure is its ledger, in three currencies, with refunds.
    assert_eq!(env.scalar(OFF_LEDGER, &[]).await, 0, "a booking's money that is not its ledger entries");
    let paid_currencies =
        env.scalar("SELECT count(DISTINCT currency) FROM bookings WHERE paid_amount_minor > 0", &[]).await;
    assert_eq!(paid_currencies, 3, "paid bookings in EUR, USD and JPY");
    let refunded = env.scalar("SELECT count(*) FROM bookings WHERE refunded_amount_minor > 0", &[]).await;
    assert!(refunded >= 3, "refunded bookings: {refunded}");
    let partial = env
        .scalar("SELECT count(*) FROM bookings WHERE status <> 'cancelled' AND refunded_amount_minor > 0", &[])
        .await;
    assert_eq!(partial, 1, "a partial refund on a booking that stays");
    let card_refunds = env.scalar("SELECT count(*) FROM refunds WHERE status = 'succeeded'", &[]).await;
    assert_eq!(card_refunds, 4, "three cancellations' refunds and one made in Stripe, all settled");
    let queued = env.scalar("SELECT count(*) FROM refunds WHERE status <> 'succeeded'", &[]).await;
    assert_eq!(queued, 0, "no demo refund is left for the sender to send to Stripe");

    // An owner's desk holds the replica and computes the reports offline.
    let desk = env.desk("office");
    env.client(demo_data::DEMO_OWNER_EMAIL).sync_once(&desk).await.unwrap();
    assert_eq!(desk.report_zone().unwrap(), "Europe/Lisbon");
    let tz: chrono_tz::Tz = "Europe/Lisbon".parse().unwrap();
    let today = reports::local_day(Utc::now(), tz);
    let (from, to) = (today - Days::new(60), today);
    let filter = |kind, group| ReportFilter { kind, from, to, tour_id: None, source: None, currency: None, group };

    for group in [Grouping::Day, Grouping::Week, Grouping::Month, Grouping::Tour] {
        let table = desk.report(&filter(ReportKind::Revenue, group)).unwrap();
        let server: Vec<Vec<String>> = {
            let mut rows: Vec<Vec<String>> = pg
                .query(&revenue_sql(group), &[&demo_data::DEMO_ORG_SLUG, &from, &to])
                .await
                .unwrap()
                .iter()
                .map(|r| {
                    let c: String = r.get(1);
                    let n = |i: usize| r.get::<_, i64>(i);
                    vec![
                        r.get::<_, String>(0),
                        c.clone(),
                        n(2).to_string(),
                        n(3).to_string(),
                        money(n(4), &c),
                        money(n(5), &c),
                        money(n(6), &c),
                        money(n(7), &c),
                        money(n(8), &c),
                    ]
                })
                .collect();
            rows.sort();
            rows
        };
        assert!(!server.is_empty(), "the demo sold something in the last 60 days");
        assert_eq!(desk_rows(&table), server, "revenue by {group:?}");
        // The totals, per currency, are the rows' sums: three currencies, never added together.
        assert_eq!(table.totals.len(), 3, "{:?}", table.totals);
    }

    let table = desk.report(&filter(ReportKind::Cancellations, Grouping::Day)).unwrap();
    let mut server: Vec<Vec<String>> = pg
        .query(CANCELLATIONS_SQL, &[&demo_data::DEMO_ORG_SLUG, &from, &to])
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let c: String = r.get(2);
            vec![
                r.get::<_, String>(0),
                r.get::<_, String>(1),
                c.clone(),
                r.get::<_, i64>(3).to_string(),
                money(r.get(4), &c),
                money(r.get(5), &c),
            ]
        })
        .collect();
    server.sort();
    assert_eq!(server.len(), 3, "the three cancelled card bookings: {server:?}");
    assert_eq!(desk_rows(&table), server, "cancellations and refunds");
}

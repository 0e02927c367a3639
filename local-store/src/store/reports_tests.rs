//! Reports and the today dashboard on a seeded replica: exact figures, to the minor unit, over
//! Lisbon's spring-forward weekend (2026-03-29), in two currencies, with a refund, a promo code,
//! an unpaid hold and a guide.

use chrono::{NaiveDate, NaiveTime};
use tourdesk_domain::cancellation::{CancelledBy, RefundDecision};
use tourdesk_domain::entities::{Booking, BookingSource, CancellationRecord, Customer, GuideAssignment};
use tourdesk_domain::fixtures::{self, at};
use tourdesk_domain::guides::{AssignmentRole, AssignmentStatus};
use tourdesk_domain::money::{Currency, Money};
use tourdesk_domain::pricing::{AppliedDiscount, AppliedTax, DiscountKind, LineItem, PricingSnapshot};
use tourdesk_domain::protocol::{BucketPage, ChangeRecord, EntityKind, Op, PullResponse, org_bucket};
use tourdesk_domain::reports::{Cell, Grouping, ReportFilter, ReportKind, ReportTable};
use tourdesk_domain::status::{BookingStatus, PaymentStatus};
use tourdesk_domain::{Departure, Tour};

use super::*;

const ORG: &str = fixtures::ORG;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn session() -> Session {
    test_support::session(Role::Owner, "u-owner")
}

struct Seed(Vec<ChangeRecord>);

impl Seed {
    fn put<T: serde::Serialize>(&mut self, kind: EntityKind, row: &T) {
        let row = serde_json::to_value(row).unwrap();
        let id = row["id"].as_str().unwrap().to_string();
        self.0.push(ChangeRecord { seq: self.0.len() as u64 + 1, entity: kind, id, op: Op::Put, row });
    }

    /// Pulls the rows as one page of the organization's bucket, numbered on from `after`.
    fn pull(mut self, s: &Store, after: u64) {
        for (i, c) in self.0.iter_mut().enumerate() {
            c.seq = after + i as u64 + 1;
        }
        let head = after + self.0.len() as u64;
        s.apply_pull(&PullResponse {
            buckets: vec![BucketPage { bucket: org_bucket(ORG), changes: self.0, cursor: head, head }],
            complete: true,
            last_mutation_id: 0,
            results: vec![],
            removed_buckets: vec![],
        })
        .unwrap();
    }
}

fn tour(id: &str, name: &str) -> Tour {
    Tour { id: id.into(), name: name.into(), slug: id.into(), timezone: "Europe/Lisbon".into(), ..fixtures::tour() }
}

fn departure(id: &str, tour: &str, date: &str, time: &str, starts: &str, capacity: u32, booked: u32) -> Departure {
    Departure {
        id: id.into(),
        tour_id: tour.into(),
        local_date: day(date),
        local_time: time.parse::<NaiveTime>().unwrap(),
        timezone: "Europe/Lisbon".into(),
        starts_at: at(starts),
        ends_at: at(starts) + chrono::Duration::hours(2),
        capacity,
        booked_count: booked,
        ..fixtures::departure()
    }
}

/// Rita's booking of three on the City Walk, made Saturday 23:30 UTC (the 28th in Lisbon), paid.
fn rita_walks() -> Booking {
    booking(
        "b-1",
        "c-1",
        "d-30",
        "t-walk",
        Currency::EUR,
        3,
        10_000,
        "2026-03-28T23:30:00Z",
        BookingStatus::Confirmed,
        10_890,
    )
}

#[allow(clippy::too_many_arguments)]
fn booking(
    id: &str,
    customer: &str,
    dep: &str,
    tour: &str,
    cur: Currency,
    pax: u32,
    subtotal: i64,
    created: &str,
    status: BookingStatus,
    paid: i64,
) -> Booking {
    let m = |a| Money::new(a, cur);
    Booking {
        id: id.into(),
        customer_id: customer.into(),
        departure_id: dep.into(),
        tour_id: tour.into(),
        pricing: PricingSnapshot {
            line_items: vec![LineItem {
                pricing_tier_id: fixtures::ADULT.into(),
                tier_name: "Adult".into(),
                quantity: pax,
                unit_price: m(subtotal / i64::from(pax)),
                total_price: m(subtotal),
            }],
            subtotal: m(subtotal),
            discounts: vec![],
            taxes: vec![],
            total: m(subtotal),
            promotional_code_id: None,
        },
        paid_amount: m(paid),
        refunded_amount: m(0),
        source: BookingSource::Website,
        created_at: at(created),
        updated_at: at(created),
        status,
        ..fixtures::booking(id, pax, status, PaymentStatus::Paid, paid)
    }
}

fn customer(id: &str, first: &str) -> Customer {
    Customer { id: id.into(), first_name: first.into(), last_name: "Costa".into(), email: None, ..fixtures::customer() }
}

fn seeded() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("desk.sqlite3")).unwrap();
    s.save_session(&session()).unwrap();
    let mut p = Seed(Vec::new());
    p.put(EntityKind::Tour, &tour("t-walk", "City Walk"));
    p.put(EntityKind::Tour, &tour("t-boat", "Harbour Cruise"));
    // Lisbon is UTC+0 until 01:00 UTC on 2026-03-29, UTC+1 after.
    p.put(EntityKind::Departure, &departure("d-30", "t-walk", "2026-03-30", "10:00", "2026-03-30T09:00:00Z", 10, 5));
    p.put(EntityKind::Departure, &departure("d-31", "t-boat", "2026-03-31", "14:00", "2026-03-31T13:00:00Z", 20, 4));
    p.put(EntityKind::Departure, &departure("d-01", "t-walk", "2026-04-01", "10:00", "2026-04-01T09:00:00Z", 10, 0));
    for (id, name) in [("c-1", "Rita"), ("c-2", "Hugo"), ("c-3", "Vera")] {
        p.put(EntityKind::Customer, &customer(id, name));
    }
    p.put(EntityKind::Guide, &fixtures::guide());
    p.put(
        EntityKind::GuideAssignment,
        &GuideAssignment {
            id: "ga-1".into(),
            organization_id: ORG.into(),
            departure_id: "d-30".into(),
            guide_id: fixtures::GUIDE.into(),
            status: AssignmentStatus::Confirmed,
            assigned_at: at("2026-03-01T10:00:00Z"),
            confirmed_at: None,
            notes: None,
            role: AssignmentRole::Lead,
            override_reason: None,
        },
    );
    let eur = |a| Money::new(a, Currency::EUR);
    // Saturday 23:30 in Lisbon: the 28th. €100 less a €10 code, 21 % VAT on top, paid.
    let mut b1 = rita_walks();
    b1.pricing.discounts = vec![AppliedDiscount {
        kind: DiscountKind::PromotionalCode,
        description: "SUMMER10".into(),
        amount: eur(1_000),
        code_id: Some("promo-1".into()),
    }];
    b1.pricing.taxes = vec![
        AppliedTax {
            name: "VAT".into(),
            rate: tourdesk_domain::money::Percent::whole(21),
            inclusive: false,
            amount: eur(1_890),
        },
        AppliedTax {
            name: "City".into(),
            rate: tourdesk_domain::money::Percent::whole(1),
            inclusive: true,
            amount: eur(89),
        },
    ];
    b1.pricing.total = eur(10_890);
    b1.pricing.promotional_code_id = Some("promo-1".into());
    b1.checked_in = 3;
    // Sunday 23:30 UTC is already Monday the 30th in Lisbon: booked and cancelled then, €15 back.
    let mut b2 = booking(
        "b-2",
        "c-1",
        "d-30",
        "t-walk",
        Currency::EUR,
        2,
        4_000,
        "2026-03-29T23:30:00Z",
        BookingStatus::Cancelled,
        4_000,
    );
    b2.source = BookingSource::Phone;
    b2.refunded_amount = eur(1_500);
    b2.cancelled_at = Some(at("2026-03-29T23:40:00Z"));
    b2.cancellation = Some(CancellationRecord {
        by: CancelledBy::Customer,
        reason: Some("weather".into()),
        decision: RefundDecision { hours_before: 9, rule: None, refund_percentage: 37, refund: eur(1_500) },
        refund_override: None,
        net_paid: None,
        refund_by_hand: None,
    });
    // An unpaid hold in dollars (not sold) and a half-paid sale in dollars, Sunday the 29th.
    let b3 = booking(
        "b-3",
        "c-2",
        "d-31",
        "t-boat",
        Currency::USD,
        1,
        5_000,
        "2026-03-29T12:00:00Z",
        BookingStatus::Pending,
        0,
    );
    let mut b4 = booking(
        "b-4",
        "c-2",
        "d-31",
        "t-boat",
        Currency::USD,
        4,
        7_000,
        "2026-03-29T00:30:00Z",
        BookingStatus::Confirmed,
        3_500,
    );
    b4.checked_in = 3;
    b4.no_shows = 1;
    // Rita's first booking, last June; Vera's, 52 weeks before Tuesday the 31st.
    let b0 = booking(
        "b-0",
        "c-1",
        "d-gone",
        "t-walk",
        Currency::EUR,
        1,
        2_000,
        "2025-06-01T10:00:00Z",
        BookingStatus::Completed,
        2_000,
    );
    let b5 = booking(
        "b-5",
        "c-3",
        "d-gone",
        "t-walk",
        Currency::EUR,
        1,
        800,
        "2025-04-01T10:00:00Z",
        BookingStatus::Confirmed,
        800,
    );
    for b in [b0, b1, b2, b3, b4, b5] {
        p.put(EntityKind::Booking, &b);
    }
    p.pull(&s, 0);
    // The promo code row, as the catalogue replicates it.
    let code = fixtures::promo();
    s.conn()
        .execute(
            "INSERT INTO promo_codes (id, organization_id, code, discount, valid_from, valid_until,
             applicable_tour_ids, applicable_variant_ids, current_uses, status)
             VALUES (?1, ?2, ?3, '{}', '', '', '[]', '[]', 1, 'active')",
            rusqlite::params![code.id, ORG, code.code],
        )
        .unwrap();
    (dir, s)
}

fn filter(kind: ReportKind, group: Grouping) -> ReportFilter {
    ReportFilter {
        kind,
        from: day("2026-03-28"),
        to: day("2026-03-31"),
        tour_id: None,
        source: None,
        currency: None,
        group,
    }
}

fn shown(rows: &[Vec<Cell>]) -> Vec<Vec<String>> {
    rows.iter().map(|r| r.iter().map(Cell::display).collect()).collect()
}

#[test]
fn revenue_by_day_in_lisbon_per_currency_to_the_minor_unit() {
    let (_d, s) = seeded();
    assert_eq!(s.report_zone().unwrap(), "Europe/Lisbon");
    let t = s.report(&filter(ReportKind::Revenue, Grouping::Day)).unwrap();
    assert_eq!(
        shown(&t.rows),
        [
            ["2026-03-28", "EUR", "1", "3", "EUR 100.00", "EUR 10.00", "EUR 18.90", "EUR 0.00", "EUR 90.00"],
            ["2026-03-29", "USD", "1", "4", "USD 70.00", "USD 0.00", "USD 0.00", "USD 0.00", "USD 70.00"],
            ["2026-03-30", "EUR", "1", "2", "EUR 40.00", "EUR 0.00", "EUR 0.00", "EUR 15.00", "EUR 25.00"],
        ]
    );
    assert_eq!(
        shown(&t.totals),
        [
            ["Total", "EUR", "2", "5", "EUR 140.00", "EUR 10.00", "EUR 18.90", "EUR 15.00", "EUR 115.00"],
            ["Total", "USD", "1", "4", "USD 70.00", "USD 0.00", "USD 0.00", "USD 0.00", "USD 70.00"],
        ]
    );
    let by_tour = s.report(&filter(ReportKind::Revenue, Grouping::Tour)).unwrap();
    assert_eq!(
        shown(&by_tour.rows).iter().map(|r| (r[0].clone(), r[8].clone())).collect::<Vec<_>>(),
        [("City Walk".to_string(), "EUR 115.00".to_string()), ("Harbour Cruise".to_string(), "USD 70.00".to_string())]
    );
    let mut one = filter(ReportKind::Revenue, Grouping::Month);
    one.currency = Some(Currency::USD);
    assert_eq!(
        shown(&s.report(&one).unwrap().rows),
        [["2026-03", "USD", "1", "4", "USD 70.00", "USD 0.00", "USD 0.00", "USD 0.00", "USD 70.00"]]
    );
    let csv = t.to_csv();
    assert!(csv.starts_with("Period,Currency,Bookings,Guests,Gross,Discounts,Taxes,Refunds,Net\r\n2026-03-28,EUR,1,3,100.00,10.00,18.90,0.00,90.00\r\n"), "{csv}");
}

#[test]
fn sources_utilisation_cancellations_promos_guides_and_customers() {
    let (_d, s) = seeded();
    let t = s.report(&filter(ReportKind::Sources, Grouping::Day)).unwrap();
    assert_eq!(
        shown(&t.rows),
        [
            ["phone", "same day", "EUR", "1", "2", "EUR 25.00"],
            ["website", "1–6 days", "EUR", "1", "3", "EUR 90.00"],
            ["website", "1–6 days", "USD", "1", "4", "USD 70.00"],
        ]
    );
    let t = s.report(&filter(ReportKind::Utilisation, Grouping::Tour)).unwrap();
    assert_eq!(
        shown(&t.rows),
        [["City Walk", "1", "10", "5", "50.0 %"], ["Harbour Cruise", "1", "20", "4", "20.0 %"]],
        "the 1 April departure is outside the range"
    );
    assert_eq!(shown(&t.totals), [["Total", "2", "30", "9", "30.0 %"]]);
    let t = s.report(&filter(ReportKind::Cancellations, Grouping::Day)).unwrap();
    assert_eq!(shown(&t.rows), [["customer", "weather", "EUR", "1", "EUR 40.00", "EUR 15.00"]]);
    let t = s.report(&filter(ReportKind::Promos, Grouping::Day)).unwrap();
    assert_eq!(shown(&t.rows), [["SUMMER10", "EUR", "1", "EUR 10.00", "EUR 90.00"]]);
    let t = s.report(&filter(ReportKind::Guides, Grouping::Day)).unwrap();
    assert_eq!(shown(&t.rows), [["Gil Moss", "1", "3", "0", "0.0 %", "0", "—"]]);
    let t = s.report(&filter(ReportKind::Customers, Grouping::Day)).unwrap();
    assert_eq!(
        shown(&t.rows),
        [
            ["new", "USD", "1", "1", "USD 70.00", "USD 70.00", "USD 70.00"],
            ["returning", "EUR", "1", "2", "EUR 115.00", "EUR 135.00", "EUR 135.00"],
        ]
    );
}

#[test]
fn a_range_ending_before_it_starts_is_refused_at_its_field() {
    let (_d, s) = seeded();
    let mut f = filter(ReportKind::Revenue, Grouping::Day);
    f.to = day("2026-03-01");
    match s.report(&f) {
        Err(StoreError::Rejected(tourdesk_domain::mutation::Rejection::Invalid(e))) => assert_eq!(e.field, "to"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_dashboard_shows_today_and_tomorrow_money_due_holds_and_revenue_against_last_year() {
    let (_d, s) = seeded();
    // Tuesday 31 March, 09:00 in Lisbon.
    let d = s.dashboard(at("2026-03-31T08:00:00Z")).unwrap();
    assert_eq!(d.today, Some(day("2026-03-31")));
    assert_eq!(d.departures.iter().map(|x| x.departure_id.as_str()).collect::<Vec<_>>(), ["d-31", "d-01"]);
    let boat = &d.departures[0];
    assert_eq!((boat.capacity, boat.seats_sold, boat.checked_in, boat.no_shows), (20, 4, 3, 1));
    assert!(boat.guides.is_empty());
    assert_eq!(d.payments_due_count, 2);
    assert_eq!(
        d.payments_due.iter().map(|p| (p.reference_number.clone(), p.balance_due.display())).collect::<Vec<_>>().len(),
        2
    );
    let mut due: Vec<String> = d.payments_due.iter().map(|p| p.balance_due.display()).collect();
    due.sort();
    assert_eq!(due, ["USD 35.00", "USD 50.00"]);
    assert_eq!(
        (d.holds_count, d.holds[0].booking_id.as_str(), d.holds[0].customer_name.as_str()),
        (1, "b-3", "Hugo Costa")
    );
    assert_eq!(d.refused, 0);
    assert_eq!(d.revenue.len(), 1, "{:?}", d.revenue);
    let r = &d.revenue[0];
    assert_eq!(
        (r.currency, r.today.amount, r.today_last_year.amount, r.week.amount, r.week_last_year.amount),
        (Currency::EUR, 0, 800, 2_500, 800)
    );
    // The day before: Monday's walk is today, with its guide, and Tuesday's cruise tomorrow.
    let d = s.dashboard(at("2026-03-30T08:00:00Z")).unwrap();
    assert_eq!(d.departures.iter().map(|x| x.departure_id.as_str()).collect::<Vec<_>>(), ["d-30", "d-31"]);
    assert_eq!(d.departures[0].guides, ["Gil Moss"]);
}

/// The payments due read each of the week's departures' bookings by departure: V32's balance
/// index matches the balance condition too, and SQLite chose it, reading every booking with money
/// due once per departure (11 s over the bench's 100k replica).
#[test]
fn the_dashboards_payments_due_read_bookings_by_departure() {
    let (_d, s) = seeded();
    let conn = s.conn();
    let plan: Vec<String> = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {}", reports::PAYMENTS_DUE))
        .unwrap()
        .query_map(
            rusqlite::named_params! {":org": ORG, ":from": "2026-03-31T00:00:00Z", ":to": "2026-04-07T00:00:00Z"},
            |r| r.get::<_, String>(3),
        )
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let bookings: Vec<&String> = plan.iter().filter(|p| p.contains(" b ")).collect();
    assert!(bookings.len() == 1 && bookings[0].contains("bookings_departure_idx"), "{plan:?}");
}

#[test]
fn a_guides_desk_reads_no_report_and_no_revenue() {
    let (_d, s) = seeded();
    s.conn().execute("UPDATE meta SET value = json_set(value, '$.role', 'guide') WHERE key = 'session'", []).unwrap();
    match s.report(&filter(ReportKind::Revenue, Grouping::Day)) {
        Err(StoreError::Rejected(tourdesk_domain::mutation::Rejection::NotAuthorized { .. })) => {}
        other => panic!("{other:?}"),
    }
    let d = s.dashboard(at("2026-03-31T08:00:00Z")).unwrap();
    assert!(d.revenue.is_empty() && d.departures.len() == 2, "{d:?}");
}

#[test]
fn the_organizations_own_zone_counts_the_days_not_the_zone_most_tours_run_in() {
    let (_d, s) = seeded();
    // Three New York tours to Lisbon's two: the tours' zone alone would count in New York (the
    // demo organization, in Lisbon, was counted in New York that way).
    let mut p = Seed(Vec::new());
    for id in ["t-ny1", "t-ny2", "t-ny3"] {
        p.put(EntityKind::Tour, &Tour { timezone: "America/New_York".into(), ..tour(id, "Bronx Walk") });
    }
    p.pull(&s, 100);
    let days = |s: &Store| -> Vec<(String, String)> {
        let t = s.report(&filter(ReportKind::Revenue, Grouping::Day)).unwrap();
        shown(&t.rows).into_iter().map(|r| (r[0].clone(), r[1].clone())).collect()
    };
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    };
    assert_eq!(s.report_zone().unwrap(), "America/New_York");
    // In New York (UTC-4 since 8 March) every sale is a day earlier than in Lisbon but one.
    assert_eq!(days(&s), pairs(&[("2026-03-28", "EUR"), ("2026-03-28", "USD"), ("2026-03-29", "EUR")]));

    // The organization's own zone, sent with its session, decides: Lisbon's days across its
    // spring-forward night (23:30 UTC is the 28th before it and the 30th after it).
    let mut lisbon = session();
    lisbon.organization_defaults.timezone = Some("Europe/Lisbon".into());
    s.save_session(&lisbon).unwrap();
    assert_eq!(s.report_zone().unwrap(), "Europe/Lisbon");
    assert_eq!(days(&s), pairs(&[("2026-03-28", "EUR"), ("2026-03-29", "USD"), ("2026-03-30", "EUR")]));
    // The dashboard's today too: 00:30 UTC on the 31st is the 31st in Lisbon, the 30th in New York.
    assert_eq!(s.dashboard(at("2026-03-31T00:30:00Z")).unwrap().today, Some(day("2026-03-31")));
    assert_eq!(s.dashboard(at("2026-03-31T00:30:00Z")).unwrap().timezone, "Europe/Lisbon");

    // A zone the desk does not know (a newer tz database on the server) falls back to the guess.
    lisbon.organization_defaults.timezone = Some("Mars/Olympus_Mons".into());
    s.save_session(&lisbon).unwrap();
    assert_eq!(s.report_zone().unwrap(), "America/New_York");
}

#[test]
fn the_report_columns_follow_each_new_version_of_a_booking() {
    let (_d, s) = seeded();
    type Cols = (i64, i64, i64, i64, i64, Option<String>, Option<String>, Option<String>);
    let cols = |s: &Store| -> Cols {
        s.conn()
            .query_row(
                "SELECT subtotal_minor, discounts_minor, exclusive_taxes_minor, paid_minor, refunded_minor,
                        promo_code_id, cancel_reason, cancelled_by FROM bookings WHERE id = 'b-1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)),
            )
            .unwrap()
    };
    // Only the exclusive tax counts (the inclusive one is inside the subtotal).
    assert_eq!(cols(&s), (10_000, 1_000, 1_890, 10_890, 0, Some("promo-1".into()), None, None));
    // A new version without the code and the taxes, cancelled by the operator with a full refund.
    let mut b1 = rita_walks();
    b1.status = BookingStatus::Cancelled;
    b1.refunded_amount = Money::new(10_890, Currency::EUR);
    b1.cancellation = Some(CancellationRecord {
        by: CancelledBy::Operator,
        reason: Some("storm".into()),
        decision: RefundDecision {
            hours_before: 30,
            rule: None,
            refund_percentage: 100,
            refund: Money::new(10_890, Currency::EUR),
        },
        refund_override: None,
        net_paid: None,
        refund_by_hand: None,
    });
    let mut p = Seed(Vec::new());
    p.put(EntityKind::Booking, &b1);
    p.pull(&s, 199);
    assert_eq!(cols(&s), (10_000, 0, 0, 10_890, 10_890, None, Some("storm".into()), Some("operator".into())));
}

#[test]
fn a_customers_report_over_a_long_range_reads_every_history_once() {
    let (_d, s) = seeded();
    // Over more than two months the report reads every booking by customer (one index pass)
    // instead of looking each customer up: the same figures as the lookups give.
    let long =
        ReportFilter { from: day("2025-01-01"), to: day("2026-12-31"), ..filter(ReportKind::Customers, Grouping::Day) };
    let t = s.report(&long).unwrap();
    assert!(!t.rows.is_empty());
    let mut short = long.clone();
    short.to = day("2025-02-28");
    short.from = day("2025-01-01");
    assert!(s.report(&short).unwrap().rows.is_empty());
    // Rita booked first in June 2025, Vera in April 2025, Hugo in March 2026: all new over the
    // whole range, with every sale of theirs in it.
    assert_eq!(shown(&t.rows).iter().map(|r| (r[0].clone(), r[2].clone())).collect::<Vec<_>>().len(), t.rows.len());
    assert_eq!(t.totals.len(), 2, "{:?}", shown(&t.totals));
}

#[test]
fn a_report_csv_reads_back_through_a_csv_parser_cell_for_cell() {
    let (_d, s) = seeded();
    // A tour name with every character CSV must quote, and one a spreadsheet would run.
    let mut p = Seed(Vec::new());
    p.put(EntityKind::Tour, &tour("t-walk", "Walk, \"Alfama\"\r\nby night"));
    p.put(EntityKind::Tour, &tour("t-boat", "=Harbour Cruise"));
    p.pull(&s, 299);
    for (kind, group) in [
        (ReportKind::Revenue, Grouping::Tour),
        (ReportKind::Revenue, Grouping::Day),
        (ReportKind::Sources, Grouping::Day),
        (ReportKind::Cancellations, Grouping::Day),
        (ReportKind::Utilisation, Grouping::Tour),
        (ReportKind::Customers, Grouping::Day),
    ] {
        let t = s.report(&filter(kind, group)).unwrap();
        let csv = t.to_csv();
        let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(csv.as_bytes());
        let headers: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(headers, t.columns, "{kind:?}");
        let records: Vec<csv::StringRecord> = r.records().collect::<Result<_, _>>().unwrap();
        assert_eq!(records.len(), t.rows.len(), "{kind:?}: {csv}");
        for (rec, row) in records.iter().zip(&t.rows) {
            assert_eq!(rec.len(), row.len());
            for (field, cell) in rec.iter().zip(row) {
                let want = match cell {
                    // Text comes back as written, but for the quote that keeps a formula text.
                    Cell::Text(t) if t.starts_with(['=', '+', '-', '@']) => format!("'{t}"),
                    Cell::Text(t) => t.clone(),
                    other => other.csv(),
                };
                assert_eq!(field, want, "{kind:?}");
            }
        }
    }
    // The money columns are decimal strings in the currency's exponent: the net column of the
    // revenue by tour adds up, in minor units, to the total's.
    let t = s.report(&filter(ReportKind::Revenue, Grouping::Tour)).unwrap();
    let csv = t.to_csv();
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let names: Vec<String> = r.records().map(|x| x.unwrap()[0].to_string()).collect();
    assert_eq!(names, ["'=Harbour Cruise", "Walk, \"Alfama\"\r\nby night"]);
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let eur_net: i64 = r
        .records()
        .map(|x| x.unwrap())
        .filter(|x| &x[1] == "EUR")
        .map(|x| x[8].replace('.', "").parse::<i64>().unwrap())
        .sum();
    assert_eq!(eur_net, 11_500);
}

/// The CSV of `t` parsed by a real CSV reader, and the XLSX of `t` read back by a real
/// spreadsheet reader (calamine), as the same strings: header, every row, then the totals after
/// one empty row. Numbers come back as numbers (a spreadsheet sums them) that print as the CSV.
fn csv_and_xlsx_agree(t: &ReportTable, what: &str) {
    use calamine::{Data, Reader, Xlsx};
    let csv = t.to_csv();
    let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(csv.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let records: Vec<Vec<String>> = r.records().map(|x| x.unwrap().iter().map(String::from).collect()).collect();

    let bytes = crate::export::report_xlsx(t).unwrap();
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let names = book.sheet_names();
    assert_eq!(names.len(), 1, "{what}");
    let range = book.worksheet_range(&names[0]).unwrap();
    let sheet: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    let as_text = |d: &Data, cell: Option<&Cell>| -> String {
        match (d, cell) {
            (Data::String(s), _) => s.clone(),
            (Data::Empty, _) => String::new(),
            (Data::Float(f), Some(c)) => crate::export::xlsx_number_as_csv(*f, c),
            (Data::Int(i), Some(c)) => crate::export::xlsx_number_as_csv(*i as f64, c),
            (other, c) => panic!("{what}: unexpected cell {other:?} for {c:?}"),
        }
    };
    let read_header: Vec<String> = sheet[0].iter().map(|d| as_text(d, None)).collect();
    assert_eq!(read_header, header, "{what}");
    assert_eq!(read_header, t.columns, "{what}");
    for (i, (row, rec)) in t.rows.iter().zip(&records).enumerate() {
        let got: Vec<String> =
            (0..row.len()).map(|c| sheet[i + 1].get(c).map_or(String::new(), |d| as_text(d, row.get(c)))).collect();
        let want: Vec<String> = rec
            .iter()
            .zip(row)
            .map(|(field, cell)| match cell {
                // The CSV quotes text a spreadsheet would run; XLSX keeps it a string as typed.
                Cell::Text(s) => s.clone(),
                _ => field.to_string(),
            })
            .collect();
        assert_eq!(got, want, "{what}: row {i}");
        if let Some(Cell::Money(_)) = row.iter().find(|c| matches!(c, Cell::Money(_))) {
            let c = row.iter().position(|c| matches!(c, Cell::Money(_))).unwrap();
            assert!(matches!(sheet[i + 1][c], Data::Float(_) | Data::Int(_)), "{what}: money is a number cell");
        }
    }
    assert_eq!(records.len(), t.rows.len(), "{what}");
    if !t.totals.is_empty() {
        let first = t.rows.len() + 2;
        assert!(sheet.get(first - 1).is_none_or(|r| r.iter().all(|d| *d == Data::Empty)), "{what}: a gap row");
        for (j, total) in t.totals.iter().enumerate() {
            let got: Vec<String> = (0..total.len())
                .map(|c| sheet[first + j].get(c).map_or(String::new(), |d| as_text(d, total.get(c))))
                .collect();
            let want: Vec<String> = total.iter().map(|c| c.csv()).collect();
            assert_eq!(got, want, "{what}: total {j}");
        }
    }
}

#[test]
fn every_report_as_xlsx_reads_back_as_its_csv() {
    let (_d, s) = seeded();
    let mut p = Seed(Vec::new());
    p.put(EntityKind::Tour, &tour("t-boat", "=Harbour Cruise"));
    p.0[0].seq = 300;
    s.apply_pull(&PullResponse {
        buckets: vec![BucketPage { bucket: org_bucket(ORG), changes: p.0, cursor: 300, head: 300 }],
        complete: true,
        last_mutation_id: 0,
        results: vec![],
        removed_buckets: vec![],
    })
    .unwrap();
    for kind in ReportKind::ALL {
        for group in [Grouping::Day, Grouping::Week, Grouping::Month, Grouping::Tour, Grouping::Weekday] {
            let t = s.report(&filter(kind, group)).unwrap();
            csv_and_xlsx_agree(&t, &format!("{kind:?} by {group:?}"));
        }
    }
    let t = s.report(&filter(ReportKind::Revenue, Grouping::Tour)).unwrap();
    assert!(t.rows.iter().any(|r| r[0] == Cell::Text("=Harbour Cruise".into())), "{:?}", shown(&t.rows));
}

#[test]
fn the_bookings_and_customers_lists_export_with_their_filters() {
    use tourdesk_domain::ipc::BookingFilter;
    let (_d, s) = seeded();
    let all = BookingFilter::default();
    let t = s.bookings_table(&all).unwrap();
    let listed = s.list_bookings(&all).unwrap();
    assert_eq!(t.rows.len() as u64, listed.matches, "every booking, not a page");
    assert!(t.rows.len() >= 3, "{:?}", shown(&t.rows));
    let refs: Vec<String> = listed.rows.iter().map(|r| r.booking.reference_number.clone()).collect();
    let exported: Vec<String> = t.rows.iter().map(|r| r[0].csv()).collect();
    assert_eq!(exported, refs, "in the screen's order");
    csv_and_xlsx_agree(&t, "bookings");
    // A filter applies to the export as to the screen.
    let cancelled = BookingFilter { status: Some(BookingStatus::Cancelled), ..BookingFilter::default() };
    let t = s.bookings_table(&cancelled).unwrap();
    assert_eq!(t.rows.len() as u64, s.list_bookings(&cancelled).unwrap().matches);
    assert!(
        !t.rows.is_empty() && t.rows.iter().all(|r| r[7] == Cell::Text("cancelled".into())),
        "{:?}",
        shown(&t.rows)
    );
    // More than a page: the export is not cut at the screen's page size.
    let one = BookingFilter { limit: 1, ..BookingFilter::default() };
    assert_eq!(s.bookings_table(&one).unwrap().rows.len() as u64, listed.matches);

    let everyone = s.customers_table("").unwrap();
    assert_eq!(everyone.rows.len(), 3, "{:?}", shown(&everyone.rows));
    csv_and_xlsx_agree(&everyone, "customers");
    let rita = s.customers_table("Rita").unwrap();
    assert_eq!(rita.rows.len(), 1, "{:?}", shown(&rita.rows));
    assert_eq!(rita.rows[0][1], Cell::Text("Rita".into()));
    assert!(matches!(rita.rows[0][4], Cell::Count(n) if n >= 1), "{:?}", shown(&rita.rows));
}

#[test]
fn the_payments_ledger_exports_the_days_entries_in_the_organizations_zone() {
    use tourdesk_domain::ledger::{EntryKind, LedgerEntry};
    let (_d, s) = seeded();
    let entry =
        |id: &str, booking: &str, kind: EntryKind, amount: i64, cur: Currency, by: &str, at_: &str| LedgerEntry {
            id: id.into(),
            organization_id: ORG.into(),
            booking_id: booking.into(),
            departure_id: "d-30".into(),
            kind,
            amount,
            currency: cur,
            note: None,
            reference: Some(format!("R-{id}")),
            recorded_by: by.into(),
            recorded_at: at(at_),
            method: None,
        };
    let mut p = Seed(Vec::new());
    // Lisbon is UTC+0 until 01:00 UTC on the 29th, UTC+1 after.
    for e in [
        entry("e-1", "b-1", EntryKind::Cash, 10_890, Currency::EUR, "u-owner", "2026-03-28T23:30:00Z"),
        entry("e-2", "b-2", EntryKind::Refund, 1_500, Currency::EUR, "u-other", "2026-03-29T22:30:00Z"),
        entry("e-3", "b-3", EntryKind::CardTerminal, 2_550, Currency::USD, "u-owner", "2026-03-29T23:30:00Z"),
        entry("e-4", "b-gone", EntryKind::BankTransfer, 100, Currency::EUR, "u-owner", "2026-03-31T23:30:00Z"),
    ] {
        p.put(EntityKind::LedgerEntry, &e);
    }
    for c in p.0.iter_mut() {
        c.seq += 400;
    }
    s.apply_pull(&PullResponse {
        buckets: vec![BucketPage { bucket: org_bucket(ORG), changes: p.0, cursor: 404, head: 404 }],
        complete: true,
        last_mutation_id: 0,
        results: vec![],
        removed_buckets: vec![],
    })
    .unwrap();
    let reference = |id: &str| s.booking_money(id).unwrap().unwrap().reference_number.to_string();
    let (r2, r3) = (reference("b-2"), reference("b-3"));

    // The 29th and 30th in Lisbon: e-2 (23:30 on the 29th) and e-3 (00:30 on the 30th), not e-1
    // (the 28th) nor e-4 (the 1st of April).
    let t = s.payments_table(day("2026-03-29"), day("2026-03-30")).unwrap();
    let csv = t.to_csv();
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        ["Date", "Time", "Booking", "Customer", "Kind", "Method", "Amount", "Currency", "Reference", "Recorded by"]
    );
    let rows: Vec<Vec<String>> = r.records().map(|x| x.unwrap().iter().map(String::from).collect()).collect();
    assert_eq!(
        rows,
        [
            [
                "2026-03-29",
                "23:30",
                r2.as_str(),
                "Rita Costa",
                "refund",
                "",
                "15.00",
                "EUR",
                "R-e-2",
                "Staff account u-other"
            ],
            [
                "2026-03-30",
                "00:30",
                r3.as_str(),
                "Hugo Costa",
                "payment",
                "Card terminal",
                "25.50",
                "USD",
                "R-e-3",
                "Olivia"
            ],
        ]
    );
    csv_and_xlsx_agree(&t, "payments ledger");

    // A booking this desk no longer holds still shows its entry, by its id.
    let april = s.payments_table(day("2026-04-01"), day("2026-04-01")).unwrap();
    assert_eq!(shown(&april.rows)[0][2..4], ["b-gone".to_string(), String::new()]);
    // A range that ends before it starts is refused at its field.
    let e = s.payments_table(day("2026-03-30"), day("2026-03-29")).unwrap_err();
    assert!(
        matches!(&e, StoreError::Rejected(tourdesk_domain::mutation::Rejection::Invalid(f)) if f.field == "to"),
        "{e:?}"
    );
}

fn rating(id: &str, departure: &str, stars: u8, published: bool) -> tourdesk_domain::reviews::ReviewRating {
    tourdesk_domain::reviews::ReviewRating {
        id: id.into(),
        organization_id: ORG.into(),
        tour_id: "t-walk".into(),
        booking_id: Some(format!("b-{id}")),
        departure_id: Some(departure.into()),
        rating: stars,
        published,
        moderated_at: Some(at("2026-04-01T10:00:00Z")),
    }
}

fn pull_ratings(s: &Store, from_seq: u64, ratings: &[tourdesk_domain::reviews::ReviewRating]) {
    let changes: Vec<ChangeRecord> = ratings
        .iter()
        .enumerate()
        .map(|(i, r)| ChangeRecord {
            seq: from_seq + i as u64,
            entity: EntityKind::ReviewRating,
            id: r.id.clone(),
            op: Op::Put,
            row: serde_json::to_value(r).unwrap(),
        })
        .collect();
    let head = from_seq + ratings.len() as u64 - 1;
    s.apply_pull(&PullResponse {
        buckets: vec![BucketPage { bucket: org_bucket(ORG), changes, cursor: head, head }],
        complete: true,
        last_mutation_id: 0,
        results: vec![],
        removed_buckets: vec![],
    })
    .unwrap();
}

#[test]
fn the_guide_report_averages_the_published_ratings_the_replica_receives() {
    let (_d, s) = seeded();
    // Gil leads d-30: 5 and 4 published, a 1 waiting for approval elsewhere is not counted.
    pull_ratings(
        &s,
        1_000,
        &[rating("r1", "d-30", 5, true), rating("r2", "d-30", 4, true), rating("r3", "d-30", 1, false)],
    );
    let t = s.report(&filter(ReportKind::Guides, Grouping::Day)).unwrap();
    assert_eq!(shown(&t.rows), [["Gil Moss", "1", "3", "0", "0.0 %", "2", "4.5 of 5"]]);
    // Approved, then rejected: the later row replaces it and the average drops it.
    pull_ratings(&s, 2_000, &[rating("r1", "d-30", 5, false)]);
    let t = s.report(&filter(ReportKind::Guides, Grouping::Day)).unwrap();
    assert_eq!(shown(&t.rows), [["Gil Moss", "1", "3", "0", "0.0 %", "1", "4.0 of 5"]]);
}

#[test]
fn the_funnel_keeps_the_newest_copy_per_range_for_offline() {
    use tourdesk_domain::reports::funnel::{FunnelCell, FunnelReport};
    let (_d, s) = seeded();
    assert_eq!(s.funnel_report(day("2026-03-01"), day("2026-03-31")).unwrap(), None);
    let report = |as_of: &str, visitors: i64| FunnelReport {
        from: day("2026-03-01"),
        to: day("2026-03-31"),
        zone: "Europe/Lisbon".into(),
        as_of: at(as_of),
        tours: Default::default(),
        cells: vec![FunnelCell { steps: [visitors, 0, 0, 0, 0, 0], ..Default::default() }],
    };
    s.save_funnel_report(&report("2026-04-01T10:00:00Z", 7)).unwrap();
    s.save_funnel_report(&report("2026-04-02T10:00:00Z", 9)).unwrap();
    // An answer that was counted earlier but arrives later does not replace the newer one.
    s.save_funnel_report(&report("2026-04-01T12:00:00Z", 8)).unwrap();
    let kept = s.funnel_report(day("2026-03-01"), day("2026-03-31")).unwrap().unwrap();
    assert_eq!((kept.as_of, kept.cells[0].steps[0]), (at("2026-04-02T10:00:00Z"), 9));
    assert_eq!(s.funnel_report(day("2026-03-01"), day("2026-03-30")).unwrap(), None, "another range");
    let err = s.funnel_report(day("2026-03-31"), day("2026-03-01")).unwrap_err();
    assert!(err.to_string().contains("end date"), "{err}");
}

/// Four hundred bookings of thirty customers over two and a half years, on the report's edges:
/// made at a fraction of a second, a few minutes either side of Lisbon's midnights and of its
/// clock changes, on departures this desk holds and one it does not, with and without a code.
fn seeded_many() -> (tempfile::TempDir, Store) {
    let (dir, s) = seeded();
    let mut p = Seed(Vec::new());
    p.put(EntityKind::Departure, &departure("d-far", "t-boat", "2027-01-10", "09:00", "2027-01-10T09:00:00Z", 400, 0));
    for i in 0..30 {
        p.put(EntityKind::Customer, &customer(&format!("c-m{i}"), &format!("Many{i}")));
    }
    // A small linear congruential generator: the same replica on every run.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let edges = ["2025-03-30T00:59", "2025-10-26T00:59", "2026-03-29T00:59", "2025-12-31T23:59", "2026-06-30T22:59"];
    for i in 0..400 {
        let base = if next(4) == 0 {
            at(&format!("{}:00Z", edges[next(edges.len() as u64) as usize]))
        } else {
            at("2024-07-01T00:00:00Z") + chrono::Duration::minutes(next(60 * 24 * 900) as i64)
        };
        let created = base + chrono::Duration::milliseconds(next(120_000) as i64);
        let (cur, dep, tour) = match next(4) {
            0 => (Currency::USD, "d-31", "t-boat"),
            1 => (Currency::EUR, "d-gone", "t-walk"),
            2 => (Currency::EUR, "d-30", "t-walk"),
            _ => (Currency::EUR, "d-far", "t-boat"),
        };
        let status =
            [BookingStatus::Confirmed, BookingStatus::Pending, BookingStatus::Cancelled, BookingStatus::Completed]
                [next(4) as usize];
        let subtotal = 1_000 + next(50_000) as i64;
        let paid = if next(3) == 0 { 0 } else { subtotal };
        let mut b = booking(
            &format!("b-m{i}"),
            &format!("c-m{}", next(30)),
            dep,
            tour,
            cur,
            1 + next(5) as u32,
            subtotal,
            &created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            status,
            paid,
        );
        b.source = [BookingSource::Website, BookingSource::Phone, BookingSource::Ota][next(3) as usize];
        b.refunded_amount = Money::new(paid * next(3) as i64 / 4, cur);
        if next(3) == 0 {
            let code = if next(4) == 0 { "promo-gone" } else { "promo-1" };
            let off = Money::new(subtotal / 10, cur);
            b.pricing.discounts = vec![AppliedDiscount {
                kind: DiscountKind::PromotionalCode,
                description: "code".into(),
                amount: off,
                code_id: Some(code.into()),
            }];
            b.pricing.promotional_code_id = Some(code.into());
        }
        p.put(EntityKind::Booking, &b);
    }
    // After `seeded`'s page (its first few numbers).
    p.pull(&s, 100);
    (dir, s)
}

#[test]
fn sources_promos_and_customers_streamed_from_the_rows_equal_the_reports_from_whole_facts() {
    let (_d, s) = seeded_many();
    let ranges = [
        ("2026-03-28", "2026-03-31"),
        ("2026-03-29", "2026-03-29"),
        ("2025-10-26", "2025-10-26"),
        ("2025-12-01", "2026-01-31"),
        ("2025-01-01", "2025-12-31"),
        ("2024-07-01", "2026-12-31"),
        ("2026-07-01", "2026-07-01"),
    ];
    let mut compared = 0;
    for kind in [ReportKind::Sources, ReportKind::Promos, ReportKind::Customers] {
        for (from, to) in ranges {
            for narrow in 0..4 {
                let mut f = ReportFilter { from: day(from), to: day(to), ..filter(kind, Grouping::Day) };
                match narrow {
                    1 => f.tour_id = Some("t-boat".into()),
                    2 => f.source = Some(BookingSource::Phone),
                    3 => f.currency = Some(Currency::EUR),
                    _ => {}
                }
                let streamed = s.report(&f).unwrap();
                assert_eq!(streamed, s.report_from_facts(&f).unwrap(), "{kind:?} {from}..{to} filter {narrow}");
                compared += usize::from(!streamed.rows.is_empty());
            }
        }
    }
    // The replica is not so thin that most of these compare empty tables.
    assert!(compared >= 60, "only {compared} of 84 reports had rows");
}

use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("an RFC 3339 instant")
}

fn d(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

fn lisbon() -> Tz {
    zone("Europe/Lisbon").expect("a zone")
}

fn sale(id: &str, created: &str, subtotal: i64, currency: Currency) -> SaleFact {
    SaleFact {
        booking_id: id.into(),
        customer_id: format!("c-{id}"),
        tour_id: "t1".into(),
        tour_name: "City Walk".into(),
        source: BookingSource::Website,
        status: BookingStatus::Confirmed,
        created_at: at(created),
        cancelled_at: None,
        departure_starts_at: Some(at(created) + chrono::Duration::days(10)),
        currency,
        participants: 2,
        subtotal,
        discounts: 0,
        exclusive_taxes: 0,
        total: subtotal,
        paid: subtotal,
        refunded: 0,
        promo_code: None,
        cancel_reason: None,
        cancelled_by_operator: false,
    }
}

fn filter(from: &str, to: &str, group: Grouping) -> ReportFilter {
    ReportFilter {
        kind: ReportKind::Revenue,
        from: d(from),
        to: d(to),
        tour_id: None,
        source: None,
        currency: None,
        group,
    }
}

fn money_at(row: &[Cell], i: usize) -> i64 {
    match &row[i] {
        Cell::Money(m) => m.amount,
        Cell::Count(n) => *n,
        other => panic!("not a number: {other:?}"),
    }
}

#[test]
fn revenue_splits_gross_discounts_taxes_refunds_and_net_per_currency() {
    let mut a = sale("a", "2026-03-02T10:00:00Z", 10_000, Currency::EUR);
    a.discounts = 1_000;
    a.exclusive_taxes = 2_070;
    a.refunded = 500;
    let b = sale("b", "2026-03-02T11:00:00Z", 4_000, Currency::USD);
    let mut pending = sale("p", "2026-03-02T12:00:00Z", 9_999, Currency::EUR);
    pending.status = BookingStatus::Pending;
    let mut cancelled_unpaid = sale("x", "2026-03-02T12:00:00Z", 7_777, Currency::EUR);
    cancelled_unpaid.status = BookingStatus::Cancelled;
    cancelled_unpaid.paid = 0;
    let t = revenue(&[a, b, pending, cancelled_unpaid], &filter("2026-03-01", "2026-03-31", Grouping::Day), lisbon());
    assert_eq!(t.rows.len(), 2, "{t:?}");
    let eur = &t.rows[0];
    assert_eq!(eur[0], Cell::Text("2026-03-02".into()));
    assert_eq!(eur[1], Cell::Text("EUR".into()));
    assert_eq!(
        (money_at(eur, 2), money_at(eur, 4), money_at(eur, 5), money_at(eur, 6), money_at(eur, 7), money_at(eur, 8)),
        (1, 10_000, 1_000, 2_070, 500, 8_500)
    );
    assert_eq!(t.totals.len(), 2, "one total per currency");
    assert_eq!(money_at(&t.totals[1], 8), 4_000);
}

#[test]
fn a_dst_day_is_bucketed_by_the_zones_midnight() {
    // Lisbon moves to summer time at 01:00 UTC on 2026-03-29: 23:30 UTC that evening is already
    // 00:30 on the 30th there, while 23:30 UTC the evening before is still the 28th.
    let facts = [
        sale("a", "2026-03-28T23:30:00Z", 100, Currency::EUR),
        sale("b", "2026-03-29T00:30:00Z", 200, Currency::EUR),
        sale("c", "2026-03-29T23:30:00Z", 400, Currency::EUR),
    ];
    let t = revenue(&facts, &filter("2026-03-28", "2026-03-30", Grouping::Day), lisbon());
    let days: Vec<(String, i64)> = t.rows.iter().map(|r| (r[0].display(), money_at(r, 8))).collect();
    assert_eq!(days, vec![("2026-03-28".into(), 100), ("2026-03-29".into(), 200), ("2026-03-30".into(), 400)]);
    let (start, end) = filter("2026-03-29", "2026-03-29", Grouping::Day).utc_bounds(lisbon());
    assert_eq!((end - start).num_hours(), 23, "the spring-forward day is 23 hours long");
    let (start, end) = filter("2026-10-25", "2026-10-25", Grouping::Day).utc_bounds(lisbon());
    assert_eq!((end - start).num_hours(), 25, "the fall-back day is 25 hours long");
}

#[test]
fn a_day_whose_midnight_does_not_exist_starts_when_the_clock_resumes() {
    // Santiago skipped 2024-09-08 00:00–01:00 local.
    let tz = zone("America/Santiago").expect("a zone");
    assert_eq!(day_start(d("2024-09-08"), tz), Utc.with_ymd_and_hms(2024, 9, 8, 4, 0, 0).unwrap());
}

#[test]
fn weeks_start_on_monday_and_months_on_the_first() {
    assert_eq!(period_start(d("2026-03-08"), Grouping::Week), d("2026-03-02"));
    assert_eq!(period_start(d("2026-03-02"), Grouping::Week), d("2026-03-02"));
    assert_eq!(period_start(d("2026-03-31"), Grouping::Month), d("2026-03-01"));
    let t = revenue(
        &[sale("a", "2026-03-02T10:00:00Z", 100, Currency::EUR), sale("b", "2026-03-31T10:00:00Z", 50, Currency::EUR)],
        &filter("2026-03-01", "2026-03-31", Grouping::Month),
        lisbon(),
    );
    assert_eq!(t.rows.len(), 1);
    assert_eq!(t.rows[0][0], Cell::Text("2026-03".into()));
}

#[test]
fn filters_keep_one_tour_source_and_currency() {
    let mut other = sale("b", "2026-03-02T10:00:00Z", 300, Currency::EUR);
    other.tour_id = "t2".into();
    other.source = BookingSource::Phone;
    let facts = [
        sale("a", "2026-03-02T10:00:00Z", 100, Currency::EUR),
        other,
        sale("c", "2026-03-02T10:00:00Z", 7, Currency::GBP),
    ];
    let mut f = filter("2026-03-01", "2026-03-31", Grouping::Tour);
    f.tour_id = Some("t2".into());
    assert_eq!(money_at(&revenue(&facts, &f, lisbon()).totals[0], 4), 300);
    let mut f = filter("2026-03-01", "2026-03-31", Grouping::Tour);
    f.source = Some(BookingSource::Website);
    f.currency = Some(Currency::EUR);
    let t = revenue(&facts, &f, lisbon());
    assert_eq!((t.totals.len(), money_at(&t.totals[0], 4)), (1, 100));
}

#[test]
fn lead_times_fall_in_their_buckets() {
    let c = at("2026-03-01T10:00:00Z");
    assert_eq!(lead_bucket(c, at("2026-03-01T18:00:00Z")), "same day");
    assert_eq!(lead_bucket(c, at("2026-03-02T10:00:00Z")), "1–6 days");
    assert_eq!(lead_bucket(c, at("2026-03-08T10:00:00Z")), "7–29 days");
    assert_eq!(lead_bucket(c, at("2026-04-15T10:00:00Z")), "30–89 days");
    assert_eq!(lead_bucket(c, at("2026-09-01T10:00:00Z")), "90 days or more");
    let t = sources(
        &[sale("a", "2026-03-02T10:00:00Z", 100, Currency::EUR)],
        &filter("2026-03-01", "2026-03-31", Grouping::Day),
        lisbon(),
    );
    assert_eq!(t.rows[0][..2], [Cell::Text("website".into()), Cell::Text("7–29 days".into())]);
}

fn dep(tour: &str, date: &str, time: &str, capacity: u32, sold: u32) -> DepartureFact {
    DepartureFact {
        departure_id: format!("{tour}@{date}T{time}"),
        tour_id: tour.into(),
        tour_name: format!("Tour {tour}"),
        local_date: d(date),
        local_time: time.parse().expect("a time"),
        status: DepartureStatus::Open,
        capacity,
        seats_sold: sold,
        checked_in: sold.saturating_sub(1),
        no_shows: u32::from(sold > 0),
        guides: vec!["Ana Silva".into()],
        ratings: vec![],
    }
}

#[test]
fn utilisation_is_seats_sold_over_capacity_by_tour_weekday_and_start_time() {
    let mut cancelled = dep("a", "2026-03-03", "10:00", 10, 10);
    cancelled.status = DepartureStatus::Cancelled;
    let deps = [
        dep("a", "2026-03-02", "10:00", 10, 5),
        dep("a", "2026-03-03", "14:00", 20, 20),
        dep("b", "2026-03-02", "10:00", 3, 1),
        cancelled,
    ];
    let mut f = filter("2026-03-01", "2026-03-31", Grouping::Tour);
    let t = utilisation(&deps, &f);
    assert_eq!(
        t.rows[0],
        vec![Cell::Text("Tour a".into()), Cell::Count(2), Cell::Count(30), Cell::Count(25), Cell::PerMille(Some(833))]
    );
    assert_eq!(t.totals[0][4], Cell::PerMille(Some(788)), "26 of 33");
    f.group = Grouping::Weekday;
    let t = utilisation(&deps, &f);
    assert_eq!(t.rows.iter().map(|r| r[0].display()).collect::<Vec<_>>(), ["Monday", "Tuesday"]);
    f.group = Grouping::StartTime;
    let t = utilisation(&deps, &f);
    assert_eq!(t.rows.iter().map(|r| r[0].display()).collect::<Vec<_>>(), ["10:00", "14:00"]);
    assert_eq!(Cell::PerMille(Some(833)).display(), "83.3 %");
}

#[test]
fn guides_count_departures_guests_and_no_show_rate() {
    let deps = [dep("a", "2026-03-02", "10:00", 10, 5), dep("a", "2026-03-03", "10:00", 10, 3)];
    let t = guides(&deps, &filter("2026-03-01", "2026-03-31", Grouping::Day));
    // 4 + 2 checked in, 1 + 1 no-shows: 2 of 8.
    assert_eq!(
        t.rows[0],
        vec![
            Cell::Text("Ana Silva".into()),
            Cell::Count(2),
            Cell::Count(6),
            Cell::Count(2),
            Cell::PerMille(Some(250)),
            Cell::Count(0),
            Cell::Stars(None)
        ]
    );
    assert!(t.notes[0].contains("No published review"), "{:?}", t.notes);
}

#[test]
fn guides_review_average_is_their_departures_published_ratings_in_tenths_rounded_half_up() {
    let mut a = dep("a", "2026-03-02", "10:00", 10, 5);
    a.ratings = vec![5, 4];
    let mut b = dep("a", "2026-03-03", "10:00", 10, 3);
    b.ratings = vec![4];
    b.guides.push("Bo Berg".into());
    // Outside the range: its rating is not Ana's average for March.
    let mut april = dep("a", "2026-04-01", "10:00", 10, 3);
    april.ratings = vec![1];
    // A cancelled departure led nobody anywhere.
    let mut cancelled = dep("a", "2026-03-04", "10:00", 10, 3);
    cancelled.status = DepartureStatus::Cancelled;
    cancelled.ratings = vec![1];
    let t = guides(&[a, b, april, cancelled], &filter("2026-03-01", "2026-03-31", Grouping::Day));
    // Ana: 5 + 4 + 4 = 13 / 3 = 4.333… → 4.3; Bo: 4.0; the total counts each departure once.
    assert_eq!(t.rows[0][0], Cell::Text("Ana Silva".into()));
    assert_eq!(t.rows[0][5..], [Cell::Count(3), Cell::Stars(Some(43))]);
    assert_eq!(t.rows[1][0], Cell::Text("Bo Berg".into()));
    assert_eq!(t.rows[1][5..], [Cell::Count(1), Cell::Stars(Some(40))]);
    assert_eq!(t.totals[0][5..], [Cell::Count(3), Cell::Stars(Some(43))]);
    assert_eq!(t.rows[0][6].display(), "4.3 of 5");
    assert!(t.notes.is_empty(), "{:?}", t.notes);
    let csv = t.to_csv();
    assert!(csv.starts_with("Guide,Departures led,Guests,No-shows,No-show rate,Reviews,Review average\r\n"), "{csv}");
    assert!(csv.contains("Ana Silva,2,6,2,25.0,3,4.3\r\n"), "{csv}");
    // Half up: 4 + 5 = 4.5 stars exactly; 4 + 4 + 5 = 4.333; 3 + 4 = 3.5.
    let mut c = dep("c", "2026-03-05", "10:00", 10, 2);
    c.ratings = vec![3, 4];
    let t = guides(&[c], &filter("2026-03-01", "2026-03-31", Grouping::Day));
    assert_eq!(t.rows[0][6], Cell::Stars(Some(35)));
}

#[test]
fn cancellations_group_by_who_and_reason_on_the_cancellation_day() {
    let mut a = sale("a", "2026-02-01T10:00:00Z", 1_000, Currency::EUR);
    a.status = BookingStatus::Cancelled;
    a.cancelled_at = Some(at("2026-03-05T10:00:00Z"));
    a.cancel_reason = Some("=plans changed".into());
    a.refunded = 800;
    let mut late = a.clone();
    late.cancelled_at = Some(at("2026-04-05T10:00:00Z"));
    let t = cancellations(&[a, late], &filter("2026-03-01", "2026-03-31", Grouping::Day), lisbon());
    assert_eq!(t.rows.len(), 1);
    assert_eq!((money_at(&t.rows[0], 3), money_at(&t.rows[0], 5)), (1, 800));
    let csv = t.to_csv();
    assert!(csv.contains("customer,'=plans changed,EUR,1,10.00,8.00\r\n"), "the formula is neutralised: {csv}");
}

#[test]
fn promo_codes_show_the_discount_given() {
    let mut a = sale("a", "2026-03-02T10:00:00Z", 1_000, Currency::EUR);
    a.promo_code = Some("pc-1".into());
    a.discounts = 150;
    let codes = BTreeMap::from([("pc-1".to_string(), "SPRING".to_string())]);
    let t = promos(
        &[a, sale("b", "2026-03-02T10:00:00Z", 1_000, Currency::EUR)],
        &filter("2026-03-01", "2026-03-31", Grouping::Day),
        lisbon(),
        &codes,
    );
    assert_eq!(
        t.rows,
        vec![vec![
            Cell::Text("SPRING".into()),
            Cell::Text("EUR".into()),
            Cell::Count(1),
            Cell::Money(Money::new(150, Currency::EUR)),
            Cell::Money(Money::new(850, Currency::EUR))
        ]]
    );
}

#[test]
fn customers_are_new_when_their_first_sale_is_in_the_range() {
    let old = sale("o", "2025-06-01T10:00:00Z", 2_000, Currency::EUR);
    let mut again = sale("r", "2026-03-02T10:00:00Z", 1_000, Currency::EUR);
    again.customer_id = old.customer_id.clone();
    let first = sale("n", "2026-03-03T10:00:00Z", 500, Currency::EUR);
    let cust = [
        CustomerFact { customer_id: old.customer_id.clone(), bookings: vec![old, again] },
        CustomerFact { customer_id: first.customer_id.clone(), bookings: vec![first] },
    ];
    let t = customers(&cust, &filter("2026-03-01", "2026-03-31", Grouping::Day), lisbon());
    let rows: Vec<(String, i64, i64, i64)> =
        t.rows.iter().map(|r| (r[0].display(), money_at(r, 2), money_at(r, 4), money_at(r, 5))).collect();
    assert_eq!(rows, vec![("new".into(), 1, 500, 500), ("returning".into(), 1, 1_000, 3_000)]);
}

#[test]
fn revenue_today_and_this_week_against_52_weeks_before() {
    // Thursday 2026-03-05; a year before, same weekday: Thursday 2025-03-06.
    let facts = [
        sale("a", "2026-03-05T09:00:00Z", 100, Currency::EUR),
        sale("b", "2026-03-02T09:00:00Z", 20, Currency::EUR),
        sale("c", "2025-03-06T09:00:00Z", 7, Currency::EUR),
        sale("d", "2025-03-03T09:00:00Z", 3, Currency::EUR),
        sale("e", "2025-03-07T09:00:00Z", 1_000, Currency::EUR),
    ];
    let r = revenue_comparison(&facts, d("2026-03-05"), lisbon());
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].today.amount, r[0].today_last_year.amount, r[0].week.amount, r[0].week_last_year.amount),
        (100, 7, 120, 10)
    );
    assert_eq!(comparison_range(d("2026-03-05")).0, d("2025-03-03"));
}

#[test]
fn a_filter_refuses_an_end_before_its_start() {
    let f = filter("2026-03-05", "2026-03-01", Grouping::Day);
    assert_eq!(f.validate().map_err(|e| e.field()), Err("to"));
    assert!(zone("Europe/Lisboa").is_err());
}

#[test]
fn today_and_tomorrow_are_the_departures_own_zone() {
    let now = at("2026-03-05T23:30:00Z");
    // Still the 5th in New York, already the 6th in Tokyo.
    assert!(today_or_tomorrow(d("2026-03-05"), "America/New_York", now));
    assert!(!today_or_tomorrow(d("2026-03-05"), "Asia/Tokyo", now));
    assert!(today_or_tomorrow(d("2026-03-07"), "Asia/Tokyo", now));
}

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![Just(Currency::EUR), Just(Currency::USD), Just(Currency::JPY)]
}

prop_compose! {
    fn any_sale()(
        minutes in 0i64..(60 * 24 * 400),
        subtotal in 0i64..1_000_000,
        discount_pct in 0i64..=100,
        refund_pct in 0i64..=100,
        tax in 0i64..50_000,
        c in currency(),
        status in prop_oneof![Just(BookingStatus::Confirmed), Just(BookingStatus::Pending), Just(BookingStatus::Cancelled), Just(BookingStatus::Completed)],
        tour in 0u8..3,
        paid in any::<bool>(),
    ) -> SaleFact {
        let created = at("2025-10-01T00:00:00Z") + chrono::Duration::minutes(minutes);
        let discounts = subtotal * discount_pct / 100;
        let total = subtotal - discounts + tax;
        let mut s = sale("p", "2025-10-01T00:00:00Z", subtotal, c);
        s.created_at = created;
        s.status = status;
        s.discounts = discounts;
        s.exclusive_taxes = tax;
        s.total = total;
        s.paid = if paid { total } else { 0 };
        s.refunded = s.paid * refund_pct / 100;
        s.tour_id = format!("t{tour}");
        s.tour_name = format!("Tour {tour}");
        s
    }
}

proptest! {
    #[test]
    fn totals_are_the_sum_of_the_rows_and_net_is_gross_less_discounts_and_refunds(
        facts in prop::collection::vec(any_sale(), 0..60),
        group in prop_oneof![Just(Grouping::Day), Just(Grouping::Week), Just(Grouping::Month), Just(Grouping::Tour)],
        zone_name in prop_oneof![Just("Europe/Lisbon"), Just("America/New_York"), Just("Australia/Lord_Howe"), Just("UTC")],
    ) {
        let tz = zone(zone_name).expect("a zone");
        let f = filter("2025-10-01", "2026-11-30", group);
        let t = revenue(&facts, &f, tz);
        for total in &t.totals {
            let cur = total[1].clone();
            for col in 2..=8 {
                let sum: i64 = t.rows.iter().filter(|r| r[1] == cur).map(|r| money_at(r, col)).sum();
                prop_assert_eq!(sum, money_at(total, col), "column {} of {:?}", col, cur);
            }
        }
        for row in t.rows.iter().chain(t.totals.iter()) {
            prop_assert_eq!(money_at(row, 8), money_at(row, 4) - money_at(row, 5) - money_at(row, 7));
            // One currency per figure.
            for cell in row {
                if let Cell::Money(m) = cell {
                    prop_assert_eq!(Cell::Text(m.currency.to_string()), row[1].clone());
                }
            }
        }
        // Every sold booking in the range is counted once, whatever the grouping.
        let counted: i64 = t.totals.iter().map(|r| money_at(r, 2)).sum();
        let expected = facts.iter().filter(|s| s.sold() && {
            let day = local_day(s.created_at, tz);
            f.from <= day && day <= f.to
        }).count() as i64;
        prop_assert_eq!(counted, expected);
    }

    #[test]
    fn a_booking_falls_in_the_day_whose_utc_bounds_hold_it(minutes in 0i64..(60 * 24 * 800), zone_name in prop_oneof![Just("Europe/Lisbon"), Just("America/Santiago"), Just("Australia/Lord_Howe"), Just("Asia/Kathmandu")]) {
        let tz = zone(zone_name).expect("a zone");
        let t = at("2024-01-01T00:00:00Z") + chrono::Duration::minutes(minutes);
        let day = local_day(t, tz);
        let f = ReportFilter { from: day, to: day, ..filter("2024-01-01", "2024-01-01", Grouping::Day) };
        let (start, end) = f.utc_bounds(tz);
        prop_assert!(start <= t && t < end, "{} not in [{}, {}) for {}", t, start, end, day);
    }

    #[test]
    fn csv_has_one_line_per_row_and_never_starts_a_field_with_a_formula(name in "[=+@a-z -]{0,12}") {
        let mut s = sale("a", "2026-03-02T10:00:00Z", 100, Currency::EUR);
        s.tour_name = name;
        let t = revenue(&[s], &filter("2026-03-01", "2026-03-31", Grouping::Tour), lisbon());
        let csv = t.to_csv();
        prop_assert_eq!(csv.matches("\r\n").count(), 2);
        let line = csv.split("\r\n").nth(1).unwrap_or_default();
        prop_assert!(!line.starts_with(['=', '+', '-', '@']), "{}", line);
    }
}

#[test]
fn offset_spans_split_a_range_where_the_zone_changes_its_offset() {
    let tz = lisbon();
    let (start, end) = (day_start(d("2026-03-28"), tz), day_start(d("2026-04-01"), tz));
    let spans = offset_spans(tz, start, end);
    let change: DateTime<Utc> = at("2026-03-29T01:00:00Z");
    assert_eq!(spans, vec![(start, change, 0), (change, end, 3_600)]);
    // A local day from the span's offset is the zone's own day, on either side of the change.
    for (from, to, offset) in spans {
        for t in [from, to - chrono::Duration::seconds(1)] {
            let d = (t + chrono::Duration::seconds(offset)).date_naive();
            assert_eq!(d, local_day(t, tz), "{t}");
        }
    }
    // A range without a change is one span; Kathmandu's +05:45 is kept to the second.
    let ktm: Tz = zone("Asia/Kathmandu").expect("a zone");
    let (s, e) = (day_start(d("2026-06-01"), ktm), day_start(d("2026-06-03"), ktm));
    assert_eq!(offset_spans(ktm, s, e), vec![(s, e, 20_700)]);
    // Autumn, New York: back an hour at 06:00 UTC on 2026-11-01.
    let ny: Tz = zone("America/New_York").expect("a zone");
    let (s, e) = (day_start(d("2026-10-31"), ny), day_start(d("2026-11-02"), ny));
    let back: DateTime<Utc> = at("2026-11-01T06:00:00Z");
    assert_eq!(offset_spans(ny, s, e), vec![(s, back, -4 * 3_600), (back, e, -5 * 3_600)]);
}

/// The sources, promo code and customers reports as they were computed before they were summed
/// while the rows stream by: from owned facts, each booking's local day asked of the zone. The
/// streamed sums must give the same tables.
mod before_streaming {
    use super::*;

    fn keeps(f: &ReportFilter, s: &SaleFact) -> bool {
        f.tour_id.as_ref().is_none_or(|t| *t == s.tour_id)
            && f.source.is_none_or(|x| x == s.source)
            && f.currency.is_none_or(|c| c == s.currency)
    }

    fn sold_in_range<'a>(
        facts: &'a [SaleFact],
        f: &'a ReportFilter,
        tz: Tz,
    ) -> impl Iterator<Item = (&'a SaleFact, NaiveDate)> {
        facts.iter().filter(|s| s.sold() && keeps(f, s)).filter_map(move |s| {
            let day = local_day(s.created_at, tz);
            (f.from <= day && day <= f.to).then_some((s, day))
        })
    }

    pub(super) fn sources(facts: &[SaleFact], f: &ReportFilter, tz: Tz) -> ReportTable {
        let mut rows: BTreeMap<(&'static str, usize, Currency), Revenue> = BTreeMap::new();
        let mut totals: BTreeMap<Currency, Revenue> = BTreeMap::new();
        for (s, _) in sold_in_range(facts, f, tz) {
            let lead = s.departure_starts_at.map_or("unknown", |d| lead_bucket(s.created_at, d));
            let order = LEAD_BUCKETS.iter().position(|(l, _)| *l == lead).unwrap_or(LEAD_BUCKETS.len());
            rows.entry((s.source.as_str(), order, s.currency)).or_default().add(s);
            totals.entry(s.currency).or_default().add(s);
        }
        let lead_label = |i: usize| LEAD_BUCKETS.get(i).map_or("unknown", |(l, _)| l).to_string();
        ReportTable {
            title: ReportKind::Sources.title().into(),
            columns: ["Source", "Lead time", "Currency", "Bookings", "Guests", "Net"].map(String::from).to_vec(),
            rows: rows
                .into_iter()
                .map(|((src, lead, c), r)| {
                    vec![
                        Cell::Text(src.to_string()),
                        Cell::Text(lead_label(lead)),
                        Cell::Text(c.to_string()),
                        Cell::Count(r.bookings),
                        Cell::Count(r.participants),
                        Cell::Money(Money::new(r.net(), c)),
                    ]
                })
                .collect(),
            totals: totals
                .into_iter()
                .map(|(c, r)| {
                    vec![
                        Cell::Text("Total".into()),
                        Cell::Text(String::new()),
                        Cell::Text(c.to_string()),
                        Cell::Count(r.bookings),
                        Cell::Count(r.participants),
                        Cell::Money(Money::new(r.net(), c)),
                    ]
                })
                .collect(),
            chart_column: 3,
            notes: vec![],
        }
    }

    pub(super) fn promos(
        facts: &[SaleFact],
        f: &ReportFilter,
        tz: Tz,
        codes: &BTreeMap<String, String>,
    ) -> ReportTable {
        let mut rows: BTreeMap<(String, Currency), Revenue> = BTreeMap::new();
        let mut totals: BTreeMap<Currency, Revenue> = BTreeMap::new();
        for (s, _) in sold_in_range(facts, f, tz) {
            let Some(code) = &s.promo_code else { continue };
            let name = codes.get(code).cloned().unwrap_or_else(|| code.clone());
            rows.entry((name, s.currency)).or_default().add(s);
            totals.entry(s.currency).or_default().add(s);
        }
        let cells = |label: String, c: Currency, r: Revenue| {
            vec![
                Cell::Text(label),
                Cell::Text(c.to_string()),
                Cell::Count(r.bookings),
                Cell::Money(Money::new(r.discounts, c)),
                Cell::Money(Money::new(r.net(), c)),
            ]
        };
        ReportTable {
            title: ReportKind::Promos.title().into(),
            columns: ["Code", "Currency", "Bookings", "Discount given", "Net"].map(String::from).to_vec(),
            rows: rows.into_iter().map(|((code, c), r)| cells(code, c, r)).collect(),
            totals: totals.into_iter().map(|(c, r)| cells("Total".into(), c, r)).collect(),
            chart_column: 3,
            notes: vec![],
        }
    }

    pub(super) fn customers(cust: &[CustomerFact], f: &ReportFilter, tz: Tz) -> ReportTable {
        // (kind, currency) → (customers, bookings in range, net in range, lifetime net)
        let mut rows: BTreeMap<(&'static str, Currency), (i64, i64, i64, i64)> = BTreeMap::new();
        let mut totals: BTreeMap<Currency, (i64, i64, i64, i64)> = BTreeMap::new();
        for c in cust {
            let sold: Vec<&SaleFact> = c.bookings.iter().filter(|s| s.sold()).collect();
            let in_range: Vec<&SaleFact> = sold
                .iter()
                .copied()
                .filter(|s| {
                    let d = local_day(s.created_at, tz);
                    f.from <= d && d <= f.to && keeps(f, s)
                })
                .collect();
            let Some(first) = sold.iter().map(|s| local_day(s.created_at, tz)).min() else { continue };
            if in_range.is_empty() {
                continue;
            }
            let kind = if first >= f.from { "new" } else { "returning" };
            let mut currencies: Vec<Currency> = in_range.iter().map(|s| s.currency).collect();
            currencies.sort();
            currencies.dedup();
            for cur in currencies {
                let n = in_range.iter().filter(|s| s.currency == cur).count() as i64;
                let net: i64 = in_range.iter().filter(|s| s.currency == cur).map(|s| s.net()).sum();
                let life: i64 = sold.iter().filter(|s| s.currency == cur).map(|s| s.net()).sum();
                for acc in [rows.entry((kind, cur)).or_default(), totals.entry(cur).or_default()] {
                    acc.0 += 1;
                    acc.1 += n;
                    acc.2 += net;
                    acc.3 += life;
                }
            }
        }
        let cells = |label: String, c: Currency, (n, b, net, life): (i64, i64, i64, i64)| {
            vec![
                Cell::Text(label),
                Cell::Text(c.to_string()),
                Cell::Count(n),
                Cell::Count(b),
                Cell::Money(Money::new(net, c)),
                Cell::Money(Money::new(life, c)),
                Cell::Money(Money::new(if n > 0 { life / n } else { 0 }, c)),
            ]
        };
        ReportTable {
            title: ReportKind::Customers.title().into(),
            columns: [
                "Customers",
                "Currency",
                "Count",
                "Bookings",
                "Net in range",
                "Lifetime value",
                "Lifetime value each",
            ]
            .map(String::from)
            .to_vec(),
            rows: rows.into_iter().map(|((k, c), v)| cells(k.into(), c, v)).collect(),
            totals: totals.into_iter().map(|(c, v)| cells("Total".into(), c, v)).collect(),
            chart_column: 2,
            notes: vec!["Lifetime value is rounded down to the minor unit per customer.".into()],
        }
    }
}

prop_compose! {
    /// A sale of one of four customers, with a source, a promo code or none, a departure this
    /// desk may not hold, made at any second over three years.
    fn any_customer_sale()(
        s in any_sale(),
        seconds in 0i64..(3 * 366 * 24 * 3600),
        customer in 0u8..4,
        source in prop_oneof![Just(BookingSource::Website), Just(BookingSource::Phone), Just(BookingSource::Ota)],
        code in prop_oneof![Just(None), Just(Some("pc-1")), Just(Some("pc-2")), Just(Some("pc-gone"))],
        lead_hours in prop::option::of(-48i64..(24 * 120)),
    ) -> SaleFact {
        let mut s = s;
        s.created_at = at("2024-06-01T00:00:00Z") + chrono::Duration::seconds(seconds);
        s.customer_id = format!("c{customer}");
        s.source = source;
        s.promo_code = code.map(String::from);
        s.departure_starts_at = lead_hours.map(|h| s.created_at + chrono::Duration::hours(h));
        s
    }
}

proptest! {
    #[test]
    fn sources_promos_and_customers_summed_row_by_row_equal_the_reports_from_whole_facts(
        mut facts in prop::collection::vec(any_customer_sale(), 0..80),
        from_day in 0u64..900,
        days in 0u64..400,
        zone_name in prop_oneof![Just("Europe/Lisbon"), Just("America/Santiago"), Just("Australia/Lord_Howe"), Just("Asia/Kathmandu"), Just("Pacific/Apia")],
        tour in prop::option::of(0u8..3),
        source in prop::option::of(prop_oneof![Just(BookingSource::Website), Just(BookingSource::Phone)]),
        currency in prop::option::of(currency()),
    ) {
        let tz = zone(zone_name).expect("a zone");
        let from = d("2024-06-01") + Days::new(from_day);
        let mut f = filter("2024-06-01", "2024-06-01", Grouping::Day);
        f.from = from;
        f.to = from + Days::new(days);
        f.tour_id = tour.map(|t| format!("t{t}"));
        f.source = source;
        f.currency = currency;
        prop_assert_eq!(sources(&facts, &f, tz), before_streaming::sources(&facts, &f, tz));
        let codes = BTreeMap::from([("pc-1".to_string(), "SPRING".to_string()), ("pc-2".to_string(), "AUTUMN".to_string())]);
        prop_assert_eq!(promos(&facts, &f, tz, &codes), before_streaming::promos(&facts, &f, tz, &codes));
        // The store reads each customer's bookings one after another.
        facts.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
        let mut cust: Vec<CustomerFact> = Vec::new();
        for s in facts {
            match cust.last_mut() {
                Some(c) if c.customer_id == s.customer_id => c.bookings.push(s),
                _ => cust.push(CustomerFact { customer_id: s.customer_id.clone(), bookings: vec![s] }),
            }
        }
        prop_assert_eq!(customers(&cust, &f, tz), before_streaming::customers(&cust, &f, tz));
    }

    #[test]
    fn a_range_places_an_instant_on_its_local_day_or_the_side_it_falls_on(
        seconds in 0i64..(4 * 366 * 24 * 3600),
        from_day in 0u64..1400,
        days in 0u64..60,
        zone_name in prop_oneof![Just("Europe/Lisbon"), Just("America/Santiago"), Just("Australia/Lord_Howe"), Just("Pacific/Apia"), Just("Pacific/Kiritimati")],
    ) {
        let tz = zone(zone_name).expect("a zone");
        let t = at("2024-01-01T00:00:00Z") + chrono::Duration::seconds(seconds);
        let from = d("2024-01-01") + Days::new(from_day);
        let to = from + Days::new(days);
        let day = local_day(t, tz);
        let expected = if day < from {
            DayInRange::Before
        } else if to < day {
            DayInRange::After
        } else {
            DayInRange::On(day)
        };
        prop_assert_eq!(RangeDays::new(from, to, tz).place(t), expected);
    }
}

//! The desk's reports and the today dashboard's figures, computed from the rows the replica holds
//! (issue 16). Pure arithmetic: the store finds the rows ([`SaleFact`], [`DepartureFact`],
//! [`CustomerFact`]); these functions filter, bucket and add them up. No clock reads: "today"
//! and the organization's zone are arguments.
//!
//! # What the figures mean
//!
//! - A booking counts as **sold** unless it is a pending hold (not yet sold) or was cancelled
//!   without any money taken (nothing was sold). A cancelled booking that was paid stays sold and
//!   its refund shows in *refunds*.
//! - **gross** = the snapshot's subtotal (before discounts); **discounts** = the snapshot's
//!   discounts; **taxes** = its exclusive taxes (added on top, owed to the tax office, not in
//!   *net*); **refunds** = what was refunded; **net = gross − discounts − refunds**.
//! - Money is integer minor units with its currency; a figure never adds two currencies: every
//!   table has a currency column and its totals are one row per currency.
//! - Sales are bucketed by the **booking date** in the organization's zone (a day is the zone's
//!   midnight to midnight, 23 or 25 hours on DST days); utilisation and guide work by the
//!   departure's own local date; cancellations by the cancellation's date in the zone.
//! - Weeks start on Monday; a period's label is its first day (`2026-03-02`) or the month
//!   (`2026-03`).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::entities::BookingSource;
use crate::money::{Currency, Money};
use crate::status::{BookingStatus, DepartureStatus};

/// The reports the desk offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    #[default]
    Revenue,
    Sources,
    Utilisation,
    Cancellations,
    Promos,
    Guides,
    Customers,
}

impl ReportKind {
    pub const ALL: [ReportKind; 7] = [
        ReportKind::Revenue,
        ReportKind::Sources,
        ReportKind::Utilisation,
        ReportKind::Cancellations,
        ReportKind::Promos,
        ReportKind::Guides,
        ReportKind::Customers,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            ReportKind::Revenue => "revenue",
            ReportKind::Sources => "sources",
            ReportKind::Utilisation => "utilisation",
            ReportKind::Cancellations => "cancellations",
            ReportKind::Promos => "promo-codes",
            ReportKind::Guides => "guides",
            ReportKind::Customers => "customers",
        }
    }

    pub fn parse(slug: &str) -> Option<ReportKind> {
        ReportKind::ALL.into_iter().find(|k| k.slug() == slug)
    }

    pub fn title(self) -> &'static str {
        match self {
            ReportKind::Revenue => "Revenue",
            ReportKind::Sources => "Bookings by source and lead time",
            ReportKind::Utilisation => "Utilisation (load factor)",
            ReportKind::Cancellations => "Cancellations and refunds",
            ReportKind::Promos => "Promo codes",
            ReportKind::Guides => "Guide performance",
            ReportKind::Customers => "Customers: new and returning",
        }
    }
}

/// How the revenue and utilisation reports group their rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    #[default]
    Day,
    Week,
    Month,
    Tour,
    Weekday,
    StartTime,
}

impl Grouping {
    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::Day => "day",
            Grouping::Week => "week",
            Grouping::Month => "month",
            Grouping::Tour => "tour",
            Grouping::Weekday => "weekday",
            Grouping::StartTime => "start_time",
        }
    }

    pub fn parse(s: &str) -> Option<Grouping> {
        [Grouping::Day, Grouping::Week, Grouping::Month, Grouping::Tour, Grouping::Weekday, Grouping::StartTime]
            .into_iter()
            .find(|g| g.as_str() == s)
    }
}

/// A report's filters. `from..=to` are dates in the organization's zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFilter {
    pub kind: ReportKind,
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[serde(default)]
    pub tour_id: Option<String>,
    #[serde(default)]
    pub source: Option<BookingSource>,
    #[serde(default)]
    pub currency: Option<Currency>,
    #[serde(default)]
    pub group: Grouping,
}

/// The file a report or a list is exported to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// RFC 4180, UTF-8, header row: every report and list.
    #[default]
    Csv,
    /// A spreadsheet of one sheet whose money cells are numbers.
    Xlsx,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        }
    }
}

/// A list to export with the filters its screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "list", rename_all = "snake_case")]
pub enum ListExport {
    /// Every booking the bookings screen's filter keeps, in its order.
    Bookings { filter: crate::ipc::BookingFilter },
    /// The customers a search finds, or all of them when `query` is blank.
    Customers { query: String },
    /// Every payments-ledger entry recorded on the days `from..=to` (the organization's zone).
    Payments { from: NaiveDate, to: NaiveDate },
}

impl ListExport {
    pub fn slug(&self) -> &'static str {
        match self {
            ListExport::Bookings { .. } => "bookings",
            ListExport::Customers { .. } => "customers",
            ListExport::Payments { .. } => "payments",
        }
    }
}

/// The longest range a report covers: ten years of days is already more rows than a person reads.
pub const MAX_RANGE_DAYS: i64 = 3_660;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("the end date is before the start date")]
    EndBeforeStart,
    #[error("a report covers at most ten years")]
    TooLong,
    #[error("{0:?} is not a time zone")]
    Zone(String),
}

impl ReportError {
    /// The filter field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            ReportError::EndBeforeStart | ReportError::TooLong => "to",
            ReportError::Zone(_) => "timezone",
        }
    }
}

impl ReportFilter {
    pub fn validate(&self) -> Result<(), ReportError> {
        validate_range(self.from, self.to)
    }

    /// The UTC instants `[start, end)` of the range's days in `tz`, for the store's index scans.
    pub fn utc_bounds(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        range_bounds(self.from, self.to, tz)
    }

    fn keeps_booking(&self, f: &SaleFact) -> bool {
        self.keeps_row(&f.row())
    }

    /// Whether the report's tour, source and currency filters keep the booking.
    fn keeps_row(&self, s: &SaleRow<'_>) -> bool {
        self.tour_id.as_deref().is_none_or(|t| t == s.tour_id)
            && self.source.is_none_or(|x| x == s.source)
            && self.currency.is_none_or(|c| c == s.currency)
    }
}

/// A range of days `from..=to`: it ends on or after its start and spans at most ten years.
pub fn validate_range(from: NaiveDate, to: NaiveDate) -> Result<(), ReportError> {
    if to < from {
        return Err(ReportError::EndBeforeStart);
    }
    if (to - from).num_days() > MAX_RANGE_DAYS {
        return Err(ReportError::TooLong);
    }
    Ok(())
}

/// The UTC instants `[start, end)` of the days `from..=to` in `tz`.
pub fn range_bounds(from: NaiveDate, to: NaiveDate, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    (day_start(from, tz), day_start(to + Days::new(1), tz))
}

/// The organization's zone by name; UTC for an unknown name would silently shift every day, so
/// it is an error.
pub fn zone(name: &str) -> Result<Tz, ReportError> {
    name.parse::<Tz>().map_err(|_| ReportError::Zone(name.to_string()))
}

/// The local date of `at` in `tz`.
pub fn local_day(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// The first instant of `day` in `tz` (a day starting in a DST gap starts when the gap ends).
pub fn day_start(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    use chrono::TimeZone;
    let midnight = day.and_time(NaiveTime::MIN);
    match tz.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        chrono::LocalResult::None => {
            // Midnight skipped: the first minute of the day that exists.
            (1..=24 * 60)
                .find_map(|m| tz.from_local_datetime(&(midnight + chrono::Duration::minutes(m))).earliest())
                .map_or_else(|| Utc.from_utc_datetime(&midnight), |t| t.with_timezone(&Utc))
        }
    }
}

/// The first day of the period `day` falls in (weeks start on Monday).
pub fn period_start(day: NaiveDate, g: Grouping) -> NaiveDate {
    match g {
        Grouping::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
        Grouping::Month => day.with_day(1).unwrap_or(day),
        _ => day,
    }
}

fn period_label(day: NaiveDate, g: Grouping) -> String {
    match g {
        Grouping::Month => day.format("%Y-%m").to_string(),
        _ => day.to_string(),
    }
}

/// One booking as the reports read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleFact {
    pub booking_id: String,
    pub customer_id: String,
    pub tour_id: String,
    pub tour_name: String,
    pub source: BookingSource,
    pub status: BookingStatus,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// The departure's start; `None` when this desk does not hold the departure.
    pub departure_starts_at: Option<DateTime<Utc>>,
    pub currency: Currency,
    pub participants: u32,
    /// Minor units of `currency`.
    pub subtotal: i64,
    pub discounts: i64,
    pub exclusive_taxes: i64,
    pub total: i64,
    pub paid: i64,
    pub refunded: i64,
    pub promo_code: Option<String>,
    /// Given for a cancelled booking.
    pub cancel_reason: Option<String>,
    pub cancelled_by_operator: bool,
}

/// See the module docs: pending holds and cancelled bookings without money were never sold.
pub fn sold(status: BookingStatus, any_paid: bool) -> bool {
    match status {
        BookingStatus::Pending => false,
        BookingStatus::Cancelled => any_paid,
        _ => true,
    }
}

impl SaleFact {
    /// See [`sold`].
    pub fn sold(&self) -> bool {
        sold(self.status, self.paid > 0)
    }

    pub fn net(&self) -> i64 {
        self.subtotal - self.discounts - self.refunded
    }
}

/// One departure as utilisation and guide performance read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartureFact {
    pub departure_id: String,
    pub tour_id: String,
    pub tour_name: String,
    pub local_date: NaiveDate,
    pub local_time: NaiveTime,
    pub status: DepartureStatus,
    pub capacity: u32,
    pub seats_sold: u32,
    pub checked_in: u32,
    pub no_shows: u32,
    /// Guides who led it (assignments not declined), by display name.
    pub guides: Vec<String>,
    /// The star ratings (1–5) of its bookings' published reviews, as the replica holds them
    /// (`reviews::ReviewRating`, office desks); empty before any review.
    #[serde(default)]
    pub ratings: Vec<u8>,
}

/// A customer with a booking in the range: all of their bookings, for new-vs-returning and
/// lifetime value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerFact {
    pub customer_id: String,
    pub bookings: Vec<SaleFact>,
}

/// A table cell: what it is decides how the UI aligns it and how CSV writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "snake_case")]
pub enum Cell {
    Text(String),
    Count(i64),
    Money(Money),
    /// A ratio in tenths of a percent (`734` = 73.4 %); `None` when there is nothing to divide by.
    PerMille(Option<i64>),
    /// A star rating average in tenths of a star (`43` = 4.3 of 5, `reviews::RatingSummary`);
    /// `None` when nothing was rated.
    Stars(Option<i64>),
}

impl Cell {
    /// What the table shows.
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Money(m) => m.display(),
            Cell::PerMille(Some(p)) => format!("{}.{} %", p / 10, (p % 10).abs()),
            Cell::PerMille(None) | Cell::Stars(None) => "—".into(),
            Cell::Stars(Some(t)) => format!("{}.{} of 5", t / 10, (t % 10).abs()),
        }
    }

    /// What a CSV file holds: amounts as decimal strings in the currency's exponent (the currency
    /// has its own column), ratios as a percentage with one decimal.
    pub fn csv(&self) -> String {
        match self {
            Cell::Money(m) => decimal(m),
            Cell::PerMille(Some(p)) => format!("{}.{}", p / 10, (p % 10).abs()),
            Cell::PerMille(None) | Cell::Stars(None) => String::new(),
            Cell::Stars(Some(t)) => format!("{}.{}", t / 10, (t % 10).abs()),
            other => other.display(),
        }
    }

    /// The number a chart draws for it.
    pub fn value(&self) -> Option<i64> {
        match self {
            Cell::Count(n) => Some(*n),
            Cell::Money(m) => Some(m.amount),
            Cell::PerMille(p) | Cell::Stars(p) => *p,
            Cell::Text(_) => None,
        }
    }
}

/// `12.50`, `-3.00`, `1500` (JPY): the amount without its currency.
pub fn decimal(m: &Money) -> String {
    let d = m.display();
    d.split_once(' ').map_or(d.clone(), |(_, amount)| amount.to_string())
}

/// A report as the UI shows it and CSV writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ReportTable {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// One row per currency (or a single row for a report without money).
    pub totals: Vec<Vec<Cell>>,
    /// The column the chart draws, per label (first column) and currency.
    pub chart_column: usize,
    /// Notes on what the figures leave out (e.g. no reviews yet).
    pub notes: Vec<String>,
}

impl ReportTable {
    /// RFC 4180 with CRLF line ends and a header row; every text field passes the manifests'
    /// neutralising rule, so a tour or reason starting with `=` is never run as a formula.
    pub fn to_csv(&self) -> String {
        let field = crate::manifest_export::csv_field;
        let mut out = self.columns.iter().map(|c| field(c)).collect::<Vec<_>>().join(",");
        out.push_str("\r\n");
        for row in self.rows.iter() {
            // Text is people's (tour names, reasons): neutralised. Numbers are ours: a negative
            // net is a number, not a formula, and stays `-3.00`.
            let cells = row.iter().map(|c| match c {
                Cell::Text(t) => field(t),
                other => other.csv(),
            });
            out.push_str(&cells.collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        out
    }
}

fn per_mille(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (part * 1000 + whole / 2) / whole)
}

/// Money sums of one row, per currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Revenue {
    pub bookings: i64,
    pub participants: i64,
    pub gross: i64,
    pub discounts: i64,
    pub taxes: i64,
    pub refunds: i64,
}

impl Revenue {
    pub fn add(&mut self, f: &SaleFact) {
        self.add_row(&f.row());
    }

    fn add_row(&mut self, s: &SaleRow<'_>) {
        self.bookings += 1;
        self.participants += s.participants;
        self.gross += s.subtotal;
        self.discounts += s.discounts;
        self.taxes += s.exclusive_taxes;
        self.refunds += s.refunded;
    }

    pub fn net(&self) -> i64 {
        self.gross - self.discounts - self.refunds
    }

    pub fn merge(&mut self, o: &Revenue) {
        self.bookings += o.bookings;
        self.participants += o.participants;
        self.gross += o.gross;
        self.discounts += o.discounts;
        self.taxes += o.taxes;
        self.refunds += o.refunds;
    }

    fn cells(&self, c: Currency) -> Vec<Cell> {
        vec![
            Cell::Text(c.to_string()),
            Cell::Count(self.bookings),
            Cell::Count(self.participants),
            Cell::Money(Money::new(self.gross, c)),
            Cell::Money(Money::new(self.discounts, c)),
            Cell::Money(Money::new(self.taxes, c)),
            Cell::Money(Money::new(self.refunds, c)),
            Cell::Money(Money::new(self.net(), c)),
        ]
    }
}

/// A revenue row's group, borrowed from the facts (no text made per booking).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group<'a> {
    Period(NaiveDate),
    Tour(&'a str),
}

/// Bookings made in a report's range (its tour, source and currency filters applied), summed:
/// per local day (`None` when the report groups by tour), per tour (`None` unless it does), per
/// currency and per status and whether anything was paid, which decide whether they were sold.
/// What the store pre-groups in SQL, so a year's report adds up a few thousand of these rather
/// than a hundred thousand bookings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesGroup {
    pub day: Option<NaiveDate>,
    pub tour_id: Option<String>,
    pub currency: Currency,
    pub status: BookingStatus,
    pub any_paid: bool,
    pub sums: Revenue,
}

/// The grouping revenue rows use: by tour, or by a period of days.
pub fn revenue_grouping(g: Grouping) -> Grouping {
    match g {
        Grouping::Weekday | Grouping::StartTime => Grouping::Day,
        g => g,
    }
}

/// Revenue by period (day, week, month) or by tour, one row per group and currency.
pub fn revenue(facts: &[SaleFact], f: &ReportFilter, tz: Tz) -> ReportTable {
    let by_tour = revenue_grouping(f.group) == Grouping::Tour;
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    // Keyed by the status's name (statuses have no order); the status itself rides along.
    type Key<'a> = (Option<NaiveDate>, Option<&'a str>, Currency, &'static str, bool);
    let mut groups: BTreeMap<Key<'_>, (BookingStatus, Revenue)> = BTreeMap::new();
    for s in facts.iter().filter(|s| f.keeps_booking(s)) {
        let day = local_day(s.created_at, tz);
        if day < f.from || f.to < day {
            continue;
        }
        names.entry(s.tour_id.clone()).or_insert_with(|| s.tour_name.clone());
        let key = (
            (!by_tour).then_some(day),
            by_tour.then_some(s.tour_id.as_str()),
            s.currency,
            s.status.as_str(),
            s.paid > 0,
        );
        groups.entry(key).or_insert_with(|| (s.status, Revenue::default())).1.add(s);
    }
    let groups: Vec<SalesGroup> = groups
        .into_iter()
        .map(|((day, tour, currency, _, any_paid), (status, sums))| SalesGroup {
            day,
            tour_id: tour.map(String::from),
            currency,
            status,
            any_paid,
            sums,
        })
        .collect();
    revenue_of_groups(&groups, f, &names)
}

/// [`revenue`] from sums already grouped by local day (or tour) in the range, filtered as `f`
/// asks. `tour_names` names tours by id (a tour this desk does not hold shows its id).
pub fn revenue_of_groups(
    groups: &[SalesGroup],
    f: &ReportFilter,
    tour_names: &BTreeMap<String, String>,
) -> ReportTable {
    let g = revenue_grouping(f.group);
    let mut rows: BTreeMap<(Group<'_>, Currency), Revenue> = BTreeMap::new();
    let mut totals: BTreeMap<Currency, Revenue> = BTreeMap::new();
    for s in groups.iter().filter(|s| sold(s.status, s.any_paid)) {
        let key = match (g, &s.tour_id, s.day) {
            (Grouping::Tour, Some(id), _) => Group::Tour(tour_names.get(id).map_or(id.as_str(), String::as_str)),
            (Grouping::Tour, None, _) => Group::Tour(""),
            (g, _, Some(day)) => Group::Period(period_start(day, g)),
            (_, _, None) => continue,
        };
        rows.entry((key, s.currency)).or_default().merge(&s.sums);
        totals.entry(s.currency).or_default().merge(&s.sums);
    }
    let label = |k: Group<'_>| match k {
        Group::Tour(name) => name.to_string(),
        Group::Period(d) => period_label(d, g),
    };
    let mut columns = vec![if g == Grouping::Tour { "Tour" } else { "Period" }.to_string()];
    columns
        .extend(["Currency", "Bookings", "Guests", "Gross", "Discounts", "Taxes", "Refunds", "Net"].map(String::from));
    ReportTable {
        title: ReportKind::Revenue.title().into(),
        columns,
        rows: rows
            .into_iter()
            .map(|((key, c), r)| std::iter::once(Cell::Text(label(key))).chain(r.cells(c)).collect())
            .collect(),
        totals: totals
            .into_iter()
            .map(|(c, r)| std::iter::once(Cell::Text("Total".into())).chain(r.cells(c)).collect())
            .collect(),
        chart_column: 8,
        notes: vec![],
    }
}

/// The stretches of `[start, end)` over which `tz` keeps one UTC offset, with that offset in
/// seconds: within one, an instant's local day is the date of the instant moved by the offset,
/// without asking the zone again.
/// Offsets change on whole seconds (whole minutes, in practice), found to the second; `start`
/// is a whole second (a day's start).
pub fn offset_spans(tz: Tz, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>, i64)> {
    use chrono::Offset;
    let offset = |t: DateTime<Utc>| i64::from(t.with_timezone(&tz).offset().fix().local_minus_utc());
    let mut spans = Vec::new();
    let (mut from, mut t) = (start, start);
    let hour = chrono::Duration::hours(1);
    while t < end {
        let next = (t + hour).min(end);
        let (a, b) = (offset(t), offset(next));
        if a != b || next == end {
            if a != b {
                // The change lies in (t, next]: the first second with the new offset.
                let (mut lo, mut hi) = (t, next);
                while hi - lo > chrono::Duration::seconds(1) {
                    let mid = lo + (hi - lo) / 2;
                    if offset(mid) == a {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                spans.push((from, hi, a));
                from = hi;
            }
            if next == end {
                spans.push((from, end, offset(from)));
            }
        }
        t = next;
    }
    spans.retain(|(a, b, _)| a < b);
    spans
}

/// Lead time buckets: days between the booking and its departure.
pub const LEAD_BUCKETS: [(&str, i64); 5] =
    [("same day", 0), ("1–6 days", 1), ("7–29 days", 7), ("30–89 days", 30), ("90 days or more", 90)];

pub fn lead_bucket(created: DateTime<Utc>, starts: DateTime<Utc>) -> &'static str {
    let days = (starts - created).num_hours().div_euclid(24);
    LEAD_BUCKETS.iter().rev().find(|(_, min)| days >= *min).map_or(LEAD_BUCKETS[0].0, |(label, _)| label)
}

fn weekday_label(w: Weekday) -> &'static str {
    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][w.num_days_from_monday() as usize]
}

/// Load factor (seats sold ÷ capacity) of the departures in the range, by tour, weekday or start
/// time (the departure's own local date and time). Cancelled departures are left out.
pub fn utilisation(deps: &[DepartureFact], f: &ReportFilter) -> ReportTable {
    let g = match f.group {
        Grouping::Weekday | Grouping::StartTime => f.group,
        _ => Grouping::Tour,
    };
    let mut rows: BTreeMap<(u32, String), (i64, i64, i64)> = BTreeMap::new();
    let mut total = (0i64, 0i64, 0i64);
    for d in deps.iter().filter(|d| {
        d.status != DepartureStatus::Cancelled
            && f.from <= d.local_date
            && d.local_date <= f.to
            && f.tour_id.as_ref().is_none_or(|t| *t == d.tour_id)
    }) {
        let key = match g {
            Grouping::Weekday => {
                (d.local_date.weekday().num_days_from_monday(), weekday_label(d.local_date.weekday()).into())
            }
            Grouping::StartTime => (0, d.local_time.format("%H:%M").to_string()),
            _ => (0, d.tour_name.clone()),
        };
        let r = rows.entry(key).or_default();
        for acc in [r, &mut total] {
            acc.0 += 1;
            acc.1 += i64::from(d.capacity);
            acc.2 += i64::from(d.seats_sold);
        }
    }
    let cells = |label: String, (n, cap, sold): (i64, i64, i64)| {
        vec![
            Cell::Text(label),
            Cell::Count(n),
            Cell::Count(cap),
            Cell::Count(sold),
            Cell::PerMille(per_mille(sold, cap)),
        ]
    };
    let first = match g {
        Grouping::Weekday => "Weekday",
        Grouping::StartTime => "Start time",
        _ => "Tour",
    };
    ReportTable {
        title: ReportKind::Utilisation.title().into(),
        columns: [first, "Departures", "Capacity", "Seats sold", "Load factor"].map(String::from).to_vec(),
        rows: rows.into_iter().map(|((_, label), v)| cells(label, v)).collect(),
        totals: vec![cells("Total".into(), total)],
        chart_column: 4,
        notes: vec![],
    }
}

/// Cancellations in the range (by the cancellation's date in `tz`), by who cancelled and reason.
pub fn cancellations(facts: &[SaleFact], f: &ReportFilter, tz: Tz) -> ReportTable {
    let mut rows: BTreeMap<(String, String, Currency), (i64, i64, i64)> = BTreeMap::new();
    let mut totals: BTreeMap<Currency, (i64, i64, i64)> = BTreeMap::new();
    for s in facts.iter().filter(|s| s.status == BookingStatus::Cancelled && f.keeps_booking(s)) {
        let Some(at) = s.cancelled_at else { continue };
        let day = local_day(at, tz);
        if day < f.from || f.to < day {
            continue;
        }
        let by = if s.cancelled_by_operator { "operator" } else { "customer" }.to_string();
        let reason =
            s.cancel_reason.clone().filter(|r| !r.trim().is_empty()).unwrap_or_else(|| "(no reason given)".into());
        for acc in [rows.entry((by.clone(), reason, s.currency)).or_default(), totals.entry(s.currency).or_default()] {
            acc.0 += 1;
            acc.1 += s.total;
            acc.2 += s.refunded;
        }
    }
    let cells = |by: String, reason: String, c: Currency, (n, value, refunded): (i64, i64, i64)| {
        vec![
            Cell::Text(by),
            Cell::Text(reason),
            Cell::Text(c.to_string()),
            Cell::Count(n),
            Cell::Money(Money::new(value, c)),
            Cell::Money(Money::new(refunded, c)),
        ]
    };
    ReportTable {
        title: ReportKind::Cancellations.title().into(),
        columns: ["Cancelled by", "Reason", "Currency", "Cancellations", "Booking value", "Refunded"]
            .map(String::from)
            .to_vec(),
        rows: rows.into_iter().map(|((by, reason, c), v)| cells(by, reason, c, v)).collect(),
        totals: totals.into_iter().map(|(c, v)| cells("Total".into(), String::new(), c, v)).collect(),
        chart_column: 3,
        notes: vec![],
    }
}

/// Per guide: departures led in the range (not cancelled), guests checked in, no-shows, the
/// no-show rate (no-shows ÷ guests whose attendance was recorded), and the published reviews of
/// those departures' bookings: how many and their average in tenths of a star
/// (`reviews::RatingSummary`, rounded half up). A departure led by two guides counts for both;
/// the total counts each departure once.
pub fn guides(deps: &[DepartureFact], f: &ReportFilter) -> ReportTable {
    #[derive(Default)]
    struct Led {
        departures: i64,
        guests: i64,
        no_shows: i64,
        ratings: Vec<u8>,
    }
    impl Led {
        fn add(&mut self, d: &DepartureFact) {
            self.departures += 1;
            self.guests += i64::from(d.checked_in);
            self.no_shows += i64::from(d.no_shows);
            self.ratings.extend(d.ratings.iter().copied());
        }
    }
    let mut rows: BTreeMap<String, Led> = BTreeMap::new();
    let mut total = Led::default();
    for d in deps.iter().filter(|d| {
        d.status != DepartureStatus::Cancelled
            && f.from <= d.local_date
            && d.local_date <= f.to
            && f.tour_id.as_ref().is_none_or(|t| *t == d.tour_id)
    }) {
        for g in &d.guides {
            rows.entry(g.clone()).or_default().add(d);
        }
        if !d.guides.is_empty() {
            total.add(d);
        }
    }
    let cells = |label: String, l: Led| {
        let reviews = crate::reviews::RatingSummary::of(l.ratings.iter().copied());
        vec![
            Cell::Text(label),
            Cell::Count(l.departures),
            Cell::Count(l.guests),
            Cell::Count(l.no_shows),
            Cell::PerMille(per_mille(l.no_shows, l.guests + l.no_shows)),
            Cell::Count(i64::from(reviews.count)),
            Cell::Stars((reviews.count > 0).then_some(i64::from(reviews.average_tenths))),
        ]
    };
    let notes = if total.ratings.is_empty() {
        vec!["No published review of these departures yet: the average appears once reviews are approved.".into()]
    } else {
        vec![]
    };
    ReportTable {
        title: ReportKind::Guides.title().into(),
        columns: ["Guide", "Departures led", "Guests", "No-shows", "No-show rate", "Reviews", "Review average"]
            .map(String::from)
            .to_vec(),
        rows: rows.into_iter().map(|(g, v)| cells(g, v)).collect(),
        totals: vec![cells("Total".into(), total)],
        chart_column: 1,
        notes,
    }
}

/// One booking as the sources, promo code and customers reports read it while the store streams
/// the rows by: borrowed from the row, so a year of bookings is summed without a record made
/// per booking ([`SaleFact`] is the owned form; [`SaleFact::row`] borrows one as this).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleRow<'a> {
    pub tour_id: &'a str,
    pub source: BookingSource,
    pub status: BookingStatus,
    pub created_at: DateTime<Utc>,
    /// The departure's start; `None` when this desk does not hold the departure.
    pub departure_starts_at: Option<DateTime<Utc>>,
    pub currency: Currency,
    pub participants: i64,
    /// Minor units of `currency`.
    pub subtotal: i64,
    pub discounts: i64,
    pub exclusive_taxes: i64,
    pub paid: i64,
    pub refunded: i64,
    pub promo_code: Option<&'a str>,
}

impl SaleRow<'_> {
    /// See [`sold`].
    pub fn sold(&self) -> bool {
        sold(self.status, self.paid > 0)
    }

    fn net(&self) -> i64 {
        self.subtotal - self.discounts - self.refunded
    }
}

impl SaleFact {
    /// This booking as the streamed reports read it.
    pub fn row(&self) -> SaleRow<'_> {
        SaleRow {
            tour_id: &self.tour_id,
            source: self.source,
            status: self.status,
            created_at: self.created_at,
            departure_starts_at: self.departure_starts_at,
            currency: self.currency,
            participants: i64::from(self.participants),
            subtotal: self.subtotal,
            discounts: self.discounts,
            exclusive_taxes: self.exclusive_taxes,
            paid: self.paid,
            refunded: self.refunded,
            promo_code: self.promo_code.as_deref(),
        }
    }
}

/// Where an instant's local day falls against a report's days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayInRange {
    Before,
    On(NaiveDate),
    After,
}

/// The local days of instants in `tz` around a report's range `from..=to`, worked out from the
/// zone's offset over each stretch ([`offset_spans`]) rather than by asking the zone per booking:
/// the streamed reports ask this once per booking.
#[derive(Debug, Clone)]
pub struct RangeDays {
    from: NaiveDate,
    to: NaiveDate,
    tz: Tz,
    /// Two days either side of the range's UTC bounds: outside them, an instant's local day is
    /// certainly before or after the range (a zone's offsets lie within 26 hours of each other).
    wide: (DateTime<Utc>, DateTime<Utc>),
    spans: Vec<(DateTime<Utc>, DateTime<Utc>, i64)>,
}

impl RangeDays {
    pub fn new(from: NaiveDate, to: NaiveDate, tz: Tz) -> RangeDays {
        let (start, end) = range_bounds(from, to, tz);
        let wide = (start - chrono::Duration::days(2), end + chrono::Duration::days(2));
        RangeDays { from, to, tz, wide, spans: offset_spans(tz, wide.0, wide.1) }
    }

    /// The local day of `t` when it lies in the range's days, else which side it falls on.
    pub fn place(&self, t: DateTime<Utc>) -> DayInRange {
        if t < self.wide.0 {
            return DayInRange::Before;
        }
        if t >= self.wide.1 {
            return DayInRange::After;
        }
        let day = match self.spans.iter().find(|(a, b, _)| *a <= t && t < *b) {
            Some((_, _, offset)) => (t + chrono::Duration::seconds(*offset)).date_naive(),
            None => local_day(t, self.tz),
        };
        if day < self.from {
            DayInRange::Before
        } else if self.to < day {
            DayInRange::After
        } else {
            DayInRange::On(day)
        }
    }

    /// Whether `s` is a sold booking the filter keeps, made on one of the range's days.
    fn sold_in_range(&self, f: &ReportFilter, s: &SaleRow<'_>) -> bool {
        s.sold() && f.keeps_row(s) && matches!(self.place(s.created_at), DayInRange::On(_))
    }
}

/// The sources report summed booking by booking, as the store streams them ([`sources`] is
/// this over owned facts).
#[derive(Debug, Clone)]
pub struct SourcesSums {
    filter: ReportFilter,
    days: RangeDays,
    rows: BTreeMap<(&'static str, usize, Currency), Revenue>,
    totals: BTreeMap<Currency, Revenue>,
}

impl SourcesSums {
    pub fn new(f: &ReportFilter, tz: Tz) -> SourcesSums {
        SourcesSums {
            filter: f.clone(),
            days: RangeDays::new(f.from, f.to, tz),
            rows: BTreeMap::new(),
            totals: BTreeMap::new(),
        }
    }

    pub fn add(&mut self, s: &SaleRow<'_>) {
        if !self.days.sold_in_range(&self.filter, s) {
            return;
        }
        let lead = s.departure_starts_at.map_or("unknown", |d| lead_bucket(s.created_at, d));
        let order = LEAD_BUCKETS.iter().position(|(l, _)| *l == lead).unwrap_or(LEAD_BUCKETS.len());
        self.rows.entry((s.source.as_str(), order, s.currency)).or_default().add_row(s);
        self.totals.entry(s.currency).or_default().add_row(s);
    }

    pub fn table(self) -> ReportTable {
        let lead_label = |i: usize| LEAD_BUCKETS.get(i).map_or("unknown", |(l, _)| l).to_string();
        let cells = |src: String, lead: String, c: Currency, r: Revenue| {
            vec![
                Cell::Text(src),
                Cell::Text(lead),
                Cell::Text(c.to_string()),
                Cell::Count(r.bookings),
                Cell::Count(r.participants),
                Cell::Money(Money::new(r.net(), c)),
            ]
        };
        ReportTable {
            title: ReportKind::Sources.title().into(),
            columns: ["Source", "Lead time", "Currency", "Bookings", "Guests", "Net"].map(String::from).to_vec(),
            rows: self.rows.into_iter().map(|((src, lead, c), r)| cells(src.into(), lead_label(lead), c, r)).collect(),
            totals: self.totals.into_iter().map(|(c, r)| cells("Total".into(), String::new(), c, r)).collect(),
            chart_column: 3,
            notes: vec![],
        }
    }
}

/// Bookings by source, and by lead time within each source.
pub fn sources(facts: &[SaleFact], f: &ReportFilter, tz: Tz) -> ReportTable {
    let mut sums = SourcesSums::new(f, tz);
    facts.iter().for_each(|s| sums.add(&s.row()));
    sums.table()
}

/// The promo code report summed booking by booking, as the store streams them ([`promos`] is
/// this over owned facts). Sums are kept by code id (no text made per booking) and named at the
/// end.
#[derive(Debug, Clone)]
pub struct PromoSums {
    filter: ReportFilter,
    days: RangeDays,
    by_code: std::collections::HashMap<String, Vec<(Currency, Revenue)>>,
}

impl PromoSums {
    pub fn new(f: &ReportFilter, tz: Tz) -> PromoSums {
        PromoSums { filter: f.clone(), days: RangeDays::new(f.from, f.to, tz), by_code: Default::default() }
    }

    pub fn add(&mut self, s: &SaleRow<'_>) {
        let Some(code) = s.promo_code else { return };
        if !self.days.sold_in_range(&self.filter, s) {
            return;
        }
        let per_currency = match self.by_code.get_mut(code) {
            Some(v) => v,
            None => self.by_code.entry(code.to_string()).or_default(),
        };
        match per_currency.iter_mut().find(|(c, _)| *c == s.currency) {
            Some((_, r)) => r.add_row(s),
            None => {
                let mut r = Revenue::default();
                r.add_row(s);
                per_currency.push((s.currency, r));
            }
        }
    }

    /// `codes` names codes by id (a code this desk no longer holds shows its id).
    pub fn table(self, codes: &BTreeMap<String, String>) -> ReportTable {
        let mut rows: BTreeMap<(String, Currency), Revenue> = BTreeMap::new();
        let mut totals: BTreeMap<Currency, Revenue> = BTreeMap::new();
        for (code, per_currency) in self.by_code {
            let name = codes.get(&code).cloned().unwrap_or(code);
            for (c, r) in per_currency {
                rows.entry((name.clone(), c)).or_default().merge(&r);
                totals.entry(c).or_default().merge(&r);
            }
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
}

/// Promo code use in the range: bookings, the discount given and the net sold with each code.
/// `codes` names codes by id (a code this desk no longer holds shows its id).
pub fn promos(facts: &[SaleFact], f: &ReportFilter, tz: Tz, codes: &BTreeMap<String, String>) -> ReportTable {
    let mut sums = PromoSums::new(f, tz);
    facts.iter().for_each(|s| sums.add(&s.row()));
    sums.table(codes)
}

/// One customer's figures in one currency: bookings and net in the range, lifetime net.
#[derive(Debug, Clone, Copy, Default)]
struct CustomerMoney {
    bookings: i64,
    net: i64,
    lifetime: i64,
}

/// The customers report summed booking by booking, as the store streams every booking of each
/// customer who bought in the range, one customer's bookings after another ([`customers`] is
/// this over owned facts). Only the customer being read is held.
#[derive(Debug, Clone)]
pub struct CustomerSums {
    filter: ReportFilter,
    days: RangeDays,
    /// The customer whose bookings are being read, whether they bought before the range, and
    /// their money per currency.
    current: String,
    bought_before: bool,
    money: Vec<(Currency, CustomerMoney)>,
    /// (kind, currency) → (customers, bookings in range, net in range, lifetime net)
    rows: BTreeMap<(&'static str, Currency), (i64, i64, i64, i64)>,
    totals: BTreeMap<Currency, (i64, i64, i64, i64)>,
}

impl CustomerSums {
    pub fn new(f: &ReportFilter, tz: Tz) -> CustomerSums {
        CustomerSums {
            filter: f.clone(),
            days: RangeDays::new(f.from, f.to, tz),
            current: String::new(),
            bought_before: false,
            money: Vec::new(),
            rows: BTreeMap::new(),
            totals: BTreeMap::new(),
        }
    }

    /// One booking of `customer_id`; each customer's bookings must come one after another.
    pub fn add(&mut self, customer_id: &str, s: &SaleRow<'_>) {
        if customer_id != self.current {
            self.end_customer();
            self.current.clear();
            self.current.push_str(customer_id);
        }
        if !s.sold() {
            return;
        }
        let place = self.days.place(s.created_at);
        self.bought_before |= place == DayInRange::Before;
        let i = match self.money.iter().position(|(c, _)| *c == s.currency) {
            Some(i) => i,
            None => {
                self.money.push((s.currency, CustomerMoney::default()));
                self.money.len() - 1
            }
        };
        let m = &mut self.money[i].1;
        m.lifetime += s.net();
        if matches!(place, DayInRange::On(_)) && self.filter.keeps_row(s) {
            m.bookings += 1;
            m.net += s.net();
        }
    }

    /// Counts the customer just read: new when no sold booking of theirs is before the range,
    /// once per currency they bought in within it.
    fn end_customer(&mut self) {
        let kind = if self.bought_before { "returning" } else { "new" };
        for (cur, m) in self.money.drain(..).filter(|(_, m)| m.bookings > 0) {
            for acc in [self.rows.entry((kind, cur)).or_default(), self.totals.entry(cur).or_default()] {
                acc.0 += 1;
                acc.1 += m.bookings;
                acc.2 += m.net;
                acc.3 += m.lifetime;
            }
        }
        self.bought_before = false;
    }

    pub fn table(mut self) -> ReportTable {
        self.end_customer();
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
            rows: self.rows.into_iter().map(|((k, c), v)| cells(k.into(), c, v)).collect(),
            totals: self.totals.into_iter().map(|(c, v)| cells("Total".into(), c, v)).collect(),
            chart_column: 2,
            notes: vec!["Lifetime value is rounded down to the minor unit per customer.".into()],
        }
    }
}

/// Customers who bought in the range: new (their first sold booking is in the range) or
/// returning, with their lifetime value (net of every sold booking, per currency).
pub fn customers(cust: &[CustomerFact], f: &ReportFilter, tz: Tz) -> ReportTable {
    let mut sums = CustomerSums::new(f, tz);
    for c in cust {
        c.bookings.iter().for_each(|s| sums.add(&c.customer_id, &s.row()));
    }
    sums.table()
}

/// Revenue of one currency now and in the same period a year before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevenueComparison {
    pub currency: Currency,
    pub today: Money,
    pub today_last_year: Money,
    pub week: Money,
    pub week_last_year: Money,
}

/// Net revenue today and this week so far (Monday to today, in `tz`), against the same days 52
/// weeks before (same weekdays). One row per currency that has any of the four figures.
pub fn revenue_comparison(facts: &[SaleFact], today: NaiveDate, tz: Tz) -> Vec<RevenueComparison> {
    let week = period_start(today, Grouping::Week);
    let year_ago = |d: NaiveDate| d - Days::new(364);
    let mut by: BTreeMap<Currency, [i64; 4]> = BTreeMap::new();
    for s in facts.iter().filter(|s| s.sold()) {
        let d = local_day(s.created_at, tz);
        let slots =
            [d == today, d == year_ago(today), week <= d && d <= today, year_ago(week) <= d && d <= year_ago(today)];
        if slots.iter().any(|x| *x) {
            let e = by.entry(s.currency).or_default();
            for (i, hit) in slots.iter().enumerate() {
                if *hit {
                    e[i] += s.net();
                }
            }
        }
    }
    by.into_iter()
        .map(|(c, v)| RevenueComparison {
            currency: c,
            today: Money::new(v[0], c),
            today_last_year: Money::new(v[1], c),
            week: Money::new(v[2], c),
            week_last_year: Money::new(v[3], c),
        })
        .collect()
}

/// The dates a dashboard needs: from the week a year ago to today.
pub fn comparison_range(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    (period_start(today, Grouping::Week) - Days::new(364), today)
}

// Not `DepartureFact`: the timeline's row and the report's fact are two wire shapes, each with its screen.
/// One departure on the dashboard's timeline (today's and tomorrow's, in its own zone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardDeparture {
    pub departure_id: String,
    pub tour_id: String,
    pub tour_name: String,
    pub local_date: NaiveDate,
    pub local_time: NaiveTime,
    pub timezone: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: DepartureStatus,
    pub capacity: u32,
    pub seats_sold: u32,
    pub checked_in: u32,
    pub no_shows: u32,
    pub guides: Vec<String>,
}

/// A booking with money still to come in before its departure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentDue {
    pub booking_id: String,
    pub reference_number: String,
    pub customer_name: String,
    pub tour_name: String,
    pub departure_starts_at: DateTime<Utc>,
    pub balance_due: Money,
}

/// A pending booking holding seats with nothing paid: the server releases it when its hold runs
/// out (the expiry itself is the server's and does not travel to desks), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnpaidHold {
    pub booking_id: String,
    pub reference_number: String,
    pub customer_name: String,
    pub tour_name: String,
    pub created_at: DateTime<Utc>,
    pub departure_starts_at: DateTime<Utc>,
    pub total: Money,
}

/// The today dashboard, the desk's home screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Dashboard {
    /// Today in the organization's zone.
    pub today: Option<NaiveDate>,
    pub timezone: String,
    /// Today's and tomorrow's departures across tours, by start.
    pub departures: Vec<DashboardDeparture>,
    /// The nearest departures' bookings with a balance due (the first [`DASHBOARD_LIST`]).
    pub payments_due: Vec<PaymentDue>,
    pub payments_due_count: u32,
    pub holds: Vec<UnpaidHold>,
    pub holds_count: u32,
    /// Refused changes waiting in the inbox.
    pub refused: u32,
    pub revenue: Vec<RevenueComparison>,
}

/// How many rows of each dashboard list are shown (the count says how many there are).
pub const DASHBOARD_LIST: usize = 8;
/// Payments due are those of departures in the next this-many days.
pub const PAYMENTS_DUE_DAYS: u64 = 7;

/// Whether a departure on `local_date` is today or tomorrow where it happens (its own zone).
pub fn today_or_tomorrow(local_date: NaiveDate, timezone: &str, now: DateTime<Utc>) -> bool {
    let Ok(tz) = timezone.parse::<Tz>() else { return false };
    let today = local_day(now, tz);
    local_date == today || Some(local_date) == today.succ_opt()
}

/// The payments ledger as a table to export.
pub mod funnel;
pub mod payments;
pub mod schedule;

#[cfg(test)]
mod tests;

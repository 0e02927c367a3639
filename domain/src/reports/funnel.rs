//! The website's funnel and attribution (issue 16 item 3): visitors → tour views → availability
//! views → checkouts started → booked → paid, by tour and by source / UTM campaign, over days in
//! the organization's zone.
//!
//! The server holds the site's `analytics_events` (no desk does: they are anonymous page views by
//! the thousand); it reads a period's events and counts them with [`count`], and the desk keeps
//! the answer ([`FunnelReport`]) to show and export offline with [`table`].
//!
//! # The counting rule
//!
//! - **Visitors** are pages shown: the site sets no cookie and keeps nothing that tells two
//!   visitors apart, so every page view (listing, tour, calendar) counts once, on its own day.
//!   A page about a tour counts for that tour; the listing and other pages for no tour.
//! - **Tour views** and **availability views** count each tour page and calendar shown.
//! - **Checkouts started** are distinct checkouts (the checkout's request id) whose form was
//!   first shown on a day of the range; the checkout is credited to that first showing's tour,
//!   source and campaign, and its day decides the range it belongs to.
//! - **Booked** and **paid** follow the checkout, whenever they happened: of the checkouts
//!   started in the range, those that made a booking and those whose booking was paid and
//!   confirmed. A cohort, so the steps never exceed the one before, and a checkout paid after the
//!   range still counts for the day it started (the server sends those later events too).
//! - **Source** and **campaign** are the page's own `utm_source` / `utm_campaign` (trimmed,
//!   lower-cased): the address the visitor landed on, carried on by the site's own links and
//!   checkout form ([`carried_utm`]); a page without them is *direct or unknown*.
//!
//! Every count lands in exactly one (tour, source, campaign) cell, so any grouping of the cells
//! adds up to the same totals.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{Cell, ReportTable, local_day, per_mille};

/// What a site event was, as `analytics_events.event_name` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FunnelEventKind {
    PageView,
    TourView,
    AvailabilityView,
    CheckoutStarted,
    BookingCreated,
    BookingCompleted,
}

impl FunnelEventKind {
    pub const ALL: [FunnelEventKind; 6] = [
        FunnelEventKind::PageView,
        FunnelEventKind::TourView,
        FunnelEventKind::AvailabilityView,
        FunnelEventKind::CheckoutStarted,
        FunnelEventKind::BookingCreated,
        FunnelEventKind::BookingCompleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FunnelEventKind::PageView => "page.viewed",
            FunnelEventKind::TourView => "tour.viewed",
            FunnelEventKind::AvailabilityView => "availability.viewed",
            FunnelEventKind::CheckoutStarted => "booking.started",
            FunnelEventKind::BookingCreated => "booking.created",
            FunnelEventKind::BookingCompleted => "booking.completed",
        }
    }

    pub fn parse(s: &str) -> Option<FunnelEventKind> {
        FunnelEventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One site event as the funnel reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunnelEvent {
    pub kind: FunnelEventKind,
    pub at: DateTime<Utc>,
    pub tour_id: Option<String>,
    pub utm_source: Option<String>,
    pub utm_campaign: Option<String>,
    /// The checkout's request id (a completed booking's id is its checkout's).
    pub checkout_id: Option<String>,
}

/// The funnel's steps, in order.
pub const STEPS: [&str; 6] = ["Visitors", "Tour views", "Availability views", "Checkouts started", "Booked", "Paid"];

/// The counts of one (tour, source, campaign).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FunnelCell {
    /// `None`: the listing and other pages about no tour.
    pub tour_id: Option<String>,
    /// Lower-case `utm_source`; empty for direct or unknown.
    pub source: String,
    /// Lower-case `utm_campaign`; empty for none.
    pub campaign: String,
    /// One count per [`STEPS`].
    pub steps: [i64; 6],
}

/// The funnel of `from..=to` as the server counted it at `as_of`: what the desk keeps and shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunnelReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The IANA zone the days were counted in (the organization's).
    pub zone: String,
    /// When the server counted: the figures include every event recorded before then.
    pub as_of: DateTime<Utc>,
    /// Tour id → name, for the tours the cells name.
    pub tours: BTreeMap<String, String>,
    /// Sorted by tour, source, campaign.
    pub cells: Vec<FunnelCell>,
}

/// What the desk's funnel tab shows: the report, and whether it was fetched just now or is the
/// copy kept from `report.as_of` because the server could not be reached (`offline_reason`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunnelAnswer {
    pub report: FunnelReport,
    /// `None` when fresh; else why the kept copy is shown, in words.
    pub offline_reason: Option<String>,
}

/// How the desk's table groups the cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FunnelGrouping {
    #[default]
    Tour,
    Source,
    /// Source and campaign.
    Campaign,
}

impl FunnelGrouping {
    pub const ALL: [FunnelGrouping; 3] = [FunnelGrouping::Tour, FunnelGrouping::Source, FunnelGrouping::Campaign];

    pub fn as_str(self) -> &'static str {
        match self {
            FunnelGrouping::Tour => "tour",
            FunnelGrouping::Source => "source",
            FunnelGrouping::Campaign => "campaign",
        }
    }

    pub fn parse(s: &str) -> Option<FunnelGrouping> {
        FunnelGrouping::ALL.into_iter().find(|g| g.as_str() == s)
    }

    pub fn words(self) -> &'static str {
        match self {
            FunnelGrouping::Tour => "Tour",
            FunnelGrouping::Source => "Source",
            FunnelGrouping::Campaign => "Source and campaign",
        }
    }
}

/// A UTM value as the funnel groups it: trimmed, lower-case, at most 100 characters.
pub fn utm(v: Option<&str>) -> String {
    v.map(|s| s.trim().to_lowercase().chars().take(MAX_UTM).collect()).unwrap_or_default()
}

/// The longest UTM value the site accepts from an address, in characters.
pub const MAX_UTM: usize = 100;

/// The UTM parameters the site reads from the address a visitor lands on and carries in its own
/// links and forms to checkout (the site sets no cookie, so the address is the only place the
/// attribution can travel). The funnel counts by source and campaign; the medium rides along.
pub const UTM_PARAMS: [&str; 3] = ["utm_source", "utm_medium", "utm_campaign"];

/// A UTM value from an address as the site records and carries it ([`utm`]'s form), or `None`
/// when it is not one: empty, longer than [`MAX_UTM`], or holding anything but letters, digits,
/// spaces and `-_.~`. A value refused is dropped — neither recorded nor carried on — so what a
/// page repeats in its links is never more than a campaign name could be.
pub fn carried_utm(raw: &str) -> Option<String> {
    let v = raw.trim();
    let fits = !v.is_empty()
        && v.chars().count() <= MAX_UTM
        && v.chars().all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '~'));
    fits.then(|| utm(Some(v)))
}

/// Counts `events` into (tour, source, campaign) cells for the days `from..=to` in `tz` (the
/// module's rule). `events` holds the range's events and, for the checkouts started in it, their
/// later `booking.created` / `booking.completed` events; events outside the range are ignored
/// except as those later steps.
pub fn count(events: &[FunnelEvent], from: NaiveDate, to: NaiveDate, tz: Tz) -> Vec<FunnelCell> {
    type Key = (Option<String>, String, String);
    let in_range = |at: DateTime<Utc>| {
        let d = local_day(at, tz);
        from <= d && d <= to
    };
    let key = |e: &FunnelEvent| -> Key {
        (e.tour_id.clone().filter(|t| !t.is_empty()), utm(e.utm_source.as_deref()), utm(e.utm_campaign.as_deref()))
    };
    let mut cells: BTreeMap<Key, [i64; 6]> = BTreeMap::new();
    // Each checkout's first showing (the earliest; ties by the order given).
    let mut first_start: HashMap<&str, &FunnelEvent> = HashMap::new();
    let (mut booked, mut paid) = (std::collections::HashSet::new(), std::collections::HashSet::new());
    for e in events {
        let page_step = match e.kind {
            FunnelEventKind::PageView => Some(None),
            FunnelEventKind::TourView => Some(Some(1)),
            FunnelEventKind::AvailabilityView => Some(Some(2)),
            FunnelEventKind::CheckoutStarted => {
                if let Some(c) = e.checkout_id.as_deref().filter(|c| !c.is_empty()) {
                    let earlier = first_start.get(c).is_some_and(|f| f.at <= e.at);
                    if !earlier {
                        first_start.insert(c, e);
                    }
                }
                None
            }
            FunnelEventKind::BookingCreated => {
                booked.extend(e.checkout_id.as_deref());
                None
            }
            FunnelEventKind::BookingCompleted => {
                paid.extend(e.checkout_id.as_deref());
                None
            }
        };
        if let Some(step) = page_step
            && in_range(e.at)
        {
            let c = cells.entry(key(e)).or_default();
            c[0] += 1;
            if let Some(s) = step {
                c[s] += 1;
            }
        }
    }
    for (checkout, e) in first_start {
        if !in_range(e.at) {
            continue;
        }
        let c = cells.entry(key(e)).or_default();
        c[3] += 1;
        // A paid booking was made, even if its `booking.created` event was dropped.
        let is_paid = paid.contains(checkout);
        if is_paid || booked.contains(checkout) {
            c[4] += 1;
        }
        if is_paid {
            c[5] += 1;
        }
    }
    cells
        .into_iter()
        .map(|((tour_id, source, campaign), steps)| FunnelCell { tour_id, source, campaign, steps })
        .collect()
}

/// The funnel as a report table grouped `by`: one row per tour, source, or source and campaign,
/// the steps, and the checkouts' conversion (paid ÷ checkouts started); the total row adds every
/// cell. The chart draws the paid checkouts.
pub fn table(r: &FunnelReport, by: FunnelGrouping) -> ReportTable {
    let source_words = |s: &str| if s.is_empty() { "Direct or unknown".to_string() } else { s.to_string() };
    let mut rows: BTreeMap<Vec<String>, [i64; 6]> = BTreeMap::new();
    let mut total = [0i64; 6];
    for c in &r.cells {
        let label = match by {
            FunnelGrouping::Tour => vec![match &c.tour_id {
                Some(t) => r.tours.get(t).cloned().unwrap_or_else(|| format!("Tour {t}")),
                None => "No tour (listing and other pages)".to_string(),
            }],
            FunnelGrouping::Source => vec![source_words(&c.source)],
            FunnelGrouping::Campaign => vec![
                source_words(&c.source),
                if c.campaign.is_empty() { "No campaign".to_string() } else { c.campaign.clone() },
            ],
        };
        let row = rows.entry(label).or_default();
        for (i, n) in c.steps.iter().enumerate() {
            row[i] += n;
            total[i] += n;
        }
    }
    let labels: Vec<&str> = match by {
        FunnelGrouping::Tour => vec!["Tour"],
        FunnelGrouping::Source => vec!["Source"],
        FunnelGrouping::Campaign => vec!["Source", "Campaign"],
    };
    let width = labels.len();
    let cells = |label: Vec<String>, steps: [i64; 6]| {
        let mut out: Vec<Cell> = label.into_iter().map(Cell::Text).collect();
        out.extend(steps.iter().map(|n| Cell::Count(*n)));
        out.push(Cell::PerMille(per_mille(steps[5], steps[3])));
        out
    };
    let mut total_label = vec!["Total".to_string()];
    total_label.resize(width, String::new());
    let mut columns: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
    columns.extend(STEPS.iter().map(|s| s.to_string()));
    columns.push("Paid ÷ checkouts started".into());
    ReportTable {
        title: format!("Website funnel by {}", by.words().to_lowercase()),
        columns,
        rows: rows.into_iter().map(|(l, s)| cells(l, s)).collect(),
        totals: vec![cells(total_label, total)],
        chart_column: width + 5,
        notes: vec![format!(
            "Counted by the server at {} for the days {} to {} in {}. Visitors are pages shown: the site sets no \
             cookie, so one person reading three pages counts three times. A checkout counts on the day it started, \
             booked and paid whenever that happened.",
            r.as_of.format("%Y-%m-%d %H:%M UTC"),
            r.from,
            r.to,
            r.zone
        )],
    }
}

/// The steps of every cell added up (the funnel chart's bars).
pub fn totals(r: &FunnelReport) -> [i64; 6] {
    let mut t = [0i64; 6];
    for c in &r.cells {
        for (i, n) in c.steps.iter().enumerate() {
            t[i] += n;
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("an RFC 3339 instant")
    }

    fn ev(
        kind: FunnelEventKind,
        when: &str,
        tour: Option<&str>,
        source: Option<&str>,
        checkout: Option<&str>,
    ) -> FunnelEvent {
        FunnelEvent {
            kind,
            at: at(when),
            tour_id: tour.map(String::from),
            utm_source: source.map(String::from),
            utm_campaign: source.map(|_| "Spring".to_string()),
            checkout_id: checkout.map(String::from),
        }
    }

    fn lisbon() -> Tz {
        super::super::zone("Europe/Lisbon").expect("a zone")
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    use FunnelEventKind::*;

    #[test]
    fn steps_count_pages_on_their_day_and_checkouts_as_a_cohort_of_their_first_showing() {
        let events = [
            // Lisbon's DST starts 2026-03-29 01:00 UTC: 23:30 UTC on the 28th is still the 28th.
            ev(PageView, "2026-03-28T23:30:00Z", None, None, None),
            ev(TourView, "2026-03-29T00:30:00Z", Some("t1"), Some(" Google "), None),
            ev(AvailabilityView, "2026-03-29T08:00:00Z", Some("t1"), Some("google"), None),
            // Started twice (a reload): one checkout, credited to its first showing (google).
            ev(CheckoutStarted, "2026-03-29T08:05:00Z", Some("t1"), Some("google"), Some("k1")),
            ev(CheckoutStarted, "2026-03-29T08:06:00Z", Some("t1"), None, Some("k1")),
            ev(BookingCreated, "2026-03-29T08:07:00Z", Some("t1"), None, Some("k1")),
            // Paid after the range: still the 29th's checkout.
            ev(BookingCompleted, "2026-04-02T09:00:00Z", Some("t1"), None, Some("k1")),
            // Started, never booked; direct.
            ev(CheckoutStarted, "2026-03-29T10:00:00Z", Some("t1"), None, Some("k2")),
            // Started before the range: neither it nor its payment counts.
            ev(CheckoutStarted, "2026-03-27T10:00:00Z", Some("t1"), None, Some("k0")),
            ev(BookingCompleted, "2026-03-29T10:00:00Z", Some("t1"), None, Some("k0")),
            // 23:30 UTC on the 29th is already the 30th in Lisbon (UTC+1): outside.
            ev(TourView, "2026-03-29T23:30:00Z", Some("t1"), None, None),
        ];
        let cells = count(&events, d("2026-03-28"), d("2026-03-29"), lisbon());
        let report = FunnelReport {
            from: d("2026-03-28"),
            to: d("2026-03-29"),
            zone: "Europe/Lisbon".into(),
            as_of: at("2026-04-03T00:00:00Z"),
            tours: [("t1".to_string(), "City Walk".to_string())].into(),
            cells,
        };
        assert_eq!(totals(&report), [3, 1, 1, 2, 1, 1]);
        let google = report.cells.iter().find(|c| c.source == "google").expect("google's cell");
        assert_eq!((google.campaign.as_str(), google.steps), ("spring", [2, 1, 1, 1, 1, 1]));
        let direct_t1 = report.cells.iter().find(|c| c.source.is_empty() && c.tour_id.is_some()).expect("direct");
        assert_eq!(direct_t1.steps, [0, 0, 0, 1, 0, 0]);

        let t = table(&report, FunnelGrouping::Tour);
        assert_eq!(t.columns[1..7], STEPS.map(String::from));
        assert_eq!(t.rows[0][0], Cell::Text("City Walk".into()));
        assert_eq!(t.rows[1][0], Cell::Text("No tour (listing and other pages)".into()));
        assert_eq!(t.totals[0][1..7], [3, 1, 1, 2, 1, 1].map(Cell::Count));
        assert_eq!(t.totals[0][7], Cell::PerMille(Some(500)), "one of two checkouts paid");
        let t = table(&report, FunnelGrouping::Campaign);
        assert_eq!(t.columns[..2], ["Source".to_string(), "Campaign".to_string()]);
        assert_eq!(t.rows[0][..2], [Cell::Text("Direct or unknown".into()), Cell::Text("No campaign".into())]);
        assert_eq!(t.rows[1][..3], [Cell::Text("google".into()), Cell::Text("spring".into()), Cell::Count(2)]);
        let csv = t.to_csv();
        assert!(csv.starts_with("Source,Campaign,Visitors,Tour views,"), "{csv}");
        assert!(csv.contains("google,spring,2,1,1,1,1,1,100.0\r\n"), "{csv}");
    }

    #[test]
    fn every_grouping_adds_up_to_the_same_totals_and_steps_never_grow() {
        let mut events = Vec::new();
        for i in 0..40 {
            let src = [None, Some("google"), Some("newsletter")][i % 3];
            let tour = [Some("a"), Some("b"), None][i % 4 % 3];
            let when = format!("2026-10-{:02}T{:02}:15:00Z", 20 + i % 10, i % 24);
            events.push(ev(PageView, &when, tour, src, None));
            if i % 2 == 0 {
                events.push(ev(CheckoutStarted, &when, tour, src, Some(&format!("k{i}"))));
            }
            if i % 4 == 0 {
                events.push(ev(BookingCreated, &when, tour, None, Some(&format!("k{i}"))));
            }
            if i % 8 == 0 {
                events.push(ev(BookingCompleted, &when, tour, None, Some(&format!("k{i}"))));
            }
        }
        let cells = count(&events, d("2026-10-20"), d("2026-10-29"), lisbon());
        let report = FunnelReport {
            from: d("2026-10-20"),
            to: d("2026-10-29"),
            zone: "Europe/Lisbon".into(),
            as_of: at("2026-11-01T00:00:00Z"),
            tours: BTreeMap::new(),
            cells,
        };
        let totals = table(&report, FunnelGrouping::Tour).totals;
        for by in FunnelGrouping::ALL {
            let t = table(&report, by);
            assert_eq!(t.totals[0][t.totals[0].len() - 7..], totals[0][1..], "{by:?}");
        }
        for c in &report.cells {
            assert!(c.steps[3] >= c.steps[4] && c.steps[4] >= c.steps[5], "{c:?}");
        }
    }

    #[test]
    fn a_carried_utm_value_is_a_campaign_name_or_nothing() {
        assert_eq!(carried_utm("  Newsletter ").as_deref(), Some("newsletter"));
        assert_eq!(carried_utm("spring sale_2026-v1.2~b").as_deref(), Some("spring sale_2026-v1.2~b"));
        assert_eq!(carried_utm("Frühling").as_deref(), Some("frühling"));
        assert_eq!(carried_utm(&"x".repeat(MAX_UTM)).map(|v| v.len()), Some(MAX_UTM));
        for refused in [
            "",
            "   ",
            "<script>alert(1)</script>",
            "a\"b",
            "a'b",
            "a&b=c",
            "a/b",
            "line\nbreak",
            "bidi\u{202e}",
            &"x".repeat(MAX_UTM + 1),
        ] {
            assert_eq!(carried_utm(refused), None, "{refused:?}");
        }
    }
}

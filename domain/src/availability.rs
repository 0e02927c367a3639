//! Availability patterns → departure slots.
//!
//! A pattern ("Mon, Wed, Fri at 09:00 and 14:00 from April to October, not on May 1") is
//! expanded in the tour's IANA zone into slots that carry both the local date/time the operator
//! thinks in and the UTC instant everything is compared and sorted by.
//!
//! # DST rules
//!
//! * **Gap** (a local time that does not exist, e.g. 02:30 in New York on the spring-forward
//!   Sunday): the departure moves forward to the first instant after the gap — the moment the
//!   clocks jump — which is 03:00 local in New York and 02:00 local in London. The slot records
//!   [`DstResolution::ShiftedForward`] with the time that was asked for, so the desk can flag it.
//!   If the pattern also has a start at that later time, the two merge into one departure.
//! * **Overlap** (a local time that happens twice, e.g. 01:30 on the fall-back Sunday): the
//!   earlier instant, i.e. the first time the clock shows it, recorded as
//!   [`DstResolution::AmbiguousEarlier`].
//! * `ends_at` is `starts_at` plus the duration in real elapsed minutes, so a tour running
//!   through a transition still lasts as long as advertised.
//!
//! # Idempotence
//!
//! A slot is identified by its [`SlotKey`]: variant, *resolved* local date and local time.
//! Expansion returns slots sorted by key with no two alike, and [`new_slots`] drops those
//! already stored, so generating an overlapping range again creates nothing twice. The same key
//! gives the same [`SlotKey::departure_id`] on every device, so two desks generating offline
//! converge on the same departures.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::entities::{Departure, Tour, TourVariant};
use crate::status::DepartureStatus;

/// The longest range one expansion may cover, so a typo ("2062" for "2026") cannot generate
/// tens of thousands of departures.
pub const MAX_EXPANSION_DAYS: i64 = 3 * 366;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternKind {
    /// `days_of_week` × `start_times`.
    Recurring,
    /// `specific_dates` × `start_times`.
    SpecificDates,
    /// Nothing is generated; departures are created by hand.
    OnRequest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailabilityPattern {
    #[serde(rename = "type")]
    pub kind: PatternKind,
    /// 0 = Sunday … 6 = Saturday, as in the spec.
    #[serde(default)]
    pub days_of_week: Vec<u8>,
    #[serde(default)]
    pub specific_dates: Vec<NaiveDate>,
    /// Local times in the tour's zone, e.g. `"09:00"`.
    #[serde(default)]
    pub start_times: Vec<NaiveTime>,
    /// Inclusive local dates.
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    #[serde(default)]
    pub excluded_dates: Vec<NaiveDate>,
}

/// What every slot of one variant shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotTemplate {
    pub variant_id: String,
    pub timezone: Tz,
    pub duration_minutes: u32,
    pub capacity: u32,
}

impl SlotTemplate {
    /// The variant's overrides (capacity, duration) win over the tour's defaults.
    pub fn from_entities(tour: &Tour, variant: &TourVariant) -> Result<Self, AvailabilityError> {
        Ok(SlotTemplate {
            variant_id: variant.id.clone(),
            timezone: parse_zone(&tour.timezone)?,
            duration_minutes: variant.duration_minutes.unwrap_or(tour.duration_minutes),
            capacity: variant.capacity.unwrap_or(tour.default_capacity),
        })
    }
}

pub fn parse_zone(name: &str) -> Result<Tz, AvailabilityError> {
    name.parse::<Tz>().map_err(|_| AvailabilityError::UnknownTimezone(name.to_string()))
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SlotKey {
    pub variant_id: String,
    pub local_date: NaiveDate,
    pub local_time: NaiveTime,
}

impl SlotKey {
    pub fn of(departure: &Departure) -> SlotKey {
        SlotKey {
            variant_id: departure.variant_id.clone(),
            local_date: departure.local_date,
            local_time: departure.local_time,
        }
    }

    /// A deterministic departure id, e.g. `v1@2026-03-08T09:00:00`.
    pub fn departure_id(&self) -> String {
        format!("{}@{}T{}", self.variant_id, self.local_date, self.local_time)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DstResolution {
    Exact,
    /// The requested local time fell in a DST gap; the slot starts when the gap ends.
    ShiftedForward {
        requested: NaiveTime,
    },
    /// The local time happened twice; the slot is the first occurrence.
    AmbiguousEarlier,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartureSlot {
    pub key: SlotKey,
    pub timezone: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: u32,
    pub dst: DstResolution,
}

impl DepartureSlot {
    /// The departure row for this slot, open and empty, with the deterministic id.
    pub fn to_departure(&self, organization_id: &str, tour_id: &str) -> Departure {
        Departure {
            id: self.key.departure_id(),
            organization_id: organization_id.to_string(),
            tour_id: tour_id.to_string(),
            variant_id: self.key.variant_id.clone(),
            local_date: self.key.local_date,
            local_time: self.key.local_time,
            timezone: self.timezone.clone(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            capacity: self.capacity,
            booked_count: 0,
            status: DepartureStatus::Open,
            notes: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AvailabilityError {
    #[error("unknown time zone {0:?} (expected an IANA name such as Europe/London)")]
    UnknownTimezone(String),
    #[error("day of week {0} is not 0 (Sunday) to 6 (Saturday)")]
    InvalidWeekday(u8),
    #[error("the pattern has no start times")]
    NoStartTimes,
    #[error("the duration must be at least one minute")]
    ZeroDuration,
    #[error("the range ends ({until}) before it starts ({from})")]
    RangeReversed { from: NaiveDate, until: NaiveDate },
    #[error("a range of {days} days is longer than the {max} days generated at once")]
    RangeTooLong { days: i64, max: i64 },
}

/// The UTC instant of a local date/time in `tz`, following the module's DST rules, with the
/// local date/time actually used.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> (DateTime<Utc>, NaiveDateTime, DstResolution) {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => (t.with_timezone(&Utc), local, DstResolution::Exact),
        LocalResult::Ambiguous(a, b) => {
            let first = a.min(b);
            (first.with_timezone(&Utc), local, DstResolution::AmbiguousEarlier)
        }
        LocalResult::None => {
            let t = end_of_gap(tz, local);
            (t, t.with_timezone(&tz).naive_local(), DstResolution::ShiftedForward { requested: local.time() })
        }
    }
}

/// The first instant whose local reading is at or after `local`: for a time inside a gap,
/// that is the transition itself. Local readings only move forward within the ±36 h searched
/// (zones change offset at most a few times a year), so a binary search over seconds finds it.
fn end_of_gap(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let reads_at_or_after = |secs: i64| {
        let t = DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default();
        t.with_timezone(&tz).naive_local() >= local
    };
    let approx = local.and_utc().timestamp();
    // UTC offsets stay within ±14 h, so these bracket the answer.
    let (mut lo, mut hi) = (approx - 36 * 3600, approx + 36 * 3600);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if reads_at_or_after(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    DateTime::<Utc>::from_timestamp(hi, 0).unwrap_or_default()
}

impl AvailabilityPattern {
    /// The pattern's local dates within `[from, until]` (inclusive), before times are applied.
    pub fn dates_in(&self, from: NaiveDate, until: NaiveDate) -> Result<Vec<NaiveDate>, AvailabilityError> {
        if until < from {
            return Err(AvailabilityError::RangeReversed { from, until });
        }
        let days = (until - from).num_days() + 1;
        if days > MAX_EXPANSION_DAYS {
            return Err(AvailabilityError::RangeTooLong { days, max: MAX_EXPANSION_DAYS });
        }
        if let Some(&bad) = self.days_of_week.iter().find(|&&d| d > 6) {
            return Err(AvailabilityError::InvalidWeekday(bad));
        }
        let start = self.valid_from.map_or(from, |v| v.max(from));
        let end = self.valid_until.map_or(until, |v| v.min(until));
        let excluded: BTreeSet<NaiveDate> = self.excluded_dates.iter().copied().collect();
        let keep = |d: &NaiveDate| start <= *d && *d <= end && !excluded.contains(d);
        Ok(match self.kind {
            PatternKind::OnRequest => Vec::new(),
            PatternKind::SpecificDates => {
                let set: BTreeSet<NaiveDate> = self.specific_dates.iter().copied().filter(keep).collect();
                set.into_iter().collect()
            }
            PatternKind::Recurring => {
                let mut weekdays = [false; 7];
                for &d in &self.days_of_week {
                    weekdays[usize::from(d)] = true;
                }
                start
                    .iter_days()
                    .take_while(|d| *d <= end)
                    .filter(|d| weekdays[d.weekday().num_days_from_sunday() as usize])
                    .filter(|d| !excluded.contains(d))
                    .collect()
            }
        })
    }
}

/// Expands `pattern` over the local dates `[from, until]` (inclusive), intersected with the
/// pattern's own validity. Deterministic: the same input always gives the same slots, sorted by
/// key and without duplicates.
pub fn expand(
    pattern: &AvailabilityPattern,
    template: &SlotTemplate,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<DepartureSlot>, AvailabilityError> {
    let dates = pattern.dates_in(from, until)?;
    if pattern.kind == PatternKind::OnRequest {
        return Ok(Vec::new());
    }
    if pattern.start_times.is_empty() {
        return Err(AvailabilityError::NoStartTimes);
    }
    if template.duration_minutes == 0 {
        return Err(AvailabilityError::ZeroDuration);
    }
    let times: BTreeSet<NaiveTime> = pattern.start_times.iter().copied().collect();
    let duration = Duration::minutes(i64::from(template.duration_minutes));
    let zone_name = template.timezone.name().to_string();
    let mut slots: BTreeMap<SlotKey, DepartureSlot> = BTreeMap::new();
    for date in dates {
        for &time in &times {
            let (starts_at, local, dst) = resolve_local(template.timezone, date.and_time(time));
            let key =
                SlotKey { variant_id: template.variant_id.clone(), local_date: local.date(), local_time: local.time() };
            let slot = DepartureSlot {
                key: key.clone(),
                timezone: zone_name.clone(),
                starts_at,
                ends_at: starts_at + duration,
                capacity: template.capacity,
                dst,
            };
            // A start shifted out of a gap onto a time the pattern also lists merges with it;
            // the exact one is kept so the record says nothing was moved.
            match slots.get(&key) {
                Some(existing) if existing.dst == DstResolution::Exact => {}
                _ => {
                    slots.insert(key, slot);
                }
            }
        }
    }
    Ok(slots.into_values().collect())
}

/// The slots not yet stored: what a generation run should create.
pub fn new_slots(slots: Vec<DepartureSlot>, existing: &BTreeSet<SlotKey>) -> Vec<DepartureSlot> {
    slots.into_iter().filter(|s| !existing.contains(&s.key)).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }
    fn utc(y: i32, mo: u32, day: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, day, h, mi, 0).unwrap()
    }
    fn template(zone: &str) -> SlotTemplate {
        SlotTemplate {
            variant_id: "v1".into(),
            timezone: parse_zone(zone).unwrap(),
            duration_minutes: 120,
            capacity: 12,
        }
    }
    fn recurring(days: &[u8], times: &[NaiveTime]) -> AvailabilityPattern {
        AvailabilityPattern {
            kind: PatternKind::Recurring,
            days_of_week: days.to_vec(),
            specific_dates: vec![],
            start_times: times.to_vec(),
            valid_from: None,
            valid_until: None,
            excluded_dates: vec![],
        }
    }

    #[test]
    fn dst_rules_new_york_and_london() {
        use DstResolution::*;
        let fwd = |requested| ShiftedForward { requested };
        // (zone, local date, local time, expected UTC, expected local time, resolution)
        let cases = [
            // New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT.
            ("America/New_York", d(2026, 3, 8), t(1, 30), utc(2026, 3, 8, 6, 30), t(1, 30), Exact),
            ("America/New_York", d(2026, 3, 8), t(2, 0), utc(2026, 3, 8, 7, 0), t(3, 0), fwd(t(2, 0))),
            ("America/New_York", d(2026, 3, 8), t(2, 30), utc(2026, 3, 8, 7, 0), t(3, 0), fwd(t(2, 30))),
            ("America/New_York", d(2026, 3, 8), t(3, 0), utc(2026, 3, 8, 7, 0), t(3, 0), Exact),
            // New York, 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice.
            ("America/New_York", d(2026, 11, 1), t(1, 30), utc(2026, 11, 1, 5, 30), t(1, 30), AmbiguousEarlier),
            ("America/New_York", d(2026, 11, 1), t(2, 30), utc(2026, 11, 1, 7, 30), t(2, 30), Exact),
            ("America/New_York", d(2026, 7, 1), t(9, 0), utc(2026, 7, 1, 13, 0), t(9, 0), Exact),
            // London, 2026-03-29: 01:00 GMT jumps to 02:00 BST.
            ("Europe/London", d(2026, 3, 29), t(1, 30), utc(2026, 3, 29, 1, 0), t(2, 0), fwd(t(1, 30))),
            ("Europe/London", d(2026, 3, 29), t(0, 59), utc(2026, 3, 29, 0, 59), t(0, 59), Exact),
            ("Europe/London", d(2026, 3, 29), t(2, 0), utc(2026, 3, 29, 1, 0), t(2, 0), Exact),
            // London, 2026-10-25: 02:00 BST falls back to 01:00 GMT.
            ("Europe/London", d(2026, 10, 25), t(1, 30), utc(2026, 10, 25, 0, 30), t(1, 30), AmbiguousEarlier),
            ("Europe/London", d(2026, 10, 25), t(2, 0), utc(2026, 10, 25, 2, 0), t(2, 0), Exact),
            ("Europe/London", d(2026, 1, 15), t(9, 0), utc(2026, 1, 15, 9, 0), t(9, 0), Exact),
        ];
        for (zone, date, time, want_utc, want_local, want_dst) in cases {
            let (at, local, dst) = resolve_local(parse_zone(zone).unwrap(), date.and_time(time));
            assert_eq!(at, want_utc, "{zone} {date} {time}");
            assert_eq!(local, date.and_time(want_local), "{zone} {date} {time}");
            assert_eq!(dst, want_dst, "{zone} {date} {time}");
        }
    }

    #[test]
    fn spring_forward_start_merges_with_the_hour_it_moves_to() {
        // Sundays 01:30, 02:30 and 03:00 in New York across the 2026 spring-forward.
        let p = recurring(&[0], &[t(1, 30), t(2, 30), t(3, 0)]);
        let slots = expand(&p, &template("America/New_York"), d(2026, 3, 1), d(2026, 3, 8)).unwrap();
        let got: Vec<_> = slots.iter().map(|s| (s.key.local_date, s.key.local_time, s.dst)).collect();
        assert_eq!(
            got,
            vec![
                (d(2026, 3, 1), t(1, 30), DstResolution::Exact),
                (d(2026, 3, 1), t(2, 30), DstResolution::Exact),
                (d(2026, 3, 1), t(3, 0), DstResolution::Exact),
                (d(2026, 3, 8), t(1, 30), DstResolution::Exact),
                (d(2026, 3, 8), t(3, 0), DstResolution::Exact),
            ]
        );
        // The 01:30 departure runs 2 real hours through the jump: 06:30Z → 08:30Z (04:30 EDT).
        assert_eq!(slots[3].starts_at, utc(2026, 3, 8, 6, 30));
        assert_eq!(slots[3].ends_at, utc(2026, 3, 8, 8, 30));

        // Without an explicit 03:00 the shifted start survives and says so.
        let p = recurring(&[0], &[t(2, 30)]);
        let slots = expand(&p, &template("America/New_York"), d(2026, 3, 8), d(2026, 3, 8)).unwrap();
        assert_eq!(slots.len(), 1);
        assert_eq!(slots[0].key.local_time, t(3, 0));
        assert_eq!(slots[0].dst, DstResolution::ShiftedForward { requested: t(2, 30) });
    }

    #[test]
    fn pattern_dates_table() {
        let mut p = recurring(&[1, 3, 5], &[t(9, 0)]); // Mon, Wed, Fri
        p.valid_from = Some(d(2026, 6, 3));
        p.valid_until = Some(d(2026, 6, 12));
        p.excluded_dates = vec![d(2026, 6, 10), d(2026, 7, 1)];
        let dates = p.dates_in(d(2026, 6, 1), d(2026, 6, 30)).unwrap();
        // 2026-06-01 is a Monday; before valid_from. 06-10 (Wed) is excluded.
        assert_eq!(dates, vec![d(2026, 6, 3), d(2026, 6, 5), d(2026, 6, 8), d(2026, 6, 12)]);

        let specific = AvailabilityPattern {
            kind: PatternKind::SpecificDates,
            specific_dates: vec![d(2026, 6, 20), d(2026, 6, 10), d(2026, 6, 20), d(2026, 8, 1)],
            ..p.clone()
        };
        // Dedupe, sort, window (valid_until 06-12 drops 06-20 and 08-01), exclusions.
        assert_eq!(specific.dates_in(d(2026, 1, 1), d(2026, 12, 31)).unwrap(), vec![]);
        let specific = AvailabilityPattern { valid_until: None, ..specific };
        assert_eq!(specific.dates_in(d(2026, 1, 1), d(2026, 6, 30)).unwrap(), vec![d(2026, 6, 20)]);

        let on_request = AvailabilityPattern { kind: PatternKind::OnRequest, ..p.clone() };
        assert_eq!(expand(&on_request, &template("Europe/London"), d(2026, 6, 1), d(2026, 6, 30)).unwrap(), vec![]);
    }

    #[test]
    fn expansion_errors_table() {
        let tpl = template("Europe/London");
        let cases: Vec<(AvailabilityPattern, SlotTemplate, NaiveDate, NaiveDate, AvailabilityError)> = vec![
            (
                recurring(&[7], &[t(9, 0)]),
                tpl.clone(),
                d(2026, 1, 1),
                d(2026, 1, 2),
                AvailabilityError::InvalidWeekday(7),
            ),
            (recurring(&[1], &[]), tpl.clone(), d(2026, 1, 1), d(2026, 1, 2), AvailabilityError::NoStartTimes),
            (
                recurring(&[1], &[t(9, 0)]),
                SlotTemplate { duration_minutes: 0, ..tpl.clone() },
                d(2026, 1, 1),
                d(2026, 1, 2),
                AvailabilityError::ZeroDuration,
            ),
            (
                recurring(&[1], &[t(9, 0)]),
                tpl.clone(),
                d(2026, 2, 1),
                d(2026, 1, 1),
                AvailabilityError::RangeReversed { from: d(2026, 2, 1), until: d(2026, 1, 1) },
            ),
            (
                recurring(&[1], &[t(9, 0)]),
                tpl.clone(),
                d(2026, 1, 1),
                d(2062, 1, 1),
                AvailabilityError::RangeTooLong { days: 13150, max: MAX_EXPANSION_DAYS },
            ),
        ];
        for (p, tpl, from, until, want) in cases {
            assert_eq!(expand(&p, &tpl, from, until), Err(want.clone()), "{want}");
        }
        assert_eq!(parse_zone("Mars/Olympus"), Err(AvailabilityError::UnknownTimezone("Mars/Olympus".into())));
    }

    #[test]
    fn regeneration_is_idempotent() {
        let p = recurring(&[0, 6], &[t(10, 0), t(14, 0)]);
        let tpl = template("Europe/London");
        let first = expand(&p, &tpl, d(2026, 1, 1), d(2026, 3, 31)).unwrap();
        let stored: BTreeSet<SlotKey> = first.iter().map(|s| s.key.clone()).collect();
        // An overlapping range only adds what is new.
        let second = expand(&p, &tpl, d(2026, 3, 1), d(2026, 4, 30)).unwrap();
        let fresh = new_slots(second, &stored);
        assert!(fresh.iter().all(|s| s.key.local_date >= d(2026, 4, 1)));
        assert_eq!(fresh.len(), 4 * 2 * 2); // April 2026 has 4 Saturdays and 4 Sundays
        assert!(new_slots(first.clone(), &stored).is_empty());
        // Departure rows carry the same deterministic ids everywhere.
        let dep = first[0].to_departure("org", "tour");
        assert_eq!(dep.id, "v1@2026-01-03T10:00:00");
        assert_eq!(SlotKey::of(&dep), first[0].key);
        assert_eq!(dep.capacity, 12);
        assert_eq!(dep.timezone, "Europe/London");
    }

    #[test]
    fn template_uses_variant_overrides() {
        let tour = Tour {
            id: "t".into(),
            organization_id: "o".into(),
            name: "Walk".into(),
            slug: "walk".into(),
            short_description: String::new(),
            duration_minutes: 90,
            default_capacity: 15,
            min_participants: 1,
            category: crate::status::TourCategory::Walking,
            timezone: "America/New_York".into(),
            meeting_point: String::new(),
            status: crate::status::TourStatus::Active,
            ..crate::fixtures::tour()
        };
        let variant = TourVariant {
            id: "v".into(),
            organization_id: "o".into(),
            tour_id: "t".into(),
            name: "Private".into(),
            capacity: Some(6),
            duration_minutes: None,
            active: true,
            sort_order: 0,
        };
        let tpl = SlotTemplate::from_entities(&tour, &variant).unwrap();
        assert_eq!((tpl.capacity, tpl.duration_minutes), (6, 90));
        let tpl = SlotTemplate::from_entities(&tour, &TourVariant { capacity: None, ..variant.clone() }).unwrap();
        assert_eq!(tpl.capacity, 15);
        let bad = Tour { timezone: "EST5EDT-ish".into(), ..tour };
        assert!(matches!(SlotTemplate::from_entities(&bad, &variant), Err(AvailabilityError::UnknownTimezone(_))));
    }

    #[test]
    fn pattern_serde_matches_the_spec_shape() {
        let p: AvailabilityPattern = serde_json::from_str(
            r#"{"type":"recurring","days_of_week":[1,3],"start_times":["09:00","14:00"],
                "valid_from":"2026-04-01","valid_until":null,"excluded_dates":["2026-05-01"]}"#,
        )
        .unwrap();
        assert_eq!(p.start_times, vec![t(9, 0), t(14, 0)]);
        assert_eq!(p.kind, PatternKind::Recurring);
    }
}

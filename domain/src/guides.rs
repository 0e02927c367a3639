//! Who may lead a departure. A guide can be assigned only if active, qualified for the tour,
//! speaking the required language (if any), available for the whole departure according to
//! their weekly availability *in their own zone*, and not already assigned to an overlapping
//! departure. Every failed rule is reported, each as its own typed conflict, so the desk can
//! show the whole picture at once rather than one refusal at a time.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::availability::parse_zone;

const DAY_MINUTES: u16 = 24 * 60;

/// A wall-clock time of day in minutes, `"09:30"`; `"24:00"` is allowed as the end of a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DayTime(u16);

impl DayTime {
    pub fn from_hm(h: u16, m: u16) -> Option<DayTime> {
        let v = h.checked_mul(60)?.checked_add(m)?;
        (m < 60 && v <= DAY_MINUTES).then_some(DayTime(v))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }

    fn of(t: NaiveDateTime) -> u16 {
        // Seconds are dropped: availability is kept to the minute.
        (t.hour() * 60 + t.minute()) as u16
    }
}

impl fmt::Display for DayTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl TryFrom<String> for DayTime {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let bad = || format!("{s:?} is not a time of day like 09:30");
        let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return Err(bad());
        }
        let h: u16 = h.parse().map_err(|_| bad())?;
        let m: u16 = m.parse().map_err(|_| bad())?;
        DayTime::from_hm(h, m).ok_or_else(bad)
    }
}

impl From<DayTime> for String {
    fn from(t: DayTime) -> String {
        t.to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub start: DayTime,
    pub end: DayTime,
}

/// For each weekday (0 = Sunday … 6 = Saturday, as in the spec) the ranges the guide works,
/// in the guide's own zone. Serialises as `{"1": [{"start":"09:00","end":"17:00"}], …}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct WeeklyAvailability(pub BTreeMap<u8, Vec<TimeRange>>);

/// A weekday key as JSON writes it (`"1"`) or as a number. serde_json turns a string key into a
/// `u8` itself, but the UI reads replies with serde-wasm-bindgen, which does not: the desk's
/// Guides screen failed with "invalid type: string \"0\", expected u8" on every guide.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct WeekdayKey(u8);

impl<'de> Deserialize<'de> for WeekdayKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = WeekdayKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a weekday number 0-6 (0 = Sunday)")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<WeekdayKey, E> {
                u8::try_from(v).map(WeekdayKey).map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<WeekdayKey, E> {
                u8::try_from(v).map(WeekdayKey).map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<WeekdayKey, E> {
                if v.fract() == 0.0 && (0.0..=255.0).contains(&v) {
                    Ok(WeekdayKey(v as u8))
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Float(v), &self))
                }
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<WeekdayKey, E> {
                v.parse().map(WeekdayKey).map_err(|_| E::invalid_value(serde::de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for WeeklyAvailability {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let keyed = BTreeMap::<WeekdayKey, Vec<TimeRange>>::deserialize(d)?;
        Ok(WeeklyAvailability(keyed.into_iter().map(|(k, v)| (k.0, v)).collect()))
    }
}

impl WeeklyAvailability {
    /// Ranges of one weekday, sorted, with touching or overlapping ranges joined so that
    /// 09:00–12:00 plus 12:00–17:00 covers a 11:00–13:00 departure.
    fn merged(&self, weekday: u8) -> Vec<(u16, u16)> {
        let mut ranges: Vec<(u16, u16)> = self
            .0
            .get(&weekday)
            .into_iter()
            .flatten()
            .filter(|r| r.start < r.end)
            .map(|r| (r.start.0, r.end.0))
            .collect();
        ranges.sort_unstable();
        let mut out: Vec<(u16, u16)> = Vec::with_capacity(ranges.len());
        for (s, e) in ranges {
            match out.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => out.push((s, e)),
            }
        }
        out
    }

    fn covers(&self, weekday: u8, start: u16, end: u16) -> bool {
        self.merged(weekday).iter().any(|&(s, e)| s <= start && end <= e)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuideStatus {
    Active,
    Inactive,
    OnLeave,
}

/// What the rules need to know about a guide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuideProfile {
    pub id: String,
    pub status: GuideStatus,
    /// ISO 639-1 codes, optionally with a region (`en`, `pt-BR`).
    pub languages: Vec<String>,
    /// The guide's IANA zone; weekly availability is read in it.
    pub timezone: String,
    pub weekly_availability: WeeklyAvailability,
    /// Tours the guide may lead (the spec's `tour_guide_assignments`).
    pub qualified_tour_ids: Vec<String>,
    /// Whole days off in the guide's zone.
    #[serde(default)]
    pub time_off: Vec<TimeOff>,
}

/// Days off, `start` to `end` inclusive, as dates in the guide's own zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeOff {
    pub start: NaiveDate,
    pub end: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a guide does on a departure: one lead, any number of assistants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentRole {
    #[default]
    Lead,
    Assistant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentStatus {
    Pending,
    Confirmed,
    Declined,
}

/// A departure the guide is already assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExistingAssignment {
    pub departure_id: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: AssignmentStatus,
}

#[derive(Debug, Clone, Copy)]
pub struct AssignmentRequest<'a> {
    pub departure_id: &'a str,
    pub tour_id: &'a str,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub required_language: Option<&'a str>,
    /// Minutes the guide needs between two departures (travel, reset); 0 allows back-to-back.
    pub turnaround_minutes: u32,
}

/// One reason a guide cannot lead a departure; the `Display` text is for the desk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GuideConflict {
    #[error("the guide is {status:?} and cannot be assigned")]
    NotActive { status: GuideStatus },
    #[error("the guide is not qualified to lead this tour")]
    NotQualified { tour_id: String },
    #[error("the guide does not speak the required language ({required})")]
    MissingLanguage { required: String },
    #[error("the guide is not available {local_start} – {local_end} ({timezone})")]
    OutsideAvailability { local_start: NaiveDateTime, local_end: NaiveDateTime, timezone: String },
    #[error("the guide is already assigned to departure {departure_id} at that time")]
    Overlap { departure_id: String, starts_at: DateTime<Utc>, ends_at: DateTime<Utc> },
    #[error("the guide has time off {start} – {end}")]
    TimeOff { start: NaiveDate, end: NaiveDate },
    #[error("the guide's time zone {timezone:?} is unknown")]
    UnknownTimezone { timezone: String },
    #[error("the departure ends before it starts")]
    InvalidWindow,
}

/// Every conflict found; never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GuideConflicts(pub Vec<GuideConflict>);

impl fmt::Display for GuideConflicts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl std::error::Error for GuideConflicts {}

/// Language tags match on their primary subtag, case-insensitively: a guide speaking `en`
/// can lead an `en-GB` tour and the reverse.
fn same_language(a: &str, b: &str) -> bool {
    let primary = |s: &str| s.trim().split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
    let (pa, pb) = (primary(a), primary(b));
    !pa.is_empty() && pa == pb
}

/// Whether the local interval `[start, end]` is inside the weekly availability, day by day
/// for departures that run past midnight.
fn within_weekly(weekly: &WeeklyAvailability, start: NaiveDateTime, end: NaiveDateTime) -> bool {
    let (first, last) = (start.date(), end.date());
    let mut day: NaiveDate = first;
    loop {
        let seg_start = if day == first { DayTime::of(start) } else { 0 };
        let seg_end = if day == last { DayTime::of(end) } else { DAY_MINUTES };
        // On a fall-back day the end can read earlier than the start; cover both readings.
        let (lo, hi) = (seg_start.min(seg_end), seg_start.max(seg_end));
        let weekday = day.weekday().num_days_from_sunday() as u8;
        let empty_tail = day != first && hi == 0;
        if !empty_tail && !weekly.covers(weekday, lo, hi) {
            return false;
        }
        match day.succ_opt() {
            Some(next) if next <= last => day = next,
            _ => return true,
        }
    }
}

/// Checks every rule for assigning `guide` to the departure in `req`, given the guide's other
/// assignments. Declined assignments and the same departure (re-assigning is idempotent) are
/// ignored.
pub fn check_assignment(
    guide: &GuideProfile,
    req: &AssignmentRequest<'_>,
    existing: &[ExistingAssignment],
) -> Result<(), GuideConflicts> {
    let mut conflicts = Vec::new();
    if req.ends_at <= req.starts_at {
        conflicts.push(GuideConflict::InvalidWindow);
    }
    if guide.status != GuideStatus::Active {
        conflicts.push(GuideConflict::NotActive { status: guide.status });
    }
    if !guide.qualified_tour_ids.iter().any(|t| t == req.tour_id) {
        conflicts.push(GuideConflict::NotQualified { tour_id: req.tour_id.to_string() });
    }
    if let Some(required) = req.required_language.filter(|l| !l.trim().is_empty())
        && !guide.languages.iter().any(|l| same_language(l, required))
    {
        conflicts.push(GuideConflict::MissingLanguage { required: required.to_string() });
    }
    match parse_zone(&guide.timezone) {
        Err(_) => conflicts.push(GuideConflict::UnknownTimezone { timezone: guide.timezone.clone() }),
        Ok(tz) => {
            let local_start = req.starts_at.with_timezone(&tz).naive_local();
            let local_end = req.ends_at.with_timezone(&tz).naive_local();
            if req.ends_at > req.starts_at && !within_weekly(&guide.weekly_availability, local_start, local_end) {
                conflicts.push(GuideConflict::OutsideAvailability {
                    local_start,
                    local_end,
                    timezone: guide.timezone.clone(),
                });
            }
            if req.ends_at > req.starts_at {
                let (first, last) = (local_start.date(), local_end.date());
                // A departure ending exactly at midnight does not touch the next day.
                let last = if local_end.time() == chrono::NaiveTime::MIN && last > first {
                    last.pred_opt().unwrap_or(last)
                } else {
                    last
                };
                let mut off: Vec<&TimeOff> =
                    guide.time_off.iter().filter(|t| t.start <= last && first <= t.end).collect();
                off.sort_by_key(|t| (t.start, t.end));
                conflicts.extend(off.into_iter().map(|t| GuideConflict::TimeOff { start: t.start, end: t.end }));
            }
        }
    }
    let gap = Duration::minutes(i64::from(req.turnaround_minutes));
    let mut overlaps: Vec<&ExistingAssignment> = existing
        .iter()
        .filter(|a| a.status != AssignmentStatus::Declined && a.departure_id != req.departure_id)
        .filter(|a| a.starts_at < req.ends_at + gap && req.starts_at < a.ends_at + gap)
        .collect();
    overlaps.sort_by(|a, b| (a.starts_at, &a.departure_id).cmp(&(b.starts_at, &b.departure_id)));
    conflicts.extend(overlaps.into_iter().map(|a| GuideConflict::Overlap {
        departure_id: a.departure_id.clone(),
        starts_at: a.starts_at,
        ends_at: a.ends_at,
    }));
    if conflicts.is_empty() { Ok(()) } else { Err(GuideConflicts(conflicts)) }
}

/// A guide taken off a departure, as the server remembers it: who, and the span they held it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuideRemoval {
    pub guide_id: String,
    /// The guide's login (none when the guide has no login).
    pub user_id: Option<String>,
    pub assigned_at: DateTime<Utc>,
    pub removed_at: DateTime<Utc>,
}

/// Whether the login `user_id` led (lead or assistant) the departure at `at`: it holds a
/// current assignment that is not declined, or it held one from `assigned_at` until a removal
/// after `at`. A guide offline when the office took the departure away still delivers the
/// attendance recorded while it was theirs; on a departure they never held, nothing is accepted.
pub fn led_at(
    current: &[crate::entities::DepartureGuide],
    removals: &[GuideRemoval],
    user_id: &str,
    at: DateTime<Utc>,
) -> bool {
    current.iter().any(|g| g.status != AssignmentStatus::Declined && g.user_id.as_deref() == Some(user_id))
        || removals.iter().any(|r| r.user_id.as_deref() == Some(user_id) && r.assigned_at <= at && at < r.removed_at)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn weekly_availability_reads_weekday_keys_written_as_text_or_numbers() {
        use serde::de::value::{Error, MapDeserializer};
        // What serde-wasm-bindgen hands the UI: keys as strings, asked for with deserialize_any.
        let text = MapDeserializer::<_, Error>::new(
            vec![("0".to_string(), Vec::<String>::new()), ("6".to_string(), Vec::new())].into_iter(),
        );
        let w = WeeklyAvailability::deserialize(text).unwrap();
        assert_eq!(w.0.keys().copied().collect::<Vec<u8>>(), [0, 6]);
        let numbers = MapDeserializer::<_, Error>::new(vec![(1u8, Vec::<String>::new())].into_iter());
        assert_eq!(WeeklyAvailability::deserialize(numbers).unwrap().0.keys().copied().collect::<Vec<u8>>(), [1]);
        let bad = MapDeserializer::<_, Error>::new(vec![("Monday".to_string(), Vec::<String>::new())].into_iter());
        assert!(WeeklyAvailability::deserialize(bad).is_err());
        // JSON round trip, as PostgreSQL and the desk's IPC carry it.
        let json = r#"{"1":[{"start":"09:00","end":"17:00"}],"3":[]}"#;
        let w: WeeklyAvailability = serde_json::from_str(json).unwrap();
        assert_eq!(w.0.get(&1).map(Vec::len), Some(1));
        assert_eq!(serde_json::from_str::<WeeklyAvailability>(&serde_json::to_string(&w).unwrap()).unwrap(), w);
    }

    #[test]
    fn a_removed_guide_led_the_departure_only_while_it_was_theirs() {
        use crate::entities::DepartureGuide;
        let t = |h: u32| Utc.with_ymd_and_hms(2026, 6, 1, h, 0, 0).single().unwrap_or_default();
        let removal =
            GuideRemoval { guide_id: "g1".into(), user_id: Some("u1".into()), assigned_at: t(8), removed_at: t(12) };
        let current = |status| {
            vec![DepartureGuide { guide_id: "g1".into(), user_id: Some("u1".into()), status, role: Default::default() }]
        };
        assert!(led_at(&current(AssignmentStatus::Pending), &[], "u1", t(20)), "assigned now");
        assert!(!led_at(&current(AssignmentStatus::Declined), &[], "u1", t(10)), "declined");
        assert!(!led_at(&current(AssignmentStatus::Confirmed), &[], "u2", t(10)), "someone else's");
        let removed = [removal];
        assert!(led_at(&[], &removed, "u1", t(8)), "from the assignment");
        assert!(led_at(&[], &removed, "u1", t(11)), "made before the removal");
        assert!(!led_at(&[], &removed, "u1", t(12)), "made at the removal");
        assert!(!led_at(&[], &removed, "u1", t(13)), "made after the removal");
        assert!(!led_at(&[], &removed, "u1", t(7)), "made before it was theirs");
        assert!(!led_at(&[], &removed, "u2", t(10)), "another guide never led it");
        assert!(!led_at(&[], &[], "u1", t(10)), "never led");
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn guide() -> GuideProfile {
        // Weekdays 08:00–18:00 in London, split at lunch into touching ranges; Saturday
        // evenings into the night; Sunday early hours.
        serde_json::from_str(
            r#"{"id":"g1","status":"active","languages":["en","es-MX"],"timezone":"Europe/London",
                "weekly_availability":{
                  "1":[{"start":"08:00","end":"12:00"},{"start":"12:00","end":"18:00"}],
                  "2":[{"start":"08:00","end":"18:00"}],
                  "3":[{"start":"08:00","end":"18:00"}],
                  "6":[{"start":"18:00","end":"24:00"}],
                  "0":[{"start":"00:00","end":"02:00"}]},
                "qualified_tour_ids":["t1","t2"]}"#,
        )
        .unwrap()
    }

    fn req(starts_at: DateTime<Utc>, minutes: i64) -> AssignmentRequest<'static> {
        AssignmentRequest {
            departure_id: "d-new",
            tour_id: "t1",
            starts_at,
            ends_at: starts_at + Duration::minutes(minutes),
            required_language: None,
            turnaround_minutes: 0,
        }
    }

    fn kinds(r: Result<(), GuideConflicts>) -> Vec<&'static str> {
        match r {
            Ok(()) => vec![],
            Err(GuideConflicts(cs)) => cs
                .iter()
                .map(|c| match c {
                    GuideConflict::NotActive { .. } => "not_active",
                    GuideConflict::NotQualified { .. } => "not_qualified",
                    GuideConflict::MissingLanguage { .. } => "language",
                    GuideConflict::OutsideAvailability { .. } => "unavailable",
                    GuideConflict::Overlap { .. } => "overlap",
                    GuideConflict::UnknownTimezone { .. } => "timezone",
                    GuideConflict::InvalidWindow => "window",
                    GuideConflict::TimeOff { .. } => "time_off",
                })
                .collect(),
        }
    }

    #[test]
    fn time_off_in_the_guides_zone_and_every_conflict_at_once() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 6, d).unwrap();
        let off = |a: u32, b: u32| TimeOff { start: day(a), end: day(b), reason: Some("leave".into()) };
        let g = GuideProfile { time_off: vec![off(9, 10)], ..guide() };
        // Monday 8 June 2026 is free; Tuesday 9 and Wednesday 10 are off.
        assert_eq!(kinds(check_assignment(&g, &req(utc(2026, 6, 8, 8, 0), 120), &[])), Vec::<&str>::new());
        assert_eq!(kinds(check_assignment(&g, &req(utc(2026, 6, 9, 8, 0), 120), &[])), vec!["time_off"]);
        assert_eq!(kinds(check_assignment(&g, &req(utc(2026, 6, 10, 8, 0), 120), &[])), vec!["time_off"]);
        // 23:30 UTC on the 8th is 00:30 BST on the 9th: the guide's zone decides.
        let g2 = GuideProfile { time_off: vec![off(9, 9)], ..guide() };
        let late = AssignmentRequest { ..req(utc(2026, 6, 8, 23, 30), 30) };
        assert!(kinds(check_assignment(&g2, &late, &[])).contains(&"time_off"));
        // Ending exactly at local midnight does not touch the next day.
        let to_midnight = req(utc(2026, 6, 8, 16, 0), 420); // 17:00–24:00 BST Monday
        assert!(!kinds(check_assignment(&g2, &to_midnight, &[])).contains(&"time_off"));
        // Everything wrong at once: every conflict is reported, none hides another.
        let bad = GuideProfile { status: GuideStatus::OnLeave, languages: vec!["de".into()], ..g };
        let r = AssignmentRequest {
            tour_id: "t9",
            required_language: Some("fr"),
            turnaround_minutes: 30,
            ..req(utc(2026, 6, 9, 6, 0), 120)
        };
        let busy = [ExistingAssignment {
            departure_id: "other".into(),
            starts_at: utc(2026, 6, 9, 8, 15),
            ends_at: utc(2026, 6, 9, 9, 0),
            status: AssignmentStatus::Confirmed,
        }];
        assert_eq!(
            kinds(check_assignment(&bad, &r, &busy)),
            vec!["not_active", "not_qualified", "language", "unavailable", "time_off", "overlap"]
        );
    }

    #[test]
    fn availability_in_the_guides_zone() {
        let g = guide();
        // 2026-06-08 is a Monday; London is UTC+1 in June, UTC+0 in January.
        let cases = [
            (utc(2026, 6, 8, 7, 0), 120, vec![]),               // 08:00–10:00 BST
            (utc(2026, 6, 8, 10, 0), 180, vec![]),              // 11:00–14:00 across touching ranges
            (utc(2026, 6, 8, 6, 30), 60, vec!["unavailable"]),  // 07:30 BST, too early
            (utc(2026, 6, 8, 16, 30), 60, vec!["unavailable"]), // 17:30–18:30 runs over
            (utc(2026, 6, 8, 16, 0), 60, vec![]),               // 17:00–18:00 fits exactly
            (utc(2026, 1, 12, 8, 0), 120, vec![]),              // winter: 08:00 GMT
            (utc(2026, 1, 12, 7, 30), 60, vec!["unavailable"]), // winter: 07:30 GMT
            (utc(2026, 6, 11, 9, 0), 60, vec!["unavailable"]),  // Thursday: no ranges
            // Saturday 23:00 → Sunday 01:00 BST across midnight.
            (utc(2026, 6, 13, 22, 0), 120, vec![]),
            (utc(2026, 6, 13, 22, 0), 240, vec!["unavailable"]), // until 03:00, too late
            (utc(2026, 6, 13, 21, 0), 60, vec![]),               // 22:00–23:00 BST, ends before midnight
            (utc(2026, 6, 13, 22, 0), 60, vec![]),               // ends exactly at midnight
        ];
        for (start, minutes, want) in cases {
            assert_eq!(kinds(check_assignment(&g, &req(start, minutes), &[])), want, "{start} +{minutes}m");
        }
    }

    #[test]
    fn qualification_language_status_table() {
        let monday = utc(2026, 6, 8, 9, 0);
        let cases: Vec<(GuideProfile, Option<&str>, &str, Vec<&str>)> = vec![
            (guide(), Some("es"), "t1", vec![]),
            (guide(), Some("EN-gb"), "t2", vec![]),
            (guide(), Some("fr"), "t1", vec!["language"]),
            (guide(), Some(""), "t1", vec![]),
            (guide(), None, "t9", vec!["not_qualified"]),
            (GuideProfile { status: GuideStatus::OnLeave, ..guide() }, None, "t1", vec!["not_active"]),
            (
                GuideProfile { status: GuideStatus::Inactive, languages: vec![], ..guide() },
                Some("de"),
                "t9",
                vec!["not_active", "not_qualified", "language"],
            ),
            (GuideProfile { timezone: "Nowhere/Land".into(), ..guide() }, None, "t1", vec!["timezone"]),
        ];
        for (g, lang, tour, want) in cases {
            let r = AssignmentRequest { required_language: lang, tour_id: tour, ..req(monday, 60) };
            assert_eq!(kinds(check_assignment(&g, &r, &[])), want, "{lang:?} {tour}");
        }
        let backwards = AssignmentRequest { ends_at: monday - Duration::minutes(1), ..req(monday, 60) };
        assert_eq!(kinds(check_assignment(&guide(), &backwards, &[])), vec!["window"]);
    }

    #[test]
    fn overlapping_assignments() {
        let g = guide();
        let nine = utc(2026, 6, 8, 8, 0); // 09:00 BST
        let other = |id: &str, start: DateTime<Utc>, minutes: i64, status: AssignmentStatus| ExistingAssignment {
            departure_id: id.into(),
            starts_at: start,
            ends_at: start + Duration::minutes(minutes),
            status,
        };
        use AssignmentStatus::*;
        // (existing, turnaround, expected conflicting departure ids)
        let cases: Vec<(Vec<ExistingAssignment>, u32, Vec<&str>)> = vec![
            (vec![other("a", nine + Duration::minutes(60), 60, Confirmed)], 0, vec!["a"]),
            (vec![other("a", nine - Duration::minutes(30), 60, Pending)], 0, vec!["a"]),
            (vec![other("a", nine - Duration::minutes(30), 60, Declined)], 0, vec![]),
            // Back to back is fine unless the guide needs time in between.
            (vec![other("a", nine + Duration::minutes(120), 60, Confirmed)], 0, vec![]),
            (vec![other("a", nine + Duration::minutes(120), 60, Confirmed)], 15, vec!["a"]),
            (vec![other("a", nine - Duration::minutes(60), 60, Confirmed)], 0, vec![]),
            // Re-assigning the same departure is not a conflict with itself.
            (vec![other("d-new", nine, 120, Confirmed)], 0, vec![]),
            (
                vec![other("z", nine + Duration::minutes(90), 60, Confirmed), other("b", nine, 30, Confirmed)],
                0,
                vec!["b", "z"],
            ),
        ];
        for (existing, turnaround, want) in cases {
            let r = AssignmentRequest { turnaround_minutes: turnaround, ..req(nine, 120) };
            let got: Vec<String> = match check_assignment(&g, &r, &existing) {
                Ok(()) => vec![],
                Err(GuideConflicts(cs)) => cs
                    .into_iter()
                    .map(|c| match c {
                        GuideConflict::Overlap { departure_id, .. } => departure_id,
                        other => panic!("unexpected {other}"),
                    })
                    .collect(),
            };
            assert_eq!(got, want, "turnaround {turnaround}");
        }
    }

    #[test]
    fn messages_and_day_times() {
        let e = GuideConflicts(vec![
            GuideConflict::NotQualified { tour_id: "t".into() },
            GuideConflict::MissingLanguage { required: "fr".into() },
        ]);
        assert_eq!(
            e.to_string(),
            "the guide is not qualified to lead this tour; the guide does not speak the required language (fr)"
        );
        for (s, ok) in
            [("09:30", true), ("24:00", true), ("24:01", false), ("9:05", true), ("09:60", false), ("0930", false)]
        {
            assert_eq!(DayTime::try_from(s.to_string()).is_ok(), ok, "{s}");
        }
        assert_eq!(String::from(DayTime::from_hm(9, 5).unwrap()), "09:05");
    }
}

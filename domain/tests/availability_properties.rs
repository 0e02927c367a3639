//! Property tests for availability-pattern expansion in zones with DST.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone};
use proptest::prelude::*;
use tourdesk_domain::availability::{
    AvailabilityPattern, DstResolution, PatternKind, SlotKey, SlotTemplate, expand, new_slots, parse_zone,
};

#[derive(Debug, Clone)]
struct Case {
    zone: &'static str,
    pattern: AvailabilityPattern,
    from: NaiveDate,
    until: NaiveDate,
}

fn day(offset: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + Duration::days(offset)
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just("America/New_York"), Just("Europe/London")],
        prop::collection::btree_set(0u8..7, 0..7),
        // Quarter hours, biased towards the small hours where DST transitions happen.
        prop::collection::vec(
            prop_oneof![(0u32..4, 0u32..4), (0u32..24, 0u32..4)]
                .prop_map(|(h, q)| NaiveTime::from_hms_opt(h, q * 15, 0).unwrap()),
            1..5,
        ),
        prop::option::of(0i64..900),
        prop::option::of(0i64..900),
        prop::collection::vec(0i64..900, 0..20),
        0i64..800,
        0i64..400,
    )
        .prop_map(|(zone, days, times, vf, vu, excluded, from, len)| Case {
            zone,
            pattern: AvailabilityPattern {
                kind: PatternKind::Recurring,
                days_of_week: days.into_iter().collect(),
                specific_dates: vec![],
                start_times: times,
                valid_from: vf.map(day),
                valid_until: vu.map(day),
                excluded_dates: excluded.into_iter().map(day).collect(),
            },
            from: day(from),
            until: day(from + len),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn expansion_invariants(case in case()) {
        let tz = parse_zone(case.zone).unwrap();
        let tpl = SlotTemplate { variant_id: "v".into(), timezone: tz, duration_minutes: 90, capacity: 8 };
        let p = &case.pattern;
        let slots = expand(p, &tpl, case.from, case.until).unwrap();
        let lo = p.valid_from.map_or(case.from, |v| v.max(case.from));
        let hi = p.valid_until.map_or(case.until, |v| v.min(case.until));
        let excluded: BTreeSet<_> = p.excluded_dates.iter().copied().collect();

        for s in &slots {
            let date = s.key.local_date;
            // Inside the window, on an allowed weekday, never excluded.
            prop_assert!(lo <= date && date <= hi, "{date} outside {lo}..={hi}");
            prop_assert!(p.days_of_week.contains(&(date.weekday().num_days_from_sunday() as u8)));
            prop_assert!(!excluded.contains(&date));
            // The stored local reading is what the UTC instant reads in the zone.
            let local = s.starts_at.with_timezone(&tz).naive_local();
            prop_assert_eq!(local, date.and_time(s.key.local_time));
            prop_assert_eq!(s.ends_at - s.starts_at, Duration::minutes(90));
            match s.dst {
                DstResolution::Exact | DstResolution::AmbiguousEarlier => {
                    prop_assert!(p.start_times.contains(&s.key.local_time));
                }
                DstResolution::ShiftedForward { requested } => {
                    prop_assert!(p.start_times.contains(&requested));
                    prop_assert!(tz.from_local_datetime(&date.and_time(requested)).single().is_none());
                }
            }
        }
        // No duplicates, by key or by instant.
        let keys: Vec<&SlotKey> = slots.iter().map(|s| &s.key).collect();
        prop_assert!(keys.windows(2).all(|w| w[0] < w[1]));
        let instants: BTreeSet<_> = slots.iter().map(|s| s.starts_at).collect();
        prop_assert_eq!(instants.len(), slots.len());

        // Complete: every allowed date × time that exists on the clock has its slot.
        if lo <= hi {
            for date in lo.iter_days().take_while(|d| *d <= hi) {
                if excluded.contains(&date) || !p.days_of_week.contains(&(date.weekday().num_days_from_sunday() as u8)) {
                    continue;
                }
                for t in &p.start_times {
                    if tz.from_local_datetime(&date.and_time(*t)).earliest().is_some() {
                        let key = SlotKey { variant_id: "v".into(), local_date: date, local_time: *t };
                        prop_assert!(slots.iter().any(|s| s.key == key), "missing {date} {t}");
                    }
                }
            }
        }

        // Idempotent: the same range again is identical and creates nothing new.
        let again = expand(p, &tpl, case.from, case.until).unwrap();
        prop_assert_eq!(&again, &slots);
        let stored: BTreeSet<SlotKey> = slots.iter().map(|s| s.key.clone()).collect();
        prop_assert!(new_slots(again, &stored).is_empty());
    }
}

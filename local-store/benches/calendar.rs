//! The calendar's month query on the desk store: about 1,000 departures in the month shown
//! (16 tours × 2 starts × 31 days = 992 in March 2027; 1,120 with the grid's whole weeks), among
//! 4,000 in the replica, read the way `#/calendar` reads them (with tour and variant names and
//! seats left). Prints p50/p95/max of the
//! query; the goal is p95 < 50 ms for query and render.
//!
//! `cargo bench -p tourdesk-local-store --bench calendar` (release). `BENCH_RUNS` sets how many
//! times the month is read (default 200).
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, NaiveTime, TimeZone, Utc};
use support::{ORG, manager_store, record};
use tourdesk_domain::entities::{Tour, TourVariant};
use tourdesk_domain::protocol::{BucketPage, ChangeRecord, EntityKind, PullResponse};
use tourdesk_domain::status::DepartureStatus;
use tourdesk_domain::{Departure, fixtures};

const TOURS: usize = 16;

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let store = manager_store(dir.path(), "u-1");

    // 16 tours × 2 starts × 125 days from 2027-01-01: 4,000 departures.
    let mut changes = Vec::new();
    let mut seq = 1;
    let mut push = |c: ChangeRecord| {
        changes.push(c);
    };
    let first = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    for t in 0..TOURS {
        let tour = Tour {
            id: format!("t-{t}"),
            slug: format!("tour-{t}"),
            name: format!("Tour {t:02}"),
            organization_id: ORG.into(),
            ..fixtures::tour()
        };
        let variant = TourVariant {
            id: format!("v-{t}"),
            tour_id: tour.id.clone(),
            organization_id: ORG.into(),
            ..fixtures::variant()
        };
        push(record(EntityKind::Tour, seq, &tour));
        push(record(EntityKind::TourVariant, seq + 1, &variant));
        seq += 2;
        for day in 0..125u64 {
            let date = first + Days::new(day);
            for hour in [9, 15] {
                let time = NaiveTime::from_hms_opt(hour, 0, 0).unwrap();
                let starts = Utc.from_utc_datetime(&date.and_time(time));
                let d = Departure {
                    id: format!("{}@{date}T{time}", variant.id),
                    organization_id: ORG.into(),
                    tour_id: tour.id.clone(),
                    variant_id: variant.id.clone(),
                    local_date: date,
                    local_time: time,
                    timezone: "Europe/London".into(),
                    starts_at: starts,
                    ends_at: starts + chrono::Duration::hours(2),
                    capacity: 12,
                    booked_count: (day % 13) as u32,
                    status: DepartureStatus::Open,
                    notes: String::new(),
                };
                push(record(EntityKind::Departure, seq, &d));
                seq += 1;
            }
        }
    }
    let total = changes.iter().filter(|c| c.entity == EntityKind::Departure).count();
    let cursor = changes.last().map_or(0, |c| c.seq);
    store
        .apply_pull(&PullResponse {
            buckets: vec![BucketPage { bucket: format!("org:{ORG}:all"), changes, cursor, head: cursor }],
            complete: true,
            last_mutation_id: 0,
            results: vec![],
            removed_buckets: vec![],
        })
        .unwrap();

    let (from, until) = (NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(), NaiveDate::from_ymd_opt(2027, 4, 4).unwrap());
    let in_month = store.calendar(from, until).unwrap();
    let march = in_month.iter().filter(|c| c.departure.local_date.format("%m").to_string() == "03").count();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let rows = store.calendar(from, until).unwrap();
            let took = t.elapsed();
            assert_eq!(rows.len(), in_month.len());
            took
        })
        .collect();
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).saturating_sub(1).min(times.len() - 1)];
    println!(
        "calendar month query: {} rows ({march} in March 2027) of {total} departures, {runs} runs: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms (goal: p95 < 50 ms)",
        in_month.len(),
        at(0.50).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
    );
}

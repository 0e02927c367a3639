//! The guides' week board on the desk store (issue 14, item 9): 50 guides × 300 departures in
//! the week shown, each departure led by one guide (6 each, none overlapping), read the way
//! `#/guides` reads the board (`Store::guide_board`, departures with their guides and every
//! guide, serialised as the IPC layer does), and the conflict check the board runs when a guide
//! is dropped on a departure (`assign_guide.v2` through `Store::mutate`: the domain reads the
//! guide's schedule, qualification, availability and time off and reports every conflict; here
//! an overlap, so the assignment is refused and nothing is written, and every run checks the
//! same thing). Prints p50/p95/max of each and of the two together; the goal is
//! p95 < 50 ms for query + conflict check.
//!
//! `cargo bench -p tourdesk-local-store --bench guide_board` (release). `BENCH_RUNS` sets the
//! timed runs per figure (default 200).
#![allow(clippy::unwrap_used)]

mod support;

use chrono::{Days, NaiveTime, TimeZone, Utc};
use serde_json::json;
use support::{ORG, figure, manager_store, record};
use tourdesk_domain::entities::{Guide, GuideAssignment, Tour, TourVariant};
use tourdesk_domain::guides::{AssignmentStatus, GuideStatus};
use tourdesk_domain::mutation::Mutation;
use tourdesk_domain::protocol::{BucketPage, EntityKind, PullResponse};
use tourdesk_domain::status::DepartureStatus;
use tourdesk_domain::{Departure, fixtures};
use tourdesk_local_store::StoreError;

const GUIDES: usize = 50;
const DEPARTURES: usize = 300;
const TOURS: usize = 10;
/// Departures start this many minutes apart: 300 of them fill six days of the week (140 h).
const STEP_MINUTES: i64 = 28;

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let store = manager_store(dir.path(), "u-manager");

    // The week starts tomorrow (mutations run with the real clock and refuse the past).
    let first = Utc::now().date_naive() + Days::new(1);
    let week_start = Utc.from_utc_datetime(&first.and_time(NaiveTime::from_hms_opt(6, 0, 0).unwrap()));
    let mut changes = Vec::new();
    let mut seq = 0;
    let mut put = |kind: EntityKind, row: &dyn erased::Row| {
        seq += 1;
        changes.push(record(kind, seq, &row.value()));
    };
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
        put(EntityKind::Tour, &tour);
        put(EntityKind::TourVariant, &variant);
    }
    let all_day: serde_json::Value =
        (0..7).map(|d| (d.to_string(), json!([{"start": "00:00", "end": "24:00"}]))).collect();
    for g in 0..GUIDES {
        let guide = Guide {
            id: format!("g-{g:02}"),
            organization_id: ORG.into(),
            user_id: Some(format!("u-guide-{g:02}")),
            first_name: format!("Guide{g:02}"),
            last_name: "Bench".into(),
            email: format!("guide{g}@example.com"),
            phone: "+15550000000".into(),
            languages: vec!["en".into()],
            timezone: "UTC".into(),
            weekly_availability: serde_json::from_value(all_day.clone()).unwrap(),
            status: GuideStatus::Active,
            qualified_tour_ids: (0..TOURS).map(|t| format!("t-{t}")).collect(),
            bio: None,
            photo_url: None,
            emergency_contact: None,
            time_off: Vec::new(),
        };
        put(EntityKind::Guide, &guide);
    }
    let mut ids = Vec::with_capacity(DEPARTURES);
    for i in 0..DEPARTURES {
        let t = i % TOURS;
        let starts = week_start + chrono::Duration::minutes(STEP_MINUTES * i as i64);
        let d = Departure {
            id: format!("v-{t}@{}", starts.naive_utc().format("%Y-%m-%dT%H:%M:%S")),
            organization_id: ORG.into(),
            tour_id: format!("t-{t}"),
            variant_id: format!("v-{t}"),
            local_date: starts.date_naive(),
            local_time: starts.time(),
            timezone: "UTC".into(),
            starts_at: starts,
            ends_at: starts + chrono::Duration::hours(2),
            capacity: 12,
            booked_count: (i % 13) as u32,
            status: DepartureStatus::Open,
            notes: String::new(),
        };
        put(EntityKind::Departure, &d);
        // Departure i is led by guide i % 50: their departures start 23 h 20 min apart.
        let a = GuideAssignment {
            id: format!("00000000-0000-4000-8000-{:012}", i),
            organization_id: ORG.into(),
            departure_id: d.id.clone(),
            guide_id: format!("g-{:02}", i % GUIDES),
            status: AssignmentStatus::Confirmed,
            assigned_at: Utc::now(),
            confirmed_at: None,
            notes: None,
            role: Default::default(),
            override_reason: None,
        };
        put(EntityKind::GuideAssignment, &a);
        ids.push(d.id);
    }
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

    let until = first + Days::new(6);
    let board = store.guide_board(first, until).unwrap();
    let assigned = board.departures.iter().filter(|d| !d.assignments.is_empty()).count();
    println!(
        "guide_board: {} guides × {} departures in the week {first}..{until} ({assigned} with a lead), {runs} runs per figure",
        board.guides.len(),
        board.departures.len()
    );
    assert_eq!((board.guides.len(), board.departures.len()), (GUIDES, DEPARTURES));

    let query = || {
        let b = store.guide_board(first, until).unwrap();
        std::hint::black_box(serde_json::to_string(&b).unwrap());
    };
    // Guide i+1 dropped on departure i as an assistant: they lead departure i+1, 28 minutes
    // later, so the domain reports the overlap and the assignment is refused.
    let mut n = 0usize;
    let mut check = || {
        let i = n % (DEPARTURES - 1);
        n += 1;
        let m = Mutation::decode(
            "assign_guide.v2",
            &json!({"id": "00000000-0000-4000-8000-999999999999", "departure_id": ids[i],
                    "guide_id": format!("g-{:02}", (i + 1) % GUIDES), "role": "assistant"}),
        )
        .unwrap();
        match store.mutate(&m) {
            Err(StoreError::Rejected(r)) => {
                std::hint::black_box(r.to_string());
            }
            other => panic!("expected the overlap to be refused, got {other:?}"),
        }
    };
    figure("week board query + JSON", runs, query);
    figure("conflict check (assign_guide.v2, refused for an overlap)", runs, &mut check);
    let p95 = figure("query + conflict check", runs, || {
        query();
        check();
    });
    let ms = p95.as_secs_f64() * 1e3;
    println!(
        "  query + conflict check p95 {ms:.2} ms (goal < 50 ms){}",
        if ms < 50.0 { "" } else { "  <-- MISSES THE GOAL" }
    );
    assert_eq!(store.pending_count().unwrap(), 0, "refused checks write nothing");
}

/// Rows of different types through one `put`.
mod erased {
    pub trait Row {
        fn value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Row for T {
        fn value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap()
        }
    }
}

//! A booking's detail page on the desk with a 200-entry timeline (issue 13, item 8): the booking
//! by its reference, its money (price snapshot and ledger) and its timeline (150 audit rows of
//! its own and its ledger entries, 50 messages), read the way `#/bookings/<reference>` reads
//! them and serialised as the IPC layer does, on a replica that also holds 5,000 other bookings
//! with 100,000 audit rows and 20,000 messages. Prints p50/p95/max; the goal is p95 < 30 ms.
//!
//! `cargo bench -p tourdesk-local-store --bench booking_timeline` (release). `BENCH_RUNS` sets the
//! timed runs (default 200).
#![allow(clippy::unwrap_used)]

mod support;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use support::{ORG, figure, manager_store, record};
use tourdesk_domain::audit::AuditRecord;
use tourdesk_domain::communication::Communication;
use tourdesk_domain::entities::Booking;
use tourdesk_domain::fixtures;
use tourdesk_domain::protocol::{BucketPage, ChangeRecord, EntityKind, PullResponse};
use tourdesk_domain::reference::ReferenceNumber;
use tourdesk_domain::status::{BookingStatus, PaymentStatus};

const OTHER_BOOKINGS: usize = 5_000;
const AUDIT_PER_OTHER: usize = 20;
const MESSAGES_PER_OTHER: usize = 4;
const OWN_AUDIT: usize = 150;
const OWN_MESSAGES: usize = 50;

fn booking(i: usize) -> Booking {
    Booking {
        id: format!("b-{i:06}"),
        reference_number: ReferenceNumber::generate(2026, i as u64 * 104_729 + 1).unwrap(),
        ..fixtures::booking("b", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000)
    }
}

fn audit(n: usize, booking_id: &str, at: DateTime<Utc>) -> AuditRecord {
    // Every other row is a ledger entry's, found through the booking id it carries.
    let (entity, entity_id, after) = if n.is_multiple_of(2) {
        (
            "booking",
            booking_id.to_string(),
            json!({"status": "confirmed", "paid_amount": {"amount": n, "currency": "USD"}}),
        )
    } else {
        (
            "ledger_entry",
            format!("e-{n}"),
            json!({"booking_id": booking_id, "kind": "cash", "amount": {"amount": n, "currency": "USD"}}),
        )
    };
    AuditRecord {
        id: n.to_string(),
        organization_id: ORG.into(),
        actor: "u-staff".into(),
        actor_user_id: Some("u-staff".into()),
        device_id: Some("front-desk".into()),
        action: "record_payment.v1".into(),
        entity: entity.into(),
        entity_id,
        before: Some(json!({"status": "pending", "paid_amount": {"amount": 0, "currency": "USD"}})),
        after: Some(after),
        created_at: at,
    }
}

fn message(n: usize, b: &Booking, at: DateTime<Utc>) -> Communication {
    Communication {
        id: format!("m-{n}"),
        organization_id: ORG.into(),
        customer_id: b.customer_id.clone(),
        booking_id: Some(b.id.clone()),
        channel: "email".into(),
        direction: "outbound".into(),
        kind: "booking_reminder".into(),
        subject: Some(format!("Reminder {n}")),
        status: "sent".into(),
        sent_at: Some(at + Duration::seconds(30)),
        delivered_at: None,
        failure_reason: None,
        created_at: at,
    }
}

fn page(bucket: &str, changes: Vec<ChangeRecord>) -> PullResponse {
    let cursor = changes.last().map_or(0, |c| c.seq);
    PullResponse {
        buckets: vec![BucketPage { bucket: bucket.into(), changes, cursor, head: cursor }],
        complete: true,
        last_mutation_id: 0,
        results: vec![],
        removed_buckets: vec![],
    }
}

fn main() {
    let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    let dir = tempfile::tempdir().unwrap();
    let store = manager_store(dir.path(), "u-manager");
    let start: DateTime<Utc> = "2026-03-01T08:00:00Z".parse().unwrap();
    let mut seq = 0u64;
    let mut next = || {
        seq += 1;
        seq
    };

    // The catalogue, the customer and every booking (ours is b-000000).
    let all = format!("org:{ORG}:all");
    let mut rows = vec![
        record(EntityKind::Tour, next(), &fixtures::tour()),
        record(EntityKind::Departure, next(), &fixtures::departure()),
        record(EntityKind::Customer, next(), &fixtures::customer()),
    ];
    let bookings: Vec<Booking> = (0..=OTHER_BOOKINGS).map(booking).collect();
    rows.extend(bookings.iter().map(|b| record(EntityKind::Booking, next(), b)));
    store.apply_pull(&page(&all, rows)).unwrap();

    // The audit log and the messages, in pages as a first sync brings them.
    let mut audit_rows = Vec::new();
    let mut messages = Vec::new();
    let mut n = 0;
    for (i, b) in bookings.iter().enumerate() {
        let (audits, sent) = if i == 0 { (OWN_AUDIT, OWN_MESSAGES) } else { (AUDIT_PER_OTHER, MESSAGES_PER_OTHER) };
        for k in 0..audits {
            n += 1;
            audit_rows.push(audit(n, &b.id, start + Duration::minutes((i * 1000 + k) as i64)));
        }
        for k in 0..sent {
            n += 1;
            messages.push(message(n, b, start + Duration::minutes((i * 1000 + audits + k) as i64)));
        }
    }
    for chunk in audit_rows.chunks(5_000) {
        let changes = chunk.iter().map(|r| record(EntityKind::AuditLog, next(), r)).collect();
        store.apply_pull(&page(&format!("org:{ORG}:audit"), changes)).unwrap();
    }
    for chunk in messages.chunks(5_000) {
        let changes = chunk.iter().map(|m| record(EntityKind::Communication, next(), m)).collect();
        store.apply_pull(&page(&all, changes)).unwrap();
    }
    println!(
        "booking detail: {} bookings, {} audit rows, {} messages on the replica",
        bookings.len(),
        audit_rows.len(),
        messages.len()
    );

    let reference = bookings[0].reference_number.to_string();
    let entries = store.booking_timeline(&bookings[0].id).unwrap().entries.len();
    assert_eq!(entries, OWN_AUDIT + OWN_MESSAGES, "the booking's timeline has every entry once");
    let p95 = figure("booking + money + 200-entry timeline, as JSON", runs, || {
        let hit = store.booking_by_reference(&reference).unwrap().unwrap();
        let money = store.booking_money(&hit.booking.id).unwrap().unwrap();
        let timeline = store.booking_timeline(&hit.booking.id).unwrap();
        std::hint::black_box(serde_json::to_string(&(hit, money, timeline)).unwrap());
    });
    figure("timeline alone", runs, || {
        std::hint::black_box(store.booking_timeline(&bookings[0].id).unwrap());
    });
    let ms = p95.as_secs_f64() * 1e3;
    println!("  booking detail p95 {ms:.2} ms (goal < 30 ms){}", if ms < 30.0 { "" } else { "  <-- MISSES THE GOAL" });
}

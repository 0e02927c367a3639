//! A booking's timeline on the desk: its audit rows (pulled from the audit bucket) and its
//! messages (pulled with the organization's rows, again on each change of delivery state),
//! merged newest first in the departure's zone.

use tourdesk_domain::audit::AuditRecord;
use tourdesk_domain::communication::Communication;
use tourdesk_domain::timeline::EntrySource;

use super::*;

const AUDIT: &str = "org:org-1:audit";

fn at(minutes: i64) -> DateTime<Utc> {
    "2026-05-01T08:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(minutes)
}

fn audit(id: &str, action: &str, entity: &str, entity_id: &str, before: Value, after: Value, t: i64) -> AuditRecord {
    AuditRecord {
        id: id.into(),
        organization_id: ORG.into(),
        actor: "u-staff".into(),
        actor_user_id: Some("u-staff".into()),
        device_id: Some("front-desk".into()),
        action: action.into(),
        entity: entity.into(),
        entity_id: entity_id.into(),
        before: Some(before).filter(|b| !b.is_null()),
        after: Some(after),
        created_at: at(t),
    }
}

fn confirmation(status: &str) -> Communication {
    Communication {
        id: "msg-1".into(),
        organization_id: ORG.into(),
        customer_id: ANA.into(),
        booking_id: Some(B1.into()),
        channel: "email".into(),
        direction: "outbound".into(),
        kind: "booking_confirmation".into(),
        subject: Some("Booking confirmed".into()),
        status: status.into(),
        sent_at: (status == "sent").then(|| at(11)),
        delivered_at: None,
        failure_reason: None,
        created_at: at(10),
    }
}

/// B1 paid in cash at minute 10 (its booking row and its ledger entry, one decision), the
/// confirmation queued with it, and the booking cancelled at minute 60; B2's payment is not B1's.
fn b1_with_history(s: &Store, message_status: &str) {
    let usd_json = |n: i64| json!({"amount": n, "currency": "USD"});
    let rows = [
        audit(
            "7",
            "record_payment.v1",
            "booking",
            B1,
            json!({"status": "pending", "paid_amount": usd_json(0)}),
            json!({"status": "confirmed", "paid_amount": usd_json(10000)}),
            10,
        ),
        audit(
            "8",
            "record_payment.v1",
            "ledger_entry",
            "e-1",
            Value::Null,
            json!({"booking_id": B1, "kind": "cash", "amount": usd_json(10000)}),
            10,
        ),
        audit(
            "9",
            "cancel_booking.v1",
            "booking",
            B1,
            json!({"status": "confirmed"}),
            json!({"status": "cancelled"}),
            60,
        ),
        audit(
            "10",
            "record_payment.v1",
            "ledger_entry",
            "e-2",
            Value::Null,
            json!({"booking_id": B2, "kind": "cash", "amount": usd_json(500)}),
            70,
        ),
    ];
    s.apply_pull(&pull(
        vec![
            bucket(
                ALL,
                20,
                vec![
                    put(EntityKind::Booking, &booking(B1, D1, ANA, 2, 1)),
                    put(EntityKind::Communication, &confirmation(message_status)),
                ],
            ),
            bucket(AUDIT, 30, rows.iter().map(|r| put(EntityKind::AuditLog, r)).collect()),
        ],
        0,
        vec![],
    ))
    .unwrap();
}

#[test]
fn a_booking_with_a_payment_a_cancellation_and_a_sent_confirmation_shows_all_three_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    s.save_device_auth("front-desk", "refresh").unwrap();
    seed(&s, 4);
    b1_with_history(&s, "pending");
    let named = s.booking_timeline(B1).unwrap();
    // Offline, these are all the "who" line has: the changes read "Olivia · This desk".
    assert_eq!(named.people.get("u-staff").map(String::as_str), Some("Olivia"), "{:?}", named.people);
    assert_eq!(named.this_device.as_deref(), Some("front-desk"));
    let t = named.entries;
    let titles: Vec<&str> = t.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(titles, ["Booking cancelled", "Booking confirmation by e-mail", "Payment recorded"], "{t:#?}");
    assert_eq!(t[1].status.as_deref(), Some("Waiting to be sent"));
    assert_eq!(
        t[2].details,
        ["Paid amount: $0.00 → $100.00", "Status: Pending → Confirmed", "Amount: $100.00", "Kind: Cash"]
    );
    assert_eq!((t[0].source, t[1].source), (EntrySource::Change, EntrySource::Message));
    assert_eq!(t[0].when, "Fri 1 May 2026, 09:00 UTC", "in the departure's zone");

    // The outbox sent it: the changed row arrives again and the timeline says so.
    s.apply_pull(&pull(vec![bucket(ALL, 40, vec![put(EntityKind::Communication, &confirmation("sent"))])], 0, vec![]))
        .unwrap();
    let t = s.booking_timeline(B1).unwrap().entries;
    assert_eq!(t.len(), 3);
    assert_eq!(t[1].status.as_deref(), Some("Sent"));
    assert_eq!(t[1].details, ["Booking confirmed", "Sent Fri 1 May 2026, 08:11 UTC"]);

    // The customer's page lists the same message; another booking's page shows none of it.
    let of_ana = s.communications_of_customer(ANA).unwrap();
    assert_eq!((of_ana.len(), of_ana[0].status.as_str()), (1, "sent"));
    assert!(s.communications_of_customer(BO).unwrap().is_empty());
    let b2 = s.booking_timeline(B2).unwrap().entries;
    assert_eq!(b2.iter().map(|e| e.title.as_str()).collect::<Vec<_>>(), ["Payment recorded"]);
}

#[test]
fn the_timelines_reads_use_their_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    let conn = s.conn();
    let plan = |sql: &str| -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map(params![ORG, B1], |r| r.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    };
    let audit = plan(
        "SELECT id FROM audit_log WHERE organization_id = ?1 AND entity = 'booking' AND entity_id = ?2
         UNION SELECT id FROM audit_log WHERE organization_id = ?1 AND json_extract(after, '$.booking_id') = ?2",
    );
    assert!(audit.contains("audit_log_entity_idx") && audit.contains("audit_log_booking_idx"), "{audit}");
    let messages =
        plan("SELECT id FROM communications WHERE organization_id = ?1 AND booking_id = ?2 ORDER BY created_at DESC");
    assert!(messages.contains("communications_booking_idx"), "{messages}");
    let name = plan(
        "SELECT actor FROM audit_log WHERE organization_id = ?1 AND actor_user_id = ?2 ORDER BY created_at DESC LIMIT 1",
    );
    assert!(name.contains("audit_log_actor_user_idx"), "{name}");
}

#[test]
fn a_person_named_in_a_change_is_shown_by_the_name_they_last_wrote_under_not_their_id() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Owner);
    seed(&s, 4);
    b1_with_history(&s, "pending");
    let mut refund = audit(
        "11",
        "record_refund.v1",
        "refund",
        "r-1",
        Value::Null,
        json!({"booking_id": B1, "requested_by": "u-boss", "approved_by": "u-stranger"}),
        80,
    );
    refund.actor = "Front Desk".into();
    // The boss wrote on another booking only, under an old and then a new name.
    let mut old_name = audit("12", "cancel_booking.v1", "booking", B2, json!({}), json!({"status": "cancelled"}), 20);
    old_name.actor = "Bea B.".into();
    old_name.actor_user_id = Some("u-boss".into());
    let mut new_name = old_name.clone();
    (new_name.id, new_name.actor, new_name.created_at) = ("13".into(), "Bea Boss".into(), at(90));
    s.apply_pull(&pull(
        vec![bucket(AUDIT, 50, [refund, old_name, new_name].iter().map(|r| put(EntityKind::AuditLog, r)).collect())],
        0,
        vec![],
    ))
    .unwrap();
    let t = s.booking_timeline(B1).unwrap().entries;
    let details: Vec<&str> = t.iter().flat_map(|e| e.details.iter().map(String::as_str)).collect();
    assert!(details.iter().any(|d| d.contains("Bea Boss")), "{details:?}");
    assert!(
        !details.iter().any(|d| d.contains("u-boss") || d.contains("Bea B.") || d.contains("u-stranger")),
        "{details:?}"
    );
}

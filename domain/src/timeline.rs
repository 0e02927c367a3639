//! A booking's timeline (issue 13): everything that happened to it, newest first, merged from
//! the audit log (who did what, from which device, on the desk, the website, at Stripe or in a
//! job) and the communications log (which message went out, how, and whether it arrived). Times
//! are shown in the departure's zone. Pure: the desk's store finds the rows, this orders and
//! words them, the UI shows them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::audit::{AuditRecord, FieldChange, NOTHING, Reading, action_words, diff_read};
use crate::communication::{Communication, status_words};

/// The most field changes one entry lists; the audit screen has the rest.
/// One change can write several rows (the booking, a refund, the decision's own record), read
/// as one entry, so a few more than one row's worth.
pub const DETAILS_MAX: usize = 12;

/// Where an entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntrySource {
    /// One decision of the audit log (the rows one mutation wrote, as one entry).
    Change,
    /// One message of the communications log.
    Message,
}

/// One line of a booking's timeline, ready to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// `at` in the departure's zone, in words (`Fri 1 May 2026, 10:00 CEST`).
    pub when: String,
    pub source: EntrySource,
    /// `Payment recorded`, `Booking cancelled`, `Booking confirmation by e-mail`.
    pub title: String,
    /// The actor as the audit log names it (a staff user's id, `website`, `stripe`,
    /// `system:…`); the desk puts a name to it. `None` for a message.
    pub actor: Option<String>,
    /// The device a change was pushed from; `None` for the website, Stripe, jobs and messages.
    pub device_id: Option<String>,
    /// What changed, in words (`Paid amount: €0.00 → €90.00`), or a message's subject.
    pub details: Vec<String>,
    /// A message's delivery state in words (`Sent`, `Not sent`).
    pub status: Option<String>,
    /// A message that did not go out (failed or bounced), shown as a problem.
    pub problem: bool,
}

/// A booking's timeline with the names this desk knows for the people it names and this desk's
/// own device id, as [`crate::audit::NamedAudit`] carries them for a history table: offline the
/// server's staff and device lists cannot be asked, and these are all the "who" line can use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedTimeline {
    /// Newest first.
    pub entries: Vec<TimelineEntry>,
    /// Names by id: staff (the signed-in person, guides with a login, whoever wrote the
    /// booking's audit rows) and the booking's customer.
    pub people: BTreeMap<String, String>,
    /// The id the server registered for this desk: its own changes read "This desk".
    pub this_device: Option<String>,
}

/// Fields a person never needs in a timeline: ids of what the booking already shows, bookkeeping.
const QUIET: [&str; 15] = [
    "booking_id",
    "customer_id",
    "tour_id",
    "departure_id",
    "variant_id",
    "nonce",
    "hlc",
    "version",
    "created_at",
    "recorded_at",
    "recorded_by",
    "reference_number",
    "field_clocks",
    "requested_at",
    // A decision's amounts are shown as money in it already.
    "currency",
];

/// What an action is called on a timeline; anything not named here in the audit screen's words.
fn title_of(action: &str) -> String {
    named_title(action).unwrap_or_else(|| action_words(action))
}

/// The timeline's own names for actions (version left off).
const TITLES: [(&str, &str); 14] = [
    ("create_booking", "Booking made"),
    ("record_payment", "Payment recorded"),
    ("cancel_booking", "Booking cancelled"),
    ("booking.confirmed", "Booking confirmed"),
    ("booking.overbooked", "Sold past capacity"),
    ("move_booking", "Moved to another departure"),
    ("update_booking", "Booking changed"),
    ("modify_booking", "Booking changed"),
    ("check_in", "Checked in"),
    ("redeem_gift_card", "Gift card redeemed"),
    ("resend_confirmation", "Confirmation sent again"),
    ("send_customer_message", "Message written to the customer"),
    ("record_refund", "Refund given back"),
    ("cancel_departure", "Departure cancelled"),
];

/// The timeline's own name for an action, if it has one: what a change that wrote several
/// rows is called (the mutation's name beats a decision's record such as `booking.modified`).
fn named_title(action: &str) -> Option<String> {
    let base = action.rsplit_once(".v").filter(|(_, v)| v.chars().all(|c| c.is_ascii_digit())).map_or(action, |p| p.0);
    TITLES.iter().find(|(a, _)| *a == base).map(|(_, t)| (*t).to_string())
}

/// The mutation an audit row was written by (`modify_booking`), or `None` for a decision's own
/// record (`booking.modified`, `booking.overbooked`).
fn mutation_of(action: &str) -> Option<&str> {
    let base = action.rsplit_once(".v").filter(|(_, v)| v.chars().all(|c| c.is_ascii_digit())).map_or(action, |p| p.0);
    (!base.contains('.')).then_some(base)
}

/// One change in words: `Field: before → after`, or `Field: value` for a new value.
fn change_words(c: &FieldChange) -> String {
    if c.before == NOTHING {
        format!("{}: {}", c.field, c.after)
    } else {
        format!("{}: {} → {}", c.field, c.before, c.after)
    }
}

fn quiet(field: &str) -> bool {
    QUIET.iter().any(|q| crate::audit::humanise(q) == field)
}

/// The details of one audit row: its changed fields in words, bookkeeping left out. A new row
/// lists what it was made with, not the counters and sums that start at zero or empty.
fn audit_details(r: &AuditRecord, reading: Reading<'_>) -> Vec<String> {
    let after = match (&r.before, &r.after) {
        (None, Some(a)) => Some(without_blanks(a)),
        (_, a) => a.clone(),
    };
    diff_read(r.before.as_ref(), after.as_ref(), reading)
        .iter()
        .filter(|c| !quiet(c.field.split(" › ").next().unwrap_or_default()))
        .map(change_words)
        .collect()
}

/// An object without its zero, empty and missing fields (nested objects alike; a money value
/// of zero counts as zero).
fn without_blanks(v: &Value) -> Value {
    let blank = |v: &Value| match v {
        Value::Null => true,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => {
            m.is_empty()
                || (m.len() == 2 && m.contains_key("currency") && m.get("amount").and_then(Value::as_i64) == Some(0))
        }
        Value::Bool(_) => false,
    };
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !blank(v))
                .map(|(k, v)| (k.clone(), without_blanks(v)))
                .filter(|(_, v)| !blank(v))
                .collect(),
        ),
        v => v.clone(),
    }
}

/// A time in the zone, in words; UTC when the zone is unknown.
pub fn when(at: DateTime<Utc>, zone: Option<Tz>) -> String {
    match zone {
        Some(tz) => at.with_timezone(&tz).format("%a %-d %b %Y, %H:%M %Z").to_string(),
        None => at.format("%a %-d %b %Y, %H:%M UTC").to_string(),
    }
}

/// The timeline of one booking from its audit rows (the booking's own and those of rows hanging
/// off it: ledger entries, refunds, check-ins) and its messages, newest first. The rows one
/// change wrote (same actor, device and moment: the mutation's rows and its decision's record)
/// are one entry, called by the mutation's name. At the same moment a message comes after the
/// change that sent it, so it is listed above it. `people` names staff and customers by id: a
/// person field shows the name, or is left out.
pub fn booking_timeline(
    audit: &[AuditRecord],
    messages: &[Communication],
    zone: Option<Tz>,
    people: &BTreeMap<String, String>,
) -> Vec<TimelineEntry> {
    let reading = Reading { zone, people: Some(people) };
    let mut audit: Vec<&AuditRecord> = audit.iter().collect();
    audit.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| seq(&a.id).cmp(&seq(&b.id))));
    let mut out: Vec<TimelineEntry> = Vec::with_capacity(audit.len() + messages.len());
    // The mutation each entry is of; `None` while it holds only a decision's records.
    let mut owners: Vec<Option<&str>> = Vec::with_capacity(audit.len());
    for r in audit {
        let mutation = mutation_of(&r.action);
        // One push runs its mutations in one transaction, so one moment can hold several
        // mutations: rows join an entry of the same mutation, and a decision's record joins the
        // mutation beside it.
        let same = out.last_mut().zip(owners.last_mut()).filter(|(e, owner)| {
            e.source == EntrySource::Change
                && e.at == r.created_at
                && e.actor.as_deref() == Some(r.actor.as_str())
                && e.device_id == r.device_id
                && (mutation.is_none() || owner.is_none() || **owner == mutation)
        });
        let details = audit_details(r, reading);
        match same {
            Some((e, owner)) => {
                if owner.is_none() && mutation.is_some() {
                    *owner = mutation;
                    e.title = title_of(&r.action);
                }
                for d in details {
                    if !e.details.contains(&d) {
                        e.details.push(d);
                    }
                }
            }
            None => {
                owners.push(mutation);
                out.push(TimelineEntry {
                    at: r.created_at,
                    when: when(r.created_at, zone),
                    source: EntrySource::Change,
                    title: title_of(&r.action),
                    actor: Some(r.actor.clone()),
                    device_id: r.device_id.clone(),
                    details,
                    status: None,
                    problem: false,
                })
            }
        }
    }
    for e in &mut out {
        e.details.truncate(DETAILS_MAX);
    }
    out.extend(messages.iter().map(|m| {
        let mut details: Vec<String> = m.subject.iter().filter(|s| !s.trim().is_empty()).cloned().collect();
        if let Some(t) = m.delivered_at.or(m.sent_at) {
            let what = if m.delivered_at.is_some() { "Delivered" } else { "Sent" };
            details.push(format!("{what} {}", when(t, zone)));
        }
        if let Some(reason) = m.failure_reason.as_deref().filter(|r| !r.trim().is_empty()) {
            details.push(format!("Why: {reason}"));
        }
        TimelineEntry {
            at: m.created_at,
            when: when(m.created_at, zone),
            source: EntrySource::Message,
            title: m.title(),
            actor: None,
            device_id: None,
            details,
            status: Some(status_words(&m.status)),
            problem: matches!(m.status.as_str(), "failed" | "bounced"),
        }
    }));
    // Newest first; at one moment a message above its change; then by title for a stable order.
    out.sort_by(|a, b| {
        b.at.cmp(&a.at).then_with(|| rank(b.source).cmp(&rank(a.source))).then_with(|| a.title.cmp(&b.title))
    });
    out
}

fn rank(s: EntrySource) -> u8 {
    match s {
        EntrySource::Change => 0,
        EntrySource::Message => 1,
    }
}

/// An audit id is the server's sequence number as text: ordered as a number.
fn seq(id: &str) -> (usize, &str) {
    (id.len(), id)
}

/// Whether an audit row belongs on a booking's timeline: the booking's own, or one of a row
/// that names the booking (a ledger entry, a refund, a check-in).
pub fn concerns_booking(r: &AuditRecord, booking_id: &str) -> bool {
    let names =
        |v: &Option<Value>| v.as_ref().and_then(|v| v.get("booking_id")).and_then(Value::as_str) == Some(booking_id);
    (r.entity == "booking" && r.entity_id == booking_id) || names(&r.after) || names(&r.before)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communication::tests::message;
    use chrono::TimeZone;
    use serde_json::json;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 1, h, m, 0).unwrap()
    }

    fn audit(
        id: &str,
        action: &str,
        entity: &str,
        before: Option<Value>,
        after: Value,
        t: DateTime<Utc>,
    ) -> AuditRecord {
        let entity_id = if entity == "booking" { "b1".into() } else { format!("{entity}-{id}") };
        crate::fixtures::audit_record(id, action, entity, &entity_id, before, after, t)
    }

    fn eur(n: i64) -> Value {
        json!({"amount": n, "currency": "EUR"})
    }

    #[test]
    fn changes_and_messages_merge_newest_first_in_the_departures_zone() {
        let made = audit(
            "1",
            "create_booking.v1",
            "booking",
            None,
            json!({"status": "pending", "booking_id": "b1"}),
            at(8, 0),
        );
        let paid_booking = audit(
            "2",
            "record_payment.v1",
            "booking",
            Some(json!({"status": "pending", "paid_amount": eur(0)})),
            json!({"status": "confirmed", "paid_amount": eur(9000)}),
            at(9, 0),
        );
        let paid_entry = audit(
            "3",
            "record_payment.v1",
            "ledger_entry",
            None,
            json!({"booking_id": "b1", "kind": "cash", "amount": eur(9000), "recorded_by": "u-1"}),
            at(9, 0),
        );
        let cancelled = audit(
            "4",
            "cancel_booking.v1",
            "booking",
            Some(json!({"status": "confirmed"})),
            json!({"status": "cancelled"}),
            at(11, 0),
        );
        let mut confirmation = message("booking_confirmation", "sent");
        confirmation.created_at = at(9, 0);
        confirmation.sent_at = Some(at(9, 1));
        let tz: Tz = "Europe/Lisbon".parse().unwrap();
        let t =
            booking_timeline(&[cancelled, paid_entry, made, paid_booking], &[confirmation], Some(tz), &BTreeMap::new());
        let titles: Vec<&str> = t.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(
            titles,
            ["Booking cancelled", "Booking confirmation by e-mail", "Payment recorded", "Booking made"],
            "newest first, the message above the payment that sent it"
        );
        // One decision is one entry, its rows' changes in words, bookkeeping left out.
        let paid = &t[2];
        assert_eq!(
            paid.details,
            ["Paid amount: €0.00 → €90.00", "Status: Pending → Confirmed", "Amount: €90.00", "Kind: Cash"]
        );
        assert_eq!((paid.actor.as_deref(), paid.device_id.as_deref()), (Some("u-1"), Some("desk-1")));
        // Lisbon is UTC+1 in May.
        assert_eq!(t[0].when, "Fri 1 May 2026, 12:00 WEST");
        let m = &t[1];
        assert_eq!(m.status.as_deref(), Some("Sent"));
        assert_eq!(m.details, ["Booking confirmed", "Sent Fri 1 May 2026, 10:01 WEST"]);
        assert!(!m.problem && m.actor.is_none());
    }

    #[test]
    fn a_message_that_did_not_go_says_why_and_is_a_problem() {
        let mut m = message("booking_reminder", "failed");
        m.failure_reason = Some("the customer has no e-mail address (a walk-in)".into());
        let t = booking_timeline(&[], &[m], None, &BTreeMap::new());
        assert!(t[0].problem);
        assert_eq!(t[0].status.as_deref(), Some("Not sent"));
        assert_eq!(t[0].when, "Fri 1 May 2026, 08:00 UTC");
        assert_eq!(t[0].details.last().unwrap(), "Why: the customer has no e-mail address (a walk-in)");
    }

    #[test]
    fn rows_hanging_off_the_booking_belong_to_it_and_others_do_not() {
        let own = audit("1", "update_booking.v1", "booking", None, json!({}), at(8, 0));
        let entry = audit("2", "record_payment.v1", "ledger_entry", None, json!({"booking_id": "b1"}), at(8, 0));
        let other = audit("3", "record_payment.v1", "ledger_entry", None, json!({"booking_id": "b2"}), at(8, 0));
        assert!(concerns_booking(&own, "b1") && concerns_booking(&entry, "b1"));
        assert!(!concerns_booking(&other, "b1") && !concerns_booking(&own, "b2"));
    }

    #[test]
    fn many_changed_fields_are_cut_to_a_readable_few_and_ids_order_as_numbers() {
        let after: serde_json::Map<String, Value> = (0..20).map(|i| (format!("field_{i:02}"), json!(i))).collect();
        let r = audit("10", "update_booking.v1", "booking", None, Value::Object(after), at(8, 0));
        let t = booking_timeline(&[r], &[], None, &BTreeMap::new());
        assert_eq!(t[0].details.len(), DETAILS_MAX);
        assert!(seq("9") < seq("10"));
    }

    fn jpy(n: i64) -> Value {
        json!({"amount": n, "currency": "JPY"})
    }

    /// One price change (a guest less, a refund to the card) as the audit log holds it: the
    /// booking's row, the refund's row and the decision's own record, at one moment from one
    /// desk. Read as one entry, money as money, the person by name, times in the zone.
    #[test]
    fn one_change_is_one_entry_with_money_names_and_the_departures_time() {
        let booking = audit(
            "5",
            "modify_booking.v1",
            "booking",
            Some(json!({"status": "confirmed", "pricing": {"total": jpy(24_000)}, "refunded_amount": jpy(0)})),
            json!({"status": "modified", "pricing": {"total": jpy(12_000)}, "refunded_amount": jpy(12_000)}),
            at(17, 24),
        );
        let refund = audit(
            "6",
            "modify_booking.v1",
            "refund",
            None,
            json!({"booking_id": "b1", "amount": jpy(12_000), "reason": "One guest cannot come",
                   "requested_by": "0747-u1", "approved_by": "someone-unknown", "confirmed_at": "2026-05-01T17:23:00Z"}),
            at(17, 24),
        );
        // The decision's record first: the entry still carries the mutation's name.
        let decision = audit(
            "4",
            "booking.modified",
            "booking",
            None,
            json!({"currency": "JPY", "old_total": 24_000, "new_total": 12_000, "difference": -12_000, "balance_due": 0,
                   "refund_due": 12_000}),
            at(17, 24),
        );
        let people = BTreeMap::from([("0747-u1".to_string(), "Olivia Owner".to_string())]);
        let tz: Tz = "Asia/Tokyo".parse().unwrap();
        let t = booking_timeline(&[decision, refund, booking], &[], Some(tz), &people);
        assert_eq!(t.len(), 1, "{t:#?}");
        assert_eq!(t[0].title, "Booking changed");
        let details = t[0].details.join("\n");
        for want in [
            "Pricing › Total: ¥24,000 → ¥12,000",
            "Amount: ¥12,000",
            "Requested by: Olivia Owner",
            "Confirmed at: 02 May 2026, 02:23 JST",
            "Difference: -¥12,000",
            "New total: ¥12,000",
        ] {
            assert!(details.contains(want), "{want} in\n{details}");
        }
        assert!(!details.contains("0747") && !details.contains("someone-unknown"), "{details}");
        assert!(!details.contains("Currency"), "{details}");
    }

    /// One push runs its mutations in one transaction: a booking made and paid offline reaches
    /// the log at one moment, from one desk, and is still two things that happened.
    #[test]
    fn two_mutations_at_one_moment_stay_two_entries_and_a_decision_joins_its_own() {
        let made = audit("1", "create_booking.v1", "booking", None, json!({"status": "pending"}), at(9, 0));
        let overbooked = audit("2", "booking.overbooked", "booking", None, json!({"by": 1}), at(9, 0));
        let paid = audit(
            "3",
            "record_payment.v1",
            "booking",
            Some(json!({"paid_amount": eur(0)})),
            json!({"paid_amount": eur(500)}),
            at(9, 0),
        );
        let t = booking_timeline(&[made, overbooked, paid], &[], None, &BTreeMap::new());
        let titles: Vec<&str> = t.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(titles, ["Booking made", "Payment recorded"], "{t:#?}");
        assert_eq!(t[0].details, ["Status: Pending", "By: 1"]);
    }

    #[test]
    fn a_new_booking_leaves_out_counters_and_sums_that_start_at_zero() {
        let made = audit(
            "1",
            "create_booking.v1",
            "booking",
            None,
            json!({"status": "pending", "checked_in": 0, "no_shows": 0, "paid_amount": jpy(0), "refunded_amount": jpy(0),
                   "payment_status": "unpaid", "special_requests": "",
                   "pricing": {"discounts": [], "taxes": [], "total": jpy(24_000)}}),
            at(8, 0),
        );
        let t = booking_timeline(&[made], &[], None, &BTreeMap::new());
        assert_eq!(t[0].details, ["Payment status: Unpaid", "Pricing: Total: ¥24,000", "Status: Pending"]);
    }
}

//! The audit log as people read it: one row of the server's append-only `audit_logs`
//! ([`AuditRecord`], replicated to owners' and admins' desks) and its before/after shown as a
//! field-by-field difference in words ([`diff`]): field names humanised, money formatted,
//! missing values as "—". Pure, so the desk's screen and its tests share it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::money::{Currency, Money};
use crate::validate::FieldError;

/// One audit row as replicated: who (`actor`, a staff user's id or `website`, `stripe`,
/// `system:…`), from which device, did what (`action`, the mutation's name or a decision such
/// as `booking.overbooked`) to which entity, with the row before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The server's sequence number, as text (ids are text everywhere on the wire).
    pub id: String,
    pub organization_id: String,
    pub actor: String,
    /// Set when the actor is a staff member of the organization.
    pub actor_user_id: Option<String>,
    /// The device the change was pushed from; `None` for the website, Stripe and jobs.
    pub device_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub created_at: DateTime<Utc>,
}

/// What the audit screen asks for: every filter optional, dates inclusive (UTC days).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    pub device_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// At most this many entries, newest first ([`AuditFilter::MAX_LIMIT`] when unset).
    pub limit: Option<u32>,
}

impl AuditFilter {
    pub const MAX_LIMIT: u32 = 500;

    /// The limit to apply: the asked one, within 1..=[`Self::MAX_LIMIT`].
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(Self::MAX_LIMIT).clamp(1, Self::MAX_LIMIT)
    }

    /// A range that ends before it starts is an error at `to`; empty texts mean "any".
    pub fn checked(mut self) -> Result<AuditFilter, FieldError> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && to < from
        {
            return Err(FieldError::new("to", "the end date is before the start date"));
        }
        for f in [&mut self.entity, &mut self.entity_id, &mut self.actor, &mut self.device_id, &mut self.action] {
            if f.as_deref().is_some_and(|s| s.trim().is_empty()) {
                *f = None;
            }
        }
        Ok(self)
    }

    /// The bounds as RFC 3339 text prefixes: `created_at >= from` and `created_at < to`
    /// (the day after `to`), so a whole day is in.
    pub fn bounds(&self) -> (Option<String>, Option<String>) {
        (self.from.map(|d| d.to_string()), self.to.and_then(|d| d.succ_opt()).map(|d| d.to_string()))
    }
}

/// The values the screen's filters offer, from what the log holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFacets {
    pub entities: Vec<String>,
    pub actors: Vec<String>,
    pub devices: Vec<String>,
    pub actions: Vec<String>,
}

/// Audit entries with the names this desk knows for the people and the device they name, so a
/// history reads names offline too (the server's staff and device lists need a connection).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedAudit {
    /// Newest first, as [`AuditFilter`] asked.
    pub entries: Vec<AuditRecord>,
    /// Staff by user id, for those the desk can name (see [`person_ids`]); whoever is missing is
    /// not known here.
    pub people: BTreeMap<String, String>,
    /// The id the server registered for this desk: its own changes read "This desk".
    pub this_device: Option<String>,
}

/// One field that differs between before and after, ready to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Humanised path: `Paid amount`, `Pricing › Total`.
    pub field: String,
    pub before: String,
    pub after: String,
}

/// What stands for a missing value.
pub const NOTHING: &str = "—";

/// Fields every row has and no person needs in a history: the row's id (the entry names its
/// entity), the tenant, and the row's own timestamp (the entry has its time).
const SKIPPED: [&str; 3] = ["id", "organization_id", "updated_at"];

/// How values are read for one screen: the zone times are shown in (UTC when unknown) and,
/// when given, the names the desk knows for people's ids.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reading<'a> {
    pub zone: Option<Tz>,
    /// Staff and customers by id. With names, a person field (`requested_by`) shows the name,
    /// or is left out when the desk does not know it: a person never reads a raw id.
    pub people: Option<&'a BTreeMap<String, String>>,
}

/// The fields that differ between `before` and `after`, by field name (JSON objects keep no
/// order). Nested objects are compared field by field (`Pricing › Total`);
/// money (`{amount, currency}`) and lists are compared whole. A side that is not an object
/// (a deleted row, a new one) counts as having no fields. Times in UTC, ids as they are.
pub fn diff(before: Option<&Value>, after: Option<&Value>) -> Vec<FieldChange> {
    diff_read(before, after, Reading::default())
}

/// As [`diff`], read the way `reading` says (times in a zone, people by name).
pub fn diff_read(before: Option<&Value>, after: Option<&Value>, reading: Reading<'_>) -> Vec<FieldChange> {
    let empty = Map::new();
    let obj = |v: Option<&Value>| match v {
        Some(Value::Object(m)) => m.clone(),
        _ => empty.clone(),
    };
    let mut out = Vec::new();
    diff_objects("", &obj(before), &obj(after), reading, &mut out);
    out
}

fn diff_objects(
    prefix: &str,
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    reading: Reading<'_>,
    out: &mut Vec<FieldChange>,
) {
    let mut keys: Vec<&String> = after.keys().chain(before.keys().filter(|k| !after.contains_key(*k))).collect();
    keys.sort();
    let cur = |m: &Map<String, Value>| m.get("currency").and_then(Value::as_str).and_then(|c| Currency::parse(c).ok());
    let (cur_before, cur_after) = (cur(before).or(cur(after)), cur(after).or(cur(before)));
    for key in keys {
        if prefix.is_empty() && SKIPPED.contains(&key.as_str()) {
            continue;
        }
        let (b, a) = (before.get(key).unwrap_or(&Value::Null), after.get(key).unwrap_or(&Value::Null));
        if b == a {
            continue;
        }
        let label = if prefix.is_empty() { humanise(key) } else { format!("{prefix} › {}", humanise(key)) };
        match (b, a) {
            (Value::Object(bm), Value::Object(am)) if money(b).is_none() && money(a).is_none() => {
                diff_objects(&label, bm, am, reading, out)
            }
            _ => {
                let (Some(before), Some(after)) =
                    (read_field(key, b, cur_before, reading), read_field(key, a, cur_after, reading))
                else {
                    continue;
                };
                // Nothing and an empty text (or list) read the same: no change to a person.
                if before != after {
                    out.push(FieldChange { field: label, before, after });
                }
            }
        }
    }
}

/// Amounts a record keeps as bare minor units next to a `currency` (a decision's detail:
/// `new_total`, `difference`, `balance_due`), shown as money in that currency.
fn money_key(key: &str) -> bool {
    ["total", "amount", "_due", "difference"].iter().any(|s| key.ends_with(s)) || key.starts_with("refund_")
}

/// The ids of the people `records` name: who wrote each row, and every person field (see
/// [`person_key`]) in what they changed, at any depth. A reader looks up only these names.
pub fn person_ids(records: &[AuditRecord]) -> BTreeSet<String> {
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match v {
                        Value::String(s) if person_key(k) && !s.is_empty() => {
                            out.insert(s.clone());
                        }
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    for r in records {
        out.extend(r.actor_user_id.iter().cloned());
        for v in r.before.iter().chain(r.after.iter()) {
            walk(v, &mut out);
        }
    }
    out
}

/// Fields that hold a person's id (staff or customer).
fn person_key(key: &str) -> bool {
    key.ends_with("_by") || key == "actor_id"
}

/// A field's value in words for `reading`, `None` when it is to be left out (a person the desk
/// cannot name).
fn read_field(key: &str, v: &Value, currency: Option<Currency>, reading: Reading<'_>) -> Option<String> {
    match v {
        Value::Number(n) if money_key(key) => {
            if let (Some(n), Some(c)) = (n.as_i64(), currency) {
                return Some(Money::new(n, c).display_with_symbol());
            }
        }
        Value::String(s) if person_key(key) => {
            if let Some(people) = reading.people {
                return people.get(s).cloned();
            }
        }
        Value::String(s) if !s.is_empty() => {
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Some(time_words(t.with_timezone(&Utc), reading.zone));
            }
        }
        Value::Object(m) if money(v).is_none() => {
            let cur = m.get("currency").and_then(Value::as_str).and_then(|c| Currency::parse(c).ok()).or(currency);
            return Some(
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .filter_map(|(k, v)| Some(format!("{}: {}", humanise(k), read_field(k, v, cur, reading)?)))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        _ => {}
    }
    Some(render_field(key, v))
}

/// A moment in words in a zone (`05 Dec 2026, 02:23 JST`); UTC when the zone is unknown.
pub fn time_words(at: DateTime<Utc>, zone: Option<Tz>) -> String {
    match zone {
        Some(tz) => at.with_timezone(&tz).format("%d %b %Y, %H:%M %Z").to_string(),
        None => at.format("%d %b %Y, %H:%M UTC").to_string(),
    }
}

/// A field name in words: `paid_amount` → `Paid amount`, `tour_id` → `Tour`,
/// `reference_number` → `Reference number`.
pub fn humanise(key: &str) -> String {
    let key = key.strip_suffix("_id").filter(|k| !k.is_empty()).unwrap_or(key);
    let words = key.replace('_', " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => NOTHING.to_string(),
    }
}

fn money(v: &Value) -> Option<Money> {
    match v {
        Value::Object(m) if m.len() == 2 && m.contains_key("amount") && m.contains_key("currency") => {
            serde_json::from_value(v.clone()).ok()
        }
        _ => None,
    }
}

/// Fields whose values are codes (`checked_in`, `confirmed`, `walk_in`), shown in words.
const CODED: [&str; 7] = ["status", "source", "kind", "role", "reason", "type", "category"];

/// A field's value in words: as [`render`], and a code of a coded field (a status, a source)
/// humanised; free text (names, notes, e-mails) stays as typed.
pub fn render_field(key: &str, v: &Value) -> String {
    match v {
        Value::String(s) if CODED.iter().any(|c| key.ends_with(c)) => words(s),
        _ => render(v),
    }
}

/// A code-like word (`checked_in`, `confirmed`) in words; anything else as it is.
fn words(s: &str) -> String {
    let code = !s.is_empty()
        && s.split('_').all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
        && s.len() <= 40;
    if code { humanise(s) } else { s.to_string() }
}

/// One value in words: nothing as "—", yes/no, money with its symbol, lists joined.
pub fn render(v: &Value) -> String {
    if let Some(m) = money(v) {
        return m.display_with_symbol();
    }
    match v {
        Value::Null => NOTHING.to_string(),
        Value::Bool(true) => "Yes".to_string(),
        Value::Bool(false) => "No".to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.is_empty() => NOTHING.to_string(),
        Value::String(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(t) => time_words(t.with_timezone(&Utc), None),
            Err(_) => s.clone(),
        },
        Value::Array(items) if items.is_empty() => NOTHING.to_string(),
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            items.iter().map(render).collect::<Vec<_>>().join(", ")
        }
        Value::Array(items) => match items.len() {
            1 => "1 item".to_string(),
            n => format!("{n} items"),
        },
        Value::Object(m) => m
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{}: {}", humanise(k), render_field(k, v)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// An action in words: `update_booking.v1` → `Update booking`, `booking.overbooked` →
/// `Booking overbooked`.
pub fn action_words(action: &str) -> String {
    let base = action.strip_suffix(".v1").unwrap_or(action);
    let base = match base.rsplit_once(".v") {
        Some((b, v)) if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()) => b,
        _ => base,
    };
    humanise(&base.replace('.', " "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_changed_fields_are_listed_in_words() {
        let before = json!({"id": "b1", "organization_id": "o", "status": "pending", "paid_amount": {"amount": 0, "currency": "USD"},
                            "special_requests": null, "updated_at": "2026-01-01T00:00:00Z", "tour_id": "t1"});
        let after = json!({"id": "b1", "organization_id": "o", "status": "checked_in", "paid_amount": {"amount": 12050, "currency": "USD"},
                           "special_requests": "Window seat", "updated_at": "2026-01-02T00:00:00Z", "tour_id": "t1"});
        assert_eq!(
            diff(Some(&before), Some(&after)),
            vec![
                FieldChange { field: "Paid amount".into(), before: "$0.00".into(), after: "$120.50".into() },
                FieldChange { field: "Special requests".into(), before: NOTHING.into(), after: "Window seat".into() },
                FieldChange { field: "Status".into(), before: "Pending".into(), after: "Checked in".into() },
            ]
        );
    }

    #[test]
    fn a_new_row_shows_every_field_from_nothing_and_nested_objects_field_by_field() {
        let after = json!({"email": "ann@example.com", "pricing": {"total": {"amount": 1500, "currency": "JPY"}, "lines": [{"q": 1}, {"q": 2}]}});
        let d = diff(None, Some(&after));
        assert_eq!(
            d[0],
            FieldChange { field: "Email".into(), before: NOTHING.into(), after: "ann@example.com".into() }
        );
        assert_eq!(d[1], FieldChange { field: "Pricing".into(), before: NOTHING.into(), after: d[1].after.clone() });
        let before = json!({"pricing": {"total": {"amount": 1000, "currency": "JPY"}, "lines": [{"q": 1}, {"q": 2}]}});
        assert_eq!(
            diff(Some(&before), Some(&after)),
            vec![
                FieldChange { field: "Email".into(), before: NOTHING.into(), after: "ann@example.com".into() },
                FieldChange { field: "Pricing › Total".into(), before: "¥1,000".into(), after: "¥1,500".into() },
            ]
        );
    }

    #[test]
    fn the_people_a_history_names_are_its_writers_and_its_person_fields() {
        let row = |actor: Option<&str>, after: Value| AuditRecord {
            id: "1".into(),
            organization_id: "o".into(),
            actor: "Olivia Owner".into(),
            actor_user_id: actor.map(String::from),
            device_id: None,
            action: "record_refund.v1".into(),
            entity: "refund".into(),
            entity_id: "r1".into(),
            before: None,
            after: Some(after),
            created_at: DateTime::<Utc>::MIN_UTC,
        };
        let records = [
            row(Some("u-1"), json!({"requested_by": "u-2", "amount": 100, "decided_by": ""})),
            row(None, json!({"lines": [{"checked_in_by": "u-3", "customer_id": "c-1"}], "actor_id": "u-4"})),
        ];
        let ids: Vec<String> = person_ids(&records).into_iter().collect();
        assert_eq!(ids, ["u-1", "u-2", "u-3", "u-4"]);
        assert!(person_ids(&[]).is_empty());
    }

    #[test]
    fn a_removed_field_and_a_deleted_row_show_what_was_there() {
        let before = json!({"notes": "late", "languages": ["en", "de"], "active": true});
        assert_eq!(
            diff(Some(&before), None),
            vec![
                FieldChange { field: "Active".into(), before: "Yes".into(), after: NOTHING.into() },
                FieldChange { field: "Languages".into(), before: "en, de".into(), after: NOTHING.into() },
                FieldChange { field: "Notes".into(), before: "late".into(), after: NOTHING.into() },
            ]
        );
        assert!(diff(Some(&before), Some(&before)).is_empty());
        let created = json!({"id": "t1", "meeting_point": "", "tags": [], "starts_at": "2026-06-01T10:00:00.25Z"});
        assert_eq!(
            diff(None, Some(&created)),
            vec![FieldChange {
                field: "Starts at".into(),
                before: NOTHING.into(),
                after: "01 Jun 2026, 10:00 UTC".into()
            }],
            "no id, and nothing to empty is no change"
        );
        assert!(diff(None, None).is_empty());
    }

    #[test]
    fn bare_amounts_next_to_a_currency_are_money_people_are_names_and_times_in_the_zone() {
        let detail = json!({"currency": "EUR", "new_total": 1250, "difference": -1200, "seats_after": 2,
                            "requested_by": "u-1", "approved_by": "u-2", "confirmed_at": "2026-12-04T17:23:00Z"});
        let people = BTreeMap::from([("u-1".to_string(), "Olivia Owner".to_string())]);
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        let read = diff_read(None, Some(&detail), Reading { zone: Some(tokyo), people: Some(&people) });
        let after = |f: &str| read.iter().find(|c| c.field == f).map(|c| c.after.clone());
        assert_eq!(after("New total").as_deref(), Some("€12.50"));
        assert_eq!(after("Difference").as_deref(), Some("-€12.00"));
        assert_eq!(after("Seats after").as_deref(), Some("2"), "a count is not money");
        assert_eq!(after("Requested by").as_deref(), Some("Olivia Owner"));
        assert_eq!(after("Approved by"), None, "a person the desk cannot name is left out, not shown as an id");
        assert_eq!(after("Confirmed at").as_deref(), Some("05 Dec 2026, 02:23 JST"));
    }

    #[test]
    fn names_and_actions_read_as_words() {
        assert_eq!(humanise("paid_amount"), "Paid amount");
        assert_eq!(humanise("customer_id"), "Customer");
        assert_eq!(humanise("id"), "Id");
        assert_eq!(action_words("update_booking.v1"), "Update booking");
        assert_eq!(action_words("create_tour.v2"), "Create tour");
        assert_eq!(action_words("booking.overbooked"), "Booking overbooked");
        assert_eq!(render(&json!("2026-03-08")), "2026-03-08");
        assert_eq!(render(&json!("a1b2-c3")), "a1b2-c3");
        assert_eq!(render(&json!(3)), "3");
        assert_eq!(render(&json!([])), NOTHING);
    }

    #[test]
    fn a_filter_checks_its_range_and_reads_blank_as_any() {
        let d = |s: &str| Some(s.parse::<NaiveDate>().unwrap());
        let f = AuditFilter { from: d("2026-06-02"), to: d("2026-06-01"), ..Default::default() };
        assert_eq!(f.checked().unwrap_err().field, "to");
        let f =
            AuditFilter { actor: Some("  ".into()), from: d("2026-06-01"), to: d("2026-06-01"), ..Default::default() };
        let f = f.checked().unwrap();
        assert_eq!(f.actor, None);
        assert_eq!(f.bounds(), (Some("2026-06-01".into()), Some("2026-06-02".into())));
        assert_eq!(f.limit(), AuditFilter::MAX_LIMIT);
        assert_eq!(AuditFilter { limit: Some(0), ..Default::default() }.limit(), 1);
    }

    #[test]
    fn a_record_round_trips_through_json() {
        let r = AuditRecord {
            id: "7".into(),
            organization_id: "o".into(),
            actor: "u1".into(),
            actor_user_id: Some("u1".into()),
            device_id: Some("dev".into()),
            action: "update_tour.v1".into(),
            entity: "tour".into(),
            entity_id: "t1".into(),
            before: None,
            after: Some(json!({"name": "Old town"})),
            created_at: "2026-06-01T10:00:00Z".parse().unwrap(),
        };
        let back: AuditRecord = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}

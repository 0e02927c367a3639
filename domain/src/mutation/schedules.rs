//! Departures (the spec's "schedules", still the table's name): generation from a pattern,
//! status and capacity.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::bookings::cancel_one;
use super::{ApplyError, AuditEntry, Change, MutationCtx, Mutator, ReadKey, ReadView, Rejection, norm_ref, require};
use crate::availability::{self, AvailabilityPattern, SlotKey, SlotTemplate};
use crate::cancellation::{CancellationPolicy, CancelledBy};
use crate::capacity;
use crate::roles::Permission;
use crate::status::{DepartureStatus, StateMachine, TourStatus};
use crate::validate::{self, FieldError};

/// Arguments of `generate_departures.v1`: expand `pattern` for one variant over the local
/// dates `[from, until]`. The pattern travels with the intent because a variant's pattern is
/// not (yet) a stored column; what was generated is what the operator saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateDeparturesV1 {
    pub tour_id: String,
    pub variant_id: String,
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub pattern: AvailabilityPattern,
}

impl GenerateDeparturesV1 {
    /// The stored departures that could collide with the expansion. One day past `until`,
    /// because a start shifted out of a DST gap can land after midnight.
    fn existing_range(&self) -> (NaiveDate, NaiveDate) {
        (self.from, self.until.succ_opt().unwrap_or(self.until))
    }
}

impl Mutator for GenerateDeparturesV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let (from, until) = self.existing_range();
        let variant_id = norm_ref(&self.variant_id);
        vec![
            ReadKey::Tour(norm_ref(&self.tour_id)),
            ReadKey::Variant(variant_id.clone()),
            ReadKey::DeparturesInRange { variant_id, from, until },
        ]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::SchedulesWrite, "generate departures")?;
        let tour_id = validate::row_ref("tour_id", &self.tour_id)?;
        let variant_id = validate::row_ref("variant_id", &self.variant_id)?;
        let tour = view.tour(&tour_id)?.ok_or_else(|| Rejection::not_found("tour", &tour_id))?;
        let variant = view.variant(&variant_id)?.ok_or_else(|| Rejection::not_found("variant", &variant_id))?;
        if variant.tour_id != tour.id {
            return Err(FieldError::new("variant_id", "is a variant of another tour").into());
        }
        if tour.status == TourStatus::Archived || !variant.active {
            return Err(Rejection::conflict("variant_id", "departures are only generated for live variants").into());
        }
        let template =
            SlotTemplate::from_entities(&tour, &variant).map_err(|e| FieldError::new("timezone", e.to_string()))?;
        let slots = availability::expand(&self.pattern, &template, self.from, self.until)
            .map_err(|e| FieldError::new("pattern", e.to_string()))?;
        let (from, until) = self.existing_range();
        let existing: BTreeSet<SlotKey> =
            view.departures_in_range(&variant_id, from, until)?.iter().map(SlotKey::of).collect();
        Ok(availability::new_slots(slots, &existing)
            .iter()
            .map(|s| Change::PutDeparture(s.to_departure(&ctx.organization_id, &tour.id)))
            .collect())
    }
}

/// Arguments of `set_departure_status.v1`. Cancelling cancels every booking that holds seats,
/// with a full refund of what was paid (an operator cancellation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetDepartureStatusV1 {
    pub departure_id: String,
    pub status: DepartureStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Mutator for SetDepartureStatusV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let id = norm_ref(&self.departure_id);
        let mut keys = vec![ReadKey::Departure(id.clone())];
        if self.status == DepartureStatus::Cancelled {
            keys.push(ReadKey::BookingsOfDeparture(id));
        }
        keys
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::SchedulesWrite, "change departures")?;
        let id = validate::row_ref("departure_id", &self.departure_id)?;
        let reason = validate::opt_text("reason", self.reason.as_deref(), 500)?;
        if self.status == DepartureStatus::Full {
            // Full follows occupancy; an operator stops sales by closing.
            return Err(FieldError::new("status", "full is set by bookings; close the departure instead").into());
        }
        let mut dep = view.departure(&id)?.ok_or_else(|| Rejection::not_found("departure", &id))?;
        if dep.status == self.status {
            return Ok(vec![]);
        }
        let next = dep.status.transition(self.status)?;
        // Reopening a departure that filled up through overrides while closed makes it full.
        dep.status = capacity::status_for_occupancy(next, dep.booked_count, dep.capacity);

        let mut changes = Vec::new();
        if next == DepartureStatus::Cancelled {
            // The policy is irrelevant when the operator cancels: everything paid comes back.
            let policy = CancellationPolicy { id: String::new(), name: String::new(), rules: vec![] };
            let mut affected = Vec::new();
            let mut bookings = view.bookings_of_departure(&id)?;
            bookings.sort_by(|a, b| a.id.cmp(&b.id));
            for b in bookings.into_iter().filter(|b| b.status.holds_seats()) {
                let cancelled = cancel_one(b, dep.starts_at, &policy, CancelledBy::Operator, reason.clone(), ctx)?;
                dep.booked_count = dep.booked_count.saturating_sub(cancelled.released);
                affected.push(cancelled.booking.id.clone());
                changes.push(Change::PutBooking(cancelled.booking));
                changes.extend(cancelled.refund.map(Change::RequestRefund));
            }
            changes.push(Change::Audit(AuditEntry {
                action: "departure.cancelled".into(),
                entity: "departure".into(),
                entity_id: dep.id.clone(),
                actor_id: ctx.user_id.clone(),
                at: ctx.now,
                detail: json!({ "reason": reason, "affected_bookings": affected }),
            }));
        }
        changes.insert(0, Change::PutDeparture(dep));
        Ok(changes)
    }
}

/// Arguments of `set_departure_capacity.v1`. Never below the seats already booked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetDepartureCapacityV1 {
    pub departure_id: String,
    pub capacity: u32,
}

impl Mutator for SetDepartureCapacityV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::Departure(norm_ref(&self.departure_id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::SchedulesWrite, "change departures")?;
        let id = validate::row_ref("departure_id", &self.departure_id)?;
        let cap = validate::range_u32("capacity", self.capacity, 1, 10_000)?;
        let mut dep = view.departure(&id)?.ok_or_else(|| Rejection::not_found("departure", &id))?;
        if dep.status.is_terminal() {
            return Err(Rejection::conflict("departure_id", format!("the departure is {}", dep.status)).into());
        }
        let _within = capacity::check_capacity_change(cap, dep.booked_count, None)?;
        let before = dep.clone();
        dep.capacity = cap;
        dep.status = capacity::status_for_occupancy(dep.status, dep.booked_count, cap);
        Ok(if dep == before { vec![] } else { vec![Change::PutDeparture(dep)] })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::testkit::*;
    use super::*;
    use crate::entities::{Departure, TourVariant};
    use crate::roles::Role;
    use crate::status::{BookingStatus, PaymentStatus};
    use serde_json::{Value, json};

    fn generate(from: &str, until: &str) -> Value {
        json!({"tour_id": TOUR, "variant_id": VARIANT, "from": from, "until": until,
               "pattern": {"type": "recurring", "days_of_week": [1, 3], "start_times": ["09:00:00", "14:00:00"],
                           "valid_from": null, "valid_until": null, "excluded_dates": ["2026-07-08"]}})
    }

    fn put_all(mem: &Mem, changes: &[Change]) {
        for c in changes {
            mem.write(c.clone());
        }
    }

    #[test]
    fn generation_is_idempotent_and_uses_the_variant_capacity() {
        let mem = world();
        mem.put_variant(TourVariant { capacity: Some(4), ..variant() });
        // 2026-07-06 is a Monday: Mon 6, Wed 8 (excluded), Mon 13, Wed 15 → 3 days × 2 starts.
        let first = run_ok(&mem, "generate_departures.v1", generate("2026-07-06", "2026-07-15"), Role::Manager);
        assert_eq!(first.len(), 6, "{first:?}");
        assert!(first.iter().all(|c| matches!(c, Change::PutDeparture(d) if d.capacity == 4 && d.booked_count == 0)));
        put_all(&mem, &first);
        // Re-running an overlapping range creates only what is new.
        let again = run_ok(&mem, "generate_departures.v1", generate("2026-07-06", "2026-07-20"), Role::Manager);
        assert_eq!(again.len(), 2, "{again:?}");
        put_all(&mem, &again);
        assert!(run_ok(&mem, "generate_departures.v1", generate("2026-07-06", "2026-07-20"), Role::Manager).is_empty());
    }

    #[test]
    fn generation_rejections() {
        let mem = world();
        mem.put_variant(TourVariant { id: "v-off".into(), active: false, ..variant() });
        mem.put_variant(TourVariant { id: "v-other".into(), tour_id: "t-other".into(), ..variant() });
        let cases: Vec<(Value, Role, &str)> = vec![
            (generate("2026-07-06", "2026-07-15"), Role::Guide, "NOT_AUTHORIZED"),
            (patch(generate("2026-07-06", "2026-07-15"), &[("tour_id", "t-404".into())]), Role::Owner, "NOT_FOUND"),
            (patch(generate("2026-07-06", "2026-07-15"), &[("variant_id", "v-404".into())]), Role::Owner, "NOT_FOUND"),
            (patch(generate("2026-07-06", "2026-07-15"), &[("variant_id", "v-other".into())]), Role::Owner, "INVALID"),
            (patch(generate("2026-07-06", "2026-07-15"), &[("variant_id", "v-off".into())]), Role::Owner, "CONFLICT"),
            (generate("2026-07-15", "2026-07-06"), Role::Owner, "INVALID"),
            (generate("2026-01-01", "2031-01-01"), Role::Owner, "INVALID"),
            (generate("2026-07-06", "not a date"), Role::Owner, "INVALID"),
        ];
        for (a, role, code) in cases {
            assert_eq!(run_err(&mem, "generate_departures.v1", a.clone(), role), code, "{a}");
        }
    }

    #[test]
    fn status_changes() {
        let mem = world();
        let set = |status: &str| json!({"departure_id": DEPARTURE, "status": status, "reason": "storm"});
        let closed = run_ok(&mem, "set_departure_status.v1", set("closed"), Role::Manager);
        assert!(matches!(&closed[..], [Change::PutDeparture(d)] if d.status == DepartureStatus::Closed));
        assert!(run_ok(&mem, "set_departure_status.v1", set("open"), Role::Manager).is_empty(), "same state");
        // Reopening a departure that is booked up makes it full.
        mem.put_departure(Departure { status: DepartureStatus::Closed, booked_count: 10, ..departure() });
        let reopened = run_ok(&mem, "set_departure_status.v1", set("open"), Role::Manager);
        assert!(matches!(&reopened[..], [Change::PutDeparture(d)] if d.status == DepartureStatus::Full));

        mem.put_departure(Departure { status: DepartureStatus::Completed, ..departure() });
        assert_eq!(run_err(&mem, "set_departure_status.v1", set("open"), Role::Manager), "FORBIDDEN_TRANSITION");
        mem.put_departure(departure());
        assert_eq!(run_err(&mem, "set_departure_status.v1", set("full"), Role::Manager), "INVALID");
        assert_eq!(run_err(&mem, "set_departure_status.v1", set("closed"), Role::Guide), "NOT_AUTHORIZED");
        let missing = json!({"departure_id": "d-404", "status": "closed"});
        assert_eq!(run_err(&mem, "set_departure_status.v1", missing, Role::Manager), "NOT_FOUND");
    }

    #[test]
    fn cancelling_a_departure_cancels_its_bookings_with_full_refunds() {
        let mem = world();
        mem.put_departure(Departure { booked_count: 5, ..departure() });
        mem.put_booking(booking("b-paid", 3, BookingStatus::Confirmed, PaymentStatus::Paid, 15_000));
        mem.put_booking(booking("b-unpaid", 2, BookingStatus::Pending, PaymentStatus::Unpaid, 0));
        mem.put_booking(booking("b-gone", 4, BookingStatus::Cancelled, PaymentStatus::Unpaid, 0));
        let ch = run_ok(
            &mem,
            "set_departure_status.v1",
            json!({"departure_id": DEPARTURE, "status": "cancelled", "reason": "storm"}),
            Role::Manager,
        );
        let Change::PutDeparture(d) = &ch[0] else { panic!("{ch:?}") };
        assert_eq!((d.status, d.booked_count), (DepartureStatus::Cancelled, 0));
        let cancelled: Vec<&str> = ch
            .iter()
            .filter_map(|c| match c {
                Change::PutBooking(b) if b.status == BookingStatus::Cancelled => Some(b.id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(cancelled, ["b-paid", "b-unpaid"]);
        let refunds: Vec<i64> = ch
            .iter()
            .filter_map(|c| match c {
                Change::RequestRefund(r) => Some(r.amount.amount),
                _ => None,
            })
            .collect();
        assert_eq!(refunds, [15_000]);
        assert!(ch.iter().any(|c| matches!(c, Change::Audit(a) if a.action == "departure.cancelled")));
    }

    #[test]
    fn capacity_changes() {
        let mem = world();
        mem.put_departure(Departure { booked_count: 6, ..departure() });
        let set = |c: u32| json!({"departure_id": DEPARTURE, "capacity": c});
        let ok = run_ok(&mem, "set_departure_capacity.v1", set(6), Role::Manager);
        assert!(matches!(&ok[..], [Change::PutDeparture(d)] if d.capacity == 6 && d.status == DepartureStatus::Full));
        assert!(run_ok(&mem, "set_departure_capacity.v1", set(10), Role::Manager).is_empty());
        assert_eq!(run_err(&mem, "set_departure_capacity.v1", set(5), Role::Manager), "CAPACITY_BELOW_BOOKED");
        assert_eq!(run_err(&mem, "set_departure_capacity.v1", set(0), Role::Manager), "INVALID");
        assert_eq!(run_err(&mem, "set_departure_capacity.v1", set(12), Role::Guide), "NOT_AUTHORIZED");
        mem.put_departure(Departure { status: DepartureStatus::Cancelled, ..departure() });
        assert_eq!(run_err(&mem, "set_departure_capacity.v1", set(12), Role::Manager), "CONFLICT");
        let missing = json!({"departure_id": "d-404", "capacity": 3});
        assert_eq!(run_err(&mem, "set_departure_capacity.v1", missing, Role::Manager), "NOT_FOUND");
    }
}

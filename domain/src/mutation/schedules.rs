//! Departures (the spec's "schedules", still the table's name): generation from a pattern,
//! status and capacity.

use std::collections::BTreeSet;

use chrono::{DateTime, LocalResult, NaiveDate, NaiveTime, Offset, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::bookings::cancel_one;
use super::{
    ApplyError, AuditEntry, Change, FetchReads, Mutation, MutationCtx, Mutator, ReadKey, ReadView, Rejection, Snapshot,
    norm_ref, require,
};
use crate::availability::{
    self, AvailabilityError, AvailabilityPattern, DstResolution, PatternKind, SlotKey, SlotTemplate,
};
use crate::cancellation::{CancellationPolicy, CancelledBy};
use crate::capacity::{self, CapacityOutcome, ManagerOverride};
use crate::entities::{Booking, Departure};
use crate::money::Money;
use crate::roles::Permission;
use crate::status::{DepartureStatus, StateMachine, TourStatus};
use crate::validate::{self, FieldError};

/// Arguments of `generate_departures.v1`: expand `pattern` for one variant over the local
/// dates `[from, until]`. The pattern travels with the intent because a variant's pattern is
/// not (yet) a stored column; what was generated is what the operator saw.
///
/// [`GenerateDeparturesV1::plan`] is the whole decision, and what the desk's preview shows: the
/// mutation writes exactly the planned departures that do not exist yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateDeparturesV1 {
    pub tour_id: String,
    pub variant_id: String,
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub pattern: AvailabilityPattern,
    /// Seats per departure for this run; absent, the variant's capacity (or the tour's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
}

/// The most seats a departure may have.
pub const MAX_DEPARTURE_CAPACITY: u32 = 10_000;
/// The longest note a departure takes.
pub const DEPARTURE_NOTES_MAX: usize = 2_000;

/// One departure of a [`GenerationPlan`]: the row that would be written, how its local time
/// was resolved in the tour's zone, and whether it exists already.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedDeparture {
    /// The row as it would be saved: local date and time as resolved, `starts_at` in UTC.
    pub departure: Departure,
    /// The local time the pattern asked for (differs from the departure's when it fell in a
    /// DST gap and was moved forward).
    pub requested_time: NaiveTime,
    pub dst: DstResolution,
    /// The zone's offset from UTC at the start, in minutes (+60 for Lisbon in summer).
    pub utc_offset_minutes: i32,
    /// For a local time that happens twice (DST overlap): the later instant, which was not
    /// chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_chosen: Option<DateTime<Utc>>,
    /// A departure of this variant already starts then: nothing is created for it.
    pub exists: bool,
}

/// What a generation run would do, before anything is saved: every departure of the pattern,
/// sorted by start, with DST gaps and overlaps marked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationPlan {
    pub tour_id: String,
    pub tour_name: String,
    pub variant_id: String,
    pub variant_name: String,
    pub timezone: String,
    pub departures: Vec<PlannedDeparture>,
}

impl GenerationPlan {
    /// The departures a save creates (those that do not exist yet).
    pub fn to_create(&self) -> impl Iterator<Item = &Departure> {
        self.departures.iter().filter(|p| !p.exists).map(|p| &p.departure)
    }
}

impl GenerateDeparturesV1 {
    /// The stored departures that could collide with the expansion. One day past `until`,
    /// because a start shifted out of a DST gap can land after midnight.
    fn existing_range(&self) -> (NaiveDate, NaiveDate) {
        (self.from, self.until.succ_opt().unwrap_or(self.until))
    }

    /// [`Self::plan`] on the rows a store holds: the desk's preview, read exactly as the
    /// mutation reads them.
    pub fn preview(&self, store: &impl FetchReads, ctx: &MutationCtx) -> Result<GenerationPlan, ApplyError> {
        let snap = Snapshot::load(&Mutation::GenerateDeparturesV1(self.clone()), store)?;
        self.plan(&snap, ctx)
    }

    /// Every rule of a generation, for the preview and the mutation alike: who may, which
    /// variant, the capacity, the expansion in the tour's zone and what exists already.
    pub fn plan(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<GenerationPlan, ApplyError> {
        require(ctx, Permission::SchedulesWrite, "generate departures")?;
        let tour_id = validate::row_ref("tour_id", &self.tour_id)?;
        let variant_id = validate::row_ref("variant_id", &self.variant_id)?;
        let capacity =
            self.capacity.map(|c| validate::range_u32("capacity", c, 1, MAX_DEPARTURE_CAPACITY)).transpose()?;
        let tour = view.tour(&tour_id)?.ok_or_else(|| Rejection::not_found("tour", &tour_id))?;
        let variant = view.variant(&variant_id)?.ok_or_else(|| Rejection::not_found("variant", &variant_id))?;
        if variant.tour_id != tour.id {
            return Err(FieldError::new("variant_id", "is a variant of another tour").into());
        }
        if tour.status == TourStatus::Archived || !variant.active {
            return Err(Rejection::conflict("variant_id", "departures are only generated for live variants").into());
        }
        let mut template =
            SlotTemplate::from_entities(&tour, &variant).map_err(|e| FieldError::new("timezone", e.to_string()))?;
        if let Some(c) = capacity {
            template.capacity = c;
        }
        let slots = availability::expand(&self.pattern, &template, self.from, self.until)
            .map_err(|e| FieldError::new(pattern_field(&e), e.to_string()))?;
        let (from, until) = self.existing_range();
        let existing: BTreeSet<SlotKey> =
            view.departures_in_range(&variant_id, from, until)?.iter().map(SlotKey::of).collect();
        let zone = template.timezone;
        let mut departures: Vec<PlannedDeparture> = slots
            .iter()
            .map(|slot| {
                let requested_time = match slot.dst {
                    DstResolution::ShiftedForward { requested } => requested,
                    _ => slot.key.local_time,
                };
                let local = slot.key.local_date.and_time(slot.key.local_time);
                let not_chosen = match zone.from_local_datetime(&local) {
                    LocalResult::Ambiguous(a, b) => Some(a.max(b).with_timezone(&Utc)),
                    _ => None,
                };
                let offset = slot.starts_at.with_timezone(&zone).offset().fix().local_minus_utc() / 60;
                PlannedDeparture {
                    departure: slot.to_departure(&ctx.organization_id, &tour.id),
                    requested_time,
                    dst: slot.dst,
                    utc_offset_minutes: offset,
                    not_chosen,
                    exists: existing.contains(&slot.key),
                }
            })
            .collect();
        departures
            .sort_by(|a, b| (a.departure.starts_at, &a.departure.id).cmp(&(b.departure.starts_at, &b.departure.id)));
        Ok(GenerationPlan {
            tour_id: tour.id.clone(),
            tour_name: tour.name.clone(),
            variant_id: variant.id.clone(),
            variant_name: variant.name.clone(),
            timezone: zone.name().to_string(),
            departures,
        })
    }
}

/// The argument an expansion error is about, so the desk shows it beside that field.
fn pattern_field(e: &AvailabilityError) -> &'static str {
    match e {
        AvailabilityError::UnknownTimezone(_) => "timezone",
        AvailabilityError::InvalidWeekday(_) => "pattern.days_of_week",
        AvailabilityError::NoStartTimes => "pattern.start_times",
        AvailabilityError::ZeroDuration => "duration_minutes",
        AvailabilityError::RangeReversed { .. } => "until",
        AvailabilityError::RangeTooLong { .. } => "until",
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
        let plan = self.plan(view, ctx)?;
        Ok(plan.to_create().cloned().map(Change::PutDeparture).collect())
    }
}

/// Arguments of `create_departure.v1`: one departure outside any pattern (a private group, an
/// extra Saturday). Its local time is resolved exactly as a generated one (the same plan), so
/// it gets the same deterministic id and two desks adding the same start converge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateDepartureV1 {
    pub tour_id: String,
    pub variant_id: String,
    pub local_date: NaiveDate,
    pub local_time: NaiveTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
}

impl CreateDepartureV1 {
    fn as_generation(&self) -> GenerateDeparturesV1 {
        GenerateDeparturesV1 {
            tour_id: self.tour_id.clone(),
            variant_id: self.variant_id.clone(),
            from: self.local_date,
            until: self.local_date,
            pattern: AvailabilityPattern {
                kind: PatternKind::SpecificDates,
                days_of_week: vec![],
                specific_dates: vec![self.local_date],
                start_times: vec![self.local_time],
                valid_from: None,
                valid_until: None,
                excluded_dates: vec![],
            },
            capacity: self.capacity,
        }
    }

    /// [`Self::plan`] on the rows a store holds (the one-off form's preview).
    pub fn preview(&self, store: &impl FetchReads, ctx: &MutationCtx) -> Result<PlannedDeparture, ApplyError> {
        let snap = Snapshot::load(&Mutation::CreateDepartureV1(self.clone()), store)?;
        self.plan(&snap, ctx)
    }

    /// The departure this would create, with its DST resolution, for the form's preview.
    pub fn plan(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<PlannedDeparture, ApplyError> {
        let notes = validate::free_text("notes", &self.notes, DEPARTURE_NOTES_MAX)?;
        let mut plan = self.as_generation().plan(view, ctx)?;
        let mut one = plan.departures.pop().ok_or_else(|| FieldError::new("local_time", "is required"))?;
        if one.departure.starts_at <= ctx.now {
            return Err(FieldError::new("local_date", "is in the past").into());
        }
        if one.exists {
            return Err(Rejection::conflict("local_time", "a departure of this variant already starts then").into());
        }
        one.departure.notes = notes;
        Ok(one)
    }
}

impl Mutator for CreateDepartureV1 {
    fn reads(&self) -> Vec<ReadKey> {
        self.as_generation().reads()
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        Ok(vec![Change::PutDeparture(self.plan(view, ctx)?.departure)])
    }
}

/// Arguments of `set_departure_notes.v1`: staff notes for the day, last writer wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetDepartureNotesV1 {
    pub departure_id: String,
    pub notes: String,
}

impl Mutator for SetDepartureNotesV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::Departure(norm_ref(&self.departure_id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::SchedulesWrite, "change departures")?;
        let id = validate::row_ref("departure_id", &self.departure_id)?;
        let notes = validate::free_text("notes", &self.notes, DEPARTURE_NOTES_MAX)?;
        let mut dep = view.departure(&id)?.ok_or_else(|| Rejection::not_found("departure", &id))?;
        if dep.notes == notes {
            return Ok(vec![]);
        }
        dep.notes = notes;
        Ok(vec![Change::PutDeparture(dep)])
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

        if next == DepartureStatus::Cancelled {
            let bookings = view.bookings_of_departure(&id)?;
            return cancel_with_bookings(dep, bookings, reason, ctx);
        }
        Ok(vec![Change::PutDeparture(dep)])
    }
}

/// Arguments of `cancel_departure.v1`: the operator calls a departure off (weather, a sick
/// guide). Every booking still holding seats on it is cancelled as by the operator, so what was
/// paid comes back in full whatever the tour's policy; unpaid holds are simply released. The
/// reason is required: the customers are told it.
///
/// The server decides on the bookings that exist when it replays the intent, so a booking
/// another desk made while this one was offline is cancelled too; replaying it once the
/// departure is cancelled changes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelDepartureV1 {
    pub departure_id: String,
    pub reason: String,
}

/// The longest reason a departure cancellation takes (it is quoted in every customer's e-mail).
pub const CANCEL_REASON_MAX: usize = 500;

impl Mutator for CancelDepartureV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let id = norm_ref(&self.departure_id);
        vec![ReadKey::Departure(id.clone()), ReadKey::BookingsOfDeparture(id)]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::SchedulesWrite, "cancel departures")?;
        let id = validate::row_ref("departure_id", &self.departure_id)?;
        let reason = validate::text("reason", &self.reason, CANCEL_REASON_MAX)?;
        let mut dep = view.departure(&id)?.ok_or_else(|| Rejection::not_found("departure", &id))?;
        let bookings = view.bookings_of_departure(&id)?;
        if dep.status == DepartureStatus::Cancelled {
            // A replay: nothing left to do, unless a booking still holds seats on it.
            if !bookings.iter().any(|b| b.status.holds_seats()) {
                return Ok(vec![]);
            }
        } else {
            dep.status = dep.status.transition(DepartureStatus::Cancelled)?;
        }
        cancel_with_bookings(dep, bookings, Some(reason), ctx)
    }
}

/// Cancels `dep` (already set to cancelled) and every booking on it that holds seats, as the
/// operator: the departure first, then each booking with its full refund of what was paid, then
/// the `departure.cancelled` audit entry naming them.
fn cancel_with_bookings(
    mut dep: Departure,
    mut bookings: Vec<Booking>,
    reason: Option<String>,
    ctx: &MutationCtx,
) -> Result<Vec<Change>, ApplyError> {
    // The policy is irrelevant when the operator cancels: everything paid comes back.
    let policy = operator_policy();
    let mut changes = Vec::new();
    let mut affected = Vec::new();
    let (mut guests, mut refunds) = (0u32, Vec::new());
    bookings.sort_by(|a, b| a.id.cmp(&b.id));
    for b in bookings.into_iter().filter(|b| b.status.holds_seats() && b.departure_id == dep.id) {
        let cancelled = cancel_one(b, dep.starts_at, &policy, CancelledBy::Operator, reason.clone(), ctx)?;
        dep.booked_count = dep.booked_count.saturating_sub(cancelled.released);
        guests += cancelled.released;
        affected.push(cancelled.booking.id.clone());
        changes.push(Change::PutBooking(cancelled.booking));
        if let Some(r) = cancelled.refund {
            refunds.push(json!({ "booking_id": r.booking_id, "amount": r.amount }));
            changes.push(Change::RequestRefund(r));
        }
    }
    // Nothing holds seats on it any more, whatever the count said (a count kept by hand, rows this
    // store does not hold).
    dep.booked_count = 0;
    changes.push(Change::Audit(AuditEntry {
        action: "departure.cancelled".into(),
        entity: "departure".into(),
        entity_id: dep.id.clone(),
        actor_id: ctx.user_id.clone(),
        at: ctx.now,
        detail: json!({ "reason": reason, "affected_bookings": affected, "guests": guests, "refunds": refunds }),
    }));
    changes.insert(0, Change::PutDeparture(dep));
    Ok(changes)
}

fn operator_policy() -> CancellationPolicy {
    CancellationPolicy { id: String::new(), name: String::new(), rules: vec![] }
}

/// What cancelling a departure would do to the bookings it holds: how many bookings and guests
/// it cancels and what it refunds, per currency. The same rule as [`CancelDepartureV1`], for the
/// desk's confirmation dialog.
pub fn departure_cancellation_preview(departure: &Departure, bookings: &[Booking]) -> DepartureCancellationPreview {
    let policy = operator_policy();
    let mut preview = DepartureCancellationPreview::default();
    for b in bookings.iter().filter(|b| b.status.holds_seats() && b.departure_id == departure.id) {
        preview.bookings += 1;
        preview.guests += b.seats_held();
        let refund = policy
            .evaluate(departure.starts_at, departure.starts_at, b.paid_amount, b.refunded_amount, CancelledBy::Operator)
            .map(|d| d.refund);
        match refund {
            Ok(r) if r.is_zero() => {}
            Ok(r) => {
                preview.paid_bookings += 1;
                match preview.refunds.iter_mut().find(|m| m.currency == r.currency) {
                    Some(total) => *total = total.checked_add(r).unwrap_or(*total),
                    None => preview.refunds.push(r),
                }
            }
            // Amounts the policy cannot read are refunded by hand; the count still shows them.
            Err(_) => preview.paid_bookings += 1,
        }
    }
    preview
}

/// See [`departure_cancellation_preview`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DepartureCancellationPreview {
    /// Bookings holding seats, which are cancelled.
    pub bookings: u32,
    pub guests: u32,
    /// Bookings that get money back.
    pub paid_bookings: u32,
    /// What goes back, one total per currency (one, in practice: a tour sells in one currency).
    pub refunds: Vec<Money>,
}

/// Arguments of `set_departure_capacity.v1`. Never below the seats already booked, unless a
/// role that may sell past capacity ([`Permission::Overbook`]) gives `override_reason`: then the
/// departure keeps every booking, is full, and a `departure.capacity_below_booked` audit entry
/// records who, why and by how much.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetDepartureCapacityV1 {
    pub departure_id: String,
    pub capacity: u32,
    /// Why the capacity may go below the seats sold (older intents have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
}

impl Mutator for SetDepartureCapacityV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::Departure(norm_ref(&self.departure_id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::SchedulesWrite, "change departures")?;
        let id = validate::row_ref("departure_id", &self.departure_id)?;
        let cap = validate::range_u32("capacity", self.capacity, 1, MAX_DEPARTURE_CAPACITY)?;
        let reason = validate::opt_text("override_reason", self.override_reason.as_deref(), 500)?;
        let mut dep = view.departure(&id)?.ok_or_else(|| Rejection::not_found("departure", &id))?;
        if dep.status.is_terminal() {
            return Err(Rejection::conflict("departure_id", format!("the departure is {}", dep.status)).into());
        }
        // An override is asked for only when it is needed, so a reason given "just in case" is
        // neither required to be allowed nor audited.
        let manager_override = match reason {
            Some(reason) if cap < dep.booked_count => {
                require(ctx, Permission::Overbook, "set a capacity below the seats sold")?;
                Some(ManagerOverride { manager_id: ctx.user_id.clone(), reason })
            }
            _ => None,
        };
        let outcome = capacity::check_capacity_change(cap, dep.booked_count, manager_override.as_ref())?;
        let before = dep.clone();
        dep.capacity = cap;
        dep.status = capacity::status_for_occupancy(dep.status, dep.booked_count, cap);
        if dep == before {
            return Ok(vec![]);
        }
        let mut changes = vec![Change::PutDeparture(dep)];
        if let CapacityOutcome::Overbooked { booked_after, over_by, by } = outcome {
            changes.push(Change::Audit(AuditEntry {
                action: "departure.capacity_below_booked".into(),
                entity: "departure".into(),
                entity_id: before.id.clone(),
                actor_id: by.manager_id,
                at: ctx.now,
                detail: json!({
                    "capacity": cap,
                    "previous_capacity": before.capacity,
                    "booked": booked_after,
                    "over_by": over_by,
                    "reason": by.reason,
                }),
            }));
        }
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::testkit::*;
    use super::*;
    use crate::entities::{Booking, Departure, Tour, TourVariant};
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

    fn cancel(reason: &str) -> Value {
        json!({"departure_id": DEPARTURE, "reason": reason})
    }

    fn cancelled_ids(ch: &[Change]) -> Vec<&str> {
        ch.iter()
            .filter_map(|c| match c {
                Change::PutBooking(b) if b.status == BookingStatus::Cancelled => Some(b.id.as_str()),
                _ => None,
            })
            .collect()
    }

    fn refunds(ch: &[Change]) -> Vec<(&str, i64)> {
        ch.iter()
            .filter_map(|c| match c {
                Change::RequestRefund(r) => Some((r.booking_id.as_str(), r.amount.amount)),
                _ => None,
            })
            .collect()
    }

    /// A departure with a paid, a part-paid, an unpaid and an already cancelled booking.
    fn booked_world() -> Mem {
        let mem = world();
        mem.put_departure(Departure { booked_count: 7, ..departure() });
        mem.put_booking(booking("b-paid", 3, BookingStatus::Confirmed, PaymentStatus::Paid, 15_000));
        mem.put_booking(Booking {
            refunded_amount: usd(1_000),
            ..booking("b-deposit", 2, BookingStatus::Confirmed, PaymentStatus::Partial, 4_000)
        });
        mem.put_booking(booking("b-hold", 2, BookingStatus::Pending, PaymentStatus::Unpaid, 0));
        mem.put_booking(booking("b-gone", 4, BookingStatus::Cancelled, PaymentStatus::Unpaid, 0));
        mem
    }

    #[test]
    fn cancelling_a_departure_cancels_every_booking_as_the_operator() {
        let mem = booked_world();
        let ch = run_write(&mem, "cancel_departure.v1", cancel("  Storm warning  "), Role::Manager);
        let Change::PutDeparture(d) = &ch[0] else { panic!("{ch:?}") };
        assert_eq!((d.status, d.booked_count), (DepartureStatus::Cancelled, 0));
        assert_eq!(cancelled_ids(&ch), ["b-deposit", "b-hold", "b-paid"]);
        // Everything paid comes back (less what was refunded already); an unpaid hold gets nothing.
        assert_eq!(refunds(&ch), [("b-deposit", 3_000), ("b-paid", 15_000)]);
        for id in ["b-paid", "b-deposit", "b-hold"] {
            let b = mem.get_booking(id);
            let c = b.cancellation.unwrap();
            assert_eq!((c.by, c.reason.as_deref()), (CancelledBy::Operator, Some("Storm warning")), "{id}");
            assert_eq!(b.cancelled_at, Some(now()));
        }
        assert_eq!(mem.get_booking("b-gone").cancelled_at, None, "an old cancellation is left alone");
        let audit = mem.state.borrow().audit.clone();
        let [a] = &audit[..] else { panic!("{audit:?}") };
        assert_eq!(
            (a.action.as_str(), a.entity_id.as_str(), a.actor_id.as_str()),
            ("departure.cancelled", DEPARTURE, STAFF)
        );
        assert_eq!(a.detail["reason"], "Storm warning");
        assert_eq!(a.detail["guests"], 7);
        assert_eq!(a.detail["affected_bookings"], json!(["b-deposit", "b-hold", "b-paid"]));
    }

    /// The server decides on the bookings it holds when the intent arrives, not on what the
    /// cancelling desk saw: a booking another desk sold meanwhile is cancelled too.
    #[test]
    fn bookings_the_desk_never_saw_are_cancelled_too() {
        let desk = booked_world();
        let server = booked_world();
        server.put_booking(booking("b-elsewhere", 1, BookingStatus::Confirmed, PaymentStatus::Paid, 5_000));
        server.put_departure(Departure { booked_count: 8, ..departure() });
        let seen = run_ok(&desk, "cancel_departure.v1", cancel("Guide sick"), Role::Manager);
        let decided = run_ok(&server, "cancel_departure.v1", cancel("Guide sick"), Role::Manager);
        assert!(!cancelled_ids(&seen).contains(&"b-elsewhere"));
        assert!(cancelled_ids(&decided).contains(&"b-elsewhere"));
        assert!(refunds(&decided).contains(&("b-elsewhere", 5_000)));
        assert!(matches!(&decided[0], Change::PutDeparture(d) if d.booked_count == 0));
        // A count no booking accounts for is released too.
        let empty = world();
        empty.put_departure(Departure { booked_count: 4, ..departure() });
        let ch = run_ok(&empty, "cancel_departure.v1", cancel("Guide sick"), Role::Manager);
        assert!(
            matches!(&ch[0], Change::PutDeparture(d) if d.booked_count == 0 && d.status == DepartureStatus::Cancelled)
        );
    }

    #[test]
    fn cancelling_a_departure_twice_changes_nothing() {
        let mem = booked_world();
        run_write(&mem, "cancel_departure.v1", cancel("Storm"), Role::Manager);
        assert!(run_ok(&mem, "cancel_departure.v1", cancel("Storm"), Role::Manager).is_empty());
        // A booking still holding seats on a cancelled departure (it should not happen) is swept up.
        mem.put_booking(booking("b-stray", 1, BookingStatus::Confirmed, PaymentStatus::Paid, 5_000));
        let again = run_ok(&mem, "cancel_departure.v1", cancel("Storm"), Role::Manager);
        assert_eq!(cancelled_ids(&again), ["b-stray"]);
        assert_eq!(refunds(&again), [("b-stray", 5_000)]);
    }

    #[test]
    fn cancelling_a_departure_is_refused() {
        let mem = booked_world();
        assert_eq!(run_err(&mem, "cancel_departure.v1", cancel("Storm"), Role::Guide), "NOT_AUTHORIZED");
        assert_eq!(run_err(&mem, "cancel_departure.v1", cancel("Storm"), Role::Customer), "NOT_AUTHORIZED");
        assert_eq!(run_err(&mem, "cancel_departure.v1", cancel("   "), Role::Manager), "INVALID");
        assert_eq!(run_err(&mem, "cancel_departure.v1", cancel(&"x".repeat(501)), Role::Manager), "INVALID");
        assert_eq!(run_err(&mem, "cancel_departure.v1", json!({"departure_id": DEPARTURE}), Role::Manager), "INVALID");
        assert_eq!(
            run_err(&mem, "cancel_departure.v1", json!({"departure_id": "d-404", "reason": "x"}), Role::Manager),
            "NOT_FOUND"
        );
        mem.put_departure(Departure { status: DepartureStatus::Completed, ..departure() });
        assert_eq!(run_err(&mem, "cancel_departure.v1", cancel("Storm"), Role::Manager), "FORBIDDEN_TRANSITION");
        assert!(mem.state.borrow().refunds.is_empty(), "nothing written");
    }

    #[test]
    fn the_preview_counts_what_cancelling_does() {
        let mem = booked_world();
        let bookings: Vec<Booking> = mem.state.borrow().bookings.values().cloned().collect();
        let p = departure_cancellation_preview(&departure(), &bookings);
        assert_eq!(
            p,
            DepartureCancellationPreview { bookings: 3, guests: 7, paid_bookings: 2, refunds: vec![usd(18_000)] }
        );
        let ch = run_ok(&mem, "cancel_departure.v1", cancel("Storm"), Role::Manager);
        assert_eq!(refunds(&ch).iter().map(|(_, a)| a).sum::<i64>(), 18_000, "the same rule");
        assert_eq!(departure_cancellation_preview(&departure(), &[]), DepartureCancellationPreview::default());
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

    fn in_zone(mem: &Mem, zone: &str) {
        mem.put_tour(Tour { timezone: zone.into(), ..tour() });
    }

    fn pattern_args(zone_days: &[u8], times: &[&str], from: &str, until: &str) -> GenerateDeparturesV1 {
        serde_json::from_value(json!({"tour_id": TOUR, "variant_id": VARIANT, "from": from, "until": until,
            "pattern": {"type": "recurring", "days_of_week": zone_days, "start_times": times,
                        "valid_from": null, "valid_until": null, "excluded_dates": []}}))
        .unwrap()
    }

    fn row(p: &PlannedDeparture) -> (String, String, String, DstResolution) {
        (
            p.departure.local_date.to_string(),
            p.departure.local_time.format("%H:%M").to_string(),
            p.departure.starts_at.format("%Y-%m-%d %H:%M").to_string(),
            p.dst,
        )
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    /// Lisbon springs forward on 2026-03-29 (01:00 WET → 02:00 WEST): a 01:30 start does not
    /// exist that day and moves to 02:00; in the week before it is 01:30 UTC, after 00:30 UTC.
    #[test]
    fn the_plan_marks_a_spring_forward_gap_in_lisbon() {
        let mem = world();
        in_zone(&mem, "Europe/Lisbon");
        let args = pattern_args(&[0], &["01:30:00", "10:00:00"], "2026-03-22", "2026-04-05");
        let plan = args.preview(&mem, &ctx(Role::Manager)).unwrap();
        assert_eq!(plan.timezone, "Europe/Lisbon");
        let rows: Vec<_> = plan.departures.iter().map(row).collect();
        use DstResolution::*;
        let s = |a: &str, b: &str, c: &str, d| (a.to_string(), b.to_string(), c.to_string(), d);
        assert_eq!(
            rows,
            [
                s("2026-03-22", "01:30", "2026-03-22 01:30", Exact),
                s("2026-03-22", "10:00", "2026-03-22 10:00", Exact),
                s("2026-03-29", "02:00", "2026-03-29 01:00", ShiftedForward { requested: hm(1, 30) }),
                s("2026-03-29", "10:00", "2026-03-29 09:00", Exact),
                s("2026-04-05", "01:30", "2026-04-05 00:30", Exact),
                s("2026-04-05", "10:00", "2026-04-05 09:00", Exact),
            ]
        );
        let shifted = &plan.departures[2];
        assert_eq!((shifted.requested_time, shifted.utc_offset_minutes), (hm(1, 30), 60));
        assert_eq!(plan.departures[0].utc_offset_minutes, 0);
        // The mutation writes exactly the plan.
        let ch = run_ok(&mem, "generate_departures.v1", serde_json::to_value(&args).unwrap(), Role::Manager);
        let written: Vec<&Departure> =
            ch.iter().filter_map(|c| if let Change::PutDeparture(d) = c { Some(d) } else { None }).collect();
        assert_eq!(written, plan.to_create().collect::<Vec<_>>());
    }

    /// New York falls back on 2026-11-01 (02:00 EDT → 01:00 EST): 01:30 happens twice; the
    /// first (05:30 UTC, EDT) is chosen and the later one (06:30 UTC) is named.
    #[test]
    fn the_plan_marks_a_fall_back_overlap_in_new_york() {
        let mem = world();
        in_zone(&mem, "America/New_York");
        let args = pattern_args(&[0], &["01:30:00"], "2026-10-25", "2026-11-08");
        let plan = args.preview(&mem, &ctx(Role::Manager)).unwrap();
        let rows: Vec<_> = plan.departures.iter().map(row).collect();
        use DstResolution::*;
        let s = |a: &str, b: &str, c: &str, d| (a.to_string(), b.to_string(), c.to_string(), d);
        assert_eq!(
            rows,
            [
                s("2026-10-25", "01:30", "2026-10-25 05:30", Exact),
                s("2026-11-01", "01:30", "2026-11-01 05:30", AmbiguousEarlier),
                s("2026-11-08", "01:30", "2026-11-08 06:30", Exact),
            ]
        );
        let overlap = &plan.departures[1];
        assert_eq!(overlap.utc_offset_minutes, -240);
        assert_eq!(overlap.not_chosen.unwrap().format("%H:%M").to_string(), "06:30");
        assert!(plan.departures[0].not_chosen.is_none());
    }

    /// New York springs forward on 2026-03-08: 02:30 moves to 03:00 and merges with a 03:00 start.
    #[test]
    fn a_shifted_start_merges_with_the_start_it_lands_on() {
        let mem = world();
        in_zone(&mem, "America/New_York");
        let args = pattern_args(&[0], &["02:30:00", "03:00:00"], "2026-03-08", "2026-03-08");
        let plan = args.preview(&mem, &ctx(Role::Manager)).unwrap();
        let rows: Vec<_> = plan.departures.iter().map(row).collect();
        assert_eq!(
            rows,
            [("2026-03-08".to_string(), "03:00".to_string(), "2026-03-08 07:00".to_string(), DstResolution::Exact)]
        );
    }

    #[test]
    fn the_plan_marks_what_exists_and_the_save_skips_it() {
        let mem = world();
        let args = pattern_args(&[5], &["09:00:00"], "2026-07-03", "2026-07-17");
        let plan = args.preview(&mem, &ctx(Role::Manager)).unwrap();
        // Fridays 3, 10 (the fixture's departure) and 17 July.
        let exists: Vec<bool> = plan.departures.iter().map(|p| p.exists).collect();
        assert_eq!(exists, [false, true, false]);
        assert_eq!(plan.to_create().count(), 2);
        let mut with_cap = args.clone();
        with_cap.capacity = Some(25);
        let plan = with_cap.preview(&mem, &ctx(Role::Manager)).unwrap();
        assert!(plan.to_create().all(|d| d.capacity == 25));
        with_cap.capacity = Some(0);
        let e = with_cap.preview(&mem, &ctx(Role::Manager)).unwrap_err();
        assert!(matches!(e, ApplyError::Rejected(Rejection::Invalid(ref f)) if f.field == "capacity"), "{e:?}");
    }

    #[test]
    fn plan_refusals_name_their_field() {
        let mem = world();
        let field = |args: GenerateDeparturesV1| match args.preview(&mem, &ctx(Role::Manager)) {
            Err(ApplyError::Rejected(Rejection::Invalid(f))) => f.field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(pattern_args(&[1], &[], "2026-07-06", "2026-07-20")), "pattern.start_times");
        assert_eq!(field(pattern_args(&[9], &["09:00:00"], "2026-07-06", "2026-07-20")), "pattern.days_of_week");
        assert_eq!(field(pattern_args(&[1], &["09:00:00"], "2026-07-20", "2026-07-06")), "until");
        assert_eq!(field(pattern_args(&[1], &["09:00:00"], "2026-01-01", "2030-01-01")), "until");
    }

    fn one_off(date: &str, time: &str) -> Value {
        json!({"tour_id": TOUR, "variant_id": VARIANT, "local_date": date, "local_time": time, "notes": " Private group "})
    }

    #[test]
    fn a_one_off_departure_is_planned_like_a_generated_one() {
        let mem = world();
        let ch = run_write(&mem, "create_departure.v1", one_off("2026-07-11", "10:30:00"), Role::Manager);
        let [Change::PutDeparture(d)] = &ch[..] else { panic!("{ch:?}") };
        assert_eq!(d.id, "v-1@2026-07-11T10:30:00");
        assert_eq!((d.capacity, d.notes.as_str(), d.status), (10, "Private group", DepartureStatus::Open));
        assert_eq!(d.starts_at.format("%H:%M").to_string(), "09:30", "BST");
        // The same start again, or the fixture's existing one, is refused at the time field.
        assert_eq!(run_err(&mem, "create_departure.v1", one_off("2026-07-11", "10:30:00"), Role::Manager), "CONFLICT");
        assert_eq!(run_err(&mem, "create_departure.v1", one_off("2026-07-10", "09:00:00"), Role::Manager), "CONFLICT");
        assert_eq!(run_err(&mem, "create_departure.v1", one_off("2026-05-01", "09:00:00"), Role::Manager), "INVALID");
        assert_eq!(
            run_err(&mem, "create_departure.v1", one_off("2026-07-12", "09:00:00"), Role::Guide),
            "NOT_AUTHORIZED"
        );
        let big = patch(one_off("2026-07-12", "09:00:00"), &[("capacity", json!(10_001))]);
        assert_eq!(run_err(&mem, "create_departure.v1", big, Role::Manager), "INVALID");
        // A start in London's spring-forward gap moves to the end of the gap.
        let gap = CreateDepartureV1 {
            tour_id: TOUR.into(),
            variant_id: VARIANT.into(),
            local_date: NaiveDate::from_ymd_opt(2027, 3, 28).unwrap(),
            local_time: hm(1, 30),
            capacity: None,
            notes: String::new(),
        };
        let planned = gap.preview(&mem, &ctx(Role::Manager)).unwrap();
        assert_eq!(planned.departure.local_time, hm(2, 0));
        assert_eq!(planned.dst, DstResolution::ShiftedForward { requested: hm(1, 30) });
    }

    #[test]
    fn notes_are_set_and_cleared() {
        let mem = world();
        let set = |n: &str| json!({"departure_id": DEPARTURE, "notes": n});
        let ch =
            run_write(&mem, "set_departure_notes.v1", set("  Meet at the north gate\nBring water "), Role::Manager);
        assert!(matches!(&ch[..], [Change::PutDeparture(d)] if d.notes == "Meet at the north gate\nBring water"));
        assert!(
            run_ok(&mem, "set_departure_notes.v1", set("Meet at the north gate\nBring water"), Role::Manager)
                .is_empty()
        );
        assert!(
            matches!(&run_ok(&mem, "set_departure_notes.v1", set(""), Role::Manager)[..], [Change::PutDeparture(d)] if d.notes.is_empty())
        );
        assert_eq!(run_err(&mem, "set_departure_notes.v1", set(&"x".repeat(2001)), Role::Manager), "INVALID");
        assert_eq!(run_err(&mem, "set_departure_notes.v1", set("a\u{0}b"), Role::Manager), "INVALID");
        assert_eq!(run_err(&mem, "set_departure_notes.v1", set("x"), Role::Guide), "NOT_AUTHORIZED");
        let missing = json!({"departure_id": "d-404", "notes": "x"});
        assert_eq!(run_err(&mem, "set_departure_notes.v1", missing, Role::Manager), "NOT_FOUND");
    }

    #[test]
    fn capacity_below_booked_needs_a_managers_reason_and_is_audited() {
        let mem = world();
        mem.put_departure(Departure { booked_count: 6, ..departure() });
        let set =
            |c: u32, reason: Option<&str>| json!({"departure_id": DEPARTURE, "capacity": c, "override_reason": reason});
        // Without a reason: the domain's reason.
        assert_eq!(run_err(&mem, "set_departure_capacity.v1", set(4, None), Role::Manager), "CAPACITY_BELOW_BOOKED");
        assert_eq!(
            run_err(&mem, "set_departure_capacity.v1", set(4, Some("  ")), Role::Manager),
            "CAPACITY_BELOW_BOOKED"
        );
        // A role that may not sell past capacity may not go below what is sold either.
        assert_eq!(
            run_err(&mem, "set_departure_capacity.v1", set(4, Some("Smaller boat")), Role::Admin),
            "NOT_AUTHORIZED"
        );
        assert_eq!(
            run_err(&mem, "set_departure_capacity.v1", set(4, Some(&"x".repeat(501))), Role::Manager),
            "INVALID"
        );
        let ch = run_write(&mem, "set_departure_capacity.v1", set(4, Some(" Smaller boat ")), Role::Manager);
        let [Change::PutDeparture(d), Change::Audit(a)] = &ch[..] else { panic!("{ch:?}") };
        assert_eq!((d.capacity, d.booked_count, d.status), (4, 6, DepartureStatus::Full));
        assert_eq!((a.action.as_str(), a.actor_id.as_str()), ("departure.capacity_below_booked", STAFF));
        assert_eq!(
            a.detail,
            json!({"capacity": 4, "previous_capacity": 10, "booked": 6, "over_by": 2, "reason": "Smaller boat"})
        );
        // A reason where none is needed is not audited.
        let ch = run_ok(&mem, "set_departure_capacity.v1", set(8, Some("Bigger boat")), Role::Admin);
        assert!(matches!(&ch[..], [Change::PutDeparture(d)] if d.capacity == 8 && d.status == DepartureStatus::Open));
        // Old intents without the field still decode.
        let old = json!({"departure_id": DEPARTURE, "capacity": 7});
        assert!(Mutation::decode("set_departure_capacity.v1", &old).is_ok());
    }
}

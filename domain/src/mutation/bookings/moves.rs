//! `move_booking.v1`: a booking moves to another departure of the same tour (a reschedule).
//!
//! The same lines, participants, promo code and manual discount, re-priced on the target
//! departure now; the seats are taken on the target under its row lock (as `create_booking`
//! takes them, so a move and a sale race for the last seat the same way) and given back on the
//! departure it leaves. The price difference is the booking's: a higher price leaves a balance
//! due the customer pays like any balance, a lower one below what was paid queues a refund of
//! the money kept above the new price. A confirmed booking becomes "modified".
//!
//! Refused, with the field at fault: a target that is the same departure, of another tour,
//! started, cancelled, closed or sold out (`to_departure_id`); a booking cancelled, completed,
//! checked in, or whose departure has started (`booking_id`, `from_departure_id`). A customer
//! moving their own booking on the website is held to the reschedule cut-off
//! ([`MOVE_CUTOFF_HOURS`] before the departure they leave) and to the tour's cancellation
//! policy: they may move only while cancelling would refund everything, so a move is never a
//! way around a cancellation fee. Staff are held to neither.

use chrono::Duration;

use super::*;
use crate::cancellation::CancelledBy;
use crate::ledger::Balance;
use crate::pricing::{Adjustment, DiscountKind};

/// A customer may reschedule until this many hours before the departure they leave.
pub const MOVE_CUTOFF_HOURS: i64 = 24;

/// The audit action of a move.
pub const BOOKING_MOVED: &str = "booking.moved";

/// Arguments of `move_booking.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveBookingV1 {
    pub booking_id: String,
    pub tour_id: String,
    /// The departure the booking is on now (a replay after the move changes nothing).
    pub from_departure_id: String,
    pub to_departure_id: String,
    /// The booking's promo code, when it has one: kept on the new departure (not a new use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promo_code: Option<String>,
    /// The new total the person moving it was shown; a different price refuses the move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_total: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overbook: Option<OverbookArgs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The money side of a move: old and new price, and what the customer owes or is owed after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveMoney {
    pub old_total: Money,
    pub new_total: Money,
    /// `new_total − old_total` (minor units, may be negative).
    pub difference: Money,
    /// What the customer owes after the move (never below zero).
    pub balance_due: Money,
    /// What is owed back after the move: money kept above the new price.
    pub refund_due: Money,
}

/// What a move of `old` to a price of `new_total` does to its money.
pub fn move_money(old: &Booking, new_total: Money) -> MoveMoney {
    let old_total = old.pricing.total;
    let after =
        Balance { total: new_total, adjusted: 0, paid: old.paid_amount.amount, refunded: old.refunded_amount.amount };
    MoveMoney {
        old_total,
        new_total,
        difference: Money::new(new_total.amount.saturating_sub(old_total.amount), new_total.currency),
        balance_due: after.balance_due(),
        refund_due: after.refund_due(),
    }
}

/// The lines a booking was sold with, as a request: the same tiers, counts and named people.
fn lines_of(b: &Booking) -> Vec<LineArgs> {
    let counts: Vec<(String, u32)> =
        b.pricing.line_items.iter().map(|l| (l.pricing_tier_id.clone(), l.quantity)).collect();
    lines_with_people(b, &counts)
}

/// Lines of `counts` (tier, how many) on `b`, each keeping the people already named on the
/// booking for its tier, as many as still fit: a move keeps them all, a modification those its
/// new counts leave room for.
pub fn lines_with_people(b: &Booking, counts: &[(String, u32)]) -> Vec<LineArgs> {
    counts
        .iter()
        .map(|(tier_id, quantity)| LineArgs {
            tier_id: tier_id.clone(),
            quantity: *quantity,
            participants: b
                .participants
                .iter()
                .filter(|p| &p.pricing_tier_id == tier_id)
                .take(*quantity as usize)
                .map(|p| ParticipantArgs {
                    first_name: p.first_name.clone(),
                    last_name: p.last_name.clone(),
                    age: p.age,
                })
                .collect(),
        })
        .collect()
}

/// The manual discount granted on a booking, kept as the amount it took off (a move keeps it, a
/// modification unless staff change it).
pub fn manual_discount_of(b: &Booking) -> Option<ManualDiscount> {
    b.pricing
        .discounts
        .iter()
        .find(|d| d.kind == DiscountKind::Manual)
        .map(|d| ManualDiscount { description: d.description.clone(), discount: Adjustment::Fixed(d.amount) })
}

fn conflict(field: &str, message: impl Into<String>) -> ApplyError {
    Rejection::conflict(field, message).into()
}

impl Mutator for MoveBookingV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let tour_id = norm_ref(&self.tour_id);
        let mut keys = vec![
            ReadKey::Booking(norm_ref(&self.booking_id)),
            ReadKey::Departure(norm_ref(&self.from_departure_id)),
            ReadKey::Departure(norm_ref(&self.to_departure_id)),
            ReadKey::PricingCatalog(tour_id.clone()),
            ReadKey::CancellationPolicy(tour_id),
        ];
        if let Ok(Some(code)) = promo_code_of(self.promo_code.as_deref()) {
            keys.push(ReadKey::PromoCode(code));
        }
        keys.push(ReadKey::LedgerOfBooking(norm_ref(&self.booking_id)));
        keys
    }

    /// Both departures (seats) and the booking are locked; prices, the policy and the code are
    /// only consulted (a move is not a new use of the code); the ledger is read under the
    /// booking's lock.
    fn locks(&self, key: &ReadKey) -> bool {
        !matches!(
            key,
            ReadKey::PricingCatalog(_)
                | ReadKey::CancellationPolicy(_)
                | ReadKey::PromoCode(_)
                | ReadKey::LedgerOfBooking(_)
        )
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::BookingsWrite, "move bookings")?;
        let booking_id = validate::row_ref("booking_id", &self.booking_id)?;
        let tour_id = validate::row_ref("tour_id", &self.tour_id)?;
        let from_id = validate::row_ref("from_departure_id", &self.from_departure_id)?;
        let to_id = validate::row_ref("to_departure_id", &self.to_departure_id)?;
        let reason = validate::opt_text("reason", self.reason.as_deref(), 500)?;
        if from_id == to_id {
            return Err(FieldError::new("to_departure_id", "is the departure the booking is already on").into());
        }
        let manager_override = overbook_override(ctx, self.overbook.as_ref())?;

        let old = view.booking(&booking_id)?.ok_or_else(|| Rejection::not_found("booking", &booking_id))?;
        if old.tour_id != tour_id {
            return Err(FieldError::new("tour_id", "is not the booking's tour").into());
        }
        if old.departure_id == to_id {
            // A replay of a move that is already there.
            return Ok(vec![]);
        }
        if old.departure_id != from_id {
            return Err(FieldError::new("from_departure_id", "is not the booking's departure").into());
        }
        if !old.status.holds_seats() {
            return Err(conflict("booking_id", format!("a {} booking cannot be moved", old.status)));
        }
        if old.checked_in > 0 || old.no_shows > 0 {
            return Err(conflict("booking_id", "attendance is recorded on this booking; it cannot be moved"));
        }
        let mut from = departure_of(view, &from_id, &tour_id)?;
        if from.starts_at <= ctx.now {
            return Err(conflict("from_departure_id", "the booking's departure has already started"));
        }
        let mut to = view.departure(&to_id)?.ok_or_else(|| Rejection::not_found("departure", &to_id))?;
        if to.tour_id != tour_id {
            return Err(FieldError::new("to_departure_id", "is a departure of another tour").into());
        }
        if to.starts_at <= ctx.now {
            return Err(conflict("to_departure_id", "that departure has already started"));
        }
        if ctx.role == Role::Customer {
            customer_may_move(view, ctx, &tour_id, &from)?;
        }

        let promo = match (promo_code_of(self.promo_code.as_deref())?, &old.pricing.promotional_code_id) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(FieldError::new(
                    "promo_code",
                    "the booking used a promo code; name it to keep its discount",
                )
                .into());
            }
            (Some(code), kept) => {
                let mut found =
                    view.promo_code(&code)?.ok_or(Rejection::PromoRefused { refusal: PromoRefusal::NotFound })?;
                if kept.as_deref() != Some(found.id.as_str()) {
                    return Err(FieldError::new("promo_code", "is not the code this booking used").into());
                }
                // This booking's own use is already counted; keeping the code is not a new use.
                found.current_uses = found.current_uses.saturating_sub(1);
                Some(Promo { code: found, customer_uses: 0 })
            }
        };
        let lines = lines_of(&old);
        let people = participants(&lines)?;
        let manual = manual_discount_of(&old);
        let snapshot = price(
            view,
            ctx,
            &tour_id,
            &to,
            PriceRequest {
                lines: &lines,
                promo: promo.as_ref(),
                manual: manual.as_ref(),
                expected_total: self.expected_total,
            },
        )?;
        if snapshot.total.currency != old.pricing.total.currency {
            return Err(FieldError::new(
                "to_departure_id",
                format!(
                    "that departure is priced in {}, the booking in {}",
                    snapshot.total.currency, old.pricing.total.currency
                ),
            )
            .into());
        }

        let seats = old.seats_held();
        let outcome = match capacity::check_booking(&to, seats, manager_override.as_ref()) {
            Ok(o) => o,
            Err(capacity::CapacityError::CapacityExceeded { seats_left, requested, .. }) => {
                return Err(conflict(
                    "to_departure_id",
                    if seats_left == 0 {
                        "that departure is sold out".to_string()
                    } else {
                        format!("only {seats_left} seats left on that departure, {requested} needed")
                    },
                ));
            }
            Err(capacity::CapacityError::NotBookable { status }) => {
                return Err(conflict("to_departure_id", format!("that departure is {status} and not taking bookings")));
            }
            Err(e) => return Err(e.into()),
        };
        take_seats(&mut to, &outcome);
        release_seats(&mut from, seats);

        let entries = view.ledger_of_booking(&booking_id)?;
        let refund_reason = reason.clone().unwrap_or_else(|| {
            format!("booking moved to {} {}: the new price is lower", to.local_date, to.local_time.format("%H:%M"))
        });
        let mut b = old.clone();
        b.departure_id = to.id.clone();
        b.variant_id = to.variant_id.clone();
        b.pricing = snapshot;
        b.participants = people;
        b.status = modified_status(old.status)?;
        let Repriced { money, refund, by_hand } = repriced(&mut b, &old, &entries, refund_reason, ctx);
        b.overbook = match &outcome {
            CapacityOutcome::Overbooked { by, .. } => Some(by.clone()),
            CapacityOutcome::Within { .. } => None,
        };
        b.updated_at = ctx.now;

        let audit = AuditEntry::of_booking(
            ctx,
            BOOKING_MOVED,
            &b,
            json!({
                "reference": b.reference_number.to_string(),
                "from_departure_id": from.id,
                "to_departure_id": to.id,
                "from_starts_at": from.starts_at,
                "to_starts_at": to.starts_at,
                "seats": seats,
                "currency": money.new_total.currency,
                "old_total": money.old_total.amount,
                "new_total": money.new_total.amount,
                "difference": money.difference.amount,
                "balance_due": money.balance_due.amount,
                "refund_due": money.refund_due.amount,
                "refund_by_hand": by_hand.amount,
                "reason": reason,
            }),
        );
        let overbooked = overbook_audit(ctx, &to, &booking_id, &outcome);
        let mut changes =
            vec![Change::PutDeparture(from), Change::PutDeparture(to), Change::PutBooking(b), Change::Audit(audit)];
        changes.extend(overbooked);
        changes.extend(refund.map(Change::RequestRefund));
        Ok(changes)
    }
}

/// The reschedule rules a customer is held to: the cut-off before the departure they leave, and
/// the tour's cancellation policy (only while a cancellation would refund everything).
fn customer_may_move(
    view: &dyn ReadView,
    ctx: &MutationCtx,
    tour_id: &str,
    from: &Departure,
) -> Result<(), ApplyError> {
    if from.starts_at - ctx.now < Duration::hours(MOVE_CUTOFF_HOURS) {
        return Err(conflict(
            "from_departure_id",
            format!("bookings can be rescheduled online until {MOVE_CUTOFF_HOURS} hours before the departure"),
        ));
    }
    if let Some(policy) = view.cancellation_policy(tour_id)? {
        let zero = Money::zero(crate::money::Currency::USD);
        let decision = policy
            .evaluate(from.starts_at, ctx.now, zero, zero, CancelledBy::Customer)
            .map_err(|e| FieldError::new("cancellation_policy", e.to_string()))?;
        if decision.refund_percentage < 100 {
            return Err(conflict(
                "cancellation_policy",
                "under the tour's cancellation policy this booking can no longer be rescheduled online; \
                 please contact us",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::{NaiveDate, TimeZone};
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::super::super::testkit::*;
    use super::*;
    use crate::money::Percent;
    use crate::pricing::SeasonalAdjustment;

    const LATER: &str = "v-1@2026-07-12T09:00:00";
    const B: &str = "b-move";

    fn later(booked: u32, capacity: u32) -> Departure {
        Departure {
            id: LATER.into(),
            local_date: NaiveDate::from_ymd_opt(2026, 7, 12).unwrap(),
            starts_at: Utc.with_ymd_and_hms(2026, 7, 12, 8, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2026, 7, 12, 10, 0, 0).unwrap(),
            capacity,
            booked_count: booked,
            status: if booked >= capacity { DepartureStatus::Full } else { DepartureStatus::Open },
            ..departure()
        }
    }

    /// A booking of `pax` adults on [`DEPARTURE`], `paid` paid, and a later departure (12 July)
    /// on which a season adds `season_percent`.
    fn world_with(pax: u32, status: BookingStatus, paid: i64, season_percent: i64) -> Mem {
        let mem = world();
        let payment = PaymentStatus::from_amounts(5000 * i64::from(pax), paid, 0);
        mem.put_booking(booking(B, pax, status, payment, paid));
        mem.put_departure(Departure { booked_count: pax, ..departure() });
        mem.put_departure(later(0, 10));
        mem.state.borrow_mut().catalogs.get_mut(TOUR).unwrap().seasons.push(SeasonalAdjustment {
            id: "s-1".into(),
            name: "Peak".into(),
            start_date: NaiveDate::from_ymd_opt(2026, 7, 12).unwrap(),
            end_date: NaiveDate::from_ymd_opt(2026, 7, 12).unwrap(),
            adjustment: Adjustment::Percentage(Percent::whole(season_percent)),
            priority: 1,
        });
        mem
    }

    fn args() -> Value {
        json!({"booking_id": B, "tour_id": TOUR, "from_departure_id": DEPARTURE, "to_departure_id": LATER})
    }

    fn field_of(mem: &Mem, a: Value, role: Role) -> String {
        match run(mem, "move_booking.v1", a.clone(), role) {
            Err(ApplyError::Rejected(Rejection::Conflict { field, .. })) => field,
            Err(ApplyError::Rejected(Rejection::Invalid(f))) => f.field,
            other => panic!("{a}: expected a refusal with a field, got {other:?}"),
        }
    }

    #[test]
    fn a_dearer_date_moves_the_seats_reprices_and_leaves_a_balance_due() {
        let mem = world_with(2, BookingStatus::Confirmed, 10_000, 20);
        let changes = run_write(&mem, "move_booking.v1", args(), Role::Manager);
        let b = mem.get_booking(B);
        assert_eq!((b.departure_id.as_str(), b.status), (LATER, BookingStatus::Modified));
        assert_eq!(b.pricing.total, usd(12_000));
        assert_eq!(b.payment_status, PaymentStatus::Partial);
        let s = mem.state.borrow();
        assert_eq!(s.departures[DEPARTURE].booked_count, 0);
        assert_eq!(s.departures[LATER].booked_count, 2);
        assert!(s.refunds.is_empty());
        let audit = s.audit.iter().find(|a| a.action == BOOKING_MOVED).unwrap();
        assert_eq!(
            (audit.detail["difference"].clone(), audit.detail["balance_due"].clone()),
            (json!(2000), json!(2000))
        );
        assert_eq!(
            move_money(&booking(B, 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000), usd(12_000)).balance_due,
            usd(2000)
        );
        drop(s);
        // A replay finds the booking already there and changes nothing.
        assert_eq!(run_ok(&mem, "move_booking.v1", args(), Role::Manager), vec![]);
        assert!(changes.iter().any(|c| matches!(c, Change::Audit(a) if a.action == BOOKING_MOVED)));
    }

    #[test]
    fn a_cheaper_date_queues_a_refund_of_what_was_paid_above_the_new_price() {
        let mem = world_with(2, BookingStatus::Confirmed, 10_000, -30);
        run_write(&mem, "move_booking.v1", args(), Role::Manager);
        let s = mem.state.borrow();
        assert_eq!(s.bookings[B].pricing.total, usd(7000));
        assert_eq!(s.refunds.len(), 1);
        assert_eq!(s.refunds[0].amount, usd(3000));
        // An unpaid booking moved down owes less and gets nothing back.
        drop(s);
        let mem = world_with(2, BookingStatus::Pending, 0, -30);
        run_write(&mem, "move_booking.v1", args(), Role::Manager);
        assert!(mem.state.borrow().refunds.is_empty());
        assert_eq!(mem.get_booking(B).status, BookingStatus::Pending);
    }

    #[test]
    fn refusals_name_their_field_and_write_nothing() {
        let mem = world_with(3, BookingStatus::Confirmed, 15_000, 0);
        mem.put_departure(later(8, 10));
        assert_eq!(field_of(&mem, args(), Role::Manager), "to_departure_id", "2 seats left, 3 needed");
        mem.put_departure(later(10, 10));
        assert_eq!(field_of(&mem, args(), Role::Manager), "to_departure_id", "sold out");
        // A manager may overbook it, with a reason, audited.
        let over = patch(args(), &[("overbook", json!({"reason": "Family reunion"}))]);
        let changes = run_ok(&mem, "move_booking.v1", over, Role::Manager);
        assert!(changes.iter().any(|c| matches!(c, Change::Audit(a) if a.action == "booking.overbooked")));
        mem.put_departure(Departure { status: DepartureStatus::Cancelled, ..later(0, 10) });
        assert_eq!(field_of(&mem, args(), Role::Manager), "to_departure_id", "cancelled");
        mem.put_departure(Departure { starts_at: now(), ..later(0, 10) });
        assert_eq!(field_of(&mem, args(), Role::Manager), "to_departure_id", "started");
        mem.put_departure(later(0, 10));
        assert_eq!(
            field_of(&mem, patch(args(), &[("to_departure_id", DEPARTURE.into())]), Role::Manager),
            "to_departure_id"
        );
        assert_eq!(
            field_of(&mem, patch(args(), &[("from_departure_id", "v-1@2026-07-11T09:00:00".into())]), Role::Manager),
            "from_departure_id"
        );
        assert_eq!(field_of(&mem, patch(args(), &[("tour_id", "t-2".into())]), Role::Manager), "tour_id");
        let stale = patch(args(), &[("expected_total", json!({"amount": 1, "currency": "USD"}))]);
        assert_eq!(run_err(&mem, "move_booking.v1", stale, Role::Manager), "PRICE_CHANGED");
        let mut checked = mem.get_booking(B);
        checked.checked_in = 1;
        mem.put_booking(checked);
        assert_eq!(field_of(&mem, args(), Role::Manager), "booking_id");
        mem.put_booking(booking(B, 3, BookingStatus::Cancelled, PaymentStatus::Paid, 15_000));
        assert_eq!(field_of(&mem, args(), Role::Manager), "booking_id");
        // A guide may not move bookings.
        mem.put_booking(booking(B, 3, BookingStatus::Confirmed, PaymentStatus::Paid, 15_000));
        assert_eq!(run_err(&mem, "move_booking.v1", args(), Role::Guide), "NOT_AUTHORIZED");
        let s = mem.state.borrow();
        assert!(s.audit.is_empty() && s.refunds.is_empty());
        assert_eq!((s.departures[DEPARTURE].booked_count, s.departures[LATER].booked_count), (3, 0));
    }

    #[test]
    fn a_customer_is_held_to_the_cut_off_and_the_policy_staff_are_not() {
        let mem = world_with(1, BookingStatus::Confirmed, 5000, 0);
        let at = |now| MutationCtx { now, ..ctx(Role::Customer) };
        let run_at = |now| run_ctx(&mem, "move_booking.v1", args(), &at(now));
        let field = |r: Result<Vec<Change>, ApplyError>| match r {
            Err(ApplyError::Rejected(Rejection::Conflict { field, .. })) => field,
            other => panic!("{other:?}"),
        };
        // Departure 10 July 08:00 UTC; the policy refunds everything up to a week before.
        let starts = departure().starts_at;
        assert!(run_at(starts - Duration::days(8)).is_ok());
        assert_eq!(field(run_at(starts - Duration::days(3))), "cancellation_policy");
        mem.state.borrow_mut().policies.clear();
        assert!(run_at(starts - Duration::days(3)).is_ok());
        assert_eq!(field(run_at(starts - Duration::hours(23))), "from_departure_id");
        // Staff may still move it the day before.
        assert!(
            run_ctx(
                &mem,
                "move_booking.v1",
                args(),
                &MutationCtx { now: starts - Duration::hours(2), ..ctx(Role::Manager) }
            )
            .is_ok()
        );
    }

    #[test]
    fn a_promo_code_is_kept_and_must_be_named() {
        let mem = world_with(2, BookingStatus::Confirmed, 9000, 0);
        let mut b = mem.get_booking(B);
        b.pricing.promotional_code_id = Some("promo-1".into());
        mem.put_booking(b);
        assert_eq!(field_of(&mem, args(), Role::Manager), "promo_code");
        let changes =
            run_write(&mem, "move_booking.v1", patch(args(), &[("promo_code", "summer10".into())]), Role::Manager);
        assert!(!changes.iter().any(|c| matches!(c, Change::IncrementPromoUses { .. })));
        assert_eq!(mem.get_booking(B).pricing.total, usd(9000));
        assert!(mem.state.borrow().refunds.is_empty());
    }

    proptest! {
        /// Whatever the sizes and seat counts, a move never creates or loses a seat: the seats
        /// the booking held leave one departure and arrive on the other, or nothing changes.
        #[test]
        fn seats_are_conserved(pax in 1u32..6, booked_from_extra in 0u32..5, booked_to in 0u32..12, capacity in 1u32..12) {
            let mem = world_with(pax, BookingStatus::Confirmed, 0, 0);
            let from_booked = pax + booked_from_extra;
            mem.put_departure(Departure { booked_count: from_booked, capacity: 20, ..departure() });
            let booked_to = booked_to.min(capacity);
            mem.put_departure(later(booked_to, capacity));
            let before = from_booked + booked_to;
            let result = run(&mem, "move_booking.v1", args(), Role::Manager);
            if let Ok(changes) = &result {
                for c in changes.clone() { mem.write(c); }
            }
            let s = mem.state.borrow();
            let (f, t) = (s.departures[DEPARTURE].booked_count, s.departures[LATER].booked_count);
            prop_assert_eq!(f + t, before);
            prop_assert!(t <= capacity || result.is_err());
            match result {
                Ok(_) => prop_assert_eq!((f, t, s.bookings[B].departure_id.as_str()), (booked_from_extra, booked_to + pax, LATER)),
                Err(_) => prop_assert_eq!((f, t, booked_to + pax > capacity), (from_booked, booked_to, true)),
            }
        }
    }
}

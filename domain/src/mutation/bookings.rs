//! Bookings: create, modify, cancel, and attendance at the meeting point.
//!
//! # Reference numbers
//! A booking's `BK-YYYY-XXXXXX` is derived from `reference_year` and `reference_entropy` in the
//! arguments: the desk draws the entropy from the OS when the booking is made, so the desk's
//! optimistic row and the server's row carry the same reference and the customer can be given
//! it offline. The year is the client's year of booking (checked to be within a year of the
//! deciding clock). Because `reads()` must name the reference rows before anything is read,
//! [`REFERENCE_CANDIDATES`] references are derived from the entropy and declared; the first
//! free one is used, so a collision costs nothing and a replay picks the same one.
//!
//! # Overbooking
//! Selling past capacity needs both the role's [`Permission::Overbook`] and an explicit
//! `overbook: {reason}` in the intent. The override is attributed to the signed-in user
//! ([`MutationCtx::user_id`]), recorded on the booking and written as a `booking.overbooked`
//! [`AuditEntry`] — only when capacity was actually exceeded.
//!
//! # Attendance
//! Check-ins and no-shows are facts keyed by a client nonce, merged as a set: a replay finds its
//! own fact and changes nothing, and per participant the latest fact wins (at equal times a
//! check-in beats a no-show). The booking's `checked_in`/`no_shows` counts are a function of that
//! set, so facts arriving in any order give the same booking. They never move the booking's
//! status: a state machine is order-sensitive, and completing a departure decides that.
//!
//! # Layout
//! One file per mutation (`create`, `modify`, `cancel`, `attendance`); this file holds what they
//! share: the line and participant arguments, pricing a request, the override and seat counting.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    ApplyError, AuditEntry, Change, MutationCtx, Mutator, ReadKey, ReadView, Rejection, StoreFault, norm_id, norm_ref,
    require,
};
use crate::cancellation::{CancellationPolicy, CancelledBy, RefundOverride};
use crate::capacity::{self, CapacityOutcome, ManagerOverride};
use crate::entities::{
    Booking, BookingSource, CancellationRecord, CheckIn, CheckInKind, Departure, Participant, RefundRequest,
};
use crate::hlc::MAX_CLOCK_SKEW;
use crate::ledger;
use crate::money::Money;
use crate::pricing::{
    self, LineRequest, ManualDiscount, PricingSnapshot, PromoApplication, PromoOutcome, PromoRefusal,
};
use crate::reference::ReferenceNumber;
use crate::roles::{Permission, Role};
use crate::status::{BookingStatus, DepartureStatus, PaymentStatus, StateMachine};
use crate::validate::{self, FieldError};

/// Declares the arguments of a mutation that prices lines on a departure (`create_booking`,
/// `modify_booking`): the version's leading fields, the tour and departure, its own fields,
/// the lines with the promo code and manual discount, its middle fields, the total the desk
/// showed and the manager's overbook, then its trailing fields, in that order on the wire.
macro_rules! priced_booking_args {
    (
        $(#[$meta:meta])* pub struct $name:ident {
            $($head:tt)*
        } on_departure {
            $($who:tt)*
        } priced {
            $($mid:tt)*
        } checked {
            $($tail:tt)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($head)*
            pub tour_id: String,
            pub departure_id: String,
            $($who)*
            pub lines: Vec<LineArgs>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub promo_code: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub manual_discount: Option<ManualDiscount>,
            $($mid)*
            /// The total the desk showed; if the authoritative price differs the change is
            /// refused rather than charged at a price nobody agreed to.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub expected_total: Option<Money>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub overbook: Option<OverbookArgs>,
            $($tail)*
        }

        impl $name {
            /// What [`price`] is asked: these lines, the code found for them, the (checked) discount and
            /// the total the desk showed.
            fn price_request<'a>(
                &'a self,
                promo: Option<&'a Promo>,
                manual: Option<&'a ManualDiscount>,
            ) -> PriceRequest<'a> {
                PriceRequest {
                    lines: &self.lines,
                    promo,
                    manual,
                    expected_total: self.expected_total,
                }
            }
        }
    };
}

mod attendance;
mod cancel;
mod create;
mod modify;
mod moves;

pub use attendance::{CheckInV1, MarkNoShowV1, attendance, attendance_by_participant};
pub(super) use cancel::cancel_one;
pub use cancel::{
    CancelBookingV1, ExpireHoldV1, GIFT_CARD_GIVEN_BACK, REFUND_OVERRIDDEN, RedemptionArgs, RefundOverrideArgs,
    given_back_id,
};
pub(crate) use create::SeatSource;
pub use create::{CreateBookingV1, REFERENCE_CANDIDATES, reference_candidates};
pub use modify::{BOOKING_MODIFIED, ModifyBookingV1};
pub use moves::{
    BOOKING_MOVED, MOVE_CUTOFF_HOURS, MoveBookingV1, MoveMoney, lines_with_people, manual_discount_of, move_money,
};

/// A participant's details as typed at the desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticipantArgs {
    pub first_name: String,
    pub last_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age: Option<u32>,
}

/// One line of a booking: a tier, how many, and (optionally) who.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineArgs {
    pub tier_id: String,
    pub quantity: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<ParticipantArgs>,
}

/// A manager's request to sell past capacity. The manager is whoever is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverbookArgs {
    pub reason: String,
}

/// The request's promotional code, normalised; `None` when none (or a blank one) was given.
/// `reads()` declares a lookup only for a code this accepts, so text no code can be (a NUL, say)
/// is refused by `apply` with the field named instead of reaching a store.
fn promo_code_of(code: Option<&str>) -> Result<Option<String>, FieldError> {
    Ok(code.map(|c| crate::pricing::normalize_promo_code("promo_code", c)).transpose()?.flatten())
}

fn participants(lines: &[LineArgs]) -> Result<Vec<Participant>, FieldError> {
    validate::booking_lines(&lines.iter().map(|l| l.quantity).collect::<Vec<_>>())?;
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.participants.len() > l.quantity as usize {
            return Err(FieldError::new(format!("lines[{i}].participants"), "more names than participants"));
        }
        for (j, p) in l.participants.iter().enumerate() {
            let f = |name: &str| format!("lines[{i}].participants[{j}].{name}");
            if let Some(a) = p.age {
                validate::range_u32(&f("age"), a, 0, 120)?;
            }
            out.push(Participant {
                pricing_tier_id: l.tier_id.trim().to_string(),
                first_name: validate::text(&f("first_name"), &p.first_name, 100)?,
                last_name: validate::text(&f("last_name"), &p.last_name, 100)?,
                age: p.age,
            });
        }
    }
    Ok(out)
}

fn line_requests(lines: &[LineArgs]) -> Vec<LineRequest> {
    lines
        .iter()
        .map(|l| LineRequest {
            tier_id: l.tier_id.trim().to_string(),
            quantity: l.quantity,
            ages: l.participants.iter().filter_map(|p| p.age).collect(),
        })
        .collect()
}

fn overbook_override(
    ctx: &MutationCtx,
    overbook: Option<&OverbookArgs>,
) -> Result<Option<ManagerOverride>, ApplyError> {
    let Some(o) = overbook else { return Ok(None) };
    require(ctx, Permission::Overbook, "sell past capacity")?;
    let reason = validate::text("overbook.reason", &o.reason, 500)?;
    Ok(Some(ManagerOverride { manager_id: ctx.user_id.clone(), reason }))
}

fn overbook_audit(ctx: &MutationCtx, dep: &Departure, booking_id: &str, outcome: &CapacityOutcome) -> Option<Change> {
    let CapacityOutcome::Overbooked { booked_after, over_by, by } = outcome else { return None };
    Some(Change::Audit(AuditEntry {
        action: "booking.overbooked".into(),
        entity: "departure".into(),
        entity_id: dep.id.clone(),
        actor_id: by.manager_id.clone(),
        at: ctx.now,
        detail: json!({
            "booking_id": booking_id,
            "capacity": dep.capacity,
            "booked_after": booked_after,
            "over_by": over_by,
            "reason": by.reason,
        }),
    }))
}

/// What a quote needs beyond the catalog: the code the customer typed and its prior uses.
struct Promo {
    code: crate::pricing::PromoCode,
    customer_uses: u32,
}

/// What the customer asked for, as priced by [`price`].
struct PriceRequest<'a> {
    lines: &'a [LineArgs],
    promo: Option<&'a Promo>,
    manual: Option<&'a ManualDiscount>,
    expected_total: Option<Money>,
}

/// Prices the request on `dep` at `ctx.now`; a refused code refuses the intent (see
/// [`Rejection::PromoRefused`]), and a differing `expected_total` too.
fn price(
    view: &dyn ReadView,
    ctx: &MutationCtx,
    tour_id: &str,
    dep: &Departure,
    r: PriceRequest<'_>,
) -> Result<PricingSnapshot, ApplyError> {
    let catalog =
        view.pricing_catalog(tour_id)?.ok_or_else(|| Rejection::conflict("tour_id", "the tour has no prices yet"))?;
    let reqs = line_requests(r.lines);
    let quote = pricing::quote(
        &catalog,
        &pricing::QuoteRequest {
            variant_id: &dep.variant_id,
            departure_date: dep.local_date,
            departure_starts_at: dep.starts_at,
            quoted_at: ctx.now,
            lines: &reqs,
            promo: r.promo.map(|p| PromoApplication { code: &p.code, customer_uses: p.customer_uses }),
            manual_discount: r.manual,
        },
    )?;
    if let PromoOutcome::Refused { refusal } = quote.promo {
        return Err(Rejection::PromoRefused { refusal }.into());
    }
    if let Some(expected) = r.expected_total
        && expected != quote.snapshot.total
    {
        return Err(Rejection::PriceChanged { expected, actual: quote.snapshot.total }.into());
    }
    Ok(quote.snapshot)
}

fn departure_of(view: &dyn ReadView, id: &str, tour_id: &str) -> Result<Departure, ApplyError> {
    let dep = view.departure(id)?.ok_or_else(|| Rejection::not_found("departure", id))?;
    if dep.tour_id != tour_id {
        return Err(FieldError::new("tour_id", format!("departure {id} is not a departure of tour {tour_id}")).into());
    }
    Ok(dep)
}

fn take_seats(dep: &mut Departure, outcome: &CapacityOutcome) {
    dep.booked_count = outcome.booked_after();
    dep.status = capacity::status_for_occupancy(dep.status, dep.booked_count, dep.capacity);
}

/// A booking's status once changed (moved or modified): one not yet confirmed stays as it is,
/// a confirmed one becomes "modified"; any other (cancelled, completed …) cannot be changed.
fn modified_status(s: BookingStatus) -> Result<BookingStatus, ApplyError> {
    Ok(match s {
        BookingStatus::Pending | BookingStatus::Modified => s,
        s => s.transition(BookingStatus::Modified)?,
    })
}

/// The payment status of `b` re-priced from `old`: it follows the amounts (a disputed payment
/// stays disputed until Stripe settles it).
fn follow_payments(b: &mut Booking, old: &Booking) {
    if old.payment_status != PaymentStatus::Disputed {
        b.payment_status =
            PaymentStatus::from_amounts(b.pricing.total.amount, b.paid_amount.amount, b.refunded_amount.amount);
    }
}

/// A re-priced booking's money, and how a refund due goes back.
struct Repriced {
    money: MoveMoney,
    /// The card money owed back, sent to Stripe after commit (`None` when nothing goes back by card).
    refund: Option<RefundRequest>,
    /// The rest of the refund due, to give back by hand (cash, terminal, transfer): it stays a
    /// refund due on the booking until staff record it.
    by_hand: Money,
}

/// Re-prices `b` (a move or a modification of `old`, its new price set): what it does to its
/// money, a balance due or a refund due split as a cancellation's is ([`ledger::split_refund`])
/// over the booking's ledger `entries`.
///
/// The card part is sent to Stripe (after commit, by the refunds job) and counts as refunded
/// from this decision on (`refunded_amount`; Stripe's own figure, when it comes, is the same
/// and the larger is kept, see `payment::reconcile`), so a second change before Stripe answers
/// never asks for it again. The rest, owed by hand, stays a refund due on the booking. Only what
/// the change adds to the refund due is asked for: one already owed by hand is not asked twice.
/// The payment status follows the amounts.
fn repriced(
    b: &mut Booking,
    old: &Booking,
    entries: &[ledger::LedgerEntry],
    reason: String,
    ctx: &MutationCtx,
) -> Repriced {
    let money = move_money(old, b.pricing.total);
    let already = ledger::Balance::of_booking(old).refund_due().amount;
    let more = Money::new(money.refund_due.amount.saturating_sub(already).max(0), money.new_total.currency);
    let net_paid = old.paid_amount.amount.saturating_sub(old.refunded_amount.amount);
    let card_free = ledger::card_refundable(net_paid, entries).saturating_sub(already);
    let split = ledger::split_refund(more, card_free);
    let refund = (!split.card.is_zero()).then(|| RefundRequest {
        booking_id: old.id.clone(),
        amount: split.card,
        reason,
        requested_by: ctx.user_id.clone(),
        requested_at: ctx.now,
    });
    b.refunded_amount.amount = b.refunded_amount.amount.saturating_add(split.card.amount);
    follow_payments(b, old);
    Repriced { money, refund, by_hand: split.by_hand }
}

fn release_seats(dep: &mut Departure, seats: u32) {
    dep.booked_count = dep.booked_count.saturating_sub(seats);
    dep.status = capacity::status_for_occupancy(dep.status, dep.booked_count, dep.capacity);
}

#[cfg(test)]
mod tests;

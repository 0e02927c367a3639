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

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    ApplyError, AuditEntry, Change, MutationCtx, Mutator, ReadKey, ReadView, Rejection, norm_id, norm_ref, require,
};
use crate::cancellation::{CancellationPolicy, CancelledBy};
use crate::capacity::{self, CapacityOutcome, ManagerOverride};
use crate::entities::{
    Booking, BookingSource, CancellationRecord, CheckIn, CheckInKind, Departure, Participant, RefundRequest,
};
use crate::hlc::MAX_CLOCK_SKEW;
use crate::money::Money;
use crate::pricing::{
    self, LineRequest, ManualDiscount, PricingSnapshot, PromoApplication, PromoOutcome, PromoRefusal,
};
use crate::reference::ReferenceNumber;
use crate::roles::{Permission, Role};
use crate::status::{BookingStatus, PaymentStatus, StateMachine};
use crate::validate::{self, FieldError};

/// How many references are tried per booking. With 729 million suffixes per year, three
/// collisions in a row do not happen to an organization of any realistic size.
pub const REFERENCE_CANDIDATES: u64 = 3;

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

fn default_source() -> BookingSource {
    BookingSource::Admin
}

/// Arguments of `create_booking.v1`. `tour_id` and `departure_id` name the rows the price and
/// the seats come from; see the module docs for the reference and the override.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBookingV1 {
    pub id: String,
    pub tour_id: String,
    pub departure_id: String,
    pub customer_id: String,
    pub lines: Vec<LineArgs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promo_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_discount: Option<ManualDiscount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_requests: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dietary_restrictions: Option<String>,
    #[serde(default = "default_source")]
    pub source: BookingSource,
    pub reference_year: i32,
    pub reference_entropy: u64,
    /// The total the desk showed; if the authoritative price differs the booking is refused
    /// rather than charged at a price nobody agreed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_total: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overbook: Option<OverbookArgs>,
    /// Hold the seats unpaid for this long (clamped by `payment::hold_until`), after which the
    /// hold-expiry job releases them: a website sale waiting for its payment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_seconds: Option<u64>,
}

/// The request's promotional code, normalised; `None` when none (or a blank one) was given.
/// `reads()` declares a lookup only for a code this accepts, so text no code can be (a NUL, say)
/// is refused by `apply` with the field named instead of reaching a store.
fn promo_code_of(code: Option<&str>) -> Result<Option<String>, FieldError> {
    Ok(code.map(|c| crate::pricing::normalize_promo_code("promo_code", c)).transpose()?.flatten())
}

/// splitmix64: spreads one seed into independent-looking values, so candidate references do
/// not sit next to each other.
fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The references tried for a booking, in order. The first is generated from the entropy
/// itself, so a desk that shows `ReferenceNumber::generate(year, entropy)` shows the usual one.
pub fn reference_candidates(year: i32, entropy: u64) -> Vec<ReferenceNumber> {
    (0..REFERENCE_CANDIDATES)
        .filter_map(|i| ReferenceNumber::generate(year, if i == 0 { entropy } else { mix(entropy, i) }).ok())
        .collect()
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

fn release_seats(dep: &mut Departure, seats: u32) {
    dep.booked_count = dep.booked_count.saturating_sub(seats);
    dep.status = capacity::status_for_occupancy(dep.status, dep.booked_count, dep.capacity);
}

impl Mutator for CreateBookingV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let tour_id = norm_ref(&self.tour_id);
        let customer_id = norm_ref(&self.customer_id);
        let mut keys = vec![
            ReadKey::Tour(tour_id.clone()),
            ReadKey::PricingCatalog(tour_id),
            ReadKey::Departure(norm_ref(&self.departure_id)),
            ReadKey::Booking(norm_id(&self.id)),
            ReadKey::Customer(customer_id.clone()),
        ];
        keys.extend(
            reference_candidates(self.reference_year, self.reference_entropy)
                .into_iter()
                .map(|r| ReadKey::BookingReference(r.to_string())),
        );
        if let Ok(Some(code)) = promo_code_of(self.promo_code.as_deref()) {
            keys.push(ReadKey::PromoCode(code.clone()));
            keys.push(ReadKey::PromoUses { code, customer_id });
        }
        keys
    }

    /// The departure (seats), the customer (whose guide buckets follow the booking) and the
    /// promo code (its use counter) are locked; the tour and its prices are only consulted, and
    /// a reference number is guarded by the unique index.
    fn locks(&self, key: &ReadKey) -> bool {
        !matches!(key, ReadKey::Tour(_) | ReadKey::PricingCatalog(_) | ReadKey::BookingReference(_))
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::BookingsWrite, "make bookings")?;
        let id = validate::id("id", &self.id)?;
        let tour_id = validate::row_ref("tour_id", &self.tour_id)?;
        let departure_id = validate::row_ref("departure_id", &self.departure_id)?;
        let customer_id = validate::row_ref("customer_id", &self.customer_id)?;
        let people = participants(&self.lines)?;
        let special_requests = validate::opt_text("special_requests", self.special_requests.as_deref(), 2000)?;
        let dietary_restrictions =
            validate::opt_text("dietary_restrictions", self.dietary_restrictions.as_deref(), 2000)?;
        let year = ctx.now.year();
        if !(year - 1..=year + 1).contains(&self.reference_year) {
            return Err(FieldError::new("reference_year", format!("must be within a year of {year}")).into());
        }
        let manager_override = overbook_override(ctx, self.overbook.as_ref())?;

        if view.booking(&id)?.is_some() {
            return Err(Rejection::conflict("id", format!("booking {id} already exists")).into());
        }
        let tour = view.tour(&tour_id)?.ok_or_else(|| Rejection::not_found("tour", &tour_id))?;
        if !crate::offer::tour_on_sale(&tour) {
            return Err(
                Rejection::conflict("tour_id", format!("{} is {} and not on sale", tour.name, tour.status)).into()
            );
        }
        let mut dep = departure_of(view, &departure_id, &tour_id)?;
        view.customer(&customer_id)?.ok_or_else(|| Rejection::not_found("customer", &customer_id))?;
        let promo = match promo_code_of(self.promo_code.as_deref())? {
            None => None,
            Some(code) => {
                let found =
                    view.promo_code(&code)?.ok_or(Rejection::PromoRefused { refusal: PromoRefusal::NotFound })?;
                Some(Promo { code: found, customer_uses: view.promo_uses(&code, &customer_id)? })
            }
        };
        let request = PriceRequest {
            lines: &self.lines,
            promo: promo.as_ref(),
            manual: self.manual_discount.as_ref(),
            expected_total: self.expected_total,
        };
        let snapshot = price(view, ctx, &tour_id, &dep, request)?;
        let outcome = capacity::check_booking(&dep, snapshot.participants(), manager_override.as_ref())?;
        take_seats(&mut dep, &outcome);

        let mut reference = None;
        for candidate in reference_candidates(self.reference_year, self.reference_entropy) {
            if !view.booking_reference_taken(candidate.as_str())? {
                reference = Some(candidate);
                break;
            }
        }
        let reference_number = reference
            .ok_or_else(|| Rejection::conflict("reference_entropy", "every candidate reference is taken; retry"))?;

        let zero = Money::zero(snapshot.total.currency);
        let booking = Booking {
            id: id.clone(),
            organization_id: ctx.organization_id.clone(),
            reference_number,
            customer_id,
            departure_id,
            tour_id,
            variant_id: dep.variant_id.clone(),
            participants: people,
            status: BookingStatus::Pending,
            payment_status: PaymentStatus::Unpaid,
            paid_amount: zero,
            refunded_amount: zero,
            source: self.source,
            special_requests,
            dietary_restrictions,
            overbook: match &outcome {
                CapacityOutcome::Overbooked { by, .. } => Some(by.clone()),
                CapacityOutcome::Within { .. } => None,
            },
            cancellation: None,
            checked_in: 0,
            no_shows: 0,
            created_at: ctx.now,
            confirmed_at: None,
            cancelled_at: None,
            updated_at: ctx.now,
            pricing: snapshot,
        };
        let mut changes = Vec::new();
        if let Some(code_id) = &booking.pricing.promotional_code_id {
            changes.push(Change::IncrementPromoUses { promo_code_id: code_id.clone() });
        }
        changes.extend(overbook_audit(ctx, &dep, &id, &outcome));
        if let Some(seconds) = self.hold_seconds {
            changes.push(Change::HoldSeats {
                booking_id: id.clone(),
                until: crate::payment::hold_until(ctx.now, seconds),
            });
        }
        changes.insert(0, Change::PutDeparture(dep));
        changes.insert(0, Change::PutBooking(booking));
        Ok(changes)
    }
}

/// Arguments of `modify_booking.v1`: the booking's new lines, re-priced now. A code already on
/// the booking may be kept (`promo_code`) without counting as a new use; adding a code to an
/// existing booking is not supported in v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModifyBookingV1 {
    pub booking_id: String,
    pub tour_id: String,
    pub departure_id: String,
    pub lines: Vec<LineArgs>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promo_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_discount: Option<ManualDiscount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_total: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overbook: Option<OverbookArgs>,
}

impl Mutator for ModifyBookingV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let tour_id = norm_ref(&self.tour_id);
        let mut keys = vec![
            ReadKey::Booking(norm_ref(&self.booking_id)),
            ReadKey::Departure(norm_ref(&self.departure_id)),
            ReadKey::PricingCatalog(tour_id),
        ];
        if let Ok(Some(code)) = promo_code_of(self.promo_code.as_deref()) {
            keys.push(ReadKey::PromoCode(code));
        }
        keys
    }

    fn locks(&self, key: &ReadKey) -> bool {
        !matches!(key, ReadKey::PricingCatalog(_))
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::BookingsWrite, "change bookings")?;
        let booking_id = validate::row_ref("booking_id", &self.booking_id)?;
        let tour_id = validate::row_ref("tour_id", &self.tour_id)?;
        let departure_id = validate::row_ref("departure_id", &self.departure_id)?;
        let people = participants(&self.lines)?;
        let manager_override = overbook_override(ctx, self.overbook.as_ref())?;

        let old = view.booking(&booking_id)?.ok_or_else(|| Rejection::not_found("booking", &booking_id))?;
        if old.departure_id != departure_id || old.tour_id != tour_id {
            return Err(FieldError::new("departure_id", "is not the booking's departure").into());
        }
        // A booking not yet confirmed is simply changed; a confirmed one becomes "modified".
        let status = match old.status {
            BookingStatus::Pending => BookingStatus::Pending,
            s => s.transition(BookingStatus::Modified)?,
        };
        let mut dep = departure_of(view, &departure_id, &tour_id)?;
        let promo = match promo_code_of(self.promo_code.as_deref())? {
            None => None,
            Some(code) => {
                let mut found =
                    view.promo_code(&code)?.ok_or(Rejection::PromoRefused { refusal: PromoRefusal::NotFound })?;
                if old.pricing.promotional_code_id.as_deref() != Some(found.id.as_str()) {
                    return Err(FieldError::new("promo_code", "a code can only be added when booking").into());
                }
                // This booking's own use is already counted; keeping the code is not a new use.
                found.current_uses = found.current_uses.saturating_sub(1);
                Some(Promo { code: found, customer_uses: 0 })
            }
        };
        let request = PriceRequest {
            lines: &self.lines,
            promo: promo.as_ref(),
            manual: self.manual_discount.as_ref(),
            expected_total: self.expected_total,
        };
        let snapshot = price(view, ctx, &tour_id, &dep, request)?;

        let (before, after) = (old.seats_held(), snapshot.participants());
        let mut outcome = None;
        if after > before {
            let o = capacity::check_booking(&dep, after - before, manager_override.as_ref())?;
            take_seats(&mut dep, &o);
            outcome = Some(o);
        } else {
            release_seats(&mut dep, before - after);
        }

        let mut b = old.clone();
        b.pricing = snapshot;
        b.participants = people;
        if b == old {
            return Ok(vec![]);
        }
        b.status = status;
        b.updated_at = ctx.now;
        if let Some(CapacityOutcome::Overbooked { by, .. }) = &outcome {
            b.overbook = Some(by.clone());
        }
        let mut changes = vec![Change::PutBooking(b)];
        let audit = outcome.as_ref().and_then(|o| overbook_audit(ctx, &dep, &booking_id, o));
        if before != after {
            changes.push(Change::PutDeparture(dep));
        }
        changes.extend(audit);
        Ok(changes)
    }
}

/// Arguments of `cancel_booking.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelBookingV1 {
    pub booking_id: String,
    pub tour_id: String,
    pub departure_id: String,
    /// `operator` refunds everything whatever the policy says.
    #[serde(default = "default_cancelled_by")]
    pub by: CancelledBy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn default_cancelled_by() -> CancelledBy {
    CancelledBy::Customer
}

pub(super) struct Cancelled {
    pub booking: Booking,
    pub released: u32,
    pub refund: Option<RefundRequest>,
}

/// Cancels one booking at `ctx.now`: the policy decides the refund, the seats it held are
/// released (by the caller, who owns the departure row). Shared with cancelling a departure.
pub(super) fn cancel_one(
    mut b: Booking,
    departure_starts_at: DateTime<Utc>,
    policy: &CancellationPolicy,
    by: CancelledBy,
    reason: Option<String>,
    ctx: &MutationCtx,
) -> Result<Cancelled, ApplyError> {
    let released = b.seats_held();
    b.status = b.status.transition(BookingStatus::Cancelled)?;
    let decision = policy
        .evaluate(departure_starts_at, ctx.now, b.paid_amount, b.refunded_amount, by)
        .map_err(|e| FieldError::new("cancellation_policy", e.to_string()))?;
    let refund = (!decision.refund.is_zero()).then(|| RefundRequest {
        booking_id: b.id.clone(),
        amount: decision.refund,
        reason: reason.clone().unwrap_or_else(|| "booking cancelled".into()),
        requested_by: ctx.user_id.clone(),
        requested_at: ctx.now,
    });
    b.cancellation = Some(CancellationRecord { by, reason, decision });
    b.cancelled_at = Some(ctx.now);
    b.updated_at = ctx.now;
    Ok(Cancelled { booking: b, released, refund })
}

impl Mutator for CancelBookingV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![
            ReadKey::Booking(norm_ref(&self.booking_id)),
            ReadKey::Departure(norm_ref(&self.departure_id)),
            ReadKey::CancellationPolicy(norm_ref(&self.tour_id)),
        ]
    }

    fn locks(&self, key: &ReadKey) -> bool {
        !matches!(key, ReadKey::CancellationPolicy(_))
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::BookingsWrite, "cancel bookings")?;
        let booking_id = validate::row_ref("booking_id", &self.booking_id)?;
        let tour_id = validate::row_ref("tour_id", &self.tour_id)?;
        let departure_id = validate::row_ref("departure_id", &self.departure_id)?;
        let reason = validate::opt_text("reason", self.reason.as_deref(), 500)?;
        // An operator cancellation refunds everything whatever the policy says: staff only.
        if self.by == CancelledBy::Operator && ctx.role == Role::Customer {
            return Err(Rejection::NotAuthorized { action: "cancel as the operator".into() }.into());
        }
        let b = view.booking(&booking_id)?.ok_or_else(|| Rejection::not_found("booking", &booking_id))?;
        if b.departure_id != departure_id || b.tour_id != tour_id {
            return Err(FieldError::new("departure_id", "is not the booking's departure").into());
        }
        if b.status == BookingStatus::Cancelled {
            return Ok(vec![]);
        }
        let mut dep = departure_of(view, &departure_id, &tour_id)?;
        // Without a policy a customer cancellation refunds nothing; the operator's still refunds all.
        let policy = view.cancellation_policy(&tour_id)?.unwrap_or_else(|| CancellationPolicy {
            id: String::new(),
            name: String::new(),
            rules: vec![],
        });
        let c = cancel_one(b, dep.starts_at, &policy, self.by, reason, ctx)?;
        release_seats(&mut dep, c.released);
        let mut changes = vec![Change::PutBooking(c.booking)];
        if c.released > 0 {
            changes.push(Change::PutDeparture(dep));
        }
        changes.extend(c.refund.map(Change::RequestRefund));
        Ok(changes)
    }
}

/// Arguments of `check_in.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckInV1 {
    /// A UUID made by the recording device; it becomes the fact's id.
    pub nonce: String,
    pub booking_id: String,
    pub departure_id: String,
    pub participant: u32,
    pub at: DateTime<Utc>,
}

/// Arguments of `mark_no_show.v1`; the same shape as a check-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkNoShowV1 {
    pub nonce: String,
    pub booking_id: String,
    pub departure_id: String,
    pub participant: u32,
    pub at: DateTime<Utc>,
}

/// Each participant's standing attendance from a booking's facts: per participant the latest
/// fact wins, a check-in beating a no-show at the same instant, then the larger id. A function
/// of the set only, so the order facts arrive in does not matter. Manifests show this.
pub fn attendance_by_participant(facts: &[CheckIn]) -> BTreeMap<u32, CheckInKind> {
    let mut last: BTreeMap<u32, &CheckIn> = BTreeMap::new();
    let rank = |c: &CheckIn| (c.at, c.kind == CheckInKind::CheckedIn, c.id.clone());
    for f in facts {
        match last.get(&f.participant) {
            Some(cur) if rank(cur) >= rank(f) => {}
            _ => {
                last.insert(f.participant, f);
            }
        }
    }
    last.into_iter().map(|(p, c)| (p, c.kind)).collect()
}

/// `(checked in, no-shows)` of a booking from its attendance facts; see
/// [`attendance_by_participant`].
pub fn attendance(facts: &[CheckIn]) -> (u32, u32) {
    let last = attendance_by_participant(facts);
    let checked_in = last.values().filter(|k| **k == CheckInKind::CheckedIn).count();
    let total = last.len();
    let n = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
    (n(checked_in), n(total - checked_in))
}

fn attendance_reads(booking_id: &str, departure_id: &str) -> Vec<ReadKey> {
    let booking_id = norm_ref(booking_id);
    vec![
        ReadKey::Booking(booking_id.clone()),
        ReadKey::CheckInsOfBooking(booking_id),
        ReadKey::DepartureGuides(norm_ref(departure_id)),
    ]
}

#[allow(clippy::too_many_arguments)]
fn record_attendance(
    view: &dyn ReadView,
    ctx: &MutationCtx,
    kind: CheckInKind,
    nonce: &str,
    booking_id: &str,
    departure_id: &str,
    participant: u32,
    at: DateTime<Utc>,
) -> Result<Vec<Change>, ApplyError> {
    let nonce = validate::id("nonce", nonce)?;
    let booking_id = validate::row_ref("booking_id", booking_id)?;
    let departure_id = validate::row_ref("departure_id", departure_id)?;
    // Staff who may change bookings may record attendance anywhere; a guide only on a departure
    // they lead — which only the store knows, hence the read.
    if !ctx.role.can(Permission::BookingsWrite) {
        let leads = ctx.role == Role::Guide
            && view.departure_guides(&departure_id)?.iter().any(|g| {
                g.status != crate::guides::AssignmentStatus::Declined && g.user_id.as_deref() == Some(&ctx.user_id)
            });
        if !leads {
            return Err(Rejection::NotAuthorized { action: "record attendance on this departure".into() }.into());
        }
    }
    if at > ctx.now + MAX_CLOCK_SKEW {
        return Err(Rejection::ClockSkew { field: "at".into(), stamp: at.to_rfc3339() }.into());
    }
    let mut b = view.booking(&booking_id)?.ok_or_else(|| Rejection::not_found("booking", &booking_id))?;
    if b.departure_id != departure_id {
        return Err(FieldError::new("departure_id", "is not the booking's departure").into());
    }
    if b.status == BookingStatus::Cancelled {
        return Err(Rejection::conflict("booking_id", format!("booking {} is cancelled", b.reference_number)).into());
    }
    if participant >= b.participant_count() {
        return Err(
            FieldError::new("participant", format!("the booking has {} participants", b.participant_count())).into()
        );
    }
    let mut facts = view.check_ins_of_booking(&booking_id)?;
    if facts.iter().any(|f| f.id == nonce) {
        return Ok(vec![]);
    }
    let fact = CheckIn {
        id: nonce,
        organization_id: ctx.organization_id.clone(),
        booking_id,
        departure_id,
        participant,
        kind,
        at,
        recorded_by: ctx.user_id.clone(),
    };
    facts.push(fact.clone());
    let mut changes = vec![Change::PutCheckIn(fact)];
    let (checked_in, no_shows) = attendance(&facts);
    if (checked_in, no_shows) != (b.checked_in, b.no_shows) {
        b.checked_in = checked_in;
        b.no_shows = no_shows;
        changes.push(Change::PutBooking(b));
    }
    Ok(changes)
}

impl Mutator for CheckInV1 {
    fn reads(&self) -> Vec<ReadKey> {
        attendance_reads(&self.booking_id, &self.departure_id)
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        let a = self;
        record_attendance(
            view,
            ctx,
            CheckInKind::CheckedIn,
            &a.nonce,
            &a.booking_id,
            &a.departure_id,
            a.participant,
            a.at,
        )
    }
}

impl Mutator for MarkNoShowV1 {
    fn reads(&self) -> Vec<ReadKey> {
        attendance_reads(&self.booking_id, &self.departure_id)
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        let a = self;
        record_attendance(view, ctx, CheckInKind::NoShow, &a.nonce, &a.booking_id, &a.departure_id, a.participant, a.at)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::testkit::*;
    use super::*;
    use crate::entities::{DepartureGuide, Tour};
    use crate::pricing::PromoCode;
    use crate::status::{DepartureStatus, TourStatus};
    use chrono::Duration;
    use serde_json::{Value, json};

    const NEW: &str = "00000000-0000-4000-8000-00000000b001";

    fn create() -> Value {
        json!({"id": NEW, "tour_id": TOUR, "departure_id": DEPARTURE, "customer_id": CUSTOMER,
               "lines": [{"tier_id": ADULT, "quantity": 2},
                         {"tier_id": CHILD, "quantity": 1, "participants": [{"first_name": "Lia", "last_name": "Silva", "age": 7}]}],
               "reference_year": 2026, "reference_entropy": 123456789})
    }

    fn put(changes: &[Change]) -> (&Booking, Option<&Departure>) {
        let b = changes.iter().find_map(|c| if let Change::PutBooking(b) = c { Some(b) } else { None }).unwrap();
        let d = changes.iter().find_map(|c| if let Change::PutDeparture(d) = c { Some(d) } else { None });
        (b, d)
    }

    #[test]
    fn create_booking_prices_reserves_and_references() {
        let mem = world();
        let args = patch(
            create(),
            &[("promo_code", " summer10 ".into()), ("expected_total", json!({"amount": 11250, "currency": "USD"}))],
        );
        let changes = run_ok(&mem, "create_booking.v1", args.clone(), Role::Manager);
        let (b, d) = put(&changes);
        assert_eq!(b.reference_number, ReferenceNumber::generate(2026, 123_456_789).unwrap());
        assert_eq!(
            (b.status, b.payment_status, b.participant_count()),
            (BookingStatus::Pending, PaymentStatus::Unpaid, 3)
        );
        assert_eq!((b.pricing.subtotal, b.pricing.total), (usd(12_500), usd(11_250)));
        assert_eq!(b.participants.len(), 1);
        assert_eq!(b.overbook, None);
        assert_eq!(d.map(|d| d.booked_count), Some(3));
        assert!(changes.contains(&Change::IncrementPromoUses { promo_code_id: "promo-1".into() }));
        assert!(!changes.iter().any(|c| matches!(c, Change::Audit(_))));
        // The same intent against the same rows decides the same way (desk and server agree).
        assert_eq!(run_ok(&mem, "create_booking.v1", args, Role::Manager), changes);

        // A taken reference moves on to the next candidate, deterministically.
        let mut other = booking("b-x", 1, BookingStatus::Confirmed, PaymentStatus::Paid, 5000);
        other.reference_number = ReferenceNumber::generate(2026, 123_456_789).unwrap();
        mem.put_booking(other);
        let changes = run_ok(&mem, "create_booking.v1", create(), Role::Manager);
        assert_eq!(put(&changes).0.reference_number, reference_candidates(2026, 123_456_789)[1]);
        assert_eq!(reference_candidates(2026, 123_456_789).len(), 3);
    }

    #[test]
    fn a_held_booking_holds_its_seats_for_the_clamped_time_and_a_desk_booking_holds_none() {
        let mem = world();
        let held = |seconds: u64| {
            let changes =
                run_ok(&mem, "create_booking.v1", patch(create(), &[("hold_seconds", seconds.into())]), Role::Manager);
            changes.iter().find_map(|c| match c {
                Change::HoldSeats { booking_id, until } if booking_id == NEW => Some(*until),
                _ => None,
            })
        };
        let now = ctx(Role::Manager).now;
        assert_eq!(held(900), Some(now + Duration::seconds(900)));
        assert_eq!(held(30 * 86_400), Some(now + Duration::days(7)), "a week at most");
        let desk = run_ok(&mem, "create_booking.v1", create(), Role::Manager);
        assert!(!desk.iter().any(|c| matches!(c, Change::HoldSeats { .. })));
    }

    #[test]
    fn overbooking_needs_permission_and_an_explicit_reason_and_is_audited() {
        let mem = world();
        mem.put_departure(Departure { booked_count: 9, ..departure() });
        assert_eq!(run_err(&mem, "create_booking.v1", create(), Role::Manager), "CAPACITY_EXCEEDED");
        let over = patch(create(), &[("overbook", json!({"reason": "School group, second guide booked"}))]);
        // Admins may do everything except overbook (the seed's permission table).
        assert_eq!(run_err(&mem, "create_booking.v1", over.clone(), Role::Admin), "NOT_AUTHORIZED");
        let blank = patch(create(), &[("overbook", json!({"reason": "  "}))]);
        assert_eq!(run_err(&mem, "create_booking.v1", blank, Role::Manager), "INVALID");

        let changes = run_ok(&mem, "create_booking.v1", over.clone(), Role::Manager);
        let (b, d) = put(&changes);
        let d = d.unwrap();
        assert_eq!((d.booked_count, d.status), (12, DepartureStatus::Full));
        assert_eq!(
            b.overbook,
            Some(ManagerOverride { manager_id: STAFF.into(), reason: "School group, second guide booked".into() })
        );
        let audit = changes.iter().find_map(|c| if let Change::Audit(a) = c { Some(a) } else { None }).unwrap();
        assert_eq!(
            (audit.action.as_str(), audit.actor_id.as_str(), audit.entity_id.as_str()),
            ("booking.overbooked", STAFF, DEPARTURE)
        );
        assert_eq!(audit.detail["over_by"], 2);

        // A full departure still takes an explicit override; a closed one never.
        mem.put_departure(Departure { booked_count: 10, status: DepartureStatus::Full, ..departure() });
        assert_eq!(run_err(&mem, "create_booking.v1", create(), Role::Owner), "CAPACITY_EXCEEDED");
        assert_eq!(run_ok(&mem, "create_booking.v1", over.clone(), Role::Owner).len(), 3);
        mem.put_departure(Departure { status: DepartureStatus::Closed, ..departure() });
        assert_eq!(run_err(&mem, "create_booking.v1", over, Role::Owner), "DEPARTURE_NOT_BOOKABLE");
    }

    #[test]
    fn create_booking_rejections() {
        let mem = world();
        mem.put_booking(booking(NEW, 1, BookingStatus::Pending, PaymentStatus::Unpaid, 0));
        let fresh = "00000000-0000-4000-8000-00000000b002";
        let base = || patch(create(), &[("id", fresh.into())]);
        let with = |fields: &[(&str, Value)]| patch(base(), fields);
        let mut used_up = promo();
        used_up.current_uses = 5;
        mem.state.borrow_mut().promos.insert("USEDUP".into(), PromoCode { code: "USEDUP".into(), ..used_up });
        mem.put_tour(Tour { id: "t-draft".into(), slug: "draft".into(), status: TourStatus::Draft, ..tour() });
        mem.put_tour(Tour { id: "t-noprice".into(), slug: "noprice".into(), ..tour() });
        mem.put_departure(Departure { id: "d-noprice".into(), tour_id: "t-noprice".into(), ..departure() });

        let cases: Vec<(Value, Role, &str)> = vec![
            (base(), Role::Guide, "NOT_AUTHORIZED"),
            (create(), Role::Owner, "CONFLICT"),
            (with(&[("id", "b-1".into())]), Role::Owner, "INVALID"),
            (with(&[("departure_id", "d-404".into())]), Role::Owner, "NOT_FOUND"),
            (with(&[("customer_id", "c-404".into())]), Role::Owner, "NOT_FOUND"),
            (with(&[("tour_id", "t-404".into())]), Role::Owner, "NOT_FOUND"),
            (with(&[("tour_id", "t-draft".into())]), Role::Owner, "CONFLICT"),
            (with(&[("tour_id", "t-noprice".into())]), Role::Owner, "INVALID"),
            (with(&[("tour_id", "t-noprice".into()), ("departure_id", "d-noprice".into())]), Role::Owner, "CONFLICT"),
            // Request limits hold for every source, not only the website: 1–20 lines of 1–100.
            (with(&[("lines", json!([]))]), Role::Owner, "INVALID"),
            (with(&[("lines", json!(vec![json!({"tier_id": ADULT, "quantity": 1}); 21]))]), Role::Owner, "INVALID"),
            (with(&[("lines", json!([{"tier_id": ADULT, "quantity": 101}]))]), Role::Owner, "INVALID"),
            (with(&[("lines", json!([{"tier_id": ADULT, "quantity": 0}]))]), Role::Owner, "INVALID"),
            (with(&[("lines", json!([{"tier_id": "nope", "quantity": 1}]))]), Role::Owner, "PRICING_ERROR"),
            (
                with(&[(
                    "lines",
                    json!([{"tier_id": CHILD, "quantity": 1, "participants": [{"first_name": "A", "last_name": "B", "age": 30}]}]),
                )]),
                Role::Owner,
                "PRICING_ERROR",
            ),
            (
                with(&[(
                    "lines",
                    json!([{"tier_id": ADULT, "quantity": 1, "participants": [
                    {"first_name": "A", "last_name": "B"}, {"first_name": "C", "last_name": "D"}]}]),
                )]),
                Role::Owner,
                "INVALID",
            ),
            (with(&[("lines", json!([{"tier_id": ADULT, "quantity": 11}]))]), Role::Owner, "CAPACITY_EXCEEDED"),
            (with(&[("promo_code", "NOPE".into())]), Role::Owner, "PROMO_REFUSED"),
            (with(&[("promo_code", "usedup".into())]), Role::Owner, "PROMO_REFUSED"),
            // No code can hold a NUL: refused before any lookup is declared or made.
            (with(&[("promo_code", "SUMMER\u{0}".into())]), Role::Owner, "INVALID"),
            (with(&[("expected_total", json!({"amount": 12000, "currency": "USD"}))]), Role::Owner, "PRICE_CHANGED"),
            (with(&[("reference_year", 2020.into())]), Role::Owner, "INVALID"),
            (with(&[("reference_entropy", (-1).into())]), Role::Owner, "INVALID"),
            (with(&[("colour", "red".into())]), Role::Owner, "INVALID"),
        ];
        for (a, role, code) in cases {
            assert_eq!(run_err(&mem, "create_booking.v1", a.clone(), role), code, "{a}");
        }
        mem.state.borrow_mut().promo_uses.insert(("SUMMER10".into(), CUSTOMER.into()), 1);
        assert_eq!(
            run_err(&mem, "create_booking.v1", with(&[("promo_code", "summer10".into())]), Role::Owner),
            "PROMO_REFUSED"
        );
    }

    fn modify(lines: Value) -> Value {
        json!({"booking_id": "b-1", "tour_id": TOUR, "departure_id": DEPARTURE, "lines": lines})
    }

    #[test]
    fn modify_booking_reprices_and_moves_seats() {
        let mem = world();
        mem.put_booking(booking("b-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000));
        mem.put_departure(Departure { booked_count: 8, ..departure() });
        let up = run_ok(&mem, "modify_booking.v1", modify(json!([{"tier_id": ADULT, "quantity": 4}])), Role::Manager);
        let (b, d) = put(&up);
        assert_eq!((b.status, b.pricing.total, b.participant_count()), (BookingStatus::Modified, usd(20_000), 4));
        assert_eq!(d.map(|d| (d.booked_count, d.status)), Some((10, DepartureStatus::Full)));
        let down = run_ok(&mem, "modify_booking.v1", modify(json!([{"tier_id": CHILD, "quantity": 1}])), Role::Manager);
        let (b, d) = put(&down);
        assert_eq!((b.pricing.total, d.map(|d| d.booked_count)), (usd(2_500), Some(7)));
        // Same lines, same price: nothing to write.
        assert!(
            run_ok(&mem, "modify_booking.v1", modify(json!([{"tier_id": ADULT, "quantity": 2}])), Role::Manager)
                .is_empty()
        );
        // A pending booking stays pending.
        mem.put_booking(booking("b-1", 2, BookingStatus::Pending, PaymentStatus::Unpaid, 0));
        let p = run_ok(&mem, "modify_booking.v1", modify(json!([{"tier_id": ADULT, "quantity": 1}])), Role::Manager);
        assert_eq!(put(&p).0.status, BookingStatus::Pending);

        // Keeping the booking's own code is not a new use, even when the code is used up.
        let mut with_code = booking("b-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 9_000);
        with_code.pricing.promotional_code_id = Some("promo-1".into());
        mem.put_booking(with_code);
        mem.state.borrow_mut().promos.get_mut("SUMMER10").unwrap().current_uses = 5;
        let kept = run_ok(
            &mem,
            "modify_booking.v1",
            patch(modify(json!([{"tier_id": ADULT, "quantity": 3}])), &[("promo_code", "SUMMER10".into())]),
            Role::Manager,
        );
        assert_eq!(put(&kept).0.pricing.total, usd(13_500));
        assert!(!kept.iter().any(|c| matches!(c, Change::IncrementPromoUses { .. })));
    }

    #[test]
    fn modify_booking_rejections() {
        let mem = world();
        mem.put_booking(booking("b-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000));
        mem.put_booking(booking("b-gone", 2, BookingStatus::Cancelled, PaymentStatus::Refunded, 10_000));
        mem.put_departure(Departure { booked_count: 9, ..departure() });
        let three = json!([{"tier_id": ADULT, "quantity": 3}]);
        let cases: Vec<(Value, Role, &str)> = vec![
            (modify(three.clone()), Role::Guide, "NOT_AUTHORIZED"),
            (patch(modify(three.clone()), &[("booking_id", "b-404".into())]), Role::Owner, "NOT_FOUND"),
            (patch(modify(three.clone()), &[("booking_id", "b-gone".into())]), Role::Owner, "FORBIDDEN_TRANSITION"),
            (patch(modify(three.clone()), &[("departure_id", "d-2".into())]), Role::Owner, "INVALID"),
            (modify(json!([{"tier_id": ADULT, "quantity": 4}])), Role::Owner, "CAPACITY_EXCEEDED"),
            (modify(json!([{"tier_id": "x", "quantity": 1}])), Role::Owner, "PRICING_ERROR"),
            (patch(modify(three.clone()), &[("promo_code", "SUMMER10".into())]), Role::Owner, "INVALID"),
            (patch(modify(three.clone()), &[("promo_code", "NOPE".into())]), Role::Owner, "PROMO_REFUSED"),
            (
                patch(modify(three.clone()), &[("expected_total", json!({"amount": 1, "currency": "USD"}))]),
                Role::Owner,
                "PRICE_CHANGED",
            ),
            (patch(modify(three.clone()), &[("overbook", json!({"reason": "x"}))]), Role::Admin, "NOT_AUTHORIZED"),
        ];
        for (a, role, code) in cases {
            assert_eq!(run_err(&mem, "modify_booking.v1", a.clone(), role), code, "{a}");
        }
        let over =
            patch(modify(json!([{"tier_id": ADULT, "quantity": 4}])), &[("overbook", json!({"reason": "family"}))]);
        let ok = run_ok(&mem, "modify_booking.v1", over, Role::Manager);
        assert!(ok.iter().any(|c| matches!(c, Change::Audit(a) if a.action == "booking.overbooked")));
    }

    fn cancel(by: &str) -> Value {
        json!({"booking_id": "b-1", "tour_id": TOUR, "departure_id": DEPARTURE, "by": by, "reason": "ill"})
    }

    #[test]
    fn cancel_booking_refunds_by_policy_and_releases_seats() {
        let mem = world();
        mem.put_booking(booking("b-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000));
        mem.put_departure(Departure { booked_count: 10, status: DepartureStatus::Full, ..departure() });
        // Five weeks ahead: the 168 h rule, everything back.
        let early = run_ok(&mem, "cancel_booking.v1", cancel("customer"), Role::Manager);
        let (b, d) = put(&early);
        assert_eq!((b.status, b.cancelled_at), (BookingStatus::Cancelled, Some(now())));
        assert_eq!(b.cancellation.as_ref().map(|c| c.decision.refund_percentage), Some(100));
        assert_eq!(d.map(|d| (d.booked_count, d.status)), Some((8, DepartureStatus::Open)));
        assert!(early.iter().any(|c| matches!(c, Change::RequestRefund(r) if r.amount == usd(10_000))));

        // Three days ahead: half back; a day ahead: nothing, unless the operator cancels.
        for (hours, by, refund) in
            [(72, "customer", Some(5_000)), (24, "customer", None), (24, "operator", Some(10_000))]
        {
            let starts = now() + Duration::hours(hours);
            mem.put_departure(Departure {
                starts_at: starts,
                ends_at: starts + Duration::hours(2),
                booked_count: 2,
                ..departure()
            });
            let ch = run_ok(&mem, "cancel_booking.v1", cancel(by), Role::Manager);
            let got =
                ch.iter().find_map(|c| if let Change::RequestRefund(r) = c { Some(r.amount.amount) } else { None });
            assert_eq!(got, refund, "{hours}h {by}");
        }
        // No policy: a customer gets nothing back.
        mem.state.borrow_mut().policies.clear();
        mem.put_departure(departure());
        let none = run_ok(&mem, "cancel_booking.v1", cancel("customer"), Role::Manager);
        assert!(!none.iter().any(|c| matches!(c, Change::RequestRefund(_))));

        mem.put_booking(booking("b-1", 2, BookingStatus::Cancelled, PaymentStatus::Refunded, 10_000));
        assert!(run_ok(&mem, "cancel_booking.v1", cancel("customer"), Role::Manager).is_empty(), "already cancelled");
        mem.put_booking(booking("b-1", 2, BookingStatus::Completed, PaymentStatus::Paid, 10_000));
        assert_eq!(run_err(&mem, "cancel_booking.v1", cancel("customer"), Role::Manager), "FORBIDDEN_TRANSITION");
        assert_eq!(run_err(&mem, "cancel_booking.v1", cancel("customer"), Role::Guide), "NOT_AUTHORIZED");
        assert_eq!(
            run_err(
                &mem,
                "cancel_booking.v1",
                patch(cancel("customer"), &[("booking_id", "b-404".into())]),
                Role::Owner
            ),
            "NOT_FOUND"
        );
        assert_eq!(
            run_err(&mem, "cancel_booking.v1", patch(cancel("customer"), &[("tour_id", "t-2".into())]), Role::Owner),
            "INVALID"
        );
        assert_eq!(run_err(&mem, "cancel_booking.v1", cancel("nobody"), Role::Owner), "INVALID");
    }

    fn attend(nonce: u32, participant: u32, at: DateTime<Utc>) -> Value {
        json!({"nonce": format!("00000000-0000-4000-8000-{nonce:012}"), "booking_id": "b-1",
               "departure_id": DEPARTURE, "participant": participant, "at": at})
    }

    #[test]
    fn check_in_authorization_replay_and_rejections() {
        let mem = world();
        mem.put_booking(booking("b-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000));
        let first = run_write(&mem, "check_in.v1", attend(1, 0, now()), Role::Guide);
        assert!(matches!(&first[..], [Change::PutCheckIn(c), Change::PutBooking(b)]
            if c.recorded_by == GUIDE_USER && b.checked_in == 1));
        // The same intent again (a replay) counts once.
        assert!(run_ok(&mem, "check_in.v1", attend(1, 0, now()), Role::Guide).is_empty());
        assert_eq!(mem.get_booking("b-1").checked_in, 1);
        // Staff may record anywhere.
        run_write(&mem, "mark_no_show.v1", attend(2, 1, now()), Role::Manager);
        assert_eq!((mem.get_booking("b-1").checked_in, mem.get_booking("b-1").no_shows), (1, 1));

        // A guide not leading this departure (or who declined it) may not.
        for status in [crate::guides::AssignmentStatus::Declined, crate::guides::AssignmentStatus::Confirmed] {
            let user = if status == crate::guides::AssignmentStatus::Declined { GUIDE_USER } else { "u-other" };
            mem.state.borrow_mut().departure_guides.insert(
                DEPARTURE.into(),
                vec![DepartureGuide { guide_id: GUIDE.into(), user_id: Some(user.into()), status }],
            );
            assert_eq!(run_err(&mem, "check_in.v1", attend(3, 0, now()), Role::Guide), "NOT_AUTHORIZED");
        }
        let soon = now() + MAX_CLOCK_SKEW + Duration::seconds(1);
        let cases: Vec<(Value, &str)> = vec![
            (attend(3, 2, now()), "INVALID"),
            (attend(3, 0, soon), "CLOCK_SKEW"),
            (patch(attend(3, 0, now()), &[("nonce", "n-1".into())]), "INVALID"),
            (patch(attend(3, 0, now()), &[("booking_id", "b-404".into())]), "NOT_FOUND"),
            (patch(attend(3, 0, now()), &[("departure_id", "d-2".into())]), "INVALID"),
        ];
        for (a, code) in cases {
            assert_eq!(run_err(&mem, "check_in.v1", a.clone(), Role::Manager), code, "{a}");
        }
        mem.put_booking(booking("b-1", 2, BookingStatus::Cancelled, PaymentStatus::Refunded, 10_000));
        assert_eq!(run_err(&mem, "mark_no_show.v1", attend(4, 0, now()), Role::Manager), "CONFLICT");
    }

    #[test]
    fn attendance_facts_commute() {
        let t = |m: i64| now() - Duration::hours(2) + Duration::minutes(m);
        let ops = [
            ("mark_no_show.v1", attend(1, 0, t(5))),
            ("check_in.v1", attend(2, 0, t(20))),
            ("check_in.v1", attend(3, 1, t(1))),
            ("mark_no_show.v1", attend(4, 1, t(1))),
            ("mark_no_show.v1", attend(5, 2, t(3))),
        ];
        let mut outcomes = std::collections::BTreeSet::new();
        for order in [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [1, 0, 3, 2, 4], [2, 4, 0, 3, 1]] {
            let mem = world();
            mem.put_booking(booking("b-1", 3, BookingStatus::Confirmed, PaymentStatus::Paid, 15_000));
            for i in order {
                let (name, args) = &ops[i];
                run_write(&mem, name, args.clone(), Role::Manager);
                // Replaying an earlier fact changes nothing.
                run_write(&mem, name, args.clone(), Role::Manager);
            }
            let b = mem.get_booking("b-1");
            outcomes.insert((b.checked_in, b.no_shows));
        }
        // Participant 0: the later check-in wins; 1: a tie goes to the check-in; 2: no-show.
        assert_eq!(outcomes.into_iter().collect::<Vec<_>>(), [(2, 1)]);
    }
}

//! Allotments (`allotment`): issue seats to a device, sell walk-ups on them offline, release them.
//!
//! * `issue_allotment.v1` takes the seats from the departure under its row lock, like a booking.
//!   The office (whoever may write schedules) issues to any device; a guide may ask for one for
//!   their own device on a departure they lead. The server runs it when asked
//!   (`POST /api/v1/allotments`), so the device sells only on seats the server granted.
//! * `sell_walk_up.v1` is a walk-up guest at the meeting point: a walk-in customer (a name,
//!   perhaps a phone) and a confirmed booking whose seats come from the allotment, paid in cash
//!   (a ledger entry for the total) or to be paid on arrival. Only the device the allotment was
//!   issued to, signed in as the same account, may sell on it; `allotment::check_sale` decides
//!   the seats on the device and again on the server, so a sale the device accepted is never
//!   refused for seats.
//! * `release_allotment.v1` gives the unsold seats back (the holder, the office, or the job when
//!   the departure starts).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::bookings::SeatSource;
use super::customers::CreateCustomerV1;
use super::{
    ApplyError, AuditEntry, Change, CreateBookingV1, LineArgs, MutationCtx, Mutator, ReadKey, ReadView, Rejection,
    StoreFault, norm_id, norm_ref, require,
};
use crate::allotment::{self, Allotment, AllotmentError, AllotmentStatus};
use crate::capacity;
use crate::entities::{BookingSource, CustomerSource};
use crate::hlc::{Hlc, MAX_CLOCK_SKEW};
use crate::ledger::{EntryKind, LedgerEntry};
use crate::roles::Permission;
use crate::status::{BookingStatus, PaymentStatus};
use crate::validate::{self, FieldError};

impl From<AllotmentError> for Rejection {
    fn from(e: AllotmentError) -> Self {
        match e {
            AllotmentError::NoSeats | AllotmentError::TooManySeats { .. } => {
                Rejection::Invalid(FieldError::new("seats", e.to_string()))
            }
            AllotmentError::NotEnoughFree { requested, seats_left } => {
                Rejection::CapacityExceeded { requested, seats_left }
            }
            AllotmentError::NotOpen { status } => Rejection::DepartureNotBookable { status },
            AllotmentError::Exceeded { seats, sold, requested, .. } => {
                Rejection::AllotmentExceeded { seats, sold, requested }
            }
            AllotmentError::Released => Rejection::conflict("allotment_id", e.to_string()),
        }
    }
}

impl From<AllotmentError> for ApplyError {
    fn from(e: AllotmentError) -> Self {
        ApplyError::Rejected(e.into())
    }
}

/// Arguments of `issue_allotment.v1`. `user_id` is the account `device_id` is signed in as; the
/// server fills both from its device table, never from what a client claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueAllotmentV1 {
    pub id: String,
    pub departure_id: String,
    pub device_id: String,
    pub user_id: String,
    pub seats: u32,
}

impl Mutator for IssueAllotmentV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let dep = norm_ref(&self.departure_id);
        vec![ReadKey::Departure(dep.clone()), ReadKey::DepartureGuides(dep), ReadKey::Allotment(norm_id(&self.id))]
    }

    fn locks(&self, key: &ReadKey) -> bool {
        !matches!(key, ReadKey::DepartureGuides(_))
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        let id = validate::id("id", &self.id)?;
        let departure_id = validate::row_ref("departure_id", &self.departure_id)?;
        let device_id = validate::row_ref("device_id", &self.device_id)?;
        let user_id = validate::row_ref("user_id", &self.user_id)?;
        if !ctx.role.can(Permission::SchedulesWrite) {
            // A guide asks for their own device, on a departure they lead.
            let leads = view.departure_guides(&departure_id)?.iter().any(|g| {
                g.user_id.as_deref() == Some(ctx.user_id.as_str())
                    && g.status != crate::guides::AssignmentStatus::Declined
            });
            if user_id != ctx.user_id || !leads {
                return Err(Rejection::NotAuthorized {
                    action: "issue an allotment on a departure you do not lead".into(),
                }
                .into());
            }
        }
        if view.allotment(&id)?.is_some() {
            return Err(Rejection::conflict("id", format!("allotment {id} already exists")).into());
        }
        let mut dep = view.departure(&departure_id)?.ok_or_else(|| Rejection::not_found("departure", &departure_id))?;
        dep.booked_count = allotment::check_issue(&dep, self.seats)?;
        dep.status = capacity::status_for_occupancy(dep.status, dep.booked_count, dep.capacity);
        let a = Allotment {
            id,
            organization_id: ctx.organization_id.clone(),
            departure_id,
            tour_id: dep.tour_id.clone(),
            device_id,
            user_id,
            seats: self.seats,
            sold: 0,
            status: AllotmentStatus::Active,
            booking_ids: vec![],
            issued_by: ctx.user_id.clone(),
            issued_at: ctx.now,
            released_at: None,
            returned: 0,
        };
        Ok(vec![Change::PutDeparture(dep), Change::PutAllotment(a)])
    }
}

/// Arguments of `release_allotment.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseAllotmentV1 {
    pub allotment_id: String,
    pub departure_id: String,
}

impl Mutator for ReleaseAllotmentV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::Departure(norm_ref(&self.departure_id)), ReadKey::Allotment(norm_ref(&self.allotment_id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        let allotment_id = validate::row_ref("allotment_id", &self.allotment_id)?;
        let departure_id = validate::row_ref("departure_id", &self.departure_id)?;
        let a = view.allotment(&allotment_id)?.ok_or_else(|| Rejection::not_found("allotment", &allotment_id))?;
        if a.departure_id != departure_id {
            return Err(FieldError::new("departure_id", "the allotment is on another departure").into());
        }
        if a.user_id != ctx.user_id {
            require(ctx, Permission::SchedulesWrite, "release another device's allotment")?;
        }
        let (back, next) = allotment::release(&a, ctx.now);
        if next == a {
            return Ok(vec![]);
        }
        let mut dep = view.departure(&departure_id)?.ok_or_else(|| Rejection::not_found("departure", &departure_id))?;
        dep.booked_count = dep.booked_count.saturating_sub(back);
        dep.status = capacity::status_for_occupancy(dep.status, dep.booked_count, dep.capacity);
        let audit = AuditEntry {
            action: "allotment.released".into(),
            entity: "departure".into(),
            entity_id: dep.id.clone(),
            actor_id: ctx.user_id.clone(),
            at: ctx.now,
            detail: json!({ "allotment_id": a.id, "device_id": a.device_id, "seats": a.seats, "sold": a.sold,
                            "returned": back }),
        };
        Ok(vec![Change::PutDeparture(dep), Change::PutAllotment(next), Change::Audit(audit)])
    }
}

/// How a walk-up paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WalkUpPayment {
    /// Cash taken for the total: the booking is paid.
    Cash,
    /// To be paid at the meeting point later (or by the office): the booking is unpaid.
    PayOnArrival,
}

/// The walk-up guest: a walk-in customer (see `create_customer.v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalkUpGuest {
    pub id: String,
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_region: Option<String>,
}

/// Arguments of `sell_walk_up.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SellWalkUpV1 {
    /// The booking's id.
    pub id: String,
    pub allotment_id: String,
    pub tour_id: String,
    pub departure_id: String,
    /// The selling device (its `auth` device id); must be the allotment's.
    pub device_id: String,
    pub customer: WalkUpGuest,
    pub lines: Vec<LineArgs>,
    pub payment: WalkUpPayment,
    /// A UUID for the cash ledger entry (ignored for pay-on-arrival).
    pub payment_nonce: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_requests: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dietary_restrictions: Option<String>,
    pub reference_year: i32,
    pub reference_entropy: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_total: Option<crate::money::Money>,
    /// When the device sold it (its clock): a sale made before the allotment was released counts.
    pub sold_at: DateTime<Utc>,
    pub hlc: Hlc,
}

impl SellWalkUpV1 {
    fn booking(&self) -> CreateBookingV1 {
        CreateBookingV1 {
            id: self.id.clone(),
            tour_id: self.tour_id.clone(),
            departure_id: self.departure_id.clone(),
            customer_id: self.customer.id.clone(),
            lines: self.lines.clone(),
            promo_code: None,
            manual_discount: None,
            special_requests: self.special_requests.clone(),
            dietary_restrictions: self.dietary_restrictions.clone(),
            source: BookingSource::Admin,
            reference_year: self.reference_year,
            reference_entropy: self.reference_entropy,
            expected_total: self.expected_total,
            overbook: None,
            hold_seconds: None,
        }
    }

    fn guest(&self) -> CreateCustomerV1 {
        CreateCustomerV1 {
            id: self.customer.id.clone(),
            email: None,
            phone: self.customer.phone.clone(),
            default_region: self.customer.default_region.clone(),
            first_name: self.customer.first_name.clone(),
            last_name: self.customer.last_name.clone(),
            source: CustomerSource::WalkIn,
            source_detail: None,
            preferred_language: "en".into(),
            preferred_currency: "USD".into(),
            marketing_consent: false,
            tags: vec![],
            notes: String::new(),
            hlc: self.hlc.clone(),
        }
    }
}

impl Mutator for SellWalkUpV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let mut keys = self.booking().reads();
        keys.push(ReadKey::Allotment(norm_ref(&self.allotment_id)));
        keys
    }

    fn locks(&self, key: &ReadKey) -> bool {
        !matches!(key, ReadKey::Tour(_) | ReadKey::PricingCatalog(_) | ReadKey::BookingReference(_))
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        let allotment_id = validate::row_ref("allotment_id", &self.allotment_id)?;
        let device_id = validate::row_ref("device_id", &self.device_id)?;
        let payment_nonce = validate::id("payment_nonce", &self.payment_nonce)?;
        if self.sold_at > ctx.now + MAX_CLOCK_SKEW {
            return Err(Rejection::ClockSkew { field: "sold_at".into(), stamp: self.sold_at.to_rfc3339() }.into());
        }
        let mut a = view.allotment(&allotment_id)?.ok_or_else(|| Rejection::not_found("allotment", &allotment_id))?;
        if a.departure_id != self.departure_id.trim() {
            return Err(FieldError::new("departure_id", "the allotment is on another departure").into());
        }
        if a.device_id != device_id || a.user_id != ctx.user_id {
            return Err(Rejection::NotAuthorized { action: "sell on another device's allotment".into() }.into());
        }
        let requested: u32 = self.lines.iter().map(|l| l.quantity).sum();
        a.sold = allotment::check_sale(&a, requested, self.sold_at)?;
        // A guest unknown here is created as a walk-in; a retried sale finds its own.
        let mut changes = match view.customer(&self.customer.id)? {
            Some(_) => vec![],
            None => self.guest().decide(view, ctx)?,
        };
        let guest = changes.iter().find_map(|c| match c {
            Change::PutCustomer(c) => Some(c.clone()),
            _ => None,
        });
        let mut booked = self.booking().decide(&WithGuest { view, guest }, ctx, SeatSource::Allotment)?;
        let Some(Change::PutBooking(mut b)) = booked.first().cloned() else {
            return Err(ApplyError::Store(StoreFault("a walk-up decided no booking".into())));
        };
        // Sold after a release (the sale was made before it): the seats went back meanwhile and
        // are taken again, past capacity if need be; the audit says so.
        if a.status == AllotmentStatus::Released {
            let mut dep =
                view.departure(&a.departure_id)?.ok_or_else(|| Rejection::not_found("departure", &a.departure_id))?;
            dep.booked_count += requested;
            dep.status = capacity::status_for_occupancy(dep.status, dep.booked_count, dep.capacity);
            if dep.booked_count > dep.capacity {
                changes.push(Change::Audit(AuditEntry {
                    action: "allotment.sold_after_release".into(),
                    entity: "departure".into(),
                    entity_id: dep.id.clone(),
                    actor_id: ctx.user_id.clone(),
                    at: ctx.now,
                    detail: json!({ "allotment_id": a.id, "booking_id": b.id, "over_by": dep.booked_count - dep.capacity }),
                }));
            }
            a.returned = a.returned.saturating_sub(requested);
            changes.push(Change::PutDeparture(dep));
        }
        b.status = BookingStatus::Confirmed;
        b.confirmed_at = Some(ctx.now);
        if self.payment == WalkUpPayment::Cash && b.pricing.total.amount > 0 {
            b.paid_amount = b.pricing.total;
            b.payment_status = PaymentStatus::Paid;
            changes.push(Change::PutLedgerEntry(LedgerEntry {
                id: payment_nonce,
                organization_id: ctx.organization_id.clone(),
                booking_id: b.id.clone(),
                departure_id: b.departure_id.clone(),
                kind: EntryKind::Cash,
                amount: b.pricing.total.amount,
                currency: b.pricing.total.currency,
                note: Some("walk-up".into()),
                reference: None,
                recorded_by: ctx.user_id.clone(),
                recorded_at: self.sold_at,
                method: None,
            }));
        }
        a.booking_ids.push(b.id.clone());
        booked[0] = Change::PutBooking(b);
        // The customer first (a booking never arrives before its guest), then the booking.
        let mut out: Vec<Change> = changes.iter().filter(|c| matches!(c, Change::PutCustomer(_))).cloned().collect();
        out.extend(booked);
        out.extend(changes.into_iter().filter(|c| !matches!(c, Change::PutCustomer(_))));
        out.push(Change::PutAllotment(a));
        Ok(out)
    }
}

/// The view a walk-up's booking is decided on: the store's, plus the guest made in the same
/// mutation.
struct WithGuest<'a> {
    view: &'a dyn ReadView,
    guest: Option<crate::entities::Customer>,
}

impl ReadView for WithGuest<'_> {
    fn tour(&self, id: &str) -> Result<Option<crate::entities::Tour>, StoreFault> {
        self.view.tour(id)
    }
    fn tour_by_slug(&self, slug: &str) -> Result<Option<crate::entities::Tour>, StoreFault> {
        self.view.tour_by_slug(slug)
    }
    fn pricing_catalog(&self, tour_id: &str) -> Result<Option<crate::pricing::PricingCatalog>, StoreFault> {
        self.view.pricing_catalog(tour_id)
    }
    fn departure(&self, id: &str) -> Result<Option<crate::entities::Departure>, StoreFault> {
        self.view.departure(id)
    }
    fn booking(&self, id: &str) -> Result<Option<crate::entities::Booking>, StoreFault> {
        self.view.booking(id)
    }
    fn booking_reference_taken(&self, reference: &str) -> Result<bool, StoreFault> {
        self.view.booking_reference_taken(reference)
    }
    fn customer(&self, id: &str) -> Result<Option<crate::entities::Customer>, StoreFault> {
        match &self.guest {
            Some(g) if g.id == id => Ok(Some(g.clone())),
            _ => self.view.customer(id),
        }
    }
}

#[cfg(test)]
pub(super) mod tests;

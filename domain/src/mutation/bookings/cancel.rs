//! `cancel_booking.v1`, and the cancelling of one booking that cancelling a departure shares.

use super::*;

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

pub(in crate::mutation) struct Cancelled {
    pub booking: Booking,
    pub released: u32,
    pub refund: Option<RefundRequest>,
}

/// Cancels one booking at `ctx.now`: the policy decides the refund, the seats it held are
/// released (by the caller, who owns the departure row). Shared with cancelling a departure.
pub(in crate::mutation) fn cancel_one(
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

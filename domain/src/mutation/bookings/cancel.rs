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
    /// Staff's refund in place of the policy's, with why (audited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_override: Option<RefundOverrideArgs>,
    /// Mail the customer that the booking is cancelled, with the refund (the desk asks; the
    /// website's own cancellation page and an expired hold do not).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notify_customer: bool,
}

/// A refund staff decide in place of the policy's: an amount in the booking's currency, from
/// nothing to all the money received and not yet given back, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundOverrideArgs {
    /// Minor units of `currency`.
    pub amount: i64,
    pub currency: String,
    pub reason: String,
}

/// The audit action of a cancellation whose refund staff set in place of the policy's.
pub const REFUND_OVERRIDDEN: &str = "booking.refund_overridden";

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
    let net_paid =
        Some(Money::new(b.paid_amount.amount.saturating_sub(b.refunded_amount.amount).max(0), b.paid_amount.currency));
    b.cancellation =
        Some(CancellationRecord { by, reason, decision, refund_override: None, net_paid, refund_by_hand: None });
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
            ReadKey::LedgerOfBooking(norm_ref(&self.booking_id)),
        ]
    }

    /// The ledger is read under the booking's lock: every writer of a booking's entries locks
    /// the booking first.
    fn locks(&self, key: &ReadKey) -> bool {
        !matches!(key, ReadKey::CancellationPolicy(_) | ReadKey::LedgerOfBooking(_))
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
        let overridden = self.refund_override.as_ref().map(|o| refund_override(o, &b, ctx)).transpose()?;
        let entries = view.ledger_of_booking(&booking_id)?;
        let c = cancel_one(b, dep.starts_at, &policy, self.by, reason, ctx)?;
        release_seats(&mut dep, c.released);
        let mut booking = c.booking;
        let mut record =
            booking.cancellation.take().ok_or_else(|| StoreFault("a cancellation without its record".into()))?;
        let policy_refund = record.decision.refund;
        record.refund_override = overridden;
        // Card money goes back through Stripe (after commit, by the refunds job); the rest is
        // given back by hand and stays a refund due on the booking until then.
        let net_paid = record.net_paid.map_or(0, |m| m.amount);
        let split = ledger::split_refund(record.refund(), ledger::card_refundable(net_paid, &entries));
        record.refund_by_hand = (!split.by_hand.is_zero()).then_some(split.by_hand);
        let audit = record.refund_override.as_ref().map(|o| {
            Change::Audit(AuditEntry::of_booking(
                ctx,
                REFUND_OVERRIDDEN,
                &booking,
                json!({
                    "reference": booking.reference_number.to_string(),
                    "policy_refund": policy_refund,
                    "refund": o.amount,
                    "reason": o.reason,
                }),
            ))
        });
        let refund = (!split.card.is_zero()).then(|| RefundRequest {
            booking_id: booking.id.clone(),
            amount: split.card,
            reason: record.reason.clone().unwrap_or_else(|| "booking cancelled".into()),
            requested_by: ctx.user_id.clone(),
            requested_at: ctx.now,
        });
        booking.cancellation = Some(record);
        let mut changes = vec![Change::PutBooking(booking)];
        if c.released > 0 {
            changes.push(Change::PutDeparture(dep));
        }
        changes.extend(refund.map(Change::RequestRefund));
        changes.extend(audit);
        Ok(changes)
    }
}

/// The audit action of money a released hold gave back to a gift card.
pub const GIFT_CARD_GIVEN_BACK: &str = "gift_card.given_back";

/// One gift-card redemption of a booking's checkout and the card it came from (the card's
/// movement of the same id names it; the ledger entry shows only the masked code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedemptionArgs {
    pub entry_id: String,
    pub gift_card_id: String,
}

/// Arguments of `expire_hold.v1`: a website booking whose seat hold ran out while the only money
/// on it was gift-card redemptions made at checkout (`payment::hold_release`). It is cancelled
/// and its seats released as an unpaid hold's are (`cancel_booking.v1`), and each redemption goes
/// back to its card: a `refund` entry on the booking and a `refund` movement on the card, both
/// with the id `{entry_id}-back`, so the card's balance is what it was and the booking's books
/// add up (paid = refunded). The server's hold job is the caller; it finds the candidates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpireHoldV1 {
    pub booking_id: String,
    pub tour_id: String,
    pub departure_id: String,
    /// The hold as the server stores it (the booking row's `hold_expires_at`).
    pub hold_expires_at: DateTime<Utc>,
    pub redemptions: Vec<RedemptionArgs>,
}

/// The id of the refund entry and card movement that give redemption `entry_id` back.
pub fn given_back_id(entry_id: &str) -> String {
    format!("{entry_id}-back")
}

impl Mutator for ExpireHoldV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let mut keys = vec![
            ReadKey::Booking(norm_ref(&self.booking_id)),
            ReadKey::Departure(norm_ref(&self.departure_id)),
            ReadKey::LedgerOfBooking(norm_ref(&self.booking_id)),
        ];
        keys.extend(self.redemptions.iter().map(|r| ReadKey::GiftCard(norm_ref(&r.gift_card_id))));
        keys
    }

    /// The booking, its departure and the cards are locked; the ledger is read under the
    /// booking's lock (every writer of a booking's entries locks the booking first).
    fn locks(&self, key: &ReadKey) -> bool {
        !matches!(key, ReadKey::LedgerOfBooking(_))
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::BookingsWrite, "release a seat hold")?;
        if ctx.role == Role::Customer {
            return Err(Rejection::NotAuthorized { action: "release a seat hold".into() }.into());
        }
        let booking_id = validate::row_ref("booking_id", &self.booking_id)?;
        let tour_id = validate::row_ref("tour_id", &self.tour_id)?;
        let departure_id = validate::row_ref("departure_id", &self.departure_id)?;
        let b = view.booking(&booking_id)?.ok_or_else(|| Rejection::not_found("booking", &booking_id))?;
        if b.departure_id != departure_id || b.tour_id != tour_id {
            return Err(FieldError::new("departure_id", "is not the booking's departure").into());
        }
        // Released already (by this job on another instance, or a second run): nothing again.
        if b.status == BookingStatus::Cancelled {
            return Ok(vec![]);
        }
        let entries = view.ledger_of_booking(&booking_id)?;
        let release =
            crate::payment::hold_release(&b, Some(self.hold_expires_at), &entries, ctx.now).ok_or_else(|| {
                FieldError::new("booking_id", "the seat hold has not run out, or money other than a gift card is on it")
            })?;
        let mut changes = Vec::new();
        let mut audits = Vec::new();
        for e in &release.give_back {
            let card_id = self
                .redemptions
                .iter()
                .find(|r| r.entry_id == e.id)
                .map(|r| norm_ref(&r.gift_card_id))
                .ok_or_else(|| FieldError::new("redemptions", format!("no card is named for entry {}", e.id)))?;
            let card = view
                .gift_card(&card_id)?
                .ok_or_else(|| FieldError::new("redemptions", format!("no gift card {card_id}")))?;
            let back = card.give_back(e.money(), ctx.now)?;
            let id = given_back_id(&e.id);
            let masked = crate::gift_card::masked_code(&card.code);
            changes.push(Change::PutLedgerEntry(ledger::LedgerEntry {
                id: id.clone(),
                organization_id: ctx.organization_id.clone(),
                booking_id: b.id.clone(),
                departure_id: b.departure_id.clone(),
                kind: ledger::EntryKind::Refund,
                amount: e.amount,
                currency: e.currency,
                note: Some("back to the gift card: the seat hold ran out before the rest was paid".into()),
                reference: Some(masked.clone()),
                recorded_by: ctx.user_id.clone(),
                recorded_at: ctx.now,
                method: None,
            }));
            changes.push(Change::PutGiftCardMovement(crate::gift_card::GiftCardMovement {
                id: id.clone(),
                organization_id: ctx.organization_id.clone(),
                gift_card_id: card.id.clone(),
                kind: crate::gift_card::MovementKind::Refund,
                amount: e.amount,
                currency: e.currency,
                balance_after: back.balance,
                booking_id: Some(b.id.clone()),
                payment_method: None,
                recorded_by: ctx.user_id.clone(),
                recorded_at: ctx.now,
            }));
            audits.push(Change::Audit(AuditEntry {
                action: GIFT_CARD_GIVEN_BACK.into(),
                entity: "gift_card".into(),
                entity_id: card.id.clone(),
                actor_id: ctx.user_id.clone(),
                at: ctx.now,
                detail: json!({
                    "code": masked,
                    "booking_id": b.id,
                    "reference": b.reference_number.to_string(),
                    "amount": e.amount,
                    "currency": e.currency.as_str(),
                    "balance_after": back.balance,
                }),
            }));
            changes.push(Change::PutGiftCard(back));
        }
        let mut dep = departure_of(view, &departure_id, &tour_id)?;
        // The operator's cancellation (everything paid is owed back), which the cards settle.
        let no_policy = CancellationPolicy { id: String::new(), name: String::new(), rules: vec![] };
        let reason = Some("payment was not received before the seat hold expired".to_string());
        let c = cancel_one(b, dep.starts_at, &no_policy, CancelledBy::Operator, reason, ctx)?;
        release_seats(&mut dep, c.released);
        let mut booking = c.booking;
        booking.refunded_amount.amount = booking.refunded_amount.amount.saturating_add(release.given_back());
        booking.payment_status = PaymentStatus::from_amounts(
            booking.pricing.total.amount,
            booking.paid_amount.amount,
            booking.refunded_amount.amount,
        );
        if let Some(record) = booking.cancellation.as_mut() {
            // Nothing is left to give back by hand: the cards took it.
            record.refund_by_hand = None;
        }
        let mut out = vec![Change::PutBooking(booking)];
        if c.released > 0 {
            out.push(Change::PutDeparture(dep));
        }
        out.extend(changes);
        out.extend(audits);
        Ok(out)
    }
}

/// Checks staff's refund against the booking: staff only (never the customer's own
/// cancellation), in the booking's currency, from nothing up to the money received and not
/// given back, with a reason. Each refusal names its field.
fn refund_override(o: &RefundOverrideArgs, b: &Booking, ctx: &MutationCtx) -> Result<RefundOverride, ApplyError> {
    if ctx.role == Role::Customer {
        return Err(Rejection::NotAuthorized { action: "override the cancellation refund".into() }.into());
    }
    let currency = validate::currency("refund_override.currency", &o.currency)?;
    let ours = b.paid_amount.currency;
    if currency != ours {
        return Err(FieldError::new(
            "refund_override.currency",
            format!("the booking was paid in {ours}; a refund in {currency} cannot be given"),
        )
        .into());
    }
    let refundable = b.paid_amount.amount.saturating_sub(b.refunded_amount.amount).max(0);
    if o.amount < 0 {
        return Err(FieldError::new("refund_override.amount", "cannot be less than zero").into());
    }
    if o.amount > refundable {
        return Err(FieldError::new(
            "refund_override.amount",
            format!("is more than the {} paid and not refunded", Money::new(refundable, ours).display()),
        )
        .into());
    }
    let reason = validate::text("refund_override.reason", &o.reason, 500)?;
    Ok(RefundOverride { amount: Money::new(o.amount, ours), reason, by: ctx.user_id.clone() })
}

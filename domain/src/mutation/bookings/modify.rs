//! `modify_booking.v1`: new lines on an existing booking, re-priced now.

use super::*;

priced_booking_args! {
    /// Arguments of `modify_booking.v1`: the booking's new lines, re-priced now. A code already on
    /// the booking may be kept (`promo_code`) without counting as a new use; adding a code to an
    /// existing booking is not supported in v1.
    pub struct ModifyBookingV1 {
        pub booking_id: String,
    } on_departure {
    } priced {
    } checked {
    }
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
        let snapshot = price(view, ctx, &tour_id, &dep, self.price_request(promo.as_ref()))?;

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

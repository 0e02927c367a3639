//! Modifying a booking from its page (`modify_booking.v1`): new counts per tier, a promo code,
//! a manual discount with its reason. The dialog previews what the domain decides on this desk's
//! rows (nothing written), then the same intent is queued at the total it showed.

use tourdesk_domain::Money;
use tourdesk_domain::entities::Booking;
use tourdesk_domain::ipc::{ModifyBooking, ModifyPreview, ModifyTier};
use tourdesk_domain::ledger::Balance;
use tourdesk_domain::mutation::{
    Change, ModifyBookingV1, Mutation, Rejection, lines_with_people, manual_discount_of, move_money,
};
use tourdesk_domain::pricing::{Adjustment, ManualDiscount};
use tourdesk_domain::validate::FieldError;

use super::money::promo_code_text;
use super::schedules::decided;
use super::write::{Replica, pricing_catalog};
use super::{Store, session_org};
use crate::{StoreError, rows};

impl Store {
    /// What `input` would do to the booking, decided by the domain on this desk's rows without
    /// writing anything; a change the domain refuses is its refusal, with the field named.
    pub fn modify_preview(&self, input: &ModifyBooking) -> Result<ModifyPreview, StoreError> {
        let conn = self.conn();
        let org = session_org(&conn)?.ok_or(StoreError::NotSignedIn)?;
        let b = booking(&conn, &org, &input.booking_id)?;
        let code = promo_code_text(&conn, &org, &b)?;
        let m = intent(&b, code.clone(), input)?;
        let ctx = self.ctx(&conn)?;
        let changes = m.run(&Replica { c: &conn, org: &org }, &ctx).map_err(decided)?;
        let after = changes
            .iter()
            .find_map(|c| if let Change::PutBooking(a) = c { Some(a.clone()) } else { None })
            .unwrap_or_else(|| b.clone());
        let to_card = changes
            .iter()
            .find_map(|c| if let Change::RequestRefund(r) = c { Some(r.amount) } else { None })
            .unwrap_or(Money::zero(after.pricing.total.currency));
        let catalog = pricing_catalog(&conn, &org, &b.tour_id)?;
        let tiers = catalog
            .map(|c| c.tiers)
            .unwrap_or_default()
            .into_iter()
            .filter(|t| t.variant_id.as_deref().is_none_or(|v| v == b.variant_id))
            .map(|t| ModifyTier {
                quantity: b.pricing.line_items.iter().filter(|l| l.pricing_tier_id == t.id).map(|l| l.quantity).sum(),
                tier_id: t.id,
                name: t.name,
                unit_price: t.base_price,
            })
            .collect();
        let manual = manual_discount_of(&b);
        Ok(ModifyPreview {
            booking_id: b.id.clone(),
            reference_number: b.reference_number.to_string(),
            tiers,
            promo_code: code,
            manual_discount: manual.as_ref().and_then(|m| match m.discount {
                Adjustment::Fixed(a) => Some(a),
                Adjustment::Percentage(_) => None,
            }),
            manual_discount_reason: manual.map(|m| m.description),
            money: move_money(&b, after.pricing.total),
            to_card,
            // What is still owed back once the card part went to Stripe: by hand.
            by_hand: Balance::of_booking(&after).refund_due(),
            seats_before: b.seats_held(),
            seats_after: after.pricing.participants(),
            pricing: after.pricing,
        })
    }

    /// Modifies the booking as the dialog shows it (`modify_booking.v1`, queued like every
    /// intent), at the total it showed. Answers the mutation id.
    pub fn modify_booking(&self, input: &ModifyBooking) -> Result<u64, StoreError> {
        let m = {
            let conn = self.conn();
            let org = session_org(&conn)?.ok_or(StoreError::NotSignedIn)?;
            let b = booking(&conn, &org, &input.booking_id)?;
            let code = promo_code_text(&conn, &org, &b)?;
            intent(&b, code, input)?
        };
        self.mutate(&m)
    }
}

/// Booking `id` of `org` for an intent about it: one this desk does not hold is the domain's
/// not-found refusal, as the mutation itself would answer.
pub(super) fn booking(conn: &rusqlite::Connection, org: &str, id: &str) -> Result<Booking, StoreError> {
    rows::booking(conn, org, id)?
        .ok_or_else(|| StoreError::Rejected(Rejection::NotFound { entity: "booking".into(), id: id.to_string() }))
}

/// The intent for what the dialog says, on `b` whose code is `code`: the counts with the people
/// already named, the code and discount kept unless changed (an empty text takes them off).
fn intent(b: &Booking, code: Option<String>, input: &ModifyBooking) -> Result<Mutation, StoreError> {
    let trimmed = |s: &Option<String>| s.as_deref().map(str::trim).map(str::to_string);
    let counts: Vec<(String, u32)> =
        input.lines.iter().filter(|l| l.quantity > 0).map(|l| (l.tier_id.clone(), l.quantity)).collect();
    let promo_code = match trimmed(&input.promo_code) {
        None => code,
        Some(c) if c.is_empty() => None,
        Some(c) => Some(c),
    };
    let currency = b.pricing.total.currency;
    let manual_discount = match trimmed(&input.manual_discount) {
        None => manual_discount_of(b),
        Some(a) if a.is_empty() => None,
        Some(typed) => {
            let amount = Money::from_decimal_str(&typed, currency).map_err(|_| {
                StoreError::Rejected(Rejection::Invalid(FieldError::new(
                    "manual_discount.amount",
                    format!("is not an amount in {currency} (like 12.50)"),
                )))
            })?;
            Some(ManualDiscount {
                description: trimmed(&input.manual_discount_reason).unwrap_or_default(),
                discount: Adjustment::Fixed(amount),
            })
        }
    };
    Ok(Mutation::ModifyBookingV1(ModifyBookingV1 {
        booking_id: b.id.clone(),
        tour_id: b.tour_id.clone(),
        departure_id: b.departure_id.clone(),
        customer_id: Some(b.customer_id.clone()),
        lines: lines_with_people(b, &counts),
        promo_code,
        manual_discount,
        reason: trimmed(&input.reason).filter(|r| !r.is_empty()),
        expected_total: input.expected_total,
        overbook: None,
    }))
}

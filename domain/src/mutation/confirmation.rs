//! `resend_confirmation.v1`: staff ask for a booking's confirmation to be sent again (the
//! customer lost it, typed a wrong address that has since been corrected). An intent like any
//! other: queued offline, decided on the server, which queues a new confirmation message in the
//! mail outbox in the same savepoint, and audited (`resend_confirmation.v1` on the booking).
//! Only a booking that is confirmed (or modified since) has a confirmation to send.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{ApplyError, AuditEntry, Change, MutationCtx, Mutator, ReadKey, ReadView, Rejection, norm_ref, require};
use crate::roles::{Permission, Role};
use crate::status::BookingStatus;
use crate::validate;

/// The audit action of a confirmation asked again; the server queues the message when it sees it.
pub const CONFIRMATION_RESENT: &str = "resend_confirmation.v1";

/// Arguments of `resend_confirmation.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResendConfirmationV1 {
    pub booking_id: String,
}

/// Whether a booking in `status` has a confirmation to send.
pub fn has_confirmation(status: BookingStatus) -> bool {
    matches!(status, BookingStatus::Confirmed | BookingStatus::Modified)
}

impl Mutator for ResendConfirmationV1 {
    fn reads(&self) -> Vec<ReadKey> {
        // Locked: a cancellation decided meanwhile is seen, and no confirmation follows it.
        vec![ReadKey::Booking(norm_ref(&self.booking_id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::BookingsWrite, "send a confirmation again")?;
        if ctx.role == Role::Customer {
            return Err(Rejection::NotAuthorized { action: "send a confirmation again".into() }.into());
        }
        let booking_id = validate::row_ref("booking_id", &self.booking_id)?;
        let b = view.booking(&booking_id)?.ok_or_else(|| Rejection::not_found("booking", &booking_id))?;
        if !has_confirmation(b.status) {
            return Err(Rejection::conflict(
                "booking_id",
                format!(
                    "booking {} is {}: only a confirmed booking has a confirmation to send",
                    b.reference_number,
                    b.status.as_str().replace('_', " ")
                ),
            )
            .into());
        }
        Ok(vec![Change::Audit(AuditEntry::of_booking(
            ctx,
            CONFIRMATION_RESENT,
            &b,
            json!({ "reference": b.reference_number.to_string(), "status": b.status.as_str() }),
        ))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mutation::testkit::*;
    use serde_json::json;

    fn sample() -> Mem {
        let mem = world();
        mem.put_booking(booking("b-1", 2, BookingStatus::Confirmed, crate::status::PaymentStatus::Paid, 10_000));
        mem.put_booking(booking("b-unpaid", 1, BookingStatus::Pending, crate::status::PaymentStatus::Unpaid, 0));
        mem
    }

    #[test]
    fn a_confirmed_booking_is_audited_as_resent_and_nothing_else_changes() {
        let changes = run_ok(&sample(), CONFIRMATION_RESENT, json!({"booking_id": "b-1"}), Role::Manager);
        let [Change::Audit(a)] = &changes[..] else { panic!("{changes:?}") };
        assert_eq!(
            (a.action.as_str(), a.entity.as_str(), a.entity_id.as_str()),
            (CONFIRMATION_RESENT, "booking", "b-1")
        );
    }

    #[test]
    fn an_unconfirmed_or_missing_booking_or_a_guide_is_refused_with_the_reason() {
        let mem = sample();
        assert_eq!(run_err(&mem, CONFIRMATION_RESENT, json!({"booking_id": "b-unpaid"}), Role::Owner), "CONFLICT");
        assert_eq!(run_err(&mem, CONFIRMATION_RESENT, json!({"booking_id": "b-none"}), Role::Owner), "NOT_FOUND");
        for role in [Role::Guide, Role::Customer] {
            assert_eq!(run_err(&mem, CONFIRMATION_RESENT, json!({"booking_id": "b-1"}), role), "NOT_AUTHORIZED");
        }
        assert_eq!(run_err(&mem, CONFIRMATION_RESENT, json!({"booking_id": ""}), Role::Owner), "INVALID");
        assert!(has_confirmation(BookingStatus::Modified) && !has_confirmation(BookingStatus::Cancelled));
    }
}

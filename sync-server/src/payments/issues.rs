//! Payment events that could not be applied, kept for people. A tenant's issue is a row of
//! `payment_issues` (V11) and a change in the organization's bucket, so owner, admin and
//! manager desks receive it like any other row and show it in their inbox; the event's own row
//! in `stripe_events` carries the reason code as well, for operators.

use chrono::Utc;
use tourdesk_domain::entities::Booking;
use tourdesk_domain::payment::{CannotApply, PaymentIssue};
use tourdesk_domain::protocol::{EntityKind, Op, org_bucket};

use super::gateway::WebhookEvent;
use crate::db::{self, Prepared, WriteTx};

/// Records why `event` was not applied, in the writer's organization. A redelivered event is
/// not applied again, so an issue is recorded once; should it be, the insert keeps the first.
pub async fn record(
    w: &WriteTx<'_>,
    event: &WebhookEvent,
    booking: Option<&Booking>,
    why: &CannotApply,
) -> anyhow::Result<()> {
    let issue = PaymentIssue::new(w.org(), booking, &event.id, &event.event_type, why, Utc::now());
    tracing::warn!(event = %event.id, kind = %event.event_type, org = w.org(), reason = why.code(), "{why}");
    let inserted = w
        .exec(
            "INSERT INTO payment_issues (id, organization_id, booking_id, booking_reference, stripe_event_id,
                                         event_type, reason, message, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT DO NOTHING",
            &[
                &issue.id,
                &issue.organization_id,
                &issue.booking_id,
                &issue.booking_reference,
                &issue.event_id,
                &issue.event_type,
                &issue.reason,
                &issue.message,
                &issue.created_at,
            ],
        )
        .await?;
    if inserted == 1 {
        // Office desks only: guides' devices hold reference data and their departures.
        let row = serde_json::to_value(&issue)?;
        w.log_change(&[org_bucket(w.org())], EntityKind::PaymentIssue, &issue.id, Op::Put, Some(row.clone()));
        db::audit(w, "stripe", "payment.issue", "payment_issue", &issue.id, &row);
    }
    Ok(())
}

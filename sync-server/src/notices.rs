//! E-mails a decided mutation owes customers, queued through the mail outbox in the transaction
//! (the push's savepoint) that writes it: a customer hears of a decision exactly when it commits.
//!
//! A booking confirmed by money gets its confirmation ([`booking_confirmed`]): by Stripe's
//! webhook, or by a payment staff recorded (`record_payment.v1`).
//!
//! And a departure the operator called off (`cancel_departure.v1`, or
//! `set_departure_status.v1` to cancelled) tells every customer whose booking it cancelled why,
//! what comes back, and how to pick another date. The link to do so is a magic manage link
//! (`website::bookings`), minted when the outbox sends the mail ([`mail::MANAGE_LINK`]), so its
//! token never rests in the database in clear.

use std::collections::HashMap;

use tourdesk_domain::entities::{Booking, Departure, GuideAssignment};
use tourdesk_domain::guides::AssignmentRole;
use tourdesk_domain::money::Money;
use tourdesk_domain::mutation::{BOOKING_CONFIRMED, Change, Mutation};
use tourdesk_domain::status::{BookingStatus, DepartureStatus};

use crate::db::{self, DbError, WriteTx};
use crate::mail;

/// The outbox type of the e-mail a cancelled departure sends each of its customers.
pub const DEPARTURE_CANCELLED: &str = "departure_cancelled";

/// Queues what `changes`, just written by `m`, owes customers. Does nothing (and awaits nothing)
/// unless the mutation cancelled bookings with their departure, a recorded payment confirmed a
/// booking or staff asked for a confirmation again, so a write sent in one go stays one go.
pub async fn queue_for(w: &WriteTx<'_>, m: &Mutation, changes: &[Change]) -> Result<(), DbError> {
    if let Mutation::ResendConfirmationV1(_) = m {
        return confirmation_resent(w, changes).await;
    }
    if let Mutation::RecordPaymentV1(_) | Mutation::RedeemGiftCardV1(_) = m {
        return confirmed_by_payment(w, changes).await;
    }
    if let Mutation::CancelBookingV1(c) = m {
        if c.notify_customer {
            for c in changes {
                if let Change::PutBooking(b) = c
                    && b.status == BookingStatus::Cancelled
                {
                    booking_cancelled(w, b).await?;
                }
            }
        }
        return Ok(());
    }
    if let Mutation::AssignGuideV1(_) | Mutation::AssignGuideV2(_) = m {
        for c in changes {
            if let Change::PutGuideAssignment(a) = c {
                guide_assigned(w, a).await?;
            }
        }
        return Ok(());
    }
    let cancels_departure = match m {
        Mutation::CancelDepartureV1(_) => true,
        Mutation::SetDepartureStatusV1(s) => s.status == DepartureStatus::Cancelled,
        _ => false,
    };
    if !cancels_departure {
        return Ok(());
    }
    let cancelled: Vec<&Booking> = changes
        .iter()
        .filter_map(|c| match c {
            Change::PutBooking(b) if b.status == BookingStatus::Cancelled => Some(b),
            _ => None,
        })
        .collect();
    let Some(first) = cancelled.first() else { return Ok(()) };
    let refunds: HashMap<&str, Money> = changes
        .iter()
        .filter_map(|c| match c {
            Change::RequestRefund(r) => Some((r.booking_id.as_str(), r.amount)),
            _ => None,
        })
        .collect();
    let org = w.org().to_string();
    let departure = match changes.iter().find_map(|c| match c {
        Change::PutDeparture(d) => Some(d.clone()),
        _ => None,
    }) {
        Some(d) => d,
        // A replay that swept up a stray booking: the departure row was not written again.
        None => db::departure(w.tx(), &org, &first.departure_id).await?.ok_or_else(|| {
            DbError::Corrupt(format!("departure {} of a cancelled booking vanished", first.departure_id))
        })?,
    };
    let tour = db::tour_name(w.tx(), &org, &departure.tour_id).await?.unwrap_or_default();
    for b in cancelled {
        let Some(to) = db::customer_email(w.tx(), &org, &b.customer_id).await? else { continue };
        let refund = refunds.get(b.id.as_str()).copied();
        let email = departure_cancelled(&to, &tour, &departure, b, refund);
        let id = mail::queue(w.tx(), &org, &b.customer_id, Some(&b.id), DEPARTURE_CANCELLED, &email).await?;
        db::log_communications(w, &[id]).await?;
    }
    Ok(())
}

/// What a customer's e-mail about a booking names: its address (a walk-in taken at the desk may
/// have none), the tour, when it starts in the departure's zone, and the reference.
struct AboutBooking {
    to: Option<String>,
    tour: String,
    when: String,
    reference: String,
}

async fn about_booking(w: &WriteTx<'_>, b: &Booking) -> Result<AboutBooking, DbError> {
    let (tx, org) = (w.tx(), w.org());
    let to = db::customer_email(tx, org, &b.customer_id).await?;
    let dep = db::departure(tx, org, &b.departure_id).await?;
    let tour = db::tour_name(tx, org, &b.tour_id).await?.unwrap_or_default();
    let when =
        dep.map(|d| format!("{} {} ({})", d.local_date, d.local_time.format("%H:%M"), d.timezone)).unwrap_or_default();
    Ok(AboutBooking { to, tour, when, reference: b.reference_number.to_string() })
}

/// Queues a customer's e-mail about `b`; without an address it is recorded as not sent, with why.
async fn to_customer(
    w: &WriteTx<'_>,
    b: &Booking,
    to: Option<String>,
    kind: &str,
    subject: String,
    text: String,
) -> Result<(), DbError> {
    let (tx, org) = (w.tx(), w.org());
    // A walk-in taken at the desk may have no address: recorded as not sent, with why.
    let id = match to {
        None => mail::record_no_address(tx, org, &b.customer_id, Some(&b.id), kind, &subject, &text).await?,
        Some(to) => {
            let email = mail::Email { to, subject, text };
            Some(mail::queue(tx, org, &b.customer_id, Some(&b.id), kind, &email).await?)
        }
    };
    db::log_communications(w, &Vec::from_iter(id)).await
}

/// The confirmation e-mail, queued in the transaction that confirms: sent iff the booking is.
/// Stripe's webhook and a payment recorded at the desk (`record_payment.v1`) both send this one.
pub async fn booking_confirmed(w: &WriteTx<'_>, b: &Booking) -> Result<(), DbError> {
    let AboutBooking { to, tour, when, reference } = about_booking(w, b).await?;
    let subject = format!("Booking confirmed: {tour} — {reference}");
    let text = format!(
        "Thank you! Your booking {reference} is confirmed.\n\n{tour}\n{when}\nParticipants: {}\nPaid: {}\n",
        b.participant_count(),
        b.paid_amount.display_with_symbol()
    );
    to_customer(w, b, to, "booking_confirmation", subject, text).await
}

/// Staff asked for a booking's confirmation again (`resend_confirmation.v1`): a new message in
/// the outbox, as the first one was written, queued in the push's savepoint.
async fn confirmation_resent(w: &WriteTx<'_>, changes: &[Change]) -> Result<(), DbError> {
    for c in changes {
        if let Change::Audit(a) = c
            && a.action == tourdesk_domain::mutation::CONFIRMATION_RESENT
        {
            let b = db::booking_by_id(w.tx(), w.org(), &a.entity_id)
                .await?
                .ok_or_else(|| DbError::Corrupt(format!("booking {} to confirm again vanished", a.entity_id)))?;
            booking_confirmed(w, &b).await?;
        }
    }
    Ok(())
}

/// The outbox type of the e-mail a booking cancelled at the office sends its customer.
pub const BOOKING_CANCELLED: &str = "booking_cancelled";

/// Tells the customer their booking is cancelled (`cancel_booking.v1` from a desk that asked to
/// notify): the tour and date, and what comes back, to the card and by hand. Queued in the push's
/// savepoint, so it goes out iff the cancellation commits.
pub async fn booking_cancelled(w: &WriteTx<'_>, b: &Booking) -> Result<(), DbError> {
    let AboutBooking { to, tour, when, reference } = about_booking(w, b).await?;
    let subject = format!("Booking cancelled: {tour} — {reference}");
    let mut text = format!("Your booking {reference} is cancelled.\n\n{tour}\n{when}\n");
    if let Some(c) = &b.cancellation {
        let refund = c.refund();
        let by_hand = c.refund_by_hand.unwrap_or(Money::new(0, refund.currency));
        let to_card = Money::new(refund.amount.saturating_sub(by_hand.amount).max(0), refund.currency);
        if refund.is_zero() {
            text.push_str("\nNo refund is due under the cancellation policy.\n");
        } else {
            text.push_str(&format!("\nRefund: {}\n", refund.display_with_symbol()));
            if !to_card.is_zero() {
                text.push_str(&format!(
                    "{} goes back to the card you paid with; it may take a few days to appear.\n",
                    to_card.display_with_symbol()
                ));
            }
            if !by_hand.is_zero() {
                text.push_str(&format!(
                    "{} paid at our office is given back there; we will be in touch.\n",
                    by_hand.display_with_symbol()
                ));
            }
        }
    }
    to_customer(w, b, to, BOOKING_CANCELLED, subject, text).await
}

/// The outbox type of the e-mail a guide gets when assigned to a departure.
pub const GUIDE_ASSIGNED: &str = "guide_assigned";

/// Tells a guide they were assigned (a new assignment, or one asked again after they declined):
/// the tour, when in the departure's zone, their role, and that it is on their device at its
/// next sync. Queued in the push's savepoint, so it goes out iff the assignment commits.
pub async fn guide_assigned(w: &WriteTx<'_>, a: &GuideAssignment) -> Result<(), DbError> {
    let (tx, org) = (w.tx(), w.org());
    let Some(guide) = db::guide(tx, org, &a.guide_id).await? else { return Ok(()) };
    let Some(dep) = db::departure(tx, org, &a.departure_id).await? else { return Ok(()) };
    let tour = db::tour_name(tx, org, &dep.tour_id).await?.unwrap_or_default();
    let when =
        format!("{} at {} ({})", dep.local_date.format("%A %-d %B %Y"), dep.local_time.format("%H:%M"), dep.timezone);
    let role = match a.role {
        AssignmentRole::Lead => "lead guide",
        AssignmentRole::Assistant => "assistant guide",
    };
    let mut text = format!("Hello {},\n\nYou are assigned as {role} to {tour} on {when}.\n", guide.first_name);
    if let Some(notes) = a.notes.as_deref().filter(|n| !n.trim().is_empty()) {
        text.push_str(&format!("\nNotes from the office: {notes}\n"));
    }
    text.push_str("\nThe departure and its guest list appear in Tourdesk on your device at its next sync.\n");
    let email =
        mail::Email { to: guide.email.clone(), subject: format!("New assignment: {tour}, {}", dep.local_date), text };
    mail::queue_to_guide(tx, org, &guide.id, GUIDE_ASSIGNED, &email).await?;
    Ok(())
}

/// A payment recorded at the desk that confirmed its booking (the domain audits
/// `booking.confirmed` exactly then) owes the customer the confirmation e-mail; the push's dedupe
/// key makes the decision, and so the e-mail, happen once.
async fn confirmed_by_payment(w: &WriteTx<'_>, changes: &[Change]) -> Result<(), DbError> {
    let confirmed = changes.iter().any(|c| matches!(c, Change::Audit(a) if a.action == BOOKING_CONFIRMED));
    let booking = changes.iter().find_map(|c| match c {
        Change::PutBooking(b) => Some(b),
        _ => None,
    });
    match booking {
        Some(b) if confirmed => booking_confirmed(w, b).await,
        _ => Ok(()),
    }
}

/// The e-mail itself: the tour, its local date and time, the operator's reason, the refund, and
/// the link to pick another date (left as [`mail::MANAGE_LINK`] for the outbox to fill in).
pub fn departure_cancelled(to: &str, tour: &str, d: &Departure, b: &Booking, refund: Option<Money>) -> mail::Email {
    let when = format!("{} at {} ({})", d.local_date.format("%A %-d %B %Y"), d.local_time.format("%H:%M"), d.timezone);
    let reason = b
        .cancellation
        .as_ref()
        .and_then(|c| c.reason.as_deref())
        .filter(|r| !r.trim().is_empty())
        .unwrap_or("the operator had to call it off");
    let reference = b.reference_number.to_string();
    let money = match refund {
        Some(r) => format!(
            "We are refunding {} in full to the card you paid with. Depending on your bank it can take 5 to 10 \
             business days to show.",
            r.display_with_symbol()
        ),
        None => "Nothing was charged for it, so there is nothing to refund.".to_string(),
    };
    mail::Email {
        to: to.to_string(),
        subject: format!("Cancelled: {tour} on {}", d.local_date.format("%-d %B %Y")),
        text: format!(
            "Hello,\n\nWe are sorry: {tour} on {when} has been cancelled and will not run.\n\nReason: {reason}\n\n\
             Your booking {reference} for {pax} is cancelled. {money}\n\n\
             You are welcome to pick another date of {tour} instead. This link shows your booking and the \
             dates with seats left (it works for {days} days):\n\n{link}\n\n\
             If you have any questions, just reply to this e-mail.\n",
            pax = guests(b.participant_count()),
            days = mail::MANAGE_LINK_DAYS,
            link = mail::MANAGE_LINK,
        ),
    }
}

fn guests(n: u32) -> String {
    if n == 1 { "1 guest".into() } else { format!("{n} guests") }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::NaiveTime;
    use tourdesk_domain::money::Currency;

    #[test]
    fn the_mail_says_what_why_how_much_and_where_to_rebook() {
        // The fixture's July departure, half an hour later, called off.
        let base = tourdesk_domain::fixtures::departure();
        let d = Departure {
            local_time: NaiveTime::from_hms_opt(9, 30, 0).unwrap(),
            starts_at: base.starts_at + chrono::Duration::minutes(30),
            ends_at: base.ends_at + chrono::Duration::minutes(30),
            status: DepartureStatus::Cancelled,
            ..base
        };
        let json = serde_json::json!({
            "id": "b", "organization_id": "o", "reference_number": "BK-2026-ABCDEF", "customer_id": "c",
            "departure_id": "d", "tour_id": "t", "variant_id": "v",
            "pricing": {"line_items": [], "subtotal": {"amount": 0, "currency": "GBP"}, "discounts": [],
                        "taxes": [], "total": {"amount": 0, "currency": "GBP"}, "promotional_code_id": null},
            "participants": [], "status": "cancelled", "payment_status": "paid",
            "paid_amount": {"amount": 9000, "currency": "GBP"}, "refunded_amount": {"amount": 0, "currency": "GBP"},
            "source": "admin", "special_requests": null, "dietary_restrictions": null, "overbook": null,
            "cancellation": {"by": "operator", "reason": "Storm warning",
                             "decision": {"hours_before": 900, "rule": null, "refund_percentage": 100,
                                          "refund": {"amount": 9000, "currency": "GBP"}}},
            "checked_in": 0, "no_shows": 0, "created_at": "2026-06-01T12:00:00Z", "confirmed_at": null,
            "cancelled_at": "2026-06-01T12:00:00Z", "updated_at": "2026-06-01T12:00:00Z"
        });
        let b: Booking = match serde_json::from_value(json) {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        };
        let m = departure_cancelled("ann@example.com", "Old Town Walk", &d, &b, Some(Money::new(9000, Currency::GBP)));
        assert_eq!(m.subject, "Cancelled: Old Town Walk on 10 July 2026");
        for part in [
            "Old Town Walk on Friday 10 July 2026 at 09:30 (Europe/London)",
            "Reason: Storm warning",
            "BK-2026-ABCDEF",
            "refunding £90.00 in full",
            "pick another date",
            mail::MANAGE_LINK,
        ] {
            assert!(m.text.contains(part), "{part:?} missing from {}", m.text);
        }
        let unpaid = departure_cancelled("ann@example.com", "Old Town Walk", &d, &b, None);
        assert!(unpaid.text.contains("nothing to refund"), "{}", unpaid.text);
    }
}

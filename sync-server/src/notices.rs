//! E-mails a decided mutation owes customers, queued through the mail outbox in the transaction
//! (the push's savepoint) that writes it: a customer hears of a decision exactly when it commits.
//!
//! A booking confirmed by money gets its confirmation ([`booking_confirmed`]): by Stripe's
//! webhook, or by a payment staff recorded (`record_payment.v1`).
//!
//! Money owes the customer word too: a refund on its way ([`refund_on_its_way`], once per refund,
//! when Stripe accepted it), and a balance to pay with a link ([`balance_request`]) when a change
//! raised the price, or when a card payment failed (the payment chase job asks again).
//!
//! And a departure the operator called off (`cancel_departure.v1`, or
//! `set_departure_status.v1` to cancelled) tells every customer whose booking it cancelled why,
//! what comes back, and how to pick another date. The link to do so is a magic manage link
//! (`website::bookings`), minted when the outbox sends the mail ([`mail::MANAGE_LINK`]), so its
//! token never rests in the database in clear.

use std::collections::HashMap;

use tourdesk_domain::entities::{Booking, Departure, GuideAssignment};
use tourdesk_domain::guides::AssignmentRole;
use tourdesk_domain::money::Currency;
use tourdesk_domain::money::Money;
use tourdesk_domain::mutation::{
    BOOKING_CONFIRMED, BOOKING_MODIFIED, BOOKING_MOVED, CUSTOMER_MESSAGE_KIND, CUSTOMER_MESSAGE_SENT, Change,
    MessageChannel, Mutation, RecordRefundV1, SendCustomerMessageV1,
};
use tourdesk_domain::status::{BookingStatus, DepartureStatus};

use tourdesk_domain::messages::{self as domain_messages, MessageData, MessageKind};

use crate::db::{self, DbError, Prepared, WriteTx};
use crate::{mail, messages};

/// The outbox type of the e-mail a cancelled departure sends each of its customers.
pub const DEPARTURE_CANCELLED: &str = "departure_cancelled";

/// Queues what `changes`, just written by `m`, owes customers. Does nothing (and awaits nothing)
/// unless the mutation cancelled bookings with their departure, a recorded payment confirmed a
/// booking, staff asked for a confirmation again or wrote to the customer, so a write sent in one go stays one go.
pub async fn queue_for(w: &WriteTx<'_>, m: &Mutation, changes: &[Change]) -> Result<(), DbError> {
    if let Mutation::ResendConfirmationV1(_) = m {
        return confirmation_resent(w, changes).await;
    }
    if let Mutation::SendCustomerMessageV1(a) = m {
        return customer_message(w, a, changes).await;
    }
    if let Mutation::RecordPaymentV1(_) | Mutation::RedeemGiftCardV1(_) = m {
        return confirmed_by_payment(w, changes).await;
    }
    if let Mutation::RecordRefundV1(r) = m {
        return refund_given_back(w, r, changes).await;
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
    if let Mutation::ModifyBookingV1(_) | Mutation::MoveBookingV1(_) = m {
        return balance_after_change(w, changes).await;
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
        let Some(who) = messages::addressee(w.tx(), &org, &b.customer_id).await? else { continue };
        if who.email.is_none() {
            continue;
        }
        let refund = refunds.get(b.id.as_str()).copied();
        let data = MessageData {
            customer_name: who.first_name.clone(),
            ..departure_cancelled(&tour, &departure, b, refund, who.language)
        };
        send(w, &who, b, MessageKind::DepartureCancelled, &data).await?;
    }
    Ok(())
}

/// The confirmation e-mail, queued in the transaction that confirms: sent iff the booking is.
/// Stripe's webhook and a payment recorded at the desk (`record_payment.v1`) both send this one.
pub async fn booking_confirmed(w: &WriteTx<'_>, b: &Booking) -> Result<(), DbError> {
    let (tx, org) = (w.tx(), w.org());
    let Some(who) = messages::addressee(tx, org, &b.customer_id).await? else { return Ok(()) };
    let data = MessageData { amount: b.paid_amount.display_with_symbol(), ..booking_data(w, b, &who).await? };
    send(w, &who, b, MessageKind::Confirmation, &data).await
}

/// The outbox type of the e-mail a booking cancelled at the office sends its customer.
pub const BOOKING_CANCELLED: &str = "booking_cancelled";

/// Tells the customer their booking is cancelled (`cancel_booking.v1` from a desk that asked to
/// notify): the tour and date, and what comes back, to the card and by hand. Queued in the push's
/// savepoint, so it goes out iff the cancellation commits.
pub async fn booking_cancelled(w: &WriteTx<'_>, b: &Booking) -> Result<(), DbError> {
    let (tx, org) = (w.tx(), w.org());
    let Some(who) = messages::addressee(tx, org, &b.customer_id).await? else { return Ok(()) };
    let mut data = booking_data(w, b, &who).await?;
    if let Some(c) = &b.cancellation {
        let refund = c.refund();
        let by_hand = c.refund_by_hand.unwrap_or(Money::new(0, refund.currency));
        let to_card = Money::new(refund.amount.saturating_sub(by_hand.amount).max(0), refund.currency);
        let shown = |m: Money| if m.is_zero() { String::new() } else { m.display_with_symbol() };
        data.refund = shown(refund);
        data.refund_details =
            domain_messages::refund_details(who.language, &data.refund, &shown(to_card), &shown(by_hand));
    } else {
        data.refund_details = domain_messages::refund_details(who.language, "", "", "");
    }
    send(w, &who, b, MessageKind::Cancellation, &data).await
}

/// What every message about booking `b` says: the customer, reference, tour, when (in the
/// departure's zone, in the customer's language), how many, and the link to manage it (filled in
/// by the outbox when it sends).
async fn booking_data(w: &WriteTx<'_>, b: &Booking, who: &messages::Addressee) -> Result<MessageData, DbError> {
    let (tx, org) = (w.tx(), w.org());
    let dep = db::departure(tx, org, &b.departure_id).await?;
    let tour = db::tour_name(tx, org, &b.tour_id).await?.unwrap_or_default();
    Ok(MessageData {
        customer_name: who.first_name.clone(),
        reference: b.reference_number.to_string(),
        tour,
        departure_time: dep.map(|d| when(&d, who.language)).unwrap_or_default(),
        participants: b.participant_count().to_string(),
        manage_link: mail::MANAGE_LINK.into(),
        ..MessageData::default()
    })
}

/// A departure's start in its zone, in `language`; its stored local date and time should the
/// stored zone not parse.
pub fn when(d: &Departure, language: &str) -> String {
    match d.timezone.parse::<chrono_tz::Tz>() {
        Ok(tz) => domain_messages::departure_time(d.starts_at, tz, language),
        Err(_) => format!("{} {} ({})", d.local_date, d.local_time.format("%H:%M"), d.timezone),
    }
}

/// Renders `kind` from the organization's template and queues it to the customer; a customer
/// without an address (a walk-in taken at the desk) gets a `failed` row saying why instead.
async fn send(
    w: &WriteTx<'_>,
    who: &messages::Addressee,
    b: &Booking,
    kind: MessageKind,
    data: &MessageData,
) -> Result<(), DbError> {
    let (tx, org) = (w.tx(), w.org());
    let r = messages::compose(tx, org, kind, who.language, data).await?;
    // Every row written goes to the change log too, so desks show it on the booking's timeline.
    let mut written = Vec::new();
    if kind == MessageKind::Confirmation
        && let Some(phone) = who.sms_to()
    {
        let text = messages::sms_text(&r);
        let sms = crate::sms::Text {
            customer_id: &b.customer_id,
            booking_id: Some(&b.id),
            kind: kind.as_str(),
            to: phone,
            body: &text,
            subject: None,
        };
        written.push(crate::sms::queue(tx, org, &sms).await?);
    }
    written.extend(mail_or_record(w, who, Some(&b.id), kind.as_str(), r.subject, r.body).await?);
    db::log_communications(w, &written).await
}

/// Queues an e-mail to the customer, or, for a customer without an address (a walk-in taken at
/// the desk), records it as not sent with why; the row's id when one was written.
async fn mail_or_record(
    w: &WriteTx<'_>,
    who: &messages::Addressee,
    booking_id: Option<&str>,
    kind: &str,
    subject: String,
    text: String,
) -> Result<Option<String>, DbError> {
    let (tx, org) = (w.tx(), w.org());
    match who.email.clone() {
        None => mail::record_no_address(tx, org, &who.customer_id, booking_id, kind, &subject, &text).await,
        Some(to) => {
            let email = mail::Email { to, subject, text };
            Ok(Some(mail::queue(tx, org, &who.customer_id, booking_id, kind, &email).await?))
        }
    }
}

/// Queues a message that has no template of its own (a waitlist offer) to customer
/// `customer_id` through the same path as the templated ones: queued, or recorded as not sent for
/// a customer without an address, and logged so desks show it on the booking's timeline.
/// `compose` writes the subject and text in the customer's template language, as every other
/// customer message is written.
pub async fn queue_text(
    w: &WriteTx<'_>,
    customer_id: &str,
    booking_id: Option<&str>,
    kind: &str,
    compose: impl FnOnce(&'static str) -> (String, String),
) -> Result<(), DbError> {
    let Some(who) = messages::addressee(w.tx(), w.org(), customer_id).await? else { return Ok(()) };
    let (subject, text) = compose(who.language);
    let written = mail_or_record(w, &who, booking_id, kind, subject, text).await?;
    db::log_communications(w, &written.into_iter().collect::<Vec<_>>()).await
}

/// Tells the customer a refund is on its way (the refunds job when Stripe accepted it, or Stripe's
/// webhook reporting one): the amount with its currency, in the customer's language. Once per
/// refund: the refund is marked announced in the same transaction that queues the message, so a
/// retried job or a repeated webhook finds it marked and sends nothing.
pub async fn refund_on_its_way(w: &WriteTx<'_>, refund_id: &str) -> Result<(), DbError> {
    let (tx, org) = (w.tx(), w.org());
    let row = tx
        .row_opt(
            "UPDATE refunds SET customer_notified_at = now()
             WHERE organization_id = $1 AND id = $2 AND customer_notified_at IS NULL
               AND status IN ('succeeded', 'pending') AND amount_minor > 0
             RETURNING booking_id, amount_minor, currency",
            &[&org, &refund_id],
        )
        .await?;
    let Some(r) = row else { return Ok(()) };
    let (booking_id, amount, currency): (String, i64, String) =
        (db::column(&r, 0)?, db::column(&r, 1)?, db::column(&r, 2)?);
    let currency = Currency::parse(&currency)
        .map_err(|e| DbError::Corrupt(format!("refund {refund_id} has currency {currency:?}: {e}")))?;
    let Some(b) = db::booking_by_id(tx, org, &booking_id).await? else { return Ok(()) };
    let Some(who) = messages::addressee(tx, org, &b.customer_id).await? else { return Ok(()) };
    let refund = Money::new(amount, currency).display_with_symbol();
    let data = MessageData {
        refund_details: domain_messages::refund_details(who.language, &refund, &refund, ""),
        refund,
        ..booking_data(w, &b, &who).await?
    };
    send(w, &who, &b, MessageKind::Refund, &data).await
}

/// Tells the customer money was given back by hand (`record_refund.v1`: cash, a card terminal or
/// a transfer). The server applies a pushed mutation once, so this is queued once.
async fn refund_given_back(w: &WriteTx<'_>, r: &RecordRefundV1, changes: &[Change]) -> Result<(), DbError> {
    let booking = changes.iter().find_map(|c| match c {
        Change::PutBooking(b) if b.id == r.booking_id => Some(b),
        _ => None,
    });
    let Some(b) = booking else { return Ok(()) };
    let Some(who) = messages::addressee(w.tx(), w.org(), &b.customer_id).await? else { return Ok(()) };
    let currency = Currency::parse(&r.currency)
        .map_err(|e| DbError::Corrupt(format!("refund on {} has currency {:?}: {e}", r.booking_id, r.currency)))?;
    let refund = Money::new(r.amount, currency).display_with_symbol();
    let data = MessageData {
        // Handed over already: only the amount, not where it will go.
        refund_details: domain_messages::refund_details(who.language, &refund, "", ""),
        refund,
        ..booking_data(w, b, &who).await?
    };
    send(w, &who, b, MessageKind::Refund, &data).await
}

/// Asks the customer to pay what booking `b` still owes (`balance`), with the link to the
/// website's manage page, whose "Pay the balance" takes it (minted by the outbox when it sends).
pub async fn balance_request(w: &WriteTx<'_>, b: &Booking, balance: Money) -> Result<(), DbError> {
    let Some(who) = messages::addressee(w.tx(), w.org(), &b.customer_id).await? else { return Ok(()) };
    let data = MessageData {
        balance: balance.display_with_symbol(),
        amount: b.paid_amount.display_with_symbol(),
        payment_link: mail::MANAGE_LINK.into(),
        ..booking_data(w, b, &who).await?
    };
    send(w, &who, b, MessageKind::BalanceRequest, &data).await
}

/// A modification or a move that raised the price and left a balance due asks the customer for
/// it (`domain::messages::asks_for_balance` decides, from the figures the mutation audited).
async fn balance_after_change(w: &WriteTx<'_>, changes: &[Change]) -> Result<(), DbError> {
    let audited = changes.iter().find_map(|c| match c {
        Change::Audit(a) if a.action == BOOKING_MODIFIED || a.action == BOOKING_MOVED => Some(a),
        _ => None,
    });
    let Some(a) = audited else { return Ok(()) };
    let figure = |k: &str| a.detail.get(k).and_then(serde_json::Value::as_i64).unwrap_or(0);
    if !domain_messages::asks_for_balance(figure("old_total"), figure("new_total"), figure("balance_due")) {
        return Ok(());
    }
    let booking = changes.iter().find_map(|c| match c {
        Change::PutBooking(b) if b.id == a.entity_id => Some(b),
        _ => None,
    });
    match booking {
        Some(b) => balance_request(w, b, Money::new(figure("balance_due"), b.pricing.total.currency)).await,
        None => Ok(()),
    }
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

/// Staff wrote to a booking's customer (`send_customer_message.v1`): the message, in their words,
/// queued in the mail or SMS outbox in the push's savepoint, so it goes out iff the decision
/// commits, and once (the push's dedupe key answers a replay with its stored verdict). The domain
/// checked the channel against the customer it read under the lock; the row is logged so desks
/// show it on the booking's timeline and the customer's messages.
async fn customer_message(w: &WriteTx<'_>, a: &SendCustomerMessageV1, changes: &[Change]) -> Result<(), DbError> {
    let Some(booking) = changes.iter().find_map(|c| match c {
        Change::Audit(e) if e.action == CUSTOMER_MESSAGE_SENT => Some(e.entity_id.as_str()),
        _ => None,
    }) else {
        return Ok(());
    };
    let message = a.checked().map_err(|e| DbError::Corrupt(format!("a decided message does not check: {e}")))?;
    let (tx, org) = (w.tx(), w.org());
    let who = messages::addressee(tx, org, &a.customer_id)
        .await?
        .ok_or_else(|| DbError::Corrupt(format!("customer {} of a decided message vanished", a.customer_id)))?;
    let id = match message.channel {
        MessageChannel::Email => {
            let to = who.email.clone().ok_or_else(|| DbError::Corrupt("a decided e-mail has no address".into()))?;
            let email = mail::Email { to, subject: message.subject, text: message.body };
            mail::queue(tx, org, &a.customer_id, Some(booking), CUSTOMER_MESSAGE_KIND, &email).await?
        }
        MessageChannel::Sms => {
            let to = who.sms_to().ok_or_else(|| DbError::Corrupt("a decided text has no phone".into()))?;
            let sms = crate::sms::Text {
                customer_id: &a.customer_id,
                booking_id: Some(booking),
                kind: CUSTOMER_MESSAGE_KIND,
                to,
                body: &message.body,
                subject: Some(&message.subject),
            };
            crate::sms::queue(tx, org, &sms).await?
        }
    };
    db::log_communications(w, &[id]).await
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

/// What a cancelled departure's message says: the tour, its start in its zone, the operator's
/// reason, the refund, and the link to pick another date (left as [`mail::MANAGE_LINK`] for the
/// outbox to fill in).
pub fn departure_cancelled(
    tour: &str,
    d: &Departure,
    b: &Booking,
    refund: Option<Money>,
    language: &str,
) -> MessageData {
    let de = language == "de";
    let reason = b
        .cancellation
        .as_ref()
        .and_then(|c| c.reason.as_deref())
        .filter(|r| !r.trim().is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| {
            if de { "der Veranstalter musste sie absagen".into() } else { "the operator had to call it off".into() }
        });
    let refund_details = match refund {
        Some(r) if de => format!(
            "Wir erstatten {} vollständig auf die Karte, mit der Sie bezahlt haben. Je nach Bank kann das 5 bis 10 \
             Werktage dauern.",
            r.display_with_symbol()
        ),
        Some(r) => format!(
            "We are refunding {} in full to the card you paid with. Depending on your bank it can take 5 to 10 \
             business days to show.",
            r.display_with_symbol()
        ),
        None if de => "Es wurde nichts berechnet, also gibt es nichts zu erstatten.".into(),
        None => "Nothing was charged for it, so there is nothing to refund.".into(),
    };
    MessageData {
        reference: b.reference_number.to_string(),
        tour: tour.to_string(),
        departure_time: when(d, language),
        participants: b.participant_count().to_string(),
        refund: refund.map(|r| r.display_with_symbol()).unwrap_or_default(),
        refund_details,
        reason,
        manage_link: mail::MANAGE_LINK.into(),
        ..MessageData::default()
    }
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
        let render = |refund| {
            let data = departure_cancelled("Old Town Walk", &d, &b, refund, "en");
            let t = domain_messages::default_template(MessageKind::DepartureCancelled, "en");
            let r = domain_messages::render(&t, &data).unwrap();
            mail::Email { to: "ann@example.com".into(), subject: r.subject, text: r.body }
        };
        let m = render(Some(Money::new(9000, Currency::GBP)));
        assert_eq!(m.subject, "Cancelled: Old Town Walk on Friday 10 July 2026 at 09:30 (Europe/London)");
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
        let unpaid = render(None);
        assert!(unpaid.text.contains("nothing to refund"), "{}", unpaid.text);
    }
}

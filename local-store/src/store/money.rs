//! A booking's money on the desk: its ledger and what it adds up to, for the booking page.

use chrono::{DateTime, Utc};
use tourdesk_domain::Money;
use tourdesk_domain::cancellation::CancelledBy;
use tourdesk_domain::ipc::{
    BookingMoney, CancelBooking, CancellationPreview, ChannelOption, DepartureView, LedgerLine, MessageOptions,
    MoveBooking, MoveOption, NewCustomerMessage, NewRefund,
};
use tourdesk_domain::ledger::Balance;
use tourdesk_domain::mutation::{
    CancelBookingV1, Change, MessageChannel, MoveBookingV1, Mutation, RecordRefundV1, RefundOverrideArgs, Rejection,
    SendCustomerMessageV1, move_money,
};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::status::BookingStatus;
use tourdesk_domain::validate::FieldError;

use super::modify::booking;
use super::schedules::decided;
use super::write::Replica;
use super::{Store, session_org};
use crate::{StoreError, rows};

impl Store {
    /// The booking's price snapshot, participants and ledger with its balance; `None` when this
    /// desk does not hold the booking. The figures are the booking's running totals (Stripe's
    /// money included), so they stand even for money recorded before the ledger existed.
    pub fn booking_money(&self, booking_id: &str) -> Result<Option<BookingMoney>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(None) };
        let Some(b) = rows::booking(&conn, &org, booking_id)? else { return Ok(None) };
        let ledger = rows::ledger_of_booking(&conn, &org, &b.id)?;
        // The entries' pending flags in one query (not one per entry).
        let ids: Vec<String> = ledger.iter().map(|e| e.id.clone()).collect();
        let pending = rows::pending_of(&conn, &org, EntityKind::LedgerEntry, &ids)?;
        let entries = ledger
            .into_iter()
            .map(|entry| LedgerLine { pending: pending.contains(&entry.id), entry })
            .collect::<Vec<_>>();
        let balance = Balance::of_booking(&b);
        let currency = balance.currency();
        let refund_due_by_hand = tourdesk_domain::ledger::refund_due_by_hand(
            &b,
            &entries.iter().map(|l| l.entry.clone()).collect::<Vec<_>>(),
        );
        Ok(Some(BookingMoney {
            booking_id: b.id.clone(),
            reference_number: b.reference_number.to_string(),
            status: b.status,
            payment_status: b.payment_status,
            pricing: b.pricing.clone(),
            participants: b.participants.clone(),
            entries,
            total: b.pricing.total,
            paid: tourdesk_domain::Money::new(balance.paid, currency),
            refunded: tourdesk_domain::Money::new(balance.refunded, currency),
            balance_due: balance.balance_due(),
            refund_due: balance.refund_due(),
            refund_due_by_hand,
            can_record_payment: b.status != BookingStatus::Cancelled && balance.due() > 0,
        }))
    }
}

impl Store {
    /// Records a refund owed back by hand and handed over (`record_refund.v1`, queued like every
    /// intent, offline too): the amount as typed in the booking's currency, `nonce` the ledger
    /// entry's id, `at` when. An amount that is no amount, or more than is owed back by hand, is
    /// refused at its field with nothing written. Answers the mutation id.
    pub fn record_refund(&self, input: &NewRefund, nonce: String, at: DateTime<Utc>) -> Result<u64, StoreError> {
        let b = {
            let conn = self.conn();
            let org = session_org(&conn)?.ok_or(StoreError::NotSignedIn)?;
            booking(&conn, &org, &input.booking_id)?
        };
        let currency = b.pricing.total.currency;
        let amount = Money::from_decimal_str(input.amount.trim(), currency).map_err(|_| {
            StoreError::Rejected(Rejection::Invalid(FieldError::new(
                "amount",
                format!("is not an amount in {currency} (like 12.50)"),
            )))
        })?;
        let opt = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        self.mutate(&Mutation::RecordRefundV1(RecordRefundV1 {
            nonce,
            booking_id: b.id,
            method: input.method,
            amount: amount.amount,
            currency: currency.as_str().to_string(),
            note: opt(&input.note),
            reference: opt(&input.reference),
            at,
        }))
    }

    /// Who a one-off message from the booking goes to and by which channels, each unusable one
    /// with the domain's reason; `None` when this desk does not hold the booking.
    pub fn message_options(&self, booking_id: &str) -> Result<Option<MessageOptions>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(None) };
        let Some(b) = rows::booking(&conn, &org, booking_id)? else { return Ok(None) };
        let Some(c) = rows::customer(&conn, &org, &b.customer_id)? else { return Ok(None) };
        let channels = MessageChannel::ALL
            .into_iter()
            .map(|channel| ChannelOption {
                channel,
                to: match channel {
                    MessageChannel::Email => c.email.clone(),
                    MessageChannel::Sms => c.phone.clone(),
                }
                .filter(|v| !v.trim().is_empty()),
                unavailable: channel.unreachable(&c).map(str::to_string),
            })
            .collect();
        let name = format!("{} {}", c.first_name, c.last_name).trim().to_string();
        Ok(Some(MessageOptions {
            booking_id: b.id,
            reference_number: b.reference_number.to_string(),
            customer_id: c.id,
            customer_name: name,
            channels,
        }))
    }

    /// Queues a one-off message to the booking's customer (`send_customer_message.v1`, offline
    /// too); the server sends it. A refusal (a subject too long, a channel that cannot reach the
    /// customer) names its field and queues nothing. Answers the mutation id.
    pub fn send_customer_message(&self, input: &NewCustomerMessage, nonce: String) -> Result<u64, StoreError> {
        let b = {
            let conn = self.conn();
            let org = session_org(&conn)?.ok_or(StoreError::NotSignedIn)?;
            booking(&conn, &org, &input.booking_id)?
        };
        self.mutate(&Mutation::SendCustomerMessageV1(SendCustomerMessageV1 {
            nonce,
            booking_id: b.id,
            customer_id: b.customer_id,
            channel: input.channel,
            subject: input.subject.clone(),
            body: input.body.clone(),
        }))
    }
}

impl Store {
    /// What cancelling the booking now would give back under its tour's policy, decided by the
    /// domain on this desk's rows (`cancel_booking.v1` run without writing anything); `None` when
    /// the desk does not hold the booking. A booking that cannot be cancelled is the domain's
    /// refusal.
    pub fn cancellation_preview(&self, booking_id: &str) -> Result<Option<CancellationPreview>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(None) };
        let Some(b) = rows::booking(&conn, &org, booking_id)? else { return Ok(None) };
        let ctx = self.ctx(&conn)?;
        let m = Mutation::CancelBookingV1(CancelBookingV1 {
            booking_id: b.id.clone(),
            tour_id: b.tour_id.clone(),
            departure_id: b.departure_id.clone(),
            by: CancelledBy::Customer,
            reason: None,
            refund_override: None,
            notify_customer: false,
        });
        let changes = m.run(&Replica { c: &conn, org: &org }, &ctx).map_err(decided)?;
        let Some(after) = changes.iter().find_map(|c| match c {
            Change::PutBooking(a) => Some(a),
            _ => None,
        }) else {
            return Err(StoreError::Rejected(Rejection::Conflict {
                field: "booking_id".into(),
                message: format!("booking {} is already cancelled", b.reference_number),
            }));
        };
        let record = after
            .cancellation
            .clone()
            .ok_or_else(|| StoreError::Corrupt("a cancellation without its record".into()))?;
        let refund = record.refund();
        let by_hand = record.refund_by_hand.unwrap_or(Money::new(0, refund.currency));
        let refundable = b.paid_amount.amount.saturating_sub(b.refunded_amount.amount).max(0);
        Ok(Some(CancellationPreview {
            booking_id: b.id.clone(),
            reference_number: b.reference_number.to_string(),
            hours_before: record.decision.hours_before,
            refund_percentage: record.decision.refund_percentage,
            policy_refund: refund,
            refundable: Money::new(refundable, b.paid_amount.currency),
            to_card: Money::new(refund.amount.saturating_sub(by_hand.amount), refund.currency),
            by_hand,
            seats_released: b.seats_held(),
        }))
    }

    /// Cancels a booking from the cancel dialog (`cancel_booking.v1`, queued like every intent):
    /// the policy's refund, or staff's amount typed in the booking's currency with a reason. A
    /// refusal names its field and writes nothing. Answers the mutation id.
    pub fn cancel_booking(&self, input: &CancelBooking) -> Result<u64, StoreError> {
        let b = {
            let conn = self.conn();
            let org = session_org(&conn)?.ok_or(StoreError::NotSignedIn)?;
            booking(&conn, &org, &input.booking_id)?
        };
        let opt = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        let currency = b.paid_amount.currency;
        let refund_override = match opt(&input.refund_override) {
            None => None,
            Some(typed) => {
                let amount = Money::from_decimal_str(&typed, currency).map_err(|_| {
                    StoreError::Rejected(Rejection::Invalid(FieldError::new(
                        "refund_override.amount",
                        format!("is not an amount in {currency} (like 12.50)"),
                    )))
                })?;
                Some(RefundOverrideArgs {
                    amount: amount.amount,
                    currency: currency.as_str().to_string(),
                    reason: opt(&input.override_reason).unwrap_or_default(),
                })
            }
        };
        self.mutate(&Mutation::CancelBookingV1(CancelBookingV1 {
            booking_id: b.id,
            tour_id: b.tour_id,
            departure_id: b.departure_id,
            by: CancelledBy::Customer,
            reason: opt(&input.reason),
            refund_override,
            notify_customer: input.notify_customer,
        }))
    }
}

impl Store {
    /// The departures the booking can move to (`move_booking.v1`), soonest first: every other
    /// departure of its tour that has not started, each decided by the domain on this desk's rows
    /// without writing; those it refuses (full, closed, cancelled …) are left out. Each carries
    /// the new price and what it leaves owed or to refund. Empty when the desk does not hold it.
    pub fn move_options(&self, booking_id: &str) -> Result<Vec<MoveOption>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let Some(b) = rows::booking(&conn, &org, booking_id)? else { return Ok(Vec::new()) };
        let ctx = self.ctx(&conn)?;
        let promo_code = promo_code_text(&conn, &org, &b)?;
        let sql = format!(
            "SELECT {} FROM schedules WHERE organization_id = ?1 AND tour_id = ?2 AND id <> ?3 ORDER BY starts_at, id",
            rows::DEPARTURE_COLS
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut deps = Vec::new();
        let mut q = stmt.query(rusqlite::params![org, b.tour_id, b.departure_id])?;
        while let Some(r) = q.next()? {
            let d = rows::departure_from_row(r)?;
            if d.starts_at > ctx.now {
                deps.push(d);
            }
        }
        let mut out = Vec::new();
        for d in deps {
            let m = Mutation::MoveBookingV1(MoveBookingV1 {
                booking_id: b.id.clone(),
                tour_id: b.tour_id.clone(),
                from_departure_id: b.departure_id.clone(),
                to_departure_id: d.id.clone(),
                promo_code: promo_code.clone(),
                expected_total: None,
                overbook: None,
                reason: None,
            });
            let Ok(changes) = m.run(&Replica { c: &conn, org: &org }, &ctx) else { continue };
            let Some(total) = changes.iter().find_map(|c| match c {
                Change::PutBooking(after) => Some(after.pricing.total),
                _ => None,
            }) else {
                continue;
            };
            out.push(MoveOption {
                departure: DepartureView { seats_left: tourdesk_domain::offer::seats_for_sale(&d), departure: d },
                money: move_money(&b, total),
            });
        }
        Ok(out)
    }

    /// Moves the booking to the departure chosen in the move dialog (`move_booking.v1`, queued
    /// like every intent), at the total it showed. Answers the mutation id.
    pub fn move_booking(&self, input: &MoveBooking) -> Result<u64, StoreError> {
        let (b, promo_code) = {
            let conn = self.conn();
            let org = session_org(&conn)?.ok_or(StoreError::NotSignedIn)?;
            let b = booking(&conn, &org, &input.booking_id)?;
            let code = promo_code_text(&conn, &org, &b)?;
            (b, code)
        };
        let reason = input.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
        self.mutate(&Mutation::MoveBookingV1(MoveBookingV1 {
            booking_id: b.id,
            tour_id: b.tour_id,
            from_departure_id: b.departure_id,
            to_departure_id: input.to_departure_id.clone(),
            promo_code,
            expected_total: Some(input.expected_total),
            overbook: None,
            reason,
        }))
    }
}

/// The text of the promo code a booking was sold with, which a move keeps (`None` without one,
/// or when this desk does not hold the code).
pub(super) fn promo_code_text(
    conn: &rusqlite::Connection,
    org: &str,
    b: &tourdesk_domain::entities::Booking,
) -> Result<Option<String>, StoreError> {
    let Some(id) = &b.pricing.promotional_code_id else { return Ok(None) };
    let row = rows::catalogue_rows(conn, org, EntityKind::PromoCode, "id = ?2", &[id])?.pop();
    Ok(match row {
        Some(tourdesk_domain::catalogue::CatalogueRow::PromoCode(p)) => Some(p.code),
        _ => None,
    })
}

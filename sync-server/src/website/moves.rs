//! Rescheduling a booking from its manage page (issue 15): the departures it may move to, what
//! a move would cost (`move_booking.v1` run in a transaction that is rolled back, so the price
//! shown is the domain's own answer under the same locks), and the move itself, decided like a
//! desk's move through [`crate::apply`]. The customer is held to the reschedule cut-off and the
//! tour's cancellation policy (the domain decides); a lower price queues the refund of what was
//! paid above it, sent to Stripe after commit.

use tourdesk_domain::Departure;
use tourdesk_domain::entities::Booking;
use tourdesk_domain::mutation::{Change, MOVE_CUTOFF_HOURS, MoveBookingV1, MoveMoney, Mutation, move_money};

use super::bookings::{WEBSITE_ACTOR, ctx, redeem, view};
use super::types::BookingDto;
use crate::db::{Prepared, WriteTx};
use crate::{AppError, AppState, apply, db, payments};

/// At most this many departures are offered to move to.
pub const MOVE_CHOICES: i64 = 40;

/// The departures the managed booking may move to: the tour's other open departures past the
/// reschedule cut-off with seats for everyone on the booking, soonest first. Empty for a booking
/// that cannot move (cancelled, past).
pub async fn move_choices(state: &AppState, token: &str) -> Result<(Booking, Vec<Departure>), AppError> {
    let mut conn = state.pool.get().await?;
    let tx = db::read_only(&mut conn).await?;
    let (org, booking_id) = redeem(&tx, token, false).await?;
    let b = db::booking_by_id(&tx, &org, &booking_id).await?.ok_or_else(|| AppError::NotFound("booking".into()))?;
    if !b.status.holds_seats() {
        tx.commit().await?;
        return Ok((b, vec![]));
    }
    let seats = i32::try_from(b.participant_count()).unwrap_or(i32::MAX);
    let sql = format!(
        "SELECT {} FROM schedules WHERE organization_id = $1 AND tour_id = $2 AND id <> $3 AND status = 'open'
           AND capacity - booked_count >= $4 AND starts_at > now() + make_interval(hours => $5::int)
         ORDER BY starts_at, id LIMIT {MOVE_CHOICES}",
        db::DEPARTURE_COLS
    );
    let cutoff = i32::try_from(MOVE_CUTOFF_HOURS).unwrap_or(24);
    let rows = tx.rows(&sql, &[&org, &b.tour_id, &b.departure_id, &seats, &cutoff]).await?;
    let deps = rows.iter().map(db::departure_from_row).collect::<Result<Vec<_>, _>>()?;
    tx.commit().await?;
    Ok((b, deps))
}

/// What moving the booking to `to` would do, or why it cannot (the domain's refusal, with its
/// field).
pub struct MovePreview {
    pub to: Departure,
    pub money: MoveMoney,
}

async fn move_in(
    w: &WriteTx<'_>,
    org: &str,
    booking_id: &str,
    to: &str,
) -> Result<(Booking, Departure, MoveMoney), AppError> {
    let b = db::booking_by_id(w.tx(), org, booking_id).await?.ok_or_else(|| AppError::NotFound("booking".into()))?;
    let promo_code = match &b.pricing.promotional_code_id {
        Some(id) => w
            .tx()
            .row_opt("SELECT code FROM promotional_codes WHERE organization_id = $1 AND id = $2", &[&org, id])
            .await?
            .map(|r| r.try_get::<_, String>(0))
            .transpose()?,
        None => None,
    };
    let m = Mutation::MoveBookingV1(MoveBookingV1 {
        booking_id: b.id.clone(),
        tour_id: b.tour_id.clone(),
        from_departure_id: b.departure_id.clone(),
        to_departure_id: to.to_string(),
        promo_code,
        expected_total: None,
        overbook: None,
        reason: Some("rescheduled by the customer on the website".into()),
    });
    let changes =
        apply::run_mutation(w, &m, &ctx(org), WEBSITE_ACTOR).await.map_err(|f| AppError::from_failure(f, ""))?;
    let moved = changes.iter().find_map(|c| match c {
        Change::PutBooking(after) => Some(after.pricing.total),
        _ => None,
    });
    let dep = changes.iter().find_map(|c| match c {
        Change::PutDeparture(d) if d.id == to => Some(d.clone()),
        _ => None,
    });
    match (moved, dep) {
        (Some(total), Some(dep)) => Ok((b.clone(), dep, move_money(&b, total))),
        // Already there (a second press of the button): nothing moved, nothing owed anew.
        _ => Err(AppError::BadRequest {
            status: axum::http::StatusCode::CONFLICT,
            code: "CONFLICT",
            message: "the booking is already on that departure".into(),
            field: Some("to_departure_id".into()),
        }),
    }
}

/// What moving to `to` would cost, decided and rolled back. The inner error is the domain's
/// refusal (sold out, cut-off, policy …), shown beside the choice.
pub async fn move_preview(state: &AppState, token: &str, to: &str) -> Result<Result<MovePreview, AppError>, AppError> {
    let mut conn = state.pool.get().await?;
    let tx = conn.transaction().await?;
    let (org, booking_id) = redeem(&tx, token, false).await?;
    let w = WriteTx::new(tx, &org).await?;
    let outcome = match move_in(&w, &org, &booking_id, to).await {
        Ok((_, to, money)) => Ok(MovePreview { to, money }),
        Err(e @ AppError::BadRequest { .. }) => Err(e),
        Err(AppError::NotFound(_)) => Err(AppError::BadRequest {
            status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            code: "INVALID",
            message: "choose one of the dates offered".into(),
            field: Some("to_departure_id".into()),
        }),
        Err(e) => return Err(e),
    };
    w.rollback().await?;
    Ok(outcome)
}

/// Moves the managed booking to `to`; a refund the lower price owes is sent after commit. The
/// session stays open (the customer may still pay a balance or cancel).
pub async fn move_booking(state: &AppState, token: &str, to: &str) -> Result<(BookingDto, MoveMoney), AppError> {
    let (org, dto, money) = {
        let mut conn = state.pool.get().await?;
        let tx = conn.transaction().await?;
        let (org, booking_id) = redeem(&tx, token, false).await?;
        let w = WriteTx::new(tx, &org).await?;
        let (_, _, money) = move_in(&w, &org, &booking_id, to).await?;
        let dto = view(w.tx(), &org, &booking_id).await?;
        w.commit().await?;
        (org, dto, money)
    };
    if money.refund_due.amount > 0 {
        payments::send_queued_refunds(state, &org).await;
    }
    Ok((dto, money))
}

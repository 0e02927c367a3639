//! Gift cards at the public checkout: what a card would pay of a quote (read, unlocked), and its
//! redemption in the booking's own transaction (`redeem_gift_card.v1`, the desk's intent, under
//! the card's row lock), so a booking and the money a card gave it commit together or not at all.
//! Two checkouts racing for a card's last balance wait for each other on that lock; the second
//! sees what the first left and is refused beside its field.

use chrono::{DateTime, Utc};
use tourdesk_domain::entities::Booking;
use tourdesk_domain::gift_card::{self, CardState, GiftCard};
use tourdesk_domain::money::Money;
use tourdesk_domain::mutation::{Change, Fetched, Mutation, MutationCtx, Read, ReadKey, RedeemGiftCardV1};
use tourdesk_domain::payment;
use tourdesk_domain::validate::FieldError;

use super::bookings::WEBSITE_ACTOR;
use super::read_tx;
use super::types::GiftCardCoverDto;
use crate::db::WriteTx;
use crate::{AppError, AppState, apply, db};

/// The checkout form's (and the API's) field for the code.
pub const FIELD: &str = "gift_card_code";

fn refused(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::BadRequest {
        status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        code,
        message: message.into(),
        field: Some(FIELD.into()),
    }
}

/// The code as the domain stores it, or its refusal beside the field.
pub fn normalise(raw: &str) -> Result<String, AppError> {
    gift_card::normalise_code(FIELD, raw).map_err(|e| refused("GIFT_CARD_INVALID", e.message))
}

/// A refusal of the domain's (`GiftCard::covers`, `GiftCard::redeem`) with a code per reason, so
/// the page can say it in the customer's language; the card's state tells which it was.
fn card_refusal(card: &GiftCard, e: FieldError, at: DateTime<Utc>) -> AppError {
    let code = match (e.field.as_str(), card.state(at)) {
        ("currency", _) => "GIFT_CARD_CURRENCY",
        (_, CardState::Expired) => "GIFT_CARD_EXPIRED",
        (_, CardState::UsedUp) => "GIFT_CARD_USED_UP",
        _ => "GIFT_CARD_INVALID",
    };
    refused(code, e.message)
}

fn unknown() -> AppError {
    refused("GIFT_CARD_UNKNOWN", "no gift card has this code")
}

/// What the card with `raw_code` would pay of `due` now, and what would be left to pay by card.
/// Only a preview for the live quote: the booking decides again under the card's lock.
pub async fn cover(state: &AppState, org_slug: &str, raw_code: &str, due: Money) -> Result<GiftCardCoverDto, AppError> {
    let code = normalise(raw_code)?;
    let mut conn = state.pool.get().await?;
    let (tx, org) = read_tx(&mut conn, org_slug).await?;
    let card = db::gift_card_by_code(&tx, &org, &code, false).await?;
    tx.commit().await?;
    let card = card.ok_or_else(unknown)?;
    let now = Utc::now();
    let covered = card.covers(due, now).map_err(|e| card_refusal(&card, e, now))?;
    Ok(GiftCardCoverDto {
        covered: covered.into(),
        remaining: Money::new(due.amount - covered.amount, due.currency).into(),
    })
}

/// Spends the card on the booking `create_booking.v1` just made in `w`: the card's row is locked
/// first, the amount is what the card covers of what is due, and `redeem_gift_card.v1` decides
/// and writes the ledger entry, the card's movement and the booking's new figures (confirmed when
/// the card paid everything). Returns the booking as it now stands.
pub(crate) async fn redeem_at_checkout(
    w: &WriteTx<'_>,
    ctx: &MutationCtx,
    booking: Booking,
    code: &str,
) -> Result<Booking, AppError> {
    let card = db::gift_card_by_code(w.tx(), w.org(), code, true).await?.ok_or_else(unknown)?;
    let amount = card.covers(payment::amount_due(&booking), ctx.now).map_err(|e| card_refusal(&card, e, ctx.now))?;
    if amount.is_zero() {
        return Ok(booking);
    }
    let m = Mutation::RedeemGiftCardV1(RedeemGiftCardV1 {
        nonce: uuid::Uuid::new_v4().to_string(),
        booking_id: booking.id.clone(),
        code: code.to_string(),
        amount: amount.amount,
        currency: amount.currency.to_string(),
        at: ctx.now,
    });
    // Both rows are this transaction's already: the booking it wrote, the card it locked.
    let known = |r: &Read| match &r.key {
        ReadKey::Booking(id) if *id == booking.id => Some(Fetched::Booking(Some(booking.clone()))),
        ReadKey::GiftCardCode(c) if *c == card.code => Some(Fetched::GiftCard(Some(card.clone()))),
        _ => None,
    };
    let changes = apply::run_mutation_knowing(w, &m, ctx, WEBSITE_ACTOR, &known).await.map_err(|f| {
        match AppError::from_failure(f, "") {
            // The card's refusals (what is left, its currency) belong beside its field.
            AppError::BadRequest { status, code, message, field: Some(_) } => {
                AppError::BadRequest { status, code, message, field: Some(FIELD.into()) }
            }
            other => other,
        }
    })?;
    Ok(changes
        .into_iter()
        .find_map(|c| match c {
            Change::PutBooking(b) => Some(b),
            _ => None,
        })
        .unwrap_or(booking))
}

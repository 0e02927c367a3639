//! The waitlist on the public site: joining one for a sold-out departure, and claiming the seats
//! an offer holds (`jobs::waitlist` makes offers; `domain::waitlist` has the rules).
//!
//! Joining runs `add_to_waitlist.v1`, the desk's own intent, for a customer found by e-mail or
//! made as a website booking makes one. Claiming follows the e-mail's link: its token (kept as a
//! SHA-256 only, minted by the mail outbox) names the entry, whose held booking is then paid for
//! through the same PaymentIntent path as a checkout (`payments::ensure_intent`).

use tourdesk_domain::entities::WaitlistLine;
use tourdesk_domain::mutation::{AddToWaitlistV1, Mutation};
use tourdesk_domain::status::BookingStatus;
use tourdesk_domain::validate;
use tourdesk_domain::waitlist::{self, MAX_PARTY, WaitlistStatus};

use super::bookings::{Contact, WEBSITE_ACTOR, ctx, new_customer_speaking, new_token, token_digest, view};
use super::types::BookingCreated;
use super::{read_tx, write_tx};
use crate::db::Prepared;
use crate::{AppError, AppState, apply, db, payments};

/// The website's waitlist form: the party as counts per tier.
pub struct JoinRequest {
    pub departure_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// `(tier id, how many)`; tiers with none are left out.
    pub lines: Vec<(String, u32)>,
    /// The language of the page the form was sent from: a customer met here for the first time
    /// is written to in it (the offer's e-mail first of all).
    pub language: Option<String>,
}

/// Puts the customer on the departure's waitlist; returns the entry's id.
pub async fn join(state: &AppState, org_slug: &str, req: &JoinRequest) -> Result<String, AppError> {
    let departure_id = validate::row_ref("departure_id", &req.departure_id)?;
    let email = validate::email("email", &req.email)?;
    validate::text("first_name", &req.first_name, 100)?;
    validate::text("last_name", &req.last_name, 100)?;
    let party_size: u32 = req.lines.iter().map(|(_, q)| *q).fold(0u32, u32::saturating_add);
    let party_size = validate::range_u32("party_size", party_size, 1, MAX_PARTY)?;
    let mut conn = state.pool.get().await?;
    let w = write_tx(&mut conn, org_slug).await?;
    let org = w.org().to_string();
    let tx = w.tx();
    let (dep, _, currency) = db::departure_for_booking(tx, &org, &departure_id)
        .await?
        .ok_or_else(|| AppError::NotFound("departure".into()))?;
    let currency = currency.ok_or_else(|| AppError::conflict("NOT_BOOKABLE", "this tour has no prices yet"))?;
    let ctx = ctx(&org);
    if let Some(why) = waitlist::join_refused(&dep, party_size, ctx.now) {
        return Err(AppError::BadRequest {
            status: axum::http::StatusCode::CONFLICT,
            code: "WAITLIST_REFUSED",
            message: why.into(),
            field: Some("party_size".into()),
        });
    }
    let tiers = tiers_of_tour(tx, &org, &dep.tour_id).await?;
    let mut lines = Vec::with_capacity(req.lines.len());
    for (i, (tier_id, quantity)) in req.lines.iter().enumerate() {
        // Only the tiers this departure sells; any other is refused beside its count.
        if !tiers.iter().any(|t| t.id == *tier_id && waitlist::sold_on_variant(t, &dep.variant_id)) {
            return Err(AppError::invalid(format!("lines[{i}].tier_id"), "this tier is not sold on this departure"));
        }
        lines.push(WaitlistLine { tier_id: tier_id.clone(), quantity: *quantity });
    }
    let (known, country) = db::customer_by_email_and_country(tx, &org, &email).await?;
    let customer = match known {
        Some(c) => c,
        None => {
            let contact =
                Contact { email: &email, first_name: &req.first_name, last_name: &req.last_name, phone: None };
            new_customer_speaking(&w, &ctx, &contact, country, currency, req.language.as_deref()).await?
        }
    };
    let id = uuid::Uuid::new_v4().to_string();
    let m = Mutation::AddToWaitlistV1(AddToWaitlistV1 {
        id: id.clone(),
        tour_id: dep.tour_id.clone(),
        departure_id,
        customer_id: customer.id,
        lines,
        notes: Some("joined on the website".into()),
    });
    apply::run_mutation(&w, &m, &ctx, WEBSITE_ACTOR).await.map_err(|f| AppError::from_failure(f, ""))?;
    w.commit().await?;
    Ok(id)
}

async fn tiers_of_tour(
    c: &impl Prepared,
    org: &str,
    tour_id: &str,
) -> Result<Vec<tourdesk_domain::PricingTier>, db::DbError> {
    let sql = format!("SELECT {} FROM pricing_tiers WHERE organization_id = $1 AND tour_id = $2", db::TIER_COLS);
    c.rows(&sql, &[&org, &tour_id]).await?.iter().map(db::tier_from_row).collect()
}

/// Mints the claim link of the offer whose seats `booking_id` holds, in the mail outbox's
/// transaction (`org`'s tenant): `(link, token)`, or `None` when that offer is no longer open.
/// Each link replaces the one before it.
pub(crate) async fn mint_claim_link(
    c: &impl Prepared,
    org: &str,
    base: &str,
    booking_id: &str,
) -> Result<Option<(String, String)>, db::DbError> {
    let token = new_token();
    let row = c
        .row_opt(
            "UPDATE waitlist_entries w SET offer_token_hash = $3, updated_at = now()
             FROM organizations o
             WHERE w.organization_id = $1 AND w.offer_booking_id = $2 AND w.status = 'offered' AND o.id = w.organization_id
             RETURNING o.slug",
            &[&org, &booking_id, &token_digest(&token)],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let slug: String = row.try_get(0)?;
    Ok(Some((format!("{}/{slug}/waitlist/claim?token={token}", base.trim_end_matches('/')), token)))
}

/// What a claim link leads to.
pub enum Claim {
    /// The seats are held: pay for them (the payment step of a checkout).
    Pay(Box<BookingCreated>),
    /// Already paid for: the booking's confirmation.
    Booked { booking_id: String },
}

/// The offer a claim link names, ready to be paid for. An offer that has lapsed (its hold ran
/// out or was cancelled) is refused with `OFFER_LAPSED`; an unknown token is a 404.
pub async fn claim(state: &AppState, org_slug: &str, token: &str) -> Result<Claim, AppError> {
    let (org, booking_id, email) = {
        let mut conn = state.pool.get().await?;
        let (tx, org) = read_tx(&mut conn, org_slug).await?;
        let row = tx
            .row_opt(
                "SELECT w.status, w.offer_booking_id, c.email FROM waitlist_entries w
                 JOIN customers c ON c.organization_id = w.organization_id AND c.id = w.customer_id
                 WHERE w.organization_id = $1 AND w.offer_token_hash = $2",
                &[&org, &token_digest(token)],
            )
            .await?
            .ok_or_else(|| AppError::NotFound("offer".into()))?;
        let status: String = row.try_get(0)?;
        let booking_id: Option<String> = row.try_get(1)?;
        let email: Option<String> = row.try_get(2)?;
        let booking = match &booking_id {
            Some(id) => db::booking_by_id(&tx, &org, id).await?,
            None => None,
        };
        tx.commit().await?;
        // The entry may not be settled yet (the job runs every few seconds): its booking decides.
        let settled = match WaitlistStatus::parse(&status) {
            Some(WaitlistStatus::Offered) => waitlist::settle_offer(booking.as_ref().map(|b| b.status)),
            Some(s) => s,
            None => return Err(db::DbError::bad_value("waitlist status", &status).into()),
        };
        match (settled, booking) {
            (WaitlistStatus::Booked, Some(b)) => return Ok(Claim::Booked { booking_id: b.id }),
            (WaitlistStatus::Offered, Some(b)) if b.status == BookingStatus::Pending => {
                (org, b.id, email.unwrap_or_default())
            }
            _ => {
                return Err(AppError::conflict(
                    "OFFER_LAPSED",
                    "this offer has lapsed; the seats went to the next person",
                ));
            }
        }
    };
    let payment = payments::ensure_intent(state, &org, &booking_id, &email).await?;
    let mut conn = state.pool.get().await?;
    let tx = db::read_in(&mut conn, &org).await?;
    let booking = view(&tx, &org, &booking_id).await?;
    tx.commit().await?;
    Ok(Claim::Pay(Box::new(BookingCreated { booking, payment })))
}

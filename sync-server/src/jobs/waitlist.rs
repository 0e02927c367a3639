//! Waitlist offers. Each pass, for every organization with open waitlist entries, in one
//! transaction of its tenant:
//!
//! 1. each offered entry is settled with the booking that holds its seats
//!    (`waitlist::settle_offer`): paid for, it is booked; cancelled (its hold ran out, which
//!    `holds.rs` saw to earlier in the same pass), it has lapsed and its seats are free again;
//! 2. each departure with waiting entries and seats for sale offers them
//!    (`waitlist::entries_to_offer`): per entry chosen, `create_booking.v1` with the entry's lines
//!    and a hold for the configured offer time (`booking.waitlist_offer_seconds`), decided under
//!    the departure's row lock like any sale — so an offer can never oversell, and one that finds
//!    the seats gone meanwhile is simply not made — then the entry is marked offered and an
//!    e-mail is queued in the outbox whose claim link ([`crate::mail::WAITLIST_CLAIM_LINK`]) the
//!    outbox mints when it sends.
//!
//! Every status change is logged to the change log (`db::log_waitlist_entries`), so office
//! desks see an entry offered, booked or lapsed.
//!
//! Scanning rather than being poked, the job sees seats freed by every path alike: a booking
//! cancelled at a desk or on the website, a capacity raised, a hold that ran out, an offer that
//! lapsed. Entries are claimed `FOR UPDATE SKIP LOCKED`, so two instances never offer one twice.

use chrono::{DateTime, Datelike, Utc};
use rand::RngCore;
use serde_json::json;
use tourdesk_domain::entities::{BookingSource, WaitlistLine};
use tourdesk_domain::mutation::{Change, CreateBookingV1, LineArgs, Mutation, MutationCtx};
use tourdesk_domain::payment;
use tourdesk_domain::roles::Role;
use tourdesk_domain::status::BookingStatus;
use tourdesk_domain::waitlist::{self, Candidate, WaitlistStatus};

use crate::apply::{self, Failure};
use crate::db::{AuditRow, Prepared, WriteTx};
use crate::mail::WAITLIST_CLAIM_LINK;
use crate::{AppState, db, payments};

pub const ACTOR: &str = "system:waitlist";

/// Most departures looked at per organization per pass; the rest wait for the next pass.
const DEPARTURES: i64 = 200;

/// Settles and makes the offers of every organization with open entries; returns how many
/// offers were made.
pub async fn offer_freed_seats(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let orgs = db::orgs_with(&state.pool.get().await?, "tourdesk_orgs_with_open_waitlist", &[]).await?;
    let mut offered = 0;
    for org in orgs {
        offered += offer_in(state, &org, now).await?;
    }
    Ok(offered)
}

async fn offer_in(state: &AppState, org: &str, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut conn = state.pool.get().await?;
    let tx = WriteTx::new(conn.transaction().await?, org).await?;
    settle_offers(&tx, org).await?;
    // Departures where an offer may be made: waiting entries, seats left by the count, not yet
    // started. The domain decides on each, and `create_booking.v1` again under the lock.
    let deps = tx
        .rows(
            "SELECT DISTINCT w.departure_id FROM waitlist_entries w
             JOIN schedules s ON s.organization_id = w.organization_id AND s.id = w.departure_id
             WHERE w.organization_id = $1 AND w.status = 'waiting' AND s.status = 'open'
               AND s.booked_count < s.capacity AND s.starts_at > $2
             LIMIT $3",
            &[&org, &now, &DEPARTURES],
        )
        .await?;
    let mut offered = 0;
    for r in &deps {
        let departure_id: String = r.try_get(0)?;
        offered += offer_on(state, &tx, org, &departure_id, now).await?;
    }
    tx.commit().await?;
    if offered > 0 {
        tracing::info!(org, offered, "waitlist offers made");
    }
    Ok(offered)
}

/// Step 1: offered entries whose booking was paid for or cancelled are booked or lapsed.
async fn settle_offers(tx: &WriteTx<'_>, org: &str) -> anyhow::Result<()> {
    let rows = tx
        .rows(
            "SELECT w.id, b.status FROM waitlist_entries w
             LEFT JOIN bookings b ON b.organization_id = w.organization_id AND b.id = w.offer_booking_id
             WHERE w.organization_id = $1 AND w.status = 'offered'
             FOR UPDATE OF w SKIP LOCKED",
            &[&org],
        )
        .await?;
    for r in &rows {
        let id: String = r.try_get(0)?;
        let booking = match r.try_get::<_, Option<String>>(1)? {
            Some(s) => Some(BookingStatus::parse(&s).ok_or_else(|| anyhow::anyhow!("stored booking status {s:?}"))?),
            None => None,
        };
        let status = waitlist::settle_offer(booking);
        if status == WaitlistStatus::Offered {
            continue;
        }
        tx.exec(
            "UPDATE waitlist_entries SET status = $3, updated_at = now() WHERE organization_id = $1 AND id = $2",
            &[&org, &id, &status.as_str()],
        )
        .await?;
        db::log_waitlist_entries(tx, std::slice::from_ref(&id)).await?;
        tx.audit(AuditRow::new(
            ACTOR,
            &format!("waitlist_{}", status.as_str()),
            ("waitlist_entry", &id),
            Some(&json!({"status": "offered"})),
            &json!({"status": status.as_str()}),
        ));
    }
    Ok(())
}

/// Step 2 on one departure: offers its free seats to the entries the domain chooses.
async fn offer_on(
    state: &AppState,
    tx: &WriteTx<'_>,
    org: &str,
    departure_id: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let Some(dep) = db::departure(tx.tx(), org, departure_id).await? else { return Ok(0) };
    let seats = waitlist::seats_to_offer(&dep, now);
    if seats == 0 {
        return Ok(0);
    }
    let rows = tx
        .rows(
            "SELECT id, party_size, created_at, customer_id, tour_id, lines FROM waitlist_entries
             WHERE organization_id = $1 AND departure_id = $2 AND status = 'waiting'
             ORDER BY created_at, id
             FOR UPDATE SKIP LOCKED",
            &[&org, &departure_id],
        )
        .await?;
    let mut candidates = Vec::with_capacity(rows.len());
    for r in &rows {
        candidates.push(Candidate {
            id: r.try_get(0)?,
            party_size: u32::try_from(r.try_get::<_, i32>(1)?).unwrap_or(0),
            status: WaitlistStatus::Waiting,
            created_at: r.try_get(2)?,
        });
    }
    let chosen: Vec<String> =
        waitlist::entries_to_offer(&candidates, seats).into_iter().map(|c| c.id.clone()).collect();
    let until = waitlist::offer_until(now, state.config.booking.waitlist_offer_seconds, dep.starts_at);
    let ctx = MutationCtx { organization_id: org.to_string(), role: Role::Owner, now, user_id: ACTOR.into() };
    let mut offered = 0;
    for entry_id in chosen {
        let Some(r) = rows.iter().find(|r| r.try_get::<_, String>(0).ok().as_deref() == Some(entry_id.as_str())) else {
            continue;
        };
        let customer_id: String = r.try_get(3)?;
        let tour_id: String = r.try_get(4)?;
        let lines: Vec<WaitlistLine> = serde_json::from_value(r.try_get(5)?)?;
        let mut entropy = [0u8; 8];
        rand::rng().fill_bytes(&mut entropy);
        let booking_id = uuid::Uuid::new_v4().to_string();
        let m = Mutation::CreateBookingV1(CreateBookingV1 {
            id: booking_id.clone(),
            tour_id,
            departure_id: departure_id.to_string(),
            customer_id: customer_id.clone(),
            lines: lines
                .iter()
                .map(|l| LineArgs { tier_id: l.tier_id.clone(), quantity: l.quantity, participants: vec![] })
                .collect(),
            promo_code: None,
            manual_discount: None,
            special_requests: None,
            dietary_restrictions: None,
            source: BookingSource::Website,
            reference_year: now.year(),
            reference_entropy: u64::from_le_bytes(entropy),
            expected_total: None,
            overbook: None,
            hold_seconds: Some(waitlist::offer_hold_seconds(now, until)),
        });
        let (mark, outcome) = tx.in_savepoint(apply::run_mutation(tx, &m, &ctx, ACTOR)).await?;
        let changes = match outcome {
            Ok(changes) => changes,
            Err(Failure::Rejected(why)) => {
                // Seats gone meanwhile, or the entry's tiers no longer sold: it keeps waiting.
                tx.rollback_to(mark).await?;
                tracing::info!(org, entry = %entry_id, "waitlist offer not made: {why}");
                continue;
            }
            Err(Failure::Transient(why)) => {
                tx.rollback_to(mark).await?;
                anyhow::bail!("waitlist offers interrupted: {why}");
            }
        };
        tx.release(mark);
        let booking = changes.into_iter().find_map(|c| match c {
            Change::PutBooking(b) => Some(b),
            _ => None,
        });
        let Some(booking) = booking else { anyhow::bail!("create_booking.v1 made no booking") };
        if payment::payable(&booking) {
            payments::record_intent_row(tx.tx(), org, &booking).await?;
        }
        tx.exec(
            "UPDATE waitlist_entries SET status = 'offered', offered_at = $3, offer_expires_at = $4,
                 offer_booking_id = $5, offer_token_hash = NULL, updated_at = now()
             WHERE organization_id = $1 AND id = $2",
            &[&org, &entry_id, &now, &until, &booking_id],
        )
        .await?;
        db::log_waitlist_entries(tx, std::slice::from_ref(&entry_id)).await?;
        tx.audit(AuditRow::new(
            ACTOR,
            "waitlist_offered",
            ("waitlist_entry", &entry_id),
            Some(&json!({"status": "waiting"})),
            &json!({"status": "offered", "booking_id": booking_id, "offer_expires_at": until}),
        ));
        queue_offer_mail(tx, org, &customer_id, &booking, &dep, until).await?;
        offered += 1;
    }
    Ok(offered)
}

/// The offer e-mail, queued with the claim link's placeholder (the outbox mints the token).
async fn queue_offer_mail(
    tx: &WriteTx<'_>,
    org: &str,
    customer_id: &str,
    booking: &tourdesk_domain::entities::Booking,
    dep: &tourdesk_domain::Departure,
    until: DateTime<Utc>,
) -> anyhow::Result<()> {
    let tour = db::tour_name(tx.tx(), org, &booking.tour_id).await?.unwrap_or_default();
    let tz: chrono_tz::Tz = dep.timezone.parse().unwrap_or(chrono_tz::UTC);
    let seats = booking.participant_count();
    // In the customer's language, as their other e-mails are; the claim link's placeholder stays
    // for the outbox to fill in.
    let compose = |language: &str| {
        tourdesk_domain::messages::waitlist_offer(language, &tour, seats, dep.starts_at, until, tz, WAITLIST_CLAIM_LINK)
    };
    // The normal path: queued (or recorded as not sent for a customer without an address) and
    // logged, so desks see the offer on the booking's timeline like every other message.
    crate::notices::queue_text(tx, customer_id, Some(&booking.id), "waitlist_offer", compose).await?;
    Ok(())
}

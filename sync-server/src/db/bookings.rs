//! Named queries for bookings (V2's tables; waitlist entries are `db::waitlist`), and what the public
//! booking path reads about a booking.
//!
//! Every query filters on `organization_id`. Upserts carry the tenant guard of V1's
//! (`WHERE x.organization_id = excluded.organization_id`) and must touch exactly one row.
//!
//! Bookings are appended to the sync change log where they are written, so every writer
//! (pushes, the public API, webhooks, hold expiry) logs them the same way: to `org:all` and
//! their departure's `schedule:D` (`replication::RowScope::Departure`).

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;
use tourdesk_domain::Departure;
use tourdesk_domain::entities::{Booking, BookingSource};
use tourdesk_domain::money::Currency;
use tourdesk_domain::offer;
use tourdesk_domain::protocol::{EntityKind, schedule_bucket};
use tourdesk_domain::reference::ReferenceNumber;
use tourdesk_domain::replication;
use tourdesk_domain::status::{BookingStatus, PaymentStatus};

use super::{
    CUSTOMER_COLS, DEPARTURE_COLS, DbError, LogRow, Prepared, TIER_COLS, WriteTx, bad_row, customer_from_row,
    departure_buckets, departure_from_row, i32_of, money, tier_from_row,
};

pub(super) fn u32_of(v: i32) -> Result<u32, DbError> {
    Ok(u32::try_from(v)?)
}

pub const BOOKING_COLS: &str = "id, organization_id, reference_number, customer_id, departure_id, tour_id, \
     variant_id, pricing, currency, paid_amount_minor, refunded_amount_minor, participants, status, payment_status, \
     source, special_requests, dietary_restrictions, overbook, cancellation, checked_in, no_shows, created_at, \
     confirmed_at, cancelled_at, updated_at";

pub fn booking_from_row(r: &tokio_postgres::Row) -> Result<Booking, DbError> {
    let reference: String = r.try_get(2)?;
    let currency: String = r.try_get(8)?;
    let status: String = r.try_get(12)?;
    let payment: String = r.try_get(13)?;
    let source: String = r.try_get(14)?;
    let json_opt = |i: usize| -> Result<Option<serde_json::Value>, DbError> { Ok(r.try_get(i)?) };
    Ok(Booking {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        reference_number: ReferenceNumber::parse(&reference)?,
        customer_id: r.try_get(3)?,
        departure_id: r.try_get(4)?,
        tour_id: r.try_get(5)?,
        variant_id: r.try_get(6)?,
        pricing: serde_json::from_value(r.try_get(7)?)?,
        paid_amount: money(r.try_get(9)?, &currency)?,
        refunded_amount: money(r.try_get(10)?, &currency)?,
        participants: serde_json::from_value(r.try_get(11)?)?,
        status: BookingStatus::parse(&status).ok_or_else(|| bad_row("booking status", &status))?,
        payment_status: PaymentStatus::parse(&payment).ok_or_else(|| bad_row("payment status", &payment))?,
        source: BookingSource::parse(&source).ok_or_else(|| bad_row("booking source", &source))?,
        special_requests: r.try_get(15)?,
        dietary_restrictions: r.try_get(16)?,
        overbook: json_opt(17)?.map(serde_json::from_value).transpose()?,
        cancellation: json_opt(18)?.map(serde_json::from_value).transpose()?,
        checked_in: u32_of(r.try_get(19)?)?,
        no_shows: u32_of(r.try_get(20)?)?,
        created_at: r.try_get(21)?,
        confirmed_at: r.try_get(22)?,
        cancelled_at: r.try_get(23)?,
        updated_at: r.try_get(24)?,
    })
}

/// The booking row and its relational line items (replaced wholesale: they are a copy of the
/// pricing snapshot), logged to `org:all` and `schedule:D`. A new booking also brings its
/// customer into `schedule:D` when it is the customer's first booking there: the guide of D
/// must see the guest's contact details, and the customer row was logged before the booking
/// existed (so not to D). `hold` is a new booking's seat hold (`Change::HoldSeats`); an update
/// keeps the stored one. A `new` booking (none with its id was found in this transaction) has no
/// line items to replace.
pub async fn put_booking(w: &WriteTx<'_>, b: &Booking, hold: Option<DateTime<Utc>>, new: bool) -> Result<(), DbError> {
    let p = &b.pricing;
    let org = &b.organization_id;
    let (pricing, participants) = (serde_json::to_value(p)?, serde_json::to_value(&b.participants)?);
    let overbook = b.overbook.as_ref().map(serde_json::to_value).transpose()?;
    let cancellation = b.cancellation.as_ref().map(serde_json::to_value).transpose()?;
    let (count, checked_in, no_shows) = (i32_of(b.participant_count())?, i32_of(b.checked_in)?, i32_of(b.no_shows)?);
    let upsert: [&(dyn ToSql + Sync); 30] = [
        &b.id,
        org,
        &b.reference_number.as_str(),
        &b.customer_id,
        &b.departure_id,
        &b.tour_id,
        &b.variant_id,
        &pricing,
        &p.total.currency.as_str(),
        &p.subtotal.amount,
        &p.total.amount,
        &b.paid_amount.amount,
        &b.refunded_amount.amount,
        &count,
        &participants,
        &b.status.as_str(),
        &b.payment_status.as_str(),
        &b.source.as_str(),
        &p.promotional_code_id,
        &b.special_requests,
        &b.dietary_restrictions,
        &overbook,
        &cancellation,
        &checked_in,
        &no_shows,
        &b.created_at,
        &b.confirmed_at,
        &b.cancelled_at,
        &b.updated_at,
        &hold,
    ];
    let tiers: Vec<&str> = p.line_items.iter().map(|l| l.pricing_tier_id.as_str()).collect();
    let names: Vec<&str> = p.line_items.iter().map(|l| l.tier_name.as_str()).collect();
    let quantities = p.line_items.iter().map(|l| i32_of(l.quantity)).collect::<Result<Vec<i32>, DbError>>()?;
    let units: Vec<i64> = p.line_items.iter().map(|l| l.unit_price.amount).collect();
    let totals: Vec<i64> = p.line_items.iter().map(|l| l.total_price.amount).collect();
    let currencies: Vec<&str> = p.line_items.iter().map(|l| l.total_price.currency.as_str()).collect();
    let booking_key: [&(dyn ToSql + Sync); 2] = [org, &b.id];
    let lines: [&(dyn ToSql + Sync); 8] = [org, &b.id, &tiers, &names, &quantities, &units, &totals, &currencies];
    let guest: [&(dyn ToSql + Sync); 4] = [org, &b.customer_id, &b.departure_id, &b.id];
    // Four statements that must run in this order (line items need their booking), pipelined:
    // all prepared first, so none waits on its parse while a later one overtakes it.
    let (upsert_stmt, delete_stmt, lines_stmt, guest_stmt) = super::all4(
        w.prepare_cached(UPSERT_BOOKING).await,
        w.prepare_cached("DELETE FROM booking_line_items WHERE organization_id = $1 AND booking_id = $2").await,
        w.prepare_cached(
            "INSERT INTO booking_line_items (id, organization_id, booking_id, line_no, pricing_tier_id, tier_name,
             quantity, unit_price_minor, total_price_minor, currency)
             SELECT $2 || '#' || (l.n - 1), $1, $2, l.n - 1, l.tier, l.name, l.quantity, l.unit, l.total, l.currency
             FROM unnest($3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[], $8::text[]) WITH ORDINALITY
                  AS l(tier, name, quantity, unit, total, currency, n)",
        )
        .await,
        w.prepare_cached(&GUEST_OF_BOOKING).await,
    )?;
    let (written, _, _, guest) = {
        let (a, b, c, d) = tokio::join!(
            biased;
            w.query_opt(&upsert_stmt, &upsert),
            async {
                if new { Ok(0) } else { w.execute(&delete_stmt, &booking_key).await }
            },
            w.execute(&lines_stmt, &lines),
            w.query_opt(&guest_stmt, &guest),
        );
        super::all4(a, b, c, d)?
    };
    // `xmax = 0` only on a freshly inserted row version: tells an insert from an update.
    let Some(row) = written else { return Err(DbError::IdTaken(b.id.clone())) };
    let inserted: bool = row.try_get(0)?;
    // The customer goes first, so a replica never holds a booking whose guest it lacks.
    let mut log = Vec::new();
    // The column after the customer's: whether they have another booking on the departure.
    let already_there = |r: &tokio_postgres::Row| r.try_get::<_, bool>(CUSTOMER_COLS.split(',').count());
    if let Some(r) = guest
        && replication::booking_brings_guest(inserted, already_there(&r)?)
    {
        let cu = customer_from_row(&r)?;
        log.push(LogRow::put(
            schedule_bucket(&b.departure_id),
            EntityKind::Customer,
            &cu.id,
            serde_json::to_value(&cu)?,
        ));
    }
    let row = serde_json::to_value(b)?;
    for bucket in departure_buckets(org, &b.departure_id) {
        log.push(LogRow::put(bucket, EntityKind::Booking, &b.id, row.clone()));
    }
    w.log(log);
    Ok(())
}

const UPSERT_BOOKING: &str =
    "INSERT INTO bookings (id, organization_id, reference_number, customer_id, departure_id, tour_id,
             variant_id, pricing, currency, subtotal_minor, total_minor, paid_amount_minor, refunded_amount_minor,
             participant_count, participants, status, payment_status, source, promotional_code_id, special_requests,
             dietary_restrictions, overbook, cancellation, checked_in, no_shows, created_at, confirmed_at,
             cancelled_at, updated_at, hold_expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
             $22, $23, $24, $25, $26, $27, $28, $29, $30)
         ON CONFLICT (id) DO UPDATE SET departure_id = excluded.departure_id, variant_id = excluded.variant_id,
             customer_id = excluded.customer_id,
             pricing = excluded.pricing, currency = excluded.currency,
             subtotal_minor = excluded.subtotal_minor, total_minor = excluded.total_minor,
             paid_amount_minor = excluded.paid_amount_minor, refunded_amount_minor = excluded.refunded_amount_minor,
             participant_count = excluded.participant_count, participants = excluded.participants,
             status = excluded.status, payment_status = excluded.payment_status,
             promotional_code_id = excluded.promotional_code_id, special_requests = excluded.special_requests,
             dietary_restrictions = excluded.dietary_restrictions, overbook = excluded.overbook,
             cancellation = excluded.cancellation, checked_in = excluded.checked_in, no_shows = excluded.no_shows,
             confirmed_at = excluded.confirmed_at, cancelled_at = excluded.cancelled_at,
             updated_at = excluded.updated_at
         WHERE bookings.organization_id = excluded.organization_id
         RETURNING (xmax = 0)";

/// The booking's customer, and whether they have another booking on the departure (the column
/// after the customer's; `replication::booking_brings_guest` decides).
static GUEST_OF_BOOKING: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {CUSTOMER_COLS},
                EXISTS (SELECT 1 FROM bookings WHERE organization_id = $1 AND customer_id = $2
                        AND departure_id = $3 AND id <> $4)
         FROM customers WHERE organization_id = $1 AND id = $2"
    )
});

/// Whether a reference is taken in the organization. A concurrent insert of the same reference
/// cannot slip past this: `bookings_reference_org_unique` refuses the second one.
pub async fn booking_reference_taken(c: &impl GenericClient, org: &str, reference: &str) -> Result<bool, DbError> {
    // Stored references are canonical: compare what the domain reads the text as.
    let Ok(reference) = ReferenceNumber::parse(reference) else { return Ok(false) };
    let reference = reference.as_str();
    let row = c
        .row(
            "SELECT EXISTS (SELECT 1 FROM bookings WHERE organization_id = $1 AND reference_number = $2)",
            &[&org, &reference],
        )
        .await?;
    Ok(row.try_get(0)?)
}

/// [`booking_reference_taken`] for several references in one statement: whether each is taken,
/// in the order given.
pub async fn booking_references_taken(
    c: &impl GenericClient,
    org: &str,
    references: &[&str],
) -> Result<Vec<bool>, DbError> {
    // Text that is no reference cannot be taken; it is asked about as nothing.
    let canonical: Vec<Option<ReferenceNumber>> = references.iter().map(|r| ReferenceNumber::parse(r).ok()).collect();
    let asked: Vec<&str> = canonical.iter().flatten().map(ReferenceNumber::as_str).collect();
    let rows = c
        .rows(
            "SELECT reference_number FROM bookings WHERE organization_id = $1 AND reference_number = ANY($2)",
            &[&org, &asked],
        )
        .await?;
    let found: Vec<String> = rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
    Ok(canonical.iter().map(|r| r.as_ref().is_some_and(|r| found.iter().any(|f| f == r.as_str()))).collect())
}

pub async fn booking_by_id(c: &impl GenericClient, org: &str, id: &str) -> Result<Option<Booking>, DbError> {
    let sql = format!("SELECT {BOOKING_COLS} FROM bookings WHERE organization_id = $1 AND id = $2");
    c.row_opt(&sql, &[&org, &id]).await?.map(|r| booking_from_row(&r)).transpose()
}

/// The same booking, row-locked for a state change outside the mutators (payments, holds).
pub async fn booking_for_update(c: &impl GenericClient, org: &str, id: &str) -> Result<Option<Booking>, DbError> {
    let sql = format!("SELECT {BOOKING_COLS} FROM bookings WHERE organization_id = $1 AND id = $2 FOR UPDATE");
    c.row_opt(&sql, &[&org, &id]).await?.map(|r| booking_from_row(&r)).transpose()
}

/// A departure with its tour's name and the currency the tour is priced in (`None` before it has
/// prices; `offer::tour_currency` decides from the tour's tiers), for a website booking: one
/// round trip.
pub async fn departure_for_booking(
    c: &impl GenericClient,
    org: &str,
    id: &str,
) -> Result<Option<(Departure, String, Option<Currency>)>, DbError> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT {DEPARTURE_COLS}, tour_name FROM (
                 SELECT s.*, t.name AS tour_name
                 FROM schedules s JOIN tours t ON t.organization_id = s.organization_id AND t.id = s.tour_id
                 WHERE s.organization_id = $1 AND s.id = $2) d"
        )
    });
    static TIERS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT {TIER_COLS} FROM pricing_tiers WHERE organization_id = $1
             AND tour_id = (SELECT tour_id FROM schedules WHERE organization_id = $1 AND id = $2)"
        )
    });
    let params: [&(dyn ToSql + Sync); 2] = [&org, &id];
    let (row, tiers) = tokio::join!(c.row_opt(&SQL, &params), c.rows(&TIERS, &params));
    let (row, tiers) = super::all2(row, tiers)?;
    let Some(r) = row else { return Ok(None) };
    let tiers = tiers.iter().map(tier_from_row).collect::<Result<Vec<_>, DbError>>()?;
    Ok(Some((departure_from_row(&r)?, r.try_get(13)?, offer::tour_currency(&tiers))))
}

pub async fn tour_name(c: &impl GenericClient, org: &str, tour_id: &str) -> Result<Option<String>, DbError> {
    let row = c.row_opt("SELECT name FROM tours WHERE organization_id = $1 AND id = $2", &[&org, &tour_id]).await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

pub async fn hold_of(c: &impl GenericClient, org: &str, booking_id: &str) -> Result<Option<DateTime<Utc>>, DbError> {
    let row = c
        .row_opt("SELECT hold_expires_at FROM bookings WHERE organization_id = $1 AND id = $2", &[&org, &booking_id])
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?.flatten())
}

pub async fn booking_id_by_reference_and_email(
    c: &impl GenericClient,
    org: &str,
    reference: &str,
    email: &str,
) -> Result<Option<String>, DbError> {
    // A reference as a person typed it (any case, the prefix optional) is the one the domain reads.
    let Ok(reference) = ReferenceNumber::parse(reference) else { return Ok(None) };
    let reference = reference.as_str();
    let row = c
        .row_opt(
            "SELECT b.id FROM bookings b
             JOIN customers cu ON cu.organization_id = b.organization_id AND cu.id = b.customer_id
             WHERE b.organization_id = $1 AND b.reference_number = $2 AND lower(cu.email) = lower($3)",
            &[&org, &reference, &email],
        )
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

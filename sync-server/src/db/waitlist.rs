//! Named queries for waitlist entries (V7, V51: `tourdesk_domain::waitlist`), and their place on
//! the change log: an entry is logged to the buckets the domain gives it
//! (`RowScope::Office`: office desks) each time it is written — added (a desk's push, the
//! website's form), offered, booked or lapsed (the offers job) and removed (a desk's push) — so
//! the desk's waitlist shows where each entry stands. V60 logged the rows that existed before.
//!
//! The claim token's digest never leaves the server: the replicated row is the domain entity,
//! which has no such field.

use deadpool_postgres::GenericClient;
use tourdesk_domain::entities::{WaitlistEntry, WaitlistLine};
use tourdesk_domain::protocol::{EntityKind, Op};
use tourdesk_domain::replication::RowScope;
use tourdesk_domain::waitlist::WaitlistStatus;

use super::{DbError, Prepared, WriteTx, bad_row, i32_of, written_once};

pub const WAITLIST_COLS: &str = "id, organization_id, tour_id, departure_id, customer_id, lines, party_size, notes, \
     created_by, created_at, status, offered_at, offer_expires_at, offer_booking_id";

pub fn waitlist_entry_from_row(r: &tokio_postgres::Row) -> Result<WaitlistEntry, DbError> {
    let lines: Vec<WaitlistLine> = serde_json::from_value(r.try_get(5)?)?;
    let party: i32 = r.try_get(6)?;
    let status: String = r.try_get(10)?;
    Ok(WaitlistEntry {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        tour_id: r.try_get(2)?,
        departure_id: r.try_get(3)?,
        customer_id: r.try_get(4)?,
        lines,
        party_size: u32::try_from(party).map_err(|_| bad_row("party size", &party.to_string()))?,
        notes: r.try_get(7)?,
        created_by: r.try_get(8)?,
        created_at: r.try_get(9)?,
        status: WaitlistStatus::parse(&status).ok_or_else(|| bad_row("waitlist status", &status))?,
        offered_at: r.try_get(11)?,
        offer_expires_at: r.try_get(12)?,
        offer_booking_id: r.try_get(13)?,
    })
}

/// One entry by id, locked to commit when `lock` (a removal, decided against the offers job,
/// which claims entries `FOR UPDATE` too).
pub async fn waitlist_entry(
    c: &impl GenericClient,
    org: &str,
    id: &str,
    lock: bool,
) -> Result<Option<WaitlistEntry>, DbError> {
    let sql = format!(
        "SELECT {WAITLIST_COLS} FROM waitlist_entries WHERE organization_id = $1 AND id = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    c.row_opt(&sql, &[&org, &id]).await?.map(|r| waitlist_entry_from_row(&r)).transpose()
}

/// A customer's entries, any status, oldest first; locked to commit when `lock` (a merge moves
/// them, decided against the offers job, which claims entries `FOR UPDATE SKIP LOCKED` and so
/// passes over them meanwhile).
pub async fn waitlist_of_customer(
    c: &impl GenericClient,
    org: &str,
    customer_id: &str,
    lock: bool,
) -> Result<Vec<WaitlistEntry>, DbError> {
    let sql = format!(
        "SELECT {WAITLIST_COLS} FROM waitlist_entries WHERE organization_id = $1 AND customer_id = $2
         ORDER BY created_at, id{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    c.rows(&sql, &[&org, &customer_id]).await?.iter().map(waitlist_entry_from_row).collect()
}

/// Writes an entry a mutation decided: a `new` one (`add_to_waitlist.v1`: entries are facts made
/// once, so a replayed id is a conflict the savepoint turns into a recorded rejection, never a
/// second entry), or an existing one's new status (`remove_from_waitlist.v1`), customer
/// (`merge_customers.v1`) or notes (dropped by `erase_customer.v1`), the only fields a
/// mutation changes. Either way the row is logged as it
/// now is.
pub async fn put_waitlist_entry(w: &WriteTx<'_>, e: &WaitlistEntry, new: bool) -> Result<(), DbError> {
    if new {
        w.exec(
            "INSERT INTO waitlist_entries (id, organization_id, tour_id, departure_id, customer_id, lines, party_size,
                                           notes, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &e.id,
                &e.organization_id,
                &e.tour_id,
                &e.departure_id,
                &e.customer_id,
                &serde_json::to_value(&e.lines)?,
                &i32_of(e.party_size)?,
                &e.notes,
                &e.created_by,
                &e.created_at,
            ],
        )
        .await?;
    } else {
        let n = w
            .exec(
                "UPDATE waitlist_entries SET status = $3, customer_id = $4, notes = $5, updated_at = now()
                 WHERE organization_id = $1 AND id = $2",
                &[&e.organization_id, &e.id, &e.status.as_str(), &e.customer_id, &e.notes],
            )
            .await?;
        written_once(n, &e.id)?;
    }
    log_waitlist_entries(w, std::slice::from_ref(&e.id)).await
}

/// Queues the entries `ids`, as they now are, for `w`'s change log. Every writer of an entry's
/// status calls it after its update (the offers job included), so a desk never misses a step.
pub async fn log_waitlist_entries(w: &WriteTx<'_>, ids: &[String]) -> Result<(), DbError> {
    if ids.is_empty() {
        return Ok(());
    }
    let buckets = RowScope::of_reference(EntityKind::WaitlistEntry)
        .ok_or_else(|| DbError::Corrupt("waitlist entries have no replication scope".into()))?
        .buckets(w.org());
    let sql = format!("SELECT {WAITLIST_COLS} FROM waitlist_entries WHERE organization_id = $1 AND id = ANY($2)");
    let org = w.org().to_string();
    for r in w.tx().rows(&sql, &[&org, &ids]).await? {
        let e = waitlist_entry_from_row(&r)?;
        w.log_change(&buckets, EntityKind::WaitlistEntry, &e.id, Op::Put, Some(serde_json::to_value(&e)?));
    }
    Ok(())
}

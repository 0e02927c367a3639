//! Named queries for allotments (V22, `tourdesk_domain::allotment`): seats on a departure set
//! aside for one device. Each write is logged to `org:all` and the departure's `schedule:D`.

use deadpool_postgres::GenericClient;
use tourdesk_domain::allotment::{Allotment, AllotmentStatus};
use tourdesk_domain::protocol::{EntityKind, Op};

use super::{DbError, Prepared, WriteTx, bad_row, departure_buckets, i32_of, written_once};

pub const ALLOTMENT_COLS: &str = "id, organization_id, departure_id, tour_id, device_id, user_id, seats, sold, \
     status, booking_ids, issued_by, issued_at, released_at, returned";

fn u32_of(v: i32, what: &str) -> Result<u32, DbError> {
    u32::try_from(v).map_err(|_| bad_row(what, &v.to_string()))
}

pub fn allotment_from_row(r: &tokio_postgres::Row) -> Result<Allotment, DbError> {
    let status: String = r.try_get(8)?;
    Ok(Allotment {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        departure_id: r.try_get(2)?,
        tour_id: r.try_get(3)?,
        device_id: r.try_get(4)?,
        user_id: r.try_get(5)?,
        seats: u32_of(r.try_get(6)?, "allotment seats")?,
        sold: u32_of(r.try_get(7)?, "allotment sold")?,
        status: AllotmentStatus::parse(&status).ok_or_else(|| bad_row("allotment status", &status))?,
        booking_ids: r.try_get(9)?,
        issued_by: r.try_get(10)?,
        issued_at: r.try_get(11)?,
        released_at: r.try_get(12)?,
        returned: u32_of(r.try_get(13)?, "allotment returned")?,
    })
}

/// One allotment, locked to commit when `lock`.
pub async fn allotment(c: &impl GenericClient, org: &str, id: &str, lock: bool) -> Result<Option<Allotment>, DbError> {
    let sql = format!(
        "SELECT {ALLOTMENT_COLS} FROM allotments WHERE organization_id = $1 AND id = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    c.row_opt(&sql, &[&org, &id]).await?.map(|r| allotment_from_row(&r)).transpose()
}

/// A departure's allotments, oldest first (the office's view and the manifest's).
pub async fn allotments_of_departure(
    c: &impl GenericClient,
    org: &str,
    departure_id: &str,
) -> Result<Vec<Allotment>, DbError> {
    let sql = format!(
        "SELECT {ALLOTMENT_COLS} FROM allotments WHERE organization_id = $1 AND departure_id = $2
         ORDER BY issued_at, id"
    );
    c.rows(&sql, &[&org, &departure_id]).await?.iter().map(allotment_from_row).collect()
}

/// Active allotments of departures that have started (the release job's work), locked and
/// skipped when another instance holds them.
pub async fn due_allotments(c: &impl GenericClient, org: &str, limit: i64) -> Result<Vec<(String, String)>, DbError> {
    let rows = c
        .rows(
            "SELECT a.id, a.departure_id FROM allotments a
               JOIN schedules s ON s.organization_id = a.organization_id AND s.id = a.departure_id
             WHERE a.organization_id = $1 AND a.status = 'active' AND s.starts_at <= now()
             ORDER BY s.starts_at, a.id LIMIT $2 FOR UPDATE OF a SKIP LOCKED",
            &[&org, &limit],
        )
        .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

/// Writes an allotment whole (new, or its sales and release).
// Its own upsert, alike other tables' in shape only (one statement per table).
pub async fn put_allotment(w: &WriteTx<'_>, a: &Allotment) -> Result<(), DbError> {
    let n = w
        .exec(
            "INSERT INTO allotments (id, organization_id, departure_id, tour_id, device_id, user_id, seats, sold,
                                     status, booking_ids, issued_by, issued_at, released_at, returned)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (id) DO UPDATE SET sold = excluded.sold, status = excluded.status,
                 booking_ids = excluded.booking_ids, released_at = excluded.released_at, returned = excluded.returned
             WHERE allotments.organization_id = excluded.organization_id
               AND allotments.departure_id = excluded.departure_id",
            &[
                &a.id,
                &a.organization_id,
                &a.departure_id,
                &a.tour_id,
                &a.device_id,
                &a.user_id,
                &i32_of(a.seats)?,
                &i32_of(a.sold)?,
                &a.status.as_str(),
                &a.booking_ids,
                &a.issued_by,
                &a.issued_at,
                &a.released_at,
                &i32_of(a.returned)?,
            ],
        )
        .await?;
    written_once(n, &a.id)?;
    let buckets = departure_buckets(&a.organization_id, &a.departure_id);
    w.log_change(&buckets, EntityKind::Allotment, &a.id, Op::Put, Some(serde_json::to_value(a)?));
    Ok(())
}

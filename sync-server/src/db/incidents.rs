//! Named queries for a guide's field notes on a departure (V33, `tourdesk_domain::incident`).
//! Each note is logged to `org:all` and the departure's `schedule:D`, like check-ins.

use deadpool_postgres::GenericClient;
use tourdesk_domain::incident::DepartureIncident;
use tourdesk_domain::protocol::{EntityKind, Op};

use super::{DbError, Prepared, WriteTx, departure_buckets};

pub const INCIDENT_COLS: &str = "id, organization_id, departure_id, at, text, recorded_by";

pub fn incident_from_row(r: &tokio_postgres::Row) -> Result<DepartureIncident, DbError> {
    Ok(DepartureIncident {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        departure_id: r.try_get(2)?,
        at: r.try_get(3)?,
        text: r.try_get(4)?,
        recorded_by: r.try_get(5)?,
    })
}

/// A departure's field notes, oldest first.
pub async fn incidents_of_departure(
    c: &impl GenericClient,
    org: &str,
    departure_id: &str,
) -> Result<Vec<DepartureIncident>, DbError> {
    let sql = format!(
        "SELECT {INCIDENT_COLS} FROM departure_incidents WHERE organization_id = $1 AND departure_id = $2
         ORDER BY at, id"
    );
    c.rows(&sql, &[&org, &departure_id]).await?.iter().map(incident_from_row).collect()
}

/// Records a field note (never updated). A replay of the same nonce writes and logs nothing.
pub async fn put_incident(w: &WriteTx<'_>, i: &DepartureIncident) -> Result<(), DbError> {
    let n = w
        .exec(
            "INSERT INTO departure_incidents (id, organization_id, departure_id, at, text, recorded_by)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            &[&i.id, &i.organization_id, &i.departure_id, &i.at, &i.text, &i.recorded_by],
        )
        .await?;
    if n == 1 {
        let buckets = departure_buckets(&i.organization_id, &i.departure_id);
        w.log_change(&buckets, EntityKind::DepartureIncident, &i.id, Op::Put, Some(serde_json::to_value(i)?));
    }
    Ok(())
}

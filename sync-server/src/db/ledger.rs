//! Named queries for booking ledgers (V17): the entries staff record and the Stripe money the
//! webhook reports, each logged to `org:all` and its departure's `schedule:D`.

use deadpool_postgres::GenericClient;
use tourdesk_domain::ledger::{EntryKind, LedgerEntry, PaymentMethod};
use tourdesk_domain::money::Currency;
use tourdesk_domain::protocol::{EntityKind, Op};

use super::{DbError, LogRow, Prepared, WriteTx, bad_row, departure_buckets};

pub const LEDGER_COLS: &str = "id, organization_id, booking_id, departure_id, kind, amount_minor, currency, note, \
     reference, recorded_by, recorded_at, method";

pub fn ledger_entry_from_row(r: &tokio_postgres::Row) -> Result<LedgerEntry, DbError> {
    let kind: String = r.try_get(4)?;
    let currency: String = r.try_get(6)?;
    let method: Option<String> = r.try_get(11)?;
    Ok(LedgerEntry {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        booking_id: r.try_get(2)?,
        departure_id: r.try_get(3)?,
        kind: EntryKind::parse(&kind).ok_or_else(|| bad_row("ledger entry kind", &kind))?,
        amount: r.try_get(5)?,
        currency: Currency::parse(&currency).map_err(|_| bad_row("currency", &currency))?,
        note: r.try_get(7)?,
        reference: r.try_get(8)?,
        recorded_by: r.try_get(9)?,
        recorded_at: r.try_get(10)?,
        method: method.map(|m| PaymentMethod::parse(&m).ok_or_else(|| bad_row("refund method", &m))).transpose()?,
    })
}

/// A booking's ledger, oldest first.
pub async fn ledger_of_booking(
    c: &impl GenericClient,
    org: &str,
    booking_id: &str,
) -> Result<Vec<LedgerEntry>, DbError> {
    let sql = format!(
        "SELECT {LEDGER_COLS} FROM ledger_entries WHERE organization_id = $1 AND booking_id = $2
         ORDER BY recorded_at, id"
    );
    c.rows(&sql, &[&org, &booking_id]).await?.iter().map(ledger_entry_from_row).collect()
}

/// A departure's ledger entries, for the snapshot a newly assigned guide starts from.
pub async fn ledger_of_departure_log(
    c: &impl GenericClient,
    org: &str,
    departure_id: &str,
    bucket: &str,
) -> Result<Vec<LogRow>, DbError> {
    let sql = format!(
        "SELECT {LEDGER_COLS} FROM ledger_entries WHERE organization_id = $1 AND departure_id = $2
         ORDER BY recorded_at, id"
    );
    let mut log = Vec::new();
    for r in c.rows(&sql, &[&org, &departure_id]).await? {
        let e = ledger_entry_from_row(&r)?;
        log.push(LogRow::put(bucket.to_string(), EntityKind::LedgerEntry, &e.id, serde_json::to_value(&e)?));
    }
    Ok(log)
}

/// Inserts `e`; `on_conflict` is what a row of the same id does (empty: the insert fails).
/// Answers the row as stored when it was written.
async fn insert_ledger_entry(
    w: &WriteTx<'_>,
    e: &LedgerEntry,
    on_conflict: &str,
) -> Result<Option<tokio_postgres::Row>, DbError> {
    Ok(w.row_opt(
        &format!(
            "INSERT INTO ledger_entries (id, organization_id, booking_id, departure_id, kind, amount_minor, currency,
                                         note, reference, recorded_by, recorded_at, method)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             {on_conflict}
             RETURNING {LEDGER_COLS}"
        ),
        &[
            &e.id,
            &e.organization_id,
            &e.booking_id,
            &e.departure_id,
            &e.kind.as_str(),
            &e.amount,
            &e.currency.as_str(),
            &e.note,
            &e.reference,
            &e.recorded_by,
            &e.recorded_at,
            &e.method.map(|m| m.as_str()),
        ],
    )
    .await?)
}

/// Records an entry (entries are facts: a second write of the same id fails, which a replay
/// never reaches: the push's dedupe key answers it first).
pub async fn put_ledger_entry(w: &WriteTx<'_>, e: &LedgerEntry) -> Result<(), DbError> {
    insert_ledger_entry(w, e, "").await?;
    let buckets = departure_buckets(&e.organization_id, &e.departure_id);
    w.log_change(&buckets, EntityKind::LedgerEntry, &e.id, Op::Put, Some(serde_json::to_value(e)?));
    Ok(())
}

/// Keeps the Stripe entry `e` (a card payment or a refund with the processor's cumulative
/// amount): created when new, raised when the processor reports more, untouched otherwise.
/// Logged only when it changed, so a replayed webhook logs nothing.
pub async fn keep_stripe_entry(w: &WriteTx<'_>, e: &LedgerEntry) -> Result<(), DbError> {
    if e.amount <= 0 {
        return Ok(());
    }
    let row = insert_ledger_entry(
        w,
        e,
        "ON CONFLICT (id) DO UPDATE SET amount_minor = excluded.amount_minor
           WHERE ledger_entries.organization_id = excluded.organization_id
             AND ledger_entries.amount_minor < excluded.amount_minor",
    )
    .await?;
    if let Some(r) = row {
        let kept = ledger_entry_from_row(&r)?;
        let buckets = departure_buckets(&kept.organization_id, &kept.departure_id);
        w.log_change(&buckets, EntityKind::LedgerEntry, &kept.id, Op::Put, Some(serde_json::to_value(&kept)?));
    }
    Ok(())
}

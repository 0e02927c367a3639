//! Named queries for customers (V2's table).
//!
//! Every query filters on `organization_id`; the upsert carries the tenant guard of V1's
//! (`WHERE x.organization_id = excluded.organization_id`) and must touch exactly one row. A
//! customer is logged where it is written, to the buckets of `replication::RowScope::Customer`:
//! `org:all` and the `schedule:D` of every departure they have a booking on, so the guide of D
//! has the guest's contact details.

use std::collections::{BTreeMap, BTreeSet};

use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;
use tourdesk_domain::entities::{Customer, CustomerSource};
use tourdesk_domain::hlc::Hlc;
use tourdesk_domain::money::Currency;
use tourdesk_domain::protocol::{EntityKind, Op};
use tourdesk_domain::replication::RowScope;

use super::{DbError, Prepared, WriteTx, bad_row, written_once};

pub const CUSTOMER_COLS: &str = "id, organization_id, email, phone, first_name, last_name, source, source_detail, \
     preferred_language, preferred_currency, marketing_consent, marketing_consent_date, field_hlcs, tags, tag_stamps, \
     notes, notes_version, notes_conflicts, created_at, updated_at, reminders_opt_out, merged_into, erased_at, sms_opt_in";

pub fn customer_from_row(r: &tokio_postgres::Row) -> Result<Customer, DbError> {
    let source: String = r.try_get(6)?;
    let currency: String = r.try_get(9)?;
    let field_hlcs: BTreeMap<String, Hlc> = serde_json::from_value(r.try_get(12)?)?;
    let tags: Vec<String> = r.try_get(13)?;
    Ok(Customer {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        email: r.try_get(2)?,
        phone: r.try_get(3)?,
        first_name: r.try_get(4)?,
        last_name: r.try_get(5)?,
        source: CustomerSource::parse(&source).ok_or_else(|| bad_row("customer source", &source))?,
        source_detail: r.try_get(7)?,
        preferred_language: r.try_get(8)?,
        preferred_currency: Currency::parse(&currency)?,
        marketing_consent: r.try_get(10)?,
        marketing_consent_date: r.try_get(11)?,
        field_hlcs,
        tags: tags.into_iter().collect::<BTreeSet<_>>(),
        tag_stamps: serde_json::from_value(r.try_get(14)?)?,
        notes: r.try_get(15)?,
        notes_version: u64::try_from(r.try_get::<_, i64>(16)?)?,
        notes_conflicts: serde_json::from_value(r.try_get(17)?)?,
        created_at: r.try_get(18)?,
        updated_at: r.try_get(19)?,
        reminders_opt_out: r.try_get(20)?,
        sms_opt_in: r.try_get(23)?,
        merged_into: r.try_get(21)?,
        erased_at: r.try_get(22)?,
    })
}

/// Writes a customer and logs it to `org:all` and to each departure they have a booking on; a
/// `new` customer (none with its id was found in this transaction) has none, and they are not
/// looked for.
pub async fn put_customer(w: &WriteTx<'_>, cu: &Customer, new: bool) -> Result<(), DbError> {
    let tags: Vec<String> = cu.tags.iter().cloned().collect();
    let (hlcs, stamps) = (serde_json::to_value(&cu.field_hlcs)?, serde_json::to_value(&cu.tag_stamps)?);
    let (conflicts, notes_version) = (serde_json::to_value(&cu.notes_conflicts)?, i64::try_from(cu.notes_version)?);
    let params: [&(dyn ToSql + Sync); 24] = [
        &cu.id,
        &cu.organization_id,
        &cu.email,
        &cu.phone,
        &cu.first_name,
        &cu.last_name,
        &cu.source.as_str(),
        &cu.source_detail,
        &cu.preferred_language,
        &cu.preferred_currency.as_str(),
        &cu.marketing_consent,
        &cu.marketing_consent_date,
        &hlcs,
        &tags,
        &stamps,
        &cu.notes,
        &notes_version,
        &conflicts,
        &cu.created_at,
        &cu.updated_at,
        &cu.reminders_opt_out,
        &cu.merged_into,
        &cu.erased_at,
        &cu.sms_opt_in,
    ];
    // Pipelined: the departures do not depend on the upsert.
    // (Each table's upsert names its own columns: alike other tables' in shape only, not a copy.)
    let (n, departures) = tokio::join!(
        w.exec(
            "INSERT INTO customers (id, organization_id, email, phone, first_name, last_name, source, source_detail,
             preferred_language, preferred_currency, marketing_consent, marketing_consent_date, field_hlcs, tags,
             tag_stamps, notes, notes_version, notes_conflicts, created_at, updated_at, reminders_opt_out,
             merged_into, erased_at, sms_opt_in)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21,
             $22, $23, $24)
         ON CONFLICT (id) DO UPDATE SET email = excluded.email, phone = excluded.phone,
             first_name = excluded.first_name, last_name = excluded.last_name, source = excluded.source,
             source_detail = excluded.source_detail, preferred_language = excluded.preferred_language,
             preferred_currency = excluded.preferred_currency, marketing_consent = excluded.marketing_consent,
             marketing_consent_date = excluded.marketing_consent_date, field_hlcs = excluded.field_hlcs,
             tags = excluded.tags, tag_stamps = excluded.tag_stamps, notes = excluded.notes,
             notes_version = excluded.notes_version, notes_conflicts = excluded.notes_conflicts,
             updated_at = excluded.updated_at, reminders_opt_out = excluded.reminders_opt_out,
             merged_into = excluded.merged_into, erased_at = excluded.erased_at, sms_opt_in = excluded.sms_opt_in
         WHERE customers.organization_id = excluded.organization_id",
            &params,
        ),
        async { if new { Ok(Vec::new()) } else { customer_departures(w.tx(), &cu.organization_id, &cu.id).await } }
    );
    let (n, departures) = super::all2(n, departures)?;
    written_once(n, &cu.id)?;
    let buckets = RowScope::Customer(&departures).buckets(&cu.organization_id);
    w.log_change(&buckets, EntityKind::Customer, &cu.id, Op::Put, Some(serde_json::to_value(cu)?));
    Ok(())
}

/// The departures a customer has a booking on (any status: the booking stays in the
/// departure's bucket, so its customer must too).
async fn customer_departures(c: &impl GenericClient, org: &str, customer_id: &str) -> Result<Vec<String>, DbError> {
    let rows = c
        .rows(
            "SELECT DISTINCT departure_id FROM bookings WHERE organization_id = $1 AND customer_id = $2
             ORDER BY departure_id",
            &[&org, &customer_id],
        )
        .await?;
    Ok(rows.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?)
}

pub async fn customer_by_id(c: &impl GenericClient, org: &str, id: &str) -> Result<Option<Customer>, DbError> {
    let sql = format!("SELECT {CUSTOMER_COLS} FROM customers WHERE organization_id = $1 AND id = $2");
    c.row_opt(&sql, &[&org, &id]).await?.map(|r| customer_from_row(&r)).transpose()
}

/// A customer by e-mail (case-insensitive), unlocked, with the organization's country (the
/// region a phone typed without its country code is read in): one statement for what a website
/// booking needs to find or make its customer.
pub async fn customer_by_email_and_country(
    c: &impl GenericClient,
    org: &str,
    email: &str,
) -> Result<(Option<Customer>, Option<String>), DbError> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT {}, o.country_code FROM organizations o
             LEFT JOIN customers cu ON cu.organization_id = o.id AND cu.email_lower = lower($2)
             WHERE o.id = $1",
            CUSTOMER_COLS.split(',').map(|c| format!("cu.{}", c.trim())).collect::<Vec<_>>().join(", ")
        )
    });
    let r = c.row(&SQL, &[&org, &email]).await?;
    let country: Option<String> = r.try_get(CUSTOMER_COLS.split(',').count())?;
    let id: Option<String> = r.try_get(0)?;
    Ok((id.map(|_| customer_from_row(&r)).transpose()?, country))
}

/// A customer's id by e-mail (case-insensitive), unlocked.
pub async fn customer_id_by_email(c: &impl GenericClient, org: &str, email: &str) -> Result<Option<String>, DbError> {
    let row = c
        .row_opt("SELECT id FROM customers WHERE organization_id = $1 AND email_lower = lower($2)", &[&org, &email])
        .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

pub async fn customer_email_is(
    c: &impl GenericClient,
    org: &str,
    customer_id: &str,
    email: &str,
) -> Result<bool, DbError> {
    let row = c
        .row(
            "SELECT EXISTS (SELECT 1 FROM customers
                            WHERE organization_id = $1 AND id = $2 AND email_lower = lower($3))",
            &[&org, &customer_id, &email],
        )
        .await?;
    Ok(row.try_get(0)?)
}

pub async fn customer_email(c: &impl GenericClient, org: &str, customer_id: &str) -> Result<Option<String>, DbError> {
    let row =
        c.row_opt("SELECT email FROM customers WHERE organization_id = $1 AND id = $2", &[&org, &customer_id]).await?;
    // A walk-in has no e-mail: `None` whether the customer is missing or has none.
    Ok(row.map(|r| r.try_get::<_, Option<String>>(0)).transpose()?.flatten())
}

/// After a merge: the duplicate's messages (the communications log) belong to the survivor.
/// Desks are told, as of every change of a message.
pub async fn move_communications(w: &WriteTx<'_>, org: &str, from: &str, to: &str) -> Result<(), DbError> {
    let ids = w
        .rows(
            "UPDATE communications SET customer_id = $3 WHERE organization_id = $1 AND customer_id = $2 RETURNING id",
            &[&org, &from, &to],
        )
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<Vec<String>, _>>()?;
    super::log_communications(w, &ids).await
}

/// After an erasure: the log keeps that a message of each type went out and when, not what it
/// said or to whom; one still waiting to go is not sent.
/// Every desk's copy is wiped too.
pub async fn erase_communications(w: &WriteTx<'_>, org: &str, customer_id: &str) -> Result<(), DbError> {
    let ids = w
        .rows(
            "UPDATE communications SET content = '', subject = NULL, recipient = NULL,
                status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END,
                failure_reason = CASE WHEN status = 'pending' THEN 'customer erased' ELSE failure_reason END
          WHERE organization_id = $1 AND customer_id = $2 RETURNING id",
            &[&org, &customer_id],
        )
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<Vec<String>, _>>()?;
    super::log_communications(w, &ids).await
}

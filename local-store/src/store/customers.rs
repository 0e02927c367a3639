//! Customers beyond search: what the customer page shows around the record (lifetime value,
//! likely duplicates, a merge that can still be undone), taking back a queued mutation before
//! it is sent, and the GDPR export of what this desk holds.

use std::collections::BTreeMap;

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tourdesk_domain::entities::{Booking, Customer};
use tourdesk_domain::ipc::{CustomerExport, CustomerHit, PendingMerge};
use tourdesk_domain::money::Money;
use tourdesk_domain::mutation::Rejection;

use super::read::customer_hit;
use super::{Store, session_org};
use crate::{StoreError, rows};

/// The meta key holding the highest mutation id a push has been started for: anything at or
/// below it may already be on the server, so it can no longer be taken back.
const PUSH_STARTED: &str = "push_started_upto";

const MERGE: &str = "merge_customers.v1";

/// What a customer paid net of refunds, one sum per currency.
pub(super) fn lifetime_value(bookings: &[Booking]) -> Vec<Money> {
    let mut by: BTreeMap<String, Money> = BTreeMap::new();
    for b in bookings {
        let currency = b.paid_amount.currency;
        let entry = by.entry(currency.to_string()).or_insert_with(|| Money::new(0, currency));
        let net = b.paid_amount.amount.saturating_sub(if b.refunded_amount.currency == currency {
            b.refunded_amount.amount
        } else {
            0
        });
        *entry = Money::new(entry.amount.saturating_add(net), currency);
    }
    by.into_values().filter(|m| m.amount != 0).collect()
}

/// The e-mail as a duplicate check compares it: lowercased, without a `+tag` in the local part.
fn email_key(email: &str) -> Option<(String, String)> {
    let e = email.trim().to_lowercase();
    let (local, domain) = e.rsplit_once('@')?;
    let local = local.split('+').next().unwrap_or(local);
    Some((local.to_string(), domain.to_string()))
}

/// Customers who look like `c`: the same phone, or the same e-mail but for case and a `+tag`.
/// Merged and erased records are left out; at most 10.
pub(super) fn duplicates_of(conn: &Connection, org: &str, c: &Customer) -> Result<Vec<CustomerHit>, StoreError> {
    if c.merged_into.is_some() || c.erased_at.is_some() {
        return Ok(vec![]);
    }
    let mut out: Vec<CustomerHit> = Vec::new();
    if let Some(phone) = c.phone.as_deref() {
        let mut stmt = conn.prepare_cached(
            "SELECT id, first_name, last_name, email, phone, local_pending FROM customers
             WHERE organization_id = ?1 AND phone = ?2 AND id <> ?3 AND merged_into IS NULL AND erased_at IS NULL
             ORDER BY id LIMIT 10",
        )?;
        out.extend(stmt.query_map(params![org, phone, c.id], customer_hit)?.collect::<Result<Vec<_>, _>>()?);
    }
    if let Some(key) = c.email.as_deref().and_then(email_key) {
        // The index on (organization_id, email) answers the local part as a prefix range.
        let (from, to) = (key.0.clone(), format!("{}\u{10FFFF}", key.0));
        let mut stmt = conn.prepare_cached(
            "SELECT id, first_name, last_name, email, phone, local_pending FROM customers
             WHERE organization_id = ?1 AND email >= ?2 AND email < ?3 AND id <> ?4
               AND merged_into IS NULL AND erased_at IS NULL
             ORDER BY id LIMIT 200",
        )?;
        for h in stmt.query_map(params![org, from, to, c.id], customer_hit)? {
            let h = h?;
            if h.email.as_deref().and_then(email_key) == Some(key.clone()) && !out.iter().any(|x| x.id == h.id) {
                out.push(h);
            }
        }
    }
    out.truncate(10);
    Ok(out)
}

/// The newest merge into `survivor_id` still in the outbox and not yet being sent.
pub(super) fn undoable_merge(conn: &Connection, survivor_id: &str) -> Result<Option<PendingMerge>, StoreError> {
    let started = push_started(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT mutation_id, args FROM outbox WHERE name = ?1 AND mutation_id > ?2 ORDER BY mutation_id DESC",
    )?;
    let rows: Vec<(u64, String)> =
        stmt.query_map(params![MERGE, started], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    for (mutation_id, args) in rows {
        let v: serde_json::Value = serde_json::from_str(&args)?;
        if v["survivor_id"].as_str().map(str::trim) == Some(survivor_id) {
            let duplicate_id = v["duplicate_id"].as_str().unwrap_or_default().trim().to_string();
            return Ok(Some(PendingMerge { mutation_id, duplicate_id }));
        }
    }
    Ok(None)
}

fn push_started(conn: &Connection) -> Result<u64, StoreError> {
    let v: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [PUSH_STARTED], |r| r.get(0)).optional()?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

impl Store {
    /// Records that a push of the outbox up to `last` is about to start: from now on those
    /// mutations may reach the server, so [`Store::discard_pending`] refuses them.
    pub fn note_push_started(&self, last: u64) -> Result<(), StoreError> {
        let conn = self.conn();
        if push_started(&conn)? < last {
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
                params![PUSH_STARTED, last.to_string()],
            )?;
        }
        Ok(())
    }

    /// Takes a queued mutation back before it is sent ("undo until synced"): it leaves the
    /// outbox, and the rows are rebuilt from the server's versions with the rest of the queue
    /// replayed on top, in one transaction. Refused once a push that may carry it has started.
    pub fn discard_pending(&self, mutation_id: u64) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let queued: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM outbox WHERE mutation_id = ?1)", [mutation_id], |r| r.get(0))?;
        if !queued {
            return Err(StoreError::Rejected(Rejection::NotFound {
                entity: "pending change".into(),
                id: mutation_id.to_string(),
            }));
        }
        if mutation_id <= push_started(&tx)? {
            return Err(StoreError::Rejected(Rejection::Conflict {
                field: "mutation_id".into(),
                message: "this change is already being sent to the server and can no longer be undone".into(),
            }));
        }
        let ctx = self.ctx(&tx)?;
        super::pull::restore_shadows(&tx, &ctx.organization_id)?;
        tx.execute("DELETE FROM outbox WHERE mutation_id = ?1", [mutation_id])?;
        super::pull::replay_outbox(&tx, &ctx)?;
        tx.commit()?;
        Ok(())
    }

    /// Everything this desk holds about a customer: the record, their bookings and each
    /// booking's ledger (GDPR access). The shell adds what only the server keeps.
    pub fn customer_export(&self, customer_id: &str) -> Result<Option<CustomerExport>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(None) };
        let Some(customer) = rows::customer(&conn, &org, customer_id)? else { return Ok(None) };
        let bookings = rows::bookings_of_customer(&conn, &org, customer_id)?;
        let mut ledger = Vec::new();
        for b in &bookings {
            ledger.extend(rows::ledger_of_booking(&conn, &org, &b.id)?);
        }
        Ok(Some(CustomerExport { customer, bookings, ledger, exported_at: Utc::now() }))
    }
}

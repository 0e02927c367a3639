//! Named queries for cancellations: the policy a tour's bookings are cancelled under (chosen by
//! `cancellation::policy_for_tour` from the loaded candidates) and the refunds a cancellation
//! queues for `payments::refunds`.

use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;
use tourdesk_domain::cancellation::{CancellationPolicy, StoredPolicy, policy_for_tour};
use tourdesk_domain::entities::RefundRequest;

use super::pricing::Lock;
use super::{DbError, Prepared, WriteTx};

/// The tour's cancellation policy (the one it chose, else its own), else the organization's
/// default (V2: "a tour without its own policy falls back to the default"); `None` when there
/// is none of them. The same choice as the desk's (`catalogue::policy_for_tour`).
pub async fn cancellation_policy(
    c: &impl GenericClient,
    org: &str,
    tour_id: &str,
) -> Result<Option<CancellationPolicy>, DbError> {
    load_policy(c, org, tour_id, Lock::Share).await
}

/// The same policy unlocked, to show it.
pub async fn cancellation_policy_unlocked(
    c: &impl GenericClient,
    org: &str,
    tour_id: &str,
) -> Result<Option<CancellationPolicy>, DbError> {
    load_policy(c, org, tour_id, Lock::None).await
}

/// Loads the candidates (the tour's policy id: the one it chose, else its own; that policy and
/// the defaults, locked as asked) and lets `cancellation::policy_for_tour` choose.
async fn load_policy(
    c: &impl GenericClient,
    org: &str,
    tour_id: &str,
    lock: Lock,
) -> Result<Option<CancellationPolicy>, DbError> {
    const TOUR_POLICY: &str = "SELECT COALESCE(t.cancellation_policy_id,
                 (SELECT min(p.id) FROM cancellation_policies p WHERE p.organization_id = $1 AND p.tour_id = $2))
         FROM tours t WHERE t.organization_id = $1 AND t.id = $2";
    let candidates_sql = format!(
        "SELECT id, name, rules, is_default FROM cancellation_policies
         WHERE organization_id = $1 AND (is_default OR id = ({TOUR_POLICY}))
         ORDER BY id{}",
        lock.sql()
    );
    let params: [&(dyn ToSql + Sync); 2] = [&org, &tour_id];
    let (tour, candidates) = tokio::join!(c.row_opt(TOUR_POLICY, &params), c.rows(&candidates_sql, &params));
    let (tour, candidates) = super::all2(tour, candidates)?;
    let own: Option<String> = tour.map(|r| r.try_get(0)).transpose()?.flatten();
    let candidates = candidates
        .iter()
        .map(|r| {
            Ok(StoredPolicy {
                policy: CancellationPolicy {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    rules: serde_json::from_value(r.try_get(2)?)?,
                },
                is_default: r.try_get(3)?,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok(policy_for_tour(own.as_deref(), candidates))
}

/// Queues a refund for `payments::refunds` to send to Stripe after commit. A booking is
/// cancelled once, so its refund's id and idempotency key derive from the booking's id.
pub async fn queue_refund(w: &WriteTx<'_>, org: &str, r: &RefundRequest) -> Result<String, DbError> {
    queue_refund_as(w, org, &format!("refund-{}", r.booking_id), r).await
}

/// Queues a refund under a given id (also its idempotency key), for refunds other than the one
/// a cancellation decides (money that arrived after a booking was cancelled).
pub async fn queue_refund_as(w: &WriteTx<'_>, org: &str, id: &str, r: &RefundRequest) -> Result<String, DbError> {
    let id = id.to_string();
    w.exec(
        "INSERT INTO refunds (id, organization_id, booking_id, idempotency_key, amount_minor, currency, reason,
         requested_by, requested_at)
         VALUES ($1, $2, $3, $1, $4, $5, $6, $7, $8)",
        &[
            &id,
            &org,
            &r.booking_id,
            &r.amount.amount,
            &r.amount.currency.as_str(),
            &r.reason,
            &r.requested_by,
            &r.requested_at,
        ],
    )
    .await?;
    Ok(id)
}

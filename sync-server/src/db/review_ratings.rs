//! Reviews' ratings on the change log (issue 16 item 2): when moderation decides a review, its
//! rating and what it rates (`tourdesk_domain::reviews::ReviewRating`: no title, text or name)
//! are logged to the buckets the domain gives it (`RowScope::Office`: office desks), so a desk's
//! guide performance report averages the published ones offline. PG V61 logged the reviews
//! already approved before this.
//!
//! An erased customer's reviews are withdrawn ([`erase_reviews`]): their words and the name they
//! are shown under are personal data, and a rating that names the customer's booking can be
//! traced back to them, so the reviews go and each rating is deleted from desks through the
//! change log.

use tourdesk_domain::protocol::{EntityKind, Op};
use tourdesk_domain::replication::RowScope;
use tourdesk_domain::reviews::{ReviewRating, ReviewStatus};

use super::{DbError, LogRow, Prepared, WriteTx};

/// The ratings of the reviews `ids`, as they now are, with the reviewed booking's departure.
const RATINGS_BY_ID: &str = "SELECT r.id, r.organization_id, r.tour_id, r.booking_id, b.departure_id, r.rating,
            r.status, r.moderated_at
     FROM reviews r
     LEFT JOIN bookings b ON b.organization_id = r.organization_id AND b.id = r.booking_id
     WHERE r.organization_id = $1 AND r.id = ANY($2)
     ORDER BY r.id";

pub async fn review_ratings_by_id(
    c: &impl deadpool_postgres::GenericClient,
    org: &str,
    ids: &[String],
) -> Result<Vec<ReviewRating>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    c.rows(RATINGS_BY_ID, &[&org, &ids])
        .await?
        .iter()
        .map(|r| {
            let status: String = super::column(r, 6)?;
            let status = ReviewStatus::parse(&status).ok_or_else(|| DbError::bad_value("review status", &status))?;
            let rating: i32 = super::column(r, 5)?;
            Ok(ReviewRating {
                id: super::column(r, 0)?,
                organization_id: super::column(r, 1)?,
                tour_id: super::column(r, 2)?,
                booking_id: super::column(r, 3)?,
                departure_id: super::column(r, 4)?,
                rating: u8::try_from(rating).map_err(|_| DbError::bad_value("review rating", &rating.to_string()))?,
                published: ReviewRating::counts(status),
                moderated_at: super::column(r, 7)?,
            })
        })
        .collect()
}

/// Queues the ratings of the reviews `ids`, as they now are, for `w`'s change log.
pub async fn log_review_ratings(w: &WriteTx<'_>, ids: &[String]) -> Result<(), DbError> {
    let buckets = RowScope::of_reference(EntityKind::ReviewRating)
        .ok_or_else(|| DbError::Corrupt("review ratings have no replication scope".into()))?
        .buckets(w.org());
    let mut rows = Vec::new();
    for r in review_ratings_by_id(w.tx(), w.org(), ids).await? {
        let value = serde_json::to_value(&r)?;
        rows.extend(buckets.iter().map(|b| LogRow::put(b.clone(), EntityKind::ReviewRating, &r.id, value.clone())));
    }
    w.log(rows);
    Ok(())
}

/// Withdraws the reviews of a customer being erased (`erase_customer.v1`): every review they
/// wrote or that rates one of their bookings (a merge moves bookings, not the reviews' author)
/// is deleted, with the review links not yet used, so none is written later. Each withdrawn
/// review's rating is logged as deleted to the buckets ratings go to, so office desks drop it
/// (deleting one a desk never held is harmless). A rating kept as an anonymous figure would still
/// name the booking and its departure, which lead back to the person; so nothing stays.
/// Answers the ids withdrawn, for the audit log.
pub async fn erase_reviews(w: &WriteTx<'_>, org: &str, customer_id: &str) -> Result<Vec<String>, DbError> {
    w.exec(
        "DELETE FROM review_links WHERE organization_id = $1 AND customer_id = $2 AND used_at IS NULL",
        &[&org, &customer_id],
    )
    .await?;
    let ids = w
        .rows(
            "DELETE FROM reviews r WHERE r.organization_id = $1
               AND (r.customer_id = $2
                    OR r.booking_id IN (SELECT b.id FROM bookings b WHERE b.organization_id = $1 AND b.customer_id = $2))
             RETURNING r.id",
            &[&org, &customer_id],
        )
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<Vec<String>, _>>()?;
    let buckets = RowScope::of_reference(EntityKind::ReviewRating)
        .ok_or_else(|| DbError::Corrupt("review ratings have no replication scope".into()))?
        .buckets(org);
    for id in &ids {
        w.log_change(&buckets, EntityKind::ReviewRating, id, Op::Delete, None);
    }
    Ok(ids)
}

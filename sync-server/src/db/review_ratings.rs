//! Reviews' ratings on the change log (issue 16 item 2): when moderation decides a review, its
//! rating and what it rates (`tourdesk_domain::reviews::ReviewRating`: no title, text or name)
//! are logged to the buckets the domain gives it (`RowScope::Office`: office desks), so a desk's
//! guide performance report averages the published ones offline. PG V61 logged the reviews
//! already approved before this.

use tourdesk_domain::protocol::EntityKind;
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

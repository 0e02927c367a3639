//! Customer reviews on the server (issue 15 item 5): the single-use links of review requests, the
//! form's use cases, the approved reviews a tour page shows, and staff moderation. The rules are
//! `tourdesk_domain::reviews`; the request job is `jobs::review_requests`.
//!
//! A link's token is minted by the mail outbox when it sends the request (the queued message
//! holds [`crate::mail::REVIEW_LINK`]); only its SHA-256 is stored (`review_links`, V52). The
//! review and the spending of the link commit together, so a link writes one review at most,
//! and the unique `(organization_id, booking_id)` of `reviews` keeps a booking to one whatever
//! the number of links it was sent.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use tourdesk_domain::reviews::{
    self, Decision, FieldProblem, Ineligible, ModerationRefusal, RatingSummary, ReviewForm, ReviewItem, ReviewStatus,
};
use tourdesk_domain::roles::Permission;
use tourdesk_domain::status::BookingStatus;

use crate::auth::Staff;
use crate::db::WriteTx;
use crate::db::{self, DbError, Prepared};
use crate::{AppError, AppState};

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.trim().as_bytes()).to_vec()
}

/// A new link to review `booking_id`, recorded (as its SHA-256 only) in the caller's transaction
/// of `org`; returns the token, the one copy in clear.
pub(crate) async fn mint_link(
    c: &impl GenericClient,
    org: &str,
    customer_id: &str,
    booking_id: &str,
) -> Result<String, DbError> {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let days = i32::try_from(reviews::LINK_DAYS).unwrap_or(30);
    c.exec(
        "INSERT INTO review_links (token_hash, organization_id, customer_id, booking_id, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(days => $5))",
        &[&digest(&token), &org, &customer_id, &booking_id, &days],
    )
    .await?;
    Ok(token)
}

/// The public site's review form for a link.
pub(crate) fn review_url(base: &str, token: &str) -> String {
    format!("{}/review?token={token}", base.trim_end_matches('/'))
}

fn link_refused() -> AppError {
    AppError::Unauthorized("this link has expired or was already used".into())
}

/// The organization and booking of a good link (not used, not expired), its tenant set; with
/// `consume` the link is spent in the caller's transaction.
async fn redeem(c: &impl GenericClient, token: &str, consume: bool) -> Result<(String, String), AppError> {
    let d = digest(token);
    let org = db::enter_org_of_review_link(c, &d).await?.ok_or_else(link_refused)?;
    let sql = if consume {
        "UPDATE review_links SET used_at = now()
         WHERE organization_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > now()
         RETURNING booking_id"
    } else {
        "SELECT booking_id FROM review_links
         WHERE organization_id = $1 AND token_hash = $2 AND used_at IS NULL AND expires_at > now()"
    };
    let row = c.row_opt(sql, &[&org, &d]).await?.ok_or_else(link_refused)?;
    Ok((org, db::column(&row, 0)?))
}

/// What the review form shows and how it words itself.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub tour_id: String,
    pub tour_name: String,
    pub date: NaiveDate,
    pub customer_id: String,
    /// What the name field starts with (first name and initial).
    pub default_name: String,
    /// The customer's preferred language (ISO 639-1).
    pub language: String,
}

/// The booking behind a link, checked against the domain's rule at the database's `now`.
async fn invitation_in(c: &impl GenericClient, org: &str, booking_id: &str) -> Result<Invitation, AppError> {
    let r = c
        .row_opt(
            "SELECT b.status, b.checked_in, s.ends_at, s.local_date, t.id, t.name, c.id, c.first_name, c.last_name,
                    c.preferred_language, now(),
                    EXISTS (SELECT FROM reviews r WHERE r.organization_id = b.organization_id AND r.booking_id = b.id)
             FROM bookings b
             JOIN schedules s ON s.organization_id = b.organization_id AND s.id = b.departure_id
             JOIN tours t ON t.organization_id = b.organization_id AND t.id = b.tour_id
             JOIN customers c ON c.organization_id = b.organization_id AND c.id = b.customer_id
             WHERE b.organization_id = $1 AND b.id = $2",
            &[&org, &booking_id],
        )
        .await?
        .ok_or_else(|| AppError::NotFound("booking".into()))?;
    let status: String = db::column(&r, 0)?;
    let status = BookingStatus::parse(&status).ok_or_else(|| DbError::bad_value("booking status", &status))?;
    let checked_in = u32::try_from(db::column::<i32>(&r, 1)?).unwrap_or(0);
    let (ends_at, now): (DateTime<Utc>, DateTime<Utc>) = (db::column(&r, 2)?, db::column(&r, 10)?);
    reviews::may_review(status, checked_in, ends_at, now, db::column(&r, 11)?).map_err(ineligible)?;
    let (first, last): (String, String) = (db::column(&r, 7)?, db::column(&r, 8)?);
    Ok(Invitation {
        date: db::column(&r, 3)?,
        tour_id: db::column(&r, 4)?,
        tour_name: db::column(&r, 5)?,
        customer_id: db::column(&r, 6)?,
        default_name: reviews::default_display_name(&first, &last),
        language: db::column(&r, 9)?,
    })
}

fn ineligible(i: Ineligible) -> AppError {
    let (code, message) = match i {
        Ineligible::AlreadyReviewed => ("ALREADY_REVIEWED", "this booking has its review already"),
        Ineligible::NotEnded => ("NOT_REVIEWABLE", "the tour has not ended yet"),
        Ineligible::NotAttended => ("NOT_REVIEWABLE", "only guests who took part can review the tour"),
    };
    AppError::BadRequest { status: axum::http::StatusCode::CONFLICT, code, message: message.into(), field: None }
}

/// The form a good link opens; refused when the link is spent or expired, or the booking may
/// not be reviewed (already reviewed, not attended).
pub async fn invitation(state: &AppState, token: &str) -> Result<Invitation, AppError> {
    let mut conn = state.pool.get().await?;
    let tx = db::read_only(&mut conn).await?;
    let (org, booking_id) = redeem(&tx, token, false).await?;
    let inv = invitation_in(&tx, &org, &booking_id).await?;
    tx.commit().await?;
    Ok(inv)
}

/// Why a submitted review was not stored.
#[derive(Debug)]
pub enum SubmitError {
    /// Fields to correct; the link is still good.
    Fields(Vec<FieldProblem>),
    Refused(AppError),
}

impl<E: Into<AppError>> From<E> for SubmitError {
    fn from(e: E) -> Self {
        SubmitError::Refused(e.into())
    }
}

/// Stores the review a link's customer wrote, pending moderation, and spends the link in the
/// same transaction. A form with problems stores nothing and leaves the link good.
pub async fn submit(state: &AppState, token: &str, form: &ReviewForm<'_>, language: &str) -> Result<(), SubmitError> {
    let mut conn = state.pool.get().await?;
    let tx = conn.transaction().await?;
    let (org, booking_id) = redeem(&tx, token, true).await?;
    let inv = invitation_in(&tx, &org, &booking_id).await?;
    let content = reviews::validate(form).map_err(SubmitError::Fields)?;
    let id = uuid::Uuid::new_v4().to_string();
    let title = Some(content.title).filter(|t| !t.is_empty());
    let n = tx
        .exec(
            "INSERT INTO reviews (id, organization_id, tour_id, booking_id, customer_id, rating, title, content,
                                  status, is_verified_purchase, display_name, language)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', true, $9, $10)
             ON CONFLICT (organization_id, booking_id) DO NOTHING",
            &[
                &id,
                &org,
                &inv.tour_id,
                &booking_id,
                &inv.customer_id,
                &i32::from(content.rating),
                &title,
                &content.body,
                &content.display_name,
                &language,
            ],
        )
        .await?;
    if n == 0 {
        return Err(SubmitError::Refused(ineligible(Ineligible::AlreadyReviewed)));
    }
    tx.commit().await?;
    Ok(())
}

/// One approved review as the tour page shows it.
#[derive(Debug, Clone)]
pub struct PublishedReview {
    pub display_name: String,
    pub rating: u8,
    pub title: String,
    pub body: String,
    pub date: NaiveDate,
}

/// How many approved reviews a tour page lists (newest first); the summary counts them all.
pub const PUBLISHED_SHOWN: i64 = 10;

/// The approved reviews of a tour as its page shows them: their summary and the newest
/// [`PUBLISHED_SHOWN`].
#[derive(Debug, Clone, Default)]
pub struct TourReviews {
    pub summary: RatingSummary,
    pub shown: Vec<PublishedReview>,
}

/// Reads a tour's approved reviews in the organization's read transaction. Approving,
/// rejecting or erasing a review moves the organization's change counter (its audit row and
/// its change-log row), so the website cache may keep the answer at the counter it read.
pub async fn published(tx: &impl Prepared, org: &str, tour_id: &str) -> Result<TourReviews, AppError> {
    // The window sums run before LIMIT: one query answers the summary and the page's reviews.
    let rows = tx
        .rows(
            "SELECT display_name, rating, coalesce(title, ''), coalesce(content, ''), created_at,
                    count(*) OVER (), sum(rating) OVER ()
             FROM reviews WHERE organization_id = $1 AND tour_id = $2 AND status = 'approved'
             ORDER BY created_at DESC, id LIMIT $3",
            &[&org, &tour_id, &PUBLISHED_SHOWN],
        )
        .await?;
    let Some(first) = rows.first() else { return Ok(TourReviews::default()) };
    let (count, sum): (i64, i64) = (db::column(first, 5)?, db::column(first, 6)?);
    let summary = RatingSummary::from_sum(u64::try_from(count).unwrap_or(0), u64::try_from(sum).unwrap_or(0));
    let shown = rows
        .iter()
        .map(|r| {
            Ok(PublishedReview {
                display_name: db::column(r, 0)?,
                rating: rating_of(db::column(r, 1)?)?,
                title: db::column(r, 2)?,
                body: db::column(r, 3)?,
                date: db::column::<DateTime<Utc>>(r, 4)?.date_naive(),
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok(TourReviews { summary, shown })
}

fn rating_of(v: i32) -> Result<u8, DbError> {
    u8::try_from(v).map_err(|_| DbError::bad_value("review rating", &v.to_string()))
}

const ITEM_SQL: &str = "SELECT r.id, r.tour_id, t.name, b.reference_number, r.display_name, r.rating,
            coalesce(r.title, ''), coalesce(r.content, ''), r.status, r.language, r.created_at, r.moderated_at
     FROM reviews r
     JOIN tours t ON t.organization_id = r.organization_id AND t.id = r.tour_id
     LEFT JOIN bookings b ON b.organization_id = r.organization_id AND b.id = r.booking_id";

fn item_of(r: &tokio_postgres::Row) -> Result<ReviewItem, DbError> {
    let status: String = db::column(r, 8)?;
    Ok(ReviewItem {
        id: db::column(r, 0)?,
        tour_id: db::column(r, 1)?,
        tour_name: db::column(r, 2)?,
        booking_reference: db::column(r, 3)?,
        display_name: db::column(r, 4)?,
        rating: rating_of(db::column(r, 5)?)?,
        title: db::column(r, 6)?,
        body: db::column(r, 7)?,
        status: ReviewStatus::parse(&status).ok_or_else(|| DbError::bad_value("review status", &status))?,
        language: db::column(r, 9)?,
        created_at: db::column(r, 10)?,
        moderated_at: db::column(r, 11)?,
    })
}

/// How many reviews the moderation list answers at most (oldest waiting first).
pub const LIST_LIMIT: i64 = 200;

/// The organization's reviews with `status` (every status when `None`), waiting ones first and
/// oldest first, so the moderation list starts with what has waited longest.
pub async fn list(state: &AppState, staff: &Staff, status: Option<ReviewStatus>) -> Result<Vec<ReviewItem>, AppError> {
    if !staff.role.can(Permission::ToursRead) {
        return Err(AppError::Forbidden("reading reviews needs access to the tours".into()));
    }
    let org = &staff.organization_id;
    let mut conn = state.pool.get().await?;
    let tx = db::read_in(&mut conn, org).await?;
    let status = status.map(|s| s.as_str());
    let rows = tx
        .rows(
            &format!(
                "{ITEM_SQL} WHERE r.organization_id = $1 AND ($2::text IS NULL OR r.status = $2)
                 ORDER BY (r.status = 'pending') DESC, r.created_at, r.id LIMIT $3"
            ),
            &[org, &status, &LIST_LIMIT],
        )
        .await?;
    tx.commit().await?;
    Ok(rows.iter().map(item_of).collect::<Result<Vec<_>, _>>()?)
}

/// Approves or rejects a review as `staff`, audited, decided by the domain. The commit moves the
/// organization's change counter (the audit row), so the tour page's caches see it at once.
pub async fn moderate(state: &AppState, staff: &Staff, id: &str, decision: Decision) -> Result<ReviewItem, AppError> {
    let org = &staff.organization_id;
    let mut conn = state.pool.get().await?;
    let w = WriteTx::new(conn.transaction().await?, org).await?;
    let row = w
        .row_opt("SELECT status FROM reviews WHERE organization_id = $1 AND id = $2 FOR UPDATE", &[org, &id])
        .await?
        .ok_or_else(|| AppError::NotFound("review".into()))?;
    let current: String = db::column(&row, 0)?;
    let current = ReviewStatus::parse(&current).ok_or_else(|| DbError::bad_value("review status", &current))?;
    let next = reviews::moderate(staff.role, current, decision).map_err(|r| match r {
        ModerationRefusal::NotAuthorized => {
            AppError::Forbidden("approving or rejecting reviews needs the right to edit tours".into())
        }
    })?;
    if let Some(next) = next {
        w.exec(
            "UPDATE reviews SET status = $3, moderated_by = $4, moderated_at = now(), updated_at = now()
             WHERE organization_id = $1 AND id = $2",
            &[org, &id, &next.as_str(), &staff.user_id],
        )
        .await?;
        let action = match decision {
            Decision::Approve => "review.approve",
            Decision::Reject => "review.reject",
        };
        db::audit_change(
            &w,
            &staff.user_id,
            action,
            "review",
            id,
            Some(&json!({"status": current.as_str()})),
            &json!({"status": next.as_str()}),
        );
        // Office desks average published ratings per guide (the guide performance report).
        db::log_review_ratings(&w, &[id.to_string()]).await?;
    }
    let item = item_of(&w.row(&format!("{ITEM_SQL} WHERE r.organization_id = $1 AND r.id = $2"), &[org, &id]).await?)?;
    w.commit().await?;
    Ok(item)
}

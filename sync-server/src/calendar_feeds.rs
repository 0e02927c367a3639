//! Calendar feeds (issue 14 item 6): per guide (their assignments) and per tour (its
//! departures), served as RFC 5545 (`tourdesk_domain::ical`) at `/ical/{token}.ics` to calendar
//! apps that cannot sign in. The token is 256 random bits; only its SHA-256 digest is stored
//! (V23), and rotating a feed replaces it, so the old URL stops working at once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tourdesk_domain::ical::{self, FeedEvent};
use tourdesk_domain::roles::{Permission, Role};
use tourdesk_domain::validate;

use crate::auth::Staff;
use crate::db::{self, Prepared};
use crate::{AppError, AppState};

/// `09:00` of a `09:00:00` time.
fn hhmm(t: &str) -> &str {
    t.get(..5).unwrap_or(t)
}

/// How far back a feed reaches (calendar apps keep what they fetched before).
const PAST_DAYS: i64 = 30;

/// `POST /api/v1/calendar-feeds`: make a feed's URL, or a new one (the old stops working).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedRequest {
    /// `guide` or `tour`.
    pub kind: String,
    pub subject_id: String,
}

/// The feed's URL, shown once: the server keeps only a digest of its token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeedCreated {
    pub kind: String,
    pub subject_id: String,
    pub url: String,
    pub token: String,
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Creates the subject's feed or rotates its token.
pub async fn issue(state: &AppState, staff: &Staff, req: FeedRequest) -> Result<FeedCreated, AppError> {
    if !matches!(req.kind.as_str(), "guide" | "tour") {
        return Err(AppError::invalid("kind", "a feed is of a guide or of a tour"));
    }
    let subject_id = validate::row_ref("subject_id", &req.subject_id)?;
    let org = &staff.organization_id;
    let mut c = state.pool.get().await?;
    let tx = db::write_in(&mut c, org).await?;
    let table = if req.kind == "guide" { "guides" } else { "tours" };
    let owner_col = if req.kind == "guide" { "user_id" } else { "NULL::text" };
    let row = tx
        .row_opt(
            &format!("SELECT {owner_col} FROM {table} WHERE organization_id = $1 AND id = $2"),
            &[org, &subject_id],
        )
        .await?
        .ok_or_else(|| AppError::invalid("subject_id", format!("no {} {subject_id}", req.kind)))?;
    let owner: Option<String> = row.try_get(0).map_err(anyhow::Error::from)?;
    // The office manages every feed; a guide only their own.
    let own = staff.role == Role::Guide && req.kind == "guide" && owner.as_deref() == Some(staff.user_id.as_str());
    if !own && !staff.role.can(Permission::SchedulesWrite) {
        return Err(AppError::Forbidden("your role may not make this calendar feed (a guide: their own only)".into()));
    }
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    tx.exec(
        "INSERT INTO calendar_feeds (id, organization_id, kind, subject_id, token_digest, created_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (organization_id, kind, subject_id)
         DO UPDATE SET token_digest = excluded.token_digest, rotated_at = now()",
        &[&uuid::Uuid::new_v4().to_string(), org, &req.kind, &subject_id, &digest(&token), &staff.user_id],
    )
    .await?;
    tx.commit().await?;
    let base = state.config.mail.public_base_url.trim_end_matches('/');
    Ok(FeedCreated { kind: req.kind, subject_id, url: format!("{base}/ical/{token}.ics"), token })
}

/// The feed behind `token` (the path's `{token}.ics`); an unknown or rotated token is a 404.
pub async fn feed(state: &AppState, token_ics: &str) -> Result<String, AppError> {
    let not_found = || AppError::NotFound("calendar feed".into());
    let token = token_ics.strip_suffix(".ics").unwrap_or(token_ics);
    if token.len() != 43 || !token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(not_found());
    }
    let d = digest(token);
    let mut c = state.pool.get().await?;
    let tx = db::read_only(&mut c).await?;
    let org: Option<String> =
        tx.row_opt("SELECT tourdesk_calendar_feed_org($1)", &[&d]).await?.and_then(|r| r.try_get(0).ok()).flatten();
    let org = org.ok_or_else(not_found)?;
    db::set_tenant(&tx, &org).await?;
    let f = tx
        .row_opt(
            "SELECT kind, subject_id FROM calendar_feeds WHERE organization_id = $1 AND token_digest = $2",
            &[&org, &d],
        )
        .await?
        .ok_or_else(not_found)?;
    let (kind, subject): (String, String) =
        (f.try_get(0).map_err(anyhow::Error::from)?, f.try_get(1).map_err(anyhow::Error::from)?);
    let since = Utc::now() - Duration::days(PAST_DAYS);
    let filter = if kind == "guide" {
        "JOIN schedule_guide_assignments a ON a.organization_id = s.organization_id AND a.departure_id = s.id
           AND a.guide_id = $2 AND a.status <> 'declined'"
    } else {
        "AND s.tour_id = $2"
    };
    let (join, and) = if kind == "guide" { (filter, "") } else { ("", filter) };
    let rows = tx
        .rows(
            &format!(
                "SELECT s.id, s.starts_at, s.ends_at, s.status, s.timezone, s.local_date::text, s.local_time::text,
                        s.capacity, s.booked_count, t.name, t.meeting_point
                 FROM schedules s JOIN tours t ON t.organization_id = s.organization_id AND t.id = s.tour_id {join}
                 WHERE s.organization_id = $1 AND s.ends_at >= $3 {and}
                 ORDER BY s.starts_at, s.id LIMIT 5000"
            ),
            &[&org, &subject, &since],
        )
        .await?;
    let name_row = if kind == "guide" {
        tx.row_opt(
            "SELECT first_name || ' ' || last_name FROM guides WHERE organization_id = $1 AND id = $2",
            &[&org, &subject],
        )
        .await?
    } else {
        tx.row_opt("SELECT name FROM tours WHERE organization_id = $1 AND id = $2", &[&org, &subject]).await?
    };
    let name: String = name_row.and_then(|r| r.try_get(0).ok()).unwrap_or_default();
    tx.commit().await?;
    let mut zone = String::from("UTC");
    let mut events = Vec::with_capacity(rows.len());
    for r in &rows {
        let get = |i: usize| -> Result<String, AppError> { r.try_get(i).map_err(|e| anyhow::Error::from(e).into()) };
        let (id, status, tz) = (get(0)?, get(3)?, get(4)?);
        let starts_at = r.try_get(1).map_err(anyhow::Error::from)?;
        let ends_at = r.try_get(2).map_err(anyhow::Error::from)?;
        let (capacity, booked): (i32, i32) =
            (r.try_get(7).map_err(anyhow::Error::from)?, r.try_get(8).map_err(anyhow::Error::from)?);
        let meeting: Option<String> = r.try_get(10).map_err(anyhow::Error::from)?;
        zone.clone_from(&tz);
        events.push(FeedEvent {
            uid: format!("{id}@{org}.tourdesk"),
            starts_at,
            ends_at,
            summary: get(9)?,
            location: meeting.unwrap_or_default(),
            description: format!(
                "{} {} ({tz}); {booked} of {capacity} seats booked; {status}",
                get(5)?,
                hhmm(&get(6)?)
            ),
            cancelled: status == "cancelled",
            stamp: starts_at.min(Utc::now()),
        });
    }
    Ok(ical::render(&name, &zone, &events))
}

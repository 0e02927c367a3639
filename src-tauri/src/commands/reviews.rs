//! Review moderation (issue 15 item 5): online calls to the server as the signed-in member.
//! Reviews are written on the public site and live on the server, not in the desk's replica, so
//! the moderation list needs a connection and says so offline ("needs a connection"), as the
//! settings do.

use tauri::State;
use tourdesk_domain::reviews::{Decision, ModerationRequest, ReviewItem, ReviewStatus};
use tourdesk_local_store::sync::Method;

use super::{account_call, id_segment, json};
use crate::Desk;
use crate::error::{DeskError, DeskResult};

/// The organization's reviews with `status` (`pending`, `approved`, `rejected`; all when absent),
/// waiting ones first.
#[tauri::command]
pub async fn list_reviews(desk: State<'_, Desk>, status: Option<String>) -> DeskResult<Vec<ReviewItem>> {
    let path = match status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => "/api/v1/reviews".to_string(),
        Some(s) => {
            let s = ReviewStatus::parse(s).ok_or(DeskError::NotFound("no such review status"))?;
            format!("/api/v1/reviews?status={}", s.as_str())
        }
    };
    account_call(&desk, Method::GET, &path, None).await
}

/// Approves or rejects one review; the server decides and audits.
#[tauri::command]
pub async fn moderate_review(desk: State<'_, Desk>, id: String, decision: Decision) -> DeskResult<ReviewItem> {
    let path = format!("/api/v1/reviews/{}/moderation", id_segment(&id)?);
    account_call(&desk, Method::POST, &path, Some(&json(&ModerationRequest { decision })?)).await
}

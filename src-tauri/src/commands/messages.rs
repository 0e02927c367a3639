//! The organization's message templates (issue 13): online calls to the server as the signed-in
//! member, like the other settings (templates live on the server, not in the replica). The
//! preview is not a call: the UI renders it with the domain, live and offline.

use tauri::State;
use tourdesk_domain::messages::{MessageKind, TemplateEntry};
use tourdesk_local_store::sync::Method;

use super::{account_call, json};
use crate::Desk;
use crate::error::{DeskError, DeskResult};

/// The path of one template: its kind and a language the server keeps templates in.
fn template_path(kind: MessageKind, language: &str) -> DeskResult<String> {
    if !tourdesk_domain::messages::is_language(language) {
        return Err(DeskError::NotFound("no templates in that language"));
    }
    Ok(format!("/api/v1/message-templates/{}/{language}", kind.as_str()))
}

#[tauri::command]
pub async fn list_message_templates(desk: State<'_, Desk>) -> DeskResult<Vec<TemplateEntry>> {
    account_call(&desk, Method::GET, "/api/v1/message-templates", None).await
}

#[tauri::command]
pub async fn save_message_template(
    desk: State<'_, Desk>,
    kind: MessageKind,
    language: String,
    subject: String,
    body: String,
) -> DeskResult<TemplateEntry> {
    let path = template_path(kind, &language)?;
    let body = json(&serde_json::json!({ "subject": subject, "body": body }))?;
    account_call(&desk, Method::PUT, &path, Some(&body)).await
}

#[tauri::command]
pub async fn reset_message_template(
    desk: State<'_, Desk>,
    kind: MessageKind,
    language: String,
) -> DeskResult<TemplateEntry> {
    let path = template_path(kind, &language)?;
    account_call(&desk, Method::DELETE, &path, None).await
}

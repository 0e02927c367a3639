//! Staff routes for the organization's message templates (V53): list every kind × language, read
//! one, save one, go back to the built-in one, and preview a template with sample data. Owners
//! and admins (the settings permission); a template that does not render is a 422 at its field.

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use tourdesk_domain::messages::{self, MessageKind, PreviewRequest, Rendered, Template, TemplateEntry};
use tourdesk_domain::roles::Permission;

use super::{ApiJson, ApiPath};
use crate::auth::Staff;
use crate::db;
use crate::{AppError, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/message-templates", get(list))
        .route("/api/v1/message-templates/preview", post(preview))
        .route("/api/v1/message-templates/{kind}/{language}", get(one).put(save).delete(reset))
}

/// A template as staff wrote it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    pub subject: String,
    pub body: String,
}

fn allowed(staff: &Staff) -> Result<(), AppError> {
    if staff.role.can(Permission::SettingsManage) {
        Ok(())
    } else {
        Err(AppError::Forbidden("only owners and admins edit the organization's messages".into()))
    }
}

/// The kind and language a path names, or the 404 an unknown one is.
fn key(kind: &str, language: &str) -> Result<(MessageKind, &'static str), AppError> {
    let kind = MessageKind::parse(kind).ok_or_else(|| AppError::NotFound("message kind".into()))?;
    let language = messages::LANGUAGES
        .into_iter()
        .find(|l| *l == language)
        .ok_or_else(|| AppError::NotFound("message language".into()))?;
    Ok((kind, language))
}

fn checked(subject: String, body: String) -> Result<Template, AppError> {
    let t = Template { subject, body };
    messages::validate(&t).map_err(|e| AppError::invalid(e.field, e.message))?;
    Ok(t)
}

async fn list(
    axum::extract::State(state): axum::extract::State<AppState>,
    staff: Staff,
) -> Result<Json<Vec<TemplateEntry>>, AppError> {
    allowed(&staff)?;
    let mut conn = state.pool.get().await?;
    let tx = db::read_in(&mut conn, &staff.organization_id).await?;
    let out = crate::messages::list(&tx, &staff.organization_id).await?;
    tx.commit().await?;
    Ok(Json(out))
}

async fn one(
    axum::extract::State(state): axum::extract::State<AppState>,
    staff: Staff,
    ApiPath((kind, language)): ApiPath<(String, String)>,
) -> Result<Json<TemplateEntry>, AppError> {
    allowed(&staff)?;
    let (kind, language) = key(&kind, &language)?;
    let mut conn = state.pool.get().await?;
    let tx = db::read_in(&mut conn, &staff.organization_id).await?;
    let out = crate::messages::template(&tx, &staff.organization_id, kind, language).await?;
    tx.commit().await?;
    Ok(Json(out))
}

async fn save(
    axum::extract::State(state): axum::extract::State<AppState>,
    staff: Staff,
    ApiPath((kind, language)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<TemplateBody>,
) -> Result<Json<TemplateEntry>, AppError> {
    allowed(&staff)?;
    let (kind, language) = key(&kind, &language)?;
    let t = checked(body.subject, body.body)?;
    let mut conn = state.pool.get().await?;
    let tx = db::write_in(&mut conn, &staff.organization_id).await?;
    crate::messages::save(&tx, &staff.organization_id, kind, language, &t, &staff.user_id).await?;
    tx.commit().await?;
    Ok(Json(TemplateEntry { kind, language: language.into(), subject: t.subject, body: t.body, customized: true }))
}

async fn reset(
    axum::extract::State(state): axum::extract::State<AppState>,
    staff: Staff,
    ApiPath((kind, language)): ApiPath<(String, String)>,
) -> Result<Json<TemplateEntry>, AppError> {
    allowed(&staff)?;
    let (kind, language) = key(&kind, &language)?;
    let mut conn = state.pool.get().await?;
    let tx = db::write_in(&mut conn, &staff.organization_id).await?;
    crate::messages::reset(&tx, &staff.organization_id, kind, language).await?;
    tx.commit().await?;
    let t = messages::default_template(kind, language);
    Ok(Json(TemplateEntry { kind, language: language.into(), subject: t.subject, body: t.body, customized: false }))
}

async fn preview(
    staff: Staff,
    ApiJson(req): ApiJson<PreviewRequest>,
) -> Result<(StatusCode, Json<Rendered>), AppError> {
    allowed(&staff)?;
    if !messages::is_language(&req.language) {
        return Err(AppError::invalid("language", format!("one of {}", messages::LANGUAGES.join(", "))));
    }
    let t = checked(req.subject, req.body)?;
    let r = messages::preview(&t, &req.language).map_err(|e| AppError::invalid(e.field, e.message))?;
    Ok((StatusCode::OK, Json(r)))
}

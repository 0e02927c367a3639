//! Desk updates: the manifest each desk asks for and the signed artifacts, served from the
//! directory `cargo xtask release` fills (`updates_dir`; format in `tourdesk_updates`).
//!
//! - `GET /updates/v1/{channel}/{os}/{arch}/{current_version}[?bundle=deb]`: 200 with
//!   `{version, notes, pub_date, url, signature}` (the dynamic format tauri-plugin-updater reads)
//!   when the channel has a newer version for that platform, else 204.
//! - `GET /updates/v1/files/{channel}/{version}/{file}`: the artifact.
//!
//! Nothing here is secret or per organization, so no sign-in is needed: the desk verifies every
//! artifact against the public key compiled into it, and the signature names the version, so a
//! tampered manifest or artifact is refused on the desk, not trusted here.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tourdesk_updates::Channel;

use crate::AppError;

#[derive(Clone)]
struct Updates {
    dir: Option<Arc<PathBuf>>,
    /// Used for artifact URLs when a request has no `Host` (HTTP/1.0).
    fallback_base: Arc<String>,
}

/// The update routes, served from `dir` (none: every desk is told there is no update).
pub fn router<S: Clone + Send + Sync + 'static>(dir: Option<PathBuf>, fallback_base: &str) -> Router<S> {
    let state = Updates { dir: dir.map(Arc::new), fallback_base: Arc::new(fallback_base.trim_end_matches('/').into()) };
    Router::new()
        .route("/updates/v1/files/{channel}/{version}/{file}", get(artifact))
        .route("/updates/v1/{channel}/{os}/{arch}/{current_version}", get(manifest))
        .with_state(state)
}

#[derive(Deserialize)]
struct ManifestQuery {
    bundle: Option<String>,
}

fn channel(s: &str) -> Result<Channel, AppError> {
    s.parse().map_err(|_| AppError::invalid("channel", "the channel is 'stable' or 'beta'"))
}

/// The origin the desk reached us at, so the artifact URL works from where it asked.
fn base_url(headers: &HeaderMap, fallback: &str) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| {
        !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    });
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| matches!(*p, "http" | "https"))
        .unwrap_or("http");
    match host {
        Some(h) => format!("{proto}://{h}"),
        None => fallback.to_string(),
    }
}

async fn manifest(
    State(u): State<Updates>,
    Path((channel_name, os, arch, current)): Path<(String, String, String, String)>,
    Query(q): Query<ManifestQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let channel = channel(&channel_name)?;
    tourdesk_updates::parse_version(&current)
        .map_err(|_| AppError::invalid("current_version", "the current version is a semantic version (1.4.0)"))?;
    tourdesk_updates::check_platform(&format!("{os}-{arch}"))
        .map_err(|_| AppError::invalid("os", "the platform is <os>/<arch>, such as linux/x86_64"))?;
    let Some(dir) = u.dir.clone() else { return Ok(StatusCode::NO_CONTENT.into_response()) };
    let files_base = format!("{}/updates/v1/files/{channel}", base_url(&headers, &u.fallback_base));
    let found = tokio::task::spawn_blocking(move || {
        tourdesk_updates::lookup(&dir, channel, &os, &arch, q.bundle.as_deref(), &current, &files_base)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(|e| {
        tracing::error!("update manifest of channel {channel}: {e}");
        AppError::fault(anyhow::Error::msg(format!("update manifest: {e}")))
    })?;
    Ok(match found {
        Some(update) => axum::Json(update).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

async fn artifact(
    State(u): State<Updates>,
    Path((channel_name, version, file)): Path<(String, String, String)>,
) -> Result<Response, AppError> {
    let channel = channel(&channel_name)?;
    let not_found = || AppError::NotFound("update file".into());
    let dir = u.dir.clone().ok_or_else(not_found)?;
    let path = tourdesk_updates::artifact_path(&dir, channel, &format!("{version}/{file}")).ok_or_else(not_found)?;
    let (len, chunks) = match stream_file(path).await {
        Ok(x) => x,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(e) => return Err(AppError::fault(e.into())),
    };
    let len = len.to_string();
    let body = Body::from_stream(futures_util::stream::unfold(chunks, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }));
    Ok(([(header::CONTENT_TYPE, "application/octet-stream"), (header::CONTENT_LENGTH, len.as_str())], body)
        .into_response())
}

/// The file's length and its bytes in 256 KiB chunks, read on a blocking thread (bundles are tens
/// of megabytes: never held in memory whole).
async fn stream_file(
    path: PathBuf,
) -> std::io::Result<(u64, tokio::sync::mpsc::Receiver<std::io::Result<axum::body::Bytes>>)> {
    use std::io::Read;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let (opened_tx, opened) = tokio::sync::oneshot::channel();
    tokio::task::spawn_blocking(move || {
        let mut f = match std::fs::File::open(&path).and_then(|f| Ok((f.metadata()?.len(), f))) {
            Ok((len, f)) => {
                let _ = opened_tx.send(Ok(len));
                f
            }
            Err(e) => {
                let _ = opened_tx.send(Err(e));
                return;
            }
        };
        loop {
            let mut buf = vec![0u8; 256 * 1024];
            match f.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(Ok(axum::body::Bytes::from(buf))).is_err() {
                        return; // the client went away
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    let len = opened.await.map_err(|_| std::io::Error::other("the file reader stopped"))??;
    Ok((len, rx))
}

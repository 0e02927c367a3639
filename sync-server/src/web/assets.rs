//! The site's static files, compiled into the server and served under names that carry a hash
//! of their content (`site.3f2a9c1b0d4e5f60.css`): a new version is a new URL, so browsers may
//! keep each one for a year without asking again.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
    /// `stem.HASH.ext`
    fingerprinted: String,
}

const FILES: [(&str, &str, &str); 2] = [
    ("site.css", "text/css; charset=utf-8", include_str!("../../static/site.css")),
    ("site.js", "text/javascript; charset=utf-8", include_str!("../../static/site.js")),
];

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(name, content_type, body)| {
            let digest = Sha256::digest(body.as_bytes());
            let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
            let fingerprinted = match name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{name}.{hash}"),
            };
            Asset { name, content_type, body, fingerprinted }
        })
        .collect()
});

/// The URL path of a file by its plain name (`site.css` → `/assets/site.<hash>.css`).
pub fn url(name: &str) -> String {
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .map_or_else(|| format!("/assets/{name}"), |a| format!("/assets/{}", a.fingerprinted))
}

pub async fn serve(Path(file): Path<String>) -> Response {
    let Some(a) = ASSETS.iter().find(|a| a.fingerprinted == file) else {
        // An old fingerprint or an unknown name: not cached, so a fixed deploy is seen at once.
        return (StatusCode::NOT_FOUND, [(header::CACHE_CONTROL, "no-store")], "not found").into_response();
    };
    let mut r = a.body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    r
}

//! What search engines read: `/robots.txt`, the sitemap index at `/sitemap.xml` (one sitemap per
//! organization, `/{org}/sitemap.xml`, each tour page with its language alternates and the date
//! it last changed). Every URL is absolute, from the configured public base URL.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::i18n::LANGS;
use crate::website::catalog;
use crate::{AppError, AppState};

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

fn xml(body: String) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}

fn failed(e: AppError) -> Response {
    let (status, _, _) = super::describe(e);
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], status.canonical_reason().unwrap_or("error"))
        .into_response()
}

pub async fn robots(State(s): State<AppState>) -> Response {
    let base = super::base_url(&s);
    let body = format!(
        "User-agent: *\nAllow: /\nDisallow: /manage\nDisallow: /review\nDisallow: /api/\nDisallow: /sync/\nDisallow: /*/checkout\n\
         Disallow: /*/bookings/\n\nSitemap: {base}/sitemap.xml\n"
    );
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}

pub async fn sitemap_index(State(s): State<AppState>) -> Response {
    let orgs = match catalog::public_organizations(&s).await {
        Ok(o) => o,
        Err(e) => return failed(e),
    };
    let base = super::base_url(&s);
    let mut body = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for org in orgs {
        body.push_str(&format!(
            "  <sitemap><loc>{}</loc></sitemap>\n",
            xml_escape(&format!("{base}/{org}/sitemap.xml"))
        ));
    }
    body.push_str("</sitemapindex>\n");
    xml(body)
}

pub async fn org_sitemap(State(s): State<AppState>, Path(org): Path<String>) -> Response {
    let tours = match catalog::sitemap(&s, &org).await {
        Ok(t) => t,
        Err(e) => return failed(e),
    };
    let base = super::base_url(&s);
    let url = |path: &str, lang: &str| {
        if lang == "en" { format!("{base}{path}") } else { format!("{base}{path}?lang={lang}") }
    };
    let mut body = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    let newest = tours.iter().map(|(_, at)| *at).max();
    let mut pages: Vec<(String, Option<chrono::DateTime<chrono::Utc>>)> = vec![(format!("/{org}"), newest)];
    pages.extend(tours.into_iter().map(|(slug, at)| (format!("/{org}/tours/{slug}"), Some(at))));
    for (path, lastmod) in pages {
        for lang in LANGS {
            body.push_str("  <url>\n");
            body.push_str(&format!("    <loc>{}</loc>\n", xml_escape(&url(&path, lang.code()))));
            if let Some(at) = lastmod {
                body.push_str(&format!("    <lastmod>{}</lastmod>\n", at.format("%Y-%m-%dT%H:%M:%SZ")));
            }
            for alt in LANGS {
                body.push_str(&format!(
                    "    <xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>\n",
                    alt.code(),
                    xml_escape(&url(&path, alt.code()))
                ));
            }
            body.push_str("  </url>\n");
        }
    }
    body.push_str("</urlset>\n");
    xml(body)
}

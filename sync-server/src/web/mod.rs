//! The public booking website: server-rendered HTML pages over the same use cases the public
//! JSON API calls (`crate::website`). A handler parses the request, calls one use-case function
//! and maps its error onto the page (beside the field it names); no rule lives here.
//!
//! Pages are per organization under `/{org}/…`; the language comes from `?lang=` and then
//! `Accept-Language` (English and German). `/manage?token=…` (the link mailed to customers)
//! exchanges the token for a short-lived cookie. `/sitemap.xml`, `/robots.txt` and fingerprinted
//! `/assets/…` complete the site.

pub mod assets;
pub mod i18n;
mod manage;
mod pages;
mod review;
mod seo;
mod waitlist;

use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::{AppError, AppState};
use i18n::{Lang, Tr};

/// The website's routes; the caller adds rate limiting.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/{org}", get(pages::listing))
        .route("/{org}/tours/{tour}", get(pages::tour))
        .route("/{org}/tours/{tour}/dates", get(pages::dates))
        .route("/{org}/checkout", get(pages::checkout).post(pages::checkout_post))
        .route("/{org}/bookings/{id}", get(pages::confirmation))
        .route("/{org}/manage", get(manage::lookup_form).post(manage::lookup_post))
        .route("/{org}/waitlist", get(waitlist::form).post(waitlist::join))
        .route("/{org}/waitlist/claim", get(waitlist::claim))
        .route("/{org}/sitemap.xml", get(seo::org_sitemap))
        .route("/manage", get(manage::manage))
        .route("/manage/cancel", axum::routing::post(manage::cancel))
        .route("/manage/move", axum::routing::post(manage::move_post))
        .route("/manage/pay", axum::routing::post(manage::pay_post))
        .route("/review", get(review::show).post(review::submit))
        .route("/sitemap.xml", get(seo::sitemap_index))
        .route("/robots.txt", get(seo::robots))
        .route("/assets/{file}", get(assets::serve))
        .layer(
            tower_http::compression::CompressionLayer::new()
                .gzip(true)
                .br(true)
                .compress_when(tower_http::compression::predicate::SizeAbove::new(256)),
        )
}

/// What every page's `<head>` and frame need.
pub struct Meta {
    pub lang: Lang,
    pub tr: &'static Tr,
    pub title: String,
    pub description: String,
    /// Absolute URL of this page in this language.
    pub canonical: String,
    /// `(hreflang, absolute URL)` for each language, then `x-default`.
    pub alternates: Vec<(&'static str, String)>,
    pub og_type: &'static str,
    /// Schema.org JSON-LD, already safe inside `<script>`.
    pub json_ld: Option<String>,
    pub css: String,
    pub js: String,
    /// The organization whose site this is (nav links), if any.
    pub org: Option<String>,
    /// That organization's display name (the header's brand); the slug when unset.
    pub org_name: Option<String>,
    /// `(code, label, relative URL, current)` for the language switcher.
    pub lang_links: Vec<(&'static str, &'static str, String, bool)>,
    pub noindex: bool,
    /// The campaign the visitor landed with, carried by this page's links and forms ([`Utm`]).
    pub utm: Utm,
}

/// The `utm_*` parameters a visitor landed with (`tourdesk_domain::reports::funnel::UTM_PARAMS`),
/// each checked by `funnel::carried_utm` (a value that is no campaign name is dropped). The site
/// sets no cookie, so the attribution travels in the site's own links and forms, page to page, to
/// the checkout, whose start the funnel credits to it. Canonical and alternate URLs leave it out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Utm(Vec<(&'static str, String)>);

impl Utm {
    /// The valid `utm_*` of a query string's or form's parameters.
    pub fn from_params(p: &std::collections::HashMap<String, String>) -> Utm {
        use tourdesk_domain::reports::funnel;
        Utm(funnel::UTM_PARAMS
            .iter()
            .filter_map(|k| p.get(*k).and_then(|v| funnel::carried_utm(v)).map(|v| (*k, v)))
            .collect())
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }

    /// `(name, value)` for a form's hidden inputs.
    pub fn pairs(&self) -> &[(&'static str, String)] {
        &self.0
    }

    /// `utm_source=…&utm_campaign=…`, encoded; empty without any.
    pub fn query(&self) -> String {
        self.0.iter().map(|(k, v)| format!("{k}={}", pages::enc(v))).collect::<Vec<_>>().join("&")
    }
}

/// The query a link to another page of the site carries: the language (none for English) and the
/// visitor's campaign. `?…` when `first`, else `&…`; empty when there is nothing to carry.
pub fn carried(lang: Lang, utm: &Utm, first: bool) -> String {
    let mut q: Vec<String> = Vec::new();
    if lang != Lang::En {
        q.push(format!("lang={}", lang.code()));
    }
    let u = utm.query();
    if !u.is_empty() {
        q.push(u);
    }
    if q.is_empty() { String::new() } else { format!("{}{}", if first { '?' } else { '&' }, q.join("&")) }
}

impl Meta {
    /// `path` is the page's path; `query` its own parameters (without `lang`), already encoded.
    pub fn new(state: &AppState, lang: Lang, path: &str, query: &str, title: String, description: String) -> Meta {
        let base = base_url(state);
        let url = |l: Option<Lang>| {
            let mut q: Vec<String> = Vec::new();
            if !query.is_empty() {
                q.push(query.to_string());
            }
            if let Some(l) = l.filter(|l| *l != Lang::En) {
                q.push(format!("lang={}", l.code()));
            }
            if q.is_empty() { path.to_string() } else { format!("{path}?{}", q.join("&")) }
        };
        let mut alternates: Vec<(&'static str, String)> =
            i18n::LANGS.iter().map(|l| (l.code(), format!("{base}{}", url(Some(*l))))).collect();
        alternates.push(("x-default", format!("{base}{}", url(None))));
        let lang_links = i18n::LANGS
            .iter()
            .map(|l| {
                let label = match l {
                    Lang::En => "English",
                    Lang::De => "Deutsch",
                };
                // The English link names its language too, or Accept-Language would choose again.
                let href = if *l == Lang::En {
                    let u = url(None);
                    if u.contains('?') { format!("{u}&lang=en") } else { format!("{u}?lang=en") }
                } else {
                    url(Some(*l))
                };
                (l.code(), label, href, *l == lang)
            })
            .collect();
        Meta {
            lang,
            tr: lang.tr(),
            title,
            description,
            canonical: format!("{base}{}", url(Some(lang))),
            alternates,
            og_type: "website",
            json_ld: None,
            css: assets::url("site.css"),
            js: assets::url("site.js"),
            org: None,
            org_name: None,
            lang_links,
            noindex: false,
            utm: Utm::default(),
        }
    }

    /// The page carries the visitor's campaign in its links and forms, the language switcher's
    /// too (never in its canonical and alternate URLs, which name the page, not the visit).
    pub fn carry(&mut self, utm: &Utm) {
        let u = utm.query();
        if !u.is_empty() {
            for (_, _, href, _) in &mut self.lang_links {
                href.push(if href.contains('?') { '&' } else { '?' });
                href.push_str(&u);
            }
        }
        self.utm = utm.clone();
    }

    /// `?lang=de&utm_…` for links to another page of the site ([`carried`]; empty for English
    /// without a campaign).
    pub fn qs(&self) -> String {
        carried(self.lang, &self.utm, true)
    }
}

/// A customer's private page (a link's session) sent with no Referer to wherever it links.
pub fn no_referrer(mut r: Response) -> Response {
    r.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    r
}

/// The value of the request's cookie `name`, when it has a plausible one (at most 100 bytes).
pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 100)
}

/// A `Set-Cookie` for a customer's link session: sent only to `path`, HttpOnly, SameSite=Lax,
/// Secure when the site is on HTTPS; `max_age` 0 removes it.
pub fn session_cookie(state: &AppState, name: &str, path: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if base_url(state).starts_with("https://") { "; Secure" } else { "" };
    let text = format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| {
        HeaderValue::from_str(&format!("{name}=; Max-Age=0")).unwrap_or(HeaderValue::from_static("x=; Max-Age=0"))
    })
}

/// The answer to a mailed link carrying a token: the token (or a session minted for it) goes into
/// `cookie` ([`session_cookie`]) and the browser is sent on to `to`, a clean URL, so the token
/// leaves the address bar, the history and any Referer at once. Stored by no cache, and sent with
/// no Referer itself.
pub fn exchange_link(cookie: HeaderValue, to: &str) -> Response {
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response();
    r.headers_mut().insert(header::SET_COOKIE, cookie);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    no_referrer(r)
}

/// The configured public base URL, without a trailing slash: what absolute links start with.
pub fn base_url(state: &AppState) -> String {
    state.config.mail.public_base_url.trim_end_matches('/').to_string()
}

/// How long a browser or proxy may keep a page.
#[derive(Clone, Copy)]
pub enum Caching {
    /// Catalogue pages: revalidated on every view, so a seat count is never older than the page.
    Revalidate,
    /// A customer's own pages (checkout, payment, confirmation, manage): never stored.
    Private,
}

/// A rendered page with its status and headers.
pub fn html(status: StatusCode, t: &impl Template, caching: Caching) -> Response {
    match t.render() {
        Ok(body) => {
            let mut r = (status, body).into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(match caching {
                    Caching::Revalidate => "no-cache",
                    Caching::Private => "no-store, private",
                }),
            );
            h.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
            h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
            h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
            r
        }
        Err(e) => AppError::Internal(anyhow::anyhow!("template: {e}")).into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub meta: Meta,
    pub heading: String,
    pub message: String,
}

/// An error as a page in the customer's language, with the status the API would answer.
pub fn error_page(state: &AppState, lang: Lang, org: Option<&str>, e: AppError) -> Response {
    let (status, code, message) = describe(e);
    let tr = lang.tr();
    let heading = if status == StatusCode::NOT_FOUND { tr.not_found_title } else { tr.error_title };
    let mut meta = Meta::new(state, lang, "/", "", heading.to_string(), heading.to_string());
    meta.org = org.map(str::to_string);
    meta.noindex = true;
    let page = ErrorPage { meta, heading: heading.to_string(), message: lang.error(code, &message) };
    let mut r = html(status, &page, Caching::Private);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut().insert(header::RETRY_AFTER, crate::error::RETRY_AFTER_SECONDS.into());
    }
    r
}

/// An error's status, code and message as the JSON API would give them (internals logged, not
/// shown).
pub fn describe(e: AppError) -> (StatusCode, &'static str, String) {
    match e {
        AppError::BadRequest { status, code, message, .. } => (status, code, message),
        AppError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED", m),
        AppError::Forbidden(m) => (StatusCode::FORBIDDEN, "FORBIDDEN", m),
        AppError::NotFound(what) => (StatusCode::NOT_FOUND, "NOT_FOUND", format!("{what} not found")),
        AppError::Unavailable(detail) => {
            tracing::warn!("database unavailable: {detail}");
            (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", String::new())
        }
        AppError::RateLimited { message, .. } => (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", message),
        AppError::Internal(e) => {
            tracing::error!("internal error: {e:#}");
            (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "internal error".into())
        }
    }
}

/// JSON-LD made safe inside `<script>`: `<` never appears raw, so no `</script>` can end it.
pub fn json_ld(v: &serde_json::Value) -> String {
    v.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// [`describe`] without taking the error (nothing logged): for errors a page shows beside a field.
pub fn describe_ref(e: &AppError) -> (StatusCode, &'static str, String) {
    match e {
        AppError::BadRequest { status, code, message, .. } => (*status, code, message.clone()),
        AppError::Unauthorized(m) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED", m.clone()),
        AppError::Forbidden(m) => (StatusCode::FORBIDDEN, "FORBIDDEN", m.clone()),
        AppError::NotFound(what) => (StatusCode::NOT_FOUND, "NOT_FOUND", format!("{what} not found")),
        AppError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", String::new()),
        AppError::RateLimited { message, .. } => (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", message.clone()),
        AppError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "internal error".into()),
    }
}

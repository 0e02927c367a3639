//! The review form behind a review request's single-use link. As with manage-my-booking, the
//! mailed link (`/review?token=…`) is exchanged at once for an HttpOnly, SameSite=Lax cookie
//! and the browser redirected to `/review`, so the token leaves the address bar and any Referer.
//! The page speaks the customer's language (`?lang=`, else the one on their record); a refused
//! field is named beside it, and the link is spent only by a review that is stored.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use std::collections::HashMap;
use tourdesk_domain::reviews::{FieldProblem, ReviewForm};

use super::i18n::Lang;
use super::no_referrer as private;
use super::pages::params;
use super::{Caching, Meta, describe_ref, error_page, html};
use crate::reviews::{self, Invitation, SubmitError};
use crate::{AppError, AppState};

/// The cookie holding the link's token; sent only to `/review`.
pub const COOKIE: &str = "tourdesk_review";
/// How long the cookie lives: long enough to write a review.
const COOKIE_SECONDS: i64 = 4 * 3600;

fn token_of(headers: &HeaderMap) -> Option<String> {
    super::cookie_value(headers, COOKIE)
}

fn cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    super::session_cookie(state, COOKIE, "/review", value, max_age)
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    meta: Meta,
    /// The tour and its date, when the link is good.
    about: Option<(String, String)>,
    /// A sentence instead of the form (thanks, or why it cannot be written).
    message: Option<String>,
    thanks: bool,
    values: HashMap<String, String>,
    errors: Vec<FieldProblem>,
}

impl ReviewPage {
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    fn error(&self, name: &str) -> Option<String> {
        self.errors.iter().find(|e| e.field == name).map(|e| self.meta.lang.review_problem(e.problem))
    }

    fn checked(&self, stars: &u8) -> bool {
        self.value("rating").trim() == stars.to_string()
    }

    fn star_values(&self) -> [u8; 5] {
        [1, 2, 3, 4, 5]
    }
}

fn page(s: &AppState, lang: Lang) -> ReviewPage {
    let tr = lang.tr();
    let mut meta = Meta::new(s, lang, "/review", "", tr.review_title.into(), tr.review_intro.into());
    meta.noindex = true;
    ReviewPage { meta, about: None, message: None, thanks: false, values: HashMap::new(), errors: Vec::new() }
}

/// `?lang=` when it names one of ours, else the customer's own language, else the browser's.
fn language(query: Option<&str>, inv: Option<&Invitation>, headers: &HeaderMap) -> Lang {
    query
        .and_then(Lang::parse)
        .or_else(|| inv.and_then(|i| Lang::parse(&i.language)))
        .unwrap_or_else(|| Lang::choose(None, headers))
}

/// The link does not work or the booking cannot be reviewed: say which, in words.
fn refused(s: &AppState, lang: Lang, e: AppError) -> Response {
    let (status, code, _) = describe_ref(&e);
    if status.is_server_error() {
        return error_page(s, lang, None, e);
    }
    let tr = lang.tr();
    let mut p = page(s, lang);
    p.message = Some(
        match code {
            "ALREADY_REVIEWED" => tr.review_already,
            "NOT_REVIEWABLE" => tr.review_not_reviewable,
            "NOT_FOUND" => tr.err_not_found,
            _ => tr.review_link_used,
        }
        .to_string(),
    );
    let mut r = html(status, &p, Caching::Private);
    r.headers_mut().insert(header::SET_COOKIE, cookie(s, "", 0));
    r
}

fn form_page(s: &AppState, lang: Lang, inv: &Invitation) -> ReviewPage {
    let mut p = page(s, lang);
    p.about = Some((inv.tour_name.clone(), lang.long_date(inv.date)));
    p
}

pub async fn show(State(s): State<AppState>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response {
    let params = params(q.as_deref());
    let asked = params.get("lang").map(String::as_str);
    if let Some(token) = params.get("token") {
        let to = match asked.and_then(Lang::parse) {
            Some(l) => format!("/review?lang={}", l.code()),
            None => "/review".to_string(),
        };
        return super::exchange_link(cookie(&s, token.trim(), COOKIE_SECONDS), &to);
    }
    let Some(token) = token_of(&headers) else {
        return private(refused(&s, language(asked, None, &headers), AppError::Unauthorized(String::new())));
    };
    let inv = match reviews::invitation(&s, &token).await {
        Ok(inv) => inv,
        Err(e) => return private(refused(&s, language(asked, None, &headers), e)),
    };
    let lang = language(asked, Some(&inv), &headers);
    let mut p = form_page(&s, lang, &inv);
    p.values.insert("display_name".into(), inv.default_name.clone());
    private(html(StatusCode::OK, &p, Caching::Private))
}

pub async fn submit(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let values = params(std::str::from_utf8(&body).ok());
    let lang = language(values.get("lang").map(String::as_str), None, &headers);
    let Some(token) = token_of(&headers) else {
        return private(refused(&s, lang, AppError::Unauthorized(String::new())));
    };
    let v = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
    let form = ReviewForm { rating: v("rating"), title: v("title"), body: v("body"), display_name: v("display_name") };
    match reviews::submit(&s, &token, &form, lang.code()).await {
        Ok(()) => {
            let mut p = page(&s, lang);
            p.thanks = true;
            p.message = Some(lang.tr().review_thanks.into());
            let mut r = html(StatusCode::OK, &p, Caching::Private);
            // The link is spent.
            r.headers_mut().insert(header::SET_COOKIE, cookie(&s, "", 0));
            private(r)
        }
        Err(SubmitError::Fields(errors)) => match reviews::invitation(&s, &token).await {
            Ok(inv) => {
                let mut p = form_page(&s, lang, &inv);
                p.values = values;
                p.errors = errors;
                private(html(StatusCode::UNPROCESSABLE_ENTITY, &p, Caching::Private))
            }
            Err(e) => private(refused(&s, lang, e)),
        },
        Err(SubmitError::Refused(e)) => private(refused(&s, lang, e)),
    }
}

//! The waitlist pages: "Join the waitlist" for a sold-out departure (linked from the dates page),
//! and the link of a waitlist offer's e-mail, which leads to the payment of the held seats.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::i18n::Lang;
use super::pages::{Posted, Visit, checkout_context, enc, payment_page};
use super::{Caching, Meta, Utm, carried, describe_ref, error_page, html};
use crate::website::waitlist::{self, Claim, JoinRequest};
use crate::{AppError, AppState};

#[derive(Template)]
#[template(path = "waitlist.html")]
struct WaitlistPage {
    meta: Meta,
    org: String,
    tour_slug: String,
    tour_name: String,
    dates_href: String,
    when: String,
    date: String,
    departure_id: String,
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
    form_error: Option<String>,
    joined: bool,
    max_party: u32,
    /// One count per tier the departure sells.
    tiers: Vec<TierCount>,
}

/// One tier's count on the waitlist form (`qty_{tier}`).
struct TierCount {
    id: String,
    name: String,
    value: String,
    error: Option<String>,
}

impl WaitlistPage {
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors.get(name).map(String::as_str)
    }

    /// The form's contact fields: name, label, input type, autocomplete.
    fn fields(&self) -> [(&'static str, &'static str, &'static str, &'static str); 3] {
        let tr = self.meta.tr;
        [
            ("first_name", tr.first_name, "text", "given-name"),
            ("last_name", tr.last_name, "text", "family-name"),
            ("email", tr.email, "email", "email"),
        ]
    }
}

const FIELDS: [&str; 3] = ["first_name", "last_name", "email"];

/// The form field an error of `waitlist::join` belongs beside: a contact field, a tier's count
/// (`lines[i]…`, `i` counting the tiers sent), or the party as a whole.
fn field_of(f: &str, sent: &[usize], tiers: &[TierCount]) -> Option<String> {
    if FIELDS.contains(&f) {
        return Some(f.to_string());
    }
    if let Some(rest) = f.strip_prefix("lines[")
        && let Some((i, _)) = rest.split_once(']')
        && let Some(t) = i.parse::<usize>().ok().and_then(|i| sent.get(i)).and_then(|t| tiers.get(*t))
    {
        return Some(format!("qty_{}", t.id));
    }
    matches!(f, "party_size" | "lines").then(|| "participants".to_string())
}

pub async fn form(State(s): State<AppState>, Path(org): Path<String>, Visit { p, lang }: Visit) -> Response {
    page(&s, &org, lang, p, false).await
}

pub async fn join(State(s): State<AppState>, Path(org): Path<String>, Posted { p, lang }: Posted) -> Response {
    page(&s, &org, lang, p, true).await
}

async fn page(s: &AppState, org: &str, lang: Lang, p: HashMap<String, String>, post: bool) -> Response {
    let tr = lang.tr();
    let (d, dep) = match checkout_context(s, org, &p).await {
        Ok(x) => x,
        Err(e) => return error_page(s, lang, Some(org), e),
    };
    let text = |k: &str| p.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let mut errors: HashMap<String, String> = HashMap::new();
    let mut form_error = None;
    let mut joined = false;
    // The tiers this departure sells, each with its count as posted (the first tier starts at 1).
    let mut tiers: Vec<TierCount> = dep
        .prices
        .iter()
        .enumerate()
        .map(|(i, tp)| {
            let key = format!("qty_{}", tp.tier_id);
            let value = match p.get(&key) {
                Some(v) => v.trim().to_string(),
                None if i == 0 && !post => "1".to_string(),
                None => String::new(),
            };
            TierCount { id: tp.tier_id.clone(), name: tp.name.clone(), value, error: None }
        })
        .collect();
    if post {
        for f in FIELDS {
            if text(f).is_empty() {
                errors.insert(f.to_string(), tr.err_required.to_string());
            }
        }
        // Counts as typed: blank is none, anything else must be a number (the domain checks
        // the party against its rules).
        let mut lines = Vec::new();
        let mut sent = Vec::new();
        for (i, t) in tiers.iter().enumerate() {
            match t.value.as_str() {
                "" => {}
                v => match v.parse::<u32>() {
                    Ok(0) => {}
                    Ok(q) => {
                        lines.push((t.id.clone(), q));
                        sent.push(i);
                    }
                    Err(_) => {
                        errors.insert(format!("qty_{}", t.id), tr.err_invalid.to_string());
                    }
                },
            }
        }
        if lines.is_empty() && !errors.keys().any(|k| k.starts_with("qty_")) {
            errors.insert("participants".into(), tr.err_quantity.to_string());
        }
        if errors.is_empty() {
            let req = JoinRequest {
                departure_id: dep.id.clone(),
                first_name: text("first_name"),
                last_name: text("last_name"),
                email: text("email"),
                lines,
                language: Some(lang.code().to_string()),
            };
            match waitlist::join(s, org, &req).await {
                Ok(_) => joined = true,
                Err(e) => {
                    let (status, code, message) = describe_ref(&e);
                    if status.is_server_error() {
                        return error_page(s, lang, Some(org), e);
                    }
                    let field = match &e {
                        AppError::BadRequest { field: Some(f), .. } => field_of(f, &sent, &tiers),
                        _ => None,
                    };
                    match field {
                        Some(k) => {
                            errors.insert(k, lang.error(code, &message));
                        }
                        None => form_error = Some(lang.error(code, &message)),
                    }
                }
            }
        }
        if form_error.is_none() && !errors.is_empty() {
            form_error = Some(tr.fix_errors.into());
        }
    }
    // The visitor's campaign goes on with them, back to the calendar too.
    let visit = Utm::from_params(&p);
    let qs = carried(lang, &visit, false);
    let org_name = crate::website::cache::org_name(s, org).await;
    let mut meta = Meta::new(
        s,
        lang,
        &format!("/{org}/waitlist"),
        "",
        format!("{} · {} · {org_name}", tr.waitlist_title, d.tour.name),
        format!("{}: {}", tr.waitlist_title, d.tour.name),
    );
    meta.org = Some(org.to_string());
    meta.org_name = Some(org_name);
    meta.noindex = true;
    meta.carry(&visit);
    let failed = post && !joined;
    for t in &mut tiers {
        t.error = errors.get(&format!("qty_{}", t.id)).cloned();
    }
    let page = WaitlistPage {
        meta,
        org: org.to_string(),
        tour_slug: d.tour.slug.clone(),
        tour_name: d.tour.name.clone(),
        dates_href: format!("/{org}/tours/{}/dates?day={}{qs}#departures", enc(&d.tour.slug), dep.date),
        when: format!("{}, {}–{} ({})", lang.long_date(dep.date), dep.start_time, dep.end_time, dep.timezone),
        date: dep.date.to_string(),
        departure_id: dep.id.clone(),
        values: FIELDS.iter().map(|k| (k.to_string(), text(k))).collect(),
        errors,
        form_error,
        joined,
        max_party: tourdesk_domain::waitlist::MAX_PARTY,
        tiers,
    };
    let status = if failed { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    html(status, &page, Caching::Private)
}

/// The cookie holding an offer's claim token; sent only to its organization's claim page.
pub const CLAIM_COOKIE: &str = "tourdesk_claim";
/// How long the cookie lives: long enough to pay, no longer than an offer is usually held.
const CLAIM_COOKIE_SECONDS: i64 = 3600;

/// The offer e-mail's link: its token is exchanged for a cookie and the browser sent on to the
/// clean `/{org}/waitlist/claim`, as `/manage` and `/review` do; that page is the payment of the
/// held seats, the confirmation once paid, or why the offer is gone.
pub async fn claim(
    State(s): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    Visit { p, lang }: Visit,
) -> Response {
    // The slug goes into the cookie's Path: only one an organization can have.
    if tourdesk_domain::validate::org_slug("org", &org).is_err() {
        return error_page(&s, lang, None, AppError::NotFound("organization".into()));
    }
    let path = format!("/{org}/waitlist/claim");
    if let Some(token) = p.get("token") {
        let to = format!("{path}{}", if lang == Lang::De { "?lang=de" } else { "" });
        let cookie = super::session_cookie(&s, CLAIM_COOKIE, &path, token.trim(), CLAIM_COOKIE_SECONDS);
        return super::exchange_link(cookie, &to);
    }
    let token = super::cookie_value(&headers, CLAIM_COOKIE).unwrap_or_default();
    let mut r = match waitlist::claim(&s, &org, &token).await {
        Ok(Claim::Pay(created)) => payment_page(&s, &org, lang, &HashMap::new(), *created),
        Ok(Claim::Booked { booking_id }) => {
            let qs = if lang == Lang::De { "?lang=de" } else { "" };
            Redirect::to(&format!("/{org}/bookings/{booking_id}{qs}")).into_response()
        }
        Err(e) => error_page(&s, lang, Some(&org), e),
    };
    r.headers_mut().insert(header::REFERRER_POLICY, axum::http::HeaderValue::from_static("no-referrer"));
    r.headers_mut().insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store, private"));
    r
}

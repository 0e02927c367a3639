//! The waitlist pages: "Join the waitlist" for a sold-out departure (linked from the dates page),
//! and the link of a waitlist offer's e-mail, which leads to the payment of the held seats.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::i18n::Lang;
use super::pages::{Posted, Visit, checkout_context, enc, payment_page};
use super::{Caching, Meta, describe_ref, error_page, html};
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
}

impl WaitlistPage {
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors.get(name).map(String::as_str)
    }

    fn is_count(&self, name: &str) -> bool {
        name == "party_size"
    }

    /// The form's fields: name, label, input type, autocomplete.
    fn fields(&self) -> [(&'static str, &'static str, &'static str, &'static str); 4] {
        let tr = self.meta.tr;
        [
            ("first_name", tr.first_name, "text", "given-name"),
            ("last_name", tr.last_name, "text", "family-name"),
            ("email", tr.email, "email", "email"),
            ("party_size", tr.party_size, "number", ""),
        ]
    }
}

const FIELDS: [&str; 4] = ["first_name", "last_name", "email", "party_size"];

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
    if post {
        for f in FIELDS {
            if text(f).is_empty() {
                errors.insert(f.to_string(), tr.err_required.to_string());
            }
        }
        let party_size = text("party_size").parse::<u32>();
        if party_size.is_err() && !errors.contains_key("party_size") {
            errors.insert("party_size".into(), tr.err_invalid.to_string());
        }
        if errors.is_empty() {
            let req = JoinRequest {
                departure_id: dep.id.clone(),
                first_name: text("first_name"),
                last_name: text("last_name"),
                email: text("email"),
                party_size: party_size.unwrap_or(0),
            };
            match waitlist::join(s, org, &req).await {
                Ok(_) => joined = true,
                Err(e) => {
                    let (status, code, message) = describe_ref(&e);
                    if status.is_server_error() {
                        return error_page(s, lang, Some(org), e);
                    }
                    match &e {
                        AppError::BadRequest { field: Some(f), .. } if FIELDS.contains(&f.as_str()) => {
                            errors.insert(f.clone(), lang.error(code, &message));
                        }
                        _ => form_error = Some(lang.error(code, &message)),
                    }
                }
            }
        }
        if form_error.is_none() && !errors.is_empty() {
            form_error = Some(tr.fix_errors.into());
        }
    }
    let qs = match lang {
        Lang::En => "",
        Lang::De => "&lang=de",
    };
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
    let failed = post && !joined;
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
    };
    let status = if failed { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    html(status, &page, Caching::Private)
}

/// The offer e-mail's link: the payment of the held seats, the confirmation once paid, or why
/// the offer is gone. The token is in this URL only; the page sends no Referer.
pub async fn claim(State(s): State<AppState>, Path(org): Path<String>, Visit { p, lang }: Visit) -> Response {
    let token = p.get("token").map(String::as_str).unwrap_or_default();
    let mut r = match waitlist::claim(&s, &org, token).await {
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

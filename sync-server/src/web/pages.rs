//! The catalogue and checkout pages: listing, tour, dates (the availability calendar), checkout,
//! payment and confirmation.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde_json::json;
use tourdesk_domain::money::Currency;
use tourdesk_domain::offer::{self, DayAvailability};

use super::i18n::Lang;
use super::{Caching, Meta, Utm, carried, error_page, html};
use crate::analytics::{Event as AnalyticsEvent, Kind};
use crate::website::types::*;
use crate::website::{bookings, catalog};
use crate::{AppError, AppState};

/// A query string or form body as name → value (the last of a repeated name wins). Never
/// refuses: a parameter that is missing or malformed is the page's to explain.
pub(super) fn params(raw: Option<&str>) -> HashMap<String, String> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect()
}

fn lang_of(p: &HashMap<String, String>, headers: &HeaderMap) -> Lang {
    Lang::choose(p.get("lang").map(String::as_str), headers)
}

/// What every GET page starts from: its query string's parameters and the visitor's language
/// (`?lang=`, else `Accept-Language`). Never refuses, like [`params`].
pub struct Visit {
    pub(super) p: HashMap<String, String>,
    pub(super) lang: Lang,
}

impl<S: Send + Sync> FromRequestParts<S> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let p = params(parts.uri.query());
        let lang = lang_of(&p, &parts.headers);
        Ok(Visit { p, lang })
    }
}

/// What a POSTed form starts from: its body's fields and the visitor's language (`lang=`, else
/// `Accept-Language`), as [`Visit`] is for a GET. Refuses only a body `Bytes` refuses.
pub struct Posted {
    pub(super) p: HashMap<String, String>,
    pub(super) lang: Lang,
}

impl<S: Send + Sync> FromRequest<S> for Posted {
    type Rejection = BytesRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state).await?;
        let p = params(std::str::from_utf8(&body).ok());
        let lang = lang_of(&p, &headers);
        Ok(Posted { p, lang })
    }
}

/// The visit's campaign on an event, for the funnel's attribution by source and campaign (the
/// site sets no cookie, so a page knows only what its own address, or its form, carried).
fn utm(e: &mut AnalyticsEvent, utm: &Utm) {
    let v = |k: &str| utm.get(k).map(str::to_string);
    (e.utm_source, e.utm_medium, e.utm_campaign) = (v("utm_source"), v("utm_medium"), v("utm_campaign"));
}

/// Records what a customer did on `org`'s site (`crate::analytics`), off the request path.
fn track(s: &AppState, org: &str, kind: Kind, lang: Lang, fill: impl FnOnce(&mut AnalyticsEvent)) {
    let mut e = AnalyticsEvent::new(org, kind);
    e.lang = Some(lang.code());
    fill(&mut e);
    s.analytics.record(e);
}

pub(super) fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// ---------------------------------------------------------------------------------------------
// Home: the organizations whose sites are public.

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    meta: Meta,
    orgs: Vec<String>,
}

pub async fn home(State(s): State<AppState>, Visit { lang, .. }: Visit) -> Response {
    match catalog::public_organizations(&s).await {
        Ok(orgs) => {
            let tr = lang.tr();
            let meta = Meta::new(&s, lang, "/", "", tr.site_name.into(), tr.tours_description.into());
            html(StatusCode::OK, &HomePage { meta, orgs }, Caching::Revalidate)
        }
        Err(e) => error_page(&s, lang, None, e),
    }
}

// ---------------------------------------------------------------------------------------------
// Listing.

struct CardView {
    name: String,
    href: String,
    blurb: String,
    category: &'static str,
    duration: String,
    from: Option<String>,
}

#[derive(Template)]
#[template(path = "listing.html")]
struct ListingPage {
    meta: Meta,
    org: String,
    cards: Vec<CardView>,
    categories: Vec<(String, &'static str, bool)>,
    date: String,
    date_error: Option<String>,
}

pub async fn listing(State(s): State<AppState>, Path(org): Path<String>, Visit { p, lang }: Visit) -> Response {
    let tours = match catalog::tours(&s, &org).await {
        Ok(t) => t,
        Err(e) => return error_page(&s, lang, Some(&org), e),
    };
    let visit = Utm::from_params(&p);
    let category = p.get("category").map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
    let date_text = p.get("date").map(|d| d.trim().to_string()).unwrap_or_default();
    let (date, date_error) = match date_text.as_str() {
        "" => (None, None),
        d => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => (Some(d), None),
            Err(_) => (None, Some(lang.tr().err_invalid.to_string())),
        },
    };
    let mut categories: Vec<(String, &'static str, bool)> = Vec::new();
    for t in &tours {
        if !categories.iter().any(|(c, _, _)| *c == t.category) {
            categories.push((t.category.clone(), lang.category(&t.category), category.as_deref() == Some(&t.category)));
        }
    }
    let mut cards = Vec::new();
    for t in tours {
        if category.as_deref().is_some_and(|c| c != t.category) {
            continue;
        }
        if let Some(d) = date {
            // A tour runs that day when the availability the API gives lists a departure on it.
            let q = AvailabilityQuery { from: d, to: d, variant_id: None };
            match catalog::availability(&s, &org, &t.slug, &q).await {
                Ok(a) if a.departures.is_empty() => continue,
                Ok(_) => {}
                Err(e) => return error_page(&s, lang, Some(&org), e),
            }
        }
        cards.push(CardView {
            href: format!("/{org}/tours/{}{}", t.slug, carried(lang, &visit, true)),
            category: lang.category(&t.category),
            duration: lang.duration(t.duration_minutes),
            from: t.from_price.as_ref().map(|m| lang.money(m)),
            name: t.name,
            blurb: t.short_description,
        });
    }
    let tr = lang.tr();
    let mut query = Vec::new();
    if let Some(c) = &category {
        query.push(format!("category={}", enc(c)));
    }
    if let Some(d) = date {
        query.push(format!("date={d}"));
    }
    let org_name = crate::website::cache::org_name(&s, &org).await;
    let title = match &category {
        Some(c) => format!("{} · {} · {org_name}", lang.category(c), tr.tours_title),
        None => format!("{} · {org_name}", tr.tours_title),
    };
    let mut meta = Meta::new(&s, lang, &format!("/{org}"), &query.join("&"), title, tr.tours_description.into());
    meta.org = Some(org.clone());
    meta.org_name = Some(org_name.clone());
    // Filtered views are for people, not for the index.
    meta.noindex = date.is_some();
    meta.carry(&visit);
    let page = ListingPage { meta, org, cards, categories, date: date_text, date_error };
    track(&s, &page.org, Kind::PageView, lang, |e| {
        e.path = Some(format!("/{}", page.org));
        utm(e, &visit);
    });
    html(StatusCode::OK, &page, Caching::Revalidate)
}

fn meta_qs(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "",
        Lang::De => "?lang=de",
    }
}

// ---------------------------------------------------------------------------------------------
// Tour page.

struct TierView {
    name: String,
    price: String,
    note: String,
}

#[derive(Template)]
#[template(path = "tour.html")]
struct TourPage {
    meta: Meta,
    d: std::sync::Arc<TourDetail>,
    duration: String,
    category: &'static str,
    from: Option<String>,
    tiers: Vec<TierView>,
    languages: String,
    dates_href: String,
    /// `(average as this language writes it, how many)` of the approved reviews, if any.
    rating: Option<(String, u32)>,
    reviews: Vec<ReviewView>,
}

struct ReviewView {
    name: String,
    rating: u8,
    /// The rating drawn as five stars, filled and empty.
    stars: String,
    title: String,
    body: String,
    date: String,
}

/// A price as schema.org writes it: a decimal string in major units ("120.50").
fn decimal(m: &MoneyDto) -> String {
    let exp = Currency::parse(&m.currency).map(|c| u32::from(c.exponent())).unwrap_or(2);
    let div = 10i64.pow(exp);
    let sign = if m.amount_minor < 0 { "-" } else { "" };
    let abs = m.amount_minor.unsigned_abs() as i64;
    if exp == 0 { format!("{sign}{abs}") } else { format!("{sign}{}.{:0w$}", abs / div, abs % div, w = exp as usize) }
}

pub async fn tour(
    State(s): State<AppState>,
    Path((org, key)): Path<(String, String)>,
    Visit { p, lang }: Visit,
) -> Response {
    let (d, published) = match catalog::tour_page(&s, &org, &key).await {
        Ok(page) => page,
        Err(e) => return error_page(&s, lang, Some(&org), e),
    };
    let summary = published.summary;
    let path = format!("/{org}/tours/{}", d.tour.slug);
    let description = if d.tour.short_description.trim().is_empty() {
        format!("{} · {}", d.tour.name, lang.category(&d.tour.category))
    } else {
        d.tour.short_description.clone()
    };
    let org_name = crate::website::cache::org_name(&s, &org).await;
    let mut meta = Meta::new(&s, lang, &path, "", format!("{} · {org_name}", d.tour.name), description.clone());
    meta.org = Some(org.clone());
    meta.org_name = Some(org_name.clone());
    meta.og_type = "product";
    let visit = Utm::from_params(&p);
    meta.carry(&visit);
    let url = meta.canonical.clone();
    let offers: Vec<serde_json::Value> = d
        .tiers
        .iter()
        .map(|t| {
            json!({
                "@type": "Offer",
                "name": t.name,
                "price": decimal(&t.base_price),
                "priceCurrency": t.base_price.currency,
                "availability": "https://schema.org/InStock",
                "url": url,
            })
        })
        .collect();
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": ["TouristTrip", "Product"],
        "name": d.tour.name,
        "description": description,
        "url": url,
        "category": d.tour.category,
        "inLanguage": lang.code(),
        "offers": offers,
    });
    if let Some(from) = &d.tour.from_price {
        ld["offers"] = json!({
            "@type": "AggregateOffer",
            "lowPrice": decimal(from),
            "priceCurrency": from.currency,
            "offerCount": d.tiers.len(),
            "offers": ld["offers"].take(),
        });
    }
    if summary.count > 0 {
        ld["aggregateRating"] = json!({
            "@type": "AggregateRating",
            "ratingValue": summary.average_text(),
            "reviewCount": summary.count,
            "bestRating": tourdesk_domain::reviews::MAX_RATING,
            "worstRating": tourdesk_domain::reviews::MIN_RATING,
        });
        ld["review"] = published
            .shown
            .iter()
            .map(|r| {
                json!({
                    "@type": "Review",
                    "author": {"@type": "Person", "name": r.display_name},
                    "datePublished": r.date.to_string(),
                    "name": r.title,
                    "reviewBody": r.body,
                    "reviewRating": {"@type": "Rating", "ratingValue": r.rating, "bestRating": 5, "worstRating": 1},
                })
            })
            .collect();
    }
    if !d.tour.meeting_point.trim().is_empty() || !d.meeting_point.address.trim().is_empty() {
        ld["subjectOf"] = json!({"@type": "Place", "name": d.tour.meeting_point, "address": d.meeting_point.address});
    }
    meta.json_ld = Some(super::json_ld(&ld));
    let tiers = d
        .tiers
        .iter()
        .map(|t| TierView {
            name: t.name.clone(),
            price: lang.money(&t.base_price),
            note: match (t.min_age, t.max_age) {
                (Some(a), Some(b)) => format!("{a}–{b}"),
                (Some(a), None) => format!("{a}+"),
                (None, Some(b)) => format!("≤ {b}"),
                (None, None) => String::new(),
            },
        })
        .collect();
    let page = TourPage {
        duration: lang.duration(d.tour.duration_minutes),
        category: lang.category(&d.tour.category),
        from: d.tour.from_price.as_ref().map(|m| lang.money(m)),
        tiers,
        languages: d.languages.iter().map(|l| l.to_uppercase()).collect::<Vec<_>>().join(", "),
        dates_href: format!("{path}/dates{}", carried(lang, &visit, true)),
        rating: (summary.count > 0).then(|| (lang.rating(summary.average_tenths), summary.count)),
        reviews: published
            .shown
            .iter()
            .map(|r| ReviewView {
                stars: (1..=tourdesk_domain::reviews::MAX_RATING)
                    .map(|i| if i <= r.rating { '★' } else { '☆' })
                    .collect(),
                name: r.display_name.clone(),
                rating: r.rating,
                title: r.title.clone(),
                body: r.body.clone(),
                date: lang.long_date(r.date),
            })
            .collect(),
        meta,
        d,
    };
    track(&s, &org, Kind::TourView, lang, |e| {
        (e.path, e.tour_id) = (Some(path.clone()), Some(page.d.tour.id.clone()));
        utm(e, &visit);
    });
    html(StatusCode::OK, &page, Caching::Revalidate)
}

// ---------------------------------------------------------------------------------------------
// Dates: the availability calendar of one month and the departures of the chosen day.

struct DayCell {
    day: u32,
    date: String,
    /// available, limited, soldout or none
    class: &'static str,
    label: String,
    href: Option<String>,
    selected: bool,
    today: bool,
}

struct DepartureView {
    time: String,
    seats: String,
    bookable: bool,
    prices: Vec<(String, String)>,
    href: String,
    season: Option<String>,
    /// "Join the waitlist" on a sold-out departure that takes one.
    waitlist_href: Option<String>,
}

#[derive(Template)]
#[template(path = "dates.html")]
struct DatesPage {
    meta: Meta,
    tour_name: String,
    tour_href: String,
    timezone: String,
    month_title: String,
    prev_href: Option<String>,
    next_href: String,
    weekdays: [&'static str; 7],
    weeks: Vec<Vec<Option<DayCell>>>,
    day_title: Option<String>,
    departures: Vec<DepartureView>,
    month_error: Option<String>,
}

pub async fn dates(
    State(s): State<AppState>,
    Path((org, key)): Path<(String, String)>,
    Visit { p, lang }: Visit,
) -> Response {
    let tr = lang.tr();
    let d = match catalog::tour(&s, &org, &key).await {
        Ok(d) => d,
        Err(e) => return error_page(&s, lang, Some(&org), e),
    };
    let tz: chrono_tz::Tz = d.tour.timezone.parse().unwrap_or(chrono_tz::UTC);
    let today = Utc::now().with_timezone(&tz).date_naive();
    let this_month = first_of_month(today);
    let day = p.get("day").and_then(|v| NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok());
    let mut month_error = None;
    let month = match p.get("month").map(|m| m.trim()).filter(|m| !m.is_empty()) {
        Some(m) => match NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d") {
            Ok(m) => m.max(this_month),
            Err(_) => {
                month_error = Some(tr.err_invalid.to_string());
                this_month
            }
        },
        None => day.map(first_of_month).unwrap_or(this_month),
    };
    let next = first_of_month(month + Duration::days(32));
    let last = next - Duration::days(1);
    let query = AvailabilityQuery { from: month, to: last, variant_id: None };
    let avail = match catalog::availability(&s, &org, &d.tour.slug, &query).await {
        Ok(a) => a,
        Err(e) => return error_page(&s, lang, Some(&org), e),
    };
    let path = format!("/{org}/tours/{}/dates", d.tour.slug);
    let visit = Utm::from_params(&p);
    let amp = carried(lang, &visit, false);
    let month_q = |m: NaiveDate| format!("{path}?month={}{amp}", m.format("%Y-%m"));
    let mut weeks: Vec<Vec<Option<DayCell>>> = Vec::new();
    let mut week: Vec<Option<DayCell>> = vec![];
    for _ in 0..month.weekday().num_days_from_monday() {
        week.push(None);
    }
    let mut cursor = month;
    while cursor <= last {
        let seats: Vec<u32> = avail.departures.iter().filter(|x| x.date == cursor).map(|x| x.seats_left).collect();
        let status = offer::day_availability(seats.iter().copied());
        let (class, word) = match status {
            Some(DayAvailability::Available) => ("available", tr.day_available),
            Some(DayAvailability::Limited) => ("limited", tr.day_limited),
            Some(DayAvailability::SoldOut) => ("soldout", tr.day_sold_out),
            None => ("none", tr.day_none),
        };
        week.push(Some(DayCell {
            day: cursor.day(),
            date: cursor.to_string(),
            class,
            label: format!("{}, {word}", lang.long_date(cursor)),
            href: status.map(|_| format!("{path}?month={}&day={cursor}{amp}#departures", month.format("%Y-%m"))),
            selected: day == Some(cursor),
            today: cursor == today,
        }));
        if week.len() == 7 {
            weeks.push(std::mem::take(&mut week));
        }
        cursor += Duration::days(1);
    }
    if !week.is_empty() {
        while week.len() < 7 {
            week.push(None);
        }
        weeks.push(week);
    }
    let departures = match day {
        Some(day) => avail
            .departures
            .iter()
            .filter(|x| x.date == day)
            .map(|x| {
                let bookable = x.seats_left > 0 && x.status == "open";
                DepartureView {
                    time: format!("{}–{} (UTC{})", x.start_time, x.end_time, x.utc_offset),
                    seats: if bookable { format!("{} {}", x.seats_left, tr.seats_left) } else { tr.sold_out.into() },
                    bookable,
                    prices: x.prices.iter().map(|tp| (tp.name.clone(), lang.money(&tp.price))).collect(),
                    href: format!(
                        "/{org}/checkout?tour={}&date={}&departure={}{amp}",
                        enc(&d.tour.slug),
                        x.date,
                        enc(&x.id),
                    ),
                    season: x.season.clone(),
                    waitlist_href: (!bookable && matches!(x.status.as_str(), "open" | "full")).then(|| {
                        format!(
                            "/{org}/waitlist?tour={}&date={}&departure={}{amp}",
                            enc(&d.tour.slug),
                            x.date,
                            enc(&x.id),
                        )
                    }),
                }
            })
            .collect(),
        None => vec![],
    };
    let org_name = crate::website::cache::org_name(&s, &org).await;
    let mut meta = Meta::new(
        &s,
        lang,
        &path,
        "",
        format!("{} · {} · {org_name}", tr.availability_title, d.tour.name),
        format!("{}: {}", tr.availability_title, d.tour.name),
    );
    meta.org = Some(org.clone());
    meta.org_name = Some(org_name.clone());
    meta.carry(&visit);
    let page = DatesPage {
        tour_href: format!("/{org}/tours/{}{}", d.tour.slug, carried(lang, &visit, true)),
        tour_name: d.tour.name.clone(),
        timezone: avail.timezone.clone(),
        month_title: lang.month_title(month),
        prev_href: (month > this_month).then(|| month_q(first_of_month(month - Duration::days(1)))),
        next_href: month_q(next),
        weekdays: tr.weekdays_short,
        weeks,
        day_title: day.map(|d| lang.long_date(d)),
        departures,
        month_error,
        meta,
    };
    track(&s, &org, Kind::AvailabilityView, lang, |e| {
        e.tour_id = Some(d.tour.id.clone());
        utm(e, &visit);
    });
    html(StatusCode::OK, &page, Caching::Revalidate)
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

// ---------------------------------------------------------------------------------------------
// Checkout.

struct TierInput {
    id: String,
    name: String,
    price: String,
    quantity: u32,
    min: u32,
    max: u32,
    note: String,
    error: Option<String>,
    /// One row of name fields per participant of this tier (as many as `quantity`).
    names: Vec<NameRow>,
}

/// One participant's name fields at checkout (`pf_{tier}_{n}`, `pl_{tier}_{n}`). Optional, as the
/// domain has them: a row left blank sends no name; a row half filled is the domain's to refuse.
struct NameRow {
    label: String,
    first_field: String,
    last_field: String,
    first: String,
    last: String,
    first_error: Option<String>,
    last_error: Option<String>,
}

/// What a gift card pays of the quote, as the page shows it.
struct GiftView {
    covered: String,
    covered_minor: i64,
    remaining: String,
    remaining_minor: i64,
}

struct QuoteView {
    lines: Vec<(String, String)>,
    subtotal: String,
    discounts: Vec<(String, String)>,
    taxes: Vec<(String, String)>,
    total: String,
    total_minor: i64,
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    meta: Meta,
    org: String,
    tour_slug: String,
    tour_name: String,
    when: String,
    date: String,
    departure_id: String,
    request_id: String,
    tiers: Vec<TierInput>,
    values: HashMap<String, String>,
    errors: HashMap<String, String>,
    form_error: Option<String>,
    promo_applied: bool,
    quote: Option<QuoteView>,
    gift: Option<GiftView>,
}

impl CheckoutPage {
    /// Whether any tier has participants to name.
    fn has_names(&self) -> bool {
        self.tiers.iter().any(|t| !t.names.is_empty())
    }

    fn value(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    fn error(&self, name: &str) -> Option<&str> {
        self.errors.get(name).map(String::as_str)
    }

    fn optional(&self, name: &str) -> bool {
        name == "phone"
    }

    /// The contact fields: name, label, input type, autocomplete.
    fn contact_fields(&self) -> [(&'static str, &'static str, &'static str, &'static str); 4] {
        let tr = self.meta.tr;
        [
            ("first_name", tr.first_name, "text", "given-name"),
            ("last_name", tr.last_name, "text", "family-name"),
            ("email", tr.email, "email", "email"),
            ("phone", tr.phone, "tel", "tel"),
        ]
    }
}

/// The departure a checkout is for, from the tour's availability on its day.
pub(super) async fn checkout_context(
    s: &AppState,
    org: &str,
    p: &HashMap<String, String>,
) -> Result<(std::sync::Arc<TourDetail>, AvailableDeparture), AppError> {
    let tour = p.get("tour").map(String::as_str).unwrap_or_default();
    let date = p
        .get("date")
        .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
        .ok_or_else(|| AppError::NotFound("departure".into()))?;
    let departure = p.get("departure").map(String::as_str).unwrap_or_default();
    let d = catalog::tour(s, org, tour).await?;
    let q = AvailabilityQuery { from: date, to: date, variant_id: None };
    let a = catalog::availability(s, org, &d.tour.slug, &q).await?;
    let dep = a
        .departures
        .iter()
        .find(|x| x.id == departure.trim())
        .cloned()
        .ok_or_else(|| AppError::NotFound("departure".into()))?;
    Ok((d, dep))
}

fn tier_inputs(lang: Lang, d: &TourDetail, dep: &AvailableDeparture, p: &HashMap<String, String>) -> Vec<TierInput> {
    let mut first = true;
    dep.prices
        .iter()
        .map(|tp| {
            let tier = d.tiers.iter().find(|t| t.id == tp.tier_id);
            let min = tier.and_then(|t| t.min_per_booking).unwrap_or(0);
            let max = tier.and_then(|t| t.max_per_booking).unwrap_or(20).min(dep.seats_left.max(1));
            let default = if first { min.max(1) } else { 0 };
            first = false;
            let quantity =
                p.get(&format!("qty_{}", tp.tier_id)).and_then(|v| v.trim().parse::<u32>().ok()).unwrap_or(default);
            let mut note = Vec::new();
            if let Some(t) = tier {
                match (t.min_age, t.max_age) {
                    (Some(a), Some(b)) => note.push(format!("{a}–{b}")),
                    (Some(a), None) => note.push(format!("{a}+")),
                    (None, Some(b)) => note.push(format!("≤ {b}")),
                    (None, None) => {}
                }
                if t.min_per_booking.is_some() || t.max_per_booking.is_some() {
                    note.push(format!("{}–{} {}", min, max, lang.tr().per_booking));
                }
            }
            TierInput {
                id: tp.tier_id.clone(),
                name: tp.name.clone(),
                price: lang.money(&tp.price),
                quantity,
                min: 0,
                max,
                note: note.join(" · "),
                error: None,
                names: (0..quantity.min(max.max(1)))
                    .map(|n| {
                        let (first_field, last_field) =
                            (format!("pf_{}_{n}", tp.tier_id), format!("pl_{}_{n}", tp.tier_id));
                        let text = |k: &str| p.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
                        NameRow {
                            label: format!("{} {} · {}", lang.tr().participant_n, n + 1, tp.name),
                            first: text(&first_field),
                            last: text(&last_field),
                            first_field,
                            last_field,
                            first_error: None,
                            last_error: None,
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

fn quote_view(lang: Lang, q: &QuoteDto) -> QuoteView {
    let p = &q.price;
    QuoteView {
        lines: p.lines.iter().map(|l| (format!("{} × {}", l.quantity, l.tier_name), lang.money(&l.total))).collect(),
        subtotal: lang.money(&p.subtotal),
        discounts: p.discounts.iter().map(|d| (d.description.clone(), format!("−{}", lang.money(&d.amount)))).collect(),
        taxes: p
            .taxes
            .iter()
            .map(|t| {
                let pct = format!("{}.{:02}", t.rate_bps / 100, t.rate_bps % 100);
                let pct = pct.trim_end_matches('0').trim_end_matches('.').to_string();
                let how = if t.inclusive { format!(" ({})", lang.tr().tax_included) } else { String::new() };
                (format!("{} {pct}%{how}", t.name), lang.money(&t.amount))
            })
            .collect(),
        total: lang.money(&p.total),
        total_minor: p.total.amount_minor,
    }
}

/// What the checkout says beside form field `field` for a refusal `code` / `message` of the booking
/// or quote functions, in the customer's language: a field left blank (the domain's
/// `validate::REQUIRED`) is named — a participant's row half filled gets "First name missing" or
/// "Last name missing" beside the blank one — and anything else is worded by [`Lang::error`].
fn field_message(lang: Lang, field: &str, code: &str, message: &str) -> String {
    let t = lang.tr();
    if code != "INVALID" || !message.ends_with(tourdesk_domain::validate::REQUIRED) {
        return lang.error(code, message);
    }
    let said = if field.starts_with("pf_") {
        t.err_first_name_missing
    } else if field.starts_with("pl_") {
        t.err_last_name_missing
    } else {
        t.err_required
    };
    said.to_string()
}

/// The form field an error of the booking or quote functions belongs beside. `sent[i]` are the
/// name rows of line `i` that were sent, in order (blank rows are not).
fn form_field(field: &str, tiers: &[TierInput], lines: &[(usize, u32)], sent: &[Vec<usize>]) -> String {
    if let Some(rest) = field.strip_prefix("customer.") {
        return rest.to_string();
    }
    if let Some(rest) = field.strip_prefix("lines[")
        && let Some((i, rest)) = rest.split_once(']')
        && let Ok(i) = i.parse::<usize>()
        && let Some((t, _)) = lines.get(i)
        && let Some(tier) = tiers.get(*t)
    {
        // `lines[i].participants[j].first_name`: beside that participant's field.
        if let Some(rest) = rest.strip_prefix(".participants[")
            && let Some((j, name)) = rest.split_once("].")
            && let Ok(j) = j.parse::<usize>()
            && let Some(row) = sent.get(i).and_then(|rows| rows.get(j))
            && let Some(r) = tier.names.get(*row)
        {
            return if name == "last_name" { r.last_field.clone() } else { r.first_field.clone() };
        }
        return format!("qty_{}", tier.id);
    }
    match field {
        "promo_code" => "promo_code".into(),
        crate::website::gift_cards::FIELD => crate::website::gift_cards::FIELD.into(),
        "email" => "email".into(),
        "special_requests" => "special_requests".into(),
        "lines" => "participants".into(),
        _ => String::new(),
    }
}

pub async fn checkout(State(s): State<AppState>, Path(org): Path<String>, Visit { p, lang }: Visit) -> Response {
    checkout_page(&s, &org, lang, p, false).await
}

pub async fn checkout_post(State(s): State<AppState>, Path(org): Path<String>, Posted { p, lang }: Posted) -> Response {
    let book = p.get("action").map(String::as_str) == Some("book");
    checkout_page(&s, &org, lang, p, book).await
}

/// Renders the checkout for the form's values with a fresh quote; with `book`, makes the booking
/// (the form's request id makes a second submit the same booking) and shows the payment step.
async fn checkout_page(s: &AppState, org: &str, lang: Lang, p: HashMap<String, String>, book: bool) -> Response {
    let tr = lang.tr();
    let (d, dep) = match checkout_context(s, org, &p).await {
        Ok(x) => x,
        Err(e) => return error_page(s, lang, Some(org), e),
    };
    // The campaign the visitor landed with, carried here by the site's links and on by the form.
    let visit = Utm::from_params(&p);
    let mut tiers = tier_inputs(lang, &d, &dep, &p);
    let lines: Vec<(usize, u32)> =
        tiers.iter().enumerate().filter(|(_, t)| t.quantity > 0).map(|(i, t)| (i, t.quantity)).collect();
    // The names typed, per line: rows left blank are not sent (names are optional).
    let sent: Vec<Vec<usize>> = lines
        .iter()
        .map(|(i, _)| {
            tiers[*i]
                .names
                .iter()
                .enumerate()
                .filter(|(_, r)| !(r.first.is_empty() && r.last.is_empty()))
                .map(|(n, _)| n)
                .collect()
        })
        .collect();
    let line_dtos: Vec<LineDto> = lines
        .iter()
        .zip(&sent)
        .map(|((i, q), rows)| LineDto {
            tier_id: tiers[*i].id.clone(),
            quantity: *q,
            participants: rows
                .iter()
                .map(|n| {
                    let r = &tiers[*i].names[*n];
                    ParticipantDto { first_name: r.first.clone(), last_name: r.last.clone(), age: None }
                })
                .collect(),
        })
        .collect();
    // The quote prices seats, not names: its lines go without them.
    let quote_lines: Vec<LineDto> = line_dtos.iter().map(|l| LineDto { participants: vec![], ..l.clone() }).collect();
    let text = |k: &str| p.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let promo = Some(text("promo_code")).filter(|c| !c.is_empty());
    let gift_code = Some(text(crate::website::gift_cards::FIELD)).filter(|c| !c.is_empty());
    let email = Some(text("email")).filter(|e| !e.is_empty());
    // Errors of the quote (beside their fields) and of the booking; a booking is decided by the
    // booking function alone, so a quote's refusal (a promo code this very booking has used, on a
    // second submit) never stops a request from getting its booking back.
    let mut quote_errors: HashMap<String, String> = HashMap::new();
    let mut errors: HashMap<String, String> = HashMap::new();
    let mut form_error = None;

    // The quote, as the API gives it; its refusal of a promo code goes beside that field.
    let mut quote = None;
    let mut gift = None;
    let mut promo_applied = false;
    if line_dtos.is_empty() {
        quote_errors.insert("participants".into(), tr.err_quantity.into());
    } else {
        let req = QuoteRequest {
            departure_id: dep.id.clone(),
            lines: quote_lines,
            promo_code: promo.clone(),
            // An e-mail still being typed must not stop the price from showing.
            email: email.clone().filter(|e| tourdesk_domain::validate::email("email", e).is_ok()),
        };
        match catalog::quote(s, org, &req).await {
            Ok(q) => {
                if q.promo.status == "refused" {
                    let why = q.promo.message.clone().unwrap_or_default();
                    quote_errors.insert("promo_code".into(), lang.promo_refusal(q.promo.reason.as_deref(), &why));
                }
                promo_applied = q.promo.status == "applied";
                if let Some(code) = &gift_code
                    && let Ok(currency) = Currency::parse(&q.price.total.currency)
                {
                    let due = tourdesk_domain::money::Money::new(q.price.total.amount_minor, currency);
                    match crate::website::gift_cards::cover(s, org, code, due).await {
                        Ok(c) => {
                            gift = Some(GiftView {
                                covered: format!("−{}", lang.money(&c.covered)),
                                covered_minor: c.covered.amount_minor,
                                remaining: lang.money(&c.remaining),
                                remaining_minor: c.remaining.amount_minor,
                            })
                        }
                        Err(e @ AppError::BadRequest { .. }) if !super::describe_ref(&e).0.is_server_error() => {
                            let (_, code, message) = super::describe_ref(&e);
                            quote_errors.insert(crate::website::gift_cards::FIELD.into(), lang.error(code, &message));
                        }
                        Err(e) => return error_page(s, lang, Some(org), e),
                    }
                }
                quote = Some(q);
            }
            Err(e) => {
                let (_, code, message) = super::describe_ref(&e);
                match e {
                    AppError::BadRequest { field: Some(f), .. } => {
                        let k = form_field(&f, &tiers, &lines, &sent);
                        let said = field_message(lang, &k, code, &message);
                        quote_errors.insert(k, said);
                    }
                    other => return error_page(s, lang, Some(org), other),
                }
            }
        }
    }

    let request_id = p
        .get("request_id")
        .map(|r| r.trim().to_string())
        .filter(|r| uuid::Uuid::parse_str(r).is_ok())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());

    if book {
        for (k, msg) in [("first_name", tr.err_required), ("last_name", tr.err_required), ("email", tr.err_required)] {
            if text(k).is_empty() {
                errors.insert(k.into(), msg.into());
            }
        }
        if errors.is_empty() && !line_dtos.is_empty() {
            let expected = p.get("expected_total").and_then(|v| v.trim().parse::<i64>().ok());
            let req = CreateBookingRequest {
                request_id: Some(request_id.clone()),
                departure_id: dep.id.clone(),
                customer: CustomerDto {
                    email: text("email"),
                    first_name: text("first_name"),
                    last_name: text("last_name"),
                    phone: Some(text("phone")).filter(|v| !v.is_empty()),
                },
                lines: line_dtos.clone(),
                promo_code: promo.clone(),
                special_requests: Some(text("special_requests")).filter(|v| !v.is_empty()),
                dietary_restrictions: None,
                expected_total_minor: expected,
                gift_card_code: gift_code.clone(),
            };
            match bookings::create(s, org, req).await {
                Ok(created) => {
                    track(s, org, Kind::BookingCreated, lang, |e| {
                        e.checkout_id = Some(request_id.clone());
                        e.booking_id = Some(created.booking.id.clone());
                        e.departure_id = Some(dep.id.clone());
                        e.tour_id = Some(d.tour.id.clone());
                        utm(e, &visit);
                    });
                    return payment_page(s, org, lang, &p, created);
                }
                Err(e) => {
                    let (status, code, message) = super::describe_ref(&e);
                    if status.is_server_error() {
                        return error_page(s, lang, Some(org), e);
                    }
                    match &e {
                        AppError::BadRequest { field: Some(f), .. }
                            if !form_field(f, &tiers, &lines, &sent).is_empty() =>
                        {
                            let k = form_field(f, &tiers, &lines, &sent);
                            let said = field_message(lang, &k, code, &message);
                            errors.insert(k, said);
                        }
                        _ => form_error = Some(lang.error(code, &message)),
                    }
                }
            }
        }
    }
    for (k, v) in quote_errors {
        errors.entry(k).or_insert(v);
    }
    if book && form_error.is_none() && !errors.is_empty() {
        form_error = Some(tr.fix_errors.into());
    }
    for t in &mut tiers {
        t.error = errors.get(&format!("qty_{}", t.id)).cloned();
        for r in &mut t.names {
            r.first_error = errors.get(&r.first_field).cloned();
            r.last_error = errors.get(&r.last_field).cloned();
        }
    }
    let values: HashMap<String, String> =
        ["first_name", "last_name", "email", "phone", "special_requests", "promo_code", "gift_card_code"]
            .iter()
            .map(|k| (k.to_string(), text(k)))
            .collect();
    let org_name = crate::website::cache::org_name(s, org).await;
    let mut meta = Meta::new(
        s,
        lang,
        &format!("/{org}/checkout"),
        "",
        format!("{} · {} · {org_name}", tr.checkout_title, d.tour.name),
        format!("{}: {}", tr.checkout_title, d.tour.name),
    );
    meta.org = Some(org.to_string());
    meta.org_name = Some(org_name.clone());
    meta.noindex = true;
    meta.carry(&visit);
    let page = CheckoutPage {
        meta,
        org: org.to_string(),
        tour_slug: d.tour.slug.clone(),
        tour_name: d.tour.name.clone(),
        when: format!("{}, {}–{} ({})", lang.long_date(dep.date), dep.start_time, dep.end_time, dep.timezone),
        date: dep.date.to_string(),
        departure_id: dep.id.clone(),
        request_id,
        tiers,
        values,
        errors,
        form_error,
        promo_applied,
        quote: quote.as_ref().map(|q| quote_view(lang, q)),
        gift,
    };
    if !book && !p.contains_key("request_id") {
        // The form shown afresh (from the calendar): a checkout starts under its request id.
        track(s, org, Kind::CheckoutStarted, lang, |e| {
            e.checkout_id = Some(page.request_id.clone());
            e.departure_id = Some(page.departure_id.clone());
            e.tour_id = Some(d.tour.id.clone());
            utm(e, &visit);
        });
    }
    let status = if book { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    html(status, &page, Caching::Private)
}

// ---------------------------------------------------------------------------------------------
// Payment and confirmation.

#[derive(Template)]
#[template(path = "payment.html")]
struct PaymentPage {
    meta: Meta,
    org: String,
    booking: BookingDto,
    total: String,
    held_until: Option<String>,
    stripe_js: String,
    publishable_key: String,
    client_secret: String,
    return_url: String,
    retry_message: Option<String>,
    /// The checkout form's fields, posted again by "Try again" (same request id).
    resend: Vec<(String, String)>,
}

pub(super) fn payment_page(
    s: &AppState,
    org: &str,
    lang: Lang,
    p: &HashMap<String, String>,
    created: BookingCreated,
) -> Response {
    let b = created.booking;
    let confirmation = format!("/{org}/bookings/{}{}", b.id, meta_qs(lang));
    let (publishable_key, client_secret, retry_message) = match created.payment {
        None => return Redirect::to(&confirmation).into_response(),
        Some(PaymentDto::Ready { publishable_key, client_secret, .. }) => (publishable_key, client_secret, None),
        Some(PaymentDto::Retry { .. }) => (String::new(), String::new(), Some(lang.tr().payment_retry.to_string())),
    };
    let tz: chrono_tz::Tz = b.timezone.parse().unwrap_or(chrono_tz::UTC);
    let mut meta = Meta::new(
        s,
        lang,
        &format!("/{org}/checkout"),
        "",
        format!("{} · {} · {}", lang.tr().payment_title, b.reference, b.tour_name),
        lang.tr().payment_title.into(),
    );
    meta.org = Some(org.to_string());
    meta.org_name = s.catalogue.name_of(org);
    meta.noindex = true;
    let page = PaymentPage {
        total: lang.money(&b.price.total),
        held_until: b.hold_expires_at.map(|h| h.with_timezone(&tz).format("%H:%M").to_string()),
        stripe_js: s.config.stripe.js_url.clone(),
        publishable_key,
        client_secret,
        return_url: format!("{}{confirmation}", super::base_url(s)),
        retry_message,
        resend: p.iter().filter(|(k, _)| k.as_str() != "action").map(|(k, v)| (k.clone(), v.clone())).collect(),
        meta,
        org: org.to_string(),
        booking: b,
    };
    html(StatusCode::OK, &page, Caching::Private)
}

#[derive(Template)]
#[template(path = "confirmation.html")]
struct ConfirmationPage {
    meta: Meta,
    org: String,
    b: BookingDto,
    when: String,
    status: &'static str,
    payment_status: &'static str,
    total: String,
    paid: String,
    confirmed: bool,
    waiting: bool,
}

pub async fn confirmation(
    State(s): State<AppState>,
    Path((org, id)): Path<(String, String)>,
    Visit { lang, .. }: Visit,
) -> Response {
    let b = match bookings::by_id(&s, &org, &id).await {
        Ok(b) => b,
        Err(e) => return error_page(&s, lang, Some(&org), e),
    };
    let tr = lang.tr();
    let mut meta = Meta::new(
        &s,
        lang,
        &format!("/{org}/bookings/{}", b.id),
        "",
        format!("{} · {}", tr.confirmation_title, b.reference),
        format!("{} {}", tr.booking_reference, b.reference),
    );
    meta.org = Some(org.clone());
    meta.org_name = Some(crate::website::cache::org_name(&s, &org).await);
    meta.noindex = true;
    let page = ConfirmationPage {
        when: format!("{}, {} ({})", lang.long_date(b.date), b.start_time, b.timezone),
        status: lang.status(&b.status),
        payment_status: lang.status(&b.payment_status),
        total: lang.money(&b.price.total),
        paid: lang.money(&b.paid),
        confirmed: b.status == "confirmed",
        // Awaiting Stripe's webhook: the seats held unpaid, or paid in part by a gift card at
        // checkout with the card payment for the rest on its way.
        waiting: b.status == "pending" && (b.hold_expires_at.is_some() || b.payment_status == "partial"),
        meta,
        org,
        b,
    };
    let mut r = html(StatusCode::OK, &page, Caching::Private);
    r.headers_mut().insert(header::REFERRER_POLICY, axum::http::HeaderValue::from_static("no-referrer"));
    r
}

//! Manage my booking. The mailed link (`/manage?token=…`) is exchanged at once for a short-lived
//! session kept in an HttpOnly, SameSite=Lax cookie (Secure when the site is on HTTPS), and the
//! browser is redirected to `/manage`, so the token leaves the address bar, the history and any
//! Referer. There the customer sees the booking and, before cancelling, the refund the policy
//! grants now. `/{org}/manage` asks for a new link by reference and e-mail.

use std::collections::HashMap;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::i18n::Lang;
use super::no_referrer as private;
use super::pages::params;
use super::{Caching, Meta, describe_ref, error_page, html};
use crate::website::balance;
use crate::website::bookings;
use crate::website::moves;
use crate::website::types::{BookingDto, CancelRequest, LookupRequest, MoneyDto, PaymentDto};
use crate::{AppError, AppState};

/// The session cookie's name; it is sent only to `/manage…`.
pub const COOKIE: &str = "tourdesk_manage";

fn session_of(headers: &HeaderMap) -> Option<String> {
    super::cookie_value(headers, COOKIE)
}

fn cookie(state: &AppState, value: &str, max_age: i64) -> HeaderValue {
    super::session_cookie(state, COOKIE, "/manage", value, max_age)
}

struct BookingView {
    reference: String,
    tour: String,
    when: String,
    participants: u32,
    status: &'static str,
    payment_status: &'static str,
    total: String,
    paid: String,
    refund: Option<String>,
}

fn booking_view(lang: Lang, b: &BookingDto) -> BookingView {
    BookingView {
        reference: b.reference.clone(),
        tour: b.tour_name.clone(),
        when: format!("{}, {} ({})", lang.long_date(b.date), b.start_time, b.timezone),
        participants: b.participants,
        status: lang.status(&b.status),
        payment_status: lang.status(&b.payment_status),
        total: lang.money(&b.price.total),
        paid: lang.money(&b.paid),
        refund: b.cancellation.as_ref().map(|c| lang.money(&c.refund)),
    }
}

#[derive(Template)]
#[template(path = "manage.html")]
struct ManagePage {
    meta: Meta,
    booking: Option<BookingView>,
    /// What cancelling now would refund (`None`: nothing; not shown when it cannot be cancelled).
    preview: Option<Option<String>>,
    cannot_cancel: Option<String>,
    message: Option<String>,
    confirm_error: Option<String>,
    just_cancelled: bool,
    moving: Moving,
    /// The balance still owed, when it can be paid online.
    balance: Option<String>,
    /// Why paying the balance was refused (nothing owed any more).
    balance_error: Option<String>,
    /// Back from paying: confirmed or being confirmed.
    payment_note: Option<String>,
    /// The page reloads itself while a payment is being confirmed.
    refresh: bool,
}

/// What the manage page says about the balance besides the amount owed.
#[derive(Default)]
struct BalanceNote {
    /// The browser came back from Stripe after paying (`redirect_status`).
    returned: bool,
    error: Option<String>,
}

/// A date the booking may move to.
struct MoveChoice {
    id: String,
    label: String,
}

/// The reschedule section: the dates offered, the price of the chosen one before confirming, a
/// refusal beside the choice, or the move done.
#[derive(Default)]
struct Moving {
    offered: bool,
    choices: Vec<MoveChoice>,
    error: Option<String>,
    preview: Option<MovePreviewView>,
    done: bool,
}

struct MovePreviewView {
    to: String,
    when: String,
    total: String,
    /// `(pays more, amount)`; `None` when the price stays the same.
    difference: Option<(bool, String)>,
    balance_due: Option<String>,
}

fn departure_label(lang: Lang, d: &tourdesk_domain::Departure) -> String {
    format!("{}, {} ({})", lang.long_date(d.local_date), d.local_time.format("%H:%M"), d.timezone)
}

fn preview_view(lang: Lang, p: &moves::MovePreview) -> MovePreviewView {
    let m = |x: tourdesk_domain::money::Money| lang.money(&MoneyDto::from(x));
    let d = p.money.difference;
    MovePreviewView {
        to: p.to.id.clone(),
        when: departure_label(lang, &p.to),
        total: m(p.money.new_total),
        difference: if d.amount > 0 {
            Some((true, m(d)))
        } else if p.money.refund_due.amount > 0 {
            Some((false, m(p.money.refund_due)))
        } else if d.amount < 0 {
            Some((false, m(tourdesk_domain::money::Money::new(-d.amount, d.currency))))
        } else {
            None
        },
        balance_due: (p.money.balance_due.amount > 0).then(|| m(p.money.balance_due)),
    }
}

/// The dates the managed booking may move to, as the section lists them.
async fn choices(s: &AppState, lang: Lang, session: &str) -> Result<Moving, AppError> {
    let (b, deps) = moves::move_choices(s, session).await?;
    let choices = deps
        .iter()
        .map(|d| MoveChoice {
            id: d.id.clone(),
            label: format!("{} · {} {}", departure_label(lang, d), d.seats_left(), lang.tr().move_seats_left),
        })
        .collect();
    Ok(Moving { offered: b.status.holds_seats(), choices, ..Moving::default() })
}

fn manage_meta(state: &AppState, lang: Lang) -> Meta {
    let tr = lang.tr();
    let mut meta = Meta::new(state, lang, "/manage", "", tr.manage_title.into(), tr.manage_intro.into());
    meta.noindex = true;
    meta
}

pub async fn manage(State(s): State<AppState>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response {
    let p = params(q.as_deref());
    let lang = Lang::choose(p.get("lang").map(String::as_str), &headers);
    if let Some(token) = p.get("token") {
        let token = token.trim();
        return private(match bookings::open_session(&s, token).await {
            Ok(session) => {
                let to = format!("/manage{}", if lang == Lang::De { "?lang=de" } else { "" });
                super::exchange_link(cookie(&s, &session, bookings::MANAGE_SESSION_HOURS * 3600), &to)
            }
            Err(e) => no_session(&s, lang, e),
        });
    }
    let Some(session) = session_of(&headers) else {
        return private(no_session(&s, lang, AppError::Unauthorized(String::new())));
    };
    if let Some(status) = p.get("redirect_status") {
        // Back from Stripe with the intent's client secret in the address: to a clean one.
        let paid = matches!(status.as_str(), "succeeded" | "processing");
        let query = match (paid, lang) {
            (true, Lang::De) => "?paid=1&lang=de",
            (true, Lang::En) => "?paid=1",
            (false, Lang::De) => "?lang=de",
            (false, Lang::En) => "",
        };
        let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, format!("/manage{query}"))]).into_response();
        r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return private(r);
    }
    let returned = p.get("paid").map(String::as_str) == Some("1");
    private(show_with(&s, lang, &session, None, None, BalanceNote { returned, error: None }).await)
}

/// A link that does not work (expired, used, mistyped) or no session: say so, in words.
fn no_session(s: &AppState, lang: Lang, e: AppError) -> Response {
    let (status, code, message) = describe_ref(&e);
    if status.is_server_error() {
        return error_page(s, lang, None, e);
    }
    let page = ManagePage {
        meta: manage_meta(s, lang),
        booking: None,
        preview: None,
        cannot_cancel: None,
        message: Some(lang.error(code, &message)),
        confirm_error: None,
        just_cancelled: false,
        moving: Moving::default(),
        balance: None,
        balance_error: None,
        payment_note: None,
        refresh: false,
    };
    let mut r = html(StatusCode::UNAUTHORIZED, &page, Caching::Private);
    r.headers_mut().insert(header::SET_COOKIE, cookie(s, "", 0));
    r
}

async fn show(s: &AppState, lang: Lang, session: &str, confirm_error: Option<String>) -> Response {
    show_with(s, lang, session, confirm_error, None, BalanceNote::default()).await
}

/// The manage page; `moving` replaces the reschedule section's default (the dates offered).
async fn show_with(
    s: &AppState,
    lang: Lang,
    session: &str,
    confirm_error: Option<String>,
    moving: Option<Moving>,
    note: BalanceNote,
) -> Response {
    let b = match bookings::managed(s, session).await {
        Ok(b) => b,
        Err(e) => return no_session(s, lang, e),
    };
    let (preview, cannot_cancel) = if b.cancellation.is_some() {
        (None, None)
    } else {
        match bookings::cancel_preview(s, session).await {
            Ok(Ok(after)) => {
                let refund = after.cancellation.as_ref().map(|c| &c.refund).filter(|r| r.amount_minor > 0);
                (Some(refund.map(|r| lang.money(r))), None)
            }
            Ok(Err(refusal)) => {
                let (_, code, message) = describe_ref(&refusal);
                (None, Some(lang.error(code, &message)))
            }
            Err(e) => return error_page(s, lang, None, e),
        }
    };
    let failed = confirm_error.is_some() || moving.as_ref().is_some_and(|m| m.error.is_some());
    let mut moving = moving.unwrap_or_default();
    if moving.preview.is_none() && !moving.done || moving.error.is_some() {
        match choices(s, lang, session).await {
            Ok(c) => (moving.offered, moving.choices) = (c.offered, c.choices),
            Err(e) => return error_page(s, lang, None, e),
        }
    }
    if moving.done || moving.preview.is_some() {
        moving.offered = true;
    }
    let due = match balance::managed_balance(s, session).await {
        Ok(due) => due,
        Err(e) => return no_session(s, lang, e),
    };
    let owed = due.amount > 0;
    let payment_note = note.returned.then(|| if owed { lang.tr().balance_waiting } else { lang.tr().balance_paid });
    let failed = failed || note.error.is_some();
    let page = ManagePage {
        meta: manage_meta(s, lang),
        booking: Some(booking_view(lang, &b)),
        preview,
        cannot_cancel,
        message: None,
        confirm_error: confirm_error.clone(),
        just_cancelled: false,
        moving,
        balance: owed.then(|| lang.money(&MoneyDto::from(due))),
        balance_error: note.error,
        payment_note: payment_note.map(str::to_string),
        refresh: note.returned && owed,
    };
    let status = if failed { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    html(status, &page, Caching::Private)
}

pub async fn cancel(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let p = params(std::str::from_utf8(&body).ok());
    let lang = Lang::choose(p.get("lang").map(String::as_str), &headers);
    let Some(session) = session_of(&headers) else {
        return private(no_session(&s, lang, AppError::Unauthorized(String::new())));
    };
    if p.get("confirm").map(String::as_str) != Some("yes") {
        return private(show(&s, lang, &session, Some(lang.tr().err_required.into())).await);
    }
    let reason = p.get("reason").map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    match bookings::cancel(&s, &session, &CancelRequest { reason }).await {
        Ok(b) => {
            let page = ManagePage {
                meta: manage_meta(&s, lang),
                booking: Some(booking_view(lang, &b)),
                preview: None,
                cannot_cancel: None,
                message: Some(lang.tr().cancelled_text.into()),
                confirm_error: None,
                just_cancelled: true,
                moving: Moving::default(),
                balance: None,
                balance_error: None,
                payment_note: None,
                refresh: false,
            };
            let mut r = html(StatusCode::OK, &page, Caching::Private);
            // The session cancelled once and is spent.
            r.headers_mut().insert(header::SET_COOKIE, cookie(&s, "", 0));
            private(r)
        }
        Err(e @ AppError::BadRequest { .. }) => {
            let (_, code, message) = describe_ref(&e);
            private(show(&s, lang, &session, Some(lang.error(code, &message))).await)
        }
        Err(e) => private(no_session(&s, lang, e)),
    }
}

/// The reschedule form: without `confirm=yes` it shows the chosen date's price (decided and
/// rolled back); with it, it moves the booking. A refusal (sold out meanwhile, the cut-off, the
/// policy) is shown beside the choice and nothing changes.
pub async fn move_post(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let p = params(std::str::from_utf8(&body).ok());
    let lang = Lang::choose(p.get("lang").map(String::as_str), &headers);
    let Some(session) = session_of(&headers) else {
        return private(no_session(&s, lang, AppError::Unauthorized(String::new())));
    };
    let refused = |e: &AppError| {
        let (_, code, message) = describe_ref(e);
        Moving { error: Some(lang.error(code, &message)), ..Moving::default() }
    };
    let to = p.get("to").map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let Some(to) = to else {
        let moving = Moving { error: Some(lang.tr().err_required.into()), ..Moving::default() };
        return private(show_with(&s, lang, &session, None, Some(moving), BalanceNote::default()).await);
    };
    if p.get("confirm").map(String::as_str) != Some("yes") {
        let moving = match moves::move_preview(&s, &session, &to).await {
            Ok(Ok(preview)) => Moving { preview: Some(preview_view(lang, &preview)), ..Moving::default() },
            Ok(Err(e)) => refused(&e),
            Err(e) => return private(no_session(&s, lang, e)),
        };
        return private(show_with(&s, lang, &session, None, Some(moving), BalanceNote::default()).await);
    }
    let moving = match moves::move_booking(&s, &session, &to).await {
        Ok(_) => Moving { done: true, ..Moving::default() },
        Err(e @ AppError::BadRequest { .. }) => refused(&e),
        Err(e) => return private(no_session(&s, lang, e)),
    };
    private(show_with(&s, lang, &session, None, Some(moving), BalanceNote::default()).await)
}

#[derive(Template)]
#[template(path = "balance.html")]
struct BalancePage {
    meta: Meta,
    booking: BookingDto,
    amount: String,
    total: String,
    paid: String,
    stripe_js: String,
    publishable_key: String,
    client_secret: String,
    return_url: String,
    retry_message: Option<String>,
}

/// "Pay the balance": a PaymentIntent for what the booking still owes (the same one while the
/// balance is the same) and Stripe's Payment Element; paying returns to `/manage`, which shows
/// the payment being confirmed until the webhook has settled it. Nothing owed any more (paid
/// meanwhile, cancelled) is said on the manage page.
pub async fn pay_post(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let p = params(std::str::from_utf8(&body).ok());
    let lang = Lang::choose(p.get("lang").map(String::as_str), &headers);
    let Some(session) = session_of(&headers) else {
        return private(no_session(&s, lang, AppError::Unauthorized(String::new())));
    };
    let paying = match balance::pay_balance(&s, &session).await {
        Ok(paying) => paying,
        Err(e @ AppError::BadRequest { .. }) if !describe_ref(&e).0.is_server_error() => {
            let (_, code, message) = describe_ref(&e);
            let note = BalanceNote { returned: false, error: Some(lang.error(code, &message)) };
            return private(show_with(&s, lang, &session, None, None, note).await);
        }
        Err(e @ AppError::Unauthorized(_)) => return private(no_session(&s, lang, e)),
        Err(e) => return private(error_page(&s, lang, None, e)),
    };
    let (publishable_key, client_secret, retry_message) = match paying.payment {
        PaymentDto::Ready { publishable_key, client_secret, .. } => (publishable_key, client_secret, None),
        PaymentDto::Retry { .. } => (String::new(), String::new(), Some(lang.tr().payment_retry.to_string())),
    };
    let tr = lang.tr();
    let mut meta = Meta::new(&s, lang, "/manage/pay", "", tr.balance_title.into(), tr.balance_intro.into());
    meta.noindex = true;
    let b = paying.booking;
    let page = BalancePage {
        amount: lang.money(&paying.amount),
        total: lang.money(&b.price.total),
        paid: lang.money(&b.paid),
        stripe_js: s.config.stripe.js_url.clone(),
        publishable_key,
        client_secret,
        return_url: format!("{}/manage{}", super::base_url(&s), if lang == Lang::De { "?lang=de" } else { "" }),
        retry_message,
        meta,
        booking: b,
    };
    private(html(StatusCode::OK, &page, Caching::Private))
}

#[derive(Template)]
#[template(path = "lookup.html")]
struct LookupPage {
    meta: Meta,
    org: String,
    reference: String,
    email: String,
    errors: HashMap<String, String>,
    sent: bool,
}

impl LookupPage {
    fn error(&self, name: &str) -> Option<&str> {
        self.errors.get(name).map(String::as_str)
    }
}

fn lookup_page(
    s: &AppState,
    org: &str,
    lang: Lang,
    page: impl FnOnce(Meta) -> LookupPage,
    status: StatusCode,
) -> Response {
    let tr = lang.tr();
    let mut meta = Meta::new(
        s,
        lang,
        &format!("/{org}/manage"),
        "",
        format!("{} · {org}", tr.manage_title),
        tr.manage_intro.into(),
    );
    meta.org = Some(org.to_string());
    html(status, &page(meta), Caching::Private)
}

pub async fn lookup_form(
    State(s): State<AppState>,
    Path(org): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let p = params(q.as_deref());
    let lang = Lang::choose(p.get("lang").map(String::as_str), &headers);
    // The organization must exist for its page to.
    if let Err(e) = crate::website::catalog::tours(&s, &org).await {
        return error_page(&s, lang, Some(&org), e);
    }
    let o = org.clone();
    lookup_page(
        &s,
        &org,
        lang,
        |meta| LookupPage {
            meta,
            org: o,
            reference: String::new(),
            email: String::new(),
            errors: HashMap::new(),
            sent: false,
        },
        StatusCode::OK,
    )
}

pub async fn lookup_post(
    State(s): State<AppState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = params(std::str::from_utf8(&body).ok());
    let lang = Lang::choose(p.get("lang").map(String::as_str), &headers);
    let reference = p.get("reference").map(|v| v.trim().to_string()).unwrap_or_default();
    let email = p.get("email").map(|v| v.trim().to_string()).unwrap_or_default();
    let req = LookupRequest { reference: reference.clone(), email: email.clone() };
    let (errors, sent, status) = match bookings::request_magic_link(&s, &org, &req).await {
        Ok(_) => (HashMap::new(), true, StatusCode::OK),
        Err(e @ AppError::BadRequest { field: Some(_), .. }) => {
            let (status, code, message) = describe_ref(&e);
            let field = match &e {
                AppError::BadRequest { field: Some(f), .. } => f.clone(),
                _ => String::new(),
            };
            (HashMap::from([(field, lang.error(code, &message))]), false, status)
        }
        Err(e) => return error_page(&s, lang, Some(&org), e),
    };
    let o = org.clone();
    lookup_page(&s, &org, lang, |meta| LookupPage { meta, org: o, reference, email, errors, sent }, status)
}

//! What a browser talks to on the fake Stripe: the stand-in Stripe.js (`GET /v3/`), CORS, and the
//! confirm call Stripe.js makes with the publishable key and the client secret
//! (`POST /v1/payment_intents/{id}/confirm`). A confirmed payment sends its signed webhook event
//! to the endpoint set with [`FakeStripe::deliver_webhooks_to`](super::FakeStripe), as Stripe
//! does, so the server's signature checks run unchanged.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Answer, ChargeRecord, FakeState, Recorded, error, event, intent_json, now, sign};

/// The stand-in for `https://js.stripe.com/v3/`.
pub const STRIPE_JS: &str = include_str!("fake-stripe.js");

/// A card number the fake declines (Stripe's test card for a generic decline).
pub const DECLINED_CARD: &str = "4000000000000002";

/// Answers what is the browser's (the script, preflights, the publishable-key confirm), or
/// `None` for the server-side API.
pub(super) fn intercept(
    state: &Arc<Mutex<FakeState>>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<Response> {
    let path = uri.path();
    if *method == Method::GET && (path == "/v3" || path == "/v3/") {
        let mut r = (StatusCode::OK, STRIPE_JS).into_response();
        r.headers_mut().insert("content-type", HeaderValue::from_static("application/javascript; charset=utf-8"));
        r.headers_mut().insert("cache-control", HeaderValue::from_static("no-store"));
        return Some(cors(r));
    }
    if *method == Method::OPTIONS {
        let mut r = StatusCode::NO_CONTENT.into_response();
        r.headers_mut().insert("access-control-allow-methods", HeaderValue::from_static("GET, POST"));
        r.headers_mut().insert("access-control-allow-headers", HeaderValue::from_static("content-type"));
        return Some(cors(r));
    }
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let ["v1", "payment_intents", id, "confirm"] = segments.as_slice() else { return None };
    if *method != Method::POST || headers.get("authorization").is_some() {
        return None;
    }
    let form: Vec<(String, String)> =
        form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
    s.requests.push(Recorded {
        method: method.to_string(),
        path: path.to_string(),
        idempotency_key: None,
        form: form.clone(),
    });
    let (answer, webhook) = confirm(&mut s, id, &form);
    if let (Some(event), Some((url, secret))) = (webhook, s.webhook.clone()) {
        let deliveries = state.clone();
        tokio::spawn(async move {
            let status = deliver(&url, &secret, &event).await;
            deliveries.lock().unwrap_or_else(PoisonError::into_inner).webhook_deliveries.push(status);
        });
    }
    let (status, json) = answer;
    Some(cors(
        (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), axum::Json(json)).into_response(),
    ))
}

fn cors(mut r: Response) -> Response {
    r.headers_mut().insert("access-control-allow-origin", HeaderValue::from_static("*"));
    r
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Stripe's confirm with a publishable key: the client secret must be the intent's; a card the
/// fake declines leaves it `requires_payment_method` with the decline; any other card succeeds
/// with a charge of the full amount. Returns the answer and the event to send.
fn confirm(s: &mut FakeState, id: &str, form: &[(String, String)]) -> (Answer, Option<String>) {
    if !field(form, "key").is_some_and(|k| k.starts_with("pk_test_")) {
        let e = error(
            401,
            "invalid_request_error",
            None,
            "Invalid API Key provided: a publishable test key is needed.",
            None,
        );
        return (e, None);
    }
    let charge_id = s.new_id("ch");
    let event_id = s.new_id("evt");
    let Some(intent) = s.intents.get_mut(id) else {
        return (super::no_such("payment_intent", id, "intent"), None);
    };
    if field(form, "client_secret") != Some(intent.client_secret.as_str()) {
        let e = error(
            400,
            "invalid_request_error",
            Some("payment_intent_invalid_parameter"),
            "The client_secret provided does not match the client_secret associated with the PaymentIntent.",
            Some("client_secret"),
        );
        return (e, None);
    }
    if !matches!(intent.public.status.as_str(), "requires_payment_method" | "requires_confirmation") {
        let (status, mut body) = error(
            400,
            "invalid_request_error",
            Some("payment_intent_unexpected_state"),
            format!("This PaymentIntent's status is {}; it cannot be confirmed.", intent.public.status),
            None,
        );
        body["error"]["payment_intent"] = intent_json(intent);
        return ((status, body), None);
    }
    let card = field(form, "payment_method_data[card][number]").unwrap_or_default();
    if card == DECLINED_CARD {
        intent.public.status = "requires_payment_method".into();
        intent.last_error = Some("Your card was declined.".into());
        let (status, mut body) = error(402, "card_error", Some("card_declined"), "Your card was declined.", None);
        body["error"]["decline_code"] = "generic_decline".into();
        body["error"]["payment_intent"] = intent_json(intent);
        let event = event(&event_id, "payment_intent.payment_failed", intent_json(intent));
        return ((status, body), Some(event));
    }
    intent.public.status = "succeeded".into();
    intent.amount_received = intent.public.amount;
    intent.last_error = None;
    if intent.charge.is_none() {
        intent.charge =
            Some(ChargeRecord { id: charge_id, created: now(), amount_refunded: 0, refunds: vec![], disputed: false });
    }
    intent.public.latest_charge = intent.charge.as_ref().map(|c| c.id.clone());
    let event = event(&event_id, "payment_intent.succeeded", intent_json(intent));
    ((200, intent_json(intent)), Some(event))
}

/// POSTs `event` to `url` (plain `http://host:port/path`) signed with `secret`, as Stripe does,
/// retrying a few times as Stripe would; returns the last HTTP status (0: no answer).
async fn deliver(url: &str, secret: &str, event: &str) -> u16 {
    let mut status = 0;
    for attempt in 0..5 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        status = post_once(url, secret, event).await.unwrap_or(0);
        if (200..300).contains(&status) {
            break;
        }
    }
    status
}

async fn post_once(url: &str, secret: &str, event: &str) -> Option<u16> {
    let rest = url.strip_prefix("http://")?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut stream = tokio::net::TcpStream::connect(host).await.ok()?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Stripe/1.0 (+https://stripe.com/docs/webhooks)\r\n\
         Content-Type: application/json; charset=utf-8\r\nStripe-Signature: {}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{event}",
        sign(event, secret, now()),
        event.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await.ok()?.ok()?;
    let head = String::from_utf8_lossy(&answer);
    head.split_whitespace().nth(1)?.parse().ok()
}

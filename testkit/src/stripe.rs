//! A stateful fake of the slice of Stripe's API that Tourdesk uses, served over real HTTP on
//! loopback so the real client (async-stripe) talks to it unchanged: form-encoded requests,
//! Bearer auth, idempotency keys, Stripe-shaped JSON and errors, and webhook events signed the
//! way Stripe signs them.
//!
//! The JSON carries every field that async-stripe's strict models require; the gateway's tests
//! parse each answer and event with those models, so a missing field fails a test here rather
//! than a payment in production.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

mod browser;
pub use browser::{DECLINED_CARD, STRIPE_JS};

/// The API version async-stripe 1.0.0-rc.10 is generated for; events claim it so the client
/// logs no version mismatch.
pub const API_VERSION: &str = "2026-09-30.endive";

/// One API call as the fake received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub idempotency_key: Option<String>,
    /// Decoded form fields in the order sent (the query string for GETs).
    pub form: Vec<(String, String)>,
}

impl Recorded {
    /// The first value of a form field, e.g. `"amount"` or `"metadata[booking_id]"`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// What the fake knows about a PaymentIntent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeIntent {
    pub id: String,
    /// In Stripe's units of `currency`.
    pub amount: i64,
    /// Lowercase, as Stripe stores it.
    pub currency: String,
    pub status: String,
    pub metadata: BTreeMap<String, String>,
    pub latest_charge: Option<String>,
}

struct IntentRecord {
    public: FakeIntent,
    client_secret: String,
    created: i64,
    description: Option<String>,
    receipt_email: Option<String>,
    amount_received: i64,
    canceled_at: Option<i64>,
    cancellation_reason: Option<String>,
    last_error: Option<String>,
    charge: Option<ChargeRecord>,
}

struct ChargeRecord {
    id: String,
    created: i64,
    amount_refunded: i64,
    refunds: Vec<RefundRecord>,
    disputed: bool,
}

struct RefundRecord {
    id: String,
    amount: i64,
    created: i64,
    metadata: BTreeMap<String, String>,
}

struct StoredAnswer {
    fingerprint: String,
    status: u16,
    body: String,
}

#[derive(Default)]
struct FakeState {
    tag: String,
    counter: u64,
    requests: Vec<Recorded>,
    fail_next: usize,
    fail_status: u16,
    intents: BTreeMap<String, IntentRecord>,
    idempotent: HashMap<String, StoredAnswer>,
    /// Where payment events of confirms made in a browser are sent, with the signing secret.
    webhook: Option<(String, String)>,
    /// The HTTP status each such delivery ended with (0: no answer).
    webhook_deliveries: Vec<u16>,
    /// Refunds of these PaymentIntents still to be refused, and how many.
    refuse_refunds: HashMap<String, usize>,
}

impl FakeState {
    /// Ids look like Stripe's (`pi_…`, 24 characters after the prefix) and are unique per fake.
    fn new_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}_{}{:010}", self.tag, self.counter)
    }

    fn intent_by_charge(&mut self, charge_id: &str) -> Option<&mut IntentRecord> {
        self.intents.values_mut().find(|i| i.charge.as_ref().is_some_and(|c| c.id == charge_id))
    }
}

/// A running fake; stops when dropped.
pub struct FakeStripe {
    addr: SocketAddr,
    state: Arc<Mutex<FakeState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// 14 letters and digits that differ between fakes, so ids from two fakes never collide.
fn run_tag(port: u16) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let mut x = nanos ^ (u128::from(port) << 64) ^ u128::from(std::process::id());
    (0..14)
        .map(|_| {
            // xorshift: any spread is enough, this is not a secret.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALPHABET[(x % ALPHABET.len() as u128) as usize] as char
        })
        .collect()
}

/// The `Stripe-Signature` header Stripe would send for `payload`: `t=<timestamp>,v1=<hex HMAC-SHA256
/// of "<timestamp>.<payload>" keyed with the endpoint secret>`.
pub fn sign(payload: &str, secret: &str, timestamp: i64) -> String {
    // HMAC accepts keys of any length, so this cannot fail; the fallback keeps the signature
    // wrong rather than panicking should that ever change.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return format!("t={timestamp},v1=");
    };
    mac.update(format!("{timestamp}.{payload}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

impl FakeStripe {
    /// Binds 127.0.0.1 on a free port and serves in the background.
    pub async fn start() -> FakeStripe {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("fake Stripe cannot bind 127.0.0.1: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("fake Stripe has no address: {e}"));
        let state =
            Arc::new(Mutex::new(FakeState { tag: run_tag(addr.port()), fail_status: 500, ..FakeState::default() }));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeStripe { addr, state, task }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn uri(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every API call so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// Answers the next `n` API calls with `status` and a Stripe-shaped error (402 is a declined
    /// card). These model faults before Stripe acted, so nothing is stored under their
    /// idempotency keys: a retry with the same key goes through.
    pub fn fail_next(&self, n: usize, status: u16) {
        let mut s = self.lock();
        s.fail_next = n;
        s.fail_status = status;
    }

    /// Payments confirmed in a browser (through the stand-in Stripe.js at `/v3/`) send their
    /// `payment_intent.*` events to `url`, signed with `secret`, as Stripe sends them to a
    /// webhook endpoint.
    pub fn deliver_webhooks_to(&self, url: &str, secret: &str) {
        self.lock().webhook = Some((url.to_string(), secret.to_string()));
    }

    /// Refuses the next `n` refunds asked of PaymentIntent `intent_id` (`balance_insufficient`,
    /// as Stripe answers when the account cannot cover a refund now). Unlike [`Self::fail_next`],
    /// this is Stripe's decision on the request: the refusal is kept under its idempotency key,
    /// and the same key asked again gets it again.
    pub fn refuse_refunds_of(&self, intent_id: &str, n: usize) {
        self.lock().refuse_refunds.insert(intent_id.to_string(), n);
    }

    /// The HTTP status of each webhook delivery so far (0: the endpoint did not answer).
    pub fn webhook_deliveries(&self) -> Vec<u16> {
        self.lock().webhook_deliveries.clone()
    }

    pub fn intent(&self, id: &str) -> Option<FakeIntent> {
        self.lock().intents.get(id).map(|i| i.public.clone())
    }

    /// The payment is confirmed and captured: status `succeeded`, a `ch_…` charge of the full
    /// amount. Returns the `payment_intent.succeeded` event.
    pub fn succeed(&self, intent_id: &str) -> String {
        let mut s = self.lock();
        let charge_id = s.new_id("ch");
        let event_id = s.new_id("evt");
        let intent = intent_mut(&mut s, intent_id);
        intent.public.status = "succeeded".into();
        intent.amount_received = intent.public.amount;
        intent.last_error = None;
        if intent.charge.is_none() {
            intent.charge = Some(ChargeRecord {
                id: charge_id,
                created: now(),
                amount_refunded: 0,
                refunds: vec![],
                disputed: false,
            });
        }
        intent.public.latest_charge = intent.charge.as_ref().map(|c| c.id.clone());
        event(&event_id, "payment_intent.succeeded", intent_json(intent))
    }

    /// A payment attempt was declined: back to `requires_payment_method` with `last_payment_error`.
    /// Returns the `payment_intent.payment_failed` event.
    pub fn fail(&self, intent_id: &str, message: &str) -> String {
        let mut s = self.lock();
        let event_id = s.new_id("evt");
        let intent = intent_mut(&mut s, intent_id);
        intent.public.status = "requires_payment_method".into();
        intent.last_error = Some(message.to_string());
        event(&event_id, "payment_intent.payment_failed", intent_json(intent))
    }

    /// The `charge.refunded` event for the intent's charge as it stands (refunds are made through
    /// `POST /v1/refunds`): cumulative `amount_refunded` and the refunds list, newest first.
    pub fn refund_event(&self, intent_id: &str) -> String {
        let mut s = self.lock();
        let event_id = s.new_id("evt");
        let intent = intent_mut(&mut s, intent_id);
        let charge = charge_json(intent)
            .unwrap_or_else(|| panic!("fake Stripe: {intent_id} has no charge to refund (call succeed first)"));
        event(&event_id, "charge.refunded", charge)
    }

    /// A refund of `amount` (Stripe's units) made outside Tourdesk, in Stripe's dashboard.
    /// Returns the `charge.refunded` event as the charge then stands.
    pub fn refund_in_dashboard(&self, intent_id: &str, amount: i64) -> String {
        let mut s = self.lock();
        let refund_id = s.new_id("re");
        let event_id = s.new_id("evt");
        let intent = intent_mut(&mut s, intent_id);
        let charge = intent
            .charge
            .as_mut()
            .unwrap_or_else(|| panic!("fake Stripe: {intent_id} has no charge to refund (call succeed first)"));
        charge.amount_refunded += amount;
        charge.refunds.push(RefundRecord { id: refund_id, amount, created: now(), metadata: BTreeMap::new() });
        let charge = charge_json(intent).unwrap_or_else(|| panic!("fake Stripe: {intent_id} lost its charge"));
        event(&event_id, "charge.refunded", charge)
    }

    /// The customer's bank disputes the charge (`needs_response`, reason `fraudulent`).
    /// Returns the `charge.dispute.created` event.
    pub fn dispute(&self, intent_id: &str) -> String {
        let mut s = self.lock();
        let dispute_id = s.new_id("dp");
        let event_id = s.new_id("evt");
        let intent = intent_mut(&mut s, intent_id);
        let (amount, currency, pi) = (intent.amount_received, intent.public.currency.clone(), intent.public.id.clone());
        let charge = intent
            .charge
            .as_mut()
            .unwrap_or_else(|| panic!("fake Stripe: {intent_id} has no charge to dispute (call succeed first)"));
        charge.disputed = true;
        let dispute = json!({
            "id": dispute_id,
            "object": "dispute",
            "amount": amount - charge.amount_refunded,
            "balance_transactions": [],
            "charge": charge.id,
            "created": now(),
            "currency": currency,
            "enhanced_eligibility_types": [],
            "evidence": { "enhanced_evidence": {} },
            "evidence_details": {
                "due_by": now() + 7 * 86_400,
                "enhanced_eligibility": {},
                "has_evidence": false,
                "past_due": false,
                "submission_count": 0
            },
            "is_charge_refundable": true,
            "livemode": false,
            "metadata": {},
            "payment_intent": pi,
            "reason": "fraudulent",
            "status": "needs_response"
        });
        event(&event_id, "charge.dispute.created", dispute)
    }
}

fn intent_mut<'a>(s: &'a mut FakeState, intent_id: &str) -> &'a mut IntentRecord {
    s.intents.get_mut(intent_id).unwrap_or_else(|| panic!("fake Stripe has no PaymentIntent {intent_id}"))
}

fn event(id: &str, event_type: &str, object: Value) -> String {
    json!({
        "id": id,
        "object": "event",
        "api_version": API_VERSION,
        "created": now(),
        "data": { "object": object },
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "type": event_type
    })
    .to_string()
}

fn intent_json(i: &IntentRecord) -> Value {
    let last_payment_error = i.last_error.as_ref().map(|message| {
        json!({
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "generic_decline",
            "message": message,
        })
    });
    json!({
        "id": i.public.id,
        "object": "payment_intent",
        "amount": i.public.amount,
        "amount_capturable": 0,
        "amount_received": i.amount_received,
        "automatic_payment_methods": { "allow_redirects": "always", "enabled": true },
        "canceled_at": i.canceled_at,
        "cancellation_reason": i.cancellation_reason,
        "capture_method": "automatic_async",
        "client_secret": i.client_secret,
        "confirmation_method": "automatic",
        "created": i.created,
        "currency": i.public.currency,
        "customer": null,
        "description": i.description,
        "last_payment_error": last_payment_error,
        "latest_charge": i.public.latest_charge,
        "livemode": false,
        "metadata": i.public.metadata,
        "next_action": null,
        "payment_method": null,
        "payment_method_types": ["card"],
        "receipt_email": i.receipt_email,
        "status": i.public.status,
    })
}

fn refund_json(r: &RefundRecord, charge_id: &str, intent: &IntentRecord) -> Value {
    json!({
        "id": r.id,
        "object": "refund",
        "amount": r.amount,
        "charge": charge_id,
        "created": r.created,
        "currency": intent.public.currency,
        "metadata": r.metadata,
        "payment_intent": intent.public.id,
        "reason": null,
        "status": "succeeded",
    })
}

fn charge_json(i: &IntentRecord) -> Option<Value> {
    let c = i.charge.as_ref()?;
    let refunds: Vec<Value> = c.refunds.iter().rev().map(|r| refund_json(r, &c.id, i)).collect();
    Some(json!({
        "id": c.id,
        "object": "charge",
        "amount": i.amount_received,
        "amount_captured": i.amount_received,
        "amount_refunded": c.amount_refunded,
        "billing_details": {
            "address": { "city": null, "country": null, "line1": null, "line2": null, "postal_code": null, "state": null },
            "email": i.receipt_email,
            "name": null,
            "phone": null
        },
        "captured": true,
        "created": c.created,
        "currency": i.public.currency,
        "description": i.description,
        "disputed": c.disputed,
        "livemode": false,
        "metadata": i.public.metadata,
        "paid": true,
        "payment_intent": i.public.id,
        "receipt_email": i.receipt_email,
        "refunded": c.amount_refunded >= i.amount_received,
        "refunds": { "object": "list", "data": refunds, "has_more": false, "url": format!("/v1/charges/{}/refunds", c.id) },
        "status": "succeeded",
    }))
}

type Answer = (u16, Value);

fn error(status: u16, kind: &str, code: Option<&str>, message: impl Into<String>, param: Option<&str>) -> Answer {
    let mut e = json!({ "type": kind, "message": message.into() });
    if let Some(code) = code {
        e["code"] = json!(code);
        e["doc_url"] = json!(format!("https://stripe.com/docs/error-codes/{}", code.replace('_', "-")));
    }
    if let Some(param) = param {
        e["param"] = json!(param);
    }
    (status, json!({ "error": e }))
}

/// The error Stripe gives for a status, for `fail_next`.
fn injected(status: u16) -> Answer {
    match status {
        402 => {
            let (s, mut body) = error(402, "card_error", Some("card_declined"), "Your card was declined.", None);
            body["error"]["decline_code"] = json!("generic_decline");
            (s, body)
        }
        401 => error(401, "invalid_request_error", None, "Invalid API Key provided: sk_test_****", None),
        404 => error(404, "invalid_request_error", Some("resource_missing"), "No such object", None),
        409 => {
            error(409, "invalid_request_error", Some("lock_timeout"), "This object cannot be accessed right now.", None)
        }
        429 => error(
            429,
            "invalid_request_error",
            Some("rate_limit"),
            "Too many requests made to the API too quickly",
            None,
        ),
        s if s >= 500 => error(s, "api_error", None, "An unknown error occurred", None),
        s => error(s, "invalid_request_error", Some("parameter_invalid"), "Invalid request", None),
    }
}

fn missing(param: &str) -> Answer {
    error(
        400,
        "invalid_request_error",
        Some("parameter_missing"),
        format!("Missing required param: {param}."),
        Some(param),
    )
}

fn no_such(kind: &str, id: &str, param: &str) -> Answer {
    error(404, "invalid_request_error", Some("resource_missing"), format!("No such {kind}: '{id}'"), Some(param))
}

fn metadata_of(form: &[(String, String)]) -> BTreeMap<String, String> {
    form.iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("metadata[")?.strip_suffix(']')?;
            Some((key.to_string(), v.clone()))
        })
        .collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn parse_amount(form: &[(String, String)], required: bool) -> Result<Option<i64>, Answer> {
    match field(form, "amount") {
        None if required => Err(missing("amount")),
        None => Ok(None),
        Some(v) => match v.parse::<i64>() {
            Ok(a) if a >= 1 => Ok(Some(a)),
            _ => Err(error(
                400,
                "invalid_request_error",
                Some("parameter_invalid_integer"),
                "This value must be greater than or equal to 1.",
                Some("amount"),
            )),
        },
    }
}

async fn handle(
    State(state): State<Arc<Mutex<FakeState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = browser::intercept(&state, &method, &uri, &headers, &body) {
        return r;
    }
    let mut s = state.lock().unwrap_or_else(PoisonError::into_inner);
    let raw = if method == Method::GET { uri.query().unwrap_or("").as_bytes().to_vec() } else { body.to_vec() };
    let form: Vec<(String, String)> =
        form_urlencoded::parse(&raw).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let idempotency_key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    let path = uri.path().to_string();
    s.requests.push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        idempotency_key: idempotency_key.clone(),
        form: form.clone(),
    });

    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|key| key.starts_with("sk_test_") || key.starts_with("rk_test_"));
    if !authorized {
        return respond(error(
            401,
            "invalid_request_error",
            None,
            "You did not provide a valid API key. Use an `Authorization: Bearer sk_test_...` header.",
            None,
        ));
    }
    if s.fail_next > 0 {
        s.fail_next -= 1;
        return respond(injected(s.fail_status));
    }

    // Stripe replays the stored answer for a key it has seen, and refuses the key for a
    // different request, so a retried create can never charge twice.
    let fingerprint = {
        let mut sorted = form.clone();
        sorted.sort();
        format!("{method} {path} {sorted:?}")
    };
    if method == Method::POST
        && let Some(key) = &idempotency_key
        && let Some(stored) = s.idempotent.get(key)
    {
        if stored.fingerprint != fingerprint {
            return respond(error(
                400,
                "idempotency_error",
                None,
                format!(
                    "Keys for idempotent requests can only be used with the same parameters they were first used with. \
                     Try using a key other than '{key}' if you meant to execute a different request."
                ),
                None,
            ));
        }
        let mut response = (status_code(stored.status), stored.body.clone()).into_response();
        response.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
        return response;
    }

    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (status, body) = match (method.as_str(), segments.as_slice()) {
        ("POST", ["v1", "payment_intents"]) => create_intent(&mut s, &form),
        ("GET", ["v1", "payment_intents", id]) => match s.intents.get(*id) {
            Some(i) => (200, intent_json(i)),
            None => no_such("payment_intent", id, "intent"),
        },
        ("POST", ["v1", "payment_intents", id, "cancel"]) => cancel_intent(&mut s, id, &form),
        ("POST", ["v1", "refunds"]) => create_refund(&mut s, &form),
        _ => error(
            404,
            "invalid_request_error",
            None,
            format!("Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs"),
            None,
        ),
    };
    if method == Method::POST
        && let Some(key) = idempotency_key
    {
        s.idempotent.insert(key, StoredAnswer { fingerprint, status, body: body.to_string() });
    }
    respond((status, body))
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn respond((status, body): Answer) -> Response {
    (status_code(status), axum::Json(body)).into_response()
}

fn create_intent(s: &mut FakeState, form: &[(String, String)]) -> Answer {
    let amount = match parse_amount(form, true) {
        Ok(Some(a)) => a,
        Ok(None) => return missing("amount"),
        Err(e) => return e,
    };
    let Some(currency) = field(form, "currency") else { return missing("currency") };
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
        return error(
            400,
            "invalid_request_error",
            Some("parameter_invalid"),
            format!("Invalid currency: {currency}. Stripe currently supports these currencies: usd, eur, ..."),
            Some("currency"),
        );
    }
    let id = s.new_id("pi");
    let client_secret = format!("{id}_secret_{}", s.tag);
    let record = IntentRecord {
        public: FakeIntent {
            id: id.clone(),
            amount,
            currency: currency.to_string(),
            status: "requires_payment_method".into(),
            metadata: metadata_of(form),
            latest_charge: None,
        },
        client_secret,
        created: now(),
        description: field(form, "description").map(str::to_string),
        receipt_email: field(form, "receipt_email").map(str::to_string),
        amount_received: 0,
        canceled_at: None,
        cancellation_reason: None,
        last_error: None,
        charge: None,
    };
    let body = intent_json(&record);
    s.intents.insert(id, record);
    (200, body)
}

fn cancel_intent(s: &mut FakeState, id: &str, form: &[(String, String)]) -> Answer {
    let Some(intent) = s.intents.get_mut(id) else { return no_such("payment_intent", id, "intent") };
    const CANCELABLE: &[&str] =
        &["requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing"];
    if !CANCELABLE.contains(&intent.public.status.as_str()) {
        let (status, mut body) = error(
            400,
            "invalid_request_error",
            Some("payment_intent_unexpected_state"),
            format!(
                "You cannot cancel this PaymentIntent because it has a status of {}. Only a PaymentIntent with one of \
                 the following statuses may be canceled: {}.",
                intent.public.status,
                CANCELABLE.join(", ")
            ),
            None,
        );
        body["error"]["payment_intent"] = intent_json(intent);
        return (status, body);
    }
    intent.public.status = "canceled".into();
    intent.canceled_at = Some(now());
    intent.cancellation_reason = field(form, "cancellation_reason").map(str::to_string);
    (200, intent_json(intent))
}

fn create_refund(s: &mut FakeState, form: &[(String, String)]) -> Answer {
    let amount = match parse_amount(form, false) {
        Ok(a) => a,
        Err(e) => return e,
    };
    if let Some(pi) = field(form, "payment_intent")
        && let Some(n) = s.refuse_refunds.get_mut(pi).filter(|n| **n > 0)
    {
        *n -= 1;
        return error(
            400,
            "invalid_request_error",
            Some("balance_insufficient"),
            "Your account has insufficient funds to cover this refund.",
            None,
        );
    }
    let refund_id = s.new_id("re");
    let intent = match (field(form, "payment_intent"), field(form, "charge")) {
        (Some(pi), _) => match s.intents.get_mut(pi) {
            Some(i) => i,
            None => return no_such("payment_intent", pi, "payment_intent"),
        },
        (None, Some(ch)) => match s.intent_by_charge(ch) {
            Some(i) => i,
            None => return no_such("charge", ch, "charge"),
        },
        (None, None) => {
            return error(
                400,
                "invalid_request_error",
                Some("parameter_missing"),
                "One of the following params should be provided for this request: payment_intent or charge.",
                None,
            );
        }
    };
    let received = intent.amount_received;
    let pi_id = intent.public.id.clone();
    let Some(charge) = intent.charge.as_mut() else {
        return error(
            400,
            "invalid_request_error",
            None,
            format!("This PaymentIntent ({pi_id}) does not have a successful charge to refund."),
            Some("payment_intent"),
        );
    };
    let left = received - charge.amount_refunded;
    if left <= 0 {
        return error(
            400,
            "invalid_request_error",
            Some("charge_already_refunded"),
            format!("Charge {} has already been refunded.", charge.id),
            None,
        );
    }
    let amount = amount.unwrap_or(left);
    if amount > left {
        return error(
            400,
            "invalid_request_error",
            Some("amount_too_large"),
            format!("Refund amount ({amount}) is greater than unrefunded amount on charge ({left})"),
            Some("amount"),
        );
    }
    charge.amount_refunded += amount;
    let refund = RefundRecord { id: refund_id, amount, created: now(), metadata: metadata_of(form) };
    let charge_id = charge.id.clone();
    let body = refund_json(&refund, &charge_id, intent);
    if let Some(charge) = intent.charge.as_mut() {
        charge.refunds.push(refund);
    }
    (200, body)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    // That async-stripe accepts these signatures is tested in the sync-server's gateway tests;
    // this only pins the header's shape.
    #[test]
    fn signature_header_shape() {
        let header = sign("{}", "whsec_x", 1_700_000_000);
        let hex = header.strip_prefix("t=1700000000,v1=").unwrap();
        assert_eq!(hex.len(), 64);
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(header, sign("{}", "whsec_x", 1_700_000_000));
        assert_ne!(header, sign("{}", "whsec_y", 1_700_000_000));
        assert_ne!(header, sign("{ }", "whsec_x", 1_700_000_000));
    }

    #[test]
    fn metadata_fields_are_collected() {
        let form = vec![
            ("amount".to_string(), "5".to_string()),
            ("metadata[booking_id]".to_string(), "b1".to_string()),
            ("metadata[organization_id]".to_string(), "o1".to_string()),
        ];
        let md = metadata_of(&form);
        assert_eq!(md.len(), 2);
        assert_eq!(md["booking_id"], "b1");
    }
}

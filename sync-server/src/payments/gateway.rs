//! The Stripe gateway: PaymentIntents, cancellations and refunds through async-stripe 1.0, and
//! webhook events verified with async-stripe's signature check.
//!
//! Amounts: Tourdesk stores ISO 4217 minor units; Stripe mostly does too, with two exceptions
//! handled here (see [`to_stripe_amount`]): ISK, which Stripe still takes with two (zero) decimals,
//! and the three-decimal currencies, which Stripe accepts only in multiples of ten. Amounts in
//! [`EventKind`] are converted back, so callers only ever see Tourdesk minor units.
//!
//! Every call that changes something at Stripe carries the caller's idempotency key, so a call
//! retried after a [`PaymentError::Transient`] with the same key never charges or refunds twice.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use stripe::{IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::payment_intent::{CancelPaymentIntent, CreatePaymentIntent};
use stripe_core::refund::CreateRefund;
use stripe_webhook::Webhook;
use tourdesk_domain::money::{Currency, Money};

use crate::config::StripeConfig;

/// A customer waits on `create_payment_intent`; past this the answer is "try again", which the
/// idempotency key makes safe.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct StripeGateway {
    client: stripe::Client,
    /// Newest first; more than one while a signing secret is being rolled.
    webhook_secrets: Arc<[String]>,
}

impl fmt::Debug for StripeGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeGateway").field("webhook_secrets", &self.webhook_secrets.len()).finish_non_exhaustive()
    }
}

pub struct IntentRequest<'a> {
    pub amount: Money,
    pub idempotency_key: &'a str,
    pub booking_id: &'a str,
    pub organization_id: &'a str,
    /// The booking reference the customer sees.
    pub reference: &'a str,
    pub receipt_email: Option<&'a str>,
    pub description: &'a str,
    /// Our payment row, when the booking has more than one (a balance paid later): the webhook
    /// settles the event on that row.
    pub payment_id: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub id: String,
    /// Handed to the browser to confirm the payment; not a credential for our account.
    pub client_secret: String,
    pub status: String,
}

pub struct RefundRequest<'a> {
    pub payment_intent_id: &'a str,
    pub amount: Money,
    pub idempotency_key: &'a str,
    pub refund_id: &'a str,
    pub organization_id: &'a str,
    pub booking_id: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundCreated {
    pub id: String,
    /// `succeeded`, `pending` (some payment methods), `requires_action`, `failed`, `canceled`.
    pub status: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// Network failure, timeout, Stripe 5xx, 409 (a concurrent request with the same key) or 429,
    /// or an answer that could not be read. Retry later with the same idempotency key.
    #[error("payment service unavailable: {0}")]
    Transient(String),
    /// Stripe refused the request (declined card, invalid parameters, nothing left to refund,
    /// reused idempotency key) or we refused it before sending (an amount Stripe cannot take).
    /// `code` is Stripe's error code (`card_declined`, `amount_too_large`, …) or, when Stripe
    /// gives none, its error type (`idempotency_error`). Do not retry as is.
    #[error("payment refused: {message}")]
    Refused { code: Option<String>, message: String },
    /// The gateway is misconfigured (missing or rejected API key, bad API base URL).
    #[error("payment configuration: {0}")]
    Config(String),
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The signature does not match any configured secret (tampered payload, wrong secret,
    /// header without a `v1=` signature). Answer 400; Stripe retries, an attacker gets nothing.
    #[error("webhook signature does not verify: {0}")]
    BadSignature(String),
    /// Correctly signed, but the timestamp is more than 5 minutes from now (a replay, or a clock
    /// far off).
    #[error("webhook signature timestamp is outside the 5-minute tolerance")]
    Stale,
    /// The header is missing or unreadable, or a verified payload lacks what its type needs.
    #[error("malformed webhook: {0}")]
    Malformed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    /// `evt_…`: the key for deduplicating deliveries (Stripe delivers at least once).
    pub id: String,
    pub event_type: String,
    pub created: DateTime<Utc>,
    pub livemode: bool,
    /// The verified event exactly as received, to store.
    pub payload: Value,
    pub kind: EventKind,
}

/// The events Tourdesk acts on. Amounts are in Tourdesk minor units of `currency` (uppercase
/// ISO 4217), which differ from Stripe's only for ISK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    PaymentSucceeded {
        intent_id: String,
        amount_received: i64,
        currency: String,
        latest_charge: Option<String>,
        metadata: HashMap<String, String>,
    },
    PaymentFailed {
        intent_id: String,
        message: Option<String>,
        metadata: HashMap<String, String>,
    },
    ChargeRefunded {
        charge_id: String,
        intent_id: Option<String>,
        /// Cumulative over all refunds of the charge.
        amount_refunded: i64,
        /// What the charge captured (a refund reported before the payment's success still says
        /// how much was paid).
        amount_captured: Option<i64>,
        currency: String,
        /// The charge's refunds, as far as the event carries them. Stripe leaves this list out of
        /// events since API version 2022-11-15 unless expanded; `amount_refunded` is always there.
        refunds: Vec<RefundSeen>,
    },
    DisputeCreated {
        dispute_id: String,
        charge_id: String,
        intent_id: Option<String>,
        amount: i64,
        currency: String,
        status: String,
        reason: String,
    },
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundSeen {
    pub id: String,
    pub amount: i64,
    pub status: String,
    pub metadata: HashMap<String, String>,
}

impl StripeGateway {
    pub fn new(cfg: &StripeConfig) -> Result<Self, PaymentError> {
        let key = cfg.secret_key.trim();
        if key.is_empty() {
            return Err(PaymentError::Config("the Stripe secret key is empty".into()));
        }
        let webhook_secrets: Arc<[String]> =
            cfg.webhook_secret.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
        if webhook_secrets.is_empty() {
            return Err(PaymentError::Config("the Stripe webhook secret is empty".into()));
        }
        let mut builder = stripe::ClientBuilder::new(key).timeout(REQUEST_TIMEOUT).app_info(
            "tourdesk",
            Some(env!("CARGO_PKG_VERSION").to_string()),
            None,
        );
        if let Some(base) = cfg.api_base.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
            if !(base.starts_with("http://") || base.starts_with("https://")) {
                return Err(PaymentError::Config(format!("Stripe API base {base:?} is not an http(s) URL")));
            }
            // async-stripe appends "v1/…" to the base as a string: without the slash the path
            // would be "…:8080v1/payment_intents".
            let base = if base.ends_with('/') { base.to_string() } else { format!("{base}/") };
            builder = builder.url(base);
        }
        let client = builder.build().map_err(|e| PaymentError::Config(e.to_string()))?;
        Ok(StripeGateway { client, webhook_secrets })
    }

    pub async fn create_payment_intent(&self, req: &IntentRequest<'_>) -> Result<Intent, PaymentError> {
        if req.amount.amount <= 0 {
            return Err(refused_locally("amount_invalid", format!("cannot charge {}", req.amount.display())));
        }
        let (amount, currency) = to_stripe_amount(req.amount)?;
        let mut metadata = HashMap::from([
            ("organization_id".to_string(), req.organization_id.to_string()),
            ("booking_id".to_string(), req.booking_id.to_string()),
            ("reference".to_string(), req.reference.to_string()),
        ]);
        if let Some(id) = req.payment_id {
            metadata.insert("payment_id".to_string(), id.to_string());
        }
        let mut create = CreatePaymentIntent::new(amount, currency).metadata(metadata).description(req.description);
        if let Some(email) = req.receipt_email {
            create = create.receipt_email(email);
        }
        let intent = create
            .customize()
            .request_strategy(idempotent(req.idempotency_key)?)
            .send(&self.client)
            .await
            .map_err(map_stripe_error)?;
        let client_secret = intent.client_secret.ok_or_else(|| {
            PaymentError::Transient(format!("Stripe returned PaymentIntent {} without a client_secret", intent.id))
        })?;
        Ok(Intent { id: intent.id.to_string(), client_secret, status: intent.status.as_str().to_string() })
    }

    /// Cancels an intent that has not been paid. An intent that is already canceled counts as
    /// done, so a cancellation retried after a lost answer succeeds.
    pub async fn cancel_payment_intent(&self, intent_id: &str, idempotency_key: &str) -> Result<(), PaymentError> {
        let result = CancelPaymentIntent::new(intent_id)
            .customize()
            .request_strategy(idempotent(idempotency_key)?)
            .send(&self.client)
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(StripeError::Stripe(e, _))
                if e.payment_intent.as_ref().is_some_and(|pi| pi.status.as_str() == "canceled") =>
            {
                Ok(())
            }
            Err(e) => Err(map_stripe_error(e)),
        }
    }

    pub async fn refund(&self, req: &RefundRequest<'_>) -> Result<RefundCreated, PaymentError> {
        if req.amount.amount <= 0 {
            return Err(refused_locally("amount_invalid", format!("cannot refund {}", req.amount.display())));
        }
        let (amount, _) = to_stripe_amount(req.amount)?;
        let metadata = HashMap::from([
            ("organization_id".to_string(), req.organization_id.to_string()),
            ("booking_id".to_string(), req.booking_id.to_string()),
            ("refund_id".to_string(), req.refund_id.to_string()),
        ]);
        let refund = CreateRefund::new()
            .payment_intent(req.payment_intent_id)
            .amount(amount)
            .metadata(metadata)
            .customize()
            .request_strategy(idempotent(req.idempotency_key)?)
            .send(&self.client)
            .await
            .map_err(map_stripe_error)?;
        // Stripe always sets a refund's status; "pending" is the honest reading of a missing one.
        Ok(RefundCreated { id: refund.id.to_string(), status: refund.status.unwrap_or_else(|| "pending".into()) })
    }

    /// Verifies the Stripe-Signature header (HMAC-SHA256, 5-minute tolerance) and parses the event.
    ///
    /// The check is async-stripe's `Webhook::construct_event`, tried with each configured secret.
    /// That function verifies first and builds its typed event second; when only the typed build
    /// fails (`BadParse`, e.g. a field Stripe added or reshaped), the payload is authentic, and the
    /// fields Tourdesk needs are read from it directly rather than rejecting a real payment event
    /// that Stripe would then redeliver for days.
    pub fn verify_event(&self, payload: &str, signature_header: &str) -> Result<WebhookEvent, WebhookError> {
        if signature_header.trim().is_empty() {
            return Err(WebhookError::Malformed("no Stripe-Signature header".into()));
        }
        let mut verified = false;
        for secret in self.webhook_secrets.iter() {
            match Webhook::construct_event(payload, signature_header, secret) {
                Ok(_) => {}
                Err(stripe_webhook::WebhookError::BadParse(why)) => {
                    tracing::warn!(
                        "verified Stripe event does not fit async-stripe's model ({why}); reading it as JSON"
                    );
                }
                Err(stripe_webhook::WebhookError::BadSignature | stripe_webhook::WebhookError::BadKey) => continue,
                // Only reached once the signature matched this secret.
                Err(stripe_webhook::WebhookError::BadTimestamp(_)) => return Err(WebhookError::Stale),
                Err(stripe_webhook::WebhookError::BadHeader(e)) => {
                    return Err(WebhookError::Malformed(format!("Stripe-Signature timestamp: {e}")));
                }
            }
            verified = true;
            break;
        }
        if !verified {
            return Err(WebhookError::BadSignature(format!(
                "no v1 signature matches the {} configured secret(s)",
                self.webhook_secrets.len()
            )));
        }
        parse_event(payload)
    }
}

fn idempotent(key: &str) -> Result<RequestStrategy, PaymentError> {
    IdempotencyKey::new(key)
        .map(RequestStrategy::Idempotent)
        .map_err(|e| refused_locally("idempotency_key_invalid", e.to_string()))
}

fn refused_locally(code: &str, message: String) -> PaymentError {
    PaymentError::Refused { code: Some(code.to_string()), message }
}

fn map_stripe_error(e: StripeError) -> PaymentError {
    match e {
        StripeError::Stripe(api, status) => {
            let message = api.message.clone().unwrap_or_else(|| format!("Stripe answered {status}"));
            match status {
                409 | 429 | 500.. => PaymentError::Transient(format!("Stripe {status}: {message}")),
                // A key Stripe does not accept is for operators to fix, not a payment refusal.
                401 | 403 => PaymentError::Config(format!("Stripe refused the API key ({status}): {message}")),
                _ => PaymentError::Refused {
                    code: Some(api.code.as_ref().map_or(api.type_.as_str(), |c| c.as_str()).to_string()),
                    message,
                },
            }
        }
        // An answer we cannot read may still mean Stripe acted; a retry with the same idempotency
        // key returns that stored answer, so "retry" is the safe reading.
        StripeError::JSONDeserialize(m) => PaymentError::Transient(format!("unreadable answer from Stripe: {m}")),
        StripeError::ClientError(m) => PaymentError::Transient(format!("cannot reach Stripe: {m}")),
        StripeError::Timeout => PaymentError::Transient("Stripe did not answer in time".into()),
        StripeError::ConfigError(m) => PaymentError::Config(m),
    }
}

/// Stripe's amount and currency for a Tourdesk amount.
///
/// Stripe's rules (docs.stripe.com/currencies): amounts are in the currency's minor unit, like
/// ours, except ISK (ISO exponent 0, but Stripe still expects two decimals, so ×100) and the
/// three-decimal currencies (BHD, JOD, KWD, OMR, TND), which Stripe takes in thousandths but only
/// in multiples of ten. Rounding a price someone agreed to would charge a different amount, so such
/// an amount is refused; prices in those currencies must be set to whole hundredths.
pub fn to_stripe_amount(money: Money) -> Result<(i64, stripe_types::Currency), PaymentError> {
    let code = money.currency.as_str().to_ascii_lowercase();
    let currency: stripe_types::Currency = code.parse().unwrap_or_else(|never| match never {});
    let amount = match money.currency.as_str() {
        "ISK" => money.amount.checked_mul(100).ok_or_else(|| {
            refused_locally("amount_too_large", format!("{} is too large for Stripe", money.display()))
        })?,
        _ if money.currency.exponent() == 3 && money.amount % 10 != 0 => {
            return Err(refused_locally(
                "amount_not_representable",
                format!(
                    "Stripe accepts {} amounts only in whole hundredths (the last of three decimals must be 0); \
                     {} would have to be rounded",
                    money.currency,
                    money.display()
                ),
            ));
        }
        _ => money.amount,
    };
    Ok((amount, currency))
}

/// The inverse of [`to_stripe_amount`] for amounts Stripe reports. Currencies Tourdesk does not
/// know are passed through in Stripe's units.
pub fn from_stripe_amount(amount: i64, currency: &str) -> i64 {
    match Currency::parse(currency).map(|c| c.as_str() == "ISK") {
        Ok(true) => amount / 100,
        _ => amount,
    }
}

/// Replaces every NUL in the event's strings and keys with U+FFFD. JSON may carry `\u0000` (in a
/// customer's billing name, a decline message), PostgreSQL's text and JSONB may not: kept as is,
/// a well-signed event would fail to store on every delivery. Stripe's ids never hold one.
fn without_nul(v: &mut Value) {
    match v {
        Value::String(s) if s.contains('\0') => *s = s.replace('\0', "\u{FFFD}"),
        Value::Array(items) => items.iter_mut().for_each(without_nul),
        Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                *map = std::mem::take(map).into_iter().map(|(k, v)| (k.replace('\0', "\u{FFFD}"), v)).collect();
            }
            map.values_mut().for_each(without_nul);
        }
        _ => {}
    }
}

fn parse_event(payload: &str) -> Result<WebhookEvent, WebhookError> {
    let mut event: Value =
        serde_json::from_str(payload).map_err(|e| WebhookError::Malformed(format!("not JSON: {e}")))?;
    without_nul(&mut event);
    let id = req_str(&event, "id")?;
    let event_type = req_str(&event, "type")?;
    let created_secs = event.get("created").and_then(Value::as_i64).ok_or_else(|| missing("created"))?;
    let created = DateTime::<Utc>::from_timestamp(created_secs, 0)
        .ok_or_else(|| WebhookError::Malformed(format!("created {created_secs} is not a time")))?;
    let livemode = event.get("livemode").and_then(Value::as_bool).unwrap_or(false);
    let obj = event.pointer("/data/object").ok_or_else(|| missing("data.object"))?;
    let field = |name: &str| format!("data.object.{name}");
    let obj_str =
        |name: &str| obj.get(name).and_then(Value::as_str).map(str::to_string).ok_or_else(|| missing(&field(name)));
    let obj_i64 = |name: &str| obj.get(name).and_then(Value::as_i64).ok_or_else(|| missing(&field(name)));
    let currency = || obj_str("currency").map(|c| c.to_ascii_uppercase());

    let kind = match event_type.as_str() {
        "payment_intent.succeeded" => {
            let currency = currency()?;
            EventKind::PaymentSucceeded {
                intent_id: obj_str("id")?,
                amount_received: from_stripe_amount(obj_i64("amount_received")?, &currency),
                currency,
                latest_charge: id_of(obj.get("latest_charge")),
                metadata: metadata(obj.get("metadata")),
            }
        }
        "payment_intent.payment_failed" => EventKind::PaymentFailed {
            intent_id: obj_str("id")?,
            message: obj.pointer("/last_payment_error/message").and_then(Value::as_str).map(str::to_string),
            metadata: metadata(obj.get("metadata")),
        },
        "charge.refunded" => {
            let currency = currency()?;
            let refunds = obj
                .pointer("/refunds/data")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(|r| {
                            Some(RefundSeen {
                                id: r.get("id")?.as_str()?.to_string(),
                                amount: from_stripe_amount(r.get("amount")?.as_i64()?, &currency),
                                status: r.get("status").and_then(Value::as_str).unwrap_or("pending").to_string(),
                                metadata: metadata(r.get("metadata")),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            EventKind::ChargeRefunded {
                charge_id: obj_str("id")?,
                intent_id: id_of(obj.get("payment_intent")),
                amount_refunded: from_stripe_amount(obj_i64("amount_refunded")?, &currency),
                amount_captured: obj
                    .get("amount_captured")
                    .and_then(Value::as_i64)
                    .map(|a| from_stripe_amount(a, &currency)),
                currency,
                refunds,
            }
        }
        "charge.dispute.created" => {
            let currency = currency()?;
            EventKind::DisputeCreated {
                dispute_id: obj_str("id")?,
                charge_id: id_of(obj.get("charge")).ok_or_else(|| missing(&field("charge")))?,
                intent_id: id_of(obj.get("payment_intent")),
                amount: from_stripe_amount(obj_i64("amount")?, &currency),
                currency,
                status: obj_str("status")?,
                reason: obj_str("reason")?,
            }
        }
        _ => EventKind::Other,
    };
    Ok(WebhookEvent { id, event_type, created, livemode, payload: event, kind })
}

fn missing(what: &str) -> WebhookError {
    WebhookError::Malformed(format!("event without {what}"))
}

fn req_str(v: &Value, name: &str) -> Result<String, WebhookError> {
    v.get(name).and_then(Value::as_str).map(str::to_string).ok_or_else(|| missing(name))
}

/// An id field that Stripe sends either as the id or, when expanded, as the object.
fn id_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(id) => Some(id.clone()),
        Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

fn metadata(v: Option<&Value>) -> HashMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tourdesk_testkit::stripe::{FakeStripe, sign};

    const SECRET: &str = "whsec_test_current";

    fn gateway(fake: &FakeStripe, webhook_secret: &str) -> StripeGateway {
        StripeGateway::new(&StripeConfig {
            secret_key: "sk_test_unit".into(),
            webhook_secret: webhook_secret.into(),
            api_base: Some(fake.uri()),
            publishable_key: "pk_test_unit".into(),
            ..StripeConfig::default()
        })
        .unwrap()
    }

    fn signed(payload: &str, secret: &str) -> String {
        sign(payload, secret, Utc::now().timestamp())
    }

    async fn paid_intent(fake: &FakeStripe, gw: &StripeGateway, amount: Money) -> String {
        let intent = gw
            .create_payment_intent(&IntentRequest {
                amount,
                idempotency_key: "unit-create",
                booking_id: "bk_1",
                organization_id: "org_1",
                reference: "TD-0001",
                receipt_email: None,
                description: "unit",
                payment_id: None,
            })
            .await
            .unwrap();
        fake.succeed(&intent.id);
        intent.id
    }

    /// The fake's events must also satisfy async-stripe's strict typed model, or the fallback
    /// path would hide a fake that drifted from Stripe's shapes.
    fn assert_typed_parse(payload: &str) -> stripe_webhook::EventObject {
        Webhook::construct_event(payload, &signed(payload, SECRET), SECRET)
            .unwrap_or_else(|e| panic!("async-stripe rejects the fake's event: {e}\n{payload}"))
            .data
            .object
    }

    #[tokio::test]
    async fn each_event_kind_parses() {
        let fake = FakeStripe::start().await;
        let gw = gateway(&fake, SECRET);
        let pi = paid_intent(&fake, &gw, Money::new(12_500, Currency::USD)).await;
        let intent = fake.intent(&pi).unwrap();
        let charge = intent.latest_charge.clone().unwrap();

        let payload = fake.succeed(&pi);
        assert!(matches!(assert_typed_parse(&payload), stripe_webhook::EventObject::PaymentIntentSucceeded(_)));
        let ev = gw.verify_event(&payload, &signed(&payload, SECRET)).unwrap();
        assert!(ev.id.starts_with("evt_"));
        assert_eq!(ev.event_type, "payment_intent.succeeded");
        assert!(!ev.livemode);
        assert!((Utc::now() - ev.created).num_seconds().abs() < 60);
        assert_eq!(ev.payload["id"], ev.id.as_str());
        match ev.kind {
            EventKind::PaymentSucceeded { intent_id, amount_received, currency, latest_charge, metadata } => {
                assert_eq!(intent_id, pi);
                assert_eq!(amount_received, 12_500);
                assert_eq!(currency, "USD");
                assert_eq!(latest_charge.as_deref(), Some(charge.as_str()));
                assert_eq!(metadata["booking_id"], "bk_1");
                assert_eq!(metadata["organization_id"], "org_1");
                assert_eq!(metadata["reference"], "TD-0001");
            }
            other => panic!("{other:?}"),
        }

        for (amount, key) in [(2_500, "r1"), (1_000, "r2")] {
            gw.refund(&RefundRequest {
                payment_intent_id: &pi,
                amount: Money::new(amount, Currency::USD),
                idempotency_key: key,
                refund_id: key,
                organization_id: "org_1",
                booking_id: "bk_1",
            })
            .await
            .unwrap();
        }
        let payload = fake.refund_event(&pi);
        assert!(matches!(assert_typed_parse(&payload), stripe_webhook::EventObject::ChargeRefunded(_)));
        match gw.verify_event(&payload, &signed(&payload, SECRET)).unwrap().kind {
            EventKind::ChargeRefunded { charge_id, intent_id, amount_refunded, amount_captured, currency, refunds } => {
                assert_eq!(charge_id, charge);
                assert_eq!(intent_id.as_deref(), Some(pi.as_str()));
                assert_eq!(amount_refunded, 3_500, "cumulative");
                assert_eq!(amount_captured, Some(12_500));
                assert_eq!(currency, "USD");
                let mut seen: Vec<_> = refunds.iter().map(|r| (r.metadata["refund_id"].as_str(), r.amount)).collect();
                seen.sort();
                assert_eq!(seen, [("r1", 2_500), ("r2", 1_000)]);
                assert!(refunds.iter().all(|r| r.status == "succeeded" && r.id.starts_with("re_")));
            }
            other => panic!("{other:?}"),
        }

        let payload = fake.dispute(&pi);
        assert!(matches!(assert_typed_parse(&payload), stripe_webhook::EventObject::ChargeDisputeCreated(_)));
        match gw.verify_event(&payload, &signed(&payload, SECRET)).unwrap().kind {
            EventKind::DisputeCreated { dispute_id, charge_id, intent_id, amount, currency, status, reason } => {
                assert!(dispute_id.starts_with("dp_"));
                assert_eq!(charge_id, charge);
                assert_eq!(intent_id.as_deref(), Some(pi.as_str()));
                assert_eq!(amount, 9_000, "what is left after the refunds");
                assert_eq!(currency, "USD");
                assert_eq!(status, "needs_response");
                assert_eq!(reason, "fraudulent");
            }
            other => panic!("{other:?}"),
        }

        let payload = fake.fail(&pi, "Your card was declined.");
        assert!(matches!(assert_typed_parse(&payload), stripe_webhook::EventObject::PaymentIntentPaymentFailed(_)));
        match gw.verify_event(&payload, &signed(&payload, SECRET)).unwrap().kind {
            EventKind::PaymentFailed { intent_id, message, metadata } => {
                assert_eq!(intent_id, pi);
                assert_eq!(message.as_deref(), Some("Your card was declined."));
                assert_eq!(metadata["reference"], "TD-0001");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn nul_bytes_in_a_verified_event_never_reach_postgres() {
        let payload = r#"{"id":"evt_nul","type":"payment_intent.payment_failed","created":1800000000,
            "livemode":false,"data":{"object":{"id":"pi_nul","object":"payment_intent",
            "metadata":{"booking_id":"b\u0000","k\u0000":"v"},
            "last_payment_error":{"message":"Declined\u0000 by the bank"}}}}"#;
        let e = parse_event(payload).unwrap();
        assert!(!e.payload.to_string().contains("\\u0000"), "{}", e.payload);
        assert_eq!(e.payload.pointer("/data/object/metadata/k\u{FFFD}"), Some(&Value::from("v")));
        match e.kind {
            EventKind::PaymentFailed { message, metadata, .. } => {
                assert_eq!(message.as_deref(), Some("Declined\u{FFFD} by the bank"));
                assert_eq!(metadata["booking_id"], "b\u{FFFD}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn isk_amounts_come_back_in_tourdesk_units() {
        let fake = FakeStripe::start().await;
        let gw = gateway(&fake, SECRET);
        let isk = Currency::parse("ISK").unwrap();
        let pi = paid_intent(&fake, &gw, Money::new(5_000, isk)).await;
        assert_eq!(fake.intent(&pi).unwrap().amount, 500_000, "Stripe takes ISK with two decimals");
        let payload = fake.succeed(&pi);
        match gw.verify_event(&payload, &signed(&payload, SECRET)).unwrap().kind {
            EventKind::PaymentSucceeded { amount_received, currency, .. } => {
                assert_eq!((amount_received, currency.as_str()), (5_000, "ISK"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_types_are_other_and_rotated_secrets_verify() {
        let payload = r#"{"id":"evt_1","object":"event","api_version":"2026-09-30.endive","created":1700000000,
            "data":{"object":{"object":"balance","available":[],"livemode":false,"pending":[]}},
            "livemode":false,"pending_webhooks":1,"request":null,"type":"balance.available"}"#;
        let gw = StripeGateway::new(&StripeConfig {
            webhook_secret: "whsec_new, whsec_old".into(),
            ..StripeConfig::default()
        })
        .unwrap();
        for secret in ["whsec_new", "whsec_old"] {
            let header = sign(payload, secret, Utc::now().timestamp());
            let ev = gw.verify_event(payload, &header).unwrap();
            assert_eq!(ev.kind, EventKind::Other);
            assert_eq!(ev.created.timestamp(), 1_700_000_000);
        }
        let header = sign(payload, "whsec_retired", Utc::now().timestamp());
        assert!(matches!(gw.verify_event(payload, &header), Err(WebhookError::BadSignature(_))));
    }

    /// Correctly signed JSON that async-stripe's typed model rejects is still read: the
    /// signature was checked before the model.
    #[test]
    fn verified_event_outside_the_typed_model_is_read_from_json() {
        let payload = r#"{"id":"evt_2","object":"event","created":1700000000,"livemode":true,"type":"charge.refunded",
            "pending_webhooks":1,"data":{"object":{"id":"ch_1","object":"charge","amount_refunded":700,
            "currency":"jpy","payment_intent":{"id":"pi_1","object":"payment_intent"}}}}"#;
        let header = signed(payload, SECRET);
        assert!(matches!(
            Webhook::construct_event(payload, &header, SECRET),
            Err(stripe_webhook::WebhookError::BadParse(_))
        ));
        let gw =
            StripeGateway::new(&StripeConfig { webhook_secret: SECRET.into(), ..StripeConfig::default() }).unwrap();
        let ev = gw.verify_event(payload, &header).unwrap();
        assert!(ev.livemode);
        assert_eq!(
            ev.kind,
            EventKind::ChargeRefunded {
                charge_id: "ch_1".into(),
                intent_id: Some("pi_1".into()),
                amount_refunded: 700,
                amount_captured: None,
                currency: "JPY".into(),
                refunds: vec![],
            }
        );
        // The same fallback never lets an unsigned or wrongly signed payload through.
        assert!(matches!(
            gw.verify_event(payload, &signed(payload, "whsec_other")),
            Err(WebhookError::BadSignature(_))
        ));
    }

    #[tokio::test]
    async fn bad_signatures_stale_and_malformed() {
        let fake = FakeStripe::start().await;
        let gw = gateway(&fake, SECRET);
        let pi = paid_intent(&fake, &gw, Money::new(1_000, Currency::EUR)).await;
        let payload = fake.succeed(&pi);
        let now = Utc::now().timestamp();

        let tampered = payload.replace("\"amount_received\":1000", "\"amount_received\":1");
        assert_ne!(tampered, payload);
        let header = sign(&payload, SECRET, now);
        assert!(matches!(gw.verify_event(&tampered, &header), Err(WebhookError::BadSignature(_))));
        assert!(matches!(
            gw.verify_event(&payload, &sign(&payload, "whsec_wrong", now)),
            Err(WebhookError::BadSignature(_))
        ));

        assert!(matches!(gw.verify_event(&payload, ""), Err(WebhookError::Malformed(_))));
        assert!(matches!(gw.verify_event(&payload, "  "), Err(WebhookError::Malformed(_))));
        assert!(matches!(gw.verify_event(&payload, "garbage"), Err(WebhookError::BadSignature(_))));
        assert!(matches!(gw.verify_event(&payload, &format!("t={now}")), Err(WebhookError::BadSignature(_))));
        let v1 = header.split_once(",v1=").unwrap().1;
        assert!(matches!(gw.verify_event(&payload, &format!("t=soon,v1={v1}")), Err(WebhookError::Malformed(_))));

        // Signed correctly ten minutes ago: async-stripe reports BadTimestamp, mapped to Stale.
        let old = sign(&payload, SECRET, now - 600);
        assert!(matches!(gw.verify_event(&payload, &old), Err(WebhookError::Stale)));
        // Inside the tolerance is fine.
        assert!(gw.verify_event(&payload, &sign(&payload, SECRET, now - 240)).is_ok());

        // Authentic but not JSON (Stripe would never send it; the typed parse fails first).
        let junk = "not json";
        assert!(matches!(gw.verify_event(junk, &signed(junk, SECRET)), Err(WebhookError::Malformed(_))));
        // Authentic JSON missing what its type needs.
        let thin =
            r#"{"id":"evt_3","created":1700000000,"type":"payment_intent.succeeded","data":{"object":{"id":"pi_1"}}}"#;
        assert!(matches!(gw.verify_event(thin, &signed(thin, SECRET)), Err(WebhookError::Malformed(_))));
    }

    #[test]
    fn amounts_follow_stripe_currency_rules() {
        let amount = |m: Money| to_stripe_amount(m).map(|(a, c)| (a, c.to_string()));
        assert_eq!(amount(Money::new(1_250, Currency::USD)).unwrap(), (1_250, "usd".into()));
        assert_eq!(
            amount(Money::new(1_500, Currency::JPY)).unwrap(),
            (1_500, "jpy".into()),
            "zero-decimal, not scaled"
        );
        assert_eq!(amount(Money::new(1_500, Currency::parse("ISK").unwrap())).unwrap(), (150_000, "isk".into()));
        assert_eq!(amount(Money::new(5_120, Currency::KWD)).unwrap(), (5_120, "kwd".into()));
        match amount(Money::new(5_124, Currency::KWD)) {
            Err(PaymentError::Refused { code, message }) => {
                assert_eq!(code.as_deref(), Some("amount_not_representable"));
                assert!(message.contains("KWD 5.124"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(from_stripe_amount(150_000, "isk"), 1_500);
        assert_eq!(from_stripe_amount(1_500, "JPY"), 1_500);
        assert_eq!(from_stripe_amount(77, "xyz"), 77);
    }

    #[test]
    fn configuration_is_checked() {
        let cfg = StripeConfig::default();
        assert!(matches!(
            StripeGateway::new(&StripeConfig { secret_key: " ".into(), ..cfg.clone() }),
            Err(PaymentError::Config(_))
        ));
        assert!(matches!(
            StripeGateway::new(&StripeConfig { webhook_secret: ",".into(), ..cfg.clone() }),
            Err(PaymentError::Config(_))
        ));
        assert!(matches!(
            StripeGateway::new(&StripeConfig { api_base: Some("127.0.0.1:1".into()), ..cfg.clone() }),
            Err(PaymentError::Config(_))
        ));
        let dbg = format!("{:?}", StripeGateway::new(&cfg).unwrap());
        assert!(!dbg.contains("tourdesk_dev"), "{dbg}");
    }
}

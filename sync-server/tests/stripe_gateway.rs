//! The Stripe gateway against the fake Stripe over real HTTP: what reaches Stripe (amounts,
//! currencies, metadata, idempotency keys) and how each kind of failure comes back.
#![allow(clippy::unwrap_used)]

use tourdesk_domain::money::{Currency, Money};
use tourdesk_sync_server::config::StripeConfig;
use tourdesk_sync_server::payments::gateway::{IntentRequest, PaymentError, RefundRequest, StripeGateway};
use tourdesk_testkit::stripe::FakeStripe;

fn config(api_base: String) -> StripeConfig {
    StripeConfig {
        secret_key: "sk_test_gateway".into(),
        webhook_secret: "whsec_gateway".into(),
        api_base: Some(api_base),
        publishable_key: "pk_test_gateway".into(),
        ..StripeConfig::default()
    }
}

fn gateway(fake: &FakeStripe) -> StripeGateway {
    StripeGateway::new(&config(fake.uri())).unwrap()
}

fn intent_request(amount: Money, key: &str) -> IntentRequest<'_> {
    IntentRequest {
        amount,
        idempotency_key: key,
        booking_id: "bk_42",
        organization_id: "org_7",
        reference: "TD-4242",
        receipt_email: Some("guest@example.com"),
        description: "Sunset kayak tour, 2 adults",
        payment_id: None,
    }
}

fn refund_request<'a>(pi: &'a str, amount: Money, key: &'a str) -> RefundRequest<'a> {
    RefundRequest {
        payment_intent_id: pi,
        amount,
        idempotency_key: key,
        refund_id: key,
        organization_id: "org_7",
        booking_id: "bk_42",
    }
}

#[tokio::test]
async fn create_intent_sends_amount_currency_metadata_and_key() {
    let fake = FakeStripe::start().await;
    let gw = gateway(&fake);
    let intent =
        gw.create_payment_intent(&intent_request(Money::new(12_550, Currency::USD), "pay-bk_42-1")).await.unwrap();
    assert!(intent.id.starts_with("pi_"), "{intent:?}");
    assert!(intent.client_secret.starts_with(&format!("{}_secret_", intent.id)), "{intent:?}");
    assert_eq!(intent.status, "requires_payment_method");

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/v1/payment_intents"));
    assert_eq!(r.idempotency_key.as_deref(), Some("pay-bk_42-1"));
    assert_eq!(r.field("amount"), Some("12550"));
    assert_eq!(r.field("currency"), Some("usd"));
    assert_eq!(r.field("metadata[organization_id]"), Some("org_7"));
    assert_eq!(r.field("metadata[booking_id]"), Some("bk_42"));
    assert_eq!(r.field("metadata[reference]"), Some("TD-4242"));
    assert_eq!(r.field("receipt_email"), Some("guest@example.com"));
    assert_eq!(r.field("description"), Some("Sunset kayak tour, 2 adults"));

    let stored = fake.intent(&intent.id).unwrap();
    assert_eq!((stored.amount, stored.currency.as_str()), (12_550, "usd"));
    assert_eq!(stored.metadata["booking_id"], "bk_42");
}

#[tokio::test]
async fn same_idempotency_key_returns_the_same_intent() {
    let fake = FakeStripe::start().await;
    let gw = gateway(&fake);
    let req = intent_request(Money::new(9_900, Currency::EUR), "pay-bk_42-retry");
    let first = gw.create_payment_intent(&req).await.unwrap();
    let second = gw.create_payment_intent(&req).await.unwrap();
    assert_eq!(first, second);
    assert_eq!(fake.requests().len(), 2, "both calls reached Stripe");

    // The same key for a different payment is Stripe's idempotency_error, never a second intent.
    let other = intent_request(Money::new(1, Currency::EUR), "pay-bk_42-retry");
    match gw.create_payment_intent(&other).await {
        Err(PaymentError::Refused { code, message }) => {
            assert_eq!(code.as_deref(), Some("idempotency_error"));
            assert!(message.contains("same parameters"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn zero_decimal_amounts_are_not_scaled() {
    let fake = FakeStripe::start().await;
    let gw = gateway(&fake);
    let intent = gw.create_payment_intent(&intent_request(Money::new(15_000, Currency::JPY), "pay-jpy")).await.unwrap();
    let stored = fake.intent(&intent.id).unwrap();
    assert_eq!((stored.amount, stored.currency.as_str()), (15_000, "jpy"));
    assert_eq!(fake.requests()[0].field("amount"), Some("15000"));
}

#[tokio::test]
async fn three_decimal_amounts_stripe_cannot_take_are_refused_before_sending() {
    let fake = FakeStripe::start().await;
    let gw = gateway(&fake);
    let err = gw.create_payment_intent(&intent_request(Money::new(1_005, Currency::KWD), "pay-kwd")).await.unwrap_err();
    assert!(matches!(&err, PaymentError::Refused { code: Some(c), .. } if c == "amount_not_representable"), "{err:?}");
    assert!(fake.requests().is_empty());
    let ok = gw.create_payment_intent(&intent_request(Money::new(1_010, Currency::KWD), "pay-kwd-2")).await.unwrap();
    assert_eq!(fake.intent(&ok.id).unwrap().amount, 1_010);
}

#[tokio::test]
async fn cancel_is_sent_with_its_key_and_repeats_harmlessly() {
    let fake = FakeStripe::start().await;
    let gw = gateway(&fake);
    let intent = gw.create_payment_intent(&intent_request(Money::new(5_000, Currency::GBP), "pay-c")).await.unwrap();
    gw.cancel_payment_intent(&intent.id, "cancel-1").await.unwrap();
    assert_eq!(fake.intent(&intent.id).unwrap().status, "canceled");
    let last = fake.requests().pop().unwrap();
    assert_eq!(last.path, format!("/v1/payment_intents/{}/cancel", intent.id));
    assert_eq!(last.idempotency_key.as_deref(), Some("cancel-1"));

    // Stripe refuses to cancel a canceled intent; for us that is the wanted state.
    gw.cancel_payment_intent(&intent.id, "cancel-2").await.unwrap();

    // A paid intent cannot be canceled: that is a refusal, with Stripe's code.
    let paid = gw.create_payment_intent(&intent_request(Money::new(5_000, Currency::GBP), "pay-d")).await.unwrap();
    fake.succeed(&paid.id);
    match gw.cancel_payment_intent(&paid.id, "cancel-3").await {
        Err(PaymentError::Refused { code, .. }) => assert_eq!(code.as_deref(), Some("payment_intent_unexpected_state")),
        other => panic!("{other:?}"),
    }
    match gw.cancel_payment_intent("pi_doesnotexist", "cancel-4").await {
        Err(PaymentError::Refused { code, .. }) => assert_eq!(code.as_deref(), Some("resource_missing")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn refund_partially_then_the_rest_then_too_much() {
    let fake = FakeStripe::start().await;
    let gw = gateway(&fake);
    let eur = |a| Money::new(a, Currency::EUR);
    let intent = gw.create_payment_intent(&intent_request(eur(10_000), "pay-r")).await.unwrap();

    // Nothing paid yet: nothing to refund.
    assert!(matches!(
        gw.refund(&refund_request(&intent.id, eur(100), "rf-0")).await,
        Err(PaymentError::Refused { .. })
    ));

    fake.succeed(&intent.id);
    let first = gw.refund(&refund_request(&intent.id, eur(3_000), "rf-1")).await.unwrap();
    assert!(first.id.starts_with("re_"));
    assert_eq!(first.status, "succeeded");
    let sent = fake.requests().pop().unwrap();
    assert_eq!((sent.path.as_str(), sent.idempotency_key.as_deref()), ("/v1/refunds", Some("rf-1")));
    assert_eq!(sent.field("payment_intent"), Some(intent.id.as_str()));
    assert_eq!(sent.field("amount"), Some("3000"));
    assert_eq!(sent.field("metadata[refund_id]"), Some("rf-1"));
    assert_eq!(sent.field("metadata[booking_id]"), Some("bk_42"));
    assert_eq!(sent.field("metadata[organization_id]"), Some("org_7"));

    // A retried refund with the same key is the same refund, not a second one.
    assert_eq!(gw.refund(&refund_request(&intent.id, eur(3_000), "rf-1")).await.unwrap(), first);

    match gw.refund(&refund_request(&intent.id, eur(7_001), "rf-2")).await {
        Err(PaymentError::Refused { code, message }) => {
            assert_eq!(code.as_deref(), Some("amount_too_large"));
            assert!(message.contains("7001"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let rest = gw.refund(&refund_request(&intent.id, eur(7_000), "rf-3")).await.unwrap();
    assert_ne!(rest.id, first.id);
    match gw.refund(&refund_request(&intent.id, eur(1), "rf-4")).await {
        Err(PaymentError::Refused { code, .. }) => assert_eq!(code.as_deref(), Some("charge_already_refunded")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn failures_are_transient_refused_or_config() {
    let fake = FakeStripe::start().await;
    let gw = gateway(&fake);
    let usd = Money::new(2_000, Currency::USD);

    for status in [500, 503, 429, 409] {
        fake.fail_next(1, status);
        let err = gw.create_payment_intent(&intent_request(usd, "pay-f")).await.unwrap_err();
        assert!(matches!(err, PaymentError::Transient(_)), "{status}: {err:?}");
    }
    // The failed attempts stored nothing under the key: the retry creates the intent.
    let intent = gw.create_payment_intent(&intent_request(usd, "pay-f")).await.unwrap();
    assert!(fake.intent(&intent.id).is_some());

    fake.fail_next(1, 402);
    match gw.create_payment_intent(&intent_request(usd, "pay-g")).await {
        Err(PaymentError::Refused { code, message }) => {
            assert_eq!(code.as_deref(), Some("card_declined"));
            assert_eq!(message, "Your card was declined.");
        }
        other => panic!("{other:?}"),
    }

    // A key Stripe rejects is the operator's problem, not the payer's.
    let bad_key =
        StripeGateway::new(&StripeConfig { secret_key: "sk_live_wrong".into(), ..config(fake.uri()) }).unwrap();
    let err = bad_key.create_payment_intent(&intent_request(usd, "pay-h")).await.unwrap_err();
    assert!(matches!(err, PaymentError::Config(_)), "{err:?}");
    assert!(StripeGateway::new(&StripeConfig { secret_key: String::new(), ..config(fake.uri()) }).is_err());
}

#[tokio::test]
async fn unreachable_stripe_is_transient() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let gw = StripeGateway::new(&config(format!("http://127.0.0.1:{port}"))).unwrap();
    let usd = Money::new(2_000, Currency::USD);
    let err = gw.create_payment_intent(&intent_request(usd, "pay-u")).await.unwrap_err();
    assert!(matches!(err, PaymentError::Transient(_)), "{err:?}");
    let err = gw.refund(&refund_request("pi_x", usd, "rf-u")).await.unwrap_err();
    assert!(matches!(err, PaymentError::Transient(_)), "{err:?}");
    let err = gw.cancel_payment_intent("pi_x", "cancel-u").await.unwrap_err();
    assert!(matches!(err, PaymentError::Transient(_)), "{err:?}");
}

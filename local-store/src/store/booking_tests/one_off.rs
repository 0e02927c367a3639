//! A one-off message written from a booking and a refund given back by hand, both offline: each
//! is queued as an intent at once, and a refusal names its field and queues nothing.

use super::*;
use tourdesk_domain::ipc::{NewCustomerMessage, NewRefund};
use tourdesk_domain::ledger::{EntryKind, PaymentMethod};
use tourdesk_domain::mutation::MessageChannel;
use uuid::Uuid;

const REFUND: &str = "00000000-0000-4000-8000-0000000f0001";

fn last_queued(s: &Store) -> (String, Value) {
    let (name, args): (String, String) = s
        .conn()
        .query_row("SELECT name, args FROM outbox ORDER BY mutation_id DESC LIMIT 1", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    (name, serde_json::from_str(&args).unwrap())
}

fn refund(amount: &str, method: PaymentMethod) -> NewRefund {
    NewRefund {
        booking_id: B1.into(),
        method,
        amount: amount.into(),
        note: Some("counted at the desk".into()),
        reference: None,
    }
}

#[test]
fn a_refund_given_back_offline_clears_the_refund_due_and_more_than_it_is_refused_at_the_amount() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s, 4);
    cancelled_with_cash_to_give_back(&s);
    let m = s.booking_money(B1).unwrap().unwrap();
    assert_eq!((m.refund_due, m.refund_due_by_hand), (usd(6_000), usd(6_000)));
    assert_eq!(s.pending_count().unwrap(), 2);

    for typed in ["60.01", "ten", "0", "-5"] {
        assert_eq!(field_of(s.record_refund(&refund(typed, PaymentMethod::Cash), REFUND.into(), Utc::now())), "amount");
    }
    assert_eq!(s.pending_count().unwrap(), 2, "a refused refund queues nothing");
    assert_eq!(s.booking_money(B1).unwrap().unwrap().refunded, usd(0));

    s.record_refund(&refund("60.00", PaymentMethod::Cash), REFUND.into(), Utc::now()).unwrap();
    let m = s.booking_money(B1).unwrap().unwrap();
    assert_eq!((m.refund_due, m.refund_due_by_hand, m.refunded), (usd(0), usd(0), usd(6_000)));
    let line = m.entries.iter().find(|l| l.entry.id == REFUND).expect("the refund is in the ledger");
    assert!(line.pending);
    assert_eq!((line.entry.kind, line.entry.amount), (EntryKind::Refund, 6_000));
    assert_eq!(line.entry.note.as_deref(), Some("Given back in cash · counted at the desk"));
    let (name, args) = last_queued(&s);
    assert_eq!(name, "record_refund.v1");
    assert_eq!((args["amount"].clone(), args["method"].clone()), (json!(6_000), json!("cash")));
    // Nothing more is owed back.
    let again = s.record_refund(&refund("0.01", PaymentMethod::BankTransfer), Uuid::new_v4().to_string(), Utc::now());
    assert_eq!(field_of(again), "amount");
    assert_eq!(s.pending_count().unwrap(), 3);
}

fn message(channel: MessageChannel, subject: &str, body: &str) -> NewCustomerMessage {
    NewCustomerMessage { booking_id: B1.into(), channel, subject: subject.into(), body: body.into() }
}

#[test]
fn a_one_off_message_is_queued_offline_and_a_channel_or_text_that_cannot_go_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, Role::Manager);
    seed(&s, 4);
    s.apply_pull(&pull(vec![bucket(ALL, 20, vec![put(EntityKind::Booking, &booking(B1, D1, ANA, 2, 1))])], 0, vec![]))
        .unwrap();

    // Ana has an address and a phone, but never agreed to texts.
    let o = s.message_options(B1).unwrap().unwrap();
    assert_eq!((o.customer_id.as_str(), o.customer_name.as_str()), (ANA, "Ana Silva"));
    let email = o.channels.iter().find(|c| c.channel == MessageChannel::Email).unwrap();
    assert_eq!((email.to.as_deref(), email.unavailable.as_deref()), (ana().email.as_deref(), None));
    let sms = o.channels.iter().find(|c| c.channel == MessageChannel::Sms).unwrap();
    assert_eq!(sms.unavailable.as_deref(), Some("the customer has not agreed to text messages"));
    assert!(s.message_options("nope").unwrap().is_none());

    let before = s.pending_count().unwrap();
    assert_eq!(field_of(s.send_customer_message(&message(MessageChannel::Sms, "Hi", "Late"), nonce())), "channel");
    assert_eq!(field_of(s.send_customer_message(&message(MessageChannel::Email, "", "Body"), nonce())), "subject");
    let long = "x".repeat(tourdesk_domain::mutation::MESSAGE_SUBJECT_MAX + 1);
    assert_eq!(field_of(s.send_customer_message(&message(MessageChannel::Email, &long, "Body"), nonce())), "subject");
    assert_eq!(field_of(s.send_customer_message(&message(MessageChannel::Email, "Hi", " "), nonce())), "body");
    assert_eq!(s.pending_count().unwrap(), before, "refusals queue nothing");

    s.send_customer_message(&message(MessageChannel::Email, "Meeting point", "By the fountain at 9."), nonce())
        .unwrap();
    assert_eq!(s.pending_count().unwrap(), before + 1);
    let (name, args) = last_queued(&s);
    assert_eq!(name, "send_customer_message.v1");
    assert_eq!(
        (args["customer_id"].clone(), args["channel"].clone(), args["subject"].clone()),
        (json!(ANA), json!("email"), json!("Meeting point"))
    );

    // A guide may not write to customers.
    let dir = tempfile::tempdir().unwrap();
    let g = store(&dir, Role::Guide);
    seed(&g, 4);
    g.apply_pull(&pull(vec![bucket(ALL, 20, vec![put(EntityKind::Booking, &booking(B1, D1, ANA, 2, 1))])], 0, vec![]))
        .unwrap();
    let r = g.send_customer_message(&message(MessageChannel::Email, "Hi", "Body"), nonce());
    assert!(matches!(r, Err(StoreError::Rejected(Rejection::NotAuthorized { .. }))), "{r:?}");
    assert_eq!(g.pending_count().unwrap(), 0);
}

fn nonce() -> String {
    Uuid::new_v4().to_string()
}

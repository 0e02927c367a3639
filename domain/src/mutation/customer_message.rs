//! `send_customer_message.v1`: staff write to a booking's customer, once, in their own words (a
//! meeting point moved, a question about a dietary note). An intent like any other: queued
//! offline, decided on the server under the booking's lock, which then queues the message in the
//! mail or SMS outbox in the same savepoint (`sync-server` `notices`), and audited
//! (`send_customer_message.v1` on the booking). The message itself then reaches every office
//! desk with the communications log, on the booking's timeline and the customer's messages.
//!
//! The rules live here, once: who may write (staff, not guides), what a subject and body may be
//! (each refusal names its field), and which channel reaches the customer: e-mail needs an
//! address; a text needs a phone and the customer's yes to booking texts.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{ApplyError, AuditEntry, Change, MutationCtx, Mutator, ReadKey, ReadView, Rejection, norm_ref, require};
use crate::entities::Customer;
use crate::roles::{Permission, Role};
use crate::validate::{self, FieldError};

/// The audit action of a one-off message; the server queues the message when it sees it.
pub const CUSTOMER_MESSAGE_SENT: &str = "send_customer_message.v1";
/// The communications log's `type` of a one-off message.
pub const CUSTOMER_MESSAGE_KIND: &str = "staff_message";
/// The longest subject: one line, as a mail client shows it.
pub const MESSAGE_SUBJECT_MAX: usize = 150;
/// The longest e-mail body.
pub const MESSAGE_BODY_MAX: usize = 5_000;
/// The longest text (SMS) body: Twilio's limit for one message, split into parts as it sends it.
pub const SMS_BODY_MAX: usize = 1_600;

/// How a one-off message reaches the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageChannel {
    Email,
    Sms,
}

impl MessageChannel {
    pub const ALL: [MessageChannel; 2] = [MessageChannel::Email, MessageChannel::Sms];

    /// The communications log's `channel` code.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageChannel::Email => "email",
            MessageChannel::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<MessageChannel> {
        MessageChannel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// In words, for the dialog.
    pub fn label(self) -> &'static str {
        match self {
            MessageChannel::Email => "E-mail",
            MessageChannel::Sms => "Text message (SMS)",
        }
    }

    /// The longest body this channel carries.
    pub fn body_max(self) -> usize {
        match self {
            MessageChannel::Email => MESSAGE_BODY_MAX,
            MessageChannel::Sms => SMS_BODY_MAX,
        }
    }

    /// Why this channel cannot reach `c`, or `None` when it can. The dialog asks it to grey out a
    /// channel with the reason; the mutation asks it to refuse.
    pub fn unreachable(self, c: &Customer) -> Option<&'static str> {
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
        if c.erased_at.is_some() {
            return Some("the customer's personal data was erased");
        }
        match self {
            MessageChannel::Email if blank(&c.email) => Some("the customer has no e-mail address"),
            MessageChannel::Sms if blank(&c.phone) => Some("the customer has no phone number"),
            MessageChannel::Sms if !c.sms_opt_in => Some("the customer has not agreed to text messages"),
            _ => None,
        }
    }
}

/// Arguments of `send_customer_message.v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendCustomerMessageV1 {
    /// A UUID made by the sending device: one message per intent, however often it is replayed.
    pub nonce: String,
    pub booking_id: String,
    /// The booking's customer, named so the row is known before anything is read (a booking
    /// moved to another customer meanwhile, by a merge, is refused rather than mis-sent).
    pub customer_id: String,
    pub channel: MessageChannel,
    pub subject: String,
    pub body: String,
}

/// A one-off message as checked: what the outbox sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedMessage {
    pub channel: MessageChannel,
    pub subject: String,
    pub body: String,
}

impl SendCustomerMessageV1 {
    /// The subject and body as they will be sent, or the field that is wrong.
    pub fn checked(&self) -> Result<CheckedMessage, FieldError> {
        let subject = validate::text("subject", &self.subject, MESSAGE_SUBJECT_MAX)?;
        // A text's body is shorter: Twilio refuses more than it can split into parts.
        let body = validate::free_text("body", &self.body, self.channel.body_max())?;
        if body.is_empty() {
            return Err(FieldError::new("body", "is required"));
        }
        Ok(CheckedMessage { channel: self.channel, subject, body })
    }
}

impl Mutator for SendCustomerMessageV1 {
    fn reads(&self) -> Vec<ReadKey> {
        // Both locked, so a message decided beside an erasure or a merge sees its result.
        vec![ReadKey::Booking(norm_ref(&self.booking_id)), ReadKey::Customer(norm_ref(&self.customer_id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        const ACTION: &str = "send a message to a customer";
        require(ctx, Permission::BookingsWrite, ACTION)?;
        if matches!(ctx.role, Role::Customer | Role::Guide) {
            return Err(Rejection::NotAuthorized { action: ACTION.into() }.into());
        }
        let nonce = validate::id("nonce", &self.nonce)?;
        let booking_id = validate::row_ref("booking_id", &self.booking_id)?;
        let customer_id = validate::row_ref("customer_id", &self.customer_id)?;
        let message = self.checked()?;
        let b = view.booking(&booking_id)?.ok_or_else(|| Rejection::not_found("booking", &booking_id))?;
        if b.customer_id != customer_id {
            return Err(Rejection::conflict(
                "customer_id",
                format!("booking {} now belongs to another customer; write to them from it again", b.reference_number),
            )
            .into());
        }
        let c = view.customer(&customer_id)?.ok_or_else(|| Rejection::not_found("customer", &customer_id))?;
        if let Some(why) = message.channel.unreachable(&c) {
            return Err(Rejection::conflict(
                "channel",
                format!("cannot send by {}: {why}", channel_words(message.channel)),
            )
            .into());
        }
        // The body stays out of the audit log (it may carry what only the customer should read);
        // the communications log holds it with the message.
        Ok(vec![Change::Audit(AuditEntry::of_booking(
            ctx,
            CUSTOMER_MESSAGE_SENT,
            &b,
            json!({
                "reference": b.reference_number.to_string(),
                "customer_id": c.id,
                "channel": message.channel.as_str(),
                "subject": message.subject,
                "nonce": nonce,
            }),
        ))])
    }
}

fn channel_words(c: MessageChannel) -> &'static str {
    match c {
        MessageChannel::Email => "e-mail",
        MessageChannel::Sms => "text message",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::mutation::testkit::*;
    use crate::status::{BookingStatus, PaymentStatus};
    use serde_json::{Value, json};

    fn sample(phone: Option<&str>, sms_opt_in: bool, email: Option<&str>) -> Mem {
        let mem = world();
        mem.put_booking(booking("b-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000));
        let mut c = mem.get_customer(CUSTOMER);
        c.phone = phone.map(str::to_string);
        c.sms_opt_in = sms_opt_in;
        c.email = email.map(str::to_string);
        mem.put_customer(c);
        mem
    }

    fn args(channel: &str, subject: &str, body: &str) -> Value {
        json!({
            "nonce": "00000000-0000-4000-8000-0000000000a1",
            "booking_id": "b-1",
            "customer_id": CUSTOMER,
            "channel": channel,
            "subject": subject,
            "body": body,
        })
    }

    fn refusal(mem: &Mem, a: Value, role: Role) -> Rejection {
        match run(mem, CUSTOMER_MESSAGE_SENT, a, role) {
            Err(ApplyError::Rejected(r)) => r,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn field(r: &Rejection) -> &str {
        match r {
            Rejection::Invalid(e) => &e.field,
            Rejection::Conflict { field, .. } => field,
            other => panic!("no field in {other:?}"),
        }
    }

    #[test]
    fn an_email_is_audited_on_the_booking_with_its_subject_and_without_its_body() {
        let mem = sample(None, false, Some("ana@example.com"));
        let changes = run_ok(
            &mem,
            CUSTOMER_MESSAGE_SENT,
            args("email", "  New meeting point ", "See you at the fountain."),
            Role::Manager,
        );
        let [Change::Audit(a)] = &changes[..] else { panic!("{changes:?}") };
        assert_eq!(
            (a.action.as_str(), a.entity.as_str(), a.entity_id.as_str()),
            (CUSTOMER_MESSAGE_SENT, "booking", "b-1")
        );
        assert_eq!(a.actor_id, STAFF);
        assert_eq!(a.detail["subject"], json!("New meeting point"));
        assert_eq!(a.detail["channel"], json!("email"));
        assert!(!a.detail.to_string().contains("fountain"), "{}", a.detail);
    }

    #[test]
    fn a_text_goes_only_to_a_customer_with_a_phone_who_said_yes() {
        let ok = sample(Some("+447700900123"), true, None);
        assert_eq!(
            run_ok(&ok, CUSTOMER_MESSAGE_SENT, args("sms", "Running late", "10 minutes late"), Role::Admin).len(),
            1
        );
        for (mem, why) in [
            (sample(Some("+447700900123"), false, None), "not agreed to text messages"),
            (sample(None, true, None), "no phone number"),
        ] {
            let r = refusal(&mem, args("sms", "Running late", "10 minutes late"), Role::Owner);
            assert_eq!((r.code(), field(&r)), ("CONFLICT", "channel"));
            assert!(r.to_string().contains(why), "{r}");
        }
        let r = refusal(&ok, args("email", "Hello", "Body"), Role::Owner);
        assert_eq!(field(&r), "channel");
        assert!(r.to_string().contains("no e-mail address"), "{r}");
        let erased = sample(Some("+447700900123"), true, Some("ana@example.com"));
        let mut c = erased.get_customer(CUSTOMER);
        c.erased_at = Some(now());
        erased.put_customer(c);
        assert!(refusal(&erased, args("email", "Hello", "Body"), Role::Owner).to_string().contains("erased"));
    }

    #[test]
    fn bad_input_is_refused_with_the_field_named() {
        let mem = sample(Some("+447700900123"), true, Some("ana@example.com"));
        let long = |n: usize| "x".repeat(n);
        for (a, want) in [
            (args("email", "", "Body"), "subject"),
            (args("email", "Line\nbreak", "Body"), "subject"),
            (args("email", &long(MESSAGE_SUBJECT_MAX + 1), "Body"), "subject"),
            (args("email", "Hello", "   "), "body"),
            (args("email", "Hello", &long(MESSAGE_BODY_MAX + 1)), "body"),
            (args("sms", "Hello", &long(SMS_BODY_MAX + 1)), "body"),
            (args("email", "Hello", "nul\u{0}byte"), "body"),
            (patch(args("email", "Hello", "Body"), &[("nonce", json!("not-a-uuid"))]), "nonce"),
            (patch(args("email", "Hello", "Body"), &[("booking_id", json!(""))]), "booking_id"),
        ] {
            let r = refusal(&mem, a.clone(), Role::Owner);
            assert_eq!((r.code(), field(&r)), ("INVALID", want), "{a}");
        }
        // The longest e-mail body passes; a channel nobody knows does not parse.
        assert_eq!(
            run_ok(&mem, CUSTOMER_MESSAGE_SENT, args("email", "Hello", &long(MESSAGE_BODY_MAX)), Role::Owner).len(),
            1
        );
        assert_eq!(run_err(&mem, CUSTOMER_MESSAGE_SENT, args("fax", "Hello", "Body"), Role::Owner), "INVALID");
        assert_eq!(MessageChannel::parse("sms"), Some(MessageChannel::Sms));
    }

    #[test]
    fn guides_and_customers_may_not_and_a_missing_booking_is_not_found() {
        let mem = sample(None, false, Some("ana@example.com"));
        for role in [Role::Guide, Role::Customer] {
            assert_eq!(run_err(&mem, CUSTOMER_MESSAGE_SENT, args("email", "Hello", "Body"), role), "NOT_AUTHORIZED");
        }
        let a = patch(args("email", "Hello", "Body"), &[("booking_id", json!("b-none"))]);
        assert_eq!(run_err(&mem, CUSTOMER_MESSAGE_SENT, a, Role::Owner), "NOT_FOUND");
        let other = patch(args("email", "Hello", "Body"), &[("customer_id", json!("c-other"))]);
        let r = refusal(&mem, other, Role::Owner);
        assert_eq!((r.code(), field(&r)), ("CONFLICT", "customer_id"));
    }
}

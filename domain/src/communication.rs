//! The communications log as desks hold it: every message the server sent (or tried to send, or
//! recorded as not sendable) to a customer, with its delivery state. The server's
//! `communications` table is also its mail outbox; a desk receives each customer row and every
//! later change of its status (queued → sent, failed, delivered), office desks only
//! (`replication::RowScope::Office`). Messages to staff and guides (invitations, password resets,
//! assignments, report mail) stay on the server: they are no customer's history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::audit::humanise;

/// One message to a customer, as replicated. `kind` is the server's `type` (`booking_confirmation`,
/// `booking_reminder`, `booking_cancelled`, …); `channel` and `status` are the table's codes. The
/// content is not replicated: the kind, subject and state say what a timeline needs, and a
/// message body may carry what only its recipient should read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Communication {
    pub id: String,
    pub organization_id: String,
    pub customer_id: String,
    pub booking_id: Option<String>,
    /// `email`, `sms`, `whatsapp`, `phone`, `in_app`.
    pub channel: String,
    /// `outbound` or `inbound`.
    pub direction: String,
    pub kind: String,
    pub subject: Option<String>,
    /// `pending`, `sent`, `delivered`, `failed`, `bounced`.
    pub status: String,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub failure_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Whether a row of the server's communications log replicates to desks: only a customer's
/// (a message to a staff member or a guide has no customer).
pub fn replicates(customer_id: Option<&str>) -> bool {
    customer_id.is_some_and(|c| !c.is_empty())
}

impl Communication {
    /// The latest moment of the message's life: delivered, else sent, else queued.
    pub fn last_at(&self) -> DateTime<Utc> {
        self.delivered_at.or(self.sent_at).unwrap_or(self.created_at).max(self.created_at)
    }

    /// `Booking confirmation by e-mail`.
    pub fn title(&self) -> String {
        format!("{} by {}", kind_words(&self.kind), channel_words(&self.channel))
    }
}

/// A message kind in words: `booking_confirmation` → `Booking confirmation`, `booking_reminder`
/// → `Booking reminder`; an unknown kind humanised.
pub fn kind_words(kind: &str) -> String {
    match kind {
        "booking_cancelled" => "Cancellation notice".into(),
        "departure_cancelled" => "Departure cancelled notice".into(),
        "magic_link" | "manage_link" => "Link to manage the booking".into(),
        "staff_message" => "Message from the office".into(),
        k => humanise(k),
    }
}

/// A channel in words.
pub fn channel_words(channel: &str) -> String {
    match channel {
        "email" => "e-mail".into(),
        "sms" => "SMS".into(),
        "whatsapp" => "WhatsApp".into(),
        "phone" => "phone".into(),
        "in_app" => "in-app message".into(),
        c => c.replace('_', " "),
    }
}

/// A delivery state in words.
pub fn status_words(status: &str) -> String {
    match status {
        "pending" => "Waiting to be sent".into(),
        "sent" => "Sent".into(),
        "delivered" => "Delivered".into(),
        "failed" => "Not sent".into(),
        "bounced" => "Bounced".into(),
        s => humanise(s),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn message(kind: &str, status: &str) -> Communication {
        Communication {
            id: "m1".into(),
            organization_id: "o".into(),
            customer_id: "c1".into(),
            booking_id: Some("b1".into()),
            channel: "email".into(),
            direction: "outbound".into(),
            kind: kind.into(),
            subject: Some("Booking confirmed".into()),
            status: status.into(),
            sent_at: None,
            delivered_at: None,
            failure_reason: None,
            created_at: Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap(),
        }
    }

    #[test]
    fn only_customers_messages_replicate() {
        assert!(replicates(Some("c1")));
        assert!(!replicates(None), "a staff member's or a guide's message");
        assert!(!replicates(Some("")));
    }

    #[test]
    fn a_message_reads_in_words_and_its_last_moment_is_its_latest_state() {
        let mut m = message("booking_confirmation", "pending");
        assert_eq!(m.title(), "Booking confirmation by e-mail");
        assert_eq!(m.last_at(), m.created_at);
        m.sent_at = Some(m.created_at + chrono::Duration::minutes(1));
        assert_eq!(m.last_at(), m.created_at + chrono::Duration::minutes(1));
        m.delivered_at = Some(m.created_at + chrono::Duration::minutes(5));
        assert_eq!(m.last_at(), m.created_at + chrono::Duration::minutes(5));
        assert_eq!(status_words("failed"), "Not sent");
        assert_eq!(status_words("bounced"), "Bounced");
        assert_eq!(kind_words("booking_cancelled"), "Cancellation notice");
        assert_eq!(kind_words("balance_request"), "Balance request");
        assert_eq!(channel_words("sms"), "SMS");
    }
}

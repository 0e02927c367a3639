//! Outgoing e-mail: a [`Mailer`] that speaks SMTP, and an outbox on the `communications` table.
//!
//! Mail that can wait (a booking confirmation) is [`queue`]d in the caller's transaction, so it
//! exists exactly when the change it reports commits, and the outbox job
//! ([`crate::jobs::mail_outbox`]) sends it later with
//! retries. Mail that carries a secret (a customer's sign-in link) must never rest in the
//! database in clear, so [`send_now`] sends it at once and records only a redacted copy.
//!
//! Delivery is at least once: a crash between the relay's acceptance and the commit that marks
//! the row sent sends that one message again. Row locks make two drains never send one row twice.

use crate::db::Prepared;
use std::fmt;
use std::time::Duration;

use deadpool_postgres::{GenericClient, Pool};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

/// Per connect and per SMTP command: a relay that stalls must not hold a row lock for long.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);
/// The whole conversation, as a backstop for a relay that answers each command slowly.
const SEND_TIMEOUT: Duration = Duration::from_secs(60);
const WITHHELD: &str = "[link withheld]";

/// Stands, in a queued e-mail, for a magic link to manage the row's booking: the outbox
/// ([`crate::jobs::mail_outbox`]) mints the link when it sends the message and puts it in place
/// of this text in what it sends only, so the token never rests in the database in clear. Each
/// attempt mints its own link.
pub const MANAGE_LINK: &str = "[link to your booking]";
/// Stands, in a queued waitlist offer, for the link that claims the seats held for the entry (the
/// row's booking): like [`MANAGE_LINK`], the outbox mints its token when it sends, so the token
/// never rests in the database in clear.
pub const WAITLIST_CLAIM_LINK: &str = "[link to claim your seats]";
/// How long a link minted for [`MANAGE_LINK`] works: long enough to choose another date.
pub const MANAGE_LINK_DAYS: i64 = 14;

/// Stands, in a queued review request, for the single-use link to the review form: minted by
/// the outbox when it sends, like [`MANAGE_LINK`] (`crate::reviews::mint_link`).
pub const REVIEW_LINK: &str = "[link to write your review]";

#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// `smtp://host:port` (plain, for a relay on the same host or network), `smtp://…?tls=required`
    /// (STARTTLS) or `smtps://…`, with optional `user:password@`. `None` (or empty) turns mail off.
    pub smtp_url: Option<String>,
    /// The From header, e.g. `Tourdesk <bookings@tourdesk.test>`.
    pub from: String,
    /// Where customers reach the public site; links in mail are built on it.
    pub public_base_url: String,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            smtp_url: None,
            from: "Tourdesk <bookings@tourdesk.test>".into(),
            public_base_url: "http://127.0.0.1:8787".into(),
        }
    }
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &self.smtp_url.as_deref().map(crate::config::mask_url))
            .field("from", &self.from)
            .field("public_base_url", &self.public_base_url)
            .finish()
    }
}

impl MailConfig {
    pub(crate) fn apply_env(&mut self, get: &impl Fn(&str) -> Option<String>) {
        if let Some(v) = get("TOURDESK_SMTP_URL") {
            self.smtp_url = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = get("TOURDESK_MAIL_FROM") {
            self.from = v;
        }
        if let Some(v) = get("TOURDESK_PUBLIC_BASE_URL") {
            self.public_base_url = v;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    #[error("mail is disabled (no SMTP URL configured)")]
    Disabled,
    /// Worth retrying: the relay was unreachable, slow, or answered 4xx.
    #[error("temporary mail failure: {0}")]
    Transient(String),
    /// Retrying cannot help: a 5xx answer or an address that is not one.
    #[error("permanent mail failure: {0}")]
    Permanent(String),
}

impl MailError {
    /// The same error with every occurrence of `secret` in its text withheld.
    pub fn withhold(self, secret: &str) -> MailError {
        let w = |s: String| s.replace(secret, WITHHELD);
        match self {
            MailError::Disabled => MailError::Disabled,
            MailError::Transient(s) => MailError::Transient(w(s)),
            MailError::Permanent(s) => MailError::Permanent(w(s)),
        }
    }

    fn from_smtp(e: &lettre::transport::smtp::Error) -> MailError {
        // A client-side error is lettre refusing the message itself; the same message fails again.
        if e.is_permanent() || e.is_client() {
            MailError::Permanent(e.to_string())
        } else {
            MailError::Transient(e.to_string())
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("mail configuration: {0}")]
pub struct MailConfigError(String);

/// Sends one message per SMTP connection: mail is rare enough that a pool would mostly hold
/// sockets the relay has long closed.
#[derive(Clone)]
pub struct Mailer {
    inner: Option<Transport>,
    /// Where the links in mail point (`MailConfig::public_base_url`).
    public_base_url: String,
}

#[derive(Clone)]
struct Transport {
    smtp: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("enabled", &self.inner.is_some())
            .field("public_base_url", &self.public_base_url)
            .finish()
    }
}

impl Mailer {
    /// Checks the URL and the From address now, so a typo stops the server at start rather than
    /// failing every message later.
    pub fn new(config: &MailConfig) -> Result<Mailer, MailConfigError> {
        let public_base_url = config.public_base_url.clone();
        let Some(url) = config.smtp_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(Mailer { inner: None, public_base_url });
        };
        let from: Mailbox =
            config.from.parse().map_err(|e| MailConfigError(format!("from address {:?}: {e}", config.from)))?;
        let builder = match plain_smtp_host_port(url) {
            // Plain SMTP without TLS: meant for a relay on the same host or a private network (a
            // local MTA or a test sink), which has no certificate to check and is not reachable
            // by whoever could read the traffic. The relay does the TLS to the outside world.
            Some((host, port)) => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port),
            // Credentials or TLS: let lettre read the URL, which knows STARTTLS, SMTPS and AUTH.
            None => AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|e| MailConfigError(format!("SMTP URL {}: {e}", crate::config::mask_url(url))))?,
        };
        let smtp = builder.timeout(Some(SMTP_TIMEOUT)).build();
        Ok(Mailer { inner: Some(Transport { smtp, from }), public_base_url })
    }

    /// A mailer that refuses every message with [`MailError::Disabled`] at once.
    pub fn disabled() -> Mailer {
        Mailer { inner: None, public_base_url: MailConfig::default().public_base_url }
    }

    /// Where the links in mail point.
    pub fn public_base_url(&self) -> &str {
        &self.public_base_url
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    pub async fn send(&self, msg: &Email) -> Result<(), MailError> {
        let Some(t) = &self.inner else {
            return Err(MailError::Disabled);
        };
        let to: Mailbox =
            msg.to.parse().map_err(|e| MailError::Permanent(format!("recipient address {:?}: {e}", msg.to)))?;
        let message = Message::builder()
            .from(t.from.clone())
            .to(to)
            .subject(msg.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(msg.text.clone())
            .map_err(|e| MailError::Permanent(format!("building the message: {e}")))?;
        match tokio::time::timeout(SEND_TIMEOUT, t.smtp.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(MailError::from_smtp(&e)),
            Err(_) => Err(MailError::Transient(format!("no answer from the SMTP relay within {SEND_TIMEOUT:?}"))),
        }
    }
}

/// `smtp://host[:port]` with nothing else (no credentials, query or path), as host and port.
fn plain_smtp_host_port(url: &str) -> Option<(String, u16)> {
    let rest = url.strip_prefix("smtp://")?.trim_end_matches('/');
    if rest.is_empty() || rest.contains(['@', '?', '/', '#']) {
        return None;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h, p.parse().ok()?),
        _ => (rest, 25),
    };
    Some((host.trim_start_matches('[').trim_end_matches(']').to_string(), port))
}

/// The tenant of the mail code's transactions, set as every other module sets it.
pub use crate::db::set_tenant;

/// Queues `email` in the caller's transaction, which must be `org`'s (its tenant set), and
/// returns the new communication's id. Nothing is sent until the transaction commits and a drain
/// runs, and nothing is sent at all if it rolls back.
pub async fn queue(
    tx: &impl GenericClient,
    org: &str,
    customer_id: &str,
    booking_id: Option<&str>,
    kind: &str,
    email: &Email,
) -> Result<String, crate::db::DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    insert_outbound(tx, &id, org, customer_id, booking_id, kind, email).await?;
    Ok(id)
}

/// Queues an e-mail to a guide (a new assignment), sent by the outbox like a customer's.
pub async fn queue_to_guide(
    tx: &impl GenericClient,
    org: &str,
    guide_id: &str,
    kind: &str,
    email: &Email,
) -> Result<String, crate::db::DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    tx.exec(
        "INSERT INTO communications (id, organization_id, guide_id, channel, direction, type,
             subject, content, status, recipient, attempts, next_attempt_at)
         VALUES ($1, $2, $3, 'email', 'outbound', $4, $5, $6, 'pending', $7, 0, now())",
        &[&id, &org, &guide_id, &kind, &email.subject, &email.text, &email.to],
    )
    .await?;
    Ok(id)
}

/// Queues a booking's e-mail of a kind sent once per booking (a reminder, V9; a review request,
/// V52), unless one was queued for it already: the new communication's id when this call queued it.
pub async fn queue_once(
    tx: &impl GenericClient,
    org: &str,
    customer_id: &str,
    booking_id: &str,
    kind: &str,
    email: &Email,
) -> Result<Option<String>, crate::db::DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    let n = insert_outbound(tx, &id, org, customer_id, Some(booking_id), kind, email).await?;
    Ok((n == 1).then_some(id))
}

/// Why a message to a customer was not queued.
pub const NO_ADDRESS: &str = "the customer has no e-mail address (a walk-in)";

/// Records, instead of queueing, a message to a customer without an e-mail address (a walk-in
/// taken at the desk): a `failed` row with no recipient and [`NO_ADDRESS`] as the reason, so staff
/// can see why nothing was sent and the job that wanted to send it does not ask again (a
/// reminder's or review request's row still counts for V9's and V52's one-per-booking indexes).
/// The row's id when this call wrote it.
pub async fn record_no_address(
    tx: &impl GenericClient,
    org: &str,
    customer_id: &str,
    booking_id: Option<&str>,
    kind: &str,
    subject: &str,
    text: &str,
) -> Result<Option<String>, crate::db::DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    let n = tx
        .exec(
            "INSERT INTO communications (id, organization_id, customer_id, booking_id, channel, direction, type,
                 subject, content, status, failure_reason)
             VALUES ($1, $2, $3, $4, 'email', 'outbound', $5, $6, $7, 'failed', $8)
             ON CONFLICT DO NOTHING",
            &[&id, &org, &customer_id, &booking_id, &kind, &subject, &text, &NO_ADDRESS],
        )
        .await?;
    Ok((n == 1).then_some(id))
}

/// The outbox row of one e-mail; 0 rows when it is a booking's second reminder or review request.
/// The only unique indexes of `communications` besides its key are V9's and V52's partial ones
/// (reminders, review requests), so for every other kind the conflict clause never applies.
async fn insert_outbound(
    tx: &impl GenericClient,
    id: &str,
    org: &str,
    customer_id: &str,
    booking_id: Option<&str>,
    kind: &str,
    email: &Email,
) -> Result<u64, tokio_postgres::Error> {
    tx.exec(
        "INSERT INTO communications (id, organization_id, customer_id, booking_id, channel, direction, type,
             subject, content, status, recipient, attempts, next_attempt_at)
         VALUES ($1, $2, $3, $4, 'email', 'outbound', $5, $6, $7, 'pending', $8, 0, now())
         ON CONFLICT DO NOTHING",
        &[&id, &org, &customer_id, &booking_id, &kind, &email.subject, &email.text, &email.to],
    )
    .await
}

/// Whom an e-mail is for: a customer, or a member of staff (invitations, password resets).
#[derive(Debug, Clone, Copy)]
pub enum Recipient<'a> {
    Customer(&'a str),
    Staff(&'a str),
}

/// What [`send_now`] did: the id of the recorded communication and the verdict of the relay.
#[derive(Debug)]
pub struct Delivery {
    pub id: String,
    pub result: Result<(), MailError>,
}

/// Sends `email` at once and records it with every occurrence of `secret` (in subject, body and
/// any echo in the failure reason) replaced by `[link withheld]`. The row is written after the
/// attempt, with its final status, so the outbox never sees it and cannot resend a redacted copy.
/// `Err` means the record could not be written; the mail may have gone out regardless.
#[allow(clippy::too_many_arguments)] // queue's parameters plus pool, mailer and secret
pub async fn send_now(
    pool: &Pool,
    mailer: &Mailer,
    org: &str,
    to: Recipient<'_>,
    booking_id: Option<&str>,
    kind: &str,
    email: &Email,
    secret: &str,
) -> anyhow::Result<Delivery> {
    anyhow::ensure!(!secret.is_empty(), "send_now needs the secret to withhold");
    let result = mailer.send(email).await;
    let withhold = |s: &str| s.replace(secret, WITHHELD);
    let (status, reason) = match &result {
        Ok(()) => ("sent", None),
        Err(e) => ("failed", Some(withhold(&e.to_string()))),
    };
    let id = uuid::Uuid::new_v4().to_string();
    let mut client = pool.get().await?;
    let tx = crate::db::write_in(&mut client, org).await?;
    let (customer_id, staff_user_id) = match to {
        Recipient::Customer(id) => (Some(id), None),
        Recipient::Staff(id) => (None, Some(id)),
    };
    tx.exec(
        "INSERT INTO communications (id, organization_id, customer_id, booking_id, channel, direction, type,
             subject, content, status, sent_at, failure_reason, recipient, attempts, staff_user_id)
         VALUES ($1, $2, $3, $4, 'email', 'outbound', $5, $6, $7, $8,
                 CASE WHEN $8 = 'sent' THEN now() END, $9, $10, 1, $11)",
        &[
            &id,
            &org,
            &customer_id,
            &booking_id,
            &kind,
            &withhold(&email.subject),
            &withhold(&email.text),
            &status,
            &reason,
            &email.to,
            &staff_user_id,
        ],
    )
    .await?;
    // A customer's message reaches the desks' communications log (a staff member's does not).
    crate::db::append_communications(&tx, org, std::slice::from_ref(&id)).await?;
    tx.commit().await?;
    Ok(Delivery { id, result })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_urls_are_told_from_ones_lettre_must_read() {
        assert_eq!(plain_smtp_host_port("smtp://127.0.0.1:2525"), Some(("127.0.0.1".into(), 2525)));
        assert_eq!(plain_smtp_host_port("smtp://localhost"), Some(("localhost".into(), 25)));
        assert_eq!(plain_smtp_host_port("smtp://[::1]:2525/"), Some(("::1".into(), 2525)));
        assert_eq!(plain_smtp_host_port("smtp://u:p@relay:587"), None);
        assert_eq!(plain_smtp_host_port("smtp://relay:587?tls=required"), None);
        assert_eq!(plain_smtp_host_port("smtps://relay"), None);
        assert_eq!(plain_smtp_host_port("smtp://relay:notaport"), None);
    }

    #[test]
    fn bad_configuration_is_refused_early_and_no_url_means_disabled() {
        let off = Mailer::new(&MailConfig::default()).unwrap();
        assert!(!off.is_enabled());
        let blank = MailConfig { smtp_url: Some("  ".into()), ..MailConfig::default() };
        assert!(!Mailer::new(&blank).unwrap().is_enabled());
        let bad_from =
            MailConfig { smtp_url: Some("smtp://127.0.0.1:2525".into()), from: "not an address".into(), ..blank };
        assert!(Mailer::new(&bad_from).is_err());
        let bad_url = MailConfig { smtp_url: Some("gopher://x".into()), ..MailConfig::default() };
        assert!(Mailer::new(&bad_url).is_err());
    }

    #[tokio::test]
    async fn disabled_mail_answers_at_once() {
        let m = Mailer::disabled();
        let e = Email { to: "a@b.test".into(), subject: "s".into(), text: "t".into() };
        assert_eq!(m.send(&e).await, Err(MailError::Disabled));
    }
}

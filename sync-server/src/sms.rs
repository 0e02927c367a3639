//! Booking texts (SMS) through Twilio's REST API: the configuration, the one call that sends a
//! message (`POST /2010-04-01/Accounts/{sid}/Messages.json`, form-encoded, basic auth), and the
//! check of Twilio's request signature on its status callbacks (`X-Twilio-Signature`: HMAC-SHA1,
//! keyed by the auth token, over the full callback URL followed by every POST parameter's name
//! and value, sorted by name; base64).
//!
//! Texts are queued like e-mail, as `communications` rows with channel `sms` whose recipient is
//! the phone number ([`queue`]); the outbox job (`jobs::sms_outbox`) sends them and keeps
//! Twilio's Message SID in `external_id`, which the status callback (`routes::sms`) names when it
//! marks the row delivered or failed. Only a customer who has a phone and said yes
//! (`customers.sms_opt_in`, V53) is texted.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use deadpool_postgres::GenericClient;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha1::Sha1;

use crate::db::Prepared;

/// Twilio's API, as Twilio serves it; tests point `api_base_url` at a fake.
pub const TWILIO_API: &str = "https://api.twilio.com";
/// The path of the status callback; the organization's id follows it, so the callback is handled
/// in its tenant (the signature covers the whole URL, so it cannot be sent to another).
pub const STATUS_PATH: &str = "/api/v1/twilio/status";
const TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// Twilio's Account SID (`AC…`). `None` (or empty) turns texts off.
    pub account_sid: Option<String>,
    pub auth_token: String,
    /// The number texts come from, E.164.
    pub from_number: String,
    pub api_base_url: String,
}

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            account_sid: None,
            auth_token: String::new(),
            from_number: String::new(),
            api_base_url: TWILIO_API.into(),
        }
    }
}

impl fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsConfig")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &if self.auth_token.is_empty() { "" } else { "***" })
            .field("from_number", &self.from_number)
            .field("api_base_url", &self.api_base_url)
            .finish()
    }
}

impl SmsConfig {
    pub(crate) fn apply_env(&mut self, get: &impl Fn(&str) -> Option<String>) {
        if let Some(v) = get("TOURDESK_TWILIO_ACCOUNT_SID") {
            self.account_sid = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = get("TOURDESK_TWILIO_AUTH_TOKEN") {
            self.auth_token = v;
        }
        if let Some(v) = get("TOURDESK_TWILIO_FROM") {
            self.from_number = v;
        }
        if let Some(v) = get("TOURDESK_TWILIO_API_BASE_URL") {
            self.api_base_url = v;
        }
    }

    /// Texts are sent only with an account, its token and a number to send from.
    pub fn is_enabled(&self) -> bool {
        self.account_sid.as_deref().is_some_and(|s| !s.trim().is_empty())
            && !self.auth_token.is_empty()
            && !self.from_number.trim().is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    #[error("texts are off (no Twilio account configured)")]
    Disabled,
    /// Worth retrying: Twilio was unreachable, slow, rate-limiting or answered 5xx.
    #[error("temporary SMS failure: {0}")]
    Transient(String),
    /// Retrying cannot help: Twilio refused the message (a number that is not one, …).
    #[error("SMS refused: {0}")]
    Permanent(String),
}

/// Twilio's answer to a created message.
#[derive(Debug, Deserialize)]
struct Created {
    sid: String,
}

/// Sends `body` to `to` and answers Twilio's Message SID. `status_callback` is where Twilio
/// posts the delivery state.
pub async fn send(
    http: &reqwest::Client,
    cfg: &SmsConfig,
    to: &str,
    body: &str,
    status_callback: &str,
) -> Result<String, SmsError> {
    let Some(sid) = cfg.account_sid.as_deref().filter(|_| cfg.is_enabled()) else { return Err(SmsError::Disabled) };
    let url = format!("{}/2010-04-01/Accounts/{sid}/Messages.json", cfg.api_base_url.trim_end_matches('/'));
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("To", to)
        .append_pair("From", &cfg.from_number)
        .append_pair("Body", body)
        .append_pair("StatusCallback", status_callback)
        .finish();
    let answer = http
        .post(&url)
        .basic_auth(sid, Some(&cfg.auth_token))
        .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form)
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|e| SmsError::Transient(format!("Twilio could not be reached: {e}")))?;
    let status = answer.status();
    let text = answer.text().await.map_err(|e| SmsError::Transient(format!("reading Twilio's answer: {e}")))?;
    if status.is_success() {
        let created: Created = serde_json::from_str(&text)
            .map_err(|e| SmsError::Transient(format!("Twilio's answer has no message id: {e}")))?;
        return Ok(created.sid);
    }
    let why = format!("Twilio answered {status}: {}", text.chars().take(300).collect::<String>());
    if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        Err(SmsError::Transient(why))
    } else {
        Err(SmsError::Permanent(why))
    }
}

/// Twilio's signature of a request to `url` with form parameters `params`.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = url.to_string();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    // HMAC takes a key of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) else { return String::new() };
    mac.update(data.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `given` (the `X-Twilio-Signature` header) is Twilio's signature of the request,
/// compared in constant time.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], given: &str) -> bool {
    if auth_token.is_empty() {
        return false;
    }
    let Ok(given) = STANDARD.decode(given.trim()) else { return false };
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) else { return false };
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    mac.verify_slice(&given).is_ok()
}

/// A text to a customer, to queue: of a booking or not, a kind (`communications.type`), the
/// number it goes to and what is sent. A text staff wrote (`send_customer_message.v1`) also keeps
/// its subject, so the communications log (and the booking's timeline) says what it was about;
/// only the body is sent.
#[derive(Debug, Clone, Copy)]
pub struct Text<'a> {
    pub customer_id: &'a str,
    pub booking_id: Option<&'a str>,
    pub kind: &'a str,
    pub to: &'a str,
    pub body: &'a str,
    pub subject: Option<&'a str>,
}

/// Queues `text` in the caller's transaction (the organization's tenant set), sent by the outbox
/// once it commits; the new row's id.
pub async fn queue(tx: &impl GenericClient, org: &str, text: &Text<'_>) -> Result<String, crate::db::DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    insert_outbound(tx, &id, org, text).await?;
    Ok(id)
}

/// Queues a booking's text of a kind sent once per booking (a reminder, V9's index) like
/// [`queue`], unless one was queued for it already: the new row's id when this call queued it.
pub async fn queue_once(
    tx: &impl GenericClient,
    org: &str,
    text: &Text<'_>,
) -> Result<Option<String>, crate::db::DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    let n = insert_outbound(tx, &id, org, text).await?;
    Ok((n == 1).then_some(id))
}

/// The outbox row of one text; 0 rows when it is a booking's second reminder. As for e-mail
/// (`mail::insert_outbound`), the only unique indexes of `communications` besides its key are
/// V9's and V52's partial ones, so for every other kind the conflict clause never applies.
async fn insert_outbound(
    tx: &impl GenericClient,
    id: &str,
    org: &str,
    t: &Text<'_>,
) -> Result<u64, tokio_postgres::Error> {
    tx.exec(
        "INSERT INTO communications (id, organization_id, customer_id, booking_id, channel, direction, type,
             subject, content, status, recipient, attempts, next_attempt_at)
         VALUES ($1, $2, $3, $4, 'sms', 'outbound', $5, $6, $7, 'pending', $8, 0, now())
         ON CONFLICT DO NOTHING",
        &[&id, &org, &t.customer_id, &t.booking_id, &t.kind, &t.subject, &t.body, &t.to],
    )
    .await
}

/// The callback URL Twilio is given for `org`'s texts, on the public base URL.
pub fn status_callback_url(public_base_url: &str, org: &str) -> String {
    format!("{}{STATUS_PATH}/{org}", public_base_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_signature_is_twilios_documented_example() {
        // Twilio's example from its "validating requests" documentation.
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let params = p(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675310"),
            ("Digits", "1234"),
            ("From", "+14158675310"),
            ("To", "+18005551212"),
        ]);
        assert_eq!(signature("12345", url, &params), "GvWf1cFY/Q7PnoempGyD5oXAezc=");
        assert!(verify("12345", url, &params, "GvWf1cFY/Q7PnoempGyD5oXAezc="));
        assert!(!verify("12346", url, &params, "GvWf1cFY/Q7PnoempGyD5oXAezc="));
        assert!(!verify("12345", "https://mycompany.com/other", &params, "GvWf1cFY/Q7PnoempGyD5oXAezc="));
        assert!(!verify("12345", url, &params[1..], "GvWf1cFY/Q7PnoempGyD5oXAezc="));
        assert!(!verify("12345", url, &params, "not base64!"));
        assert!(!verify("", url, &params, &signature("", url, &params)));
    }

    #[test]
    fn texts_are_off_without_an_account_token_and_number() {
        assert!(!SmsConfig::default().is_enabled());
        let on = SmsConfig {
            account_sid: Some("AC1".into()),
            auth_token: "t".into(),
            from_number: "+15005550006".into(),
            ..SmsConfig::default()
        };
        assert!(on.is_enabled());
        assert!(!SmsConfig { from_number: " ".into(), ..on.clone() }.is_enabled());
        assert!(!format!("{on:?}").contains("\"t\""), "the token is masked");
    }
}

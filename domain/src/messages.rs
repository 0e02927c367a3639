//! The messages the system sends customers, rendered from templates.
//!
//! Every kind of message ([`MessageKind`]) has a built-in template per language
//! ([`default_template`]); an organization may replace it with its own (kept by the server,
//! edited in the desk's settings). A template is a subject and a body with named placeholders in
//! braces, `{customer_name}`, `{reference}`, … ([`PLACEHOLDERS`]); `{{` and `}}` stand for a
//! literal brace. [`render`] fills them from a [`MessageData`] and refuses a template that names
//! a placeholder it does not know, saying which field (`subject` or `body`) holds it. A preview is
//! a render with [`MessageData::sample`], so the desk shows it live, offline, with this same code.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// What a message is about; its [`as_str`](MessageKind::as_str), also its JSON name, is the
/// `type` of its communications row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MessageKind {
    #[serde(rename = "booking_confirmation")]
    Confirmation,
    #[serde(rename = "booking_reminder")]
    Reminder,
    #[serde(rename = "booking_cancelled")]
    Cancellation,
    #[serde(rename = "refund")]
    Refund,
    #[serde(rename = "balance_request")]
    BalanceRequest,
    #[serde(rename = "departure_cancelled")]
    DepartureCancelled,
}

impl MessageKind {
    pub const ALL: [MessageKind; 6] = [
        MessageKind::Confirmation,
        MessageKind::Reminder,
        MessageKind::Cancellation,
        MessageKind::Refund,
        MessageKind::BalanceRequest,
        MessageKind::DepartureCancelled,
    ];

    /// The communications row's `type` (the names the outbox used before templates existed).
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Confirmation => "booking_confirmation",
            MessageKind::Reminder => "booking_reminder",
            MessageKind::Cancellation => "booking_cancelled",
            MessageKind::Refund => "refund",
            MessageKind::BalanceRequest => "balance_request",
            MessageKind::DepartureCancelled => "departure_cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<MessageKind> {
        MessageKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What staff see in the list of messages.
    pub fn label(self) -> &'static str {
        match self {
            MessageKind::Confirmation => "Booking confirmation",
            MessageKind::Reminder => "Reminder before the departure",
            MessageKind::Cancellation => "Booking cancelled",
            MessageKind::Refund => "Refund sent",
            MessageKind::BalanceRequest => "Balance due: please pay",
            MessageKind::DepartureCancelled => "Departure cancelled by us",
        }
    }
}

/// The languages with built-in templates; a customer's language outside these gets English.
pub const LANGUAGES: [&str; 2] = ["en", "de"];

/// The template language for a customer's preferred language (`de-AT` → `de`); English when
/// there is no template in it.
pub fn language_of(preferred: &str) -> &'static str {
    let primary = preferred.split(['-', '_']).next().unwrap_or("").trim().to_ascii_lowercase();
    LANGUAGES.into_iter().find(|l| *l == primary).unwrap_or("en")
}

/// A language name for the desk's list.
pub fn language_label(code: &str) -> &'static str {
    match code {
        "de" => "German",
        _ => "English",
    }
}

/// The placeholders a template may use, with what each stands for.
pub const PLACEHOLDERS: [(&str, &str); 13] = [
    ("customer_name", "the customer's first name (or full name)"),
    ("reference", "the booking reference"),
    ("tour", "the tour's name"),
    ("departure_time", "the departure's date and time, in its own time zone"),
    ("participants", "how many people are booked"),
    ("amount", "what was paid, with its currency"),
    ("balance", "what is still to pay, with its currency"),
    ("refund", "the refund, with its currency"),
    ("refund_details", "where the refund goes (card, office), in a sentence or two"),
    ("reason", "why the departure was called off"),
    ("meeting_point", "where to meet"),
    ("manage_link", "a link for the customer to see and change the booking"),
    ("payment_link", "a link to pay what is due"),
];

/// The longest subject and body a template may have, in characters.
pub const MAX_SUBJECT: usize = 200;
pub const MAX_BODY: usize = 10_000;

/// A subject and a body with placeholders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub subject: String,
    pub body: String,
}

/// The values placeholders stand for; empty when a message has none (a reminder's refund).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageData {
    pub customer_name: String,
    pub reference: String,
    pub tour: String,
    pub departure_time: String,
    pub participants: String,
    pub amount: String,
    pub balance: String,
    pub refund: String,
    pub refund_details: String,
    pub reason: String,
    pub meeting_point: String,
    pub manage_link: String,
    pub payment_link: String,
}

impl MessageData {
    fn value(&self, name: &str) -> Option<&str> {
        Some(match name {
            "customer_name" => &self.customer_name,
            "reference" => &self.reference,
            "tour" => &self.tour,
            "departure_time" => &self.departure_time,
            "participants" => &self.participants,
            "amount" => &self.amount,
            "balance" => &self.balance,
            "refund" => &self.refund,
            "refund_details" => &self.refund_details,
            "reason" => &self.reason,
            "meeting_point" => &self.meeting_point,
            "manage_link" => &self.manage_link,
            "payment_link" => &self.payment_link,
            _ => return None,
        })
    }

    /// Made-up values for a preview: a booking for two on an invented walk.
    pub fn sample(language: &str) -> MessageData {
        let de = language_of(language) == "de";
        MessageData {
            customer_name: "Anna".into(),
            reference: "BK-2026-ABC123".into(),
            tour: if de { "Altstadtführung".into() } else { "Old Town Walk".into() },
            departure_time: if de {
                "Freitag, 10. Juli 2026 um 09:30 (Europe/Berlin)".into()
            } else {
                "Friday 10 July 2026 at 09:30 (Europe/London)".into()
            },
            participants: "2".into(),
            amount: "£90.00".into(),
            balance: "£45.00".into(),
            refund: "£90.00".into(),
            refund_details: refund_details(language, "£90.00", "£90.00", ""),
            reason: if de { "Sturmwarnung".into() } else { "Storm warning".into() },
            meeting_point: if de { "Am Brunnen auf dem Marktplatz".into() } else { "By the fountain".into() },
            manage_link: "https://example.com/manage?token=…".into(),
            payment_link: "https://example.com/pay/…".into(),
        }
    }
}

/// Why a template cannot be used, and which of its fields is wrong (`subject` or `body`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct TemplateError {
    pub field: &'static str,
    pub message: String,
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// Checks a template as staff typed it: both parts present, within their lengths, the subject on
/// one line, and every placeholder known. The same check [`render`] makes.
pub fn validate(t: &Template) -> Result<(), TemplateError> {
    let err = |field, message: String| Err(TemplateError { field, message });
    if t.subject.trim().is_empty() {
        return err("subject", "a subject is required".into());
    }
    if t.subject.chars().count() > MAX_SUBJECT {
        return err("subject", format!("at most {MAX_SUBJECT} characters"));
    }
    if t.subject.contains(['\n', '\r']) {
        return err("subject", "the subject is one line".into());
    }
    if t.body.trim().is_empty() {
        return err("body", "the message text is required".into());
    }
    if t.body.chars().count() > MAX_BODY {
        return err("body", format!("at most {MAX_BODY} characters"));
    }
    fill("subject", &t.subject, &MessageData::default())?;
    fill("body", &t.body, &MessageData::default())?;
    Ok(())
}

/// Fills `t`'s placeholders from `data`.
pub fn render(t: &Template, data: &MessageData) -> Result<Rendered, TemplateError> {
    validate(t)?;
    Ok(Rendered { subject: fill("subject", &t.subject, data)?, body: fill("body", &t.body, data)? })
}

/// The template rendered with [`MessageData::sample`], for the desk's preview.
pub fn preview(t: &Template, language: &str) -> Result<Rendered, TemplateError> {
    render(t, &MessageData::sample(language))
}

fn fill(field: &'static str, text: &str, data: &MessageData) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if tail.starts_with('}') {
            return Err(TemplateError {
                field,
                message: "a closing } without its opening { (write }} for a brace)".into(),
            });
        } else {
            let Some(end) = tail.find('}') else {
                return Err(TemplateError {
                    field,
                    message: "an opening { without its closing } (write {{ for a brace)".into(),
                });
            };
            let name = &tail[1..end];
            let Some(v) = data.value(name.trim()) else {
                let known: Vec<String> = PLACEHOLDERS.iter().map(|(n, _)| format!("{{{n}}}")).collect();
                return Err(TemplateError {
                    field,
                    message: format!("{{{name}}} is not a placeholder; use one of {}", known.join(", ")),
                });
            };
            out.push_str(v);
            rest = &tail[end + 1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The built-in template of `kind` in `language` (English for a language without one).
pub fn default_template(kind: MessageKind, language: &str) -> Template {
    let (subject, body) = if language_of(language) == "de" { default_de(kind) } else { default_en(kind) };
    Template { subject: subject.into(), body: body.into() }
}

fn default_en(kind: MessageKind) -> (&'static str, &'static str) {
    match kind {
        MessageKind::Confirmation => (
            "Booking confirmed: {tour} — {reference}",
            "Thank you! Your booking {reference} is confirmed.\n\n{tour}\n{departure_time}\n\
             Participants: {participants}\nPaid: {amount}\n",
        ),
        MessageKind::Reminder => (
            "Reminder: {tour} on {departure_time}",
            "Hello {customer_name},\n\nA reminder of your booking {reference}: {tour}, {departure_time}, for \
             {participants} participant(s).\nMeeting point: {meeting_point}\n\nSee you there!\n",
        ),
        MessageKind::Cancellation => (
            "Booking cancelled: {tour} — {reference}",
            "Your booking {reference} is cancelled.\n\n{tour}\n{departure_time}\n\n{refund_details}\n",
        ),
        MessageKind::Refund => (
            "Refund for booking {reference}",
            "Hello {customer_name},\n\nWe have sent you a refund of {refund} for booking {reference} ({tour}). \
             It goes back to the card you paid with and may take a few days to appear.\n",
        ),
        MessageKind::BalanceRequest => (
            "Balance due for {tour} — {reference}",
            "Hello {customer_name},\n\n{balance} is still to pay for your booking {reference}: {tour}, \
             {departure_time}.\n\nYou can pay it here:\n\n{payment_link}\n",
        ),
        MessageKind::DepartureCancelled => (
            "Cancelled: {tour} on {departure_time}",
            "Hello,\n\nWe are sorry: {tour} on {departure_time} has been cancelled and will not run.\n\n\
             Reason: {reason}\n\nYour booking {reference} for {participants} guest(s) is cancelled. \
             {refund_details}\n\nYou are welcome to pick another date of {tour} instead. This link shows your \
             booking and the dates with seats left (it works for 14 days):\n\n{manage_link}\n\n\
             If you have any questions, just reply to this e-mail.\n",
        ),
    }
}

fn default_de(kind: MessageKind) -> (&'static str, &'static str) {
    match kind {
        MessageKind::Confirmation => (
            "Buchung bestätigt: {tour} — {reference}",
            "Vielen Dank! Ihre Buchung {reference} ist bestätigt.\n\n{tour}\n{departure_time}\n\
             Teilnehmende: {participants}\nBezahlt: {amount}\n",
        ),
        MessageKind::Reminder => (
            "Erinnerung: {tour} am {departure_time}",
            "Hallo {customer_name},\n\nwir erinnern an Ihre Buchung {reference}: {tour}, {departure_time}, für \
             {participants} Person(en).\nTreffpunkt: {meeting_point}\n\nBis bald!\n",
        ),
        MessageKind::Cancellation => (
            "Buchung storniert: {tour} — {reference}",
            "Ihre Buchung {reference} ist storniert.\n\n{tour}\n{departure_time}\n\n{refund_details}\n",
        ),
        MessageKind::Refund => (
            "Erstattung für Buchung {reference}",
            "Hallo {customer_name},\n\nwir haben Ihnen {refund} für die Buchung {reference} ({tour}) erstattet. \
             Der Betrag geht auf die Karte zurück, mit der Sie bezahlt haben, und kann einige Tage brauchen.\n",
        ),
        MessageKind::BalanceRequest => (
            "Offener Betrag für {tour} — {reference}",
            "Hallo {customer_name},\n\nfür Ihre Buchung {reference} ({tour}, {departure_time}) sind noch \
             {balance} offen.\n\nHier können Sie bezahlen:\n\n{payment_link}\n",
        ),
        MessageKind::DepartureCancelled => (
            "Abgesagt: {tour} am {departure_time}",
            "Hallo,\n\nes tut uns leid: {tour} am {departure_time} wurde abgesagt und findet nicht statt.\n\n\
             Grund: {reason}\n\nIhre Buchung {reference} für {participants} Person(en) ist storniert. \
             {refund_details}\n\nGern können Sie stattdessen einen anderen Termin wählen. Dieser Link zeigt Ihre \
             Buchung und die Termine mit freien Plätzen (14 Tage gültig):\n\n{manage_link}\n\n\
             Bei Fragen antworten Sie einfach auf diese E-Mail.\n",
        ),
    }
}

/// Whether a change of a booking's price (a modification, a move) asks the customer for the
/// balance: the price went up and something is left to pay. A change that lowered the price, or
/// a dearer one already covered by what was paid, asks for nothing.
pub fn asks_for_balance(old_total: i64, new_total: i64, balance_due: i64) -> bool {
    new_total > old_total && balance_due > 0
}

/// Where a refund goes, in a sentence or two: `refund` in total, `to_card` of it back to the
/// card, `by_hand` of it at the office (empty strings for none). No refund at all says so.
pub fn refund_details(language: &str, refund: &str, to_card: &str, by_hand: &str) -> String {
    let de = language_of(language) == "de";
    if refund.is_empty() {
        return if de {
            "Nach den Stornobedingungen wird nichts erstattet.".into()
        } else {
            "No refund is due under the cancellation policy.".into()
        };
    }
    let mut s = if de { format!("Erstattung: {refund}.") } else { format!("Refund: {refund}.") };
    if !to_card.is_empty() {
        s.push_str(&if de {
            format!(" {to_card} gehen auf die Karte zurück, mit der Sie bezahlt haben; das kann einige Tage dauern.")
        } else {
            format!(" {to_card} goes back to the card you paid with; it may take a few days to appear.")
        });
    }
    if !by_hand.is_empty() {
        s.push_str(&if de {
            format!(" {by_hand}, in unserem Büro bezahlt, erhalten Sie dort zurück; wir melden uns.")
        } else {
            format!(" {by_hand} paid at our office is given back there; we will be in touch.")
        });
    }
    s
}

const WEEKDAYS_DE: [&str; 7] = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"];
const MONTHS_DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

/// A departure's start as a customer reads it, in the departure's own zone:
/// `Friday 10 July 2026 at 09:30 (Europe/London)`, `Freitag, 10. Juli 2026 um 09:30 (Europe/Berlin)`.
pub fn departure_time(starts_at: DateTime<Utc>, zone: Tz, language: &str) -> String {
    let local = starts_at.with_timezone(&zone);
    if language_of(language) == "de" {
        let weekday = WEEKDAYS_DE[local.weekday().num_days_from_monday() as usize];
        let month = MONTHS_DE[local.month0() as usize];
        format!("{weekday}, {}. {month} {} um {} ({zone})", local.day(), local.year(), local.format("%H:%M"))
    } else {
        format!("{} ({zone})", local.format("%A %-d %B %Y at %H:%M"))
    }
}

/// The e-mail that offers a waitlisted customer the seats that came free (the waitlist job's),
/// in `language` (English unless it is one we write): subject and body, the departure's start and
/// the end of the hold in the departure's `zone`, `claim_link` where the link goes. It has no
/// template of its own: the link must be in it and the hold's end says when the offer lapses.
pub fn waitlist_offer(
    language: &str,
    tour: &str,
    seats: u32,
    starts_at: DateTime<Utc>,
    until: DateTime<Utc>,
    zone: Tz,
    claim_link: &str,
) -> (String, String) {
    let when = departure_time(starts_at, zone, language);
    let end = until.with_timezone(&zone);
    if language_of(language) == "de" {
        let weekday = WEEKDAYS_DE[end.weekday().num_days_from_monday() as usize];
        let month = MONTHS_DE[end.month0() as usize];
        let until = format!("{weekday}, {}. {month} um {} ({zone})", end.day(), end.format("%H:%M"));
        let places = if seats == 1 { "1 Platz".to_string() } else { format!("{seats} Plätze") };
        let are = if seats == 1 { "ist" } else { "sind" };
        (
            format!("Plätze für Sie frei: {tour}"),
            format!(
                "Hallo,\n\ngute Nachricht: {places} für {tour} am {when} {are} frei geworden und bis {until} für Sie \
                 reserviert.\n\nUm zu buchen, folgen Sie diesem Link und bezahlen Sie:\n{claim_link}\n\nWenn Sie die \
                 Plätze nicht mehr möchten, tun Sie nichts: Wenn die Reservierung endet, gehen sie an die nächste Person \
                 auf der Warteliste.\n"
            ),
        )
    } else {
        let until = format!("{} ({zone})", end.format("%A %-d %B at %H:%M"));
        (
            format!("Seats are free for you: {tour}"),
            format!(
                "Hello,\n\nGood news: {seats} seat(s) on {tour}, {when}, came free and are held for you until \
                 {until}.\n\nTo book them, follow this link and pay:\n{claim_link}\n\nIf you no longer want them, do \
                 nothing: when the hold ends they go to the next person waiting.\n"
            ),
        )
    }
}

/// One kind × language as the server holds it: the organization's own template, or the
/// built-in one when it has none (`customized` false). The desk's list and editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateEntry {
    pub kind: MessageKind,
    pub language: String,
    pub subject: String,
    pub body: String,
    pub customized: bool,
}

/// A template to check and render with sample data (`POST /api/v1/message-templates/preview`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    pub kind: MessageKind,
    pub language: String,
    pub subject: String,
    pub body: String,
}

/// Whether `language` is one templates are kept in.
pub fn is_language(language: &str) -> bool {
    LANGUAGES.contains(&language)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn placeholders_are_filled_and_braces_can_be_written() {
        let t = Template { subject: "{reference} for {customer_name}".into(), body: "{{literal}} {tour}".into() };
        let data = MessageData {
            reference: "BK-1".into(),
            customer_name: "Ann".into(),
            tour: "Walk".into(),
            ..MessageData::default()
        };
        let r = render(&t, &data).unwrap();
        assert_eq!((r.subject.as_str(), r.body.as_str()), ("BK-1 for Ann", "{literal} Walk"));
    }

    #[test]
    fn an_unknown_placeholder_is_refused_with_its_field() {
        let t = Template { subject: "Hi {customer}".into(), body: "ok".into() };
        let e = render(&t, &MessageData::default()).unwrap_err();
        assert_eq!(e.field, "subject");
        assert!(e.message.starts_with("{customer} is not a placeholder"), "{}", e.message);
        assert!(e.message.contains("{customer_name}"), "{}", e.message);
        let t = Template { subject: "Hi".into(), body: "see {manage_lnk}".into() };
        assert_eq!(validate(&t).unwrap_err().field, "body");
        for (body, why) in [("a { b", "opening"), ("a } b", "closing")] {
            let e = validate(&Template { subject: "s".into(), body: body.into() }).unwrap_err();
            assert!(e.field == "body" && e.message.contains(why), "{e:?}");
        }
    }

    #[test]
    fn empty_long_or_multiline_parts_are_refused() {
        let t = |s: &str, b: &str| Template { subject: s.into(), body: b.into() };
        assert_eq!(validate(&t(" ", "x")).unwrap_err().field, "subject");
        assert_eq!(validate(&t("a\nb", "x")).unwrap_err().field, "subject");
        assert_eq!(validate(&t(&"x".repeat(MAX_SUBJECT + 1), "x")).unwrap_err().field, "subject");
        assert_eq!(validate(&t("s", "")).unwrap_err().field, "body");
        assert_eq!(validate(&t("s", &"x".repeat(MAX_BODY + 1))).unwrap_err().field, "body");
    }

    #[test]
    fn every_built_in_template_renders_in_every_language() {
        for kind in MessageKind::ALL {
            assert_eq!(MessageKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            for lang in LANGUAGES {
                let r = preview(&default_template(kind, lang), lang).unwrap();
                assert!(r.body.contains("BK-2026-ABC123") || r.subject.contains("BK-2026-ABC123"), "{kind:?} {lang}");
                assert!(!r.body.contains('{'), "{kind:?} {lang}: {}", r.body);
            }
        }
        assert_eq!(default_template(MessageKind::Reminder, "fr-CA"), default_template(MessageKind::Reminder, "en"));
        assert_ne!(default_template(MessageKind::Reminder, "de-AT"), default_template(MessageKind::Reminder, "en"));
    }

    #[test]
    fn the_departure_time_is_in_the_departures_zone_and_language() {
        let at = Utc.with_ymd_and_hms(2026, 7, 10, 7, 30, 0).unwrap();
        assert_eq!(
            departure_time(at, chrono_tz::Europe::Berlin, "de"),
            "Freitag, 10. Juli 2026 um 09:30 (Europe/Berlin)"
        );
        assert_eq!(departure_time(at, chrono_tz::Europe::London, "en"), "Friday 10 July 2026 at 08:30 (Europe/London)");
    }

    #[test]
    fn only_a_dearer_change_that_leaves_money_owed_asks_for_the_balance() {
        assert!(asks_for_balance(10_000, 12_500, 2_500));
        assert!(!asks_for_balance(10_000, 12_500, 0), "already covered");
        assert!(!asks_for_balance(12_500, 10_000, 10_000), "cheaper: a still unpaid booking is not chased here");
        assert!(!asks_for_balance(10_000, 10_000, 10_000), "same price");
    }

    #[test]
    fn refund_details_say_where_the_money_goes() {
        assert!(refund_details("en", "", "", "").contains("No refund"));
        let s = refund_details("en", "£90.00", "£60.00", "£30.00");
        assert!(s.contains("£60.00 goes back to the card") && s.contains("£30.00 paid at our office"), "{s}");
        assert!(refund_details("de", "£90.00", "£90.00", "").contains("Karte"));
    }

    #[test]
    fn the_waitlist_offer_is_written_in_the_customers_language_in_the_departures_zone() {
        let starts = Utc.with_ymd_and_hms(2026, 7, 10, 7, 30, 0).unwrap();
        let until = Utc.with_ymd_and_hms(2026, 7, 8, 16, 0, 0).unwrap();
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let (subject, body) = waitlist_offer("de-AT", "Altstadt", 2, starts, until, berlin, "LINK");
        assert_eq!(subject, "Plätze für Sie frei: Altstadt");
        assert!(
            body.contains("2 Plätze für Altstadt am Freitag, 10. Juli 2026 um 09:30 (Europe/Berlin) sind frei"),
            "{body}"
        );
        assert!(body.contains("bis Mittwoch, 8. Juli um 18:00 (Europe/Berlin) für Sie reserviert"), "{body}");
        assert!(body.contains("\nLINK\n"), "{body}");
        let (_, one) = waitlist_offer("de", "Altstadt", 1, starts, until, berlin, "LINK");
        assert!(one.contains("1 Platz für Altstadt") && one.contains(" ist frei geworden"), "{one}");
        let (subject, body) = waitlist_offer("fr", "Old Town", 2, starts, until, berlin, "LINK");
        assert_eq!(subject, "Seats are free for you: Old Town");
        assert!(
            body.contains("2 seat(s) on Old Town, Friday 10 July 2026 at 09:30 (Europe/Berlin), came free"),
            "{body}"
        );
        assert!(body.contains("held for you until Wednesday 8 July at 18:00 (Europe/Berlin)"), "{body}");
    }
}

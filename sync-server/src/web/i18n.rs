//! The website's two languages: every customer-facing string, chosen from the URL (`?lang=`)
//! and then `Accept-Language`; money and dates written the way each language writes them.

use axum::http::HeaderMap;
use chrono::{Datelike, NaiveDate};
use tourdesk_domain::money::Currency;

use crate::website::types::MoneyDto;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

pub const LANGS: [Lang; 2] = [Lang::En, Lang::De];

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "de" => Some(Lang::De),
            _ => None,
        }
    }

    /// The URL's `lang` when it names one of ours, else the best of `Accept-Language` by its
    /// q-values (a region such as `de-AT` counts for its language), else English.
    pub fn choose(query: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(l) = query.and_then(Lang::parse) {
            return l;
        }
        let header = headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(l) = Lang::parse(primary)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, l));
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }

    pub fn tr(self) -> &'static Tr {
        match self {
            Lang::En => &EN,
            Lang::De => &DE,
        }
    }

    /// `amount` in its currency as this language writes it: `€1,234.50` / `1.234,50 €`.
    pub fn money(self, m: &MoneyDto) -> String {
        let Ok(currency) = Currency::parse(&m.currency) else { return m.formatted.clone() };
        let exp = u32::from(currency.exponent());
        let sign = if m.amount_minor < 0 { "-" } else { "" };
        let abs = m.amount_minor.unsigned_abs();
        let div = 10u64.pow(exp);
        let (group, decimal) = match self {
            Lang::En => (',', '.'),
            Lang::De => ('.', ','),
        };
        let major = group_thousands(abs / div, group);
        let number =
            if exp == 0 { major } else { format!("{major}{decimal}{:0width$}", abs % div, width = exp as usize) };
        match (self, currency.symbol()) {
            (Lang::En, Some(sym)) => format!("{sign}{sym}{number}"),
            (Lang::De, Some(sym)) => format!("{sign}{number}\u{a0}{sym}"),
            (_, None) => format!("{}\u{a0}{sign}{number}", m.currency),
        }
    }

    /// "Saturday, 5 December 2026" / "Samstag, 5. Dezember 2026".
    pub fn long_date(self, d: NaiveDate) -> String {
        let wd = self.tr().weekdays[d.weekday().num_days_from_monday() as usize];
        let month = self.tr().months[d.month0() as usize];
        match self {
            Lang::En => format!("{wd}, {} {month} {}", d.day(), d.year()),
            Lang::De => format!("{wd}, {}. {month} {}", d.day(), d.year()),
        }
    }

    /// "December 2026" / "Dezember 2026".
    pub fn month_title(self, d: NaiveDate) -> String {
        format!("{} {}", self.tr().months[d.month0() as usize], d.year())
    }

    /// "3 h 30 min" in both.
    pub fn duration(self, minutes: u32) -> String {
        match (minutes / 60, minutes % 60) {
            (0, m) => format!("{m} min"),
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} min"),
        }
    }

    pub fn category(self, c: &str) -> &'static str {
        let t = self.tr();
        match c {
            "walking" => t.cat_walking,
            "food" => t.cat_food,
            "cultural" => t.cat_cultural,
            "adventure" => t.cat_adventure,
            "nature" => t.cat_nature,
            "photography" => t.cat_photography,
            "private" => t.cat_private,
            _ => t.cat_custom,
        }
    }

    /// A booking's or payment's status word.
    pub fn status(self, s: &str) -> &'static str {
        let t = self.tr();
        match s {
            "confirmed" => t.st_confirmed,
            "pending" => t.st_pending,
            "cancelled" => t.st_cancelled,
            "completed" => t.st_completed,
            "no_show" => t.st_no_show,
            "paid" => t.st_paid,
            "unpaid" => t.st_unpaid,
            "partially_paid" | "partial" => t.st_partially_paid,
            "refunded" => t.st_refunded,
            "partially_refunded" => t.st_partially_refunded,
            _ => t.st_other,
        }
    }

    /// What an error the server gave means, for the customer: by its code where this language has
    /// its own words, else the message as the domain wrote it.
    pub fn error(self, code: &str, message: &str) -> String {
        let t = self.tr();
        let own = match code {
            "CAPACITY_EXCEEDED" => Some(t.err_capacity),
            "DEPARTURE_NOT_BOOKABLE" => Some(t.err_not_bookable),
            "PRICE_CHANGED" => Some(t.err_price_changed),
            "NOT_BOOKABLE" => Some(t.err_not_bookable),
            "NOT_FOUND" => Some(t.err_not_found),
            "UNAVAILABLE" => Some(t.err_unavailable),
            "RATE_LIMITED" => Some(t.err_rate_limited),
            "UNAUTHORIZED" => Some(t.err_link_expired),
            _ => None,
        };
        match (self, own) {
            (_, Some(s)) => s.to_string(),
            (Lang::En, None) => capitalise(message),
            (Lang::De, None) => format!("{} ({})", t.err_invalid, message),
        }
    }
}

impl Lang {
    /// A promo code's refusal (`PromoDto::reason`) in this language; English is the domain's own
    /// sentence, which carries the details (a date, a minimum).
    pub fn promo_refusal(self, reason: Option<&str>, message: &str) -> String {
        match self {
            Lang::En => message.to_string(),
            Lang::De => match reason.unwrap_or("") {
                "not_found" => "Diesen Code kennen wir nicht.".into(),
                "inactive" => "Dieser Code ist nicht aktiv.".into(),
                "expired" => "Dieser Code ist abgelaufen.".into(),
                "not_yet_valid" => "Dieser Code gilt noch nicht.".into(),
                "usage_limit_reached" => "Dieser Code ist aufgebraucht.".into(),
                "customer_limit_reached" => "Sie haben diesen Code schon so oft wie erlaubt verwendet.".into(),
                "below_minimum" => "Dieser Code gilt erst ab einem höheren Buchungswert.".into(),
                "not_for_this_tour" => "Dieser Code gilt nicht für diese Tour.".into(),
                "not_for_this_variant" => "Dieser Code gilt nicht für diese Option der Tour.".into(),
                "currency_mismatch" => "Dieser Code gilt nur für Preise in einer anderen Währung.".into(),
                _ => format!("{} ({message})", DE.err_invalid),
            },
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn group_thousands(n: u64, sep: char) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

/// Every string a customer reads, per language. A missing translation does not compile.
pub struct Tr {
    pub lang: &'static str,
    pub site_name: &'static str,
    pub skip_to_content: &'static str,
    pub language: &'static str,
    pub tours_title: &'static str,
    pub tours_description: &'static str,
    pub filter: &'static str,
    pub category: &'static str,
    pub all_categories: &'static str,
    pub date: &'static str,
    pub apply_filters: &'static str,
    pub no_tours: &'static str,
    pub from_price: &'static str,
    pub duration: &'static str,
    pub view_tour: &'static str,
    pub highlights: &'static str,
    pub included: &'static str,
    pub not_included: &'static str,
    pub what_to_bring: &'static str,
    pub faqs: &'static str,
    pub meeting_point: &'static str,
    pub languages: &'static str,
    pub accessibility: &'static str,
    pub cancellation_policy: &'static str,
    pub refund_rule: &'static str,
    pub check_availability: &'static str,
    pub availability_title: &'static str,
    pub prev_month: &'static str,
    pub next_month: &'static str,
    pub day_available: &'static str,
    pub day_limited: &'static str,
    pub day_sold_out: &'static str,
    pub day_none: &'static str,
    pub departures_on: &'static str,
    pub pick_a_day: &'static str,
    pub seats_left: &'static str,
    pub sold_out: &'static str,
    pub book: &'static str,
    pub times_in_zone: &'static str,
    pub checkout_title: &'static str,
    pub participants: &'static str,
    pub per_booking: &'static str,
    pub contact: &'static str,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub optional: &'static str,
    pub special_requests: &'static str,
    pub promo_code: &'static str,
    pub promo_applied: &'static str,
    pub update_quote: &'static str,
    pub your_price: &'static str,
    pub subtotal: &'static str,
    pub total: &'static str,
    pub tax_included: &'static str,
    pub continue_to_payment: &'static str,
    pub payment_title: &'static str,
    pub seats_held_until: &'static str,
    pub pay_now: &'static str,
    pub payment_retry: &'static str,
    pub try_again: &'static str,
    pub needs_js: &'static str,
    pub confirmation_title: &'static str,
    pub booking_reference: &'static str,
    pub confirmed_text: &'static str,
    pub pending_text: &'static str,
    pub status: &'static str,
    pub payment: &'static str,
    pub paid: &'static str,
    pub refunded: &'static str,
    pub manage_title: &'static str,
    pub manage_intro: &'static str,
    pub reference: &'static str,
    pub send_link: &'static str,
    pub link_sent: &'static str,
    pub your_booking: &'static str,
    pub cancel_booking: &'static str,
    pub cancel_refund_preview: &'static str,
    pub cancel_no_refund: &'static str,
    pub cancel_confirm: &'static str,
    pub cancel_reason: &'static str,
    pub cancelled_text: &'static str,
    pub move_title: &'static str,
    pub move_pick: &'static str,
    pub move_see_price: &'static str,
    pub move_none: &'static str,
    pub move_new_date: &'static str,
    pub move_new_total: &'static str,
    pub move_pay_more: &'static str,
    pub move_refund: &'static str,
    pub move_same_price: &'static str,
    pub move_confirm: &'static str,
    pub move_other_date: &'static str,
    pub move_done: &'static str,
    pub move_seats_left: &'static str,
    pub balance_due: &'static str,
    pub refund: &'static str,
    pub error_title: &'static str,
    pub not_found_title: &'static str,
    pub back_to_tours: &'static str,
    pub fix_errors: &'static str,
    pub err_capacity: &'static str,
    pub err_not_bookable: &'static str,
    pub err_price_changed: &'static str,
    pub err_not_found: &'static str,
    pub err_unavailable: &'static str,
    pub err_rate_limited: &'static str,
    pub err_link_expired: &'static str,
    pub err_invalid: &'static str,
    pub err_required: &'static str,
    pub err_quantity: &'static str,
    pub cat_walking: &'static str,
    pub cat_food: &'static str,
    pub cat_cultural: &'static str,
    pub cat_adventure: &'static str,
    pub cat_nature: &'static str,
    pub cat_photography: &'static str,
    pub cat_private: &'static str,
    pub cat_custom: &'static str,
    pub st_confirmed: &'static str,
    pub st_pending: &'static str,
    pub st_cancelled: &'static str,
    pub st_completed: &'static str,
    pub st_no_show: &'static str,
    pub st_paid: &'static str,
    pub st_unpaid: &'static str,
    pub st_partially_paid: &'static str,
    pub st_refunded: &'static str,
    pub st_partially_refunded: &'static str,
    pub st_other: &'static str,
    pub weekdays: [&'static str; 7],
    pub weekdays_short: [&'static str; 7],
    pub months: [&'static str; 12],
}

pub static EN: Tr = Tr {
    lang: "en",
    site_name: "Book a tour",
    skip_to_content: "Skip to content",
    language: "Language",
    tours_title: "Tours",
    tours_description: "Tours you can book online, with live availability and instant confirmation.",
    filter: "Filter tours",
    category: "Category",
    all_categories: "All categories",
    date: "Date",
    apply_filters: "Show tours",
    no_tours: "No tours match these filters.",
    from_price: "from",
    duration: "Duration",
    view_tour: "See the tour",
    highlights: "Highlights",
    included: "Included",
    not_included: "Not included",
    what_to_bring: "What to bring",
    faqs: "Questions and answers",
    meeting_point: "Meeting point",
    languages: "Languages",
    accessibility: "Accessibility",
    cancellation_policy: "Cancellation policy",
    refund_rule: "hours or more before the start: refund of",
    check_availability: "Check availability",
    availability_title: "Dates and availability",
    prev_month: "Previous month",
    next_month: "Next month",
    day_available: "available",
    day_limited: "few seats left",
    day_sold_out: "sold out",
    day_none: "no departures",
    departures_on: "Departures on",
    pick_a_day: "Pick a day in the calendar to see its departures.",
    seats_left: "seats left",
    sold_out: "Sold out",
    book: "Book",
    times_in_zone: "Times are local times in",
    checkout_title: "Your booking",
    participants: "Participants",
    per_booking: "per booking",
    contact: "Contact details",
    first_name: "First name",
    last_name: "Last name",
    email: "E-mail",
    phone: "Phone",
    optional: "optional",
    special_requests: "Special requests",
    promo_code: "Promo code",
    promo_applied: "Promo code applied",
    update_quote: "Update price",
    your_price: "Your price",
    subtotal: "Subtotal",
    total: "Total",
    tax_included: "included",
    continue_to_payment: "Continue to payment",
    payment_title: "Payment",
    seats_held_until: "Your seats are held until",
    pay_now: "Pay now",
    payment_retry: "The payment service cannot be reached right now. Your seats stay held; try again in a moment.",
    try_again: "Try again",
    needs_js: "Paying by card needs JavaScript in this step.",
    confirmation_title: "Thank you",
    booking_reference: "Booking reference",
    confirmed_text: "Your booking is confirmed. A confirmation is on its way to your e-mail.",
    pending_text: "We are waiting for the payment to be confirmed. This page shows the booking as soon as it is.",
    status: "Status",
    payment: "Payment",
    paid: "Paid",
    refunded: "Refunded",
    manage_title: "Manage my booking",
    manage_intro: "Enter your booking reference and e-mail: we send you a link to see or cancel the booking.",
    reference: "Booking reference",
    send_link: "Send me the link",
    link_sent: "If the booking exists, a link to manage it is on its way to that e-mail.",
    your_booking: "Your booking",
    cancel_booking: "Cancel booking",
    cancel_refund_preview: "If you cancel now, you get back",
    cancel_no_refund: "If you cancel now, no refund is due under the cancellation policy.",
    cancel_confirm: "Yes, cancel this booking",
    cancel_reason: "Reason (optional)",
    cancelled_text: "The booking is cancelled.",
    move_title: "Change the date",
    move_pick: "New date",
    move_see_price: "See the price",
    move_none: "There is no other date with enough seats to move this booking to.",
    move_new_date: "New date:",
    move_new_total: "New price:",
    move_pay_more: "You pay the difference:",
    move_refund: "You get back:",
    move_same_price: "The price stays the same.",
    move_confirm: "Move my booking",
    move_other_date: "Choose another date",
    move_done: "Your booking is moved to the new date.",
    move_seats_left: "seats left",
    balance_due: "Balance due",
    refund: "Refund",
    error_title: "Something went wrong",
    not_found_title: "Page not found",
    back_to_tours: "Back to the tours",
    fix_errors: "Please correct the fields marked below.",
    err_capacity: "Not enough seats left on this departure. Please choose fewer participants or another date.",
    err_not_bookable: "This departure can no longer be booked.",
    err_price_changed: "The price changed since you saw it. Please check the new total and book again.",
    err_not_found: "We could not find that.",
    err_unavailable: "The service is busy for a moment. Please try again shortly.",
    err_rate_limited: "Too many requests. Please wait a moment and try again.",
    err_link_expired: "This link has expired or was already used. Ask for a new one below.",
    err_invalid: "Please check this field",
    err_required: "Please fill this in.",
    err_quantity: "Choose at least one participant.",
    cat_walking: "Walking tours",
    cat_food: "Food tours",
    cat_cultural: "Culture",
    cat_adventure: "Adventure",
    cat_nature: "Nature",
    cat_photography: "Photography",
    cat_private: "Private tours",
    cat_custom: "Other",
    st_confirmed: "confirmed",
    st_pending: "awaiting payment",
    st_cancelled: "cancelled",
    st_completed: "completed",
    st_no_show: "no-show",
    st_paid: "paid",
    st_unpaid: "unpaid",
    st_partially_paid: "partially paid",
    st_refunded: "refunded",
    st_partially_refunded: "partially refunded",
    st_other: "in progress",
    weekdays: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    weekdays_short: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    months: [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
};

pub static DE: Tr = Tr {
    lang: "de",
    site_name: "Tour buchen",
    skip_to_content: "Zum Inhalt springen",
    language: "Sprache",
    tours_title: "Touren",
    tours_description: "Touren online buchen, mit aktueller Verfügbarkeit und sofortiger Bestätigung.",
    filter: "Touren filtern",
    category: "Kategorie",
    all_categories: "Alle Kategorien",
    date: "Datum",
    apply_filters: "Touren anzeigen",
    no_tours: "Keine Tour passt zu diesen Filtern.",
    from_price: "ab",
    duration: "Dauer",
    view_tour: "Zur Tour",
    highlights: "Höhepunkte",
    included: "Inklusive",
    not_included: "Nicht inklusive",
    what_to_bring: "Mitzubringen",
    faqs: "Fragen und Antworten",
    meeting_point: "Treffpunkt",
    languages: "Sprachen",
    accessibility: "Barrierefreiheit",
    cancellation_policy: "Stornierungsbedingungen",
    refund_rule: "Stunden oder mehr vor Beginn: Erstattung von",
    check_availability: "Verfügbarkeit prüfen",
    availability_title: "Termine und Verfügbarkeit",
    prev_month: "Voriger Monat",
    next_month: "Nächster Monat",
    day_available: "verfügbar",
    day_limited: "nur noch wenige Plätze",
    day_sold_out: "ausgebucht",
    day_none: "keine Termine",
    departures_on: "Termine am",
    pick_a_day: "Wählen Sie einen Tag im Kalender, um seine Termine zu sehen.",
    seats_left: "Plätze frei",
    sold_out: "Ausgebucht",
    book: "Buchen",
    times_in_zone: "Uhrzeiten in Ortszeit",
    checkout_title: "Ihre Buchung",
    participants: "Teilnehmer",
    per_booking: "pro Buchung",
    contact: "Kontaktdaten",
    first_name: "Vorname",
    last_name: "Nachname",
    email: "E-Mail",
    phone: "Telefon",
    optional: "optional",
    special_requests: "Besondere Wünsche",
    promo_code: "Gutscheincode",
    promo_applied: "Gutscheincode angewendet",
    update_quote: "Preis aktualisieren",
    your_price: "Ihr Preis",
    subtotal: "Zwischensumme",
    total: "Gesamt",
    tax_included: "enthalten",
    continue_to_payment: "Weiter zur Zahlung",
    payment_title: "Zahlung",
    seats_held_until: "Ihre Plätze sind reserviert bis",
    pay_now: "Jetzt bezahlen",
    payment_retry: "Der Zahlungsdienst ist gerade nicht erreichbar. Ihre Plätze bleiben reserviert; versuchen Sie es gleich noch einmal.",
    try_again: "Erneut versuchen",
    needs_js: "Die Kartenzahlung braucht in diesem Schritt JavaScript.",
    confirmation_title: "Vielen Dank",
    booking_reference: "Buchungsnummer",
    confirmed_text: "Ihre Buchung ist bestätigt. Eine Bestätigung ist per E-Mail unterwegs.",
    pending_text: "Wir warten auf die Bestätigung der Zahlung. Diese Seite zeigt die Buchung, sobald sie da ist.",
    status: "Status",
    payment: "Zahlung",
    paid: "Bezahlt",
    refunded: "Erstattet",
    manage_title: "Meine Buchung verwalten",
    manage_intro: "Geben Sie Buchungsnummer und E-Mail ein: Wir senden Ihnen einen Link, um die Buchung zu sehen oder zu stornieren.",
    reference: "Buchungsnummer",
    send_link: "Link senden",
    link_sent: "Falls die Buchung existiert, ist ein Link zur Verwaltung an diese E-Mail unterwegs.",
    your_booking: "Ihre Buchung",
    cancel_booking: "Buchung stornieren",
    cancel_refund_preview: "Wenn Sie jetzt stornieren, erhalten Sie zurück:",
    cancel_no_refund: "Wenn Sie jetzt stornieren, steht nach den Stornierungsbedingungen keine Erstattung zu.",
    cancel_confirm: "Ja, diese Buchung stornieren",
    cancel_reason: "Grund (optional)",
    cancelled_text: "Die Buchung ist storniert.",
    move_title: "Datum ändern",
    move_pick: "Neues Datum",
    move_see_price: "Preis ansehen",
    move_none: "Es gibt kein anderes Datum mit genug freien Plätzen für diese Buchung.",
    move_new_date: "Neues Datum:",
    move_new_total: "Neuer Preis:",
    move_pay_more: "Sie zahlen die Differenz:",
    move_refund: "Sie erhalten zurück:",
    move_same_price: "Der Preis bleibt gleich.",
    move_confirm: "Buchung verschieben",
    move_other_date: "Anderes Datum wählen",
    move_done: "Ihre Buchung ist auf das neue Datum verschoben.",
    move_seats_left: "Plätze frei",
    balance_due: "Offener Betrag",
    refund: "Erstattung",
    error_title: "Etwas ist schiefgegangen",
    not_found_title: "Seite nicht gefunden",
    back_to_tours: "Zurück zu den Touren",
    fix_errors: "Bitte korrigieren Sie die markierten Felder.",
    err_capacity: "Für diesen Termin sind nicht mehr genug Plätze frei. Bitte wählen Sie weniger Teilnehmer oder einen anderen Termin.",
    err_not_bookable: "Dieser Termin kann nicht mehr gebucht werden.",
    err_price_changed: "Der Preis hat sich geändert. Bitte prüfen Sie den neuen Gesamtpreis und buchen Sie erneut.",
    err_not_found: "Das konnten wir nicht finden.",
    err_unavailable: "Der Dienst ist gerade ausgelastet. Bitte versuchen Sie es gleich noch einmal.",
    err_rate_limited: "Zu viele Anfragen. Bitte warten Sie einen Moment.",
    err_link_expired: "Dieser Link ist abgelaufen oder wurde schon verwendet. Fordern Sie unten einen neuen an.",
    err_invalid: "Bitte prüfen Sie dieses Feld",
    err_required: "Bitte ausfüllen.",
    err_quantity: "Wählen Sie mindestens einen Teilnehmer.",
    cat_walking: "Stadtrundgänge",
    cat_food: "Kulinarische Touren",
    cat_cultural: "Kultur",
    cat_adventure: "Abenteuer",
    cat_nature: "Natur",
    cat_photography: "Fotografie",
    cat_private: "Private Touren",
    cat_custom: "Sonstiges",
    st_confirmed: "bestätigt",
    st_pending: "Zahlung ausstehend",
    st_cancelled: "storniert",
    st_completed: "abgeschlossen",
    st_no_show: "nicht erschienen",
    st_paid: "bezahlt",
    st_unpaid: "unbezahlt",
    st_partially_paid: "teilweise bezahlt",
    st_refunded: "erstattet",
    st_partially_refunded: "teilweise erstattet",
    st_other: "in Bearbeitung",
    weekdays: ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
    weekdays_short: ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"],
    months: [
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
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    fn m(amount_minor: i64, currency: &str) -> MoneyDto {
        MoneyDto { amount_minor, currency: currency.into(), formatted: String::new() }
    }

    #[test]
    fn money_is_written_per_language() {
        assert_eq!(Lang::En.money(&m(123_450, "EUR")), "€1,234.50");
        assert_eq!(Lang::De.money(&m(123_450, "EUR")), "1.234,50\u{a0}€");
        assert_eq!(Lang::De.money(&m(1_500, "JPY")), "1.500\u{a0}¥");
        assert_eq!(Lang::En.money(&m(1_500, "KWD")), "KWD\u{a0}1.500");
    }

    #[test]
    fn language_from_url_then_accept_language() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::choose(None, &h), Lang::En);
        h.insert(
            axum::http::header::ACCEPT_LANGUAGE,
            "fr;q=0.9, de-AT;q=0.8, en;q=0.5".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(Lang::choose(None, &h), Lang::De);
        assert_eq!(Lang::choose(Some("en"), &h), Lang::En);
        assert_eq!(Lang::choose(Some("xx"), &h), Lang::De);
    }
}

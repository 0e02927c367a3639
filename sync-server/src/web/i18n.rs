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
            "NOTHING_DUE" => Some(t.err_nothing_due),
            "OFFER_LAPSED" => Some(t.err_offer_lapsed),
            "WAITLIST_REFUSED" => Some(t.err_waitlist_refused),
            "GIFT_CARD_UNKNOWN" => Some(t.err_gift_card_unknown),
            "GIFT_CARD_EXPIRED" => Some(t.err_gift_card_expired),
            "GIFT_CARD_USED_UP" => Some(t.err_gift_card_used_up),
            "GIFT_CARD_CURRENCY" => Some(t.err_gift_card_currency),
            "GIFT_CARD_INVALID" => Some(t.err_gift_card_format),
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
    /// A problem with a review form's field (`tourdesk_domain::reviews::Problem`) in this language.
    pub fn review_problem(self, p: tourdesk_domain::reviews::Problem) -> String {
        use tourdesk_domain::reviews::{MAX_RATING, MIN_RATING, Problem};
        match (self, p) {
            (_, Problem::Required) => self.tr().err_required.to_string(),
            (Lang::En, Problem::RatingRange) => format!("Choose from {MIN_RATING} to {MAX_RATING} stars."),
            (Lang::De, Problem::RatingRange) => format!("Wählen Sie {MIN_RATING} bis {MAX_RATING} Sterne."),
            (Lang::En, Problem::TooShort { min }) => format!("Please write at least {min} characters."),
            (Lang::De, Problem::TooShort { min }) => format!("Bitte schreiben Sie mindestens {min} Zeichen."),
            (Lang::En, Problem::TooLong { max }) => format!("Please keep it to {max} characters."),
            (Lang::De, Problem::TooLong { max }) => format!("Bitte höchstens {max} Zeichen."),
        }
    }

    /// An average in tenths of a star as this language writes it ("4.3" / "4,3").
    pub fn rating(self, tenths: u32) -> String {
        let sep = if self == Lang::De { ',' } else { '.' };
        format!("{}{sep}{}", tenths / 10, tenths % 10)
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

/// Every string a customer reads, English and German side by side: the macro makes `Tr` and
/// its `EN` and `DE`, so a key without both words does not compile.
macro_rules! words {
    (
        strings { $($key:ident: $en:literal / $de:literal,)* }
        lists { $($list:ident: [$n:literal] = [$($len:literal),*] / [$($lde:literal),*],)* }
    ) => {
        /// Every string a customer reads, in one language.
        pub struct Tr {
            pub lang: &'static str,
            $(pub $key: &'static str,)*
            $(pub $list: [&'static str; $n],)*
        }

        pub static EN: Tr = Tr { lang: "en", $($key: $en,)* $($list: [$($len),*],)* };

        pub static DE: Tr = Tr { lang: "de", $($key: $de,)* $($list: [$($lde),*],)* };
    };
}

words! {
    strings {
        site_name: "Book a tour" / "Tour buchen",
        skip_to_content: "Skip to content" / "Zum Inhalt springen",
        language: "Language" / "Sprache",
        tours_title: "Tours" / "Touren",
        tours_description:
            "Tours you can book online, with live availability and instant confirmation."
            / "Touren online buchen, mit aktueller Verfügbarkeit und sofortiger Bestätigung.",
        filter: "Filter tours" / "Touren filtern",
        category: "Category" / "Kategorie",
        all_categories: "All categories" / "Alle Kategorien",
        date: "Date" / "Datum",
        apply_filters: "Show tours" / "Touren anzeigen",
        no_tours: "No tours match these filters." / "Keine Tour passt zu diesen Filtern.",
        from_price: "from" / "ab",
        duration: "Duration" / "Dauer",
        view_tour: "See the tour" / "Zur Tour",
        highlights: "Highlights" / "Höhepunkte",
        included: "Included" / "Inklusive",
        not_included: "Not included" / "Nicht inklusive",
        what_to_bring: "What to bring" / "Mitzubringen",
        faqs: "Questions and answers" / "Fragen und Antworten",
        meeting_point: "Meeting point" / "Treffpunkt",
        languages: "Languages" / "Sprachen",
        accessibility: "Accessibility" / "Barrierefreiheit",
        cancellation_policy: "Cancellation policy" / "Stornierungsbedingungen",
        refund_rule: "hours or more before the start: refund of" / "Stunden oder mehr vor Beginn: Erstattung von",
        check_availability: "Check availability" / "Verfügbarkeit prüfen",
        availability_title: "Dates and availability" / "Termine und Verfügbarkeit",
        prev_month: "Previous month" / "Voriger Monat",
        next_month: "Next month" / "Nächster Monat",
        day_available: "available" / "verfügbar",
        day_limited: "few seats left" / "nur noch wenige Plätze",
        day_sold_out: "sold out" / "ausgebucht",
        day_none: "no departures" / "keine Termine",
        departures_on: "Departures on" / "Termine am",
        pick_a_day:
            "Pick a day in the calendar to see its departures."
            / "Wählen Sie einen Tag im Kalender, um seine Termine zu sehen.",
        seats_left: "seats left" / "Plätze frei",
        sold_out: "Sold out" / "Ausgebucht",
        book: "Book" / "Buchen",
        times_in_zone: "Times are local times in" / "Uhrzeiten in Ortszeit",
        checkout_title: "Your booking" / "Ihre Buchung",
        participants: "Participants" / "Teilnehmer",
        per_booking: "per booking" / "pro Buchung",
        contact: "Contact details" / "Kontaktdaten",
        first_name: "First name" / "Vorname",
        last_name: "Last name" / "Nachname",
        email: "E-mail" / "E-Mail",
        phone: "Phone" / "Telefon",
        optional: "optional" / "optional",
        special_requests: "Special requests" / "Besondere Wünsche",
        promo_code: "Promo code" / "Gutscheincode",
        gift_card_code: "Gift card code" / "Geschenkkartencode",
        gift_card_covers: "Paid by gift card" / "Mit Geschenkkarte bezahlt",
        left_to_pay: "Left to pay by card" / "Noch per Karte zu zahlen",
        participant_names: "Names of the participants" / "Namen der Teilnehmer",
        participant_n: "Participant" / "Teilnehmer",
        err_gift_card_unknown: "We do not know this gift card code." / "Diesen Geschenkkartencode kennen wir nicht.",
        err_gift_card_expired: "This gift card has expired." / "Diese Geschenkkarte ist abgelaufen.",
        err_gift_card_used_up: "This gift card has been used up." / "Diese Geschenkkarte ist aufgebraucht.",
        err_gift_card_currency:
            "This gift card is in another currency than this tour."
            / "Diese Geschenkkarte ist in einer anderen Währung als diese Tour.",
        err_gift_card_format:
            "A gift card code has 8 to 24 letters and digits."
            / "Ein Geschenkkartencode hat 8 bis 24 Buchstaben und Ziffern.",
        promo_applied: "Promo code applied" / "Gutscheincode angewendet",
        update_quote: "Update price" / "Preis aktualisieren",
        your_price: "Your price" / "Ihr Preis",
        subtotal: "Subtotal" / "Zwischensumme",
        total: "Total" / "Gesamt",
        tax_included: "included" / "enthalten",
        continue_to_payment: "Continue to payment" / "Weiter zur Zahlung",
        payment_title: "Payment" / "Zahlung",
        seats_held_until: "Your seats are held until" / "Ihre Plätze sind reserviert bis",
        pay_now: "Pay now" / "Jetzt bezahlen",
        payment_retry:
            "The payment service cannot be reached right now. Your seats stay held; try again in a moment."
            / "Der Zahlungsdienst ist gerade nicht erreichbar. Ihre Plätze bleiben reserviert; versuchen Sie es gleich noch einmal.",
        try_again: "Try again" / "Erneut versuchen",
        needs_js:
            "Paying by card needs JavaScript in this step."
            / "Die Kartenzahlung braucht in diesem Schritt JavaScript.",
        confirmation_title: "Thank you" / "Vielen Dank",
        booking_reference: "Booking reference" / "Buchungsnummer",
        confirmed_text:
            "Your booking is confirmed. A confirmation is on its way to your e-mail."
            / "Ihre Buchung ist bestätigt. Eine Bestätigung ist per E-Mail unterwegs.",
        pending_text:
            "We are waiting for the payment to be confirmed. This page shows the booking as soon as it is."
            / "Wir warten auf die Bestätigung der Zahlung. Diese Seite zeigt die Buchung, sobald sie da ist.",
        status: "Status" / "Status",
        payment: "Payment" / "Zahlung",
        paid: "Paid" / "Bezahlt",
        refunded: "Refunded" / "Erstattet",
        manage_title: "Manage my booking" / "Meine Buchung verwalten",
        manage_intro:
            "Enter your booking reference and e-mail: we send you a link to see or cancel the booking."
            / "Geben Sie Buchungsnummer und E-Mail ein: Wir senden Ihnen einen Link, um die Buchung zu sehen oder zu stornieren.",
        reference: "Booking reference" / "Buchungsnummer",
        send_link: "Send me the link" / "Link senden",
        link_sent:
            "If the booking exists, a link to manage it is on its way to that e-mail."
            / "Falls die Buchung existiert, ist ein Link zur Verwaltung an diese E-Mail unterwegs.",
        your_booking: "Your booking" / "Ihre Buchung",
        cancel_booking: "Cancel booking" / "Buchung stornieren",
        cancel_refund_preview: "If you cancel now, you get back" / "Wenn Sie jetzt stornieren, erhalten Sie zurück:",
        cancel_no_refund:
            "If you cancel now, no refund is due under the cancellation policy."
            / "Wenn Sie jetzt stornieren, steht nach den Stornierungsbedingungen keine Erstattung zu.",
        cancel_confirm: "Yes, cancel this booking" / "Ja, diese Buchung stornieren",
        cancel_reason: "Reason (optional)" / "Grund (optional)",
        cancelled_text: "The booking is cancelled." / "Die Buchung ist storniert.",
        move_title: "Change the date" / "Datum ändern",
        move_pick: "New date" / "Neues Datum",
        move_see_price: "See the price" / "Preis ansehen",
        move_none: "There is no other date with enough seats to move this booking to." / "Es gibt kein anderes Datum mit genug freien Plätzen für diese Buchung.",
        move_new_date: "New date:" / "Neues Datum:",
        move_new_total: "New price:" / "Neuer Preis:",
        move_pay_more: "You pay the difference:" / "Sie zahlen die Differenz:",
        move_refund: "You get back:" / "Sie erhalten zurück:",
        move_same_price: "The price stays the same." / "Der Preis bleibt gleich.",
        move_confirm: "Move my booking" / "Buchung verschieben",
        move_other_date: "Choose another date" / "Anderes Datum wählen",
        move_done: "Your booking is moved to the new date." / "Ihre Buchung ist auf das neue Datum verschoben.",
        move_seats_left: "seats left" / "Plätze frei",
        balance_due: "Balance due" / "Offener Betrag",
        balance_title: "Pay the balance" / "Offenen Betrag bezahlen",
        balance_intro: "Pay what is still open on your booking by card." / "Bezahlen Sie den noch offenen Betrag Ihrer Buchung mit Karte.",
        balance_pay: "Pay the balance" / "Offenen Betrag bezahlen",
        balance_waiting:
            "Thank you. Your payment is being confirmed; this page updates by itself."
            / "Danke. Ihre Zahlung wird bestätigt; diese Seite aktualisiert sich von selbst.",
        balance_paid: "Thank you: your booking is paid in full." / "Danke: Ihre Buchung ist vollständig bezahlt.",
        balance_back: "Back to my booking" / "Zurück zu meiner Buchung",
        err_nothing_due: "This booking has nothing left to pay." / "Für diese Buchung ist nichts mehr zu zahlen.",
        refund: "Refund" / "Erstattung",
        error_title: "Something went wrong" / "Etwas ist schiefgegangen",
        not_found_title: "Page not found" / "Seite nicht gefunden",
        back_to_tours: "Back to the tours" / "Zurück zu den Touren",
        fix_errors: "Please correct the fields marked below." / "Bitte korrigieren Sie die markierten Felder.",
        err_capacity:
            "Not enough seats left on this departure. Please choose fewer participants or another date."
            / "Für diesen Termin sind nicht mehr genug Plätze frei. Bitte wählen Sie weniger Teilnehmer oder einen anderen Termin.",
        err_not_bookable: "This departure can no longer be booked." / "Dieser Termin kann nicht mehr gebucht werden.",
        err_price_changed:
            "The price changed since you saw it. Please check the new total and book again."
            / "Der Preis hat sich geändert. Bitte prüfen Sie den neuen Gesamtpreis und buchen Sie erneut.",
        err_not_found: "We could not find that." / "Das konnten wir nicht finden.",
        err_unavailable:
            "The service is busy for a moment. Please try again shortly."
            / "Der Dienst ist gerade ausgelastet. Bitte versuchen Sie es gleich noch einmal.",
        err_rate_limited:
            "Too many requests. Please wait a moment and try again."
            / "Zu viele Anfragen. Bitte warten Sie einen Moment.",
        err_link_expired:
            "This link has expired or was already used. Ask for a new one below."
            / "Dieser Link ist abgelaufen oder wurde schon verwendet. Fordern Sie unten einen neuen an.",
        err_invalid: "Please check this field" / "Bitte prüfen Sie dieses Feld",
        err_required: "Please fill this in." / "Bitte ausfüllen.",
        err_first_name_missing: "First name missing." / "Vorname fehlt.",
        err_last_name_missing: "Last name missing." / "Nachname fehlt.",
        err_quantity: "Choose at least one participant." / "Wählen Sie mindestens einen Teilnehmer.",
        reviews_heading: "Reviews" / "Bewertungen",
        reviews_out_of: "out of 5" / "von 5",
        reviews_count: "reviews" / "Bewertungen",
        reviews_stars: "stars" / "Sterne",
        review_title: "Your review" / "Ihre Bewertung",
        review_intro:
            "How was the tour? Your review appears on the tour page once we have read it."
            / "Wie war die Tour? Ihre Bewertung erscheint auf der Tourseite, sobald wir sie gelesen haben.",
        review_rating: "Your rating" / "Ihre Wertung",
        review_headline: "Title" / "Titel",
        review_body: "What was it like?" / "Wie war es?",
        review_name: "Shown as" / "Angezeigt als",
        review_send: "Send my review" / "Bewertung senden",
        review_thanks:
            "Thank you! Your review is in and appears on the tour page once we have read it."
            / "Danke! Ihre Bewertung ist eingegangen und erscheint auf der Tourseite, sobald wir sie gelesen haben.",
        review_link_used:
            "This link has expired or was already used."
            / "Dieser Link ist abgelaufen oder wurde schon verwendet.",
        review_already: "This booking has its review already. Thank you!" / "Für diese Buchung gibt es schon eine Bewertung. Danke!",
        review_not_reviewable:
            "This booking cannot be reviewed: only guests who took part in a tour that has ended can review it."
            / "Diese Buchung kann nicht bewertet werden: Nur Gäste, die an einer beendeten Tour teilgenommen haben, können sie bewerten.",
        waitlist_join: "Join the waitlist" / "Auf die Warteliste",
        waitlist_title: "Join the waitlist" / "Auf die Warteliste setzen",
        waitlist_intro:
            "This departure is sold out. Leave your details: if seats free up, we hold them for you and send you a link to book them."
            / "Dieser Termin ist ausgebucht. Hinterlassen Sie Ihre Daten: Werden Plätze frei, halten wir sie für Sie und senden Ihnen einen Link zum Buchen.",
        party_size: "Number of people" / "Anzahl Personen",
        waitlist_joined:
            "You are on the waitlist. We will e-mail you as soon as seats free up for you."
            / "Sie stehen auf der Warteliste. Wir schreiben Ihnen, sobald Plätze für Sie frei werden.",
        err_offer_lapsed:
            "This offer has lapsed: the seats were offered to the next person waiting."
            / "Dieses Angebot ist abgelaufen: Die Plätze wurden der nächsten Person auf der Warteliste angeboten.",
        err_waitlist_refused:
            "This departure has seats for your party, or no longer takes a waitlist: please book on the dates page."
            / "Für diesen Termin gibt es Plätze für Ihre Gruppe, oder er hat keine Warteliste mehr: Bitte buchen Sie über die Terminseite.",
        cat_walking: "Walking tours" / "Stadtrundgänge",
        cat_food: "Food tours" / "Kulinarische Touren",
        cat_cultural: "Culture" / "Kultur",
        cat_adventure: "Adventure" / "Abenteuer",
        cat_nature: "Nature" / "Natur",
        cat_photography: "Photography" / "Fotografie",
        cat_private: "Private tours" / "Private Touren",
        cat_custom: "Other" / "Sonstiges",
        st_confirmed: "confirmed" / "bestätigt",
        st_pending: "awaiting payment" / "Zahlung ausstehend",
        st_cancelled: "cancelled" / "storniert",
        st_completed: "completed" / "abgeschlossen",
        st_no_show: "no-show" / "nicht erschienen",
        st_paid: "paid" / "bezahlt",
        st_unpaid: "unpaid" / "unbezahlt",
        st_partially_paid: "partially paid" / "teilweise bezahlt",
        st_refunded: "refunded" / "erstattet",
        st_partially_refunded: "partially refunded" / "teilweise erstattet",
        st_other: "in progress" / "in Bearbeitung",
    }
    lists {
        weekdays: [7]
            = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
            / ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
        weekdays_short: [7]
            = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
            / ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"],
        months: [12]
            = ["January", "February", "March", "April", "May", "June",
               "July", "August", "September", "October", "November", "December"]
            / ["Januar", "Februar", "März", "April", "Mai", "Juni",
               "Juli", "August", "September", "Oktober", "November", "Dezember"],
    }
}

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

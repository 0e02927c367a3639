//! Pure helpers behind the booking and customer forms: what the user typed → the shell's input
//! types, the live total, and the search box's debounce. No Yew, no `invoke`: tested on the host.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use tourdesk_domain::ipc::{CommandError, NewBooking, NewCustomer};
use tourdesk_domain::money::Money;
use tourdesk_domain::mutation::LineArgs;
use tourdesk_domain::pricing::{self, LineRequest, PricingCatalog, QuoteRequest};
use tourdesk_domain::{Departure, PricingTier};

/// How long typing must pause before a search goes to the shell: every keystroke would be a
/// full-text query and a re-render of the hit list.
pub const SEARCH_DEBOUNCE_MS: u32 = 250;

/// Which answer of a search-as-you-type box is still wanted. Each keystroke takes a ticket; a
/// timer or reply holding an older ticket is dropped, so a slow answer to "an" never replaces
/// the answer to "anna".
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Debounce {
    latest: u64,
}

impl Debounce {
    pub fn ticket(&mut self) -> u64 {
        self.latest = self.latest.wrapping_add(1);
        self.latest
    }

    pub fn is_current(&self, ticket: u64) -> bool {
        ticket == self.latest
    }
}

/// The query worth sending, or `None` to just clear the hits: a single character would match
/// half the customer list.
pub fn search_query(typed: &str) -> Option<String> {
    let q = typed.trim();
    (q.chars().count() >= 2).then(|| q.to_string())
}

/// The "new customer" fields as typed. The domain validates them (its errors come back per
/// field); here only an empty phone or e-mail becomes none (a walk-in may give neither).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerDraft {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
}

impl CustomerDraft {
    pub fn to_input(&self) -> NewCustomer {
        let (phone, email) = (self.phone.trim(), self.email.trim());
        NewCustomer {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            email: (!email.is_empty()).then(|| email.to_string()),
            phone: (!phone.is_empty()).then(|| phone.to_string()),
        }
    }
}

/// The field a quantity error is reported on, so it shows beside that tier's box.
pub fn quantity_field(tier_id: &str) -> String {
    format!("qty:{tier_id}")
}

fn invalid(field: &str, message: &str) -> CommandError {
    CommandError { code: "INVALID".into(), message: message.into(), field: Some(field.into()) }
}

/// The booking form as typed: quantities are the raw text of each tier's box, by tier id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BookingDraft {
    pub tour_id: String,
    pub departure_id: String,
    pub customer_id: Option<String>,
    pub quantities: BTreeMap<String, String>,
    pub special_requests: String,
    /// The promotional code as typed.
    pub promo_code: String,
}

impl BookingDraft {
    /// The code to quote and book with: trimmed, `None` when blank.
    pub fn promo(&self) -> Option<String> {
        let c = self.promo_code.trim();
        (!c.is_empty()).then(|| c.to_string())
    }
}

impl BookingDraft {
    /// One line per tier with a quantity above zero; an empty box counts as zero.
    pub fn lines(&self) -> Result<Vec<LineArgs>, CommandError> {
        let mut lines = Vec::new();
        for (tier_id, typed) in &self.quantities {
            let t = typed.trim();
            let quantity = if t.is_empty() {
                0
            } else {
                t.parse::<u32>().map_err(|_| invalid(&quantity_field(tier_id), "must be a whole number"))?
            };
            if quantity > 0 {
                lines.push(LineArgs { tier_id: tier_id.clone(), quantity, participants: vec![] });
            }
        }
        if lines.is_empty() {
            return Err(invalid("lines", "book at least one seat"));
        }
        Ok(lines)
    }

    /// `expected_total` is the total the form showed, if it could price the request.
    pub fn to_input(&self, expected_total: Option<Money>) -> Result<NewBooking, CommandError> {
        let customer_id =
            self.customer_id.clone().ok_or_else(|| invalid("customer_id", "pick a customer, or enter a new one"))?;
        let requests = self.special_requests.trim();
        Ok(NewBooking {
            tour_id: self.tour_id.clone(),
            departure_id: self.departure_id.clone(),
            customer_id,
            lines: self.lines()?,
            special_requests: (!requests.is_empty()).then(|| requests.to_string()),
            expected_total,
            promo_code: self.promo(),
        })
    }
}

/// The tiers a departure sells, in display order: the domain's choice for its variant and date.
pub fn offered_tiers(prices: &[PricingTier], dep: &Departure) -> Vec<PricingTier> {
    let Some(c) = PricingCatalog::from_tiers(&dep.tour_id, prices) else { return Vec::new() };
    let ids: Vec<&str> = c.tiers_for(&dep.variant_id, dep.local_date).iter().map(|t| t.id.as_str()).collect();
    ids.iter().filter_map(|id| prices.iter().find(|p| p.id == *id).cloned()).collect()
}

/// The request's total by the domain's `pricing::quote`, or `None` when it cannot be priced
/// (nothing requested, a tier not sold on this departure): the form then shows no total.
pub fn quote_total(prices: &[PricingTier], dep: &Departure, lines: &[LineArgs], now: DateTime<Utc>) -> Option<Money> {
    // The catalog the desk store builds too, so this total is the one its `create_booking.v1` computes.
    let c = PricingCatalog::from_tiers(&dep.tour_id, prices)?;
    let reqs: Vec<LineRequest> =
        lines.iter().map(|l| LineRequest { tier_id: l.tier_id.clone(), quantity: l.quantity, ages: vec![] }).collect();
    let q = pricing::quote(
        &c,
        &QuoteRequest {
            variant_id: &dep.variant_id,
            departure_date: dep.local_date,
            departure_starts_at: dep.starts_at,
            quoted_at: now,
            lines: &reqs,
            promo: None,
            manual_discount: None,
        },
    )
    .ok()?;
    Some(q.snapshot.total)
}

/// The wall clock. In the webview `SystemTime` is unavailable, so JavaScript's clock is read.
pub fn now() -> DateTime<Utc> {
    #[cfg(target_arch = "wasm32")]
    {
        // Milliseconds since the epoch fit an i64 for the next 290 million years.
        let ms = web_sys::js_sys::Date::now() as i64;
        DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Utc::now()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tourdesk_domain::Currency;

    #[test]
    fn debounce_keeps_only_the_latest_ticket() {
        let mut d = Debounce::default();
        let first = d.ticket();
        assert!(d.is_current(first));
        let second = d.ticket();
        assert!(!d.is_current(first), "an older keystroke's timer or reply is dropped");
        assert!(d.is_current(second));
    }

    #[test]
    fn short_queries_are_not_sent() {
        assert_eq!(search_query("  a "), None);
        assert_eq!(search_query(""), None);
        assert_eq!(search_query(" an "), Some("an".into()));
    }

    #[test]
    fn customer_draft_drops_an_empty_phone() {
        let mut d = CustomerDraft {
            first_name: "Ana".into(),
            last_name: "Silva".into(),
            email: "a@x.io".into(),
            phone: " ".into(),
        };
        assert_eq!(d.to_input().phone, None);
        d.phone = " +351 912 345 678 ".into();
        assert_eq!(d.to_input().phone.as_deref(), Some("+351 912 345 678"));
        assert_eq!(d.to_input().email.as_deref(), Some("a@x.io"));
        // A walk-in: no e-mail at all.
        d.email = "  ".into();
        assert_eq!(d.to_input().email, None);
    }

    fn draft(qty: &[(&str, &str)]) -> BookingDraft {
        BookingDraft {
            tour_id: "t1".into(),
            departure_id: "d1".into(),
            customer_id: Some("c1".into()),
            quantities: qty.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            special_requests: "  ".into(),
            promo_code: String::new(),
        }
    }

    #[test]
    fn booking_draft_becomes_lines_of_nonzero_tiers() {
        let input = draft(&[("adult", "2"), ("child", ""), ("senior", "0")]).to_input(None).unwrap();
        assert_eq!(input.lines, vec![LineArgs { tier_id: "adult".into(), quantity: 2, participants: vec![] }]);
        assert_eq!(input.special_requests, None, "blank requests are not sent");
        assert_eq!(input.promo_code, None, "no code typed, none sent");
        let coded = BookingDraft { promo_code: " spring10 ".into(), ..draft(&[("adult", "1")]) };
        assert_eq!(coded.to_input(None).unwrap().promo_code.as_deref(), Some("spring10"));
        assert_eq!(
            (input.tour_id.as_str(), input.departure_id.as_str(), input.customer_id.as_str()),
            ("t1", "d1", "c1")
        );
    }

    #[test]
    fn booking_draft_errors_name_their_field() {
        let e = draft(&[("adult", "two")]).to_input(None).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("qty:adult"));
        let e = draft(&[("adult", "0")]).to_input(None).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("lines"));
        let mut d = draft(&[("adult", "1")]);
        d.customer_id = None;
        assert_eq!(d.to_input(None).unwrap_err().field.as_deref(), Some("customer_id"));
    }

    fn tier(id: &str, amount: i64, variant: Option<&str>) -> PricingTier {
        crate::fixtures::tier(id, amount, "EUR", variant)
    }

    fn departure() -> Departure {
        crate::fixtures::departure("d1", "2026-10-25T09:00:00Z", "Europe/Lisbon", 0)
    }

    #[test]
    fn total_is_the_domain_quote_and_tiers_follow_the_variant() {
        let prices = vec![tier("adult", 4500, None), tier("child", 2000, None), tier("vip", 9000, Some("other"))];
        let offered: Vec<String> = offered_tiers(&prices, &departure()).into_iter().map(|t| t.id).collect();
        assert_eq!(offered, ["adult", "child"], "another variant's tier is not offered");
        let lines = draft(&[("adult", "2"), ("child", "1")]).lines().unwrap();
        let total = quote_total(&prices, &departure(), &lines, Utc::now()).unwrap();
        assert_eq!(total, Money::new(11_000, Currency::parse("EUR").unwrap()));
        let vip = vec![LineArgs { tier_id: "vip".into(), quantity: 1, participants: vec![] }];
        assert_eq!(quote_total(&prices, &departure(), &vip, Utc::now()), None);
        assert_eq!(quote_total(&[], &departure(), &lines, Utc::now()), None);
    }
}

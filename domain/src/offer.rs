//! What a tour offers and on what terms, the same on every surface (desk, website, partner API):
//! whether a departure is on sale to the public and how many seats it offers, the currency a tour
//! is priced in, its "from" price, the organization-wide taxes that apply to it, and the defaults
//! a new customer gets.

use chrono::{DateTime, Utc};

use crate::entities::{Departure, PricingTier, Tour, TourVariant};
use crate::money::{Currency, Money};
use crate::pricing::{TaxRule, Tier};
use crate::status::{DepartureStatus, TourStatus};

/// A price tier as the offer rules see it; implemented by the stored row and the priced tier.
pub trait OfferedTier {
    fn id(&self) -> &str;
    fn name(&self) -> &str;
    fn sort_order(&self) -> i32;
    fn base_price(&self) -> Money;
}

/// Both tier types carry these fields under the same names.
macro_rules! offered_tier {
    ($($t:ty),*) => {$(
        impl OfferedTier for $t {
            fn id(&self) -> &str {
                &self.id
            }
            fn name(&self) -> &str {
                &self.name
            }
            fn sort_order(&self) -> i32 {
                self.sort_order
            }
            fn base_price(&self) -> Money {
                self.base_price
            }
        }
    )*};
}
offered_tier!(PricingTier, Tier);

/// The currency a tour is priced in: its first tier's in display order (sort order, name, id).
/// `None` before it has prices. Tiers in another currency are the quote's to refuse.
pub fn tour_currency<T: OfferedTier>(tiers: &[T]) -> Option<Currency> {
    tiers
        .iter()
        .min_by(|a, b| (a.sort_order(), a.name(), a.id()).cmp(&(b.sort_order(), b.name(), b.id())))
        .map(|t| t.base_price().currency)
}

/// The "from" price shown beside a tour: its cheapest base price in the tour's currency (ties by
/// id). `None` before it has prices.
pub fn from_price<T: OfferedTier>(tiers: &[T]) -> Option<Money> {
    let currency = tour_currency(tiers)?;
    tiers
        .iter()
        .filter(|t| t.base_price().currency == currency)
        .min_by(|a, b| (a.base_price().amount, a.id()).cmp(&(b.base_price().amount, b.id())))
        .map(OfferedTier::base_price)
}

/// Whether the public sees a tour at all: drafts and archived tours are not public.
pub fn tour_on_sale(tour: &Tour) -> bool {
    tour.status == TourStatus::Active
}

/// Whether the public sees a departure of an on-sale tour at `now`: it has not started, its
/// variant is active, and it is open or full (a full one is shown as sold out).
pub fn departure_listed(d: &Departure, variant: &TourVariant, now: DateTime<Utc>) -> bool {
    variant.active
        && variant.id == d.variant_id
        && d.starts_at > now
        && matches!(d.status, DepartureStatus::Open | DepartureStatus::Full)
}

/// The seats a departure offers: what is left while it is open, none otherwise (a closed or
/// cancelled departure sells nothing, whatever its count says).
pub fn seats_for_sale(d: &Departure) -> u32 {
    if d.status == DepartureStatus::Open { d.seats_left() } else { 0 }
}

/// How a calendar day is shown: the departures it lists still have seats, only a few, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayAvailability {
    Available,
    Limited,
    SoldOut,
}

/// At most this many seats left over a day's departures and the day shows as limited.
pub const LIMITED_SEATS: u32 = 5;

/// A day with listed departures offering `seats_for_sale` each; `None` for a day without any.
pub fn day_availability(seats_for_sale: impl IntoIterator<Item = u32>) -> Option<DayAvailability> {
    let mut any = false;
    let mut total = 0u32;
    for s in seats_for_sale {
        any = true;
        total = total.saturating_add(s);
    }
    match (any, total) {
        (false, _) => None,
        (true, 0) => Some(DayAvailability::SoldOut),
        (true, t) if t <= LIMITED_SEATS => Some(DayAvailability::Limited),
        _ => Some(DayAvailability::Available),
    }
}

/// A tax rule as stored, with its scope: `tour_id = None` applies to every tour of the
/// organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedTax {
    pub tour_id: Option<String>,
    pub active: bool,
    pub rule: TaxRule,
}

/// The taxes that apply to a tour: its own and the organization-wide ones, active only, in the
/// order given.
pub fn taxes_for_tour(candidates: impl IntoIterator<Item = ScopedTax>, tour_id: &str) -> Vec<TaxRule> {
    candidates
        .into_iter()
        .filter(|t| t.active && t.tour_id.as_deref().is_none_or(|id| id == tour_id))
        .map(|t| t.rule)
        .collect()
}

/// What a new customer's preferences start as, where nobody typed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerDefaults {
    pub language: String,
    pub currency: Currency,
}

/// The fallbacks when the organization has said nothing.
pub const DEFAULT_LANGUAGE: &str = "en";
pub const DEFAULT_CURRENCY: Currency = Currency::USD;

impl CustomerDefaults {
    /// For a customer made at the desk: the organization's language and currency where known.
    pub fn for_organization(language: Option<&str>, currency: Option<Currency>) -> CustomerDefaults {
        CustomerDefaults {
            language: language
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map_or_else(|| DEFAULT_LANGUAGE.to_string(), str::to_string),
            currency: currency.unwrap_or(DEFAULT_CURRENCY),
        }
    }

    /// For a customer made by booking a tour (the website): the tour's currency comes first,
    /// since that is what they are paying in.
    pub fn for_booking(tour_currency: Currency, language: Option<&str>) -> CustomerDefaults {
        CustomerDefaults { currency: tour_currency, ..CustomerDefaults::for_organization(language, None) }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::{Duration, NaiveDate, NaiveTime, TimeZone};

    use super::*;
    use crate::money::Percent;

    #[test]
    fn a_day_is_sold_out_limited_or_available_by_its_seats_left() {
        assert_eq!(super::day_availability([]), None);
        assert_eq!(super::day_availability([0, 0]), Some(super::DayAvailability::SoldOut));
        assert_eq!(super::day_availability([2, 3]), Some(super::DayAvailability::Limited));
        assert_eq!(super::day_availability([0, 6]), Some(super::DayAvailability::Available));
    }

    fn tier(id: &str, name: &str, sort_order: i32, amount: i64, currency: &str) -> Tier {
        Tier {
            id: id.into(),
            variant_id: None,
            name: name.into(),
            base_price: Money::new(amount, Currency::parse(currency).unwrap()),
            min_age: None,
            max_age: None,
            valid_from: None,
            valid_until: None,
            is_default: false,
            sort_order,
            min_per_booking: None,
            max_per_booking: None,
        }
    }

    #[test]
    fn a_tour_is_priced_in_its_first_tiers_currency_whatever_order_the_rows_came_in() {
        let tiers = vec![tier("b", "Child", 2, 500, "EUR"), tier("a", "Adult", 1, 900, "GBP")];
        assert_eq!(tour_currency(&tiers), Some(Currency::parse("GBP").unwrap()));
        let reversed: Vec<Tier> = tiers.iter().rev().cloned().collect();
        assert_eq!(tour_currency(&reversed), tour_currency(&tiers));
        // The default flag does not decide it (the desk once listed the default tier first).
        let flagged =
            vec![Tier { is_default: true, ..tier("z", "Senior", 9, 100, "JPY") }, tier("a", "Adult", 1, 1, "GBP")];
        assert_eq!(tour_currency(&flagged), Some(Currency::parse("GBP").unwrap()));
        assert_eq!(tour_currency::<Tier>(&[]), None);
    }

    #[test]
    fn the_from_price_is_the_cheapest_tier_in_the_tours_currency() {
        let tiers =
            vec![tier("a", "Adult", 1, 9000, "EUR"), tier("c", "Child", 2, 4500, "EUR"), tier("x", "X", 3, 1, "USD")];
        assert_eq!(from_price(&tiers), Some(Money::new(4500, Currency::parse("EUR").unwrap())));
        assert_eq!(from_price::<Tier>(&[]), None);
    }

    fn departure(status: DepartureStatus, starts_in_hours: i64) -> Departure {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap();
        Departure {
            id: "d".into(),
            organization_id: "o".into(),
            tour_id: "t".into(),
            variant_id: "v".into(),
            local_date: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
            local_time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            timezone: "UTC".into(),
            starts_at: now + Duration::hours(starts_in_hours),
            ends_at: now + Duration::hours(starts_in_hours + 2),
            capacity: 10,
            booked_count: 4,
            status,
            notes: String::new(),
        }
    }

    fn variant(active: bool) -> TourVariant {
        TourVariant {
            id: "v".into(),
            organization_id: "o".into(),
            tour_id: "t".into(),
            name: "Morning".into(),
            capacity: None,
            duration_minutes: None,
            active,
            sort_order: 0,
        }
    }

    #[test]
    fn only_future_open_or_full_departures_of_active_variants_are_listed() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 8, 0, 0).unwrap();
        assert!(departure_listed(&departure(DepartureStatus::Open, 1), &variant(true), now));
        assert!(departure_listed(&departure(DepartureStatus::Full, 1), &variant(true), now));
        assert!(!departure_listed(&departure(DepartureStatus::Open, 0), &variant(true), now), "started");
        assert!(!departure_listed(&departure(DepartureStatus::Open, 1), &variant(false), now));
        assert!(!departure_listed(&departure(DepartureStatus::Cancelled, 1), &variant(true), now));
        assert!(!departure_listed(&departure(DepartureStatus::Closed, 1), &variant(true), now));
    }

    #[test]
    fn a_departure_offers_its_seats_only_while_open() {
        assert_eq!(seats_for_sale(&departure(DepartureStatus::Open, 1)), 6);
        for s in [DepartureStatus::Full, DepartureStatus::Closed, DepartureStatus::Cancelled] {
            assert_eq!(seats_for_sale(&departure(s, 1)), 0, "{s}");
        }
    }

    #[test]
    fn a_tour_pays_its_own_and_the_organizations_active_taxes() {
        let tax = |name: &str, tour: Option<&str>, active: bool| ScopedTax {
            tour_id: tour.map(Into::into),
            active,
            rule: TaxRule { name: name.into(), rate: Percent::from_basis_points(1000), inclusive: false },
        };
        let all = vec![
            tax("vat", None, true),
            tax("city", Some("t"), true),
            tax("other tour", Some("u"), true),
            tax("retired", None, false),
        ];
        let names: Vec<String> = taxes_for_tour(all, "t").into_iter().map(|t| t.name).collect();
        assert_eq!(names, vec!["vat", "city"]);
    }

    #[test]
    fn new_customers_default_to_the_organizations_settings_then_english_and_dollars() {
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(
            CustomerDefaults::for_organization(None, None),
            CustomerDefaults { language: "en".into(), currency: Currency::USD }
        );
        assert_eq!(
            CustomerDefaults::for_organization(Some("pt"), Some(eur)),
            CustomerDefaults { language: "pt".into(), currency: eur }
        );
        assert_eq!(CustomerDefaults::for_organization(Some(" "), None).language, "en");
        assert_eq!(CustomerDefaults::for_booking(eur, None), CustomerDefaults { language: "en".into(), currency: eur });
    }
}

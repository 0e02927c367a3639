//! The pricing engine: one function, [`quote`], turns a tour's price list and a booking request
//! into the pricing snapshot the booking stores. The desk, the server and the wasm UI call the
//! same function, so the price a customer is shown offline is the price the server charges.
//!
//! # Order of application
//!
//! 1. **Tier unit price** — the base price of each requested tier, which must be offered for the
//!    variant and valid on the departure's local date.
//! 2. **Seasonal adjustment** — the one season covering the departure's local date with the
//!    highest priority (ties: the shorter date range, then the smaller id) adjusts every unit
//!    price, by a percentage or a fixed amount per participant. A unit price never goes below 0.
//! 3. **Line totals and subtotal** — unit price × quantity; subtotal = sum of line totals.
//! 4. **Discounts**, in this order: group (by total participants), early bird (by whole days
//!    between the quote and the departure), promotional code, manual. Each percentage applies to
//!    what remains after the discounts before it, and each fixed amount is capped at that
//!    remainder, so no discount exceeds what it discounts and their sum never exceeds the
//!    subtotal. A promotional code's minimum booking value is compared with the subtotal.
//! 5. **Taxes** on the discounted amount ("net"), every tax on the same net (no tax on tax).
//!    An *exclusive* tax adds `net × rate`. An *inclusive* tax is already inside the price: its
//!    amount is `net × rate / (1 + sum of inclusive rates)`, reported but not added.
//! 6. **Total** = subtotal − discounts + exclusive taxes, never negative.
//!
//! Every percentage is rounded to the currency's minor unit with
//! [`PRICING_ROUNDING`](crate::money::PRICING_ROUNDING)
//! (half-up) at the moment it is computed, so snapshot lines always sum exactly.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::entities::PricingTier;
use crate::money::{Currency, Money, MoneyError, Percent};

mod quote;
pub use quote::quote;

/// A price that applies to one kind of participant ("Adult", "Child 5–12").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    pub id: String,
    /// `None`: offered for every variant of the tour.
    pub variant_id: Option<String>,
    pub name: String,
    pub base_price: Money,
    pub min_age: Option<u32>,
    pub max_age: Option<u32>,
    /// Inclusive local dates of the departures this price applies to.
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub is_default: bool,
    pub sort_order: i32,
    /// How many participants of this tier one booking may take.
    #[serde(default)]
    pub min_per_booking: Option<u32>,
    #[serde(default)]
    pub max_per_booking: Option<u32>,
}

impl Tier {
    pub fn valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= date) && self.valid_until.is_none_or(|u| date <= u)
    }

    pub fn accepts_age(&self, age: u32) -> bool {
        self.min_age.is_none_or(|m| m <= age) && self.max_age.is_none_or(|m| age <= m)
    }

    fn age_span(&self) -> u32 {
        match (self.min_age, self.max_age) {
            (None, None) => u32::MAX,
            (lo, hi) => hi.unwrap_or(u32::MAX).saturating_sub(lo.unwrap_or(0)),
        }
    }
}

impl From<&PricingTier> for Tier {
    fn from(t: &PricingTier) -> Self {
        Tier {
            id: t.id.clone(),
            variant_id: t.variant_id.clone(),
            name: t.name.clone(),
            base_price: t.base_price,
            min_age: t.min_age,
            max_age: t.max_age,
            valid_from: t.valid_from,
            valid_until: t.valid_until,
            is_default: t.is_default,
            sort_order: t.sort_order,
            min_per_booking: t.min_per_booking,
            max_per_booking: t.max_per_booking,
        }
    }
}

/// A change to a price: a percentage of it or a fixed amount. Seasons may use negative values
/// (a low-season reduction); discounts may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Adjustment {
    Percentage(Percent),
    Fixed(Money),
}

impl Adjustment {
    fn describe(&self) -> String {
        match self {
            Adjustment::Percentage(p) => p.to_string(),
            Adjustment::Fixed(m) => format!("{} off", m.display_with_symbol()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeasonalAdjustment {
    pub id: String,
    pub name: String,
    /// Inclusive local dates.
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// Applied to every unit price, per participant.
    pub adjustment: Adjustment,
    /// Higher wins.
    pub priority: i32,
}

impl SeasonalAdjustment {
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.start_date <= date && date <= self.end_date
    }
}

/// The season that prices a departure on `date`: highest priority, then the shortest range
/// (the more specific season, e.g. "Christmas week" inside "Winter"), then the smallest id —
/// so the answer never depends on the order seasons were loaded in.
pub fn select_season(seasons: &[SeasonalAdjustment], date: NaiveDate) -> Option<&SeasonalAdjustment> {
    seasons.iter().filter(|s| s.covers(date)).min_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then_with(|| (a.end_date - a.start_date).cmp(&(b.end_date - b.start_date)))
            .then_with(|| a.id.cmp(&b.id))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromoStatus {
    Active,
    Inactive,
    Expired,
}

/// Declares a struct with a promotional code's terms between `$head` and `$tail` fields, in
/// this order: [`PromoCode`], the stored row
/// [`PromotionalCode`](crate::catalogue::PromotionalCode) and `upsert_promo_code.v1` carry the
/// same ones. A macro because the mutation denies unknown fields, which `#[serde(flatten)]`
/// does not support; the fields stay plain, so stored JSON is what it was.
macro_rules! with_promo_terms {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($head:tt)* } { $($tail:tt)* }) => {
        $(#[$meta])*
        $vis struct $name {
            $($head)*
            pub code: String,
            pub discount: $crate::pricing::Adjustment,
            #[serde(default)]
            pub min_booking_value: Option<$crate::money::Money>,
            #[serde(default)]
            pub max_uses: Option<u32>,
            #[serde(default)]
            pub max_uses_per_customer: Option<u32>,
            pub valid_from: chrono::DateTime<chrono::Utc>,
            /// Exclusive: the code stops working at this instant.
            pub valid_until: chrono::DateTime<chrono::Utc>,
            /// Empty: every tour.
            #[serde(default)]
            pub applicable_tour_ids: Vec<String>,
            /// Empty: every variant.
            #[serde(default)]
            pub applicable_variant_ids: Vec<String>,
            $($tail)*
        }
    };
}
pub(crate) use with_promo_terms;

with_promo_terms! {
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct PromoCode {
        pub id: String,
    } {
        pub current_uses: u32,
        pub status: PromoStatus,
    }
}

/// Promotional codes are stored with at most this many characters.
pub const MAX_PROMO_CODE_LEN: usize = 64;

/// A promotional code as people type it: surrounding spaces dropped and letters uppercased, so
/// ` summer10` finds `SUMMER10`; every lookup of a code goes through this. `None` for a blank
/// code; an error (naming `field`) for text no code can be: longer than a stored code, or with
/// control characters, which PostgreSQL text cannot even hold.
pub fn normalize_promo_code(field: &str, value: &str) -> Result<Option<String>, crate::validate::FieldError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    crate::validate::text(field, value, MAX_PROMO_CODE_LEN).map(|c| Some(c.to_ascii_uppercase()))
}

/// Why a promotional code was not applied. The `Display` text is written for the customer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum PromoRefusal {
    #[error("We don't recognise this code")]
    NotFound,
    #[error("This code is not active")]
    Inactive,
    #[error("This code expired on {}", valid_until.format("%Y-%m-%d"))]
    Expired { valid_until: DateTime<Utc> },
    #[error("This code is valid from {}", valid_from.format("%Y-%m-%d"))]
    NotYetValid { valid_from: DateTime<Utc> },
    #[error("This code has reached its usage limit")]
    UsageLimitReached { max_uses: u32 },
    #[error("You have already used this code the maximum number of times")]
    CustomerLimitReached { max_uses_per_customer: u32 },
    #[error("This code needs a booking of at least {}", minimum.display_with_symbol())]
    BelowMinimum { minimum: Money },
    #[error("This code can't be used for this tour")]
    NotForThisTour,
    #[error("This code can't be used for this option of the tour")]
    NotForThisVariant,
    #[error("This code only works for prices in {code_currency}")]
    CurrencyMismatch { code_currency: Currency, booking_currency: Currency },
}

impl PromoRefusal {
    /// A stable name for the refusal, for clients that word it themselves (another language).
    pub fn code(&self) -> &'static str {
        match self {
            PromoRefusal::NotFound => "not_found",
            PromoRefusal::Inactive => "inactive",
            PromoRefusal::Expired { .. } => "expired",
            PromoRefusal::NotYetValid { .. } => "not_yet_valid",
            PromoRefusal::UsageLimitReached { .. } => "usage_limit_reached",
            PromoRefusal::CustomerLimitReached { .. } => "customer_limit_reached",
            PromoRefusal::BelowMinimum { .. } => "below_minimum",
            PromoRefusal::NotForThisTour => "not_for_this_tour",
            PromoRefusal::NotForThisVariant => "not_for_this_variant",
            PromoRefusal::CurrencyMismatch { .. } => "currency_mismatch",
        }
    }
}

/// What the code is checked against.
#[derive(Debug, Clone, Copy)]
pub struct PromoContext<'a> {
    pub tour_id: &'a str,
    pub variant_id: &'a str,
    pub at: DateTime<Utc>,
    /// Before discounts.
    pub subtotal: Money,
    /// How many bookings of this customer already used the code.
    pub customer_uses: u32,
}

impl PromoCode {
    /// Codes are typed by people: case and surrounding spaces do not matter.
    pub fn matches(&self, typed: &str) -> bool {
        self.code.trim().eq_ignore_ascii_case(typed.trim())
    }

    /// Whether the code may be used, checked in the order a customer can act on: the code
    /// itself, then what is being booked, then the limits, then the amount.
    pub fn check(&self, ctx: &PromoContext<'_>) -> Result<(), PromoRefusal> {
        match self.status {
            PromoStatus::Inactive => return Err(PromoRefusal::Inactive),
            PromoStatus::Expired => {
                return Err(PromoRefusal::Expired { valid_until: self.valid_until });
            }
            PromoStatus::Active => {}
        }
        if ctx.at < self.valid_from {
            return Err(PromoRefusal::NotYetValid { valid_from: self.valid_from });
        }
        if ctx.at >= self.valid_until {
            return Err(PromoRefusal::Expired { valid_until: self.valid_until });
        }
        if !self.applicable_tour_ids.is_empty() && !self.applicable_tour_ids.iter().any(|t| t == ctx.tour_id) {
            return Err(PromoRefusal::NotForThisTour);
        }
        if !self.applicable_variant_ids.is_empty() && !self.applicable_variant_ids.iter().any(|v| v == ctx.variant_id) {
            return Err(PromoRefusal::NotForThisVariant);
        }
        let booking_currency = ctx.subtotal.currency;
        for m in [self.min_booking_value, fixed_money(&self.discount)].into_iter().flatten() {
            if m.currency != booking_currency {
                return Err(PromoRefusal::CurrencyMismatch { code_currency: m.currency, booking_currency });
            }
        }
        if let Some(max) = self.max_uses
            && self.current_uses >= max
        {
            return Err(PromoRefusal::UsageLimitReached { max_uses: max });
        }
        if let Some(max) = self.max_uses_per_customer
            && ctx.customer_uses >= max
        {
            return Err(PromoRefusal::CustomerLimitReached { max_uses_per_customer: max });
        }
        if let Some(min) = self.min_booking_value
            && ctx.subtotal.amount < min.amount
        {
            return Err(PromoRefusal::BelowMinimum { minimum: min });
        }
        Ok(())
    }
}

fn fixed_money(a: &Adjustment) -> Option<Money> {
    match a {
        Adjustment::Fixed(m) => Some(*m),
        Adjustment::Percentage(_) => None,
    }
}

/// Applied automatically when the booking has at least `min_participants` participants; the
/// rule with the highest threshold reached wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDiscount {
    pub min_participants: u32,
    pub discount: Adjustment,
}

/// Applied automatically when the booking is made at least `min_days_before` whole days
/// before the departure; the rule with the highest threshold reached wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlyBirdDiscount {
    pub min_days_before: u32,
    pub discount: Adjustment,
}

/// A tax from the organization's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRule {
    pub name: String,
    pub rate: Percent,
    /// Prices already contain this tax (typical for VAT in Europe).
    pub inclusive: bool,
}

/// A discount a staff member grants by hand; applied last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualDiscount {
    pub description: String,
    pub discount: Adjustment,
}

/// Everything that prices one tour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingCatalog {
    pub tour_id: String,
    pub currency: Currency,
    pub tiers: Vec<Tier>,
    #[serde(default)]
    pub seasons: Vec<SeasonalAdjustment>,
    #[serde(default)]
    pub group_discounts: Vec<GroupDiscount>,
    #[serde(default)]
    pub early_bird_discounts: Vec<EarlyBirdDiscount>,
    #[serde(default)]
    pub taxes: Vec<TaxRule>,
}

impl PricingCatalog {
    /// The catalog of a tour whose only prices are its tiers, as the desk holds them: no
    /// seasons, discounts or taxes (those are not replicated), in the currency of the first tier
    /// (the quote refuses a tier in another one). `None` when the tour has no tier at all. The
    /// desk's store and its booking form both build it here, so the total the form shows is the
    /// total the store's `create_booking.v1` computes.
    pub fn from_tiers(tour_id: &str, tiers: &[PricingTier]) -> Option<PricingCatalog> {
        let currency = crate::offer::tour_currency(tiers)?;
        Some(PricingCatalog {
            tour_id: tour_id.to_string(),
            currency,
            tiers: tiers.iter().map(Tier::from).collect(),
            seasons: vec![],
            group_discounts: vec![],
            early_bird_discounts: vec![],
            taxes: vec![],
        })
    }

    /// The tiers a customer can choose for `variant_id` on `date`, in display order. A tier of
    /// the variant hides a tour-wide tier of the same name, so a variant can re-price "Adult"
    /// without the tour-wide "Adult" showing up beside it.
    pub fn tiers_for(&self, variant_id: &str, date: NaiveDate) -> Vec<&Tier> {
        let own: Vec<&Tier> =
            self.tiers.iter().filter(|t| t.variant_id.as_deref() == Some(variant_id) && t.valid_on(date)).collect();
        let mut out: Vec<&Tier> = self
            .tiers
            .iter()
            .filter(|t| {
                t.variant_id.is_none() && t.valid_on(date) && !own.iter().any(|o| o.name.eq_ignore_ascii_case(&t.name))
            })
            .chain(own.iter().copied())
            .collect();
        out.sort_by(|a, b| {
            a.sort_order.cmp(&b.sort_order).then_with(|| a.name.cmp(&b.name)).then_with(|| a.id.cmp(&b.id))
        });
        out
    }

    /// The tier pre-selected in the booking form: the one marked default, else the first.
    pub fn default_tier(&self, variant_id: &str, date: NaiveDate) -> Option<&Tier> {
        let tiers = self.tiers_for(variant_id, date);
        tiers.iter().find(|t| t.is_default).or_else(|| tiers.first()).copied()
    }

    /// The tier for a participant of `age`: the narrowest age range that contains it, so a
    /// child lands on "Child 5–12" rather than an open-ended "Adult".
    pub fn tier_for_age(&self, variant_id: &str, date: NaiveDate, age: u32) -> Option<&Tier> {
        self.tiers_for(variant_id, date).into_iter().filter(|t| t.accepts_age(age)).min_by(|a, b| {
            a.age_span().cmp(&b.age_span()).then_with(|| a.sort_order.cmp(&b.sort_order)).then_with(|| a.id.cmp(&b.id))
        })
    }
}

/// One requested line: a tier and how many participants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineRequest {
    pub tier_id: String,
    pub quantity: u32,
    /// Ages of the participants where known; each must fit the tier's age range.
    #[serde(default)]
    pub ages: Vec<u32>,
}

#[derive(Debug, Clone, Copy)]
pub struct PromoApplication<'a> {
    pub code: &'a PromoCode,
    /// How many bookings of this customer already used the code.
    pub customer_uses: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct QuoteRequest<'a> {
    pub variant_id: &'a str,
    /// The departure's local date, which decides tier validity and the season.
    pub departure_date: NaiveDate,
    pub departure_starts_at: DateTime<Utc>,
    /// The instant the price is computed for; decides promo validity and early-bird days.
    pub quoted_at: DateTime<Utc>,
    pub lines: &'a [LineRequest],
    pub promo: Option<PromoApplication<'a>>,
    pub manual_discount: Option<&'a ManualDiscount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    pub pricing_tier_id: String,
    pub tier_name: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub total_price: Money,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscountKind {
    PromotionalCode,
    EarlyBird,
    Group,
    Manual,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedDiscount {
    #[serde(rename = "type")]
    pub kind: DiscountKind,
    pub description: String,
    pub amount: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedTax {
    pub name: String,
    pub rate: Percent,
    pub inclusive: bool,
    pub amount: Money,
}

/// The booking's pricing snapshot, exactly what is stored with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingSnapshot {
    pub line_items: Vec<LineItem>,
    pub subtotal: Money,
    pub discounts: Vec<AppliedDiscount>,
    pub taxes: Vec<AppliedTax>,
    pub total: Money,
    pub promotional_code_id: Option<String>,
}

impl PricingSnapshot {
    pub fn participants(&self) -> u32 {
        self.line_items.iter().map(|l| l.quantity).sum()
    }

    pub fn discount_total(&self) -> Result<Money, MoneyError> {
        Money::sum(self.subtotal.currency, self.discounts.iter().map(|d| &d.amount))
    }

    pub fn exclusive_tax_total(&self) -> Result<Money, MoneyError> {
        Money::sum(self.subtotal.currency, self.taxes.iter().filter(|t| !t.inclusive).map(|t| &t.amount))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedSeason {
    pub id: String,
    pub name: String,
    pub adjustment: Adjustment,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PromoOutcome {
    NotRequested,
    Applied {
        code_id: String,
    },
    /// The quote is still valid, without the code; the UI shows the reason.
    Refused {
        refusal: PromoRefusal,
    },
}

/// A priced request: the snapshot to store plus what the UI explains around it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub snapshot: PricingSnapshot,
    pub season: Option<AppliedSeason>,
    pub promo: PromoOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PricingError {
    #[error("a quote needs at least one line")]
    NoLines,
    #[error("tier {tier_id}: quantity must be at least 1")]
    ZeroQuantity { tier_id: String },
    #[error("tier {tier_id} appears on more than one line")]
    DuplicateTier { tier_id: String },
    #[error("unknown pricing tier {tier_id}")]
    UnknownTier { tier_id: String },
    #[error("tier {tier_id} is not offered for variant {variant_id}")]
    TierNotForVariant { tier_id: String, variant_id: String },
    #[error("tier {tier_id} is not valid for departures on {date}")]
    TierNotValidOn { tier_id: String, date: NaiveDate },
    #[error("tier {tier_id}: at least {min} per booking, {quantity} requested")]
    BelowTierMinimum { tier_id: String, min: u32, quantity: u32 },
    #[error("tier {tier_id}: at most {max} per booking, {quantity} requested")]
    AboveTierMaximum { tier_id: String, max: u32, quantity: u32 },
    #[error("a participant aged {age} cannot book tier {tier_id}")]
    AgeOutsideTier { tier_id: String, age: u32 },
    #[error("tier {tier_id}: {ages} ages given for {quantity} participants")]
    TooManyAges { tier_id: String, ages: usize, quantity: u32 },
    #[error("{what} is in {found}, but the tour is priced in {expected}")]
    CurrencyMismatch { what: String, expected: Currency, found: Currency },
    #[error("{what} must not be negative")]
    NegativeValue { what: String },
    #[error("amount too large")]
    Overflow,
}

impl From<MoneyError> for PricingError {
    fn from(e: MoneyError) -> Self {
        match e {
            MoneyError::CurrencyMismatch(expected, found) => {
                PricingError::CurrencyMismatch { what: "an amount".into(), expected, found }
            }
            _ => PricingError::Overflow,
        }
    }
}

/// Whole days from `at` to `departure`, 0 once the departure is less than a day away or past.
pub fn days_before(at: DateTime<Utc>, departure: DateTime<Utc>) -> u32 {
    u32::try_from((departure - at).num_days().max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone;

    const USD: Currency = Currency::USD;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn usd(a: i64) -> Money {
        Money::new(a, USD)
    }

    fn tier(id: &str, name: &str, price: i64) -> Tier {
        Tier {
            id: id.into(),
            variant_id: None,
            name: name.into(),
            base_price: usd(price),
            min_age: None,
            max_age: None,
            valid_from: None,
            valid_until: None,
            is_default: false,
            sort_order: 0,
            min_per_booking: None,
            max_per_booking: None,
        }
    }

    fn catalog() -> PricingCatalog {
        PricingCatalog {
            tour_id: "tour".into(),
            currency: USD,
            tiers: vec![
                Tier { is_default: true, min_age: Some(13), ..tier("adult", "Adult", 5000) },
                Tier { min_age: Some(5), max_age: Some(12), sort_order: 1, ..tier("child", "Child", 2500) },
                Tier { min_age: Some(65), sort_order: 2, ..tier("senior", "Senior", 4000) },
            ],
            seasons: vec![],
            group_discounts: vec![],
            early_bird_discounts: vec![],
            taxes: vec![],
        }
    }

    fn at(y: i32, m: u32, day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, day, 12, 0, 0).unwrap()
    }

    fn lines(spec: &[(&str, u32)]) -> Vec<LineRequest> {
        spec.iter().map(|(t, q)| LineRequest { tier_id: (*t).into(), quantity: *q, ages: vec![] }).collect()
    }

    fn req<'a>(ls: &'a [LineRequest]) -> QuoteRequest<'a> {
        QuoteRequest {
            variant_id: "v1",
            departure_date: d(2026, 7, 10),
            departure_starts_at: at(2026, 7, 10),
            quoted_at: at(2026, 7, 1),
            lines: ls,
            promo: None,
            manual_discount: None,
        }
    }

    fn promo(discount: Adjustment) -> PromoCode {
        PromoCode {
            id: "p1".into(),
            code: "Summer25".into(),
            discount,
            min_booking_value: None,
            max_uses: None,
            max_uses_per_customer: None,
            valid_from: at(2026, 1, 1),
            valid_until: at(2027, 1, 1),
            applicable_tour_ids: vec![],
            applicable_variant_ids: vec![],
            current_uses: 0,
            status: PromoStatus::Active,
        }
    }

    #[test]
    fn lines_and_subtotal() {
        let ls = lines(&[("adult", 2), ("child", 3)]);
        let q = quote(&catalog(), &req(&ls)).unwrap();
        let s = &q.snapshot;
        assert_eq!(s.line_items[0].unit_price, usd(5000));
        assert_eq!(s.line_items[0].total_price, usd(10000));
        assert_eq!(s.line_items[1].tier_name, "Child");
        assert_eq!(s.line_items[1].total_price, usd(7500));
        assert_eq!(s.subtotal, usd(17500));
        assert_eq!(s.total, usd(17500));
        assert!(s.discounts.is_empty() && s.taxes.is_empty());
        assert_eq!(q.promo, PromoOutcome::NotRequested);
        assert_eq!(s.participants(), 5);
    }

    #[test]
    fn request_errors_table() {
        let mut cat = catalog();
        cat.tiers.push(Tier { variant_id: Some("v2".into()), ..tier("v2only", "Private", 9000) });
        cat.tiers.push(Tier { valid_until: Some(d(2026, 6, 30)), ..tier("old", "Old", 1000) });
        cat.tiers.push(Tier { base_price: Money::new(100, Currency::EUR), ..tier("eur", "Euro", 0) });
        let cases: Vec<(Vec<LineRequest>, PricingError)> = vec![
            (vec![], PricingError::NoLines),
            (lines(&[("adult", 0)]), PricingError::ZeroQuantity { tier_id: "adult".into() }),
            (lines(&[("adult", 1), ("adult", 2)]), PricingError::DuplicateTier { tier_id: "adult".into() }),
            (lines(&[("nope", 1)]), PricingError::UnknownTier { tier_id: "nope".into() }),
            (
                lines(&[("v2only", 1)]),
                PricingError::TierNotForVariant { tier_id: "v2only".into(), variant_id: "v1".into() },
            ),
            (lines(&[("old", 1)]), PricingError::TierNotValidOn { tier_id: "old".into(), date: d(2026, 7, 10) }),
            (
                vec![LineRequest { tier_id: "child".into(), quantity: 2, ages: vec![7, 14] }],
                PricingError::AgeOutsideTier { tier_id: "child".into(), age: 14 },
            ),
            (
                vec![LineRequest { tier_id: "child".into(), quantity: 1, ages: vec![7, 8] }],
                PricingError::TooManyAges { tier_id: "child".into(), ages: 2, quantity: 1 },
            ),
            (
                lines(&[("eur", 1)]),
                PricingError::CurrencyMismatch { what: "tier Euro".into(), expected: USD, found: Currency::EUR },
            ),
        ];
        for (ls, want) in cases {
            assert_eq!(quote(&cat, &req(&ls)), Err(want.clone()), "{want}");
        }
    }

    /// A tier's validity dates and per-booking limits bind the quote, on the desk (a catalog
    /// built from its tier rows) as on the server.
    #[test]
    fn tier_validity_and_per_booking_limits() {
        let row = PricingTier {
            id: "family".into(),
            organization_id: "org".into(),
            tour_id: "tour".into(),
            variant_id: None,
            name: "Family".into(),
            base_price: usd(3000),
            min_age: None,
            max_age: None,
            is_default: true,
            sort_order: 0,
            valid_from: Some(d(2026, 7, 1)),
            valid_until: Some(d(2026, 7, 31)),
            min_per_booking: Some(2),
            max_per_booking: Some(4),
        };
        let cat = PricingCatalog::from_tiers("tour", std::slice::from_ref(&row)).unwrap();
        assert_eq!(cat.tiers[0].valid_from, Some(d(2026, 7, 1)), "the desk's catalog keeps the dates");
        // Inside the window, within the limits: priced.
        for q in [2, 4] {
            let ls = lines(&[("family", q)]);
            assert_eq!(quote(&cat, &req(&ls)).unwrap().snapshot.subtotal, usd(3000 * i64::from(q)));
        }
        let ls = lines(&[("family", 1)]);
        assert_eq!(
            quote(&cat, &req(&ls)),
            Err(PricingError::BelowTierMinimum { tier_id: "family".into(), min: 2, quantity: 1 })
        );
        let ls = lines(&[("family", 5)]);
        assert_eq!(
            quote(&cat, &req(&ls)),
            Err(PricingError::AboveTierMaximum { tier_id: "family".into(), max: 4, quantity: 5 })
        );
        // Outside the window (both ends are inclusive).
        let ls = lines(&[("family", 2)]);
        for (date, ok) in
            [(d(2026, 6, 30), false), (d(2026, 7, 1), true), (d(2026, 7, 31), true), (d(2026, 8, 1), false)]
        {
            let r = quote(&cat, &QuoteRequest { departure_date: date, ..req(&ls) });
            if ok {
                assert!(r.is_ok(), "{date}: {r:?}");
            } else {
                assert_eq!(r, Err(PricingError::TierNotValidOn { tier_id: "family".into(), date }), "{date}");
            }
        }
        assert!(cat.tiers_for("v1", d(2026, 8, 1)).is_empty(), "an expired tier is not offered");
    }

    #[test]
    fn tier_selection() {
        let mut cat = catalog();
        cat.tiers.push(Tier {
            variant_id: Some("private".into()),
            is_default: false,
            ..tier("private-adult", "adult", 12000)
        });
        let date = d(2026, 7, 10);
        let ids = |v: &str| -> Vec<String> { cat.tiers_for(v, date).iter().map(|t| t.id.clone()).collect() };
        assert_eq!(ids("v1"), vec!["adult", "child", "senior"]);
        // The variant's own "adult" hides the tour-wide one.
        assert_eq!(ids("private"), vec!["private-adult", "child", "senior"]);
        assert_eq!(cat.default_tier("v1", date).map(|t| t.id.as_str()), Some("adult"));
        assert_eq!(cat.default_tier("private", date).map(|t| t.id.as_str()), Some("private-adult"));
        for (age, want) in [(8, Some("child")), (30, Some("adult")), (70, Some("senior")), (3, None)] {
            assert_eq!(cat.tier_for_age("v1", date, age).map(|t| t.id.as_str()), want, "age {age}");
        }
        let ls = lines(&[("adult", 1)]);
        let r = QuoteRequest { variant_id: "private", ..req(&ls) };
        assert!(matches!(quote(&cat, &r), Err(PricingError::TierNotForVariant { .. })));
    }

    fn season(id: &str, from: NaiveDate, to: NaiveDate, adj: Adjustment, priority: i32) -> SeasonalAdjustment {
        SeasonalAdjustment { id: id.into(), name: id.into(), start_date: from, end_date: to, adjustment: adj, priority }
    }

    #[test]
    fn season_selection_table() {
        let summer = season("summer", d(2026, 6, 1), d(2026, 8, 31), Adjustment::Percentage(Percent::whole(20)), 1);
        let july4 = season("july4", d(2026, 7, 3), d(2026, 7, 5), Adjustment::Fixed(usd(1000)), 1);
        let peak = season("peak", d(2026, 7, 1), d(2026, 7, 31), Adjustment::Percentage(Percent::whole(30)), 5);
        let twin_a = season("a", d(2026, 9, 1), d(2026, 9, 30), Adjustment::Percentage(Percent::whole(1)), 0);
        let twin_b = season("b", d(2026, 9, 1), d(2026, 9, 30), Adjustment::Percentage(Percent::whole(2)), 0);
        let all = vec![summer, july4, peak, twin_b, twin_a];
        let cases = [
            (d(2026, 5, 31), None),
            (d(2026, 6, 1), Some("summer")),  // inclusive start
            (d(2026, 8, 31), Some("summer")), // inclusive end
            (d(2026, 7, 4), Some("peak")),    // higher priority wins
            (d(2026, 9, 15), Some("a")),      // full tie: smaller id
        ];
        for (date, want) in cases {
            assert_eq!(select_season(&all, date).map(|s| s.id.as_str()), want, "{date}");
            let mut rev = all.clone();
            rev.reverse();
            assert_eq!(select_season(&rev, date).map(|s| s.id.as_str()), want, "{date} reversed");
        }
        // Same priority: the shorter range is the more specific one.
        let without_peak: Vec<_> = all.iter().filter(|s| s.id != "peak").cloned().collect();
        assert_eq!(select_season(&without_peak, d(2026, 7, 4)).map(|s| s.id.as_str()), Some("july4"));
    }

    #[test]
    fn seasonal_adjustment_of_unit_prices() {
        // (adjustment, adult unit before → after)
        let cases = [
            (Adjustment::Percentage(Percent::whole(20)), 6000),
            (Adjustment::Percentage(Percent::from_basis_points(-1250)), 4375),
            (Adjustment::Percentage(Percent::from_basis_points(1)), 5001), // 0.5 cent rounds up
            (Adjustment::Fixed(usd(750)), 5750),
            (Adjustment::Fixed(usd(-9000)), 0), // never below zero
            (Adjustment::Percentage(Percent::whole(-150)), 0),
        ];
        for (adj, want) in cases {
            let mut cat = catalog();
            cat.seasons = vec![season("s", d(2026, 7, 1), d(2026, 7, 31), adj, 0)];
            let ls = lines(&[("adult", 3)]);
            let q = quote(&cat, &req(&ls)).unwrap();
            assert_eq!(q.snapshot.line_items[0].unit_price, usd(want), "{adj:?}");
            assert_eq!(q.snapshot.subtotal, usd(want * 3));
            assert_eq!(q.season.map(|s| s.id), Some("s".to_string()));
        }
        let mut cat = catalog();
        cat.seasons =
            vec![season("s", d(2026, 7, 1), d(2026, 7, 31), Adjustment::Fixed(Money::new(5, Currency::EUR)), 0)];
        let ls = lines(&[("adult", 1)]);
        assert!(matches!(quote(&cat, &req(&ls)), Err(PricingError::CurrencyMismatch { .. })));
    }

    type DiscountCase = (u32, DateTime<Utc>, Vec<(DiscountKind, i64)>);

    #[test]
    fn group_and_early_bird_thresholds() {
        let mut cat = catalog();
        cat.group_discounts = vec![
            GroupDiscount { min_participants: 10, discount: Adjustment::Percentage(Percent::whole(10)) },
            GroupDiscount { min_participants: 6, discount: Adjustment::Percentage(Percent::whole(5)) },
        ];
        cat.early_bird_discounts = vec![
            EarlyBirdDiscount { min_days_before: 30, discount: Adjustment::Fixed(usd(2000)) },
            EarlyBirdDiscount { min_days_before: 60, discount: Adjustment::Fixed(usd(5000)) },
        ];
        // (adults, quoted_at, expected discounts)
        let cases: Vec<DiscountCase> = vec![
            (5, at(2026, 7, 1), vec![]),
            (6, at(2026, 7, 1), vec![(DiscountKind::Group, 1500)]),
            (10, at(2026, 7, 1), vec![(DiscountKind::Group, 5000)]),
            // Exactly 30 days ahead qualifies; 29 days 23 hours does not.
            (1, at(2026, 6, 10), vec![(DiscountKind::EarlyBird, 2000)]),
            (1, at(2026, 6, 10) + chrono::Duration::hours(1), vec![]),
            (1, at(2026, 5, 1), vec![(DiscountKind::EarlyBird, 5000)]),
            // Group first, then early bird on the remainder: 10×50 = 500, −10% = 450, −50.
            (10, at(2026, 5, 1), vec![(DiscountKind::Group, 5000), (DiscountKind::EarlyBird, 5000)]),
            // After the departure started there is no early bird.
            (1, at(2026, 7, 11), vec![]),
        ];
        for (n, quoted_at, want) in cases {
            let ls = lines(&[("adult", n)]);
            let r = QuoteRequest { quoted_at, ..req(&ls) };
            let q = quote(&cat, &r).unwrap();
            let got: Vec<_> = q.snapshot.discounts.iter().map(|d| (d.kind, d.amount.amount)).collect();
            assert_eq!(got, want, "{n} adults at {quoted_at}");
        }
        let ls = lines(&[("adult", 10)]);
        let q = quote(&cat, &req(&ls)).unwrap();
        assert_eq!(q.snapshot.discounts[0].description, "Group discount (10+ participants): 10%");
    }

    #[test]
    fn discounts_never_exceed_what_they_discount() {
        let mut cat = catalog();
        cat.group_discounts =
            vec![GroupDiscount { min_participants: 1, discount: Adjustment::Percentage(Percent::whole(60)) }];
        let p = promo(Adjustment::Fixed(usd(100_000)));
        let manual = ManualDiscount { description: "Goodwill".into(), discount: Adjustment::Fixed(usd(10)) };
        let ls = lines(&[("adult", 1)]);
        let r = QuoteRequest {
            promo: Some(PromoApplication { code: &p, customer_uses: 0 }),
            manual_discount: Some(&manual),
            ..req(&ls)
        };
        let s = quote(&cat, &r).unwrap().snapshot;
        let got: Vec<_> = s.discounts.iter().map(|d| (d.kind, d.amount.amount)).collect();
        // 60% of 50.00, then the promo is capped at the 20.00 left; the manual discount has
        // nothing left to take and is dropped.
        assert_eq!(got, vec![(DiscountKind::Group, 3000), (DiscountKind::PromotionalCode, 2000)]);
        assert_eq!(s.total, usd(0));
        assert_eq!(s.promotional_code_id.as_deref(), Some("p1"));

        let over = promo(Adjustment::Percentage(Percent::whole(250)));
        let r = QuoteRequest { promo: Some(PromoApplication { code: &over, customer_uses: 0 }), ..req(&ls) };
        assert_eq!(quote(&catalog(), &r).unwrap().snapshot.total, usd(0));

        let negative = promo(Adjustment::Fixed(usd(-100)));
        let r = QuoteRequest { promo: Some(PromoApplication { code: &negative, customer_uses: 0 }), ..req(&ls) };
        assert!(matches!(quote(&catalog(), &r), Err(PricingError::NegativeValue { .. })));
    }

    #[test]
    fn promo_codes_are_normalised_or_refused() {
        assert_eq!(normalize_promo_code("promo_code", " summer10 "), Ok(Some("SUMMER10".into())));
        assert_eq!(normalize_promo_code("promo_code", "  "), Ok(None));
        for bad in ["BK\u{0}", "a\u{7}b", &"X".repeat(MAX_PROMO_CODE_LEN + 1)] {
            assert_eq!(normalize_promo_code("promo_code", bad).unwrap_err().field, "promo_code", "{bad:?}");
        }
    }

    #[test]
    fn promo_refusals_table() {
        let base = promo(Adjustment::Percentage(Percent::whole(10)));
        let cases: Vec<(PromoCode, u32, Option<PromoRefusal>, &str)> = vec![
            (base.clone(), 0, None, ""),
            (
                PromoCode { status: PromoStatus::Inactive, ..base.clone() },
                0,
                Some(PromoRefusal::Inactive),
                "This code is not active",
            ),
            (
                PromoCode { status: PromoStatus::Expired, ..base.clone() },
                0,
                Some(PromoRefusal::Expired { valid_until: at(2027, 1, 1) }),
                "This code expired on 2027-01-01",
            ),
            (
                PromoCode { valid_until: at(2026, 7, 1), ..base.clone() },
                0,
                Some(PromoRefusal::Expired { valid_until: at(2026, 7, 1) }),
                "This code expired on 2026-07-01",
            ),
            (
                PromoCode { valid_from: at(2026, 7, 2), ..base.clone() },
                0,
                Some(PromoRefusal::NotYetValid { valid_from: at(2026, 7, 2) }),
                "This code is valid from 2026-07-02",
            ),
            (
                PromoCode { applicable_tour_ids: vec!["other".into()], ..base.clone() },
                0,
                Some(PromoRefusal::NotForThisTour),
                "This code can't be used for this tour",
            ),
            (PromoCode { applicable_tour_ids: vec!["other".into(), "tour".into()], ..base.clone() }, 0, None, ""),
            (
                PromoCode { applicable_variant_ids: vec!["v9".into()], ..base.clone() },
                0,
                Some(PromoRefusal::NotForThisVariant),
                "This code can't be used for this option of the tour",
            ),
            (
                PromoCode { max_uses: Some(100), current_uses: 100, ..base.clone() },
                0,
                Some(PromoRefusal::UsageLimitReached { max_uses: 100 }),
                "This code has reached its usage limit",
            ),
            (PromoCode { max_uses: Some(100), current_uses: 99, ..base.clone() }, 0, None, ""),
            (
                PromoCode { max_uses_per_customer: Some(1), ..base.clone() },
                1,
                Some(PromoRefusal::CustomerLimitReached { max_uses_per_customer: 1 }),
                "You have already used this code the maximum number of times",
            ),
            (
                PromoCode { min_booking_value: Some(Money::new(15001, USD)), ..base.clone() },
                0,
                Some(PromoRefusal::BelowMinimum { minimum: usd(15001) }),
                "This code needs a booking of at least $150.01",
            ),
            (PromoCode { min_booking_value: Some(usd(15000)), ..base.clone() }, 0, None, ""),
            (
                PromoCode { min_booking_value: Some(Money::new(5000, Currency::EUR)), ..base.clone() },
                0,
                Some(PromoRefusal::CurrencyMismatch { code_currency: Currency::EUR, booking_currency: USD }),
                "This code only works for prices in EUR",
            ),
        ];
        let ls = lines(&[("adult", 3)]);
        for (code, uses, refusal, message) in cases {
            let r = QuoteRequest { promo: Some(PromoApplication { code: &code, customer_uses: uses }), ..req(&ls) };
            let q = quote(&catalog(), &r).unwrap();
            match refusal {
                None => {
                    assert_eq!(q.promo, PromoOutcome::Applied { code_id: "p1".into() }, "{code:?}");
                    assert_eq!(q.snapshot.total, usd(13500));
                    assert_eq!(q.snapshot.discounts[0].description, "Promo code SUMMER25: 10%");
                }
                Some(want) => {
                    assert_eq!(want.to_string(), message);
                    assert_eq!(q.promo, PromoOutcome::Refused { refusal: want }, "{code:?}");
                    assert_eq!(q.snapshot.total, usd(15000), "a refused code changes nothing");
                    assert_eq!(q.snapshot.promotional_code_id, None);
                }
            }
        }
        assert!(base.matches("  summer25 "));
        assert!(!base.matches("summer26"));
        assert_eq!(PromoRefusal::NotFound.to_string(), "We don't recognise this code");
    }

    #[test]
    fn taxes_inclusive_and_exclusive() {
        let tax = |name: &str, bp: i64, inclusive: bool| TaxRule {
            name: name.into(),
            rate: Percent::from_basis_points(bp),
            inclusive,
        };
        // (taxes, expected amounts, expected total) for a net of $100.00
        let cases: Vec<(Vec<TaxRule>, Vec<i64>, i64)> = vec![
            (vec![tax("Sales tax", 875, false)], vec![875], 10875),
            (vec![tax("VAT", 2000, true)], vec![1667], 10000), // 100 × 20/120 = 16.666…
            (vec![tax("VAT", 2000, true), tax("City", 500, true)], vec![1600, 400], 10000), // /125
            (vec![tax("VAT", 2000, true), tax("Tourism", 300, false)], vec![1667, 300], 10300),
            (vec![tax("State", 625, false), tax("County", 225, false)], vec![625, 225], 10850),
        ];
        for (taxes, amounts, total) in cases {
            let mut cat = catalog();
            cat.taxes = taxes;
            let ls = lines(&[("adult", 2)]);
            let s = quote(&cat, &req(&ls)).unwrap().snapshot;
            let got: Vec<_> = s.taxes.iter().map(|t| t.amount.amount).collect();
            assert_eq!(got, amounts);
            assert_eq!(s.total, usd(total));
        }
        // Taxes apply after discounts.
        let mut cat = catalog();
        cat.taxes = vec![tax("Sales tax", 1000, false)];
        cat.group_discounts = vec![GroupDiscount { min_participants: 2, discount: Adjustment::Fixed(usd(2000)) }];
        let ls = lines(&[("adult", 2)]);
        let s = quote(&cat, &req(&ls)).unwrap().snapshot;
        assert_eq!((s.subtotal.amount, s.taxes[0].amount.amount, s.total.amount), (10000, 800, 8800));
        cat.taxes = vec![tax("Negative", -100, false)];
        assert!(matches!(quote(&cat, &req(&ls)), Err(PricingError::NegativeValue { .. })));
    }

    #[test]
    fn snapshot_serde_shape() {
        let mut cat = catalog();
        cat.taxes = vec![TaxRule { name: "VAT".into(), rate: Percent::whole(20), inclusive: true }];
        let p = promo(Adjustment::Percentage(Percent::whole(10)));
        let ls = lines(&[("adult", 1)]);
        let r = QuoteRequest { promo: Some(PromoApplication { code: &p, customer_uses: 0 }), ..req(&ls) };
        let s = quote(&cat, &r).unwrap().snapshot;
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["discounts"][0]["type"], "promotional_code");
        assert_eq!(json["discounts"][0]["code_id"], "p1");
        assert_eq!(json["taxes"][0]["rate"], 2000);
        assert_eq!(json["total"]["amount"], 4500);
        assert_eq!(json["line_items"][0]["unit_price"]["currency"], "USD");
        let back: PricingSnapshot = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
        let adj: Adjustment =
            serde_json::from_str(r#"{"type":"fixed","value":{"amount":500,"currency":"USD"}}"#).unwrap();
        assert_eq!(adj, Adjustment::Fixed(usd(500)));
    }

    #[test]
    fn zero_decimal_currency() {
        let mut cat = catalog();
        cat.currency = Currency::JPY;
        for t in &mut cat.tiers {
            t.base_price = Money::new(t.base_price.amount / 10, Currency::JPY);
        }
        cat.taxes = vec![TaxRule { name: "Consumption tax".into(), rate: Percent::whole(10), inclusive: false }];
        cat.group_discounts = vec![GroupDiscount {
            min_participants: 1,
            discount: Adjustment::Percentage(Percent::from_basis_points(333)),
        }];
        let ls = lines(&[("adult", 1)]);
        let s = quote(&cat, &req(&ls)).unwrap().snapshot;
        // ¥500 − 3.33 % (16.65 → 17) = 483; tax 48.3 → 48.
        assert_eq!(s.discounts[0].amount, Money::new(17, Currency::JPY));
        assert_eq!(s.taxes[0].amount, Money::new(48, Currency::JPY));
        assert_eq!(s.total, Money::new(531, Currency::JPY));
    }

    /// The desk's catalog is its tiers and nothing else: no season, discount or tax reaches a
    /// desk quote, a tier's fields carry over, and a tour without tiers has no catalog.
    #[test]
    fn a_tiers_only_catalog() {
        let row = |id: &str, price: Money, variant: Option<&str>| PricingTier {
            id: id.into(),
            organization_id: "org".into(),
            tour_id: "tour".into(),
            variant_id: variant.map(Into::into),
            name: id.to_uppercase(),
            base_price: price,
            min_age: Some(13),
            max_age: None,
            is_default: id == "adult",
            sort_order: 2,
            valid_from: None,
            valid_until: None,
            min_per_booking: None,
            max_per_booking: None,
        };
        assert_eq!(PricingCatalog::from_tiers("tour", &[]), None);
        let eur = Money::new(4500, Currency::EUR);
        let cat =
            PricingCatalog::from_tiers("tour", &[row("adult", eur, None), row("vip", usd(9000), Some("v1"))]).unwrap();
        assert_eq!((cat.tour_id.as_str(), cat.currency), ("tour", Currency::EUR), "the tour's currency");
        assert!(cat.seasons.is_empty() && cat.group_discounts.is_empty());
        assert!(cat.early_bird_discounts.is_empty() && cat.taxes.is_empty());
        assert_eq!(
            cat.tiers[0],
            Tier {
                id: "adult".into(),
                variant_id: None,
                name: "ADULT".into(),
                base_price: eur,
                min_age: Some(13),
                max_age: None,
                valid_from: None,
                valid_until: None,
                is_default: true,
                sort_order: 2,
                min_per_booking: None,
                max_per_booking: None,
            }
        );
        assert_eq!(cat.tiers[1].variant_id.as_deref(), Some("v1"));
        // A tier in another currency than the first is refused by the quote, not converted.
        let req = LineRequest { tier_id: "vip".into(), quantity: 1, ages: vec![] };
        let quoted = quote(
            &cat,
            &QuoteRequest {
                variant_id: "v1",
                departure_date: d(2026, 7, 1),
                departure_starts_at: at(2026, 7, 1),
                quoted_at: at(2026, 6, 1),
                lines: std::slice::from_ref(&req),
                promo: None,
                manual_discount: None,
            },
        );
        assert!(quoted.is_err(), "{quoted:?}");
    }
}

//! The public API's wire types. They are a contract with other people's code (the booking site,
//! partners), so they are kept apart from the domain's types: the domain may change shape
//! without breaking a published field. Every type here is in the OpenAPI document.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use tourdesk_domain::money::Money;
use utoipa::{IntoParams, ToSchema};

/// An amount of money: integer minor units of its currency (cents, yen), never a float.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MoneyDto {
    /// Minor units: 12050 EUR is €120.50; 12000 JPY is ¥12,000.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// For display, e.g. "€120.50".
    pub formatted: String,
}

impl From<Money> for MoneyDto {
    fn from(m: Money) -> Self {
        MoneyDto { amount_minor: m.amount, currency: m.currency.to_string(), formatted: m.display_with_symbol() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TourSummary {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub short_description: String,
    pub category: String,
    pub duration_minutes: u32,
    /// IANA zone the tour runs in; departure times are given in it.
    pub timezone: String,
    pub meeting_point: String,
    /// The lowest base price of any tier, before seasonal adjustments.
    pub from_price: Option<MoneyDto>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VariantDto {
    pub id: String,
    pub name: String,
    pub capacity: u32,
    pub duration_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TierDto {
    pub id: String,
    /// `null`: offered for every variant.
    pub variant_id: Option<String>,
    pub name: String,
    pub base_price: MoneyDto,
    pub min_age: Option<u32>,
    pub max_age: Option<u32>,
    /// At least this many of this tier in one booking, when set.
    pub min_per_booking: Option<u32>,
    /// At most this many of this tier in one booking, when set.
    pub max_per_booking: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyRuleDto {
    /// Cancelling at least this many hours before the start refunds `refund_percentage`.
    pub hours_before_tour: u32,
    pub refund_percentage: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PolicyDto {
    pub name: String,
    pub rules: Vec<PolicyRuleDto>,
}

/// A question and its answer on the tour's page (published ones only), in the operator's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FaqDto {
    pub question: String,
    pub answer: String,
}

/// One line of what the price includes, or does not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InclusionDto {
    pub text: String,
    /// A name of the operator's choice for an icon beside the text (`ticket`, `coffee`).
    pub icon: Option<String>,
}

/// Where the tour starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MeetingPointDto {
    /// Its name ("Fountain in the main square"), as in the summary.
    pub name: String,
    pub address: String,
    /// WGS 84 degrees; both or neither.
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// How to find the guide ("look for the red umbrella").
    pub instructions: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TourDetail {
    pub tour: TourSummary,
    pub min_participants: u32,
    pub variants: Vec<VariantDto>,
    pub tiers: Vec<TierDto>,
    pub cancellation_policy: Option<PolicyDto>,
    /// The long text of the tour's page.
    pub full_description: String,
    pub meeting_point: MeetingPointDto,
    /// Lowercase keywords.
    pub tags: Vec<String>,
    /// ISO 639-1 codes of the languages the tour is given in.
    pub languages: Vec<String>,
    pub accessibility_info: String,
    pub what_to_bring: Vec<String>,
    pub highlights: Vec<String>,
    pub faqs: Vec<FaqDto>,
    /// What the price includes, in the operator's order.
    pub included: Vec<InclusionDto>,
    /// What it does not include.
    pub not_included: Vec<InclusionDto>,
    /// When the tour's page last changed.
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct AvailabilityQuery {
    /// First local date (in the tour's zone), inclusive.
    pub from: NaiveDate,
    /// Last local date, inclusive; at most 92 days after `from`.
    pub to: NaiveDate,
    pub variant_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TierPrice {
    pub tier_id: String,
    pub name: String,
    /// The price of one participant on this departure, after seasonal pricing.
    pub price: MoneyDto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AvailableDeparture {
    pub id: String,
    pub variant_id: String,
    /// Local date and times in `timezone`.
    pub date: NaiveDate,
    pub start_time: String,
    pub end_time: String,
    pub timezone: String,
    /// The local UTC offset on that day, e.g. "+01:00" (it changes across DST).
    pub utc_offset: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub seats_left: u32,
    pub status: String,
    pub season: Option<String>,
    pub prices: Vec<TierPrice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Availability {
    pub tour_id: String,
    pub timezone: String,
    pub departures: Vec<AvailableDeparture>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantDto {
    pub first_name: String,
    pub last_name: String,
    pub age: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineDto {
    pub tier_id: String,
    #[schema(minimum = 1, maximum = 100)]
    pub quantity: u32,
    #[serde(default)]
    pub participants: Vec<ParticipantDto>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    pub departure_id: String,
    #[schema(min_items = 1, max_items = 20)]
    pub lines: Vec<LineDto>,
    pub promo_code: Option<String>,
    /// Lets per-customer promo limits be checked before booking.
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QuoteLineDto {
    pub tier_id: String,
    pub tier_name: String,
    pub quantity: u32,
    pub unit_price: MoneyDto,
    pub total: MoneyDto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DiscountDto {
    /// promotional_code, early_bird, group or manual.
    pub kind: String,
    pub description: String,
    pub amount: MoneyDto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TaxDto {
    pub name: String,
    /// Basis points: 2300 is 23%.
    pub rate_bps: u32,
    pub inclusive: bool,
    pub amount: MoneyDto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PriceDto {
    pub lines: Vec<QuoteLineDto>,
    pub subtotal: MoneyDto,
    pub discounts: Vec<DiscountDto>,
    pub taxes: Vec<TaxDto>,
    pub total: MoneyDto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PromoDto {
    /// not_requested, applied or refused.
    pub status: String,
    /// Why a code was refused, for the customer.
    pub message: Option<String>,
    /// The refusal's stable name (`not_found`, `expired`, `customer_limit_reached`, …), for
    /// sites that word it in another language.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QuoteDto {
    pub price: PriceDto,
    pub season: Option<String>,
    pub promo: PromoDto,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerDto {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// E.164, e.g. +351912345678.
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBookingRequest {
    /// A UUID made by the caller. Sending the same request again with it (after a timeout, say)
    /// returns the same booking instead of making a second one.
    #[schema(pattern = r"^\s*[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\s*$")]
    pub request_id: Option<String>,
    pub departure_id: String,
    pub customer: CustomerDto,
    #[schema(min_items = 1, max_items = 20)]
    pub lines: Vec<LineDto>,
    pub promo_code: Option<String>,
    pub special_requests: Option<String>,
    pub dietary_restrictions: Option<String>,
    /// The total the customer was shown, in minor units; if the price changed meanwhile the
    /// booking is refused with PRICE_CHANGED instead of charging a different amount.
    pub expected_total_minor: Option<i64>,
    /// A gift card's code: the card pays what it holds of the total, in the booking's
    /// transaction; the PaymentIntent is for the rest, and none is made when it covers all.
    #[serde(default)]
    pub gift_card_code: Option<String>,
}

/// What a gift card would pay of a quote: the amount it covers and what is left to pay by card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GiftCardCoverDto {
    pub covered: MoneyDto,
    pub remaining: MoneyDto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CancellationDto {
    pub cancelled_at: DateTime<Utc>,
    pub by: String,
    pub reason: Option<String>,
    pub refund_percentage: u8,
    pub refund: MoneyDto,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BookingDto {
    pub id: String,
    pub reference: String,
    pub status: String,
    pub payment_status: String,
    pub tour_id: String,
    pub tour_name: String,
    pub departure_id: String,
    pub date: NaiveDate,
    pub start_time: String,
    pub timezone: String,
    pub starts_at: DateTime<Utc>,
    pub participants: u32,
    pub price: PriceDto,
    pub paid: MoneyDto,
    pub refunded: MoneyDto,
    /// An unpaid booking keeps its seats until then.
    pub hold_expires_at: Option<DateTime<Utc>>,
    pub cancellation: Option<CancellationDto>,
}

/// The payment step of a booking, by `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PaymentDto {
    /// Pay now: Stripe.js `confirmPayment` with the client secret.
    Ready {
        provider: String,
        payment_intent_id: String,
        /// For Stripe.js `confirmPayment`.
        client_secret: String,
        publishable_key: String,
    },
    /// The payment provider could not be reached. The booking is made and its seats are held
    /// until `booking.hold_expires_at`; send the same request (same `request_id`) again after
    /// `retry_after_seconds` to get the client secret. No second booking is made.
    Retry { provider: String, retry_after_seconds: u32, message: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BookingCreated {
    pub booking: BookingDto,
    /// `null` when nothing is to be paid; `status` says whether it can be paid now (`ready`) or
    /// the request is to be sent again shortly (`retry`).
    pub payment: Option<PaymentDto>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    /// As on the confirmation: any case, surrounding spaces and the `BK-` prefix optional.
    #[schema(example = "BK-2026-7KQ2MX", pattern = r"^\s*([Bb][Kk]-)?[0-9]{4}-[2-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{6}\s*$")]
    pub reference: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Accepted {
    pub message: String,
}

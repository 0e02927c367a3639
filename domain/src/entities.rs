//! The entities the desk replicates and the server owns. Field names are the wire format of
//! sync change records, so they are also the column names on both stores.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::cancellation::{CancelledBy, RefundDecision};
use crate::capacity::ManagerOverride;
use crate::guides::{AssignmentRole, AssignmentStatus, GuideProfile, GuideStatus, TimeOff, WeeklyAvailability};
use crate::hlc::Hlc;
use crate::money::{Currency, Money};
use crate::pricing::PricingSnapshot;
use crate::reference::ReferenceNumber;
use crate::status::{BookingStatus, DepartureStatus, PaymentStatus, TourCategory, TourStatus, string_enum};

/// Declares a struct whose last fields are the details of a tour's page, in this order and
/// each optional on the wire (`#[serde(default)]`): the entity [`Tour`], the UI's
/// [`NewTour`](crate::ipc::NewTour) and the mutation `create_tour.v1` carry the same ones.
/// A macro rather than a `#[serde(flatten)]`ed struct because `create_tour.v1` denies
/// unknown fields, which flatten does not support; the fields stay plain fields, so the JSON
/// of stored mutations and change records is what it was.
macro_rules! with_tour_details {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        $vis struct $name {
            $($fields)*
            /// The long text of the tour's page (the spec's `full_description`).
            #[serde(default)]
            pub full_description: String,
            #[serde(default)]
            pub meeting_point_address: String,
            /// WGS 84 degrees; both or neither (`validate::coordinates`).
            #[serde(default)]
            pub meeting_point_lat: Option<f64>,
            #[serde(default)]
            pub meeting_point_lng: Option<f64>,
            /// How to find the guide ("look for the red umbrella").
            #[serde(default)]
            pub meeting_point_instructions: String,
            /// Lowercase, without repeats, in the order given.
            #[serde(default)]
            pub tags: Vec<String>,
            /// ISO 639-1 codes of the languages the tour is given in.
            #[serde(default)]
            pub languages: Vec<String>,
            #[serde(default)]
            pub accessibility_info: String,
            #[serde(default)]
            pub what_to_bring: Vec<String>,
            #[serde(default)]
            pub highlights: Vec<String>,
        }
    };
}
pub(crate) use with_tour_details;

/// Declares a struct whose last fields are a guide's optional profile: bio, photo, emergency
/// contact and days off: the entity [`Guide`] and `upsert_guide.v1` (see [`with_tour_details`]
/// for why a macro).
macro_rules! with_guide_extras {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        $vis struct $name {
            $($fields)*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub bio: Option<String>,
            /// An `https://` address of the guide's photo.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub photo_url: Option<String>,
            /// Whom to call if something happens to the guide: a name and a phone number, free text.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub emergency_contact: Option<String>,
            /// Days off, in the guide's own zone.
            #[serde(default)]
            pub time_off: Vec<TimeOff>,
        }
    };
}
pub(crate) use with_guide_extras;

/// Declares a struct whose last fields are a price tier's validity dates and per-booking
/// limits, each optional on the wire: the entity [`PricingTier`], the tour editor's
/// [`PriceTierInput`](crate::ipc::PriceTierInput) and `upsert_pricing_tier.v2` (see
/// [`with_tour_details`] for why a macro).
macro_rules! with_tier_limits {
    ($(#[$meta:meta])* $vis:vis struct $name:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        $vis struct $name {
            $($fields)*
            /// Inclusive local dates of the departures this price applies to; `None` is open-ended.
            #[serde(default)]
            pub valid_from: Option<chrono::NaiveDate>,
            #[serde(default)]
            pub valid_until: Option<chrono::NaiveDate>,
            /// How many of this tier one booking may take (a family ticket: at least 2, at most 4).
            #[serde(default)]
            pub min_per_booking: Option<u32>,
            #[serde(default)]
            pub max_per_booking: Option<u32>,
        }
    };
}
pub(crate) use with_tier_limits;

/// Declares the fields a price tier is edited with after `$head` (the id, whose type differs),
/// in this order, and hands the struct to `$wrap!` (`as_is!`, or `with_tier_limits!` to
/// append those): the tour editor's [`PriceTierInput`](crate::ipc::PriceTierInput) and every
/// version of `upsert_pricing_tier` (see [`with_tour_details`] for why a macro).
macro_rules! with_tier_terms {
    ($wrap:ident! $(#[$meta:meta])* $vis:vis struct $name:ident { $($head:tt)* }) => {
        $wrap! {
            $(#[$meta])*
            $vis struct $name {
                $($head)*
                pub tour_id: String,
                /// `None`: the tier applies to every variant of the tour.
                #[serde(default)]
                pub variant_id: Option<String>,
                pub name: String,
                pub base_price: $crate::money::Money,
                #[serde(default)]
                pub min_age: Option<u32>,
                #[serde(default)]
                pub max_age: Option<u32>,
                #[serde(default)]
                pub is_default: bool,
                #[serde(default)]
                pub sort_order: i32,
            }
        }
    };
}
pub(crate) use with_tier_terms;

/// Hands its input back unchanged: the `$wrap` of [`with_tier_terms`] that adds nothing.
macro_rules! as_is {
    ($($item:tt)*) => { $($item)* };
}
pub(crate) use as_is;

with_tour_details! {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Tour {
        pub id: String,
        pub organization_id: String,
        pub name: String,
        /// Unique within the organization; used in public URLs.
        pub slug: String,
        pub short_description: String,
        pub duration_minutes: u32,
        pub default_capacity: u32,
        pub min_participants: u32,
        pub category: TourCategory,
        /// IANA zone the tour operates in; departures are shown in it.
        pub timezone: String,
        /// The meeting point's name ("Fountain in the main square").
        pub meeting_point: String,
        pub status: TourStatus,
        /// The organization-wide cancellation policy the tour chose (or its own policy, which
        /// the server links here when it is saved); `None`: its own, else the organization's
        /// default (`catalogue::policy_for_tour`).
        #[serde(default)]
        pub cancellation_policy_id: Option<String>,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TourVariant {
    pub id: String,
    pub organization_id: String,
    pub tour_id: String,
    pub name: String,
    /// `None` means "use the tour's default".
    pub capacity: Option<u32>,
    pub duration_minutes: Option<u32>,
    pub active: bool,
    pub sort_order: i32,
}

with_tier_limits! {
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct PricingTier {
        pub id: String,
        pub organization_id: String,
        pub tour_id: String,
        /// `None` means the tier applies to every variant of the tour.
        pub variant_id: Option<String>,
        pub name: String,
        pub base_price: Money,
        pub min_age: Option<u32>,
        pub max_age: Option<u32>,
        pub is_default: bool,
        pub sort_order: i32,
    }
}

/// One departure of a tour variant: what gets booked. The original architecture document calls this a "schedule".
/// The local date/time and zone are what the operator typed; `starts_at` is the UTC instant
/// derived from them, which is what is compared and sorted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Departure {
    pub id: String,
    pub organization_id: String,
    pub tour_id: String,
    pub variant_id: String,
    pub local_date: NaiveDate,
    pub local_time: NaiveTime,
    pub timezone: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: u32,
    pub booked_count: u32,
    pub status: DepartureStatus,
    /// Staff notes for the day (meeting point moved, a guide's remark); never shown to
    /// customers. Absent in rows written before notes existed.
    #[serde(default)]
    pub notes: String,
}

impl Departure {
    pub fn seats_left(&self) -> u32 {
        self.capacity.saturating_sub(self.booked_count)
    }
}

string_enum!(
    /// How a customer found the operator (the spec's `customer_source`).
    CustomerSource {
        Direct => "direct",
        OrganicSearch => "organic_search",
        PaidSearch => "paid_search",
        Social => "social",
        Referral => "referral",
        Ota => "ota",
        Repeat => "repeat",
        WalkIn => "walk_in",
        Phone => "phone",
        Other => "other",
    }
);

string_enum!(
    /// Where a booking was made.
    BookingSource { Website => "website", Admin => "admin", Phone => "phone", Partner => "partner", Ota => "ota" }
);

/// One tag's last add or remove. Removed tags keep their stamp (a tombstone) so that an older
/// add arriving later cannot bring the tag back: that is what makes add and remove commute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagStamp {
    pub present: bool,
    pub hlc: Hlc,
}

/// An edit of the staff notes made against a version that had already moved on. Both texts
/// are kept — the stored one in `notes`, this one here — until a person merges them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotesConflict {
    pub base_version: u64,
    pub text: String,
    pub author_id: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub organization_id: String,
    /// Lowercased; unique within the organization. `None` for a walk-in who gave none: the desk
    /// takes a name (and a phone) at the counter; the public website always asks for one.
    #[serde(default)]
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    /// Either name may be empty, not both.
    pub first_name: String,
    pub last_name: String,
    pub source: CustomerSource,
    pub source_detail: Option<String>,
    /// ISO 639-1, optionally with a region.
    pub preferred_language: String,
    pub preferred_currency: Currency,
    pub marketing_consent: bool,
    /// When consent was last given: the clock stamp of that edit, not the time it synced.
    pub marketing_consent_date: Option<DateTime<Utc>>,
    /// The stamp of the last write of each scalar field, by field name; per-field
    /// last-writer-wins compares against it.
    pub field_hlcs: BTreeMap<String, Hlc>,
    /// The tags currently on the customer (derived from `tag_stamps`, kept for queries).
    pub tags: BTreeSet<String>,
    pub tag_stamps: BTreeMap<String, TagStamp>,
    pub notes: String,
    /// Bumped by every accepted notes edit; an edit names the version it started from.
    pub notes_version: u64,
    pub notes_conflicts: Vec<NotesConflict>,
    /// The customer asked for no departure reminders (booking confirmations still go out).
    #[serde(default)]
    pub reminders_opt_out: bool,
    /// The customer agreed to booking texts (SMS) on their phone: confirmations and reminders
    /// also go there. Off unless they said yes.
    #[serde(default)]
    pub sms_opt_in: bool,
    /// Set when this record was merged into another (`merge_customers.v1`): its bookings moved
    /// there, and it stays only so old references resolve; searches leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
    /// Set when the personal data was erased (`erase_customer.v1`, GDPR): names, contact,
    /// notes and tags are gone; bookings and money records stay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Customer {
    /// "First Last", or the one name a walk-in gave.
    pub fn full_name(&self) -> String {
        full_name(&self.first_name, &self.last_name)
    }
}

/// "First Last" without a stray space when one part is empty.
pub fn full_name(first: &str, last: &str) -> String {
    [first.trim(), last.trim()].iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join(" ")
}

/// A named participant of a booking, for manifests and check-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub pricing_tier_id: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub age: Option<u32>,
}

/// Why and how a booking was cancelled, with the refund the policy granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationRecord {
    pub by: CancelledBy,
    pub reason: Option<String>,
    /// What the policy granted.
    pub decision: RefundDecision,
    /// Staff's refund in place of the policy's, when they overrode it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_override: Option<crate::cancellation::RefundOverride>,
    /// Money received and not given back when it was cancelled (absent on records written
    /// before it was kept): with the refund it gives what the booking keeps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_paid: Option<Money>,
    /// The part of the refund that goes back by hand (cash, terminal, transfer) rather than
    /// through Stripe: it stays a refund due on the booking until staff give it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_by_hand: Option<Money>,
}

impl CancellationRecord {
    /// The refund granted: staff's override, else the policy's.
    pub fn refund(&self) -> Money {
        self.refund_override.as_ref().map_or(self.decision.refund, |o| o.amount)
    }

    /// What the booking keeps of the money it had received, when that is known.
    pub fn kept(&self) -> Option<Money> {
        let net = self.net_paid?;
        Some(Money::new(net.amount.saturating_sub(self.refund().amount).max(0), net.currency))
    }
}

/// A booking. Its price is the pricing snapshot taken when it was made (or last modified); the
/// line items live in `pricing.line_items`, named participants in `participants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub id: String,
    pub organization_id: String,
    pub reference_number: ReferenceNumber,
    pub customer_id: String,
    pub departure_id: String,
    pub tour_id: String,
    pub variant_id: String,
    pub pricing: PricingSnapshot,
    pub participants: Vec<Participant>,
    pub status: BookingStatus,
    pub payment_status: PaymentStatus,
    pub paid_amount: Money,
    pub refunded_amount: Money,
    pub source: BookingSource,
    pub special_requests: Option<String>,
    pub dietary_restrictions: Option<String>,
    /// Set when this booking took the departure past its capacity: who allowed it and why.
    pub overbook: Option<ManagerOverride>,
    pub cancellation: Option<CancellationRecord>,
    /// Attendance derived from the booking's check-ins (see `mutation::bookings::attendance`).
    pub checked_in: u32,
    pub no_shows: u32,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl Booking {
    pub fn participant_count(&self) -> u32 {
        self.pricing.participants()
    }

    /// The seats this booking holds on its departure right now.
    pub fn seats_held(&self) -> u32 {
        if self.status.holds_seats() { self.participant_count() } else { 0 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckInKind {
    CheckedIn,
    NoShow,
}

/// One attendance fact recorded at the meeting point. Its id is the nonce the recording device
/// made, so a replayed intent finds its own fact and counts once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIn {
    pub id: String,
    pub organization_id: String,
    pub booking_id: String,
    pub departure_id: String,
    /// 0-based, over the booking's participants in line order.
    pub participant: u32,
    pub kind: CheckInKind,
    /// When the guide recorded it (their device's clock).
    pub at: DateTime<Utc>,
    pub recorded_by: String,
}

with_guide_extras! {
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Guide {
        pub id: String,
        pub organization_id: String,
        /// The staff login of the guide, if they have one; this is how a guide's own departures
        /// are recognised.
        pub user_id: Option<String>,
        pub first_name: String,
        pub last_name: String,
        pub email: String,
        pub phone: String,
        pub languages: Vec<String>,
        pub timezone: String,
        pub weekly_availability: WeeklyAvailability,
        pub status: GuideStatus,
        /// Tours the guide may lead (the spec's `tour_guide_assignments`).
        pub qualified_tour_ids: Vec<String>,
    }
}

impl Guide {
    pub fn profile(&self) -> GuideProfile {
        GuideProfile {
            id: self.id.clone(),
            status: self.status,
            languages: self.languages.clone(),
            timezone: self.timezone.clone(),
            weekly_availability: self.weekly_availability.clone(),
            qualified_tour_ids: self.qualified_tour_ids.clone(),
            time_off: self.time_off.clone(),
        }
    }

    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name).trim().to_string()
    }
}

/// A guide assigned to one departure (the spec's `schedule_guide_assignments`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuideAssignment {
    pub id: String,
    pub organization_id: String,
    pub departure_id: String,
    pub guide_id: String,
    pub status: AssignmentStatus,
    pub assigned_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub notes: Option<String>,
    /// Lead or assistant; assignments made before roles existed are leads.
    #[serde(default)]
    pub role: AssignmentRole,
    /// Set when a manager assigned the guide despite conflicts (audited with them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
}

/// Who leads a departure, as a store answers it: the assignment joined with the guide's login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartureGuide {
    pub guide_id: String,
    pub user_id: Option<String>,
    pub status: AssignmentStatus,
    #[serde(default)]
    pub role: AssignmentRole,
}

/// Seats of one tier a waiting customer wants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitlistLine {
    pub tier_id: String,
    pub quantity: u32,
}

/// A customer waiting for seats on a departure (typically one that refused their booking as
/// full). It holds no seats; when seats free up the server offers them (`crate::waitlist`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistEntry {
    pub id: String,
    pub organization_id: String,
    pub tour_id: String,
    pub departure_id: String,
    pub customer_id: String,
    pub lines: Vec<WaitlistLine>,
    /// The sum of the lines' quantities.
    pub party_size: u32,
    pub notes: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Where the entry stands; rows written before offers existed were all waiting.
    #[serde(default = "waiting")]
    pub status: crate::waitlist::WaitlistStatus,
    /// Set by the server's offers job (`jobs/waitlist.rs`) when seats are held for the entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offered_at: Option<DateTime<Utc>>,
    /// Until when the offer holds its seats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_expires_at: Option<DateTime<Utc>>,
    /// The unpaid booking that holds the offered seats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_booking_id: Option<String>,
}

fn waiting() -> crate::waitlist::WaitlistStatus {
    crate::waitlist::WaitlistStatus::Waiting
}

/// Money to send back through the payment processor. The store queues it; the processor call
/// happens after commit, outside the domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    pub booking_id: String,
    pub amount: Money,
    pub reason: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn seats_left_never_underflows() {
        let d = Departure {
            id: "d".into(),
            organization_id: "o".into(),
            tour_id: "t".into(),
            variant_id: "v".into(),
            local_date: NaiveDate::from_ymd_opt(2026, 3, 8).unwrap(),
            local_time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            timezone: "America/New_York".into(),
            starts_at: Utc::now(),
            ends_at: Utc::now(),
            capacity: 10,
            booked_count: 12,
            status: DepartureStatus::Full,
            notes: String::new(),
        };
        assert_eq!(d.seats_left(), 0);
        assert_eq!(Departure { booked_count: 3, ..d }.seats_left(), 7);
    }
}

//! Intent mutations: what a user meant, not the rows it touched.
//!
//! A mutation runs twice: optimistically on the desk (SQLite) and authoritatively on the
//! server (PostgreSQL), through the same code. To keep that code pure it is split in two:
//! [`Mutation::reads`] names every row the decision depends on, so the server can lock exactly
//! those rows (in a stable order) and load them into a snapshot; [`Mutation::apply`] then
//! decides from a [`ReadView`] and returns the [`Change`]s to write, or a typed [`Rejection`].
//! Each store only knows how to fetch `ReadKey`s and write `Change`s: the rows it fetches become
//! one [`Snapshot`] (see `snapshot`), the only `ReadView` the mutators are given.
//!
//! Because `reads` sees only the arguments, an intent names every row it depends on: a booking
//! intent carries its departure's and tour's ids as well as its own, and `apply` refuses it if
//! they do not belong together. That keeps the lock set known before anything is read.
//!
//! Conventions every mutator follows:
//! * A replayed intent whose effect is already there produces no changes rather than a
//!   rejection (same state, same tag stamp, same check-in nonce, an older field stamp), because
//!   the desk replays its queue on every rebase.
//! * Time comes from [`MutationCtx::now`]; randomness (a booking reference's entropy) and
//!   every id come in the arguments, minted by the client, so desk and server produce the same
//!   rows.
//! * Rules live in the pure modules (`capacity`, `pricing`, `availability`, `cancellation`,
//!   `guides`, `status`, `reference`, `validate`); a mutator only wires them to rows.

mod allotments;
mod bookings;
mod catalogue;
mod confirmation;
mod customer_message;
mod customers;
mod gift_cards;
mod guides;
mod incidents;
mod ledger;
mod schedules;
mod snapshot;
mod tours;
mod waitlist;

#[cfg(test)]
mod testkit;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cancellation::CancellationPolicy;
use crate::capacity::CapacityError;
use crate::catalogue::CatalogueRow;
use crate::entities::{
    Booking, CheckIn, Customer, Departure, DepartureGuide, Guide, GuideAssignment, PricingTier, RefundRequest, Tour,
    TourVariant, WaitlistEntry,
};
use crate::guides::{ExistingAssignment, GuideConflicts};
use crate::money::Money;
use crate::pricing::{PricingCatalog, PricingError, PromoCode, PromoRefusal};
use crate::roles::{Permission, Role};
use crate::status::{DepartureStatus, ForbiddenTransition, StateMachine};
use crate::validate::FieldError;

pub use allotments::{IssueAllotmentV1, ReleaseAllotmentV1, SellWalkUpV1, WalkUpGuest, WalkUpPayment};
pub use bookings::{
    BOOKING_MODIFIED, BOOKING_MOVED, MOVE_CUTOFF_HOURS, MoveBookingV1, MoveMoney, lines_with_people,
    manual_discount_of, move_money,
};
pub use bookings::{
    CancelBookingV1, CheckInV1, CreateBookingV1, ExpireHoldV1, GIFT_CARD_GIVEN_BACK, LineArgs, MarkNoShowV1,
    ModifyBookingV1, OverbookArgs, ParticipantArgs, REFERENCE_CANDIDATES, REFUND_OVERRIDDEN, RedemptionArgs,
    RefundOverrideArgs, attendance, attendance_by_participant, given_back_id, reference_candidates,
};
pub use catalogue::{
    DeleteEarlyBirdDiscountV1, DeleteGroupDiscountV1, SetTourCancellationPolicyV1, UpsertEarlyBirdDiscountV1,
    UpsertGroupDiscountV1,
};
pub use catalogue::{
    DeleteSeasonV1, DeleteTourFaqV1, DeleteTourInclusionV1, ReorderTourFaqsV1, ReorderTourInclusionsV1,
    ReorderTourRowsArgs, SetPromoCodeStatusV1, UpsertCancellationPolicyV1, UpsertPromoCodeV1, UpsertSeasonV1,
    UpsertTaxRateV1, UpsertTourFaqV1, UpsertTourInclusionV1,
};
pub use confirmation::{CONFIRMATION_RESENT, ResendConfirmationV1, has_confirmation};
pub use customer_message::{
    CUSTOMER_MESSAGE_KIND, CUSTOMER_MESSAGE_SENT, CheckedMessage, MESSAGE_BODY_MAX, MESSAGE_SUBJECT_MAX,
    MessageChannel, SMS_BODY_MAX, SendCustomerMessageV1,
};
pub use customers::{
    AddCustomerTagV1, CUSTOMER_ERASED, CUSTOMER_MERGED, CreateCustomerV1, CustomerField, ERASED_NAME,
    EditCustomerNotesV1, EraseCustomerV1, MergeCustomersV1, RemoveCustomerTagV1, SetCustomerFieldV1,
};
pub use gift_cards::{GIFT_CARD_ISSUED, GIFT_CARD_REDEEMED, IssueGiftCardV1, RedeemGiftCardV1};
pub use guides::{AssignGuideV1, AssignGuideV2, UnassignGuideV1, UpsertGuideV1};
pub use incidents::RecordDepartureIncidentV1;
pub use ledger::{BOOKING_CONFIRMED, REFUND_GIVEN_BACK, RecordPaymentV1, RecordRefundV1, given_back_words};
pub use schedules::{
    CANCEL_REASON_MAX, CancelDepartureV1, CreateDepartureV1, DEPARTURE_NOTES_MAX, DepartureCancellationPreview,
    GenerateDeparturesV1, GenerationPlan, MAX_DEPARTURE_CAPACITY, PlannedDeparture, SetDepartureCapacityV1,
    SetDepartureNotesV1, SetDepartureStatusV1, departure_cancellation_preview,
};
pub use snapshot::{FetchReads, Fetched, Read, Snapshot};
pub use tours::{
    CreateTourV1, CreateVariantV1, UpdateTourV1, UpdateVariantV1, UpsertPricingTierV1, UpsertPricingTierV2,
    publish_refusal,
};
pub use waitlist::{AddToWaitlistV1, RemoveFromWaitlistV1};

/// Who is mutating, in which tenant, and when (the caller reads the clock, never this crate).
#[derive(Debug, Clone)]
pub struct MutationCtx {
    pub organization_id: String,
    pub role: Role,
    pub now: DateTime<Utc>,
    /// The signed-in staff member. Recorded as the actor of audited decisions (an overbooking
    /// is attributed to whoever is signed in, never to a name in the arguments) and used to
    /// recognise a guide's own departures.
    pub user_id: String,
}

/// A row (or a set of rows) a mutation's decision depends on.
///
/// The derived order is the lock order: the server locks keys in `reads()` order, which is
/// sorted, so two transactions never wait on each other in opposite orders.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReadKey {
    Tour(String),
    TourSlug(String),
    /// The tour a variant belongs to (none when the variant is unknown).
    TourOfVariant(String),
    /// Every variant of the tour a variant belongs to, itself included, in display order.
    /// Sorted before [`ReadKey::Variant`] so that two edits of sibling variants lock the
    /// siblings in the same order.
    VariantsBeside(String),
    Variant(String),
    /// Every variant of a tour (active or not), in display order.
    VariantsOfTour(String),
    PricingTier(String),
    /// Everything that prices a tour: tiers, seasons, group and early-bird rules, taxes.
    PricingCatalog(String),
    /// The tour's cancellation policy.
    CancellationPolicy(String),
    /// A promotional code by its normalised (trimmed, uppercase) text.
    PromoCode(String),
    /// How many bookings of a customer used a code (by its normalised text).
    PromoUses {
        code: String,
        customer_id: String,
    },
    Departure(String),
    /// The departures of a variant with a local date in `[from, until]`.
    DeparturesInRange {
        variant_id: String,
        from: NaiveDate,
        until: NaiveDate,
    },
    /// The guides assigned to a departure, with their logins.
    DepartureGuides(String),
    /// The guides taken off a departure, with their logins and when (server only: a desk
    /// answers none, see [`crate::guides::led_at`]).
    GuideRemovals(String),
    Booking(String),
    /// Whether a booking reference is taken in the organization.
    BookingReference(String),
    BookingsOfDeparture(String),
    /// Every booking of a customer (any status), for a merge or an erasure that rewrites them.
    BookingsOfCustomer(String),
    CheckInsOfBooking(String),
    Customer(String),
    /// A customer by lowercased e-mail.
    CustomerEmail(String),
    Guide(String),
    /// A guide's assignments with their departures' windows.
    GuideSchedule(String),
    GuideAssignment {
        departure_id: String,
        guide_id: String,
    },
    /// One stored row of the pricing catalogue (`catalogue::CatalogueRow`) by kind and id.
    CatalogueRow(crate::protocol::EntityKind, String),
    /// The organization's default cancellation policy row.
    DefaultCancellationPolicy,
    /// A tour's own cancellation policy row (not the default it falls back to).
    OwnCancellationPolicy(String),
    /// One allotment (`allotment::Allotment`) by id. Last, so it is locked after its departure.
    Allotment(String),
    /// A gift card by id (`gift_card::GiftCard`).
    GiftCard(String),
    /// A gift card by its normalised code. After the booking it pays, so a redemption locks
    /// the booking, then the card.
    GiftCardCode(String),
    /// A booking's ledger entries (`ledger::LedgerEntry`), oldest first.
    LedgerOfBooking(String),
    /// One waitlist entry by id (`entities::WaitlistEntry`), with its status.
    WaitlistEntry(String),
    /// Every waitlist entry of a customer (any status), oldest first, for a merge that moves
    /// them. Locked like the customer's bookings: the offers job claims entries `FOR UPDATE
    /// SKIP LOCKED`, so it passes over them while a merge holds them.
    WaitlistOfCustomer(String),
}

fn unsupported(what: &str) -> StoreFault {
    StoreFault(format!("this store cannot read {what} yet"))
}

/// Read access to the rows named by [`Mutation::reads`], scoped to one organization: what the
/// mutators read. Stores do not implement it; they fetch keys into a [`Snapshot`], which does.
/// A read that fails is a [`StoreFault`], never "not found": a broken disk must not look like
/// a free slug.
///
/// Every method past the first two has a default that reports the read as unsupported, so a
/// partial view fails safe: a mutation needing a missing read fails as a transient fault (it
/// stays queued) rather than as a wrong business answer.
pub trait ReadView {
    fn tour(&self, id: &str) -> Result<Option<Tour>, StoreFault>;
    fn tour_by_slug(&self, slug: &str) -> Result<Option<Tour>, StoreFault>;

    fn variant(&self, id: &str) -> Result<Option<TourVariant>, StoreFault> {
        let _ = id;
        Err(unsupported("tour variants"))
    }
    fn variants_of_tour(&self, tour_id: &str) -> Result<Vec<TourVariant>, StoreFault> {
        let _ = tour_id;
        Err(unsupported("a tour's variants"))
    }
    fn tour_of_variant(&self, variant_id: &str) -> Result<Option<Tour>, StoreFault> {
        let _ = variant_id;
        Err(unsupported("a variant's tour"))
    }
    fn variants_beside(&self, variant_id: &str) -> Result<Vec<TourVariant>, StoreFault> {
        let _ = variant_id;
        Err(unsupported("a variant's siblings"))
    }
    fn pricing_tier(&self, id: &str) -> Result<Option<PricingTier>, StoreFault> {
        let _ = id;
        Err(unsupported("pricing tiers"))
    }
    /// `None` when the tour has no price list at all.
    fn pricing_catalog(&self, tour_id: &str) -> Result<Option<PricingCatalog>, StoreFault> {
        let _ = tour_id;
        Err(unsupported("pricing catalogs"))
    }
    /// `None` when the tour has no policy: customers then get no refund, operators a full one.
    fn cancellation_policy(&self, tour_id: &str) -> Result<Option<CancellationPolicy>, StoreFault> {
        let _ = tour_id;
        Err(unsupported("cancellation policies"))
    }
    fn promo_code(&self, code: &str) -> Result<Option<PromoCode>, StoreFault> {
        let _ = code;
        Err(unsupported("promotional codes"))
    }
    fn promo_uses(&self, code: &str, customer_id: &str) -> Result<u32, StoreFault> {
        let _ = (code, customer_id);
        Err(unsupported("promotional code uses"))
    }
    fn departure(&self, id: &str) -> Result<Option<Departure>, StoreFault> {
        let _ = id;
        Err(unsupported("departures"))
    }
    fn departures_in_range(
        &self,
        variant_id: &str,
        from: NaiveDate,
        until: NaiveDate,
    ) -> Result<Vec<Departure>, StoreFault> {
        let _ = (variant_id, from, until);
        Err(unsupported("departure ranges"))
    }
    fn departure_guides(&self, departure_id: &str) -> Result<Vec<DepartureGuide>, StoreFault> {
        let _ = departure_id;
        Err(unsupported("departure guides"))
    }
    fn guide_removals(&self, departure_id: &str) -> Result<Vec<crate::guides::GuideRemoval>, StoreFault> {
        let _ = departure_id;
        Err(unsupported("guide removals"))
    }
    fn booking(&self, id: &str) -> Result<Option<Booking>, StoreFault> {
        let _ = id;
        Err(unsupported("bookings"))
    }
    fn booking_reference_taken(&self, reference: &str) -> Result<bool, StoreFault> {
        let _ = reference;
        Err(unsupported("booking references"))
    }
    fn bookings_of_departure(&self, departure_id: &str) -> Result<Vec<Booking>, StoreFault> {
        let _ = departure_id;
        Err(unsupported("a departure's bookings"))
    }
    fn bookings_of_customer(&self, customer_id: &str) -> Result<Vec<Booking>, StoreFault> {
        let _ = customer_id;
        Err(unsupported("a customer's bookings"))
    }
    fn check_ins_of_booking(&self, booking_id: &str) -> Result<Vec<CheckIn>, StoreFault> {
        let _ = booking_id;
        Err(unsupported("check-ins"))
    }
    fn ledger_of_booking(&self, booking_id: &str) -> Result<Vec<crate::ledger::LedgerEntry>, StoreFault> {
        let _ = booking_id;
        Err(unsupported("a booking's ledger"))
    }
    fn customer(&self, id: &str) -> Result<Option<Customer>, StoreFault> {
        let _ = id;
        Err(unsupported("customers"))
    }
    fn customer_by_email(&self, email: &str) -> Result<Option<Customer>, StoreFault> {
        let _ = email;
        Err(unsupported("customers by e-mail"))
    }
    fn guide(&self, id: &str) -> Result<Option<Guide>, StoreFault> {
        let _ = id;
        Err(unsupported("guides"))
    }
    fn guide_schedule(&self, guide_id: &str) -> Result<Vec<ExistingAssignment>, StoreFault> {
        let _ = guide_id;
        Err(unsupported("guide schedules"))
    }
    fn guide_assignment(&self, departure_id: &str, guide_id: &str) -> Result<Option<GuideAssignment>, StoreFault> {
        let _ = (departure_id, guide_id);
        Err(unsupported("guide assignments"))
    }
    /// A stored catalogue row of `kind` (`ReadKey::CatalogueRow`).
    fn catalogue_row(&self, kind: crate::protocol::EntityKind, id: &str) -> Result<Option<CatalogueRow>, StoreFault> {
        let _ = (kind, id);
        Err(unsupported("catalogue rows"))
    }
    fn default_cancellation_policy(&self) -> Result<Option<CatalogueRow>, StoreFault> {
        Err(unsupported("the default cancellation policy"))
    }
    fn own_cancellation_policy(&self, tour_id: &str) -> Result<Option<CatalogueRow>, StoreFault> {
        let _ = tour_id;
        Err(unsupported("a tour's own cancellation policy"))
    }
    fn allotment(&self, id: &str) -> Result<Option<crate::allotment::Allotment>, StoreFault> {
        let _ = id;
        Err(unsupported("allotments"))
    }
    fn gift_card(&self, id: &str) -> Result<Option<crate::gift_card::GiftCard>, StoreFault> {
        let _ = id;
        Err(unsupported("gift cards"))
    }
    fn gift_card_by_code(&self, code: &str) -> Result<Option<crate::gift_card::GiftCard>, StoreFault> {
        let _ = code;
        Err(unsupported("gift cards by code"))
    }
    fn waitlist_entry(&self, id: &str) -> Result<Option<WaitlistEntry>, StoreFault> {
        let _ = id;
        Err(unsupported("waitlist entries"))
    }
    /// Every waitlist entry of a customer, any status, oldest first.
    fn waitlist_of_customer(&self, customer_id: &str) -> Result<Vec<WaitlistEntry>, StoreFault> {
        let _ = customer_id;
        Err(unsupported("a customer's waitlist entries"))
    }
}

/// The store behind a [`ReadView`] could not answer. Transient: the mutation is retried, not
/// rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("store unavailable: {0}")]
pub struct StoreFault(pub String);

/// Why `apply` produced no changes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error(transparent)]
    Store(#[from] StoreFault),
}

impl From<FieldError> for ApplyError {
    fn from(e: FieldError) -> Self {
        ApplyError::Rejected(Rejection::Invalid(e))
    }
}

/// A decision worth keeping beyond the row it changed: who, what, when and why. Stores write it
/// to `audit_logs` in the same transaction as the rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// `booking.overbooked`, `departure.cancelled`, …
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub actor_id: String,
    pub at: DateTime<Utc>,
    pub detail: Value,
}

impl AuditEntry {
    /// The audit entry of what the signed-in user did to booking `b`: `action` on it, now. Every
    /// booking's entry is made here, so all of them name the booking, actor and time alike.
    pub fn of_booking(ctx: &MutationCtx, action: &str, b: &Booking, detail: Value) -> AuditEntry {
        AuditEntry {
            action: action.into(),
            entity: "booking".into(),
            entity_id: b.id.clone(),
            actor_id: ctx.user_id.clone(),
            at: ctx.now,
            detail,
        }
    }
}

/// A write a mutation asks its store to perform.
// A mutation returns a handful of changes that live only until they are written; boxing the
// large rows would buy nothing and make every store's match noisier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    PutTour(Tour),
    PutVariant(TourVariant),
    PutPricingTier(PricingTier),
    PutDeparture(Departure),
    PutBooking(Booking),
    PutCustomer(Customer),
    /// A guide's profile with their qualified tours (replaced wholesale).
    PutGuide(Guide),
    PutGuideAssignment(GuideAssignment),
    DeleteGuideAssignment {
        id: String,
    },
    PutCheckIn(CheckIn),
    /// One movement of money on a booking (`ledger`); replicates with the booking's departure.
    PutLedgerEntry(crate::ledger::LedgerEntry),
    /// A customer waiting for seats on a departure; takes no seats.
    PutWaitlistEntry(WaitlistEntry),
    /// `current_uses = current_uses + 1`: an increment, so two desks' uses both count.
    IncrementPromoUses {
        promo_code_id: String,
    },
    RequestRefund(RefundRequest),
    /// A new booking holds its seats unpaid until `until`; stored with the booking row (the
    /// server's hold-expiry job releases it), not replicated.
    HoldSeats {
        booking_id: String,
        until: DateTime<Utc>,
    },
    /// A season, promo code, tax rate, cancellation policy, FAQ, inclusion or automatic
    /// discount, written whole.
    PutCatalogueRow(CatalogueRow),
    DeleteCatalogueRow {
        kind: crate::protocol::EntityKind,
        id: String,
    },
    Audit(AuditEntry),
    /// Seats set aside for a device (`allotment`); replicates with its departure.
    PutAllotment(crate::allotment::Allotment),
    /// A guide's note on a departure (`incident`); replicates with its departure.
    PutDepartureIncident(crate::incident::DepartureIncident),
    /// A gift card with its running balance (`gift_card`); office desks only.
    PutGiftCard(crate::gift_card::GiftCard),
    /// One movement of a gift card's balance (written once).
    PutGiftCardMovement(crate::gift_card::GiftCardMovement),
}

/// Why a mutation was rejected: it was tried and does not apply, for a reason a retry would not
/// change (ARCHITECTURE.md, *Words*, sets this apart from a refused request). A pushed mutation the server rejects is recorded and shown in
/// the desk's conflict inbox; it is never retried. `code()` is the stable string on the wire and
/// equals the serde tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Rejection {
    #[error("{0}")]
    Invalid(FieldError),
    #[error("{message}")]
    Conflict { field: String, message: String },
    #[error("{entity} {id} not found")]
    NotFound { entity: String, id: String },
    #[error("your role may not {action}")]
    NotAuthorized { action: String },
    #[error("unknown mutation {name}")]
    UnknownMutation { name: String },
    /// The capacity rejection of the original sync design; `seats_left` is what the conflict inbox
    /// shows.
    #[error("only {seats_left} seats left, {requested} requested")]
    CapacityExceeded { requested: u32, seats_left: u32 },
    #[error("this departure is {status} and not taking bookings")]
    DepartureNotBookable { status: DepartureStatus },
    #[error("capacity {capacity} is below the {booked} seats already booked")]
    CapacityBelowBooked { capacity: u32, booked: u32 },
    #[error("a {entity} cannot go from {from} to {to}")]
    ForbiddenTransition { entity: String, from: String, to: String },
    #[error("{error}")]
    PricingError { error: PricingError },
    /// The desk priced the booking with a code the server no longer accepts (used up,
    /// expired meanwhile …); booking without it would charge more than the customer agreed to.
    #[error("{refusal}")]
    PromoRefused { refusal: PromoRefusal },
    #[error("the price is now {}, not {}", actual.display(), expected.display())]
    PriceChanged { expected: Money, actual: Money },
    #[error("{conflicts}")]
    GuideConflict { conflicts: GuideConflicts },
    /// A clock stamp too far ahead of the deciding clock: a misconfigured device must not win
    /// every last-writer-wins race.
    #[error("{field} is stamped {stamp}, too far ahead of the server clock")]
    ClockSkew { field: String, stamp: String },
    /// A valid mutation this store cannot apply yet (its tables arrive in a later version).
    /// Recorded like any rejection, so one such change never blocks the queue behind it.
    #[error("this version cannot apply {what} yet")]
    Unsupported { what: String },
    /// Rule "sold ≤ allotment" (`allotment::check_sale`): a walk-up past the device's seats.
    #[error("the allotment has {} of {seats} seats left, {requested} requested", seats.saturating_sub(*sold))]
    AllotmentExceeded { seats: u32, sold: u32, requested: u32 },
}

impl Rejection {
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Invalid(_) => "INVALID",
            Rejection::Conflict { .. } => "CONFLICT",
            Rejection::NotFound { .. } => "NOT_FOUND",
            Rejection::NotAuthorized { .. } => "NOT_AUTHORIZED",
            Rejection::UnknownMutation { .. } => "UNKNOWN_MUTATION",
            Rejection::CapacityExceeded { .. } => "CAPACITY_EXCEEDED",
            Rejection::DepartureNotBookable { .. } => "DEPARTURE_NOT_BOOKABLE",
            Rejection::CapacityBelowBooked { .. } => "CAPACITY_BELOW_BOOKED",
            Rejection::ForbiddenTransition { .. } => "FORBIDDEN_TRANSITION",
            Rejection::PricingError { .. } => "PRICING_ERROR",
            Rejection::PromoRefused { .. } => "PROMO_REFUSED",
            Rejection::PriceChanged { .. } => "PRICE_CHANGED",
            Rejection::GuideConflict { .. } => "GUIDE_CONFLICT",
            Rejection::ClockSkew { .. } => "CLOCK_SKEW",
            Rejection::Unsupported { .. } => "UNSUPPORTED",
            Rejection::AllotmentExceeded { .. } => "ALLOTMENT_EXCEEDED",
        }
    }

    fn not_found(entity: &str, id: &str) -> Rejection {
        Rejection::NotFound { entity: entity.into(), id: id.into() }
    }

    fn conflict(field: &str, message: impl Into<String>) -> Rejection {
        Rejection::Conflict { field: field.into(), message: message.into() }
    }
}

impl From<FieldError> for Rejection {
    fn from(e: FieldError) -> Self {
        Rejection::Invalid(e)
    }
}

impl<S: StateMachine> From<ForbiddenTransition<S>> for Rejection {
    fn from(e: ForbiddenTransition<S>) -> Self {
        Rejection::ForbiddenTransition {
            entity: S::ENTITY.into(),
            from: e.from.as_label().into(),
            to: e.to.as_label().into(),
        }
    }
}

impl<S: StateMachine> From<ForbiddenTransition<S>> for ApplyError {
    fn from(e: ForbiddenTransition<S>) -> Self {
        ApplyError::Rejected(e.into())
    }
}

impl From<CapacityError> for Rejection {
    fn from(e: CapacityError) -> Self {
        match e {
            CapacityError::CapacityExceeded { requested, seats_left, .. } => {
                Rejection::CapacityExceeded { requested, seats_left }
            }
            CapacityError::CapacityBelowBooked { capacity, booked } => {
                Rejection::CapacityBelowBooked { capacity, booked }
            }
            CapacityError::NotBookable { status } => Rejection::DepartureNotBookable { status },
            CapacityError::OverrideIncomplete => FieldError::new("overbook.reason", e.to_string()).into(),
            CapacityError::NoParticipants => FieldError::new("lines", e.to_string()).into(),
        }
    }
}

impl From<CapacityError> for ApplyError {
    fn from(e: CapacityError) -> Self {
        ApplyError::Rejected(e.into())
    }
}

impl From<PricingError> for ApplyError {
    fn from(error: PricingError) -> Self {
        ApplyError::Rejected(Rejection::PricingError { error })
    }
}

fn require(ctx: &MutationCtx, p: Permission, action: &str) -> Result<(), Rejection> {
    if ctx.role.can(p) { Ok(()) } else { Err(Rejection::NotAuthorized { action: action.into() }) }
}

/// The decision half of one mutation; implemented by each argument type.
trait Mutator {
    /// Every key `apply` may read, in any order (the caller sorts). Computed from the raw
    /// arguments with the same normalisation `apply` uses, so the keys match its reads.
    fn reads(&self) -> Vec<ReadKey>;
    /// Whether the authoritative store must hold `key`'s rows locked until commit. Every row a
    /// mutation writes, and every row that keeps what it writes consistent, is locked (the
    /// default). A mutation may read reference rows it never writes — a tour's price list, its
    /// cancellation policy, whether a reference number is free — without a lock: the decision is
    /// then the one it would have made just before a concurrent edit of them, and locking them
    /// would queue every booking of a tour behind one row.
    fn locks(&self, key: &ReadKey) -> bool {
        let _ = key;
        true
    }
    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError>;
}

macro_rules! mutations {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// One variant per versioned mutation name; the payload is the argument type of the
        /// same name.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Mutation {
            $($variant($variant)),+
        }

        impl Mutation {
            /// Every mutation name this build understands. Old versions stay here so that a desk that
            /// was offline across an upgrade can still drain its queue.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            pub fn name(&self) -> &'static str {
                match self {
                    $(Mutation::$variant(_) => $name),+
                }
            }

            pub fn args(&self) -> Value {
                let r = match self {
                    $(Mutation::$variant(a) => serde_json::to_value(a)),+
                };
                r.unwrap_or(Value::Null)
            }

            /// Parses a wire mutation. Unknown names and malformed arguments become rejections, so one
            /// bad mutation is recorded and skipped instead of wedging the whole queue.
            pub fn decode(name: &str, args: &Value) -> Result<Mutation, Rejection> {
                fn parse<T: serde::de::DeserializeOwned>(args: &Value) -> Result<T, Rejection> {
                    serde_json::from_value(args.clone())
                        .map_err(|e| Rejection::Invalid(FieldError::new("args", e.to_string())))
                }
                match name {
                    $($name => Ok(Mutation::$variant(parse(args)?)),)+
                    other => Err(Rejection::UnknownMutation { name: other.to_string() }),
                }
            }

            fn mutator(&self) -> &dyn Mutator {
                match self {
                    $(Mutation::$variant(a) => a),+
                }
            }
        }
    };
}

mutations! {
    CreateTourV1 => "create_tour.v1",
    UpdateTourV1 => "update_tour.v1",
    CreateVariantV1 => "create_variant.v1",
    UpdateVariantV1 => "update_variant.v1",
    UpsertPricingTierV1 => "upsert_pricing_tier.v1",
    UpsertPricingTierV2 => "upsert_pricing_tier.v2",
    GenerateDeparturesV1 => "generate_departures.v1",
    SetDepartureStatusV1 => "set_departure_status.v1",
    SetDepartureCapacityV1 => "set_departure_capacity.v1",
    CreateBookingV1 => "create_booking.v1",
    ModifyBookingV1 => "modify_booking.v1",
    CancelBookingV1 => "cancel_booking.v1",
    CheckInV1 => "check_in.v1",
    MarkNoShowV1 => "mark_no_show.v1",
    CreateCustomerV1 => "create_customer.v1",
    SetCustomerFieldV1 => "set_customer_field.v1",
    AddCustomerTagV1 => "add_customer_tag.v1",
    RemoveCustomerTagV1 => "remove_customer_tag.v1",
    EditCustomerNotesV1 => "edit_customer_notes.v1",
    AssignGuideV1 => "assign_guide.v1",
    UnassignGuideV1 => "unassign_guide.v1",
    AddToWaitlistV1 => "add_to_waitlist.v1",
    CancelDepartureV1 => "cancel_departure.v1",
    RecordPaymentV1 => "record_payment.v1",
    UpsertSeasonV1 => "upsert_season.v1",
    DeleteSeasonV1 => "delete_season.v1",
    UpsertPromoCodeV1 => "upsert_promo_code.v1",
    SetPromoCodeStatusV1 => "set_promo_code_status.v1",
    UpsertTaxRateV1 => "upsert_tax_rate.v1",
    UpsertCancellationPolicyV1 => "upsert_cancellation_policy.v1",
    UpsertTourFaqV1 => "upsert_tour_faq.v1",
    DeleteTourFaqV1 => "delete_tour_faq.v1",
    UpsertTourInclusionV1 => "upsert_tour_inclusion.v1",
    DeleteTourInclusionV1 => "delete_tour_inclusion.v1",
    CreateDepartureV1 => "create_departure.v1",
    SetDepartureNotesV1 => "set_departure_notes.v1",
    UpsertGuideV1 => "upsert_guide.v1",
    AssignGuideV2 => "assign_guide.v2",
    IssueAllotmentV1 => "issue_allotment.v1",
    SellWalkUpV1 => "sell_walk_up.v1",
    ReleaseAllotmentV1 => "release_allotment.v1",
    ReorderTourFaqsV1 => "reorder_tour_faqs.v1",
    ReorderTourInclusionsV1 => "reorder_tour_inclusions.v1",
    UpsertGroupDiscountV1 => "upsert_group_discount.v1",
    DeleteGroupDiscountV1 => "delete_group_discount.v1",
    UpsertEarlyBirdDiscountV1 => "upsert_early_bird_discount.v1",
    DeleteEarlyBirdDiscountV1 => "delete_early_bird_discount.v1",
    SetTourCancellationPolicyV1 => "set_tour_cancellation_policy.v1",
    RecordDepartureIncidentV1 => "record_departure_incident.v1",
    IssueGiftCardV1 => "issue_gift_card.v1",
    RedeemGiftCardV1 => "redeem_gift_card.v1",
    MoveBookingV1 => "move_booking.v1",
    MergeCustomersV1 => "merge_customers.v1",
    EraseCustomerV1 => "erase_customer.v1",
    ResendConfirmationV1 => "resend_confirmation.v1",
    SendCustomerMessageV1 => "send_customer_message.v1",
    RecordRefundV1 => "record_refund.v1",
    RemoveFromWaitlistV1 => "remove_from_waitlist.v1",
    ExpireHoldV1 => "expire_hold.v1",
}

impl Mutation {
    /// The rows `apply` will look at, sorted and without repeats so that lock order is the
    /// same everywhere.
    pub fn reads(&self) -> Vec<ReadKey> {
        let mut keys = self.mutator().reads();
        keys.sort();
        keys.dedup();
        keys
    }

    /// Whether the server locks `key` (one of [`Mutation::reads`]) until commit; see
    /// `Mutator::locks`. The desk's single-writer SQLite needs no locks and ignores this.
    pub fn locks(&self, key: &ReadKey) -> bool {
        self.mutator().locks(key)
    }

    pub fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        self.mutator().apply(view, ctx)
    }
}

/// Deserializes a present field (even `null`) as `Some(..)`, so `Option<Option<T>>` tells
/// "leave as is" (absent) from "clear" (`null`).
fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The id as `validate::id` would normalise it, or as given when it is invalid (then `apply`
/// rejects it before reading anything).
fn norm_id(v: &str) -> String {
    crate::validate::id("id", v).unwrap_or_else(|_| v.to_string())
}

fn norm_ref(v: &str) -> String {
    v.trim().to_string()
}

#[cfg(test)]
mod tests;

//! The contract between the desk shell (Tauri commands) and the UI (Yew, wasm). Both sides use
//! these types, so a renamed field is a compile error rather than an empty screen.

use serde::{Deserialize, Serialize};

use crate::entities::{CheckInKind, Customer, Departure, Tour, with_tier_limits, with_tier_terms, with_tour_details};
use crate::money::Money;
use crate::mutation::LineArgs;
use crate::protocol::OutcomeStatus;
use crate::roles::Role;
use crate::status::{BookingStatus, PaymentStatus, TourCategory, TourStatus};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TourView {
    #[serde(flatten)]
    pub tour: Tour,
    /// Changed on this desk and not yet confirmed by the server.
    pub pending: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartureView {
    #[serde(flatten)]
    pub departure: Departure,
    pub seats_left: u32,
}

/// The server's verdict on one of this desk's mutations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub mutation_id: u64,
    pub name: String,
    pub args: serde_json::Value,
    pub status: OutcomeStatus,
    pub code: Option<String>,
    pub detail: Option<String>,
}

/// One booking in a departure's list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingSummary {
    pub id: String,
    pub reference_number: String,
    pub departure_id: String,
    pub customer_id: String,
    /// "First Last", or the customer id when this desk does not hold the customer.
    pub customer_name: String,
    pub pax: u32,
    pub status: BookingStatus,
    pub payment_status: PaymentStatus,
    pub total: Money,
    /// Made or changed on this desk and not yet confirmed by the server.
    pub pending: bool,
}

/// A customer found by a search, best match first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerHit {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    /// `None` for a walk-in who gave no e-mail.
    #[serde(default)]
    pub email: Option<String>,
    pub phone: Option<String>,
    pub pending: bool,
}

/// A customer with their bookings. `customer.notes_conflicts` holds edits made against an older
/// version of the notes, to be shown beside `customer.notes` until someone merges them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerDetail {
    pub customer: Customer,
    pub pending: bool,
    /// Newest first, each with its tour and departure (when this desk holds them), so the table
    /// says what and when.
    pub bookings: Vec<BookingHit>,
    /// What the customer has paid net of refunds, over every booking, one sum per currency
    /// (sorted by currency; none when nothing was paid).
    #[serde(default)]
    pub lifetime_value: Vec<Money>,
    /// Other customers who look like the same person: the same phone, or the same e-mail once
    /// case and a `+tag` are ignored. Offered for a merge.
    #[serde(default)]
    pub duplicates: Vec<CustomerHit>,
    /// A merge into this customer still waiting in this desk's outbox (its mutation id, and the
    /// merged customer's id): it can be undone until it is sent.
    #[serde(default)]
    pub undoable_merge: Option<PendingMerge>,
}

/// A `merge_customers.v1` not yet sent to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingMerge {
    pub mutation_id: u64,
    pub duplicate_id: String,
}

/// Everything this desk holds about one customer (GDPR access request): the record, their
/// bookings with their ledgers, and the messages sent to them as far as this desk knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerExport {
    pub customer: Customer,
    pub bookings: Vec<crate::entities::Booking>,
    pub ledger: Vec<crate::ledger::LedgerEntry>,
    pub exported_at: chrono::DateTime<chrono::Utc>,
}

impl CustomerExport {
    /// The same data as CSV in three sections (the customer as field,value lines, then their
    /// bookings, then the ledger), cells escaped as the manifests' are.
    pub fn to_csv(&self) -> String {
        let f = crate::manifest_export::csv_field;
        let c = &self.customer;
        let mut out = String::from("customer field,value\n");
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let fields: Vec<(&str, String)> = vec![
            ("id", c.id.clone()),
            ("first_name", c.first_name.clone()),
            ("last_name", c.last_name.clone()),
            ("email", opt(&c.email)),
            ("phone", opt(&c.phone)),
            ("source", c.source.as_str().to_string()),
            ("source_detail", opt(&c.source_detail)),
            ("preferred_language", c.preferred_language.clone()),
            ("preferred_currency", c.preferred_currency.to_string()),
            ("marketing_consent", c.marketing_consent.to_string()),
            ("marketing_consent_date", c.marketing_consent_date.map(|d| d.to_rfc3339()).unwrap_or_default()),
            ("reminders_opt_out", c.reminders_opt_out.to_string()),
            ("sms_opt_in", c.sms_opt_in.to_string()),
            ("tags", c.tags.iter().cloned().collect::<Vec<_>>().join(" ")),
            ("notes", c.notes.clone()),
            ("created_at", c.created_at.to_rfc3339()),
            ("exported_at", self.exported_at.to_rfc3339()),
        ];
        for (k, v) in fields {
            out.push_str(&format!("{},{}\n", f(k), f(&v)));
        }
        out.push_str("\nbooking id,reference,departure,status,payment status,total,paid,refunded,currency,participants,special requests,dietary,created at\n");
        for b in &self.bookings {
            let names: Vec<String> = b
                .participants
                .iter()
                .map(|p| crate::entities::full_name(&p.first_name, &p.last_name))
                .filter(|n| !n.is_empty())
                .collect();
            let row = [
                b.id.clone(),
                b.reference_number.as_str().to_string(),
                b.departure_id.clone(),
                b.status.as_str().to_string(),
                b.payment_status.as_str().to_string(),
                b.pricing.total.amount.to_string(),
                b.paid_amount.amount.to_string(),
                b.refunded_amount.amount.to_string(),
                b.pricing.total.currency.to_string(),
                names.join("; "),
                b.special_requests.clone().unwrap_or_default(),
                b.dietary_restrictions.clone().unwrap_or_default(),
                b.created_at.to_rfc3339(),
            ];
            out.push_str(&row.iter().map(|v| f(v)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        out.push_str("\nledger entry id,booking id,kind,amount,currency,reference,note,recorded at\n");
        for e in &self.ledger {
            let row = [
                e.id.clone(),
                e.booking_id.clone(),
                serde_json::to_value(e.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
                e.amount.to_string(),
                e.currency.to_string(),
                e.reference.clone().unwrap_or_default(),
                e.note.clone().unwrap_or_default(),
                e.recorded_at.to_rfc3339(),
            ];
            out.push_str(&row.iter().map(|v| f(v)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        out
    }
}

/// One seat on a manifest. Unnamed seats (a booking that gave only quantities) have empty names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestParticipant {
    /// 0-based over the booking's participants; what `check_in.v1` names.
    pub index: u32,
    pub first_name: String,
    pub last_name: String,
    /// The standing attendance fact, if any.
    pub attendance: Option<CheckInKind>,
    /// A fact for this seat was recorded on this device and is not yet confirmed by the server.
    pub attendance_pending: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestBooking {
    pub booking_id: String,
    pub reference_number: String,
    pub customer_name: String,
    pub customer_phone: Option<String>,
    pub pax: u32,
    pub status: BookingStatus,
    pub special_requests: Option<String>,
    pub dietary_restrictions: Option<String>,
    pub checked_in: u32,
    pub no_shows: u32,
    pub pending: bool,
    pub participants: Vec<ManifestParticipant>,
}

impl ManifestBooking {
    /// One booking's manifest entry, with a seat for each participant. `standing` is each seat's
    /// attendance fact ([`attendance_by_participant`](crate::mutation::attendance_by_participant));
    /// `unconfirmed` says which seats have a fact recorded on this device that the server has not
    /// confirmed yet (always false on the server). `customer` is `None` when the replica does not
    /// hold the customer: the entry then names the customer's id.
    pub fn of(
        b: &crate::entities::Booking,
        customer: Option<Customer>,
        standing: &std::collections::BTreeMap<u32, CheckInKind>,
        unconfirmed: impl Fn(u32) -> bool,
        pending: bool,
    ) -> ManifestBooking {
        let pax = b.participant_count();
        let participants = (0..pax)
            .map(|i| {
                let named = b.participants.get(i as usize);
                ManifestParticipant {
                    index: i,
                    first_name: named.map(|p| p.first_name.clone()).unwrap_or_default(),
                    last_name: named.map(|p| p.last_name.clone()).unwrap_or_default(),
                    attendance: standing.get(&i).copied(),
                    attendance_pending: unconfirmed(i),
                }
            })
            .collect();
        ManifestBooking {
            booking_id: b.id.clone(),
            reference_number: b.reference_number.to_string(),
            customer_name: customer.as_ref().map_or_else(|| b.customer_id.clone(), |c| c.full_name()),
            customer_phone: customer.and_then(|c| c.phone),
            pax,
            status: b.status,
            special_requests: b.special_requests.clone(),
            dietary_restrictions: b.dietary_restrictions.clone(),
            checked_in: b.checked_in,
            no_shows: b.no_shows,
            pending,
            participants,
        }
    }
}

/// What a guide takes to the meeting point: the departure and everyone booked on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub departure: DepartureView,
    pub tour_name: String,
    pub meeting_point: String,
    /// Bookings holding seats (cancelled ones are left out), in booking order.
    pub bookings: Vec<ManifestBooking>,
}

/// A `create_booking.v1` the server refused, with what the conflict inbox shows and what its
/// actions need: retry on another departure, waitlist, or overbook (managers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedBooking {
    pub mutation_id: u64,
    pub code: Option<String>,
    pub detail: Option<String>,
    pub customer_id: String,
    pub customer_name: String,
    pub pax: u32,
    pub tour_id: String,
    pub tour_name: Option<String>,
    pub departure_id: String,
    /// The departure as this desk knows it now (its seats left may have changed since).
    pub departure: Option<DepartureView>,
}

with_tour_details! {
    /// What the UI sends to create a tour; the shell adds the id. Every detail past the first few
    /// is optional: the quick form sends a name and numbers, the tour editor everything.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct NewTour {
        pub name: String,
        #[serde(default)]
        pub short_description: String,
        pub duration_minutes: u32,
        pub default_capacity: u32,
        pub category: TourCategory,
        pub timezone: String,
        #[serde(default)]
        pub meeting_point: String,
        /// `None`: made from the name.
        #[serde(default)]
        pub slug: Option<String>,
        /// `None`: 1.
        #[serde(default)]
        pub min_participants: Option<u32>,
    }
}

impl NewTour {
    /// What the quick form sends: the numbers and names, every detail of the page left empty
    /// (the tour editor fills them in later).
    pub fn quick(
        name: String,
        short_description: String,
        duration_minutes: u32,
        default_capacity: u32,
        category: TourCategory,
        timezone: String,
    ) -> NewTour {
        NewTour {
            name,
            short_description,
            duration_minutes,
            default_capacity,
            category,
            timezone,
            meeting_point: String::new(),
            slug: None,
            min_participants: None,
            full_description: String::new(),
            meeting_point_address: String::new(),
            meeting_point_lat: None,
            meeting_point_lng: None,
            meeting_point_instructions: String::new(),
            tags: vec![],
            languages: vec![],
            accessibility_info: String::new(),
            what_to_bring: vec![],
            highlights: vec![],
        }
    }

    /// The tour this describes, as stored: for fixtures and demo data, which make tours without
    /// going through `create_tour` (that mutation also checks and normalises the fields).
    pub fn into_tour(self, id: String, organization_id: String, slug: String, status: TourStatus) -> Tour {
        Tour {
            id,
            organization_id,
            name: self.name,
            slug,
            short_description: self.short_description,
            duration_minutes: self.duration_minutes,
            default_capacity: self.default_capacity,
            min_participants: self.min_participants.unwrap_or(1),
            category: self.category,
            timezone: self.timezone,
            meeting_point: self.meeting_point,
            status,
            cancellation_policy_id: None,
            full_description: self.full_description,
            meeting_point_address: self.meeting_point_address,
            meeting_point_lat: self.meeting_point_lat,
            meeting_point_lng: self.meeting_point_lng,
            meeting_point_instructions: self.meeting_point_instructions,
            tags: self.tags,
            languages: self.languages,
            accessibility_info: self.accessibility_info,
            what_to_bring: self.what_to_bring,
            highlights: self.highlights,
        }
    }
}

// Not `CreateVariantV1`: this UI→shell request may change freely; the mutation's arguments are frozen.
/// What the UI sends to add a variant to a tour; the shell adds the id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewVariant {
    pub tour_id: String,
    pub name: String,
    /// `None`: the tour's capacity.
    #[serde(default)]
    pub capacity: Option<u32>,
    /// `None`: the tour's duration.
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    #[serde(default)]
    pub sort_order: i32,
}

with_tier_terms! { with_tier_limits!
    /// A price tier as the tour editor saves it: without an id the shell makes a new tier,
    /// with one it replaces that tier (`upsert_pricing_tier.v2`).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct PriceTierInput {
        #[serde(default)]
        pub id: Option<String>,
    }
}

/// What the UI sends to create a customer; the shell adds the id and the clock stamp. The
/// domain's `create_customer.v1` validates every field, so its errors come back per field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewCustomer {
    pub first_name: String,
    pub last_name: String,
    /// A walk-in may give none; blank is none.
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// What the UI sends to book seats; the shell adds the booking id and the reference's year and
/// entropy (the UI has no trustworthy randomness, and the reference must be made once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewBooking {
    pub tour_id: String,
    pub departure_id: String,
    pub customer_id: String,
    pub lines: Vec<LineArgs>,
    #[serde(default)]
    pub special_requests: Option<String>,
    /// The total the form showed. The server refuses the booking (`PRICE_CHANGED`) rather than
    /// charge a price the customer was not quoted, e.g. when a season the desk does not hold applies.
    #[serde(default)]
    pub expected_total: Option<Money>,
    /// The promotional code as typed; blank is none. The desk's store and then the server decide
    /// it again (`create_booking.v1`), and a code either refuses is refused at this field.
    #[serde(default)]
    pub promo_code: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    /// Not tried yet (just started).
    Starting,
    Syncing,
    Online,
    /// The server could not be reached; work continues locally.
    Offline,
    /// The server answered but refused (e.g. wrong password); needs a person.
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedInAs {
    pub name: String,
    pub role: Role,
    pub organization_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeskStatus {
    pub connection: Connection,
    pub server_url: String,
    pub pending: u64,
    pub rejections: u64,
    /// RFC 3339, UTC.
    pub last_synced_at: Option<String>,
    pub last_error: Option<String>,
    pub signed_in_as: Option<SignedInAs>,
    /// Grows whenever local data changes (a local edit or a pull). The window follows the
    /// `events::DATA_CHANGED` event instead; this stays for diagnostics.
    pub data_version: u64,
    /// While a pull spans several pages (a first sync of a large organization): how far along.
    #[serde(default)]
    pub sync_progress: Option<SyncProgress>,
    /// Nobody can sync from this desk until a person signs in: it has no session, or the server
    /// refused its refresh token (the device was revoked, or the session expired). Local work
    /// goes on meanwhile.
    #[serde(default)]
    pub needs_sign_in: bool,
}

/// What the sign-in form sends. The password is used for one request and kept nowhere.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInInput {
    pub server_url: String,
    /// The organization's slug (`demo`).
    pub organization: String,
    pub email: String,
    pub password: String,
    /// The authenticator app's 6-digit code or a recovery code, once the server asked for one.
    #[serde(default)]
    pub otp: Option<String>,
}

impl std::fmt::Debug for SignInInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInInput")
            .field("server_url", &self.server_url)
            .field("organization", &self.organization)
            .field("email", &self.email)
            .field("password", &"***")
            .field("otp", &self.otp.as_ref().map(|_| "***"))
            .finish()
    }
}

/// What the sign-in form starts with: the server of the desk's configuration (or of its last
/// sign-in), the last organization and e-mail. Only a debug build fills in a password (the demo
/// owner's), so a release build carries none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SignInDefaults {
    pub server_url: String,
    pub organization: String,
    pub email: String,
    #[serde(default)]
    pub password: Option<String>,
}

/// What a sign-out did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedOut {
    /// The server revoked this device; `false` when it could not be reached and the person chose
    /// to sign out of this desk only (the device stays listed until an admin revokes it).
    pub revoked: bool,
    /// Unsent changes the person chose to discard.
    pub discarded: u64,
}

/// How far a multi-page pull has come, in change-sequence units summed over the buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncProgress {
    pub done: u64,
    pub total: u64,
}

impl SyncProgress {
    /// Whole percent, 0–100.
    pub fn percent(&self) -> u64 {
        (self.done.min(self.total) * 100).checked_div(self.total).unwrap_or(100)
    }
}

/// Every command error, as the UI receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandError {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub field: Option<String>,
}

/// A booking found by its reference, with what a person needs to recognise it: the tour and the
/// departure it is on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingHit {
    pub booking: BookingSummary,
    pub tour_id: String,
    /// `None` when this desk does not hold the tour (a partial replica).
    pub tour_name: Option<String>,
    pub departure: Option<DepartureView>,
}

/// One ledger entry as the booking page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerLine {
    #[serde(flatten)]
    pub entry: crate::ledger::LedgerEntry,
    /// Recorded on this desk and not yet confirmed by the server.
    pub pending: bool,
}

/// A booking's price and money for its detail page: participants per tier and the price
/// snapshot (the pricing's line items, discounts and taxes), the ledger, and what it adds up to
/// (the booking's running figures, Stripe's money included; see `ledger::Balance`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingMoney {
    pub booking_id: String,
    pub reference_number: String,
    pub status: BookingStatus,
    pub payment_status: PaymentStatus,
    pub pricing: crate::pricing::PricingSnapshot,
    pub participants: Vec<crate::entities::Participant>,
    pub entries: Vec<LedgerLine>,
    pub total: Money,
    pub paid: Money,
    pub refunded: Money,
    /// What is still owed (never below zero): the payment dialog's starting amount.
    pub balance_due: Money,
    /// What the customer is owed back, when the price fell below what was kept.
    pub refund_due: Money,
    /// The part of `refund_due` staff give back by hand (`ledger::refund_due_by_hand`); the rest
    /// is Stripe's to send back to the card. The "Record refund given back" dialog starts with it.
    pub refund_due_by_hand: Money,
    /// Whether a payment can be recorded at all (not on a cancelled booking).
    pub can_record_payment: bool,
}

/// What the "Record payment" dialog sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPayment {
    pub booking_id: String,
    pub method: crate::ledger::PaymentMethod,
    /// As typed, in the booking's currency (`12.50`); the shell turns it into minor units.
    pub amount: String,
    pub currency: String,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
}

/// What the "Record refund given back" dialog sends: money owed back by hand, handed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRefund {
    pub booking_id: String,
    pub method: crate::ledger::PaymentMethod,
    /// As typed, in the booking's currency (`12.50`); the store turns it into minor units.
    pub amount: String,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
}

/// Who a one-off message from a booking goes to, and by which channels it can (the "Send a
/// message" dialog greys out a channel with the domain's reason).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageOptions {
    pub booking_id: String,
    pub reference_number: String,
    pub customer_id: String,
    pub customer_name: String,
    pub channels: Vec<ChannelOption>,
}

/// One channel of [`MessageOptions`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelOption {
    pub channel: crate::mutation::MessageChannel,
    /// The address or phone it goes to, when there is one.
    pub to: Option<String>,
    /// Why it cannot be used, in words; `None` when it can.
    pub unavailable: Option<String>,
}

/// What the "Send a message" dialog sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCustomerMessage {
    pub booking_id: String,
    pub channel: crate::mutation::MessageChannel,
    pub subject: String,
    pub body: String,
}

/// What cancelling a booking now would give back, as the domain decides it on this desk's rows
/// (`cancel_booking.v1` run without writing): the cancel dialog shows it before staff confirm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationPreview {
    pub booking_id: String,
    pub reference_number: String,
    /// Whole hours before the departure starts (negative once it started).
    pub hours_before: i64,
    /// The policy's percentage of what was paid, and the refund it gives.
    pub refund_percentage: u8,
    pub policy_refund: Money,
    /// Money received and not given back: the most an override may give.
    pub refundable: Money,
    /// Of the policy's refund: back to the card through Stripe, and by hand at the desk.
    pub to_card: Money,
    pub by_hand: Money,
    /// The seats the departure gets back.
    pub seats_released: u32,
}

/// A departure a booking can move to, as the domain decided on this desk's rows (a
/// `move_booking.v1` run without writing): the same tour, with room, and what the move does to
/// the booking's money.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoveOption {
    pub departure: DepartureView,
    pub money: crate::mutation::MoveMoney,
}

/// What the move dialog sends: the departure chosen and the new total it showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveBooking {
    pub booking_id: String,
    pub to_departure_id: String,
    /// The total the dialog showed; a different price at the desk or the server refuses the move.
    pub expected_total: Money,
    #[serde(default)]
    pub reason: Option<String>,
}

/// One row of the modify dialog: a tier and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifyLine {
    pub tier_id: String,
    pub quantity: u32,
}

/// What the modify dialog previews and sends (`modify_booking.v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifyBooking {
    pub booking_id: String,
    /// The new counts per tier (a tier left out, or at 0, is taken off).
    pub lines: Vec<ModifyLine>,
    /// `None` keeps the booking's code; an empty text takes it off; a code applies it.
    #[serde(default)]
    pub promo_code: Option<String>,
    /// `None` keeps the booking's manual discount; an empty text takes it off; an amount typed in
    /// the booking's currency (`12.50`) grants it, with its reason.
    #[serde(default)]
    pub manual_discount: Option<String>,
    #[serde(default)]
    pub manual_discount_reason: Option<String>,
    /// Why (kept on the booking's history, and the refund's reason).
    #[serde(default)]
    pub reason: Option<String>,
    /// The total the dialog showed; a different price at the desk or the server refuses the
    /// change. `None` when previewing.
    #[serde(default)]
    pub expected_total: Option<Money>,
}

/// A tier the modify dialog offers: the tour's tiers, with how many the booking has now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifyTier {
    pub tier_id: String,
    pub name: String,
    pub unit_price: Money,
    pub quantity: u32,
}

/// What a modification would do, decided by the domain on this desk's rows without writing:
/// the new price and what it leaves owed, or to refund (to the card, and by hand).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModifyPreview {
    pub booking_id: String,
    pub reference_number: String,
    pub tiers: Vec<ModifyTier>,
    /// The booking's promo code and manual discount now (what the dialog starts with).
    pub promo_code: Option<String>,
    pub manual_discount: Option<Money>,
    pub manual_discount_reason: Option<String>,
    /// The new price snapshot.
    pub pricing: crate::pricing::PricingSnapshot,
    pub money: crate::mutation::MoveMoney,
    /// Of the refund due: back to the card through Stripe, and by hand at the desk.
    pub to_card: Money,
    pub by_hand: Money,
    pub seats_before: u32,
    pub seats_after: u32,
}

/// What the cancel dialog sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelBooking {
    pub booking_id: String,
    #[serde(default)]
    pub reason: Option<String>,
    /// Staff's refund in place of the policy's, as typed in the booking's currency (`12.50`).
    #[serde(default)]
    pub refund_override: Option<String>,
    #[serde(default)]
    pub override_reason: Option<String>,
    /// Mail the customer that the booking is cancelled.
    pub notify_customer: bool,
}

/// How the bookings screen orders its rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingSort {
    /// The departure's start (the default: what is coming first).
    #[default]
    Departure,
    /// When the booking was made.
    Booked,
    Reference,
    Customer,
    Total,
    BalanceDue,
}

/// The bookings screen's search and filters; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BookingFilter {
    /// Part of a reference, or a customer's name, e-mail or phone.
    pub query: String,
    /// The departure's local date, from and to (inclusive).
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    pub tour_id: Option<String>,
    pub status: Option<BookingStatus>,
    pub payment_status: Option<PaymentStatus>,
    pub source: Option<crate::entities::BookingSource>,
    /// Only bookings that still owe money.
    pub balance_due: bool,
    pub sort: BookingSort,
    pub descending: bool,
    /// At most this many rows (the screen asks for a page; 0 means the default).
    pub limit: u32,
}

/// One row of the bookings screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BookingRow {
    #[serde(flatten)]
    pub booking: BookingSummary,
    pub tour_id: String,
    pub tour_name: Option<String>,
    /// The departure's start in UTC and its local date and time, when this desk holds it.
    pub starts_at: Option<chrono::DateTime<chrono::Utc>>,
    pub local_start: Option<String>,
    pub source: crate::entities::BookingSource,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
    pub balance_due: Money,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// What the bookings screen shows: the first rows of the matches, and how many matched.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BookingList {
    pub rows: Vec<BookingRow>,
    pub matches: u64,
}

/// What the desk's global search found, each kind best match first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub bookings: Vec<BookingHit>,
    pub customers: Vec<CustomerHit>,
    pub tours: Vec<TourView>,
}

/// The desk's event after a local write or an applied pull page: which kinds of rows changed,
/// and whether server verdicts on this desk's own work arrived (the conflict inbox and the
/// pending badges follow those). The UI reloads only what depends on them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataChanged {
    pub kinds: Vec<crate::protocol::EntityKind>,
    #[serde(default)]
    pub outcomes: bool,
}

/// The names of the desk's events (Tauri `emit`), shared so neither side can misspell one.
pub mod events {
    /// Payload: `DataChanged`.
    pub const DATA_CHANGED: &str = "desk://data-changed";
    /// Payload: `DeskStatus`, whenever the sync loop's state moves.
    pub const STATUS: &str = "desk://status";
    /// Payload: `UpdateStatus`, when a check finds a newer version or an install moves.
    pub const UPDATE: &str = "desk://update";
}

/// One departure in the calendar (`#/calendar`): the row, whose tour and variant it is, the
/// seats a customer could still buy, and whether this desk changed it and the server has not
/// confirmed it yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarDeparture {
    #[serde(flatten)]
    pub departure: Departure,
    pub tour_name: String,
    pub variant_name: String,
    pub seats_left: u32,
    pub pending: bool,
}

/// A newer desk version the update server offers (`update_status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AvailableUpdate {
    pub version: String,
    /// What is new, as the release step wrote it.
    pub notes: String,
    /// RFC 3339, when it was published.
    pub pub_date: Option<String>,
}

/// The desk's updates: which version runs, what the server offers, and why an install waits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateStatus {
    pub current_version: String,
    /// `stable` or `beta`.
    pub channel: String,
    pub available: Option<AvailableUpdate>,
    /// RFC 3339, UTC; none until the first check (at start, then daily).
    pub last_checked_at: Option<String>,
    /// The last check's or install's failure, in words.
    pub last_error: Option<String>,
    /// Set while the install waits for this desk's unsent changes: why.
    pub waiting: Option<String>,
    pub installing: bool,
}

/// What "Install" did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum InstallOutcome {
    /// Verified and installed: the desk restarts into the new version.
    Installed { version: String },
    /// Not installed now; the reason says what it waits for (unsent changes, a sign-in).
    Waiting { reason: String },
    /// Nothing newer to install.
    UpToDate,
}

/// One guide on a departure, as the week board and guide mode show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardAssignment {
    pub assignment_id: String,
    pub guide_id: String,
    /// "First Last", or the guide id when this desk does not hold the guide.
    pub guide_name: String,
    pub role: crate::guides::AssignmentRole,
    pub status: crate::guides::AssignmentStatus,
    pub override_reason: Option<String>,
    /// Made on this desk and not yet confirmed by the server.
    pub pending: bool,
}

/// A departure with the guides on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardDeparture {
    #[serde(flatten)]
    pub departure: CalendarDeparture,
    pub assignments: Vec<BoardAssignment>,
}

impl BoardDeparture {
    /// No guide leads it (assistants alone, or declined guides, do not count).
    pub fn unassigned(&self) -> bool {
        !self.assignments.iter().any(|a| {
            a.role == crate::guides::AssignmentRole::Lead && a.status != crate::guides::AssignmentStatus::Declined
        })
    }
}

/// The week board: departures × guides for a span of local dates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuideBoard {
    pub from: chrono::NaiveDate,
    pub until: chrono::NaiveDate,
    /// Every guide of the organization, by name.
    pub guides: Vec<GuideView>,
    pub departures: Vec<BoardDeparture>,
}

/// A guide as the guides page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuideView {
    #[serde(flatten)]
    pub guide: crate::entities::Guide,
    /// Changed on this desk and not yet confirmed by the server.
    pub pending: bool,
}

/// A gift card as the gift cards screen lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GiftCardLine {
    #[serde(flatten)]
    pub card: crate::gift_card::GiftCard,
    /// The code as printed (`ABCD-EFGH-…`).
    pub display_code: String,
    pub state: crate::gift_card::CardState,
    /// Sold or spent on this desk and not yet confirmed by the server.
    pub pending: bool,
}

/// One movement of a card, with the booking it paid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GiftCardMovementLine {
    #[serde(flatten)]
    pub movement: crate::gift_card::GiftCardMovement,
    pub booking_reference: Option<String>,
    pub pending: bool,
}

/// A card with its movements, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GiftCardDetail {
    pub line: GiftCardLine,
    pub movements: Vec<GiftCardMovementLine>,
}

/// What the "Sell a gift card" form sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewGiftCard {
    /// As typed (`50.00`); the shell turns it into minor units of `currency`.
    pub amount: String,
    pub currency: String,
    pub payment_method: crate::ledger::PaymentMethod,
    /// The last day it can be spent (the desk's local date); none: no expiry.
    #[serde(default)]
    pub expires_on: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub purchaser_name: Option<String>,
    #[serde(default)]
    pub recipient_name: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// A printed voucher's code; none: the desk mints one.
    #[serde(default)]
    pub code: Option<String>,
}

/// What the "Redeem gift card" dialog on a booking sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftCardRedemption {
    pub booking_id: String,
    pub code: String,
    /// As typed, in the booking's currency.
    pub amount: String,
    pub currency: String,
}

/// One person's takings on the cash drawer screen, with the domain's sums (`DrawerLine`'s
/// methods) worked out so the window adds nothing up itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CashDrawerLine {
    #[serde(flatten)]
    pub line: crate::cash_drawer::DrawerLine,
    /// Who, in words ("You", a guide's name, or the account's id when this desk knows no name).
    pub user_name: String,
    /// Cash that came in (bookings and gift cards).
    #[serde(default)]
    pub cash_taken: i64,
    /// What should be in the drawer: cash taken less cash given back.
    pub cash_total: i64,
    /// Terminal money that came in (bookings and gift cards).
    #[serde(default)]
    pub terminal_taken: i64,
    /// What the terminal's report should show: its takings less its refunds.
    pub terminal_total: i64,
}

impl CashDrawerLine {
    pub fn new(line: crate::cash_drawer::DrawerLine, user_name: String) -> CashDrawerLine {
        CashDrawerLine {
            cash_taken: line.cash_taken(),
            cash_total: line.cash_total(),
            terminal_taken: line.terminal_taken(),
            terminal_total: line.terminal_total(),
            user_name,
            line,
        }
    }
}

/// The end-of-day summary of one local day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CashDrawer {
    pub date: chrono::NaiveDate,
    pub lines: Vec<CashDrawerLine>,
}

/// One waitlist entry as the desk's waitlist screen and a departure's waitlist panel show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitlistRow {
    pub entry: crate::entities::WaitlistEntry,
    pub tour_name: String,
    /// The departure's local date and time, in its zone `timezone`.
    pub local_date: chrono::NaiveDate,
    pub local_time: chrono::NaiveTime,
    pub timezone: String,
    pub customer_name: String,
    /// Its place in the departure's queue (1 is offered seats first); none unless waiting.
    pub place: Option<u32>,
    /// Where it stands, in words (`waitlist::status_in_words`).
    pub status_words: String,
    /// Whether "Remove" is offered (`waitlist::removal_refused` says none).
    pub removable: bool,
    /// Changed on this desk and not yet confirmed by the server.
    pub pending: bool,
}

/// The waitlist screen's filters; each one unset shows all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistFilter {
    #[serde(default)]
    pub tour_id: Option<String>,
    #[serde(default)]
    pub status: Option<crate::waitlist::WaitlistStatus>,
}

/// What the "Add to waitlist…" dialog sends: who (a customer picked, or created first with
/// `create_customer`), how many of which tiers, on which departure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWaitlistEntry {
    pub departure_id: String,
    pub customer_id: String,
    pub lines: Vec<crate::entities::WaitlistLine>,
    #[serde(default)]
    pub notes: Option<String>,
}

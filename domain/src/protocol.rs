//! The sync and API wire types. This module is the only definition of the protocol between
//! desks and the sync-server; both sides and the tests use these types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::roles::Role;

/// Bumped when the shape of push/pull changes. The server refuses versions it no longer
/// speaks with `CLIENT_TOO_OLD` instead of misreading them.
pub const SCHEMA_VERSION: u32 = 1;

/// The bucket holding everything of one organization (owner/admin/manager desks).
pub fn org_bucket(organization_id: &str) -> String {
    format!("org:{organization_id}:all")
}

/// The organization's reference data: tours, variants, tiers, departures (everyone in it).
pub fn ref_bucket(organization_id: &str) -> String {
    format!("org:{organization_id}:ref")
}

/// The organization's audit log: who changed what, before and after. Only owners and admins
/// receive it ([`crate::replication::role_receives_audit`]).
pub fn audit_bucket(organization_id: &str) -> String {
    format!("org:{organization_id}:audit")
}

/// One departure's operational data: its bookings, their customers' contact details, check-ins,
/// guide assignments (the departure's assigned guides).
pub fn schedule_bucket(departure_id: &str) -> String {
    format!("schedule:{departure_id}")
}

/// What kind of device holds a session: an office desk or a guide's phone. Shown to admins
/// deciding what to revoke.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    #[default]
    Desk,
    Guide,
}

impl DeviceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Desk => "desk",
            DeviceKind::Guide => "guide",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [DeviceKind::Desk, DeviceKind::Guide].into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInRequest {
    pub organization: String,
    pub email: String,
    pub password: String,
    /// A stable name for the device (shown to admins when they revoke sessions).
    pub device: String,
    /// Defaults to `desk`, which is what every client spoke before devices had kinds.
    #[serde(default)]
    pub device_kind: DeviceKind,
    /// The device id a previous sign-in returned. The server reuses it when it belongs to the
    /// same user and is not revoked; otherwise it registers a new device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The second factor, for an account with MFA: a TOTP code or a recovery code. Without it
    /// such an account's sign-in answers `MFA_REQUIRED` after the password has been checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp: Option<String>,
}

impl std::fmt::Debug for SignInRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInRequest")
            .field("organization", &self.organization)
            .field("email", &self.email)
            .field("password", &"***")
            .field("device", &self.device)
            .field("device_kind", &self.device_kind)
            .field("device_id", &self.device_id)
            .field("otp", &self.otp.as_ref().map(|_| "***"))
            .finish()
    }
}

/// The answer to a sign-in and to a refresh: a short-lived access token for `Authorization:
/// Bearer`, and a long-lived refresh token that can be exchanged exactly once for a new pair.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInResponse {
    pub access_token: String,
    pub expires_in_seconds: u64,
    #[serde(default)]
    pub refresh_token: String,
    #[serde(default)]
    pub refresh_expires_in_seconds: u64,
    #[serde(default)]
    pub device_id: String,
    pub user: SessionUser,
}

impl std::fmt::Debug for SignInResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInResponse")
            .field("access_token", &"***")
            .field("expires_in_seconds", &self.expires_in_seconds)
            .field("refresh_token", &"***")
            .field("refresh_expires_in_seconds", &self.refresh_expires_in_seconds)
            .field("device_id", &self.device_id)
            .field("user", &self.user)
            .finish()
    }
}

/// `POST /api/v1/auth/refresh`; answered with a [`SignInResponse`] for the same device.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

impl std::fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshRequest").field("refresh_token", &"***").finish()
    }
}

/// One registered device, as listed to its user or to the organization's owners and admins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub id: String,
    pub user_id: String,
    pub user_name: String,
    pub kind: DeviceKind,
    pub name: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub last_seen_at: chrono::DateTime<chrono::Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The device the request was made from.
    #[serde(default)]
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceList {
    pub devices: Vec<DeviceInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub organization_id: String,
    pub organization_name: String,
    #[serde(flatten)]
    pub organization_defaults: OrganizationDefaults,
}

/// What the organization has set that a desk applies to what it creates: a new customer's
/// language and currency, the country a phone typed without `+` is read in, and the zone its
/// reports count days in. Sent with the session (flattened, as `organization_language`,
/// `organization_currency`, `organization_country`, `organization_timezone`); each is `None` from a server that did not send it, and then the
/// domain's fallbacks apply (a phone then needs its country code).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrganizationDefaults {
    #[serde(default, rename = "organization_language", skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, rename = "organization_currency", skip_serializing_if = "Option::is_none")]
    pub currency: Option<crate::money::Currency>,
    /// ISO 3166-1 alpha-2.
    #[serde(default, rename = "organization_country", skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The organization's IANA zone: the days its reports and today dashboard count in (issue
    /// 16). `None` from an older server; the desk then takes the zone most of its tours run in.
    #[serde(default, rename = "organization_timezone", skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// Every 4xx/5xx body: a stable machine code, a sentence for people, and the input field at
/// fault when there is one (`null` when there is none: the three keys are always there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub field: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutationEnvelope {
    /// Grows by one per client; the server's dedupe key together with `client_id`.
    pub id: u64,
    pub name: String,
    pub args: Value,
    /// Hybrid logical clock of the edit, for last-writer-wins of scalar fields.
    pub hlc: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub client_id: String,
    pub schema_version: u32,
    pub mutations: Vec<MutationEnvelope>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    Applied,
    Rejected,
}

impl OutcomeStatus {
    /// The wire name, which stores also keep in their outcome tables.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeStatus::Applied => "applied",
            OutcomeStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<OutcomeStatus> {
        [OutcomeStatus::Applied, OutcomeStatus::Rejected].into_iter().find(|o| o.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutationResult {
    pub id: u64,
    pub status: OutcomeStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    /// The highest mutation id of this client the server has processed (applied or rejected).
    pub last_mutation_id: u64,
    /// Outcomes of the mutations processed by this request (duplicates are not repeated).
    pub results: Vec<MutationResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRequest {
    pub client_id: String,
    pub schema_version: u32,
    /// Last applied change sequence per bucket; a missing bucket starts from 0.
    #[serde(default)]
    pub cursors: BTreeMap<String, u64>,
    #[serde(default)]
    pub limit: Option<u32>,
    /// The oldest mutation id still in the client's outbox: the server returns the outcomes of
    /// this client's mutations from there on, so a verdict is seen even if a push response was lost.
    #[serde(default)]
    pub pending_from: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Tour,
    TourVariant,
    PricingTier,
    Departure,
    Booking,
    Customer,
    CheckIn,
    Guide,
    GuideAssignment,
    /// A payment event the server could not apply (`payment::PaymentIssue`), for office desks.
    PaymentIssue,
    /// One movement of money on a booking (`ledger::LedgerEntry`); scoped like its booking.
    LedgerEntry,
    /// The pricing half of the catalogue (`catalogue`): seasons, promotional codes (office desks
    /// only), tax rates, cancellation policies, a tour's FAQs and inclusions.
    Season,
    PromoCode,
    TaxRate,
    CancellationPolicy,
    TourFaq,
    TourInclusion,
    /// One row of the server's append-only audit log (`audit::AuditRecord`), for owners' and
    /// admins' desks only (`replication::role_receives_audit`).
    AuditLog,
    /// Seats set aside on a departure for one device (`allotment::Allotment`); replicates with
    /// its departure.
    Allotment,
    /// A tour's automatic discounts (`catalogue::GroupDiscountRule`, `catalogue::EarlyBirdRule`),
    /// replicated like its seasons.
    GroupDiscount,
    EarlyBirdDiscount,
    /// A guide's note on a departure they lead (`incident::DepartureIncident`); replicates with
    /// its departure.
    DepartureIncident,
    /// A gift card with its balance (`gift_card::GiftCard`), and each movement of it; office
    /// desks only.
    GiftCard,
    GiftCardMovement,
    /// A message sent (or not) to a customer (`communication::Communication`), its delivery
    /// state included; office desks only.
    Communication,
    /// A review's star rating and the departure it rates (`reviews::ReviewRating`), without its
    /// text; office desks only, for the guide performance report.
    ReviewRating,
    /// A customer waiting for seats on a departure (`entities::WaitlistEntry`), with where the
    /// entry stands (waiting, offered, booked, lapsed, removed); office desks only.
    WaitlistEntry,
}

impl EntityKind {
    pub const ALL: [EntityKind; 27] = [
        EntityKind::Tour,
        EntityKind::TourVariant,
        EntityKind::PricingTier,
        EntityKind::Departure,
        EntityKind::Booking,
        EntityKind::Customer,
        EntityKind::CheckIn,
        EntityKind::Guide,
        EntityKind::GuideAssignment,
        EntityKind::PaymentIssue,
        EntityKind::LedgerEntry,
        EntityKind::Season,
        EntityKind::PromoCode,
        EntityKind::TaxRate,
        EntityKind::CancellationPolicy,
        EntityKind::TourFaq,
        EntityKind::TourInclusion,
        EntityKind::AuditLog,
        EntityKind::Allotment,
        EntityKind::GroupDiscount,
        EntityKind::EarlyBirdDiscount,
        EntityKind::DepartureIncident,
        EntityKind::GiftCard,
        EntityKind::GiftCardMovement,
        EntityKind::Communication,
        EntityKind::ReviewRating,
        EntityKind::WaitlistEntry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Tour => "tour",
            EntityKind::TourVariant => "tour_variant",
            EntityKind::PricingTier => "pricing_tier",
            EntityKind::Departure => "departure",
            EntityKind::Booking => "booking",
            EntityKind::Customer => "customer",
            EntityKind::CheckIn => "check_in",
            EntityKind::Guide => "guide",
            EntityKind::GuideAssignment => "guide_assignment",
            EntityKind::PaymentIssue => "payment_issue",
            EntityKind::LedgerEntry => "ledger_entry",
            EntityKind::Season => "season",
            EntityKind::PromoCode => "promo_code",
            EntityKind::TaxRate => "tax_rate",
            EntityKind::CancellationPolicy => "cancellation_policy",
            EntityKind::TourFaq => "tour_faq",
            EntityKind::TourInclusion => "tour_inclusion",
            EntityKind::AuditLog => "audit_log",
            EntityKind::Allotment => "allotment",
            EntityKind::GroupDiscount => "group_discount",
            EntityKind::EarlyBirdDiscount => "early_bird_discount",
            EntityKind::DepartureIncident => "departure_incident",
            EntityKind::GiftCard => "gift_card",
            EntityKind::GiftCardMovement => "gift_card_movement",
            EntityKind::Communication => "communication",
            EntityKind::ReviewRating => "review_rating",
            EntityKind::WaitlistEntry => "waitlist_entry",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        EntityKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Put,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRecord {
    pub seq: u64,
    pub entity: EntityKind,
    pub id: String,
    pub op: Op,
    /// The full row (the entity's serde form) for `put`; `null` for `delete`.
    pub row: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketPage {
    pub bucket: String,
    pub changes: Vec<ChangeRecord>,
    /// The cursor to store once this page is applied.
    pub cursor: u64,
    /// The bucket's newest sequence number in this page's snapshot. With the cursors it tells a
    /// client how far a long initial sync has come (sequence numbers are shared between an
    /// organization's buckets, so it measures progress; it does not count rows).
    #[serde(default)]
    pub head: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub buckets: Vec<BucketPage>,
    /// False when more changes wait; the client pulls again with the new cursors.
    pub complete: bool,
    /// The client's processed-mutation watermark as of this page: pending mutations up to it
    /// are settled and leave the outbox in the same transaction as the page.
    pub last_mutation_id: u64,
    /// Outcomes of this client's mutations from `pending_from` on.
    pub results: Vec<MutationResult>,
    /// Buckets in the request's cursors this client no longer receives (a guide unassigned from a
    /// departure): the client deletes their rows and forgets their cursors.
    #[serde(default)]
    pub removed_buckets: Vec<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The name a store keeps an outcome under is its wire name, and reads back as the same.
    #[test]
    fn outcome_statuses_round_trip() {
        for o in [OutcomeStatus::Applied, OutcomeStatus::Rejected] {
            assert_eq!(OutcomeStatus::parse(o.as_str()), Some(o));
            assert_eq!(serde_json::to_value(o).unwrap(), Value::String(o.as_str().into()));
        }
        assert_eq!(OutcomeStatus::Rejected.as_str(), "rejected");
        assert_eq!(OutcomeStatus::parse("Rejected"), None);
    }

    #[test]
    fn entity_kinds_round_trip() {
        for k in EntityKind::ALL {
            assert_eq!(EntityKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), Value::String(k.as_str().into()));
        }
    }

    #[test]
    fn secrets_are_masked_and_old_sign_ins_still_parse() {
        let old = r#"{"organization":"demo","email":"a@b.c","password":"hunter2","device":"Front desk"}"#;
        let req: SignInRequest = serde_json::from_str(old).unwrap();
        assert_eq!((req.device_kind, req.device_id.as_deref()), (DeviceKind::Desk, None));
        assert!(!format!("{req:?}").contains("hunter2"));
        let refresh = RefreshRequest { refresh_token: "r3fresh".into() };
        assert!(!format!("{refresh:?}").contains("r3fresh"));
        let resp = SignInResponse {
            access_token: "acc3ss".into(),
            expires_in_seconds: 900,
            refresh_token: "r3fresh".into(),
            refresh_expires_in_seconds: 60,
            device_id: "d1".into(),
            user: SessionUser {
                id: "u".into(),
                name: "n".into(),
                email: "e".into(),
                role: Role::Owner,
                organization_id: "o".into(),
                organization_name: "O".into(),
                organization_defaults: Default::default(),
            },
        };
        let dbg = format!("{resp:?}");
        assert!(!dbg.contains("acc3ss") && !dbg.contains("r3fresh"), "{dbg}");
        assert_eq!(DeviceKind::parse("guide"), Some(DeviceKind::Guide));
        assert_eq!(serde_json::to_value(DeviceKind::Desk).unwrap(), Value::String("desk".into()));
    }

    #[test]
    fn push_request_rejects_wrong_types() {
        let bad = r#"{"client_id":"c","schema_version":1,"mutations":[{"id":"one","name":"x","args":{},"hlc":"0"}]}"#;
        assert!(serde_json::from_str::<PushRequest>(bad).is_err());
    }
}

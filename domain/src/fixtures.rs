//! Rows for tests, the same in every crate: one organization with an active London walking tour,
//! its morning variant, adult and child prices, a July departure, a customer, a guide and
//! bookings. Tests change what they care about with struct update syntax
//! (`Tour { default_capacity: 4, ..fixtures::tour() }`). Compiled for this crate's tests and,
//! through the `fixtures` feature, for other crates' tests; never in a shipped build.
#![allow(clippy::unwrap_used)] // fixed literals that are valid by construction

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};

use crate::audit::AuditRecord;
use crate::cancellation::{CancellationPolicy, CancellationRule};
use crate::catalogue::{CancellationPolicyRow, TaxRate};
use crate::entities::{
    Booking, BookingSource, Customer, CustomerSource, Departure, Guide, PricingTier, Tour, TourVariant,
};
use crate::guides::GuideStatus;
use crate::hlc::Hlc;
use crate::ipc::NewTour;
use crate::ledger::{EntryKind, LedgerEntry};
use crate::money::{Currency, Money};
use crate::mutation::CustomerField;
use crate::pricing::{Adjustment, LineItem, PricingCatalog, PricingSnapshot, PromoCode, PromoStatus, Tier};
use crate::reference::ReferenceNumber;
use crate::status::{BookingStatus, DepartureStatus, PaymentStatus, TourCategory, TourStatus};

pub const ORG: &str = "org-1";
pub const TOUR: &str = "t-1";
pub const VARIANT: &str = "v-1";
pub const ADULT: &str = "00000000-0000-4000-8000-00000000ad01";
pub const CHILD: &str = "00000000-0000-4000-8000-00000000c001";
pub const DEPARTURE: &str = "v-1@2026-07-10T09:00:00";
pub const CUSTOMER: &str = "00000000-0000-4000-8000-0000000c0001";
pub const GUIDE: &str = "g-1";
pub const STAFF: &str = "u-staff";
pub const GUIDE_USER: &str = "u-guide";

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

/// An RFC 3339 instant, for tests that write their times out.
pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

pub fn usd(a: i64) -> Money {
    Money::new(a, Currency::USD)
}

pub fn tour() -> Tour {
    NewTour {
        meeting_point: "Fountain".into(),
        languages: vec!["en".into()],
        ..NewTour::quick("Old Town Walk".into(), String::new(), 120, 10, TourCategory::Walking, "Europe/London".into())
    }
    .into_tour(TOUR.into(), ORG.into(), "old-town-walk".into(), TourStatus::Active)
}

pub fn variant() -> TourVariant {
    TourVariant {
        id: VARIANT.into(),
        organization_id: ORG.into(),
        tour_id: TOUR.into(),
        name: "Morning".into(),
        capacity: None,
        duration_minutes: None,
        active: true,
        sort_order: 0,
    }
}

/// The adult price as stored: $50, 13 and over, the default.
pub fn adult_tier() -> PricingTier {
    PricingTier {
        id: ADULT.into(),
        organization_id: ORG.into(),
        tour_id: TOUR.into(),
        variant_id: None,
        name: "Adult".into(),
        base_price: usd(5000),
        min_age: Some(13),
        max_age: None,
        is_default: true,
        sort_order: 0,
        valid_from: None,
        valid_until: None,
        min_per_booking: None,
        max_per_booking: None,
    }
}

/// 2026-07-10 09:00 in London (08:00 UTC), two hours, 10 seats, empty.
pub fn departure() -> Departure {
    Departure {
        id: DEPARTURE.into(),
        organization_id: ORG.into(),
        tour_id: TOUR.into(),
        variant_id: VARIANT.into(),
        local_date: NaiveDate::from_ymd_opt(2026, 7, 10).unwrap(),
        local_time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        timezone: "Europe/London".into(),
        starts_at: Utc.with_ymd_and_hms(2026, 7, 10, 8, 0, 0).unwrap(),
        ends_at: Utc.with_ymd_and_hms(2026, 7, 10, 10, 0, 0).unwrap(),
        capacity: 10,
        booked_count: 0,
        status: DepartureStatus::Open,
        notes: String::new(),
    }
}

fn tier(id: &str, name: &str, price: i64, min_age: Option<u32>, max_age: Option<u32>) -> Tier {
    Tier {
        id: id.into(),
        variant_id: None,
        name: name.into(),
        base_price: usd(price),
        min_age,
        max_age,
        valid_from: None,
        valid_until: None,
        is_default: id == ADULT,
        sort_order: 0,
        min_per_booking: None,
        max_per_booking: None,
    }
}

/// Adult $50 (13+), child $25 (5–12).
pub fn catalog() -> PricingCatalog {
    PricingCatalog {
        tour_id: TOUR.into(),
        currency: Currency::USD,
        tiers: vec![tier(ADULT, "Adult", 5000, Some(13), None), tier(CHILD, "Child", 2500, Some(5), Some(12))],
        seasons: vec![],
        group_discounts: vec![],
        early_bird_discounts: vec![],
        taxes: vec![],
    }
}

/// 100 % a week ahead, 50 % two days ahead, nothing after.
pub fn policy() -> CancellationPolicy {
    CancellationPolicy {
        id: "p-1".into(),
        name: "Standard".into(),
        rules: vec![
            CancellationRule { hours_before_tour: 168, refund_percentage: 100 },
            CancellationRule { hours_before_tour: 48, refund_percentage: 50 },
        ],
    }
}

/// [`policy`] as the catalogue stores it: the organization's default, for every tour.
pub fn policy_row() -> CancellationPolicyRow {
    let p = policy();
    CancellationPolicyRow {
        id: p.id,
        organization_id: ORG.into(),
        tour_id: None,
        name: p.name,
        description: "Full refund up to a week before; half up to two days before".into(),
        rules: p.rules,
        is_default: true,
    }
}

/// 10 % off, active all of 2026, at most 5 uses.
pub fn promo() -> PromoCode {
    PromoCode {
        id: "promo-1".into(),
        code: "SUMMER10".into(),
        discount: Adjustment::Percentage(crate::money::Percent::whole(10)),
        min_booking_value: None,
        max_uses: Some(5),
        max_uses_per_customer: Some(1),
        valid_from: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        valid_until: Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap(),
        applicable_tour_ids: vec![],
        applicable_variant_ids: vec![],
        current_uses: 0,
        status: PromoStatus::Active,
    }
}

pub fn hlc(ms_after_now: i64, node: &str) -> Hlc {
    Hlc::new(u64::try_from(now().timestamp_millis() + ms_after_now).unwrap(), 0, node)
}

pub fn customer() -> Customer {
    let stamp = hlc(-86_400_000, "seed");
    Customer {
        id: CUSTOMER.into(),
        organization_id: ORG.into(),
        email: Some("ana@example.com".into()),
        phone: None,
        first_name: "Ana".into(),
        last_name: "Silva".into(),
        source: CustomerSource::Direct,
        source_detail: None,
        preferred_language: "pt-BR".into(),
        preferred_currency: Currency::EUR,
        marketing_consent: false,
        marketing_consent_date: None,
        field_hlcs: CustomerField::NAMES.iter().map(|f| (f.to_string(), stamp.clone())).collect(),
        tags: BTreeSet::new(),
        tag_stamps: BTreeMap::new(),
        notes: "Prefers mornings".into(),
        notes_version: 3,
        notes_conflicts: vec![],
        reminders_opt_out: false,
        sms_opt_in: false,
        merged_into: None,
        erased_at: None,
        created_at: now(),
        updated_at: now(),
    }
}

pub fn guide() -> Guide {
    let all_day = r#"[{"start":"06:00","end":"22:00"}]"#;
    let weekly = format!(
        r#"{{"0":{all_day},"1":{all_day},"2":{all_day},"3":{all_day},"4":{all_day},"5":{all_day},"6":{all_day}}}"#
    );
    Guide {
        id: GUIDE.into(),
        organization_id: ORG.into(),
        user_id: Some(GUIDE_USER.into()),
        first_name: "Gil".into(),
        last_name: "Moss".into(),
        email: "gil@example.com".into(),
        phone: "+447911123456".into(),
        languages: vec!["en".into(), "fr".into()],
        timezone: "Europe/London".into(),
        weekly_availability: serde_json::from_str(&weekly).unwrap(),
        status: GuideStatus::Active,
        qualified_tour_ids: vec![TOUR.into()],
        bio: None,
        photo_url: None,
        emergency_contact: None,
        time_off: Vec::new(),
    }
}

/// The organization's 23 % VAT, inside the prices.
pub fn tax_rate() -> TaxRate {
    TaxRate {
        id: "tax-vat".into(),
        organization_id: ORG.into(),
        tour_id: None,
        name: "VAT".into(),
        rate: crate::money::Percent::whole(23),
        inclusive: true,
        active: true,
        sort_order: 0,
    }
}

/// An audit row of a change staff user `u-1` made on device `desk-1`.
pub fn audit_record(
    id: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    before: Option<serde_json::Value>,
    after: serde_json::Value,
    created_at: DateTime<Utc>,
) -> AuditRecord {
    AuditRecord {
        id: id.into(),
        organization_id: ORG.into(),
        actor: "u-1".into(),
        actor_user_id: Some("u-1".into()),
        device_id: Some("desk-1".into()),
        action: action.into(),
        entity: entity.into(),
        entity_id: entity_id.into(),
        before,
        after: Some(after),
        created_at,
    }
}

/// A ledger entry in dollars on a booking of [`DEPARTURE`], recorded by [`STAFF`] [`now`].
pub fn ledger_entry(id: &str, booking_id: &str, kind: EntryKind, amount: i64) -> LedgerEntry {
    LedgerEntry {
        id: id.into(),
        organization_id: ORG.into(),
        booking_id: booking_id.into(),
        departure_id: DEPARTURE.into(),
        kind,
        amount,
        currency: Currency::USD,
        note: None,
        reference: None,
        recorded_by: STAFF.into(),
        recorded_at: now(),
        method: None,
    }
}

/// A booking of `pax` adults on [`DEPARTURE`].
pub fn booking(id: &str, pax: u32, status: BookingStatus, payment: PaymentStatus, paid: i64) -> Booking {
    let total = usd(5000 * i64::from(pax));
    Booking {
        id: id.into(),
        organization_id: ORG.into(),
        reference_number: ReferenceNumber::generate(2026, id.len() as u64 * 7919).unwrap(),
        customer_id: CUSTOMER.into(),
        departure_id: DEPARTURE.into(),
        tour_id: TOUR.into(),
        variant_id: VARIANT.into(),
        pricing: PricingSnapshot {
            line_items: vec![LineItem {
                pricing_tier_id: ADULT.into(),
                tier_name: "Adult".into(),
                quantity: pax,
                unit_price: usd(5000),
                total_price: total,
            }],
            subtotal: total,
            discounts: vec![],
            taxes: vec![],
            total,
            promotional_code_id: None,
        },
        participants: vec![],
        status,
        payment_status: payment,
        paid_amount: usd(paid),
        refunded_amount: usd(0),
        source: BookingSource::Admin,
        special_requests: None,
        dietary_restrictions: None,
        overbook: None,
        cancellation: None,
        checked_in: 0,
        no_shows: 0,
        created_at: now(),
        confirmed_at: None,
        cancelled_at: None,
        updated_at: now(),
    }
}

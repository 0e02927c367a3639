//! Row mapping between the replica tables and the domain entities. Change records carry an
//! entity's serde form, so `put`/`get` convert through the typed entity: a malformed row from
//! the wire is refused here instead of landing half-parsed in a table.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tourdesk_domain::allotment::Allotment;
use tourdesk_domain::audit::{AuditFacets, AuditFilter, AuditRecord};
use tourdesk_domain::catalogue::{CatalogueRow, is_catalogue_kind};
use tourdesk_domain::communication::Communication;
use tourdesk_domain::entities::{Booking, CheckIn, Customer, Guide, GuideAssignment, WaitlistEntry};
use tourdesk_domain::gift_card::{GiftCard, GiftCardMovement};
use tourdesk_domain::incident::DepartureIncident;
use tourdesk_domain::ledger::LedgerEntry;
use tourdesk_domain::money::{Currency, Money};
use tourdesk_domain::payment::PaymentIssue;
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::reviews::ReviewRating;
use tourdesk_domain::status::{DepartureStatus, TourCategory, TourStatus};
use tourdesk_domain::{Departure, PricingTier, Tour, TourVariant, catalogue_kinds};

use crate::StoreError;
use crate::columns::{Col, columns};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {value:?}"))
}

pub const TOUR_COLS: &str = "id, organization_id, name, slug, short_description, duration_minutes, default_capacity, \
     min_participants, category, timezone, meeting_point, status, full_description, meeting_point_address, \
     meeting_point_lat, meeting_point_lng, meeting_point_instructions, tags, languages, accessibility_info, \
     what_to_bring, highlights, cancellation_policy_id";
/// How many columns [`TOUR_COLS`] names: a query selecting more after them starts here.
pub const TOUR_COL_COUNT: usize = 23;

/// A list column (JSON array of strings).
fn text_list(r: &Row<'_>, i: usize, what: &str) -> Result<Vec<String>, StoreError> {
    let raw: String = r.get(i)?;
    serde_json::from_str(&raw).map_err(|_| corrupt(what, &raw))
}

pub fn tour_from_row(r: &Row<'_>) -> Result<Tour, StoreError> {
    let category: String = r.get(8)?;
    let status: String = r.get(11)?;
    Ok(Tour {
        id: r.get(0)?,
        organization_id: r.get(1)?,
        name: r.get(2)?,
        slug: r.get(3)?,
        short_description: r.get(4)?,
        duration_minutes: r.get(5)?,
        default_capacity: r.get(6)?,
        min_participants: r.get(7)?,
        category: TourCategory::parse(&category).ok_or_else(|| corrupt("tour category", &category))?,
        timezone: r.get(9)?,
        meeting_point: r.get(10)?,
        status: TourStatus::parse(&status).ok_or_else(|| corrupt("tour status", &status))?,
        full_description: r.get(12)?,
        meeting_point_address: r.get(13)?,
        meeting_point_lat: r.get(14)?,
        meeting_point_lng: r.get(15)?,
        meeting_point_instructions: r.get(16)?,
        tags: text_list(r, 17, "tour tags")?,
        languages: text_list(r, 18, "tour languages")?,
        accessibility_info: r.get(19)?,
        what_to_bring: text_list(r, 20, "what to bring")?,
        highlights: text_list(r, 21, "tour highlights")?,
        cancellation_policy_id: r.get(22)?,
    })
}

pub fn put_tour(c: &Connection, t: &Tour, pending: bool) -> Result<(), StoreError> {
    let coordinates = [t.meeting_point_lat, t.meeting_point_lng].map(|v| v.map_or(SqlValue::Null, SqlValue::Real));
    put_spec(c, &TOURS, t, &coordinates, pending)
}

pub fn tour(c: &Connection, org: &str, id: &str) -> Result<Option<Tour>, StoreError> {
    let sql = format!("SELECT {TOUR_COLS} FROM tours WHERE organization_id = ?1 AND id = ?2");
    c.prepare_cached(&sql)?.query_row(params![org, id], |r| Ok(tour_from_row(r))).optional()?.transpose()
}

pub fn tour_by_slug(c: &Connection, org: &str, slug: &str) -> Result<Option<Tour>, StoreError> {
    let sql = format!("SELECT {TOUR_COLS} FROM tours WHERE organization_id = ?1 AND slug = ?2");
    c.prepare_cached(&sql)?.query_row(params![org, slug], |r| Ok(tour_from_row(r))).optional()?.transpose()
}

pub const VARIANT_COLS: &str = "id, organization_id, tour_id, name, capacity, duration_minutes, active, sort_order";

pub fn variant_from_row(r: &Row<'_>) -> rusqlite::Result<TourVariant> {
    Ok(TourVariant {
        id: r.get(0)?,
        organization_id: r.get(1)?,
        tour_id: r.get(2)?,
        name: r.get(3)?,
        capacity: r.get(4)?,
        duration_minutes: r.get(5)?,
        active: r.get(6)?,
        sort_order: r.get(7)?,
    })
}

fn put_variant(c: &Connection, v: &TourVariant, pending: bool) -> Result<(), StoreError> {
    put_spec(c, &TOUR_VARIANTS, v, &[], pending)
}

pub const TIER_COLS: &str = "id, organization_id, tour_id, variant_id, name, base_price_minor, currency, min_age, \
     max_age, is_default, sort_order, valid_from, valid_until, min_per_booking, max_per_booking";

fn opt_date(r: &Row<'_>, i: usize) -> Result<Option<NaiveDate>, StoreError> {
    r.get::<_, Option<String>>(i)?
        .map(|d| d.parse::<NaiveDate>().map_err(|_| corrupt("tier validity date", &d)))
        .transpose()
}

pub fn tier_from_row(r: &Row<'_>) -> Result<PricingTier, StoreError> {
    let cur: String = r.get(6)?;
    let currency = Currency::parse(&cur).map_err(|_| corrupt("currency", &cur))?;
    Ok(PricingTier {
        id: r.get(0)?,
        organization_id: r.get(1)?,
        tour_id: r.get(2)?,
        variant_id: r.get(3)?,
        name: r.get(4)?,
        base_price: Money::new(r.get(5)?, currency),
        min_age: r.get(7)?,
        max_age: r.get(8)?,
        is_default: r.get(9)?,
        sort_order: r.get(10)?,
        valid_from: opt_date(r, 11)?,
        valid_until: opt_date(r, 12)?,
        min_per_booking: r.get(13)?,
        max_per_booking: r.get(14)?,
    })
}

fn put_tier(c: &Connection, t: &PricingTier, pending: bool) -> Result<(), StoreError> {
    let price = [SqlValue::Integer(t.base_price.amount), SqlValue::Text(t.base_price.currency.as_str().to_string())];
    put_spec(c, &PRICING_TIERS, t, &price, pending)
}

pub const DEPARTURE_COLS: &str = "id, organization_id, tour_id, variant_id, local_date, local_time, timezone, \
     starts_at, ends_at, capacity, booked_count, status, notes";

pub fn departure_from_row(r: &Row<'_>) -> Result<Departure, StoreError> {
    let text = |i: usize| -> Result<String, StoreError> { Ok(r.get::<_, String>(i)?) };
    let date = text(4)?;
    let time = text(5)?;
    let starts = text(7)?;
    let ends = text(8)?;
    let status = text(11)?;
    Ok(Departure {
        id: r.get(0)?,
        organization_id: r.get(1)?,
        tour_id: r.get(2)?,
        variant_id: r.get(3)?,
        local_date: date.parse::<NaiveDate>().map_err(|_| corrupt("departure date", &date))?,
        local_time: time.parse::<NaiveTime>().map_err(|_| corrupt("departure time", &time))?,
        timezone: r.get(6)?,
        starts_at: starts.parse::<DateTime<Utc>>().map_err(|_| corrupt("departure start", &starts))?,
        ends_at: ends.parse::<DateTime<Utc>>().map_err(|_| corrupt("departure end", &ends))?,
        capacity: r.get(9)?,
        booked_count: r.get(10)?,
        status: DepartureStatus::parse(&status).ok_or_else(|| corrupt("departure status", &status))?,
        notes: r.get(12)?,
    })
}

fn put_departure(c: &Connection, d: &Departure, pending: bool) -> Result<(), StoreError> {
    let times = [
        SqlValue::Text(d.local_time.format("%H:%M:%S").to_string()),
        SqlValue::Text(d.starts_at.to_rfc3339()),
        SqlValue::Text(d.ends_at.to_rfc3339()),
    ];
    put_spec(c, &DEPARTURES, d, &times, pending)
}

fn table(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Tour => "tours",
        EntityKind::TourVariant => "tour_variants",
        EntityKind::PricingTier => "pricing_tiers",
        EntityKind::Departure => "schedules",
        EntityKind::Booking => "bookings",
        EntityKind::Customer => "customers",
        EntityKind::CheckIn => "check_ins",
        EntityKind::Guide => "guides",
        EntityKind::GuideAssignment => "guide_assignments",
        EntityKind::PaymentIssue => "payment_issues",
        EntityKind::LedgerEntry => "ledger_entries",
        EntityKind::Season => "seasons",
        EntityKind::PromoCode => "promo_codes",
        EntityKind::TaxRate => "tax_rates",
        EntityKind::CancellationPolicy => "cancellation_policies",
        EntityKind::TourFaq => "tour_faqs",
        EntityKind::TourInclusion => "tour_inclusions",
        EntityKind::GroupDiscount => "group_discounts",
        EntityKind::EarlyBirdDiscount => "early_bird_discounts",
        EntityKind::AuditLog => "audit_log",
        EntityKind::Allotment => "allotments",
        EntityKind::DepartureIncident => "departure_incidents",
        EntityKind::GiftCard => "gift_cards",
        EntityKind::GiftCardMovement => "gift_card_movements",
        EntityKind::Communication => "communications",
        EntityKind::ReviewRating => "review_ratings",
        EntityKind::WaitlistEntry => "waitlist_entries",
    }
}

/// The columns of a replica table whose columns are exactly the entity's fields. Rows of these
/// tables are written from and read back into the entity's serde form generically, so a row
/// reads back exactly as it arrived.
struct Spec {
    table: &'static str,
    cols: &'static [(&'static str, Col)],
    /// Columns computed from the entity (for queries), or holding a field in a form of the
    /// store's own rather than the serde form (a fraction, an instant as the store writes it),
    /// written after `cols`.
    derived: &'static [&'static str],
    /// The upsert statement, built once.
    upsert: OnceLock<String>,
}

impl Spec {
    /// A table whose row is exactly `cols`.
    const fn new(table: &'static str, cols: &'static [(&'static str, Col)]) -> Spec {
        Spec::with_derived(table, cols, &[])
    }

    /// A table with `cols` and, after them, columns computed from the entity.
    const fn with_derived(
        table: &'static str,
        cols: &'static [(&'static str, Col)],
        derived: &'static [&'static str],
    ) -> Spec {
        Spec { table, cols, derived, upsert: OnceLock::new() }
    }

    /// An upsert, not `INSERT OR REPLACE`: REPLACE would delete the row without firing delete
    /// triggers, and the customers' search index would keep the old text.
    fn upsert_sql(&self) -> &str {
        self.upsert.get_or_init(|| {
            let mut names: Vec<&str> = self.cols.iter().map(|(n, _)| *n).collect();
            names.extend(self.derived);
            names.push("local_pending");
            let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
            let updates: Vec<String> = names.iter().skip(1).map(|n| format!("{n} = excluded.{n}")).collect();
            format!(
                "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
                self.table,
                names.join(", "),
                placeholders.join(", "),
                updates.join(", ")
            )
        })
    }
}

use Col::{Bool, Int, Json, Text};

// One static per replica table: each column list follows its table's migrations; alike lists are not copies.
// The tour, variant, tier and departure tables are written here, but read by `*_from_row` in the
// order of `*_COLS` (queries join them to other tables), so they are not in `spec()`.
static TOURS: Spec = Spec::with_derived(
    "tours",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("name", Text),
        ("slug", Text),
        ("short_description", Text),
        ("duration_minutes", Int),
        ("default_capacity", Int),
        ("min_participants", Int),
        ("category", Text),
        ("timezone", Text),
        ("meeting_point", Text),
        ("status", Text),
        ("full_description", Text),
        ("meeting_point_address", Text),
        ("meeting_point_instructions", Text),
        ("tags", Json),
        ("languages", Json),
        ("accessibility_info", Text),
        ("what_to_bring", Json),
        ("highlights", Json),
        ("cancellation_policy_id", Text),
    ],
    // Degrees with a fraction, which no `Col` holds.
    &["meeting_point_lat", "meeting_point_lng"],
);

static TOUR_VARIANTS: Spec = Spec::new(
    "tour_variants",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("tour_id", Text),
        ("name", Text),
        ("capacity", Int),
        ("duration_minutes", Int),
        ("active", Bool),
        ("sort_order", Int),
    ],
);

static PRICING_TIERS: Spec = Spec::with_derived(
    "pricing_tiers",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("tour_id", Text),
        ("variant_id", Text),
        ("name", Text),
        ("min_age", Int),
        ("max_age", Int),
        ("is_default", Bool),
        ("sort_order", Int),
        ("valid_from", Text),
        ("valid_until", Text),
        ("min_per_booking", Int),
        ("max_per_booking", Int),
    ],
    // The base price in minor units and its currency, as the queries read it.
    &["base_price_minor", "currency"],
);

static DEPARTURES: Spec = Spec::with_derived(
    "schedules",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("tour_id", Text),
        ("variant_id", Text),
        ("local_date", Text),
        ("timezone", Text),
        ("capacity", Int),
        ("booked_count", Int),
        ("status", Text),
        ("notes", Text),
    ],
    // The time and instants in the text the store has always written (`+00:00`, not serde's
    // `Z`), which its queries compare as text.
    &["local_time", "starts_at", "ends_at"],
);

static BOOKINGS: Spec = Spec::with_derived(
    "bookings",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("reference_number", Text),
        ("customer_id", Text),
        ("departure_id", Text),
        ("tour_id", Text),
        ("variant_id", Text),
        ("pricing", Json),
        ("participants", Json),
        ("status", Text),
        ("payment_status", Text),
        ("paid_amount", Json),
        ("refunded_amount", Json),
        ("source", Text),
        ("special_requests", Text),
        ("dietary_restrictions", Text),
        ("overbook", Json),
        ("cancellation", Json),
        ("checked_in", Int),
        ("no_shows", Int),
        ("created_at", Text),
        ("confirmed_at", Text),
        ("cancelled_at", Text),
        ("updated_at", Text),
    ],
    // V21 adds what the reports read (the pricing snapshot's and money JSON's figures).
    &[
        "participant_count",
        "total_minor",
        "currency",
        "subtotal_minor",
        "discounts_minor",
        "exclusive_taxes_minor",
        "paid_minor",
        "refunded_minor",
        "promo_code_id",
        "cancel_reason",
        "cancelled_by",
    ],
);

static CUSTOMERS: Spec = Spec::new(
    "customers",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("email", Text),
        ("phone", Text),
        ("first_name", Text),
        ("last_name", Text),
        ("source", Text),
        ("source_detail", Text),
        ("preferred_language", Text),
        ("preferred_currency", Text),
        ("marketing_consent", Bool),
        ("marketing_consent_date", Text),
        ("field_hlcs", Json),
        ("tags", Json),
        ("tag_stamps", Json),
        ("notes", Text),
        ("notes_version", Int),
        ("notes_conflicts", Json),
        ("reminders_opt_out", Bool),
        ("sms_opt_in", Bool),
        ("merged_into", Text),
        ("erased_at", Text),
        ("created_at", Text),
        ("updated_at", Text),
    ],
);

static CHECK_INS: Spec = Spec::new(
    "check_ins",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("booking_id", Text),
        ("departure_id", Text),
        ("participant", Int),
        ("kind", Text),
        ("at", Text),
        ("recorded_by", Text),
    ],
);

static LEDGER_ENTRIES: Spec = Spec::new(
    "ledger_entries",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("booking_id", Text),
        ("departure_id", Text),
        ("kind", Text),
        ("amount", Int),
        ("currency", Text),
        ("note", Text),
        ("reference", Text),
        ("recorded_by", Text),
        ("recorded_at", Text),
        // How a refund went back by hand (V34); NULL on other entries.
        ("method", Text),
    ],
);

static GUIDES: Spec = Spec::new(
    "guides",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("user_id", Text),
        ("first_name", Text),
        ("last_name", Text),
        ("email", Text),
        ("phone", Text),
        ("languages", Json),
        ("timezone", Text),
        ("weekly_availability", Json),
        ("status", Text),
        ("qualified_tour_ids", Json),
        ("bio", Text),
        ("photo_url", Text),
        ("emergency_contact", Text),
        ("time_off", Json),
    ],
);

static PAYMENT_ISSUES: Spec = Spec::new(
    "payment_issues",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("booking_id", Text),
        ("booking_reference", Text),
        ("event_id", Text),
        ("event_type", Text),
        ("reason", Text),
        ("message", Text),
        ("created_at", Text),
    ],
);

static AUDIT_LOG: Spec = Spec::new(
    "audit_log",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("actor", Text),
        ("actor_user_id", Text),
        ("device_id", Text),
        ("action", Text),
        ("entity", Text),
        ("entity_id", Text),
        ("before", Json),
        ("after", Json),
        ("created_at", Text),
    ],
);

static INCIDENTS: Spec = Spec::new(
    "departure_incidents",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("departure_id", Text),
        ("at", Text),
        ("text", Text),
        ("recorded_by", Text),
    ],
);

static ALLOTMENTS: Spec = Spec::new(
    "allotments",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("departure_id", Text),
        ("tour_id", Text),
        ("device_id", Text),
        ("user_id", Text),
        ("seats", Int),
        ("sold", Int),
        ("status", Text),
        ("booking_ids", Json),
        ("issued_by", Text),
        ("issued_at", Text),
        ("released_at", Text),
        ("returned", Int),
    ],
);

static GUIDE_ASSIGNMENTS: Spec = Spec::new(
    "guide_assignments",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("departure_id", Text),
        ("guide_id", Text),
        ("status", Text),
        ("assigned_at", Text),
        ("confirmed_at", Text),
        ("notes", Text),
        ("role", Text),
        ("override_reason", Text),
    ],
);

static SEASONS: Spec = Spec::new(
    "seasons",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("tour_id", Text),
        ("name", Text),
        ("start_date", Text),
        ("end_date", Text),
        ("adjustment", Json),
        ("priority", Int),
    ],
);

static PROMO_CODES: Spec = Spec::new(
    "promo_codes",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("code", Text),
        ("discount", Json),
        ("min_booking_value", Json),
        ("max_uses", Int),
        ("max_uses_per_customer", Int),
        ("valid_from", Text),
        ("valid_until", Text),
        ("applicable_tour_ids", Json),
        ("applicable_variant_ids", Json),
        ("current_uses", Int),
        ("status", Text),
    ],
);

static TAX_RATES: Spec = Spec::new(
    "tax_rates",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("tour_id", Text),
        ("name", Text),
        ("rate", Int),
        ("inclusive", Bool),
        ("active", Bool),
        ("sort_order", Int),
    ],
);

static POLICIES: Spec = Spec::new(
    "cancellation_policies",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("tour_id", Text),
        ("name", Text),
        ("description", Text),
        ("rules", Json),
        ("is_default", Bool),
    ],
);

static FAQS: Spec = Spec::new(
    "tour_faqs",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("tour_id", Text),
        ("question", Text),
        ("answer", Text),
        ("sort_order", Int),
        ("is_published", Bool),
    ],
);

static INCLUSIONS: Spec = Spec::new(
    "tour_inclusions",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("tour_id", Text),
        ("kind", Text),
        ("text", Text),
        ("icon", Text),
        ("sort_order", Int),
    ],
);

/// A tour's discount from a threshold on: the group and early-bird tables differ only in the
/// threshold's column (the server writes both through one `ThresholdTable`).
macro_rules! threshold_spec {
    ($table:literal, $threshold:literal) => {
        Spec::new(
            $table,
            &[("id", Text), ("organization_id", Text), ("tour_id", Text), ($threshold, Int), ("discount", Json)],
        )
    };
}

static GROUP_DISCOUNTS: Spec = threshold_spec!("group_discounts", "min_participants");
static EARLY_BIRD_DISCOUNTS: Spec = threshold_spec!("early_bird_discounts", "min_days_before");

static GIFT_CARDS: Spec = Spec::new(
    "gift_cards",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("code", Text),
        ("currency", Text),
        ("issued_amount", Int),
        ("balance", Int),
        ("expires_at", Text),
        ("purchaser_name", Text),
        ("recipient_name", Text),
        ("note", Text),
        ("issued_by", Text),
        ("issued_at", Text),
        ("updated_at", Text),
    ],
);

static GIFT_CARD_MOVEMENTS: Spec = Spec::new(
    "gift_card_movements",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("gift_card_id", Text),
        ("kind", Text),
        ("amount", Int),
        ("currency", Text),
        ("balance_after", Int),
        ("booking_id", Text),
        ("payment_method", Text),
        ("recorded_by", Text),
        ("recorded_at", Text),
    ],
);

static REVIEW_RATINGS: Spec = Spec::new(
    "review_ratings",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("tour_id", Text),
        ("booking_id", Text),
        ("departure_id", Text),
        ("rating", Int),
        ("published", Bool),
        ("moderated_at", Text),
    ],
);

static COMMUNICATIONS: Spec = Spec::new(
    "communications",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("customer_id", Text),
        ("booking_id", Text),
        ("channel", Text),
        ("direction", Text),
        ("kind", Text),
        ("subject", Text),
        ("status", Text),
        ("sent_at", Text),
        ("delivered_at", Text),
        ("failure_reason", Text),
        ("created_at", Text),
    ],
);

static WAITLIST_ENTRIES: Spec = Spec::new(
    "waitlist_entries",
    &[
        ("id", Text),
        ("organization_id", Text),
        ("tour_id", Text),
        ("departure_id", Text),
        ("customer_id", Text),
        ("lines", Json),
        ("party_size", Int),
        ("notes", Text),
        ("created_by", Text),
        ("created_at", Text),
        ("status", Text),
        ("offered_at", Text),
        ("offer_expires_at", Text),
        ("offer_booking_id", Text),
    ],
);

fn spec(kind: EntityKind) -> Option<&'static Spec> {
    match kind {
        EntityKind::Season => Some(&SEASONS),
        EntityKind::PromoCode => Some(&PROMO_CODES),
        EntityKind::TaxRate => Some(&TAX_RATES),
        EntityKind::CancellationPolicy => Some(&POLICIES),
        EntityKind::TourFaq => Some(&FAQS),
        EntityKind::TourInclusion => Some(&INCLUSIONS),
        EntityKind::GroupDiscount => Some(&GROUP_DISCOUNTS),
        EntityKind::EarlyBirdDiscount => Some(&EARLY_BIRD_DISCOUNTS),
        EntityKind::Booking => Some(&BOOKINGS),
        EntityKind::Customer => Some(&CUSTOMERS),
        EntityKind::CheckIn => Some(&CHECK_INS),
        EntityKind::Guide => Some(&GUIDES),
        EntityKind::GuideAssignment => Some(&GUIDE_ASSIGNMENTS),
        EntityKind::PaymentIssue => Some(&PAYMENT_ISSUES),
        EntityKind::LedgerEntry => Some(&LEDGER_ENTRIES),
        EntityKind::AuditLog => Some(&AUDIT_LOG),
        EntityKind::Allotment => Some(&ALLOTMENTS),
        EntityKind::DepartureIncident => Some(&INCIDENTS),
        EntityKind::GiftCard => Some(&GIFT_CARDS),
        EntityKind::GiftCardMovement => Some(&GIFT_CARD_MOVEMENTS),
        EntityKind::Communication => Some(&COMMUNICATIONS),
        EntityKind::ReviewRating => Some(&REVIEW_RATINGS),
        EntityKind::WaitlistEntry => Some(&WAITLIST_ENTRIES),
        EntityKind::Tour | EntityKind::TourVariant | EntityKind::PricingTier | EntityKind::Departure => None,
    }
}

fn from_sql(spec: &Spec, r: &Row<'_>) -> Result<Value, StoreError> {
    let mut obj = serde_json::Map::with_capacity(spec.cols.len());
    for (i, (name, col)) in spec.cols.iter().enumerate() {
        let v = match (col, r.get::<_, Option<SqlValue>>(i)?) {
            (_, None | Some(SqlValue::Null)) => Value::Null,
            (Text, Some(SqlValue::Text(s))) => Value::String(s),
            (Int, Some(SqlValue::Integer(n))) => Value::from(n),
            (Bool, Some(SqlValue::Integer(n))) => Value::Bool(n != 0),
            (Json, Some(SqlValue::Text(s))) => serde_json::from_str(&s)?,
            (_, Some(other)) => return Err(StoreError::Corrupt(format!("{}.{name}: {other:?}", spec.table))),
        };
        obj.insert((*name).to_string(), v);
    }
    Ok(Value::Object(obj))
}

/// Upserts entity `v` into the table of `spec` (its serde form, column by column), plus
/// derived columns.
fn put_spec<T: serde::Serialize>(
    c: &Connection,
    spec: &Spec,
    v: &T,
    derived: &[SqlValue],
    pending: bool,
) -> Result<(), StoreError> {
    debug_assert_eq!(derived.len(), spec.derived.len());
    let mut values = columns(spec.table, spec.cols, v)?;
    values.extend_from_slice(derived);
    values.push(SqlValue::Integer(i64::from(pending)));
    c.prepare_cached(spec.upsert_sql())?.execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

/// Rows of `spec` in `org` matching `filter` (SQL over the table's columns, with the
/// organization as `?1` and `args` from `?2`), in the serde form. `filter` is ANDed after the
/// organization without parentheses so it can end in ORDER BY / LIMIT: it must not use OR.
fn select_spec(
    c: &Connection,
    spec: &Spec,
    org: &str,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Value>, StoreError> {
    let cols: Vec<&str> = spec.cols.iter().map(|(n, _)| *n).collect();
    let sql = format!("SELECT {} FROM {} WHERE organization_id = ?1 AND {filter}", cols.join(", "), spec.table);
    let mut stmt = c.prepare_cached(&sql)?;
    let mut all: Vec<&dyn rusqlite::ToSql> = vec![&org];
    all.extend_from_slice(args);
    let mut q = stmt.query(all.as_slice())?;
    let mut out = Vec::new();
    while let Some(r) = q.next()? {
        out.push(from_sql(spec, r)?);
    }
    Ok(out)
}

fn typed<T: DeserializeOwned>(v: Vec<Value>) -> Result<Vec<T>, StoreError> {
    v.into_iter().map(|v| serde_json::from_value(v).map_err(StoreError::from)).collect()
}

pub fn booking(c: &Connection, org: &str, id: &str) -> Result<Option<Booking>, StoreError> {
    Ok(typed(select_spec(c, &BOOKINGS, org, "id = ?2", &[&id])?)?.pop())
}

/// Whether a reference is taken, read as the domain reads it (any case, the prefix optional):
/// stored references are canonical.
pub fn booking_reference_taken(c: &Connection, org: &str, reference: &str) -> Result<bool, StoreError> {
    let Ok(reference) = tourdesk_domain::reference::ReferenceNumber::parse(reference) else { return Ok(false) };
    Ok(c.prepare_cached("SELECT 1 FROM bookings WHERE organization_id = ?1 AND reference_number = ?2")?
        .exists(params![org, reference.as_str()])?)
}

/// A departure's bookings in the order they were made.
pub fn bookings_of_departure(c: &Connection, org: &str, departure_id: &str) -> Result<Vec<Booking>, StoreError> {
    typed(select_spec(c, &BOOKINGS, org, "departure_id = ?2 ORDER BY created_at, id", &[&departure_id])?)
}

pub fn bookings_of_customer(c: &Connection, org: &str, customer_id: &str) -> Result<Vec<Booking>, StoreError> {
    typed(select_spec(c, &BOOKINGS, org, "customer_id = ?2 ORDER BY created_at DESC, id", &[&customer_id])?)
}

pub fn check_ins_of_booking(c: &Connection, org: &str, booking_id: &str) -> Result<Vec<CheckIn>, StoreError> {
    typed(select_spec(c, &CHECK_INS, org, "booking_id = ?2 ORDER BY at, id", &[&booking_id])?)
}

/// A booking's ledger, oldest first.
pub fn ledger_of_booking(c: &Connection, org: &str, booking_id: &str) -> Result<Vec<LedgerEntry>, StoreError> {
    typed(select_spec(c, &LEDGER_ENTRIES, org, "booking_id = ?2 ORDER BY recorded_at, id", &[&booking_id])?)
}

pub fn customer(c: &Connection, org: &str, id: &str) -> Result<Option<Customer>, StoreError> {
    Ok(typed(select_spec(c, &CUSTOMERS, org, "id = ?2", &[&id])?)?.pop())
}

pub fn customer_by_email(c: &Connection, org: &str, email: &str) -> Result<Option<Customer>, StoreError> {
    Ok(typed(select_spec(c, &CUSTOMERS, org, "email = ?2 ORDER BY id LIMIT 1", &[&email])?)?.pop())
}

/// The audit screen's query for `f`: the organization's audit entries matching every filter
/// given, newest first, at most `:limit`. Only the filters given are in the `WHERE` clause (an
/// `(:x IS NULL OR col = :x)` form would keep SQLite from choosing the filter's index), so each
/// filter reads its index (migrations/sqlite/V10__audit_log.sql, V15__read_indexes.sql). The
/// named parameters are `:org`, `:limit` and those of the filters given.
pub fn audit_log_query(f: &AuditFilter) -> String {
    let (from, to) = f.bounds();
    let mut wh = String::from("organization_id = :org");
    let mut and = |present: bool, cond: &str| {
        if present {
            wh.push_str(" AND ");
            wh.push_str(cond);
        }
    };
    and(f.entity.is_some(), "entity = :entity");
    and(f.entity_id.is_some(), "entity_id = :entity_id");
    and(f.actor.is_some(), "actor = :actor");
    and(f.device_id.is_some(), "device_id = :device");
    and(f.action.is_some(), "action = :action");
    and(from.is_some(), "created_at >= :from");
    and(to.is_some(), "created_at < :to");
    format!(
        "SELECT id, organization_id, actor, actor_user_id, device_id, action, entity, entity_id,
            before, after, created_at
       FROM audit_log
      WHERE {wh}
      ORDER BY created_at DESC, CAST(id AS INTEGER) DESC
      LIMIT :limit"
    )
}

pub fn audit_log(c: &Connection, org: &str, f: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
    let (from, to) = f.bounds();
    let limit = i64::from(f.limit());
    let mut stmt = c.prepare_cached(&audit_log_query(f))?;
    let given: [(&str, Option<&String>); 7] = [
        (":entity", f.entity.as_ref()),
        (":entity_id", f.entity_id.as_ref()),
        (":actor", f.actor.as_ref()),
        (":device", f.device_id.as_ref()),
        (":action", f.action.as_ref()),
        (":from", from.as_ref()),
        (":to", to.as_ref()),
    ];
    let mut params: Vec<(&str, &dyn rusqlite::ToSql)> = Vec::with_capacity(9);
    params.push((":org", &org as &dyn rusqlite::ToSql));
    params.push((":limit", &limit as &dyn rusqlite::ToSql));
    for (name, v) in given {
        if let Some(v) = v {
            params.push((name, v as &dyn rusqlite::ToSql));
        }
    }
    let mut q = stmt.query(params.as_slice())?;
    let mut out = Vec::new();
    while let Some(r) = q.next()? {
        out.push(from_sql(&AUDIT_LOG, r)?);
    }
    typed(out)
}

/// The distinct entities, actors, devices and actions the organization's audit log holds,
/// sorted: what the screen's filters offer.
pub fn audit_facets(c: &Connection, org: &str) -> Result<AuditFacets, StoreError> {
    let distinct = |col: &str| -> Result<Vec<String>, StoreError> {
        // A skip over the column's index (one seek per distinct value, in order) instead of a
        // read of every entry: the log holds few distinct values and many entries.
        let sql = format!(
            "WITH RECURSIVE v(x) AS (
                 SELECT min({col}) FROM audit_log WHERE organization_id = ?1
                 UNION ALL
                 SELECT (SELECT min({col}) FROM audit_log WHERE organization_id = ?1 AND {col} > v.x)
                   FROM v WHERE v.x IS NOT NULL
             )
             SELECT x FROM v WHERE x IS NOT NULL"
        );
        let mut stmt = c.prepare_cached(&sql)?;
        let v = stmt.query_map([org], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(v)
    };
    Ok(AuditFacets {
        entities: distinct("entity")?,
        actors: distinct("actor")?,
        devices: distinct("device_id")?,
        actions: distinct("action")?,
    })
}

/// The organization's payment events the server could not apply, newest first.
pub fn payment_issues(c: &Connection, org: &str) -> Result<Vec<PaymentIssue>, StoreError> {
    typed(select_spec(c, &PAYMENT_ISSUES, org, "1 = 1 ORDER BY created_at DESC, id", &[])?)
}

pub fn guide(c: &Connection, org: &str, id: &str) -> Result<Option<Guide>, StoreError> {
    Ok(typed(select_spec(c, &GUIDES, org, "id = ?2", &[&id])?)?.pop())
}

/// Every guide of the organization, in no particular order.
pub fn guides(c: &Connection, org: &str) -> Result<Vec<Guide>, StoreError> {
    typed(select_spec(c, &GUIDES, org, "1 = 1", &[])?)
}

pub fn guide_assignment(
    c: &Connection,
    org: &str,
    departure_id: &str,
    guide_id: &str,
) -> Result<Option<GuideAssignment>, StoreError> {
    let filter = "departure_id = ?2 AND guide_id = ?3 ORDER BY id LIMIT 1";
    Ok(typed(select_spec(c, &GUIDE_ASSIGNMENTS, org, filter, &[&departure_id, &guide_id])?)?.pop())
}

/// Catalogue rows of `kind` in `org` matching `filter` (as in [`select_spec`]), typed.
pub fn catalogue_rows(
    c: &Connection,
    org: &str,
    kind: EntityKind,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<CatalogueRow>, StoreError> {
    let Some(spec) = spec(kind).filter(|_| is_catalogue_kind(kind)) else {
        return Err(StoreError::Corrupt(format!("{} is not a catalogue row", kind.as_str())));
    };
    select_spec(c, spec, org, filter, args)?
        .into_iter()
        .map(|v| match CatalogueRow::from_value(kind, v) {
            Some(r) => Ok(r?),
            None => Err(StoreError::Corrupt(kind.as_str().to_string())),
        })
        .collect()
}

/// Whether a row is still changed locally (not yet confirmed by the server).
pub fn pending(c: &Connection, org: &str, kind: EntityKind, id: &str) -> Result<bool, StoreError> {
    let sql = format!("SELECT local_pending FROM {} WHERE organization_id = ?1 AND id = ?2", table(kind));
    Ok(c.prepare_cached(&sql)?.query_row(params![org, id], |r| r.get(0)).optional()?.unwrap_or(false))
}

/// A replica row in its typed form: what a change record's `row` parses into. Parsing refuses a
/// malformed row before anything is written; writing the entity's own serde form back keeps the
/// stored text canonical.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Tour(Tour),
    TourVariant(TourVariant),
    PricingTier(PricingTier),
    Departure(Departure),
    // Boxed: the two big entities would otherwise size every record.
    Booking(Box<Booking>),
    Customer(Box<Customer>),
    CheckIn(CheckIn),
    Guide(Guide),
    GuideAssignment(GuideAssignment),
    PaymentIssue(PaymentIssue),
    LedgerEntry(LedgerEntry),
    /// A season, promo code, tax rate, cancellation policy, FAQ or inclusion.
    Catalogue(CatalogueRow),
    AuditLog(Box<AuditRecord>),
    Allotment(Allotment),
    DepartureIncident(DepartureIncident),
    GiftCard(GiftCard),
    GiftCardMovement(GiftCardMovement),
    Communication(Communication),
    ReviewRating(ReviewRating),
    WaitlistEntry(WaitlistEntry),
}

impl Record {
    /// Parses the serde form of an entity of `kind` from any deserializer (a `Value`, or the
    /// pull's JSON text as it is read).
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(kind: EntityKind, d: D) -> Result<Record, D::Error> {
        use serde::Deserialize;
        Ok(match kind {
            EntityKind::Tour => Record::Tour(Tour::deserialize(d)?),
            EntityKind::TourVariant => Record::TourVariant(TourVariant::deserialize(d)?),
            EntityKind::PricingTier => Record::PricingTier(PricingTier::deserialize(d)?),
            EntityKind::Departure => Record::Departure(Departure::deserialize(d)?),
            EntityKind::Booking => Record::Booking(Box::new(Booking::deserialize(d)?)),
            EntityKind::Customer => Record::Customer(Box::new(Customer::deserialize(d)?)),
            EntityKind::CheckIn => Record::CheckIn(CheckIn::deserialize(d)?),
            EntityKind::Guide => Record::Guide(Guide::deserialize(d)?),
            EntityKind::GuideAssignment => Record::GuideAssignment(GuideAssignment::deserialize(d)?),
            EntityKind::PaymentIssue => Record::PaymentIssue(PaymentIssue::deserialize(d)?),
            EntityKind::LedgerEntry => Record::LedgerEntry(LedgerEntry::deserialize(d)?),
            catalogue_kinds!() => Record::Catalogue(CatalogueRow::deserialize_kind(kind, d)?),
            EntityKind::AuditLog => Record::AuditLog(Box::new(AuditRecord::deserialize(d)?)),
            EntityKind::Allotment => Record::Allotment(Allotment::deserialize(d)?),
            EntityKind::DepartureIncident => Record::DepartureIncident(DepartureIncident::deserialize(d)?),
            EntityKind::GiftCard => Record::GiftCard(GiftCard::deserialize(d)?),
            EntityKind::GiftCardMovement => Record::GiftCardMovement(GiftCardMovement::deserialize(d)?),
            EntityKind::Communication => Record::Communication(Communication::deserialize(d)?),
            EntityKind::ReviewRating => Record::ReviewRating(ReviewRating::deserialize(d)?),
            EntityKind::WaitlistEntry => Record::WaitlistEntry(WaitlistEntry::deserialize(d)?),
        })
    }

    pub fn from_value(kind: EntityKind, v: &Value) -> Result<Record, StoreError> {
        Ok(Record::deserialize(kind, v)?)
    }

    pub fn kind(&self) -> EntityKind {
        match self {
            Record::Tour(_) => EntityKind::Tour,
            Record::TourVariant(_) => EntityKind::TourVariant,
            Record::PricingTier(_) => EntityKind::PricingTier,
            Record::Departure(_) => EntityKind::Departure,
            Record::Booking(_) => EntityKind::Booking,
            Record::Customer(_) => EntityKind::Customer,
            Record::CheckIn(_) => EntityKind::CheckIn,
            Record::Guide(_) => EntityKind::Guide,
            Record::GuideAssignment(_) => EntityKind::GuideAssignment,
            Record::PaymentIssue(_) => EntityKind::PaymentIssue,
            Record::LedgerEntry(_) => EntityKind::LedgerEntry,
            Record::Catalogue(r) => r.kind(),
            Record::AuditLog(_) => EntityKind::AuditLog,
            Record::Allotment(_) => EntityKind::Allotment,
            Record::DepartureIncident(_) => EntityKind::DepartureIncident,
            Record::GiftCard(_) => EntityKind::GiftCard,
            Record::GiftCardMovement(_) => EntityKind::GiftCardMovement,
            Record::Communication(_) => EntityKind::Communication,
            Record::ReviewRating(_) => EntityKind::ReviewRating,
            Record::WaitlistEntry(_) => EntityKind::WaitlistEntry,
        }
    }

    pub fn organization_id(&self) -> &str {
        match self {
            Record::Tour(t) => &t.organization_id,
            Record::TourVariant(v) => &v.organization_id,
            Record::PricingTier(t) => &t.organization_id,
            Record::Departure(d) => &d.organization_id,
            Record::Booking(b) => &b.organization_id,
            Record::Customer(c) => &c.organization_id,
            Record::CheckIn(c) => &c.organization_id,
            Record::Guide(g) => &g.organization_id,
            Record::GuideAssignment(a) => &a.organization_id,
            Record::PaymentIssue(i) => &i.organization_id,
            Record::LedgerEntry(e) => &e.organization_id,
            Record::Catalogue(r) => r.organization_id(),
            Record::AuditLog(a) => &a.organization_id,
            Record::Allotment(a) => &a.organization_id,
            Record::DepartureIncident(i) => &i.organization_id,
            Record::GiftCard(g) => &g.organization_id,
            Record::GiftCardMovement(m) => &m.organization_id,
            Record::Communication(m) => &m.organization_id,
            Record::ReviewRating(r) => &r.organization_id,
            Record::WaitlistEntry(e) => &e.organization_id,
        }
    }

    /// The serde form as JSON text (what a shadow keeps).
    pub fn to_json(&self) -> Result<String, StoreError> {
        Ok(match self {
            Record::Tour(t) => serde_json::to_string(t)?,
            Record::TourVariant(v) => serde_json::to_string(v)?,
            Record::PricingTier(t) => serde_json::to_string(t)?,
            Record::Departure(d) => serde_json::to_string(d)?,
            Record::Booking(b) => serde_json::to_string(b)?,
            Record::Customer(c) => serde_json::to_string(c)?,
            Record::CheckIn(c) => serde_json::to_string(c)?,
            Record::Guide(g) => serde_json::to_string(g)?,
            Record::GuideAssignment(a) => serde_json::to_string(a)?,
            Record::PaymentIssue(i) => serde_json::to_string(i)?,
            Record::LedgerEntry(e) => serde_json::to_string(e)?,
            Record::Catalogue(r) => r.to_value()?.to_string(),
            Record::AuditLog(a) => serde_json::to_string(a)?,
            Record::Allotment(a) => serde_json::to_string(a)?,
            Record::DepartureIncident(i) => serde_json::to_string(i)?,
            Record::GiftCard(g) => serde_json::to_string(g)?,
            Record::GiftCardMovement(m) => serde_json::to_string(m)?,
            Record::Communication(m) => serde_json::to_string(m)?,
            Record::ReviewRating(r) => serde_json::to_string(r)?,
            Record::WaitlistEntry(e) => serde_json::to_string(e)?,
        })
    }
}

/// A sum of one snapshot's amounts (one currency); saturating, as a column is no place to refuse
/// a row the server accepted.
fn minor_sum(amounts: impl Iterator<Item = i64>) -> i64 {
    amounts.fold(0i64, i64::saturating_add)
}

/// The serde name, as V21's backfill reads it from the JSON.
fn cancelled_by(by: tourdesk_domain::cancellation::CancelledBy) -> &'static str {
    use tourdesk_domain::cancellation::CancelledBy;
    match by {
        CancelledBy::Customer => "customer",
        CancelledBy::Operator => "operator",
    }
}

fn opt_text(v: Option<String>) -> SqlValue {
    v.map_or(SqlValue::Null, SqlValue::Text)
}

fn foreign(kind: EntityKind) -> StoreError {
    StoreError::Corrupt(format!("{} row for another organization", kind.as_str()))
}

/// Writes an entity given in its wire form, checking that it belongs to `org`.
pub fn put(c: &Connection, org: &str, kind: EntityKind, row: &Value, pending: bool) -> Result<(), StoreError> {
    if row.get("organization_id").and_then(Value::as_str) != Some(org) {
        return Err(foreign(kind));
    }
    put_record(c, org, &Record::from_value(kind, row)?, pending)
}

/// Writes a typed row, checking that it belongs to `org`.
pub fn put_record(c: &Connection, org: &str, r: &Record, pending: bool) -> Result<(), StoreError> {
    if r.organization_id() != org {
        return Err(foreign(r.kind()));
    }
    match r {
        Record::Tour(t) => put_tour(c, t, pending),
        Record::TourVariant(v) => put_variant(c, v, pending),
        Record::PricingTier(t) => put_tier(c, t, pending),
        Record::Departure(d) => put_departure(c, d, pending),
        Record::Booking(b) => {
            let derived = [
                SqlValue::Integer(i64::from(b.participant_count())),
                SqlValue::Integer(b.pricing.total.amount),
                SqlValue::Text(b.pricing.total.currency.as_str().to_string()),
                SqlValue::Integer(b.pricing.subtotal.amount),
                SqlValue::Integer(minor_sum(b.pricing.discounts.iter().map(|d| d.amount.amount))),
                SqlValue::Integer(minor_sum(b.pricing.taxes.iter().filter(|t| !t.inclusive).map(|t| t.amount.amount))),
                SqlValue::Integer(b.paid_amount.amount),
                SqlValue::Integer(b.refunded_amount.amount),
                opt_text(b.pricing.promotional_code_id.clone()),
                opt_text(b.cancellation.as_ref().and_then(|c| c.reason.clone())),
                opt_text(b.cancellation.as_ref().map(|c| cancelled_by(c.by).to_string())),
            ];
            put_spec(c, &BOOKINGS, b.as_ref(), &derived, pending)
        }
        Record::Customer(v) => put_spec(c, &CUSTOMERS, v.as_ref(), &[], pending),
        Record::CheckIn(v) => put_spec(c, &CHECK_INS, v, &[], pending),
        Record::Guide(v) => put_spec(c, &GUIDES, v, &[], pending),
        Record::GuideAssignment(v) => put_spec(c, &GUIDE_ASSIGNMENTS, v, &[], pending),
        Record::PaymentIssue(v) => put_spec(c, &PAYMENT_ISSUES, v, &[], pending),
        Record::LedgerEntry(v) => put_spec(c, &LEDGER_ENTRIES, v, &[], pending),
        Record::Catalogue(CatalogueRow::Season(v)) => put_spec(c, &SEASONS, v, &[], pending),
        Record::Catalogue(CatalogueRow::PromoCode(v)) => put_spec(c, &PROMO_CODES, v, &[], pending),
        Record::Catalogue(CatalogueRow::TaxRate(v)) => put_spec(c, &TAX_RATES, v, &[], pending),
        Record::Catalogue(CatalogueRow::CancellationPolicy(v)) => put_spec(c, &POLICIES, v, &[], pending),
        Record::Catalogue(CatalogueRow::TourFaq(v)) => put_spec(c, &FAQS, v, &[], pending),
        Record::Catalogue(CatalogueRow::TourInclusion(v)) => put_spec(c, &INCLUSIONS, v, &[], pending),
        Record::Catalogue(CatalogueRow::GroupDiscount(v)) => put_spec(c, &GROUP_DISCOUNTS, v, &[], pending),
        Record::Catalogue(CatalogueRow::EarlyBirdDiscount(v)) => put_spec(c, &EARLY_BIRD_DISCOUNTS, v, &[], pending),
        Record::AuditLog(v) => put_spec(c, &AUDIT_LOG, v.as_ref(), &[], pending),
        Record::Allotment(v) => put_spec(c, &ALLOTMENTS, v, &[], pending),
        Record::DepartureIncident(v) => put_spec(c, &INCIDENTS, v, &[], pending),
        Record::GiftCard(v) => put_spec(c, &GIFT_CARDS, v, &[], pending),
        Record::GiftCardMovement(v) => put_spec(c, &GIFT_CARD_MOVEMENTS, v, &[], pending),
        Record::Communication(v) => put_spec(c, &COMMUNICATIONS, v, &[], pending),
        Record::ReviewRating(v) => put_spec(c, &REVIEW_RATINGS, v, &[], pending),
        Record::WaitlistEntry(v) => put_spec(c, &WAITLIST_ENTRIES, v, &[], pending),
    }
}

pub fn delete(c: &Connection, org: &str, kind: EntityKind, id: &str) -> Result<(), StoreError> {
    let sql = format!("DELETE FROM {} WHERE organization_id = ?1 AND id = ?2", table(kind));
    c.prepare_cached(&sql)?.execute(params![org, id])?;
    Ok(())
}

/// The wire form of a stored row, for shadows.
pub fn get(c: &Connection, org: &str, kind: EntityKind, id: &str) -> Result<Option<Value>, StoreError> {
    if let Some(spec) = spec(kind) {
        return Ok(select_spec(c, spec, org, "id = ?2", &[&id])?.pop());
    }
    let v = match kind {
        EntityKind::Tour => tour(c, org, id)?.map(serde_json::to_value).transpose()?,
        EntityKind::Departure => {
            let sql = format!("SELECT {DEPARTURE_COLS} FROM schedules WHERE organization_id = ?1 AND id = ?2");
            let d = c.prepare_cached(&sql)?.query_row(params![org, id], |r| Ok(departure_from_row(r))).optional()?;
            d.transpose()?.map(serde_json::to_value).transpose()?
        }
        EntityKind::TourVariant => {
            let sql = format!("SELECT {VARIANT_COLS} FROM tour_variants WHERE organization_id = ?1 AND id = ?2");
            let v = c.prepare_cached(&sql)?.query_row(params![org, id], variant_from_row).optional()?;
            v.map(serde_json::to_value).transpose()?
        }
        EntityKind::PricingTier => {
            let sql = format!("SELECT {TIER_COLS} FROM pricing_tiers WHERE organization_id = ?1 AND id = ?2");
            let t = c.prepare_cached(&sql)?.query_row(params![org, id], |r| Ok(tier_from_row(r))).optional()?;
            t.transpose()?.map(serde_json::to_value).transpose()?
        }
        // Every kind named, not `_` (nor `is_catalogue_kind`): a new kind must decide here if it has a shadow.
        EntityKind::Booking
        | EntityKind::Customer
        | EntityKind::CheckIn
        | EntityKind::Guide
        | EntityKind::GuideAssignment
        | EntityKind::PaymentIssue
        | EntityKind::LedgerEntry => None,
        catalogue_kinds!() | EntityKind::AuditLog | EntityKind::Allotment | EntityKind::DepartureIncident => None,
        EntityKind::GiftCard | EntityKind::GiftCardMovement | EntityKind::Communication | EntityKind::ReviewRating => {
            None
        }
        EntityKind::WaitlistEntry => None,
    };
    Ok(v)
}

/// Records that a server row arrived in `bucket`.
pub fn own(c: &Connection, bucket: &str, kind: EntityKind, id: &str) -> Result<(), StoreError> {
    c.prepare_cached("INSERT OR IGNORE INTO replica_rows (entity, id, bucket) VALUES (?1, ?2, ?3)")?
        .execute(params![kind.as_str(), id, bucket])?;
    Ok(())
}

/// Forgets that `bucket` holds a row, and deletes the row when no other bucket this desk holds
/// has it: the server removed it from this bucket, not necessarily from the desk's view.
pub fn disown(c: &Connection, org: &str, bucket: &str, kind: EntityKind, id: &str) -> Result<(), StoreError> {
    c.prepare_cached("DELETE FROM replica_rows WHERE entity = ?1 AND id = ?2 AND bucket = ?3")?.execute(params![
        kind.as_str(),
        id,
        bucket
    ])?;
    let elsewhere = c
        .prepare_cached("SELECT 1 FROM replica_rows WHERE entity = ?1 AND id = ?2")?
        .exists(params![kind.as_str(), id])?;
    if !elsewhere {
        delete(c, org, kind, id)?;
    }
    Ok(())
}

/// Drops a bucket this desk no longer receives: its rows that no other held bucket has, and
/// its cursor. Returns how many rows were deleted.
pub fn remove_bucket(c: &Connection, org: &str, bucket: &str) -> Result<usize, StoreError> {
    let held: Vec<(String, String)> = {
        let mut stmt = c.prepare_cached("SELECT entity, id FROM replica_rows WHERE bucket = ?1")?;
        stmt.query_map([bucket], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?
    };
    let mut deleted = 0;
    for (entity, id) in held {
        let kind = EntityKind::parse(&entity).ok_or_else(|| corrupt("replica row kind", &entity))?;
        c.prepare_cached("DELETE FROM replica_rows WHERE entity = ?1 AND id = ?2 AND bucket = ?3")?
            .execute(params![entity, id, bucket])?;
        let elsewhere = c
            .prepare_cached("SELECT 1 FROM replica_rows WHERE entity = ?1 AND id = ?2")?
            .exists(params![entity, id])?;
        if !elsewhere {
            delete(c, org, kind, &id)?;
            deleted += 1;
        }
    }
    c.prepare_cached("DELETE FROM sync_state WHERE bucket = ?1")?.execute([bucket])?;
    Ok(deleted)
}

/// The columns a typed row writes, next to what reading its `serde_json::to_value` form column
/// by column gives (the mapping `from_sql` reverses); JSON text is compared as JSON, since a
/// struct serializes its fields in declaration order and a `Value` in key order.
#[cfg(test)]
pub(crate) fn columns_and_value_form(r: &Record) -> (Vec<SqlValue>, Vec<SqlValue>) {
    fn both<T: serde::Serialize>(spec: &Spec, v: &T) -> (Vec<SqlValue>, Vec<SqlValue>) {
        let typed = columns(spec.table, spec.cols, v).unwrap();
        let value = serde_json::to_value(v).unwrap();
        let by_value = spec
            .cols
            .iter()
            .map(|(name, col)| match (col, value.get(*name).unwrap_or(&Value::Null)) {
                (_, Value::Null) => SqlValue::Null,
                (Text, Value::String(s)) => SqlValue::Text(s.clone()),
                (Int, Value::Number(n)) => SqlValue::Integer(n.as_i64().unwrap()),
                (Bool, Value::Bool(b)) => SqlValue::Integer(i64::from(*b)),
                (Json, v) => SqlValue::Text(v.to_string()),
                (col, v) => panic!("{name}: {v} in a {col:?} column"),
            })
            .collect();
        let as_json = |vals: Vec<SqlValue>| -> Vec<SqlValue> {
            vals.into_iter()
                .zip(spec.cols)
                .map(|(v, (_, col))| match (col, v) {
                    (Json, SqlValue::Text(t)) => SqlValue::Text(serde_json::from_str::<Value>(&t).unwrap().to_string()),
                    (_, v) => v,
                })
                .collect()
        };
        (as_json(typed), as_json(by_value))
    }
    match r {
        Record::Booking(b) => both(&BOOKINGS, b.as_ref()),
        Record::Customer(c) => both(&CUSTOMERS, c.as_ref()),
        Record::CheckIn(c) => both(&CHECK_INS, c),
        Record::Guide(g) => both(&GUIDES, g),
        Record::GuideAssignment(a) => both(&GUIDE_ASSIGNMENTS, a),
        Record::PaymentIssue(i) => both(&PAYMENT_ISSUES, i),
        Record::Catalogue(CatalogueRow::Season(v)) => both(&SEASONS, v),
        Record::Catalogue(CatalogueRow::PromoCode(v)) => both(&PROMO_CODES, v),
        Record::Catalogue(CatalogueRow::TaxRate(v)) => both(&TAX_RATES, v),
        Record::Catalogue(CatalogueRow::CancellationPolicy(v)) => both(&POLICIES, v),
        Record::Catalogue(CatalogueRow::TourFaq(v)) => both(&FAQS, v),
        Record::Catalogue(CatalogueRow::TourInclusion(v)) => both(&INCLUSIONS, v),
        Record::Catalogue(CatalogueRow::GroupDiscount(v)) => both(&GROUP_DISCOUNTS, v),
        Record::Catalogue(CatalogueRow::EarlyBirdDiscount(v)) => both(&EARLY_BIRD_DISCOUNTS, v),
        Record::AuditLog(a) => both(&AUDIT_LOG, a.as_ref()),
        Record::DepartureIncident(i) => both(&INCIDENTS, i),
        Record::Communication(m) => both(&COMMUNICATIONS, m),
        Record::ReviewRating(r) => both(&REVIEW_RATINGS, r),
        Record::WaitlistEntry(e) => both(&WAITLIST_ENTRIES, e),
        other => panic!("{:?} has typed columns, not a spec", other.kind()),
    }
}

/// A departure's field notes written by its guides on this replica, oldest first.
pub fn incidents_of_departure(
    c: &Connection,
    org: &str,
    departure_id: &str,
) -> Result<Vec<DepartureIncident>, StoreError> {
    select_spec(c, &INCIDENTS, org, "departure_id = ?2 ORDER BY at, id", &[&departure_id])?
        .into_iter()
        .map(|v| Ok(serde_json::from_value(v)?))
        .collect()
}

/// A departure's allotments on this replica, oldest first.
pub fn allotments_of_departure(c: &Connection, org: &str, departure_id: &str) -> Result<Vec<Allotment>, StoreError> {
    select_spec(c, &ALLOTMENTS, org, "departure_id = ?2 ORDER BY issued_at, id", &[&departure_id])?
        .into_iter()
        .map(|v| Ok(serde_json::from_value(v)?))
        .collect()
}

/// `SELECT {cols} FROM {table} WHERE id IN (ids) AND +organization_id = org {and}`, each row
/// read by `read`: one query for a page of rows. `+organization_id` keeps SQLite on the primary
/// key; for a long `IN` list it prefers to walk an organization index, reading every row.
fn select_by_ids<T>(
    c: &Connection,
    org: &str,
    (cols, table, and): (&str, &str, &str),
    ids: &[String],
    read: impl Fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = (2..2 + ids.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
    let sql = format!("SELECT {cols} FROM {table} WHERE id IN ({list}) AND +organization_id = ?1 {and}");
    let mut args: Vec<&dyn rusqlite::ToSql> = vec![&org];
    args.extend(ids.iter().map(|i| i as &dyn rusqlite::ToSql));
    let mut stmt = c.prepare(&sql)?;
    let mut q = stmt.query(args.as_slice())?;
    let mut out = Vec::with_capacity(ids.len());
    while let Some(r) = q.next()? {
        out.push(read(r)?);
    }
    Ok(out)
}

/// The rows of `spec` with these ids, typed and keyed by id.
fn spec_rows_by_ids<T: DeserializeOwned>(
    c: &Connection,
    spec: &Spec,
    org: &str,
    ids: &[String],
    id: fn(&T) -> &str,
) -> Result<HashMap<String, T>, StoreError> {
    let cols: Vec<&str> = spec.cols.iter().map(|(n, _)| *n).collect();
    let rows = select_by_ids(c, org, (&cols.join(", "), spec.table, ""), ids, |r| from_sql(spec, r))?;
    Ok(keyed(typed(rows)?, id))
}

fn keyed<T>(rows: Vec<T>, id: fn(&T) -> &str) -> HashMap<String, T> {
    rows.into_iter().map(|t| (id(&t).to_string(), t)).collect()
}

/// The bookings with these ids that the desk holds, by id.
pub fn bookings_by_ids(c: &Connection, org: &str, ids: &[String]) -> Result<HashMap<String, Booking>, StoreError> {
    spec_rows_by_ids(c, &BOOKINGS, org, ids, |b: &Booking| &b.id)
}

/// The customers with these ids that the desk holds, by id.
pub fn customers_by_ids(c: &Connection, org: &str, ids: &[String]) -> Result<HashMap<String, Customer>, StoreError> {
    spec_rows_by_ids(c, &CUSTOMERS, org, ids, |x: &Customer| &x.id)
}

/// The tours with these ids that the desk holds, by id.
pub fn tours_by_ids(c: &Connection, org: &str, ids: &[String]) -> Result<HashMap<String, Tour>, StoreError> {
    Ok(keyed(select_by_ids(c, org, (TOUR_COLS, "tours", ""), ids, tour_from_row)?, |t: &Tour| &t.id))
}

/// The departures with these ids that the desk holds, by id.
pub fn departures_by_ids(c: &Connection, org: &str, ids: &[String]) -> Result<HashMap<String, Departure>, StoreError> {
    Ok(keyed(select_by_ids(c, org, (DEPARTURE_COLS, "schedules", ""), ids, departure_from_row)?, |d: &Departure| &d.id))
}

/// Which of these rows of `kind` have local changes not yet acknowledged: [`pending`] for many
/// rows in one query.
pub fn pending_of(
    c: &Connection,
    org: &str,
    kind: EntityKind,
    ids: &[String],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let pending = select_by_ids(c, org, ("id", table(kind), "AND local_pending != 0"), ids, |r| Ok(r.get(0)?))?;
    Ok(pending.into_iter().collect())
}

/// A gift card by its normalised code.
pub fn gift_card_by_code(c: &Connection, org: &str, code: &str) -> Result<Option<GiftCard>, StoreError> {
    Ok(typed(select_spec(c, &GIFT_CARDS, org, "code = ?2 ORDER BY id LIMIT 1", &[&code])?)?.pop())
}

/// Every gift card on this replica, newest sale first.
pub fn gift_cards(c: &Connection, org: &str) -> Result<Vec<GiftCard>, StoreError> {
    typed(select_spec(c, &GIFT_CARDS, org, "1 = 1 ORDER BY issued_at DESC, id", &[])?)
}

/// A card's movements, oldest first.
pub fn gift_card_movements(c: &Connection, org: &str, gift_card_id: &str) -> Result<Vec<GiftCardMovement>, StoreError> {
    typed(select_spec(c, &GIFT_CARD_MOVEMENTS, org, "gift_card_id = ?2 ORDER BY recorded_at, id", &[&gift_card_id])?)
}

/// The gift cards sold in `[from, until)` (issue movements), for the cash drawer.
pub fn gift_card_sales_between(
    c: &Connection,
    org: &str,
    from: &str,
    until: &str,
) -> Result<Vec<GiftCardMovement>, StoreError> {
    typed(select_spec(
        c,
        &GIFT_CARD_MOVEMENTS,
        org,
        "kind = 'issue' AND recorded_at >= ?2 AND recorded_at < ?3 ORDER BY recorded_at, id",
        &[&from, &until],
    )?)
}

/// The ledger entries recorded in `[from, until)`, for the cash drawer.
pub fn ledger_between(c: &Connection, org: &str, from: &str, until: &str) -> Result<Vec<LedgerEntry>, StoreError> {
    typed(select_spec(
        c,
        &LEDGER_ENTRIES,
        org,
        "recorded_at >= ?2 AND recorded_at < ?3 ORDER BY recorded_at, id",
        &[&from, &until],
    )?)
}

/// The names of these staff users: a guide's own name when one has a login, else the name the
/// user's newest audit row carries, else the name they were invited under (the `staff.invited`
/// row the server logs; its actor is whoever invited them). One indexed lookup per id and
/// source (V35's and V10's entity index), so a page naming a few people does not read the whole
/// audit log. An actor that is only the user's id again is no name.
pub fn names_of_users<'a>(
    c: &Connection,
    org: &str,
    ids: impl IntoIterator<Item = &'a String>,
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let mut guide = c.prepare_cached(
        "SELECT first_name || ' ' || last_name FROM guides WHERE organization_id = ?1 AND user_id = ?2 LIMIT 1",
    )?;
    let mut audit = c.prepare_cached(
        "SELECT actor FROM audit_log WHERE organization_id = ?1 AND actor_user_id = ?2
          ORDER BY created_at DESC LIMIT 1",
    )?;
    let mut invited = c.prepare_cached(
        "SELECT json_extract(after, '$.name') FROM audit_log
          WHERE organization_id = ?1 AND entity = 'staff_user' AND entity_id = ?2 AND action = 'staff.invited'
          ORDER BY created_at DESC LIMIT 1",
    )?;
    let named = |n: Option<String>, id: &str| n.filter(|n| n != id && !n.trim().is_empty());
    let mut names = std::collections::HashMap::new();
    for id in ids {
        let mut name = named(guide.query_row(params![org, id], |r| r.get::<_, String>(0)).optional()?, id);
        if name.is_none() {
            name = named(audit.query_row(params![org, id], |r| r.get::<_, String>(0)).optional()?, id);
        }
        if name.is_none() {
            name =
                named(invited.query_row(params![org, id], |r| r.get::<_, Option<String>>(0)).optional()?.flatten(), id);
        }
        if let Some(n) = name {
            names.insert(id.clone(), n);
        }
    }
    Ok(names)
}

/// A booking's messages on this replica (an office desk's), newest first.
pub fn communications_of_booking(
    c: &Connection,
    org: &str,
    booking_id: &str,
) -> Result<Vec<Communication>, StoreError> {
    typed(select_spec(c, &COMMUNICATIONS, org, "booking_id = ?2 ORDER BY created_at DESC, id", &[&booking_id])?)
}

/// A customer's messages on this replica, newest first.
pub fn communications_of_customer(
    c: &Connection,
    org: &str,
    customer_id: &str,
) -> Result<Vec<Communication>, StoreError> {
    typed(select_spec(c, &COMMUNICATIONS, org, "customer_id = ?2 ORDER BY created_at DESC, id", &[&customer_id])?)
}

/// The audit rows of a booking and of the rows that name it (ledger entries, refunds,
/// check-ins), each found through its own index (V10's entity index, V27's booking index).
pub fn audit_of_booking(c: &Connection, org: &str, booking_id: &str) -> Result<Vec<AuditRecord>, StoreError> {
    // The ids drive the read and the organization is only re-checked (`+`): as a search term it
    // made SQLite walk every entry of the organization in V27's index and test each against the
    // ids, 33 ms for a 200-entry timeline on a replica of 100k entries.
    let cols: Vec<&str> = AUDIT_LOG.cols.iter().map(|(n, _)| *n).collect();
    let sql = format!(
        "SELECT {} FROM audit_log
          WHERE id IN (SELECT id FROM audit_log WHERE organization_id = ?1 AND entity = 'booking' AND entity_id = ?2
                       UNION SELECT id FROM audit_log
                             WHERE organization_id = ?1 AND json_extract(after, '$.booking_id') = ?2)
            AND +organization_id = ?1",
        cols.join(", ")
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut q = stmt.query(params![org, booking_id])?;
    let mut out = Vec::new();
    while let Some(r) = q.next()? {
        out.push(from_sql(&AUDIT_LOG, r)?);
    }
    typed(out)
}

/// The IANA zone of a booking's departure, when this replica holds both.
pub fn booking_zone(c: &Connection, org: &str, booking_id: &str) -> Result<Option<String>, StoreError> {
    Ok(c.prepare_cached(
        "SELECT s.timezone FROM bookings b JOIN schedules s ON s.organization_id = b.organization_id AND s.id = b.departure_id
         WHERE b.organization_id = ?1 AND b.id = ?2",
    )?
    .query_row(params![org, booking_id], |r| r.get(0))
    .optional()?)
}

/// One waitlist entry on this replica.
pub fn waitlist_entry(c: &Connection, org: &str, id: &str) -> Result<Option<WaitlistEntry>, StoreError> {
    Ok(typed(select_spec(c, &WAITLIST_ENTRIES, org, "id = ?2", &[&id])?)?.pop())
}

/// A departure's waitlist on this replica, in queue order (the order the offers rule uses).
/// A customer's waitlist entries, any status, oldest first (a merge moves them).
pub fn waitlist_of_customer(c: &Connection, org: &str, customer_id: &str) -> Result<Vec<WaitlistEntry>, StoreError> {
    typed(select_spec(c, &WAITLIST_ENTRIES, org, "customer_id = ?2 ORDER BY created_at, id", &[&customer_id])?)
}

pub fn waitlist_of_departure(c: &Connection, org: &str, departure_id: &str) -> Result<Vec<WaitlistEntry>, StoreError> {
    typed(select_spec(c, &WAITLIST_ENTRIES, org, "departure_id = ?2 ORDER BY created_at, id", &[&departure_id])?)
}

/// Every waitlist entry on this replica, optionally of one tour's departures.
pub fn waitlist_entries(c: &Connection, org: &str, tour_id: Option<&str>) -> Result<Vec<WaitlistEntry>, StoreError> {
    match tour_id {
        Some(t) => typed(select_spec(c, &WAITLIST_ENTRIES, org, "tour_id = ?2 ORDER BY created_at, id", &[&t])?),
        None => typed(select_spec(c, &WAITLIST_ENTRIES, org, "1 = 1 ORDER BY created_at, id", &[])?),
    }
}

//! The pricing half of the catalogue as stored rows: seasons, promotional codes, tax rates,
//! cancellation policies, a tour's FAQs and its inclusions / exclusions. These are the rows the
//! `upsert_*` mutations write, the server stores in V2's tables and every desk replicates; the
//! pricing engine's own types (`pricing::SeasonalAdjustment`, `pricing::PromoCode`,
//! `pricing::TaxRule`, `cancellation::CancellationPolicy`) are built from them here, once, so the
//! desk and the server price a booking from the same rows the same way.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::cancellation::{CancellationPolicy, CancellationRule, StoredPolicy};
use crate::entities::PricingTier;
use crate::money::Percent;
use crate::offer::{self, ScopedTax};
use crate::pricing::{
    Adjustment, EarlyBirdDiscount, GroupDiscount, PricingCatalog, PromoCode, PromoStatus, SeasonalAdjustment, TaxRule,
    with_promo_terms,
};
use crate::protocol::EntityKind;

/// A date range of a tour whose prices go up or down (`seasonal_pricing`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Season {
    pub id: String,
    pub organization_id: String,
    pub tour_id: String,
    pub name: String,
    /// Inclusive local dates in the tour's zone.
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// Per participant; a percentage may be negative (low season), down to -100 %.
    pub adjustment: Adjustment,
    /// Higher wins where seasons overlap.
    pub priority: i32,
}

impl Season {
    pub fn to_adjustment(&self) -> SeasonalAdjustment {
        SeasonalAdjustment {
            id: self.id.clone(),
            name: self.name.clone(),
            start_date: self.start_date,
            end_date: self.end_date,
            adjustment: self.adjustment,
            priority: self.priority,
        }
    }
}

/// A tour's automatic discount for larger groups (`group_discounts`): applied when a booking
/// has at least `min_participants` participants; of the rules reached, the highest threshold
/// wins (`pricing::GroupDiscount`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupDiscountRule {
    pub id: String,
    pub organization_id: String,
    pub tour_id: String,
    pub min_participants: u32,
    pub discount: Adjustment,
}

impl GroupDiscountRule {
    pub fn to_discount(&self) -> GroupDiscount {
        GroupDiscount { min_participants: self.min_participants, discount: self.discount }
    }
}

/// A tour's automatic discount for booking early (`early_bird_discounts`): applied when the
/// booking is made at least `min_days_before` whole days before the departure; of the rules
/// reached, the highest threshold wins (`pricing::EarlyBirdDiscount`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlyBirdRule {
    pub id: String,
    pub organization_id: String,
    pub tour_id: String,
    pub min_days_before: u32,
    pub discount: Adjustment,
}

impl EarlyBirdRule {
    pub fn to_discount(&self) -> EarlyBirdDiscount {
        EarlyBirdDiscount { min_days_before: self.min_days_before, discount: self.discount }
    }
}

with_promo_terms! {
    /// A code customers type at checkout (`promotional_codes`). Office desks only: guides'
    /// devices never receive it (`replication`). The `code` is kept as typed by staff (trimmed) and looked up case-insensitively.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct PromotionalCode {
        pub id: String,
        pub organization_id: String,
    } {
        /// Counted by the server as bookings use the code.
        pub current_uses: u32,
        pub status: PromoStatus,
    }
}

impl PromotionalCode {
    // Row → pricing input; `upsert_promo_code.v1` builds the row from its arguments: opposite ways.
    pub fn to_promo(&self) -> PromoCode {
        PromoCode {
            id: self.id.clone(),
            code: self.code.clone(),
            discount: self.discount,
            min_booking_value: self.min_booking_value,
            max_uses: self.max_uses,
            max_uses_per_customer: self.max_uses_per_customer,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            applicable_tour_ids: self.applicable_tour_ids.clone(),
            applicable_variant_ids: self.applicable_variant_ids.clone(),
            current_uses: self.current_uses,
            status: self.status,
        }
    }
}

/// A tax of the organization (`tax_rules`): every tour's when `tour_id` is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRate {
    pub id: String,
    pub organization_id: String,
    pub tour_id: Option<String>,
    pub name: String,
    pub rate: Percent,
    /// Already inside the prices (VAT) rather than added on top.
    pub inclusive: bool,
    pub active: bool,
    pub sort_order: i32,
}

impl TaxRate {
    pub fn scoped(&self) -> ScopedTax {
        ScopedTax {
            tour_id: self.tour_id.clone(),
            active: self.active,
            rule: TaxRule { name: self.name.clone(), rate: self.rate, inclusive: self.inclusive },
        }
    }
}

/// The order taxes are applied and shown in, the same on every store: sort order, name, id.
pub fn sort_taxes(taxes: &mut [TaxRate]) {
    taxes.sort_by(|a, b| (a.sort_order, &a.name, &a.id).cmp(&(b.sort_order, &b.name, &b.id)));
}

/// A cancellation policy (`cancellation_policies`): a tour's own (`tour_id`), or an
/// organization-wide one, of which at most one is the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationPolicyRow {
    pub id: String,
    pub organization_id: String,
    pub tour_id: Option<String>,
    pub name: String,
    pub description: String,
    pub rules: Vec<CancellationRule>,
    pub is_default: bool,
}

impl CancellationPolicyRow {
    pub fn to_policy(&self) -> CancellationPolicy {
        CancellationPolicy { id: self.id.clone(), name: self.name.clone(), rules: self.rules.clone() }
    }

    pub fn stored(&self) -> StoredPolicy {
        StoredPolicy { policy: self.to_policy(), is_default: self.is_default }
    }
}

/// A question and answer shown with a tour (`tour_faqs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TourFaq {
    pub id: String,
    pub organization_id: String,
    pub tour_id: String,
    pub question: String,
    pub answer: String,
    pub sort_order: i32,
    pub is_published: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InclusionKind {
    Inclusion,
    Exclusion,
}

impl InclusionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InclusionKind::Inclusion => "inclusion",
            InclusionKind::Exclusion => "exclusion",
        }
    }

    pub fn parse(s: &str) -> Option<InclusionKind> {
        match s {
            "inclusion" => Some(InclusionKind::Inclusion),
            "exclusion" => Some(InclusionKind::Exclusion),
            _ => None,
        }
    }
}

/// What the tour's price includes, or does not (`tour_inclusions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TourInclusion {
    pub id: String,
    pub organization_id: String,
    pub tour_id: String,
    pub kind: InclusionKind,
    pub text: String,
    pub icon: Option<String>,
    pub sort_order: i32,
}

/// One stored catalogue row of any of the kinds above: what the catalogue mutations read and
/// write, so every store handles them through one read key and one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "row", rename_all = "snake_case")]
pub enum CatalogueRow {
    Season(Season),
    PromoCode(PromotionalCode),
    TaxRate(TaxRate),
    CancellationPolicy(CancellationPolicyRow),
    TourFaq(TourFaq),
    TourInclusion(TourInclusion),
    GroupDiscount(GroupDiscountRule),
    EarlyBirdDiscount(EarlyBirdRule),
}

/// `$body` evaluated with `$r` bound to the row inside whichever variant `$row` is.
macro_rules! each_row {
    ($row:expr, $r:ident => $body:expr) => {
        match $row {
            CatalogueRow::Season($r) => $body,
            CatalogueRow::PromoCode($r) => $body,
            CatalogueRow::TaxRate($r) => $body,
            CatalogueRow::CancellationPolicy($r) => $body,
            CatalogueRow::TourFaq($r) => $body,
            CatalogueRow::TourInclusion($r) => $body,
            CatalogueRow::GroupDiscount($r) => $body,
            CatalogueRow::EarlyBirdDiscount($r) => $body,
        }
    };
}

impl CatalogueRow {
    pub fn kind(&self) -> EntityKind {
        match self {
            CatalogueRow::Season(_) => EntityKind::Season,
            CatalogueRow::PromoCode(_) => EntityKind::PromoCode,
            CatalogueRow::TaxRate(_) => EntityKind::TaxRate,
            CatalogueRow::CancellationPolicy(_) => EntityKind::CancellationPolicy,
            CatalogueRow::TourFaq(_) => EntityKind::TourFaq,
            CatalogueRow::TourInclusion(_) => EntityKind::TourInclusion,
            CatalogueRow::GroupDiscount(_) => EntityKind::GroupDiscount,
            CatalogueRow::EarlyBirdDiscount(_) => EntityKind::EarlyBirdDiscount,
        }
    }

    pub fn id(&self) -> &str {
        each_row!(self, r => &r.id)
    }

    pub fn organization_id(&self) -> &str {
        each_row!(self, r => &r.organization_id)
    }

    /// The tour the row belongs to, if it belongs to one.
    pub fn tour_id(&self) -> Option<&str> {
        match self {
            CatalogueRow::Season(r) => Some(&r.tour_id),
            CatalogueRow::PromoCode(_) => None,
            CatalogueRow::TaxRate(r) => r.tour_id.as_deref(),
            CatalogueRow::CancellationPolicy(r) => r.tour_id.as_deref(),
            CatalogueRow::TourFaq(r) => Some(&r.tour_id),
            CatalogueRow::TourInclusion(r) => Some(&r.tour_id),
            CatalogueRow::GroupDiscount(r) => Some(&r.tour_id),
            CatalogueRow::EarlyBirdDiscount(r) => Some(&r.tour_id),
        }
    }

    /// The row's own serde form (without the `kind` tag): what the change log and the audit
    /// log carry.
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        each_row!(self, r => serde_json::to_value(r))
    }

    /// Parses a row's serde form as a row of `kind`; `None` for a kind that is not a catalogue
    /// row.
    pub fn from_value(kind: EntityKind, v: serde_json::Value) -> Option<Result<CatalogueRow, serde_json::Error>> {
        is_catalogue_kind(kind).then(|| CatalogueRow::deserialize_kind(kind, v))
    }

    /// Parses the serde form of a row of `kind` from any deserializer (a `Value`, or JSON text as
    /// it is read); a kind that is not a catalogue row is an error.
    pub fn deserialize_kind<'de, D: serde::Deserializer<'de>>(
        kind: EntityKind,
        d: D,
    ) -> Result<CatalogueRow, D::Error> {
        Ok(match kind {
            EntityKind::Season => CatalogueRow::Season(Deserialize::deserialize(d)?),
            EntityKind::PromoCode => CatalogueRow::PromoCode(Deserialize::deserialize(d)?),
            EntityKind::TaxRate => CatalogueRow::TaxRate(Deserialize::deserialize(d)?),
            EntityKind::CancellationPolicy => CatalogueRow::CancellationPolicy(Deserialize::deserialize(d)?),
            EntityKind::TourFaq => CatalogueRow::TourFaq(Deserialize::deserialize(d)?),
            EntityKind::TourInclusion => CatalogueRow::TourInclusion(Deserialize::deserialize(d)?),
            EntityKind::GroupDiscount => CatalogueRow::GroupDiscount(Deserialize::deserialize(d)?),
            EntityKind::EarlyBirdDiscount => CatalogueRow::EarlyBirdDiscount(Deserialize::deserialize(d)?),
            other => {
                return Err(serde::de::Error::custom(format!("{} is not a catalogue row", other.as_str())));
            }
        })
    }
}

/// What the desk shows of one tour's pricing catalogue (the tour pricing screen): its seasons,
/// FAQs and inclusions in display order, its own cancellation policy and the default it falls
/// back to, and the taxes that apply to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TourPricingView {
    pub seasons: Vec<Season>,
    pub faqs: Vec<TourFaq>,
    pub inclusions: Vec<TourInclusion>,
    pub own_policy: Option<CancellationPolicyRow>,
    pub default_policy: Option<CancellationPolicyRow>,
    pub taxes: Vec<TaxRate>,
    /// Group discounts by threshold, smallest group first.
    #[serde(default)]
    pub group_discounts: Vec<GroupDiscountRule>,
    /// Early-bird discounts by threshold, shortest notice first.
    #[serde(default)]
    pub early_bird_discounts: Vec<EarlyBirdRule>,
    /// The organization-wide policies a tour may choose (`set_tour_cancellation_policy.v1`),
    /// by name.
    #[serde(default)]
    pub shared_policies: Vec<CancellationPolicyRow>,
    /// The shared policy the tour chose (`Tour::cancellation_policy_id`), if any.
    #[serde(default)]
    pub chosen_policy_id: Option<String>,
}

/// A quote as the desk's booking form asks for it: a departure, lines, and optionally a code
/// and the customer whose earlier uses of it count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteInput {
    pub departure_id: String,
    pub lines: Vec<crate::pricing::LineRequest>,
    #[serde(default)]
    pub promo_code: Option<String>,
    #[serde(default)]
    pub customer_id: Option<String>,
}

/// The pattern of the entity kinds of [`CatalogueRow`], for a `match` that names every kind
/// (so a new kind must be placed) and takes these together: one list, here, of what a
/// catalogue row is.
#[macro_export]
macro_rules! catalogue_kinds {
    () => {
        $crate::protocol::EntityKind::Season
            | $crate::protocol::EntityKind::PromoCode
            | $crate::protocol::EntityKind::TaxRate
            | $crate::protocol::EntityKind::CancellationPolicy
            | $crate::protocol::EntityKind::TourFaq
            | $crate::protocol::EntityKind::TourInclusion
            | $crate::protocol::EntityKind::GroupDiscount
            | $crate::protocol::EntityKind::EarlyBirdDiscount
    };
}

/// The entity kinds of [`CatalogueRow`].
pub fn is_catalogue_kind(kind: EntityKind) -> bool {
    matches!(kind, crate::catalogue_kinds!())
}

/// Everything that prices a tour, from the stored rows a store holds: its tiers, its seasons and
/// the taxes that apply to it (its own and the organization's, active ones, in
/// [`sort_taxes`] order). `None` when the tour has no tier. The desk's store builds its quote
/// here; the server's SQL loads the same rows in the same order, so both price alike.
pub fn pricing_catalog(
    tour_id: &str,
    tiers: &[PricingTier],
    seasons: &[Season],
    taxes: &[TaxRate],
) -> Option<PricingCatalog> {
    let mut catalog = PricingCatalog::from_tiers(tour_id, tiers)?;
    let mut seasons: Vec<&Season> = seasons.iter().filter(|s| s.tour_id == tour_id).collect();
    seasons.sort_by(|a, b| a.id.cmp(&b.id));
    catalog.seasons = seasons.into_iter().map(Season::to_adjustment).collect();
    let mut taxes = taxes.to_vec();
    sort_taxes(&mut taxes);
    catalog.taxes = offer::taxes_for_tour(taxes.iter().map(TaxRate::scoped), tour_id);
    Some(catalog)
}

/// [`pricing_catalog`] with the tour's group and early-bird discounts, in threshold order as
/// the server loads them (thresholds are unique per tour, so the order decides nothing).
pub fn pricing_catalog_with_discounts(
    tour_id: &str,
    tiers: &[PricingTier],
    seasons: &[Season],
    taxes: &[TaxRate],
    groups: &[GroupDiscountRule],
    early_birds: &[EarlyBirdRule],
) -> Option<PricingCatalog> {
    let mut catalog = pricing_catalog(tour_id, tiers, seasons, taxes)?;
    let mut groups: Vec<&GroupDiscountRule> = groups.iter().filter(|g| g.tour_id == tour_id).collect();
    groups.sort_by_key(|g| g.min_participants);
    catalog.group_discounts = groups.into_iter().map(GroupDiscountRule::to_discount).collect();
    let mut early: Vec<&EarlyBirdRule> = early_birds.iter().filter(|e| e.tour_id == tour_id).collect();
    early.sort_by_key(|e| e.min_days_before);
    catalog.early_bird_discounts = early.into_iter().map(EarlyBirdRule::to_discount).collect();
    Some(catalog)
}

/// The policy a tour's bookings are cancelled under, from the stored policies: the policy the
/// tour chose (`Tour::cancellation_policy_id`, set by `set_tour_cancellation_policy.v1` or by
/// saving the tour's own policy), else the tour's own, else the organization's default
/// (`cancellation::policy_for_tour`).
pub fn policy_for_tour(
    tour_id: &str,
    chosen: Option<&str>,
    policies: &[CancellationPolicyRow],
) -> Option<CancellationPolicy> {
    let own = policies.iter().filter(|p| p.tour_id.as_deref() == Some(tour_id)).map(|p| p.id.as_str()).min();
    let pick = chosen.filter(|c| policies.iter().any(|p| p.id == *c)).or(own);
    crate::cancellation::policy_for_tour(pick, policies.iter().map(CancellationPolicyRow::stored))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tax(id: &str, tour: Option<&str>, sort: i32, active: bool) -> TaxRate {
        TaxRate {
            id: id.into(),
            organization_id: "o".into(),
            tour_id: tour.map(Into::into),
            name: format!("tax {id}"),
            rate: Percent::whole(10),
            inclusive: false,
            active,
            sort_order: sort,
        }
    }

    fn tier() -> PricingTier {
        PricingTier { tour_id: "t".into(), ..crate::fixtures::adult_tier() }
    }

    #[test]
    fn the_catalog_takes_the_tours_seasons_and_its_active_taxes_in_order() {
        let season = |id: &str, tour: &str| Season {
            id: id.into(),
            organization_id: "o".into(),
            tour_id: tour.into(),
            name: id.into(),
            start_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            end_date: NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
            adjustment: Adjustment::Percentage(Percent::whole(10)),
            priority: 0,
        };
        let taxes = vec![tax("z", None, 1, true), tax("y", Some("t"), 0, true), tax("x", None, 0, false)];
        let c = pricing_catalog("t", &[tier()], &[season("s2", "t"), season("s1", "t"), season("s3", "u")], &taxes)
            .unwrap();
        assert_eq!(c.seasons.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), vec!["s1", "s2"]);
        assert_eq!(c.taxes.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), vec!["tax y", "tax z"]);
        assert!(pricing_catalog("t", &[], &[], &taxes).is_none());
    }

    #[test]
    fn a_tours_own_policy_wins_over_the_default() {
        let p = |id: &str, tour: Option<&str>, is_default: bool| CancellationPolicyRow {
            id: id.into(),
            organization_id: "o".into(),
            tour_id: tour.map(Into::into),
            name: id.into(),
            description: String::new(),
            rules: vec![],
            is_default,
        };
        let all = vec![p("d", None, true), p("own", Some("t"), false), p("other", None, false)];
        assert_eq!(policy_for_tour("t", None, &all).unwrap().id, "own");
        assert_eq!(policy_for_tour("u", None, &all).unwrap().id, "d");
        assert_eq!(policy_for_tour("u", None, &all[2..]), None);
        // A chosen shared policy wins over the tour's own and the default; a chosen id that is
        // not (or no longer) there falls back as if none was chosen.
        assert_eq!(policy_for_tour("t", Some("other"), &all).unwrap().id, "other");
        assert_eq!(policy_for_tour("u", Some("other"), &all).unwrap().id, "other");
        assert_eq!(policy_for_tour("u", Some("gone"), &all).unwrap().id, "d");
    }
}

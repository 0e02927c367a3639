//! The pricing half of the catalogue: seasons, promotional codes, tax rates, cancellation
//! policies, a tour's FAQs and inclusions. Reference data written by owners and admins (tax
//! rates and the organization's default policy are organization settings); each upsert writes
//! the whole row, so a replay writes nothing new.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{ApplyError, Change, MutationCtx, Mutator, ReadKey, ReadView, Rejection, norm_id, norm_ref, require};
use crate::cancellation::CancellationRule;
use crate::catalogue::{
    CancellationPolicyRow, CatalogueRow, EarlyBirdRule, GroupDiscountRule, InclusionKind, PromotionalCode, Season,
    TaxRate, TourFaq, TourInclusion,
};
use crate::entities::Tour;
use crate::money::Percent;
use crate::pricing::{Adjustment, PromoStatus, normalize_promo_code, with_promo_terms};
use crate::protocol::EntityKind;
use crate::roles::Permission;
use crate::validate::{self, FieldError};

/// A season may raise prices at most tenfold; a lower bound of -100 % keeps a price at 0.
const MAX_SEASON_PERCENT: Percent = Percent::whole(1000);
/// A policy with more rules than this is a typing accident, not a policy.
const MAX_POLICY_RULES: usize = 20;
/// A refund deadline further than a year ahead is none.
const MAX_HOURS_BEFORE: u32 = 365 * 24;
/// How many tours or variants one code may name.
const MAX_TARGETS: usize = 200;

fn row_of(view: &dyn ReadView, kind: EntityKind, id: &str) -> Result<Option<CatalogueRow>, ApplyError> {
    Ok(view.catalogue_row(kind, id)?)
}

fn tour_of(view: &dyn ReadView, field: &str, tour_id: &str) -> Result<Tour, ApplyError> {
    let id = validate::row_ref(field, tour_id)?;
    Ok(view.tour(&id)?.ok_or_else(|| Rejection::not_found("tour", &id))?)
}

/// A row that exists under this id for another tour is another row, not this one to replace.
fn same_tour(existing: Option<&str>, tour_id: Option<&str>, what: &str) -> Result<(), Rejection> {
    if existing != tour_id {
        return Err(Rejection::conflict("id", format!("this {what} belongs to another tour")));
    }
    Ok(())
}

fn put_unless_same(old: Option<CatalogueRow>, new: CatalogueRow) -> Vec<Change> {
    if old.as_ref() == Some(&new) { vec![] } else { vec![Change::PutCatalogueRow(new)] }
}

fn delete_if_there(
    view: &dyn ReadView,
    ctx: &MutationCtx,
    kind: EntityKind,
    id: &str,
) -> Result<Vec<Change>, ApplyError> {
    require(ctx, Permission::ToursWrite, "edit tours")?;
    let id = validate::row_ref("id", id)?;
    // Already gone: a replay, or two desks deleting the same row. Nothing to do either way.
    Ok(match row_of(view, kind, &id)? {
        Some(_) => vec![Change::DeleteCatalogueRow { kind, id }],
        None => vec![],
    })
}

// ---------------------------------------------------------------------------------------------
// Seasons

/// Arguments of `upsert_season.v1`: creates the season or replaces it whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpsertSeasonV1 {
    pub id: String,
    pub tour_id: String,
    pub name: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub adjustment: Adjustment,
    #[serde(default)]
    pub priority: i32,
}

impl Mutator for UpsertSeasonV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let tour_id = norm_ref(&self.tour_id);
        vec![
            ReadKey::Tour(tour_id.clone()),
            ReadKey::PricingCatalog(tour_id),
            ReadKey::CatalogueRow(EntityKind::Season, norm_id(&self.id)),
        ]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::ToursWrite, "edit prices")?;
        let id = validate::id("id", &self.id)?;
        let name = validate::text("name", &self.name, 100)?;
        if self.end_date < self.start_date {
            return Err(FieldError::new("end_date", "must not be before the start date").into());
        }
        match self.adjustment {
            Adjustment::Percentage(p) if p < Percent::from_basis_points(-10_000) || p > MAX_SEASON_PERCENT => {
                return Err(FieldError::new("adjustment", "must be between -100% and 1000%").into());
            }
            Adjustment::Percentage(p) if p == Percent::ZERO => {
                return Err(FieldError::new("adjustment", "a season must change the price").into());
            }
            Adjustment::Fixed(m) if m.amount == 0 => {
                return Err(FieldError::new("adjustment", "a season must change the price").into());
            }
            _ => {}
        }
        let tour = tour_of(view, "tour_id", &self.tour_id)?;
        if let Adjustment::Fixed(m) = self.adjustment
            && let Some(catalog) = view.pricing_catalog(&tour.id)?
            && catalog.currency != m.currency
        {
            return Err(FieldError::new(
                "adjustment",
                format!("the tour is priced in {}, not {}", catalog.currency, m.currency),
            )
            .into());
        }
        let old = row_of(view, EntityKind::Season, &id)?;
        if let Some(CatalogueRow::Season(s)) = &old {
            same_tour(Some(&s.tour_id), Some(&tour.id), "season")?;
        }
        let new = CatalogueRow::Season(Season {
            id,
            organization_id: ctx.organization_id.clone(),
            tour_id: tour.id,
            name,
            start_date: self.start_date,
            end_date: self.end_date,
            adjustment: self.adjustment,
            priority: self.priority,
        });
        Ok(put_unless_same(old, new))
    }
}

/// Arguments of `delete_season.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteSeasonV1 {
    pub id: String,
}

impl Mutator for DeleteSeasonV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::CatalogueRow(EntityKind::Season, norm_ref(&self.id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        delete_if_there(view, ctx, EntityKind::Season, &self.id)
    }
}

// ---------------------------------------------------------------------------------------------
// Promotional codes

with_promo_terms! {
    /// Arguments of `upsert_promo_code.v1`: every field of a code but its use count, which only
    /// bookings move.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct UpsertPromoCodeV1 {
        pub id: String,
    } {
        #[serde(default = "active")]
        pub status: PromoStatus,
    }
}

fn active() -> PromoStatus {
    PromoStatus::Active
}

/// The code as stored: trimmed, uppercase, letters, digits, `-` and `_` only (people read it
/// out over the phone and type it on a website).
fn promo_text(v: &str) -> Result<String, FieldError> {
    let code = normalize_promo_code("code", v)?.ok_or_else(|| FieldError::new("code", "is required"))?;
    if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(FieldError::new("code", "may hold only letters, digits, - and _"));
    }
    Ok(code)
}

fn dedup_refs(field: &str, ids: &[String]) -> Result<Vec<String>, FieldError> {
    if ids.len() > MAX_TARGETS {
        return Err(FieldError::new(field, format!("may name at most {MAX_TARGETS}")));
    }
    let mut out = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let id = validate::row_ref(&format!("{field}[{i}]"), id)?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

impl Mutator for UpsertPromoCodeV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let mut keys = vec![ReadKey::CatalogueRow(EntityKind::PromoCode, norm_id(&self.id))];
        if let Ok(Some(code)) = normalize_promo_code("code", &self.code) {
            keys.push(ReadKey::PromoCode(code));
        }
        keys.extend(self.applicable_tour_ids.iter().map(|t| ReadKey::Tour(norm_ref(t))));
        keys.extend(self.applicable_variant_ids.iter().map(|v| ReadKey::Variant(norm_ref(v))));
        keys
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::ToursWrite, "edit promo codes")?;
        let id = validate::id("id", &self.id)?;
        let code = promo_text(&self.code)?;
        let mut currency = None;
        match self.discount {
            Adjustment::Percentage(p) if p <= Percent::ZERO || p > Percent::HUNDRED => {
                return Err(FieldError::new("discount", "must be more than 0% and at most 100%").into());
            }
            Adjustment::Fixed(m) if m.amount <= 0 => {
                return Err(FieldError::new("discount", "must be more than 0").into());
            }
            Adjustment::Fixed(m) => currency = Some(m.currency),
            Adjustment::Percentage(_) => {}
        }
        if let Some(min) = self.min_booking_value {
            if min.is_negative() {
                return Err(FieldError::new("min_booking_value", "must not be negative").into());
            }
            if currency.is_some_and(|c| c != min.currency) {
                return Err(FieldError::new("min_booking_value", "must be in the currency of the discount").into());
            }
        }
        if let Some(n) = self.max_uses {
            validate::range_u32("max_uses", n, 1, i32::MAX as u32)?;
        }
        if let Some(n) = self.max_uses_per_customer {
            validate::range_u32("max_uses_per_customer", n, 1, i32::MAX as u32)?;
            if self.max_uses.is_some_and(|m| n > m) {
                return Err(FieldError::new("max_uses_per_customer", "must not exceed max_uses").into());
            }
        }
        if self.valid_until <= self.valid_from {
            return Err(FieldError::new("valid_until", "must be after valid_from").into());
        }
        let tour_ids = dedup_refs("applicable_tour_ids", &self.applicable_tour_ids)?;
        let variant_ids = dedup_refs("applicable_variant_ids", &self.applicable_variant_ids)?;
        for (i, t) in tour_ids.iter().enumerate() {
            if view.tour(t)?.is_none() {
                return Err(FieldError::new(format!("applicable_tour_ids[{i}]"), format!("no tour {t}")).into());
            }
        }
        for (i, v) in variant_ids.iter().enumerate() {
            let field = format!("applicable_variant_ids[{i}]");
            let variant = view.variant(v)?.ok_or_else(|| FieldError::new(&field, format!("no variant {v}")))?;
            if !tour_ids.is_empty() && !tour_ids.contains(&variant.tour_id) {
                return Err(FieldError::new(field, "is a variant of a tour the code does not apply to").into());
            }
        }
        if let Some(other) = view.promo_code(&code)?
            && other.id != id
        {
            return Err(Rejection::conflict("code", format!("another code is already {code}")).into());
        }
        let old = row_of(view, EntityKind::PromoCode, &id)?;
        let current_uses = match &old {
            Some(CatalogueRow::PromoCode(p)) => p.current_uses,
            _ => 0,
        };
        if let Some(max) = self.max_uses
            && max < current_uses
        {
            return Err(FieldError::new("max_uses", format!("the code was already used {current_uses} times")).into());
        }
        let new = CatalogueRow::PromoCode(PromotionalCode {
            id,
            organization_id: ctx.organization_id.clone(),
            code,
            discount: self.discount,
            min_booking_value: self.min_booking_value,
            max_uses: self.max_uses,
            max_uses_per_customer: self.max_uses_per_customer,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            applicable_tour_ids: tour_ids,
            applicable_variant_ids: variant_ids,
            current_uses,
            status: self.status,
        });
        Ok(put_unless_same(old, new))
    }
}

/// Arguments of `set_promo_code_status.v1`: pause (`inactive`), resume (`active`) or retire
/// (`expired`) a code without touching the rest of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetPromoCodeStatusV1 {
    pub id: String,
    pub status: PromoStatus,
}

impl Mutator for SetPromoCodeStatusV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::CatalogueRow(EntityKind::PromoCode, norm_ref(&self.id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::ToursWrite, "edit promo codes")?;
        let id = validate::row_ref("id", &self.id)?;
        let Some(CatalogueRow::PromoCode(p)) = row_of(view, EntityKind::PromoCode, &id)? else {
            return Err(Rejection::not_found("promo code", &id).into());
        };
        if p.status == self.status {
            return Ok(vec![]);
        }
        Ok(vec![Change::PutCatalogueRow(CatalogueRow::PromoCode(PromotionalCode { status: self.status, ..p }))])
    }
}

// ---------------------------------------------------------------------------------------------
// Tax rates

/// Arguments of `upsert_tax_rate.v1`: an organization setting (every tour's tax when `tour_id`
/// is absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpsertTaxRateV1 {
    pub id: String,
    #[serde(default)]
    pub tour_id: Option<String>,
    pub name: String,
    pub rate: Percent,
    pub inclusive: bool,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub sort_order: i32,
}

fn yes() -> bool {
    true
}

impl Mutator for UpsertTaxRateV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let mut keys = vec![ReadKey::CatalogueRow(EntityKind::TaxRate, norm_id(&self.id))];
        if let Some(t) = &self.tour_id {
            keys.push(ReadKey::Tour(norm_ref(t)));
        }
        keys
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::SettingsManage, "edit tax rates")?;
        let id = validate::id("id", &self.id)?;
        let name = validate::text("name", &self.name, 100)?;
        if self.rate < Percent::ZERO || self.rate > Percent::HUNDRED {
            return Err(FieldError::new("rate", "must be between 0% and 100%").into());
        }
        let tour_id = match &self.tour_id {
            Some(t) => Some(tour_of(view, "tour_id", t)?.id),
            None => None,
        };
        let old = row_of(view, EntityKind::TaxRate, &id)?;
        let new = CatalogueRow::TaxRate(TaxRate {
            id,
            organization_id: ctx.organization_id.clone(),
            tour_id,
            name,
            rate: self.rate,
            inclusive: self.inclusive,
            active: self.active,
            sort_order: self.sort_order,
        });
        Ok(put_unless_same(old, new))
    }
}

// ---------------------------------------------------------------------------------------------
// Cancellation policies

/// Arguments of `upsert_cancellation_policy.v1`: a tour's own policy (`tour_id`) or an
/// organization-wide one, which may be made the default (the one before it stops being it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpsertCancellationPolicyV1 {
    pub id: String,
    #[serde(default)]
    pub tour_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub rules: Vec<CancellationRule>,
    #[serde(default)]
    pub is_default: bool,
}

fn policy_rules(rules: &[CancellationRule]) -> Result<Vec<CancellationRule>, FieldError> {
    if rules.len() > MAX_POLICY_RULES {
        return Err(FieldError::new("rules", format!("at most {MAX_POLICY_RULES} refund tiers")));
    }
    for (i, r) in rules.iter().enumerate() {
        if r.refund_percentage > 100 {
            return Err(FieldError::new(format!("rules[{i}].refund_percentage"), "must be between 0 and 100"));
        }
        validate::range_u32(&format!("rules[{i}].hours_before_tour"), r.hours_before_tour, 0, MAX_HOURS_BEFORE)?;
        if rules[..i].iter().any(|o| o.hours_before_tour == r.hours_before_tour) {
            return Err(FieldError::new(
                format!("rules[{i}].hours_before_tour"),
                format!("another tier already starts {} hours before", r.hours_before_tour),
            ));
        }
    }
    // Stored longest notice first, as people read a policy.
    let mut sorted = rules.to_vec();
    sorted.sort_by_key(|r| std::cmp::Reverse(r.hours_before_tour));
    Ok(sorted)
}

impl Mutator for UpsertCancellationPolicyV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let mut keys = vec![
            ReadKey::CatalogueRow(EntityKind::CancellationPolicy, norm_id(&self.id)),
            ReadKey::DefaultCancellationPolicy,
        ];
        if let Some(t) = &self.tour_id {
            keys.push(ReadKey::Tour(norm_ref(t)));
            keys.push(ReadKey::OwnCancellationPolicy(norm_ref(t)));
        }
        keys
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        match self.tour_id {
            Some(_) => require(ctx, Permission::ToursWrite, "edit a tour's cancellation policy")?,
            None => require(ctx, Permission::SettingsManage, "edit the organization's cancellation policies")?,
        }
        let id = validate::id("id", &self.id)?;
        let name = validate::text("name", &self.name, 100)?;
        let description = validate::free_text("description", &self.description, 1000)?;
        let rules = policy_rules(&self.rules)?;
        if self.is_default && self.tour_id.is_some() {
            return Err(
                FieldError::new("is_default", "a tour's own policy cannot be the organization's default").into()
            );
        }
        let tour_id = match &self.tour_id {
            Some(t) => Some(tour_of(view, "tour_id", t)?.id),
            None => None,
        };
        let old = row_of(view, EntityKind::CancellationPolicy, &id)?;
        if let Some(CatalogueRow::CancellationPolicy(p)) = &old {
            same_tour(p.tour_id.as_deref(), tour_id.as_deref(), "policy")?;
        }
        if let Some(t) = &tour_id
            && let Some(CatalogueRow::CancellationPolicy(own)) = view.own_cancellation_policy(t)?
            && own.id != id
        {
            return Err(Rejection::conflict(
                "tour_id",
                format!("this tour already has its own policy ({}); edit that one", own.name),
            )
            .into());
        }
        let mut changes = Vec::new();
        // One default: the one before this stops being it, in the same decision.
        if self.is_default
            && let Some(CatalogueRow::CancellationPolicy(prev)) = view.default_cancellation_policy()?
            && prev.id != id
        {
            changes.push(Change::PutCatalogueRow(CatalogueRow::CancellationPolicy(CancellationPolicyRow {
                is_default: false,
                ..prev
            })));
        }
        let new = CatalogueRow::CancellationPolicy(CancellationPolicyRow {
            id,
            organization_id: ctx.organization_id.clone(),
            tour_id,
            name,
            description,
            rules,
            is_default: self.is_default,
        });
        changes.extend(put_unless_same(old, new));
        Ok(changes)
    }
}

// ---------------------------------------------------------------------------------------------
// FAQs and inclusions

/// Arguments of `upsert_tour_faq.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpsertTourFaqV1 {
    pub id: String,
    pub tour_id: String,
    pub question: String,
    pub answer: String,
    #[serde(default)]
    pub sort_order: i32,
    #[serde(default = "yes")]
    pub is_published: bool,
}

impl Mutator for UpsertTourFaqV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::Tour(norm_ref(&self.tour_id)), ReadKey::CatalogueRow(EntityKind::TourFaq, norm_id(&self.id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::ToursWrite, "edit tours")?;
        let id = validate::id("id", &self.id)?;
        let question = validate::text("question", &self.question, 500)?;
        let answer = validate::free_text("answer", &self.answer, 5000)?;
        if answer.is_empty() {
            return Err(FieldError::new("answer", "is required").into());
        }
        let tour = tour_of(view, "tour_id", &self.tour_id)?;
        let old = row_of(view, EntityKind::TourFaq, &id)?;
        if let Some(CatalogueRow::TourFaq(f)) = &old {
            same_tour(Some(&f.tour_id), Some(&tour.id), "question")?;
        }
        let new = CatalogueRow::TourFaq(TourFaq {
            id,
            organization_id: ctx.organization_id.clone(),
            tour_id: tour.id,
            question,
            answer,
            sort_order: self.sort_order,
            is_published: self.is_published,
        });
        Ok(put_unless_same(old, new))
    }
}

/// Arguments of `delete_tour_faq.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteTourFaqV1 {
    pub id: String,
}

impl Mutator for DeleteTourFaqV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::CatalogueRow(EntityKind::TourFaq, norm_ref(&self.id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        delete_if_there(view, ctx, EntityKind::TourFaq, &self.id)
    }
}

/// Arguments of `upsert_tour_inclusion.v1`: one line of "what's included" or "not included".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpsertTourInclusionV1 {
    pub id: String,
    pub tour_id: String,
    pub kind: InclusionKind,
    pub text: String,
    #[serde(default)]
    pub icon: Option<String>,
    #[serde(default)]
    pub sort_order: i32,
}

impl Mutator for UpsertTourInclusionV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![
            ReadKey::Tour(norm_ref(&self.tour_id)),
            ReadKey::CatalogueRow(EntityKind::TourInclusion, norm_id(&self.id)),
        ]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::ToursWrite, "edit tours")?;
        let id = validate::id("id", &self.id)?;
        let text = validate::text("text", &self.text, 300)?;
        let icon = validate::opt_text("icon", self.icon.as_deref(), 50)?;
        let tour = tour_of(view, "tour_id", &self.tour_id)?;
        let old = row_of(view, EntityKind::TourInclusion, &id)?;
        if let Some(CatalogueRow::TourInclusion(f)) = &old {
            same_tour(Some(&f.tour_id), Some(&tour.id), "line")?;
        }
        let new = CatalogueRow::TourInclusion(TourInclusion {
            id,
            organization_id: ctx.organization_id.clone(),
            tour_id: tour.id,
            kind: self.kind,
            text,
            icon,
            sort_order: self.sort_order,
        });
        Ok(put_unless_same(old, new))
    }
}

/// Arguments of `delete_tour_inclusion.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteTourInclusionV1 {
    pub id: String,
}

impl Mutator for DeleteTourInclusionV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::CatalogueRow(EntityKind::TourInclusion, norm_ref(&self.id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        delete_if_there(view, ctx, EntityKind::TourInclusion, &self.id)
    }
}

/// How many lines one reorder may carry: more than any tour page shows.
const MAX_REORDER: usize = 200;

/// Arguments of `reorder_tour_faqs.v1` and `reorder_tour_inclusions.v1`: the tour's rows in the
/// order they are to be shown. Each named row gets its position as its sort order; a row the
/// list leaves out keeps its own (a desk that has not yet seen a new row cannot name it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReorderTourRowsArgs {
    pub tour_id: String,
    pub ids: Vec<String>,
}

fn reorder_reads(args: &ReorderTourRowsArgs, kind: EntityKind) -> Vec<ReadKey> {
    let mut keys = vec![ReadKey::Tour(norm_ref(&args.tour_id))];
    keys.extend(args.ids.iter().take(MAX_REORDER).map(|id| ReadKey::CatalogueRow(kind, norm_ref(id))));
    keys
}

fn reorder(
    args: &ReorderTourRowsArgs,
    view: &dyn ReadView,
    ctx: &MutationCtx,
    kind: EntityKind,
) -> Result<Vec<Change>, ApplyError> {
    require(ctx, Permission::ToursWrite, "edit tours")?;
    if args.ids.is_empty() {
        return Err(FieldError::new("ids", "name at least one line").into());
    }
    if args.ids.len() > MAX_REORDER {
        return Err(FieldError::new("ids", format!("at most {MAX_REORDER} lines at once")).into());
    }
    let tour = tour_of(view, "tour_id", &args.tour_id)?;
    let mut seen = std::collections::HashSet::new();
    let mut changes = Vec::new();
    for (pos, raw) in args.ids.iter().enumerate() {
        let field = format!("ids[{pos}]");
        let id = validate::row_ref(&field, raw)?;
        if !seen.insert(id.clone()) {
            return Err(FieldError::new(field, "is named twice").into());
        }
        let order = i32::try_from(pos).map_err(|_| FieldError::new(field.clone(), "too many lines"))?;
        let row = row_of(view, kind, &id)?;
        let new = match row.clone() {
            Some(CatalogueRow::TourFaq(f)) if f.tour_id == tour.id => {
                CatalogueRow::TourFaq(TourFaq { sort_order: order, ..f })
            }
            Some(CatalogueRow::TourInclusion(i)) if i.tour_id == tour.id => {
                CatalogueRow::TourInclusion(TourInclusion { sort_order: order, ..i })
            }
            _ => return Err(FieldError::new(field, "is not a line of this tour").into()),
        };
        changes.extend(put_unless_same(row, new));
    }
    Ok(changes)
}

/// Arguments of `reorder_tour_faqs.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReorderTourFaqsV1(pub ReorderTourRowsArgs);

impl Mutator for ReorderTourFaqsV1 {
    fn reads(&self) -> Vec<ReadKey> {
        reorder_reads(&self.0, EntityKind::TourFaq)
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        reorder(&self.0, view, ctx, EntityKind::TourFaq)
    }
}

/// Arguments of `reorder_tour_inclusions.v1` (inclusions and exclusions share one order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReorderTourInclusionsV1(pub ReorderTourRowsArgs);

impl Mutator for ReorderTourInclusionsV1 {
    fn reads(&self) -> Vec<ReadKey> {
        reorder_reads(&self.0, EntityKind::TourInclusion)
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        reorder(&self.0, view, ctx, EntityKind::TourInclusion)
    }
}

// ---------------------------------------------------------------------------------------------
// Group and early-bird discounts

/// The largest group a group discount may start at: more than any departure seats.
const MAX_GROUP_THRESHOLD: u32 = 1000;
/// The longest notice an early-bird discount may ask for: two years.
const MAX_EARLY_BIRD_DAYS: u32 = 730;

/// Which automatic discount a rule is: both are a threshold and an adjustment on one tour,
/// validated and stored alike.
#[derive(Debug, Clone, Copy)]
enum AutoDiscount {
    Group,
    EarlyBird,
}

impl AutoDiscount {
    fn kind(self) -> EntityKind {
        match self {
            AutoDiscount::Group => EntityKind::GroupDiscount,
            AutoDiscount::EarlyBird => EntityKind::EarlyBirdDiscount,
        }
    }

    /// The threshold's field, as the arguments and the rows name it.
    fn field(self) -> &'static str {
        match self {
            AutoDiscount::Group => "min_participants",
            AutoDiscount::EarlyBird => "min_days_before",
        }
    }

    fn bounds(self) -> (u32, u32) {
        match self {
            // A group of one is every booking: that is a price, not a discount.
            AutoDiscount::Group => (2, MAX_GROUP_THRESHOLD),
            AutoDiscount::EarlyBird => (1, MAX_EARLY_BIRD_DAYS),
        }
    }

    fn clash(self, threshold: u32) -> String {
        match self {
            AutoDiscount::Group => format!("another group discount already starts at {threshold} participants"),
            AutoDiscount::EarlyBird => format!("another early-bird discount already starts {threshold} days before"),
        }
    }

    /// The thresholds of the tour's rules of this kind, from its price list.
    fn thresholds(self, catalog: &crate::pricing::PricingCatalog) -> Vec<u32> {
        match self {
            AutoDiscount::Group => catalog.group_discounts.iter().map(|g| g.min_participants).collect(),
            AutoDiscount::EarlyBird => catalog.early_bird_discounts.iter().map(|e| e.min_days_before).collect(),
        }
    }

    /// `(tour, threshold)` of a stored row of this kind.
    fn of_row(self, row: &CatalogueRow) -> Option<(&str, u32)> {
        match (self, row) {
            (AutoDiscount::Group, CatalogueRow::GroupDiscount(g)) => Some((&g.tour_id, g.min_participants)),
            (AutoDiscount::EarlyBird, CatalogueRow::EarlyBirdDiscount(e)) => Some((&e.tour_id, e.min_days_before)),
            _ => None,
        }
    }
}

/// The arguments both upserts share.
struct AutoDiscountArgs<'a> {
    id: &'a str,
    tour_id: &'a str,
    threshold: u32,
    discount: Adjustment,
}

fn auto_discount_reads(auto: AutoDiscount, a: &AutoDiscountArgs<'_>) -> Vec<ReadKey> {
    let tour_id = norm_ref(a.tour_id);
    vec![
        ReadKey::Tour(tour_id.clone()),
        ReadKey::PricingCatalog(tour_id),
        ReadKey::CatalogueRow(auto.kind(), norm_id(a.id)),
    ]
}

/// Validates and builds one group or early-bird rule: a threshold in range and not taken by
/// another rule of the tour, a discount of more than 0 and at most 100 % (or a positive amount
/// in the tour's currency).
fn upsert_auto_discount(
    auto: AutoDiscount,
    a: &AutoDiscountArgs<'_>,
    view: &dyn ReadView,
    ctx: &MutationCtx,
) -> Result<Vec<Change>, ApplyError> {
    require(ctx, Permission::ToursWrite, "edit prices")?;
    let id = validate::id("id", a.id)?;
    let (min, max) = auto.bounds();
    let threshold = validate::range_u32(auto.field(), a.threshold, min, max)?;
    match a.discount {
        Adjustment::Percentage(p) if p <= Percent::ZERO || p > Percent::HUNDRED => {
            return Err(FieldError::new("discount", "must be more than 0% and at most 100%").into());
        }
        Adjustment::Fixed(m) if m.amount <= 0 => {
            return Err(FieldError::new("discount", "must be more than 0").into());
        }
        _ => {}
    }
    let tour = tour_of(view, "tour_id", a.tour_id)?;
    let catalog = view.pricing_catalog(&tour.id)?;
    if let Adjustment::Fixed(m) = a.discount
        && let Some(catalog) = &catalog
        && catalog.currency != m.currency
    {
        return Err(FieldError::new(
            "discount",
            format!("the tour is priced in {}, not {}", catalog.currency, m.currency),
        )
        .into());
    }
    let old = row_of(view, auto.kind(), &id)?;
    let old_threshold = match old.as_ref().and_then(|r| auto.of_row(r)) {
        Some((old_tour, t)) => {
            same_tour(Some(old_tour), Some(&tour.id), "discount")?;
            Some(t)
        }
        None => None,
    };
    // Thresholds are unique per tour (V2's constraint): which of two rules at the same size
    // applied would depend on load order. This rule's own threshold is its own to keep.
    if old_threshold != Some(threshold) && catalog.as_ref().is_some_and(|c| auto.thresholds(c).contains(&threshold)) {
        return Err(Rejection::conflict(auto.field(), auto.clash(threshold)).into());
    }
    let organization_id = ctx.organization_id.clone();
    let new = match auto {
        AutoDiscount::Group => CatalogueRow::GroupDiscount(GroupDiscountRule {
            id,
            organization_id,
            tour_id: tour.id,
            min_participants: threshold,
            discount: a.discount,
        }),
        AutoDiscount::EarlyBird => CatalogueRow::EarlyBirdDiscount(EarlyBirdRule {
            id,
            organization_id,
            tour_id: tour.id,
            min_days_before: threshold,
            discount: a.discount,
        }),
    };
    Ok(put_unless_same(old, new))
}

/// Arguments of `upsert_group_discount.v1`: a tour's discount for bookings of at least
/// `min_participants` participants, created or replaced whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpsertGroupDiscountV1 {
    pub id: String,
    pub tour_id: String,
    pub min_participants: u32,
    pub discount: Adjustment,
}

impl UpsertGroupDiscountV1 {
    fn args(&self) -> AutoDiscountArgs<'_> {
        AutoDiscountArgs {
            id: &self.id,
            tour_id: &self.tour_id,
            threshold: self.min_participants,
            discount: self.discount,
        }
    }
}

impl Mutator for UpsertGroupDiscountV1 {
    fn reads(&self) -> Vec<ReadKey> {
        auto_discount_reads(AutoDiscount::Group, &self.args())
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        upsert_auto_discount(AutoDiscount::Group, &self.args(), view, ctx)
    }
}

/// Arguments of `upsert_early_bird_discount.v1`: a tour's discount for bookings made at least
/// `min_days_before` whole days before the departure, created or replaced whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpsertEarlyBirdDiscountV1 {
    pub id: String,
    pub tour_id: String,
    pub min_days_before: u32,
    pub discount: Adjustment,
}

impl UpsertEarlyBirdDiscountV1 {
    fn args(&self) -> AutoDiscountArgs<'_> {
        AutoDiscountArgs {
            id: &self.id,
            tour_id: &self.tour_id,
            threshold: self.min_days_before,
            discount: self.discount,
        }
    }
}

impl Mutator for UpsertEarlyBirdDiscountV1 {
    fn reads(&self) -> Vec<ReadKey> {
        auto_discount_reads(AutoDiscount::EarlyBird, &self.args())
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        upsert_auto_discount(AutoDiscount::EarlyBird, &self.args(), view, ctx)
    }
}

/// Arguments of `delete_group_discount.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteGroupDiscountV1 {
    pub id: String,
}

impl Mutator for DeleteGroupDiscountV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::CatalogueRow(EntityKind::GroupDiscount, norm_ref(&self.id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        delete_if_there(view, ctx, EntityKind::GroupDiscount, &self.id)
    }
}

/// Arguments of `delete_early_bird_discount.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteEarlyBirdDiscountV1 {
    pub id: String,
}

impl Mutator for DeleteEarlyBirdDiscountV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::CatalogueRow(EntityKind::EarlyBirdDiscount, norm_ref(&self.id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        delete_if_there(view, ctx, EntityKind::EarlyBirdDiscount, &self.id)
    }
}

// ---------------------------------------------------------------------------------------------
// A tour's choice of a shared cancellation policy

/// Arguments of `set_tour_cancellation_policy.v1`: the organization-wide policy a tour's
/// bookings are cancelled under, or `None` for the tour's own policy, else the organization's
/// default (`catalogue::policy_for_tour`). A mutation of its own rather than a new
/// `update_tour` version: the choice is a link to another row, checked against it, and two
/// desks editing a tour's text and its policy do not overwrite each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetTourCancellationPolicyV1 {
    pub tour_id: String,
    pub cancellation_policy_id: Option<String>,
}

impl Mutator for SetTourCancellationPolicyV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let mut keys = vec![ReadKey::Tour(norm_ref(&self.tour_id))];
        if let Some(p) = &self.cancellation_policy_id {
            keys.push(ReadKey::CatalogueRow(EntityKind::CancellationPolicy, norm_ref(p)));
        }
        keys
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::ToursWrite, "choose a tour's cancellation policy")?;
        const FIELD: &str = "cancellation_policy_id";
        let policy_id = match &self.cancellation_policy_id {
            Some(p) => Some(validate::row_ref(FIELD, p)?),
            None => None,
        };
        let tour = tour_of(view, "tour_id", &self.tour_id)?;
        if let Some(p) = &policy_id {
            let Some(CatalogueRow::CancellationPolicy(policy)) = row_of(view, EntityKind::CancellationPolicy, p)?
            else {
                return Err(FieldError::new(FIELD, format!("no cancellation policy {p}")).into());
            };
            if policy.tour_id.as_deref().is_some_and(|t| t != tour.id) {
                return Err(FieldError::new(FIELD, "is another tour's own policy").into());
            }
        }
        if tour.cancellation_policy_id == policy_id {
            return Ok(vec![]);
        }
        Ok(vec![Change::PutTour(Tour { cancellation_policy_id: policy_id, ..tour })])
    }
}

#[cfg(test)]
mod tests;

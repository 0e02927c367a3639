//! Tours, their variants and price tiers: reference data, written by owners and admins.

use serde::{Deserialize, Serialize};

use super::{ApplyError, Change, MutationCtx, Mutator, ReadKey, ReadView, Rejection, norm_id, norm_ref, require};
use crate::entities::{PricingTier, Tour, TourVariant, as_is, with_tier_limits, with_tier_terms, with_tour_details};
use crate::pricing::PricingCatalog;
use crate::roles::Permission;
use crate::status::{StateMachine, TourCategory, TourStatus};
use crate::validate::{self, FieldError};

const MAX_DURATION_MINUTES: u32 = 7 * 24 * 60;
const MAX_CAPACITY: u32 = 10_000;
const MAX_AGE: u32 = 120;

fn short_description(v: &str) -> Result<String, FieldError> {
    validate::free_text("short_description", v, 500)
}

fn full_description(v: &str) -> Result<String, FieldError> {
    validate::free_text("full_description", v, 20_000)
}

fn instructions(v: &str) -> Result<String, FieldError> {
    validate::free_text("meeting_point_instructions", v, 1000)
}

fn accessibility(v: &str) -> Result<String, FieldError> {
    validate::free_text("accessibility_info", v, 2000)
}

fn meeting_point(v: &str) -> Result<String, FieldError> {
    validate::free_text("meeting_point", v, 500)
}

const MAX_LIST_ITEMS: usize = 30;

/// A list of short texts (tags, highlights, what to bring): each item trimmed and required, at
/// most `max` characters, no item twice (case-insensitive; the first spelling stays). An item's
/// error names it: `highlights[2]`.
fn text_list(field: &str, items: &[String], max: usize) -> Result<Vec<String>, FieldError> {
    if items.len() > MAX_LIST_ITEMS {
        return Err(FieldError::new(field, format!("must have at most {MAX_LIST_ITEMS} entries")));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let v = validate::text(&format!("{field}[{i}]"), item, max)?;
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&v)) {
            out.push(v);
        }
    }
    Ok(out)
}

fn tags(items: &[String]) -> Result<Vec<String>, FieldError> {
    let lowered: Vec<String> = items.iter().map(|t| t.to_lowercase()).collect();
    text_list("tags", &lowered, 50)
}

fn languages(items: &[String]) -> Result<Vec<String>, FieldError> {
    if items.len() > MAX_LIST_ITEMS {
        return Err(FieldError::new("languages", format!("must have at most {MAX_LIST_ITEMS} entries")));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for (i, l) in items.iter().enumerate() {
        let v = validate::language(&format!("languages[{i}]"), l)?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// The meeting point's position: both coordinates or neither, latitude within ±90°, longitude
/// within ±180°.
fn coordinates(lat: Option<f64>, lng: Option<f64>) -> Result<(Option<f64>, Option<f64>), FieldError> {
    match (lat, lng) {
        (None, None) => Ok((None, None)),
        (Some(_), None) => Err(FieldError::new("meeting_point_lng", "is required when a latitude is given")),
        (None, Some(_)) => Err(FieldError::new("meeting_point_lat", "is required when a longitude is given")),
        (Some(la), Some(lo)) => {
            if !la.is_finite() || !(-90.0..=90.0).contains(&la) {
                return Err(FieldError::new("meeting_point_lat", "must be between -90 and 90 degrees"));
            }
            if !lo.is_finite() || !(-180.0..=180.0).contains(&lo) {
                return Err(FieldError::new("meeting_point_lng", "must be between -180 and 180 degrees"));
            }
            Ok((Some(la), Some(lo)))
        }
    }
}

/// Why `tour` cannot be published with these variants and prices, or `None` when it can: it
/// needs an active variant, and a price tier that one of its active variants sells (a tier
/// for the whole tour, or one of an active variant). The desk shows the same sentence before
/// the publish button is pressed.
pub fn publish_refusal(variants: &[TourVariant], tiers: &[PricingTier]) -> Option<String> {
    let active: Vec<&TourVariant> = variants.iter().filter(|v| v.active).collect();
    if active.is_empty() {
        return Some("a tour needs at least one active variant before it can be published".into());
    }
    let sellable = tiers.iter().any(|t| match &t.variant_id {
        None => true,
        Some(v) => active.iter().any(|a| &a.id == v),
    });
    if !sellable {
        return Some("a tour needs at least one price tier for an active variant before it can be published".into());
    }
    None
}

/// Why `variant_id` cannot be deactivated, or `None` when it can: a published tour keeps at
/// least one active variant, or it would be on sale with nothing to sell. A draft (or archived)
/// tour may lose them all. `variants` are every variant of the tour, the one edited included.
/// The same rule as [`publish_refusal`], kept once it holds; the desk and the server share it.
pub fn deactivate_refusal(tour: &Tour, variants: &[TourVariant], variant_id: &str) -> Option<String> {
    if tour.status != TourStatus::Active {
        return None;
    }
    let others_active = variants.iter().any(|v| v.active && v.id != variant_id);
    if others_active {
        return None;
    }
    Some(format!(
        "{} is the last active variant of the published tour {}; activate another variant or unpublish the tour first",
        variants.iter().find(|v| v.id == variant_id).map_or(variant_id, |v| v.name.as_str()),
        tour.name
    ))
}

fn catalog_tiers(tour_id: &str, catalog: Option<PricingCatalog>) -> Vec<PricingTier> {
    // The publish rule only asks which variants the tiers are for; the catalog's tiers carry it.
    catalog
        .map(|c| {
            c.tiers
                .into_iter()
                .map(|t| PricingTier {
                    id: t.id,
                    organization_id: String::new(),
                    tour_id: tour_id.to_string(),
                    variant_id: t.variant_id,
                    name: t.name,
                    base_price: t.base_price,
                    min_age: t.min_age,
                    max_age: t.max_age,
                    is_default: t.is_default,
                    sort_order: t.sort_order,
                    valid_from: t.valid_from,
                    valid_until: t.valid_until,
                    min_per_booking: t.min_per_booking,
                    max_per_booking: t.max_per_booking,
                })
                .collect()
        })
        .unwrap_or_default()
}

with_tour_details! {
    /// Arguments of `create_tour.v1`. The id is made by the client so the optimistic row and the
    /// server's row are the same row.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct CreateTourV1 {
        pub id: String,
        pub name: String,
        #[serde(default)]
        pub slug: Option<String>,
        #[serde(default)]
        pub short_description: String,
        pub duration_minutes: u32,
        pub default_capacity: u32,
        #[serde(default = "default_min_participants")]
        pub min_participants: u32,
        pub category: TourCategory,
        pub timezone: String,
        #[serde(default)]
        pub meeting_point: String,
    }
}

fn default_min_participants() -> u32 {
    1
}

impl Mutator for CreateTourV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let slug = self.slug.clone().unwrap_or_else(|| validate::slugify(&self.name));
        vec![ReadKey::Tour(norm_id(&self.id)), ReadKey::TourSlug(slug)]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        let a = self;
        require(ctx, Permission::ToursWrite, "create tours")?;
        let id = validate::id("id", &a.id)?;
        let name = validate::text("name", &a.name, 200)?;
        let slug = match &a.slug {
            Some(s) => validate::slug("slug", s)?,
            None => validate::slugify(&name),
        };
        let short_description = short_description(&a.short_description)?;
        let duration_minutes = validate::range_u32("duration_minutes", a.duration_minutes, 1, MAX_DURATION_MINUTES)?;
        let default_capacity = validate::range_u32("default_capacity", a.default_capacity, 1, MAX_CAPACITY)?;
        let min_participants = validate::range_u32("min_participants", a.min_participants, 1, default_capacity)?;
        let tz = validate::timezone("timezone", &a.timezone)?;
        let meeting_point = meeting_point(&a.meeting_point)?;
        let full_description = full_description(&a.full_description)?;
        let meeting_point_address = validate::free_text("meeting_point_address", &a.meeting_point_address, 500)?;
        let (meeting_point_lat, meeting_point_lng) = coordinates(a.meeting_point_lat, a.meeting_point_lng)?;
        let meeting_point_instructions = instructions(&a.meeting_point_instructions)?;
        let tags = tags(&a.tags)?;
        let languages = languages(&a.languages)?;
        let accessibility_info = accessibility(&a.accessibility_info)?;
        let what_to_bring = text_list("what_to_bring", &a.what_to_bring, 200)?;
        let highlights = text_list("highlights", &a.highlights, 200)?;

        if view.tour(&id)?.is_some() {
            return Err(Rejection::conflict("id", format!("tour {id} already exists")).into());
        }
        if let Some(other) = view.tour_by_slug(&slug)? {
            return Err(Rejection::conflict(
                "slug",
                format!("another tour ({}) already uses the URL name {slug:?}", other.name),
            )
            .into());
        }
        Ok(vec![Change::PutTour(Tour {
            id,
            organization_id: ctx.organization_id.clone(),
            name,
            slug,
            short_description,
            duration_minutes,
            default_capacity,
            min_participants,
            category: a.category,
            timezone: tz.name().to_string(),
            meeting_point,
            // A tour made on a desk starts as a draft: it is not sold until someone publishes it.
            status: TourStatus::Draft,
            cancellation_policy_id: None,
            full_description,
            meeting_point_address,
            meeting_point_lat,
            meeting_point_lng,
            meeting_point_instructions,
            tags,
            languages,
            accessibility_info,
            what_to_bring,
            highlights,
        })])
    }
}

/// Arguments of `update_tour.v1`: absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateTourV1 {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_capacity: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_participants: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<TourCategory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_point: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TourStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_point_address: Option<String>,
    /// With `meeting_point_lng`: absent keeps the position, `null` clears it.
    #[serde(default, deserialize_with = "super::double_option", skip_serializing_if = "Option::is_none")]
    pub meeting_point_lat: Option<Option<f64>>,
    #[serde(default, deserialize_with = "super::double_option", skip_serializing_if = "Option::is_none")]
    pub meeting_point_lng: Option<Option<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting_point_instructions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accessibility_info: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what_to_bring: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highlights: Option<Vec<String>>,
}

impl UpdateTourV1 {
    /// Publishing (any move to `active`) consults the tour's variants and prices.
    fn publishes(&self) -> bool {
        self.status == Some(TourStatus::Active)
    }
}

impl Mutator for UpdateTourV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let id = norm_ref(&self.id);
        let mut keys = vec![ReadKey::Tour(id.clone())];
        if let Some(s) = &self.slug {
            keys.push(ReadKey::TourSlug(s.clone()));
        }
        if self.publishes() {
            keys.push(ReadKey::VariantsOfTour(id.clone()));
            keys.push(ReadKey::PricingCatalog(id));
        }
        keys
    }

    /// The variants and prices a publish consults are read, not written: locking them would
    /// queue every booking of the tour behind an edit of its details.
    fn locks(&self, key: &ReadKey) -> bool {
        !matches!(key, ReadKey::VariantsOfTour(_) | ReadKey::PricingCatalog(_))
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::ToursWrite, "edit tours")?;
        let id = validate::row_ref("id", &self.id)?;
        let old = view.tour(&id)?.ok_or_else(|| Rejection::not_found("tour", &id))?;
        let mut t = old.clone();
        if let Some(v) = &self.name {
            t.name = validate::text("name", v, 200)?;
        }
        if let Some(v) = &self.short_description {
            t.short_description = short_description(v)?;
        }
        if let Some(v) = self.duration_minutes {
            t.duration_minutes = validate::range_u32("duration_minutes", v, 1, MAX_DURATION_MINUTES)?;
        }
        if let Some(v) = self.default_capacity {
            t.default_capacity = validate::range_u32("default_capacity", v, 1, MAX_CAPACITY)?;
        }
        if let Some(v) = self.min_participants {
            t.min_participants = v;
        }
        // Checked on the merged row: lowering the capacity alone can break this too.
        validate::range_u32("min_participants", t.min_participants, 1, t.default_capacity)?;
        if let Some(v) = self.category {
            t.category = v;
        }
        if let Some(v) = &self.timezone {
            t.timezone = validate::timezone("timezone", v)?.name().to_string();
        }
        if let Some(v) = &self.meeting_point {
            t.meeting_point = meeting_point(v)?;
        }
        if let Some(v) = &self.full_description {
            t.full_description = full_description(v)?;
        }
        if let Some(v) = &self.meeting_point_address {
            t.meeting_point_address = validate::free_text("meeting_point_address", v, 500)?;
        }
        let lat = self.meeting_point_lat.unwrap_or(t.meeting_point_lat);
        let lng = self.meeting_point_lng.unwrap_or(t.meeting_point_lng);
        (t.meeting_point_lat, t.meeting_point_lng) = coordinates(lat, lng)?;
        if let Some(v) = &self.meeting_point_instructions {
            t.meeting_point_instructions = instructions(v)?;
        }
        if let Some(v) = &self.tags {
            t.tags = tags(v)?;
        }
        if let Some(v) = &self.languages {
            t.languages = languages(v)?;
        }
        if let Some(v) = &self.accessibility_info {
            t.accessibility_info = accessibility(v)?;
        }
        if let Some(v) = &self.what_to_bring {
            t.what_to_bring = text_list("what_to_bring", v, 200)?;
        }
        if let Some(v) = &self.highlights {
            t.highlights = text_list("highlights", v, 200)?;
        }
        if let Some(to) = self.status {
            t.status = t.status.transition(to)?;
            if to == TourStatus::Active && old.status != TourStatus::Active {
                let variants = view.variants_of_tour(&id)?;
                let tiers = catalog_tiers(&id, view.pricing_catalog(&id)?);
                if let Some(why) = publish_refusal(&variants, &tiers) {
                    return Err(Rejection::conflict("status", why).into());
                }
            }
        }
        if let Some(s) = &self.slug {
            t.slug = validate::slug("slug", s)?;
            if let Some(other) = view.tour_by_slug(&t.slug)?
                && other.id != t.id
            {
                return Err(Rejection::conflict(
                    "slug",
                    format!("another tour ({}) already uses the URL name {:?}", other.name, t.slug),
                )
                .into());
            }
        }
        Ok(if t == old { vec![] } else { vec![Change::PutTour(t)] })
    }
}

/// Arguments of `create_variant.v1`. `capacity` and `duration_minutes` override the tour's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateVariantV1 {
    pub id: String,
    pub tour_id: String,
    pub name: String,
    #[serde(default)]
    pub capacity: Option<u32>,
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    #[serde(default = "default_true")]
    pub active: bool,
    #[serde(default)]
    pub sort_order: i32,
}

fn default_true() -> bool {
    true
}

fn variant_overrides(capacity: Option<u32>, duration: Option<u32>) -> Result<(), FieldError> {
    if let Some(c) = capacity {
        validate::range_u32("capacity", c, 1, MAX_CAPACITY)?;
    }
    if let Some(d) = duration {
        validate::range_u32("duration_minutes", d, 1, MAX_DURATION_MINUTES)?;
    }
    Ok(())
}

impl Mutator for CreateVariantV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::Tour(norm_ref(&self.tour_id)), ReadKey::Variant(norm_id(&self.id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::ToursWrite, "create tour variants")?;
        let id = validate::id("id", &self.id)?;
        let tour_id = validate::row_ref("tour_id", &self.tour_id)?;
        let name = validate::text("name", &self.name, 200)?;
        variant_overrides(self.capacity, self.duration_minutes)?;
        let tour = view.tour(&tour_id)?.ok_or_else(|| Rejection::not_found("tour", &tour_id))?;
        if tour.status == TourStatus::Archived {
            return Err(Rejection::conflict("tour_id", format!("tour {} is archived", tour.name)).into());
        }
        if view.variant(&id)?.is_some() {
            return Err(Rejection::conflict("id", format!("variant {id} already exists")).into());
        }
        Ok(vec![Change::PutVariant(TourVariant {
            id,
            organization_id: ctx.organization_id.clone(),
            tour_id,
            name,
            capacity: self.capacity,
            duration_minutes: self.duration_minutes,
            active: self.active,
            sort_order: self.sort_order,
        })])
    }
}

/// Arguments of `update_variant.v1`. For the overrides, an absent field stays, `null` goes
/// back to the tour's default. Existing departures keep their own capacity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateVariantV1 {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::double_option", skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Option<u32>>,
    #[serde(default, deserialize_with = "super::double_option", skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<Option<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<i32>,
}

impl Mutator for UpdateVariantV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let id = norm_ref(&self.id);
        let mut keys = vec![ReadKey::Variant(id.clone())];
        // Deactivating consults the tour and its other variants (`deactivate_refusal`).
        if self.active == Some(false) {
            keys.push(ReadKey::TourOfVariant(id.clone()));
            keys.push(ReadKey::VariantsBeside(id));
        }
        keys
    }

    /// The tour's status is consulted, not written. The sibling variants are locked: two desks
    /// deactivating the last two active variants at once must not both win.
    fn locks(&self, key: &ReadKey) -> bool {
        !matches!(key, ReadKey::TourOfVariant(_))
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::ToursWrite, "edit tour variants")?;
        let id = validate::row_ref("id", &self.id)?;
        let old = view.variant(&id)?.ok_or_else(|| Rejection::not_found("variant", &id))?;
        let mut v = old.clone();
        if let Some(n) = &self.name {
            v.name = validate::text("name", n, 200)?;
        }
        if let Some(c) = self.capacity {
            v.capacity = c;
        }
        if let Some(d) = self.duration_minutes {
            v.duration_minutes = d;
        }
        variant_overrides(v.capacity, v.duration_minutes)?;
        if let Some(a) = self.active {
            if old.active && !a {
                let tour = view.tour_of_variant(&id)?.ok_or_else(|| Rejection::not_found("tour", &old.tour_id))?;
                let siblings = view.variants_beside(&id)?;
                if let Some(why) = deactivate_refusal(&tour, &siblings, &id) {
                    return Err(Rejection::conflict("active", why).into());
                }
            }
            v.active = a;
        }
        if let Some(s) = self.sort_order {
            v.sort_order = s;
        }
        Ok(if v == old { vec![] } else { vec![Change::PutVariant(v)] })
    }
}

with_tier_terms! { as_is!
    /// Arguments of `upsert_pricing_tier.v1`: creates the tier or replaces what a desk of that
    /// version knew of it. It predates validity dates and per-booking limits, so replaying one
    /// written by an older desk keeps those of the stored tier rather than clearing them.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct UpsertPricingTierV1 {
        pub id: String,
    }
}

impl UpsertPricingTierV1 {
    fn as_v2(&self, kept: Option<&PricingTier>) -> UpsertPricingTierV2 {
        UpsertPricingTierV2 {
            id: self.id.clone(),
            tour_id: self.tour_id.clone(),
            variant_id: self.variant_id.clone(),
            name: self.name.clone(),
            base_price: self.base_price,
            min_age: self.min_age,
            max_age: self.max_age,
            is_default: self.is_default,
            sort_order: self.sort_order,
            valid_from: kept.and_then(|t| t.valid_from),
            valid_until: kept.and_then(|t| t.valid_until),
            min_per_booking: kept.and_then(|t| t.min_per_booking),
            max_per_booking: kept.and_then(|t| t.max_per_booking),
        }
    }
}

impl Mutator for UpsertPricingTierV1 {
    fn reads(&self) -> Vec<ReadKey> {
        self.as_v2(None).reads()
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        let kept = view.pricing_tier(&norm_id(&self.id))?;
        self.as_v2(kept.as_ref()).apply(view, ctx)
    }
}

with_tier_terms! { with_tier_limits!
    /// Arguments of `upsert_pricing_tier.v2`: creates the tier or replaces it whole, with its
    /// validity dates (inclusive local dates of departures) and per-booking limits.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct UpsertPricingTierV2 {
        pub id: String,
    }
}

impl Mutator for UpsertPricingTierV2 {
    fn reads(&self) -> Vec<ReadKey> {
        let tour_id = norm_ref(&self.tour_id);
        let mut keys = vec![
            ReadKey::Tour(tour_id.clone()),
            ReadKey::PricingTier(norm_id(&self.id)),
            ReadKey::PricingCatalog(tour_id),
        ];
        if let Some(v) = &self.variant_id {
            keys.push(ReadKey::Variant(norm_ref(v)));
        }
        keys
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::ToursWrite, "edit prices")?;
        let id = validate::id("id", &self.id)?;
        let tour_id = validate::row_ref("tour_id", &self.tour_id)?;
        let variant_id = self.variant_id.as_deref().map(|v| validate::row_ref("variant_id", v)).transpose()?;
        let name = validate::text("name", &self.name, 100)?;
        if self.base_price.is_negative() {
            return Err(FieldError::new("base_price", "must not be negative").into());
        }
        for (field, age) in [("min_age", self.min_age), ("max_age", self.max_age)] {
            if let Some(a) = age {
                validate::range_u32(field, a, 0, MAX_AGE)?;
            }
        }
        if let (Some(lo), Some(hi)) = (self.min_age, self.max_age)
            && lo > hi
        {
            return Err(FieldError::new("max_age", "must not be below min_age").into());
        }
        if let (Some(from), Some(until)) = (self.valid_from, self.valid_until)
            && until < from
        {
            return Err(FieldError::new("valid_until", "must not be before valid_from").into());
        }
        for (field, n) in [("min_per_booking", self.min_per_booking), ("max_per_booking", self.max_per_booking)] {
            if let Some(n) = n {
                validate::range_u32(field, n, 1, MAX_CAPACITY)?;
            }
        }
        if let (Some(lo), Some(hi)) = (self.min_per_booking, self.max_per_booking)
            && lo > hi
        {
            return Err(FieldError::new("max_per_booking", "must not be below min_per_booking").into());
        }

        view.tour(&tour_id)?.ok_or_else(|| Rejection::not_found("tour", &tour_id))?;
        if let Some(existing) = view.pricing_tier(&id)?
            && existing.tour_id != tour_id
        {
            return Err(Rejection::conflict("id", format!("tier {id} belongs to another tour")).into());
        }
        if let Some(vid) = &variant_id {
            let v = view.variant(vid)?.ok_or_else(|| Rejection::not_found("variant", vid))?;
            if v.tour_id != tour_id {
                return Err(FieldError::new("variant_id", "is a variant of another tour").into());
            }
        }
        // One tour, one currency: the pricing engine refuses to add up mixed amounts, so a
        // tier in another currency would make every quote of the tour fail.
        if let Some(catalog) = view.pricing_catalog(&tour_id)?
            && catalog.tiers.iter().any(|t| t.id != id)
            && catalog.currency != self.base_price.currency
        {
            return Err(FieldError::new(
                "base_price",
                format!("the tour is priced in {}, not {}", catalog.currency, self.base_price.currency),
            )
            .into());
        }
        let tier = PricingTier {
            id,
            organization_id: ctx.organization_id.clone(),
            tour_id,
            variant_id,
            name,
            base_price: self.base_price,
            min_age: self.min_age,
            max_age: self.max_age,
            is_default: self.is_default,
            sort_order: self.sort_order,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            min_per_booking: self.min_per_booking,
            max_per_booking: self.max_per_booking,
        };
        // A replay of the same upsert writes nothing.
        if view.pricing_tier(&tier.id)?.as_ref() == Some(&tier) {
            return Ok(vec![]);
        }
        Ok(vec![Change::PutPricingTier(tier)])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::testkit::*;
    use super::*;
    use crate::money::{Currency, Money};
    use crate::roles::Role;
    use chrono::NaiveDate;
    use serde_json::{Value, json};

    fn create_args() -> Value {
        json!({
            "id": "7f0c1a52-1f7e-4c4b-9d1e-0c7a1b2c3d4e",
            "name": "  Harbour Lights Walk ",
            "duration_minutes": 90,
            "default_capacity": 12,
            "category": "walking",
            "timezone": "Europe/London"
        })
    }

    /// The fields the shared macros declare are plain fields on the wire: a stored
    /// `create_tour.v1` and `upsert_pricing_tier.v*` read back as they were written, in the same
    /// key order, and an unknown key is still refused.
    #[test]
    fn the_shared_fields_keep_the_stored_mutations_wire_format() {
        let full = json!({
            "id": "7f0c1a52-1f7e-4c4b-9d1e-0c7a1b2c3d4e", "name": "Walk", "slug": "walk",
            "short_description": "s", "duration_minutes": 90, "default_capacity": 12, "min_participants": 2,
            "category": "walking", "timezone": "Europe/London", "meeting_point": "m",
            "full_description": "f", "meeting_point_address": "a", "meeting_point_lat": 51.5,
            "meeting_point_lng": -0.1, "meeting_point_instructions": "i", "tags": ["t"], "languages": ["en"],
            "accessibility_info": "x", "what_to_bring": ["w"], "highlights": ["h"]
        });
        let args: CreateTourV1 = serde_json::from_value(full.clone()).unwrap();
        let text = serde_json::to_string(&args).unwrap();
        let keys = "id name slug short_description duration_minutes default_capacity min_participants category \
                    timezone meeting_point full_description meeting_point_address meeting_point_lat meeting_point_lng \
                    meeting_point_instructions tags languages accessibility_info what_to_bring highlights";
        let keys: Vec<&str> = keys.split_whitespace().collect();
        let order: Vec<usize> = keys.iter().map(|k| text.find(&format!("\"{k}\":")).unwrap()).collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert_eq!(serde_json::to_value(&args).unwrap(), full);
        assert!(serde_json::from_value::<CreateTourV1>(patch(full, &[("color", "red".into())])).is_err());

        let tier = json!({
            "id": "a", "tour_id": "t", "variant_id": null, "name": "Adult",
            "base_price": {"amount": 5000, "currency": "USD"}, "min_age": 13, "max_age": null,
            "is_default": true, "sort_order": 0
        });
        let v1: UpsertPricingTierV1 = serde_json::from_value(tier.clone()).unwrap();
        assert_eq!(serde_json::to_value(&v1).unwrap(), tier);
        let v2 = patch(
            tier,
            &[
                ("valid_from", "2026-01-01".into()),
                ("valid_until", Value::Null),
                ("min_per_booking", 2.into()),
                ("max_per_booking", Value::Null),
            ],
        );
        let parsed: UpsertPricingTierV2 = serde_json::from_value(v2.clone()).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), v2);
        assert!(serde_json::from_value::<UpsertPricingTierV1>(v2).is_err());
    }

    #[test]
    fn create_tour_makes_a_draft_with_a_derived_slug() {
        let changes = run_ok(&Mem::default(), "create_tour.v1", create_args(), Role::Owner);
        let [Change::PutTour(t)] = changes.as_slice() else { panic!("one tour expected: {changes:?}") };
        assert_eq!(t.name, "Harbour Lights Walk");
        assert_eq!(t.slug, "harbour-lights-walk");
        assert_eq!(t.organization_id, ORG);
        assert_eq!(t.status, TourStatus::Draft);
    }

    #[test]
    fn create_tour_rejections() {
        let mem = Mem::default();
        mem.put_tour(Tour { id: "7f0c1a52-1f7e-4c4b-9d1e-0c7a1b2c3d4e".into(), ..tour() });
        let with =
            |k: &str, v: Value| patch(create_args(), &[("id", "00000000-0000-4000-8000-000000000001".into()), (k, v)]);
        let cases: Vec<(Value, Role, &str)> = vec![
            (create_args(), Role::Owner, "CONFLICT"),
            (create_args(), Role::Manager, "NOT_AUTHORIZED"),
            (json!({"id": "x"}), Role::Owner, "INVALID"),
            (with("timezone", "Mars/Base".into()), Role::Owner, "INVALID"),
            (with("default_capacity", 0.into()), Role::Owner, "INVALID"),
            (with("min_participants", 13.into()), Role::Owner, "INVALID"),
            (with("slug", "Bad Slug".into()), Role::Owner, "INVALID"),
            // The existing tour's slug.
            (with("slug", "old-town-walk".into()), Role::Owner, "CONFLICT"),
        ];
        for (a, role, code) in cases {
            assert_eq!(run_err(&mem, "create_tour.v1", a.clone(), role), code, "{a}");
        }
    }

    #[test]
    fn update_tour_table() {
        let mem = world();
        let other = Tour { id: "t-2".into(), slug: "sunset-cruise".into(), name: "Sunset Cruise".into(), ..tour() };
        mem.put_tour(other);
        let ok = run_ok(
            &mem,
            "update_tour.v1",
            json!({"id": TOUR, "name": "Old Town at Dusk", "slug": "old-town-dusk", "status": "active"}),
            Role::Admin,
        );
        let [Change::PutTour(t)] = ok.as_slice() else { panic!("{ok:?}") };
        assert_eq!(
            (t.name.as_str(), t.slug.as_str(), t.status),
            ("Old Town at Dusk", "old-town-dusk", TourStatus::Active)
        );
        assert_eq!(t.default_capacity, tour().default_capacity, "absent fields stay");
        // Nothing to change: no write, no sync traffic.
        assert!(run_ok(&mem, "update_tour.v1", json!({"id": TOUR, "name": tour().name}), Role::Owner).is_empty());
        // Its own slug is not a conflict.
        assert!(run_ok(&mem, "update_tour.v1", json!({"id": TOUR, "slug": tour().slug}), Role::Owner).is_empty());

        mem.put_tour(Tour { id: "t-3".into(), slug: "gone".into(), status: TourStatus::Archived, ..tour() });
        let cases: Vec<(Value, Role, &str)> = vec![
            (json!({"id": TOUR, "name": "x"}), Role::Manager, "NOT_AUTHORIZED"),
            (json!({"id": "t-404", "name": "x"}), Role::Owner, "NOT_FOUND"),
            (json!({"id": TOUR, "slug": "sunset-cruise"}), Role::Owner, "CONFLICT"),
            (json!({"id": TOUR, "min_participants": 11}), Role::Owner, "INVALID"),
            (json!({"id": TOUR, "timezone": "Nowhere/Land"}), Role::Owner, "INVALID"),
            (json!({"id": TOUR, "colour": "red"}), Role::Owner, "INVALID"),
            (json!({"id": "t-3", "status": "active"}), Role::Owner, "FORBIDDEN_TRANSITION"),
            (json!({"id": "t-3", "status": "draft"}), Role::Owner, "FORBIDDEN_TRANSITION"),
        ];
        for (a, role, code) in cases {
            assert_eq!(run_err(&mem, "update_tour.v1", a.clone(), role), code, "{a}");
        }
        let archived = run_ok(&mem, "update_tour.v1", json!({"id": TOUR, "status": "archived"}), Role::Owner);
        assert!(matches!(&archived[..], [Change::PutTour(t)] if t.status == TourStatus::Archived));
    }

    #[test]
    fn create_tour_takes_every_detail() {
        let args = patch(
            create_args(),
            &[
                ("full_description", "A long walk.\nWith two lines.".into()),
                ("meeting_point", "Tower Bridge".into()),
                ("meeting_point_address", "Tower Bridge Rd, London SE1 2UP".into()),
                ("meeting_point_lat", json!(51.5055)),
                ("meeting_point_lng", json!(-0.0754)),
                ("meeting_point_instructions", "Look for the red umbrella".into()),
                ("tags", json!(["Night", "river", "night"])),
                ("languages", json!(["EN", "pt_br"])),
                ("accessibility_info", "Step-free route".into()),
                ("what_to_bring", json!(["Warm coat", " Camera "])),
                ("highlights", json!(["The bridge lit up"])),
                ("min_participants", 2.into()),
            ],
        );
        let changes = run_ok(&Mem::default(), "create_tour.v1", args, Role::Owner);
        let [Change::PutTour(t)] = changes.as_slice() else { panic!("{changes:?}") };
        assert_eq!((t.meeting_point_lat, t.meeting_point_lng), (Some(51.5055), Some(-0.0754)));
        assert_eq!(t.tags, ["night", "river"], "lowercased, without repeats");
        assert_eq!(t.languages, ["en", "pt-BR"], "normalised codes");
        assert_eq!(t.what_to_bring, ["Warm coat", "Camera"], "trimmed");
        assert_eq!(t.highlights, ["The bridge lit up"]);
        assert_eq!(t.full_description, "A long walk.\nWith two lines.");
        assert_eq!(
            (t.meeting_point_address.as_str(), t.meeting_point_instructions.as_str(), t.accessibility_info.as_str()),
            ("Tower Bridge Rd, London SE1 2UP", "Look for the red umbrella", "Step-free route")
        );
        assert_eq!(t.min_participants, 2);
    }

    /// Each bad detail is refused with its field named, on create and on update alike.
    #[test]
    fn tour_detail_refusals_name_the_field() {
        let mem = world();
        let long = "x".repeat(501);
        let cases: Vec<(&str, Value, &str)> = vec![
            ("name", json!(""), "name"),
            ("slug", json!("Not A Slug"), "slug"),
            ("short_description", json!(long), "short_description"),
            ("full_description", json!("a\u{0}b"), "full_description"),
            ("duration_minutes", json!(0), "duration_minutes"),
            ("default_capacity", json!(10_001), "default_capacity"),
            ("min_participants", json!(0), "min_participants"),
            ("min_participants", json!(99), "min_participants"),
            ("timezone", json!("Mars/Olympus"), "timezone"),
            ("meeting_point", json!(long), "meeting_point"),
            ("meeting_point_address", json!(long), "meeting_point_address"),
            ("meeting_point_instructions", json!("x".repeat(1001)), "meeting_point_instructions"),
            ("accessibility_info", json!("x".repeat(2001)), "accessibility_info"),
            ("tags", json!(["ok", "  "]), "tags[1]"),
            ("tags", json!(["x".repeat(51)]), "tags[0]"),
            ("languages", json!(["en", "klingon"]), "languages[1]"),
            ("what_to_bring", json!([""]), "what_to_bring[0]"),
            ("highlights", json!(vec!["h"; 31]), "highlights"),
        ];
        let field_of = |r: Result<Vec<Change>, ApplyError>| match r {
            Err(ApplyError::Rejected(Rejection::Invalid(e))) => e.field,
            other => panic!("{other:?}"),
        };
        for (field, value, named) in &cases {
            let created =
                run(&Mem::default(), "create_tour.v1", patch(create_args(), &[(field, value.clone())]), Role::Owner);
            assert_eq!(field_of(created), *named, "create {field} = {value}");
            let updated =
                run(&mem, "update_tour.v1", patch(json!({"id": TOUR}), &[(field, value.clone())]), Role::Owner);
            assert_eq!(field_of(updated), *named, "update {field} = {value}");
        }
        // Coordinates: both or neither, within range.
        let coords: Vec<(Value, Value, &str)> = vec![
            (json!(91.0), json!(0.0), "meeting_point_lat"),
            (json!(-90.5), json!(0.0), "meeting_point_lat"),
            (json!(0.0), json!(180.5), "meeting_point_lng"),
            (json!(0.0), json!(-181), "meeting_point_lng"),
            (json!(10.0), Value::Null, "meeting_point_lng"),
            (Value::Null, json!(10.0), "meeting_point_lat"),
        ];
        for (lat, lng, named) in coords {
            let a = patch(create_args(), &[("meeting_point_lat", lat.clone()), ("meeting_point_lng", lng.clone())]);
            assert_eq!(field_of(run(&Mem::default(), "create_tour.v1", a, Role::Owner)), named, "{lat} {lng}");
        }
        // The edges are accepted; on update, one coordinate alone is checked against the stored other.
        let edge = patch(create_args(), &[("meeting_point_lat", json!(-90)), ("meeting_point_lng", json!(180))]);
        assert!(run(&Mem::default(), "create_tour.v1", edge, Role::Owner).is_ok());
        mem.put_tour(Tour { meeting_point_lat: Some(1.0), meeting_point_lng: Some(2.0), ..tour() });
        let moved = run_ok(&mem, "update_tour.v1", json!({"id": TOUR, "meeting_point_lat": 3.5}), Role::Owner);
        assert!(
            matches!(&moved[..], [Change::PutTour(t)] if t.meeting_point_lat == Some(3.5) && t.meeting_point_lng == Some(2.0))
        );
        let cleared = run_ok(
            &mem,
            "update_tour.v1",
            json!({"id": TOUR, "meeting_point_lat": null, "meeting_point_lng": null}),
            Role::Owner,
        );
        assert!(matches!(&cleared[..], [Change::PutTour(t)] if t.meeting_point_lat.is_none()));
        let half = run(&mem, "update_tour.v1", json!({"id": TOUR, "meeting_point_lng": null}), Role::Owner);
        assert_eq!(field_of(half), "meeting_point_lng");
    }

    /// An intent queued by a desk that predates the details still decodes and replays.
    #[test]
    fn an_older_desks_tour_intents_still_replay() {
        let mem = world();
        let old_update = json!({"id": TOUR, "meeting_point": "Under the clock"});
        assert_eq!(run_ok(&mem, "update_tour.v1", old_update, Role::Owner).len(), 1);
        let created = run_ok(&Mem::default(), "create_tour.v1", create_args(), Role::Owner);
        let [Change::PutTour(t)] = created.as_slice() else { panic!() };
        assert!(t.tags.is_empty() && t.meeting_point_lat.is_none() && t.full_description.is_empty());
    }

    fn draft_world() -> Mem {
        let mem = Mem::default();
        mem.put_tour(Tour { status: TourStatus::Draft, ..tour() });
        mem
    }

    #[test]
    fn publishing_needs_an_active_variant_and_a_price() {
        let publish = json!({"id": TOUR, "status": "active"});
        let refusal = |mem: &Mem| match run(mem, "update_tour.v1", publish.clone(), Role::Owner) {
            Err(ApplyError::Rejected(Rejection::Conflict { field, message })) => (field, message),
            other => panic!("{other:?}"),
        };
        let mem = draft_world();
        let (field, why) = refusal(&mem);
        assert_eq!(field, "status");
        assert!(why.contains("active variant"), "{why}");

        // An inactive variant does not count.
        mem.put_variant(TourVariant { active: false, ..variant() });
        assert!(refusal(&mem).1.contains("active variant"));
        mem.put_variant(variant());
        let (_, why) = refusal(&mem);
        assert!(why.contains("price tier"), "{why}");

        // A tier of another (inactive) variant does not sell this one.
        mem.put_variant(TourVariant { id: "v-off".into(), active: false, ..variant() });
        let mut only_off = crate::fixtures::catalog();
        for t in &mut only_off.tiers {
            t.variant_id = Some("v-off".into());
        }
        mem.state.borrow_mut().catalogs.insert(TOUR.into(), only_off);
        assert!(refusal(&mem).1.contains("price tier"));

        mem.state.borrow_mut().catalogs.insert(TOUR.into(), crate::fixtures::catalog());
        let ok = run_ok(&mem, "update_tour.v1", publish.clone(), Role::Owner);
        assert!(matches!(&ok[..], [Change::PutTour(t)] if t.status == TourStatus::Active));
    }

    #[test]
    fn unpublish_and_archive() {
        let mem = world(); // active, with a variant and prices
        let draft = run_ok(&mem, "update_tour.v1", json!({"id": TOUR, "status": "draft"}), Role::Owner);
        assert!(matches!(&draft[..], [Change::PutTour(t)] if t.status == TourStatus::Draft));
        // Publishing an already active tour again is a no-op, not a refusal.
        mem.put_variant(TourVariant { active: false, ..variant() });
        assert!(run_ok(&mem, "update_tour.v1", json!({"id": TOUR, "status": "active"}), Role::Owner).is_empty());
        let archived = run_ok(&mem, "update_tour.v1", json!({"id": TOUR, "status": "archived"}), Role::Owner);
        assert!(matches!(&archived[..], [Change::PutTour(t)] if t.status == TourStatus::Archived));
        mem.put_tour(Tour { status: TourStatus::Archived, ..tour() });
        assert_eq!(
            run_err(&mem, "update_tour.v1", json!({"id": TOUR, "status": "draft"}), Role::Owner),
            "FORBIDDEN_TRANSITION"
        );
    }

    #[test]
    fn publish_refusal_is_the_same_rule_the_desk_shows() {
        let t = crate::fixtures::adult_tier();
        assert!(publish_refusal(&[], std::slice::from_ref(&t)).is_some());
        assert!(publish_refusal(&[variant()], &[]).is_some());
        assert_eq!(publish_refusal(&[variant()], std::slice::from_ref(&t)), None);
        let own = PricingTier { variant_id: Some(VARIANT.into()), ..t };
        assert_eq!(publish_refusal(&[variant()], &[own]), None);
    }

    #[test]
    fn deactivating_the_last_active_variant_of_a_published_tour_is_refused() {
        let off = json!({"id": VARIANT, "active": false});
        // A published tour with one active variant: refused, naming the field `active`.
        let mem = world();
        match run(&mem, "update_variant.v1", off.clone(), Role::Owner) {
            Err(ApplyError::Rejected(Rejection::Conflict { field, message })) => {
                assert_eq!(field, "active");
                assert!(message.contains("last active variant"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        // An inactive sibling does not count.
        mem.put_variant(TourVariant { id: "v-off".into(), active: false, ..variant() });
        assert_eq!(run_err(&mem, "update_variant.v1", off.clone(), Role::Owner), "CONFLICT");
        // Another active variant remains: accepted.
        mem.put_variant(TourVariant { id: "v-2".into(), ..variant() });
        let ok = run_ok(&mem, "update_variant.v1", off.clone(), Role::Owner);
        assert!(matches!(&ok[..], [Change::PutVariant(v)] if !v.active), "{ok:?}");
        // A draft tour may lose its only active variant.
        let draft = draft_world();
        draft.put_variant(variant());
        let ok = run_ok(&draft, "update_variant.v1", off.clone(), Role::Owner);
        assert!(matches!(&ok[..], [Change::PutVariant(v)] if !v.active), "{ok:?}");
        // Reactivating, or an edit that leaves `active` alone, reads nothing more.
        let keys = crate::mutation::Mutation::decode("update_variant.v1", &json!({"id": VARIANT, "active": true}));
        assert!(keys.is_ok_and(|m| m.reads().len() == 1));
        // The shared rule itself.
        let t = tour();
        assert!(deactivate_refusal(&t, &[variant()], VARIANT).is_some());
        assert_eq!(deactivate_refusal(&t, &[variant(), TourVariant { id: "v-2".into(), ..variant() }], VARIANT), None);
        assert_eq!(deactivate_refusal(&Tour { status: TourStatus::Draft, ..t }, &[variant()], VARIANT), None);
    }

    #[test]
    fn variants_table() {
        let mem = world();
        let new_id = "00000000-0000-4000-8000-0000000000aa";
        let taken = "00000000-0000-4000-8000-0000000000ab";
        mem.put_variant(TourVariant { id: taken.into(), ..variant() });
        let ok = run_ok(
            &mem,
            "create_variant.v1",
            json!({"id": new_id, "tour_id": TOUR, "name": "Private", "capacity": 6}),
            Role::Owner,
        );
        let [Change::PutVariant(v)] = ok.as_slice() else { panic!("{ok:?}") };
        assert_eq!((v.capacity, v.active, v.tour_id.as_str()), (Some(6), true, TOUR));

        mem.put_tour(Tour { id: "t-old".into(), slug: "old".into(), status: TourStatus::Archived, ..tour() });
        let cases: Vec<(&str, Value, Role, &str)> = vec![
            ("create_variant.v1", json!({"id": new_id, "tour_id": TOUR, "name": "P"}), Role::Manager, "NOT_AUTHORIZED"),
            ("create_variant.v1", json!({"id": taken, "tour_id": TOUR, "name": "P"}), Role::Owner, "CONFLICT"),
            ("create_variant.v1", json!({"id": new_id, "tour_id": "t-404", "name": "P"}), Role::Owner, "NOT_FOUND"),
            ("create_variant.v1", json!({"id": new_id, "tour_id": "t-old", "name": "P"}), Role::Owner, "CONFLICT"),
            (
                "create_variant.v1",
                json!({"id": new_id, "tour_id": TOUR, "name": "P", "capacity": 0}),
                Role::Owner,
                "INVALID",
            ),
            ("create_variant.v1", json!({"id": "nope", "tour_id": TOUR, "name": "P"}), Role::Owner, "INVALID"),
            ("update_variant.v1", json!({"id": VARIANT, "name": "x"}), Role::Guide, "NOT_AUTHORIZED"),
            ("update_variant.v1", json!({"id": "v-404", "name": "x"}), Role::Owner, "NOT_FOUND"),
            ("update_variant.v1", json!({"id": VARIANT, "duration_minutes": 0}), Role::Owner, "INVALID"),
        ];
        for (name, a, role, code) in cases {
            assert_eq!(run_err(&mem, name, a.clone(), role), code, "{name} {a}");
        }

        mem.put_variant(TourVariant { capacity: Some(8), ..variant() });
        let cleared = run_ok(&mem, "update_variant.v1", json!({"id": VARIANT, "capacity": null}), Role::Owner);
        assert!(matches!(&cleared[..], [Change::PutVariant(v)] if v.capacity.is_none()), "null clears: {cleared:?}");
        let kept = run_ok(&mem, "update_variant.v1", json!({"id": VARIANT, "active": false}), Role::Owner);
        assert!(matches!(&kept[..], [Change::PutVariant(v)] if v.capacity == Some(8) && !v.active), "absent keeps");
        assert!(run_ok(&mem, "update_variant.v1", json!({"id": VARIANT, "capacity": 8}), Role::Owner).is_empty());
    }

    #[test]
    fn pricing_tiers_table() {
        let mem = world();
        let new_id = "00000000-0000-4000-8000-0000000000bb";
        let tier = |price: Value| {
            json!({"id": new_id, "tour_id": TOUR, "variant_id": VARIANT, "name": "Student",
                   "base_price": price, "min_age": 16, "max_age": 26})
        };
        let ok = run_ok(&mem, "upsert_pricing_tier.v1", tier(json!({"amount": 3000, "currency": "USD"})), Role::Owner);
        let [Change::PutPricingTier(t)] = ok.as_slice() else { panic!("{ok:?}") };
        assert_eq!((t.base_price, t.variant_id.as_deref()), (Money::new(3000, Currency::USD), Some(VARIANT)));
        // Replacing an existing tier of the tour.
        let adult = run_ok(
            &mem,
            "upsert_pricing_tier.v1",
            json!({"id": ADULT, "tour_id": TOUR, "name": "Adult", "base_price": {"amount": 5500, "currency": "USD"}}),
            Role::Admin,
        );
        assert_eq!(adult.len(), 1);

        mem.put_tour(Tour { id: "t-2".into(), slug: "t-2".into(), ..tour() });
        mem.put_variant(TourVariant { id: "v-2".into(), tour_id: "t-2".into(), ..variant() });
        let usd = json!({"amount": 3000, "currency": "USD"});
        let cases: Vec<(Value, Role, &str)> = vec![
            (tier(usd.clone()), Role::Manager, "NOT_AUTHORIZED"),
            (tier(json!({"amount": -1, "currency": "USD"})), Role::Owner, "INVALID"),
            (tier(json!({"amount": 3000, "currency": "EUR"})), Role::Owner, "INVALID"),
            (tier(json!({"amount": 3000, "currency": "XXX"})), Role::Owner, "INVALID"),
            (patch(tier(usd.clone()), &[("min_age", 30.into())]), Role::Owner, "INVALID"),
            (patch(tier(usd.clone()), &[("tour_id", "t-404".into())]), Role::Owner, "NOT_FOUND"),
            (patch(tier(usd.clone()), &[("variant_id", "v-404".into())]), Role::Owner, "NOT_FOUND"),
            (patch(tier(usd.clone()), &[("variant_id", "v-2".into())]), Role::Owner, "INVALID"),
            (
                patch(
                    tier(usd.clone()),
                    &[("id", ADULT.into()), ("tour_id", "t-2".into()), ("variant_id", Value::Null)],
                ),
                Role::Owner,
                "CONFLICT",
            ),
        ];
        for (a, role, code) in cases {
            assert_eq!(run_err(&mem, "upsert_pricing_tier.v1", a.clone(), role), code, "{a}");
            assert_eq!(run_err(&mem, "upsert_pricing_tier.v2", a.clone(), role), code, "v2 {a}");
        }
    }

    fn tier_v2() -> Value {
        json!({"id": ADULT, "tour_id": TOUR, "name": "Adult", "base_price": {"amount": 5000, "currency": "USD"},
               "min_age": 13, "is_default": true, "valid_from": "2026-07-01", "valid_until": "2026-08-31",
               "min_per_booking": 1, "max_per_booking": 6, "sort_order": 0})
    }

    #[test]
    fn pricing_tier_v2_takes_validity_and_limits() {
        let mem = world();
        let ok = run_write(&mem, "upsert_pricing_tier.v2", tier_v2(), Role::Owner);
        let [Change::PutPricingTier(t)] = ok.as_slice() else { panic!("{ok:?}") };
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        assert_eq!((t.valid_from, t.valid_until), (Some(d(7, 1)), Some(d(8, 31))));
        assert_eq!((t.min_per_booking, t.max_per_booking), (Some(1), Some(6)));

        let field_of = |a: Value| match run(&mem, "upsert_pricing_tier.v2", a.clone(), Role::Owner) {
            Err(ApplyError::Rejected(Rejection::Invalid(e))) => e.field,
            other => panic!("{a}: {other:?}"),
        };
        assert_eq!(field_of(patch(tier_v2(), &[("valid_until", "2026-06-30".into())])), "valid_until");
        assert_eq!(field_of(patch(tier_v2(), &[("min_per_booking", 0.into())])), "min_per_booking");
        assert_eq!(field_of(patch(tier_v2(), &[("max_per_booking", 0.into())])), "max_per_booking");
        assert_eq!(field_of(patch(tier_v2(), &[("min_per_booking", 7.into())])), "max_per_booking");
        assert_eq!(field_of(patch(tier_v2(), &[("min_age", 30.into()), ("max_age", 20.into())])), "max_age");
        assert_eq!(field_of(patch(tier_v2(), &[("name", " ".into())])), "name");
        assert_eq!(
            field_of(patch(tier_v2(), &[("base_price", json!({"amount": -1, "currency": "USD"}))])),
            "base_price"
        );
        assert_eq!(
            run_err(&mem, "upsert_pricing_tier.v2", patch(tier_v2(), &[("valid_from", "July".into())]), Role::Owner),
            "INVALID"
        );
    }

    /// An old desk's `upsert_pricing_tier.v1` knew nothing of dates and limits: replayed now, it
    /// changes what it knew and keeps the rest.
    #[test]
    fn pricing_tier_v1_keeps_what_it_did_not_know() {
        let mem = world();
        run_write(&mem, "upsert_pricing_tier.v2", tier_v2(), Role::Owner);
        let v1 = json!({"id": ADULT, "tour_id": TOUR, "name": "Grown-up", "base_price": {"amount": 5200, "currency": "USD"}});
        let ok = run_ok(&mem, "upsert_pricing_tier.v1", v1, Role::Owner);
        let [Change::PutPricingTier(t)] = ok.as_slice() else { panic!("{ok:?}") };
        assert_eq!((t.name.as_str(), t.base_price.amount), ("Grown-up", 5200));
        assert_eq!((t.max_per_booking, t.valid_until.is_some()), (Some(6), true), "kept");
        // Replaying the same v2 upsert writes nothing.
        assert!(run_ok(&mem, "upsert_pricing_tier.v2", tier_v2(), Role::Owner).is_empty());
    }
}

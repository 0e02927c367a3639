//! Tours, their variants and price tiers: reference data, written by owners and admins.

use serde::{Deserialize, Serialize};

use super::{ApplyError, Change, MutationCtx, Mutator, ReadKey, ReadView, Rejection, norm_id, norm_ref, require};
use crate::entities::{PricingTier, Tour, TourVariant};
use crate::money::Money;
use crate::roles::Permission;
use crate::status::{StateMachine, TourCategory, TourStatus};
use crate::validate::{self, FieldError};

const MAX_DURATION_MINUTES: u32 = 7 * 24 * 60;
const MAX_CAPACITY: u32 = 10_000;
const MAX_AGE: u32 = 120;

fn short_description(v: &str) -> Result<String, FieldError> {
    validate::free_text("short_description", v, 500)
}

fn meeting_point(v: &str) -> Result<String, FieldError> {
    validate::free_text("meeting_point", v, 500)
}

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
            meeting_point: meeting_point(&a.meeting_point)?,
            // A tour made on a desk starts as a draft: it is not sold until someone publishes it.
            status: TourStatus::Draft,
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
}

impl Mutator for UpdateTourV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let mut keys = vec![ReadKey::Tour(norm_ref(&self.id))];
        if let Some(s) = &self.slug {
            keys.push(ReadKey::TourSlug(s.clone()));
        }
        keys
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
        if let Some(to) = self.status {
            t.status = t.status.transition(to)?;
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
        vec![ReadKey::Variant(norm_ref(&self.id))]
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
            v.active = a;
        }
        if let Some(s) = self.sort_order {
            v.sort_order = s;
        }
        Ok(if v == old { vec![] } else { vec![Change::PutVariant(v)] })
    }
}

/// Arguments of `upsert_pricing_tier.v1`: creates the tier or replaces it whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpsertPricingTierV1 {
    pub id: String,
    pub tour_id: String,
    /// `None`: the tier applies to every variant of the tour.
    #[serde(default)]
    pub variant_id: Option<String>,
    pub name: String,
    pub base_price: Money,
    #[serde(default)]
    pub min_age: Option<u32>,
    #[serde(default)]
    pub max_age: Option<u32>,
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    pub sort_order: i32,
}

impl Mutator for UpsertPricingTierV1 {
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
        Ok(vec![Change::PutPricingTier(PricingTier {
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
        })])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::testkit::*;
    use super::*;
    use crate::money::Currency;
    use crate::roles::Role;
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
        }
    }
}

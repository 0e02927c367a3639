//! Intent mutations: what a user meant, not the rows it touched.
//!
//! A mutation runs twice: optimistically on the desk (SQLite) and authoritatively on the
//! server (PostgreSQL), through the same code. To keep that code pure it is split in two:
//! [`Mutation::reads`] names every row the decision depends on, so the server can lock exactly
//! those rows (in a stable order) and load them into a snapshot; [`Mutation::apply`] then
//! decides from a [`ReadView`] and returns the [`Change`]s to write, or a typed [`Rejection`].
//! Each store only knows how to load `ReadKey`s and write `Change`s.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::entities::Tour;
use crate::roles::{Permission, Role};
use crate::status::{TourCategory, TourStatus};
use crate::validate::{self, FieldError};

/// Who is mutating, in which tenant, and when (the caller reads the clock, never this crate).
#[derive(Debug, Clone)]
pub struct MutationCtx {
    pub organization_id: String,
    pub role: Role,
    pub now: DateTime<Utc>,
}

/// A row a mutation's decision depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReadKey {
    Tour(String),
    TourSlug(String),
}

/// Read access to the rows named by [`Mutation::reads`], scoped to one organization.
/// A read that fails is a [`StoreFault`], never "not found": a broken disk must not look like
/// a free slug.
pub trait ReadView {
    fn tour(&self, id: &str) -> Result<Option<Tour>, StoreFault>;
    fn tour_by_slug(&self, slug: &str) -> Result<Option<Tour>, StoreFault>;
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

/// A write a mutation asks its store to perform.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    PutTour(Tour),
}

/// Why a mutation was refused. A rejection is a business outcome, recorded and shown to the
/// user; it is never retried. `code()` is the stable string on the wire.
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
}

impl Rejection {
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Invalid(_) => "INVALID",
            Rejection::Conflict { .. } => "CONFLICT",
            Rejection::NotFound { .. } => "NOT_FOUND",
            Rejection::NotAuthorized { .. } => "NOT_AUTHORIZED",
            Rejection::UnknownMutation { .. } => "UNKNOWN_MUTATION",
        }
    }
}

impl From<FieldError> for Rejection {
    fn from(e: FieldError) -> Self {
        Rejection::Invalid(e)
    }
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

#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    CreateTourV1(CreateTourV1),
}

impl Mutation {
    /// Every mutation name this build understands. Old versions stay here so that a desk that
    /// was offline across an upgrade can still drain its queue.
    pub const NAMES: &'static [&'static str] = &["create_tour.v1"];

    pub fn name(&self) -> &'static str {
        match self {
            Mutation::CreateTourV1(_) => "create_tour.v1",
        }
    }

    pub fn args(&self) -> Value {
        let r = match self {
            Mutation::CreateTourV1(a) => serde_json::to_value(a),
        };
        r.unwrap_or(Value::Null)
    }

    /// Parses a wire mutation. Unknown names and malformed arguments become rejections, so one
    /// bad mutation is recorded and skipped instead of wedging the whole queue.
    pub fn decode(name: &str, args: &Value) -> Result<Mutation, Rejection> {
        fn parse<T: serde::de::DeserializeOwned>(args: &Value) -> Result<T, Rejection> {
            serde_json::from_value(args.clone()).map_err(|e| Rejection::Invalid(FieldError::new("args", e.to_string())))
        }
        match name {
            "create_tour.v1" => Ok(Mutation::CreateTourV1(parse(args)?)),
            other => Err(Rejection::UnknownMutation { name: other.to_string() }),
        }
    }

    /// The rows `apply` will look at, sorted so that lock order is the same everywhere.
    pub fn reads(&self) -> Vec<ReadKey> {
        let mut keys = match self {
            Mutation::CreateTourV1(a) => {
                let slug = a.slug.clone().unwrap_or_else(|| validate::slugify(&a.name));
                vec![ReadKey::Tour(a.id.clone()), ReadKey::TourSlug(slug)]
            }
        };
        keys.sort();
        keys
    }

    pub fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        match self {
            Mutation::CreateTourV1(a) => create_tour(a, view, ctx),
        }
    }
}

fn create_tour(a: &CreateTourV1, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
    if !ctx.role.can(Permission::ToursWrite) {
        return Err(Rejection::NotAuthorized { action: "create tours".into() }.into());
    }
    let id = validate::id("id", &a.id)?;
    let name = validate::text("name", &a.name, 200)?;
    let slug = match &a.slug {
        Some(s) => validate::slug("slug", s)?,
        None => validate::slugify(&name),
    };
    let short_description = a.short_description.trim().to_string();
    if short_description.chars().count() > 500 {
        return Err(FieldError::new("short_description", "must be at most 500 characters").into());
    }
    let duration_minutes = validate::range_u32("duration_minutes", a.duration_minutes, 1, 7 * 24 * 60)?;
    let default_capacity = validate::range_u32("default_capacity", a.default_capacity, 1, 10_000)?;
    let min_participants = validate::range_u32("min_participants", a.min_participants, 1, default_capacity)?;
    let tz = validate::timezone("timezone", &a.timezone)?;

    if view.tour(&id)?.is_some() {
        return Err(Rejection::Conflict { field: "id".into(), message: format!("tour {id} already exists") }.into());
    }
    if let Some(other) = view.tour_by_slug(&slug)? {
        return Err(Rejection::Conflict {
            field: "slug".into(),
            message: format!("another tour ({}) already uses the URL name {slug:?}", other.name),
        }
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
        meeting_point: a.meeting_point.trim().to_string(),
        // A tour made on a desk starts as a draft: it is not sold until someone publishes it.
        status: TourStatus::Draft,
    })])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Mem(HashMap<String, Tour>);
    impl ReadView for Mem {
        fn tour(&self, id: &str) -> Result<Option<Tour>, StoreFault> {
            Ok(self.0.get(id).cloned())
        }
        fn tour_by_slug(&self, slug: &str) -> Result<Option<Tour>, StoreFault> {
            Ok(self.0.values().find(|t| t.slug == slug).cloned())
        }
    }

    fn ctx(role: Role) -> MutationCtx {
        MutationCtx { organization_id: "org-1".into(), role, now: DateTime::UNIX_EPOCH }
    }

    fn args() -> Value {
        serde_json::json!({
            "id": "7f0c1a52-1f7e-4c4b-9d1e-0c7a1b2c3d4e",
            "name": "  Harbour Lights Walk ",
            "duration_minutes": 90,
            "default_capacity": 12,
            "category": "walking",
            "timezone": "Europe/London"
        })
    }

    #[test]
    fn creates_a_draft_tour_with_a_derived_slug() {
        let m = Mutation::decode("create_tour.v1", &args()).unwrap();
        let changes = m.apply(&Mem::default(), &ctx(Role::Owner)).unwrap();
        let [Change::PutTour(t)] = changes.as_slice() else { panic!("one tour expected: {changes:?}") };
        assert_eq!(t.name, "Harbour Lights Walk");
        assert_eq!(t.slug, "harbour-lights-walk");
        assert_eq!(t.organization_id, "org-1");
        assert_eq!(t.status, TourStatus::Draft);
        // The wire form round-trips.
        assert_eq!(Mutation::decode(m.name(), &m.args()).unwrap(), m);
    }

    #[test]
    fn rejections_are_typed() {
        let mut view = Mem::default();
        let m = Mutation::decode("create_tour.v1", &args()).unwrap();
        for Change::PutTour(t) in m.apply(&view, &ctx(Role::Owner)).unwrap() {
            view.0.insert(t.id.clone(), t);
        }

        let cases: Vec<(Value, Role, &str)> = vec![
            (args(), Role::Owner, "CONFLICT"),
            (args(), Role::Manager, "NOT_AUTHORIZED"),
            (serde_json::json!({"id": "x"}), Role::Owner, "INVALID"),
            (
                {
                    let mut a = args();
                    a["timezone"] = "Mars/Base".into();
                    a["id"] = "00000000-0000-4000-8000-000000000001".into();
                    a["name"] = "Other".into();
                    a
                },
                Role::Owner,
                "INVALID",
            ),
            (
                {
                    let mut a = args();
                    a["default_capacity"] = 0.into();
                    a
                },
                Role::Owner,
                "INVALID",
            ),
            (
                {
                    let mut a = args();
                    a["id"] = "00000000-0000-4000-8000-000000000002".into();
                    a
                },
                Role::Owner,
                "CONFLICT",
            ),
        ];
        for (a, role, code) in cases {
            let got = Mutation::decode("create_tour.v1", &a)
                .map_err(ApplyError::from)
                .and_then(|m| m.apply(&view, &ctx(role)));
            let Err(ApplyError::Rejected(r)) = got else { panic!("{a}: expected a rejection, got {got:?}") };
            assert_eq!(r.code(), code, "{a}");
        }
        assert_eq!(Mutation::decode("drop_tables.v1", &args()).unwrap_err().code(), "UNKNOWN_MUTATION");
    }

    #[test]
    fn reads_are_sorted_and_cover_the_decision() {
        let m = Mutation::decode("create_tour.v1", &args()).unwrap();
        let r = m.reads();
        assert!(r.windows(2).all(|w| w[0] <= w[1]));
        assert!(r.contains(&ReadKey::TourSlug("harbour-lights-walk".into())));
    }
}

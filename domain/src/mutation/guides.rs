//! Guides' profiles and who leads a departure.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{ApplyError, AuditEntry, Change, MutationCtx, Mutator, ReadKey, ReadView, Rejection, norm_ref, require};
use crate::entities::{Guide, GuideAssignment, with_guide_extras};
use crate::guides::{
    AssignmentRequest, AssignmentRole, AssignmentStatus, GuideStatus, TimeOff, WeeklyAvailability, check_assignment,
};
use crate::roles::Permission;
use crate::status::StateMachine;
use crate::validate;
use crate::validate::FieldError;

/// Declares an `assign_guide` version's arguments: the assignment's id, departure and guide,
/// the version's own fields, the language asked for, the turnaround and notes, then the
/// version's trailing fields (in that order on the wire), and the shared prologue
/// [`Assigning::check`] over them.
macro_rules! assign_guide_args {
    ($(#[$meta:meta])* pub struct $name:ident { $($mid:tt)* } then { $($tail:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// The assignment's id, a UUID made by the client.
            pub id: String,
            pub departure_id: String,
            pub guide_id: String,
            $($mid)*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub required_language: Option<String>,
            /// Minutes the guide needs between departures.
            #[serde(default)]
            pub turnaround_minutes: u32,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub notes: Option<String>,
            $($tail)*
        }

        impl $name {
            fn assigning(&self, view: &dyn ReadView) -> Result<Assigning, ApplyError> {
                Assigning::check(
                    view,
                    &self.id,
                    &self.departure_id,
                    &self.guide_id,
                    &self.required_language,
                    self.turnaround_minutes,
                    &self.notes,
                )
            }
        }
    };
}

assign_guide_args! {
    /// Arguments of `assign_guide.v1`. Assigning a guide already assigned changes nothing; a guide
    /// who had declined is asked again.
    pub struct AssignGuideV1 {} then {}
}

impl Mutator for AssignGuideV1 {
    fn reads(&self) -> Vec<ReadKey> {
        assign_reads(&self.departure_id, &self.guide_id)
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::SchedulesWrite, "assign guides")?;
        let a = self.assigning(view)?;
        if a.existing.as_ref().is_some_and(|e| e.status != AssignmentStatus::Declined) {
            return Ok(vec![]);
        }
        a.conflicts.clone().map_err(|conflicts| Rejection::GuideConflict { conflicts })?;
        let role = a.existing.as_ref().map_or(AssignmentRole::Lead, |e| e.role);
        Ok(vec![Change::PutGuideAssignment(a.assignment(ctx, role, None))])
    }
}

/// What both versions of `assign_guide` read.
fn assign_reads(departure_id: &str, guide_id: &str) -> Vec<ReadKey> {
    let (departure_id, guide_id) = (norm_ref(departure_id), norm_ref(guide_id));
    vec![
        ReadKey::Departure(departure_id.clone()),
        ReadKey::DepartureGuides(departure_id.clone()),
        ReadKey::Guide(guide_id.clone()),
        ReadKey::GuideSchedule(guide_id.clone()),
        ReadKey::GuideAssignment { departure_id, guide_id },
    ]
}

/// What both versions of `assign_guide` start from: the arguments checked, the departure (still
/// to run), the guide's row on it if any, and the domain's conflict check.
struct Assigning {
    id: String,
    departure_id: String,
    guide_id: String,
    notes: Option<String>,
    existing: Option<GuideAssignment>,
    conflicts: Result<(), crate::guides::GuideConflicts>,
}

impl Assigning {
    fn check(
        view: &dyn ReadView,
        id: &str,
        departure_id: &str,
        guide_id: &str,
        required_language: &Option<String>,
        turnaround_minutes: u32,
        notes: &Option<String>,
    ) -> Result<Self, ApplyError> {
        let id = validate::id("id", id)?;
        let departure_id = validate::row_ref("departure_id", departure_id)?;
        let guide_id = validate::row_ref("guide_id", guide_id)?;
        let required_language =
            required_language.as_deref().map(|l| validate::language("required_language", l)).transpose()?;
        let turnaround = validate::range_u32("turnaround_minutes", turnaround_minutes, 0, 24 * 60)?;
        let notes = validate::opt_text("notes", notes.as_deref(), 1000)?;
        let dep = view.departure(&departure_id)?.ok_or_else(|| Rejection::not_found("departure", &departure_id))?;
        if dep.status.is_terminal() {
            return Err(Rejection::conflict("departure_id", format!("the departure is {}", dep.status)).into());
        }
        let guide = view.guide(&guide_id)?.ok_or_else(|| Rejection::not_found("guide", &guide_id))?;
        let existing = view.guide_assignment(&departure_id, &guide_id)?;
        let schedule = view.guide_schedule(&guide_id)?;
        let req = AssignmentRequest {
            departure_id: &departure_id,
            tour_id: &dep.tour_id,
            starts_at: dep.starts_at,
            ends_at: dep.ends_at,
            required_language: required_language.as_deref(),
            turnaround_minutes: turnaround,
        };
        let conflicts = check_assignment(&guide.profile(), &req, &schedule);
        Ok(Assigning { id, departure_id, guide_id, notes, existing, conflicts })
    }

    /// The assignment row: asking a guide who declined again reuses theirs (one per guide and
    /// departure).
    fn assignment(self, ctx: &MutationCtx, role: AssignmentRole, override_reason: Option<String>) -> GuideAssignment {
        GuideAssignment {
            id: self.existing.map_or(self.id, |a| a.id),
            organization_id: ctx.organization_id.clone(),
            departure_id: self.departure_id,
            guide_id: self.guide_id,
            status: AssignmentStatus::Pending,
            assigned_at: ctx.now,
            confirmed_at: None,
            notes: self.notes,
            role,
            override_reason,
        }
    }
}

/// Arguments of `unassign_guide.v1`. Unassigning a guide who is not assigned changes nothing;
/// a departure or guide the organization does not have is refused like any unknown id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnassignGuideV1 {
    pub departure_id: String,
    pub guide_id: String,
}

impl Mutator for UnassignGuideV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let (departure_id, guide_id) = (norm_ref(&self.departure_id), norm_ref(&self.guide_id));
        vec![
            ReadKey::Departure(departure_id.clone()),
            ReadKey::Guide(guide_id.clone()),
            ReadKey::GuideAssignment { departure_id, guide_id },
        ]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::SchedulesWrite, "unassign guides")?;
        let departure_id = validate::row_ref("departure_id", &self.departure_id)?;
        let guide_id = validate::row_ref("guide_id", &self.guide_id)?;
        // Another organization's ids read as absent: "applied, nothing changed" would confirm
        // nothing and hide a desk's mistake, so they are refused.
        if view.departure(&departure_id)?.is_none() {
            return Err(Rejection::not_found("departure", &departure_id).into());
        }
        if view.guide(&guide_id)?.is_none() {
            return Err(Rejection::not_found("guide", &guide_id).into());
        }
        Ok(match view.guide_assignment(&departure_id, &guide_id)? {
            Some(a) => vec![Change::DeleteGuideAssignment { id: a.id }],
            None => vec![],
        })
    }
}

with_guide_extras! {
    /// Arguments of `upsert_guide.v1`: a guide's whole profile, created or replaced (the desk sends
    /// what its form shows). `user_id` links the guide to a staff login with the guide role; keeping
    /// it absent leaves an existing link as it is.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct UpsertGuideV1 {
        pub id: String,
        pub first_name: String,
        #[serde(default)]
        pub last_name: String,
        pub email: String,
        #[serde(default)]
        pub phone: String,
        pub languages: Vec<String>,
        pub timezone: String,
        #[serde(default)]
        pub weekly_availability: WeeklyAvailability,
        pub status: GuideStatus,
        #[serde(default)]
        pub qualified_tour_ids: Vec<String>,
        /// `Some(Some(id))` links a login, `Some(None)` (JSON `null`) unlinks, absent keeps.
        #[serde(default, deserialize_with = "super::double_option", skip_serializing_if = "Option::is_none")]
        pub user_id: Option<Option<String>>,
    }
}

/// The most tours a guide can be qualified for, days-off ranges and ranges per weekday: limits
/// that keep one row small; no real guide comes near them.
const MAX_QUALIFIED: usize = 200;
const MAX_TIME_OFF: usize = 100;
const MAX_RANGES_PER_DAY: usize = 8;

fn photo_url(v: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(url) = validate::opt_text("photo_url", v, 2000)? else { return Ok(None) };
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') && !url.contains(char::is_whitespace) => Ok(Some(url)),
        _ => Err(FieldError::new("photo_url", format!("{url:?} is not a web address (https://…)"))),
    }
}

impl UpsertGuideV1 {
    fn validated(&self) -> Result<Guide, FieldError> {
        // Existing guides keep their ids (the demo's and imported ones need not be UUIDs); a
        // new guide's id is a UUID, checked in `apply` once the store has answered.
        let id = validate::row_ref("id", &self.id)?;
        let first_name = validate::text("first_name", &self.first_name, 100)?;
        let last_name = validate::free_text("last_name", &self.last_name, 100)?;
        let email = validate::email("email", &self.email)?;
        let phone = match self.phone.trim() {
            "" => String::new(),
            p => validate::phone("phone", p, None)?,
        };
        if self.languages.is_empty() {
            return Err(FieldError::new("languages", "name at least one language the guide speaks"));
        }
        let mut languages = Vec::with_capacity(self.languages.len());
        for (i, l) in self.languages.iter().enumerate() {
            let l = validate::language(&format!("languages[{i}]"), l)?;
            if !languages.contains(&l) {
                languages.push(l);
            }
        }
        let timezone = self.timezone.trim().to_string();
        validate::timezone("timezone", &timezone)?;
        for (day, ranges) in &self.weekly_availability.0 {
            let field = format!("weekly_availability.{day}");
            if *day > 6 {
                return Err(FieldError::new(field, "weekdays are 0 (Sunday) to 6 (Saturday)"));
            }
            if ranges.len() > MAX_RANGES_PER_DAY {
                return Err(FieldError::new(field, format!("at most {MAX_RANGES_PER_DAY} ranges a day")));
            }
            for (i, r) in ranges.iter().enumerate() {
                if r.start >= r.end {
                    return Err(FieldError::new(
                        format!("{field}[{i}]"),
                        format!("{} – {} ends before it starts", r.start, r.end),
                    ));
                }
            }
        }
        if self.qualified_tour_ids.len() > MAX_QUALIFIED {
            return Err(FieldError::new("qualified_tour_ids", format!("at most {MAX_QUALIFIED} tours")));
        }
        let mut qualified = Vec::with_capacity(self.qualified_tour_ids.len());
        for (i, t) in self.qualified_tour_ids.iter().enumerate() {
            let t = validate::row_ref(&format!("qualified_tour_ids[{i}]"), t)?;
            if !qualified.contains(&t) {
                qualified.push(t);
            }
        }
        qualified.sort();
        if self.time_off.len() > MAX_TIME_OFF {
            return Err(FieldError::new("time_off", format!("at most {MAX_TIME_OFF} periods")));
        }
        let mut time_off = Vec::with_capacity(self.time_off.len());
        for (i, t) in self.time_off.iter().enumerate() {
            if t.end < t.start {
                return Err(FieldError::new(
                    format!("time_off[{i}].end"),
                    format!("{} is before the first day off {}", t.end, t.start),
                ));
            }
            let reason = validate::opt_text(&format!("time_off[{i}].reason"), t.reason.as_deref(), 200)?;
            time_off.push(TimeOff { start: t.start, end: t.end, reason });
        }
        time_off.sort_by_key(|t| (t.start, t.end));
        Ok(Guide {
            id,
            organization_id: String::new(),
            user_id: None,
            first_name,
            last_name,
            email,
            phone,
            languages,
            timezone,
            weekly_availability: self.weekly_availability.clone(),
            status: self.status,
            qualified_tour_ids: qualified,
            bio: validate::opt_text("bio", self.bio.as_deref(), 4000)?,
            photo_url: photo_url(self.photo_url.as_deref())?,
            emergency_contact: validate::opt_text("emergency_contact", self.emergency_contact.as_deref(), 200)?,
            time_off,
        })
    }
}

impl Mutator for UpsertGuideV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let mut keys = vec![ReadKey::Guide(norm_ref(&self.id))];
        keys.extend(self.qualified_tour_ids.iter().map(|t| ReadKey::Tour(norm_ref(t))));
        keys
    }

    fn locks(&self, key: &ReadKey) -> bool {
        // The guide row is replaced; tours are only looked up.
        matches!(key, ReadKey::Guide(_))
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::GuidesWrite, "manage guides")?;
        let mut guide = self.validated()?;
        for (i, t) in guide.qualified_tour_ids.iter().enumerate() {
            if view.tour(t)?.is_none() {
                return Err(Rejection::Invalid(FieldError::new(
                    format!("qualified_tour_ids[{i}]"),
                    format!("tour {t} does not exist"),
                ))
                .into());
            }
        }
        let before = view.guide(&guide.id)?;
        if before.is_none() {
            validate::id("id", &guide.id)?;
        }
        guide.organization_id = ctx.organization_id.clone();
        guide.user_id = match &self.user_id {
            None => before.as_ref().and_then(|g| g.user_id.clone()),
            Some(None) => None,
            Some(Some(u)) => Some(validate::row_ref("user_id", u)?),
        };
        if before.as_ref() == Some(&guide) {
            return Ok(vec![]);
        }
        Ok(vec![Change::PutGuide(guide)])
    }
}

assign_guide_args! {
    /// Arguments of `assign_guide.v2`: v1 plus the guide's role on the departure and a manager's
    /// override. Without `override_reason` any conflict refuses the assignment, all of them named;
    /// with one (managers and up, [`Permission::Overbook`]) the guide is assigned anyway and the
    /// conflicts are audited with the reason.
    pub struct AssignGuideV2 {
        #[serde(default)]
        pub role: AssignmentRole,
    } then {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub override_reason: Option<String>,
    }
}

impl Mutator for AssignGuideV2 {
    fn reads(&self) -> Vec<ReadKey> {
        assign_reads(&self.departure_id, &self.guide_id)
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::SchedulesWrite, "assign guides")?;
        let override_reason = validate::opt_text("override_reason", self.override_reason.as_deref(), 500)?;
        if override_reason.is_some() {
            require(ctx, Permission::Overbook, "override a guide's conflicts")?;
        }
        let a = self.assigning(view)?;
        if a.existing.as_ref().is_some_and(|e| e.status != AssignmentStatus::Declined && e.role == self.role) {
            return Ok(vec![]);
        }
        let mut changes = Vec::new();
        if let Err(conflicts) = &a.conflicts {
            let Some(reason) = &override_reason else {
                return Err(Rejection::GuideConflict { conflicts: conflicts.clone() }.into());
            };
            changes.push(Change::Audit(AuditEntry {
                action: "guide_assignment.overridden".into(),
                entity: "guide_assignment".into(),
                entity_id: a.existing.as_ref().map_or(a.id.clone(), |e| e.id.clone()),
                actor_id: ctx.user_id.clone(),
                at: ctx.now,
                detail: json!({
                    "departure_id": a.departure_id,
                    "guide_id": a.guide_id,
                    "reason": reason,
                    "conflicts": conflicts,
                }),
            }));
        }
        if self.role == AssignmentRole::Lead {
            let other_lead = view.departure_guides(&a.departure_id)?.into_iter().find(|g| {
                g.guide_id != a.guide_id && g.status != AssignmentStatus::Declined && g.role == AssignmentRole::Lead
            });
            if let Some(other) = other_lead {
                return Err(Rejection::conflict(
                    "role",
                    format!("guide {} already leads this departure; assign this guide as an assistant", other.guide_id),
                )
                .into());
            }
        }
        changes.insert(0, Change::PutGuideAssignment(a.assignment(ctx, self.role, override_reason)));
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::testkit::*;
    use super::*;
    use crate::entities::{Departure, Guide};
    use crate::guides::{ExistingAssignment, GuideConflict, GuideStatus};
    use crate::roles::Role;
    use crate::status::DepartureStatus;
    use chrono::Duration;
    use serde_json::{Value, json};

    const ID: &str = "00000000-0000-4000-8000-00000000a551";

    fn assign() -> Value {
        json!({"id": ID, "departure_id": DEPARTURE, "guide_id": GUIDE, "required_language": "FR"})
    }

    #[test]
    fn assign_and_unassign() {
        let mem = world();
        let ch = run_write(&mem, "assign_guide.v1", assign(), Role::Manager);
        assert!(matches!(&ch[..], [Change::PutGuideAssignment(a)]
            if a.id == ID && a.status == AssignmentStatus::Pending && a.assigned_at == now()));
        assert!(run_ok(&mem, "assign_guide.v1", assign(), Role::Manager).is_empty(), "already assigned");
        let un = json!({"departure_id": DEPARTURE, "guide_id": GUIDE});
        assert_eq!(
            run_write(&mem, "unassign_guide.v1", un.clone(), Role::Manager),
            [Change::DeleteGuideAssignment { id: ID.into() }]
        );
        assert!(run_ok(&mem, "unassign_guide.v1", un.clone(), Role::Manager).is_empty(), "not assigned");
        assert_eq!(run_err(&mem, "unassign_guide.v1", un, Role::Guide), "NOT_AUTHORIZED");
        let elsewhere = json!({"departure_id": "d-of-another-org", "guide_id": GUIDE});
        assert_eq!(run_err(&mem, "unassign_guide.v1", elsewhere, Role::Manager), "NOT_FOUND");
        let stranger = json!({"departure_id": DEPARTURE, "guide_id": "g-of-another-org"});
        assert_eq!(run_err(&mem, "unassign_guide.v1", stranger, Role::Manager), "NOT_FOUND");
    }

    #[test]
    fn every_refusal_is_typed() {
        let mem = world();
        mem.put_departure(Departure { id: "d-done".into(), status: DepartureStatus::Completed, ..departure() });
        let conflicts = |mem: &Mem, args: Value| match run(mem, "assign_guide.v1", args, Role::Owner) {
            Err(ApplyError::Rejected(Rejection::GuideConflict { conflicts })) => conflicts.0,
            other => panic!("{other:?}"),
        };
        // Language.
        let c = conflicts(&mem, patch(assign(), &[("required_language", "de".into())]));
        assert_eq!(c, [GuideConflict::MissingLanguage { required: "de".into() }]);
        // Overlap with another departure of the guide, within the turnaround.
        let other_start = departure().ends_at + Duration::minutes(20);
        mem.state.borrow_mut().guide_schedules.insert(
            GUIDE.into(),
            vec![ExistingAssignment {
                departure_id: "d-other".into(),
                starts_at: other_start,
                ends_at: other_start + Duration::hours(1),
                status: AssignmentStatus::Confirmed,
            }],
        );
        assert!(run_ok(&mem, "assign_guide.v1", assign(), Role::Owner).len() == 1, "20 minutes apart is fine");
        let c = conflicts(&mem, patch(assign(), &[("turnaround_minutes", 30.into())]));
        assert!(matches!(&c[..], [GuideConflict::Overlap { departure_id, .. }] if departure_id == "d-other"));
        // Not active, not qualified, unavailable: all reported at once.
        let mut g: Guide = guide();
        g.status = GuideStatus::OnLeave;
        g.qualified_tour_ids.clear();
        g.weekly_availability = Default::default();
        mem.state.borrow_mut().guides.insert(GUIDE.into(), g);
        let c = conflicts(&mem, assign());
        assert_eq!(c.len(), 3, "{c:?}");

        let cases: Vec<(Value, Role, &str)> = vec![
            (assign(), Role::Guide, "NOT_AUTHORIZED"),
            (patch(assign(), &[("id", "a-1".into())]), Role::Owner, "INVALID"),
            (patch(assign(), &[("required_language", "elvish".into())]), Role::Owner, "INVALID"),
            (patch(assign(), &[("departure_id", "d-404".into())]), Role::Owner, "NOT_FOUND"),
            (patch(assign(), &[("guide_id", "g-404".into())]), Role::Owner, "NOT_FOUND"),
            (patch(assign(), &[("departure_id", "d-done".into())]), Role::Owner, "CONFLICT"),
        ];
        for (a, role, code) in cases {
            assert_eq!(run_err(&mem, "assign_guide.v1", a.clone(), role), code, "{a}");
        }
    }

    #[test]
    fn a_declined_guide_is_asked_again_on_the_same_row() {
        let mem = world();
        mem.write(Change::PutGuideAssignment(GuideAssignment {
            id: "a-old".into(),
            organization_id: ORG.into(),
            departure_id: DEPARTURE.into(),
            guide_id: GUIDE.into(),
            status: AssignmentStatus::Declined,
            assigned_at: now() - Duration::days(3),
            confirmed_at: None,
            notes: None,
            role: AssignmentRole::Lead,
            override_reason: None,
        }));
        let ch = run_ok(&mem, "assign_guide.v1", assign(), Role::Manager);
        assert!(
            matches!(&ch[..], [Change::PutGuideAssignment(a)] if a.id == "a-old" && a.status == AssignmentStatus::Pending)
        );
    }

    const NEW_GUIDE: &str = "00000000-0000-4000-8000-0000000060e1";

    fn profile() -> Value {
        json!({
            "id": NEW_GUIDE, "first_name": " Rui ", "last_name": "Costa", "email": "Rui@Example.com",
            "phone": "+351 912 000 999", "languages": ["pt", "en", "pt"], "timezone": "Europe/Lisbon",
            "weekly_availability": {"1": [{"start": "08:00", "end": "18:00"}]}, "status": "active",
            "qualified_tour_ids": [TOUR], "bio": "Born in Alfama.", "photo_url": "https://example.com/rui.jpg",
            "emergency_contact": "Ana Costa +351 912 000 998",
            "time_off": [{"start": "2026-08-10", "end": "2026-08-14", "reason": "Holiday"}]
        })
    }

    #[test]
    fn upsert_guide_creates_replaces_and_keeps_the_login() {
        let mem = world();
        let ch = run_write(&mem, "upsert_guide.v1", profile(), Role::Manager);
        let Change::PutGuide(g) = &ch[0] else { panic!("{ch:?}") };
        assert_eq!(
            (g.first_name.as_str(), g.email.as_str(), g.phone.as_str()),
            ("Rui", "rui@example.com", "+351912000999")
        );
        assert_eq!(g.languages, ["pt", "en"]);
        assert_eq!(g.organization_id, ORG);
        assert_eq!(g.time_off.len(), 1);
        assert_eq!(g.user_id, None);
        // The same form again changes nothing.
        assert!(run_ok(&mem, "upsert_guide.v1", profile(), Role::Manager).is_empty());
        // Linking a login, then an edit without `user_id` keeps it, `null` clears it.
        let ch = run_write(&mem, "upsert_guide.v1", patch(profile(), &[("user_id", "u-rui".into())]), Role::Admin);
        assert!(matches!(&ch[..], [Change::PutGuide(g)] if g.user_id.as_deref() == Some("u-rui")));
        let ch = run_write(&mem, "upsert_guide.v1", patch(profile(), &[("status", "on_leave".into())]), Role::Owner);
        assert!(matches!(&ch[..], [Change::PutGuide(g)] if g.user_id.as_deref() == Some("u-rui")));
        let ch = run_write(&mem, "upsert_guide.v1", patch(profile(), &[("user_id", Value::Null)]), Role::Owner);
        assert!(matches!(&ch[..], [Change::PutGuide(g)] if g.user_id.is_none()));
    }

    #[test]
    fn upsert_guide_refusals_name_their_field() {
        let mem = world();
        let field = |args: Value, role: Role| match run(&mem, "upsert_guide.v1", args, role) {
            Err(ApplyError::Rejected(Rejection::Invalid(e))) => e.field,
            Err(ApplyError::Rejected(r)) => r.code().to_string(),
            other => panic!("{other:?}"),
        };
        let cases: Vec<(Value, Role, &str)> = vec![
            (profile(), Role::Guide, "NOT_AUTHORIZED"),
            (patch(profile(), &[("id", "g-new".into())]), Role::Owner, "id"),
            (patch(profile(), &[("first_name", " ".into())]), Role::Owner, "first_name"),
            (patch(profile(), &[("email", "rui@".into())]), Role::Owner, "email"),
            (patch(profile(), &[("phone", "12".into())]), Role::Owner, "phone"),
            (patch(profile(), &[("languages", json!([]))]), Role::Owner, "languages"),
            (patch(profile(), &[("languages", json!(["en", "elvish"]))]), Role::Owner, "languages[1]"),
            (patch(profile(), &[("timezone", "Mars/Olympus".into())]), Role::Owner, "timezone"),
            (
                patch(profile(), &[("weekly_availability", json!({"2": [{"start": "18:00", "end": "09:00"}]}))]),
                Role::Owner,
                "weekly_availability.2[0]",
            ),
            (
                patch(profile(), &[("weekly_availability", json!({"7": [{"start": "08:00", "end": "09:00"}]}))]),
                Role::Owner,
                "weekly_availability.7",
            ),
            (patch(profile(), &[("qualified_tour_ids", json!([TOUR, "t-404"]))]), Role::Owner, "qualified_tour_ids[1]"),
            (patch(profile(), &[("photo_url", "javascript:alert(1)".into())]), Role::Owner, "photo_url"),
            (
                patch(profile(), &[("time_off", json!([{"start": "2026-08-10", "end": "2026-08-01"}]))]),
                Role::Owner,
                "time_off[0].end",
            ),
        ];
        for (args, role, want) in cases {
            assert_eq!(field(args.clone(), role), want, "{args}");
        }
        assert!(!mem.state.borrow().guides.contains_key(NEW_GUIDE), "nothing half-saved");
    }

    fn assign2() -> Value {
        json!({"id": ID, "departure_id": DEPARTURE, "guide_id": GUIDE, "role": "assistant"})
    }

    #[test]
    fn assign_v2_reports_every_conflict_and_a_manager_may_override_with_a_reason() {
        let mem = world();
        let mut g: Guide = guide();
        g.qualified_tour_ids.clear();
        g.languages = vec!["de".into()];
        g.weekly_availability = Default::default();
        let day = departure().local_date;
        g.time_off = vec![crate::guides::TimeOff { start: day, end: day, reason: None }];
        mem.state.borrow_mut().guides.insert(GUIDE.into(), g);
        let args = patch(assign2(), &[("required_language", "fr".into())]);
        let c = match run(&mem, "assign_guide.v2", args.clone(), Role::Manager) {
            Err(ApplyError::Rejected(Rejection::GuideConflict { conflicts })) => conflicts.0,
            other => panic!("{other:?}"),
        };
        let kinds: Vec<String> =
            c.iter().map(|c| serde_json::to_value(c).unwrap()["kind"].as_str().unwrap().to_string()).collect();
        assert_eq!(kinds, ["not_qualified", "missing_language", "outside_availability", "time_off"]);
        // A blank reason is no reason.
        let blank = patch(args.clone(), &[("override_reason", " ".into())]);
        assert_eq!(run_err(&mem, "assign_guide.v2", blank, Role::Manager), "GUIDE_CONFLICT");
        let forced = patch(args, &[("override_reason", "Only French speaker free; cleared with Gil".into())]);
        let ch = run_write(&mem, "assign_guide.v2", forced, Role::Manager);
        let [Change::PutGuideAssignment(a), Change::Audit(audit)] = &ch[..] else { panic!("{ch:?}") };
        assert_eq!(a.role, AssignmentRole::Assistant);
        assert!(a.override_reason.as_deref().is_some_and(|r| r.starts_with("Only French")));
        assert_eq!(audit.action, "guide_assignment.overridden");
        assert_eq!(audit.actor_id, ctx(Role::Manager).user_id);
        assert_eq!(audit.detail["conflicts"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn one_lead_per_departure() {
        let mem = world();
        let second = "00000000-0000-4000-8000-0000000060e2";
        let mut g2 = guide();
        g2.id = second.into();
        g2.user_id = None;
        mem.state.borrow_mut().guides.insert(second.into(), g2);
        // GUIDE leads DEPARTURE in the world; a second lead is refused at `role`.
        let lead = json!({"id": ID, "departure_id": DEPARTURE, "guide_id": second, "role": "lead"});
        match run(&mem, "assign_guide.v2", lead, Role::Manager) {
            Err(ApplyError::Rejected(Rejection::Conflict { field, .. })) => assert_eq!(field, "role"),
            other => panic!("{other:?}"),
        }
        let assistant = json!({"id": ID, "departure_id": DEPARTURE, "guide_id": second, "role": "assistant"});
        let ch = run_write(&mem, "assign_guide.v2", assistant, Role::Manager);
        assert!(matches!(&ch[..], [Change::PutGuideAssignment(a)] if a.role == AssignmentRole::Assistant));
        // A guide may not override.
        let forced = patch(assign2(), &[("override_reason", "x".into())]);
        assert_eq!(run_err(&mem, "assign_guide.v2", forced, Role::Guide), "NOT_AUTHORIZED");
    }
}

//! Who leads a departure.

use serde::{Deserialize, Serialize};

use super::{ApplyError, Change, MutationCtx, Mutator, ReadKey, ReadView, Rejection, norm_ref, require};
use crate::entities::GuideAssignment;
use crate::guides::{AssignmentRequest, AssignmentStatus, check_assignment};
use crate::roles::Permission;
use crate::status::StateMachine;
use crate::validate;

/// Arguments of `assign_guide.v1`. Assigning a guide already assigned changes nothing; a guide
/// who had declined is asked again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignGuideV1 {
    /// The assignment's id, a UUID made by the client.
    pub id: String,
    pub departure_id: String,
    pub guide_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_language: Option<String>,
    /// Minutes the guide needs between departures.
    #[serde(default)]
    pub turnaround_minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

impl Mutator for AssignGuideV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let (departure_id, guide_id) = (norm_ref(&self.departure_id), norm_ref(&self.guide_id));
        vec![
            ReadKey::Departure(departure_id.clone()),
            ReadKey::Guide(guide_id.clone()),
            ReadKey::GuideSchedule(guide_id.clone()),
            ReadKey::GuideAssignment { departure_id, guide_id },
        ]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::SchedulesWrite, "assign guides")?;
        let id = validate::id("id", &self.id)?;
        let departure_id = validate::row_ref("departure_id", &self.departure_id)?;
        let guide_id = validate::row_ref("guide_id", &self.guide_id)?;
        let required_language =
            self.required_language.as_deref().map(|l| validate::language("required_language", l)).transpose()?;
        let turnaround = validate::range_u32("turnaround_minutes", self.turnaround_minutes, 0, 24 * 60)?;
        let notes = validate::opt_text("notes", self.notes.as_deref(), 1000)?;

        let dep = view.departure(&departure_id)?.ok_or_else(|| Rejection::not_found("departure", &departure_id))?;
        if dep.status.is_terminal() {
            return Err(Rejection::conflict("departure_id", format!("the departure is {}", dep.status)).into());
        }
        let guide = view.guide(&guide_id)?.ok_or_else(|| Rejection::not_found("guide", &guide_id))?;
        let existing = view.guide_assignment(&departure_id, &guide_id)?;
        if existing.as_ref().is_some_and(|a| a.status != AssignmentStatus::Declined) {
            return Ok(vec![]);
        }
        let schedule = view.guide_schedule(&guide_id)?;
        let req = AssignmentRequest {
            departure_id: &departure_id,
            tour_id: &dep.tour_id,
            starts_at: dep.starts_at,
            ends_at: dep.ends_at,
            required_language: required_language.as_deref(),
            turnaround_minutes: turnaround,
        };
        check_assignment(&guide.profile(), &req, &schedule)
            .map_err(|conflicts| Rejection::GuideConflict { conflicts })?;
        Ok(vec![Change::PutGuideAssignment(GuideAssignment {
            // Asking a guide who declined again reuses the row: one per guide and departure.
            id: existing.map_or(id, |a| a.id),
            organization_id: ctx.organization_id.clone(),
            departure_id,
            guide_id,
            status: AssignmentStatus::Pending,
            assigned_at: ctx.now,
            confirmed_at: None,
            notes,
        })])
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
        }));
        let ch = run_ok(&mem, "assign_guide.v1", assign(), Role::Manager);
        assert!(
            matches!(&ch[..], [Change::PutGuideAssignment(a)] if a.id == "a-old" && a.status == AssignmentStatus::Pending)
        );
    }
}

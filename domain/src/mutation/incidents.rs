//! `record_departure_incident.v1`: a guide's note on a departure they lead (see `incident`).
//!
//! The office's own note on a departure is `set_departure_notes.v1` (one text, staff only);
//! this one is appended, timestamped and signed by the guide, and only a guide leading the
//! departure when they wrote it may add one — the same rule as attendance (`guides::led_at`), so
//! a guide taken off the departure while offline still delivers what they wrote before.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ApplyError, Change, MutationCtx, Mutator, ReadKey, ReadView, Rejection, norm_ref};
use crate::hlc::MAX_CLOCK_SKEW;
use crate::incident::{DepartureIncident, INCIDENT_TEXT_MAX};
use crate::roles::Role;
use crate::validate::{self, FieldError};

/// Arguments of `record_departure_incident.v1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordDepartureIncidentV1 {
    /// A UUID made by the writing device; it becomes the note's id.
    pub nonce: String,
    pub departure_id: String,
    /// When the guide wrote it (the device's clock).
    pub at: DateTime<Utc>,
    pub text: String,
}

impl Mutator for RecordDepartureIncidentV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let id = norm_ref(&self.departure_id);
        vec![ReadKey::Departure(id.clone()), ReadKey::DepartureGuides(id.clone()), ReadKey::GuideRemovals(id)]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        let nonce = validate::id("nonce", &self.nonce)?;
        let departure_id = validate::row_ref("departure_id", &self.departure_id)?;
        let text = validate::free_text("text", &self.text, INCIDENT_TEXT_MAX)?;
        if text.is_empty() {
            return Err(FieldError::new("text", "is required").into());
        }
        let dep = view.departure(&departure_id)?.ok_or_else(|| Rejection::not_found("departure", &departure_id))?;
        let leads = ctx.role == Role::Guide
            && crate::guides::led_at(
                &view.departure_guides(&dep.id)?,
                &view.guide_removals(&dep.id)?,
                &ctx.user_id,
                self.at,
            );
        if !leads {
            let action = if ctx.role == Role::Guide {
                "write a field note on a departure you do not lead"
            } else {
                "write a guide's field note (only the departure's guides do; the office uses the departure's notes)"
            };
            return Err(Rejection::NotAuthorized { action: action.into() }.into());
        }
        if self.at > ctx.now + MAX_CLOCK_SKEW {
            return Err(Rejection::ClockSkew { field: "at".into(), stamp: self.at.to_rfc3339() }.into());
        }
        Ok(vec![Change::PutDepartureIncident(DepartureIncident {
            id: nonce,
            organization_id: ctx.organization_id.clone(),
            departure_id: dep.id,
            at: self.at,
            text,
            recorded_by: ctx.user_id.clone(),
        })])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::Duration;
    use serde_json::{Value, json};

    use super::super::testkit::*;
    use super::*;
    use crate::guides::GuideRemoval;

    const NOTE: &str = "00000000-0000-4000-8000-00000000e001";

    fn note(text: &str, at: DateTime<Utc>) -> Value {
        json!({"nonce": NOTE, "departure_id": DEPARTURE, "at": at, "text": text})
    }

    #[test]
    fn the_guide_leading_the_departure_appends_a_signed_timestamped_note() {
        let mem = world();
        let at = now() - Duration::minutes(5);
        let changes = run_write(&mem, "record_departure_incident.v1", note("  Bus 20 min late\n", at), Role::Guide);
        let [Change::PutDepartureIncident(i)] = &changes[..] else { panic!("{changes:?}") };
        assert_eq!((i.id.as_str(), i.departure_id.as_str()), (NOTE, DEPARTURE));
        assert_eq!((i.text.as_str(), i.at, i.recorded_by.as_str()), ("Bus 20 min late", at, GUIDE_USER));
        assert_eq!(mem.state.borrow().incidents.len(), 1);
        // The office's notes are untouched: a different thing.
        assert!(mem.state.borrow().departures[DEPARTURE].notes.is_empty());
    }

    #[test]
    fn anyone_but_a_guide_leading_the_departure_is_refused_with_the_reason() {
        let mem = world();
        let e = run(&mem, "record_departure_incident.v1", note("x", now()), Role::Manager).unwrap_err();
        assert!(e.to_string().contains("office uses the departure's notes"), "{e}");
        let other = MutationCtx { user_id: "u-other-guide".into(), ..ctx(Role::Guide) };
        let e = run_ctx(&mem, "record_departure_incident.v1", note("x", now()), &other).unwrap_err();
        assert_eq!(e.to_string(), "your role may not write a field note on a departure you do not lead");
        let ApplyError::Rejected(r) = e else { panic!() };
        assert_eq!(r.code(), "NOT_AUTHORIZED");
        // Taken off the departure: what was written while it was theirs still counts, later not.
        let removed_at = now() - Duration::hours(1);
        {
            let mut s = mem.state.borrow_mut();
            s.departure_guides.clear();
            s.guide_removals.insert(
                DEPARTURE.into(),
                vec![GuideRemoval {
                    guide_id: GUIDE.into(),
                    user_id: Some(GUIDE_USER.into()),
                    assigned_at: now() - Duration::days(3),
                    removed_at,
                }],
            );
        }
        run_ok(&mem, "record_departure_incident.v1", note("before", removed_at - Duration::minutes(1)), Role::Guide);
        assert_eq!(run_err(&mem, "record_departure_incident.v1", note("after", now()), Role::Guide), "NOT_AUTHORIZED");
    }

    #[test]
    fn bad_notes_are_refused_at_their_field() {
        let mem = world();
        let field = |args: Value| match run(&mem, "record_departure_incident.v1", args, Role::Guide) {
            Err(ApplyError::Rejected(Rejection::Invalid(f))) => f.field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(note("   ", now())), "text");
        assert_eq!(field(note(&"x".repeat(INCIDENT_TEXT_MAX + 1), now())), "text");
        assert_eq!(field(note("a\u{0}b", now())), "text");
        assert_eq!(field(patch(note("x", now()), &[("nonce", json!("not a uuid!"))])), "nonce");
        let far = now() + MAX_CLOCK_SKEW + Duration::minutes(1);
        assert_eq!(run_err(&mem, "record_departure_incident.v1", note("x", far), Role::Guide), "CLOCK_SKEW");
        let missing = patch(note("x", now()), &[("departure_id", json!("v-1@2030-01-01T09:00:00"))]);
        assert_eq!(run_err(&mem, "record_departure_incident.v1", missing, Role::Guide), "NOT_FOUND");
    }
}

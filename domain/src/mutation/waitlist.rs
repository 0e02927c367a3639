//! The waitlist: customers who want seats on a departure that could not sell them.
//!
//! An entry is a request, not a hold: it takes no seats and touches no counter, so entries never
//! conflict with each other or with bookings and the intent needs no lock on the departure's
//! seats. Its id is a UUID the client makes, so a replayed intent writes the same row again.
//!
//! `remove_from_waitlist.v1` takes an entry off the list (`waitlist::removal_refused` says which
//! may go). It locks the entry's row, so on the server it is decided against the offers job,
//! which claims the same rows `FOR UPDATE`: an entry offered meanwhile is refused, not removed.

use serde::{Deserialize, Serialize};

use super::{ApplyError, Change, MutationCtx, Mutator, ReadKey, ReadView, Rejection, norm_ref, require};
use crate::entities::{WaitlistEntry, WaitlistLine};
use crate::roles::Permission;
use crate::status::StateMachine;
use crate::validate::{self, FieldError};
use crate::waitlist::{WaitlistStatus, removal_refused};

/// Arguments of `add_to_waitlist.v1`: who wants how many seats of which tiers on a departure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddToWaitlistV1 {
    pub id: String,
    pub tour_id: String,
    pub departure_id: String,
    pub customer_id: String,
    pub lines: Vec<WaitlistLine>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

impl Mutator for AddToWaitlistV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![
            ReadKey::Departure(norm_ref(&self.departure_id)),
            ReadKey::Customer(norm_ref(&self.customer_id)),
            ReadKey::Tour(norm_ref(&self.tour_id)),
        ]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::BookingsWrite, "put customers on the waitlist")?;
        let id = validate::id("id", &self.id)?;
        let tour_id = validate::row_ref("tour_id", &self.tour_id)?;
        let departure_id = validate::row_ref("departure_id", &self.departure_id)?;
        let customer_id = validate::row_ref("customer_id", &self.customer_id)?;
        let notes = validate::opt_text("notes", self.notes.as_deref(), 1000)?;
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, l) in self.lines.iter().enumerate() {
            let quantity = validate::range_u32(&format!("lines[{i}].quantity"), l.quantity, 1, 1000)?;
            let tier_id = validate::row_ref(&format!("lines[{i}].tier_id"), &l.tier_id)?;
            lines.push(WaitlistLine { tier_id, quantity });
        }
        let party_size: u32 = lines.iter().map(|l| l.quantity).sum();
        if party_size == 0 {
            return Err(FieldError::new("lines", "at least one seat is needed").into());
        }

        view.tour(&tour_id)?.ok_or_else(|| Rejection::not_found("tour", &tour_id))?;
        let dep = view.departure(&departure_id)?.ok_or_else(|| Rejection::not_found("departure", &departure_id))?;
        if dep.tour_id != tour_id {
            return Err(FieldError::new("tour_id", format!("departure {departure_id} is not of tour {tour_id}")).into());
        }
        // Waiting for a departure that will never run helps nobody.
        if dep.status.is_terminal() {
            return Err(Rejection::conflict("departure_id", format!("the departure is {}", dep.status)).into());
        }
        view.customer(&customer_id)?.ok_or_else(|| Rejection::not_found("customer", &customer_id))?;
        Ok(vec![Change::PutWaitlistEntry(WaitlistEntry {
            id,
            organization_id: ctx.organization_id.clone(),
            tour_id,
            departure_id,
            customer_id,
            lines,
            party_size,
            notes,
            created_by: ctx.user_id.clone(),
            created_at: ctx.now,
            status: WaitlistStatus::Waiting,
            offered_at: None,
            offer_expires_at: None,
            offer_booking_id: None,
        })])
    }
}

/// Arguments of `remove_from_waitlist.v1`: the entry to take off its departure's waitlist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveFromWaitlistV1 {
    pub id: String,
}

impl Mutator for RemoveFromWaitlistV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::WaitlistEntry(norm_ref(&self.id))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::BookingsWrite, "take customers off the waitlist")?;
        let id = validate::row_ref("id", &self.id)?;
        let entry = view.waitlist_entry(&id)?.ok_or_else(|| Rejection::not_found("waitlist entry", &id))?;
        if let Some(why) = removal_refused(entry.status) {
            return Err(Rejection::conflict("id", why).into());
        }
        Ok(vec![Change::PutWaitlistEntry(WaitlistEntry { status: WaitlistStatus::Removed, ..entry })])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::super::testkit::*;
    use super::*;
    use crate::entities::Departure;
    use crate::roles::Role;
    use crate::status::DepartureStatus;
    use serde_json::{Value, json};

    const ID: &str = "00000000-0000-4000-8000-0000000a1701";

    fn args() -> Value {
        json!({"id": ID, "tour_id": TOUR, "departure_id": DEPARTURE, "customer_id": CUSTOMER,
               "lines": [{"tier_id": ADULT, "quantity": 2}, {"tier_id": CHILD, "quantity": 1}], "notes": "any time"})
    }

    #[test]
    fn a_full_departure_takes_a_waitlist_entry_without_seats() {
        let mem = world();
        mem.put_departure(Departure { booked_count: 10, status: DepartureStatus::Full, ..departure() });
        let ch = run_ok(&mem, "add_to_waitlist.v1", args(), Role::Manager);
        let [Change::PutWaitlistEntry(e)] = ch.as_slice() else { panic!("{ch:?}") };
        assert_eq!((e.party_size, e.created_by.as_str(), e.created_at), (3, STAFF, now()));
        assert_eq!(e.notes.as_deref(), Some("any time"));
    }

    #[test]
    fn refusals() {
        let mem = world();
        let cases: Vec<(Value, Role, &str)> = vec![
            (args(), Role::Guide, "NOT_AUTHORIZED"),
            (patch(args(), &[("lines", json!([]))]), Role::Owner, "INVALID"),
            (patch(args(), &[("lines", json!([{"tier_id": ADULT, "quantity": 0}]))]), Role::Owner, "INVALID"),
            (patch(args(), &[("customer_id", "nobody".into())]), Role::Owner, "NOT_FOUND"),
            (patch(args(), &[("departure_id", "nowhere".into())]), Role::Owner, "NOT_FOUND"),
            (patch(args(), &[("id", "not a uuid".into())]), Role::Owner, "INVALID"),
        ];
        for (a, role, code) in cases {
            assert_eq!(run_err(&mem, "add_to_waitlist.v1", a.clone(), role), code, "{a}");
        }
        mem.put_departure(Departure { status: DepartureStatus::Cancelled, ..departure() });
        assert_eq!(run_err(&mem, "add_to_waitlist.v1", args(), Role::Owner), "CONFLICT");
    }

    /// A world with one entry made by `add_to_waitlist.v1`, then set to `status`.
    fn with_entry(status: WaitlistStatus) -> Mem {
        let mem = world();
        run_write(&mem, "add_to_waitlist.v1", args(), Role::Manager);
        mem.state.borrow_mut().waitlist.get_mut(ID).unwrap().status = status;
        mem
    }

    #[test]
    fn a_waiting_or_lapsed_entry_is_removed_keeping_everything_else() {
        for status in [WaitlistStatus::Waiting, WaitlistStatus::Lapsed] {
            let mem = with_entry(status);
            let before = mem.state.borrow().waitlist[ID].clone();
            let ch = run_ok(&mem, "remove_from_waitlist.v1", json!({"id": ID}), Role::Manager);
            let [Change::PutWaitlistEntry(e)] = ch.as_slice() else { panic!("{ch:?}") };
            assert_eq!(e.status, WaitlistStatus::Removed);
            assert_eq!(WaitlistEntry { status, ..e.clone() }, before, "only the status changes");
        }
    }

    #[test]
    fn removal_refusals_write_nothing() {
        for (status, code) in [
            (WaitlistStatus::Booked, "CONFLICT"),
            (WaitlistStatus::Offered, "CONFLICT"),
            (WaitlistStatus::Removed, "CONFLICT"),
        ] {
            let mem = with_entry(status);
            match run(&mem, "remove_from_waitlist.v1", json!({"id": ID}), Role::Owner) {
                Err(ApplyError::Rejected(r)) => {
                    assert_eq!(r.code(), code, "{status}");
                    assert_eq!(r.to_string(), removal_refused(status).unwrap(), "the reason the inbox shows");
                }
                other => panic!("{status}: {other:?}"),
            }
        }
        let mem = with_entry(WaitlistStatus::Waiting);
        assert_eq!(run_err(&mem, "remove_from_waitlist.v1", json!({"id": ID}), Role::Guide), "NOT_AUTHORIZED");
        assert_eq!(run_err(&mem, "remove_from_waitlist.v1", json!({"id": "nobody"}), Role::Owner), "NOT_FOUND");
        assert_eq!(run_err(&mem, "remove_from_waitlist.v1", json!({"id": ""}), Role::Owner), "INVALID");
        assert_eq!(run_err(&mem, "remove_from_waitlist.v1", json!({"id": ID, "x": 1}), Role::Owner), "INVALID");
        assert_eq!(mem.state.borrow().waitlist[ID].status, WaitlistStatus::Waiting);
    }

    #[test]
    fn staff_who_sell_may_add_and_remove_guides_may_not() {
        for role in [Role::Owner, Role::Admin, Role::Manager] {
            let mem = world();
            run_write(&mem, "add_to_waitlist.v1", args(), role);
            run_ok(&mem, "remove_from_waitlist.v1", json!({"id": ID}), role);
        }
    }
}

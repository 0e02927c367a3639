//! The waitlist (issue 13 item 5): the `#/waitlist` screen's list, a departure's queue, and staff
//! adding a customer to a departure's waitlist or taking an entry off it. Both are intents like
//! any other: saved on the replica at once (offline too), queued, decided again by the server;
//! a refusal there lands in the conflict inbox.

use tauri::State;
use tourdesk_domain::ipc::{NewWaitlistEntry, WaitlistFilter, WaitlistRow};
use tourdesk_domain::mutation::{AddToWaitlistV1, Mutation, Rejection, RemoveFromWaitlistV1};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_local_store::StoreError;

use crate::Desk;
use crate::error::{DeskError, DeskResult};

/// The intent for the "Add to waitlist…" dialog: the departure's tour, as the replica has it.
pub fn add_to_waitlist_mutation(input: NewWaitlistEntry, tour_id: String, id: String) -> Mutation {
    let notes = input.notes.filter(|n| !n.trim().is_empty());
    Mutation::AddToWaitlistV1(AddToWaitlistV1 {
        id,
        tour_id,
        departure_id: input.departure_id,
        customer_id: input.customer_id,
        lines: input.lines.into_iter().filter(|l| l.quantity > 0).collect(),
        notes,
    })
}

/// Every entry this desk holds across departures, filtered.
#[tauri::command]
pub async fn list_waitlist(desk: State<'_, Desk>, filter: WaitlistFilter) -> DeskResult<Vec<WaitlistRow>> {
    Ok(desk.store.waitlist(&filter)?)
}

/// One departure's queue.
#[tauri::command]
pub async fn departure_waitlist(desk: State<'_, Desk>, departure_id: String) -> DeskResult<Vec<WaitlistRow>> {
    Ok(desk.store.departure_waitlist(&departure_id)?)
}

/// Puts a customer on a departure's waitlist (`add_to_waitlist.v1`); works offline.
#[tauri::command]
pub async fn add_to_waitlist(desk: State<'_, Desk>, input: NewWaitlistEntry) -> DeskResult<String> {
    let dep = desk.store.departure(&input.departure_id)?.ok_or_else(|| {
        DeskError::Store(StoreError::Rejected(Rejection::NotFound {
            entity: "departure".into(),
            id: input.departure_id.clone(),
        }))
    })?;
    let id = uuid::Uuid::new_v4().to_string();
    desk.store.mutate(&add_to_waitlist_mutation(input, dep.departure.tour_id, id.clone()))?;
    desk.sync.touched(&desk.store, &[EntityKind::WaitlistEntry], false);
    Ok(id)
}

/// Takes an entry off its waitlist (`remove_from_waitlist.v1`); works offline.
#[tauri::command]
pub async fn remove_from_waitlist(desk: State<'_, Desk>, id: String) -> DeskResult<()> {
    desk.store.mutate(&Mutation::RemoveFromWaitlistV1(RemoveFromWaitlistV1 { id }))?;
    desk.sync.touched(&desk.store, &[EntityKind::WaitlistEntry], false);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tourdesk_domain::entities::WaitlistLine;

    #[test]
    fn the_dialog_becomes_one_intent_without_empty_lines_or_notes() {
        let input = NewWaitlistEntry {
            departure_id: "d".into(),
            customer_id: "c".into(),
            lines: vec![
                WaitlistLine { tier_id: "adult".into(), quantity: 2 },
                WaitlistLine { tier_id: "child".into(), quantity: 0 },
            ],
            notes: Some("  ".into()),
        };
        let Mutation::AddToWaitlistV1(a) = add_to_waitlist_mutation(input, "t".into(), "w".into()) else {
            panic!("not add_to_waitlist.v1")
        };
        assert_eq!((a.id.as_str(), a.tour_id.as_str(), a.notes), ("w", "t", None));
        assert_eq!(a.lines, [WaitlistLine { tier_id: "adult".into(), quantity: 2 }]);
    }
}

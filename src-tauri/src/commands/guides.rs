//! Guides: the guides page (list, save), the week board (departures × guides, assign,
//! unassign) and guide mode's own departures. Saves take the mutation's own arguments (a blank
//! `id` is a new row: the desk mints its UUID), run it on the store and announce what changed.

use chrono::NaiveDate;
use tauri::State;
use tourdesk_domain::ipc::{BoardDeparture, GuideBoard, GuideView};
use tourdesk_domain::mutation::{AssignGuideV2, Mutation, UnassignGuideV1, UpsertGuideV1};
use tourdesk_domain::protocol::EntityKind;

use super::{mint, save};
use crate::Desk;
use crate::error::DeskResult;

#[tauri::command]
pub async fn list_guides(desk: State<'_, Desk>) -> DeskResult<Vec<GuideView>> {
    Ok(desk.store.guides()?)
}

/// Creates or replaces a guide's profile; answers the guide's id.
#[tauri::command]
pub async fn save_guide(desk: State<'_, Desk>, mut input: UpsertGuideV1) -> DeskResult<String> {
    let id = mint(&mut input.id);
    save(&desk, &Mutation::UpsertGuideV1(input), EntityKind::Guide)?;
    Ok(id)
}

/// Departures with a local date in `[from, until]` and the guides on each, with every guide.
#[tauri::command]
pub async fn guide_board(desk: State<'_, Desk>, from: NaiveDate, until: NaiveDate) -> DeskResult<GuideBoard> {
    Ok(desk.store.guide_board(from, until)?)
}

/// Puts a guide on a departure; every conflict comes back at once unless a reason overrides.
#[tauri::command]
pub async fn assign_guide(desk: State<'_, Desk>, mut input: AssignGuideV2) -> DeskResult<()> {
    mint(&mut input.id);
    save(&desk, &Mutation::AssignGuideV2(input), EntityKind::GuideAssignment)
}

#[tauri::command]
pub async fn unassign_guide(desk: State<'_, Desk>, departure_id: String, guide_id: String) -> DeskResult<()> {
    save(&desk, &Mutation::UnassignGuideV1(UnassignGuideV1 { departure_id, guide_id }), EntityKind::GuideAssignment)
}

/// Guide mode: the signed-in guide's departures in `[from, until]`.
#[tauri::command]
pub async fn my_departures(
    desk: State<'_, Desk>,
    from: NaiveDate,
    until: NaiveDate,
) -> DeskResult<Vec<BoardDeparture>> {
    Ok(desk.store.my_departures(from, until)?)
}

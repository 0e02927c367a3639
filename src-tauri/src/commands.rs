//! Tauri commands: parse, call the store, map the error. Nothing else.

use tauri::State;
use tourdesk_domain::PricingTier;
use tourdesk_domain::ipc::{CommandError, DepartureView, DeskStatus, NewTour, Outcome, TourView};
use tourdesk_domain::mutation::{CreateTourV1, Mutation, Rejection};
use tourdesk_local_store::StoreError;

use crate::Desk;

/// The one place a store error becomes what the UI shows.
fn to_ui(e: StoreError) -> CommandError {
    match e {
        StoreError::Rejected(Rejection::Invalid(f)) => {
            CommandError { code: "INVALID".into(), message: f.message, field: Some(f.field) }
        }
        StoreError::Rejected(Rejection::Conflict { field, message }) => {
            CommandError { code: "CONFLICT".into(), message, field: Some(field) }
        }
        StoreError::Rejected(r) => CommandError { code: r.code().into(), message: r.to_string(), field: None },
        StoreError::NotSignedIn => CommandError { code: "NOT_SIGNED_IN".into(), message: e.to_string(), field: None },
        other => {
            tracing::error!("local store error: {other}");
            CommandError { code: "STORE".into(), message: other.to_string(), field: None }
        }
    }
}

#[tauri::command]
pub async fn desk_status(desk: State<'_, Desk>) -> Result<DeskStatus, CommandError> {
    Ok(desk.sync.status(&desk.store))
}

#[tauri::command]
pub async fn list_tours(desk: State<'_, Desk>) -> Result<Vec<TourView>, CommandError> {
    desk.store.tours().map_err(to_ui)
}

#[tauri::command]
pub async fn list_departures(desk: State<'_, Desk>, tour_id: String) -> Result<Vec<DepartureView>, CommandError> {
    desk.store.departures(&tour_id).map_err(to_ui)
}

#[tauri::command]
pub async fn list_prices(desk: State<'_, Desk>, tour_id: String) -> Result<Vec<PricingTier>, CommandError> {
    desk.store.prices(&tour_id).map_err(to_ui)
}

#[tauri::command]
pub async fn create_tour(desk: State<'_, Desk>, input: NewTour) -> Result<TourView, CommandError> {
    let id = uuid::Uuid::new_v4().to_string();
    let m = Mutation::CreateTourV1(CreateTourV1 {
        id: id.clone(),
        name: input.name,
        slug: None,
        short_description: input.short_description,
        duration_minutes: input.duration_minutes,
        default_capacity: input.default_capacity,
        min_participants: 1,
        category: input.category,
        timezone: input.timezone,
        meeting_point: input.meeting_point,
    });
    desk.store.mutate(&m).map_err(to_ui)?;
    desk.sync.touched();
    let tours = desk.store.tours().map_err(to_ui)?;
    tours.into_iter().find(|t| t.tour.id == id).ok_or_else(|| CommandError {
        code: "STORE".into(),
        message: "the new tour was saved but could not be read back".into(),
        field: None,
    })
}

#[tauri::command]
pub async fn sync_now(desk: State<'_, Desk>) -> Result<(), CommandError> {
    desk.sync.poke();
    Ok(())
}

#[tauri::command]
pub async fn list_rejections(desk: State<'_, Desk>) -> Result<Vec<Outcome>, CommandError> {
    desk.store.rejections().map_err(to_ui)
}

#[tauri::command]
pub async fn dismiss_rejection(desk: State<'_, Desk>, mutation_id: u64) -> Result<(), CommandError> {
    desk.store.acknowledge(mutation_id).map_err(to_ui)?;
    desk.sync.touched();
    Ok(())
}

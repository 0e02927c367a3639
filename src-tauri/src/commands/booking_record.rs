//! A booking's record on the desk (issue 13): its timeline (the audit log and the
//! communications log, merged by the domain), a customer's messages, its confirmation sent
//! again, its receipt as a PDF.

use tauri::{Runtime, State};
use tourdesk_domain::communication::Communication;
use tourdesk_domain::mutation::{Mutation, ResendConfirmationV1};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::timeline::TimelineEntry;

use crate::Desk;
use crate::error::{DeskError, DeskResult};

/// Everything this desk knows happened to a booking, newest first, in its departure's zone.
#[tauri::command]
pub async fn booking_timeline(desk: State<'_, Desk>, booking_id: String) -> DeskResult<Vec<TimelineEntry>> {
    Ok(desk.store.booking_timeline(&booking_id)?)
}

/// A customer's messages (confirmations, reminders, notices), newest first.
#[tauri::command]
pub async fn customer_communications(desk: State<'_, Desk>, customer_id: String) -> DeskResult<Vec<Communication>> {
    Ok(desk.store.communications_of_customer(&customer_id)?)
}

/// Asks the server to send a booking's confirmation again (`resend_confirmation.v1`): queued
/// offline like every intent; a booking that is not confirmed is refused here with the reason.
#[tauri::command]
pub async fn resend_confirmation(desk: State<'_, Desk>, booking_id: String) -> DeskResult<()> {
    let m = Mutation::ResendConfirmationV1(ResendConfirmationV1 { booking_id });
    desk.store.mutate(&m)?;
    desk.sync.touched(&desk.store, &[EntityKind::Booking], false);
    Ok(())
}

/// Saves a booking's confirmation and receipt as a PDF built from this desk's replica, at
/// `path` (a file, a folder, or empty for the downloads folder, as manifests are); answers the
/// path written.
#[tauri::command]
pub async fn save_receipt<R: Runtime>(
    app: tauri::AppHandle<R>,
    desk: State<'_, Desk>,
    reference: String,
    path: String,
) -> DeskResult<String> {
    let (name, bytes) = desk
        .store
        .receipt_pdf(&reference, chrono::Utc::now())?
        .ok_or(DeskError::NotFound("this desk holds no booking with that reference"))?;
    super::field::write_file(&super::field::manifest_target(&app, &path, &name)?, &bytes)
}

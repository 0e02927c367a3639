//! A booking's record on the desk (issue 13): its timeline (the audit log and the
//! communications log, merged by the domain), a customer's messages, its confirmation sent
//! again, its receipt as a PDF.

use tauri::{Runtime, State};
use tourdesk_domain::communication::Communication;
use tourdesk_domain::mutation::{Mutation, ResendConfirmationV1};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::timeline::NamedTimeline;

use crate::Desk;
use crate::error::{DeskError, DeskResult};

/// Everything this desk knows happened to a booking, newest first, in its departure's zone.
#[tauri::command]
pub async fn booking_timeline(desk: State<'_, Desk>, booking_id: String) -> DeskResult<NamedTimeline> {
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

/// Who a one-off message from the booking goes to and by which channels (the "Send a message"
/// dialog's choices, each unusable one with its reason).
#[tauri::command]
pub async fn message_options(
    desk: State<'_, Desk>,
    booking_id: String,
) -> DeskResult<tourdesk_domain::ipc::MessageOptions> {
    desk.store.message_options(&booking_id)?.ok_or(DeskError::NotFound("this desk does not hold that booking"))
}

/// Queues a one-off message to the booking's customer (`send_customer_message.v1`), offline
/// too; the shell makes its nonce. A refusal names its field and queues nothing.
#[tauri::command]
pub async fn send_customer_message(
    desk: State<'_, Desk>,
    input: tourdesk_domain::ipc::NewCustomerMessage,
) -> DeskResult<()> {
    desk.store.send_customer_message(&input, uuid::Uuid::new_v4().to_string())?;
    desk.sync.touched(&desk.store, &[EntityKind::Booking], false);
    Ok(())
}

/// Records a refund owed back by hand and handed over (`record_refund.v1`), offline too; the
/// shell makes the entry's nonce and its instant. Answers the booking's money as it now stands.
#[tauri::command]
pub async fn record_refund(
    desk: State<'_, Desk>,
    input: tourdesk_domain::ipc::NewRefund,
) -> DeskResult<tourdesk_domain::ipc::BookingMoney> {
    desk.store.record_refund(&input, uuid::Uuid::new_v4().to_string(), chrono::Utc::now())?;
    desk.sync.touched(&desk.store, &[EntityKind::LedgerEntry, EntityKind::Booking], false);
    desk.store
        .booking_money(&input.booking_id)?
        .ok_or(DeskError::Internal("the refund was saved but cannot be read back"))
}

/// Saves a booking's confirmation and receipt as a PDF built from this desk's replica, at
/// `path` (a file, a folder, or empty for the downloads folder: `files::target`); answers the
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
    crate::files::save(&app, Some(path.as_str()), &name, &bytes, crate::files::Saving::Receipt)
}

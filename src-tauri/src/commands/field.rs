//! The field's commands (issue 14): allotments of seats to this device and walk-up sales on
//! them, and manifests saved to a file.

use chrono::{Datelike, Utc};
use rand::TryRngCore;

use tauri::{Runtime, State};
use tourdesk_domain::allotment::{Allotment, IssueAllotmentRequest, WalkUpInput};
use tourdesk_domain::hlc::Hlc;
use tourdesk_domain::ipc::BookingSummary;
use tourdesk_domain::mutation::{Mutation, SellWalkUpV1, WalkUpGuest};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_local_store::StoreError;
use tourdesk_local_store::sync::Method;

use crate::Desk;
use crate::error::{DeskError, DeskResult};
use crate::files::{self, Saving};

/// A departure's allotments as this desk holds them: each device's seats and what it sold.
#[tauri::command]
pub async fn list_allotments(desk: State<'_, Desk>, departure_id: String) -> DeskResult<Vec<Allotment>> {
    Ok(desk.store.allotments_of_departure(&departure_id)?)
}

/// This device's active allotment on a departure, if it has one.
#[tauri::command]
pub async fn my_allotment(desk: State<'_, Desk>, departure_id: String) -> DeskResult<Option<Allotment>> {
    Ok(desk.store.my_allotment(&departure_id)?)
}

/// Asks the server for `seats` on a departure for a device (this one when `device_id` is none).
/// Online only: the server decides under the departure's lock; the allotment then arrives
/// with the next pull, which this starts.
#[tauri::command]
pub async fn request_allotment(
    desk: State<'_, Desk>,
    departure_id: String,
    seats: u32,
    device_id: Option<String>,
) -> DeskResult<Allotment> {
    desk.store.session()?.ok_or(DeskError::Store(StoreError::NotSignedIn))?;
    let req = IssueAllotmentRequest {
        id: Some(uuid::Uuid::new_v4().to_string()),
        departure_id,
        device_id: device_id.filter(|d| !d.trim().is_empty()),
        seats,
    };
    let a: Allotment =
        desk.sync.client().staff_call(&desk.store, Method::POST, "/api/v1/allotments", Some(&req)).await?;
    desk.sync.touched(&desk.store, &[EntityKind::Allotment, EntityKind::Departure], false);
    Ok(a)
}

/// Gives an allotment's unsold seats back to general sale now (online).
#[tauri::command]
pub async fn release_allotment(desk: State<'_, Desk>, allotment_id: String) -> DeskResult<Allotment> {
    desk.store.session()?.ok_or(DeskError::Store(StoreError::NotSignedIn))?;
    if allotment_id.is_empty() || !allotment_id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(DeskError::NotFound("no such allotment"));
    }
    let path = format!("/api/v1/allotments/{allotment_id}/release");
    let a: Allotment = desk.sync.client().staff_call(&desk.store, Method::POST, &path, None::<&()>).await?;
    desk.sync.touched(&desk.store, &[EntityKind::Allotment, EntityKind::Departure], false);
    Ok(a)
}

/// Sells a walk-up on this device's allotment: works offline. Beyond the allotment it is refused
/// here, with the rule (`ALLOTMENT_EXCEEDED`), and nothing is queued.
#[tauri::command]
pub async fn sell_walk_up(desk: State<'_, Desk>, input: WalkUpInput) -> DeskResult<BookingSummary> {
    let allotment = desk
        .store
        .my_allotment(&input.departure_id)?
        .ok_or(DeskError::NotFound("this device holds no allotment on that departure; ask for one while online"))?;
    let device_id = desk.store.device_id()?.ok_or(DeskError::Store(StoreError::NotSignedIn))?;
    let entropy = rand::rngs::OsRng.try_next_u64().map_err(|e| {
        tracing::error!("the OS random generator failed: {e}");
        DeskError::Internal("could not draw a booking reference; try again")
    })?;
    let now = Utc::now();
    let id = uuid::Uuid::new_v4().to_string();
    let m = Mutation::SellWalkUpV1(SellWalkUpV1 {
        id: id.clone(),
        allotment_id: allotment.id,
        tour_id: allotment.tour_id,
        departure_id: input.departure_id.clone(),
        device_id: device_id.clone(),
        customer: WalkUpGuest {
            id: uuid::Uuid::new_v4().to_string(),
            first_name: input.first_name,
            last_name: input.last_name,
            phone: input.phone.filter(|p| !p.trim().is_empty()),
            default_region: None,
        },
        lines: input.lines,
        payment: input.payment,
        payment_nonce: uuid::Uuid::new_v4().to_string(),
        special_requests: input.special_requests.filter(|s| !s.trim().is_empty()),
        dietary_restrictions: input.dietary_restrictions.filter(|s| !s.trim().is_empty()),
        reference_year: now.year(),
        reference_entropy: entropy,
        expected_total: input.expected_total,
        sold_at: now,
        hlc: Hlc::new(u64::try_from(now.timestamp_millis()).unwrap_or(0), 0, &device_id),
    });
    desk.store.mutate(&m)?;
    desk.sync.touched(
        &desk.store,
        &[EntityKind::Booking, EntityKind::Customer, EntityKind::Allotment, EntityKind::LedgerEntry],
        false,
    );
    desk.store
        .bookings_of_departure(&input.departure_id)?
        .into_iter()
        .find(|b| b.id == id)
        .ok_or(DeskError::Internal("the walk-up was saved but could not be read back"))
}

/// `csv` or `pdf`.
fn manifest_bytes(format: &str, manifests: &[tourdesk_domain::ipc::Manifest]) -> DeskResult<Vec<u8>> {
    use tourdesk_domain::manifest_export::{to_csv, to_pdf};
    match format {
        "csv" => Ok(to_csv(manifests).into_bytes()),
        "pdf" => Ok(to_pdf(manifests)),
        _ => Err(DeskError::NotFound("a manifest is saved as csv or pdf")),
    }
}

/// Saves a departure's manifest (as this desk holds it, check-ins made here included) as CSV or
/// PDF at `path` (a file, a folder, or empty for the downloads folder); answers the path written.
#[tauri::command]
pub async fn save_manifest<R: Runtime>(
    app: tauri::AppHandle<R>,
    desk: State<'_, Desk>,
    departure_id: String,
    format: String,
    path: String,
) -> DeskResult<String> {
    let m = desk.store.manifest(&departure_id)?.ok_or(DeskError::NotFound("this desk does not hold that departure"))?;
    let dep = &m.departure.departure;
    let name = format!("manifest-{}-{}.{format}", dep.local_date, dep.local_time.format("%H%M"));
    let bytes = manifest_bytes(&format, std::slice::from_ref(&m))?;
    files::save(&app, Some(path.as_str()), &name, &bytes, Saving::Manifest)
}

/// Saves a guide's day (this account's own when `guide_id` is none) as CSV or PDF at `path`.
#[tauri::command]
pub async fn save_guide_day_manifest<R: Runtime>(
    app: tauri::AppHandle<R>,
    desk: State<'_, Desk>,
    guide_id: Option<String>,
    date: String,
    format: String,
    path: String,
) -> DeskResult<String> {
    let date =
        chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|_| DeskError::NotFound("a day is YYYY-MM-DD"))?;
    let all = desk.store.guide_day_manifests(guide_id.as_deref(), date)?;
    let bytes = manifest_bytes(&format, &all)?;
    files::save(&app, Some(path.as_str()), &format!("manifests-{date}.{format}"), &bytes, Saving::Manifest)
}

/// A departure's field notes written by its guides, oldest first (the office desk holds them
/// all; a guide's device those of the departures it leads).
#[tauri::command]
pub async fn departure_incidents(
    desk: State<'_, Desk>,
    departure_id: String,
) -> DeskResult<Vec<tourdesk_domain::incident::DepartureIncidentView>> {
    Ok(desk.store.departure_incidents(&departure_id)?)
}

/// A guide's field note on a departure they lead (`record_departure_incident.v1`): works
/// offline; the shell makes its nonce and its instant. Anyone else is refused with the reason.
#[tauri::command]
pub async fn record_departure_incident(desk: State<'_, Desk>, departure_id: String, text: String) -> DeskResult<()> {
    let m = Mutation::RecordDepartureIncidentV1(tourdesk_domain::mutation::RecordDepartureIncidentV1 {
        nonce: uuid::Uuid::new_v4().to_string(),
        departure_id,
        at: Utc::now(),
        text,
    });
    desk.store.mutate(&m)?;
    desk.sync.touched(&desk.store, &[EntityKind::DepartureIncident], false);
    Ok(())
}

/// A calendar feed's link, shown once (the server keeps only its token's digest).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct FeedLink {
    pub kind: String,
    pub subject_id: String,
    pub url: String,
}

/// Makes the iCal feed of a guide or a tour, or a new link for it (the earlier one stops
/// working): online, as the signed-in member (the office for any; a guide for their own).
#[tauri::command]
pub async fn calendar_feed_link(desk: State<'_, Desk>, kind: String, subject_id: String) -> DeskResult<FeedLink> {
    let session = desk.store.session()?.ok_or(DeskError::Store(StoreError::NotSignedIn))?;
    // No guide named: the signed-in member's own guide profile.
    let subject_id = if kind == "guide" && subject_id.trim().is_empty() {
        desk.store
            .guides()?
            .into_iter()
            .find(|g| g.guide.user_id.as_deref() == Some(session.user_id.as_str()))
            .map(|g| g.guide.id)
            .ok_or(DeskError::NotFound("this account has no guide profile"))?
    } else {
        subject_id
    };
    let body = serde_json::json!({ "kind": kind, "subject_id": subject_id });
    Ok(desk.sync.client().staff_call(&desk.store, Method::POST, "/api/v1/calendar-feeds", Some(&body)).await?)
}

//! Editing customers from the desk (issue 13 item 3): each field, tags, opt-outs, merging a
//! duplicate (undoable until it is sent), GDPR erasure and export. Every edit is a domain
//! mutation, so concurrent edits on other desks merge per field as the domain defines.

use chrono::Utc;
use tauri::{Runtime, State};
use tourdesk_domain::hlc::Hlc;
use tourdesk_domain::mutation::{
    AddCustomerTagV1, CustomerField, EraseCustomerV1, MergeCustomersV1, Mutation, RemoveCustomerTagV1,
    SetCustomerFieldV1,
};
use tourdesk_domain::protocol::EntityKind;

use crate::Desk;
use crate::error::{DeskError, DeskResult};
use crate::files::{self, Saving};

fn stamp(desk: &Desk) -> Hlc {
    Hlc::at(Utc::now(), 0, desk.store.client_id())
}

fn run(desk: &Desk, m: &Mutation, kinds: &[EntityKind]) -> DeskResult<u64> {
    let id = desk.store.mutate(m)?;
    desk.sync.touched(&desk.store, kinds, false);
    Ok(id)
}

/// Sets one field (`{"field": "phone", "value": "…"}`); a phone without `+` is read in the
/// organization's country.
#[tauri::command]
pub async fn set_customer_field(desk: State<'_, Desk>, customer_id: String, set: CustomerField) -> DeskResult<()> {
    let session = desk.store.session()?;
    let default_region = session.and_then(|s| s.organization_defaults.country);
    let m = Mutation::SetCustomerFieldV1(SetCustomerFieldV1 { customer_id, set, hlc: stamp(&desk), default_region });
    run(&desk, &m, &[EntityKind::Customer]).map(|_| ())
}

#[tauri::command]
pub async fn set_customer_tag(
    desk: State<'_, Desk>,
    customer_id: String,
    tag: String,
    present: bool,
) -> DeskResult<()> {
    let hlc = stamp(&desk);
    let m = if present {
        Mutation::AddCustomerTagV1(AddCustomerTagV1 { customer_id, tag, hlc })
    } else {
        Mutation::RemoveCustomerTagV1(RemoveCustomerTagV1 { customer_id, tag, hlc })
    };
    run(&desk, &m, &[EntityKind::Customer]).map(|_| ())
}

/// Merges `duplicate_id` into `survivor_id`; answers the queued mutation's id (for undo).
#[tauri::command]
pub async fn merge_customers(desk: State<'_, Desk>, survivor_id: String, duplicate_id: String) -> DeskResult<u64> {
    let m = Mutation::MergeCustomersV1(MergeCustomersV1 { survivor_id, duplicate_id, hlc: stamp(&desk) });
    run(&desk, &m, &[EntityKind::Customer, EntityKind::Booking])
}

/// Takes a queued change back before it is sent (a merge's "Undo").
#[tauri::command]
pub async fn discard_pending(desk: State<'_, Desk>, mutation_id: u64) -> DeskResult<()> {
    desk.store.discard_pending(mutation_id)?;
    desk.sync.touched(&desk.store, &[EntityKind::Customer, EntityKind::Booking], true);
    Ok(())
}

#[tauri::command]
pub async fn erase_customer(desk: State<'_, Desk>, customer_id: String) -> DeskResult<()> {
    let m = Mutation::EraseCustomerV1(EraseCustomerV1 { customer_id, hlc: stamp(&desk) });
    run(&desk, &m, &[EntityKind::Customer, EntityKind::Booking]).map(|_| ())
}

/// Saves everything this desk holds about a customer as `customer-<id>.json` and `.csv` in the
/// downloads folder (or `folder`); answers the two paths.
#[tauri::command]
pub async fn export_customer<R: Runtime>(
    app: tauri::AppHandle<R>,
    desk: State<'_, Desk>,
    customer_id: String,
    folder: Option<String>,
) -> DeskResult<Vec<String>> {
    let export = desk
        .store
        .customer_export(&customer_id)?
        .ok_or(DeskError::NotFound("this desk does not hold that customer"))?;
    let what = Saving::CustomerExport;
    let dir = files::folder(folder.as_deref().unwrap_or(""), files::default_folder(&app), files::home(), what)?;
    let json = serde_json::to_string_pretty(&export).map_err(|_| DeskError::Internal("could not write the export"))?;
    let base = format!("customer-{}", export.customer.id);
    let mut written = Vec::new();
    for (ext, body) in [("json", json), ("csv", export.to_csv())] {
        written.push(files::write_atomically(&dir.join(format!("{base}.{ext}")), body.as_bytes(), what)?);
    }
    Ok(written)
}

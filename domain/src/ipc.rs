//! The contract between the desk shell (Tauri commands) and the UI (Yew, wasm). Both sides use
//! these types, so a renamed field is a compile error rather than an empty screen.

use serde::{Deserialize, Serialize};

use crate::entities::{Departure, Tour};
use crate::protocol::OutcomeStatus;
use crate::roles::Role;
use crate::status::TourCategory;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TourView {
    #[serde(flatten)]
    pub tour: Tour,
    /// Changed on this desk and not yet confirmed by the server.
    pub pending: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartureView {
    #[serde(flatten)]
    pub departure: Departure,
    pub seats_left: u32,
}

/// The server's verdict on one of this desk's mutations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub mutation_id: u64,
    pub name: String,
    pub args: serde_json::Value,
    pub status: OutcomeStatus,
    pub code: Option<String>,
    pub detail: Option<String>,
}

/// What the UI sends to create a tour; the shell adds the id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTour {
    pub name: String,
    #[serde(default)]
    pub short_description: String,
    pub duration_minutes: u32,
    pub default_capacity: u32,
    pub category: TourCategory,
    pub timezone: String,
    #[serde(default)]
    pub meeting_point: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    /// Not tried yet (just started).
    Starting,
    Syncing,
    Online,
    /// The server could not be reached; work continues locally.
    Offline,
    /// The server answered but refused (e.g. wrong password); needs a person.
    Error,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedInAs {
    pub name: String,
    pub role: Role,
    pub organization_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeskStatus {
    pub connection: Connection,
    pub server_url: String,
    pub pending: u64,
    pub rejections: u64,
    /// RFC 3339, UTC.
    pub last_synced_at: Option<String>,
    pub last_error: Option<String>,
    pub signed_in_as: Option<SignedInAs>,
    /// Grows whenever local data changes (a local edit or a pull); the UI reloads on change.
    pub data_version: u64,
}

/// Every command error, as the UI receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandError {
    pub code: String,
    pub message: String,
    #[serde(default)]
    pub field: Option<String>,
}

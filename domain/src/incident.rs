//! A guide's field notes on a departure (issue 14, guide mode): incidents, a late bus, a guest
//! who felt unwell. Unlike the office's `Departure::notes` (one text, last writer wins, set with
//! `set_departure_notes.v1`), these are facts appended by the guide leading the departure, each
//! with the device's time and its author, so two guides writing offline both keep their note.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest note a guide may write, in characters.
pub const INCIDENT_TEXT_MAX: usize = 2000;

/// One note written by a guide on a departure (`record_departure_incident.v1`). Its id is the
/// nonce the writing device made, so a replayed intent finds its own row. Replicates with its
/// departure (`org:all` and `schedule:D`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartureIncident {
    pub id: String,
    pub organization_id: String,
    pub departure_id: String,
    /// When the guide wrote it (their device's clock).
    pub at: DateTime<Utc>,
    pub text: String,
    /// The login of the guide who wrote it.
    pub recorded_by: String,
}

/// A note as a desk shows it: with whether it is still waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartureIncidentView {
    #[serde(flatten)]
    pub incident: DepartureIncident,
    /// Written on this device and not yet confirmed by the server.
    pub pending: bool,
}

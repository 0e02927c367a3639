//! What the store's tests share: a desk signed in to organization `org-1`, and a departure of
//! its tour `t-1` at a given moment.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use tourdesk_domain::Departure;
use tourdesk_domain::roles::Role;
use tourdesk_domain::status::DepartureStatus;

use super::{Session, Store};

/// `user_id` signed in to `org-1` as `role`.
pub fn session(role: Role, user_id: &str) -> Session {
    Session {
        user_id: user_id.into(),
        user_name: "Olivia".into(),
        role,
        organization_id: "org-1".into(),
        organization_name: "Org".into(),
        organization_defaults: Default::default(),
    }
}

/// A new store in `dir` with [`session`] saved.
pub fn signed_in(dir: &tempfile::TempDir, role: Role, user_id: &str) -> Store {
    let s = Store::open(&dir.path().join("desk.sqlite3")).unwrap();
    s.save_session(&session(role, user_id)).unwrap();
    s
}

/// A two-hour departure of variant `v-1` starting at `starts` (UTC), full once `booked`
/// reaches `capacity`.
pub fn departure_at(id: &str, starts: DateTime<Utc>, capacity: u32, booked: u32) -> Departure {
    Departure {
        id: id.into(),
        organization_id: "org-1".into(),
        tour_id: "t-1".into(),
        variant_id: "v-1".into(),
        local_date: starts.date_naive(),
        local_time: starts.time(),
        timezone: "UTC".into(),
        starts_at: starts,
        ends_at: starts + Duration::hours(2),
        capacity,
        booked_count: booked,
        status: if booked >= capacity { DepartureStatus::Full } else { DepartureStatus::Open },
        notes: String::new(),
    }
}

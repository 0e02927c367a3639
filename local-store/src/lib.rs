//! The desk's local store: a SQLite replica of the organization's data, the outbox of intent
//! mutations not yet accepted by the server, and the client that syncs both with the server.
//!
//! Architecture invariant: this crate knows SQLite and HTTP but not Tauri or the UI, so every
//! behaviour of the desk can be tested headless against a real database file.

mod columns;
mod error;
pub mod export;
mod rows;
mod store;
pub mod sync;
mod wire;

pub use error::StoreError;
pub use store::{Session, SignInHint, Store, configure};
pub use sync::{Credentials, PULL_PAGE, SignIn, SyncClient, SyncError, SyncReport};
pub use tourdesk_domain::ipc::{
    BookingSummary, CustomerDetail, CustomerHit, DepartureView, Manifest, Outcome, RejectedBooking, TourView,
};

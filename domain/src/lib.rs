//! Tourdesk's domain: every business rule lives here exactly once.
//!
//! Architecture invariant: this crate does no I/O and never reads the clock. Time, ids and
//! the data a rule needs are passed in. That is what lets the desk (SQLite, optimistic), the
//! sync-server (PostgreSQL, authoritative) and the Yew UI (wasm, live quotes) run the same code.
//!
//! "The spec" in these docs is the original architecture document the project started from: its
//! tables, permission table and triggers are where many of these rules were first written down.

pub mod accounts;
pub mod allotment;
pub mod audit;
pub mod availability;
pub mod cancellation;
pub mod capacity;
pub mod cash_drawer;
pub mod catalogue;
pub mod communication;
pub mod entities;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod gift_card;
pub mod guides;
pub mod hlc;
pub mod ical;
pub mod incident;
pub mod ipc;
pub mod ledger;
pub mod manifest_export;
pub mod messages;
pub mod money;
pub mod mutation;
pub mod offer;
pub mod payment;
pub mod payment_chase;
pub mod pricing;
pub mod protocol;
pub mod receipt;
pub mod reference;
pub mod refund_split;
pub mod reminders;
pub mod replication;
pub mod reports;
pub mod reviews;
pub mod roles;
pub mod status;
pub mod timeline;
pub mod validate;
pub mod waitlist;

pub use entities::{Departure, PricingTier, Tour, TourVariant};
pub use money::{Currency, Money};
pub use status::{DepartureStatus, TourStatus};

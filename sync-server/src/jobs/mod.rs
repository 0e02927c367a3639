//! Background jobs: seat-hold expiry, the refund sender, departure reminders and the mail outbox.

pub mod holds;
pub mod refunds;
pub mod reminders;

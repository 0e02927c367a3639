//! Reminders before a departure: the spec's "send a reminder 24 hours before the tour". The
//! server's job finds candidate bookings; whether one is due is decided here.

use chrono::{DateTime, Duration, Utc};

use crate::status::BookingStatus;

/// Whether a booking's reminder is due at `now`: the booking is confirmed (a pending one may still
/// lapse unpaid; a cancelled, no-show or completed one has nothing to remind of), its departure
/// has not started and starts within `lead`, and the customer has not turned reminders off.
/// A booking is reminded once; the caller records that it was.
pub fn reminder_due(
    status: BookingStatus,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
    lead: Duration,
    customer_wants_reminders: bool,
) -> bool {
    matches!(status, BookingStatus::Confirmed | BookingStatus::Modified)
        && customer_wants_reminders
        && starts_at > now
        && starts_at <= now + lead
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::at;
    use crate::status::BookingStatus::*;

    #[test]
    fn a_confirmed_booking_is_reminded_within_the_lead_and_not_before_or_after() {
        let now = at("2026-03-28T09:00:00Z");
        let day = Duration::hours(24);
        assert!(reminder_due(Confirmed, at("2026-03-28T20:00:00Z"), now, day, true));
        assert!(reminder_due(Modified, at("2026-03-28T20:00:00Z"), now, day, true));
        // Exactly a lead ahead is due; a second more is not yet.
        assert!(reminder_due(Confirmed, at("2026-03-29T09:00:00Z"), now, day, true));
        assert!(!reminder_due(Confirmed, at("2026-03-29T09:00:01Z"), now, day, true));
        // Once the departure has started there is nothing left to remind of.
        assert!(!reminder_due(Confirmed, now, now, day, true));
        assert!(!reminder_due(Confirmed, at("2026-03-28T08:00:00Z"), now, day, true));
    }

    #[test]
    fn only_confirmed_bookings_of_customers_who_want_them_are_reminded() {
        let (now, soon, day) = (at("2026-03-28T09:00:00Z"), at("2026-03-28T12:00:00Z"), Duration::hours(24));
        for s in [Pending, Cancelled, NoShow, Completed] {
            assert!(!reminder_due(s, soon, now, day, true), "{s:?}");
        }
        assert!(!reminder_due(Confirmed, soon, now, day, false));
    }

    /// Instants are UTC, so a lead across a clock change is still 24 real hours: the Lisbon
    /// departure at 10:00 on the day after the spring-forward night is due from 09:00 UTC the day
    /// before, which is 09:00 local then and 10:00 local on the day.
    #[test]
    fn the_lead_is_real_hours_across_a_clock_change() {
        let departs = at("2026-03-29T09:00:00Z"); // 10:00 WEST, after the 01:00 UTC change
        let day = Duration::hours(24);
        assert!(!reminder_due(Confirmed, departs, at("2026-03-28T08:59:59Z"), day, true));
        assert!(reminder_due(Confirmed, departs, at("2026-03-28T09:00:00Z"), day, true));
    }
}

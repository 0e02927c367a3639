//! Asking again for a card payment that failed (issue 13, item 4): when Stripe reports a failed
//! attempt on a booking that still owes money, the customer is asked to pay with a link, and
//! asked again with backoff, until the booking is paid, cancelled, or its departure has started.
//! The server's job (`sync-server/src/jobs/payment_chase.rs`) keeps the state per booking and
//! asks [`next_step`] what to do; the schedule is here, once.

use chrono::{DateTime, Duration, Utc};

use crate::status::BookingStatus;

/// When each ask is due, counted from the failed attempt: at once (the next pass of the job),
/// then after an hour, a day and three days. The customer is asked at most this many times.
pub const ASK_AFTER_HOURS: [i64; 4] = [0, 1, 24, 72];

/// What a booking's chase is to do at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChaseStep {
    /// Ask the customer to pay now (then count the ask).
    Ask,
    /// Nothing yet; look again at this moment.
    WaitUntil(DateTime<Utc>),
    /// Ask no more, for this reason.
    Stop(StopReason),
}

/// Why a chase ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Nothing is owed any more.
    Paid,
    /// The booking was cancelled (or otherwise no longer holds its seats).
    Cancelled,
    /// The departure has started: a link to pay for it would come too late.
    Departed,
    /// Every ask of the schedule was sent.
    Exhausted,
}

impl StopReason {
    /// The stored word (the `stop_reason` column).
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Paid => "paid",
            StopReason::Cancelled => "cancelled",
            StopReason::Departed => "departed",
            StopReason::Exhausted => "exhausted",
        }
    }
}

/// What a booking's chase is, for [`next_step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chase {
    pub status: BookingStatus,
    /// What the booking still owes, in minor units (zero or less: nothing).
    pub owed: i64,
    pub departure_starts_at: DateTime<Utc>,
    /// When the (latest) failed attempt was reported.
    pub failed_at: DateTime<Utc>,
    /// Asks sent so far for this failure.
    pub asks_sent: u32,
    /// A website checkout's seat hold still running: the customer is on the checkout page and
    /// pays there, so the first ask waits for the hold to end (when an unpaid booking is
    /// cancelled and the chase stops).
    pub hold_until: Option<DateTime<Utc>>,
}

/// When ask number `asks_sent` (0-based) is due, or `None` when the schedule is done.
pub fn ask_due_at(failed_at: DateTime<Utc>, asks_sent: u32) -> Option<DateTime<Utc>> {
    let i = usize::try_from(asks_sent).ok()?;
    ASK_AFTER_HOURS.get(i).map(|h| failed_at + Duration::hours(*h))
}

/// What to do with a chase at `now`. Stopping wins over asking: a booking paid, cancelled or
/// departed is never asked again, whatever the schedule says.
pub fn next_step(c: &Chase, now: DateTime<Utc>) -> ChaseStep {
    if c.status == BookingStatus::Cancelled || !c.status.holds_seats() {
        return ChaseStep::Stop(StopReason::Cancelled);
    }
    if c.owed <= 0 {
        return ChaseStep::Stop(StopReason::Paid);
    }
    if c.departure_starts_at <= now {
        return ChaseStep::Stop(StopReason::Departed);
    }
    let Some(due) = ask_due_at(c.failed_at, c.asks_sent) else { return ChaseStep::Stop(StopReason::Exhausted) };
    let due = match c.hold_until {
        Some(h) if h > due => h,
        _ => due,
    };
    if due <= now { ChaseStep::Ask } else { ChaseStep::WaitUntil(due) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn chase(asks_sent: u32) -> Chase {
        Chase {
            status: BookingStatus::Modified,
            owed: 2_500,
            departure_starts_at: at("2026-08-01T09:00:00Z"),
            failed_at: at("2026-07-01T12:00:00Z"),
            asks_sent,
            hold_until: None,
        }
    }

    #[test]
    fn asks_at_once_then_after_an_hour_a_day_and_three_days_then_stops() {
        let failed = at("2026-07-01T12:00:00Z");
        assert_eq!(next_step(&chase(0), failed), ChaseStep::Ask);
        assert_eq!(next_step(&chase(1), failed), ChaseStep::WaitUntil(at("2026-07-01T13:00:00Z")));
        assert_eq!(next_step(&chase(1), at("2026-07-01T13:00:00Z")), ChaseStep::Ask);
        assert_eq!(next_step(&chase(2), at("2026-07-01T13:00:00Z")), ChaseStep::WaitUntil(at("2026-07-02T12:00:00Z")));
        assert_eq!(next_step(&chase(3), at("2026-07-03T12:00:00Z")), ChaseStep::WaitUntil(at("2026-07-04T12:00:00Z")));
        assert_eq!(next_step(&chase(3), at("2026-07-04T12:00:00Z")), ChaseStep::Ask);
        assert_eq!(next_step(&chase(4), at("2026-07-20T12:00:00Z")), ChaseStep::Stop(StopReason::Exhausted));
        let gaps: Vec<i64> = (0..5).map(|n| ask_due_at(failed, n).map_or(-1, |d| (d - failed).num_hours())).collect();
        assert_eq!(gaps, [0, 1, 24, 72, -1]);
    }

    #[test]
    fn a_paid_cancelled_or_departed_booking_is_never_asked_again() {
        let now = at("2026-07-05T12:00:00Z");
        assert_eq!(next_step(&Chase { owed: 0, ..chase(1) }, now), ChaseStep::Stop(StopReason::Paid));
        assert_eq!(next_step(&Chase { owed: -100, ..chase(1) }, now), ChaseStep::Stop(StopReason::Paid));
        for s in [BookingStatus::Cancelled, BookingStatus::NoShow, BookingStatus::Completed] {
            assert_eq!(next_step(&Chase { status: s, ..chase(1) }, now), ChaseStep::Stop(StopReason::Cancelled));
        }
        let started = Chase { departure_starts_at: now, ..chase(1) };
        assert_eq!(next_step(&started, now), ChaseStep::Stop(StopReason::Departed));
        // Stopping wins even when an ask is due.
        assert_eq!(
            next_step(&Chase { owed: 0, ..chase(0) }, at("2026-07-01T12:00:00Z")),
            ChaseStep::Stop(StopReason::Paid)
        );
    }

    #[test]
    fn a_checkout_still_holding_its_seats_is_asked_only_after_the_hold() {
        let hold = at("2026-07-01T12:15:00Z");
        let c = Chase { status: BookingStatus::Pending, hold_until: Some(hold), ..chase(0) };
        assert_eq!(next_step(&c, at("2026-07-01T12:00:00Z")), ChaseStep::WaitUntil(hold));
        assert_eq!(next_step(&c, hold), ChaseStep::Ask);
        // A hold that ended before the ask was due changes nothing.
        let c = Chase { hold_until: Some(at("2026-07-01T11:00:00Z")), ..chase(1) };
        assert_eq!(next_step(&c, at("2026-07-01T12:30:00Z")), ChaseStep::WaitUntil(at("2026-07-01T13:00:00Z")));
    }
}

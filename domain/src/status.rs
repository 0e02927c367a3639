//! Lifecycle states. Transitions live beside the enums so a forbidden one is a typed error
//! wherever it is attempted (desk, server or UI).

use serde::{Deserialize, Serialize};

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use string_enum;

string_enum!(
    /// A tour is sold only while `Active`.
    TourStatus { Draft => "draft", Active => "active", Archived => "archived" }
);

string_enum!(
    /// The status of one departure (a "schedule" in the original architecture document).
    DepartureStatus {
        Open => "open",
        Full => "full",
        Closed => "closed",
        Cancelled => "cancelled",
        Completed => "completed",
    }
);

string_enum!(
    TourCategory {
        Walking => "walking",
        Food => "food",
        Cultural => "cultural",
        Adventure => "adventure",
        Nature => "nature",
        Photography => "photography",
        Private => "private",
        Custom => "custom",
    }
);

string_enum!(
    /// The lifecycle of a booking.
    BookingStatus {
        Pending => "pending",
        Confirmed => "confirmed",
        Modified => "modified",
        Cancelled => "cancelled",
        NoShow => "no_show",
        Completed => "completed",
    }
);

string_enum!(
    /// Where the money of a booking stands.
    PaymentStatus {
        Unpaid => "unpaid",
        Partial => "partial",
        Paid => "paid",
        Refunded => "refunded",
        PartiallyRefunded => "partially_refunded",
        Disputed => "disputed",
    }
);

/// A state change the lifecycle does not allow. Generic so each machine keeps its own type:
/// `ForbiddenTransition<BookingStatus>` cannot be confused with a departure's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForbiddenTransition<S> {
    pub from: S,
    pub to: S,
}

impl<S: StateMachine> std::fmt::Display for ForbiddenTransition<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a {} cannot go from {} to {}", S::ENTITY, self.from.as_label(), self.to.as_label())
    }
}

impl<S: StateMachine> std::error::Error for ForbiddenTransition<S> {}

/// A status with an explicit transition table.
///
/// Staying in the same state is always allowed and is a no-op, so an intent replayed after a
/// sync round-trip does not fail on its own earlier effect.
pub trait StateMachine: Copy + Eq + std::fmt::Debug + 'static {
    const ENTITY: &'static str;

    /// The states reachable in one step, excluding staying put.
    fn successors(self) -> &'static [Self];

    fn as_label(&self) -> &'static str;

    fn can_transition_to(self, to: Self) -> bool {
        self == to || self.successors().contains(&to)
    }

    fn transition(self, to: Self) -> Result<Self, ForbiddenTransition<Self>> {
        if self.can_transition_to(to) { Ok(to) } else { Err(ForbiddenTransition { from: self, to }) }
    }

    /// A state nothing leaves.
    fn is_terminal(self) -> bool {
        self.successors().is_empty()
    }
}

impl StateMachine for TourStatus {
    const ENTITY: &'static str = "tour";

    fn successors(self) -> &'static [Self] {
        use TourStatus::*;
        match self {
            // A draft can be discarded without ever being sold.
            Draft => &[Active, Archived],
            // Unpublishing takes a tour off sale and back to editing; its departures and
            // bookings stay.
            Active => &[Draft, Archived],
            // Archived tours keep their bookings' history; reviving one is a new tour.
            Archived => &[],
        }
    }

    fn as_label(&self) -> &'static str {
        self.as_str()
    }
}

impl StateMachine for DepartureStatus {
    const ENTITY: &'static str = "departure";

    fn successors(self) -> &'static [Self] {
        use DepartureStatus::*;
        match self {
            // Full ↔ Open follows seats freeing up; Closed is the operator stopping sales and
            // can be reopened (to Full if it filled up through overrides meanwhile).
            Open => &[Full, Closed, Cancelled, Completed],
            Full => &[Open, Closed, Cancelled, Completed],
            Closed => &[Open, Full, Cancelled, Completed],
            // Cancelling triggers refunds and notifications, completing triggers reviews: both
            // are facts that cannot be undone by a status flip.
            Cancelled | Completed => &[],
        }
    }

    fn as_label(&self) -> &'static str {
        self.as_str()
    }
}

impl StateMachine for BookingStatus {
    const ENTITY: &'static str = "booking";

    fn successors(self) -> &'static [Self] {
        use BookingStatus::*;
        match self {
            Pending => &[Confirmed, Cancelled],
            Confirmed => &[Modified, Cancelled, NoShow, Completed],
            Modified => &[Cancelled, NoShow, Completed],
            // A guide offline at the meeting point may mark a late customer no-show and then
            // check them in; the later check-in wins.
            NoShow => &[Completed],
            Cancelled | Completed => &[],
        }
    }

    fn as_label(&self) -> &'static str {
        self.as_str()
    }
}

impl StateMachine for PaymentStatus {
    const ENTITY: &'static str = "payment";

    fn successors(self) -> &'static [Self] {
        use PaymentStatus::*;
        match self {
            Unpaid => &[Partial, Paid],
            Partial => &[Paid, PartiallyRefunded, Refunded, Disputed],
            Paid => &[PartiallyRefunded, Refunded, Disputed],
            PartiallyRefunded => &[Refunded, Disputed],
            // A dispute is won (back to paid) or lost (money returned, fully or in part).
            Disputed => &[Paid, PartiallyRefunded, Refunded],
            Refunded => &[],
        }
    }

    fn as_label(&self) -> &'static str {
        self.as_str()
    }
}

impl BookingStatus {
    /// Whether the booking's participants count against the departure's capacity. Mirrors the
    /// spec's `booked_count` trigger: cancelled and no-show bookings release their seats.
    pub fn holds_seats(self) -> bool {
        matches!(self, BookingStatus::Pending | BookingStatus::Confirmed | BookingStatus::Modified)
    }
}

impl PaymentStatus {
    /// Money has been captured (a deposit counts), which the spec requires before a booking
    /// may be confirmed.
    pub fn is_captured(self) -> bool {
        matches!(self, PaymentStatus::Partial | PaymentStatus::Paid)
    }

    /// The status implied by the amounts, for reconciling with the payment processor.
    /// A dispute is not visible in amounts, so callers keep `Disputed` themselves.
    pub fn from_amounts(total: i64, paid: i64, refunded: i64) -> PaymentStatus {
        if refunded > 0 {
            if refunded >= paid { PaymentStatus::Refunded } else { PaymentStatus::PartiallyRefunded }
        } else if paid <= 0 {
            PaymentStatus::Unpaid
        } else if paid < total {
            PaymentStatus::Partial
        } else {
            PaymentStatus::Paid
        }
    }
}

/// Why a booking cannot move to the requested status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BookingTransitionError {
    #[error("{0}")]
    Forbidden(ForbiddenTransition<BookingStatus>),
    #[error("a booking can only be confirmed once payment is captured (payment is {payment})")]
    PaymentNotCaptured { payment: PaymentStatus },
}

/// Moves a booking to `to`, enforcing both the transition table and the spec's rule that
/// payment is captured before confirmation.
pub fn transition_booking(
    from: BookingStatus,
    to: BookingStatus,
    payment: PaymentStatus,
) -> Result<BookingStatus, BookingTransitionError> {
    let next = from.transition(to).map_err(BookingTransitionError::Forbidden)?;
    if next == BookingStatus::Confirmed && from != BookingStatus::Confirmed && !payment.is_captured() {
        return Err(BookingTransitionError::PaymentNotCaptured { payment });
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trips_through_strings() {
        for s in DepartureStatus::ALL {
            assert_eq!(DepartureStatus::parse(s.as_str()), Some(*s));
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert_eq!(TourStatus::parse("paused"), None);
    }

    fn table<S: StateMachine>(allowed: &[(S, S)], all: &[S]) {
        for &from in all {
            for &to in all {
                let expected = from == to || allowed.contains(&(from, to));
                assert_eq!(from.can_transition_to(to), expected, "{from:?} -> {to:?}");
                match from.transition(to) {
                    Ok(s) => assert_eq!(s, to),
                    Err(e) => assert_eq!(e, ForbiddenTransition { from, to }),
                }
            }
        }
    }

    #[test]
    fn tour_transitions() {
        use TourStatus::*;
        table(&[(Draft, Active), (Draft, Archived), (Active, Draft), (Active, Archived)], TourStatus::ALL);
    }

    #[test]
    fn departure_transitions() {
        use DepartureStatus::*;
        table(
            &[
                (Open, Full),
                (Open, Closed),
                (Open, Cancelled),
                (Open, Completed),
                (Full, Open),
                (Full, Closed),
                (Full, Cancelled),
                (Full, Completed),
                (Closed, Open),
                (Closed, Full),
                (Closed, Cancelled),
                (Closed, Completed),
            ],
            DepartureStatus::ALL,
        );
        assert!(Completed.is_terminal() && Cancelled.is_terminal());
        let err = Completed.transition(Open).unwrap_err();
        assert_eq!(err.to_string(), "a departure cannot go from completed to open");
    }

    #[test]
    fn booking_transitions() {
        use BookingStatus::*;
        table(
            &[
                (Pending, Confirmed),
                (Pending, Cancelled),
                (Confirmed, Modified),
                (Confirmed, Cancelled),
                (Confirmed, NoShow),
                (Confirmed, Completed),
                (Modified, Cancelled),
                (Modified, NoShow),
                (Modified, Completed),
                (NoShow, Completed),
            ],
            BookingStatus::ALL,
        );
        assert_eq!(BookingStatus::parse("no_show"), Some(NoShow));
    }

    #[test]
    fn payment_transitions() {
        use PaymentStatus::*;
        table(
            &[
                (Unpaid, Partial),
                (Unpaid, Paid),
                (Partial, Paid),
                (Partial, PartiallyRefunded),
                (Partial, Refunded),
                (Partial, Disputed),
                (Paid, PartiallyRefunded),
                (Paid, Refunded),
                (Paid, Disputed),
                (PartiallyRefunded, Refunded),
                (PartiallyRefunded, Disputed),
                (Disputed, Paid),
                (Disputed, PartiallyRefunded),
                (Disputed, Refunded),
            ],
            PaymentStatus::ALL,
        );
        assert_eq!(serde_json::to_string(&PartiallyRefunded).unwrap(), "\"partially_refunded\"");
    }

    #[test]
    fn confirmation_requires_captured_payment() {
        use BookingStatus::*;
        let cases = [
            (
                Pending,
                Confirmed,
                PaymentStatus::Unpaid,
                Err(BookingTransitionError::PaymentNotCaptured { payment: PaymentStatus::Unpaid }),
            ),
            (Pending, Confirmed, PaymentStatus::Partial, Ok(Confirmed)),
            (Pending, Confirmed, PaymentStatus::Paid, Ok(Confirmed)),
            // Replaying a confirmation is a no-op even if a refund happened meanwhile.
            (Confirmed, Confirmed, PaymentStatus::Refunded, Ok(Confirmed)),
            (Pending, Cancelled, PaymentStatus::Unpaid, Ok(Cancelled)),
            (
                Cancelled,
                Confirmed,
                PaymentStatus::Paid,
                Err(BookingTransitionError::Forbidden(ForbiddenTransition { from: Cancelled, to: Confirmed })),
            ),
        ];
        for (from, to, pay, want) in cases {
            assert_eq!(transition_booking(from, to, pay), want, "{from} -> {to} with {pay}");
        }
    }

    #[test]
    fn seats_and_payment_amounts() {
        use BookingStatus::*;
        let holding: Vec<_> = BookingStatus::ALL.iter().filter(|s| s.holds_seats()).copied().collect();
        assert_eq!(holding, vec![Pending, Confirmed, Modified]);
        use PaymentStatus as P;
        let cases = [
            (1000, 0, 0, P::Unpaid),
            (1000, 300, 0, P::Partial),
            (1000, 1000, 0, P::Paid),
            (1000, 1000, 400, P::PartiallyRefunded),
            (1000, 1000, 1000, P::Refunded),
            (0, 0, 0, P::Unpaid),
        ];
        for (total, paid, refunded, want) in cases {
            assert_eq!(P::from_amounts(total, paid, refunded), want, "{total}/{paid}/{refunded}");
        }
    }
}

//! The capacity invariant: a departure's booked seats never exceed its capacity, unless a
//! manager explicitly overrides it — and then the caller is told, so it can write the audit
//! record. Nothing here can overbook silently.

use serde::{Deserialize, Serialize};

use crate::entities::Departure;
use crate::status::DepartureStatus;

/// A manager's explicit permission to go over capacity, carried by the intent that needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagerOverride {
    pub manager_id: String,
    pub reason: String,
}

/// The seats a change leaves, and whether an override made it possible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[must_use = "an overbooking must be written to the audit log"]
pub enum CapacityOutcome {
    Within {
        booked_after: u32,
        seats_left: u32,
    },
    /// The caller must audit this: who, why, and by how many seats.
    Overbooked {
        booked_after: u32,
        over_by: u32,
        by: ManagerOverride,
    },
}

impl CapacityOutcome {
    pub fn booked_after(&self) -> u32 {
        match self {
            CapacityOutcome::Within { booked_after, .. } | CapacityOutcome::Overbooked { booked_after, .. } => {
                *booked_after
            }
        }
    }

    pub fn needs_audit(&self) -> bool {
        matches!(self, CapacityOutcome::Overbooked { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CapacityError {
    /// The wire name matches the sync protocol's `CAPACITY_EXCEEDED` rejection.
    #[error("only {seats_left} seats left, {requested} requested")]
    CapacityExceeded { capacity: u32, booked: u32, requested: u32, seats_left: u32 },
    #[error("capacity {capacity} is below the {booked} seats already booked")]
    CapacityBelowBooked { capacity: u32, booked: u32 },
    #[error("this departure is {status} and not taking bookings")]
    NotBookable { status: DepartureStatus },
    #[error("a capacity override needs the manager and a reason")]
    OverrideIncomplete,
    #[error("a booking needs at least one participant")]
    NoParticipants,
}

fn check_override(o: Option<&ManagerOverride>) -> Result<Option<&ManagerOverride>, CapacityError> {
    match o {
        Some(m) if m.manager_id.trim().is_empty() || m.reason.trim().is_empty() => {
            Err(CapacityError::OverrideIncomplete)
        }
        other => Ok(other),
    }
}

/// Adds `requested` seats to `booked` out of `capacity`.
pub fn reserve_seats(
    capacity: u32,
    booked: u32,
    requested: u32,
    manager_override: Option<&ManagerOverride>,
) -> Result<CapacityOutcome, CapacityError> {
    let manager_override = check_override(manager_override)?;
    let booked_after = booked.saturating_add(requested);
    if booked_after <= capacity {
        return Ok(CapacityOutcome::Within { booked_after, seats_left: capacity - booked_after });
    }
    match manager_override {
        Some(by) => Ok(CapacityOutcome::Overbooked { booked_after, over_by: booked_after - capacity, by: by.clone() }),
        None => Err(CapacityError::CapacityExceeded {
            capacity,
            booked,
            requested,
            seats_left: capacity.saturating_sub(booked),
        }),
    }
}

/// A new booking on `departure`: it must be open (an override does not reopen a closed,
/// cancelled or completed departure, but does allow booking a full one) and have the seats.
pub fn check_booking(
    departure: &Departure,
    participants: u32,
    manager_override: Option<&ManagerOverride>,
) -> Result<CapacityOutcome, CapacityError> {
    if participants == 0 {
        return Err(CapacityError::NoParticipants);
    }
    match departure.status {
        DepartureStatus::Open => {}
        // A sold-out departure is a capacity answer, not a "closed" one: the person who lost
        // the last seat should read "no seats left", and may be offered the waitlist.
        DepartureStatus::Full if manager_override.is_none() => {
            return Err(CapacityError::CapacityExceeded {
                capacity: departure.capacity,
                booked: departure.booked_count,
                requested: participants,
                seats_left: 0,
            });
        }
        DepartureStatus::Full => {}
        status => return Err(CapacityError::NotBookable { status }),
    }
    reserve_seats(departure.capacity, departure.booked_count, participants, manager_override)
}

/// The highest `booked_count` at which a sale of `participants` seats on `departure` (no
/// override) is decided exactly as at its own count: within capacity, and leaving the status as
/// it is. `None` when the sale is not that plain (the departure is not open, or the sale fills it
/// or does not fit).
///
/// For a store that decides a sale on a departure read without its row lock and applies it
/// later with a guard: "nothing but `booked_count` changed, and it is at most this". Every count
/// the guard lets through is one on which [`check_booking`] and [`status_for_occupancy`] decide
/// the same, because the ceiling is found by asking them (the answer only ever turns from yes to
/// no as the count grows), so the rule stays here and the guard merely compares numbers.
pub fn plain_sale_ceiling(departure: &Departure, participants: u32) -> Option<u32> {
    let mut at = departure.clone();
    let mut same = |booked: u32| {
        at.booked_count = booked;
        matches!(check_booking(&at, participants, None), Ok(CapacityOutcome::Within { .. }))
            && status_for_occupancy(at.status, booked.saturating_add(participants), at.capacity) == departure.status
    };
    if !same(departure.booked_count) {
        return None;
    }
    // Binary search for the last count that decides the same: within capacity means at most it.
    let (mut lo, mut hi) = (departure.booked_count, departure.capacity.max(departure.booked_count));
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if same(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Some(lo)
}

/// Changing a departure's capacity: going below what is booked needs an override.
pub fn check_capacity_change(
    new_capacity: u32,
    booked: u32,
    manager_override: Option<&ManagerOverride>,
) -> Result<CapacityOutcome, CapacityError> {
    let manager_override = check_override(manager_override)?;
    if booked <= new_capacity {
        return Ok(CapacityOutcome::Within { booked_after: booked, seats_left: new_capacity - booked });
    }
    match manager_override {
        Some(by) => {
            Ok(CapacityOutcome::Overbooked { booked_after: booked, over_by: booked - new_capacity, by: by.clone() })
        }
        None => Err(CapacityError::CapacityBelowBooked { capacity: new_capacity, booked }),
    }
}

/// The status a departure should have after its occupancy changed — the spec's
/// `check_schedule_capacity` trigger as a pure function: open ↔ full only; closed, cancelled
/// and completed departures are left as they are.
pub fn status_for_occupancy(status: DepartureStatus, booked: u32, capacity: u32) -> DepartureStatus {
    match status {
        DepartureStatus::Open if booked >= capacity => DepartureStatus::Full,
        DepartureStatus::Full if booked < capacity => DepartureStatus::Open,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::status::StateMachine;

    fn mgr() -> ManagerOverride {
        ManagerOverride { manager_id: "u-7".into(), reason: "VIP group, extra guide".into() }
    }

    /// Every count up to the ceiling decides the sale as the departure's own count does (within,
    /// same status after), and the count just above it does not: checked for every status, small
    /// capacity, count and party size.
    #[test]
    fn the_plain_sale_ceiling_is_where_the_decision_changes() {
        use DepartureStatus::*;
        let same = |d: &Departure, n: u32| {
            matches!(check_booking(d, n, None), Ok(CapacityOutcome::Within { .. }))
                && status_for_occupancy(d.status, d.booked_count + n, d.capacity) == d.status
        };
        for status in [Open, Full, Closed, Cancelled, Completed] {
            for capacity in 0..12 {
                for booked in 0..14 {
                    for n in 0..5 {
                        let d = Departure { status, capacity, booked_count: booked, ..crate::fixtures::departure() };
                        let ceiling = plain_sale_ceiling(&d, n);
                        assert_eq!(ceiling.is_some(), same(&d, n), "{status} {capacity} {booked} {n}");
                        let Some(ceiling) = ceiling else { continue };
                        assert!(ceiling >= booked);
                        for b in 0..=ceiling + 3 {
                            let at = Departure { booked_count: b, ..d.clone() };
                            assert_eq!(same(&at, n), b <= ceiling, "{status} {capacity} {booked} {n} at {b}");
                        }
                    }
                }
            }
        }
        let big = Departure { status: Open, capacity: 100_000_000, booked_count: 5, ..crate::fixtures::departure() };
        assert_eq!(plain_sale_ceiling(&big, 2), Some(100_000_000 - 3));
    }

    #[test]
    fn reserve_seats_table() {
        let m = mgr();
        // (capacity, booked, requested, override, expected)
        let cases = [
            (10, 4, 6, None, Ok(CapacityOutcome::Within { booked_after: 10, seats_left: 0 })),
            (10, 4, 2, None, Ok(CapacityOutcome::Within { booked_after: 6, seats_left: 4 })),
            (
                10,
                4,
                7,
                None,
                Err(CapacityError::CapacityExceeded { capacity: 10, booked: 4, requested: 7, seats_left: 6 }),
            ),
            (
                10,
                12,
                1,
                None,
                Err(CapacityError::CapacityExceeded { capacity: 10, booked: 12, requested: 1, seats_left: 0 }),
            ),
            (10, 4, 7, Some(&m), Ok(CapacityOutcome::Overbooked { booked_after: 11, over_by: 1, by: m.clone() })),
            // An override that is not needed is not reported.
            (10, 4, 1, Some(&m), Ok(CapacityOutcome::Within { booked_after: 5, seats_left: 5 })),
        ];
        for (cap, booked, req, o, want) in cases {
            assert_eq!(reserve_seats(cap, booked, req, o), want, "{cap}/{booked}+{req}");
        }
        let blank = ManagerOverride { manager_id: "u".into(), reason: " ".into() };
        assert_eq!(reserve_seats(10, 0, 1, Some(&blank)), Err(CapacityError::OverrideIncomplete));
        assert!(reserve_seats(1, 1, 1, Some(&m)).unwrap().needs_audit());
    }

    #[test]
    fn booking_requires_a_bookable_departure() {
        let dep =
            Departure { capacity: 10, booked_count: 10, status: DepartureStatus::Full, ..crate::fixtures::departure() };
        let m = mgr();
        use DepartureStatus::*;
        let cases = [
            (Open, 3, 2, None, Ok(5)),
            (
                Full,
                10,
                1,
                None,
                Err(CapacityError::CapacityExceeded { capacity: 10, booked: 10, requested: 1, seats_left: 0 }),
            ),
            (Full, 10, 1, Some(&m), Ok(11)),
            (Closed, 3, 1, Some(&m), Err(CapacityError::NotBookable { status: Closed })),
            (Cancelled, 0, 1, None, Err(CapacityError::NotBookable { status: Cancelled })),
            (Completed, 0, 1, None, Err(CapacityError::NotBookable { status: Completed })),
            (Open, 3, 0, None, Err(CapacityError::NoParticipants)),
        ];
        for (status, booked, pax, o, want) in cases {
            let d = Departure { status, booked_count: booked, ..dep.clone() };
            assert_eq!(check_booking(&d, pax, o).map(|x| x.booked_after()), want, "{status} {booked}+{pax}");
        }
    }

    #[test]
    fn capacity_change_and_auto_status() {
        let m = mgr();
        assert_eq!(check_capacity_change(8, 8, None), Ok(CapacityOutcome::Within { booked_after: 8, seats_left: 0 }));
        assert_eq!(
            check_capacity_change(6, 8, None),
            Err(CapacityError::CapacityBelowBooked { capacity: 6, booked: 8 })
        );
        assert_eq!(
            check_capacity_change(6, 8, Some(&m)),
            Ok(CapacityOutcome::Overbooked { booked_after: 8, over_by: 2, by: m.clone() })
        );
        use DepartureStatus::*;
        let cases = [
            (Open, 9, 10, Open),
            (Open, 10, 10, Full),
            (Open, 11, 10, Full),
            (Full, 9, 10, Open),
            (Full, 10, 10, Full),
            (Closed, 10, 10, Closed),
            (Cancelled, 0, 10, Cancelled),
            (Completed, 3, 10, Completed),
        ];
        for (s, booked, cap, want) in cases {
            assert_eq!(status_for_occupancy(s, booked, cap), want, "{s} {booked}/{cap}");
            assert!(s.can_transition_to(want));
        }
    }
}

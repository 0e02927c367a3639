//! Allotments: seats the server sets aside on a departure for one device, so that device can sell
//! walk-ups offline without ever overbooking.
//!
//! The seats of an allotment are taken from the departure's capacity when it is issued, under the
//! departure's row lock, exactly like a booking's: `booked_count` counts them from then on, so the
//! website and every other desk see them as gone. A walk-up sold on the allotment moves no seat of
//! the departure — it was taken at issue — and only counts against the allotment (`sold`). When
//! the allotment is released (by its holder, by the office, or by the job when the departure
//! starts) its unsold seats go back to general sale. So at every moment
//!
//! ```text
//! booked_count = seats of bookings not on an allotment + Σ over active allotments of seats
//!              + Σ over released allotments of sold
//! ```
//!
//! and `booked_count ≤ capacity` holds whatever order issues, sales, releases and website
//! bookings arrive in. The rules:
//! * **Issue:** at least one seat, and no more than the departure has free (an open departure);
//!   see [`check_issue`].
//! * **Sale:** `sold + requested ≤ seats` ([`check_sale`]); the same function decides on the
//!   device, offline, and on the server, so a walk-up the device accepted is never refused for
//!   seats later. A sale made before the allotment was released still counts (a guide who sold at
//!   the meeting point and synced after the departure started).
//! * **Release:** returns `seats - sold` to the departure ([`release`]); releasing twice returns
//!   nothing the second time.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::entities::Departure;
use crate::status::{DepartureStatus, string_enum};

/// The most seats one allotment may hold.
pub const MAX_ALLOTMENT_SEATS: u32 = 500;

string_enum!(
    /// Whether an allotment still holds its unsold seats.
    AllotmentStatus { Active => "active", Released => "released" }
);

/// Seats on one departure set aside for one device (the spec has no table for it; see the
/// module docs). Replicates with its departure (`org:all` and `schedule:D`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allotment {
    pub id: String,
    pub organization_id: String,
    pub departure_id: String,
    pub tour_id: String,
    /// The device (`auth` device id) that may sell on it.
    pub device_id: String,
    /// The staff account that device is signed in as; only that account may sell on it.
    pub user_id: String,
    pub seats: u32,
    pub sold: u32,
    pub status: AllotmentStatus,
    /// The walk-up bookings sold on it, in the order they were decided.
    #[serde(default)]
    pub booking_ids: Vec<String>,
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
    #[serde(default)]
    pub released_at: Option<DateTime<Utc>>,
    /// Seats that went back to general sale at release.
    #[serde(default)]
    pub returned: u32,
}

impl Allotment {
    /// Seats still for sale on it (none once released).
    pub fn unsold(&self) -> u32 {
        match self.status {
            AllotmentStatus::Active => self.seats.saturating_sub(self.sold),
            AllotmentStatus::Released => 0,
        }
    }
}

/// Why an allotment rule refuses; each names the rule it enforces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AllotmentError {
    #[error("an allotment needs at least one seat")]
    NoSeats,
    #[error("an allotment holds at most {max} seats")]
    TooManySeats { max: u32 },
    /// Rule "allotment ≤ free seats at issue".
    #[error("only {seats_left} seats are free on this departure, {requested} requested for the allotment")]
    NotEnoughFree { requested: u32, seats_left: u32 },
    #[error("this departure is {status}; no allotment can be issued on it")]
    NotOpen { status: DepartureStatus },
    /// Rule "sold ≤ allotment".
    #[error("this device's allotment has {left} of {seats} seats left; {requested} requested")]
    Exceeded { seats: u32, sold: u32, requested: u32, left: u32 },
    #[error("this allotment was released; its seats went back to general sale")]
    Released,
}

/// Whether `seats` may be set aside on `dep` now; answers the departure's `booked_count` after.
/// Only an open departure with that many free seats gives an allotment.
pub fn check_issue(dep: &Departure, seats: u32) -> Result<u32, AllotmentError> {
    if seats == 0 {
        return Err(AllotmentError::NoSeats);
    }
    if seats > MAX_ALLOTMENT_SEATS {
        return Err(AllotmentError::TooManySeats { max: MAX_ALLOTMENT_SEATS });
    }
    match dep.status {
        DepartureStatus::Open => {}
        DepartureStatus::Full => return Err(AllotmentError::NotEnoughFree { requested: seats, seats_left: 0 }),
        status => return Err(AllotmentError::NotOpen { status }),
    }
    let left = dep.seats_left();
    if seats > left {
        return Err(AllotmentError::NotEnoughFree { requested: seats, seats_left: left });
    }
    Ok(dep.booked_count + seats)
}

/// Whether `requested` walk-up seats fit the allotment; answers `sold` after. A sale made at
/// `sold_at` on an allotment released later still counts (it was sold while the seats were
/// held); one made after the release is refused.
pub fn check_sale(a: &Allotment, requested: u32, sold_at: DateTime<Utc>) -> Result<u32, AllotmentError> {
    if requested == 0 {
        return Err(AllotmentError::NoSeats);
    }
    if a.status == AllotmentStatus::Released && a.released_at.is_none_or(|at| sold_at > at) {
        return Err(AllotmentError::Released);
    }
    let left = a.seats.saturating_sub(a.sold);
    if requested > left {
        return Err(AllotmentError::Exceeded { seats: a.seats, sold: a.sold, requested, left });
    }
    Ok(a.sold + requested)
}

/// Releases `a` at `at`: the seats it gives back to the departure (its unsold ones), and the
/// allotment after. Releasing a released allotment gives nothing back and changes nothing.
pub fn release(a: &Allotment, at: DateTime<Utc>) -> (u32, Allotment) {
    if a.status == AllotmentStatus::Released {
        return (0, a.clone());
    }
    let returned = a.seats.saturating_sub(a.sold);
    let mut next = a.clone();
    next.status = AllotmentStatus::Released;
    next.released_at = Some(at);
    next.returned = returned;
    (returned, next)
}

/// `POST /api/v1/allotments`: seats on a departure for a device. `device_id` defaults to the
/// asking device; `id` (a UUID) makes a retried request find the allotment it already made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueAllotmentRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub departure_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    pub seats: u32,
}

/// The desk's walk-up form (UI → `sell_walk_up` command): a guest at the meeting point sold
/// seats on this device's allotment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalkUpInput {
    pub departure_id: String,
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub phone: Option<String>,
    pub lines: Vec<crate::mutation::LineArgs>,
    /// `cash` or `pay_on_arrival`.
    pub payment: crate::mutation::WalkUpPayment,
    #[serde(default)]
    pub special_requests: Option<String>,
    #[serde(default)]
    pub dietary_restrictions: Option<String>,
    #[serde(default)]
    pub expected_total: Option<crate::money::Money>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::{Duration, NaiveDate, NaiveTime, TimeZone};
    use proptest::prelude::*;

    use super::*;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap()
    }

    fn dep(capacity: u32, booked: u32) -> Departure {
        Departure {
            id: "d-1".into(),
            organization_id: "o".into(),
            tour_id: "t".into(),
            variant_id: "v".into(),
            local_date: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            local_time: NaiveTime::from_hms_opt(10, 0, 0).unwrap(),
            timezone: "Europe/Lisbon".into(),
            starts_at: t0() + Duration::hours(2),
            ends_at: t0() + Duration::hours(4),
            capacity,
            booked_count: booked,
            status: crate::capacity::status_for_occupancy(DepartureStatus::Open, booked, capacity),
            notes: String::new(),
        }
    }

    fn allotment(seats: u32, sold: u32) -> Allotment {
        Allotment {
            id: "a-1".into(),
            organization_id: "o".into(),
            departure_id: "d-1".into(),
            tour_id: "t".into(),
            device_id: "dev".into(),
            user_id: "u".into(),
            seats,
            sold,
            status: AllotmentStatus::Active,
            booking_ids: vec![],
            issued_by: "m".into(),
            issued_at: t0(),
            released_at: None,
            returned: 0,
        }
    }

    #[test]
    fn an_allotment_takes_no_more_than_the_free_seats() {
        assert_eq!(check_issue(&dep(10, 6), 4), Ok(10));
        assert_eq!(check_issue(&dep(10, 6), 5), Err(AllotmentError::NotEnoughFree { requested: 5, seats_left: 4 }));
        assert_eq!(check_issue(&dep(10, 10), 1), Err(AllotmentError::NotEnoughFree { requested: 1, seats_left: 0 }));
        assert_eq!(check_issue(&dep(10, 0), 0), Err(AllotmentError::NoSeats));
        let mut closed = dep(10, 0);
        closed.status = DepartureStatus::Closed;
        assert_eq!(check_issue(&closed, 1), Err(AllotmentError::NotOpen { status: DepartureStatus::Closed }));
    }

    #[test]
    fn sales_stay_within_the_allotment_and_name_the_rule() {
        let a = allotment(3, 1);
        assert_eq!(check_sale(&a, 2, t0()), Ok(3));
        let e = check_sale(&a, 3, t0()).unwrap_err();
        assert_eq!(e, AllotmentError::Exceeded { seats: 3, sold: 1, requested: 3, left: 2 });
        assert_eq!(e.to_string(), "this device's allotment has 2 of 3 seats left; 3 requested");
        assert_eq!(check_sale(&a, 0, t0()), Err(AllotmentError::NoSeats));
    }

    #[test]
    fn release_returns_the_unsold_seats_once_and_late_pushed_sales_made_before_it_count() {
        let a = allotment(4, 1);
        let (back, released) = release(&a, t0() + Duration::hours(2));
        assert_eq!((back, released.status, released.returned), (3, AllotmentStatus::Released, 3));
        assert_eq!(release(&released, t0() + Duration::hours(3)).0, 0, "a second release gives nothing");
        assert_eq!(released.unsold(), 0);
        // Sold at the meeting point before the release, pushed after: within the allotment.
        assert_eq!(check_sale(&released, 2, t0() + Duration::hours(1)), Ok(3));
        assert_eq!(check_sale(&released, 1, t0() + Duration::hours(3)), Err(AllotmentError::Released));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Issue(u32),
        Sell(usize, u32),
        Release(usize),
        Website(u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1u32..6).prop_map(Op::Issue),
            (0usize..4, 1u32..4).prop_map(|(i, n)| Op::Sell(i, n)),
            (0usize..4).prop_map(Op::Release),
            (1u32..4).prop_map(Op::Website),
        ]
    }

    proptest! {
        /// Whatever order issues, walk-up sales, releases and website bookings come in, the
        /// departure never holds more than its capacity, no allotment sells more than it holds,
        /// and the seats add up (see the module docs).
        #[test]
        fn seats_never_exceed_capacity_and_always_add_up(capacity in 1u32..20, ops in prop::collection::vec(op(), 0..40)) {
            let mut d = dep(capacity, 0);
            let mut allotments: Vec<Allotment> = Vec::new();
            let mut website = 0u32;
            let mut clock = t0();
            for op in ops {
                clock += Duration::minutes(1);
                match op {
                    Op::Issue(n) => {
                        if let Ok(after) = check_issue(&d, n) {
                            d.booked_count = after;
                            let mut a = allotment(n, 0);
                            a.id = format!("a-{}", allotments.len());
                            allotments.push(a);
                        }
                    }
                    Op::Sell(i, n) => {
                        if let Some(a) = allotments.get_mut(i)
                            && let Ok(sold) = check_sale(a, n, clock)
                        {
                            prop_assert!(sold <= a.seats);
                            a.sold = sold;
                        }
                    }
                    Op::Release(i) => {
                        if let Some(a) = allotments.get_mut(i) {
                            let (back, next) = release(a, clock);
                            d.booked_count -= back;
                            *a = next;
                        }
                    }
                    Op::Website(n) => {
                        if crate::capacity::check_booking(&d, n, None).is_ok() {
                            d.booked_count += n;
                            website += n;
                        }
                    }
                }
                d.status = crate::capacity::status_for_occupancy(d.status, d.booked_count, d.capacity);
                prop_assert!(d.booked_count <= d.capacity);
                let held: u32 = allotments.iter().map(|a| match a.status {
                    AllotmentStatus::Active => a.seats,
                    AllotmentStatus::Released => a.sold,
                }).sum();
                prop_assert_eq!(d.booked_count, website + held);
                prop_assert!(allotments.iter().all(|a| a.sold <= a.seats));
            }
        }
    }
}

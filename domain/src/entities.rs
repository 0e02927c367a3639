//! The entities the desk replicates and the server owns. Field names are the wire format of
//! sync change records, so they are also the column names on both stores.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::status::{DepartureStatus, TourCategory, TourStatus};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tour {
    pub id: String,
    pub organization_id: String,
    pub name: String,
    /// Unique within the organization; used in public URLs.
    pub slug: String,
    pub short_description: String,
    pub duration_minutes: u32,
    pub default_capacity: u32,
    pub min_participants: u32,
    pub category: TourCategory,
    /// IANA zone the tour operates in; departures are shown in it.
    pub timezone: String,
    pub meeting_point: String,
    pub status: TourStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TourVariant {
    pub id: String,
    pub organization_id: String,
    pub tour_id: String,
    pub name: String,
    /// `None` means "use the tour's default".
    pub capacity: Option<u32>,
    pub duration_minutes: Option<u32>,
    pub active: bool,
    pub sort_order: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PricingTier {
    pub id: String,
    pub organization_id: String,
    pub tour_id: String,
    /// `None` means the tier applies to every variant of the tour.
    pub variant_id: Option<String>,
    pub name: String,
    pub base_price: Money,
    pub min_age: Option<u32>,
    pub max_age: Option<u32>,
    pub is_default: bool,
    pub sort_order: i32,
}

/// One departure of a tour variant: what gets booked. The seed spec calls this a "schedule".
/// The local date/time and zone are what the operator typed; `starts_at` is the UTC instant
/// derived from them, which is what is compared and sorted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Departure {
    pub id: String,
    pub organization_id: String,
    pub tour_id: String,
    pub variant_id: String,
    pub local_date: NaiveDate,
    pub local_time: NaiveTime,
    pub timezone: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub capacity: u32,
    pub booked_count: u32,
    pub status: DepartureStatus,
}

impl Departure {
    pub fn seats_left(&self) -> u32 {
        self.capacity.saturating_sub(self.booked_count)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn seats_left_never_underflows() {
        let d = Departure {
            id: "d".into(),
            organization_id: "o".into(),
            tour_id: "t".into(),
            variant_id: "v".into(),
            local_date: NaiveDate::from_ymd_opt(2026, 3, 8).unwrap(),
            local_time: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            timezone: "America/New_York".into(),
            starts_at: Utc::now(),
            ends_at: Utc::now(),
            capacity: 10,
            booked_count: 12,
            status: DepartureStatus::Full,
        };
        assert_eq!(d.seats_left(), 0);
        assert_eq!(Departure { booked_count: 3, ..d }.seats_left(), 7);
    }
}

//! Codes become words here, once: statuses, categories and refusal codes are stored and sent as
//! stable codes (`open`, `unpaid`, `CAPACITY_EXCEEDED`) and never shown raw.

use tourdesk_domain::accounts::StaffStatus;
use tourdesk_domain::roles::Role;
use tourdesk_domain::status::{BookingStatus, DepartureStatus, PaymentStatus, TourCategory, TourStatus};

pub fn booking_status(s: BookingStatus) -> &'static str {
    match s {
        BookingStatus::Pending => "Awaiting payment",
        BookingStatus::Confirmed => "Confirmed",
        BookingStatus::Modified => "Changed",
        BookingStatus::Cancelled => "Cancelled",
        BookingStatus::NoShow => "No-show",
        BookingStatus::Completed => "Completed",
    }
}

pub fn payment_status(s: PaymentStatus) -> &'static str {
    match s {
        PaymentStatus::Unpaid => "Not paid",
        PaymentStatus::Partial => "Part paid",
        PaymentStatus::Paid => "Paid",
        PaymentStatus::Refunded => "Refunded",
        PaymentStatus::PartiallyRefunded => "Part refunded",
        PaymentStatus::Disputed => "Disputed",
    }
}

pub fn departure_status(s: DepartureStatus) -> &'static str {
    match s {
        DepartureStatus::Open => "Open",
        DepartureStatus::Full => "Full",
        DepartureStatus::Closed => "Closed to sales",
        DepartureStatus::Cancelled => "Cancelled",
        DepartureStatus::Completed => "Completed",
    }
}

pub fn tour_status(s: TourStatus) -> &'static str {
    match s {
        TourStatus::Draft => "Draft",
        TourStatus::Active => "Published",
        TourStatus::Archived => "Archived",
    }
}

pub fn category(c: TourCategory) -> &'static str {
    match c {
        TourCategory::Walking => "Walking tour",
        TourCategory::Food => "Food tour",
        TourCategory::Cultural => "Cultural",
        TourCategory::Adventure => "Adventure",
        TourCategory::Nature => "Nature",
        TourCategory::Photography => "Photography",
        TourCategory::Private => "Private",
        TourCategory::Custom => "Custom",
    }
}

pub fn role(r: Role) -> &'static str {
    match r {
        Role::Owner => "Owner",
        Role::Admin => "Admin",
        Role::Manager => "Manager",
        Role::Guide => "Guide",
        Role::Customer => "Customer",
    }
}

pub fn staff_status(s: StaffStatus) -> &'static str {
    match s {
        StaffStatus::Invited => "Invited, no password yet",
        StaffStatus::Active => "Active",
        StaffStatus::Suspended => "Suspended",
    }
}

/// The headline for a refusal or error code; `None` for a code whose message already says it all
/// (field errors, for one).
pub fn code(code: &str) -> Option<&'static str> {
    Some(match code {
        "CAPACITY_EXCEEDED" => "Not enough seats left",
        "DEPARTURE_NOT_BOOKABLE" => "This departure is not taking bookings",
        "CAPACITY_BELOW_BOOKED" => "More seats are already sold",
        "PRICE_CHANGED" => "The price has changed",
        "PROMO_REFUSED" => "The promo code no longer applies",
        "PRICING_ERROR" => "This booking could not be priced",
        "NOT_FOUND" => "Not found",
        "NOT_AUTHORIZED" => "Your role may not do this",
        "FORBIDDEN_TRANSITION" => "Not possible in its current state",
        "GUIDE_CONFLICT" => "The guide is busy then",
        "CLOCK_SKEW" => "This computer's clock is wrong",
        "UNSUPPORTED" => "This desk needs an update for this change",
        "UNKNOWN_MUTATION" => "This desk needs an update for this change",
        "NOT_SIGNED_IN" => "This desk has not signed in yet",
        "STORE" => "The desk could not read or save its data",
        "CONFLICT" => "Changed elsewhere meanwhile",
        "OFFLINE" => "No connection to the server",
        "FORBIDDEN" => "Not allowed",
        "SESSION_ENDED" => "Signed out",
        "UNAVAILABLE" => "The server is busy",
        "RATE_LIMITED" => "Too many attempts",
        _ => return None,
    })
}

/// A clause as a sentence: first letter up.
pub fn sentence(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_as_words() {
        assert_eq!(code("CAPACITY_EXCEEDED"), Some("Not enough seats left"));
        assert_eq!(code("INVALID"), None, "a field error's message is already words");
        assert_eq!(departure_status(DepartureStatus::Open), "Open");
        assert_eq!(payment_status(PaymentStatus::Unpaid), "Not paid");
        assert_eq!(category(TourCategory::Walking), "Walking tour");
        for s in BookingStatus::ALL {
            assert!(!booking_status(*s).contains('_'), "{s:?}");
        }
        assert_eq!(sentence("only 0 seats left"), "Only 0 seats left");
        for s in StaffStatus::ALL {
            assert!(!staff_status(*s).contains('_'), "{s:?}");
        }
        assert_eq!(role(Role::Admin), "Admin");
    }
}

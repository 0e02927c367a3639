//! The waitlist's rules: which waiting customers are offered seats that free up on a departure,
//! for how long, and what becomes of an offer.
//!
//! An entry is made by `add_to_waitlist.v1` (the desk's conflict inbox, the desk's waitlist, the
//! website's "join the waitlist"). When seats free up (a cancellation, a capacity raised, a hold
//! that ran out) the server offers them: the first waiting entry, in the order the entries were
//! made, whose whole party fits in the seats free, is given a seat hold (an unpaid booking of its
//! lines, as a website checkout makes) for the configured time and a link to pay for it. An entry
//! whose party does not fit keeps its place for the next seats. An offer paid for is `Booked`; one
//! whose hold ran out (or was cancelled) has `Lapsed`, which frees its seats for the next entry.

use chrono::{DateTime, Utc};

use crate::entities::{Departure, PricingTier};
use crate::offer;
use crate::payment;
use crate::status::{BookingStatus, DepartureStatus, string_enum};

string_enum!(
    /// Where a waitlist entry stands.
    WaitlistStatus {
        Waiting => "waiting",
        Offered => "offered",
        Booked => "booked",
        Lapsed => "lapsed",
        Removed => "removed",
    }
);

/// What the offer rule needs to know of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    pub party_size: u32,
    pub status: WaitlistStatus,
    pub created_at: DateTime<Utc>,
}

/// The seats a departure can offer its waitlist at `now`: those for sale (an open departure's
/// seats left) on a departure that has not started.
pub fn seats_to_offer(d: &Departure, now: DateTime<Utc>) -> u32 {
    if d.starts_at <= now { 0 } else { offer::seats_for_sale(d) }
}

/// The entries to offer `seats_free` seats to, in the order they are offered: the waiting
/// entries in the order they were made (ties by id), each taken when its whole party fits in the
/// seats the earlier ones left. Entries offered, booked, lapsed or removed are passed over; an
/// entry too large for what is left keeps its place and is not offered part of its party.
pub fn entries_to_offer(entries: &[Candidate], seats_free: u32) -> Vec<&Candidate> {
    let mut waiting: Vec<&Candidate> = entries.iter().filter(|e| e.status == WaitlistStatus::Waiting).collect();
    waiting.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
    let mut left = seats_free;
    let mut chosen = Vec::new();
    for e in waiting {
        if e.party_size > 0 && e.party_size <= left {
            left -= e.party_size;
            chosen.push(e);
        }
    }
    chosen
}

/// The longest an offer holds its seats: the longest seat hold there is.
pub const MAX_OFFER_SECONDS: u64 = payment::MAX_HOLD_SECONDS;

/// Until when an offer made at `now` holds its seats, for a configured offer time of `seconds`
/// (clamped to [`MAX_OFFER_SECONDS`] as any seat hold) — and never past the departure's start,
/// since seats held after it has left help nobody.
pub fn offer_until(now: DateTime<Utc>, seconds: u64, departure_starts_at: DateTime<Utc>) -> DateTime<Utc> {
    payment::hold_until(now, seconds).min(departure_starts_at)
}

/// The offer's hold in seconds from `now`, as the booking that holds the seats is given it.
pub fn offer_hold_seconds(now: DateTime<Utc>, until: DateTime<Utc>) -> u64 {
    u64::try_from((until - now).num_seconds()).unwrap_or(0)
}

/// What an offered entry has become, given the status of the booking that holds its seats: booked
/// once that booking is confirmed (paid), lapsed once it is cancelled (its hold ran out or it
/// was called off) or gone; still offered while it is pending.
pub fn settle_offer(offer_booking: Option<BookingStatus>) -> WaitlistStatus {
    match offer_booking {
        Some(BookingStatus::Pending) => WaitlistStatus::Offered,
        Some(BookingStatus::Confirmed | BookingStatus::Modified | BookingStatus::Completed | BookingStatus::NoShow) => {
            WaitlistStatus::Booked
        }
        Some(BookingStatus::Cancelled) | None => WaitlistStatus::Lapsed,
    }
}

/// Why an entry cannot be removed, or `None` when it can: a waiting or lapsed entry goes; an
/// offered one holds seats the customer was told about (cancel its booking instead); a booked
/// or removed one is history.
pub fn removal_refused(status: WaitlistStatus) -> Option<&'static str> {
    match status {
        WaitlistStatus::Waiting | WaitlistStatus::Lapsed => None,
        WaitlistStatus::Offered => Some("the customer has been offered seats; cancel the held booking instead"),
        WaitlistStatus::Booked => Some("the entry was booked"),
        WaitlistStatus::Removed => Some("the entry was already removed"),
    }
}

/// Each entry's place in its departure's queue, in the order of `entries` (`None` for an entry
/// not waiting): waiting entries numbered from 1 in the order they are offered seats — made
/// first, first (ties by id), as [`entries_to_offer`] takes them. `entries` may mix departures:
/// each is paired with the departure whose queue it is in.
pub fn places_in_queue(entries: &[(&str, &Candidate)]) -> Vec<Option<u32>> {
    let mut waiting: Vec<usize> =
        (0..entries.len()).filter(|&i| entries[i].1.status == WaitlistStatus::Waiting).collect();
    waiting.sort_by(|&a, &b| {
        let ((da, x), (db, y)) = (entries[a], entries[b]);
        da.cmp(db).then(x.created_at.cmp(&y.created_at)).then_with(|| x.id.cmp(&y.id))
    });
    let mut places = vec![None; entries.len()];
    let mut last: Option<&str> = None;
    let mut n = 0;
    for i in waiting {
        let d = entries[i].0;
        n = if last == Some(d) { n + 1 } else { 1 };
        last = Some(d);
        places[i] = Some(n);
    }
    places
}

/// Where an entry stands, in words for the desk: "Waiting", "Offered until Sat 5 Dec, 14:00"
/// (the hold's end in the departure's zone `tz`), "Booked", "Lapsed", "Removed".
pub fn status_in_words(status: WaitlistStatus, offer_expires_at: Option<DateTime<Utc>>, tz: &str) -> String {
    match (status, offer_expires_at) {
        (WaitlistStatus::Waiting, _) => "Waiting".into(),
        (WaitlistStatus::Offered, Some(until)) => {
            let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
            format!("Offered until {}", until.with_timezone(&tz).format("%a %-d %b, %H:%M"))
        }
        (WaitlistStatus::Offered, None) => "Offered".into(),
        (WaitlistStatus::Booked, _) => "Booked".into(),
        (WaitlistStatus::Lapsed, _) => "Lapsed (the offer ran out)".into(),
        (WaitlistStatus::Removed, _) => "Removed".into(),
    }
}

/// The most seats one website waitlist request may ask for.
pub const MAX_PARTY: u32 = 50;

/// The tier a party that gave only its size (the website's waitlist form) is waiting for: of
/// the tiers sold on the departure's variant, the default one, else the first in the tour's order.
pub fn party_tier<'a>(tiers: &'a [PricingTier], variant_id: &str) -> Option<&'a PricingTier> {
    tiers
        .iter()
        .filter(|t| sold_on_variant(t, variant_id))
        .min_by(|a, b| b.is_default.cmp(&a.is_default).then(a.sort_order.cmp(&b.sort_order)).then(a.id.cmp(&b.id)))
}

/// Whether `tier` is sold on departures of `variant_id`: a tier of no variant is sold on all. A
/// waiting party's counts per tier name only such tiers.
pub fn sold_on_variant(tier: &PricingTier, variant_id: &str) -> bool {
    tier.variant_id.as_deref().is_none_or(|v| v == variant_id)
}

/// Why a customer cannot join a departure's waitlist from the website at `now`, or `None` when
/// they can: the departure must be one the public sees as running (open or full, not started),
/// and without the seats the party asks for — seats there are are booked, not waited for.
pub fn join_refused(d: &Departure, party_size: u32, now: DateTime<Utc>) -> Option<&'static str> {
    if d.starts_at <= now || !matches!(d.status, DepartureStatus::Open | DepartureStatus::Full) {
        return Some("this departure takes no waitlist");
    }
    if party_size <= seats_to_offer(d, now) {
        return Some("seats are available: book them instead");
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::status::DepartureStatus;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 9, 0, 0).unwrap()
    }

    fn c(id: &str, party: u32, status: WaitlistStatus, minutes: i64) -> Candidate {
        Candidate { id: id.into(), party_size: party, status, created_at: t0() + Duration::minutes(minutes) }
    }

    fn ids(v: Vec<&Candidate>) -> Vec<&str> {
        v.into_iter().map(|c| c.id.as_str()).collect()
    }

    use WaitlistStatus::*;

    #[test]
    fn the_first_waiting_entry_that_fits_is_offered() {
        let entries = [c("b", 2, Waiting, 2), c("a", 3, Waiting, 1), c("c", 1, Waiting, 3)];
        assert_eq!(ids(entries_to_offer(&entries, 3)), ["a"]);
        assert_eq!(ids(entries_to_offer(&entries, 6)), ["a", "b", "c"]);
        assert!(entries_to_offer(&entries, 0).is_empty());
    }

    #[test]
    fn a_party_that_does_not_fit_is_skipped_but_keeps_its_place() {
        let entries = [c("big", 4, Waiting, 1), c("small", 2, Waiting, 2), c("tiny", 1, Waiting, 3)];
        assert_eq!(ids(entries_to_offer(&entries, 3)), ["small", "tiny"]);
        // With enough seats the first one is offered first again.
        assert_eq!(ids(entries_to_offer(&entries, 4)), ["big"]);
    }

    #[test]
    fn offered_booked_lapsed_and_removed_entries_are_passed_over() {
        let entries = [
            c("offered", 1, Offered, 1),
            c("booked", 1, Booked, 2),
            c("lapsed", 1, Lapsed, 3),
            c("removed", 1, Removed, 4),
            c("next", 1, Waiting, 5),
        ];
        assert_eq!(ids(entries_to_offer(&entries, 5)), ["next"]);
    }

    #[test]
    fn ties_are_ordered_by_id_and_empty_parties_never_offered() {
        let entries = [c("z", 1, Waiting, 0), c("y", 1, Waiting, 0), c("zero", 0, Waiting, -1)];
        assert_eq!(ids(entries_to_offer(&entries, 1)), ["y"]);
    }

    fn dep(status: DepartureStatus, booked: u32, starts_in: Duration) -> Departure {
        Departure {
            status,
            booked_count: booked,
            capacity: 10,
            starts_at: t0() + starts_in,
            ..crate::fixtures::departure()
        }
    }

    #[test]
    fn only_an_open_departure_yet_to_start_offers_seats() {
        assert_eq!(seats_to_offer(&dep(DepartureStatus::Open, 7, Duration::days(1)), t0()), 3);
        assert_eq!(seats_to_offer(&dep(DepartureStatus::Full, 10, Duration::days(1)), t0()), 0);
        assert_eq!(seats_to_offer(&dep(DepartureStatus::Closed, 2, Duration::days(1)), t0()), 0);
        assert_eq!(seats_to_offer(&dep(DepartureStatus::Open, 2, Duration::zero()), t0()), 0);
    }

    #[test]
    fn an_offer_lasts_the_configured_time_clamped_and_never_past_the_start() {
        let starts = t0() + Duration::days(30);
        assert_eq!(offer_until(t0(), 86_400, starts), t0() + Duration::days(1));
        assert_eq!(offer_until(t0(), u64::MAX, starts), t0() + Duration::days(7));
        let soon = t0() + Duration::hours(3);
        assert_eq!(offer_until(t0(), 86_400, soon), soon);
        assert_eq!(offer_hold_seconds(t0(), soon), 3 * 3600);
        assert_eq!(offer_hold_seconds(t0(), t0() - Duration::hours(1)), 0);
    }

    #[test]
    fn an_offer_settles_with_its_booking() {
        assert_eq!(settle_offer(Some(BookingStatus::Pending)), Offered);
        assert_eq!(settle_offer(Some(BookingStatus::Confirmed)), Booked);
        assert_eq!(settle_offer(Some(BookingStatus::Cancelled)), Lapsed);
        assert_eq!(settle_offer(None), Lapsed);
    }

    #[test]
    fn the_website_joins_only_a_running_departure_without_the_seats() {
        let full = dep(DepartureStatus::Full, 10, Duration::days(1));
        assert_eq!(join_refused(&full, 2, t0()), None);
        assert_eq!(
            join_refused(&dep(DepartureStatus::Open, 9, Duration::days(1)), 2, t0()),
            None,
            "one seat, two wanted"
        );
        assert!(join_refused(&dep(DepartureStatus::Open, 8, Duration::days(1)), 2, t0()).is_some());
        assert!(join_refused(&dep(DepartureStatus::Cancelled, 10, Duration::days(1)), 2, t0()).is_some());
        assert!(join_refused(&dep(DepartureStatus::Full, 10, Duration::hours(-1)), 2, t0()).is_some());
    }

    #[test]
    fn a_party_waits_for_the_default_tier_of_its_variant() {
        let tier = |id: &str, variant: Option<&str>, default: bool, order: i32| PricingTier {
            id: id.into(),
            variant_id: variant.map(str::to_string),
            is_default: default,
            sort_order: order,
            ..crate::fixtures::adult_tier()
        };
        let tiers = [tier("child", None, false, 0), tier("adult", None, true, 1), tier("vip", Some("other"), true, 0)];
        assert_eq!(party_tier(&tiers, "main").map(|t| t.id.as_str()), Some("adult"));
        let no_default = [tier("b", None, false, 2), tier("a", Some("main"), false, 1)];
        assert_eq!(party_tier(&no_default, "main").map(|t| t.id.as_str()), Some("a"));
        assert_eq!(party_tier(&no_default[..1], "x").map(|t| t.id.as_str()), Some("b"));
        assert!(party_tier(&tiers[2..], "main").is_none());
    }

    #[test]
    fn places_count_waiting_entries_per_departure_in_offer_order() {
        let entries = [
            c("b", 2, Waiting, 2),
            c("a", 3, Waiting, 1),
            c("o", 1, Offered, 0),
            c("x", 1, Waiting, 0),
            c("r", 1, Removed, 0),
        ];
        // "x" waits on another departure: it is first there.
        let dep = |e: &Candidate| if e.id == "x" { "d2" } else { "d1" };
        let paired: Vec<(&str, &Candidate)> = entries.iter().map(|e| (dep(e), e)).collect();
        assert_eq!(places_in_queue(&paired), [Some(2), Some(1), None, Some(1), None]);
        // The first place is the entry `entries_to_offer` offers first.
        let d1: Vec<Candidate> = entries.iter().filter(|e| dep(e) == "d1").cloned().collect();
        assert_eq!(ids(entries_to_offer(&d1, 3)), ["a"]);
    }

    #[test]
    fn statuses_read_as_words_with_the_offer_in_the_departures_zone() {
        let until = Utc.with_ymd_and_hms(2026, 12, 5, 13, 0, 0).unwrap();
        assert_eq!(status_in_words(Waiting, None, "Europe/Paris"), "Waiting");
        assert_eq!(status_in_words(Offered, Some(until), "Europe/Paris"), "Offered until Sat 5 Dec, 14:00");
        assert_eq!(status_in_words(Offered, Some(until), "not a zone"), "Offered until Sat 5 Dec, 13:00");
        assert_eq!(status_in_words(Booked, None, "UTC"), "Booked");
        assert!(status_in_words(Lapsed, None, "UTC").starts_with("Lapsed"));
        assert_eq!(status_in_words(Removed, None, "UTC"), "Removed");
    }

    #[test]
    fn removal() {
        assert_eq!(removal_refused(Waiting), None);
        assert_eq!(removal_refused(Lapsed), None);
        assert!(removal_refused(Offered).is_some());
        assert!(removal_refused(Booked).is_some());
    }
}

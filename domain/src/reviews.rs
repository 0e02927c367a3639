//! Customer reviews of a tour (issue 15 item 5): who is asked for one and may write one, what a
//! review must say, how staff moderate it and what the tour page's average is.
//!
//! A booking is reviewed at most once (the server's unique index on `booking_id` holds it), by a
//! customer who attended: the booking was kept (confirmed, modified or completed) and at least one
//! of its participants was checked in at the meeting point. A booking nobody checked in, or one
//! marked a no-show, is never asked. The request goes out once the departure has ended, and only
//! for departures that ended within [`REQUEST_WINDOW_DAYS`], so switching reviews on does not
//! mail everyone who ever travelled.
//!
//! Ratings are whole stars 1–5. The average is kept as an integer number of tenths of a star
//! (43 = 4.3), rounded half up, so no float is ever stored or compared.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::roles::{Permission, Role};
use crate::status::{BookingStatus, string_enum};

pub const MIN_RATING: u8 = 1;
pub const MAX_RATING: u8 = 5;
/// Longest title, in characters.
pub const TITLE_MAX: usize = 120;
/// Shortest and longest text, in characters (after trimming).
pub const BODY_MIN: usize = 10;
pub const BODY_MAX: usize = 2000;
/// Longest name shown with the review.
pub const NAME_MAX: usize = 60;
/// A departure that ended longer ago than this is not asked about any more.
pub const REQUEST_WINDOW_DAYS: i64 = 14;
/// How long the link in a review request works.
pub const LINK_DAYS: i64 = 30;

string_enum!(
    /// Where a review stands: written and waiting for staff, shown on the tour page, or not shown.
    ReviewStatus { Pending => "pending", Approved => "approved", Rejected => "rejected" }
);

/// Whether a booking counts as attended: kept and at least one participant checked in.
pub fn attended(status: BookingStatus, checked_in: u32) -> bool {
    matches!(status, BookingStatus::Confirmed | BookingStatus::Modified | BookingStatus::Completed) && checked_in > 0
}

/// Why a booking may not be reviewed (or asked for a review) now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ineligible {
    /// Cancelled, a no-show, never paid, or nobody was checked in.
    NotAttended,
    /// The departure has not ended yet.
    NotEnded,
    /// The booking has its review already.
    AlreadyReviewed,
}

/// Whether the customer of a booking may write its review at `now`.
pub fn may_review(
    status: BookingStatus,
    checked_in: u32,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
    already_reviewed: bool,
) -> Result<(), Ineligible> {
    if !attended(status, checked_in) {
        return Err(Ineligible::NotAttended);
    }
    if ends_at > now {
        return Err(Ineligible::NotEnded);
    }
    if already_reviewed {
        return Err(Ineligible::AlreadyReviewed);
    }
    Ok(())
}

/// Whether a booking's review request is due at `now`: it may be reviewed, its departure ended
/// within [`REQUEST_WINDOW_DAYS`], and it was not asked before (the caller records that it was).
pub fn request_due(
    status: BookingStatus,
    checked_in: u32,
    ends_at: DateTime<Utc>,
    now: DateTime<Utc>,
    already_requested: bool,
) -> bool {
    !already_requested
        && may_review(status, checked_in, ends_at, now, false).is_ok()
        && ends_at > now - Duration::days(REQUEST_WINDOW_DAYS)
}

/// What is wrong with one field of a review form; the shell words it in the customer's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Problem {
    Required,
    /// The rating is not a whole number from [`MIN_RATING`] to [`MAX_RATING`].
    RatingRange,
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    pub field: &'static str,
    pub problem: Problem,
}

/// A review as the customer submitted it, before validation. `rating` is the form's text.
#[derive(Debug, Clone, Copy)]
pub struct ReviewForm<'a> {
    pub rating: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub display_name: &'a str,
}

/// A valid review's content, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewContent {
    pub rating: u8,
    pub title: String,
    pub body: String,
    pub display_name: String,
}

/// Checks every field of a review form and answers the content, or every problem found (one per
/// field), so the form can show each beside its field at once.
pub fn validate(form: &ReviewForm<'_>) -> Result<ReviewContent, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let mut problem = |field, problem| problems.push(FieldProblem { field, problem });
    let rating = match form.rating.trim() {
        "" => {
            problem("rating", Problem::Required);
            0
        }
        r => match r.parse::<u8>() {
            Ok(n) if (MIN_RATING..=MAX_RATING).contains(&n) => n,
            _ => {
                problem("rating", Problem::RatingRange);
                0
            }
        },
    };
    let title = form.title.trim();
    if title.chars().count() > TITLE_MAX {
        problem("title", Problem::TooLong { max: TITLE_MAX });
    }
    let body = form.body.trim();
    match body.chars().count() {
        0 => problem("body", Problem::Required),
        n if n < BODY_MIN => problem("body", Problem::TooShort { min: BODY_MIN }),
        n if n > BODY_MAX => problem("body", Problem::TooLong { max: BODY_MAX }),
        _ => {}
    }
    let name = form.display_name.trim();
    match name.chars().count() {
        0 => problem("display_name", Problem::Required),
        n if n > NAME_MAX => problem("display_name", Problem::TooLong { max: NAME_MAX }),
        _ => {}
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(ReviewContent { rating, title: title.to_string(), body: body.to_string(), display_name: name.to_string() })
}

/// The name a review is shown under when the customer suggests none: the first name and the
/// initial of the last ("Ana P."), so a public page does not carry a full name by default.
pub fn default_display_name(first_name: &str, last_name: &str) -> String {
    let first = first_name.trim();
    match last_name.trim().chars().next() {
        Some(c) if !first.is_empty() => format!("{first} {}.", c.to_uppercase()),
        _ => first.to_string(),
    }
}

/// A moderator's decision on a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "approve" => Some(Decision::Approve),
            "reject" => Some(Decision::Reject),
            _ => None,
        }
    }

    pub fn status(self) -> ReviewStatus {
        match self {
            Decision::Approve => ReviewStatus::Approved,
            Decision::Reject => ReviewStatus::Rejected,
        }
    }
}

/// Why a moderation is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModerationRefusal {
    /// Deciding what the public tour page shows needs `ToursWrite` (owners and admins).
    NotAuthorized,
}

/// Whether `role` decides which reviews the public tour page shows (owners and admins, who edit
/// tours); others may read the moderation list.
pub fn may_moderate(role: Role) -> bool {
    role.can(Permission::ToursWrite)
}

/// The status a review takes when `role` decides `decision` on it; `None` when it already has
/// it (nothing to write or audit). A decision may be changed later: an approved review can be
/// withdrawn and a rejected one approved after all.
pub fn moderate(
    role: Role,
    current: ReviewStatus,
    decision: Decision,
) -> Result<Option<ReviewStatus>, ModerationRefusal> {
    if !may_moderate(role) {
        return Err(ModerationRefusal::NotAuthorized);
    }
    let next = decision.status();
    Ok((next != current).then_some(next))
}

/// The approved reviews of a tour summed up: how many, and their average in tenths of a star.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RatingSummary {
    pub count: u32,
    /// Average rating × 10, rounded half up (43 = 4.3 stars); 0 when `count` is 0.
    pub average_tenths: u32,
}

impl RatingSummary {
    /// The summary of `ratings` (each 1–5).
    pub fn of(ratings: impl IntoIterator<Item = u8>) -> RatingSummary {
        let (mut count, mut sum) = (0u64, 0u64);
        for r in ratings {
            count += 1;
            sum += u64::from(r);
        }
        RatingSummary::from_sum(count, sum)
    }

    /// The summary of `count` ratings adding up to `sum` (what a SQL `count`/`sum` answers).
    pub fn from_sum(count: u64, sum: u64) -> RatingSummary {
        if count == 0 {
            return RatingSummary::default();
        }
        // round(sum / count × 10) = floor((20·sum + count) / (2·count))
        let tenths = (sum.saturating_mul(20) + count) / (2 * count);
        RatingSummary {
            count: u32::try_from(count).unwrap_or(u32::MAX),
            average_tenths: u32::try_from(tenths).unwrap_or(u32::MAX),
        }
    }

    /// The average as a decimal with one digit ("4.3"), the form schema.org's `ratingValue` takes.
    pub fn average_text(self) -> String {
        format!("{}.{}", self.average_tenths / 10, self.average_tenths % 10)
    }
}

/// A review as office desks hold it (`EntityKind::ReviewRating`, `RowScope::Office`): its star
/// rating and what it rates (the tour, the booking and the departure, whose guides the guide
/// performance report credits), never its title, text or the name it is shown under. The server
/// logs it whenever moderation decides it, with `published` saying whether it counts; a review
/// written and not yet moderated does not reach desks. When its author is erased
/// (`erase_customer.v1`) the server withdraws the review and logs the rating as deleted, so no
/// desk keeps a figure that its booking ties to the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRating {
    pub id: String,
    pub organization_id: String,
    pub tour_id: String,
    pub booking_id: Option<String>,
    /// The reviewed booking's departure; `None` once the booking is gone (erased).
    pub departure_id: Option<String>,
    pub rating: u8,
    /// Approved by staff: shown on the tour page and counted in averages.
    pub published: bool,
    pub moderated_at: Option<DateTime<Utc>>,
}

impl ReviewRating {
    /// Whether a review of `status` counts in averages: only what staff approved (the tour
    /// page's rule), so the desk's figures agree with the public site's.
    pub fn counts(status: ReviewStatus) -> bool {
        status == ReviewStatus::Approved
    }
}

/// A review as the desk's moderation list shows it (the staff API's answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub id: String,
    pub tour_id: String,
    pub tour_name: String,
    pub booking_reference: Option<String>,
    pub display_name: String,
    pub rating: u8,
    pub title: String,
    pub body: String,
    pub status: ReviewStatus,
    /// ISO 639-1 code of the language it was written in.
    pub language: String,
    pub created_at: DateTime<Utc>,
    pub moderated_at: Option<DateTime<Utc>>,
}

/// A moderator's decision as the staff API receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationRequest {
    pub decision: Decision,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::at;
    use crate::status::BookingStatus::*;

    #[test]
    fn only_kept_bookings_with_someone_checked_in_count_as_attended() {
        for s in [Confirmed, Modified, Completed] {
            assert!(attended(s, 1), "{s:?}");
            assert!(!attended(s, 0), "{s:?} with nobody checked in");
        }
        for s in [Pending, Cancelled, NoShow] {
            assert!(!attended(s, 2), "{s:?}");
        }
    }

    #[test]
    fn a_review_needs_attendance_an_ended_departure_and_no_earlier_review() {
        let (end, now) = (at("2026-05-01T12:00:00Z"), at("2026-05-01T13:00:00Z"));
        assert_eq!(may_review(Confirmed, 1, end, now, false), Ok(()));
        assert_eq!(may_review(Confirmed, 1, end, end, false), Ok(()), "the moment it ends");
        assert_eq!(may_review(Confirmed, 1, now, end, false), Err(Ineligible::NotEnded));
        assert_eq!(may_review(NoShow, 1, end, now, false), Err(Ineligible::NotAttended));
        assert_eq!(may_review(Confirmed, 0, end, now, false), Err(Ineligible::NotAttended));
        assert_eq!(may_review(Confirmed, 1, end, now, true), Err(Ineligible::AlreadyReviewed));
    }

    #[test]
    fn a_request_is_due_once_after_the_end_and_only_within_the_window() {
        let end = at("2026-05-01T12:00:00Z");
        let now = end + Duration::hours(2);
        assert!(request_due(Completed, 2, end, now, false));
        assert!(!request_due(Completed, 2, end, now, true), "asked already");
        assert!(!request_due(Completed, 2, now, end, false), "not ended");
        assert!(!request_due(NoShow, 0, end, now, false));
        assert!(!request_due(Cancelled, 2, end, now, false));
        let late = end + Duration::days(REQUEST_WINDOW_DAYS);
        assert!(!request_due(Completed, 2, end, late, false), "too long ago");
        assert!(request_due(Completed, 2, end, late - Duration::seconds(1), false));
    }

    fn form<'a>(rating: &'a str, title: &'a str, body: &'a str, name: &'a str) -> ReviewForm<'a> {
        ReviewForm { rating, title, body, display_name: name }
    }

    #[test]
    fn a_valid_review_is_trimmed() {
        let c = validate(&form(" 5 ", "  Great ", " Loved every minute of it. ", " Ana P. ")).unwrap();
        assert_eq!(
            c,
            ReviewContent {
                rating: 5,
                title: "Great".into(),
                body: "Loved every minute of it.".into(),
                display_name: "Ana P.".into()
            }
        );
        assert_eq!(validate(&form("1", "", "Too long and too hot.", "B")).unwrap().title, "");
    }

    #[test]
    fn every_bad_field_is_named_with_its_problem() {
        let long_title = "t".repeat(TITLE_MAX + 1);
        let e = validate(&form("6", &long_title, "short", "")).unwrap_err();
        assert_eq!(
            e,
            vec![
                FieldProblem { field: "rating", problem: Problem::RatingRange },
                FieldProblem { field: "title", problem: Problem::TooLong { max: TITLE_MAX } },
                FieldProblem { field: "body", problem: Problem::TooShort { min: BODY_MIN } },
                FieldProblem { field: "display_name", problem: Problem::Required },
            ]
        );
        for bad in ["0", "-1", "4.5", "five", "256"] {
            assert_eq!(
                validate(&form(bad, "", "A fine morning walk.", "A")).unwrap_err()[0].problem,
                Problem::RatingRange
            );
        }
        let e = validate(&form("", "", &"é".repeat(BODY_MAX + 1), &"n".repeat(NAME_MAX + 1))).unwrap_err();
        assert_eq!(
            e,
            vec![
                FieldProblem { field: "rating", problem: Problem::Required },
                FieldProblem { field: "body", problem: Problem::TooLong { max: BODY_MAX } },
                FieldProblem { field: "display_name", problem: Problem::TooLong { max: NAME_MAX } },
            ]
        );
        // Limits count characters, not bytes.
        assert!(validate(&form("3", &"ü".repeat(TITLE_MAX), &"ß".repeat(BODY_MAX), &"ö".repeat(NAME_MAX))).is_ok());
        assert_eq!(
            validate(&form("3", "", "   ", "A")).unwrap_err()[0],
            FieldProblem { field: "body", problem: Problem::Required }
        );
    }

    #[test]
    fn the_default_name_is_first_name_and_initial() {
        assert_eq!(default_display_name("Ana", "pereira"), "Ana P.");
        assert_eq!(default_display_name(" Ana ", ""), "Ana");
        assert_eq!(default_display_name("", "Pereira"), "");
    }

    #[test]
    fn owners_and_admins_moderate_and_a_decision_can_be_changed() {
        use ReviewStatus::*;
        assert_eq!(moderate(Role::Owner, Pending, Decision::Approve), Ok(Some(Approved)));
        assert_eq!(moderate(Role::Admin, Pending, Decision::Reject), Ok(Some(Rejected)));
        assert_eq!(moderate(Role::Admin, Approved, Decision::Reject), Ok(Some(Rejected)));
        assert_eq!(moderate(Role::Admin, Rejected, Decision::Approve), Ok(Some(Approved)));
        assert_eq!(moderate(Role::Admin, Approved, Decision::Approve), Ok(None), "nothing to change");
        for r in [Role::Manager, Role::Guide] {
            assert_eq!(moderate(r, Pending, Decision::Approve), Err(ModerationRefusal::NotAuthorized), "{r:?}");
        }
        assert_eq!(Decision::parse("approve"), Some(Decision::Approve));
        assert_eq!(Decision::parse("delete"), None);
    }

    #[test]
    fn the_average_is_in_tenths_rounded_half_up() {
        assert_eq!(RatingSummary::of([]), RatingSummary { count: 0, average_tenths: 0 });
        assert_eq!(RatingSummary::of([5, 4, 4]), RatingSummary { count: 3, average_tenths: 43 });
        assert_eq!(RatingSummary::of([5, 4]).average_text(), "4.5");
        // 4.25 rounds up to 4.3; 4.24… down to 4.2.
        assert_eq!(RatingSummary::of([5, 4, 4, 4]).average_tenths, 43);
        assert_eq!(RatingSummary::of([5, 5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]).average_tenths, 41);
        assert_eq!(RatingSummary::of([1]).average_text(), "1.0");
        assert_eq!(RatingSummary::from_sum(3, 13), RatingSummary::of([5, 4, 4]));
    }
}

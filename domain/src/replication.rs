//! Replication scope: which buckets a device of a role receives, and which buckets a row is
//! logged to. The server loads candidate rows (a login's assignments, a customer's departures)
//! and asks here; it never decides scope in SQL.
//!
//! * Owner, admin and manager desks receive `org:{id}:all`: everything of the organization.
//! * A guide's device receives `org:{id}:ref` (reference data) and `schedule:{D}` for each
//!   departure D they lead — an assignment of a guide linked to the login that is not declined.
//!   Other departures' guests are none of its business, and a lost phone leaks less.
//! * Owner and admin desks also receive `org:{id}:audit`, the audit log
//!   ([`role_receives_audit`]); managers and guides never do.
//! * Customers receive nothing: the public API is their door.
//!
//! Rows follow their scope: reference rows (tours, variants, tiers, guides) go to `org:all` and
//! `org:ref`; a departure itself and its operational rows (bookings, check-ins, assignments) to
//! `org:all` and `schedule:D`, so a guide's device holds only the departures they lead (issue 14:
//! it used to hold every departure of the organization, with empty manifests); a customer to `org:all` and the `schedule:D` of every departure
//! they have a booking on, so the guide of D has the guest's contact details.
//!
//! The pricing half of the catalogue (seasons, tax rates, cancellation policies, FAQs,
//! inclusions) is reference data like tours: every desk prices and shows tours with it. Promo
//! codes are not: a code is a secret worth money, and a guide's device neither sells with one nor
//! should leak the list, so they go to `org:all` only (`RowScope::Office`).

use crate::guides::AssignmentStatus;
use crate::protocol::{EntityKind, audit_bucket, org_bucket, ref_bucket, schedule_bucket};
use crate::roles::Role;

/// One guide assignment as a candidate for a login's scope: the departure, the user linked to
/// the assigned guide (if any) and the assignment's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedAssignment<'a> {
    pub departure_id: &'a str,
    pub guide_user_id: Option<&'a str>,
    pub status: AssignmentStatus,
}

/// Whether an assignment gives its guide the departure's bucket: every status but declined.
pub fn assignment_counts(status: AssignmentStatus) -> bool {
    status != AssignmentStatus::Declined
}

/// Whether writing an assignment (whose stored status was `before`, `None` when new) gives the
/// guide the departure: then the departure's current rows must be appended to `schedule:D`,
/// because rows written before the bucket was the guide's were never logged there.
pub fn assignment_gains_departure(before: Option<AssignmentStatus>, after: AssignmentStatus) -> bool {
    assignment_counts(after) && !before.is_some_and(assignment_counts)
}

/// The departures whose `schedule:D` a login receives, sorted and without repeats, from the
/// organization's assignments (any may be passed; others' and declined ones are skipped).
pub fn departures_led_by<'a>(user_id: &str, assignments: impl IntoIterator<Item = LedAssignment<'a>>) -> Vec<String> {
    let mut led: Vec<String> = assignments
        .into_iter()
        .filter(|a| a.guide_user_id == Some(user_id) && assignment_counts(a.status))
        .map(|a| a.departure_id.to_string())
        .collect();
    led.sort();
    led.dedup();
    led
}

/// Whether writing a booking must also log its customer to the departure's `schedule:D`: a new
/// booking of a customer with no other booking there. The customer row was logged before the
/// booking existed (so not to D), and the guide of D must have the guest's contact details; a
/// customer already booked on D is there already.
pub fn booking_brings_guest(new_booking: bool, guest_already_on_departure: bool) -> bool {
    new_booking && !guest_already_on_departure
}

/// Whether a role's devices receive `schedule:D` buckets at all (so the server knows whether to
/// load assignments for it).
pub fn role_leads_departures(role: Role) -> bool {
    role == Role::Guide
}

/// Whether a role's devices receive the audit log (`org:{id}:audit`): owners and admins, who
/// may manage staff and settings and so answer for what everyone did. A manager's or a guide's
/// device never holds who changed what; a lost phone leaks no history.
pub fn role_receives_audit(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Admin)
}

/// The buckets a device of `role` in `org` receives; `led` are the departures the login leads
/// ([`departures_led_by`]), used only for guides.
pub fn buckets_for(org: &str, role: Role, led: &[String]) -> Vec<String> {
    match role {
        Role::Owner | Role::Admin | Role::Manager => {
            std::iter::once(org_bucket(org)).chain(role_receives_audit(role).then(|| audit_bucket(org))).collect()
        }
        Role::Guide => std::iter::once(ref_bucket(org)).chain(led.iter().map(|d| schedule_bucket(d))).collect(),
        Role::Customer => Vec::new(),
    }
}

/// A bucket name read back from a client, relative to one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bucket {
    /// `org:{org}:all`, `org:{org}:ref` or `org:{org}:audit`: certainly this organization's.
    Organization,
    /// `schedule:{D}`: this organization's when D is one of its departures (the caller looks).
    Schedule(String),
}

/// Reads a bucket name a client presents; `None` for anything that cannot be one of `org`'s
/// buckets (another organization's, a malformed name, a departure id no row can have).
pub fn parse_bucket(org: &str, bucket: &str) -> Option<Bucket> {
    if bucket == org_bucket(org) || bucket == ref_bucket(org) || bucket == audit_bucket(org) {
        return Some(Bucket::Organization);
    }
    let departure_id = bucket.strip_prefix("schedule:")?;
    // Any stored departure id: generated departures' ids (`v1@2026-03-08T09:00`) are no UUIDs.
    crate::validate::row_ref("bucket", departure_id).ok().map(Bucket::Schedule)
}

/// Where a replicated row belongs, which decides the buckets it is logged to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowScope<'a> {
    /// Tours, variants, tiers, guides: every device of the organization.
    Reference,
    /// Promo codes, payment issues, gift cards, customers' communications and waitlist entries:
    /// office desks only (`org:all`), never a guide's device.
    Office,
    /// A departure itself, its bookings, their ledger entries, check-ins and guide assignments.
    Departure(&'a str),
    /// A customer, with the departures they have a booking on (any status: the booking stays in
    /// the departure's bucket, so its customer must too).
    Customer(&'a [String]),
}

impl RowScope<'_> {
    /// The scope of a reference entity; `None` for kinds whose scope depends on their row.
    pub fn of_reference(kind: EntityKind) -> Option<RowScope<'static>> {
        match kind {
            EntityKind::Tour
            | EntityKind::TourVariant
            | EntityKind::PricingTier
            | EntityKind::Guide
            | EntityKind::Season
            | EntityKind::TaxRate
            | EntityKind::CancellationPolicy
            | EntityKind::TourFaq
            | EntityKind::TourInclusion
            | EntityKind::GroupDiscount
            | EntityKind::EarlyBirdDiscount => Some(RowScope::Reference),
            EntityKind::PromoCode | EntityKind::PaymentIssue => Some(RowScope::Office),
            // Codes are worth money, like promo codes.
            EntityKind::GiftCard | EntityKind::GiftCardMovement => Some(RowScope::Office),
            // What was said to a customer and whether it arrived is the office's business: a
            // guide's device has the guest's contact details and needs no message history.
            EntityKind::Communication => Some(RowScope::Office),
            // Ratings feed the guide performance report, which only office roles read; a guide's
            // device does not learn how colleagues were rated.
            EntityKind::ReviewRating => Some(RowScope::Office),
            // A waitlist is worked from the office (guides may not add to it nor take anyone
            // off), and a waiting customer is no guest of the departure: a guide's device holds
            // no customer row for them (a customer reaches `schedule:D` only with a booking), so
            // an entry there would name someone the device cannot show. Once an offer is paid,
            // the booking reaches the guide as any booking does.
            EntityKind::WaitlistEntry => Some(RowScope::Office),
            // A departure is its own `schedule:D` (`RowScope::Departure(id)`).
            EntityKind::Departure
            | EntityKind::Booking
            | EntityKind::Customer
            | EntityKind::CheckIn
            | EntityKind::GuideAssignment
            | EntityKind::LedgerEntry
            | EntityKind::Allotment
            | EntityKind::DepartureIncident
            // Its own bucket (`audit_bucket`), for owners and admins only.
            | EntityKind::AuditLog => None,
        }
    }

    /// The buckets a change of such a row is logged to, `org:all` first.
    pub fn buckets(&self, org: &str) -> Vec<String> {
        match self {
            RowScope::Reference => vec![org_bucket(org), ref_bucket(org)],
            RowScope::Office => vec![org_bucket(org)],
            RowScope::Departure(d) => vec![org_bucket(org), schedule_bucket(d)],
            RowScope::Customer(departures) => {
                std::iter::once(org_bucket(org)).chain(departures.iter().map(|d| schedule_bucket(d))).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn led<'a>(departure_id: &'a str, user: Option<&'a str>, status: AssignmentStatus) -> LedAssignment<'a> {
        LedAssignment { departure_id, guide_user_id: user, status }
    }

    #[test]
    fn office_roles_get_everything_guides_reference_and_their_departures_customers_nothing() {
        let led = vec!["d1".to_string(), "d2".to_string()];
        for role in [Role::Owner, Role::Admin] {
            assert_eq!(buckets_for("o", role, &led), vec!["org:o:all", "org:o:audit"]);
        }
        assert_eq!(buckets_for("o", Role::Manager, &led), vec!["org:o:all"]);
        assert_eq!(buckets_for("o", Role::Guide, &led), vec!["org:o:ref", "schedule:d1", "schedule:d2"]);
        assert_eq!(buckets_for("o", Role::Guide, &[]), vec!["org:o:ref"]);
        assert!(buckets_for("o", Role::Customer, &led).is_empty());
        assert!(role_leads_departures(Role::Guide) && !role_leads_departures(Role::Manager));
    }

    #[test]
    fn only_owners_and_admins_receive_the_audit_log() {
        let led = vec!["d1".to_string()];
        for role in [Role::Owner, Role::Admin, Role::Manager, Role::Guide, Role::Customer] {
            let gets = buckets_for("o", role, &led).contains(&"org:o:audit".to_string());
            assert_eq!(gets, role_receives_audit(role), "{role}");
            assert_eq!(gets, matches!(role, Role::Owner | Role::Admin), "{role}");
        }
        // A demoted admin's desk presents the bucket, and must be told to drop it.
        assert_eq!(parse_bucket("o", "org:o:audit"), Some(Bucket::Organization));
        assert_eq!(parse_bucket("o", "org:p:audit"), None);
    }

    #[test]
    fn a_login_leads_the_departures_of_its_undeclined_assignments_once_each() {
        let rows = [
            led("d2", Some("u1"), AssignmentStatus::Confirmed),
            led("d1", Some("u1"), AssignmentStatus::Pending),
            led("d1", Some("u1"), AssignmentStatus::Confirmed),
            led("d3", Some("u1"), AssignmentStatus::Declined),
            led("d4", Some("u2"), AssignmentStatus::Confirmed),
            led("d5", None, AssignmentStatus::Confirmed),
        ];
        assert_eq!(departures_led_by("u1", rows.clone()), vec!["d1", "d2"]);
        assert_eq!(departures_led_by("u2", rows), vec!["d4"]);
    }

    #[test]
    fn an_assignment_gains_its_departure_when_new_or_no_longer_declined() {
        use AssignmentStatus::*;
        assert!(assignment_gains_departure(None, Pending));
        assert!(assignment_gains_departure(Some(Declined), Confirmed));
        assert!(!assignment_gains_departure(Some(Pending), Confirmed), "already held");
        assert!(!assignment_gains_departure(None, Declined));
        assert!(!assignment_gains_departure(Some(Confirmed), Declined));
    }

    #[test]
    fn only_a_guests_first_new_booking_on_a_departure_brings_them_into_its_bucket() {
        assert!(booking_brings_guest(true, false));
        assert!(!booking_brings_guest(true, true), "already there");
        assert!(!booking_brings_guest(false, false), "an update: the guest came with the booking");
    }

    #[test]
    fn buckets_a_client_presents_are_read_relative_to_its_organization() {
        assert_eq!(parse_bucket("o", "org:o:all"), Some(Bucket::Organization));
        assert_eq!(parse_bucket("o", "org:o:ref"), Some(Bucket::Organization));
        assert_eq!(parse_bucket("o", "schedule:d-1"), Some(Bucket::Schedule("d-1".into())));
        assert_eq!(
            parse_bucket("o", "schedule:v1@2026-03-08T09:00:00"),
            Some(Bucket::Schedule("v1@2026-03-08T09:00:00".into())),
            "a generated departure's bucket is one a guide can lose"
        );
        assert_eq!(parse_bucket("o", "org:p:all"), None);
        assert_eq!(parse_bucket("o", "schedule:"), None);
        assert_eq!(parse_bucket("o", "nonsense"), None);
    }

    #[test]
    fn rows_are_logged_to_the_buckets_of_their_scope() {
        assert_eq!(RowScope::Reference.buckets("o"), vec!["org:o:all", "org:o:ref"]);
        assert_eq!(RowScope::Departure("d").buckets("o"), vec!["org:o:all", "schedule:d"]);
        let deps = vec!["a".to_string(), "b".to_string()];
        assert_eq!(RowScope::Customer(&deps).buckets("o"), vec!["org:o:all", "schedule:a", "schedule:b"]);
        assert_eq!(RowScope::Customer(&[]).buckets("o"), vec!["org:o:all"]);
        assert_eq!(RowScope::of_reference(EntityKind::Guide), Some(RowScope::Reference));
        assert_eq!(RowScope::of_reference(EntityKind::Booking), None);
        assert_eq!(RowScope::of_reference(EntityKind::Departure), None, "a departure is its own schedule:D");
    }

    #[test]
    fn the_pricing_catalogue_reaches_every_desk_but_promo_codes_only_office_desks() {
        for kind in [
            EntityKind::Season,
            EntityKind::TaxRate,
            EntityKind::CancellationPolicy,
            EntityKind::TourFaq,
            EntityKind::TourInclusion,
            EntityKind::GroupDiscount,
            EntityKind::EarlyBirdDiscount,
        ] {
            let scope = RowScope::of_reference(kind).unwrap();
            assert_eq!(scope.buckets("o"), vec!["org:o:all", "org:o:ref"], "{kind:?}");
        }
        let promo = RowScope::of_reference(EntityKind::PromoCode).unwrap().buckets("o");
        assert_eq!(promo, vec!["org:o:all"]);
        // What that means per role: office desks hold the bucket, a guide's device does not.
        for role in [Role::Owner, Role::Admin, Role::Manager] {
            assert!(buckets_for("o", role, &[]).iter().any(|b| promo.contains(b)), "{role:?}");
        }
        assert!(!buckets_for("o", Role::Guide, &["d".into()]).iter().any(|b| promo.contains(b)));
    }

    #[test]
    fn customers_messages_reach_office_desks_only() {
        let scope = RowScope::of_reference(EntityKind::Communication).unwrap();
        assert_eq!(scope.buckets("o"), vec!["org:o:all"]);
        for role in [Role::Owner, Role::Admin, Role::Manager] {
            assert!(buckets_for("o", role, &[]).iter().any(|b| scope.buckets("o").contains(b)), "{role:?}");
        }
        let guide = buckets_for("o", Role::Guide, &["d".into()]);
        assert!(!guide.iter().any(|b| scope.buckets("o").contains(b)), "a guide's device holds no message log");
    }

    #[test]
    fn waitlist_entries_reach_office_desks_only() {
        let scope = RowScope::of_reference(EntityKind::WaitlistEntry).unwrap().buckets("o");
        assert_eq!(scope, vec!["org:o:all"]);
        for role in [Role::Owner, Role::Admin, Role::Manager] {
            assert!(buckets_for("o", role, &[]).iter().any(|b| scope.contains(b)), "{role:?}");
        }
        let guide = buckets_for("o", Role::Guide, &["d".into()]);
        assert!(!guide.iter().any(|b| scope.contains(b)), "not even for a departure the guide leads");
    }
}

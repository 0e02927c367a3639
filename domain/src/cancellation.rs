//! Cancellation policies: how much of what was paid comes back, decided by how long before the
//! departure the booking is cancelled. The instant of cancellation is passed in.
//!
//! Rules: a rule `{hours_before_tour: h, refund_percentage: p}` applies when the cancellation
//! happens at least `h` hours before the departure starts (exactly `h` hours counts). Of the
//! rules that apply, the one with the largest `h` wins. No applicable rule, or a cancellation
//! after the start, refunds nothing. When the operator cancels, the customer gets everything
//! back whatever the policy says. The refund is `p` % of the amount paid, rounded half-up;
//! refunds already made count towards it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::money::{Money, MoneyError, PRICING_ROUNDING, Percent};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationRule {
    #[serde(alias = "hoursBeforeTour")]
    pub hours_before_tour: u32,
    /// Whole percent, 0–100, as the spec stores it.
    #[serde(alias = "refundPercentage")]
    pub refund_percentage: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancellationPolicy {
    pub id: String,
    pub name: String,
    pub rules: Vec<CancellationRule>,
}

/// A stored policy, a candidate for [`policy_for_tour`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPolicy {
    pub policy: CancellationPolicy,
    /// The organization's default, for tours without a policy of their own.
    pub is_default: bool,
}

/// The policy a tour's bookings are cancelled under: the tour's own (`tour_policy_id`), else the
/// organization's default (the spec: "a tour without its own policy falls back to the default").
/// `None` when there is neither; a tour's own policy that is missing does not fall back (its
/// bookings were sold under it, not under the default). Should several be marked default, the
/// smallest id wins, so every store picks the same one.
pub fn policy_for_tour(
    tour_policy_id: Option<&str>,
    candidates: impl IntoIterator<Item = StoredPolicy>,
) -> Option<CancellationPolicy> {
    let mut candidates = candidates.into_iter();
    match tour_policy_id {
        Some(id) => candidates.find(|c| c.policy.id == id).map(|c| c.policy),
        None => candidates.filter(|c| c.is_default).map(|c| c.policy).min_by(|a, b| a.id.cmp(&b.id)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelledBy {
    Customer,
    /// The operator cancelled the departure or the booking: always a full refund.
    Operator,
}

/// Staff's refund on a cancellation in place of the policy's, with why and who decided it
/// (`cancel_booking.v1`'s `refund_override`; audited as `booking.refund_overridden`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundOverride {
    pub amount: Money,
    pub reason: String,
    /// The signed-in staff member who overrode it.
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundDecision {
    /// Whole hours between the cancellation and the departure (negative once it started).
    pub hours_before: i64,
    /// The rule that decided it; `None` for operator cancellations and when no rule applies.
    pub rule: Option<CancellationRule>,
    pub refund_percentage: u8,
    /// What to refund now.
    pub refund: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CancellationError {
    #[error("a refund percentage of {0} is not between 0 and 100")]
    InvalidPercentage(u8),
    #[error("paid and refunded amounts must be non-negative and in the same currency")]
    InvalidAmounts,
}

impl From<MoneyError> for CancellationError {
    fn from(_: MoneyError) -> Self {
        CancellationError::InvalidAmounts
    }
}

impl CancellationPolicy {
    pub fn validate(&self) -> Result<(), CancellationError> {
        match self.rules.iter().find(|r| r.refund_percentage > 100) {
            Some(r) => Err(CancellationError::InvalidPercentage(r.refund_percentage)),
            None => Ok(()),
        }
    }

    /// The rule in force for a cancellation `seconds_before` the departure.
    fn rule_at(&self, seconds_before: i64) -> Option<CancellationRule> {
        if seconds_before < 0 {
            return None;
        }
        self.rules
            .iter()
            .filter(|r| seconds_before >= i64::from(r.hours_before_tour) * 3600)
            .max_by_key(|r| (r.hours_before_tour, r.refund_percentage))
            .copied()
    }

    /// The refund for cancelling at `at` a booking on a departure starting at
    /// `departure_starts_at`, of which `paid` was paid and `already_refunded` given back.
    pub fn evaluate(
        &self,
        departure_starts_at: DateTime<Utc>,
        at: DateTime<Utc>,
        paid: Money,
        already_refunded: Money,
        by: CancelledBy,
    ) -> Result<RefundDecision, CancellationError> {
        self.validate()?;
        if paid.is_negative() || already_refunded.is_negative() {
            return Err(CancellationError::InvalidAmounts);
        }
        let refundable = paid.checked_sub(already_refunded)?.non_negative();
        let seconds_before = (departure_starts_at - at).num_seconds();
        let (rule, pct) = match by {
            CancelledBy::Operator => (None, 100),
            CancelledBy::Customer => {
                let rule = self.rule_at(seconds_before);
                (rule, rule.map_or(0, |r| r.refund_percentage))
            }
        };
        let entitlement = paid.percent(Percent::whole(i64::from(pct)), PRICING_ROUNDING)?;
        let refund = entitlement.checked_sub(already_refunded)?.non_negative().checked_min(refundable)?;
        Ok(RefundDecision { hours_before: seconds_before.div_euclid(3600), rule, refund_percentage: pct, refund })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::money::Currency;
    use chrono::{Duration, TimeZone};

    fn usd(a: i64) -> Money {
        Money::new(a, Currency::USD)
    }

    fn stored(id: &str, is_default: bool) -> StoredPolicy {
        StoredPolicy { policy: CancellationPolicy { id: id.into(), name: id.into(), rules: vec![] }, is_default }
    }

    #[test]
    fn a_tour_uses_its_own_policy_else_the_organizations_default() {
        let all = || vec![stored("own", false), stored("z-default", true), stored("a-default", true)];
        assert_eq!(policy_for_tour(Some("own"), all()).unwrap().id, "own");
        assert_eq!(policy_for_tour(None, all()).unwrap().id, "a-default", "one default, the same everywhere");
        assert_eq!(policy_for_tour(Some("gone"), all()), None, "its own policy, not the default");
        assert_eq!(policy_for_tour(None, vec![stored("own", false)]), None);
    }

    fn policy() -> CancellationPolicy {
        serde_json::from_str(
            r#"{"id":"p","name":"Standard","rules":[
                {"hoursBeforeTour":72,"refundPercentage":50},
                {"hoursBeforeTour":168,"refundPercentage":100},
                {"hours_before_tour":24,"refund_percentage":25}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn refund_by_notice_table() {
        let start = Utc.with_ymd_and_hms(2026, 8, 1, 9, 0, 0).unwrap();
        let h = |hours: i64| start - Duration::hours(hours);
        let s = Duration::seconds(1);
        // (cancelled at, by, paid, already refunded, expected %, expected refund, hours_before)
        let cases = [
            (h(200), CancelledBy::Customer, 10_000, 0, 100, 10_000, 200),
            (h(168), CancelledBy::Customer, 10_000, 0, 100, 10_000, 168), // boundary counts
            (h(168) + s, CancelledBy::Customer, 10_000, 0, 50, 5_000, 167),
            (h(72), CancelledBy::Customer, 10_000, 0, 50, 5_000, 72),
            (h(30), CancelledBy::Customer, 10_000, 0, 25, 2_500, 30),
            (h(23), CancelledBy::Customer, 10_000, 0, 0, 0, 23),
            (h(-1), CancelledBy::Customer, 10_000, 0, 0, 0, -1), // after the start
            (h(-1), CancelledBy::Operator, 10_000, 0, 100, 10_000, -1),
            (h(30), CancelledBy::Operator, 10_000, 4_000, 100, 6_000, 30),
            // Half of $100.01 is $50.005 → $50.01 (half-up).
            (h(72), CancelledBy::Customer, 10_001, 0, 50, 5_001, 72),
            // An earlier refund counts towards the entitlement …
            (h(100), CancelledBy::Customer, 10_000, 2_000, 50, 3_000, 100),
            // … and can already exceed it.
            (h(30), CancelledBy::Customer, 10_000, 4_000, 25, 0, 30),
            // A deposit-only booking gets its share of the deposit.
            (h(100), CancelledBy::Customer, 3_000, 0, 50, 1_500, 100),
        ];
        for (at, by, paid, refunded, pct, refund, hours) in cases {
            let r = policy().evaluate(start, at, usd(paid), usd(refunded), by).unwrap();
            assert_eq!(
                (r.refund_percentage, r.refund, r.hours_before),
                (pct, usd(refund), hours),
                "{at} {by:?} paid {paid} refunded {refunded}"
            );
        }
    }

    #[test]
    fn invalid_policies_and_amounts() {
        let start = Utc.with_ymd_and_hms(2026, 8, 1, 9, 0, 0).unwrap();
        let bad = CancellationPolicy {
            rules: vec![CancellationRule { hours_before_tour: 1, refund_percentage: 120 }],
            ..policy()
        };
        assert_eq!(
            bad.evaluate(start, start, usd(1), usd(0), CancelledBy::Customer),
            Err(CancellationError::InvalidPercentage(120))
        );
        assert_eq!(
            policy().evaluate(start, start, usd(1), Money::new(0, Currency::EUR), CancelledBy::Customer),
            Err(CancellationError::InvalidAmounts)
        );
        assert_eq!(
            policy().evaluate(start, start, usd(-1), usd(0), CancelledBy::Customer),
            Err(CancellationError::InvalidAmounts)
        );
        let empty = CancellationPolicy { rules: vec![], ..policy() };
        let r = empty.evaluate(start, start - Duration::days(30), usd(500), usd(0), CancelledBy::Customer).unwrap();
        assert_eq!((r.rule, r.refund), (None, usd(0)));
    }
}

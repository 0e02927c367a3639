//! How a card refund goes back when the booking was paid through more than one PaymentIntent.
//!
//! A booking can take card money several times: the website checkout's intent, then the manage
//! page's "pay the balance" intent after a change raised the price. A payment processor refunds
//! *a* payment, never a booking, and never more than that payment took minus what was already
//! refunded from it. So a refund the booking's rules decided (a cancellation, a cheaper
//! modification or move, a departure called off) is split here into [`RefundPart`]s, one per
//! payment, each within its payment's remainder ([`CardPayment::refundable`]).
//!
//! **Order: newest payment first.** The latest payment is the one that paid for the latest
//! change, so a change undone (a seat taken off again, a move back to a cheaper date) goes back
//! the way it came in, which is what the customer and an operator reading the card statement
//! expect. It also keeps a refund away from older charges, which are the ones closest to the
//! card networks' refund windows. A full refund (a cancellation) empties every payment, so the
//! order only decides which one is asked first. Ties (the same moment) go by payment id, so the
//! same inputs always give the same plan, and a retried job asks for the same parts.
//!
//! Money that was not taken by card is never asked for: what no payment can hold is returned as
//! [`RefundPlan::not_placed`] for a person, never spread over payments beyond their remainder.
//! A payment under a chargeback holds nothing refundable (the processor refuses to refund a
//! disputed charge; its money goes back through the dispute).
//!
//! The refund as a whole is settled from its parts ([`refund_status`]): queued while a part is
//! still to be asked, announced to the customer only once every part was accepted.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::money::Money;

/// One card payment (a PaymentIntent) of a booking, as far as a refund needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardPayment {
    /// Our payment row's id (one row per PaymentIntent).
    pub payment_id: String,
    /// What the processor took for it (captured), in its currency.
    pub taken: Money,
    /// What was already refunded from it, or asked of it and not refused (see [`refunded_from`]).
    pub refunded: i64,
    /// A chargeback was opened on it.
    pub disputed: bool,
    /// When it was paid: the order of the plan (newest first).
    pub paid_at: DateTime<Utc>,
}

impl CardPayment {
    /// What a refund may still ask of this payment: what it took minus what was refunded from
    /// it, never below zero, and nothing while it is disputed.
    pub fn refundable(&self) -> i64 {
        if self.disputed { 0 } else { self.taken.amount.max(0).saturating_sub(self.refunded.max(0)).max(0) }
    }
}

/// What a payment has given back so far, as far as we know before asking it for more: the
/// larger of the processor's cumulative figure (`reported`, which includes refunds made in its
/// dashboard) and the parts we asked of it that it accepted (`accepted`, which its webhook may
/// not have reported yet). The larger, not the sum, since each figure may already contain the
/// other; should a dashboard refund and an unreported part both be missing from one of them, the
/// processor refuses a part asked beyond its remainder, and the next plan, made after its
/// webhook, asks right.
pub fn refunded_from(reported: i64, accepted: i64) -> i64 {
    reported.max(0).max(accepted.max(0))
}

/// A part of a refund: `amount` back through payment `payment_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundPart {
    pub payment_id: String,
    pub amount: Money,
}

/// A refund split over a booking's card payments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundPlan {
    /// Newest payment first; at most one part per payment, none of zero.
    pub parts: Vec<RefundPart>,
    /// What no card payment can give back (zero when the refund fits): for a person, not for the
    /// processor.
    pub not_placed: Money,
}

/// Splits `refund` over `payments` (any order), newest payment first, each part within its
/// payment's remainder. Payments in another currency than the refund's hold nothing for it. A
/// refund of zero or less plans nothing.
pub fn plan(refund: Money, payments: &[CardPayment]) -> RefundPlan {
    let mut order: Vec<&CardPayment> = payments.iter().filter(|p| p.taken.currency == refund.currency).collect();
    order.sort_by(|a, b| b.paid_at.cmp(&a.paid_at).then_with(|| a.payment_id.cmp(&b.payment_id)));
    let mut left = refund.amount.max(0);
    let mut parts: Vec<RefundPart> = Vec::new();
    for p in order {
        if left == 0 {
            break;
        }
        // A payment listed twice (the same row read twice) holds its remainder once.
        if parts.iter().any(|x| x.payment_id == p.payment_id) {
            continue;
        }
        let take = left.min(p.refundable());
        if take > 0 {
            parts.push(RefundPart { payment_id: p.payment_id.clone(), amount: Money::new(take, refund.currency) });
            left -= take;
        }
    }
    RefundPlan { parts, not_placed: Money::new(left, refund.currency) }
}

/// A part's status at the processor, as stored: `queued` (not asked yet, or to be asked again
/// after a transient failure), `refused` (the processor said no: nothing was refunded, a new
/// part is planned for its amount), and the processor's own `pending`, `requires_action`,
/// `succeeded`, `failed`, `canceled`.
pub fn part_accepted(status: &str) -> bool {
    matches!(status, "pending" | "requires_action" | "succeeded")
}

/// A part as the refund's status needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartState<'a> {
    pub status: &'a str,
    pub amount: i64,
}

/// The status of a refund of `amount` from its parts so far. `queued` while anything is left to
/// ask (a part not asked yet, or the amount of a refused part, to be planned again); `failed`
/// when a part the processor accepted later failed or was cancelled (the money did not go back:
/// for a person), or when `given_up` (asked too often); else, every part accepted, the least
/// settled of them: `requires_action`, then `pending`, then `succeeded`.
pub fn refund_status(amount: i64, parts: &[PartState<'_>], given_up: bool) -> &'static str {
    if parts.iter().any(|p| matches!(p.status, "failed" | "canceled")) {
        return "failed";
    }
    let accepted: i64 = parts.iter().filter(|p| part_accepted(p.status)).map(|p| p.amount).sum();
    if accepted < amount || parts.iter().any(|p| p.status == "queued") {
        return if given_up { "failed" } else { "queued" };
    }
    if parts.iter().any(|p| p.status == "requires_action") {
        "requires_action"
    } else if parts.iter().any(|p| p.status == "pending") {
        "pending"
    } else {
        "succeeded"
    }
}

/// What is still to be planned of a refund of `amount`: the amount less its parts that were
/// accepted or are still to be asked (a refused part's amount is planned again).
pub fn still_to_plan(amount: i64, parts: &[PartState<'_>]) -> i64 {
    let held: i64 = parts.iter().filter(|p| p.status == "queued" || part_accepted(p.status)).map(|p| p.amount).sum();
    amount.saturating_sub(held).max(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;
    use crate::money::Currency;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn pay(id: &str, taken: i64, refunded: i64, day: u32) -> CardPayment {
        CardPayment {
            payment_id: id.into(),
            taken: Money::new(taken, usd()),
            refunded,
            disputed: false,
            paid_at: Utc.with_ymd_and_hms(2026, 11, day, 10, 0, 0).unwrap(),
        }
    }

    fn amounts(p: &RefundPlan) -> Vec<(&str, i64)> {
        p.parts.iter().map(|x| (x.payment_id.as_str(), x.amount.amount)).collect()
    }

    #[test]
    fn a_refund_goes_back_through_the_newest_payment_first_then_the_older() {
        let payments = [pay("checkout", 10_000, 0, 1), pay("balance", 5_000, 0, 3)];
        // A modification down by less than the balance: all of it through the balance's intent.
        assert_eq!(amounts(&plan(Money::new(3_000, usd()), &payments)), [("balance", 3_000)]);
        // A cancellation: both, the newest first, each in full.
        let all = plan(Money::new(15_000, usd()), &payments);
        assert_eq!(amounts(&all), [("balance", 5_000), ("checkout", 10_000)]);
        assert!(all.not_placed.is_zero());
    }

    #[test]
    fn what_was_refunded_already_is_not_asked_again_and_the_rest_is_not_placed() {
        let payments = [pay("checkout", 10_000, 2_500, 1), pay("balance", 5_000, 5_000, 3)];
        let p = plan(Money::new(9_000, usd()), &payments);
        assert_eq!(amounts(&p), [("checkout", 7_500)]);
        assert_eq!(p.not_placed.amount, 1_500, "more than the cards hold is for a person");
    }

    #[test]
    fn disputed_and_foreign_payments_hold_nothing_and_ties_go_by_id() {
        let mut disputed = pay("b", 4_000, 0, 2);
        disputed.disputed = true;
        let mut euros = pay("e", 9_000, 0, 5);
        euros.taken = Money::new(9_000, Currency::parse("EUR").unwrap());
        let p = plan(Money::new(6_000, usd()), &[pay("z", 3_000, 0, 2), disputed, euros, pay("a", 2_000, 0, 2)]);
        assert_eq!(amounts(&p), [("a", 2_000), ("z", 3_000)]);
        assert_eq!(p.not_placed.amount, 1_000);
        assert!(plan(Money::new(0, usd()), &[pay("a", 1, 0, 1)]).parts.is_empty());
        assert!(plan(Money::new(-5, usd()), &[pay("a", 1, 0, 1)]).not_placed.is_zero());
    }

    #[test]
    fn the_already_refunded_figure_is_the_larger_of_reported_and_accepted() {
        assert_eq!(refunded_from(0, 3_000), 3_000, "accepted, not reported yet");
        assert_eq!(refunded_from(5_000, 3_000), 5_000, "reported, with a dashboard refund");
        assert_eq!(refunded_from(-1, -1), 0);
    }

    #[test]
    fn a_refund_is_settled_by_its_parts() {
        let part = |status, amount| PartState { status, amount };
        assert_eq!(refund_status(100, &[], false), "queued");
        assert_eq!(refund_status(100, &[part("succeeded", 60), part("queued", 40)], false), "queued");
        assert_eq!(refund_status(100, &[part("succeeded", 60), part("refused", 40)], false), "queued");
        assert_eq!(refund_status(100, &[part("succeeded", 60), part("refused", 40)], true), "failed");
        assert_eq!(
            refund_status(100, &[part("succeeded", 60), part("refused", 40), part("pending", 40)], false),
            "pending"
        );
        assert_eq!(refund_status(100, &[part("succeeded", 60), part("succeeded", 40)], false), "succeeded");
        assert_eq!(refund_status(100, &[part("succeeded", 60), part("requires_action", 40)], false), "requires_action");
        assert_eq!(refund_status(100, &[part("succeeded", 60), part("failed", 40)], false), "failed");
        assert_eq!(still_to_plan(100, &[part("succeeded", 60), part("refused", 40)]), 40);
        assert_eq!(still_to_plan(100, &[part("succeeded", 60), part("queued", 40)]), 0);
    }

    fn payments() -> impl Strategy<Value = Vec<CardPayment>> {
        prop::collection::vec((0i64..50_000, 0i64..60_000, 0u8..5, 1u32..28), 0..6).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (taken, refunded, dispute, day))| CardPayment {
                    disputed: dispute == 0,
                    ..pay(&format!("p{i}"), taken, refunded, day)
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// The parts and what is not placed add up to the refund; no part exceeds its payment's
        /// remainder; nothing is placed while a payment has room left; money not taken by card
        /// is never asked for.
        #[test]
        fn parts_add_up_and_stay_within_each_payment(refund in -100i64..200_000, payments in payments()) {
            let p = plan(Money::new(refund, usd()), &payments);
            let asked: i64 = p.parts.iter().map(|x| x.amount.amount).sum();
            prop_assert_eq!(asked + p.not_placed.amount, refund.max(0));
            let room: i64 = payments.iter().map(CardPayment::refundable).sum();
            prop_assert!(asked <= room, "never more than the cards can give back");
            prop_assert_eq!(asked, refund.max(0).min(room), "everything the cards can hold is placed");
            for part in &p.parts {
                let of = payments.iter().find(|x| x.payment_id == part.payment_id).unwrap();
                prop_assert!(part.amount.amount > 0);
                prop_assert!(part.amount.amount <= of.refundable(), "{} over its remainder", part.payment_id);
                prop_assert_eq!(part.amount.currency, usd());
                prop_assert_eq!(p.parts.iter().filter(|x| x.payment_id == part.payment_id).count(), 1);
            }
        }

        /// Newest first: a payment is asked only once every newer one gives all it can, and the
        /// plan does not depend on the order the payments were read in.
        #[test]
        fn newer_payments_are_emptied_before_older_ones(refund in 0i64..200_000, payments in payments()) {
            let p = plan(Money::new(refund, usd()), &payments);
            for (i, part) in p.parts.iter().enumerate() {
                let of = payments.iter().find(|x| x.payment_id == part.payment_id).unwrap();
                if i + 1 < p.parts.len() {
                    prop_assert_eq!(part.amount.amount, of.refundable(), "only the last part is partial");
                }
                for newer in payments.iter().filter(|x| x.paid_at > of.paid_at && x.refundable() > 0) {
                    prop_assert!(p.parts.iter().any(|x| x.payment_id == newer.payment_id && x.amount.amount == newer.refundable()),
                        "{} asked before newer {} was emptied", of.payment_id, newer.payment_id);
                }
            }
            let mut reversed = payments.clone();
            reversed.reverse();
            prop_assert_eq!(plan(Money::new(refund, usd()), &reversed), p);
        }

        /// Planning again after a refusal, with what was accepted counted as refunded, never asks
        /// a payment for more than it took in all (the sum of every round's accepted parts).
        #[test]
        fn a_second_round_never_asks_a_payment_beyond_what_it_took(
            refund in 0i64..200_000, payments in payments(), refused in prop::collection::vec(any::<bool>(), 6),
        ) {
            let first = plan(Money::new(refund, usd()), &payments);
            let accepted: Vec<&RefundPart> =
                first.parts.iter().enumerate().filter(|(i, _)| !refused[*i]).map(|(_, x)| x).collect();
            let again: Vec<CardPayment> = payments.iter().map(|x| {
                let took: i64 = accepted.iter().filter(|a| a.payment_id == x.payment_id).map(|a| a.amount.amount).sum();
                CardPayment { refunded: refunded_from(x.refunded, x.refunded.max(0) + took), ..x.clone() }
            }).collect();
            let left = refund - accepted.iter().map(|a| a.amount.amount).sum::<i64>();
            let second = plan(Money::new(left, usd()), &again);
            for x in &payments {
                let asked: i64 = accepted.iter().copied().chain(second.parts.iter())
                    .filter(|a| a.payment_id == x.payment_id).map(|a| a.amount.amount).sum();
                prop_assert!(asked <= x.refundable(), "{} asked {asked} of {}", x.payment_id, x.refundable());
            }
        }
    }
}

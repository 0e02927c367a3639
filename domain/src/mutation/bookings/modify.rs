//! `modify_booking.v1`: new tiers and counts on a booking, a promo code or a manual discount,
//! re-priced now on its departure (its season, the tiers' minimums and maximums).
//!
//! The seats added are taken under the departure's row lock as a sale takes them (so two desks
//! adding seats offline race for the last seats like two sales; the second is refused), the
//! seats removed are given back. The money follows as a move's does ([`super::repriced`]): a
//! higher price leaves a balance due (payable by a payment link, deposit or not), a lower one
//! below what was kept makes a refund due: the card money goes back through Stripe after
//! commit, the rest (cash, terminal, transfer) stays a refund due on the booking, marked to be
//! given back by hand. A confirmed booking becomes "modified"; every modification is audited
//! ([`BOOKING_MODIFIED`]) with its old and new price and what it owes.
//!
//! A code the booking already has may be kept (`promo_code`) without counting as a new use; a
//! new code is a new use, held to its limits for the booking's customer (`customer_id` names
//! whose uses are counted). A manual discount needs its reason (`manual_discount.description`).
//! Refused, with the field at fault: a cancelled or completed booking (`booking_id`), counts
//! below the participants already checked in or marked no-show (`lines`), a code that does not
//! apply (`PROMO_REFUSED`), seats beyond capacity (`CAPACITY_EXCEEDED`).

use super::*;

/// The audit action of a modification.
pub const BOOKING_MODIFIED: &str = "booking.modified";

priced_booking_args! {
    /// Arguments of `modify_booking.v1`: the booking's new lines, re-priced now.
    pub struct ModifyBookingV1 {
        pub booking_id: String,
    } on_departure {
        /// The booking's customer: needed only to add a new promo code (its per-customer limit).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub customer_id: Option<String>,
    } priced {
        /// Why (audited, and the refund's reason when one is due).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reason: Option<String>,
    } checked {
    }
}

impl Mutator for ModifyBookingV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let tour_id = norm_ref(&self.tour_id);
        let booking_id = norm_ref(&self.booking_id);
        let mut keys = vec![
            ReadKey::Booking(booking_id.clone()),
            ReadKey::Departure(norm_ref(&self.departure_id)),
            ReadKey::PricingCatalog(tour_id),
        ];
        if let Ok(Some(code)) = promo_code_of(self.promo_code.as_deref()) {
            keys.push(ReadKey::PromoCode(code.clone()));
            if let Some(customer_id) = &self.customer_id {
                keys.push(ReadKey::PromoUses { code, customer_id: norm_ref(customer_id) });
            }
        }
        keys.push(ReadKey::LedgerOfBooking(booking_id));
        keys
    }

    /// The booking, the departure (seats) and the code (its use counter) are locked; the prices
    /// are only consulted, and the ledger is read under the booking's lock.
    fn locks(&self, key: &ReadKey) -> bool {
        !matches!(key, ReadKey::PricingCatalog(_) | ReadKey::LedgerOfBooking(_))
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::BookingsWrite, "change bookings")?;
        let booking_id = validate::row_ref("booking_id", &self.booking_id)?;
        let tour_id = validate::row_ref("tour_id", &self.tour_id)?;
        let departure_id = validate::row_ref("departure_id", &self.departure_id)?;
        let people = participants(&self.lines)?;
        let manager_override = overbook_override(ctx, self.overbook.as_ref())?;
        let reason = validate::opt_text("reason", self.reason.as_deref(), 500)?;
        let manual = self
            .manual_discount
            .as_ref()
            .map(|m| {
                validate::text("manual_discount.description", &m.description, 200)
                    .map(|description| ManualDiscount { description, discount: m.discount })
            })
            .transpose()?;

        let old = view.booking(&booking_id)?.ok_or_else(|| Rejection::not_found("booking", &booking_id))?;
        if old.departure_id != departure_id || old.tour_id != tour_id {
            return Err(FieldError::new("departure_id", "is not the booking's departure").into());
        }
        let status = super::modified_status(old.status)?;
        let attended = old.checked_in.saturating_add(old.no_shows);
        let after: u32 = self.lines.iter().map(|l| l.quantity).sum();
        if after < attended {
            return Err(Rejection::conflict(
                "lines",
                format!("{attended} participants are already checked in or marked no-show"),
            )
            .into());
        }
        let mut dep = departure_of(view, &departure_id, &tour_id)?;
        let promo = match promo_code_of(self.promo_code.as_deref())? {
            None => None,
            Some(code) => {
                let mut found =
                    view.promo_code(&code)?.ok_or(Rejection::PromoRefused { refusal: PromoRefusal::NotFound })?;
                if old.pricing.promotional_code_id.as_deref() == Some(found.id.as_str()) {
                    // This booking's own use is already counted; keeping the code is not a new use.
                    found.current_uses = found.current_uses.saturating_sub(1);
                    Some(Promo { code: found, customer_uses: 0 })
                } else {
                    let customer_id = match self.customer_id.as_deref().map(str::trim) {
                        Some(c) if c == old.customer_id => c.to_string(),
                        Some(_) => return Err(FieldError::new("customer_id", "is not the booking's customer").into()),
                        None => {
                            return Err(
                                FieldError::new("customer_id", "is needed to add a promo code to a booking").into()
                            );
                        }
                    };
                    let customer_uses = view.promo_uses(&code, &customer_id)?;
                    Some(Promo { code: found, customer_uses })
                }
            }
        };
        let snapshot = price(view, ctx, &tour_id, &dep, self.price_request(promo.as_ref(), manual.as_ref()))?;

        let (before, after) = (old.seats_held(), snapshot.participants());
        let mut outcome = None;
        if after > before {
            let o = capacity::check_booking(&dep, after - before, manager_override.as_ref())?;
            take_seats(&mut dep, &o);
            outcome = Some(o);
        } else {
            release_seats(&mut dep, before - after);
        }

        let mut b = old.clone();
        b.pricing = snapshot;
        b.participants = people;
        if b == old {
            return Ok(vec![]);
        }
        b.status = status;
        b.updated_at = ctx.now;
        if let Some(CapacityOutcome::Overbooked { by, .. }) = &outcome {
            b.overbook = Some(by.clone());
        }
        let entries = view.ledger_of_booking(&booking_id)?;
        let refund_reason = reason.clone().unwrap_or_else(|| "booking changed: the new price is lower".into());
        let r = super::repriced(&mut b, &old, &entries, refund_reason, ctx);
        let new_code =
            b.pricing.promotional_code_id.clone().filter(|c| old.pricing.promotional_code_id.as_ref() != Some(c));

        let audit = AuditEntry::of_booking(
            ctx,
            BOOKING_MODIFIED,
            &b,
            json!({
                "reference": b.reference_number.to_string(),
                "seats_before": before,
                "seats_after": after,
                "lines": b.pricing.line_items.iter().map(|l| json!({"tier_id": l.pricing_tier_id, "quantity": l.quantity})).collect::<Vec<_>>(),
                "promo_code_id": b.pricing.promotional_code_id,
                "manual_discount": manual.as_ref().map(|m| &m.description),
                "currency": r.money.new_total.currency,
                "old_total": r.money.old_total.amount,
                "new_total": r.money.new_total.amount,
                "difference": r.money.difference.amount,
                "balance_due": r.money.balance_due.amount,
                "refund_due": r.money.refund_due.amount,
                "refund_to_card": r.refund.as_ref().map_or(0, |x| x.amount.amount),
                "refund_by_hand": r.by_hand.amount,
                "reason": reason,
            }),
        );
        let mut changes = vec![Change::PutBooking(b)];
        let overbooked = outcome.as_ref().and_then(|o| overbook_audit(ctx, &dep, &booking_id, o));
        if before != after {
            changes.push(Change::PutDeparture(dep));
        }
        changes.extend(new_code.map(|promo_code_id| Change::IncrementPromoUses { promo_code_id }));
        changes.push(Change::Audit(audit));
        changes.extend(overbooked);
        changes.extend(r.refund.map(Change::RequestRefund));
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::super::super::testkit::*;
    use super::*;
    use crate::ledger::{Balance, CARD_REFUND_ENTRY_PREFIX, EntryKind, LedgerEntry};
    use crate::pricing::Adjustment;

    const B: &str = "b-mod";

    /// A booking of `pax` adults ($50 each) on [`DEPARTURE`], `paid` received, the departure
    /// holding `others` seats of other bookings besides.
    fn world_with(pax: u32, status: BookingStatus, paid: i64, others: u32) -> Mem {
        let mem = world();
        let payment = PaymentStatus::from_amounts(5000 * i64::from(pax), paid, 0);
        mem.put_booking(booking(B, pax, status, payment, paid));
        mem.put_departure(Departure { booked_count: pax + others, ..departure() });
        mem
    }

    fn args(adults: u32, children: u32) -> Value {
        let mut lines = vec![json!({"tier_id": ADULT, "quantity": adults})];
        if children > 0 {
            lines.push(json!({"tier_id": CHILD, "quantity": children}));
        }
        json!({"booking_id": B, "tour_id": TOUR, "departure_id": DEPARTURE, "lines": lines})
    }

    fn entry(kind: EntryKind, id: &str, amount: i64) -> LedgerEntry {
        ledger_entry(id, B, kind, amount)
    }

    fn refunds(changes: &[Change]) -> Vec<Money> {
        changes.iter().filter_map(|c| if let Change::RequestRefund(r) = c { Some(r.amount) } else { None }).collect()
    }

    fn audit(changes: &[Change]) -> AuditEntry {
        changes
            .iter()
            .find_map(|c| match c {
                Change::Audit(a) if a.action == BOOKING_MODIFIED => Some(a.clone()),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn more_seats_on_a_paid_booking_leave_a_balance_due_and_are_audited() {
        let mem = world_with(2, BookingStatus::Confirmed, 10_000, 0);
        let changes = run_write(&mem, "modify_booking.v1", args(3, 1), Role::Manager);
        let b = mem.get_booking(B);
        assert_eq!(
            (b.status, b.payment_status, b.pricing.total),
            (BookingStatus::Modified, PaymentStatus::Partial, usd(17_500))
        );
        assert_eq!(Balance::of_booking(&b).balance_due(), usd(7_500));
        assert_eq!(mem.state.borrow().departures[DEPARTURE].booked_count, 4);
        assert!(refunds(&changes).is_empty());
        let a = audit(&changes);
        assert_eq!((a.detail["old_total"].clone(), a.detail["new_total"].clone()), (json!(10_000), json!(17_500)));
        assert_eq!((a.detail["balance_due"].clone(), a.detail["refund_due"].clone()), (json!(7_500), json!(0)));
        // A modified booking can be modified again (it stays "modified").
        run_write(&mem, "modify_booking.v1", args(4, 0), Role::Manager);
        assert_eq!(mem.get_booking(B).status, BookingStatus::Modified);
        // A deposit-paid pending booking raised: the balance grows, it stays pending.
        let mem = world_with(2, BookingStatus::Pending, 3_000, 0);
        run_write(&mem, "modify_booking.v1", args(3, 0), Role::Manager);
        let b = mem.get_booking(B);
        assert_eq!((b.status, Balance::of_booking(&b).balance_due()), (BookingStatus::Pending, usd(12_000)));
    }

    #[test]
    fn fewer_seats_refund_card_money_through_stripe_and_cash_by_hand() {
        // Paid by card: the 50.00 above the new price goes back through Stripe.
        let mem = world_with(3, BookingStatus::Confirmed, 15_000, 0);
        let changes = run_write(&mem, "modify_booking.v1", args(2, 0), Role::Manager);
        assert_eq!(refunds(&changes), [usd(5_000)]);
        assert_eq!(mem.state.borrow().departures[DEPARTURE].booked_count, 2);
        // Sent to Stripe, it counts as refunded: nothing more is due either way.
        let b = mem.get_booking(B);
        assert_eq!((b.refunded_amount, b.payment_status), (usd(5_000), PaymentStatus::PartiallyRefunded));
        assert_eq!(Balance::of_booking(&b).due(), 0);
        assert_eq!(audit(&changes).detail["refund_to_card"], json!(5_000));
        // Another change before Stripe answers does not ask for it again.
        let again = run_write(&mem, "modify_booking.v1", args(1, 1), Role::Manager);
        assert_eq!(refunds(&again), [usd(2_500)]);
        assert_eq!(mem.get_booking(B).refunded_amount, usd(7_500));

        // Paid in cash at the desk: nothing for Stripe, the refund is due by hand.
        let mem = world_with(3, BookingStatus::Confirmed, 15_000, 0);
        mem.state.borrow_mut().ledger.insert("c".into(), entry(EntryKind::Cash, "c", 15_000));
        let changes = run_write(
            &mem,
            "modify_booking.v1",
            patch(args(1, 0), &[("reason", "two stayed home".into())]),
            Role::Manager,
        );
        assert!(refunds(&changes).is_empty());
        let a = audit(&changes);
        assert_eq!(
            (a.detail["refund_by_hand"].clone(), a.detail["reason"].clone()),
            (json!(10_000), json!("two stayed home"))
        );
        assert_eq!(Balance::of_booking(&mem.get_booking(B)).refund_due(), usd(10_000));

        // Half cash, half card: the card money goes back first, the rest by hand.
        let mem = world_with(4, BookingStatus::Confirmed, 20_000, 0);
        mem.state.borrow_mut().ledger.insert("c".into(), entry(EntryKind::Cash, "c", 10_000));
        let changes = run_write(&mem, "modify_booking.v1", args(1, 0), Role::Manager);
        assert_eq!(refunds(&changes), [usd(10_000)]);
        assert_eq!(audit(&changes).detail["refund_by_hand"], json!(5_000));
    }

    #[test]
    fn a_new_promo_code_is_a_new_use_held_to_its_limits() {
        let mem = world_with(2, BookingStatus::Pending, 0, 0);
        let with_code =
            |code: &str| patch(args(2, 0), &[("promo_code", code.into()), ("customer_id", CUSTOMER.into())]);
        // The booking's customer must be named to add a code.
        let no_customer = patch(args(2, 0), &[("promo_code", "SUMMER10".into())]);
        assert_eq!(run_err(&mem, "modify_booking.v1", no_customer, Role::Manager), "INVALID");
        let someone_else = patch(with_code("SUMMER10"), &[("customer_id", "c-other".into())]);
        assert_eq!(run_err(&mem, "modify_booking.v1", someone_else, Role::Manager), "INVALID");
        assert_eq!(run_err(&mem, "modify_booking.v1", with_code("NOPE"), Role::Manager), "PROMO_REFUSED");
        // The customer already used it once (its limit): refused.
        mem.state.borrow_mut().promo_uses.insert(("SUMMER10".into(), CUSTOMER.into()), 1);
        assert_eq!(run_err(&mem, "modify_booking.v1", with_code("SUMMER10"), Role::Manager), "PROMO_REFUSED");
        mem.state.borrow_mut().promo_uses.clear();
        let changes = run_write(&mem, "modify_booking.v1", with_code("summer10"), Role::Manager);
        assert!(
            changes
                .iter()
                .any(|c| matches!(c, Change::IncrementPromoUses { promo_code_id } if promo_code_id == "promo-1"))
        );
        assert_eq!(mem.get_booking(B).pricing.total, usd(9_000));
        assert_eq!(mem.state.borrow().promos["SUMMER10"].current_uses, 1);
        // Kept on the next change: not a new use.
        let again = run_write(
            &mem,
            "modify_booking.v1",
            patch(args(3, 0), &[("promo_code", "SUMMER10".into())]),
            Role::Manager,
        );
        assert!(!again.iter().any(|c| matches!(c, Change::IncrementPromoUses { .. })));
        assert_eq!(mem.get_booking(B).pricing.total, usd(13_500));
    }

    #[test]
    fn a_manual_discount_needs_its_reason() {
        let mem = world_with(2, BookingStatus::Confirmed, 10_000, 0);
        let discount = |why: &str| {
            patch(
                args(2, 0),
                &[("manual_discount", json!({"description": why, "discount": Adjustment::Fixed(usd(1_500))}))],
            )
        };
        match run(&mem, "modify_booking.v1", discount("  "), Role::Manager) {
            Err(ApplyError::Rejected(Rejection::Invalid(f))) => assert_eq!(f.field, "manual_discount.description"),
            other => panic!("{other:?}"),
        }
        let changes = run_write(&mem, "modify_booking.v1", discount("Rain on the day"), Role::Manager);
        assert_eq!(mem.get_booking(B).pricing.total, usd(8_500));
        assert_eq!(refunds(&changes), [usd(1_500)]);
        assert_eq!(audit(&changes).detail["manual_discount"], json!("Rain on the day"));
    }

    #[test]
    fn refusals_name_their_reason_and_write_nothing() {
        let mem = world_with(2, BookingStatus::Confirmed, 10_000, 7);
        // One seat left on the departure: two more are refused.
        assert_eq!(run_err(&mem, "modify_booking.v1", args(4, 0), Role::Manager), "CAPACITY_EXCEEDED");
        assert_eq!(run_err(&mem, "modify_booking.v1", args(0, 0), Role::Manager), "INVALID");
        let mut checked = mem.get_booking(B);
        checked.checked_in = 2;
        mem.put_booking(checked);
        match run(&mem, "modify_booking.v1", args(1, 0), Role::Manager) {
            Err(ApplyError::Rejected(Rejection::Conflict { field, .. })) => assert_eq!(field, "lines"),
            other => panic!("{other:?}"),
        }
        mem.put_booking(booking(B, 2, BookingStatus::Cancelled, PaymentStatus::Refunded, 10_000));
        assert_eq!(run_err(&mem, "modify_booking.v1", args(1, 0), Role::Manager), "FORBIDDEN_TRANSITION");
        let s = mem.state.borrow();
        assert!(s.audit.is_empty() && s.refunds.is_empty());
        assert_eq!(s.departures[DEPARTURE].booked_count, 9);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Modify(u32, u32),
        PayCard(i64),
        PayCash(i64),
        /// Stripe gives back what was sent to it; staff give back what is due by hand.
        Settle,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (1u32..6, 0u32..3).prop_map(|(a, c)| Op::Modify(a, c)),
            2 => (1i64..30_000).prop_map(Op::PayCard),
            2 => (1i64..30_000).prop_map(Op::PayCash),
            1 => Just(Op::Settle),
        ]
    }

    /// `x` more received on `b` (or a refund given back by hand), as a payment records it.
    fn paid(mem: &Mem, mut b: Booking, x: i64) {
        b.paid_amount.amount += x;
        b.payment_status =
            PaymentStatus::from_amounts(b.pricing.total.amount, b.paid_amount.amount, b.refunded_amount.amount);
        mem.put_booking(b);
    }

    proptest! {
        /// Any sequence of modifications, card and cash payments and refunds keeps
        /// `balance = total − paid + refunded`; a refund is sent to Stripe only for card money,
        /// never more than it holds, even when the booking changes again before Stripe answers;
        /// what is still owed back is cash, and once it is given back nothing is; the seats the
        /// departure counts are the booking's and the others'.
        #[test]
        fn the_money_and_the_seats_always_add_up(ops in prop::collection::vec(op(), 1..25)) {
            let mem = world_with(2, BookingStatus::Pending, 0, 3);
            let (mut card_paid, mut cash_paid, mut card_refunded, mut cash_refunded) = (0i64, 0i64, 0i64, 0i64);
            for (i, op) in ops.into_iter().enumerate() {
                let mut b = mem.get_booking(B);
                let due = Balance::of_booking(&b).due();
                match op {
                    Op::Modify(a, c) => {
                        if let Ok(changes) = run(&mem, "modify_booking.v1", args(a, c), Role::Manager) {
                            for r in refunds(&changes) {
                                prop_assert!(r.amount <= card_paid - card_refunded, "only card money goes to Stripe");
                                card_refunded += r.amount;
                            }
                            for ch in changes { mem.write(ch); }
                            let b = mem.get_booking(B);
                            let (t, p, r) = (b.pricing.total.amount, b.paid_amount.amount, b.refunded_amount.amount);
                            prop_assert_eq!(b.payment_status, PaymentStatus::from_amounts(t, p, r));
                        }
                    }
                    Op::PayCard(x) | Op::PayCash(x) if x > due => {}
                    Op::PayCard(x) => { card_paid += x; paid(&mem, b, x); }
                    Op::PayCash(x) => {
                        cash_paid += x;
                        paid(&mem, b, x);
                        let id = format!("cash-{i}");
                        mem.state.borrow_mut().ledger.insert(id.clone(), entry(EntryKind::Cash, &id, x));
                    }
                    Op::Settle => {
                        // Stripe's figure arrives (the same as decided); staff give the cash back.
                        let by_hand = Balance::of_booking(&b).refund_due().amount;
                        cash_refunded += by_hand;
                        b.refunded_amount.amount += by_hand;
                        paid(&mem, b, 0);
                        let mut s = mem.state.borrow_mut();
                        let card = format!("{CARD_REFUND_ENTRY_PREFIX}{B}");
                        s.ledger.insert(card.clone(), entry(EntryKind::Refund, &card, card_refunded));
                        let id = format!("cash-back-{i}");
                        s.ledger.insert(id.clone(), entry(EntryKind::Refund, &id, by_hand));
                    }
                }
                let b = mem.get_booking(B);
                let bal = Balance::of_booking(&b);
                prop_assert_eq!(b.paid_amount.amount, card_paid + cash_paid);
                prop_assert_eq!(b.refunded_amount.amount, card_refunded + cash_refunded);
                prop_assert_eq!(bal.due(), b.pricing.total.amount - b.paid_amount.amount + b.refunded_amount.amount);
                prop_assert_eq!(bal.balance_due().amount - bal.refund_due().amount, bal.due());
                prop_assert!(bal.refund_due().amount <= cash_paid - cash_refunded, "what is owed back is cash");
                prop_assert_eq!(mem.state.borrow().departures[DEPARTURE].booked_count, b.participant_count() + 3);
            }
        }
    }
}

//! `issue_gift_card.v1` and `redeem_gift_card.v1`: gift cards sold at the desk and spent on
//! bookings (the rules are [`crate::gift_card`]'s).
//!
//! Both work offline: the desk decides on its replica and queues the intent, the server decides
//! again under its locks. A redemption locks the booking, then the card (by code), so two desks
//! that each spent the same card offline are decided one after the other on the server: the
//! second is refused once it asks for more than is left (`amount`, with what is left), recorded
//! as a rejection and shown in its desk's conflict inbox; nothing of it is written — not the
//! ledger entry, not the booking's figures, not the card's movement.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::ledger::{Paid, confirmed_audit, opt_free_text, take_payment};
use super::{
    ApplyError, AuditEntry, Change, MutationCtx, Mutator, ReadKey, ReadView, Rejection, norm_id, norm_ref, require,
};
use crate::gift_card::{self, GiftCard, GiftCardMovement, MovementKind};
use crate::hlc::MAX_CLOCK_SKEW;
use crate::ledger::{EntryKind, LedgerEntry, PaymentMethod};
use crate::money::Money;
use crate::roles::{Permission, Role};
use crate::validate;

/// The audit action of a card sold and issued.
pub const GIFT_CARD_ISSUED: &str = "gift_card.issued";
/// The audit action of a card spent on a booking.
pub const GIFT_CARD_REDEEMED: &str = "gift_card.redeemed";

fn staff_only(ctx: &MutationCtx, action: &str) -> Result<(), Rejection> {
    require(ctx, Permission::BookingsWrite, action)?;
    if ctx.role == Role::Customer {
        return Err(Rejection::NotAuthorized { action: action.into() });
    }
    Ok(())
}

/// Whether the public site (acting as [`Role::Customer`]) may spend a card on `b`: only in the
/// checkout that is making it, while it is pending and nothing has been paid on it. Everything
/// later (a balance, a second card) is the desk's, where staff see the customer.
fn customer_may_redeem(b: &crate::entities::Booking) -> bool {
    b.status == crate::status::BookingStatus::Pending && b.paid_amount.is_zero()
}

/// The code as `gift_card::normalise_code` would store it, or as given when it is invalid
/// (`apply` then refuses it before reading anything).
fn norm_code(v: &str) -> String {
    gift_card::normalise_code("code", v).unwrap_or_else(|_| v.to_string())
}

// A frozen wire format like every `…V1`: fields alike `record_payment.v1`'s are not shared on purpose.
/// Arguments of `issue_gift_card.v1`: a card sold at the desk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueGiftCardV1 {
    /// A UUID made by the issuing device; the card's id and its issue movement's.
    pub id: String,
    /// The code (the desk mints one with `gift_card::code_from_entropy`; staff may type a
    /// printed voucher's).
    pub code: String,
    /// Minor units of `currency`: the card's starting balance, and what the buyer paid.
    pub amount: i64,
    pub currency: String,
    /// How the buyer paid for the card (the cash drawer counts it).
    pub payment_method: PaymentMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchaser_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When it was sold (the issuing device's clock).
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Mutator for IssueGiftCardV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::GiftCard(norm_id(&self.id)), ReadKey::GiftCardCode(norm_code(&self.code))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        staff_only(ctx, "sell a gift card")?;
        let id = validate::id("id", &self.id)?;
        let code = gift_card::normalise_code("code", &self.code)?;
        let amount = gift_card::check_issue_amount(self.amount)?;
        let currency = validate::currency("currency", &self.currency)?;
        let purchaser_name = validate::opt_text("purchaser_name", self.purchaser_name.as_deref(), 200)?;
        let recipient_name = validate::opt_text("recipient_name", self.recipient_name.as_deref(), 200)?;
        let note = opt_free_text("note", self.note.as_deref(), 500)?;
        if self.at > ctx.now + MAX_CLOCK_SKEW {
            return Err(Rejection::ClockSkew { field: "at".into(), stamp: self.at.to_rfc3339() }.into());
        }
        gift_card::check_expiry(self.expires_at, self.at)?;
        if let Some(existing) = view.gift_card(&id)? {
            // A replay of this very sale changes nothing; another card under the same id is a bug
            // of the issuing device, refused.
            if existing.code == code && existing.issued_amount == amount && existing.currency == currency {
                return Ok(Vec::new());
            }
            return Err(Rejection::conflict("id", "another gift card already has this id").into());
        }
        if view.gift_card_by_code(&code)?.is_some() {
            return Err(Rejection::conflict("code", "another gift card already has this code").into());
        }
        let card = GiftCard {
            id: id.clone(),
            organization_id: ctx.organization_id.clone(),
            code: code.clone(),
            currency,
            issued_amount: amount,
            balance: amount,
            expires_at: self.expires_at,
            purchaser_name,
            recipient_name,
            note,
            issued_by: ctx.user_id.clone(),
            issued_at: self.at,
            updated_at: ctx.now,
        };
        let movement = GiftCardMovement {
            id: id.clone(),
            organization_id: ctx.organization_id.clone(),
            gift_card_id: id.clone(),
            kind: MovementKind::Issue,
            amount,
            currency,
            balance_after: amount,
            booking_id: None,
            payment_method: Some(self.payment_method),
            recorded_by: ctx.user_id.clone(),
            recorded_at: self.at,
        };
        Ok(vec![
            Change::PutGiftCard(card),
            Change::PutGiftCardMovement(movement),
            Change::Audit(AuditEntry {
                action: GIFT_CARD_ISSUED.into(),
                entity: "gift_card".into(),
                entity_id: id,
                actor_id: ctx.user_id.clone(),
                at: ctx.now,
                detail: json!({
                    "code": gift_card::masked_code(&code),
                    "amount": amount,
                    "currency": currency.as_str(),
                    "payment_method": self.payment_method.as_str(),
                }),
            }),
        ])
    }
}

/// Arguments of `redeem_gift_card.v1`: part or all of a card's balance pays a booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemGiftCardV1 {
    /// A UUID made by the recording device: the ledger entry's id and the card movement's.
    pub nonce: String,
    pub booking_id: String,
    /// As typed; normalised ([`gift_card::normalise_code`]).
    pub code: String,
    /// Minor units of `currency`.
    pub amount: i64,
    pub currency: String,
    /// When the card was taken (the recording device's clock): expiry is judged then.
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Mutator for RedeemGiftCardV1 {
    fn reads(&self) -> Vec<ReadKey> {
        vec![ReadKey::Booking(norm_ref(&self.booking_id)), ReadKey::GiftCardCode(norm_code(&self.code))]
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::BookingsWrite, "take a gift card")?;
        let nonce = validate::id("nonce", &self.nonce)?;
        let booking_id = validate::row_ref("booking_id", &self.booking_id)?;
        let code = gift_card::normalise_code("code", &self.code)?;
        let currency = validate::currency("currency", &self.currency)?;
        if self.at > ctx.now + MAX_CLOCK_SKEW {
            return Err(Rejection::ClockSkew { field: "at".into(), stamp: self.at.to_rfc3339() }.into());
        }
        let b = view.booking(&booking_id)?.ok_or_else(|| Rejection::not_found("booking", &booking_id))?;
        if ctx.role == Role::Customer && !customer_may_redeem(&b) {
            return Err(Rejection::NotAuthorized { action: "take a gift card".into() }.into());
        }
        let card = view
            .gift_card_by_code(&code)?
            .ok_or_else(|| Rejection::Invalid(validate::FieldError::new("code", "no gift card has this code")))?;
        let amount = Money::new(self.amount, currency);
        // The card first: its refusals (currency, expiry, what is left) say more than the
        // booking's would.
        let spent = card.redeem(amount, self.at)?;
        let Paid { booking: next, balance: after, confirmed } =
            take_payment(&b, EntryKind::GiftCardRedemption, amount, ctx)?;
        let mut spent = spent;
        spent.updated_at = ctx.now;
        let entry = LedgerEntry {
            id: nonce.clone(),
            organization_id: ctx.organization_id.clone(),
            booking_id: b.id.clone(),
            departure_id: b.departure_id.clone(),
            kind: EntryKind::GiftCardRedemption,
            amount: self.amount,
            currency,
            note: None,
            reference: Some(gift_card::masked_code(&code)),
            recorded_by: ctx.user_id.clone(),
            recorded_at: self.at,
            method: None,
        };
        let movement = GiftCardMovement {
            id: nonce.clone(),
            organization_id: ctx.organization_id.clone(),
            gift_card_id: card.id.clone(),
            kind: MovementKind::Redemption,
            amount: self.amount,
            currency,
            balance_after: spent.balance,
            booking_id: Some(b.id.clone()),
            payment_method: None,
            recorded_by: ctx.user_id.clone(),
            recorded_at: self.at,
        };
        let mut changes = vec![
            Change::PutLedgerEntry(entry),
            Change::PutBooking(next),
            Change::PutGiftCard(spent.clone()),
            Change::PutGiftCardMovement(movement),
            Change::Audit(AuditEntry {
                action: GIFT_CARD_REDEEMED.into(),
                entity: "gift_card".into(),
                entity_id: card.id.clone(),
                actor_id: ctx.user_id.clone(),
                at: ctx.now,
                detail: json!({
                    "code": gift_card::masked_code(&code),
                    "booking_id": b.id,
                    "reference": b.reference_number.to_string(),
                    "amount": self.amount,
                    "currency": currency.as_str(),
                    "balance_after": spent.balance,
                }),
            }),
        ];
        if confirmed {
            changes.push(confirmed_audit(ctx, &b, "redeem_gift_card.v1", &nonce, &after));
        }
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::super::testkit::*;
    use super::*;
    use crate::mutation::BOOKING_CONFIRMED;
    use crate::status::{BookingStatus, PaymentStatus};

    const B: &str = "b-gift";
    const CODE: &str = "GIFT-2026-ABCD-EFGH";
    const CARD: &str = "00000000-0000-4000-8000-0000000000c1";

    fn nonce(n: u32) -> String {
        format!("00000000-0000-4000-8000-{n:012}")
    }

    fn world_with(total: i64) -> Mem {
        let mem = world();
        let mut b = booking(B, 2, BookingStatus::Pending, PaymentStatus::Unpaid, 0);
        b.pricing.total = usd(total);
        b.pricing.subtotal = usd(total);
        b.paid_amount = usd(0);
        b.refunded_amount = usd(0);
        mem.put_booking(b);
        mem
    }

    fn issue(amount: i64) -> Value {
        json!({
            "id": CARD, "code": CODE, "amount": amount, "currency": "USD", "payment_method": "cash",
            "recipient_name": "Ada", "at": now(),
        })
    }

    fn redeem(n: u32, amount: i64) -> Value {
        json!({"nonce": nonce(n), "booking_id": B, "code": "gift2026abcdefgh", "amount": amount, "currency": "USD", "at": now()})
    }

    fn field_of(r: Result<Vec<Change>, ApplyError>) -> String {
        match r {
            Err(ApplyError::Rejected(Rejection::Invalid(e))) => e.field,
            Err(ApplyError::Rejected(Rejection::Conflict { field, .. })) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    fn card(mem: &Mem) -> GiftCard {
        mem.state.borrow().gift_cards[CARD].clone()
    }

    #[test]
    fn a_sold_card_starts_with_its_amount_and_one_movement() {
        let mem = world_with(10_000);
        let changes = run_write(&mem, "issue_gift_card.v1", issue(5_000), Role::Manager);
        let c = card(&mem);
        assert_eq!((c.code.as_str(), c.balance, c.issued_amount), ("GIFT2026ABCDEFGH", 5_000, 5_000));
        assert_eq!(c.recipient_name.as_deref(), Some("Ada"));
        let s = mem.state.borrow();
        let m = &s.gift_card_movements[CARD];
        assert_eq!((m.kind, m.amount, m.payment_method), (MovementKind::Issue, 5_000, Some(PaymentMethod::Cash)));
        assert_eq!(s.audit[0].action, GIFT_CARD_ISSUED);
        drop(s);
        // A replay changes nothing; another card with the same code is refused at `code`.
        assert!(run_ok(&mem, "issue_gift_card.v1", issue(5_000), Role::Manager).is_empty());
        let other = patch(issue(5_000), &[("id", json!(nonce(77)))]);
        assert_eq!(field_of(run(&mem, "issue_gift_card.v1", other, Role::Manager)), "code");
        assert_eq!(changes.len(), 3);
    }

    #[test]
    fn the_public_site_spends_a_card_only_in_the_checkout_making_the_booking() {
        let mem = world_with(3_000);
        run_write(&mem, "issue_gift_card.v1", issue(5_000), Role::Manager);
        // Pending with nothing paid: the checkout's own redemption.
        run_write(&mem, "redeem_gift_card.v1", redeem(1, 1_000), Role::Customer);
        assert_eq!(card(&mem).balance, 4_000);
        // Money is in: anything more is the desk's.
        assert_eq!(run_err(&mem, "redeem_gift_card.v1", redeem(2, 1_000), Role::Customer), "NOT_AUTHORIZED");
        assert_eq!(card(&mem).balance, 4_000);
    }

    fn expire(at: chrono::DateTime<chrono::Utc>) -> Value {
        json!({"booking_id": B, "tour_id": crate::fixtures::TOUR, "departure_id": crate::fixtures::DEPARTURE,
               "hold_expires_at": at, "redemptions": [{"entry_id": nonce(1), "gift_card_id": CARD}]})
    }

    /// A checkout part-paid by a card whose hold runs out: the booking is cancelled with its
    /// seats released, the card gets its money back in one movement, and the booking's books add
    /// up (paid, then refunded to the card); a second run changes nothing.
    #[test]
    fn a_part_paid_hold_that_runs_out_gives_the_card_its_money_back_once() {
        use crate::fixtures::{DEPARTURE, now};
        let mem = world_with(10_000);
        run_write(&mem, "issue_gift_card.v1", issue(5_000), Role::Manager);
        run_write(&mem, "redeem_gift_card.v1", redeem(1, 3_000), Role::Customer);
        assert_eq!(card(&mem).balance, 2_000);
        let seats_before = mem.state.borrow().departures[DEPARTURE].booked_count;
        // Not yet run out: refused, nothing written.
        assert_eq!(
            run_err(&mem, "expire_hold.v1", expire(now() + chrono::Duration::minutes(1)), Role::Owner),
            "INVALID"
        );
        // Never the public site's to decide.
        assert_eq!(run_err(&mem, "expire_hold.v1", expire(now()), Role::Customer), "NOT_AUTHORIZED");
        run_write(&mem, "expire_hold.v1", expire(now()), Role::Owner);
        let c = card(&mem);
        assert_eq!(c.balance, 5_000);
        let s = mem.state.borrow();
        let b = &s.bookings[B];
        assert_eq!(b.status, BookingStatus::Cancelled);
        assert_eq!((b.paid_amount.amount, b.refunded_amount.amount), (3_000, 3_000));
        assert_eq!(b.payment_status, PaymentStatus::Refunded);
        assert_eq!(b.cancellation.as_ref().and_then(|r| r.refund_by_hand), None, "nothing left to give by hand");
        assert_eq!(s.departures[DEPARTURE].booked_count, seats_before.saturating_sub(2));
        let back: Vec<_> = s.gift_card_movements.values().filter(|m| m.kind == MovementKind::Refund).collect();
        assert_eq!(back.len(), 1);
        assert_eq!((back[0].amount, back[0].balance_after, back[0].booking_id.as_deref()), (3_000, 5_000, Some(B)));
        let refund = &s.ledger[&super::super::given_back_id(&nonce(1))];
        assert_eq!((refund.kind, refund.amount), (EntryKind::Refund, 3_000));
        assert_eq!(crate::ledger::Balance::of_booking(b).refund_due().amount, 0);
        drop(s);
        // Again (a second run, another instance): nothing.
        assert!(run_ok(&mem, "expire_hold.v1", expire(now()), Role::Owner).is_empty());
        assert_eq!(card(&mem).balance, 5_000);
    }

    /// Money other than the card's on the booking keeps it for a person.
    #[test]
    fn a_hold_with_other_money_on_it_is_not_released() {
        use crate::fixtures::now;
        let mem = world_with(10_000);
        run_write(&mem, "issue_gift_card.v1", issue(5_000), Role::Manager);
        run_write(&mem, "redeem_gift_card.v1", redeem(1, 3_000), Role::Customer);
        let cash = json!({"nonce": nonce(9), "booking_id": B, "method": "cash", "amount": 1_000, "currency": "USD", "at": now()});
        run_write(&mem, "record_payment.v1", cash, Role::Manager);
        assert_eq!(run_err(&mem, "expire_hold.v1", expire(now()), Role::Owner), "INVALID");
        assert_eq!(card(&mem).balance, 2_000);
    }

    #[test]
    fn issue_refusals_name_their_field() {
        let mem = world_with(10_000);
        let r = |a: Value| field_of(run(&mem, "issue_gift_card.v1", a, Role::Manager));
        assert_eq!(r(issue(0)), "amount");
        assert_eq!(r(issue(-5)), "amount");
        assert_eq!(r(patch(issue(100), &[("code", json!("ab"))])), "code");
        assert_eq!(r(patch(issue(100), &[("currency", json!("usd1"))])), "currency");
        assert_eq!(r(patch(issue(100), &[("expires_at", json!(now()))])), "expires_at");
        assert_eq!(r(patch(issue(100), &[("id", json!(""))])), "id");
        assert_eq!(run_err(&mem, "issue_gift_card.v1", issue(100), Role::Guide), "NOT_AUTHORIZED");
        assert_eq!(run_err(&mem, "issue_gift_card.v1", issue(100), Role::Customer), "NOT_AUTHORIZED");
        assert!(mem.state.borrow().gift_cards.is_empty());
    }

    #[test]
    fn a_card_pays_bookings_in_parts_and_every_movement_is_in_both_ledgers() {
        let mem = world_with(3_000);
        run_write(&mem, "issue_gift_card.v1", issue(5_000), Role::Manager);
        run_write(&mem, "redeem_gift_card.v1", redeem(1, 1_000), Role::Manager);
        assert_eq!(card(&mem).balance, 4_000);
        assert_eq!(mem.get_booking(B).status, BookingStatus::Pending);
        let changes = run_write(&mem, "redeem_gift_card.v1", redeem(2, 2_000), Role::Manager);
        let b = mem.get_booking(B);
        assert_eq!(
            (b.status, b.payment_status, b.paid_amount),
            (BookingStatus::Confirmed, PaymentStatus::Paid, usd(3_000))
        );
        assert!(changes.iter().any(|c| matches!(c, Change::Audit(a) if a.action == BOOKING_CONFIRMED)));
        assert_eq!(card(&mem).balance, 2_000);
        let s = mem.state.borrow();
        let e = &s.ledger[&nonce(2)];
        assert_eq!(
            (e.kind, e.amount, e.reference.as_deref()),
            (EntryKind::GiftCardRedemption, 2_000, Some("••••-EFGH"))
        );
        let m = &s.gift_card_movements[&nonce(2)];
        assert_eq!((m.kind, m.balance_after, m.booking_id.as_deref()), (MovementKind::Redemption, 2_000, Some(B)));
    }

    #[test]
    fn redemption_refusals_name_their_field_and_change_nothing() {
        let mem = world_with(3_000);
        run_write(
            &mem,
            "issue_gift_card.v1",
            patch(issue(2_000), &[("expires_at", json!(now() + chrono::Duration::days(30)))]),
            Role::Manager,
        );
        let r = |a: Value| field_of(run(&mem, "redeem_gift_card.v1", a, Role::Manager));
        assert_eq!(r(redeem(1, 2_001)), "amount", "more than is left on the card");
        assert_eq!(r(patch(redeem(1, 100), &[("currency", json!("EUR"))])), "currency");
        assert_eq!(r(patch(redeem(1, 100), &[("code", json!("NOPE-NOPE-NOPE"))])), "code");
        assert_eq!(r(patch(redeem(1, 100), &[("code", json!("?"))])), "code");
        assert_eq!(r(redeem(1, 0)), "amount");
        let late = patch(redeem(1, 100), &[("at", json!(now() + chrono::Duration::days(31)))]);
        assert_eq!(run_err(&mem, "redeem_gift_card.v1", late, Role::Manager), "CLOCK_SKEW");
        assert_eq!(
            run_err(
                &mem,
                "redeem_gift_card.v1",
                patch(redeem(1, 100), &[("booking_id", json!("b-none"))]),
                Role::Manager
            ),
            "NOT_FOUND"
        );
        // Above the booking's balance even though the card holds enough.
        let mem2 = world_with(1_000);
        run_write(&mem2, "issue_gift_card.v1", issue(5_000), Role::Manager);
        assert_eq!(field_of(run(&mem2, "redeem_gift_card.v1", redeem(1, 1_001), Role::Manager)), "amount");
        assert_eq!(run_err(&mem2, "redeem_gift_card.v1", redeem(1, 100), Role::Guide), "NOT_AUTHORIZED");
        assert_eq!(card(&mem).balance, 2_000);
        assert!(mem.state.borrow().ledger.is_empty());
    }

    #[test]
    fn an_expired_card_is_refused_at_its_code() {
        let mem = world_with(3_000);
        let mut c = GiftCard {
            id: CARD.into(),
            organization_id: ORG.into(),
            code: "GIFT2026ABCDEFGH".into(),
            currency: crate::money::Currency::USD,
            issued_amount: 2_000,
            balance: 2_000,
            expires_at: Some(now() - chrono::Duration::days(1)),
            purchaser_name: None,
            recipient_name: None,
            note: None,
            issued_by: STAFF.into(),
            issued_at: now() - chrono::Duration::days(400),
            updated_at: now(),
        };
        mem.write(Change::PutGiftCard(c.clone()));
        assert_eq!(field_of(run(&mem, "redeem_gift_card.v1", redeem(1, 100), Role::Manager)), "code");
        c.expires_at = None;
        mem.write(Change::PutGiftCard(c));
        run_ok(&mem, "redeem_gift_card.v1", redeem(1, 100), Role::Manager);
    }

    proptest! {
        /// Any sequence of issues and redemptions through the mutations keeps every card's
        /// balance at or above zero and equal to what was issued minus what its redemption
        /// movements took; a refused redemption writes nothing.
        #[test]
        fn issue_and_redemptions_keep_the_balance(
            issued in 1i64..20_000,
            ops in prop::collection::vec((-100i64..8_000, 0u8..10), 0..30),
        ) {
            let mem = world_with(1_000_000);
            run_write(&mem, "issue_gift_card.v1", issue(issued), Role::Manager);
            let mut redeemed = 0i64;
            for (i, (amount, pick)) in ops.into_iter().enumerate() {
                let args = match pick {
                    0 => patch(redeem(100 + i as u32, amount), &[("currency", json!("EUR"))]),
                    1 => issue(amount.max(1)),
                    _ => redeem(100 + i as u32, amount),
                };
                let name = if pick == 1 { "issue_gift_card.v1" } else { "redeem_gift_card.v1" };
                let before = card(&mem).balance;
                match run(&mem, name, args, Role::Manager) {
                    Ok(changes) => {
                        for c in changes { mem.write(c); }
                        if pick != 1 {
                            prop_assert!(amount > 0 && amount <= before);
                            redeemed += amount;
                        }
                    }
                    Err(_) => prop_assert_eq!(card(&mem).balance, before),
                }
                let c = card(&mem);
                prop_assert!(c.balance >= 0);
                prop_assert_eq!(c.balance, issued - redeemed);
                let s = mem.state.borrow();
                let taken: i64 = s.gift_card_movements.values().filter(|m| m.kind == MovementKind::Redemption).map(|m| m.amount).sum();
                prop_assert_eq!(taken, redeemed);
                let in_ledger: i64 = s.ledger.values().filter(|e| e.kind == EntryKind::GiftCardRedemption).map(|e| e.amount).sum();
                prop_assert_eq!(in_ledger, redeemed);
            }
        }
    }
}

//! Gift cards (vouchers): a code sold at the desk with a running balance, spent on bookings.
//!
//! A card is issued for an amount in integer minor units of one currency
//! (`issue_gift_card.v1`); each redemption (`redeem_gift_card.v1`) takes part or all of what is
//! left and pays a booking in the same currency, as a `gift_card_redemption` entry in that
//! booking's ledger. Every movement of a card is one [`GiftCardMovement`] — its issue, then each
//! redemption — so the card's history and the bookings' ledgers tell the same story.
//!
//! The rules, here once for the desk and the server:
//!
//! * **Codes** ([`normalise_code`], [`code_from_entropy`], [`display_code`]): what a person
//!   types is trimmed, stripped of spaces and hyphens and uppercased; a code is 8 to 24 letters
//!   and digits. Codes the desk mints are 16 characters of an alphabet without look-alikes (no
//!   `0`/`O`, `1`/`I`/`L`), shown in groups of four.
//! * **Balance** ([`GiftCard::redeem`]): a redemption is more than zero, in the card's currency,
//!   never more than what is left, so the balance never goes below zero and always equals the
//!   amount issued minus the amounts redeemed.
//! * **Expiry**: a card with an expiry is spent only before it (judged at the moment the desk
//!   took the card, which the mutation bounds by the clock-skew rule).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ledger::PaymentMethod;
use crate::money::{Currency, Money};
use crate::status::string_enum;
use crate::validate::FieldError;

/// The characters of a minted code: letters and digits without look-alikes (no `0`/`O`,
/// `1`/`I`/`L`).
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// A minted code's length (about 79 bits of entropy).
pub const CODE_LEN: usize = 16;
/// The largest card: ten million major units of a two-decimal currency.
pub const MAX_AMOUNT: i64 = 1_000_000_000;

/// A code from 16 bytes of entropy (the caller's; the domain has none): 16 characters of the
/// unambiguous alphabet, each from one byte (rejection-free: a byte modulo 31, a bias of under
/// one part in eight on a secret of about 79 bits, which no attacker can use).
pub fn code_from_entropy(entropy: [u8; CODE_LEN]) -> String {
    entropy.iter().map(|b| char::from(CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()])).collect()
}

/// A code as stored and compared: without spaces and hyphens, uppercase; 8 to 24 ASCII letters
/// and digits, or an error naming `field`.
pub fn normalise_code(field: &str, raw: &str) -> Result<String, FieldError> {
    let code: String = raw.chars().filter(|c| !c.is_whitespace() && *c != '-').collect::<String>().to_uppercase();
    if code.is_empty() {
        return Err(FieldError::new(field, "enter the gift card's code"));
    }
    if !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(FieldError::new(field, "a gift card code has only letters and digits"));
    }
    if !(8..=24).contains(&code.len()) {
        return Err(FieldError::new(field, "a gift card code has 8 to 24 letters and digits"));
    }
    Ok(code)
}

/// A code as printed: groups of four joined by hyphens (`ABCD-EFGH-JKMN-PQRS`).
pub fn display_code(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// The code with all but its last four characters hidden, for lists and the ledger.
pub fn masked_code(code: &str) -> String {
    let n = code.chars().count();
    let tail: String = code.chars().skip(n.saturating_sub(4)).collect();
    format!("••••-{tail}")
}

/// One gift card. `balance` is what is left, in minor units of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftCard {
    pub id: String,
    pub organization_id: String,
    /// Normalised ([`normalise_code`]); unique in the organization.
    pub code: String,
    pub currency: Currency,
    pub issued_amount: i64,
    pub balance: i64,
    /// Spent only before this moment; `None`: no expiry.
    pub expires_at: Option<DateTime<Utc>>,
    pub purchaser_name: Option<String>,
    pub recipient_name: Option<String>,
    pub note: Option<String>,
    pub issued_by: String,
    pub issued_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where a card stands, for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardState {
    Active,
    UsedUp,
    Expired,
}

impl CardState {
    pub fn label(self) -> &'static str {
        match self {
            CardState::Active => "Active",
            CardState::UsedUp => "Used up",
            CardState::Expired => "Expired",
        }
    }
}

impl GiftCard {
    /// What is left.
    pub fn balance_money(&self) -> Money {
        Money::new(self.balance, self.currency)
    }

    pub fn expired_at(&self, at: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|e| at >= e)
    }

    pub fn state(&self, now: DateTime<Utc>) -> CardState {
        if self.expired_at(now) {
            CardState::Expired
        } else if self.balance == 0 {
            CardState::UsedUp
        } else {
            CardState::Active
        }
    }

    /// The card after `amount` was spent from it at `at`, or why not, naming the field:
    /// `currency` (not the card's), `code` (expired, nothing left) or `amount` (not above zero,
    /// more than is left). A refused redemption changes nothing.
    pub fn redeem(&self, amount: Money, at: DateTime<Utc>) -> Result<GiftCard, FieldError> {
        if amount.currency != self.currency {
            return Err(FieldError::new(
                "currency",
                format!("this gift card is in {}; it cannot pay {}", self.currency, amount.currency),
            ));
        }
        if let Some(e) = self.expires_at.filter(|e| at >= *e) {
            return Err(FieldError::new("code", format!("this gift card expired on {}", e.format("%Y-%m-%d"))));
        }
        if self.balance == 0 {
            return Err(FieldError::new("code", "this gift card has been used up"));
        }
        if amount.amount <= 0 {
            return Err(FieldError::new("amount", "must be more than zero"));
        }
        if amount.amount > self.balance {
            return Err(FieldError::new(
                "amount",
                format!("is more than the {} left on this gift card", self.balance_money().display()),
            ));
        }
        let mut next = self.clone();
        next.balance = self.balance - amount.amount;
        Ok(next)
    }
}

impl GiftCard {
    /// How much of `due` this card pays when it is offered at checkout at `at`: all of it when
    /// the card holds that much, else everything left on the card. Refused like [`Self::redeem`]
    /// (the currency, an expired or used-up card), so a customer hears why before paying; zero
    /// when nothing is due. The redemption itself is decided again, under the card's lock, by
    /// [`Self::redeem`].
    pub fn covers(&self, due: Money, at: DateTime<Utc>) -> Result<Money, FieldError> {
        if due.amount <= 0 {
            return Ok(Money::new(0, due.currency));
        }
        let amount = Money::new(due.amount.min(self.balance), due.currency);
        self.redeem(amount, at)?;
        Ok(amount)
    }
}

impl GiftCard {
    /// The card after `amount` a booking took from it comes back at `at` (the booking never held
    /// its seats: its hold ran out before the rest was paid). In the card's currency, more than
    /// zero, and never above what was issued, so the balance stays the amount issued minus what
    /// bookings kept. An expired card takes its money back too: the balance is the customer's,
    /// whether staff extend the card or not.
    pub fn give_back(&self, amount: Money, at: DateTime<Utc>) -> Result<GiftCard, FieldError> {
        if amount.currency != self.currency {
            return Err(FieldError::new(
                "currency",
                format!("this gift card is in {}; {} cannot go back to it", self.currency, amount.currency),
            ));
        }
        if amount.amount <= 0 {
            return Err(FieldError::new("amount", "must be more than zero"));
        }
        if self.balance.saturating_add(amount.amount) > self.issued_amount {
            return Err(FieldError::new("amount", "is more than was ever spent from this gift card"));
        }
        let mut next = self.clone();
        next.balance = self.balance + amount.amount;
        next.updated_at = at;
        Ok(next)
    }
}

/// The amount of a new card: more than zero, at most [`MAX_AMOUNT`].
pub fn check_issue_amount(amount: i64) -> Result<i64, FieldError> {
    if amount <= 0 {
        return Err(FieldError::new("amount", "must be more than zero"));
    }
    if amount > MAX_AMOUNT {
        return Err(FieldError::new("amount", "is too large for a gift card"));
    }
    Ok(amount)
}

/// An expiry, when given, after the moment of issue.
pub fn check_expiry(expires_at: Option<DateTime<Utc>>, issued_at: DateTime<Utc>) -> Result<(), FieldError> {
    match expires_at {
        Some(e) if e <= issued_at => Err(FieldError::new("expires_at", "must be after today")),
        _ => Ok(()),
    }
}

string_enum!(
    /// What moved a card's balance.
    MovementKind { Issue => "issue", Redemption => "redemption", Refund => "refund" }
);

impl MovementKind {
    pub fn label(self) -> &'static str {
        match self {
            MovementKind::Issue => "Sold and issued",
            MovementKind::Redemption => "Spent on a booking",
            MovementKind::Refund => "Given back from a booking",
        }
    }
}

/// One movement of a card's balance: its issue (`amount` loaded, paid by `payment_method`), a
/// redemption (`amount` spent on `booking_id`, whose ledger entry has the same id) or a refund
/// (`amount` of a redemption given back from `booking_id`, whose refund entry has the same id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftCardMovement {
    pub id: String,
    pub organization_id: String,
    pub gift_card_id: String,
    pub kind: MovementKind,
    /// Minor units, always above zero.
    pub amount: i64,
    pub currency: Currency,
    /// The card's balance after this movement.
    pub balance_after: i64,
    pub booking_id: Option<String>,
    /// How the buyer paid for the card (an issue only): the cash drawer counts it.
    pub payment_method: Option<PaymentMethod>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn t(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, day, 12, 0, 0).unwrap()
    }

    fn card(balance: i64, expires_at: Option<DateTime<Utc>>) -> GiftCard {
        GiftCard {
            id: "g1".into(),
            organization_id: "o".into(),
            code: "ABCDEFGHJKMNPQRS".into(),
            currency: Currency::EUR,
            issued_amount: balance,
            balance,
            expires_at,
            purchaser_name: None,
            recipient_name: None,
            note: None,
            issued_by: "u".into(),
            issued_at: t(1),
            updated_at: t(1),
        }
    }

    fn eur(a: i64) -> Money {
        Money::new(a, Currency::EUR)
    }

    #[test]
    fn codes_are_normalised_and_checked() {
        assert_eq!(normalise_code("code", "  abcd-efgh jkmn-pqrs ").unwrap(), "ABCDEFGHJKMNPQRS");
        assert_eq!(normalise_code("code", "").unwrap_err().field, "code");
        assert_eq!(normalise_code("c", "abc").unwrap_err().field, "c");
        assert!(normalise_code("code", "ABCD_EFGH").is_err());
        assert!(normalise_code("code", "ÄBCDEFGH").is_err());
        assert!(normalise_code("code", &"A".repeat(25)).is_err());
        assert_eq!(display_code("ABCDEFGHJKMNPQRS"), "ABCD-EFGH-JKMN-PQRS");
        assert_eq!(masked_code("ABCDEFGHJKMNPQRS"), "••••-PQRS");
    }

    #[test]
    fn minted_codes_use_the_unambiguous_alphabet_and_normalise_to_themselves() {
        let code = code_from_entropy([0, 1, 2, 30, 31, 255, 128, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
        assert_eq!(code.len(), CODE_LEN);
        assert!(code.chars().all(|c| !"01ILO".contains(c)), "{code}");
        assert_eq!(normalise_code("code", &display_code(&code).to_lowercase()).unwrap(), code);
    }

    #[test]
    fn a_redemption_takes_from_the_balance_and_refusals_name_their_field() {
        let c = card(5_000, Some(t(20)));
        let c = c.redeem(eur(2_000), t(2)).unwrap();
        assert_eq!(c.balance, 3_000);
        assert_eq!(c.redeem(Money::new(100, Currency::USD), t(2)).unwrap_err().field, "currency");
        let e = c.redeem(eur(3_001), t(2)).unwrap_err();
        assert_eq!(e.field, "amount");
        assert!(e.message.contains("EUR 30.00"), "{}", e.message);
        assert_eq!(c.redeem(eur(0), t(2)).unwrap_err().field, "amount");
        assert_eq!(c.redeem(eur(-1), t(2)).unwrap_err().field, "amount");
        let e = c.redeem(eur(100), t(20)).unwrap_err();
        assert_eq!(e.field, "code");
        assert!(e.message.contains("expired on 2026-06-20"), "{}", e.message);
        let spent = c.redeem(eur(3_000), t(3)).unwrap();
        assert_eq!(spent.state(t(3)), CardState::UsedUp);
        assert_eq!(spent.redeem(eur(1), t(3)).unwrap_err().field, "code");
        assert_eq!(c.state(t(21)), CardState::Expired);
        assert_eq!(c.state(t(3)), CardState::Active);
    }

    #[test]
    fn a_card_covers_what_is_due_up_to_its_balance_and_says_why_not() {
        let c = card(5_000, Some(t(20)));
        assert_eq!(c.covers(eur(3_000), t(2)).unwrap(), eur(3_000));
        assert_eq!(c.covers(eur(8_000), t(2)).unwrap(), eur(5_000));
        assert_eq!(c.covers(eur(0), t(2)).unwrap(), eur(0));
        assert_eq!(c.covers(Money::new(100, Currency::USD), t(2)).unwrap_err().field, "currency");
        assert_eq!(c.covers(eur(100), t(20)).unwrap_err().field, "code");
        let spent = c.redeem(eur(5_000), t(2)).unwrap();
        let e = spent.covers(eur(100), t(2)).unwrap_err();
        assert_eq!(e.field, "code");
        assert!(e.message.contains("used up"), "{}", e.message);
    }

    #[test]
    fn money_given_back_restores_the_balance_and_never_above_the_issue() {
        let c = card(5_000, Some(t(20)));
        let spent = c.redeem(eur(3_000), t(2)).unwrap();
        let back = spent.give_back(eur(3_000), t(3)).unwrap();
        assert_eq!((back.balance, back.updated_at), (5_000, t(3)));
        // Even once the card has expired: the balance is the customer's.
        assert_eq!(spent.give_back(eur(3_000), t(25)).unwrap().balance, 5_000);
        assert_eq!(spent.give_back(eur(3_001), t(3)).unwrap_err().field, "amount");
        assert_eq!(spent.give_back(eur(0), t(3)).unwrap_err().field, "amount");
        assert_eq!(spent.give_back(Money::new(100, Currency::USD), t(3)).unwrap_err().field, "currency");
    }

    #[test]
    fn issue_amounts_and_expiries_are_checked() {
        assert_eq!(check_issue_amount(0).unwrap_err().field, "amount");
        assert_eq!(check_issue_amount(MAX_AMOUNT + 1).unwrap_err().field, "amount");
        assert_eq!(check_issue_amount(2_500).unwrap(), 2_500);
        assert_eq!(check_expiry(Some(t(1)), t(1)).unwrap_err().field, "expires_at");
        assert!(check_expiry(Some(t(2)), t(1)).is_ok());
        assert!(check_expiry(None, t(1)).is_ok());
    }

    proptest! {
        /// Any sequence of redemptions (any amounts, currencies, moments) keeps the balance at
        /// or above zero and equal to the amount issued minus the amounts redeemed; a refused
        /// redemption changes nothing and names its field.
        #[test]
        fn the_balance_is_issued_minus_redeemed_and_never_negative(
            issued in 1i64..100_000,
            expiry_day in prop::option::of(2u32..28),
            ops in prop::collection::vec((-500i64..40_000, prop::bool::weighted(0.1), 1u32..28), 0..40),
        ) {
            let mut c = card(issued, expiry_day.map(t));
            let mut redeemed = 0i64;
            for (amount, usd, day) in ops {
                let money = if usd { Money::new(amount, Currency::USD) } else { eur(amount) };
                match c.redeem(money, t(day)) {
                    Ok(next) => {
                        prop_assert!(!usd && amount > 0 && amount <= c.balance);
                        prop_assert!(!c.expired_at(t(day)));
                        redeemed += amount;
                        c = next;
                    }
                    Err(e) => prop_assert!(["currency", "code", "amount"].contains(&e.field.as_str())),
                }
                prop_assert!(c.balance >= 0);
                prop_assert_eq!(c.balance, issued - redeemed);
                prop_assert_eq!(c.issued_amount, issued);
            }
        }
    }
}

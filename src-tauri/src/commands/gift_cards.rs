//! Gift cards and the cash drawer (issue 13): sell a card, list and open cards, spend one on a
//! booking, and the end-of-day takings per desk user. Sales and redemptions are intents like any
//! other: saved on the replica, queued, decided again by the server.

use chrono::{DateTime, Local, NaiveDate, TimeZone, Utc};
use rand::TryRngCore;
use tauri::State;
use tourdesk_domain::gift_card::{CODE_LEN, code_from_entropy};
use tourdesk_domain::ipc::{BookingMoney, CashDrawer, GiftCardDetail, GiftCardLine, GiftCardRedemption, NewGiftCard};
use tourdesk_domain::mutation::{IssueGiftCardV1, Mutation, RedeemGiftCardV1, Rejection};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::validate::FieldError;
use tourdesk_local_store::StoreError;

use crate::Desk;
use crate::error::{DeskError, DeskResult};

fn invalid(field: &str, message: impl Into<String>) -> DeskError {
    DeskError::Store(StoreError::Rejected(Rejection::Invalid(FieldError::new(field, message))))
}

/// An amount typed in `currency` (`12.50`) in minor units, or a refusal at `amount`.
fn typed_amount(amount: &str, currency: &str) -> DeskResult<(i64, String)> {
    let currency =
        tourdesk_domain::validate::currency("currency", currency).map_err(|e| invalid(&e.field, e.message))?;
    let money = tourdesk_domain::Money::from_decimal_str(amount.trim(), currency)
        .map_err(|_| invalid("amount", format!("is not an amount in {currency} (like 12.50)")))?;
    Ok((money.amount, currency.as_str().to_string()))
}

/// The first instant of a local date on this computer (the later one across a DST fold).
fn local_midnight(date: NaiveDate) -> DeskResult<DateTime<Utc>> {
    let naive = date.and_hms_opt(0, 0, 0).ok_or_else(|| invalid("date", "is not a date"))?;
    Local
        .from_local_datetime(&naive)
        .latest()
        // A midnight skipped by a DST jump: an hour later exists.
        .or_else(|| Local.from_local_datetime(&(naive + chrono::Duration::hours(1))).latest())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| invalid("date", "is not a time on this computer's clock"))
}

/// The intent for a card typed in the "Sell a gift card" form: a typed voucher code, or a fresh
/// one from `entropy`; the card is spendable through its last day (until the next local
/// midnight).
pub fn issue_gift_card_mutation(
    input: NewGiftCard,
    id: String,
    entropy: [u8; CODE_LEN],
    at: DateTime<Utc>,
) -> DeskResult<Mutation> {
    let (amount, currency) = typed_amount(&input.amount, &input.currency)?;
    let code = input.code.filter(|c| !c.trim().is_empty()).unwrap_or_else(|| code_from_entropy(entropy));
    let expires_at = match input.expires_on {
        Some(last_day) => {
            let next = last_day.succ_opt().ok_or_else(|| invalid("expires_at", "is too far ahead"))?;
            Some(local_midnight(next).map_err(|_| invalid("expires_at", "is not a date on this computer's clock"))?)
        }
        None => None,
    };
    let blank = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    Ok(Mutation::IssueGiftCardV1(IssueGiftCardV1 {
        id,
        code,
        amount,
        currency,
        payment_method: input.payment_method,
        expires_at,
        purchaser_name: blank(input.purchaser_name),
        recipient_name: blank(input.recipient_name),
        note: blank(input.note),
        at,
    }))
}

/// The intent for spending a card on a booking, as typed in its dialog.
pub fn redeem_gift_card_mutation(input: GiftCardRedemption, nonce: String, at: DateTime<Utc>) -> DeskResult<Mutation> {
    let (amount, currency) = typed_amount(&input.amount, &input.currency)?;
    Ok(Mutation::RedeemGiftCardV1(RedeemGiftCardV1 {
        nonce,
        booking_id: input.booking_id,
        code: input.code,
        amount,
        currency,
        at,
    }))
}

/// Every gift card this desk holds, newest sale first.
#[tauri::command]
pub async fn list_gift_cards(desk: State<'_, Desk>) -> DeskResult<Vec<GiftCardLine>> {
    Ok(desk.store.gift_cards(Utc::now())?)
}

/// One card with its movements.
#[tauri::command]
pub async fn gift_card(desk: State<'_, Desk>, id: String) -> DeskResult<GiftCardDetail> {
    desk.store.gift_card(&id, Utc::now())?.ok_or(DeskError::NotFound("this desk does not hold that gift card"))
}

/// Sells a gift card (`issue_gift_card.v1`); works offline.
#[tauri::command]
pub async fn issue_gift_card(desk: State<'_, Desk>, input: NewGiftCard) -> DeskResult<GiftCardDetail> {
    let mut entropy = [0u8; CODE_LEN];
    rand::rngs::OsRng.try_fill_bytes(&mut entropy).map_err(|e| {
        tracing::error!("the OS random generator failed: {e}");
        DeskError::Internal("could not draw a gift card code; try again")
    })?;
    let id = uuid::Uuid::new_v4().to_string();
    let m = issue_gift_card_mutation(input, id.clone(), entropy, Utc::now())?;
    desk.store.mutate(&m)?;
    desk.sync.touched(&desk.store, &[EntityKind::GiftCard, EntityKind::GiftCardMovement], false);
    desk.store.gift_card(&id, Utc::now())?.ok_or(DeskError::Internal("the gift card was saved but cannot be read back"))
}

/// Spends part or all of a card on a booking (`redeem_gift_card.v1`); works offline.
#[tauri::command]
pub async fn redeem_gift_card(desk: State<'_, Desk>, input: GiftCardRedemption) -> DeskResult<BookingMoney> {
    let booking_id = input.booking_id.clone();
    let m = redeem_gift_card_mutation(input, uuid::Uuid::new_v4().to_string(), Utc::now())?;
    desk.store.mutate(&m)?;
    desk.sync.touched(
        &desk.store,
        &[EntityKind::LedgerEntry, EntityKind::Booking, EntityKind::GiftCard, EntityKind::GiftCardMovement],
        false,
    );
    desk.store.booking_money(&booking_id)?.ok_or(DeskError::Internal("the payment was saved but cannot be read back"))
}

/// The cash drawer of a local day on this computer (today when none).
#[tauri::command]
pub async fn cash_drawer(desk: State<'_, Desk>, date: Option<NaiveDate>) -> DeskResult<CashDrawer> {
    let date = date.unwrap_or_else(|| Local::now().date_naive());
    let next = date.succ_opt().ok_or_else(|| invalid("date", "is too far ahead"))?;
    Ok(desk.store.cash_drawer(date, local_midnight(date)?, local_midnight(next)?)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tourdesk_domain::ledger::PaymentMethod;

    fn input(amount: &str) -> NewGiftCard {
        NewGiftCard {
            amount: amount.into(),
            currency: "EUR".into(),
            payment_method: PaymentMethod::Cash,
            expires_on: NaiveDate::from_ymd_opt(2027, 6, 30),
            purchaser_name: Some("  ".into()),
            recipient_name: Some("Rui".into()),
            note: None,
            code: None,
        }
    }

    fn field(e: DeskError) -> String {
        match e {
            DeskError::Store(StoreError::Rejected(Rejection::Invalid(f))) => f.field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_typed_sale_becomes_minor_units_a_minted_code_and_an_end_of_day_expiry() {
        let at = Utc::now();
        let Mutation::IssueGiftCardV1(a) =
            issue_gift_card_mutation(input("50.00"), "id".into(), [7; CODE_LEN], at).unwrap()
        else {
            panic!()
        };
        assert_eq!((a.amount, a.currency.as_str(), a.code.len()), (5_000, "EUR", CODE_LEN));
        assert_eq!(a.purchaser_name, None, "blank is none");
        let expires = a.expires_at.unwrap().with_timezone(&Local);
        assert_eq!(expires.date_naive(), NaiveDate::from_ymd_opt(2027, 7, 1).unwrap());
        let typed = NewGiftCard { code: Some("SUMMER-VOUCHER-01".into()), ..input("5") };
        let Mutation::IssueGiftCardV1(a) = issue_gift_card_mutation(typed, "id".into(), [7; CODE_LEN], at).unwrap()
        else {
            panic!()
        };
        assert_eq!(a.code, "SUMMER-VOUCHER-01", "the domain normalises it");
        assert_eq!(
            field(issue_gift_card_mutation(input("fifty"), "id".into(), [0; CODE_LEN], at).unwrap_err()),
            "amount"
        );
        let bad = NewGiftCard { currency: "EURO".into(), ..input("5") };
        assert_eq!(field(issue_gift_card_mutation(bad, "id".into(), [0; CODE_LEN], at).unwrap_err()), "currency");
    }
}

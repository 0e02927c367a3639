//! Gift cards and the cash drawer on the desk: the gift cards screen's list and detail, and the
//! end-of-day takings per desk user (the domain's `cash_drawer::summarise` over this replica's
//! ledgers).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;
use tourdesk_domain::cash_drawer;
use tourdesk_domain::gift_card::{GiftCard, display_code};
use tourdesk_domain::ipc::{CashDrawer, CashDrawerLine, GiftCardDetail, GiftCardLine, GiftCardMovementLine};
use tourdesk_domain::protocol::EntityKind;

use super::{Session, Store, session_org};
use crate::{StoreError, rows};

fn line(c: &Connection, org: &str, card: GiftCard, now: DateTime<Utc>) -> Result<GiftCardLine, StoreError> {
    let pending = rows::pending(c, org, EntityKind::GiftCard, &card.id)?;
    Ok(GiftCardLine { display_code: display_code(&card.code), state: card.state(now), pending, card })
}

/// Timestamps as the replica stores them (the entities' serde form), for range filters.
pub(super) fn stamp(t: DateTime<Utc>) -> Result<String, StoreError> {
    match serde_json::to_value(t)? {
        serde_json::Value::String(s) => Ok(s),
        other => Err(StoreError::Corrupt(format!("a timestamp serialised as {other}"))),
    }
}

/// Who a staff account is, as far as this replica knows: the signed-in person's own name, the
/// name the audit log or a guide profile gives it, else "Staff account …" with its id.
pub(super) fn staff_name(me: Option<&Session>, known: &HashMap<String, String>, user_id: &str) -> String {
    match me {
        Some(s) if s.user_id == user_id => s.user_name.clone(),
        _ => known.get(user_id).cloned().unwrap_or_else(|| format!("Staff account {user_id}")),
    }
}

impl Store {
    /// Every gift card this desk holds, newest sale first, with where it stands at `now`.
    pub fn gift_cards(&self, now: DateTime<Utc>) -> Result<Vec<GiftCardLine>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        rows::gift_cards(&conn, &org)?.into_iter().map(|g| line(&conn, &org, g, now)).collect()
    }

    /// One card with its movements (and the bookings they paid); `None` when unknown here.
    pub fn gift_card(&self, id: &str, now: DateTime<Utc>) -> Result<Option<GiftCardDetail>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(None) };
        let Some(card) = rows::get(&conn, &org, EntityKind::GiftCard, id)? else { return Ok(None) };
        let card: GiftCard = serde_json::from_value(card)?;
        let movements = rows::gift_card_movements(&conn, &org, &card.id)?
            .into_iter()
            .map(|movement| {
                let pending = rows::pending(&conn, &org, EntityKind::GiftCardMovement, &movement.id)?;
                let booking_reference = match movement.booking_id.as_deref() {
                    Some(b) => rows::booking(&conn, &org, b)?.map(|b| b.reference_number.to_string()),
                    None => None,
                };
                Ok(GiftCardMovementLine { movement, booking_reference, pending })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some(GiftCardDetail { line: line(&conn, &org, card, now)?, movements }))
    }

    /// The cash drawer of the local day `date`, which runs over `[from, until)`: per desk user
    /// and currency, the cash and card-terminal money taken on bookings and for gift cards, what
    /// was given back in cash or on the terminal, and the net of the two.
    pub fn cash_drawer(
        &self,
        date: NaiveDate,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<CashDrawer, StoreError> {
        let me = self.session()?;
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(CashDrawer { date, lines: Vec::new() }) };
        // Stored stamps with fractions of a second sort a little off as text: read a second more
        // on each side and let the domain keep exactly `[from, until)`.
        let pad = chrono::Duration::seconds(1);
        let (lo, hi) = (stamp(from - pad)?, stamp(until + pad)?);
        let entries = rows::ledger_between(&conn, &org, &lo, &hi)?;
        let sales = rows::gift_card_sales_between(&conn, &org, &lo, &hi)?;
        let lines = cash_drawer::summarise(&entries, &sales, from, until);
        let people: std::collections::BTreeSet<String> = lines.iter().map(|l| l.user_id.clone()).collect();
        let guides = rows::names_of_users(&conn, &org, &people)?;
        let lines = lines
            .into_iter()
            .map(|l| {
                let mut user_name = staff_name(me.as_ref(), &guides, &l.user_id);
                if me.as_ref().is_some_and(|s| s.user_id == l.user_id) {
                    user_name.push_str(" (you)");
                }
                CashDrawerLine::new(l, user_name)
            })
            .collect();
        Ok(CashDrawer { date, lines })
    }
}

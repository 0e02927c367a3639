//! Named queries for gift cards (V32, `tourdesk_domain::gift_card`): cards with their running
//! balance and each movement of it, logged to `org:all` only (office desks; a code is worth
//! money).

use deadpool_postgres::GenericClient;
use tourdesk_domain::gift_card::{GiftCard, GiftCardMovement, MovementKind};
use tourdesk_domain::ledger::PaymentMethod;
use tourdesk_domain::money::Currency;
use tourdesk_domain::protocol::{EntityKind, Op};
use tourdesk_domain::replication::RowScope;

use super::{DbError, Prepared, WriteTx, bad_row, written_once};

pub const GIFT_CARD_COLS: &str = "id, organization_id, code, currency, issued_amount, balance, expires_at, \
     purchaser_name, recipient_name, note, issued_by, issued_at, updated_at";

pub const GIFT_CARD_MOVEMENT_COLS: &str = "id, organization_id, gift_card_id, kind, amount_minor, currency, \
     balance_after, booking_id, payment_method, recorded_by, recorded_at";

fn currency_of(v: &str) -> Result<Currency, DbError> {
    Currency::parse(v).map_err(|_| bad_row("currency", v))
}

pub fn gift_card_from_row(r: &tokio_postgres::Row) -> Result<GiftCard, DbError> {
    let currency: String = r.try_get(3)?;
    Ok(GiftCard {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        code: r.try_get(2)?,
        currency: currency_of(&currency)?,
        issued_amount: r.try_get(4)?,
        balance: r.try_get(5)?,
        expires_at: r.try_get(6)?,
        purchaser_name: r.try_get(7)?,
        recipient_name: r.try_get(8)?,
        note: r.try_get(9)?,
        issued_by: r.try_get(10)?,
        issued_at: r.try_get(11)?,
        updated_at: r.try_get(12)?,
    })
}

pub fn gift_card_movement_from_row(r: &tokio_postgres::Row) -> Result<GiftCardMovement, DbError> {
    let kind: String = r.try_get(3)?;
    let currency: String = r.try_get(5)?;
    let method: Option<String> = r.try_get(8)?;
    Ok(GiftCardMovement {
        id: r.try_get(0)?,
        organization_id: r.try_get(1)?,
        gift_card_id: r.try_get(2)?,
        kind: MovementKind::parse(&kind).ok_or_else(|| bad_row("gift card movement kind", &kind))?,
        amount: r.try_get(4)?,
        currency: currency_of(&currency)?,
        balance_after: r.try_get(6)?,
        booking_id: r.try_get(7)?,
        payment_method: method
            .map(|m| PaymentMethod::parse(&m).ok_or_else(|| bad_row("payment method", &m)))
            .transpose()?,
        recorded_by: r.try_get(9)?,
        recorded_at: r.try_get(10)?,
    })
}

/// One card by id, locked to commit when `lock`.
pub async fn gift_card(c: &impl GenericClient, org: &str, id: &str, lock: bool) -> Result<Option<GiftCard>, DbError> {
    let sql = format!(
        "SELECT {GIFT_CARD_COLS} FROM gift_cards WHERE organization_id = $1 AND id = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    c.row_opt(&sql, &[&org, &id]).await?.map(|r| gift_card_from_row(&r)).transpose()
}

/// One card by its normalised code, locked to commit when `lock`: two redemptions of the same
/// card wait for each other here, so the second sees the first's balance.
pub async fn gift_card_by_code(
    c: &impl GenericClient,
    org: &str,
    code: &str,
    lock: bool,
) -> Result<Option<GiftCard>, DbError> {
    let sql = format!(
        "SELECT {GIFT_CARD_COLS} FROM gift_cards WHERE organization_id = $1 AND code = $2{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    c.row_opt(&sql, &[&org, &code]).await?.map(|r| gift_card_from_row(&r)).transpose()
}

/// A card's movements, oldest first.
pub async fn gift_card_movements(
    c: &impl GenericClient,
    org: &str,
    gift_card_id: &str,
) -> Result<Vec<GiftCardMovement>, DbError> {
    let sql = format!(
        "SELECT {GIFT_CARD_MOVEMENT_COLS} FROM gift_card_movements WHERE organization_id = $1 AND gift_card_id = $2
         ORDER BY recorded_at, id"
    );
    c.rows(&sql, &[&org, &gift_card_id]).await?.iter().map(gift_card_movement_from_row).collect()
}

fn office_buckets(org: &str) -> Vec<String> {
    RowScope::Office.buckets(org)
}

/// Writes a card whole: new, or its balance after a redemption (the only field that moves).
pub async fn put_gift_card(w: &WriteTx<'_>, g: &GiftCard) -> Result<(), DbError> {
    let n = w
        .exec(
            "INSERT INTO gift_cards (id, organization_id, code, currency, issued_amount, balance, expires_at,
                                     purchaser_name, recipient_name, note, issued_by, issued_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (id) DO UPDATE SET balance = excluded.balance, updated_at = excluded.updated_at
             WHERE gift_cards.organization_id = excluded.organization_id",
            &[
                &g.id,
                &g.organization_id,
                &g.code,
                &g.currency.as_str(),
                &g.issued_amount,
                &g.balance,
                &g.expires_at,
                &g.purchaser_name,
                &g.recipient_name,
                &g.note,
                &g.issued_by,
                &g.issued_at,
                &g.updated_at,
            ],
        )
        .await?;
    written_once(n, &g.id)?;
    w.log_change(
        &office_buckets(&g.organization_id),
        EntityKind::GiftCard,
        &g.id,
        Op::Put,
        Some(serde_json::to_value(g)?),
    );
    Ok(())
}

/// Records a movement (a fact: written once; a replay never reaches here, the push's dedupe key
/// answers it first).
pub async fn put_gift_card_movement(w: &WriteTx<'_>, m: &GiftCardMovement) -> Result<(), DbError> {
    w.exec(
        "INSERT INTO gift_card_movements (id, organization_id, gift_card_id, kind, amount_minor, currency,
                                          balance_after, booking_id, payment_method, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            &m.id,
            &m.organization_id,
            &m.gift_card_id,
            &m.kind.as_str(),
            &m.amount,
            &m.currency.as_str(),
            &m.balance_after,
            &m.booking_id,
            &m.payment_method.map(|p| p.as_str()),
            &m.recorded_by,
            &m.recorded_at,
        ],
    )
    .await?;
    w.log_change(
        &office_buckets(&m.organization_id),
        EntityKind::GiftCardMovement,
        &m.id,
        Op::Put,
        Some(serde_json::to_value(m)?),
    );
    Ok(())
}

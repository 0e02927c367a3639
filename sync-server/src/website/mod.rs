//! The public booking API's use cases: what customers and the booking site may read and do,
//! without an account. Reads never lock; a booking goes through [`crate::apply`], the same path
//! a desk's booking takes, so the website and the desks obey one set of rules under one set of
//! locks.

pub mod balance;
pub mod bookings;
pub mod cache;
pub mod catalog;
pub mod gift_cards;
pub mod moves;
pub mod types;
pub mod waitlist;

use deadpool_postgres::{Object, Transaction};
use tourdesk_domain::pricing::{DiscountKind, PricingSnapshot};
use tourdesk_domain::validate;

use crate::db::WriteTx;
use crate::{AppError, db};
use types::{DiscountDto, PriceDto, QuoteLineDto, TaxDto};

/// A read-only transaction in `org_slug`'s tenant. Unknown and inactive organizations are a 404,
/// the same answer for both so slugs cannot be probed for suspended customers.
pub(crate) async fn read_tx<'a>(conn: &'a mut Object, org_slug: &str) -> Result<(Transaction<'a>, String), AppError> {
    let slug = parse_slug(org_slug)?;
    let tx = db::read_only(conn).await?;
    let org = db::enter_org_by_slug(&tx, &slug).await?.ok_or_else(|| AppError::NotFound("organization".into()))?;
    Ok((tx, org))
}

/// A writer's transaction in `org_slug`'s tenant.
pub(crate) async fn write_tx<'a>(conn: &'a mut Object, org_slug: &str) -> Result<WriteTx<'a>, AppError> {
    let slug = parse_slug(org_slug)?;
    WriteTx::by_slug(conn.transaction().await?, &slug).await?.ok_or_else(|| AppError::NotFound("organization".into()))
}

/// A slug no organization can have (a NUL, a space, a capital) is the same 404 as an unknown one.
fn parse_slug(org_slug: &str) -> Result<String, AppError> {
    validate::org_slug("org", org_slug).map_err(|_| AppError::NotFound("organization".into()))
}

pub(crate) fn price_dto(s: &PricingSnapshot) -> PriceDto {
    PriceDto {
        lines: s
            .line_items
            .iter()
            .map(|l| QuoteLineDto {
                tier_id: l.pricing_tier_id.clone(),
                tier_name: l.tier_name.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price.into(),
                total: l.total_price.into(),
            })
            .collect(),
        subtotal: s.subtotal.into(),
        discounts: s
            .discounts
            .iter()
            .map(|d| DiscountDto {
                kind: match d.kind {
                    DiscountKind::PromotionalCode => "promotional_code",
                    DiscountKind::EarlyBird => "early_bird",
                    DiscountKind::Group => "group",
                    DiscountKind::Manual => "manual",
                }
                .into(),
                description: d.description.clone(),
                amount: d.amount.into(),
            })
            .collect(),
        taxes: s
            .taxes
            .iter()
            .map(|t| TaxDto {
                name: t.name.clone(),
                rate_bps: u32::try_from(t.rate.basis_points()).unwrap_or(0),
                inclusive: t.inclusive,
                amount: t.amount.into(),
            })
            .collect(),
        total: s.total.into(),
    }
}

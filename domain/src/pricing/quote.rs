//! [`quote`], as the steps of the order of application in the `pricing` module docs: one
//! function per step, called in that order.

use std::collections::BTreeSet;

use super::{
    Adjustment, AppliedDiscount, AppliedSeason, AppliedTax, DiscountKind, LineItem, LineRequest, PricingCatalog,
    PricingError, PricingSnapshot, PromoContext, PromoOutcome, Quote, QuoteRequest, SeasonalAdjustment, Tier,
    days_before, select_season,
};
use crate::money::{Currency, Money, PRICING_ROUNDING, Percent};

/// Prices a request against a tour's catalog. See the module documentation for the order of
/// application. A refused promotional code does not fail the quote: it is reported in
/// [`Quote::promo`] and the price is computed without it.
pub fn quote(catalog: &PricingCatalog, req: &QuoteRequest<'_>) -> Result<Quote, PricingError> {
    let currency = catalog.currency;
    if req.lines.is_empty() {
        return Err(PricingError::NoLines);
    }
    let season = select_season(&catalog.seasons, req.departure_date);
    let offered = catalog.tiers_for(req.variant_id, req.departure_date);

    // Steps 1–3 run line by line, so the first line that cannot be priced is the one reported.
    let mut seen = BTreeSet::new();
    let mut line_items = Vec::with_capacity(req.lines.len());
    for line in req.lines {
        let tier = tier_unit_price(catalog, &offered, req, line, &mut seen)?;
        let unit = seasonal_adjustment(tier.base_price, season)?;
        line_items.push(line_total(tier, line.quantity, unit)?);
    }
    let subtotal = Money::sum(currency, line_items.iter().map(|l| &l.total_price))?;
    let participants: u32 =
        line_items.iter().try_fold(0u32, |acc, l| acc.checked_add(l.quantity)).ok_or(PricingError::Overflow)?;

    let Discounted { discounts, net, promo } = discounts(catalog, req, subtotal, participants)?;
    let taxes = taxes(catalog, net)?;
    let total = total(net, &taxes)?;

    let promotional_code_id = match &promo {
        PromoOutcome::Applied { code_id } => Some(code_id.clone()),
        _ => None,
    };
    Ok(Quote {
        snapshot: PricingSnapshot { line_items, subtotal, discounts, taxes, total, promotional_code_id },
        season: season.map(|s| AppliedSeason { id: s.id.clone(), name: s.name.clone(), adjustment: s.adjustment }),
        promo,
    })
}

/// Step 1: the requested tier, which must be offered for the variant and valid on the
/// departure's date, asked for once, with a sane price and ages it accepts. Its base price is
/// the unit price before the season.
fn tier_unit_price<'c>(
    catalog: &'c PricingCatalog,
    offered: &[&'c Tier],
    req: &QuoteRequest<'_>,
    line: &'c LineRequest,
    seen: &mut BTreeSet<&'c str>,
) -> Result<&'c Tier, PricingError> {
    let currency = catalog.currency;
    let tier_id = line.tier_id.as_str();
    if !seen.insert(tier_id) {
        return Err(PricingError::DuplicateTier { tier_id: tier_id.into() });
    }
    if line.quantity == 0 {
        return Err(PricingError::ZeroQuantity { tier_id: tier_id.into() });
    }
    let tier = match offered.iter().find(|t| t.id == tier_id) {
        Some(t) => *t,
        None => {
            return Err(match catalog.tiers.iter().find(|t| t.id == tier_id) {
                None => PricingError::UnknownTier { tier_id: tier_id.into() },
                Some(t) if !t.valid_on(req.departure_date) => {
                    PricingError::TierNotValidOn { tier_id: tier_id.into(), date: req.departure_date }
                }
                Some(_) => {
                    PricingError::TierNotForVariant { tier_id: tier_id.into(), variant_id: req.variant_id.into() }
                }
            });
        }
    };
    expect_currency(&format!("tier {}", tier.name), currency, tier.base_price)?;
    if tier.base_price.is_negative() {
        return Err(PricingError::NegativeValue { what: format!("the price of tier {}", tier.name) });
    }
    if let Some(min) = tier.min_per_booking
        && line.quantity < min
    {
        return Err(PricingError::BelowTierMinimum { tier_id: tier_id.into(), min, quantity: line.quantity });
    }
    if let Some(max) = tier.max_per_booking
        && line.quantity > max
    {
        return Err(PricingError::AboveTierMaximum { tier_id: tier_id.into(), max, quantity: line.quantity });
    }
    if line.ages.len() > line.quantity as usize {
        return Err(PricingError::TooManyAges {
            tier_id: tier_id.into(),
            ages: line.ages.len(),
            quantity: line.quantity,
        });
    }
    if let Some(&age) = line.ages.iter().find(|&&a| !tier.accepts_age(a)) {
        return Err(PricingError::AgeOutsideTier { tier_id: tier_id.into(), age });
    }
    Ok(tier)
}

/// Step 2: the departure's season (chosen once per quote) adjusts the unit price, never below 0.
fn seasonal_adjustment(unit: Money, season: Option<&SeasonalAdjustment>) -> Result<Money, PricingError> {
    let Some(season) = season else { return Ok(unit) };
    let delta = match season.adjustment {
        Adjustment::Percentage(p) => unit.percent(p, PRICING_ROUNDING)?,
        Adjustment::Fixed(m) => {
            expect_currency(&format!("season {}", season.name), unit.currency, m)?;
            m
        }
    };
    Ok(unit.checked_add(delta)?.non_negative())
}

/// Step 3: unit price × quantity (the subtotal is their sum).
fn line_total(tier: &Tier, quantity: u32, unit: Money) -> Result<LineItem, PricingError> {
    Ok(LineItem {
        pricing_tier_id: tier.id.clone(),
        tier_name: tier.name.clone(),
        quantity,
        unit_price: unit,
        total_price: unit.checked_mul(quantity)?,
    })
}

/// What step 4 leaves: the discounts applied, the amount they leave ("net"), and what became of
/// the promotional code.
struct Discounted {
    discounts: Vec<AppliedDiscount>,
    net: Money,
    promo: PromoOutcome,
}

/// Step 4: group, early bird, promotional code, manual — each on what the ones before it left.
fn discounts(
    catalog: &PricingCatalog,
    req: &QuoteRequest<'_>,
    subtotal: Money,
    participants: u32,
) -> Result<Discounted, PricingError> {
    let mut discounts = Vec::new();
    let mut remaining = subtotal;
    let mut push = |kind: DiscountKind,
                    description: String,
                    adj: &Adjustment,
                    code_id: Option<String>,
                    keep_zero: bool|
     -> Result<(), PricingError> {
        let amount = discount_amount(adj, remaining, &description)?;
        if amount.is_zero() && !keep_zero {
            return Ok(());
        }
        remaining = remaining.checked_sub(amount)?;
        discounts.push(AppliedDiscount { kind, description, amount, code_id });
        Ok(())
    };

    if let Some(g) =
        catalog.group_discounts.iter().filter(|g| participants >= g.min_participants).max_by_key(|g| g.min_participants)
    {
        push(
            DiscountKind::Group,
            format!("Group discount ({}+ participants): {}", g.min_participants, g.discount.describe()),
            &g.discount,
            None,
            false,
        )?;
    }

    let days = days_before(req.quoted_at, req.departure_starts_at);
    if let Some(e) =
        catalog.early_bird_discounts.iter().filter(|e| days >= e.min_days_before).max_by_key(|e| e.min_days_before)
    {
        push(
            DiscountKind::EarlyBird,
            format!("Early bird ({}+ days ahead): {}", e.min_days_before, e.discount.describe()),
            &e.discount,
            None,
            false,
        )?;
    }

    let promo = match req.promo {
        None => PromoOutcome::NotRequested,
        Some(app) => {
            let ctx = PromoContext {
                tour_id: &catalog.tour_id,
                variant_id: req.variant_id,
                at: req.quoted_at,
                subtotal,
                customer_uses: app.customer_uses,
            };
            match app.code.check(&ctx) {
                Err(refusal) => PromoOutcome::Refused { refusal },
                Ok(()) => {
                    push(
                        DiscountKind::PromotionalCode,
                        format!(
                            "Promo code {}: {}",
                            app.code.code.trim().to_ascii_uppercase(),
                            app.code.discount.describe()
                        ),
                        &app.code.discount,
                        Some(app.code.id.clone()),
                        // Kept even at zero: the booking records that the code was used.
                        true,
                    )?;
                    PromoOutcome::Applied { code_id: app.code.id.clone() }
                }
            }
        }
    };

    if let Some(m) = req.manual_discount {
        push(DiscountKind::Manual, m.description.clone(), &m.discount, None, false)?;
    }
    Ok(Discounted { discounts, net: remaining, promo })
}

/// Step 5: every tax on the same net; an inclusive one is reported, an exclusive one added (in
/// step 6).
fn taxes(catalog: &PricingCatalog, net: Money) -> Result<Vec<AppliedTax>, PricingError> {
    let inclusive_bp: i128 =
        catalog.taxes.iter().filter(|t| t.inclusive).map(|t| i128::from(t.rate.basis_points())).sum();
    let mut taxes = Vec::with_capacity(catalog.taxes.len());
    for t in &catalog.taxes {
        if t.rate.is_negative() {
            return Err(PricingError::NegativeValue { what: format!("tax {}", t.name) });
        }
        let amount = if t.inclusive {
            net.ratio(i128::from(t.rate.basis_points()), 10_000 + inclusive_bp, PRICING_ROUNDING)?
        } else {
            net.percent(t.rate, PRICING_ROUNDING)?
        };
        taxes.push(AppliedTax { name: t.name.clone(), rate: t.rate, inclusive: t.inclusive, amount });
    }
    Ok(taxes)
}

/// Step 6: the net plus the exclusive taxes. Never negative, as discounts never exceed the
/// subtotal and taxes are not negative.
fn total(net: Money, taxes: &[AppliedTax]) -> Result<Money, PricingError> {
    let mut total = net;
    for t in taxes.iter().filter(|t| !t.inclusive) {
        total = total.checked_add(t.amount)?;
    }
    Ok(total)
}

fn expect_currency(what: &str, expected: Currency, m: Money) -> Result<(), PricingError> {
    if m.currency == expected {
        Ok(())
    } else {
        Err(PricingError::CurrencyMismatch { what: what.to_string(), expected, found: m.currency })
    }
}

/// The amount `adj` takes off `remaining`, never more than `remaining` and never negative.
fn discount_amount(adj: &Adjustment, remaining: Money, what: &str) -> Result<Money, PricingError> {
    let raw = match adj {
        Adjustment::Percentage(p) => {
            if p.is_negative() {
                return Err(PricingError::NegativeValue { what: what.into() });
            }
            remaining.percent((*p).min(Percent::HUNDRED), PRICING_ROUNDING)?
        }
        Adjustment::Fixed(m) => {
            expect_currency(what, remaining.currency, *m)?;
            if m.is_negative() {
                return Err(PricingError::NegativeValue { what: what.into() });
            }
            *m
        }
    };
    Ok(raw.checked_min(remaining)?.non_negative())
}

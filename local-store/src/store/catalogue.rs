//! The pricing catalogue on the desk: read models for the promo codes, taxes and policies
//! screens and a tour's pricing tab, and the desk's quote — priced from the replica with the
//! same catalogue (`catalogue::pricing_catalog`) and promo rules the server uses, so the total a
//! desk shows is the total the server charges.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use tourdesk_domain::catalogue::{
    CancellationPolicyRow, CatalogueRow, PromotionalCode, QuoteInput, TaxRate, TourPricingView, sort_taxes,
};
use tourdesk_domain::mutation::Rejection;
use tourdesk_domain::pricing::{
    self, PricingCatalog, PromoApplication, PromoOutcome, PromoRefusal, Quote, QuoteRequest, normalize_promo_code,
};
use tourdesk_domain::protocol::EntityKind;

use super::write::{pricing_catalog, promo_code, promo_uses};
use super::{Store, session_org};
use crate::rows::catalogue_rows as all;
use crate::{StoreError, rows};

impl Store {
    /// Everything that prices a tour on this desk; `None` before it has a price.
    pub fn pricing_catalog(&self, tour_id: &str) -> Result<Option<PricingCatalog>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(None) };
        pricing_catalog(&conn, &org, tour_id)
    }

    /// A tour's seasons, FAQs, inclusions, policies and taxes, in display order.
    pub fn tour_pricing(&self, tour_id: &str) -> Result<TourPricingView, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(TourPricingView::default()) };
        let mut view = TourPricingView::default();
        for r in
            all(&conn, &org, EntityKind::Season, "tour_id = ?2 ORDER BY start_date, priority DESC, id", &[&tour_id])?
        {
            if let CatalogueRow::Season(s) = r {
                view.seasons.push(s);
            }
        }
        for r in all(&conn, &org, EntityKind::TourFaq, "tour_id = ?2 ORDER BY sort_order, id", &[&tour_id])? {
            if let CatalogueRow::TourFaq(f) = r {
                view.faqs.push(f);
            }
        }
        for r in all(&conn, &org, EntityKind::TourInclusion, "tour_id = ?2 ORDER BY kind, sort_order, id", &[&tour_id])?
        {
            if let CatalogueRow::TourInclusion(i) = r {
                view.inclusions.push(i);
            }
        }
        for r in all(&conn, &org, EntityKind::GroupDiscount, "tour_id = ?2 ORDER BY min_participants, id", &[&tour_id])?
        {
            if let CatalogueRow::GroupDiscount(g) = r {
                view.group_discounts.push(g);
            }
        }
        for r in
            all(&conn, &org, EntityKind::EarlyBirdDiscount, "tour_id = ?2 ORDER BY min_days_before, id", &[&tour_id])?
        {
            if let CatalogueRow::EarlyBirdDiscount(e) = r {
                view.early_bird_discounts.push(e);
            }
        }
        for p in policies(&conn, &org)? {
            if p.tour_id.as_deref() == Some(tour_id) {
                view.own_policy = Some(p);
            } else {
                if p.is_default && view.default_policy.is_none() {
                    view.default_policy = Some(p.clone());
                }
                if p.tour_id.is_none() {
                    view.shared_policies.push(p);
                }
            }
        }
        view.shared_policies.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        view.chosen_policy_id = rows::tour(&conn, &org, tour_id)?.and_then(|t| t.cancellation_policy_id);
        view.taxes = tax_rates(&conn, &org)?
            .into_iter()
            .filter(|t| t.tour_id.as_deref().is_none_or(|id| id == tour_id))
            .collect();
        Ok(view)
    }

    /// The organization's promo codes, by code. Empty on a guide's device, which never holds one.
    pub fn promo_codes(&self) -> Result<Vec<PromotionalCode>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        Ok(all(&conn, &org, EntityKind::PromoCode, "1 = 1 ORDER BY upper(code), id", &[])?
            .into_iter()
            .filter_map(|r| match r {
                CatalogueRow::PromoCode(p) => Some(p),
                _ => None,
            })
            .collect())
    }

    /// Every tax rate, the organization's and the tours' own, in the order they apply.
    pub fn tax_rates(&self) -> Result<Vec<TaxRate>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        tax_rates(&conn, &org)
    }

    /// Every cancellation policy: the default first, then by name.
    pub fn cancellation_policies(&self) -> Result<Vec<CancellationPolicyRow>, StoreError> {
        let conn = self.conn();
        let Some(org) = session_org(&conn)? else { return Ok(Vec::new()) };
        let mut out = policies(&conn, &org)?;
        out.sort_by(|a, b| {
            b.is_default.cmp(&a.is_default).then_with(|| a.name.cmp(&b.name)).then_with(|| a.id.cmp(&b.id))
        });
        Ok(out)
    }

    /// The price of a booking request as the desk sees it at `at`: the departure's tour priced
    /// with its replicated catalogue, the code checked against the replicated code and the
    /// customer's bookings with it. A code this desk does not hold is refused as unknown, as the
    /// server refuses an unknown code. Errors: the departure is unknown, the tour has no price,
    /// or the request cannot be priced (the domain's pricing error).
    pub fn quote(&self, input: &QuoteInput, at: DateTime<Utc>) -> Result<Quote, StoreError> {
        let conn = self.conn();
        let org = session_org(&conn)?.ok_or_else(|| StoreError::Corrupt("no session".into()))?;
        let dep: tourdesk_domain::Departure = rows::get(&conn, &org, EntityKind::Departure, &input.departure_id)?
            .map(serde_json::from_value)
            .transpose()?
            .ok_or_else(|| {
                StoreError::Rejected(Rejection::NotFound { entity: "departure".into(), id: input.departure_id.clone() })
            })?;
        let catalog = pricing_catalog(&conn, &org, &dep.tour_id)?.ok_or_else(|| {
            StoreError::Rejected(Rejection::Conflict {
                field: "departure_id".into(),
                message: "this tour has no prices yet".into(),
            })
        })?;
        let code = match input.promo_code.as_deref() {
            Some(c) => normalize_promo_code("promo_code", c).map_err(|e| StoreError::Rejected(e.into()))?,
            None => None,
        };
        let promo = match &code {
            Some(c) => promo_code(&conn, &org, c)?.map(|p| p.to_promo()),
            None => None,
        };
        let uses = match (&code, &input.customer_id) {
            (Some(c), Some(customer)) => promo_uses(&conn, &org, c, customer)?,
            _ => 0,
        };
        let mut q = pricing::quote(
            &catalog,
            &QuoteRequest {
                variant_id: &dep.variant_id,
                departure_date: dep.local_date,
                departure_starts_at: dep.starts_at,
                quoted_at: at,
                lines: &input.lines,
                promo: promo.as_ref().map(|code| PromoApplication { code, customer_uses: uses }),
                manual_discount: None,
            },
        )
        .map_err(|error| StoreError::Rejected(Rejection::PricingError { error }))?;
        if code.is_some() && promo.is_none() {
            q.promo = PromoOutcome::Refused { refusal: PromoRefusal::NotFound };
        }
        Ok(q)
    }
}

fn tax_rates(c: &Connection, org: &str) -> Result<Vec<TaxRate>, StoreError> {
    let mut out: Vec<TaxRate> = all(c, org, EntityKind::TaxRate, "1 = 1", &[])?
        .into_iter()
        .filter_map(|r| match r {
            CatalogueRow::TaxRate(t) => Some(t),
            _ => None,
        })
        .collect();
    sort_taxes(&mut out);
    Ok(out)
}

fn policies(c: &Connection, org: &str) -> Result<Vec<CancellationPolicyRow>, StoreError> {
    Ok(all(c, org, EntityKind::CancellationPolicy, "1 = 1 ORDER BY id", &[])?
        .into_iter()
        .filter_map(|r| match r {
            CatalogueRow::CancellationPolicy(p) => Some(p),
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests;

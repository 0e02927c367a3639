//! What the public booking site reads: tours, their availability with prices, and quotes.
//! Prices, seasons, discounts and time zones are the domain's (`pricing::quote`); this module
//! only loads rows, asks, and shapes the answer. Nothing here locks a row.

use chrono::Utc;
use chrono_tz::Tz;
use deadpool_postgres::{GenericClient, Transaction};
use std::collections::HashMap;
use std::sync::Arc;

use tokio_postgres::types::ToSql;
use tourdesk_domain::catalogue::{CatalogueRow, InclusionKind};
use tourdesk_domain::entities::{Departure, PricingTier, TourVariant};
use tourdesk_domain::offer;
use tourdesk_domain::pricing::{self, LineRequest, PricingCatalog, PromoApplication, PromoOutcome, QuoteRequest};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::{Tour, validate};

use super::types::*;
use super::{cache, price_dto, read_tx};
use crate::db::Prepared;
use crate::{AppError, AppState, db, reviews};

/// How many days one availability request may span: a quarter is what a calendar shows.
pub const MAX_RANGE_DAYS: i64 = 92;

pub async fn tours(state: &AppState, org_slug: &str) -> Result<Vec<TourSummary>, AppError> {
    let mut conn = state.pool.get().await?;
    let (tx, org) = read_tx(&mut conn, org_slug).await?;
    // Candidates: every tour and every tier; the domain says which tours are on sale and from what.
    let tours_sql = format!("SELECT {} FROM tours WHERE organization_id = $1 ORDER BY name, id", db::TOUR_COLS);
    let tiers_sql = format!("SELECT {} FROM pricing_tiers WHERE organization_id = $1", db::TIER_COLS);
    let params: [&(dyn ToSql + Sync); 1] = [&org];
    let (tours, tiers) = tokio::join!(tx.rows(&tours_sql, &params), tx.rows(&tiers_sql, &params));
    let (tours, tiers) = db::all2(tours, tiers)?;
    let mut tiers_of: HashMap<String, Vec<PricingTier>> = HashMap::new();
    for r in &tiers {
        let t = db::tier_from_row(r)?;
        tiers_of.entry(t.tour_id.clone()).or_default().push(t);
    }
    let mut out = Vec::with_capacity(tours.len());
    for r in &tours {
        let tour = db::tour_from_row(r)?;
        if !offer::tour_on_sale(&tour) {
            continue;
        }
        let from = tiers_of.get(&tour.id).and_then(|t| offer::from_price(t)).map(MoneyDto::from);
        out.push(summary(&tour, from));
    }
    tx.commit().await?;
    Ok(out)
}

fn summary(t: &Tour, from_price: Option<MoneyDto>) -> TourSummary {
    TourSummary {
        id: t.id.clone(),
        slug: t.slug.clone(),
        name: t.name.clone(),
        short_description: t.short_description.clone(),
        category: t.category.as_str().to_string(),
        duration_minutes: t.duration_minutes,
        timezone: t.timezone.clone(),
        meeting_point: t.meeting_point.clone(),
        from_price,
    }
}

/// An active tour by slug or id; drafts and archived tours are not public.
async fn active_tour(c: &impl GenericClient, org: &str, key: &str) -> Result<Tour, AppError> {
    // Text no slug or id can be (a NUL, a space) is the 404 it would be, without a query.
    let key = validate::row_ref("tour", key).map_err(|_| AppError::NotFound("tour".into()))?;
    let sql = format!("SELECT {} FROM tours WHERE organization_id = $1 AND (slug = $2 OR id = $2)", db::TOUR_COLS);
    let row = c.row_opt(&sql, &[&org, &key]).await?;
    let tour = row.map(|r| db::tour_from_row(&r)).transpose()?;
    match tour {
        Some(t) if offer::tour_on_sale(&t) => Ok(t),
        _ => Err(AppError::NotFound("tour".into())),
    }
}

/// A tour on sale with everything its page shows; from this instance's cache when nothing of the
/// organization changed since it was read ([`super::cache`]).
pub async fn tour(state: &AppState, org_slug: &str, key: &str) -> Result<Arc<TourDetail>, AppError> {
    if !state.catalogue.enabled() {
        let mut conn = state.pool.get().await?;
        let (tx, org) = read_tx(&mut conn, org_slug).await?;
        let detail = read_tour(&tx, &org, key).await?;
        tx.commit().await?;
        return Ok(Arc::new(detail));
    }
    let v = cache::current(state, org_slug).await?;
    let k = cache::TourKey { org: v.id, tour: key.to_string() };
    if let Some(hit) = state.catalogue.tour(&k, v.seq) {
        return Ok(hit);
    }
    let mut conn = state.pool.get().await?;
    let (tx, org) = read_tx(&mut conn, org_slug).await?;
    let detail = Arc::new(read_tour(&tx, &org, key).await?);
    tx.commit().await?;
    state.catalogue.put_tour(k, v.seq, detail.clone());
    Ok(detail)
}

/// What the tour page shows: the tour on sale and its approved reviews. Each comes from this
/// instance's cache while the organization's counter reads as it did when it was read; what is
/// missing is read in one transaction.
pub async fn tour_page(
    state: &AppState,
    org_slug: &str,
    key: &str,
) -> Result<(Arc<TourDetail>, Arc<reviews::TourReviews>), AppError> {
    let v = if state.catalogue.enabled() { Some(cache::current(state, org_slug).await?) } else { None };
    let tour_key = v.as_ref().map(|v| cache::TourKey { org: v.id.clone(), tour: key.to_string() });
    let cached = match (&v, &tour_key) {
        (Some(v), Some(k)) => state.catalogue.tour(k, v.seq),
        _ => None,
    };
    let reviews_key =
        |v: &cache::OrgVersion, d: &TourDetail| cache::TourKey { org: v.id.clone(), tour: d.tour.id.clone() };
    if let (Some(v), Some(d)) = (&v, &cached)
        && let Some(r) = state.catalogue.reviews(&reviews_key(v, d), v.seq)
    {
        return Ok((d.clone(), r));
    }
    let mut conn = state.pool.get().await?;
    let (tx, org) = read_tx(&mut conn, org_slug).await?;
    let detail = match cached {
        Some(d) => d,
        None => Arc::new(read_tour(&tx, &org, key).await?),
    };
    let published = Arc::new(reviews::published(&tx, &org, &detail.tour.id).await?);
    tx.commit().await?;
    if let (Some(v), Some(k)) = (&v, tour_key) {
        state.catalogue.put_tour(k, v.seq, detail.clone());
        state.catalogue.put_reviews(reviews_key(v, &detail), v.seq, published.clone());
    }
    Ok((detail, published))
}

/// A tour on sale with everything its page shows, read in the organization's transaction `tx`.
async fn read_tour(tx: &Transaction<'_>, org: &str, key: &str) -> Result<TourDetail, AppError> {
    let tour = active_tour(tx, org, key).await?;
    let variants = tx
        .rows(
            &format!(
                "SELECT {} FROM tour_variants WHERE organization_id = $1 AND tour_id = $2 AND active
                 ORDER BY sort_order, name, id",
                db::VARIANT_COLS
            ),
            &[&org, &tour.id],
        )
        .await?
        .iter()
        .map(db::variant_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let catalog = db::pricing_catalog_unlocked(tx, org, &tour.id).await?;
    let policy = db::cancellation_policy_unlocked(tx, org, &tour.id).await?;
    let faqs = db::ordered_rows_of_tour(tx, org, EntityKind::TourFaq, &tour.id).await?;
    let inclusions = db::ordered_rows_of_tour(tx, org, EntityKind::TourInclusion, &tour.id).await?;
    let updated_at: chrono::DateTime<Utc> = db::column(
        &tx.row("SELECT updated_at FROM tours WHERE organization_id = $1 AND id = $2", &[&org, &tour.id]).await?,
        0,
    )?;
    let (mut included, mut not_included) = (Vec::new(), Vec::new());
    for row in inclusions {
        if let CatalogueRow::TourInclusion(i) = row {
            let line = InclusionDto { text: i.text, icon: i.icon };
            match i.kind {
                InclusionKind::Inclusion => included.push(line),
                InclusionKind::Exclusion => not_included.push(line),
            }
        }
    }
    let faqs = faqs
        .into_iter()
        .filter_map(|row| match row {
            CatalogueRow::TourFaq(f) if f.is_published => Some(FaqDto { question: f.question, answer: f.answer }),
            _ => None,
        })
        .collect();
    let tiers = catalog.map(|c| c.tiers).unwrap_or_default();
    let from = offer::from_price(&tiers).map(MoneyDto::from);
    Ok(TourDetail {
        tour: summary(&tour, from),
        min_participants: tour.min_participants,
        variants: variants
            .into_iter()
            .map(|v| VariantDto {
                capacity: v.capacity.unwrap_or(tour.default_capacity),
                duration_minutes: v.duration_minutes.unwrap_or(tour.duration_minutes),
                id: v.id,
                name: v.name,
            })
            .collect(),
        tiers: tiers
            .into_iter()
            .map(|t| TierDto {
                id: t.id,
                variant_id: t.variant_id,
                name: t.name,
                base_price: t.base_price.into(),
                min_age: t.min_age,
                max_age: t.max_age,
                min_per_booking: t.min_per_booking,
                max_per_booking: t.max_per_booking,
            })
            .collect(),
        cancellation_policy: policy.map(|p| PolicyDto {
            name: p.name,
            rules: p
                .rules
                .into_iter()
                .map(|r| PolicyRuleDto {
                    hours_before_tour: r.hours_before_tour,
                    refund_percentage: r.refund_percentage,
                })
                .collect(),
        }),
        meeting_point: MeetingPointDto {
            name: tour.meeting_point,
            address: tour.meeting_point_address,
            lat: tour.meeting_point_lat,
            lng: tour.meeting_point_lng,
            instructions: tour.meeting_point_instructions,
        },
        full_description: tour.full_description,
        tags: tour.tags,
        languages: tour.languages,
        accessibility_info: tour.accessibility_info,
        what_to_bring: tour.what_to_bring,
        highlights: tour.highlights,
        faqs,
        included,
        not_included,
        updated_at,
    })
}

/// The tours on sale and when each last changed, for the sitemap.
pub async fn sitemap(state: &AppState, org_slug: &str) -> Result<Vec<(String, chrono::DateTime<Utc>)>, AppError> {
    let mut conn = state.pool.get().await?;
    let (tx, org) = read_tx(&mut conn, org_slug).await?;
    let sql = format!("SELECT {}, updated_at FROM tours WHERE organization_id = $1 ORDER BY slug", db::TOUR_COLS);
    let rows = tx.rows(&sql, &[&org]).await?;
    let mut out = Vec::new();
    for r in &rows {
        let tour = db::tour_from_row(r)?;
        if offer::tour_on_sale(&tour) {
            out.push((tour.slug, db::column(r, db::TOUR_COL_COUNT)?));
        }
    }
    tx.commit().await?;
    Ok(out)
}

/// The slugs of the organizations whose sites are public (V24), for the sitemap index.
pub async fn public_organizations(state: &AppState) -> Result<Vec<String>, AppError> {
    let conn = state.pool.get().await?;
    Ok(db::orgs_with(&conn, "tourdesk_public_org_slugs", &[]).await?)
}

/// A tour's listed departures between two local dates with seats and per-tier prices; from this
/// instance's cache when nothing of the organization changed since it was read ([`super::cache`]):
/// a seat count is never older than the last committed change, on any instance.
pub async fn availability(
    state: &AppState,
    org_slug: &str,
    key: &str,
    q: &AvailabilityQuery,
) -> Result<Arc<Availability>, AppError> {
    if !state.catalogue.enabled() {
        return Ok(Arc::new(read_availability(state, org_slug, key, q).await?));
    }
    check_range(q)?;
    let v = cache::current(state, org_slug).await?;
    let k = cache::AvailabilityKey {
        org: v.id,
        tour: key.to_string(),
        from: q.from,
        to: q.to,
        variant: q.variant_id.clone().filter(|v| !v.trim().is_empty()),
    };
    if let Some(hit) = state.catalogue.availability(&k, v.seq) {
        return Ok(hit);
    }
    let a = Arc::new(read_availability(state, org_slug, key, q).await?);
    state.catalogue.put_availability(k, v.seq, a.clone());
    Ok(a)
}

fn check_range(q: &AvailabilityQuery) -> Result<(), AppError> {
    if q.to < q.from {
        return Err(AppError::invalid("to", "must not be before `from`"));
    }
    if (q.to - q.from).num_days() >= MAX_RANGE_DAYS {
        return Err(AppError::invalid("to", format!("a request spans at most {MAX_RANGE_DAYS} days")));
    }
    Ok(())
}

async fn read_availability(
    state: &AppState,
    org_slug: &str,
    key: &str,
    q: &AvailabilityQuery,
) -> Result<Availability, AppError> {
    if q.to < q.from {
        return Err(AppError::invalid("to", "must not be before `from`"));
    }
    if (q.to - q.from).num_days() >= MAX_RANGE_DAYS {
        return Err(AppError::invalid("to", format!("a request spans at most {MAX_RANGE_DAYS} days")));
    }
    // `variant_id=` (blank) is no filter, as if it were not sent.
    let variant = q
        .variant_id
        .as_deref()
        .filter(|v| !v.trim().is_empty())
        .map(|v| validate::row_ref("variant_id", v))
        .transpose()?;
    let mut conn = state.pool.get().await?;
    let (tx, org) = read_tx(&mut conn, org_slug).await?;
    let tour = active_tour(&tx, &org, key).await?;
    // Candidates: the tour's departures in the range and its variants; `offer::departure_listed`
    // says which the public sees.
    let departures_sql = format!(
        "SELECT {} FROM schedules s
         WHERE s.organization_id = $1 AND s.tour_id = $2 AND s.local_date BETWEEN $3 AND $4
           AND ($5::text IS NULL OR s.variant_id = $5)
         ORDER BY s.starts_at, s.id",
        db::DEPARTURE_COLS
    );
    let variants_sql =
        format!("SELECT {} FROM tour_variants WHERE organization_id = $1 AND tour_id = $2", db::VARIANT_COLS);
    let departure_params: [&(dyn ToSql + Sync); 5] = [&org, &tour.id, &q.from, &q.to, &variant];
    let variant_params: [&(dyn ToSql + Sync); 2] = [&org, &tour.id];
    let (rows, variants) =
        tokio::join!(tx.rows(&departures_sql, &departure_params), tx.rows(&variants_sql, &variant_params));
    let (rows, variants) = db::all2(rows, variants)?;
    let variants = variants.iter().map(db::variant_from_row).collect::<Result<Vec<TourVariant>, _>>()?;
    let now = Utc::now();
    let mut departures = Vec::with_capacity(rows.len());
    for r in &rows {
        let d = db::departure_from_row(r)?;
        if variants.iter().any(|v| offer::departure_listed(&d, v, now)) {
            departures.push(d);
        }
    }
    let catalog = db::pricing_catalog_unlocked(&tx, &org, &tour.id).await?;
    tx.commit().await?;
    let out = departures.iter().map(|d| available(d, catalog.as_ref())).collect::<Result<Vec<_>, AppError>>()?;
    Ok(Availability { tour_id: tour.id, timezone: tour.timezone, departures: out })
}

fn available(d: &Departure, catalog: Option<&PricingCatalog>) -> Result<AvailableDeparture, AppError> {
    let tz: Tz = d.timezone.parse().map_err(|_| db::DbError::bad_value("zone", &d.timezone))?;
    let start = d.starts_at.with_timezone(&tz);
    let end = d.ends_at.with_timezone(&tz);
    let mut prices = Vec::new();
    let mut season = None;
    if let Some(catalog) = catalog {
        for tier in catalog.tiers_for(&d.variant_id, d.local_date) {
            let lines = [LineRequest { tier_id: tier.id.clone(), quantity: 1, ages: vec![] }];
            let req = QuoteRequest {
                variant_id: &d.variant_id,
                departure_date: d.local_date,
                departure_starts_at: d.starts_at,
                quoted_at: Utc::now(),
                lines: &lines,
                promo: None,
                manual_discount: None,
            };
            // A tier the domain will not price for this departure is simply not offered on it.
            let Ok(q) = pricing::quote(catalog, &req) else { continue };
            let Some(line) = q.snapshot.line_items.first() else { continue };
            season = season.or(q.season.map(|s| s.name));
            prices.push(TierPrice { tier_id: tier.id.clone(), name: tier.name.clone(), price: line.unit_price.into() });
        }
    }
    Ok(AvailableDeparture {
        id: d.id.clone(),
        variant_id: d.variant_id.clone(),
        date: d.local_date,
        start_time: start.format("%H:%M").to_string(),
        end_time: end.format("%H:%M").to_string(),
        timezone: d.timezone.clone(),
        utc_offset: start.format("%:z").to_string(),
        starts_at: d.starts_at,
        ends_at: d.ends_at,
        seats_left: offer::seats_for_sale(d),
        status: d.status.as_str().to_string(),
        season,
        prices,
    })
}

pub async fn quote(state: &AppState, org_slug: &str, req: &super::types::QuoteRequest) -> Result<QuoteDto, AppError> {
    let departure_id = validate::row_ref("departure_id", &req.departure_id)?;
    let email = req.email.as_deref().map(|e| validate::email("email", e)).transpose()?;
    let lines = line_requests(&req.lines)?;
    let code = req.promo_code.as_deref().map(|c| pricing::normalize_promo_code("promo_code", c)).transpose()?.flatten();
    let mut conn = state.pool.get().await?;
    let (tx, org) = read_tx(&mut conn, org_slug).await?;
    let quote = quote_in(&tx, &org, &departure_id, &lines, code, email.as_deref()).await?;
    tx.commit().await?;
    Ok(quote)
}

async fn quote_in(
    tx: &Transaction<'_>,
    org: &str,
    departure_id: &str,
    lines: &[LineRequest],
    code: Option<String>,
    email: Option<&str>,
) -> Result<QuoteDto, AppError> {
    let dep = db::departure(tx, org, departure_id).await?.ok_or_else(|| AppError::NotFound("departure".into()))?;
    active_tour(tx, org, &dep.tour_id).await?;
    let catalog = db::pricing_catalog_unlocked(tx, org, &dep.tour_id)
        .await?
        .ok_or_else(|| AppError::conflict("NOT_BOOKABLE", "this tour has no prices yet"))?;
    let promo = match &code {
        None => None,
        Some(c) => db::promo_code_unlocked(tx, org, c).await?,
    };
    let uses = match (&promo, &code, email) {
        (Some(_), Some(code), Some(email)) => match db::customer_id_by_email(tx, org, email).await? {
            Some(customer) => db::promo_uses(tx, org, code, &customer).await?,
            None => 0,
        },
        _ => 0,
    };
    let q = pricing::quote(
        &catalog,
        &QuoteRequest {
            variant_id: &dep.variant_id,
            departure_date: dep.local_date,
            departure_starts_at: dep.starts_at,
            quoted_at: Utc::now(),
            lines,
            promo: promo.as_ref().map(|code| PromoApplication { code, customer_uses: uses }),
            manual_discount: None,
        },
    )
    .map_err(|e| AppError::invalid("lines", e.to_string()))?;
    let promo = match (&code, &promo, &q.promo) {
        (None, _, _) => PromoDto { status: "not_requested".into(), message: None, reason: None },
        (Some(_), None, _) => refused(&pricing::PromoRefusal::NotFound),
        (Some(_), Some(_), PromoOutcome::Refused { refusal }) => refused(refusal),
        (Some(_), Some(_), _) => PromoDto { status: "applied".into(), message: None, reason: None },
    };
    Ok(QuoteDto { price: price_dto(&q.snapshot), season: q.season.map(|s| s.name), promo })
}

fn refused(r: &pricing::PromoRefusal) -> PromoDto {
    PromoDto { status: "refused".into(), message: Some(r.to_string()), reason: Some(r.code().into()) }
}

/// The request's lines as the domain takes them; shape errors name the line.
pub fn line_requests(lines: &[LineDto]) -> Result<Vec<LineRequest>, AppError> {
    // The same limits as every other source's, from the domain.
    validate::booking_lines(&lines.iter().map(|l| l.quantity).collect::<Vec<_>>())?;
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let tier_id = validate::row_ref(&format!("lines[{i}].tier_id"), &l.tier_id)?;
            Ok(LineRequest {
                tier_id,
                quantity: l.quantity,
                ages: l.participants.iter().filter_map(|p| p.age).collect(),
            })
        })
        .collect()
}

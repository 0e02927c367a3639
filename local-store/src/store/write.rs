//! The write path: a mutation decided on the replica's rows and written as pending rows with
//! its outbox entry, in one transaction; and the conflict inbox's actions (dismissing a
//! rejection, queueing a follow-up to a rejected booking).

use chrono::{NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tourdesk_domain::Departure;
use tourdesk_domain::cancellation::CancellationPolicy;
use tourdesk_domain::catalogue::{self, CancellationPolicyRow, CatalogueRow, PromotionalCode, Season, TaxRate};
use tourdesk_domain::entities::{DepartureGuide, WaitlistLine};
use tourdesk_domain::guides::ExistingAssignment;
use tourdesk_domain::hlc::Hlc;
use tourdesk_domain::mutation::{
    AddToWaitlistV1, ApplyError, Change, CreateBookingV1, FetchReads, Fetched, Mutation, OverbookArgs, Read, ReadKey,
    Rejection, StoreFault,
};
use tourdesk_domain::pricing::{PricingCatalog, normalize_promo_code};
use tourdesk_domain::protocol::{EntityKind, OutcomeStatus};

use super::read::{tiers_of, variants_of};
use super::{CREATE_BOOKING, Store};
use crate::{StoreError, rows};

impl Store {
    /// Runs a mutation optimistically: its changes and its outbox entry are written in one
    /// transaction, so the local view and the queue of work to push can never disagree.
    pub fn mutate(&self, m: &Mutation) -> Result<u64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let id = self.enqueue(&tx, m)?;
        tx.commit()?;
        Ok(id)
    }

    /// Applies `m` to the local rows and appends it to the outbox, inside the caller's
    /// transaction. Returns its mutation id.
    fn enqueue(&self, tx: &Connection, m: &Mutation) -> Result<u64, StoreError> {
        let ctx = self.ctx(tx)?;
        let changes = m.run(&Replica { c: tx, org: &ctx.organization_id }, &ctx).map_err(|e| match e {
            ApplyError::Rejected(r) => StoreError::Rejected(r),
            ApplyError::Store(f) => StoreError::Corrupt(f.0),
        })?;
        write_optimistic(tx, &ctx.organization_id, &changes)?;
        let next: Option<String> =
            tx.query_row("SELECT value FROM meta WHERE key = 'next_mutation_id'", [], |r| r.get(0)).optional()?;
        let id: u64 =
            next.map(|s| s.parse::<u64>()).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?.unwrap_or(1);
        let now = Utc::now();
        // Wall clock, then mutation id, then client id as the tie-break.
        let hlc = Hlc::at(now, id, self.client_id());
        tx.execute(
            "INSERT INTO outbox (mutation_id, name, args, hlc, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, m.name(), m.args().to_string(), hlc.to_string(), now.to_rfc3339()],
        )?;
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('next_mutation_id', ?1)", [(id + 1).to_string()])?;
        Ok(id)
    }

    pub fn acknowledge(&self, mutation_id: u64) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute("UPDATE mutation_outcome SET acknowledged = 1 WHERE mutation_id = ?1", [mutation_id])?;
        Ok(n == 1)
    }

    /// Books the rejected booking again on another departure of the same tour, as a new booking
    /// (a new id; the same reference, which the rejected one never took), and dismisses the
    /// rejection in the same transaction. An override of the original is not carried over.
    pub fn retry_booking_on(&self, mutation_id: u64, departure_id: &str) -> Result<u64, StoreError> {
        self.act_on_rejected_booking(mutation_id, |mut a| {
            a.id = uuid::Uuid::new_v4().to_string();
            a.departure_id = departure_id.to_string();
            a.overbook = None;
            Mutation::CreateBookingV1(a)
        })
    }

    /// Books the rejected booking on the same departure past its capacity. The domain rejects
    /// this for roles without `Permission::Overbook`, here and on the server, which audits it.
    pub fn overbook_booking(&self, mutation_id: u64, reason: &str) -> Result<u64, StoreError> {
        self.act_on_rejected_booking(mutation_id, |mut a| {
            a.id = uuid::Uuid::new_v4().to_string();
            a.overbook = Some(OverbookArgs { reason: reason.to_string() });
            Mutation::CreateBookingV1(a)
        })
    }

    /// Puts the rejected booking's customer and seats on the departure's waitlist.
    pub fn waitlist_booking(&self, mutation_id: u64) -> Result<u64, StoreError> {
        self.act_on_rejected_booking(mutation_id, |a| {
            Mutation::AddToWaitlistV1(AddToWaitlistV1 {
                id: uuid::Uuid::new_v4().to_string(),
                tour_id: a.tour_id,
                departure_id: a.departure_id,
                customer_id: a.customer_id,
                lines: a.lines.into_iter().map(|l| WaitlistLine { tier_id: l.tier_id, quantity: l.quantity }).collect(),
                notes: a.special_requests,
            })
        })
    }

    /// Enqueues the mutation `make` builds from a rejected `create_booking.v1` and acknowledges
    /// the rejection, in one transaction: the follow-up is queued exactly when the rejection
    /// leaves the inbox. A follow-up the domain rejects locally leaves both as they were.
    fn act_on_rejected_booking(
        &self,
        mutation_id: u64,
        make: impl FnOnce(CreateBookingV1) -> Mutation,
    ) -> Result<u64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let args: Option<String> = tx
            .query_row(
                "SELECT args FROM mutation_outcome
                 WHERE mutation_id = ?1 AND status = ?3 AND acknowledged = 0 AND name = ?2",
                params![mutation_id, CREATE_BOOKING, OutcomeStatus::Rejected.as_str()],
                |r| r.get(0),
            )
            .optional()?;
        let args = args.ok_or_else(|| {
            StoreError::Rejected(Rejection::NotFound { entity: "refused booking".into(), id: mutation_id.to_string() })
        })?;
        let m = make(serde_json::from_str(&args)?);
        let id = self.enqueue(&tx, &m)?;
        tx.execute("UPDATE mutation_outcome SET acknowledged = 1 WHERE mutation_id = ?1", [mutation_id])?;
        tx.commit()?;
        Ok(id)
    }
}

/// Writes a mutation's changes as pending rows, first saving the server version of each row
/// (or its absence) so a rebase can restore it.
pub(super) fn write_optimistic(tx: &Connection, org: &str, changes: &[Change]) -> Result<(), StoreError> {
    // `None` deletes the row.
    let mut rows_to_write: Vec<(EntityKind, &str, Option<serde_json::Value>)> = Vec::with_capacity(changes.len());
    for ch in changes {
        let (kind, id, row): (EntityKind, &str, Option<serde_json::Value>) = match ch {
            Change::PutTour(t) => (EntityKind::Tour, &t.id, Some(serde_json::to_value(t)?)),
            Change::PutVariant(v) => (EntityKind::TourVariant, &v.id, Some(serde_json::to_value(v)?)),
            Change::PutPricingTier(t) => (EntityKind::PricingTier, &t.id, Some(serde_json::to_value(t)?)),
            Change::PutDeparture(d) => (EntityKind::Departure, &d.id, Some(serde_json::to_value(d)?)),
            Change::PutBooking(b) => (EntityKind::Booking, &b.id, Some(serde_json::to_value(b)?)),
            Change::PutCustomer(c) => (EntityKind::Customer, &c.id, Some(serde_json::to_value(c)?)),
            Change::PutCheckIn(c) => (EntityKind::CheckIn, &c.id, Some(serde_json::to_value(c)?)),
            Change::PutLedgerEntry(e) => (EntityKind::LedgerEntry, &e.id, Some(serde_json::to_value(e)?)),
            Change::PutGuide(g) => (EntityKind::Guide, &g.id, Some(serde_json::to_value(g)?)),
            Change::PutGuideAssignment(a) => (EntityKind::GuideAssignment, &a.id, Some(serde_json::to_value(a)?)),
            Change::DeleteGuideAssignment { id } => (EntityKind::GuideAssignment, id, None),
            Change::PutCatalogueRow(r) => (r.kind(), r.id(), Some(r.to_value()?)),
            Change::DeleteCatalogueRow { kind, id } => (*kind, id, None),
            Change::PutAllotment(a) => (EntityKind::Allotment, &a.id, Some(serde_json::to_value(a)?)),
            Change::PutDepartureIncident(i) => (EntityKind::DepartureIncident, &i.id, Some(serde_json::to_value(i)?)),
            Change::PutGiftCard(g) => (EntityKind::GiftCard, &g.id, Some(serde_json::to_value(g)?)),
            Change::PutGiftCardMovement(m) => (EntityKind::GiftCardMovement, &m.id, Some(serde_json::to_value(m)?)),
            // Counted here too, so a second booking made offline sees the code's limit as the
            // server will; the server's count replaces this one when it syncs back.
            Change::IncrementPromoUses { promo_code_id } => {
                let Some(mut row) = rows::get(tx, org, EntityKind::PromoCode, promo_code_id)? else { continue };
                let uses = row.get("current_uses").and_then(serde_json::Value::as_u64).unwrap_or(0);
                row["current_uses"] = (uses + 1).into();
                (EntityKind::PromoCode, promo_code_id, Some(row))
            }
            // The server's business: it keeps the audit trail and talks to the payment
            // provider. The desk shows their effects when they sync back.
            Change::Audit(_) | Change::RequestRefund(_) | Change::HoldSeats { .. } => continue,
            Change::PutWaitlistEntry(e) => (EntityKind::WaitlistEntry, &e.id, Some(serde_json::to_value(e)?)),
        };
        rows_to_write.push((kind, id, row));
    }
    for (kind, id, row) in rows_to_write {
        let shadowed: bool = tx
            .prepare_cached("SELECT 1 FROM shadow WHERE entity = ?1 AND id = ?2")?
            .exists(params![kind.as_str(), id])?;
        if !shadowed {
            let server_row = rows::get(tx, org, kind, id)?;
            tx.execute(
                "INSERT INTO shadow (entity, id, row) VALUES (?1, ?2, ?3)",
                params![kind.as_str(), id, server_row.map(|v| v.to_string())],
            )?;
        }
        match row {
            Some(row) => rows::put(tx, org, kind, &row, true)?,
            None => rows::delete(tx, org, kind, id)?,
        }
    }
    Ok(())
}

/// The desk's half of the domain's read contract: answers a mutation's reads from the replica.
/// SQLite has one writer, so the plan's locks mean nothing here.
pub(super) struct Replica<'a> {
    pub(super) c: &'a Connection,
    pub(super) org: &'a str,
}

impl FetchReads for Replica<'_> {
    fn fetch(&self, reads: &[Read]) -> Result<Vec<Fetched>, StoreFault> {
        reads.iter().map(|r| self.fetch_one(&r.key).map_err(fault)).collect()
    }
}

fn fault(e: StoreError) -> StoreFault {
    StoreFault(e.to_string())
}

impl Replica<'_> {
    fn entity<T: serde::de::DeserializeOwned>(&self, kind: EntityKind, id: &str) -> Result<Option<T>, StoreError> {
        let v = rows::get(self.c, self.org, kind, id)?;
        Ok(v.map(serde_json::from_value).transpose()?)
    }

    fn fetch_one(&self, key: &ReadKey) -> Result<Fetched, StoreError> {
        let (c, org) = (self.c, self.org);
        Ok(match key {
            ReadKey::Tour(id) => Fetched::Tour(rows::tour(c, org, id)?),
            ReadKey::TourSlug(slug) => Fetched::Tour(rows::tour_by_slug(c, org, slug)?),
            ReadKey::Variant(id) => Fetched::Variant(self.entity(EntityKind::TourVariant, id)?),
            ReadKey::VariantsOfTour(tour_id) => Fetched::Variants(variants_of(c, org, tour_id)?),
            ReadKey::TourOfVariant(id) => {
                let v: Option<tourdesk_domain::TourVariant> = self.entity(EntityKind::TourVariant, id)?;
                Fetched::Tour(match v {
                    Some(v) => rows::tour(c, org, &v.tour_id)?,
                    None => None,
                })
            }
            ReadKey::VariantsBeside(id) => {
                let v: Option<tourdesk_domain::TourVariant> = self.entity(EntityKind::TourVariant, id)?;
                Fetched::Variants(match v {
                    Some(v) => variants_of(c, org, &v.tour_id)?,
                    None => vec![],
                })
            }
            ReadKey::PricingTier(id) => Fetched::Tier(self.entity(EntityKind::PricingTier, id)?),
            // The tiers, seasons, taxes and group / early-bird discounts the server prices with
            // (`catalogue::pricing_catalog_with_discounts`); a differing server price still
            // becomes a visible PRICE_CHANGED via `expected_total`.
            ReadKey::PricingCatalog(tour_id) => Fetched::Catalog(pricing_catalog(c, org, tour_id)?),
            ReadKey::CancellationPolicy(tour_id) => Fetched::Policy(policy_for_tour(c, org, tour_id)?),
            // Office desks hold the codes with their use counts; a guide's device holds none, so
            // a code is refused there rather than guessed.
            ReadKey::PromoCode(code) => Fetched::Promo(promo_code(c, org, code)?.map(|p| p.to_promo())),
            ReadKey::PromoUses { code, customer_id } => Fetched::Count(promo_uses(c, org, code, customer_id)?),
            ReadKey::CatalogueRow(kind, id) => {
                Fetched::Row(rows::catalogue_rows(c, org, *kind, "id = ?2", &[id])?.pop())
            }
            ReadKey::DefaultCancellationPolicy => Fetched::Row(
                rows::catalogue_rows(
                    c,
                    org,
                    EntityKind::CancellationPolicy,
                    "is_default = 1 ORDER BY id LIMIT 1",
                    &[],
                )?
                .pop(),
            ),
            ReadKey::OwnCancellationPolicy(tour_id) => Fetched::Row(
                rows::catalogue_rows(
                    c,
                    org,
                    EntityKind::CancellationPolicy,
                    "tour_id = ?2 ORDER BY id LIMIT 1",
                    &[tour_id],
                )?
                .pop(),
            ),
            ReadKey::Departure(id) => Fetched::Departure(self.entity(EntityKind::Departure, id)?),
            ReadKey::DeparturesInRange { variant_id, from, until } => {
                Fetched::Departures(departures_in_range(c, org, variant_id, *from, *until)?)
            }
            ReadKey::DepartureGuides(id) => Fetched::DepartureGuides(departure_guides(c, org, id)?),
            // Removals are the server's memory (V25 there): a desk holds only current assignments,
            // which is what its own guide's check-ins are decided on until the server answers.
            ReadKey::GuideRemovals(_) => Fetched::GuideRemovals(Vec::new()),
            ReadKey::Booking(id) => Fetched::Booking(rows::booking(c, org, id)?),
            ReadKey::BookingReference(reference) => Fetched::Taken(rows::booking_reference_taken(c, org, reference)?),
            ReadKey::BookingsOfDeparture(id) => Fetched::Bookings(rows::bookings_of_departure(c, org, id)?),
            ReadKey::BookingsOfCustomer(id) => Fetched::Bookings(rows::bookings_of_customer(c, org, id)?),
            ReadKey::CheckInsOfBooking(id) => Fetched::CheckIns(rows::check_ins_of_booking(c, org, id)?),
            ReadKey::LedgerOfBooking(id) => Fetched::Ledger(rows::ledger_of_booking(c, org, id)?),
            ReadKey::Customer(id) => Fetched::Customer(rows::customer(c, org, id)?),
            ReadKey::CustomerEmail(email) => Fetched::Customer(rows::customer_by_email(c, org, email)?),
            ReadKey::Guide(id) => Fetched::Guide(rows::guide(c, org, id)?),
            ReadKey::GuideSchedule(id) => Fetched::GuideSchedule(guide_schedule(c, org, id)?),
            ReadKey::GuideAssignment { departure_id, guide_id } => {
                Fetched::Assignment(rows::guide_assignment(c, org, departure_id, guide_id)?)
            }
            ReadKey::Allotment(id) => Fetched::Allotment(self.entity(EntityKind::Allotment, id)?),
            ReadKey::GiftCard(id) => Fetched::GiftCard(self.entity(EntityKind::GiftCard, id)?),
            ReadKey::GiftCardCode(code) => Fetched::GiftCard(rows::gift_card_by_code(c, org, code)?),
            ReadKey::WaitlistEntry(id) => Fetched::WaitlistEntry(rows::waitlist_entry(c, org, id)?),
            ReadKey::WaitlistOfCustomer(id) => Fetched::WaitlistEntries(rows::waitlist_of_customer(c, org, id)?),
        })
    }
}

/// A tour's catalogue rows of one kind (`tour_id = ?2`), unwrapped by `pick`.
fn tour_rows<T>(
    c: &Connection,
    org: &str,
    kind: EntityKind,
    tour_id: &str,
    pick: fn(CatalogueRow) -> Option<T>,
) -> Result<Vec<T>, StoreError> {
    Ok(rows::catalogue_rows(c, org, kind, "tour_id = ?2", &[&tour_id])?.into_iter().filter_map(pick).collect())
}

/// What prices a tour on this desk: its tiers, seasons, taxes and automatic discounts, as the
/// server's catalog.
pub(super) fn pricing_catalog(c: &Connection, org: &str, tour_id: &str) -> Result<Option<PricingCatalog>, StoreError> {
    let seasons: Vec<Season> = rows::catalogue_rows(c, org, EntityKind::Season, "tour_id = ?2", &[&tour_id])?
        .into_iter()
        .filter_map(|r| match r {
            CatalogueRow::Season(s) => Some(s),
            _ => None,
        })
        .collect();
    let taxes: Vec<TaxRate> = rows::catalogue_rows(c, org, EntityKind::TaxRate, "1 = 1", &[])?
        .into_iter()
        .filter_map(|r| match r {
            CatalogueRow::TaxRate(t) => Some(t),
            _ => None,
        })
        .collect();
    let groups = tour_rows(c, org, EntityKind::GroupDiscount, tour_id, |r| match r {
        CatalogueRow::GroupDiscount(g) => Some(g),
        _ => None,
    })?;
    let early = tour_rows(c, org, EntityKind::EarlyBirdDiscount, tour_id, |r| match r {
        CatalogueRow::EarlyBirdDiscount(e) => Some(e),
        _ => None,
    })?;
    Ok(catalogue::pricing_catalog_with_discounts(
        tour_id,
        &tiers_of(c, org, tour_id)?,
        &seasons,
        &taxes,
        &groups,
        &early,
    ))
}

#[cfg(test)]
pub(super) fn policy_for_tour_pub(
    c: &Connection,
    org: &str,
    tour_id: &str,
) -> Result<Option<CancellationPolicy>, StoreError> {
    policy_for_tour(c, org, tour_id)
}

fn policy_for_tour(c: &Connection, org: &str, tour_id: &str) -> Result<Option<CancellationPolicy>, StoreError> {
    let policies: Vec<CancellationPolicyRow> =
        rows::catalogue_rows(c, org, EntityKind::CancellationPolicy, "1 = 1", &[])?
            .into_iter()
            .filter_map(|r| match r {
                CatalogueRow::CancellationPolicy(p) => Some(p),
                _ => None,
            })
            .collect();
    let chosen = rows::tour(c, org, tour_id)?.and_then(|t| t.cancellation_policy_id);
    Ok(catalogue::policy_for_tour(tour_id, chosen.as_deref(), &policies))
}

/// The code typed (already normalised) as the server finds it: any stored code equal to it once
/// normalised, the smallest id first.
pub(super) fn promo_code(c: &Connection, org: &str, code: &str) -> Result<Option<PromotionalCode>, StoreError> {
    let candidates =
        rows::catalogue_rows(c, org, EntityKind::PromoCode, "upper(trim(code)) = upper(?2) ORDER BY id", &[&code])?;
    Ok(candidates.into_iter().find_map(|r| match r {
        CatalogueRow::PromoCode(p) if normalize_promo_code("code", &p.code).ok().flatten().as_deref() == Some(code) => {
            Some(p)
        }
        _ => None,
    }))
}

/// How many of the customer's bookings on this desk used the code: the server counts its
/// `promo_code_uses`, one per booking made with it.
pub(super) fn promo_uses(c: &Connection, org: &str, code: &str, customer_id: &str) -> Result<u32, StoreError> {
    let Some(p) = promo_code(c, org, code)? else { return Ok(0) };
    Ok(c.prepare_cached(
        "SELECT count(*) FROM bookings WHERE organization_id = ?1 AND customer_id = ?2
         AND json_extract(pricing, '$.promotional_code_id') = ?3",
    )?
    .query_row(params![org, customer_id, p.id], |r| r.get(0))?)
}

fn departures_in_range(
    c: &Connection,
    org: &str,
    variant_id: &str,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<Departure>, StoreError> {
    // local_date is ISO text, so text order is date order.
    let sql = format!(
        "SELECT {} FROM schedules WHERE organization_id = ?1 AND variant_id = ?2
         AND local_date >= ?3 AND local_date <= ?4 ORDER BY starts_at, id",
        rows::DEPARTURE_COLS
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut q = stmt.query(params![org, variant_id, from.to_string(), until.to_string()])?;
    let mut out = Vec::new();
    while let Some(r) = q.next()? {
        out.push(rows::departure_from_row(r)?);
    }
    Ok(out)
}

fn departure_guides(c: &Connection, org: &str, departure_id: &str) -> Result<Vec<DepartureGuide>, StoreError> {
    // A guide row the desk does not hold leaves the login unknown: the domain then treats
    // the assignment as someone else's, which refuses rather than allows.
    let mut stmt = c.prepare_cached(
        "SELECT a.guide_id, g.user_id, a.status, a.role FROM guide_assignments a
         LEFT JOIN guides g ON g.organization_id = a.organization_id AND g.id = a.guide_id
         WHERE a.organization_id = ?1 AND a.departure_id = ?2 ORDER BY a.guide_id",
    )?;
    let mut q = stmt.query(params![org, departure_id])?;
    let mut out = Vec::new();
    while let Some(r) = q.next()? {
        let (status, role): (String, String) = (r.get(2)?, r.get(3)?);
        out.push(DepartureGuide {
            guide_id: r.get(0)?,
            user_id: r.get(1)?,
            status: serde_json::from_value(serde_json::Value::String(status))?,
            role: serde_json::from_value(serde_json::Value::String(role))?,
        });
    }
    Ok(out)
}

fn guide_schedule(c: &Connection, org: &str, guide_id: &str) -> Result<Vec<ExistingAssignment>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT a.departure_id, d.starts_at, d.ends_at, a.status FROM guide_assignments a
         JOIN schedules d ON d.organization_id = a.organization_id AND d.id = a.departure_id
         WHERE a.organization_id = ?1 AND a.guide_id = ?2 ORDER BY d.starts_at, a.departure_id",
    )?;
    let mut q = stmt.query(params![org, guide_id])?;
    let mut out = Vec::new();
    while let Some(r) = q.next()? {
        let (starts, ends, status): (String, String, String) = (r.get(1)?, r.get(2)?, r.get(3)?);
        let at = |s: &str| {
            s.parse::<chrono::DateTime<Utc>>().map_err(|_| StoreError::Corrupt(format!("departure time {s:?}")))
        };
        out.push(ExistingAssignment {
            departure_id: r.get(0)?,
            starts_at: at(&starts)?,
            ends_at: at(&ends)?,
            status: serde_json::from_value(serde_json::Value::String(status))?,
        });
    }
    Ok(out)
}

//! One read path for every store: the rows a mutation declared, loaded once.
//!
//! A store only fetches keys. [`Mutation::read_plan`] says which keys and which of them to lock;
//! the store answers each with a [`Fetched`] row, in the plan's order ([`FetchReads`] for a
//! synchronous store; the server, which pipelines them over one connection, does the same
//! asynchronously); [`Snapshot::assemble`] checks the answers and holds them. The mutators read
//! the snapshot through [`ReadView`] and nothing else, so a read the mutation did not declare is a
//! [`StoreFault`] on every store — on the desk as on the server — rather than an answer one store
//! gives and another would not.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{ApplyError, Change, Mutation, MutationCtx, ReadKey, ReadView, StoreFault};
use crate::cancellation::CancellationPolicy;
use crate::catalogue::CatalogueRow;
use crate::entities::{
    Booking, CheckIn, Customer, Departure, DepartureGuide, Guide, GuideAssignment, PricingTier, Tour, TourVariant,
};
use crate::guides::ExistingAssignment;
use crate::pricing::{PricingCatalog, PromoCode};

/// One key to fetch, and whether the authoritative store must hold its rows locked until commit
/// (see `Mutator::locks`). A single-writer store ignores `lock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub key: ReadKey,
    pub lock: bool,
}

/// What a store found for one [`ReadKey`]. Each key kind has exactly one answer kind (see
/// [`Fetched::answers`]): a tour key a tour or none, a range of departures a list, a booking
/// reference whether it is taken, a code's uses a count.
// A handful of these live for one mutation; boxing the large rows would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    /// For [`ReadKey::Tour`], [`ReadKey::TourSlug`] and [`ReadKey::TourOfVariant`].
    Tour(Option<Tour>),
    Variant(Option<TourVariant>),
    /// For [`ReadKey::VariantsOfTour`] and [`ReadKey::VariantsBeside`].
    Variants(Vec<TourVariant>),
    Tier(Option<PricingTier>),
    /// `None` when the tour has no price list at all.
    Catalog(Option<PricingCatalog>),
    /// `None` when the tour has no policy.
    Policy(Option<CancellationPolicy>),
    Promo(Option<PromoCode>),
    /// For [`ReadKey::PromoUses`].
    Count(u32),
    Departure(Option<Departure>),
    Departures(Vec<Departure>),
    DepartureGuides(Vec<DepartureGuide>),
    GuideRemovals(Vec<crate::guides::GuideRemoval>),
    Booking(Option<Booking>),
    /// For [`ReadKey::BookingReference`]: whether the reference is taken.
    Taken(bool),
    Bookings(Vec<Booking>),
    CheckIns(Vec<CheckIn>),
    /// For [`ReadKey::Customer`] and [`ReadKey::CustomerEmail`].
    Customer(Option<Customer>),
    Guide(Option<Guide>),
    GuideSchedule(Vec<ExistingAssignment>),
    Assignment(Option<GuideAssignment>),
    /// For [`ReadKey::CatalogueRow`], [`ReadKey::DefaultCancellationPolicy`] and
    /// [`ReadKey::OwnCancellationPolicy`].
    Row(Option<CatalogueRow>),
    Allotment(Option<crate::allotment::Allotment>),
    /// For [`ReadKey::GiftCard`] and [`ReadKey::GiftCardCode`].
    GiftCard(Option<crate::gift_card::GiftCard>),
    /// For [`ReadKey::LedgerOfBooking`].
    Ledger(Vec<crate::ledger::LedgerEntry>),
    /// For [`ReadKey::WaitlistEntry`].
    WaitlistEntry(Option<crate::entities::WaitlistEntry>),
    /// For [`ReadKey::WaitlistOfCustomer`].
    WaitlistEntries(Vec<crate::entities::WaitlistEntry>),
}

impl Fetched {
    /// Whether this is the kind of answer `key` asks for.
    pub fn answers(&self, key: &ReadKey) -> bool {
        matches!(
            (key, self),
            (ReadKey::Tour(_) | ReadKey::TourSlug(_) | ReadKey::TourOfVariant(_), Fetched::Tour(_))
                | (ReadKey::Variant(_), Fetched::Variant(_))
                | (ReadKey::VariantsOfTour(_) | ReadKey::VariantsBeside(_), Fetched::Variants(_))
                | (ReadKey::PricingTier(_), Fetched::Tier(_))
                | (ReadKey::PricingCatalog(_), Fetched::Catalog(_))
                | (ReadKey::CancellationPolicy(_), Fetched::Policy(_))
                | (ReadKey::PromoCode(_), Fetched::Promo(_))
                | (ReadKey::PromoUses { .. }, Fetched::Count(_))
                | (ReadKey::Departure(_), Fetched::Departure(_))
                | (ReadKey::DeparturesInRange { .. }, Fetched::Departures(_))
                | (ReadKey::DepartureGuides(_), Fetched::DepartureGuides(_))
                | (ReadKey::GuideRemovals(_), Fetched::GuideRemovals(_))
                | (ReadKey::Booking(_), Fetched::Booking(_))
                | (ReadKey::BookingReference(_), Fetched::Taken(_))
                | (ReadKey::BookingsOfDeparture(_) | ReadKey::BookingsOfCustomer(_), Fetched::Bookings(_))
                | (ReadKey::CheckInsOfBooking(_), Fetched::CheckIns(_))
                | (ReadKey::Customer(_) | ReadKey::CustomerEmail(_), Fetched::Customer(_))
                | (ReadKey::Guide(_), Fetched::Guide(_))
                | (ReadKey::GuideSchedule(_), Fetched::GuideSchedule(_))
                | (ReadKey::GuideAssignment { .. }, Fetched::Assignment(_))
                | (
                    ReadKey::CatalogueRow(..) | ReadKey::DefaultCancellationPolicy | ReadKey::OwnCancellationPolicy(_),
                    Fetched::Row(_)
                )
                | (ReadKey::Allotment(_), Fetched::Allotment(_))
                | (ReadKey::GiftCard(_) | ReadKey::GiftCardCode(_), Fetched::GiftCard(_))
                | (ReadKey::LedgerOfBooking(_), Fetched::Ledger(_))
                | (ReadKey::WaitlistEntry(_), Fetched::WaitlistEntry(_))
                | (ReadKey::WaitlistOfCustomer(_), Fetched::WaitlistEntries(_))
        )
    }
}

/// A store that fetches synchronously (the desk's SQLite, the domain's test double).
pub trait FetchReads {
    /// One answer per read, in the order given. A failed read is a fault (the mutation is
    /// retried), never "not found".
    fn fetch(&self, reads: &[Read]) -> Result<Vec<Fetched>, StoreFault>;
}

/// The rows a mutation declared, as its store fetched them. Reading anything else is a bug in
/// the mutation's `reads()`, reported as a fault rather than silently answered.
#[derive(Debug, Default)]
pub struct Snapshot(HashMap<ReadKey, Fetched>);

impl Mutation {
    /// What a store fetches for this mutation: the keys it only consults first, then the ones
    /// it locks, each group in [`Mutation::reads`] order. A store that sends them in this order
    /// takes its locks in sorted order, so two transactions never wait on each other in opposite
    /// orders.
    pub fn read_plan(&self) -> Vec<Read> {
        let (locked, consulted): (Vec<ReadKey>, Vec<ReadKey>) = self.reads().into_iter().partition(|k| self.locks(k));
        consulted
            .into_iter()
            .map(|key| Read { key, lock: false })
            .chain(locked.into_iter().map(|key| Read { key, lock: true }))
            .collect()
    }

    /// Fetches this mutation's reads from a synchronous store and decides on them.
    pub fn run(&self, store: &impl FetchReads, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        let snap = Snapshot::load(self, store)?;
        self.apply(&snap, ctx)
    }
}

impl Snapshot {
    /// Holds `rows`, the store's answers to `reads` in the same order. Refuses answers that do
    /// not match the reads (a store bug): a wrong count, or a row of another kind than its key.
    pub fn assemble(reads: Vec<Read>, rows: Vec<Fetched>) -> Result<Snapshot, StoreFault> {
        if reads.len() != rows.len() {
            return Err(StoreFault(format!("{} reads were answered with {} rows", reads.len(), rows.len())));
        }
        let mut held = HashMap::with_capacity(reads.len());
        for (read, row) in reads.into_iter().zip(rows) {
            if !row.answers(&read.key) {
                return Err(StoreFault(format!("{:?} was answered with {row:?}", read.key)));
            }
            held.insert(read.key, row);
        }
        Ok(Snapshot(held))
    }

    /// Plans, fetches and assembles `m`'s reads from a synchronous store.
    pub fn load(m: &Mutation, store: &impl FetchReads) -> Result<Snapshot, StoreFault> {
        let reads = m.read_plan();
        let rows = store.fetch(&reads)?;
        Snapshot::assemble(reads, rows)
    }

    /// The row a change replaces, as it was read before the mutation ran: the audit log's
    /// "before". `None` for a new row or a kind the snapshot does not hold by id.
    pub fn before(&self, change: &Change) -> Result<Option<serde_json::Value>, serde_json::Error> {
        // An entry a merge moved was read with its customer's entries, not by its id.
        if let Change::PutWaitlistEntry(e) = change
            && !self.0.contains_key(&ReadKey::WaitlistEntry(e.id.clone()))
        {
            let moved = self.0.values().find_map(|f| match f {
                Fetched::WaitlistEntries(all) => all.iter().find(|x| x.id == e.id),
                _ => None,
            });
            return moved.map(serde_json::to_value).transpose();
        }
        let held = match change {
            Change::PutTour(t) => self.0.get(&ReadKey::Tour(t.id.clone())),
            Change::PutVariant(v) => self.0.get(&ReadKey::Variant(v.id.clone())),
            Change::PutPricingTier(t) => self.0.get(&ReadKey::PricingTier(t.id.clone())),
            Change::PutDeparture(d) => self.0.get(&ReadKey::Departure(d.id.clone())),
            Change::PutBooking(b) => self.0.get(&ReadKey::Booking(b.id.clone())),
            Change::PutCustomer(c) => self.0.get(&ReadKey::Customer(c.id.clone())),
            Change::PutCatalogueRow(r) => self.0.get(&ReadKey::CatalogueRow(r.kind(), r.id().to_string())),
            Change::PutAllotment(a) => self.0.get(&ReadKey::Allotment(a.id.clone())),
            Change::PutGiftCard(g) => self
                .0
                .get(&ReadKey::GiftCard(g.id.clone()))
                .or_else(|| self.0.get(&ReadKey::GiftCardCode(g.code.clone()))),
            Change::DeleteCatalogueRow { kind, id } => self.0.get(&ReadKey::CatalogueRow(*kind, id.clone())),
            Change::PutWaitlistEntry(e) => self.0.get(&ReadKey::WaitlistEntry(e.id.clone())),
            _ => None,
        };
        Ok(match held {
            Some(Fetched::Tour(Some(t))) => Some(serde_json::to_value(t)?),
            Some(Fetched::Variant(Some(v))) => Some(serde_json::to_value(v)?),
            Some(Fetched::Tier(Some(t))) => Some(serde_json::to_value(t)?),
            Some(Fetched::Departure(Some(d))) => Some(serde_json::to_value(d)?),
            Some(Fetched::Booking(Some(b))) => Some(serde_json::to_value(b)?),
            Some(Fetched::Customer(Some(c))) => Some(serde_json::to_value(c)?),
            Some(Fetched::Row(Some(r))) => Some(r.to_value()?),
            Some(Fetched::Allotment(Some(a))) => Some(serde_json::to_value(a)?),
            Some(Fetched::GiftCard(Some(g))) => Some(serde_json::to_value(g)?),
            Some(Fetched::WaitlistEntry(Some(e))) => Some(serde_json::to_value(e)?),
            _ => None,
        })
    }

    fn get(&self, key: ReadKey) -> Option<&Fetched> {
        self.0.get(&key)
    }
}

fn undeclared(what: &str) -> StoreFault {
    StoreFault(format!("undeclared read of {what}"))
}

// Answers from the declared keys; `ReadView`'s defaults (alike in shape) answer "unsupported" instead.
impl ReadView for Snapshot {
    fn tour(&self, id: &str) -> Result<Option<Tour>, StoreFault> {
        match self.get(ReadKey::Tour(id.to_string())) {
            Some(Fetched::Tour(t)) => Ok(t.clone()),
            _ => Err(undeclared(&format!("tour {id}"))),
        }
    }
    fn tour_by_slug(&self, slug: &str) -> Result<Option<Tour>, StoreFault> {
        match self.get(ReadKey::TourSlug(slug.to_string())) {
            Some(Fetched::Tour(t)) => Ok(t.clone()),
            _ => Err(undeclared(&format!("tour slug {slug}"))),
        }
    }
    fn variant(&self, id: &str) -> Result<Option<TourVariant>, StoreFault> {
        match self.get(ReadKey::Variant(id.to_string())) {
            Some(Fetched::Variant(v)) => Ok(v.clone()),
            _ => Err(undeclared(&format!("variant {id}"))),
        }
    }
    fn variants_of_tour(&self, tour_id: &str) -> Result<Vec<TourVariant>, StoreFault> {
        match self.get(ReadKey::VariantsOfTour(tour_id.to_string())) {
            Some(Fetched::Variants(v)) => Ok(v.clone()),
            _ => Err(undeclared(&format!("variants of tour {tour_id}"))),
        }
    }
    fn tour_of_variant(&self, variant_id: &str) -> Result<Option<Tour>, StoreFault> {
        match self.get(ReadKey::TourOfVariant(variant_id.to_string())) {
            Some(Fetched::Tour(t)) => Ok(t.clone()),
            _ => Err(undeclared(&format!("tour of variant {variant_id}"))),
        }
    }
    fn variants_beside(&self, variant_id: &str) -> Result<Vec<TourVariant>, StoreFault> {
        match self.get(ReadKey::VariantsBeside(variant_id.to_string())) {
            Some(Fetched::Variants(v)) => Ok(v.clone()),
            _ => Err(undeclared(&format!("variants beside {variant_id}"))),
        }
    }
    fn pricing_tier(&self, id: &str) -> Result<Option<PricingTier>, StoreFault> {
        match self.get(ReadKey::PricingTier(id.to_string())) {
            Some(Fetched::Tier(t)) => Ok(t.clone()),
            _ => Err(undeclared(&format!("pricing tier {id}"))),
        }
    }
    fn pricing_catalog(&self, tour_id: &str) -> Result<Option<PricingCatalog>, StoreFault> {
        match self.get(ReadKey::PricingCatalog(tour_id.to_string())) {
            Some(Fetched::Catalog(c)) => Ok(c.clone()),
            _ => Err(undeclared(&format!("pricing catalog of {tour_id}"))),
        }
    }
    fn cancellation_policy(&self, tour_id: &str) -> Result<Option<CancellationPolicy>, StoreFault> {
        match self.get(ReadKey::CancellationPolicy(tour_id.to_string())) {
            Some(Fetched::Policy(p)) => Ok(p.clone()),
            _ => Err(undeclared(&format!("cancellation policy of {tour_id}"))),
        }
    }
    fn promo_code(&self, code: &str) -> Result<Option<PromoCode>, StoreFault> {
        match self.get(ReadKey::PromoCode(code.to_string())) {
            Some(Fetched::Promo(p)) => Ok(p.clone()),
            _ => Err(undeclared(&format!("promo code {code}"))),
        }
    }
    fn promo_uses(&self, code: &str, customer_id: &str) -> Result<u32, StoreFault> {
        match self.get(ReadKey::PromoUses { code: code.to_string(), customer_id: customer_id.to_string() }) {
            Some(Fetched::Count(n)) => Ok(*n),
            _ => Err(undeclared(&format!("uses of {code} by {customer_id}"))),
        }
    }
    fn departure(&self, id: &str) -> Result<Option<Departure>, StoreFault> {
        match self.get(ReadKey::Departure(id.to_string())) {
            Some(Fetched::Departure(d)) => Ok(d.clone()),
            _ => Err(undeclared(&format!("departure {id}"))),
        }
    }
    fn departures_in_range(
        &self,
        variant_id: &str,
        from: NaiveDate,
        until: NaiveDate,
    ) -> Result<Vec<Departure>, StoreFault> {
        match self.get(ReadKey::DeparturesInRange { variant_id: variant_id.to_string(), from, until }) {
            Some(Fetched::Departures(d)) => Ok(d.clone()),
            _ => Err(undeclared(&format!("departures of {variant_id}"))),
        }
    }
    fn departure_guides(&self, departure_id: &str) -> Result<Vec<DepartureGuide>, StoreFault> {
        match self.get(ReadKey::DepartureGuides(departure_id.to_string())) {
            Some(Fetched::DepartureGuides(g)) => Ok(g.clone()),
            _ => Err(undeclared(&format!("guides of departure {departure_id}"))),
        }
    }
    fn guide_removals(&self, departure_id: &str) -> Result<Vec<crate::guides::GuideRemoval>, StoreFault> {
        match self.get(ReadKey::GuideRemovals(departure_id.to_string())) {
            Some(Fetched::GuideRemovals(g)) => Ok(g.clone()),
            _ => Err(undeclared(&format!("guide removals of departure {departure_id}"))),
        }
    }
    fn booking(&self, id: &str) -> Result<Option<Booking>, StoreFault> {
        match self.get(ReadKey::Booking(id.to_string())) {
            Some(Fetched::Booking(b)) => Ok(b.clone()),
            _ => Err(undeclared(&format!("booking {id}"))),
        }
    }
    fn booking_reference_taken(&self, reference: &str) -> Result<bool, StoreFault> {
        match self.get(ReadKey::BookingReference(reference.to_string())) {
            Some(Fetched::Taken(taken)) => Ok(*taken),
            _ => Err(undeclared(&format!("booking reference {reference}"))),
        }
    }
    fn bookings_of_departure(&self, departure_id: &str) -> Result<Vec<Booking>, StoreFault> {
        match self.get(ReadKey::BookingsOfDeparture(departure_id.to_string())) {
            Some(Fetched::Bookings(b)) => Ok(b.clone()),
            _ => Err(undeclared(&format!("bookings of departure {departure_id}"))),
        }
    }
    fn bookings_of_customer(&self, customer_id: &str) -> Result<Vec<Booking>, StoreFault> {
        match self.get(ReadKey::BookingsOfCustomer(customer_id.to_string())) {
            Some(Fetched::Bookings(b)) => Ok(b.clone()),
            _ => Err(undeclared(&format!("bookings of customer {customer_id}"))),
        }
    }
    fn check_ins_of_booking(&self, booking_id: &str) -> Result<Vec<CheckIn>, StoreFault> {
        match self.get(ReadKey::CheckInsOfBooking(booking_id.to_string())) {
            Some(Fetched::CheckIns(c)) => Ok(c.clone()),
            _ => Err(undeclared(&format!("check-ins of booking {booking_id}"))),
        }
    }
    fn ledger_of_booking(&self, booking_id: &str) -> Result<Vec<crate::ledger::LedgerEntry>, StoreFault> {
        match self.get(ReadKey::LedgerOfBooking(booking_id.to_string())) {
            Some(Fetched::Ledger(l)) => Ok(l.clone()),
            _ => Err(undeclared(&format!("the ledger of booking {booking_id}"))),
        }
    }
    fn customer(&self, id: &str) -> Result<Option<Customer>, StoreFault> {
        match self.get(ReadKey::Customer(id.to_string())) {
            Some(Fetched::Customer(c)) => Ok(c.clone()),
            _ => Err(undeclared(&format!("customer {id}"))),
        }
    }
    fn customer_by_email(&self, email: &str) -> Result<Option<Customer>, StoreFault> {
        match self.get(ReadKey::CustomerEmail(email.to_string())) {
            Some(Fetched::Customer(c)) => Ok(c.clone()),
            _ => Err(undeclared(&format!("customer e-mail {email}"))),
        }
    }
    fn guide(&self, id: &str) -> Result<Option<Guide>, StoreFault> {
        match self.get(ReadKey::Guide(id.to_string())) {
            Some(Fetched::Guide(g)) => Ok(g.clone()),
            _ => Err(undeclared(&format!("guide {id}"))),
        }
    }
    fn guide_schedule(&self, guide_id: &str) -> Result<Vec<ExistingAssignment>, StoreFault> {
        match self.get(ReadKey::GuideSchedule(guide_id.to_string())) {
            Some(Fetched::GuideSchedule(s)) => Ok(s.clone()),
            _ => Err(undeclared(&format!("schedule of guide {guide_id}"))),
        }
    }
    fn guide_assignment(&self, departure_id: &str, guide_id: &str) -> Result<Option<GuideAssignment>, StoreFault> {
        let key = ReadKey::GuideAssignment { departure_id: departure_id.to_string(), guide_id: guide_id.to_string() };
        match self.get(key) {
            Some(Fetched::Assignment(a)) => Ok(a.clone()),
            _ => Err(undeclared(&format!("assignment of guide {guide_id} to {departure_id}"))),
        }
    }
    fn catalogue_row(&self, kind: crate::protocol::EntityKind, id: &str) -> Result<Option<CatalogueRow>, StoreFault> {
        match self.get(ReadKey::CatalogueRow(kind, id.to_string())) {
            Some(Fetched::Row(r)) if r.as_ref().is_none_or(|r| r.kind() == kind) => Ok(r.clone()),
            _ => Err(undeclared(&format!("{} {id}", kind.as_str()))),
        }
    }
    fn default_cancellation_policy(&self) -> Result<Option<CatalogueRow>, StoreFault> {
        match self.get(ReadKey::DefaultCancellationPolicy) {
            Some(Fetched::Row(r)) => Ok(r.clone()),
            _ => Err(undeclared("the default cancellation policy")),
        }
    }
    fn own_cancellation_policy(&self, tour_id: &str) -> Result<Option<CatalogueRow>, StoreFault> {
        match self.get(ReadKey::OwnCancellationPolicy(tour_id.to_string())) {
            Some(Fetched::Row(r)) => Ok(r.clone()),
            _ => Err(undeclared(&format!("the cancellation policy of tour {tour_id}"))),
        }
    }
    fn allotment(&self, id: &str) -> Result<Option<crate::allotment::Allotment>, StoreFault> {
        match self.get(ReadKey::Allotment(id.to_string())) {
            Some(Fetched::Allotment(a)) => Ok(a.clone()),
            _ => Err(undeclared(&format!("allotment {id}"))),
        }
    }
    fn gift_card(&self, id: &str) -> Result<Option<crate::gift_card::GiftCard>, StoreFault> {
        match self.get(ReadKey::GiftCard(id.to_string())) {
            Some(Fetched::GiftCard(g)) => Ok(g.clone()),
            _ => Err(undeclared(&format!("gift card {id}"))),
        }
    }
    fn gift_card_by_code(&self, code: &str) -> Result<Option<crate::gift_card::GiftCard>, StoreFault> {
        match self.get(ReadKey::GiftCardCode(code.to_string())) {
            Some(Fetched::GiftCard(g)) => Ok(g.clone()),
            _ => Err(undeclared("a gift card by its code")),
        }
    }
    fn waitlist_entry(&self, id: &str) -> Result<Option<crate::entities::WaitlistEntry>, StoreFault> {
        match self.get(ReadKey::WaitlistEntry(id.to_string())) {
            Some(Fetched::WaitlistEntry(e)) => Ok(e.clone()),
            _ => Err(undeclared(&format!("waitlist entry {id}"))),
        }
    }
    fn waitlist_of_customer(&self, customer_id: &str) -> Result<Vec<crate::entities::WaitlistEntry>, StoreFault> {
        match self.get(ReadKey::WaitlistOfCustomer(customer_id.to_string())) {
            Some(Fetched::WaitlistEntries(e)) => Ok(e.clone()),
            _ => Err(undeclared(&format!("waitlist entries of customer {customer_id}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::testkit::*;
    use super::*;
    use crate::roles::Role;
    use crate::status::{BookingStatus, PaymentStatus};

    fn create_booking() -> Mutation {
        let (name, args) = super::super::tests::samples().into_iter().find(|(n, _)| *n == "create_booking.v1").unwrap();
        Mutation::decode(name, &args).unwrap()
    }

    /// The server pipelines the plan as it comes: what it only consults goes first, and the
    /// locks follow in sorted order, the one lock order every transaction shares.
    #[test]
    fn the_plan_consults_first_then_locks_in_sorted_order() {
        let m = create_booking();
        let plan = m.read_plan();
        let mut keys: Vec<ReadKey> = plan.iter().map(|r| r.key.clone()).collect();
        keys.sort();
        assert_eq!(keys, m.reads(), "every declared key once");
        let first_lock = plan.iter().position(|r| r.lock).unwrap();
        assert!(first_lock > 0, "a booking consults its tour and prices: {plan:?}");
        assert!(plan[first_lock..].iter().all(|r| r.lock), "{plan:?}");
        assert!(plan[first_lock..].windows(2).all(|w| w[0].key < w[1].key), "{plan:?}");
        assert!(plan[..first_lock].windows(2).all(|w| w[0].key < w[1].key), "{plan:?}");
        assert!(plan.iter().all(|r| r.lock == m.locks(&r.key)));
    }

    #[test]
    fn answers_of_the_wrong_kind_or_count_are_faults() {
        let reads = vec![
            Read { key: ReadKey::Tour(TOUR.into()), lock: false },
            Read { key: ReadKey::BookingReference("BK-2026-AAAAAA".into()), lock: false },
        ];
        assert!(Snapshot::assemble(reads.clone(), vec![Fetched::Tour(None)]).is_err());
        assert!(Snapshot::assemble(reads.clone(), vec![Fetched::Tour(None), Fetched::Count(0)]).is_err());
        assert!(Snapshot::assemble(reads.clone(), vec![Fetched::Customer(None), Fetched::Taken(true)]).is_err());
        let snap = Snapshot::assemble(reads, vec![Fetched::Tour(Some(tour())), Fetched::Taken(true)]).unwrap();
        assert_eq!(snap.tour(TOUR).unwrap(), Some(tour()));
        assert!(snap.booking_reference_taken("BK-2026-AAAAAA").unwrap());
    }

    /// A read the mutation did not declare fails on every store alike, even when the store
    /// could answer it.
    #[test]
    fn an_undeclared_read_is_a_fault_not_an_answer() {
        let reads = vec![Read { key: ReadKey::Tour(TOUR.into()), lock: false }];
        let snap = Snapshot::assemble(reads, vec![Fetched::Tour(None)]).unwrap();
        assert_eq!(snap.tour(TOUR).unwrap(), None, "declared, and the store found nothing");
        assert!(snap.tour("t-2").is_err());
        assert!(snap.tour_by_slug("old-town-walk").is_err());
        assert!(snap.customer(CUSTOMER).is_err());
    }

    /// The audit log's "before" is the row as read, and nothing for a row that was not there.
    #[test]
    fn before_is_the_row_as_read() {
        let old = booking("b-1", 2, BookingStatus::Confirmed, PaymentStatus::Paid, 10_000);
        let reads = vec![
            Read { key: ReadKey::Booking("b-1".into()), lock: true },
            Read { key: ReadKey::Booking("b-2".into()), lock: true },
        ];
        let snap =
            Snapshot::assemble(reads, vec![Fetched::Booking(Some(old.clone())), Fetched::Booking(None)]).unwrap();
        let mut new = old.clone();
        new.status = BookingStatus::Cancelled;
        assert_eq!(snap.before(&Change::PutBooking(new)).unwrap(), Some(serde_json::to_value(&old).unwrap()));
        let mut other = old;
        other.id = "b-2".into();
        assert_eq!(snap.before(&Change::PutBooking(other)).unwrap(), None);
        assert_eq!(snap.before(&Change::IncrementPromoUses { promo_code_id: "promo-1".into() }).unwrap(), None);
    }

    /// `run` is load then apply: the test double's world answers a booking like the server would.
    #[test]
    fn run_loads_then_decides() {
        let mem = world();
        let changes = create_booking().run(&mem, &ctx(Role::Owner)).unwrap();
        assert!(changes.iter().any(|c| matches!(c, Change::PutBooking(_))), "{changes:?}");
    }
}

//! A test double store: fetches the keys a mutation declares from a small world of rows, and
//! runs mutations through the same [`Snapshot`] as the desk and the server, so a read the
//! mutation did not declare in `reads()` fails here as it fails there.
#![allow(clippy::unwrap_used)]

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde_json::Value;

use super::*;
pub use crate::fixtures::*;
use crate::guides::AssignmentStatus;

pub fn ctx(role: Role) -> MutationCtx {
    let user_id = if role == Role::Guide { GUIDE_USER } else { STAFF };
    MutationCtx { organization_id: ORG.into(), role, now: now(), user_id: user_id.into() }
}

#[derive(Default)]
pub struct State {
    pub tours: BTreeMap<String, Tour>,
    pub variants: BTreeMap<String, TourVariant>,
    pub tiers: BTreeMap<String, PricingTier>,
    pub catalogs: BTreeMap<String, PricingCatalog>,
    pub policies: BTreeMap<String, CancellationPolicy>,
    pub promos: BTreeMap<String, PromoCode>,
    pub promo_uses: BTreeMap<(String, String), u32>,
    pub departures: BTreeMap<String, Departure>,
    pub departure_guides: BTreeMap<String, Vec<DepartureGuide>>,
    pub guide_removals: BTreeMap<String, Vec<crate::guides::GuideRemoval>>,
    pub bookings: BTreeMap<String, Booking>,
    pub check_ins: BTreeMap<String, CheckIn>,
    pub ledger: BTreeMap<String, crate::ledger::LedgerEntry>,
    pub customers: BTreeMap<String, Customer>,
    pub guides: BTreeMap<String, Guide>,
    pub guide_schedules: BTreeMap<String, Vec<ExistingAssignment>>,
    pub assignments: BTreeMap<String, GuideAssignment>,
    pub refunds: Vec<RefundRequest>,
    pub waitlist: BTreeMap<String, WaitlistEntry>,
    pub audit: Vec<AuditEntry>,
    pub rows: BTreeMap<(crate::protocol::EntityKind, String), CatalogueRow>,
    pub allotments: BTreeMap<String, crate::allotment::Allotment>,
    pub incidents: BTreeMap<String, crate::incident::DepartureIncident>,
    pub gift_cards: BTreeMap<String, crate::gift_card::GiftCard>,
    pub gift_card_movements: BTreeMap<String, crate::gift_card::GiftCardMovement>,
}

#[derive(Default)]
pub struct Mem {
    pub state: RefCell<State>,
}

impl Mem {
    pub fn put_tour(&self, t: Tour) {
        self.state.borrow_mut().tours.insert(t.id.clone(), t);
    }
    pub fn put_variant(&self, v: TourVariant) {
        self.state.borrow_mut().variants.insert(v.id.clone(), v);
    }
    pub fn put_departure(&self, d: Departure) {
        self.state.borrow_mut().departures.insert(d.id.clone(), d);
    }
    pub fn put_booking(&self, b: Booking) {
        self.state.borrow_mut().bookings.insert(b.id.clone(), b);
    }
    pub fn put_customer(&self, c: Customer) {
        self.state.borrow_mut().customers.insert(c.id.clone(), c);
    }
    pub fn get_customer(&self, id: &str) -> Customer {
        self.state.borrow().customers[id].clone()
    }
    pub fn get_booking(&self, id: &str) -> Booking {
        self.state.borrow().bookings[id].clone()
    }

    /// Writes a change as a store would.
    pub fn write(&self, c: Change) {
        let mut s = self.state.borrow_mut();
        match c {
            Change::PutTour(t) => {
                s.tours.insert(t.id.clone(), t);
            }
            Change::PutVariant(v) => {
                s.variants.insert(v.id.clone(), v);
            }
            Change::PutPricingTier(t) => {
                s.tiers.insert(t.id.clone(), t);
            }
            Change::PutDeparture(d) => {
                s.departures.insert(d.id.clone(), d);
            }
            Change::PutBooking(b) => {
                s.bookings.insert(b.id.clone(), b);
            }
            Change::PutCustomer(c) => {
                s.customers.insert(c.id.clone(), c);
            }
            Change::PutGuide(g) => {
                s.guides.insert(g.id.clone(), g);
            }
            Change::PutGuideAssignment(a) => {
                s.assignments.insert(a.id.clone(), a);
            }
            Change::DeleteGuideAssignment { id } => {
                s.assignments.remove(&id);
            }
            Change::PutCheckIn(c) => {
                s.check_ins.insert(c.id.clone(), c);
            }
            Change::PutLedgerEntry(e) => {
                s.ledger.insert(e.id.clone(), e);
            }
            Change::IncrementPromoUses { promo_code_id } => {
                for p in s.promos.values_mut().filter(|p| p.id == promo_code_id) {
                    p.current_uses += 1;
                }
            }
            Change::PutWaitlistEntry(e) => {
                s.waitlist.insert(e.id.clone(), e);
            }
            Change::RequestRefund(r) => s.refunds.push(r),
            Change::HoldSeats { .. } => {}
            Change::Audit(a) => s.audit.push(a),
            Change::PutCatalogueRow(r) => {
                s.rows.insert((r.kind(), r.id().to_string()), r);
            }
            Change::DeleteCatalogueRow { kind, id } => {
                s.rows.remove(&(kind, id));
            }
            Change::PutAllotment(a) => {
                s.allotments.insert(a.id.clone(), a);
            }
            Change::PutDepartureIncident(i) => {
                s.incidents.insert(i.id.clone(), i);
            }
            Change::PutGiftCard(g) => {
                s.gift_cards.insert(g.id.clone(), g);
            }
            Change::PutGiftCardMovement(m) => {
                s.gift_card_movements.insert(m.id.clone(), m);
            }
        }
    }
}

impl Mem {
    pub fn put_row(&self, r: CatalogueRow) {
        self.state.borrow_mut().rows.insert((r.kind(), r.id().to_string()), r);
    }

    fn policy_where(&self, f: impl Fn(&crate::catalogue::CancellationPolicyRow) -> bool) -> Option<CatalogueRow> {
        self.state.borrow().rows.values().find(|r| matches!(r, CatalogueRow::CancellationPolicy(p) if f(p))).cloned()
    }

    fn fetch_one(&self, key: &ReadKey) -> Fetched {
        match key {
            ReadKey::CatalogueRow(kind, id) => {
                return Fetched::Row(self.state.borrow().rows.get(&(*kind, id.clone())).cloned());
            }
            ReadKey::DefaultCancellationPolicy => return Fetched::Row(self.policy_where(|p| p.is_default)),
            ReadKey::OwnCancellationPolicy(t) => {
                return Fetched::Row(self.policy_where(|p| p.tour_id.as_deref() == Some(t)));
            }
            _ => {}
        }
        let s = self.state.borrow();
        match key {
            ReadKey::Tour(id) => Fetched::Tour(s.tours.get(id).cloned()),
            ReadKey::TourSlug(slug) => Fetched::Tour(s.tours.values().find(|t| &t.slug == slug).cloned()),
            ReadKey::Variant(id) => Fetched::Variant(s.variants.get(id).cloned()),
            ReadKey::VariantsOfTour(tour_id) => {
                Fetched::Variants(s.variants.values().filter(|v| &v.tour_id == tour_id).cloned().collect())
            }
            ReadKey::TourOfVariant(id) => {
                Fetched::Tour(s.variants.get(id).and_then(|v| s.tours.get(&v.tour_id)).cloned())
            }
            ReadKey::VariantsBeside(id) => {
                let tour = s.variants.get(id).map(|v| v.tour_id.clone());
                Fetched::Variants(s.variants.values().filter(|v| Some(&v.tour_id) == tour.as_ref()).cloned().collect())
            }
            ReadKey::PricingTier(id) => Fetched::Tier(s.tiers.get(id).cloned()),
            ReadKey::PricingCatalog(tour_id) => Fetched::Catalog(s.catalogs.get(tour_id).cloned()),
            ReadKey::CancellationPolicy(tour_id) => Fetched::Policy(s.policies.get(tour_id).cloned()),
            ReadKey::PromoCode(code) => Fetched::Promo(s.promos.get(code).cloned()),
            ReadKey::PromoUses { code, customer_id } => {
                Fetched::Count(s.promo_uses.get(&(code.clone(), customer_id.clone())).copied().unwrap_or(0))
            }
            ReadKey::Departure(id) => Fetched::Departure(s.departures.get(id).cloned()),
            ReadKey::DeparturesInRange { variant_id, from, until } => Fetched::Departures(
                s.departures
                    .values()
                    .filter(|d| &d.variant_id == variant_id && *from <= d.local_date && d.local_date <= *until)
                    .cloned()
                    .collect(),
            ),
            ReadKey::DepartureGuides(id) => {
                Fetched::DepartureGuides(s.departure_guides.get(id).cloned().unwrap_or_default())
            }
            ReadKey::GuideRemovals(id) => Fetched::GuideRemovals(s.guide_removals.get(id).cloned().unwrap_or_default()),
            ReadKey::Booking(id) => Fetched::Booking(s.bookings.get(id).cloned()),
            ReadKey::BookingReference(reference) => {
                Fetched::Taken(s.bookings.values().any(|b| b.reference_number.as_str() == reference))
            }
            ReadKey::BookingsOfDeparture(id) => {
                Fetched::Bookings(s.bookings.values().filter(|b| &b.departure_id == id).cloned().collect())
            }
            ReadKey::BookingsOfCustomer(id) => {
                Fetched::Bookings(s.bookings.values().filter(|b| &b.customer_id == id).cloned().collect())
            }
            ReadKey::CheckInsOfBooking(id) => {
                Fetched::CheckIns(s.check_ins.values().filter(|c| &c.booking_id == id).cloned().collect())
            }
            ReadKey::LedgerOfBooking(id) => {
                Fetched::Ledger(s.ledger.values().filter(|e| &e.booking_id == id).cloned().collect())
            }
            ReadKey::Customer(id) => Fetched::Customer(s.customers.get(id).cloned()),
            ReadKey::CustomerEmail(email) => {
                Fetched::Customer(s.customers.values().find(|c| c.email.as_ref() == Some(email)).cloned())
            }
            ReadKey::Guide(id) => Fetched::Guide(s.guides.get(id).cloned()),
            ReadKey::GuideSchedule(id) => {
                Fetched::GuideSchedule(s.guide_schedules.get(id).cloned().unwrap_or_default())
            }
            ReadKey::GuideAssignment { departure_id, guide_id } => Fetched::Assignment(
                s.assignments.values().find(|a| &a.departure_id == departure_id && &a.guide_id == guide_id).cloned(),
            ),
            ReadKey::Allotment(id) => Fetched::Allotment(s.allotments.get(id).cloned()),
            ReadKey::GiftCard(id) => Fetched::GiftCard(s.gift_cards.get(id).cloned()),
            ReadKey::GiftCardCode(code) => Fetched::GiftCard(s.gift_cards.values().find(|g| &g.code == code).cloned()),
            ReadKey::WaitlistEntry(id) => Fetched::WaitlistEntry(s.waitlist.get(id).cloned()),
            ReadKey::WaitlistOfCustomer(id) => {
                let mut all: Vec<_> = s.waitlist.values().filter(|e| &e.customer_id == id).cloned().collect();
                all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
                Fetched::WaitlistEntries(all)
            }
            ReadKey::CatalogueRow(..) | ReadKey::DefaultCancellationPolicy | ReadKey::OwnCancellationPolicy(_) => {
                unreachable!("answered above")
            }
        }
    }
}

/// The test double fetches like any store; the [`Snapshot`] refuses what was not declared.
impl FetchReads for Mem {
    fn fetch(&self, reads: &[Read]) -> Result<Vec<Fetched>, StoreFault> {
        Ok(reads.iter().map(|r| self.fetch_one(&r.key)).collect())
    }
}

/// Decodes and applies a mutation the way the server does: only the keys of `reads()` are
/// readable, and `reads()` must come sorted and without repeats.
pub fn run_ctx(mem: &Mem, name: &str, args: Value, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
    let m = Mutation::decode(name, &args)?;
    let keys = m.reads();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{name}: reads() not sorted/unique: {keys:?}");
    let out = m.run(mem, ctx);
    if let Err(ApplyError::Store(f)) = &out {
        panic!("{name}: {f}");
    }
    if let Ok(changes) = &out {
        for key in m.reads().iter().filter(|k| !m.locks(k)) {
            let written = changes.iter().find(|c| writes(c, key));
            assert!(written.is_none(), "{name}: writes {written:?}, which it read without a lock ({key:?})");
        }
    }
    out
}

/// Whether `change` writes a row behind `key`: a mutation must lock what it writes. A booking
/// reference is the exception by design: it is read unlocked and written, and the unique index
/// on references refuses the loser of a race.
fn writes(change: &Change, key: &ReadKey) -> bool {
    match (change, key) {
        (Change::PutTour(t), ReadKey::Tour(id)) => &t.id == id,
        (Change::PutTour(t), ReadKey::TourSlug(slug)) => &t.slug == slug,
        (Change::PutVariant(v), ReadKey::Variant(id)) => &v.id == id,
        (Change::PutVariant(v), ReadKey::VariantsOfTour(tour_id)) => &v.tour_id == tour_id,
        (Change::PutVariant(v), ReadKey::VariantsBeside(id)) => &v.id == id,
        (Change::PutPricingTier(t), ReadKey::PricingTier(id)) => &t.id == id,
        (Change::PutPricingTier(t), ReadKey::PricingCatalog(tour_id)) => &t.tour_id == tour_id,
        (Change::PutDeparture(d), ReadKey::Departure(id)) => &d.id == id,
        (Change::PutDeparture(d), ReadKey::DeparturesInRange { variant_id, .. }) => &d.variant_id == variant_id,
        (Change::PutBooking(b), ReadKey::Booking(id)) => &b.id == id,
        (Change::PutBooking(b), ReadKey::BookingsOfDeparture(id)) => &b.departure_id == id,
        // A merge moves the duplicate's bookings (locked as its bookings) to the survivor.
        (Change::PutBooking(_), ReadKey::BookingsOfCustomer(_)) => true,
        (Change::PutCustomer(c), ReadKey::Customer(id)) => &c.id == id,
        (Change::PutCustomer(c), ReadKey::CustomerEmail(email)) => {
            c.email.as_ref().is_some_and(|e| &e.to_lowercase() == email)
        }
        (Change::PutCheckIn(ci), ReadKey::CheckInsOfBooking(id)) => &ci.booking_id == id,
        (Change::PutGuideAssignment(a), ReadKey::GuideAssignment { departure_id, guide_id }) => {
            &a.departure_id == departure_id && &a.guide_id == guide_id
        }
        (Change::PutGuide(g), ReadKey::Guide(id)) => &g.id == id,
        (Change::PutGuideAssignment(a), ReadKey::GuideSchedule(guide_id)) => &a.guide_id == guide_id,
        (Change::PutGuideAssignment(a), ReadKey::DepartureGuides(id)) => &a.departure_id == id,
        (Change::IncrementPromoUses { .. }, ReadKey::PromoCode(_) | ReadKey::PromoUses { .. }) => true,
        (Change::PutAllotment(a), ReadKey::Allotment(id)) => &a.id == id,
        (Change::PutGiftCard(g), ReadKey::GiftCard(id)) => &g.id == id,
        (Change::PutGiftCard(g), ReadKey::GiftCardCode(code)) => &g.code == code,
        (Change::PutWaitlistEntry(e), ReadKey::WaitlistEntry(id)) => &e.id == id,
        // A merge moves the duplicate's entries (locked as its entries) to the survivor.
        (Change::PutWaitlistEntry(_), ReadKey::WaitlistOfCustomer(_)) => true,
        _ => false,
    }
}

pub fn run(mem: &Mem, name: &str, args: Value, role: Role) -> Result<Vec<Change>, ApplyError> {
    run_ctx(mem, name, args, &ctx(role))
}

pub fn run_ok(mem: &Mem, name: &str, args: Value, role: Role) -> Vec<Change> {
    match run(mem, name, args.clone(), role) {
        Ok(c) => c,
        Err(e) => panic!("{name} {args}: expected success, got {e:?}"),
    }
}

/// The rejection code; panics on success.
pub fn run_err(mem: &Mem, name: &str, args: Value, role: Role) -> &'static str {
    match run(mem, name, args.clone(), role) {
        Err(ApplyError::Rejected(r)) => r.code(),
        other => panic!("{name} {args}: expected a rejection, got {other:?}"),
    }
}

/// Applies and writes the changes, like a store committing the mutation.
pub fn run_write(mem: &Mem, name: &str, args: Value, role: Role) -> Vec<Change> {
    let changes = run_ok(mem, name, args, role);
    for c in &changes {
        mem.write(c.clone());
    }
    changes
}

pub fn patch(mut v: Value, fields: &[(&str, Value)]) -> Value {
    for (k, x) in fields {
        v[*k] = x.clone();
    }
    v
}

/// One active tour with a variant, prices, a policy, a promo code, an open departure led by
/// [`GUIDE`], a customer and the guide.
pub fn world() -> Mem {
    let mem = Mem::default();
    mem.put_tour(tour());
    mem.put_variant(variant());
    mem.put_departure(departure());
    mem.put_customer(customer());
    {
        let mut s = mem.state.borrow_mut();
        s.catalogs.insert(TOUR.into(), catalog());
        s.policies.insert(TOUR.into(), policy());
        s.promos.insert("SUMMER10".into(), promo());
        s.guides.insert(GUIDE.into(), guide());
        s.departure_guides.insert(
            DEPARTURE.into(),
            vec![DepartureGuide {
                guide_id: GUIDE.into(),
                user_id: Some(GUIDE_USER.into()),
                status: AssignmentStatus::Confirmed,
                role: Default::default(),
            }],
        );
        s.tiers.insert(ADULT.into(), adult_tier());
    }
    mem
}

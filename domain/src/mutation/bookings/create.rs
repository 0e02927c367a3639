//! `create_booking.v1`, with the reference numbers it tries (see the module docs of `bookings`).

use super::*;

/// How many references are tried per booking. With 729 million suffixes per year, three
/// collisions in a row do not happen to an organization of any realistic size.
pub const REFERENCE_CANDIDATES: u64 = 3;

fn default_source() -> BookingSource {
    BookingSource::Admin
}

priced_booking_args! {
    /// Arguments of `create_booking.v1`. `tour_id` and `departure_id` name the rows the price and
    /// the seats come from; see the module docs for the reference and the override.
    pub struct CreateBookingV1 {
        pub id: String,
    } on_departure {
        pub customer_id: String,
    } priced {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub special_requests: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub dietary_restrictions: Option<String>,
        #[serde(default = "default_source")]
        pub source: BookingSource,
        pub reference_year: i32,
        pub reference_entropy: u64,
    } checked {
        /// Hold the seats unpaid for this long (clamped by `payment::hold_until`), after which the
        /// hold-expiry job releases them: a website sale waiting for its payment.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub hold_seconds: Option<u64>,
    }
}

/// splitmix64: spreads one seed into independent-looking values, so candidate references do
/// not sit next to each other.
fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed.wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The references tried for a booking, in order. The first is generated from the entropy
/// itself, so a desk that shows `ReferenceNumber::generate(year, entropy)` shows the usual one.
pub fn reference_candidates(year: i32, entropy: u64) -> Vec<ReferenceNumber> {
    (0..REFERENCE_CANDIDATES)
        .filter_map(|i| ReferenceNumber::generate(year, if i == 0 { entropy } else { mix(entropy, i) }).ok())
        .collect()
}

impl Mutator for CreateBookingV1 {
    fn reads(&self) -> Vec<ReadKey> {
        let tour_id = norm_ref(&self.tour_id);
        let customer_id = norm_ref(&self.customer_id);
        let mut keys = vec![
            ReadKey::Tour(tour_id.clone()),
            ReadKey::PricingCatalog(tour_id),
            ReadKey::Departure(norm_ref(&self.departure_id)),
            ReadKey::Booking(norm_id(&self.id)),
            ReadKey::Customer(customer_id.clone()),
        ];
        keys.extend(
            reference_candidates(self.reference_year, self.reference_entropy)
                .into_iter()
                .map(|r| ReadKey::BookingReference(r.to_string())),
        );
        if let Ok(Some(code)) = promo_code_of(self.promo_code.as_deref()) {
            keys.push(ReadKey::PromoCode(code.clone()));
            keys.push(ReadKey::PromoUses { code, customer_id });
        }
        keys
    }

    /// The departure (seats), the customer (whose guide buckets follow the booking) and the
    /// promo code (its use counter) are locked; the tour and its prices are only consulted, and
    /// a reference number is guarded by the unique index.
    fn locks(&self, key: &ReadKey) -> bool {
        !matches!(key, ReadKey::Tour(_) | ReadKey::PricingCatalog(_) | ReadKey::BookingReference(_))
    }

    fn apply(&self, view: &dyn ReadView, ctx: &MutationCtx) -> Result<Vec<Change>, ApplyError> {
        require(ctx, Permission::BookingsWrite, "make bookings")?;
        self.decide(view, ctx, SeatSource::Capacity)
    }
}

/// Where a new booking's seats come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeatSource {
    /// The departure's free seats, under `capacity::check_booking`.
    Capacity,
    /// An allotment that took them from the departure when it was issued (`allotment`): the
    /// departure's count does not move and a full departure still sells; only a cancelled or
    /// completed one refuses.
    Allotment,
}

impl CreateBookingV1 {
    /// Decides the booking; the caller has checked the role may make it.
    pub(crate) fn decide(
        &self,
        view: &dyn ReadView,
        ctx: &MutationCtx,
        seats: SeatSource,
    ) -> Result<Vec<Change>, ApplyError> {
        let id = validate::id("id", &self.id)?;
        let tour_id = validate::row_ref("tour_id", &self.tour_id)?;
        let departure_id = validate::row_ref("departure_id", &self.departure_id)?;
        let customer_id = validate::row_ref("customer_id", &self.customer_id)?;
        let people = participants(&self.lines)?;
        let special_requests = validate::opt_text("special_requests", self.special_requests.as_deref(), 2000)?;
        let dietary_restrictions =
            validate::opt_text("dietary_restrictions", self.dietary_restrictions.as_deref(), 2000)?;
        let year = ctx.now.year();
        if !(year - 1..=year + 1).contains(&self.reference_year) {
            return Err(FieldError::new("reference_year", format!("must be within a year of {year}")).into());
        }
        let manager_override = overbook_override(ctx, self.overbook.as_ref())?;

        if view.booking(&id)?.is_some() {
            return Err(Rejection::conflict("id", format!("booking {id} already exists")).into());
        }
        let tour = view.tour(&tour_id)?.ok_or_else(|| Rejection::not_found("tour", &tour_id))?;
        if !crate::offer::tour_on_sale(&tour) {
            return Err(
                Rejection::conflict("tour_id", format!("{} is {} and not on sale", tour.name, tour.status)).into()
            );
        }
        let mut dep = departure_of(view, &departure_id, &tour_id)?;
        view.customer(&customer_id)?.ok_or_else(|| Rejection::not_found("customer", &customer_id))?;
        let promo = match promo_code_of(self.promo_code.as_deref())? {
            None => None,
            Some(code) => {
                let found =
                    view.promo_code(&code)?.ok_or(Rejection::PromoRefused { refusal: PromoRefusal::NotFound })?;
                Some(Promo { code: found, customer_uses: view.promo_uses(&code, &customer_id)? })
            }
        };
        let snapshot =
            price(view, ctx, &tour_id, &dep, self.price_request(promo.as_ref(), self.manual_discount.as_ref()))?;
        let outcome = match seats {
            SeatSource::Capacity => {
                let outcome = capacity::check_booking(&dep, snapshot.participants(), manager_override.as_ref())?;
                take_seats(&mut dep, &outcome);
                outcome
            }
            SeatSource::Allotment => {
                if matches!(dep.status, DepartureStatus::Cancelled | DepartureStatus::Completed) {
                    return Err(Rejection::DepartureNotBookable { status: dep.status }.into());
                }
                CapacityOutcome::Within { booked_after: dep.booked_count, seats_left: dep.seats_left() }
            }
        };

        let mut reference = None;
        for candidate in reference_candidates(self.reference_year, self.reference_entropy) {
            if !view.booking_reference_taken(candidate.as_str())? {
                reference = Some(candidate);
                break;
            }
        }
        let reference_number = reference
            .ok_or_else(|| Rejection::conflict("reference_entropy", "every candidate reference is taken; retry"))?;

        let zero = Money::zero(snapshot.total.currency);
        let booking = Booking {
            id: id.clone(),
            organization_id: ctx.organization_id.clone(),
            reference_number,
            customer_id,
            departure_id,
            tour_id,
            variant_id: dep.variant_id.clone(),
            participants: people,
            status: BookingStatus::Pending,
            payment_status: PaymentStatus::Unpaid,
            paid_amount: zero,
            refunded_amount: zero,
            source: self.source,
            special_requests,
            dietary_restrictions,
            overbook: match &outcome {
                CapacityOutcome::Overbooked { by, .. } => Some(by.clone()),
                CapacityOutcome::Within { .. } => None,
            },
            cancellation: None,
            checked_in: 0,
            no_shows: 0,
            created_at: ctx.now,
            confirmed_at: None,
            cancelled_at: None,
            updated_at: ctx.now,
            pricing: snapshot,
        };
        let mut changes = Vec::new();
        if let Some(code_id) = &booking.pricing.promotional_code_id {
            changes.push(Change::IncrementPromoUses { promo_code_id: code_id.clone() });
        }
        changes.extend(overbook_audit(ctx, &dep, &id, &outcome));
        if let Some(seconds) = self.hold_seconds {
            changes.push(Change::HoldSeats {
                booking_id: id.clone(),
                until: crate::payment::hold_until(ctx.now, seconds),
            });
        }
        if seats == SeatSource::Capacity {
            changes.insert(0, Change::PutDeparture(dep));
        }
        changes.insert(0, Change::PutBooking(booking));
        Ok(changes)
    }
}

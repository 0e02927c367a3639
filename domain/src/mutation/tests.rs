//! Properties every mutation shares: names, wire round-trips, declared reads, rejection codes.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::testkit::*;
use super::*;
use crate::roles::Role;

/// One valid argument set per mutation name, each accepted against [`world`].
pub fn samples() -> Vec<(&'static str, Value)> {
    let uuid = |n: u32| format!("00000000-0000-4000-8000-{n:012}");
    let stamp = hlc(1_000, "desk-a").to_string();
    vec![
        (
            "create_tour.v1",
            json!({"id": uuid(1), "name": "Harbour Lights", "duration_minutes": 90, "default_capacity": 12,
                   "category": "walking", "timezone": "Europe/London"}),
        ),
        ("update_tour.v1", json!({"id": TOUR, "name": "Old Town Evening", "status": "archived"})),
        ("create_variant.v1", json!({"id": uuid(2), "tour_id": TOUR, "name": "Private", "capacity": 4})),
        ("update_variant.v1", json!({"id": VARIANT, "capacity": null, "duration_minutes": 90})),
        (
            "upsert_pricing_tier.v1",
            json!({"id": uuid(3), "tour_id": TOUR, "variant_id": VARIANT, "name": "Senior",
                   "base_price": {"amount": 4000, "currency": "USD"}, "min_age": 65}),
        ),
        (
            "upsert_pricing_tier.v2",
            json!({"id": uuid(3), "tour_id": TOUR, "variant_id": VARIANT, "name": "Senior",
                   "base_price": {"amount": 4000, "currency": "USD"}, "min_age": 65,
                   "valid_from": "2026-07-01", "valid_until": "2026-09-30", "max_per_booking": 4}),
        ),
        (
            "generate_departures.v1",
            json!({"tour_id": TOUR, "variant_id": VARIANT, "from": "2026-07-01", "until": "2026-07-31",
                   "pattern": {"type": "recurring", "days_of_week": [1, 5], "start_times": ["09:00:00"]}}),
        ),
        ("set_departure_status.v1", json!({"departure_id": DEPARTURE, "status": "cancelled", "reason": "storm"})),
        ("set_departure_capacity.v1", json!({"departure_id": DEPARTURE, "capacity": 14})),
        (
            "create_booking.v1",
            json!({"id": uuid(4), "tour_id": TOUR, "departure_id": DEPARTURE, "customer_id": CUSTOMER,
                   "lines": [{"tier_id": ADULT, "quantity": 2,
                              "participants": [{"first_name": "Ana", "last_name": "Silva", "age": 34}]}],
                   "promo_code": "summer10", "reference_year": 2026, "reference_entropy": 42,
                   "expected_total": {"amount": 9000, "currency": "USD"}, "overbook": {"reason": "VIP"}}),
        ),
        (
            "modify_booking.v1",
            json!({"booking_id": "b-1", "tour_id": TOUR, "departure_id": DEPARTURE,
                   "lines": [{"tier_id": ADULT, "quantity": 3}]}),
        ),
        (
            "cancel_booking.v1",
            json!({"booking_id": "b-1", "tour_id": TOUR, "departure_id": DEPARTURE, "reason": "ill"}),
        ),
        (
            "check_in.v1",
            json!({"nonce": uuid(5), "booking_id": "b-1", "departure_id": DEPARTURE, "participant": 0,
                   "at": "2026-06-01T12:00:00Z"}),
        ),
        (
            "mark_no_show.v1",
            json!({"nonce": uuid(6), "booking_id": "b-1", "departure_id": DEPARTURE, "participant": 1,
                   "at": "2026-06-01T12:00:00Z"}),
        ),
        (
            "create_customer.v1",
            json!({"id": uuid(7), "email": "Bo@Example.com", "phone": "+1 212 555 0100", "first_name": "Bo",
                   "last_name": "Lind", "preferred_language": "sv", "preferred_currency": "SEK",
                   "marketing_consent": true, "tags": ["VIP"], "notes": "Allergic to nuts", "hlc": stamp}),
        ),
        (
            "set_customer_field.v1",
            json!({"customer_id": CUSTOMER, "set": {"field": "email", "value": "ana.s@example.com"}, "hlc": stamp}),
        ),
        ("add_customer_tag.v1", json!({"customer_id": CUSTOMER, "tag": "vip", "hlc": stamp})),
        ("remove_customer_tag.v1", json!({"customer_id": CUSTOMER, "tag": "vip", "hlc": stamp})),
        ("edit_customer_notes.v1", json!({"customer_id": CUSTOMER, "base_version": 3, "text": "Mornings only"})),
        (
            "assign_guide.v1",
            json!({"id": uuid(8), "departure_id": DEPARTURE, "guide_id": GUIDE, "required_language": "fr",
                   "turnaround_minutes": 30}),
        ),
        ("unassign_guide.v1", json!({"departure_id": DEPARTURE, "guide_id": GUIDE})),
        (
            "assign_guide.v2",
            json!({"id": uuid(8), "departure_id": DEPARTURE, "guide_id": GUIDE, "role": "lead",
                   "required_language": "fr", "turnaround_minutes": 30}),
        ),
        (
            "upsert_guide.v1",
            json!({"id": GUIDE, "first_name": "Gil", "last_name": "Moss", "email": "gil@example.com",
                   "languages": ["en", "fr", "es"], "timezone": "Europe/London", "status": "active",
                   "qualified_tour_ids": [TOUR]}),
        ),
        (
            "add_to_waitlist.v1",
            json!({"id": uuid(9), "tour_id": TOUR, "departure_id": DEPARTURE, "customer_id": CUSTOMER,
                   "lines": [{"tier_id": ADULT, "quantity": 2}]}),
        ),
        ("cancel_departure.v1", json!({"departure_id": DEPARTURE, "reason": "Storm warning"})),
        (
            "record_payment.v1",
            json!({"nonce": uuid(10), "booking_id": "b-unpaid", "method": "card_terminal", "amount": 5000,
                   "currency": "USD", "reference": "T-0042", "at": "2026-06-01T12:00:00Z"}),
        ),
        (
            "issue_gift_card.v1",
            json!({"id": uuid(20), "code": "NEWC-ARDC-ODE2-3456", "amount": 5000, "currency": "USD",
                   "payment_method": "cash", "at": "2026-06-01T12:00:00Z"}),
        ),
        (
            "redeem_gift_card.v1",
            json!({"nonce": uuid(21), "booking_id": "b-unpaid", "code": "gift-card-0001", "amount": 2000,
                   "currency": "USD", "at": "2026-06-01T12:00:00Z"}),
        ),
        (
            "upsert_season.v1",
            json!({"id": uuid(10), "tour_id": TOUR, "name": "Summer", "start_date": "2026-07-01",
                   "end_date": "2026-08-31", "adjustment": {"type": "percentage", "value": 1000}, "priority": 1}),
        ),
        ("delete_season.v1", json!({"id": uuid(10)})),
        (
            "upsert_promo_code.v1",
            json!({"id": uuid(11), "code": "AUTUMN5", "discount": {"type": "fixed", "value": {"amount": 500, "currency": "USD"}},
                   "valid_from": "2026-09-01T00:00:00Z", "valid_until": "2026-12-01T00:00:00Z", "max_uses": 10}),
        ),
        ("set_promo_code_status.v1", json!({"id": "promo-row-1", "status": "inactive"})),
        ("upsert_tax_rate.v1", json!({"id": uuid(12), "name": "VAT", "rate": 2300, "inclusive": true})),
        (
            "upsert_cancellation_policy.v1",
            json!({"id": uuid(13), "tour_id": TOUR, "name": "Strict",
                   "rules": [{"hours_before_tour": 72, "refund_percentage": 100}]}),
        ),
        ("upsert_tour_faq.v1", json!({"id": uuid(14), "tour_id": TOUR, "question": "Dogs?", "answer": "On a lead."})),
        ("delete_tour_faq.v1", json!({"id": uuid(14)})),
        (
            "upsert_tour_inclusion.v1",
            json!({"id": uuid(15), "tour_id": TOUR, "kind": "inclusion", "text": "Tasting of three wines"}),
        ),
        ("delete_tour_inclusion.v1", json!({"id": uuid(15)})),
        ("reorder_tour_faqs.v1", json!({"tour_id": TOUR, "ids": [uuid(14)]})),
        ("reorder_tour_inclusions.v1", json!({"tour_id": TOUR, "ids": [uuid(15)]})),
        (
            "create_departure.v1",
            json!({"tour_id": TOUR, "variant_id": VARIANT, "local_date": "2026-07-11", "local_time": "10:30:00",
                   "capacity": 8, "notes": "Private group"}),
        ),
        ("set_departure_notes.v1", json!({"departure_id": DEPARTURE, "notes": "Meet at the north gate"})),
        (
            "issue_allotment.v1",
            json!({"id": uuid(30), "departure_id": DEPARTURE, "device_id": "dev-1", "user_id": STAFF, "seats": 2}),
        ),
        ("sell_walk_up.v1", super::allotments::tests::walk_up_args(1, "cash")),
        (
            "release_allotment.v1",
            json!({"allotment_id": super::allotments::tests::ALLOTMENT, "departure_id": DEPARTURE}),
        ),
        (
            "upsert_group_discount.v1",
            json!({"id": uuid(16), "tour_id": TOUR, "min_participants": 6,
                   "discount": {"type": "percentage", "value": 1000}}),
        ),
        ("delete_group_discount.v1", json!({"id": uuid(17)})),
        (
            "upsert_early_bird_discount.v1",
            json!({"id": uuid(18), "tour_id": TOUR, "min_days_before": 30,
                   "discount": {"type": "percentage", "value": 500}}),
        ),
        ("delete_early_bird_discount.v1", json!({"id": uuid(19)})),
        ("set_tour_cancellation_policy.v1", json!({"tour_id": TOUR, "cancellation_policy_id": uuid(20)})),
        (
            "move_booking.v1",
            json!({"booking_id": "b-1", "tour_id": TOUR, "from_departure_id": DEPARTURE,
                   "to_departure_id": "v-1@2026-07-12T09:00:00", "reason": "Customer asked"}),
        ),
        (
            "record_departure_incident.v1",
            json!({"nonce": uuid(40), "departure_id": DEPARTURE, "at": "2026-06-01T11:00:00Z", "text": "Bus late"}),
        ),
        (
            "merge_customers.v1",
            json!({"survivor_id": CUSTOMER, "duplicate_id": "00000000-0000-4000-8000-0000000c0077",
                   "hlc": hlc(0, "desk-a").to_string()}),
        ),
        ("erase_customer.v1", json!({"customer_id": CUSTOMER, "hlc": hlc(0, "desk-a").to_string()})),
        ("resend_confirmation.v1", json!({"booking_id": "b-1"})),
        (
            "send_customer_message.v1",
            json!({"nonce": uuid(41), "booking_id": "b-1", "customer_id": CUSTOMER, "channel": "email",
                   "subject": "Meeting point", "body": "By the fountain."}),
        ),
        (
            "record_refund.v1",
            json!({"nonce": uuid(42), "booking_id": "b-over", "method": "cash", "amount": 100, "currency": "USD",
                   "at": "2026-06-01T11:00:00Z"}),
        ),
        ("remove_from_waitlist.v1", json!({"id": "w-1"})),
        (
            "expire_hold.v1",
            json!({"booking_id": "b-unpaid", "tour_id": TOUR, "departure_id": DEPARTURE,
                   "hold_expires_at": "2026-06-01T11:00:00Z", "redemptions": []}),
        ),
    ]
}

fn sample_world() -> Mem {
    let mem = world();
    mem.put_customer(Customer {
        id: "00000000-0000-4000-8000-0000000c0077".into(),
        email: Some("ana.two@example.com".into()),
        ..customer()
    });
    mem.write(Change::PutAllotment(super::allotments::tests::allotment(STAFF, 3)));
    mem.put_booking(booking(
        "b-1",
        2,
        crate::status::BookingStatus::Confirmed,
        crate::status::PaymentStatus::Paid,
        10_000,
    ));
    mem.put_booking(booking(
        "b-unpaid",
        1,
        crate::status::BookingStatus::Pending,
        crate::status::PaymentStatus::Unpaid,
        0,
    ));
    // Paid in cash, then made cheaper: $30.00 is owed back by hand (`record_refund.v1`).
    let mut over =
        booking("b-over", 2, crate::status::BookingStatus::Confirmed, crate::status::PaymentStatus::Paid, 10_000);
    over.pricing.total = usd(7_000);
    mem.put_booking(over.clone());
    mem.write(Change::PutLedgerEntry(crate::ledger::LedgerEntry {
        id: "00000000-0000-4000-8000-0000000000c5".into(),
        organization_id: ORG.into(),
        booking_id: over.id.clone(),
        departure_id: over.departure_id.clone(),
        kind: crate::ledger::EntryKind::Cash,
        amount: 10_000,
        currency: crate::money::Currency::USD,
        note: None,
        reference: None,
        recorded_by: STAFF.into(),
        recorded_at: now(),
        method: None,
    }));
    mem.put_departure(Departure { booked_count: 2, ..departure() });
    // The departure `move_booking.v1` moves b-1 to.
    mem.put_departure(Departure {
        id: "v-1@2026-07-12T09:00:00".into(),
        local_date: chrono::NaiveDate::from_ymd_opt(2026, 7, 12).unwrap(),
        starts_at: departure().starts_at + chrono::Duration::days(2),
        ends_at: departure().ends_at + chrono::Duration::days(2),
        ..departure()
    });
    let declined = GuideAssignment {
        id: "a-1".into(),
        organization_id: ORG.into(),
        departure_id: DEPARTURE.into(),
        guide_id: GUIDE.into(),
        status: crate::guides::AssignmentStatus::Declined,
        assigned_at: now(),
        confirmed_at: None,
        notes: None,
        role: Default::default(),
        override_reason: None,
    };
    mem.write(Change::PutGuideAssignment(declined));
    let p = promo();
    mem.put_row(crate::catalogue::CatalogueRow::PromoCode(crate::catalogue::PromotionalCode {
        id: "promo-row-1".into(),
        organization_id: ORG.into(),
        code: "ROW1".into(),
        discount: p.discount,
        min_booking_value: p.min_booking_value,
        max_uses: p.max_uses,
        max_uses_per_customer: p.max_uses_per_customer,
        valid_from: p.valid_from,
        valid_until: p.valid_until,
        applicable_tour_ids: vec![],
        applicable_variant_ids: vec![],
        current_uses: 0,
        status: crate::pricing::PromoStatus::Active,
    }));
    // Rows the delete samples remove (and the upsert samples replace).
    let uuid = |n: u32| format!("00000000-0000-4000-8000-{n:012}");
    mem.write(Change::PutGiftCard(crate::gift_card::GiftCard {
        id: uuid(22),
        organization_id: ORG.into(),
        code: "GIFTCARD0001".into(),
        currency: crate::money::Currency::USD,
        issued_amount: 5_000,
        balance: 5_000,
        expires_at: None,
        purchaser_name: None,
        recipient_name: None,
        note: None,
        issued_by: STAFF.into(),
        issued_at: now(),
        updated_at: now(),
    }));
    use crate::catalogue::{CatalogueRow, InclusionKind, Season, TourFaq, TourInclusion};
    mem.put_row(CatalogueRow::Season(Season {
        id: uuid(10),
        organization_id: ORG.into(),
        tour_id: TOUR.into(),
        name: "Winter".into(),
        start_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        end_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
        adjustment: crate::pricing::Adjustment::Percentage(crate::money::Percent::whole(-10)),
        priority: 0,
    }));
    mem.put_row(CatalogueRow::TourFaq(TourFaq {
        id: uuid(14),
        organization_id: ORG.into(),
        tour_id: TOUR.into(),
        question: "Cats?".into(),
        answer: "No.".into(),
        sort_order: 3,
        is_published: true,
    }));
    mem.put_row(CatalogueRow::TourInclusion(TourInclusion {
        id: uuid(15),
        organization_id: ORG.into(),
        tour_id: TOUR.into(),
        kind: InclusionKind::Exclusion,
        text: "Lunch".into(),
        icon: None,
        sort_order: 3,
    }));
    let percent = crate::pricing::Adjustment::Percentage(crate::money::Percent::whole(5));
    mem.put_row(CatalogueRow::GroupDiscount(crate::catalogue::GroupDiscountRule {
        id: uuid(17),
        organization_id: ORG.into(),
        tour_id: TOUR.into(),
        min_participants: 12,
        discount: percent,
    }));
    mem.put_row(CatalogueRow::EarlyBirdDiscount(crate::catalogue::EarlyBirdRule {
        id: uuid(19),
        organization_id: ORG.into(),
        tour_id: TOUR.into(),
        min_days_before: 90,
        discount: percent,
    }));
    mem.put_row(CatalogueRow::CancellationPolicy(crate::catalogue::CancellationPolicyRow {
        id: uuid(20),
        organization_id: ORG.into(),
        tour_id: None,
        name: "Flexible".into(),
        description: String::new(),
        rules: vec![],
        is_default: false,
    }));
    mem.state.borrow_mut().waitlist.insert(
        "w-1".into(),
        WaitlistEntry {
            id: "w-1".into(),
            organization_id: ORG.into(),
            tour_id: TOUR.into(),
            departure_id: DEPARTURE.into(),
            customer_id: CUSTOMER.into(),
            lines: vec![crate::entities::WaitlistLine { tier_id: ADULT.into(), quantity: 2 }],
            party_size: 2,
            notes: None,
            created_by: STAFF.into(),
            created_at: now(),
            status: crate::waitlist::WaitlistStatus::Waiting,
            offered_at: None,
            offer_expires_at: None,
            offer_booking_id: None,
        },
    );
    mem
}

#[test]
fn every_name_has_a_sample_and_names_are_unique() {
    let names: BTreeSet<&str> = Mutation::NAMES.iter().copied().collect();
    assert_eq!(names.len(), Mutation::NAMES.len());
    let sampled: BTreeSet<&str> = samples().iter().map(|(n, _)| *n).collect();
    assert_eq!(sampled, names);
    // Every name is versioned, and a later version never replaces an earlier one: a desk
    // offline across an upgrade still drains its queue.
    for n in Mutation::NAMES {
        let (base, version) = n.rsplit_once(".v").unwrap_or_else(|| panic!("{n} has no version"));
        let v: u32 = version.parse().unwrap_or_else(|_| panic!("{n}: version"));
        for earlier in 1..v {
            assert!(names.contains(format!("{base}.v{earlier}").as_str()), "{n} without v{earlier}");
        }
    }
}

#[test]
fn decode_of_name_and_args_round_trips() {
    for (name, args) in samples() {
        let m = Mutation::decode(name, &args).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(m.name(), name);
        assert_eq!(Mutation::decode(m.name(), &m.args()), Ok(m.clone()), "{name}");
    }
    assert_eq!(Mutation::decode("drop_tables.v1", &json!({})).unwrap_err().code(), "UNKNOWN_MUTATION");
    assert_eq!(Mutation::decode("create_tour.v1", &json!({"id": 1})).unwrap_err().code(), "INVALID");
}

/// Every sample, as every role, only reads what it declared (the test double panics on an
/// undeclared read) and `reads()` is sorted without repeats.
#[test]
fn reads_are_sorted_and_cover_every_read() {
    for (name, args) in samples() {
        for role in Role::ALL {
            let mem = sample_world();
            let _ = run(&mem, name, args.clone(), *role);
        }
    }
}

#[test]
fn samples_are_accepted_and_change_something() {
    for (name, args) in samples() {
        // A guide's field note is written by the guide leading the departure, and only by them.
        let role = if name == "record_departure_incident.v1" { Role::Guide } else { Role::Owner };
        let changes = run_ok(&sample_world(), name, args, role);
        assert!(!changes.is_empty(), "{name}");
    }
}

#[test]
fn rejection_codes_are_their_serde_tags() {
    use crate::pricing::{PricingError, PromoRefusal};
    let all = vec![
        Rejection::Invalid(crate::validate::FieldError::new("f", "m")),
        Rejection::conflict("f", "m"),
        Rejection::not_found("tour", "t"),
        Rejection::NotAuthorized { action: "a".into() },
        Rejection::UnknownMutation { name: "x".into() },
        Rejection::CapacityExceeded { requested: 3, seats_left: 1 },
        Rejection::DepartureNotBookable { status: DepartureStatus::Closed },
        Rejection::CapacityBelowBooked { capacity: 2, booked: 3 },
        Rejection::ForbiddenTransition { entity: "tour".into(), from: "archived".into(), to: "active".into() },
        Rejection::PricingError { error: PricingError::NoLines },
        Rejection::PromoRefused { refusal: PromoRefusal::NotFound },
        Rejection::PriceChanged { expected: usd(1), actual: usd(2) },
        Rejection::GuideConflict {
            conflicts: crate::guides::GuideConflicts(vec![crate::guides::GuideConflict::InvalidWindow]),
        },
        Rejection::ClockSkew { field: "hlc".into(), stamp: "x".into() },
        Rejection::AllotmentExceeded { seats: 2, sold: 2, requested: 1 },
    ];
    for r in all {
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["code"], r.code(), "{v}");
        assert_eq!(serde_json::from_value::<Rejection>(v).unwrap(), r);
        assert!(!r.to_string().is_empty());
    }
}

/// A store that knows only tours — like the ones written before the other entities — reports
/// the missing reads as faults (retried), never as business answers.
#[test]
fn unsupported_reads_are_faults() {
    struct ToursOnly;
    impl ReadView for ToursOnly {
        fn tour(&self, _: &str) -> Result<Option<Tour>, StoreFault> {
            Ok(Some(tour()))
        }
        fn tour_by_slug(&self, _: &str) -> Result<Option<Tour>, StoreFault> {
            Ok(None)
        }
    }
    let (name, args) = samples().into_iter().find(|(n, _)| *n == "create_booking.v1").unwrap();
    let m = Mutation::decode(name, &args).unwrap();
    assert!(matches!(m.apply(&ToursOnly, &ctx(Role::Owner)), Err(ApplyError::Store(_))));
}

/// A website booking must not queue behind every other booking of its tour: the server locks
/// its departure, customer and promo code, and only consults the tour and its prices. Every
/// other mutation locks everything it reads (`run_ctx` checks none writes an unlocked row).
#[test]
fn bookings_lock_their_departure_and_only_consult_the_tour() {
    for (name, args) in samples() {
        let m = Mutation::decode(name, &args).unwrap();
        let unlocked: Vec<ReadKey> = m.reads().into_iter().filter(|k| !m.locks(k)).collect();
        match name {
            "create_booking.v1" => {
                assert!(unlocked.iter().any(|k| matches!(k, ReadKey::Tour(_))), "{unlocked:?}");
                assert!(unlocked.iter().any(|k| matches!(k, ReadKey::PricingCatalog(_))), "{unlocked:?}");
                for k in m.reads() {
                    if matches!(k, ReadKey::Departure(_) | ReadKey::Customer(_) | ReadKey::Booking(_)) {
                        assert!(m.locks(&k), "{k:?}");
                    }
                }
            }
            // Asked by a guide, an allotment consults who leads the departure.
            "issue_allotment.v1" => {
                assert!(unlocked.iter().all(|k| matches!(k, ReadKey::DepartureGuides(_))), "{unlocked:?}");
            }
            "sell_walk_up.v1" => {
                assert!(
                    unlocked.iter().all(|k| matches!(
                        k,
                        ReadKey::Tour(_) | ReadKey::PricingCatalog(_) | ReadKey::BookingReference(_)
                    )),
                    "{unlocked:?}"
                );
            }
            // Prices are consulted; the ledger is read under the booking's lock.
            "modify_booking.v1" => {
                assert!(
                    unlocked.iter().all(|k| matches!(k, ReadKey::PricingCatalog(_) | ReadKey::LedgerOfBooking(_))),
                    "{unlocked:?}"
                );
                assert!(m.reads().iter().filter(|k| matches!(k, ReadKey::Departure(_))).all(|k| m.locks(k)));
            }
            // The policy is consulted; the ledger is read under the booking's lock.
            "cancel_booking.v1" => {
                assert!(
                    unlocked.iter().all(|k| matches!(k, ReadKey::CancellationPolicy(_) | ReadKey::LedgerOfBooking(_))),
                    "{unlocked:?}"
                );
                assert!(m.reads().iter().filter(|k| matches!(k, ReadKey::Departure(_))).all(|k| m.locks(k)));
            }
            // A released hold locks the booking, its departure and the cards; the ledger is read
            // under the booking's lock.
            "expire_hold.v1" => {
                assert!(unlocked.iter().all(|k| matches!(k, ReadKey::LedgerOfBooking(_))), "{unlocked:?}");
                assert!(m.reads().iter().filter(|k| matches!(k, ReadKey::Departure(_))).all(|k| m.locks(k)));
            }
            // A move locks both departures and the booking; prices and the policy are consulted.
            "move_booking.v1" => {
                assert!(
                    unlocked.iter().all(|k| matches!(
                        k,
                        ReadKey::PricingCatalog(_) | ReadKey::CancellationPolicy(_) | ReadKey::LedgerOfBooking(_)
                    )),
                    "{unlocked:?}"
                );
                assert!(m.reads().iter().filter(|k| matches!(k, ReadKey::Departure(_))).all(|k| m.locks(k)));
            }
            // The ledger is read under the booking's lock.
            "record_refund.v1" => {
                assert!(unlocked.iter().all(|k| matches!(k, ReadKey::LedgerOfBooking(_))), "{unlocked:?}");
            }
            // A guide's qualified tours are only looked up.
            "upsert_guide.v1" => assert!(unlocked.iter().all(|k| matches!(k, ReadKey::Tour(_))), "{unlocked:?}"),
            _ => assert!(unlocked.is_empty(), "{name}: {unlocked:?}"),
        }
    }
}

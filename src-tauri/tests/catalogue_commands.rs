//! The pricing catalogue's commands through Tauri's IPC layer on a real SQLite file: a save
//! comes back with its id and announces its kind, a refusal comes back at its field with
//! nothing saved, and the desk's quote prices with the saved season and tax.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow};
use tourdesk_desk::{Desk, DeskEvent, SyncLoop, with_commands};
use tourdesk_domain::catalogue::{PromotionalCode, TaxRate, TourPricingView};
use tourdesk_domain::ipc::{BookingMoney, BookingSummary, CommandError, CustomerHit, DataChanged};
use tourdesk_domain::pricing::{DiscountKind, Quote};
use tourdesk_domain::protocol::{BucketPage, ChangeRecord, EntityKind, Op, PullResponse};
use tourdesk_domain::roles::Role;
use tourdesk_local_store::{Session, Store, SyncClient};

const ORG: &str = "org-1";
const TOUR: &str = "t-1";
const ADULT: &str = "00000000-0000-4000-8000-00000000ad01";
const DEPARTURE: &str = "v-1@2027-07-10T09:00:00";
const DATE: &str = "2027-07-10";

struct Harness {
    _app: tauri::App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    events: Arc<Mutex<Vec<DeskEvent>>>,
    store: Arc<Store>,
    _dir: tempfile::TempDir,
}

fn desk(role: Role) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("desk.sqlite3")).unwrap());
    store
        .save_session(&Session {
            user_id: "u-1".into(),
            user_name: "Olivia".into(),
            role,
            organization_id: ORG.into(),
            organization_name: "Harbour Walks".into(),
            organization_defaults: Default::default(),
        })
        .unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let client = SyncClient::for_desk("http://127.0.0.1:9", "Front desk").unwrap();
    let sync = SyncLoop::new(client, Arc::new(move |e| seen.lock().unwrap().push(e)));
    let app = with_commands(mock_builder()).build(mock_context(noop_assets())).unwrap();
    app.manage(Desk { store: store.clone(), sync });
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    Harness { _app: app, window, events, store, _dir: dir }
}

impl Harness {
    fn call<T: DeserializeOwned>(&self, cmd: &str, args: Value) -> Result<T, CommandError> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        match get_ipc_response(&self.window, request) {
            Ok(body) => Ok(body.deserialize().unwrap()),
            Err(e) => Err(serde_json::from_value(e.clone()).unwrap_or_else(|_| panic!("not a CommandError: {e}"))),
        }
    }

    fn changes(&self) -> Vec<DataChanged> {
        let events = self.events.lock().unwrap();
        events.iter().filter_map(|e| if let DeskEvent::Changed(c) = e { Some(c.clone()) } else { None }).collect()
    }

    /// The fixtures' tour, its adult tier and departure, as a pull brings them.
    fn seed(&self) {
        let put = |kind: EntityKind, row: Value, seq: u64| ChangeRecord {
            seq,
            entity: kind,
            id: row["id"].as_str().unwrap().into(),
            op: Op::Put,
            row,
        };
        let tour = json!({"id": TOUR, "organization_id": ORG, "name": "Old Town Walk", "slug": "old-town-walk",
            "short_description": "", "duration_minutes": 120, "default_capacity": 10, "min_participants": 1,
            "category": "walking", "timezone": "Europe/London", "meeting_point": "", "status": "active"});
        let tier = json!({"id": ADULT, "organization_id": ORG, "tour_id": TOUR, "variant_id": null, "name": "Adult",
            "base_price": {"amount": 5000, "currency": "USD"}, "min_age": null, "max_age": null,
            "is_default": true, "sort_order": 0});
        let departure = json!({"id": DEPARTURE, "organization_id": ORG, "tour_id": TOUR, "variant_id": "v-1",
            "local_date": DATE, "local_time": "09:00:00", "timezone": "Europe/London",
            "starts_at": "2027-07-10T08:00:00Z", "ends_at": "2027-07-10T10:00:00Z", "capacity": 10,
            "booked_count": 0, "status": "open"});
        self.store
            .apply_pull(&PullResponse {
                buckets: vec![BucketPage {
                    bucket: format!("org:{ORG}:all"),
                    changes: vec![
                        put(EntityKind::Tour, tour, 1),
                        put(EntityKind::PricingTier, tier, 2),
                        put(EntityKind::Departure, departure, 3),
                    ],
                    cursor: 3,
                    head: 3,
                }],
                complete: true,
                last_mutation_id: 0,
                results: vec![],
                removed_buckets: vec![],
            })
            .unwrap();
    }
}

#[test]
fn saves_come_back_with_their_id_and_announce_their_kind() {
    let h = desk(Role::Owner);
    h.seed();
    let id: String = h
        .call(
            "save_season",
            json!({"input": {"id": "", "tour_id": TOUR, "name": "High", "start_date": DATE,
                             "end_date": DATE, "adjustment": {"type": "percentage", "value": 2000}}}),
        )
        .unwrap();
    assert_eq!(id.len(), 36, "a new row gets a UUID: {id}");
    let tax: String = h
        .call("save_tax_rate", json!({"input": {"id": "", "name": "City", "rate": 1000, "inclusive": false}}))
        .unwrap();
    let view: TourPricingView = h.call("tour_pricing", json!({"tourId": TOUR})).unwrap();
    assert_eq!(view.seasons[0].id, id);
    assert_eq!(h.call::<Vec<TaxRate>>("list_tax_rates", json!({})).unwrap()[0].id, tax);
    assert_eq!(
        h.changes(),
        [
            DataChanged { kinds: vec![EntityKind::Season], outcomes: false },
            DataChanged { kinds: vec![EntityKind::TaxRate], outcomes: false },
        ]
    );
    // 50.00 + 20 % high season, + 10 % city tax.
    let q: Quote = h
        .call(
            "quote_booking",
            json!({"input": {"departure_id": DEPARTURE, "lines": [{"tier_id": ADULT, "quantity": 1}]}}),
        )
        .unwrap();
    assert_eq!(q.snapshot.total.amount, 6600);

    let code: String = h
        .call(
            "save_promo_code",
            json!({"input": {"id": "", "code": "harbour5", "discount": {"type": "percentage", "value": 500},
                             "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2030-01-01T00:00:00Z"}}),
        )
        .unwrap();
    h.call::<()>("set_promo_code_status", json!({"id": code, "status": "inactive"})).unwrap();
    let codes: Vec<PromotionalCode> = h.call("list_promo_codes", json!({})).unwrap();
    assert_eq!(
        (codes[0].code.as_str(), codes[0].status),
        ("HARBOUR5", tourdesk_domain::pricing::PromoStatus::Inactive)
    );
}

#[test]
fn a_booking_made_with_a_promo_code_keeps_its_discount_and_a_refused_code_is_said_at_its_field() {
    let h = desk(Role::Owner);
    h.seed();
    h.call::<String>(
        "save_promo_code",
        json!({"input": {"id": "", "code": "harbour10", "discount": {"type": "percentage", "value": 1000},
                         "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2030-01-01T00:00:00Z"}}),
    )
    .unwrap();
    let customer: CustomerHit =
        h.call("create_customer", json!({"input": {"first_name": "Ana", "last_name": "Silva"}})).unwrap();
    let lines = json!([{"tier_id": ADULT, "quantity": 2}]);
    // The form's quote: 2 × 50.00, less 10 %.
    let q: Quote = h
        .call("quote_booking", json!({"input": {"departure_id": DEPARTURE, "lines": lines, "promo_code": "harbour10"}}))
        .unwrap();
    assert_eq!(q.snapshot.total.amount, 9000);
    let book = |code: &str, total: i64| {
        json!({"input": {"tour_id": TOUR, "departure_id": DEPARTURE, "customer_id": customer.id, "lines": lines,
                         "promo_code": code, "expected_total": {"amount": total, "currency": "USD"}}})
    };

    // A code nobody made: refused at the code's box, in words, and nothing is booked.
    let e = h.call::<BookingSummary>("create_booking", book("NOPE", 10_000)).unwrap_err();
    assert_eq!((e.code.as_str(), e.field.as_deref()), ("PROMO_REFUSED", Some("promo_code")), "{e:?}");
    assert!(e.message.contains("recognise this code"), "{}", e.message);
    let none: Vec<BookingSummary> = h.call("list_bookings", json!({"departureId": DEPARTURE})).unwrap();
    assert!(none.is_empty(), "{none:?}");

    let b: BookingSummary = h.call("create_booking", book(" harbour10 ", 9000)).unwrap();
    assert_eq!(b.total.amount, 9000);
    let money: BookingMoney = h.call("booking_money", json!({"bookingId": b.id})).unwrap();
    let [d] = money.pricing.discounts.as_slice() else { panic!("{:?}", money.pricing) };
    assert_eq!((d.kind, d.amount.amount), (DiscountKind::PromotionalCode, 1000));
    assert_eq!(money.pricing.subtotal.amount, 10_000);
    assert!(money.pricing.promotional_code_id.is_some());
}

#[test]
fn a_refused_save_names_its_field_and_saves_nothing() {
    let h = desk(Role::Owner);
    h.seed();
    let e = h
        .call::<String>(
            "save_cancellation_policy",
            json!({"input": {"id": "", "name": "Odd", "rules": [{"hours_before_tour": 24, "refund_percentage": 120}]}}),
        )
        .unwrap_err();
    assert_eq!((e.code.as_str(), e.field.as_deref()), ("INVALID", Some("rules[0].refund_percentage")), "{e:?}");
    assert!(h.changes().is_empty());
    let manager = desk(Role::Manager);
    manager.seed();
    let e = manager
        .call::<String>("save_tax_rate", json!({"input": {"id": "", "name": "VAT", "rate": 2300, "inclusive": true}}))
        .unwrap_err();
    assert_eq!(e.code, "NOT_AUTHORIZED", "{e:?}");
    assert!(manager.call::<Vec<TaxRate>>("list_tax_rates", json!({})).unwrap().is_empty());
}

/// Group and early-bird discounts and the choice of a shared cancellation policy: saved through
/// their commands, announced by kind, shown in the tour's pricing and priced by the desk's quote;
/// a refused threshold comes back at its field with nothing saved.
#[test]
fn discounts_and_the_shared_policy_choice_save_announce_and_price() {
    let h = desk(Role::Owner);
    h.seed();
    let group: String = h
        .call(
            "save_group_discount",
            json!({"input": {"id": "", "tour_id": TOUR, "min_participants": 4,
                             "discount": {"type": "percentage", "value": 1000}}}),
        )
        .unwrap();
    let early: String = h
        .call(
            "save_early_bird_discount",
            json!({"input": {"id": "", "tour_id": TOUR, "min_days_before": 30,
                             "discount": {"type": "fixed", "value": {"amount": 500, "currency": "USD"}}}}),
        )
        .unwrap();
    let policy: String = h
        .call(
            "save_cancellation_policy",
            json!({"input": {"id": "", "name": "Strict", "rules": [{"hours_before_tour": 48, "refund_percentage": 50}]}}),
        )
        .unwrap();
    h.call::<()>("set_tour_cancellation_policy", json!({"tourId": TOUR, "cancellationPolicyId": policy})).unwrap();
    let view: TourPricingView = h.call("tour_pricing", json!({"tourId": TOUR})).unwrap();
    assert_eq!((view.group_discounts[0].id.as_str(), view.group_discounts[0].min_participants), (group.as_str(), 4));
    assert_eq!(
        (view.early_bird_discounts[0].id.as_str(), view.early_bird_discounts[0].min_days_before),
        (early.as_str(), 30)
    );
    assert_eq!(view.chosen_policy_id.as_deref(), Some(policy.as_str()));
    assert!(view.shared_policies.iter().any(|p| p.id == policy), "{:?}", view.shared_policies);
    assert_eq!(
        h.changes().iter().map(|c| c.kinds.clone()).collect::<Vec<_>>(),
        [
            vec![EntityKind::GroupDiscount],
            vec![EntityKind::EarlyBirdDiscount],
            vec![EntityKind::CancellationPolicy],
            vec![EntityKind::Tour]
        ]
    );

    // 4 × 50.00 = 200.00; the group takes 10 % (20.00), then the early bird (the departure is
    // months away) 5.00 off what remains: 175.00.
    let q: Quote = h
        .call(
            "quote_booking",
            json!({"input": {"departure_id": DEPARTURE, "lines": [{"tier_id": ADULT, "quantity": 4}]}}),
        )
        .unwrap();
    let kinds: Vec<DiscountKind> = q.snapshot.discounts.iter().map(|d| d.kind).collect();
    assert!(kinds.contains(&DiscountKind::Group) && kinds.contains(&DiscountKind::EarlyBird), "{q:?}");
    assert_eq!(q.snapshot.total.amount, 17_500, "{q:?}");

    // A group of one is refused at its field; nothing new is stored or announced.
    let before = h.changes().len();
    let e = h
        .call::<String>(
            "save_group_discount",
            json!({"input": {"id": "", "tour_id": TOUR, "min_participants": 1,
                             "discount": {"type": "percentage", "value": 1000}}}),
        )
        .unwrap_err();
    assert_eq!((e.code.as_str(), e.field.as_deref()), ("INVALID", Some("min_participants")), "{e:?}");
    assert_eq!(h.changes().len(), before);

    // Removing both and going back to the default.
    h.call::<()>("delete_group_discount", json!({"id": group})).unwrap();
    h.call::<()>("delete_early_bird_discount", json!({"id": early})).unwrap();
    h.call::<()>("set_tour_cancellation_policy", json!({"tourId": TOUR, "cancellationPolicyId": null})).unwrap();
    let view: TourPricingView = h.call("tour_pricing", json!({"tourId": TOUR})).unwrap();
    assert!(view.group_discounts.is_empty() && view.early_bird_discounts.is_empty());
    assert_eq!(view.chosen_policy_id, None);
}

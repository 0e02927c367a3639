//! The desk's commands through Tauri's real IPC layer (`tauri::test::mock_builder`, no window),
//! each test on a real SQLite file: what the window sends in, what it gets back (errors in the
//! one `CommandError` shape), and the event that tells it what to reload.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow};
use tourdesk_desk::{Desk, DeskEvent, SyncLoop, with_commands};
use tourdesk_domain::ipc::{
    CommandError, CustomerDetail, CustomerHit, DataChanged, DeskStatus, SearchResults, SignInDefaults, SignedOut,
    TourView,
};
use tourdesk_domain::money::Currency;
use tourdesk_domain::protocol::{EntityKind, OrganizationDefaults};
use tourdesk_domain::roles::Role;
use tourdesk_local_store::{Session, Store, SyncClient};

struct Harness {
    _app: tauri::App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    events: Arc<Mutex<Vec<DeskEvent>>>,
    store: Arc<Store>,
    _dir: tempfile::TempDir,
}

/// A server address where nothing listens (the discard port): every request is refused at once.
const CLOSED: &str = "http://127.0.0.1:9";

/// A desk on a fresh SQLite file, signed in as an owner when `signed_in`. The sync loop is not
/// started (its server address is a closed port): commands only report their writes through it.
fn desk(signed_in: bool) -> Harness {
    desk_as(signed_in.then(owner))
}

fn owner() -> Session {
    Session {
        user_id: "u-1".into(),
        user_name: "Olivia".into(),
        role: Role::Owner,
        organization_id: "org-1".into(),
        organization_name: "Harbour Walks".into(),
        organization_defaults: Default::default(),
    }
}

fn defaults(language: Option<&str>, currency: Option<Currency>, country: Option<&str>) -> OrganizationDefaults {
    OrganizationDefaults {
        language: language.map(Into::into),
        currency,
        country: country.map(Into::into),
        timezone: None,
    }
}

fn desk_as(session: Option<Session>) -> Harness {
    desk_with(session, |_| {})
}

/// A desk whose store `seed` filled before the commands run.
fn desk_with(session: Option<Session>, seed: impl FnOnce(&Store)) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("desk.sqlite3")).unwrap());
    if let Some(session) = session {
        store.save_session(&session).unwrap();
    }
    seed(&store);
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let client = SyncClient::for_desk(CLOSED, "Front desk").unwrap();
    let sync = SyncLoop::new(client, Arc::new(move |e| seen.lock().unwrap().push(e)));
    let app = with_commands(mock_builder()).build(mock_context(noop_assets())).unwrap();
    app.manage(Desk { store: store.clone(), sync });
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    Harness { _app: app, window, events, store, _dir: dir }
}

impl Harness {
    fn raw(&self, cmd: &str, args: Value) -> Result<tauri::ipc::InvokeResponseBody, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.window, request)
    }

    fn call<T: DeserializeOwned>(&self, cmd: &str, args: Value) -> Result<T, CommandError> {
        match self.raw(cmd, args) {
            Ok(body) => Ok(body.deserialize().unwrap()),
            Err(e) => Err(serde_json::from_value(e.clone()).unwrap_or_else(|_| panic!("not a CommandError: {e}"))),
        }
    }

    fn changes(&self) -> Vec<DataChanged> {
        let events = self.events.lock().unwrap();
        events.iter().filter_map(|e| if let DeskEvent::Changed(c) = e { Some(c.clone()) } else { None }).collect()
    }
}

fn tour(name: &str, capacity: u32) -> Value {
    json!({"input": {"name": name, "duration_minutes": 90, "default_capacity": capacity,
                     "category": "walking", "timezone": "Europe/Lisbon"}})
}

#[test]
fn a_desk_not_signed_in_lists_nothing_and_refuses_writes_in_words() {
    let h = desk(false);
    assert_eq!(h.call::<Vec<TourView>>("list_tours", json!({})).unwrap(), vec![]);
    let e = h.call::<TourView>("create_tour", tour("Lighthouse at Dusk", 12)).unwrap_err();
    assert_eq!(e.code, "NOT_SIGNED_IN", "{e:?}");
    assert!(e.message.contains("has not signed in yet"), "{e:?}");
    assert!(h.changes().is_empty(), "nothing was written, nothing announced");
}

#[test]
fn bad_input_comes_back_at_its_field_and_nothing_is_saved() {
    let h = desk(true);
    let e = h.call::<TourView>("create_tour", tour("Lighthouse at Dusk", 0)).unwrap_err();
    assert_eq!((e.code.as_str(), e.field.as_deref()), ("INVALID", Some("default_capacity")), "{e:?}");
    assert!(e.message.contains("between 1 and 10000"), "{e:?}");
    assert!(h.call::<Vec<TourView>>("list_tours", json!({})).unwrap().is_empty());
    assert!(h.changes().is_empty());
    // An argument of the wrong type never reaches the store: Tauri refuses it, naming it.
    let refused = h.raw("create_tour", json!({"input": {"name": 5}})).unwrap_err();
    assert!(refused.as_str().is_some_and(|m| m.contains("input")), "{refused}");
    assert!(h.call::<Vec<TourView>>("list_tours", json!({})).unwrap().is_empty());
}

/// The tour editor's commands: a detail refused at its field saves nothing; variants and a
/// price tier are saved and announced by kind; publishing follows the domain's rule.
#[test]
fn the_tour_editor_commands_save_whole_or_refuse_at_the_field() {
    let h = desk(true);
    let t: TourView = h.call("create_tour", tour("Lighthouse at Dusk", 12)).unwrap();
    let id = t.tour.id.clone();
    let e = h
        .call::<TourView>(
            "update_tour",
            json!({"input": {"id": id, "name": "Renamed", "meeting_point_lat": 91.0, "meeting_point_lng": 0.0}}),
        )
        .unwrap_err();
    assert_eq!((e.code.as_str(), e.field.as_deref()), ("INVALID", Some("meeting_point_lat")), "{e:?}");
    let listed: Vec<TourView> = h.call("list_tours", json!({})).unwrap();
    assert_eq!(listed[0].tour.name, "Lighthouse at Dusk", "nothing of the refused edit was saved");

    let e = h.call::<TourView>("update_tour", json!({"input": {"id": id, "status": "active"}})).unwrap_err();
    assert_eq!((e.code.as_str(), e.field.as_deref()), ("CONFLICT", Some("status")), "{e:?}");
    assert!(e.message.contains("active variant"), "{e:?}");

    let v: String = h.call("create_variant", json!({"input": {"tour_id": id, "name": "Evening"}})).unwrap();
    assert_eq!(h.changes().last().map(|c| c.kinds.clone()), Some(vec![EntityKind::TourVariant]));
    h.call::<()>("update_variant", json!({"input": {"id": v, "capacity": 6}})).unwrap();
    let variants: Vec<tourdesk_domain::TourVariant> = h.call("list_variants", json!({"tourId": id})).unwrap();
    assert_eq!((variants.len(), variants[0].capacity), (1, Some(6)));

    let e = h
        .call::<String>(
            "save_price_tier",
            json!({"input": {"tour_id": id, "name": "Adult", "base_price": {"amount": 3500, "currency": "EUR"},
                             "min_per_booking": 3, "max_per_booking": 2}}),
        )
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("max_per_booking"), "{e:?}");
    let tier: String = h
        .call(
            "save_price_tier",
            json!({"input": {"tour_id": id, "name": "Adult", "base_price": {"amount": 3500, "currency": "EUR"},
                             "valid_from": "2026-06-01", "max_per_booking": 8}}),
        )
        .unwrap();
    assert_eq!(h.changes().last().map(|c| c.kinds.clone()), Some(vec![EntityKind::PricingTier]));
    let prices: Vec<tourdesk_domain::PricingTier> = h.call("list_prices", json!({"tourId": id})).unwrap();
    assert_eq!((prices[0].id.as_str(), prices[0].max_per_booking), (tier.as_str(), Some(8)));

    let published: TourView = h.call("update_tour", json!({"input": {"id": id, "status": "active"}})).unwrap();
    assert_eq!(published.tour.status, tourdesk_domain::status::TourStatus::Active);
}

#[test]
fn a_new_tour_and_customer_are_saved_announced_and_found_by_the_search() {
    let h = desk(true);
    let t: TourView = h.call("create_tour", tour("Lighthouse at Dusk", 16)).unwrap();
    assert_eq!((t.tour.slug.as_str(), t.tour.default_capacity, t.pending), ("lighthouse-at-dusk", 16, true));
    assert_eq!(h.changes(), [DataChanged { kinds: vec![EntityKind::Tour], outcomes: false }]);
    let listed: Vec<TourView> = h.call("list_tours", json!({})).unwrap();
    assert_eq!(listed, std::slice::from_ref(&t));

    let c: CustomerHit = h
        .call(
            "create_customer",
            json!({"input": {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com"}}),
        )
        .unwrap();
    assert_eq!(h.changes().last().map(|c| c.kinds.clone()), Some(vec![EntityKind::Customer]));

    let found: SearchResults = h.call("search", json!({"query": "light"})).unwrap();
    assert_eq!(found.tours.iter().map(|t| t.tour.id.as_str()).collect::<Vec<_>>(), [t.tour.id.as_str()]);
    let found: SearchResults = h.call("search", json!({"query": "grace@ex"})).unwrap();
    assert_eq!(found.customers.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), [c.id.as_str()]);
    assert!(found.tours.is_empty() && found.bookings.is_empty());

    let e = h.call::<Value>("find_booking", json!({"reference": "BK-2026-NOPE"})).unwrap_err();
    assert_eq!(e.code, "NOT_FOUND", "{e:?}");
}

#[test]
fn a_customer_made_at_the_desk_takes_the_organizations_language_and_currency() {
    let grace = json!({"input": {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com"}});
    let made = |h: &Harness| {
        let c: CustomerHit = h.call("create_customer", grace.clone()).unwrap();
        let d: CustomerDetail = h.call("customer_detail", json!({"customerId": c.id})).unwrap();
        (d.customer.preferred_language, d.customer.preferred_currency)
    };
    let lisbon = Session { organization_defaults: defaults(Some("pt"), Some(Currency::EUR), None), ..owner() };
    assert_eq!(made(&desk_as(Some(lisbon))), ("pt".to_string(), Currency::EUR));
    // A session from a server that sent no settings: the domain's fallbacks.
    assert_eq!(made(&desk(true)), ("en".to_string(), Currency::USD));
}

/// A departure the server sent, with one paid booking of two guests on it.
fn departure_with_a_booking(store: &Store) {
    use tourdesk_domain::protocol::{BucketPage, ChangeRecord, Op, PullResponse};
    let departure = json!({"id": "d-1", "organization_id": "org-1", "tour_id": "t-1", "variant_id": "v-1",
        "local_date": "2027-07-10", "local_time": "09:00:00", "timezone": "Europe/Lisbon",
        "starts_at": "2027-07-10T08:00:00Z", "ends_at": "2027-07-10T10:00:00Z", "capacity": 10, "booked_count": 2,
        "status": "open"});
    let money = |a: i64| json!({"amount": a, "currency": "EUR"});
    let booking = json!({"id": "b-1", "organization_id": "org-1", "reference_number": "BK-2027-ABCDEF",
        "customer_id": "c-1", "departure_id": "d-1", "tour_id": "t-1", "variant_id": "v-1",
        "pricing": {"line_items": [], "subtotal": money(9000), "discounts": [], "taxes": [], "total": money(9000),
                    "promotional_code_id": null},
        "participants": [], "status": "confirmed", "payment_status": "paid", "paid_amount": money(9000),
        "refunded_amount": money(0), "source": "admin", "special_requests": null, "dietary_restrictions": null,
        "overbook": null, "cancellation": null, "checked_in": 0, "no_shows": 0,
        "created_at": "2027-01-01T12:00:00Z", "confirmed_at": null, "cancelled_at": null,
        "updated_at": "2027-01-01T12:00:00Z"});
    let booking =
        serde_json::to_value(serde_json::from_value::<tourdesk_domain::entities::Booking>(booking).unwrap()).unwrap();
    let changes = [(EntityKind::Departure, departure), (EntityKind::Booking, booking)]
        .into_iter()
        .enumerate()
        .map(|(i, (entity, row))| ChangeRecord {
            seq: i as u64 + 1,
            entity,
            id: row["id"].as_str().unwrap().into(),
            op: Op::Put,
            row,
        })
        .collect();
    let page = BucketPage { bucket: "org:org-1:all".into(), changes, cursor: 2, head: 2 };
    let pull = PullResponse {
        buckets: vec![page],
        complete: true,
        last_mutation_id: 0,
        results: vec![],
        removed_buckets: vec![],
    };
    store.apply_pull(&pull).unwrap();
}

#[test]
fn cancelling_a_departure_previews_saves_and_announces() {
    let h = desk_with(Some(owner()), departure_with_a_booking);
    let p: Value = h.call("departure_cancellation_preview", json!({"departureId": "d-1"})).unwrap();
    assert_eq!((p["bookings"].as_u64(), p["guests"].as_u64()), (Some(1), Some(0)), "{p}");
    assert_eq!(p["refunds"], json!([{"amount": 9000, "currency": "EUR"}]));
    let e = h.call::<Value>("departure_cancellation_preview", json!({"departureId": "d-404"})).unwrap_err();
    assert_eq!(e.code, "NOT_FOUND");

    let e = h.call::<()>("cancel_departure", json!({"departureId": "d-1", "reason": "  "})).unwrap_err();
    assert_eq!((e.code.as_str(), e.field.as_deref()), ("INVALID", Some("reason")), "{e:?}");
    assert!(h.changes().is_empty(), "nothing saved, nothing announced");

    h.call::<()>("cancel_departure", json!({"departureId": "d-1", "reason": "Storm warning"})).unwrap();
    assert_eq!(h.changes(), [DataChanged { kinds: vec![EntityKind::Departure, EntityKind::Booking], outcomes: false }]);
    let p: Value = h.call("departure_cancellation_preview", json!({"departureId": "d-1"})).unwrap();
    assert_eq!(p["bookings"], 0, "nothing left to cancel: {p}");
    let e = h.call::<()>("cancel_departure", json!({"departureId": "d-404", "reason": "Storm"})).unwrap_err();
    assert_eq!(e.code, "NOT_FOUND");
}

fn sign_in_form(server_url: &str, organization: &str, email: &str, password: &str) -> Value {
    json!({"input": {"server_url": server_url, "organization": organization, "email": email, "password": password}})
}

#[test]
fn a_desk_nobody_signed_in_on_asks_for_a_sign_in_and_fills_the_form_only_in_debug_builds() {
    let h = desk(false);
    let status: DeskStatus = h.call("desk_status", json!({})).unwrap();
    assert!(status.needs_sign_in && status.signed_in_as.is_none(), "{status:?}");
    let form: SignInDefaults = h.call("sign_in_defaults", json!({})).unwrap();
    assert_eq!(form.server_url, CLOSED);
    if cfg!(debug_assertions) {
        assert_eq!((form.organization.as_str(), form.password.as_deref()), ("demo", Some("tourdesk-demo")));
    } else {
        assert_eq!(form.password, None, "a release build carries no credentials");
    }
}

#[test]
fn a_sign_in_form_with_bad_fields_is_refused_at_each_field_without_asking_the_server() {
    let h = desk(false);
    let cases = [
        (sign_in_form("tours.example.com", "demo", "o@demo.test", "pw"), "server_url"),
        (sign_in_form(CLOSED, "", "o@demo.test", "pw"), "organization"),
        (sign_in_form(CLOSED, "Harbour Walks!", "o@demo.test", "pw"), "organization"),
        (sign_in_form(CLOSED, "demo", "owner", "pw"), "email"),
        (sign_in_form(CLOSED, "demo", "o@demo.test", ""), "password"),
    ];
    for (form, field) in cases {
        let e = h.call::<Value>("sign_in", form).unwrap_err();
        assert_eq!((e.code.as_str(), e.field.as_deref()), ("INVALID", Some(field)), "{e:?}");
        assert!(!e.message.is_empty());
    }
    // A missing argument never reaches the desk: Tauri refuses it, naming it.
    let e = h.raw("sign_in", json!({})).unwrap_err();
    assert!(e.to_string().contains("input"), "{e}");
    assert!(h.store.session().unwrap().is_none() && h.store.refresh_token().unwrap().is_none());
}

#[test]
fn an_unreachable_server_is_said_at_the_server_field_and_changes_nothing() {
    let h = desk(false);
    let e = h.call::<Value>("sign_in", sign_in_form(CLOSED, "demo", "o@demo.test", "pw")).unwrap_err();
    assert_eq!((e.code.as_str(), e.field.as_deref()), ("OFFLINE", Some("server_url")), "{e:?}");
    assert!(e.message.contains(CLOSED), "names the address it tried: {e:?}");
    assert!(h.store.session().unwrap().is_none() && h.store.server_url().unwrap().is_none());
    // The form stays usable: the same request again gets the same answer, not a stuck state.
    let again = h.call::<Value>("sign_in", sign_in_form(CLOSED, "demo", "o@demo.test", "pw")).unwrap_err();
    assert_eq!(again.code, "OFFLINE");
}

#[test]
fn signing_out_asks_before_discarding_unsent_work_and_before_leaving_the_server_unrevoked() {
    let h = desk(true);
    h.store.save_device_auth("dev-1", "rt-1").unwrap();
    h.call::<TourView>("create_tour", tour("Lighthouse at Dusk", 12)).unwrap();
    let no = |discard: bool, local: bool| json!({"discardPending": discard, "localOnly": local});
    let e = h.call::<SignedOut>("sign_out", no(false, false)).unwrap_err();
    assert_eq!(e.code, "PENDING_CHANGES", "{e:?}");
    assert!(e.message.starts_with("1 changes made on this desk"), "{e:?}");
    assert_eq!(h.store.pending_count().unwrap(), 1, "nothing discarded unasked");
    // The server cannot be reached to revoke the device: said, and nothing forgotten yet.
    let e = h.call::<SignedOut>("sign_out", no(true, false)).unwrap_err();
    assert_eq!(e.code, "OFFLINE", "{e:?}");
    assert!(h.store.session().unwrap().is_some() && h.store.refresh_token().unwrap().is_some());
    // The person chose to sign out of this desk only: the refresh token goes all the same.
    let out: SignedOut = h.call("sign_out", no(true, true)).unwrap();
    assert_eq!(out, SignedOut { revoked: false, discarded: 1 });
    assert!(h.store.session().unwrap().is_none() && h.store.refresh_token().unwrap().is_none());
    assert!(h.call::<Vec<TourView>>("list_tours", json!({})).unwrap().is_empty());
    let status: DeskStatus = h.call("desk_status", json!({})).unwrap();
    assert!(status.needs_sign_in && status.signed_in_as.is_none() && status.pending == 0, "{status:?}");
    assert!(h.changes().iter().any(|c| c.outcomes && c.kinds.len() == EntityKind::ALL.len()), "every screen reloads");
}

#[test]
fn a_desk_whose_refresh_token_the_server_refused_signs_out_without_asking_it() {
    let h = desk(true);
    let out: SignedOut = h.call("sign_out", json!({"discardPending": false, "localOnly": false})).unwrap();
    assert_eq!(out, SignedOut { revoked: true, discarded: 0 }, "nothing left on the server to revoke");
    assert!(h.store.session().unwrap().is_none());
}

/// Issue 12, item 9: a walk-in at a Lisbon counter gives a name and "912 000 999", no e-mail.
#[test]
fn a_walk_in_with_a_local_number_and_no_e_mail_is_saved_in_e164() {
    let walk_in = json!({"input": {"first_name": "Rui", "last_name": "", "phone": "912 000 999", "email": ""}});
    let lisbon = Session { organization_defaults: defaults(None, None, Some("PT")), ..owner() };
    let h = desk_as(Some(lisbon));
    let c: CustomerHit = h.call("create_customer", walk_in.clone()).unwrap();
    assert_eq!((c.email.as_deref(), c.phone.as_deref()), (None, Some("+351912000999")));
    let found: SearchResults = h.call("search", json!({"query": "000 999"})).unwrap();
    assert_eq!(found.customers.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), [c.id.as_str()]);
    // An organization without a country cannot place a local number: said at the phone field.
    let e = desk(true).call::<CustomerHit>("create_customer", walk_in).unwrap_err();
    assert_eq!((e.code.as_str(), e.field.as_deref()), ("INVALID", Some("phone")), "{e:?}");
    assert!(e.message.contains("country code"), "{e:?}");
    // No name at all is refused at the first name.
    let nameless = json!({"input": {"first_name": " ", "last_name": ""}});
    let e = desk(true).call::<CustomerHit>("create_customer", nameless).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("first_name"), "{e:?}");
}

#[test]
fn settings_need_a_signed_in_desk_and_a_connection_and_say_so() {
    use tourdesk_domain::accounts::{OrganizationSettings, StaffDirectory};
    // Never signed in: refused before any request, in the same words as a local write.
    let h = desk(false);
    let e = h.call::<OrganizationSettings>("get_organization", json!({})).unwrap_err();
    assert_eq!(e.code, "NOT_SIGNED_IN", "{e:?}");
    // Signed in (a session and the device's refresh token), but the server (a closed port)
    // cannot be reached: "needs a connection".
    let h = desk(true);
    h.store.save_device_auth("2b7c1e52-0000-4000-8000-0000000000d1", "a refresh token").unwrap();
    for (cmd, args) in [
        ("get_organization", json!({})),
        ("update_organization", json!({"change": {"name": "Harbour Walks Ltd"}})),
        ("list_staff", json!({})),
        ("my_account", json!({})),
        ("mfa_enrol", json!({"password": "correct horse battery"})),
        ("list_devices", json!({})),
        ("revoke_device", json!({"id": "2b7c1e52-0000-4000-8000-000000000001"})),
        ("list_reviews", json!({"status": "pending"})),
        ("moderate_review", json!({"id": "2b7c1e52-0000-4000-8000-0000000000e1", "decision": "approve"})),
        ("list_message_templates", json!({})),
        (
            "save_message_template",
            json!({"kind": "booking_confirmation", "language": "en", "subject": "s", "body": "b"}),
        ),
        ("reset_message_template", json!({"kind": "booking_reminder", "language": "de"})),
    ] {
        let e = h.call::<Value>(cmd, args).unwrap_err();
        assert_eq!(e.code, "OFFLINE", "{cmd}: {e:?}");
        assert!(e.message.contains("needs a connection"), "{cmd}: {e:?}");
    }
    // An id that cannot be one never reaches a URL.
    let e = h.call::<StaffDirectory>("update_staff", json!({"id": "../organization", "change": {"suspended": true}}));
    assert_eq!(e.unwrap_err().code, "NOT_FOUND");
    assert!(h.changes().is_empty(), "nothing local was written or announced");
}

/// The departure of [`departure_with_a_booking`] with a phone booking of 90.00 EUR, pending and
/// unpaid.
fn unpaid_booking(store: &Store) {
    use tourdesk_domain::protocol::{BucketPage, ChangeRecord, Op, PullResponse};
    departure_with_a_booking(store);
    let money = |a: i64| json!({"amount": a, "currency": "EUR"});
    let row = json!({"id": "b-2", "organization_id": "org-1", "reference_number": "BK-2027-GHJKMN",
        "customer_id": "c-1", "departure_id": "d-1", "tour_id": "t-1", "variant_id": "v-1",
        "pricing": {"line_items": [], "subtotal": money(9000), "discounts": [], "taxes": [], "total": money(9000),
                    "promotional_code_id": null},
        "participants": [], "status": "pending", "payment_status": "unpaid", "paid_amount": money(0),
        "refunded_amount": money(0), "source": "phone", "special_requests": null, "dietary_restrictions": null,
        "overbook": null, "cancellation": null, "checked_in": 0, "no_shows": 0,
        "created_at": "2027-01-02T12:00:00Z", "confirmed_at": null, "cancelled_at": null,
        "updated_at": "2027-01-02T12:00:00Z"});
    let page = BucketPage {
        bucket: "org:org-1:all".into(),
        changes: vec![ChangeRecord { seq: 3, entity: EntityKind::Booking, id: "b-2".into(), op: Op::Put, row }],
        cursor: 3,
        head: 3,
    };
    let pull = PullResponse {
        buckets: vec![page],
        complete: true,
        last_mutation_id: 0,
        results: vec![],
        removed_buckets: vec![],
    };
    store.apply_pull(&pull).unwrap();
}

#[test]
fn a_payment_is_recorded_from_the_dialog_and_bad_amounts_come_back_at_their_field() {
    let h = desk_with(Some(owner()), unpaid_booking);
    let money: Value = h.call("booking_money", json!({"bookingId": "b-2"})).unwrap();
    assert_eq!(money["balance_due"], json!({"amount": 9000, "currency": "EUR"}), "{money}");
    assert_eq!(h.call::<Value>("booking_money", json!({"bookingId": "b-404"})).unwrap_err().code, "NOT_FOUND");

    let pay = |amount: &str, currency: &str| {
        json!({"input": {"booking_id": "b-2", "method": "cash", "amount": amount, "currency": currency,
                         "note": "counter", "reference": null}})
    };
    for (amount, currency, field) in
        [("abc", "EUR", "amount"), ("90.001", "EUR", "amount"), ("90.01", "EUR", "amount"), ("10", "USD", "currency")]
    {
        let e = h.call::<Value>("record_payment", pay(amount, currency)).unwrap_err();
        assert_eq!((e.code.as_str(), e.field.as_deref()), ("INVALID", Some(field)), "{amount} {currency}: {e:?}");
    }
    assert!(h.changes().is_empty(), "nothing saved, nothing announced");

    let after: Value = h.call("record_payment", pay("90.00", "EUR")).unwrap();
    assert_eq!((after["status"].as_str(), after["payment_status"].as_str()), (Some("confirmed"), Some("paid")));
    assert_eq!(after["entries"][0]["kind"], "cash");
    assert_eq!(after["entries"][0]["pending"], true);
    assert_eq!(
        h.changes(),
        [DataChanged { kinds: vec![EntityKind::LedgerEntry, EntityKind::Booking], outcomes: false }]
    );
    assert_eq!(h.store.pending_count().unwrap(), 1);

    // The bookings screen finds it, with nothing left to pay.
    let list: Value = h.call("list_all_bookings", json!({"filter": {"query": "ghjkmn"}})).unwrap();
    assert_eq!(list["matches"], 1, "{list}");
    assert_eq!(list["rows"][0]["balance_due"]["amount"], 0);
    let due: Value = h.call("list_all_bookings", json!({"filter": {"balance_due": true}})).unwrap();
    assert_eq!(due["matches"], 0, "{due}");
}

#[test]
fn the_audit_log_lists_what_the_filters_ask_and_refuses_a_backward_range_at_its_field() {
    use tourdesk_domain::audit::{AuditFacets, AuditRecord};
    use tourdesk_domain::protocol::{BucketPage, ChangeRecord, Op, PullResponse};
    let entry = |id: &str, entity: &str, at: &str| {
        json!({"id": id, "organization_id": "org-1", "actor": "u-1", "actor_user_id": "u-1", "device_id": "dev-1",
               "action": format!("update_{entity}.v1"), "entity": entity, "entity_id": format!("{entity}-1"),
               "before": {"name": "Old"}, "after": {"name": "New"}, "created_at": at})
    };
    let h = desk_with(Some(owner()), |store| {
        let rows = [entry("1", "tour", "2026-06-01T10:00:00Z"), entry("2", "customer", "2026-06-02T10:00:00Z")];
        let changes: Vec<ChangeRecord> = rows
            .into_iter()
            .enumerate()
            .map(|(i, row)| ChangeRecord {
                seq: i as u64 + 1,
                entity: EntityKind::AuditLog,
                id: row["id"].as_str().unwrap().into(),
                op: Op::Put,
                row,
            })
            .collect();
        let page = BucketPage { bucket: "org:org-1:audit".into(), changes, cursor: 2, head: 2 };
        store
            .apply_pull(&PullResponse {
                buckets: vec![page],
                complete: true,
                last_mutation_id: 0,
                results: vec![],
                removed_buckets: vec![],
            })
            .unwrap();
    });
    let all: Vec<AuditRecord> = h.call("list_audit_log", json!({"filter": {}})).unwrap();
    assert_eq!(all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["2", "1"], "newest first");
    let tours: Vec<AuditRecord> = h.call("list_audit_log", json!({"filter": {"entity": "tour"}})).unwrap();
    assert_eq!(tours.len(), 1);
    let day: Vec<AuditRecord> =
        h.call("list_audit_log", json!({"filter": {"from": "2026-06-02", "to": "2026-06-02"}})).unwrap();
    assert_eq!(day[0].entity, "customer");
    let e = h.call::<Vec<AuditRecord>>("list_audit_log", json!({"filter": {"from": "2026-06-02", "to": "2026-06-01"}}));
    assert_eq!(e.unwrap_err().field.as_deref(), Some("to"));
    let facets: AuditFacets = h.call("audit_facets", json!({})).unwrap();
    assert_eq!(facets.entities, ["customer", "tour"]);
    // An entity's history: its entries and the name of whoever wrote them (the signed-in owner).
    let named: tourdesk_domain::audit::NamedAudit =
        h.call("named_audit_log", json!({"filter": {"entity": "tour", "entity_id": "tour-1"}})).unwrap();
    assert_eq!(named.entries.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["1"]);
    assert_eq!(named.people.get("u-1").map(String::as_str), Some(owner().user_name.as_str()), "{named:?}");
    let e = h.call::<tourdesk_domain::audit::NamedAudit>(
        "named_audit_log",
        json!({"filter": {"from": "2026-06-02", "to": "2026-06-01"}}),
    );
    assert_eq!(e.unwrap_err().field.as_deref(), Some("to"));
}

/// Issue 16: the dashboard and a report answer from the replica; a range ending before it starts
/// comes back at its field; the CSV is written where asked; a guide's desk reads no report.
#[test]
fn reports_and_the_dashboard_answer_offline_and_export_csv() {
    use tourdesk_domain::reports::{Dashboard, ReportTable};
    let h = desk(true);
    h.call::<TourView>("create_tour", tour("Lighthouse at Dusk", 12)).unwrap();
    let d: Dashboard = h.call("dashboard", json!({})).unwrap();
    assert_eq!((d.timezone.as_str(), d.departures.len(), d.refused), ("Europe/Lisbon", 0, 0));
    let filter = json!({"kind": "revenue", "from": "2026-03-01", "to": "2026-03-31", "group": "week"});
    let t: ReportTable = h.call("run_report", json!({ "filter": filter })).unwrap();
    assert_eq!(t.columns.first().map(String::as_str), Some("Period"));
    assert!(t.rows.is_empty() && t.totals.is_empty());
    let e = h
        .call::<ReportTable>(
            "run_report",
            json!({"filter": {"kind": "sources", "from": "2026-03-31", "to": "2026-03-01"}}),
        )
        .unwrap_err();
    assert_eq!((e.code.as_str(), e.field.as_deref()), ("INVALID", Some("to")), "{e:?}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("revenue.csv");
    let saved: String =
        h.call("save_report_csv", json!({"filter": filter, "path": path.display().to_string()})).unwrap();
    assert_eq!(saved, path.display().to_string());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "Period,Currency,Bookings,Guests,Gross,Discounts,Taxes,Refunds,Net\r\n"
    );
    // A folder gets the report's own name in it; a missing folder is said, naming the report.
    let saved: String =
        h.call("save_report_csv", json!({"filter": filter, "path": dir.path().display().to_string()})).unwrap();
    assert_eq!(saved, dir.path().join("tourdesk-revenue-2026-03-01-to-2026-03-31.csv").display().to_string());
    let missing = dir.path().join("gone").join("revenue.csv");
    let e = h
        .call::<String>("save_report_csv", json!({"filter": filter, "path": missing.display().to_string()}))
        .unwrap_err();
    assert_eq!(e.code, "NOT_SAVED", "{e:?}");
    assert!(e.message.starts_with("the report was not saved: there is no folder"), "{e:?}");
    let guide = desk_as(Some(Session { role: Role::Guide, ..owner() }));
    let e = guide.call::<ReportTable>("run_report", json!({ "filter": filter })).unwrap_err();
    assert_eq!(e.code, "NOT_AUTHORIZED", "{e:?}");
}

#[test]
fn a_gift_card_is_sold_then_spent_on_a_booking_and_the_drawer_counts_the_sale() {
    let h = desk_with(Some(owner()), unpaid_booking);
    let empty: Value = h.call("list_gift_cards", json!({})).unwrap();
    assert_eq!(empty, json!([]));
    let sell = |amount: &str, currency: &str| {
        json!({"input": {"amount": amount, "currency": currency, "payment_method": "cash",
                         "recipient_name": "Rui", "expires_on": null}})
    };
    for (amount, currency, field) in [("abc", "EUR", "amount"), ("0", "EUR", "amount"), ("10", "EURO", "currency")] {
        let e = h.call::<Value>("issue_gift_card", sell(amount, currency)).unwrap_err();
        assert_eq!((e.code.as_str(), e.field.as_deref()), ("INVALID", Some(field)), "{amount} {currency}: {e:?}");
    }
    assert!(h.changes().is_empty(), "nothing saved, nothing announced");

    let card: Value = h.call("issue_gift_card", sell("50.00", "EUR")).unwrap();
    let code = card["line"]["display_code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 19, "{code}");
    assert_eq!((card["line"]["balance"].as_i64(), card["line"]["pending"].as_bool()), (Some(5_000), Some(true)));
    assert_eq!(
        h.changes(),
        [DataChanged { kinds: vec![EntityKind::GiftCard, EntityKind::GiftCardMovement], outcomes: false }]
    );

    let redeem = |code: &str, amount: &str| json!({"input": {"booking_id": "b-2", "code": code, "amount": amount, "currency": "EUR"}});
    let e = h.call::<Value>("redeem_gift_card", redeem(&code, "50.01")).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("amount"), "{e:?}");
    let e = h.call::<Value>("redeem_gift_card", redeem("NOPE-NOPE-NOPE", "10")).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("code"), "{e:?}");
    let money: Value = h.call("redeem_gift_card", redeem(&code.to_lowercase(), "50.00")).unwrap();
    assert_eq!(money["balance_due"]["amount"], 4_000, "{money}");
    assert_eq!(money["entries"][0]["kind"], "gift_card_redemption");

    let list: Value = h.call("list_gift_cards", json!({})).unwrap();
    assert_eq!((list[0]["balance"].as_i64(), list[0]["state"].as_str()), (Some(0), Some("used_up")));
    let drawer: Value = h.call("cash_drawer", json!({"date": null})).unwrap();
    assert_eq!(drawer["lines"][0]["gift_cards_cash"], 5_000, "{drawer}");
    assert_eq!(drawer["lines"][0]["cash_total"], 5_000, "a redemption moves no money");
}

#[test]
fn the_waitlist_lists_offline_and_refuses_unknown_rows_in_words_without_announcing_anything() {
    let h = desk_with(Some(owner()), departure_with_a_booking);
    let all: Value = h.call("list_waitlist", json!({"filter": {}})).unwrap();
    assert_eq!(all, json!([]));
    let queue: Value = h.call("departure_waitlist", json!({"departureId": "d-1"})).unwrap();
    assert_eq!(queue, json!([]));
    let add = json!({"input": {"departure_id": "d-404", "customer_id": "c-1",
                               "lines": [{"tier_id": "adult", "quantity": 2}]}});
    let e = h.call::<String>("add_to_waitlist", add).unwrap_err();
    assert_eq!(e.code, "NOT_FOUND", "{e:?}");
    let e = h.call::<()>("remove_from_waitlist", json!({"id": "w-404"})).unwrap_err();
    assert_eq!(e.code, "NOT_FOUND", "{e:?}");
    assert!(h.changes().is_empty(), "nothing saved, nothing announced");
}

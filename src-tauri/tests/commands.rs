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
use tourdesk_domain::ipc::{CommandError, CustomerDetail, CustomerHit, DataChanged, SearchResults, TourView};
use tourdesk_domain::money::Currency;
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::roles::Role;
use tourdesk_local_store::{Credentials, Session, Store, SyncClient};

struct Harness {
    _app: tauri::App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    events: Arc<Mutex<Vec<DeskEvent>>>,
    _dir: tempfile::TempDir,
}

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
        organization_language: None,
        organization_currency: None,
    }
}

fn desk_as(session: Option<Session>) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("desk.sqlite3")).unwrap());
    if let Some(session) = session {
        store.save_session(&session).unwrap();
    }
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let client = SyncClient::new(
        "http://127.0.0.1:9",
        Credentials {
            organization: "o".into(),
            email: "e@example.com".into(),
            password: "p".into(),
            device: "d".into(),
        },
    )
    .unwrap();
    let sync = SyncLoop::new(client, Arc::new(move |e| seen.lock().unwrap().push(e)));
    let app = with_commands(mock_builder()).build(mock_context(noop_assets())).unwrap();
    app.manage(Desk { store, sync });
    let window = tauri::WebviewWindowBuilder::new(&app, "main", Default::default()).build().unwrap();
    Harness { _app: app, window, events, _dir: dir }
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
    let lisbon =
        Session { organization_language: Some("pt".into()), organization_currency: Some(Currency::EUR), ..owner() };
    assert_eq!(made(&desk_as(Some(lisbon))), ("pt".to_string(), Currency::EUR));
    // A session from a server that sent no settings: the domain's fallbacks.
    assert_eq!(made(&desk(true)), ("en".to_string(), Currency::USD));
}

#[test]
fn settings_need_a_signed_in_desk_and_a_connection_and_say_so() {
    use tourdesk_domain::accounts::{OrganizationSettings, StaffDirectory};
    // Never signed in: refused before any request, in the same words as a local write.
    let h = desk(false);
    let e = h.call::<OrganizationSettings>("get_organization", json!({})).unwrap_err();
    assert_eq!(e.code, "NOT_SIGNED_IN", "{e:?}");
    // Signed in, but the server (a closed port) cannot be reached: "needs a connection".
    let h = desk(true);
    for (cmd, args) in [
        ("get_organization", json!({})),
        ("update_organization", json!({"change": {"name": "Harbour Walks Ltd"}})),
        ("list_staff", json!({})),
        ("my_account", json!({})),
        ("mfa_enrol", json!({"password": "correct horse battery"})),
        ("list_devices", json!({})),
        ("revoke_device", json!({"id": "2b7c1e52-0000-4000-8000-000000000001"})),
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

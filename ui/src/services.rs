//! One typed function per Tauri command, and the desk's events. Argument names are camelCase
//! because Tauri maps Rust command parameters (`tour_id`) to JavaScript keys (`tourId`).
//! Every failure leaves here as a `UiError` (`call` is the one place a `CommandError` is read).

use serde::Serialize;
use serde::de::DeserializeOwned;
use tourdesk_domain::accounts::{
    InviteRequest, MfaEnrolment, MyAccount, OrganizationChange, OrganizationSettings, RecoveryCodes, StaffChange,
    StaffDirectory, StaffMember,
};
use tourdesk_domain::ipc::{
    BookingHit, BookingSummary, CommandError, CustomerDetail, CustomerHit, DepartureView, DeskStatus, Manifest,
    NewBooking, NewCustomer, NewTour, Outcome, RejectedBooking, SearchResults, TourView,
};
use tourdesk_domain::ipc::{NewVariant, PriceTierInput};
use tourdesk_domain::ipc::{SignInDefaults, SignInInput, SignedInAs, SignedOut};
use tourdesk_domain::mutation::DepartureCancellationPreview;
use tourdesk_domain::mutation::{UpdateTourV1, UpdateVariantV1};
use tourdesk_domain::payment::PaymentIssue;
use tourdesk_domain::protocol::{DeviceInfo, DeviceList};
use tourdesk_domain::{PricingTier, TourVariant};
use wasm_bindgen::prelude::*;
use yew::Callback;

use crate::error::UiError;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], catch)]
    async fn invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "event"], js_name = listen, catch)]
    async fn tauri_listen(event: &str, handler: &Closure<dyn FnMut(JsValue)>) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_namespace = ["navigator", "clipboard"], js_name = writeText, catch)]
    async fn clipboard_write_text(text: &str) -> Result<JsValue, JsValue>;
}

/// Puts `text` on the clipboard (the webview's own; no desk command needed).
pub async fn copy_to_clipboard(text: &str) -> Result<(), UiError> {
    clipboard_write_text(text).await.map(|_| ()).map_err(|_| UiError::local("the clipboard could not be written"))
}

pub async fn update_status() -> Result<tourdesk_domain::ipc::UpdateStatus, UiError> {
    call("update_status", &NoArgs {}).await
}

pub async fn check_for_update() -> Result<tourdesk_domain::ipc::UpdateStatus, UiError> {
    call("check_for_update", &NoArgs {}).await
}

pub async fn install_update() -> Result<tourdesk_domain::ipc::InstallOutcome, UiError> {
    call("install_update", &NoArgs {}).await
}

pub async fn diagnostics() -> Result<String, UiError> {
    call("diagnostics", &NoArgs {}).await
}

/// The UI's stages of this start, for the desk's log (`crate::startup`).
#[cfg(target_arch = "wasm32")]
pub(crate) async fn report_startup(marks: serde_json::Value) -> Result<(), UiError> {
    #[derive(Serialize)]
    struct Args {
        marks: serde_json::Value,
    }
    call("report_startup", &Args { marks }).await
}

pub(crate) async fn call<A: Serialize, R: DeserializeOwned>(cmd: &str, args: &A) -> Result<R, UiError> {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    let args = args.serialize(&ser).map_err(|e| UiError::local(e.to_string()))?;
    crate::startup::invoking();
    let reply = invoke(cmd, args).await;
    crate::startup::replied();
    match reply {
        // The reply as JSON text (the webview's native `JSON.stringify`) read by serde_json: a
        // large reply (500 tours, a month of departures) is read several times faster than by
        // walking the JavaScript object field by field through `serde_wasm_bindgen`.
        Ok(v) => {
            let text = web_sys::js_sys::JSON::stringify(&v).ok().and_then(|t| t.as_string());
            serde_json::from_str(text.as_deref().unwrap_or("null"))
                .map_err(|e| UiError::local(format!("unexpected reply to {cmd}: {e}")))
        }
        Err(e) => Err(serde_wasm_bindgen::from_value::<CommandError>(e.clone())
            .map(UiError::from)
            .unwrap_or_else(|_| UiError::local(e.as_string().unwrap_or_else(|| format!("{cmd} failed"))))),
    }
}

/// Calls `on` with each payload of the desk's `event` for as long as the window lives. Resolves
/// once the desk has registered the listener, so a load started after it misses no change.
pub async fn listen<T: DeserializeOwned + 'static>(event: &'static str, on: Callback<T>) -> Result<(), UiError> {
    let handler = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let payload = web_sys::js_sys::Reflect::get(&e, &JsValue::from_str("payload")).unwrap_or(JsValue::NULL);
        match serde_wasm_bindgen::from_value::<T>(payload) {
            Ok(v) => on.emit(v),
            Err(err) => web_sys::console::warn_1(&JsValue::from_str(&format!("unreadable {event} event: {err}"))),
        }
    });
    let registered = tauri_listen(event, &handler).await;
    // The listener stays for the window's life; the desk calls it until the window closes.
    handler.forget();
    registered.map(|_| ()).map_err(|e| UiError::local(format!("could not follow {event}: {e:?}")))
}

/// The arguments of a command that takes none.
#[derive(Serialize)]
pub(crate) struct NoArgs {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TourArg<'a> {
    tour_id: &'a str,
}

/// The arguments of a command that takes one `input`.
#[derive(Serialize)]
pub(crate) struct CreateArgs<'a, T> {
    pub(crate) input: &'a T,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DepartureArg<'a> {
    departure_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomerArg<'a> {
    customer_id: &'a str,
}

#[derive(Serialize)]
struct QueryArg<'a> {
    query: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AttendanceArgs<'a> {
    booking_id: &'a str,
    departure_id: &'a str,
    participant: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotesArgs<'a> {
    customer_id: &'a str,
    base_version: u64,
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RetryArgs<'a> {
    mutation_id: u64,
    departure_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OverbookArgs<'a> {
    mutation_id: u64,
    reason: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MutationArg {
    mutation_id: u64,
}

pub async fn desk_status() -> Result<DeskStatus, UiError> {
    call("desk_status", &NoArgs {}).await
}

pub async fn list_tours() -> Result<Vec<TourView>, UiError> {
    call("list_tours", &NoArgs {}).await
}

pub async fn list_departures(tour_id: &str) -> Result<Vec<DepartureView>, UiError> {
    call("list_departures", &TourArg { tour_id }).await
}

pub async fn list_prices(tour_id: &str) -> Result<Vec<PricingTier>, UiError> {
    call("list_prices", &TourArg { tour_id }).await
}

pub async fn create_tour(input: &NewTour) -> Result<TourView, UiError> {
    call("create_tour", &CreateArgs { input }).await
}

pub async fn update_tour(input: &UpdateTourV1) -> Result<TourView, UiError> {
    call("update_tour", &CreateArgs { input }).await
}

pub async fn list_variants(tour_id: &str) -> Result<Vec<TourVariant>, UiError> {
    call("list_variants", &TourArg { tour_id }).await
}

pub async fn create_variant(input: &NewVariant) -> Result<String, UiError> {
    call("create_variant", &CreateArgs { input }).await
}

pub async fn update_variant(input: &UpdateVariantV1) -> Result<(), UiError> {
    call("update_variant", &CreateArgs { input }).await
}

pub async fn save_price_tier(input: &PriceTierInput) -> Result<String, UiError> {
    call("save_price_tier", &CreateArgs { input }).await
}

pub async fn sync_now() -> Result<(), UiError> {
    call("sync_now", &NoArgs {}).await
}

pub async fn list_rejections() -> Result<Vec<Outcome>, UiError> {
    call("list_rejections", &NoArgs {}).await
}

pub async fn list_payment_issues() -> Result<Vec<PaymentIssue>, UiError> {
    call("list_payment_issues", &NoArgs {}).await
}

pub async fn dismiss_rejection(mutation_id: u64) -> Result<(), UiError> {
    call("dismiss_rejection", &MutationArg { mutation_id }).await
}

pub async fn list_bookings(departure_id: &str) -> Result<Vec<BookingSummary>, UiError> {
    call("list_bookings", &DepartureArg { departure_id }).await
}

pub async fn search_customers(query: &str) -> Result<Vec<CustomerHit>, UiError> {
    call("search_customers", &QueryArg { query }).await
}

pub async fn customer_detail(customer_id: &str) -> Result<CustomerDetail, UiError> {
    call("customer_detail", &CustomerArg { customer_id }).await
}

pub async fn create_customer(input: &NewCustomer) -> Result<CustomerHit, UiError> {
    call("create_customer", &CreateArgs { input }).await
}

pub async fn create_booking(input: &NewBooking) -> Result<BookingSummary, UiError> {
    call("create_booking", &CreateArgs { input }).await
}

pub async fn manifest(departure_id: &str) -> Result<Manifest, UiError> {
    call("manifest", &DepartureArg { departure_id }).await
}

pub async fn departure_cancellation_preview(departure_id: &str) -> Result<DepartureCancellationPreview, UiError> {
    call("departure_cancellation_preview", &DepartureArg { departure_id }).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CancelDepartureArgs<'a> {
    departure_id: &'a str,
    reason: &'a str,
}

pub async fn cancel_departure(departure_id: &str, reason: &str) -> Result<(), UiError> {
    call("cancel_departure", &CancelDepartureArgs { departure_id, reason }).await
}

pub async fn check_in(booking_id: &str, departure_id: &str, participant: u32) -> Result<(), UiError> {
    call("check_in", &AttendanceArgs { booking_id, departure_id, participant }).await
}

pub async fn mark_no_show(booking_id: &str, departure_id: &str, participant: u32) -> Result<(), UiError> {
    call("mark_no_show", &AttendanceArgs { booking_id, departure_id, participant }).await
}

pub async fn edit_customer_notes(customer_id: &str, base_version: u64, text: &str) -> Result<(), UiError> {
    call("edit_customer_notes", &NotesArgs { customer_id, base_version, text }).await
}

pub async fn list_rejected_bookings() -> Result<Vec<RejectedBooking>, UiError> {
    call("list_rejected_bookings", &NoArgs {}).await
}

pub async fn retry_booking_on(mutation_id: u64, departure_id: &str) -> Result<(), UiError> {
    call("retry_booking_on", &RetryArgs { mutation_id, departure_id }).await
}

pub async fn overbook_booking(mutation_id: u64, reason: &str) -> Result<(), UiError> {
    call("overbook_booking", &OverbookArgs { mutation_id, reason }).await
}

pub async fn waitlist_booking(mutation_id: u64) -> Result<(), UiError> {
    call("waitlist_booking", &MutationArg { mutation_id }).await
}

#[derive(Serialize)]
struct ReferenceArg<'a> {
    reference: &'a str,
}

pub async fn search(query: &str) -> Result<SearchResults, UiError> {
    call("search", &QueryArg { query }).await
}

pub async fn find_booking(reference: &str) -> Result<BookingHit, UiError> {
    call("find_booking", &ReferenceArg { reference }).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SignOutArgs {
    discard_pending: bool,
    local_only: bool,
}

pub async fn sign_in_defaults() -> Result<SignInDefaults, UiError> {
    call("sign_in_defaults", &NoArgs {}).await
}

pub async fn sign_in(input: &SignInInput) -> Result<SignedInAs, UiError> {
    call("sign_in", &CreateArgs { input }).await
}

pub async fn sign_out(discard_pending: bool, local_only: bool) -> Result<SignedOut, UiError> {
    call("sign_out", &SignOutArgs { discard_pending, local_only }).await
}

// Review moderation: online calls through the desk (reviews live on the server).

#[derive(Serialize)]
struct ReviewStatusArg<'a> {
    status: Option<&'a str>,
}

#[derive(Serialize)]
struct ModerationArgs<'a> {
    id: &'a str,
    decision: tourdesk_domain::reviews::Decision,
}

pub async fn list_reviews(
    status: Option<tourdesk_domain::reviews::ReviewStatus>,
) -> Result<Vec<tourdesk_domain::reviews::ReviewItem>, UiError> {
    call("list_reviews", &ReviewStatusArg { status: status.map(|s| s.as_str()) }).await
}

pub async fn moderate_review(
    id: &str,
    decision: tourdesk_domain::reviews::Decision,
) -> Result<tourdesk_domain::reviews::ReviewItem, UiError> {
    call("moderate_review", &ModerationArgs { id, decision }).await
}

// The settings area: online calls through the desk (account management is not replicated).

#[derive(Serialize)]
struct ChangeArg<'a, T> {
    change: &'a T,
}

#[derive(Serialize)]
struct IdArg<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct StaffChangeArgs<'a> {
    id: &'a str,
    change: &'a StaffChange,
}

#[derive(Serialize)]
struct MfaArgs<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
}

pub async fn get_organization() -> Result<OrganizationSettings, UiError> {
    call("get_organization", &NoArgs {}).await
}

pub async fn update_organization(change: &OrganizationChange) -> Result<OrganizationSettings, UiError> {
    call("update_organization", &ChangeArg { change }).await
}

pub async fn list_message_templates() -> Result<Vec<tourdesk_domain::messages::TemplateEntry>, UiError> {
    call("list_message_templates", &NoArgs {}).await
}

#[derive(Serialize)]
struct TemplateArgs<'a> {
    kind: tourdesk_domain::messages::MessageKind,
    language: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a str>,
}

pub async fn save_message_template(
    kind: tourdesk_domain::messages::MessageKind,
    language: &str,
    subject: &str,
    body: &str,
) -> Result<tourdesk_domain::messages::TemplateEntry, UiError> {
    call("save_message_template", &TemplateArgs { kind, language, subject: Some(subject), body: Some(body) }).await
}

pub async fn reset_message_template(
    kind: tourdesk_domain::messages::MessageKind,
    language: &str,
) -> Result<tourdesk_domain::messages::TemplateEntry, UiError> {
    call("reset_message_template", &TemplateArgs { kind, language, subject: None, body: None }).await
}

pub async fn my_account() -> Result<MyAccount, UiError> {
    call("my_account", &NoArgs {}).await
}

pub async fn list_staff() -> Result<StaffDirectory, UiError> {
    call("list_staff", &NoArgs {}).await
}

pub async fn invite_staff(input: &InviteRequest) -> Result<StaffMember, UiError> {
    call("invite_staff", &CreateArgs { input }).await
}

pub async fn update_staff(id: &str, change: &StaffChange) -> Result<StaffMember, UiError> {
    call("update_staff", &StaffChangeArgs { id, change }).await
}

pub async fn reinvite_staff(id: &str) -> Result<StaffMember, UiError> {
    call("reinvite_staff", &IdArg { id }).await
}

pub async fn mfa_enrol(password: &str) -> Result<MfaEnrolment, UiError> {
    call("mfa_enrol", &MfaArgs { password: Some(password), code: None }).await
}

pub async fn mfa_confirm(code: &str) -> Result<RecoveryCodes, UiError> {
    call("mfa_confirm", &MfaArgs { password: None, code: Some(code) }).await
}

pub async fn mfa_disable(password: &str, code: &str) -> Result<(), UiError> {
    call("mfa_disable", &MfaArgs { password: Some(password), code: Some(code) }).await
}

pub async fn list_devices() -> Result<DeviceList, UiError> {
    call("list_devices", &NoArgs {}).await
}

pub async fn revoke_device(id: &str) -> Result<DeviceInfo, UiError> {
    call("revoke_device", &IdArg { id }).await
}

/// A booking's price, participants and ledger with its balance.
pub async fn booking_money(booking_id: &str) -> Result<tourdesk_domain::ipc::BookingMoney, UiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A<'a> {
        booking_id: &'a str,
    }
    call("booking_money", &A { booking_id }).await
}

/// Records money taken by hand; answers the booking's money as it now stands.
pub async fn record_payment(
    input: &tourdesk_domain::ipc::NewPayment,
) -> Result<tourdesk_domain::ipc::BookingMoney, UiError> {
    #[derive(Serialize)]
    struct A<'a> {
        input: &'a tourdesk_domain::ipc::NewPayment,
    }
    call("record_payment", &A { input }).await
}

/// Records a refund owed back by hand and handed over; answers the booking's money as it now stands.
pub async fn record_refund(
    input: &tourdesk_domain::ipc::NewRefund,
) -> Result<tourdesk_domain::ipc::BookingMoney, UiError> {
    #[derive(Serialize)]
    struct A<'a> {
        input: &'a tourdesk_domain::ipc::NewRefund,
    }
    call("record_refund", &A { input }).await
}

/// Who a one-off message from the booking goes to, and by which channels.
pub async fn message_options(booking_id: &str) -> Result<tourdesk_domain::ipc::MessageOptions, UiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A<'a> {
        booking_id: &'a str,
    }
    call("message_options", &A { booking_id }).await
}

/// Queues a one-off message to the booking's customer.
pub async fn send_customer_message(input: &tourdesk_domain::ipc::NewCustomerMessage) -> Result<(), UiError> {
    #[derive(Serialize)]
    struct A<'a> {
        input: &'a tourdesk_domain::ipc::NewCustomerMessage,
    }
    call("send_customer_message", &A { input }).await
}

/// What cancelling the booking now would give back under its policy.
pub async fn cancellation_preview(booking_id: &str) -> Result<tourdesk_domain::ipc::CancellationPreview, UiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A<'a> {
        booking_id: &'a str,
    }
    call("cancellation_preview", &A { booking_id }).await
}

/// Cancels a booking; answers its money as it now stands (the refund due included).
pub async fn cancel_booking(
    input: &tourdesk_domain::ipc::CancelBooking,
) -> Result<tourdesk_domain::ipc::BookingMoney, UiError> {
    #[derive(Serialize)]
    struct A<'a> {
        input: &'a tourdesk_domain::ipc::CancelBooking,
    }
    call("cancel_booking", &A { input }).await
}

/// The departures a booking can move to, with what each does to its money.
pub async fn move_options(booking_id: &str) -> Result<Vec<tourdesk_domain::ipc::MoveOption>, UiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A<'a> {
        booking_id: &'a str,
    }
    call("move_options", &A { booking_id }).await
}

/// Moves a booking to another departure; answers its money as it now stands.
pub async fn move_booking(
    input: &tourdesk_domain::ipc::MoveBooking,
) -> Result<tourdesk_domain::ipc::BookingMoney, UiError> {
    #[derive(Serialize)]
    struct A<'a> {
        input: &'a tourdesk_domain::ipc::MoveBooking,
    }
    call("move_booking", &A { input }).await
}

/// What a modification would do to a booking (new price, balance or refund), not saved.
pub async fn modify_preview(
    input: &tourdesk_domain::ipc::ModifyBooking,
) -> Result<tourdesk_domain::ipc::ModifyPreview, UiError> {
    #[derive(Serialize)]
    struct A<'a> {
        input: &'a tourdesk_domain::ipc::ModifyBooking,
    }
    call("modify_preview", &A { input }).await
}

/// Modifies a booking; answers its money as it now stands.
pub async fn modify_booking(
    input: &tourdesk_domain::ipc::ModifyBooking,
) -> Result<tourdesk_domain::ipc::BookingMoney, UiError> {
    #[derive(Serialize)]
    struct A<'a> {
        input: &'a tourdesk_domain::ipc::ModifyBooking,
    }
    call("modify_booking", &A { input }).await
}

/// The bookings screen's rows for a search and filters.
pub async fn list_all_bookings(
    filter: &tourdesk_domain::ipc::BookingFilter,
) -> Result<tourdesk_domain::ipc::BookingList, UiError> {
    #[derive(Serialize)]
    struct A<'a> {
        filter: &'a tourdesk_domain::ipc::BookingFilter,
    }
    call("list_all_bookings", &A { filter }).await
}

#[derive(Serialize)]
struct RangeArgs {
    from: chrono::NaiveDate,
    until: chrono::NaiveDate,
}

/// Departures across tours with a local date in `[from, until]`.
pub async fn calendar(
    from: chrono::NaiveDate,
    until: chrono::NaiveDate,
) -> Result<Vec<tourdesk_domain::ipc::CalendarDeparture>, UiError> {
    call("calendar", &RangeArgs { from, until }).await
}

pub async fn preview_departures(
    input: &tourdesk_domain::mutation::GenerateDeparturesV1,
) -> Result<tourdesk_domain::mutation::GenerationPlan, UiError> {
    call("preview_departures", &CreateArgs { input }).await
}

/// Saves the generation; answers how many departures are new.
pub async fn generate_departures(input: &tourdesk_domain::mutation::GenerateDeparturesV1) -> Result<usize, UiError> {
    call("generate_departures", &CreateArgs { input }).await
}

pub async fn preview_one_off(
    input: &tourdesk_domain::mutation::CreateDepartureV1,
) -> Result<tourdesk_domain::mutation::PlannedDeparture, UiError> {
    call("preview_one_off", &CreateArgs { input }).await
}

pub async fn create_departure(
    input: &tourdesk_domain::mutation::CreateDepartureV1,
) -> Result<tourdesk_domain::mutation::PlannedDeparture, UiError> {
    call("create_departure", &CreateArgs { input }).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CapacityArgs<'a> {
    departure_id: &'a str,
    capacity: u32,
    override_reason: Option<&'a str>,
}

pub async fn set_departure_capacity(
    departure_id: &str,
    capacity: u32,
    override_reason: Option<&str>,
) -> Result<(), UiError> {
    call("set_departure_capacity", &CapacityArgs { departure_id, capacity, override_reason }).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusArgs<'a> {
    departure_id: &'a str,
    status: tourdesk_domain::status::DepartureStatus,
}

pub async fn set_departure_status(
    departure_id: &str,
    status: tourdesk_domain::status::DepartureStatus,
) -> Result<(), UiError> {
    call("set_departure_status", &StatusArgs { departure_id, status }).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DepartureNotesArgs<'a> {
    departure_id: &'a str,
    notes: &'a str,
}

pub async fn set_departure_notes(departure_id: &str, notes: &str) -> Result<(), UiError> {
    call("set_departure_notes", &DepartureNotesArgs { departure_id, notes }).await
}

pub async fn list_schedule_variants(tour_id: &str) -> Result<Vec<tourdesk_domain::entities::TourVariant>, UiError> {
    call("list_schedule_variants", &TourArg { tour_id }).await
}

#[derive(Serialize)]
struct AuditArg<'a> {
    filter: &'a tourdesk_domain::audit::AuditFilter,
}

/// The audit log's entries matching `filter`, newest first (owners' and admins' desks).
pub async fn list_audit_log(
    filter: &tourdesk_domain::audit::AuditFilter,
) -> Result<Vec<tourdesk_domain::audit::AuditRecord>, UiError> {
    call("list_audit_log", &AuditArg { filter }).await
}

/// [`list_audit_log`] with the names the desk knows for the staff named and its own device id.
pub async fn named_audit_log(
    filter: &tourdesk_domain::audit::AuditFilter,
) -> Result<tourdesk_domain::audit::NamedAudit, UiError> {
    call("named_audit_log", &AuditArg { filter }).await
}

/// What the audit screen's filters offer.
pub async fn audit_facets() -> Result<tourdesk_domain::audit::AuditFacets, UiError> {
    call("audit_facets", &NoArgs {}).await
}

// --- The field (issue 14): allotments and walk-ups.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestAllotmentArgs<'a> {
    departure_id: &'a str,
    seats: u32,
    device_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AllotmentArg<'a> {
    allotment_id: &'a str,
}

pub async fn list_allotments(departure_id: &str) -> Result<Vec<tourdesk_domain::allotment::Allotment>, UiError> {
    call("list_allotments", &DepartureArg { departure_id }).await
}

pub async fn my_allotment(departure_id: &str) -> Result<Option<tourdesk_domain::allotment::Allotment>, UiError> {
    call("my_allotment", &DepartureArg { departure_id }).await
}

pub async fn request_allotment(
    departure_id: &str,
    seats: u32,
    device_id: Option<&str>,
) -> Result<tourdesk_domain::allotment::Allotment, UiError> {
    call("request_allotment", &RequestAllotmentArgs { departure_id, seats, device_id }).await
}

pub async fn release_allotment(allotment_id: &str) -> Result<tourdesk_domain::allotment::Allotment, UiError> {
    call("release_allotment", &AllotmentArg { allotment_id }).await
}

pub async fn sell_walk_up(input: &tourdesk_domain::allotment::WalkUpInput) -> Result<BookingSummary, UiError> {
    call("sell_walk_up", &CreateArgs { input }).await
}

/// The today dashboard, from this desk's replica.
pub async fn dashboard() -> Result<tourdesk_domain::reports::Dashboard, UiError> {
    call("dashboard", &NoArgs {}).await
}

#[derive(Serialize)]
struct ReportArg<'a> {
    filter: &'a tourdesk_domain::reports::ReportFilter,
}

/// One report's table, computed on the desk.
pub async fn run_report(
    filter: &tourdesk_domain::reports::ReportFilter,
) -> Result<tourdesk_domain::reports::ReportTable, UiError> {
    call("run_report", &ReportArg { filter }).await
}

/// The zone the reports count days in.
pub async fn report_zone() -> Result<String, UiError> {
    call("report_zone", &NoArgs {}).await
}

#[derive(Serialize)]
struct FunnelArg {
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
}

/// The website funnel for `from..=to`: fresh from the server, or the copy this desk kept.
pub async fn funnel_report(
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Result<tourdesk_domain::reports::funnel::FunnelAnswer, UiError> {
    call("funnel_report", &FunnelArg { from, to }).await
}

#[derive(Serialize)]
struct SaveFunnelArg {
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    by: tourdesk_domain::reports::funnel::FunnelGrouping,
    path: Option<String>,
}

/// Saves the kept funnel as CSV in the downloads folder; answers the path.
pub async fn save_funnel_csv(
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    by: tourdesk_domain::reports::funnel::FunnelGrouping,
) -> Result<String, UiError> {
    call("save_funnel_csv", &SaveFunnelArg { from, to, by, path: None }).await
}

#[derive(Serialize)]
struct SaveReportArg<'a> {
    filter: &'a tourdesk_domain::reports::ReportFilter,
    path: Option<String>,
}

/// Saves the report's table as CSV in the downloads folder; answers where.
pub async fn save_report_csv(filter: &tourdesk_domain::reports::ReportFilter) -> Result<String, UiError> {
    call("save_report_csv", &SaveReportArg { filter, path: None }).await
}

#[derive(Serialize)]
struct SaveReportFileArg<'a> {
    filter: &'a tourdesk_domain::reports::ReportFilter,
    format: tourdesk_domain::reports::ExportFormat,
    path: Option<String>,
}

/// Saves the report as CSV or XLSX in the downloads folder; answers where.
pub async fn save_report_file(
    filter: &tourdesk_domain::reports::ReportFilter,
    format: tourdesk_domain::reports::ExportFormat,
) -> Result<String, UiError> {
    call("save_report_file", &SaveReportFileArg { filter, format, path: None }).await
}

#[derive(Serialize)]
struct SaveListArg<'a> {
    list: &'a tourdesk_domain::reports::ListExport,
    format: tourdesk_domain::reports::ExportFormat,
    path: Option<String>,
}

/// Saves a list with its screen's filters as CSV or XLSX in the downloads folder; answers where.
pub async fn save_list_file(
    list: &tourdesk_domain::reports::ListExport,
    format: tourdesk_domain::reports::ExportFormat,
) -> Result<String, UiError> {
    call("save_list_file", &SaveListArg { list, format, path: None }).await
}

/// The organization's scheduled report e-mails (online: the server keeps and sends them).
pub async fn list_report_schedules() -> Result<Vec<tourdesk_domain::reports::schedule::ReportSchedule>, UiError> {
    call("list_report_schedules", &NoArgs {}).await
}

#[derive(Serialize)]
struct SaveScheduleArgs<'a> {
    id: Option<&'a str>,
    input: &'a tourdesk_domain::reports::schedule::ScheduleInput,
}

/// Creates a scheduled e-mail (`id` none) or changes one.
pub async fn save_report_schedule(
    id: Option<&str>,
    input: &tourdesk_domain::reports::schedule::ScheduleInput,
) -> Result<tourdesk_domain::reports::schedule::ReportSchedule, UiError> {
    call("save_report_schedule", &SaveScheduleArgs { id, input }).await
}

pub async fn delete_report_schedule(id: &str) -> Result<(), UiError> {
    call("delete_report_schedule", &IdArg { id }).await
}

/// Every gift card this desk holds, newest sale first.
pub async fn list_gift_cards() -> Result<Vec<tourdesk_domain::ipc::GiftCardLine>, UiError> {
    call("list_gift_cards", &NoArgs {}).await
}

/// One gift card with its movements.
pub async fn gift_card(id: &str) -> Result<tourdesk_domain::ipc::GiftCardDetail, UiError> {
    call("gift_card", &IdArg { id }).await
}

/// Sells a gift card; answers it with its first movement.
pub async fn issue_gift_card(
    input: &tourdesk_domain::ipc::NewGiftCard,
) -> Result<tourdesk_domain::ipc::GiftCardDetail, UiError> {
    #[derive(Serialize)]
    struct A<'a> {
        input: &'a tourdesk_domain::ipc::NewGiftCard,
    }
    call("issue_gift_card", &A { input }).await
}

/// Spends a gift card on a booking; answers the booking's money as it now stands.
pub async fn redeem_gift_card(
    input: &tourdesk_domain::ipc::GiftCardRedemption,
) -> Result<tourdesk_domain::ipc::BookingMoney, UiError> {
    #[derive(Serialize)]
    struct A<'a> {
        input: &'a tourdesk_domain::ipc::GiftCardRedemption,
    }
    call("redeem_gift_card", &A { input }).await
}

/// The cash drawer of a local day (today when none).
pub async fn cash_drawer(date: Option<chrono::NaiveDate>) -> Result<tourdesk_domain::ipc::CashDrawer, UiError> {
    #[derive(Serialize)]
    struct A {
        date: Option<chrono::NaiveDate>,
    }
    call("cash_drawer", &A { date }).await
}

// Customer edits, merge, erasure and export (issue 13 item 3).

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SetFieldArgs<'a> {
    customer_id: &'a str,
    set: &'a tourdesk_domain::mutation::CustomerField,
}

pub async fn set_customer_field(
    customer_id: &str,
    set: &tourdesk_domain::mutation::CustomerField,
) -> Result<(), UiError> {
    call("set_customer_field", &SetFieldArgs { customer_id, set }).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TagArgs<'a> {
    customer_id: &'a str,
    tag: &'a str,
    present: bool,
}

pub async fn set_customer_tag(customer_id: &str, tag: &str, present: bool) -> Result<(), UiError> {
    call("set_customer_tag", &TagArgs { customer_id, tag, present }).await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MergeArgs<'a> {
    survivor_id: &'a str,
    duplicate_id: &'a str,
}

pub async fn merge_customers(survivor_id: &str, duplicate_id: &str) -> Result<u64, UiError> {
    call("merge_customers", &MergeArgs { survivor_id, duplicate_id }).await
}

pub async fn discard_pending(mutation_id: u64) -> Result<(), UiError> {
    call("discard_pending", &MutationArg { mutation_id }).await
}

pub async fn erase_customer(customer_id: &str) -> Result<(), UiError> {
    call("erase_customer", &CustomerArg { customer_id }).await
}

pub async fn export_customer(customer_id: &str) -> Result<Vec<String>, UiError> {
    call("export_customer", &CustomerArg { customer_id }).await
}

/// Every waitlist entry this desk holds across departures, filtered.
pub async fn list_waitlist(
    filter: &tourdesk_domain::ipc::WaitlistFilter,
) -> Result<Vec<tourdesk_domain::ipc::WaitlistRow>, UiError> {
    #[derive(Serialize)]
    struct A<'a> {
        filter: &'a tourdesk_domain::ipc::WaitlistFilter,
    }
    call("list_waitlist", &A { filter }).await
}

/// One departure's waitlist, in queue order.
pub async fn departure_waitlist(departure_id: &str) -> Result<Vec<tourdesk_domain::ipc::WaitlistRow>, UiError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct A<'a> {
        departure_id: &'a str,
    }
    call("departure_waitlist", &A { departure_id }).await
}

/// Puts a customer on a departure's waitlist; answers the entry's id.
pub async fn add_to_waitlist(input: &tourdesk_domain::ipc::NewWaitlistEntry) -> Result<String, UiError> {
    #[derive(Serialize)]
    struct A<'a> {
        input: &'a tourdesk_domain::ipc::NewWaitlistEntry,
    }
    call("add_to_waitlist", &A { input }).await
}

/// Takes an entry off its waitlist.
pub async fn remove_from_waitlist(id: &str) -> Result<(), UiError> {
    call("remove_from_waitlist", &IdArg { id }).await
}

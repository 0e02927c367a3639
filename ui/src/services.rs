//! One typed function per Tauri command. Argument names are camelCase because Tauri maps Rust
//! command parameters (`tour_id`) to JavaScript keys (`tourId`).

use serde::Serialize;
use serde::de::DeserializeOwned;
use tourdesk_domain::PricingTier;
use tourdesk_domain::ipc::{
    BookingSummary, CommandError, CustomerDetail, CustomerHit, DepartureView, DeskStatus, Manifest, NewBooking,
    NewCustomer, NewTour, Outcome, RejectedBooking, TourView,
};
use tourdesk_domain::payment::PaymentIssue;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], catch)]
    async fn invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

fn local_error(message: String) -> CommandError {
    CommandError { code: "UI".into(), message, field: None }
}

async fn call<A: Serialize, R: DeserializeOwned>(cmd: &str, args: &A) -> Result<R, CommandError> {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    let args = args.serialize(&ser).map_err(|e| local_error(e.to_string()))?;
    match invoke(cmd, args).await {
        Ok(v) => serde_wasm_bindgen::from_value(v).map_err(|e| local_error(format!("unexpected reply to {cmd}: {e}"))),
        Err(e) => Err(serde_wasm_bindgen::from_value::<CommandError>(e.clone())
            .unwrap_or_else(|_| local_error(e.as_string().unwrap_or_else(|| format!("{cmd} failed"))))),
    }
}

#[derive(Serialize)]
struct NoArgs {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TourArg<'a> {
    tour_id: &'a str,
}

#[derive(Serialize)]
struct CreateArgs<'a, T> {
    input: &'a T,
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

pub async fn desk_status() -> Result<DeskStatus, CommandError> {
    call("desk_status", &NoArgs {}).await
}

pub async fn list_tours() -> Result<Vec<TourView>, CommandError> {
    call("list_tours", &NoArgs {}).await
}

pub async fn list_departures(tour_id: &str) -> Result<Vec<DepartureView>, CommandError> {
    call("list_departures", &TourArg { tour_id }).await
}

pub async fn list_prices(tour_id: &str) -> Result<Vec<PricingTier>, CommandError> {
    call("list_prices", &TourArg { tour_id }).await
}

pub async fn create_tour(input: &NewTour) -> Result<TourView, CommandError> {
    call("create_tour", &CreateArgs { input }).await
}

pub async fn sync_now() -> Result<(), CommandError> {
    call("sync_now", &NoArgs {}).await
}

pub async fn list_rejections() -> Result<Vec<Outcome>, CommandError> {
    call("list_rejections", &NoArgs {}).await
}

pub async fn list_payment_issues() -> Result<Vec<PaymentIssue>, CommandError> {
    call("list_payment_issues", &NoArgs {}).await
}

pub async fn dismiss_rejection(mutation_id: u64) -> Result<(), CommandError> {
    call("dismiss_rejection", &MutationArg { mutation_id }).await
}

pub async fn list_bookings(departure_id: &str) -> Result<Vec<BookingSummary>, CommandError> {
    call("list_bookings", &DepartureArg { departure_id }).await
}

pub async fn search_customers(query: &str) -> Result<Vec<CustomerHit>, CommandError> {
    call("search_customers", &QueryArg { query }).await
}

pub async fn customer_detail(customer_id: &str) -> Result<CustomerDetail, CommandError> {
    call("customer_detail", &CustomerArg { customer_id }).await
}

pub async fn create_customer(input: &NewCustomer) -> Result<CustomerHit, CommandError> {
    call("create_customer", &CreateArgs { input }).await
}

pub async fn create_booking(input: &NewBooking) -> Result<BookingSummary, CommandError> {
    call("create_booking", &CreateArgs { input }).await
}

pub async fn manifest(departure_id: &str) -> Result<Manifest, CommandError> {
    call("manifest", &DepartureArg { departure_id }).await
}

pub async fn check_in(booking_id: &str, departure_id: &str, participant: u32) -> Result<(), CommandError> {
    call("check_in", &AttendanceArgs { booking_id, departure_id, participant }).await
}

pub async fn mark_no_show(booking_id: &str, departure_id: &str, participant: u32) -> Result<(), CommandError> {
    call("mark_no_show", &AttendanceArgs { booking_id, departure_id, participant }).await
}

pub async fn edit_customer_notes(customer_id: &str, base_version: u64, text: &str) -> Result<(), CommandError> {
    call("edit_customer_notes", &NotesArgs { customer_id, base_version, text }).await
}

pub async fn list_rejected_bookings() -> Result<Vec<RejectedBooking>, CommandError> {
    call("list_rejected_bookings", &NoArgs {}).await
}

pub async fn retry_booking_on(mutation_id: u64, departure_id: &str) -> Result<(), CommandError> {
    call("retry_booking_on", &RetryArgs { mutation_id, departure_id }).await
}

pub async fn overbook_booking(mutation_id: u64, reason: &str) -> Result<(), CommandError> {
    call("overbook_booking", &OverbookArgs { mutation_id, reason }).await
}

pub async fn waitlist_booking(mutation_id: u64) -> Result<(), CommandError> {
    call("waitlist_booking", &MutationArg { mutation_id }).await
}

//! One typed function per Tauri command. Argument names are camelCase because Tauri maps Rust
//! command parameters (`tour_id`) to JavaScript keys (`tourId`).

use serde::Serialize;
use serde::de::DeserializeOwned;
use tourdesk_domain::PricingTier;
use tourdesk_domain::ipc::{CommandError, DepartureView, DeskStatus, NewTour, Outcome, TourView};
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
struct CreateArgs<'a> {
    input: &'a NewTour,
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

pub async fn dismiss_rejection(mutation_id: u64) -> Result<(), CommandError> {
    call("dismiss_rejection", &MutationArg { mutation_id }).await
}

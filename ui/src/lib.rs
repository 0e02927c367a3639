//! Tourdesk's desk UI (Yew, compiled to wasm). Layout:
//! - `app`: the one app state (reducer + context) fed by the desk's events and the URL's hash,
//!   and the shell (header, sidebar, toasts, Ctrl+K search);
//! - `router`: hash routes (`#/bookings/<reference>`), `pages/`: one module per screen;
//! - `components/`: what pages share (tables, forms, empty/loading/error states, keyboard rows);
//! - `hooks`: `use_invoke`, the one loading/error pattern; `services`: typed `invoke` wrappers
//!   and event subscriptions; `error`: the UI's one error type; `words`: codes as words;
//!   `clock`: this computer's local time (chrono's `Local` reads UTC in the webview);
//! - `forms`: pure form helpers (typed text → the shell's inputs, the live quote).
//!
//! The UI holds no business rules: prices come from the domain's own quote, and everything else
//! is what the shell returns and the shell's errors, field by field.

pub mod app;
pub mod clock;
pub mod components;
pub mod error;
pub mod forms;
pub mod hooks;
pub mod pages;
pub mod router;
pub mod services;
pub mod startup;
pub mod state;
pub mod words;

#[cfg(test)]
mod fixtures;

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    startup::started();
    yew::Renderer::<app::App>::new().render();
}

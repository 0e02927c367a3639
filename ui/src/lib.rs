//! Tourdesk's desk UI. Layout: `services` (typed wrappers over Tauri `invoke`), `views` and
//! `booking_views` (presentational components), `forms` (pure form helpers: typed text → the
//! shell's inputs, the live quote, debounce), `screens` (stateful booking and customer screens),
//! `app` (state and polling). The UI holds no business rules: prices come from the domain's own
//! quote, and everything else is what the shell returns and the shell's errors, field by field.

pub mod app;
pub mod booking_views;
pub mod forms;
pub mod screens;
pub mod services;
pub mod views;

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    yew::Renderer::<app::App>::new().render();
}

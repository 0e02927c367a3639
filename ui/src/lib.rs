//! Tourdesk's desk UI. Layout: `services` (typed wrappers over Tauri `invoke`), `views`
//! (components), `app` (state and polling). The UI holds no business rules: it shows what the
//! shell returns and the shell's errors, field by field.

pub mod app;
pub mod services;
pub mod views;

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    yew::Renderer::<app::App>::new().render();
}

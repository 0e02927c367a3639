// Loads the wasm UI. Kept out of index.html because the CSP allows no inline scripts.
// The mark is the UI's first stage of a start (`src/startup.rs` reports it to the desk's log).
performance.mark("tourdesk:script");
import init from "./tourdesk_ui.js";

init({ module_or_path: "./tourdesk_ui_bg.wasm" }).catch((e) => {
  document.body.textContent = "Tourdesk could not start its interface: " + e;
});

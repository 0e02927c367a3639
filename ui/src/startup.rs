//! The UI's stages of a cold start, reported to the shell (`src-tauri/src/startup.rs`), which
//! logs the whole start in one line: the page's script running (`main.js` marks it), the wasm
//! started, the first `invoke` sent, its reply, and the frame that painted it. Wall-clock
//! milliseconds (`performance.timeOrigin + now`), as the shell's marks.

use std::cell::RefCell;

use serde::Serialize;

#[derive(Serialize, Clone)]
struct Mark {
    stage: &'static str,
    at_ms: f64,
}

thread_local! {
    static MARKS: RefCell<Vec<Mark>> = const { RefCell::new(Vec::new()) };
    #[cfg(target_arch = "wasm32")]
    static REPORTED: RefCell<bool> = const { RefCell::new(false) };
}

#[cfg(target_arch = "wasm32")]
fn now_ms() -> Option<f64> {
    let p = web_sys::window()?.performance()?;
    Some(p.time_origin() + p.now())
}

#[cfg(not(target_arch = "wasm32"))]
fn now_ms() -> Option<f64> {
    None
}

/// When `main.js` started (its `performance.mark`), if it marked.
#[cfg(target_arch = "wasm32")]
fn script_at() -> Option<f64> {
    use wasm_bindgen::JsCast;
    let p = web_sys::window()?.performance()?;
    let entry: web_sys::PerformanceEntry = p.get_entries_by_name("tourdesk:script").get(0).dyn_into().ok()?;
    Some(p.time_origin() + entry.start_time())
}

#[cfg(not(target_arch = "wasm32"))]
fn script_at() -> Option<f64> {
    None
}

/// Marks a stage once.
pub fn mark(stage: &'static str) {
    let Some(at_ms) = now_ms() else { return };
    MARKS.with(|m| {
        let mut m = m.borrow_mut();
        if !m.iter().any(|x| x.stage == stage) {
            m.push(Mark { stage, at_ms });
        }
    });
}

fn marked(stage: &str) -> bool {
    MARKS.with(|m| m.borrow().iter().any(|x| x.stage == stage))
}

/// The wasm has started: also takes the script's mark.
pub fn started() {
    if let Some(at_ms) = script_at() {
        MARKS.with(|m| m.borrow_mut().push(Mark { stage: "script", at_ms }));
    }
    mark("wasm started");
}

/// Before each `invoke`: the first one is marked.
pub fn invoking() {
    mark("first invoke");
}

/// After each reply: the first is marked, and in the frame after the one that drew it, every mark
/// goes to the shell once.
pub fn replied() {
    if marked("first reply") {
        return;
    }
    mark("first reply");
    #[cfg(target_arch = "wasm32")]
    after_two_frames(|| {
        mark("first reply painted");
        report();
    });
}

#[cfg(target_arch = "wasm32")]
fn after_two_frames(then: impl FnOnce() + 'static) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let Some(window) = web_sys::window() else { return };
    let second = Closure::once_into_js(then);
    let w = window.clone();
    let first = Closure::once_into_js(move || {
        let _ = w.request_animation_frame(second.unchecked_ref());
    });
    let _ = window.request_animation_frame(first.unchecked_ref());
}

#[cfg(target_arch = "wasm32")]
fn report() {
    if REPORTED.with(|r| r.replace(true)) {
        return;
    }
    let marks = MARKS.with(|m| m.borrow().clone());
    yew::platform::spawn_local(async move {
        // Nothing to tell the user if it fails: the start's figures are for the log only.
        let _ = crate::services::report_startup(marks_json(&marks)).await;
    });
}

#[cfg(target_arch = "wasm32")]
fn marks_json(marks: &[Mark]) -> serde_json::Value {
    serde_json::to_value(marks).unwrap_or(serde_json::Value::Null)
}

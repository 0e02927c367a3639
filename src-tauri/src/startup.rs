//! Where a cold start's time goes (issue 12 item 8, issue 17 item 6): the shell marks its own
//! stages (main entered, set-up done, the webview's page load started and finished) and the UI
//! reports its own (its script running, the wasm started, the first `invoke` sent and answered,
//! that answer painted), all as wall-clock milliseconds, so that one line of the log says how a
//! start was spent:
//!
//! `startup: main +0 ms, setup done +45 ms, page load started +160 ms, … first reply painted +900 ms`
//!
//! `startup_timeline` answers the same marks to the window bench, which lines them up with the
//! moment it asked for the window and the frame in which the data was painted.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// One stage of the start and when it happened (milliseconds since the Unix epoch).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Mark {
    pub stage: String,
    pub at_ms: f64,
}

static MARKS: Mutex<Vec<Mark>> = Mutex::new(Vec::new());

/// Marks a stage of the start, once (a page reloaded later does not move it).
pub fn mark(stage: &str) {
    mark_at(stage, now_ms());
}

fn mark_at(stage: &str, at_ms: f64) {
    let Ok(mut marks) = MARKS.lock() else { return };
    if marks.iter().any(|m| m.stage == stage) {
        return;
    }
    marks.push(Mark { stage: stage.to_string(), at_ms });
}

pub fn now_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1e3).unwrap_or(0.0)
}

/// Every mark so far, in time order.
pub fn timeline() -> Vec<Mark> {
    let mut marks = MARKS.lock().map(|m| m.clone()).unwrap_or_default();
    marks.sort_by(|a, b| a.at_ms.total_cmp(&b.at_ms));
    marks
}

/// The UI's marks join the shell's, and the whole start goes to the log in one line. Stage names
/// from the UI are kept short and plain (they reach the log): anything else is dropped.
pub fn report_from_ui(marks: Vec<Mark>) {
    for m in marks.into_iter().take(16) {
        let plain = !m.stage.is_empty()
            && m.stage.len() <= 40
            && m.stage.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
        if plain && m.at_ms.is_finite() {
            mark_at(&format!("ui: {}", m.stage), m.at_ms);
        }
    }
    tracing::info!("startup: {}", describe(&timeline()));
}

/// `main +0 ms, setup done +45 ms, …`, from the first mark.
pub fn describe(marks: &[Mark]) -> String {
    let Some(first) = marks.first().map(|m| m.at_ms) else { return String::from("no marks") };
    marks.iter().map(|m| format!("{} +{:.0} ms", m.stage, m.at_ms - first)).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_from_the_first_mark_and_drops_odd_stage_names() {
        let marks =
            vec![Mark { stage: "main".into(), at_ms: 1000.0 }, Mark { stage: "setup done".into(), at_ms: 1045.4 }];
        assert_eq!(describe(&marks), "main +0 ms, setup done +45 ms");
        report_from_ui(vec![
            Mark { stage: "wasm started".into(), at_ms: now_ms() },
            Mark { stage: "<script>".into(), at_ms: now_ms() },
        ]);
        let stages: Vec<String> = timeline().into_iter().map(|m| m.stage).collect();
        assert!(stages.contains(&"ui: wasm started".to_string()));
        assert!(!stages.iter().any(|s| s.contains("script")));
    }
}

//! The app's one state (reducer + context): the route, the desk's status, how often each kind
//! of row has changed (screens reload when the kinds they show move), toasts and the search.

use std::collections::BTreeMap;
use std::rc::Rc;

use tourdesk_domain::ipc::{DataChanged, DeskStatus};
use tourdesk_domain::protocol::EntityKind;
use yew::prelude::*;

use crate::router::Route;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub id: u64,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppState {
    pub route: Route,
    pub status: Option<DeskStatus>,
    /// How many `DataChanged` events named each kind since the window opened.
    pub versions: BTreeMap<EntityKind, u64>,
    /// How many times server verdicts on this desk's work arrived.
    pub outcomes: u64,
    pub toasts: Vec<Toast>,
    next_toast: u64,
    pub search_open: bool,
}

pub enum Action {
    Navigate(Route),
    Status(DeskStatus),
    Changed(DataChanged),
    /// A confirmation ("Booking saved"), shown for a few seconds.
    Toast(String),
    DismissToast(u64),
    OpenSearch,
    CloseSearch,
}

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Navigate(r) => {
                s.route = r;
                s.search_open = false;
            }
            Action::Status(st) => s.status = Some(st),
            Action::Changed(c) => {
                for k in c.kinds {
                    *s.versions.entry(k).or_default() += 1;
                }
                if c.outcomes {
                    s.outcomes += 1;
                }
            }
            Action::Toast(text) => {
                s.next_toast += 1;
                s.toasts.push(Toast { id: s.next_toast, text });
                // A burst of actions shows the last few, not a wall.
                let excess = s.toasts.len().saturating_sub(3);
                s.toasts.drain(..excess);
            }
            Action::DismissToast(id) => s.toasts.retain(|t| t.id != id),
            Action::OpenSearch => s.search_open = true,
            Action::CloseSearch => s.search_open = false,
        }
        Rc::new(s)
    }
}

impl AppState {
    pub fn new(route: Route) -> AppState {
        AppState { route, ..AppState::default() }
    }

    /// A number that moves whenever rows of any of `kinds` (or, with `outcomes`, the server's
    /// verdicts) change: what a screen's loads depend on.
    pub fn version_of(&self, kinds: &[EntityKind], outcomes: bool) -> u64 {
        let rows: u64 = kinds.iter().map(|k| self.versions.get(k).copied().unwrap_or(0)).sum();
        if outcomes { rows + self.outcomes } else { rows }
    }
}

pub type AppContext = UseReducerHandle<AppState>;

/// The app state; screens rendered without the app (component tests) get a default one.
#[hook]
pub fn use_app() -> AppContext {
    let fallback = use_reducer(AppState::default);
    use_context::<AppContext>().unwrap_or(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reduce(s: AppState, a: Action) -> AppState {
        (*Rc::new(s).reduce(a)).clone()
    }

    #[test]
    fn a_change_moves_only_the_versions_of_the_kinds_it_names() {
        let s = AppState::default();
        let tours = s.version_of(&[EntityKind::Tour], false);
        let customers = s.version_of(&[EntityKind::Customer, EntityKind::Booking], false);
        let s = reduce(s, Action::Changed(DataChanged { kinds: vec![EntityKind::Customer], outcomes: false }));
        assert_eq!(s.version_of(&[EntityKind::Tour], false), tours, "tours do not reload for a customer edit");
        assert_ne!(s.version_of(&[EntityKind::Customer, EntityKind::Booking], false), customers);
        let inbox = s.version_of(&[], true);
        let s = reduce(s, Action::Changed(DataChanged { kinds: vec![], outcomes: true }));
        assert_ne!(s.version_of(&[], true), inbox, "verdicts reload the inbox");
    }

    #[test]
    fn toasts_keep_the_last_three_and_navigation_closes_the_search() {
        let mut s = AppState::default();
        for i in 0..5 {
            s = reduce(s, Action::Toast(format!("t{i}")));
        }
        assert_eq!(s.toasts.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(), ["t2", "t3", "t4"]);
        let id = s.toasts[0].id;
        s = reduce(s, Action::DismissToast(id));
        assert_eq!(s.toasts.len(), 2);
        s = reduce(s, Action::OpenSearch);
        s = reduce(s, Action::Navigate(Route::Inbox));
        assert!(!s.search_open && s.route == Route::Inbox);
    }
}

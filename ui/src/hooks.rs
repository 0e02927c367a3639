//! Hooks shared by every screen. `use_invoke` is the one loading/error pattern: a load runs when
//! its key changes or when rows of the kinds it shows change (the desk's `DataChanged` event),
//! a late answer to an older key is dropped, and the screen sees `Load::{Loading, Ready, Failed}`.

use std::future::Future;

use tourdesk_domain::protocol::EntityKind;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::error::UiError;
use crate::state::use_app;

#[derive(Debug, Clone, PartialEq)]
pub enum Load<T> {
    Loading,
    Ready(T),
    Failed(UiError),
}

impl<T> Load<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Load::Ready(t) => Some(t),
            _ => None,
        }
    }
}

/// What a load depends on besides its key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Depends {
    pub kinds: &'static [EntityKind],
    /// Server verdicts on this desk's own work (the inbox).
    pub outcomes: bool,
}

impl Depends {
    pub const fn on(kinds: &'static [EntityKind]) -> Depends {
        Depends { kinds, outcomes: false }
    }
}

#[hook]
pub fn use_invoke<K, T, F, Fut>(depends: Depends, key: K, fetch: F) -> Load<T>
where
    K: PartialEq + Clone + 'static,
    T: Clone + 'static,
    F: FnOnce(K) -> Fut + 'static,
    Fut: Future<Output = Result<T, UiError>> + 'static,
{
    use_invoke_refreshing(depends, key, 0, fetch)
}

/// [`use_invoke`] that also loads again when `refresh` changes (after the screen's own change,
/// or "Try again") while it keeps showing what it has: a list does not blink to "Loading…"
/// each time one of its rows is edited. A new `key` still shows loading, never another key's rows.
#[hook]
pub fn use_invoke_refreshing<K, T, F, Fut>(depends: Depends, key: K, refresh: u32, fetch: F) -> Load<T>
where
    K: PartialEq + Clone + 'static,
    T: Clone + 'static,
    F: FnOnce(K) -> Fut + 'static,
    Fut: Future<Output = Result<T, UiError>> + 'static,
{
    let app = use_app();
    let version = app.version_of(depends.kinds, depends.outcomes);
    // The key each result answers, so a screen never shows another key's rows while loading.
    let result = use_state(|| None::<(K, Load<T>)>);
    let latest = use_mut_ref(|| 0u64);
    {
        let (result, latest) = (result.clone(), latest.clone());
        use_effect_with((key.clone(), version, refresh), move |(key, _, _)| {
            let run = {
                let mut n = latest.borrow_mut();
                *n += 1;
                *n
            };
            let key = key.clone();
            spawn_local(async move {
                let answer = match fetch(key.clone()).await {
                    Ok(t) => Load::Ready(t),
                    Err(e) => Load::Failed(e),
                };
                if *latest.borrow() == run {
                    result.set(Some((key, answer)));
                }
            });
        });
    }
    match &*result {
        Some((k, load)) if *k == key => load.clone(),
        _ => Load::Loading,
    }
}

/// Runs `f` after `ms` of quiet: each call cancels the one before.
#[hook]
pub fn use_debounce(ms: u32) -> Callback<Box<dyn FnOnce()>> {
    let ticket = use_mut_ref(|| 0u64);
    Callback::from(move |f: Box<dyn FnOnce()>| {
        let mine = {
            let mut t = ticket.borrow_mut();
            *t += 1;
            *t
        };
        let ticket = ticket.clone();
        spawn_local(async move {
            yew::platform::time::sleep(std::time::Duration::from_millis(u64::from(ms))).await;
            if *ticket.borrow() == mine {
                f();
            }
        });
    })
}

/// Runs a form's save: `busy` while it runs; its answer goes to `done` (and clears `error`), its
/// refusal to `error`, where the form shows it at its field.
pub fn spawn_save<T: 'static>(
    busy: &UseStateHandle<bool>,
    error: &UseStateHandle<Option<UiError>>,
    done: &Callback<T>,
    save: impl Future<Output = Result<T, UiError>> + 'static,
) {
    let (busy, error, done) = (busy.clone(), error.clone(), done.clone());
    busy.set(true);
    spawn_local(async move {
        match save.await {
            Ok(v) => {
                error.set(None);
                done.emit(v);
            }
            Err(e) => error.set(Some(e)),
        }
        busy.set(false);
    });
}

/// A dialog's `onkeydown`: Escape closes it.
pub fn close_on_escape(on_close: &Callback<()>) -> Callback<KeyboardEvent> {
    let on_close = on_close.clone();
    Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Escape" {
            on_close.emit(());
        }
    })
}

//! The app: one state (reducer + context) that follows the desk's events and the URL's hash, and
//! the shell every page sits in (header, sidebar, toasts, the Ctrl+K search).

use tourdesk_domain::ipc::{DataChanged, DeskStatus, UpdateStatus, events};
use tourdesk_domain::protocol::EntityKind;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::search::SearchPalette;
use crate::components::sidebar::Sidebar;
use crate::components::sign_out::SignOutDialog;
use crate::components::status_bar::StatusBar;
use crate::components::toast::Toasts;
use crate::pages;
use crate::router::{self, Route};
use crate::services;
use crate::state::{Action, AppContext, AppState, use_app};

#[component]
pub fn App() -> Html {
    let state = use_reducer(|| AppState::new(router::current()));
    {
        let state = state.clone();
        use_effect_with((), move |_| {
            follow_window(state.clone());
            spawn_local(async move {
                // Subscribe first, then read: a change between the two is never missed.
                let on_status = {
                    let state = state.clone();
                    Callback::from(move |s: DeskStatus| state.dispatch(Action::Status(s)))
                };
                let on_changed = {
                    let state = state.clone();
                    Callback::from(move |c: DataChanged| state.dispatch(Action::Changed(c)))
                };
                // A newer version found at start or by the daily check: say so once per version.
                let on_update = {
                    let state = state.clone();
                    let told = std::rc::Rc::new(std::cell::RefCell::new(None::<String>));
                    Callback::from(move |u: UpdateStatus| {
                        let Some(a) = u.available else { return };
                        if told.borrow().as_deref() != Some(a.version.as_str()) {
                            state.dispatch(Action::Toast(format!(
                                "Tourdesk {} is available: Settings › This desk shows what is new",
                                a.version
                            )));
                            *told.borrow_mut() = Some(a.version);
                        }
                    })
                };
                let subscribed = (
                    services::listen(events::STATUS, on_status).await,
                    services::listen(events::DATA_CHANGED, on_changed).await,
                );
                if let Err(e) = services::listen(events::UPDATE, on_update).await {
                    state.dispatch(Action::Toast(e.message));
                }
                if let (Err(e), _) | (_, Err(e)) = subscribed {
                    state.dispatch(Action::Toast(e.message));
                }
                // What the pages loaded before the subscription may have missed a change: they
                // load once more, but only if the desk has changed any data since it started (a
                // cold start offline has not, and loading the first screen twice cost the start).
                let status = services::desk_status().await.ok();
                if missed_changes_possible(status.as_ref()) {
                    state.dispatch(Action::Changed(DataChanged { kinds: EntityKind::ALL.to_vec(), outcomes: true }));
                }
                if let Some(s) = status {
                    state.dispatch(Action::Status(s));
                }
            });
        });
    }
    html! {
        <ContextProvider<AppContext> context={state}>
            <Shell />
        </ContextProvider<AppContext>>
    }
}

/// Whether a page loaded before the window subscribed to the desk's changes can have missed one:
/// the desk's `data_version` counts its changes since it started (0: none, so nothing was
/// missed). Without an answer, assume one was.
pub fn missed_changes_possible(status: Option<&DeskStatus>) -> bool {
    status.is_none_or(|s| s.data_version > 0)
}

/// The URL's hash drives the route; Ctrl+K opens the search; the webview's own right-click menu
/// (Reload, Inspect…) is kept for text inputs, where copy and paste live.
fn follow_window(state: AppContext) {
    #[cfg(target_arch = "wasm32")]
    {
        use web_sys::wasm_bindgen::JsCast;
        use web_sys::wasm_bindgen::closure::Closure;
        let Some(window) = web_sys::window() else { return };
        let on_hash = {
            let state = state.clone();
            Closure::<dyn FnMut()>::new(move || state.dispatch(Action::Navigate(router::current())))
        };
        let on_key = Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(move |e: web_sys::KeyboardEvent| {
            if (e.ctrl_key() || e.meta_key()) && e.key().eq_ignore_ascii_case("k") {
                e.prevent_default();
                state.dispatch(Action::OpenSearch);
            }
        });
        let on_menu = Closure::<dyn FnMut(web_sys::MouseEvent)>::new(|e: web_sys::MouseEvent| {
            let editable = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA"));
            if !editable {
                e.prevent_default();
            }
        });
        let _ = window.add_event_listener_with_callback("hashchange", on_hash.as_ref().unchecked_ref());
        let _ = window.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
        let _ = window.add_event_listener_with_callback("contextmenu", on_menu.as_ref().unchecked_ref());
        // They listen for the window's whole life.
        on_hash.forget();
        on_key.forget();
        on_menu.forget();
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = state;
}

/// The frame around every page. Reads the app state from context (a default one in tests). A desk
/// nobody is signed in on shows the sign-in screen only; one whose session the server refused
/// goes there once, and may go back to working locally.
#[component]
pub fn Shell() -> Html {
    let app = use_app();
    let sign_out_open = use_state(|| false);
    let refused = app.status.as_ref().is_some_and(|s| s.needs_sign_in && s.signed_in_as.is_some());
    use_effect_with(refused, |refused| {
        if *refused {
            router::navigate(&Route::SignIn);
        }
    });
    let on_sync = {
        let app = app.clone();
        Callback::from(move |_| {
            let app = app.clone();
            spawn_local(async move {
                if services::sync_now().await.is_ok() {
                    app.dispatch(Action::Toast("Syncing now".into()));
                }
            })
        })
    };
    let on_search = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::OpenSearch))
    };
    let on_close_search = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::CloseSearch))
    };
    let on_pick = {
        let app = app.clone();
        Callback::from(move |r: Route| {
            app.dispatch(Action::CloseSearch);
            router::navigate(&r);
        })
    };
    let on_dismiss = {
        let app = app.clone();
        Callback::from(move |id: u64| app.dispatch(Action::DismissToast(id)))
    };
    let on_dismiss_toast = on_dismiss.clone();
    let signed_out = app.status.as_ref().is_some_and(|s| s.signed_in_as.is_none());
    if signed_out || app.route == Route::SignIn {
        return html! {
            <div class="app sign-in-app">
                <pages::sign_in::SignInPage />
                <Toasts toasts={app.toasts.clone()} on_dismiss={on_dismiss_toast} />
            </div>
        };
    }
    let on_sign_out = {
        let open = sign_out_open.clone();
        Callback::from(move |()| open.set(true))
    };
    let on_close_sign_out = {
        let open = sign_out_open.clone();
        Callback::from(move |()| open.set(false))
    };
    let inbox = app.status.as_ref().map_or(0, |s| s.rejections);
    html! {
        <div class="app">
            <StatusBar status={app.status.clone()} on_sync={on_sync} on_search={on_search} on_sign_out={on_sign_out} />
            <div class="body">
                <Sidebar route={app.route.clone()} inbox={inbox} />
                <main id="page">{ pages::page(&app.route) }</main>
            </div>
            <Toasts toasts={app.toasts.clone()} on_dismiss={on_dismiss} />
            if app.search_open {
                <SearchPalette on_pick={on_pick} on_close={on_close_search} />
            }
            if *sign_out_open {
                <SignOutDialog on_close={on_close_sign_out} />
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_shell_has_header_sidebar_and_the_start_page() {
        let html = yew::LocalServerRenderer::<Shell>::new().render().await;
        assert!(html.contains("Starting…"), "{html}");
        assert!(html.contains("id=\"nav-tours\"") && html.contains("id=\"nav-inbox\""), "{html}");
        assert!(html.contains("Loading today"), "the today dashboard is the start page: {html}");
        assert!(!html.contains("search-palette"), "the search opens on demand: {html}");
        assert!(!html.contains("sign-in-form"), "the desk's status is not known yet: {html}");
    }

    /// The shell under an app state that knows the desk's status.
    #[component]
    fn WithStatus(p: &WithStatusProps) -> Html {
        let state = use_reducer(|| {
            let mut s = AppState::new(p.route.clone());
            s.status = Some(p.status.clone());
            s
        });
        html! { <ContextProvider<AppContext> context={state}><Shell /></ContextProvider<AppContext>> }
    }

    #[derive(Properties, PartialEq)]
    struct WithStatusProps {
        status: DeskStatus,
        route: Route,
    }

    fn status(signed_in: bool) -> DeskStatus {
        crate::fixtures::desk_status(signed_in.then_some(tourdesk_domain::roles::Role::Owner))
    }

    #[tokio::test]
    async fn a_desk_nobody_is_signed_in_on_shows_only_the_sign_in_screen() {
        let render = |status, route| {
            yew::LocalServerRenderer::<WithStatus>::with_props(WithStatusProps { status, route }).render()
        };
        let html = render(status(false), Route::Tours(None)).await;
        assert!(html.contains("id=\"sign-in-form\""), "{html}");
        assert!(!html.contains("id=\"nav-tours\"") && !html.contains("Loading tours"), "{html}");
        let html = render(status(true), Route::Tours(None)).await;
        assert!(!html.contains("sign-in-form") && html.contains("id=\"sign-out\""), "{html}");
        let html = render(status(true), Route::SignIn).await;
        assert!(html.contains("id=\"sign-in-form\""), "signing in as someone else: {html}");
    }

    #[test]
    fn a_start_reloads_the_first_screen_only_when_the_desk_changed_data_before_the_window_listened() {
        let mut s = status(true);
        s.data_version = 0;
        assert!(!missed_changes_possible(Some(&s)), "a cold start with no change loads its screen once");
        s.data_version = 3;
        assert!(missed_changes_possible(Some(&s)), "a pull or an edit since the desk started: load again");
        assert!(missed_changes_possible(None), "no status: assume a change was missed");
    }
}

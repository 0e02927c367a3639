//! The settings area (`#/settings/<tab>`): the organization's settings, the staff, my two-step
//! sign-in and the devices signed in. These live on the server, not in the desk's replica, so
//! every tab loads online; offline it says it needs a connection, and loads again once the desk
//! is back online.

use tourdesk_domain::accounts::{
    MfaEnrolment, MyAccount, OrganizationSettings, StaffChange, StaffMember, manages_all_devices,
};
use tourdesk_domain::ipc::Connection;
use tourdesk_domain::protocol::DeviceInfo;
use tourdesk_domain::roles::{Permission, Role};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::settings::{
    ConfirmBar, DeviceTable, DisableForm, EnrolForm, EnrolmentView, InviteForm, OrganizationForm, RecoveryCodesView,
    SettingsTabs, StaffAction, StaffTable, load_failed, may_manage_staff,
};
use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::error::UiError;
use crate::hooks::{Depends, Load, use_invoke_refreshing};
use crate::router::SettingsTab;
use crate::services;
use crate::state::{Action, AppContext, use_app};

/// Nothing in the replica: these loads depend on no row kind, only on their own key.
pub(crate) const ONLINE: Depends = Depends::on(&[]);

#[derive(Properties, PartialEq)]
pub struct SettingsPageProps {
    pub tab: SettingsTab,
}

fn role_of(app: &AppContext) -> Option<Role> {
    app.status.as_ref().and_then(|s| s.signed_in_as.as_ref()).map(|s| s.role)
}

fn offline(app: &AppContext) -> bool {
    app.status.as_ref().is_some_and(|s| s.connection == Connection::Offline)
}

/// How many times the desk has come back online since the tab opened: part of each load's
/// refresh, so a tab that failed offline loads again when the desk is back. It is not part of
/// the key: a short loss of connection must not drop a form someone is typing into.
#[hook]
pub(crate) fn use_reconnects() -> u32 {
    let app = use_app();
    let now_offline = offline(&app);
    let seen = use_mut_ref(|| (now_offline, 0u32));
    let mut seen = seen.borrow_mut();
    if seen.0 && !now_offline {
        seen.1 += 1;
    }
    seen.0 = now_offline;
    seen.1
}

/// A reload counter, bumped after each change and by "Try again".
#[hook]
pub(crate) fn use_generation() -> (u32, Callback<()>) {
    let generation = use_state(|| 0u32);
    let bump = {
        let generation = generation.clone();
        Callback::from(move |()| generation.set(generation.wrapping_add(1)))
    };
    (*generation, bump)
}

#[component]
pub fn SettingsPage(props: &SettingsPageProps) -> Html {
    let app = use_app();
    let role = role_of(&app);
    let body = match props.tab {
        SettingsTab::Organization => html! { <OrganizationTab /> },
        SettingsTab::Staff if role.is_some_and(|r| !may_manage_staff(r)) => html! {
            <EmptyState title="Only owners and admins manage staff" hint="Ask one of them to invite someone or change a role." />
        },
        SettingsTab::Staff => html! { <StaffTab /> },
        SettingsTab::Security => html! { <SecurityTab /> },
        SettingsTab::Devices => html! { <DevicesTab /> },
        SettingsTab::TaxesPolicies => html! { <super::taxes_policies::TaxesPoliciesTab /> },
        SettingsTab::Messages if role.is_some_and(|r| !r.can(Permission::SettingsManage)) => html! {
            <EmptyState title="Only owners and admins edit the messages" hint="Ask one of them to change what customers are sent." />
        },
        SettingsTab::Messages => html! { <super::messages::MessagesTab /> },
        SettingsTab::ThisDesk => html! { <super::this_desk::ThisDeskTab /> },
    };
    html! {
        <div class="page settings-page">
            <h1>{ "Settings" }</h1>
            <SettingsTabs current={props.tab} role={role} />
            <section class="settings-body">{ body }</section>
        </div>
    }
}

#[component]
fn OrganizationTab() -> Html {
    let app = use_app();
    let (generation, reload) = use_generation();
    let reconnects = use_reconnects();
    let settings = use_invoke_refreshing(ONLINE, (), generation + reconnects, |_| services::get_organization());
    let on_saved = {
        let (app, reload) = (app.clone(), reload.clone());
        Callback::from(move |_: OrganizationSettings| {
            app.dispatch(Action::Toast("Organization settings saved".into()));
            reload.emit(());
        })
    };
    match settings {
        Load::Loading => html! { <Loading what="the organization's settings" /> },
        Load::Failed(e) => load_failed("The organization's settings", &e, reload),
        // Keyed by the load, so a saved form starts again from what the server kept.
        Load::Ready(s) => {
            html! { <OrganizationForm key={generation.to_string()} settings={s} role={role_of(&app)} on_saved={on_saved} /> }
        }
    }
}

#[component]
fn StaffTab() -> Html {
    let app = use_app();
    let (generation, reload) = use_generation();
    let reconnects = use_reconnects();
    let directory = use_invoke_refreshing(ONLINE, (), generation + reconnects, |_| services::list_staff());
    let inviting = use_state(|| false);
    let confirming = use_state(|| None::<StaffAction>);
    let action_error = use_state(|| None::<UiError>);
    let run = {
        let (app, reload, confirming, action_error) =
            (app.clone(), reload.clone(), confirming.clone(), action_error.clone());
        Callback::from(move |a: StaffAction| {
            confirming.set(None);
            let (app, reload, action_error) = (app.clone(), reload.clone(), action_error.clone());
            spawn_local(async move {
                let id = a.member().id.clone();
                let r = match &a {
                    StaffAction::ChangeRole(_, role) => {
                        services::update_staff(&id, &StaffChange { role: Some(*role), suspended: None }).await
                    }
                    StaffAction::Suspend(_) => {
                        services::update_staff(&id, &StaffChange { role: None, suspended: Some(true) }).await
                    }
                    StaffAction::Reinstate(_) => {
                        services::update_staff(&id, &StaffChange { role: None, suspended: Some(false) }).await
                    }
                    StaffAction::Reinvite(_) => services::reinvite_staff(&id).await,
                };
                match r {
                    Ok(after) => {
                        action_error.set(None);
                        app.dispatch(Action::Toast(a.done(&after)));
                    }
                    Err(e) => action_error.set(Some(e)),
                }
                // Reloaded either way: a refused role change puts the select back.
                reload.emit(());
            });
        })
    };
    let on_action = {
        let (confirming, run) = (confirming.clone(), run.clone());
        Callback::from(move |a: StaffAction| if a.question().is_some() { confirming.set(Some(a)) } else { run.emit(a) })
    };
    let on_invited = {
        let (app, reload, inviting) = (app.clone(), reload.clone(), inviting.clone());
        Callback::from(move |m: StaffMember| {
            inviting.set(false);
            app.dispatch(Action::Toast(format!("Invitation sent to {}", m.email)));
            reload.emit(());
        })
    };
    let actor = role_of(&app).unwrap_or(Role::Guide);
    let confirm = match &*confirming {
        Some(a) => {
            let label = if matches!(a, StaffAction::Suspend(_)) { "Suspend" } else { "Reinstate" };
            let (run, a2, confirming) = (run.clone(), a.clone(), confirming.clone());
            html! {
                <ConfirmBar question={a.question().unwrap_or_default()} confirm={label}
                    on_confirm={Callback::from(move |()| run.emit(a2.clone()))}
                    on_cancel={Callback::from(move |()| confirming.set(None))} />
            }
        }
        None => html! {},
    };
    let banner = match &*action_error {
        Some(e) => html! { <ErrorNote error={e.clone()} /> },
        None => html! {},
    };
    let body = match directory {
        Load::Loading => html! { <Loading what="the staff" /> },
        Load::Failed(e) => load_failed("Staff accounts", &e, reload),
        Load::Ready(d) => html! { <StaffTable directory={d} actor={actor} on_action={on_action} /> },
    };
    let open_invite = {
        let inviting = inviting.clone();
        Callback::from(move |_: MouseEvent| inviting.set(true))
    };
    let close_invite = {
        let inviting = inviting.clone();
        Callback::from(move |()| inviting.set(false))
    };
    html! {
        <>
            <div class="pane-head">
                <h2>{ "Staff" }</h2>
                <button id="invite-open" onclick={open_invite}>{ "Invite someone" }</button>
            </div>
            if *inviting { <InviteForm actor={actor} on_invited={on_invited} on_cancel={close_invite} /> }
            { confirm }
            { banner }
            { body }
        </>
    }
}

/// Where the two-step set-up stands on this screen.
#[derive(Clone, PartialEq)]
enum MfaStep {
    Start,
    Enrolled(MfaEnrolment),
    Codes(Vec<String>),
}

#[component]
fn SecurityTab() -> Html {
    let app = use_app();
    let (generation, reload) = use_generation();
    let reconnects = use_reconnects();
    let me = use_invoke_refreshing(ONLINE, (), generation + reconnects, |_| services::my_account());
    let step = use_state(|| MfaStep::Start);
    let to = |next: fn(MfaEnrolment) -> MfaStep| {
        let step = step.clone();
        Callback::from(move |e: MfaEnrolment| step.set(next(e)))
    };
    let on_confirmed = {
        let step = step.clone();
        Callback::from(move |c: tourdesk_domain::accounts::RecoveryCodes| step.set(MfaStep::Codes(c.codes)))
    };
    let back = {
        let (step, reload) = (step.clone(), reload.clone());
        Callback::from(move |()| {
            step.set(MfaStep::Start);
            reload.emit(());
        })
    };
    let on_disabled = {
        let (app, reload) = (app.clone(), reload.clone());
        Callback::from(move |()| {
            app.dispatch(Action::Toast("Two-step sign-in is off".into()));
            reload.emit(());
        })
    };
    let body = match (&*step, me) {
        (MfaStep::Codes(codes), _) => html! { <RecoveryCodesView codes={codes.clone()} on_done={back} /> },
        (MfaStep::Enrolled(e), _) => {
            html! { <EnrolmentView enrolment={e.clone()} on_confirmed={on_confirmed} on_cancel={back} /> }
        }
        (MfaStep::Start, Load::Loading) => html! { <Loading what="your account" /> },
        (MfaStep::Start, Load::Failed(e)) => load_failed("Your sign-in settings", &e, reload),
        (MfaStep::Start, Load::Ready(me)) => security_start(&me, to(MfaStep::Enrolled), on_disabled),
    };
    html! {
        <>
            <h2>{ "Two-step sign-in" }</h2>
            <p class="muted">{ "With it on, signing in asks for your password and a code from an authenticator app on your phone." }</p>
            { body }
        </>
    }
}

fn security_start(me: &MyAccount, on_enrolled: Callback<MfaEnrolment>, on_disabled: Callback<()>) -> Html {
    match me.mfa_enabled {
        Some(true) => html! {
            <>
                <p id="mfa-state" class="state-title">{ format!("On for {}.", me.name) }</p>
                <DisableForm on_disabled={on_disabled} />
            </>
        },
        Some(false) => html! {
            <>
                <p id="mfa-state" class="state-title">{ format!("Off for {}.", me.name) }</p>
                <EnrolForm on_enrolled={on_enrolled} />
            </>
        },
        // Only staff managers read the staff list the flag comes from: offer both.
        None => html! {
            <>
                <p id="mfa-state" class="muted">{ "Turn it on here, or off if it is already on." }</p>
                <EnrolForm on_enrolled={on_enrolled} />
                <DisableForm on_disabled={on_disabled} />
            </>
        },
    }
}

#[component]
fn DevicesTab() -> Html {
    let app = use_app();
    let (generation, reload) = use_generation();
    let reconnects = use_reconnects();
    let devices = use_invoke_refreshing(ONLINE, (), generation + reconnects, |_| services::list_devices());
    let confirming = use_state(|| None::<DeviceInfo>);
    let action_error = use_state(|| None::<UiError>);
    let everyone = role_of(&app).is_some_and(manages_all_devices);
    let on_revoke = {
        let confirming = confirming.clone();
        Callback::from(move |d: DeviceInfo| confirming.set(Some(d)))
    };
    let confirm = match &*confirming {
        Some(d) => {
            let (id, name) = (d.id.clone(), d.name.clone());
            let (app, reload, confirming2, action_error) =
                (app.clone(), reload.clone(), confirming.clone(), action_error.clone());
            let on_confirm = Callback::from(move |()| {
                confirming2.set(None);
                let (id, name, app, reload, action_error) =
                    (id.clone(), name.clone(), app.clone(), reload.clone(), action_error.clone());
                spawn_local(async move {
                    match services::revoke_device(&id).await {
                        Ok(_) => {
                            action_error.set(None);
                            app.dispatch(Action::Toast(format!("“{name}” is signed out")));
                        }
                        Err(e) => action_error.set(Some(e)),
                    }
                    reload.emit(());
                });
            });
            let confirming = confirming.clone();
            html! {
                <ConfirmBar question={format!("Sign out “{}” ({})? It must sign in again with a password before it syncs.", d.name, d.user_name)}
                    confirm="Sign out" on_confirm={on_confirm} on_cancel={Callback::from(move |()| confirming.set(None))} />
            }
        }
        None => html! {},
    };
    let banner = match &*action_error {
        Some(e) => html! { <ErrorNote error={e.clone()} /> },
        None => html! {},
    };
    let body = match devices {
        Load::Loading => html! { <Loading what="devices" /> },
        Load::Failed(e) => load_failed("Devices", &e, reload),
        Load::Ready(list) => html! { <DeviceTable devices={list.devices} everyone={everyone} on_revoke={on_revoke} /> },
    };
    html! {
        <>
            <h2>{ "Devices" }</h2>
            <p class="muted">{ if everyone { "Every desk and guide app signed in to the organization." } else { "The desks and guide apps signed in to your account." } }</p>
            { confirm }
            { banner }
            { body }
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::test_support::render_page;
    use crate::router::Route;

    #[tokio::test]
    async fn each_tab_starts_loading_under_the_settings_tabs() {
        for (tab, loading) in [
            (SettingsTab::Organization, "Loading the organization"),
            (SettingsTab::Staff, "Loading the staff…"),
            (SettingsTab::Security, "Loading your account…"),
            (SettingsTab::Devices, "Loading devices…"),
        ] {
            let html = render_page(Route::Settings(tab)).await;
            assert!(html.contains(loading), "{tab:?}: {html}");
            assert!(html.contains("href=\"#/settings/security\""), "{tab:?}: {html}");
        }
        let html = render_page(Route::Settings(SettingsTab::Staff)).await;
        assert!(html.contains("id=\"invite-open\""), "{html}");
    }
}

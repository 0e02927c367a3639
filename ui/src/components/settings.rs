//! The settings area's pieces: the organization form, the staff table and invite form, the
//! two-step sign-in steps and the device list. What a role may do is decided by the domain's own
//! checks (`check_settings_change`, `check_invite`, `check_staff_change`, `manages_all_devices`):
//! the window only hides what they refuse, and still shows the server's words if it refuses.

use tourdesk_domain::accounts::{
    InviteRequest, MfaEnrolment, OrganizationChange, OrganizationSettings, RecoveryCodes, StaffChange, StaffDirectory,
    StaffMember, StaffStatus, check_invite, check_settings_change, check_staff_change,
};
use tourdesk_domain::protocol::{DeviceInfo, DeviceKind};
use tourdesk_domain::roles::Role;
use tourdesk_domain::validate::FieldError;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::components::keyboard::KeyTable;
use crate::components::states::{EmptyState, ErrorNote};
use crate::error::UiError;
use crate::hooks::spawn_save;
use crate::router::{Route, SettingsTab};
use crate::services;
use crate::words;

/// The four tabs; Staff only for roles that manage staff (or while the role is not known yet).
#[derive(Properties, PartialEq)]
pub struct SettingsTabsProps {
    pub current: SettingsTab,
    pub role: Option<Role>,
}

#[component]
pub fn SettingsTabs(props: &SettingsTabsProps) -> Html {
    html! {
        <nav class="tabs" aria-label="Settings">
            { for SettingsTab::ALL.iter().filter(|t| **t != SettingsTab::Staff || props.role.is_none_or(may_manage_staff)).map(|t| {
                let active = *t == props.current;
                html! {
                    <a id={format!("settings-{}", t.slug())} href={Route::Settings(*t).to_hash()}
                       class={classes!("tab", active.then_some("active"))} aria-current={active.then_some("page")}>
                        { t.label() }
                    </a>
                }
            }) }
        </nav>
    }
}

/// Whether a role manages staff: the domain's check for inviting the least role there is.
pub fn may_manage_staff(role: Role) -> bool {
    check_invite(role, Role::Guide).is_ok()
}

#[derive(Properties, PartialEq)]
pub struct NeedsConnectionProps {
    /// What needs the server, in a few words ("The organization's settings").
    pub what: AttrValue,
    pub on_retry: Callback<()>,
}

/// The designed offline state: these screens read and change the server's accounts, which the
/// desk does not keep a copy of.
#[component]
pub fn NeedsConnection(props: &NeedsConnectionProps) -> Html {
    html! {
        <EmptyState title={format!("{} need a connection to the server", props.what)}
            hint="The desk keeps working offline, but accounts and settings live on the server. This screen loads again when the connection is back.">
            <button class="retry" onclick={props.on_retry.reform(|_: MouseEvent| ())}>{ "Try again" }</button>
        </EmptyState>
    }
}

/// A failed load: "needs a connection" when the server cannot be reached, else its words.
pub fn load_failed(what: &str, e: &UiError, on_retry: Callback<()>) -> Html {
    if e.code == "OFFLINE" {
        html! { <NeedsConnection what={what.to_string()} on_retry={on_retry} /> }
    } else {
        html! { <ErrorNote error={e.clone()} on_retry={Some(on_retry)} /> }
    }
}

fn input_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

fn bind(s: &UseStateHandle<String>) -> Callback<InputEvent> {
    let s = s.clone();
    Callback::from(move |e: InputEvent| s.set(input_value(&e)))
}

fn field_error(error: &Option<UiError>, field: &str) -> Html {
    match error {
        Some(e) if e.is_field(field) => {
            html! { <span class="field-error" data-field={field.to_string()}>{ e.message.clone() }</span> }
        }
        _ => html! {},
    }
}

/// An error no field on the form shows.
pub(crate) fn form_error(error: &Option<UiError>, fields: &[&str]) -> Html {
    match error {
        Some(e) if !e.field.as_deref().is_some_and(|f| fields.contains(&f)) => {
            html! { <p class="error-text form-error" role="alert">{ e.message.clone() }</p> }
        }
        _ => html! {},
    }
}

pub(crate) fn at_field(f: FieldError) -> UiError {
    UiError::at_field(&f.field, words::sentence(&f.message))
}

/// The organization form as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationDraft {
    pub name: String,
    pub business_email: String,
    pub currency: String,
    pub timezone: String,
    pub locale: String,
    pub country_code: String,
}

impl OrganizationDraft {
    pub fn of(s: &OrganizationSettings) -> OrganizationDraft {
        OrganizationDraft {
            name: s.name.clone(),
            business_email: s.business_email.clone(),
            currency: s.currency.clone(),
            timezone: s.timezone.clone(),
            locale: s.locale.clone(),
            country_code: s.country_code.clone().unwrap_or_default(),
        }
    }

    /// Only what differs from `current`, checked by the domain as the server will check it:
    /// the change to send (`None` when nothing changed), or the first bad field.
    pub fn change(&self, current: &OrganizationSettings) -> Result<Option<OrganizationChange>, FieldError> {
        let diff = |typed: &str, now: &str| (typed.trim() != now).then(|| typed.to_string());
        let change = OrganizationChange {
            name: diff(&self.name, &current.name),
            business_email: diff(&self.business_email, &current.business_email),
            currency: diff(&self.currency, &current.currency),
            timezone: diff(&self.timezone, &current.timezone),
            locale: diff(&self.locale, &current.locale),
            country_code: diff(&self.country_code, current.country_code.as_deref().unwrap_or_default()),
        };
        if change == OrganizationChange::default() || change.applied_to(current)? == *current {
            return Ok(None);
        }
        Ok(Some(change))
    }
}

const ORG_FIELDS: [&str; 6] = ["name", "business_email", "currency", "timezone", "locale", "country_code"];

#[derive(Properties, PartialEq)]
pub struct OrganizationFormProps {
    pub settings: OrganizationSettings,
    /// The signed-in role; `None` while the desk has not said.
    pub role: Option<Role>,
    pub on_saved: Callback<OrganizationSettings>,
}

/// Name, business e-mail, default currency, time zone, language and country. Read-only for
/// roles that may not change them.
#[component]
pub fn OrganizationForm(props: &OrganizationFormProps) -> Html {
    let start = OrganizationDraft::of(&props.settings);
    let name = use_state(|| start.name.clone());
    let email = use_state(|| start.business_email.clone());
    let currency = use_state(|| start.currency.clone());
    let timezone = use_state(|| start.timezone.clone());
    let locale = use_state(|| start.locale.clone());
    let country = use_state(|| start.country_code.clone());
    let error = use_state(|| None::<UiError>);
    let notice = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let refusal = props.role.and_then(|r| check_settings_change(r).err());
    let read_only = refusal.is_some();

    let on_submit = {
        let draft = OrganizationDraft {
            name: (*name).clone(),
            business_email: (*email).clone(),
            currency: (*currency).clone(),
            timezone: (*timezone).clone(),
            locale: (*locale).clone(),
            country_code: (*country).clone(),
        };
        let (current, error, notice, busy, on_saved) =
            (props.settings.clone(), error.clone(), notice.clone(), busy.clone(), props.on_saved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            notice.set(None);
            let change = match draft.change(&current) {
                Ok(Some(c)) => c,
                Ok(None) => {
                    error.set(None);
                    notice.set(Some("Nothing has changed.".into()));
                    return;
                }
                Err(f) => {
                    error.set(Some(at_field(f)));
                    return;
                }
            };
            spawn_save(&busy, &error, &on_saved, async move { services::update_organization(&change).await });
        })
    };
    let e = &*error;
    html! {
        <form id="organization-form" class="form" onsubmit={on_submit}>
            <h2>{ "Organization" }</h2>
            <p class="muted">{ format!("Address: {} · The currency, language and country are defaults for what is made from now on; existing tours and customers keep their own.", props.settings.slug) }</p>
            if let Some(r) = &refusal {
                <p id="organization-read-only" class="muted">{ format!("{}.", words::sentence(&r.to_string())) }</p>
            }
            <label>{ "Name" }
                <input id="org-name" value={(*name).clone()} oninput={bind(&name)} disabled={read_only} />
                { field_error(e, "name") }
            </label>
            <label>{ "Business e-mail" }
                <input id="org-business-email" type="email" value={(*email).clone()} oninput={bind(&email)} disabled={read_only} />
                { field_error(e, "business_email") }
            </label>
            <label>{ "Default currency (ISO code, e.g. EUR)" }
                <input id="org-currency" maxlength="3" value={(*currency).clone()} oninput={bind(&currency)} disabled={read_only} />
                { field_error(e, "currency") }
            </label>
            <label>{ "Time zone (e.g. Europe/Lisbon)" }
                <input id="org-timezone" value={(*timezone).clone()} oninput={bind(&timezone)} disabled={read_only} />
                { field_error(e, "timezone") }
            </label>
            <label>{ "Language for customers (e.g. en, pt-PT)" }
                <input id="org-locale" value={(*locale).clone()} oninput={bind(&locale)} disabled={read_only} />
                { field_error(e, "locale") }
            </label>
            <label>{ "Country (two letters, e.g. PT; blank for none)" }
                <input id="org-country" maxlength="2" value={(*country).clone()} oninput={bind(&country)} disabled={read_only} />
                { field_error(e, "country_code") }
            </label>
            { form_error(e, &ORG_FIELDS) }
            if let Some(n) = &*notice { <p class="muted" role="status">{ n.clone() }</p> }
            if !read_only {
                <div class="actions">
                    <button id="organization-save" type="submit" disabled={*busy}>{ if *busy { "Saving…" } else { "Save" } }</button>
                </div>
            }
        </form>
    }
}

/// What the staff table asks for; suspending and reinstating are confirmed first.
#[derive(Debug, Clone, PartialEq)]
pub enum StaffAction {
    ChangeRole(StaffMember, Role),
    Suspend(StaffMember),
    Reinstate(StaffMember),
    Reinvite(StaffMember),
}

impl StaffAction {
    /// The question a confirmation asks, for the actions that need one.
    pub fn question(&self) -> Option<String> {
        match self {
            StaffAction::Suspend(m) => Some(format!(
                "Suspend {}? They are signed out of every device at once and cannot sign in until reinstated.",
                m.name
            )),
            StaffAction::Reinstate(m) => {
                Some(format!("Reinstate {}? They can sign in again with their password.", m.name))
            }
            _ => None,
        }
    }

    /// The confirmation toast once the server has done it.
    pub fn done(&self, after: &StaffMember) -> String {
        match self {
            StaffAction::ChangeRole(..) => {
                format!("{} is now {}", after.name, words::role(after.role).to_lowercase())
            }
            StaffAction::Suspend(_) => format!("{} is suspended and signed out everywhere", after.name),
            StaffAction::Reinstate(_) => format!("{} is reinstated", after.name),
            StaffAction::Reinvite(_) => format!("A new invitation is on its way to {}", after.email),
        }
    }

    pub fn member(&self) -> &StaffMember {
        match self {
            StaffAction::ChangeRole(m, _)
            | StaffAction::Suspend(m)
            | StaffAction::Reinstate(m)
            | StaffAction::Reinvite(m) => m,
        }
    }
}

pub(crate) const STAFF_ROLES: [Role; 4] = [Role::Owner, Role::Admin, Role::Manager, Role::Guide];

/// The roles `actor` may give `m` (its current one first, always shown).
pub fn roles_for(actor: Role, you: &str, m: &StaffMember) -> Vec<Role> {
    STAFF_ROLES
        .into_iter()
        .filter(|r| {
            *r == m.role
                || check_staff_change(actor, you, &m.id, m.role, &StaffChange { role: Some(*r), suspended: None })
                    .is_ok()
        })
        .collect()
}

#[derive(Properties, PartialEq)]
pub struct StaffTableProps {
    pub directory: StaffDirectory,
    pub actor: Role,
    pub on_action: Callback<StaffAction>,
}

/// Everyone on the staff. Arrow keys move along the rows; each row offers only what the
/// domain allows the signed-in role to do to that member.
#[component]
pub fn StaffTable(props: &StaffTableProps) -> Html {
    let you = props.directory.you.as_str();
    if props.directory.staff.is_empty() {
        return html! { <EmptyState title="Nobody on the staff yet" hint="Invite someone to start." /> };
    }
    html! {
        <KeyTable id="staff-table" head={html! { <tr><th>{ "Name" }</th><th>{ "E-mail" }</th><th>{ "Role" }</th><th>{ "Status" }</th><th>{ "Two-step sign-in" }</th><th></th></tr> }}>
            { for props.directory.staff.iter().map(|m| {
                let suspend = StaffChange { role: None, suspended: Some(m.status != StaffStatus::Suspended) };
                let may_suspend = check_staff_change(props.actor, you, &m.id, m.role, &suspend).is_ok();
                let may_reinvite = m.status == StaffStatus::Invited && check_invite(props.actor, m.role).is_ok();
                let roles = roles_for(props.actor, you, m);
                let on_role = {
                    let (m, on_action) = (m.clone(), props.on_action.clone());
                    Callback::from(move |e: Event| {
                        let v = e.target_unchecked_into::<HtmlSelectElement>().value();
                        if let Some(r) = Role::parse(&v).filter(|r| *r != m.role) {
                            on_action.emit(StaffAction::ChangeRole(m.clone(), r));
                        }
                    })
                };
                let act = |a: StaffAction| props.on_action.reform(move |_: MouseEvent| a.clone());
                html! {
                    <tr class="staff-row" data-id={m.id.clone()} data-row="" tabindex="0">
                        <td class="staff-name">{ &m.name }if m.id == you { <span class="badge">{ "You" }</span> }</td>
                        <td>{ &m.email }</td>
                        <td>
                            if roles.len() > 1 {
                                <select class="staff-role" aria-label={format!("Role of {}", m.name)} onchange={on_role}>
                                { for roles.iter().map(|r| html! { <option value={r.as_str()} selected={*r == m.role}>{ words::role(*r) }</option> }) }
                                </select>
                            } else {
                                { words::role(m.role) }
                            }
                        </td>
                        <td class="staff-status">{ words::staff_status(m.status) }</td>
                        <td>{ if m.mfa_enabled { "On" } else { "Off" } }</td>
                        <td class="row-actions">
                            if may_reinvite {
                                <button class="reinvite" onclick={act(StaffAction::Reinvite(m.clone()))}>{ "Re-send invitation" }</button>
                            }
                            if may_suspend {
                                if m.status == StaffStatus::Suspended {
                                    <button class="reinstate" onclick={act(StaffAction::Reinstate(m.clone()))}>{ "Reinstate" }</button>
                                } else {
                                    <button class="suspend" onclick={act(StaffAction::Suspend(m.clone()))}>{ "Suspend" }</button>
                                }
                            }
                        </td>
                    </tr>
                }
            }) }
        </KeyTable>
    }
}

#[derive(Properties, PartialEq)]
pub struct ConfirmBarProps {
    pub question: AttrValue,
    pub confirm: AttrValue,
    pub on_confirm: Callback<()>,
    pub on_cancel: Callback<()>,
}

/// An inline confirmation for an action that is hard to undo.
#[component]
pub fn ConfirmBar(props: &ConfirmBarProps) -> Html {
    html! {
        <div class="confirm-bar" role="alertdialog" aria-label="Confirm">
            <p>{ props.question.clone() }</p>
            <div class="actions">
                <button class="confirm" onclick={props.on_confirm.reform(|_: MouseEvent| ())}>{ props.confirm.clone() }</button>
                <button class="cancel" onclick={props.on_cancel.reform(|_: MouseEvent| ())}>{ "Cancel" }</button>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct InviteFormProps {
    pub actor: Role,
    pub on_invited: Callback<StaffMember>,
    pub on_cancel: Callback<()>,
}

/// Invites someone by e-mail: the server mails them a single-use link to choose a password.
#[component]
pub fn InviteForm(props: &InviteFormProps) -> Html {
    let roles: Vec<Role> = STAFF_ROLES.into_iter().filter(|r| check_invite(props.actor, *r).is_ok()).collect();
    let name = use_state(String::new);
    let email = use_state(String::new);
    let role = use_state(|| Role::Guide);
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let on_role = {
        let role = role.clone();
        Callback::from(move |e: Event| {
            if let Some(r) = Role::parse(&e.target_unchecked_into::<HtmlSelectElement>().value()) {
                role.set(r);
            }
        })
    };
    let on_submit = {
        let req = InviteRequest { email: (*email).clone(), name: (*name).clone(), role: *role };
        let (error, busy, on_invited) = (error.clone(), busy.clone(), props.on_invited.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Err(f) = req.validated() {
                error.set(Some(at_field(f)));
                return;
            }
            let req = req.clone();
            spawn_save(&busy, &error, &on_invited, async move { services::invite_staff(&req).await });
        })
    };
    let e = &*error;
    html! {
        <form id="invite-form" class="form" role="dialog" aria-label="Invite someone" onsubmit={on_submit}>
            <h3>{ "Invite someone" }</h3>
            <p class="muted">{ "They receive an e-mail with a link to choose their password; it works once, for three days." }</p>
            <label>{ "Name" }<input id="invite-name" value={(*name).clone()} oninput={bind(&name)} />{ field_error(e, "name") }</label>
            <label>{ "E-mail" }<input id="invite-email" type="email" value={(*email).clone()} oninput={bind(&email)} />{ field_error(e, "email") }</label>
            <label>{ "Role" }
                <select id="invite-role" onchange={on_role}>
                { for roles.iter().map(|r| html! { <option value={r.as_str()} selected={*r == *role}>{ words::role(*r) }</option> }) }
                </select>
                { field_error(e, "role") }
            </label>
            { form_error(e, &["name", "email", "role"]) }
            <div class="actions">
                <button id="invite-submit" type="submit" disabled={*busy}>{ if *busy { "Sending…" } else { "Send invitation" } }</button>
                <button type="button" onclick={props.on_cancel.reform(|_: MouseEvent| ())}>{ "Cancel" }</button>
            </div>
        </form>
    }
}

#[derive(Properties, PartialEq)]
pub struct EnrolFormProps {
    pub on_enrolled: Callback<MfaEnrolment>,
}

/// Starts setting up two-step sign-in: the password again, so a borrowed desk cannot do it.
#[component]
pub fn EnrolForm(props: &EnrolFormProps) -> Html {
    let password = use_state(String::new);
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let on_submit = {
        let (password, error, busy, on_enrolled) =
            (password.clone(), error.clone(), busy.clone(), props.on_enrolled.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let typed = (*password).clone();
            spawn_save(&busy, &error, &on_enrolled, async move { services::mfa_enrol(&typed).await });
        })
    };
    let e = &*error;
    html! {
        <form id="mfa-enrol-form" class="form" onsubmit={on_submit}>
            <h3>{ "Turn on two-step sign-in" }</h3>
            <p class="muted">{ "Signing in will then also ask for a code from an authenticator app on your phone." }</p>
            <label>{ "Your password" }<input id="mfa-enrol-password" type="password" autocomplete="current-password" value={(*password).clone()} oninput={bind(&password)} />{ field_error(e, "password") }</label>
            { form_error(e, &["password"]) }
            <div class="actions"><button id="mfa-enrol-submit" type="submit" disabled={*busy}>{ "Set up" }</button></div>
        </form>
    }
}

/// A base32 secret in groups of four, easier to type.
pub fn grouped(secret: &str) -> String {
    secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

/// The QR code of `text` as one SVG path of dark modules (and its size in modules), or `None`
/// when it does not fit a QR code. Drawn with a four-module quiet zone.
pub fn qr_path(text: &str) -> Option<(i32, String)> {
    use std::fmt::Write;
    let qr = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium).ok()?;
    let mut d = String::new();
    for y in 0..qr.size() {
        for x in 0..qr.size() {
            if qr.get_module(x, y) {
                let _ = write!(d, "M{},{}h1v1h-1z", x + 4, y + 4);
            }
        }
    }
    Some((qr.size() + 8, d))
}

#[derive(Properties, PartialEq)]
pub struct QrCodeProps {
    pub text: AttrValue,
}

/// A QR code to scan with the phone's authenticator app.
#[component]
pub fn QrCode(props: &QrCodeProps) -> Html {
    let Some((size, d)) = qr_path(&props.text) else { return html! {} };
    html! {
        <svg id="mfa-qr" class="qr" role="img" aria-label="QR code of the set-up link" viewBox={format!("0 0 {size} {size}")} width="200" height="200">
            <rect width={size.to_string()} height={size.to_string()} fill="#fff" />
            <path d={d} fill="#000" />
        </svg>
    }
}

#[derive(Properties, PartialEq)]
pub struct EnrolmentViewProps {
    pub enrolment: MfaEnrolment,
    pub on_confirmed: Callback<RecoveryCodes>,
    pub on_cancel: Callback<()>,
}

/// The new secret to add to an authenticator app, then the code that proves it works.
#[component]
pub fn EnrolmentView(props: &EnrolmentViewProps) -> Html {
    let code = use_state(String::new);
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let on_submit = {
        let (code, error, busy, on_confirmed) = (code.clone(), error.clone(), busy.clone(), props.on_confirmed.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let typed = (*code).clone();
            spawn_save(&busy, &error, &on_confirmed, async move { services::mfa_confirm(&typed).await });
        })
    };
    let e = &*error;
    html! {
        <form id="mfa-confirm-form" class="form wide" onsubmit={on_submit}>
            <h3>{ "Add Tourdesk to your authenticator app" }</h3>
            <ol>
                <li>
                    { "Scan this code with your authenticator app:" }
                    <p><QrCode text={props.enrolment.otpauth_uri.clone()} /></p>
                    { "Or add an account in the app with this setup key (time-based, 6 digits):" }
                    <p><code id="mfa-secret" class="secret">{ grouped(&props.enrolment.secret) }</code></p>
                    { "Or open this link on the phone that has the app:" }
                    <p><code id="mfa-uri" class="secret">{ props.enrolment.otpauth_uri.clone() }</code></p>
                </li>
                <li>{ "Enter the 6-digit code the app now shows. Two-step sign-in is on only once the code is accepted." }</li>
            </ol>
            <label>{ "Code from the app" }<input id="mfa-code" inputmode="numeric" autocomplete="one-time-code" value={(*code).clone()} oninput={bind(&code)} />{ field_error(e, "code") }</label>
            { form_error(e, &["code"]) }
            <div class="actions">
                <button id="mfa-confirm-submit" type="submit" disabled={*busy}>{ "Confirm" }</button>
                <button type="button" onclick={props.on_cancel.reform(|_: MouseEvent| ())}>{ "Cancel" }</button>
            </div>
        </form>
    }
}

#[derive(Properties, PartialEq)]
pub struct RecoveryCodesViewProps {
    pub codes: Vec<String>,
    pub on_done: Callback<()>,
}

/// The recovery codes, shown this once.
#[component]
pub fn RecoveryCodesView(props: &RecoveryCodesViewProps) -> Html {
    html! {
        <section id="recovery-codes" class="form wide" role="alert">
            <h3>{ "Two-step sign-in is on. Save these recovery codes now" }</h3>
            <p>{ "Each code signs you in once if you lose your phone. They are shown only this once: write them down or keep them in a password manager before you leave this screen." }</p>
            <ul class="codes">
            { for props.codes.iter().map(|c| html! { <li><code>{ c }</code></li> }) }
            </ul>
            <div class="actions">
                <button id="recovery-codes-saved" onclick={props.on_done.reform(|_: MouseEvent| ())}>{ "I have saved them" }</button>
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct DisableFormProps {
    pub on_disabled: Callback<()>,
}

/// Turns two-step sign-in off: the password and a current code (or a recovery code).
#[component]
pub fn DisableForm(props: &DisableFormProps) -> Html {
    let password = use_state(String::new);
    let code = use_state(String::new);
    let error = use_state(|| None::<UiError>);
    let busy = use_state(|| false);
    let on_submit = {
        let (password, code, error, busy, on_disabled) =
            (password.clone(), code.clone(), error.clone(), busy.clone(), props.on_disabled.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (p, c) = ((*password).clone(), (*code).clone());
            spawn_save(&busy, &error, &on_disabled, async move { services::mfa_disable(&p, &c).await });
        })
    };
    let e = &*error;
    html! {
        <form id="mfa-disable-form" class="form" onsubmit={on_submit}>
            <h3>{ "Turn off two-step sign-in" }</h3>
            <label>{ "Your password" }<input id="mfa-disable-password" type="password" autocomplete="current-password" value={(*password).clone()} oninput={bind(&password)} />{ field_error(e, "password") }</label>
            <label>{ "Code from the app, or a recovery code" }<input id="mfa-disable-code" autocomplete="one-time-code" value={(*code).clone()} oninput={bind(&code)} />{ field_error(e, "code") }</label>
            { form_error(e, &["password", "code"]) }
            <div class="actions"><button id="mfa-disable-submit" type="submit" disabled={*busy}>{ "Turn off" }</button></div>
        </form>
    }
}

fn device_kind(k: DeviceKind) -> &'static str {
    match k {
        DeviceKind::Desk => "Office desk",
        DeviceKind::Guide => "Guide app",
    }
}

fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    crate::clock::local_words(t)
}

#[derive(Properties, PartialEq)]
pub struct DeviceTableProps {
    pub devices: Vec<DeviceInfo>,
    /// Whether the list holds other people's devices too (owners and admins see them all).
    pub everyone: bool,
    pub on_revoke: Callback<DeviceInfo>,
}

/// The devices signed in to the account (or the organization). This desk is marked and is not
/// signed out from here: that is what "Sign out" is for.
#[component]
pub fn DeviceTable(props: &DeviceTableProps) -> Html {
    if props.devices.is_empty() {
        return html! { <EmptyState title="No devices have signed in" /> };
    }
    html! {
        <KeyTable id="device-table" head={html! { <tr><th>{ "Device" }</th>if props.everyone { <th>{ "Person" }</th> }<th>{ "Kind" }</th><th>{ "Last seen" }</th><th>{ "Status" }</th><th></th></tr> }}>
            { for props.devices.iter().map(|d| {
                let revoke = { let d = d.clone(); props.on_revoke.reform(move |_: MouseEvent| d.clone()) };
                html! {
                    <tr class={classes!("device-row", d.current.then_some("current"))} data-id={d.id.clone()} data-row="" tabindex="0">
                        <td>{ &d.name }if d.current { <span class="badge this-desk">{ "This desk" }</span> }</td>
                        if props.everyone { <td>{ &d.user_name }</td> }
                        <td>{ device_kind(d.kind) }</td>
                        <td>{ when(d.last_seen_at) }</td>
                        <td class="device-status">{ match d.revoked_at { Some(t) => format!("Signed out {}", when(t)), None => "Signed in".to_string() } }</td>
                        <td class="row-actions">
                            if d.revoked_at.is_none() && !d.current {
                                <button class="revoke" onclick={revoke}>{ "Sign out" }</button>
                            }
                        </td>
                    </tr>
                }
            }) }
        </KeyTable>
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fixtures::render;

    fn settings() -> OrganizationSettings {
        OrganizationSettings {
            slug: "demo".into(),
            name: "Demo Tours".into(),
            business_email: "hello@demo.example".into(),
            currency: "EUR".into(),
            timezone: "Europe/Lisbon".into(),
            locale: "en".into(),
            country_code: Some("PT".into()),
        }
    }

    fn member(id: &str, name: &str, role: Role, status: StaffStatus) -> StaffMember {
        StaffMember {
            id: id.into(),
            name: name.into(),
            email: format!("{}@demo.example", name.to_lowercase()),
            role,
            status,
            mfa_enabled: id == "u-owner",
            created_at: "2026-11-01T10:00:00Z".parse().unwrap(),
        }
    }

    fn directory() -> StaffDirectory {
        StaffDirectory {
            you: "u-admin".into(),
            staff: vec![
                member("u-owner", "Olivia", Role::Owner, StaffStatus::Active),
                member("u-admin", "Adam", Role::Admin, StaffStatus::Active),
                member("u-nina", "Nina", Role::Manager, StaffStatus::Invited),
                member("u-gus", "Gus", Role::Guide, StaffStatus::Suspended),
            ],
        }
    }

    #[test]
    fn the_draft_sends_only_what_changed_checked_by_the_domain() {
        let s = settings();
        assert_eq!(OrganizationDraft::of(&s).change(&s).unwrap(), None, "nothing typed, nothing sent");
        let draft = OrganizationDraft { currency: "usd".into(), ..OrganizationDraft::of(&s) };
        let change = draft.change(&s).unwrap().unwrap();
        assert_eq!((change.currency.as_deref(), change.name), (Some("usd"), None));
        let bad = OrganizationDraft { timezone: "Lisbon".into(), ..OrganizationDraft::of(&s) };
        assert_eq!(bad.change(&s).unwrap_err().field, "timezone");
        let cleared = OrganizationDraft { country_code: String::new(), ..OrganizationDraft::of(&s) };
        assert_eq!(cleared.change(&s).unwrap().unwrap().country_code.as_deref(), Some(""));
    }

    #[tokio::test]
    async fn the_organization_form_is_editable_for_admins_and_read_only_for_managers() {
        let html = render::<OrganizationForm>(OrganizationFormProps {
            settings: settings(),
            role: Some(Role::Admin),
            on_saved: Callback::noop(),
        })
        .await;
        for id in ["org-name", "org-business-email", "org-currency", "org-timezone", "org-locale", "org-country"] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}: {html}");
        }
        assert!(html.contains("value=\"Europe/Lisbon\"") && html.contains("organization-save"), "{html}");
        assert!(!html.contains("disabled"), "{html}");
        let html = render::<OrganizationForm>(OrganizationFormProps {
            settings: settings(),
            role: Some(Role::Manager),
            on_saved: Callback::noop(),
        })
        .await;
        assert!(!html.contains("organization-save"), "no Save for a manager: {html}");
        assert!(html.contains("Only owners and admins change the organization"), "the domain's words: {html}");
        assert!(html.contains("disabled"), "{html}");
    }

    #[tokio::test]
    async fn the_staff_table_offers_only_what_the_domain_allows() {
        let html = render::<StaffTable>(StaffTableProps {
            directory: directory(),
            actor: Role::Admin,
            on_action: Callback::noop(),
        })
        .await;
        assert!(html.contains("Invited, no password yet") && html.contains(">Suspended<"), "statuses in words: {html}");
        assert!(!html.contains(">invited<") && !html.contains(">manager<"), "no raw codes: {html}");
        assert!(html.contains(">You<"), "{html}");
        // An admin touches neither the owner nor themself: one Suspend (Nina), one Reinstate (Gus).
        assert_eq!(html.matches("class=\"suspend\"").count(), 1, "{html}");
        assert_eq!(html.matches("class=\"reinstate\"").count(), 1, "{html}");
        assert_eq!(html.matches("class=\"reinvite\"").count(), 1, "only the invited member: {html}");
        assert_eq!(html.matches("class=\"staff-role\"").count(), 2, "Nina's and Gus's roles: {html}");
        assert!(!html.contains("value=\"owner\""), "an admin cannot make an owner: {html}");
        assert!(html.contains("tabindex=\"0\""), "rows reachable from the keyboard: {html}");
        let olivia = directory().staff[0].clone();
        assert_eq!(roles_for(Role::Admin, "u-admin", &olivia), [Role::Owner]);
        assert_eq!(roles_for(Role::Owner, "u-owner", &olivia), [Role::Owner], "nobody changes their own role");
        assert!(StaffAction::Suspend(olivia.clone()).question().unwrap().contains("signed out of every device"));
        assert_eq!(StaffAction::ChangeRole(olivia.clone(), Role::Admin).question(), None);
    }

    #[tokio::test]
    async fn invitations_offer_the_roles_the_actor_may_give() {
        let html = render::<InviteForm>(InviteFormProps {
            actor: Role::Admin,
            on_invited: Callback::noop(),
            on_cancel: Callback::noop(),
        })
        .await;
        assert!(html.contains(">Manager<") && html.contains(">Admin<") && !html.contains(">Owner<"), "{html}");
        assert!(html.contains("invite-email") && html.contains("Send invitation"), "{html}");
    }

    #[tokio::test]
    async fn enrolment_shows_the_secret_and_link_and_the_codes_once_with_a_warning() {
        let html = render::<EnrolmentView>(EnrolmentViewProps {
            enrolment: MfaEnrolment {
                secret: "JBSWY3DPEHPK3PXP".into(),
                otpauth_uri: "otpauth://totp/Tourdesk%20Demo:olivia?secret=JBSWY3DPEHPK3PXP".into(),
            },
            on_confirmed: Callback::noop(),
            on_cancel: Callback::noop(),
        })
        .await;
        assert!(html.contains("JBSW Y3DP EHPK 3PXP") && html.contains("otpauth://totp/"), "{html}");
        assert!(html.contains("id=\"mfa-qr\"") && html.contains("<path d=\"M"), "a QR code to scan: {html}");
        let (size, d) = qr_path("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert!(size >= 21 + 8 && d.matches('M').count() > 50, "{size}");
        assert!(html.contains("id=\"mfa-code\""), "{html}");
        let html = render::<RecoveryCodesView>(RecoveryCodesViewProps {
            codes: vec!["ABCDE-FGHJK".into(), "01234-56789".into()],
            on_done: Callback::noop(),
        })
        .await;
        assert!(html.contains("ABCDE-FGHJK") && html.contains("shown only this once"), "{html}");
        let html = render::<DisableForm>(DisableFormProps { on_disabled: Callback::noop() }).await;
        assert!(html.contains("mfa-disable-password") && html.contains("mfa-disable-code"), "{html}");
        let html = render::<EnrolForm>(EnrolFormProps { on_enrolled: Callback::noop() }).await;
        assert!(html.contains("type=\"password\""), "{html}");
    }

    fn device(id: &str, current: bool, revoked: bool) -> DeviceInfo {
        DeviceInfo {
            id: id.into(),
            user_id: "u-owner".into(),
            user_name: "Olivia".into(),
            kind: DeviceKind::Desk,
            name: format!("desk {id}"),
            created_at: "2026-11-01T10:00:00Z".parse().unwrap(),
            last_seen_at: "2026-12-02T16:45:00Z".parse().unwrap(),
            revoked_at: revoked.then(|| "2026-12-02T17:00:00Z".parse().unwrap()),
            current,
        }
    }

    #[tokio::test]
    async fn devices_mark_this_desk_and_offer_sign_out_only_for_others() {
        let html = render::<DeviceTable>(DeviceTableProps {
            devices: vec![device("a", true, false), device("b", false, false), device("c", false, true)],
            everyone: true,
            on_revoke: Callback::noop(),
        })
        .await;
        assert!(html.contains("This desk") && html.contains("02 Dec 2026, 16:45"), "{html}");
        assert_eq!(html.matches("class=\"revoke\"").count(), 1, "not this desk, not a signed-out one: {html}");
        assert!(html.contains("Signed out Wed 02 Dec 2026") && html.contains(">Person<"), "{html}");
        let html =
            render::<DeviceTable>(DeviceTableProps { devices: vec![], everyone: false, on_revoke: Callback::noop() })
                .await;
        assert!(html.contains("No devices have signed in"), "{html}");
    }

    #[tokio::test]
    async fn offline_is_a_designed_state_and_tabs_follow_the_role() {
        let html = render::<NeedsConnection>(NeedsConnectionProps {
            what: "Staff accounts".into(),
            on_retry: Callback::noop(),
        })
        .await;
        assert!(
            html.contains("Staff accounts need a connection to the server") && html.contains("Try again"),
            "{html}"
        );
        let html =
            render::<SettingsTabs>(SettingsTabsProps { current: SettingsTab::Security, role: Some(Role::Manager) })
                .await;
        assert!(!html.contains("#/settings/staff") && html.contains("#/settings/devices"), "{html}");
        let html =
            render::<SettingsTabs>(SettingsTabsProps { current: SettingsTab::Staff, role: Some(Role::Owner) }).await;
        assert!(html.contains("#/settings/staff") && html.contains("aria-current=\"page\""), "{html}");
    }
}

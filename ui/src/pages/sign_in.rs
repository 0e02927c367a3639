//! The sign-in screen (`#/sign-in`, and the whole window while the desk has no session): the
//! server's address, the organization's short name, e-mail and password; when the account has
//! two-step sign-in the server asks for a code, and a code field appears for the same form to
//! be sent again. Errors are words beside their field; Enter submits; the form stays usable
//! after any refusal.
//!
//! `SignInPage` holds the state and calls the shell; `SignInForm` only renders it (and is what
//! the component tests render, in each of its states).

use tourdesk_domain::ipc::{SignInInput, SignedInAs};
use web_sys::HtmlInputElement;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::error::UiError;
use crate::router::{self, Route};
use crate::services;
use crate::state::{Action, use_app};
use crate::words;

/// What the person has typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignInDraft {
    pub server_url: String,
    pub organization: String,
    pub email: String,
    pub password: String,
    pub otp: String,
    /// The server asked for the second factor: the code field shows.
    pub code_step: bool,
}

impl SignInDraft {
    /// What is typed in `f`.
    pub fn value(&self, f: Field) -> &str {
        match f {
            Field::ServerUrl => &self.server_url,
            Field::Organization => &self.organization,
            Field::Email => &self.email,
            Field::Password => &self.password,
            Field::Otp => &self.otp,
        }
    }

    pub fn to_input(&self) -> SignInInput {
        SignInInput {
            server_url: self.server_url.trim().to_string(),
            organization: self.organization.trim().to_string(),
            email: self.email.trim().to_string(),
            password: self.password.clone(),
            otp: Some(self.otp.trim().to_string()).filter(|o| self.code_step && !o.is_empty()),
        }
    }
}

/// The form's inputs, as the shell names them in `CommandError::field`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    ServerUrl,
    Organization,
    Email,
    Password,
    Otp,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::ServerUrl => "server_url",
            Field::Organization => "organization",
            Field::Email => "email",
            Field::Password => "password",
            Field::Otp => "otp",
        }
    }

    /// How this field's input differs from the others'; its value, busy state and error are the
    /// form's, the same for all.
    fn looks(self) -> Looks {
        let plain = Looks {
            label: "",
            label_id: None,
            hint: None,
            id: "",
            kind: None,
            autocomplete: "",
            inputmode: None,
            spellcheck: Some("false"),
            autocapitalize: Some("none"),
            placeholder: None,
        };
        match self {
            Field::ServerUrl => Looks {
                label: "Server",
                id: "sign-in-server",
                kind: Some("url"),
                autocomplete: "url",
                autocapitalize: None,
                placeholder: Some("https://tours.example.com"),
                ..plain
            },
            Field::Organization => Looks {
                label: "Organization",
                id: "sign-in-org",
                autocomplete: "organization",
                placeholder: Some("its short name, like harbour-walks"),
                ..plain
            },
            Field::Email => {
                Looks { label: "E-mail", id: "sign-in-email", kind: Some("email"), autocomplete: "username", ..plain }
            }
            Field::Password => Looks {
                label: "Password",
                id: "sign-in-password",
                kind: Some("password"),
                autocomplete: "current-password",
                spellcheck: None,
                autocapitalize: None,
                ..plain
            },
            Field::Otp => Looks {
                label: "Code",
                label_id: Some("sign-in-code-step"),
                hint: Some(
                    "This account has two-step sign-in: enter the 6-digit code from your authenticator app, or one of your recovery codes.",
                ),
                id: "sign-in-otp",
                autocomplete: "one-time-code",
                inputmode: Some("numeric"),
                autocapitalize: None,
                ..plain
            },
        }
    }

    fn of(name: Option<&str>) -> Option<Field> {
        [Field::ServerUrl, Field::Organization, Field::Email, Field::Password, Field::Otp]
            .into_iter()
            .find(|f| Some(f.name()) == name)
    }
}

/// The attributes that tell one sign-in input from another (`None`: the attribute is left out).
#[derive(Clone, Copy)]
struct Looks {
    label: &'static str,
    label_id: Option<&'static str>,
    hint: Option<&'static str>,
    id: &'static str,
    kind: Option<&'static str>,
    autocomplete: &'static str,
    inputmode: Option<&'static str>,
    spellcheck: Option<&'static str>,
    autocapitalize: Option<&'static str>,
    placeholder: Option<&'static str>,
}

/// What the screen says about an answer: the message and the field it goes beside, if any. The
/// server's `MFA_REQUIRED` is no error: it is the code step's prompt.
pub fn describe(e: &UiError) -> Option<(Option<Field>, String)> {
    match e.code.as_str() {
        "MFA_REQUIRED" => None,
        "MFA_INVALID" => Some((
            Some(Field::Otp),
            "That code is not right. Enter the current code from your authenticator app, or an unused recovery code."
                .into(),
        )),
        _ => Some((Field::of(e.field.as_deref()), e.message.clone())),
    }
}

#[derive(Properties, PartialEq)]
pub struct SignInFormProps {
    pub draft: SignInDraft,
    #[prop_or_default]
    pub busy: bool,
    #[prop_or_default]
    pub error: Option<UiError>,
    /// Who this desk was signed in as when the server refused its session: the form then says
    /// why it shows, and offers to go back to working on this desk.
    #[prop_or_default]
    pub refused: Option<SignedInAs>,
    #[prop_or_default]
    pub reason: Option<String>,
    #[prop_or_default]
    pub pending: u64,
    #[prop_or_default]
    pub on_edit: Callback<(Field, String)>,
    #[prop_or_default]
    pub on_submit: Callback<()>,
    /// The inputs, so the page can move the focus to the one that needs attention.
    #[prop_or_default]
    pub refs: SignInRefs,
}

/// One input per `Field`, in the enum's order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignInRefs([NodeRef; 5]);

impl SignInRefs {
    fn of(&self, f: Field) -> &NodeRef {
        &self.0[f as usize]
    }
}

#[component]
pub fn SignInForm(props: &SignInFormProps) -> Html {
    let d = &props.draft;
    let said = props.error.as_ref().and_then(describe);
    let error_at = |f: Field| match &said {
        Some((Some(at), msg)) if *at == f => {
            html! { <span class="field-error" id={format!("sign-in-error-{}", f.name())} role="alert">{ msg.clone() }</span> }
        }
        _ => html! {},
    };
    let invalid = |f: Field| matches!(&said, Some((Some(at), _)) if *at == f).then_some("true");
    let general = match &said {
        Some((None, msg)) => {
            html! { <p class="error-text form-error" id="sign-in-error" role="alert">{ msg.clone() }</p> }
        }
        _ => html! {},
    };
    let input = |f: Field| {
        let on_edit = props.on_edit.clone();
        Callback::from(move |e: InputEvent| on_edit.emit((f, e.target_unchecked_into::<HtmlInputElement>().value())))
    };
    let field = |f: Field| {
        let l = f.looks();
        html! {
            <label id={l.label_id}>{ l.label }
                if let Some(hint) = l.hint { <span class="muted">{ hint }</span> }
                <input id={l.id} ref={props.refs.of(f).clone()} type={l.kind} autocomplete={l.autocomplete}
                    inputmode={l.inputmode} spellcheck={l.spellcheck} autocapitalize={l.autocapitalize}
                    value={d.value(f).to_string()} oninput={input(f)} readonly={props.busy}
                    aria-invalid={invalid(f)} placeholder={l.placeholder} />
                { error_at(f) }
            </label>
        }
    };
    let on_submit = {
        let on_submit = props.on_submit.clone();
        let busy = props.busy;
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if !busy {
                on_submit.emit(());
            }
        })
    };
    let button = match (props.busy, d.code_step) {
        (true, _) => "Signing in…",
        (false, true) => "Verify and sign in",
        (false, false) => "Sign in",
    };
    html! {
        <section class="page sign-in-page" id="sign-in">
            <form id="sign-in-form" class="form sign-in-card" onsubmit={on_submit} aria-busy={props.busy.to_string()} novalidate=true>
                <h1>{ "Sign in to Tourdesk" }</h1>
                if let Some(who) = &props.refused {
                    <p class="notice" id="sign-in-notice">
                        { format!("The server no longer accepts this desk's sign-in as {} ({}).", who.name, who.organization_name) }
                        if let Some(r) = &props.reason { { " " }{ words::sentence(r) }{ "." } }
                        { " Sign in again to sync. " }
                        if props.pending > 0 {
                            { format!("The {} changes not sent yet are kept. ", props.pending) }
                        }
                        <a href={Route::Tours(None).to_hash()} id="sign-in-later">{ "Keep working on this desk" }</a>
                    </p>
                }
                { field(Field::ServerUrl) }
                { field(Field::Organization) }
                { field(Field::Email) }
                { field(Field::Password) }
                if d.code_step { { field(Field::Otp) } }
                { general }
                <div class="actions">
                    <button id="sign-in-submit" type="submit" class="primary" disabled={props.busy}>
                        if props.busy { <span class="spinner" aria-hidden="true"></span> }
                        { button }
                    </button>
                </div>
                <p class="muted">{ "Your password is sent to the server once and never kept on this computer." }</p>
            </form>
        </section>
    }
}

/// The stateful sign-in screen.
#[component]
pub fn SignInPage() -> Html {
    let app = use_app();
    let draft = use_state(SignInDraft::default);
    let touched = use_mut_ref(|| false);
    let busy = use_state(|| false);
    let error = use_state(|| None::<UiError>);
    let refs = use_memo((), |_| SignInRefs::default());
    // Where the focus goes next (after a refusal, or when the code step opens); bumped to refocus.
    let focus = use_state(|| (Field::Password, 0u32));
    {
        let (draft, touched, focus) = (draft.clone(), touched.clone(), focus.clone());
        use_effect_with((), move |_| {
            spawn_local(async move {
                let Ok(d) = services::sign_in_defaults().await else { return };
                if *touched.borrow() {
                    return;
                }
                let first_empty = [
                    (Field::ServerUrl, d.server_url.is_empty()),
                    (Field::Organization, d.organization.is_empty()),
                    (Field::Email, d.email.is_empty()),
                ]
                .into_iter()
                .find(|(_, empty)| *empty)
                .map_or(Field::Password, |(f, _)| f);
                // A debug build's demo password is there already: Enter signs in.
                let target =
                    if d.password.is_some() && first_empty == Field::Password { None } else { Some(first_empty) };
                draft.set(SignInDraft {
                    server_url: d.server_url,
                    organization: d.organization,
                    email: d.email,
                    password: d.password.unwrap_or_default(),
                    otp: String::new(),
                    code_step: false,
                });
                focus.set((target.unwrap_or(Field::Password), focus.1 + 1));
            });
        });
    }
    {
        let refs = refs.clone();
        use_effect_with(*focus, move |(f, _)| {
            if let Some(el) = refs.of(*f).cast::<HtmlInputElement>() {
                let _ = el.focus();
                if matches!(f, Field::Password | Field::Otp) {
                    el.select();
                }
            }
        });
    }
    let on_edit = {
        let (draft, touched) = (draft.clone(), touched.clone());
        Callback::from(move |(f, v): (Field, String)| {
            *touched.borrow_mut() = true;
            let mut d = (*draft).clone();
            match f {
                Field::ServerUrl => d.server_url = v,
                Field::Organization => d.organization = v,
                Field::Email => d.email = v,
                Field::Password => d.password = v,
                Field::Otp => d.otp = v,
            }
            draft.set(d);
        })
    };
    let on_submit = {
        let (draft, busy, error, focus, app) = (draft.clone(), busy.clone(), error.clone(), focus.clone(), app.clone());
        Callback::from(move |()| {
            let input = draft.to_input();
            let (draft, busy, error, focus, app) =
                (draft.clone(), busy.clone(), error.clone(), focus.clone(), app.clone());
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                let result = services::sign_in(&input).await;
                busy.set(false);
                match result {
                    Ok(who) => {
                        app.dispatch(Action::Toast(format!(
                            "Signed in as {} ({}) at {}",
                            who.name,
                            words::sentence(who.role.as_str()),
                            who.organization_name
                        )));
                        // Away from #/sign-in; any other route was only covered by this screen,
                        // and the person may already be using it (the desk's status event
                        // arrives first).
                        if router::current() == Route::SignIn {
                            router::navigate(&Route::Tours(None));
                        }
                        if let Ok(s) = services::desk_status().await {
                            app.dispatch(Action::Status(s));
                        }
                    }
                    Err(e) => {
                        let mut d = (*draft).clone();
                        let step = matches!(e.code.as_str(), "MFA_REQUIRED" | "MFA_INVALID");
                        if step && !d.code_step {
                            d.code_step = true;
                        }
                        let at = if step {
                            Field::Otp
                        } else {
                            describe(&e).and_then(|(f, _)| f).unwrap_or(Field::Password)
                        };
                        draft.set(d);
                        error.set(Some(e));
                        focus.set((at, focus.1 + 1));
                    }
                }
            });
        })
    };
    let status = app.status.as_ref();
    let refused = status.filter(|s| s.needs_sign_in).and_then(|s| s.signed_in_as.clone());
    html! {
        <SignInForm
            draft={(*draft).clone()}
            busy={*busy}
            error={(*error).clone()}
            reason={refused.as_ref().and(status.and_then(|s| s.last_error.clone()))}
            pending={status.map_or(0, |s| s.pending)}
            refused={refused}
            on_edit={on_edit}
            on_submit={on_submit}
            refs={(*refs).clone()}
        />
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tourdesk_domain::roles::Role;

    async fn render(props: SignInFormProps) -> String {
        yew::LocalServerRenderer::<SignInForm>::with_props(props).render().await
    }

    fn draft() -> SignInDraft {
        SignInDraft {
            server_url: "http://127.0.0.1:8787".into(),
            organization: "demo".into(),
            email: "owner@demo.tourdesk.test".into(),
            ..SignInDraft::default()
        }
    }

    fn props(draft: SignInDraft, error: Option<UiError>) -> SignInFormProps {
        SignInFormProps {
            draft,
            busy: false,
            error,
            refused: None,
            reason: None,
            pending: 0,
            on_edit: Callback::noop(),
            on_submit: Callback::noop(),
            refs: SignInRefs::default(),
        }
    }

    fn refusal(code: &str, message: &str, field: Option<&str>) -> UiError {
        UiError::from(tourdesk_domain::ipc::CommandError {
            code: code.into(),
            message: message.into(),
            field: field.map(str::to_string),
        })
    }

    #[tokio::test]
    async fn the_form_asks_for_server_organization_email_and_password_and_submits_on_enter() {
        let html = render(props(draft(), None)).await;
        for id in ["sign-in-server", "sign-in-org", "sign-in-email", "sign-in-password"] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}: {html}");
        }
        assert!(html.contains("value=\"http://127.0.0.1:8787\"") && html.contains("value=\"demo\""), "{html}");
        assert!(html.contains("type=\"password\""), "{html}");
        assert!(html.contains("type=\"submit\"") && html.contains(">Sign in<"), "Enter submits the form: {html}");
        assert!(!html.contains("sign-in-otp"), "no code field until the server asks: {html}");
        assert!(!html.contains("role=\"alert\""), "{html}");
    }

    #[tokio::test]
    async fn a_wrong_password_is_said_beside_the_password_and_the_form_stays_usable() {
        let e = refusal("UNAUTHORIZED", "the organization, e-mail or password is wrong", Some("password"));
        let html = render(props(draft(), Some(e))).await;
        let at = html.find("id=\"sign-in-password\"").unwrap();
        let said = html.find("id=\"sign-in-error-password\"").unwrap();
        assert!(said > at, "the error follows its field: {html}");
        assert!(html.contains("The organization, e-mail or password is wrong"), "{html}");
        assert!(!html.contains("disabled"), "the button works again after a refusal: {html}");
        let off = refusal("OFFLINE", "no answer from http://x (connection refused)", Some("server_url"));
        let html = render(props(draft(), Some(off))).await;
        assert!(html.contains("id=\"sign-in-error-server_url\"") && html.contains("No answer from http://x"), "{html}");
        let busy = render(props(draft(), Some(refusal("RATE_LIMITED", "too many attempts; wait", None)))).await;
        assert!(busy.contains("id=\"sign-in-error\"") && busy.contains("Too many attempts"), "{busy}");
    }

    #[tokio::test]
    async fn the_code_step_shows_the_code_field_and_a_wrong_code_beside_it() {
        let step = SignInDraft { code_step: true, password: "secret".into(), ..draft() };
        let asked = refusal("MFA_REQUIRED", "enter the code from your authenticator app", Some("otp"));
        let html = render(props(step.clone(), Some(asked))).await;
        assert!(html.contains("id=\"sign-in-otp\"") && html.contains("6-digit code"), "{html}");
        assert!(html.contains("Verify and sign in"), "{html}");
        assert!(!html.contains("role=\"alert\""), "being asked for the code is no error: {html}");
        let wrong = refusal("MFA_INVALID", "that code is not right; try the current one", Some("otp"));
        let html = render(props(step, Some(wrong))).await;
        assert!(html.contains("id=\"sign-in-error-otp\"") && html.contains("That code is not right"), "{html}");
    }

    #[tokio::test]
    async fn while_signing_in_the_button_says_so_and_cannot_be_pressed_twice() {
        let html = render(SignInFormProps { busy: true, ..props(draft(), None) }).await;
        assert!(html.contains("Signing in…") && html.contains("disabled"), "{html}");
        assert!(html.contains("aria-busy=\"true\"") && html.contains("spinner"), "{html}");
    }

    #[tokio::test]
    async fn a_desk_the_server_signed_out_says_why_and_can_keep_working() {
        let who = SignedInAs { name: "Olivia".into(), role: Role::Owner, organization_name: "Demo Tours".into() };
        let html = render(SignInFormProps {
            refused: Some(who),
            reason: Some("sign-in refused: this device was signed out or revoked; sign in again".into()),
            pending: 2,
            ..props(draft(), None)
        })
        .await;
        assert!(html.contains("as Olivia (Demo Tours)") && html.contains("revoked"), "{html}");
        assert!(html.contains("The 2 changes not sent yet are kept"), "{html}");
        assert!(html.contains("id=\"sign-in-later\"") && html.contains("href=\"#/tours\""), "{html}");
    }

    #[test]
    fn the_draft_sends_the_code_only_in_the_code_step() {
        let d = SignInDraft { otp: " 123456 ".into(), ..draft() };
        assert_eq!(d.to_input().otp, None);
        assert_eq!(SignInDraft { code_step: true, ..d }.to_input().otp.as_deref(), Some("123456"));
    }
}

//! The modal form every dialog of the desk is: a backdrop, a form labelled by its heading,
//! Escape closes it. Its id is `{name}-dialog` and the heading's `{name}-title`.

use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use crate::hooks::close_on_escape;

#[derive(Properties, PartialEq)]
pub struct FormDialogProps {
    /// `cancel-departure` gives the ids `cancel-departure-dialog` and `cancel-departure-title`.
    pub name: AttrValue,
    pub title: AttrValue,
    /// A class beside `palette dialog form` (`wide-dialog`).
    #[prop_or_default]
    pub class: Classes,
    pub onsubmit: Callback<SubmitEvent>,
    pub on_close: Callback<()>,
    #[prop_or_default]
    pub children: Html,
}

#[component]
pub fn FormDialog(props: &FormDialogProps) -> Html {
    let title_id = format!("{}-title", props.name);
    html! {
        <div class="palette-backdrop" onkeydown={close_on_escape(&props.on_close)}>
            <form id={format!("{}-dialog", props.name)} class={classes!("palette", "dialog", "form", props.class.clone())}
                  role="dialog" aria-modal="true" aria-labelledby={title_id.clone()} onsubmit={props.onsubmit.clone()}>
                <h2 id={title_id}>{ props.title.clone() }</h2>
                { props.children.clone() }
            </form>
        </div>
    }
}

/// The message of `error` beside the field it names (`{prefix}-{field}-error`, dots and
/// underscores as dashes), or nothing when it names another field or none.
pub fn field_error(error: &Option<crate::error::UiError>, prefix: &str, field: &str) -> Html {
    match error {
        Some(e) if e.is_field(field) => html! {
            <span class="field-error" id={format!("{prefix}-{}-error", field.replace(['.', '_'], "-"))}>{ e.message.clone() }</span>
        },
        _ => html! {},
    }
}

#[derive(Properties, PartialEq)]
pub struct ReasonFieldProps {
    /// The text area's id.
    pub id: AttrValue,
    pub label: AttrValue,
    pub value: AttrValue,
    /// With the text as it now reads.
    pub on_input: Callback<String>,
    /// The error shown beside it ([`field_error`]).
    #[prop_or_default]
    pub error: Html,
}

/// A booking dialog's reason in the staff's words: two rows, at most 500 characters (what the
/// intents accept).
#[component]
pub fn ReasonField(props: &ReasonFieldProps) -> Html {
    let on_input = props.on_input.reform(|e: InputEvent| e.target_unchecked_into::<HtmlTextAreaElement>().value());
    html! {
        <label>{ props.label.clone() }
            <textarea id={props.id.clone()} rows="2" maxlength="500" value={props.value.clone()} oninput={on_input} />
            { props.error.clone() }
        </label>
    }
}

#[derive(Properties, PartialEq)]
pub struct DialogFooterProps {
    /// The dialog's name: the general error is `{name}-error`.
    pub name: AttrValue,
    pub error: Option<crate::error::UiError>,
    /// The fields the dialog shows their error beside; any other error is shown here.
    pub fields: &'static [&'static str],
    pub confirm_id: AttrValue,
    pub confirm_label: AttrValue,
    /// A destructive confirmation (cancelling) is styled as one.
    #[prop_or_default]
    pub danger: bool,
    /// Busy saving, or nothing to confirm.
    pub disabled: bool,
    pub keep_id: AttrValue,
    pub keep_label: AttrValue,
    pub on_keep: Callback<()>,
}

/// The end of a booking dialog: an error no field shows, then "confirm" and "keep" buttons.
#[component]
pub fn DialogFooter(props: &DialogFooterProps) -> Html {
    let general = match &props.error {
        Some(e) if !props.fields.iter().any(|f| e.is_field(f)) => {
            html! { <p id={format!("{}-error", props.name)} class="error-text">{ e.message.clone() }</p> }
        }
        _ => html! {},
    };
    let on_keep = props.on_keep.reform(|_: MouseEvent| ());
    html! {
        <>
            { general }
            <div class="actions">
                <button id={props.confirm_id.clone()} class={classes!(props.danger.then_some("danger"))} type="submit"
                        disabled={props.disabled}>{ props.confirm_label.clone() }</button>
                <button id={props.keep_id.clone()} type="button" onclick={on_keep}>{ props.keep_label.clone() }</button>
            </div>
        </>
    }
}

//! The modal form every dialog of the desk is: a backdrop, a form labelled by its heading,
//! Escape closes it. Its id is `{name}-dialog` and the heading's `{name}-title`.

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

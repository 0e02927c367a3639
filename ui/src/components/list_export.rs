//! "Export CSV" and "Export XLSX" for a list screen (issue 16): the desk writes every row the
//! screen's filters keep (not only the page shown) to the downloads folder and says where.

use tourdesk_domain::reports::{ExportFormat, ListExport};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::states::ErrorNote;
use crate::error::UiError;
use crate::services;

#[derive(Properties, PartialEq)]
pub struct ListExportButtonsProps {
    /// The list with the filters on screen now.
    pub list: ListExport,
}

#[component]
pub fn ListExportButtons(props: &ListExportButtonsProps) -> Html {
    let saved = use_state(|| None::<Result<String, UiError>>);
    let slug = props.list.slug();
    let export = |format: ExportFormat| {
        let (list, saved) = (props.list.clone(), saved.clone());
        Callback::from(move |_: MouseEvent| {
            let (list, saved) = (list.clone(), saved.clone());
            spawn_local(async move { saved.set(Some(services::save_list_file(&list, format).await)) });
        })
    };
    html! {
        <div class="list-export" role="group" aria-label="Export this list">
            <button type="button" id={format!("{slug}-export-csv")} onclick={export(ExportFormat::Csv)}>{ "Export CSV" }</button>
            <button type="button" id={format!("{slug}-export-xlsx")} onclick={export(ExportFormat::Xlsx)}>{ "Export XLSX" }</button>
            { match &*saved {
                Some(Ok(path)) => html! { <p id={format!("{slug}-export-saved")} class="muted" role="status">{ format!("Saved to {path}") }</p> },
                Some(Err(e)) => html! { <ErrorNote error={e.clone()} /> },
                None => html! {},
            } }
        </div>
    }
}

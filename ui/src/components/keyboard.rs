//! Tables and lists usable from the keyboard: rows carry `data-row` and `tabindex="0"`; on their
//! container, ArrowDown/ArrowUp move the focus to the next/previous row, PageDown/PageUp by a
//! window's worth, Home/End to the ends, and Enter opens the row (its first button, or the row
//! itself when it has none). Long lists use `virtual_rows`, which draws only the rows in view and
//! keeps the same keys.

use web_sys::wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, KeyboardEvent};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct KeyTableProps {
    pub id: AttrValue,
    /// The header row(s), `<tr>`s.
    pub head: Html,
    /// The body rows, each with `data-row` and `tabindex="0"`.
    pub children: Html,
}

/// A scrolling table whose body rows are walked with the keys above.
#[component]
pub fn KeyTable(props: &KeyTableProps) -> Html {
    html! {
        <div class="table-scroll">
            <table id={props.id.clone()}>
                <thead>{ props.head.clone() }</thead>
                <tbody onkeydown={Callback::from(on_row_keys)}>{ props.children.clone() }</tbody>
            </table>
        </div>
    }
}

/// The keys of a row are those of the long lists (`virtual_rows`), one definition for both.
pub use crate::components::virtual_rows::RowKey;
use crate::components::virtual_rows::page_rows;

fn is_row(e: &Element) -> bool {
    e.has_attribute("data-row")
}

fn sibling_row(from: &Element, forward: bool) -> Option<Element> {
    let mut at = if forward { from.next_element_sibling() } else { from.previous_element_sibling() };
    while let Some(e) = at {
        if is_row(&e) {
            return Some(e);
        }
        at = if forward { e.next_element_sibling() } else { e.previous_element_sibling() };
    }
    None
}

fn focus(e: Option<Element>) {
    if let Some(h) = e.and_then(|e| e.dyn_into::<HtmlElement>().ok()) {
        let _ = h.focus();
    }
}

/// The keydown handler for a container of rows (`onkeydown={Callback::from(on_row_keys)}`).
/// Keys typed in an input inside a row are left alone.
pub fn on_row_keys(e: KeyboardEvent) {
    let Some(row) = e.target().and_then(|t| t.dyn_into::<Element>().ok()).filter(is_row) else { return };
    let Some(key) = RowKey::of(&e.key()) else { return };
    e.prevent_default();
    match key {
        RowKey::Next => focus(sibling_row(&row, true)),
        RowKey::Previous => focus(sibling_row(&row, false)),
        RowKey::PageDown | RowKey::PageUp => {
            let row_px = row.get_bounding_client_rect().height();
            let view_px = web_sys::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64()).unwrap_or(0.0);
            let mut to = row.clone();
            for _ in 0..page_rows(row_px, view_px) {
                match sibling_row(&to, key == RowKey::PageDown) {
                    Some(next) => to = next,
                    None => break,
                }
            }
            focus(Some(to));
        }
        RowKey::First | RowKey::Last => {
            let rows = row.parent_element().map(|p| p.children());
            if let Some(rows) = rows {
                let n = rows.length();
                let pick = if key == RowKey::First {
                    (0..n).find_map(|i| rows.item(i).filter(is_row))
                } else {
                    (0..n).rev().find_map(|i| rows.item(i).filter(is_row))
                };
                focus(pick);
            }
        }
        RowKey::Open => {
            let target = row.query_selector("button").ok().flatten().unwrap_or(row);
            if let Ok(h) = target.dyn_into::<HtmlElement>() {
                h.click();
            }
        }
    }
}

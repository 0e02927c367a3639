//! Long tables and lists draw only the rows in view (issue 12 item 8): 500 tours, 500 audit
//! entries or 200 bookings built by Yew and laid out by WebKit on every visit cost hundreds of
//! milliseconds, while a screen shows twenty. (Not a tour's departures: its table opens panels
//! below it that the window tests click into, and a daily tour's 80-odd rows are cheap enough.) Rows above and below the drawn ones are one spacer each, as tall as they
//! would be, so the scrollbar and the scroll position stay those of the whole list.
//!
//! The maths is pure ([`visible_range`], [`step`]) and tested on the host; [`use_virtual_rows`]
//! measures the page and holds the drawn range. The keys walk every row, drawn or not: ArrowUp/Down
//! and PageUp/Down move the focus, Home/End go to the ends, Enter opens (the row's first button,
//! or the row). Each row says where it is for screen readers (`aria-rowindex` in a table whose
//! `aria-rowcount` counts every row; `aria-posinset`/`aria-setsize` in a list), since most of
//! them are not in the document.

use std::ops::Range;

use yew::prelude::*;

/// Lists up to this long draw every row: the window's layout is then exactly what it was before,
/// and measuring would cost more than it saves.
pub const DRAW_ALL_UP_TO: usize = 80;
/// Rows drawn beyond each edge of the view, so the arrow keys always find the next row in the
/// document (focusing it scrolls the list, which then draws the rows after it).
pub const OVERSCAN: usize = 8;
/// The viewport assumed before the page has been measured (a tall window).
const FIRST_VIEWPORT_PX: f64 = 1200.0;

/// The rows `[first, end)` of `count` rows of `row_px` to draw for a view `viewport_px` tall whose
/// top is `scroll_top` below the first row: those in view and `overscan` either side.
pub fn visible_range(count: usize, row_px: f64, scroll_top: f64, viewport_px: f64, overscan: usize) -> Range<usize> {
    let row = if row_px.is_finite() && row_px >= 1.0 { row_px } else { 1.0 };
    let top = if scroll_top.is_finite() { scroll_top.max(0.0) } else { 0.0 };
    let height = if viewport_px.is_finite() { viewport_px.max(0.0) } else { 0.0 };
    let first_seen = (top / row).floor() as usize;
    let end_seen = ((top + height) / row).ceil() as usize;
    let first = first_seen.saturating_sub(overscan).min(count);
    let end = end_seen.saturating_add(overscan).min(count).max(first);
    first..end
}

/// Rows one PageUp/PageDown moves: a view's worth, less one, so the row at the edge stays in sight.
pub fn page_rows(row_px: f64, viewport_px: f64) -> usize {
    if !(row_px.is_finite() && row_px >= 1.0 && viewport_px.is_finite()) {
        return 1;
    }
    ((viewport_px / row_px).floor() as usize).saturating_sub(1).max(1)
}

/// What a key does on a focused row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKey {
    Next,
    Previous,
    PageDown,
    PageUp,
    First,
    Last,
    Open,
}

impl RowKey {
    pub fn of(key: &str) -> Option<RowKey> {
        Some(match key {
            "ArrowDown" => RowKey::Next,
            "ArrowUp" => RowKey::Previous,
            "PageDown" => RowKey::PageDown,
            "PageUp" => RowKey::PageUp,
            "Home" => RowKey::First,
            "End" => RowKey::Last,
            "Enter" => RowKey::Open,
            _ => return None,
        })
    }
}

/// The row a moving key goes to from row `at` of `count` (`page` rows for PageUp/Down); `None`
/// for Enter or an empty list. It stops at the ends.
pub fn step(key: RowKey, at: usize, count: usize, page: usize) -> Option<usize> {
    let last = count.checked_sub(1)?;
    let at = at.min(last);
    Some(match key {
        RowKey::Next => (at + 1).min(last),
        RowKey::Previous => at.saturating_sub(1),
        RowKey::PageDown => at.saturating_add(page.max(1)).min(last),
        RowKey::PageUp => at.saturating_sub(page.max(1)),
        RowKey::First => 0,
        RowKey::Last => last,
        RowKey::Open => return None,
    })
}

/// `aria-rowindex` of body row `index` of a table: the header row is row 1.
pub fn aria_rowindex(index: usize) -> String {
    (index + 2).to_string()
}

/// What a long list draws and the handle that keeps it in step with the page.
#[derive(Clone)]
pub struct VirtualRows {
    /// On the rows' container (`<tbody>` or `<ul>`): it is what is measured.
    pub body: NodeRef,
    /// The rows to draw.
    pub range: Range<usize>,
    /// How many rows there are in all.
    pub count: usize,
    /// The height of the rows above and below the drawn ones (0 when every row is drawn).
    pub before_px: f64,
    pub after_px: f64,
    /// The container's `onkeydown`.
    pub on_keydown: Callback<KeyboardEvent>,
}

impl VirtualRows {
    /// The spacer for `px` of rows not drawn, as a table row of `columns` cells or a list item.
    pub fn spacer(px: f64, columns: Option<usize>) -> Html {
        if px < 0.5 {
            return html! {};
        }
        let style = format!("height: {}px; padding: 0; border: 0;", px.round());
        match columns {
            Some(n) => html! {
                <tr class="virtual-spacer" aria-hidden="true"><td colspan={n.to_string()} style={style} /></tr>
            },
            None => html! { <li class="virtual-spacer" aria-hidden="true" style={style} /> },
        }
    }

    /// `aria-rowcount` of the table: every body row and the header row.
    pub fn aria_rowcount(&self) -> String {
        (self.count + 1).to_string()
    }

    /// The spacers above and below the drawn rows of a table with `columns` columns (or a list).
    pub fn spacers(&self, columns: Option<usize>) -> (Html, Html) {
        (Self::spacer(self.before_px, columns), Self::spacer(self.after_px, columns))
    }
}

/// The drawn rows of a list of `count` rows about `estimate_px` tall (measured once drawn), and
/// the keys that walk all of them. `selected`, when it changes, is scrolled into view (a tour
/// chosen from the search, say). Lists of [`DRAW_ALL_UP_TO`] rows or fewer draw every row.
#[hook]
pub fn use_virtual_rows(count: usize, estimate_px: f64, selected: Option<usize>) -> VirtualRows {
    let body = use_node_ref();
    let virtual_list = count > DRAW_ALL_UP_TO;
    // The row height as last measured: read by the page's handlers, so not a render's copy.
    let row_px = use_mut_ref(|| estimate_px);
    // The drawn range is the state: scrolling within the drawn rows renders nothing.
    let drawn = use_state_eq(|| visible_range(count, estimate_px, 0.0, FIRST_VIEWPORT_PX, OVERSCAN));
    // A row to focus once drawn (after a key went past the drawn ones).
    let focus_after = use_mut_ref(|| None::<usize>);
    let range = if virtual_list { drawn.start.min(count)..drawn.end.min(count) } else { 0..count };
    let px = *row_px.borrow();
    let page = dom::Page { body: body.clone(), row_px, drawn, focus_after, count, virtual_list };
    dom::use_follow_page(&page, selected);
    VirtualRows {
        before_px: range.start as f64 * px,
        after_px: (count - range.end) as f64 * px,
        range,
        count,
        on_keydown: dom::on_keys(page),
        body,
    }
}

/// The page side: measuring, scrolling and focusing. On the host (component tests) the first
/// render is all there is, so these do nothing there.
mod dom {
    use std::cell::RefCell;
    use std::ops::Range;
    use std::rc::Rc;

    use yew::prelude::*;

    /// What the page side of one list needs, cloned into its handlers.
    #[derive(Clone)]
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub struct Page {
        pub body: NodeRef,
        pub row_px: Rc<RefCell<f64>>,
        pub drawn: UseStateHandle<Range<usize>>,
        pub focus_after: Rc<RefCell<Option<usize>>>,
        pub count: usize,
        pub virtual_list: bool,
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[hook]
    pub fn use_follow_page(_page: &Page, _selected: Option<usize>) {}

    #[cfg(not(target_arch = "wasm32"))]
    pub fn on_keys(_page: Page) -> Callback<KeyboardEvent> {
        Callback::noop()
    }

    #[cfg(target_arch = "wasm32")]
    pub use self::wasm::{on_keys, use_follow_page};

    #[cfg(target_arch = "wasm32")]
    mod wasm {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        use web_sys::{Element, HtmlElement, KeyboardEvent};
        use yew::prelude::*;

        use super::super::{OVERSCAN, RowKey, page_rows, step, visible_range};
        use super::Page;

        /// The part of the window where `el` can be seen: the viewport clipped by every ancestor
        /// that clips its overflow. `(top, bottom)` in client pixels.
        fn clip_of(el: &Element) -> (f64, f64) {
            let Some(window) = web_sys::window() else { return (0.0, 0.0) };
            let mut top = 0.0_f64;
            let mut bottom = window.inner_height().ok().and_then(|h| h.as_f64()).unwrap_or(0.0);
            let mut at = el.parent_element();
            while let Some(e) = at {
                if clips(&window, &e) {
                    let r = e.get_bounding_client_rect();
                    top = top.max(r.top());
                    bottom = bottom.min(r.bottom());
                }
                at = e.parent_element();
            }
            (top, bottom.max(top))
        }

        fn clips(window: &web_sys::Window, e: &Element) -> bool {
            window
                .get_computed_style(e)
                .ok()
                .flatten()
                .and_then(|s| s.get_property_value("overflow-y").ok())
                .is_some_and(|o| o != "visible")
        }

        /// The nearest ancestor that scrolls the rows (content taller than its box).
        fn scroller_of(el: &Element) -> Option<Element> {
            let window = web_sys::window()?;
            let mut at = el.parent_element();
            while let Some(e) = at {
                if e.scroll_height() > e.client_height() + 1 && clips(&window, &e) {
                    return Some(e);
                }
                at = e.parent_element();
            }
            window.document()?.scrolling_element()
        }

        /// The average height of the drawn rows, if any are drawn.
        fn drawn_row_px(body: &Element) -> Option<f64> {
            let rows = body.query_selector_all("[data-index]").ok()?;
            let n = rows.length();
            let first = rows.item(0)?.dyn_into::<Element>().ok()?;
            let last = rows.item(n.checked_sub(1)?)?.dyn_into::<Element>().ok()?;
            let px = (last.get_bounding_client_rect().bottom() - first.get_bounding_client_rect().top()) / f64::from(n);
            // Whole pixels: a sub-pixel change of layout must not draw the list again.
            (px >= 1.0).then_some(px.round())
        }

        /// How far below the first row the view starts, and how tall it is.
        fn view_of(body: &Element) -> (f64, f64) {
            let (clip_top, clip_bottom) = clip_of(body);
            let list_top = body.get_bounding_client_rect().top();
            ((clip_top - list_top).max(0.0), clip_bottom - clip_top)
        }

        fn row_at(body: &Element, at: usize) -> Option<HtmlElement> {
            body.query_selector(&format!("[data-index='{at}']")).ok().flatten()?.dyn_into::<HtmlElement>().ok()
        }

        /// Scrolls the list so that row `at` (perhaps not drawn, placed by the row height) is in
        /// the middle of the view.
        fn scroll_to(body: &Element, at: usize, row_px: f64) {
            let Some(scroller) = scroller_of(body) else { return };
            let (clip_top, clip_bottom) = clip_of(body);
            let row_top = body.get_bounding_client_rect().top() + at as f64 * row_px;
            let middle = clip_top + ((clip_bottom - clip_top) - row_px).max(0.0) / 2.0;
            scroller.set_scroll_top(scroller.scroll_top() + (row_top - middle).round() as i32);
        }

        impl Page {
            /// Measures the page and draws the rows now in view (nothing happens when they are
            /// the rows drawn already).
            fn update(&self) {
                if !self.virtual_list {
                    return;
                }
                let Some(el) = self.body.cast::<Element>() else { return };
                let (top, height) = view_of(&el);
                let row_px = *self.row_px.borrow();
                self.drawn.set(visible_range(self.count, row_px, top, height, OVERSCAN));
            }
        }

        #[hook]
        pub fn use_follow_page(page: &Page, selected: Option<usize>) {
            {
                // Scrolling anything (the list's own box or the page around it) or resizing the
                // window moves the view.
                let page = page.clone();
                use_effect_with((page.virtual_list, page.count), move |_| {
                    let listening = page.virtual_list.then(|| {
                        page.update();
                        let closure = Closure::<dyn Fn()>::new(move || page.update());
                        if let Some(w) = web_sys::window() {
                            let f = closure.as_ref().unchecked_ref();
                            // Capturing: scroll events do not bubble, and the box that scrolls
                            // may be any ancestor.
                            let _ = w.add_event_listener_with_callback_and_bool("scroll", f, true);
                            let _ = w.add_event_listener_with_callback("resize", f);
                        }
                        closure
                    });
                    move || {
                        if let (Some(closure), Some(w)) = (listening, web_sys::window()) {
                            let f = closure.as_ref().unchecked_ref();
                            let _ = w.remove_event_listener_with_callback_and_bool("scroll", f, true);
                            let _ = w.remove_event_listener_with_callback("resize", f);
                        }
                    }
                });
            }
            {
                // After each render: the row height is taken from the rows as drawn (a font or a
                // wrapped name changes it), and a row a key went to is focused once drawn.
                let page = page.clone();
                use_effect(move || {
                    let Some(el) = page.body.cast::<Element>() else { return };
                    if page.virtual_list
                        && let Some(px) = drawn_row_px(&el)
                        && (px - *page.row_px.borrow()).abs() >= 1.0
                    {
                        *page.row_px.borrow_mut() = px;
                        page.update();
                    }
                    let want = *page.focus_after.borrow();
                    if let Some(at) = want
                        && let Some(row) = row_at(&el, at)
                    {
                        page.focus_after.borrow_mut().take();
                        let _ = row.focus();
                    }
                });
            }
            {
                // In a long list, a row chosen elsewhere (a tour opened from the search) is
                // brought into view, drawn first if it is not. A short list is left where it is,
                // as it always was: moving the page under a click that opened a panel below it
                // made that panel's buttons miss in the window tests.
                let page = page.clone();
                use_effect_with((selected, page.count), move |(selected, _)| {
                    if !page.virtual_list {
                        return;
                    }
                    let (Some(at), Some(el)) = (*selected, page.body.cast::<Element>()) else { return };
                    if let Some(row) = row_at(&el, at) {
                        let (top, bottom) = clip_of(&el);
                        let r = row.get_bounding_client_rect();
                        if r.top() < top || r.bottom() > bottom {
                            row.scroll_into_view_with_bool(false);
                        }
                    } else {
                        scroll_to(&el, at, *page.row_px.borrow());
                        page.update();
                    }
                });
            }
        }

        pub fn on_keys(page: Page) -> Callback<KeyboardEvent> {
            Callback::from(move |e: KeyboardEvent| {
                // Only a row's own keys: keys typed in an input or on a button inside it are left alone.
                let Some(row) = e.target().and_then(|t| t.dyn_into::<HtmlElement>().ok()) else { return };
                let Some(at) = row.get_attribute("data-index").and_then(|i| i.parse::<usize>().ok()) else {
                    return;
                };
                let Some(key) = RowKey::of(&e.key()) else { return };
                let Some(el) = page.body.cast::<Element>() else { return };
                e.prevent_default();
                if key == RowKey::Open {
                    let button =
                        row.query_selector("button").ok().flatten().and_then(|b| b.dyn_into::<HtmlElement>().ok());
                    button.unwrap_or(row).click();
                    return;
                }
                let row_px = *page.row_px.borrow();
                let Some(to) = step(key, at, page.count, page_rows(row_px, view_of(&el).1)) else { return };
                match row_at(&el, to) {
                    // Focusing a drawn row scrolls it into view; the scroll draws the rows after it.
                    Some(next) => {
                        let _ = next.focus();
                    }
                    None => {
                        scroll_to(&el, to, row_px);
                        *page.focus_after.borrow_mut() = Some(to);
                        page.update();
                    }
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_long_list_draws_the_rows_in_view_and_a_few_either_side() {
        // 500 rows of 60 px in a 600 px view: at the top, 10 in view + 8 below.
        assert_eq!(visible_range(500, 60.0, 0.0, 600.0, 8), 0..18);
        // Scrolled to row 100: 8 above, 10 in view, 8 below.
        assert_eq!(visible_range(500, 60.0, 6000.0, 600.0, 8), 92..118);
        // Half a row scrolled: the row cut at the top and the one cut at the bottom are both in view.
        assert_eq!(visible_range(500, 60.0, 6030.0, 600.0, 0), 100..111);
        // At the end, nothing past the last row; an empty list draws nothing.
        assert_eq!(visible_range(500, 60.0, 29_400.0, 600.0, 8), 482..500);
        assert_eq!(visible_range(0, 60.0, 0.0, 600.0, 8), 0..0);
        // Scrolled past the list (a stale measure after it shrank): an empty range at its end.
        assert_eq!(visible_range(20, 60.0, 10_000.0, 600.0, 8), 20..20);
        // A list scrolled out of sight (no view) still draws the overscan around its place.
        assert_eq!(visible_range(500, 60.0, 600.0, 0.0, 8), 2..18);
    }

    #[test]
    fn nonsense_measures_draw_from_the_top_instead_of_failing() {
        assert_eq!(visible_range(100, 0.0, 50.0, 10.0, 0), 50..60, "a row under a pixel counts as one");
        assert_eq!(visible_range(100, f64::NAN, f64::NAN, 10.0, 2), 0..12);
        assert_eq!(visible_range(100, 30.0, -500.0, 60.0, 0), 0..2, "no view above the first row");
        assert_eq!(page_rows(f64::NAN, 600.0), 1);
    }

    #[test]
    fn page_keys_move_a_view_less_one_and_stop_at_the_ends() {
        assert_eq!(page_rows(40.0, 600.0), 14);
        assert_eq!(page_rows(40.0, 30.0), 1, "a view shorter than a row still moves");
        assert_eq!(step(RowKey::PageDown, 10, 500, 14), Some(24));
        assert_eq!(step(RowKey::PageDown, 490, 500, 14), Some(499));
        assert_eq!(step(RowKey::PageUp, 10, 500, 14), Some(0));
        assert_eq!(step(RowKey::Next, 499, 500, 14), Some(499));
        assert_eq!(step(RowKey::Previous, 0, 500, 14), Some(0));
        assert_eq!(step(RowKey::First, 250, 500, 14), Some(0));
        assert_eq!(step(RowKey::Last, 3, 500, 14), Some(499));
        assert_eq!(step(RowKey::Open, 3, 500, 14), None);
        assert_eq!(step(RowKey::Next, 0, 0, 14), None, "no rows, nowhere to go");
    }

    #[test]
    fn keys_in_words() {
        assert_eq!(RowKey::of("ArrowDown"), Some(RowKey::Next));
        assert_eq!(RowKey::of("ArrowUp"), Some(RowKey::Previous));
        assert_eq!(RowKey::of("PageDown"), Some(RowKey::PageDown));
        assert_eq!(RowKey::of("PageUp"), Some(RowKey::PageUp));
        assert_eq!(RowKey::of("Home"), Some(RowKey::First));
        assert_eq!(RowKey::of("End"), Some(RowKey::Last));
        assert_eq!(RowKey::of("Enter"), Some(RowKey::Open));
        assert_eq!(RowKey::of("a"), None, "letters are typed, not moves");
        assert_eq!(RowKey::of("Tab"), None, "Tab still walks the buttons");
    }

    proptest! {
        /// Every row that can be seen is drawn, the range never leaves the list, and it is no
        /// longer than a view plus the overscan: at most two rows cut at the edges more.
        #[test]
        fn every_row_in_view_is_drawn_and_little_else(
            count in 0usize..5_000,
            row_px in 1.0f64..200.0,
            top in 0.0f64..1_000_000.0,
            height in 0.0f64..3_000.0,
            overscan in 0usize..20,
        ) {
            let r = visible_range(count, row_px, top, height, overscan);
            prop_assert!(r.start <= r.end && r.end <= count);
            for i in 0..count.min(r.end + 50) {
                let (row_top, row_bottom) = (i as f64 * row_px, (i + 1) as f64 * row_px);
                let seen = row_bottom > top && row_top < top + height;
                if seen {
                    prop_assert!(r.contains(&i), "row {i} is in view but not drawn: {r:?}");
                }
            }
            let in_view = (height / row_px).ceil() as usize + 1;
            prop_assert!(r.len() <= in_view + 2 * overscan, "{r:?} for {in_view} rows in view");
        }

        /// The spacers and the drawn rows add up to the whole list's height.
        #[test]
        fn spacers_and_drawn_rows_are_the_whole_list(
            count in 0usize..5_000,
            row_px in 1.0f64..200.0,
            top in 0.0f64..1_000_000.0,
            height in 0.0f64..3_000.0,
        ) {
            let r = visible_range(count, row_px, top, height, OVERSCAN);
            let before = r.start as f64 * row_px;
            let after = (count - r.end) as f64 * row_px;
            let drawn = r.len() as f64 * row_px;
            prop_assert!((before + drawn + after - count as f64 * row_px).abs() < 1e-6);
        }

        /// A key never leaves the list, and moving down then up comes back (away from the ends).
        #[test]
        fn keys_stay_in_the_list(at in 0usize..1_000, count in 1usize..1_000, page in 1usize..50) {
            for key in [RowKey::Next, RowKey::Previous, RowKey::PageDown, RowKey::PageUp, RowKey::First, RowKey::Last] {
                let to = step(key, at, count, page).unwrap();
                prop_assert!(to < count);
            }
            let at = at.min(count - 1);
            if at + page < count {
                let down = step(RowKey::PageDown, at, count, page).unwrap();
                prop_assert_eq!(step(RowKey::PageUp, down, count, page), Some(at));
            }
        }
    }
}

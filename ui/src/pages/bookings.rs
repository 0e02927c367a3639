//! Every booking across departures (`#/bookings`): search by reference, customer name, e-mail or
//! phone (debounced), filter by departure dates, tour, status, payment, source and balance due,
//! sort by clicking a column (again to reverse). Arrow keys move along the rows; Enter opens
//! the booking. The desk's SQLite answers from its indexes (`Store::list_bookings`).

use tourdesk_domain::entities::BookingSource;
use tourdesk_domain::ipc::{BookingFilter, BookingList, BookingSort};
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::status::{BookingStatus, PaymentStatus};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::components::tours::price;
use crate::components::virtual_rows::{aria_rowindex, use_virtual_rows};
use crate::hooks::{Depends, Load, use_debounce, use_invoke};
use crate::router::{Route, navigate};
use crate::services;
use crate::words;

const LIST_KINDS: Depends = Depends::on(&[
    EntityKind::Booking,
    EntityKind::Customer,
    EntityKind::Departure,
    EntityKind::Tour,
    EntityKind::LedgerEntry,
]);
const TOUR_KINDS: Depends = Depends::on(&[EntityKind::Tour]);

pub fn source_word(s: BookingSource) -> &'static str {
    match s {
        BookingSource::Website => "Website",
        BookingSource::Admin => "Desk",
        BookingSource::Phone => "Phone",
        BookingSource::Partner => "Partner",
        BookingSource::Ota => "Travel site",
    }
}

/// The columns, their sort and their header.
const COLUMNS: [(BookingSort, &str); 6] = [
    (BookingSort::Reference, "Reference"),
    (BookingSort::Customer, "Customer"),
    (BookingSort::Departure, "Departure"),
    (BookingSort::Booked, "Booked"),
    (BookingSort::Total, "Total"),
    (BookingSort::BalanceDue, "Balance due"),
];

#[component]
pub fn BookingsPage() -> Html {
    let filter = use_state(BookingFilter::default);
    let typed = use_state(String::new);
    let debounce = use_debounce(250);
    let list = use_invoke(LIST_KINDS, (*filter).clone(), |f| async move { services::list_all_bookings(&f).await });
    let tours = use_invoke(TOUR_KINDS, (), |()| async move { services::list_tours().await });

    let set = |f: &UseStateHandle<BookingFilter>, change: fn(&mut BookingFilter, String)| {
        let f = f.clone();
        move |v: String| {
            let mut next = (*f).clone();
            change(&mut next, v);
            f.set(next);
        }
    };
    let on_query = {
        let (typed, debounce, apply) = (typed.clone(), debounce.clone(), set(&filter, |f, v| f.query = v));
        Callback::from(move |e: InputEvent| {
            let v = e.target_unchecked_into::<HtmlInputElement>().value();
            typed.set(v.clone());
            let apply = apply.clone();
            debounce.emit(Box::new(move || apply(v)));
        })
    };
    let input = |apply: Box<dyn Fn(String)>| {
        Callback::from(move |e: Event| apply(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let select = |apply: Box<dyn Fn(String)>| {
        Callback::from(move |e: Event| apply(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_from = input(Box::new(set(&filter, |f, v| f.from = v.parse().ok())));
    let on_to = input(Box::new(set(&filter, |f, v| f.to = v.parse().ok())));
    let on_tour = select(Box::new(set(&filter, |f, v| f.tour_id = (!v.is_empty()).then_some(v))));
    let on_status = select(Box::new(set(&filter, |f, v| f.status = BookingStatus::parse(&v))));
    let on_payment = select(Box::new(set(&filter, |f, v| f.payment_status = PaymentStatus::parse(&v))));
    let on_source = select(Box::new(set(&filter, |f, v| f.source = BookingSource::parse(&v))));
    let on_due = {
        let filter = filter.clone();
        Callback::from(move |e: Event| {
            let mut next = (*filter).clone();
            next.balance_due = e.target_unchecked_into::<HtmlInputElement>().checked();
            filter.set(next);
        })
    };
    let on_clear = {
        let (filter, typed) = (filter.clone(), typed.clone());
        Callback::from(move |_: MouseEvent| {
            typed.set(String::new());
            filter.set(BookingFilter::default());
        })
    };
    let on_sort = {
        let filter = filter.clone();
        Callback::from(move |(col, _): (BookingSort, MouseEvent)| {
            let mut next = (*filter).clone();
            next.descending = next.sort == col && !next.descending;
            next.sort = col;
            filter.set(next);
        })
    };
    let f = (*filter).clone();
    let tour_options = tours.ready().cloned().unwrap_or_default();
    let filtered = f != BookingFilter::default();
    let body = match list {
        Load::Loading => html! { <Loading what="bookings" /> },
        Load::Failed(e) => html! { <ErrorNote error={e} /> },
        Load::Ready(l) if l.rows.is_empty() => {
            if filtered {
                html! { <EmptyState title="No booking matches" hint="Try fewer filters or another search." /> }
            } else {
                html! { <EmptyState title="No bookings yet" hint="Bookings made here, on the website or by partners show up here." /> }
            }
        }
        Load::Ready(l) => {
            html! { <BookingsTable list={l} sort={f.sort} descending={f.descending} on_sort={on_sort} /> }
        }
    };
    html! {
        <section id="bookings" class="page bookings">
            <div class="panel-head">
                <h2>{ "Bookings" }</h2>
                <crate::components::list_export::ListExportButtons
                    list={tourdesk_domain::reports::ListExport::Bookings { filter: f.clone() }} />
            </div>
            <form class="filters" role="search" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
                <input id="bookings-search" type="search" placeholder="Reference, name, e-mail or phone"
                       aria-label="Search bookings" value={(*typed).clone()} oninput={on_query} />
                <label>{ "From" }<input id="bookings-from" type="date" onchange={on_from}
                       value={f.from.map(|d| d.to_string()).unwrap_or_default()} /></label>
                <label>{ "To" }<input id="bookings-to" type="date" onchange={on_to}
                       value={f.to.map(|d| d.to_string()).unwrap_or_default()} /></label>
                <label>{ "Tour" }
                    <select id="bookings-tour" onchange={on_tour}>
                        <option value="" selected={f.tour_id.is_none()}>{ "All tours" }</option>
                        { for tour_options.iter().map(|t| html! {
                            <option value={t.tour.id.clone()} selected={f.tour_id.as_deref() == Some(t.tour.id.as_str())}>{ &t.tour.name }</option>
                        }) }
                    </select>
                </label>
                <label>{ "Status" }
                    <select id="bookings-status" onchange={on_status}>
                        <option value="" selected={f.status.is_none()}>{ "Any" }</option>
                        { for BookingStatus::ALL.iter().map(|s| html! {
                            <option value={s.as_str()} selected={f.status == Some(*s)}>{ words::booking_status(*s) }</option>
                        }) }
                    </select>
                </label>
                <label>{ "Payment" }
                    <select id="bookings-payment" onchange={on_payment}>
                        <option value="" selected={f.payment_status.is_none()}>{ "Any" }</option>
                        { for PaymentStatus::ALL.iter().map(|s| html! {
                            <option value={s.as_str()} selected={f.payment_status == Some(*s)}>{ words::payment_status(*s) }</option>
                        }) }
                    </select>
                </label>
                <label>{ "Source" }
                    <select id="bookings-source" onchange={on_source}>
                        <option value="" selected={f.source.is_none()}>{ "Any" }</option>
                        { for BookingSource::ALL.iter().map(|s| html! {
                            <option value={s.as_str()} selected={f.source == Some(*s)}>{ source_word(*s) }</option>
                        }) }
                    </select>
                </label>
                <label class="check"><input id="bookings-due" type="checkbox" checked={f.balance_due} onchange={on_due} />{ "Balance due" }</label>
                if filtered {
                    <button id="bookings-clear" type="button" onclick={on_clear}>{ "Clear" }</button>
                }
            </form>
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct BookingsTableProps {
    pub list: BookingList,
    pub sort: BookingSort,
    pub descending: bool,
    pub on_sort: Callback<(BookingSort, MouseEvent)>,
}

/// Roughly how tall a booking row is (a customer's name over their e-mail), until measured.
const BOOKING_ROW_PX: f64 = 52.0;
/// The table's columns (the sortable ones and six more), for the spacers of the rows not drawn.
const TABLE_COLUMNS: usize = COLUMNS.len() + 6;

/// The rows, with sortable headers (`aria-sort` on the current one) and keyboard navigation. A
/// page of 200 draws only the rows in view (`components::virtual_rows`).
#[component]
pub fn BookingsTable(props: &BookingsTableProps) -> Html {
    let l = &props.list;
    let rows = use_virtual_rows(l.rows.len(), BOOKING_ROW_PX, None);
    let (above, below) = rows.spacers(Some(TABLE_COLUMNS));
    html! {
        <>
            <p class="muted" id="bookings-count">{
                if l.matches as usize > l.rows.len() {
                    format!("Showing the first {} of {} bookings", l.rows.len(), l.matches)
                } else if l.matches == 1 {
                    "1 booking".to_string()
                } else {
                    format!("{} bookings", l.matches)
                }
            }</p>
            <div class="table-scroll">
            <table class="booking-table all-bookings" aria-rowcount={rows.aria_rowcount()}>
                <thead><tr aria-rowindex="1">
                    { for COLUMNS.iter().map(|(col, label)| {
                        let current = *col == props.sort;
                        let aria = current.then_some(if props.descending { "descending" } else { "ascending" });
                        let on_sort = props.on_sort.clone();
                        let col = *col;
                        html! {
                            <th aria-sort={aria}>
                                <button type="button" class="sort" data-sort={format!("{col:?}")}
                                        onclick={Callback::from(move |e: MouseEvent| on_sort.emit((col, e)))}>
                                    { *label }
                                    if current { { if props.descending { " ↓" } else { " ↑" } } }
                                </button>
                            </th>
                        }
                    }) }
                    <th>{ "Tour" }</th><th>{ "Guests" }</th><th>{ "Status" }</th><th>{ "Payment" }</th><th>{ "Source" }</th><th></th>
                </tr></thead>
                <tbody ref={rows.body.clone()} onkeydown={rows.on_keydown.clone()}>
                { above }
                { for l.rows[rows.range.clone()].iter().zip(rows.range.clone()).map(|(r, i)| {
                    let b = &r.booking;
                    let route = Route::Booking(b.reference_number.clone());
                    html! {
                        <tr key={b.id.clone()} class="booking-row" data-id={b.id.clone()} data-pending={b.pending.to_string()} data-row="" tabindex="0"
                            data-index={i.to_string()} aria-rowindex={aria_rowindex(i)}
                            onclick={Callback::from(move |_: MouseEvent| navigate(&route))}>
                            <td class="reference">{ &b.reference_number }</td>
                            <td class="customer">{ &b.customer_name }
                                <div class="muted">{ [r.customer_email.clone(), r.customer_phone.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ") }</div>
                            </td>
                            <td class="departure">{ r.local_start.clone().unwrap_or_else(|| "—".into()) }</td>
                            <td>{ r.created_at.format("%d %b %Y").to_string() }</td>
                            <td class="num">{ price(&b.total) }</td>
                            <td class="num balance">{ if r.balance_due.is_zero() { "—".to_string() } else { price(&r.balance_due) } }</td>
                            <td class="tour">{ r.tour_name.clone().unwrap_or_else(|| "—".into()) }</td>
                            <td class="pax num">{ b.pax }</td>
                            <td class="status-word">{ words::booking_status(b.status) }</td>
                            <td class="status-word">{ words::payment_status(b.payment_status) }</td>
                            <td>{ source_word(r.source) }</td>
                            <td>if b.pending { <span class="badge pending">{ "Pending sync" }</span> }</td>
                        </tr>
                    }
                }) }
                { below }
                </tbody>
            </table>
            </div>
        </>
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::pages::test_support::render_page;
    use tourdesk_domain::ipc::{BookingRow, BookingSummary};
    use tourdesk_domain::money::{Currency, Money};

    fn row(reference: &str, due: i64) -> BookingRow {
        let usd = |a| Money::new(a, Currency::USD);
        BookingRow {
            booking: BookingSummary {
                id: format!("id-{reference}"),
                reference_number: reference.into(),
                departure_id: "d1".into(),
                customer_id: "c1".into(),
                customer_name: "Ana Silva".into(),
                pax: 2,
                status: BookingStatus::Pending,
                payment_status: PaymentStatus::Partial,
                total: usd(10_000),
                pending: true,
            },
            tour_id: "t1".into(),
            tour_name: Some("Old Town Walk".into()),
            starts_at: None,
            local_start: Some("2026-07-10 09:00".into()),
            source: BookingSource::Phone,
            customer_email: Some("ana@example.com".into()),
            customer_phone: None,
            balance_due: usd(due),
            created_at: tourdesk_domain::fixtures::now(),
        }
    }

    #[tokio::test]
    async fn the_screen_starts_loading_with_its_search_and_filters() {
        let html = render_page(Route::Bookings).await;
        assert!(html.contains("id=\"bookings-search\"") && html.contains("Loading bookings…"), "{html}");
        for id in [
            "bookings-from",
            "bookings-to",
            "bookings-tour",
            "bookings-status",
            "bookings-payment",
            "bookings-source",
            "bookings-due",
            "bookings-export-csv",
            "bookings-export-xlsx",
        ] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}: {html}");
        }
        assert!(
            html.contains("Awaiting payment") && html.contains("Part paid") && html.contains("Travel site"),
            "{html}"
        );
    }

    #[tokio::test]
    async fn a_page_of_two_hundred_draws_the_rows_in_view_and_tells_screen_readers_where_they_are() {
        let rows: Vec<BookingRow> = (0..200)
            .map(|i| {
                let mut r = row(&format!("BK-2026-{i:06}"), 0);
                r.booking.id = format!("id-{i}");
                r
            })
            .collect();
        let html = yew::LocalServerRenderer::<BookingsTable>::with_props(BookingsTableProps {
            list: BookingList { rows, matches: 200 },
            sort: BookingSort::Booked,
            descending: true,
            on_sort: Callback::noop(),
        })
        .render()
        .await;
        let drawn = html.matches("class=\"booking-row\"").count();
        assert!((10..100).contains(&drawn), "only the rows in view are drawn, not {drawn}");
        assert!(html.contains("aria-rowcount=\"201\""), "every row and the header: {html}");
        assert!(html.contains("aria-rowindex=\"1\"") && html.contains("aria-rowindex=\"2\""), "{html}");
        assert!(html.contains("BK-2026-000000") && !html.contains("BK-2026-000199"), "{html}");
        assert!(html.contains(&format!("colspan=\"{TABLE_COLUMNS}\"")), "the spacer spans the table: {html}");
        assert!(html.contains("200 bookings"), "{html}");
    }

    #[tokio::test]
    async fn rows_read_in_words_and_the_sorted_column_says_so() {
        let list = BookingList { rows: vec![row("BK-2026-AAAAAA", 6_000), row("BK-2026-BBBBBB", 0)], matches: 7 };
        let html = yew::LocalServerRenderer::<BookingsTable>::with_props(BookingsTableProps {
            list,
            sort: BookingSort::BalanceDue,
            descending: true,
            on_sort: Callback::noop(),
        })
        .render()
        .await;
        assert!(html.contains("Showing the first 2 of 7 bookings"), "{html}");
        assert!(html.contains("aria-sort=\"descending\"") && html.contains("Balance due ↓"), "{html}");
        assert!(
            html.contains("$60.00") && html.contains("Old Town Walk") && html.contains("ana@example.com"),
            "{html}"
        );
        assert!(html.contains("data-row=\"\"") && html.contains("tabindex=\"0\""), "{html}");
        assert!(html.contains("Phone") && html.contains("Pending sync"), "{html}");
    }
}

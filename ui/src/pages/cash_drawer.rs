//! The cash drawer (`#/cash-drawer`): one local day's takings per desk user — cash and card
//! terminal, on bookings and for gift cards — less the refunds they handed back in cash or on the
//! terminal, to count the drawer and check the terminal's report against. Figures come from the ledgers on this desk (the domain's
//! `cash_drawer::summarise`), so money taken offline counts at once.

use chrono::NaiveDate;
use tourdesk_domain::ipc::CashDrawer;
use tourdesk_domain::money::Money;
use tourdesk_domain::protocol::EntityKind;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::components::tours::price;
use crate::hooks::{Depends, Load, use_invoke_refreshing};
use crate::services;

const KINDS: Depends = Depends::on(&[EntityKind::LedgerEntry, EntityKind::GiftCardMovement]);

#[component]
pub fn CashDrawerPage() -> Html {
    let date = use_state(|| None::<NaiveDate>);
    let retry = use_state(|| 0u32);
    let drawer = use_invoke_refreshing(KINDS, *date, *retry, services::cash_drawer);
    let on_date = {
        let date = date.clone();
        Callback::from(move |e: Event| {
            let v = e.target_unchecked_into::<HtmlInputElement>().value();
            date.set(NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok());
        })
    };
    let shown = drawer.ready().map(|d| d.date.format("%Y-%m-%d").to_string()).unwrap_or_default();
    let body = match &drawer {
        Load::Loading => html! { <Loading what="the day's takings" /> },
        Load::Failed(e) => {
            let retry = retry.clone();
            html! { <ErrorNote error={e.clone()} on_retry={Some(Callback::from(move |()| retry.set(*retry + 1)))} /> }
        }
        Load::Ready(d) if d.lines.is_empty() => html! {
            <EmptyState title="No cash or card-terminal takings on this day"
                hint="Cash and terminal payments recorded on bookings, gift cards sold for cash or on the terminal, and refunds given back in cash or on the terminal add up here." />
        },
        Load::Ready(d) => html! { <DrawerTable drawer={d.clone()} /> },
    };
    html! {
        <section class="page single cash-drawer-page">
            <h1>{ "Cash drawer" }</h1>
            <div class="toolbar">
                <label>{ "Day" }
                    <input id="drawer-date" type="date" value={shown} onchange={on_date} />
                </label>
            </div>
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct DrawerTableProps {
    pub drawer: CashDrawer,
}

/// One row per person and currency: bookings' cash and terminal money, gift cards sold, refunds
/// given back, and what should be in the drawer and on the terminal's report (taken less given
/// back, worked out by the domain).
#[component]
pub fn DrawerTable(props: &DrawerTableProps) -> Html {
    html! {
        <div class="table-scroll">
        <table id="cash-drawer" class="data">
            // Two header rows, cash and the card terminal each over their own columns: eleven
            // headers of three words each were wider than the window.
            <thead>
                <tr>
                    <th rowspan="2" scope="col">{ "Who" }</th>
                    <th colspan="5" scope="colgroup" class="group">{ "Cash" }</th>
                    <th colspan="4" scope="colgroup" class="group">{ "Card terminal" }</th>
                    <th rowspan="2" scope="col" class="num">{ "Entries" }</th>
                </tr>
                <tr>
                    <th class="num" scope="col">{ "Bookings" }</th><th class="num" scope="col">{ "Gift cards" }</th>
                    <th class="num" scope="col">{ "Taken" }</th><th class="num" scope="col">{ "Given back" }</th>
                    <th class="num" scope="col">{ "In the drawer" }</th>
                    <th class="num" scope="col">{ "Bookings" }</th><th class="num" scope="col">{ "Gift cards" }</th>
                    <th class="num" scope="col">{ "Refunds" }</th><th class="num" scope="col">{ "Total" }</th>
                </tr>
            </thead>
            <tbody>
                { for props.drawer.lines.iter().map(|l| {
                    let m = |a: i64| price(&Money::new(a, l.line.currency));
                    // Given back is shown as money out, with its sign, so the row reads as a sum.
                    let out = |a: i64| if a == 0 { m(0) } else { format!("−{}", m(a)) };
                    html! {
                        <tr class="drawer-line" data-user={l.line.user_id.clone()}>
                            <td>{ l.user_name.clone() }</td>
                            <td class="num">{ m(l.line.cash_payments) }</td>
                            <td class="num">{ m(l.line.gift_cards_cash) }</td>
                            <td class="num">{ m(l.cash_taken) }</td>
                            <td class="num drawer-cash-back">{ out(l.line.cash_refunds) }</td>
                            <th class="num drawer-cash-net">{ m(l.cash_total) }</th>
                            <td class="num">{ m(l.line.terminal_payments) }</td>
                            <td class="num">{ m(l.line.gift_cards_terminal) }</td>
                            <td class="num">{ out(l.line.terminal_refunds) }</td>
                            <th class="num">{ m(l.terminal_total) }</th>
                            <td class="num">{ l.line.count }</td>
                        </tr>
                    }
                }) }
            </tbody>
        </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tourdesk_domain::cash_drawer::DrawerLine;
    use tourdesk_domain::ipc::CashDrawerLine;
    use tourdesk_domain::money::Currency;

    #[tokio::test]
    async fn each_person_reads_what_they_took_gave_back_and_the_drawer_and_terminal_totals() {
        let line = DrawerLine {
            user_id: "u-1".into(),
            currency: Currency::EUR,
            cash_payments: 3_000,
            terminal_payments: 1_000,
            gift_cards_cash: 5_000,
            gift_cards_terminal: 0,
            cash_refunds: 1_250,
            terminal_refunds: 0,
            count: 4,
        };
        let drawer = CashDrawer {
            date: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default(),
            lines: vec![CashDrawerLine::new(line, "Olivia (you)".into())],
        };
        let html = yew::LocalServerRenderer::<DrawerTable>::with_props(DrawerTableProps { drawer }).render().await;
        assert!(html.contains("Olivia (you)") && html.contains("€80.00") && html.contains("€10.00"), "{html}");
        assert!(html.contains("−€12.50") && html.contains("€67.50"), "given back and the net: {html}");
        assert!(html.contains("In the drawer") && html.contains("Card terminal"), "{html}");
    }
}

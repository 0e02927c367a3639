//! Reports (`#/reports/<kind>`, owners and admins): date range, tour, source and currency
//! filters, an SVG chart drawn here, the table (keyboard-usable) and its export to CSV, and the
//! payments ledger of the same dates as a file. Computed
//! on the desk from its replica (`run_report`), so they answer offline and at once.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use tourdesk_domain::entities::BookingSource;
use tourdesk_domain::money::Currency;
use tourdesk_domain::protocol::EntityKind;
use tourdesk_domain::reports::{Cell, Grouping, ListExport, ReportFilter, ReportKind, ReportTable};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::components::booking_form::{field_error, value_of};
use crate::components::keyboard::on_row_keys;
use crate::components::list_export::ListExportButtons;
use crate::components::states::{EmptyState, ErrorNote, Loading};
use crate::error::UiError;
use crate::hooks::{Depends, Load, use_invoke};
use crate::router::Route;
use crate::services;
use crate::state::use_app;

const REPORTS: Depends = Depends::on(&[
    EntityKind::Tour,
    EntityKind::Departure,
    EntityKind::Booking,
    EntityKind::CheckIn,
    EntityKind::Guide,
    EntityKind::GuideAssignment,
    EntityKind::PromoCode,
]);

/// The groupings a report offers (none: it has one shape).
pub fn groupings(kind: ReportKind) -> &'static [(Grouping, &'static str)] {
    match kind {
        ReportKind::Revenue => {
            &[(Grouping::Day, "Day"), (Grouping::Week, "Week"), (Grouping::Month, "Month"), (Grouping::Tour, "Tour")]
        }
        ReportKind::Utilisation => {
            &[(Grouping::Tour, "Tour"), (Grouping::Weekday, "Weekday"), (Grouping::StartTime, "Start time")]
        }
        _ => &[],
    }
}

/// The last 30 days to today, grouped as the report groups first.
pub fn default_filter(kind: ReportKind, today: NaiveDate) -> ReportFilter {
    ReportFilter {
        kind,
        from: today - Days::new(29),
        to: today,
        tour_id: None,
        source: None,
        currency: None,
        group: groupings(kind).first().map_or(Grouping::Day, |(g, _)| *g),
    }
}

#[derive(Properties, PartialEq)]
pub struct ReportsPageProps {
    pub kind: ReportKind,
}

#[component]
pub fn ReportsPage(p: &ReportsPageProps) -> Html {
    let app = use_app();
    let role = app.status.as_ref().and_then(|s| s.signed_in_as.as_ref()).map(|u| u.role);
    let today = crate::forms::now().date_naive();
    let filter = use_state(|| default_filter(p.kind, today));
    if filter.kind != p.kind {
        filter.set(ReportFilter { kind: p.kind, group: default_filter(p.kind, today).group, ..(*filter).clone() });
    }
    let table = use_invoke(REPORTS, (*filter).clone(), |f: ReportFilter| async move { services::run_report(&f).await });
    let tours = use_invoke(Depends::on(&[EntityKind::Tour]), (), |_| services::list_tours());
    let zone = use_invoke(Depends::on(&[EntityKind::Tour]), (), |_| services::report_zone());
    let saved = use_state(|| None::<Result<String, UiError>>);
    let currency_error = use_state(|| None::<UiError>);
    if role.is_some_and(|r| !r.can(tourdesk_domain::roles::Permission::ReportsRead)) {
        return html! {
            <section id="reports" class="page single">
                <h2>{ "Reports" }</h2>
                <EmptyState title="Only owners and admins see reports" hint="Reports show the organization's money." />
            </section>
        };
    }
    let update = |f: fn(&mut ReportFilter, String)| {
        let (filter, saved) = (filter.clone(), saved.clone());
        Callback::from(move |e: Event| {
            let mut next = (*filter).clone();
            f(&mut next, value_of(&e));
            saved.set(None);
            filter.set(next);
        })
    };
    let on_currency = {
        let (filter, currency_error) = (filter.clone(), currency_error.clone());
        Callback::from(move |e: Event| {
            let v = value_of(&e).trim().to_uppercase();
            let mut next = (*filter).clone();
            if v.is_empty() {
                next.currency = None;
            } else if let Ok(c) = Currency::parse(&v) {
                next.currency = Some(c);
            } else {
                currency_error
                    .set(Some(UiError::at_field("currency", "a currency is a three-letter code such as EUR")));
                return;
            }
            currency_error.set(None);
            filter.set(next);
        })
    };
    let on_export = {
        let (filter, saved) = (filter.clone(), saved.clone());
        Callback::from(move |_: MouseEvent| {
            let (f, saved) = ((*filter).clone(), saved.clone());
            spawn_local(async move { saved.set(Some(services::save_report_csv(&f).await)) });
        })
    };
    let on_export_xlsx = {
        let (filter, saved) = (filter.clone(), saved.clone());
        Callback::from(move |_: MouseEvent| {
            let (f, saved) = ((*filter).clone(), saved.clone());
            spawn_local(async move {
                saved.set(Some(services::save_report_file(&f, tourdesk_domain::reports::ExportFormat::Xlsx).await))
            });
        })
    };
    let error = match &table {
        Load::Failed(e) => Some(e.clone()),
        _ => None,
    };
    let f = (*filter).clone();
    let tours: Vec<(String, String)> =
        tours.ready().map(|t| t.iter().map(|t| (t.tour.id.clone(), t.tour.name.clone())).collect()).unwrap_or_default();
    let body = match table {
        Load::Loading => html! { <Loading what="the report" /> },
        Load::Failed(e) if e.field.is_some() => html! {},
        Load::Failed(e) => html! { <ErrorNote error={e} /> },
        Load::Ready(t) => html! { <ReportView table={t} /> },
    };
    html! {
        <section id="reports" class="page single">
            <h2>{ "Reports" }</h2>
            <ReportTabs current={Some(p.kind)} />
            <form class="audit-filters report-filters" aria-label="Filter the report" onsubmit={Callback::from(|e: SubmitEvent| e.prevent_default())}>
                <label>{ "From" }
                    <input id="report-from" type="date" value={f.from.to_string()}
                        onchange={update(|f, v| if let Ok(d) = v.parse() { f.from = d })} />
                </label>
                <label>{ "To" }
                    <input id="report-to" type="date" value={f.to.to_string()}
                        onchange={update(|f, v| if let Ok(d) = v.parse() { f.to = d })} />
                    { field_error(&error, "to") }
                </label>
                if !groupings(p.kind).is_empty() {
                    <label>{ "By" }
                        <select id="report-group" onchange={update(|f, v| if let Some(g) = Grouping::parse(&v) { f.group = g })}>
                            { for groupings(p.kind).iter().map(|(g, words)| html! {
                                <option value={g.as_str()} selected={f.group == *g}>{ *words }</option>
                            }) }
                        </select>
                    </label>
                }
                <label>{ "Tour" }
                    <select id="report-tour" onchange={update(|f, v| f.tour_id = Some(v).filter(|v| !v.is_empty()))}>
                        <option value="" selected={f.tour_id.is_none()}>{ "All tours" }</option>
                        { for tours.iter().map(|(id, name)| html! {
                            <option value={id.clone()} selected={f.tour_id.as_deref() == Some(id.as_str())}>{ name }</option>
                        }) }
                    </select>
                </label>
                <label>{ "Source" }
                    <select id="report-source" onchange={update(|f, v| f.source = BookingSource::parse(&v))}>
                        <option value="" selected={f.source.is_none()}>{ "All sources" }</option>
                        { for BookingSource::ALL.iter().map(|s| html! {
                            <option value={s.as_str()} selected={f.source == Some(*s)}>{ s.as_str() }</option>
                        }) }
                    </select>
                </label>
                <label>{ "Currency" }
                    <input id="report-currency" type="text" maxlength="3" size="4" placeholder="All"
                        value={f.currency.map(|c| c.to_string()).unwrap_or_default()} onchange={on_currency} />
                    { field_error(&currency_error, "currency") }
                </label>
                <button type="button" id="report-export" onclick={on_export}>{ "Export CSV" }</button>
                <button type="button" id="report-export-xlsx" onclick={on_export_xlsx}>{ "Export XLSX" }</button>
            </form>
            <div class="payments-export">
                <span class="muted">{ "Payments ledger for these dates:" }</span>
                <ListExportButtons list={ListExport::Payments { from: f.from, to: f.to }} />
            </div>
            { match &*saved {
                Some(Ok(path)) => html! { <p id="report-saved" class="muted" role="status">{ format!("Saved to {path}") }</p> },
                Some(Err(e)) => html! { <ErrorNote error={e.clone()} /> },
                None => html! {},
            } }
            { body }
            if let Some(z) = zone.ready() {
                <p class="muted">{ format!("Days counted in {z}; sales by booking date, utilisation and guides by departure date.") }</p>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct ReportTabsProps {
    /// The report shown, or none on the scheduled e-mails and the funnel.
    pub current: Option<ReportKind>,
    /// The website funnel's tab is shown.
    #[prop_or_default]
    pub funnel: bool,
}

/// One tab per report, then the scheduled e-mails.
#[component]
pub fn ReportTabs(p: &ReportTabsProps) -> Html {
    let scheduled = p.current.is_none() && !p.funnel;
    html! {
        <nav class="report-tabs" aria-label="Reports">
            { for ReportKind::ALL.iter().map(|k| {
                let here = p.current == Some(*k);
                html! {
                    <a id={format!("report-{}", k.slug())} href={Route::Reports(*k).to_hash()}
                       class={classes!("tab", here.then_some("active"))}
                       aria-current={here.then_some("page")}>{ k.title() }</a>
                }
            }) }
            <a id="report-funnel" href={Route::ReportFunnel.to_hash()}
               class={classes!("tab", p.funnel.then_some("active"))}
               aria-current={p.funnel.then_some("page")}>{ "Website funnel" }</a>
            <a id="report-scheduled" href={Route::ReportSchedules.to_hash()}
               class={classes!("tab", scheduled.then_some("active"))}
               aria-current={scheduled.then_some("page")}>{ "Scheduled e-mails" }</a>
        </nav>
    }
}

#[derive(Properties, PartialEq)]
pub struct ReportViewProps {
    pub table: ReportTable,
}

/// The chart's bars: per currency (a figure never mixes two), label → value of the chart column.
fn series(t: &ReportTable) -> BTreeMap<String, Vec<(String, i64, String)>> {
    let currency_col = t.columns.iter().position(|c| c == "Currency");
    let mut out: BTreeMap<String, Vec<(String, i64, String)>> = BTreeMap::new();
    for row in &t.rows {
        let Some(cell) = row.get(t.chart_column) else { continue };
        let Some(v) = cell.value() else { continue };
        let key = currency_col.and_then(|i| row.get(i)).map(Cell::display).unwrap_or_default();
        let label = row
            .iter()
            .take_while(|c| matches!(c, Cell::Text(_)))
            .map(Cell::display)
            .filter(|s| Some(s.as_str()) != Some(key.as_str()))
            .collect::<Vec<_>>()
            .join(" · ");
        out.entry(key).or_default().push((label, v, cell.display()));
    }
    out
}

const BAR: f64 = 22.0;
const LABEL_W: f64 = 220.0;
const CHART_W: f64 = 720.0;

pub(crate) fn chart(title: &str, bars: &[(String, i64, String)]) -> Html {
    let max = bars.iter().map(|(_, v, _)| v.abs()).max().unwrap_or(0).max(1) as f64;
    let h = BAR * bars.len() as f64 + 8.0;
    let span = CHART_W - LABEL_W - 110.0;
    html! {
        <svg class="report-chart" role="img" aria-label={title.to_string()} width={CHART_W.to_string()} height={h.to_string()}
             viewBox={format!("0 0 {CHART_W} {h}")} xmlns="http://www.w3.org/2000/svg">
            <title>{ title }</title>
            { for bars.iter().enumerate().map(|(i, (label, v, shown))| {
                let y = 4.0 + i as f64 * BAR;
                let w = (v.abs() as f64 / max * span).max(1.0);
                html! {
                    <g class={classes!("bar", (*v < 0).then_some("negative"))}>
                        <text x={(LABEL_W - 6.0).to_string()} y={(y + BAR * 0.65).to_string()} text-anchor="end">{ label.chars().take(32).collect::<String>() }</text>
                        <rect x={LABEL_W.to_string()} y={y.to_string()} width={format!("{w:.1}")} height={(BAR - 6.0).to_string()} />
                        <text x={format!("{:.1}", LABEL_W + w + 6.0)} y={(y + BAR * 0.65).to_string()}>{ shown }</text>
                    </g>
                }
            }) }
        </svg>
    }
}

fn numeric(c: &Cell) -> bool {
    !matches!(c, Cell::Text(_))
}

#[component]
pub fn ReportView(p: &ReportViewProps) -> Html {
    let t = &p.table;
    if t.rows.is_empty() {
        return html! {
            <EmptyState title="Nothing to report for these filters" hint="Widen the dates or clear a filter." />
        };
    }
    let measure = t.columns.get(t.chart_column).cloned().unwrap_or_default();
    let charts = series(t);
    html! {
        <div class="report" id="report">
            <div class="report-charts">
                { for charts.iter().map(|(cur, bars)| {
                    let title = if cur.is_empty() { measure.clone() } else { format!("{measure} ({cur})") };
                    html! { <figure><figcaption>{ title.clone() }</figcaption>{ chart(&title, bars) }</figure> }
                }) }
            </div>
            <table id="report-table" class="report-table">
                <thead><tr>
                    { for t.columns.iter().enumerate().map(|(i, c)| html! {
                        <th scope="col" class={classes!(t.rows.first().and_then(|r| r.get(i)).is_some_and(numeric).then_some("num"))}>{ c }</th>
                    }) }
                </tr></thead>
                <tbody onkeydown={Callback::from(on_row_keys)}>
                    { for t.rows.iter().map(|r| html! {
                        <tr class="report-row" data-row="" tabindex="0">
                            { for r.iter().map(|c| html! { <td class={classes!(numeric(c).then_some("num"))}>{ c.display() }</td> }) }
                        </tr>
                    }) }
                </tbody>
                <tfoot>
                    { for t.totals.iter().map(|r| html! {
                        <tr class="total">
                            { for r.iter().map(|c| html! { <th class={classes!(numeric(c).then_some("num"))}>{ c.display() }</th> }) }
                        </tr>
                    }) }
                </tfoot>
            </table>
            { for t.notes.iter().map(|n| html! { <p class="muted">{ n }</p> }) }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use tourdesk_domain::money::Money;

    use super::*;
    use crate::pages::test_support::render_page;

    #[tokio::test]
    async fn a_report_starts_loading_with_its_filters_and_tabs() {
        let html = render_page(Route::Reports(ReportKind::Revenue)).await;
        assert!(html.contains("Loading the report") && html.contains("id=\"reports\""), "{html}");
        for id in [
            "report-from",
            "report-to",
            "report-group",
            "report-tour",
            "report-source",
            "report-currency",
            "report-export",
            "report-export-xlsx",
            "payments-export-csv",
            "payments-export-xlsx",
        ] {
            assert!(html.contains(&format!("id=\"{id}\"")), "{id}: {html}");
        }
        for k in ReportKind::ALL {
            assert!(html.contains(&format!("href=\"#/reports/{}\"", k.slug())), "{k:?}: {html}");
        }
        let html = render_page(Route::Reports(ReportKind::Cancellations)).await;
        assert!(!html.contains("id=\"report-group\""), "cancellations have one shape: {html}");
    }

    fn table() -> ReportTable {
        let eur = |a| Cell::Money(Money::new(a, Currency::EUR));
        let usd = |a| Cell::Money(Money::new(a, Currency::USD));
        ReportTable {
            title: "Revenue".into(),
            columns: ["Period", "Currency", "Net"].map(String::from).to_vec(),
            rows: vec![
                vec![Cell::Text("2026-03-28".into()), Cell::Text("EUR".into()), eur(9_000)],
                vec![Cell::Text("2026-03-29".into()), Cell::Text("USD".into()), usd(7_000)],
                vec![Cell::Text("2026-03-30".into()), Cell::Text("EUR".into()), eur(-2_500)],
            ],
            totals: vec![
                vec![Cell::Text("Total".into()), Cell::Text("EUR".into()), eur(6_500)],
                vec![Cell::Text("Total".into()), Cell::Text("USD".into()), usd(7_000)],
            ],
            chart_column: 2,
            notes: vec!["A note".into()],
        }
    }

    #[tokio::test]
    async fn the_table_has_a_chart_per_currency_keyboard_rows_and_totals() {
        let html =
            yew::LocalServerRenderer::<ReportView>::with_props(ReportViewProps { table: table() }).render().await;
        assert_eq!(html.matches("<svg").count(), 2, "one chart per currency: {html}");
        assert!(html.contains("Net (EUR)") && html.contains("Net (USD)"), "{html}");
        assert_eq!(html.matches("class=\"report-row\"").count(), 3, "{html}");
        assert!(html.contains("EUR -25.00") && html.contains("class=\"bar negative\""), "{html}");
        assert!(html.contains("tabindex=\"0\"") && html.contains("A note"), "{html}");
        assert_eq!(html.matches("class=\"total\"").count(), 2, "{html}");
    }

    #[tokio::test]
    async fn an_empty_report_says_what_to_do() {
        let t = ReportTable { rows: vec![], totals: vec![], ..table() };
        let html = yew::LocalServerRenderer::<ReportView>::with_props(ReportViewProps { table: t }).render().await;
        assert!(html.contains("Nothing to report for these filters"), "{html}");
    }

    #[test]
    fn each_report_defaults_to_the_last_30_days_and_its_first_grouping() {
        let f = default_filter(ReportKind::Utilisation, "2026-03-31".parse().unwrap());
        assert_eq!((f.from.to_string(), f.group), ("2026-03-02".to_string(), Grouping::Tour));
        assert!(f.validate().is_ok());
    }
}
